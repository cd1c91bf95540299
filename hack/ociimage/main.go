// Command ociimage writes an OCI image archive from files on disk, without Docker, a
// registry or a base image: one layer holding exactly the files named, plus the shared
// libraries they load (found with ldd) when asked. The output is reproducible: entries are
// sorted, owners and timestamps fixed (to -epoch, the commit time), so the same inputs
// give the same digest.
//
// The archive is an OCI image layout in a tar, with the image's full name in index.json
// (io.containerd.image.name), which is what `ctr images import` needs to tag it.
//
// It lives in its own Go module so the gateway's go.mod does not carry
// go-containerregistry and its dependencies.
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

type options struct {
	out, image, user, workdir string
	entrypoint, cmd           string
	epoch                     int64
	adds, labels, env         listFlag
	withLibs                  bool
}

func main() {
	var o options
	flag.StringVar(&o.out, "o", "", "write the image archive (an OCI layout in a tar) to this file")
	flag.StringVar(&o.image, "name", "", "full image name, e.g. docker.io/bridgehead/bridgehead:dev")
	flag.StringVar(&o.user, "user", "65532:65532", "user:group the image runs as")
	flag.StringVar(&o.workdir, "workdir", "/", "working directory")
	flag.StringVar(&o.entrypoint, "entrypoint", "", "entrypoint, space-separated")
	flag.StringVar(&o.cmd, "cmd", "", "default arguments, space-separated")
	flag.Int64Var(&o.epoch, "epoch", 0, "timestamp (Unix seconds) for the image and every file: the commit time")
	flag.Var(&o.adds, "add", "IMAGE_PATH=HOST_FILE to put into the image (repeatable)")
	flag.Var(&o.labels, "label", "KEY=VALUE image label (repeatable)")
	flag.Var(&o.env, "env", "KEY=VALUE environment variable (repeatable)")
	flag.BoolVar(&o.withLibs, "with-libs", false, "also add the shared libraries and loader each added executable needs (ldd)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "ociimage:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.out == "" || o.image == "" || len(o.adds) == 0 {
		return errors.New("-o, -name and at least one -add are required")
	}
	tag, err := name.NewTag(o.image, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("-name %q: %w (give the full name, registry included)", o.image, err)
	}
	files := map[string]string{} // image path -> host file
	for _, a := range o.adds {
		dst, src, ok := strings.Cut(a, "=")
		if !ok || !path.IsAbs(dst) {
			return fmt.Errorf("-add %q: want /path/in/image=host-file", a)
		}
		files[path.Clean(dst)] = src
	}
	if o.withLibs {
		if err := addLibraries(files); err != nil {
			return err
		}
	}
	mtime := time.Unix(o.epoch, 0).UTC()
	layerTar, err := buildLayer(files, mtime)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
	if err != nil {
		return err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: mtime},
			CreatedBy: "hack/ociimage",
			Comment:   "built from source, no base image",
		},
	})
	if err != nil {
		return err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture, cfg.OS = runtime.GOARCH, "linux"
	cfg.Created = v1.Time{Time: mtime}
	cfg.Config.User = o.user
	cfg.Config.WorkingDir = o.workdir
	cfg.Config.Entrypoint = strings.Fields(o.entrypoint)
	cfg.Config.Cmd = strings.Fields(o.cmd)
	cfg.Config.Env = append([]string{"PATH=/bin"}, o.env...)
	cfg.Config.Labels = map[string]string{}
	for _, l := range o.labels {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return fmt.Errorf("-label %q: want KEY=VALUE", l)
		}
		cfg.Config.Labels[k] = v
	}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return err
	}
	return writeArchive(o.out, o.image, tag, img, mtime)
}

