package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"vaultwatch/internal/simulate"
)

// Simulation defaults, as `vaultwatch simulate -h` shows them.
const (
	DefaultSimVaults       = simulate.DefaultVaults
	DefaultSimDays         = simulate.DefaultDays
	DefaultSimLearningDays = simulate.DefaultLearningDays
)

// SimulateOptions configure Simulate. Zero numbers take the defaults above.
type SimulateOptions struct {
	Out          string // output folder: must not exist, or be empty
	Seed         uint64
	Vaults       int
	Days         int
	LearningDays int
	// Formats are the providers to simulate ("azure", "vault", "aws");
	// empty means azure and vault.
	Formats []string
	// IntelDir holds real threat-intel lists to draw attackers from; empty
	// means built-in addresses.
	IntelDir string
	// Start is midnight UTC of the first day; zero takes the simulation's
	// default.
	Start time.Time

	// To, when set, is a running server's address: the logs are then
	// pushed to its ingest endpoint with Token, an ingest token.
	To, Token string

	Stdout io.Writer // the summary
}

// ErrUsage marks an error in a command's options: the binary exits with
// status 2 on it.
var ErrUsage = errors.New("usage")

// usageError is an error in options; errors.Is(err, ErrUsage) holds.
type usageError struct{ msg string }

func (e usageError) Error() string        { return e.msg }
func (e usageError) Is(target error) bool { return target == ErrUsage }

func usageErr(format string, a ...any) error {
	return usageError{fmt.Sprintf(format, a...)}
}

