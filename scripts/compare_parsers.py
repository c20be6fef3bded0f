#!/usr/bin/env python3
"""Parse a log file with a plain CPython key=value regex and print lines/s.

Each line becomes a dict of key -> value (quotes removed, backslash escapes undone), which is
what a straightforward Python log pipeline does. Used by compare-parsers.sh as the baseline.
"""
import re
import statistics
import sys
import time

PAIR = re.compile(r'([A-Za-z0-9_.-]+)=("(?:[^"\\]|\\.)*"|\S*)')
ESCAPE = re.compile(r'\\(.)')


def parse_line(line):
    fields = {}
    for key, value in PAIR.findall(line):
        if value.startswith('"'):
            value = ESCAPE.sub(r'\1', value[1:-1])
        fields.setdefault(key, value)
    return fields


def main():
    path = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with open(path, encoding='utf-8', errors='replace') as handle:
        lines = handle.read().splitlines()
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        count = 0
        for line in lines:
            if parse_line(line):
                count += 1
        seconds.append(time.perf_counter() - start)
    median = statistics.median(seconds)
    print(f'{len(lines) / median:.0f} lines/s ({len(lines)} lines, median of {runs} runs: {median:.3f} s)')


if __name__ == '__main__':
    main()
