package worker_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawReceiver is a receiver on a loopback TCP listener that speaks HTTP by
// hand, so that it can misbehave in ways net/http servers never do: hang
// after the request, trickle a status line, stream headers or bodies that
// never end. It counts the connections it holds, which tells whether the
// sender closes the ones it gives up on.
type rawReceiver struct {
	ln    net.Listener
	serve func(c net.Conn, br *bufio.Reader)
	wg    sync.WaitGroup

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	maxOpen  int
	accepted int
}

func startRawReceiver(t *testing.T, serve func(c net.Conn, br *bufio.Reader)) *rawReceiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &rawReceiver{ln: ln, serve: serve, conns: map[net.Conn]struct{}{}}
	r.wg.Add(1)
	go r.acceptLoop()
	t.Cleanup(r.close)
	return r
}

func (r *rawReceiver) acceptLoop() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		r.conns[c] = struct{}{}
		r.accepted++
		r.maxOpen = max(r.maxOpen, len(r.conns))
		r.mu.Unlock()
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer func() {
				_ = c.Close()
				r.mu.Lock()
				delete(r.conns, c)
				r.mu.Unlock()
			}()
			r.serve(c, bufio.NewReader(c))
		}()
	}
}

// close stops the listener, cuts every connection and waits for the
// handlers, so no goroutine of a test outlives it.
func (r *rawReceiver) close() {
	_ = r.ln.Close()
	r.mu.Lock()
	for c := range r.conns {
		_ = c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

func (r *rawReceiver) URL() string { return "http://" + r.ln.Addr().String() + "/hook" }

// open is the number of connections the receiver holds now; peak the most
// it held at once.
func (r *rawReceiver) open() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.conns)
}

func (r *rawReceiver) peak() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.maxOpen
}

// readRequest reads one request with its body; false when the client went
// away first.
func readRequest(br *bufio.Reader) bool {
	req, err := http.ReadRequest(br)
	if err != nil {
		return false
	}
	_, err = io.Copy(io.Discard, req.Body)
	return err == nil
}

// trickle writes b one byte every interval until a write fails (the sender
// hung up) or limit bytes are out.
func trickle(c net.Conn, b byte, interval time.Duration, limit int) {
	for range limit {
		if _, err := c.Write([]byte{b}); err != nil {
			return
		}
		time.Sleep(interval)
	}
}

// flood writes chunk until a write fails: the sender must hang up, since
// the stream never ends by itself.
func flood(c net.Conn, chunk []byte) {
	for {
		if _, err := c.Write(chunk); err != nil {
			return
		}
	}
}

// hostileBehaviour is one way of abusing a sender, described by what the
// attempt must record.
type hostileBehaviour struct {
	name  string
	serve func(c net.Conn, br *bufio.Reader)
	// wantErr is the attempt's error; "%T" stands for the attempt timeout.
	wantErr    string
	wantStatus int
	// hangs is set when the attempt lasts its whole timeout; otherwise it
	// must end well before.
	hangs bool
}

func (h hostileBehaviour) err(timeout time.Duration) string {
	return strings.ReplaceAll(h.wantErr, "%T", timeout.String())
}

// hostileBehaviours are the raw receivers every hostile-receiver test runs
// against. None of them ever stops by itself: each ends only when the
// sender gives up and closes the connection (or the test ends).
func hostileBehaviours() []hostileBehaviour {
	const forever = 1 << 30
	endless := bytes.Repeat([]byte("z"), 32<<10)
	chunk := append(append([]byte(strconv.FormatInt(int64(len(endless)), 16)+"\r\n"), endless...), "\r\n"...)
	return []hostileBehaviour{
		{
			name: "accepts the request and never answers",
			serve: func(c net.Conn, br *bufio.Reader) {
				if readRequest(br) {
					_, _ = io.Copy(io.Discard, br) // until the sender hangs up
				}
			},
			wantErr: "timeout after %T waiting for the response", hangs: true,
		},
		{
			name: "trickles the status line and headers, a byte every 50ms",
			serve: func(c net.Conn, br *bufio.Reader) {
				if readRequest(br) {
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Slow: ")
					trickle(c, 'a', 50*time.Millisecond, forever)
				}
			},
			wantErr: "timeout after %T waiting for the response", hangs: true,
		},
		{
			name: "answers 200 and trickles the body, a byte every 50ms",
			serve: func(c net.Conn, br *bufio.Reader) {
				if readRequest(br) {
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
					trickle(c, 'x', 50*time.Millisecond, forever)
				}
			},
			wantErr: "timeout after %T reading the response body", wantStatus: 200, hangs: true,
		},
		{
			name: "answers 200 with a 10 GiB body",
			serve: func(c net.Conn, br *bufio.Reader) {
				if readRequest(br) {
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10737418240\r\n\r\n")
					flood(c, endless)
				}
			},
			wantStatus: 200, // the excerpt is all webhookd wants of a body
		},
		{
			name: "answers 200 with 4 KiB at once, then trickles the rest",
			serve: func(c net.Conn, br *bufio.Reader) {
				if readRequest(br) {
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 40000\r\n\r\n")
					_, _ = c.Write(endless[:8<<10])
					trickle(c, 'z', 50*time.Millisecond, forever)
				}
			},
			// The excerpt is complete: a success that does not wait for
			// the rest, which is not worth a worker's time.
			wantStatus: 200,
		},
		{
			name: "answers 500 with an endless chunked body",
			serve: func(c net.Conn, br *bufio.Reader) {
				if readRequest(br) {
					_, _ = io.WriteString(c, "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n")
					flood(c, chunk)
				}
			},
			wantErr: "unexpected status 500", wantStatus: 500,
		},
		{
			name: "sends headers that never end",
			serve: func(c net.Conn, br *bufio.Reader) {
				if readRequest(br) {
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\n")
					flood(c, []byte("X-Pad: "+strings.Repeat("a", 1000)+"\r\n"))
				}
			},
			wantErr: "response headers longer than 64 KiB (1xx responses included); connection closed",
		},
		{
			name: "sends 103 Early Hints forever",
			serve: func(c net.Conn, br *bufio.Reader) {
				if readRequest(br) {
					flood(c, []byte("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"))
				}
			},
			wantErr: "response headers longer than 64 KiB (1xx responses included); connection closed",
		},
	}
}
