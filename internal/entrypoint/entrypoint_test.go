package entrypoint

import "testing"

// What Parse accepts it prints back to a value it reads the same way, and it never panics.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"dns=:53/udp", "pg=127.0.0.1:5432", "v6=[::1]:853/tcp", "x=:0", "a=b", "=", "dns=:53/", "dns=[::1/udp", "é=:1", "a=:+1", "a=[fe80::1%eth0]:53/UDP"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ep, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(ep.String())
		if err != nil || again != ep {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, ep, ep.String(), again, err)
		}
	})
}
