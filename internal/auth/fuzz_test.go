package auth

import (
	"net/url"
	"strings"
	"testing"
)

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/alerts?id=1", "//evil.example", "/\\evil", "https://x", "/%2F%2Fx", "/\t/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := SafeNext(next)
		if got != "/" && got != next {
			t.Fatalf("SafeNext(%q) = %q: neither the input nor /", next, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(got, "/") ||
			strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\t\r\n") {
			t.Fatalf("SafeNext(%q) = %q leaves the site", next, got)
		}
	})
}

func FuzzParseHash(f *testing.F) {
	good, _ := hashPassword("some password here")
	f.Add(good)
	f.Add("$argon2id$v=19$m=1,t=1,p=1$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := parseHash(s)
		if err == nil && (p.memory > maxArgonMemory || p.time > maxArgonTime || p.threads == 0 || len(salt) < 8 || len(key) < 16) {
			t.Fatalf("parseHash(%q) accepted %+v", s, p)
		}
	})
}

func FuzzTokenID(f *testing.F) {
	f.Add("vwt_0123456789abcdef_secret")
	f.Add("vwt__")
	f.Fuzz(func(t *testing.T, s string) {
		id := tokenID(s)
		if id != "" && (len(id) != 16 || !strings.HasPrefix(s, TokenPrefix+id+"_") || len(s) > maxTokenLen) {
			t.Fatalf("tokenID(%q) = %q", s, id)
		}
	})
}
