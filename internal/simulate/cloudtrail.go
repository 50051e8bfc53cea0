package simulate

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// cloudTrailEvery is how much time one CloudTrail delivery file covers.
const cloudTrailEvery = 5 * time.Minute

// cloudTrailWriter writes CloudTrail delivery files of the Secrets Manager
// and KMS calls to AWS vaults.
type cloudTrailWriter struct {
	dir  string
	org  *Org
	seed uint64
	rng  *rand.Rand
	// open holds, per account and region, the records of the current
	// five minutes; order keeps the keys in their first-seen order.
	open    map[string]*cloudTrailBatch
	order   []string
	skipped int
}

type cloudTrailBatch struct {
	account, region string
	start           time.Time
	recs            [][]byte
}

// NewCloudTrailWriter returns a writer of CloudTrail records (Secrets
// Manager, and KMS for key operations) for the accesses to AWS vaults,
// delivered as CloudTrail does under dir/aws/AWSLogs/<account>/CloudTrail/
// <region>/YYYY/MM/DD/: one gzip file {"Records":[...]} per five minutes
// per account and region that has events.
func NewCloudTrailWriter(dir string, o *Org, seed uint64) Writer {
	return &cloudTrailWriter{
		dir:  dir,
		org:  o,
		seed: seed,
		rng:  wrRand(seed, "writer/cloudtrail"),
		open: map[string]*cloudTrailBatch{},
	}
}

// Write adds the record of a to its account and region's current file.
func (w *cloudTrailWriter) Write(a *Access) error {
	if a.Vault == nil || a.Vault.Provider != AWS {
		return nil
	}
	rec, ok := w.record(a)
	if !ok {
		w.skipped++
		return nil
	}
	v := a.Vault
	key := v.Account + "/" + v.Region
	start := a.Time.UTC().Truncate(cloudTrailEvery)
	b := w.open[key]
	if b != nil && !b.start.Equal(start) {
		if err := w.deliver(b); err != nil {
			return err
		}
		b = nil
	}
	if b == nil {
		b = &cloudTrailBatch{account: v.Account, region: v.Region, start: start}
		if _, seen := w.open[key]; !seen {
			w.order = append(w.order, key)
		}
		w.open[key] = b
	}
	b.recs = append(b.recs, rec)
	return nil
}

// Close delivers the files still open.
func (w *cloudTrailWriter) Close() error {
	var first error
	for _, k := range w.order {
		if b := w.open[k]; b != nil && len(b.recs) > 0 {
			if err := w.deliver(b); err != nil && first == nil {
				first = err
			}
		}
		w.open[k] = nil
	}
	return first
}

// cloudTrailFile is the delivery file name of an account and region's
// records delivered at t.
func cloudTrailFile(dir, account, region string, t time.Time, suffix string) string {
	t = t.UTC()
	name := fmt.Sprintf("%s_CloudTrail_%s_%s_%s.json.gz", account, region, t.Format("20060102T1504Z"), suffix)
	return filepath.Join(dir, "aws", "AWSLogs", account, "CloudTrail", region,
		fmt.Sprintf("%04d", t.Year()), fmt.Sprintf("%02d", int(t.Month())), fmt.Sprintf("%02d", t.Day()), name)
}

func (w *cloudTrailWriter) deliver(b *cloudTrailBatch) error {
	delivered := b.start.Add(cloudTrailEvery)
	p := cloudTrailFile(w.dir, b.account, b.region, delivered, wrAlnum(w.rng, 16))
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(`{"Records":[`))
	for i, r := range b.recs {
		if i > 0 {
			zw.Write([]byte{','})
		}
		zw.Write(r)
	}
	zw.Write([]byte("]}"))
	if err := zw.Close(); err != nil {
		return fmt.Errorf("cloudtrail writer: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("cloudtrail writer: %w", err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("cloudtrail writer: %w", err)
	}
	b.recs = nil
	return nil
}

// cloudTrailOp is how CloudTrail logs a neutral operation.
type cloudTrailOp struct {
	name     string
	kms      bool
	readOnly bool
}

