package manifests

import (
	"reflect"
	"strings"
	"testing"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
)

// fieldState is what Bridgehead does with a field of its own schema.
type fieldState int

const (
	// served: translate reads the field; setting the sample changes what is served or
	// what the object's status says.
	served fieldState = iota
	// fixed: the schema admits a single value, which is what Bridgehead does (Traefik's
	// kind: Rule); there is nothing to read.
	fixed
	// refused: the object is not Ready, with the field named, when it is set.
	refused
)

// ourField is one leaf of our schema: what Bridgehead does with it, and a sample value
// (YAML) that differs from the walk scenario's. at, when set, is where the sample goes
// instead (a field that cannot be set alone, such as one of two exclusive fields).
type ourField struct {
	state  fieldState
	sample string
	at     string
}

func serve(sample string) ourField { return ourField{state: served, sample: sample} }

// ourFieldTable lists every leaf field of every kind of gateway.bridgehead.dev. A field
// added to the API without an entry fails TestEveryFieldOfOurSchemaIsServedOrRefused.
var ourFieldTable = map[string]ourField{
	"IngressRoute spec.entryPoints":                                                    serve(`[websecure, other]`),
	"IngressRoute spec.parentRefs[].name":                                              {state: served, sample: `[{name: no-such-parent}]`, at: "spec.parentRefs"},
	"IngressRoute spec.parentRefs[].namespace":                                         {state: served, sample: `[{name: ir, namespace: other}]`, at: "spec.parentRefs"},
	"IngressRoute spec.routes[].kind":                                                  {state: fixed},
	"IngressRoute spec.routes[].match":                                                 serve("Host(`app.example.com`) && PathPrefix(`/x`)"),
	"IngressRoute spec.routes[].middlewares[].name":                                    serve(`mw2`),
	"IngressRoute spec.routes[].middlewares[].namespace":                               serve(`other`),
	"IngressRoute spec.routes[].priority":                                              serve(`100`),
	"IngressRoute spec.routes[].services[].healthCheck.headers":                        serve(`{X-Probe: "1"}`),
	"IngressRoute spec.routes[].services[].healthCheck.hostname":                       serve(`probe.example.com`),
	"IngressRoute spec.routes[].services[].healthCheck.interval":                       serve(`10s`),
	"IngressRoute spec.routes[].services[].healthCheck.method":                         serve(`HEAD`),
	"IngressRoute spec.routes[].services[].healthCheck.path":                           serve(`/healthz`),
	"IngressRoute spec.routes[].services[].healthCheck.port":                           serve(`9000`),
	"IngressRoute spec.routes[].services[].healthCheck.scheme":                         serve(`http`),
	"IngressRoute spec.routes[].services[].healthCheck.status":                         serve(`204`),
	"IngressRoute spec.routes[].services[].healthCheck.timeout":                        serve(`2s`),
	"IngressRoute spec.routes[].services[].healthCheck.unhealthyInterval":              serve(`3s`),
	"IngressRoute spec.routes[].services[].kind":                                       {state: served, sample: `[{name: split, kind: TraefikService}]`, at: "spec.routes[].services"},
	"IngressRoute spec.routes[].services[].name":                                       serve(`app2`),
	"IngressRoute spec.routes[].services[].namespace":                                  serve(`other`),
	"IngressRoute spec.routes[].services[].passHostHeader":                             serve(`false`),
	"IngressRoute spec.routes[].services[].port":                                       serve(`80`),
	"IngressRoute spec.routes[].services[].scheme":                                     serve(`h2c`),
	"IngressRoute spec.routes[].services[].serversTransport":                           serve(`st2`),
	"IngressRoute spec.routes[].services[].sticky.cookie.httpOnly":                     serve(`true`),
	"IngressRoute spec.routes[].services[].sticky.cookie.maxAge":                       serve(`60`),
	"IngressRoute spec.routes[].services[].sticky.cookie.name":                         serve(`c`),
	"IngressRoute spec.routes[].services[].sticky.cookie.path":                         serve(`/x`),
	"IngressRoute spec.routes[].services[].sticky.cookie.sameSite":                     serve(`lax`),
	"IngressRoute spec.routes[].services[].sticky.cookie.secure":                       serve(`true`),
	"IngressRoute spec.routes[].services[].weight":                                     serve(`5`),
	"IngressRoute spec.tls.domains[].main":                                             serve(`www.example.com`),
	"IngressRoute spec.tls.domains[].sans":                                             serve(`[alt.example.com]`),
	"IngressRoute spec.tls.options.name":                                               serve(`opts2`),
	"IngressRoute spec.tls.options.namespace":                                          serve(`other`),
	"IngressRoute spec.tls.secretName":                                                 serve(`edge2-tls`),
	"IngressRouteTCP spec.entryPoints":                                                 serve(`[websecure, other]`),
	"IngressRouteTCP spec.routes[].match":                                              serve("HostSNI(`db2.example.com`)"),
	"IngressRouteTCP spec.routes[].middlewares[].name":                                 serve(`mwt2`),
	"IngressRouteTCP spec.routes[].middlewares[].namespace":                            serve(`other`),
	"IngressRouteTCP spec.routes[].priority":                                           serve(`100`),
	"IngressRouteTCP spec.routes[].services[].name":                                    serve(`db2`),
	"IngressRouteTCP spec.routes[].services[].namespace":                               serve(`other`),
	"IngressRouteTCP spec.routes[].services[].port":                                    serve(`5433`),
	"IngressRouteTCP spec.routes[].services[].proxyProtocol.version":                   serve(`1`),
	"IngressRouteTCP spec.routes[].services[].serversTransport":                        serve(`stt2`),
	"IngressRouteTCP spec.routes[].services[].tls":                                     serve(`true`),
	"IngressRouteTCP spec.routes[].services[].weight":                                  serve(`5`),
	"IngressRouteTCP spec.tls.domains[].main":                                          serve(`www.example.com`),
	"IngressRouteTCP spec.tls.domains[].sans":                                          serve(`[alt.example.com]`),
	"IngressRouteTCP spec.tls.options.name":                                            serve(`opts2`),
	"IngressRouteTCP spec.tls.options.namespace":                                       serve(`other`),
	"IngressRouteTCP spec.tls.passthrough":                                             {state: served, sample: `{passthrough: true}`, at: "spec.tls"},
	"IngressRouteTCP spec.tls.secretName":                                              serve(`edge2-tls`),
	"IngressRouteUDP spec.entryPoints":                                                 serve(`[dns, dns2]`),
	"IngressRouteUDP spec.routes[].services[].name":                                    serve(`dns2`),
	"IngressRouteUDP spec.routes[].services[].namespace":                               serve(`other`),
	"IngressRouteUDP spec.routes[].services[].port":                                    serve(`5353`),
	"IngressRouteUDP spec.routes[].services[].weight":                                  serve(`5`),
	"Middleware spec.addPrefix.prefix":                                                 serve(`/q`),
	"Middleware spec.basicAuth.headerField":                                            serve(`X-User`),
	"Middleware spec.basicAuth.realm":                                                  serve(`Staff`),
	"Middleware spec.basicAuth.removeHeader":                                           serve(`true`),
	"Middleware spec.basicAuth.secret":                                                 serve(`walk-users2`),
	"Middleware spec.buffering.maxRequestBodyBytes":                                    serve(`2000`),
	"Middleware spec.buffering.maxResponseBodyBytes":                                   serve(`2000`),
	"Middleware spec.buffering.memRequestBodyBytes":                                    serve(`4096`),
	"Middleware spec.buffering.memResponseBodyBytes":                                   serve(`4096`),
	"Middleware spec.buffering.retryExpression":                                        {state: refused, sample: `IsNetworkError() && Attempts() < 2`},
	"Middleware spec.circuitBreaker.checkPeriod":                                       serve(`1s`),
	"Middleware spec.circuitBreaker.expression":                                        serve(`LatencyAtQuantileMS(50.0) > 100`),
	"Middleware spec.circuitBreaker.fallbackDuration":                                  serve(`30s`),
	"Middleware spec.circuitBreaker.recoveryDuration":                                  serve(`1m`),
	"Middleware spec.circuitBreaker.responseCode":                                      serve(`429`),
	"Middleware spec.compress.defaultEncoding":                                         serve(`gzip`),
	"Middleware spec.compress.encodings":                                               serve(`[zstd, gzip]`),
	"Middleware spec.compress.excludedContentTypes":                                    serve(`[text/event-stream]`),
	"Middleware spec.compress.includedContentTypes":                                    serve(`[text/html]`),
	"Middleware spec.compress.minResponseBodyBytes":                                    serve(`2048`),
	"Middleware spec.contentType.autoDetect":                                           serve(`true`),
	"Middleware spec.digestAuth.headerField":                                           serve(`X-User`),
	"Middleware spec.digestAuth.realm":                                                 serve(`Staff`),
	"Middleware spec.digestAuth.removeHeader":                                          serve(`true`),
	"Middleware spec.digestAuth.secret":                                                serve(`walk-digest2`),
	"Middleware spec.errors.errorRequestHeaders":                                       serve(`[Accept]`),
	"Middleware spec.errors.query":                                                     serve(`/{status}.html`),
	"Middleware spec.errors.service.name":                                              serve(`app2`),
	"Middleware spec.errors.service.namespace":                                         serve(`other`),
	"Middleware spec.errors.service.passHostHeader":                                    serve(`false`),
	"Middleware spec.errors.service.port":                                              serve(`8443`),
	"Middleware spec.errors.service.scheme":                                            serve(`h2c`),
	"Middleware spec.errors.service.serversTransport":                                  serve(`st2`),
	"Middleware spec.errors.status":                                                    serve(`["404"]`),
	"Middleware spec.errors.statusRewrites":                                            serve(`{"500": 503}`),
	"Middleware spec.grpcWeb.allowOrigins":                                             serve(`["https://app.example.com"]`),
	"Middleware spec.headers.accessControlAllowCredentials":                            serve(`true`),
	"Middleware spec.headers.accessControlAllowHeaders":                                serve(`[X-Custom]`),
	"Middleware spec.headers.accessControlAllowMethods":                                serve(`[GET, PUT]`),
	"Middleware spec.headers.accessControlAllowOriginList":                             serve(`["https://a.example"]`),
	"Middleware spec.headers.accessControlAllowOriginListRegex":                        serve(`["^https://.*\\.example$"]`),
	"Middleware spec.headers.accessControlExposeHeaders":                               serve(`[X-Total]`),
	"Middleware spec.headers.accessControlMaxAge":                                      serve(`600`),
	"Middleware spec.headers.addVaryHeader":                                            serve(`true`),
	"Middleware spec.headers.allowedHosts":                                             serve(`[app.example.com]`),
	"Middleware spec.headers.browserXssFilter":                                         serve(`true`),
	"Middleware spec.headers.contentSecurityPolicy":                                    serve(`"default-src 'self'"`),
	"Middleware spec.headers.contentSecurityPolicyReportOnly":                          serve(`"default-src 'self'"`),
	"Middleware spec.headers.contentTypeNosniff":                                       serve(`true`),
	"Middleware spec.headers.customBrowserXSSValue":                                    serve(`"0"`),
	"Middleware spec.headers.customFrameOptionsValue":                                  serve(`SAMEORIGIN`),
	"Middleware spec.headers.customRequestHeaders":                                     serve(`{X-A: a}`),
	"Middleware spec.headers.customResponseHeaders":                                    serve(`{X-B: b}`),
	"Middleware spec.headers.forceSTSHeader":                                           serve(`true`),
	"Middleware spec.headers.frameDeny":                                                serve(`true`),
	"Middleware spec.headers.hostsProxyHeaders":                                        serve(`[X-Forwarded-Host]`),
	"Middleware spec.headers.isDevelopment":                                            serve(`true`),
	"Middleware spec.headers.permissionsPolicy":                                        serve(`camera=()`),
	"Middleware spec.headers.publicKey":                                                serve(`pin-sha256="base64=="; max-age=60`),
	"Middleware spec.headers.referrerPolicy":                                           serve(`no-referrer`),
	"Middleware spec.headers.sslProxyHeaders":                                          serve(`{X-Forwarded-Proto: https}`),
	"Middleware spec.headers.stsIncludeSubdomains":                                     serve(`true`),
	"Middleware spec.headers.stsPreload":                                               serve(`true`),
	"Middleware spec.headers.stsSeconds":                                               serve(`31536000`),
	"Middleware spec.ipAllowList.ipStrategy.depth":                                     serve(`2`),
	"Middleware spec.ipAllowList.ipStrategy.excludedIPs":                               serve(`[10.1.0.0/16]`),
	"Middleware spec.ipAllowList.rejectStatusCode":                                     serve(`404`),
	"Middleware spec.ipAllowList.sourceRange":                                          serve(`[192.0.2.0/24]`),
	"Middleware spec.ipWhiteList.ipStrategy.depth":                                     serve(`2`),
	"Middleware spec.ipWhiteList.ipStrategy.excludedIPs":                               serve(`[10.1.0.0/16]`),
	"Middleware spec.ipWhiteList.sourceRange":                                          serve(`[192.0.2.0/24]`),
	"Middleware spec.passTLSClientCert.info.issuer.commonName":                         serve(`true`),
	"Middleware spec.passTLSClientCert.info.issuer.country":                            serve(`true`),
	"Middleware spec.passTLSClientCert.info.issuer.domainComponent":                    serve(`true`),
	"Middleware spec.passTLSClientCert.info.issuer.locality":                           serve(`true`),
	"Middleware spec.passTLSClientCert.info.issuer.organization":                       serve(`true`),
	"Middleware spec.passTLSClientCert.info.issuer.organizationalUnit":                 serve(`true`),
	"Middleware spec.passTLSClientCert.info.issuer.province":                           serve(`true`),
	"Middleware spec.passTLSClientCert.info.issuer.serialNumber":                       serve(`true`),
	"Middleware spec.passTLSClientCert.info.notAfter":                                  serve(`true`),
	"Middleware spec.passTLSClientCert.info.notBefore":                                 serve(`true`),
	"Middleware spec.passTLSClientCert.info.sans":                                      serve(`true`),
	"Middleware spec.passTLSClientCert.info.serialNumber":                              serve(`true`),
	"Middleware spec.passTLSClientCert.info.subject.commonName":                        serve(`true`),
	"Middleware spec.passTLSClientCert.info.subject.country":                           serve(`true`),
	"Middleware spec.passTLSClientCert.info.subject.domainComponent":                   serve(`true`),
	"Middleware spec.passTLSClientCert.info.subject.locality":                          serve(`true`),
	"Middleware spec.passTLSClientCert.info.subject.organization":                      serve(`true`),
	"Middleware spec.passTLSClientCert.info.subject.organizationalUnit":                serve(`true`),
	"Middleware spec.passTLSClientCert.info.subject.province":                          serve(`true`),
	"Middleware spec.passTLSClientCert.info.subject.serialNumber":                      serve(`true`),
	"Middleware spec.passTLSClientCert.pem":                                            serve(`false`),
	"Middleware spec.redirectRegex.permanent":                                          serve(`true`),
	"Middleware spec.redirectRegex.regex":                                              serve(`^http://old\\.example\\.com/(.*)`),
	"Middleware spec.redirectRegex.replacement":                                        serve(`https://new.example.com/${1}`),
	"Middleware spec.redirectScheme.permanent":                                         serve(`true`),
	"Middleware spec.redirectScheme.port":                                              serve(`"8443"`),
	"Middleware spec.redirectScheme.scheme":                                            serve(`http`),
	"Middleware spec.redirectScheme.statusCode":                                        serve(`308`),
	"Middleware spec.replacePath.path":                                                 serve(`/s`),
	"Middleware spec.replacePathRegex.regex":                                           serve(`^/old/(.*)`),
	"Middleware spec.replacePathRegex.replacement":                                     serve(`/new/$1`),
	"Middleware spec.retry.attempts":                                                   serve(`5`),
	"Middleware spec.retry.disableRetryOnNetworkError":                                 {state: refused, sample: `true`},
	"Middleware spec.retry.initialInterval":                                            serve(`100ms`),
	"Middleware spec.retry.maxRequestBodyBytes":                                        serve(`1024`),
	"Middleware spec.retry.retryNonIdempotentMethod":                                   serve(`true`),
	"Middleware spec.retry.status":                                                     {state: refused, sample: `["500-599"]`},
	"Middleware spec.retry.timeout":                                                    serve(`5s`),
	"Middleware spec.stripPrefix.forceSlash":                                           serve(`true`), // read to warn: Traefik v3 gives it no effect either
	"Middleware spec.stripPrefix.prefixes":                                             serve(`[/b]`),
	"Middleware spec.stripPrefixRegex.regex":                                           serve(`["/api/v[0-9]+"]`),
	"Middleware spec.tlsClientSubject.pattern":                                         serve(`CN=b`),
	"MiddlewareTCP spec.inFlightConn.amount":                                           serve(`7`),
	"MiddlewareTCP spec.ipAllowList.sourceRange":                                       serve(`[192.0.2.0/24]`),
	"MiddlewareTCP spec.ipWhiteList.sourceRange":                                       serve(`[192.0.2.0/24]`),
	"ServersTransport spec.certificatesSecrets":                                        serve(`[gateway-client]`),
	"ServersTransport spec.cipherSuites":                                               serve(`[TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]`),
	"ServersTransport spec.disableHTTP2":                                               serve(`true`),
	"ServersTransport spec.forwardingTimeouts.dialTimeout":                             serve(`7s`),
	"ServersTransport spec.forwardingTimeouts.idleConnTimeout":                         serve(`7s`),
	"ServersTransport spec.forwardingTimeouts.pingTimeout":                             serve(`7s`),
	"ServersTransport spec.forwardingTimeouts.readIdleTimeout":                         serve(`7s`),
	"ServersTransport spec.forwardingTimeouts.responseHeaderTimeout":                   serve(`7s`),
	"ServersTransport spec.insecureSkipVerify":                                         serve(`true`),
	"ServersTransport spec.maxIdleConnsPerHost":                                        serve(`7`),
	"ServersTransport spec.maxVersion":                                                 serve(`VersionTLS12`),
	"ServersTransport spec.minVersion":                                                 serve(`VersionTLS13`),
	"ServersTransport spec.peerCertSANs":                                               serve(`[x.example.com]`),
	"ServersTransport spec.peerCertURI":                                                serve(`spiffe://example.com/x`),
	"ServersTransport spec.rootCAsSecrets":                                             serve(`[other-ca]`),
	"ServersTransport spec.rootCAs[].configMap":                                        {state: served, sample: `[{configMap: roots}]`, at: "spec.rootCAs"},
	"ServersTransport spec.rootCAs[].key":                                              {state: served, sample: `[{secret: backend-ca, key: tls.ca}]`, at: "spec.rootCAs"},
	"ServersTransport spec.rootCAs[].secret":                                           serve(`other-ca`),
	"ServersTransport spec.serverName":                                                 serve(`other.web.svc`),
	"ServersTransportTCP spec.dialKeepAlive":                                           serve(`7s`),
	"ServersTransportTCP spec.dialTimeout":                                             serve(`7s`),
	"ServersTransportTCP spec.proxyProtocol.version":                                   serve(`1`),
	"ServersTransportTCP spec.terminationDelay":                                        serve(`7s`),
	"ServersTransportTCP spec.tls.certificatesSecrets":                                 serve(`[gateway-client]`),
	"ServersTransportTCP spec.tls.cipherSuites":                                        serve(`[TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]`),
	"ServersTransportTCP spec.tls.insecureSkipVerify":                                  serve(`true`),
	"ServersTransportTCP spec.tls.maxVersion":                                          serve(`VersionTLS12`),
	"ServersTransportTCP spec.tls.minVersion":                                          serve(`VersionTLS13`),
	"ServersTransportTCP spec.tls.peerCertSANs":                                        serve(`[x.example.com]`),
	"ServersTransportTCP spec.tls.peerCertURI":                                         serve(`spiffe://example.com/x`),
	"ServersTransportTCP spec.tls.rootCAsSecrets":                                      serve(`[other-ca]`),
	"ServersTransportTCP spec.tls.rootCAs[].configMap":                                 {state: served, sample: `[{configMap: roots}]`, at: "spec.tls.rootCAs"},
	"ServersTransportTCP spec.tls.rootCAs[].key":                                       {state: served, sample: `[{secret: backend-ca, key: tls.ca}]`, at: "spec.tls.rootCAs"},
	"ServersTransportTCP spec.tls.rootCAs[].secret":                                    serve(`other-ca`),
	"ServersTransportTCP spec.tls.serverName":                                          serve(`other.web.svc`),
	"TLSOption spec.alpnProtocols":                                                     serve(`[h2]`),
	"TLSOption spec.cipherSuites":                                                      serve(`[TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]`),
	"TLSOption spec.clientAuth.clientAuthType":                                         serve(`RequireAnyClientCert`),
	"TLSOption spec.clientAuth.secretNames":                                            serve(`[client-ca]`),
	"TLSOption spec.curvePreferences":                                                  serve(`[CurveP384]`),
	"TLSOption spec.disableSessionTickets":                                             serve(`true`),
	"TLSOption spec.maxVersion":                                                        serve(`VersionTLS12`),
	"TLSOption spec.minVersion":                                                        serve(`VersionTLS13`),
	"TLSOption spec.sniStrict":                                                         serve(`true`),
	"TLSStore spec.certificates[].secretName":                                          {state: served, sample: `[{secretName: store2-tls}]`, at: "spec.certificates"},
	"TLSStore spec.defaultCertificate.secretName":                                      serve(`store2-tls`),
	"TraefikService spec.failover.fallback.healthCheck.headers":                        serve(`{X-Probe: "1"}`),
	"TraefikService spec.failover.fallback.healthCheck.hostname":                       serve(`probe.example.com`),
	"TraefikService spec.failover.fallback.healthCheck.interval":                       serve(`10s`),
	"TraefikService spec.failover.fallback.healthCheck.method":                         serve(`HEAD`),
	"TraefikService spec.failover.fallback.healthCheck.path":                           serve(`/healthz`),
	"TraefikService spec.failover.fallback.healthCheck.port":                           serve(`9000`),
	"TraefikService spec.failover.fallback.healthCheck.scheme":                         serve(`http`),
	"TraefikService spec.failover.fallback.healthCheck.status":                         serve(`204`),
	"TraefikService spec.failover.fallback.healthCheck.timeout":                        serve(`2s`),
	"TraefikService spec.failover.fallback.healthCheck.unhealthyInterval":              serve(`3s`),
	"TraefikService spec.failover.fallback.kind":                                       {state: served, sample: `{name: split, kind: TraefikService}`, at: "spec.failover.fallback"},
	"TraefikService spec.failover.fallback.name":                                       serve(`app2`),
	"TraefikService spec.failover.fallback.namespace":                                  serve(`other`),
	"TraefikService spec.failover.fallback.passHostHeader":                             serve(`false`),
	"TraefikService spec.failover.fallback.port":                                       serve(`80`),
	"TraefikService spec.failover.fallback.scheme":                                     serve(`h2c`),
	"TraefikService spec.failover.fallback.serversTransport":                           serve(`st2`),
	"TraefikService spec.failover.fallback.sticky.cookie.httpOnly":                     serve(`true`),
	"TraefikService spec.failover.fallback.sticky.cookie.maxAge":                       serve(`60`),
	"TraefikService spec.failover.fallback.sticky.cookie.name":                         serve(`c`),
	"TraefikService spec.failover.fallback.sticky.cookie.path":                         serve(`/x`),
	"TraefikService spec.failover.fallback.sticky.cookie.sameSite":                     serve(`lax`),
	"TraefikService spec.failover.fallback.sticky.cookie.secure":                       serve(`true`),
	"TraefikService spec.failover.fallback.weight":                                     serve(`5`),
	"TraefikService spec.failover.service.healthCheck.headers":                         serve(`{X-Probe: "1"}`),
	"TraefikService spec.failover.service.healthCheck.hostname":                        serve(`probe.example.com`),
	"TraefikService spec.failover.service.healthCheck.interval":                        serve(`10s`),
	"TraefikService spec.failover.service.healthCheck.method":                          serve(`HEAD`),
	"TraefikService spec.failover.service.healthCheck.path":                            serve(`/healthz`),
	"TraefikService spec.failover.service.healthCheck.port":                            serve(`9000`),
	"TraefikService spec.failover.service.healthCheck.scheme":                          serve(`http`),
	"TraefikService spec.failover.service.healthCheck.status":                          serve(`204`),
	"TraefikService spec.failover.service.healthCheck.timeout":                         serve(`2s`),
	"TraefikService spec.failover.service.healthCheck.unhealthyInterval":               serve(`3s`),
	"TraefikService spec.failover.service.kind":                                        {state: served, sample: `{name: split, kind: TraefikService}`, at: "spec.failover.service"},
	"TraefikService spec.failover.service.name":                                        serve(`app2`),
	"TraefikService spec.failover.service.namespace":                                   serve(`other`),
	"TraefikService spec.failover.service.passHostHeader":                              serve(`false`),
	"TraefikService spec.failover.service.port":                                        serve(`80`),
	"TraefikService spec.failover.service.scheme":                                      serve(`h2c`),
	"TraefikService spec.failover.service.serversTransport":                            serve(`st2`),
	"TraefikService spec.failover.service.sticky.cookie.httpOnly":                      serve(`true`),
	"TraefikService spec.failover.service.sticky.cookie.maxAge":                        serve(`60`),
	"TraefikService spec.failover.service.sticky.cookie.name":                          serve(`c`),
	"TraefikService spec.failover.service.sticky.cookie.path":                          serve(`/x`),
	"TraefikService spec.failover.service.sticky.cookie.sameSite":                      serve(`lax`),
	"TraefikService spec.failover.service.sticky.cookie.secure":                        serve(`true`),
	"TraefikService spec.failover.service.weight":                                      serve(`5`),
	"TraefikService spec.highestRandomWeight.services[].healthCheck.headers":           serve(`{X-Probe: "1"}`),
	"TraefikService spec.highestRandomWeight.services[].healthCheck.hostname":          serve(`probe.example.com`),
	"TraefikService spec.highestRandomWeight.services[].healthCheck.interval":          serve(`10s`),
	"TraefikService spec.highestRandomWeight.services[].healthCheck.method":            serve(`HEAD`),
	"TraefikService spec.highestRandomWeight.services[].healthCheck.path":              serve(`/healthz`),
	"TraefikService spec.highestRandomWeight.services[].healthCheck.port":              serve(`9000`),
	"TraefikService spec.highestRandomWeight.services[].healthCheck.scheme":            serve(`http`),
	"TraefikService spec.highestRandomWeight.services[].healthCheck.status":            serve(`204`),
	"TraefikService spec.highestRandomWeight.services[].healthCheck.timeout":           serve(`2s`),
	"TraefikService spec.highestRandomWeight.services[].healthCheck.unhealthyInterval": serve(`3s`),
	"TraefikService spec.highestRandomWeight.services[].kind":                          {state: served, sample: `[{name: split, kind: TraefikService}]`, at: "spec.highestRandomWeight.services"},
	"TraefikService spec.highestRandomWeight.services[].name":                          serve(`app2`),
	"TraefikService spec.highestRandomWeight.services[].namespace":                     serve(`other`),
	"TraefikService spec.highestRandomWeight.services[].passHostHeader":                serve(`false`),
	"TraefikService spec.highestRandomWeight.services[].port":                          serve(`80`),
	"TraefikService spec.highestRandomWeight.services[].scheme":                        serve(`h2c`),
	"TraefikService spec.highestRandomWeight.services[].serversTransport":              serve(`st2`),
	"TraefikService spec.highestRandomWeight.services[].sticky.cookie.httpOnly":        serve(`true`),
	"TraefikService spec.highestRandomWeight.services[].sticky.cookie.maxAge":          serve(`60`),
	"TraefikService spec.highestRandomWeight.services[].sticky.cookie.name":            serve(`c`),
	"TraefikService spec.highestRandomWeight.services[].sticky.cookie.path":            serve(`/x`),
	"TraefikService spec.highestRandomWeight.services[].sticky.cookie.sameSite":        serve(`lax`),
	"TraefikService spec.highestRandomWeight.services[].sticky.cookie.secure":          serve(`true`),
	"TraefikService spec.highestRandomWeight.services[].weight":                        serve(`5`),
	"TraefikService spec.mirroring.healthCheck.headers":                                serve(`{X-Probe: "1"}`),
	"TraefikService spec.mirroring.healthCheck.hostname":                               serve(`probe.example.com`),
	"TraefikService spec.mirroring.healthCheck.interval":                               serve(`10s`),
	"TraefikService spec.mirroring.healthCheck.method":                                 serve(`HEAD`),
	"TraefikService spec.mirroring.healthCheck.path":                                   serve(`/healthz`),
	"TraefikService spec.mirroring.healthCheck.port":                                   serve(`9000`),
	"TraefikService spec.mirroring.healthCheck.scheme":                                 serve(`http`),
	"TraefikService spec.mirroring.healthCheck.status":                                 serve(`204`),
	"TraefikService spec.mirroring.healthCheck.timeout":                                serve(`2s`),
	"TraefikService spec.mirroring.healthCheck.unhealthyInterval":                      serve(`3s`),
	"TraefikService spec.mirroring.kind":                                               {state: served, sample: `{name: split, kind: TraefikService}`, at: "spec.mirroring"},
	"TraefikService spec.mirroring.maxBodySize":                                        serve(`1024`),
	"TraefikService spec.mirroring.mirrorBody":                                         serve(`false`),
	"TraefikService spec.mirroring.mirrors[].healthCheck.headers":                      serve(`{X-Probe: "1"}`),
	"TraefikService spec.mirroring.mirrors[].healthCheck.hostname":                     serve(`probe.example.com`),
	"TraefikService spec.mirroring.mirrors[].healthCheck.interval":                     serve(`10s`),
	"TraefikService spec.mirroring.mirrors[].healthCheck.method":                       serve(`HEAD`),
	"TraefikService spec.mirroring.mirrors[].healthCheck.path":                         serve(`/healthz`),
	"TraefikService spec.mirroring.mirrors[].healthCheck.port":                         serve(`9000`),
	"TraefikService spec.mirroring.mirrors[].healthCheck.scheme":                       serve(`http`),
	"TraefikService spec.mirroring.mirrors[].healthCheck.status":                       serve(`204`),
	"TraefikService spec.mirroring.mirrors[].healthCheck.timeout":                      serve(`2s`),
	"TraefikService spec.mirroring.mirrors[].healthCheck.unhealthyInterval":            serve(`3s`),
	"TraefikService spec.mirroring.mirrors[].kind":                                     {state: served, sample: `[{name: split, kind: TraefikService, percent: 10}]`, at: "spec.mirroring.mirrors"},
	"TraefikService spec.mirroring.mirrors[].name":                                     serve(`app2`),
	"TraefikService spec.mirroring.mirrors[].namespace":                                serve(`other`),
	"TraefikService spec.mirroring.mirrors[].passHostHeader":                           serve(`false`),
	"TraefikService spec.mirroring.mirrors[].percent":                                  serve(`50`),
	"TraefikService spec.mirroring.mirrors[].port":                                     serve(`80`),
	"TraefikService spec.mirroring.mirrors[].scheme":                                   serve(`h2c`),
	"TraefikService spec.mirroring.mirrors[].serversTransport":                         serve(`st2`),
	"TraefikService spec.mirroring.mirrors[].sticky.cookie.httpOnly":                   serve(`true`),
	"TraefikService spec.mirroring.mirrors[].sticky.cookie.maxAge":                     serve(`60`),
	"TraefikService spec.mirroring.mirrors[].sticky.cookie.name":                       serve(`c`),
	"TraefikService spec.mirroring.mirrors[].sticky.cookie.path":                       serve(`/x`),
	"TraefikService spec.mirroring.mirrors[].sticky.cookie.sameSite":                   serve(`lax`),
	"TraefikService spec.mirroring.mirrors[].sticky.cookie.secure":                     serve(`true`),
	"TraefikService spec.mirroring.mirrors[].weight":                                   serve(`5`),
	"TraefikService spec.mirroring.name":                                               serve(`app2`),
	"TraefikService spec.mirroring.namespace":                                          serve(`other`),
	"TraefikService spec.mirroring.passHostHeader":                                     serve(`false`),
	"TraefikService spec.mirroring.port":                                               serve(`80`),
	"TraefikService spec.mirroring.scheme":                                             serve(`h2c`),
	"TraefikService spec.mirroring.serversTransport":                                   serve(`st2`),
	"TraefikService spec.mirroring.sticky.cookie.httpOnly":                             serve(`true`),
	"TraefikService spec.mirroring.sticky.cookie.maxAge":                               serve(`60`),
	"TraefikService spec.mirroring.sticky.cookie.name":                                 serve(`c`),
	"TraefikService spec.mirroring.sticky.cookie.path":                                 serve(`/x`),
	"TraefikService spec.mirroring.sticky.cookie.sameSite":                             serve(`lax`),
	"TraefikService spec.mirroring.sticky.cookie.secure":                               serve(`true`),
	"TraefikService spec.mirroring.weight":                                             serve(`5`),
	"TraefikService spec.weighted.services[].healthCheck.headers":                      serve(`{X-Probe: "1"}`),
	"TraefikService spec.weighted.services[].healthCheck.hostname":                     serve(`probe.example.com`),
	"TraefikService spec.weighted.services[].healthCheck.interval":                     serve(`10s`),
	"TraefikService spec.weighted.services[].healthCheck.method":                       serve(`HEAD`),
	"TraefikService spec.weighted.services[].healthCheck.path":                         serve(`/healthz`),
	"TraefikService spec.weighted.services[].healthCheck.port":                         serve(`9000`),
	"TraefikService spec.weighted.services[].healthCheck.scheme":                       serve(`http`),
	"TraefikService spec.weighted.services[].healthCheck.status":                       serve(`204`),
	"TraefikService spec.weighted.services[].healthCheck.timeout":                      serve(`2s`),
	"TraefikService spec.weighted.services[].healthCheck.unhealthyInterval":            serve(`3s`),
	"TraefikService spec.weighted.services[].kind":                                     {state: served, sample: `[{name: split, kind: TraefikService}]`, at: "spec.weighted.services"},
	"TraefikService spec.weighted.services[].name":                                     serve(`app2`),
	"TraefikService spec.weighted.services[].namespace":                                serve(`other`),
	"TraefikService spec.weighted.services[].passHostHeader":                           serve(`false`),
	"TraefikService spec.weighted.services[].port":                                     serve(`80`),
	"TraefikService spec.weighted.services[].scheme":                                   serve(`h2c`),
	"TraefikService spec.weighted.services[].serversTransport":                         serve(`st2`),
	"TraefikService spec.weighted.services[].sticky.cookie.httpOnly":                   serve(`true`),
	"TraefikService spec.weighted.services[].sticky.cookie.maxAge":                     serve(`60`),
	"TraefikService spec.weighted.services[].sticky.cookie.name":                       serve(`c`),
	"TraefikService spec.weighted.services[].sticky.cookie.path":                       serve(`/x`),
	"TraefikService spec.weighted.services[].sticky.cookie.sameSite":                   serve(`lax`),
	"TraefikService spec.weighted.services[].sticky.cookie.secure":                     serve(`true`),
	"TraefikService spec.weighted.services[].weight":                                   serve(`5`),
	"TraefikService spec.weighted.sticky.cookie.httpOnly":                              serve(`true`),
	"TraefikService spec.weighted.sticky.cookie.maxAge":                                serve(`60`),
	"TraefikService spec.weighted.sticky.cookie.name":                                  serve(`c`),
	"TraefikService spec.weighted.sticky.cookie.path":                                  serve(`/x`),
	"TraefikService spec.weighted.sticky.cookie.sameSite":                              serve(`lax`),
	"TraefikService spec.weighted.sticky.cookie.secure":                                serve(`true`),
	// The walk's chain names mw2; naming itself is a cycle, another namespace is refused.
	"Middleware spec.chain.middlewares[].name":      serve(`mw`),
	"Middleware spec.chain.middlewares[].namespace": serve(`other`),
	// The walk's inFlightReq groups by client address (walk_helpers_test.go), so that
	// requestHost: true, inFlightReq's default, is seen replacing it.
	"Middleware spec.inFlightReq.amount":                                 serve(`20`),
	"Middleware spec.inFlightReq.sourceCriterion.ipStrategy.depth":       serve(`2`),
	"Middleware spec.inFlightReq.sourceCriterion.ipStrategy.excludedIPs": serve(`[10.1.0.0/16]`),
	"Middleware spec.inFlightReq.sourceCriterion.requestHeaderName":      {state: served, sample: `{requestHeaderName: X-Tenant}`, at: "spec.inFlightReq.sourceCriterion"},
	"Middleware spec.inFlightReq.sourceCriterion.requestHost":            {state: served, sample: `{requestHost: true}`, at: "spec.inFlightReq.sourceCriterion"},
	"Middleware spec.rateLimit.average":                                  serve(`20`),
	"Middleware spec.rateLimit.burst":                                    serve(`5`),
	"Middleware spec.forwardAuth.addAuthCookiesToResponse":               serve(`[session]`),
	"Middleware spec.forwardAuth.address":                                serve(`"https://127.0.0.3:9443/verify"`),
	"Middleware spec.forwardAuth.authRequestHeaders":                     serve(`[Authorization]`),
	"Middleware spec.forwardAuth.authResponseHeaders":                    serve(`[X-Auth-User]`),
	"Middleware spec.forwardAuth.authResponseHeadersRegex":               serve(`^X-Auth-`),
	"Middleware spec.forwardAuth.authSigninURL":                          serve(`"https://login.example.com/"`),
	"Middleware spec.forwardAuth.forwardBody":                            serve(`true`),
	"Middleware spec.forwardAuth.maxBodySize":                            serve(`1024`),
	"Middleware spec.forwardAuth.maxResponseBodySize":                    serve(`4096`),
	"Middleware spec.forwardAuth.preserveLocationHeader":                 serve(`true`),
	"Middleware spec.forwardAuth.preserveRequestMethod":                  serve(`true`),
	"Middleware spec.forwardAuth.tls.caOptional":                         serve(`true`),
	"Middleware spec.forwardAuth.tls.caSecret":                           serve(`backend-ca`),
	"Middleware spec.forwardAuth.tls.certSecret":                         serve(`edge-tls`),
	"Middleware spec.forwardAuth.tls.insecureSkipVerify":                 serve(`true`),
	"Middleware spec.forwardAuth.trustForwardHeader":                     serve(`true`),
	"Middleware spec.rateLimit.period":                                   serve(`1m`),
	"Middleware spec.rateLimit.sourceCriterion.ipStrategy.depth":         serve(`2`),
	"Middleware spec.rateLimit.sourceCriterion.ipStrategy.excludedIPs":   serve(`[10.1.0.0/16]`),
	"Middleware spec.rateLimit.sourceCriterion.requestHeaderName":        serve(`X-Tenant`),
	"Middleware spec.rateLimit.sourceCriterion.requestHost":              serve(`true`),
}

