package export_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/export"
	"vaultwatch/internal/export/exporttest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// goldenFormats are the encodings compared with testdata/<case>/want.<ext>.
func goldenFormats() map[string]func(dst []byte, r *export.Record) ([]byte, error) {
	sl := &export.Syslog{Facility: export.DefaultFacility, Hostname: "vw-host", AppName: "vaultwatch", Body: export.CEF{ProductVersion: "1.4.0"}}
	sj := &export.Syslog{Facility: 10, Hostname: "vw-host", ProcID: "4242", Body: export.Native{}}
	return map[string]func([]byte, *export.Record) ([]byte, error){
		"native.json": export.Native{}.Append,
		"ocsf.json":   export.OCSF{ProductVersion: "1.4.0"}.Append,
		"cef":         export.CEF{ProductVersion: "1.4.0"}.Append,
		"syslog":      sl.AppendFrame,
		"syslog-json": sj.AppendFrame,
	}
}

func TestGolden(t *testing.T) {
	for name, rec := range exporttest.Cases() {
		for ext, enc := range goldenFormats() {
			t.Run(name+"/"+ext, func(t *testing.T) {
				got, err := enc([]byte("prefix:"), &rec)
				if err != nil {
					t.Fatal(err)
				}
				got, ok := bytes.CutPrefix(got, []byte("prefix:"))
				if !ok {
					t.Fatal("Append overwrote dst")
				}
				if bytes.ContainsAny(got, "\n\r") {
					t.Errorf("encoding holds a line break: %q", got)
				}
				got = append(got, '\n')
				path := filepath.Join("testdata", name, "want."+ext)
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs (run with -update after checking):\ngot  %s\nwant %s", path, got, want)
				}
			})
		}
	}
}

