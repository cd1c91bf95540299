package manifests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/bridgehead/bridgehead/internal/htpasswd"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// The README's Traefik compatibility table has one row per Traefik v3 CRD kind and per
// middleware type, each with a state. TestREADMECompatibilityTable holds every row to what
// the code does: a tiny Traefik manifest per row goes through this loader and the
// translator, and the row may say served only when the object is Ready, refused only when
// it is not, and plain "served" only when none of its Traefik fields is refused
// (traefikFields). A row that claims more (or less) than the code fails the test, with the
// row to write instead.

const (
	compatBegin = "<!-- BEGIN Traefik compatibility table: checked against the code by go test ./internal/source/manifests -run TestREADMECompatibilityTable -->"
	compatEnd   = "<!-- END Traefik compatibility table -->"
)

// The states a row may give.
const (
	stateServed            = "served"
	stateServedDifferently = "served differently"
	stateRefused           = "refused"
)

// traefikV3Kinds are Traefik v3's CRD kinds (traefik/traefik v3.7,
// docs/content/reference/dynamic-configuration/traefik.io_*.yaml); traefikV3Middlewares
// the fields of its Middleware spec, each a middleware type; traefikV3MiddlewaresTCP
// those of MiddlewareTCP. testdata/traefik-v3.7.9.txt, generated from the same CRDs,
// must agree (TestCompatibilityListsAreTraefiks).
var (
	traefikV3Kinds = []string{
		"IngressRoute", "IngressRouteTCP", "IngressRouteUDP", "Middleware", "MiddlewareTCP",
		"TraefikService", "TLSOption", "TLSStore", "ServersTransport", "ServersTransportTCP",
	}
	traefikV3Middlewares = []string{
		"addPrefix", "basicAuth", "buffering", "chain", "circuitBreaker", "compress", "contentType",
		"digestAuth", "encodedCharacters", "errors", "forwardAuth", "grpcWeb", "headers", "inFlightReq",
		"ipAllowList", "ipWhiteList", "passTLSClientCert", "plugin", "rateLimit", "redirectRegex",
		"redirectScheme", "replacePath", "replacePathRegex", "retry", "stripPrefix", "stripPrefixRegex",
	}
	traefikV3MiddlewaresTCP = []string{"inFlightConn", "ipAllowList", "ipWhiteList"}
)

// compatRow is one row of the table: the thing (a kind, or a middleware type of Middleware
// or MiddlewareTCP) and its state.
type compatRow struct {
	kind, mwType string // mwType empty for a kind's row
	state, how   string
	line         string
}

func (r compatRow) key() string {
	if r.mwType == "" {
		return "`" + r.kind + "`"
	}
	return r.kind + " `" + r.mwType + "`"
}

// probe is the tiny manifest of a row: the object, named probe, in a Traefik API group;
// each needs only what compatBase provides.
func (r compatRow) probe() string {
	head := func(kind string) string {
		return fmt.Sprintf("---\napiVersion: traefik.io/v1alpha1\nkind: %s\nmetadata: {name: %s, namespace: default}\n", kind, r.probeName())
	}
	if r.mwType != "" {
		spec, ok := middlewareProbes[r.kind][r.mwType]
		if !ok {
			spec = "{}"
		}
		return head(r.kind) + "spec:\n  " + r.mwType + ": " + spec + "\n" + middlewareProbeExtras[r.mwType]
	}
	return head(r.kind) + kindProbes[r.kind]
}

// probeName is the probe object's name: probe, but a TLSStore is used only when named
// default (as in Traefik).
func (r compatRow) probeName() string {
	if r.kind == translate.KindTLSStore {
		return "default"
	}
	return "probe"
}

// kindProbes are minimal, valid specs of each kind (what a Traefik user would write).
var kindProbes = map[string]string{
	"IngressRoute":        "spec:\n  routes:\n  - match: Host(`probe.example.test`)\n    services: [{name: whoami, port: 80}]\n",
	"IngressRouteTCP":     "spec:\n  routes:\n  - match: HostSNI(`probe.example.test`)\n    services: [{name: whoami, port: 80}]\n  tls: {passthrough: true}\n",
	"IngressRouteUDP":     "spec:\n  routes:\n  - services: [{name: dns, port: 53}]\n",
	"Middleware":          "spec:\n  addPrefix: {prefix: /probe}\n",
	"MiddlewareTCP":       "spec:\n  ipAllowList: {sourceRange: [10.0.0.0/8]}\n",
	"TraefikService":      "spec:\n  weighted:\n    services: [{name: whoami, port: 80}]\n",
	"TLSOption":           "spec:\n  minVersion: VersionTLS12\n",
	"TLSStore":            "spec:\n  defaultCertificate: {secretName: edge-tls}\n",
	"ServersTransport":    "spec:\n  serverName: whoami.default.svc\n  rootCAsSecrets: [backend-ca]\n",
	"ServersTransportTCP": "spec:\n  dialTimeout: 5s\n",
}

