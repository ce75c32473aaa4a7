#!/usr/bin/env python3
"""Churn benchmark: how fast a live `clusterdns serve` answers registry edits, and what they cost.

The large generated cluster (50k services) is laid out as one manifest file per namespace (about
730 KiB each). A seeded mix of edits is applied, each by writing the namespace's file anew beside it
and renaming it into place (what kubectl-style tooling and config management do):

  add      a new ClusterIP Service                -> its A record answers the new IP
  modify   an existing Service's ClusterIP        -> its A record answers the new IP
  delete   an existing ClusterIP Service          -> NXDOMAIN
  endpoint an address added to a headless slice   -> the headless A RRset holds it

For each edit it measures rename -> first UDP answer that shows it (polled every millisecond) and
the server's CPU (utime+stime from /proc) from the rename until 30 ms after the answer showed it.
Meanwhile a second thread keeps asking names the edits never touch and counts every answer that is
missing, wrong or an error. Everything runs on loopback and stops by itself (bounded edits, each
with a 5 s limit).

Then, with --sustained-rate R (endpoint changes a second), the server's CPU per query is measured
twice under the same dnsperf load (-Q, pinned to the other CPU): once quiet, once while endpoint
addresses are added at R changes a second, batched every 50 ms into one namespace file renamed into
place (a file source can only deliver changes a file at a time). The ratio is the cost of the churn
to the query path.

Usage: churn.py --binary PATH [--work DIR] [--edits 200] [--seed 1]
                [--sustained-rate 200 --sustained-seconds 20 --sustained-qps 50000 --sustained-pairs 3]
"""
import argparse
import os
import random
import re
import shlex
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsprobe  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WATCHER = "registry-watch"


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def thread_cpu_seconds(pid, name):
    """CPU of the process's threads called `name` (the server names its registry watcher
    `registry-watch`): the cost of the changes alone, without the queries answered meanwhile."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as comm:
                if comm.read().strip() != name:
                    continue
            with open(f"/proc/{pid}/task/{tid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except FileNotFoundError:
            continue
    return total / CLOCK_TICKS


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def layout(generated, target):
    """One file per namespace: the generator's per-namespace files concatenated."""
    os.makedirs(target, exist_ok=True)
    manifests = os.path.join(generated, "manifests")
    files = {}
    for entry in sorted(os.listdir(manifests)):
        path = os.path.join(manifests, entry)
        if os.path.isdir(path):
            parts = [open(os.path.join(path, name)).read().rstrip("\n") for name in sorted(os.listdir(path))]
            text = "\n---\n".join(part for part in parts if part.strip()) + "\n"
            files[entry] = text
        else:
            files[entry[:-5]] = open(path).read()
    for name, text in files.items():
        with open(os.path.join(target, name + ".yaml"), "w") as out:
            out.write(text)
    return {name: text for name, text in files.items() if name != "namespaces"}


def documents(text):
    return [doc for doc in text.split("\n---\n")]


def field(doc, pattern):
    match = re.search(pattern, doc, re.M)
    return match.group(1) if match else None


