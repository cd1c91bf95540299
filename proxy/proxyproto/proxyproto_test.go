package proxyproto

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
)

func TestProxyHeaderRoundTrip(t *testing.T) {
	client := &net.TCPAddr{IP: net.ParseIP("203.0.113.7"), Port: 51234}
	client6 := &net.TCPAddr{IP: net.ParseIP("2001:db8::7"), Port: 443}
	local := &net.TCPAddr{IP: net.ParseIP("10.0.0.1"), Port: 8443}
	local6 := &net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 8443}
	for _, tc := range []struct {
		from, to *net.TCPAddr
		version  int
	}{{client, local, 1}, {client, local, 2}, {client6, local6, 1}, {client6, local6, 2}} {
		var buf bytes.Buffer
		if err := WriteHeader(&buf, tc.version, tc.from, tc.to); err != nil {
			t.Fatal(err)
		}
		buf.WriteString("after")
		got, err := ReadHeader(&buf)
		if err != nil {
			t.Fatalf("v%d: %v", tc.version, err)
		}
		if got.String() != tc.from.String() {
			t.Fatalf("v%d: got %s, want %s", tc.version, got, tc.from)
		}
		if rest, _ := io.ReadAll(&buf); string(rest) != "after" {
			t.Fatalf("v%d: the header reader consumed %q past the header", tc.version, "after"[:5-len(rest)])
		}
	}
}

func TestProxyHeaderRejectsWhatIsNotOne(t *testing.T) {
	for _, in := range []string{
		"GET / HTTP/1.1\r\n\r\n",
		"PROXY TCP4 1.2.3.4\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 99999 80\r\n",
		"PROXY TCP4 ::1 ::1 1 2\r\n",
		"PROXY TCP4 1.2.3.4 5.6.7.8 01 80\r\n",
		"PROXY " + strings.Repeat("x", 200),
		"\r\n\r\n\x00\r\nQUIT\n\x31\x11\x00\x0c",
	} {
		if _, err := ReadHeader(strings.NewReader(in)); err == nil {
			t.Errorf("accepted %q", in)
		}
	}
	if a, err := ReadHeader(strings.NewReader("PROXY UNKNOWN\r\n")); err != nil || a != nil {
		t.Errorf("UNKNOWN: got %v, %v; want no address and no error", a, err)
	}
}

func FuzzReadProxyHeader(f *testing.F) {
	var v2 bytes.Buffer
	_ = WriteHeader(&v2, 2, &net.TCPAddr{IP: net.ParseIP("192.0.2.1"), Port: 1}, &net.TCPAddr{IP: net.ParseIP("192.0.2.2"), Port: 2})
	for _, s := range []string{"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "PROXY TCP6 ::1 ::2 3 4\r\n", "PROXY UNKNOWN\r\n", v2.String(), "GET /"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		addr, err := ReadHeader(r)
		if err == nil && addr != nil {
			if _, _, splitErr := net.SplitHostPort(addr.String()); splitErr != nil {
				t.Fatalf("accepted header gave address %q", addr)
			}
		}
	})
}
