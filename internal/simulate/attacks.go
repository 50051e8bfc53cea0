package simulate

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// This file plans the attacks injected after the learning days: who the
// attacker is (a stolen credential reuses the victim's Principal; a new
// identity is a new Principal), where it calls from (Tor exits and
// reputation-listed hosts from the Intel lists, rented Azure VMs, consumer
// ISPs abroad, or the victim's own network for an insider or malware on the
// victim's machine), what it does and when. It models attackers, never
// vaultwatch's detectors.

// atkScenario is one kind of attack and the alert types it should raise.
type atkScenario struct {
	name     string
	expected []string
	// plan adds one attack of this kind to b (rep of reps); false when
	// the organisation has nothing it applies to.
	plan func(b *atkBuild, rep, reps int) bool
}

// atkScenarios lists every scenario, in planning order.
var atkScenarios = []atkScenario{
	{"tor-access", []string{"tor-access"}, planTorAccess},
	{"suspicious-ip-access", []string{"suspicious-ip-access"}, planSuspiciousIPAccess},
	{"suspicious-ip-denied", []string{"suspicious-ip-denied"}, planSuspiciousIPDenied},
	{"unusual-ip", []string{"unusual-ip"}, planUnusualIP},
	{"unusual-application", []string{"unusual-application"}, planUnusualApplication},
	{"unusual-user", []string{"unusual-user"}, planUnusualUser},
	{"unusual-user-app-pair", []string{"unusual-user-app-pair"}, planUnusualUserAppPair},
	{"high-volume-operations", []string{"high-volume-operations"}, planHighVolume},
	{"unusual-operation-pattern", []string{"unusual-operation-pattern"}, planUnusualOperationPattern},
	{"policy-change-then-secret-get", []string{"policy-change-then-secret-get"}, planPolicyChangeThenGet},
	{"list-then-get", []string{"list-then-get"}, planListThenGet},
	{"unusual-user-denied", []string{"unusual-user-denied"}, planUnusualUserDenied},
	{"denied-many-vaults", []string{"denied-many-vaults"}, planDeniedManyVaults},
	{"many-vaults", []string{"many-vaults"}, planManyVaults},
	{"decoy-secret-access", []string{"decoy-secret-access"}, planDecoyAccess},
	{"audit-tampering", []string{"audit-tampering"}, planAuditTampering},
	{"privileged-token-use", []string{"privileged-token-use"}, planPrivilegedTokenUse},
	{"destructive-burst", []string{"destructive-burst"}, planDestructiveBurst},
	{"slow-exfiltration", []string{"unusual-ip"}, planSlowExfiltration},
	{"credential-probing", []string{"credential-probing"}, planCredentialProbing},
	{"crypto-volume", []string{"crypto-volume"}, planCryptoVolume},
	{"cross-provider-access", []string{"cross-provider-access"}, planCrossProvider},
}

// AttackScenarios returns the names of the scenarios PlanAttacks injects.
func AttackScenarios() []string {
	out := make([]string, len(atkScenarios))
	for i, s := range atkScenarios {
		out[i] = s.name
	}
	return out
}

// PlanAttacks plans every attack of the test period (from o.TestStart() to
// o.End()): the attack accesses sorted by time, and one Label per attack
// sorted by start, with ids "atk-001", "atk-002"... Each scenario is planned
// from its own random stream derived from seed, so the same seed gives the
// same attacks. Vault-only scenarios are skipped without a HashiVault vault,
// the decoy scenario without decoys. Attacks use the Org's Vault and
// Principal pointers; a new attacker identity is a new Principal, and a
// known user through a new client app is a copy of the user's Principal
// with another AppID and UserAgent.
func PlanAttacks(o *Org, in *Intel, seed uint64) ([]Access, []Label) {
	if o == nil || len(o.Vaults) == 0 || o.Days <= o.LearningDays {
		return nil, nil
	}
	if in == nil {
		in = fallbackIntel(seed)
	}
	p := newAtkPlanner(o, in)
	reps := p.reps()
	var builds []*atkBuild
	for _, sc := range atkScenarios {
		for rep := range reps {
			b := &atkBuild{
				p:  p,
				sc: sc,
				r:  rand.New(rand.NewPCG(seed, intelStream(fmt.Sprintf("attack/%s/%d", sc.name, rep)))),
			}
			if !sc.plan(b, rep, reps) || len(b.acc) == 0 {
				continue
			}
			builds = append(builds, b)
		}
	}
	var acc []Access
	labels := make([]Label, 0, len(builds))
	for _, b := range builds {
		labels = append(labels, b.label())
		acc = append(acc, b.acc...)
	}
	slices.SortStableFunc(labels, func(x, y Label) int { return x.Start.Compare(y.Start) })
	for i := range labels {
		labels[i].ID = fmt.Sprintf("atk-%03d", i+1)
	}
	slices.SortStableFunc(acc, func(x, y Access) int { return x.Time.Compare(y.Time) })
	return acc, labels
}

// atkPlanner is the state shared by all attacks: which (vault, day) slots
// and addresses are taken, who has already been a victim.
type atkPlanner struct {
	o        *Org
	in       *Intel
	testDays int
	orgNets  []netip.Prefix
	busy     map[atkSlot]bool
	vaultUse map[*Vault]int
	victims  map[*Principal]int
	usedIPs  map[netip.Addr]bool
	// newcomers start during the simulation (benign change), or call
	// too seldom to be known by the end of the learning days.
	newcomers map[*Principal]bool
	// plannedOn holds, for applications that only make planned calls,
	// the vaults they call during the learning days.
	plannedOn map[*Principal]map[*Vault]bool
}

type atkSlot struct {
	v   *Vault
	day int
}

func newAtkPlanner(o *Org, in *Intel) *atkPlanner {
	p := &atkPlanner{
		o: o, in: in,
		testDays:  o.Days - o.LearningDays,
		busy:      map[atkSlot]bool{},
		vaultUse:  map[*Vault]int{},
		victims:   map[*Principal]int{},
		usedIPs:   map[netip.Addr]bool{},
		newcomers: map[*Principal]bool{},
		plannedOn: map[*Principal]map[*Vault]bool{},
	}
	pl := planFor(o)
	for _, group := range [][]*actor{pl.apps, pl.users} {
		for _, a := range group {
			if !a.startAt.IsZero() {
				p.newcomers[a.p] = true
			}
			if slices.Contains(pl.users, a) && a.activity*float64(o.LearningDays)*5/7 < 1.5 {
				// Fewer than one or two sessions expected while the
				// baselines are learned: as good as unknown.
				p.newcomers[a.p] = true
			}
			if a.sched == schedNone && slices.Contains(pl.apps, a) {
				// Only planned calls (a rotation job): known on the vaults
				// it calls during the learning days, a newcomer if none.
				p.plannedOn[a.p] = map[*Vault]bool{}
				for _, ev := range pl.events {
					if ev.Principal == a.p && ev.Time.Before(o.TestStart()) {
						p.plannedOn[a.p][ev.Vault] = true
					}
				}
				if len(p.plannedOn[a.p]) == 0 {
					p.newcomers[a.p] = true
				}
			}
		}
	}
	for _, group := range [][]*Principal{o.Users, o.Apps, o.Services} {
		for _, pr := range group {
			p.orgNets = append(p.orgNets, pr.Networks...)
		}
	}
	return p
}

// reps is how many attacks of each scenario: several when the test period
// and the organisation are big enough to spread them.
func (p *atkPlanner) reps() int {
	n := 1 + p.testDays/8
	if len(p.o.Vaults) < 4 {
		n = min(n, 2)
	}
	return min(n, 3)
}

