package server

import (
	"bytes"
	"context"
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
// one "data" member whose value is an object and no key with an escape.
//
// It only finds where members start and end; whether they are JSON is
// left to the decoders that read them next: protojson reads rest, the
// canonicaliser data. If both are valid, so is body, the one put back in
// the other's place. A profile put encoding/json's tokenizer, used here
// before, at a twentieth of a REST publish.
func splitData(body []byte) (data, rest []byte, ok bool) {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return nil, nil, false
	}
	start, end := -1, -1
	for i = skipSpace(body, i+1); ; i = skipSpace(body, i+1) {
		if i >= len(body) || body[i] != '"' {
			return nil, nil, false
		}
		keyEnd := i + 1
		for keyEnd < len(body) && body[keyEnd] != '"' && body[keyEnd] != '\\' {
			keyEnd++
		}
		if keyEnd >= len(body) || body[keyEnd] != '"' {
			return nil, nil, false // unterminated, or an escape: the gateway decodes it
		}
		key := body[i+1 : keyEnd]
		i = skipSpace(body, keyEnd+1)
		if i >= len(body) || body[i] != ':' {
			return nil, nil, false
		}
		valueStart := skipSpace(body, i+1)
		if i = skipValue(body, valueStart); i < 0 {
			return nil, nil, false
		}
		if string(key) == "data" {
			if start >= 0 {
				return nil, nil, false // protojson refuses a repeated field
			}
			start, end = valueStart, i
		}
		if i = skipSpace(body, i); i >= len(body) {
			return nil, nil, false
		}
		if body[i] == '}' {
			break
		}
		if body[i] != ',' {
			return nil, nil, false
		}
	}
	if skipSpace(body, i+1) != len(body) || start < 0 || body[start] != '{' {
		return nil, nil, false
	}
	rest = make([]byte, 0, len(body)-(end-start)+len("null"))
	rest = append(append(append(rest, body[:start]...), "null"...), body[end:]...)
	return body[start:end], rest, true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns where the value starting at b[i] ends, or -1: strings
// to their closing quote, objects and arrays to their closing bracket,
// anything else to the next delimiter.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i = skipString(b, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	start := i
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	if i == start {
		return -1
	}
	return i
}

// skipString returns the index after the string starting at b[i], or -1.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
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
