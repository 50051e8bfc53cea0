// Package source is where the server's bytes come from: files and folders
// tailed as they grow, the HTTP ingest endpoint, the TCP listener for the
// Vault/OpenBao socket audit device, and Kafka (Azure Event Hubs through its
// Kafka endpoint). Each source hands Chunks of whole records to the
// pipeline, which decodes them (internal/auditlog), runs detection, commits
// the events, alerts and the chunk's Cursor in one store transaction, and
// only then calls Done: so a source that resumes from its committed cursors
// reads no event twice and loses none.
package source

import (
	"context"
	"sync"
	"time"
)

// Chunk is a run of whole records read from one place.
type Chunk struct {
	// Source is the configured source's name.
	Source string
	// Origin names where Data was read, for error messages: a file path,
	// "tcp 127.0.0.1:41234", "kafka topic/partition", "http request 12".
	Origin string
	// Line is the line number of Data's first byte within Origin (1-based),
	// or 0 where lines mean nothing (a Kafka message, an HTTP body).
	Line int
	// Data holds whole records: JSON Lines, a JSON array or a
	// {"records":[...]} wrapper, uncompressed. The pipeline does not keep it
	// after Done.
	Data []byte
	// Cursor is where the source stands after Data; the pipeline commits it
	// with Data's events. Zero when the source cannot resume (a socket).
	Cursor Cursor
	// Done, when not nil, is called once Data's events are durably stored,
	// or with the error that stopped that. Kafka commits its offsets there;
	// the HTTP endpoint answers its request there.
	Done func(Result)
}

// Cursor is a source's resumable position: an opaque value under a key (a
// file's identity, a partition). The store keeps the last value per
// (source, key).
type Cursor struct {
	Key, Value string
}

// Result is what became of a chunk.
type Result struct {
	Records   int      // records read
	Events    int      // access events stored
	Skipped   int      // well-formed records of other services
	Malformed int      // records that could not be read
	Problems  []string // the first problems, "origin:line: reason", never quoting a value
	Err       error    // the chunk was not stored
}

// Source reads from one configured place. Run reads until ctx is cancelled,
// sending chunks to out; it never closes out, returns nil on cancel, and
// returns an error (rather than retrying) when it cannot go on: the
// supervisor restarts it with backoff, resuming from the cursors committed
// so far.
type Source interface {
	Name() string
	Run(ctx context.Context, out chan<- Chunk) error
	// Status reports the source's health for the pages and metrics.
	Status() Status
}

// Status is a source's health.
type Status struct {
	Name      string    `json:"name"`
	Kind      string    `json:"kind"` // "file", "http", "socket", "kafka"
	Records   int64     `json:"records"`
	Bytes     int64     `json:"bytes"`
	Errors    int64     `json:"errors"`
	LastError string    `json:"lastError,omitempty"`
	LastRead  time.Time `json:"lastRead,omitzero"`
	// Lag is how far the source is behind its input: bytes not yet read
	// from tailed files, or messages behind the partitions' ends.
	Lag  int64  `json:"lag"`
	Unit string `json:"lagUnit,omitempty"` // "bytes" or "messages"
	// Rate is the records read per second over about the last minute;
	// the server fills it in from successive Records.
	Rate float64 `json:"rate"`
}

// Counters keeps a Status safe for concurrent use; sources embed it.
type Counters struct {
	mu sync.Mutex
	st Status
}

// Init sets the name and kind.
func (c *Counters) Init(name, kind, unit string) {
	c.mu.Lock()
	c.st.Name, c.st.Kind, c.st.Unit = name, kind, unit
	c.mu.Unlock()
}

// Read counts records and bytes read at t.
func (c *Counters) Read(records, bytes int64, t time.Time) {
	c.mu.Lock()
	c.st.Records += records
	c.st.Bytes += bytes
	c.st.LastRead = t
	c.mu.Unlock()
}

// Error counts an error; its text must not quote input.
func (c *Counters) Error(err error) {
	c.mu.Lock()
	c.st.Errors++
	c.st.LastError = err.Error()
	c.mu.Unlock()
}

// SetLag records the current lag.
func (c *Counters) SetLag(n int64) {
	c.mu.Lock()
	c.st.Lag = n
	c.mu.Unlock()
}

// Status returns a copy of the counters.
func (c *Counters) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}
