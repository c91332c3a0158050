package payload

import (
	"bytes"
	"cmp"
	"slices"
)

// member records where one object member landed in the output: the quoted
// key is out[start:keyEnd], a ':' follows, and the value is out[keyEnd+1:end].
// Values are already canonical when recorded, so putting an object into
// JavaScript property order only moves these byte ranges.
type member struct {
	start, keyEnd, end int
	// index is the key's value as an array index, or -1 if it is not one.
	index int64
}

// entry is one distinct key of an object being reordered: the key keeps the
// position of its first occurrence and takes the value of its last, as
// JSON.parse's CreateDataProperty redefines an existing property in place.
type entry struct {
	first, last int32
}

// smallObject is the member count up to which duplicate keys are found by
// comparing every pair; larger objects sort their keys instead.
const smallObject = 16

// maxArrayIndex is 2^32-2, the largest array index. V8 enumerates keys that
// are array indices before all other keys, in ascending numeric order
// (ECMAScript OrdinaryOwnPropertyKeys); "4294967295" is an ordinary key.
const maxArrayIndex = 1<<32 - 2

func (c *canonicalizer) object(out []byte) ([]byte, error) {
	if err := c.enter(); err != nil {
		return out, err
	}
	c.pos++
	objStart := len(out)
	out = append(out, '{')
	if c.members == nil {
		// One allocation covers the members of typical payloads, instead of
		// growing from nothing.
		c.members = make([]member, 0, 32)
	}
	base := len(c.members)
	c.skipSpace()
	if c.pos < len(c.in) && c.in[c.pos] == '}' {
		c.pos++
		c.depth--
		return append(out, '}'), nil
	}
	// inOrder stays true while the members seen so far are already in
	// JavaScript order (array indices ascending, all before other keys), so
	// the common object is written once and never moved.
	inOrder := true
	sawNamed := false
	lastIndex := int64(-1)
	var lastNamed []byte // with c.sorted: the previous named key
	for {
		c.skipSpace()
		if c.pos >= len(c.in) || c.in[c.pos] != '"' {
			return out, syntaxError(c.pos, "expected double-quoted property name, found %s", describeAt(c.in, c.pos))
		}
		start := len(out)
		var err error
		if out, err = c.string(out); err != nil {
			return out, err
		}
		keyEnd := len(out)
		c.skipSpace()
		if c.pos >= len(c.in) || c.in[c.pos] != ':' {
			return out, syntaxError(c.pos, "expected ':' after property name, found %s", describeAt(c.in, c.pos))
		}
		c.pos++
		out = append(out, ':')
		if out, err = c.value(out); err != nil {
			return out, err
		}
		index := arrayIndex(out[start+1 : keyEnd-1])
		if index >= 0 {
			if sawNamed || index <= lastIndex {
				inOrder = false
			}
			lastIndex = index
		} else {
			sawNamed = true
			if c.sorted {
				k := out[start+1 : keyEnd-1] // unquoted: '"' sorts after ' ' and '!'
				if bytes.IndexByte(k, '\\') >= 0 {
					c.unsorted = true
				}
				if lastNamed != nil && bytes.Compare(k, lastNamed) <= 0 {
					inOrder = false
				}
				lastNamed = k
			}
		}
		c.members = append(c.members, member{start: start, keyEnd: keyEnd, end: len(out), index: index})
		c.skipSpace()
		if c.pos >= len(c.in) {
			return out, syntaxError(c.pos, "expected ',' or '}' after property value, found end of input")
		}
		if c.in[c.pos] == ',' {
			c.pos++
			out = append(out, ',')
			continue
		}
		if c.in[c.pos] != '}' {
			return out, syntaxError(c.pos, "expected ',' or '}' after property value, found %s", describeAt(c.in, c.pos))
		}
		c.pos++
		out = append(out, '}')
		break
	}
	// Duplicate array-index keys already broke inOrder; duplicate named keys
	// must be looked for.
	switch {
	case c.sorted && !inOrder:
		// In sorted order named keys ascend strictly, so only an object out
		// of order can have a duplicate.
		if c.hasDuplicateKey(out, c.members[base:]) {
			c.unsorted = true
		}
		out = c.reorder(out, objStart, c.members[base:])
	case c.sorted:
	case !inOrder || c.hasDuplicateKey(out, c.members[base:]):
		out = c.reorder(out, objStart, c.members[base:])
	}
	c.members = c.members[:base]
	c.depth--
	return out, nil
}

