package dataplane

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Frame kinds. Control to data plane: frameSnapshot. Data plane to control: the others.
const (
	frameSnapshot     byte = 'S' // a wire snapshot (snapshot.MarshalWire)
	frameApplied      byte = 'A' // a snapshot is served; the payload is the refusal, if any
	frameListening    byte = 'L' // listeners are open; the payload is JSON of their addresses
	frameFailed       byte = 'F' // the data plane cannot start; the payload says why
	frameObservations byte = 'O' // JSON of the upstream observations, when they change
)

// maxFrame bounds a frame: a snapshot of tens of thousands of routes with their keys fits.
const maxFrame = 256 << 20

// frameWriter writes frames; it is safe for concurrent use.
type frameWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (fw *frameWriter) write(kind byte, payload []byte) error {
	if len(payload) > maxFrame {
		return fmt.Errorf("frame of %d bytes is over the %d limit", len(payload), maxFrame)
	}
	var head [5]byte
	head[0] = kind
	binary.BigEndian.PutUint32(head[1:], uint32(len(payload)))
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if _, err := fw.w.Write(head[:]); err != nil {
		return err
	}
	_, err := fw.w.Write(payload)
	return err
}

type frameReader struct{ r *bufio.Reader }

func newFrameReader(r io.Reader) *frameReader { return &frameReader{r: bufio.NewReader(r)} }

// read returns the next frame; io.EOF means the other side closed between frames.
func (fr *frameReader) read() (byte, []byte, error) {
	var head [5]byte
	if _, err := io.ReadFull(fr.r, head[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(head[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("frame of %d bytes is over the %d limit", n, maxFrame)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(fr.r, payload); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return head[0], payload, nil
}
