package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Delivery is the sending of one event to one endpoint.
type Delivery struct {
	ent.Schema
}

func (Delivery) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").Immutable().NotEmpty(),
		field.String("account_id").Immutable().NotEmpty(),
		field.String("event_id").Immutable().NotEmpty(),
		field.String("endpoint_id").Immutable().NotEmpty(),
		// Copied from the event so that listings filter by type without a join.
		field.String("event_type").Immutable().NotEmpty(),
		field.Enum("status").Values("pending", "succeeded", "failed").Default("pending"),
		field.Int("attempt_count").Default(0),
		// NULL once the delivery is final; the reconciler scans
		// (status, next_attempt_time) for pending deliveries that are due.
		field.Time("next_attempt_time").Optional().Nillable(),
		// What the next attempt will be recorded as. Rows written before the
		// column existed were all new deliveries, hence the default.
		field.Enum("next_trigger").Values("initial", "retry", "manual", "test").Default("initial"),
		field.Text("last_error").Default(""),
		field.Int("last_response_status").Default(0),
		field.Time("create_time").Immutable(),
		field.Time("update_time"),
	}
}

func (Delivery) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("account", Account.Type).Ref("deliveries").Field("account_id").Unique().Required().Immutable(),
		edge.From("event", Event.Type).Ref("deliveries").Field("event_id").Unique().Required().Immutable(),
		edge.From("endpoint", Endpoint.Type).Ref("deliveries").Field("endpoint_id").Unique().Required().Immutable(),
		edge.To("attempts", Attempt.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

func (Delivery) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("endpoint_id", "id"),
		index.Fields("event_id", "id"),
		index.Fields("account_id", "id"),
		index.Fields("status", "next_attempt_time"),
		// An endpoint's health (store.EndpointStats): its deliveries that
		// succeeded or failed since a time are a range of this index, and
		// its latest failed one is the range's last entry.
		index.Fields("endpoint_id", "status", "update_time"),
	}
}
