package simulate

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// LabelsFile is the name of the labels file in the output folder.
const LabelsFile = "labels.jsonl"

// DecoysFile lists the organisation's decoy secrets as `vaultwatch scan
// --decoys` reads them: "VAULT NAME" a line, vaults named as the logs name
// them.
const DecoysFile = "decoys.txt"

// Summary says what a simulation wrote.
type Summary struct {
	Out          string           `json:"out"`
	Seed         uint64           `json:"seed"`
	Org          string           `json:"org"`
	Start        time.Time        `json:"start"`
	Days         int              `json:"days"`
	LearningDays int              `json:"learning_days"`
	Vaults       int              `json:"vaults"`
	Users        int              `json:"users"`
	Apps         int              `json:"apps"`
	Accesses     int              `json:"accesses"`        // all accesses written
	Attack       int              `json:"attack_accesses"` // of which injected by attacks
	ByVault      map[string]int   `json:"by_vault"`        // accesses per vault name
	ByProvider   map[Provider]int `json:"by_provider"`     // accesses per provider
	Labels       int              `json:"labels"`
	Scenarios    map[string]int   `json:"scenarios"` // labels per scenario
}

// LogsDir is the folder under the output folder that holds the logs.
const LogsDir = "logs"

// Run simulates opts: it builds the organisation, plans the attacks, writes
// every day's benign and attack accesses through the writers of the chosen
// formats, then labels.jsonl and the threat-intel lists the attackers came
// from.
func Run(ctx context.Context, opts Options) (*Summary, error) {
	return run(ctx, opts, 1)
}

// run is Run with benign volume scaled (tests use small volumes).
func run(ctx context.Context, opts Options, scale float64) (sum *Summary, err error) {
	if opts.Out == "" {
		return nil, errors.New("simulate: no output folder")
	}
	opts = opts.withDefaults()
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	org := NewOrg(opts)
	intel, err := LoadIntel(opts.IntelDir, opts.Seed)
	if err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	attacks, labels := PlanAttacks(org, intel, opts.Seed)
	slices.SortStableFunc(attacks, func(a, b Access) int { return a.Time.Compare(b.Time) })

	// The logs go under DIR/logs, apart from the labels and the intel lists,
	// so that `vaultwatch scan DIR/logs` reads logs only.
	logs := filepath.Join(opts.Out, LogsDir)
	var writers []Writer
	for _, f := range opts.Formats {
		switch f {
		case Azure:
			writers = append(writers, NewAzureWriter(logs, org, opts.Seed))
		case HashiVault:
			writers = append(writers, NewVaultWriter(logs, org, opts.Seed))
		case AWS:
			writers = append(writers, NewCloudTrailWriter(logs, org, opts.Seed))
		default:
			return nil, fmt.Errorf("simulate: unknown format %q", f)
		}
	}
	defer func() {
		for _, w := range writers {
			if cerr := w.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("simulate: close writer: %w", cerr)
			}
		}
	}()

	sum = &Summary{
		Out: opts.Out, Seed: opts.Seed, Org: org.Name, Start: org.Start, Days: org.Days, LearningDays: org.LearningDays,
		Vaults: len(org.Vaults), Users: len(org.Users), Apps: len(org.Apps),
		ByVault: map[string]int{}, ByProvider: map[Provider]int{}, Scenarios: map[string]int{},
	}
	ai := 0
	for d := range org.Days {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("simulate: %w", err)
		}
		end := org.Start.AddDate(0, 0, d+1)
		// Versions as they are at the start of the day, for writers that
		// look at them.
		day := org.Start.AddDate(0, 0, d)
		for _, v := range org.Vaults {
			for name := range v.Versions {
				v.Versions[name] = org.VersionAt(v, name, day)
			}
		}
		benign := org.day(d, scale)
		j := ai
		for j < len(attacks) && attacks[j].Time.Before(end) {
			j++
		}
		for a := range mergeAccesses(benign, attacks[ai:j]) {
			if a.Vault == nil || a.Principal == nil {
				continue
			}
			for _, w := range writers {
				if err := w.Write(a); err != nil {
					return nil, fmt.Errorf("simulate: day %d: %w", d, err)
				}
			}
			sum.Accesses++
			sum.ByVault[a.Vault.Name]++
			sum.ByProvider[a.Vault.Provider]++
		}
		sum.Attack += j - ai
		ai = j
	}
	// Attacks planned past the end are not written.

	slices.SortStableFunc(labels, func(a, b Label) int {
		return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.ID, b.ID))
	})
	if err := writeLabels(filepath.Join(opts.Out, LabelsFile), labels); err != nil {
		return nil, err
	}
	for _, l := range labels {
		sum.Scenarios[l.Scenario]++
	}
	sum.Labels = len(labels)
	if err := writeDecoys(filepath.Join(opts.Out, DecoysFile), org); err != nil {
		return nil, err
	}
	if err := intel.WriteTo(filepath.Join(opts.Out, "intel")); err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	return sum, nil
}

// mergeAccesses yields the accesses of a and b in time order, a's first on
// ties.
func mergeAccesses(a, b []Access) func(yield func(*Access) bool) {
	return func(yield func(*Access) bool) {
		i, j := 0, 0
		for i < len(a) || j < len(b) {
			var x *Access
			if j >= len(b) || (i < len(a) && !b[j].Time.Before(a[i].Time)) {
				x = &a[i]
				i++
			} else {
				x = &b[j]
				j++
			}
			if !yield(x) {
				return
			}
		}
	}
}

func writeLabels(path string, labels []Label) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for i := range labels {
		if err := enc.Encode(&labels[i]); err != nil {
			f.Close()
			return fmt.Errorf("simulate: write labels: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("simulate: write labels: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("simulate: write labels: %w", err)
	}
	return nil
}

// writeDecoys writes the decoy secrets the way an operator declares them.
func writeDecoys(path string, o *Org) error {
	var b strings.Builder
	b.WriteString("# Decoy secrets: nobody legitimately reads them. VAULT NAME a line.\n")
	for _, v := range o.Vaults {
		for _, d := range v.Decoys {
			a := Access{Vault: v, Op: OpSecretGet, Object: d}
			name := d
			if v.Provider == Azure {
				name = strings.ToLower(d)
			}
			fmt.Fprintf(&b, "%s %s\n", logVaultName(&a), name)
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	return nil
}
