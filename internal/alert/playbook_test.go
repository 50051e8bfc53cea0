package alert

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"vaultwatch/internal/testutil"
)

// TestWriteTextGolden renders every test case in full, playbook included.
func TestWriteTextGolden(t *testing.T) {
	for name, a := range playbookCases() {
		t.Run(name, func(t *testing.T) {
			a.Fill()
			var b bytes.Buffer
			if err := WriteText(&b, &a); err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, filepath.Join("testdata", name, "want.txt"), b.Bytes())
		})
	}
}

func allCommands(a *Alert) []string {
	var c []string
	for _, s := range Playbook(a) {
		c = append(c, s.Commands...)
	}
	return c
}

func TestPlaybookShape(t *testing.T) {
	for name, a := range playbookCases() {
		steps := Playbook(&a)
		titles := []string{}
		for _, s := range steps {
			titles = append(titles, s.Title)
			if s.Text == "" {
				t.Errorf("%s: step %q has no text", name, s.Title)
			}
		}
		if !slices.Equal(titles, []string{StepIdentify, StepRespond, StepMeasure, StepRotate}) {
			t.Errorf("%s: steps %v", name, titles)
		}
		// Step 4 names every object and its normal readers.
		for _, o := range a.Evidence.Objects {
			if !strings.Contains(steps[3].Text, clean(o.Name)) {
				t.Errorf("%s: step 4 does not name %q", name, o.Name)
			}
			for _, r := range o.NormalReaders {
				if !strings.Contains(steps[3].Text, clean(r)) {
					t.Errorf("%s: step 4 does not name reader %q of %q", name, r, o.Name)
				}
			}
		}
		if len(steps[0].Commands) == 0 || len(steps[2].Commands) == 0 {
			t.Errorf("%s: no commands to identify the source or measure the impact", name)
		}
	}
}

