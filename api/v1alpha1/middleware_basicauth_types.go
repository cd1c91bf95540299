package v1alpha1

// BasicAuth admits requests that carry a user and password (HTTP Basic authentication) found
// in an htpasswd list read from a Secret, as Traefik's basicAuth. Others get 401 with a
// WWW-Authenticate challenge naming Realm.
type BasicAuth struct {
	// Secret names a Secret in the Middleware's namespace holding the users. Read as Traefik
	// reads it: a Secret of type kubernetes.io/basic-auth gives one user (keys username and
	// password); any other Secret must hold exactly one key (conventionally users) whose
	// lines are htpasswd entries "name:hash", hashed with bcrypt ($2y$, $2a$, $2b$), SHA-1
	// ({SHA}) or MD5 (Apache $apr1$ or crypt $1$). Plain-text passwords are not accepted.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Secret string `json:"secret"`
	// Realm is named in the WWW-Authenticate challenge; default "traefik", as in Traefik.
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="!self.contains('\"')",message="realm must not contain a double quote: it is sent quoted in the WWW-Authenticate header"
	// +optional
	Realm string `json:"realm,omitempty"`
	// RemoveHeader removes the Authorization header before the request goes to the backend.
	// +optional
	RemoveHeader bool `json:"removeHeader,omitempty"`
	// HeaderField, when set, is a request header in which the authenticated user's name is
	// sent to the backend (any value the client sent in it is replaced).
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^[-A-Za-z0-9!#$%&*+.^_|~]+$`
	// +optional
	HeaderField string `json:"headerField,omitempty"`
}
