package simulate

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

var scoreT0 = time.Date(2026, 10, 12, 10, 0, 0, 0, time.UTC)

// scoreLabel is an attack on kv-pay from 10:00 to 11:00 by 203.0.113.9 and
// object id OID-A.
func scoreLabel() Label {
	return Label{
		ID: "atk-1", Scenario: "tor-access", Vaults: []string{"kv-pay"}, Providers: []Provider{Azure},
		Start: scoreT0, End: scoreT0.Add(time.Hour),
		Entities:       Entities{IPs: []string{"203.0.113.9"}, ObjectIDs: []string{"0a0a0a0a-0000-4000-8000-00000000000a"}},
		ExpectedAlerts: []string{"tor-access"},
	}
}

func scoreAlert(mod func(*Alert)) Alert {
	a := Alert{
		Type:      "tor-access",
		StartTime: scoreT0.Add(10 * time.Minute), EndTime: scoreT0.Add(20 * time.Minute),
		Vault:    AlertVault{Provider: "azure-keyvault", ID: "/subscriptions/s/resourcegroups/g/providers/microsoft.keyvault/vaults/kv-pay", Name: "kv-pay"},
		Entities: Entities{IPs: []string{"203.0.113.9"}},
	}
	if mod != nil {
		mod(&a)
	}
	return a
}

func TestScoreMatching(t *testing.T) {
	end := scoreT0.Add(time.Hour)
	for _, c := range []struct {
		name  string
		alert Alert
		want  bool
	}{
		{"same vault, ip, inside", scoreAlert(nil), true},
		{"vault by name, other case", scoreAlert(func(a *Alert) { a.Vault = AlertVault{Name: "KV-Pay"} }), true},
		{"vault by id only", scoreAlert(func(a *Alert) {
			a.Vault = AlertVault{ID: "/subscriptions/s/resourcegroups/g/providers/microsoft.keyvault/vaults/KV-PAY"}
		}), true},
		{"vault id of a Vault mount", scoreAlert(func(a *Alert) { a.Vault = AlertVault{ID: "vault:root:kv-pay/"} }), true},
		{"other vault", scoreAlert(func(a *Alert) { a.Vault = AlertVault{Name: "kv-pay-dev", ID: "/x/vaults/kv-pay-dev"} }), false},
		{"vault name a prefix only", scoreAlert(func(a *Alert) { a.Vault = AlertVault{ID: "/x/vaults/kv-pay2"} }), false},
		{"object id, other case", scoreAlert(func(a *Alert) {
			a.Entities = Entities{ObjectIDs: []string{"0A0A0A0A-0000-4000-8000-00000000000A"}}
		}), true},
		{"no shared entity", scoreAlert(func(a *Alert) { a.Entities = Entities{IPs: []string{"203.0.113.10"}} }), false},
		{"same value, other kind", scoreAlert(func(a *Alert) {
			a.Entities = Entities{AppIDs: []string{"0a0a0a0a-0000-4000-8000-00000000000a"}}
		}), false},
		{"no entities", scoreAlert(func(a *Alert) { a.Entities = Entities{} }), false},
		{"same ip, another object id", scoreAlert(func(a *Alert) {
			a.Entities.ObjectIDs = []string{"0b0b0b0b-0000-4000-8000-00000000000b"}
		}), false},
		{"same ip, the label's object id and another", scoreAlert(func(a *Alert) {
			a.Entities.ObjectIDs = []string{"0b0b0b0b-0000-4000-8000-00000000000b", "0a0a0a0a-0000-4000-8000-00000000000a"}
		}), true},
		{"same ip, a principal of a kind the label does not name", scoreAlert(func(a *Alert) {
			a.Entities.VaultEntities = []string{"e-1"}
		}), true},
		{"ipv4-mapped ipv6 address", scoreAlert(func(a *Alert) { a.Entities.IPs = []string{"::ffff:203.0.113.9"} }), true},
		{"ends exactly at start-5m", scoreAlert(func(a *Alert) {
			a.StartTime, a.EndTime = scoreT0.Add(-time.Hour), scoreT0.Add(-5*time.Minute)
		}), true},
		{"ends just before start-5m", scoreAlert(func(a *Alert) {
			a.StartTime, a.EndTime = scoreT0.Add(-time.Hour), scoreT0.Add(-5*time.Minute-time.Second)
		}), false},
		{"starts exactly at end+1h", scoreAlert(func(a *Alert) { a.StartTime, a.EndTime = end.Add(time.Hour), end.Add(2*time.Hour) }), true},
		{"starts just after end+1h", scoreAlert(func(a *Alert) {
			a.StartTime, a.EndTime = end.Add(time.Hour+time.Second), end.Add(2*time.Hour)
		}), false},
		{"spans the whole label", scoreAlert(func(a *Alert) { a.StartTime, a.EndTime = scoreT0.Add(-time.Hour), end.Add(time.Hour) }), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := Score([]Label{scoreLabel()}, []Alert{c.alert}, 100)
			if got := r.Detected == 1; got != c.want {
				t.Fatalf("detected = %v, want %v", got, c.want)
			}
			if wantFA := !c.want; (r.FalseAlarms.Alerts == 1) != wantFA {
				t.Errorf("false alarms = %d, want %v", r.FalseAlarms.Alerts, wantFA)
			}
			if c.want && len(r.Missed) != 0 || !c.want && len(r.Missed) != 1 {
				t.Errorf("missed = %v", r.Missed)
			}
		})
	}
}

