package standalone

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/ingressannotations"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/source/manifests"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// `bridgehead migrate` against the corpus of ingress-nginx and HAProxy Ingresses in
// test/migrate: every Ingress is served by a gateway that takes over its class (as a user
// moving off ingress-nginx would run it), the objects `migrate -o yaml` prints for it are
// served by a second gateway, and both answer the same requests — over real TLS, from real
// backends on loopback — with the same status, redirect, certificate and what the backend
// saw. The only differences allowed are the ones migrate's report names.

const (
	corpusDir  = "../migrate/corpus"
	refusedDir = "../migrate/refused"
)

// corpusFile is one file of the corpus, read as `serve` reads it.
type corpusFile struct {
	path      string
	class     string
	ingresses []*networkingv1.Ingress
	services  []*corev1.Service
}

func readCorpus(t *testing.T, dir string) []corpusFile {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no corpus under %s: %v", dir, err)
	}
	var out []corpusFile
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		res, err := manifests.LoadStream(filepath.Base(p), data)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Problems) > 0 {
			t.Fatalf("%s does not load: %v", p, res.Problems)
		}
		f := corpusFile{path: p, ingresses: res.Inputs.Ingresses, services: res.Inputs.Services}
		for _, ing := range f.ingresses {
			class := ingressClass(ing)
			if f.class != "" && class != f.class {
				t.Fatalf("%s mixes classes %s and %s", p, f.class, class)
			}
			f.class = class
		}
		out = append(out, f)
	}
	return out
}

func ingressClass(ing *networkingv1.Ingress) string {
	if v, ok := ing.Annotations[translate.AnnotationIngressClass]; ok {
		return v
	}
	if ing.Spec.IngressClassName != nil {
		return *ing.Spec.IngressClassName
	}
	return ""
}

// corpusPKI: one edge certificate for every host of the corpus, one backend certificate
// for every name a backend may be checked against, the gateway's client certificate for
// backends, and alice's and mallory's client certificates.
type corpusPKI struct {
	edgeCA, backendCA, clientCA *pki.CA
	edge, backend, gateway      *pki.Leaf
	alice, mallory              *pki.Leaf
}

func newCorpusPKI(hosts, backendNames []string) *corpusPKI {
	p := &corpusPKI{edgeCA: pki.MustCA("corpus edge CA"), backendCA: pki.MustCA("corpus backend CA"), clientCA: pki.MustCA("corpus client CA")}
	p.edge = p.edgeCA.MustIssue("corpus edge", pki.Options{DNSNames: hosts})
	p.backend = p.backendCA.MustIssue("corpus backend", pki.Options{DNSNames: append(append([]string(nil), backendNames...), hosts...)})
	p.gateway = p.backendCA.MustIssue("bridgehead-gateway", pki.Options{})
	p.alice = p.clientCA.MustIssue("alice", pki.Options{})
	p.mallory = p.clientCA.MustIssue("mallory", pki.Options{})
	return p
}

// secretRoles records what each Secret the objects name must hold.
type secretRoles map[[2]string]map[string]bool

const (
	roleEdge      = "edge"
	roleBackendCA = "backend CA"
	roleGateway   = "gateway client certificate"
	roleClientCA  = "client CA"
)

func (r secretRoles) add(ns, name, role string) {
	k := [2]string{ns, name}
	if r[k] == nil {
		r[k] = map[string]bool{}
	}
	r[k][role] = true
}

// fromTransport and fromClientAuth record the Secrets a ServersTransport spec and a
// TLSOption spec name, in the namespace they are read from.
func (r secretRoles) fromTransport(ns string, s *bhv1.ServersTransportSpec) {
	for _, root := range s.RootCAs {
		if root.Secret != nil {
			r.add(ns, string(*root.Secret), roleBackendCA)
		}
	}
	for _, n := range s.CertificatesSecrets {
		r.add(ns, string(n), roleGateway)
	}
}

