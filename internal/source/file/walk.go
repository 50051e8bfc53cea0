package file

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"vaultwatch/internal/source"
)

// found is a file seen by one discovery pass.
type found struct {
	path string
	key  string
	info fs.FileInfo
}

// discover lists the files under the configured paths, each once (by
// identity), in reading order: the configured paths in turn; within a
// folder, files of Azure's blob hour folders by their hour, the others by
// modification time, then path. Problems (a path that is missing or
// unreadable) are reported through note, once per path and kind.
func (t *Tail) discover(note func(path string, err error)) []found {
	var all []found
	seen := map[string]bool{}
	add := func(list []found) {
		for _, f := range list {
			if !seen[f.key] {
				seen[f.key] = true
				all = append(all, f)
			}
		}
	}
	for _, root := range t.cfg.Paths {
		fi, err := os.Stat(root)
		if err != nil {
			note(root, err)
			continue
		}
		if !fi.IsDir() {
			if fi.Mode().IsRegular() {
				add([]found{{path: root, key: identity(fi, root), info: fi}})
			}
			continue
		}
		add(t.walk(root, note))
	}
	return all
}

func (t *Tail) walk(root string, note func(string, error)) []found {
	var files []found
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				note(p, err)
			}
			if d != nil && d.IsDir() && p != root {
				return filepath.SkipDir
			}
			return nil
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if t.cfg.Include != "" {
			if ok, _ := filepath.Match(t.cfg.Include, d.Name()); !ok {
				return nil
			}
		}
		fi, err := os.Stat(p) // follows a symbolic link to its file
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				note(p, err)
			}
			return nil
		}
		if fi.Mode().IsRegular() {
			files = append(files, found{path: p, key: identity(fi, p), info: fi})
		}
		return nil
	})
	keys := make(map[string]string, len(files))
	for _, f := range files {
		keys[f.path] = source.BlobTimeKey(f.path)
	}
	slices.SortStableFunc(files, func(a, b found) int {
		ka, kb := keys[a.path], keys[b.path]
		if c := strings.Compare(ka, kb); c != 0 {
			return c
		}
		if ka == "" {
			if c := a.info.ModTime().Compare(b.info.ModTime()); c != 0 {
				return c
			}
		}
		return strings.Compare(a.path, b.path)
	})
	return files
}
