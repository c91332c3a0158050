package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
)

// EventType is an entry of the catalog, keyed by its name.
type EventType struct {
	ent.Schema
}

func (EventType) Fields() []ent.Field {
	return []ent.Field{
		// The name ("appointment.scheduled") is the identity: events refer to
		// it by name and the catalog is upserted by name at start-up.
		field.String("id").Immutable().NotEmpty().StorageKey("name"),
		field.Text("description").Default(""),
		// Example envelope, kept byte for byte as written.
		field.Bytes("example").Optional(),
		field.Time("create_time").Immutable(),
	}
}
