package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

func newLoginCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "login [--server HOST:PORT] [--api-key KEY] [--profile NAME]",
		Short: "Check a server and API key, and store them in a profile",
		Long: `login checks that the server answers and accepts the API key, then stores
both (and --ca-file, --plaintext) as a profile in
$XDG_CONFIG_HOME/webhookd/config.json, a file only you can read (mode 0600).
Later commands use the profile named by --profile or WEBHOOKD_PROFILE, or
"default".

Without --api-key or WEBHOOKD_API_KEY, the key is read from standard input,
so that it stays out of the shell history.`,
		Example: `  webhookctl login --server webhooks.example.com:443 < key.txt
  webhookctl login --profile local --server 127.0.0.1:9090 --api-key "$ADMIN_TOKEN"`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := f.resolve(true)
			if err != nil {
				return err
			}
			if !f.changed("api-key") && f.Getenv("WEBHOOKD_API_KEY") == "" {
				terminal := isTerminal(f.In)
				if terminal {
					fmt.Fprint(f.Err, "API key: ")
				}
				line, _ := bufio.NewReader(f.In).ReadString('\n')
				if terminal {
					fmt.Fprintln(f.Err)
				}
				s.APIKey = strings.TrimSpace(line)
			}
			if s.APIKey == "" {
				return usagef("no API key: give --api-key, set WEBHOOKD_API_KEY, or type it on standard input")
			}
			conn, err := dial(s, f.root.Version)
			if err != nil {
				return err
			}
			defer conn.Close()
			// Any authenticated call proves the key; the catalog is open to
			// every key, customer or internal.
			if _, err := webhooksv1.NewWebhookServiceClient(conn).ListEventTypes(cmd.Context(), &webhooksv1.ListEventTypesRequest{}); err != nil {
				return err
			}
			path, err := configPath(f.Getenv)
			if err != nil {
				return err
			}
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			cfg.Profiles[s.Profile] = Profile{Server: s.Server, APIKey: s.APIKey, CAFile: s.CAFile, Plaintext: s.Plaintext}
			if err := saveConfig(path, cfg); err != nil {
				return err
			}
			if f.flags.format == formatJSON {
				b, err := json.MarshalIndent(map[string]string{"profile": s.Profile, "server": s.Server, "configFile": path}, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintf(f.Out, "%s\n", b)
				return nil
			}
			fmt.Fprintf(f.Out, "Logged in to %s; saved as profile %q in %s\n", s.Server, s.Profile, path)
			return nil
		},
	}
}
