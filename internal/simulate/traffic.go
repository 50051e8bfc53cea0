package simulate

import (
	"maps"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file generates the organisation's benign traffic, day by day: the
// applications on their schedules, people in their working hours, the
// provider's background services, rotation, and the benign changes of the
// test period that look like attacks to a naive detector but are not.

// schedKind is how an application calls its vault.
type schedKind int

const (
	schedNone    schedKind = iota // only planned events (rotation jobs)
	schedEvery                    // every N minutes, around the clock
	schedDiurnal                  // every N minutes, following the load of the day
	schedHourly                   // once an hour
	schedNightly                  // a nightly batch reading everything it needs
	schedDeploy                   // deploy bursts on weekdays: every pod reads at start
)

// actor is a principal with how it behaves: the part of the organisation
// the model has no field for.
type actor struct {
	p       *Principal
	vaults  []*Vault       // p.Vaults when the plan was made
	nets    []netip.Prefix // p.Networks when the plan was made
	sched   schedKind
	every   time.Duration
	offset  time.Duration
	reads   map[*Vault][]string // secrets it reads on each of its vaults
	keyOp   Op                  // a key operation it does on each run, if any
	key     string
	startAt time.Time // nothing before (a new application, a new employee)
	moveDay int       // from this day on, calls come from moved (-1: never)
	moved   []netip.Prefix
	bigDays []int // days of triple volume (month-end batch)
	denied  *Vault
	missing string // a secret it asks for that does not exist (404)
	burst   bool   // gets throttled now and then
	// Users.
	activity   float64 // sessions per working day
	travelFrom int
	travelTo   int // exclusive
	travelNet  netip.Prefix
	travelZone *time.Location
	// Storage encryption identities.
	rate float64 // unwraps per hour at the daily mean
}

// plan is how the organisation behaves: derived once from an Org.
type plan struct {
	key      uint64
	apps     []*actor
	users    []*actor
	services []*actor
	events   []Access                          // one-off accesses in time order: rotation, policy changes, releases
	bumps    map[*Vault]map[string][]time.Time // instants an object gets a new version
	initial  map[*Vault]map[string]string      // versions at the start, as the org had them
}

// planFor returns o's plan, derived the first time it is asked for (NewOrg
// asks at once, so that later changes to the org by attack planning do not
// change benign behaviour).
func planFor(o *Org) *plan {
	if o.plan == nil {
		o.plan = buildPlan(o)
	}
	return o.plan
}

// VersionAt is the version of a vault object current at t: the version a
// read at t returns. Rotation and release writes change it.
func (o *Org) VersionAt(v *Vault, object string, t time.Time) string {
	return planFor(o).versionAt(v, object, t)
}

func (p *plan) versionAt(v *Vault, object string, t time.Time) string {
	n := 0
	for _, at := range p.bumps[v][object] {
		if !at.After(t) {
			n++
		}
	}
	if n == 0 {
		if s, ok := p.initial[v][object]; ok {
			return s
		}
	}
	return orgVersion(v, p.key, object, n)
}

func (p *plan) bump(v *Vault, object string, t time.Time) {
	if p.bumps[v] == nil {
		p.bumps[v] = map[string][]time.Time{}
	}
	p.bumps[v][object] = append(p.bumps[v][object], t)
}

// trap days: benign change in the test period.
func trapDay(o *Org, f float64) int {
	test := o.Days - o.LearningDays
	if test <= 0 {
		return -1
	}
	return min(o.LearningDays+int(f*float64(test)), o.Days-1)
}

func weekdayFrom(o *Org, d int) int {
	if d < 0 {
		return d
	}
	for x := d; x < o.Days; x++ {
		if wd := o.Start.AddDate(0, 0, x).Weekday(); wd != time.Saturday && wd != time.Sunday {
			return x
		}
	}
	return d
}

func isWeekend(t time.Time) bool {
	wd := t.Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

func zoneOf(p *Principal) *time.Location {
	if p.TZ != nil {
		return p.TZ
	}
	return time.UTC
}

func nonDecoys(v *Vault) []string {
	var out []string
	for _, s := range v.Secrets {
		if !slices.Contains(v.Decoys, s) {
			out = append(out, s)
		}
	}
	return out
}

// buildPlan derives how every principal of o behaves, from o alone.
func buildPlan(o *Org) *plan {
	p := &plan{key: orgKey(o), bumps: map[*Vault]map[string][]time.Time{}, initial: map[*Vault]map[string]string{}}
	for _, v := range o.Vaults {
		p.initial[v] = maps.Clone(v.Versions)
	}
	r := orgRand(p.key, "plan")
	rotators := map[Provider]*actor{}
	var pipelines []*actor
	for _, ap := range o.Apps {
		a := &actor{p: ap, vaults: slices.Clone(ap.Vaults), nets: slices.Clone(ap.Networks), moveDay: -1, reads: map[*Vault][]string{}, travelFrom: -1}
		p.apps = append(p.apps, a)
		switch {
		case strings.HasPrefix(ap.Name, "platform-secret-rotator"):
			a.sched = schedNone
			if len(ap.Vaults) > 0 {
				rotators[ap.Vaults[0].Provider] = a
			}
			continue
		case strings.Contains(ap.Name, "release-pipeline"):
			a.sched = schedDeploy
			pipelines = append(pipelines, a)
		default:
			switch x := r.IntN(100); {
			case x < 35:
				a.sched = schedEvery
				a.every = []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute}[r.IntN(6)]
			case x < 60:
				a.sched = schedDiurnal
				a.every = []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute}[r.IntN(3)]
			case x < 80:
				a.sched = schedHourly
			default:
				a.sched = schedNightly
			}
		}
		a.offset = time.Duration(r.Int64N(int64(max(a.every, time.Hour))))
		for i, v := range ap.Vaults {
			pool := nonDecoys(v)
			if len(pool) == 0 {
				continue
			}
			n := 1 + r.IntN(4)
			if i > 0 {
				n = 1 + r.IntN(2)
			}
			if a.sched == schedNightly || a.sched == schedDeploy {
				n += 2 + r.IntN(5)
			}
			for _, j := range r.Perm(len(pool))[:min(n, len(pool))] {
				a.reads[v] = append(a.reads[v], pool[j])
			}
		}
		if home := ap.Vaults; len(home) > 0 && home[0].Provider == Azure && r.IntN(10) < 3 {
			for _, k := range home[0].Keys {
				switch {
				case strings.HasPrefix(k, "jwt-signing"), strings.HasPrefix(k, "webhook-signing"):
					a.keyOp, a.key = OpKeySign, k
				case strings.HasPrefix(k, "tde-sql"):
					a.keyOp, a.key = OpKeyUnwrap, k
				case strings.HasPrefix(k, "data-encryption-key"):
					a.keyOp, a.key = OpKeyDecrypt, k
				}
			}
		}
		if r.IntN(4) == 0 {
			a.missing = []string{"feature-flags-override", "legacy-api-key", "optional-smtp-relay-password", "cache-connection-string-v2"}[r.IntN(4)]
		}
		a.burst = (a.sched == schedEvery || a.sched == schedDiurnal) && a.every <= 2*time.Minute
	}
	// Storage encryption and first-party services.
	for _, sp := range o.Services {
		a := &actor{p: sp, vaults: slices.Clone(sp.Vaults), nets: slices.Clone(sp.Networks), moveDay: -1, travelFrom: -1}
		if sp.Kind == KindManagedIdentity {
			a.rate = 40 + 80*r.Float64()
		}
		p.services = append(p.services, a)
	}
	for _, up := range o.Users {
		a := &actor{p: up, vaults: slices.Clone(up.Vaults), nets: slices.Clone(up.Networks), moveDay: -1, travelFrom: -1}
		a.activity = 0.05 + 0.6*r.Float64()*r.Float64()
		if up.Admin {
			a.activity = 0.5 + r.Float64()
		}
		p.users = append(p.users, a)
	}
	p.misconfigured(o, r)
	p.traps(o, r, pipelines, rotators)
	p.rotation(o, r, rotators)
	// Versions of the one-off writes and reads, now that every bump is known.
	slices.SortStableFunc(p.events, func(a, b Access) int { return a.Time.Compare(b.Time) })
	for i := range p.events {
		e := &p.events[i]
		if e.Object != "" && e.Op != OpPolicyChange {
			e.Version = p.versionAt(e.Vault, e.Object, e.Time)
		}
	}
	return p
}