// addLibraries adds, for every dynamically linked file, the libraries ldd resolves and the
// program interpreter, under the paths ldd reports (the loader looks there).
func addLibraries(files map[string]string) error {
	var hosts []string
	for _, src := range files {
		hosts = append(hosts, src)
	}
	sort.Strings(hosts)
	for _, src := range hosts {
		out, err := exec.Command("ldd", src).CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "not a dynamic executable") {
				continue // static: nothing to carry
			}
			return fmt.Errorf("ldd %s: %w: %s", src, err, out)
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			var lib string
			switch {
			case len(f) >= 3 && f[1] == "=>" && path.IsAbs(f[2]):
				lib = f[2] // libcrypto.so.3 => /lib/x86_64-linux-gnu/libcrypto.so.3 (0x...)
			case len(f) >= 1 && path.IsAbs(f[0]):
				lib = f[0] // /lib64/ld-linux-x86-64.so.2 (0x...)
			case len(f) >= 3 && f[1] == "=>" && f[2] == "not":
				return fmt.Errorf("ldd %s: %s is not found on this machine", src, f[0])
			default:
				continue // linux-vdso.so.1 lives in the kernel
			}
			files[path.Clean(lib)] = lib
		}
	}
	return nil
}

// buildLayer writes a tar of files and their parent directories, sorted, owned by root,
// with fixed times: readable by the image's non-root user, writable by nobody.
func buildLayer(files map[string]string, mtime time.Time) ([]byte, error) {
	entries := map[string]*tar.Header{}
	addDir := func(dir string, mode int64) {
		if dir == "/" {
			return
		}
		for d := dir; d != "/" && d != "."; d = path.Dir(d) {
			if _, ok := entries[d]; !ok {
				entries[d] = &tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: 0o755}
			}
		}
		entries[dir].Mode = mode
	}
	// /tmp for programs that expect it (the chart mounts an emptyDir over it when the
	// root file system is read-only).
	addDir("/tmp", 0o1777)
	contents := map[string][]byte{}
	for dst, src := range files {
		// Follow symlinks: the image holds the file itself under the name the loader uses.
		b, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		st, err := os.Stat(src)
		if err != nil {
			return nil, err
		}
		addDir(path.Dir(dst), 0o755)
		mode := int64(0o644)
		if st.Mode()&0o111 != 0 {
			mode = 0o755
		}
		entries[dst] = &tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(dst, "/"), Mode: mode, Size: int64(len(b))}
		contents[dst] = b
	}
	// A passwd and group naming the non-root user, so tools inside show a name, not a number.
	for p, text := range map[string]string{
		"/etc/passwd": "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
		"/etc/group":  "root:x:0:\nnonroot:x:65532:\n",
	} {
		if _, ok := files[p]; ok {
			continue
		}
		addDir("/etc", 0o755)
		entries[p] = &tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(p, "/"), Mode: 0o644, Size: int64(len(text))}
		contents[p] = []byte(text)
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		h := entries[n]
		h.ModTime, h.Format = mtime, tar.FormatPAX
		h.Uname, h.Gname = "root", "root"
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if b, ok := contents[n]; ok {
			if _, err := tw.Write(b); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeArchive writes img as an OCI image layout, then packs that directory into one tar
// with fixed times and sorted entries.
func writeArchive(out, fullName string, tag name.Tag, img v1.Image, mtime time.Time) error {
	dir, err := os.MkdirTemp("", "ociimage-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		"io.containerd.image.name":          fullName,
		"org.opencontainers.image.ref.name": tag.TagStr(),
	})); err != nil {
		return err
	}
	var names []string
	if err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		names = append(names, p)
		return nil
	}); err != nil {
		return err
	}
	sort.Strings(names)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	for _, n := range names {
		st, err := os.Stat(n)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, n)
		h := &tar.Header{Name: filepath.ToSlash(rel), ModTime: mtime, Mode: 0o644, Format: tar.FormatPAX}
		if st.IsDir() {
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, h.Name+"/", 0o755
		} else {
			h.Typeflag, h.Size = tar.TypeReg, st.Size()
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !st.IsDir() {
			b, err := os.ReadFile(n)
			if err != nil {
				return err
			}
			if _, err := tw.Write(b); err != nil {
				return err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s %s@%s\n", out, fullName, digest)
	return nil
}
