//go:build !(cgo && linux)

package opensslrsa

import (
	"crypto"
	"crypto/rsa"
	"errors"
)

// LibraryEnv names the environment variable that overrides which libcrypto is opened.
const LibraryEnv = "BRIDGEHEAD_LIBCRYPTO"

// Available reports whether RSA signatures go to OpenSSL: never without cgo on Linux.
func Available() bool { return false }

// Unavailable says why Available is false.
func Unavailable() string { return "built without cgo" }

type opensslKey struct{}

func newSigner(*rsa.PrivateKey) (*signer, error) {
	return nil, errors.New("opensslrsa: built without cgo")
}

func (*opensslKey) sign([]byte, crypto.SignerOpts) ([]byte, bool, error) { return nil, false, nil }