// misconfigured picks, per provider, an application that keeps calling a
// vault it has no access to: denied every hour.
func (p *plan) misconfigured(o *Org, r *rand.Rand) {
	done := map[Provider]bool{}
	for _, i := range r.Perm(len(p.apps)) {
		a := p.apps[i]
		if a.sched == schedNone || len(a.vaults) == 0 || done[a.vaults[0].Provider] {
			continue
		}
		for _, v := range o.Vaults {
			if v.Provider == a.vaults[0].Provider && !slices.Contains(a.vaults, v) {
				a.denied = v
				done[v.Provider] = true
				break
			}
		}
	}
}

// adminOf is an admin who manages v, or nil.
func (p *plan) adminOf(v *Vault) *actor {
	for _, u := range p.users {
		if u.p.Admin && slices.Contains(u.vaults, v) {
			return u
		}
	}
	return nil
}

// localAt is the instant of local hh:mm on the date of day d in zone z.
func localAt(o *Org, d int, z *time.Location, hh, mm int) time.Time {
	day := o.Start.AddDate(0, 0, d)
	return time.Date(day.Year(), day.Month(), day.Day(), hh, mm, 0, 0, z).UTC()
}

// traps plans the benign changes of the test period.
func (p *plan) traps(o *Org, r *rand.Rand, pipelines []*actor, rotators map[Provider]*actor) {
	if trapDay(o, 0) < 0 {
		return
	}
	used := map[*actor]bool{}
	pick := func(list []*actor, ok func(*actor) bool) *actor {
		for _, i := range r.Perm(len(list)) {
			if a := list[i]; !used[a] && ok(a) {
				used[a] = true
				return a
			}
		}
		return nil
	}
	regular := func(a *actor) bool { return a.sched != schedNone && a.sched != schedDeploy && len(a.vaults) > 0 }
	// A new application, deployed after an admin grants it access.
	if a := pick(p.apps, func(a *actor) bool { return regular(a) && p.adminOf(a.vaults[0]) != nil }); a != nil {
		d := weekdayFrom(o, trapDay(o, 0.15))
		adm := p.adminOf(a.vaults[0])
		at := localAt(o, d, zoneOf(adm.p), 10, 20+r.IntN(30)).Add(time.Duration(r.IntN(60)) * time.Second)
		if at.Before(o.Start.AddDate(0, 0, d)) || !at.Before(o.Start.AddDate(0, 0, d+1)) {
			at = o.Start.AddDate(0, 0, d).Add(11 * time.Hour)
		}
		// The policy is named after the application (Vault ACL policy); on
		// AWS the resource policy is a secret's.
		obj := a.p.Name
		if v := a.vaults[0]; v.Provider == AWS && len(a.reads[v]) > 0 {
			obj = a.reads[v][0]
		}
		p.events = append(p.events, Access{Time: at, Vault: a.vaults[0], Principal: adm.p, Op: OpPolicyChange,
			IP: pickIP(r, adm.nets, adm.p.Name), Status: 200, Object: obj})
		a.startAt = at.Add(time.Duration(15+r.IntN(40)) * time.Minute)
	}
	// A new employee starting to use their team's vault.
	if u := pick(p.users, func(a *actor) bool { return !a.p.Admin && len(a.vaults) > 0 }); u != nil {
		u.startAt = o.Start.AddDate(0, 0, weekdayFrom(o, trapDay(o, 0.25)))
		u.activity = max(u.activity, 0.8)
	}
	// An application moving to new cloud addresses.
	if a := pick(p.apps, func(a *actor) bool { return regular(a) && a.p.Kind == KindManagedIdentity && len(a.nets) > 0 }); a != nil {
		a.moveDay = trapDay(o, 0.35)
		a.moved = []netip.Prefix{movedPrefix(r, a.nets[0])}
	}
	// A user travelling, connecting through the corporate VPN of another
	// country.
	vpn := map[string]netip.Prefix{}
	for _, u := range p.users {
		if n := len(u.nets); n > 0 && u.p.Country != "" {
			vpn[u.p.Country] = u.nets[n-1]
		}
	}
	if u := pick(p.users, func(a *actor) bool { return len(a.vaults) > 0 && a.startAt.IsZero() }); u != nil {
		var cs []string
		for c := range vpn {
			if c != u.p.Country {
				cs = append(cs, c)
			}
		}
		slices.Sort(cs)
		if len(cs) > 0 {
			c := cs[r.IntN(len(cs))]
			u.travelFrom = weekdayFrom(o, trapDay(o, 0.45))
			u.travelTo = u.travelFrom + 4
			u.travelNet = vpn[c]
			u.travelZone = time.UTC
			if oc := orgCountries[c]; oc != nil {
				u.travelZone = oc.Zone
			}
			u.activity = max(u.activity, 1)
		}
	}
	// A month-end batch tripling an application's volume.
	if a := pick(p.apps, func(a *actor) bool { return regular(a) && a.sched != schedNightly }); a != nil {
		for d := o.LearningDays; d < o.Days; d++ {
			if lastWeekdayOfMonth(o.Start.AddDate(0, 0, d)) {
				a.bigDays = append(a.bigDays, d)
			}
		}
		if len(a.bigDays) == 0 {
			a.bigDays = []int{o.Days - 1}
		}
	}
	// Key rotation jobs.
	if rot := rotators[Azure]; rot != nil {
		d := trapDay(o, 0.55)
		at := o.Start.AddDate(0, 0, d).Add(3*time.Hour + time.Duration(r.IntN(1800))*time.Second)
		for _, v := range rot.vaults {
			for _, k := range v.Keys {
				at = at.Add(time.Duration(2000+r.IntN(20000)) * time.Millisecond)
				p.events = append(p.events, Access{Time: at, Vault: v, Principal: rot.p, Op: OpKeyRotate, Object: k,
					IP: pickIP(r, rot.nets, rot.p.Name), Status: 200})
				p.bump(v, k, at)
			}
		}
	}
	// A release day: the pipeline writes new secret values, then the pods
	// restart and read them.
	if len(pipelines) > 0 {
		a := pipelines[r.IntN(len(pipelines))]
		d := weekdayFrom(o, trapDay(o, 0.65))
		at := o.Start.AddDate(0, 0, d).Add(13*time.Hour + time.Duration(r.IntN(7200))*time.Second)
		v := a.vaults[0]
		reads := a.reads[v]
		for _, s := range reads[:min(len(reads), 2+r.IntN(4))] {
			at = at.Add(time.Duration(300+r.IntN(3000)) * time.Millisecond)
			p.events = append(p.events, Access{Time: at, Vault: v, Principal: a.p, Op: OpSecretSet, Object: s,
				IP: pickIP(r, a.nets, a.p.Name), Status: 200})
			p.bump(v, s, at)
		}
		at = at.Add(time.Duration(2+r.IntN(5)) * time.Minute)
		for pod := range 3 + r.IntN(6) {
			t := at.Add(time.Duration(pod*4000+r.IntN(3000)) * time.Millisecond)
			for _, s := range reads {
				t = t.Add(time.Duration(20+r.IntN(200)) * time.Millisecond)
				p.events = append(p.events, Access{Time: t, Vault: v, Principal: a.p, Op: OpSecretGet, Object: s,
					IP: pickIP(r, a.nets, a.p.Name), Status: 200})
			}
		}
	}
}

