//go:build cgo && linux

package opensslrsa

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>

// libcrypto 3 is opened at run time rather than linked, so building needs no OpenSSL
// headers and a machine without libcrypto still runs the gateway (with Go's signer).
// The prototypes and constants below are OpenSSL 3's stable ABI.
typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_pkey_ctx_st EVP_PKEY_CTX;
typedef struct evp_md_st EVP_MD;
typedef struct engine_st ENGINE;

#define BH_EVP_PKEY_RSA 6
#define BH_RSA_PKCS1_PADDING 1
#define BH_RSA_PKCS1_PSS_PADDING 6

static struct {
	EVP_PKEY *(*d2i_PrivateKey)(int, EVP_PKEY **, const unsigned char **, long);
	void (*EVP_PKEY_free)(EVP_PKEY *);
	EVP_PKEY_CTX *(*EVP_PKEY_CTX_new)(EVP_PKEY *, ENGINE *);
	void (*EVP_PKEY_CTX_free)(EVP_PKEY_CTX *);
	int (*EVP_PKEY_sign_init)(EVP_PKEY_CTX *);
	int (*EVP_PKEY_CTX_set_rsa_padding)(EVP_PKEY_CTX *, int);
	int (*EVP_PKEY_CTX_set_signature_md)(EVP_PKEY_CTX *, const EVP_MD *);
	int (*EVP_PKEY_CTX_set_rsa_pss_saltlen)(EVP_PKEY_CTX *, int);
	int (*EVP_PKEY_sign)(EVP_PKEY_CTX *, unsigned char *, size_t *, const unsigned char *, size_t);
	const EVP_MD *(*EVP_sha1)(void);
	const EVP_MD *(*EVP_sha256)(void);
	const EVP_MD *(*EVP_sha384)(void);
	const EVP_MD *(*EVP_sha512)(void);
} bh;

#define BH_SYM(name) if ((*(void **)(&bh.name) = dlsym(lib, #name)) == NULL) return "libcrypto has no " #name;

// bh_open loads libcrypto from path; NULL on success, else why not.
static const char *bh_open(const char *path) {
	void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		const char *err = dlerror();
		return err != NULL ? err : "dlopen failed";
	}
	BH_SYM(d2i_PrivateKey)
	BH_SYM(EVP_PKEY_free)
	BH_SYM(EVP_PKEY_CTX_new)
	BH_SYM(EVP_PKEY_CTX_free)
	BH_SYM(EVP_PKEY_sign_init)
	BH_SYM(EVP_PKEY_CTX_set_rsa_padding)
	BH_SYM(EVP_PKEY_CTX_set_signature_md)
	BH_SYM(EVP_PKEY_CTX_set_rsa_pss_saltlen)
	BH_SYM(EVP_PKEY_sign)
	BH_SYM(EVP_sha1)
	BH_SYM(EVP_sha256)
	BH_SYM(EVP_sha384)
	BH_SYM(EVP_sha512)
	return NULL;
}

static EVP_PKEY *bh_load_rsa(const unsigned char *der, long len) {
	const unsigned char *p = der;
	return bh.d2i_PrivateKey(BH_EVP_PKEY_RSA, NULL, &p, len);
}

static void bh_free(EVP_PKEY *key) { bh.EVP_PKEY_free(key); }

static const EVP_MD *bh_md(int id) {
	switch (id) {
	case 1: return bh.EVP_sha1();
	case 256: return bh.EVP_sha256();
	case 384: return bh.EVP_sha384();
	case 512: return bh.EVP_sha512();
	}
	return NULL;
}

