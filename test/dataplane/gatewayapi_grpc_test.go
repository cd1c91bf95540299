package dataplane

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// GRPCRoute through the real proxy on 127.0.0.1, with gRPC's wire format written by hand
// (the main module does not depend on grpc-go): a unary call is an HTTP/2 POST to
// /service/method, content-type application/grpc, a body of length-prefixed messages, and
// the call's status in the grpc-status trailer. Clients speak h2c with prior knowledge to
// the HTTP listener and h2 by ALPN to the HTTPS one; backends are plain h2c servers, as
// the conformance suite's echo-basic gRPC server is.

const grpcEcho = "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho"

// grpcFrame is one gRPC message on the wire: uncompressed flag, 4-byte length, message.
func grpcFrame(msg string) []byte {
	out := make([]byte, 5+len(msg))
	binary.BigEndian.PutUint32(out[1:5], uint32(len(msg)))
	copy(out[5:], msg)
	return out
}

func readGRPCFrame(r io.Reader) (string, error) {
	var head [5]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return "", err
	}
	msg := make([]byte, binary.BigEndian.Uint32(head[1:]))
	_, err := io.ReadFull(r, msg)
	return string(msg), err
}

// startGRPCBackend is a plain-h2c gRPC server that answers every unary call with one
// message naming itself, the method, and what it saw of the request; only HTTP/2 is
// served, so a proxy that spoke HTTP/1 to it would fail.
func startGRPCBackend(t *testing.T, name string) *httptest.Server {
	t.Helper()
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in, err := readGRPCFrame(r.Body)
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status, Grpc-Message")
		if err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/grpc" {
			w.Header().Set("Grpc-Status", "13") // INTERNAL, trailers-only
			w.Header().Set("Grpc-Message", fmt.Sprintf("not a gRPC call: %s %s %q %v", r.Method, r.Header.Get("Content-Type"), in, err))
			return
		}
		out := fmt.Sprintf("%s %s %s te=%s x-set=%s x-drop=%s msg=%s", name, r.Proto, r.URL.Path, r.Header.Get("Te"), r.Header.Get("X-Set"), r.Header.Get("X-Drop"), in)
		_, _ = w.Write(grpcFrame(out))
		w.Header().Set("Grpc-Status", "0")
		w.Header().Set("Grpc-Message", "")
	}))
	s.Config.Protocols = new(http.Protocols)
	s.Config.Protocols.SetUnencryptedHTTP2(true)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

type grpcReply struct {
	httpStatus int
	grpcStatus string // from the trailers, or the headers of a trailers-only answer
	msg        string
	header     http.Header
}

