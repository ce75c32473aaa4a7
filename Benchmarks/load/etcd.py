#!/usr/bin/env python3
"""etcd as the shared registry (issue 11): three figures, on loopback, with the release binary.

1. start: a replica's start to serving a generated cluster read from etcd (time to the answer of
   the generator's last Service, polled every 10 ms; and the replica's own "listed" log line);
2. put -> answer: a Service's ClusterIP changed with one put through the v3 gateway, the time until
   each of two replicas answers the new address (p50/p90/p99/max);
3. churn: CHANGES_PER_S EndpointSlice changes a second for SECONDS, CPU (utime+stime of each
   replica's process) per change per replica, and a check that both replicas end on the last value.

It starts its own 3-member etcd (data in /dev/shm) and the replicas, bounds every loop in count and
time, and kills everything it started, by PID, however it ends.
usage: etcd.py --binary .build-etcd-rel/release/clusterdns --cluster DIR/manifests/list.json
"""
import argparse
import base64
import http.client
import json
import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

STARTED = []
DATA = []


def b64(text):
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


def free_ports(count):
    sockets, ports = [], []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
        ports.append(s.getsockname()[1])
    for s in sockets:
        s.close()
    return ports


class Gateway:
    """One keep-alive HTTP/1.1 connection to a member's v3 JSON gateway, Nagle off."""

    def __init__(self, port):
        self.port = port
        self.connection = None

    def post(self, path, body, timeout=5):
        for attempt in range(3):
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
                    self.connection.connect()
                    self.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
                response = self.connection.getresponse()
                data = response.read()
                if response.status != 200:
                    raise RuntimeError(f"{path}: HTTP {response.status} {data[:200]!r}")
                return json.loads(data)
            except (OSError, http.client.HTTPException):
                self.connection = None
                if attempt == 2:
                    raise

    def put(self, key, value):
        return int(self.post("/v3/kv/put", {"key": b64(key), "value": b64(value)})["header"]["revision"])

    def put_all(self, pairs):
        self.post("/v3/kv/txn", {"success": [{"request_put": {"key": b64(k), "value": b64(v)}} for k, v in pairs]}, timeout=30)


