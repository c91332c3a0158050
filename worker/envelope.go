package worker

import (
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/payload"
)

// createdLayout is the envelope's "created" format before trailing zero
// groups are cut (see appendCreated): RFC 3339 in UTC to the microsecond.
const createdLayout = "2006-01-02T15:04:05.000000"

// Envelope returns the body of every request that delivers ev:
//
//	{"id":"evt_…","type":"…","created":"2023-06-15T10:30:00.123456Z","data":{…}}
//
// It is built by appending, not by encoding/json, because it must be a fixed
// point of Node's JSON.stringify(JSON.parse(body)): the guide's verifier
// hashes the re-serialised body, not the bytes on the wire (see package
// payload). ev.Data is already in that form (payload.CanonicalizeObject made
// it at publish time) and is copied verbatim; the four keys are not
// integer-like, so JavaScript keeps them in this insertion order. Empty Data,
// which the API never stores, is sent as {} because receivers are promised an
// object. The same event always yields the same bytes, so every attempt of a
// delivery carries the same body and signature input.
func Envelope(ev *webhookd.Event) []byte {
	data := ev.Data
	if len(data) == 0 {
		data = []byte("{}")
	}
	out := make([]byte, 0, len(data)+len(ev.ID)+len(ev.Type)+64)
	out = append(out, `{"id":`...)
	out = appendJSString(out, ev.ID)
	out = append(out, `,"type":`...)
	out = appendJSString(out, ev.Type)
	out = append(out, `,"created":"`...)
	out = appendCreated(out, ev.CreateTime)
	out = append(out, `","data":`...)
	out = append(out, data...)
	return append(out, '}')
}

// appendCreated appends t exactly as the API writes the event's create_time
// in JSON: RFC 3339 in UTC with 0, 3 or 6 fractional digits (protojson's
// rule for google.protobuf.Timestamp, at the microsecond precision events
// are stored with). "created" and create_time are then the same instant and
// the same text, so a receiver that passes the created of the last event it
// got as createTimeAfter gets the events after it, not that event again.
// Whole seconds, as the envelope had before, named a moment up to a second
// earlier than the stored one.
func appendCreated(out []byte, t time.Time) []byte {
	out = t.UTC().Truncate(time.Microsecond).AppendFormat(out, createdLayout)
	if n := len(out); string(out[n-3:]) == "000" {
		out = out[:n-3]
		if n := len(out); string(out[n-4:]) == ".000" {
			out = out[:n-4]
		}
	}
	return append(out, 'Z')
}

// appendJSString appends s as JSON.stringify writes the string a receiver
// decodes from it. Ids and type names are validated ASCII, so the fast path
// is the only one taken in practice; anything else goes through
// payload.Canonicalize so that the escaping rules (and Node's replacement of
// invalid UTF-8) live in one place.
func appendJSString(out []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b >= 0x7f || b == '"' || b == '\\' {
			plain = false
			break
		}
	}
	if plain {
		out = append(out, '"')
		out = append(out, s...)
		return append(out, '"')
	}
	// A JSON literal that decodes to exactly s's bytes: only what JSON
	// forbids raw is escaped; high bytes, valid or not, are left for
	// Canonicalize to decode the way Node's UTF-8 decoder does.
	lit := make([]byte, 0, len(s)+8)
	lit = append(lit, '"')
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b == '"', b == '\\':
			lit = append(lit, '\\', b)
		case b < 0x20:
			lit = append(lit, '\\', 'u', '0', '0', lowerHexDigits[b>>4], lowerHexDigits[b&0xF])
		default:
			lit = append(lit, b)
		}
	}
	lit = append(lit, '"')
	canon, err := payload.Canonicalize(lit)
	if err != nil {
		// Unreachable: lit is a well-formed JSON string by construction.
		panic("worker: cannot encode envelope string: " + err.Error())
	}
	return append(out, canon...)
}

const lowerHexDigits = "0123456789abcdef"
