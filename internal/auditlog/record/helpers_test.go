package record

import (
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

func TestParseTime(t *testing.T) {
	for in, want := range map[string]string{
		"2024-04-03T14:03:10.7886260Z":         "2024-04-03T14:03:10.788626Z",
		"2024-04-03T14:03:10Z":                 "2024-04-03T14:03:10Z",
		"2024-04-03T16:03:10.5+02:00":          "2024-04-03T14:03:10.5Z",
		"2023-07-10 12:00:00":                  "2023-07-10T12:00:00Z",
		"2024-10-17 21:48:45.000000000":        "2024-10-17T21:48:45Z",
		"2026-11-27T04:45:07.773689065Z":       "2026-11-27T04:45:07.773689065Z",
		"11/20/2026, 9:12:41.091 AM":           "2026-11-20T09:12:41.091Z",
		"1/2/2026, 11:00:00.000 PM":            "2026-01-02T23:00:00Z",
		"2024-04-03":                           "",
		"not a time at all, really not":        "",
		"2024-13-03T14:03:10Z":                 "",
		"2024-04-03T14:03:10.7886260Zjunkjunk": "",
	} {
		got, ok := ParseTime([]byte(in))
		if want == "" {
			if ok {
				t.Errorf("%q: parsed as %v", in, got)
			}
			continue
		}
		if !ok || got.Format(time.RFC3339Nano) != want || got.Location() != time.UTC {
			t.Errorf("%q: got %v %v, want %s", in, got, ok, want)
		}
	}
}

func TestParseAddr(t *testing.T) {
	var in Interner
	for s, want := range map[string][2]string{
		"10.1.2.3":                     {"10.1.2.3", ""},
		"10.1.2.3:443":                 {"10.1.2.3", ""},
		"[2001:db8::1]:443":            {"2001:db8::1", ""},
		"::ffff:10.1.2.3":              {"10.1.2.3", ""},
		"fe80::1%eth0":                 {"fe80::1", ""},
		"AWS Internal":                 {"invalid IP", "AWS Internal"},
		"secretsmanager.amazonaws.com": {"invalid IP", "secretsmanager.amazonaws.com"},
		"":                             {"invalid IP", ""},
	} {
		a, host := ParseAddr(&in, []byte(s))
		if a.String() != want[0] || host != want[1] {
			t.Errorf("%q: got %v %q", s, a, host)
		}
	}
}

func TestInternerBounded(t *testing.T) {
	in := Interner{Max: 4}
	a := in.Bytes([]byte("a"))
	if in.Bytes([]byte("a")) != a || in.Lower([]byte("A")) != "a" {
		t.Fatal("not interned")
	}
	for _, s := range []string{"b", "c", "d", "e", "f"} {
		in.String(s)
	}
	if in.Resets != 1 || len(in.m) > 4 {
		t.Fatalf("resets %d, size %d", in.Resets, len(in.m))
	}
	if in.Bytes(nil) != "" {
		t.Fatal("empty")
	}
	if n := testing.AllocsPerRun(100, func() { in.Bytes([]byte("f")) }); n != 0 {
		t.Errorf("%v allocations for a known string", n)
	}
}

func TestAccessors(t *testing.T) {
	v := fastjson.MustParse(`{"n":403,"d":403.0,"s":"404","f":"4.5","b":true,"bs":"False","x":{"y":"z"},"o":{}}`)
	for _, k := range []string{"n", "d", "s"} {
		if n, ok := Int(v, k); !ok || n < 403 {
			t.Errorf("Int(%s) = %d %v", k, n, ok)
		}
	}
	if _, ok := Int(v, "f"); ok {
		t.Error("Int of 4.5 as text")
	}
	if _, ok := Int(v, "missing"); ok {
		t.Error("Int of missing")
	}
	if b, ok := Bool(v, "b"); !b || !ok {
		t.Error("Bool b")
	}
	if b, ok := Bool(v, "bs"); b || !ok {
		t.Error("Bool bs")
	}
	if string(Str(v, "x", "y")) != "z" || Str(v, "o") != nil || Str(v, "n") != nil {
		t.Error("Str")
	}
	if r, ok := IsSkip(Skip("service x")); !ok || r != "service x" {
		t.Error("IsSkip")
	}
	if _, ok := IsSkip(Missing("time")); ok {
		t.Error("Missing is a skip")
	}
}
