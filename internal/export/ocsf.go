package export

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"vaultwatch/internal/alert"
)

// OCSF Detection Finding constants (OCSF 1.3.0).
const (
	OCSFVersion     = "1.3.0"
	OCSFClassUID    = 2004
	OCSFCategoryUID = 2

	// Activities.
	OCSFActivityCreate = 1
	OCSFActivityUpdate = 2
	OCSFActivityClose  = 3
)

// OCSF encodes a record as an OCSF 1.3 Detection Finding (class_uid 2004),
// so that SIEMs and data lakes that speak OCSF take vaultwatch's alerts as
// they are:
//
//   - activity_id: 1 Create for a new alert, 3 Close for a status change to
//     dismissed or resolved, 2 Update otherwise (a grown alert, another
//     status change, a snapshot); type_uid is 200400 + activity_id.
//   - severity_id: low 2, medium 3, high 4; status_id: active 1 New
//     (3 Suppressed when a suppression rule muted it), in-progress 2 In
//     Progress, dismissed 3 Suppressed, resolved 4 Resolved.
//   - finding_info.uid is the alert id (stable across the alert's
//     records); metadata.uid is the record's idempotency key.
//   - resources are the vaults, evidences the caller (actor.user, app) and
//     its addresses (src_endpoint), observables the addresses, the user
//     and the vault; remediation.desc is the response playbook.
//   - what OCSF has no place for is under unmapped.vaultwatch.
type OCSF struct {
	// ProductVersion is the vaultwatch release (metadata.product.version).
	ProductVersion string
}

var _ Format = OCSF{}

// Name returns "ocsf".
func (OCSF) Name() string { return FormatOCSF }

// JSON returns true.
func (OCSF) JSON() bool { return true }

type ocsfFinding struct {
	ActivityID   int    `json:"activity_id"`
	ActivityName string `json:"activity_name"`
	CategoryUID  int    `json:"category_uid"`
	CategoryName string `json:"category_name"`
	ClassUID     int    `json:"class_uid"`
	ClassName    string `json:"class_name"`
	TypeUID      int    `json:"type_uid"`
	TypeName     string `json:"type_name"`
	SeverityID   int    `json:"severity_id"`
	Severity     string `json:"severity"`
	StatusID     int    `json:"status_id"`
	Status       string `json:"status"`
	Time         int64  `json:"time"`
	StartTime    int64  `json:"start_time,omitempty"`
	EndTime      int64  `json:"end_time,omitempty"`
	Count        int    `json:"count,omitempty"`
	Message      string `json:"message,omitempty"`
	Comment      string `json:"comment,omitempty"`

	FindingInfo ocsfFindingInfo  `json:"finding_info"`
	Resources   []ocsfResource   `json:"resources,omitempty"`
	Evidences   []ocsfEvidence   `json:"evidences,omitempty"`
	Observables []ocsfObservable `json:"observables,omitempty"`
	Remediation *ocsfRemediation `json:"remediation,omitempty"`
	Metadata    ocsfMetadata     `json:"metadata"`
	Unmapped    *ocsfUnmapped    `json:"unmapped,omitempty"`
}

type ocsfFindingInfo struct {
	UID           string       `json:"uid"`
	Title         string       `json:"title"`
	Desc          string       `json:"desc,omitempty"`
	Types         []string     `json:"types,omitempty"`
	FirstSeenTime int64        `json:"first_seen_time,omitempty"`
	LastSeenTime  int64        `json:"last_seen_time,omitempty"`
	Analytic      ocsfAnalytic `json:"analytic"`
	Attacks       []ocsfAttack `json:"attacks,omitempty"`
}

type ocsfAnalytic struct {
	Name   string `json:"name"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
	UID    string `json:"uid"`
}

type ocsfAttack struct {
	Tactic       *ocsfNamed `json:"tactic,omitempty"`
	Technique    *ocsfNamed `json:"technique,omitempty"`
	SubTechnique *ocsfNamed `json:"sub_technique,omitempty"`
}

type ocsfNamed struct {
	Name string `json:"name,omitempty"`
	UID  string `json:"uid"`
}

type ocsfResource struct {
	UID            string `json:"uid,omitempty"`
	Name           string `json:"name,omitempty"`
	Type           string `json:"type,omitempty"`
	CloudPartition string `json:"cloud_partition,omitempty"`
	Region         string `json:"region,omitempty"`
}

type ocsfEvidence struct {
	Actor       *ocsfActor    `json:"actor,omitempty"`
	SrcEndpoint *ocsfEndpoint `json:"src_endpoint,omitempty"`
}

type ocsfActor struct {
	User    *ocsfUser `json:"user,omitempty"`
	AppName string    `json:"app_name,omitempty"`
	AppUID  string    `json:"app_uid,omitempty"`
}

type ocsfUser struct {
	UID       string `json:"uid,omitempty"`
	Name      string `json:"name,omitempty"`
	EmailAddr string `json:"email_addr,omitempty"`
}

type ocsfEndpoint struct {
	IP       string        `json:"ip"`
	Location *ocsfLocation `json:"location,omitempty"`
	AS       *ocsfAS       `json:"autonomous_system,omitempty"`
}

type ocsfLocation struct {
	Country string `json:"country"`
}

type ocsfAS struct {
	Number int    `json:"number,omitempty"`
	Name   string `json:"name,omitempty"`
}

type ocsfObservable struct {
	Name   string `json:"name"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
	Value  string `json:"value"`
}

