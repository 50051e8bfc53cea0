package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"vaultwatch/internal/store"
)

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// affected returns ErrNotFound (for what and id) when res changed no row.
func affected(res sql.Result, err error, what, id string) error {
	if err != nil {
		return fmt.Errorf("%s %q: %w", what, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s %q: %w", what, id, err)
	}
	if n == 0 {
		return notFound(what, id)
	}
	return nil
}

// exists returns ErrExists (for what and id) when res inserted no row.
func exists(res sql.Result, err error, what, id string) error {
	if err != nil {
		return fmt.Errorf("%s %q: %w", what, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s %q: %w", what, id, err)
	}
	if n == 0 {
		return fmt.Errorf("%s %q: %w", what, id, store.ErrExists)
	}
	return nil
}

func validUser(u store.User) error {
	if u.Name == "" {
		return fmt.Errorf("user has no name: %w", store.ErrInvalid)
	}
	if !u.Role.Valid() {
		return fmt.Errorf("user %q: unknown role %q: %w", u.Name, u.Role, store.ErrInvalid)
	}
	return nil
}

// CreateUser adds a user.
func (db *DB) CreateUser(ctx context.Context, u store.User) error {
	if err := validUser(u); err != nil {
		return err
	}
	res, err := db.w.ExecContext(ctx, `INSERT INTO users (name, role, password_hash, created_t, disabled)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		u.Name, string(u.Role), u.PasswordHash, ns(u.CreatedAt), b2i(u.Disabled))
	return exists(res, err, "user", u.Name)
}

const userColumns = `name, role, password_hash, created_t, disabled`

func scanUser(s scanner) (store.User, error) {
	var (
		u       store.User
		role    string
		created int64
	)
	err := s.Scan(&u.Name, &role, &u.PasswordHash, &created, &u.Disabled)
	u.Role, u.CreatedAt = store.Role(role), tm(created)
	return u, err
}

// User returns a user by name.
func (db *DB) User(ctx context.Context, name string) (store.User, error) {
	u, err := scanUser(db.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, notFound("user", name)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("user %q: %w", name, err)
	}
	return u, nil
}

// Users returns every user by name.
func (db *DB) Users(ctx context.Context) ([]store.User, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	out, err := collect(rows, scanUser)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return out, nil
}

// UpdateUser replaces a user's role, password hash and disabled flag.
func (db *DB) UpdateUser(ctx context.Context, u store.User) error {
	if err := validUser(u); err != nil {
		return err
	}
	res, err := db.w.ExecContext(ctx, `UPDATE users SET role = ?, password_hash = ?, disabled = ? WHERE name = ?`,
		string(u.Role), u.PasswordHash, b2i(u.Disabled), u.Name)
	return affected(res, err, "user", u.Name)
}

// DeleteUser removes a user and its sessions.
func (db *DB) DeleteUser(ctx context.Context, name string) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM users WHERE name = ?`, name)
	return affected(res, err, "user", name)
}

// CreateSession adds a session.
func (db *DB) CreateSession(ctx context.Context, s store.Session) error {
	if s.IDHash == "" || s.User == "" || s.ExpiresAt.IsZero() {
		return fmt.Errorf("session needs an id hash, a user and an expiry: %w", store.ErrInvalid)
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("session of %q: %w", s.User, err)
	}
	defer tx.Rollback()
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE name = ?`, s.User).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return notFound("user", s.User)
	} else if err != nil {
		return fmt.Errorf("session of %q: %w", s.User, err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_name, csrf, created_t, expires_t)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		s.IDHash, s.User, s.CSRF, ns(s.CreatedAt), ns(s.ExpiresAt))
	// The id hash is a secret's hash: errors name the user only.
	if err := exists(res, err, "session of user", s.User); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("session of %q: %w", s.User, err)
	}
	return nil
}

// Session returns a session by the hash of its id.
func (db *DB) Session(ctx context.Context, idHash string) (store.Session, error) {
	var (
		s                store.Session
		created, expires int64
	)
	err := db.r.QueryRowContext(ctx, `SELECT id_hash, user_name, csrf, created_t, expires_t FROM sessions WHERE id_hash = ?`,
		idHash).Scan(&s.IDHash, &s.User, &s.CSRF, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Session{}, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("session: %w", err)
	}
	s.CreatedAt, s.ExpiresAt = tm(created), tm(expires)
	return s, nil
}

// DeleteSession removes a session.
func (db *DB) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// TouchSession moves a session's expiry in place, so that requests made
// while it moves still find it; ErrNotFound when there is no such session.
func (db *DB) TouchSession(ctx context.Context, idHash string, expiresAt time.Time) error {
	res, err := db.w.ExecContext(ctx, `UPDATE sessions SET expires_t = ? WHERE id_hash = ?`, ns(expiresAt), idHash)
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("touch session: %w", store.ErrNotFound)
	}
	return nil
}

// DeleteSessions removes every session of a user.
func (db *DB) DeleteSessions(ctx context.Context, user string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM sessions WHERE user_name = ?`, user); err != nil {
		return fmt.Errorf("delete sessions of %q: %w", user, err)
	}
	return nil
}

// PruneSessions removes the sessions expired at now.
func (db *DB) PruneSessions(ctx context.Context, now time.Time) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_t <= ?`, ns(now)); err != nil {
		return fmt.Errorf("prune sessions: %w", err)
	}
	return nil
}

// CreateToken adds an API token.
func (db *DB) CreateToken(ctx context.Context, t store.APIToken) error {
	if t.ID == "" || t.Hash == "" {
		return fmt.Errorf("token needs an id and a hash: %w", store.ErrInvalid)
	}
	if !t.Role.ValidToken() {
		return fmt.Errorf("token %q: unknown role %q: %w", t.ID, t.Role, store.ErrInvalid)
	}
	if (t.Role == store.RoleIngest) != (t.Source != "") {
		return fmt.Errorf("token %q: an ingest token, and only it, names a source: %w", t.ID, store.ErrInvalid)
	}
	res, err := db.w.ExecContext(ctx, `INSERT INTO api_tokens (id, name, hash, role, created_by, source, created_t, last_used, revoked)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		t.ID, t.Name, t.Hash, string(t.Role), t.CreatedBy, t.Source, ns(t.CreatedAt), ns(t.LastUsed), b2i(t.Revoked))
	return exists(res, err, "token", t.ID)
}

