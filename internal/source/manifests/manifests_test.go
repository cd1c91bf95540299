package manifests

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/translate"
)

// writeFolder writes files (relative path -> content) into a new temporary folder.
func writeFolder(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func load(t *testing.T, files map[string]string) *Result {
	t.Helper()
	res, err := Load(writeFolder(t, files))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return res
}

func problemStrings(res *Result) []string {
	var out []string
	for _, p := range res.Problems {
		out = append(out, p.String())
	}
	return out
}

func keys(res *Result) []string {
	var out []string
	for k := range res.Origin.All() {
		out = append(out, k.String())
	}
	slices.Sort(out)
	return out
}

const quickstart = `# A comment before the first document does not make a document.
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata:
  name: web
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(` + "`web.example.com`" + `)
    services:
    - name: backend
      port: https
      serversTransport: backend
  tls:
    secretName: web-tls
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRouteTCP
metadata:
  name: db
  namespace: data
spec:
  routes:
  - match: HostSNI(` + "`db.example.com`" + `)
    services:
    - name: postgres
      port: 5432
      proxyProtocol: {}
  tls:
    passthrough: true
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: ServersTransport
metadata:
  name: backend
spec:
  serverName: backend.default.svc
  rootCAs:
  - secret: backend-ca
  forwardingTimeouts:
    dialTimeout: 5
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: TLSOption
metadata:
  name: default
  namespace: bridgehead
spec:
  minVersion: VersionTLS12
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: TLSStore
metadata:
  name: default
  namespace: bridgehead
spec:
  defaultCertificate:
    secretName: fallback
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: ServersTransportTCP
metadata:
  name: mqtt
spec:
  dialTimeout: 5s
---
apiVersion: gateway.bridgehead.dev/v1alpha1
kind: Middleware
metadata:
  name: hsts
spec:
  headers:
    customResponseHeaders:
      Strict-Transport-Security: max-age=31536000
---
apiVersion: v1
kind: Secret
metadata:
  name: web-tls
type: kubernetes.io/tls
data:
  tls.crt: Y2VydA==
  tls.key: a2V5
stringData:
  tls.key: plain key
  ca.crt: plain ca
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: corporate-roots
data:
  ca.crt: roots
---
apiVersion: v1
kind: Service
metadata:
  name: backend
spec:
  ports:
  - name: https
    port: 443
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-local
  labels:
    kubernetes.io/service-name: backend
addressType: IPv4
endpoints:
- addresses: [127.0.0.1]
ports:
- name: https
  port: 8443
`

func TestLoadQuickstart(t *testing.T) {
	dir := writeFolder(t, map[string]string{
		"quickstart/all.yaml":    quickstart,
		"quickstart/README.md":   "not a manifest",
		".hidden/skipped.yaml":   "this: [is not read",
		"quickstart/.swap.yaml":  "neither: [is this",
		"more/extra.yml":         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: other}\n",
		"more/kustomization.yml": "resources: [extra.yml]\n",
	})
	res, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) > 0 {
		t.Fatalf("unexpected problems:\n%s", strings.Join(problemStrings(res), "\n"))
	}
	in := res.Inputs
	counts := map[string]int{
		"IngressRoutes": len(in.IngressRoutes), "IngressRouteTCPs": len(in.IngressRouteTCPs), "TLSOptions": len(in.TLSOptions),
		"TLSStores": len(in.TLSStores), "ServersTransports": len(in.ServersTransports), "ServersTransportTCPs": len(in.ServersTransportTCPs),
		"Middlewares": len(in.Middlewares), "Secrets": len(in.Secrets), "ConfigMaps": len(in.ConfigMaps), "Services": len(in.Services),
		"EndpointSlices": len(in.EndpointSlices),
	}
	want := map[string]int{
		"IngressRoutes": 1, "IngressRouteTCPs": 1, "TLSOptions": 1, "TLSStores": 1, "ServersTransports": 1, "ServersTransportTCPs": 1,
		"Middlewares": 1, "Secrets": 1, "ConfigMaps": 2, "Services": 1, "EndpointSlices": 1,
	}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%s: got %d, want %d", k, counts[k], n)
		}
	}

	t.Run("secret data decoded and stringData merged", func(t *testing.T) {
		s := in.Secrets[0]
		got := map[string]string{}
		for k, v := range s.Data {
			got[k] = string(v)
		}
		wantData := map[string]string{"tls.crt": "cert", "tls.key": "plain key", "ca.crt": "plain ca"}
		if len(got) != len(wantData) {
			t.Errorf("data = %v, want %v", got, wantData)
		}
		for k, v := range wantData {
			if got[k] != v {
				t.Errorf("data[%s] = %q, want %q", k, got[k], v)
			}
		}
		if s.StringData != nil {
			t.Errorf("stringData left over: %v", s.StringData)
		}
	})

	t.Run("metadata as the API server sets it", func(t *testing.T) {
		ir := in.IngressRoutes[0]
		if ir.Namespace != "default" || ir.Generation != 1 {
			t.Errorf("namespace %q generation %d, want default and 1", ir.Namespace, ir.Generation)
		}
		if in.IngressRouteTCPs[0].Namespace != "data" {
			t.Errorf("explicit namespace lost: %q", in.IngressRouteTCPs[0].Namespace)
		}
		if !ir.CreationTimestamp.Before(&in.IngressRouteTCPs[0].CreationTimestamp) {
			t.Errorf("creation times do not follow file order: %v, %v", ir.CreationTimestamp, in.IngressRouteTCPs[0].CreationTimestamp)
		}
		again, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !again.Inputs.IngressRoutes[0].CreationTimestamp.Equal(&ir.CreationTimestamp) {
			t.Errorf("creation time not deterministic")
		}
	})

	t.Run("defaults", func(t *testing.T) {
		if v := in.IngressRouteTCPs[0].Spec.Routes[0].Services[0].ProxyProtocol.Version; v != 2 {
			t.Errorf("proxyProtocol.version = %d, want the schema default 2", v)
		}
		if d := in.ServersTransports[0].Spec.ForwardingTimeouts.DialTimeout; d == nil || *d != "5" {
			t.Errorf("dialTimeout = %v, want 5", d)
		}
		svc := in.Services[0]
		if svc.Spec.Type != corev1.ServiceTypeClusterIP || svc.Spec.Ports[0].Protocol != corev1.ProtocolTCP || svc.Spec.Ports[0].TargetPort.IntValue() != 443 {
			t.Errorf("service defaults not applied: %+v", svc.Spec)
		}
		if es := in.EndpointSlices[0]; es.Endpoints[0].Addresses[0] != "127.0.0.1" || *es.Ports[0].Protocol != corev1.ProtocolTCP {
			t.Errorf("endpoint slice: %+v", es)
		}
		if in.IngressRoutes[0].APIVersion != bhv1.GroupVersion.String() || in.IngressRoutes[0].Kind != "IngressRoute" {
			t.Errorf("type meta: %+v", in.IngressRoutes[0].TypeMeta)
		}
	})

	t.Run("origin", func(t *testing.T) {
		wantOrigin := map[translate.Key]string{
			{Kind: "IngressRoute", Namespace: "default", Name: "web"}:                 "quickstart/all.yaml#1",
			{Kind: "IngressRouteTCP", Namespace: "data", Name: "db"}:                  "quickstart/all.yaml#2",
			{Kind: "EndpointSlice", Namespace: "default", Name: "backend-local"}:      "quickstart/all.yaml#11",
			{Kind: "ConfigMap", Namespace: "other", Name: "extra"}:                    "more/extra.yml#1",
			{Kind: "TLSStore", Namespace: "bridgehead", Name: "default"}:              "quickstart/all.yaml#5",
			{Kind: "ServersTransportTCP", Namespace: "default", Name: "mqtt"}:         "quickstart/all.yaml#6",
			{Kind: "Secret", Namespace: "default", Name: "web-tls"}:                   "quickstart/all.yaml#8",
			{Kind: translate.KindTLSOption, Namespace: "bridgehead", Name: "default"}: "quickstart/all.yaml#4",
		}
		for k, v := range wantOrigin {
			if res.Origin.Of(k) != v {
				t.Errorf("Origin[%s] = %q, want %q", k, res.Origin.Of(k), v)
			}
		}
		if res.Origin.Len() != 12 {
			t.Errorf("Origin has %d objects, want 12: %v", res.Origin.Len(), keys(res))
		}
	})
}

