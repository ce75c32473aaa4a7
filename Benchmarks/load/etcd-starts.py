#!/usr/bin/env python3
"""Starts of several builds from one etcd, interleaved: which build serves sooner.

The start of a replica moves by a few tenths of a second from run to run on these 2-core machines,
and two runs of etcd.py (a fresh etcd each) compare builds only as well as the machine kept still
between them. Here one 3-member etcd is loaded once, and the builds are started in turn, round
after round (in the opposite order every other round), each as etcd.py starts its replicas
(`serve --etcd <3 members> --threads 1`). For each start: the replica's CPU (utime + stime) when it first answers the last generated Service, that
first answer, and from its log the list's time ("listed ... in") and the zones' ("zones built in").
Medians per build at the end, and each build against the first round by round (the machine drifts
over a run by more than builds differ).

usage: etcd-starts.py --cluster DIR/manifests/list.json --rounds 6 BINARY [BINARY ...]
Everything it started is killed by PID however it ends; every loop is bounded in time.
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import etcd as bench  # noqa: E402  (the etcd, replica and query helpers of etcd.py)


def duration(text):
    """Seconds of a logged duration such as "1s 734ms" or "180ms"."""
    seconds = re.search(r"(\d+)s(?!\w)", text)
    milliseconds = re.search(r"(\d+)ms", text)
    return (int(seconds.group(1)) if seconds else 0) + (int(milliseconds.group(1)) / 1000 if milliseconds else 0)


def start_once(binary, etcd, last, sock):
    replica = bench.Replica(binary, etcd)
    try:
        first = replica.first_answer(last, sock, timeout=60)
        cpu = replica.cpu_seconds()
        if first is None:
            sys.exit(f"{binary}: no answer within 60 s:\n" + replica.text())
        # The log lines follow the first answer by a moment at most.
        deadline = time.time() + 5
        while "zones built in" not in replica.text() and time.time() < deadline:
            time.sleep(0.01)
        text = replica.text()
        listed = re.search(r"listed \d+ keys of \S+ at revision \d+ in ([^:]+):", text)
        zones = re.search(r"zones built in ([0-9a-z ]+)\)", text)
        return cpu, first, duration(listed.group(1)) if listed else float("nan"), duration(zones.group(1)) if zones else float("nan")
    finally:
        replica.process.kill()
        replica.process.wait()
        bench.STARTED.remove(replica.process)
        os.unlink(replica.log.name)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cluster", required=True, help="a generated list.json (generate-cluster.py --format json)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("binaries", nargs="+")
    args = parser.parse_args()
    last = json.load(open(os.path.join(os.path.dirname(os.path.dirname(args.cluster)), "summary.json")))["last_service"]
    etcd = bench.Etcd()
    bench.load_cluster(etcd, bench.Gateway(etcd.clients[0]), args.cluster)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(0.5)
    results = {binary: [] for binary in args.binaries}
    for round_number in range(1, args.rounds + 1):
        # The order turns every round (A B, B A, ...): a start straight after another may differ.
        for binary in args.binaries if round_number % 2 else reversed(args.binaries):
            cpu, first, listed, zones = start_once(binary, etcd, last, sock)
            results[binary].append((cpu, first, listed, zones))
            print(f"round {round_number}: {binary}: CPU {cpu:.2f} s, first answer {first:.3f} s, listed in {listed:.3f} s, zones built in {zones * 1000:.0f} ms", flush=True)
    print(f"medians of {args.rounds} starts each:")
    for binary, rows in results.items():
        cpu, first, listed, zones = (statistics.median(column) for column in zip(*rows))
        print(f"  {binary}: CPU to the first answer {cpu:.2f} s, first answer {first:.3f} s, listed in {listed:.3f} s, zones built in {zones * 1000:.0f} ms")
    # The machine drifts over a run more than builds differ: compare the starts of one round.
    baseline = args.binaries[0]
    for binary in args.binaries[1:]:
        sooner = [old[1] - new[1] for old, new in zip(results[baseline], results[binary])]
        less_cpu = [old[0] - new[0] for old, new in zip(results[baseline], results[binary])]
        print(f"  {binary} against {baseline}, round by round: first answer sooner by {statistics.median(sooner):.3f} s (median; "
              f"sooner in {sum(d > 0 for d in sooner)} of {len(sooner)} rounds), {statistics.median(less_cpu):.2f} s less CPU")


if __name__ == "__main__":
    try:
        main()
    finally:
        for process in reversed(bench.STARTED):
            process.kill()
            process.wait()
        for path in bench.DATA:
            shutil.rmtree(path, ignore_errors=True)
