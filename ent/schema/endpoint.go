package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Endpoint is a customer's receiving URL.
type Endpoint struct {
	ent.Schema
}

func (Endpoint) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").Immutable().NotEmpty(),
		field.String("account_id").Immutable().NotEmpty(),
		field.Text("url"),
		field.Text("description").Default(""),
		// JSON so that fan-out can test membership in SQL (json_each on
		// SQLite, jsonb containment on PostgreSQL) without a join table.
		field.JSON("event_types", []string{}),
		field.JSON("headers", map[string]string{}).Optional(),
		field.Bool("disabled").Default(false),
		field.String("disabled_reason").Default(""),
		// When the endpoint was last disabled, by a user, a 410 Gone or
		// auto-disable; NULL while it is enabled.
		field.Time("disable_time").Optional().Nillable(),
		// When the current run of failed attempts began: the first failed
		// attempt since the last success (or since creation); NULL while
		// the last attempt succeeded. Auto-disable compares it with the
		// time of each failed attempt.
		field.Time("failing_since").Optional().Nillable(),
		field.String("secret").Sensitive(),
		field.String("previous_secret").Default("").Sensitive(),
		field.Time("previous_secret_expire_time").Optional().Nillable(),
		field.Time("create_time").Immutable(),
		field.Time("update_time"),
		// The account's development endpoint (webhookctl listen): its
		// deliveries go to connected listeners, never to url.
		field.Bool("development").Default(false).Immutable(),
		// Counts the writes that changed the endpoint's settings or state
		// (every write that moves update_time). Writes that derive a value
		// from what they read are guarded by it, and the API's etag is made
		// from it, so a change made meanwhile is never overwritten.
		field.Int64("revision").Default(1),
	}
}

func (Endpoint) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("account", Account.Type).Ref("endpoints").Field("account_id").Unique().Required().Immutable(),
		// Deleting an endpoint deletes its delivery history with it.
		edge.To("deliveries", Delivery.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

func (Endpoint) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("account_id", "id"),
		// At most one development endpoint per account, so that two
		// listeners starting at once cannot each create one.
		index.Fields("account_id").Unique().Annotations(entsql.IndexWhere("development")),
	}
}
