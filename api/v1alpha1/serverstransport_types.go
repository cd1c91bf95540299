package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// UpstreamTLS says how the gateway verifies a backend's certificate and which client
// certificate it presents. Shared by ServersTransport (inline) and ServersTransportTCP (tls).
// +kubebuilder:validation:XValidation:rule="!has(self.minVersion) || !has(self.maxVersion) || self.minVersion <= self.maxVersion",message="minVersion must not be newer than maxVersion"
type UpstreamTLS struct {
	// ServerName is sent as SNI and is the name the backend's certificate must be valid for.
	// Empty means <service>.<namespace>.svc, and a certificate for <service>,
	// <service>.<namespace>, <service>.<namespace>.svc or the cluster-domain form is accepted.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$`
	// +optional
	ServerName string `json:"serverName,omitempty"`
	// InsecureSkipVerify turns off verification of the backend's certificate. It works,
	// and the object always carries a warning condition while it is set.
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
	// RootCAs are the roots the backend's certificate must chain to. When empty, the
	// system roots are used; a listed root that cannot be read fails closed.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	RootCAs []RootCA `json:"rootCAs,omitempty"`
	// RootCAsSecrets is Traefik's older spelling of rootCAs with Secrets only.
	//
	// Deprecated: use rootCAs.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	RootCAsSecrets []SecretName `json:"rootCAsSecrets,omitempty"`
	// CertificatesSecrets are kubernetes.io/tls Secrets whose certificate the gateway
	// presents to backends that require a client certificate.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	CertificatesSecrets []SecretName `json:"certificatesSecrets,omitempty"`
	// MinVersion is the oldest TLS version offered to the backend (Bridgehead extension).
	// +optional
	MinVersion TLSVersion `json:"minVersion,omitempty"`
	// MaxVersion is the newest TLS version offered to the backend (Bridgehead extension).
	// +optional
	MaxVersion TLSVersion `json:"maxVersion,omitempty"`
	// CipherSuites offered to the backend for TLS 1.2 and older (Bridgehead extension).
	// +kubebuilder:validation:MaxItems=32
	// +optional
	CipherSuites []CipherSuite `json:"cipherSuites,omitempty"`
	// PeerCertURI requires this URI SAN (for example a SPIFFE ID) in the backend's certificate.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	PeerCertURI string `json:"peerCertURI,omitempty"`
	// PeerCertSANs requires the backend's certificate to carry at least one of these SANs,
	// in addition to chain and name verification. Each entry is Traefik's {type: DNSName
	// or URI, value} or a plain string (a DNS name or IP address matched exactly).
	// +kubebuilder:validation:MaxItems=32
	// +optional
	PeerCertSANs []PeerCertSAN `json:"peerCertSANs,omitempty"`
}

// ServersTransportSpec configures connections from the gateway to HTTP(S) backends.
// (UpstreamTLS's validation rules apply to it through the inline embedding.)
type ServersTransportSpec struct {
	UpstreamTLS `json:",inline"`

	// MaxIdleConnsPerHost is the size of the idle connection pool per endpoint; default 200.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100000
	// +optional
	MaxIdleConnsPerHost int `json:"maxIdleConnsPerHost,omitempty"`
	// ForwardingTimeouts bound each phase of a forwarded request.
	// +optional
	ForwardingTimeouts *ForwardingTimeouts `json:"forwardingTimeouts,omitempty"`
	// DisableHTTP2 keeps the backend on HTTP/1.1 even when it offers h2.
	// +optional
	DisableHTTP2 bool `json:"disableHTTP2,omitempty"`
}

