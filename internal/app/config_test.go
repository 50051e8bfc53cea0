package app

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeConfigFiles reads every file under testdata/config: a file whose
// first line is "# wantErr: TEXT" must fail with an error holding TEXT, the
// others must load.
func TestServeConfigFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/config/*.yaml")
	if len(files) == 0 {
		t.Fatal("no config files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := bufio.NewReader(bytes.NewReader(b)).ReadLine()
			want, isErr := strings.CutPrefix(string(first), "# wantErr: ")
			_, err = LoadServeConfig(f)
			switch {
			case isErr && err == nil:
				t.Fatalf("loaded; want an error holding %q", want)
			case isErr && !strings.Contains(err.Error(), want):
				t.Fatalf("error %q; want it to hold %q", err, want)
			case !isErr && err != nil:
				t.Fatal(err)
			}
			if isErr && !strings.Contains(err.Error(), f) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestServeConfigDefaults(t *testing.T) {
	c, err := LoadServeConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.DataDir != "vaultwatch-data" || time.Duration(c.Retention) != 30*24*time.Hour ||
		time.Duration(c.Detection.LearningPeriod) != 7*24*time.Hour {
		t.Errorf("defaults: %+v", c)
	}
	c, err = LoadServeConfig("testdata/config/valid-full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sources) != 4 || time.Duration(c.Retention) != 14*24*time.Hour || c.Sources[0].File.Include != "*.json" {
		t.Errorf("valid-full: %+v", c)
	}
}

func TestServeConfigReportsEveryProblem(t *testing.T) {
	_, err := ParseServeConfig([]byte("sources:\n  - type: file\n  - name: b\n    type: nope\n"))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"sources[0]: no name", "sources[0]: file.paths is required", `source "b": unknown type "nope"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
