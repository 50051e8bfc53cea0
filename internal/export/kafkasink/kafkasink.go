// Package kafkasink exports records to a Kafka topic with franz-go's
// idempotent producer.
package kafkasink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"vaultwatch/internal/export"
	"vaultwatch/internal/tlsfile"
)

// Defaults and names.
const (
	DefaultTimeout = 30 * time.Second

	MechanismPLAIN       = "PLAIN"
	MechanismSCRAMSHA256 = "SCRAM-SHA-256"
	MechanismSCRAMSHA512 = "SCRAM-SHA-512"

	// HeaderIdempotencyKey is the record header that carries the
	// idempotency key; HeaderKind carries the record kind, HeaderFormat
	// the format's name.
	HeaderIdempotencyKey = "idempotency_key"
	HeaderKind           = "kind"
	HeaderFormat         = "format"
)

// SASL is the authentication against the brokers.
type SASL struct {
	// Mechanism is "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512"; empty for
	// none.
	Mechanism    string        `yaml:"mechanism"`
	User         string        `yaml:"user"`
	Password     export.Secret `yaml:"password"`
	PasswordFile string        `yaml:"password_file"`
}

// Config is one Kafka export.
type Config struct {
	// Name is the export's name.
	Name string `yaml:"-"`
	// Brokers are the seed brokers, host:port (required).
	Brokers []string `yaml:"brokers"`
	// Topic receives the records (required).
	Topic string `yaml:"topic"`
	// ClientID names the producer to the brokers (default "vaultwatch").
	ClientID string `yaml:"client_id"`
	// TLS turns TLS on with the system roots; the files name a CA bundle
	// and a client certificate (PEM), each turning TLS on. TLSConfig, when
	// set, is used instead.
	TLS         bool        `yaml:"tls"`
	TLSCAFile   string      `yaml:"tls_ca_file"`
	TLSCertFile string      `yaml:"tls_cert_file"`
	TLSKeyFile  string      `yaml:"tls_key_file"`
	TLSConfig   *tls.Config `yaml:"-"`
	SASL        SASL        `yaml:"sasl"`
	// Timeout bounds the delivery of a batch (default 30s).
	Timeout time.Duration `yaml:"timeout"`
	// Format encodes the records (default export.Native).
	Format export.Format `yaml:"-"`
}

// String describes c without its secrets.
func (c Config) String() string {
	s := fmt.Sprintf("kafka export %q to topic %s on %v", c.Name, c.Topic, c.Brokers)
	if c.SASL.Mechanism != "" {
		s += ", " + c.SASL.Mechanism + " user " + c.SASL.User
	}
	return s
}

// Validate reports every problem of c.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("kafka export: brokers are required"))
	}
	for _, b := range c.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			errs = append(errs, fmt.Errorf("kafka export: broker %q: want host:port", b))
		}
	}
	if c.Topic == "" {
		errs = append(errs, errors.New("kafka export: topic is required"))
	}
	switch c.SASL.Mechanism {
	case "":
		if c.SASL.User != "" || c.SASL.Password != "" || c.SASL.PasswordFile != "" {
			errs = append(errs, errors.New("kafka export: sasl credentials without sasl.mechanism"))
		}
	case MechanismPLAIN, MechanismSCRAMSHA256, MechanismSCRAMSHA512:
		if c.SASL.User == "" {
			errs = append(errs, errors.New("kafka export: sasl.user is required"))
		}
		if c.SASL.Password == "" && c.SASL.PasswordFile == "" {
			errs = append(errs, errors.New("kafka export: sasl.password or sasl.password_file is required"))
		}
		if c.SASL.Password != "" && c.SASL.PasswordFile != "" {
			errs = append(errs, errors.New("kafka export: sasl.password and sasl.password_file are exclusive"))
		}
	default:
		errs = append(errs, fmt.Errorf("kafka export: unknown sasl.mechanism %q", c.SASL.Mechanism))
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("kafka export: tls_cert_file and tls_key_file go together"))
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("kafka export: timeout is negative"))
	}
	return errors.Join(errs...)
}

