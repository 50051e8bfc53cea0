package intel

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vaultwatch/internal/testutil"
)

// TestGolden classifies testdata/addresses.txt against the fixtures and
// compares the labels and the load summary with testdata/classify.golden
// (go test -update rewrites it).
func TestGolden(t *testing.T) {
	s := fixtureSet(t)
	f, err := os.Open(filepath.Join("testdata", "addresses.txt"))
	must(t, err)
	defer f.Close()
	var out strings.Builder
	out.WriteString(s.Stats().String())
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		a, err := netip.ParseAddr(l)
		must(t, err)
		fmt.Fprintf(&out, "%-40s %s\n", l, strings.Join(s.Classify(a).Labels(), " "))
	}
	must(t, sc.Err())
	testutil.Golden(t, filepath.Join("testdata", "classify.golden"), []byte(out.String()))
}
