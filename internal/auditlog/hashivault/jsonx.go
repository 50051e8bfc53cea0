package hashivault

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"vaultwatch/internal/auditlog/record"
)

// Vault's jsonx format (format=jsonx) writes each entry as the JSONx (IBM's
// XML form of JSON) rendering of the JSON entry, without the enclosing
// <json:object> element: a run of top-level elements such as
//
//	<json:object name="auth">...</json:object><json:string name="time">...</json:string><json:string name="type">request</json:string>
//
// in sorted key order. The file device writes nothing between entries: no
// newline, only the device's prefix when one is set. String values are
// written unescaped, so an error text carries its newlines, and a value may
// hold a bare '<' or '&': JSONX escapes them before parsing. XML reads a
// carriage return in a value as a newline.

// maxJSONXDepth bounds the nesting JSONX accepts.
const maxJSONXDepth = 256

// IsJSONX reports whether b starts (after white space) like a jsonx entry: a
// JSONx element or an XML declaration.
func IsJSONX(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return bytes.HasPrefix(b, []byte("<json:")) || bytes.HasPrefix(b, []byte("<?xml"))
}

// JSONX converts one jsonx entry to the equivalent JSON object. Text before
// the first element (a device prefix) and an XML declaration are ignored.
// A fragment that holds more than one entry (a top-level name seen twice)
// is an error: split a stream with SplitJSONX first. Errors never quote the
// input.
func JSONX(entry []byte) ([]byte, error) {
	// Vault does not escape string values: escape what would not parse.
	dec := xml.NewDecoder(io.MultiReader(
		strings.NewReader("<r>"), bytes.NewReader(escapeValues(skipDecl(entry))), strings.NewReader("</r>")))

	type frame struct {
		array bool
		n     int
	}
	var (
		out    = make([]byte, 0, len(entry)/2+16)
		stack  = make([]frame, 0, 8)
		top    []string // top-level names
		leaf   string   // kind of the open leaf element, "" when none
		text   []byte
		inRoot bool
	)
	out = append(out, '{')
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			// The decoder's message may quote the input: keep only where.
			return nil, fmt.Errorf("jsonx: malformed XML near byte %d", max(dec.InputOffset()-3, 0))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !inRoot {
				inRoot = true // the wrapping <r>
				continue
			}
			if leaf != "" {
				return nil, fmt.Errorf("jsonx: element inside a %s", leaf)
			}
			if len(stack) >= maxJSONXDepth {
				return nil, errors.New("jsonx: nesting too deep")
			}
			name, named := attr(t, "name")
			var parent *frame
			if len(stack) > 0 {
				parent = &stack[len(stack)-1]
			}
			switch {
			case parent == nil || !parent.array:
				if !named {
					return nil, fmt.Errorf("jsonx: object member %s without a name", t.Name.Local)
				}
				if parent == nil {
					for _, s := range top {
						if s == name {
							return nil, errors.New("jsonx: more than one entry (a top-level name repeats)")
						}
					}
					top = append(top, name)
					if len(top) > 1 {
						out = append(out, ',')
					}
				} else {
					if parent.n > 0 {
						out = append(out, ',')
					}
					parent.n++
				}
				out = record.AppendJSONString(out, name)
				out = append(out, ':')
			default:
				if parent.n > 0 {
					out = append(out, ',')
				}
				parent.n++
			}
			switch t.Name.Local {
			case "object":
				out = append(out, '{')
				stack = append(stack, frame{})
			case "array":
				out = append(out, '[')
				stack = append(stack, frame{array: true})
			case "string", "number", "boolean", "null":
				leaf = t.Name.Local
				text = text[:0]
			default:
				return nil, errors.New("jsonx: unknown element")
			}
		case xml.EndElement:
			if leaf != "" {
				var err error
				if out, err = appendLeaf(out, leaf, text); err != nil {
					return nil, err
				}
				leaf = ""
				continue
			}
			if len(stack) == 0 {
				continue // the wrapping </r>
			}
			if stack[len(stack)-1].array {
				out = append(out, ']')
			} else {
				out = append(out, '}')
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			switch {
			case leaf != "":
				text = append(text, t...)
			case len(bytes.TrimSpace(t)) == 0:
			case len(stack) == 0 && len(top) == 0:
				// a device prefix before the entry
			default:
				return nil, errors.New("jsonx: text outside a value")
			}
		}
	}
	if len(top) == 0 {
		return nil, errors.New("jsonx: no element")
	}
	if len(stack) > 0 || leaf != "" {
		return nil, errors.New("jsonx: unclosed element")
	}
	return append(out, '}'), nil
}

