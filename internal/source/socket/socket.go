// Package socket is the TCP listener for the Vault/OpenBao socket audit
// device: the device connects and writes one JSON entry a line, over TLS or
// not.
//
// Lines are gathered per connection into chunks, sent when they reach
// MaxChunk bytes or when the connection has been quiet for Linger, so an
// entry reaches the pipeline well within a second. Vault does not replay
// its audit log, so chunks carry no cursor. The listener never drops a
// line to keep up: when the pipeline is slow it stops reading, and TCP
// slows the device down.
package socket

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"vaultwatch/internal/source"
)

// Defaults for Config's zero values.
const (
	DefaultMaxLine  = 1 << 20
	DefaultMaxConns = 64
	DefaultMaxChunk = 256 << 10
	DefaultLinger   = 50 * time.Millisecond
)

// handshakeTimeout bounds a TLS handshake, so that a client that never
// completes one does not hold a connection slot.
const handshakeTimeout = 10 * time.Second

// Config configures a Listener.
type Config struct {
	// Name is the source's name.
	Name string
	// Addr is the address to listen on, e.g. "127.0.0.1:9090" or ":9090".
	Addr string
	// TLS, when set, makes the listener speak TLS only.
	TLS *tls.Config
	// MaxLine bounds one line (DefaultMaxLine when zero); a longer line is
	// counted as an error and skipped, and the connection goes on.
	MaxLine int
	// MaxConns bounds the connections served at once (DefaultMaxConns
	// when zero); one more is closed at once and counted as an error.
	MaxConns int
	// MaxChunk is the size at which a connection's lines are sent
	// (DefaultMaxChunk when zero).
	MaxChunk int
	// Linger is how long a connection may be quiet before the lines it
	// sent are handed on (DefaultLinger when zero).
	Linger time.Duration
	// Logger receives the listener's reports (nil: discarded). Record
	// contents are never logged.
	Logger *slog.Logger
}

// Listener is a source.Source serving the socket audit device.
type Listener struct {
	source.Counters

	cfg Config
	log *slog.Logger

	mu    sync.Mutex
	ln    net.Listener
	addr  net.Addr
	conns map[net.Conn]struct{}
}

var _ source.Source = (*Listener)(nil)

// Validate returns every problem with cfg, joined.
func (cfg Config) Validate() error {
	var errs []error
	if cfg.Name == "" {
		errs = append(errs, errors.New("socket source: no name"))
	}
	if cfg.Addr == "" {
		errs = append(errs, fmt.Errorf("socket source %q: no address", cfg.Name))
	} else if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		errs = append(errs, fmt.Errorf("socket source %q: address: %w", cfg.Name, err))
	}
	if cfg.MaxLine < 0 || cfg.MaxConns < 0 || cfg.MaxChunk < 0 || cfg.Linger < 0 {
		errs = append(errs, fmt.Errorf("socket source %q: max line, max conns, max chunk and linger must not be negative", cfg.Name))
	}
	return errors.Join(errs...)
}

// New checks cfg and binds the address, so that Addr is known before Run.
func New(cfg Config) (*Listener, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxLine == 0 {
		cfg.MaxLine = DefaultMaxLine
	}
	if cfg.MaxConns == 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.MaxChunk == 0 {
		cfg.MaxChunk = DefaultMaxChunk
	}
	if cfg.Linger == 0 {
		cfg.Linger = DefaultLinger
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Listener{
		cfg:   cfg,
		log:   log.With("component", "source.socket", "source", cfg.Name),
		conns: map[net.Conn]struct{}{},
	}
	l.Init(cfg.Name, "socket", "")
	if err := l.listen(); err != nil {
		return nil, err
	}
	return l, nil
}

// listen binds the address: the configured one at first, then the one
// bound before, so that a restarted listener on ":0" keeps its port.
func (l *Listener) listen() error {
	addr := l.cfg.Addr
	if l.addr != nil {
		addr = l.addr.String()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("socket source %q: %w", l.cfg.Name, err)
	}
	l.addr = ln.Addr()
	if l.cfg.TLS != nil {
		ln = tls.NewListener(ln, l.cfg.TLS)
	}
	l.ln = ln
	return nil
}

// Name returns the source's name.
func (l *Listener) Name() string { return l.cfg.Name }

// Addr returns the address the listener is bound to.
func (l *Listener) Addr() net.Addr {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.addr
}

// Close releases the address when Run is never called.
func (l *Listener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln == nil {
		return nil
	}
	err := l.ln.Close()
	l.ln = nil
	return err
}

// Run serves connections until ctx is cancelled, then closes the listener
// and every connection, sending what each had read, and returns nil. It
// returns an error when it cannot accept connections.
func (l *Listener) Run(ctx context.Context, out chan<- source.Chunk) error {
	l.mu.Lock()
	if l.ln == nil {
		if err := l.listen(); err != nil {
			l.mu.Unlock()
			return err
		}
	}
	ln := l.ln
	l.mu.Unlock()

	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		l.mu.Lock()
		for c := range l.conns {
			c.Close()
		}
		l.mu.Unlock()
	})
	defer func() {
		stop()
		ln.Close()
		l.mu.Lock()
		if l.ln == ln {
			l.ln = nil
		}
		for c := range l.conns {
			c.Close()
		}
		l.mu.Unlock()
		wg.Wait()
	}()

	l.log.Info("listening", "addr", ln.Addr().String(), "tls", l.cfg.TLS != nil)
	var tempDelay time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("socket source %q: listener closed", l.cfg.Name)
			}
			// Out of file descriptors and the like: wait, as
			// net/http does, rather than spin.
			tempDelay = min(max(2*tempDelay, 5*time.Millisecond), time.Second)
			l.Error(fmt.Errorf("accepting a connection: %w", err))
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(tempDelay):
			}
			continue
		}
		tempDelay = 0
		l.mu.Lock()
		full := len(l.conns) >= l.cfg.MaxConns
		if !full {
			l.conns[conn] = struct{}{}
		}
		l.mu.Unlock()
		if full {
			l.Error(fmt.Errorf("tcp %s: refused: %d connections already open", conn.RemoteAddr(), l.cfg.MaxConns))
			l.log.Warn("connection refused: too many open", "remote", conn.RemoteAddr().String(), "max", l.cfg.MaxConns)
			conn.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				conn.Close()
				l.mu.Lock()
				delete(l.conns, conn)
				l.mu.Unlock()
			}()
			l.serve(ctx, conn, out)
		}()
	}
}

