package server

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
)

// Pagination follows AIP-158. Listings are ordered newest first by id (ids
// are time-sortable), so a page token only needs the last id returned. The
// token also carries a fingerprint of the query so that reusing it with
// different filters is refused instead of silently returning the wrong page.
const (
	defaultPageSize = 50
	maxPageSize     = 1000
)

type pageToken struct {
	After string `json:"a"`
	Query string `json:"q"`
}

func queryFingerprint(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:8])
}

// parsePage validates page_size and page_token. The returned store.Page asks
// for one item more than the caller wants, to learn whether a next page exists.
func parsePage(pageSize int32, token string, query ...string) (store.Page, int, error) {
	size := int(pageSize)
	switch {
	case size < 0:
		return store.Page{}, 0, webhookd.Invalid("page_size", "must not be negative")
	case size == 0:
		size = defaultPageSize
	case size > maxPageSize:
		size = maxPageSize
	}
	p := store.Page{Size: size + 1}
	if token == "" {
		return p, size, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	var t pageToken
	if err != nil || json.Unmarshal(raw, &t) != nil || t.After == "" {
		return store.Page{}, 0, webhookd.Invalid("page_token", "not a page token returned by this API")
	}
	if t.Query != queryFingerprint(query...) {
		return store.Page{}, 0, webhookd.Invalid("page_token", "was issued for a different query: keep every other field the same when paging")
	}
	p.After = t.After
	return p, size, nil
}

// pageOf trims items to size and returns the next page token ("" on the last page).
func pageOf[T any](items []T, size int, idOf func(T) string, query ...string) ([]T, string) {
	if len(items) <= size {
		return items, ""
	}
	items = items[:size]
	raw, _ := json.Marshal(pageToken{After: idOf(items[size-1]), Query: queryFingerprint(query...)})
	return items, base64.RawURLEncoding.EncodeToString(raw)
}

// listPage runs one paginated listing: it validates the page request, asks
// list for one item more than the page holds, and returns the page with the
// token of the next one.
func listPage[T any](pageSize int32, token string, query []string, idOf func(T) string, list func(store.Page) ([]T, error)) ([]T, string, error) {
	page, size, err := parsePage(pageSize, token, query...)
	if err != nil {
		return nil, "", err
	}
	items, err := list(page)
	if err != nil {
		return nil, "", err
	}
	items, next := pageOf(items, size, idOf, query...)
	return items, next, nil
}
