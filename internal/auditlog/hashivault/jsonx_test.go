package hashivault

import (
	"bufio"
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"vaultwatch/internal/event"
)

// TestJSONXSample converts the jsonx device's log of the dev server run and
// checks it decodes to the same events as the JSON device's log of the same
// run, from the request that enabled the jsonx device on: same requests in
// the same order, same fields but the HMAC-ed accessors (each device has
// its own key).
func TestJSONXSample(t *testing.T) {
	jx := sampleEvents(t, "vault-audit-real-devserver-jsonx.log")
	js := sampleEvents(t, "vault-audit-real-devserver.jsonl")
	if jx.skipped["audit device test entry"] != 1 {
		t.Errorf("jsonx skipped %v, want its test entry", jx.skipped)
	}
	var jxIDs, jsIDs []string
	for _, e := range jx.events {
		jxIDs = append(jxIDs, e.CorrelationID)
	}
	for _, e := range js.events {
		jsIDs = append(jsIDs, e.CorrelationID)
	}
	// The JSON log also has the requests that enabled the file, socket and
	// raw devices, before the jsonx device existed.
	if len(jsIDs) != len(jxIDs)+3 || !slices.Equal(jsIDs[3:], jxIDs) {
		t.Fatalf("request sequence differs:\njsonx %v\njson  %v", jxIDs, jsIDs)
	}
	if jxIDs[0] != "27491848-e668-2cd7-6f99-8fe3f604c507" {
		t.Errorf("first jsonx event %s, want the request enabling the jsonx device", jxIDs[0])
	}
	for i, x := range jx.events {
		j := js.events[i+3]
		if x.Caller.TokenAccessor == "" != (j.Caller.TokenAccessor == "") {
			t.Errorf("%s: accessor present in one log only", x.CorrelationID)
		}
		x.Caller.TokenAccessor, j.Caller.TokenAccessor = "", ""
		if i == 0 {
			// The jsonx device did not exist when this request arrived:
			// only its response is in its log, with the response's time.
			if !x.Time.Equal(mustTime(t, "2026-11-27T04:45:07.896917088Z")) {
				t.Errorf("unpaired response time %v", x.Time)
			}
			x.Time = j.Time
		}
		x.Source, j.Source = event.Location{}, event.Location{}
		if !reflect.DeepEqual(x, j) {
			t.Errorf("%s differs:\njsonx %+v\njson  %+v", x.CorrelationID, x, j)
		}
	}
}

const jsonxEntry = `<json:object name="auth"><json:string name="accessor">hmac-sha256:ab</json:string>` +
	`<json:string name="display_name">token</json:string><json:array name="policies"><json:string>root</json:string></json:array>` +
	`<json:number name="token_ttl">600</json:number><json:boolean name="orphan">false</json:boolean></json:object>` +
	`<json:string name="error">1 error occurred:` + "\n\t" + `* permission denied` + "\n\n" + `</json:string>` +
	`<json:object name="request"><json:object name="data"><json:null name="options" /><json:number name="n">-1.5e+3</json:number>` +
	`<json:array name="empty"></json:array></json:object><json:string name="id">r1</json:string>` +
	`<json:string name="path">secret/data/a</json:string></json:object>` +
	`<json:string name="time">2026-11-27T04:45:08.35050206Z</json:string><json:string name="type">request</json:string>`

const jsonxWant = `{"auth":{"accessor":"hmac-sha256:ab","display_name":"token","policies":["root"],"token_ttl":600,"orphan":false},` +
	`"error":"1 error occurred:\n\t* permission denied\n\n",` +
	`"request":{"data":{"options":null,"n":-1.5e+3,"empty":[]},"id":"r1","path":"secret/data/a"},` +
	`"time":"2026-11-27T04:45:08.35050206Z","type":"request"}`