class Cluster:
    """The namespace files as text, and what the edits may touch."""

    def __init__(self, files, random_source):
        self.files = files
        self.random = random_source
        self.clusterip_services = []   # (ns, name, ip)
        self.headless_slices = []      # (ns, service, slice name)
        self.headless = set()
        for ns, text in files.items():
            for doc in documents(text):
                kind = field(doc, r"^kind: (\S+)")
                if kind == "Service":
                    name = field(doc, r"^  name: (\S+)")
                    ip = field(doc, r"^  clusterIP: (\S+)")
                    if ip == "None":
                        self.headless.add((ns, name))
                    elif ip and "type: ExternalName" not in doc and ":" not in ip:
                        self.clusterip_services.append((ns, name, ip))
            for doc in documents(text):
                if field(doc, r"^kind: (\S+)") == "EndpointSlice" and field(doc, r"^addressType: (\S+)") == "IPv4":
                    service = field(doc, r"kubernetes.io/service-name: (\S+)")
                    if (ns, service) in self.headless:
                        self.headless_slices.append((ns, service, field(doc, r"^  name: (\S+)")))
        self.next_ip = 0
        self.untouched = set()

    def fresh_ip(self):
        self.next_ip += 1
        return f"10.111.{self.next_ip // 250}.{self.next_ip % 250 + 1}"

    def fresh_endpoint(self):
        self.next_ip += 1
        return f"10.250.{self.next_ip // 250}.{self.next_ip % 250 + 1}"

    def add_endpoints(self, count):
        """Adds `count` ready addresses to headless slices of one namespace (in memory); returns it."""
        ns = self.random.choice(sorted({slice_[0] for slice_ in self.headless_slices}))
        candidates = [slice_ for slice_ in self.headless_slices if slice_[0] == ns]
        docs = documents(self.files[ns])
        positions = {field(doc, r"^  name: (\S+)"): index for index, doc in enumerate(docs)
                     if field(doc, r"^kind: (\S+)") == "EndpointSlice"}
        for _ in range(count):
            _, _, slice_name = self.random.choice(candidates)
            position = positions[slice_name]
            entry = f"- addresses:\n  - {self.fresh_endpoint()}\n  conditions:\n    ready: true\n"
            doc = docs[position]
            docs[position] = doc.replace("endpoints: []\n", "endpoints:\n" + entry) if "endpoints: []\n" in doc else doc.replace("endpoints:\n", "endpoints:\n" + entry, 1)
        self.files[ns] = "\n---\n".join(docs)
        return ns

    def edit(self, number):
        """Applies one edit to the in-memory text; returns (namespace, check) where check(answer) says
        whether an answer shows the edit, and the query (name, type)."""
        kind = self.random.choice(["add", "add", "modify", "modify", "delete", "endpoint", "endpoint"])
        if kind == "endpoint" and not self.headless_slices:
            kind = "modify"
        if kind == "add":
            ns = self.random.choice(sorted(self.files))
            name, ip = f"churn-{number}", self.fresh_ip()
            self.files[ns] += ("---\napiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n"
                               "  clusterIP: %s\n  ports:\n  - name: http\n    port: 80\n    protocol: TCP\n") % (name, ns, ip)
            self.clusterip_services.append((ns, name, ip))
            return kind, ns, (f"{name}.{ns}.svc.cluster.local.", "A"), lambda a: a and any(r.endswith(" A " + ip) for r in a["answers"])
        if kind in ("modify", "delete"):
            index = self.random.randrange(len(self.clusterip_services))
            ns, name, ip = self.clusterip_services[index]
            docs = documents(self.files[ns])
            for position, doc in enumerate(docs):
                if field(doc, r"^kind: (\S+)") == "Service" and field(doc, r"^  name: (\S+)") == name:
                    break
            else:
                raise RuntimeError(f"service {ns}/{name} not found")
            query = (f"{name}.{ns}.svc.cluster.local.", "A")
            if kind == "delete":
                del docs[position]
                self.clusterip_services.pop(index)
                self.files[ns] = "\n---\n".join(docs)
                return kind, ns, query, lambda a: a and a["rcode"] == "NXDOMAIN"
            new_ip = self.fresh_ip()
            doc = docs[position].replace(f"clusterIP: {ip}", f"clusterIP: {new_ip}")
            doc = re.sub(r"(clusterIPs:\n  - )\S+", r"\g<1>" + new_ip, doc)
            docs[position] = doc
            self.clusterip_services[index] = (ns, name, new_ip)
            self.files[ns] = "\n---\n".join(docs)
            return kind, ns, query, lambda a: a and any(r.endswith(" A " + new_ip) for r in a["answers"])
        ns, service, slice_name = self.random.choice(self.headless_slices)
        docs = documents(self.files[ns])
        for position, doc in enumerate(docs):
            if field(doc, r"^kind: (\S+)") == "EndpointSlice" and field(doc, r"^  name: (\S+)") == slice_name:
                break
        address = self.fresh_endpoint()
        entry = f"- addresses:\n  - {address}\n  conditions:\n    ready: true\n"
        doc = docs[position]
        doc = doc.replace("endpoints: []\n", "endpoints:\n" + entry) if "endpoints: []\n" in doc else doc.replace("endpoints:\n", "endpoints:\n" + entry, 1)
        docs[position] = doc
        self.files[ns] = "\n---\n".join(docs)
        return kind, ns, (f"{service}.{ns}.svc.cluster.local.", "A"), lambda a: a and any(r.endswith(" A " + address) for r in a["answers"])


def write_atomically(directory, ns, text):
    path = os.path.join(directory, ns + ".yaml")
    temporary = os.path.join(directory, "." + ns + ".yaml.tmp")
    with open(temporary, "w") as out:
        out.write(text)
    os.rename(temporary, path)


