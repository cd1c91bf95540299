package v1alpha1

// DigestAuth admits requests authenticated with HTTP Digest (MD5, qop=auth) against users
// read from a Secret, as Traefik's digestAuth. Others get 401 with a Digest challenge.
type DigestAuth struct {
	// Secret names a Secret in the Middleware's namespace holding exactly one key
	// (conventionally users) whose lines are htdigest entries "name:realm:hash", the hash
	// being MD5(name:realm:password) in hex (htdigest writes them). Only users of the
	// Middleware's realm can log in.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Secret string `json:"secret"`
	// Realm is named in the challenge and selects the users; default "traefik", as in Traefik.
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
