package kafka

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"
	"vaultwatch/internal/tlsfile"
)

// Defaults applied by New to the fields left zero.
const (
	DefaultGroup         = "vaultwatch"
	DefaultMaxChunkBytes = 1 << 20
	DefaultShutdownGrace = 5 * time.Second
)

// Start offsets: where a consumer group with no committed offset begins.
const (
	StartEarliest = "earliest"
	StartLatest   = "latest"
)

// SASL mechanisms.
const (
	MechanismPLAIN       = "PLAIN"
	MechanismSCRAMSHA256 = "SCRAM-SHA-256"
	MechanismSCRAMSHA512 = "SCRAM-SHA-512"
)

// Secret is a password or connection string. It prints, logs and marshals
// to JSON as "<secret>" whatever the verb; string(s) is its value.
type Secret string

const redacted = "<secret>"

// Format writes "<secret>" for every verb, %#v and %q included.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// String returns "<secret>".
func (Secret) String() string { return redacted }

// LogValue returns "<secret>".
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON returns "<secret>" as a JSON string.
func (Secret) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// SASL is the authentication against the brokers.
type SASL struct {
	// Mechanism is "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512"; empty for
	// no authentication.
	Mechanism string `yaml:"mechanism"`
	User      string `yaml:"user"`
	Password  Secret `yaml:"password"`
	// PasswordFile names a file holding the password (one trailing newline
	// is dropped); exclusive with Password.
	PasswordFile string `yaml:"password_file"`
}

// String describes s without its password.
func (s SASL) String() string {
	if s.Mechanism == "" {
		return "none"
	}
	return s.Mechanism + " user " + s.User
}

// LogValue describes s without its password.
func (s SASL) LogValue() slog.Value {
	return slog.GroupValue(slog.String("mechanism", s.Mechanism), slog.String("user", s.User))
}

// Config is one Kafka (or Azure Event Hubs) source. Either Brokers or
// EventHubsConnectionString says where to connect.
type Config struct {
	// Name is the configured source's name (required); the server's
	// configuration sets it from the source's name.
	Name string `yaml:"-"`
	// Brokers are the seed brokers, "host:port".
	Brokers []string `yaml:"brokers"`
	// Topics to consume. With an Event Hubs connection string that names
	// an EntityPath, Topics may be empty: the event hub is the topic.
	Topics []string `yaml:"topics"`
	// Group is the consumer group (default "vaultwatch"). Every vaultwatch
	// server reading the same topics should share it.
	Group string `yaml:"group"`
	// TLS turns TLS on with the system roots; TLSConfig, when set, is used
	// instead (and turns TLS on too).
	TLS       bool        `yaml:"tls"`
	TLSConfig *tls.Config `yaml:"-"`
	// TLSCAFile is a PEM bundle of the certificate authorities to trust
	// instead of the system roots; TLSCertFile and TLSKeyFile are a client
	// certificate and its key (PEM). Each turns TLS on.
	TLSCAFile   string `yaml:"tls_ca_file"`
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	SASL        SASL   `yaml:"sasl"`
	// EventHubsConnectionString is an Azure Event Hubs namespace or event
	// hub connection string (Endpoint=sb://NAMESPACE.servicebus.windows.net/;
	// SharedAccessKeyName=...;SharedAccessKey=...[;EntityPath=HUB]). It
	// sets the broker to NAMESPACE.servicebus.windows.net:9093, TLS on,
	// SASL PLAIN as "$ConnectionString" with the string as the password,
	// and the topic to EntityPath when Topics is empty. Exclusive with
	// Brokers and SASL.
	EventHubsConnectionString Secret `yaml:"event_hubs_connection_string"`
	// EventHubsConnectionStringFile names a file holding the connection
	// string; exclusive with EventHubsConnectionString.
	EventHubsConnectionStringFile string `yaml:"event_hubs_connection_string_file"`
	// StartOffset is where a group with no committed offset for a
	// partition begins: "earliest" (default) or "latest". A committed
	// offset that has fallen out of the log resumes at the log start.
	StartOffset string `yaml:"start_offset"`
	// MaxChunkBytes bounds a chunk's Data (default 1 MiB); one message
	// larger than it is a chunk of its own.
	MaxChunkBytes int `yaml:"max_chunk_bytes"`
	// ShutdownGrace is how long Run, once cancelled, waits for the chunks
	// it handed out to be done so that their offsets are committed before
	// it leaves the group (default 5s; negative: do not wait).
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// Logger receives the source's logs (default: discarded).
	Logger *slog.Logger `yaml:"-"`
	// Now is the clock (default time.Now).
	Now func() time.Time `yaml:"-"`

	eventHubs bool // set by resolved: the brokers are an Event Hubs namespace
}

// String describes c without its secrets.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kafka source %q:", c.Name)
	if c.EventHubsConnectionString != "" || c.EventHubsConnectionStringFile != "" {
		b.WriteString(" event hubs connection string " + redacted)
	}
	if len(c.Brokers) > 0 {
		fmt.Fprintf(&b, " brokers %s", strings.Join(c.Brokers, ","))
	}
	fmt.Fprintf(&b, " topics %s group %q", strings.Join(c.Topics, ","), c.Group)
	if c.tlsOn() {
		b.WriteString(" tls")
	}
	if c.SASL.Mechanism != "" {
		b.WriteString(" sasl " + c.SASL.String())
	}
	return b.String()
}

func (c Config) tlsOn() bool {
	return c.TLS || c.TLSConfig != nil || c.TLSCAFile != "" || c.TLSCertFile != ""
}

// GoString is String, so that %#v redacts too.
func (c Config) GoString() string { return c.String() }