// A user's app id is the client application (portal, CLI) every user
// shares: it does not identify the attacker. A service principal's does.
func TestScoreUserAppID(t *testing.T) {
	const portal = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
	user := scoreLabel()
	user.Entities = Entities{IPs: []string{"198.51.100.5"}, UPNs: []string{"eve@contoso.com"}, AppIDs: []string{portal}}
	sp := scoreLabel()
	sp.Entities = Entities{IPs: []string{"198.51.100.6"}, AppIDs: []string{"11111111-0000-4000-8000-000000000001"}}
	for _, c := range []struct {
		name  string
		label Label
		ents  Entities
		want  bool
	}{
		{"another portal user", user, Entities{IPs: []string{"192.0.2.1"}, UPNs: []string{"bob@contoso.com"}, AppIDs: []string{portal}}, false},
		{"the portal app id alone", user, Entities{AppIDs: []string{portal}}, false},
		{"the user", user, Entities{UPNs: []string{"Eve@Contoso.com"}, AppIDs: []string{portal}}, true},
		{"the user's address, another user", user, Entities{IPs: []string{"198.51.100.5"}, UPNs: []string{"bob@contoso.com"}}, false},
		{"the service principal's app id", sp, Entities{AppIDs: []string{"11111111-0000-4000-8000-000000000001"}}, true},
	} {
		a := scoreAlert(func(a *Alert) { a.Entities = c.ents })
		if got := Score([]Label{c.label}, []Alert{a}, 1).Detected == 1; got != c.want {
			t.Errorf("%s: matched = %v, want %v", c.name, got, c.want)
		}
	}
}

// A label's second vault matches too.
func TestScoreMultiVaultLabel(t *testing.T) {
	l := scoreLabel()
	l.Vaults = []string{"kv-a", "kv-pay"}
	r := Score([]Label{l}, []Alert{scoreAlert(nil)}, 10)
	if r.Detected != 1 {
		t.Fatalf("not detected: %+v", r)
	}
}

func TestScoreTolerance(t *testing.T) {
	a := scoreAlert(func(a *Alert) { a.StartTime, a.EndTime = scoreT0.Add(90*time.Minute), scoreT0.Add(100*time.Minute) })
	if r := ScoreWith([]Label{scoreLabel()}, []Alert{a}, 10, Tolerance{After: 10 * time.Minute}); r.Detected != 0 {
		t.Errorf("matched beyond a 10m tolerance")
	}
	if r := ScoreWith([]Label{scoreLabel()}, []Alert{a}, 10, Tolerance{After: 30 * time.Minute}); r.Detected != 1 {
		t.Errorf("not matched within a 30m tolerance")
	}
}

