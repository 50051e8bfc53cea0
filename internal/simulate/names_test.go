package simulate

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"vaultwatch/internal/auditlog"
	"vaultwatch/internal/event"
)

// Labels name vaults as the logs do: for every operation of every
// provider, logVaultName agrees with the vault the reader finds in what
// the writers write.
func TestLogVaultNameMatchesTheLogs(t *testing.T) {
	o := NewOrg(Options{Seed: 3, Vaults: 3, Days: 8, LearningDays: 7, Formats: []Provider{Azure, HashiVault, AWS}})
	ops := []Op{OpSecretGet, OpSecretList, OpSecretVersions, OpSecretSet, OpSecretDelete, OpSecretPurge,
		OpSecretBackup, OpSecretRestore, OpSecretRecover, OpKeyGet, OpKeyList, OpKeyCreate, OpKeyRotate,
		OpKeyDelete, OpKeyBackup, OpKeyDecrypt, OpKeyEncrypt, OpKeyUnwrap, OpKeyWrap, OpKeySign, OpCertGet,
		OpCertList, OpCertCreate, OpCertImport, OpVaultGet, OpPolicyChange, OpNetworkChange, OpLogin,
		OpAuditDisable, OpAuditEnable, OpGenerateRoot, OpTokenLookup, OpVaultListAll}
	checked := 0
	for _, v := range o.Vaults {
		var pr *Principal
		for _, p := range o.Apps {
			for _, pv := range p.Vaults {
				if pv == v && pr == nil {
					pr = p
				}
			}
		}
		if pr == nil {
			t.Fatalf("vault %s has no app", v.Name)
		}
		for _, op := range ops {
			obj := ""
			switch {
			case len(v.Secrets) > 0 && (op == OpSecretGet || op == OpSecretSet || op == OpSecretDelete):
				obj = v.Secrets[0]
			case len(v.Keys) > 0 && op == OpKeyDecrypt:
				obj = v.Keys[0]
			case op == OpAuditDisable || op == OpAuditEnable:
				obj = "syslog"
			}
			a := Access{Time: o.TestStart().Add(time.Hour), Vault: v, Principal: pr, Op: op, Object: obj,
				IP: netip.MustParseAddr("20.50.1.2"), Status: 200}
			dir := t.TempDir()
			w := map[Provider]func(string, *Org, uint64) Writer{Azure: NewAzureWriter, HashiVault: NewVaultWriter, AWS: NewCloudTrailWriter}[v.Provider](dir, o, 1)
			if err := w.Write(&a); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			var names []string
			r := auditlog.NewReader(func(e *event.Event) { names = append(names, e.Vault.Name) })
			if err := r.ReadPaths(context.Background(), []string{dir}); err != nil {
				t.Fatal(err)
			}
			if r.Stats.Malformed > 0 {
				t.Fatalf("%s %s: malformed %v", v.Provider, op, r.Stats.Problems)
			}
			for _, n := range names {
				checked++
				if want := logVaultName(&a); n != want {
					t.Errorf("%s %s on %s: the log names vault %q, logVaultName %q", v.Provider, op, v.Name, n, want)
				}
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d events checked", checked)
	}
}
