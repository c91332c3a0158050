package payload_test

import (
	"errors"
	"fmt"

	"github.com/webhookd/webhookd/payload"
)

// Event data is canonicalised once, when it is published; the result is what
// gets signed and sent, so a receiver that re-stringifies it gets the same
// bytes.
func ExampleCanonicalizeObject() {
	body, err := payload.CanonicalizeObject([]byte(`{"status": "scheduled", "2": "b", "1": "a", "price": 1E3, "ratio": 0.10}`))
	fmt.Println(string(body), err)

	_, err = payload.CanonicalizeObject([]byte(`{"status": "scheduled",}`))
	var perr *payload.Error
	if errors.As(err, &perr) {
		fmt.Println(perr.Offset, err)
	}
	// Output:
	// {"1":"a","2":"b","status":"scheduled","price":1000,"ratio":0.1} <nil>
	// 23 payload: invalid JSON at byte offset 23: expected double-quoted property name, found '}'
}