func TestLoadProblems(t *testing.T) {
	const valid = `apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata:
  name: good
spec:
  routes:
  - match: Host(` + "`good.example`" + `)
    services:
    - name: backend
      port: 80
`
	cases := []struct {
		name string
		doc  string
		// want are substrings, each of which must appear in some Problem.String().
		want []string
	}{
		{
			name: "bad YAML, line numbers are the file's",
			doc:  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [oops\n",
			want: []string{"f.yaml#2: invalid YAML: yaml: line 15:"},
		},
		{
			name: "unknown field in our group",
			doc: `apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata: {name: bad}
spec:
  routes:
  - match: Host(` + "`a`" + `)
    services:
    - {name: b, port: 80, nativeLB: true}
`,
			want: []string{`f.yaml#2 spec.routes[0].services[0].nativeLB: unknown field "spec.routes[0].services[0].nativeLB"`},
		},
		{
			name: "unknown metadata field",
			doc:  "apiVersion: gateway.bridgehead.dev/v1alpha1\nkind: Middleware\nmetadata: {name: m, labelz: {a: b}}\nspec: {addPrefix: {prefix: /a}}\n",
			want: []string{`f.yaml#2 metadata.labelz: unknown field "metadata.labelz"`},
		},
		{
			name: "wrong type",
			doc: `apiVersion: gateway.bridgehead.dev/v1alpha1
kind: IngressRoute
metadata: {name: bad}
spec:
  routes:
  - match: Host(` + "`a`" + `)
    priority: high
    services:
    - {name: b, port: 80}
`,
			want: []string{`f.yaml#2 spec.routes[0].priority: Invalid value: "string": spec.routes[0].priority in body must be of type integer`},
		},
		{
			name: "invalid value, CEL rule",
			doc:  "apiVersion: gateway.bridgehead.dev/v1alpha1\nkind: TLSOption\nmetadata: {name: t}\nspec: {minVersion: VersionTLS13, maxVersion: VersionTLS12}\n",
			want: []string{"f.yaml#2 spec: Invalid value: minVersion must not be newer than maxVersion"},
		},
		{
			name: "wrong type in a core kind",
			doc:  "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - port: https\n",
			want: []string{"f.yaml#2 spec.ports.port: json: cannot unmarshal string"},
		},
		{
			name: "unknown field in a core kind",
			doc:  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndatum: {a: b}\n",
			want: []string{`f.yaml#2 datum: unknown field "datum"`},
		},
		{
			name: "secret data not base64",
			doc:  "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {ca.crt: '-----BEGIN'}\n",
			want: []string{"f.yaml#2 data[ca.crt]: Invalid value"},
		},
		{
			name: "TLS secret without key",
			doc:  "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/tls\nstringData: {tls.crt: x}\n",
			want: []string{"f.yaml#2 data[tls.key]: Required value"},
		},
		{
			name: "invalid name",
			doc:  "apiVersion: gateway.bridgehead.dev/v1alpha1\nkind: Middleware\nmetadata: {name: Bad_Name}\nspec: {addPrefix: {prefix: /a}}\n",
			want: []string{`f.yaml#2 metadata.name: Invalid value: "Bad_Name"`},
		},
		{
			name: "missing name",
			doc:  "apiVersion: gateway.bridgehead.dev/v1alpha1\nkind: Middleware\nspec: {addPrefix: {prefix: /a}}\n",
			want: []string{"f.yaml#2 metadata.name: Required value"},
		},
		{
			name: "missing apiVersion and kind",
			doc:  "metadata: {name: x}\n",
			want: []string{"f.yaml#2 apiVersion: apiVersion not set", "f.yaml#2 kind: kind not set"},
		},
		{
			name: "unknown kind",
			doc:  "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
			want: []string{`f.yaml#2 kind: no matches for kind "Deployment" in version "apps/v1"`},
		},
		{
			name: "unknown version of our group",
			doc:  "apiVersion: gateway.bridgehead.dev/v1\nkind: IngressRoute\nmetadata: {name: d}\n",
			want: []string{`no matches for kind "IngressRoute" in version "gateway.bridgehead.dev/v1"`},
		},
		{
			name: "Ingress in an unknown version",
			doc:  "apiVersion: networking.k8s.io/v2\nkind: Ingress\nmetadata: {name: i}\nspec: {}\n",
			want: []string{"networking.k8s.io/v2", "networking.k8s.io/v1 Ingress and IngressClass"},
		},
		{
			// Every Traefik v3 kind is read; a kind Traefik does not have is named as such.
			name: "Traefik kind we lack",
			doc:  "apiVersion: traefik.io/v1alpha1\nkind: ServersTransportUDP\nmetadata: {name: t}\nspec: {}\n",
			want: []string{"f.yaml#2 kind: traefik.io/v1alpha1 ServersTransportUDP is not served: it is not a kind Bridgehead reads"},
		},
		{
			name: "not a mapping",
			doc:  "- a\n- b\n",
			want: []string{"f.yaml#2: a document must be a YAML mapping"},
		},
		{
			name: "duplicate",
			doc:  strings.Replace(valid, "Host(", "PathPrefix(`/`) || Host(", 1),
			want: []string{"f.yaml#2 metadata.name: IngressRoute default/good is already defined in f.yaml#1"},
		},
		{
			name: "endpoint slice without service name",
			doc:  "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e}\naddressType: IPv4\nendpoints: [{addresses: [10.0.0.1]}]\n",
			want: []string{"f.yaml#2 metadata.labels[kubernetes.io/service-name]: Required value"},
		},
		{
			name: "endpoint slice with a bad address",
			doc:  "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: e, labels: {kubernetes.io/service-name: s}}\naddressType: IPv4\nendpoints: [{addresses: ['::1']}]\n",
			want: []string{`f.yaml#2 endpoints[0].addresses[0]: Invalid value: "::1": must be a valid IPv4 address`},
		},
	}
	const trailer = "apiVersion: v1\nkind: Service\nmetadata: {name: after}\nspec: {ports: [{port: 80}]}\n"
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The broken document sits between two valid ones in the same file.
			res := load(t, map[string]string{"f.yaml": valid + "---\n" + tc.doc + "---\n" + trailer})
			got := problemStrings(res)
			for _, w := range tc.want {
				if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, w) }) {
					t.Errorf("no problem contains %q; problems:\n%s", w, strings.Join(got, "\n"))
				}
			}
			for _, p := range res.Problems {
				if p.File != "f.yaml" || p.Doc != 2 {
					t.Errorf("problem on the wrong document: %s", p)
				}
			}
			if len(res.Inputs.IngressRoutes) != 1 || res.Inputs.IngressRoutes[0].Name != "good" {
				t.Errorf("the valid document before the broken one did not load")
			}
			if len(res.Inputs.Services) != 1 || res.Origin.Of(translate.Key{Kind: "Service", Namespace: "default", Name: "after"}) != "f.yaml#3" {
				t.Errorf("the valid document after the broken one did not load: %v", res.Origin.Map())
			}
		})
	}
}