// atkBuild is one attack being planned.
type atkBuild struct {
	p    *atkPlanner
	sc   atkScenario
	r    *rand.Rand
	acc  []Access
	desc string
}

func (b *atkBuild) label() Label {
	l := Label{
		Scenario:       b.sc.name,
		ExpectedAlerts: slices.Clone(b.sc.expected),
		Description:    b.desc,
		Start:          b.acc[0].Time,
		End:            b.acc[0].Time,
	}
	seenV := map[string]bool{}
	for _, a := range b.acc {
		if a.Time.Before(l.Start) {
			l.Start = a.Time
		}
		if a.Time.After(l.End) {
			l.End = a.Time
		}
		// Vaults as the logs name them: the scorer matches alerts on them.
		if name := logVaultName(&a); !seenV[name] {
			seenV[name] = true
			l.Vaults = append(l.Vaults, name)
			l.Providers = append(l.Providers, a.Vault.Provider)
		}
	}
	l.Entities = atkEntities(b.acc)
	return l
}

// atkEntities are the attacker's identifiers as the accesses' records carry
// them: every address; the identity of authenticated calls in the
// provider's terms (none for 401s, Vault's unauthenticated generate-root
// calls and root-token calls).
func atkEntities(acc []Access) Entities {
	var e Entities
	add := func(list *[]string, s string) {
		if s != "" && !slices.Contains(*list, s) {
			*list = append(*list, s)
		}
	}
	for _, a := range acc {
		add(&e.IPs, a.IP.String())
		if a.Status == 401 || a.Root || a.Principal == nil || a.Op == OpGenerateRoot {
			continue // unauthenticated or root: no identity in the record
		}
		pr := a.Principal
		switch a.Vault.Provider {
		case Azure:
			add(&e.ObjectIDs, pr.ObjectID)
			add(&e.UPNs, pr.UPN)
			add(&e.AppIDs, pr.AppID)
		case HashiVault:
			add(&e.VaultEntities, pr.VaultEntity)
		case AWS:
			add(&e.ARNs, pr.ARN)
		}
	}
	return e
}

// --- choosing vaults, days, victims and addresses ---

// pickVault chooses, among cands, the least attacked vault with a free day
// in the rep-th part of the test period for an attack spanning span days;
// it claims the slots and returns the vault and day.
func (b *atkBuild) pickVault(cands []*Vault, span, rep, reps int) (*Vault, int, bool) {
	if len(cands) == 0 {
		return nil, 0, false
	}
	cs := slices.Clone(cands)
	b.r.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
	slices.SortStableFunc(cs, func(x, y *Vault) int { return cmp.Compare(b.p.vaultUse[x], b.p.vaultUse[y]) })
	for _, v := range cs {
		if day, ok := b.pickDay([]*Vault{v}, span, rep, reps, false); ok {
			b.claim([]*Vault{v}, day, span)
			return v, day, true
		}
	}
	v := cs[0]
	day, _ := b.pickDay([]*Vault{v}, span, rep, reps, true)
	b.claim([]*Vault{v}, day, span)
	return v, day, true
}

// pickDay finds a test day (index from TestStart) where every vault of vs
// is free for span days, preferring the rep-th part of the period; with
// force it returns a day of that part even when none is free.
func (b *atkBuild) pickDay(vs []*Vault, span, rep, reps int, force bool) (int, bool) {
	nd := b.p.testDays - span + 1
	if nd < 1 {
		nd = 1
	}
	lo, hi := rep*nd/reps, (rep+1)*nd/reps
	if hi <= lo {
		hi = lo + 1
	}
	free := func(d int) bool {
		for _, v := range vs {
			for k := range span {
				if b.p.busy[atkSlot{v, d + k}] {
					return false
				}
			}
		}
		return true
	}
	for _, rng := range [][2]int{{lo, hi}, {0, nd}} {
		for _, i := range b.r.Perm(rng[1] - rng[0]) {
			if d := rng[0] + i; free(d) {
				return d, true
			}
		}
	}
	return lo + b.r.IntN(hi-lo), force
}

func (b *atkBuild) claim(vs []*Vault, day, span int) {
	for _, v := range vs {
		b.p.vaultUse[v]++
		for k := range span {
			b.p.busy[atkSlot{v, day + k}] = true
		}
	}
}

// pickPrincipal returns the least victimised of cands (random among equals)
// and counts it.
func (b *atkBuild) pickPrincipal(cands []*Principal) *Principal {
	if len(cands) == 0 {
		return nil
	}
	cs := slices.Clone(cands)
	b.r.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
	slices.SortStableFunc(cs, func(x, y *Principal) int { return cmp.Compare(b.p.victims[x], b.p.victims[y]) })
	b.p.victims[cs[0]]++
	return cs[0]
}

// on returns the org's principals of the given kinds that normally use v.
func (b *atkBuild) on(v *Vault, kinds ...IdentityKind) []*Principal {
	var out []*Principal
	for _, pr := range b.principals(kinds) {
		if known, planned := b.p.plannedOn[pr]; planned && !known[v] {
			continue // it has not called v yet
		}
		if slices.Contains(pr.Vaults, v) {
			out = append(out, pr)
		}
	}
	return out
}

// strangers returns the org's principals of the given kinds that use
// vaults of v's provider but never v.
func (b *atkBuild) strangers(v *Vault, kinds ...IdentityKind) []*Principal {
	var out []*Principal
	for _, pr := range b.principals(kinds) {
		if !slices.Contains(pr.Vaults, v) && atkSpeaks(pr, v.Provider) {
			out = append(out, pr)
		}
	}
	return out
}

// principals returns the org's principals of the given kinds that can be
// an attack's victim or insider: those with a history from the first day.
// The application deployed and the employee who starts during the test
// period are left out: a theft of a credential that has never been used has
// no baseline to be unusual against (a first call is a new application or
// a new employee, as far as any log tells), and benign change must stay
// benign.
func (b *atkBuild) principals(kinds []IdentityKind) []*Principal {
	var out []*Principal
	for _, group := range [][]*Principal{b.p.o.Users, b.p.o.Apps} {
		for _, pr := range group {
			if slices.Contains(kinds, pr.Kind) && !b.p.newcomers[pr] {
				out = append(out, pr)
			}
		}
	}
	return out
}

// atkSpeaks reports whether pr has an identity on provider prov.
func atkSpeaks(pr *Principal, prov Provider) bool {
	for _, v := range pr.Vaults {
		if v.Provider == prov {
			return true
		}
	}
	switch prov {
	case Azure:
		return pr.ObjectID != ""
	case HashiVault:
		return pr.VaultEntity != ""
	case AWS:
		return pr.ARN != ""
	}
	return false
}

var (
	atkUsers = []IdentityKind{KindUser}
	atkApps  = []IdentityKind{KindServicePrincipal, KindManagedIdentity}
	atkAll   = []IdentityKind{KindUser, KindServicePrincipal, KindManagedIdentity}
)

