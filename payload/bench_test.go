package payload_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/payload"
)

// appointmentScheduled is the appointment.scheduled example of the public
// webhooks guide, as the built-in catalog holds it (pretty-printed, as a
// publisher would send it).
var appointmentScheduled = func() string {
	for _, t := range webhookd.BuiltinEventTypes() {
		if t.Name == "appointment.scheduled" {
			return string(t.Example)
		}
	}
	panic("the catalog has no appointment.scheduled")
}()

// largePayload is a ~10 KiB event in the guide's style: a property listing
// with nested objects, arrays, prices, coordinates and non-ASCII text.
func largePayload() string {
	var b strings.Builder
	b.WriteString(`{"id":"evt_123456","type":"property.updated","created":"2023-06-15T10:30:00Z","data":{"property":{"id":"prop_123456","address":"123 Main St, New York, NY 10001","price":750000,"bedrooms":2,"bathrooms":2.5,"squareFeet":1200,"location":{"lat":40.712776,"lng":-74.005974},"description":"Sunny two-bedroom in Manhattan — close to the park, \"quiet\" street\nwith café.","units":[`)
	for i := 0; b.Len() < 10*1024-400; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"unit":"%dB","floor":%d,"rent":%d.5,"available":%t,"tags":["view","balcony"],"ratio":0.%03d,"agent":{"name":"Zoë Müller","phone":"+1-212-555-%04d"}}`,
			i, i%30, 2000+i*13, i%2 == 0, i%997, i)
	}
	b.WriteString(`],"createdAt":"2023-06-15T10:30:00Z"}}}`)
	return b.String()
}

func BenchmarkCanonicalize(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"appointment.scheduled", appointmentScheduled},
		{"10KiB", largePayload()},
	} {
		raw := []byte(bc.in)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := payload.Canonicalize(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
