package detect

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
)

// Newcomers raises unusual-application and unusual-user when, on a vault
// that has been learned, an application or a person that never called it
// before reads or lists its secrets.
//
// Some newcomers are expected and stay quiet: a new employee (seen for the
// first time anywhere, from the organisation's network); a newly registered
// application calling from near the organisation's networks, or within a
// day of an access-policy change; an application that appears after someone
// else changed the vault's access policy, or wrote a Vault policy its token
// carries, in the week before (a deployment the admin granted); a person
// whose team (the people of another vault they use) already uses the vault
// (their team's vault they had not opened yet). A known identity turning up
// on a vault nobody around it uses is the stolen-credential pattern this
// looks for.
type Newcomers struct {
	grants map[string]grant // vault -> last access-policy change
	// People per vault and vaults per person, for peers.
	vaultUsers map[string]map[string]bool
	userVaults map[string]map[string]bool
	// people is when each person (by e-mail, else principal) first read or
	// listed a vault, in any provider: someone reading Vault secrets for
	// weeks is no new employee in Azure.
	people *firstSeen[string]

	near nearMemo
}

// nearMemo is the last answer of NearbyBefore, for a caller's address
// before it was first seen. A cache, not state.
type nearMemo struct {
	who   string
	ip    netip.Addr
	known bool
}

// maxPeople bounds the people tracked per vault and the vaults per person.
const maxPeople = 4096

type grant struct {
	t   time.Time
	who string
}

// grantMemory is how long a policy change explains a new application.
const grantMemory = 7 * 24 * time.Hour

// newAppGrantMemory is how long a policy change explains a newly registered
// application calling from outside the organisation's networks: a
// deployment starts within hours of its grant.
const newAppGrantMemory = 24 * time.Hour

// Types implements Detector.
func (*Newcomers) Types() []alert.Type {
	return []alert.Type{alert.UnusualApplication, alert.UnusualUser}
}

// peersUse reports whether the vault is one of user's teams' vaults: for
// some other vault user uses, at least two, and at least a quarter, of its
// other people already use this one. A team is the people of one vault: an
// administrator who uses every vault dilutes no team, and one administrator
// does not make every vault a team's.
func (d *Newcomers) peersUse(user, vault string) bool {
	here := d.vaultUsers[vault]
	for w := range d.userVaults[user] {
		if w == vault {
			continue
		}
		using, all := 0, 0
		for x := range d.vaultUsers[w] {
			if x == user {
				continue
			}
			all++
			if here[x] {
				using++
			}
		}
		if using >= 2 && 4*using >= all {
			return true
		}
	}
	return false
}

// peers counts the people who share another vault with user (all), and
// those of them who use vault (using).
func (d *Newcomers) peers(user, vault string) (using, all int) {
	here := d.vaultUsers[vault]
	peers := map[string]bool{}
	for w := range d.userVaults[user] {
		if w == vault {
			continue
		}
		for x := range d.vaultUsers[w] {
			if x != user {
				peers[x] = true
			}
		}
	}
	for x := range peers {
		if here[x] {
			using++
		}
	}
	return using, len(peers)
}

// learnPerson records that user uses vault.
func (d *Newcomers) learnPerson(user, vault string) {
	if len(d.vaultUsers) >= 1<<16 || len(d.userVaults) >= 1<<20 {
		clear(d.vaultUsers)
		clear(d.userVaults)
	}
	vu := d.vaultUsers[vault]
	if vu == nil {
		vu = map[string]bool{}
		d.vaultUsers[vault] = vu
	}
	uv := d.userVaults[user]
	if uv == nil {
		uv = map[string]bool{}
		d.userVaults[user] = uv
	}
	if len(vu) < maxPeople {
		vu[user] = true
	}
	if len(uv) < maxPeople {
		uv[vault] = true
	}
}

