package intel

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors that loading returns or that a ParseError wraps; match them with
// errors.Is.
var (
	// ErrNoEntries: nothing could be read from a source.
	ErrNoEntries = errors.New("no addresses loaded")
	// ErrUnknownFormat: a cloud-ranges file is not Azure service tags,
	// AWS ip-ranges.json or GCP cloud.json, or a kind is unknown.
	ErrUnknownFormat = errors.New("unknown format")
	// ErrNotAddress: a line is not an IP address (or, for lists, a CIDR
	// prefix).
	ErrNotAddress = errors.New("not an IP address")
	// ErrNotPrefix: a cloud range is not a CIDR prefix.
	ErrNotPrefix = errors.New("not a CIDR prefix")
	// ErrLineTooLong: a line is longer than any address can be written.
	ErrLineTooLong = errors.New("line too long")
)

// MaxProblems is how many malformed lines a SourceStats keeps.
const MaxProblems = 5

// ParseError is one malformed line or entry that was skipped.
type ParseError struct {
	Source string // the source name, e.g. "tor-exit-nodes.txt"
	Line   int    // 1-based; 0 when unknown
	Path   string // for JSON: where in the document, e.g. "values[3].properties.addressPrefixes[2]"
	Value  string // the offending text, shortened
	Err    error  // ErrNotAddress, ErrNotPrefix or ErrLineTooLong
}

func (e *ParseError) Error() string {
	s := e.Source
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	if e.Path != "" {
		s += ": " + e.Path
	}
	s += ": " + e.Err.Error()
	if e.Value != "" {
		s += ": " + strconv.Quote(e.Value)
	}
	return s
}

func (e *ParseError) Unwrap() error { return e.Err }

// SourceStats counts what one loaded source gave.
type SourceStats struct {
	Source   string        `json:"source"`         // e.g. "ipsum-level3.txt"
	Kind     string        `json:"kind"`           // "tor", "list" or "cloud"
	Name     string        `json:"name,omitempty"` // the list name, or the cloud provider
	Entries  int           `json:"entries"`        // addresses and prefixes loaded
	Skipped  int           `json:"skipped"`        // malformed lines or entries
	Problems []*ParseError `json:"-"`              // the first MaxProblems skipped
}

// Stats is what a Set loaded, for the scan summary.
type Stats struct {
	Sources []SourceStats `json:"sources"` // in load order
}

// String summarizes the sources one per line, with the first problems.
func (st Stats) String() string {
	var b strings.Builder
	for _, src := range st.Sources {
		fmt.Fprintf(&b, "%-5s %-28s %7d loaded, %d skipped\n", src.Kind, src.Source, src.Entries, src.Skipped)
		for _, p := range src.Problems {
			b.WriteString("        " + p.Error() + "\n")
		}
	}
	return b.String()
}

func (ss *SourceStats) skip(e *ParseError) {
	ss.Skipped++
	if len(ss.Problems) < MaxProblems {
		ss.Problems = append(ss.Problems, e)
	}
}

// shorten keeps an offending value printable in a message.
func shorten(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// Stats returns a copy of the per-source counts.
func (s *Set) Stats() Stats {
	if s == nil {
		return Stats{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Stats{Sources: make([]SourceStats, len(s.stats))}
	for i, src := range s.stats {
		src.Problems = append([]*ParseError(nil), src.Problems...)
		out.Sources[i] = src
	}
	return out
}
