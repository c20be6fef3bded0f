#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine: installs the Debian packages that the
# Kafka client build needs, installs the Tansu Kafka-protocol broker from crates.io, starts it on
# loopback, runs every test and stops the broker again.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

packages=(build-essential pkg-config libssl-dev zlib1g-dev python3 curl)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null; then
            echo "test.sh: missing Debian packages ${missing[*]}; install them as root or install sudo" >&2
            exit 1
        fi
        sudo="sudo"
    fi
    echo "test.sh: installing Debian packages: ${missing[*]}" >&2
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo-nextest >/dev/null; then
    cargo install --locked cargo-nextest
fi

# Tansu is the broker that the Kafka tests publish to. `dynostore` gives it in-memory storage.
# A debug build without debug info installs in a few minutes, and the command is a no-op once
# the same version is installed.
if ! tansu --version 2>/dev/null | grep -q "0.6.0"; then
    CARGO_PROFILE_DEV_DEBUG=false cargo install --locked tansu@0.6.0 --features dynostore --debug
fi

mkdir -p target
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
tansu broker \
    --listener-url "tcp://127.0.0.1:$port" \
    --advertised-listener-url "tcp://127.0.0.1:$port" \
    --storage-engine memory://tansu/ >target/tansu-test.log 2>&1 &
broker_pid=$!
trap 'kill "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$broker_pid" 2>/dev/null; then
        echo "test.sh: the Tansu broker exited; its log follows" >&2
        cat target/tansu-test.log >&2
        exit 1
    fi
    sleep 0.1
done
export PUSHWATCH_TEST_KAFKA="127.0.0.1:$port"
echo "test.sh: Tansu broker pid $broker_pid on $PUSHWATCH_TEST_KAFKA" >&2

cargo nextest run --workspace --all-targets --no-fail-fast "$@"
cargo test --workspace --doc
