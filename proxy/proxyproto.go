package proxy

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
)

// writeProxyHeader sends a PROXY protocol header (version 1 or 2) carrying the client's
// address to the backend, before any client byte.
func writeProxyHeader(w io.Writer, version int, client, local net.Addr) error {
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
		hdr = append(hdr, proxyV2Signature...)
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

var proxyV2Signature = []byte{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A}
