package server

import (
	"context"
	"io"
	"log/slog"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// This file is the REST gateway's connection to the API. The gateway used
// to dial this process's own gRPC listener: every REST call was encoded as
// protobuf, framed in HTTP/2, sent over loopback TCP, decoded again, and its
// answer went the same way back — a quarter of the CPU of a REST publish.
// inProcessConn calls the service's handlers directly instead, through the
// same interceptor chain the gRPC server runs (grpcChain), so that panic
// recovery, error mapping, failed-authentication limits, authentication and
// rate limits are written once and run once per call on both surfaces.
// (grpc-gateway's RegisterXHandlerServer would call the handlers directly
// too, but past every interceptor.)

// grpcChain is the interceptor chain of webhookd's API, run by the gRPC
// server for its calls and by inProcessConn for the gateway's.
type grpcChain struct {
	unary  grpc.UnaryServerInterceptor
	stream grpc.StreamServerInterceptor
}

// chainUnary composes interceptors, the first outermost, as
// grpc.ChainUnaryInterceptor does.
func chainUnary(interceptors []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return unaryFrom(interceptors, info, handler)(ctx, req)
	}
}

func unaryFrom(interceptors []grpc.UnaryServerInterceptor, info *grpc.UnaryServerInfo, final grpc.UnaryHandler) grpc.UnaryHandler {
	if len(interceptors) == 0 {
		return final
	}
	return func(ctx context.Context, req any) (any, error) {
		return interceptors[0](ctx, req, info, unaryFrom(interceptors[1:], info, final))
	}
}

// chainStream composes stream interceptors, the first outermost.
func chainStream(interceptors []grpc.StreamServerInterceptor) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return streamFrom(interceptors, info, handler)(srv, ss)
	}
}

func streamFrom(interceptors []grpc.StreamServerInterceptor, info *grpc.StreamServerInfo, final grpc.StreamHandler) grpc.StreamHandler {
	if len(interceptors) == 0 {
		return final
	}
	return func(srv any, ss grpc.ServerStream) error {
		return interceptors[0](srv, ss, info, streamFrom(interceptors[1:], info, final))
	}
}

// inProcessKey marks the context of a call made through inProcessConn.
// Unlike metadata, a context value cannot come from a client.
type inProcessKey struct{}

// calledInProcess reports whether ctx is an inProcessConn call's: a REST
// call, whose HTTP middleware has seen its client already.
func calledInProcess(ctx context.Context) bool { return ctx.Value(inProcessKey{}) != nil }

// inProcessConn is a grpc.ClientConnInterface whose calls run the handlers
// of registered services in this process. A request reaches its handler as
// the gateway built it, never encoded; its strings are checked as the gRPC
// server's decoding checks them (checkStrings), and the outgoing metadata
// the gateway made of the HTTP headers becomes the call's incoming
// metadata. It serves unary and server-streaming methods, the only kinds
// the gateway maps.
type inProcessConn struct {
	chain   grpcChain
	logger  *slog.Logger
	unary   map[string]inProcessMethod
	streams map[string]inProcessStream
}

type inProcessMethod struct {
	srv     any
	handler grpc.MethodHandler
}

type inProcessStream struct {
	srv  any
	desc grpc.StreamDesc
}

var _ grpc.ClientConnInterface = (*inProcessConn)(nil)

func newInProcessConn(chain grpcChain, logger *slog.Logger) *inProcessConn {
	return &inProcessConn{chain: chain, logger: logger, unary: map[string]inProcessMethod{}, streams: map[string]inProcessStream{}}
}

// register adds the methods of desc, served by srv.
func (c *inProcessConn) register(desc *grpc.ServiceDesc, srv any) {
	for _, md := range desc.Methods {
		c.unary["/"+desc.ServiceName+"/"+md.MethodName] = inProcessMethod{srv: srv, handler: md.Handler}
	}
	for _, sd := range desc.Streams {
		c.streams["/"+desc.ServiceName+"/"+sd.StreamName] = inProcessStream{srv: srv, desc: sd}
	}
}

// callContext is the server side's context of a call made with ctx.
func callContext(ctx context.Context) context.Context {
	md, _ := metadata.FromOutgoingContext(ctx)
	ctx = metadata.NewIncomingContext(ctx, md)
	return context.WithValue(ctx, inProcessKey{}, true)
}

// invoke runs the interceptor chain around handler for req, a request of
// method as a handler receives it.
func (c *inProcessConn) invoke(ctx context.Context, method string, req proto.Message, handler grpc.UnaryHandler) (any, error) {
	ctx = callContext(ctx)
	if err := checkStrings(req); err != nil {
		return nil, toStatus(ctx, c.logger, method, err)
	}
	return c.chain.unary(ctx, req, &grpc.UnaryServerInfo{FullMethod: method}, handler)
}