class Watchdog(threading.Thread):
    """Asks names no edit touches, over and over, and counts answers that are not the expected ones."""

    def __init__(self, port, expectations):
        super().__init__(daemon=True)
        self.port, self.expectations = port, expectations
        self.stop, self.asked, self.wrong, self.examples = threading.Event(), 0, 0, []

    def run(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        qid = 0
        while not self.stop.is_set():
            for (name, qtype), expected in self.expectations:
                if self.stop.is_set():
                    break
                qid = (qid + 1) & 0xFFFF
                answer = dnsprobe.ask(sock, self.port, name, qtype, qid, timeout=0.5, tries=1)
                self.asked += 1
                if answer is None or answer["rcode"] != expected["rcode"] or answer["answers"] != expected["answers"]:
                    self.wrong += 1
                    if len(self.examples) < 5:
                        self.examples.append((name, qtype, answer))
                time.sleep(0.0005)
        sock.close()


def dnsperf_cpu(pid, port, queries, args, churn):
    """Server CPU per query under a fixed dnsperf rate; with `churn`, endpoint changes are applied
    meanwhile at its rate, batched every 50 ms into one namespace file renamed into place."""
    command = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", queries, "-Q", str(args.sustained_qps),
               "-l", str(args.sustained_seconds), "-c", "4", "-T", "1", "-t", "1"]
    if args.client_cpu:
        command = ["taskset", "-c", args.client_cpu] + command
    before = cpu_seconds(pid)
    watcher_before = thread_cpu_seconds(pid, WATCHER)
    perf = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    changes = renames = 0
    if churn:
        cluster, registry, rate = churn
        deadline = time.monotonic() + args.sustained_seconds
        tick = 0.05
        per_tick = max(1, round(rate * tick))
        next_tick = time.monotonic()
        while time.monotonic() < deadline and perf.poll() is None:
            ns = cluster.add_endpoints(per_tick)
            write_atomically(registry, ns, cluster.files[ns])
            changes += per_tick
            renames += 1
            next_tick += tick
            time.sleep(max(0, next_tick - time.monotonic()))
    output, _ = perf.communicate(timeout=args.sustained_seconds + 30)
    used = cpu_seconds(pid) - before
    watcher = thread_cpu_seconds(pid, WATCHER) - watcher_before
    completed = int(re.search(r"Queries completed:\s+(\d+)", output).group(1))
    lost = int(re.search(r"Queries lost:\s+(\d+)", output).group(1))
    return dict(us=used / max(1, completed) * 1e6, query_us=(used - watcher) / max(1, completed) * 1e6,
                watcher_ms_per_rename=watcher / max(1, renames) * 1000, completed=completed, lost=lost, changes=changes, renames=renames)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--work", default="/tmp/clusterdns-churn")
    parser.add_argument("--preset", default="large")
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server-cpu", default="1", help="CPU to pin the server to (taskset), '' for none")
    parser.add_argument("--sustained-rate", type=int, default=0, help="endpoint changes a second for the sustained phase (0: skip it)")
    parser.add_argument("--sustained-seconds", type=int, default=20)
    parser.add_argument("--sustained-qps", type=int, default=50000)
    parser.add_argument("--sustained-pairs", type=int, default=1, help="quiet/busy measurements alternated, reported each and as a median")
    parser.add_argument("--client-cpu", default="0")
    parser.add_argument("--serve-args", default="", help="more arguments for serve, e.g. '--transfer-to 127.0.0.1' (keeps the IXFR history)")
    args = parser.parse_args()

    generated = os.path.join(args.work, "generated-" + args.preset)
    if not os.path.exists(os.path.join(generated, "summary.json")):
        subprocess.run([sys.executable, os.path.join(HERE, "..", "generate-cluster.py"), "--preset", args.preset,
                        "--out", generated], check=True, stdout=subprocess.DEVNULL)
    registry = os.path.join(args.work, "registry")
    subprocess.run(["rm", "-rf", registry], check=True)
    files = layout(generated, registry)
    sizes = sorted(len(text) for text in files.values())
    print(f"registry: {len(files) + 1} files, namespace files {sizes[len(sizes) // 2] // 1024} KiB median", flush=True)

    port = free_port()
    command = [args.binary, "serve", "--registry", registry, "--listen", f"127.0.0.1:{port}", "--threads", "1", "--log-level", "warning"]
    command += shlex.split(args.serve_args)
    if args.server_cpu:
        command = ["taskset", "-c", args.server_cpu] + command
    log = open(os.path.join(args.work, "serve.log"), "w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        rng = random.Random(args.seed)
        cluster = Cluster(files, rng)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe_ns, probe_name, probe_ip = cluster.clusterip_services[-1]
        deadline = time.monotonic() + 300
        started = time.monotonic()
        while time.monotonic() < deadline:
            answer = dnsprobe.ask(sock, port, f"{probe_name}.{probe_ns}.svc.cluster.local.", "A", 1, timeout=0.2, tries=1)
            if answer and answer["answers"]:
                break
            if server.poll() is not None:
                raise SystemExit("server exited; see serve.log")
            time.sleep(0.05)
        print(f"first answer after {time.monotonic() - started:.1f} s", flush=True)
        time.sleep(3)  # let the answer table compile before measuring

        # Names the edits will never touch: Services not in the edit pool's reach are enough,
        # since edits only touch clusterip_services entries and headless slices picked below.
        stable = []
        for ns, name, ip in rng.sample(cluster.clusterip_services, 40):
            stable.append(((f"{name}.{ns}.svc.cluster.local.", "A"), ns, name))
        stable_names = {(ns, name) for _, ns, name in stable}
        cluster.clusterip_services = [s for s in cluster.clusterip_services if (s[0], s[1]) not in stable_names]
        expectations = []
        for query, _, _ in stable:
            expectations.append((query, dnsprobe.ask(sock, port, query[0], query[1], 2, timeout=1.0)))

        watchdog = Watchdog(port, expectations)
        watchdog.start()
        phase_cpu = cpu_seconds(server.pid)
        phase_watcher = thread_cpu_seconds(server.pid, WATCHER)
        latencies, cpu, kinds, failed = [], [], {}, 0
        qid = 10
        for number in range(args.edits):
            kind, ns, (name, qtype), shows = cluster.edit(number)
            before = cpu_seconds(server.pid)
            start = time.monotonic()
            write_atomically(registry, ns, cluster.files[ns])
            seen = None
            while time.monotonic() - start < 5:
                qid = (qid + 1) & 0xFFFF
                answer = dnsprobe.ask(sock, port, name, qtype, qid, timeout=0.2, tries=1)
                if shows(answer):
                    seen = time.monotonic() - start
                    break
                time.sleep(0.001)
            time.sleep(0.03)
            cpu.append(cpu_seconds(server.pid) - before)
            if seen is None:
                failed += 1
                print(f"edit {number} ({kind} in {ns}) not answered within 5 s", flush=True)
                continue
            latencies.append(seen)
            kinds[kind] = kinds.get(kind, 0) + 1
        phase_cpu = cpu_seconds(server.pid) - phase_cpu
        phase_watcher = thread_cpu_seconds(server.pid, WATCHER) - phase_watcher
        watchdog.stop.set()
        watchdog.join()

        # Quiet and busy alternated, --sustained-pairs times: one pair's ratio moved by 0.2 between
        # runs on this machine, so a change to the registry's cost is read from the median.
        pairs = []
        if args.sustained_rate > 0:
            queries = os.path.join(generated, "queries.txt")
            for _ in range(args.sustained_pairs):
                quiet = dnsperf_cpu(server.pid, port, queries, args, None)
                busy = dnsperf_cpu(server.pid, port, queries, args, (cluster, registry, args.sustained_rate))
                pairs.append((quiet, busy))

        ms = [value * 1000 for value in latencies]
        print(f"edits: {len(latencies)} answered, {failed} not within 5 s ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})")
        if ms:
            print(f"rename -> first answer showing it: p50 {percentile(ms, 0.5):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms, max {max(ms):.1f} ms")
        # /proc counts CPU in 10 ms ticks: the mean over the whole phase is the precise figure.
        print(f"server CPU per edit: mean {phase_cpu / args.edits * 1000:.1f} ms over the phase (includes answering the probe and "
              f"watchdog queries); per edit in 10 ms ticks: median {statistics.median(cpu) * 1000:.0f} ms, p90 {percentile(cpu, 0.9) * 1000:.0f} ms")
        print(f"registry thread CPU per edit (reading, diffing, deriving, patching; no queries): mean {phase_watcher / args.edits * 1000:.1f} ms")
        print(f"queries for untouched names during churn: {watchdog.asked} asked, {watchdog.wrong} missing or wrong")
        for example in watchdog.examples:
            print(f"  wrong: {example}")
        for quiet, busy in pairs:
            print(f"sustained: {busy['changes']} endpoint changes in {args.sustained_seconds} s ({busy['changes'] / args.sustained_seconds:.0f}/s, "
                  f"{busy['renames']} renames); server CPU per query {busy['us']:.2f} us against {quiet['us']:.2f} us quiet: "
                  f"{busy['us'] / quiet['us']:.2f} x; queries {busy['completed']} vs {quiet['completed']}, lost {busy['lost']} vs {quiet['lost']}")
            print(f"sustained, the query threads alone: {busy['query_us']:.2f} us per query against {quiet['query_us']:.2f} us quiet: "
                  f"{busy['query_us'] / quiet['query_us']:.2f} x; the registry thread: {busy['watcher_ms_per_rename']:.1f} ms per rename")
        if len(pairs) > 1:
            ratios = [busy['us'] / quiet['us'] for quiet, busy in pairs]
            renames = [busy['watcher_ms_per_rename'] for _, busy in pairs]
            print(f"sustained over {len(pairs)} pairs: median {statistics.median(ratios):.2f} x ({', '.join(f'{r:.2f}' for r in ratios)}); "
                  f"the registry thread median {statistics.median(renames):.1f} ms per rename")
        return 0 if failed == 0 and watchdog.wrong == 0 else 1
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


if __name__ == "__main__":
    sys.exit(main())