func (r secretRoles) fromClientAuth(ns string, s *bhv1.TLSOptionSpec) {
	for _, n := range s.ClientAuth.SecretNames {
		r.add(ns, string(n), roleClientCA)
	}
}

// yaml writes the Secrets. A CA is at ca.crt and tls.crt (HAProxy reads tls.crt) unless
// the Secret also holds the gateway's client certificate there (ingress-nginx's
// proxy-ssl-secret: ca.crt plus tls.crt/tls.key).
func (r secretRoles) yaml(t *testing.T, p *corpusPKI) string {
	t.Helper()
	keys := make([][2]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool { return keys[a][0]+"/"+keys[a][1] < keys[b][0]+"/"+keys[b][1] })
	var b strings.Builder
	for _, k := range keys {
		roles := r[k]
		data := map[string][]byte{}
		typ := "Opaque"
		switch {
		case roles[roleEdge]:
			if len(roles) > 1 {
				t.Fatalf("corpus: Secret %s/%s is used as an edge certificate and as %v", k[0], k[1], roles)
			}
			typ, data["tls.crt"], data["tls.key"] = "kubernetes.io/tls", p.edge.CertPEM, p.edge.KeyPEM
		case roles[roleBackendCA] && roles[roleClientCA]:
			t.Fatalf("corpus: Secret %s/%s is used as the backend CA and as the client CA", k[0], k[1])
		default:
			ca := p.backendCA.PEM
			if roles[roleClientCA] {
				ca = p.clientCA.PEM
			}
			if roles[roleBackendCA] || roles[roleClientCA] {
				data["ca.crt"], data["tls.crt"] = ca, ca
			}
			if roles[roleGateway] {
				data["tls.crt"], data["tls.key"] = p.gateway.CertPEM, p.gateway.KeyPEM
			}
		}
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\ntype: %s\nstringData:\n", k[1], k[0], typ)
		for _, key := range []string{"ca.crt", "tls.crt", "tls.key"} {
			if v, ok := data[key]; ok {
				fmt.Fprintf(&b, "  %s: |\n    %s\n", key, strings.ReplaceAll(strings.TrimSpace(string(v)), "\n", "\n    "))
			}
		}
	}
	return b.String()
}

// corpusBackends are the servers behind every Service of the corpus: one speaking TLS
// (HTTP/1.1 and h2, asking for the gateway's client certificate), one plain (HTTP/1.1 and
// h2c). Each answers what it saw, as JSON.
type corpusBackends struct{ tls, plain *httptest.Server }

// seen is what a backend reports; only what both gateways must agree on.
type seen struct {
	Backend       string `json:"backend"`
	Method        string `json:"method"`
	URI           string `json:"uri"`
	Host          string `json:"host"`
	Proto         string `json:"proto"`
	SNI           string `json:"sni,omitempty"`
	GatewayCert   string `json:"gatewayCert,omitempty"`
	ClientCert    bool   `json:"clientCert"`
	ClientInfo    string `json:"clientInfo,omitempty"`
	ReplacedPath  string `json:"replacedPath,omitempty"`
	ForwardedHost string `json:"forwardedHost,omitempty"`
}

func startCorpusBackends(t *testing.T, p *corpusPKI) *corpusBackends {
	t.Helper()
	handler := func(kind string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := seen{Backend: kind, Method: r.Method, URI: r.RequestURI, Host: r.Host, Proto: r.Proto,
				ClientCert: r.Header.Get("X-Forwarded-Tls-Client-Cert") != "", ClientInfo: r.Header.Get("X-Forwarded-Tls-Client-Cert-Info"),
				ReplacedPath: r.Header.Get("X-Replaced-Path"), ForwardedHost: r.Header.Get("X-Forwarded-Host")}
			if r.TLS != nil {
				s.SNI = r.TLS.ServerName
				if len(r.TLS.PeerCertificates) > 0 {
					s.GatewayCert = r.TLS.PeerCertificates[0].Subject.CommonName
				}
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(s)
		})
	}
	b := &corpusBackends{}
	b.tls = httptest.NewUnstartedServer(handler("tls"))
	b.tls.TLS = &tls.Config{Certificates: []tls.Certificate{p.backend.TLS}, ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: p.backendCA.Pool()}
	b.tls.EnableHTTP2 = true
	b.tls.Config.ErrorLog = log.New(io.Discard, "", 0)
	b.tls.StartTLS()
	t.Cleanup(b.tls.Close)
	b.plain = httptest.NewUnstartedServer(handler("plain"))
	b.plain.Config.Protocols = new(http.Protocols)
	b.plain.Config.Protocols.SetHTTP1(true)
	b.plain.Config.Protocols.SetUnencryptedHTTP2(true)
	b.plain.Start()
	t.Cleanup(b.plain.Close)
	return b
}

