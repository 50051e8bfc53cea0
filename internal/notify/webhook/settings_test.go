package webhook

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vaultwatch/internal/alert"
)

func TestSettings(t *testing.T) {
	r := newReceiver(t)
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "url.secret")
	keyFile := filepath.Join(dir, "hmac.secret")
	if err := os.WriteFile(urlFile, []byte(r.url()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(testKey), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) (string, bool) { return r.url(), k == "HOOK_URL" }

	s := Settings{Name: "siem", Type: Generic, URLFile: urlFile, SecretFile: keyFile, MinSeverity: alert.SeverityMedium, Vaults: []string{"kv-pay"}}
	n, err := s.Notifier("", nil, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(context.Background(), single()); err != nil {
		t.Fatal(err)
	}
	if len(r.reqs) != 1 || !verify(testKey, r.reqs[0].Header, r.bodies[0]) {
		t.Fatal("not delivered or not signed with the key file")
	}
	if rc := s.Route(); rc.Address != "siem" || rc.MinSeverity != alert.SeverityMedium || rc.Vaults[0] != "kv-pay" {
		t.Errorf("Route %+v", rc)
	}

	if _, err := (Settings{Name: "chat", Type: Slack, URLEnv: "HOOK_URL"}).Notifier("", nil, env); err != nil {
		t.Errorf("url from the environment: %v", err)
	}

	tests := []struct {
		s    Settings
		want []string
	}{
		{Settings{Name: "a", Type: Slack, URL: "https://x", URLFile: urlFile}, []string{"not both"}},
		{Settings{Name: "b", Type: Teams, URLFile: urlFile, SecretFile: keyFile}, []string{"is not signed"}},
		{Settings{Name: "c", Type: Generic, URLFile: filepath.Join(dir, "nope")}, []string{`webhook "c" url_file`, "no such file"}},
		{Settings{Name: "d", Type: Generic, URL: "https://x"}, []string{"signing secret"}},
	}
	for _, tt := range tests {
		_, err := tt.s.Notifier("", nil, env)
		for _, want := range tt.want {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %v lacks %q", tt.s.Name, err, want)
			}
		}
		if err != nil && strings.Contains(err.Error(), urlSecret) {
			t.Errorf("%s: the error shows the URL: %v", tt.s.Name, err)
		}
	}
}
