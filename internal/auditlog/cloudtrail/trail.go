package cloudtrail

import (
	"strings"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
)

// sourceCloudTrail is CloudTrail's own event source: the calls that change
// what the account's trails and event data stores record.
const sourceCloudTrail = "cloudtrail.amazonaws.com"

// trailChange describes a CloudTrail call that can reduce what is logged:
// the request parameter naming the trail or event data store, and what the
// call does when the request tells no more.
type trailChange struct {
	param  string // requestParameters key naming the trail or event data store
	did    string // what a successful call did
	detail func(params *fastjson.Value) []string
}

// trailChanges are the CloudTrail calls read as audit-configuration
// changes. Other CloudTrail calls (DescribeTrails, GetTrailStatus,
// LookupEvents, StartLogging, CreateTrail...) read or add logging and are
// skipped with the reason "service cloudtrail.amazonaws.com".
var trailChanges = map[string]trailChange{
	"StopLogging":                 {param: "name", did: "stopped CloudTrail logging of the trail"},
	"DeleteTrail":                 {param: "name", did: "deleted the CloudTrail trail"},
	"UpdateTrail":                 {param: "name", did: "changed the CloudTrail trail", detail: updateTrailDetail},
	"PutEventSelectors":           {param: "trailName", did: "changed the event selectors of the trail", detail: selectorsDetail},
	"PutInsightSelectors":         {param: "trailName", did: "changed the Insights selectors of the trail"},
	"DeleteEventDataStore":        {param: "eventDataStore", did: "deleted the CloudTrail Lake event data store"},
	"StopEventDataStoreIngestion": {param: "eventDataStore", did: "stopped ingestion into the CloudTrail Lake event data store"},
	"UpdateEventDataStore":        {param: "eventDataStore", did: "changed the CloudTrail Lake event data store", detail: updateDataStoreDetail},
}

// trailEvent fills the operation and object of a CloudTrail call that
// changes logging: class audit-config, the trail or event data store as a
// path object (its name or ARN as the request gives it) and, for a
// successful call, what the call did in Operation.Detail. Nothing but fixed
// words and service names is taken from the request.
func (d *Decoder) trailEvent(tc trailChange, params *fastjson.Value, failed bool) {
	e := &d.ev
	e.Operation.Class = event.ClassAuditConfig
	name := record.Str(params, tc.param)
	if len(name) == 0 && tc.param != "name" {
		name = record.Str(params, "name")
	}
	if len(name) > 0 {
		e.Object = event.Object{Kind: event.KindPath, Name: d.in.Bytes(name)}
	}
	if failed {
		return
	}
	detail := tc.did
	if tc.detail != nil {
		if parts := tc.detail(params); len(parts) > 0 {
			detail += ": " + strings.Join(parts, ", ")
		}
	}
	e.Operation.Detail = d.in.String(detail)
}

// Services whose events are the vault accesses vaultwatch reads, as
// CloudTrail's event selectors name them.
var vaultSources = [...]struct{ source, name string }{
	{sourceSecretsManager, "Secrets Manager"},
	{sourceKMS, "KMS"},
}

// selectorsDetail tells what PutEventSelectors leaves logged of the
// management events (Secrets Manager and KMS calls are management events):
// basic eventSelectors or advancedEventSelectors.
func selectorsDetail(params *fastjson.Value) []string {
	if adv := params.GetArray("advancedEventSelectors"); adv != nil {
		return advancedDetail(adv)
	}
	sels := params.GetArray("eventSelectors")
	if sels == nil {
		return nil
	}
	mgmt, reads, writes := false, false, false
	excluded := map[string]bool{}
	first := true
	for _, s := range sels {
		if inc, ok := record.Bool(s, "includeManagementEvents"); ok && !inc {
			continue
		}
		// includeManagementEvents defaults to true.
		mgmt = true
		switch string(record.Str(s, "readWriteType")) {
		case "ReadOnly":
			reads = true
		case "WriteOnly":
			writes = true
		default: // All, the default
			reads, writes = true, true
		}
		// A source is excluded only when every selector logging management
		// events excludes it.
		ex := map[string]bool{}
		for _, x := range s.GetArray("excludeManagementEventSources") {
			b, _ := x.StringBytes()
			ex[string(b)] = true
		}
		for _, vs := range vaultSources {
			if first {
				excluded[vs.source] = ex[vs.source]
			} else {
				excluded[vs.source] = excluded[vs.source] && ex[vs.source]
			}
		}
		first = false
	}
	return mgmtDetail(mgmt, reads, writes, excluded)
}