// endpointsYAML gives every Service port an endpoint: the TLS backend when the Ingresses
// reach it over TLS, the plain one otherwise.
func endpointsYAML(t *testing.T, files []corpusFile, b *corpusBackends) string {
	t.Helper()
	tlsPorts := map[string]bool{} // ns/svc/port-name-or-number
	for _, f := range files {
		for _, ing := range f.ingresses {
			res := ingressannotations.Read(ingressannotations.Input{Ingress: ing, Defaults: ingressannotations.DefaultsFor(f.class)})
			var explicit bhv1.Scheme
			switch res.Scheme {
			case ingressannotations.SchemeHTTPS, ingressannotations.SchemeH2:
				explicit = bhv1.SchemeHTTPS
			case ingressannotations.SchemeHTTP, ingressannotations.SchemeH2C:
				explicit = bhv1.SchemeHTTP
			}
			for _, be := range ingressBackends(ing) {
				port := be.Port.Name
				if port == "" {
					port = fmt.Sprint(be.Port.Number)
				}
				sp := findServicePort(f.services, ing.Namespace, be)
				if res.Passthrough || translate.BackendScheme(explicit, sp, bhv1.Port(port)) == "https" {
					if sp == nil {
						t.Fatalf("%s: Ingress %s/%s names Service port %s/%s, which the file does not define", f.path, ing.Namespace, ing.Name, be.Name, port)
					}
					tlsPorts[ing.Namespace+"/"+be.Name+"/"+sp.Name] = true
				}
			}
		}
	}
	var out strings.Builder
	for _, f := range files {
		for _, svc := range f.services {
			fmt.Fprintf(&out, "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: %s-corpus\n  namespace: %s\n  labels: {kubernetes.io/service-name: %s}\naddressType: IPv4\nendpoints:\n- addresses: [127.0.0.1]\nports:\n", svc.Name, svc.Namespace, svc.Name)
			for _, sp := range svc.Spec.Ports {
				backend := b.plain
				if tlsPorts[svc.Namespace+"/"+svc.Name+"/"+sp.Name] {
					backend = b.tls
				}
				fmt.Fprintf(&out, "- name: %q\n  port: %s\n  protocol: TCP\n", sp.Name, port(t, addrOf(backend)))
			}
		}
	}
	return out.String()
}

func ingressBackends(ing *networkingv1.Ingress) []*networkingv1.IngressServiceBackend {
	var out []*networkingv1.IngressServiceBackend
	if d := ing.Spec.DefaultBackend; d != nil && d.Service != nil {
		out = append(out, d.Service)
	}
	for _, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for _, p := range r.HTTP.Paths {
			if p.Backend.Service != nil {
				out = append(out, p.Backend.Service)
			}
		}
	}
	return out
}

func findServicePort(svcs []*corev1.Service, ns string, be *networkingv1.IngressServiceBackend) *corev1.ServicePort {
	for _, s := range svcs {
		if s.Namespace != ns || s.Name != be.Name {
			continue
		}
		for i, p := range s.Spec.Ports {
			if (be.Port.Name != "" && p.Name == be.Port.Name) || (be.Port.Name == "" && p.Port == be.Port.Number) {
				return &s.Spec.Ports[i]
			}
		}
	}
	return nil
}

