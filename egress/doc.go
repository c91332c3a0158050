// Package egress is webhookd's policy on outbound requests: which endpoint
// URLs and custom headers the API accepts, and which hosts, addresses and
// headers the sender will put on the wire.
//
// The two halves live in one package because each is only as good as its
// agreement with the other. A URL the API accepts must be one the sender
// will dial, or an endpoint is saved only to fail every attempt; a host the
// sender refuses (a numeric form the resolvers read differently) must be
// refused when the endpoint is saved, with a message naming the field; and a
// header the API accepts must be one the sender sends, from the one list of
// reserved names. Package server calls CheckURL and CheckHeaders when an
// endpoint is saved; package worker's Sender dials through
// AddressPolicy.Dialer and applies IsNonCanonicalIPv4, IsReservedHeader
// and CheckHeader to every request, endpoints stored under older rules
// included.
//
// What is checked where follows from what can be known when. The URL's
// form is fixed when it is saved, so CheckURL judges it then. The address
// it leads to is not: a hostname may resolve to a public address when saved
// and to 127.0.0.1 a second later, so AddressPolicy judges every address
// at connect time, after DNS.
//
// egress depends only on the standard library and golang.org/x/net: it
// knows nothing of storage, transports or the engine, so that both the API
// and the sender can import it.
package egress
