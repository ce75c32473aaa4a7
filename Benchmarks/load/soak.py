#!/usr/bin/env python3
"""Soak: ClusterDNS under load for a long time, with the registry churning and hostile clients
beside the real ones, on loopback only; every loop is bounded by the duration and stops by itself.

  Benchmarks/load/soak.py --binary .build-bench/release/clusterdns [--duration 600] [--preset small]

What runs, all at once, for --duration seconds:
  * dnsperf at half the rate measured in a 5 s run first (the generated query mix);
  * churn: every 2 s a file of 50 extra Services is rewritten, alternately by rename and in place
    (truncate, then write in two halves), with new ClusterIPs each time;
  * a checker asks 40 names the churn never touches (every 50 ms one of them, round robin) and
    compares each answer with the first one it got: any other answer (an NXDOMAIN during a reload,
    a FORMERR, a lost answer) is a wrong answer;
  * hostile clients: random names under the zone (must be NXDOMAIN, never SERVFAIL), random bytes
    and damaged queries (any answer or none, never a crash), and 20 TCP connections opened and left
    idle, reopened when the server closes them.
It samples the server's RSS every 5 s and prints: RSS after the warm-up (60 s, or a tenth of the
run) and at the end, the growth, the checker's and hostile clients' counts and failures, and
dnsperf's summary. Exits 1 when an answer was wrong, the server died, or RSS grew by 5 % or more.
"""