// corpusNames are the hosts of every Ingress and the names backends may be checked against.
func corpusNames(files []corpusFile) (hosts, backendNames []string) {
	seenName := map[string]bool{}
	addTo := func(list *[]string, n string) {
		if n != "" && !seenName[n] {
			seenName[n] = true
			*list = append(*list, n)
		}
	}
	for _, f := range files {
		for _, ing := range f.ingresses {
			for _, r := range ing.Spec.Rules {
				addTo(&hosts, translate.NormalizeHost(r.Host))
			}
			for _, e := range ing.Spec.TLS {
				for _, h := range e.Hosts {
					addTo(&hosts, translate.NormalizeHost(h))
				}
			}
			res := ingressannotations.Read(ingressannotations.Input{Ingress: ing, Defaults: ingressannotations.DefaultsFor(f.class)})
			if res.Transport != nil {
				addTo(&backendNames, res.Transport.Spec.ServerName)
			}
			for _, be := range ingressBackends(ing) {
				for _, n := range []string{be.Name, be.Name + "." + ing.Namespace, be.Name + "." + ing.Namespace + ".svc"} {
					addTo(&backendNames, n)
				}
			}
		}
	}
	return hosts, backendNames
}

// probe is one request of the comparison.
type probe struct {
	scheme, method, host, path string
	cert                       string // "", "alice" or "mallory"
}

func (p probe) String() string {
	s := fmt.Sprintf("%s %s://%s%s", p.method, p.scheme, p.host, p.path)
	if p.cert != "" {
		s += " as " + p.cert
	}
	return s
}

// answer is what a client gets: enough to tell any difference a user would notice.
type answer struct {
	Err      string
	Status   int
	Location string
	Cert     string // the certificate the client was shown: subject CN / issuer CN
	Seen     *seen
	Error    string // Bridgehead-Error
}

// probesFor lists the requests that exercise an Ingress: every host and path, over HTTPS
// without, with a good and with a refused client certificate, and over plain HTTP (GET
// and POST, whose redirect codes differ), plus an ACME challenge that must never redirect.
func probesFor(ing *networkingv1.Ingress) []probe {
	var out []probe
	add := func(host, path string) {
		for _, cert := range []string{"", "alice", "mallory"} {
			out = append(out, probe{scheme: "https", method: http.MethodGet, host: host, path: path, cert: cert})
		}
		out = append(out, probe{scheme: "http", method: http.MethodGet, host: host, path: path},
			probe{scheme: "http", method: http.MethodPost, host: host, path: path})
	}
	for i, r := range ing.Spec.Rules {
		host := translate.NormalizeHost(r.Host)
		if host == "" {
			host = fmt.Sprintf("any-%s-%d.example.test", ing.Name, i)
		}
		out = append(out, probe{scheme: "http", method: http.MethodGet, host: host, path: "/.well-known/acme-challenge/t0ken"})
		if r.HTTP == nil {
			continue
		}
		for _, p := range r.HTTP.Paths {
			add(host, samplePath(p))
		}
	}
	if ing.Spec.DefaultBackend != nil {
		add("unrouted-"+ing.Name+".example.test", "/anything")
	}
	return out
}

var regexPart = regexp.MustCompile(`[(\[*+?$^\\].*$`)

// samplePath is a request path the Ingress path matches: below a prefix, the path itself
// when exact, the literal head of an ingress-nginx regular expression.
func samplePath(p networkingv1.HTTPIngressPath) string {
	path := p.Path
	if path == "" {
		path = "/"
	}
	if p.PathType != nil && *p.PathType == networkingv1.PathTypeExact {
		return path
	}
	path = regexPart.ReplaceAllString(path, "")
	return strings.TrimSuffix(path, "/") + "/sub/page?q=1"
}

// asker sends probes to one gateway, with one client per client certificate.
type asker struct {
	gw      *gatewayProc
	clients map[string]*http.Client
}

