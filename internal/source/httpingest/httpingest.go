// Package httpingest is the HTTP ingest endpoint, POST /api/v1/ingest: log
// records pushed by a collector, a function or a script, as JSON, JSON Lines
// or a {"records":[...]} wrapper, plain or gzip-compressed.
//
// Each request becomes one chunk. The handler answers once the pipeline has
// stored the request's records (or refused them), so a 2xx reply means the
// records are stored: a client that gets anything else sends the request
// again.
package httpingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"vaultwatch/internal/source"
)

// Path is where the server mounts the handler.
const Path = "/api/v1/ingest"

// Defaults for Config's zero values.
const (
	DefaultMaxBody     = 32 << 20
	DefaultTimeout     = 30 * time.Second
	DefaultMaxInflight = 4
)

// Config configures a Handler.
type Config struct {
	// Name is the source's name.
	Name string
	// MaxBody bounds a request body in bytes, as sent and once
	// decompressed (DefaultMaxBody when zero).
	MaxBody int64
	// Authorize checks the request's credentials (the server's bearer
	// token per source) and returns the name of the source they are for.
	// A request it refuses gets 401; one for another source gets 403;
	// a handler without Authorize refuses every request.
	Authorize func(r *http.Request) (source string, ok bool)
	// Timeout bounds how long a request waits for the pipeline to take
	// and store its records (DefaultTimeout when zero); past it the reply
	// is 503.
	Timeout time.Duration
	// MaxInflight bounds the requests read and held at once
	// (DefaultMaxInflight when zero): each holds up to MaxBody bytes.
	// Others wait for a turn within Timeout.
	MaxInflight int
	// Logger receives the handler's reports (nil: discarded). Record
	// contents and credentials are never logged.
	Logger *slog.Logger
}

// Handler is both the http.Handler of the ingest endpoint and the
// source.Source handing its requests to the pipeline.
type Handler struct {
	source.Counters

	cfg  Config
	log  *slog.Logger
	reqs chan source.Chunk
	sem  chan struct{}
	ids  atomic.Uint64
}

var (
	_ source.Source = (*Handler)(nil)
	_ http.Handler  = (*Handler)(nil)
)

// errStopping is a chunk's result when the source stopped before the
// pipeline took it.
var errStopping = errors.New("the ingest source is stopping")

// Validate returns every problem with cfg, joined. New accepts any Config
// (a handler without Authorize refuses every request); the server's
// configuration checks it.
func (cfg Config) Validate() error {
	var errs []error
	if cfg.Name == "" {
		errs = append(errs, errors.New("http source: no name"))
	}
	if cfg.Authorize == nil {
		errs = append(errs, fmt.Errorf("http source %q: no authorization", cfg.Name))
	}
	if cfg.MaxBody < 0 || cfg.Timeout < 0 || cfg.MaxInflight < 0 {
		errs = append(errs, fmt.Errorf("http source %q: max body, timeout and max inflight must not be negative", cfg.Name))
	}
	return errors.Join(errs...)
}

// New returns the handler of one configured HTTP source.
func New(cfg Config) *Handler {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxInflight <= 0 {
		cfg.MaxInflight = DefaultMaxInflight
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{
		cfg:  cfg,
		log:  log.With("component", "source.http", "source", cfg.Name),
		reqs: make(chan source.Chunk),
		sem:  make(chan struct{}, cfg.MaxInflight),
	}
	h.Init(cfg.Name, "http", "")
	return h
}

// Name returns the source's name.
func (h *Handler) Name() string { return h.cfg.Name }

// Run hands the requests' chunks to out until ctx is cancelled. Requests
// arriving while Run is not running wait (up to the timeout) for it.
func (h *Handler) Run(ctx context.Context, out chan<- source.Chunk) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case c := <-h.reqs:
			select {
			case out <- c:
			case <-ctx.Done():
				c.Done(source.Result{Err: errStopping})
				return nil
			}
		}
	}
}

