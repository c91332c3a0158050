package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/webhookd/webhookd"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/payload"
	"github.com/webhookd/webhookd/worker"
)

// fuzzMaxPayload is small so that the fuzzer reaches the size check.
const fuzzMaxPayload = 2048

// FuzzPublishEventData follows a REST PublishEvent body down the server's
// path to the bytes a receiver gets: the gateway's decoding of the event
// (protojson, unknown fields refused), encodeData's validation and
// canonicalisation, and the delivery envelope. package payload fuzzes the
// canonicaliser on raw JSON; this covers what the server adds around it —
// the detour through google.protobuf.Struct, the size limit, the envelope.
// For any body:
//   - nothing panics, and a refusal is INVALID_ARGUMENT naming event.data,
//     never an internal error;
//   - accepted data is at most the payload limit, a JSON object, valid
//     UTF-8, and means what the request's Struct meant;
//   - the envelope is valid JSON and a fixed point of the canonicaliser
//     (JSON.stringify(JSON.parse(body)) gives it back, so the guide's
//     verifier computes the signature webhookd sent), with the data inside
//     byte for byte.
//
// go test runs the seeds in testdata/fuzz/FuzzPublishEventData;
// go test -fuzz FuzzPublishEventData ./server explores further.
func FuzzPublishEventData(f *testing.F) {
	s := &WebhookService{cfg: WebhookServiceConfig{MaxPayloadBytes: fuzzMaxPayload}}
	created := time.Date(2023, 6, 15, 10, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		in := &webhooksv1.Event{}
		if err := (protojson.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(body, in); err != nil {
			return // the gateway answers 400 before the service runs
		}
		data, err := s.encodeData("event.data", in.GetData())
		if err != nil {
			var de *webhookd.Error
			if webhookd.KindOf(err) != webhookd.KindInvalid || !asDomain(err, &de) || de.Field != "event.data" || de.Message == "" {
				t.Fatalf("refusal of %q is %v (kind %v), want INVALID_ARGUMENT on event.data", body, err, webhookd.KindOf(err))
			}
			if in.GetData() == nil && !strings.Contains(de.Message, "required") {
				t.Fatalf("missing data refused with %q", de.Message)
			}
			return
		}
		if len(data) > fuzzMaxPayload {
			t.Fatalf("accepted %d bytes of data, limit %d", len(data), fuzzMaxPayload)
		}
		if !utf8.Valid(data) || !json.Valid(data) || data[0] != '{' {
			t.Fatalf("stored data %q is not a valid UTF-8 JSON object", data)
		}
		back := &structpb.Struct{}
		if err := protojson.Unmarshal(data, back); err != nil || !proto.Equal(back, in.GetData()) {
			t.Fatalf("data changed meaning: %v -> %q -> %v (%v)", in.GetData(), data, back, err)
		}
		// The publish response echoes the request's data made asStored; it
		// must show what GetEvent shows (proto.Equal above takes -0 for 0).
		echo := proto.Clone(in.GetData()).(*structpb.Struct)
		asStored(echo)
		echoJSON, err1 := protojson.Marshal(echo)
		storedJSON, err2 := protojson.Marshal(back)
		if err1 != nil || err2 != nil || !bytes.Equal(echoJSON, storedJSON) {
			t.Fatalf("the publish response would show %s, the stored data is %s (%v, %v)", echoJSON, storedJSON, err1, err2)
		}

		envelope := worker.Envelope(&webhookd.Event{ID: "evt_01m8cm00vv4swx8hfpp0a2wvzh", Type: "property.created", CreateTime: created, Data: data})
		again, err := payload.Canonicalize(envelope)
		if err != nil || !bytes.Equal(again, envelope) {
			t.Fatalf("envelope %q is not a fixed point of JSON.stringify(JSON.parse(·)): %q, %v", envelope, again, err)
		}
		var parsed struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(envelope, &parsed); err != nil || !bytes.Equal(parsed.Data, data) {
			t.Fatalf("envelope %q does not carry the data %q verbatim (%v)", envelope, data, err)
		}
	})
}

func asDomain(err error, target **webhookd.Error) bool {
	de, ok := err.(*webhookd.Error)
	if ok {
		*target = de
	}
	return ok
}

// publishFuzzSeeds are REST PublishEvent bodies that reach the corners of
// the path: the guide's example, JavaScript number and key-order rules,
// escapes, surrogates, nesting, the size limit, and bodies the gateway or
// the service refuses.
func publishFuzzSeeds() []string {
	return []string{
		`{"type":"property.created","data":{"property":{"id":"prop_123456","address":"123 Main St, New York, NY 10001","price":750000,"bedrooms":2,"bathrooms":2,"squareFeet":1200,"createdAt":"2023-06-15T10:30:00Z"}}}`,
		`{"type":"appointment.scheduled","data":{"appointment":{"id":"apt_789012","propertyId":"prop_123456","clientId":"client_345678","scheduledAt":"2023-06-20T14:00:00Z"}}}`,
		`{"data":{}}`,
		`{"type":"x"}`,
		`{"data":null}`,
		`{"data":[1,2]}`,
		`{"data":"text"}`,
		`{"data":{"b":1,"a":2,"10":3,"2":4,"-1":5,"01":6,"4294967295":7,"4294967294":8}}`,
		`{"data":{"n":[1.0,-0,1e21,1e-7,123456789012345678901234567890,9007199254740993,5e-324,1.7976931348623157e308,0.1,100,1e300]}}`,
		`{"data":{"s":"\u0000\u001f\"\\\/\b\f\n\r\t\u2028\u2029\u007f é 😀"}}`,
		`{"data":{"lone":"\ud800","pair":"\ud83d\ude00","reversed":"\ude00\ud83d"}}`,
		`{"data":{"a":{"b":{"c":{"d":{"e":{"f":[[[[[[{"g":true,"h":false,"i":null}]]]]]]}}}}}}}`,
		`{"data":{"big":"` + strings.Repeat("x", fuzzMaxPayload) + `"}}`,
		`{"data":{"almost":"` + strings.Repeat("y", fuzzMaxPayload-len(`{"almost":""}`)) + `"}}`,
		`{"data":{"k":1},"unknown":true}`,
		`{"data":{"k":1,"k":2}}`,
		`{"data":{"\u0000":"nul key","":"empty key"}}`,
		`{"type":"property.created","data":{"x":1},"name":"events/evt_x","account":"accounts/acct_y","test":true}`,
		`not json`,
		`{"data":{"nan":"NaN","inf":"Infinity","num":-0.0}}`,
	}
}

// TestWritePublishFuzzSeeds regenerates testdata/fuzz/FuzzPublishEventData
// from publishFuzzSeeds when WEBHOOKD_WRITE_FUZZ_SEEDS is set; the files are
// never edited by hand. Crashers the fuzzer adds there are kept.
func TestWritePublishFuzzSeeds(t *testing.T) {
	if os.Getenv("WEBHOOKD_WRITE_FUZZ_SEEDS") == "" {
		t.Skip("set WEBHOOKD_WRITE_FUZZ_SEEDS=1 to regenerate the fuzz seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzPublishEventData")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, in := range publishFuzzSeeds() {
		data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", in)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%03d", i)), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