type ocsfRemediation struct {
	Desc string `json:"desc"`
}

type ocsfMetadata struct {
	Version        string      `json:"version"`
	Product        ocsfProduct `json:"product"`
	UID            string      `json:"uid"`
	CorrelationUID string      `json:"correlation_uid,omitempty"`
	LoggedTime     int64       `json:"logged_time,omitempty"`
}

type ocsfProduct struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version,omitempty"`
}

// ocsfUnmapped is vaultwatch's own data, under unmapped.vaultwatch.
type ocsfUnmapped struct {
	Vaultwatch ocsfVaultwatch `json:"vaultwatch"`
}

type ocsfVaultwatch struct {
	Kind           string            `json:"kind"`
	Seq            int64             `json:"seq"`
	AlertStatus    string            `json:"alert_status,omitempty"`
	Version        int               `json:"version,omitempty"`
	SuppressedBy   string            `json:"suppressed_by,omitempty"`
	SnapshotID     string            `json:"snapshot_id,omitempty"`
	Change         *StatusChange     `json:"change,omitempty"`
	VaultProvider  string            `json:"vault_provider,omitempty"`
	Sample         bool              `json:"sample,omitempty"`
	Entities       *alert.Entities   `json:"entities,omitempty"`
	Evidence       *alert.Evidence   `json:"evidence,omitempty"`
	Facts          []alert.Fact      `json:"facts,omitempty"`
	Remediation    []alert.Step      `json:"remediation,omitempty"`
	Classification map[string]string `json:"ip_classification,omitempty"`
}

func ocsfMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// OCSFSeverityID maps an alert severity to the OCSF severity_id: low 2,
// medium 3, high 4, anything else 0 (Unknown).
func OCSFSeverityID(s alert.Severity) (int, string) {
	switch severityRank(s) {
	case 1:
		return 2, "Low"
	case 2:
		return 3, "Medium"
	case 3:
		return 4, "High"
	}
	return 0, "Unknown"
}

// OCSFStatusID maps a record's status to the OCSF finding status_id.
func OCSFStatusID(r *Record) (int, string) {
	switch r.Status {
	case StatusInProgress:
		return 2, "In Progress"
	case StatusDismissed:
		return 3, "Suppressed"
	case StatusResolved:
		return 4, "Resolved"
	}
	if r.SuppressedBy != "" {
		return 3, "Suppressed"
	}
	return 1, "New"
}

// OCSFActivityID returns the record's activity_id and its name.
func OCSFActivityID(r *Record) (int, string) {
	switch {
	case r.Kind == KindAlert && !r.Grown:
		return OCSFActivityCreate, "Create"
	case r.Kind == KindStatus && r.Closed():
		return OCSFActivityClose, "Close"
	}
	return OCSFActivityUpdate, "Update"
}

// providerResourceType names the kind of vault of a provider.
func providerResourceType(p string) (typ, partition string) {
	switch p {
	case "azure-keyvault":
		return "Azure Key Vault", ""
	case "hashicorp-vault":
		return "HashiCorp Vault", ""
	case "aws-secretsmanager":
		return "AWS Secrets Manager", "aws"
	case "aws-kms":
		return "AWS KMS", "aws"
	case "gcp-secretmanager":
		return "Google Cloud Secret Manager", ""
	}
	return p, ""
}

func ocsfResourceOf(v alert.Vault) ocsfResource {
	typ, partition := providerResourceType(v.Provider)
	res := ocsfResource{UID: v.ID, Name: v.Name, Type: typ, CloudPartition: partition}
	// arn:PARTITION:SERVICE:REGION:ACCOUNT:...
	if f := strings.SplitN(v.ID, ":", 5); len(f) == 5 && f[0] == "arn" {
		res.CloudPartition, res.Region = f[1], f[3]
	}
	return res
}

