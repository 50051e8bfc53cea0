package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/auth"
	"vaultwatch/internal/detect"
	"vaultwatch/internal/intel"
	"vaultwatch/internal/notify"
	"vaultwatch/internal/simulate"
	"vaultwatch/internal/source"
	"vaultwatch/internal/source/file"
	"vaultwatch/internal/source/httpingest"
	"vaultwatch/internal/source/kafka"
	"vaultwatch/internal/source/socket"
	"vaultwatch/internal/store"
	"vaultwatch/internal/store/sqlite"
	"vaultwatch/internal/suppress"
)

// ServeOptions configure the server.
type ServeOptions struct {
	Config ServeConfig
	// Demo feeds a simulated organisation's logs, attacks included,
	// through the real pipeline.
	Demo bool
	// AdminPassword is the first admin's password (VAULTWATCH_ADMIN_PASSWORD);
	// when empty, one is generated and printed once to Stdout.
	AdminPassword string
	Stdout        io.Writer
	Logger        *slog.Logger
	// Clock is the time of "now" for sessions and batches (default time.Now).
	Clock func() time.Time
	// NotifyBackoff is the notifications' retry schedule (default: 10 s
	// doubling to 10 minutes, for a day).
	NotifyBackoff notify.Backoff
}

// Service is a running vaultwatch server: the store, the detection engine
// behind the pipeline, the sources and the HTTP server. NewService starts
// nothing that outlives a failed start; Run runs it until its context ends.
type Service struct {
	opts     ServeOptions
	log      *slog.Logger
	store    store.Store
	auth     *auth.Service
	intel    *intel.Set
	engine   *detect.Engine
	pipeline *pipeline
	sources  []source.Source
	ingest   map[string]*httpingest.Handler
	out      *outbound // nil without notifications and exports
	rates    rates
	ln       net.Listener
	srv      *http.Server
	started  time.Time
}

