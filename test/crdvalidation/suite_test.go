// Package crdvalidation checks Bridgehead's CRD schemas against a real kube-apiserver: the
// samples users copy are accepted as written, and each known mistake is refused with a
// message that says which field is wrong and what is allowed.
package crdvalidation

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bridgehead/bridgehead/internal/testenv"
)

var (
	env *testenv.Env
	k8s client.Client
)

func TestCRDValidation(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "CRD validation against a real API server")
}

var _ = BeforeSuite(func() {
	var err error
	env, err = testenv.Start(GinkgoT().TempDir())
	Expect(err).NotTo(HaveOccurred())
	k8s, err = client.New(env.Config, client.Options{})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})
