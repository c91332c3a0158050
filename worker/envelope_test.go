package worker_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/internal/guidereceiver"
	"github.com/webhookd/webhookd/payload"
	"github.com/webhookd/webhookd/worker"
)

// eventFromExample turns a catalog example envelope back into the Event it
// would have been published as.
func eventFromExample(t *testing.T, example []byte) *webhookd.Event {
	t.Helper()
	var env struct {
		ID      string          `json:"id"`
		Type    string          `json:"type"`
		Created time.Time       `json:"created"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(example, &env); err != nil {
		t.Fatal(err)
	}
	data, err := payload.CanonicalizeObject(env.Data)
	if err != nil {
		t.Fatal(err)
	}
	return &webhookd.Event{ID: env.ID, Type: env.Type, CreateTime: env.Created, Data: data}
}

// TestEnvelopeReproducesCatalogExamples proves that the envelope of each
// built-in example event (the guide's two examples among them) is that
// example, compacted: same keys, same order, same created format.
func TestEnvelopeReproducesCatalogExamples(t *testing.T) {
	t.Parallel()
	for _, et := range webhookd.BuiltinEventTypes() {
		t.Run(et.Name, func(t *testing.T) {
			t.Parallel()
			var want bytes.Buffer
			if err := json.Compact(&want, et.Example); err != nil {
				t.Fatal(err)
			}
			if got := worker.Envelope(eventFromExample(t, et.Example)); !bytes.Equal(got, want.Bytes()) {
				t.Errorf("Envelope =\n  %s\nwant\n  %s", got, want.Bytes())
			}
		})
	}
}

func TestEnvelopeFields(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		ny = time.FixedZone("EDT", -4*3600)
	}
	cases := []struct {
		name string
		ev   webhookd.Event
		want string
	}{
		{
			"created is UTC to the microsecond, truncated",
			webhookd.Event{ID: "evt_1", Type: "t", CreateTime: time.Date(2023, 6, 15, 6, 30, 0, 999_999_999, ny), Data: []byte(`{}`)},
			`{"id":"evt_1","type":"t","created":"2023-06-15T10:30:00.999999Z","data":{}}`,
		},
		{
			"created has no fraction on a whole second",
			webhookd.Event{ID: "evt_1", Type: "t", CreateTime: time.Date(2023, 6, 15, 10, 30, 0, 999, time.UTC), Data: []byte(`{}`)},
			`{"id":"evt_1","type":"t","created":"2023-06-15T10:30:00Z","data":{}}`,
		},
		{
			"created has 3 digits on a whole millisecond",
			webhookd.Event{ID: "evt_1", Type: "t", CreateTime: time.Date(2023, 6, 15, 10, 30, 0, 120_000_000, time.UTC), Data: []byte(`{}`)},
			`{"id":"evt_1","type":"t","created":"2023-06-15T10:30:00.120Z","data":{}}`,
		},
		{
			"created keeps the zeros of its microseconds",
			webhookd.Event{ID: "evt_1", Type: "t", CreateTime: time.Date(2023, 6, 15, 10, 30, 0, 1_000, time.UTC), Data: []byte(`{}`)},
			`{"id":"evt_1","type":"t","created":"2023-06-15T10:30:00.000001Z","data":{}}`,
		},
		{
			"empty data is an empty object",
			webhookd.Event{ID: "evt_2", Type: "t", CreateTime: time.Unix(0, 0)},
			`{"id":"evt_2","type":"t","created":"1970-01-01T00:00:00Z","data":{}}`,
		},
		{
			"strings are escaped as JSON.stringify does",
			webhookd.Event{ID: "evt_\"\\\n\x01", Type: "é\u2028/\x7f", CreateTime: time.Unix(0, 0), Data: []byte(`{"a":1}`)},
			`{"id":"evt_\"\\\n\u0001","type":"é` + "\u2028/\x7f" + `","created":"1970-01-01T00:00:00Z","data":{"a":1}}`,
		},
		{
			"invalid UTF-8 becomes U+FFFD as Node decodes it",
			webhookd.Event{ID: "evt_\xe2\x82", Type: "\xff", CreateTime: time.Unix(0, 0), Data: []byte(`{}`)},
			"{\"id\":\"evt_\ufffd\",\"type\":\"\ufffd\",\"created\":\"1970-01-01T00:00:00Z\",\"data\":{}}",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := string(worker.Envelope(&tc.ev)); got != tc.want {
				t.Errorf("Envelope =\n  %q\nwant\n  %q", got, tc.want)
			}
		})
	}
}

// TestEnvelopeCreatedIsTheAPIsCreateTime proves that "created" is the text
// the API gives the event's create_time in JSON (protojson, which the REST
// gateway uses), for times as they are stored: to the microsecond. A
// receiver can then pass it back as createTimeAfter and compare the two as
// strings.
func TestEnvelopeCreatedIsTheAPIsCreateTime(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 11, 26, 19, 5, 46, 0, time.UTC)
	for _, frac := range []time.Duration{0, time.Millisecond, 120 * time.Millisecond, 999 * time.Millisecond,
		time.Microsecond, 10 * time.Microsecond, 811_140 * time.Microsecond, 999_999 * time.Microsecond,
		1_001 * time.Microsecond, 123_456_789} {
		at := base.Add(frac)
		t.Run(at.Format(time.RFC3339Nano), func(t *testing.T) {
			t.Parallel()
			var env struct{ Created string }
			if err := json.Unmarshal(worker.Envelope(&webhookd.Event{ID: "evt_1", Type: "t", CreateTime: at}), &env); err != nil {
				t.Fatal(err)
			}
			api, err := protojson.Marshal(timestamppb.New(at.Truncate(time.Microsecond)))
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.Trim(string(api), `"`); env.Created != want {
				t.Errorf("created = %q, the API says %q", env.Created, want)
			}
			if got, err := time.Parse(time.RFC3339Nano, env.Created); err != nil || !got.Equal(at.Truncate(time.Microsecond)) {
				t.Errorf("created %q parses as %v (%v), want %v", env.Created, got, err, at.Truncate(time.Microsecond))
			}
		})
	}
}

