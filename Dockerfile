# syntax=docker/dockerfile:1
# Build: a static binary, no cgo.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/accountd ./cmd/accountd

# Run: distroless static, non-root, nothing but the binary and CA roots.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/accountd /accountd
USER nonroot:nonroot
EXPOSE 8000
ENV HTTP_ADDR=:8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["/accountd", "healthcheck"]
ENTRYPOINT ["/accountd"]
CMD ["serve"]
