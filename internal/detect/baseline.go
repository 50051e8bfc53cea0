package detect

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"time"

	"vaultwatch/internal/event"
)

// VaultBaseline is what the engine has learned of one vault: who calls it
// and from where. The pages show it beside the vault's alerts.
type VaultBaseline struct {
	Since    time.Time // first event
	Learned  bool      // watched for the learning period
	Callers  []KnownCaller
	Networks []KnownNetwork
	// Truncated counts callers or networks left out past the cap.
	Truncated int
}

// KnownCaller is a caller known on a vault.
type KnownCaller struct {
	Principal string
	Name      string // the most readable name seen
	Person    bool
	First     time.Time
}

// KnownNetwork is a network (/24, /48) callers use on a vault.
type KnownNetwork struct {
	Prefix  netip.Prefix
	Callers int
}

// callerInfo is how the engine names a principal in baselines.
type callerInfo struct {
	name   string
	person bool
}

const maxNames = 1 << 20

// learnName remembers how to show a principal, at its first call to a vault.
func (e *Engine) learnName(ev *event.Event, principal string) {
	if _, ok := e.names[principal]; ok {
		return
	}
	if len(e.names) >= maxNames {
		clear(e.names)
	}
	e.names[principal] = callerInfo{callerName(ev), ev.Caller.Type == event.IdentityUser}
}

// Baselines summarises what the engine learned of every vault, with at
// most max callers and networks each (most recent callers, busiest
// networks first). It reads the engine's state: call it from the goroutine
// that feeds the engine, and hand the result to others.
func (e *Engine) Baselines(at time.Time, max int) map[string]VaultBaseline {
	out := make(map[string]VaultBaseline, len(e.vaults))
	for id, first := range e.vaults {
		out[id] = VaultBaseline{Since: first, Learned: at.Sub(first) >= e.cfg.LearningPeriod}
	}
	for k, t := range e.onVault.m {
		b, ok := out[k.vault]
		if !ok {
			continue
		}
		info := e.names[k.principal]
		name := info.name
		if name == "" {
			name = k.principal
		}
		b.Callers = append(b.Callers, KnownCaller{Principal: k.principal, Name: name, Person: info.person, First: t})
		out[k.vault] = b
	}
	var ip *UnusualIP
	for _, d := range e.detectors {
		if x, ok := d.(*UnusualIP); ok {
			ip = x
		}
	}
	if ip != nil {
		nets := map[string]map[netip.Prefix]int{}
		for k, p := range ip.pairs {
			m := nets[k.vault]
			if m == nil {
				m = map[netip.Prefix]int{}
				nets[k.vault] = m
			}
			for _, n := range p.nets {
				m[n]++
			}
		}
		for v, m := range nets {
			b, ok := out[v]
			if !ok {
				continue
			}
			for n, c := range m {
				b.Networks = append(b.Networks, KnownNetwork{n, c})
			}
			out[v] = b
		}
	}
	for v, b := range out {
		slices.SortFunc(b.Callers, func(x, y KnownCaller) int {
			return cmp.Or(y.First.Compare(x.First), strings.Compare(x.Principal, y.Principal))
		})
		slices.SortFunc(b.Networks, func(x, y KnownNetwork) int {
			return cmp.Or(cmp.Compare(y.Callers, x.Callers), x.Prefix.Addr().Compare(y.Prefix.Addr()))
		})
		if n := len(b.Callers) - max; n > 0 {
			b.Truncated += n
			b.Callers = b.Callers[:max]
		}
		if n := len(b.Networks) - max; n > 0 {
			b.Truncated += n
			b.Networks = b.Networks[:max]
		}
		out[v] = b
	}
	return out
}
