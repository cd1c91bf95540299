package apiserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/bridgehead/bridgehead/controllers"
	"github.com/bridgehead/bridgehead/internal/pki"
	"github.com/bridgehead/bridgehead/internal/snapshot"
	"github.com/bridgehead/bridgehead/internal/translate"
	"github.com/bridgehead/bridgehead/proxy"
)

// inProcess is the gateway wired as cmd/bridgehead wires it, in this test process, so the
// upstream dialer can map the cluster addresses of EndpointSlices (which the API server
// requires to be non-loopback) to backends on this machine.
type inProcess struct {
	web, websecure string
}

func startInProcess(namespaces []string, cfg controllers.Config, routes map[string]string) *inProcess {
	GinkgoHelper()
	opts := ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0"}
	opts.Cache.DefaultNamespaces = map[string]cache.Config{}
	for _, ns := range namespaces {
		opts.Cache.DefaultNamespaces[ns] = cache.Config{}
	}
	mgr, err := ctrl.NewManager(env.Config, opts)
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	cfg.Store = &snapshot.Store{}
	gw, err := controllers.Setup(ctx, mgr, cfg)
	Expect(err).NotTo(HaveOccurred())
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	srv, err := proxy.New(proxy.Config{
		EntryPoints: []proxy.EntryPoint{{Name: "web", Address: "127.0.0.1:0"}, {Name: "websecure", Address: "127.0.0.1:0", TLS: true}},
		ErrorHeader: true,
		Grace:       2 * time.Second,
		Ready:       func() error { return gw.ReadyCheck(nil) },
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			local, ok := routes[addr]
			if !ok {
				return nil, fmt.Errorf("test dialer: no backend for %s", addr) // never leave the machine
			}
			return dialer.DialContext(ctx, network, local)
		},
	}, cfg.Store)
	Expect(err).NotTo(HaveOccurred())
	Expect(srv.Listen()).To(Succeed())
	done := make(chan struct{}, 2)
	go func() {
		defer GinkgoRecover()
		defer func() { done <- struct{}{} }()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
	go func() {
		defer GinkgoRecover()
		defer func() { done <- struct{}{} }()
		Expect(srv.Serve(ctx)).To(Succeed())
	}()
	DeferCleanup(func() {
		cancel()
		<-done
		<-done
	})
	addrs := srv.Addrs()
	return &inProcess{web: addrs["web"], websecure: addrs["websecure"]}
}

// service is a Service with a selector and the EndpointSlice its endpoints controller
// would write (there are no pods here); the address is mapped by the test dialer.
func service(ns, name string, typ corev1.ServiceType, port int32, ip string, targetPort int32) []client.Object {
	return []client.Object{
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.ServiceSpec{Type: typ, Selector: map[string]string{"app": name},
				Ports: []corev1.ServicePort{{Name: "http", Port: port, TargetPort: intstr.FromInt32(targetPort)}}}},
		&discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name + "-x2v9q", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To(targetPort), Protocol: ptr.To(corev1.ProtocolTCP)}},
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
				TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: name + "-pod"}}},
		},
	}
}

