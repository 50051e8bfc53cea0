package simulate

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDayDeterministic(t *testing.T) {
	a, b := NewOrg(Options{Seed: 5}), NewOrg(Options{Seed: 5})
	// b generates other days first: day 9 must not depend on them.
	for d := range 3 {
		b.Day(d)
	}
	da, db := a.Day(9), b.Day(9)
	if len(da) == 0 || !reflect.DeepEqual(da, db) {
		t.Fatalf("day 9 differs between two orgs of the same seed (%d and %d accesses)", len(da), len(db))
	}
	if !reflect.DeepEqual(a.Day(9), da) {
		t.Fatal("day 9 differs when generated twice")
	}
	dc := NewOrg(Options{Seed: 6}).Day(9)
	if len(dc) == len(da) {
		t.Fatalf("different seeds give the same day (%d accesses)", len(dc))
	}
}

// TestDayShape checks every access of a few days: in the day, in time
// order, complete, with plausible outcomes.
func TestDayShape(t *testing.T) {
	o := NewOrg(Options{Seed: 8, Formats: []Provider{Azure, HashiVault, AWS}})
	statuses := map[int]int{}
	for _, d := range []int{0, 2, 10, 29} {
		day := o.Start.AddDate(0, 0, d)
		acc := o.Day(d)
		perVault := len(acc) / len(o.Vaults)
		if perVault < 1000 || perVault > 10000 {
			t.Errorf("day %d: %d accesses per vault", d, perVault)
		}
		for i, a := range acc {
			if a.Time.Before(day) || !a.Time.Before(day.AddDate(0, 0, 1)) {
				t.Fatalf("day %d: access at %v", d, a.Time)
			}
			if i > 0 && a.Time.Before(acc[i-1].Time) {
				t.Fatalf("day %d: not in time order at %d", d, i)
			}
			if a.Vault == nil || a.Principal == nil || a.Op == "" {
				t.Fatalf("day %d: incomplete access %+v", d, a)
			}
			if !a.IP.IsValid() && a.InvokedBy == "" && !strings.HasSuffix(a.Principal.Name, ".amazonaws.com") {
				t.Fatalf("day %d: access without address %+v", d, a)
			}
			if slices.Contains(a.Vault.Decoys, a.Object) {
				t.Errorf("day %d: %s touched decoy %s of %s", d, a.Principal.Name, a.Object, a.Vault.Name)
			}
			if a.Status == 200 && !slices.Contains(a.Principal.Vaults, a.Vault) {
				t.Errorf("day %d: %s used %s, not authorised", d, a.Principal.Name, a.Vault.Name)
			}
			if a.Status == 200 && a.Op == OpSecretGet && a.Version == "" {
				t.Errorf("day %d: read of %s without version", d, a.Object)
			}
			statuses[a.Status]++
		}
	}
	for _, st := range []int{200, 403, 404, 429} {
		if statuses[st] == 0 {
			t.Errorf("no %d in four days: %v", st, statuses)
		}
	}
	if statuses[403] < 4*24 {
		t.Errorf("%d denied calls in four days, want the misconfigured app every hour", statuses[403])
	}
}

// TestUserWorkingHours checks people work in their own working hours and
// rarely at weekends.
func TestUserWorkingHours(t *testing.T) {
	o := NewOrg(Options{Seed: 9, Days: 14})
	var in, out, weekday, weekend int
	for d := range 14 {
		for _, a := range o.Day(d) {
			if a.Principal.Kind != KindUser {
				continue
			}
			local := a.Time.In(a.Principal.TZ)
			if isWeekend(local) {
				weekend++
				continue
			}
			weekday++
			if h := local.Hour(); h >= 7 && h < 20 {
				in++
			} else {
				out++
			}
		}
	}
	t.Logf("in %d out %d weekday %d weekend %d", in, out, weekday, weekend)
	if weekday == 0 || float64(in)/float64(in+out) < 0.9 {
		t.Errorf("%d user accesses in working hours, %d outside", in, out)
	}
	// 10 weekdays, 4 weekend days.
	if perWeekend, perWeekday := float64(weekend)/4, float64(weekday)/10; perWeekend > 0.15*perWeekday {
		t.Errorf("users as busy at weekends (%.0f a day) as on weekdays (%.0f)", perWeekend, perWeekday)
	}
}

func TestRotation(t *testing.T) {
	o := NewOrg(Options{Seed: 10})
	var sets int
	for d := range o.Days {
		acc := o.Day(d)
		latest := map[string]string{} // vault/object -> version written today
		for _, a := range acc {
			key := a.Vault.Name + "/" + a.Object
			switch {
			case a.Op == OpSecretSet && strings.HasPrefix(a.Principal.Name, "platform-secret-rotator"):
				sets++
				if a.Version == "" || a.Version == a.Vault.Versions[a.Object] {
					t.Errorf("rotation of %s wrote version %q", key, a.Version)
				}
				latest[key] = a.Version
			case a.Op == OpSecretGet && a.Status == 200:
				if v, ok := latest[key]; ok && a.Version != v {
					t.Errorf("%s read %s version %s after rotation to %s", a.Principal.Name, key, a.Version, v)
				}
			}
		}
	}
	if sets == 0 {
		t.Fatal("no rotation in 30 days")
	}
}

