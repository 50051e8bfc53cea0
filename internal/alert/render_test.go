package alert

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"vaultwatch/internal/testutil"
)

func sortedCases() []Alert {
	cases := testCases()
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Alert, 0, len(names))
	for i, n := range names {
		a := cases[n]
		// Spread the alerts over two days, not in input order.
		a.StartTime = a.StartTime.Add(time.Duration((i*7)%len(names)) * 3 * time.Hour)
		a.EndTime = a.EndTime.Add(time.Duration((i*7)%len(names)) * 3 * time.Hour)
		a.Fill()
		out = append(out, a)
	}
	return out
}

func TestWriteTableGolden(t *testing.T) {
	alerts := sortedCases()
	before := make([]string, len(alerts))
	for i, a := range alerts {
		before[i] = a.ID
	}
	var b bytes.Buffer
	if err := WriteTable(&b, alerts); err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, filepath.Join("testdata", "table", "want.txt"), b.Bytes())

	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != len(alerts)+1 || !strings.HasPrefix(lines[0], "WINDOW") {
		t.Fatalf("want a header and %d rows, got:\n%s", len(alerts), b.String())
	}
	rows := lines[1:]
	if !sort.StringsAreSorted(rows) { // rows start with the start time
		t.Errorf("rows not sorted by start time:\n%s", b.String())
	}
	for i, a := range alerts {
		if a.ID != before[i] {
			t.Fatal("WriteTable reordered its input")
		}
	}
	for _, l := range lines {
		if strings.ContainsAny(l, "\x1b\t\u202e") {
			t.Errorf("control character in %q", l)
		}
	}
}

func TestWriteTableEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, nil); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(b.String(), "\n"); got != 1 {
		t.Errorf("empty table: %q", b.String())
	}
}

func TestWriteTextEverything(t *testing.T) {
	a := testCases()["azure-tor-access-user"]
	a.Fill()
	var b bytes.Buffer
	if err := WriteText(&b, &a); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	want := []string{a.ID, a.Title, "MEDIUM", a.Vault.ID, "37", "T1555.006", "185.220.101.34 [tor, public] DE",
		"alice@contoso.com", "Alice Martin", "python-requests/2.32.3", "SecretGet 35", "success 37", "networks_seen",
		"payments-db-password  2026-11-20T09:13:00Z  2026-11-20T09:25:00Z  20", "app-settlement", "4. " + StepRotate}
	for _, c := range a.Remediation {
		want = append(want, c.Commands...)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("the text lacks %q", w)
		}
	}
}

type failWriter struct{}

