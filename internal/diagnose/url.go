package diagnose

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// URLOptions configure URL.
type URLOptions struct {
	// CACert is a PEM file of the CAs to trust for the gateway's certificate; empty means
	// the system roots.
	CACert string
	// Resolve entries are "host:port:address", as curl's --resolve: connect to address
	// for host:port.
	Resolve []string
	// ClientCert and ClientKey are PEM files of a client certificate to present.
	ClientCert, ClientKey string
	// Timeout bounds the connection, the handshake and the request; zero means 10s.
	Timeout time.Duration
	// ExpiryWarning is how far ahead an expiring certificate is a warning.
	ExpiryWarning time.Duration
	// Now is the time for validity checks; zero means the current time.
	Now time.Time
}

// gatewayBody is the body of the gateway's own failure answers: "502 Bad Gateway (UnknownAuthority)".
var gatewayBody = regexp.MustCompile(`^(\d{3}) [^()]* \(([A-Za-z]+)\)\n?$`)

// urlCheck is one URL diagnosis.
type urlCheck struct {
	o          URLOptions
	u          *url.URL
	host, port string
	dialAddr   string
	roots      *x509.CertPool
	rootsName  string
	clientCert *tls.Certificate
	sec        Section
}

// URL checks a URL as a client of the gateway: the connection, the TLS handshake and the
// certificate served (subject, SANs, validity, trust, whether it covers the host), then
// the request. A Bridgehead-Error answer is explained with its fix. The error is for
// arguments that cannot be used (a bad URL, an unreadable file).
func URL(ctx context.Context, raw string, o URLOptions) (*Report, error) {
	c, err := newURLCheck(raw, o)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	c.run(ctx)
	r := &Report{Verdict: OK}
	r.addSection(c.sec)
	return r, nil
}

func newURLCheck(raw string, o URLOptions) (*urlCheck, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL: %w", raw, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%q: give an http:// or https:// URL with a host", raw)
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	c := &urlCheck{o: o, u: u, host: u.Hostname(), port: u.Port(), sec: Section{Title: "URL " + u.String()}, rootsName: "the system roots"}
	if c.port == "" {
		c.port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	c.dialAddr = net.JoinHostPort(c.host, c.port)
	for _, r := range o.Resolve {
		parts := strings.SplitN(r, ":", 3)
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			return nil, fmt.Errorf("--resolve %q: use host:port:address, e.g. app.example.com:443:127.0.0.1", r)
		}
		if strings.EqualFold(parts[0], c.host) && parts[1] == c.port {
			c.dialAddr = net.JoinHostPort(strings.Trim(parts[2], "[]"), c.port)
		}
	}
	if o.CACert != "" {
		data, err := os.ReadFile(o.CACert)
		if err != nil {
			return nil, fmt.Errorf("--cacert: %w", err)
		}
		c.roots = x509.NewCertPool()
		if !c.roots.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("--cacert %s holds no PEM certificate", o.CACert)
		}
		c.rootsName = o.CACert
	}
	if (o.ClientCert == "") != (o.ClientKey == "") {
		return nil, errors.New("--cert and --key go together")
	}
	if o.ClientCert != "" {
		pair, err := tls.LoadX509KeyPair(o.ClientCert, o.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("--cert/--key: %w", err)
		}
		c.clientCert = &pair
	}
	return c, nil
}

func (c *urlCheck) run(ctx context.Context) {
	dialer := &net.Dialer{}
	conn, err := dialer.DialContext(ctx, "tcp", c.dialAddr)
	if err != nil {
		reason, _, _ := upstream.Classify(err)
		c.sec.add(Hop{Kind: "Connection", Object: c.dialAddr, Verdict: Fail, Reason: string(reason), Message: err.Error(),
			Fix: "check that the gateway runs and that this is the address of its entry point (--resolve host:port:address to connect elsewhere than DNS says)"})
		return
	}
	c.sec.add(Hop{Kind: "Connection", Object: c.dialAddr, Message: "connected"})
	if c.u.Scheme == "https" {
		ok := c.handshake(ctx, conn)
		_ = conn.Close()
		if !ok {
			return
		}
	} else {
		_ = conn.Close()
	}
	c.request(ctx)
}

