package simulate

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// An alert matches a label when its window overlaps the label's window
// widened by a Tolerance: detectors report an attack a little after it
// ends (they need the burst to close) and a window may start a little early
// (a bucket boundary).
type Tolerance struct {
	Before time.Duration // before the label's start
	After  time.Duration // after the label's end
}

// DefaultTolerance is the tolerance Score uses: 5 minutes before the start,
// 1 hour after the end.
var DefaultTolerance = Tolerance{Before: 5 * time.Minute, After: time.Hour}

// AlertVault is the vault an alert is about, as the detection issue defines
// it.
type AlertVault struct {
	Provider string `json:"provider,omitempty"`
	ID       string `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
}

// Alert is the part of a detector's alert that scoring reads. It is decoded
// tolerantly, because the detector's output is defined by another issue and
// may grow (see UnmarshalJSON for the accepted shape); every other field of
// the alert is ignored.
type Alert struct {
	ID        string     `json:"id,omitempty"`
	Type      string     `json:"type"`
	Severity  string     `json:"severity,omitempty"`
	StartTime time.Time  `json:"startTime"`
	EndTime   time.Time  `json:"endTime"`
	Vault     AlertVault `json:"vault"`
	Entities  Entities   `json:"entities"`
	// Line is the line of the input the alert starts on (1-based).
	Line int `json:"-"`
}

// UnmarshalJSON reads one alert. Keys are matched without regard to case,
// '_' or '-' ("startTime", "start_time" and "StartTime" are one key).
//
//   - type: "type" (required).
//   - times: "startTime" (or "start", "time"; required) and "endTime" (or
//     "end"; the start when absent), RFC 3339.
//   - vault: an object {"provider","id","name"} (name or id required), or a
//     string taken as the name, or as the id when it contains '/' or ':'.
//   - entities: either an object or a list. In an object, each key names a
//     kind: ip/ips/ipAddress/address, objectId/object_ids/oid/principalId,
//     upn/upns/userPrincipalName, appId/app_ids/applicationId/clientId,
//     vaultEntity/vault_entities/entityId, arn/arns; a value is a string, a
//     list, or an object whose "value", "address", "id" or "name" holds it
//     (so {"ip":{"address":"1.2.3.4","classification":"tor"}} works);
//     objects under keys of no known kind ("caller", "principal") are
//     searched the same way. A list holds {"type": KIND, "value": V}
//     objects (or "address"/"id" for the value), or objects like the above.
func (a *Alert) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	f := make(map[string]json.RawMessage, len(raw))
	for k, v := range raw {
		f[normKey(k)] = v
	}
	*a = Alert{}
	str := func(keys ...string) (string, error) {
		for _, k := range keys {
			v, ok := f[k]
			if !ok || string(v) == "null" {
				continue
			}
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return "", fmt.Errorf("%s: want a string", k)
			}
			return s, nil
		}
		return "", nil
	}
	tm := func(keys ...string) (time.Time, error) {
		s, err := str(keys...)
		if err != nil || s == "" {
			return time.Time{}, err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s: not an RFC 3339 time", keys[0])
		}
		return t.UTC(), nil
	}
	var err error
	if a.ID, err = str("id", "alertid"); err != nil {
		return err
	}
	if a.Type, err = str("type", "alerttype"); err != nil {
		return err
	}
	if a.Type == "" {
		return errors.New("alert has no type")
	}
	if a.Severity, err = str("severity"); err != nil {
		return err
	}
	if a.StartTime, err = tm("starttime", "start", "time"); err != nil {
		return err
	}
	if a.StartTime.IsZero() {
		return errors.New("alert has no startTime")
	}
	if a.EndTime, err = tm("endtime", "end"); err != nil {
		return err
	}
	if a.EndTime.IsZero() {
		a.EndTime = a.StartTime
	}
	if a.EndTime.Before(a.StartTime) {
		return errors.New("alert's endTime is before its startTime")
	}
	if v, ok := f["vault"]; ok {
		if err := a.Vault.decode(v); err != nil {
			return err
		}
	}
	if a.Vault.Name == "" && a.Vault.ID == "" {
		return errors.New("alert has no vault name or id")
	}
	if v, ok := f["entities"]; ok && string(v) != "null" {
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			return fmt.Errorf("entities: %w", err)
		}
		walkEntities(&a.Entities, "", x)
	}
	return nil
}

func (v *AlertVault) decode(data json.RawMessage) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		if strings.ContainsAny(s, "/:") {
			v.ID = s
		} else {
			v.Name = s
		}
		return nil
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return errors.New("vault: want an object or a string")
	}
	for k, x := range raw {
		s, _ := x.(string)
		switch normKey(k) {
		case "provider":
			v.Provider = s
		case "id", "resourceid":
			v.ID = s
		case "name":
			v.Name = s
		}
	}
	return nil
}

// normKey folds a JSON key for tolerant matching.
func normKey(k string) string {
	k = strings.ToLower(k)
	if strings.ContainsAny(k, "_-") {
		k = strings.NewReplacer("_", "", "-", "").Replace(k)
	}
	return k
}

// entityKind maps a folded key or type name to an entity kind; "" when it
// names none.
func entityKind(k string) string {
	switch normKey(k) {
	case "ip", "ips", "ipaddress", "ipaddresses", "address", "addresses", "callerip", "callerips", "sourceip", "sourceips", "clientip":
		return "ip"
	case "objectid", "objectids", "oid", "principalid", "principalids":
		return "oid"
	case "upn", "upns", "userprincipalname", "userprincipalnames":
		return "upn"
	case "appid", "appids", "applicationid", "applicationids", "clientid", "clientids":
		return "app"
	case "vaultentity", "vaultentities", "vaultentityid", "vaultentityids", "entityid", "entityids":
		return "entity"
	case "arn", "arns":
		return "arn"
	}
	return ""
}

// valueKeys are the keys of an object that hold the value of the kind its
// parent key names.
var valueKeys = []string{"value", "address", "id", "name"}

func walkEntities(e *Entities, kind string, x any) {
	switch x := x.(type) {
	case string:
		if kind != "" && x != "" {
			e.add(kind, x)
		}
	case []any:
		for _, y := range x {
			walkEntities(e, kind, y)
		}
	case map[string]any:
		// {"type":"ip","value":"1.2.3.4"}
		if t, ok := x["type"].(string); ok && entityKind(t) != "" {
			kind = entityKind(t)
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys) // deterministic order of the entities found
		for _, k := range keys {
			nk := normKey(k)
			switch {
			case nk == "type":
			case entityKind(nk) != "":
				walkEntities(e, entityKind(nk), x[k])
			case slices.Contains(valueKeys, nk):
				if kind != "" {
					walkEntities(e, kind, x[k])
				}
			default:
				if _, ok := x[k].(string); !ok {
					walkEntities(e, "", x[k]) // "caller": {...}
				}
			}
		}
	}
}

func (e *Entities) add(kind, v string) {
	var p *[]string
	switch kind {
	case "ip":
		p = &e.IPs
	case "oid":
		p = &e.ObjectIDs
	case "upn":
		p = &e.UPNs
	case "app":
		p = &e.AppIDs
	case "entity":
		p = &e.VaultEntities
	case "arn":
		p = &e.ARNs
	default:
		return
	}
	if !slices.Contains(*p, v) {
		*p = append(*p, v)
	}
}

// entitySet is an alert's or a label's entities by kind ("ip", "oid",
// "upn", "app", "entity", "arn"), values folded so that the same entity
// written two ways is one: lower-case (GUIDs, UPNs and Vault entity ids are
// case-insensitive), addresses in their canonical form.
type entitySet map[string][]string

func (e Entities) set() entitySet {
	s := entitySet{}
	add := func(kind string, vs []string) {
		for _, v := range vs {
			v = strings.TrimSpace(v)
			if v == "" {
				continue
			}
			if kind == "ip" {
				if ip, err := netip.ParseAddr(v); err == nil {
					v = ip.Unmap().String()
				}
			}
			if kind != "arn" {
				v = strings.ToLower(v)
			}
			if !slices.Contains(s[kind], v) {
				s[kind] = append(s[kind], v)
			}
		}
	}
	add("ip", e.IPs)
	add("oid", e.ObjectIDs)
	add("upn", e.UPNs)
	add("app", e.AppIDs)
	add("entity", e.VaultEntities)
	add("arn", e.ARNs)
	return s
}

// principalKinds are the kinds naming who called, as opposed to where from.
var principalKinds = []string{"oid", "upn", "app", "entity", "arn"}

// labelSet is a label's entities for matching. A user's app id (a label
// with a UPN) is the client application the person used, such as the
// Azure portal or CLI, shared with every other user of it: it identifies
// nobody, and is left out.
func labelSet(l *Label) entitySet {
	s := l.Entities.set()
	if len(s["upn"]) > 0 {
		delete(s, "app")
	}
	return s
}

// entitiesMatch reports whether an alert's entities point at a label's
// attacker: they share a principal (object id, UPN, app id, Vault entity,
// ARN), or they share an address and the alert names no other principal
// of a kind the label names (an alert about another user behind the same
// office egress address is about someone else).
func entitiesMatch(label, alert entitySet) bool {
	for _, k := range principalKinds {
		if shareAny(label[k], alert[k]) {
			return true
		}
	}
	if !shareAny(label["ip"], alert["ip"]) {
		return false
	}
	for _, k := range principalKinds {
		if len(label[k]) > 0 && len(alert[k]) > 0 {
			return false // both name one, and not the same (checked above)
		}
	}
	return true
}

// ReadLabels reads labels.jsonl as Run writes it: one Label per line (blank
// lines skipped). An error names the line.
func ReadLabels(r io.Reader) ([]Label, error) {
	var labels []Label
	err := readJSONStream(r, "label", func(line int, data json.RawMessage) error {
		var l Label
		if err := json.Unmarshal(data, &l); err != nil {
			return err
		}
		switch {
		case len(l.Vaults) == 0:
			return errors.New("label has no vault")
		case l.Start.IsZero() || l.End.IsZero():
			return errors.New("label has no start or end")
		case l.End.Before(l.Start):
			return errors.New("label ends before it starts")
		}
		labels = append(labels, l)
		return nil
	})
	return labels, err
}

// ReadAlerts reads alerts: JSON Lines (one alert per line, as `vaultwatch
// scan -o jsonl` is to print them), a stream of pretty-printed objects, or
// a JSON array. An error names the line where the bad alert starts.
func ReadAlerts(r io.Reader) ([]Alert, error) {
	var alerts []Alert
	err := readJSONStream(r, "alert", func(line int, data json.RawMessage) error {
		var a Alert
		if err := json.Unmarshal(data, &a); err != nil {
			return err
		}
		a.Line = line
		alerts = append(alerts, a)
		return nil
	})
	return alerts, err
}

// readJSONStream calls fn for each JSON value of r, unpacking a top-level
// array, with the line each value starts on.
func readJSONStream(r io.Reader, what string, fn func(line int, data json.RawMessage) error) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("reading %ss: %w", what, err)
	}
	lineAt := func(off int64) int {
		for off < int64(len(data)) && isSpace(data[off]) {
			off++
		}
		return 1 + bytes.Count(data[:off], []byte{'\n'})
	}
	d := json.NewDecoder(bytes.NewReader(data))
	array := false
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		if _, err := d.Token(); err != nil {
			return fmt.Errorf("%ss line 1: %w", what, err)
		}
		array = true
	}
	for {
		if array && !d.More() {
			break
		}
		off := d.InputOffset()
		var raw json.RawMessage
		if err := d.Decode(&raw); err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("%ss line %d: %w", what, lineAt(off), err)
		}
		if len(raw) == 0 || raw[0] != '{' {
			return fmt.Errorf("%ss line %d: want a JSON object", what, lineAt(off))
		}
		if err := fn(lineAt(off), raw); err != nil {
			return fmt.Errorf("%ss line %d: %w", what, lineAt(off), err)
		}
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' }