// vaults returns the org's vaults matching keep.
func (b *atkBuild) vaults(keep func(v *Vault) bool) []*Vault {
	var out []*Vault
	for _, v := range b.p.o.Vaults {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out
}

// atkSecrets are v's secrets without its decoys.
func atkSecrets(v *Vault) []string {
	var out []string
	for _, s := range v.Secrets {
		if !slices.Contains(v.Decoys, s) {
			out = append(out, s)
		}
	}
	return out
}

// start returns when an attack of duration dur begins on test day day: in
// the working hours of tz when tz is given (an insider, or a stolen
// credential used when its owner would be), any time otherwise.
func (b *atkBuild) start(day int, dur time.Duration, tz *time.Location) time.Time {
	base := b.p.o.TestStart().AddDate(0, 0, day)
	end := base.Add(24 * time.Hour)
	if oe := b.p.o.End(); oe.Before(end) {
		end = oe
	}
	jitter := time.Duration(b.r.Int64N(int64(time.Second)))
	if tz != nil {
		y, m, d := base.In(tz).Date()
		t := time.Date(y, m, d, 8+b.r.IntN(9), b.r.IntN(60), b.r.IntN(60), 0, tz).UTC().Add(jitter)
		if !t.Before(base) && t.Add(dur).Before(end) {
			return t
		}
	}
	room := end.Sub(base) - dur - time.Minute
	if room <= 0 {
		return base.Add(jitter)
	}
	return base.Add(time.Duration(b.r.Int64N(int64(room)))).Truncate(time.Second).Add(jitter)
}

// gap is a random pause in [lo, hi).
func (b *atkBuild) gap(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(b.r.Int64N(int64(hi-lo)))
}

// add records one attack call. Successful reads carry the object's
// current version.
func (b *atkBuild) add(t time.Time, v *Vault, pr *Principal, op Op, obj string, ip netip.Addr, status int) {
	a := Access{Time: t, Vault: v, Principal: pr, Op: op, Object: obj, IP: ip, Status: status}
	if status == 200 && (op == OpSecretGet || op == OpKeyGet || op == OpCertGet) {
		a.Version = b.p.o.VersionAt(v, obj, t)
	}
	b.acc = append(b.acc, a)
}

// free reports whether a is usable as a fresh attacker address.
func (b *atkBuild) free(a netip.Addr) bool {
	return a.IsValid() && !b.p.usedIPs[a] && !intelInPrefixes(a, b.p.orgNets)
}

func (b *atkBuild) take(a netip.Addr) netip.Addr {
	b.p.usedIPs[a] = true
	return a
}

// torIP draws a Tor exit node that is on no other list and in no cloud.
func (b *atkBuild) torIP() (netip.Addr, bool) {
	return b.fromList(b.p.in.Tor, func(a netip.Addr) bool { return !b.p.in.IsReputation(a) })
}

// reputationIP draws a reputation-listed address that is not a Tor exit
// and not inside a big cloud prefix, so the label is not ambiguous.
func (b *atkBuild) reputationIP() (netip.Addr, bool) {
	return b.fromList(b.p.in.Reputation, func(a netip.Addr) bool { return !b.p.in.IsTor(a) })
}

func (b *atkBuild) fromList(list []netip.Addr, ok func(netip.Addr) bool) (netip.Addr, bool) {
	if len(list) == 0 {
		return netip.Addr{}, false
	}
	for range 4096 {
		a := list[b.r.IntN(len(list))]
		if a.Is4() && b.free(a) && ok(a) && !intelInPrefixes(a, intelCloudPrefixes) && a.IsGlobalUnicast() && !a.IsPrivate() {
			return b.take(a), true
		}
	}
	return netip.Addr{}, false
}

// azureIP draws an address in an Azure datacenter (a rented VM), in a /16
// none of avoid's networks is in, and on no threat list.
func (b *atkBuild) azureIP(avoid *Principal) netip.Addr {
	var a netip.Addr
	for range 4096 {
		a = intelRandomAddr(b.r, intelAzurePrefixes[b.r.IntN(len(intelAzurePrefixes))])
		if !b.free(a) || b.p.in.Listed(a) {
			continue
		}
		near := false
		if avoid != nil {
			wide, _ := a.Prefix(16)
			for _, n := range avoid.Networks {
				if wide.Overlaps(n) {
					near = true
				}
			}
		}
		if !near {
			break
		}
	}
	return b.take(a)
}

// countryIP draws a consumer ISP address in a country other than not, on no
// threat list, and returns the country's name.
func (b *atkBuild) countryIP(not string) (netip.Addr, string) {
	var cands []int
	for i, c := range intelCountryNets {
		if c.Country != not {
			cands = append(cands, i)
		}
	}
	c := intelCountryNets[cands[b.r.IntN(len(cands))]]
	var a netip.Addr
	for range 4096 {
		a = intelRandomAddr(b.r, c.Net)
		if b.free(a) && !b.p.in.Listed(a) {
			break
		}
	}
	return b.take(a), c.Name
}

// ownIP is an address in one of pr's usual networks: an insider, or
// malware on the victim's own machine. Without networks, an Azure address.
func (b *atkBuild) ownIP(pr *Principal) netip.Addr {
	if len(pr.Networks) == 0 {
		return b.azureIP(pr)
	}
	n := pr.Networks[b.r.IntN(len(pr.Networks))]
	if !n.Addr().Is4() {
		return n.Addr()
	}
	return intelRandomAddr(b.r, n)
}

// --- new identities ---

func (b *atkBuild) guid() string {
	r := b.r
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, 0x8000|r.Uint32()&0x3fff, r.Uint64()&0xffffffffffff)
}

func (b *atkBuild) token(n int, alphabet string) string {
	out := make([]byte, n)
	for i := range out {
		out[i] = alphabet[b.r.IntN(len(alphabet))]
	}
	return string(out)
}

const (
	atkBase62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	atkUpper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
)

// atkToolUAs are the user agents of attackers' own tools, per provider.
var atkToolUAs = map[Provider][]string{
	Azure: {
		"python-requests/2.32.3",
		"azsdk-python-keyvault-secrets/4.8.0 Python/3.11.9 (Linux-6.8.0-1015-azure-x86_64-with-glibc2.39)",
		"AZURECLI/2.64.0 (DEB) azsdk-python-keyvault-secrets/4.8.0 Python/3.11.8 (Linux-5.15.0-1064-azure-x86_64-with-glibc2.35)",
		"curl/8.5.0",
		"Go-http-client/1.1",
	},
	HashiVault: {"Go-http-client/1.1", "python-requests/2.31.0", "curl/7.88.1"},
	AWS: {
		"aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.5.0-kali3-amd64 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#secretsmanager.get-secret-value",
		"Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#6.8.0-1012-aws md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.144",
	},
}

func (b *atkBuild) toolUA(prov Provider) string {
	uas := atkToolUAs[prov]
	if len(uas) == 0 {
		uas = atkToolUAs[Azure]
	}
	return uas[b.r.IntN(len(uas))]
}

var atkAppNames = []string{"sync-tool", "backup-agent", "deploy-helper", "monitoring-exporter", "ci-runner", "report-builder", "graph-connector", "automation-app"}

var atkGuestNames = []string{"j.carter", "m.novak", "a.petrov", "d.silva", "k.tanaka", "s.osei", "l.moreau", "r.haddad"}

// newIdentity makes an attacker identity the organisation has never seen:
// an app registration or a guest user, with ids for every provider.
func (b *atkBuild) newIdentity(kind IdentityKind, v *Vault) *Principal {
	o := b.p.o
	pr := &Principal{
		Kind:        kind,
		ObjectID:    b.guid(),
		TenantID:    o.TenantID,
		VaultEntity: b.guid(),
		Accessor:    b.token(24, atkBase62),
		AccessKeyID: "AKIA" + b.token(16, atkUpper),
		UserAgent:   b.toolUA(v.Provider),
		TZ:          time.UTC,
	}
	domain := strings.ReplaceAll(o.Domain, ".", "")
	if kind == KindUser {
		pr.Name = atkGuestNames[b.r.IntN(len(atkGuestNames))]
		mail := []string{"gmail.com", "outlook.com", "proton.me"}[b.r.IntN(3)]
		pr.UPN = fmt.Sprintf("%s_%s#EXT#@%s.onmicrosoft.com", pr.Name, mail, domain)
		pr.AppID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46" // Azure CLI
		pr.VaultRole = "userpass"
		pr.Policies = []string{"default"}
		pr.ARN = fmt.Sprintf("arn:aws:iam::%s:user/%s", v.Account, pr.Name)
	} else {
		pr.Name = atkAppNames[b.r.IntN(len(atkAppNames))]
		pr.AppID = b.guid()
		pr.VaultRole = "approle"
		pr.Policies = []string{"default", pr.Name}
		pr.ARN = fmt.Sprintf("arn:aws:iam::%s:role/%s", v.Account, pr.Name)
	}
	return pr
}