// skipDecl drops white space and a leading XML declaration.
func skipDecl(b []byte) []byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if bytes.HasPrefix(b, []byte("<?xml")) {
		if i := bytes.Index(b, []byte("?>")); i >= 0 {
			return b[i+2:]
		}
	}
	return b
}

func attr(t xml.StartElement, name string) (string, bool) {
	for _, a := range t.Attr {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

// appendLeaf appends the JSON form of a string, number, boolean or null
// element's text.
func appendLeaf(out []byte, kind string, text []byte) ([]byte, error) {
	switch kind {
	case "string":
		return record.AppendJSONString(out, string(text)), nil
	case "number":
		n := bytes.TrimSpace(text)
		if !jsonNumber(n) {
			return nil, errors.New("jsonx: number element is not a number")
		}
		return append(out, n...), nil
	case "boolean":
		switch string(bytes.TrimSpace(text)) {
		case "true":
			return append(out, "true"...), nil
		case "false":
			return append(out, "false"...), nil
		}
		return nil, errors.New("jsonx: boolean element is not true or false")
	default: // null
		if len(bytes.TrimSpace(text)) > 0 {
			return nil, errors.New("jsonx: null element has content")
		}
		return append(out, "null"...), nil
	}
}

// jsonNumber reports whether b is a number in JSON's grammar.
func jsonNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	return i == len(b)
}

// SplitJSONX is a bufio.SplitFunc that cuts a jsonx stream into entries,
// each a token for JSONX. Vault writes entries back to back, so an entry
// ends where a top-level element's name does not sort after the previous
// one's (Vault writes an entry's keys in sorted order), where top-level text
// (a device prefix) starts, or right after its "type" element, the last key
// of every entry: an entry is returned as soon as it is complete, without
// waiting for the next, so it suits a file being followed. String values are taken up to their end tag,
// so an unescaped '<' in a value does not cut the entry. Leading white space
// and a prefix are dropped; a truncated or stray piece is returned as a
// token for JSONX to reject.
func SplitJSONX(data []byte, atEOF bool) (advance int, token []byte, err error) {
	var (
		depth      int
		start      = -1 // start of the entry's first element
		end        int  // end of its last complete top-level element
		prev       []byte
		incomplete bool
	)
	i := 0
	for i < len(data) {
		if data[i] != '<' {
			k := len(data)
			if j := bytes.IndexByte(data[i:], '<'); j >= 0 {
				k = i + j
			}
			if depth == 0 && start >= 0 && len(bytes.TrimSpace(data[i:k])) > 0 {
				return i, data[start:end], nil // a prefix starts the next entry
			}
			i = k
			continue
		}
		m := markup(data, i)
		if m.next < 0 {
			incomplete = true
			break
		}
		switch m.kind {
		case tagClose:
			if depth == 0 { // an end tag without its start
				if start >= 0 {
					return i, data[start:end], nil
				}
				return m.next, data[i:m.next], nil
			}
			depth--
			if depth == 0 {
				end = m.next
				if string(prev) == "type" {
					return end, data[start:end], nil
				}
			}
		case tagOpen, tagEmpty, tagString:
			if depth == 0 {
				name := nameAttr(data[i:m.tagEnd])
				if start >= 0 && bytes.Compare(name, prev) <= 0 {
					return i, data[start:end], nil
				}
				if start < 0 {
					start = i
				}
				prev = name
			}
			if m.kind == tagOpen {
				depth++
			} else if depth == 0 {
				end = m.next
				if string(prev) == "type" {
					return end, data[start:end], nil
				}
			}
		}
		i = m.next
	}
	blank := len(bytes.TrimSpace(data)) == 0
	if !atEOF {
		if blank {
			return len(data), nil, nil
		}
		return 0, nil, nil // wait for the rest of the entry
	}
	switch {
	case blank:
		return len(data), nil, nil
	case start >= 0 && depth == 0 && !incomplete:
		return len(data), data[start:end], nil
	case start >= 0:
		return len(data), data[start:], nil
	}
	return len(data), data, nil // no element
}

// Kinds of markup.
const (
	tagOther  = iota // declaration, processing instruction, comment
	tagOpen          // start tag of an object or array
	tagClose         // end tag
	tagEmpty         // empty-element tag <... />
	tagString        // a <json:string> element through its end tag
)

// tag is a piece of markup found by markup.
type tag struct {
	kind   int
	tagEnd int // index after the start tag
	next   int // index after the markup (for tagString, after the end tag); -1 when data ends first
}

const stringEnd = "</json:string>"

// markup reads the markup at data[i] == '<'.
func markup(data []byte, i int) tag {
	none := tag{next: -1}
	if i+1 >= len(data) {
		return none
	}
	switch data[i+1] {
	case '?':
		if j := indexFrom(data, i, "?>"); j >= 0 {
			return tag{kind: tagOther, next: j + 2}
		}
		return none
	case '!':
		if bytes.HasPrefix(data[i:], []byte("<!--")) {
			if j := indexFrom(data, i+4, "-->"); j >= 0 {
				return tag{kind: tagOther, next: j + 3}
			}
			return none
		}
		if j := tagEnd(data, i); j >= 0 {
			return tag{kind: tagOther, next: j + 1}
		}
		return none
	case '/':
		if j := tagEnd(data, i); j >= 0 {
			return tag{kind: tagClose, next: j + 1}
		}
		return none
	}
	j := tagEnd(data, i)
	if j < 0 {
		return none
	}
	t := tag{kind: tagOpen, tagEnd: j + 1, next: j + 1}
	switch {
	case data[j-1] == '/':
		t.kind = tagEmpty
	case bytes.HasPrefix(data[i:], []byte("<json:string")) &&
		(data[i+12] == ' ' || data[i+12] == '>' || data[i+12] == '\t' || data[i+12] == '\n'):
		k := indexFrom(data, j+1, stringEnd)
		if k < 0 {
			return none
		}
		t.kind, t.next = tagString, k+len(stringEnd)
	}
	return t
}

// indexFrom returns the index in data of sep at or after from, or -1.
func indexFrom(data []byte, from int, sep string) int {
	j := bytes.Index(data[from:], []byte(sep))
	if j < 0 {
		return -1
	}
	return from + j
}

// tagEnd returns the index of the '>' that closes the tag starting at i,
// skipping quoted attribute values, or -1 when the data ends first.
func tagEnd(data []byte, i int) int {
	var quote byte
	for j := i + 1; j < len(data); j++ {
		c := data[j]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return j
		}
	}
	return -1
}

