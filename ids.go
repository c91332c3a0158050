package webhookd

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"sync"
	"time"
)

// Prefixes of resource identifiers. An identifier is the prefix, an
// underscore and 26 characters of Crockford base32 encoding a 48-bit
// millisecond timestamp followed by 80 random bits, so identifiers sort by
// creation time both as strings and in database indexes. Listing newest first
// is therefore ordering by id, and a page token is just the last id seen.
const (
	PrefixAccount       = "acct"
	PrefixAPIKey        = "key"
	PrefixEndpoint      = "ep"
	PrefixEvent         = "evt"
	PrefixDelivery      = "dlv"
	PrefixAttempt       = "att"
	PrefixPortalSession = "ps"
)

const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// IDGenerator makes time-sortable identifiers. Within one millisecond it
// increments the random part, so identifiers made by one process are strictly
// increasing even when the clock does not advance. It is safe for concurrent use.
type IDGenerator struct {
	mu     sync.Mutex
	now    func() time.Time
	lastMS uint64
	hi     uint16 // top 16 of the 80 random bits
	lo     uint64 // low 64 of the 80 random bits
}

// NewIDGenerator returns a generator reading time from now (time.Now when nil).
func NewIDGenerator(now func() time.Time) *IDGenerator {
	if now == nil {
		now = time.Now
	}
	return &IDGenerator{now: now}
}

// New returns a fresh identifier with the given prefix, such as "evt".
func (g *IDGenerator) New(prefix string) string {
	g.mu.Lock()
	ms := uint64(g.now().UnixMilli())
	if ms <= g.lastMS {
		ms = g.lastMS
		g.lo++
		if g.lo == 0 {
			g.hi++
		}
	} else {
		var b [10]byte
		_, _ = rand.Read(b[:])
		g.hi = binary.BigEndian.Uint16(b[:2]) & 0x7fff // leave headroom for increments
		g.lo = binary.BigEndian.Uint64(b[2:])
		g.lastMS = ms
	}
	hi, lo := g.hi, g.lo
	g.mu.Unlock()

	// 128 bits: 48 of time, 80 random; encode 130 bits (26 chars of 5 bits),
	// the top two bits being zero.
	var buf [16]byte
	binary.BigEndian.PutUint16(buf[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(buf[2:6], uint32(ms))
	binary.BigEndian.PutUint16(buf[6:8], hi)
	binary.BigEndian.PutUint64(buf[8:16], lo)

	var sb strings.Builder
	sb.Grow(len(prefix) + 1 + 26)
	sb.WriteString(prefix)
	sb.WriteByte('_')
	hiBits := binary.BigEndian.Uint64(buf[0:8])
	loBits := binary.BigEndian.Uint64(buf[8:16])
	for i := 25; i >= 0; i-- {
		shift := uint(i * 5)
		var v uint64
		switch {
		case shift >= 64:
			v = hiBits >> (shift - 64)
		case shift+5 > 64:
			v = loBits>>shift | hiBits<<(64-shift)
		default:
			v = loBits >> shift
		}
		sb.WriteByte(crockford[v&31])
	}
	return sb.String()
}

// HasPrefix reports whether id is shaped like an identifier with prefix.
func HasPrefix(id, prefix string) bool {
	rest, ok := strings.CutPrefix(id, prefix+"_")
	if !ok || len(rest) != 26 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if strings.IndexByte(crockford, rest[i]) < 0 {
			return false
		}
	}
	return true
}
