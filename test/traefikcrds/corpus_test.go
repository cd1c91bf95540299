package traefikcrds

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/bridgehead/bridgehead/internal/testenv"
)

// folderConcurrency is how many `bridgehead serve` runs of folder mode go at once.
const folderConcurrency = 6

// TestCorpus runs the Traefik compatibility corpus (cases/<topic>/<NN-name>.yaml; the
// format is in cases/README.md): every case, in both of Traefik's API groups (traefik.io as
// written, then rewritten to traefik.containo.us), through
//
//   - folder: `bridgehead serve --config-dir` as a user runs it, one process per case and
//     group, the states read from the admin /status;
//   - apiserver: a real API server with Traefik's CRDs and one in-process gateway watching
//     them (--watch-traefik-crds), the states read from the Events on the objects.
//
// Subtests are named by mode, case path and group, so one case runs alone:
//
//	go test ./test/traefikcrds -run 'TestCorpus/folder/middlewares/03'
//
// A case whose feature is not in this build fails, naming what is missing; nothing is
// skipped. The API server mode needs KUBEBUILDER_ASSETS (make test-integration sets it).
func TestCorpus(t *testing.T) {
	cases, err := loadCases(filepath.Join(testenv.RepoRoot(), "test", "traefikcrds", "cases"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases under test/traefikcrds/cases")
	}
	h := startHarness(t)
	t.Cleanup(removeBinary)
	t.Logf("%d cases", len(cases))

	t.Run("folder", func(t *testing.T) {
		t.Parallel()
		// Each run is one `bridgehead serve` process, mostly waiting (its start, the
		// requests, its stop): more of them at once than -parallel's default (the CPUs)
		// keeps the corpus fast without loading the machine.
		slots := make(chan struct{}, folderConcurrency)
		var wg sync.WaitGroup
		for _, c := range cases {
			for _, group := range corpusGroups {
				wg.Add(1)
				go func() {
					defer wg.Done()
					slots <- struct{}{}
					defer func() { <-slots }()
					t.Run(c.path+"/"+group, func(t *testing.T) {
						if c.err != nil {
							t.Fatal(c.err)
						}
						runFolderCase(t, h, c, group)
					})
				}()
			}
		}
		wg.Wait()
	})

	t.Run("apiserver", func(t *testing.T) {
		t.Parallel()
		if os.Getenv("KUBEBUILDER_ASSETS") == "" {
			t.Fatal("KUBEBUILDER_ASSETS is not set: run with make test-integration, or set it to the envtest binaries' folder")
		}
		g := startAPIGateway(t, h)
		for _, c := range cases {
			t.Run(c.path, func(t *testing.T) {
				for _, group := range corpusGroups {
					t.Run(group, func(t *testing.T) {
						if c.err != nil {
							t.Fatal(c.err)
						}
						runAPICase(t, g, h, c, group)
					})
				}
			})
		}
	})
}
