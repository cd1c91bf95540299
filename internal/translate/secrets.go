package translate

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	bhv1 "github.com/bridgehead/bridgehead/api/v1alpha1"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// certResult is a parsed kubernetes.io/tls Secret, or why it cannot be used. Messages
// never include secret bytes.
type certResult struct {
	cert    *snapshot.Certificate
	problem *finding
}

// certificate reads tls.crt and tls.key from a Secret for the object of rep.
func (t *translator) certificate(rep *report, namespace, name string) certResult {
	k := nsName{namespace, name}
	t.noteRefusedData(rep, KindSecret, k)
	return t.cachedCertificate(k)
}

// cachedCertificate reads a Secret's certificate once per build.
func (t *translator) cachedCertificate(k nsName) certResult {
	r, ok := t.certCache[k]
	if !ok {
		r = t.readCertificate(k)
		t.certCache[k] = r
	}
	return r
}

func (t *translator) readCertificate(k nsName) certResult {
	s, ok := t.secrets[k]
	if !ok {
		return certResult{problem: &finding{reason: bhv1.ReasonNotFound, message: fmt.Sprintf("Secret %q not found in namespace %s", k.name, k.namespace)}}
	}
	crt, key := s.Data["tls.crt"], s.Data["tls.key"]
	switch {
	case len(crt) == 0 && len(key) == 0:
		return certResult{problem: &finding{reason: bhv1.ReasonInvalidSecret, message: fmt.Sprintf("Secret %s has no tls.crt and no tls.key; create it with kubectl create secret tls", k)}}
	case len(crt) == 0:
		return certResult{problem: &finding{reason: bhv1.ReasonInvalidSecret, message: fmt.Sprintf("Secret %s has no tls.crt", k)}}
	case len(key) == 0:
		return certResult{problem: &finding{reason: bhv1.ReasonInvalidSecret, message: fmt.Sprintf("Secret %s has no tls.key", k)}}
	}
	return parseKeyPair(k, crt, key)
}

// parseKeyPair parses a certificate chain and its key; messages never echo the bytes.
func parseKeyPair(k nsName, crt, key []byte) certResult {
	pair, err := tls.X509KeyPair(crt, key)
	if err != nil {
		return certResult{problem: &finding{reason: bhv1.ReasonInvalidSecret, message: fmt.Sprintf("Secret %s: tls.crt and tls.key do not form a usable certificate (%s)", k, keyPairError(err))}}
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return certResult{problem: &finding{reason: bhv1.ReasonInvalidSecret, message: fmt.Sprintf("Secret %s: tls.crt does not parse: %v", k, err)}}
		}
		pair.Leaf = leaf
	}
	c := &snapshot.Certificate{
		Source:      snapshot.Ref{Kind: KindSecret, Namespace: k.namespace, Name: k.name},
		Subject:     leaf.Subject.String(),
		DNSNames:    lowerAll(leaf.DNSNames),
		NotAfter:    leaf.NotAfter.UTC(),
		Fingerprint: fingerprint(leaf.Raw),
		Cert:        &pair,
	}
	for _, ip := range leaf.IPAddresses {
		c.IPAddresses = append(c.IPAddresses, ip.String())
	}
	return certResult{cert: c}
}

// noteRefusedData tells the object of rep, once, that a Secret or ConfigMap it reads was
// changed to data that cannot be used and that its last good data serves instead.
func (t *translator) noteRefusedData(rep *report, kind string, k nsName) {
	ref, ok := t.in.Replaced[Key{Kind: kind, Namespace: k.namespace, Name: k.name}]
	if !ok || rep == nil {
		return
	}
	msg := fmt.Sprintf("%s %s: its new data is refused (%s); the last good data keeps serving until it is fixed", kind, k, ref.Message)
	for _, w := range rep.warnings {
		if w.message == msg {
			return
		}
	}
	rep.warn(bhv1.ReasonDataRefused, msg)
}

// keyPairError turns crypto/tls's errors into words without echoing key material.
func keyPairError(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "private key does not match public key"):
		return "tls.key is not the key of the certificate in tls.crt"
	case strings.Contains(msg, "failed to find any PEM data in certificate"):
		return "tls.crt holds no PEM certificate"
	case strings.Contains(msg, "failed to find any PEM data in key"), strings.Contains(msg, "failed to find \"PRIVATE KEY\""):
		return "tls.key holds no PEM private key"
	default:
		return "tls.crt/tls.key could not be parsed"
	}
}

// caSource is where a set of CA certificates is read from.
type caSource struct {
	kind      string // Secret or ConfigMap
	namespace string
	name      string
	// key, when set, is the only key read (rootCAs[].key).
	key string
}

type caResult struct {
	pool    *snapshot.CertPool
	certs   []*x509.Certificate // parsed, so several bundles can be merged into one pool
	problem *finding
}

// caKeys are the keys a Secret's CA bundle is read from, in order.
var caKeys = []string{"ca.crt", "tls.ca"}

// caBundle reads PEM CA certificates from a Secret (ca.crt or tls.ca; with
// allowTLSCrt also tls.crt, for client CAs published as a TLS Secret) or a ConfigMap
// (ca.crt), for the object of rep.
func (t *translator) caBundle(rep *report, src caSource, allowTLSCrt bool) caResult {
	t.noteRefusedData(rep, src.kind, nsName{src.namespace, src.name})
	if r, ok := t.caCache[src]; ok && !allowTLSCrt {
		return r
	}
	r := t.readCABundle(src, allowTLSCrt)
	if !allowTLSCrt {
		t.caCache[src] = r
	}
	return r
}