// atkClientApps are Microsoft first-party client apps a user signs in
// through, with the user agent each sends to Key Vault.
var atkClientApps = []struct{ AppID, Name, UA string }{
	{"04b07795-8ddb-461a-bbee-02f9e1bf7b46", "Azure CLI", "AZURECLI/2.67.0 (MSI) azsdk-python-keyvault-secrets/4.9.0 Python/3.12.7 (Windows-11-10.0.22631-SP0)"},
	{"1950a258-227b-4e31-a9cf-717495945fc2", "Azure PowerShell", "azsdk-net-Security.KeyVault.Secrets/4.6.0 (.NET 8.0.8; Microsoft Windows 10.0.22631)"},
	{"aebc6443-996d-45c2-90f0-388ff96faa56", "Visual Studio Code", "azsdk-js-keyvault-secrets/4.8.0 core-rest-pipeline/1.16.3 Node/20.14.0 OS/(x64-Windows_NT-10.0.22631)"},
	{"872cd9fa-d31f-45e0-9eab-6e460a02d1f1", "Visual Studio", "azsdk-net-Security.KeyVault.Secrets/4.5.0 (.NET Framework 4.8.9256.0; Microsoft Windows 10.0.22631)"},
	{"c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0"},
}

// --- helpers shared by scenarios ---

// readSecrets adds n reads of v's (non-decoy) secrets from t, gaps in
// [lo, hi), distinct while there are enough; it returns the time after.
func (b *atkBuild) readSecrets(t time.Time, v *Vault, pr *Principal, ip netip.Addr, n int, lo, hi time.Duration) time.Time {
	secrets := atkSecrets(v)
	if len(secrets) == 0 {
		return t
	}
	order := b.r.Perm(len(secrets))
	for i := range n {
		b.add(t, v, pr, OpSecretGet, secrets[order[i%len(order)]], ip, 200)
		t = t.Add(b.gap(lo, hi))
	}
	return t
}

func (b *atkBuild) pickN(choices ...int) int { return choices[b.r.IntN(len(choices))] }

func atkWho(pr *Principal) string {
	if pr.UPN != "" {
		return pr.UPN
	}
	return pr.Name
}

func atkHasSecrets(v *Vault) bool { return len(atkSecrets(v)) > 0 }

// --- scenarios ---

func planTorAccess(b *atkBuild, rep, reps int) bool {
	v, day, ok := b.pickVault(b.vaults(func(v *Vault) bool { return atkHasSecrets(v) && len(b.on(v, atkUsers...)) > 0 }), 1, rep, reps)
	if !ok {
		return false
	}
	victim := b.pickPrincipal(b.on(v, atkUsers...))
	ip, ok := b.torIP()
	if !ok {
		return false
	}
	n := b.pickN(1, 2, 4, 8, 15)
	t := b.start(day, 2*time.Hour, nil)
	if b.r.IntN(2) == 0 {
		b.add(t, v, victim, OpSecretList, "", ip, 200)
		t = t.Add(b.gap(10*time.Second, 2*time.Minute))
	}
	b.readSecrets(t, v, victim, ip, n, 5*time.Second, 4*time.Minute)
	b.desc = fmt.Sprintf("%s's stolen credential is used from Tor exit node %s to read %d secret(s) in %s.", atkWho(victim), ip, n, v.Name)
	return true
}

func planSuspiciousIPAccess(b *atkBuild, rep, reps int) bool {
	v, day, ok := b.pickVault(b.vaults(func(v *Vault) bool { return atkHasSecrets(v) && len(b.on(v, atkAll...)) > 0 }), 1, rep, reps)
	if !ok {
		return false
	}
	victim := b.pickPrincipal(b.on(v, atkAll...))
	ip, ok := b.reputationIP()
	if !ok {
		return false
	}
	n := b.pickN(1, 3, 6, 12)
	t := b.start(day, time.Hour, nil)
	b.readSecrets(t, v, victim, ip, n, 3*time.Second, 3*time.Minute)
	b.desc = fmt.Sprintf("%s's credential reads %d secret(s) in %s from %s, an address on public blocklists.", atkWho(victim), n, v.Name, ip)
	return true
}

func planSuspiciousIPDenied(b *atkBuild, rep, reps int) bool {
	v, day, ok := b.pickVault(b.vaults(func(v *Vault) bool { return len(b.on(v, atkAll...)) > 0 }), 1, rep, reps)
	if !ok {
		return false
	}
	victim := b.pickPrincipal(b.on(v, atkAll...))
	ip, ok := b.reputationIP()
	if !ok {
		return false
	}
	// The stolen credential may read, but the attacker tries what it may
	// not: listing, writing, deleting.
	ops := []Op{OpSecretList, OpSecretDelete, OpSecretSet, OpSecretList}
	if v.Provider == Azure {
		ops = append(ops, OpKeyList, OpSecretBackup, OpCertList)
	}
	names := append(atkSecrets(v), "admin-password", "db-root-password")
	n := b.pickN(2, 4, 9, 20)
	t := b.start(day, time.Hour, nil)
	for i := range n {
		op := ops[i%len(ops)]
		obj := ""
		if op != OpSecretList && op != OpKeyList && op != OpCertList {
			obj = names[b.r.IntN(len(names))]
		}
		b.add(t, v, victim, op, obj, ip, 403)
		t = t.Add(b.gap(2*time.Second, 90*time.Second))
	}
	b.desc = fmt.Sprintf("From blocklisted address %s, %s's credential is denied %d times in %s trying to list, write and delete.", ip, atkWho(victim), n, v.Name)
	return true
}

func planUnusualIP(b *atkBuild, rep, reps int) bool {
	hasApp := func(v *Vault) bool { return atkHasSecrets(v) && len(b.on(v, atkApps...)) > 0 }
	cands := b.vaults(func(v *Vault) bool { return v.Provider == Azure && hasApp(v) })
	if len(cands) == 0 {
		cands = b.vaults(hasApp)
	}
	v, day, ok := b.pickVault(cands, 1, rep, reps)
	if !ok {
		return false
	}
	apps := b.on(v, KindServicePrincipal)
	if len(apps) == 0 {
		apps = b.on(v, atkApps...)
	}
	victim := b.pickPrincipal(apps)
	ip := b.azureIP(victim)
	n := b.pickN(2, 3, 6, 10)
	t := b.start(day, time.Hour, nil)
	b.readSecrets(t, v, victim, ip, n, 20*time.Second, 6*time.Minute)
	b.desc = fmt.Sprintf("The stolen credential of app %s reads %d secret(s) in %s from an Azure VM at %s, outside the app's own networks.", victim.Name, n, v.Name, ip)
	return true
}

