package statuspage

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// A certificate inside the expiry-warning window is flagged on its host and in the list
// of certificates; one far from expiry is not; the page says when each expires.
func TestExpiringCertificatesAreFlagged(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	cert := func(name string, left time.Duration) *snapshot.Certificate {
		return &snapshot.Certificate{Source: snapshot.Ref{Kind: "Secret", Namespace: "web", Name: name},
			Subject: "CN=" + name, DNSNames: []string{name + ".example.com"}, NotAfter: now.Add(left), Fingerprint: name}
	}
	snap := &snapshot.Snapshot{TLS: snapshot.TLS{Hosts: []*snapshot.HostTLS{
		{Name: "soon.example.com", Certificate: cert("soon", 3*24*time.Hour)},
		{Name: "later.example.com", Certificate: cert("later", 200*24*time.Hour)},
		{Name: "gone.example.com", Certificate: cert("gone", -time.Hour)},
	}}}
	v := Build(Input{Snapshot: snap, Now: now, ExpiryWarning: 14 * 24 * time.Hour})
	want := map[string]struct {
		expires  string
		expiring bool
	}{
		"soon.example.com":  {"2026-12-07 (in 3 days)", true},
		"later.example.com": {"2027-06-22 (in 200 days)", false},
		"gone.example.com":  {"2026-12-04 (expired)", true},
	}
	for _, h := range v.Hosts {
		w := want[h.Name]
		if h.Expires != w.expires || h.Expiring != w.expiring {
			t.Errorf("%s: expires %q (flagged %v); want %q (flagged %v)", h.Name, h.Expires, h.Expiring, w.expires, w.expiring)
		}
	}
	if len(v.Certificates) != 3 {
		t.Fatalf("%d certificates listed; want 3", len(v.Certificates))
	}

	rec := httptest.NewRecorder()
	Handler(func() Input {
		return Input{Mode: "folder ./x", Snapshot: snap, Now: now, ExpiryWarning: 14 * 24 * time.Hour}
	}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(body, `<td class="warn">2026-12-07 (in 3 days)</td>`) || !strings.Contains(body, `http-equiv="refresh" content="5"`) {
		t.Errorf("the page does not flag the expiring certificate or does not refresh itself:\n%s", body)
	}
}