// Report is the result of scoring alerts against labels.
type Report struct {
	Labels    int     `json:"labels"`
	Detected  int     `json:"detected"`
	Recall    float64 `json:"recall"` // Detected/Labels; 0 without labels
	Alerts    int     `json:"alerts"`
	VaultDays float64 `json:"vault_days"`
	// Tolerance widening each label's window, in seconds.
	ToleranceBeforeSeconds float64 `json:"tolerance_before_seconds"`
	ToleranceAfterSeconds  float64 `json:"tolerance_after_seconds"`

	Scenarios   []ScenarioScore `json:"scenarios"`
	AlertTypes  []TypeScore     `json:"alert_types"`
	Missed      []MissedLabel   `json:"missed"`
	FalseAlarms FalseAlarms     `json:"false_alarms"`
}

// ScenarioScore is the recall of one attack scenario.
type ScenarioScore struct {
	Scenario string  `json:"scenario"`
	Labels   int     `json:"labels"`
	Detected int     `json:"detected"`
	Recall   float64 `json:"recall"`
}

// TypeScore is the score of one alert type: the labels expecting it, those
// detected by an alert of that type, and the false alarms of that type.
type TypeScore struct {
	Type             string  `json:"type"`
	Labels           int     `json:"labels"`
	Detected         int     `json:"detected"`
	Recall           float64 `json:"recall"`
	FalseAlarms      int     `json:"false_alarms"`
	FalseAlarmGroups int     `json:"false_alarm_groups"`
}