func TestProblemString(t *testing.T) {
	cases := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "quickstart/route.yaml", Doc: 2, Field: "spec.routes[0].services[0].port", Message: "bad"}, "quickstart/route.yaml#2 spec.routes[0].services[0].port: bad"},
		{Problem{File: "a.yaml", Doc: 1, Message: "invalid YAML"}, "a.yaml#1: invalid YAML"},
		{Problem{File: "sub", Message: "permission denied"}, "sub: permission denied"},
	}
	for _, tc := range cases {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

// TestInvalidExamples loads each hack/invalid-examples file on its own: each must give the
// message of its "# expect:" line, as kubectl apply would print it.
func TestInvalidExamples(t *testing.T) {
	files, err := filepath.Glob("../../../hack/invalid-examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no invalid examples found")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var expects []string
			sc := bufio.NewScanner(bytes.NewReader(data))
			for sc.Scan() {
				if e, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "# expect:"); ok {
					expects = append(expects, strings.TrimSpace(e))
				}
			}
			if len(expects) == 0 {
				t.Fatalf("%s has no # expect: line", f)
			}
			res := load(t, map[string]string{filepath.Base(f): string(data)})
			got := problemStrings(res)
			for _, e := range expects {
				if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, e) }) {
					t.Errorf("want a problem containing %q; got:\n%s", e, strings.Join(got, "\n"))
				}
			}
			if res.Origin.Len() != 0 {
				t.Errorf("an invalid object was loaded: %v", keys(res))
			}
		})
	}
}

