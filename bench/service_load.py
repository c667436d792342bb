"""Loopback load test of ``unspin serve``: throughput, latency, errors, memory.

Starts the service in a child process on 127.0.0.1 (a free port), waits for
``/health``, warms it up, then keeps ``--concurrency`` client threads (one
keep-alive connection each) posting short texts to ``/v1/check`` for
``--duration`` seconds. Prints a markdown table: requests/s, p50/p90/p99
latency, error count by status, and the server's RSS at the start, the peak
and the end (a flat RSS means no per-request leak).

The clients share the machine with the server, so on a 2-core box the
numbers are a floor for what the server does alone.

    python bench/service_load.py                      # 60 s, concurrency 16, screen
    python bench/service_load.py --duration 10 --mode full
"""

from __future__ import annotations

import argparse
import http.client
import json
import shlex
import statistics
import sys
import threading
import time
from collections import Counter

import psutil

from unspin.service.local import LocalServer

TEXTS = [
    "The dying toll rose to 68, the ministry stated.",
    "A spokesman stated the dying toll rose.",
    "Officers talked about that 183 other folks have been cured.",
    "The United International locations Safety Council will meet on Monday.",
    "Shares closed higher on Friday after the central bank held rates.",
    "The committee approved the budget after a long debate.",
    "Rainfall in the region was well below average this year.",
    "The company said profits rose in the third quarter.",
]


def _percentile(sorted_ms: list[float], q: float) -> float:
    if not sorted_ms:
        return float("nan")
    k = min(len(sorted_ms) - 1, max(0, round(q * (len(sorted_ms) - 1))))
    return sorted_ms[k]


def run(duration: float, concurrency: int, mode: str, workers: int) -> dict[str, object]:
    server_args = ("--workers", str(workers), "--max-in-flight", str(max(64, 2 * concurrency)))
    with LocalServer(*server_args) as srv:
        assert srv.proc is not None
        proc = psutil.Process(srv.proc.pid)
        host, port = "127.0.0.1", srv.port
        bodies = [json.dumps({"text": t, "mode": mode}).encode() for t in TEXTS]
        headers = {"Content-Type": "application/json"}

        warm = http.client.HTTPConnection(host, port, timeout=30)
        for body in bodies * 3:
            warm.request("POST", "/v1/check", body=body, headers=headers)
            warm.getresponse().read()
        warm.close()

        rss_start = proc.memory_info().rss
        rss_peak = rss_start
        latencies: list[list[float]] = [[] for _ in range(concurrency)]
        statuses: list[Counter[str]] = [Counter() for _ in range(concurrency)]
        stop = threading.Event()

        def client(n: int) -> None:
            conn = http.client.HTTPConnection(host, port, timeout=30)
            i = n
            while not stop.is_set():
                body = bodies[i % len(bodies)]
                i += 1
                t0 = time.perf_counter()
                try:
                    conn.request("POST", "/v1/check", body=body, headers=headers)
                    resp = conn.getresponse()
                    resp.read()
                    status = str(resp.status)
                except (OSError, http.client.HTTPException) as exc:
                    status = type(exc).__name__
                    conn.close()
                    conn = http.client.HTTPConnection(host, port, timeout=30)
                latencies[n].append((time.perf_counter() - t0) * 1000)
                statuses[n][status] += 1
            conn.close()

        threads = [threading.Thread(target=client, args=(n,)) for n in range(concurrency)]
        t_start = time.perf_counter()
        for t in threads:
            t.start()
        while time.perf_counter() - t_start < duration:
            time.sleep(min(1.0, max(0.0, duration - (time.perf_counter() - t_start))))
            rss_peak = max(rss_peak, proc.memory_info().rss)
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t_start
        rss_end = proc.memory_info().rss

    all_ms = sorted(x for lat in latencies for x in lat)
    total: Counter[str] = Counter()
    for c in statuses:
        total.update(c)
    errors = sum(v for k, v in total.items() if k != "200")
    return {
        "requests": len(all_ms),
        "rps": len(all_ms) / elapsed,
        "p50": statistics.median(all_ms) if all_ms else float("nan"),
        "p90": _percentile(all_ms, 0.90),
        "p99": _percentile(all_ms, 0.99),
        "max": all_ms[-1] if all_ms else float("nan"),
        "errors": errors,
        "statuses": dict(total),
        "rss_start_mb": rss_start / 2**20,
        "rss_peak_mb": rss_peak / 2**20,
        "rss_end_mb": rss_end / 2**20,
        "elapsed": elapsed,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    ap.add_argument("--concurrency", type=int, default=16, help="client threads")
    ap.add_argument("--mode", choices=("screen", "full"), default="screen")
    ap.add_argument("--workers", type=int, default=2, help="server core threads")
    args = ap.parse_args()
    r = run(args.duration, args.concurrency, args.mode, args.workers)
    cmd = "python " + " ".join(shlex.quote(a) for a in ["bench/service_load.py", *sys.argv[1:]])
    print(f"`{cmd}`: {r['elapsed']:.0f} s, concurrency {args.concurrency}, mode {args.mode}, "
          f"server workers {args.workers}, {len(TEXTS)} short texts (9-12 words), loopback\n")
    print("| requests | req/s | p50 ms | p90 ms | p99 ms | max ms | errors "
          "| RSS start MB | RSS peak MB | RSS end MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {r['requests']} | {r['rps']:.1f} | {r['p50']:.1f} | {r['p90']:.1f} "
          f"| {r['p99']:.1f} | {r['max']:.1f} | {r['errors']} | {r['rss_start_mb']:.1f} "
          f"| {r['rss_peak_mb']:.1f} | {r['rss_end_mb']:.1f} |")
    print(f"\nstatus counts: {r['statuses']}")


if __name__ == "__main__":
    main()
