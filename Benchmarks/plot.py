#!/usr/bin/env python3
"""p99 latency against throughput for every system of one rpc-compare run.

    rpc-compare --json /tmp/rpc-compare.json
    python3 Benchmarks/plot.py /tmp/rpc-compare.json docs/rpc-compare-p99.png

One panel per payload size; one line per system and connection count
(solid: one connection, dashed: four), its points the concurrency levels.
Needs matplotlib (pip install matplotlib).
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
    "floor": "raw NIO floor",
    "framerpc": "FrameRPC",
    "grpc": "grpc-swift-2",
    "framerpc-mtls": "FrameRPC mTLS",
    "grpc-mtls": "grpc-swift-2 mTLS",
}
COLORS = {"floor": "tab:gray", "framerpc": "tab:blue", "grpc": "tab:red", "framerpc-mtls": "tab:cyan", "grpc-mtls": "tab:orange"}


def main(source, target):
    with open(source) as f:
        report = json.load(f)
    rows = [r for r in report["rows"] if r["calls"] > 0 and r.get("latency")]
    sizes = sorted({r["point"]["payloadBytes"] for r in rows})
    fig, axes = plt.subplots(1, len(sizes), figsize=(6.5 * len(sizes), 5.2), squeeze=False)
    for axis, size in zip(axes[0], sizes):
        for system in LABELS:
            for connections, style in ((1, "-"), (4, "--")):
                series = sorted(
                    (r for r in rows if r["point"]["system"] == system and r["point"]["payloadBytes"] == size and r["point"]["connections"] == connections),
                    key=lambda r: r["point"]["concurrency"],
                )
                if not series:
                    continue
                xs = [r["callsPerSecond"] for r in series]
                ys = [r["latency"]["p99"] / 1000 for r in series]
                axis.plot(xs, ys, style, marker="o", color=COLORS[system], label=f"{LABELS[system]}, {connections} conn")
                for r, x, y in zip(series, xs, ys):
                    axis.annotate(f"c={r['point']['concurrency']}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7, color=COLORS[system])
        size_label = f"{size // 1024} KiB" if size >= 1024 and size % 1024 == 0 else f"{size} B"
        axis.set_title(f"unary echo, {size_label} payload")
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("calls/s")
        axis.set_ylabel("p99 latency (ms)")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=7)
    fig.suptitle(
        f"rpc-compare, {report['build']} build, {report['processors']} processors, "
        f"{report['durationSeconds']:g} s per point; server and client in separate processes on 127.0.0.1",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    print(f"wrote {target}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
