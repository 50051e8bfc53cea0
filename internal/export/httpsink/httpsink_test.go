package httpsink

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"vaultwatch/internal/export"
	"vaultwatch/internal/export/exporttest"
)

// receiver is an export endpoint that keeps what it accepted, deduplicated
// by idempotency key, as a real receiver must.
type receiver struct {
	mu      sync.Mutex
	key     []byte
	token   string
	status  []int // answers to give, in order; then 200
	reqs    []*http.Request
	bodies  [][]byte
	keys    []string
	seen    map[string]bool
	badSigs int
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rv.mu.Lock()
	defer rv.mu.Unlock()
	rv.reqs = append(rv.reqs, r)
	rv.bodies = append(rv.bodies, body)
	if rv.token != "" && r.Header.Get("Authorization") != "Bearer "+rv.token {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if rv.key != nil {
		if err := Verify(rv.key, r.Header, body, time.Now(), 5*time.Minute); err != nil {
			rv.badSigs++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}
	if len(rv.status) > 0 {
		c := rv.status[0]
		rv.status = rv.status[1:]
		w.WriteHeader(c)
		return
	}
	var envs []struct {
		Key string `json:"idempotency_key"`
	}
	if r.Header.Get("Content-Type") == "application/json" {
		if err := json.Unmarshal(body, &envs); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	} else {
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var e struct {
				Key string `json:"idempotency_key"`
			}
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			envs = append(envs, e)
		}
	}
	if rv.seen == nil {
		rv.seen = map[string]bool{}
	}
	for _, e := range envs {
		if !rv.seen[e.Key] {
			rv.seen[e.Key] = true
			rv.keys = append(rv.keys, e.Key)
		}
	}
	w.WriteHeader(http.StatusAccepted)
}

func serve(t *testing.T, rv http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(rv)
	t.Cleanup(srv.Close)
	return srv.URL
}

func keysOf(recs []export.Record) []string {
	var out []string
	for i := range recs {
		out = append(out, recs[i].IdempotencyKey())
	}
	return out
}

func TestSendEncodings(t *testing.T) {
	for _, enc := range []string{"", EncodingJSON, EncodingNDJSON} {
		t.Run("encoding="+enc, func(t *testing.T) {
			rv := &receiver{}
			s, err := New(Config{Name: "siem", URL: serve(t, rv) + "/ingest", Encoding: enc, Headers: map[string]string{"X-Tenant": "acme"}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			recs := exporttest.Stream(5)
			if err := s.Send(t.Context(), recs); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(rv.keys, " "); got != strings.Join(keysOf(recs), " ") {
				t.Errorf("received %s", got)
			}
			r := rv.reqs[0]
			if r.Method != http.MethodPost || r.URL.Path != "/ingest" || r.Header.Get("X-Tenant") != "acme" {
				t.Errorf("request %s %s %v", r.Method, r.URL, r.Header)
			}
			wantType := "application/json"
			if enc == EncodingNDJSON {
				wantType = "application/x-ndjson"
			}
			if ct := r.Header.Get("Content-Type"); ct != wantType {
				t.Errorf("Content-Type %q, want %q", ct, wantType)
			}
		})
	}
}

func TestCEFOverNDJSON(t *testing.T) {
	rv := &receiver{status: []int{200}}
	s, err := New(Config{URL: serve(t, rv), Encoding: EncodingNDJSON, Format: export.CEF{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), exporttest.Stream(3)); err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(rv.bodies[0], []byte("\nCEF:0|")); lines != 2 || !bytes.HasPrefix(rv.bodies[0], []byte("CEF:0|")) {
		t.Errorf("body %q", rv.bodies[0])
	}
	if _, err := New(Config{URL: "http://127.0.0.1:1", Format: export.CEF{}}); err == nil {
		t.Error("CEF in a JSON array accepted")
	}
}

func TestBearerAndSignature(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	keyFile := filepath.Join(dir, "key")
	_ = os.WriteFile(tokenFile, []byte("tok-123\n"), 0o600)
	_ = os.WriteFile(keyFile, []byte("k3y"), 0o600)
	rv := &receiver{token: "tok-123", key: []byte("k3y")}
	cfg := Config{Name: "signed", URL: serve(t, rv), BearerTokenFile: tokenFile, HMACKeyFile: keyFile}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	recs := exporttest.Stream(2)
	if err := s.Send(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	if rv.badSigs != 0 || len(rv.keys) != 2 {
		t.Fatalf("bad signatures %d, keys %v", rv.badSigs, rv.keys)
	}
	r, body := rv.reqs[0], rv.bodies[0]
	if sig := r.Header.Get(SignatureHeader); !strings.HasPrefix(sig, "sha256=") || len(sig) != 7+64 {
		t.Errorf("signature header %q", sig)
	}
	// Tampering with the body, the timestamp or the key fails.
	if err := Verify([]byte("k3y"), r.Header, append(body, ' '), time.Now(), time.Minute); !errors.Is(err, ErrSignature) {
		t.Errorf("tampered body: %v", err)
	}
	if err := Verify([]byte("other"), r.Header, body, time.Now(), time.Minute); !errors.Is(err, ErrSignature) {
		t.Errorf("other key: %v", err)
	}
	if err := Verify([]byte("k3y"), r.Header, body, time.Now().Add(time.Hour), time.Minute); !errors.Is(err, ErrSignature) {
		t.Errorf("replayed an hour later: %v", err)
	}
	h := r.Header.Clone()
	h.Set(TimestampHeader, fmt.Sprint(time.Now().Unix()+1))
	if err := Verify([]byte("k3y"), h, body, time.Now(), time.Minute); !errors.Is(err, ErrSignature) {
		t.Errorf("changed timestamp: %v", err)
	}
	// The description never shows the secrets.
	for _, out := range []string{cfg.String(), fmt.Sprintf("%v %+v", cfg, Config{BearerToken: "tok-123", HMACKey: "k3y"})} {
		if strings.Contains(out, "tok-123") || strings.Contains(out, "k3y") {
			t.Errorf("secret shown: %s", out)
		}
	}
	// A wrong token is refused, permanently.
	s2, _ := New(Config{URL: cfg.URL, BearerToken: "wrong"})
	if err := s2.Send(t.Context(), recs); !errors.Is(err, export.ErrPermanent) || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong token: %v", err)
	}
}

func TestStatusClasses(t *testing.T) {
	tests := []struct {
		status   int
		ok, perm bool
	}{
		{200, true, false},
		{204, true, false},
		{400, false, true},
		{401, false, true},
		{404, false, true},
		{413, false, true},
		{408, false, false},
		{429, false, false},
		{500, false, false},
		{503, false, false},
		{302, false, true},
	}
	for _, tt := range tests {
		rv := &receiver{status: []int{tt.status}}
		s, err := New(Config{URL: serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tt.status == 302 {
				http.Redirect(w, r, "/elsewhere", http.StatusFound)
				return
			}
			rv.ServeHTTP(w, r)
		}))})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Send(t.Context(), exporttest.Stream(1))
		if (err == nil) != tt.ok || errors.Is(err, export.ErrPermanent) != tt.perm {
			t.Errorf("%d: %v (permanent %v)", tt.status, err, errors.Is(err, export.ErrPermanent))
		}
	}
}

func TestRetryDelivers(t *testing.T) {
	// The first answer is a 503 after the receiver got the batch: the
	// retry sends it again, and the receiver drops the copies by key.
	rv := &receiver{status: []int{503}}
	s, err := New(Config{URL: serve(t, rv)})
	if err != nil {
		t.Fatal(err)
	}
	recs := exporttest.Stream(4)
	if err := s.Send(t.Context(), recs); err == nil || errors.Is(err, export.ErrPermanent) {
		t.Fatalf("first Send: %v, want a retryable error", err)
	}
	if err := s.Send(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), recs[2:]); err != nil {
		t.Fatal(err)
	}
	if len(rv.keys) != 4 {
		t.Errorf("receiver kept %v", rv.keys)
	}
}

