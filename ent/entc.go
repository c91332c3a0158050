//go:build ignore

// entc generates package ent from ./schema with the features webhookd needs:
// sql/upsert for the event-type catalog, which is written at every start-up
// and must update existing names in place; sql/execquery for the statements
// Ent's builders cannot express (UPDATE … RETURNING, which recovering an
// endpoint uses to return exactly the deliveries it changed).
package main

import (
	"log/slog"
	"os"

	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	err := entc.Generate("./schema", &gen.Config{
		Features: []gen.Feature{gen.FeatureUpsert, gen.FeatureExecQuery},
	})
	if err != nil {
		slog.Error("running ent codegen", "err", err)
		os.Exit(1)
	}
}
