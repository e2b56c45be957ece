# Kube CI. `make help` lists the targets.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO            ?= go
CONTROLLER_GEN = $(GO) tool controller-gen
K8S_ASSETS     = $(shell hack/build-k8s.sh kube-apiserver etcd)
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS        = -X github.com/kubeci/kubeci/internal/version.Version=$(VERSION)
# Generated files `make verify` regenerates and compares.
GENERATED      = api/v1alpha1/zz_generated.deepcopy.go config/crd config/rbac/role.yaml charts/kubeci/crds charts/kubeci/templates/manifests.yaml

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z0-9_-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: generate
generate: ## Generate deepcopy code for the API types.
	$(CONTROLLER_GEN) object paths=./api/...

.PHONY: manifests
manifests: ## Generate the CRDs, the operator's RBAC role and the Helm chart's copies of config/.
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=kubeci-operator paths=./internal/controller/... output:rbac:artifacts:config=config/rbac
	$(GO) run ./hack/release chart

.PHONY: fmt
fmt: ## Format the Go code.
	gofmt -w $$(git ls-files '*.go')

.PHONY: verify
verify: ## Check formatting, vet, go.mod and that generated files are up to date.
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [[ -n "$$out" ]]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e ./test/...
	$(MAKE) --no-print-directory generate manifests
	$(GO) mod tidy
	@if ! git diff --quiet -- $(GENERATED) go.mod go.sum || [[ -n "$$(git ls-files --others --exclude-standard -- $(GENERATED))" ]]; then \
	  echo "generated files or go.mod are out of date; run 'make generate manifests' and 'go mod tidy' and commit:"; \
	  git status --short -- $(GENERATED) go.mod go.sum; exit 1; fi
	@echo "verify: ok"

##@ Build

.PHONY: build
build: ## Build bin/kubeci and bin/kubeci-operator.
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/kubeci ./cmd/kubeci
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/kubeci-operator ./cmd/kubeci-operator

# IMG names Kube CI's image (REGISTRY/NAME:TAG); when set, `make image` and
# `make release` push it there (credentials from the Docker configuration).
IMG ?=
IMAGE_FLAGS    = -version $(VERSION) $(if $(IMG),-name $(IMG) -push)

.PHONY: image
image: ## Build Kube CI's image without Docker into bin/kubeci-image.tar (OCI layout; reproducible); IMG=registry/name:tag pushes it.
	$(GO) run ./hack/release image $(IMAGE_FLAGS)

.PHONY: release
release: ## VERSION=v0.x.y: the image, dist/install.yaml and dist/charts/kubeci, the image by digest (IMG=... also pushes it).
	$(GO) run ./hack/release release $(IMAGE_FLAGS)

.PHONY: helm
helm: ## Build bin/helm from the Go module proxy (hack/helm pins the release).
	hack/build-helm.sh

.PHONY: docker-build
docker-build: ## Build Kube CI's image with Docker instead (IMG=name:tag).
	docker build --build-arg VERSION=$(VERSION) -t $(or $(IMG),kubeci:latest) .

##@ Test

.PHONY: test-assets
test-assets: ## Build (once) the kube-apiserver and etcd the integration tests run.
	hack/build-k8s.sh kube-apiserver etcd

.PHONY: test-deps
test-deps: ## Install what the tests need besides Go (chromium, runc, busybox-static with apt as root; helm from the module proxy).
	hack/test-deps.sh

.PHONY: test
test: test-deps ## Run the unit and integration tests (installs what they need and builds the test assets first).
	KUBEBUILDER_ASSETS="$(K8S_ASSETS)" $(GO) test ./... $(TESTFLAGS)

##@ Benchmarks

BENCH_FLAGS ?=

.PHONY: bench
bench: ## Measure trigger latency, throughput, operator cost, the planner, and Kube CI side by side with Argo Workflows (about 30 minutes, plus building Argo once); writes bin/bench/results.json and docs/performance.md (BENCH_FLAGS=-quick for a smoke run).
	KUBEBUILDER_ASSETS="$(K8S_ASSETS)" $(GO) run ./test/bench -out bin/bench/results.json -doc docs/performance.md $(BENCH_FLAGS)

.PHONY: argo-assets
argo-assets: ## Build (once) Argo Workflows' workflow-controller, which `make bench` runs side by side with Kube CI.
	hack/build-argo.sh

##@ End-to-end

.PHONY: e2e
e2e: ## Run the end-to-end tests on a single-node cluster brought up on this machine (Linux, root; see docs/e2e.md).
	hack/e2e.sh

.PHONY: e2e-up
e2e-up: ## Bring up the end-to-end cluster and keep it running (tests reuse it with KUBECI_E2E_KUBECONFIG).
	$(GO) build -o bin/e2e-cluster ./test/e2e/cmd/e2e-cluster
	bin/e2e-cluster up

.PHONY: e2e-down
e2e-down: ## Tear down the end-to-end cluster, or whatever a crashed run left.
	$(GO) build -o bin/e2e-cluster ./test/e2e/cmd/e2e-cluster
	bin/e2e-cluster down
