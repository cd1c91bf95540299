package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/bridgehead/bridgehead/internal/htpasswd"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

func TestBasicAuth(t *testing.T) {
	bc, err := bcrypt.GenerateFromPassword([]byte("alice-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]string{
		"alice": string(bc),
		"bob":   htpasswd.SHA1Hash([]byte("bob-pw")),
		"test":  "$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/", // password test
	}
	for _, tc := range []struct {
		name         string
		cfg          snapshot.BasicAuth
		user, pw     string
		noAuth       bool
		want         int
		wantUser     string // header field value the backend sees
		wantAuthGone bool
	}{
		{name: "bcrypt user", cfg: snapshot.BasicAuth{Realm: "traefik", Users: users}, user: "alice", pw: "alice-pw", want: 200},
		{name: "sha1 user", cfg: snapshot.BasicAuth{Realm: "traefik", Users: users}, user: "bob", pw: "bob-pw", want: 200},
		{name: "apr1 user", cfg: snapshot.BasicAuth{Realm: "traefik", Users: users}, user: "test", pw: "test", want: 200},
		{name: "wrong password", cfg: snapshot.BasicAuth{Realm: "traefik", Users: users}, user: "alice", pw: "bob-pw", want: 401},
		{name: "unknown user", cfg: snapshot.BasicAuth{Realm: "traefik", Users: users}, user: "mallory", pw: "alice-pw", want: 401},
		{name: "no credentials", cfg: snapshot.BasicAuth{Realm: "staff", Users: users}, noAuth: true, want: 401},
		{name: "headerField and removeHeader", cfg: snapshot.BasicAuth{Realm: "traefik", Users: users, HeaderField: "x-webauth-user", RemoveHeader: true},
			user: "bob", pw: "bob-pw", want: 200, wantUser: "bob", wantAuthGone: true},
		{name: "no users admits nobody", cfg: snapshot.BasicAuth{Realm: "traefik"}, user: "bob", pw: "bob-pw", want: 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := &capture{}
			cfg := tc.cfg
			h := Chain([]*snapshot.Middleware{{BasicAuth: &cfg}}, next)
			r := newReq(http.MethodGet, "/", "example.com")
			r.Header.Set("X-Webauth-User", "spoofed")
			if !tc.noAuth {
				r.SetBasicAuth(tc.user, tc.pw)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d", w.Code, tc.want)
			}
			if tc.want == http.StatusUnauthorized {
				if got, want := w.Header().Get("WWW-Authenticate"), `Basic realm="`+cfg.Realm+`"`; got != want {
					t.Errorf("WWW-Authenticate %q, want %q", got, want)
				}
				if next.called {
					t.Error("the backend was reached without valid credentials")
				}
				return
			}
			if tc.wantUser != "" && next.header.Get("X-Webauth-User") != tc.wantUser {
				t.Errorf("X-Webauth-User %q, want %q (a client-sent value must be replaced)", next.header.Get("X-Webauth-User"), tc.wantUser)
			}
			if gone := next.header.Get("Authorization") == ""; gone != tc.wantAuthGone {
				t.Errorf("Authorization removed = %v, want %v", gone, tc.wantAuthGone)
			}
		})
	}
}