const tokenColumns = `id, name, hash, role, created_by, source, created_t, last_used, revoked`

func scanToken(s scanner) (store.APIToken, error) {
	var (
		t             store.APIToken
		role          string
		created, used int64
	)
	err := s.Scan(&t.ID, &t.Name, &t.Hash, &role, &t.CreatedBy, &t.Source, &created, &used, &t.Revoked)
	t.Role, t.CreatedAt, t.LastUsed = store.Role(role), tm(created), tm(used)
	return t, err
}

// TokenByHash returns a token by the hash of its value.
func (db *DB) TokenByHash(ctx context.Context, hash string) (store.APIToken, error) {
	t, err := scanToken(db.r.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return store.APIToken{}, fmt.Errorf("token: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.APIToken{}, fmt.Errorf("token: %w", err)
	}
	return t, nil
}

// Tokens returns every token, newest first.
func (db *DB) Tokens(ctx context.Context) ([]store.APIToken, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY created_t DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	out, err := collect(rows, scanToken)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	return out, nil
}

// RevokeToken marks a token revoked.
func (db *DB) RevokeToken(ctx context.Context, id string) error {
	res, err := db.w.ExecContext(ctx, `UPDATE api_tokens SET revoked = 1 WHERE id = ?`, id)
	return affected(res, err, "token", id)
}

// TouchToken records a use of a token.
func (db *DB) TouchToken(ctx context.Context, id string, at time.Time) error {
	res, err := db.w.ExecContext(ctx, `UPDATE api_tokens SET last_used = max(last_used, ?) WHERE id = ?`, ns(at), id)
	return affected(res, err, "token", id)
}