// middlewareProbes are minimal, valid settings of each middleware type, as Traefik's
// documentation shows them.
var middlewareProbes = map[string]map[string]string{
	"Middleware": {
		"addPrefix":         "{prefix: /probe}",
		"basicAuth":         "{secret: htpasswd}",
		"buffering":         "{maxRequestBodyBytes: 2000000}",
		"chain":             "{middlewares: [{name: probe-member}]}",
		"circuitBreaker":    `{expression: "NetworkErrorRatio() > 0.5"}`,
		"compress":          "{}",
		"contentType":       "{}",
		"digestAuth":        "{secret: htdigest}",
		"encodedCharacters": "{allowEncodedSlash: true}",
		"errors":            `{status: ["500-599"], service: {name: whoami, port: 80}, query: "/{status}.html"}`,
		"forwardAuth":       `{address: "http://whoami.default.svc/auth"}`,
		"grpcWeb":           `{allowOrigins: ["*"]}`,
		"headers":           `{customRequestHeaders: {X-Probe: "on"}}`,
		"inFlightReq":       "{amount: 10}",
		"ipAllowList":       "{sourceRange: [10.0.0.0/8]}",
		"ipWhiteList":       "{sourceRange: [10.0.0.0/8]}",
		"passTLSClientCert": "{pem: true}",
		"plugin":            "{demo: {header: x}}",
		"rateLimit":         "{average: 10, burst: 20}",
		"redirectRegex":     `{regex: "^http://(.*)$", replacement: "https://${1}"}`,
		"redirectScheme":    "{scheme: https}",
		"replacePath":       "{path: /probe}",
		"replacePathRegex":  `{regex: "^/a/(.*)", replacement: "/b/$1"}`,
		"retry":             "{attempts: 3}",
		"stripPrefix":       "{prefixes: [/probe]}",
		"stripPrefixRegex":  `{regex: ["^/[a-z]+"]}`,
	},
	"MiddlewareTCP": {
		"inFlightConn": "{amount: 5}",
		"ipAllowList":  "{sourceRange: [10.0.0.0/8]}",
		"ipWhiteList":  "{sourceRange: [10.0.0.0/8]}",
	},
}

// middlewareProbeExtras are objects a probe names besides compatBase's.
var middlewareProbeExtras = map[string]string{
	"chain": "---\napiVersion: traefik.io/v1alpha1\nkind: Middleware\nmetadata: {name: probe-member, namespace: default}\nspec:\n  addPrefix: {prefix: /member}\n",
}

// compatBase is what every probe may name: a Service with an endpoint (whoami, TCP; dns,
// UDP), the Secrets.
func compatBase() string {
	compatPKIOnce.Do(func() {
		ca := pki.MustCA("compat probe CA")
		compatCA = string(ca.PEM)
		leaf := ca.MustIssue("probe.example.test", pki.Options{DNSNames: []string{"probe.example.test"}})
		compatCert, compatKey = string(leaf.CertPEM), string(leaf.KeyPEM)
	})
	return `---
apiVersion: v1
kind: Service
metadata: {name: whoami, namespace: default}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: whoami-1, namespace: default, labels: {kubernetes.io/service-name: whoami}}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints: [{addresses: [192.0.2.10]}]
---
apiVersion: v1
kind: Service
metadata: {name: dns, namespace: default}
spec:
  ports: [{name: dns, port: 53, protocol: UDP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: dns-1, namespace: default, labels: {kubernetes.io/service-name: dns}}
addressType: IPv4
ports: [{name: dns, port: 5353, protocol: UDP}]
endpoints: [{addresses: [192.0.2.11]}]
---
apiVersion: v1
kind: Secret
metadata: {name: htpasswd, namespace: default}
stringData:
  users: "alice:` + htpasswd.SHA1Hash([]byte("secret")) + `"
---
apiVersion: v1
kind: Secret
metadata: {name: htdigest, namespace: default}
stringData:
  users: "alice:traefik:` + htpasswd.HA1("alice", "traefik", "secret") + `"
---
apiVersion: v1
kind: Secret
metadata: {name: backend-ca, namespace: default}
stringData:
  ca.crt: |
` + indent(compatCA, "    ") + `
---
apiVersion: v1
kind: Secret
metadata: {name: edge-tls, namespace: default}
type: kubernetes.io/tls
stringData:
  tls.crt: |
` + indent(compatCert, "    ") + `
  tls.key: |
` + indent(compatKey, "    ") + `
`
}