// Observe implements Detector.
func (d *Newcomers) Observe(c *Context) {
	e := c.Event
	if d.grants == nil {
		d.grants = map[string]grant{}
		d.vaultUsers = map[string]map[string]bool{}
		d.userVaults = map[string]map[string]bool{}
		d.people = newFirstSeen[string](1 << 20)
	}
	if e.Caller.Principal() == "" {
		return
	}
	firstAnywhere, firstHere := c.Since, c.SinceOnVault
	if e.Result.Outcome != event.OutcomeSuccess {
		return
	}
	if e.Operation.Class == event.ClassPolicyChange {
		if len(d.grants) < 1<<20 {
			d.grants[e.Vault.ID] = grant{e.Time, c.Principal}
			if name := aclPolicy(e); name != "" {
				d.grants[policyGrantKey+name] = grant{e.Time, c.Principal}
			}
		}
		return
	}
	if e.Operation.Class != event.ClassRead && e.Operation.Class != event.ClassList {
		return
	}
	person := e.Caller.Type == event.IdentityUser
	// who is a person across providers: their e-mail address, else the
	// principal.
	who := c.Principal
	if person {
		if k := personKey(&e.Caller); k != "" {
			who = k
		}
		// A person is new until a day after their first read of any vault,
		// in any provider: logging in, browsing vault settings or being
		// refused does not make an employee's first day.
		firstAnywhere = d.people.see(who, e.Time)
		defer d.learnPerson(who, e.Vault.ID)
	}
	if !c.VaultLearned() || firstHere.Before(e.Time.Add(-time.Hour)) {
		return // a learned vault's known caller (an hour's grace covers its first burst)
	}
	newcomer := e.Time.Sub(firstAnywhere) < 24*time.Hour
	if person {
		if newcomer && (!e.IP.IsValid() || e.Time.Sub(c.NetSince) > time.Hour) {
			return // a person's first day, from the organisation's own network
		}
		if d.vaultUsers[e.Vault.ID][who] || d.peersUse(who, e.Vault.ID) {
			return // its first hour here, or its peers' vault
		}
		using, all := d.peers(who, e.Vault.ID)
		c.Raise(Finding{Type: alert.UnusualUser,
			Explanation: fmt.Sprintf("%s has never used %s in the %s it has been watched; %d of the %d people who share a vault with them use it; they have been reading vaults for %s. %s",
				callerName(e), e.Vault.Name, human(e.Time.Sub(c.VaultSince)), using, all, human(e.Time.Sub(firstAnywhere)), callSummary(e)),
			Facts: []alert.Fact{{Name: "peers", Value: float64(all)}, {Name: "peers_using_vault", Value: float64(using)}}})
		return
	}
	switch e.Caller.Type {
	case event.IdentityServicePrincipal, event.IdentityManagedIdentity:
	default:
		return
	}
	g, granted := d.grants[e.Vault.ID]
	granted = granted && g.who != c.Principal
	for _, p := range e.Caller.Policies {
		// A Vault token's policy written by someone else: the policy is
		// the grant, wherever in Vault it was written.
		if pg, ok := d.grants[policyGrantKey+p]; ok && pg.who != c.Principal && (!granted || pg.t.After(g.t)) {
			g, granted = pg, true
		}
	}
	if newcomer {
		// A newly registered application runs where the organisation's
		// workloads run, or is granted access to the vault shortly before
		// it starts. One first seen at an address far from every network
		// the organisation ever called from, on a vault nobody opened in
		// the day before, is an application the attacker registered.
		if !e.IP.IsValid() || e.IP.IsPrivate() || e.IP.IsLoopback() || granted && e.Time.Sub(g.t) < newAppGrantMemory {
			return
		}
		// The neighbourhood is looked at once per caller and address: a
		// new application's first hour may be thousands of calls.
		if d.near.who != c.Principal || d.near.ip != e.IP {
			d.near.who, d.near.ip, d.near.known = c.Principal, e.IP, c.NearbyBefore(firstAnywhere)
		}
		if d.near.known {
			return
		}
		c.Raise(Finding{Type: alert.UnusualApplication,
			Explanation: fmt.Sprintf("The application %s was never seen before %s and calls %s from %s, a network (%s) no caller of the organisation has used; no one changed the vault's access policy in the day before. %s",
				callerName(e), firstAnywhere.UTC().Format(time.RFC3339), e.Vault.Name, e.IP, wideNet(e.IP), callSummary(e))})
		return
	}
	if granted && e.Time.Sub(g.t) < grantMemory {
		return // deployed after someone granted access
	}
	c.Raise(Finding{Type: alert.UnusualApplication,
		Explanation: fmt.Sprintf("The application %s has never used %s in the %s it has been watched, though it has been calling other vaults for %s. %s",
			callerName(e), e.Vault.Name, human(e.Time.Sub(c.VaultSince)), human(e.Time.Sub(firstAnywhere)), callSummary(e))})
}