var cloudTrailOps = map[Op]cloudTrailOp{
	OpSecretGet:      {name: "GetSecretValue", readOnly: true},
	OpSecretList:     {name: "ListSecrets", readOnly: true},
	OpSecretVersions: {name: "ListSecretVersionIds", readOnly: true},
	OpSecretSet:      {name: "PutSecretValue"},
	OpSecretDelete:   {name: "DeleteSecret"},
	OpSecretPurge:    {name: "DeleteSecret"},
	OpSecretRestore:  {name: "RestoreSecret"},
	OpSecretRecover:  {name: "RestoreSecret"},
	OpPolicyChange:   {name: "PutResourcePolicy"},
	OpVaultGet:       {name: "DescribeSecret", readOnly: true},
	OpKeyGet:         {name: "DescribeKey", kms: true, readOnly: true},
	OpKeyList:        {name: "ListKeys", kms: true, readOnly: true},
	OpKeyCreate:      {name: "CreateKey", kms: true},
	OpKeyRotate:      {name: "RotateKeyOnDemand", kms: true},
	OpKeyDelete:      {name: "ScheduleKeyDeletion", kms: true},
	OpKeyDecrypt:     {name: "Decrypt", kms: true, readOnly: true},
	OpKeyUnwrap:      {name: "Decrypt", kms: true, readOnly: true},
	OpKeyEncrypt:     {name: "Encrypt", kms: true, readOnly: true},
	OpKeyWrap:        {name: "GenerateDataKey", kms: true, readOnly: true},
	OpKeySign:        {name: "Sign", kms: true, readOnly: true},
}

// cloudTrailSecretARN is a secret's ARN, with the six random characters
// Secrets Manager appends to the name.
func cloudTrailSecretARN(v *Vault, name string) string {
	r := rand.New(rand.NewPCG(wrHash("secret-suffix", v.Account, v.Region), wrHash(name)))
	return "arn:aws:secretsmanager:" + v.Region + ":" + v.Account + ":secret:" + name + "-" + wrAlnum(r, 6)
}

var wrUUIDRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// cloudTrailVersionID is the versionId a GetSecretValue call names: none
// for the current version (clients ask for AWSCURRENT), the version for an
// older one.
func cloudTrailVersionID(a *Access) string {
	if a.Version == "" || a.Vault.Versions != nil && a.Vault.Versions[a.Object] == a.Version {
		return ""
	}
	return a.Version
}

// cloudTrailKeyID is the KMS key id of a simulated key: the name when it is
// already a key id, else a GUID derived from it.
func cloudTrailKeyID(v *Vault, name string) string {
	if wrUUIDRE.MatchString(name) {
		return name
	}
	return wrGUID(rand.New(rand.NewPCG(wrHash("kms-key", v.Account, v.Region), wrHash(name))))
}

// cloudTrailService is the service host of a provider-service principal.
func cloudTrailService(p *Principal) string {
	if strings.HasSuffix(p.Name, ".amazonaws.com") {
		return p.Name
	}
	return "secretsmanager.amazonaws.com"
}

// userIdentity returns the userIdentity of an access.
func (w *cloudTrailWriter) userIdentity(a *Access) wjObj {
	p := a.Principal
	v := a.Vault
	acct := v.Account
	if p == nil {
		return wjObj{{"type", "AWSAccount"}, {"principalId", ""}, {"accountId", "ANONYMOUS_PRINCIPAL"}}
	}
	if p.Kind == KindProviderService {
		return wjObj{{"type", "AWSService"}, {"invokedBy", cloudTrailService(p)}}
	}
	arn := p.ARN
	if a := cloudTrailARNAccount(arn); a != "" {
		acct = a
	}
	idr := rand.New(rand.NewPCG(w.seed, wrHash("aws-principal-id", p.Name)))
	pid := strings.ToUpper(wrAlnum(idr, 17))
	key := p.AccessKeyID
	switch {
	case strings.Contains(arn, ":root"):
		if key == "" {
			key = "AKIA" + strings.ToUpper(wrAlnum(idr, 16))
		}
		return wjObj{{"type", "Root"}, {"principalId", acct}, {"arn", arn}, {"accountId", acct}, {"accessKeyId", key}}
	case p.Kind == KindUser && (arn == "" || strings.Contains(arn, ":user/")):
		if arn == "" {
			arn = "arn:aws:iam::" + acct + ":user/" + p.Name
		}
		if key == "" {
			key = "AKIA" + strings.ToUpper(wrAlnum(idr, 16))
		}
		return wjObj{
			{"type", "IAMUser"},
			{"principalId", "AIDA" + pid},
			{"arn", arn},
			{"accountId", acct},
			{"accessKeyId", key},
			{"userName", arn[strings.LastIndexByte(arn, '/')+1:]},
		}
	}
	// A role session: a workload's role, or a person's SSO role.
	role, session := p.Name, p.Name
	if p.Kind == KindUser && p.UPN != "" {
		session = p.UPN
	}
	switch {
	case strings.Contains(arn, ":assumed-role/"):
		parts := strings.Split(arn[strings.Index(arn, ":assumed-role/")+len(":assumed-role/"):], "/")
		role = parts[0]
		if len(parts) > 1 {
			session = parts[1]
		}
	case strings.Contains(arn, ":role/"):
		role = arn[strings.LastIndexByte(arn, '/')+1:]
	}
	roleARN := "arn:aws:iam::" + acct + ":role/" + role
	sessionARN := "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + session
	if key == "" || strings.HasPrefix(key, "AKIA") {
		key = "ASIA" + strings.ToUpper(wrAlnum(idr, 16))
	}
	created := a.Time.UTC().Truncate(time.Hour)
	return wjObj{
		{"type", "AssumedRole"},
		{"principalId", "AROA" + pid + ":" + session},
		{"arn", sessionARN},
		{"accountId", acct},
		{"accessKeyId", key},
		{"sessionContext", wjObj{
			{"sessionIssuer", wjObj{
				{"type", "Role"},
				{"principalId", "AROA" + pid},
				{"arn", roleARN},
				{"accountId", acct},
				{"userName", role},
			}},
			{"webIdFederationData", wjObj{}},
			{"attributes", wjObj{
				{"creationDate", created.Format("2006-01-02T15:04:05Z")},
				{"mfaAuthenticated", "false"},
			}},
		}},
	}
}