// MissedLabel is a label no alert matched.
type MissedLabel struct {
	ID             string    `json:"id"`
	Scenario       string    `json:"scenario"`
	Vaults         []string  `json:"vaults"`
	Start          time.Time `json:"start"`
	End            time.Time `json:"end"`
	ExpectedAlerts []string  `json:"expected_alerts"`
}

// FalseAlarms are the alerts matching no label: their count, and the
// distinct (vault, type, UTC day) groups, since one noisy thing repeated is
// one nuisance to a reader.
type FalseAlarms struct {
	Alerts int `json:"alerts"`
	Groups int `json:"groups"`
	// GroupsPer100VaultDays is Groups per 100 vault-days (0 when vault-days
	// is unknown).
	GroupsPer100VaultDays float64           `json:"groups_per_100_vault_days"`
	ByGroup               []FalseAlarmGroup `json:"by_group"`
}

// FalseAlarmGroup is one (vault, type, day) group of false alarms.
type FalseAlarmGroup struct {
	Vault  string `json:"vault"`
	Type   string `json:"type"`
	Day    string `json:"day"` // YYYY-MM-DD, UTC, of the alert's start
	Alerts int    `json:"alerts"`
}

// Score scores alerts against labels with DefaultTolerance. vaultDays is
// the number of vaults times the number of days simulated, for the
// false-alarm rate.
//
// An alert matches a label when the alert's vault is one of the label's
// vaults (its name equal, or its id's last segment equal, ignoring case),
// it points at the label's attacker (see entitiesMatch: a shared principal,
// or a shared address with no other principal named), and its
// [startTime, endTime] overlaps the label's [start, end] widened by the
// tolerance (edges included). A label is detected when at least one alert
// matches it; an alert matching no label is a false alarm.
func Score(labels []Label, alerts []Alert, vaultDays float64) Report {
	return ScoreWith(labels, alerts, vaultDays, DefaultTolerance)
}

