package node

import (
	"os"
	"reflect"
	"testing"
)

func TestUnescapeMount(t *testing.T) {
	if got := unescapeMount(`/var/lib/with\040space/x`); got != "/var/lib/with space/x" {
		t.Errorf("unescapeMount: %q", got)
	}
	if got := unescapeMount(`/plain`); got != "/plain" {
		t.Errorf("unescapeMount: %q", got)
	}
}

// Down removes only what appeared after Up: what existed before stays.
func TestNewSinceKeepsWhatExistedBefore(t *testing.T) {
	got := newSince([]string{"ip filter", "inet other"}, []string{"inet other", "ip kube-proxy", "ip filter", "inet " + guardTable})
	want := []string{"inet " + guardTable, "ip kube-proxy"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("newSince = %v, want %v", got, want)
	}
}

// A recorded process is alive only while the same process (same start time) runs: a
// reused PID is never signalled.
func TestAliveChecksTheStartTime(t *testing.T) {
	st, err := startTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !alive(process{PID: os.Getpid(), Start: st}) {
		t.Error("this process is not alive by its own start time")
	}
	if alive(process{PID: os.Getpid(), Start: st + 1}) {
		t.Error("a different start time counts as the same process")
	}
}