func planUnusualApplication(b *atkBuild, rep, reps int) bool {
	v, day, ok := b.pickVault(b.vaults(atkHasSecrets), 1, rep, reps)
	if !ok {
		return false
	}
	var app *Principal
	var ip netip.Addr
	outsiders := b.strangers(v, atkApps...)
	if rep%2 == 0 && len(outsiders) > 0 {
		// Another team's app (its credential, or its compromised host)
		// reaching into this vault from its usual network.
		app = b.pickPrincipal(outsiders)
		ip = b.ownIP(app)
	} else {
		app = b.newIdentity(KindServicePrincipal, v)
		ip = b.azureIP(nil)
	}
	n := b.pickN(2, 5, 12, 25)
	t := b.start(day, 2*time.Hour, nil)
	if b.r.IntN(2) == 0 {
		b.add(t, v, app, OpSecretList, "", ip, 200)
		t = t.Add(b.gap(2*time.Second, time.Minute))
	}
	b.readSecrets(t, v, app, ip, n, 2*time.Second, 5*time.Minute)
	b.desc = fmt.Sprintf("Application %s, never seen on %s, reads %d secret(s) there from %s.", app.Name, v.Name, n, ip)
	return true
}

func planUnusualUser(b *atkBuild, rep, reps int) bool {
	v, day, ok := b.pickVault(b.vaults(atkHasSecrets), 1, rep, reps)
	if !ok {
		return false
	}
	var user *Principal
	var ip netip.Addr
	var tz *time.Location
	outsiders := b.strangers(v, atkUsers...)
	if len(outsiders) > 0 && rep%3 != 2 {
		user = b.pickPrincipal(outsiders)
		ip, tz = b.ownIP(user), user.TZ
	} else {
		user = b.newIdentity(KindUser, v)
		ip, _ = b.countryIP("")
	}
	n := b.pickN(1, 2, 4, 9)
	t := b.start(day, time.Hour, tz)
	if v.Provider == Azure && user.Kind == KindUser && b.r.IntN(2) == 0 {
		b.add(t, v, user, OpSecretList, "", ip, 200)
		t = t.Add(b.gap(5*time.Second, time.Minute))
	}
	b.readSecrets(t, v, user, ip, n, 10*time.Second, 4*time.Minute)
	b.desc = fmt.Sprintf("User %s, who never used %s, reads %d secret(s) there from %s.", atkWho(user), v.Name, n, ip)
	return true
}

func planUnusualUserAppPair(b *atkBuild, rep, reps int) bool {
	v, day, ok := b.pickVault(b.vaults(func(v *Vault) bool {
		return v.Provider == Azure && atkHasSecrets(v) && len(b.on(v, atkUsers...)) > 0
	}), 1, rep, reps)
	if !ok {
		return false
	}
	victim := b.pickPrincipal(b.on(v, atkUsers...))
	var apps []int
	for i, c := range atkClientApps {
		if c.AppID != victim.AppID {
			apps = append(apps, i)
		}
	}
	client := atkClientApps[apps[b.r.IntN(len(apps))]]
	alt := *victim // the same user, signed in through another client app
	alt.AppID, alt.UserAgent = client.AppID, client.UA
	ip := b.ownIP(victim)
	n := b.pickN(1, 3, 6)
	t := b.start(day, time.Hour, victim.TZ)
	b.readSecrets(t, v, &alt, ip, n, 10*time.Second, 3*time.Minute)
	b.desc = fmt.Sprintf("User %s reads %d secret(s) in %s through %s (app id %s), a client they never used there.", atkWho(victim), n, v.Name, client.Name, client.AppID)
	return true
}

func planHighVolume(b *atkBuild, rep, reps int) bool {
	v, day, ok := b.pickVault(b.vaults(func(v *Vault) bool { return atkHasSecrets(v) && len(b.on(v, atkAll...)) > 0 }), 1, rep, reps)
	if !ok {
		return false
	}
	cands := b.on(v, atkUsers...)
	if len(cands) == 0 {
		cands = b.on(v, atkAll...)
	}
	victim := b.pickPrincipal(cands)
	ip := b.ownIP(victim)
	n := b.pickN(150, 400, 1200, 3000)
	if victim.Kind != KindUser {
		n *= 3
	}
	dur := b.gap(20*time.Minute, 90*time.Minute)
	t := b.start(day, dur, victim.TZ)
	step := dur / time.Duration(n)
	b.readSecrets(t, v, victim, ip, n, step/2, step*3/2)
	b.desc = fmt.Sprintf("%s reads secrets in %s %d times in about %d minutes, far above its usual volume.", atkWho(victim), v.Name, n, int(dur.Minutes()))
	return true
}

// readers are the apps on v that serve one or two vaults: workloads that
// read their secrets, not platform automation authorised everywhere.
func (b *atkBuild) readers(v *Vault) []*Principal {
	var out []*Principal
	for _, pr := range b.on(v, atkApps...) {
		if len(pr.Vaults) <= 2 {
			out = append(out, pr)
		}
	}
	return out
}

func planUnusualOperationPattern(b *atkBuild, rep, reps int) bool {
	v, day, ok := b.pickVault(b.vaults(func(v *Vault) bool { return len(atkSecrets(v)) >= 2 && len(b.readers(v)) > 0 }), 1, rep, reps)
	if !ok {
		return false
	}
	victim := b.pickPrincipal(b.readers(v))
	ip := b.ownIP(victim)
	secrets := atkSecrets(v)
	order := b.r.Perm(len(secrets))
	t := b.start(day, time.Hour, nil)
	b.add(t, v, victim, OpSecretList, "", ip, 200)
	t = t.Add(b.gap(3*time.Second, time.Minute))
	n := min(len(secrets), b.pickN(2, 4, 8))
	var did string
	switch v.Provider {
	case Azure:
		for i := range n {
			b.add(t, v, victim, OpSecretBackup, secrets[order[i]], ip, 200)
			t = t.Add(b.gap(2*time.Second, 40*time.Second))
		}
		if len(v.Keys) > 0 {
			b.add(t, v, victim, OpKeyList, "", ip, 200)
			t = t.Add(b.gap(2*time.Second, 20*time.Second))
			b.add(t, v, victim, OpKeyBackup, v.Keys[b.r.IntN(len(v.Keys))], ip, 200)
			t = t.Add(b.gap(2*time.Second, 20*time.Second))
		}
		did = fmt.Sprintf("lists, backs up %d secret(s) and deletes one", n)
	default:
		for i := range n {
			b.add(t, v, victim, OpSecretVersions, secrets[order[i]], ip, 200)
			t = t.Add(b.gap(2*time.Second, 40*time.Second))
		}
		did = fmt.Sprintf("lists, reads the version history of %d secret(s) and deletes one", n)
	}
	b.add(t, v, victim, OpSecretDelete, secrets[order[0]], ip, 200)
	b.desc = fmt.Sprintf("App %s, which only ever reads secrets, %s in %s.", victim.Name, did, v.Name)
	return true
}

func planPolicyChangeThenGet(b *atkBuild, rep, reps int) bool {
	admins := func(v *Vault) []*Principal {
		var out []*Principal
		for _, pr := range b.on(v, atkUsers...) {
			if pr.Admin {
				out = append(out, pr)
			}
		}
		return out
	}
	cands := b.vaults(func(v *Vault) bool { return atkHasSecrets(v) && len(admins(v)) > 0 })
	if len(cands) == 0 {
		cands = b.vaults(func(v *Vault) bool { return atkHasSecrets(v) && len(b.on(v, atkUsers...)) > 0 })
	}
	v, day, ok := b.pickVault(cands, 1, rep, reps)
	if !ok {
		return false
	}
	who := admins(v)
	if len(who) == 0 {
		who = b.on(v, atkUsers...)
	}
	victim := b.pickPrincipal(who)
	ip := b.ownIP(victim)
	t := b.start(day, 3*time.Hour, victim.TZ)
	if v.Provider == Azure {
		b.add(t, v, victim, OpVaultGet, "", ip, 200)
		t = t.Add(b.gap(20*time.Second, 3*time.Minute))
	}
	b.add(t, v, victim, OpPolicyChange, "", ip, 200)
	t = t.Add(b.gap(time.Minute, 45*time.Minute))
	n := b.pickN(2, 5, 10, 20)
	b.readSecrets(t, v, victim, ip, n, 5*time.Second, 2*time.Minute)
	b.desc = fmt.Sprintf("%s grants itself access on %s with a policy change, then reads %d secret(s).", atkWho(victim), v.Name, n)
	return true
}

