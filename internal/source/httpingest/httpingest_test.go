package httpingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"vaultwatch/internal/auditlog"
	"vaultwatch/internal/event"
	"vaultwatch/internal/source"
)

const token = "test-token-for-source-azure"

// azure returns one Azure Key Vault AuditEvent record, one line.
func azure(i int) string {
	return fmt.Sprintf(`{"time":"2026-11-20T09:%02d:04.1734213Z","category":"AuditEvent","operationName":"SecretGet","resultType":"Success","correlationId":"0f7c2f47-6b5e-4a0e-9d0b-1c2f3e4a5b%02d","callerIpAddress":"20.61.14.201","identity":{"claim":{"oid":"8b1e6f0a-2c4d-4e5f-8a9b-0c1d2e3f4a5b","appid":"5c9d2a17-8e3f-4b6a-9c1d-2e3f4a5b6c7d","idtyp":"app"}},"properties":{"id":"https://kv-payments-prod.vault.azure.net/secrets/stripe-api-key/2f0b6c8e4a1d4e7f9b3c5d7e9f1a3b5c","httpStatusCode":200,"requestUri":"https://kv-payments-prod.vault.azure.net/secrets/stripe-api-key/?api-version=7.4","isAccessPolicyMatch":true},"resourceId":"/SUBSCRIPTIONS/6A1F3C52-0B7E-4C1D-9F2A-3E4D5C6B7A80/RESOURCEGROUPS/PAYMENTS/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV-PAYMENTS-PROD","operationVersion":"7.4","resultSignature":"OK","durationMs":"11"}`, i%60, i%100)
}

// pipeline plays the server's pipeline: it decodes each chunk with the
// intake and reports what became of it.
type pipeline struct {
	mu     sync.Mutex
	chunks []source.Chunk
	hold   bool // take chunks and never call Done
}

func (p *pipeline) run(ctx context.Context, in <-chan source.Chunk) {
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-in:
			p.mu.Lock()
			p.chunks = append(p.chunks, c)
			hold := p.hold
			p.mu.Unlock()
			if !hold {
				c.Done(decode(c))
			}
		}
	}
}

func decode(c source.Chunk) source.Result {
	stats := auditlog.NewStats()
	st := auditlog.NewStream(auditlog.Formats(), stats, func(*event.Event) {})
	if err := st.ReadAll(c.Origin, bytes.NewReader(c.Data)); err != nil {
		return source.Result{Err: err}
	}
	res := source.Result{
		Records:   int(stats.Records.Load()),
		Events:    int(stats.Events),
		Skipped:   int(stats.SkippedTotal()),
		Malformed: int(stats.Malformed),
	}
	for _, p := range stats.Problems {
		res.Problems = append(res.Problems, p.String())
	}
	return res
}

type setup struct {
	h   *Handler
	srv *httptest.Server
	p   *pipeline
}

