package main_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCommandsWithoutServer covers the commands that need no webhookd:
// help, version and completion.
func TestCommandsWithoutServer(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1: a command that dialled would fail.
	c := newCLI(t, false, map[string]string{"WEBHOOKD_SERVER": "127.0.0.1:1"})

	if out := c.ok("help", "endpoints", "create"); !strings.Contains(out, "Examples:") || !strings.Contains(out, "--event-type") {
		t.Errorf("help endpoints create:\n%s", out)
	}
	if out := c.ok("trigger", "--help"); !strings.Contains(out, "--set") || !strings.Contains(out, "Examples:") {
		t.Errorf("trigger --help:\n%s", out)
	}
	c.fails(2, []string{"unknown help topic"}, "help", "frobnicate")

	var v map[string]string
	if err := json.Unmarshal([]byte(c.ok("version", "--format", "json")), &v); err != nil || v["version"] == "" || !strings.HasPrefix(v["go"], "go") {
		t.Errorf("version --format json = %v, %v", v, err)
	}
	if out := c.ok("version"); !strings.HasPrefix(out, "webhookctl ") {
		t.Errorf("version = %q", out)
	}

	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		if out := c.ok("completion", shell); !strings.Contains(out, "webhookctl") {
			t.Errorf("completion %s printed no script:\n%.200s", shell, out)
		}
	}
	c.fails(2, []string{"unknown shell"}, "completion", "tcsh")
}
