package manifests

import (
	"context"
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watch timing. Where the kernel reports changes (inotify), a change is looked at once the
// folder's events have been quiet for eventSettle and delivered at once; the folder is
// still polled every fallbackPollInterval for what inotify cannot see (network file
// systems). Without inotify it is polled every pollInterval and a change is delivered once
// the folder has been quiet for one poll, or at the latest maxDelay after the change was
// seen. Either way a burst of writes becomes one or two reloads and no change waits over a
// second.
const (
	eventSettle          = 15 * time.Millisecond
	fallbackPollInterval = time.Second
	pollInterval         = 150 * time.Millisecond
	maxDelay             = 450 * time.Millisecond
	// recent is how young a file's mtime must be for its content to be hashed as well:
	// two writes of the same size within one timestamp tick look identical to stat.
	recent = 2 * time.Second
)

// Watch calls fn with a fresh Result once at start and then after every change under dir
// (a file created, written, removed or renamed, including editors that write a temporary
// file and rename it over the original), within a second, coalescing bursts. It polls, so
// it works on every file system, including mounted ConfigMaps (whose files are symlinks
// swapped atomically). fn runs on Watch's goroutine.
//
// The error is for a dir that cannot be read at start. If dir becomes unreadable later,
// Watch keeps the last Result and waits for it to come back. Watch returns nil when ctx ends.
func Watch(ctx context.Context, dir string, fn func(*Result)) error {
	prev, err := scan(dir, nil)
	if err != nil {
		return err
	}
	// What the loads remember of the documents, so a change re-admits only what changed.
	m := newMemo()
	res, err := loadRemembering(dir, m, prev)
	if err != nil {
		return err
	}
	fn(res)

	notify := newNotifier(dir, prev)
	defer notify.close()
	interval := pollInterval
	if notify != nil {
		interval = fallbackPollInterval
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	var pendingSince time.Time
	for {
		settled := false
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-notify.events():
			// More events of the same write or rename usually follow within microseconds.
			settle.Reset(eventSettle)
			continue
		case err := <-notify.errors():
			_ = err // an overflowed queue: the next poll or event catches up
			continue
		case <-settle.C:
			settled = true
		}
		cur, err := scan(dir, prev)
		if err != nil {
			continue
		}
		now := time.Now()
		changed := !cur.equal(prev)
		if changed {
			prev = cur
			notify.follow(dir, cur)
			if pendingSince.IsZero() {
				pendingSince = now
			}
		}
		// The events have settled: deliver now. A poll waits for a quiet poll, but not
		// longer than maxDelay.
		if pendingSince.IsZero() || (!settled && changed && now.Sub(pendingSince) < maxDelay) {
			continue
		}
		res, err := loadRemembering(dir, m, prev)
		if err != nil {
			continue
		}
		pendingSince = time.Time{}
		if ctx.Err() != nil {
			return nil
		}
		fn(res)
	}
}

// stamp is what a poll remembers of one file.
type stamp struct {
	info fs.FileInfo // of the target, for a symlink; compared with os.SameFile
	size int64
	mod  time.Time
	hash [sha256.Size]byte // only for recently modified files
}

type fingerprint map[string]stamp

// unreadable prefixes the fingerprint key of an entry listFiles could not read; no file
// name starts with a NUL byte.
const unreadable = "\x00"

func (f fingerprint) equal(g fingerprint) bool {
	if len(f) != len(g) {
		return false
	}
	for p, a := range f {
		if b, ok := g[p]; !ok || !a.same(b) {
			return false
		}
	}
	return true
}

// same reports stamps that stat (and the hash, for a recent file) cannot tell apart.
func (a stamp) same(b stamp) bool {
	return a.size == b.size && a.mod.Equal(b.mod) && a.hash == b.hash && sameFile(a.info, b.info)
}

// scan stats the files Load would read. A file whose stat is unchanged since prev and not
// recent keeps its previous stamp without being read.
func scan(dir string, prev fingerprint) (fingerprint, error) {
	files, problems, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	out := make(fingerprint, len(files)+len(problems))
	now := time.Now()
	for _, f := range files {
		info, err := os.Stat(f.path)
		if err != nil {
			out[f.rel] = stamp{}
			continue
		}
		st := stamp{info: info, size: info.Size(), mod: info.ModTime()}
		if now.Sub(st.mod) < recent {
			if data, err := os.ReadFile(f.path); err == nil {
				st.hash = sha256.Sum256(data)
			}
		} else if p, ok := prev[f.rel]; ok && p.size == st.size && p.mod.Equal(st.mod) && sameFile(p.info, info) {
			st.hash = p.hash
		}
		out[f.rel] = st
	}
	// An unreadable entry that becomes readable (or the reverse) is a change too.
	for _, p := range problems {
		out[unreadable+p.File] = stamp{}
	}
	return out, nil
}

func sameFile(a, b fs.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b)
}

// notifier reports changes in the folder and its subfolders through inotify. A nil
// notifier (inotify unavailable) reports nothing, and Watch polls as before.
type notifier struct {
	w       *fsnotify.Watcher
	watched map[string]bool
}

func newNotifier(dir string, files fingerprint) *notifier {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil
	}
	n := &notifier{w: w, watched: map[string]bool{}}
	if !n.follow(dir, files) {
		_ = w.Close()
		return nil
	}
	return n
}

// follow watches dir and every folder that holds one of files (fsnotify does not recurse),
// and stops watching folders that hold none any more. It reports whether dir is watched.
func (n *notifier) follow(dir string, files fingerprint) bool {
	if n == nil {
		return false
	}
	want := map[string]bool{dir: true}
	for rel := range files {
		// An unreadable entry's folder is watched too: it may become readable.
		if d := filepath.Dir(filepath.FromSlash(strings.TrimPrefix(rel, unreadable))); d != "." {
			want[filepath.Join(dir, d)] = true
		}
	}
	for d := range want {
		if !n.watched[d] && n.w.Add(d) == nil {
			n.watched[d] = true
		}
	}
	for d := range n.watched {
		if !want[d] {
			_ = n.w.Remove(d)
			delete(n.watched, d)
		}
	}
	return n.watched[dir]
}

func (n *notifier) events() <-chan fsnotify.Event {
	if n == nil {
		return nil
	}
	return n.w.Events
}

func (n *notifier) errors() <-chan error {
	if n == nil {
		return nil
	}
	return n.w.Errors
}

func (n *notifier) close() {
	if n != nil {
		_ = n.w.Close()
	}
}