func lastWeekdayOfMonth(day time.Time) bool {
	if isWeekend(day) {
		return false
	}
	for n := day.AddDate(0, 0, 1); n.Month() == day.Month(); n = n.AddDate(0, 0, 1) {
		if !isWeekend(n) {
			return false
		}
	}
	return true
}

// movedPrefix is a new block of the same cloud region as p.
func movedPrefix(r *rand.Rand, p netip.Prefix) netip.Prefix {
	for _, regs := range [][]cloudRegion{azureRegions, awsRegions} {
		for _, reg := range regs {
			for i, b := range reg.Blocks {
				if b.Contains(p.Addr()) {
					nb := reg.Blocks[(i+1)%len(reg.Blocks)]
					return orgSubPrefix(r, nb, p.Bits())
				}
			}
		}
	}
	return orgSubPrefix(r, azureRegions[0].Blocks[0], 28)
}

// rotation plans the monthly rotation of secrets by the rotation jobs.
func (p *plan) rotation(o *Org, r *rand.Rand, rotators map[Provider]*actor) {
	for _, v := range o.Vaults {
		rot := rotators[v.Provider]
		if rot == nil || !slices.Contains(rot.vaults, v) {
			continue
		}
		var rotated []string
		for _, s := range nonDecoys(v) {
			if len(rotated) < 12 && (strings.Contains(s, "password") || strings.HasSuffix(s, "-key") || strings.Contains(s, "token") || strings.Contains(s, "secret")) {
				rotated = append(rotated, s)
			}
		}
		dom := 1 + r.IntN(28)
		hour := 1 + r.IntN(4)
		end := o.End()
		for m := time.Date(o.Start.Year(), o.Start.Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(end); m = m.AddDate(0, 1, 0) {
			at := time.Date(m.Year(), m.Month(), dom, hour, r.IntN(60), r.IntN(60), 0, time.UTC)
			if at.Before(o.Start) || !at.Before(end) {
				continue
			}
			for _, s := range rotated {
				at = at.Add(time.Duration(500+r.IntN(4000)) * time.Millisecond)
				p.events = append(p.events, Access{Time: at, Vault: v, Principal: rot.p, Op: OpSecretSet, Object: s,
					IP: pickIP(r, rot.nets, rot.p.Name), Status: 200})
				p.bump(v, s, at)
			}
		}
	}
}

// pickIP is one of the few addresses a principal's calls come from in its
// networks: NAT pools and VM addresses are stable.
func pickIP(r *rand.Rand, nets []netip.Prefix, name string) netip.Addr {
	if len(nets) == 0 {
		return netip.AddrFrom4([4]byte{20, 50, 1, byte(1 + orgHash(name)%250)})
	}
	n := nets[r.IntN(len(nets))]
	return orgHostAt(n, orgHash(name, n.String(), strconv.Itoa(r.IntN(3))))
}

// Day returns all benign accesses of day d (0-based) in time order. It is
// deterministic for the org and d, whichever other days are generated.
func (o *Org) Day(d int) []Access {
	return o.day(d, 1)
}

// dayGen generates one day.
type dayGen struct {
	o     *Org
	p     *plan
	d     int
	t0    time.Time
	t1    time.Time
	scale float64
	out   []Access
}

func (o *Org) day(d int, scale float64) []Access {
	p := planFor(o)
	if scale <= 0 {
		scale = 1
	}
	g := &dayGen{o: o, p: p, d: d, t0: o.Start.AddDate(0, 0, d), scale: scale}
	g.t1 = g.t0.AddDate(0, 0, 1)
	g.out = make([]Access, 0, int(3000*scale)*max(len(o.Vaults), 1))
	for _, a := range p.apps {
		g.app(a)
	}
	for _, a := range p.users {
		g.user(a)
	}
	for _, a := range p.services {
		g.service(a)
	}
	for _, e := range p.events {
		if !e.Time.Before(g.t0) && e.Time.Before(g.t1) {
			g.out = append(g.out, e)
		}
	}
	out := g.out[:0]
	for _, a := range g.out {
		if !a.Time.Before(g.t0) && a.Time.Before(g.t1) {
			out = append(out, a)
		}
	}
	slices.SortStableFunc(out, func(a, b Access) int { return a.Time.Compare(b.Time) })
	return out
}

func (g *dayGen) rand(parts ...string) *rand.Rand {
	return orgRand(g.p.key, append(parts, strconv.Itoa(g.d))...)
}

func (g *dayGen) emit(a Access) {
	if a.Version == "" && a.Object != "" && a.Status == 200 {
		switch a.Op {
		case OpSecretGet, OpSecretSet, OpKeyGet, OpKeyDecrypt, OpKeyEncrypt, OpKeyUnwrap, OpKeyWrap, OpKeySign, OpCertGet:
			a.Version = g.p.versionAt(a.Vault, a.Object, a.Time)
		}
	}
	g.out = append(g.out, a)
}

// loadFactor is the share of peak load at a UTC instant: low at night,
// high in the European and American working day, lower at weekends.
func loadFactor(t time.Time) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	f := 0.3 + 0.7*math.Exp(-math.Pow((h-14)/5, 2))
	if isWeekend(t) {
		f *= 0.6
	}
	return f
}