// Invoke calls a unary method. The generated handler is given a decoder
// that leaves its fresh request empty and an interceptor that passes args
// on in its place, so the handler runs on the gateway's request as it is.
func (c *inProcessConn) Invoke(ctx context.Context, method string, args, reply any, _ ...grpc.CallOption) error {
	m, ok := c.unary[method]
	req, isMsg := args.(proto.Message)
	if !ok || !isMsg {
		return status.Errorf(codes.Unimplemented, "unknown method %s", method)
	}
	ctx = callContext(ctx)
	if err := checkStrings(req); err != nil {
		return toStatus(ctx, c.logger, method, err)
	}
	resp, err := m.handler(m.srv, ctx, func(any) error { return nil },
		func(ctx context.Context, _ any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			return c.chain.unary(ctx, req, info, handler)
		})
	if err != nil {
		return err
	}
	out, ok := reply.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "%s: reply %T is not a message", method, reply)
	}
	proto.Merge(out, resp.(proto.Message))
	return nil
}

// NewStream opens a server-streaming call: the handler starts once the
// request is sent and the stream closed for sending, as the gateway does.
func (c *inProcessConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, _ ...grpc.CallOption) (grpc.ClientStream, error) {
	st, ok := c.streams[method]
	if !ok || desc.ClientStreams || !desc.ServerStreams {
		return nil, status.Errorf(codes.Unimplemented, "method %s cannot be called in process", method)
	}
	ctx, cancel := context.WithCancel(callContext(ctx))
	return &inProcessClientStream{conn: c, st: st, method: method, ctx: ctx, cancel: cancel, msgs: make(chan proto.Message), done: make(chan struct{})}, nil
}

// inProcessClientStream is the gateway's end of a server-streaming call;
// inProcessServerStream is the handler's.
type inProcessClientStream struct {
	conn   *inProcessConn
	st     inProcessStream
	method string
	ctx    context.Context
	cancel context.CancelFunc

	req   proto.Message
	start sync.Once
	msgs  chan proto.Message
	done  chan struct{} // closed when the handler returned, err set
	err   error
}

func (s *inProcessClientStream) Header() (metadata.MD, error) { return nil, nil }
func (s *inProcessClientStream) Trailer() metadata.MD         { return nil }
func (s *inProcessClientStream) Context() context.Context     { return s.ctx }

func (s *inProcessClientStream) SendMsg(m any) error {
	req, ok := m.(proto.Message)
	if !ok || s.req != nil {
		return status.Error(codes.Internal, "a server-streaming call takes one request message")
	}
	s.req = req
	return nil
}

func (s *inProcessClientStream) CloseSend() error {
	s.start.Do(func() { go s.run() })
	return nil
}

func (s *inProcessClientStream) run() {
	defer close(s.done)
	defer s.cancel()
	if err := checkStrings(s.req); err != nil {
		s.err = toStatus(s.ctx, s.conn.logger, s.method, err)
		return
	}
	ss := &inProcessServerStream{client: s}
	s.err = s.conn.chain.stream(s.st.srv, ss, &grpc.StreamServerInfo{FullMethod: s.method, IsServerStream: true}, s.st.desc.Handler)
}

func (s *inProcessClientStream) RecvMsg(m any) error {
	if err := s.CloseSend(); err != nil {
		return err
	}
	select {
	case msg := <-s.msgs:
		proto.Merge(m.(proto.Message), msg)
		return nil
	case <-s.done:
		if s.err != nil {
			return s.err
		}
		return io.EOF
	}
}

type inProcessServerStream struct {
	client   *inProcessClientStream
	received bool
}

func (s *inProcessServerStream) SetHeader(metadata.MD) error  { return nil }
func (s *inProcessServerStream) SendHeader(metadata.MD) error { return nil }
func (s *inProcessServerStream) SetTrailer(metadata.MD)       {}
func (s *inProcessServerStream) Context() context.Context     { return s.client.ctx }

func (s *inProcessServerStream) SendMsg(m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "%T is not a message", m)
	}
	select {
	case s.client.msgs <- msg:
		return nil
	case <-s.client.ctx.Done():
		return status.FromContextError(s.client.ctx.Err()).Err()
	}
}

func (s *inProcessServerStream) RecvMsg(m any) error {
	if s.received || s.client.req == nil {
		return io.EOF
	}
	s.received = true
	proto.Merge(m.(proto.Message), s.client.req)
	return nil
}
