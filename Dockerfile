# The operator's image: a static binary on a distroless base, running as an
# unprivileged user. Build it with `make docker-build IMG=...` where a Docker
# engine runs; the end-to-end tests build the same image without Docker
# (test/e2e) from bin/kubeci-operator.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY internal/ internal/
ARG VERSION=devel
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/kubeci/kubeci/internal/version.Version=${VERSION}" \
      -o /out/kubeci-operator ./cmd/kubeci-operator

# The dashboard (config/dashboard): docker build --target dashboard -t IMG .
FROM build AS build-dashboard
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/kubeci/kubeci/internal/version.Version=${VERSION}" \
      -o /out/kubeci ./cmd/kubeci

FROM gcr.io/distroless/static:nonroot AS dashboard
COPY --from=build-dashboard /out/kubeci /kubeci
USER 65532:65532
ENTRYPOINT ["/kubeci"]

FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/kubeci-operator /kubeci-operator
USER 65532:65532
ENTRYPOINT ["/kubeci-operator"]
