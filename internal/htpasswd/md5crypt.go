package htpasswd

import (
	"bytes"
	"crypto/md5" //nolint:gosec // MD5-crypt is MD5 by definition; we only verify such hashes
)

var (
	apr1Magic = []byte("$apr1$")
	md5Magic  = []byte("$1$")
)

// md5Parts returns the salt of an MD5-crypt hash "magic salt $ 22 characters".
func md5Parts(hash string, magic []byte) ([]byte, bool) {
	rest := []byte(hash)[len(magic):]
	i := bytes.IndexByte(rest, '$')
	if i < 0 || i > 8 || len(rest)-i-1 != 22 {
		return nil, false
	}
	return rest[:i], true
}

const crypt64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// md5Crypt is Poul-Henning Kamp's MD5-based crypt (FreeBSD's $1$, Apache's $apr1$ differs
// only in the magic string), written from its published description.
func md5Crypt(password, salt, magic []byte) []byte {
	alt := md5.New()
	alt.Write(password)
	alt.Write(salt)
	alt.Write(password)
	altSum := alt.Sum(nil)

	d := md5.New()
	d.Write(password)
	d.Write(magic)
	d.Write(salt)
	for n := len(password); n > 0; n -= md5.Size {
		d.Write(altSum[:min(n, md5.Size)])
	}
	for n := len(password); n > 0; n >>= 1 {
		if n&1 == 1 {
			d.Write([]byte{0})
		} else {
			d.Write(password[:1])
		}
	}
	sum := d.Sum(nil)

	// 1000 rounds, to make guessing slow (by the standards of 1994).
	for i := range 1000 {
		r := md5.New()
		if i&1 == 1 {
			r.Write(password)
		} else {
			r.Write(sum)
		}
		if i%3 != 0 {
			r.Write(salt)
		}
		if i%7 != 0 {
			r.Write(password)
		}
		if i&1 == 1 {
			r.Write(sum)
		} else {
			r.Write(password)
		}
		sum = r.Sum(sum[:0])
	}

	out := make([]byte, 0, len(magic)+len(salt)+1+22)
	out = append(out, magic...)
	out = append(out, salt...)
	out = append(out, '$')
	put := func(v uint32, n int) {
		for range n {
			out = append(out, crypt64[v&0x3f])
			v >>= 6
		}
	}
	for _, g := range [5][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		put(uint32(sum[g[0]])<<16|uint32(sum[g[1]])<<8|uint32(sum[g[2]]), 4)
	}
	put(uint32(sum[11]), 2)
	return out
}