func jitter(r *rand.Rand, max time.Duration) time.Duration {
	return time.Duration(r.Int64N(int64(max)))
}

func (g *dayGen) app(a *actor) {
	if a.sched == schedNone || len(a.vaults) == 0 {
		return
	}
	r := g.rand("app", a.p.Name)
	nets := a.nets
	if a.moveDay >= 0 && g.d >= a.moveDay {
		nets = a.moved
	}
	mult := 1
	if slices.Contains(a.bigDays, g.d) {
		mult = 3
	}
	login := map[*Vault]int{}
	run := func(t time.Time, all bool) {
		if t.Before(a.startAt) {
			return
		}
		for i, v := range a.vaults {
			reads := a.reads[v]
			if len(reads) == 0 || (i > 0 && r.IntN(3) > 0) {
				continue
			}
			ip := pickIP(r, nets, a.p.Name)
			t := t.Add(jitter(r, 2*time.Second))
			if v.Provider == HashiVault {
				if h, ok := login[v]; !ok || h != t.Hour() {
					login[v] = t.Hour()
					g.emit(Access{Time: t, Vault: v, Principal: a.p, Op: OpLogin, IP: ip, Status: 200})
					t = t.Add(time.Duration(5+r.IntN(40)) * time.Millisecond)
				}
			}
			n := len(reads)
			if !all && a.sched != schedHourly {
				n = min(n, 1+r.IntN(2))
			}
			start := r.IntN(len(reads))
			for k := range n {
				s := reads[(start+k)%len(reads)]
				t = t.Add(time.Duration(3+r.IntN(120)) * time.Millisecond)
				g.emit(Access{Time: t, Vault: v, Principal: a.p, Op: OpSecretGet, Object: s, IP: ip, Status: 200})
				g.kms(r, v, a.p, t)
			}
			if a.keyOp != "" && i == 0 {
				for range 1 + r.IntN(3) {
					t = t.Add(time.Duration(2+r.IntN(50)) * time.Millisecond)
					g.emit(Access{Time: t, Vault: v, Principal: a.p, Op: a.keyOp, Object: a.key, IP: ip, Status: 200})
				}
			}
			if a.missing != "" && ((all && a.sched != schedHourly) || r.IntN(60) == 0) {
				t = t.Add(time.Duration(3+r.IntN(60)) * time.Millisecond)
				g.emit(Access{Time: t, Vault: v, Principal: a.p, Op: OpSecretGet, Object: a.missing, IP: ip, Status: 404})
			}
		}
	}
	switch a.sched {
	case schedEvery, schedDiurnal:
		every := time.Duration(float64(a.every) / g.scale / float64(mult))
		for t := g.t0.Add(a.offset % every); t.Before(g.t1); t = t.Add(every) {
			if a.sched == schedDiurnal && r.Float64() > loadFactor(t) {
				continue
			}
			run(t.Add(jitter(r, 20*time.Second)), false)
		}
	case schedHourly:
		for h := range 24 {
			for k := range mult {
				run(g.t0.Add(time.Duration(h)*time.Hour+a.offset%time.Hour+time.Duration(k)*7*time.Minute+jitter(r, 30*time.Second)), true)
			}
		}
	case schedNightly:
		base := g.t0.Add(time.Hour + a.offset%(3*time.Hour))
		for k := range mult {
			t := base.Add(time.Duration(k) * 40 * time.Minute)
			for range 2 + r.IntN(4) { // a batch reads everything at each step
				run(t, true)
				t = t.Add(time.Duration(1+r.IntN(10)) * time.Minute)
			}
		}
	case schedDeploy:
		if isWeekend(g.t0) {
			break
		}
		for range r.IntN(4) * mult {
			t := g.t0.Add(time.Duration(7*3600+r.IntN(10*3600)) * time.Second)
			for pod := range 2 + r.IntN(8) {
				run(t.Add(time.Duration(pod)*3*time.Second), true)
			}
		}
	}
	if a.burst && r.IntN(5) < 2 {
		g.throttled(r, a, nets)
	}
	if a.denied != nil {
		g.denied(r, a, nets)
	}
}

