//go:build linux || darwin || freebsd

package syslogsink

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"syscall"
	"time"
)

// peerClosed reports whether the receiver closed c (or reset it), by
// peeking at the socket without blocking: end of file means closed; no data
// (EAGAIN) or pending data means open.
//
// On TLS, pending data is read through TLS: it is the receiver's
// close_notify, or session tickets sent after the handshake.
func peerClosed(c net.Conn) bool {
	tc, isTLS := c.(*tls.Conn)
	if isTLS {
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed, pending := false, false
	var b [1]byte
	err = raw.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case rerr == nil:
			closed, pending = n == 0, n > 0
		case errors.Is(rerr, syscall.EAGAIN), errors.Is(rerr, syscall.EINTR):
		default:
			closed = true
		}
		return true // never wait
	})
	if err != nil || closed {
		return true
	}
	if pending && isTLS {
		return tlsClosed(tc)
	}
	return false
}

// tlsClosed reads what the receiver sent on c, waiting at most 10ms for
// the rest of a record: an error other than the timeout (io.EOF after a
// close_notify) means closed. Anything read is discarded: a syslog receiver
// sends nothing.
func tlsClosed(c *tls.Conn) bool {
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Millisecond)); err != nil {
		return true
	}
	defer c.SetReadDeadline(time.Time{})
	var b [512]byte
	_, err := c.Read(b[:])
	return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}
