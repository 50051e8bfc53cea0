package suppress

import (
	"context"
	"strings"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/store"
)

// PastResult is what a rule would have done to the past.
type PastResult struct {
	Checked int           // alerts looked at, newest first
	Matched int           // of them, those the rule matches
	Alerts  []alert.Alert // the first matched, at most the listed bound
}

// Past runs the rule, whatever its state, over the newest maxChecked alerts
// of the store (of its type, when it names one), and lists the first
// maxListed it matches: the simulation shown before a rule is saved.
func Past(ctx context.Context, st store.Store, r *Rule, maxChecked, maxListed int) (PastResult, error) {
	const page = 500
	res := PastResult{Alerts: []alert.Alert{}}
	for off := 0; off < maxChecked; off += page {
		p, err := st.Alerts(ctx, store.AlertQuery{Type: r.Type, Limit: page, Offset: off})
		if err != nil {
			return res, err
		}
		for i := range p.Alerts {
			a := &p.Alerts[i].Alert
			res.Checked++
			if r.Matches(a) {
				res.Matched++
				if len(res.Alerts) < maxListed {
					res.Alerts = append(res.Alerts, *a)
				}
			}
		}
		if len(p.Alerts) < page {
			break
		}
	}
	return res, nil
}

// Expire ends a rule at now, keeping its start no later than its end.
func Expire(r *store.Rule, now time.Time) {
	if r.EndsAt.IsZero() || r.EndsAt.After(now) {
		r.EndsAt = now
	}
	if r.StartsAt.After(r.EndsAt) {
		r.StartsAt = r.EndsAt
	}
	r.UpdatedAt = now
}

// Describe writes a rule's conditions on one line: "type = tor-access and
// ip cidr 10.0.0.0/8".
func Describe(r store.Rule) string {
	var parts []string
	if r.Type != "" {
		parts = append(parts, "type = "+string(r.Type))
	}
	for _, m := range r.Matchers {
		parts = append(parts, m.Field+" "+m.Op+" "+m.Value)
	}
	return strings.Join(parts, " and ")
}
