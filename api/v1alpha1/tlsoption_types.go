package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TLSOptionSpec is the client-facing TLS policy for the hosts of the routes that name it.
// It governs the edge only: how the gateway checks *clients*. Trust in backends is a
// ServersTransport's job.
// +kubebuilder:validation:XValidation:rule="!has(self.minVersion) || !has(self.maxVersion) || self.minVersion <= self.maxVersion",message="minVersion must not be newer than maxVersion"
type TLSOptionSpec struct {
	// MinVersion is the oldest TLS version accepted from clients; default VersionTLS12.
	// +optional
	MinVersion TLSVersion `json:"minVersion,omitempty"`
	// MaxVersion is the newest TLS version offered to clients; default VersionTLS13.
	// +optional
	MaxVersion TLSVersion `json:"maxVersion,omitempty"`
	// CipherSuites for TLS 1.2 and older, by Go name; empty means Go's secure defaults.
	// +kubebuilder:validation:MaxItems=32
	// +optional
	CipherSuites []CipherSuite `json:"cipherSuites,omitempty"`
	// CurvePreferences are the key-exchange groups in order of preference.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	CurvePreferences []Curve `json:"curvePreferences,omitempty"`
	// ClientAuth is client mTLS: which client certificates are asked for and trusted.
	// +optional
	ClientAuth ClientAuth `json:"clientAuth,omitempty"`
	// SniStrict refuses handshakes whose SNI matches no configured certificate.
	// +optional
	SniStrict bool `json:"sniStrict,omitempty"`
	// ALPNProtocols offered to clients; default h2 and http/1.1.
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=255
	// +optional
	ALPNProtocols []string `json:"alpnProtocols,omitempty"`
	// DisableSessionTickets turns off TLS session resumption by ticket.
	// +optional
	DisableSessionTickets bool `json:"disableSessionTickets,omitempty"`
}

// ClientAuth configures client certificate authentication (mTLS) at the edge.
// +kubebuilder:validation:XValidation:rule="!has(self.clientAuthType) || !(self.clientAuthType in ['VerifyClientCertIfGiven', 'RequireAndVerifyClientCert']) || (has(self.secretNames) && size(self.secretNames) > 0)",message="clientAuthType VerifyClientCertIfGiven and RequireAndVerifyClientCert verify client certificates against secretNames: list at least one Secret holding the client CA"
type ClientAuth struct {
	// SecretNames are Secrets holding the CA certificates that sign client certificates
	// (at key ca.crt, tls.ca or tls.crt). These are *client* CAs, not backend roots.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	SecretNames []SecretName `json:"secretNames,omitempty"`
	// ClientAuthType is the client certificate policy; default NoClientCert.
	// +optional
	ClientAuthType ClientAuthType `json:"clientAuthType,omitempty"`
}

// TLSOption is a named client-facing TLS policy, in the style of Traefik's.
// The TLSOption named "default" in the gateway's namespace applies where a route names none.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=tlso,categories=bridgehead
// +kubebuilder:printcolumn:name="Min",type=string,JSONPath=`.spec.minVersion`
// +kubebuilder:printcolumn:name="Client Auth",type=string,JSONPath=`.spec.clientAuth.clientAuthType`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type TLSOption struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   TLSOptionSpec `json:"spec,omitempty"`
	Status Status        `json:"status,omitempty"`
}

// TLSOptionList is a list of TLSOptions.
//
// +kubebuilder:object:root=true
type TLSOptionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TLSOption `json:"items"`
}
