package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Profile is one named set of connection settings that `webhookctl login`
// stores, so that later commands need no flags.
type Profile struct {
	Server    string `json:"server,omitempty"`
	APIKey    string `json:"api_key,omitempty"`
	CAFile    string `json:"ca_file,omitempty"`
	Plaintext bool   `json:"plaintext,omitempty"`
}

// configFile is the content of $XDG_CONFIG_HOME/webhookd/config.json.
type configFile struct {
	Profiles map[string]Profile `json:"profiles"`
}

// defaultProfile is the profile used when neither --profile nor
// WEBHOOKD_PROFILE names one.
const defaultProfile = "default"

// configPath is where profiles are kept: $XDG_CONFIG_HOME/webhookd/config.json,
// or ~/.config/webhookd/config.json when XDG_CONFIG_HOME is unset, as the
// XDG base directory specification says.
func configPath(getenv func(string) string) (string, error) {
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return "", errors.New("cannot locate the configuration: neither XDG_CONFIG_HOME nor HOME is set")
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "webhookd", "config.json"), nil
}

// loadConfig reads the configuration file; a missing file is an empty one.
func loadConfig(path string) (configFile, error) {
	c := configFile{Profiles: map[string]Profile{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	if c.Profiles == nil {
		c.Profiles = map[string]Profile{}
	}
	return c, nil
}

// saveConfig writes c to path with mode 0600 (it holds API keys), in a
// directory of mode 0700, replacing the old file atomically so that an
// interrupted login never leaves half a file.
func saveConfig(path string, c configFile) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600 already; Chmod states it, whatever
	// the umask.
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// profileNames lists the profiles of c, sorted.
func (c configFile) profileNames() []string {
	names := make([]string, 0, len(c.Profiles))
	for name := range c.Profiles {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