// nameAttr returns the raw value of the name attribute in a start tag.
func nameAttr(tag []byte) []byte {
	k := bytes.Index(tag, []byte(" name="))
	if k < 0 || k+7 > len(tag) {
		return nil
	}
	q := tag[k+6]
	if q != '"' && q != '\'' {
		return nil
	}
	v := tag[k+7:]
	if j := bytes.IndexByte(v, q); j >= 0 {
		return v[:j]
	}
	return nil
}

// escapeValues returns b with what Vault leaves unescaped made well-formed:
// '<' and '&' inside string values, and an '&' that starts no character
// reference anywhere. b itself is returned when nothing needs it.
func escapeValues(b []byte) []byte {
	var out []byte // nil until something is escaped
	copied := 0    // b[:copied] is in out
	escape := func(from, to int, lt bool) {
		for k := from; k < to; k++ {
			c := b[k]
			var rep string
			switch {
			case c == '<' && lt:
				rep = "&lt;"
			case c == '&' && !charRef(b[k:to]):
				rep = "&amp;"
			default:
				continue
			}
			if out == nil {
				out = make([]byte, 0, len(b)+64)
			}
			out = append(out, b[copied:k]...)
			out = append(out, rep...)
			copied = k + 1
		}
	}
	i := 0
	for i < len(b) {
		if b[i] != '<' {
			k := len(b)
			if j := bytes.IndexByte(b[i:], '<'); j >= 0 {
				k = i + j
			}
			escape(i, k, false)
			i = k
			continue
		}
		m := markup(b, i)
		if m.next < 0 {
			break // left for the XML decoder to reject
		}
		if m.kind == tagString {
			escape(m.tagEnd, m.next-len(stringEnd), true)
		}
		i = m.next
	}
	if out == nil {
		return b
	}
	return append(out, b[copied:]...)
}

// charRef reports whether b starts with an XML character or entity
// reference.
func charRef(b []byte) bool {
	end := bytes.IndexByte(b, ';')
	if end < 2 || end > 12 {
		return false
	}
	r := b[1:end]
	switch string(r) {
	case "amp", "lt", "gt", "quot", "apos":
		return true
	}
	if r[0] != '#' || len(r) < 2 {
		return false
	}
	digits, hex := r[1:], false
	if digits[0] == 'x' {
		digits, hex = digits[1:], true
	}
	if len(digits) == 0 {
		return false
	}
	for _, c := range digits {
		isDec := c >= '0' && c <= '9'
		isHex := isDec || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
		if !isDec && !(hex && isHex) {
			return false
		}
	}
	return true
}