// ForwardingTimeouts are durations: a number of seconds or a Go duration string.
type ForwardingTimeouts struct {
	// DialTimeout bounds connecting to the backend; default 30s.
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^([0-9]+([.][0-9]+)?|([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+)$')",message="dialTimeout must be a number of seconds or a duration such as 30s, 1m30s or 500ms"
	// +optional
	DialTimeout *Duration `json:"dialTimeout,omitempty"`
	// ResponseHeaderTimeout bounds waiting for the response headers; zero means none.
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^([0-9]+([.][0-9]+)?|([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+)$')",message="responseHeaderTimeout must be a number of seconds or a duration such as 30s, 1m30s or 500ms"
	// +optional
	ResponseHeaderTimeout *Duration `json:"responseHeaderTimeout,omitempty"`
	// IdleConnTimeout closes pooled connections idle this long; default 90s.
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^([0-9]+([.][0-9]+)?|([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+)$')",message="idleConnTimeout must be a number of seconds or a duration such as 30s, 1m30s or 500ms"
	// +optional
	IdleConnTimeout *Duration `json:"idleConnTimeout,omitempty"`
	// ReadIdleTimeout sends an HTTP/2 ping after this long without frames; zero means never.
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^([0-9]+([.][0-9]+)?|([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+)$')",message="readIdleTimeout must be a number of seconds or a duration such as 30s, 1m30s or 500ms"
	// +optional
	ReadIdleTimeout *Duration `json:"readIdleTimeout,omitempty"`
	// PingTimeout closes an HTTP/2 connection whose ping is not answered in time; default 15s.
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^([0-9]+([.][0-9]+)?|([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+)$')",message="pingTimeout must be a number of seconds or a duration such as 30s, 1m30s or 500ms"
	// +optional
	PingTimeout *Duration `json:"pingTimeout,omitempty"`
}

// ServersTransport says how the gateway talks to HTTPS backends: which roots it trusts,
// which name it checks, which client certificate it presents. It never affects clients.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=st,categories=bridgehead
// +kubebuilder:printcolumn:name="Server Name",type=string,JSONPath=`.spec.serverName`
// +kubebuilder:printcolumn:name="Insecure",type=boolean,JSONPath=`.spec.insecureSkipVerify`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ServersTransport struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ServersTransportSpec `json:"spec,omitempty"`
	Status Status               `json:"status,omitempty"`
}

// ServersTransportList is a list of ServersTransports.
//
// +kubebuilder:object:root=true
type ServersTransportList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ServersTransport `json:"items"`
}

// ServersTransportTCPSpec configures connections from the gateway to TCP backends.
type ServersTransportTCPSpec struct {
	// DialTimeout bounds connecting to the backend; default 30s.
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= 0 : self.matches('^([0-9]+([.][0-9]+)?|([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+)$')",message="dialTimeout must be a number of seconds or a duration such as 30s, 1m30s or 500ms"
	// +optional
	DialTimeout *Duration `json:"dialTimeout,omitempty"`
	// DialKeepAlive is the TCP keep-alive period; default 15s, negative numbers turn it off.
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= -1 : self.matches('^([0-9]+([.][0-9]+)?|([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+)$')",message="dialKeepAlive must be a number of seconds (-1 turns keep-alive off) or a duration such as 15s"
	// +optional
	DialKeepAlive *Duration `json:"dialKeepAlive,omitempty"`
	// TerminationDelay is how long the other half of a half-closed connection may stay
	// open; default 100ms, 0 closes it at once, a negative number of seconds (-1) never.
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? self >= -1 : self.matches('^([0-9]+([.][0-9]+)?|([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+)$')",message="terminationDelay must be a number of seconds (-1: no limit) or a duration such as 100ms or 1s"
	// +optional
	TerminationDelay *Duration `json:"terminationDelay,omitempty"`
	// ProxyProtocol sends a PROXY protocol header with the client's address to backends.
	// +optional
	ProxyProtocol *ProxyProtocol `json:"proxyProtocol,omitempty"`
	// TLS to the backend, for services with tls: true.
	// +optional
	TLS *UpstreamTLS `json:"tls,omitempty"`
}

// ServersTransportTCP says how the gateway connects to TCP backends.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=sttcp,categories=bridgehead
// +kubebuilder:printcolumn:name="Server Name",type=string,JSONPath=`.spec.tls.serverName`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ServersTransportTCP struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ServersTransportTCPSpec `json:"spec,omitempty"`
	Status Status                  `json:"status,omitempty"`
}

// ServersTransportTCPList is a list of ServersTransportTCPs.
//
// +kubebuilder:object:root=true
type ServersTransportTCPList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ServersTransportTCP `json:"items"`
}
