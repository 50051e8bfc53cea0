package auditlog

import (
	"vaultwatch/internal/auditlog/azurekv"
	"vaultwatch/internal/auditlog/cloudtrail"
	"vaultwatch/internal/auditlog/gcpaudit"
	"vaultwatch/internal/auditlog/hashivault"
	"vaultwatch/internal/auditlog/record"
)

// Formats returns every supported format, most common first: the order in
// which a record of unknown format is tried.
func Formats() []record.Format {
	return []record.Format{azurekv.Format, hashivault.Format, cloudtrail.Format, gcpaudit.Format}
}
