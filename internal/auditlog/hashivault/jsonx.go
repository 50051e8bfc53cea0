package hashivault

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Vault's jsonx format (format=jsonx) writes each entry as the JSONx (IBM's
// XML form of JSON) rendering of the JSON entry, without the enclosing
// <json:object> element: a run of top-level elements such as
//
//	<json:object name="auth">...</json:object><json:string name="time">...</json:string><json:string name="type">request</json:string>
//
// in sorted key order. The file device writes nothing between entries: no
// newline, only the device's prefix when one is set. String values are
// written unescaped, so an error text carries its newlines, and a value
// holding '<' cannot be read back (Vault HMACs data values by default).

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
	dec := xml.NewDecoder(io.MultiReader(
		strings.NewReader("<r>"), bytes.NewReader(skipDecl(entry)), strings.NewReader("</r>")))
	// Vault does not escape string values: a bare '&' is kept as written.
	dec.Strict = false
	dec.AutoClose = nil
	dec.Entity = xml.HTMLEntity

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
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
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
				out = appendJSONString(out, name)
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
		return appendJSONString(out, string(text)), nil
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

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 is kept as
// is: the reader checks it.
func appendJSONString(out []byte, s string) []byte {
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			out = append(out, '\\', c)
		case c == '\n':
			out = append(out, '\\', 'n')
		case c == '\r':
			out = append(out, '\\', 'r')
		case c == '\t':
			out = append(out, '\\', 't')
		case c < 0x20:
			out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			out = append(out, c)
		}
	}
	return append(out, '"')
}

// SplitJSONX is a bufio.SplitFunc that cuts a jsonx stream into entries,
// each a token for JSONX. Vault writes entries back to back, so an entry
// ends where a top-level element's name does not sort after the previous
// one's (Vault writes an entry's keys in sorted order), where top-level text
// (a device prefix) starts, or right after its "type" element, the last key
// of every entry. It reads no further than the start of the next entry, so
// it suits a file being followed. A truncated final entry is returned as it
// is, for JSONX to reject.
func SplitJSONX(data []byte, atEOF bool) (advance int, token []byte, err error) {
	var (
		depth      int
		start      = -1 // start of the entry's first element
		end        int  // end of its last complete top-level element
		prev, name []byte
	)
	i := 0
	for i < len(data) {
		c := data[i]
		if c != '<' {
			j := bytes.IndexByte(data[i:], '<')
			if depth == 0 && len(bytes.TrimSpace(data[i:ifNeg(j, len(data)-i)+i])) > 0 && start >= 0 {
				return i, data[start:end], nil // a prefix starts the next entry
			}
			if j < 0 {
				i = len(data)
				break
			}
			i += j
			continue
		}
		if i+1 >= len(data) {
			break
		}
		var closeAt int
		switch data[i+1] {
		case '?': // declaration or processing instruction
			closeAt = indexFrom(data, i, "?>") + 1
		case '!': // comment or other markup declaration
			if bytes.HasPrefix(data[i:], []byte("<!--")) {
				closeAt = indexFrom(data, i, "-->") + 2
			} else {
				closeAt = tagEnd(data, i)
			}
		case '/':
			closeAt = tagEnd(data, i)
			if closeAt < 0 {
				break
			}
			depth--
			if depth < 0 {
				return 0, nil, errors.New("jsonx: end element without a start")
			}
			if depth == 0 {
				end = closeAt + 1
				if string(prev) == "type" {
					return end, data[start:end], nil
				}
			}
		default:
			closeAt = tagEnd(data, i)
			if closeAt < 0 {
				break
			}
			self := data[closeAt-1] == '/'
			if depth == 0 {
				name = nameAttr(data[i:closeAt])
				if start >= 0 && bytes.Compare(name, prev) <= 0 {
					return i, data[start:end], nil
				}
				if start < 0 {
					start = i
				}
				prev = name
				if self {
					end = closeAt + 1
					if string(prev) == "type" {
						return end, data[start:end], nil
					}
				}
			}
			if !self {
				depth++
			}
		}
		if closeAt < 0 {
			break // the tag is not complete yet
		}
		i = closeAt + 1
	}
	if !atEOF {
		if start < 0 && depth == 0 && i == len(data) {
			// Only white space or a prefix so far: keep it for the next call
			// unless it is only white space.
			if len(bytes.TrimSpace(data)) == 0 {
				return len(data), nil, nil
			}
		}
		return 0, nil, nil
	}
	switch {
	case start >= 0 && depth == 0:
		return len(data), data[start:end], nil
	case start >= 0:
		return len(data), data[start:], nil
	case len(bytes.TrimSpace(data)) > 0:
		return len(data), data, nil // text with no element: JSONX rejects it
	}
	return len(data), nil, nil
}

func ifNeg(j, alt int) int {
	if j < 0 {
		return alt
	}
	return j
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
	k := bytes.Index(tag, []byte(` name=`))
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
