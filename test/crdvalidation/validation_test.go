package crdvalidation

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bridgehead/bridgehead/internal/testenv"
)

var (
	samplesDir = filepath.Join(testenv.RepoRoot(), "config", "samples")
	invalidDir = filepath.Join(testenv.RepoRoot(), "hack", "invalid-examples")
)

// sample is one document of a file in config/samples.
type sample struct {
	file string
	obj  *unstructured.Unstructured
}

// invalidCase is one file of hack/invalid-examples with the message the API server must give.
type invalidCase struct {
	file   string
	expect string
	obj    *unstructured.Unstructured
}

// decodeAll reads every document of a YAML file, with integers kept as int64 as the API
// server returns them, so that specs can be compared as written.
func decodeAll(path string) []*unstructured.Unstructured {
	data, err := os.ReadFile(path)
	if err != nil {
		Fail(err.Error())
	}
	var out []*unstructured.Unstructured
	reader := yaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			Fail(path + ": " + err.Error())
		}
		js, err := yaml.ToJSON(doc)
		if err != nil {
			Fail(path + ": " + err.Error())
		}
		if len(bytes.TrimSpace(js)) == 0 || string(bytes.TrimSpace(js)) == "null" {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(js); err != nil {
			Fail(path + ": " + err.Error())
		}
		out = append(out, u)
	}
}

func yamlFiles(dir string) []string {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		Fail(err.Error())
	}
	var out []string
	for _, f := range files {
		if filepath.Base(f) != "kustomization.yaml" {
			out = append(out, f)
		}
	}
	return out
}

func loadSamples() []sample {
	var out []sample
	for _, f := range yamlFiles(samplesDir) {
		for _, u := range decodeAll(f) {
			out = append(out, sample{file: filepath.Base(f), obj: u})
		}
	}
	return out
}

// expectation reads the "# expect: ..." header line of an invalid example.
func expectation(path string) string {
	f, err := os.Open(path)
	if err != nil {
		Fail(err.Error())
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "# expect: "); ok {
			return rest
		}
	}
	Fail(path + ` has no "# expect: <message>" line`)
	return ""
}

func loadInvalid() []invalidCase {
	var out []invalidCase
	for _, f := range yamlFiles(invalidDir) {
		docs := decodeAll(f)
		if len(docs) != 1 {
			Fail(f + ": an invalid example holds exactly one document")
		}
		out = append(out, invalidCase{file: filepath.Base(f), expect: expectation(f), obj: docs[0]})
	}
	return out
}

func createNamespace(name string) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	err := k8s.Create(ctx(), ns)
	if err != nil && !apierrors.IsAlreadyExists(err) {
		Expect(err).NotTo(HaveOccurred())
	}
}

func kubectl(args ...string) (string, error) {
	cmd := exec.Command(env.Kubectl, append([]string{"--kubeconfig", env.Kubeconfig}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

var _ = Describe("config/samples", func() {
	samples := loadSamples()

	It("holds at least one sample of every kind", func() {
		kinds := map[string]bool{}
		for _, s := range samples {
			kinds[s.obj.GetKind()] = true
		}
		Expect(kinds).To(HaveKey("IngressRoute"))
		Expect(kinds).To(HaveKey("IngressRouteTCP"))
		Expect(kinds).To(HaveKey("TLSOption"))
		Expect(kinds).To(HaveKey("TLSStore"))
		Expect(kinds).To(HaveKey("ServersTransport"))
		Expect(kinds).To(HaveKey("ServersTransportTCP"))
		Expect(kinds).To(HaveKey("Middleware"))
		Expect(kinds).To(HaveKey("MiddlewareTCP"))
	})

	for _, s := range samples {
		It("stores "+s.obj.GetKind()+"/"+s.obj.GetName()+" from "+s.file+" with every field as written", func() {
			createNamespace("samples")
			sent := s.obj.DeepCopy()
			sent.SetNamespace("samples")
			Expect(k8s.Create(ctx(), sent)).To(Succeed())

			got := &unstructured.Unstructured{}
			got.SetGroupVersionKind(sent.GroupVersionKind())
			Expect(k8s.Get(ctx(), client.ObjectKeyFromObject(sent), got)).To(Succeed())
			// A field the schema does not know would be pruned silently: compare whole specs.
			Expect(got.Object["spec"]).To(Equal(s.obj.Object["spec"]))
		})
	}

	It("are accepted by kubectl apply --dry-run=server -k config/samples", func() {
		out, err := kubectl("apply", "--dry-run=server", "-n", "default", "-k", samplesDir)
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(strings.Count(out, "(server dry run)")).To(Equal(len(samples)), out)
	})
})

var _ = Describe("hack/invalid-examples", func() {
	cases := loadInvalid()

	It("holds at least 25 cases", func() {
		Expect(len(cases)).To(BeNumerically(">=", 25))
	})

	for _, c := range cases {
		It("refuses "+c.file+" with its expected message", func() {
			obj := c.obj.DeepCopy()
			obj.SetNamespace("default")
			err := k8s.Create(ctx(), obj)
			Expect(err).To(HaveOccurred(), "the API server accepted %s", c.file)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want an Invalid error, got %v", err)
			Expect(err.Error()).To(ContainSubstring(c.expect))
		})

		It("makes kubectl apply --dry-run=server fail on "+c.file, func() {
			out, err := kubectl("apply", "--dry-run=server", "-n", "default", "-f", filepath.Join(invalidDir, c.file))
			Expect(err).To(HaveOccurred(), out)
			Expect(out).To(ContainSubstring(c.expect))
		})
	}
})
