// Package payload turns the JSON a publisher hands us into the exact bytes
// webhookd sends to receivers.
//
// Why this exists: the public integration guide tells receivers to verify our
// signature by computing HMAC-SHA256 over timestamp + JSON.stringify(req.body)
// after Express's express.json(), not over the raw bytes on the wire. A
// receiver following the guide therefore re-serialises our body with V8 before
// hashing it. The signature only verifies if the body we sign and send is
// already a fixed point of JSON.stringify(JSON.parse(body)) in Node.js, byte
// for byte: JavaScript number formatting, JavaScript string escaping, and the
// JavaScript own-property order of objects (array-index keys first in
// ascending numeric order, then the other keys in first-insertion order).
//
// Canonicalize computes exactly what Node.js returns for
// JSON.stringify(JSON.parse(raw)) when raw is decoded as UTF-8 the way Express
// decodes request bodies (invalid byte sequences become U+FFFD, one per
// maximal ill-formed subpart, as in the WHATWG UTF-8 decoder). It is a small
// hand-written scanner that writes straight into one output buffer because it
// runs on the publish hot path; it never builds maps or uses reflection.
//
// Known, deliberate divergences from Node.js (each refuses input rather than
// producing a different body, so a mismatch can never be signed):
//
//   - Nesting deeper than MaxDepth is refused with ReasonTooDeep. V8's
//     JSON.parse is iterative and accepts any depth, and its JSON.stringify
//     recurses until about 4,000 levels on a default stack; no real event comes
//     close to MaxDepth, and a fixed bound keeps our recursion and memory small.
//   - Error offsets are byte offsets into the input; V8 reports UTF-16 code
//     unit positions and words its messages differently. Only the decision
//     (accept or throw) has to match, not the text.
//
// A leading UTF-8 byte order mark is refused, as JSON.parse refuses it (body
// parsers that strip it do so before JSON.parse; we never emit one).
package payload
