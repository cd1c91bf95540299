# Bridgehead — a Kubernetes ingress gateway built for end-to-end TLS.
#
# Tools are pinned here and built once per version into a cache outside the clone
# ($(CACHE_DIR)), then linked into ./bin, so a fresh clone on the same machine reuses them.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/bridgehead
export BRIDGEHEAD_CACHE := $(CACHE_DIR)

CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
HELM_VERSION ?= v3.22.0
# The HTTP/2 conformance tool test/dataplane runs against the TLS entry point (TestH2spec).
# It has no go.mod: go install takes its dependencies (golang.org/x/net, cobra, color) at
# their latest versions when it builds (x/net v0.63.0 for the baseline); the cache keeps that build.
H2SPEC_VERSION ?= v2.2.1+incompatible
# kube-apiserver and etcd for envtest, built from source by hack/envtest.sh. The minor
# matches the k8s.io libraries that controller-runtime v0.25 pins (v0.37).
K8S_VERSION ?= 1.37.1
ETCD_VERSION ?= 3.7.3
export K8S_VERSION ETCD_VERSION

CONTROLLER_GEN := bin/controller-gen
GOLANGCI_LINT := bin/golangci-lint
HELM := bin/helm
H2SPEC := bin/h2spec

GO_TEST_FLAGS ?= -race -count=1
# Debian packages the tests drive as real clients (chromium: the admin status page).
TEST_PACKAGES ?= curl openssl chromium socat

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*?##/ { printf "  %-18s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs and RBAC from the API types and markers.
	$(CONTROLLER_GEN) crd rbac:roleName=bridgehead paths=./api/... paths=./controllers/... \
		output:crd:artifacts:config=config/crd/bases output:rbac:dir=config/rbac
	@$(MAKE) --no-print-directory sync-chart-crds

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...

.PHONY: verify-generated
verify-generated: manifests generate ## Fail if regenerating changed files (compared with git's index).
	@untracked="$$(git ls-files --others --exclude-standard -- api config)"; \
	if ! git diff --quiet -- api config || [ -n "$$untracked" ]; then \
		git diff --stat -- api config; echo "$$untracked"; \
		echo "Generated files are stale: run 'make manifests generate' and commit the result."; exit 1; \
	fi

.PHONY: sync-chart-crds
sync-chart-crds: ## Copy the CRDs from config/crd/bases into the Helm chart (charts/bridgehead/crds).
	@mkdir -p charts/bridgehead/crds
	@rm -f charts/bridgehead/crds/*.yaml
	@cp config/crd/bases/*.yaml charts/bridgehead/crds/

.PHONY: verify-chart-crds
verify-chart-crds: ## Fail if the Helm chart's CRDs differ from config/crd/bases.
	@diff -r -x gateway-api config/crd/bases charts/bridgehead/crds >/dev/null || { \
		diff -r -x gateway-api config/crd/bases charts/bridgehead/crds | head -20; \
		echo "The Helm chart's CRDs drifted from config/crd/bases: run 'make sync-chart-crds' and commit the result."; exit 1; }

.PHONY: fmt
fmt: ## Run gofmt on the tree.
	gofmt -s -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint (pinned), including the import boundaries.
	$(GOLANGCI_LINT) run --allow-serial-runners ./...

.PHONY: envtest
envtest: ## Build (once, cached by version) kube-apiserver and etcd for envtest.
	@hack/envtest.sh >/dev/null

.PHONY: test-deps
test-deps: ## Install the Debian packages the tests use as real clients, when missing.
	@hack/apt-install.sh $(TEST_PACKAGES)

# test/e2e runs on its own after the rest: it drives a real node and measures timings, so
# it does not share the two cores with the envtest suites.
.PHONY: test
test: verify-generated verify-chart-crds verify-chart-gateway-api-crds vet lint envtest test-deps helm $(H2SPEC) ## Run every check and test, the end-to-end suite on a real node last.
	KUBEBUILDER_ASSETS="$$(hack/envtest.sh)" go test $(GO_TEST_FLAGS) $$(go list ./... | grep -v '/test/e2e$$')
	@# test/conformance is a module of its own: its unit tests (the manifests patch, the
	@# reports README's tables and skip list) run here; the suite itself is `make conformance`.
	cd test/conformance && go test $(GO_TEST_FLAGS) ./
	@$(MAKE) --no-print-directory test-e2e

# The suites that start a real API server (envtest); test/README.md lists every suite.
INTEGRATION_PKGS := ./controllers/... ./test/apiserver/... ./test/diagnose/... ./test/crdvalidation/... ./test/tlsmatrix/... ./test/traefikcrds/...

.PHONY: test-unit
test-unit: test-deps $(H2SPEC) ## Run the tests that need no API server (no generation check, no lint).
	go test $(GO_TEST_FLAGS) $$(go list ./... | grep -vE '/(controllers|test/(apiserver|crdvalidation|tlsmatrix|traefikcrds))$$')

.PHONY: test-integration
test-integration: envtest test-deps helm ## Run the suites that start a real kube-apiserver and etcd (envtest).
	KUBEBUILDER_ASSETS="$$(hack/envtest.sh)" go test $(GO_TEST_FLAGS) $(INTEGRATION_PKGS)

.PHONY: test-e2e
test-e2e: envtest test-deps node-deps helm ## The end-to-end suite: image, real node, helm install, real pods (root; see test/README.md).
	KUBEBUILDER_ASSETS="$$(hack/envtest.sh)" go test -count=1 -timeout 45m -v ./test/e2e/ -ginkgo.v

##@ Build and run

.PHONY: build
build: ## Build bin/bridgehead (with cgo when gcc is there: RSA handshakes through OpenSSL, proxy/opensslrsa).
	go build -o bin/ ./cmd/bridgehead

.PHONY: run
run: build ## Run the quickstart: demo PKI, HTTPS demo backend, gateway on examples/quickstart.
	bin/bridgehead quickstart

.PHONY: run-cluster
run-cluster: build envtest ## A local API server (envtest binaries) with the CRDs, and the gateway against it: kubectl apply -f examples/ingress, then curl.
	hack/run-cluster.sh

.PHONY: bench
bench: build ## Benchmark against HAProxy and nginx on the same end-to-end TLS path, each proxy on its own core (hack/bench/run.sh).
	bash hack/bench/run.sh

.PHONY: bench-scale
bench-scale: build ## The control plane at 1, 1,000 and 10,000 IngressRoutes, in folder mode and against a real API server (hack/bench/scale.sh).
	bash hack/bench/scale.sh

##@ Image and a real cluster

# Debian packages of the real node: the container runtime, the OCI runtime (runc: crun
# refuses this kernel's hybrid cgroups), CNI plugins, and what kubelet and kube-proxy use.
NODE_PACKAGES ?= containerd runc containernetworking-plugins nftables iptables conntrack

.PHONY: image
image: ## Build the gateway's OCI image from source, without Docker: bin/bridgehead-image.tar (and the node's pause image).
	hack/image.sh bin

.PHONY: node-deps
node-deps: ## Install the Debian packages the real node runs, when missing.
	@hack/apt-install.sh $(NODE_PACKAGES)

.PHONY: bin/cluster
bin/cluster:
	@go build -o bin/cluster ./hack/cluster

.PHONY: cluster-up
cluster-up: envtest node-deps build helm image bin/cluster ## Start a real single-node Kubernetes here (root), with the image imported; bin/kubectl and bin/helm talk to it.
	@ln -sf "$$(hack/envtest.sh)/kubectl" bin/kubectl
	bin/cluster up --bin-dir "$$(hack/envtest.sh)" --pause-image bin/pause-image.tar
	bin/cluster import bin/bridgehead-image.tar
	@# The Gateway API's Standard channel, as a user of the chart gets it (charts/bridgehead/crds/gateway-api).
	eval "$$(bin/cluster env)" && bin/kubectl apply --server-side --force-conflicts -f config/crd/gateway-api/ >/dev/null

.PHONY: image-import
image-import: image bin/cluster ## Load bin/bridgehead-image.tar into the running node's containerd.
	bin/cluster import bin/bridgehead-image.tar

.PHONY: cluster-down
cluster-down: bin/cluster ## Stop the node and remove everything it made (processes, mounts, cgroups, nft tables, bridge).
	bin/cluster down

##@ Tools

# Always asked: cheap when the pinned version is cached, and it relinks on a version bump.
.PHONY: $(CONTROLLER_GEN) $(GOLANGCI_LINT) $(HELM) $(H2SPEC)
$(CONTROLLER_GEN):
	@hack/tool.sh controller-gen sigs.k8s.io/controller-tools/cmd/controller-gen $(CONTROLLER_TOOLS_VERSION)

$(GOLANGCI_LINT):
	@hack/tool.sh golangci-lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint $(GOLANGCI_LINT_VERSION)

.PHONY: helm
helm: $(HELM) ## Install helm (pinned, built from the Go module proxy) into bin/.

$(HELM):
	@hack/tool.sh helm helm.sh/helm/v3/cmd/helm $(HELM_VERSION)

.PHONY: h2spec
h2spec: $(H2SPEC) ## Install h2spec (pinned, built from the Go module proxy) into bin/; test/dataplane's TestH2spec runs it.

$(H2SPEC):
	@hack/tool.sh h2spec github.com/summerwind/h2spec/cmd/h2spec $(H2SPEC_VERSION)

##@ Gateway API conformance

GATEWAY_API_VERSION ?= v1.6.3

.PHONY: sync-chart-gateway-api-crds
sync-chart-gateway-api-crds: ## Copy the Gateway API Standard-channel CRDs (config/crd/gateway-api) into the Helm chart.
	@mkdir -p charts/bridgehead/crds/gateway-api
	@rm -f charts/bridgehead/crds/gateway-api/*.yaml
	@cp config/crd/gateway-api/*.yaml charts/bridgehead/crds/gateway-api/

.PHONY: verify-chart-gateway-api-crds
verify-chart-gateway-api-crds: ## Fail if the chart's or config's Gateway API CRDs differ from the module's Standard channel.
	@std="$$(go list -m -f '{{.Dir}}' sigs.k8s.io/gateway-api)/config/crd/standard"; \
	[ "$$(go list -m -f '{{.Version}}' sigs.k8s.io/gateway-api)" = "$(GATEWAY_API_VERSION)" ] || { \
		echo "go.mod requires sigs.k8s.io/gateway-api $$(go list -m -f '{{.Version}}' sigs.k8s.io/gateway-api), the CRDs are pinned to $(GATEWAY_API_VERSION)"; exit 1; }; \
	for dir in config/crd/gateway-api charts/bridgehead/crds/gateway-api; do \
		diff -r -x '*vap_safeupgrades*' "$$std" "$$dir" >/dev/null || { diff -r -x '*vap_safeupgrades*' "$$std" "$$dir" | head -5; \
			echo "$$dir drifted from the Gateway API $(GATEWAY_API_VERSION) Standard channel: copy it from $$std, then run 'make sync-chart-gateway-api-crds'."; exit 1; }; \
	done

.PHONY: conformance-images
conformance-images: ## Build (cached by version) the images the conformance suite's manifests name: echo-basic, coredns.
	hack/conformance-images.sh

.PHONY: conformance
conformance: envtest node-deps build helm bin/cluster ## Gateway API conformance on the real node: images, chart, upstream suite, report (root; KEEP_CLUSTER=1 keeps the node).
	@ln -sf "$$(hack/envtest.sh)/kubectl" bin/kubectl
	hack/conformance.sh
