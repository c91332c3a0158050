package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// limitRequestBody refuses REST bodies over max bytes with HTTP 413 and the
// gateway's JSON error form (code RESOURCE_EXHAUSTED), before the gateway
// decodes anything. A body announced too large is refused unread; one sent
// without a length is read up to max+1 bytes. http.MaxBytesReader alone
// would surface inside the gateway as a vague 400 about the body.
func limitRequestBody(next http.Handler, max int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > int64(max) {
			writeBodyTooLarge(w, max)
			return
		}
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, int64(max)+1))
		if err != nil {
			http.Error(w, "reading the request body failed", http.StatusBadRequest)
			return
		}
		if len(body) > max {
			writeBodyTooLarge(w, max)
			return
		}
		r.Body = &bufferedBody{Reader: bytes.NewReader(body), bytes: body}
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

func writeBodyTooLarge(w http.ResponseWriter, max int) {
	st := status.New(codes.ResourceExhausted, fmt.Sprintf("request body larger than %d bytes", max))
	body, _ := protojson.Marshal(st.Proto())
	w.Header().Set("Content-Type", "application/json")
	// The rest of an oversized body is not read: close rather than drain.
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	_, _ = w.Write(body)
}

// bufferedBody is a request body read whole by limitRequestBody, whose
// bytes a handler may take without reading them again (publish_rest.go).
type bufferedBody struct {
	*bytes.Reader
	bytes []byte
}

func (*bufferedBody) Close() error { return nil }
