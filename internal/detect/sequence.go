package detect

import (
	"fmt"
	"strings"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
)

// PolicyChangeThenGet raises policy-change-then-secret-get when a principal
// changes an access policy (a Key Vault access policy or network rule, a
// Vault policy, a resource policy) and, within the hour, reads secrets it
// had never read before in what the change can open (the same vault; any
// mount of the namespace for a Vault policy): granting itself the access it then uses. An
// admin's change followed by another identity's reads (a new application
// being deployed) is not this, and nothing is raised before the vault's
// learning period is over: until then every read is a first.
type PolicyChangeThenGet struct {
	Window  time.Duration           // default 1 hour
	changes map[string]policyChange // principal -> last change
	objs    *firstSeen[vpo]         // when each principal first read each object
}

type policyChange struct {
	t     time.Time
	vault event.Vault
	op    string
	// first is the first read of a never-read secret after the change,
	// held back until a second one: an administrator who changes a policy
	// and later reads one secret is at work; one who then reads several
	// it never read is harvesting what the change opened.
	first *Prior
}

// Types implements Detector.
func (*PolicyChangeThenGet) Types() []alert.Type {
	return []alert.Type{alert.PolicyChangeThenSecretGet}
}

// Observe implements Detector.
func (d *PolicyChangeThenGet) Observe(c *Context) {
	e := c.Event
	if d.changes == nil {
		if d.Window <= 0 {
			d.Window = time.Hour
		}
		d.changes = map[string]policyChange{}
		d.objs = newFirstSeen[vpo](1 << 21)
	}
	if e.Result.Outcome != event.OutcomeSuccess || e.Caller.Principal() == "" {
		return
	}
	switch e.Operation.Class {
	case event.ClassPolicyChange:
		if len(d.changes) >= 1<<18 {
			clear(d.changes)
		}
		d.changes[c.Principal] = policyChange{t: e.Time, vault: e.Vault, op: e.Operation.Name}
		return
	case event.ClassRead:
	default:
		return
	}
	if e.Object.Name == "" {
		return
	}
	first := d.objs.see(vpo{e.Vault.ID, c.Principal, e.Object.Kind, e.Object.Name, ""}, e.Time)
	ch, ok := d.changes[c.Principal]
	if !ok || e.Time.Sub(ch.t) > d.Window || e.Time.Before(ch.t) || first.Before(ch.t) {
		return // no recent change of its own, or an object it read before it
	}
	if !grants(ch.vault, e) {
		return // a change that cannot have opened this vault
	}
	if !c.VaultLearned() {
		return // "never read before" means nothing before the vault is learned
	}
	if ch.first == nil {
		ch.first = &Prior{Start: e.Time, IP: e.IP, IPClass: c.IP}
		ch.first.record(e)
		d.changes[c.Principal] = ch
		return
	}
	var vaults []event.Vault
	if ch.vault.ID != e.Vault.ID {
		vaults = []event.Vault{ch.vault}
	}
	f := Finding{Type: alert.PolicyChangeThenSecretGet, Vaults: vaults,
		Explanation: fmt.Sprintf("%s changed access (%s on %s) and %s later read %s %s on %s, which it had never read before.",
			callerName(e), ch.op, ch.vault.Name, human(e.Time.Sub(ch.t)), e.Object.Kind, e.Object.Name, e.Vault.Name)}
	if p := ch.first; p.Count > 0 {
		// The second never-read secret: the alert starts at the first.
		ob := p.Objects[0]
		f.Prior = p
		f.Explanation = fmt.Sprintf("%s changed access (%s on %s) and %s later began reading secrets it had never read: %s %s, then %s %s on %s.",
			callerName(e), ch.op, ch.vault.Name, human(p.Start.Sub(ch.t)), ob.Kind, ob.Name, e.Object.Kind, e.Object.Name, e.Vault.Name)
		ch.first = &Prior{} // raised: later reads extend the alert
		d.changes[c.Principal] = ch
	}
	c.Raise(f)
}

// grants reports whether an access change on vault can have opened e's
// vault: a Key Vault's access policy or network rules, a secret's resource
// policy, a project's IAM policy open that vault only; a Vault policy
// (written under sys/) opens any mount of its namespace.
func grants(vault event.Vault, e *event.Event) bool {
	if vault.ID == e.Vault.ID {
		return true
	}
	if e.Provider != event.ProviderHashiCorpVault {
		return false
	}
	ns, ok := vaultNamespace(vault.ID)
	ns2, ok2 := vaultNamespace(e.Vault.ID)
	return ok && ok2 && ns == ns2
}

// vaultNamespace is the namespace part of a Vault mount's id
// ("vault:<namespace id>:<mount>").
func vaultNamespace(id string) (string, bool) {
	rest, ok := strings.CutPrefix(id, "vault:")
	if !ok {
		return "", false
	}
	ns, _, ok := strings.Cut(rest, ":")
	return ns, ok
}

// ListThenGet raises list-then-get when a principal lists a vault's secrets
// and then, within half an hour, reads at least MinReads distinct secrets,
// more than twice what it ever read after a listing before: someone
// harvesting what the listing showed. Nothing fires while the vault is
// learned.
type ListThenGet struct {
	MinReads int             // default 5
	Window   time.Duration   // default 30 minutes
	runs     map[vp]*listRun // the run after each principal's last listing of each vault
	peak     map[vp]int      // the largest earlier run that raised nothing
}

type listRun struct {
	t       time.Time
	objects map[string]bool
	alerted bool
}

// Types implements Detector.
func (*ListThenGet) Types() []alert.Type { return []alert.Type{alert.ListThenGet} }

// Observe implements Detector.
func (d *ListThenGet) Observe(c *Context) {
	e := c.Event
	if d.runs == nil {
		if d.MinReads <= 0 {
			d.MinReads = 5
		}
		if d.Window <= 0 {
			d.Window = 30 * time.Minute
		}
		d.runs, d.peak = map[vp]*listRun{}, map[vp]int{}
	}
	if e.Result.Outcome != event.OutcomeSuccess || e.Caller.Principal() == "" {
		return
	}
	key := vp{e.Vault.ID, c.Principal}
	switch {
	case e.Operation.Class == event.ClassList && (e.Object.Kind == event.KindSecret || e.Object.Name == ""):
		if len(d.runs) >= 1<<18 {
			clear(d.runs)
		}
		if prev, ok := d.runs[key]; ok && !prev.alerted && len(prev.objects) > d.peak[key] && len(d.peak) < 1<<20 {
			d.peak[key] = len(prev.objects) // a finished, unremarkable run is normal
		}
		d.runs[key] = &listRun{t: e.Time, objects: map[string]bool{}}
		return
	case e.Operation.Class != event.ClassRead || e.Object.Kind != event.KindSecret:
		return
	}
	run, ok := d.runs[key]
	if !ok || e.Time.Sub(run.t) > d.Window || len(run.objects) > 4096 {
		return
	}
	run.objects[e.Object.Name] = true
	n := len(run.objects)
	peak := d.peak[key] // the largest of its earlier runs
	if !c.VaultLearned() || n < d.MinReads || n <= 2*peak {
		return
	}
	run.alerted = true
	c.Raise(Finding{Type: alert.ListThenGet,
		Explanation: fmt.Sprintf("%s listed the secrets of %s and read %d distinct ones within %s; after a listing it had never read more than %d before.",
			callerName(e), e.Vault.Name, n, human(e.Time.Sub(run.t)+time.Second), peak),
		Facts: []alert.Fact{{Name: "distinct_secrets", Value: float64(n)}, {Name: "learned_peak", Value: float64(peak)}}})
}
