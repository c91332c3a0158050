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