var (
	compatPKIOnce                   sync.Once
	compatCA, compatCert, compatKey string
)

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n"+prefix)
}

// verdict is what the code does with a row's probe.
type verdict struct {
	ready bool
	// why is the Ready condition (or the loader's problem) for messages.
	why string
	// refusedFields are the Traefik fields of the thing that traefikFields refuses (some
	// or all values): a row with any may not say plain "served".
	refusedFields []string
}

func (r compatRow) verdict(t *testing.T) verdict {
	t.Helper()
	res, err := LoadStream("probe.yaml", []byte(compatBase()+r.probe()))
	if err != nil {
		t.Fatal(err)
	}
	v := verdict{refusedFields: r.refusedFields()}
	opts := translate.DefaultOptions()
	opts.GatewayNamespace = "default"
	_, statuses := translate.Translate(res.Inputs, opts)
	st, ok := statuses[translate.Key{Kind: r.kind, Namespace: "default", Name: r.probeName()}]
	if !ok {
		var problems []string
		for _, p := range res.Problems {
			problems = append(problems, p.String())
		}
		v.why = "not read: " + strings.Join(problems, "; ")
		return v
	}
	c := st.Condition("Ready")
	if c == nil {
		v.why = "no Ready condition"
		return v
	}
	v.ready = c.Status == "True"
	v.why = fmt.Sprintf("Ready=%s %s: %s", c.Status, c.Reason, c.Message)
	return v
}

// refusedFields lists traefikFields' entries under the row's thing. A field served for
// every value it can take (a boolean accepted as true and false) is no difference.
func (r compatRow) refusedFields() []string {
	prefix := "spec."
	if r.mwType != "" {
		prefix = "spec." + r.mwType + "."
	}
	var out []string
	for _, f := range traefikFields {
		if f.kind != r.kind || !strings.HasPrefix(f.path, prefix) {
			continue
		}
		if len(f.accept) == 2 && f.accept[0] == true && f.accept[1] == false {
			continue
		}
		if r.mwType == "" && r.kind == translate.KindMiddleware || r.mwType == "" && r.kind == translate.KindMiddlewareTCP {
			// The kind's row stands for the kind; its types have rows of their own.
			if strings.Count(f.path, ".") == 1 {
				continue
			}
		}
		out = append(out, f.path)
	}
	return out
}

var compatRowRE = regexp.MustCompile("^\\| (?:`([A-Za-z]+)`|(Middleware|MiddlewareTCP) `([A-Za-z]+)`) \\| ([a-z ]+) \\|(.*)\\|$")

// readCompatTable reads the rows between the markers of README.md.
func readCompatTable(t *testing.T) []compatRow {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	begin, end := strings.Index(text, compatBegin), strings.Index(text, compatEnd)
	if begin < 0 || end < begin {
		t.Fatalf("README.md has no Traefik compatibility table between %q and %q", compatBegin, compatEnd)
	}
	var rows []compatRow
	for _, line := range strings.Split(text[begin+len(compatBegin):end], "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| Traefik v3 ") || strings.HasPrefix(line, "| ---") {
			continue
		}
		m := compatRowRE.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("README.md, Traefik compatibility table: row %q is not of the form | `Kind` | state | how | or | Middleware `type` | state | how |", line)
			continue
		}
		r := compatRow{kind: m[1], state: m[4], how: strings.TrimSpace(m[5]), line: line}
		if m[1] == "" {
			r.kind, r.mwType = m[2], m[3]
		}
		rows = append(rows, r)
	}
	return rows
}

