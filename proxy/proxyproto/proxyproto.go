package proxyproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// WriteHeader sends a PROXY protocol header (version 1 or 2) carrying the client's
// address to the backend, before any client byte.
func WriteHeader(w io.Writer, version int, client, local net.Addr) error {
	src, err1 := netip.ParseAddrPort(client.String())
	dst, err2 := netip.ParseAddrPort(local.String())
	if err1 != nil || err2 != nil {
		return fmt.Errorf("PROXY header: addresses %s -> %s are not IP:port", client, local)
	}
	srcIP, dstIP := src.Addr().Unmap(), dst.Addr().Unmap()
	if srcIP.Is4() != dstIP.Is4() {
		// Mixed families cannot share one header line; send both as IPv6.
		srcIP, dstIP = netip.AddrFrom16(srcIP.As16()), netip.AddrFrom16(dstIP.As16())
	}
	var hdr []byte
	if version == 1 {
		fam := "TCP4"
		if !srcIP.Is4() {
			fam = "TCP6"
		}
		hdr = []byte("PROXY " + fam + " " + srcIP.String() + " " + dstIP.String() + " " +
			strconv.Itoa(int(src.Port())) + " " + strconv.Itoa(int(dst.Port())) + "\r\n")
	} else {
		hdr = append(hdr, v2Signature...)
		hdr = append(hdr, 0x21) // version 2, PROXY command
		if srcIP.Is4() {
			hdr = append(hdr, 0x11, 0, 12) // TCP over IPv4, 12 address bytes
			a, b := srcIP.As4(), dstIP.As4()
			hdr = append(append(hdr, a[:]...), b[:]...)
		} else {
			hdr = append(hdr, 0x21, 0, 36) // TCP over IPv6, 36 address bytes
			a, b := srcIP.As16(), dstIP.As16()
			hdr = append(append(hdr, a[:]...), b[:]...)
		}
		hdr = binary.BigEndian.AppendUint16(hdr, src.Port())
		hdr = binary.BigEndian.AppendUint16(hdr, dst.Port())
	}
	_, err := w.Write(hdr)
	return err
}

var v2Signature = []byte{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A}

// ErrNoHeader is returned when a trusted peer sends no valid PROXY header.
var ErrNoHeader = errors.New("PROXY protocol header expected from a trusted load balancer")

// ReadHeader reads a PROXY protocol v1 or v2 header from r, byte-exact (nothing
// after the header is consumed), and returns the client address it carries. A LOCAL
// (health-check) header or an UNKNOWN family yields a nil address: keep the peer's.
func ReadHeader(r io.Reader) (net.Addr, error) {
	first := make([]byte, 12)
	if _, err := io.ReadFull(r, first[:5]); err != nil {
		return nil, err
	}
	if string(first[:5]) == "PROXY" {
		return readV1(r)
	}
	if _, err := io.ReadFull(r, first[5:]); err != nil {
		return nil, err
	}
	if !bytes.Equal(first, v2Signature) {
		return nil, ErrNoHeader
	}
	return readV2(r)
}

func readV1(r io.Reader) (net.Addr, error) {
	// The whole line is at most 107 bytes; read it byte by byte so nothing more is taken.
	line := make([]byte, 0, 107)
	b := make([]byte, 1)
	for {
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		line = append(line, b[0])
		if b[0] == '\n' {
			break
		}
		if len(line) >= 102 {
			return nil, fmt.Errorf("%w: v1 line too long", ErrNoHeader)
		}
	}
	fields := strings.Fields(strings.TrimSuffix(string(line), "\r\n"))
	if len(fields) >= 1 && fields[0] == "UNKNOWN" {
		return nil, nil
	}
	if len(fields) != 5 || (fields[0] != "TCP4" && fields[0] != "TCP6") || !strings.HasSuffix(string(line), "\r\n") {
		return nil, fmt.Errorf("%w: malformed v1 line", ErrNoHeader)
	}
	ip, err := netip.ParseAddr(fields[1])
	if err != nil || ip.Is4() != (fields[0] == "TCP4") {
		return nil, fmt.Errorf("%w: bad v1 source address", ErrNoHeader)
	}
	if _, err := netip.ParseAddr(fields[2]); err != nil {
		return nil, fmt.Errorf("%w: bad v1 destination address", ErrNoHeader)
	}
	port, err := strconv.ParseUint(fields[3], 10, 16)
	if err != nil || (len(fields[3]) > 1 && fields[3][0] == '0') {
		return nil, fmt.Errorf("%w: bad v1 source port", ErrNoHeader)
	}
	if _, err := strconv.ParseUint(fields[4], 10, 16); err != nil {
		return nil, fmt.Errorf("%w: bad v1 destination port", ErrNoHeader)
	}
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))), nil
}

func readV2(r io.Reader) (net.Addr, error) {
	hdr := make([]byte, 4)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, err
	}
	if hdr[0]>>4 != 2 {
		return nil, fmt.Errorf("%w: version %d", ErrNoHeader, hdr[0]>>4)
	}
	length := int(binary.BigEndian.Uint16(hdr[2:]))
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	switch cmd := hdr[0] & 0x0F; cmd {
	case 0: // LOCAL: the balancer's own connection
		return nil, nil
	case 1:
	default:
		return nil, fmt.Errorf("%w: command %d", ErrNoHeader, cmd)
	}
	switch hdr[1] {
	case 0x11: // TCP over IPv4
		if length < 12 {
			return nil, fmt.Errorf("%w: short IPv4 block", ErrNoHeader)
		}
		ip := netip.AddrFrom4([4]byte(body[0:4]))
		return net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, binary.BigEndian.Uint16(body[8:10]))), nil
	case 0x21: // TCP over IPv6
		if length < 36 {
			return nil, fmt.Errorf("%w: short IPv6 block", ErrNoHeader)
		}
		ip := netip.AddrFrom16([16]byte(body[0:16])).Unmap()
		return net.TCPAddrFromAddrPort(netip.AddrPortFrom(ip, binary.BigEndian.Uint16(body[32:34]))), nil
	default:
		return nil, nil // UNSPEC, UDP or UNIX: no TCP client address to adopt
	}
}