func TestJSONX(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
	}{
		{"entry", jsonxEntry, jsonxWant},
		{"declaration and prefix", `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + jsonxEntry, jsonxWant},
		{"device prefix", `vault-audit: ` + jsonxEntry, jsonxWant},
		{"escaped name and value", `<json:string name="a&amp;b&#34;">x &lt; y &amp; z&#xA;</json:string><json:string name="type">response</json:string>`,
			`{"a&b\"":"x < y & z\n","type":"response"}`},
		// Vault writes string values unescaped.
		{"unescaped value", `<json:string name="ua">curl/8 <x> & co &nbsp; &#xZZ;</json:string><json:string name="type">response</json:string>`,
			`{"ua":"curl/8 <x> & co &nbsp; &#xZZ;","type":"response"}`},
		{"empty string", `<json:string name="a"></json:string><json:string name="type">request</json:string>`, `{"a":"","type":"request"}`},
		{"nested arrays", `<json:array name="a"><json:array><json:number>1</json:number><json:number>2</json:number></json:array><json:object></json:object><json:null/></json:array>`,
			`{"a":[[1,2],{},null]}`},
		// XML reads a carriage return as a newline; a character reference
		// keeps it.
		{"control characters", `<json:string name="a">` + "x\ty\r" + `&#xD;"q"\</json:string>`, `{"a":"x\ty\n\r\"q\"\\"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := JSONX([]byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
			if !json.Valid(got) {
				t.Errorf("invalid JSON %s", got)
			}
		})
	}
}

func TestJSONXErrors(t *testing.T) {
	const secret = "hunter2-secret"
	for _, c := range []struct{ name, in string }{
		{"two entries", jsonxEntry + jsonxEntry},
		{"unknown element", `<json:secret name="a">` + secret + `</json:secret>`},
		{"bad number", `<json:number name="a">` + secret + `</json:number>`},
		{"bad boolean", `<json:boolean name="a">` + secret + `</json:boolean>`},
		{"null with content", `<json:null name="a">` + secret + `</json:null>`},
		{"unclosed", `<json:object name="a"><json:string name="b">` + secret + `</json:string>`},
		{"mismatched", `<json:object name="a"></json:array>`},
		{"element in a value", `<json:number name="a"><json:number>1</json:number></json:number>`},
		{"unnamed member", `<json:string>` + secret + `</json:string>`},
		{"text between elements", `<json:string name="a">x</json:string>` + secret + `<json:string name="b">y</json:string>`},
		{"text only", secret},
		{"empty", ``},
		{"bad entity in a name", `<json:string name="&` + secret + `;">x</json:string>`},
		{"control character", "<json:string name=\"a\">\x01" + secret + "</json:string>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := JSONX([]byte(c.in))
			if err == nil {
				t.Fatalf("no error, got %s", got)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error quotes the input: %v", err)
			}
		})
	}
}

func TestIsJSONX(t *testing.T) {
	for in, want := range map[string]bool{
		`<json:object name="auth">`:      true,
		" \n<json:string name=\"time\">": true,
		`<?xml version="1.0"?>`:          true,
		`{"type":"request"}`:             false,
		`</json:string>`:                 false,
		`<html>`:                         false,
		``:                               false,
	} {
		if got := IsJSONX([]byte(in)); got != want {
			t.Errorf("IsJSONX(%q) = %v", in, got)
		}
	}
}

// TestSplitJSONX cuts a stream of entries written back to back, with the
// newlines of error texts, a device prefix, an unescaped '<' and an XML
// declaration, reading it whole and one byte at a time (as when following a
// file being written).
func TestSplitJSONX(t *testing.T) {
	e1 := `<json:object name="request"><json:string name="id">a</json:string></json:object>` +
		`<json:string name="time">2026-01-01T00:00:00Z</json:string><json:string name="type">request</json:string>`
	e2 := `<json:object name="auth"><json:null name="metadata" /></json:object><json:string name="error">2 errors occurred:` +
		"\n\t* permission denied\n\t* invalid token\n\n" + `</json:string><json:object name="request"><json:string name="id">b</json:string>` +
		`<json:string name="path">x<y></json:string></json:object><json:string name="time">2026-01-01T00:00:01Z</json:string>` +
		`<json:string name="type">response</json:string>`
	// An entry without type, ended by the next entry's smaller first name.
	e3 := `<json:object name="request"><json:string name="id">c</json:string></json:object><json:string name="time">2026-01-01T00:00:02Z</json:string>`
	e4 := `<json:object name="auth"></json:object><json:string name="type">response</json:string>`
	stream := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + e1 + e2 + "audit: " + e3 + e4 + "\n" + e1
	want := []string{e1, e2, e3, e4, e1}
	for name, r := range map[string]func() *bufio.Scanner{
		"whole": func() *bufio.Scanner { return bufio.NewScanner(strings.NewReader(stream)) },
		"bytes": func() *bufio.Scanner { return bufio.NewScanner(iotest.OneByteReader(strings.NewReader(stream))) },
	} {
		t.Run(name, func(t *testing.T) {
			sc := r()
			sc.Split(SplitJSONX)
			var got []string
			for sc.Scan() {
				got = append(got, sc.Text())
				if _, err := JSONX(sc.Bytes()); err != nil {
					t.Errorf("entry %d: %v", len(got), err)
				}
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %d entries:\n%s\nwant %d:\n%s", len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
			}
		})
	}

	// A stream cut inside an entry yields the piece, which JSONX rejects.
	sc := bufio.NewScanner(strings.NewReader(e1 + e2[:40]))
	sc.Split(SplitJSONX)
	var got [][]byte
	for sc.Scan() {
		got = append(got, bytes.Clone(sc.Bytes()))
	}
	if len(got) != 2 || string(got[0]) != e1 || string(got[1]) != e2[:40] {
		t.Fatalf("truncated stream: %q", got)
	}
	if _, err := JSONX(got[1]); err == nil {
		t.Error("truncated entry converted")
	}

	// A following reader gets an entry as soon as its type element ends.
	adv, tok, err := SplitJSONX([]byte(e1), false)
	if err != nil || adv != len(e1) || string(tok) != e1 {
		t.Errorf("complete entry not returned before EOF: %d %q %v", adv, tok, err)
	}
	adv, tok, err = SplitJSONX([]byte(e3), false)
	if err != nil || adv != 0 || tok != nil {
		t.Errorf("entry without its type returned before EOF: %d %q %v", adv, tok, err)
	}
}
