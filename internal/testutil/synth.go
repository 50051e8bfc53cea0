package testutil

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// AzureRecords returns n Azure Key Vault AuditEvent records as written to a
// PT1H.json blob (about 1.2 KB each): a mix of vaults, callers, operations
// and outcomes with repeating ids, as real traffic has. For benchmarks and
// volume tests; not a model of an organisation.
func AzureRecords(n int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 1))
	guid := func() string {
		return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, 0x8000|r.Uint32()&0x3fff, r.Uint64()&0xffffffffffff)
	}
	vaults := make([]string, 20)
	for i := range vaults {
		vaults[i] = fmt.Sprintf("kv-team%02d-prod", i)
	}
	type caller struct{ oid, appid, upn, idtyp, mirid, ip, ua string }
	callers := make([]caller, 200)
	for i := range callers {
		c := caller{oid: guid(), appid: guid(), ip: fmt.Sprintf("20.%d.%d.%d", 40+i%50, i%250, 1+i%200)}
		switch i % 4 {
		case 0:
			c.upn = fmt.Sprintf("user%03d@contoso.com", i)
			c.idtyp = "user"
			c.appid = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
			c.ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
		case 1:
			c.idtyp = "app"
			c.mirid = fmt.Sprintf("/subscriptions/6a1f3c52-0b7e-4c1d-9f2a-3e4d5c6b7a80/resourcegroups/rg-app%02d/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app%03d-identity", i%30, i)
			c.ua = "azsdk-net-Security.KeyVault.Secrets/4.5.0 (.NET 8.0.10; Linux 5.15.0-1073-azure #82-Ubuntu SMP)"
		default:
			c.idtyp = "app"
			c.ua = "azsdk-java-azure-security-keyvault-secrets/4.8.3 (17.0.12; Linux; 5.15.0-1068-azure)"
		}
		callers[i] = c
	}
	// Each object has a current version, as a vault does between
	// rotations: reads return it.
	secrets := make([]string, 500)
	versions := make([]string, 500)
	for i := range secrets {
		secrets[i] = fmt.Sprintf("svc%03d-connection-string", i)
		versions[i] = fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64())
	}
	ops := []struct {
		name, path string
		weight     int
	}{
		{"SecretGet", "secrets", 70}, {"SecretList", "secrets", 8}, {"KeyUnwrapKey", "keys", 12},
		{"KeySign", "keys", 4}, {"SecretSet", "secrets", 3}, {"VaultGet", "", 2}, {"CertificateGet", "certificates", 1},
	}
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	out := make([][]byte, n)
	for i := range out {
		v := vaults[r.IntN(len(vaults))]
		c := callers[r.IntN(len(callers))]
		w := r.IntN(100)
		op := ops[0]
		for _, o := range ops {
			if w < o.weight {
				op = o
				break
			}
			w -= o.weight
		}
		status, sig := 200, "OK"
		switch x := r.IntN(100); {
		case x < 2:
			status, sig = 403, "Forbidden"
		case x < 4:
			status, sig = 404, "NotFound"
		case x < 5:
			status, sig = 429, "TooManyRequests"
		}
		id := fmt.Sprintf("https://%s.vault.azure.net/", v)
		if op.path != "" {
			k := r.IntN(len(secrets))
			id += op.path + "/" + secrets[k] + "/" + versions[k]
		}
		claim := fmt.Sprintf(`"oid":"%s","appid":"%s","http://schemas.microsoft.com/identity/claims/tenantid":"72f988bf-86f1-41af-91ab-2d7cd011db47","idtyp":"%s"`, c.oid, c.appid, c.idtyp)
		if c.upn != "" {
			claim += fmt.Sprintf(`,"upn":"%s"`, c.upn)
		}
		if c.mirid != "" {
			claim += fmt.Sprintf(`,"xms_mirid":"%s"`, c.mirid)
		}
		ts := t0.Add(time.Duration(i) * 37 * time.Millisecond)
		rid := fmt.Sprintf("/SUBSCRIPTIONS/6A1F3C52-0B7E-4C1D-9F2A-3E4D5C6B7A80/RESOURCEGROUPS/RG-%s/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/%s", upper(v), upper(v))
		out[i] = fmt.Appendf(nil, `{ "time": "%s", "category": "AuditEvent", "operationName": "%s", "resultType": "Success", "correlationId": "%s", "callerIpAddress": "%s", "identity": {"claim":{%s}}, "properties": {"id":"%s","clientInfo":"%s","httpStatusCode":%d,"requestUri":"%s?api-version=7.4","isAccessPolicyMatch":%t,"tlsVersion":"TLS1_2"}, "resourceId": "%s", "operationVersion": "7.4", "resultSignature": "%s", "durationMs": "%d"}`,
			ts.Format("2006-01-02T15:04:05.0000000Z"), op.name, guid(), c.ip, claim, id, c.ua, status, id, status != 403, rid, sig, 3+r.IntN(80))
	}
	return out
}