// TestPlaybookCommandsContain checks provider commands the issue names.
func TestPlaybookCommandsContain(t *testing.T) {
	cases := playbookCases()
	tests := []struct {
		name string
		want []string
	}{
		{"azure-tor-access-user", []string{
			"az ad user update --id alice@contoso.com --account-enabled false",
			"az keyvault delete-policy --name kv-payments-prod --object-id 3f1c2a9e-5b7d-4e21-9c0a-7d6e5f4a3b21",
			"az keyvault secret set --vault-name kv-payments-prod --name payments-db-password --file new-value.txt",
			`az keyvault secret set-attributes --vault-name kv-payments-prod --name payments-db-password --version "$OLD_VERSION" --enabled false`,
			"az keyvault key rotate --vault-name kv-payments-prod --name payments-signing",
			`CallerIpAddress == "185.220.101.34"`,
		}},
		{"azure-destructive-burst-sp", []string{
			"az keyvault update --name kv-orders --enable-purge-protection true",
			"az keyvault secret recover --vault-name kv-orders --name orders-queue",
			"az keyvault secret restore --vault-name kv-orders --file orders-db.backup",
			"az ad app credential list --id a1b2c3d4-0000-4000-8000-00000000abcd",
		}},
		{"vault-privileged-token-use", []string{
			"vault operator generate-root -cancel",
			`vault token revoke -namespace=team-a -accessor "$ACCESSOR"`,
			"sys/audit-hash/$AUDIT_DEVICE",
			"vault kv put -namespace=team-a -mount=kv-team app/billing/db @new-value.json",
			"vault write -namespace=team-a -f kv-team/keys/billing/rotate",
		}},
		{"vault-decoy-approle", []string{
			"vault write identity/entity/id/7c3f1d2e-aaaa-bbbb-cccc-0123456789ab disabled=true",
			"secret-id-accessor/destroy",
			"vault kv metadata get -mount=secret prod/aws-root-keys",
		}},
		{"vault-audit-tampering", []string{
			`vault audit enable -path=splunk file file_path="$AUDIT_LOG"`,
			"vault write identity/entity/id/9a4181e3-c90c-48d0-a016-23229fedd937 disabled=true",
		}},
		{"aws-audit-tampering", []string{
			"aws cloudtrail start-logging --name arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-trail --region eu-west-1",
			"aws cloudtrail get-event-selectors --trail-name arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-trail --region eu-west-1",
			"aws cloudtrail put-event-selectors --trail-name arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-trail --event-selectors file://event-selectors.json",
			"aws cloudtrail restore-event-data-store --event-data-store arn:aws:cloudtrail:eu-west-1:111122223333:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE",
			"aws cloudtrail start-event-data-store-ingestion --event-data-store arn:aws:cloudtrail:eu-west-1:111122223333:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE",
			"aws cloudtrail lookup-events --region eu-west-1 --lookup-attributes AttributeKey=EventName,AttributeValue=StopLogging",
			"AttributeKey=EventName,AttributeValue=PutEventSelectors",
			"aws iam put-role-policy --role-name OrganizationAccountAccessRole --policy-name AWSRevokeOlderSessions",
		}},
		{"aws-audit-tampering-trail-deleted", []string{
			`aws cloudtrail create-trail --name audit-trail --s3-bucket-name "$LOG_BUCKET" --is-multi-region-trail --enable-log-file-validation --region eu-west-1`,
			"aws cloudtrail start-logging --name audit-trail --region eu-west-1",
			"aws cloudtrail get-event-selectors --trail-name audit-trail --region eu-west-1",
			"aws cloudtrail lookup-events --region eu-west-1 --lookup-attributes AttributeKey=EventName,AttributeValue=StopLogging",
			"AttributeKey=EventName,AttributeValue=DeleteTrail",
		}},
		{"azure-audit-tampering", []string{
			"az monitor diagnostic-settings list --resource /subscriptions/3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b/resourcegroups/rg-payments/providers/microsoft.keyvault/vaults/kv-payments-prod",
			`az monitor diagnostic-settings create --name send-to-sentinel --resource /subscriptions/3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b/resourcegroups/rg-payments/providers/microsoft.keyvault/vaults/kv-payments-prod --workspace "$WORKSPACE_RESOURCE_ID" --logs '[{"category":"AuditEvent","enabled":true}]'`,
			"az monitor activity-log list --resource-id /subscriptions/3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b/resourcegroups/rg-payments/providers/microsoft.keyvault/vaults/kv-payments-prod --offset 7d",
			"az ad user update --id jan.kowalski@contoso.com --account-enabled false",
		}},
		{"aws-list-then-get-role", []string{
			"aws iam put-role-policy --role-name ci-deploy --policy-name AWSRevokeOlderSessions",
			"aws secretsmanager rotate-secret --secret-id prod/rds/master --region eu-west-1",
			"aws secretsmanager get-resource-policy --secret-id prod/stripe --region eu-west-1",
			"aws cloudtrail lookup-events --region eu-west-1",
		}},
		{"aws-kms-crypto-volume-user", []string{
			`aws iam update-access-key --user-name bob --access-key-id "$ACCESS_KEY_ID" --status Inactive`,
			"aws kms list-grants --key-id 1234abcd-12ab-34cd-56ef-1234567890ab --region us-east-1",
			"aws kms rotate-key-on-demand --key-id 1234abcd-12ab-34cd-56ef-1234567890ab --region us-east-1",
			"AttributeValue=kms.amazonaws.com",
		}},
		{"gcp-unusual-ip-sa", []string{
			`gcloud iam service-accounts keys disable "$KEY_ID" --iam-account checkout@shop-prod-4821.iam.gserviceaccount.com`,
			"gcloud secrets remove-iam-policy-binding checkout-api-key --project shop-prod-4821 --member serviceAccount:checkout@shop-prod-4821.iam.gserviceaccount.com --role roles/secretmanager.secretAccessor",
			"gcloud secrets versions add checkout-api-key --project shop-prod-4821 --data-file new-value.txt",
			`protoPayload.requestMetadata.callerIp="34.90.1.2"`,
		}},
		{"cross-provider-access", []string{"az keyvault show --name kv-web", "gcloud logging read", "--project web-prod", "aws cloudtrail lookup-events --region us-west-2"}},
	}
	for _, tt := range tests {
		a := cases[tt.name]
		all := strings.Join(allCommands(&a), "\n")
		for _, w := range tt.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: no command contains %q\ncommands:\n%s", tt.name, w, all)
			}
		}
	}
}

