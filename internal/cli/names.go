package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// resourceName accepts an id (ep_…) or a full name (endpoints/ep_…) and
// returns the full name the API wants.
func resourceName(collection, arg string) string {
	if strings.HasPrefix(arg, collection+"/") {
		return arg
	}
	return collection + "/" + arg
}

// optionalName is resourceName, or empty for an empty arg.
func optionalName(collection, arg string) string {
	if arg == "" {
		return ""
	}
	return resourceName(collection, arg)
}

// exactArgs is cobra.ExactArgs with a usage error that names what is
// missing.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usagef("%s takes %s, got %d argument(s)", cmd.CommandPath(), strings.Join(names, " "), len(args))
		}
		for i, a := range args {
			if a == "" {
				return usagef("%s must not be empty", names[i])
			}
		}
		return nil
	}
}

// noArgs refuses positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}

// parseTime reads a time flag: RFC 3339 (2026-12-01T09:00:00Z), or a
// parseTimeRange parses the --after and --before flags of the list
// commands.
func parseTimeRange(after, before string, now time.Time) (afterT, beforeT *timestamppb.Timestamp, err error) {
	if afterT, err = parseTime("after", after, now); err != nil {
		return nil, nil, err
	}
	if beforeT, err = parseTime("before", before, now); err != nil {
		return nil, nil, err
	}
	return afterT, beforeT, nil
}

// duration meaning that long ago (24h, 90m).
func parseTime(flagName, v string, now time.Time) (*timestamppb.Timestamp, error) {
	if v == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return timestamppb.New(t), nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return timestamppb.New(now.Add(-d)), nil
	}
	return nil, usagef("--%s %q: want an RFC 3339 time (2026-12-01T09:00:00Z) or a duration ago (24h)", flagName, v)
}

// readData reads --data: inline JSON, @file, or - for standard input. The
// result must be a JSON object.
func readData(flagName, v string, stdin io.Reader) (*structpb.Struct, error) {
	var raw []byte
	var err error
	switch {
	case v == "-":
		raw, err = io.ReadAll(stdin)
	case strings.HasPrefix(v, "@"):
		raw, err = os.ReadFile(v[1:])
	default:
		raw = []byte(v)
	}
	if err != nil {
		return nil, usagef("--%s: %v", flagName, err)
	}
	var s structpb.Struct
	if err := protojson.Unmarshal(raw, &s); err != nil {
		return nil, usagef("--%s: not a JSON object: %v", flagName, err)
	}
	return &s, nil
}

// applySets applies --set path=value overrides to data. The path is dotted
// (property.price, or data.property.price as the event body spells it);
// missing objects on the way are created. The value is JSON when it parses
// as JSON (1, true, "x", {"a":1}) and a string otherwise.
func applySets(data *structpb.Struct, sets []string) (*structpb.Struct, error) {
	if len(sets) == 0 {
		return data, nil
	}
	m := data.AsMap()
	for _, set := range sets {
		path, value, ok := strings.Cut(set, "=")
		if !ok || path == "" {
			return nil, usagef("--set %q: want path=value, e.g. data.property.price=1", set)
		}
		keys := strings.Split(path, ".")
		if keys[0] == "data" && len(keys) > 1 {
			keys = keys[1:]
		}
		var v any
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			v = value
		}
		obj := m
		for i, k := range keys {
			if k == "" {
				return nil, usagef("--set %q: empty key in the path", set)
			}
			if i == len(keys)-1 {
				obj[k] = v
				break
			}
			next, ok := obj[k].(map[string]any)
			if !ok {
				if _, exists := obj[k]; exists {
					return nil, usagef("--set %q: %s is not an object", set, strings.Join(keys[:i+1], "."))
				}
				next = map[string]any{}
				obj[k] = next
			}
			obj = next
		}
	}
	out, err := structpb.NewStruct(m)
	if err != nil {
		return nil, fmt.Errorf("--set: %w", err)
	}
	return out, nil
}
