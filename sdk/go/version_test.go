package webhookd_test

import (
	"os"
	"strings"
	"testing"

	webhookd "github.com/webhookd/webhookd/sdk/go"
)

// TestVersionIsTheRepositorysVersion keeps the SDK's Version equal to the
// VERSION file that webhookd's server reports too: one version number for
// webhookd and its SDKs.
func TestVersionIsTheRepositorysVersion(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../VERSION")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skipf("not in webhookd's repository: %v", err)
	}
	if want := strings.TrimSpace(string(b)); webhookd.Version != want {
		t.Errorf("webhookd.Version = %q, VERSION holds %q: change both together", webhookd.Version, want)
	}
}

// TestGenRequirementIsVersion checks that the SDK requires the gen module of
// its own release, so that outside this repository (where the replace
// directive does not apply) it gets the types it was built with.
func TestGenRequirementIsVersion(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if want := "github.com/webhookd/webhookd/gen v" + webhookd.Version + "\n"; !strings.Contains(string(b), want) {
		t.Errorf("go.mod does not require %q", strings.TrimSpace(want))
	}
}
