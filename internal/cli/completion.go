package cli

import (
	"github.com/spf13/cobra"
)

// newCompletionCommand replaces cobra's default completion command so that
// it carries an example and shows in the generated reference.
func newCompletionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `completion prints a script that makes your shell complete webhookctl's
commands and flags. Load it in the current shell, or install it where your
shell looks for completions.`,
		Example: `  source <(webhookctl completion bash)
  webhookctl completion zsh > "${fpath[1]}/_webhookctl"
  webhookctl completion fish > ~/.config/fish/completions/webhookctl.fish`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args:      exactArgs("SHELL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, out := cmd.Root(), cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(out)
			}
			return usagef("unknown shell %q: want bash, zsh, fish or powershell", args[0])
		},
	}
}