func TestSamples(t *testing.T) {
	files, err := filepath.Glob("../../../config/samples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no samples found")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			res := load(t, map[string]string{filepath.Base(f): string(data)})
			if len(res.Problems) > 0 {
				t.Errorf("problems:\n%s", strings.Join(problemStrings(res), "\n"))
			}
			if filepath.Base(f) != "kustomization.yaml" && res.Origin.Len() == 0 {
				t.Errorf("no object loaded")
			}
		})
	}
	t.Run("whole folder", func(t *testing.T) {
		res, err := Load("../../../config/samples")
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Problems) > 0 {
			t.Errorf("problems:\n%s", strings.Join(problemStrings(res), "\n"))
		}
	})
}

const traefikManifests = `apiVersion: traefik.containo.us/v1alpha1
kind: IngressRoute
metadata:
  name: web
  namespace: apps
spec:
  entryPoints: [websecure]
  routes:
  - match: Host(` + "`web.example.com`" + `)
    kind: Rule
    observability:
      accessLogs: false
    services:
    - name: backend
      port: 443
      scheme: https
      serversTransport: backend-tls
      nativeLB: true
      sticky:
        cookie:
          name: s
          partitioned: true
  tls:
    secretName: web-tls
    certResolver: le
    options:
      name: mtls
---
apiVersion: traefik.containo.us/v1alpha1
kind: ServersTransport
metadata:
  name: backend-tls
  namespace: apps
spec:
  serverName: backend.apps.svc
  rootCAsSecrets: [backend-ca]
  certificatesSecrets: [gateway-client]
---
apiVersion: traefik.io/v1alpha1
kind: TLSOption
metadata:
  name: mtls
  namespace: apps
spec:
  minVersion: VersionTLS12
  clientAuth:
    secretNames: [client-ca]
    clientAuthType: RequireAndVerifyClientCert
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata:
  name: auth
  namespace: apps
spec:
  plugin:
    sablier: {group: demo}
---
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata:
  name: hsts
  namespace: apps
spec:
  headers:
    customResponseHeaders: {X-Frame-Options: DENY}
    stsSeconds: 31536000
    sslRedirect: true
`

