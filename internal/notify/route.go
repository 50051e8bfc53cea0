package notify

import (
	"errors"
	"fmt"
	"strings"

	"vaultwatch/internal/alert"
)

// Recipient is one receiver of alerts: an e-mail address or a webhook's
// name, the vaults it cares about and the least severity it wants.
type Recipient struct {
	// Address is the e-mail address, or the webhook's name.
	Address string `yaml:"address" json:"address"`
	// Vaults are vault ids or names ("azure-keyvault:kv-pay" or "kv-pay");
	// empty means every vault (a global recipient).
	Vaults []string `yaml:"vaults,omitempty" json:"vaults,omitempty"`
	// MinSeverity is the least severity sent: low (the default), medium or
	// high.
	MinSeverity alert.Severity `yaml:"min_severity,omitempty" json:"min_severity,omitempty"`
}

// Routes are the recipients of alerts, in the configuration's order.
type Routes []Recipient

// Rank orders severities: low 1, medium 2, high 3. An unknown or empty
// severity ranks as high, so that no filter ever hides it.
func Rank(s alert.Severity) int {
	switch s {
	case alert.SeverityLow:
		return 1
	case alert.SeverityMedium:
		return 2
	}
	return 3
}

// Validate reports every problem of the routes at once: a recipient
// without an address, a severity that does not exist, an address given
// twice.
func (r Routes) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, rc := range r {
		switch {
		case strings.TrimSpace(rc.Address) == "":
			errs = append(errs, fmt.Errorf("recipient %d: no address", i+1))
		case seen[strings.ToLower(rc.Address)]:
			errs = append(errs, fmt.Errorf("recipient %d: %q is given twice", i+1, rc.Address))
		}
		seen[strings.ToLower(rc.Address)] = true
		switch rc.MinSeverity {
		case "", alert.SeverityLow, alert.SeverityMedium, alert.SeverityHigh:
		default:
			errs = append(errs, fmt.Errorf("recipient %d (%s): min_severity %q is not low, medium or high", i+1, rc.Address, rc.MinSeverity))
		}
		for _, v := range rc.Vaults {
			if strings.TrimSpace(v) == "" {
				errs = append(errs, fmt.Errorf("recipient %d (%s): an empty vault name", i+1, rc.Address))
			}
		}
	}
	return errors.Join(errs...)
}

// Route returns the addresses that receive a, in the routes' order, each
// once: the recipients whose minimum severity a reaches and that are
// global or name a's vault (or, for a cross-vault alert, one of its
// vaults) by id or name.
func (r Routes) Route(a alert.Alert) []string {
	var out []string
	seen := map[string]bool{}
	rank := Rank(a.Severity)
	for _, rc := range r {
		if rc.MinSeverity != "" && rank < Rank(rc.MinSeverity) {
			continue
		}
		if len(rc.Vaults) > 0 && !matchVault(rc.Vaults, a) {
			continue
		}
		k := strings.ToLower(rc.Address)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, rc.Address)
	}
	return out
}

func matchVault(names []string, a alert.Alert) bool {
	for _, n := range names {
		if n == a.Vault.ID || n == a.Vault.Name {
			return true
		}
		for _, v := range a.Vaults {
			if n == v.ID || n == v.Name {
				return true
			}
		}
	}
	return false
}