// ScoreWith is Score with a given tolerance.
func ScoreWith(labels []Label, alerts []Alert, vaultDays float64, tol Tolerance) Report {
	rep := Report{
		Scenarios:              []ScenarioScore{},
		AlertTypes:             []TypeScore{},
		Missed:                 []MissedLabel{},
		FalseAlarms:            FalseAlarms{ByGroup: []FalseAlarmGroup{}},
		Labels:                 len(labels),
		Alerts:                 len(alerts),
		VaultDays:              vaultDays,
		ToleranceBeforeSeconds: tol.Before.Seconds(),
		ToleranceAfterSeconds:  tol.After.Seconds(),
	}
	alertSets := make([]entitySet, len(alerts))
	for i := range alerts {
		alertSets[i] = alerts[i].Entities.set()
	}
	matched := make([]bool, len(alerts))
	scen := map[string]*ScenarioScore{}
	types := map[string]*TypeScore{}
	typ := func(t string) *TypeScore {
		s := types[t]
		if s == nil {
			s = &TypeScore{Type: t}
			types[t] = s
		}
		return s
	}
	for _, l := range labels {
		lset := labelSet(&l)
		from, to := l.Start.Add(-tol.Before), l.End.Add(tol.After)
		detectedBy := map[string]bool{}
		detected := false
		for i := range alerts {
			a := &alerts[i]
			if a.StartTime.After(to) || a.EndTime.Before(from) {
				continue
			}
			if !vaultMatches(a.Vault, l.Vaults) || !entitiesMatch(lset, alertSets[i]) {
				continue
			}
			matched[i] = true
			detected = true
			detectedBy[a.Type] = true
		}
		s := scen[l.Scenario]
		if s == nil {
			s = &ScenarioScore{Scenario: l.Scenario}
			scen[l.Scenario] = s
		}
		s.Labels++
		if detected {
			s.Detected++
			rep.Detected++
		} else {
			rep.Missed = append(rep.Missed, MissedLabel{
				ID: l.ID, Scenario: l.Scenario, Vaults: l.Vaults,
				Start: l.Start, End: l.End, ExpectedAlerts: l.ExpectedAlerts,
			})
		}
		seen := map[string]bool{}
		for _, t := range l.ExpectedAlerts {
			if seen[t] {
				continue
			}
			seen[t] = true
			ts := typ(t)
			ts.Labels++
			if detectedBy[t] {
				ts.Detected++
			}
		}
	}
	groups := map[FalseAlarmGroup]int{}
	for i := range alerts {
		if matched[i] {
			continue
		}
		a := &alerts[i]
		rep.FalseAlarms.Alerts++
		typ(a.Type).FalseAlarms++
		groups[FalseAlarmGroup{Vault: vaultKey(a.Vault), Type: a.Type, Day: a.StartTime.UTC().Format(time.DateOnly)}]++
	}
	for g, n := range groups {
		g.Alerts = n
		rep.FalseAlarms.ByGroup = append(rep.FalseAlarms.ByGroup, g)
		typ(g.Type).FalseAlarmGroups++
	}
	slices.SortFunc(rep.FalseAlarms.ByGroup, func(a, b FalseAlarmGroup) int {
		return cmp.Or(strings.Compare(a.Day, b.Day), strings.Compare(a.Vault, b.Vault), strings.Compare(a.Type, b.Type))
	})
	rep.FalseAlarms.Groups = len(groups)
	if vaultDays > 0 {
		rep.FalseAlarms.GroupsPer100VaultDays = float64(len(groups)) * 100 / vaultDays
	}
	rep.Recall = ratio(rep.Detected, rep.Labels)
	for _, s := range scen {
		s.Recall = ratio(s.Detected, s.Labels)
		rep.Scenarios = append(rep.Scenarios, *s)
	}
	slices.SortFunc(rep.Scenarios, func(a, b ScenarioScore) int { return strings.Compare(a.Scenario, b.Scenario) })
	for _, t := range types {
		t.Recall = ratio(t.Detected, t.Labels)
		rep.AlertTypes = append(rep.AlertTypes, *t)
	}
	slices.SortFunc(rep.AlertTypes, func(a, b TypeScore) int { return strings.Compare(a.Type, b.Type) })
	slices.SortStableFunc(rep.Missed, func(a, b MissedLabel) int {
		return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.ID, b.ID))
	})
	return rep
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// vaultMatches reports whether the alert's vault is one of names.
func vaultMatches(v AlertVault, names []string) bool {
	last := ""
	if v.ID != "" {
		id := strings.TrimRight(v.ID, "/")
		last = id[strings.LastIndexAny(id, "/:")+1:]
	}
	for _, n := range names {
		if n == "" {
			continue
		}
		if strings.EqualFold(v.Name, n) || strings.EqualFold(last, n) ||
			(v.ID != "" && strings.EqualFold(strings.TrimRight(v.ID, "/"), strings.TrimRight(n, "/"))) {
			return true
		}
	}
	return false
}