// NewService opens the store, restores the engine, builds the sources and
// binds the listeners. On any error it releases what it opened.
func NewService(ctx context.Context, o ServeOptions) (s *Service, err error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	s = &Service{opts: o, log: o.Logger, ingest: map[string]*httpingest.Handler{}}
	var cleanup []func()
	defer func() {
		if err != nil {
			for i := len(cleanup) - 1; i >= 0; i-- {
				cleanup[i]()
			}
		}
	}()
	cfg := &s.opts.Config
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	if o.Demo {
		if err := s.prepareDemo(ctx); err != nil {
			return nil, err
		}
	}
	st, err := sqlite.Open(filepath.Join(cfg.DataDir, "vaultwatch.db"), sqlite.Options{Retention: time.Duration(cfg.Retention)})
	if err != nil {
		return nil, err
	}
	s.store = st
	cleanup = append(cleanup, func() { st.Close() })

	s.auth = auth.New(st, auth.Options{Clock: o.Clock, SecureCookies: cfg.TLS.enabled(), Logger: o.Logger.With("component", "auth")})
	if err := s.auth.EnsureAdmin(ctx, o.AdminPassword, o.Stdout); err != nil {
		return nil, err
	}

	dcfg, set, err := detectionConfig(cfg.Detection)
	if err != nil {
		return nil, err
	}
	s.intel = set
	if set != nil {
		cleanup = append(cleanup, func() { set.Close() })
	}
	s.pipeline = newPipeline(nil, st, o.Logger.With("component", "pipeline"), o.Clock)
	s.engine = detect.New(dcfg, detect.Detectors(), s.pipeline.emitAlert)
	s.pipeline.engine = s.engine
	state, err := st.EngineState(ctx)
	if err != nil {
		return nil, err
	}
	if state != nil {
		if err := s.engine.LoadState(bytes.NewReader(state)); err != nil {
			// A state this version cannot read is not fatal: the engine
			// learns again, and says so.
			s.log.Warn("the saved detection state could not be read: learning afresh", "err", err)
			s.engine = detect.New(dcfg, detect.Detectors(), s.pipeline.emitAlert)
			s.pipeline.engine = s.engine
		}
	}

	s.pipeline.refreshBaselines(o.Clock())
	if s.out, err = newOutbound(st, cfg, o.Logger.With("component", "outbound"), o.Clock, Version); err != nil {
		return nil, err
	}
	if s.out != nil {
		s.out.back = o.NotifyBackoff
		cleanup = append(cleanup, s.out.close)
	}
	if err := s.ReloadRules(ctx); err != nil {
		s.log.Warn("suppression rules", "err", err)
	}

	for _, sc := range cfg.Sources {
		src, err := s.newSource(ctx, sc)
		if err != nil {
			return nil, err
		}
		s.sources = append(s.sources, src)
		if c, ok := src.(interface{ Close() error }); ok {
			cleanup = append(cleanup, func() { c.Close() })
		}
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	cleanup = append(cleanup, func() { ln.Close() })
	if cfg.TLS.enabled() {
		cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(o.Logger.With("component", "http").Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Addr is the address the pages and the API listen on.
func (s *Service) Addr() string { return s.ln.Addr().String() }

// URL is where to open the pages.
func (s *Service) URL() string {
	scheme := "http"
	if s.opts.Config.TLS.enabled() {
		scheme = "https"
	}
	return scheme + "://" + s.Addr() + "/"
}

// Store is the service's store.
func (s *Service) Store() store.Store { return s.store }

// Auth is the service's authentication.
func (s *Service) Auth() *auth.Service { return s.auth }

// Run serves until ctx ends, then stops in order: the HTTP server stops
// taking requests, the sources stop, the pipeline commits what it holds
// and saves the engine's state, and the store closes.
func (s *Service) Run(ctx context.Context) error {
	s.started = s.opts.Clock()
	chunks := make(chan source.Chunk, 64)
	srcCtx, stopSources := context.WithCancel(context.WithoutCancel(ctx))
	pipeCtx, stopPipeline := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSources()
	defer stopPipeline()

	pipeErr := make(chan error, 1)
	go func() { pipeErr <- s.pipeline.run(pipeCtx, chunks) }()
	outCtx, stopOut := context.WithCancel(context.WithoutCancel(ctx))
	defer stopOut()
	outDone := make(chan struct{})
	if s.out != nil {
		go func() { s.out.run(outCtx, s.pipeline.kick); close(outDone) }()
	} else {
		close(outDone)
	}
	var wg sync.WaitGroup
	for _, src := range s.sources {
		wg.Go(func() { s.supervise(srcCtx, src, chunks) })
	}
	httpErr := make(chan error, 1)
	go func() { httpErr <- s.srv.Serve(s.ln) }()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	rules := time.NewTicker(30 * time.Second) // rules changed by the CLI
	defer rules.Stop()
	sample := time.NewTicker(rateEvery)
	defer sample.Stop()

	var err error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err = <-httpErr:
			err = fmt.Errorf("http server: %w", err)
			break loop
		case err = <-pipeErr:
			pipeErr <- err // keep it for the shutdown below
			break loop
		case <-sample.C:
			s.rates.sample(s.sources, s.opts.Clock())
		case <-rules.C:
			if err := s.ReloadRules(ctx); err != nil {
				s.log.Warn("suppression rules", "err", err)
			}
		case <-prune.C:
			if n, perr := s.store.Prune(ctx, s.opts.Clock()); perr != nil {
				s.log.Error("pruning the store", "err", perr)
			} else {
				s.log.Info("pruned the store", "events", n.Events)
			}
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if serr := s.srv.Shutdown(sctx); serr != nil && err == nil {
		err = fmt.Errorf("http shutdown: %w", serr)
	}
	stopSources()
	wg.Wait()
	stopPipeline()
	if perr := <-pipeErr; perr != nil && err == nil {
		err = fmt.Errorf("pipeline: %w", perr)
	}
	stopOut()
	<-outDone
	if s.intel != nil {
		s.intel.Close()
	}
	if cerr := s.store.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// supervise runs a source until ctx ends, restarting it with backoff when
// it fails: it resumes from its own cursors.
func (s *Service) supervise(ctx context.Context, src source.Source, out chan<- source.Chunk) {
	backoff := time.Second
	for {
		err := src.Run(ctx, out)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("stopped without an error")
		}
		s.log.Error("source failed; restarting", "source", src.Name(), "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// SourceStatus reports every source's health, with its recent rate.
func (s *Service) SourceStatus() []source.Status {
	out := make([]source.Status, 0, len(s.sources))
	for _, src := range s.sources {
		st := src.Status()
		st.Rate = s.rates.rate(src.Name())
		out = append(out, st)
	}
	return out
}

// rateEvery is how often the sources' rates are sampled; a rate spans six
// samples.
const rateEvery = 10 * time.Second

// rates keeps each source's last samples of its record count.
type rates struct {
	mu sync.Mutex
	m  map[string][]rateSample
}

type rateSample struct {
	records int64
	at      time.Time
}

func (r *rates) sample(srcs []source.Source, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string][]rateSample{}
	}
	for _, src := range srcs {
		ss := append(r.m[src.Name()], rateSample{src.Status().Records, now})
		if len(ss) > 7 {
			ss = ss[len(ss)-7:]
		}
		r.m[src.Name()] = ss
	}
}

func (r *rates) rate(name string) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	ss := r.m[name]
	if len(ss) < 2 {
		return 0
	}
	first, last := ss[0], ss[len(ss)-1]
	if d := last.at.Sub(first.at).Seconds(); d > 0 {
		return float64(last.records-first.records) / d
	}
	return 0
}

// newSource builds one configured source.
func (s *Service) newSource(ctx context.Context, sc SourceConfig) (source.Source, error) {
	log := s.log.With("component", "source", "source", sc.Name)
	switch sc.Type {
	case "file":
		cur, err := s.store.Cursors(ctx, sc.Name)
		if err != nil {
			return nil, err
		}
		return file.New(file.Config{Name: sc.Name, Paths: sc.File.Paths, Include: sc.File.Include, Poll: time.Duration(sc.File.Poll), Logger: log}, cur)
	case "http":
		c := httpingest.Config{Name: sc.Name, Authorize: s.auth.AuthorizeIngest, Logger: log}
		if sc.HTTP != nil {
			c.MaxBody = sc.HTTP.MaxBody
		}
		h := httpingest.New(c)
		s.ingest[sc.Name] = h
		return h, nil
	case "socket":
		c := socket.Config{Name: sc.Name, Addr: sc.Socket.Listen, Logger: log}
		if sc.Socket.TLS.enabled() {
			cert, err := tls.LoadX509KeyPair(sc.Socket.TLS.CertFile, sc.Socket.TLS.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("source %q: tls: %w", sc.Name, err)
			}
			c.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		}
		return socket.New(c)
	case "kafka":
		k := *sc.Kafka
		k.Name = sc.Name
		k.Logger = log
		return kafka.New(k)
	}
	return nil, fmt.Errorf("source %q: unknown type %q", sc.Name, sc.Type)
}

// detectionConfig loads the threat intelligence and decoys the
// configuration names.
func detectionConfig(c DetectionConfig) (detect.Config, *intel.Set, error) {
	o := ScanOptions{LearningPeriod: time.Duration(c.LearningPeriod), TorLists: c.TorExitLists, ThreatIntel: c.ThreatIntel,
		CloudRanges: c.CloudRanges, GeoIP: c.GeoIP, Decoys: c.Decoys}
	cfg, err := o.detectConfig()
	if err != nil {
		return cfg, nil, err
	}
	return cfg, cfg.Intel, nil
}

// Demo settings: a small organisation whose attacks fall in the last two
// of its days, ending today.
const (
	demoVaults   = 4
	demoDays     = 9
	demoLearning = 7
)

// prepareDemo simulates an organisation into the data folder (once) and
// adds its logs as a file source and its threat-intel lists and decoys to
// detection, so that the real pipeline raises the simulated attacks.
func (s *Service) prepareDemo(ctx context.Context) error {
	cfg := &s.opts.Config
	dir := filepath.Join(cfg.DataDir, "demo")
	if _, err := os.Stat(filepath.Join(dir, "labels.jsonl")); err != nil {
		os.RemoveAll(dir)
		today := s.opts.Clock().UTC().Truncate(24 * time.Hour)
		fmt.Fprintf(s.opts.Stdout, "demo: simulating %d vaults over %d days into %s\n", demoVaults, demoDays, dir)
		if _, err := simulate.Run(ctx, simulate.Options{Out: dir, Seed: 1, Vaults: demoVaults, Days: demoDays,
			LearningDays: demoLearning, Start: today.AddDate(0, 0, -demoDays+1)}); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	cfg.Sources = append(cfg.Sources, SourceConfig{Name: "demo", Type: "file",
		File: &FileSourceConfig{Paths: []string{filepath.Join(dir, simulate.LogsDir)}}})
	d := &cfg.Detection
	d.TorExitLists = append(d.TorExitLists, filepath.Join(dir, "intel", "tor-exit-nodes.txt"))
	d.ThreatIntel = append(d.ThreatIntel, filepath.Join(dir, "intel", "ip-reputation.txt"))
	if d.Decoys == "" {
		d.Decoys = filepath.Join(dir, simulate.DecoysFile)
	}
	return nil
}

// Serve runs the service until ctx ends: it prints where to sign in, then
// serves.
func Serve(ctx context.Context, o ServeOptions) error {
	s, err := NewService(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.opts.Stdout, "vaultwatch is serving on %s (sign in as %s); stop it with Ctrl-C\n", s.URL(), auth.AdminUser)
	return s.Run(ctx)
}

// NewLogger is the service's logger: text lines on w.
func NewLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// ReloadRules reads the suppression rules from the store into the
// pipeline; a rule that does not compile is left out and reported.
func (s *Service) ReloadRules(ctx context.Context) error {
	rules, err := s.store.Rules(ctx)
	if err != nil {
		return err
	}
	set, err := suppress.NewSet(rules)
	s.pipeline.rules.Store(set)
	return err
}

// SampleAlerts stores one clearly marked sample alert of each type (or of
// the given types) through the pipeline, so that they reach the pages and,
// as every new alert, the notifications and exports.
func (s *Service) SampleAlerts(ctx context.Context, types []alert.Type) ([]alert.Alert, error) {
	as, err := alert.Samples(s.opts.Clock(), types...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	ptrs := make([]*alert.Alert, len(as))
	for i := range as {
		ptrs[i] = &as[i]
	}
	if err := s.pipeline.Inject(ctx, ptrs); err != nil {
		return nil, err
	}
	return as, nil
}
