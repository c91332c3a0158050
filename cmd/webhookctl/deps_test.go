package main_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLinksNoServerParts keeps webhookctl a client: it signs and checks
// requests with package signature, never through the delivery engine, so
// it links no database driver, Ent or Redis (the binary was twice its size
// when verify took worker.Sign).
func TestLinksNoServerParts(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, server := range []string{
			"entgo.io/", "modernc.org/sqlite", "github.com/jackc/pgx", "github.com/redis/go-redis",
			"github.com/alicebob/miniredis", "github.com/webhookd/webhookd/worker", "github.com/webhookd/webhookd/store",
		} {
			if strings.HasPrefix(pkg, server) {
				t.Errorf("webhookctl links %s", pkg)
			}
		}
	}
}
