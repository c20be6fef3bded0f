#!/usr/bin/env bash
# Compares the parser's throughput with syslog-ng's kv-parser and a plain CPython regex
# parser on the same generated file, and prints lines/s and ratios.
#
# Usage: scripts/compare-parsers.sh [LINES]   (default 200000)
#
# Installs Debian's syslog-ng-core when syslog-ng is missing (needs root or sudo). Builds
# pushwatch in release mode. Each figure is a median of several runs. syslog-ng is timed from
# start until its output file contains every line, so its figure includes start-up (well under
# a second) and writing one short line per message.
set -euo pipefail
cd "$(dirname "$0")/.."

lines=${1:-200000}
runs=${RUNS:-5}
work=$(mktemp -d)
syslog_pid=""
cleanup() {
    if [ -n "$syslog_pid" ]; then kill "$syslog_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

if ! command -v syslog-ng >/dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "compare-parsers: installing syslog-ng-core" >&2
    $sudo apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends syslog-ng-core >&2
fi

target=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p pushwatch
pushwatch="$target/release/pushwatch"
input="$work/mix.log"
"$pushwatch" gen --scenario mix --lines "$lines" --seed 1 --output "$input"
bytes=$(stat -c %s "$input")
echo "input: $lines lines of pushwatch gen --scenario mix --seed 1, $bytes bytes"

# Prints the median of the numbers on standard input.
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

lines_per_second() { # MODE
    "$pushwatch" bench "$input" --mode "$1" --runs "$runs" |
        awk '/^median:/ { print $4 * 1000000 }'
}
full=$(lines_per_second full)
fast=$(lines_per_second peek)

# syslog-ng 3.38: read the file without header parsing, run kv-parser over the whole line,
# write two parsed values per message.
syslog_ng_once() {
    local out="$work/syslog-ng.out"
    rm -f "$out" "$work/persist" "$work/ctl" "$work/pid"
    cat > "$work/syslog-ng.conf" <<CONF
@version: 3.38
options { stats-freq(0); log-fifo-size(100000); };
source s_file { file("$input" flags(no-parse) follow-freq(1) log-fetch-limit(1000) log-iw-size(100000)); };
parser p_kv { kv-parser(prefix(".kv.")); };
destination d_out { file("$out" template("\${.kv.logid} \${.kv.devname}\n")); };
log { source(s_file); parser(p_kv); destination(d_out); };
CONF
    local start end
    start=$(date +%s.%N)
    syslog-ng -F -f "$work/syslog-ng.conf" -R "$work/persist" -c "$work/ctl" -p "$work/pid" \
        --no-caps >/dev/null 2>&1 &
    syslog_pid=$!
    while [ ! -f "$out" ] || [ "$(wc -l < "$out")" -lt "$lines" ]; do
        if ! kill -0 "$syslog_pid" 2>/dev/null; then
            echo "compare-parsers: syslog-ng exited before writing every line;" \
                "run it with $work/syslog-ng.conf by hand to see why" >&2
            exit 1
        fi
        sleep 0.05
    done
    end=$(date +%s.%N)
    kill "$syslog_pid"
    wait "$syslog_pid" 2>/dev/null || true
    syslog_pid=""
    awk -v n="$lines" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f\n", n / (e - s) }'
}
syslog_ng=$(for _ in $(seq 3); do syslog_ng_once; done | median)

python=$(python3 scripts/compare_parsers.py "$input" 3 | awk '{ print $1 }')

printf '\n%-34s %14s %12s\n' "parser" "lines/s" "vs pushwatch"
row() { printf '%-34s %14.0f %11.1fx\n' "$1" "$2" "$(awk -v a="$full" -v b="$2" 'BEGIN { print a / b }')"; }
row "pushwatch full parse" "$full"
row "pushwatch fast path (peek)" "$fast"
row "syslog-ng $(syslog-ng --version | awk 'NR==1 { print $3 }' | tr -d '()') kv-parser" "$syslog_ng"
row "CPython regex to dict" "$python"
echo
echo "vs pushwatch = pushwatch full parse lines/s divided by the row's lines/s."
