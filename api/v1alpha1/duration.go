package v1alpha1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time span written as Traefik writes it: a Go duration string ("30s",
// "1m30s", "500ms") or a plain number of seconds (42 or "42").
//
// Duration and Port are strings in Go and int-or-string in the schema (rather than
// intstr.IntOrString) so that the schema can bound their length: without a bound, the API
// server refuses the CEL rules that give readable messages as too costly.
// +kubebuilder:validation:XIntOrString
// +kubebuilder:validation:Type=""
// +kubebuilder:validation:MaxLength=32
type Duration string

// UnmarshalJSON accepts a JSON number (seconds) or a string.
func (d *Duration) UnmarshalJSON(data []byte) error {
	s, err := intOrStringText(data)
	*d = Duration(s)
	return err
}

// MarshalJSON writes a bare number of seconds as a JSON number, as the user wrote it.
func (d Duration) MarshalJSON() ([]byte, error) { return intOrStringJSON(string(d)) }

// Parse returns the span; a bare number is seconds.
func (d Duration) Parse() (time.Duration, error) {
	s := string(d)
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(secs * float64(time.Second)), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither a number of seconds nor a duration such as 30s, 1m30s or 500ms", s)
	}
	return v, nil
}

// Port is a Service port by number (443) or by name ("https").
// +kubebuilder:validation:XIntOrString
// +kubebuilder:validation:Type=""
// +kubebuilder:validation:MaxLength=15
type Port string

// UnmarshalJSON accepts a JSON number or a port name.
func (p *Port) UnmarshalJSON(data []byte) error {
	s, err := intOrStringText(data)
	*p = Port(s)
	return err
}

// MarshalJSON writes a port number as a JSON number.
func (p Port) MarshalJSON() ([]byte, error) { return intOrStringJSON(string(p)) }

// Number returns the port number, or false when the port is given by name.
func (p Port) Number() (int32, bool) {
	// A name is told apart before parsing: the parser's error for it was an allocation
	// per backend on every build.
	digits := strings.TrimLeft(string(p), "+-")
	if digits == "" || strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(p), 10, 32)
	if err != nil {
		return 0, false
	}
	return int32(n), true
}

func intOrStringText(data []byte) (string, error) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		var s string
		err := json.Unmarshal(data, &s)
		return s, err
	}
	var n json.Number
	if err := json.Unmarshal(data, &n); err != nil {
		return "", fmt.Errorf("want a number or a string: %w", err)
	}
	return n.String(), nil
}

func intOrStringJSON(s string) ([]byte, error) {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return []byte(s), nil
	}
	return json.Marshal(s)
}