func newAsker(t *testing.T, gw *gatewayProc, p *corpusPKI) *asker {
	a := &asker{gw: gw, clients: map[string]*http.Client{}}
	certs := map[string][]tls.Certificate{"": nil, "alice": {p.alice.TLS}, "mallory": {p.mallory.TLS}}
	for name, cs := range certs {
		tr := &http.Transport{
			// The certificate shown is recorded and compared, not verified here.
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true, Certificates: cs}, //nolint:gosec // see above
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				target := gw.web
				if strings.HasSuffix(addr, ":443") {
					target = gw.websecure
				}
				return (&net.Dialer{}).DialContext(ctx, network, target)
			},
		}
		t.Cleanup(tr.CloseIdleConnections)
		a.clients[name] = &http.Client{Timeout: 10 * time.Second, Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return a
}

func (a *asker) ask(p probe) answer {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, p.method, p.scheme+"://"+p.host+p.path, strings.NewReader(""))
	if err != nil {
		return answer{Err: err.Error()}
	}
	resp, err := a.clients[p.cert].Do(req)
	if err != nil {
		return answer{Err: classifyErr(err)}
	}
	defer func() { _ = resp.Body.Close() }()
	out := answer{Status: resp.StatusCode, Location: resp.Header.Get("Location"), Error: resp.Header.Get("Bridgehead-Error")}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		c := resp.TLS.PeerCertificates[0]
		out.Cert = c.Subject.CommonName + " / " + c.Issuer.CommonName
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var s seen
	if resp.Header.Get("Content-Type") == "application/json" && json.Unmarshal(body, &s) == nil && s.Backend != "" {
		out.Seen = &s
	}
	return out
}

// classifyErr keeps the kind of a failed round trip, not its addresses.
func classifyErr(err error) string {
	msg := err.Error()
	for _, kind := range []string{"certificate required", "bad certificate", "unknown certificate authority", "handshake failure", "EOF", "connection reset", "broken pipe", "timeout"} {
		if strings.Contains(msg, kind) {
			return kind
		}
	}
	return "error"
}

