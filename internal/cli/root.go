package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// noTimeoutAnnotation marks a command that runs until interrupted (such as
// listen), to which --timeout does not apply.
const noTimeoutAnnotation = "webhookctl/no-timeout"

// NewFactory is a Factory on the process's standard streams and environment.
func NewFactory() *Factory {
	return &Factory{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Getenv: os.Getenv, Now: time.Now}
}

// Main runs webhookctl with args (without the program name) and returns its
// exit status.
func Main(ctx context.Context, f *Factory, args []string) int {
	root := NewRootCommand(f)
	root.SetArgs(args)
	defer f.close()
	cmd, err := root.ExecuteContextC(ctx)
	code := exitCode(err)
	if err == nil || code == ExitOK {
		return code
	}
	if _, silent := err.(*silentError); silent {
		return code
	}
	server := DefaultServer
	if s, serr := f.settings(); serr == nil {
		server = s.Server
	}
	fmt.Fprintf(f.Err, "webhookctl: %s\n", describeError(err, server))
	if code == ExitUsage && cmd != nil {
		fmt.Fprintf(f.Err, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// NewRootCommand builds the whole command tree on f.
func NewRootCommand(f *Factory) *cobra.Command {
	if f.Now == nil {
		f.Now = time.Now
	}
	version, _, _ := buildVersion()
	root := &cobra.Command{
		Use:   "webhookctl",
		Short: "Manage webhookd from the terminal: endpoints, events, deliveries, test events",
		Long: `webhookctl is the command line of webhookd. It talks gRPC to a webhookd server
and does everything the REST API does, with tables for people and
--format json for scripts.

Connection settings come from flags, then WEBHOOKD_* environment variables,
then the profile that 'webhookctl login' stored in
$XDG_CONFIG_HOME/webhookd/config.json (~/.config/webhookd/config.json when
XDG_CONFIG_HOME is unset). The connection uses TLS unless the server is on
loopback or --plaintext is given.

Exit status: 0 on success, 1 when the API or the network fails (or a
check such as verify does not pass), 2 on bad usage.`,
		Example: `  # Store the server and a key once, then use them
  webhookctl login --server webhooks.example.com:443 --api-key whk_…
  webhookctl endpoints list

  # Send a test event and see how the endpoint answered
  webhookctl trigger property.created --endpoint ep_01jd…`,
		Version:       version,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          groupArgs,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			switch f.flags.format {
			case formatTable, formatJSON:
			default:
				return usagef("--format %q: want table or json", f.flags.format)
			}
			if f.flags.timeout > 0 && cmd.Annotations[noTimeoutAnnotation] == "" {
				ctx, cancel := context.WithTimeout(cmd.Context(), f.flags.timeout)
				f.cancel = cancel
				cmd.SetContext(ctx)
			}
			return nil
		},
	}
	f.root = root
	// The doc generator must give the same output on every machine, so no
	// default here depends on the environment.
	root.DisableAutoGenTag = true
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetIn(f.In)
	root.SetOut(f.Out)
	root.SetErr(f.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.SetVersionTemplate("webhookctl {{.Version}}\n")

	pf := root.PersistentFlags()
	pf.StringVar(&f.flags.server, "server", DefaultServer, "webhookd's gRPC address, host:port (env WEBHOOKD_SERVER)")
	pf.StringVar(&f.flags.apiKey, "api-key", "", "API key, whk_… (env WEBHOOKD_API_KEY)")
	pf.StringVar(&f.flags.profile, "profile", defaultProfile, "profile of the configuration file to use (env WEBHOOKD_PROFILE)")
	pf.StringVar(&f.flags.caFile, "ca-file", "", "PEM certificates to trust for the server's TLS certificate instead of the system's (env WEBHOOKD_CA_FILE)")
	pf.BoolVar(&f.flags.plaintext, "plaintext", false, "connect without TLS even though the server is not on loopback")
	pf.StringVar(&f.flags.format, "format", formatTable, "output format: table or json")
	pf.DurationVar(&f.flags.timeout, "timeout", 30*time.Second, "give up on a command after this long (0: never)")
	_ = root.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{formatTable, formatJSON}, cobra.ShellCompDirectiveNoFileComp))

	root.SetHelpCommand(newHelpCommand())
	addCommands(root, f)
	return root
}

// addCommands adds the top-level commands, one file per noun. A new noun
// (listen, say) adds its constructor here; a command that runs until
// interrupted sets Annotations[noTimeoutAnnotation] so that --timeout
// leaves it alone.
func addCommands(root *cobra.Command, f *Factory) {
	root.AddCommand(
		newLoginCommand(f),
		newEventTypesCommand(f),
		newEndpointsCommand(f),
		newEventsCommand(f),
		newDeliveriesCommand(f),
		newAccountsCommand(f),
		newAPIKeysCommand(f),
		newTriggerCommand(f),
		newListenCommand(f),
		newVerifyCommand(f),
		newVersionCommand(f),
		newCompletionCommand(),
	)
}

// newGroup is a command that only holds subcommands: without arguments it
// shows its help, with an unknown one it is a usage error.
func newGroup(use, short, example string, aliases ...string) *cobra.Command {
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Aliases: aliases,
		Example: example,
		Args:    groupArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
}

func groupArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default, set only on its own path
	}
	if suggestions := cmd.SuggestionsFor(args[0]); len(suggestions) > 0 {
		return usagef("unknown command %q for %q; did you mean %q?", args[0], cmd.CommandPath(), suggestions[0])
	}
	return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
}

// newHelpCommand replaces cobra's help command, so that it has an example
// too and an unknown topic is a usage error.
func newHelpCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "help [command]",
		Short:   "Help about any command",
		Example: "  webhookctl help endpoints create",
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := cmd.Root().Find(args)
			if err != nil || target == nil || len(rest) > 0 {
				return usagef("unknown help topic %q", strings.Join(args, " "))
			}
			return target.Help()
		},
	}
}