// Reply is the body of a reply to a request whose records were read: 200
// when every record was read, 202 when some were malformed (the others are
// stored), 400 when all were.
type Reply struct {
	Records   int      `json:"records"`
	Events    int      `json:"events"`
	Skipped   int      `json:"skipped"`
	Malformed int      `json:"malformed"`
	Errors    []string `json:"errors"`
}

// ErrorReply is the body of a reply to a request that was not read: 400,
// 401, 403, 405, 413, 415, 503.
type ErrorReply struct {
	Error string `json:"error"`
}

// ServeHTTP reads one request's records, hands them to the pipeline and
// answers with what became of them.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(w, r, http.StatusMethodNotAllowed, "use POST", false)
		return
	}
	if h.cfg.Authorize == nil {
		h.fail(w, r, http.StatusUnauthorized, "no credentials are accepted by this source", false)
		return
	}
	name, ok := h.cfg.Authorize(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="vaultwatch"`)
		h.fail(w, r, http.StatusUnauthorized, "missing or invalid bearer token", false)
		return
	}
	if name != "" && name != h.cfg.Name {
		h.fail(w, r, http.StatusForbidden, "the token is not for this source", false)
		return
	}
	if msg := checkContentType(r.Header.Get("Content-Type")); msg != "" {
		h.fail(w, r, http.StatusUnsupportedMediaType, msg, true)
		return
	}
	gz, msg := contentEncoding(r.Header.Get("Content-Encoding"))
	if msg != "" {
		h.fail(w, r, http.StatusUnsupportedMediaType, msg, true)
		return
	}
	if r.ContentLength > h.cfg.MaxBody {
		h.fail(w, r, http.StatusRequestEntityTooLarge, h.tooLarge(), true)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.Timeout)
	defer cancel()
	select {
	case h.sem <- struct{}{}:
		defer func() { <-h.sem }()
	case <-ctx.Done():
		w.Header().Set("Retry-After", "5")
		h.fail(w, r, http.StatusServiceUnavailable, "too many requests in progress; retry later", true)
		return
	}

	data, status, msg := h.readBody(w, r, gz)
	if status != 0 {
		h.fail(w, r, status, msg, true)
		return
	}

	id := h.ids.Add(1)
	origin := "http request " + strconv.FormatUint(id, 10)
	done := make(chan source.Result, 1)
	chunk := source.Chunk{
		Source: h.cfg.Name,
		Origin: origin,
		Data:   data,
		Done: func(res source.Result) {
			select {
			case done <- res:
			default:
			}
		},
	}
	select {
	case h.reqs <- chunk:
	case <-ctx.Done():
		w.Header().Set("Retry-After", "5")
		h.fail(w, r, http.StatusServiceUnavailable, "the pipeline did not take the records in time; retry later", true)
		return
	}
	var res source.Result
	select {
	case res = <-done:
	case <-ctx.Done():
		// The pipeline has the records and may still store them.
		w.Header().Set("Retry-After", "5")
		h.fail(w, r, http.StatusServiceUnavailable, origin+": the records were not stored in time and may be stored later; retry later", true)
		return
	}
	if res.Err != nil {
		h.log.Error("request not stored", "request", origin, "err", res.Err)
		w.Header().Set("Retry-After", "5")
		h.fail(w, r, http.StatusServiceUnavailable, origin+": the records could not be stored; retry later", true)
		return
	}

	reply := Reply{
		Records:   res.Records,
		Events:    res.Events,
		Skipped:   res.Skipped,
		Malformed: res.Malformed,
		Errors:    make([]string, 0, len(res.Problems)),
	}
	for _, p := range res.Problems {
		reply.Errors = append(reply.Errors, relative(p, origin))
	}
	h.Read(int64(res.Records), int64(len(data)), time.Now())
	status = http.StatusOK
	if res.Malformed > 0 {
		status = http.StatusAccepted
		if res.Events == 0 && res.Skipped == 0 {
			status = http.StatusBadRequest
		}
		first := "malformed records"
		if len(reply.Errors) > 0 {
			first = reply.Errors[0]
		}
		h.Error(fmt.Errorf("%s: %d of %d records malformed (%s)", origin, res.Malformed, res.Records, first))
	}
	h.log.Debug("request read", "request", origin, "status", status, "records", res.Records, "events", res.Events, "malformed", res.Malformed)
	writeJSON(w, status, reply)
}

// readBody reads the body, decompressed, within MaxBody. A non-zero status
// is the reply when it cannot.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, gz bool) ([]byte, int, string) {
	body := http.MaxBytesReader(w, r.Body, h.cfg.MaxBody)
	br := bufio.NewReader(body)
	if !gz {
		head, _ := br.Peek(2)
		gz = len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b
	}
	var in io.Reader = br
	if gz {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, h.readErrStatus(err), h.readErrMessage(err, true)
		}
		defer zr.Close()
		in = zr
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 && !gz {
		buf.Grow(int(r.ContentLength))
	}
	// One byte past the limit tells a body that is too large: a gzip
	// bomb stops there, having held no more than MaxBody bytes.
	if _, err := buf.ReadFrom(io.LimitReader(in, h.cfg.MaxBody+1)); err != nil {
		return nil, h.readErrStatus(err), h.readErrMessage(err, gz)
	}
	if int64(buf.Len()) > h.cfg.MaxBody {
		return nil, http.StatusRequestEntityTooLarge, h.tooLarge()
	}
	if len(bytes.TrimSpace(buf.Bytes())) == 0 {
		return nil, http.StatusBadRequest, "empty body: no records"
	}
	return buf.Bytes(), 0, ""
}

func (h *Handler) readErrStatus(err error) int {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func (h *Handler) readErrMessage(err error, gz bool) string {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return h.tooLarge()
	}
	if gz && (errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)) {
		return "the body is not a valid gzip stream: " + err.Error()
	}
	return "reading the body: " + err.Error()
}

func (h *Handler) tooLarge() string {
	return fmt.Sprintf("the body is larger than %d bytes (as sent or decompressed); send fewer records per request", h.cfg.MaxBody)
}

// fail replies with an error. counted errors show in the source's status.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, msg string, counted bool) {
	if counted {
		h.Error(fmt.Errorf("http %d: %s", status, msg))
		h.log.Warn("request refused", "status", status, "reason", msg, "remote", r.RemoteAddr)
	} else {
		h.log.Info("request refused", "status", status, "reason", msg, "remote", r.RemoteAddr)
	}
	writeJSON(w, status, ErrorReply{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// checkContentType accepts what collectors send JSON and JSON Lines as; an
// absent type too. It returns why another type is refused.
func checkContentType(ct string) string {
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "unreadable Content-Type"
	}
	switch mt {
	case "application/json", "application/x-ndjson", "application/ndjson", "application/jsonl",
		"application/x-jsonlines", "application/jsonlines", "text/plain",
		"application/gzip", "application/x-gzip", "application/octet-stream":
		return ""
	}
	return "unsupported Content-Type " + strconv.Quote(mt) + ": send application/json, application/x-ndjson or text/plain"
}

// contentEncoding tells whether the body is gzip-compressed, or why its
// encoding is refused.
func contentEncoding(ce string) (gz bool, msg string) {
	switch strings.ToLower(strings.TrimSpace(ce)) {
	case "", "identity":
		return false, ""
	case "gzip", "x-gzip":
		return true, ""
	}
	return false, "unsupported Content-Encoding: send gzip or nothing"
}

// relative turns the pipeline's "origin:line: reason" into "line N: reason"
// for the client that sent the request.
func relative(problem, origin string) string {
	rest, ok := strings.CutPrefix(problem, origin)
	if !ok {
		return problem
	}
	if r, ok := strings.CutPrefix(rest, ": "); ok {
		return r
	}
	for _, f := range []struct{ sep, word string }{{":", "line "}, {"@", "byte "}} {
		r, ok := strings.CutPrefix(rest, f.sep)
		if !ok {
			continue
		}
		num, reason, ok := strings.Cut(r, ": ")
		if _, err := strconv.Atoi(num); ok && err == nil {
			return f.word + num + ": " + reason
		}
	}
	return problem
}