// tlsConfig verifies nothing itself: the certificate hop judges it, and the request goes
// on either way so the answer can be shown.
func (c *urlCheck) tlsConfig(requested *bool) *tls.Config {
	return &tls.Config{
		ServerName:         c.host,
		InsecureSkipVerify: true, //nolint:gosec // verified by hand in certificateHop, to report rather than stop
		NextProtos:         []string{"h2", "http/1.1"},
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if requested != nil {
				*requested = true
			}
			if c.clientCert != nil {
				return c.clientCert, nil
			}
			return &tls.Certificate{}, nil
		},
	}
}

func (c *urlCheck) handshake(ctx context.Context, conn net.Conn) bool {
	requested := false
	tc := tls.Client(conn, c.tlsConfig(&requested))
	if err := tc.HandshakeContext(ctx); err != nil {
		c.sec.add(Hop{Kind: "Handshake", Object: "SNI " + c.host, Verdict: Fail, Reason: "HandshakeRefused",
			Message: fmt.Sprintf("the TLS handshake for %s failed: %v", c.host, err),
			Fix:     handshakeFix(err, c.host)})
		return false
	}
	cs := tc.ConnectionState()
	hop := Hop{Kind: "Handshake", Object: "SNI " + c.host,
		Message: fmt.Sprintf("%s, ALPN %q, %s", tls.VersionName(cs.Version), cs.NegotiatedProtocol, tls.CipherSuiteName(cs.CipherSuite))}
	if requested {
		if c.clientCert != nil {
			hop.Facts = append(hop.Facts, "the gateway asked for a client certificate (its TLSOption has clientAuth); sent the one from --cert")
		} else {
			hop.Facts = append(hop.Facts, "the gateway asked for a client certificate (its TLSOption has clientAuth) and none was sent (--cert, --key)")
		}
	}
	c.sec.add(hop)
	c.certificateHop(cs)
	return true
}

func handshakeFix(err error, host string) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "certificate required"), strings.Contains(msg, "bad certificate"):
		return "the gateway wants a client certificate it trusts for " + host + " (the route's TLSOption clientAuth): pass --cert and --key"
	case strings.Contains(msg, "unrecognized name"):
		return "the gateway knows no route for SNI " + host + " and its default TLSOption is sniStrict: check the route's Host() and spec.tls"
	case strings.Contains(msg, "protocol version"), strings.Contains(msg, "handshake failure"):
		return "the gateway refused the handshake for " + host + ": either no TLS version or cipher suite is shared with the route's TLSOption, or the host fails closed (a TLSOption missing, invalid or in conflict); run bridgehead diagnose on the route"
	}
	return "run bridgehead diagnose on the route for " + host + " to see why the gateway refuses it, and check that this address is the gateway's TLS entry point"
}

