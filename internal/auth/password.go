package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Passwords are hashed with argon2id rather than bcrypt: argon2id is
// memory-hard (every guess costs an attacker's GPU or ASIC the same memory
// as it costs us, not only time), it reads the whole password (bcrypt
// silently ignores every byte past the 72nd), and its PHC string carries
// its parameters, so they can be raised later: a hash made with other
// parameters is made again at the user's next login.
//
// The parameters are the first argon2id configuration of the OWASP Password
// Storage Cheat Sheet: 19 MiB of memory, 2 passes, 1 lane, a 16-byte random
// salt and a 32-byte key. One login costs about 19 MiB and a few tens of
// milliseconds; Service bounds how many run at once (maxHashing). The
// stored form is the PHC string format:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with salt and key in unpadded standard base64.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Password rules: at least MinPasswordLength characters (Unicode code
// points), at most MaxPasswordLength bytes.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 1024
)

// ErrWeakPassword is returned for a password the rules above refuse.
var ErrWeakPassword = errors.New("password refused")

// checkPassword applies the password rules.
func checkPassword(password string) error {
	if n := utf8.RuneCountInString(password); n < MinPasswordLength {
		return fmt.Errorf("%w: it has %d characters, at least %d are needed", ErrWeakPassword, n, MinPasswordLength)
	}
	if len(password) > MaxPasswordLength {
		return fmt.Errorf("%w: longer than %d bytes", ErrWeakPassword, MaxPasswordLength)
	}
	return nil
}

// argonParams are the parameters of one hash.
type argonParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
}

// currentParams are the parameters new hashes are made with.
var currentParams = argonParams{memory: argonMemory, time: argonTime, threads: argonThreads}

// hashPassword returns the PHC string of password with today's parameters
// and a new random salt.
func hashPassword(password string) (string, error) { return hashWith(currentParams, password) }

// hashWith hashes with the parameters p.
func hashWith(p argonParams, password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// errBadHash is returned for a stored hash that is not an argon2id PHC
// string vaultwatch can check.
var errBadHash = errors.New("stored password hash is not an argon2id PHC string")

// Bounds on the parameters a stored hash may ask for, so that a damaged
// hash cannot make one login take gigabytes or minutes.
const (
	maxArgonMemory  = 1 << 20 // KiB: 1 GiB
	maxArgonTime    = 64
	maxArgonThreads = 64
)

// parseHash reads a PHC string.
func parseHash(encoded string) (p argonParams, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: version %q", errBadHash, parts[2])
	}
	var m, t, th uint64
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, perr := strconv.ParseUint(v, 10, 32)
		if perr != nil {
			return p, nil, nil, fmt.Errorf("%w: parameter %q", errBadHash, kv)
		}
		switch k {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			th = n
		default:
			return p, nil, nil, fmt.Errorf("%w: parameter %q", errBadHash, kv)
		}
	}
	if m < 8 || m > maxArgonMemory || t < 1 || t > maxArgonTime || th < 1 || th > maxArgonThreads {
		return p, nil, nil, fmt.Errorf("%w: parameters %q out of range", errBadHash, parts[3])
	}
	salt, err = base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, fmt.Errorf("%w: salt", errBadHash)
	}
	key, err = base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, fmt.Errorf("%w: key", errBadHash)
	}
	return argonParams{memory: uint32(m), time: uint32(t), threads: uint8(th)}, salt, key, nil
}

// verifyPassword reports whether password matches the PHC string encoded,
// comparing in constant time, and whether the hash was made with other
// parameters than today's and should be made again.
func verifyPassword(encoded, password string) (ok, rehash bool, err error) {
	p, salt, key, err := parseHash(encoded)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, uint32(len(key)))
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, p != currentParams || len(salt) != argonSaltLen || len(key) != argonKeyLen, nil
}
