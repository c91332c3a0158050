package server

import (
	"context"
	"net/http"
)

// authenticateBeforeBody authenticates REST requests that carry a body
// before anything reads it: an unauthenticated caller gets 401 at once and
// the connection is closed, instead of webhookd reading (and the gateway
// decoding) up to MaxRequestBytes for it. The principal found is handed to
// the authentication interceptor, which the call passes next (in process,
// inprocess.go), so the key is looked up once. Requests without a body
// are left to that interceptor alone.
func (s *Server) authenticateBeforeBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		token := bearerFrom(r.Header.Values("Authorization"))
		p, err := s.cfg.Auth.Authenticate(r.Context(), token)
		if err != nil {
			// The body stays unread: close rather than drain it.
			w.Header().Set("Connection", "close")
			writeStatus(w, toStatus(r.Context(), s.cfg.Logger, r.Method+" "+r.URL.Path, err))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), authenticatedKey{}, authenticated{token: token, principal: p})))
	})
}

// authenticatedKey carries an HTTP request's principal, found by
// authenticateBeforeBody, to the authentication interceptor. A context
// value cannot come from a client.
type authenticatedKey struct{}

type authenticated struct {
	token     string
	principal *Principal
}

// authenticatedBefore returns the principal found for token earlier in
// the same call, if any.
func authenticatedBefore(ctx context.Context, token string) (*Principal, bool) {
	a, ok := ctx.Value(authenticatedKey{}).(authenticated)
	if !ok || a.token != token {
		return nil, false
	}
	return a.principal, true
}
