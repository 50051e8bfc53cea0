package hashivault

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
)

// entryJSON builds a small audit entry.
func entryJSON(typ, id, path, t string, extra string) string {
	idField := ""
	if id != "" {
		idField = `"id":"` + id + `",`
	}
	return `{"type":"` + typ + `","time":"` + t + `","auth":{"accessor":"hmac-sha256:aa","display_name":"token","policies":["default"]},` +
		`"request":{` + idField + `"operation":"read","path":"` + path + `","mount_point":"secret/","mount_type":"kv","namespace":{"id":"root"}}` + extra + `}`
}

type collector struct {
	p   fastjson.Parser
	d   *Decoder
	evs []event.Event
}

func newCollector() *collector { return &collector{d: NewDecoder()} }

func (c *collector) emit(e *event.Event) { c.evs = append(c.evs, *e) }

func (c *collector) decode(t *testing.T, line int, rec string) error {
	t.Helper()
	v, err := c.p.Parse(rec)
	if err != nil {
		t.Fatalf("line %d: %v", line, err)
	}
	return c.d.Decode(v, event.Location{File: "t", Line: int64(line)}, c.emit)
}

func TestHeldRequestsAreBounded(t *testing.T) {
	c := newCollector()
	c.d.max = 2
	for i := 1; i <= 3; i++ {
		if err := c.decode(t, i, entryJSON("request", fmt.Sprint("r", i), "secret/data/a", fmt.Sprintf("2026-01-01T00:00:0%dZ", i), "")); err != nil {
			t.Fatal(err)
		}
	}
	// The third request evicted the first, emitted unpaired.
	if len(c.evs) != 1 || c.evs[0].CorrelationID != "r1" || c.evs[0].Result.Outcome != event.OutcomeUnknown || c.evs[0].Source.Line != 1 {
		t.Fatalf("after 3 requests with room for 2: %+v", c.evs)
	}
	if c.d.Held() != 2 {
		t.Errorf("held %d, want 2", c.d.Held())
	}
	// r1's late response is emitted on its own; r3's pairs.
	for i, id := range []string{"r1", "r3"} {
		if err := c.decode(t, 4+i, entryJSON("response", id, "secret/data/a", "2026-01-01T00:00:09Z", "")); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.evs) != 3 || c.evs[1].CorrelationID != "r1" ||
		c.evs[1].Time.Second() != 9 || c.evs[2].Time.Second() != 3 || c.evs[2].Result.Outcome != event.OutcomeSuccess {
		t.Fatalf("responses: %+v", c.evs[1:])
	}
	c.d.Flush(c.emit)
	if len(c.evs) != 4 || c.evs[3].CorrelationID != "r2" || c.evs[3].Result.Outcome != event.OutcomeUnknown || c.evs[3].Source.Line != 2 {
		t.Fatalf("flush: %+v", c.evs[3:])
	}
	if c.d.Held() != 0 {
		t.Errorf("held %d after flush", c.d.Held())
	}
	c.d.Flush(c.emit)
	if len(c.evs) != 4 {
		t.Errorf("second flush emitted %d events", len(c.evs)-4)
	}
}

