package server

import (
	"net/http"
)

// authenticateBeforeBody authenticates REST requests that carry a body
// before anything reads it: an unauthenticated caller gets 401 at once and
// the connection is closed, instead of webhookd reading (and the gateway
// decoding) up to MaxRequestBytes for it. The gRPC interceptor
// authenticates again, as for every call: the gateway reaches the API over
// its own connection, which carries no principal. Requests without a body
// are left to that interceptor alone.
func (s *Server) authenticateBeforeBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		if _, err := s.cfg.Auth.Authenticate(r.Context(), bearerFrom(r.Header.Values("Authorization"))); err != nil {
			// The body stays unread: close rather than drain it.
			w.Header().Set("Connection", "close")
			writeStatus(w, toStatus(r.Context(), s.cfg.Logger, r.Method+" "+r.URL.Path, err))
			return
		}
		next.ServeHTTP(w, r)
	})
}