// migrated runs `bridgehead migrate` on a corpus file as a user would: the text report and
// the YAML, each with its exit code.
func migrated(t *testing.T, path string, extra ...string) (report string, reportCode int, objects string) {
	t.Helper()
	run := func(args ...string) (string, int) {
		cmd := exec.Command(binary, append([]string{"migrate"}, args...)...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		code := cmd.ProcessState.ExitCode()
		if err != nil && code != 1 {
			t.Fatalf("bridgehead migrate %v: %v\n%s", args, err, stderr.String())
		}
		return string(out), code
	}
	report, reportCode = run(append(extra, path)...)
	objects, yamlCode := run(append(extra, "-o", "yaml", path)...)
	if yamlCode != reportCode {
		t.Errorf("migrate %s: exit %d with -o yaml, %d without; they must agree", path, yamlCode, reportCode)
	}
	return report, reportCode, objects
}

// TestMigratedCorpusAnswersLikeTheAnnotatedIngresses is the promise of `bridgehead
// migrate`: served from a folder, its -o yaml answers every request as the annotated
// Ingress does.
func TestMigratedCorpusAnswersLikeTheAnnotatedIngresses(t *testing.T) {
	files := readCorpus(t, corpusDir)
	total := 0
	for _, f := range files {
		total += len(f.ingresses)
	}
	if total < 30 {
		t.Fatalf("the corpus holds %d Ingresses; the promise is tested on at least 30", total)
	}
	hosts, backendNames := corpusNames(files)
	p := newCorpusPKI(hosts, backendNames)
	backends := startCorpusBackends(t, p)
	endpoints := endpointsYAML(t, files, backends)

	// The annotated Ingresses, one gateway per class taken over.
	byClass := map[string][]corpusFile{}
	for _, f := range files {
		byClass[f.class] = append(byClass[f.class], f)
	}
	before := map[string]*asker{}
	for class, fs := range byClass {
		folder := map[string]string{"endpoints.yaml": endpoints}
		roles := secretRoles{}
		for _, f := range fs {
			data, err := os.ReadFile(f.path)
			if err != nil {
				t.Fatal(err)
			}
			folder[filepath.Base(f.path)] = string(data)
			for _, ing := range f.ingresses {
				for _, e := range ing.Spec.TLS {
					if e.SecretName != "" {
						roles.add(ing.Namespace, e.SecretName, roleEdge)
					}
				}
				res := ingressannotations.Read(ingressannotations.Input{Ingress: ing, Defaults: ingressannotations.DefaultsFor(class)})
				if res.Transport != nil {
					roles.fromTransport(res.Transport.Namespace, &res.Transport.Spec)
				}
				if res.TLSOption != nil {
					roles.fromClientAuth(res.TLSOption.Namespace, &res.TLSOption.Spec)
				}
			}
		}
		folder["secrets.yaml"] = roles.yaml(t, p)
		gw := startBridgehead(t, writeFolder(t, folder), append([]string{"serve", "--config-dir", ".", "--gateway-namespace", ns,
			"--ingress-class", class, "--allow-cross-namespace"}, servePorts...)...)
		gw.waitLoaded()
		before[class] = newAsker(t, gw, p)
	}

	// The migrated objects, in one gateway of Bridgehead's own class per class taken over
	// (so that a catch-all of one class does not answer for the other's hosts).
	notes := map[string]string{} // file -> report
	after := map[string]*asker{}
	for class, fs := range byClass {
		folder := map[string]string{"endpoints.yaml": endpoints}
		roles := secretRoles{}
		for _, f := range fs {
			report, _, objects := migrated(t, f.path)
			notes[f.path] = report
			folder["migrated-"+filepath.Base(f.path)] = objects
			// The corpus file for its Services: its Ingresses are of another class than
			// the one this gateway serves, so they are not served here.
			data, err := os.ReadFile(f.path)
			if err != nil {
				t.Fatal(err)
			}
			folder[filepath.Base(f.path)] = string(data)
			res, err := manifests.LoadStream("migrated", []byte(objects))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Problems) > 0 {
				t.Fatalf("migrate -o yaml %s prints objects the gateway does not admit: %v\n%s", f.path, res.Problems, objects)
			}
			for _, st := range res.Inputs.ServersTransports {
				roles.fromTransport(st.Namespace, &st.Spec)
			}
			for _, o := range res.Inputs.TLSOptions {
				roles.fromClientAuth(o.Namespace, &o.Spec)
			}
			for _, r := range res.Inputs.IngressRoutes {
				if r.Spec.TLS != nil && r.Spec.TLS.SecretName != "" {
					roles.add(r.Namespace, string(r.Spec.TLS.SecretName), roleEdge)
				}
			}
		}
		folder["secrets.yaml"] = roles.yaml(t, p)
		gw := startBridgehead(t, writeFolder(t, folder), append([]string{"serve", "--config-dir", ".", "--gateway-namespace", ns, "--allow-cross-namespace"}, servePorts...)...)
		gw.waitLoaded()
		after[class] = newAsker(t, gw, p)
	}

	compared, differences := 0, 0
	outcomes := map[string]int{}
	for _, f := range files {
		for _, ing := range f.ingresses {
			plain404 := strings.Contains(notes[f.path], "Ingress "+ing.Namespace+"/"+ing.Name+" ") &&
				strings.Contains(ingressSection(notes[f.path], ing), "gets 404 instead of the Ingress's 403")
			for _, pr := range probesFor(ing) {
				want, got := before[f.class].ask(pr), after[f.class].ask(pr)
				// A client certificate refused under TLS 1.3 races the client's first write:
				// the server's verdict comes after the client's handshake is done, so the
				// client sees the alert, a reset or a broken pipe. A difference in how a
				// failure was seen counts only when it shows again.
				for retry := 0; retry < 2 && !sameAnswer(want, got) && (want.Err != "" || got.Err != ""); retry++ {
					want, got = before[f.class].ask(pr), after[f.class].ask(pr)
				}
				compared++
				outcomes[outcome(want)]++
				if pr.scheme == "http" && plain404 && want.Status == http.StatusForbidden && got.Status == http.StatusNotFound {
					continue // the difference migrate's report names
				}
				if !sameAnswer(want, got) {
					differences++
					t.Errorf("%s, Ingress %s/%s: %s\n  annotated Ingress: %+v %s\n  migrated objects:  %+v %s", filepath.Base(f.path), ing.Namespace, ing.Name, pr, want, seenString(want.Seen), got, seenString(got.Seen))
				}
			}
		}
	}
	t.Logf("%d Ingresses in %d files, %d requests compared over real TLS, %d differences; what the annotated Ingresses answered: %v", total, len(files), compared, differences, outcomes)
	// A comparison where nothing reaches a backend would prove nothing.
	if outcomes["backend"] < compared/3 || outcomes["redirect"] == 0 || outcomes["refused"] == 0 {
		t.Errorf("the probes exercise too little: %v of %d requests", outcomes, compared)
	}
}

