package hashivault

import (
	"testing"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/event"
)

// A KV v2 read by an approle token, as Vault 1.21 writes it.
const (
	benchRequest  = `{"auth":{"accessor":"hmac-sha256:771d68e05ba7b92d14f9e30c0777b0cf9c7ef4aa9e72cbfc843f156d23921a9b","client_token":"hmac-sha256:0c8d5e0b4c9b0f3f1f1c0c3a37e9d9b8c4e6f2a1b0c9d8e7f6a5b4c3d2e1f0a9","display_name":"approle","entity_id":"7d1c2a9e-0b3f-4c5d-8e6f-1a2b3c4d5e6f","metadata":{"role_name":"payments-api"},"policies":["default","payments-read"],"policy_results":{"allowed":true,"granting_policies":[{"type":""},{"name":"payments-read","namespace_id":"root","type":"acl"}]},"token_policies":["default","payments-read"],"token_issue_time":"2026-03-02T09:00:00Z","token_ttl":3600,"token_type":"service"},"request":{"client_id":"7d1c2a9e-0b3f-4c5d-8e6f-1a2b3c4d5e6f","client_token":"hmac-sha256:0c8d5e0b4c9b0f3f1f1c0c3a37e9d9b8c4e6f2a1b0c9d8e7f6a5b4c3d2e1f0a9","client_token_accessor":"hmac-sha256:771d68e05ba7b92d14f9e30c0777b0cf9c7ef4aa9e72cbfc843f156d23921a9b","headers":{"user-agent":["vault-client-go/0.4.3"]},"id":"5f0b2d7e-8c1a-4f3e-9b6d-2a7c4e1f0a11","mount_accessor":"kv_56819014","mount_class":"secret","mount_point":"kv-payments/","mount_running_version":"v0.25.0+builtin","mount_type":"kv","namespace":{"id":"root"},"operation":"read","path":"kv-payments/data/stripe/api-key","remote_address":"172.16.4.21","remote_port":51234},"time":"2026-03-02T10:00:00.100000000Z","type":"request"}`
	benchResponse = `{"auth":{"accessor":"hmac-sha256:771d68e05ba7b92d14f9e30c0777b0cf9c7ef4aa9e72cbfc843f156d23921a9b","client_token":"hmac-sha256:0c8d5e0b4c9b0f3f1f1c0c3a37e9d9b8c4e6f2a1b0c9d8e7f6a5b4c3d2e1f0a9","display_name":"approle","entity_id":"7d1c2a9e-0b3f-4c5d-8e6f-1a2b3c4d5e6f","metadata":{"role_name":"payments-api"},"policies":["default","payments-read"],"policy_results":{"allowed":true,"granting_policies":[{"type":""},{"name":"payments-read","namespace_id":"root","type":"acl"}]},"token_policies":["default","payments-read"],"token_issue_time":"2026-03-02T09:00:00Z","token_ttl":3600,"token_type":"service"},"request":{"client_id":"7d1c2a9e-0b3f-4c5d-8e6f-1a2b3c4d5e6f","client_token":"hmac-sha256:0c8d5e0b4c9b0f3f1f1c0c3a37e9d9b8c4e6f2a1b0c9d8e7f6a5b4c3d2e1f0a9","client_token_accessor":"hmac-sha256:771d68e05ba7b92d14f9e30c0777b0cf9c7ef4aa9e72cbfc843f156d23921a9b","headers":{"user-agent":["vault-client-go/0.4.3"]},"id":"5f0b2d7e-8c1a-4f3e-9b6d-2a7c4e1f0a11","mount_accessor":"kv_56819014","mount_class":"secret","mount_point":"kv-payments/","mount_running_version":"v0.25.0+builtin","mount_type":"kv","namespace":{"id":"root"},"operation":"read","path":"kv-payments/data/stripe/api-key","remote_address":"172.16.4.21","remote_port":51234},"response":{"data":{"data":{"key":"hmac-sha256:5d62a80ebb42c7c9d22a5f894f5f3ab264a2d940489cb0b9a9ecf7f1395a23bb"},"metadata":{"created_time":"hmac-sha256:9c910646d7399704ee015b4247b374bfb950282339d902a221b1ff4c83b13ee7","custom_metadata":null,"deletion_time":"hmac-sha256:17a84bc5c1c7ee851af0069663ab9de3c879107724470fa34fc0b5418fb653db","destroyed":false,"version":3}},"mount_accessor":"kv_56819014","mount_class":"secret","mount_point":"kv-payments/","mount_running_plugin_version":"v0.25.0+builtin","mount_type":"kv"},"time":"2026-03-02T10:00:00.100812345Z","type":"response"}`
)

// BenchmarkDecode parses and decodes a request entry and its response (one
// event) per iteration with a reused parser.
func BenchmarkDecode(b *testing.B) {
	req, resp := []byte(benchRequest), []byte(benchResponse)
	var p fastjson.Parser
	d := NewDecoder()
	events := 0
	emit := func(*event.Event) { events++ }
	b.ReportAllocs()
	b.SetBytes(int64(len(req) + len(resp)))
	for b.Loop() {
		v, err := p.ParseBytes(req)
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Decode(v, event.Location{}, emit); err != nil {
			b.Fatal(err)
		}
		v, err = p.ParseBytes(resp)
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Decode(v, event.Location{}, emit); err != nil {
			b.Fatal(err)
		}
	}
	if events == 0 {
		b.Fatal("no events")
	}
}

// BenchmarkDecodeResponse decodes a response entry whose request was not
// seen: the event costs its correlation id.
func BenchmarkDecodeResponse(b *testing.B) {
	resp := []byte(benchResponse)
	var p fastjson.Parser
	d := NewDecoder()
	emit := func(*event.Event) {}
	b.ReportAllocs()
	b.SetBytes(int64(len(resp)))
	for b.Loop() {
		v, err := p.ParseBytes(resp)
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Decode(v, event.Location{}, emit); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJSONX converts one jsonx entry.
func BenchmarkJSONX(b *testing.B) {
	in := []byte(jsonxEntry)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := JSONX(in); err != nil {
			b.Fatal(err)
		}
	}
}