// kms adds the KMS decrypt Secrets Manager makes for a read (AWS): CloudTrail
// logs it as the reader's own call, invoked by Secrets Manager.
func (g *dayGen) kms(r *rand.Rand, v *Vault, p *Principal, t time.Time) {
	if v.Provider != AWS || len(v.Keys) == 0 {
		return
	}
	g.emit(Access{Time: t.Add(time.Duration(2+r.IntN(8)) * time.Millisecond), Vault: v, Principal: p,
		Op: OpKeyDecrypt, Object: v.Keys[0], Status: 200, InvokedBy: "secretsmanager.amazonaws.com"})
}

// throttled adds a burst that runs into the provider's rate limit: 429s and
// retries.
func (g *dayGen) throttled(r *rand.Rand, a *actor, nets []netip.Prefix) {
	v := a.vaults[0]
	reads := a.reads[v]
	if len(reads) == 0 {
		return
	}
	t := g.t0.Add(jitter(r, 24*time.Hour))
	if t.Before(a.startAt) {
		return
	}
	ip := pickIP(r, nets, a.p.Name)
	n := 40 + r.IntN(80)
	limit := 15 + r.IntN(20)
	for i := range n {
		t = t.Add(time.Duration(10+r.IntN(90)) * time.Millisecond)
		st := 200
		if i > limit && r.IntN(10) < 7 {
			st = 429
		}
		g.emit(Access{Time: t, Vault: v, Principal: a.p, Op: OpSecretGet, Object: reads[r.IntN(len(reads))], IP: ip, Status: st})
	}
}