func TestTraefik(t *testing.T) {
	res := load(t, map[string]string{"traefik.yaml": traefikManifests})
	if len(res.Problems) > 0 {
		t.Fatalf("unexpected problems:\n%s", strings.Join(problemStrings(res), "\n"))
	}
	in := res.Inputs
	if len(in.IngressRoutes) != 1 || len(in.ServersTransports) != 1 || len(in.TLSOptions) != 1 || len(in.Middlewares) != 2 {
		t.Fatalf("objects: %v", keys(res))
	}

	ir := in.IngressRoutes[0]
	svc := ir.Spec.Routes[0].Services[0]
	if ir.APIVersion != bhv1.GroupVersion.String() || svc.Scheme != bhv1.SchemeHTTPS || svc.ServersTransport != "backend-tls" || svc.Port != "443" {
		t.Errorf("IngressRoute not read as ours: %+v %+v", ir.TypeMeta, svc)
	}
	if ir.Spec.TLS == nil || ir.Spec.TLS.SecretName != "web-tls" || ir.Spec.TLS.Options == nil || ir.Spec.TLS.Options.Name != "mtls" {
		t.Errorf("tls: %+v", ir.Spec.TLS)
	}
	st := in.ServersTransports[0].Spec
	if st.ServerName != "backend.apps.svc" || len(st.RootCAsSecrets) != 1 || st.RootCAsSecrets[0] != "backend-ca" { //nolint:staticcheck // Traefik's spelling is what is under test
		t.Errorf("ServersTransport: %+v", st)
	}
	ca := in.TLSOptions[0].Spec.ClientAuth
	if ca.ClientAuthType != bhv1.RequireAndVerifyClientCert || len(ca.SecretNames) != 1 || ca.SecretNames[0] != "client-ca" {
		t.Errorf("clientAuth: %+v", ca)
	}

	// Every field Bridgehead lacks is recorded, with a hint, for translate to refuse the
	// object; a value that asks for what Bridgehead does anyway is not.
	wantUnsupported := map[translate.Key][]string{
		{Kind: "IngressRoute", Namespace: "apps", Name: "web"}: {
			"spec.routes[0].observability",
			"spec.routes[0].services[0].nativeLB",
			"spec.routes[0].services[0].sticky.cookie.partitioned",
			"spec.tls.certResolver",
		},
		{Kind: "Middleware", Namespace: "apps", Name: "auth"}: {"spec.plugin"},
		{Kind: "Middleware", Namespace: "apps", Name: "hsts"}: {"spec.headers.sslRedirect"},
	}
	if len(in.Unsupported) != len(wantUnsupported) {
		t.Errorf("Unsupported = %v, want %v", in.Unsupported, wantUnsupported)
	}
	for k, want := range wantUnsupported {
		var got []string
		for _, f := range in.Unsupported[k] {
			got = append(got, f.Path)
			if f.Hint == "" {
				t.Errorf("Unsupported[%s] %s has no hint", k, f.Path)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("Unsupported[%s] = %q, want %q", k, got, want)
		}
	}
	for k := range res.Origin.All() {
		if g := in.APIGroups[k]; g != "traefik.io" && g != "traefik.containo.us" {
			t.Errorf("APIGroups[%s] = %q", k, g)
		}
	}
	hint := func(k translate.Key, path string) string {
		for _, f := range in.Unsupported[k] {
			if f.Path == path {
				return f.Hint
			}
		}
		return ""
	}
	web := translate.Key{Kind: "IngressRoute", Namespace: "apps", Name: "web"}
	for path, want := range map[string]string{
		"spec.tls.certResolver":                                "cert-manager",
		"spec.routes[0].services[0].nativeLB":                  "only false is implemented",
		"spec.routes[0].services[0].sticky.cookie.partitioned": "Bridgehead does not know this field",
	} {
		if h := hint(web, path); !strings.Contains(h, want) {
			t.Errorf("hint for %s = %q, want it to say %q", path, h, want)
		}
	}

	t.Run("a value that asks for what Bridgehead does is served as written", func(t *testing.T) {
		doc := strings.Replace(traefikManifests, "nativeLB: true", "nativeLB: false\n      strategy: wrr", 1)
		doc = strings.Replace(doc, "    kind: Rule\n", "    kind: Rule\n    syntax: v3\n", 1)
		res := load(t, map[string]string{"t.yaml": doc})
		var got []string
		for _, f := range res.Inputs.Unsupported[web] {
			got = append(got, f.Path)
		}
		if want := []string{"spec.routes[0].observability", "spec.routes[0].services[0].sticky.cookie.partitioned", "spec.tls.certResolver"}; !slices.Equal(got, want) {
			t.Errorf("Unsupported[web] = %q, want %q", got, want)
		}
	})

	t.Run("a middleware of a type we lack is kept, empty, for translate to refuse", func(t *testing.T) {
		for _, m := range in.Middlewares {
			if m.Name == "auth" && m.Spec != (bhv1.MiddlewareSpec{}) {
				t.Errorf("auth spec = %+v, want empty", m.Spec)
			}
		}
	})

	t.Run("still validated against our schema", func(t *testing.T) {
		res := load(t, map[string]string{"t.yaml": strings.Replace(traefikManifests, "scheme: https", "scheme: tcp", 1)})
		got := problemStrings(res)
		if !slices.ContainsFunc(got, func(s string) bool {
			return strings.Contains(s, `t.yaml#1 spec.routes[0].services[0].scheme: Unsupported value: "tcp"`)
		}) {
			t.Errorf("problems: %q", got)
		}
	})

	t.Run("a multi-type middleware is refused, as Traefik does", func(t *testing.T) {
		doc := "apiVersion: traefik.io/v1alpha1\nkind: Middleware\nmetadata: {name: two}\nspec:\n  plugin: {sablier: {group: demo}}\n  addPrefix: {prefix: /a}\n"
		res := load(t, map[string]string{"t.yaml": doc})
		// Refused, with the lacking type named too, so that fixing one does not meet the other.
		if len(res.Problems) != 2 || !strings.Contains(res.Problems[0].String(), "t.yaml#1 spec: sets 2 middleware types") ||
			!strings.Contains(res.Problems[1].String(), "t.yaml#1 spec.plugin: not implemented by Bridgehead: Traefik plugins are not supported") || res.Origin.Len() != 0 {
			t.Errorf("problems: %q, objects: %v", problemStrings(res), keys(res))
		}
	})

	t.Run("our group is strict where Traefik's is lenient", func(t *testing.T) {
		ours := strings.ReplaceAll(traefikManifests, "traefik.containo.us/v1alpha1", bhv1.GroupVersion.String())
		ours = strings.ReplaceAll(ours, "traefik.io/v1alpha1", bhv1.GroupVersion.String())
		res := load(t, map[string]string{"t.yaml": ours})
		got := problemStrings(res)
		for _, w := range []string{
			`t.yaml#1 spec.routes[0].services[0].nativeLB: unknown field "spec.routes[0].services[0].nativeLB"`,
			`t.yaml#1 spec.tls.certResolver: unknown field "spec.tls.certResolver"`,
			`t.yaml#4 spec.plugin: unknown field "spec.plugin"`,
		} {
			if !slices.Contains(got, w) {
				t.Errorf("missing %q in:\n%s", w, strings.Join(got, "\n"))
			}
		}
		if len(res.Inputs.Unsupported) != 0 || len(res.Inputs.APIGroups) != 0 {
			t.Errorf("Unsupported or APIGroups for our group: %v %v", res.Inputs.Unsupported, res.Inputs.APIGroups)
		}
	})
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Load of a missing folder: want an error")
	}
	f := filepath.Join(t.TempDir(), "file.yaml")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(f); err == nil {
		t.Error("Load of a file: want an error")
	}
	res, err := Load(t.TempDir())
	if err != nil || res.Inputs == nil || len(res.Problems) != 0 {
		t.Errorf("empty folder: %v %+v", err, res)
	}
}