// Several alerts for one label: one detection, no false alarm, and the
// per-type detection counts the types that matched.
func TestScoreManyAlertsOneLabel(t *testing.T) {
	l := scoreLabel()
	l.ExpectedAlerts = []string{"tor-access", "list-then-get"}
	alerts := []Alert{
		scoreAlert(nil),
		scoreAlert(func(a *Alert) { a.Type = "high-volume-operations" }),
		scoreAlert(func(a *Alert) { a.StartTime = scoreT0.Add(30 * time.Minute); a.EndTime = a.StartTime }),
	}
	r := Score([]Label{l}, alerts, 10)
	if r.Labels != 1 || r.Detected != 1 || r.Recall != 1 || r.Alerts != 3 || r.FalseAlarms.Alerts != 0 {
		t.Fatalf("report: %+v", r)
	}
	got := map[string][2]int{}
	for _, ts := range r.AlertTypes {
		got[ts.Type] = [2]int{ts.Labels, ts.Detected}
	}
	want := map[string][2]int{"tor-access": {1, 1}, "list-then-get": {1, 0}}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("type %s: got %v, want %v", k, got[k], v)
		}
	}
	if _, ok := got["high-volume-operations"]; ok {
		t.Errorf("an unexpected type that matched a label is listed: %+v", r.AlertTypes)
	}
}

// False alarms are counted per alert and grouped by (vault, type, UTC day).
func TestScoreFalseAlarmGroups(t *testing.T) {
	day2 := scoreT0.Add(24 * time.Hour)
	at := func(vault, typ string, tm time.Time) Alert {
		return Alert{Type: typ, StartTime: tm, EndTime: tm, Vault: AlertVault{Name: vault}, Entities: Entities{IPs: []string{"198.51.100.1"}}}
	}
	alerts := []Alert{
		at("kv-a", "unusual-ip", scoreT0),
		at("kv-a", "unusual-ip", scoreT0.Add(3*time.Hour)), // same group
		at("KV-A", "unusual-ip", scoreT0.Add(5*time.Hour)), // same vault, other case
		at("kv-a", "unusual-user", scoreT0),                // other type
		at("kv-b", "unusual-ip", scoreT0),                  // other vault
		at("kv-a", "unusual-ip", day2),                     // other day
		at("kv-a", "unusual-ip", time.Date(2026, 10, 12, 23, 59, 59, 0, time.UTC)),
	}
	r := Score(nil, alerts, 400)
	if r.FalseAlarms.Alerts != 7 || r.FalseAlarms.Groups != 4 {
		t.Fatalf("false alarms %d in %d groups, want 7 in 4: %+v", r.FalseAlarms.Alerts, r.FalseAlarms.Groups, r.FalseAlarms.ByGroup)
	}
	if r.FalseAlarms.GroupsPer100VaultDays != 1 {
		t.Errorf("per 100 vault-days = %v, want 1", r.FalseAlarms.GroupsPer100VaultDays)
	}
	first := r.FalseAlarms.ByGroup[0]
	if first != (FalseAlarmGroup{Vault: "kv-a", Type: "unusual-ip", Day: "2026-10-12", Alerts: 4}) {
		t.Errorf("first group = %+v", first)
	}
	for _, ts := range r.AlertTypes {
		if ts.Type == "unusual-ip" && (ts.FalseAlarms != 6 || ts.FalseAlarmGroups != 3) {
			t.Errorf("unusual-ip: %+v", ts)
		}
	}
	if r.Recall != 0 || r.Labels != 0 {
		t.Errorf("recall without labels: %+v", r)
	}
	if r := Score(nil, alerts, 0); r.FalseAlarms.GroupsPer100VaultDays != 0 {
		t.Errorf("rate without vault-days = %v", r.FalseAlarms.GroupsPer100VaultDays)
	}
}

