package translate

import (
	"crypto/tls"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// A policy that lists no TLS 1.2 suite is left empty under the intermediate profile (the
// proxy reads empty as snapshot.IntermediateCipherSuites) and gets Go's former defaults,
// CBC-SHA1 included, under legacy; a listed suite is kept alone under both.
func TestTLSDefaultProfile(t *testing.T) {
	option := func(name string, suites ...bhv1.CipherSuite) *bhv1.TLSOption {
		return &bhv1.TLSOption{ObjectMeta: metav1.ObjectMeta{Namespace: "bridgehead", Name: name}, Spec: bhv1.TLSOptionSpec{CipherSuites: suites}}
	}
	in := &Inputs{TLSOptions: []*bhv1.TLSOption{
		option("none"),
		option("tls13-only", "TLS_AES_128_GCM_SHA256"),
		option("listed", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
	}}
	legacy := append(snapshot.IntermediateCipherSuites(),
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA)
	listed := []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA}
	for profile, want := range map[TLSProfile]map[string][]uint16{
		"":                     {"bridgehead/none": nil, "bridgehead/tls13-only": nil, "bridgehead/listed": listed, snapshot.BuiltinPolicyID: nil},
		TLSProfileIntermediate: {"bridgehead/none": nil, "bridgehead/tls13-only": nil, "bridgehead/listed": listed, snapshot.BuiltinPolicyID: nil},
		TLSProfileLegacy:       {"bridgehead/none": legacy, "bridgehead/tls13-only": legacy, "bridgehead/listed": listed, snapshot.BuiltinPolicyID: legacy},
	} {
		opts := DefaultOptions()
		opts.TLSDefaultProfile = profile
		snap, _ := Translate(in, opts)
		for _, p := range snap.TLS.Policies {
			if !slices.Equal(p.CipherSuites, want[p.ID]) {
				t.Errorf("profile %q, policy %s: suites %v, want %v", profile, p.ID, p.CipherSuites, want[p.ID])
			}
		}
		if len(snap.TLS.Policies) != len(want) {
			t.Errorf("profile %q: %d policies, want %d", profile, len(snap.TLS.Policies), len(want))
		}
	}
	for _, s := range legacy {
		if !slices.Contains(tlsDefaultSuites(), s) {
			t.Errorf("the legacy profile has %s, which Go does not offer by default", tls.CipherSuiteName(s))
		}
	}
}

// tlsDefaultSuites are the TLS 1.2 suites Go's crypto/tls offers by default: the legacy
// profile must stay a subset of them (it is what was served before the intermediate one).
func tlsDefaultSuites() []uint16 {
	var ids []uint16
	for _, s := range tls.CipherSuites() {
		if slices.Contains(s.SupportedVersions, tls.VersionTLS12) {
			ids = append(ids, s.ID)
		}
	}
	return ids
}
