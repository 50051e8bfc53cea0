package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

func TestHashPassword(t *testing.T) {
	const pw = "correct horse battery"
	h, err := hashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(h) {
		t.Fatalf("hash %q is not the PHC string of argon2id m=19456,t=2,p=1 with a 16-byte salt and a 32-byte key", h)
	}
	p, salt, key, err := parseHash(h)
	if err != nil {
		t.Fatal(err)
	}
	if p != currentParams || len(salt) != argonSaltLen || len(key) != argonKeyLen {
		t.Errorf("parsed %+v, salt %d bytes, key %d bytes", p, len(salt), len(key))
	}
	if want := argon2.IDKey([]byte(pw), salt, 2, 19456, 1, 32); string(want) != string(key) {
		t.Error("the key is not argon2id(password, salt) with the documented parameters")
	}
	h2, _ := hashPassword(pw)
	if h2 == h {
		t.Error("two hashes of one password are equal: the salt is not random")
	}

	for _, tc := range []struct {
		name, password string
		ok             bool
	}{
		{"right", pw, true},
		{"wrong", "correct horse battery!", false},
		{"empty", "", false},
		{"prefix", pw[:len(pw)-1], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := verifyPassword(h, tc.password)
			if err != nil || ok != tc.ok || rehash {
				t.Errorf("verify = %v, rehash %v, %v; want %v, false, nil", ok, rehash, err, tc.ok)
			}
		})
	}
}

func TestVerifyOldParameters(t *testing.T) {
	const pw = "an older password"
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte(pw), salt, 1, 8*1024, 1, 32)
	old := fmt.Sprintf("$argon2id$v=19$m=8192,t=1,p=1$%s$%s",
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
	ok, rehash, err := verifyPassword(old, pw)
	if err != nil || !ok || !rehash {
		t.Errorf("verify = %v, rehash %v, %v; want true, true, nil", ok, rehash, err)
	}
}

func TestParseHashRefuses(t *testing.T) {
	good, err := hashPassword("some password here")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	for _, tc := range []struct{ name, hash string }{
		{"empty", ""},
		{"bcrypt", "$2a$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"},
		{"argon2i", strings.Replace(good, "argon2id", "argon2i", 1)},
		{"version", strings.Replace(good, "v=19", "v=16", 1)},
		{"huge memory", strings.Replace(good, "m=19456", "m=4294967295", 1)},
		{"zero time", strings.Replace(good, "t=2", "t=0", 1)},
		{"unknown parameter", strings.Replace(good, "p=1", "x=1", 1)},
		{"bad salt", strings.Join([]string{"", parts[1], parts[2], parts[3], "!!", parts[5]}, "$")},
		{"short key", strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$")},
		{"extra part", good + "$x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, _, err := verifyPassword(tc.hash, "some password here")
			if ok || !errors.Is(err, errBadHash) {
				t.Errorf("verify = %v, %v; want false, errBadHash", ok, err)
			}
		})
	}
}

func TestCheckPassword(t *testing.T) {
	for _, tc := range []struct {
		name, password string
		ok             bool
	}{
		{"empty", "", false},
		{"11 characters", "abcdefghijk", false},
		{"12 characters", "abcdefghijkl", true},
		{"12 runes, more bytes", "ééééééééééé", false},
		{"12 accented runes", "éééééééééééé", true},
		{"too long", strings.Repeat("a", MaxPasswordLength+1), false},
		{"longest", strings.Repeat("a", MaxPasswordLength), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkPassword(tc.password)
			if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrWeakPassword) {
				t.Errorf("checkPassword = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