func TestNativeEnvelope(t *testing.T) {
	rec := exporttest.Cases()["tor-access-resolved"]
	b, err := export.Native{}.Append(nil, &rec)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Schema         string               `json:"schema"`
		Kind           string               `json:"kind"`
		Seq            int64                `json:"seq"`
		IdempotencyKey string               `json:"idempotency_key"`
		Status         string               `json:"status"`
		Version        int                  `json:"version"`
		Change         *export.StatusChange `json:"change"`
		Alert          alert.Alert          `json:"alert"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	if env.Schema != export.NativeSchema || env.Kind != "status" || env.Seq != 57 || env.Status != "resolved" || env.Version != 3 {
		t.Errorf("envelope %+v", env)
	}
	if env.IdempotencyKey != rec.IdempotencyKey() {
		t.Errorf("idempotency_key %q, want %q", env.IdempotencyKey, rec.IdempotencyKey())
	}
	if env.Change == nil || env.Change.By != "bob" || !env.Change.At.Equal(rec.Change.At) {
		t.Errorf("change %+v", env.Change)
	}
	if env.Alert.ID != rec.Alert.ID || env.Alert.Title != rec.Alert.Title || len(env.Alert.Remediation) != len(rec.Alert.Remediation) {
		t.Errorf("alert round trip lost data: %+v", env.Alert)
	}
}

// ocsfRequired are the attributes the Detection Finding class requires (or
// that vaultwatch promises), with the JSON type each must have.
var ocsfRequired = []struct {
	path string
	kind string // "int", "string", "object", "array"
}{
	{"activity_id", "int"},
	{"category_uid", "int"},
	{"class_uid", "int"},
	{"type_uid", "int"},
	{"severity_id", "int"},
	{"status_id", "int"},
	{"time", "int"},
	{"metadata", "object"},
	{"metadata.version", "string"},
	{"metadata.product", "object"},
	{"metadata.product.name", "string"},
	{"metadata.product.vendor_name", "string"},
	{"metadata.uid", "string"},
	{"finding_info", "object"},
	{"finding_info.uid", "string"},
	{"finding_info.title", "string"},
	{"finding_info.analytic.type_id", "int"},
	{"finding_info.first_seen_time", "int"},
	{"finding_info.last_seen_time", "int"},
	{"finding_info.attacks", "array"},
	{"resources", "array"},
	{"evidences", "array"},
	{"observables", "array"},
	{"remediation.desc", "string"},
}

func lookup(m map[string]any, path string) (any, bool) {
	var v any = m
	for _, p := range strings.Split(path, ".") {
		o, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = o[p]; !ok {
			return nil, false
		}
	}
	return v, true
}

func TestOCSFSchema(t *testing.T) {
	for name, rec := range exporttest.Cases() {
		t.Run(name, func(t *testing.T) {
			b, err := export.OCSF{ProductVersion: "1.4.0"}.Append(nil, &rec)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber()
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				t.Fatal(err)
			}
			for _, r := range ocsfRequired {
				v, ok := lookup(m, r.path)
				if !ok {
					t.Errorf("%s missing", r.path)
					continue
				}
				var good bool
				switch r.kind {
				case "int":
					n, isNum := v.(json.Number)
					_, err := n.Int64()
					good = isNum && err == nil
				case "string":
					s, isStr := v.(string)
					good = isStr && s != ""
				case "object":
					_, good = v.(map[string]any)
				case "array":
					l, isArr := v.([]any)
					good = isArr && len(l) > 0
				}
				if !good {
					t.Errorf("%s = %v, want a non-empty %s", r.path, v, r.kind)
				}
			}
			num := func(p string) int64 {
				v, _ := lookup(m, p)
				n, _ := v.(json.Number).Int64()
				return n
			}
			if num("class_uid") != 2004 || num("category_uid") != 2 {
				t.Errorf("class %d category %d", num("class_uid"), num("category_uid"))
			}
			if act := num("activity_id"); act < 1 || act > 3 || num("type_uid") != 200400+act {
				t.Errorf("activity_id %d type_uid %d", act, num("type_uid"))
			}
			if s := num("severity_id"); s < 1 || s > 6 {
				t.Errorf("severity_id %d", s)
			}
			if s := num("status_id"); s < 1 || s > 6 {
				t.Errorf("status_id %d", s)
			}
			if num("time") != rec.At.UnixMilli() {
				t.Errorf("time %d, want %d (ms)", num("time"), rec.At.UnixMilli())
			}
			if v, _ := lookup(m, "metadata.version"); v != export.OCSFVersion {
				t.Errorf("metadata.version %v", v)
			}
			if v, _ := lookup(m, "metadata.uid"); v != rec.IdempotencyKey() {
				t.Errorf("metadata.uid %v, want the idempotency key", v)
			}
			if v, _ := lookup(m, "finding_info.uid"); v != rec.Alert.ID {
				t.Errorf("finding_info.uid %v, want the alert id", v)
			}
			attacks, _ := lookup(m, "finding_info.attacks")
			for _, at := range attacks.([]any) {
				tac, _ := lookup(at.(map[string]any), "tactic.uid")
				tech, _ := lookup(at.(map[string]any), "technique.uid")
				if s, _ := tac.(string); !strings.HasPrefix(s, "TA") {
					t.Errorf("attack tactic uid %v", tac)
				}
				if s, _ := tech.(string); !strings.HasPrefix(s, "T") || strings.Contains(s, ".") {
					t.Errorf("attack technique uid %v", tech)
				}
			}
			obs, _ := lookup(m, "observables")
			for _, o := range obs.([]any) {
				om := o.(map[string]any)
				if _, ok := om["name"].(string); !ok {
					t.Errorf("observable without name: %v", om)
				}
				if _, ok := om["type_id"].(json.Number); !ok {
					t.Errorf("observable without type_id: %v", om)
				}
			}
		})
	}
}

func TestOCSFMappings(t *testing.T) {
	cases := exporttest.Cases()
	tests := []struct {
		name             string
		activity, status int
		severity         int
	}{
		{"tor-access-new", 1, 1, 3},
		{"tor-access-resolved", 3, 4, 3},
		{"privileged-token-use-grown", 2, 2, 4},
		{"privileged-token-use-snapshot", 2, 3, 4},
	}
	for _, tt := range tests {
		rec := cases[tt.name]
		if a, _ := export.OCSFActivityID(&rec); a != tt.activity {
			t.Errorf("%s: activity %d, want %d", tt.name, a, tt.activity)
		}
		if s, _ := export.OCSFStatusID(&rec); s != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, s, tt.status)
		}
		if s, _ := export.OCSFSeverityID(rec.Alert.Severity); s != tt.severity {
			t.Errorf("%s: severity %d, want %d", tt.name, s, tt.severity)
		}
	}
	dismissed := cases["tor-access-resolved"]
	dismissed.Status = export.StatusDismissed
	if s, name := export.OCSFStatusID(&dismissed); s != 3 || name != "Suppressed" {
		t.Errorf("dismissed: %d %s", s, name)
	}
	if a, _ := export.OCSFActivityID(&dismissed); a != 3 {
		t.Errorf("dismissed: activity %d, want 3 Close", a)
	}
}

func TestCEFEscape(t *testing.T) {
	tests := []struct {
		in, header, value string
	}{
		{"plain", "plain", "plain"},
		{`a\b`, `a\\b`, `a\\b`},
		{"a|b", `a\|b`, "a|b"},
		{"a=b", "a=b", `a\=b`},
		{"line1\nline2", "line1 line2", `line1\nline2`},
		{"cr\r\n", "cr  ", `cr\r\n`},
		{`\|=`, `\\\|=`, `\\|\=`},
		{"", "", ""},
		{"é ü 日本", "é ü 日本", "é ü 日本"},
	}
	for _, tt := range tests {
		if got := string(export.AppendCEFHeader(nil, tt.in)); got != tt.header {
			t.Errorf("header %q = %q, want %q", tt.in, got, tt.header)
		}
		if got := string(export.AppendCEFValue(nil, tt.in)); got != tt.value {
			t.Errorf("value %q = %q, want %q", tt.in, got, tt.value)
		}
	}
}

// parseCEF splits a CEF line into its 7 header fields and its extensions,
// undoing the escapes: the reading side of what CEF writes.
func parseCEF(line string) (header []string, ext map[string]string, err error) {
	var cur []byte
	i := 0
	for ; i < len(line) && len(header) < 7; i++ {
		switch c := line[i]; c {
		case '\\':
			if i+1 >= len(line) || (line[i+1] != '\\' && line[i+1] != '|') {
				return nil, nil, fmt.Errorf("bad header escape at %d", i)
			}
			cur = append(cur, line[i+1])
			i++
		case '|':
			header = append(header, string(cur))
			cur = cur[:0]
		default:
			cur = append(cur, c)
		}
	}
	if len(header) != 7 {
		return nil, nil, errors.New("short header")
	}
	ext = map[string]string{}
	rest := line[i:]
	// Keys are the words followed by an unescaped '=' after a space.
	var key string
	cur = cur[:0]
	for j := 0; j <= len(rest); j++ {
		if j == len(rest) {
			if key != "" {
				ext[key] = string(cur)
			}
			break
		}
		c := rest[j]
		switch {
		case c == '\\' && j+1 < len(rest):
			switch rest[j+1] {
			case 'n':
				cur = append(cur, '\n')
			case 'r':
				cur = append(cur, '\r')
			case '\\', '=':
				cur = append(cur, rest[j+1])
			default:
				return nil, nil, fmt.Errorf("bad escape \\%c", rest[j+1])
			}
			j++
		case c == '=':
			// cur is "value-of-previous key SPACE newkey".
			k := len(cur) - 1
			for k >= 0 && cur[k] != ' ' {
				k--
			}
			if key != "" {
				if k < 0 {
					return nil, nil, errors.New("value without a separating space")
				}
				ext[key] = string(cur[:k])
			}
			key = string(cur[k+1:])
			cur = cur[:0]
		default:
			cur = append(cur, c)
		}
	}
	return header, ext, nil
}

func TestCEFRoundTrip(t *testing.T) {
	rec := exporttest.Cases()["tor-access-resolved"]
	rec.Alert.Title = `Tor | exit \ node`
	rec.Alert.Explanation = "a=b\\c\nd|e"
	b, err := export.CEF{ProductVersion: "1|2"}.Append(nil, &rec)
	if err != nil {
		t.Fatal(err)
	}
	h, ext, err := parseCEF(string(b))
	if err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if want := []string{"CEF:0", "vaultwatch", "vaultwatch", "1|2", "tor-access", rec.Alert.Title, "6"}; !slices.Equal(h, want) {
		t.Errorf("header %q, want %q", h, want)
	}
	for k, v := range map[string]string{
		"msg": rec.Alert.Explanation, "cs1": rec.Alert.Vault.ID, "cs2": rec.Alert.ID, "act": "resolved",
		"src": "185.220.101.34", "suser": "alice@contoso.com", "cs4": rec.IdempotencyKey(), "cat": "status",
		"outcome": "success", "rt": fmt.Sprint(rec.At.UnixMilli()), "start": fmt.Sprint(rec.Alert.StartTime.UnixMilli()),
	} {
		if ext[k] != v {
			t.Errorf("%s = %q, want %q", k, ext[k], v)
		}
	}
}

func TestSyslogFrame(t *testing.T) {
	rec := exporttest.Cases()["tor-access-new"]
	for _, fac := range []int{0, 20, 23} {
		s := export.Syslog{Facility: fac, Hostname: "host name\x01", AppName: "vaultwatch"}
		b, err := s.AppendFrame(nil, &rec)
		if err != nil {
			t.Fatal(err)
		}
		msg, rest, err := export.ReadFrame(b, 1<<20)
		if err != nil || len(rest) != 0 || msg == nil {
			t.Fatalf("ReadFrame: %q %q %v", msg, rest, err)
		}
		wantPri := fmt.Sprintf("<%d>1 ", fac*8+4)
		if !bytes.HasPrefix(msg, []byte(wantPri)) {
			t.Errorf("facility %d: message starts %q, want %q", fac, msg[:10], wantPri)
		}
		f := strings.SplitN(string(msg), " ", 7)
		if f[1] != "2026-11-20T09:27:00.000000Z" || f[2] != "host_name_" || f[3] != "vaultwatch" || f[4] != "-" || f[5] != "alert" {
			t.Errorf("header %q", f[:6])
		}
		if !strings.HasPrefix(f[6], `[vaultwatch@32473 key="`+rec.IdempotencyKey()+`"`) {
			t.Errorf("structured data %q", f[6])
		}
	}
	if _, err := (&export.Syslog{Facility: 24}).AppendFrame(nil, &rec); err == nil {
		t.Error("facility 24 accepted")
	}
}

func TestReadFrame(t *testing.T) {
	tests := []struct {
		in        string
		msg, rest string
		whole     bool
		err       bool
	}{
		{"5 hello", "hello", "", true, false},
		{"5 hello3 abc", "hello", "3 abc", true, false},
		{"5 hel", "", "5 hel", false, false},
		{"12", "", "12", false, false},
		{"", "", "", false, false},
		{"x hello", "", "", false, true},
		{"05 hello", "", "", false, true},
		{" 5 hello", "", "", false, true},
		{"99999999 x", "", "", false, true},
	}
	for _, tt := range tests {
		msg, rest, err := export.ReadFrame([]byte(tt.in), 1<<20)
		if (err != nil) != tt.err {
			t.Errorf("%q: err %v", tt.in, err)
			continue
		}
		if tt.err {
			if !errors.Is(err, export.ErrFrame) {
				t.Errorf("%q: %v is not ErrFrame", tt.in, err)
			}
			continue
		}
		if (msg != nil) != tt.whole || string(msg) != tt.msg || string(rest) != tt.rest {
			t.Errorf("%q: %q %q", tt.in, msg, rest)
		}
	}
}

func TestNewFormat(t *testing.T) {
	for _, n := range []string{"", "native", "ocsf", "cef"} {
		f, err := export.NewFormat(n, "1.0")
		if err != nil {
			t.Fatal(err)
		}
		if n != "" && f.Name() != n {
			t.Errorf("%s: Name %s", n, f.Name())
		}
	}
	if _, err := export.NewFormat("xml", ""); err == nil {
		t.Error("xml accepted")
	}
}

func TestInvalidRecord(t *testing.T) {
	bad := []export.Record{
		{Kind: "alert"},
		{Kind: "bogus", Alert: alert.Alert{ID: "vw-1"}},
		{Kind: "status", Alert: alert.Alert{ID: "vw-1"}},
	}
	for _, f := range []export.Format{export.Native{}, export.OCSF{}, export.CEF{}} {
		for _, r := range bad {
			out, err := f.Append([]byte("x"), &r)
			if err == nil {
				t.Errorf("%s accepted %+v", f.Name(), r)
			}
			if string(out) != "x" {
				t.Errorf("%s: dst changed on error: %q", f.Name(), out)
			}
		}
	}
}

func benchmarkFormat(b *testing.B, enc func([]byte, *export.Record) ([]byte, error)) {
	recs := exporttest.Stream(64)
	var buf []byte
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		var err error
		buf, err = enc(buf[:0], &recs[n%len(recs)])
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkFormatNative(b *testing.B) { benchmarkFormat(b, export.Native{}.Append) }
func BenchmarkFormatOCSF(b *testing.B)   { benchmarkFormat(b, export.OCSF{}.Append) }
func BenchmarkFormatCEF(b *testing.B)    { benchmarkFormat(b, export.CEF{}.Append) }
func BenchmarkFormatSyslogCEF(b *testing.B) {
	s := &export.Syslog{Facility: 20, Hostname: "h"}
	benchmarkFormat(b, s.AppendFrame)
}
