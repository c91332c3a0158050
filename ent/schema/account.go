package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Account is a tenant; everything else hangs off one.
type Account struct {
	ent.Schema
}

func (Account) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").Immutable().NotEmpty(),
		field.String("display_name").Default(""),
		field.Time("create_time").Immutable(),
		field.Time("update_time"),
	}
}

func (Account) Edges() []ent.Edge {
	// Accounts are never deleted by the API today; cascading keeps a manual
	// cleanup from leaving orphans that no account scope can reach.
	cascade := entsql.OnDelete(entsql.Cascade)
	return []ent.Edge{
		edge.To("api_keys", APIKey.Type).Annotations(cascade),
		edge.To("endpoints", Endpoint.Type).Annotations(cascade),
		edge.To("events", Event.Type).Annotations(cascade),
		edge.To("deliveries", Delivery.Type).Annotations(cascade),
		edge.To("portal_sessions", PortalSession.Type).Annotations(cascade),
	}
}
