package export

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Secret is a token, key or password. It prints, logs and marshals to JSON
// and YAML as "<secret>" whatever the verb; string(s) is its value.
type Secret string

const redacted = "<secret>"

// Format writes "<secret>" for every verb, %#v and %q included.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// String returns "<secret>".
func (Secret) String() string { return redacted }

// GoString returns "<secret>".
func (Secret) GoString() string { return redacted }

// LogValue returns "<secret>".
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON returns "<secret>" as a JSON string.
func (Secret) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// MarshalYAML returns "<secret>".
func (Secret) MarshalYAML() (any, error) { return redacted, nil }

// ResolveSecret returns value, or the content of file (one trailing newline
// dropped) when file is set. field names the setting in errors (for
// example "bearer_token"); setting both, or a file that cannot be read or is
// empty, is an error. Neither value nor the file's content ever appears in
// an error.
func ResolveSecret(field string, value Secret, file string) (Secret, error) {
	if file == "" {
		return value, nil
	}
	if value != "" {
		return "", fmt.Errorf("%s and %s_file are exclusive", field, field)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s_file: %w", field, err)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", fmt.Errorf("%s_file %s: empty", field, file)
	}
	return Secret(s), nil
}
