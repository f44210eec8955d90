package sdk

import (
	"reflect"
	"slices"
	"strings"
)

// settingField is one setting a settings struct declares.
type settingField struct {
	name string
	// required: tagged `heartbeat:"required"`.
	required bool
}

// jsonFieldNames lists the json names of the struct v points to.
func jsonFieldNames(v any) []string {
	var names []string
	for _, f := range settingFields(v) {
		names = append(names, f.name)
	}
	return names
}

// requiredFieldNames lists the json names of the fields of the struct v
// points to that are tagged `heartbeat:"required"`.
func requiredFieldNames(v any) []string {
	var names []string
	for _, f := range settingFields(v) {
		if f.required {
			names = append(names, f.name)
		}
	}
	return names
}

func settingFields(v any) []settingField {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	return structFields(t)
}

// structFields follows encoding/json: the fields of an untagged embedded
// struct are promoted to the outer object.
func structFields(t reflect.Type) []settingField {
	var fields []settingField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if f.Anonymous && tag == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				fields = append(fields, structFields(ft)...)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		required := slices.Contains(strings.Split(f.Tag.Get("heartbeat"), ","), "required")
		fields = append(fields, settingField{name: name, required: required})
	}
	return fields
}
