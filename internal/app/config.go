package app

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"vaultwatch/internal/export/exports"
	"vaultwatch/internal/notify"
	"vaultwatch/internal/notify/email"
	"vaultwatch/internal/notify/webhook"
	"vaultwatch/internal/source/kafka"
)

// ServeConfig is the server's configuration file (YAML, decoded strictly:
// an unknown key is an error). Every field has a default; an empty file,
// or none, runs the server on its embedded defaults.
type ServeConfig struct {
	// Listen is the address of the pages and the API (default
	// 127.0.0.1:8080).
	Listen string `yaml:"listen"`
	// DataDir holds the store (default ./vaultwatch-data).
	DataDir string `yaml:"data_dir"`
	// TLS serves HTTPS with this certificate and key.
	TLS TLSFiles `yaml:"tls"`
	// Retention is how long the event index keeps events (default 30d).
	Retention Duration `yaml:"retention"`
	// Detection configures the engine.
	Detection DetectionConfig `yaml:"detection"`
	// Sources are where access logs come from.
	Sources []SourceConfig `yaml:"sources"`
	// Notifications are the e-mails and webhooks sent for new alerts.
	Notifications NotificationsConfig `yaml:"notifications"`
	// Exports stream alerts, status changes and snapshots elsewhere.
	Exports []exports.Config `yaml:"exports"`
}

// NotificationsConfig configures e-mail and webhook notifications.
type NotificationsConfig struct {
	// BaseURL is where people open the pages, for links in messages
	// (e.g. https://vaultwatch.example.com).
	BaseURL    string               `yaml:"base_url"`
	SMTP       *email.Settings      `yaml:"smtp"`
	Recipients notify.Routes        `yaml:"recipients"`
	RateLimits notify.LimitSettings `yaml:"rate_limits"`
	Webhooks   []webhook.Settings   `yaml:"webhooks"`
}

// TLSFiles names a PEM certificate (chain) and its key.
type TLSFiles struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

func (t TLSFiles) enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// DetectionConfig is what `vaultwatch scan` takes as flags.
type DetectionConfig struct {
	LearningPeriod Duration `yaml:"learning_period"` // default 7d
	TorExitLists   []string `yaml:"tor_exit_lists"`
	ThreatIntel    []string `yaml:"threat_intel"`
	CloudRanges    []string `yaml:"cloud_ranges"`
	GeoIP          []string `yaml:"geoip"`
	Decoys         string   `yaml:"decoys"`
}

// SourceConfig is one source: a name, a type, and the block of its type.
type SourceConfig struct {
	Name   string            `yaml:"name"`
	Type   string            `yaml:"type"` // file, http, socket, kafka
	File   *FileSourceConfig `yaml:"file"`
	HTTP   *HTTPSourceConfig `yaml:"http"`
	Socket *SocketSourceCfg  `yaml:"socket"`
	Kafka  *kafka.Config     `yaml:"kafka"`
}

// FileSourceConfig tails files and folders.
type FileSourceConfig struct {
	Paths   []string `yaml:"paths"`
	Include string   `yaml:"include"` // a glob for files found in folders, e.g. "*.json"
	Poll    Duration `yaml:"poll"`    // default 1s
}

// HTTPSourceConfig is the ingest endpoint's settings for this source. Its
// callers present an API token bound to the source (vaultwatch token create
// --source NAME).
type HTTPSourceConfig struct {
	MaxBody int64 `yaml:"max_body"` // bytes, default 32 MiB
}

// SocketSourceCfg listens for the Vault/OpenBao socket audit device.
type SocketSourceCfg struct {
	Listen string   `yaml:"listen"` // e.g. 127.0.0.1:9090
	TLS    TLSFiles `yaml:"tls"`
}

// Duration is a YAML duration that also takes days: "7d", "36h", "1d12h".
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParsePeriod(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// ParsePeriod reads a duration that may start with days: "14d", "36h",
// "1d12h".
func ParsePeriod(s string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a duration (e.g. 14d, 36h)", s)
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration (e.g. 14d, 36h)", s)
	}
	return days + d, nil
}

// Defaults.
const (
	DefaultListen  = "127.0.0.1:8080"
	DefaultDataDir = "vaultwatch-data"
)

