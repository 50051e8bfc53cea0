package source

import (
	"path/filepath"
	"strings"
)

// BlobTimeKey returns "YYYYMMDDHHMM" for a path in Azure's diagnostic blob
// layout (.../y=2024/m=04/d=03/h=14/m=00/PT1H.json), "" otherwise: the
// order in which a folder of blobs is read, by the scan and the tailer.
func BlobTimeKey(p string) string {
	var y, mo, d, h, mi string
	for _, part := range strings.Split(filepath.ToSlash(p), "/") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		switch strings.ToLower(k) {
		case "y":
			y = v
		case "m":
			if h == "" {
				mo = v
			} else {
				mi = v
			}
		case "d":
			d = v
		case "h":
			h = v
		}
	}
	if y == "" || mo == "" || d == "" {
		return ""
	}
	pad := func(s string, n int) string {
		for len(s) < n {
			s = "0" + s
		}
		return s
	}
	return pad(y, 4) + pad(mo, 2) + pad(d, 2) + pad(h, 2) + pad(mi, 2)
}
