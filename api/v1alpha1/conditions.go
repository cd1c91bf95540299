package v1alpha1

// ConditionType is the type of a condition in a Bridgehead object's status.conditions.
type ConditionType string

// ConditionReason is the machine-readable cause in a condition's reason field. The
// condition's message always names the field, the referenced object and the fix.
type ConditionReason string

// Condition types. Every Bridgehead object carries Accepted, ResolvedRefs and Ready;
// the others appear where they apply.
const (
	// ConditionAccepted says whether the object's spec makes sense on its own.
	//   True:  ReasonAccepted.
	//   False: ReasonInvalid (e.g. a match rule that does not parse), ReasonConflicted
	//          (another object with the same rule and priority won), ReasonUnsupportedValue,
	//          ReasonUnsupportedField (a Traefik manifest sets a field Bridgehead does not
	//          implement: the object is not served, rather than served without it),
	//          ReasonUnsupportedKind (a Traefik kind Bridgehead does not read).
	ConditionAccepted ConditionType = "Accepted"

	// ConditionResolvedRefs says whether every object the spec references exists, may be
	// read, and holds usable data.
	//   True:  ReasonResolvedRefs.
	//   False: ReasonRefNotPermitted, ReasonNotFound, ReasonInvalidSecret,
	//          ReasonInvalidRef, ReasonPortNotFound, ReasonExternalNameNotAllowed,
	//          ReasonCASecretNotFound, ReasonCAConfigMapNotFound.
	ConditionResolvedRefs ConditionType = "ResolvedRefs"

	// ConditionReady says whether the gateway serves the object as written.
	//   True:    ReasonReady.
	//   False:   the reason of the first failing condition above, or ReasonNoEndpoints,
	//            ReasonTLSOptionConflict, ReasonTLSStoreConflict, ReasonPartiallyReady,
	//            ReasonServingLastGood (the newest generation is refused and the last good
	//            one keeps serving),
	//            ReasonTLSSecretNameMissing (Ingress), ReasonUnknownEntryPoint (a route names
	//            an entry point the gateway does not have, or of the wrong protocol),
	//            ReasonNoChildRoutes (an IngressRoute route without services that no child
	//            IngressRoute serves under).
	//   Unknown: ReasonPending, before the first snapshot that includes the object.
	ConditionReady ConditionType = "Ready"

	// ConditionWarnings lists problems that do not stop the object from serving but are
	// likely mistakes (the static TLS lint).
	//   True:  ReasonInsecureSkipVerify, ReasonCertificateHostMismatch,
	//          ReasonCertificateExpiringSoon, ReasonCertificateExpired,
	//          ReasonIneffectiveSetting, ReasonDeprecatedField, ReasonDataRefused, ReasonTLSHostsMissing,
	//          ReasonSecretTypeNotTLS, ReasonRemovedAPIVersion, ReasonTLSOptionConflict (a
	//          TLSOption named default outside the gateway's namespace, with others),
	//          ReasonTLSStoreConflict (the same for a TLSStore without a defaultCertificate),
	//          ReasonMultipleWarnings.
	//   False: ReasonNoWarnings.
	ConditionWarnings ConditionType = "Warnings"

	// ConditionBackendTLSReady is the runtime verdict on TLS to the backends, from real
	// handshakes (requests and proactive probes).
	//   True:    ReasonHandshakeSucceeded.
	//   False:   one of the classified failure reasons (ReasonUnknownAuthority, ...).
	//   Unknown: ReasonNotYetProbed.
	ConditionBackendTLSReady ConditionType = "BackendTLSReady"
)

// ReasonNoIngressClass is set when an Ingress names no IngressClass, no IngressClass is the
// cluster's default, and the gateway does not serve such Ingresses (--ingress-without-class
// is off). It is listed by `bridgehead status` and `lint`, never written to the Ingress.
const ReasonNoIngressClass ConditionReason = "NoIngressClass"

