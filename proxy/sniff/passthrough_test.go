package sniff_test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/proxy/sniff"
)

var testCA = pki.MustCA("sniff test CA")

func leafOptions(names ...string) pki.Options {
	return pki.Options{DNSNames: names}
}

// TestPeekPassthrough is SNI passthrough end to end: client -> Peek -> raw copy ->
// backend that terminates TLS. The backend must receive exactly the bytes the client
// sent, which is only true if the prefix is replayed once and nothing is lost.
func TestPeekPassthrough(t *testing.T) {
	for _, mode := range []string{"Prefix then Underlying", "io.Copy via WriteTo"} {
		t.Run(mode, func(t *testing.T) {
			leaf := testCA.MustIssue("pass.test", leafOptions("pass.test"))
			backendLn, proxyLn := listen(t), listen(t)

			type result struct {
				received []byte
				err      error
			}
			backend := make(chan result, 1)
			go func() {
				raw, err := backendLn.Accept()
				if err != nil {
					backend <- result{err: err}
					return
				}
				rc := &recConn{Conn: raw}
				_ = rc.SetDeadline(time.Now().Add(10 * time.Second))
				err = pingPongServer(tls.Server(rc, &tls.Config{Certificates: []tls.Certificate{leaf.TLS}}), "ping", "pong")
				backend <- result{received: rc.received(), err: err}
			}()

			clientRaw, err := net.Dial("tcp", proxyLn.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			client := &recConn{Conn: clientRaw}
			_ = client.SetDeadline(time.Now().Add(10 * time.Second))
			clientErr := make(chan error, 1)
			go func() {
				clientErr <- pingPong(tls.Client(client, &tls.Config{ServerName: "pass.test", RootCAs: testCA.Pool()}), "ping", "pong")
			}()

			// The proxy.
			down := accept(t, proxyLn)
			hello, conn, err := sniff.Peek(down, 5*time.Second, 0)
			if err != nil {
				t.Fatalf("Peek: %v", err)
			}
			if hello.ServerName != "pass.test" {
				t.Fatalf("ServerName = %q", hello.ServerName)
			}
			sc := conn.(*sniff.Conn)
			upConn, err := net.Dial("tcp", backendLn.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			up := upConn.(*net.TCPConn)
			closeOnCleanup(t, up, sc)
			var wg sync.WaitGroup
			wg.Go(func() {
				if mode == "io.Copy via WriteTo" {
					_, _ = io.Copy(up, sc)
				} else {
					// What a splicing proxy does: the prefix, then TCP to TCP.
					if _, err := up.Write(sc.Prefix()); err == nil {
						_, _ = io.Copy(up, sc.Underlying().(*net.TCPConn))
					}
				}
				_ = up.CloseWrite()
			})
			wg.Go(func() {
				_, _ = io.Copy(sc.Underlying(), up)
				_ = sc.CloseWrite()
			})

			if err := <-clientErr; err != nil {
				t.Fatalf("client: %v", err)
			}
			res := <-backend
			if res.err != nil {
				t.Fatalf("backend: %v", res.err)
			}
			wg.Wait()
			if sent := client.sent(); !bytes.Equal(res.received, sent) {
				t.Errorf("backend received %d bytes, client sent %d: the byte streams differ", len(res.received), len(sent))
			}
		})
	}
}

// pingPong is the client side: handshake, send ping, expect pong, close_notify, wait
// for the server's close_notify.
func pingPong(tc *tls.Conn, ping, pong string) error {
	defer func() { _ = tc.Close() }()
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	if _, err := tc.Write([]byte(ping)); err != nil {
		return err
	}
	got := make([]byte, len(pong))
	if _, err := io.ReadFull(tc, got); err != nil {
		return fmt.Errorf("reading %q: %w", pong, err)
	}
	if string(got) != pong {
		return fmt.Errorf("read %q, want %q", got, pong)
	}
	if err := tc.CloseWrite(); err != nil {
		return err
	}
	_, err := io.ReadAll(tc)
	return err
}

// pingPongServer is the server side of pingPong.
func pingPongServer(tc *tls.Conn, ping, pong string) error {
	defer func() { _ = tc.Close() }()
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	got := make([]byte, len(ping))
	if _, err := io.ReadFull(tc, got); err != nil {
		return fmt.Errorf("reading %q: %w", ping, err)
	}
	if string(got) != ping {
		return fmt.Errorf("read %q, want %q", got, ping)
	}
	if _, err := tc.Write([]byte(pong)); err != nil {
		return err
	}
	_, err := io.ReadAll(tc) // until the client's close_notify
	return err
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

func accept(t *testing.T, ln net.Listener) net.Conn {
	t.Helper()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// closeOnCleanup closes cs when the test ends, unblocking any goroutine still on them.
func closeOnCleanup(t *testing.T, cs ...io.Closer) {
	t.Helper()
	t.Cleanup(func() {
		for _, c := range cs {
			_ = c.Close()
		}
	})
}
