#!/usr/bin/env python3
"""Summarises board/bench/compare's runs.tsv as Markdown: medians with min-max spread, and
Pinpost/peer ratios of the median throughput.

usage: summarize.py RUNS_TSV
"""
import csv
import statistics
import sys
from collections import defaultdict


def spread(values, fmt):
    return f"{fmt(statistics.median(values))} ({fmt(min(values))}-{fmt(max(values))})"


def main() -> int:
    path = sys.argv[1]
    groups = defaultdict(list)
    with open(path) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            groups[(int(row["qos"]), int(row["size"]), row["client"])].append(row)
    variants = ["pinpost-signed", "pinpost-chain", "pinpost-sealed"]
    clients = ["pinpost", "pinpost-baseline", *variants, "mosquitto_pub", "paho-python", "paho-c"]
    print("| QoS | payload | client | runs | msg/s | CPU s | peak RSS MiB | broker busy | Pinpost/peer msg/s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for qos in (1, 0):
        for size in (64, 1024):
            pinpost = groups.get((qos, size, "pinpost"), [])
            pinpost_rate = statistics.median(int(r["count"]) / float(r["seconds"]) for r in pinpost) if pinpost else None
            for client in clients:
                rows = groups.get((qos, size, client))
                if not rows:
                    continue
                rates = [int(r["count"]) / float(r["seconds"]) for r in rows]
                cpu = [float(r["cpu_seconds"]) for r in rows]
                rss = [int(r["peak_rss_kib"]) / 1024 for r in rows]
                # The broker's CPU as a share of the run's wall time: near 100 % means the broker was the limit.
                busy = [float(r.get("broker_cpu_seconds") or 0) / float(r["seconds"]) * 100 for r in rows]
                ratio = "-"
                if client != "pinpost" and pinpost_rate:
                    ratio = f"{pinpost_rate / statistics.median(rates):.2f}x"
                name = client
                if pinpost and rows[0]["count"] != pinpost[0]["count"]:
                    name += f" ({rows[0]['count']} msgs)"
                if client.startswith("pinpost"):
                    steady = [float(r["internal_msgs_per_s"]) for r in rows if r["internal_msgs_per_s"] != "-"]
                    if steady:
                        name += f" (steady {statistics.median(steady):.0f})"
                print(f"| {qos} | {size} B | {name} | {len(rows)} | {spread(rates, lambda v: f'{v:.0f}')} | "
                      f"{spread(cpu, lambda v: f'{v:.2f}')} | {spread(rss, lambda v: f'{v:.1f}')} | "
                      f"{statistics.median(busy):.0f} % | {ratio} |")
    if any(key[2] in variants for key in groups):
        print()
        print("Signed readings against unsigned Pinpost in the same run (variant msg/s / pinpost msg/s, medians;")
        print("steady = pinpost bench's own figure, first append to last ack):")
        print()
        print("| QoS | payload | variant | whole process | steady |")
        print("| --- | --- | --- | --- | --- |")
        for qos in (1, 0):
            for size in (64, 1024):
                base = groups.get((qos, size, "pinpost"), [])
                if not base:
                    continue
                rate = lambda rows: statistics.median(int(r["count"]) / float(r["seconds"]) for r in rows)
                steady = lambda rows: statistics.median(float(r["internal_msgs_per_s"]) for r in rows)
                for variant in variants:
                    rows = groups.get((qos, size, variant))
                    if rows:
                        print(f"| {qos} | {size} B | {variant} | {rate(rows) / rate(base):.2f}x | "
                              f"{steady(rows) / steady(base):.2f}x |")
    print()
    print("Pinpost's own view (pinpost bench --json): steady msg/s after the handshake, ack latency = hand-out")
    print("to the session until PUBACK (QoS 1) or until the PUBLISH was written to TLS (QoS 0), medians over runs.")
    print()
    print("| QoS | payload | steady msg/s | ack p50 ms | ack p99 ms |")
    print("| --- | --- | --- | --- | --- |")
    for qos in (1, 0):
        for size in (64, 1024):
            rows = [r for r in groups.get((qos, size, "pinpost"), []) if r["internal_msgs_per_s"] != "-"]
            if not rows:
                continue
            med = lambda key: statistics.median(float(r[key]) for r in rows)
            print(f"| {qos} | {size} B | {spread([float(r['internal_msgs_per_s']) for r in rows], lambda v: f'{v:.0f}')} | "
                  f"{med('ack_p50_ms'):.2f} | {med('ack_p99_ms'):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
