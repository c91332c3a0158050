// Package version says which webhookd this is, for `webhookd --version` and
// the User-Agent of every delivery. Receivers and operators need the real
// release (or commit) to match a behaviour to a build, so it comes from the
// build itself rather than a constant someone must remember to bump.
package version

import (
	"runtime/debug"
	"strings"
)

// Release is the release number of webhookd and its SDKs, the content of
// the repository's VERSION file (TestReleaseIsVERSION keeps them equal, and
// sdk/go's Version is checked against the same file). Builds that are not
// of a release tag report it as a pre-release, Release-dev+<commit>.
const Release = "0.1.0"

// stamped is set at link time by `make build`:
//
//	go build -ldflags "-X github.com/webhookd/webhookd/internal/version.stamped=$(git describe --tags --always --dirty)"
//
// It is a variable only because -X can set nothing else; nothing assigns it
// at run time.
var stamped string

// String is this build's version: the -ldflags stamp when set, else the
// module version Go recorded (a tag or pseudo-version when built with go
// build in a git checkout, or as a dependency), else Release as a
// pre-release of the commit ("0.1.0-dev+cedfdcd1a2b3"), else "0.1.0-dev".
// A leading "v" is dropped: "1.4.0", "0.0.0-20261201085722-cedfdcd1a2b3".
func String() string {
	info, ok := debug.ReadBuildInfo()
	return fromBuild(stamped, info, ok)
}

// fromBuild is String's choice, apart from the process's own build so that
// each case can be tested.
func fromBuild(stamp string, info *debug.BuildInfo, ok bool) string {
	if stamp = strings.TrimSpace(stamp); stamp != "" {
		return strings.TrimPrefix(stamp, "v")
	}
	if !ok || info == nil {
		return Release + "-dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return strings.TrimPrefix(v, "v")
	}
	var revision string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if revision == "" {
		return Release + "-dev"
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	if dirty {
		revision += "-dirty"
	}
	return Release + "-dev+" + revision
}
