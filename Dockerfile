# cibridge: build with the official Swift image, run on slim Debian.
#   docker build -t cibridge .
#   docker run -p 8080:8080 -e CIBRIDGE_REDIS_URL=redis://redis:6379 -e CIBRIDGE_HTTP_TOKEN=… cibridge serve

FROM swift:6.2-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends librdkafka-dev libhiredis-dev pkg-config \
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
# librdkafka1 and libhiredis0.14: the two C libraries cibridge links; curl: the health check.
RUN apt-get update \
    && apt-get install -y --no-install-recommends librdkafka1 libhiredis0.14 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/cibridge --shell /usr/sbin/nologin cibridge \
    && install -d -o cibridge -g cibridge -m 0750 /var/lib/cibridge /var/lib/cibridge/outbox
COPY --from=build /out/cibridge /usr/local/bin/cibridge
USER cibridge
ENV CIBRIDGE_OUTBOX_DIR=/var/lib/cibridge/outbox
VOLUME /var/lib/cibridge/outbox
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/cibridge"]
CMD ["serve"]
