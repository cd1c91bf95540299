package h2server

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// headerLimit is small, so that the fuzzer reaches the header list limit.
const headerLimit = 256

// decodeBoth decodes one header block, split at split into a HEADERS and a CONTINUATION
// (when split is inside it), with x/net's Framer (ReadMetaHeaders) and with headerBlock.
func decodeBoth(t *testing.T, block []byte, split int) (theirs, ours string) {
	var buf bytes.Buffer
	w := http2.NewFramer(&buf, nil)
	first, rest := block, []byte(nil)
	if split > 0 && split < len(block) {
		first, rest = block[:split], block[split:]
	}
	if err := w.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: first, EndStream: true, EndHeaders: rest == nil}); err != nil {
		t.Skip(err)
	}
	if rest != nil {
		if err := w.WriteContinuation(1, true, rest); err != nil {
			t.Skip(err)
		}
	}
	wire := buf.Bytes()

	r := http2.NewFramer(nil, bytes.NewReader(wire))
	r.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	r.MaxHeaderListSize = headerLimit
	f, err := r.ReadFrame()
	theirs = describe(f, err)

	r = http2.NewFramer(nil, bytes.NewReader(wire))
	var hb headerBlock
	hb.init(headerLimit)
	f, err = r.ReadFrame()
	if err != nil {
		return theirs, describe(nil, err)
	}
	hf := f.(*http2.HeadersFrame)
	hb.start(hf)
	mh, err := hb.add(hf.HeaderBlockFragment(), hf.HeadersEnded())
	for mh == nil && err == nil {
		f, err = r.ReadFrame()
		if err != nil {
			break
		}
		c := f.(*http2.ContinuationFrame)
		mh, err = hb.add(c.HeaderBlockFragment(), c.HeadersEnded())
	}
	if mh != nil {
		return theirs, describe(mh, nil)
	}
	return theirs, describe(nil, err)
}

// describe is what the server acts on: the fields and whether the list was cut, or the
// kind of error and its code.
func describe(f http2.Frame, err error) string {
	var se http2.StreamError
	var ce http2.ConnectionError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("stream error %v", se.Code)
	case errors.As(err, &ce):
		return fmt.Sprintf("connection error %v", http2.ErrCode(ce))
	case err != nil:
		return "error " + err.Error()
	}
	mh, ok := f.(*http2.MetaHeadersFrame)
	if !ok {
		return fmt.Sprintf("frame %T", f)
	}
	return fmt.Sprintf("fields %q truncated %v", mh.Fields, mh.Truncated)
}

// FuzzHeaderBlockEqualsFramer: headerBlock reads every header block as x/net's Framer
// does when it decodes them itself: the same fields, the same cut at the list's limit,
// the same stream or connection error.
func FuzzHeaderBlockEqualsFramer(f *testing.F) {
	encode := func(fields ...string) []byte {
		var b bytes.Buffer
		e := hpack.NewEncoder(&b)
		for i := 0; i < len(fields); i += 2 {
			_ = e.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
		}
		return b.Bytes()
	}
	long := string(bytes.Repeat([]byte("v"), 300))  // beyond the decoder's longest string
	value := string(bytes.Repeat([]byte("v"), 100)) // three such fields pass the limit
	for _, seed := range [][]byte{
		encode(":method", "GET", ":scheme", "https", ":path", "/", ":authority", "a.example"),
		encode(":method", "GET", "accept", "*/*", ":path", "/"), // pseudo after regular
		encode(":method", "GET", ":method", "POST"),             // duplicate
		encode(":status", "200", ":method", "GET"),              // request and response
		encode(":foo", "x"),                        // unknown pseudo
		encode("Accept", "x"),                      // upper case
		encode("x-long", long),                     // over the limit
		encode("a", value, "b", value, "c", value), // cut after two
		encode("a", value, "b", value, "c", value, "d", value, "e", value), // then far beyond
		encode("bad", "a\x00b"), // invalid value
		{0xff, 0xff, 0xff},      // bad integer
		{0x3f, 0xe1, 0x1f},      // table size update over the limit
	} {
		f.Add(seed, uint8(0))
		f.Add(seed, uint8(len(seed)/2))
	}
	f.Fuzz(func(t *testing.T, block []byte, split uint8) {
		theirs, ours := decodeBoth(t, block, int(split))
		if theirs != ours {
			t.Fatalf("x/net: %s\nours:  %s", theirs, ours)
		}
	})
}
