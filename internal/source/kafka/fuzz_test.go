package kafka

import (
	"strings"
	"testing"
)

// FuzzParseEventHubsConnectionString: no input panics, a parsed string
// names a host, and no error quotes the shared access key.
func FuzzParseEventHubsConnectionString(f *testing.F) {
	f.Add(testConn)
	f.Add("Endpoint=sb://a/;SharedAccessKeyName=k;SharedAccessKey=v")
	f.Add("Endpoint=sb://[::1]:5671/;SharedAccessKey=;EntityPath")
	f.Add(";;=;Endpoint=%zz")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseEventHubsConnectionString(s)
		if err != nil {
			for part := range strings.SplitSeq(s, ";") {
				k, v, ok := strings.Cut(part, "=")
				v = strings.TrimSpace(v)
				if ok && strings.EqualFold(strings.TrimSpace(k), "SharedAccessKey") && len(v) >= 6 && strings.Contains(err.Error(), v) {
					t.Fatalf("error %q quotes the key", err)
				}
			}
			return
		}
		if c.Host == "" || c.Key == "" || c.KeyName == "" || !strings.HasSuffix(c.Broker(), ":9093") {
			t.Fatalf("parsed %q into %+v", s, c)
		}
	})
}
