package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Attempt is one HTTP request made for a delivery.
type Attempt struct {
	ent.Schema
}

func (Attempt) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").Immutable().NotEmpty(),
		field.String("delivery_id").Immutable().NotEmpty(),
		field.Int("number").Immutable().Positive(),
		field.Enum("trigger").Values("initial", "retry", "manual", "test").Immutable(),
		field.Time("start_time").Immutable(),
		// Nanoseconds, the unit of time.Duration, so values round-trip exactly.
		field.Int64("duration_ns").Immutable().Default(0),
		field.Int("response_status").Immutable().Default(0),
		field.Text("response_body").Immutable().Default(""),
		field.Text("error").Immutable().Default(""),
	}
}

func (Attempt) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("delivery", Delivery.Type).Ref("attempts").Field("delivery_id").Unique().Required().Immutable(),
	}
}

func (Attempt) Indexes() []ent.Index {
	return []ent.Index{
		// One attempt per number: two workers racing on one delivery cannot
		// both record attempt n.
		index.Fields("delivery_id", "number").Unique(),
	}
}
