//go:build !(linux || darwin || freebsd)

package syslogsink

import (
	"errors"
	"net"
	"os"
	"time"
)

// peerClosed reports whether the receiver closed c, by a read that waits at
// most a millisecond: a timeout means the connection is open.
func peerClosed(c net.Conn) bool {
	if err := c.SetReadDeadline(time.Now().Add(time.Millisecond)); err != nil {
		return true
	}
	defer c.SetReadDeadline(time.Time{})
	var b [1]byte
	_, err := c.Read(b[:])
	return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}
