// Package alert is what detection produces: the Alert, with its entities,
// its evidence (the secrets, keys and certificates the suspicious caller
// touched, with times), the explanation of why it is unusual, and the
// response playbook filled in with its entities and the provider's real
// commands. The alert types are a stable API: their ids never change.
package alert

import (
	"time"
)

// Type is an alert type id, e.g. "tor-access".
type Type string

// Severity of an alert.
type Severity string

// Severities, lowest first.
const (
	SeverityLow    Severity = "low"
	SeverityMedium Severity = "medium"
	SeverityHigh   Severity = "high"
)

// Alert is one detection: one (type, vault, principal, burst) with counts
// and a time window, however many events it covers.
type Alert struct {
	ID        string    `json:"id"`
	Type      Type      `json:"type"`
	Title     string    `json:"title"`
	Severity  Severity  `json:"severity"`
	Tactics   []string  `json:"tactics"`
	Technique string    `json:"technique,omitempty"` // MITRE ATT&CK id, e.g. "T1555"
	StartTime time.Time `json:"startTime"`
	EndTime   time.Time `json:"endTime"`
	Vault     Vault     `json:"vault"`
	// Vaults lists every vault involved, for cross-vault alerts
	// (denied-many-vaults, many-vaults, cross-provider-access).
	Vaults      []Vault  `json:"vaults,omitempty"`
	Entities    Entities `json:"entities"`
	Evidence    Evidence `json:"evidence"`
	Explanation string   `json:"explanation"`
	Remediation []Step   `json:"remediation"`
	Count       int      `json:"count"` // events that triggered it
	Sample      bool     `json:"sample,omitempty"`
	Facts       []Fact   `json:"facts,omitempty"` // the numbers behind the explanation
}

// Vault identifies the vault of an alert.
type Vault struct {
	Provider string `json:"provider"`
	ID       string `json:"id"`
	Name     string `json:"name"`
}

// Entities are who and where: the caller and its address.
type Entities struct {
	IPs            []IP     `json:"ips,omitempty"`
	ObjectIDs      []string `json:"object_ids,omitempty"`
	UPNs           []string `json:"upns,omitempty"`
	AppIDs         []string `json:"app_ids,omitempty"`
	DisplayNames   []string `json:"display_names,omitempty"`
	VaultEntities  []string `json:"vault_entities,omitempty"`
	TokenAccessors []string `json:"token_accessors,omitempty"`
	ARNs           []string `json:"arns,omitempty"`
	Principals     []string `json:"principal_emails,omitempty"` // GCP
	UserAgents     []string `json:"user_agents,omitempty"`
}

// IP is an address with what is known of it.
type IP struct {
	Address string `json:"address"`
	// Classification: "tor", "reputation:<list>", "cloud:azure", "cloud:aws",
	// "cloud:gcp", "service:<tag>", "region:<region>", "country:<ISO code>",
	// "asn:AS<number>", "private", "public".
	Classification []string `json:"classification,omitempty"`
	Country        string   `json:"country,omitempty"` // ISO 3166-1 alpha-2, with --geoip
	ASN            uint32   `json:"asn,omitempty"`     // autonomous system, with --geoip
	ASOrg          string   `json:"as_org,omitempty"`  // its organisation
}

// Evidence is what the suspicious caller did in the alert's window.
type Evidence struct {
	// Operations counts calls by operation name.
	Operations map[string]int `json:"operations"`
	// Outcomes counts calls by outcome.
	Outcomes map[string]int `json:"outcomes,omitempty"`
	// Objects are the secrets, keys and certificates touched, by first
	// access.
	Objects []Object `json:"objects,omitempty"`
}

// Object is one secret, key or certificate the caller touched.
type Object struct {
	Kind  string    `json:"kind"`
	Name  string    `json:"name"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	Count int       `json:"count"`
	// Operations on it, by name.
	Operations map[string]int `json:"operations,omitempty"`
	// NormalReaders are the identities that normally read it: those that
	// must receive the value when it is rotated.
	NormalReaders []string `json:"normal_readers,omitempty"`
}

// Fact is one number behind an explanation, for machines.
type Fact struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// Step is one step of the response playbook.
type Step struct {
	Title    string   `json:"title"`
	Text     string   `json:"text"`
	Commands []string `json:"commands,omitempty"`
}
