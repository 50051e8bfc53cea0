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
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"vaultwatch/internal/app"
)

const usage = `vaultwatch: threat detection for secret vaults

Usage:
  vaultwatch serve [flags]          run the service: live sources, detection, pages and API
  vaultwatch users add|list        manage the server's users
  vaultwatch tokens create|list|revoke
                                    manage API tokens (machines, ingest)
  vaultwatch suppress list|add|simulate|expire
                                    manage suppression rules
  vaultwatch alerts sample [--type T]
                                    make sample alerts on a running server
  vaultwatch scan [flags] PATH...   read access logs (files, folders, - for stdin)
  vaultwatch simulate --out DIR     write realistic labelled vault logs with attacks
  vaultwatch score --labels FILE ALERTS.jsonl
                                    score alerts against a simulation's labels
  vaultwatch version

Run 'vaultwatch COMMAND -h' for the flags of a command.
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
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "users", "tokens":
		return admin(ctx, args[0], args[1:], stdin, stdout, stderr)
	case "suppress":
		return suppressCmd(ctx, args[1:], stdout, stderr)
	case "alerts":
		return alertsCmd(ctx, args[1:], stdout, stderr)
	case "scan":
		return scan(ctx, args[1:], stdin, stdout, stderr)
	case "simulate":
		return simulate(ctx, args[1:], stdout, stderr)
	case "score":
		return score(ctx, args[1:], stdin, stdout, stderr)
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
	output := fs.String("o", "", "output: table (alerts, the default) or jsonl (alerts, or events with --events)")
	strict := fs.Bool("strict", false, "exit non-zero when any record is malformed")
	noProgress := fs.Bool("no-progress", false, "do not print progress lines")
	problems := fs.Int("problems", 10, "how many malformed records the summary lists")
	learning := fs.String("learning-period", "7d", "how long a vault or caller is watched before unusual-behaviour alerts (e.g. 14d, 36h)")
	var tor, lists, clouds, geoip listFlag
	fs.Var(&geoip, "geoip", "MaxMind-format database (.mmdb): country or ASN, GeoLite2, DB-IP, IPinfo (repeatable)")
	fs.Var(&tor, "tor-exit-list", "Tor exit-node list, one IP a line (repeatable)")
	fs.Var(&lists, "threat-intel", "IP reputation list, one IP or CIDR a line (repeatable)")
	fs.Var(&clouds, "cloud-ranges", "cloud-provider ranges: Azure service tags, AWS ip-ranges.json or GCP cloud.json (repeatable)")
	decoys := fs.String("decoys", "", "decoy secrets file: GLOB or VAULT GLOB a line")
	since := fs.String("since", "", "report alerts from this time (RFC 3339 or YYYY-MM-DD)")
	until := fs.String("until", "", "report alerts up to this time (RFC 3339 or YYYY-MM-DD)")
	state := fs.String("state", "", "detection state file: read before the scan if it exists, saved after it; alerts still open at the end are reported and kept open for the next scan")
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile of the scan to this file (for reporting a slow scan)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: vaultwatch scan [flags] PATH...\n\nReads access logs, detects threats and prints the alerts; a summary goes to standard error.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(interleave(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	lp, err := parsePeriod(*learning)
	if err != nil {
		fmt.Fprintf(stderr, "vaultwatch scan: --learning-period: %v\n", err)
		return 2
	}
	var from, to time.Time
	for _, x := range []struct {
		name string
		val  string
		t    *time.Time
	}{{"since", *since, &from}, {"until", *until, &to}} {
		if x.val == "" {
			continue
		}
		if *x.t, err = parseTime(x.val); err != nil {
			fmt.Fprintf(stderr, "vaultwatch scan: --%s: %v\n", x.name, err)
			return 2
		}
	}
	o := app.ScanOptions{
		Paths:          fs.Args(),
		Events:         *events,
		Output:         *output,
		Strict:         *strict,
		ProgressEvery:  2 * time.Second,
		MaxProblems:    *problems,
		LearningPeriod: lp,
		TorLists:       tor,
		ThreatIntel:    lists,
		CloudRanges:    clouds,
		GeoIP:          geoip,
		Decoys:         *decoys,
		Since:          from,
		Until:          to,
		State:          *state,
		Stdin:          stdin,
		Stdout:         stdout,
		Stderr:         stderr,
	}
	if *noProgress {
		o.ProgressEvery = 0
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "vaultwatch scan: --cpuprofile:", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "vaultwatch scan: --cpuprofile:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	if err := app.Scan(ctx, o); err != nil {
		fmt.Fprintln(stderr, "vaultwatch:", err)
		return 1
	}
	return 0
}

func simulate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "output folder (new or empty; required)")
	seed := fs.Uint64("seed", 1, "random seed: the same seed writes the same bytes")
	vaults := fs.Int("vaults", app.DefaultSimVaults, "number of vaults across the formats")
	days := fs.Int("days", app.DefaultSimDays, "simulated days")
	learning := fs.Int("learning-days", app.DefaultSimLearningDays, "days before any attack")
	formats := fs.String("formats", "azure,vault", "providers to simulate, comma-separated: azure, vault, aws")
	intelDir := fs.String("intel-dir", "", "folder of real threat-intel lists (tor-exit-nodes.txt, ipsum-level3.txt) to draw attackers from; built-in addresses when empty")
	start := fs.String("start", "", "first day, YYYY-MM-DD (UTC); the simulation's default when empty")
	to := fs.String("to", "", "a running server's URL: push the logs to its ingest endpoint (with an ingest token in VAULTWATCH_TOKEN)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: vaultwatch simulate --out DIR [flags]\n\nWrites an organisation's vault logs in the real formats, with attacks after the\nlearning days, DIR/labels.jsonl (one line per attack) and DIR/intel/.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vaultwatch: simulate takes no arguments (got %q); use --out DIR\n", fs.Args())
		return 2
	}
	o := app.SimulateOptions{
		Out:          *out,
		Seed:         *seed,
		Vaults:       *vaults,
		Days:         *days,
		LearningDays: *learning,
		Formats:      strings.Split(*formats, ","),
		IntelDir:     *intelDir,
		To:           *to,
		Token:        os.Getenv("VAULTWATCH_TOKEN"),
		Stdout:       stdout,
	}
	if *to != "" && o.Token == "" {
		fmt.Fprintln(stderr, "vaultwatch: simulate --to: set VAULTWATCH_TOKEN to an ingest token (vaultwatch tokens create NAME --source SOURCE)")
		return 2
	}
	if *start != "" {
		t, err := time.Parse(time.DateOnly, *start)
		if err != nil {
			fmt.Fprintf(stderr, "vaultwatch: simulate: --start %q: want YYYY-MM-DD\n", *start)
			return 2
		}
		o.Start = t
	}
	return exit(stderr, app.Simulate(ctx, o))
}

func score(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("score", flag.ContinueOnError)
	fs.SetOutput(stderr)
	labels := fs.String("labels", "", "labels.jsonl written by simulate (required)")
	vaultDays := fs.Float64("vault-days", 0, "vaults × days, for the false-alarm rate (default: read from summary.json beside the labels)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	before := fs.Duration("tolerance-before", app.DefaultScoreTolerance.Before, "an alert may start this long before an attack")
	after := fs.Duration("tolerance-after", app.DefaultScoreTolerance.After, "an alert may start this long after an attack ends")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: vaultwatch score --labels DIR/labels.jsonl [flags] ALERTS.jsonl\n\nMatches alerts (- for standard input) to the simulated attacks and prints recall,\nmissed attacks and false alarms.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(interleave(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "vaultwatch: score: give exactly one alerts file (or - for standard input)")
		return 2
	}
	o := app.ScoreOptions{
		Labels:    *labels,
		Alerts:    fs.Arg(0),
		VaultDays: *vaultDays,
		JSON:      *asJSON,
		Stdin:     stdin,
		Stdout:    stdout,
	}
	o.Tolerance = &app.Tolerance{Before: *before, After: *after}
	return exit(stderr, app.Score(ctx, o))
}

// exit prints err and returns the exit status: 0, 2 for bad usage, 1
// otherwise.
func exit(stderr io.Writer, err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, app.ErrUsage):
		printErr(stderr, err)
		return 2
	}
	printErr(stderr, err)
	return 1
}

// printErr prints each line of err (several problems are joined) with the
// program's name.
func printErr(stderr io.Writer, err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintln(stderr, "vaultwatch:", line)
	}
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

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// parsePeriod reads a duration that may be given in days: "14d", "1d12h",
// or anything time.ParseDuration takes.
func parsePeriod(s string) (time.Duration, error) { return app.ParsePeriod(s) }

// parseTime reads an RFC 3339 time or a UTC date.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor YYYY-MM-DD", s)
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "configuration file (YAML); the embedded defaults without it")
	listen := fs.String("listen", "", "address of the pages and the API (default 127.0.0.1:8080, or the file's)")
	data := fs.String("data", "", "data folder (default ./vaultwatch-data, or the file's)")
	demo := fs.Bool("demo", false, "feed a simulated organisation's logs, attacks included, through the real pipeline")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: vaultwatch serve [flags]\n\nRuns the service: reads the configured sources, detects, stores and serves the pages and the API\nuntil interrupted. The first admin's password comes from VAULTWATCH_ADMIN_PASSWORD, or is printed once.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vaultwatch serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg, err := app.LoadServeConfig(*config)
	if err != nil {
		fmt.Fprintf(stderr, "vaultwatch serve: %v\n", err)
		return 2
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if *data != "" {
		cfg.DataDir = *data
	}
	err = app.Serve(ctx, app.ServeOptions{Config: cfg, Demo: *demo, AdminPassword: os.Getenv("VAULTWATCH_ADMIN_PASSWORD"),
		Stdout: stdout, Logger: app.NewLogger(stderr)})
	if err != nil {
		fmt.Fprintf(stderr, "vaultwatch serve: %v\n", err)
		return 1
	}
	return 0
}

// admin runs the user and token commands on a server's data folder; they
// work while the server runs.
func admin(ctx context.Context, kind string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", app.DefaultDataDir, "the server's data folder")
	role := fs.String("role", "viewer", "role: viewer, responder or admin")
	src := fs.String("source", "", "tokens: the HTTP ingest source the token may send events to (role ingest)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage:\n  vaultwatch users add NAME [--role R] [--data DIR]      (password from VAULTWATCH_PASSWORD or standard input)\n  vaultwatch users list [--data DIR]\n  vaultwatch tokens create NAME [--role R | --source S] [--data DIR]\n  vaultwatch tokens list [--data DIR]\n  vaultwatch tokens revoke ID [--data DIR]\n\nFlags:\n")
		fs.PrintDefaults()
	}
	verb, code, ok := parseVerb(fs, args)
	if !ok {
		return code
	}
	err := app.Admin(ctx, app.AdminOptions{Kind: kind, Verb: verb, Args: fs.Args(), DataDir: *data, Role: *role, Source: *src,
		Password: os.Getenv("VAULTWATCH_PASSWORD"), Stdin: stdin, Stdout: stdout})
	return exitCode(stderr, "vaultwatch "+kind+" "+verb, err)
}

func suppressCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("suppress", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", app.DefaultDataDir, "the server's data folder")
	typ := fs.String("type", "", "alert type the rule applies to (any when empty)")
	var matchers listFlag
	fs.Var(&matchers, "match", "matcher: 'FIELD OP VALUE' (OP =, !=, =~, cidr) or FIELD=VALUE (repeatable; all must match)")
	reason := fs.String("reason", "other", "false-positive, benign-positive or other")
	comment := fs.String("comment", "", "why")
	author := fs.String("author", os.Getenv("USER"), "who makes the rule")
	ends := fs.String("ends", "", "when the rule ends (RFC 3339 or YYYY-MM-DD); never when empty")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage:\n  vaultwatch suppress list [--data DIR]\n  vaultwatch suppress simulate --type T --match 'ip cidr 10.0.0.0/8' ...\n  vaultwatch suppress add --type T --match ... --reason R --comment C [--ends T]\n  vaultwatch suppress expire ID\n\nA running server applies changes within 30 seconds.\n\nFlags:")
		fs.PrintDefaults()
	}
	verb, code, ok := parseVerb(fs, args)
	if !ok {
		return code
	}
	o := app.SuppressOptions{Verb: verb, Args: fs.Args(), DataDir: *data, Type: *typ, Matchers: matchers, Reason: *reason,
		Comment: *comment, Author: *author, Stdout: stdout}
	if o.Author == "" {
		o.Author = "cli"
	}
	if *ends != "" {
		t, err := parseTime(*ends)
		if err != nil {
			fmt.Fprintf(stderr, "vaultwatch suppress: --ends: %v\n", err)
			return 2
		}
		o.Ends = t
	}
	return exitCode(stderr, "vaultwatch suppress "+verb, app.Suppress(ctx, o))
}

func alertsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("alerts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "http://"+app.DefaultListen+"/", "the running server")
	var types listFlag
	fs.Var(&types, "type", "alert type (repeatable); one of each type when absent")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: vaultwatch alerts sample [--type T] [--server URL]\n\nAsks a running server to make clearly marked sample alerts and send them through every\nnotification and export, to check the whole path. Needs an admin token in VAULTWATCH_TOKEN.\n\nFlags:")
		fs.PrintDefaults()
	}
	if len(args) == 0 || args[0] != "sample" {
		fs.Usage()
		return 2
	}
	if err := fs.Parse(interleave(fs, args[1:])); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	token := os.Getenv("VAULTWATCH_TOKEN")
	if token == "" {
		fmt.Fprintln(stderr, "vaultwatch alerts sample: set VAULTWATCH_TOKEN to an admin token (vaultwatch tokens create NAME --role admin)")
		return 2
	}
	if err := app.RequestSamples(ctx, app.SampleOptions{Server: *server, Token: token, Types: types, Stdout: stdout}); err != nil {
		fmt.Fprintf(stderr, "vaultwatch alerts sample: %v\n", err)
		return 1
	}
	return 0
}

// parseVerb reads "VERB [flags] [args]": the verb, then the flags wherever
// they stand. When it returns false the command ends with code (usage
// printed for a missing verb, 0 for -h).
func parseVerb(fs *flag.FlagSet, args []string) (verb string, code int, ok bool) {
	if len(args) == 0 {
		fs.Usage()
		return "", 2, false
	}
	if err := fs.Parse(interleave(fs, args[1:])); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", 0, false
		}
		return "", 2, false
	}
	return args[0], 0, true
}

// exitCode prints a command's error and returns its exit status: 0, 1, or
// 2 for a usage error.
func exitCode(stderr io.Writer, what string, err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", what, err)
	if errors.Is(err, app.ErrUsage) {
		return 2
	}
	return 1
}
