// Command benchtool is the Go side of `make bench` (hack/bench/run.sh): it writes the
// benchmark's RSA-2048 PKI and hands out free loopback ports (the origin every proxy
// forwards to is nginx). Nothing here is part of the gateway.
//
//	benchtool certs DIR                       write CAs, certificates, keys and secrets.yaml
//	benchtool freeports N                     print N free 127.0.0.1 ports, one a line
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The names the benchmark uses; run.sh writes the same ones into both proxies' configs.
const (
	edgeName    = "bench.example.com"
	backendName = "backend.bench.internal"
	namespace   = "bench"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchtool certs DIR | freeports N")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "certs":
		if len(os.Args) != 3 {
			err = errors.New("usage: benchtool certs DIR")
			break
		}
		err = writePKI(os.Args[2])
	case "freeports":
		err = freePorts(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtool:", err)
		os.Exit(1)
	}
}

// issuer is a CA that signs leaves.
type issuer struct {
	cert *x509.Certificate
	key  *rsa.PrivateKey
	pem  []byte
}

var serial int64

func template(cn string) *x509.Certificate {
	serial++
	return &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano() + serial),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"Bridgehead bench"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(30 * 24 * time.Hour),
	}
}

func newCA(cn string) (*issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	tmpl := template(cn)
	tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &issuer{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// issue returns a server certificate for names and its PKCS#1 key, both PEM.
func (ca *issuer) issue(names ...string) (certPEM, keyPEM []byte, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	tmpl := template(names[0])
	tmpl.DNSNames = names
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), nil
}

// writePKI writes two private CAs (edge, backend), one RSA-2048 leaf each, the PEM
// bundle HAProxy reads and the Secrets Bridgehead reads.
func writePKI(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	edgeCA, err := newCA("Bridgehead bench edge CA")
	if err != nil {
		return err
	}
	backendCA, err := newCA("Bridgehead bench backend CA")
	if err != nil {
		return err
	}
	edgeCert, edgeKey, err := edgeCA.issue(edgeName)
	if err != nil {
		return err
	}
	// The backend also answers for the edge name: in the passthrough scenario the client's
	// TLS reaches it untouched.
	backendCert, backendKey, err := backendCA.issue(backendName, edgeName)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"edge-ca.crt": edgeCA.pem, "edge.crt": edgeCert, "edge.key": edgeKey,
		"edge.pem":       append(append([]byte{}, edgeCert...), edgeKey...),
		"backend-ca.crt": backendCA.pem, "backend.crt": backendCert, "backend.key": backendKey,
	}
	var b strings.Builder
	secret := func(name, typ string, data map[string][]byte) {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\ntype: %s\nstringData:\n", name, namespace, typ)
		for _, k := range []string{"ca.crt", "tls.crt", "tls.key"} {
			if v, ok := data[k]; ok {
				fmt.Fprintf(&b, "  %s: |\n    %s\n", k, strings.ReplaceAll(strings.TrimSpace(string(v)), "\n", "\n    "))
			}
		}
	}
	secret("bench-edge-tls", "kubernetes.io/tls", map[string][]byte{"tls.crt": edgeCert, "tls.key": edgeKey})
	secret("backend-ca", "Opaque", map[string][]byte{"ca.crt": backendCA.pem})
	files["secrets.yaml"] = []byte(b.String())
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// freePorts prints n ports that were free on 127.0.0.1 a moment ago, all different.
func freePorts(args []string) error {
	n := 1
	if len(args) == 1 {
		var err error
		if n, err = strconv.Atoi(args[0]); err != nil || n < 1 {
			return fmt.Errorf("freeports: bad count %q", args[0])
		}
	}
	lns := make([]net.Listener, 0, n)
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		lns = append(lns, ln)
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	}
	return nil
}