// denied adds the hourly failed calls of a misconfigured application.
func (g *dayGen) denied(r *rand.Rand, a *actor, nets []netip.Prefix) {
	reads := a.reads[a.vaults[0]]
	if len(reads) == 0 {
		return
	}
	for h := range 24 {
		t := g.t0.Add(time.Duration(h)*time.Hour + a.offset%time.Hour + jitter(r, time.Minute))
		if t.Before(a.startAt) {
			continue
		}
		ip := pickIP(r, nets, a.p.Name)
		for range 1 + r.IntN(2) {
			t = t.Add(time.Duration(20+r.IntN(200)) * time.Millisecond)
			g.emit(Access{Time: t, Vault: a.denied, Principal: a.p, Op: OpSecretGet, Object: reads[0], IP: ip, Status: 403})
		}
	}
}

// workHours weights the hour a working session starts, in local time.
var workHours = [24]int{0, 0, 0, 0, 0, 0, 0, 1, 4, 9, 10, 9, 5, 7, 9, 9, 7, 4, 2, 1, 1, 1, 0, 0}

func (g *dayGen) user(a *actor) {
	if len(a.vaults) == 0 {
		return
	}
	// Sessions belong to the local date; a UTC day overlaps three.
	for ld := -1; ld <= 1; ld++ {
		g.userDate(a, g.d+ld)
	}
}