// nodeRoundTrip answers one line per input: the base64 of
// JSON.stringify(JSON.parse(input)), input decoded as Express decodes bodies.
const nodeRoundTrip = `
const rl = require('readline').createInterface({ input: process.stdin, crlfDelay: Infinity });
const out = [];
rl.on('line', (line) => {
  const s = JSON.stringify(JSON.parse(Buffer.from(line, 'base64').toString('utf8')));
  out.push(Buffer.from(s, 'utf8').toString('base64'));
});
rl.on('close', () => process.stdout.write(out.join('\n') + '\n'));
`

// TestEnvelopeMatchesNode proves the property the guide's verifier relies
// on: every envelope is a fixed point of JSON.stringify(JSON.parse(body)) in
// Node.js, whatever the id, type, time and (canonical) data.
func TestEnvelopeMatchesNode(t *testing.T) {
	t.Parallel()
	guidereceiver.RequireNode(t)
	datas := []string{
		`{}`,
		`{"n":[1e21,0.1,-0,1E-7,123456789012345678901234567890,5e-324,1.7976931348623157e308]}`,
		`{"2":"b","1":"a","x":{"10":1,"9":2,"z":null},"u":"\u00e9\ud83d\ude00 \u2028 \u0000 \"q\" \\ /"}`,
		`{"deep":[[[{"a":[true,false,null]}]]],"lone":"\udc00","s":"` + strings.Repeat("日本", 200) + `"}`,
	}
	var events []*webhookd.Event
	for _, et := range webhookd.BuiltinEventTypes() {
		events = append(events, eventFromExample(t, et.Example))
	}
	created := []time.Time{time.Unix(0, 0), time.Date(2023, 6, 15, 10, 30, 0, 123456789, time.FixedZone("x", 3600)), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)}
	ids := []string{"evt_01JDQ8Z7W8K3M5N6P7Q8R9S0T1", "evt_\"quoted\"\\", "evt_\t\x00\x1f\x7f", "evt_é\xc3", "evt_\u2029😀"}
	for i, d := range datas {
		data, err := payload.CanonicalizeObject([]byte(d))
		if err != nil {
			t.Fatalf("data %d: %v", i, err)
		}
		for j, id := range ids {
			events = append(events, &webhookd.Event{ID: id, Type: "property.created" + id[4:], CreateTime: created[(i+j)%len(created)], Data: data})
		}
	}

	var stdin bytes.Buffer
	var bodies [][]byte
	for _, ev := range events {
		body := worker.Envelope(ev)
		bodies = append(bodies, body)
		stdin.WriteString(base64.StdEncoding.EncodeToString(body) + "\n")
	}
	cmd := exec.Command("node", "-e", nodeRoundTrip)
	cmd.Stdin = &stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	i := 0
	for ; sc.Scan(); i++ {
		got, err := base64.StdEncoding.DecodeString(sc.Text())
		if err != nil {
			t.Fatal(err)
		}
		if i < len(bodies) && !bytes.Equal(got, bodies[i]) {
			t.Errorf("envelope is not a fixed point in Node.js:\n  Go   %q\n  Node %q", bodies[i], got)
		}
	}
	if i != len(bodies) {
		t.Fatalf("node answered %d of %d envelopes", i, len(bodies))
	}
}
