# syntax=docker/dockerfile:1
# One image for every plane: compose.yaml runs it with the plane's
# subcommand (gateway, ingest, orchestrator, actions, migrate).

FROM golang:1.26 AS build
WORKDIR /src
# No separate `go mod download` layer: go.mod also pins the codegen tools
# (buf and its large dependency graph), which the binary never needs. The
# cache mounts keep the modules the build does fetch across builds.
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/alexus ./cmd/alexus

# Static binary, no shell, no package manager, running as an unprivileged
# user (uid 65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/alexus /alexus
USER nonroot:nonroot
ENTRYPOINT ["/alexus"]
