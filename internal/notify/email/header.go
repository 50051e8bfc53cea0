package email

import (
	"fmt"
	"mime"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxHeaderRunes bounds a header value built from alert data.
const maxHeaderRunes = 200

// HeaderText makes s safe as the text of a mail header: every control
// character (CR and LF above all, which would start a new header) and
// every run of white space becomes one space, invalid UTF-8 becomes
// U+FFFD, and the result is trimmed to at most 200 runes ("…" ending a cut
// text). It does not encode: see EncodeHeader.
func HeaderText(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' || isBidi(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	out := b.String()
	if utf8.RuneCountInString(out) <= maxHeaderRunes {
		return out
	}
	r := []rune(out)[:maxHeaderRunes-1]
	return strings.TrimRight(string(r), " ") + "…"
}

// EncodeHeader returns HeaderText(s), encoded as RFC 2047 Q-encoded words
// when it is not plain printable ASCII.
func EncodeHeader(s string) string {
	s = HeaderText(s)
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return mime.QEncoding.Encode("utf-8", s)
		}
	}
	if strings.Contains(s, "=?") {
		// Looks like an encoded word: mime.QEncoding would pass it as it
		// is, and a mail client would decode it.
		return forceQ(s)
	}
	return s
}

// forceQ Q-encodes s (RFC 2047) whatever it holds, in encoded words of
// at most 75 characters separated by folding white space, never cutting
// a UTF-8 sequence.
func forceQ(s string) string {
	const prefix, suffix, max = "=?utf-8?q?", "?=", 75
	var words []string
	var w strings.Builder
	for _, r := range s {
		var enc strings.Builder
		if r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!*+-/", r)) {
			enc.WriteRune(r)
		} else if r == ' ' {
			enc.WriteByte('_')
		} else {
			var buf [utf8.UTFMax]byte
			for _, b := range buf[:utf8.EncodeRune(buf[:], r)] {
				fmt.Fprintf(&enc, "=%02X", b)
			}
		}
		if w.Len() > 0 && len(prefix)+w.Len()+enc.Len()+len(suffix) > max {
			words = append(words, prefix+w.String()+suffix)
			w.Reset()
		}
		w.WriteString(enc.String())
	}
	if w.Len() > 0 {
		words = append(words, prefix+w.String()+suffix)
	}
	return strings.Join(words, " ")
}

func isBidi(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// bodyText makes alert data safe for the plain-text body: control
// characters other than newline and tab, and bidirectional overrides,
// become U+FFFD; CR LF becomes LF.
func bodyText(s string) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\r\n", "\n"), "\uFFFD")
	return strings.Map(func(r rune) rune {
		if (unicode.IsControl(r) && r != '\n' && r != '\t') || isBidi(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}
