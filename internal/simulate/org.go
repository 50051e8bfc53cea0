package simulate

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Defaults of Options.
const (
	DefaultVaults       = 12
	DefaultDays         = 30
	DefaultLearningDays = 7
)

// DefaultStart is the default first simulated day.
var DefaultStart = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// Well-known Microsoft first-party client application ids, as they appear in
// the appid claim of Key Vault records.
const (
	appIDAzurePortal     = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
	appIDAzureCLI        = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
	appIDAzurePowerShell = "1950a258-227b-4e31-a9cf-717495945fc2"
	appIDResourceGraph   = "e8ad5d5a-6d18-4c44-b1f8-8f9f6d4f2c53"
	appIDPolicyInsights  = "1d78a85d-813d-46f0-b496-dd72f50a3ec0"
)

// withDefaults fills the zero fields of o with the defaults.
func (o Options) withDefaults() Options {
	if o.Vaults <= 0 {
		o.Vaults = DefaultVaults
	}
	if o.Days <= 0 {
		o.Days = DefaultDays
	}
	if o.LearningDays < 0 {
		o.LearningDays = 0
	}
	if o.LearningDays == 0 && o.Days > DefaultLearningDays {
		o.LearningDays = DefaultLearningDays
	}
	if o.LearningDays > o.Days {
		o.LearningDays = o.Days
	}
	if len(o.Formats) == 0 {
		o.Formats = []Provider{Azure, HashiVault}
	}
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	o.Start = o.Start.UTC().Truncate(24 * time.Hour)
	return o
}

var orgCompanies = []struct{ name, domain string }{
	{"Contoso", "contoso.com"}, {"Fabrikam", "fabrikam.com"}, {"Northwind Traders", "northwindtraders.com"},
	{"Woodgrove Bank", "woodgrovebank.com"}, {"Tailspin Toys", "tailspintoys.com"}, {"Adventure Works", "adventure-works.com"},
	{"Litware", "litwareinc.com"}, {"Proseware", "proseware.com"}, {"Relecloud", "relecloud.com"},
	{"Lamna Healthcare", "lamnahealthcare.com"}, {"Trey Research", "treyresearch.net"}, {"Alpine Ski House", "alpineskihouse.com"},
}

var orgTeams = []string{"payments", "identity", "data", "web", "platform", "security", "mobile", "analytics", "billing", "search", "checkout", "ml"}

var orgComponents = []string{"api", "worker", "batch", "scheduler", "gateway", "sync", "etl", "notifier", "reporting", "ingest", "frontend", "backend", "reconciler", "exporter", "indexer"}

var orgSecretBase = []string{
	"sql-admin-password", "sql-connection-string", "storage-connection-string", "redis-password",
	"servicebus-connection-string", "cosmos-primary-key", "stripe-api-key", "sendgrid-api-key",
	"twilio-auth-token", "jwt-signing-secret", "oauth-client-secret", "github-token", "datadog-api-key",
	"pagerduty-token", "smtp-password", "ldap-bind-password", "rabbitmq-password", "elastic-password",
	"kafka-sasl-password", "appinsights-connection-string", "encryption-salt", "webhook-secret",
	"slack-webhook-url", "postgres-password", "mongodb-uri", "eventhub-connection-string",
	"adyen-api-key", "okta-client-secret", "auth0-client-secret", "sentry-dsn", "newrelic-license-key",
	"docker-registry-password", "npm-token", "openai-api-key", "maps-api-key", "recaptcha-secret",
}

var orgDecoyNames = []string{
	"domain-admin-password", "break-glass-global-admin", "aws-root-access-key", "prod-db-master-password",
	"backup-encryption-master-key", "legacy-sa-password", "payroll-export-credentials", "swift-gateway-credentials",
	"ceo-mailbox-app-password", "hsm-admin-pin",
}

