// Package filesink exports records to a JSON Lines file (one encoded record
// a line) that rotates by size and age.
package filesink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"vaultwatch/internal/export"
)

// Defaults applied by New to the fields left zero.
const (
	DefaultMaxSize  = 100 << 20
	DefaultMaxAge   = 24 * time.Hour
	DefaultMaxFiles = 10
)

// Config is one file export.
type Config struct {
	// Name is the export's name.
	Name string `yaml:"-"`
	// Path is the file written, e.g. /var/lib/vaultwatch/export/alerts.jsonl
	// (required). Rotated files sit beside it as STEM-20060102T150405Z.EXT,
	// named by the time (UTC) of their rotation.
	Path string `yaml:"path"`
	// MaxSize is the size at which the file rotates (default 100 MiB). A
	// batch is never split across files, so a file may exceed it by one
	// batch when the batch alone is larger.
	MaxSize int64 `yaml:"max_size"`
	// MaxAge is the age at which the file rotates (default 24h), counted
	// from when the file was started, or from its last modification for a
	// file found at open.
	MaxAge time.Duration `yaml:"max_age"`
	// MaxFiles is how many rotated files are kept (default 10); older ones
	// are deleted.
	MaxFiles int `yaml:"max_files"`
	// Format encodes the records (default export.Native).
	Format export.Format `yaml:"-"`
	// Now is the clock (default time.Now).
	Now func() time.Time `yaml:"-"`
}

// Validate reports every problem of c.
func (c *Config) Validate() error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, errors.New("file export: path is required"))
	}
	if c.MaxSize < 0 {
		errs = append(errs, errors.New("file export: max_size is negative"))
	}
	if c.MaxAge < 0 {
		errs = append(errs, errors.New("file export: max_age is negative"))
	}
	if c.MaxFiles < 0 {
		errs = append(errs, errors.New("file export: max_files is negative"))
	}
	return errors.Join(errs...)
}

// Sink writes a JSON Lines file. Every Send appends the whole batch and
// syncs the file before it returns; a Send that fails leaves the file as it
// was before it (the partial write is cut off). At open, a last line left
// without its newline by a crash is cut off too: its batch was never
// acknowledged, so it will be sent again.
type Sink struct {
	cfg     Config
	f       *os.File
	size    int64
	started time.Time
	buf     []byte
	closed  bool
}

var _ export.Sink = (*Sink)(nil)

