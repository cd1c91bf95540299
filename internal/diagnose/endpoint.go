package diagnose

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// probeConcurrency bounds the endpoints checked at once.
const probeConcurrency = 8

// probeResult is what one endpoint check saw.
type probeResult struct {
	presented *upstream.Presented
	status    int // HTTP status of the request, 0 when none was made
	err       error
}

// endpointHops checks every endpoint of a backend the way the gateway would reach it.
// A backend that fails closed (its transport cannot be built) is not dialled: the
// gateway does not dial it either, and the hops above say why.
func (e *env) endpointHops(sec *Section, s svcRef, v view, t *snapshot.Transport) {
	if !e.opts.Probe || v.failure != nil {
		return
	}
	results := make([]probeResult, len(v.endpoints))
	var wg sync.WaitGroup
	sem := make(chan struct{}, probeConcurrency)
	for i, ep := range v.endpoints {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = e.probe(t, v, ep.Address)
		}()
	}
	wg.Wait()
	for i, ep := range v.endpoints {
		sec.add(e.endpointHop(s, v, t, ep, results[i]))
	}
}

// probe makes the check the gateway makes (upstream.Pool.Probe, or DialTCP for TCP
// routes, with exactly the gateway's configuration), then a GET request on the same round
// tripper, as a user's request would go. The request sees what the probe cannot: a TLS
// 1.3 backend judges our client certificate only after the handshake, and a TLS port
// reached in clear text answers a 400 page whose body (absent from a HEAD answer) names it.
func (e *env) probe(t *snapshot.Transport, v view, addr string) probeResult {
	ctx, cancel := context.WithTimeout(e.ctx, e.opts.Timeout)
	defer cancel()
	if v.tcp != nil {
		return e.probeTCP(ctx, t, v.tcp, addr)
	}
	pres, err := e.pool.Probe(ctx, t, v.http, addr)
	if err != nil {
		return probeResult{presented: pres, err: err}
	}
	scheme := "http"
	if v.http.Scheme == "https" {
		scheme = "https"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+addr+"/", nil)
	if err != nil {
		return probeResult{presented: pres, err: err}
	}
	req.Header.Set("User-Agent", "bridgehead-diagnose")
	resp, err := e.pool.For(t, v.http).RoundTrip(req)
	if err != nil {
		return probeResult{presented: pres, err: err}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return probeResult{presented: pres, status: resp.StatusCode}
}

func (e *env) probeTCP(ctx context.Context, t *snapshot.Transport, b *snapshot.TCPBackend, addr string) probeResult {
	conn, err := e.pool.DialTCP(ctx, t, b, addr)
	if err != nil {
		return probeResult{err: err}
	}
	defer func() { _ = conn.Close() }()
	tc, ok := conn.(*tls.Conn)
	if !ok {
		return probeResult{}
	}
	cs := tc.ConnectionState()
	res := probeResult{presented: presentedOf(cs)}
	if cs.Version == tls.VersionTLS13 {
		// The backend's verdict on our client certificate arrives after the handshake.
		_ = tc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := tc.Read(make([]byte, 1)); err != nil && !isTimeout(err) && !strings.Contains(err.Error(), "EOF") {
			res.err = &upstream.Error{Detail: upstream.Detail{Endpoint: addr}, Err: err}
		}
	}
	return res
}

func isTimeout(err error) bool {
	te, ok := err.(interface{ Timeout() bool })
	return ok && te.Timeout()
}

func presentedOf(cs tls.ConnectionState) *upstream.Presented {
	if len(cs.PeerCertificates) == 0 {
		return nil
	}
	leaf := cs.PeerCertificates[0]
	p := &upstream.Presented{Subject: leaf.Subject.String(), Issuer: leaf.Issuer.String(), NotAfter: leaf.NotAfter, SANs: append([]string(nil), leaf.DNSNames...)}
	for _, ip := range leaf.IPAddresses {
		p.SANs = append(p.SANs, ip.String())
	}
	for _, u := range leaf.URIs {
		p.SANs = append(p.SANs, u.String())
	}
	return p
}

func presentedFact(subject, issuer string, sans []string, notAfter time.Time) string {
	return fmt.Sprintf("presented: %q issued by %q, SANs %s, not after %s", subject, issuer, sanList(sans), stamp(notAfter))
}

func (e *env) endpointHop(s svcRef, v view, t *snapshot.Transport, ep snapshot.Endpoint, res probeResult) Hop {
	hop := Hop{Kind: "Endpoint", Object: ep.Address}
	if ep.Name != "" {
		hop.Object += " (" + ep.Name + ")"
	}
	if res.err == nil {
		return e.endpointOK(hop, v, res)
	}
	reason, status, d := upstream.Classify(res.err)
	hop.Verdict, hop.Reason, hop.Message = Fail, string(reason), d.Message
	switch p := res.presented; {
	case d.Subject != "":
		hop.Facts = append(hop.Facts, presentedFact(d.Subject, d.Issuer, d.SANs, d.NotAfter))
	case p != nil:
		// The handshake went through; the request after it failed.
		hop.Facts = append(hop.Facts, presentedFact(p.Subject, p.Issuer, p.SANs, p.NotAfter)+" (verified)")
	}
	if v.tls && len(d.Roots) > 0 {
		hop.Facts = append(hop.Facts, "trusted roots: "+strings.Join(d.Roots, "; "))
	}
	if v.tls && len(d.NamesChecked) > 0 {
		hop.Facts = append(hop.Facts, "names checked: "+names(d.NamesChecked))
	}
	if reason == upstream.UnknownAuthority && d.Subject != "" && len(d.NamesChecked) > 0 && !sansAccept(d.SANs, d.NamesChecked) {
		hop.Facts = append(hop.Facts, fmt.Sprintf("name check: the certificate is valid for %s, none of the names checked; this fails next, once its CA is trusted", names(d.SANs)))
	}
	if v.tcp != nil {
		hop.Facts = append(hop.Facts, fmt.Sprintf("the gateway closes the client's connection (reason %s in its log and metrics)", reason))
	} else {
		hop.Facts = append(hop.Facts, fmt.Sprintf("clients get %d with Bridgehead-Error: %s", status, reason))
	}
	hop.Fix = e.endpointFix(reason, d, s, v, t)
	return hop
}

func (e *env) endpointOK(hop Hop, v view, res probeResult) Hop {
	var did []string
	if p := res.presented; p != nil {
		hop.Facts = append(hop.Facts, presentedFact(p.Subject, p.Issuer, p.SANs, p.NotAfter))
		did = append(did, "the TLS handshake verified the backend")
		now := e.opts.Translate.Now
		if left := p.NotAfter.Sub(now); e.opts.Translate.ExpiryWarning > 0 && left < e.opts.Translate.ExpiryWarning {
			hop.Verdict, hop.Reason = Warn, "CertificateExpiringSoon"
			hop.Message = fmt.Sprintf("the backend's certificate %q expires at %s (in %d days)", p.Subject, stamp(p.NotAfter), int(left/day))
			hop.Fix = "renew the backend's certificate before then"
			return hop
		}
	}
	switch {
	case res.status != 0:
		did = append(did, fmt.Sprintf("GET / over %s answered %d", v.scheme, res.status))
	case v.http != nil:
		did = append(did, "GET / over "+v.scheme+" answered")
	default:
		did = append(did, "the connection opened")
	}
	hop.Message = strings.Join(did, "; ")
	return hop
}

// endpointFix names the field to change for a classified failure.
func (e *env) endpointFix(r upstream.Reason, d upstream.Detail, s svcRef, v view, t *snapshot.Transport) string {
	st := ""
	if s.transport != "" {
		st = v.kind + " " + s.routeNS + "/" + s.transport
	}
	alsoName := ""
	if sn := serverNameFor(d.SANs); d.Subject != "" && sn != "" && len(d.NamesChecked) > 0 && !sansAccept(d.SANs, d.NamesChecked) {
		alsoName = fmt.Sprintf("; the certificate is not valid for the names checked either, so set serverName: %s in the same ServersTransport", sn)
	}
	issuer := "the CA that signed it"
	if d.Issuer != "" {
		issuer = fmt.Sprintf("%q", d.Issuer)
	}
	switch r {
	case upstream.UnknownAuthority:
		if t == nil || t.RootCAs == nil {
			where := fmt.Sprintf("create a ServersTransport with spec.rootCAs: [{secret: <that Secret>}] and set serversTransport: <its name> on %s", s.field)
			if st != "" {
				where = "add it to spec.rootCAs of " + st
			}
			return fmt.Sprintf("trust the backend's private CA: put the certificate of %s in a Secret at key ca.crt, then %s%s", issuer, where, alsoName)
		}
		for _, subject := range t.RootCAs.Subjects {
			if subject == d.Issuer {
				return fmt.Sprintf("%s trusts a CA named %s, but not the one that signed this certificate (a re-issued CA?): update the Secret it names in spec.rootCAs with the current CA certificate%s", st, issuer, alsoName)
			}
		}
		return fmt.Sprintf("add the CA certificate of %s to spec.rootCAs of %s (it trusts only: %s)%s", issuer, st, strings.Join(describeRoots(t.RootCAs), "; "), alsoName)
	case upstream.NameMismatch:
		if t != nil && (len(peerPins(t)) > 0 || t.PeerCertURI != "") && sansAccept(d.SANs, d.NamesChecked) {
			return fmt.Sprintf("correct peerCertSANs / peerCertURI of %s to the identity the backend's certificate carries (%s), or reissue the certificate", st, names(d.SANs))
		}
		sn := serverNameFor(d.SANs)
		if sn == "" {
			sn = "<one of the certificate's names>"
		}
		if st != "" {
			return fmt.Sprintf("set spec.serverName: %s on %s, or reissue the backend's certificate for one of %s", sn, st, names(d.NamesChecked))
		}
		return fmt.Sprintf("create a ServersTransport with spec.serverName: %s (and spec.rootCAs if a private CA signs the certificate) and set serversTransport on %s, or reissue the backend's certificate for one of %s",
			sn, s.field, names(d.NamesChecked))
	case upstream.CertificateExpired:
		if strings.Contains(d.Message, "not valid before") {
			return "the backend's certificate is not valid yet: check its notBefore and the clocks of the backend and the gateway"
		}
		return "renew the backend's certificate (and restart or reload the backend if it does not pick it up)"
	case upstream.BackendNotTLS:
		return fmt.Sprintf("the port speaks plain HTTP: set scheme: http on %s (and name the Service port without the https prefix), or enable TLS on the backend", s.field)
	case upstream.BackendExpectsTLS:
		then := "; then add a ServersTransport with rootCAs if a private CA signs the backend's certificate"
		if st != "" {
			then = "; then " + st + ", unused today, verifies it"
		}
		return fmt.Sprintf("set scheme: https on %s, or name the Service port https (a port named https... or numbered 443 is spoken to over TLS)%s", s.field, then)
	case upstream.ClientCertificateRequired:
		if t != nil && len(t.ClientCertificates) > 0 {
			c := t.ClientCertificates[0]
			return fmt.Sprintf("the backend refused our client certificate %q (Secret %s/%s): issue it from a CA the backend trusts, or make the backend trust its CA", c.Subject, c.Source.Namespace, c.Source.Name)
		}
		if st != "" {
			return fmt.Sprintf("set spec.certificatesSecrets on %s to a kubernetes.io/tls Secret holding a client certificate issued by a CA the backend trusts", st)
		}
		return fmt.Sprintf("create a ServersTransport with spec.certificatesSecrets: [a kubernetes.io/tls Secret holding a client certificate the backend trusts] (and spec.rootCAs for the backend's CA), and set serversTransport on %s", s.field)
	case upstream.TLSVersionOrCipherMismatch:
		if st != "" {
			return "align spec.minVersion, spec.maxVersion and spec.cipherSuites of " + st + " with what the backend supports"
		}
		return "the backend speaks no TLS version or cipher suite the gateway allows (TLS 1.2+): upgrade the backend's TLS, or set minVersion/cipherSuites on a ServersTransport for it"
	case upstream.ConnectionRefused:
		return fmt.Sprintf("nothing listens at %s: check the Service's targetPort (or the EndpointSlice's port) and that the backend listens on it", d.Endpoint)
	case upstream.Timeout:
		return "check that the gateway can reach the endpoint (NetworkPolicy, firewall) and that the backend is healthy; raise the ServersTransport's timeouts if it is only slow"
	case upstream.ConnectionReset:
		return "the backend closed the connection: check its logs (it may speak another protocol on this port, or refuse the gateway's address)"
	}
	return "check the backend's logs; the cause above is what the TLS stack said"
}