// vaultKey names an alert's vault for false-alarm grouping.
func vaultKey(v AlertVault) string {
	if v.Name != "" {
		return strings.ToLower(v.Name)
	}
	return strings.ToLower(v.ID)
}

func shareAny(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// WriteText writes the report as readable tables.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	pct := func(n, d int) string {
		if d == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f%%", 100*float64(n)/float64(d))
	}
	fmt.Fprintf(&b, "recall: %d of %d attacks detected (%s)\n", r.Detected, r.Labels, pct(r.Detected, r.Labels))
	fmt.Fprintf(&b, "alerts: %d, false alarms: %d in %d (vault, type, day) groups", r.Alerts, r.FalseAlarms.Alerts, r.FalseAlarms.Groups)
	if r.VaultDays > 0 {
		fmt.Fprintf(&b, ", %.2f groups per 100 vault-days (%g vault-days)", r.FalseAlarms.GroupsPer100VaultDays, r.VaultDays)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "matching: same vault, a shared entity, windows overlapping within %s before and %s after\n",
		time.Duration(r.ToleranceBeforeSeconds*float64(time.Second)), time.Duration(r.ToleranceAfterSeconds*float64(time.Second)))

	if len(r.Scenarios) > 0 {
		fmt.Fprintf(&b, "\n%-36s %7s %9s %7s\n", "scenario", "attacks", "detected", "recall")
		for _, s := range r.Scenarios {
			fmt.Fprintf(&b, "%-36s %7d %9d %7s\n", s.Scenario, s.Labels, s.Detected, pct(s.Detected, s.Labels))
		}
	}
	if len(r.AlertTypes) > 0 {
		fmt.Fprintf(&b, "\n%-32s %9s %9s %7s %13s %7s\n", "alert type", "expected", "detected", "recall", "false alarms", "groups")
		for _, t := range r.AlertTypes {
			fmt.Fprintf(&b, "%-32s %9d %9d %7s %13d %7d\n", t.Type, t.Labels, t.Detected, pct(t.Detected, t.Labels), t.FalseAlarms, t.FalseAlarmGroups)
		}
	}
	if len(r.Missed) > 0 {
		fmt.Fprintf(&b, "\nmissed attacks (%d):\n", len(r.Missed))
		for _, m := range r.Missed {
			fmt.Fprintf(&b, "  %-12s %-32s %s .. %s  %s\n", m.ID, m.Scenario,
				m.Start.UTC().Format(time.RFC3339), m.End.UTC().Format(time.RFC3339), strings.Join(m.Vaults, ","))
		}
	}
	if len(r.FalseAlarms.ByGroup) > 0 {
		const maxGroups = 50
		fmt.Fprintf(&b, "\nfalse-alarm groups (%d):\n", len(r.FalseAlarms.ByGroup))
		for i, g := range r.FalseAlarms.ByGroup {
			if i == maxGroups {
				fmt.Fprintf(&b, "  ... and %d more (--json lists them all)\n", len(r.FalseAlarms.ByGroup)-maxGroups)
				break
			}
			fmt.Fprintf(&b, "  %s  %-28s %-32s %5d alert(s)\n", g.Day, g.Vault, g.Type, g.Alerts)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
