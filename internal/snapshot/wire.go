package snapshot

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
)

// wire is a snapshot as it crosses to a data-plane process: its JSON, plus the key
// material JSON leaves out (json:"-"), which the receiving side rebuilds into the
// *tls.Certificate and *x509.CertPool values crypto/tls needs. Certificates and pools
// are listed once and referred to by index in the order walk visits them.
type wire struct {
	Snapshot     *Snapshot  `json:"snapshot"`
	Certificates []wireCert `json:"certificates,omitempty"`
	CertRefs     []int      `json:"certRefs,omitempty"`
	Pools        [][][]byte `json:"pools,omitempty"`
	PoolRefs     []int      `json:"poolRefs,omitempty"`
}

type wireCert struct {
	Chain [][]byte `json:"chain"`
	Key   []byte   `json:"key"` // PKCS #8
	OCSP  []byte   `json:"ocsp,omitempty"`
	SCTs  [][]byte `json:"scts,omitempty"`
}

// walk visits every certificate and CA pool of s in a fixed order, so that the sender and
// the receiver of a wire snapshot meet them in the same sequence.
func (s *Snapshot) walk(cert func(*Certificate), pool func(*CertPool)) {
	visitCert := func(c *Certificate) {
		if c != nil {
			cert(c)
		}
	}
	visitPool := func(p *CertPool) {
		if p != nil {
			pool(p)
		}
	}
	visitCert(s.TLS.DefaultCertificate)
	for _, c := range s.TLS.StoreCertificates {
		visitCert(c)
	}
	for _, h := range s.TLS.Hosts {
		visitCert(h.Certificate)
	}
	for _, p := range s.TLS.Policies {
		visitPool(p.ClientCAs)
	}
	for _, t := range s.Transports {
		visitPool(t.RootCAs)
		for _, c := range t.ClientCertificates {
			visitCert(c)
		}
	}
}

// MarshalWire encodes s, private keys included, for a data-plane process. The result is
// secret material: it must only travel over a channel private to the two processes.
func (s *Snapshot) MarshalWire() ([]byte, error) {
	w := wire{Snapshot: s}
	certIndex := map[*tls.Certificate]int{}
	var err error
	s.walk(func(c *Certificate) {
		if c.Cert == nil {
			w.CertRefs = append(w.CertRefs, -1)
			return
		}
		i, ok := certIndex[c.Cert]
		if !ok {
			key, kerr := x509.MarshalPKCS8PrivateKey(c.Cert.PrivateKey)
			if kerr != nil && err == nil {
				err = fmt.Errorf("certificate from %s: its private key cannot be encoded: %w", c.Source, kerr)
			}
			i = len(w.Certificates)
			certIndex[c.Cert] = i
			w.Certificates = append(w.Certificates, wireCert{Chain: c.Cert.Certificate, Key: key, OCSP: c.Cert.OCSPStaple, SCTs: c.Cert.SignedCertificateTimestamps})
		}
		w.CertRefs = append(w.CertRefs, i)
	}, func(p *CertPool) {
		if p.Pool == nil {
			w.PoolRefs = append(w.PoolRefs, -1)
			return
		}
		if len(p.Roots) != len(p.Fingerprints) && err == nil {
			err = fmt.Errorf("CA pool from %v holds %d roots but lists %d: it was built without Roots", p.Sources, len(p.Roots), len(p.Fingerprints))
		}
		w.PoolRefs = append(w.PoolRefs, len(w.Pools))
		w.Pools = append(w.Pools, p.Roots)
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(w)
}

// UnmarshalWire decodes what MarshalWire encoded, rebuilding certificates and CA pools.
// The snapshot is not validated: Store.Swap does that.
func UnmarshalWire(data []byte) (*Snapshot, error) {
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	if w.Snapshot == nil {
		return nil, errors.New("snapshot: no snapshot in the message")
	}
	certs := make([]*tls.Certificate, len(w.Certificates))
	for i, wc := range w.Certificates {
		c, err := wc.certificate()
		if err != nil {
			return nil, fmt.Errorf("snapshot: certificate %d: %w", i, err)
		}
		certs[i] = c
	}
	pools := make([]*x509.CertPool, len(w.Pools))
	for i, roots := range w.Pools {
		pools[i] = x509.NewCertPool()
		for _, der := range roots {
			root, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, fmt.Errorf("snapshot: CA pool %d: %w", i, err)
			}
			pools[i].AddCert(root)
		}
	}
	s := w.Snapshot
	certRefs := &refs{list: w.CertRefs, of: len(certs), what: "certificate"}
	poolRefs := &refs{list: w.PoolRefs, of: len(pools), what: "CA pool"}
	s.walk(func(c *Certificate) {
		if i := certRefs.next(); i >= 0 {
			c.Cert = certs[i]
		}
	}, func(p *CertPool) {
		if i := poolRefs.next(); i >= 0 {
			p.Pool, p.Roots = pools[i], w.Pools[i]
		}
	})
	if err := errors.Join(certRefs.done(), poolRefs.done()); err != nil {
		return nil, err
	}
	return s, nil
}

// refs reads a wire snapshot's references in walk order, remembering the first bad one.
type refs struct {
	list []int
	of   int // how many things they may refer to
	what string
	n    int
	err  error
}

// next returns the next reference, or -1 for "none here" and for a bad one.
func (r *refs) next() int {
	r.n++
	if r.n > len(r.list) {
		return -1 // counted in done
	}
	i := r.list[r.n-1]
	if i < -1 || i >= r.of {
		if r.err == nil {
			r.err = fmt.Errorf("snapshot: %s reference %d of %d is out of range", r.what, r.n, len(r.list))
		}
		return -1
	}
	return i
}

// done reports a bad reference, or a count that does not match the snapshot's.
func (r *refs) done() error {
	if r.err == nil && r.n != len(r.list) {
		return fmt.Errorf("snapshot: %d %s references for %d in the snapshot", len(r.list), r.what, r.n)
	}
	return r.err
}

func (wc wireCert) certificate() (*tls.Certificate, error) {
	if len(wc.Chain) == 0 {
		return nil, errors.New("empty chain")
	}
	leaf, err := x509.ParseCertificate(wc.Chain[0])
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(wc.Key)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: wc.Chain, PrivateKey: key, Leaf: leaf, OCSPStaple: wc.OCSP, SignedCertificateTimestamps: wc.SCTs}, nil
}
