package export_test

import (
	"bytes"
	"strings"
	"testing"

	"vaultwatch/internal/export"
	"vaultwatch/internal/export/exporttest"
)

// unescapeCEFValue undoes AppendCEFValue; ok is false on an escape it never
// writes or an unescaped '=' or line break.
func unescapeCEFValue(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '=', '\n', '\r':
			return "", false
		case '\\':
			if i+1 == len(s) {
				return "", false
			}
			i++
			switch s[i] {
			case '\\', '=':
				b.WriteByte(s[i])
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			default:
				return "", false
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

func FuzzCEFEscape(f *testing.F) {
	for _, s := range []string{"", "plain", `a\b|c=d`, "x\ny\rz", `\\==||`, "é\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := string(export.AppendCEFValue(nil, s))
		back, ok := unescapeCEFValue(v)
		if !ok || back != s {
			t.Fatalf("value %q escaped to %q, read back %q (%v)", s, v, back, ok)
		}
		h := export.AppendCEFHeader(nil, s)
		if bytes.ContainsAny(h, "\n\r") {
			t.Fatalf("header %q keeps a line break: %q", s, h)
		}
		// Every '|' in a header field is escaped: splitting on unescaped
		// pipes finds one field.
		for i := 0; i < len(h); i++ {
			if h[i] == '\\' {
				i++
				if i == len(h) || (h[i] != '\\' && h[i] != '|') {
					t.Fatalf("header %q: bad escape in %q", s, h)
				}
				continue
			}
			if h[i] == '|' {
				t.Fatalf("header %q: unescaped pipe in %q", s, h)
			}
		}
	})
}

func FuzzSyslogFrame(f *testing.F) {
	f.Add("vw-host", "vaultwatch", "explained\nwith ] and \" and \\", "bob", 20)
	f.Add("", "", "", "", 0)
	f.Add("h\x00 st", "a\xffp", "x", "é", 23)
	f.Fuzz(func(t *testing.T, host, app, explanation, id string, facility int) {
		rec := exporttest.Cases()["tor-access-resolved"]
		rec.Alert.Explanation = explanation
		rec.Alert.ID = "vw-" + id
		rec.Change.Comment = explanation
		for _, body := range []export.Format{export.CEF{}, export.Native{}} {
			s := export.Syslog{Facility: facility, Hostname: host, AppName: app, Body: body}
			two, err := s.AppendFrame([]byte("junk"), &rec)
			if facility < 0 || facility > 23 {
				if err == nil {
					t.Fatalf("facility %d accepted", facility)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			two, err = s.AppendFrame(two, &rec)
			if err != nil {
				t.Fatal(err)
			}
			rest, ok := bytes.CutPrefix(two, []byte("junk"))
			if !ok {
				t.Fatal("prefix lost")
			}
			for i := 0; i < 2; i++ {
				var msg []byte
				msg, rest, err = export.ReadFrame(rest, 1<<24)
				if err != nil || msg == nil {
					t.Fatalf("frame %d: %v (%q)", i, err, rest)
				}
				fields := bytes.SplitN(msg, []byte(" "), 7)
				if len(fields) != 7 {
					t.Fatalf("message %q has %d header fields", msg, len(fields))
				}
				for _, h := range fields[1:6] {
					if len(h) == 0 {
						t.Fatalf("empty header field in %q", msg)
					}
					for _, c := range h {
						if c < 33 || c > 126 {
							t.Fatalf("header field %q has byte %#x", h, c)
						}
					}
				}
				if bytes.ContainsAny(msg, "\n") {
					t.Fatalf("message holds a newline: %q", msg)
				}
			}
			if len(rest) != 0 {
				t.Fatalf("left over %q", rest)
			}
		}
	})
}
