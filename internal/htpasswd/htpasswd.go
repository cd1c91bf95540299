// Package htpasswd reads htpasswd user lists and checks passwords against their hashes, with
// the hash kinds Traefik's basicAuth accepts: bcrypt ($2a$, $2b$, $2x$, $2y$), SHA-1 ({SHA})
// and MD5-crypt (Apache's $apr1$ and crypt's $1$). Other kinds (plain text, crypt's $5$ and
// $6$, DES crypt) match no password in Traefik; here Parse refuses them, so a list that
// could lock everyone out is reported instead of served.
package htpasswd

import (
	"bufio"
	"bytes"
	"crypto/sha1" //nolint:gosec // {SHA} entries are SHA-1 by definition; we only verify them
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Kind is a supported hash kind.
type Kind string

// The hash kinds Check verifies.
const (
	Bcrypt Kind = "bcrypt"
	SHA1   Kind = "sha1"
	APR1   Kind = "apr1"
	MD5    Kind = "md5crypt"
)

// MaxBcryptCost is the highest bcrypt cost accepted, the highest htpasswd -C writes: every
// request with a password is checked against the hash, and cost 31 would take hours each.
const MaxBcryptCost = 17

// KindOf says which supported kind hash is, or "" when none.
func KindOf(hash string) Kind {
	switch {
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"),
		strings.HasPrefix(hash, "$2x$"), strings.HasPrefix(hash, "$2y$"):
		if c, err := bcrypt.Cost([]byte(hash)); err != nil || c > MaxBcryptCost {
			return ""
		}
		return Bcrypt
	case strings.HasPrefix(hash, "{SHA}"):
		if d, err := base64.StdEncoding.DecodeString(hash[len("{SHA}"):]); err != nil || len(d) != sha1.Size {
			return ""
		}
		return SHA1
	case strings.HasPrefix(hash, "$apr1$"):
		if _, ok := md5Parts(hash, apr1Magic); ok {
			return APR1
		}
	case strings.HasPrefix(hash, "$1$"):
		if _, ok := md5Parts(hash, md5Magic); ok {
			return MD5
		}
	}
	return ""
}

// SHA1Hash is the {SHA} hash of password, as Traefik stores the password of a
// kubernetes.io/basic-auth Secret.
func SHA1Hash(password []byte) string {
	sum := sha1.Sum(password) //nolint:gosec // the format Traefik uses for these Secrets
	return "{SHA}" + base64.StdEncoding.EncodeToString(sum[:])
}

// Check reports whether password matches hash; a hash of no supported kind matches nothing.
func Check(hash, password string) bool {
	switch KindOf(hash) {
	case Bcrypt:
		return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
	case SHA1:
		return subtle.ConstantTimeCompare([]byte(hash), []byte(SHA1Hash([]byte(password)))) == 1
	case APR1:
		salt, _ := md5Parts(hash, apr1Magic)
		return subtle.ConstantTimeCompare([]byte(hash), md5Crypt([]byte(password), salt, apr1Magic)) == 1
	case MD5:
		salt, _ := md5Parts(hash, md5Magic)
		return subtle.ConstantTimeCompare([]byte(hash), md5Crypt([]byte(password), salt, md5Magic)) == 1
	}
	return false
}

// LineError is a line of a user list that cannot be used. It never holds the hash.
type LineError struct {
	Line int // 1-based
	User string
	Why  string
}

func (e *LineError) Error() string {
	if e.User == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Why)
	}
	return fmt.Sprintf("line %d (user %q): %s", e.Line, e.User, e.Why)
}

// Parse reads "name:hash" lines as Traefik reads a Secret's user list: empty lines are
// skipped, every other line is one user, split at its only colon; a later line for the
// same user replaces an earlier one. It returns the users, or the first unusable line.
func Parse(data []byte) (map[string]string, error) {
	users := map[string]string{}
	err := eachUser(data, 2, "name:hash", func(n int, parts []string) error {
		user, hash := parts[0], parts[1]
		if c, err := bcrypt.Cost([]byte(hash)); err == nil && c > MaxBcryptCost {
			return &LineError{Line: n, User: user, Why: fmt.Sprintf("the bcrypt cost is %d, above %d: every request would spend that long checking it; hash it again with htpasswd -B -C 10", c, MaxBcryptCost)}
		}
		if KindOf(hash) == "" {
			return &LineError{Line: n, User: user, Why: "the password is not hashed with bcrypt, SHA-1 ({SHA}) or MD5 ($apr1$, $1$), the kinds Traefik accepts; hash it with htpasswd -B (bcrypt)"}
		}
		users[user] = hash
		return nil
	})
	if err != nil {
		return nil, err
	}
	return users, nil
}

// eachUser calls fn with every non-empty line of data split at its colons, which must
// give fields parts (format names them, for the message) and a user name first.
func eachUser(data []byte, fields int, format string, fn func(line int, parts []string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" {
			continue
		}
		parts := strings.Split(line, ":")
		if len(parts) != fields {
			return &LineError{Line: n, Why: fmt.Sprintf("has %d colons; write one user per line as %s", len(parts)-1, format)}
		}
		if parts[0] == "" {
			return &LineError{Line: n, Why: "has no user name before the first colon"}
		}
		if err := fn(n, parts); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return &LineError{Line: n + 1, Why: err.Error()}
	}
	return nil
}
