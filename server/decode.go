package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	encodingproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/webhookd/webhookd"
)

// This file is where a request becomes a message a handler may trust, on
// both surfaces, before any handler, store or database sees it: every
// request that cannot be decoded, or carries a string that cannot be
// stored, is INVALID_ARGUMENT with a google.rpc.BadRequest naming the
// field (or "body"/"query" for REST input the gateway could not read).
//
//   - gRPC: the server's codec (requestCodec) decodes requests of
//     webhookd's services itself, so that a failure (invalid UTF-8, nesting
//     past protobuf's limit, a malformed encoding) names the field instead
//     of becoming gRPC's bare INTERNAL; checkStrings then refuses NUL.
//   - REST: the gateway's in-process connection (inprocess.go) runs
//     checkStrings on the request the gateway built (an invalid UTF-8 path
//     or query value, such as /v1/endpoints/ep_%ff), and the gateway's
//     JSON and query decoding errors get their field violation in
//     gatewayDecodeError.

// checkStrings refuses a request with a string field that is not valid
// UTF-8 or holds a NUL byte: PostgreSQL's text and JSON types cannot store
// NUL ("invalid byte sequence for encoding UTF8: 0x00"), and neither can be
// a name, key, filter or description anyone meant. It names the field as
// the API's other errors do (endpoint.description, event_types[0]). An
// event's data (google.protobuf.Struct) is not walked: it is stored as the
// bytes of its JSON form, where a NUL is the escape \u0000.
func checkStrings(m proto.Message) error {
	return checkMessageStrings(m.ProtoReflect(), "")
}

func checkMessageStrings(m protoreflect.Message, prefix string) error {
	if isStructType(m.Descriptor().FullName()) {
		return nil
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		path := prefix + string(fd.Name())
		switch {
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				if fd.MapKey().Kind() == protoreflect.StringKind {
					err = checkString(path, k.String())
				}
				if err == nil {
					err = checkValueStrings(fd.MapValue(), mv, path)
				}
				return err == nil
			})
		case fd.IsList():
			list := v.List()
			for i := 0; i < list.Len() && err == nil; i++ {
				err = checkValueStrings(fd, list.Get(i), path+"["+strconv.Itoa(i)+"]")
			}
		default:
			err = checkValueStrings(fd, v, path)
		}
		return err == nil
	})
	return err
}

func checkValueStrings(fd protoreflect.FieldDescriptor, v protoreflect.Value, path string) error {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return checkString(path, v.String())
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return checkMessageStrings(v.Message(), path+".")
	}
	return nil
}