var orgAppUserAgents = map[Provider][]string{
	Azure: {
		"azsdk-net-Security.KeyVault.Secrets/4.6.0 (.NET 8.0.10; Linux 5.15.0-1073-azure #82-Ubuntu SMP)",
		"azsdk-java-azure-security-keyvault-secrets/4.8.3 (17.0.12; Linux; 5.15.0-1068-azure)",
		"azsdk-python-keyvault-secrets/4.8.0 Python/3.11.9 (Linux-5.15.0-1071-azure-x86_64-with-glibc2.36)",
		"azsdk-js-keyvault-secrets/4.8.0 core-rest-pipeline/1.16.3 Node/v20.17.0 OS/(x64-Linux-5.15.0-1073-azure)",
		"azsdk-go-azsecrets/v1.1.0 (go1.22.8; linux)",
	},
	HashiVault: {"Go-http-client/1.1", "python-requests/2.32.3", "vault-agent/1.17.6"},
	AWS: {
		"aws-sdk-go-v2/1.32.2 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64 api/secretsmanager#1.34.6",
		"Boto3/1.35.54 md/Botocore#1.35.54 ua/2.0 os/linux#5.10.227-219.884.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.7 cfg/retry-mode#legacy Botocore/1.35.54",
		"aws-sdk-java/2.28.29 Linux/5.10.227-219.884.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/21.0.5+11-LTS Java/21.0.5 vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE",
	},
}

var orgBrowsers = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.6; rv:131.0) Gecko/20100101 Firefox/131.0",
	"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
}

const (
	uaAzureCLI      = "AZURECLI/2.65.0 (DEB) azsdk-python-core/1.31.0 Python/3.11.8 (Linux-6.8.0-47-generic-x86_64-with-glibc2.39)"
	uaAzurePS       = "azsdk-net-Security.KeyVault.Secrets/4.6.0 (.NET 8.0.8; Microsoft Windows 10.0.22631)"
	uaResourceGraph = "AzureResourceGraph.IngestionWorkerService.global/1.2.3.4"
	uaPolicy        = "Microsoft.PolicyInsights.DataPlane/1.0"
	uaStorage       = "Microsoft.Azure.Storage"
	uaVaultCLI      = "Go-http-client/1.1"
	uaAWSCLI        = "aws-cli/2.18.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-47-generic md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#secretsmanager.get-secret-value"
	uaAWSConsole    = "AWS Internal"
)

// orgBuilder carries the state of NewOrg.
type orgBuilder struct {
	o       *Org
	r       *rand.Rand
	subs    []string // prod, nonprod
	region  string   // the organisation's main Azure region
	awsAcct []string
	vpn     map[string]netip.Prefix // corporate VPN egress per country
	office  map[string][]netip.Prefix
	onprem  []netip.Prefix
	teams   []string
	cset    []string
	names   map[string]bool
}

// NewOrg builds the organisation of a simulation, deterministically from
// opts.Seed: its people, applications, background services and vaults.
// Zero options take the defaults (12 vaults, 30 days, 7 learning days,
// Azure and Vault, starting 2026-10-01).
func NewOrg(opts Options) *Org {
	opts = opts.withDefaults()
	r := orgRand(opts.Seed, "org")
	co := orgCompanies[r.IntN(len(orgCompanies))]
	o := &Org{
		Name:         co.name,
		Domain:       co.domain,
		TenantID:     orgGUID(r),
		Start:        opts.Start,
		Days:         opts.Days,
		LearningDays: opts.LearningDays,
		Formats:      slices.Clone(opts.Formats),
	}
	b := &orgBuilder{o: o, r: r, names: map[string]bool{}, vpn: map[string]netip.Prefix{}, office: map[string][]netip.Prefix{}}
	b.subs = []string{orgGUID(r)}
	if r.IntN(3) > 0 {
		b.subs = append(b.subs, orgGUID(r))
	}
	b.network()
	nTeams := min(max((opts.Vaults*3+3)/4, 1), len(orgTeams))
	perm := r.Perm(len(orgTeams))
	for _, i := range perm[:nTeams] {
		b.teams = append(b.teams, orgTeams[i])
	}
	b.vaults(opts.Vaults)
	b.users(max(150, 25*opts.Vaults))
	b.apps()
	b.services()
	planFor(o) // snapshot the traffic plan before anyone changes the org
	return o
}