func (c *urlCheck) certificateHop(cs tls.ConnectionState) {
	if len(cs.PeerCertificates) == 0 {
		c.sec.add(Hop{Kind: "Certificate", Object: c.host, Verdict: Fail, Reason: "NoCertificate", Message: "the gateway presented no certificate"})
		return
	}
	leaf := cs.PeerCertificates[0]
	hop := Hop{Kind: "Certificate", Object: c.host}
	var sans []string
	sans = append(sans, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		sans = append(sans, ip.String())
	}
	hop.Facts = append(hop.Facts, fmt.Sprintf("served: %q issued by %q, SANs %s, not after %s", leaf.Subject.String(), leaf.Issuer.String(), sanList(sans), stamp(leaf.NotAfter)))
	inter := x509.NewCertPool()
	for _, ic := range cs.PeerCertificates[1:] {
		inter.AddCert(ic)
	}
	_, verr := leaf.Verify(x509.VerifyOptions{Roots: c.roots, Intermediates: inter, CurrentTime: c.o.Now})
	var inv x509.CertificateInvalidError
	switch {
	case leaf.VerifyHostname(c.host) != nil:
		hop.Verdict, hop.Reason = Fail, "CertificateHostMismatch"
		hop.Message = fmt.Sprintf("the certificate's SANs are %s, none of which covers %s: clients refuse it", sanList(sans), c.host)
		hop.Fix = "serve a certificate that covers " + c.host + ": set spec.tls.secretName on the route for it (without one, the TLSStore's certificate or the gateway's generated one is served), and make Host() in its match name " + c.host
	case errors.As(verr, &inv) && inv.Reason == x509.Expired:
		hop.Verdict, hop.Reason = Fail, "CertificateExpired"
		hop.Message = fmt.Sprintf("the certificate is not valid now (valid from %s to %s)", stamp(leaf.NotBefore), stamp(leaf.NotAfter))
		hop.Fix = "renew the certificate in the route's spec.tls.secretName Secret"
	case verr != nil:
		hop.Verdict, hop.Reason = Fail, "UnknownAuthority"
		hop.Message = fmt.Sprintf("the certificate is signed by %q, which is not trusted by %s: %v", leaf.Issuer.String(), c.rootsName, verr)
		hop.Fix = "give the client the CA that issued the gateway's certificate (--cacert for this command), or serve a certificate from a CA clients trust"
	case c.o.ExpiryWarning > 0 && leaf.NotAfter.Sub(c.o.Now) < c.o.ExpiryWarning:
		hop.Verdict, hop.Reason = Warn, "CertificateExpiringSoon"
		hop.Message = fmt.Sprintf("the certificate expires at %s (in %d days)", stamp(leaf.NotAfter), int(leaf.NotAfter.Sub(c.o.Now)/day))
		hop.Fix = "renew the certificate in the route's spec.tls.secretName Secret before then"
	default:
		hop.Message = fmt.Sprintf("covers %s and is trusted by %s", c.host, c.rootsName)
	}
	c.sec.add(hop)
}

func (c *urlCheck) request(ctx context.Context) {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, c.dialAddr)
		},
		TLSClientConfig:   c.tlsConfig(nil),
		ForceAttemptHTTP2: true,
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.u.String(), nil)
	if err != nil {
		c.sec.add(Hop{Kind: "Request", Object: "GET " + c.u.RequestURI(), Verdict: Fail, Reason: "Unknown", Message: err.Error()})
		return
	}
	req.Header.Set("User-Agent", "bridgehead-diagnose")
	hop := Hop{Kind: "Request", Object: "GET " + c.u.RequestURI()}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		hop.Verdict, hop.Reason, hop.Message = Fail, "RequestFailed", err.Error()
		hop.Fix = handshakeFix(err, c.host)
		c.sec.add(hop)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	_ = resp.Body.Close()
	reason := resp.Header.Get("Bridgehead-Error")
	if m := gatewayBody.FindStringSubmatch(string(body)); reason == "" && m != nil && m[1] == strconv.Itoa(resp.StatusCode) {
		// The gateway runs with --error-header=false; its own answers still name the reason.
		reason = m[2]
	}
	hop.Facts = append(hop.Facts, fmt.Sprintf("answered %s over %s", resp.Status, resp.Proto))
	switch {
	case reason != "":
		// A reason may carry a detail after a space: CASecretNotFound demo/backend-ca.
		token, _, _ := strings.Cut(reason, " ")
		meaning, fix := gatewayReason(token)
		hop.Verdict, hop.Reason = Fail, token
		hop.Message = fmt.Sprintf("the gateway answered %d with Bridgehead-Error: %s: %s", resp.StatusCode, reason, meaning)
		hop.Fix = fix + "; to see which object and field, run: bridgehead diagnose ingressroute/NAME -n NAMESPACE (or --config-dir DIR) for the route that serves " + c.host
	case resp.StatusCode >= 500:
		hop.Verdict, hop.Reason = Fail, "BackendError"
		hop.Message = fmt.Sprintf("the backend itself answered %d (no Bridgehead-Error header: the gateway reached it)", resp.StatusCode)
		hop.Fix = "check the backend's logs"
	default:
		hop.Message = fmt.Sprintf("answered %d", resp.StatusCode)
	}
	c.sec.add(hop)
}