func planListThenGet(b *atkBuild, rep, reps int) bool {
	v, day, ok := b.pickVault(b.vaults(func(v *Vault) bool { return len(atkSecrets(v)) >= 5 && len(b.on(v, atkAll...)) > 0 }), 1, rep, reps)
	if !ok {
		v, day, ok = b.pickVault(b.vaults(func(v *Vault) bool { return atkHasSecrets(v) && len(b.on(v, atkAll...)) > 0 }), 1, rep, reps)
		if !ok {
			return false
		}
	}
	victim := b.pickPrincipal(b.on(v, atkAll...))
	ip := b.ownIP(victim)
	secrets := atkSecrets(v)
	n := len(secrets)
	if n > 8 {
		n = 8 + b.r.IntN(n-7)
	}
	lo, hi := time.Second, 8*time.Second // a script
	if b.r.IntN(2) == 0 {
		lo, hi = 15*time.Second, 2*time.Minute // by hand
	}
	t := b.start(day, time.Duration(n)*hi+time.Minute, nil)
	b.add(t, v, victim, OpSecretList, "", ip, 200)
	t = t.Add(b.gap(lo, hi))
	order := b.r.Perm(len(secrets))
	for i := range n {
		b.add(t, v, victim, OpSecretGet, secrets[order[i]], ip, 200)
		t = t.Add(b.gap(lo, hi))
	}
	b.desc = fmt.Sprintf("%s lists the secrets of %s, then reads %d distinct ones.", atkWho(victim), v.Name, n)
	return true
}

// deniedProbe adds denied calls of pr on v: listings and reads of guessed
// or listed names.
func (b *atkBuild) deniedProbe(t time.Time, v *Vault, pr *Principal, ip netip.Addr, n int, lo, hi time.Duration) time.Time {
	names := append(atkSecrets(v), "db-password", "admin-password", "storage-account-key", "sp-client-secret")
	for i := range n {
		if i == 0 || b.r.IntN(4) == 0 {
			b.add(t, v, pr, OpSecretList, "", ip, 403)
		} else {
			b.add(t, v, pr, OpSecretGet, names[b.r.IntN(len(names))], ip, 403)
		}
		t = t.Add(b.gap(lo, hi))
	}
	return t
}

func planUnusualUserDenied(b *atkBuild, rep, reps int) bool {
	v, day, ok := b.pickVault(b.p.o.Vaults, 1, rep, reps)
	if !ok {
		return false
	}
	var user *Principal
	var ip netip.Addr
	var tz *time.Location
	if outsiders := b.strangers(v, atkUsers...); len(outsiders) > 0 {
		user = b.pickPrincipal(outsiders)
		ip, tz = b.ownIP(user), user.TZ
	} else {
		user = b.newIdentity(KindUser, v)
		ip, _ = b.countryIP("")
	}
	n := b.pickN(2, 4, 8, 15)
	t := b.start(day, time.Hour, tz)
	b.deniedProbe(t, v, user, ip, n, 5*time.Second, 3*time.Minute)
	b.desc = fmt.Sprintf("User %s, who does not use %s, is denied %d times there.", atkWho(user), v.Name, n)
	return true
}

// bigProvider returns the provider with the most vaults and its vaults.
func (b *atkBuild) bigProvider() []*Vault {
	by := map[Provider][]*Vault{}
	var order []Provider
	for _, v := range b.p.o.Vaults {
		if _, ok := by[v.Provider]; !ok {
			order = append(order, v.Provider)
		}
		by[v.Provider] = append(by[v.Provider], v)
	}
	var best []*Vault
	for _, p := range order {
		if len(by[p]) > len(best) {
			best = by[p]
		}
	}
	return best
}

// manyVaults picks a victim principal on the biggest provider and, among
// that provider's vaults (those the victim does not use when strangers),
// between 4 and 8 of them, all free on one day.
func (b *atkBuild) manyVaults(rep, reps int, strangers bool, prefer func(*Principal) bool) (*Principal, []*Vault, int, bool) {
	pool := b.bigProvider()
	if len(pool) < 3 {
		return nil, nil, 0, false
	}
	prov := pool[0].Provider
	var cands, preferred []*Principal
	for _, pr := range b.principals(atkAll) {
		if !atkSpeaks(pr, prov) {
			continue
		}
		others := 0
		for _, v := range pool {
			if !slices.Contains(pr.Vaults, v) {
				others++
			}
		}
		if others < 3 {
			continue
		}
		cands = append(cands, pr)
		if prefer(pr) {
			preferred = append(preferred, pr)
		}
	}
	if len(preferred) > 0 {
		cands = preferred
	}
	victim := b.pickPrincipal(cands)
	if victim == nil {
		return nil, nil, 0, false
	}
	// The vaults it does not use first; without strangers, its own may
	// follow.
	var targets, own []*Vault
	for _, v := range pool {
		if slices.Contains(victim.Vaults, v) {
			own = append(own, v)
		} else {
			targets = append(targets, v)
		}
	}
	b.r.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
	if !strangers {
		b.r.Shuffle(len(own), func(i, j int) { own[i], own[j] = own[j], own[i] })
		targets = append(targets, own...)
	}
	n := min(len(targets), 4+b.r.IntN(5))
	targets = targets[:n]
	day, _ := b.pickDay(targets, 1, rep, reps, true)
	b.claim(targets, day, 1)
	return victim, targets, day, true
}

func planDeniedManyVaults(b *atkBuild, rep, reps int) bool {
	victim, targets, day, ok := b.manyVaults(rep, reps, true, func(pr *Principal) bool { return pr.Kind == KindUser })
	if !ok {
		return false
	}
	ip := b.ownIP(victim)
	t := b.start(day, 2*time.Hour, nil)
	calls := 0
	for _, v := range targets {
		k := 1 + b.r.IntN(3)
		t = b.deniedProbe(t, v, victim, ip, k, 2*time.Second, 30*time.Second)
		calls += k
		t = t.Add(b.gap(10*time.Second, 8*time.Minute))
	}
	b.desc = fmt.Sprintf("%s is denied on %d vaults it does not use (%d calls), enumerating what it can reach.", atkWho(victim), len(targets), calls)
	return true
}

func planManyVaults(b *atkBuild, rep, reps int) bool {
	victim, targets, day, ok := b.manyVaults(rep, reps, false, func(pr *Principal) bool { return pr.Kind == KindUser && pr.Admin })
	if !ok {
		return false
	}
	ip := b.ownIP(victim)
	t := b.start(day, 3*time.Hour, nil)
	used := 0
	for _, v := range targets {
		if !atkHasSecrets(v) {
			continue
		}
		used++
		b.add(t, v, victim, OpSecretList, "", ip, 200)
		t = t.Add(b.gap(2*time.Second, 40*time.Second))
		t = b.readSecrets(t, v, victim, ip, 1+b.r.IntN(4), 2*time.Second, time.Minute)
		t = t.Add(b.gap(30*time.Second, 12*time.Minute))
	}
	b.desc = fmt.Sprintf("%s lists and reads secrets in %d vaults within hours, far more vaults than it uses.", atkWho(victim), used)
	return used > 0
}

