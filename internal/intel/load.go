package intel

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Kinds of file LoadFile reads.
const (
	KindTor   = "tor"
	KindList  = "list"
	KindCloud = "cloud"
	KindGeoIP = "geoip"
)

// LoadFile loads the file at path as kind: KindTor (AddTor), KindList
// (AddList, named after the file's base name without its extensions:
// "ipsum-level3.txt.gz" is "ipsum-level3"), KindCloud (AddCloudRanges) or
// KindGeoIP (LoadGeoIP). A gzip-compressed file is read transparently,
// whatever its name. Errors and Stats name the file by its base name.
func (s *Set) LoadFile(path, kind string) error {
	if kind == KindGeoIP {
		return s.LoadGeoIP(path)
	}
	if kind != KindTor && kind != KindList && kind != KindCloud {
		return fmt.Errorf("%s: kind %q: %w (want tor, list, cloud or geoip)", path, kind, ErrUnknownFormat)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("threat intel: %w", err)
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if magic, _ := r.(*bufio.Reader).Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	base := filepath.Base(path)
	switch kind {
	case KindTor:
		return s.AddTor(r, base)
	case KindList:
		return s.addList(r, ListName(path), base)
	default:
		return s.AddCloudRanges(r, base)
	}
}

// ListName is the list name LoadFile gives the file at path: its base name
// without ".gz" and one more extension.
func ListName(path string) string {
	name := strings.TrimSuffix(filepath.Base(path), ".gz")
	return strings.TrimSuffix(name, filepath.Ext(name))
}