func (g *dayGen) userDate(a *actor, d int) {
	if d < 0 {
		return
	}
	r := orgRand(g.p.key, "user", a.p.Name, strconv.Itoa(d))
	zone := zoneOf(a.p)
	nets := a.nets
	travelling := d >= a.travelFrom && d < a.travelTo && a.travelFrom >= 0
	if travelling {
		zone, nets = a.travelZone, []netip.Prefix{a.travelNet}
	}
	date := g.o.Start.AddDate(0, 0, d)
	local := time.Date(date.Year(), date.Month(), date.Day(), 0, 0, 0, 0, zone)
	lambda := a.activity
	if isWeekend(date) {
		lambda *= 0.04
	}
	n := poisson(r, lambda)
	key := date.Format("2006-01-02")
	for range n {
		h := weighted(r, workHours[:])
		if r.IntN(50) == 0 {
			h = 20 + r.IntN(3) // an evening look
		}
		t := local.Add(time.Duration(h)*time.Hour + jitter(r, time.Hour)).UTC()
		// Each session has its own stream, drawn whether or not this UTC
		// day shows it, so that every day sees the same sessions.
		sr := rand.New(rand.NewPCG(r.Uint64(), r.Uint64()))
		if t.Before(a.startAt) || t.Before(g.t0.Add(-2*time.Hour)) || !t.Before(g.t1) {
			continue
		}
		g.session(sr, a, t, nets, travelling, key)
	}
}

