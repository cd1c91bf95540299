// Package statuspage renders the admin port's live status page (GET / on the admin port):
// what the gateway serves and how it is going, for people who run it — objects with their
// conditions, hosts with their certificate and client TLS policy, backends with the last
// real handshake to each endpoint, the certificates in use and the recent failures.
//
// It is plain server-rendered HTML that refreshes itself: no JavaScript, no build step,
// and the same page in folder mode and in a cluster. It reads only what the gateway
// already has (the snapshot, the statuses, the data plane's observations), on each
// request, so it costs nothing while nobody looks at it.
package statuspage

import (
	"crypto/tls"
	"embed"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/internal/verdict"
	"github.com/bridgehead/bridgehead/proxy/upstream"
)

// Input is what the page is made of, read fresh for each request.
type Input struct {
	// Mode says where the configuration comes from ("folder ./config", "cluster").
	Mode string
	// Snapshot is the snapshot being served (nil before the first).
	Snapshot *snapshot.Snapshot
	// Statuses are translate's statuses of the objects behind the snapshot.
	Statuses translate.Statuses
	// Observations are the data plane's latest outcomes per route and endpoint.
	Observations []upstream.Observation
	// Now and ExpiryWarning place certificates on the clock, as the status writers do.
	Now           time.Time
	ExpiryWarning time.Duration
}

// RefreshSeconds is how often the page reloads itself.
const RefreshSeconds = 5

// maxFailures bounds the "recent failures" table.
const maxFailures = 50

//go:embed page.html.tmpl
var files embed.FS

var page = template.Must(template.ParseFS(files, "page.html.tmpl"))

// Handler serves the page built from what read returns.
func Handler(read func() Input) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		v := Build(read())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		// A write error means the reader went away; the header is sent by then anyway.
		_ = page.Execute(w, v)
	})
}

// View is the page's content, ready to render.
type View struct {
	Mode, Hash     string
	Now            time.Time
	RefreshSeconds int
	NotReady       int
	Objects        []Object
	Hosts          []Host
	Backends       []Backend
	Certificates   []Certificate
	Failures       []Failure
}

// Object is one input object and its Ready condition (with the runtime verdicts merged).
type Object struct {
	Name, Ready, Reason, Message string
	Warnings                     []string
}

// Host is one TLS host with its certificate and client policy.
type Host struct {
	Name, Certificate, Expires, Policy, Versions, ClientAuth string
	SNIStrict                                                bool
	Expiring                                                 bool
}

// Backend is one endpoint of one route's backend and what the last request to it saw.
type Backend struct {
	Route, Service, Scheme, Endpoint, Verdict, Detail, Seen, PresentedExpires string
	OK                                                                        bool
}

// Certificate is one certificate in use.
type Certificate struct {
	Use, Source, Subject, Names, Expires string
	Expiring                             bool
}

// Failure is one recent failed request to a backend.
type Failure struct {
	When, Route, Endpoint, Reason, Message string
}

// Build turns the gateway's state into the page's content.
func Build(in Input) View {
	v := View{Mode: in.Mode, Now: in.Now, RefreshSeconds: RefreshSeconds}
	snap := in.Snapshot
	if snap == nil {
		return v
	}
	v.Hash = snap.Hash()[:12]
	merged := verdict.Merge(in.Statuses, verdict.Compute(snap, in.Observations, in.Now, in.ExpiryWarning))
	for _, k := range merged.Keys() {
		st := merged[k]
		o := Object{Name: k.String(), Ready: "Unknown"}
		if c := st.Condition(bhv1.ConditionReady); c != nil {
			o.Ready, o.Reason, o.Message = string(c.Status), c.Reason, c.Message
		}
		for _, c := range st.Conditions {
			// Warnings is the one condition whose True is the bad news.
			bad := c.Status == metav1.ConditionFalse
			if c.Type == string(bhv1.ConditionWarnings) {
				bad = c.Status == metav1.ConditionTrue
			}
			// A condition that only repeats why the object is not Ready is not shown twice.
			if bad && c.Type != string(bhv1.ConditionReady) && c.Message != o.Message {
				o.Warnings = append(o.Warnings, c.Type+": "+c.Reason+": "+c.Message)
			}
		}
		if o.Ready != string(metav1.ConditionTrue) {
			v.NotReady++
		}
		v.Objects = append(v.Objects, o)
	}
	// What needs attention first.
	sort.SliceStable(v.Objects, func(i, j int) bool {
		return v.Objects[i].Ready != "True" && v.Objects[j].Ready == "True"
	})
	v.Hosts = hosts(snap, in.Now, in.ExpiryWarning)
	v.Backends = backends(snap, in.Observations, in.Now)
	v.Certificates = certificates(snap, in.Now, in.ExpiryWarning)
	v.Failures = failures(in.Observations, in.Now)
	return v
}