// policyGrantKey prefixes a Vault ACL policy's name among the grants, which
// are otherwise keyed by vault id.
const policyGrantKey = "\x00acl-policy:"

// aclPolicy is the name of the Vault ACL policy a policy change writes or
// deletes ("sys/policies/acl/NAME", "sys/policy/NAME"), else "".
func aclPolicy(e *event.Event) string {
	if e.Provider != event.ProviderHashiCorpVault {
		return ""
	}
	for _, prefix := range [...]string{"sys/policies/acl/", "sys/policy/"} {
		if name, ok := strings.CutPrefix(e.Object.Name, prefix); ok && name != "" && name != "default" {
			return name
		}
	}
	return ""
}

// wideNet is the neighbourhood NearbyBefore looks at: a's /16 or /48.
func wideNet(a netip.Addr) netip.Prefix {
	bits := 16
	if !a.Is4() {
		bits = 48
	}
	p, _ := a.Prefix(bits)
	return p
}

// OperationPattern raises unusual-operation-pattern when a principal known
// on a vault does a kind of operation there that it never did before:
// backup, delete, purge, restore, recover, or (for an application) listing.
// People browse and list; applications read what they were built to read.
// A principal known for less than the learning period on the vault (but a
// day at least) is judged by what it ever did on any vault.
type OperationPattern struct {
	classes *firstSeen[vpc] // first call of each class
}

type vpc struct {
	vault, principal string
	class            event.Class
}

// Types implements Detector.
func (*OperationPattern) Types() []alert.Type { return []alert.Type{alert.UnusualOperationPattern} }

// Observe implements Detector.
func (d *OperationPattern) Observe(c *Context) {
	e := c.Event
	if d.classes == nil {
		d.classes = newFirstSeen[vpc](1 << 21)
	}
	if e.Caller.Principal() == "" || e.Result.Outcome != event.OutcomeSuccess {
		return
	}
	since := c.SinceOnVault
	first := d.classes.see(vpc{e.Vault.ID, c.Principal, e.Operation.Class}, e.Time)
	switch e.Operation.Class {
	case event.ClassBackup, event.ClassDelete, event.ClassPurge, event.ClassRestore, event.ClassRecover:
	case event.ClassList:
		if e.Caller.Type == event.IdentityUser {
			return
		}
	default:
		return
	}
	// The same class on any vault, under a key no vault id takes.
	anywhere := d.classes.see(vpc{anyVault, c.Principal, e.Operation.Class}, e.Time)
	if !c.VaultLearned() || first.Before(e.Time.Add(-time.Hour)) {
		return // not learned yet, or a class it has used here before
	}
	if e.Time.Sub(since) < c.Config.LearningPeriod {
		// Young on this vault: still unusual from a principal watched for
		// the learning period that has used the vault for a day and never
		// did this anywhere.
		if e.Time.Sub(c.Since) < c.Config.LearningPeriod || e.Time.Sub(since) < 24*time.Hour || anywhere.Before(e.Time.Add(-time.Hour)) {
			return
		}
		c.Raise(Finding{Type: alert.UnusualOperationPattern,
			Explanation: fmt.Sprintf("%s has called vaults for %s and %s for %s, and never did a %s on any vault before. %s",
				callerName(e), human(e.Time.Sub(c.Since)), e.Vault.Name, human(e.Time.Sub(since)), e.Operation.Class, callSummary(e))})
		return
	}
	c.Raise(Finding{Type: alert.UnusualOperationPattern,
		Explanation: fmt.Sprintf("%s has called %s for %s and never did a %s there before. %s",
			callerName(e), e.Vault.Name, human(e.Time.Sub(since)), e.Operation.Class, callSummary(e))})
}

// anyVault stands for every vault in OperationPattern's keys: no vault id
// is empty.
const anyVault = ""

// personKey is a person's e-mail address in any provider, lower-cased: the
// UPN in Azure, the principal e-mail in GCP, and in Vault the token's
// display name past its auth mount ("oidc-jane@example.com"); "" when none.
func personKey(c *event.Caller) string {
	s := c.UPN
	if s == "" {
		s = c.PrincipalEmail
	}
	if s == "" && c.VaultEntityID != "" {
		if _, rest, ok := strings.Cut(c.DisplayName, "-"); ok && strings.Contains(rest, "@") {
			s = rest
		}
	}
	return strings.ToLower(s)
}