// TestEveryFieldOfOurSchemaIsServedOrRefused walks every field of every CRD in
// config/crd/bases: a leaf missing from ourFieldTable fails; a served one must change the
// outcome (the snapshot or the object's status) when its sample is set, so "served"
// cannot be claimed for a field translate never reads; a refused one must make its object
// not Ready, naming it; a fixed one must admit a single value. A container is covered by
// its fields.
func TestEveryFieldOfOurSchemaIsServedOrRefused(t *testing.T) {
	fields, err := ourFields()
	if err != nil {
		t.Fatal(err)
	}
	base := run(t, scenario(t, bhv1.GroupName))
	if len(base.problems) > 0 {
		t.Fatalf("the walk scenario does not load: %q", base.problems)
	}
	for k, st := range base.statuses {
		if c := st.Condition(bhv1.ConditionReady); c == nil || c.Status != "True" {
			t.Fatalf("the walk scenario's %s is not Ready: %+v", k, c)
		}
	}
	seen := map[string]bool{}
	for _, f := range fields {
		if !f.Leaf {
			continue
		}
		id := f.Kind + " " + f.Path
		seen[id] = true
		entry, ok := ourFieldTable[id]
		if !ok {
			t.Errorf("%s is in the schema but not in ourFieldTable: implement it in translate and list it as served with a sample, or refuse it", id)
			continue
		}
		t.Run(id, func(t *testing.T) {
			if entry.state == fixed {
				if len(f.Enum) != 1 {
					t.Errorf("fixed, but the schema admits %v rather than one value", f.Enum)
				}
				return
			}
			key := walkObject[f.Kind]
			ref, changed := scenario(t, bhv1.GroupName), scenario(t, bhv1.GroupName)
			path := f.Path
			if entry.at != "" {
				path = entry.at
			}
			prepare(t, f.Kind, objectOf(t, ref, key), path)
			parent, name := prepare(t, f.Kind, objectOf(t, changed, key), path)
			value := parseValue(t, entry.sample)
			if reflect.DeepEqual(parent[name], value) {
				t.Fatalf("the sample %s is the scenario's own value", entry.sample)
			}
			parent[name] = value
			before, after := run(t, ref), run(t, changed)
			if len(before.problems)+len(after.problems) > 0 {
				t.Fatalf("the scenario does not load: %q %q", before.problems, after.problems)
			}
			switch entry.state {
			case served:
				if before.rendered == after.rendered {
					t.Errorf("served, but setting it to %s changes neither the snapshot nor a status: translate does not read it", entry.sample)
				}
				if status, reason, msg := after.ready(key); reason == string(bhv1.ReasonUnsupportedField) {
					t.Errorf("served, but refused: %s %s %s", status, reason, msg)
				}
			case refused:
				status, reason, msg := after.ready(key)
				if status != "False" || !strings.Contains(msg, concrete(f.Path)) {
					t.Errorf("refused, but Ready = %s %s %q does not name %s", status, reason, msg, concrete(f.Path))
				}
			}
		})
	}
	for id := range ourFieldTable {
		if !seen[id] {
			t.Errorf("ourFieldTable lists %s, which is not a leaf of the schema: remove it", id)
		}
	}
}