func TestScoreRecallPerScenario(t *testing.T) {
	mk := func(id, scen string, ip string, start time.Time) Label {
		l := scoreLabel()
		l.ID, l.Scenario, l.Start, l.End = id, scen, start, start.Add(time.Hour)
		l.Entities = Entities{IPs: []string{ip}}
		return l
	}
	labels := []Label{
		mk("a1", "tor-access", "203.0.113.1", scoreT0),
		mk("a2", "tor-access", "203.0.113.2", scoreT0.Add(48*time.Hour)),
		mk("a3", "tor-access", "203.0.113.3", scoreT0.Add(96*time.Hour)),
		mk("b1", "decoy-read", "203.0.113.4", scoreT0),
	}
	alerts := []Alert{
		scoreAlert(func(a *Alert) { a.Entities.IPs = []string{"203.0.113.1"} }),
		scoreAlert(func(a *Alert) {
			a.Entities.IPs = []string{"203.0.113.3"}
			a.StartTime, a.EndTime = scoreT0.Add(96*time.Hour), scoreT0.Add(97*time.Hour)
		}),
	}
	r := Score(labels, alerts, 10)
	want := []ScenarioScore{
		{Scenario: "decoy-read", Labels: 1, Detected: 0, Recall: 0},
		{Scenario: "tor-access", Labels: 3, Detected: 2, Recall: 2.0 / 3},
	}
	if !slices.Equal(r.Scenarios, want) {
		t.Errorf("scenarios = %+v, want %+v", r.Scenarios, want)
	}
	if r.Detected != 2 || r.Recall != 0.5 {
		t.Errorf("overall %d/%d = %v", r.Detected, r.Labels, r.Recall)
	}
	var missed []string
	for _, m := range r.Missed {
		missed = append(missed, m.ID)
	}
	if !slices.Equal(missed, []string{"b1", "a2"}) {
		t.Errorf("missed = %v, want [b1 a2] (by time)", missed)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"recall: 2 of 4 attacks detected (50%)", "tor-access", "67%", "missed attacks (2)", "b1"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text lacks %q:\n%s", s, text.String())
		}
	}
}