// network lays out the organisation's egress ranges.
func (b *orgBuilder) network() {
	set := orgCountrySets[b.r.IntN(len(orgCountrySets))]
	b.cset = set
	for _, c := range set {
		oc := orgCountries[c]
		n := 1 + b.r.IntN(2)
		for range n {
			b.office[c] = append(b.office[c], orgSubPrefix(b.r, oc.Blocks[b.r.IntN(len(oc.Blocks))], 27))
		}
		b.vpn[c] = orgSubPrefix(b.r, oc.Blocks[b.r.IntN(len(oc.Blocks))], 28)
	}
	// A VPN concentrator in a country without an office: where travellers
	// come out.
	for _, c := range []string{"US", "GB", "DE", "IN"} {
		if _, ok := b.vpn[c]; !ok {
			oc := orgCountries[c]
			b.vpn[c] = orgSubPrefix(b.r, oc.Blocks[b.r.IntN(len(oc.Blocks))], 28)
		}
	}
	dc := orgCountries[set[0]]
	b.onprem = []netip.Prefix{orgSubPrefix(b.r, dc.Blocks[b.r.IntN(len(dc.Blocks))], 28)}
	b.region = regionForCountry[set[0]]
	if b.r.IntN(2) == 0 && set[0] != "US" && set[0] != "IN" {
		b.region = "westeurope"
	}
}

// mainCountries are the organisation's office countries, the biggest first.
func (b *orgBuilder) mainCountries() []string {
	return b.cset
}

func (b *orgBuilder) unique(name string) string {
	n := name
	for i := 2; b.names[n]; i++ {
		n = fmt.Sprintf("%s-%d", name, i)
	}
	b.names[n] = true
	return n
}

func (b *orgBuilder) vaults(n int) {
	envs := []string{"prod", "dev", "stg", "qa", "dr"}
	perTeam := map[string]int{}
	for i := range n {
		team := b.teams[i%len(b.teams)]
		env := envs[perTeam[team]%len(envs)]
		perTeam[team]++
		prov := b.o.Formats[i%len(b.o.Formats)]
		v := &Vault{Provider: prov, Team: team, Versions: map[string]string{}}
		switch prov {
		case HashiVault:
			if perTeam[team] == 1 {
				v.Name = b.unique("kv-" + team)
			} else {
				v.Name = b.unique("kv-" + team + "-" + env)
			}
		case AWS:
			if len(b.awsAcct) == 0 || (env != "prod" && len(b.awsAcct) < 2) {
				b.awsAcct = append(b.awsAcct, fmt.Sprintf("%012d", 100000000000+b.r.Int64N(899999999999)))
			}
			v.Account = b.awsAcct[0]
			if env != "prod" {
				v.Account = b.awsAcct[len(b.awsAcct)-1]
			}
			// An AWS "vault" is Secrets Manager in one account and region:
			// the logs cannot tell two apart that share both.
			v.Region = awsRegions[b.r.IntN(len(awsRegions))].Name
			for i := 0; b.names["aws:"+v.Account+"/"+v.Region]; i++ {
				if i == len(awsRegions) {
					b.awsAcct = append(b.awsAcct, fmt.Sprintf("%012d", 100000000000+b.r.Int64N(899999999999)))
					v.Account = b.awsAcct[len(b.awsAcct)-1]
				}
				v.Region = awsRegions[(i+1)%len(awsRegions)].Name
			}
			b.names["aws:"+v.Account+"/"+v.Region] = true
			v.Name = b.unique("sm-" + team + "-" + env)
		default:
			v.Name = b.unique("kv-" + team + "-" + env)
			v.Subscription = b.subs[0]
			if env != "prod" {
				v.Subscription = b.subs[len(b.subs)-1]
			}
			v.ResourceGroup = strings.ToUpper("rg-" + team + "-" + env)
			v.Location = b.region
			if b.r.IntN(5) == 0 {
				v.Location = azureRegions[b.r.IntN(len(azureRegions))].Name
			}
		}
		b.objects(v, env)
		b.o.Vaults = append(b.o.Vaults, v)
	}
}

