package alert

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"
)

// tableExplanation bounds the explanation column of WriteTable, in runes.
const tableExplanation = 100

// WriteTable writes alerts as a text table for terminals, one line per
// alert, sorted by start time (then id): the time window, severity, type,
// vault, who (UPN, display name, app id, ARN, GCP principal or Vault entity,
// and the first address), count, and the first line of the explanation.
// alerts is not reordered. Text from logs is escaped so that it cannot
// move the cursor or hide itself on a terminal.
func WriteTable(w io.Writer, alerts []Alert) error {
	idx := make([]int, len(alerts))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool {
		a, b := &alerts[idx[i]], &alerts[idx[j]]
		if !a.StartTime.Equal(b.StartTime) {
			return a.StartTime.Before(b.StartTime)
		}
		return a.ID < b.ID
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WINDOW\tSEVERITY\tTYPE\tVAULT\tWHO\tCOUNT\tEXPLANATION")
	for _, i := range idx {
		a := &alerts[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n",
			window(a.StartTime, a.EndTime), cell(string(a.Severity)), cell(string(a.Type)), cell(vaultName(a.Vault)),
			cell(whoShort(a)), a.Count, cell(firstLine(a.Explanation, tableExplanation)))
	}
	return tw.Flush()
}

// window formats a time window compactly: the end's date is left out when
// it is the start's.
func window(start, end time.Time) string {
	start, end = start.UTC(), end.UTC()
	s := start.Format("2006-01-02 15:04:05")
	switch {
	case end.IsZero() || end.Equal(start):
		return s
	case end.Format("2006-01-02") == start.Format("2006-01-02"):
		return s + "–" + end.Format("15:04:05")
	}
	return s + "–" + end.Format("2006-01-02 15:04:05")
}

func vaultName(v Vault) string {
	if v.Name != "" {
		return v.Name
	}
	return v.ID
}

// whoShort names the caller in a few words: its most readable identifier,
// and its first address.
func whoShort(a *Alert) string {
	e := &a.Entities
	var s string
	for _, l := range [][]string{e.UPNs, e.DisplayNames, e.Principals, e.ARNs, e.AppIDs, e.VaultEntities, e.ObjectIDs, e.TokenAccessors} {
		if len(l) > 0 {
			s = l[0]
			if len(l) > 1 {
				s += fmt.Sprintf(" +%d", len(l)-1)
			}
			break
		}
	}
	if len(e.IPs) > 0 {
		ip := e.IPs[0].Address
		if len(e.IPs) > 1 {
			ip += fmt.Sprintf(" +%d", len(e.IPs)-1)
		}
		if s == "" {
			return ip
		}
		s += " from " + ip
	}
	if s == "" {
		return "-"
	}
	return s
}

// firstLine returns the first line of s, cut to max runes with "…".
func firstLine(s string, max int) string {
	s, _, _ = strings.Cut(s, "\n")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

// cell escapes s for one table cell: no tabs, newlines or other control
// characters.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return clean(s)
}

// clean escapes control characters, bidirectional overrides and invalid
// UTF-8 in s (Go escapes: \n, \x1b, \u202e), so that text from logs prints
// as what it is.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || isBidi(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || isBidi(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

func isBidi(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// WriteText writes one alert in full, as readable text: its header, vault
// and window, explanation, entities, evidence (operations, outcomes, every
// object with its first and last time, count and normal readers), facts,
// and the response steps with their commands. Text from logs is escaped as
// WriteTable does.
func WriteText(w io.Writer, a *Alert) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	p("%s  %s  %s\n", clean(a.ID), strings.ToUpper(clean(string(a.Severity))), clean(string(a.Type)))
	if a.Title != "" {
		p("%s\n", clean(a.Title))
	}
	p("\n")
	kv := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(kv, "%s\t%s\n", k, v)
		}
	}
	row("Vault:", clean(vaultLabel(a.Vault))+"  "+clean(a.Vault.ID))
	for _, v := range a.Vaults {
		if v != a.Vault {
			row("Also:", clean(vaultLabel(v))+"  "+clean(v.ID))
		}
	}
	win := window(a.StartTime, a.EndTime)
	if d := a.EndTime.Sub(a.StartTime); d > 0 {
		win += " (" + d.Round(time.Second).String() + ")"
	}
	row("Window:", win+" UTC")
	row("Events:", fmt.Sprint(a.Count))
	if len(a.Tactics) > 0 || a.Technique != "" {
		t := clean(strings.Join(a.Tactics, ", "))
		if a.Technique != "" {
			t += " (MITRE ATT&CK " + clean(a.Technique) + ")"
		}
		row("Tactics:", t)
	}
	if a.Sample {
		row("Sample:", "yes: the evidence is a sample of the events")
	}
	kv.Flush()

	if a.Explanation != "" {
		p("\nExplanation\n")
		for _, l := range strings.Split(a.Explanation, "\n") {
			p("  %s\n", clean(l))
		}
	}

	p("\nEntities\n")
	kv = tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	e := &a.Entities
	for _, ip := range e.IPs {
		s := clean(ip.Address)
		if len(ip.Classification) > 0 {
			s += " [" + clean(strings.Join(ip.Classification, ", ")) + "]"
		}
		if ip.Country != "" {
			s += " " + clean(ip.Country)
		}
		fmt.Fprintf(kv, "  IP\t%s\n", s)
	}
	list := func(label string, l []string) {
		for _, s := range l {
			fmt.Fprintf(kv, "  %s\t%s\n", label, clean(s))
		}
	}
	list("UPN", e.UPNs)
	list("Display name", e.DisplayNames)
	list("Object id", e.ObjectIDs)
	list("App id", e.AppIDs)
	list("ARN", e.ARNs)
	list("GCP principal", e.Principals)
	list("Vault entity", e.VaultEntities)
	list("Token accessor", e.TokenAccessors)
	list("User agent", e.UserAgents)
	kv.Flush()

	p("\nEvidence\n")
	if s := countSummary(a.Evidence.Operations); s != "" {
		p("  Operations: %s\n", s)
	}
	if s := countSummary(a.Evidence.Outcomes); s != "" {
		p("  Outcomes:   %s\n", s)
	}
	if len(a.Evidence.Objects) > 0 {
		kv = tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		fmt.Fprintf(kv, "  KIND\tNAME\tFIRST\tLAST\tCOUNT\tOPERATIONS\n")
		for _, o := range a.Evidence.Objects {
			fmt.Fprintf(kv, "  %s\t%s\t%s\t%s\t%d\t%s\n", cell(o.Kind), cell(o.Name), stamp(o.First), stamp(o.Last), o.Count, cell(countSummary(o.Operations)))
		}
		kv.Flush()
		for _, o := range a.Evidence.Objects {
			if len(o.NormalReaders) > 0 {
				p("  %s %s is normally read by: %s\n", clean(o.Kind), clean(o.Name), clean(strings.Join(o.NormalReaders, ", ")))
			}
		}
	}

	if len(a.Facts) > 0 {
		p("\nFacts\n")
		kv = tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		for _, f := range a.Facts {
			fmt.Fprintf(kv, "  %s\t%g\n", clean(f.Name), f.Value)
		}
		kv.Flush()
	}

	if len(a.Remediation) > 0 {
		p("\nResponse\n")
		for i, s := range a.Remediation {
			p("  %d. %s\n", i+1, clean(s.Title))
			for _, l := range strings.Split(s.Text, "\n") {
				if l != "" {
					p("     %s\n", clean(l))
				}
			}
			for _, c := range s.Commands {
				p("       $ %s\n", clean(c))
			}
		}
	}
	return bw.Flush()
}

// countSummary formats counts as "SecretGet 3, SecretList 1", largest
// first, then by name.
func countSummary(m map[string]int) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.SortFunc(names, func(x, y string) int {
		if m[x] != m[y] {
			return m[y] - m[x]
		}
		return strings.Compare(x, y)
	})
	for i, k := range names {
		names[i] = fmt.Sprintf("%s %d", clean(k), m[k])
	}
	return strings.Join(names, ", ")
}
