package intel

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
)

// AddTor loads a Tor exit list from r: one IP address per line, as the Tor
// Project's bulk exit list (https://check.torproject.org/torbulkexitlist)
// publishes it, with '#' comments and blank lines. The "ExitAddress" lines
// of the exit-addresses format are read too. source names r in errors and
// Stats.
func (s *Set) AddTor(r io.Reader, source string) error {
	st := SourceStats{Source: source, Kind: "tor"}
	var es []entry
	err := readLines(r, func(n int, line []byte) {
		f := fields(line)
		switch {
		case len(f) == 0:
			return
		case len(f) >= 2 && f[0] == "ExitAddress":
			f = f[1:]
		case f[0] == "ExitNode" || f[0] == "Published" || f[0] == "LastStatus":
			return
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil || a.Zone() != "" {
			st.skip(&ParseError{Source: source, Line: n, Value: shorten(f[0]), Err: ErrNotAddress})
			return
		}
		a = a.Unmap()
		es = append(es, entry{p: netip.PrefixFrom(a, a.BitLen()), tor: true, list: -1, cloud: -1})
	}, func(n int) {
		st.skip(&ParseError{Source: source, Line: n, Err: ErrLineTooLong})
	})
	if err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	st.Entries = len(es)
	return s.commit(st, es, nil, "")
}

// AddList loads an IP reputation list from r under name (e.g.
// "ipsum-level3"): one IPv4 or IPv6 address or CIDR prefix per line, with
// '#' or ';' comments and blank lines. Anything after the first field is
// ignored, so ipsum's "IP<TAB>count" and Spamhaus DROP's "CIDR ; SBL..."
// lines are read. name also names r in errors and Stats, unless the list is
// loaded by LoadFile.
func (s *Set) AddList(r io.Reader, name string) error {
	return s.addList(r, name, name)
}

func (s *Set) addList(r io.Reader, name, source string) error {
	if name == "" {
		return fmt.Errorf("%s: a reputation list needs a name", source)
	}
	st := SourceStats{Source: source, Kind: "list", Name: name}
	var es []entry
	err := readLines(r, func(n int, line []byte) {
		f := fields(line)
		if len(f) == 0 {
			return
		}
		p, ok := parsePrefix(f[0])
		if !ok {
			st.skip(&ParseError{Source: source, Line: n, Value: shorten(f[0]), Err: ErrNotAddress})
			return
		}
		es = append(es, entry{p: p, list: 0, cloud: -1}) // list id set by commit
	}, func(n int) {
		st.skip(&ParseError{Source: source, Line: n, Err: ErrLineTooLong})
	})
	if err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	st.Entries = len(es)
	return s.commit(st, es, nil, name)
}

// parsePrefix reads an address or CIDR prefix; an address is a full-length
// prefix. IPv4-mapped IPv6 is read as IPv4; zones are refused.
func parsePrefix(f string) (netip.Prefix, bool) {
	if !strings.Contains(f, "/") {
		a, err := netip.ParseAddr(f)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, false
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	p, err := netip.ParsePrefix(f)
	if err != nil {
		return netip.Prefix{}, false
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, false // spans more than the IPv4 space: a mistake
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}

// fields returns the words of a line before any '#' or ';' comment.
func fields(line []byte) []string {
	if i := bytes.IndexAny(line, "#;"); i >= 0 {
		line = line[:i]
	}
	return strings.Fields(string(line))
}

// maxLine bounds a line; longer lines are reported and skipped (a comment
// is ignored whatever its length).
const maxLine = 4096

// readLines calls line for each line of r with its 1-based number (the
// line has no end-of-line bytes; a UTF-8 byte order mark is dropped) and
// tooLong for each line longer than maxLine. It returns only read errors.
func readLines(r io.Reader, line func(n int, b []byte), tooLong func(n int)) error {
	br := bufio.NewReaderSize(r, maxLine)
	for n := 1; ; n++ {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			comment := bytes.HasPrefix(bytes.TrimSpace(b), []byte("#"))
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if !comment {
				tooLong(n)
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			continue
		}
		if n == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		}
		if len(b) > 0 {
			line(n, bytes.TrimRight(b, "\r\n"))
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
