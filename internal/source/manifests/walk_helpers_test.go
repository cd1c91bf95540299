package manifests

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/config/crd"
	"github.com/bridgehead/bridgehead/internal/crdfields"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// The schema-walk tests (schemawalk_test.go, traefikwalk_test.go) set one field at a time
// on the object of its kind in one scenario where every kind is used, then load it as a
// folder would be and translate it.

// walkObject is the object of each kind that a field is set on.
var walkObject = map[string]translate.Key{
	translate.KindIngressRoute:        {Kind: translate.KindIngressRoute, Namespace: "web", Name: "app"},
	translate.KindIngressRouteTCP:     {Kind: translate.KindIngressRouteTCP, Namespace: "web", Name: "db"},
	translate.KindIngressRouteUDP:     {Kind: translate.KindIngressRouteUDP, Namespace: "web", Name: "dns"},
	translate.KindMiddleware:          {Kind: translate.KindMiddleware, Namespace: "web", Name: "mw"},
	translate.KindMiddlewareTCP:       {Kind: translate.KindMiddlewareTCP, Namespace: "web", Name: "mwt"},
	translate.KindServersTransport:    {Kind: translate.KindServersTransport, Namespace: "web", Name: "st"},
	translate.KindServersTransportTCP: {Kind: translate.KindServersTransportTCP, Namespace: "web", Name: "stt"},
	translate.KindTLSOption:           {Kind: translate.KindTLSOption, Namespace: "web", Name: "opts"},
	translate.KindTLSStore:            {Kind: translate.KindTLSStore, Namespace: "bridgehead", Name: "default"},
	translate.KindTraefikService:      {Kind: translate.KindTraefikService, Namespace: "web", Name: "split"},
}

// middlewareTypes are a complete, valid value of each middleware type: a Middleware (or
// MiddlewareTCP) holds one type, so a field of another type is set on one of these.
var middlewareTypes = map[string]map[string]string{
	translate.KindMiddleware: {
		"addPrefix":         `{prefix: /p}`,
		"headers":           `{}`,
		"ipAllowList":       `{sourceRange: [10.0.0.0/8]}`,
		"ipWhiteList":       `{sourceRange: [10.0.0.0/8]}`,
		"passTLSClientCert": `{pem: true, info: {}}`,
		"rateLimit":         `{average: 10}`,
		"buffering":         `{maxRequestBodyBytes: 1000}`,
		"retry":             `{attempts: 2}`,
		"errors":            `{status: ["500-599"], service: {name: app, port: 443}}`,
		"circuitBreaker":    `{expression: "NetworkErrorRatio() > 0.5"}`,
		"chain":             `{middlewares: [{name: mw2}]}`,
		"inFlightReq":       `{amount: 10, sourceCriterion: {ipStrategy: {}}}`,
		"redirectScheme":    `{scheme: https}`,
		"replacePath":       `{path: /r}`,
		"stripPrefix":       `{prefixes: [/a]}`,
		"tlsClientSubject":  `{pattern: CN=a}`,
		"basicAuth":         `{secret: walk-users}`,
		"digestAuth":        `{secret: walk-digest}`,
		"forwardAuth":       `{address: "https://127.0.0.2:8443/auth"}`,
		"replacePathRegex":  `{regex: ^/a, replacement: /b}`,
		"stripPrefixRegex":  `{regex: [/a]}`,
		"redirectRegex":     `{regex: ^http://a/, replacement: https://b/}`,
		"contentType":       `{}`,
		"compress":          `{}`,
		"grpcWeb":           `{allowOrigins: ["*"]}`,
	},
	translate.KindMiddlewareTCP: {
		"inFlightConn": `{amount: 5}`,
		"ipAllowList":  `{sourceRange: [10.0.0.0/8]}`,
		"ipWhiteList":  `{sourceRange: [10.0.0.0/8]}`,
	},
	// A TraefikService is weighted or mirroring; the weighted one is the scenario's own.
	// (Traefik's other variants are set beside it: the loader refuses them first.)
	translate.KindTraefikService: {
		"weighted":            `{services: [{name: app, port: 443, serversTransport: st, weight: 3}, {name: app, port: 443, serversTransport: st}]}`,
		"mirroring":           `{name: app, port: 443, serversTransport: st, mirrors: [{name: app, port: 443, serversTransport: st, percent: 10}]}`,
		"failover":            `{service: {name: app, port: 443, serversTransport: st}, fallback: {name: app, port: 443, serversTransport: st}}`,
		"highestRandomWeight": `{services: [{name: app, port: 443, serversTransport: st, weight: 3}, {name: app, port: 443, serversTransport: st}]}`,
	},
}