var errWrite = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestWriteErrors(t *testing.T) {
	a := testCases()["gcp-unusual-ip-sa"]
	a.Fill()
	if err := WriteText(failWriter{}, &a); !errors.Is(err, errWrite) {
		t.Errorf("WriteText: %v, want the writer's error", err)
	}
	if err := WriteTable(failWriter{}, []Alert{a}); !errors.Is(err, errWrite) {
		t.Errorf("WriteTable: %v, want the writer's error", err)
	}
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text, é ü", "plain text, é ü"},
		{"a\nb\tc\rd", `a\nb\tc\rd`},
		{"\x1b[31mred", `\x1b[31mred`},
		{"abc\u202eexe.txt", `abc\u202eexe.txt`},
		{"bad \xff byte", `bad \xff byte`},
		{"del\x7f", `del\x7f`},
		{"c1\u0085", `c1\u0085`},
	}
	for _, tt := range tests {
		if got := clean(tt.in); got != tt.want {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWindow(t *testing.T) {
	s := time.Date(2026, 11, 20, 23, 50, 0, 0, time.UTC)
	tests := []struct {
		end  time.Time
		want string
	}{
		{s, "2026-11-20 23:50:00"},
		{s.Add(5 * time.Minute), "2026-11-20 23:50:00–23:55:00"},
		{s.Add(20 * time.Minute), "2026-11-20 23:50:00–2026-11-21 00:10:00"},
	}
	for _, tt := range tests {
		if got := window(s, tt.end); got != tt.want {
			t.Errorf("window to %v = %q, want %q", tt.end, got, tt.want)
		}
	}
}

// TestJSONRoundTrip: an alert's JSON is plain encoding/json, and it reads
// back to the same alert.
func TestJSONRoundTrip(t *testing.T) {
	for name, a := range testCases() {
		a.Fill()
		a.Sample = true
		raw, err := json.Marshal(&a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var back Alert
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(a, back) {
			t.Errorf("%s: the alert changed through JSON:\n%+v\n%+v", name, a, back)
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"id", "type", "title", "severity", "tactics", "technique", "startTime", "endTime", "vault", "entities", "evidence", "explanation", "remediation"} {
			if _, ok := fields[k]; !ok {
				t.Errorf("%s: the JSON lacks %q", name, k)
			}
		}
	}
}

// FuzzWriteText feeds names and identities from a hostile log through the
// playbook and the renderers: the text never carries a control character
// but newlines, and each provider's rotate command quotes the name.
func FuzzWriteText(f *testing.F) {
	f.Add("db-password", "alice@contoso.com", "192.0.2.1", 0)
	f.Add("it's\n$(x)", "\x1b[2J", "\u202e", 1)
	f.Add("", "", "", 2)
	f.Add("a b", "arn:aws:iam::1:user/x y", "::1", 3)
	providers := []string{"azure-keyvault", "hashicorp-vault", "aws-secretsmanager", "gcp-secretmanager", "aws-kms", "other"}
	f.Fuzz(func(t *testing.T, name, who, ip string, p int) {
		if p < 0 {
			p = -p
		}
		prov := providers[p%len(providers)]
		cat := Catalogue()
		a := Alert{
			Type:      cat[p%len(cat)].Type,
			StartTime: t0, EndTime: at(5), Count: 2,
			Vault: Vault{Provider: prov, ID: prov + ":" + who, Name: who},
			Entities: Entities{
				IPs: []IP{{Address: ip}}, UPNs: []string{who}, ObjectIDs: []string{who}, AppIDs: []string{who},
				ARNs: []string{who}, Principals: []string{who}, VaultEntities: []string{who}, TokenAccessors: []string{who}, DisplayNames: []string{who},
			},
			Evidence: Evidence{
				Operations: map[string]int{name: 1},
				Objects:    []Object{{Kind: "secret", Name: name, First: t0, Last: t0, Count: 1, Operations: map[string]int{name: 1}, NormalReaders: []string{who}}},
			},
			Explanation: name,
		}
		a.Fill()
		var b bytes.Buffer
		if err := WriteText(&b, &a); err != nil {
			t.Fatal(err)
		}
		if err := WriteTable(&b, []Alert{a}); err != nil {
			t.Fatal(err)
		}
		for _, r := range b.String() {
			if (r < 0x20 && r != '\n') || r == 0x7f || isBidi(r) || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("control character %U in the output", r)
			}
		}
		if name == "" || strings.ContainsAny(name, "/") {
			return
		}
		var rotate []string
		for _, s := range a.Remediation {
			if s.Title == StepRotate {
				rotate = s.Commands
			}
		}
		q := shellQuote(name)
		for _, c := range rotate {
			if strings.Contains(c, " "+q+" ") || strings.HasSuffix(c, " "+q) {
				return
			}
		}
		if prov != "other" && prov != "aws-kms" {
			t.Fatalf("no rotate command names %s: %q", q, rotate)
		}
	})
}

func BenchmarkFill(b *testing.B) {
	a := testCases()["azure-tor-access-user"]
	for b.Loop() {
		c := a
		c.Fill()
	}
}

func BenchmarkWriteText(b *testing.B) {
	a := testCases()["vault-privileged-token-use"]
	a.Fill()
	for b.Loop() {
		if err := WriteText(io.Discard, &a); err != nil {
			b.Fatal(err)
		}
	}
}
