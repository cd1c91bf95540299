package v1alpha1

import (
	"bytes"
	"encoding/json"
)

// SANType is the kind of a Subject Alternative Name pinned with peerCertSANs, as in
// Traefik.
// +kubebuilder:validation:Enum=DNSName;URI
type SANType string

// The SAN types of Traefik's peerCertSANs.
const (
	// SANTypeDNSName matches a DNS SAN the way hostname verification does (a wildcard
	// certificate covers the names below it), or an IP SAN when the value is an address.
	SANTypeDNSName SANType = "DNSName"
	// SANTypeURI matches a URI SAN (a SPIFFE ID, for example), case-insensitively.
	SANTypeURI SANType = "URI"
)

// PeerCertSAN is one entry of peerCertSANs, in either of two forms:
//
//   - Traefik's {type: DNSName|URI, value: ...};
//   - a plain string, Bridgehead's original form: a DNS name or IP address that one of the
//     certificate's DNS or IP SANs must equal exactly (a wildcard SAN does not stretch to it).
//
// The schema cannot say "a string or an object", so the entry's node keeps what was written
// and the gateway checks it: an entry of neither form makes the transport not Ready.
// +kubebuilder:validation:Type=""
// +kubebuilder:pruning:PreserveUnknownFields
type PeerCertSAN struct {
	// Type of the SAN: DNSName or URI.
	// +optional
	Type SANType `json:"type,omitempty"`
	// Value the SAN must match.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	Value string `json:"value,omitempty"`
	// Plain is true for the plain-string form.
	Plain bool `json:"-"`
	// Invalid holds, as written, an entry of neither form (a number, a list, an object
	// with other fields), for the gateway to refuse by name.
	Invalid string `json:"-"`
}

// sanObject is the {type, value} form on the wire.
type sanObject struct {
	Type  SANType `json:"type,omitempty"`
	Value string  `json:"value,omitempty"`
}

// UnmarshalJSON reads either form. It never fails: an entry of neither form is kept in
// Invalid, so that one bad entry is reported on its object rather than breaking the read
// of every object of the kind.
func (s *PeerCertSAN) UnmarshalJSON(data []byte) error {
	*s = PeerCertSAN{}
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		if err := json.Unmarshal(data, &s.Value); err != nil {
			s.Invalid = string(data)
		}
		s.Plain = true
		return nil
	}
	if o, ok := decodeSANObject(data); ok {
		s.Type, s.Value = o.Type, o.Value
	} else {
		s.Invalid = string(data)
	}
	return nil
}

// decodeSANObject reads the {type, value} form; ok is false for anything else, including
// an object with other fields.
func decodeSANObject(data []byte) (o sanObject, ok bool) {
	if len(data) == 0 || data[0] != '{' {
		return o, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return o, dec.Decode(&o) == nil
}

// MarshalJSON writes the entry in the form it was read in.
func (s PeerCertSAN) MarshalJSON() ([]byte, error) {
	switch {
	case s.Invalid != "" && json.Valid([]byte(s.Invalid)):
		return []byte(s.Invalid), nil
	case s.Plain:
		return json.Marshal(s.Value)
	}
	return json.Marshal(sanObject{Type: s.Type, Value: s.Value})
}
