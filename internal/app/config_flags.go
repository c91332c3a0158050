package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// This file is the command-line face of Config: the usage --help prints,
// the wording of flag errors, and the warning about WEBHOOKD_* variables
// that no setting reads.

// printFlags lists the flags as they are written, --name, each with its
// environment twin.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == pprofFlag {
			return // a debugging aid, not a setting
		}
		typ, usage := unquoteUsage(f)
		line := "  --" + f.Name
		if typ != "" {
			line += " " + typ
		}
		if f.Name != versionFlag {
			line += "  (" + envName(f.Name) + ")"
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
		switch {
		case slices.Contains([]string{"", "0", "false", "0s"}, f.DefValue):
		case typ == "string":
			fmt.Fprintf(w, " (default %q)", f.DefValue)
		default:
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// unquoteUsage is flag.UnquoteUsage, with the type a typedValue names.
func unquoteUsage(f *flag.Flag) (typ, usage string) {
	typ, usage = flag.UnquoteUsage(f)
	if v, ok := f.Value.(typedValue); ok {
		typ = v.Type()
	}
	return typ, usage
}

// recordingValue keeps the first value a flag refuses on the command line:
// the flag package reports it as text only, in its own words.
type recordingValue struct {
	flag.Value
	name  string
	first *error
}

func (v recordingValue) Set(s string) error {
	err := v.Value.Set(s)
	if err != nil && *v.first == nil {
		*v.first = invalidValue(&flag.Flag{Name: v.name, Value: v.Value}, s, "", err)
	}
	return err
}

// IsBoolFlag keeps --allow-http-endpoints working without "=true".
func (v recordingValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// recordValueErrors wraps every flag of fs for Parse; restore unwraps them.
func recordValueErrors(fs *flag.FlagSet) (first *error, restore func()) {
	first = new(error)
	originals := map[string]flag.Value{}
	fs.VisitAll(func(f *flag.Flag) {
		originals[f.Name] = f.Value
		f.Value = recordingValue{Value: f.Value, name: f.Name, first: first}
	})
	return first, func() { fs.VisitAll(func(f *flag.Flag) { f.Value = originals[f.Name] }) }
}

// invalidValue says that raw is no value for f, and what would be. The
// value of a secretValue is not repeated.
func invalidValue(f *flag.Flag, raw, where string, err error) error {
	typ, _ := unquoteUsage(&flag.Flag{Value: f.Value})
	want := map[string]string{
		"":         "true or false",
		"int":      "a whole number",
		"float":    "a number",
		"duration": "a duration such as 30s, 5m or 2h",
	}[typ]
	if want == "" {
		want = err.Error()
	} else {
		want = "want " + want
	}
	if where != "" {
		where = " " + where
	}
	if _, ok := f.Value.(secretValue); ok {
		return fmt.Errorf("--%s (%s): invalid value%s: %s", f.Name, envName(f.Name), where, want)
	}
	return fmt.Errorf("--%s (%s): invalid value %q%s: %s", f.Name, envName(f.Name), raw, where, want)
}

// parseError rewords an error of fs.Parse in the form of every other
// configuration error.
func parseError(fs *flag.FlagSet, err, valueErr error) error {
	if valueErr != nil {
		return valueErr
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		hint := ""
		if s := closest(name, names); s != "" {
			hint = fmt.Sprintf(" (did you mean --%s?)", s)
		}
		return fmt.Errorf("unknown flag --%s%s; webhookd --help lists them", name, hint)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok && fs.Lookup(name) != nil {
		return fmt.Errorf("--%s (%s): needs a value", name, envName(name))
	}
	return errors.New(msg)
}

// UnknownVariable is a WEBHOOKD_* variable that no setting reads: most
// likely a misspelt one, which would otherwise be ignored without a word.
type UnknownVariable struct {
	Name string
	// Suggestion is the known variable closest to Name; empty when none is
	// close.
	Suggestion string
}

// UnknownEnv returns the WEBHOOKD_* variables of environ (as os.Environ
// gives it) that webhookd does not read, sorted by name.
func UnknownEnv(environ []string) []UnknownVariable {
	known := []string{envPrefix + "ADMIN_TOKEN"}
	var c Config
	c.flagSet(io.Discard).VisitAll(func(f *flag.Flag) { known = append(known, envName(f.Name)) })
	var out []UnknownVariable
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, envPrefix) || slices.Contains(known, name) {
			continue
		}
		out = append(out, UnknownVariable{Name: name, Suggestion: closest(name, known)})
	}
	slices.SortFunc(out, func(a, b UnknownVariable) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// closest returns the candidate nearest to name in edits, ignoring case,
// if it is near enough to be a plausible typo; "" otherwise.
func closest(name string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		if d := editDistance(strings.ToUpper(name), strings.ToUpper(c)); bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	if bestDist < 0 || bestDist > 3 || bestDist*3 > len(name) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
