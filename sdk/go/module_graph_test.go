package webhookd_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The modules this SDK and the gen module may require themselves: gRPC,
// protobuf, Google's API protos that both build on, and the golang.org/x
// modules gRPC needs (listed as indirect requirements). Whatever else is in
// the module graph is there because gRPC requires it.
var allowedRequirements = []string{
	"github.com/webhookd/webhookd/gen",
	"google.golang.org/grpc",
	"google.golang.org/protobuf",
	"google.golang.org/genproto/googleapis/api",
	"google.golang.org/genproto/googleapis/rpc",
	"golang.org/x/net",
	"golang.org/x/sys",
	"golang.org/x/text",
}

// What a program importing the SDK must never pull in: webhookd's server
// dependencies.
var forbiddenModules = []string{
	"entgo.io/",
	"ariga.io/",
	"modernc.org/",
	"github.com/jackc/",
	"github.com/lib/pq",
	"github.com/mattn/go-sqlite3",
	"github.com/grpc-ecosystem/grpc-gateway",
	"github.com/redis/",
	"github.com/alicebob/miniredis",
	"github.com/prometheus/",
	"github.com/spf13/",
}

// TestModuleGraph checks, with go mod graph, that a go get of the SDK
// pulls only gRPC and protobuf: neither the SDK nor the gen module requires
// anything else, nothing of webhookd's server is anywhere in the graph, and
// the SDK's packages are built from those modules only.
func TestModuleGraph(t *testing.T) {
	t.Parallel()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command(goCmd, "mod", "graph").Output()
	if err != nil {
		t.Fatalf("go mod graph: %v", err)
	}
	const sdk = "github.com/webhookd/webhookd/sdk/go"
	for line := range strings.Lines(string(out)) {
		from, to, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		fromPath, _, _ := strings.Cut(from, "@")
		toPath, _, _ := strings.Cut(to, "@")
		if (fromPath == sdk || fromPath == "github.com/webhookd/webhookd/gen") &&
			toPath != "go" && toPath != "toolchain" && !slices.Contains(allowedRequirements, toPath) {
			t.Errorf("%s requires %s: the SDK may depend on gRPC and protobuf only", fromPath, to)
		}
		for _, mod := range []string{fromPath, toPath} {
			if mod == "github.com/webhookd/webhookd" {
				t.Errorf("the module graph holds webhookd's server module (%s)", line)
			}
			for _, bad := range forbiddenModules {
				if strings.HasPrefix(mod, bad) {
					t.Errorf("the module graph holds %s (%s)", mod, strings.TrimSpace(line))
				}
			}
		}
	}

	// The packages a program importing the SDK builds.
	out, err = exec.Command(goCmd, "list", "-deps", "-f", "{{with .Module}}{{.Path}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for mod := range strings.Lines(string(out)) {
		mod = strings.TrimSpace(mod)
		if mod != "" && mod != sdk && !slices.Contains(allowedRequirements, mod) {
			t.Errorf("the SDK's packages import module %s", mod)
		}
	}
}
