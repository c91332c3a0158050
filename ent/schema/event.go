package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Event is a published occurrence.
type Event struct {
	ent.Schema
}

func (Event) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").Immutable().NotEmpty(),
		field.String("account_id").Immutable().NotEmpty(),
		field.String("type").Immutable().NotEmpty(),
		// Bytes, not a JSON column: receivers verify signatures over this
		// exact encoding, and jsonb would reorder keys and reformat numbers.
		field.Bytes("data").Immutable(),
		// NULL when the publisher gave no key: NULLs never collide in a
		// unique index (SQLite and PostgreSQL alike), keys of one account do.
		field.String("idempotency_key").Optional().Nillable().Immutable(),
		field.Bool("test").Default(false).Immutable(),
		field.Time("create_time").Immutable(),
	}
}

func (Event) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("account", Account.Type).Ref("events").Field("account_id").Unique().Required().Immutable(),
		edge.To("deliveries", Delivery.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

func (Event) Indexes() []ent.Index {
	return []ent.Index{
		// The loser of two concurrent publishes with one key fails here.
		index.Fields("account_id", "idempotency_key").Unique(),
		index.Fields("account_id", "id"),
		index.Fields("account_id", "type", "id"),
		// The retention job finds the oldest events through it.
		index.Fields("create_time"),
	}
}