// serve reads one connection's lines and sends them in chunks.
func (l *Listener) serve(ctx context.Context, conn net.Conn, out chan<- source.Chunk) {
	origin := "tcp " + conn.RemoteAddr().String()
	log := l.log.With("remote", conn.RemoteAddr().String())
	if tc, ok := conn.(*tls.Conn); ok {
		hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				l.Error(fmt.Errorf("%s: TLS handshake: %w", origin, err))
				log.Warn("TLS handshake failed", "err", err)
			}
			return
		}
	}
	log.Info("connected")
	c := &connReader{l: l, origin: origin, out: out, line: 1}
	buf := make([]byte, 64<<10)
	for {
		if len(c.pending) > 0 {
			conn.SetReadDeadline(time.Now().Add(l.cfg.Linger))
		} else {
			conn.SetReadDeadline(time.Time{})
		}
		n, err := conn.Read(buf)
		c.feed(buf[:n])
		if len(c.pending) >= l.cfg.MaxChunk {
			if !c.flush(ctx) {
				return
			}
		}
		if err == nil {
			continue
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() && ctx.Err() == nil {
			if !c.flush(ctx) {
				return
			}
			continue
		}
		// The connection ended (or the listener is stopping): what it
		// sent is handed on, a last line without its newline too.
		if len(c.partial) > 0 && !c.skipping {
			c.pending = append(c.pending, c.partial...)
			c.partial = nil
		}
		if !c.flush(ctx) {
			// Vault does not send them again.
			l.Error(fmt.Errorf("%s: %d bytes read but not handed on: the listener stopped", origin, len(c.pending)))
			log.Warn("lines read but not handed on: the listener stopped", "bytes", len(c.pending))
		}
		if ctx.Err() == nil && !errors.Is(err, io.EOF) {
			log.Info("connection ended", "err", err)
		} else {
			log.Info("disconnected")
		}
		return
	}
}

// connReader splits one connection's bytes into lines.
type connReader struct {
	l        *Listener
	origin   string
	out      chan<- source.Chunk
	pending  []byte // whole lines not sent yet
	start    int    // the line number of pending's first line
	partial  []byte // the line being read
	line     int    // the line number of partial
	skipping bool   // partial is a line longer than MaxLine, being passed over
}

func (c *connReader) feed(b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		seg := b
		if i >= 0 {
			seg = b[:i]
		}
		if !c.skipping {
			if len(c.partial)+len(seg) > c.l.cfg.MaxLine {
				c.l.Error(fmt.Errorf("%s:%d: line longer than %d bytes: skipped", c.origin, c.line, c.l.cfg.MaxLine))
				c.l.log.Warn("line too long: skipped", "remote", c.origin, "line", c.line, "max", c.l.cfg.MaxLine)
				c.skipping = true
				c.partial = nil
			} else {
				c.partial = append(c.partial, seg...)
			}
		}
		if i < 0 {
			return
		}
		b = b[i+1:]
		switch {
		case c.skipping:
			// An empty line in its place keeps the line numbers of
			// the lines after it right.
			c.skipping = false
			if len(c.pending) > 0 {
				c.pending = append(c.pending, '\n')
			}
		default:
			if len(c.pending) == 0 {
				c.start = c.line
			}
			c.pending = append(c.pending, c.partial...)
			c.pending = append(c.pending, '\n')
		}
		c.partial = c.partial[:0]
		c.line++
	}
}

// flush sends the pending lines; false when ctx ended first.
func (c *connReader) flush(ctx context.Context) bool {
	if len(c.pending) == 0 {
		return true
	}
	data := c.pending
	ch := source.Chunk{
		Source: c.l.cfg.Name,
		Origin: c.origin,
		Line:   c.start,
		Data:   data,
		Done: func(res source.Result) {
			if res.Err != nil {
				c.l.Error(fmt.Errorf("%s: lines not stored: %w", c.origin, res.Err))
			}
		},
	}
	select {
	case c.out <- ch:
	case <-ctx.Done():
		return false
	}
	records := int64(bytes.Count(data, []byte{'\n'}))
	if data[len(data)-1] != '\n' {
		records++
	}
	c.l.Read(records, int64(len(data)), time.Now())
	c.pending = nil
	return true
}
