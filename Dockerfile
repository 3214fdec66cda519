# syntax=docker/dockerfile:1
#
# One image for every role of the shop: the command picks it.
#
#   docker build -t shop:latest .
#   docker run --rm shop:latest serve user --host 0.0.0.0 --data /data
#   docker run --rm shop:latest gateway
#   docker run --rm shop:latest health user:7001
#
# compose.yaml and deploy/kubernetes/ start it this way. Tests/DeploymentTests
# checks this file's structure against the code (ports, product, user).

# ---- build: the Swift toolchain, the package, a release binary ----------------
FROM swift:6.3-bookworm AS build

# GRDB links the system SQLite: the build needs its headers.
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends libsqlite3-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# Dependencies first, so that changing a source file does not fetch them again.
# A Package.resolved in the build context (not committed) pins them.
COPY ./Package.* ./
RUN swift package resolve \
        $([ -f ./Package.resolved ] && echo "--force-resolved-versions" || true)

COPY . .

# The Swift runtime and Foundation are linked into the binary
# (--static-swift-stdlib), so the run stage needs no Swift libraries.
RUN swift build -c release --product shop --static-swift-stdlib

WORKDIR /staging
RUN cp "$(swift build --package-path /build -c release --show-bin-path)/shop" ./shop \
    && cp /usr/libexec/swift/linux/swift-backtrace-static ./swift-backtrace-static

# ---- run: a slim Debian with only what the binary loads -------------------------
FROM debian:bookworm-slim AS run

# libsqlite3-0: the SQLite GRDB was built against (the binary links it).
# libstdc++6, libgcc-s1, zlib1g: what the statically linked Swift runtime still loads.
# ca-certificates, tzdata: correct TLS roots and local times if ever needed.
# curl: only for the gateway's HTTP healthcheck in compose.yaml (services use
# `shop health`, which needs nothing else).
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends \
        libsqlite3-0 libstdc++6 libgcc-s1 zlib1g ca-certificates tzdata curl \
    && rm -rf /var/lib/apt/lists/*

# A fixed numeric uid, so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 shop \
    && useradd --system --uid 10001 --gid shop --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin shop \
    && mkdir -p /data \
    && chown shop:shop /data

COPY --from=build /staging/shop /usr/local/bin/shop
COPY --from=build /staging/swift-backtrace-static /usr/local/libexec/shop/swift-backtrace-static

# Fail the image build now, not the first start, if a shared library is missing.
RUN if ldd /usr/local/bin/shop | grep -q "not found"; then ldd /usr/local/bin/shop; exit 1; fi

# Readable crash backtraces in the logs, without an interactive debugger.
ENV SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/usr/local/libexec/shop/swift-backtrace-static
# Where `shop serve` keeps its SQLite files when --data is not given.
ENV SHOP_DATA_DIR=/data

# Named volumes start with this folder's owner, so the non-root user can write.
VOLUME /data
WORKDIR /data

USER 10001:10001

# The services' default ports (user, product, inventory, order, notification)
# and the gateway's.
EXPOSE 7001 7002 7003 7004 7005 8000

ENTRYPOINT ["shop"]
CMD ["--help"]