// LoadServeConfig reads a configuration file; "" gives the defaults.
func LoadServeConfig(path string) (ServeConfig, error) {
	if path == "" {
		c := ServeConfig{}
		c.defaults()
		return c, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ServeConfig{}, fmt.Errorf("config: %w", err)
	}
	c, err := ParseServeConfig(b)
	if err != nil {
		return ServeConfig{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// ParseServeConfig decodes a configuration strictly, applies the defaults
// and validates it, returning every problem at once.
func ParseServeConfig(b []byte) (ServeConfig, error) {
	var c ServeConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return ServeConfig{}, err
	}
	c.defaults()
	return c, c.Validate()
}

func (c *ServeConfig) defaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.Retention == 0 {
		c.Retention = Duration(30 * 24 * time.Hour)
	}
	if c.Detection.LearningPeriod == 0 {
		c.Detection.LearningPeriod = Duration(7 * 24 * time.Hour)
	}
}

// Validate returns every problem of the configuration, joined.
func (c *ServeConfig) Validate() error {
	var errs []error
	if c.TLS.enabled() && (c.TLS.CertFile == "" || c.TLS.KeyFile == "") {
		errs = append(errs, errors.New("tls: both cert_file and key_file are needed"))
	}
	seen := map[string]bool{}
	for i, s := range c.Sources {
		where := fmt.Sprintf("sources[%d]", i)
		if s.Name == "" {
			errs = append(errs, fmt.Errorf("%s: no name", where))
		} else {
			where = fmt.Sprintf("source %q", s.Name)
			if seen[s.Name] {
				errs = append(errs, fmt.Errorf("%s: the name is used twice", where))
			}
			seen[s.Name] = true
		}
		blocks := map[string]bool{"file": s.File != nil, "http": s.HTTP != nil, "socket": s.Socket != nil, "kafka": s.Kafka != nil}
		for b, set := range blocks {
			if set && b != s.Type {
				errs = append(errs, fmt.Errorf("%s: a %s block in a source of type %q", where, b, s.Type))
			}
		}
		switch s.Type {
		case "file":
			if s.File == nil || len(s.File.Paths) == 0 {
				errs = append(errs, fmt.Errorf("%s: file.paths is required", where))
			}
		case "http":
		case "socket":
			if s.Socket == nil || s.Socket.Listen == "" {
				errs = append(errs, fmt.Errorf("%s: socket.listen is required", where))
			} else if s.Socket.TLS.enabled() && (s.Socket.TLS.CertFile == "" || s.Socket.TLS.KeyFile == "") {
				errs = append(errs, fmt.Errorf("%s: socket.tls needs both cert_file and key_file", where))
			}
		case "kafka":
			if s.Kafka == nil {
				errs = append(errs, fmt.Errorf("%s: the kafka block is required", where))
			} else {
				k := *s.Kafka
				k.Name = s.Name
				if err := k.Validate(); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", where, err))
				}
			}
		case "":
			errs = append(errs, fmt.Errorf("%s: no type (file, http, socket or kafka)", where))
		default:
			errs = append(errs, fmt.Errorf("%s: unknown type %q (want file, http, socket or kafka)", where, s.Type))
		}
	}
	n := &c.Notifications
	if len(n.Recipients) > 0 && n.SMTP == nil {
		errs = append(errs, errors.New("notifications: recipients need an smtp block"))
	}
	if err := n.Recipients.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("notifications.recipients: %w", err))
	}
	if err := n.RateLimits.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("notifications.rate_limits: %w", err))
	}
	hooks := map[string]bool{}
	for i, h := range n.Webhooks {
		if h.Name == "" {
			errs = append(errs, fmt.Errorf("notifications.webhooks[%d]: no name", i))
		} else if hooks[h.Name] {
			errs = append(errs, fmt.Errorf("notifications.webhooks[%d]: the name %q is used twice", i, h.Name))
		}
		hooks[h.Name] = true
	}
	if n.BaseURL != "" {
		if u, err := url.Parse(n.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("notifications.base_url %q: want http(s)://host[:port]", n.BaseURL))
		}
	}
	if err := exports.ValidateAll(c.Exports); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