// TestPlaybookNoSecretValues: no command asks for a value on its command
// line.
func TestPlaybookNoSecretValues(t *testing.T) {
	for name, a := range playbookCases() {
		for _, c := range allCommands(&a) {
			for _, bad := range []string{"--value ", "--secret-string '", "--secret-string \"", "password="} {
				if strings.Contains(c, bad) {
					t.Errorf("%s: %q puts a value on the command line", name, c)
				}
			}
		}
	}
}

// TestPlaybookCommandsRunInShell runs every command of every case in bash,
// with az, vault, aws, gcloud and jq replaced by functions that record
// their arguments: every command must parse, no value from the alert may
// run as code, and the nasty object names must arrive as single arguments.
func TestPlaybookCommandsRunInShell(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not found")
	}
	const stubs = `rec() { for a in "$@"; do printf '%s\0' "$a" >> args; done; }
az() { rec "$@"; }; vault() { rec "$@"; printf 'x\n'; }; aws() { rec "$@"; }; gcloud() { rec "$@"; }; jq() { rec "$@"; printf 'acc1\n'; }
`
	cases := playbookCases()
	for name, a := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for _, c := range allCommands(&a) {
				cmd := exec.Command(bash, "--norc", "--noprofile", "-c", stubs+c)
				cmd.Dir = dir
				cmd.Env = []string{"PATH=/nonexistent", "AUDIT_LOG=audit.log"}
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("%s\n%v: %s", c, err, out)
				}
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if strings.HasPrefix(e.Name(), "pwned") {
					t.Errorf("a value from the alert ran as code: %s exists", e.Name())
				}
			}
			if name != "azure-nasty-names" {
				return
			}
			raw, err := os.ReadFile(filepath.Join(dir, "args"))
			if err != nil {
				t.Fatal(err)
			}
			args := strings.Split(string(raw), "\x00")
			for _, want := range []string{"it's a `secret`", "line\nbreak $(touch pwned-name)", "oid'; touch pwned-oid #", "$(touch pwned-app)"} {
				if !slices.Contains(args, want) {
					t.Errorf("%q never arrived as one argument", want)
				}
			}
		})
	}
}

var nastyValues = []struct {
	name, in, want string
}{
	{"plain", "db-password", "db-password"},
	{"path", "app/svc01/db", "app/svc01/db"},
	{"email", "sa@p.iam.gserviceaccount.com", "sa@p.iam.gserviceaccount.com"},
	{"arn", "arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/alice"},
	{"empty", "", "''"},
	{"space", "my secret", "'my secret'"},
	{"single quote", "it's", `'it'\''s'`},
	{"double quote", `say "hi"`, `'say "hi"'`},
	{"command substitution", "$(touch pwned)", "'$(touch pwned)'"},
	{"backticks", "`touch pwned`", "'`touch pwned`'"},
	{"variable", "$HOME", "'$HOME'"},
	{"glob", "*", "'*'"},
	{"semicolon", "x; rm -rf /", "'x; rm -rf /'"},
	{"newline", "a\nb", `$'a\nb'`},
	{"newline and quote", "it's\n$(x)", `$'it\'s\n$(x)'`},
	{"escape sequence", "\x1b[2Jx", `$'\x1b[2Jx'`},
	{"backslash with control", "a\\\tb", `$'a\\\tb'`},
	{"backslash", `a\b`, `'a\b'`},
	{"unicode", "clé-secrète", "'clé-secrète'"},
	{"leading dash", "-x", "-x"},
}

func TestShellQuote(t *testing.T) {
	for _, tt := range nastyValues {
		if got := shellQuote(tt.in); got != tt.want {
			t.Errorf("%s: shellQuote(%q) = %s, want %s", tt.name, tt.in, got, tt.want)
		}
	}
}

// TestShellQuoteBash runs every quoted value through a real shell and
// checks that it arrives as exactly one argument, unchanged.
func TestShellQuoteBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not found")
	}
	dir := t.TempDir()
	for _, tt := range nastyValues {
		cmd := exec.Command(bash, "--norc", "--noprofile", "-c", `f() { printf '%s\0' "$#" "$@"; }; f `+shellQuote(tt.in))
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		parts := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
		if len(parts) != 2 || parts[0] != "1" || parts[1] != tt.in {
			t.Errorf("%s: the shell saw %q, want one argument %q", tt.name, parts, tt.in)
		}
	}
}