const walkScenario = `apiVersion: GROUP/v1alpha1
kind: IngressRoute
metadata: {name: app, namespace: web}
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(` + "`app.example.com`" + `)
    middlewares: [{name: mw}]
    services: [{name: app, port: 443, serversTransport: st}]
  - match: Host(` + "`split.example.com`" + `)
    services: [{name: split, kind: TraefikService}]
  tls: {secretName: edge-tls, options: {name: opts}}
---
apiVersion: GROUP/v1alpha1
kind: IngressRouteTCP
metadata: {name: db, namespace: web}
spec:
  entryPoints: [websecure]
  routes:
  - match: HostSNI(` + "`db.example.com`" + `)
    middlewares: [{name: mwt}]
    services: [{name: db, port: 5432, serversTransport: stt}]
  tls: {secretName: edge-tls, options: {name: opts}}
---
apiVersion: GROUP/v1alpha1
kind: IngressRouteUDP
metadata: {name: dns, namespace: web}
spec:
  entryPoints: [dns]
  routes:
  - services: [{name: dns, port: 53}]
---
apiVersion: GROUP/v1alpha1
kind: TraefikService
metadata: {name: split, namespace: web}
spec:
  weighted:
    services: [{name: app, port: 443, serversTransport: st, weight: 3}, {name: app, port: 443, serversTransport: st}]
---
apiVersion: GROUP/v1alpha1
kind: Middleware
metadata: {name: mw, namespace: web}
spec: {addPrefix: {prefix: /p}}
---
apiVersion: GROUP/v1alpha1
kind: Middleware
metadata: {name: mw2, namespace: web}
spec: {addPrefix: {prefix: /q}}
---
apiVersion: GROUP/v1alpha1
kind: MiddlewareTCP
metadata: {name: mwt, namespace: web}
spec: {ipAllowList: {sourceRange: [10.0.0.0/8]}}
---
apiVersion: GROUP/v1alpha1
kind: MiddlewareTCP
metadata: {name: mwt2, namespace: web}
spec: {inFlightConn: {amount: 3}}
---
apiVersion: GROUP/v1alpha1
kind: ServersTransport
metadata: {name: st, namespace: web}
spec: {serverName: app.web.svc, rootCAs: [{secret: backend-ca}]}
---
apiVersion: GROUP/v1alpha1
kind: ServersTransport
metadata: {name: st2, namespace: web}
spec: {serverName: other.web.svc, rootCAs: [{secret: other-ca}]}
---
apiVersion: GROUP/v1alpha1
kind: ServersTransportTCP
metadata: {name: stt, namespace: web}
spec: {tls: {rootCAs: [{secret: backend-ca}]}}
---
apiVersion: GROUP/v1alpha1
kind: ServersTransportTCP
metadata: {name: stt2, namespace: web}
spec: {dialTimeout: 3s}
---
apiVersion: GROUP/v1alpha1
kind: TLSOption
metadata: {name: opts, namespace: web}
spec: {minVersion: VersionTLS12}
---
apiVersion: GROUP/v1alpha1
kind: TLSOption
metadata: {name: opts2, namespace: web}
spec: {minVersion: VersionTLS13}
---
apiVersion: GROUP/v1alpha1
kind: TLSStore
metadata: {name: default, namespace: bridgehead}
spec: {defaultCertificate: {secretName: store-tls}}
`

