package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"vaultwatch/internal/source/socket"
	"vaultwatch/internal/testutil"
)

// vaultBinary finds the Vault server built by tools/vault (or named by
// VAULTWATCH_VAULT_BIN).
func vaultBinary(t *testing.T) string {
	t.Helper()
	p := os.Getenv("VAULTWATCH_VAULT_BIN")
	if p == "" {
		p = filepath.Join(testutil.Root(t), "tools", "vault", "bin", "vault")
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("no Vault binary at %s: build it with `cd tools/vault && go build -trimpath -ldflags='-s -w' -o bin/vault github.com/hashicorp/vault` (.ci/run does)", p)
	}
	return p
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestRealVault runs a real Vault dev server on loopback with a socket audit
// device pointing at vaultwatch's listener and a file audit device that
// vaultwatch tails, performs reads, writes, a list, a denied read with a
// limited token and a policy change, and checks that vaultwatch stored
// exactly those calls from each device and raised the alerts they call for.
func TestRealVault(t *testing.T) {
	bin := vaultBinary(t)
	data, logs := t.TempDir(), t.TempDir()
	cfg, err := ParseServeConfig(fmt.Appendf(nil, `
listen: 127.0.0.1:0
data_dir: %q
sources:
  - name: vault-file
    type: file
    file:
      paths: [%q]
      poll: 20ms
  - name: vault-socket
    type: socket
    socket:
      listen: 127.0.0.1:0
`, data, logs))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := NewService(ctx, ServeOptions{Config: cfg, AdminPassword: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.Auth().CreateToken(ctx, "test", "viewer", "", "admin")
	if err != nil {
		t.Fatal(err)
	}
	var sockAddr string
	for _, src := range s.sources {
		if l, ok := src.(*socket.Listener); ok {
			sockAddr = l.Addr().String()
		}
	}
	rctx, cancel := context.WithCancel(ctx)
	ts := &testService{Service: s, token: tok, cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- s.Run(rctx) }()
	defer ts.stop(t)

	addr := freePort(t)
	vctx, stopVault := context.WithCancel(ctx)
	defer stopVault()
	server := exec.CommandContext(vctx, bin, "server", "-dev", "-dev-root-token-id=root", "-dev-listen-address="+addr)
	server.Env = append(os.Environ(), "HOME="+t.TempDir(), "VAULT_DISABLE_MLOCK=true")
	var serverLog strings.Builder
	server.Stdout, server.Stderr = &serverLog, &serverLog
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stopVault()
		server.Wait()
		if t.Failed() {
			t.Logf("vault server output:\n%s", serverLog.String())
		}
	}()
	eventually(t, "vault to answer", func() bool {
		resp, err := http.Get("http://" + addr + "/v1/sys/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	vault := func(token string, args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "VAULT_ADDR=http://"+addr, "VAULT_TOKEN="+token, "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := vault("root", args...)
		if err != nil {
			t.Fatalf("vault %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return out
	}
	must("audit", "enable", "-path=vaultwatch-socket", "socket", "address="+sockAddr, "socket_type=tcp", "format=json")
	must("audit", "enable", "-path=vaultwatch-file", "file", "file_path="+filepath.Join(logs, "audit.log"), "format=json")
	must("kv", "put", "secret/app/db", "password=hunter2-not-logged")
	must("kv", "get", "secret/app/db")
	must("kv", "list", "secret/app")
	policy := filepath.Join(t.TempDir(), "limited.hcl")
	os.WriteFile(policy, []byte(`path "secret/data/other/*" { capabilities = ["read"] }`+"\n"), 0o600)
	must("policy", "write", "limited", policy) // reads nothing of secret/app
	limited := must("token", "create", "-policy=limited", "-field=token")
	if out, err := vault(limited, "kv", "get", "secret/app/db"); err == nil {
		t.Fatalf("the limited token read the secret: %s", out)
	}

	// What each device must have delivered, by (operation, path).
	// (KV v2 paths are read as the secret's name; the token store's
	// create is a path object "create" on the auth/token vault.)
	want := []string{
		"create app/db", "read app/db", "list app/",
		"update sys/policies/acl/limited", "update create", "read app/db (denied)",
		"update sys/audit/vaultwatch-file",
	}
	type ev struct {
		Operation struct{ Name string }    `json:"operation"`
		Object    struct{ Name string }    `json:"object"`
		Result    struct{ Outcome string } `json:"result"`
		Source    struct{ File string }    `json:"source"`
		Raw       map[string]any           `json:"-"`
	}
	got := func() map[string][]string {
		out := map[string][]string{}
		var page struct{ Events []json.RawMessage }
		ts.get(t, "/api/v1/events?limit=1000&from=2000-01-01", &page)
		for _, raw := range page.Events {
			if strings.Contains(string(raw), "hunter2") {
				t.Errorf("a secret value reached the event index: %s", raw)
			}
			var e ev
			json.Unmarshal(raw, &e)
			dev := "file"
			if strings.HasPrefix(e.Source.File, "tcp ") {
				dev = "socket"
			}
			k := e.Operation.Name + " " + e.Object.Name
			if e.Result.Outcome == "denied" {
				k += " (denied)"
			}
			out[dev] = append(out[dev], k)
		}
		return out
	}
	var last map[string][]string
	defer func() {
		if t.Failed() {
			t.Logf("stored calls by device: %q", last)
		}
	}()
	eventually(t, "both devices' events", func() bool {
		last = got()
		for _, dev := range []string{"file", "socket"} {
			for _, w := range want {
				if !slices.Contains(last[dev], w) {
					return false
				}
			}
		}
		return true
	})
	time.Sleep(200 * time.Millisecond)
	last = got()
	for dev, calls := range last {
		counts := map[string]int{}
		for _, c := range calls {
			counts[c]++
		}
		for _, w := range want {
			if counts[w] != 1 {
				t.Errorf("%s device: %q stored %d times, want once (all: %q)", dev, w, counts[w], calls)
			}
		}
	}

	var alerts alertList
	eventually(t, "the alerts", func() bool {
		ts.get(t, "/api/v1/alerts?limit=100", &alerts)
		var types []string
		for _, a := range alerts.Alerts {
			types = append(types, a.Alert.Type)
		}
		return slices.Contains(types, "privileged-token-use") && slices.Contains(types, "audit-tampering")
	})
}
