package version

import (
	"os"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuild(t *testing.T) {
	t.Parallel()
	vcs := func(revision, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: revision}, {Key: "vcs.modified", Value: modified}}
	}
	const rev = "cedfdcd1a2b3c4d5e6f708192a3b4c5d6e7f8091"
	tests := []struct {
		name  string
		stamp string
		info  *debug.BuildInfo
		ok    bool
		want  string
	}{
		{"stamp wins", "v1.4.0-3-gcedfdcd", &debug.BuildInfo{Main: debug.Module{Version: "v1.3.0"}}, true, "1.4.0-3-gcedfdcd"},
		{"stamp of an untagged checkout", "cedfdcd-dirty\n", nil, false, "cedfdcd-dirty"},
		{"module version of a tagged build", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.3.0"}}, true, "1.3.0"},
		{"pseudo-version", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201085722-cedfdcd1a2b3+dirty"}}, true, "0.0.0-20261201085722-cedfdcd1a2b3+dirty"},
		{"devel build with a commit", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "false")}, true, Release + "-dev+cedfdcd1a2b3"},
		{"devel build with changes", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "true")}, true, Release + "-dev+cedfdcd1a2b3-dirty"},
		{"devel build without vcs (go run, go test)", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true, Release + "-dev"},
		{"no build info", "", nil, false, Release + "-dev"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := fromBuild(tc.stamp, tc.info, tc.ok); got != tc.want {
				t.Errorf("fromBuild = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestReleaseIsVERSION keeps Release equal to the VERSION file, the one
// version number of webhookd and its SDKs.
func TestReleaseIsVERSION(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../VERSION")
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSpace(string(b)); Release != want {
		t.Errorf("Release = %q, VERSION holds %q: change both together (and sdk/go's Version)", Release, want)
	}
	// The gen module webhookd is built with is of the same release.
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if req := "github.com/webhookd/webhookd/gen v" + Release + "\n"; !strings.Contains(string(mod), req) {
		t.Errorf("go.mod does not require %q", strings.TrimSpace(req))
	}
}
