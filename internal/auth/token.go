package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"vaultwatch/internal/store"
)

// API tokens.
//
// A token reads "vwt_<id>_<secret>": the id is 16 hex digits, public, shown
// in lists and used to revoke the token; the secret is 32 random bytes in
// unpadded base64url. The store keeps SHA-256 of the whole token and looks
// it up by that hash; the plaintext is returned once, by CreateToken.
// Callers send it as "Authorization: Bearer vwt_...".

// TokenPrefix starts every API token.
const TokenPrefix = "vwt_"

// maxTokenLen bounds a bearer token read from a request.
const maxTokenLen = 128

// ErrBadToken is a bearer token that is malformed, unknown or revoked.
var ErrBadToken = errors.New("invalid or revoked API token")

// CreateToken makes an API token named name with a role (RoleViewer,
// RoleResponder, RoleAdmin, or RoleIngest with the source it feeds; source
// is "" for the other roles), recorded as made by createdBy. It returns the
// token's value, to show once, and the token as stored. Errors wrap
// ErrInvalid for a bad name, role or source.
func (s *Service) CreateToken(ctx context.Context, name, role, source, createdBy string) (string, store.APIToken, error) {
	if strings.TrimSpace(name) == "" {
		return "", store.APIToken{}, fmt.Errorf("token has no name: %w", ErrInvalid)
	}
	if !store.Role(role).ValidToken() {
		return "", store.APIToken{}, fmt.Errorf("token %q: unknown role %q: %w", name, role, ErrInvalid)
	}
	if (role == RoleIngest) != (source != "") {
		return "", store.APIToken{}, fmt.Errorf("token %q: an ingest token, and only it, names a source: %w", name, ErrInvalid)
	}
	var err error
	for range 3 {
		id := make([]byte, 8)
		_, _ = rand.Read(id) // crypto/rand.Read never fails
		t := store.APIToken{
			ID:        hex.EncodeToString(id),
			Name:      name,
			Role:      store.Role(role),
			CreatedBy: createdBy,
			Source:    source,
			CreatedAt: s.now(),
		}
		plain := TokenPrefix + t.ID + "_" + randomToken(32)
		t.Hash = sha256Hex(plain)
		if err = s.st.CreateToken(ctx, t); err == nil {
			s.log.Info("token created", "token_id", t.ID, "name", name, "role", role, "source", source, "by", createdBy)
			return plain, t, nil
		}
		if !errors.Is(err, store.ErrExists) {
			break
		}
	}
	return "", store.APIToken{}, fmt.Errorf("create token %q: %w", name, err)
}

// RevokeToken revokes a token by id; store.ErrNotFound when there is none.
func (s *Service) RevokeToken(ctx context.Context, id string) error {
	if err := s.st.RevokeToken(ctx, id); err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	s.log.Info("token revoked", "token_id", id)
	return nil
}

// tokenID returns the id inside a token value, "" when the value does not
// have the token's shape.
func tokenID(value string) string {
	rest, ok := strings.CutPrefix(value, TokenPrefix)
	if !ok || len(value) > maxTokenLen {
		return ""
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 16 || secret == "" {
		return ""
	}
	if _, err := hex.DecodeString(id); err != nil {
		return ""
	}
	return id
}

// bearer returns the token of an "Authorization: Bearer ..." header value,
// "" when it is not one.
func bearer(header string) string {
	scheme, value, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(value)
}

// token resolves an Authorization header: the principal of a live token,
// or an error wrapping ErrBadToken, or the store's error. A use is recorded
// (TouchToken) when the last recorded one is more than a minute old.
func (s *Service) token(ctx context.Context, header string) (Principal, error) {
	value := bearer(header)
	id := tokenID(value)
	if id == "" {
		return Principal{}, ErrBadToken
	}
	t, err := s.st.TokenByHash(ctx, sha256Hex(value))
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, fmt.Errorf("token %s: %w", id, ErrBadToken)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("token %s: %w", id, err)
	}
	if t.ID != id || t.Revoked {
		return Principal{}, fmt.Errorf("token %s: %w", id, ErrBadToken)
	}
	if now := s.now(); now.Sub(t.LastUsed) >= refreshEvery {
		if err := s.st.TouchToken(ctx, t.ID, now); err != nil {
			s.log.Error("token: record use", "token_id", t.ID, "error", err)
		}
	}
	return Principal{Name: "token:" + t.Name, Role: string(t.Role), Token: true, Source: t.Source}, nil
}