class Etcd:
    def __init__(self, size=3):
        self.data = tempfile.mkdtemp(prefix="clusterdns-etcd-bench-", dir="/dev/shm")
        DATA.append(self.data)
        ports = free_ports(2 * size)
        self.clients = ports[0::2]
        peers = ports[1::2]
        cluster = ",".join(f"m{i}=http://127.0.0.1:{peers[i]}" for i in range(size))
        for i in range(size):
            url = f"http://127.0.0.1:{self.clients[i]}"
            process = subprocess.Popen([
                "etcd", "--name", f"m{i}", "--data-dir", f"{self.data}/m{i}",
                "--listen-client-urls", url, "--advertise-client-urls", url,
                "--listen-peer-urls", f"http://127.0.0.1:{peers[i]}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{peers[i]}",
                "--initial-cluster", cluster, "--initial-cluster-state", "new",
                "--quota-backend-bytes", str(4 << 30), "--log-level", "warn", "--logger", "zap",
            ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            STARTED.append(process)
        deadline = time.time() + 20
        for port in self.clients:
            while True:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                    connection.request("GET", "/health")
                    if b'"true"' in connection.getresponse().read():
                        break
                except OSError:
                    pass
                if time.time() > deadline:
                    sys.exit("etcd did not become healthy within 20 s")
                time.sleep(0.05)

    @property
    def endpoints(self):
        return ",".join(f"http://127.0.0.1:{port}" for port in self.clients)


class Replica:
    def __init__(self, binary, etcd):
        self.log = tempfile.NamedTemporaryFile(prefix="clusterdns-replica-", suffix=".log", delete=False)
        self.started = time.perf_counter()
        self.process = subprocess.Popen([binary, "serve", "--etcd", etcd.endpoints, "--listen", "127.0.0.1:0", "--threads", "1"],
                                        stdout=subprocess.DEVNULL, stderr=self.log)
        STARTED.append(self.process)
        self.port = None
        deadline = time.time() + 30
        while self.port is None and time.time() < deadline:
            text = self.text()
            marker = "listening on 127.0.0.1:"
            if marker in text:
                self.port = int(text.split(marker, 1)[1].split()[0])
            else:
                time.sleep(0.005)
        if self.port is None:
            sys.exit("the replica never listened:\n" + self.text())

    def text(self):
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def cpu_seconds(self):
        return cpu_seconds(self.process.pid)

    def first_answer(self, name, sock, timeout):
        """Seconds from the start to the first answer with addresses for `name` (polled every 10 ms),
        or None after `timeout` seconds."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            rcode, addresses = query(self.port, name, sock)
            if rcode == 0 and addresses:
                return time.perf_counter() - self.started
            time.sleep(0.01)
        return None


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def query(port, name, sock):
    """One A query over UDP; returns (rcode, [addresses]), or (None, []) on timeout."""
    qid = random.randrange(65536)
    wire = b"".join(bytes([len(label)]) + label.encode() for label in name.rstrip(".").split(".")) + b"\0"
    sock.sendto(struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire + struct.pack(">HH", 1, 1), ("127.0.0.1", port))
    try:
        data = sock.recv(4096)
    except socket.timeout:
        return None, []
    rcode = data[3] & 0x0F
    answers = struct.unpack(">H", data[6:8])[0]
    offset = 12 + len(wire) + 4
    addresses = []
    for _ in range(answers):
        while data[offset] != 0 and data[offset] & 0xC0 != 0xC0:
            offset += data[offset] + 1
        offset += 2 if data[offset] & 0xC0 == 0xC0 else 1
        rtype, _, _, length = struct.unpack(">HHIH", data[offset:offset + 10])
        offset += 10
        if rtype == 1:
            addresses.append(socket.inet_ntoa(data[offset:offset + 4]))
        offset += length
    return rcode, addresses


def key_of(item, prefix="/registry"):
    kind, metadata = item["kind"], item["metadata"]
    resource = {"Service": "services/specs", "EndpointSlice": "endpointslices", "Endpoints": "services/endpoints",
                "Pod": "pods", "Namespace": "namespaces"}.get(kind)
    if resource is None:
        return None
    if kind == "Namespace":
        return f"{prefix}/{resource}/{metadata['name']}"
    return f"{prefix}/{resource}/{metadata.get('namespace') or 'default'}/{metadata['name']}"


def load_cluster(etcd, gateway, cluster):
    """Writes a generated list.json into etcd under Kubernetes's keys (txns of 100 puts), then
    waits until etcd has finished what the load left it (its raft log, bbolt's commits) before
    anything is timed: until its members use under a tenth of a core over a second, for at most 30 s."""
    items = json.load(open(cluster))["items"]
    load_start = time.perf_counter()
    batch = []
    for item in items:
        key = key_of(item)
        if key is None:
            continue
        item["metadata"].pop("resourceVersion", None)
        batch.append((key, json.dumps(item, separators=(",", ":"), sort_keys=True)))
        if len(batch) == 100:
            gateway.put_all(batch)
            batch = []
    if batch:
        gateway.put_all(batch)
    print(f"loaded {len(items)} objects into etcd in {time.perf_counter() - load_start:.1f} s", flush=True)
    settle_start = time.perf_counter()
    while time.perf_counter() - settle_start < 30:
        before = sum(cpu_seconds(p.pid) for p in STARTED)
        time.sleep(1)
        if sum(cpu_seconds(p.pid) for p in STARTED) - before < 0.1:
            break
    with open("/proc/loadavg") as f:
        print(f"etcd settled after {time.perf_counter() - settle_start:.0f} s; load average before: {f.read().split()[0]}", flush=True)
    return items


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--cluster", required=True, help="a generated list.json (generate-cluster.py --format json)")
    parser.add_argument("--last-service", help="the name to wait for at start (default: summary.json's last_service)")
    parser.add_argument("--starts", type=int, default=5, help="replica starts timed (the median is reported)")
    parser.add_argument("--puts", type=int, default=300)
    parser.add_argument("--changes-per-s", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    last = args.last_service or json.load(open(os.path.join(os.path.dirname(os.path.dirname(args.cluster)), "summary.json")))["last_service"]

    etcd = Etcd()
    gateway = Gateway(etcd.clients[0])
    items = load_cluster(etcd, gateway, args.cluster)

    # The floor: the same pages fetched and parsed by Python's json, nothing checked or built.
    floor_start = time.perf_counter()
    fetched, key, revision = 0, b64("/registry/"), None
    while True:
        body = {"key": key, "range_end": b64("/registry0"), "limit": 2000}
        if revision:
            body["revision"] = revision
        page = gateway.post("/v3/kv/range", body, timeout=60)
        revision = revision or page["header"]["revision"]
        fetched += len(page.get("kvs", []))
        if not page.get("more"):
            break
        key = b64(base64.b64decode(page["kvs"][-1]["key"]) + b"\0")
    print(f"floor: {fetched} keys ranged in pages of 2000 and parsed by Python in {time.perf_counter() - floor_start:.2f} s", flush=True)

    # 1. Start to serving, --starts times (the last replica stays for what follows): one start
    # on these 2-core machines moves by a few tenths of a second from run to run.
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(0.5)
    starts = []
    for attempt in range(args.starts):
        one = Replica(args.binary, etcd)
        first = one.first_answer(last, sock, timeout=120)
        if first is None:
            sys.exit("no answer within 120 s:\n" + one.text())
        starts.append(first)
        listed = [line for line in one.text().splitlines() if " keys of " in line or "zones built" in line]
        print(f"start {attempt + 1}: serving {last} after {first:.2f} s")
        for line in listed:
            print("  " + line.split("clusterdns: ", 1)[-1][:160])
        if attempt < args.starts - 1:
            one.process.kill()
            one.process.wait()
    print(f"start to serving, {len(starts)} starts: median {percentile(starts, 50):.2f} s, min {min(starts):.2f} s, max {max(starts):.2f} s", flush=True)

    two = Replica(args.binary, etcd)
    deadline = time.time() + 120
    # Both at full speed (answers compiled) before changes are timed: until then a replica is
    # still compiling what it listed, and changes wait for it.
    while time.time() < deadline and not all("compiled the answers" in replica.text() for replica in (one, two)):
        time.sleep(0.05)
    replicas = [one, two]

    # 2. put -> answer on both replicas.
    latencies = [[], []]
    missed = 0
    name = "lat-svc.default.svc.cluster.local"
    for i in range(args.puts):
        ip = f"10.200.{i // 250}.{i % 250 + 1}"
        value = json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lat-svc", "namespace": "default"},
                            "spec": {"clusterIP": ip, "clusterIPs": [ip], "ports": [{"port": 80}]}})
        t0 = time.perf_counter()
        gateway.put("/registry/services/specs/default/lat-svc", value)
        pending = {0, 1}
        while pending and time.perf_counter() - t0 < 2:
            for index in list(pending):
                _, addresses = query(replicas[index].port, name, sock)
                if addresses == [ip]:
                    latencies[index].append((time.perf_counter() - t0) * 1000)
                    pending.discard(index)
            if pending:
                time.sleep(0.0002)
        missed += len(pending)
    every = latencies[0] + latencies[1]
    print(f"put -> answer, {args.puts} puts, 2 replicas: p50 {percentile(every, 50):.2f} ms, p90 {percentile(every, 90):.2f} ms, "
          f"p99 {percentile(every, 99):.2f} ms, max {max(every):.2f} ms; missed (no answer within 2 s): {missed}")
    for index, values in enumerate(latencies):
        print(f"  replica {index + 1}: p50 {percentile(values, 50):.2f} ms, p99 {percentile(values, 99):.2f} ms")

    # 3. Churn: EndpointSlice changes at a steady rate.
    slices = [item for item in items if item["kind"] == "EndpointSlice" and item.get("endpoints") and item.get("addressType") == "IPv4"][:1000]
    total = args.changes_per_s * args.seconds
    before = [replica.cpu_seconds() for replica in replicas]
    start = time.perf_counter()
    last_change = None
    for i in range(total):
        target = start + i / args.changes_per_s
        delay = target - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        item = slices[i % len(slices)]
        ip = f"10.201.{i // 250 % 250}.{i % 250 + 1}"
        item["endpoints"][0]["addresses"] = [ip]
        gateway.put(key_of(item), json.dumps(item, separators=(",", ":"), sort_keys=True))
        last_change = (item, ip)
        if time.perf_counter() - start > args.seconds * 3:
            print(f"  the writer fell behind; stopped after {i + 1} changes")
            total = i + 1
            break
    elapsed = time.perf_counter() - start
    time.sleep(2)
    after = [replica.cpu_seconds() for replica in replicas]
    item, ip = last_change
    labels = item["metadata"].get("labels", {})
    print(f"churn: {total} EndpointSlice changes in {elapsed:.1f} s ({total / elapsed:.0f}/s)")
    for index, replica in enumerate(replicas):
        cpu = after[index] - before[index]
        print(f"  replica {index + 1}: {cpu:.2f} s CPU, {cpu / total * 1000:.2f} ms per change ({cpu / elapsed * 100:.0f} % of a core)")
    print(f"  last change: slice {item['metadata']['namespace']}/{item['metadata']['name']} of {labels.get('kubernetes.io/service-name')} -> {ip}")


if __name__ == "__main__":
    try:
        main()
    finally:
        for process in reversed(STARTED):
            process.kill()
            process.wait()
        for path in DATA:
            shutil.rmtree(path, ignore_errors=True)
