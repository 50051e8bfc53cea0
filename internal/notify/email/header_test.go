package email

import (
	"mime"
	"net/mail"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestHeaderText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\r\nBcc: x@example.com", "a Bcc: x@example.com"},
		{"  lead\t\ttabs  trail  ", "lead tabs trail"},
		{"nul\x00byte\x1besc", "nul byte esc"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{"line\u2028sep\u202eoverride", "line sep override"},
		{strings.Repeat("x", 300), strings.Repeat("x", 199) + "…"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := HeaderText(tt.in); got != tt.want {
			t.Errorf("HeaderText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := EncodeHeader("Geheimnis — ä"); !strings.HasPrefix(got, "=?utf-8?q?") {
		t.Errorf("EncodeHeader of non-ASCII: %q", got)
	}
	if got := EncodeHeader("=?utf-8?q?forged?="); got == "=?utf-8?q?forged?=" {
		t.Error("an encoded word in alert data is passed as one")
	}
}

// FuzzHeaderText: whatever the input, the header text is one line of
// valid UTF-8 without control characters, within its bound, and the
// encoded header parses back to it.
func FuzzHeaderText(f *testing.F) {
	for _, s := range []string{"plain", "a\r\nBcc: x", "ä\n\rü", "=?utf-8?q?x?=", "\xff\xfe", strings.Repeat("é", 250), "\u2028\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h := HeaderText(s)
		if !utf8.ValidString(h) || utf8.RuneCountInString(h) > maxHeaderRunes {
			t.Fatalf("HeaderText(%q) = %q: invalid or too long", s, h)
		}
		for _, r := range h {
			if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
				t.Fatalf("HeaderText(%q) = %q keeps %U", s, h, r)
			}
		}
		if h != strings.TrimSpace(h) {
			t.Fatalf("HeaderText(%q) = %q is not trimmed", s, h)
		}
		e := EncodeHeader(s)
		if strings.ContainsAny(e, "\r\n") {
			t.Fatalf("EncodeHeader(%q) = %q breaks the line", s, e)
		}
		dec, err := new(mime.WordDecoder).DecodeHeader(e)
		if err != nil || dec != h {
			t.Fatalf("EncodeHeader(%q) = %q decodes to %q, %v; want %q", s, e, dec, err, h)
		}
		// As a whole header it parses as one field.
		m, err := mail.ReadMessage(strings.NewReader("Subject: " + e + "\r\n\r\n"))
		if err != nil || len(m.Header) != 1 {
			t.Fatalf("EncodeHeader(%q) = %q: header parses to %v, %v", s, e, m, err)
		}
	})
}
