# Builds pushwatch on Debian 12 (bookworm) and runs it in a slim bookworm image.
# librdkafka is compiled from source by the rdkafka crate with its bundled zstd and links
# Debian's OpenSSL, zlib and, for Kerberos (the `gssapi` feature), Cyrus SASL.

FROM rust:1-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential pkg-config libssl-dev libsasl2-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p pushwatch --features gssapi \
    && install -m 0755 target/release/pushwatch /usr/local/bin/pushwatch

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates libssl3 libsasl2-2 libsasl2-modules-gssapi-mit zlib1g \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/pushwatch --create-home pushwatch
COPY --from=build /usr/local/bin/pushwatch /usr/local/bin/pushwatch
COPY deploy/pushwatch.toml /etc/pushwatch/pushwatch.toml
USER pushwatch
WORKDIR /var/lib/pushwatch
# Syslog on UDP and TCP, Prometheus metrics on TCP.
EXPOSE 5514/udp 5514/tcp 9898/tcp
VOLUME ["/var/lib/pushwatch"]
ENTRYPOINT ["/usr/local/bin/pushwatch"]
CMD ["run", "--config", "/etc/pushwatch/pushwatch.toml"]