// TestBenignChange checks the false-alarm traps of the test period.
func TestBenignChange(t *testing.T) {
	o := NewOrg(Options{Seed: 12})
	p := planFor(o)
	var newApp, newHire, mover, monthEnd, traveller *actor
	for _, a := range p.apps {
		switch {
		case !a.startAt.IsZero():
			newApp = a
		case a.moveDay >= 0:
			mover = a
		case len(a.bigDays) > 0:
			monthEnd = a
		}
	}
	for _, u := range p.users {
		switch {
		case !u.startAt.IsZero():
			newHire = u
		case u.travelFrom >= 0:
			traveller = u
		}
	}
	if newApp == nil || newHire == nil || mover == nil || monthEnd == nil || traveller == nil {
		t.Fatalf("missing traps: new app %v, new hire %v, mover %v, month-end %v, traveller %v", newApp != nil, newHire != nil, mover != nil, monthEnd != nil, traveller != nil)
	}
	testStart := o.TestStart()
	days := make([][]Access, o.Days)
	for d := range days {
		days[d] = o.Day(d)
	}
	count := func(a *actor, d int) (n int) {
		for _, x := range days[d] {
			if x.Principal == a.p {
				n++
			}
		}
		return n
	}
	// The new application: nothing before an admin's policy change on its
	// vault, then its reads.
	var grant time.Time
	var first time.Time
	for d := range o.Days {
		for _, x := range days[d] {
			if x.Op == OpPolicyChange && x.Object == newApp.p.Name {
				grant = x.Time
				if !x.Principal.Admin || x.Vault != newApp.p.Vaults[0] {
					t.Errorf("grant by %s on %s", x.Principal.Name, x.Vault.Name)
				}
			}
			if x.Principal == newApp.p && first.IsZero() {
				first = x.Time
			}
		}
	}
	if grant.IsZero() || grant.Before(testStart) || first.IsZero() || !first.After(grant) {
		t.Errorf("new app: grant at %v, first access at %v, test start %v", grant, first, testStart)
	}
	// The new employee.
	hireDay := int(newHire.startAt.Sub(o.Start) / (24 * time.Hour))
	if newHire.startAt.Before(testStart) {
		t.Errorf("new hire starts at %v, in the learning days", newHire.startAt)
	}
	for d := range hireDay {
		if n := count(newHire, d); n > 0 {
			t.Errorf("new hire has %d accesses on day %d, before starting", n, d)
		}
	}
	var after int
	for d := hireDay; d < o.Days; d++ {
		after += count(newHire, d)
	}
	if after == 0 {
		t.Error("new hire never uses the vault")
	}
	// The month-end batch triples.
	big := monthEnd.bigDays[0]
	normal := count(monthEnd, big-7)
	if n := count(monthEnd, big); n < 2*normal || big < o.LearningDays {
		t.Errorf("month-end day %d: %d accesses, %d a week before", big, n, normal)
	}
	// The application moving to new addresses.
	if mover.moveDay < o.LearningDays {
		t.Errorf("app moves on day %d, in the learning days", mover.moveDay)
	}
	for _, x := range days[mover.moveDay] {
		if x.Principal == mover.p && slices.ContainsFunc(mover.p.Networks, func(n netip.Prefix) bool { return n.Contains(x.IP) }) {
			t.Errorf("moved app still calls from %s", x.IP)
			break
		}
	}
	// The traveller comes from another country's corporate VPN.
	var away int
	for d := traveller.travelFrom; d < traveller.travelTo && d < o.Days; d++ {
		for _, x := range days[d] {
			if x.Principal == traveller.p {
				away++
				if !traveller.travelNet.Contains(x.IP) && x.Time.In(traveller.travelZone).Day() == o.Start.AddDate(0, 0, d).Day() {
					t.Errorf("traveller called from %s on day %d", x.IP, d)
				}
			}
		}
	}
	if away == 0 || slices.Contains(traveller.p.Networks, traveller.travelNet) {
		t.Errorf("traveller: %d accesses away, through %s", away, traveller.travelNet)
	}
	// Key rotation jobs and release-day writes, in the test period.
	var rotations, releases int
	for d := o.LearningDays; d < o.Days; d++ {
		for _, x := range days[d] {
			if x.Op == OpKeyRotate {
				rotations++
			}
			if x.Op == OpSecretSet && strings.Contains(x.Principal.Name, "release-pipeline") {
				releases++
			}
		}
	}
	if rotations == 0 || releases == 0 {
		t.Errorf("%d key rotations, %d release writes in the test period", rotations, releases)
	}
}
