package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"vaultwatch/internal/source"
)

// Metrics is the server's Prometheus registry: HTTP requests by route, the
// sources' health, the Go runtime and the process. Other components
// register their own collectors in Registry.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics returns a registry with the HTTP metrics, a collector reading
// sources at every scrape (nil: no sources), and the Go and process
// collectors.
func NewMetrics(sources func() []source.Status) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vaultwatch_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "vaultwatch_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
	}
	m.Registry.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if sources != nil {
		m.Registry.MustRegister(sourceCollector(sources))
	}
	return m
}

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	// A collector that fails (two sources with one name, say) costs its own
	// series, not the whole scrape.
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry, ErrorHandling: promhttp.ContinueOnError})
}

// Instrument counts and times h's requests under route (a route pattern,
// never a raw path: the label set stays bounded).
func (m *Metrics) Instrument(route string, h http.Handler) http.Handler {
	dur := m.duration.WithLabelValues(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		defer func() {
			dur.Observe(time.Since(start).Seconds())
			m.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		}()
		h.ServeHTTP(sw, r)
	})
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	code    int
	written bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.written {
		w.code, w.written = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.written = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes flushes through (streamed CSV).
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// sources exposes the sources' Status at every scrape.
type sourcesCollector struct {
	sources                             func() []source.Status
	records, bytes, errors, lag, lastRd *prometheus.Desc
}

func sourceCollector(sources func() []source.Status) prometheus.Collector {
	l := []string{"source", "kind"}
	return &sourcesCollector{
		sources: sources,
		records: prometheus.NewDesc("vaultwatch_source_records_total", "Records a source has read.", l, nil),
		bytes:   prometheus.NewDesc("vaultwatch_source_bytes_total", "Bytes a source has read.", l, nil),
		errors:  prometheus.NewDesc("vaultwatch_source_errors_total", "Errors a source has met.", l, nil),
		lag: prometheus.NewDesc("vaultwatch_source_lag", "How far a source is behind its input, in the unit label: bytes of tailed files or messages of partitions.",
			append(l, "unit"), nil),
		lastRd: prometheus.NewDesc("vaultwatch_source_last_read_timestamp_seconds", "When a source last read, Unix time; absent before its first read.", l, nil),
	}
}

func (c *sourcesCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.records, c.bytes, c.errors, c.lag, c.lastRd} {
		ch <- d
	}
}

func (c *sourcesCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.sources() {
		ch <- prometheus.MustNewConstMetric(c.records, prometheus.CounterValue, float64(s.Records), s.Name, s.Kind)
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(s.Bytes), s.Name, s.Kind)
		ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(s.Errors), s.Name, s.Kind)
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(s.Lag), s.Name, s.Kind, s.Unit)
		if !s.LastRead.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.lastRd, prometheus.GaugeValue, float64(s.LastRead.UnixNano())/1e9, s.Name, s.Kind)
		}
	}
}