// grpcCall makes one unary call through c and returns what a gRPC client would see.
func grpcCall(t *testing.T, c *http.Client, url string, md map[string]string) grpcReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(grpcFrame("ping")))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Te", "trailers")
	for k, v := range md {
		req.Header.Set(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.ProtoMajor != 2 {
		t.Fatalf("POST %s: answered in %s, gRPC needs HTTP/2", url, resp.Proto)
	}
	out := grpcReply{httpStatus: resp.StatusCode, header: resp.Header}
	if resp.StatusCode == http.StatusOK {
		if out.msg, err = readGRPCFrame(resp.Body); err != nil && resp.Header.Get("Grpc-Status") == "" {
			t.Fatalf("POST %s: reading the message: %v", url, err)
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body) // the trailers arrive after the body
	out.grpcStatus = resp.Trailer.Get("Grpc-Status")
	if out.grpcStatus == "" {
		out.grpcStatus = resp.Header.Get("Grpc-Status")
	}
	return out
}

func TestGatewayAPIGRPCRouteRealCallsOverH2CAndH2(t *testing.T) {
	ca := pki.MustCA("edge CA")
	edge := ca.MustIssue("grpc.example.com", pki.Options{DNSNames: []string{"grpc.example.com"}})
	v1, v2 := startGRPCBackend(t, "v1"), startGRPCBackend(t, "v2")
	g := startGateway(t, nil)

	method := func(service, m string) gwv1.GRPCRouteMatch {
		return gwv1.GRPCRouteMatch{Method: &gwv1.GRPCMethodMatch{Service: ptr.To(service), Method: ptr.To(m)}}
	}
	backend := func(name string) []gwv1.GRPCBackendRef {
		return []gwv1.GRPCBackendRef{{BackendRef: gwRef(name)}}
	}
	colorTwo := gwv1.GRPCRouteMatch{Headers: []gwv1.GRPCHeaderMatch{{Name: "version", Value: "two"}}}
	objs := []client.Object{
		tlsSecret("edge", edge),
		&gwv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gw"}, Spec: gwv1.GatewaySpec{GatewayClassName: "bh", Listeners: []gwv1.Listener{
			{Name: "http", Port: 80, Protocol: gwv1.HTTPProtocolType},
			{Name: "https", Port: 443, Protocol: gwv1.HTTPSProtocolType, Hostname: ptr.To(gwv1.Hostname("grpc.example.com")),
				TLS: &gwv1.ListenerTLSConfig{CertificateRefs: []gwv1.SecretObjectReference{{Name: "edge"}}}},
		}}},
		&gwv1.GRPCRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "echo"}, Spec: gwv1.GRPCRouteSpec{
			CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{{Name: "gw"}}},
			Rules: []gwv1.GRPCRouteRule{
				{Matches: []gwv1.GRPCRouteMatch{method(grpcEcho, "Echo")}, BackendRefs: backend("v1"),
					Filters: []gwv1.GRPCRouteFilter{{Type: gwv1.GRPCRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gwv1.HTTPHeaderFilter{
						Set: []gwv1.HTTPHeader{{Name: "x-set", Value: "by-gateway"}}, Remove: []string{"x-drop"}}},
						{Type: gwv1.GRPCRouteFilterResponseHeaderModifier, ResponseHeaderModifier: &gwv1.HTTPHeaderFilter{
							Add: []gwv1.HTTPHeader{{Name: "x-route", Value: "echo"}}}}}},
				{Matches: []gwv1.GRPCRouteMatch{method(grpcEcho, "EchoTwo"), colorTwo}, BackendRefs: backend("v2")},
				{Matches: []gwv1.GRPCRouteMatch{method(grpcEcho, "EchoThree")}, BackendRefs: backend("missing")},
			}}},
	}
	objs = append(objs, service("v1", "grpc", addrOf(v1))...)
	objs = append(objs, service("v2", "grpc", addrOf(v2))...)
	st := g.applyGatewayAPI(objs...)
	conds := st[translate.Key{Kind: translate.KindGRPCRoute, Namespace: ns, Name: "echo"}].GatewayAPI.Parents[0].Conditions
	if conds[0].Type != "Accepted" || conds[0].Status != metav1.ConditionTrue {
		t.Fatalf("GRPCRoute not accepted: %+v", conds)
	}

	h2c := &http.Client{Transport: &http.Transport{Protocols: func() *http.Protocols {
		p := new(http.Protocols)
		p.SetUnencryptedHTTP2(true)
		return p
	}(), DialContext: dialVia(g.web)}}
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, ForceAttemptHTTP2: true, DialContext: dialVia(g.secure)}}

	for _, c := range []struct {
		name   string
		client *http.Client
		scheme string
	}{{"h2c to the HTTP listener", h2c, "http"}, {"h2 by ALPN to the HTTPS listener", h2, "https"}} {
		t.Run(c.name, func(t *testing.T) {
			base := c.scheme + "://grpc.example.com/" + grpcEcho
			r := grpcCall(t, c.client, base+"/Echo", map[string]string{"x-drop": "secret", "x-set": "by-client"})
			want := "v1 HTTP/2.0 /" + grpcEcho + "/Echo te=trailers x-set=by-gateway x-drop= msg=ping"
			if r.grpcStatus != "0" || r.msg != want || r.header.Get("X-Route") != "echo" {
				t.Fatalf("Echo: status %q message %q x-route %q; want OK from v1 over h2c with the request headers modified: %q", r.grpcStatus, r.msg, r.header.Get("X-Route"), want)
			}
			if r := grpcCall(t, c.client, base+"/EchoTwo", nil); r.grpcStatus != "0" || r.msg != "v2 HTTP/2.0 /"+grpcEcho+"/EchoTwo te=trailers x-set= x-drop= msg=ping" {
				t.Fatalf("EchoTwo: status %q message %q, want OK from v2", r.grpcStatus, r.msg)
			}
			// A header match alone takes any method.
			if r := grpcCall(t, c.client, c.scheme+"://grpc.example.com/other.Svc/Do", map[string]string{"version": "two"}); r.grpcStatus != "0" || r.msg[:3] != "v2 " {
				t.Fatalf("version: two: status %q message %q, want OK from v2", r.grpcStatus, r.msg)
			}
			// No rule takes it: 404, which gRPC clients read as UNIMPLEMENTED.
			if r := grpcCall(t, c.client, c.scheme+"://grpc.example.com/other.Svc/Do", nil); r.httpStatus != http.StatusNotFound {
				t.Fatalf("unrouted call: HTTP %d, want 404", r.httpStatus)
			}
			// A backend that does not exist: 503, which gRPC clients read as UNAVAILABLE
			// (the spec's status for an invalid backend), and the gateway says why.
			if r := grpcCall(t, c.client, base+"/EchoThree", nil); r.httpStatus != http.StatusServiceUnavailable || r.header.Get("Bridgehead-Error") == "" {
				t.Fatalf("EchoThree to a missing Service: HTTP %d Bridgehead-Error %q, want 503 naming the cause", r.httpStatus, r.header.Get("Bridgehead-Error"))
			}
		})
	}
}
