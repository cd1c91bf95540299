//go:build !linux

package relay

import "net"

type loop struct{}

func newLoop() (*loop, error) { return nil, ErrUnsupported }

func (l *loop) start(*net.TCPConn, *net.TCPConn, Options, func(Result)) (*Handle, error) {
	return nil, ErrUnsupported
}
