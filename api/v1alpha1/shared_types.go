package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ObjectReference names an object of a kind the field implies. An empty namespace means
// the namespace of the referring object; another namespace is refused unless the gateway
// runs with --allow-cross-namespace.
type ObjectReference struct {
	// Name of the referenced object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// Namespace of the referenced object; defaults to the referring object's namespace.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// SecretName is the name of a Secret in the referring object's namespace.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=253
// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
type SecretName string

// TLSVersion is a TLS protocol version, spelled as in Traefik.
// +kubebuilder:validation:Enum=VersionTLS10;VersionTLS11;VersionTLS12;VersionTLS13
type TLSVersion string

// The TLS versions. Their spelling sorts in protocol order, which the CEL rules rely on.
const (
	VersionTLS10 TLSVersion = "VersionTLS10"
	VersionTLS11 TLSVersion = "VersionTLS11"
	VersionTLS12 TLSVersion = "VersionTLS12"
	VersionTLS13 TLSVersion = "VersionTLS13"
)

// CipherSuite is a TLS 1.0-1.2 cipher suite by its Go (IANA) name. TLS 1.3 suites are not
// configurable, as in Go's crypto/tls.
// +kubebuilder:validation:Enum=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384;TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256;TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305;TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384;TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256;TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305;TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA;TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA;TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA;TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA;TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256;TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256;TLS_RSA_WITH_AES_128_GCM_SHA256;TLS_RSA_WITH_AES_256_GCM_SHA384;TLS_RSA_WITH_AES_128_CBC_SHA;TLS_RSA_WITH_AES_256_CBC_SHA;TLS_RSA_WITH_AES_128_CBC_SHA256;TLS_AES_128_GCM_SHA256;TLS_AES_256_GCM_SHA384;TLS_CHACHA20_POLY1305_SHA256
type CipherSuite string

// Curve is a key-exchange group; both Traefik's spellings (CurveP256 and secp256r1) are accepted.
// +kubebuilder:validation:Enum=CurveP256;CurveP384;CurveP521;X25519;X25519MLKEM768;secp256r1;secp384r1;secp521r1;x25519
type Curve string

// ClientAuthType is how a TLSOption treats client certificates at the edge.
// +kubebuilder:validation:Enum=NoClientCert;RequestClientCert;RequireAnyClientCert;VerifyClientCertIfGiven;RequireAndVerifyClientCert
type ClientAuthType string

// The client authentication modes, with the meaning of Go's tls.ClientAuthType.
const (
	// NoClientCert asks for no client certificate.
	NoClientCert ClientAuthType = "NoClientCert"
	// RequestClientCert asks for one but neither requires nor verifies it.
	RequestClientCert ClientAuthType = "RequestClientCert"
	// RequireAnyClientCert requires one but does not verify it.
	RequireAnyClientCert ClientAuthType = "RequireAnyClientCert"
	// VerifyClientCertIfGiven verifies one against clientAuth.secretNames when sent.
	VerifyClientCertIfGiven ClientAuthType = "VerifyClientCertIfGiven"
	// RequireAndVerifyClientCert requires one and verifies it against clientAuth.secretNames.
	RequireAndVerifyClientCert ClientAuthType = "RequireAndVerifyClientCert"
)

// Domain is a main name and its alternative names, as in Traefik's tls.domains.
type Domain struct {
	// Main is the main domain name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Main string `json:"main,omitempty"`
	// SANs are subject alternative names.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	// +optional
	SANs []string `json:"sans,omitempty"`
}

// RootCA names one set of trusted root certificates: exactly one of secret or configMap.
// A Secret is read at key ca.crt (or tls.ca), a ConfigMap at key ca.crt.
// +kubebuilder:validation:XValidation:rule="has(self.secret) != has(self.configMap)",message="set exactly one of secret or configMap in each rootCAs entry"
type RootCA struct {
	// Secret is the name of a Secret holding PEM roots at ca.crt or tls.ca.
	// +optional
	Secret *SecretName `json:"secret,omitempty"`
	// ConfigMap is the name of a ConfigMap holding PEM roots at ca.crt.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ConfigMap *string `json:"configMap,omitempty"`
	// Key is the key holding the PEM roots (Bridgehead extension); default ca.crt, then
	// tls.ca. HAProxy's server-ca Secrets keep the CA at tls.crt.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	// +optional
	Key string `json:"key,omitempty"`
}

// ProxyProtocol sends a PROXY protocol header carrying the client's address to the backend.
type ProxyProtocol struct {
	// Version of the PROXY protocol: 1 (text) or 2 (binary).
	// +kubebuilder:validation:Enum=1;2
	// +kubebuilder:default=2
	// +optional
	Version int `json:"version,omitempty"`
}

// Status is the observed state common to every Bridgehead kind.
type Status struct {
	// ObservedGeneration is the metadata.generation the conditions were computed for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions say whether the object is accepted, its references resolve and it serves,
	// and if not, why. See the ConditionType constants for each type's meaning.
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}
