package cli

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// buildVersion reads the module version and VCS revision Go stamped into
// the binary: a release build shows its tag, a build from a checkout
// "devel" and the commit.
func buildVersion() (version, commit, goVersion string) {
	version, commit, goVersion = "devel", "", runtime.Version()
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		version = v
	}
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
			if len(commit) > 12 {
				commit = commit[:12]
			}
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && commit != "" {
		commit += "-dirty"
	}
	return
}

func newVersionCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print webhookctl's version",
		Example: "  webhookctl version\n  webhookctl version --format json",
		Args:    noArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			version, commit, goVersion := buildVersion()
			platform := runtime.GOOS + "/" + runtime.GOARCH
			if f.flags.format == formatJSON {
				b, err := json.MarshalIndent(map[string]string{"version": version, "commit": commit, "go": goVersion, "platform": platform}, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintf(f.Out, "%s\n", b)
				return nil
			}
			if commit != "" {
				fmt.Fprintf(f.Out, "webhookctl %s (commit %s, %s, %s)\n", version, commit, goVersion, platform)
			} else {
				fmt.Fprintf(f.Out, "webhookctl %s (%s, %s)\n", version, goVersion, platform)
			}
			return nil
		},
	}
}
