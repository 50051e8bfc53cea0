package kafka

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const (
	testKey  = "c2VjcmV0LWtleS1kby1ub3QtcHJpbnQ="
	testConn = "Endpoint=sb://vw-ns.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=" + testKey + ";EntityPath=keyvault-logs"
)

func TestParseEventHubsConnectionString(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    EventHubsConnection
		wantErr []string // each must appear in the error
	}{
		{
			name: "event hub",
			in:   testConn,
			want: EventHubsConnection{Host: "vw-ns.servicebus.windows.net", KeyName: "listen", Key: testKey, EntityPath: "keyvault-logs"},
		},
		{
			name: "namespace, no EntityPath, spaces and a trailing semicolon",
			in:   " Endpoint=sb://vw-ns.servicebus.windows.net/ ; SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=" + testKey + ";",
			want: EventHubsConnection{Host: "vw-ns.servicebus.windows.net", KeyName: "RootManageSharedAccessKey", Key: testKey},
		},
		{
			name: "keys in any case, unknown parts ignored",
			in:   "endpoint=sb://vw-ns.servicebus.chinacloudapi.cn;sharedaccesskeyname=l;sharedaccesskey=k==;entitypath=h;TransportType=Amqp",
			want: EventHubsConnection{Host: "vw-ns.servicebus.chinacloudapi.cn", KeyName: "l", Key: "k==", EntityPath: "h"},
		},
		{
			name:    "missing Endpoint",
			in:      "SharedAccessKeyName=listen;SharedAccessKey=" + testKey,
			wantErr: []string{"Endpoint is missing"},
		},
		{
			name:    "missing SharedAccessKey",
			in:      "Endpoint=sb://vw-ns.servicebus.windows.net/;SharedAccessKeyName=listen",
			wantErr: []string{"SharedAccessKey is missing"},
		},
		{
			name:    "empty SharedAccessKey and no key name",
			in:      "Endpoint=sb://vw-ns.servicebus.windows.net/;SharedAccessKey=",
			wantErr: []string{"SharedAccessKey is missing", "SharedAccessKeyName is missing"},
		},
		{
			name:    "endpoint not sb",
			in:      "Endpoint=https://vw-ns.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=" + testKey,
			wantErr: []string{"Endpoint does not start with sb://"},
		},
		{
			name:    "endpoint without host",
			in:      "Endpoint=sb:///;SharedAccessKeyName=listen;SharedAccessKey=" + testKey,
			wantErr: []string{"names no host"},
		},
		{
			name:    "a part without =, key pasted alone",
			in:      "Endpoint=sb://vw-ns.servicebus.windows.net/;SharedAccessKeyName=listen;" + strings.TrimSuffix(testKey, "="),
			wantErr: []string{"part 3 is not Key=Value", "SharedAccessKey is missing"},
		},
		{
			name:    "empty",
			in:      "",
			wantErr: []string{"Endpoint is missing", "SharedAccessKeyName is missing", "SharedAccessKey is missing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEventHubsConnectionString(tt.in)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("no error, got %+v", got)
				}
				if !errors.Is(err, ErrConnectionString) {
					t.Errorf("error %v is not ErrConnectionString", err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not say %q", err, w)
					}
				}
				if strings.Contains(err.Error(), strings.TrimRight(testKey, "=")) {
					t.Errorf("error %q quotes the key", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if b := got.Broker(); b != tt.want.Host+":9093" {
				t.Errorf("broker %q", b)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := Config{Name: "k", Brokers: []string{"127.0.0.1:9092"}, Topics: []string{"t"}}
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr []string
	}{
		{"minimal", func(*Config) {}, nil},
		{"sasl scram", func(c *Config) { c.SASL = SASL{Mechanism: "SCRAM-SHA-512", User: "u", Password: "p"} }, nil},
		{"event hubs with EntityPath", func(c *Config) {
			c.Brokers, c.Topics, c.EventHubsConnectionString = nil, nil, testConn
		}, nil},
		{"nothing", func(c *Config) { *c = Config{} }, []string{
			"name is required", "brokers is empty", "topics is empty",
		}},
		{"bad values", func(c *Config) {
			c.Brokers = []string{"127.0.0.1"}
			c.Topics = []string{""}
			c.StartOffset = "oldest"
			c.MaxChunkBytes = -1
		}, []string{`brokers[0] "127.0.0.1" is not host:port`, "topics[0] is empty", `start_offset "oldest"`, "max_chunk_bytes -1"}},
		{"sasl incomplete", func(c *Config) { c.SASL = SASL{Mechanism: "GSSAPI"} }, []string{
			`mechanism "GSSAPI"`, "user is required", "password or password_file is required",
		}},
		{"sasl both passwords", func(c *Config) {
			c.SASL = SASL{Mechanism: "PLAIN", User: "u", Password: "p", PasswordFile: "f"}
		}, []string{"password and password_file are exclusive"}},
		{"sasl without mechanism", func(c *Config) { c.SASL = SASL{User: "u", Password: "p"} }, []string{
			"without a mechanism",
		}},
		{"event hubs with brokers and sasl", func(c *Config) {
			c.EventHubsConnectionString = testConn
			c.SASL = SASL{Mechanism: "PLAIN", User: "u", Password: "p"}
		}, []string{"brokers and an Event Hubs connection string are exclusive", "sasl and an Event Hubs connection string are exclusive"}},
		{"event hubs namespace without topics", func(c *Config) {
			c.Brokers, c.Topics = nil, nil
			c.EventHubsConnectionString = "Endpoint=sb://vw-ns.servicebus.windows.net/;SharedAccessKeyName=l;SharedAccessKey=" + testKey
		}, []string{"names no EntityPath"}},
		{"event hubs bad string", func(c *Config) {
			c.Brokers = nil
			c.EventHubsConnectionString = "SharedAccessKey=" + testKey
		}, []string{"Endpoint is missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := c.Validate()
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrConfig) && !errors.Is(err, ErrConnectionString) {
				t.Errorf("error %v is neither ErrConfig nor ErrConnectionString", err)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error quotes the key: %q", err)
			}
			if _, nerr := New(c); nerr == nil {
				t.Error("New accepted the config")
			}
		})
	}
}

func TestNewEventHubs(t *testing.T) {
	c, err := New(Config{Name: "eh", EventHubsConnectionString: testConn})
	if err != nil {
		t.Fatal(err)
	}
	r := c.cfg
	if len(r.Brokers) != 1 || r.Brokers[0] != "vw-ns.servicebus.windows.net:9093" {
		t.Errorf("brokers %v", r.Brokers)
	}
	if len(r.Topics) != 1 || r.Topics[0] != "keyvault-logs" {
		t.Errorf("topics %v", r.Topics)
	}
	if !r.TLS || r.SASL.Mechanism != "PLAIN" || r.SASL.User != "$ConnectionString" || string(r.SASL.Password) != testConn {
		t.Errorf("tls %v sasl %s", r.TLS, r.SASL)
	}
	if r.Group != "vaultwatch" || r.StartOffset != "earliest" || r.MaxChunkBytes != DefaultMaxChunkBytes {
		t.Errorf("defaults: group %q start %q max %d", r.Group, r.StartOffset, r.MaxChunkBytes)
	}

	// Topics win over EntityPath.
	c, err = New(Config{Name: "eh", EventHubsConnectionString: testConn, Topics: []string{"other"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.Topics[0] != "other" {
		t.Errorf("topics %v", c.cfg.Topics)
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	conn := filepath.Join(dir, "conn")
	pw := filepath.Join(dir, "pw")
	empty := filepath.Join(dir, "empty")
	for name, content := range map[string]string{conn: testConn + "\n", pw: "pw-from-file\r\n", empty: "\n"} {
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := New(Config{Name: "eh", EventHubsConnectionStringFile: conn})
	if err != nil {
		t.Fatal(err)
	}
	if string(c.cfg.SASL.Password) != testConn || c.cfg.Topics[0] != "keyvault-logs" {
		t.Errorf("connection string from file not used: %v", c.cfg)
	}
	c, err = New(Config{Name: "k", Brokers: []string{"h:1"}, Topics: []string{"t"}, SASL: SASL{Mechanism: "PLAIN", User: "u", PasswordFile: pw}})
	if err != nil {
		t.Fatal(err)
	}
	if string(c.cfg.SASL.Password) != "pw-from-file" {
		t.Error("password from file not read")
	}
	for _, f := range []string{empty, filepath.Join(dir, "missing")} {
		_, err = New(Config{Name: "k", Brokers: []string{"h:1"}, Topics: []string{"t"}, SASL: SASL{Mechanism: "PLAIN", User: "u", PasswordFile: f}})
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("%s: error %v does not name the file", f, err)
		}
	}
}

func TestRedaction(t *testing.T) {
	const pw = "hunter2-very-secret"
	configs := []Config{
		{Name: "k", Brokers: []string{"h:9092"}, Topics: []string{"t"}, SASL: SASL{Mechanism: "PLAIN", User: "u", Password: pw}},
		{Name: "eh", EventHubsConnectionString: testConn},
	}
	for _, cfg := range configs {
		var out bytes.Buffer
		for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			fmt.Fprintf(&out, format+"\n", cfg)
			fmt.Fprintf(&out, format+"\n", &cfg)
			fmt.Fprintf(&out, format+"\n", cfg.SASL)
			fmt.Fprintf(&out, format+"\n", cfg.SASL.Password)
			fmt.Fprintf(&out, format+"\n", cfg.EventHubsConnectionString)
		}
		for _, h := range []slog.Handler{slog.NewJSONHandler(&out, nil), slog.NewTextHandler(&out, nil)} {
			l := slog.New(h)
			l.Info("config", "cfg", cfg, "sasl", cfg.SASL, "pw", cfg.SASL.Password, "conn", cfg.EventHubsConnectionString)
			l.Info("pointer", "cfg", &cfg)
		}
		j, err := json.Marshal(cfg.SASL)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(j)
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "%v %+v\n", c.cfg, c.cfg)
		for _, secret := range []string{pw, testKey, "SharedAccessKey="} {
			if bytes.Contains(out.Bytes(), []byte(secret)) {
				t.Errorf("%q printed:\n%s", secret, out.String())
			}
		}
		if !bytes.Contains(out.Bytes(), []byte("<secret>")) {
			t.Errorf("no <secret> in:\n%s", out.String())
		}
	}
}

// TestYAML decodes the keys the server's configuration file uses, strictly.
func TestYAML(t *testing.T) {
	const doc = `
brokers: [broker-1:9093, broker-2:9093]
topics: [insights-logs-auditevent, vault-audit]
group: vaultwatch-prod
tls: true
tls_ca_file: ca.pem
sasl:
  mechanism: SCRAM-SHA-512
  user: vaultwatch
  password_file: /run/secrets/kafka
start_offset: latest
max_chunk_bytes: 4194304
shutdown_grace: 10s
`
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	want := Config{
		Brokers: []string{"broker-1:9093", "broker-2:9093"}, Topics: []string{"insights-logs-auditevent", "vault-audit"},
		Group: "vaultwatch-prod", TLS: true, TLSCAFile: "ca.pem",
		SASL:        SASL{Mechanism: "SCRAM-SHA-512", User: "vaultwatch", PasswordFile: "/run/secrets/kafka"},
		StartOffset: "latest", MaxChunkBytes: 4 << 20, ShutdownGrace: 10 * time.Second,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("decoded %#v", c) // redacted: compare field by field on failure
		t.Errorf("got  %+v %+v %v %v %v %v", c.Brokers, c.Topics, c.Group, c.TLSCAFile, c.SASL, c.ShutdownGrace)
	}

	var eh Config
	if err := yaml.Unmarshal([]byte("event_hubs_connection_string: \""+testConn+"\"\n"), &eh); err != nil {
		t.Fatal(err)
	}
	if string(eh.EventHubsConnectionString) != testConn {
		t.Error("connection string not decoded")
	}
	dec = yaml.NewDecoder(strings.NewReader("name: x\n"))
	dec.KnownFields(true)
	if err := dec.Decode(&Config{}); err == nil {
		t.Error("name accepted inside the kafka block: the source's name is set by the server's configuration")
	}
}

func TestTLSFiles(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := Config{Name: "k", Brokers: []string{"h:9093"}, Topics: []string{"t"}}
	for _, tt := range []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{"ca not PEM", func(c *Config) { c.TLSCAFile = notPEM }, "holds no PEM certificate"},
		{"ca missing", func(c *Config) { c.TLSCAFile = filepath.Join(dir, "missing.pem") }, "missing.pem"},
		{"cert without key", func(c *Config) { c.TLSCertFile = notPEM }, "tls_cert_file and tls_key_file go together"},
		{"cert not PEM", func(c *Config) { c.TLSCertFile, c.TLSKeyFile = notPEM, notPEM }, "tls_cert_file " + notPEM},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.edit(&c)
			_, err := New(c)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want one saying %q", err, tt.wantErr)
			}
		})
	}
}