// simOptions validates o and turns it into the simulation's options.
func (o SimulateOptions) simOptions() (simulate.Options, error) {
	var errs []error
	if o.Out == "" {
		errs = append(errs, usageErr("simulate: --out DIR is required"))
	}
	if o.Vaults == 0 {
		o.Vaults = DefaultSimVaults
	}
	if o.Days == 0 {
		o.Days = DefaultSimDays
	}
	if o.LearningDays == 0 {
		o.LearningDays = DefaultSimLearningDays
	}
	if o.Vaults < 0 {
		errs = append(errs, usageErr("simulate: --vaults %d: want at least 1", o.Vaults))
	}
	if o.Days < 0 || o.LearningDays < 0 {
		errs = append(errs, usageErr("simulate: --days and --learning-days must be positive"))
	} else if o.Days <= o.LearningDays {
		errs = append(errs, usageErr("simulate: --days %d must be more than --learning-days %d: attacks happen only after the learning days", o.Days, o.LearningDays))
	}
	if !o.Start.IsZero() && !o.Start.Equal(o.Start.UTC().Truncate(24*time.Hour)) {
		errs = append(errs, usageErr("simulate: start %s is not midnight UTC", o.Start.Format(time.RFC3339)))
	}
	formats := []simulate.Provider{}
	known := []simulate.Provider{simulate.Azure, simulate.HashiVault, simulate.AWS}
	for _, f := range o.Formats {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		p := simulate.Provider(f)
		if !slices.Contains(known, p) {
			errs = append(errs, usageErr("simulate: unknown format %q (want azure, vault or aws)", f))
			continue
		}
		if !slices.Contains(formats, p) {
			formats = append(formats, p)
		}
	}
	if len(formats) == 0 {
		formats = []simulate.Provider{simulate.Azure, simulate.HashiVault}
	}
	if o.Vaults > 0 && o.Vaults < len(formats) {
		errs = append(errs, usageErr("simulate: --vaults %d: want at least one vault per format (%d)", o.Vaults, len(formats)))
	}
	if o.IntelDir != "" {
		if fi, err := os.Stat(o.IntelDir); err != nil {
			errs = append(errs, fmt.Errorf("simulate: --intel-dir: %w", err))
		} else if !fi.IsDir() {
			errs = append(errs, usageErr("simulate: --intel-dir %s is not a folder", o.IntelDir))
		}
	}
	if o.Out != "" {
		if ents, err := os.ReadDir(o.Out); err == nil && len(ents) > 0 {
			errs = append(errs, usageErr("simulate: --out %s is not empty: simulate writes into a new or empty folder", o.Out))
		} else if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("simulate: --out: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return simulate.Options{}, err
	}
	return simulate.Options{
		Out:          o.Out,
		Seed:         o.Seed,
		Vaults:       o.Vaults,
		Days:         o.Days,
		LearningDays: o.LearningDays,
		Formats:      formats,
		Start:        o.Start,
		IntelDir:     o.IntelDir,
	}, nil
}

// SummaryFile is the name of the summary Simulate writes beside the
// labels; Score reads the vault-days from it.
const SummaryFile = "summary.json"

// Simulate writes a simulated organisation's logs, labels.jsonl, the
// threat-intel lists and summary.json under o.Out, and prints a summary to
// Stdout.
func Simulate(ctx context.Context, o SimulateOptions) error {
	so, err := o.simOptions()
	if err != nil {
		return err
	}
	sum, err := simulate.Run(ctx, so)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	// The summary file is the same for the same seed wherever it is
	// written: the output folder is left out.
	file := *sum
	file.Out = ""
	data, err := json.MarshalIndent(&file, "", "  ")
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	if err := os.WriteFile(filepath.Join(so.Out, SummaryFile), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	if o.Stdout != nil {
		writeSimSummary(o.Stdout, so.Out, sum)
	}
	if o.To != "" {
		res, err := Push(ctx, PushOptions{Dir: filepath.Join(so.Out, simulate.LogsDir), URL: o.To, Token: o.Token, Stdout: o.Stdout})
		if err != nil {
			return err
		}
		if o.Stdout != nil {
			fmt.Fprintf(o.Stdout, "pushed to %s: %d requests, %d records, %d events, %d skipped, %d malformed\n",
				o.To, res.Requests, res.Records, res.Events, res.Skipped, res.Malformed)
		}
	}
	return nil
}

func writeSimSummary(w io.Writer, out string, s *simulate.Summary) {
	fmt.Fprintf(w, "simulated %s: %d vaults, %d users, %d applications, %d days from %s (%d learning), seed %d\n",
		s.Org, s.Vaults, s.Users, s.Apps, s.Days, s.Start.Format(time.DateOnly), s.LearningDays, s.Seed)
	fmt.Fprintf(w, "accesses: %s, of which %s by attackers\n", thousands(int64(s.Accesses)), thousands(int64(s.Attack)))
	for _, p := range slices.Sorted(maps.Keys(s.ByProvider)) {
		fmt.Fprintf(w, "  %-28s %12s\n", p, thousands(int64(s.ByProvider[p])))
	}
	fmt.Fprintf(w, "attacks: %d in %d scenarios\n", s.Labels, len(s.Scenarios))
	for _, sc := range slices.Sorted(maps.Keys(s.Scenarios)) {
		fmt.Fprintf(w, "  %-36s %4d\n", sc, s.Scenarios[sc])
	}
	fmt.Fprintf(w, "wrote %s, %s, %s\n", filepath.Join(out, simulate.LabelsFile), filepath.Join(out, SummaryFile), filepath.Join(out, "intel"))
	fmt.Fprintf(w, "scan the logs with: vaultwatch scan %s\n", filepath.Join(out, simulate.LogsDir))
}

// Tolerance is how far outside an attack's window a matching alert may lie
// (simulate.Tolerance).
type Tolerance = simulate.Tolerance

// DefaultScoreTolerance is how far outside an attack's window a matching
// alert may lie.
var DefaultScoreTolerance = simulate.DefaultTolerance

// ScoreOptions configure Score.
type ScoreOptions struct {
	Labels string // labels.jsonl
	Alerts string // the alerts, JSON Lines; "-" for Stdin
	// VaultDays is the number of vaults times days, for the false-alarm
	// rate; zero reads it from summary.json beside the labels.
	VaultDays float64
	// Tolerance widens each label's window; nil takes
	// DefaultScoreTolerance.
	Tolerance *Tolerance
	JSON      bool // the report as JSON instead of tables

	Stdin  io.Reader
	Stdout io.Writer
}

// Score matches alerts against a simulation's labels and prints recall,
// missed attacks and false alarms.
func Score(ctx context.Context, o ScoreOptions) error {
	if o.Labels == "" {
		return usageErr("score: --labels FILE is required (labels.jsonl written by simulate)")
	}
	if o.Alerts == "" {
		return usageErr("score: no alerts file given (a JSON Lines file, or - for standard input)")
	}
	if o.VaultDays < 0 {
		return usageErr("score: --vault-days %g: want a positive number", o.VaultDays)
	}
	tol := DefaultScoreTolerance
	if o.Tolerance != nil {
		tol = *o.Tolerance
	}
	if tol.Before < 0 || tol.After < 0 {
		return usageErr("score: a negative tolerance (%s before, %s after)", tol.Before, tol.After)
	}
	if o.VaultDays == 0 {
		vd, err := summaryVaultDays(filepath.Join(filepath.Dir(o.Labels), SummaryFile))
		if err != nil {
			return fmt.Errorf("score: %w", err)
		}
		if vd <= 0 {
			return usageErr("score: --vault-days N is required: no summary.json beside %s gives it", o.Labels)
		}
		o.VaultDays = vd
	}
	lf, err := os.Open(o.Labels)
	if err != nil {
		return fmt.Errorf("score: %w", err)
	}
	labels, err := simulate.ReadLabels(lf)
	lf.Close()
	if err != nil {
		return fmt.Errorf("score: %s: %w", o.Labels, err)
	}
	var ar io.Reader
	if o.Alerts == "-" {
		if o.Stdin == nil {
			return usageErr("score: alerts from standard input, but none is given")
		}
		ar = o.Stdin
	} else {
		af, err := os.Open(o.Alerts)
		if err != nil {
			return fmt.Errorf("score: %w", err)
		}
		defer af.Close()
		ar = af
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	alerts, err := simulate.ReadAlerts(ar)
	if err != nil {
		return fmt.Errorf("score: %s: %w", o.Alerts, err)
	}
	rep := simulate.ScoreWith(labels, alerts, o.VaultDays, tol)
	if o.JSON {
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("score: writing the report: %w", err)
		}
		return nil
	}
	if err := rep.WriteText(o.Stdout); err != nil {
		return fmt.Errorf("score: writing the report: %w", err)
	}
	return nil
}

// summaryVaultDays reads vault-days from the summary.json simulate writes:
// "vault_days" if present, else vaults × days (vaults a number or a list).
// It returns 0 and no error when the file does not exist.
func summaryVaultDays(path string) (float64, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	get := func(keys ...string) any {
		for k, v := range raw {
			nk := strings.ToLower(strings.ReplaceAll(k, "_", ""))
			if slices.Contains(keys, nk) {
				return v
			}
		}
		return nil
	}
	if v, ok := get("vaultdays").(float64); ok {
		return v, nil
	}
	days, _ := get("days").(float64)
	switch v := get("vaults").(type) {
	case float64:
		return v * days, nil
	case []any:
		return float64(len(v)) * days, nil
	}
	return 0, nil
}
