package server

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/webhookd/webhookd"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var de *webhookd.Error
	if !errors.As(err, &de) || de.Kind != webhookd.KindInvalid || de.Field != field {
		t.Fatalf("error %v, want an invalid-argument error naming %q", err, field)
	}
}

func TestCheckStrings(t *testing.T) {
	t.Parallel()
	withNUL, _ := structpb.NewStruct(map[string]any{"note": "a\x00b"})
	cases := []struct {
		name  string
		msg   proto.Message
		field string // "" when accepted
	}{
		{"clean", &webhooksv1.CreateEndpointRequest{Endpoint: &webhooksv1.Endpoint{
			Url: "https://x.example/", Description: "caf\u00e9", Headers: map[string]string{"X-A": "b"}}}, ""},
		{"NUL in a nested field", &webhooksv1.CreateEndpointRequest{Endpoint: &webhooksv1.Endpoint{Description: "a\x00"}}, "endpoint.description"},
		{"NUL in a list", &webhooksv1.ListEventsRequest{EventTypes: []string{"ok", "a\x00"}}, "event_types[1]"},
		{"NUL in a map key", &webhooksv1.CreateEndpointRequest{Endpoint: &webhooksv1.Endpoint{Headers: map[string]string{"X\x00": "b"}}}, "endpoint.headers"},
		{"NUL in a map value", &webhooksv1.CreateEndpointRequest{Endpoint: &webhooksv1.Endpoint{Headers: map[string]string{"X": "\x00"}}}, "endpoint.headers"},
		{"invalid UTF-8", &webhooksv1.GetEndpointRequest{Name: "endpoints/ep_\xff"}, "name"},
		{"NUL in a field mask", &webhooksv1.UpdateEndpointRequest{UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"url\x00"}}}, "update_mask.paths[0]"},
		// Event data is stored as its JSON bytes, where NUL is \u0000.
		{"NUL in event data", &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: "property.created", Data: withNUL}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := checkStrings(tc.msg)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantField(t, err, tc.field)
		})
	}
}

// TestDecodeFault checks that a request proto.Unmarshal refuses is
// reported naming the field at fault.
func TestDecodeFault(t *testing.T) {
	t.Parallel()
	wire := func(m proto.Message, placeholder, bad string) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Replace(b, []byte(placeholder), []byte(bad), 1)
	}
	deep := &structpb.Struct{}
	for range 3400 { // three messages per level: past 10,000
		deep = &structpb.Struct{Fields: map[string]*structpb.Value{"a": structpb.NewStructValue(deep)}}
	}
	deepWire, err := proto.Marshal(&webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: "property.created", Data: deep}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		msg   proto.Message // the type to decode into
		wire  []byte
		field string
	}{
		{"top-level string", &webhooksv1.GetEndpointRequest{}, wire(&webhooksv1.GetEndpointRequest{Name: "endpoints/@"}, "@", "\xff"), "name"},
		{"nested string", &webhooksv1.CreateEndpointRequest{}, wire(&webhooksv1.CreateEndpointRequest{Endpoint: &webhooksv1.Endpoint{Description: "@"}}, "@", "\xff"), "endpoint.description"},
		{"list element", &webhooksv1.ListEventsRequest{}, wire(&webhooksv1.ListEventsRequest{EventTypes: []string{"a", "@"}}, "@", "\xff"), "event_types[1]"},
		{"map value", &webhooksv1.CreateEndpointRequest{}, wire(&webhooksv1.CreateEndpointRequest{Endpoint: &webhooksv1.Endpoint{Headers: map[string]string{"X": "@"}}}, "@", "\xff"), "endpoint.headers"},
		{"inside event data", &webhooksv1.PublishEventRequest{}, wire(&webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Data: &structpb.Struct{Fields: map[string]*structpb.Value{"k": structpb.NewStringValue("@")}}}}, "@", "\xff"), "event.data"},
		{"nesting too deep", &webhooksv1.PublishEventRequest{}, deepWire, "event.data"},
		{"truncated field", &webhooksv1.CreateEndpointRequest{}, []byte{0x12, 0x05, 0x0a}, "endpoint"},
		{"malformed tag", &webhooksv1.CreateEndpointRequest{}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := proto.Unmarshal(tc.wire, tc.msg)
			if err == nil {
				t.Fatal("proto.Unmarshal accepted the input")
			}
			wantField(t, decodeFault(tc.wire, tc.msg.ProtoReflect().Descriptor(), err), tc.field)
		})
	}
}

func TestGatewayDecodeError(t *testing.T) {
	t.Parallel()
	fromServer, _ := status.New(codes.InvalidArgument, "endpoint.url: required").WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "endpoint.url", Description: "required"}},
	})
	cases := []struct {
		name  string
		err   error
		field string // "" when left as it is
		says  string // in the message, when set
	}{
		{"body", status.Error(codes.InvalidArgument, bodyErrorPrefix+`(line 1:20): duplicate field "description"`), "body", "duplicate field"},
		// protojson's answer to `"\ud800"}` at the end of a body.
		{"body ending early", status.Error(codes.InvalidArgument, bodyErrorPrefix+"unexpected EOF"), "body", "lone UTF-16 surrogate"},
		{"query field", status.Error(codes.InvalidArgument, `parsing field "page_size": strconv.ParseInt: parsing "x": invalid syntax`), "page_size", ""},
		{"query list", status.Error(codes.InvalidArgument, `parsing list "statuses": "BOGUS" is not a valid value`), "statuses", ""},
		{"query syntax", status.Error(codes.InvalidArgument, `invalid URL escape "%zz"`), "query", ""},
		{"from the server", fromServer.Err(), "endpoint.url", ""},
		{"another code", status.Error(codes.NotFound, "no such endpoint"), "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := gatewayDecodeError(tc.err)
			if tc.field == "" {
				if got != tc.err {
					t.Fatalf("changed %v into %v", tc.err, got)
				}
				return
			}
			st, _ := status.FromError(got)
			var fields []string
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok {
					for _, v := range br.GetFieldViolations() {
						fields = append(fields, v.GetField())
					}
				}
			}
			if st.Code() != codes.InvalidArgument || len(fields) != 1 || fields[0] != tc.field {
				t.Fatalf("%v with field violations %v, want one naming %q", got, fields, tc.field)
			}
			if !strings.Contains(st.Message(), tc.says) {
				t.Fatalf("message %q does not say %q", st.Message(), tc.says)
			}
		})
	}
}
