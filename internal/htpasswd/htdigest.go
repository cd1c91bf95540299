package htpasswd

import (
	"crypto/md5" //nolint:gosec // HTTP Digest's MD5 algorithm, as Traefik's digestAuth speaks it
	"encoding/hex"
	"strings"
)

// DigestUser is one htdigest line: HA1 is MD5(user:realm:password), in lower-case hex.
type DigestUser struct {
	User, Realm, HA1 string
}

// HA1 is MD5(user:realm:password) in hex, what htdigest stores.
func HA1(user, realm, password string) string {
	sum := md5.Sum([]byte(user + ":" + realm + ":" + password)) //nolint:gosec // the Digest algorithm
	return hex.EncodeToString(sum[:])
}

// ParseDigest reads "user:realm:HA1" lines (htdigest's format) as Traefik reads a Secret's
// digestAuth list: empty lines are skipped, every other line splits into exactly three
// fields at its colons; a later line for the same user and realm replaces an earlier one.
func ParseDigest(data []byte) ([]DigestUser, error) {
	var out []DigestUser
	index := map[[2]string]int{}
	err := eachUser(data, 3, "name:realm:hash (htdigest's format)", func(n int, parts []string) error {
		u := DigestUser{User: parts[0], Realm: parts[1], HA1: strings.ToLower(parts[2])}
		if b, err := hex.DecodeString(u.HA1); err != nil || len(b) != md5.Size {
			return &LineError{Line: n, User: u.User, Why: "the hash is not 32 hexadecimal digits, MD5(name:realm:password) as htdigest writes it"}
		}
		k := [2]string{u.User, u.Realm}
		if i, ok := index[k]; ok {
			out[i] = u
			return nil
		}
		index[k] = len(out)
		out = append(out, u)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