// TestREADMECompatibilityTable: every Traefik v3 kind and middleware type has one row, and
// no row claims more (or less) than the code does.
func TestREADMECompatibilityTable(t *testing.T) {
	rows := readCompatTable(t)
	want := map[string]compatRow{}
	for _, k := range traefikV3Kinds {
		want["`"+k+"`"] = compatRow{kind: k}
	}
	for _, m := range traefikV3Middlewares {
		r := compatRow{kind: translate.KindMiddleware, mwType: m}
		want[r.key()] = r
	}
	for _, m := range traefikV3MiddlewaresTCP {
		r := compatRow{kind: translate.KindMiddlewareTCP, mwType: m}
		want[r.key()] = r
	}
	seen := map[string]bool{}
	for _, r := range rows {
		k := r.key()
		switch {
		case seen[k]:
			t.Errorf("README.md, Traefik compatibility table: %s has two rows; keep one", k)
		case want[k].kind == "":
			t.Errorf("README.md, Traefik compatibility table: row %s is not a Traefik v3 kind or middleware type; remove it", k)
		}
		seen[k] = true
	}
	var missing []string
	for k := range want {
		if !seen[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	for _, k := range missing {
		r := want[k]
		v := r.verdict(t)
		state := stateRefused
		if v.ready {
			state = stateServed
			if len(v.refusedFields) > 0 {
				state = stateServedDifferently
			}
		}
		t.Errorf("README.md, Traefik compatibility table: no row for %s; add | %s | %s | ... | (the code: %s)", k, k, state, v.why)
	}

	for _, r := range rows {
		if want[r.key()].kind == "" {
			continue
		}
		t.Run(strings.NewReplacer("`", "", " ", "/").Replace(r.key()), func(t *testing.T) {
			v := r.verdict(t)
			fix := func(state, because string) {
				how := r.how
				if (state == stateRefused) != (r.state == stateRefused) {
					how = "<how it is served>"
					if state == stateRefused {
						how = "<why not, and what to do instead>"
					}
				}
				t.Errorf("README.md, Traefik compatibility table: row %s says %q, but %s: change the row to\n  | %s | %s | %s |\n(the code: %s)", r.key(), r.state, because, r.key(), state, how, v.why)
			}
			switch r.state {
			case stateServed, stateServedDifferently:
				if !v.ready {
					fix(stateRefused, "the code refuses it (the probe manifest is not Ready)")
					return
				}
				if r.state == stateServed && len(v.refusedFields) > 0 {
					fix(stateServedDifferently, "some of its Traefik fields are refused ("+strings.Join(v.refusedFields, ", ")+"); say how")
				}
			case stateRefused:
				if v.ready {
					state := stateServed
					if len(v.refusedFields) > 0 {
						state = stateServedDifferently
					}
					fix(state, "the code serves it (the probe manifest is Ready)")
				}
			default:
				t.Errorf("README.md, Traefik compatibility table: row %s has state %q; write %q, %q or %q", r.key(), r.state, stateServed, stateServedDifferently, stateRefused)
			}
			if r.state != stateServed && strings.TrimSpace(r.how) == "" {
				t.Errorf("README.md, Traefik compatibility table: row %s says %q without saying how or why", r.key(), r.state)
			}
		})
	}
}

// TestCompatibilityListsAreTraefiks: the fixed lists of kinds and middleware types are
// those of Traefik's CRDs as testdata/traefik-v3.7.9.txt holds them (generated from
// Traefik's own YAML by hack/traefikfields).
func TestCompatibilityListsAreTraefiks(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "traefik-v3.7.9.txt"))
	if err != nil {
		t.Fatal(err)
	}
	kinds, mws, mwsTCP := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(line, "#") {
			continue
		}
		kinds[f[0]] = true
		parts := strings.Split(f[1], ".")
		if len(parts) < 2 {
			continue
		}
		switch f[0] {
		case translate.KindMiddleware:
			mws[parts[1]] = true
		case translate.KindMiddlewareTCP:
			mwsTCP[parts[1]] = true
		}
	}
	same := func(what string, list []string, set map[string]bool) {
		got := append([]string(nil), list...)
		sort.Strings(got)
		var want []string
		for k := range set {
			want = append(want, k)
		}
		sort.Strings(want)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: the list is %v, Traefik v3.7.9 has %v", what, got, want)
		}
	}
	same("traefikV3Kinds", traefikV3Kinds, kinds)
	same("traefikV3Middlewares", traefikV3Middlewares, mws)
	same("traefikV3MiddlewaresTCP", traefikV3MiddlewaresTCP, mwsTCP)
}
