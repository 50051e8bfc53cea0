// Command vaultwatch detects threats in secret vaults' access logs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"vaultwatch/internal/app"
)

const usage = `vaultwatch: threat detection for secret vaults

Usage:
  vaultwatch scan [flags] PATH...   read access logs (files, folders, - for stdin)
  vaultwatch version

Run 'vaultwatch scan -h' for the flags of scan.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "scan":
		return scan(ctx, args[1:], stdin, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "vaultwatch", app.Version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "vaultwatch: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func scan(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	events := fs.Bool("events", false, "write the normalized events to standard output")
	output := fs.String("o", "jsonl", "format of --events output: jsonl")
	strict := fs.Bool("strict", false, "exit non-zero when any record is malformed")
	noProgress := fs.Bool("no-progress", false, "do not print progress lines")
	problems := fs.Int("problems", 10, "how many malformed records the summary lists")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: vaultwatch scan [flags] PATH...\n\nReads access logs and prints a summary to standard error.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(interleave(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	o := app.ScanOptions{
		Paths:         fs.Args(),
		Events:        *events,
		Output:        *output,
		Strict:        *strict,
		ProgressEvery: 2 * time.Second,
		MaxProblems:   *problems,
		Stdin:         stdin,
		Stdout:        stdout,
		Stderr:        stderr,
	}
	if *noProgress {
		o.ProgressEvery = 0
	}
	if err := app.Scan(ctx, o); err != nil {
		fmt.Fprintln(stderr, "vaultwatch:", err)
		return 1
	}
	return 0
}

// interleave moves flags found after paths to the front, so that
// `scan logs/ --events` works like `scan --events logs/`.
func interleave(fs *flag.FlagSet, args []string) []string {
	var flags, paths []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			paths = append(paths, args[i+1:]...)
			break
		}
		if len(a) > 1 && a[0] == '-' {
			flags = append(flags, a)
			name := a[1:]
			if name[0] == '-' {
				name = name[1:]
			}
			if f := fs.Lookup(name); f != nil && !isBool(f) && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
			continue
		}
		paths = append(paths, a)
	}
	return append(flags, append([]string{"--"}, paths...)...)
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