func start(t *testing.T, cfg Config, runPipeline bool) *setup {
	t.Helper()
	cfg.Name = "azure-push"
	cfg.Authorize = func(r *http.Request) (string, bool) {
		switch r.Header.Get("Authorization") {
		case "Bearer " + token:
			return "azure-push", true
		case "Bearer other":
			return "other-source", true
		}
		return "", false
	}
	h := New(cfg)
	s := &setup{h: h, p: &pipeline{}}
	mux := http.NewServeMux()
	mux.Handle(Path, h)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	if runPipeline {
		ctx, cancel := context.WithCancel(context.Background())
		out := make(chan source.Chunk)
		errc := make(chan error, 1)
		go func() { errc <- h.Run(ctx, out) }()
		go s.p.run(ctx, out)
		t.Cleanup(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	return s
}

type request struct {
	method, body, contentType, encoding, auth string
	gzip                                      bool
	noLength                                  bool
}

func (s *setup) do(t *testing.T, rq request) (int, map[string]any) {
	t.Helper()
	if rq.method == "" {
		rq.method = http.MethodPost
	}
	if rq.auth == "" {
		rq.auth = "Bearer " + token
	}
	var body io.Reader = strings.NewReader(rq.body)
	if rq.gzip {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(rq.body))
		zw.Close()
		body = &b
	}
	if rq.noLength {
		body = io.MultiReader(body) // hides the length: sent chunked
	}
	req, err := http.NewRequest(rq.method, s.srv.URL+Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if rq.contentType != "" {
		req.Header.Set("Content-Type", rq.contentType)
	}
	if rq.encoding != "" {
		req.Header.Set("Content-Encoding", rq.encoding)
	}
	if rq.auth != "none" {
		req.Header.Set("Authorization", rq.auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("reply Content-Type %q", ct)
	}
	var got map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatalf("reply is not JSON: %v", err)
	}
	return resp.StatusCode, got
}

func lines(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		b.WriteString(azure(i) + "\n")
	}
	return b.String()
}

func TestIngest(t *testing.T) {
	s := start(t, Config{MaxBody: 64 << 10}, true)
	three := []string{azure(1), azure(2), azure(3)}
	secret := "hunter2-do-not-echo"
	bad := `{"time":"2026-11-20T09:00:00Z","value":"` + secret + `"`
	tests := []struct {
		name       string
		rq         request
		wantStatus int
		want       map[string]any
		wantErrors []string // substrings of the reply's errors, in order
	}{
		{"json lines", request{body: strings.Join(three, "\n") + "\n", contentType: "application/x-ndjson"}, 200,
			map[string]any{"records": 3.0, "events": 3.0, "skipped": 0.0, "malformed": 0.0}, nil},
		{"json array", request{body: "[" + strings.Join(three, ",") + "]", contentType: "application/json"}, 200,
			map[string]any{"records": 3.0, "events": 3.0, "malformed": 0.0}, nil},
		{"records wrapper", request{body: `{"records":[` + strings.Join(three, ",") + `]}`, contentType: "application/json; charset=utf-8"}, 200,
			map[string]any{"records": 3.0, "events": 3.0}, nil},
		{"gzip declared", request{body: lines(1, 50), gzip: true, encoding: "gzip"}, 200,
			map[string]any{"records": 50.0, "events": 50.0}, nil},
		{"gzip sniffed", request{body: lines(1, 5), gzip: true, contentType: "text/plain"}, 200,
			map[string]any{"records": 5.0, "events": 5.0}, nil},
		{"chunked", request{body: lines(1, 5), noLength: true}, 200,
			map[string]any{"records": 5.0, "events": 5.0}, nil},
		{"bad records among good ones", request{body: azure(1) + "\n" + bad + "\n" + azure(3) + "\n" + `{"hello":"world"}` + "\n"}, 202,
			map[string]any{"records": 4.0, "events": 2.0, "malformed": 2.0}, []string{"line 2: ", "line 4: not a record of a known format"}},
		{"every record bad", request{body: bad + "\n" + `{"hello":"world"}` + "\n"}, 400,
			map[string]any{"events": 0.0, "malformed": 2.0}, []string{"line 1: "}},
		{"empty", request{body: "  \n"}, 400, map[string]any{"error": "empty body: no records"}, nil},
		{"too large", request{body: lines(1, 100)}, 413, nil, nil},
		{"too large, chunked", request{body: lines(1, 100), noLength: true}, 413, nil, nil},
		{"too large once decompressed", request{body: lines(1, 100), gzip: true, encoding: "gzip"}, 413, nil, nil},
		{"not gzip", request{body: lines(1, 2), encoding: "gzip"}, 400, nil, nil},
		{"unauthorised", request{body: lines(1, 1), auth: "Bearer wrong"}, 401, nil, nil},
		{"no token", request{body: lines(1, 1), auth: "none"}, 401, nil, nil},
		{"another source's token", request{body: lines(1, 1), auth: "Bearer other"}, 403, nil, nil},
		{"GET", request{method: http.MethodGet}, 405, nil, nil},
		{"xml", request{body: "<a/>", contentType: "application/xml"}, 415, nil, nil},
		{"brotli", request{body: lines(1, 1), encoding: "br"}, 415, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := s.do(t, tt.rq)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d (reply %v)", status, tt.wantStatus, got)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v (reply %v)", k, got[k], v, got)
				}
			}
			if status >= 400 && status != 400 || tt.want["error"] != nil {
				if msg, _ := got["error"].(string); msg == "" {
					t.Errorf("no error message: %v", got)
				}
			}
			errs, _ := got["errors"].([]any)
			if len(errs) < len(tt.wantErrors) {
				t.Fatalf("errors %v, want %q", errs, tt.wantErrors)
			}
			for i, w := range tt.wantErrors {
				if e, _ := errs[i].(string); !strings.HasPrefix(e, w) && !strings.Contains(e, w) {
					t.Errorf("error %d %q, want %q", i, e, w)
				}
			}
			raw, _ := json.Marshal(got)
			if strings.Contains(string(raw), secret) || strings.Contains(string(raw), "hello") {
				t.Errorf("the reply quotes the input: %s", raw)
			}
		})
	}
	st := s.h.Status()
	if st.Name != "azure-push" || st.Kind != "http" || st.Records < 66 || st.Errors == 0 || st.LastError == "" {
		t.Errorf("status %+v", st)
	}
	if strings.Contains(st.LastError, secret) {
		t.Errorf("the status quotes the input: %s", st.LastError)
	}
}