func (t *translator) readCABundle(src caSource, allowTLSCrt bool) caResult {
	var data []byte
	var key string
	k := nsName{src.namespace, src.name}
	switch src.kind {
	case KindConfigMap:
		cm, ok := t.configMaps[k]
		if !ok {
			return caResult{problem: &finding{reason: bhv1.ReasonCAConfigMapNotFound, detail: k.String(),
				message: fmt.Sprintf("ConfigMap %q (CA certificates) not found in namespace %s; create it with the PEM roots at key ca.crt", src.name, src.namespace)}}
		}
		key = "ca.crt"
		if src.key != "" {
			key = src.key
		}
		data = []byte(cm.Data[key])
		if len(data) == 0 {
			return caResult{problem: &finding{reason: bhv1.ReasonInvalidSecret, message: fmt.Sprintf("ConfigMap %s has no %s", k, key)}}
		}
	default:
		s, ok := t.secrets[k]
		if !ok {
			at := "ca.crt"
			if src.key != "" {
				at = src.key
			}
			return caResult{problem: &finding{reason: bhv1.ReasonCASecretNotFound, detail: k.String(),
				message: fmt.Sprintf("Secret %q (CA certificates) not found in namespace %s; create it with the PEM roots at key %s", src.name, src.namespace, at)}}
		}
		keys := caKeys
		if src.key != "" {
			keys = []string{src.key}
		} else if allowTLSCrt {
			keys = append(append([]string(nil), caKeys...), "tls.crt")
		}
		for _, candidate := range keys {
			if len(s.Data[candidate]) > 0 {
				key, data = candidate, s.Data[candidate]
				break
			}
		}
		if len(data) == 0 {
			return caResult{problem: &finding{reason: bhv1.ReasonInvalidSecret, message: fmt.Sprintf("Secret %s has none of the keys %s", k, strings.Join(keys, ", "))}}
		}
	}
	return parseCAs(src, key, data)
}

// parseCAs parses the PEM certificates of one key of a Secret or ConfigMap into a pool.
func parseCAs(src caSource, key string, data []byte) caResult {
	k := nsName{src.namespace, src.name}
	pool := &snapshot.CertPool{
		Sources: []snapshot.Ref{{Kind: src.kind, Namespace: src.namespace, Name: src.name}},
		Pool:    x509.NewCertPool(),
	}
	var certs []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return caResult{problem: &finding{reason: bhv1.ReasonInvalidSecret, message: fmt.Sprintf("%s %s key %s: a certificate does not parse: %v", src.kind, k, key, err)}}
		}
		pool.Pool.AddCert(cert)
		certs = append(certs, cert)
		pool.Subjects = append(pool.Subjects, cert.Subject.String())
		pool.Fingerprints = append(pool.Fingerprints, fingerprint(cert.Raw))
		pool.NotAfters = append(pool.NotAfters, cert.NotAfter.UTC())
	}
	if len(pool.Subjects) == 0 {
		return caResult{problem: &finding{reason: bhv1.ReasonInvalidSecret, message: fmt.Sprintf("%s %s key %s holds no PEM certificate", src.kind, k, key)}}
	}
	return caResult{pool: pool, certs: certs}
}

// mergePools joins CA bundles into one pool, keeping every source, subject and fingerprint.
func mergePools(bundles []caResult) *snapshot.CertPool {
	if len(bundles) == 1 {
		return bundles[0].pool
	}
	out := &snapshot.CertPool{Pool: x509.NewCertPool()}
	for _, b := range bundles {
		out.Sources = append(out.Sources, b.pool.Sources...)
		out.Subjects = append(out.Subjects, b.pool.Subjects...)
		out.Fingerprints = append(out.Fingerprints, b.pool.Fingerprints...)
		out.NotAfters = append(out.NotAfters, b.pool.NotAfters...)
		for _, c := range b.certs {
			out.Pool.AddCert(c)
		}
	}
	return out
}

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

func lowerAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.TrimSuffix(strings.ToLower(n), ".")
	}
	sort.Strings(out)
	return out
}

// CheckSecret reports why the data translate reads from a Secret cannot be used, or nil:
// tls.crt with tls.key (a certificate and its key), tls.crt alone (CA certificates) and the
// CA bundle keys, wherever they are present and not empty. Empty or missing keys are not
// refused here: translate reports them on the objects that need them.
func CheckSecret(s *corev1.Secret) *Refusal {
	k := nsName{s.Namespace, s.Name}
	src := caSource{kind: KindSecret, namespace: s.Namespace, name: s.Name}
	crt, key := s.Data["tls.crt"], s.Data["tls.key"]
	switch {
	case len(crt) > 0 && len(key) > 0:
		if r := parseKeyPair(k, crt, key); r.problem != nil {
			return refusalOf(r.problem)
		}
	case len(crt) > 0:
		if r := parseCAs(src, "tls.crt", crt); r.problem != nil {
			return refusalOf(r.problem)
		}
	}
	for _, ck := range caKeys {
		if data := s.Data[ck]; len(data) > 0 {
			if r := parseCAs(src, ck, data); r.problem != nil {
				return refusalOf(r.problem)
			}
		}
	}
	return nil
}

// CheckConfigMap is CheckSecret for a ConfigMap's ca.crt.
func CheckConfigMap(c *corev1.ConfigMap) *Refusal {
	if data := c.Data["ca.crt"]; data != "" {
		if r := parseCAs(caSource{kind: KindConfigMap, namespace: c.Namespace, name: c.Name}, "ca.crt", []byte(data)); r.problem != nil {
			return refusalOf(r.problem)
		}
	}
	return nil
}

func refusalOf(f *finding) *Refusal { return &Refusal{Reason: f.reason, Message: f.message} }
