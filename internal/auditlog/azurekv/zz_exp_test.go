package azurekv

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/valyala/fastjson"
	"vaultwatch/internal/event"
)

func expRec(b *testing.B) []byte {
	raw := readRecords(b, filepath.Join("testdata", "native-secret-get-user", "input.json"))[0]
	var buf bytes.Buffer
	json.Compact(&buf, raw)
	return buf.Bytes()
}

func BenchmarkExpParse(b *testing.B) {
	rec := expRec(b)
	var p fastjson.Parser
	for i := 0; i < b.N; i++ {
		p.ParseBytes(rec)
	}
}

func BenchmarkExpVisitEmpty(b *testing.B) {
	rec := expRec(b)
	var p fastjson.Parser
	n := 0
	for i := 0; i < b.N; i++ {
		v, _ := p.ParseBytes(rec)
		v.GetObject().Visit(func(k []byte, x *fastjson.Value) { n++ })
		v.GetObject("properties").Visit(func(k []byte, x *fastjson.Value) { n++ })
		v.GetObject("identity", "claim").Visit(func(k []byte, x *fastjson.Value) { n++ })
	}
}

func BenchmarkExpVisitTop(b *testing.B) {
	rec := expRec(b)
	var p fastjson.Parser
	var f fields
	for i := 0; i < b.N; i++ {
		v, _ := p.ParseBytes(rec)
		f.reset()
		v.GetObject().Visit(func(k []byte, x *fastjson.Value) { f.top(k, x) })
		v.GetObject("properties").Visit(func(k []byte, x *fastjson.Value) { f.prop(k, x) })
		v.GetObject("identity", "claim").Visit(func(k []byte, x *fastjson.Value) { f.claims.set(k, x) })
	}
}

func BenchmarkExpGets(b *testing.B) {
	rec := expRec(b)
	var p fastjson.Parser
	var f fields
	for i := 0; i < b.N; i++ {
		v, _ := p.ParseBytes(rec)
		o := v.GetObject()
		f.time = o.Get("time")
		f.resourceID = str(o.Get("resourceId"))
		f.op = str(o.Get("operationName"))
		f.category = str(o.Get("category"))
		f.signature = str(o.Get("resultSignature"))
		f.ip = str(o.Get("callerIpAddress"))
		f.correlation = str(o.Get("correlationId"))
		f.identity = o.Get("identity")
		pr := o.Get("properties").GetObject()
		f.id = str(pr.Get("id"))
		f.clientInfo = str(pr.Get("clientInfo"))
		f.status = pr.Get("httpStatusCode")
		f.requestURI = pr.Get("requestUri")
		f.apMatch = pr.Get("isAccessPolicyMatch")
		f.rbac = pr.Get("isRbacAuthorized")
		c := f.identity.GetObject("claim")
		f.claims.oid = str(c.Get("oid"))
		f.claims.upn = str(c.Get("upn"))
		f.claims.appid = str(c.Get("appid"))
		f.claims.idtyp = str(c.Get("idtyp"))
		f.claims.tid = str(c.Get("tid"))
		f.claims.mirid = str(c.Get("xms_mirid"))
	}
}

func threadCPU() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func cpuBench(b *testing.B, f func(n int)) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	t0 := threadCPU()
	f(b.N)
	b.ReportMetric(float64(threadCPU()-t0)/float64(b.N), "cpu-ns/op")
}

func BenchmarkCPUParse(b *testing.B) {
	rec := expRec(b)
	var p fastjson.Parser
	cpuBench(b, func(n int) {
		for i := 0; i < n; i++ {
			p.ParseBytes(rec)
		}
	})
}

func BenchmarkCPUDecode(b *testing.B) {
	rec := expRec(b)
	var p fastjson.Parser
	d := NewDecoder()
	cpuBench(b, func(n int) {
		for i := 0; i < n; i++ {
			v, _ := p.ParseBytes(rec)
			d.Decode(v, event.Location{}, func(*event.Event) {})
		}
	})
}