// Sink produces each record as one Kafka record: key the alert id (so that
// one alert's records stay in one partition, in order), value the
// formatted record, headers the idempotency key, the kind and the format.
// The producer is idempotent and waits for all in-sync replicas (acks=all).
type Sink struct {
	cfg Config
	cl  *kgo.Client
}

var _ export.Sink = (*Sink)(nil)

func (c *Config) tlsConfig() (*tls.Config, error) {
	if c.TLSConfig != nil {
		return c.TLSConfig, nil
	}
	if !c.TLS && c.TLSCAFile == "" && c.TLSCertFile == "" {
		return nil, nil
	}
	return tlsfile.Client(nil, c.TLSCAFile, c.TLSCertFile, c.TLSKeyFile)
}

// New validates cfg and makes the producer; it does not wait for the
// brokers.
func New(cfg Config) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "vaultwatch"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Format == nil {
		cfg.Format = export.Native{}
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID(cfg.ClientID),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordDeliveryTimeout(cfg.Timeout),
		kgo.ProducerLinger(0),
	}
	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("kafka export %s: %w", cfg.Name, err)
	}
	if tc != nil {
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if m := cfg.SASL.Mechanism; m != "" {
		pw, err := export.ResolveSecret("sasl.password", cfg.SASL.Password, cfg.SASL.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("kafka export %s: %w", cfg.Name, err)
		}
		switch m {
		case MechanismPLAIN:
			opts = append(opts, kgo.SASL(plain.Auth{User: cfg.SASL.User, Pass: string(pw)}.AsMechanism()))
		case MechanismSCRAMSHA256:
			opts = append(opts, kgo.SASL(scram.Auth{User: cfg.SASL.User, Pass: string(pw)}.AsSha256Mechanism()))
		case MechanismSCRAMSHA512:
			opts = append(opts, kgo.SASL(scram.Auth{User: cfg.SASL.User, Pass: string(pw)}.AsSha512Mechanism()))
		}
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka export %s: %w", cfg.Name, err)
	}
	return &Sink{cfg: cfg, cl: cl}, nil
}

// Name returns the export's name.
func (s *Sink) Name() string { return s.cfg.Name }

// Send produces the batch and waits until every record is acknowledged by
// all in-sync replicas. A broker's non-retriable refusal (a record too
// large, no authorization for the topic) is permanent; anything else is
// worth a retry.
func (s *Sink) Send(ctx context.Context, batch []export.Record) error {
	if s.cl == nil {
		return fmt.Errorf("kafka export %s: closed", s.cfg.Name)
	}
	if len(batch) == 0 {
		return nil
	}
	recs := make([]*kgo.Record, len(batch))
	format := []byte(s.cfg.Format.Name())
	for i := range batch {
		r := &batch[i]
		v, err := s.cfg.Format.Append(nil, r)
		if err != nil {
			return export.Permanent(fmt.Errorf("kafka export %s: %w", s.cfg.Name, err))
		}
		recs[i] = &kgo.Record{
			Key:   []byte(r.Alert.ID),
			Value: v,
			Headers: []kgo.RecordHeader{
				{Key: HeaderIdempotencyKey, Value: r.AppendIdempotencyKey(nil)},
				{Key: HeaderKind, Value: []byte(r.Kind)},
				{Key: HeaderFormat, Value: format},
			},
		}
	}
	if err := s.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		err = fmt.Errorf("kafka export %s: topic %s: %w", s.cfg.Name, s.cfg.Topic, err)
		var ke *kerr.Error
		if errors.As(err, &ke) && !ke.Retriable {
			return export.Permanent(err)
		}
		return err
	}
	return nil
}

// Close flushes nothing (Send waits for its records) and closes the
// client.
func (s *Sink) Close() error {
	if s.cl != nil {
		s.cl.Close()
		s.cl = nil
	}
	return nil
}