func planDecoyAccess(b *atkBuild, rep, reps int) bool {
	v, day, ok := b.pickVault(b.vaults(func(v *Vault) bool { return len(v.Decoys) > 0 }), 1, rep, reps)
	if !ok {
		return false
	}
	var pr *Principal
	var ip netip.Addr
	var tz *time.Location
	if users := b.on(v, atkUsers...); len(users) > 0 && rep%2 == 0 {
		pr = b.pickPrincipal(users) // a curious insider
		ip, tz = b.ownIP(pr), pr.TZ
	} else if all := b.on(v, atkAll...); len(all) > 0 {
		pr = b.pickPrincipal(all) // malware on a caller's host
		ip = b.ownIP(pr)
	} else {
		pr = b.newIdentity(KindUser, v)
		ip, _ = b.countryIP("")
	}
	t := b.start(day, time.Hour, tz)
	if b.r.IntN(2) == 0 {
		b.add(t, v, pr, OpSecretList, "", ip, 200)
		t = t.Add(b.gap(5*time.Second, 2*time.Minute))
	}
	decoy := v.Decoys[b.r.IntN(len(v.Decoys))]
	reads := 1 + b.r.IntN(2)
	for range reads {
		b.add(t, v, pr, OpSecretGet, decoy, ip, 200)
		t = t.Add(b.gap(5*time.Second, 5*time.Minute))
	}
	b.desc = fmt.Sprintf("%s reads decoy secret %s in %s from %s.", atkWho(pr), decoy, v.Name, ip)
	return true
}

// vaultAdmin returns a Vault admin whose token is stolen: an admin of v,
// else of another Vault mount, else any admin with a Vault identity; nil
// when there is none.
func (b *atkBuild) vaultAdmin(v *Vault) *Principal {
	var onV, onVault, others []*Principal
	for _, pr := range b.principals(atkUsers) {
		if !pr.Admin || !atkSpeaks(pr, HashiVault) {
			continue
		}
		others = append(others, pr)
		if slices.Contains(pr.Vaults, v) {
			onV = append(onV, pr)
		}
		if slices.ContainsFunc(pr.Vaults, func(x *Vault) bool { return x.Provider == HashiVault }) {
			onVault = append(onVault, pr)
		}
	}
	for _, cands := range [][]*Principal{onV, onVault, others} {
		if len(cands) > 0 {
			return b.pickPrincipal(cands)
		}
	}
	return nil
}

// rootToken is a Vault root token: no entity, the root policy.
func (b *atkBuild) rootToken() *Principal {
	return &Principal{
		Kind:      KindUser,
		Name:      "root",
		VaultRole: "token",
		Policies:  []string{"root"},
		Accessor:  b.token(24, atkBase62),
		TZ:        time.UTC,
	}
}

func planAuditTampering(b *atkBuild, rep, reps int) bool {
	v, day, ok := b.pickVault(b.vaults(func(v *Vault) bool { return v.Provider == HashiVault }), 1, rep, reps)
	if !ok {
		return false
	}
	pr, root := b.vaultAdmin(v), false
	var ip netip.Addr
	if pr == nil || rep%2 == 1 {
		pr, root = b.rootToken(), true
		ip, _ = b.countryIP("")
	} else {
		ip = b.ownIP(pr)
	}
	t := b.start(day, 2*time.Hour, nil)
	steps := []Op{OpTokenLookup, OpVaultListAll}
	for _, op := range steps {
		b.addVault(t, v, pr, op, "", ip, root)
		t = t.Add(b.gap(5*time.Second, 2*time.Minute))
	}
	// The device shipping logs to the SIEM goes; the file device this
	// log comes from keeps recording what follows.
	device := []string{"syslog", "socket", "splunk"}[b.r.IntN(3)]
	b.addVault(t, v, pr, OpAuditDisable, device, ip, root)
	t = t.Add(b.gap(30*time.Second, 10*time.Minute))
	n := b.pickN(0, 3, 8)
	for range n {
		secrets := atkSecrets(v)
		if len(secrets) == 0 {
			break
		}
		obj := secrets[b.r.IntN(len(secrets))]
		b.addVault(t, v, pr, OpSecretGet, obj, ip, root)
		t = t.Add(b.gap(5*time.Second, 2*time.Minute))
	}
	who := "A root token"
	if !root {
		who = "Admin " + atkWho(pr) + "'s token"
	}
	then := fmt.Sprintf("then reads %d secret(s)", n)
	if n == 0 {
		then = "and stops there"
	}
	b.desc = fmt.Sprintf("%s disables the %s audit device of the Vault serving %s from %s, %s.", who, device, v.Name, ip, then)
	return true
}

// addVault adds a Vault call, marked as made with a root token when root.
func (b *atkBuild) addVault(t time.Time, v *Vault, pr *Principal, op Op, obj string, ip netip.Addr, root bool) {
	b.add(t, v, pr, op, obj, ip, 200)
	b.acc[len(b.acc)-1].Root = root
}

func planPrivilegedTokenUse(b *atkBuild, rep, reps int) bool {
	v, day, ok := b.pickVault(b.vaults(func(v *Vault) bool { return v.Provider == HashiVault }), 1, rep, reps)
	if !ok {
		return false
	}
	root := b.rootToken()
	t := b.start(day, 3*time.Hour, nil)
	var ip netip.Addr
	var how string
	if admin := b.vaultAdmin(v); admin != nil && rep%2 == 0 {
		// An admin (or whoever holds their token and the unseal key
		// shares) generates a new root token, then uses it.
		ip = b.ownIP(admin)
		for range 1 + b.r.IntN(3) {
			b.addVault(t, v, admin, OpGenerateRoot, "", ip, false)
			t = t.Add(b.gap(10*time.Second, 3*time.Minute))
		}
		how = fmt.Sprintf("%s generates a root token", atkWho(admin))
	} else {
		// A root token left over from initialisation is used again.
		ip, _ = b.countryIP("")
		how = "A leftover root token is used"
	}
	b.addVault(t, v, root, OpTokenLookup, "", ip, true)
	t = t.Add(b.gap(5*time.Second, time.Minute))
	b.addVault(t, v, root, OpVaultListAll, "", ip, true)
	t = t.Add(b.gap(5*time.Second, time.Minute))
	b.addVault(t, v, root, OpSecretList, "", ip, true)
	t = t.Add(b.gap(5*time.Second, time.Minute))
	n := b.pickN(1, 3, 7)
	for range n {
		secrets := atkSecrets(v)
		if len(secrets) == 0 {
			break
		}
		b.addVault(t, v, root, OpSecretGet, secrets[b.r.IntN(len(secrets))], ip, true)
		t = t.Add(b.gap(5*time.Second, 3*time.Minute))
	}
	b.desc = fmt.Sprintf("%s from %s to list mounts and read %d secret(s) in %s.", how, ip, n, v.Name)
	return true
}

