package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"vaultwatch/internal/auth"
	"vaultwatch/internal/store/sqlite"
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