// outcome sorts an answer for the summary: reached a backend, redirected, refused by the
// gateway (403/421/TLS), or another failure.
func outcome(a answer) string {
	switch {
	case a.Seen != nil:
		return "backend"
	case a.Status >= 300 && a.Status < 400:
		return "redirect"
	case a.Status == http.StatusForbidden || a.Status == http.StatusMisdirectedRequest || a.Err != "":
		return "refused"
	case a.Status == http.StatusNotFound:
		return "not found"
	}
	return fmt.Sprintf("status %d", a.Status)
}

// ingressSection is the part of a migrate report about one Ingress.
func ingressSection(report string, ing *networkingv1.Ingress) string {
	head := "Ingress " + ing.Namespace + "/" + ing.Name + " "
	i := strings.Index(report, head)
	if i < 0 {
		return ""
	}
	rest := report[i:]
	if j := strings.Index(rest, "\n\n"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

func sameAnswer(a, b answer) bool {
	if a.Err != b.Err || a.Status != b.Status || a.Location != b.Location || a.Cert != b.Cert {
		return false
	}
	if (a.Seen == nil) != (b.Seen == nil) {
		return false
	}
	return a.Seen == nil || *a.Seen == *b.Seen
}

func seenString(s *seen) string {
	if s == nil {
		return ""
	}
	data, _ := json.Marshal(s)
	return string(data)
}

// TestMigrateRefusesWhatTheGatewayRefuses: an Ingress the gateway fails closed is not
// converted (converting it would serve what the gateway refuses), the YAML says why in a
// comment, and the exit code is 1.
func TestMigrateRefusesWhatTheGatewayRefuses(t *testing.T) {
	for _, f := range readCorpus(t, refusedDir) {
		report, code, objects := migrated(t, f.path)
		if code != 1 {
			t.Errorf("migrate %s: exit %d, want 1\n%s", f.path, code, report)
		}
		for _, ing := range f.ingresses {
			section := ingressSection(report, ing)
			if !strings.Contains(section, "=> not converted") {
				t.Errorf("migrate %s: Ingress %s/%s must be reported not converted:\n%s", f.path, ing.Namespace, ing.Name, section)
			}
			if !strings.Contains(objects, "# Ingress "+ing.Namespace+"/"+ing.Name+" is not converted") {
				t.Errorf("migrate -o yaml %s: no comment names Ingress %s/%s as not converted:\n%s", f.path, ing.Namespace, ing.Name, objects)
			}
		}
		res, err := manifests.LoadStream("migrated", []byte(objects))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Inputs.IngressRoutes {
			for _, ing := range f.ingresses {
				if r.Namespace == ing.Namespace && strings.HasPrefix(r.Name, ing.Name) {
					t.Errorf("migrate -o yaml %s: IngressRoute %s/%s serves the refused Ingress %s", f.path, r.Namespace, r.Name, ing.Name)
				}
			}
		}
	}
}