func planDestructiveBurst(b *atkBuild, rep, reps int) bool {
	objects := func(v *Vault) int { return len(atkSecrets(v)) + len(v.Keys) }
	v, day, ok := b.pickVault(b.vaults(func(v *Vault) bool { return objects(v) >= 3 && len(b.on(v, atkAll...)) > 0 }), 1, rep, reps)
	if !ok {
		return false
	}
	var cands []*Principal
	for _, pr := range b.on(v, atkAll...) {
		if pr.Admin {
			cands = append(cands, pr)
		}
	}
	if len(cands) == 0 {
		cands = b.on(v, atkAll...)
	}
	victim := b.pickPrincipal(cands)
	ip := b.ownIP(victim)
	type obj struct {
		name string
		key  bool
	}
	var objs []obj
	for _, s := range atkSecrets(v) {
		objs = append(objs, obj{s, false})
	}
	if v.Provider == Azure {
		for _, k := range v.Keys {
			objs = append(objs, obj{k, true})
		}
	}
	b.r.Shuffle(len(objs), func(i, j int) { objs[i], objs[j] = objs[j], objs[i] })
	n := min(len(objs), b.pickN(5, 10, 25, 60))
	objs = objs[:n]
	t := b.start(day, time.Hour, nil)
	for _, o := range objs {
		if o.key {
			b.add(t, v, victim, OpKeyDelete, o.name, ip, 200)
		} else {
			b.add(t, v, victim, OpSecretDelete, o.name, ip, 200)
		}
		t = t.Add(b.gap(time.Second, 12*time.Second))
	}
	purged := 0
	if b.r.IntN(3) > 0 {
		for _, o := range objs {
			if o.key {
				continue
			}
			b.add(t, v, victim, OpSecretPurge, o.name, ip, 200)
			purged++
			t = t.Add(b.gap(time.Second, 10*time.Second))
		}
	}
	b.desc = fmt.Sprintf("%s deletes %d objects in %s within minutes and purges %d of them.", atkWho(victim), n, v.Name, purged)
	return true
}

func planSlowExfiltration(b *atkBuild, rep, reps int) bool {
	if b.p.testDays < 2 {
		return false
	}
	v, day, ok := b.pickVault(b.vaults(func(v *Vault) bool { return atkHasSecrets(v) && len(b.on(v, atkAll...)) > 0 }), 3, rep, reps)
	if !ok {
		return false
	}
	victim := b.pickPrincipal(b.on(v, atkAll...))
	ip, country := b.countryIP(victim.Country)
	hours := 24 + b.r.IntN(17)
	base := b.p.o.TestStart().AddDate(0, 0, day)
	t := base.Add(time.Duration(b.r.IntN(12*60))*time.Minute + time.Duration(b.r.Int64N(int64(time.Minute))))
	if limit := b.p.o.End().Add(-time.Hour); t.Add(time.Duration(hours) * time.Hour).After(limit) {
		hours = max(2, int(limit.Sub(t)/time.Hour)-1)
	}
	secrets := atkSecrets(v)
	order := b.r.Perm(len(secrets))
	for i := range hours {
		at := t.Add(time.Duration(i)*time.Hour + b.gap(-10*time.Minute, 10*time.Minute))
		if at.Before(base) {
			at = base.Add(time.Second)
		}
		b.add(at, v, victim, OpSecretGet, secrets[order[i%len(order)]], ip, 200)
	}
	b.desc = fmt.Sprintf("%s's stolen credential reads one secret an hour in %s for %d hours from %s (%s), a country it never called from.", atkWho(victim), v.Name, hours, ip, country)
	return true
}

func planCredentialProbing(b *atkBuild, rep, reps int) bool {
	v, day, ok := b.pickVault(b.p.o.Vaults, 1, rep, reps)
	if !ok {
		return false
	}
	ip, country := b.countryIP("")
	ua := b.toolUA(v.Provider)
	// On Key Vault, calls without a valid token; on Vault, password
	// spraying the userpass method: one attempted identity per username.
	anon := []*Principal{{Kind: KindUser, TZ: time.UTC, UserAgent: ua}}
	op := OpSecretGet
	if v.Provider == HashiVault {
		op = OpLogin
		anon = nil
		for _, name := range []string{"admin", "vault", "operator", "deploy", "jenkins", "backup", "svc-ci"} {
			anon = append(anon, &Principal{Kind: KindUser, Name: name, VaultRole: "userpass", TZ: time.UTC, UserAgent: ua})
		}
	}
	names := append(atkSecrets(v), "admin", "db-password", "api-key")
	bursts := 1 + b.r.IntN(4)
	size := b.pickN(12, 30, 80)
	t := b.start(day, 4*time.Hour, nil)
	for range bursts {
		for range size {
			obj := names[b.r.IntN(len(names))]
			who := anon[b.r.IntN(len(anon))]
			if op == OpLogin {
				obj = ""
			}
			b.add(t, v, who, op, obj, ip, 401)
			t = t.Add(b.gap(200*time.Millisecond, 4*time.Second))
		}
		t = t.Add(b.gap(10*time.Minute, 50*time.Minute))
	}
	b.desc = fmt.Sprintf("%d burst(s) of %d unauthenticated calls to %s from %s (%s).", bursts, size, v.Name, ip, country)
	return true
}

// planCryptoVolume: a stolen application credential decrypts (or unwraps)
// with a key of the vault that the application never uses, thousands of
// times: data encrypted elsewhere being opened in bulk.
func planCryptoVolume(b *atkBuild, rep, reps int) bool {
	v, day, ok := b.pickVault(b.vaults(func(v *Vault) bool { return len(v.Keys) > 0 && len(b.readers(v)) > 0 }), 1, rep, reps)
	if !ok {
		return false
	}
	victim := b.pickPrincipal(b.readers(v))
	key := v.Keys[b.r.IntN(len(v.Keys))]
	op := OpKeyDecrypt
	if v.Provider == Azure && b.r.IntN(2) == 0 {
		op = OpKeyUnwrap
	}
	ip := b.ownIP(victim)
	n := b.pickN(300, 800, 2000, 5000)
	dur := b.gap(15*time.Minute, 60*time.Minute)
	t := b.start(day, dur, victim.TZ)
	step := dur / time.Duration(n)
	for range n {
		b.add(t, v, victim, op, key, ip, 200)
		t = t.Add(b.gap(step/2, step*3/2))
	}
	b.desc = fmt.Sprintf("%s uses key %s of %s %d times in about %d minutes (%s), a key it never used.", atkWho(victim), key, v.Name, n, int(dur.Minutes()), op)
	return true
}

// planCrossProvider: one address reads secrets in vaults of two different
// providers within the hour: a credential dump being tried everywhere.
func planCrossProvider(b *atkBuild, rep, reps int) bool {
	byProv := map[Provider][]*Vault{}
	for _, v := range b.vaults(func(v *Vault) bool { return atkHasSecrets(v) && len(b.on(v, atkAll...)) > 0 }) {
		byProv[v.Provider] = append(byProv[v.Provider], v)
	}
	var provs []Provider
	for _, p := range []Provider{Azure, HashiVault, AWS} {
		if len(byProv[p]) > 0 {
			provs = append(provs, p)
		}
	}
	if len(provs) < 2 {
		return false
	}
	b.r.Shuffle(len(provs), func(i, j int) { provs[i], provs[j] = provs[j], provs[i] })
	vs := []*Vault{byProv[provs[0]][b.r.IntN(len(byProv[provs[0]]))], byProv[provs[1]][b.r.IntN(len(byProv[provs[1]]))]}
	day, _ := b.pickDay(vs, 1, rep, reps, true)
	b.claim(vs, day, 1)
	ip, country := b.countryIP("")
	t := b.start(day, 2*time.Hour, nil)
	var who []string
	for _, v := range vs {
		victim := b.pickPrincipal(b.on(v, atkAll...))
		who = append(who, atkWho(victim))
		t = b.readSecrets(t, v, victim, ip, b.pickN(1, 3, 6), 5*time.Second, 3*time.Minute)
		t = t.Add(b.gap(2*time.Minute, 25*time.Minute))
	}
	b.desc = fmt.Sprintf("Address %s (%s) reads secrets in %s (%s) and %s (%s) within the hour, with the credentials of %s.",
		ip, country, vs[0].Name, vs[0].Provider, vs[1].Name, vs[1].Provider, strings.Join(who, " and "))
	return true
}