func TestRepeatedRequestIDKeepsBoth(t *testing.T) {
	c := newCollector()
	for i := 1; i <= 2; i++ {
		if err := c.decode(t, i, entryJSON("request", "same", "secret/data/a", fmt.Sprintf("2026-01-01T00:00:0%dZ", i), "")); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.decode(t, 3, entryJSON("response", "same", "secret/data/a", "2026-01-01T00:00:05Z", "")); err != nil {
		t.Fatal(err)
	}
	if len(c.evs) != 2 || c.evs[0].Source.Line != 1 || c.evs[0].Result.Outcome != event.OutcomeUnknown ||
		c.evs[1].Time.Second() != 2 || c.evs[1].Result.Outcome != event.OutcomeSuccess {
		t.Fatalf("%+v", c.evs)
	}
}

func TestDecodeErrors(t *testing.T) {
	const secret = "hunter2-value"
	for _, c := range []struct{ name, rec, field string }{
		{"no type", `{"time":"2026-01-01T00:00:00Z","request":{"operation":"read","path":"` + secret + `"}}`, `"type"`},
		{"bad type", `{"type":"` + secret + `","time":"2026-01-01T00:00:00Z","request":{"operation":"read"}}`, `"type"`},
		{"no request", `{"type":"request","time":"2026-01-01T00:00:00Z","auth":{"client_token":"` + secret + `"}}`, `"request"`},
		{"request not an object", `{"type":"request","time":"2026-01-01T00:00:00Z","request":"` + secret + `"}`, `"request"`},
		{"no time", `{"type":"request","request":{"operation":"read","path":"secret/a"}}`, `"time"`},
		{"bad time", `{"type":"request","time":"` + secret + `-2026","request":{"operation":"read"}}`, `"time"`},
		{"no operation", `{"type":"response","time":"2026-01-01T00:00:00Z","request":{"path":"secret/` + secret + `"}}`, `"request.operation"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			col := newCollector()
			err := col.decode(t, 1, c.rec)
			if err == nil {
				t.Fatal("no error")
			}
			if _, skip := record.IsSkip(err); skip {
				t.Fatalf("skipped: %v", err)
			}
			if !strings.Contains(err.Error(), c.field) {
				t.Errorf("error %q does not name %s", err, c.field)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error quotes the record: %v", err)
			}
			if len(col.evs) != 0 {
				t.Errorf("emitted %d events", len(col.evs))
			}
		})
	}
}

func TestAuditDeviceTestEntryIsSkipped(t *testing.T) {
	c := newCollector()
	err := c.decode(t, 1, `{"request":{"id":"x","namespace":{"id":"root"},"operation":"update","path":"sys/audit/test"},"time":"2026-11-27T04:45:07.773689065Z","type":"request"}`)
	if reason, ok := record.IsSkip(err); !ok || reason != "audit device test entry" {
		t.Fatalf("err %v", err)
	}
	c.d.Flush(c.emit)
	if len(c.evs) != 0 {
		t.Errorf("test entry emitted: %+v", c.evs)
	}
	// A real client calling that path is an access.
	rec := `{"auth":{"accessor":"hmac-sha256:aa","policies":["root"]},"request":{"id":"y","operation":"update","path":"sys/audit/test","remote_address":"10.0.0.1"},"time":"2026-11-27T04:45:07Z","type":"request"}`
	if err := c.decode(t, 2, rec); err != nil {
		t.Fatal(err)
	}
	c.d.Flush(c.emit)
	if len(c.evs) != 1 || c.evs[0].Object.Name != "sys/audit/test" {
		t.Errorf("%+v", c.evs)
	}
}

// TestPoliciesCanBeKept checks that a receiver keeping an event by struct
// copy keeps its policies, whatever the decoder does next, and that
// appending to them does not reach later events.
func TestPoliciesCanBeKept(t *testing.T) {
	c := newCollector()
	rec := func(id, policies string) string {
		return `{"type":"response","time":"2026-01-01T00:00:00Z","auth":{"accessor":"hmac-sha256:aa","policies":[` + policies +
			`]},"request":{"id":"` + id + `","operation":"read","path":"secret/data/a"}}`
	}
	for i, p := range []string{`"a","b"`, `"c"`, `"a","b"`, `"d","e","f"`} {
		if err := c.decode(t, i+1, rec(fmt.Sprint(i), p)); err != nil {
			t.Fatal(err)
		}
	}
	c.evs[0].Caller.Policies = append(c.evs[0].Caller.Policies, "x")
	want := [][]string{{"a", "b", "x"}, {"c"}, {"a", "b"}, {"d", "e", "f"}}
	for i, e := range c.evs {
		if !slices.Equal(e.Caller.Policies, want[i]) {
			t.Errorf("event %d policies %v, want %v", i, e.Caller.Policies, want[i])
		}
	}
}

func TestDetect(t *testing.T) {
	var p fastjson.Parser
	for rec, want := range map[string]bool{
		`{"type":"request","request":{"id":"a"}}`:                           true,
		`{"type":"response","auth":{"accessor":"x"}}`:                       true,
		`{"type":"response","time":"t"}`:                                    false,
		`{"type":"event","request":{}}`:                                     false,
		`{"type":1,"request":{}}`:                                           false,
		`{"type":"request","request":"x"}`:                                  false,
		`{"time":"2024-04-03T14:03:10Z","operationName":"SecretGet"}`:       false,
		`{"eventSource":"kms.amazonaws.com","eventName":"Decrypt"}`:         false,
		`{"protoPayload":{"methodName":"x"},"resource":{"type":"project"}}`: false,
	} {
		v, err := p.Parse(rec)
		if err != nil {
			t.Fatal(err)
		}
		if got := Detect(v); got != want {
			t.Errorf("Detect(%s) = %v", rec, got)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		op, path, mountPoint, mountType string
		class                           event.Class
		kind                            event.ObjectKind
		name                            string
	}{
		{"read", "secret/config", "secret/", "kv", event.ClassRead, event.KindSecret, "config"},
		{"create", "secret/metadata/a", "secret/", "kv", event.ClassWrite, event.KindSecret, "a"},
		{"list", "secret/data/", "secret/", "kv", event.ClassList, event.KindSecret, ""},
		{"read", "secret/data", "", "", event.ClassRead, event.KindSecret, ""},
		{"update", "sys/wrapping/unwrap", "sys/", "system", event.ClassRead, event.KindPath, "sys/wrapping/unwrap"},
		{"update", "sys/wrapping/lookup", "sys/", "system", event.ClassOther, event.KindPath, "sys/wrapping/lookup"},
		{"update", "sys/mfa/validate", "sys/", "system", event.ClassAuth, event.KindPath, "sys/mfa/validate"},
		{"read", "sys/raw/core/keyring", "sys/", "system", event.ClassManagement, event.KindPath, "sys/raw/core/keyring"},
		{"update", "sys/policy", "sys/", "system", event.ClassPolicyChange, event.KindPath, "sys/policy"},
		{"read", "sys/policyx", "sys/", "system", event.ClassManagement, event.KindPath, "sys/policyx"},
		{"help", "sys/mounts", "sys/", "system", event.ClassOther, event.KindPath, "sys/mounts"},
		{"alias-lookahead", "auth/userpass/login/alice", "auth/userpass/", "userpass", event.ClassOther, event.KindPath, "login/alice"},
		{"update", "auth/oidc/oidc/auth_url", "auth/oidc/", "oidc", event.ClassAuth, event.KindPath, "oidc/auth_url"},
		{"update", "auth/corp/login/alice", "auth/corp/", "ldap", event.ClassAuth, event.KindPath, "login/alice"},
		{"read", "auth/approle/role/app/role-id", "auth/approle/", "approle", event.ClassManagement, event.KindPath, "role/app/role-id"},
		{"delete", "auth/ldap/groups/ops/policies", "auth/ldap/", "ldap", event.ClassPolicyChange, event.KindPath, "groups/ops/policies"},
		{"update", "auth/token/create/deployer", "auth/token/", "token", event.ClassAuth, event.KindPath, "create/deployer"},
		{"update", "auth/token/tidy", "auth/token/", "token", event.ClassManagement, event.KindPath, "tidy"},
		{"update", "transit/keys/k/config", "transit/", "transit", event.ClassWrite, event.KindKey, "k"},
		{"delete", "transit/keys/k", "transit/", "transit", event.ClassDelete, event.KindKey, "k"},
		{"update", "transit/rewrap/k", "transit/", "transit", event.ClassCrypto, event.KindKey, "k"},
		{"update", "transit/verify/k/sha2-512", "transit/", "transit", event.ClassCrypto, event.KindKey, "k"},
		{"update", "transit/datakey/wrapped/k", "transit/", "transit", event.ClassCrypto, event.KindKey, "k"},
		{"update", "transit/random/32", "transit/", "transit", event.ClassCrypto, event.KindPath, "random/32"},
		{"update", "transit/cache-config", "transit/", "transit", event.ClassManagement, event.KindPath, "cache-config"},
		{"update", "transit/encrypt/k", "", "", event.ClassCrypto, event.KindKey, "k"},
		{"read", "identity/entity/id/abc", "identity/", "ns_identity", event.ClassManagement, event.KindPath, "entity/id/abc"},
		{"delete", "cubbyhole/x", "cubbyhole/", "ns_cubbyhole", event.ClassDelete, event.KindSecret, "x"},
		{"read", "aws/creds/deploy", "aws/", "aws", event.ClassRead, event.KindPath, "creds/deploy"},
		{"update", "secret/destroy/a/b", "", "", event.ClassPurge, event.KindSecret, "a/b"},
		{"update", "kv/undelete/a", "", "", event.ClassRecover, event.KindSecret, "a"},
	} {
		var p fastjson.Parser
		rec := fmt.Sprintf(`{"type":"response","time":"2026-01-01T00:00:00Z","request":{"id":"i","operation":%q,"path":%q,"mount_point":%q,"mount_type":%q}}`,
			c.op, c.path, c.mountPoint, c.mountType)
		v, err := p.Parse(rec)
		if err != nil {
			t.Fatal(err)
		}
		var got event.Event
		if err := NewDecoder().Decode(v, event.Location{}, func(e *event.Event) { got = *e }); err != nil {
			t.Fatal(err)
		}
		wantKind := c.kind
		if c.name == "" {
			wantKind = ""
		}
		if got.Operation.Class != c.class || got.Object.Kind != wantKind || got.Object.Name != c.name {
			t.Errorf("%s %s: %s %s %q, want %s %s %q", c.op, c.path, got.Operation.Class, got.Object.Kind, got.Object.Name, c.class, wantKind, c.name)
		}
	}
}

// TestPairAllocations guards the hot path: once a stream's strings are
// known, a request and its response cost one allocation, the request id.
func TestPairAllocations(t *testing.T) {
	req := []byte(entryJSON("request", "5f0b2d7e-8c1a-4f3e-9b6d-2a7c4e1f0a11", "secret/data/app/db", "2026-03-02T10:00:00.1Z",
		`,"error":""`))
	resp := []byte(entryJSON("response", "5f0b2d7e-8c1a-4f3e-9b6d-2a7c4e1f0a11", "secret/data/app/db", "2026-03-02T10:00:00.2Z",
		`,"response":{"data":{"data":{"k":"hmac-sha256:00"},"metadata":{"version":3}}}`))
	var p fastjson.Parser
	d := NewDecoder()
	n := 0
	emit := func(*event.Event) { n++ }
	run := func() {
		v, _ := p.ParseBytes(req)
		_ = d.Decode(v, event.Location{}, emit)
		v, _ = p.ParseBytes(resp)
		_ = d.Decode(v, event.Location{}, emit)
	}
	run()
	if allocs := testing.AllocsPerRun(200, run); allocs > 1 {
		t.Errorf("%.1f allocations per request and response, want at most 1", allocs)
	}
	if n < 201 {
		t.Errorf("%d events", n)
	}
}