// arrayIndex returns the array index a canonical key spells ("0", or digits
// without a leading zero, at most 2^32-2), or -1. Keys are compared after
// unescaping, so "\u0031" counts as "1", as it does in JavaScript.
func arrayIndex(key []byte) int64 {
	if len(key) == 0 || len(key) > 10 || (key[0] == '0' && len(key) > 1) {
		return -1
	}
	var n int64
	for _, b := range key {
		if b < '0' || b > '9' {
			return -1
		}
		n = n*10 + int64(b-'0')
	}
	if n > maxArrayIndex {
		return -1
	}
	return n
}

func key(out []byte, m member) []byte { return out[m.start:m.keyEnd] }

// hasDuplicateKey compares canonical key bytes: canonical escaping is a
// one-to-one function of the JavaScript string, so equal strings and only
// equal strings have equal bytes.
func (c *canonicalizer) hasDuplicateKey(out []byte, ms []member) bool {
	if len(ms) <= smallObject {
		for i := 1; i < len(ms); i++ {
			ki := key(out, ms[i])
			for j := 0; j < i; j++ {
				if bytes.Equal(ki, key(out, ms[j])) {
					return true
				}
			}
		}
		return false
	}
	c.sortByKey(out, ms)
	for i := 1; i < len(c.order); i++ {
		if bytes.Equal(key(out, ms[c.order[i-1]]), key(out, ms[c.order[i]])) {
			return true
		}
	}
	return false
}

// sortByKey fills c.order with the indices of ms sorted by key, equal keys
// in input order.
func (c *canonicalizer) sortByKey(out []byte, ms []member) {
	c.order = c.order[:0]
	for i := range ms {
		c.order = append(c.order, int32(i))
	}
	slices.SortFunc(c.order, func(a, b int32) int {
		if r := bytes.Compare(key(out, ms[a]), key(out, ms[b])); r != 0 {
			return r
		}
		return cmp.Compare(a, b)
	})
}

// reorder rewrites the object that starts at out[objStart] and whose members
// are ms into JavaScript own-property order, keeping one member per distinct
// key.
func (c *canonicalizer) reorder(out []byte, objStart int, ms []member) []byte {
	c.sortByKey(out, ms)
	c.entries = c.entries[:0]
	for i := 0; i < len(c.order); {
		j := i
		for j+1 < len(c.order) && bytes.Equal(key(out, ms[c.order[i]]), key(out, ms[c.order[j+1]])) {
			j++
		}
		c.entries = append(c.entries, entry{first: c.order[i], last: c.order[j]})
		i = j + 1
	}
	slices.SortFunc(c.entries, func(a, b entry) int {
		ia, ib := ms[a.first].index, ms[b.first].index
		switch {
		case ia >= 0 && ib >= 0:
			return cmp.Compare(ia, ib)
		case ia >= 0:
			return -1
		case ib >= 0:
			return 1
		case c.sorted:
			ka, kb := key(out, ms[a.first]), key(out, ms[b.first])
			return bytes.Compare(ka[1:len(ka)-1], kb[1:len(kb)-1])
		default:
			return cmp.Compare(a.first, b.first)
		}
	})
	c.scratch = append(c.scratch[:0], out[objStart:]...)
	old := c.scratch
	out = append(out[:objStart], '{')
	for i, e := range c.entries {
		if i > 0 {
			out = append(out, ',')
		}
		k, v := ms[e.first], ms[e.last]
		out = append(out, old[k.start-objStart:k.keyEnd-objStart]...)
		out = append(out, old[v.keyEnd-objStart:v.end-objStart]...) // ':' and value
	}
	return append(out, '}')
}