// objects fills a vault's secrets, keys, certificates and decoys.
func (b *orgBuilder) objects(v *Vault, env string) {
	r := b.r
	n := 10 + r.IntN(71)
	seen := map[string]bool{}
	pool := slices.Clone(orgSecretBase)
	r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	for _, s := range pool {
		if len(v.Secrets) >= n*2/3 {
			break
		}
		seen[s] = true
		v.Secrets = append(v.Secrets, s)
	}
	for len(v.Secrets) < n {
		s := orgComponents[r.IntN(len(orgComponents))] + "-" + orgSecretBase[r.IntN(len(orgSecretBase))]
		if !seen[s] {
			seen[s] = true
			v.Secrets = append(v.Secrets, s)
		}
	}
	nd := 1 + r.IntN(2)
	for _, i := range r.Perm(len(orgDecoyNames))[:nd] {
		v.Decoys = append(v.Decoys, orgDecoyNames[i])
		v.Secrets = append(v.Secrets, orgDecoyNames[i])
	}
	slices.Sort(v.Secrets)
	slices.Sort(v.Decoys)
	switch v.Provider {
	case Azure:
		v.Keys = append(v.Keys, "cmk-storage-"+env)
		for _, k := range []string{"jwt-signing", "tde-sql-" + env, "data-encryption-key", "webhook-signing"} {
			if r.IntN(2) == 0 {
				v.Keys = append(v.Keys, k)
			}
		}
		for _, c := range []string{v.Team + "-api-tls", "wildcard-" + env + "-tls", v.Team + "-client-auth", "saml-signing"} {
			if r.IntN(2) == 0 {
				v.Certificates = append(v.Certificates, c)
			}
		}
	case AWS:
		v.Keys = []string{"alias/" + v.Team + "-" + env + "-secrets"}
	}
	for _, name := range slices.Concat(v.Secrets, v.Keys, v.Certificates) {
		v.Versions[name] = orgVersion(v, orgKey(b.o), name, 0)
	}
}

// orgKey is the seed of everything derived from an organisation after it
// is built: traffic plans, versions.
func orgKey(o *Org) uint64 {
	return orgHash("org", o.TenantID, o.Name, o.Domain)
}

// orgVersion is the version string of an object after epoch changes.
func orgVersion(v *Vault, key uint64, name string, epoch int) string {
	h := orgHash(fmt.Sprint(key), v.Name, name)
	switch v.Provider {
	case HashiVault:
		return fmt.Sprint(1 + int(h%23) + epoch)
	case AWS:
		r := rand.New(rand.NewPCG(h, uint64(epoch)))
		return orgGUID(r)
	default:
		r := rand.New(rand.NewPCG(h, uint64(epoch)))
		return fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64())
	}
}

func (b *orgBuilder) users(n int) {
	r := b.r
	cs := b.mainCountries()
	weights := []int{55, 30, 15}
	teamVaults := map[string][]*Vault{}
	for _, v := range b.o.Vaults {
		teamVaults[v.Team] = append(teamVaults[v.Team], v)
	}
	upns := map[string]bool{}
	adminsLeft := map[string]int{}
	for _, t := range b.teams {
		adminsLeft[t] = 2 + r.IntN(2)
	}
	for i := range n {
		team := b.teams[i%len(b.teams)]
		w := r.IntN(100)
		c := cs[0]
		for j, cc := range cs {
			if w < weights[j] || j == len(cs)-1 {
				c = cc
				break
			}
			w -= weights[j]
		}
		oc := orgCountries[c]
		first, last := oc.First[r.IntN(len(oc.First))], oc.Last[r.IntN(len(oc.Last))]
		local := first + "." + last
		for k := 2; upns[local]; k++ {
			local = fmt.Sprintf("%s.%s%d", first, last, k)
		}
		upns[local] = true
		p := &Principal{
			Kind:     KindUser,
			Name:     local,
			ObjectID: orgGUID(r),
			UPN:      local + "@" + b.o.Domain,
			TenantID: b.o.TenantID,
			Country:  c,
			TZ:       oc.Zone,
			Team:     team,
			Networks: append(slices.Clone(b.office[c]), b.vpn[c]),
		}
		if adminsLeft[team] > 0 {
			adminsLeft[team]--
			p.Admin = true
		}
		switch x := r.IntN(10); {
		case p.Admin || x < 6:
			p.AppID = appIDAzurePortal
			p.UserAgent = orgBrowsers[r.IntN(len(orgBrowsers))]
		case x < 9:
			p.AppID = appIDAzureCLI
			p.UserAgent = uaAzureCLI
		default:
			p.AppID = appIDAzurePowerShell
			p.UserAgent = uaAzurePS
		}
		if slices.Contains(b.o.Formats, HashiVault) {
			p.VaultEntity = orgGUID(r)
			p.VaultRole = "oidc"
			p.Accessor = orgAlnum(r, 24)
			p.Policies = []string{"default", team + "-developers"}
			if p.Admin {
				p.Policies = []string{"default", team + "-admins"}
			}
		}
		if len(b.awsAcct) > 0 {
			role := "AWSReservedSSO_" + strings.ToUpper(team[:1]) + team[1:] + "Developer_" + fmt.Sprintf("%016x", orgHash(b.o.TenantID, team)&0xffffffffffffffff)
			p.ARN = "arn:aws:sts::" + b.awsAcct[0] + ":assumed-role/" + role + "/" + p.UPN
			p.AccessKeyID = "ASIA" + strings.ToUpper(orgAlnum(r, 16))
		}
		p.Vaults = slices.Clone(teamVaults[team])
		b.o.Users = append(b.o.Users, p)
	}
}

