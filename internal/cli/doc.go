// Package cli is webhookctl, the command line of webhookd: one file per noun
// (endpoints.go, events.go, …), each adding its cobra commands to the tree
// that root.go assembles. Commands reach webhookd through a Factory, which
// resolves the connection settings (flags, WEBHOOKD_* variables, the login
// profile) and dials gRPC only when a command asks for a client, so that
// usage errors never wait for the network and tests can run the real
// binary against a real webhookd.
//
// Exit status: 0 on success, 1 when the API or the network fails (the
// message names the gRPC status and its field violations), 2 on bad usage.
package cli

//go:generate go run ./docgen ../../docs/cli