// walkCerts are the certificates of the scenario, made once.
var walkCerts = sync.OnceValue(func() string {
	edgeCA, backendCA, otherCA := pki.MustCA("edge CA"), pki.MustCA("backend CA"), pki.MustCA("other CA")
	leaf := func(name string) *pki.Leaf {
		return edgeCA.MustIssue(name, pki.Options{DNSNames: []string{name}})
	}
	var b strings.Builder
	secret := func(ns, name string, data map[string][]byte) {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\ndata:\n", name, ns)
		for k, v := range data {
			fmt.Fprintf(&b, "  %s: %s\n", k, base64.StdEncoding.EncodeToString(v))
		}
	}
	tlsData := func(l *pki.Leaf) map[string][]byte {
		return map[string][]byte{"tls.crt": l.CertPEM, "tls.key": l.KeyPEM}
	}
	secret("web", "edge-tls", tlsData(leaf("app.example.com")))
	secret("web", "edge2-tls", tlsData(leaf("app2.example.com")))
	secret("web", "gateway-client", tlsData(backendCA.MustIssue("gateway", pki.Options{})))
	secret("web", "backend-ca", map[string][]byte{"ca.crt": backendCA.PEM})
	secret("web", "other-ca", map[string][]byte{"ca.crt": otherCA.PEM})
	secret("web", "client-ca", map[string][]byte{"ca.crt": otherCA.PEM})
	secret("web", "walk-users", map[string][]byte{"users": []byte("walk:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n")})
	secret("web", "walk-users2", map[string][]byte{"users": []byte("walk2:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n")})
	secret("web", "walk-digest", map[string][]byte{"users": []byte("walk:traefik:c2a7823aebec411c0e8ade062c675f23\nwalk:Staff:e0dc4b0e900ef6a03d0e7cbff51a863e\n")})
	secret("web", "walk-digest2", map[string][]byte{"users": []byte("walk2:traefik:73383997d6afda75e164a5bfd7efafe1\n")})
	secret("bridgehead", "store-tls", tlsData(leaf("store.example.com")))
	secret("bridgehead", "store2-tls", tlsData(leaf("store2.example.com")))
	for _, svc := range []struct{ ns, name string }{{"web", "app"}, {"web", "app2"}, {"other", "app"}, {"web", "db"}, {"web", "db2"}} {
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: Service
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  ports: [{name: https, port: 443}, {name: http, port: 80}, {name: pg, port: 5432}, {name: pg2, port: 5433}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: %[2]s-1, namespace: %[1]s, labels: {kubernetes.io/service-name: %[2]s}}
addressType: IPv4
ports: [{name: https, port: 8443}, {name: http, port: 8080}, {name: pg, port: 15432}, {name: pg2, port: 15433}]
endpoints: [{addresses: [10.0.0.1]}]
`, svc.ns, svc.name)
	}
	for _, svc := range []struct{ ns, name string }{{"web", "dns"}, {"web", "dns2"}, {"other", "dns"}} {
		fmt.Fprintf(&b, `---
apiVersion: v1
kind: Service
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  ports: [{name: dns, port: 53, protocol: UDP}, {name: dns-alt, port: 5353, protocol: UDP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: %[2]s-1, namespace: %[1]s, labels: {kubernetes.io/service-name: %[2]s}}
addressType: IPv4
ports: [{name: dns, port: 10053, protocol: UDP}, {name: dns-alt, port: 15353, protocol: UDP}]
endpoints: [{addresses: [10.0.0.2]}]
`, svc.ns, svc.name)
	}
	fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: roots, namespace: web}\ndata: {ca.crt: %s}\n", quote(string(backendCA.PEM)))
	return b.String()
})

// scenario is the walk scenario's objects, with the CRD kinds in group.
func scenario(t *testing.T, group string) []map[string]any {
	t.Helper()
	text := strings.ReplaceAll(walkScenario, "GROUP", group) + walkCerts()
	var out []map[string]any
	for _, doc := range strings.Split(text, "\n---\n") {
		if strings.TrimSpace(strings.Trim(doc, "-")) == "" {
			continue
		}
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("walk scenario: %v\n%s", err, doc)
		}
		out = append(out, obj)
	}
	return out
}

// objectOf returns the scenario's object of key.
func objectOf(t *testing.T, objs []map[string]any, key translate.Key) map[string]any {
	t.Helper()
	for _, o := range objs {
		meta, _ := o["metadata"].(map[string]any)
		if o["kind"] == key.Kind && meta["name"] == key.Name && meta["namespace"] == key.Namespace {
			return o
		}
	}
	t.Fatalf("walk scenario has no %s", key)
	return nil
}

// outcome is what one load and translation of the scenario gave.
type outcome struct {
	problems []string
	statuses translate.Statuses
	hash     string
	rendered string // the snapshot hash and every status, to compare outcomes
}

func run(t *testing.T, objs []map[string]any) outcome {
	t.Helper()
	docs := map[string][]byte{}
	for i, o := range objs {
		data, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		docs[fmt.Sprintf("%03d", i)] = data
	}
	res, err := LoadObjects(docs)
	if err != nil {
		t.Fatal(err)
	}
	opts := translate.DefaultOptions()
	opts.Now = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	snap, statuses := translate.Translate(res.Inputs, opts)
	if err := snap.Validate(); err != nil {
		t.Fatalf("translate made an invalid snapshot: %v", err)
	}
	out := outcome{statuses: statuses, hash: snap.Hash()}
	for _, p := range res.Problems {
		out.problems = append(out.problems, p.String())
	}
	var b strings.Builder
	b.WriteString(out.hash)
	for _, k := range statuses.Keys() {
		st, err := json.Marshal(statuses[k])
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("\n" + k.String() + " " + string(st))
	}
	out.rendered = b.String()
	return out
}

// ready returns the Ready condition of key ("", "" when it has no status).
func (o outcome) ready(key translate.Key) (status, reason, message string) {
	st := o.statuses[key]
	if st == nil {
		return "", "", ""
	}
	c := st.Condition(bhv1.ConditionReady)
	if c == nil {
		return "", "", ""
	}
	return string(c.Status), c.Reason, c.Message
}

// prepare readies obj for a field at path: a Middleware keeps only the type the field is
// of (complete and valid), and the field's missing parents are created, a list with one
// item. It returns the innermost parent and the field's name in it.
func prepare(t *testing.T, kind string, obj map[string]any, path string) (map[string]any, string) {
	t.Helper()
	parts := strings.Split(path, ".")
	// A Middleware's spec is replaced by the skeleton of the field's type; a
	// TraefikService's only for its own variants.
	if types, ok := middlewareTypes[kind]; ok && len(parts) > 1 && (kind != translate.KindTraefikService || types[strings.TrimSuffix(parts[1], "[]")] != "") {
		typ := strings.TrimSuffix(parts[1], "[]")
		spec := map[string]any{}
		if skeleton, ok := types[typ]; ok {
			var v any
			if err := yaml.Unmarshal([]byte(skeleton), &v); err != nil {
				t.Fatal(err)
			}
			spec[typ] = v
		}
		obj["spec"] = spec
	}
	cur := obj
	for _, part := range parts[:len(parts)-1] {
		name, isList := strings.CutSuffix(part, "[]")
		next, ok := cur[name]
		if !ok {
			if isList {
				next = []any{map[string]any{}}
			} else {
				next = map[string]any{}
			}
			cur[name] = next
		}
		if isList {
			list, _ := next.([]any)
			if len(list) == 0 {
				list = []any{map[string]any{}}
				cur[name] = list
			}
			next = list[0]
		}
		m, ok := next.(map[string]any)
		if !ok {
			t.Fatalf("%s: %s is not an object in the scenario", path, part)
		}
		cur = m
	}
	return cur, strings.TrimSuffix(parts[len(parts)-1], "[]")
}

// concrete is path with the first item of each list: spec.routes[0].services[0].port.
func concrete(path string) string { return strings.ReplaceAll(path, "[]", "[0]") }

// parseValue reads a sample written in YAML.
func parseValue(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("sample %q: %v", s, err)
	}
	return runtime.DeepCopyJSONValue(normalizeNumbers(v))
}

// normalizeNumbers turns YAML's float64 integers into int64, as the JSON decoder the
// loader uses would.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
	}
	return v
}

// ourFields are the spec fields of Bridgehead's CRDs.
var ourFields = sync.OnceValues(func() ([]crdfields.Field, error) {
	files, err := fs.Glob(crd.Bases, "bases/*.yaml")
	if err != nil {
		return nil, err
	}
	var out []crdfields.Field
	for _, f := range files {
		data, err := fs.ReadFile(crd.Bases, f)
		if err != nil {
			return nil, err
		}
		fields, err := crdfields.Parse(data, bhv1.GroupName, bhv1.GroupVersion.Version)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, fields...)
	}
	return out, nil
})

// quote is strconv.Quote, for messages.
func quote(s string) string { return strconv.Quote(s) }