import argparse
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dnsprobe import ask, query_packet  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def churn_manifest(round_number):
    docs = []
    for index in range(50):
        address = f"10.100.{round_number % 200}.{index + 1}"
        docs.append(f"""apiVersion: v1
kind: Service
metadata:
  name: churn-{index}
  namespace: default
spec:
  clusterIP: {address}
  ports:
  - name: http
    port: 80
""")
    return "---\n".join(docs)


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.values = {}

    def add(self, key, amount=1):
        with self.lock:
            self.values[key] = self.values.get(key, 0) + amount


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--duration", type=int, default=600)
    parser.add_argument("--preset", default="small", choices=["small", "large"])
    parser.add_argument("--server-cpu", default="1")
    parser.add_argument("--client-cpu", default="0")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="clusterdns-soak-")
    counters = Counters()
    stop = threading.Event()
    server = None
    try:
        cluster = os.path.join(work, "cluster")
        subprocess.run([sys.executable, os.path.join(ROOT, "Benchmarks", "generate-cluster.py"), "--preset", args.preset,
                        "--seed", "1", "--queries", "20000", "--out", cluster], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        manifests = os.path.join(cluster, "manifests")
        churn_file = os.path.join(manifests, "churn.yaml")
        with open(churn_file, "w") as handle:
            handle.write(churn_manifest(0))
        port = free_port()
        log = open(os.path.join(work, "server.log"), "w")
        server = subprocess.Popen(["taskset", "-c", args.server_cpu, args.binary, "serve", "--registry", manifests,
                                   "--listen", f"127.0.0.1:{port}", "--threads", "1", "--log-level", "warning"],
                                  stdout=log, stderr=subprocess.STDOUT)
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for _ in range(600):
            if ask(probe, port, "kubernetes.default.svc.cluster.local", "A", 1, timeout=0.2, tries=1):
                break
            time.sleep(0.1)
        else:
            raise SystemExit("the server never answered")
        time.sleep(3)  # the answer table compiles after the first answer

        queries = os.path.join(cluster, "queries.txt")
        dnsperf = ["taskset", "-c", args.client_cpu, "dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", queries,
                   "-c", "4", "-T", "1", "-q", "100", "-t", "1", "-b", "4096"]
        measured = subprocess.run(dnsperf + ["-l", "5"], capture_output=True, text=True, timeout=60).stdout
        top = float(re.search(r"Queries per second:\s+([\d.]+)", measured).group(1))
        rate = int(top / 2)
        print(f"[soak] maximum {top:.0f} q/s; running {args.duration} s at {rate} q/s with churn and hostile clients", flush=True)

        # The names the churn never touches, and their first answers.
        stable = []
        with open(queries) as handle:
            for line in handle:
                name, qtype = line.split()
                if not name.startswith("churn-") and qtype in ("A", "AAAA", "SRV", "PTR") and len(stable) < 40:
                    stable.append((name, qtype))
        expected = {}
        for index, (name, qtype) in enumerate(stable):
            expected[(name, qtype)] = ask(probe, port, name, qtype, index + 2)

        start = time.monotonic()
        deadline = start + args.duration

        def checker():
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            qid = 0
            while not stop.is_set() and time.monotonic() < deadline:
                name, qtype = stable[qid % len(stable)]
                qid = (qid + 1) & 0xFFFF
                answer = ask(sock, port, name, qtype, qid, timeout=1.0, tries=2)
                counters.add("checked")
                if answer is None or answer["rcode"] != expected[(name, qtype)]["rcode"] \
                        or answer["answers"] != expected[(name, qtype)]["answers"]:
                    counters.add("wrong")
                    print(f"[soak] wrong answer for {name} {qtype}: {answer}", flush=True)
                time.sleep(0.05)

        def churner():
            round_number = 0
            while not stop.is_set() and time.monotonic() + 2 < deadline:
                time.sleep(2)
                round_number += 1
                text = churn_manifest(round_number)
                if round_number % 2:
                    temporary = churn_file + ".tmp"
                    with open(temporary, "w") as handle:
                        handle.write(text)
                    os.replace(temporary, churn_file)
                else:
                    with open(churn_file, "w") as handle:  # truncated, then written in two halves
                        handle.write(text[:len(text) // 2])
                        handle.flush()
                        time.sleep(0.05)
                        handle.write(text[len(text) // 2:])
                counters.add("churn writes")

        def hostile():
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.settimeout(0.2)
            rng = random.Random(7)
            qid = 0
            idle = []
            while not stop.is_set() and time.monotonic() < deadline:
                qid = (qid + 1) & 0xFFFF
                label = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789-") for _ in range(rng.randint(1, 20)))
                answer = ask(sock, port, f"{label}.x{qid}.svc.cluster.local", "A", qid, timeout=0.5, tries=1)
                counters.add("random names")
                if answer is not None and answer["rcode"] != "NXDOMAIN":
                    counters.add("wrong")
                    print(f"[soak] random name answered {answer['rcode']}", flush=True)
                damaged = bytearray(query_packet(qid, "kubernetes.default.svc.cluster.local", "A"))
                for _ in range(rng.randint(1, 4)):
                    damaged[rng.randrange(len(damaged))] = rng.randrange(256)
                for packet in (bytes(damaged), bytes(rng.randrange(256) for _ in range(rng.randint(0, 600)))):
                    sock.sendto(packet, ("127.0.0.1", port))
                    counters.add("malformed")
                    try:
                        sock.recvfrom(4096)
                    except (socket.timeout, ConnectionRefusedError):
                        pass
                idle = [connection for connection in idle if connection.fileno() >= 0]
                while len(idle) < 20:
                    connection = socket.create_connection(("127.0.0.1", port), timeout=1)
                    idle.append(connection)
                    counters.add("idle TCP opened")
                for connection in list(idle):
                    connection.setblocking(False)
                    try:
                        if connection.recv(1) == b"":  # closed by the server's deadline
                            connection.close()
                            idle.remove(connection)
                    except BlockingIOError:
                        pass
                    except OSError:
                        connection.close()
                        idle.remove(connection)
                time.sleep(0.02)
            for connection in idle:
                connection.close()

        samples = []

        def sampler():
            while not stop.is_set() and time.monotonic() < deadline:
                value = rss_kib(server.pid)
                samples.append((time.monotonic() - start, value))
                time.sleep(5)

        threads = [threading.Thread(target=target, daemon=True) for target in (checker, churner, hostile, sampler)]
        for thread in threads:
            thread.start()
        load = subprocess.run(dnsperf + ["-Q", str(rate), "-l", str(args.duration)], capture_output=True, text=True,
                              timeout=args.duration + 60).stdout
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
        alive = server.poll() is None
        end_rss = rss_kib(server.pid) if alive else None

        warmup = min(60, args.duration / 10)
        warm = next((value for (at, value) in samples if at >= warmup and value), None)
        peak = max((value for _, value in samples if value), default=None)
        growth = (end_rss - warm) / warm * 100 if warm and end_rss else float("nan")
        summary = {key: re.search(pattern, load) for key, pattern in
                   [("qps", r"Queries per second:\s+([\d.]+)"), ("completed", r"Queries completed:\s+(\d+)"),
                    ("lost", r"Queries lost:\s+(\d+)"), ("rcodes", r"Response codes:\s+(.*)")]}
        print(f"[soak] server alive at the end: {alive}")
        print(f"[soak] RSS after {warmup:.0f} s warm-up {warm} KiB, at the end {end_rss} KiB, growth {growth:.2f} %, peak {peak} KiB")
        print("[soak] dnsperf: " + ", ".join(f"{key} {match.group(1) if match else '?'}" for key, match in summary.items()))
        print("[soak] " + ", ".join(f"{key} {value}" for key, value in sorted(counters.values.items())))
        wrong = counters.values.get("wrong", 0)
        ok = alive and wrong == 0 and growth < 5
        print(f"[soak] {'PASS' if ok else 'FAIL'}: {wrong} wrong answers, RSS growth {growth:.2f} % (limit 5 %)")
        return 0 if ok else 1
    finally:
        stop.set()
        if server and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