// Reasons for Accepted.
const (
	ReasonAccepted         ConditionReason = "Accepted"
	ReasonInvalid          ConditionReason = "Invalid"
	ReasonConflicted       ConditionReason = "Conflicted"
	ReasonUnsupportedValue ConditionReason = "UnsupportedValue"
	// ReasonUnsupportedField: a manifest read from Traefik's API groups sets a field that
	// Bridgehead does not implement. The message names each field path and what to do;
	// the object is not served until the field is removed.
	ReasonUnsupportedField ConditionReason = "UnsupportedField"
	// ReasonUnsupportedAnnotation: an Ingress carries another controller's annotation that
	// restricts who may reach its backends (client certificates, source ranges,
	// authentication) and that Bridgehead does not read. Serving it would drop the
	// restriction, so its routes fail closed (503) until the annotation is replaced.
	ReasonUnsupportedAnnotation ConditionReason = "UnsupportedAnnotation"
	// ReasonUnsupportedKind: an object of one of Traefik's kinds that Bridgehead does not
	// read, watched with --watch-traefik-crds so that it is reported rather than silently
	// left unserved (every Traefik v3 kind is read today; the reason stays for the next).
	ReasonUnsupportedKind ConditionReason = "UnsupportedKind"
)

// Reasons for ResolvedRefs (and Ready when a reference is the cause).
const (
	ReasonResolvedRefs    ConditionReason = "ResolvedRefs"
	ReasonRefNotPermitted ConditionReason = "RefNotPermitted"
	ReasonNotFound        ConditionReason = "NotFound"
	ReasonInvalidSecret   ConditionReason = "InvalidSecret"
	// ReasonInvalidRef: the referenced object exists but is itself not accepted.
	ReasonInvalidRef             ConditionReason = "InvalidRef"
	ReasonPortNotFound           ConditionReason = "PortNotFound"
	ReasonExternalNameNotAllowed ConditionReason = "ExternalNameNotAllowed"
	// ReasonCASecretNotFound: a Secret named as a source of CA certificates (a
	// ServersTransport's rootCAs, a TLSOption's clientAuth.secretNames) does not exist.
	// Requests that need it get 502 with Bridgehead-Error "CASecretNotFound NAMESPACE/NAME".
	ReasonCASecretNotFound ConditionReason = "CASecretNotFound"
	// ReasonCAConfigMapNotFound: the same for a ConfigMap named in rootCAs.
	ReasonCAConfigMapNotFound ConditionReason = "CAConfigMapNotFound"
)

// Reasons for Ready.
const (
	ReasonReady             ConditionReason = "Ready"
	ReasonPending           ConditionReason = "Pending"
	ReasonNoEndpoints       ConditionReason = "NoEndpoints"
	ReasonTLSOptionConflict ConditionReason = "TLSOptionConflict"
	// ReasonTLSStoreConflict: several TLSStores are named default; the message names the
	// one that wins (the gateway's namespace's), or says none does and what is dropped.
	ReasonTLSStoreConflict ConditionReason = "TLSStoreConflict"
	ReasonPartiallyReady   ConditionReason = "PartiallyReady"
	// ReasonServingLastGood: the newest generation of the spec cannot be served (Accepted
	// says why), so the last generation that could keeps serving in its place.
	ReasonServingLastGood ConditionReason = "ServingLastGood"
	// ReasonTLSSecretNameMissing: an Ingress spec.tls entry lists hosts but no
	// secretName, so no certificate of the user's is served for them (the gateway's
	// generated one would be, which clients refuse); those hosts' HTTPS routes do not count
	// as served.
	ReasonTLSSecretNameMissing ConditionReason = "TLSSecretNameMissing"
	// ReasonUnknownEntryPoint: an IngressRouteUDP names an entry point the gateway does
	// not have, or one that is not a UDP entry point, or names none while the gateway has
	// no UDP entry point (--entrypoint NAME=:PORT/udp). It serves on the UDP entry points
	// it names that exist, if any. An IngressRoute gets it for a named entry point the
	// gateway does not have, or of the other kind (a TLS entry point such as websecure or
	// --entrypoint NAME=:PORT/tls without spec.tls, a plain one with spec.tls): Ready=False
	// when none of the named entry points serves it, a warning when another one does.
	ReasonUnknownEntryPoint ConditionReason = "UnknownEntryPoint"
	// ReasonNoChildRoutes: an IngressRoute route has no services and no served child
	// IngressRoute (spec.parentRefs) evaluates under it, so it answers nothing and is not
	// served, as in Traefik.
	ReasonNoChildRoutes ConditionReason = "NoChildRoutes"
)

