package accesslog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"sync"
	"testing"
	"time"
)

// Records written from many goroutines come out as whole JSON lines, with the time and
// duration filled in; a nil writer means no log at all.
func TestLogWritesWholeLines(t *testing.T) {
	if New(nil) != nil {
		t.Fatal("a Log without a writer is not nil, so callers would format lines nobody reads")
	}
	var out bytes.Buffer
	l := New(&out)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				l.Request(Request{EntryPoint: "websecure", Route: "web/app", Method: "GET", Path: "/\n\"x", Status: 502, Upstream: "UnknownAuthority"}, 1500*time.Microsecond)
			} else {
				l.Conn(Conn{EntryPoint: "websecure", Route: "tcp/db", Backend: "10.0.0.1:5432", BytesIn: 3, BytesOut: 4}, 2*time.Second)
			}
		}()
	}
	wg.Wait()

	lines := 0
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		lines++
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %d is not one JSON record: %v: %s", lines, err, sc.Text())
		}
		if _, err := time.Parse(time.RFC3339Nano, rec["time"].(string)); err != nil {
			t.Errorf("line %d: time %q: %v", lines, rec["time"], err)
		}
		switch rec["route"] {
		case "web/app":
			if rec["durationMs"] != 1.5 || rec["path"] != "/\n\"x" || rec["upstreamError"] != "UnknownAuthority" || rec["status"] != 502.0 {
				t.Errorf("request line %d: %s", lines, sc.Text())
			}
			if _, ok := rec["clientError"]; ok {
				t.Errorf("request line %d carries an empty clientError: %s", lines, sc.Text())
			}
		case "tcp/db":
			if rec["durationMs"] != 2000.0 || rec["bytesIn"] != 3.0 || rec["bytesOut"] != 4.0 || rec["backend"] != "10.0.0.1:5432" {
				t.Errorf("connection line %d: %s", lines, sc.Text())
			}
		default:
			t.Errorf("line %d has route %v", lines, rec["route"])
		}
	}
	if lines != 50 {
		t.Fatalf("%d lines for 50 records", lines)
	}
}
