package python_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestVersionIsVERSION keeps the Python package's version equal to the
// VERSION file, which webhookd and the other SDKs report too.
func TestVersionIsVERSION(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile("../../VERSION")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("webhookd/_version.py")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^__version__ = "([^"]*)"$`).FindSubmatch(src)
	if m == nil {
		t.Fatal("webhookd/_version.py sets no __version__")
	}
	if got := string(m[1]); got != strings.TrimSpace(string(want)) {
		t.Errorf("webhookd.__version__ = %q, VERSION holds %q: change both together", got, strings.TrimSpace(string(want)))
	}
}
