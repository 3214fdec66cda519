#!/usr/bin/env python3
"""A burst of HTTP/1.1 keep-alive connections against one URL, for the
gateway benchmark's overload row (issue 17).

Opens CONNECTIONS connections at once, each sending GET requests back to
back for DURATION seconds (reconnecting when the server closes). Prints one
JSON object: responses by status, successful responses per second, the
share shed (429 and 503), the p50/p99 latency of successful responses,
responses without Retry-After among the shed, client timeouts and
connection errors.

    bench/burst.py URL --connections 1000 --duration 6 [--timeout 10]
"""
import argparse
import asyncio
import json
import resource
import time
from urllib.parse import urlsplit


async def one_connection(host, port, path, end, timeout, stats):
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    reader = writer = None
    while time.monotonic() < end:
        try:
            if writer is None:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            start = time.monotonic()
            writer.write(request)
            status, headers = await asyncio.wait_for(read_response(reader), timeout)
            latency = time.monotonic() - start
            stats["status"][status] = stats["status"].get(status, 0) + 1
            if status == 200:
                stats["latencies"].append(latency)
            elif status in (429, 503) and "retry-after" not in headers:
                stats["shed_without_retry_after"] += 1
            if headers.get("connection", "").lower() == "close":
                writer.close()
                writer = None
        except asyncio.TimeoutError:
            stats["timeouts"] += 1
            if writer is not None:
                writer.close()
            writer = None
        except (OSError, asyncio.IncompleteReadError, ValueError):
            stats["connection_errors"] += 1
            if writer is not None:
                writer.close()
            writer = None
            await asyncio.sleep(0.05)
    if writer is not None:
        writer.close()


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    if length:
        await reader.readexactly(length)
    return status, headers


def percentile(values, share):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(share * len(values)))]


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=6)
    parser.add_argument("--timeout", type=float, default=10)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, args.connections + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))

    url = urlsplit(args.url)
    path = url.path + (f"?{url.query}" if url.query else "")
    stats = {"status": {}, "latencies": [], "timeouts": 0, "connection_errors": 0, "shed_without_retry_after": 0}
    start = time.monotonic()
    end = start + args.duration
    await asyncio.gather(*(
        one_connection(url.hostname, url.port or 80, path, end, args.timeout, stats)
        for _ in range(args.connections)
    ))
    elapsed = time.monotonic() - start
    responses = sum(stats["status"].values())
    shed = stats["status"].get(429, 0) + stats["status"].get(503, 0)
    p50 = percentile(stats["latencies"], 0.50)
    p99 = percentile(stats["latencies"], 0.99)
    print(json.dumps({
        "connections": args.connections,
        "duration_s": round(elapsed, 2),
        "responses": responses,
        "status": {str(code): count for code, count in sorted(stats["status"].items())},
        "successes_per_second": round(stats["status"].get(200, 0) / elapsed, 1),
        "shed_share": round(shed / responses, 4) if responses else None,
        "p50_success_ms": round(p50 * 1000, 1) if p50 is not None else None,
        "p99_success_ms": round(p99 * 1000, 1) if p99 is not None else None,
        "shed_without_retry_after": stats["shed_without_retry_after"],
        "timeouts": stats["timeouts"],
        "connection_errors": stats["connection_errors"],
    }))


asyncio.run(main())
