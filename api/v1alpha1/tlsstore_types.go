package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TLSStoreSpec holds certificates served at the edge independently of any route.
type TLSStoreSpec struct {
	// DefaultCertificate is served when a client's SNI matches no route's certificate.
	// Without it the gateway serves a generated self-signed certificate.
	// +optional
	DefaultCertificate *CertificateRef `json:"defaultCertificate,omitempty"`
	// Certificates are served for the names they cover, in addition to routes' own.
	// +kubebuilder:validation:MaxItems=1024
	// +optional
	Certificates []CertificateRef `json:"certificates,omitempty"`
}

// CertificateRef names a kubernetes.io/tls Secret in the store's namespace.
type CertificateRef struct {
	// SecretName is the Secret holding tls.crt and tls.key.
	SecretName SecretName `json:"secretName"`
}

// TLSStore is the gateway's certificate store, in the style of Traefik's. As in Traefik,
// only the store named "default" is used.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=tlss,categories=bridgehead
// +kubebuilder:printcolumn:name="Default",type=string,JSONPath=`.spec.defaultCertificate.secretName`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type TLSStore struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   TLSStoreSpec `json:"spec,omitempty"`
	Status Status       `json:"status,omitempty"`
}

// TLSStoreList is a list of TLSStores.
//
// +kubebuilder:object:root=true
type TLSStoreList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TLSStore `json:"items"`
}
