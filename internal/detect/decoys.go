package detect

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"
)

// Decoys are the secrets nobody legitimately reads: any read of one is an
// alert. A decoys file has one pattern a line, '#' comments: a glob
// (path.Match syntax) matched against object names in every vault, or
// "VAULT GLOB" for one vault (by its name). A pattern matches the whole
// name or, for a path such as a Vault KV secret "ops/db-password", its last
// element. Matching ignores case.
type Decoys struct {
	any      []string
	perVault map[string][]string

	// memo remembers the answer per (vault, object): matching globs on
	// every read is costly and the same objects are read all day. It is
	// bounded and starts afresh when full.
	mu        sync.Mutex
	memo      map[decoyKey]bool
	last      decoyKey // the last object asked about, and its answer
	lastMatch bool
}

type decoyKey struct{ vault, object string }

const decoyMemoMax = 1 << 16

// ParseDecoys reads a decoys file; name labels errors.
func ParseDecoys(r io.Reader, name string) (*Decoys, error) {
	d := &Decoys{perVault: map[string][]string{}}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		f := strings.Fields(strings.ToLower(line))
		pat := f[len(f)-1]
		if _, err := path.Match(pat, ""); err != nil {
			return nil, fmt.Errorf("%s:%d: bad pattern: %w", name, n, err)
		}
		switch len(f) {
		case 1:
			d.any = append(d.any, pat)
		case 2:
			d.perVault[f[0]] = append(d.perVault[f[0]], pat)
		default:
			return nil, fmt.Errorf("%s:%d: want GLOB or VAULT GLOB", name, n)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

// Match reports whether object in vault is a decoy. A nil Decoys matches
// nothing.
func (d *Decoys) Match(vault, object string) bool {
	if d == nil || object == "" {
		return false
	}
	k := decoyKey{vault, object}
	d.mu.Lock()
	defer d.mu.Unlock()
	if k == d.last {
		return d.lastMatch
	}
	m, ok := d.memo[k]
	if !ok {
		if d.memo == nil || len(d.memo) >= decoyMemoMax {
			d.memo = make(map[decoyKey]bool, 1024)
		}
		m = d.match(vault, object)
		d.memo[k] = m
	}
	d.last, d.lastMatch = k, m
	return m
}

func (d *Decoys) match(vault, object string) bool {
	object = strings.ToLower(object)
	base := path.Base(object)
	match := func(pats []string) bool {
		for _, p := range pats {
			if ok, _ := path.Match(p, object); ok {
				return true
			}
			if ok, _ := path.Match(p, base); ok && base != object {
				return true
			}
		}
		return false
	}
	return match(d.any) || match(d.perVault[strings.ToLower(vault)])
}

// Len is the number of patterns.
func (d *Decoys) Len() int {
	if d == nil {
		return 0
	}
	n := len(d.any)
	for _, p := range d.perVault {
		n += len(p)
	}
	return n
}
