package v1alpha1

// ErrorPage answers the statuses it lists with a page fetched from another Service
// (Traefik's errors middleware): when the backend answers one of Status, the gateway asks
// Service for Query and sends its body to the client with the backend's status (or the
// one StatusRewrites names).
type ErrorPage struct {
	// Status lists the statuses to replace: a code ("404"), a range ("500-599"), or several
	// separated by commas ("404,500-599").
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=64
	// +kubebuilder:validation:items:Pattern=`^([1-5][0-9]{2}[,-]?)+$`
	Status []string `json:"status"`
	// StatusRewrites maps a code or a range ("418", "500-503") of the caught statuses to
	// the status the client gets instead.
	// +kubebuilder:validation:MaxProperties=32
	// +optional
	StatusRewrites map[string]int `json:"statusRewrites,omitempty"`
	// Service serves the error pages.
	Service ErrorPageService `json:"service"`
	// Query is the path (and query) asked of Service; {status} is replaced by the status
	// the client gets, {originalStatus} by the backend's and {url} by the request's URL,
	// escaped. Empty asks for /.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Query string `json:"query,omitempty"`
	// ErrorRequestHeaders are the request headers sent on to Service; unset sends them
	// all, an empty list none.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	// +optional
	ErrorRequestHeaders []string `json:"errorRequestHeaders,omitempty"`
}

// ErrorPageService is the Service that serves the error pages, named and reached as a
// route's Service is.
type ErrorPageService struct {
	// Name of the Service.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// Namespace of the Service; defaults to the Middleware's.
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Port of the Service, by number or by name.
	// +kubebuilder:validation:XValidation:rule="type(self) == int ? (self >= 1 && self <= 65535) : self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="port must be a number from 1 to 65535 or the name of a Service port"
	Port Port `json:"port"`
	// Scheme spoken to the Service; empty means https when the port is 443 or its name
	// starts with "https", and http otherwise.
	// +optional
	Scheme Scheme `json:"scheme,omitempty"`
	// ServersTransport names the ServersTransport (in the Middleware's namespace) that
	// says how to verify the Service's certificate.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ServersTransport string `json:"serversTransport,omitempty"`
	// PassHostHeader sends the client's Host to the Service; default true.
	// +optional
	PassHostHeader *bool `json:"passHostHeader,omitempty"`
}
