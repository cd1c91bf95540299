package manifests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// watcher records what Watch delivers.
type watcher struct {
	mu    sync.Mutex
	calls int
	last  *Result
}

func (w *watcher) fn(r *Result) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	w.last = r
}

func (w *watcher) state() (int, *Result) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls, w.last
}

// changeSeen bounds how long a test waits for Watch to deliver a change: far below the
// 30 s poll that would find any change, so a change within it was reported, not polled
// for; above the second that a `make test` running many packages at once on two cores
// has taken (TestWatchMountedConfigMap failed so once).
const changeSeen = 5 * time.Second

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func configMap(name, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  value: %q\n", name, value)
}

// configMaps lists the loaded ConfigMaps as name=value.
func configMaps(r *Result) []string {
	if r == nil {
		return nil
	}
	var out []string
	for _, c := range r.Inputs.ConfigMaps {
		out = append(out, c.Name+"="+c.Data["value"])
	}
	slices.Sort(out)
	return out
}

func startWatch(t *testing.T, dir string) *watcher {
	t.Helper()
	w := &watcher{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Watch(ctx, dir, w.fn) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch returned %v", err)
		}
	})
	eventually(t, 2*time.Second, "the initial result", func() bool { n, _ := w.state(); return n >= 1 })
	return w
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWatch(t *testing.T) {
	dir := writeFolder(t, map[string]string{"a.yaml": configMap("a", "1")})
	w := startWatch(t, dir)
	if _, r := w.state(); !slices.Equal(configMaps(r), []string{"a=1"}) {
		t.Fatalf("initial result: %v", configMaps(r))
	}

	steps := []struct {
		name   string
		change func(t *testing.T)
		want   []string
	}{
		{"create", func(t *testing.T) { writeFile(t, filepath.Join(dir, "b.yaml"), configMap("b", "1")) }, []string{"a=1", "b=1"}},
		// Same size, so only the modification time and content differ.
		{"write in place", func(t *testing.T) { writeFile(t, filepath.Join(dir, "a.yaml"), configMap("a", "2")) }, []string{"a=2", "b=1"}},
		{"write a temporary file, rename it over", func(t *testing.T) {
			tmp := filepath.Join(dir, ".a.yaml.swp")
			writeFile(t, tmp, configMap("a", "3"))
			if err := os.Rename(tmp, filepath.Join(dir, "a.yaml")); err != nil {
				t.Fatal(err)
			}
		}, []string{"a=3", "b=1"}},
		{"create in a subfolder", func(t *testing.T) {
			if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "sub", "c.yml"), configMap("c", "1"))
		}, []string{"a=3", "b=1", "c=1"}},
		{"rename", func(t *testing.T) {
			if err := os.Rename(filepath.Join(dir, "sub", "c.yml"), filepath.Join(dir, "sub", "c.txt")); err != nil {
				t.Fatal(err)
			}
		}, []string{"a=3", "b=1"}},
		{"delete", func(t *testing.T) {
			if err := os.Remove(filepath.Join(dir, "b.yaml")); err != nil {
				t.Fatal(err)
			}
		}, []string{"a=3"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			before, _ := w.state()
			s.change(t)
			eventually(t, changeSeen, fmt.Sprintf("a new result with %v", s.want), func() bool {
				n, r := w.state()
				return n > before && slices.Equal(configMaps(r), s.want)
			})
		})
	}

	t.Run("hidden and other files do not trigger reloads", func(t *testing.T) {
		before, _ := w.state()
		writeFile(t, filepath.Join(dir, ".a.yaml.swp"), "junk")
		writeFile(t, filepath.Join(dir, "notes.txt"), "junk")
		// A later visible change proves the watcher has polled past the invisible ones.
		writeFile(t, filepath.Join(dir, "d.yaml"), configMap("d", "1"))
		eventually(t, changeSeen, "d loaded", func() bool {
			_, r := w.state()
			return slices.Contains(configMaps(r), "d=1")
		})
		if n, _ := w.state(); n-before > 2 {
			t.Errorf("%d reloads for one visible change", n-before)
		}
	})
}

func TestWatchCoalescesBursts(t *testing.T) {
	dir := writeFolder(t, map[string]string{"a.yaml": configMap("a", "0")})
	w := startWatch(t, dir)
	before, _ := w.state()
	for i := 1; i <= 20; i++ {
		writeFile(t, filepath.Join(dir, "a.yaml"), configMap("a", fmt.Sprint(i)))
		time.Sleep(5 * time.Millisecond) // a burst, as an editor or `cp -r` makes
	}
	eventually(t, changeSeen, "the last write", func() bool {
		_, r := w.state()
		return slices.Equal(configMaps(r), []string{"a=20"})
	})
	// No further callback may be pending for the burst: allow the watcher one more
	// delivery window before counting.
	time.Sleep(maxDelay + 2*pollInterval)
	n, _ := w.state()
	if calls := n - before; calls > 4 {
		t.Errorf("a burst of 20 writes gave %d callbacks, want far fewer", calls)
	} else {
		t.Logf("a burst of 20 writes gave %d callbacks", calls)
	}
}

func TestWatchMissingFolder(t *testing.T) {
	err := Watch(context.Background(), filepath.Join(t.TempDir(), "missing"), func(*Result) { t.Error("fn called") })
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("err = %v", err)
	}
}

func TestWatchReturnsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Watch(ctx, t.TempDir(), func(*Result) {}) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("err = %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Watch did not return after its context ended")
	}
}

// TestWatchMountedConfigMap follows the kubelet's atomic update of a mounted ConfigMap:
// visible files are symlinks through the hidden ..data symlink, which is swapped to a new
// hidden directory.
func TestWatchMountedConfigMap(t *testing.T) {
	dir := t.TempDir()
	version := func(name, value string) {
		t.Helper()
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name, "objects.yaml"), configMap("mounted", value))
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink(name, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	version("..2026_01_01_v1", "1")
	if err := os.Symlink(filepath.Join("..data", "objects.yaml"), filepath.Join(dir, "objects.yaml")); err != nil {
		t.Fatal(err)
	}
	w := startWatch(t, dir)
	if _, r := w.state(); !slices.Equal(configMaps(r), []string{"mounted=1"}) || len(r.Problems) > 0 {
		t.Fatalf("initial result: %v %v", configMaps(r), problemStrings(r))
	}
	version("..2026_01_01_v2", "2")
	eventually(t, changeSeen, "the swapped version", func() bool {
		_, r := w.state()
		return slices.Equal(configMaps(r), []string{"mounted=2"})
	})
}

// TestNotifierReportsWritesInSubfolders: the kernel's change reports reach Watch for the
// folder and for each subfolder that holds manifests, so a change is looked at without
// waiting for the (slow, fallback) poll.
func TestNotifierReportsWritesInSubfolders(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "team-a")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(sub, "a.yaml"), configMap("a", "1"))
	n, files := startNotifier(t, dir)
	for _, path := range []string{filepath.Join(dir, "b.yaml"), filepath.Join(sub, "a.yaml")} {
		writeFile(t, path, configMap("x", "2"))
		select {
		case ev := <-n.events():
			if filepath.Dir(ev.Name) != filepath.Dir(path) {
				t.Errorf("wrote %s, the event names %s", path, ev.Name)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event for a write to %s", path)
		}
		// Drain the rest of this write's events.
		for drained := false; !drained; {
			select {
			case <-n.events():
			case <-time.After(50 * time.Millisecond):
				drained = true
			}
		}
	}
	// A subfolder that no longer holds manifests is no longer watched.
	if err := os.RemoveAll(sub); err != nil {
		t.Fatal(err)
	}
	files, err := scan(dir, files)
	if err != nil {
		t.Fatal(err)
	}
	n.follow(dir, files)
	if n.watched[sub] || !n.watched[dir] {
		t.Errorf("watched after the subfolder went: %v", n.watched)
	}
}

// TestNotifierFollowsWhatPollingWouldCatch: with the kernel's reports trusted, the poll is
// only a safety net, so the notifier must watch every folder a change can come from: an
// empty subfolder (a file may be written into it next) and the folder of a symlinked
// file's target outside the tree.
func TestNotifierFollowsWhatPollingWouldCatch(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	empty := filepath.Join(dir, "team-b")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(elsewhere, "shared.yaml"), configMap("shared", "1"))
	if err := os.Symlink(filepath.Join(elsewhere, "shared.yaml"), filepath.Join(dir, "shared.yaml")); err != nil {
		t.Fatal(err)
	}
	n, _ := startNotifier(t, dir)
	target, err := filepath.EvalSymlinks(elsewhere)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, empty, target} {
		if !n.watched[d] {
			t.Errorf("%s is not watched: %v", d, n.watched)
		}
	}
	if !reportsAllChanges(dir) {
		t.Skipf("%s is not on a local file system: polled every %v", dir, fallbackPollInterval)
	}
	if got := n.pollInterval(); got != trustedPollInterval {
		t.Errorf("poll every %v on a local file system with every folder watched, want %v", got, trustedPollInterval)
	}
}

// TestWatchSeesAWriteThroughASymlink: a manifest symlinked from outside the folder and
// edited where it lives is reloaded within a second, without waiting for a poll.
func TestWatchSeesAWriteThroughASymlink(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	target := filepath.Join(elsewhere, "shared.yaml")
	writeFile(t, target, configMap("shared", "1"))
	if err := os.Symlink(target, filepath.Join(dir, "shared.yaml")); err != nil {
		t.Fatal(err)
	}
	w := startWatch(t, dir)
	writeFile(t, target, configMap("shared", "2"))
	eventually(t, changeSeen, "the edited target", func() bool {
		_, r := w.state()
		return slices.Equal(configMaps(r), []string{"shared=2"})
	})
}

func TestPollIntervalWithoutTrustedReports(t *testing.T) {
	var none *notifier
	if got := none.pollInterval(); got != pollInterval {
		t.Errorf("without inotify: poll every %v, want %v", got, pollInterval)
	}
	if got := (&notifier{trusted: false}).pollInterval(); got != fallbackPollInterval {
		t.Errorf("a network file system: poll every %v, want %v", got, fallbackPollInterval)
	}
}

// startNotifier scans dir and watches it as Watch would, skipping the test where inotify
// is not available; the notifier is closed when the test ends.
func startNotifier(t *testing.T, dir string) (*notifier, fingerprint) {
	t.Helper()
	files, err := scan(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := newNotifier(dir, files)
	if n == nil {
		t.Skip("inotify is not available here: Watch polls")
	}
	t.Cleanup(n.close)
	return n, files
}