// attackNames are the MITRE ATT&CK names of the tactics and techniques the
// catalogue uses.
var attackNames = map[string]string{
	"initial-access":       "TA0001 Initial Access",
	"execution":            "TA0002 Execution",
	"persistence":          "TA0003 Persistence",
	"privilege-escalation": "TA0004 Privilege Escalation",
	"defense-evasion":      "TA0005 Defense Evasion",
	"credential-access":    "TA0006 Credential Access",
	"discovery":            "TA0007 Discovery",
	"lateral-movement":     "TA0008 Lateral Movement",
	"collection":           "TA0009 Collection",
	"exfiltration":         "TA0010 Exfiltration",
	"impact":               "TA0040 Impact",
	"T1555":                "Credentials from Password Stores",
	"T1555.006":            "Cloud Secrets Management Stores",
	"T1078":                "Valid Accounts",
	"T1078.004":            "Cloud Accounts",
	"T1580":                "Cloud Infrastructure Discovery",
	"T1098":                "Account Manipulation",
	"T1098.003":            "Additional Cloud Roles",
	"T1562":                "Impair Defenses",
	"T1562.008":            "Disable or Modify Cloud Logs",
	"T1485":                "Data Destruction",
	"T1110":                "Brute Force",
}

func ocsfAttacks(a *alert.Alert) []ocsfAttack {
	var tech, sub *ocsfNamed
	if a.Technique != "" {
		id, _, isSub := strings.Cut(a.Technique, ".")
		tech = &ocsfNamed{UID: id, Name: attackNames[id]}
		if isSub {
			sub = &ocsfNamed{UID: a.Technique, Name: attackNames[a.Technique]}
		}
	}
	var out []ocsfAttack
	for _, t := range a.Tactics {
		at := ocsfAttack{Technique: tech, SubTechnique: sub}
		if uid, name, ok := strings.Cut(attackNames[t], " "); ok {
			at.Tactic = &ocsfNamed{UID: uid, Name: name}
		} else {
			at.Tactic = &ocsfNamed{UID: t, Name: t}
		}
		out = append(out, at)
	}
	if len(out) == 0 && tech != nil {
		out = append(out, ocsfAttack{Technique: tech, SubTechnique: sub})
	}
	return out
}

func first(l []string) string {
	if len(l) > 0 {
		return l[0]
	}
	return ""
}

// ocsfUserOf is the alert's caller as an OCSF user, nil when it has none.
func ocsfUserOf(e *alert.Entities) *ocsfUser {
	u := &ocsfUser{}
	for _, l := range [][]string{e.ObjectIDs, e.VaultEntities, e.ARNs, e.Principals} {
		if len(l) > 0 {
			u.UID = l[0]
			break
		}
	}
	u.Name = first(e.UPNs)
	if u.Name == "" {
		u.Name = first(e.DisplayNames)
	}
	if u.Name == "" {
		u.Name = first(e.Principals)
	}
	for _, s := range append(append([]string(nil), e.UPNs...), e.Principals...) {
		if strings.Contains(s, "@") {
			u.EmailAddr = s
			break
		}
	}
	if *u == (ocsfUser{}) {
		return nil
	}
	return u
}

func formatSteps(steps []alert.Step) string {
	var b strings.Builder
	for i, s := range steps {
		if i > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(strconv.Itoa(i+1) + ". " + s.Title)
		if s.Text != "" {
			b.WriteString("\n" + s.Text)
		}
		for _, c := range s.Commands {
			b.WriteString("\n    " + c)
		}
	}
	return b.String()
}

