//go:build unix

package file

import (
	"io/fs"
	"strconv"
	"syscall"
)

// identity returns a file's stable identity: its device and inode, which
// survive a rename. The path is used only where the system gives neither.
func identity(fi fs.FileInfo, path string) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "path:" + path
	}
	return strconv.FormatUint(uint64(st.Dev), 10) + ":" + strconv.FormatUint(uint64(st.Ino), 10)
}
