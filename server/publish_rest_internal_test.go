package server

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/payload"
)

// restPublishSeeds are bodies for FuzzRESTPublishMatchesGateway: the
// orders, escapes, numbers and shapes where the two roads could part.
var restPublishSeeds = []string{
	`{"type":"property.created","data":{"property":{"id":"prop_1","price":750000}}}`,
	`{"data":{"b":1,"a":2,"10":3,"2":4,"ab!":5,"ab":6},"type":"t"}`,
	`{"data":{"a":1,"a":2}}`,
	`{"data":{"a":"\ud800"}}`,
	`{"data":{"a":"\ud83d\ude00"}}`,
	`{"data":{"a":"\\ud800"}}`,
	`{"data":{"a":1e400,"b":1e-400,"c":-0,"d":1e21,"e":1e-7,"f":123456789012345678901234}}`,
	`{"data":{"a\"b":1,"a#":2,"é":3,"z":4,"\u0000":5}}`,
	`{"data":{"x":[1,{"b":2,"a":1},[{"d":1,"c":2}]]}}`,
	`{"d\u0061ta":{"a":1}}`,
	`{"data":{"a":1},"data":{"b":2}}`,
	`{"data":[1,2]}`,
	`{"data":null}`,
	`{"data":{}}`,
	` { "data" : { "a" : [ ] , "b" : { } } , "type" : "x" } `,
	`{"data":{"a":1}}x`,
	`{"data":{"a":1},"nope":1}`,
	`{"data":{"a":"` + "\xff" + `"}}`,
	`{"data":{"a":"\u2028\u00e9\/"}}`,
}

// FuzzRESTPublishMatchesGateway checks restPublish's road against the
// gateway's for any body: whenever restPublish takes a body, the gateway
// decodes it too, to the same event, and PublishEvent stores the same
// data bytes for it. Bodies restPublish leaves alone are the gateway's,
// whose answers other tests cover.
//
// go test -fuzz FuzzRESTPublishMatchesGateway ./server explores further.
func FuzzRESTPublishMatchesGateway(f *testing.F) {
	for _, s := range restPublishSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rawData, rest, ok := splitData(body)
		if !ok || !utf8.Valid(rawData) || hasSurrogateEscape(rawData) {
			return
		}
		data, ok, err := payload.CanonicalizeObjectSorted(rawData)
		if err != nil || !ok {
			return
		}
		fast := &webhooksv1.Event{}
		if err := restUnmarshal.Unmarshal(rest, fast); err != nil {
			return
		}
		// The gateway's decoding: encoding/json reads the value, protojson
		// decodes it (runtime.JSONPb).
		var raw json.RawMessage
		if err := json.NewDecoder(bytes.NewReader(body)).Decode(&raw); err != nil {
			t.Fatalf("restPublish took %q, which the gateway cannot read: %v", body, err)
		}
		slow := &webhooksv1.Event{}
		if err := restUnmarshal.Unmarshal(raw, slow); err != nil {
			t.Fatalf("restPublish took %q, which the gateway refuses: %v", body, err)
		}
		want, err := canonicalData("event.data", slow.GetData())
		if err != nil {
			t.Fatalf("restPublish took %q, whose data PublishEvent refuses: %v", body, err)
		}
		if !bytes.Equal(data, want) {
			t.Fatalf("data of %q: restPublish stores %s, the gateway's road %s", body, data, want)
		}
		slow.Data = nil
		if !proto.Equal(fast, slow) {
			t.Fatalf("event of %q: restPublish decodes %v, the gateway %v", body, fast, slow)
		}
	})
}

func TestWithData(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ meta, want string }{
		{`{}`, `{"data":{"a":1}}`},
		{`{ }`, `{"data":{"a":1} }`},
		{`{"name":"events/evt_1"}`, `{"data":{"a":1},"name":"events/evt_1"}`},
	} {
		got := withData([]byte(tc.meta), []byte(`{"a":1}`))
		if string(got) != tc.want || !json.Valid(got) {
			t.Errorf("withData(%s) = %s, want %s", tc.meta, got, tc.want)
		}
	}
}

func TestHasSurrogateEscape(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		`"a"`: false, `"\ud800"`: true, `"\uDFFF"`: true, `"\\ud800"`: false, `"\\\ud800"`: true,
		`"\u00e9"`: false, `"\n\ud83d\ude00"`: true, `"\`: false,
	} {
		if got := hasSurrogateEscape([]byte(in)); got != want {
			t.Errorf("hasSurrogateEscape(%s) = %v, want %v", in, got, want)
		}
	}
}