// Reasons about Ingresses that are not conditions of any object: diagnose gives them, since
// the gateway writes nothing on an Ingress it does not serve.
const (
	// ReasonIngressClassNotServed: the Ingress's class (spec.ingressClassName or the
	// kubernetes.io/ingress.class annotation) names another controller's class, so this
	// gateway does not serve it.
	ReasonIngressClassNotServed ConditionReason = "IngressClassNotServed"
)

// Reasons for Warnings.
const (
	ReasonNoWarnings         ConditionReason = "NoWarnings"
	ReasonInsecureSkipVerify ConditionReason = "InsecureSkipVerify"
	// ReasonInsecureFrontendValidation: a Gateway's spec.tls.frontend validation has mode
	// AllowInsecureFallback, so clients without a valid certificate are served.
	ReasonInsecureFrontendValidation ConditionReason = "InsecureFrontendValidation"
	ReasonCertificateHostMismatch    ConditionReason = "CertificateHostMismatch"
	ReasonCertificateExpiringSoon    ConditionReason = "CertificateExpiringSoon"
	// ReasonIneffectiveSetting: a field has no effect as written (for example a
	// serversTransport on a backend spoken to over plain http).
	ReasonIneffectiveSetting ConditionReason = "IneffectiveSetting"
	// ReasonDeprecatedField: a field is served under a name Traefik deprecated (ipWhiteList);
	// the message names the one to use.
	ReasonDeprecatedField ConditionReason = "DeprecatedField"
	// ReasonDataRefused: a Secret or ConfigMap the object reads was changed to data that
	// cannot be used (garbage PEM, a key that does not match); its last good data keeps
	// serving, and the message says what was wrong with the new data.
	ReasonDataRefused      ConditionReason = "DataRefused"
	ReasonMultipleWarnings ConditionReason = "MultipleWarnings"
	// ReasonTLSHostsMissing: an Ingress spec.tls entry names a Secret but lists no hosts;
	// it then covers every host of the Ingress that no other entry lists, which is rarely
	// what was meant (often one entry split in two by a stray "-").
	ReasonTLSHostsMissing ConditionReason = "TLSHostsMissing"
	// ReasonSecretTypeNotTLS: a Secret used as a certificate holds tls.crt and tls.key but
	// is not of type kubernetes.io/tls (usually Opaque). It is served; the type is what
	// other tools (and Kubernetes' own validation of the keys) go by.
	ReasonSecretTypeNotTLS ConditionReason = "SecretTypeNotTLS"
	// ReasonRemovedAPIVersion: an Ingress read from a folder in an API version Kubernetes
	// 1.22 removed (extensions/v1beta1, networking.k8s.io/v1beta1) is served converted to
	// networking.k8s.io/v1; the message names the fields to rewrite.
	ReasonRemovedAPIVersion ConditionReason = "RemovedAPIVersion"
)

// Reasons for BackendTLSReady: the classified causes of an upstream failure.
const (
	ReasonHandshakeSucceeded         ConditionReason = "HandshakeSucceeded"
	ReasonNotYetProbed               ConditionReason = "NotYetProbed"
	ReasonUnknownAuthority           ConditionReason = "UnknownAuthority"
	ReasonNameMismatch               ConditionReason = "NameMismatch"
	ReasonCertificateExpired         ConditionReason = "CertificateExpired"
	ReasonBackendNotTLS              ConditionReason = "BackendNotTLS"
	ReasonBackendExpectsTLS          ConditionReason = "BackendExpectsTLS"
	ReasonClientCertificateRequired  ConditionReason = "ClientCertificateRequired"
	ReasonTLSVersionOrCipherMismatch ConditionReason = "TLSVersionOrCipherMismatch"
	ReasonConnectionRefused          ConditionReason = "ConnectionRefused"
	ReasonTimeout                    ConditionReason = "Timeout"
	ReasonConnectionReset            ConditionReason = "ConnectionReset"
	// ReasonUnknownFailure: a backend failure none of the reasons above describes; the
	// message carries the raw error.
	ReasonUnknownFailure ConditionReason = "Unknown"
)
