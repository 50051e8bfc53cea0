package webhook

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/notify"
)

// Settings is one entry of the webhooks list of the configuration file,
// as decoded:
//
//	webhooks:
//	  - name: soc-siem
//	    type: generic                               # generic, slack or teams
//	    url_file: /etc/vaultwatch/siem-url.secret   # or url: https://... when it is no secret
//	    secret_file: /etc/vaultwatch/siem-hmac.secret  # or secret_env; generic only
//	    min_severity: medium
//	    vaults: [kv-pay]
//	    timeout: 10s
//
// min_severity and vaults route alerts to the webhook as they do to an
// e-mail recipient (see Route).
type Settings struct {
	Name        string         `yaml:"name" json:"name"`
	Type        Type           `yaml:"type,omitempty" json:"type,omitempty"`
	URL         string         `yaml:"url,omitempty" json:"url,omitempty"`
	URLFile     string         `yaml:"url_file,omitempty" json:"url_file,omitempty"`
	URLEnv      string         `yaml:"url_env,omitempty" json:"url_env,omitempty"`
	SecretFile  string         `yaml:"secret_file,omitempty" json:"secret_file,omitempty"`
	SecretEnv   string         `yaml:"secret_env,omitempty" json:"secret_env,omitempty"`
	MinSeverity alert.Severity `yaml:"min_severity,omitempty" json:"min_severity,omitempty"`
	Vaults      []string       `yaml:"vaults,omitempty" json:"vaults,omitempty"`
	Timeout     time.Duration  `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// Route returns the webhook as a recipient for notify.Routes: its name,
// vaults and minimum severity.
func (s Settings) Route() notify.Recipient {
	return notify.Recipient{Address: s.Name, Vaults: s.Vaults, MinSeverity: s.MinSeverity}
}

// Notifier reads the settings' secret files and returns the notifier, or
// every problem at once, each naming the webhook. lookupEnv is
// os.LookupEnv, or a replacement in tests.
func (s Settings) Notifier(baseURL string, log *slog.Logger, lookupEnv func(string) (string, bool)) (*Notifier, error) {
	cfg := Config{Name: s.Name, Type: s.Type, BaseURL: baseURL, Timeout: s.Timeout, Logger: log}
	var errs []error
	what := fmt.Sprintf("webhook %q", s.Name)
	switch {
	case s.URL != "" && (s.URLFile != "" || s.URLEnv != ""):
		errs = append(errs, fmt.Errorf("%s: give url or url_file/url_env, not both", what))
	case s.URL != "":
		cfg.URL = notify.NewSecret(s.URL)
	default:
		u, err := notify.LoadSecret(what+" url_file/url_env", s.URLFile, s.URLEnv, lookupEnv)
		if err != nil {
			errs = append(errs, err)
		}
		cfg.URL = u
	}
	if s.SecretFile != "" || s.SecretEnv != "" {
		if s.Type == Slack || s.Type == Teams {
			errs = append(errs, fmt.Errorf("%s: a %s webhook is not signed: no secret_file/secret_env", what, s.Type))
		}
		k, err := notify.LoadSecret(what+" secret_file/secret_env", s.SecretFile, s.SecretEnv, lookupEnv)
		if err != nil {
			errs = append(errs, err)
		}
		cfg.Key = k
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return New(cfg)
}
