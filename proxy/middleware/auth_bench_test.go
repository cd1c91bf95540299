package middleware

import (
	"net/http"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/bridgehead/bridgehead/internal/htpasswd"
	"github.com/bridgehead/bridgehead/internal/snapshot"
)

// BenchmarkBasicAuth is the per-request cost of each hash kind: every request with
// credentials is checked against the hash (bcrypt's cost is the point of bcrypt).
func BenchmarkBasicAuth(b *testing.B) {
	bc5, _ := bcrypt.GenerateFromPassword([]byte("pw"), 5)
	bc10, _ := bcrypt.GenerateFromPassword([]byte("pw"), 10)
	for name, hash := range map[string]string{
		"sha1": htpasswd.SHA1Hash([]byte("pw")), "apr1": "$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/",
		"bcrypt5": string(bc5), "bcrypt10": string(bc10),
	} {
		b.Run(name, func(b *testing.B) {
			pw := "pw"
			if name == "apr1" {
				pw = "test"
			}
			h := Chain([]*snapshot.Middleware{{BasicAuth: &snapshot.BasicAuth{Realm: "r", Users: map[string]string{"u": hash}}}}, &capture{})
			r := newReq(http.MethodGet, "/", "example.com")
			r.SetBasicAuth("u", pw)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
				if w.code != http.StatusOK {
					b.Fatalf("status %d", w.code)
				}
			}
		})
	}
}