func poisson(r *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func weighted(r *rand.Rand, w []int) int {
	total := 0
	for _, x := range w {
		total += x
	}
	x := r.IntN(total)
	for i, v := range w {
		if x < v {
			return i
		}
		x -= v
	}
	return len(w) - 1
}

// session is a person working with one of their vaults.
func (g *dayGen) session(sr *rand.Rand, a *actor, t time.Time, nets []netip.Prefix, travelling bool, date string) {
	v := a.vaults[sr.IntN(len(a.vaults))]
	var ip netip.Addr
	if travelling || len(nets) < 2 || sr.IntN(10) < 3 {
		ip = pickIP(sr, nets[len(nets)-1:], a.p.Name)
	} else {
		ip = pickIP(sr, nets[:len(nets)-1], a.p.Name+date)
	}
	pool := nonDecoys(v)
	step := func() { t = t.Add(time.Duration(800+sr.IntN(40000)) * time.Millisecond) }
	add := func(op Op, obj string, status int, ua string) {
		step()
		g.emit(Access{Time: t, Vault: v, Principal: a.p, Op: op, Object: obj, IP: ip, Status: status, UserAgent: ua})
	}
	reads := 1 + sr.IntN(4)
	portal := a.p.AppID == appIDAzurePortal || a.p.AppID == ""
	switch v.Provider {
	case Azure:
		if portal {
			add(OpVaultGet, "", 200, "")
			add(OpSecretList, "", 200, "")
		} else if sr.IntN(3) == 0 {
			add(OpSecretList, "", 200, "")
		}
		for range reads {
			if len(pool) == 0 {
				break
			}
			s := pool[sr.IntN(len(pool))]
			if portal && sr.IntN(2) == 0 {
				add(OpSecretVersions, s, 200, "")
			}
			if !portal && sr.IntN(30) == 0 {
				add(OpSecretGet, s+"s", 404, "") // a typo
				continue
			}
			add(OpSecretGet, s, 200, "")
		}
		if a.p.Admin {
			if sr.IntN(2) == 0 && len(v.Keys) > 0 {
				add(OpKeyList, "", 200, "")
				add(OpKeyGet, v.Keys[sr.IntN(len(v.Keys))], 200, "")
			}
			if sr.IntN(3) == 0 && len(v.Certificates) > 0 {
				add(OpCertList, "", 200, "")
				add(OpCertGet, v.Certificates[sr.IntN(len(v.Certificates))], 200, "")
			}
			switch sr.IntN(25) {
			case 0:
				add(OpPolicyChange, "", 200, "")
			case 1:
				add(OpNetworkChange, "", 200, "")
			}
		}
	case HashiVault:
		ua := uaVaultCLI
		if portal {
			ua = a.p.UserAgent
		}
		add(OpLogin, "", 200, ua)
		if portal || sr.IntN(3) == 0 {
			add(OpSecretList, "", 200, ua)
		}
		for range reads {
			if len(pool) == 0 {
				break
			}
			add(OpSecretGet, pool[sr.IntN(len(pool))], 200, ua)
		}
		if a.p.Admin && sr.IntN(25) == 0 {
			add(OpPolicyChange, "", 200, ua)
		}
	case AWS:
		ua := uaAWSCLI
		if portal {
			ua = uaAWSConsole
			add(OpSecretList, "", 200, ua)
		}
		for range reads {
			if len(pool) == 0 {
				break
			}
			add(OpSecretGet, pool[sr.IntN(len(pool))], 200, ua)
			g.kms(sr, v, a.p, t)
		}
	}
}

// service is a provider's background caller.
func (g *dayGen) service(a *actor) {
	r := g.rand("svc", a.p.Name)
	switch {
	case a.p.Kind == KindManagedIdentity: // storage encryption with a customer-managed key
		if len(a.vaults) == 0 {
			return
		}
		v := a.vaults[0]
		var key string
		for _, k := range v.Keys {
			if strings.HasPrefix(k, "cmk-") {
				key = k
			}
		}
		if key == "" {
			return
		}
		for h := range 24 {
			start := g.t0.Add(time.Duration(h) * time.Hour)
			n := poissonLarge(r, a.rate*g.scale*loadFactor(start)*1.6)
			ip := pickIP(r, a.nets, a.p.Name)
			for range n {
				t := start.Add(jitter(r, time.Hour))
				op := OpKeyUnwrap
				switch x := r.IntN(100); {
				case x < 2:
					op = OpKeyWrap
				case x < 3:
					op = OpKeyGet
				}
				g.emit(Access{Time: t, Vault: v, Principal: a.p, Op: op, Object: key, IP: ip, Status: 200})
			}
		}
	case a.p.AppID == appIDResourceGraph:
		for _, v := range a.vaults {
			off := jitter(r, 3*time.Hour)
			for t := g.t0.Add(off); t.Before(g.t1); t = t.Add(3*time.Hour + jitter(r, 40*time.Minute)) {
				g.emit(Access{Time: t, Vault: v, Principal: a.p, Op: OpVaultGet, IP: pickIP(r, a.nets, a.p.Name), Status: 200})
			}
		}
	case a.p.AppID == appIDPolicyInsights:
		for _, v := range a.vaults {
			t := g.t0.Add(jitter(r, 23*time.Hour))
			ip := pickIP(r, a.nets, a.p.Name)
			for _, op := range []Op{OpVaultGet, OpSecretList, OpKeyList, OpCertList} {
				t = t.Add(time.Duration(50+r.IntN(900)) * time.Millisecond)
				g.emit(Access{Time: t, Vault: v, Principal: a.p, Op: op, IP: ip, Status: 200})
			}
		}
	}
}

// poissonLarge draws a Poisson count, by normal approximation for large
// means.
func poissonLarge(r *rand.Rand, lambda float64) int {
	if lambda < 30 {
		return poisson(r, lambda)
	}
	return max(0, int(math.Round(lambda+math.Sqrt(lambda)*r.NormFloat64())))
}
