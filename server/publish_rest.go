package server

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/protobuf/encoding/protojson"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/payload"
)

// restPublish serves PublishEvent's REST route, POST /v1/events, the call
// internal publishers make most, on a shorter road than the gateway's: the
// gateway decodes the event's data into a google.protobuf.Struct, which
// PublishEvent writes back out as JSON to canonicalise it, and the answer
// encodes that Struct once more. Here the data's JSON text is canonicalised
// as it arrived (payload.CanonicalizeObjectSorted, which gives the bytes
// the detour gives), the rest of the body is decoded by protojson as the
// gateway would, and the answer carries the stored bytes. The call runs
// the same interceptors as every other (inProcessConn.invoke) and the same
// validation (WebhookService.publish).
//
// Any request this road is not sure to treat as the gateway does — another
// content type, a body that is not an object with one object-valued
// "data", data the detour would refuse or change, a query or body the
// decoders refuse — goes to the gateway instead, which answers exactly as
// it always has, errors included.
type restPublish struct {
	gateway *runtime.ServeMux
	conn    *inProcessConn
	svc     *WebhookService
}

const publishEventPath = "/v1/events"

// publishQueryFilter keeps the body's field out of the query parameters,
// as the gateway's generated filter for PublishEvent does.
var publishQueryFilter = utilities.NewDoubleArray([][]string{{"event"}})

var (
	restUnmarshal = protojson.UnmarshalOptions{DiscardUnknown: false}
	restMarshal   = protojson.MarshalOptions{EmitDefaultValues: true}
)

func (h *restPublish) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.serve(w, r) {
		h.gateway.ServeHTTP(w, r)
	}
}

// serve answers r and reports true, or reports false having written
// nothing, for the gateway to answer r.
func (h *restPublish) serve(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost || r.URL.Path != publishEventPath || r.Header.Get("X-HTTP-Method-Override") != "" {
		return false
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return false // a form body would be read by the gateway's ParseForm
		}
	}
	body, ok := r.Body.(*bufferedBody)
	if !ok {
		return false
	}
	rawData, rest, ok := splitData(body.bytes)
	if !ok || !utf8.Valid(rawData) || hasSurrogateEscape(rawData) {
		return false
	}
	data, ok, err := payload.CanonicalizeObjectSorted(rawData)
	if err != nil || !ok {
		return false
	}
	req := &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{}}
	if err := restUnmarshal.Unmarshal(rest, req.Event); err != nil {
		return false
	}
	if err := runtime.PopulateQueryParameters(req, r.URL.Query(), publishQueryFilter); err != nil {
		return false
	}
	method := webhooksv1.WebhookService_PublishEvent_FullMethodName
	ctx, err := runtime.AnnotateContext(r.Context(), h.gateway, r, method, runtime.WithHTTPPathPattern(publishEventPath))
	if err != nil {
		return false
	}
	_, outbound := runtime.MarshalerForRequest(h.gateway, r)
	var reply []byte
	_, err = h.conn.invoke(ctx, method, req, func(ctx context.Context, _ any) (any, error) {
		stored, _, err := h.svc.publish(ctx, req, data)
		if err != nil {
			return nil, err
		}
		meta, err := restMarshal.Marshal(eventMetaToProto(stored))
		if err != nil {
			return nil, err
		}
		reply = withData(meta, stored.Data)
		return nil, nil
	})
	if err != nil {
		runtime.HTTPError(ctx, h.gateway, outbound, w, r, err)
		return true
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(reply)
	return true
}

// splitData finds the "data" member of body, a JSON object, and returns
// its value and body with that value replaced by null (an unset message
// field to protojson). ok is false unless body is an object with exactly
// one "data" member (keys compared unescaped, as protojson does) whose
// value is an object.
func splitData(body []byte) (data, rest []byte, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, false
	}
	start, end := -1, -1
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, false
		}
		key, isKey := t.(string)
		var value json.RawMessage
		if !isKey || dec.Decode(&value) != nil {
			return nil, nil, false
		}
		if key == "data" {
			if start >= 0 {
				return nil, nil, false // protojson refuses a repeated field
			}
			end = int(dec.InputOffset())
			start = end - len(value)
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') || start < 0 || body[start] != '{' {
		return nil, nil, false
	}
	rest = make([]byte, 0, len(body)-(end-start)+len("null"))
	rest = append(append(append(rest, body[:start]...), "null"...), body[end:]...)
	return body[start:end], rest, true
}

// hasSurrogateEscape reports a \u escape of a UTF-16 surrogate (\ud800 to
// \udfff), which protojson refuses when lone and the canonicaliser keeps.
// Pairs and the rest of \ud000 to \udfff are reported too, and take the
// gateway's road: rare, and right.
func hasSurrogateEscape(b []byte) bool {
	for i := bytes.IndexByte(b, '\\'); i >= 0 && i+2 < len(b); {
		if b[i+1] == '\\' {
			i += 2 // an escaped backslash, which starts nothing
		} else {
			if b[i+1] == 'u' && (b[i+2] == 'd' || b[i+2] == 'D') {
				return true
			}
			i++
		}
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 {
			return false
		}
		i += j
	}
	return false
}

// withData adds "data": data to meta, the JSON of an event without its
// data.
func withData(meta, data []byte) []byte {
	out := make([]byte, 0, len(meta)+len(data)+10)
	out = append(out, `{"data":`...)
	out = append(out, data...)
	if rest := bytes.TrimSpace(meta[1:]); len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, meta[1:]...)
}
