package htpasswd

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestCheckAgainstOpenSSL(t *testing.T) {
	for _, flag := range []string{"-apr1", "-1"} {
		for _, pw := range []string{"test", "correct horse battery staple", "ä€", "a", "exactly-sixteen!", "seventeen-chars!!"} {
			cmd := exec.Command("openssl", "passwd", flag, "-stdin")
			cmd.Stdin = strings.NewReader(pw + "\n")
			out, err := cmd.Output()
			if err != nil {
				t.Skipf("openssl passwd %s -stdin: %v", flag, err)
			}
			hash := strings.TrimSpace(string(out))
			if !Check(hash, pw) {
				t.Errorf("openssl passwd %s %q = %s: Check says no", flag, pw, hash)
			}
			if Check(hash, pw+"x") || Check(hash, "") {
				t.Errorf("%s matches a wrong password", hash)
			}
		}
	}
}

func TestCheck(t *testing.T) {
	bc, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	y := "$2y$" + string(bc[4:]) // what htpasswd -B writes
	for _, c := range []struct {
		hash, pw string
		want     bool
	}{
		{"$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/", "test", true}, // Traefik's own test entry
		{"$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/", "Test", false},
		{SHA1Hash([]byte("s3cret")), "s3cret", true},
		{SHA1Hash([]byte("s3cret")), "s3cre", false},
		{string(bc), "s3cret", true},
		{y, "s3cret", true},
		{y, "nope", false},
		{"s3cret", "s3cret", false}, // plain text is not a hash
		{"$6$salt$abc", "x", false},
	} {
		if got := Check(c.hash, c.pw); got != c.want {
			t.Errorf("Check(%q, %q) = %v, want %v", c.hash, c.pw, got, c.want)
		}
	}
}

func TestParse(t *testing.T) {
	users, err := Parse([]byte("alice:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/\n\nbob:" + SHA1Hash([]byte("b")) + "\nalice:" + SHA1Hash([]byte("a2")) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || !Check(users["alice"], "a2") || !Check(users["bob"], "b") {
		t.Errorf("users = %v; want alice (last line wins) and bob", users)
	}
	for in, want := range map[string]string{
		"alice:plain": `line 1 (user "alice"): the password is not hashed`,
		"ok:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\nbob": "line 2: has 0 colons",
		"a:b:c":                              "line 1: has 2 colons",
		":{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=": "line 1: has no user name",
		"carol:$6$rounds=5000$salt$hash":     `line 1 (user "carol")`,
	} {
		_, err := Parse([]byte(in))
		var le *LineError
		if !errors.As(err, &le) || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", in, err, want)
		}
		if _, hash, ok := strings.Cut(in, ":"); ok && len(hash) > 4 && strings.Contains(err.Error(), hash) {
			t.Errorf("Parse(%q) error echoes the hash: %v", in, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("alice:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/\n"))
	f.Add([]byte("bob:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\r\n\n"))
	f.Add([]byte("c:$2y$04$.8sTYfcxbSplCtoxt5TdJOgpBYkarKtZYsYfYxQ1edbYRuO1DNi0e"))
	f.Fuzz(func(t *testing.T, data []byte) {
		users, err := Parse(data)
		if err != nil {
			return
		}
		for u, h := range users {
			if u == "" || strings.Contains(u, ":") || KindOf(h) == "" {
				t.Fatalf("accepted user %q with hash %q", u, h)
			}
			if KindOf(h) != Bcrypt { // bcrypt at cost 17 is slow by design
				_ = Check(h, "x")
			}
		}
	})
}

func TestParseDigest(t *testing.T) {
	ha1 := HA1("alice", "traefik", "pw")
	users, err := ParseDigest([]byte("alice:traefik:" + strings.ToUpper(ha1) + "\n\nbob:other:" + HA1("bob", "other", "x") + "\nalice:traefik:" + HA1("alice", "traefik", "pw2") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0] != (DigestUser{"alice", "traefik", HA1("alice", "traefik", "pw2")}) || users[1].Realm != "other" {
		t.Errorf("users = %+v", users)
	}
	for in, want := range map[string]string{
		"alice:" + ha1:                "line 1: has 1 colons",
		"alice:traefik:nothex":        `line 1 (user "alice"): the hash is not 32 hexadecimal digits`,
		"ok:r:" + ha1 + "\n:r:" + ha1: "line 2: has no user name",
	} {
		if _, err := ParseDigest([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDigest(%q) = %v, want %q", in, err, want)
		}
	}
}

func FuzzParseDigest(f *testing.F) {
	f.Add([]byte("alice:traefik:" + HA1("alice", "traefik", "pw") + "\n"))
	f.Add([]byte("a:b:c:d\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		users, err := ParseDigest(data)
		if err != nil {
			return
		}
		for _, u := range users {
			if u.User == "" || len(u.HA1) != 32 || strings.Contains(u.User+u.Realm, ":") {
				t.Fatalf("accepted %+v", u)
			}
		}
	})
}