func TestTimeoutAndNetworkErrorsRetry(t *testing.T) {
	release := make(chan struct{})
	url := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer close(release)
	s, err := New(Config{URL: url + "/?token=abc", Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(t.Context(), exporttest.Stream(1))
	if err == nil || errors.Is(err, export.ErrPermanent) {
		t.Errorf("timeout: %v, want retryable", err)
	}
	if err != nil && strings.Contains(err.Error(), "abc") {
		t.Errorf("the error shows the query: %v", err)
	}

	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	s, _ = New(Config{URL: addr})
	if err := s.Send(t.Context(), exporttest.Stream(1)); err == nil || errors.Is(err, export.ErrPermanent) {
		t.Errorf("connection refused: %v, want retryable", err)
	}
	_ = s.Close()
	if err := s.Send(t.Context(), exporttest.Stream(1)); err == nil {
		t.Error("Send after Close succeeded")
	}
}

func TestValidate(t *testing.T) {
	c := Config{URL: "ftp://x", Encoding: "xml", BearerToken: "a", BearerTokenFile: "f", HMACKey: "b", HMACKeyFile: "g", Timeout: -1,
		Headers: map[string]string{"bad header": "x"}}
	err := c.Validate()
	for _, w := range []string{"url", "encoding", "bearer_token", "hmac_key", "timeout", "header"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate: %v, want %s named", err, w)
		}
	}
	if err := (&Config{}).Validate(); err == nil {
		t.Error("no url accepted")
	}
	if _, err := New(Config{URL: "http://x", BearerTokenFile: filepath.Join(t.TempDir(), "none")}); err == nil || !strings.Contains(err.Error(), "bearer_token_file") {
		t.Errorf("missing token file: %v", err)
	}
}
