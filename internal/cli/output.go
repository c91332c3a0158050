package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Output formats of --format.
const (
	formatTable = "table"
	formatJSON  = "json"
)

// printer writes a command's result: one JSON document for --format json,
// tables and field lists for people otherwise.
type printer struct {
	out   io.Writer
	json  bool
	color bool
}

// printer is the printer for this run's --format and stdout.
func (f *Factory) printer() *printer {
	return &printer{out: f.Out, json: f.flags.format == formatJSON, color: f.useColor()}
}

// useColor reports whether stdout is a terminal that wants colour: never
// when NO_COLOR is set (https://no-color.org) or TERM is dumb.
func (f *Factory) useColor() bool {
	if f.Getenv("NO_COLOR") != "" || f.Getenv("TERM") == "dumb" {
		return false
	}
	return isTerminal(f.Out)
}

// isTerminal reports whether v is a file that is a terminal. A character
// device is not enough: /dev/null is one too.
func isTerminal(v any) bool {
	file, ok := v.(*os.File)
	return ok && isatty.IsTerminal(file.Fd())
}

// marshalJSON is m in the API's own JSON form, the one the REST API returns
// (lowerCamelCase field names, unset scalars included), indented.
// protojson's spacing is deliberately unstable, so the output is
// re-indented with encoding/json to stay byte-for-byte the same across
// builds.
func marshalJSON(m proto.Message) ([]byte, error) {
	raw, err := protojson.MarshalOptions{EmitDefaultValues: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	return indentJSON(raw)
}

func indentJSON(raw []byte) ([]byte, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// JSON writes m as the run's one JSON document.
func (p *printer) JSON(m proto.Message) error {
	b, err := marshalJSON(m)
	if err != nil {
		return err
	}
	_, err = p.out.Write(b)
	return err
}

// print writes m as JSON with --format json, or with human otherwise.
func (p *printer) print(m proto.Message, human func(p *printer)) error {
	if p.json {
		return p.JSON(m)
	}
	human(p)
	return nil
}

// table writes rows under headers, aligned in columns.
func (p *printer) table(headers []string, rows [][]string) {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	_ = tw.Flush()
	// An empty last cell leaves the padding of the column before it.
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line != "" {
			fmt.Fprintln(p.out, strings.TrimRight(line, " \n"))
		}
	}
}

// fields writes label/value pairs, one a line, values aligned; empty
// values are left out.
func (p *printer) fields(pairs ...[2]string) {
	tw := tabwriter.NewWriter(p.out, 0, 4, 2, ' ', 0)
	for _, kv := range pairs {
		if kv[1] == "" {
			continue
		}
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
	}
	_ = tw.Flush()
}

// line writes one line of text.
func (p *printer) line(format string, args ...any) {
	fmt.Fprintf(p.out, format+"\n", args...)
}

// ANSI colours of the states and statuses in tables.
const (
	green  = "\x1b[32m"
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	reset  = "\x1b[0m"
)

// paint colours s when the printer may. Colour codes are zero-width on a
// terminal but not to tabwriter, so paint only the last column of a table
// or values in field lists.
func (p *printer) paint(s, color string) string {
	if !p.color || s == "" {
		return s
	}
	return color + s + reset
}

// formatTime is t in RFC 3339, UTC, to the second; empty when unset.
func formatTime(t *timestamppb.Timestamp) string {
	if t == nil {
		return ""
	}
	return t.AsTime().UTC().Format(time.RFC3339)
}

// formatDuration is d in milliseconds, the unit people compare webhook
// latencies in.
func formatDuration(d *durationpb.Duration) string {
	if d == nil {
		return ""
	}
	return fmt.Sprintf("%d ms", d.AsDuration().Milliseconds())
}

// id is the last segment of a resource name: ep_… of endpoints/ep_….
func id(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[i+1:]
	}
	return name
}