// cloudTrailARNAccount returns the account of an ARN, or "".
func cloudTrailARNAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// cloudTrailIdentityARN is the ARN error messages name the caller by.
func cloudTrailIdentityARN(ui wjObj) string {
	for _, kv := range ui {
		if kv.k == "arn" {
			return kv.v.(string)
		}
	}
	return ""
}

// record returns the CloudTrail record of a, or false when the services
// log nothing for its operation.
func (w *cloudTrailWriter) record(a *Access) ([]byte, bool) {
	op, ok := cloudTrailOps[a.Op]
	if !ok {
		return nil, false
	}
	v := a.Vault
	status := a.Status
	if status == 0 {
		status = 200
	}
	source, svc := "secretsmanager.amazonaws.com", "secretsmanager"
	if op.kms {
		source, svc = "kms.amazonaws.com", "kms"
	}
	ui := w.userIdentity(a)
	service := a.Principal != nil && a.Principal.Kind == KindProviderService
	ip := a.IP.String()
	ua := accessUserAgent(a, "aws-sdk-go-v2/1.36.3 os/linux lang/go#1.24.2 md/GOOS#linux md/GOARCH#amd64 api/"+svc+"#1.35.1")
	switch {
	case service:
		ip = cloudTrailService(a.Principal)
		ua = ip
	case a.InvokedBy != "":
		// A call a service makes on the principal's behalf: the principal's
		// identity, the service as source and agent.
		ui = append(ui, wjKV{"invokedBy", a.InvokedBy})
		ip, ua = a.InvokedBy, a.InvokedBy
	}

	var params any
	var resources []any
	var target string // the resource named in error messages
	obj := a.Object
	if !op.kms {
		var arn string
		if obj != "" {
			arn = cloudTrailSecretARN(v, obj)
			target = arn
		}
		switch a.Op {
		case OpSecretList:
			params = wjObj{{"maxResults", 100}}
			target = "*"
		case OpSecretGet:
			p := wjObj{{"secretId", arn}}
			if ver := cloudTrailVersionID(a); ver != "" {
				p = append(p, wjKV{"versionId", ver})
			}
			params = p
		case OpSecretSet:
			params = wjObj{{"secretId", arn}, {"clientRequestToken", strings.ToUpper(wrGUID(w.rng))}}
		case OpSecretDelete:
			params = wjObj{{"secretId", arn}, {"recoveryWindowInDays", 30}}
		case OpSecretPurge:
			params = wjObj{{"secretId", arn}, {"forceDeleteWithoutRecovery", true}}
		case OpPolicyChange:
			params = wjObj{
				{"secretId", arn},
				{"resourcePolicy", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` +
					v.Account + `:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`},
				{"blockPublicPolicy", true},
			}
		default:
			params = wjObj{{"secretId", arn}}
		}
	} else {
		keyID := cloudTrailKeyID(v, obj)
		keyARN := "arn:aws:kms:" + v.Region + ":" + v.Account + ":key/" + keyID
		target = keyARN
		res := []any{wjObj{{"accountId", v.Account}, {"type", "AWS::KMS::Key"}, {"ARN", keyARN}}}
		switch a.Op {
		case OpKeyList:
			params = wjObj{{"limit", 1000}}
			target = "*"
		case OpKeyCreate:
			params = wjObj{{"keySpec", "SYMMETRIC_DEFAULT"}, {"keyUsage", "ENCRYPT_DECRYPT"}, {"origin", "AWS_KMS"},
				{"multiRegion", false}, {"description", obj}}
			if status < 300 {
				resources = res
			}
		case OpKeyDecrypt, OpKeyUnwrap:
			params = wjObj{{"encryptionAlgorithm", "SYMMETRIC_DEFAULT"}}
			resources = res
		case OpKeyEncrypt:
			params = wjObj{{"keyId", "alias/" + obj}, {"encryptionAlgorithm", "SYMMETRIC_DEFAULT"}}
			resources = res
		case OpKeyWrap:
			params = wjObj{{"keyId", keyARN}, {"keySpec", "AES_256"}}
			resources = res
		case OpKeySign:
			params = wjObj{{"keyId", keyARN}, {"messageType", "DIGEST"}, {"signingAlgorithm", "RSASSA_PSS_SHA_256"}}
			resources = res
		case OpKeyDelete:
			params = wjObj{{"keyId", keyID}, {"pendingWindowInDays", 30}}
			resources = res
		default:
			params = wjObj{{"keyId", keyID}}
			resources = res
		}
	}

	var errCode, errMsg string
	switch status {
	case 200, 202:
	case 401:
		if ui[0].v == "AssumedRole" {
			errCode, errMsg = "ExpiredTokenException", "The security token included in the request is expired"
		} else {
			errCode, errMsg = "UnrecognizedClientException", "The security token included in the request is invalid."
		}
	case 403:
		errCode = "AccessDenied"
		if op.kms {
			errCode = "AccessDeniedException"
		}
		errMsg = fmt.Sprintf("User: %s is not authorized to perform: %s:%s on resource: %s because no identity-based policy allows the %s:%s action",
			cloudTrailIdentityARN(ui), svc, op.name, target, svc, op.name)
	case 404:
		if op.kms {
			errCode, errMsg = "NotFoundException", "Key '"+target+"' does not exist"
		} else {
			errCode, errMsg = "ResourceNotFoundException", "Secrets Manager can't find the specified secret."
		}
	case 429:
		errCode, errMsg = "ThrottlingException", "Rate exceeded"
	default:
		if op.kms {
			errCode, errMsg = "KMSInternalException", "An internal error occurred."
		} else {
			errCode, errMsg = "InternalServiceError", "An error occurred on the server side."
		}
	}

	var respElems any
	if errCode == "" {
		switch a.Op {
		case OpSecretSet:
			ver := a.Version
			if ver == "" {
				ver = wrGUID(w.rng)
			}
			respElems = wjObj{{"arn", target}, {"versionId", ver}, {"versionStages", []string{"AWSCURRENT"}}}
		case OpSecretDelete, OpSecretPurge:
			respElems = wjObj{{"aRN", target}, {"name", obj},
				{"deletionDate", a.Time.UTC().Format("Jan 2, 2006, 3:04:05 PM")}}
		case OpSecretRestore, OpSecretRecover, OpPolicyChange:
			respElems = wjObj{{"aRN", target}, {"name", obj}}
		}
	}

	rec := wjObj{
		{"eventVersion", "1.09"},
		{"userIdentity", ui},
		{"eventTime", a.Time.UTC().Format("2006-01-02T15:04:05Z")},
		{"eventSource", source},
		{"eventName", op.name},
		{"awsRegion", v.Region},
		{"sourceIPAddress", ip},
		{"userAgent", ua},
	}
	if errCode != "" {
		rec = append(rec, wjKV{"errorCode", errCode}, wjKV{"errorMessage", errMsg})
	}
	rec = append(rec,
		wjKV{"requestParameters", params},
		wjKV{"responseElements", respElems},
		wjKV{"requestID", wrGUID(w.rng)},
		wjKV{"eventID", wrGUID(w.rng)},
		wjKV{"readOnly", op.readOnly},
	)
	if resources != nil {
		rec = append(rec, wjKV{"resources", resources})
	}
	rec = append(rec,
		wjKV{"eventType", "AwsApiCall"},
		wjKV{"managementEvent", true},
		wjKV{"recipientAccountId", v.Account},
		wjKV{"eventCategory", "Management"},
	)
	if !service {
		rec = append(rec, wjKV{"tlsDetails", wjObj{
			{"tlsVersion", "TLSv1.3"},
			{"cipherSuite", "TLS_AES_128_GCM_SHA256"},
			{"clientProvidedHostHeader", svc + "." + v.Region + ".amazonaws.com"},
		}})
	}
	return wjAppend(nil, rec), true
}
