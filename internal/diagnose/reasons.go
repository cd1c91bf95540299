package diagnose

import (
	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// conditionFix is the generic fix for a condition or failure reason. Condition messages
// already name the field and the object; this says what kind of change mends it.
func conditionFix(reason string) string {
	switch bhv1.ConditionReason(reason) {
	case bhv1.ReasonNotFound:
		return "create the object the message names in that namespace, or correct the reference"
	case bhv1.ReasonRefNotPermitted:
		return "reference an object in the route's own namespace, or run the gateway (and diagnose) with --allow-cross-namespace"
	case bhv1.ReasonInvalidSecret:
		return "put PEM data at the key the message names (kubectl create secret tls for a certificate and key; key ca.crt for CA certificates)"
	case bhv1.ReasonInvalidRef:
		return "fix the referenced object (its own condition says how)"
	case bhv1.ReasonPortNotFound:
		return "name a port the Service declares (by name or number)"
	case bhv1.ReasonExternalNameNotAllowed:
		return "run the gateway (and diagnose) with --allow-external-name-services, or route to a Service with endpoints"
	case bhv1.ReasonNoEndpoints:
		return "check the Service's selector and that its pods are ready; for a Service without a selector, add an EndpointSlice whose port name matches the Service port's"
	case bhv1.ReasonTLSOptionConflict:
		return "make every route that serves the host name the same TLSOption in spec.tls.options (or none of them)"
	case bhv1.ReasonConflicted:
		return "give one of the routes a different priority or match"
	case bhv1.ReasonInvalid, bhv1.ReasonUnsupportedValue:
		return "correct the field the message names"
	case bhv1.ReasonUnsupportedField:
		return "remove the fields the message names (each with what to use instead); the object is not served while they are set"
	case bhv1.ReasonCASecretNotFound, bhv1.ReasonCAConfigMapNotFound:
		return "create the Secret (or ConfigMap) the message names with the CA certificates at key ca.crt, or correct the name in rootCAs"
	case bhv1.ReasonInsecureSkipVerify:
		return "set spec.rootCAs to the backend's CA and remove insecureSkipVerify"
	case bhv1.ReasonCertificateHostMismatch:
		return "issue a certificate whose SANs cover every host the route serves"
	case bhv1.ReasonCertificateExpired, bhv1.ReasonCertificateExpiringSoon:
		return "renew the certificate in the Secret the message names"
	case bhv1.ReasonTLSSecretNameMissing:
		return "set secretName on the spec.tls entry the message names, to a kubernetes.io/tls Secret in the Ingress's namespace whose certificate covers its hosts"
	case bhv1.ReasonTLSHostsMissing:
		return "list in the spec.tls entry's hosts the rule hosts its certificate is for (one entry per Secret: hosts and secretName together)"
	case bhv1.ReasonSecretTypeNotTLS:
		return "recreate the Secret as type kubernetes.io/tls: kubectl create secret tls NAME --cert=tls.crt --key=tls.key"
	case bhv1.ReasonUnsupportedAnnotation:
		return "remove the annotation the message names, or express it with what the message suggests"
	case bhv1.ReasonRemovedAPIVersion:
		return "rewrite the manifest as networking.k8s.io/v1 with the fields the message names (kubectl refuses the old version on a current cluster)"
	case bhv1.ReasonIngressClassNotServed:
		return "set spec.ingressClassName to the gateway's IngressClass, or run the gateway (and diagnose) with --ingress-class for that class"
	case bhv1.ReasonIneffectiveSetting:
		return "change or remove the setting the message names: as written it has no effect"
	case bhv1.ReasonDeprecatedField:
		return "rename the field as the message says: it is served, under a name Traefik deprecated"
	case bhv1.ReasonUnknownEntryPoint:
		return "name an entry point the gateway has, of the route's kind, in spec.entryPoints (UDP for an IngressRouteUDP; a TLS one for an IngressRoute with tls, a plain one without), or start the gateway with --entrypoint NAME=:PORT/udp or /tls (Helm: entryPoints)"
	}
	return ""
}

// gatewayReason explains a Bridgehead-Error value: what the gateway saw, and what to do.
// The upstream reasons come from upstream.Classify; the others from translate's
// failures and the proxy's own answers.
func gatewayReason(reason string) (meaning, fix string) {
	switch upstream.Reason(reason) {
	case upstream.UnknownAuthority:
		return "the backend's certificate is not signed by a CA the ServersTransport trusts",
			"add the backend's CA to spec.rootCAs of the route's ServersTransport (or create one and set serversTransport on the service)"
	case upstream.NameMismatch:
		return "the backend's certificate is not valid for the names the gateway checks (the Service's DNS names, or the ServersTransport's serverName)",
			"set spec.serverName on the ServersTransport to a name the certificate carries, or reissue the certificate"
	case upstream.CertificateExpired:
		return "the backend's certificate has expired or is not valid yet", "renew the backend's certificate"
	case upstream.BackendNotTLS:
		return "the gateway spoke TLS to the backend and it answered in plain HTTP",
			"set scheme: http on the route's service (or stop naming the port https), or enable TLS on the backend"
	case upstream.BackendExpectsTLS:
		return "the gateway spoke plain HTTP to a backend that speaks TLS (often a port not named https, so the ServersTransport is ignored)",
			"set scheme: https on the route's service, or name the Service port https"
	case upstream.ClientCertificateRequired:
		return "the backend wants a client certificate from the gateway and got none it accepts",
			"set spec.certificatesSecrets on the route's ServersTransport to a client certificate the backend trusts"
	case upstream.TLSVersionOrCipherMismatch:
		return "the gateway and the backend share no TLS version or cipher suite",
			"align minVersion, maxVersion and cipherSuites of the ServersTransport with the backend"
	case upstream.ConnectionRefused:
		return "nothing listens at the backend's endpoint", "check the Service's targetPort and that the pod listens on it"
	case upstream.Timeout:
		return "the backend did not answer in time", "check the backend's health and reachability, or raise the ServersTransport's timeouts"
	case upstream.ConnectionReset:
		return "the backend closed the connection before answering", "check the backend's logs"
	case upstream.NoEndpoints:
		return "the route's Service has no ready endpoint", "check the Service's selector and that its pods are ready"
	}
	switch reason {
	case "NoRoute":
		return "no route matches the request's host and path", "check the route's match (Host, PathPrefix) and entry points"
	case "MisdirectedRequest":
		return "the connection was negotiated under another TLS policy than the route's (a TLSOption with client authentication on a route without Host(), or a connection reused for another host)",
			"add Host() to the route's match so its TLSOption is negotiated, and send the request on a connection for that host"
	case "NotReady":
		return "the gateway has not loaded its configuration yet", "wait for the gateway to become ready; check its logs"
	case string(bhv1.ReasonCASecretNotFound), string(bhv1.ReasonCAConfigMapNotFound):
		return "the route fails closed: the CA certificates its ServersTransport trusts are in a Secret (or ConfigMap) that does not exist (" + reason + ", followed by its namespace/name)",
			conditionFix(reason)
	case "TooManyHeaderFields":
		return "the request had more header fields than the gateway accepts (431)",
			"send fewer header fields, or raise --max-request-header-fields"
	case "ClientBodyMalformed":
		return "the request body's framing was broken (a bad chunk, or more data than announced): the client's fault, not the backend's",
			"fix the client; the backend was not held responsible"
	case "ClientBodyTimeout":
		return "the client stopped sending its request body for longer than the body idle timeout (408)",
			"check the client and the network in front of the gateway, or raise --request-body-idle-timeout"
	case string(upstream.ClientCanceled):
		return "the client went away before the answer (logged as 499)", "nothing to fix on the gateway or the backend"
	case string(bhv1.ReasonNotFound), string(bhv1.ReasonRefNotPermitted), string(bhv1.ReasonPortNotFound),
		string(bhv1.ReasonExternalNameNotAllowed), string(bhv1.ReasonInvalidSecret), string(bhv1.ReasonInvalidRef),
		string(bhv1.ReasonInvalid), string(bhv1.ReasonTLSOptionConflict):
		return "the route fails closed because of its configuration (" + reason + ")", conditionFix(reason)
	}
	return "the gateway refused the request (" + reason + ")", "see the route's conditions"
}