func TestStrLit(t *testing.T) {
	for _, s := range []string{"plain", `quo"te`, `back\slash`, "new\nline", "<html>&"} {
		lit := strLit(s)
		var back string
		if err := json.Unmarshal([]byte(lit), &back); err != nil || back != s {
			t.Errorf("strLit(%q) = %s: does not read back (%v)", s, lit, err)
		}
		if strings.ContainsAny(lit, "\n") || !strings.HasPrefix(lit, `"`) {
			t.Errorf("strLit(%q) = %s: want one double-quoted line", s, lit)
		}
		if uq, err := strconv.Unquote(lit); err == nil && uq != s {
			t.Errorf("strLit(%q) = %s reads as %q", s, lit, uq)
		}
	}
}

// shellUnquote reads one word in the subset of shell syntax shellQuote
// writes: plain words, single-quoted runs joined by escaped quotes, and
// ANSI-C $'...' runs.
func shellUnquote(w string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(w); {
		switch {
		case strings.HasPrefix(w[i:], "$'"):
			i += 2
			for {
				if i >= len(w) {
					return "", errors.New("unterminated $'")
				}
				c := w[i]
				if c == '\'' {
					i++
					break
				}
				if c != '\\' {
					b.WriteByte(c)
					i++
					continue
				}
				if i+1 >= len(w) {
					return "", errors.New("dangling backslash")
				}
				switch e := w[i+1]; e {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				case 'r':
					b.WriteByte('\r')
				case '\\', '\'':
					b.WriteByte(e)
				case 'x':
					if i+3 >= len(w) {
						return "", errors.New("short \\x")
					}
					v, err := strconv.ParseUint(w[i+2:i+4], 16, 8)
					if err != nil {
						return "", err
					}
					b.WriteByte(byte(v))
					i += 2
				default:
					return "", errors.New("unknown escape")
				}
				i += 2
			}
		case w[i] == '\'':
			j := strings.IndexByte(w[i+1:], '\'')
			if j < 0 {
				return "", errors.New("unterminated '")
			}
			b.WriteString(w[i+1 : i+1+j])
			i += j + 2
		case w[i] == '\\' && i+1 < len(w):
			b.WriteByte(w[i+1])
			i += 2
		default:
			c := w[i]
			if c <= ' ' || strings.IndexByte("'\"$`\\;&|<>()*?[]#~{}!", c) >= 0 {
				return "", errors.New("unquoted special character " + strconv.QuoteRune(rune(c)))
			}
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

func FuzzShellQuote(f *testing.F) {
	for _, tt := range nastyValues {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := shellQuote(s)
		for i := 0; i < len(q); i++ {
			if q[i] < 0x20 || q[i] == 0x7f {
				t.Fatalf("shellQuote(%q) = %q holds a control character", s, q)
			}
		}
		got, err := shellUnquote(q)
		if err != nil || got != s {
			t.Fatalf("shellQuote(%q) = %s reads back as %q (%v)", s, q, got, err)
		}
	})
}

var t0 = time.Date(2026, 11, 20, 9, 12, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

// testCases are alerts of each provider and several types, as detectors
// would raise them (before Fill).
// playbookCases are testCases and the audit-tampering alerts of providers
// other than Vault (kept out of the rendered table).
func playbookCases() map[string]Alert {
	m := testCases()
	for k, v := range auditConfigCases() {
		m[k] = v
	}
	return m
}

// auditConfigCases are audit-tampering alerts on AWS (CloudTrail trail and
// event data store changes) and Azure (a diagnostic setting deleted).
func auditConfigCases() map[string]Alert {
	return map[string]Alert{
		"aws-audit-tampering": {
			Type: AuditTampering, StartTime: at(0), EndTime: at(2), Count: 3,
			Vault: Vault{Provider: "aws-secretsmanager", ID: "aws:111122223333:eu-west-1", Name: "111122223333/eu-west-1"},
			Entities: Entities{
				IPs:  []IP{{Address: "203.0.113.77", Classification: []string{"public"}}},
				ARNs: []string{"arn:aws:sts::111122223333:assumed-role/OrganizationAccountAccessRole/mallory"},
			},
			Evidence: Evidence{
				Operations: map[string]int{"StopLogging": 1, "PutEventSelectors": 1, "DeleteEventDataStore": 1},
				Outcomes:   map[string]int{"success": 3},
				Objects: []Object{
					{Kind: "path", Name: "arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-trail", First: at(0), Last: at(1), Count: 2, Operations: map[string]int{"StopLogging": 1, "PutEventSelectors": 1}},
					{Kind: "path", Name: "arn:aws:cloudtrail:eu-west-1:111122223333:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE", First: at(2), Last: at(2), Count: 1, Operations: map[string]int{"DeleteEventDataStore": 1}},
				},
			},
			Explanation: `OrganizationAccountAccessRole stopped CloudTrail logging of the trail "arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-trail" in 111122223333/eu-west-1: secret reads and other calls after this may not be recorded.`,
		},
		"aws-audit-tampering-trail-deleted": {
			Type: AuditTampering, StartTime: at(0), EndTime: at(0), Count: 1,
			Vault: Vault{Provider: "aws-secretsmanager", ID: "aws:111122223333:eu-west-1", Name: "111122223333/eu-west-1"},
			Entities: Entities{
				IPs:  []IP{{Address: "203.0.113.77", Classification: []string{"public"}}},
				ARNs: []string{"arn:aws:iam::111122223333:user/mallory"},
			},
			Evidence: Evidence{
				Operations: map[string]int{"DeleteTrail": 1},
				Outcomes:   map[string]int{"success": 1},
				Objects:    []Object{{Kind: "path", Name: "audit-trail", First: at(0), Last: at(0), Count: 1, Operations: map[string]int{"DeleteTrail": 1}}},
			},
			Explanation: `mallory deleted the CloudTrail trail "audit-trail" in 111122223333/eu-west-1: secret reads and other calls after this may not be recorded.`,
		},
		"azure-audit-tampering": {
			Type: AuditTampering, StartTime: at(0), EndTime: at(0), Count: 1,
			Vault: Vault{Provider: "azure-keyvault", ID: "/subscriptions/3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b/resourcegroups/rg-payments/providers/microsoft.keyvault/vaults/kv-payments-prod", Name: "kv-payments-prod"},
			Entities: Entities{
				IPs:          []IP{{Address: "198.51.100.24", Classification: []string{"public"}}},
				ObjectIDs:    []string{"8d2f4b6a-1c3e-4f5a-9b7d-0e2c4a6f8b1d"},
				UPNs:         []string{"jan.kowalski@contoso.com"},
				AppIDs:       []string{"c44b4083-3bb0-49c1-b47d-974e53cbdf3c"},
				DisplayNames: []string{"jan.kowalski@contoso.com"},
			},
			Evidence: Evidence{
				Operations: map[string]int{"MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE": 1},
				Outcomes:   map[string]int{"success": 1},
				Objects:    []Object{{Kind: "path", Name: "send-to-sentinel", First: at(0), Last: at(0), Count: 1, Operations: map[string]int{"MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE": 1}}},
			},
			Explanation: `jan.kowalski@contoso.com deleted the diagnostic setting "send-to-sentinel" of kv-payments-prod: secret reads and other calls after this may not be recorded.`,
		},
	}
}

func testCases() map[string]Alert {
	return map[string]Alert{
		"azure-tor-access-user": {
			Type: TorAccess, StartTime: at(0), EndTime: at(14), Count: 37,
			Vault: Vault{Provider: "azure-keyvault", ID: "azure-keyvault:kv-payments-prod", Name: "kv-payments-prod"},
			Entities: Entities{
				IPs:          []IP{{Address: "185.220.101.34", Classification: []string{"tor", "public"}, Country: "DE"}},
				ObjectIDs:    []string{"3f1c2a9e-5b7d-4e21-9c0a-7d6e5f4a3b21"},
				UPNs:         []string{"alice@contoso.com"},
				AppIDs:       []string{"04b07795-8ddb-461a-bbee-02f9e1bf7b46"},
				DisplayNames: []string{"Alice Martin"},
				UserAgents:   []string{"python-requests/2.32.3"},
			},
			Evidence: Evidence{
				Operations: map[string]int{"SecretGet": 35, "SecretList": 2},
				Outcomes:   map[string]int{"success": 37},
				Objects: []Object{
					{Kind: "secret", Name: "payments-db-password", First: at(1), Last: at(13), Count: 20, Operations: map[string]int{"SecretGet": 20}, NormalReaders: []string{"app-payments-api (6c0e...)", "app-settlement"}},
					{Kind: "key", Name: "payments-signing", First: at(2), Last: at(2), Count: 1, Operations: map[string]int{"KeyGet": 1}},
					{Kind: "certificate", Name: "api-tls", First: at(3), Last: at(3), Count: 1, Operations: map[string]int{"CertificateGet": 1}, NormalReaders: []string{"app-gateway"}},
				},
			},
			Explanation: "185.220.101.34 is a Tor exit node (list tor-exits, updated 2026-11-19); alice@contoso.com has used this vault from 2 networks in 14 days, never through Tor.",
			Facts:       []Fact{{Name: "networks_seen", Value: 2}},
		},
		"azure-destructive-burst-sp": {
			Type: DestructiveBurst, StartTime: at(0), EndTime: at(3), Count: 120,
			Vault: Vault{Provider: "azure-keyvault", ID: "azure-keyvault:kv-orders", Name: "kv-orders"},
			Entities: Entities{
				IPs:       []IP{{Address: "20.61.4.9", Classification: []string{"cloud:azure"}}},
				ObjectIDs: []string{"9d8c7b6a-1111-2222-3333-444455556666"},
				AppIDs:    []string{"a1b2c3d4-0000-4000-8000-00000000abcd"},
			},
			Evidence: Evidence{
				Operations: map[string]int{"SecretDelete": 60, "SecretPurge": 60},
				Outcomes:   map[string]int{"success": 118, "denied": 2},
				Objects: []Object{
					{Kind: "secret", Name: "orders-db", First: at(0), Last: at(1), Count: 2, Operations: map[string]int{"SecretDelete": 1, "SecretPurge": 1}, NormalReaders: []string{"app-orders"}},
					{Kind: "secret", Name: "orders-queue", First: at(1), Last: at(1), Count: 1, Operations: map[string]int{"SecretDelete": 1}},
				},
			},
			Explanation: "120 deletes and purges in 3 minutes; this application deleted nothing in 30 days.",
		},
		"vault-privileged-token-use": {
			Type: PrivilegedTokenUse, StartTime: at(0), EndTime: at(5), Count: 4,
			Vault: Vault{Provider: "hashicorp-vault", ID: "vault:aB12c:kv-team/", Name: "team-a/kv-team"},
			Entities: Entities{
				IPs:            []IP{{Address: "10.20.3.4", Classification: []string{"private"}}},
				TokenAccessors: []string{"hmac-sha256:5f1e0a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7"},
				DisplayNames:   []string{"root"},
			},
			Evidence: Evidence{
				Operations: map[string]int{"read": 3, "update": 1},
				Objects: []Object{
					{Kind: "secret", Name: "app/billing/db", First: at(1), Last: at(4), Count: 3, Operations: map[string]int{"read": 3}, NormalReaders: []string{"approle-billing"}},
					{Kind: "key", Name: "billing", First: at(4), Last: at(4), Count: 1, Operations: map[string]int{"update": 1}},
				},
			},
			Explanation: "A root token read 3 secrets; no root token was used in 30 days.",
		},
		"vault-decoy-approle": {
			Type: DecoySecretAccess, StartTime: at(0), EndTime: at(0), Count: 1,
			Vault: Vault{Provider: "hashicorp-vault", ID: "vault:root:secret/", Name: "secret"},
			Entities: Entities{
				IPs:            []IP{{Address: "10.0.8.15", Classification: []string{"private"}}},
				VaultEntities:  []string{"7c3f1d2e-aaaa-bbbb-cccc-0123456789ab"},
				TokenAccessors: []string{"hmac-sha256:aa11"},
				DisplayNames:   []string{"approle-ci-runner"},
			},
			Evidence: Evidence{
				Operations: map[string]int{"read": 1},
				Objects:    []Object{{Kind: "secret", Name: "prod/aws-root-keys", First: at(0), Last: at(0), Count: 1, Operations: map[string]int{"read": 1}}},
			},
			Explanation: "prod/aws-root-keys is a decoy (decoys.txt line 3): no identity ever reads it.",
		},
		"aws-list-then-get-role": {
			Type: ListThenGet, StartTime: at(0), EndTime: at(9), Count: 48,
			Vault: Vault{Provider: "aws-secretsmanager", ID: "aws:123456789012:eu-west-1", Name: "123456789012/eu-west-1"},
			Entities: Entities{
				IPs:  []IP{{Address: "203.0.113.50", Classification: []string{"public"}, Country: "NL"}},
				ARNs: []string{"arn:aws:sts::123456789012:assumed-role/ci-deploy/gh-actions-8841"},
			},
			Evidence: Evidence{
				Operations: map[string]int{"ListSecrets": 1, "GetSecretValue": 47},
				Objects: []Object{
					{Kind: "secret", Name: "prod/rds/master", First: at(1), Last: at(1), Count: 1, Operations: map[string]int{"GetSecretValue": 1}, NormalReaders: []string{"arn:aws:iam::123456789012:role/orders-task"}},
					{Kind: "secret", Name: "prod/stripe", First: at(2), Last: at(2), Count: 1, Operations: map[string]int{"GetSecretValue": 1}},
				},
			},
			Explanation: "ci-deploy listed secrets then read 47 distinct ones in 9 minutes; it reads 2 per day.",
		},
		"aws-kms-crypto-volume-user": {
			Type: CryptoVolume, StartTime: at(0), EndTime: at(30), Count: 5000,
			Vault: Vault{Provider: "aws-kms", ID: "aws:123456789012:us-east-1", Name: "123456789012/us-east-1"},
			Entities: Entities{
				IPs:  []IP{{Address: "198.51.100.23", Classification: []string{"reputation:abuse-ch"}}},
				ARNs: []string{"arn:aws:iam::123456789012:user/bob"},
			},
			Evidence: Evidence{
				Operations: map[string]int{"Decrypt": 5000},
				Objects:    []Object{{Kind: "key", Name: "1234abcd-12ab-34cd-56ef-1234567890ab", First: at(0), Last: at(30), Count: 5000, Operations: map[string]int{"Decrypt": 5000}, NormalReaders: []string{"arn:aws:iam::123456789012:role/reports"}}},
			},
			Explanation: "bob never used this key in 14 days; 5000 decrypts in 30 minutes.",
		},
		"gcp-unusual-ip-sa": {
			Type: UnusualIP, StartTime: at(0), EndTime: at(2), Count: 3,
			Vault: Vault{Provider: "gcp-secretmanager", ID: "gcp:shop-prod-4821", Name: "shop-prod-4821"},
			Entities: Entities{
				IPs:        []IP{{Address: "34.90.1.2", Classification: []string{"cloud:gcp"}}},
				Principals: []string{"checkout@shop-prod-4821.iam.gserviceaccount.com"},
			},
			Evidence: Evidence{
				Operations: map[string]int{"google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion": 3},
				Objects:    []Object{{Kind: "secret", Name: "checkout-api-key", First: at(0), Last: at(2), Count: 3, NormalReaders: []string{"checkout@shop-prod-4821.iam.gserviceaccount.com"}}},
			},
			Explanation: "checkout@ used this project from 1 network (10.8.0.0/16) in 14 days; 34.90.1.2 is new (Google Cloud).",
		},
		"cross-provider-access": {
			Type: CrossProviderAccess, StartTime: at(0), EndTime: at(40), Count: 9,
			Vault: Vault{Provider: "azure-keyvault", ID: "azure-keyvault:kv-web", Name: "kv-web"},
			Vaults: []Vault{
				{Provider: "azure-keyvault", ID: "azure-keyvault:kv-web", Name: "kv-web"},
				{Provider: "gcp-secretmanager", ID: "gcp:web-prod", Name: "web-prod"},
				{Provider: "aws-secretsmanager", ID: "aws:210987654321:us-west-2", Name: "210987654321/us-west-2"},
			},
			Entities: Entities{
				IPs:        []IP{{Address: "192.0.2.77", Classification: []string{"public"}}},
				UPNs:       []string{"dev@contoso.com"},
				Principals: []string{"dev@contoso.com"},
			},
			Evidence:    Evidence{Operations: map[string]int{"SecretGet": 4, "AccessSecretVersion": 5}},
			Explanation: "192.0.2.77 read secrets in Azure Key Vault and GCP Secret Manager within 40 minutes; no address did in 30 days.",
		},
		"azure-many-vaults": {
			Type: ManyVaults, StartTime: at(0), EndTime: at(50), Count: 60,
			Vault: Vault{Provider: "azure-keyvault", ID: "azure-keyvault:kv-a", Name: "kv-a"},
			Vaults: []Vault{
				{Provider: "azure-keyvault", ID: "azure-keyvault:kv-a", Name: "kv-a"},
				{Provider: "azure-keyvault", ID: "azure-keyvault:kv-b", Name: "kv-b"},
				{Provider: "azure-keyvault", ID: "azure-keyvault:kv-c", Name: "kv-c"},
			},
			Entities: Entities{
				ObjectIDs: []string{"5e5e5e5e-0000-4000-8000-000000000001"},
				UPNs:      []string{"ops@contoso.com"},
			},
			Evidence:    Evidence{Operations: map[string]int{"SecretList": 3, "SecretGet": 57}},
			Explanation: "ops@contoso.com used 3 vaults in 50 minutes; it uses 1 a day, and no user uses more than 2.",
			Facts:       []Fact{{Name: "vaults", Value: 3}, {Name: "usual_vaults", Value: 1}},
		},
		"vault-audit-tampering": {
			Type: AuditTampering, StartTime: at(0), EndTime: at(0), Count: 1,
			Vault: Vault{Provider: "hashicorp-vault", ID: "vault:root:sys/", Name: "sys"},
			Entities: Entities{
				IPs:            []IP{{Address: "14.140.30.102", Classification: []string{"public"}}},
				VaultEntities:  []string{"9a4181e3-c90c-48d0-a016-23229fedd937"},
				TokenAccessors: []string{"hmac-sha256:2e73"},
				DisplayNames:   []string{"oidc-swati.kulkarni@contoso.com"},
			},
			Evidence: Evidence{
				Operations: map[string]int{"delete": 1},
				Outcomes:   map[string]int{"success": 1},
				Objects:    []Object{{Kind: "path", Name: "sys/audit/splunk", First: at(0), Last: at(0), Count: 1, Operations: map[string]int{"delete": 1}}},
			},
			Explanation: `oidc-swati.kulkarni@contoso.com disabled the audit device "splunk": calls after this may not be recorded by it.`,
		},
		"credential-probing-ip-only": {
			Type: CredentialProbing, StartTime: at(0), EndTime: at(1), Count: 250,
			Vault:       Vault{Provider: "hashicorp-vault", ID: "vault:root:kv/", Name: "kv"},
			Entities:    Entities{IPs: []IP{{Address: "2001:db8::bad", Classification: []string{"public"}}}},
			Evidence:    Evidence{Operations: map[string]int{"read": 250}, Outcomes: map[string]int{"unauthenticated": 250}},
			Explanation: "250 unauthenticated calls in 1 minute from one address.",
		},
		"azure-nasty-names": {
			Type: UnusualApplication, StartTime: at(0), EndTime: at(1), Count: 2,
			Vault: Vault{Provider: "azure-keyvault", ID: "azure-keyvault:kv-x", Name: "kv-x"},
			Entities: Entities{
				IPs:          []IP{{Address: "198.51.100.9"}},
				ObjectIDs:    []string{"oid'; touch pwned-oid #"},
				AppIDs:       []string{"$(touch pwned-app)"},
				DisplayNames: []string{"evil\x1b[2J\u202eapp"},
			},
			Evidence: Evidence{
				Operations: map[string]int{"SecretGet": 2},
				Objects: []Object{
					{Kind: "secret", Name: "it's a `secret`", First: at(0), Last: at(0), Count: 1, NormalReaders: []string{"app\nwith newline"}},
					{Kind: "secret", Name: "line\nbreak $(touch pwned-name)", First: at(1), Last: at(1), Count: 1},
				},
			},
			Explanation: "An application never seen on kv-x in 14 days; 3 apps do.\nSecond line.",
		},
	}
}
