package translate

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite testdata/*.out.yaml from the current output")

// goldenNow is the clock of every golden case: certificates in testdata/certs are valid
// from 2025 to 2125, except expired.crt (2024) and expiring.crt (2026-01-10).
var goldenNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// caseOptions is the optional first document of a case, kind TestOptions.
type caseOptions struct {
	GatewayNamespace          string `json:"gatewayNamespace"`
	AllowCrossNamespace       bool   `json:"allowCrossNamespace"`
	AllowExternalNameServices bool   `json:"allowExternalNameServices"`
	ClusterDomain             string `json:"clusterDomain"`
	IngressWithoutClass       bool   `json:"ingressWithoutClass"`
	// EntryPoints are the gateway's entry points (name -> tcp or udp), as serve gives them.
	EntryPoints map[string]string `json:"entryPoints"`
	// Unsupported stands for what the manifests loader finds in a Traefik manifest:
	// Kind/namespace/name -> the fields Bridgehead lacks.
	Unsupported map[string][]UnsupportedField `json:"unsupported"`
}

func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 40 {
		t.Errorf("want at least 40 golden cases, have %d", len(cases))
	}
	for _, in := range cases {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			inputs, opts := loadCase(t, in)
			got := render(t, inputs, opts)

			// Determinism: the same objects in another order give the same bytes.
			shuffle(inputs)
			if again := render(t, inputs, opts); !bytes.Equal(got, again) {
				t.Fatalf("output depends on input order:\n%s", diffLines(got, again))
			}

			out := strings.TrimSuffix(in, ".in.yaml") + ".out.yaml"
			if *update {
				if err := os.WriteFile(out, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/translate -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs (run go test ./internal/translate -update, then review the diff):\n%s", out, diffLines(want, got))
			}
		})
	}
}

// render translates and prints the snapshot and statuses as the golden file holds them.
func render(t *testing.T, in *Inputs, opts Options) []byte {
	t.Helper()
	// Translate never writes to its inputs: folder mode shares them between loads, and a
	// cluster's informer cache between reconciles.
	before := map[Key]runtime.Object{}
	in.Visit(func(k Key, o metav1.Object) metav1.Object {
		before[k] = o.(runtime.Object).DeepCopyObject()
		return nil
	})
	snap, statuses := Translate(in, opts)
	in.Visit(func(k Key, o metav1.Object) metav1.Object {
		if !equality.Semantic.DeepEqual(before[k], o) {
			t.Errorf("translate changed its input %s", k)
		}
		return nil
	})
	if err := snap.Validate(); err != nil {
		t.Fatalf("translate produced a snapshot that fails validation: %v", err)
	}
	type statusOut struct {
		Object       string   `json:"object"`
		Hosts        []string `json:"hosts,omitempty"`
		Certificates []string `json:"certificates,omitempty"`
		Conditions   []string `json:"conditions"`
	}
	var sts []statusOut
	for _, k := range statuses.Keys() {
		st := statuses[k]
		o := statusOut{Object: k.String(), Hosts: st.Hosts}
		for _, c := range st.Certificates {
			o.Certificates = append(o.Certificates, fmt.Sprintf("%s %s %q notAfter=%s sha256=%s", c.Use, c.Source, c.Subject, c.NotAfter.UTC().Format(time.RFC3339), c.SHA256[:16]))
		}
		for _, c := range st.Conditions {
			o.Conditions = append(o.Conditions, fmt.Sprintf("%s=%s %s: %s", c.Type, c.Status, c.Reason, c.Message))
		}
		sts = append(sts, o)
	}
	data, err := yaml.Marshal(map[string]any{"snapshot": snap, "statuses": sts})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

var decoder = func() runtime.Decoder {
	s := runtime.NewScheme()
	if err := bhv1.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := corev1.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := discoveryv1.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := networkingv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return serializer.NewCodecFactory(s).UniversalDeserializer()
}()

// loadCase reads a case's documents. In Secrets and ConfigMaps, a stringData/data value
// "@name" is replaced by testdata/certs/name, so cases share generated certificates.
func loadCase(t *testing.T, path string) (*Inputs, Options) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Now = goldenNow
	in := &Inputs{}
	reader := utilyaml.NewYAMLReader(bufioReader(data))
	for i := 0; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		if bytes.Contains(doc, []byte("kind: TestOptions")) {
			var co caseOptions
			if err := yaml.Unmarshal(doc, &co); err != nil {
				t.Fatalf("%s#%d: %v", path, i, err)
			}
			if co.GatewayNamespace != "" {
				opts.GatewayNamespace = co.GatewayNamespace
			}
			if co.ClusterDomain != "" {
				opts.ClusterDomain = co.ClusterDomain
			}
			opts.AllowCrossNamespace, opts.AllowExternalNameServices = co.AllowCrossNamespace, co.AllowExternalNameServices
			opts.IngressWithoutClass = co.IngressWithoutClass
			opts.EntryPoints = co.EntryPoints
			for k, fields := range co.Unsupported {
				parts := strings.SplitN(k, "/", 3)
				if len(parts) != 3 {
					t.Fatalf("%s#%d: unsupported key %q is not Kind/namespace/name", path, i, k)
				}
				if in.Unsupported == nil {
					in.Unsupported = map[Key][]UnsupportedField{}
				}
				in.Unsupported[Key{Kind: parts[0], Namespace: parts[1], Name: parts[2]}] = fields
			}
			continue
		}
		obj, _, err := decoder.Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("%s#%d: %v", path, i, err)
		}
		switch o := obj.(type) {
		case *bhv1.IngressRoute:
			in.IngressRoutes = append(in.IngressRoutes, o)
		case *bhv1.IngressRouteTCP:
			in.IngressRouteTCPs = append(in.IngressRouteTCPs, o)
		case *bhv1.IngressRouteUDP:
			in.IngressRouteUDPs = append(in.IngressRouteUDPs, o)
		case *bhv1.TLSOption:
			in.TLSOptions = append(in.TLSOptions, o)
		case *bhv1.TLSStore:
			in.TLSStores = append(in.TLSStores, o)
		case *bhv1.ServersTransport:
			in.ServersTransports = append(in.ServersTransports, o)
		case *bhv1.ServersTransportTCP:
			in.ServersTransportTCPs = append(in.ServersTransportTCPs, o)
		case *bhv1.Middleware:
			in.Middlewares = append(in.Middlewares, o)
		case *bhv1.MiddlewareTCP:
			in.MiddlewareTCPs = append(in.MiddlewareTCPs, o)
		case *bhv1.TraefikService:
			in.TraefikServices = append(in.TraefikServices, o)
		case *corev1.Secret:
			o.Data = resolveFixtures(t, o.Data, o.StringData)
			o.StringData = nil
			in.Secrets = append(in.Secrets, o)
		case *corev1.ConfigMap:
			for k, v := range o.Data {
				if strings.HasPrefix(v, "@") {
					o.Data[k] = string(fixture(t, v[1:]))
				}
			}
			in.ConfigMaps = append(in.ConfigMaps, o)
		case *corev1.Service:
			in.Services = append(in.Services, o)
		case *discoveryv1.EndpointSlice:
			in.EndpointSlices = append(in.EndpointSlices, o)
		case *networkingv1.Ingress:
			in.Ingresses = append(in.Ingresses, o)
		case *networkingv1.IngressClass:
			in.IngressClasses = append(in.IngressClasses, o)
		default:
			t.Fatalf("%s#%d: unsupported kind %T", path, i, obj)
		}
	}
	return in, opts
}

func resolveFixtures(t *testing.T, data map[string][]byte, stringData map[string]string) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range data {
		out[k] = v
	}
	for k, v := range stringData {
		if strings.HasPrefix(v, "@") {
			out[k] = fixture(t, v[1:])
		} else {
			out[k] = []byte(v)
		}
	}
	return out
}

func fixture(t *testing.T, name string) []byte {
	data, err := os.ReadFile(filepath.Join("testdata", "certs", name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return data
}

// shuffle reorders every input list, with a fixed seed so failures reproduce.
func shuffle(in *Inputs) {
	r := rand.New(rand.NewPCG(1, 2))
	sh := func(n int, swap func(i, j int)) { r.Shuffle(n, swap) }
	sh(len(in.IngressRoutes), func(i, j int) { in.IngressRoutes[i], in.IngressRoutes[j] = in.IngressRoutes[j], in.IngressRoutes[i] })
	sh(len(in.IngressRouteTCPs), func(i, j int) {
		in.IngressRouteTCPs[i], in.IngressRouteTCPs[j] = in.IngressRouteTCPs[j], in.IngressRouteTCPs[i]
	})
	sh(len(in.TLSOptions), func(i, j int) { in.TLSOptions[i], in.TLSOptions[j] = in.TLSOptions[j], in.TLSOptions[i] })
	sh(len(in.ServersTransports), func(i, j int) {
		in.ServersTransports[i], in.ServersTransports[j] = in.ServersTransports[j], in.ServersTransports[i]
	})
	sh(len(in.Middlewares), func(i, j int) { in.Middlewares[i], in.Middlewares[j] = in.Middlewares[j], in.Middlewares[i] })
	sh(len(in.MiddlewareTCPs), func(i, j int) {
		in.MiddlewareTCPs[i], in.MiddlewareTCPs[j] = in.MiddlewareTCPs[j], in.MiddlewareTCPs[i]
	})
	sh(len(in.Secrets), func(i, j int) { in.Secrets[i], in.Secrets[j] = in.Secrets[j], in.Secrets[i] })
	sh(len(in.Services), func(i, j int) { in.Services[i], in.Services[j] = in.Services[j], in.Services[i] })
	sh(len(in.EndpointSlices), func(i, j int) {
		in.EndpointSlices[i], in.EndpointSlices[j] = in.EndpointSlices[j], in.EndpointSlices[i]
	})
	sh(len(in.Ingresses), func(i, j int) { in.Ingresses[i], in.Ingresses[j] = in.Ingresses[j], in.Ingresses[i] })
}

// diffLines shows the first lines that differ, enough to see what changed.
func diffLines(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want: %s\n  got:  %s\n", i+1, wl, gl)
			if shown++; shown == 10 {
				break
			}
		}
	}
	return b.String()
}
