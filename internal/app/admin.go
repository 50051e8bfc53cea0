package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/auth"
	"vaultwatch/internal/store"
	"vaultwatch/internal/store/sqlite"
	"vaultwatch/internal/suppress"
)

// AdminOptions are the users and tokens commands, run on a server's data
// folder (also while the server runs: the store takes one writer at a
// time).
type AdminOptions struct {
	Kind, Verb string   // "users" or "tokens"; "add", "list", "create", "revoke"
	Args       []string // the name or id
	DataDir    string
	Role       string
	Source     string // tokens: the ingest source
	// Password for users add; read from Stdin (one line) when empty.
	Password string
	Stdin    io.Reader
	Stdout   io.Writer
}

// Admin runs a users or tokens command.
func Admin(ctx context.Context, o AdminOptions) error {
	st, err := sqlite.Open(filepath.Join(o.DataDir, "vaultwatch.db"), sqlite.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	svc := auth.New(st, auth.Options{})
	arg := func() (string, error) {
		if len(o.Args) != 1 {
			return "", usageErr("want one name or id, got %d arguments", len(o.Args))
		}
		return o.Args[0], nil
	}
	tw := tabwriter.NewWriter(o.Stdout, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	switch o.Kind + " " + o.Verb {
	case "users add":
		name, err := arg()
		if err != nil {
			return err
		}
		pw := o.Password
		if pw == "" && o.Stdin != nil {
			line, err := bufio.NewReader(o.Stdin).ReadString('\n')
			if err != nil && line == "" {
				return fmt.Errorf("reading the password from standard input: %w", err)
			}
			pw = strings.TrimRight(line, "\r\n")
		}
		if err := svc.CreateUser(ctx, name, o.Role, pw); err != nil {
			return err
		}
		fmt.Fprintf(o.Stdout, "user %s added with role %s\n", name, o.Role)
	case "users list":
		us, err := st.Users(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tDISABLED")
		for _, u := range us {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\n", u.Name, u.Role, u.CreatedAt.Format(time.DateTime), u.Disabled)
		}
	case "tokens create":
		name, err := arg()
		if err != nil {
			return err
		}
		role := o.Role
		if o.Source != "" {
			role = auth.RoleIngest
		}
		value, t, err := svc.CreateToken(ctx, name, role, o.Source, "cli")
		if err != nil {
			return err
		}
		fmt.Fprintf(o.Stdout, "token %s (%s, role %s) — shown once, keep it secret:\n%s\n", t.ID, name, t.Role, value)
	case "tokens list":
		ts, err := st.Tokens(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tSOURCE\tCREATED\tLAST USED\tREVOKED")
		for _, t := range ts {
			last := "never"
			if !t.LastUsed.IsZero() {
				last = t.LastUsed.Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%v\n", t.ID, t.Name, t.Role, t.Source, t.CreatedAt.Format(time.DateTime), last, t.Revoked)
		}
	case "tokens revoke":
		id, err := arg()
		if err != nil {
			return err
		}
		if err := svc.RevokeToken(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(o.Stdout, "token %s revoked\n", id)
	default:
		return usageErr("unknown command %q", o.Kind+" "+o.Verb)
	}
	return nil
}

// SuppressOptions are the suppress command's, run on a server's data
// folder; a running server picks changes up within 30 seconds.
type SuppressOptions struct {
	Verb     string   // list, add, simulate, expire
	Args     []string // the rule id for expire
	DataDir  string
	Type     string
	Matchers []string // "FIELD OP VALUE", OP one of = != =~ cidr
	Reason   string
	Comment  string
	Author   string
	Ends     time.Time
	Stdout   io.Writer
}

// ParseMatcher reads "FIELD OP VALUE" ("ip cidr 10.0.0.0/8", "upn = a@b.c")
// or the compact "FIELD=VALUE", "FIELD!=VALUE", "FIELD=~VALUE".
func ParseMatcher(s string) (store.Matcher, error) {
	if f := strings.Fields(s); len(f) >= 3 && slices.Contains([]string{"=", "!=", "=~", "cidr"}, f[1]) {
		return store.Matcher{Field: f[0], Op: f[1], Value: strings.Join(f[2:], " ")}, nil
	}
	for _, op := range []string{"!=", "=~", "="} {
		if field, value, ok := strings.Cut(s, op); ok && field != "" {
			return store.Matcher{Field: strings.TrimSpace(field), Op: op, Value: strings.TrimSpace(value)}, nil
		}
	}
	return store.Matcher{}, usageErr("matcher %q: want FIELD OP VALUE (OP one of =, !=, =~, cidr) or FIELD=VALUE", s)
}

// Suppress runs a suppress command.
func Suppress(ctx context.Context, o SuppressOptions) error {
	st, err := sqlite.Open(filepath.Join(o.DataDir, "vaultwatch.db"), sqlite.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now().UTC()
	rule := func() (store.Rule, error) {
		r := store.Rule{Type: alert.Type(o.Type), Reason: o.Reason, Comment: o.Comment, Author: o.Author,
			StartsAt: now, EndsAt: o.Ends, CreatedAt: now, UpdatedAt: now, Matchers: []store.Matcher{}}
		if r.Reason == "" {
			r.Reason = suppress.ReasonOther
		}
		for _, m := range o.Matchers {
			pm, err := ParseMatcher(m)
			if err != nil {
				return r, err
			}
			r.Matchers = append(r.Matchers, pm)
		}
		_, err := suppress.Compile(r)
		return r, err
	}
	tw := tabwriter.NewWriter(o.Stdout, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	switch o.Verb {
	case "list":
		rs, err := st.Rules(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "ID\tSTATE\tMATCHES\tREASON\tBY\tMATCHED\tLAST MATCHED\tENDS")
		for _, r := range rs {
			last, ends := "never", "never"
			if !r.LastMatched.IsZero() {
				last = r.LastMatched.Format(time.DateTime)
			}
			if !r.EndsAt.IsZero() {
				ends = r.EndsAt.Format(time.DateTime)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, suppress.State(&r, now), suppress.Describe(r), r.Reason, r.Author, r.Matches, last, ends)
		}
	case "add":
		r, err := rule()
		if err != nil {
			return err
		}
		r, err = st.CreateRule(ctx, r)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.Stdout, "rule %s added: %s\n", r.ID, suppress.Describe(r))
	case "simulate":
		r, err := rule()
		if err != nil {
			return err
		}
		c, err := suppress.Compile(r)
		if err != nil {
			return err
		}
		past, err := suppress.Past(ctx, st, c, 10000, 10000)
		if err != nil {
			return err
		}
		fmt.Fprintf(o.Stdout, "of the %d newest alerts, %d would have been silenced by %s\n", past.Checked, past.Matched, suppress.Describe(r))
		if len(past.Alerts) > 0 {
			alert.WriteTable(o.Stdout, past.Alerts)
		}
	case "expire":
		if len(o.Args) != 1 {
			return usageErr("expire takes one rule id")
		}
		r, err := st.Rule(ctx, o.Args[0])
		if err != nil {
			return err
		}
		suppress.Expire(&r, now)
		if _, err := st.UpdateRule(ctx, r, r.Version); err != nil {
			return err
		}
		fmt.Fprintf(o.Stdout, "rule %s ended\n", r.ID)
	default:
		return usageErr("unknown command suppress %q: want list, add, simulate or expire", o.Verb)
	}
	return nil
}

// SampleOptions are the alerts sample command's: it asks a running server
// (an admin token) to make sample alerts.
type SampleOptions struct {
	Server string // e.g. http://127.0.0.1:8080/
	Token  string
	Types  []string
	Client *http.Client
	Stdout io.Writer
}

// RequestSamples asks the server for sample alerts and prints their ids.
func RequestSamples(ctx context.Context, o SampleOptions) error {
	if o.Client == nil {
		o.Client = &http.Client{Timeout: time.Minute}
	}
	body, _ := json.Marshal(map[string]any{"types": o.Types})
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimSuffix(o.Server, "/")+"/api/v1/alerts/sample", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+o.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := o.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var reply struct {
		Alerts []string
		Error  string
	}
	json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&reply)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("%s: %s %s", req.URL, resp.Status, reply.Error)
	}
	fmt.Fprintf(o.Stdout, "%d sample alert(s) made and sent to every notification and export:\n", len(reply.Alerts))
	for _, id := range reply.Alerts {
		fmt.Fprintln(o.Stdout, " ", id)
	}
	return nil
}
