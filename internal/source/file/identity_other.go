//go:build !unix

package file

import "io/fs"

// identity returns a file's identity. Without device and inode numbers the
// path is all there is: a renamed file is a new file.
func identity(_ fs.FileInfo, path string) string {
	return "path:" + path
}
