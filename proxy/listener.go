package proxy

import (
	"crypto/tls"
	"net"
)

// tlsListener wraps accepted connections in server-side TLS whose configuration is
// chosen per SNI from the current state.
type tlsListener struct {
	net.Listener
	srv *Server
}

func (l *tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return tls.Server(c, l.srv.base), nil
}

// configForClient returns the prebuilt config of the ClientHello's SNI and records, in
// the connection's context, which TLS policy the connection is negotiated under.
func (s *Server) configForClient(chi *tls.ClientHelloInfo) (*tls.Config, error) {
	st := s.state.Load()
	if st == nil {
		s.metrics.handshakeFailure("NotReady")
		return nil, errNotReady
	}
	cfg, policy, err := st.edge.configFor(chi.ServerName)
	if err != nil {
		s.metrics.handshakeFailure("Refused")
		s.log.Debug("TLS handshake refused", "sni", chi.ServerName, "remote", chi.Conn.RemoteAddr().String(), "reason", err.Error())
		return nil, err
	}
	if cs := connStateFrom(chi.Context()); cs != nil {
		cs.policy = policy
	}
	return cfg, nil
}