var _ = Describe("cert-manager http-01 through an Ingress", Ordered, func() {
	const (
		ns         = "acme"
		host       = "shop.acme.test"
		token      = "Fz0pL4x2fC1Kq9sXw3u8Tb7nYcR5eVaMdHjGk6QoZiE"
		thumbprint = "gYmEhf0c0jXWLLvj6CDT5xy_V1v3wfhGx6TTBw1tQ-o"
	)
	edgeCA := pki.MustCA("edge CA")
	var gw *inProcess

	BeforeAll(func() {
		app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "app: %s\n", r.URL.Path)
		}))
		DeferCleanup(app.Close)
		// What cert-manager's acmesolver pod serves: the key authorization for its token.
		solver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/.well-known/acme-challenge/"+token {
				http.NotFound(w, r)
				return
			}
			fmt.Fprint(w, token+"."+thumbprint)
		}))
		DeferCleanup(solver.Close)

		create(namespace(ns),
			tlsSecret(ns, "shop-tls", edgeCA.MustIssue(host, pki.Options{DNSNames: []string{host}})),
			// The Service in front of the gateway, with the address its load balancer got.
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "bridgehead", Name: "gateway-acme"},
				Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "bridgehead"},
					Ports: []corev1.ServicePort{{Name: "web", Port: 80}, {Name: "websecure", Port: 443}}}},
		)
		create(service(ns, "shop", corev1.ServiceTypeClusterIP, 80, "10.0.7.20", 8080)...)
		shop := ingress(ns, "shop", host, "shop", networkingv1.ServiceBackendPort{Number: 80}, map[string]string{translate.AnnotationSSLRedirect: "true"})
		shop.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: "shop-tls"}}
		create(shop)

		// Exactly what cert-manager creates for the challenge: a NodePort Service to the
		// solver pod, and an Ingress of the issuer's class for the token path.
		create(service(ns, "cm-acme-http-solver-7xw9d", corev1.ServiceTypeNodePort, 8089, "10.0.7.30", 8089)...)
		solverIngress := &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cm-acme-http-solver-x7k2p",
				Labels: map[string]string{
					"acme.cert-manager.io/http-domain":   "1733537442",
					"acme.cert-manager.io/http-token":    "1168379932",
					"acme.cert-manager.io/http01-solver": "true",
				},
				Annotations: map[string]string{"nginx.ingress.kubernetes.io/whitelist-source-range": "0.0.0.0/0,::/0"},
			},
			Spec: networkingv1.IngressSpec{
				IngressClassName: ptr.To("bridgehead"),
				Rules: []networkingv1.IngressRule{{
					Host: host,
					IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
						Path: "/.well-known/acme-challenge/" + token, PathType: ptr.To(networkingv1.PathTypeImplementationSpecific),
						Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
							Name: "cm-acme-http-solver-7xw9d", Port: networkingv1.ServiceBackendPort{Number: 8089}}},
					}}}},
				}},
			},
		}
		create(solverIngress)

		opts := translate.DefaultOptions()
		opts.Now = time.Now()
		gw = startInProcess([]string{ns, "bridgehead"}, controllers.Config{
			Options:        opts,
			PublishService: types.NamespacedName{Namespace: "bridgehead", Name: "gateway-acme"},
		}, map[string]string{
			"10.0.7.20:8080": app.Listener.Addr().String(),
			"10.0.7.30:8089": solver.Listener.Addr().String(),
		})
	})

	It("answers the ACME token on the web entry point while the same host redirects everything else to HTTPS", func() {
		web := plainClient(gw.web)
		Eventually(func(g Gomega) {
			res, err := get(web, "http://"+host+"/.well-known/acme-challenge/"+token)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(res.status).To(Equal(http.StatusOK))
			g.Expect(res.body).To(Equal(token + "." + thumbprint))
		}).Should(Succeed())

		res, err := get(web, "http://"+host+"/checkout?step=2")
		Expect(err).NotTo(HaveOccurred())
		Expect(res.status).To(Equal(http.StatusMovedPermanently))
		Expect(res.location).To(Equal("https://" + host + "/checkout?step=2"))

		// Another token is not redirected either (an ACME server never follows a redirect
		// to a certificate it cannot trust yet): no solver serves it, so 404.
		res, err = get(web, "http://"+host+"/.well-known/acme-challenge/unknown")
		Expect(err).NotTo(HaveOccurred())
		Expect(res.status).To(Equal(http.StatusNotFound))
		Expect(res.reason).To(Equal("NoRoute"))

		res, err = get(tlsClient(edgeCA, gw.websecure), "https://"+host+"/checkout")
		Expect(err).NotTo(HaveOccurred())
		Expect(res.status).To(Equal(http.StatusOK))
		Expect(res.body).To(Equal("app: /checkout\n"))
	})

	It("publishes the load balancer's address in the status of both Ingresses once it has one", func() {
		Consistently(func(g Gomega) { g.Expect(loadBalancer(g, ns, "shop")).To(BeEmpty()) }).
			WithTimeout(time.Second).Should(Succeed(), "a LoadBalancer Service without an address yet publishes nothing")
		svc := &corev1.Service{}
		Expect(k8s.Get(bg(), client.ObjectKey{Namespace: "bridgehead", Name: "gateway-acme"}, svc)).To(Succeed())
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.9"}, {Hostname: "lb.acme.test"}}
		Expect(k8s.Status().Update(bg(), svc)).To(Succeed())
		for _, name := range []string{"shop", "cm-acme-http-solver-x7k2p"} {
			Eventually(func(g Gomega) {
				g.Expect(loadBalancer(g, ns, name)).To(Equal([]string{"203.0.113.9", "lb.acme.test"}))
			}).Should(Succeed())
		}
	})

	It("stops answering the token once cert-manager deletes the solver, without redirecting it", func() {
		Expect(k8s.Delete(bg(), &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cm-acme-http-solver-x7k2p"}})).To(Succeed())
		web := plainClient(gw.web)
		Eventually(func(g Gomega) {
			res, err := get(web, "http://"+host+"/.well-known/acme-challenge/"+token)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(res.status).To(Equal(http.StatusNotFound))
			g.Expect(res.reason).To(Equal("NoRoute"))
		}).Should(Succeed())
		res, err := get(web, "http://"+host+"/")
		Expect(err).NotTo(HaveOccurred())
		Expect(res.status).To(Equal(http.StatusMovedPermanently))
		Expect(res.location).To(Equal("https://" + host + "/"))
	})

	It("takes its address back from an Ingress moved to another class", func() {
		ing := &networkingv1.Ingress{}
		Expect(k8s.Get(bg(), client.ObjectKey{Namespace: ns, Name: "shop"}, ing)).To(Succeed())
		ing.Spec.IngressClassName = ptr.To("nginx")
		Expect(k8s.Update(bg(), ing)).To(Succeed())
		Eventually(func(g Gomega) { g.Expect(loadBalancer(g, ns, "shop")).To(BeEmpty()) }).Should(Succeed())
		res, err := get(plainClient(gw.web), "http://"+host+"/")
		Expect(err).NotTo(HaveOccurred())
		Expect(res.status).To(Equal(http.StatusNotFound), "nor is it served any more")
	})
})
