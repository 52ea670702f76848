#!/usr/bin/env bash
# Installs every Debian 12 package that building, testing and benchmarking Cairn need.
# Idempotent: when everything is present it prints nothing and touches nothing; it runs
# `apt-get update` only when a package is missing.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build ccache pkg-config clang clang-format libclang-rt-14-dev
  # libraries
  libasio-dev libssl-dev libzstd-dev liblz4-dev libsnappy-dev zlib1g-dev libxxhash-dev
  libisal-dev
  libfmt-dev libspdlog-dev libcli11-dev nlohmann-json3-dev libyaml-cpp-dev
  librdkafka-dev libgtest-dev libgmock-dev libbenchmark-dev
  # the admin HTTP server (src/http): RESTinio is header-only over asio, fmt and http-parser
  librestinio-dev libhttp-parser-dev
  # real clients for the interop tests
  kcat python3 python3-confluent-kafka python3-kafka
  # kafka-python's codecs (it compresses with these modules; gzip is built in)
  python3-lz4 python3-snappy python3-zstandard
  # ... and xxhash for lz4 at message format v0 (Kafka 0.8's frame checksum)
  python3-xxhash
  # sarama (Go), built offline from Debian's packaged sources by tests/interop/go_support.py
  golang-go golang-github-shopify-sarama-dev
  # benchmark peers and physical references (bench/): peers' C clients, charts, the loop
  # device file system for the synced NATS variant
  fio iperf3 nats-server redis-server libhiredis-dev libnats-dev python3-matplotlib e2fsprogs
  # a real Prometheus (and promtool) scraping the broker's /metrics in the interop tests
  prometheus
  # misc used by tests; `openssl` makes the TLS interop tests' certificates
  procps psmisc iproute2 openssl
  # `make package` and its test (tests/release): dpkg-shlibdeps for the Depends line, and
  # systemd-analyze / systemd-sysusers to check the unit and the user without installing
  dpkg-dev file systemd
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js and npm (for the kafkajs interop test) may come from elsewhere; only install
# Debian's when no node is on the PATH.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
