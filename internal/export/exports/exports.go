// Package exports builds the configured exports: the YAML shape of one
// export (name, type, format, filter and the settings of its type) and a
// typed registry from the type to its sink.
package exports

import (
	"errors"
	"fmt"

	"vaultwatch/internal/export"
	"vaultwatch/internal/export/filesink"
	"vaultwatch/internal/export/httpsink"
	"vaultwatch/internal/export/kafkasink"
	"vaultwatch/internal/export/syslogsink"
)

// Export types.
const (
	TypeFile   = "file"
	TypeHTTP   = "http"
	TypeKafka  = "kafka"
	TypeSyslog = "syslog"
)

// Config is one configured export:
//
//   - name: siem
//     type: http            # file, http, kafka, syslog
//     format: ocsf          # native (default; cef for syslog), ocsf, cef
//     filter: {severities: [medium], types: [tor-access], vaults: [kv-payments-prod]}
//     http: {url: https://siem.example.com/ingest, hmac_key_file: /etc/vaultwatch/siem.key}
//
// Exactly the block of its type is set.
type Config struct {
	Name   string             `yaml:"name"`
	Type   string             `yaml:"type"`
	Format string             `yaml:"format"`
	Filter export.Filter      `yaml:"filter"`
	File   *filesink.Config   `yaml:"file"`
	HTTP   *httpsink.Config   `yaml:"http"`
	Kafka  *kafkasink.Config  `yaml:"kafka"`
	Syslog *syslogsink.Config `yaml:"syslog"`
}

// Export is a built export: the records that pass Filter go to Sink.
type Export struct {
	Name   string
	Filter export.Filter
	Format export.Format
	Sink   export.Sink
}

// Validate reports every problem of c, each prefixed with where: the
// export's name, else its position.
func (c *Config) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("no name"))
	}
	blocks := map[string]bool{TypeFile: c.File != nil, TypeHTTP: c.HTTP != nil, TypeKafka: c.Kafka != nil, TypeSyslog: c.Syslog != nil}
	switch c.Type {
	case TypeFile, TypeHTTP, TypeKafka, TypeSyslog:
		if !blocks[c.Type] && c.Type != TypeFile {
			errs = append(errs, fmt.Errorf("type %s needs its %s block", c.Type, c.Type))
		}
	case "":
		errs = append(errs, errors.New("no type (want file, http, kafka or syslog)"))
	default:
		errs = append(errs, fmt.Errorf("unknown type %q (want file, http, kafka or syslog)", c.Type))
	}
	for t, set := range blocks {
		if set && t != c.Type {
			errs = append(errs, fmt.Errorf("a %s block in an export of type %q", t, c.Type))
		}
	}
	format, err := export.NewFormat(c.Format, "")
	if err != nil {
		errs = append(errs, err)
	}
	if err := c.Filter.Validate(); err != nil {
		errs = append(errs, err)
	}
	switch {
	case c.Type == TypeFile && c.File == nil:
		errs = append(errs, errors.New("file export: path is required"))
	case c.Type == TypeFile:
		errs = append(errs, c.File.Validate())
	case c.Type == TypeHTTP && c.HTTP != nil:
		h := *c.HTTP
		h.Format = format
		errs = append(errs, h.Validate())
	case c.Type == TypeKafka && c.Kafka != nil:
		errs = append(errs, c.Kafka.Validate())
	case c.Type == TypeSyslog && c.Syslog != nil:
		errs = append(errs, c.Syslog.Validate())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("export %q: %w", c.Name, err)
	}
	return nil
}

// ValidateAll validates every export and that their names are unique.
func ValidateAll(cs []Config) error {
	var errs []error
	seen := map[string]bool{}
	for i := range cs {
		if err := cs[i].Validate(); err != nil {
			errs = append(errs, fmt.Errorf("exports[%d]: %w", i, err))
		}
		if n := cs[i].Name; n != "" {
			if seen[n] {
				errs = append(errs, fmt.Errorf("exports[%d]: name %q used twice", i, n))
			}
			seen[n] = true
		}
	}
	return errors.Join(errs...)
}

// Open validates c and builds its sink; productVersion is the vaultwatch
// release the OCSF and CEF formats name. Syslog defaults to the CEF
// format, every other type to native.
func Open(c Config, productVersion string) (*Export, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	name := c.Format
	if name == "" && c.Type == TypeSyslog {
		name = export.FormatCEF
	}
	format, err := export.NewFormat(name, productVersion)
	if err != nil {
		return nil, err
	}
	var sink export.Sink
	switch c.Type {
	case TypeFile:
		cfg := *c.File
		cfg.Name, cfg.Format = c.Name, format
		sink, err = filesink.New(cfg)
	case TypeHTTP:
		cfg := *c.HTTP
		cfg.Name, cfg.Format = c.Name, format
		sink, err = httpsink.New(cfg)
	case TypeKafka:
		cfg := *c.Kafka
		cfg.Name, cfg.Format = c.Name, format
		sink, err = kafkasink.New(cfg)
	case TypeSyslog:
		cfg := *c.Syslog
		cfg.Name, cfg.Format = c.Name, format
		sink, err = syslogsink.New(cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("export %q: %w", c.Name, err)
	}
	return &Export{Name: c.Name, Filter: c.Filter, Format: format, Sink: sink}, nil
}
