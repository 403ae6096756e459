package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// wantObject is what a report file must hold.
const wantObject = "expected a netchaos report (a JSON object)"

// topLevel checks that b holds a JSON object before it is decoded, so that
// an array, a string or an empty file is named as such rather than as a Go
// type that would not unmarshal.
func topLevel(b []byte) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return errors.New("empty file, " + wantObject)
	}
	tok, err := json.NewDecoder(bytes.NewReader(b)).Token()
	if err != nil {
		return fmt.Errorf("not a netchaos report: %w", jsonProblem(err))
	}
	if d, ok := tok.(json.Delim); ok && d == '{' {
		return nil
	}
	return fmt.Errorf("%s, got %s", wantObject, kindOfToken(tok))
}

// kindOfToken names a JSON value by its first token.
func kindOfToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "true or false"
	case nil:
		return "null"
	}
	return "something else"
}

// jsonProblem restates an encoding/json error in the report's own terms:
// the JSON field and the kinds of JSON value expected and found, never the
// Go type it was to be read into.
func jsonProblem(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		got := jsonValue(te.Value)
		if te.Field == "" {
			return fmt.Errorf("%s, got %s", wantObject, got)
		}
		return fmt.Errorf("field %s: expected %s, got %s", te.Field, jsonKind(te.Type), got)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not valid JSON at byte %d: %s", se.Offset, se.Error())
	}
	return err
}

// jsonValue names the kind of value an UnmarshalTypeError found ("array",
// "number 1e999").
func jsonValue(v string) string {
	kind, _, _ := strings.Cut(v, " ")
	switch kind {
	case "array", "object":
		return "an " + kind
	case "string", "number":
		return "a " + kind
	case "bool":
		return "true or false"
	case "":
		return "a value"
	}
	return kind
}

// jsonKind names the kind of JSON value that reads into t.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a string"
		}
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another value"
}