func TestChunk(t *testing.T) {
	s := start(t, Config{}, true)
	for i := range 2 {
		if status, _ := s.do(t, request{body: lines(1, 2)}); status != 200 {
			t.Fatalf("status %d", status)
		}
		s.p.mu.Lock()
		c := s.p.chunks[i]
		s.p.mu.Unlock()
		if c.Source != "azure-push" || c.Origin != fmt.Sprintf("http request %d", i+1) || c.Line != 0 || c.Cursor != (source.Cursor{}) || string(c.Data) != lines(1, 2) {
			t.Fatalf("chunk %+v", c)
		}
	}
}

// TestGzipBomb: a small body that decompresses to far more than MaxBody is
// refused without being decompressed whole.
func TestGzipBomb(t *testing.T) {
	const max = 16 << 10
	s := start(t, Config{MaxBody: max}, true)
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write(make([]byte, 500*max)) // 8 MiB of zeros in about 8 KiB
	zw.Close()
	if b.Len() > max {
		t.Fatalf("the bomb is %d bytes, over the limit as sent", b.Len())
	}
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+Path, &b)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if len(s.p.chunks) != 0 {
		t.Fatal("the bomb reached the pipeline")
	}
}

func TestPipelineSlow(t *testing.T) {
	t.Run("not taken", func(t *testing.T) {
		s := start(t, Config{Timeout: 50 * time.Millisecond}, false) // Run not running
		status, got := s.do(t, request{body: lines(1, 1)})
		if status != http.StatusServiceUnavailable || !strings.Contains(got["error"].(string), "did not take") {
			t.Fatalf("status %d %v", status, got)
		}
	})
	t.Run("not stored", func(t *testing.T) {
		s := start(t, Config{Timeout: 50 * time.Millisecond}, true)
		s.p.hold = true
		status, got := s.do(t, request{body: lines(1, 1)})
		if status != http.StatusServiceUnavailable || !strings.Contains(got["error"].(string), "may be stored later") {
			t.Fatalf("status %d %v", status, got)
		}
	})
	t.Run("store error", func(t *testing.T) {
		s := start(t, Config{}, false)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out := make(chan source.Chunk)
		go s.h.Run(ctx, out)
		go func() {
			c := <-out
			c.Done(source.Result{Err: fmt.Errorf("disk full")})
		}()
		status, got := s.do(t, request{body: lines(1, 1)})
		if status != http.StatusServiceUnavailable || !strings.Contains(got["error"].(string), "could not be stored") {
			t.Fatalf("status %d %v", status, got)
		}
	})
}

// TestRunStops: Run returns nil on cancel, and a chunk it took but could not
// hand on is done at once with an error (its request gets 503).
func TestRunStops(t *testing.T) {
	h := New(Config{Name: "push"})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- h.Run(ctx, make(chan source.Chunk)) }() // nobody reads out
	done := make(chan source.Result, 1)
	h.reqs <- source.Chunk{Done: func(r source.Result) { done <- r }} // taken by Run
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	select {
	case r := <-done:
		if !errors.Is(r.Err, errStopping) {
			t.Fatalf("result %+v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the chunk was not done")
	}
}

func TestRelative(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http request 3:2: invalid JSON", "line 2: invalid JSON"},
		{"http request 3@120: cut short", "byte 120: cut short"},
		{"http request 3: not gzip", "not gzip"},
		{"http request 30:2: other request", "http request 30:2: other request"},
		{"something else", "something else"},
	}
	for _, tt := range tests {
		if got := relative(tt.in, "http request 3"); got != tt.want {
			t.Errorf("relative(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	allow := func(*http.Request) (string, bool) { return "", true }
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{Name: "push", Authorize: allow}, ""},
		{Config{Authorize: allow}, "no name"},
		{Config{Name: "push"}, "no authorization"},
		{Config{Name: "push", Authorize: allow, MaxBody: -1}, "negative"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

// TestNoAuthorize: a handler without Authorize refuses every request.
func TestNoAuthorize(t *testing.T) {
	h := New(Config{Name: "push"})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, Path, strings.NewReader(lines(1, 1))))
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("status %d", rec.Code)
	}
}
