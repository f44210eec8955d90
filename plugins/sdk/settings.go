package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Settings is one instance's settings as a JSON object.
type Settings []byte

// Validator is implemented by a settings struct that checks its values
// beyond their types. Decode calls Validate once every setting is decoded.
type Validator interface {
	// Validate returns FieldErrors (or a FieldError) naming each invalid
	// setting. Settings that failed to decode hold their zero value, and
	// errors Validate reports for them are dropped.
	Validate() error
}

// Decode fills v (a pointer to a struct with json tags) from the settings
// and reports every problem at once, as FieldErrors naming the settings:
// each unknown setting (with the list of known ones), each value of the
// wrong type, each missing setting tagged `heartbeat:"required"` (absent,
// null or an empty string), and, when v is a Validator, what Validate
// finds.
func (s Settings) Decode(v any) error {
	raw := []byte(s)
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return FieldErrors{{Message: "settings must be a mapping of setting names to values"}}
	}
	known := jsonFieldNames(v)
	var errs FieldErrors
	for _, name := range sortedKeys(fields) {
		if !slices.Contains(known, name) {
			errs.Add(name, "unknown setting%s", knownSettingsHint(known))
			continue
		}
		// Decoding one key at a time ties every error to its setting.
		one, _ := json.Marshal(map[string]json.RawMessage{name: fields[name]})
		if err := json.Unmarshal(one, v); err != nil {
			errs = append(errs, fieldErrorFor(name, err))
		}
	}
	for _, name := range requiredFieldNames(v) {
		if !errs.Has(name) && isMissing(fields[name]) {
			errs.Add(name, "is required")
		}
	}
	if val, ok := v.(Validator); ok {
		errs.Merge(val.Validate())
	}
	return errs.Err()
}

// isMissing reports whether a required setting's value counts as not
// given: absent, null, or a blank string (an unset ${VAR}).
func isMissing(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return true
	}
	var str string
	return json.Unmarshal(raw, &str) == nil && strings.TrimSpace(str) == ""
}

func fieldErrorFor(name string, err error) FieldError {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		// typeErr.Field is a Go path for embedded structs; keep the
		// setting's own name unless the error is deeper inside it.
		field := name
		if strings.HasPrefix(typeErr.Field, name+".") {
			field = typeErr.Field
		}
		return FieldError{Field: field, Message: fmt.Sprintf("must be %s, not %s", describeGoType(typeErr.Type.Kind().String()), typeErr.Value)}
	}
	var fe FieldError
	if errors.As(err, &fe) {
		if fe.Field == "" {
			fe.Field = name
		} else {
			fe.Field = name + "." + fe.Field
		}
		return fe
	}
	return FieldError{Field: name, Message: err.Error()}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func describeGoType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "map", "struct":
		return "a mapping"
	case "slice", "array":
		return "a list"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "a number"
	}
	return kind
}

func knownSettingsHint(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return "; known settings: " + strings.Join(names, ", ")
}

// FieldError is an invalid setting.
type FieldError struct {
	// Field is the dotted path of the setting; empty for the whole settings.
	Field   string
	Message string
}

func (e FieldError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// FieldErrors collects every invalid setting of an instance.
type FieldErrors []FieldError

func (es FieldErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Add appends an error for field.
func (es *FieldErrors) Add(field, format string, args ...any) {
	*es = append(*es, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Has reports whether es holds an error for field or a setting inside it
// (field.key).
func (es FieldErrors) Has(field string) bool {
	for _, e := range es {
		if e.Field == field || strings.HasPrefix(e.Field, field+".") {
			return true
		}
	}
	return false
}

// Merge appends the errors of err (see AsFieldErrors) except those for a
// setting es already has an error for: a setting that failed to decode
// holds its zero value, and checks of that value would only repeat the
// problem in other words. A nil err adds nothing.
func (es *FieldErrors) Merge(err error) {
	if err == nil {
		return
	}
	before := *es
	for _, e := range AsFieldErrors(err) {
		if e.Field != "" && before.related(e.Field) {
			continue
		}
		*es = append(*es, e)
	}
}

// related reports whether es has an error for field, for a setting inside
// it, or for a setting it lies in.
func (es FieldErrors) related(field string) bool {
	for _, e := range es {
		if e.Field != "" && (e.Field == field || strings.HasPrefix(e.Field, field+".") || strings.HasPrefix(field, e.Field+".")) {
			return true
		}
	}
	return false
}

// Err returns es as an error, or nil when empty.
func (es FieldErrors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// AsFieldErrors turns any error into field errors, keeping field names.
func AsFieldErrors(err error) FieldErrors {
	var es FieldErrors
	if errors.As(err, &es) {
		return es
	}
	var fe FieldError
	if errors.As(err, &fe) {
		return FieldErrors{fe}
	}
	return FieldErrors{{Message: err.Error()}}
}

// Duration is a time.Duration setting written as "10s", "1m30s" or a number
// of seconds (15, "15", 1.5), the rule heartbeat's own config follows too.
type Duration time.Duration

// UnmarshalJSON accepts a duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil // an empty YAML value: keep the default
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return FieldError{Message: "must be a duration such as \"10s\""}
		}
		s = n.String()
	}
	parsed, err := ParseDuration(s)
	if err != nil {
		return FieldError{Message: fmt.Sprintf("%s is not a duration; write e.g. \"10s\", \"1m30s\" or a number of seconds", strconv.Quote(truncate(s, 40)))}
	}
	*d = Duration(parsed)
	return nil
}

// ParseDuration reads a duration as every duration of heartbeat is read: a
// Go duration ("10s", "1m30s", "500ms") or a plain decimal number of
// seconds ("15", "1.5"). Numbers beyond the range of time.Duration are
// clamped to it, so that a range check reports them.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty")
	}
	if plainNumber(s) {
		secs, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, errors.New("not a duration")
		}
		if limit := float64(math.MaxInt64 / int64(time.Second)); math.Abs(secs) > limit {
			if secs < 0 {
				return math.MinInt64, nil
			}
			return math.MaxInt64, nil
		}
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("not a duration")
	}
	return d, nil
}

// plainNumber reports whether s is a decimal number with an optional sign
// and fraction: nothing else ParseFloat accepts (exponents, hex, Inf, NaN)
// reads as seconds.
func plainNumber(s string) bool {
	s = strings.TrimLeft(s, "+-")
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// truncate cuts s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	cut := 0
	for range n {
		_, size := utf8.DecodeRuneInString(s[cut:])
		cut += size
	}
	return s[:cut] + "…"
}