func hosts(snap *snapshot.Snapshot, now time.Time, warn time.Duration) []Host {
	policies := map[string]*snapshot.Policy{}
	for _, p := range snap.TLS.Policies {
		policies[p.ID] = p
	}
	var out []Host
	for _, h := range snap.TLS.Hosts {
		row := Host{Name: h.Name, Policy: h.Policy, Certificate: "default certificate", Expires: "—"}
		if c := h.Certificate; c != nil {
			row.Certificate = c.Subject + " (" + c.Source.Namespace + "/" + c.Source.Name + ")"
			row.Expires, row.Expiring = expires(c.NotAfter, now, warn)
		}
		if p := policies[h.Policy]; p != nil {
			row.Policy = p.Source.Kind + " " + p.Source.Namespace + "/" + p.Source.Name
			if p.ID == snapshot.BuiltinPolicyID {
				row.Policy = "built-in default"
			}
			row.Versions = versionName(p.MinVersion) + " – " + versionName(p.MaxVersion)
			row.ClientAuth = clientAuthName(p.ClientAuth)
			if p.ClientCAs != nil && len(p.ClientCAs.Subjects) > 0 {
				row.ClientAuth += ", CAs: " + strings.Join(p.ClientCAs.Subjects, "; ")
			}
			row.SNIStrict = p.SNIStrict
		}
		out = append(out, row)
	}
	return out
}

func backends(snap *snapshot.Snapshot, obs []upstream.Observation, now time.Time) []Backend {
	type key struct{ route, endpoint string }
	last := map[key]upstream.Observation{}
	for _, o := range obs {
		last[key{o.RouteID, o.Endpoint}] = o
	}
	var out []Backend
	for _, r := range snap.HTTPRoutes {
		for _, b := range r.Backends {
			base := Backend{Route: r.ID, Service: b.Service.Namespace + "/" + b.Service.Name + ":" + b.Port, Scheme: b.Scheme}
			if b.Failure != nil {
				row := base
				row.Verdict, row.Detail = b.Failure.Reason, b.Failure.Message
				out = append(out, row)
				continue
			}
			if len(b.Endpoints) == 0 {
				row := base
				row.Verdict, row.Detail = "NoEndpoints", "the Service has no ready endpoint"
				out = append(out, row)
			}
			for _, ep := range b.Endpoints {
				row := base
				row.Endpoint = ep.Address
				row.Verdict, row.Seen = "no request yet", "—"
				if o, ok := last[key{r.ID, ep.Address}]; ok {
					row.OK = o.OK
					row.Seen = now.Sub(o.At).Round(time.Second).String() + " ago"
					row.Verdict = "OK"
					if !o.OK {
						row.Verdict, row.Detail = string(o.Reason), o.Detail.Message
					}
					if !o.Detail.NotAfter.IsZero() {
						row.PresentedExpires = o.Detail.NotAfter.UTC().Format(time.DateOnly)
					}
				}
				out = append(out, row)
			}
		}
	}
	return out
}

func certificates(snap *snapshot.Snapshot, now time.Time, warn time.Duration) []Certificate {
	var out []Certificate
	for _, c := range snap.CertificatesInUse() {
		row := Certificate{Use: useName[c.Use], Source: c.Source.Namespace + "/" + c.Source.Name, Subject: c.Subject,
			Names: strings.Join(append(append([]string{}, c.DNSNames...), c.IPAddresses...), ", ")}
		row.Expires, row.Expiring = expires(c.NotAfter, now, warn)
		out = append(out, row)
	}
	return out
}

// useName says what a certificate in use is for, in the page's words.
var useName = map[string]string{snapshot.UseEdge: "served to clients", snapshot.UseUpstreamClient: "client certificate to backends"}

func failures(obs []upstream.Observation, now time.Time) []Failure {
	var failed []upstream.Observation
	for _, o := range obs {
		if !o.OK {
			failed = append(failed, o)
		}
	}
	sort.Slice(failed, func(i, j int) bool { return failed[i].At.After(failed[j].At) })
	if len(failed) > maxFailures {
		failed = failed[:maxFailures]
	}
	out := make([]Failure, 0, len(failed))
	for _, o := range failed {
		out = append(out, Failure{When: now.Sub(o.At).Round(time.Second).String() + " ago", Route: o.RouteID,
			Endpoint: o.Endpoint, Reason: string(o.Reason), Message: o.Detail.Message})
	}
	return out
}

// expires says when a certificate expires and whether that is within the warning window.
func expires(notAfter, now time.Time, warn time.Duration) (string, bool) {
	left := notAfter.Sub(now)
	s := notAfter.UTC().Format(time.DateOnly)
	switch {
	case left <= 0:
		return s + " (expired)", true
	case left < 48*time.Hour:
		return s + " (in " + left.Round(time.Hour).String() + ")", left < warn
	default:
		return s + " (in " + strconv.Itoa(int(left.Hours()/24)) + " days)", left < warn
	}
}

func versionName(v uint16) string {
	if v == 0 {
		return "any"
	}
	return tls.VersionName(v)
}

func clientAuthName(a tls.ClientAuthType) string {
	switch a {
	case tls.NoClientCert:
		return "none"
	case tls.RequestClientCert:
		return "requested"
	case tls.RequireAnyClientCert:
		return "required (any)"
	case tls.VerifyClientCertIfGiven:
		return "verified if given"
	case tls.RequireAndVerifyClientCert:
		return "required and verified"
	}
	return a.String()
}
