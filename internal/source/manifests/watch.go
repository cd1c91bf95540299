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

// Watch timing. Where the kernel reports every change (inotify, on a local file system), a
// change is looked at once the folder's events have been quiet for eventSettle and
// delivered at once, and the folder is polled only every trustedPollInterval, as a safety
// net. Where it may not (a network file system, whose other clients' writes inotify never
// sees, or a folder it could not watch) it is also polled every fallbackPollInterval.
// Without inotify it is polled every pollInterval and a change is delivered once the folder
// has been quiet for one poll, or at the latest maxDelay after the change was seen. Either
// way a burst of writes becomes one or two reloads and no change waits over a second.
const (
	eventSettle          = 15 * time.Millisecond
	trustedPollInterval  = 30 * time.Second
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
	interval := notify.pollInterval()
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
			// Every error fsnotify sends (an overflowed queue, a failed read of inotify)
			// means events may be missing, and the answer is the same: look at the folder
			// as if they had come. The scan finds what they were about, so the error
			// itself is not needed.
			_ = err
			settle.Reset(eventSettle)
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
			if i := notify.pollInterval(); i != interval {
				interval = i
				ticker.Reset(interval)
			}
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

// unreadable prefixes the fingerprint key of an entry listFiles could not read, and
// folder that of a subfolder (so that a new one is watched before files arrive in it). No
// file name starts with either byte.
const (
	unreadable = "\x00"
	folder     = "\x01"
)

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
	var folders []string
	files, problems, err := walkFolder(dir, func(rel string) { folders = append(folders, rel) })
	if err != nil {
		return nil, err
	}
	out := make(fingerprint, len(files)+len(problems)+len(folders))
	for _, rel := range folders {
		out[folder+rel] = stamp{}
	}
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
	// trusted: every folder that holds or may hold a manifest, or the target of a
	// symlinked one, is watched, on a file system whose changes all reach inotify.
	trusted bool
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

// follow watches dir, each of its subfolders, and the folder of each symlinked file's
// target (fsnotify does not recurse, and a write through a symlink is reported where the
// target lives), and stops watching folders no longer among them. It reports whether dir
// is watched.
func (n *notifier) follow(dir string, files fingerprint) bool {
	if n == nil {
		return false
	}
	want := map[string]bool{dir: true}
	for key := range files {
		switch {
		case strings.HasPrefix(key, folder):
			want[filepath.Join(dir, filepath.FromSlash(key[len(folder):]))] = true
		case strings.HasPrefix(key, unreadable):
			// An unreadable entry may become readable: its folder reports that.
			want[filepath.Join(dir, filepath.Dir(filepath.FromSlash(key[len(unreadable):])))] = true
		default:
			p := filepath.Join(dir, filepath.FromSlash(key))
			if info, err := os.Lstat(p); err == nil && info.Mode()&fs.ModeSymlink != 0 {
				if target, err := filepath.EvalSymlinks(p); err == nil {
					want[filepath.Dir(target)] = true
				}
			}
		}
	}
	trusted := true
	for d := range want {
		if !n.watched[d] {
			if n.w.Add(d) != nil {
				trusted = false
				continue
			}
			n.watched[d] = true
		}
		if !reportsAllChanges(d) {
			trusted = false
		}
	}
	for d := range n.watched {
		if !want[d] {
			_ = n.w.Remove(d)
			delete(n.watched, d)
		}
	}
	n.trusted = trusted
	return n.watched[dir]
}

// pollInterval is how often Watch polls the folder besides what the notifier reports.
func (n *notifier) pollInterval() time.Duration {
	switch {
	case n == nil:
		return pollInterval
	case n.trusted:
		return trustedPollInterval
	default:
		return fallbackPollInterval
	}
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
