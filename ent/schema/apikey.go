package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// APIKey is a credential, stored as the SHA-256 of its token only.
type APIKey struct {
	ent.Schema
}

func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").Immutable().NotEmpty(),
		// NULL for internal keys, which act for any account.
		field.String("account_id").Optional().Nillable().Immutable(),
		field.Bool("internal").Default(false).Immutable(),
		field.String("display_name").Default(""),
		field.Bytes("token_hash").Immutable().NotEmpty(),
		field.Time("create_time").Immutable(),
		// NULL while the key is active.
		field.Time("revoke_time").Optional().Nillable(),
	}
}

func (APIKey) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("account", Account.Type).Ref("api_keys").Field("account_id").Unique().Immutable(),
	}
}

func (APIKey) Indexes() []ent.Index {
	return []ent.Index{
		// Every authenticated request looks its key up by hash.
		index.Fields("token_hash").Unique(),
		index.Fields("account_id", "id"),
	}
}