func TestDuplicateYAMLKey(t *testing.T) {
	res := load(t, map[string]string{"d.yaml": "# header\n\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n"})
	if len(res.Problems) != 1 {
		t.Fatalf("problems: %q", problemStrings(res))
	}
	p := res.Problems[0].String()
	t.Log(p)
	if !strings.Contains(p, "d.yaml#1: invalid YAML") || !strings.Contains(p, "line 7") || strings.Contains(p, "\n") {
		t.Errorf("problem: %q", p)
	}
}

// A Traefik TraefikService whose only variant is one Bridgehead lacks (here one a later
// Traefik might add) is kept (with an empty spec) and recorded as unsupported, so
// translate refuses it naming the variant, instead of dropping it and leaving its routes
// with "not found".
func TestTraefikServiceOfAnUnimplementedVariantIsKept(t *testing.T) {
	for _, variant := range []string{"leastTime: {services: [{name: a, port: 80}]}"} {
		doc := "apiVersion: traefik.io/v1alpha1\nkind: TraefikService\nmetadata: {name: ts}\nspec:\n  " + variant + "\n"
		res := load(t, map[string]string{"ts.yaml": doc})
		key := translate.Key{Kind: translate.KindTraefikService, Namespace: "default", Name: "ts"}
		want := strings.SplitN(variant, ":", 2)[0]
		u := res.Inputs.Unsupported[key]
		if len(problemStrings(res)) != 0 || len(u) != 1 || u[0].Path != "spec."+want {
			t.Errorf("%s: problems %q, unsupported %v; want it kept with spec.%s unsupported", want, problemStrings(res), u, want)
		}
	}
}