// LogValue describes c without its secrets.
func (c Config) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("name", c.Name),
		slog.Any("brokers", c.Brokers),
		slog.Any("topics", c.Topics),
		slog.String("group", c.Group),
		slog.Bool("tls", c.tlsOn()),
		slog.Any("sasl", c.SASL),
	}
	if c.EventHubsConnectionString != "" || c.EventHubsConnectionStringFile != "" {
		attrs = append(attrs, slog.String("eventHubsConnectionString", redacted))
	}
	return slog.GroupValue(attrs...)
}

// Validate returns every problem with c, joined; nil when c is usable.
// It reads no file: New does.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	if c.Name == "" {
		bad("name is required")
	}
	eh := c.EventHubsConnectionString != "" || c.EventHubsConnectionStringFile != ""
	switch {
	case c.EventHubsConnectionString != "" && c.EventHubsConnectionStringFile != "":
		bad("event_hubs_connection_string and event_hubs_connection_string_file are exclusive")
	case c.EventHubsConnectionString != "":
		cs, err := ParseEventHubsConnectionString(string(c.EventHubsConnectionString))
		if err != nil {
			errs = append(errs, err)
		} else if len(c.Topics) == 0 && cs.EntityPath == "" {
			bad("topics is empty and the Event Hubs connection string names no EntityPath")
		}
	}
	if eh {
		if len(c.Brokers) > 0 {
			bad("brokers and an Event Hubs connection string are exclusive (the connection string names the broker)")
		}
		if c.SASL != (SASL{}) {
			bad("sasl and an Event Hubs connection string are exclusive (the connection string is the credential)")
		}
	} else {
		if len(c.Brokers) == 0 {
			bad("brokers is empty and there is no Event Hubs connection string")
		}
		if len(c.Topics) == 0 {
			bad("topics is empty")
		}
	}
	for i, b := range c.Brokers {
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			bad("brokers[%d] %q is not host:port", i, b)
		}
	}
	for i, t := range c.Topics {
		if t == "" {
			bad("topics[%d] is empty", i)
		}
	}
	switch c.StartOffset {
	case "", StartEarliest, StartLatest:
	default:
		bad("start_offset %q is not %q or %q", c.StartOffset, StartEarliest, StartLatest)
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		bad("tls_cert_file and tls_key_file go together")
	}
	if c.MaxChunkBytes < 0 {
		bad("max_chunk_bytes %d is negative", c.MaxChunkBytes)
	}
	errs = append(errs, c.SASL.validate()...)
	return errors.Join(errs...)
}

func (s SASL) validate() []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: sasl: "+format, append([]any{ErrConfig}, args...)...))
	}
	switch s.Mechanism {
	case "":
		if s.User != "" || s.Password != "" || s.PasswordFile != "" {
			bad("user or password given without a mechanism")
		}
		return errs
	case MechanismPLAIN, MechanismSCRAMSHA256, MechanismSCRAMSHA512:
	default:
		bad("mechanism %q is not %s, %s or %s", s.Mechanism, MechanismPLAIN, MechanismSCRAMSHA256, MechanismSCRAMSHA512)
	}
	if s.User == "" {
		bad("user is required")
	}
	switch {
	case s.Password != "" && s.PasswordFile != "":
		bad("password and password_file are exclusive")
	case s.Password == "" && s.PasswordFile == "":
		bad("password or password_file is required")
	}
	return errs
}

// ErrConfig marks every configuration problem.
var ErrConfig = errors.New("kafka config")

// resolved is a Config with defaults applied, secret files read and the
// Event Hubs connection string turned into brokers, TLS and SASL.
func (c Config) resolved() (Config, error) {
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	if c.StartOffset == "" {
		c.StartOffset = StartEarliest
	}
	if c.MaxChunkBytes == 0 {
		c.MaxChunkBytes = DefaultMaxChunkBytes
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = DefaultShutdownGrace
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.SASL.PasswordFile != "" {
		p, err := readSecretFile(c.SASL.PasswordFile)
		if err != nil {
			return c, fmt.Errorf("sasl password_file: %w", err)
		}
		c.SASL.Password, c.SASL.PasswordFile = p, ""
	}
	if c.EventHubsConnectionStringFile != "" {
		s, err := readSecretFile(c.EventHubsConnectionStringFile)
		if err != nil {
			return c, fmt.Errorf("event_hubs_connection_string_file: %w", err)
		}
		c.EventHubsConnectionString, c.EventHubsConnectionStringFile = s, ""
	}
	if c.EventHubsConnectionString != "" {
		cs, err := ParseEventHubsConnectionString(string(c.EventHubsConnectionString))
		if err != nil {
			return c, err
		}
		c.Brokers = []string{cs.Broker()}
		if len(c.Topics) == 0 && cs.EntityPath != "" {
			c.Topics = []string{cs.EntityPath}
		}
		if len(c.Topics) == 0 {
			return c, fmt.Errorf("%w: topics is empty and the Event Hubs connection string names no EntityPath", ErrConfig)
		}
		c.TLS, c.eventHubs = true, true
		c.SASL = SASL{Mechanism: MechanismPLAIN, User: "$ConnectionString", Password: c.EventHubsConnectionString}
	}
	if c.TLSCAFile != "" || c.TLSCertFile != "" {
		tc, err := tlsfile.Client(c.TLSConfig, c.TLSCAFile, c.TLSCertFile, c.TLSKeyFile)
		if err != nil {
			return c, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		c.TLSConfig = tc
	}
	if c.TLSConfig != nil {
		c.TLS = true
	}
	return c, nil
}

// readSecretFile reads a secret from path; its errors name the file, never
// its content.
func readSecretFile(path string) (Secret, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err // *PathError: names the file only
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", fmt.Errorf("%w: %s is empty", ErrConfig, path)
	}
	return Secret(s), nil
}