func checkString(field, s string) error {
	switch {
	case !utf8.ValidString(s):
		return webhookd.Invalid(field, "is not valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		return webhookd.Invalid(field, "must not contain NUL (\\u0000)")
	}
	return nil
}

// isStructType reports the well-known types of free-form JSON: field paths
// stop at them (event.data, not event.data.fields["a"].struct_value…).
func isStructType(name protoreflect.FullName) bool {
	switch name {
	case "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue":
		return true
	}
	return false
}

// decodeTarget is what decodeRequest hands gRPC to decode into: the
// request message, and the field-naming error requestCodec leaves when it
// cannot be decoded. A failed decode is reported this way, not as the
// codec's error, because gRPC turns a codec's error into a bare INTERNAL.
type decodeTarget struct {
	msg proto.Message
	err error
}

// requestCodec is the gRPC server's codec: protobuf, as gRPC's default,
// except that it decodes decodeTargets itself.
type requestCodec struct {
	encoding.CodecV2 // gRPC's protobuf codec, for everything else
}

func newRequestCodec() requestCodec {
	return requestCodec{CodecV2: encoding.GetCodecV2(encodingproto.Name)}
}

func (c requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	t, ok := v.(*decodeTarget)
	if !ok {
		return c.CodecV2.Unmarshal(data, v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	if err := proto.Unmarshal(buf.ReadOnlyData(), t.msg); err != nil {
		t.err = decodeFault(buf.ReadOnlyData(), t.msg.ProtoReflect().Descriptor(), err)
	}
	return nil
}

// decodeFault names the field of b that proto.Unmarshal could not decode
// (err): it walks the encoding as the decoder does, to the first string
// that is not UTF-8, the first message nested past the decoder's limit, or
// the first malformed field. "body" when the fault is not in a field.
func decodeFault(b []byte, md protoreflect.MessageDescriptor, err error) error {
	w := faultWalker{depth: protowire.DefaultRecursionLimit}
	if fault := w.message(b, md, ""); fault != nil {
		return fault
	}
	return webhookd.Invalid("body", "could not be decoded: %s", strings.TrimPrefix(err.Error(), "proto: "))
}

type faultWalker struct{ depth int }

func (w *faultWalker) message(b []byte, md protoreflect.MessageDescriptor, path string) error {
	if w.depth--; w.depth < 0 {
		return webhookd.Invalid(fieldOr(path), "is nested too deeply (more than %d levels of messages)", protowire.DefaultRecursionLimit)
	}
	defer func() { w.depth++ }()
	// Paths name the field holding a map or free-form JSON, not the
	// entries inside: endpoint.headers, event.data.
	keepPath := md.IsMapEntry() || isStructType(md.FullName())
	counts := map[protowire.Number]int{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return webhookd.Invalid(fieldOr(path), "is not a valid protobuf encoding")
		}
		fd := md.Fields().ByNumber(num)
		field := path
		if fd != nil && !keepPath {
			field = joinPath(path, string(fd.Name()))
			if fd.IsList() {
				field += "[" + strconv.Itoa(counts[num]) + "]"
				counts[num]++
			}
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return webhookd.Invalid(fieldOr(field), "is not a valid protobuf encoding")
		}
		value := b[n : n+m]
		b = b[n+m:]
		if fd == nil || typ != protowire.BytesType {
			continue // unknown fields and scalars decode, or are kept as unknown
		}
		value, _ = protowire.ConsumeBytes(value)
		switch {
		case fd.Kind() == protoreflect.StringKind:
			if !utf8.Valid(value) {
				return webhookd.Invalid(fieldOr(field), "is not valid UTF-8")
			}
		case fd.Kind() == protoreflect.MessageKind:
			if err := w.message(value, fd.Message(), field); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func fieldOr(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// decodeCheckedService returns a copy of desc whose handlers decode
// requests through requestCodec and checkStrings, so that every request
// of the service is refused, naming the field, before the interceptors
// and the handler see it.
func decodeCheckedService(desc *grpc.ServiceDesc, logger *slog.Logger) *grpc.ServiceDesc {
	out := *desc
	out.Methods = make([]grpc.MethodDesc, len(desc.Methods))
	for i, md := range desc.Methods {
		method := "/" + desc.ServiceName + "/" + md.MethodName
		handler := md.Handler
		md.Handler = func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			// A unary request is decoded before the interceptors run, so
			// its error is mapped here, the way the error interceptor would.
			return handler(srv, ctx, func(v any) error {
				return toStatus(ctx, logger, method, decodeRequest(dec, v))
			}, interceptor)
		}
		out.Methods[i] = md
	}
	out.Streams = make([]grpc.StreamDesc, len(desc.Streams))
	for i, sd := range desc.Streams {
		handler := sd.Handler
		sd.Handler = func(srv any, ss grpc.ServerStream) error {
			return handler(srv, decodeCheckedStream{ss})
		}
		out.Streams[i] = sd
	}
	return &out
}

// decodeRequest decodes one request with recv (gRPC's, which reads the
// message and calls the codec) and checks its strings.
func decodeRequest(recv func(any) error, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return recv(v)
	}
	t := &decodeTarget{msg: m}
	if err := recv(t); err != nil {
		return err // not a decoding failure: too large, canceled, end of stream
	}
	if t.err != nil {
		return t.err
	}
	return checkStrings(m)
}

// decodeCheckedStream decodes a stream's requests as decodeRequest does;
// its errors reach the error interceptor through the handler.
type decodeCheckedStream struct{ grpc.ServerStream }

func (s decodeCheckedStream) RecvMsg(m any) error { return decodeRequest(s.ServerStream.RecvMsg, m) }

// bodyDecoding is the gateway's JSON marshaler, whose decoding errors say
// they are about the body: the gateway reports every decoding failure,
// body or query, as the same bare INVALID_ARGUMENT.
type bodyDecoding struct{ *runtime.JSONPb }

func (b bodyDecoding) NewDecoder(r io.Reader) runtime.Decoder {
	d := b.JSONPb.NewDecoder(r)
	return runtime.DecoderFunc(func(v any) error {
		if err := d.Decode(v); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("%s%s", bodyErrorPrefix, strings.TrimPrefix(err.Error(), "proto: "))
		}
		return nil
	})
}

const bodyErrorPrefix = "body: "

// gatewayQueryField finds the parameter in the gateway's query errors
// (`parsing field "page_size": …`, `parsing list "statuses": …`).
var gatewayQueryField = regexp.MustCompile(`^(?:parsing (?:field|list|map key|map value)|duplicate field) "([^"]+)"`)

// gatewayDecodeError gives the gateway's own INVALID_ARGUMENT errors, which
// carry no details, the BadRequest field violation every other invalid
// request has: "body" for a body that is not the JSON of the request
// (malformed, a duplicate key, a lone surrogate such as "\ud800", invalid
// UTF-8), the parameter for a query value it could not parse, "query"
// otherwise. Errors from the gRPC server already carry theirs.
func gatewayDecodeError(err error) error {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument || len(st.Details()) > 0 {
		return err
	}
	field, msg := "query", st.Message()
	if rest, ok := strings.CutPrefix(msg, bodyErrorPrefix); ok {
		field, msg = "body", rest
		if msg == io.ErrUnexpectedEOF.Error() {
			// protojson's word for a JSON text that ends early, and also for
			// a \u escape of a lone UTF-16 surrogate near the end of one.
			msg = "is not valid JSON: it ends early, or has a \\u escape of a lone UTF-16 surrogate (such as \"\\ud800\")"
		}
	} else if m := gatewayQueryField.FindStringSubmatch(msg); m != nil {
		field = m[1]
	}
	withDetails, derr := status.New(codes.InvalidArgument, field+": "+msg).WithDetails(&errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: msg}},
	})
	if derr != nil {
		return err
	}
	return withDetails.Err()
}