// VaultEntries returns n HashiCorp Vault file audit device lines, request
// and response pairs of KV v2 reads by a set of AppRole and userpass
// tokens, HMAC-ed as the device writes them.
func VaultEntries(n int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 2))
	hmac := func() string {
		return fmt.Sprintf("hmac-sha256:%016x%016x%016x%016x", r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64())
	}
	type tok struct{ accessor, token, name, entity, policy string }
	toks := make([]tok, 100)
	for i := range toks {
		toks[i] = tok{hmac(), hmac(), fmt.Sprintf("approle-svc%02d", i), fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint64()&0xffffffffffff), fmt.Sprintf("svc%02d-read", i)}
	}
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	out := make([][]byte, 0, n)
	for i := 0; len(out) < n; i++ {
		k := toks[r.IntN(len(toks))]
		mount := fmt.Sprintf("kv-team%02d", r.IntN(10))
		path := fmt.Sprintf("%s/data/app/svc%03d/db", mount, r.IntN(300))
		id := fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint64()&0xffffffffffff)
		ts := t0.Add(time.Duration(i) * 50 * time.Millisecond)
		req := fmt.Sprintf(`"request":{"id":"%s","namespace":{"id":"root"},"operation":"read","mount_point":"%s/","mount_type":"kv","mount_class":"secret","mount_running_version":"v0.20.0+builtin","path":"%s","remote_address":"10.20.%d.%d","remote_port":%d,"client_token":"%s","client_token_accessor":"%s"}`,
			id, mount, path, r.IntN(8), 1+r.IntN(250), 30000+r.IntN(30000), k.token, k.accessor)
		auth := fmt.Sprintf(`"auth":{"accessor":"%s","client_token":"%s","display_name":"%s","entity_id":"%s","metadata":{"role_name":"%s"},"policies":["default","%s"],"token_policies":["default","%s"],"token_type":"service","policy_results":{"allowed":true,"granting_policies":[{"name":"%s","namespace_id":"root","type":"acl"}]}}`,
			k.accessor, k.token, k.name, k.entity, k.name, k.policy, k.policy, k.policy)
		out = append(out, fmt.Appendf(nil, `{%s,%s,"time":"%s","type":"request"}`, req, auth, ts.Format(time.RFC3339Nano)))
		if len(out) < n {
			out = append(out, fmt.Appendf(nil, `{%s,%s,"response":{"mount_point":"%s/","mount_type":"kv","mount_class":"secret","data":{"data":{"password":"%s"},"metadata":{"created_time":"%s","destroyed":false,"version":%d}}},"time":"%s","type":"response"}`,
				req, auth, mount, hmac(), hmac(), 1+r.IntN(9), ts.Add(2*time.Millisecond).Format(time.RFC3339Nano)))
		}
	}
	return out
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