// advancedDetail is selectorsDetail for advanced event selectors: a
// selector logs management events when its eventCategory field equals
// Management; readOnly and eventSource fields narrow it.
func advancedDetail(sels []*fastjson.Value) []string {
	mgmt, reads, writes := false, false, false
	excluded := map[string]bool{}
	first := true
	for _, s := range sels {
		isMgmt := false
		r, w := true, true
		ex := map[string]bool{}
		only := map[string]bool{}
		hasOnly := false
		for _, f := range s.GetArray("fieldSelectors") {
			field := string(record.Str(f, "field"))
			equals := strs(f.GetArray("equals"))
			switch field {
			case "eventCategory":
				isMgmt = equals["Management"]
			case "readOnly":
				if equals["true"] && !equals["false"] {
					w = false
				} else if equals["false"] && !equals["true"] {
					r = false
				}
			case "eventSource":
				for k := range strs(f.GetArray("notEquals")) {
					ex[k] = true
				}
				if len(equals) > 0 {
					hasOnly = true
					for k := range equals {
						only[k] = true
					}
				}
			}
		}
		if !isMgmt {
			continue
		}
		mgmt = true
		reads = reads || r
		writes = writes || w
		for _, vs := range vaultSources {
			out := ex[vs.source] || (hasOnly && !only[vs.source])
			if first {
				excluded[vs.source] = out
			} else {
				excluded[vs.source] = excluded[vs.source] && out
			}
		}
		first = false
	}
	return mgmtDetail(mgmt, reads, writes, excluded)
}

// mgmtDetail words what the selectors leave logged of management events.
func mgmtDetail(mgmt, reads, writes bool, excluded map[string]bool) []string {
	if !mgmt {
		return []string{"management events (every Secrets Manager and KMS call) no longer logged"}
	}
	var out []string
	switch {
	case !reads:
		out = append(out, "read management events (secret reads, decrypts) no longer logged")
	case !writes:
		out = append(out, "write management events no longer logged")
	}
	for _, vs := range vaultSources {
		if excluded[vs.source] {
			out = append(out, vs.name+" events excluded")
		}
	}
	if len(out) == 0 {
		out = append(out, "management events still logged")
	}
	return out
}

// strs returns the string elements of a as a set.
func strs(a []*fastjson.Value) map[string]bool {
	m := make(map[string]bool, len(a))
	for _, x := range a {
		if b, err := x.StringBytes(); err == nil {
			m[string(b)] = true
		}
	}
	return m
}

// updateTrailDetail tells which settings of UpdateTrail can hide or divert
// the record.
func updateTrailDetail(params *fastjson.Value) []string {
	var out []string
	if len(record.Str(params, "s3BucketName")) > 0 {
		out = append(out, "log files delivered to another S3 bucket")
	}
	if v, ok := record.Bool(params, "isMultiRegionTrail"); ok && !v {
		out = append(out, "other regions no longer logged")
	}
	if v, ok := record.Bool(params, "includeGlobalServiceEvents"); ok && !v {
		out = append(out, "global service events no longer logged")
	}
	if v, ok := record.Bool(params, "enableLogFileValidation"); ok && !v {
		out = append(out, "log file validation turned off")
	}
	if params.Get("kmsKeyId") != nil {
		out = append(out, "log encryption key changed")
	}
	if params.Get("cloudWatchLogsLogGroupArn") != nil {
		out = append(out, "CloudWatch Logs delivery changed")
	}
	return out
}

// updateDataStoreDetail tells which settings of UpdateEventDataStore can
// hide the record.
func updateDataStoreDetail(params *fastjson.Value) []string {
	var out []string
	if adv := params.GetArray("advancedEventSelectors"); adv != nil {
		out = append(out, advancedDetail(adv)...)
	}
	if v, ok := record.Bool(params, "multiRegionEnabled"); ok && !v {
		out = append(out, "other regions no longer logged")
	}
	if v, ok := record.Bool(params, "organizationEnabled"); ok && !v {
		out = append(out, "other accounts of the organization no longer logged")
	}
	if params.Get("retentionPeriod") != nil {
		out = append(out, "retention period changed")
	}
	return out
}