// New opens (or creates, mode 0600) the file of cfg for appending.
func New(cfg Config) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxSize == 0 {
		cfg.MaxSize = DefaultMaxSize
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.MaxFiles == 0 {
		cfg.MaxFiles = DefaultMaxFiles
	}
	if cfg.Format == nil {
		cfg.Format = export.Native{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Sink{cfg: cfg}
	if err := s.open(); err != nil {
		return nil, err
	}
	return s, nil
}

// Name returns the export's name.
func (s *Sink) Name() string { return s.cfg.Name }

// open opens the file, repairs a torn last line and notes its size and age.
func (s *Sink) open() error {
	if err := os.MkdirAll(filepath.Dir(s.cfg.Path), 0o700); err != nil {
		return fmt.Errorf("file export %s: %w", s.cfg.Name, err)
	}
	f, err := os.OpenFile(s.cfg.Path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("file export %s: %w", s.cfg.Name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("file export %s: %w", s.cfg.Name, err)
	}
	size, err := repair(f, fi.Size())
	if err != nil {
		f.Close()
		return fmt.Errorf("file export %s: %s: %w", s.cfg.Name, s.cfg.Path, err)
	}
	if _, err := f.Seek(size, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("file export %s: %w", s.cfg.Name, err)
	}
	s.f, s.size = f, size
	s.started = s.cfg.Now()
	if size > 0 {
		s.started = fi.ModTime()
	}
	return nil
}

// repair cuts a last line without its newline off f; it returns the new
// size.
func repair(f *os.File, size int64) (int64, error) {
	if size == 0 {
		return 0, nil
	}
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	end := size
	for end > 0 {
		start := max(end-chunk, 0)
		b := buf[:end-start]
		if _, err := f.ReadAt(b, start); err != nil {
			return 0, err
		}
		if end == size && b[len(b)-1] == '\n' {
			return size, nil
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			end = start + int64(i) + 1
			break
		}
		end = start
	}
	if err := f.Truncate(end); err != nil {
		return 0, err
	}
	return end, f.Sync()
}

// Send appends batch, one record a line, and syncs the file. It rotates
// first when the file is old enough, or when the batch would take it over
// MaxSize.
func (s *Sink) Send(ctx context.Context, batch []export.Record) error {
	if s.closed {
		return fmt.Errorf("file export %s: closed", s.cfg.Name)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.f == nil { // a rotation failed half-way: open the file again
		if err := s.open(); err != nil {
			return err
		}
	}
	buf := s.buf[:0]
	for i := range batch {
		var err error
		if buf, err = s.cfg.Format.Append(buf, &batch[i]); err != nil {
			return export.Permanent(fmt.Errorf("file export %s: %w", s.cfg.Name, err))
		}
		buf = append(buf, '\n')
	}
	s.buf = buf[:0]
	if len(buf) == 0 {
		return nil
	}
	now := s.cfg.Now()
	if s.size > 0 && (s.size+int64(len(buf)) > s.cfg.MaxSize || now.Sub(s.started) >= s.cfg.MaxAge) {
		if err := s.rotate(now); err != nil {
			return fmt.Errorf("file export %s: rotate: %w", s.cfg.Name, err)
		}
	}
	if _, err := s.f.Write(buf); err != nil {
		// Cut the partial batch off, so that the retry does not leave a
		// torn line in the middle of the file.
		if terr := s.f.Truncate(s.size); terr == nil {
			_, _ = s.f.Seek(s.size, io.SeekStart)
		}
		return fmt.Errorf("file export %s: write: %w", s.cfg.Name, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("file export %s: sync: %w", s.cfg.Name, err)
	}
	s.size += int64(len(buf))
	return nil
}

// rotatedName is the name of the file rotated at t, UTC.
func (s *Sink) rotatedName(t time.Time) string {
	dir, base := filepath.Split(s.cfg.Path)
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	return filepath.Join(dir, stem+"-"+t.UTC().Format("20060102T150405Z")+ext)
}

func (s *Sink) rotate(now time.Time) error {
	if err := s.f.Close(); err != nil {
		return err
	}
	s.f = nil
	name := s.rotatedName(now)
	for i := 1; ; i++ {
		if _, err := os.Lstat(name); errors.Is(err, os.ErrNotExist) {
			break
		}
		name = s.rotatedName(now.Add(time.Duration(i) * time.Second))
	}
	if err := os.Rename(s.cfg.Path, name); err != nil {
		if oerr := s.open(); oerr != nil {
			return errors.Join(err, oerr)
		}
		return err
	}
	if err := s.open(); err != nil {
		return err
	}
	s.started = now
	syncDir(filepath.Dir(s.cfg.Path))
	return s.prune()
}

// Rotated lists the rotated files of the export, oldest first.
func (s *Sink) Rotated() ([]string, error) {
	dir, base := filepath.Split(s.cfg.Path)
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		ts, ok := strings.CutPrefix(n, stem+"-")
		if !ok || !strings.HasSuffix(ts, ext) || !e.Type().IsRegular() {
			continue
		}
		if _, err := time.Parse("20060102T150405Z", strings.TrimSuffix(ts, ext)); err != nil {
			continue
		}
		out = append(out, filepath.Join(dir, n))
	}
	slices.Sort(out) // the UTC stamps sort in time order
	return out, nil
}

func (s *Sink) prune() error {
	old, err := s.Rotated()
	if err != nil {
		return err
	}
	for len(old) > s.cfg.MaxFiles {
		if err := os.Remove(old[0]); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		old = old[1:]
	}
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Close closes the file.
func (s *Sink) Close() error {
	s.closed = true
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}