// Append appends r as an OCSF Detection Finding.
func (o OCSF) Append(dst []byte, r *Record) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return dst, err
	}
	a := &r.Alert
	key := r.IdempotencyKey()
	f := ocsfFinding{
		CategoryUID:  OCSFCategoryUID,
		CategoryName: "Findings",
		ClassUID:     OCSFClassUID,
		ClassName:    "Detection Finding",
		Time:         ocsfMillis(r.At),
		StartTime:    ocsfMillis(a.StartTime),
		EndTime:      ocsfMillis(a.EndTime),
		Count:        a.Count,
		Message:      a.Title,
		FindingInfo: ocsfFindingInfo{
			UID:           a.ID,
			Title:         a.Title,
			Desc:          a.Explanation,
			Types:         []string{string(a.Type)},
			FirstSeenTime: ocsfMillis(a.StartTime),
			LastSeenTime:  ocsfMillis(a.EndTime),
			Analytic:      ocsfAnalytic{Name: string(a.Type), TypeID: 1, Type: "Rule", UID: string(a.Type)},
			Attacks:       ocsfAttacks(a),
		},
		Metadata: ocsfMetadata{
			Version:        OCSFVersion,
			Product:        ocsfProduct{Name: "vaultwatch", VendorName: "vaultwatch", Version: o.ProductVersion},
			UID:            key,
			CorrelationUID: a.ID,
		},
	}
	if f.Time == 0 {
		f.Time = ocsfMillis(a.EndTime)
	}
	f.ActivityID, f.ActivityName = OCSFActivityID(r)
	f.TypeUID = OCSFClassUID*100 + f.ActivityID
	f.TypeName = "Detection Finding: " + f.ActivityName
	f.SeverityID, f.Severity = OCSFSeverityID(a.Severity)
	f.StatusID, f.Status = OCSFStatusID(r)
	if r.Change != nil {
		f.Comment = r.Change.Comment
	}
	if a.Vault.ID != "" || a.Vault.Name != "" {
		f.Resources = append(f.Resources, ocsfResourceOf(a.Vault))
	}
	for _, v := range a.Vaults {
		if v.ID != a.Vault.ID {
			f.Resources = append(f.Resources, ocsfResourceOf(v))
		}
	}
	actor := &ocsfActor{User: ocsfUserOf(&a.Entities), AppUID: first(a.Entities.AppIDs)}
	if actor.User == nil && actor.AppUID == "" {
		actor = nil
	}
	var classes map[string]string
	for i, ip := range a.Entities.IPs {
		ep := &ocsfEndpoint{IP: ip.Address}
		if ip.Country != "" {
			ep.Location = &ocsfLocation{Country: ip.Country}
		}
		if ip.ASN != 0 {
			ep.AS = &ocsfAS{Number: int(ip.ASN), Name: ip.ASOrg}
		}
		ev := ocsfEvidence{SrcEndpoint: ep}
		if i == 0 {
			ev.Actor = actor
		}
		f.Evidences = append(f.Evidences, ev)
		f.Observables = append(f.Observables, ocsfObservable{
			Name: "evidences[" + strconv.Itoa(i) + "].src_endpoint.ip", TypeID: 2, Type: "IP Address", Value: ip.Address})
		if len(ip.Classification) > 0 {
			if classes == nil {
				classes = map[string]string{}
			}
			classes[ip.Address] = strings.Join(ip.Classification, ",")
		}
	}
	if len(f.Evidences) == 0 && actor != nil {
		f.Evidences = append(f.Evidences, ocsfEvidence{Actor: actor})
	}
	if actor != nil && actor.User != nil && actor.User.Name != "" {
		f.Observables = append(f.Observables, ocsfObservable{
			Name: "evidences[0].actor.user.name", TypeID: 4, Type: "User Name", Value: actor.User.Name})
	}
	if len(f.Resources) > 0 && f.Resources[0].UID != "" {
		f.Observables = append(f.Observables, ocsfObservable{
			Name: "resources[0].uid", TypeID: 10, Type: "Resource UID", Value: f.Resources[0].UID})
	}
	if len(a.Remediation) > 0 {
		f.Remediation = &ocsfRemediation{Desc: formatSteps(a.Remediation)}
	}
	vw := ocsfVaultwatch{
		Kind: r.Kind, Seq: r.Seq, AlertStatus: r.Status, Version: r.Version,
		SuppressedBy: r.SuppressedBy, SnapshotID: r.SnapshotID, Change: r.Change,
		VaultProvider: a.Vault.Provider, Sample: a.Sample, Facts: a.Facts,
		Classification: classes,
	}
	if !entitiesEmpty(&a.Entities) {
		vw.Entities = &a.Entities
	}
	if len(a.Evidence.Operations) > 0 || len(a.Evidence.Outcomes) > 0 || len(a.Evidence.Objects) > 0 {
		vw.Evidence = &a.Evidence
	}
	f.Unmapped = &ocsfUnmapped{Vaultwatch: vw}
	b, err := json.Marshal(&f)
	if err != nil {
		return dst, fmt.Errorf("record %d: %w", r.Seq, err)
	}
	return append(dst, b...), nil
}

func entitiesEmpty(e *alert.Entities) bool {
	return len(e.IPs) == 0 && len(e.ObjectIDs) == 0 && len(e.UPNs) == 0 && len(e.AppIDs) == 0 &&
		len(e.DisplayNames) == 0 && len(e.VaultEntities) == 0 && len(e.TokenAccessors) == 0 &&
		len(e.ARNs) == 0 && len(e.Principals) == 0 && len(e.UserAgents) == 0
}
