// Package ingressannotations reads the end-to-end TLS annotations that ingress-nginx,
// HAProxy Kubernetes Ingress and HAProxy Ingress users carry on their Ingresses, as those
// controllers define them, and says what Bridgehead does with each one.
//
// It is pure: Read looks at one Ingress (and, when given, the Secrets it names) and
// returns a Result; it calls no API server, keeps no state and never logs. The gateway's
// translator turns a Result into the same snapshot pieces a ServersTransport, TLSOption
// or Middleware object would produce; `bridgehead migrate` prints it.
//
// # What a Result holds
//
//   - Scheme: how the gateway speaks to the backends (http, https, h2c, h2), or "" when no
//     annotation says (then the Service port decides).
//   - Transport: a synthesized ServersTransportSpec (roots, server name, client
//     certificate, versions, ciphers, insecureSkipVerify) with the namespace its Secrets
//     live in, or nil.
//   - TLSOption: a synthesized TLSOptionSpec for client certificates (mTLS at the edge), or nil.
//   - Middlewares: synthesized MiddlewareSpecs, in the order they run.
//   - Redirect: whether (and with which status code) plain HTTP is redirected to HTTPS.
//   - Passthrough: TLS is passed to the backend untouched (ssl-passthrough).
//   - Findings: one per annotation of these families, with a Disposition.
//
// # Dispositions
//
// Served and ServedInsecure (the user asked for unverified TLS in the annotation's own
// words: a Warning) are served. ServedDifferently is served with a stated difference.
// Overridden lost to an annotation of higher precedence (both values are named).
// Refused and Malformed make the Ingress not Ready: the message names the annotation,
// the value and the fix. Unsupported is an annotation of these families that Bridgehead
// does not read; it is named with what to do instead. Every finding with Blocking() true
// must make the Ingress fail closed.
//
// # Precedence
//
// When several families set the same thing, the first in this order wins and every other
// value that differs gets an Overridden finding naming both:
// bridgehead.dev > nginx.ingress.kubernetes.io > haproxy-ingress.github.io > haproxy.org >
// haproxy.com > ingress.kubernetes.io.
//
// # Security defaults
//
// A backend reached over TLS is verified unless the annotations say otherwise in their
// own words: nginx's proxy-ssl-verify "off", HAProxy's server-ssl without server-ca,
// HAProxy Ingress's secure backends without secure-verify-ca-secret. When Bridgehead
// verifies where the old controller did not (ingress-nginx without proxy-ssl-verify "on"),
// Transport.OldControllerVerified is false and Transport.VerifyFix says how to keep the
// old behaviour or make verification pass.
package ingressannotations