// bh_sign signs digest with key. mdid 0 with PKCS #1 v1.5 is the raw MD5+SHA1 signature
// of TLS 1.0 and 1.1. Returns 1 on success.
static int bh_sign(EVP_PKEY *key, int pss, int saltlen, int mdid,
		const unsigned char *digest, size_t dlen, unsigned char *sig, size_t *siglen) {
	EVP_PKEY_CTX *ctx = bh.EVP_PKEY_CTX_new(key, NULL);
	if (ctx == NULL) {
		return 0;
	}
	int ok = bh.EVP_PKEY_sign_init(ctx) > 0 &&
		bh.EVP_PKEY_CTX_set_rsa_padding(ctx, pss ? BH_RSA_PKCS1_PSS_PADDING : BH_RSA_PKCS1_PADDING) > 0 &&
		(mdid == 0 || bh.EVP_PKEY_CTX_set_signature_md(ctx, bh_md(mdid)) > 0) &&
		(!pss || bh.EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, saltlen) > 0) &&
		bh.EVP_PKEY_sign(ctx, sig, siglen, digest, dlen) > 0;
	bh.EVP_PKEY_CTX_free(ctx);
	return ok;
}
*/
import "C"

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"os"
	"runtime"
	"sync"
	"unsafe"
)

// OpenSSL 3's RSA_PSS_SALTLEN_* values.
const (
	saltLenDigest = -1
	saltLenMax    = -3
)

// LibraryEnv names the environment variable that overrides which libcrypto is opened.
const LibraryEnv = "BRIDGEHEAD_LIBCRYPTO"

var load = sync.OnceValue(func() error {
	path := os.Getenv(LibraryEnv)
	if path == "" {
		path = "libcrypto.so.3"
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	if msg := C.bh_open(cpath); msg != nil {
		return errors.New(C.GoString(msg))
	}
	return nil
})

// Available reports whether RSA signatures go to OpenSSL: libcrypto 3 could be opened.
func Available() bool { return load() == nil }

// Unavailable says why Available is false ("" when it is true).
func Unavailable() string {
	if err := load(); err != nil {
		return err.Error()
	}
	return ""
}

// opensslKey owns an EVP_PKEY; a cleanup frees it when the signer is unreachable, which
// happens when no snapshot serves the certificate any more.
type opensslKey struct {
	pkey *C.EVP_PKEY
	size int
}

func newSigner(key *rsa.PrivateKey) (*signer, error) {
	der := x509.MarshalPKCS1PrivateKey(key)
	pkey := C.bh_load_rsa((*C.uchar)(unsafe.Pointer(&der[0])), C.long(len(der)))
	clear(der)
	if pkey == nil {
		return nil, errors.New("opensslrsa: libcrypto refused the RSA key")
	}
	k := &opensslKey{pkey: pkey, size: key.Size()}
	runtime.AddCleanup(k, func(p *C.EVP_PKEY) { C.bh_free(p) }, pkey)
	return &signer{key: key, impl: k}, nil
}

// mdID maps the hashes TLS signs with to bh_md's ids; MD5SHA1 (TLS 1.0/1.1) signs raw.
func mdID(h crypto.Hash) (id C.int, ok bool) {
	switch h {
	case crypto.SHA1:
		return 1, true
	case crypto.SHA256:
		return 256, true
	case crypto.SHA384:
		return 384, true
	case crypto.SHA512:
		return 512, true
	case crypto.MD5SHA1:
		return 0, true
	}
	return 0, false
}

// sign returns ok false for what it does not handle, so the caller uses Go.
func (k *opensslKey) sign(digest []byte, opts crypto.SignerOpts) (sig []byte, ok bool, err error) {
	h := opts.HashFunc()
	id, known := mdID(h)
	if !known || len(digest) != h.Size() || len(digest) == 0 {
		return nil, false, nil
	}
	pss, salt := C.int(0), C.int(0)
	if o, isPSS := opts.(*rsa.PSSOptions); isPSS {
		if h == crypto.MD5SHA1 {
			return nil, false, nil
		}
		pss = 1
		switch o.SaltLength {
		case rsa.PSSSaltLengthEqualsHash:
			salt = saltLenDigest
		case rsa.PSSSaltLengthAuto:
			salt = saltLenMax
		default:
			salt = C.int(o.SaltLength)
		}
	}
	sig = make([]byte, k.size)
	n := C.size_t(len(sig))
	okC := C.bh_sign(k.pkey, pss, salt, id, (*C.uchar)(unsafe.Pointer(&digest[0])), C.size_t(len(digest)),
		(*C.uchar)(unsafe.Pointer(&sig[0])), &n)
	runtime.KeepAlive(k)
	if okC != 1 {
		return nil, true, errors.New("opensslrsa: libcrypto failed to sign")
	}
	return sig[:n], true, nil
}