func (b *orgBuilder) apps() {
	r := b.r
	for _, v := range b.o.Vaults {
		n := 3 + r.IntN(4)
		comps := r.Perm(len(orgComponents))
		for i := range n {
			name := v.Team + "-" + orgComponents[comps[i]]
			if i == 0 {
				name = v.Team + "-release-pipeline"
			}
			if !strings.HasSuffix(v.Name, v.Team) && !strings.HasSuffix(v.Name, "-prod") {
				name += "-" + v.Name[strings.LastIndexByte(v.Name, '-')+1:]
			}
			p := b.app(v, b.unique(name), i == 0)
			b.o.Apps = append(b.o.Apps, p)
		}
	}
	// A second vault of the same team and provider, for some applications.
	for _, p := range b.o.Apps {
		if r.IntN(4) != 0 {
			continue
		}
		for _, v := range b.o.Vaults {
			if v != p.Vaults[0] && v.Team == p.Team && v.Provider == p.Vaults[0].Provider {
				p.Vaults = append(p.Vaults, v)
				break
			}
		}
	}
	// Automation: the rotation job of each provider, authorised everywhere.
	for _, prov := range b.o.Formats {
		var vs []*Vault
		for _, v := range b.o.Vaults {
			if v.Provider == prov {
				vs = append(vs, v)
			}
		}
		if len(vs) == 0 {
			continue
		}
		p := b.app(vs[0], b.unique("platform-secret-rotator-"+string(prov)), false)
		p.Team = "platform"
		p.Vaults = vs
		b.o.Apps = append(b.o.Apps, p)
	}
}

// app creates an application identity whose home is vault v.
func (b *orgBuilder) app(v *Vault, name string, pipeline bool) *Principal {
	r := b.r
	p := &Principal{Name: name, Team: v.Team, TenantID: b.o.TenantID, ObjectID: orgGUID(r), AppID: orgGUID(r), TZ: time.UTC, Vaults: []*Vault{v}}
	uas := orgAppUserAgents[v.Provider]
	p.UserAgent = uas[r.IntN(len(uas))]
	switch v.Provider {
	case Azure:
		reg := azureRegions[0]
		for _, ar := range azureRegions {
			if ar.Name == v.Location {
				reg = ar
			}
		}
		p.Country = reg.Country
		switch {
		case pipeline:
			p.Kind = KindServicePrincipal
			p.UserAgent = "azsdk-net-Security.KeyVault.Secrets/4.6.0 (.NET 8.0.10; Microsoft Windows 10.0.20348)"
			p.Networks = []netip.Prefix{orgSubPrefix(r, reg.Blocks[r.IntN(len(reg.Blocks))], 26)}
		case r.IntN(5) == 0:
			p.Kind = KindServicePrincipal
			p.Networks = b.onprem
			p.Country = orgCountries[b.mainCountries()[0]].Code
		case r.IntN(3) == 0:
			p.Kind = KindServicePrincipal
			p.Networks = []netip.Prefix{orgSubPrefix(r, reg.Blocks[r.IntN(len(reg.Blocks))], 28)}
		default:
			p.Kind = KindManagedIdentity
			p.MIResource = "/subscriptions/" + v.Subscription + "/resourcegroups/" + strings.ToLower(v.ResourceGroup) +
				"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-" + name
			p.Networks = []netip.Prefix{orgSubPrefix(r, reg.Blocks[r.IntN(len(reg.Blocks))], 28)}
		}
	case HashiVault:
		p.Kind = KindServicePrincipal
		p.VaultEntity = orgGUID(r)
		p.Accessor = orgAlnum(r, 24)
		p.Policies = []string{"default", name}
		if pipeline || r.IntN(3) == 0 {
			p.VaultRole = "approle"
			p.Networks = b.onprem
			p.Country = b.mainCountries()[0]
		} else {
			p.VaultRole = "kubernetes"
			reg := azureRegions[r.IntN(len(azureRegions))]
			p.Networks = []netip.Prefix{orgSubPrefix(r, reg.Blocks[r.IntN(len(reg.Blocks))], 28)}
			p.Country = reg.Country
		}
	case AWS:
		p.Kind = KindServicePrincipal
		reg := awsRegions[0]
		for _, ar := range awsRegions {
			if ar.Name == v.Region {
				reg = ar
			}
		}
		p.Country = reg.Country
		p.ARN = "arn:aws:sts::" + v.Account + ":assumed-role/" + name + "-role/i-0" + orgHex(r, 16)
		p.AccessKeyID = "ASIA" + strings.ToUpper(orgAlnum(r, 16))
		p.Networks = []netip.Prefix{orgSubPrefix(r, reg.Blocks[r.IntN(len(reg.Blocks))], 28)}
	}
	return p
}

