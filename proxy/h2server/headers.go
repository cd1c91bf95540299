package h2server

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// headerBlock decodes a connection's header blocks (HEADERS and its CONTINUATIONs) into
// one slice of fields the connection keeps, with the checks x/net's Framer makes when it
// decodes them itself (ReadMetaHeaders): valid names and values, pseudo-fields first and
// known, the header list size (beyond it the request is answered 431; far beyond it, or
// after an invalid field, the connection is closed).
//
// Why not ReadMetaHeaders: it grows a new slice of fields field by field for every block,
// and makes a frame struct around it: about 0.7 KB a request under the HTTP/2 bench.
type headerBlock struct {
	dec     *hpack.Decoder
	maxSize uint32
	meta    http2.MetaHeadersFrame // handed to processHeaders, used again for the next block
	remain  uint32
	sawReg  bool
	invalid error
	// open: a HEADERS started the block and its END_HEADERS has not come. A CONTINUATION
	// the Framer lets through without one (after a HEADERS it refused itself, such as one
	// with a bad pad length) is a connection error: HPACK's state is lost with the
	// fragment it skipped.
	open bool
}

func (hb *headerBlock) init(maxSize uint32) {
	hb.maxSize = maxSize
	hb.dec = hpack.NewDecoder(4096, hb.emit)
	hb.dec.SetMaxStringLength(int(maxSize))
}

func (hb *headerBlock) emit(hf hpack.HeaderField) {
	if !httpguts.ValidHeaderFieldValue(hf.Value) {
		hb.invalid = fmt.Errorf("invalid header field value for %q", hf.Name)
	}
	if strings.HasPrefix(hf.Name, ":") {
		if hb.sawReg {
			hb.invalid = errors.New("pseudo header field after regular")
		}
	} else {
		hb.sawReg = true
		if !validWireName(hf.Name) {
			hb.invalid = fmt.Errorf("invalid header field name %q", hf.Name)
		}
	}
	if hb.invalid != nil {
		hb.dec.SetEmitEnabled(false)
		return
	}
	size := hf.Size()
	if size > hb.remain {
		hb.dec.SetEmitEnabled(false)
		hb.meta.Truncated = true
		hb.remain = 0
		return
	}
	hb.remain -= size
	hb.meta.Fields = append(hb.meta.Fields, hf)
}

// start begins the block of a HEADERS frame.
func (hb *headerBlock) start(f *http2.HeadersFrame) {
	clear(hb.meta.Fields) // no strings kept alive from the last block
	hb.meta = http2.MetaHeadersFrame{HeadersFrame: f, Fields: hb.meta.Fields[:0]}
	hb.remain, hb.sawReg, hb.invalid, hb.open = hb.maxSize, false, nil, true
	hb.dec.SetEmitEnabled(true)
}

// continues decodes a CONTINUATION's fragment into the open block of its stream.
func (hb *headerBlock) continues(f *http2.ContinuationFrame) (*http2.MetaHeadersFrame, error) {
	if !hb.open || f.StreamID != hb.meta.StreamID {
		hb.open = false
		return nil, http2.ConnectionError(http2.ErrCodeProtocol)
	}
	return hb.add(f.HeaderBlockFragment(), f.HeadersEnded())
}

// add decodes a fragment; at the block's end (end) it returns the block, unless the
// block is malformed.
func (hb *headerBlock) add(frag []byte, end bool) (*http2.MetaHeadersFrame, error) {
	mh, err := hb.decode(frag, end)
	if end || err != nil {
		hb.open = false
	}
	return mh, err
}

func (hb *headerBlock) decode(frag []byte, end bool) (*http2.MetaHeadersFrame, error) {
	// As x/net: a fragment far beyond what the list may still hold, or one after an
	// invalid field (whose size was not counted), closes the connection.
	if int64(len(frag)) > int64(2*hb.remain) || hb.invalid != nil {
		return nil, http2.ConnectionError(http2.ErrCodeProtocol)
	}
	if _, err := hb.dec.Write(frag); err != nil {
		return nil, http2.ConnectionError(http2.ErrCodeCompression)
	}
	if !end {
		return nil, nil
	}
	if err := hb.dec.Close(); err != nil {
		return nil, http2.ConnectionError(http2.ErrCodeCompression)
	}
	id := hb.meta.StreamID
	if hb.invalid != nil {
		return nil, http2.StreamError{StreamID: id, Code: http2.ErrCodeProtocol, Cause: hb.invalid}
	}
	if err := checkPseudos(hb.meta.PseudoFields()); err != nil {
		return nil, http2.StreamError{StreamID: id, Code: http2.ErrCodeProtocol, Cause: err}
	}
	return &hb.meta, nil
}

// checkPseudos: only known pseudo-fields, none twice, not a request's and a response's.
func checkPseudos(pf []hpack.HeaderField) error {
	var isRequest, isResponse bool
	for i, hf := range pf {
		switch hf.Name {
		case ":method", ":path", ":scheme", ":authority", ":protocol":
			isRequest = true
		case ":status":
			isResponse = true
		default:
			return fmt.Errorf("invalid pseudo-header %q", hf.Name)
		}
		for _, prev := range pf[:i] {
			if prev.Name == hf.Name {
				return fmt.Errorf("duplicate pseudo-header %q", hf.Name)
			}
		}
	}
	if isRequest && isResponse {
		return errors.New("mix of request and response pseudo headers")
	}
	return nil
}

// validWireName is a field name as HTTP/2 sends it: a token, in lower case.
func validWireName(v string) bool {
	if v == "" {
		return false
	}
	for _, r := range v {
		if !httpguts.IsTokenRune(r) || 'A' <= r && r <= 'Z' {
			return false
		}
	}
	return true
}
