package detect

import (
	"fmt"
	"net/netip"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
)

// network is the /24 (IPv4) or /48 (IPv6) around a, the unit in which
// callers' networks are learned: a corporate egress or a cloud subnet hands
// out many addresses of one network.
func network(a netip.Addr) netip.Prefix {
	bits := 24
	if a.Is6() {
		bits = 48
	}
	p, _ := a.Prefix(bits)
	return p
}

// famNet is a (provider family, network) key.
type famNet struct {
	family string
	net    netip.Prefix
}

// family is the provider family: AWS Secrets Manager and KMS are one.
func family(p event.Provider) string {
	switch p {
	case event.ProviderAWSSecretsManager, event.ProviderAWSKMS:
		return "aws"
	}
	return string(p)
}

// CrossProvider raises cross-provider-access when one address reads secrets
// in two providers within an hour and its network is new to at least one of
// them: a dumped credential tried everywhere. A network that reads from
// both routinely (a CI runner, an office) is learned and stays quiet.
type CrossProvider struct {
	Window time.Duration      // default 1 hour
	known  *firstSeen[famNet] // provider family + network -> first read
	recent map[netip.Addr]recentRead
}

type recentRead struct {
	family string
	vault  event.Vault
	t      time.Time
}

// Types implements Detector.
func (*CrossProvider) Types() []alert.Type { return []alert.Type{alert.CrossProviderAccess} }

// Observe implements Detector.
func (d *CrossProvider) Observe(c *Context) {
	e := c.Event
	if e.Operation.Class != event.ClassRead || e.Result.Outcome != event.OutcomeSuccess || !e.IP.IsValid() {
		return
	}
	if d.known == nil {
		if d.Window <= 0 {
			d.Window = time.Hour
		}
		d.known = newFirstSeen[famNet](1 << 20)
		d.recent = map[netip.Addr]recentRead{}
	}
	fam := family(e.Provider)
	nw := c.Net
	first := d.known.see(famNet{fam, nw}, e.Time)
	newHere := e.Time.Sub(first) < d.Window
	prev, ok := d.recent[e.IP]
	if len(d.recent) >= 1<<18 {
		clear(d.recent)
	}
	d.recent[e.IP] = recentRead{family: fam, vault: e.Vault, t: e.Time}
	if !ok || prev.family == fam || e.Time.Sub(prev.t) > d.Window || !c.VaultLearned() {
		return
	}
	prevFirst := d.known.see(famNet{prev.family, nw}, prev.t)
	ip := e.IP.String()
	newThere := prev.t.Sub(prevFirst) < d.Window
	if !newHere && !newThere {
		return
	}
	c.Raise(Finding{Type: alert.CrossProviderAccess, Key: "ip:" + ip, Vaults: []event.Vault{prev.vault}, CrossVault: true,
		Explanation: fmt.Sprintf("%s read secrets in %s (%s) and, %s later, in %s (%s); its network %s had not read from %s before.",
			ip, prev.vault.Name, prev.family, human(e.Time.Sub(prev.t)), e.Vault.Name, fam, nw, newWhere(newHere, newThere, fam, prev.family))})
}

func newWhere(here, there bool, fam, prevFam string) string {
	switch {
	case here && there:
		return "either provider"
	case here:
		return fam
	}
	return prevFam
}