func (b *orgBuilder) services() {
	r := b.r
	var az []*Vault
	for _, v := range b.o.Vaults {
		if v.Provider == Azure {
			az = append(az, v)
		}
	}
	if len(az) > 0 {
		svc := func(name, appID, ua string) *Principal {
			return &Principal{
				Kind: KindProviderService, Name: name, AppID: appID, ObjectID: orgGUID(r), TenantID: b.o.TenantID,
				UserAgent: ua, TZ: time.UTC, Country: "US",
				Networks: []netip.Prefix{orgSubPrefix(r, microsoftServiceBlocks[r.IntN(len(microsoftServiceBlocks))], 24)},
				Vaults:   slices.Clone(az),
			}
		}
		b.o.Services = append(b.o.Services,
			svc("Azure Resource Graph", appIDResourceGraph, uaResourceGraph),
			svc("Policy Insights", appIDPolicyInsights, uaPolicy))
		// Storage accounts encrypted with a customer-managed key in each
		// vault: their system-assigned identities unwrap all day.
		for _, v := range az {
			acct := "st" + strings.ReplaceAll(v.Team+v.Name[strings.LastIndexByte(v.Name, '-')+1:], "-", "") + orgHex(r, 4)
			reg := azureRegions[0]
			for _, ar := range azureRegions {
				if ar.Name == v.Location {
					reg = ar
				}
			}
			b.o.Services = append(b.o.Services, &Principal{
				Kind: KindManagedIdentity, Name: acct, ObjectID: orgGUID(r), AppID: orgGUID(r), TenantID: b.o.TenantID,
				MIResource: "/subscriptions/" + v.Subscription + "/resourcegroups/" + strings.ToLower(v.ResourceGroup) +
					"/providers/Microsoft.Storage/storageAccounts/" + acct,
				UserAgent: uaStorage, TZ: time.UTC, Country: reg.Country, Team: v.Team,
				Networks: []netip.Prefix{orgSubPrefix(r, reg.Blocks[r.IntN(len(reg.Blocks))], 27)},
				Vaults:   []*Vault{v},
			})
		}
	}
	if len(b.awsAcct) > 0 {
		b.o.Services = append(b.o.Services, &Principal{
			Kind: KindProviderService, Name: "secretsmanager.amazonaws.com", TZ: time.UTC, Country: "US",
			UserAgent: "secretsmanager.amazonaws.com", ObjectID: orgGUID(r),
			Vaults: func() []*Vault {
				var vs []*Vault
				for _, v := range b.o.Vaults {
					if v.Provider == AWS {
						vs = append(vs, v)
					}
				}
				return vs
			}(),
		})
	}
}

func orgGUID(r *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, 0x8000|r.Uint32()&0x3fff, r.Uint64()&0xffffffffffff)
}

func orgHex(r *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.IntN(16)]
	}
	return string(b)
}

func orgAlnum(r *rand.Rand, n int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return string(b)
}
