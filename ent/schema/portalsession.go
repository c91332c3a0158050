package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// PortalSession is a short-lived dashboard sign-in for one account, stored
// like an API key as the SHA-256 of its token only.
type PortalSession struct {
	ent.Schema
}

func (PortalSession) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").Immutable().NotEmpty(),
		field.String("account_id").Immutable().NotEmpty(),
		field.Bytes("token_hash").Immutable().NotEmpty(),
		field.Time("create_time").Immutable(),
		field.Time("expire_time").Immutable(),
		// NULL while the session is active.
		field.Time("revoke_time").Optional().Nillable(),
	}
}

func (PortalSession) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("account", Account.Type).Ref("portal_sessions").Field("account_id").Unique().Required().Immutable(),
	}
}

func (PortalSession) Indexes() []ent.Index {
	return []ent.Index{
		// Every request made with a session looks it up by hash.
		index.Fields("token_hash").Unique(),
	}
}
