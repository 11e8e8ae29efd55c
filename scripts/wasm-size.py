#!/usr/bin/env python3
"""What each crate costs in the wasm module: the code bytes of its functions, from the
module's name section (the module cargo builds, before wasm-bindgen and wasm-opt strip the
names; wasm-opt then shrinks everything by about half). Functions are attributed to the
crate their mangled path starts with, or, for a trait impl `<T as Trait>`, to T's crate.

    scripts/wasm-size.py [MODULE] [--top N]

MODULE defaults to the release module scripts/build-web.sh builds."""
import argparse
import collections
import os
import re
import sys


def leb(b, i):
    value, shift = 0, 0
    while True:
        x = b[i]
        i += 1
        value |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return value, i


def sections(b):
    """(id, start, end) of every section, and the number of imported functions."""
    i, out, imported = 8, [], 0
    while i < len(b):
        sid = b[i]
        n, i = leb(b, i + 1)
        out.append((sid, i, i + n))
        if sid == 2:  # imports: functions take the first indices
            count, j = leb(b, i)
            for _ in range(count):
                for _ in range(2):
                    length, j = leb(b, j)
                    j += length
                kind = b[j]
                j += 1
                if kind == 0:
                    _, j = leb(b, j)
                    imported += 1
                elif kind == 1:
                    j += 1
                    flags, j = leb(b, j)
                    _, j = leb(b, j)
                    if flags & 1:
                        _, j = leb(b, j)
                elif kind == 2:
                    flags, j = leb(b, j)
                    _, j = leb(b, j)
                    if flags & 1:
                        _, j = leb(b, j)
                elif kind == 3:
                    j += 2
        i += n
    return out, imported


def crate(name):
    m = re.match(r"_ZN(\d+)(\S+)", name)
    if m:
        first = m.group(2)[: int(m.group(1))]
        inner = re.match(r"_\$LT\$(?:\$RF\$|mut\$u20\$|dyn\$u20\$|\$LP\$)*([A-Za-z_]\w*)", first)
        return inner.group(1) if inner else first
    m = re.match(r"[<&]*(?:dyn )?([A-Za-z_]\w*)::", name)
    return m.group(1) if m else "(runtime and unnamed)"


def main():
    parser = argparse.ArgumentParser(description="What each crate costs in the wasm module.")
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/ticketsr/target"))
    parser.add_argument("module", nargs="?", default=f"{target}/wasm32-unknown-unknown/release/ticketsr.wasm")
    parser.add_argument("--top", type=int, default=25, help="crates listed")
    args = parser.parse_args()
    path, top = args.module, args.top
    b = open(path, "rb").read()
    found, imported = sections(b)
    bodies, names, data = [], {}, 0
    for sid, start, end in found:
        if sid == 10:
            count, j = leb(b, start)
            for _ in range(count):
                size, k = leb(b, j)
                bodies.append(size + (k - j))
                j = k + size
        elif sid == 11:
            data = end - start
        elif sid == 0:
            length, j = leb(b, start)
            if b[j : j + length] != b"name":
                continue
            j += length
            while j < end:
                sub = b[j]
                size, j = leb(b, j + 1)
                if sub == 1:
                    count, k = leb(b, j)
                    for _ in range(count):
                        index, k = leb(b, k)
                        length, k = leb(b, k)
                        names[index] = b[k : k + length].decode("utf8", "replace")
                        k += length
                j += size
    if not names:
        sys.exit(f"{path} has no function names (stripped?)")
    cost = collections.Counter()
    for k, size in enumerate(bodies):
        cost[crate(names.get(k + imported, ""))] += size
    total = sum(bodies)
    print(f"{path}: {len(b)} bytes; code {total} bytes in {len(bodies)} functions, data {data} bytes")
    print("| crate | code bytes | share |\n| --- | ---: | ---: |")
    for name, size in cost.most_common(top):
        print(f"| {name} | {size:,} | {100 * size / total:.1f}% |")


main()
