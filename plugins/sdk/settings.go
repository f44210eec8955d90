package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Settings is one instance's settings as a JSON object.
type Settings []byte

// Decode fills v (a pointer to a struct with json tags) from the settings.
// Every unknown setting and every value of the wrong type is reported as a
// FieldError naming the setting.
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
	return errs.Err()
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
// of seconds.
type Duration time.Duration

// UnmarshalJSON accepts a Go duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil // an empty YAML value: keep the default
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		parsed, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return FieldError{Message: fmt.Sprintf("%q is not a duration; write e.g. \"10s\" or \"1m30s\"", s)}
		}
		*d = Duration(parsed)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return FieldError{Message: "must be a duration such as \"10s\""}
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }
