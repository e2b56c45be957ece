# Kube CI's image with Docker, for those who prefer it (`make docker-build
# IMG=...`). `make image` builds the same layout without Docker
# (internal/image): the operator as entrypoint and the kubeci CLI in
# /usr/local/bin, static, running as the unprivileged user 65532. The
# cleanup pods run /usr/local/bin/kubeci-operator cleanup from it, and the
# in-cluster dashboard (config/dashboard) /usr/local/bin/kubeci dashboard.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY internal/ internal/
ARG VERSION=devel
RUN for c in kubeci-operator kubeci; do \
      CGO_ENABLED=0 go build -trimpath -buildvcs=false \
        -ldflags "-s -w -buildid= -X github.com/kubeci/kubeci/internal/version.Version=${VERSION}" \
        -o /out/$c ./cmd/$c; \
    done

FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/kubeci-operator /out/kubeci /usr/local/bin/
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/kubeci-operator"]
