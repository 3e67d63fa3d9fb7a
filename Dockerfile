# cibridge: build with the official Swift image, run on slim Debian.
#   docker build -t cibridge .
#   docker run -p 8080:8080 -e CIBRIDGE_REDIS_URL=redis://redis:6379 -e CIBRIDGE_HTTP_TOKEN=… cibridge serve

FROM swift:6.2-bookworm AS build
# Pinned: the versions bookworm shipped and still ships (the runtime stage pins the same libraries).
RUN apt-get update \
    && apt-get install -y --no-install-recommends librdkafka-dev=2.0.2-1 libhiredis-dev=0.14.1-3 pkg-config=1.8.1-1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so they are cached while only our sources change.
COPY Package.swift ./
RUN swift package resolve
COPY Sources Sources
COPY Tests Tests
RUN swift build -c release --product cibridge --static-swift-stdlib \
    && install -D "$(swift build -c release --show-bin-path)/cibridge" /out/cibridge

FROM debian:bookworm-slim
# librdkafka1 and libhiredis0.14: the two C libraries cibridge links, pinned to what the build stage linked;
# ca-certificates (TLS to Kafka and Redis) and curl (the health check) are not: they take bookworm's
# security updates, and a pin would fail the build once the archive drops the pinned version.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends librdkafka1=2.0.2-1 libhiredis0.14=0.14.1-3 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 cibridge \
    && useradd --system --uid 10001 --gid cibridge --home-dir /var/lib/cibridge --shell /usr/sbin/nologin cibridge \
    && install -d -o cibridge -g cibridge -m 0750 /var/lib/cibridge /var/lib/cibridge/outbox
COPY --from=build /out/cibridge /usr/local/bin/cibridge
# Numeric, so that runtimes can tell it is not root without the image's /etc/passwd (runAsNonRoot);
# 10001:10001 is the cibridge user and group made above, and the Kubernetes StatefulSet's runAsUser/runAsGroup.
USER 10001:10001
ENV CIBRIDGE_OUTBOX_DIR=/var/lib/cibridge/outbox
VOLUME /var/lib/cibridge/outbox
EXPOSE 8080
# Exec form, no shell: curl -f exits non-zero on any failure or HTTP error, which Docker counts as unhealthy.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD ["curl", "-fsS", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/usr/local/bin/cibridge"]
CMD ["serve"]