// The accepted shapes of an alert's entities and vault.
func TestReadAlertsShapes(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     Entities
		vault    AlertVault
	}{
		{
			"object of lists",
			`{"type":"t","startTime":"2026-10-12T10:00:00Z","endTime":"2026-10-12T10:05:00Z","vault":{"provider":"azure-keyvault","id":"/x/vaults/kv","name":"kv"},"entities":{"ips":["203.0.113.9"],"object_ids":["o1"],"upns":["u@x"],"app_ids":["a1"],"vault_entities":["e1"],"arns":["arn:aws:iam::1:user/x"]}}`,
			Entities{IPs: []string{"203.0.113.9"}, ObjectIDs: []string{"o1"}, UPNs: []string{"u@x"}, AppIDs: []string{"a1"}, VaultEntities: []string{"e1"}, ARNs: []string{"arn:aws:iam::1:user/x"}},
			AlertVault{Provider: "azure-keyvault", ID: "/x/vaults/kv", Name: "kv"},
		},
		{
			"object of singulars, ip with classification, nested caller",
			`{"type":"t","start_time":"2026-10-12T10:00:00Z","vault":"kv","entities":{"ip":{"address":"203.0.113.9","classification":"tor"},"caller":{"objectId":"o1","upn":"u@x","appId":"a1","display_name":"x"},"vaultEntity":"e1"}}`,
			Entities{IPs: []string{"203.0.113.9"}, ObjectIDs: []string{"o1"}, UPNs: []string{"u@x"}, AppIDs: []string{"a1"}, VaultEntities: []string{"e1"}},
			AlertVault{Name: "kv"},
		},
		{
			"list of type/value",
			`{"type":"t","startTime":"2026-10-12T10:00:00Z","vault":{"id":"vault:root:kv/"},"entities":[{"type":"ip","value":"203.0.113.9"},{"type":"objectId","value":"o1"},{"type":"ip","address":"198.51.100.2","classification":"reputation"},{"type":"display_name","value":"ignored"}]}`,
			Entities{IPs: []string{"203.0.113.9", "198.51.100.2"}, ObjectIDs: []string{"o1"}},
			AlertVault{ID: "vault:root:kv/"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			as, err := ReadAlerts(strings.NewReader(c.in + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			if len(as) != 1 {
				t.Fatalf("%d alerts", len(as))
			}
			got, _ := json.Marshal(as[0].Entities)
			want, _ := json.Marshal(c.want)
			if !bytes.Equal(got, want) {
				t.Errorf("entities\n got %s\nwant %s", got, want)
			}
			if as[0].Vault != c.vault {
				t.Errorf("vault = %+v", as[0].Vault)
			}
			if as[0].EndTime.Before(as[0].StartTime) || as[0].StartTime.IsZero() {
				t.Errorf("times %v %v", as[0].StartTime, as[0].EndTime)
			}
		})
	}
}

func TestReadAlertsForms(t *testing.T) {
	one := `{"type":"t","startTime":"2026-10-12T10:00:00Z","vault":"kv"}`
	for name, in := range map[string]string{
		"lines":  one + "\n\n" + one + "\n",
		"array":  "[" + one + ",\n" + one + "]",
		"pretty": "{\n  \"type\": \"t\",\n  \"startTime\": \"2026-10-12T10:00:00Z\",\n  \"vault\": \"kv\"\n}\n" + one,
	} {
		as, err := ReadAlerts(strings.NewReader(in))
		if err != nil || len(as) != 2 {
			t.Errorf("%s: %d alerts, %v", name, len(as), err)
		}
	}
	as, err := ReadAlerts(strings.NewReader(""))
	if err != nil || len(as) != 0 {
		t.Errorf("empty: %v %v", as, err)
	}
}

func TestReadErrorsNameTheLine(t *testing.T) {
	ok := `{"type":"t","startTime":"2026-10-12T10:00:00Z","vault":"kv"}`
	for _, c := range []struct{ in, want string }{
		{ok + "\n" + ok + "\n{nope\n", "alerts line 3"},
		{ok + "\n\n" + `{"startTime":"2026-10-12T10:00:00Z","vault":"kv"}`, "alerts line 3: alert has no type"},
		{`{"type":"t","vault":"kv"}`, "alerts line 1: alert has no startTime"},
		{ok + "\n" + `{"type":"t","startTime":"yesterday","vault":"kv"}`, "alerts line 2: starttime: not an RFC 3339 time"},
		{`{"type":"t","startTime":"2026-10-12T10:00:00Z"}`, "no vault"},
		{`{"type":"t","startTime":"2026-10-12T10:00:00Z","endTime":"2026-10-12T09:00:00Z","vault":"kv"}`, "before its startTime"},
		{"42\n", "alerts line 1: want a JSON object"},
	} {
		_, err := ReadAlerts(strings.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadAlerts(%q) = %v, want %q", c.in, err, c.want)
		}
	}
	l, _ := json.Marshal(scoreLabel())
	for _, c := range []struct{ in, want string }{
		{string(l) + "\n" + `{"id":"x","vaults":[],"start":"2026-10-12T10:00:00Z","end":"2026-10-12T11:00:00Z"}`, "labels line 2: label has no vault"},
		{`{"id":"x","vaults":["kv"]}`, "labels line 1: label has no start"},
		{`{"id":"x","vaults":["kv"],"start":"2026-10-12T12:00:00Z","end":"2026-10-12T11:00:00Z"}`, "ends before it starts"},
		{string(l) + "\n" + `{"id":`, "labels line 2"},
	} {
		_, err := ReadLabels(strings.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadLabels(%q) = %v, want %q", c.in, err, c.want)
		}
	}
}

// Labels written as JSON read back equal, and score against themselves:
// an alert built from each label detects it.
func TestReadLabelsRoundTrip(t *testing.T) {
	l := scoreLabel()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for i := range 3 {
		l.ID = "atk-" + string(rune('1'+i))
		if err := enc.Encode(l); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadLabels(&b)
	if err != nil || len(got) != 3 {
		t.Fatalf("%d labels, %v", len(got), err)
	}
	if got[2].ID != "atk-3" || !got[0].Start.Equal(l.Start) || got[1].Entities.IPs[0] != "203.0.113.9" {
		t.Errorf("labels = %+v", got)
	}
	if r := Score(got, []Alert{scoreAlert(nil)}, 1); r.Detected != 3 {
		t.Errorf("detected %d of 3", r.Detected)
	}
}
