#!/usr/bin/env python3
"""The Kubernetes API as the registry (issue 13): three figures, on loopback, with the release binary.

1. start: `serve --kubeconfig` to the answer of the generator's last Service, the cluster listed in
   pages of 500 from a stand-in API server;
2. change -> answer: a Service's ClusterIP changed (one MODIFIED watch event), the time until the
   server answers the new address, polled over UDP every 0.2 ms (p50/p90/p99/max);
3. churn: CHANGES_PER_S EndpointSlice changes a second for SECONDS, the server's CPU per change;
4. burst: BURST EndpointSlice changes put at once (a rollout), the server's CPU per change.

The stand-in is a small HTTPS server in this script (a CA and certificate made with openssl, a
bearer token, list with limit/continue, watch as chunked JSON lines): the Kubernetes API's wire
protocol as Tests/KubernetesTestServer serves it, without its checks. Every loop is bounded; every
process started is killed, by PID, however the script ends.
usage: kubernetes.py --binary .build-bench/release/clusterdns --cluster DIR/manifests/list.json
"""
import argparse
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from etcd import free_ports, percentile, query  # noqa: E402

STARTED = []
TOKEN = "bench-token"
RESOURCES = {"/api/v1/services": "Service", "/apis/discovery.k8s.io/v1/endpointslices": "EndpointSlice",
             "/api/v1/namespaces": "Namespace"}


class API:
    """Objects by kind, a resourceVersion counter and each kind's event history."""

    def __init__(self):
        self.lock = threading.Condition()
        self.version = 1
        self.objects = {kind: {} for kind in RESOURCES.values()}
        self.events = {kind: [] for kind in RESOURCES.values()}
        self.snapshots = {}

    def put(self, item, notify=True):
        with self.lock:
            self.version += 1
            metadata = item["metadata"]
            metadata["resourceVersion"] = str(self.version)
            key = (metadata.get("namespace", ""), metadata["name"])
            kind = item["kind"]
            kind_objects = self.objects[kind]
            event = "MODIFIED" if key in kind_objects else "ADDED"
            kind_objects[key] = item
            if notify:
                self.events[kind].append((self.version, event, item))
                self.lock.notify_all()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    api = None

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.reply(401, {"kind": "Status", "code": 401, "message": "Unauthorized"})
        path, _, query_string = self.path.partition("?")
        params = dict(part.split("=", 1) for part in query_string.split("&") if "=" in part)
        kind = RESOURCES.get(path)
        if kind is None:
            return self.reply(404, {"kind": "Status", "code": 404, "message": "not found"})
        api = self.api
        if params.get("watch") == "1":
            return self.watch(kind, int(params.get("resourceVersion", "0")), int(params.get("timeoutSeconds", "300")))
        limit = int(params.get("limit", "500"))
        token = params.get("continue")
        with api.lock:
            if token:
                list_id, offset = token.split("-")
                items, version = api.snapshots[list_id]
                offset = int(offset)
            else:
                items = [dict(item, kind=None) for item in api.objects[kind].values()]
                version = api.version
                list_id = str(len(api.snapshots))
                api.snapshots[list_id] = (items, version)
                offset = 0
        page = [{k: v for k, v in item.items() if k not in ("kind", "apiVersion")} for item in items[offset:offset + limit]]
        more = offset + limit < len(items)
        self.reply(200, {"kind": kind + "List", "apiVersion": "v1",
                         "metadata": {"resourceVersion": str(version), "continue": f"{list_id}-{offset + limit}" if more else ""},
                         "items": page})

    def watch(self, kind, since, timeout):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        api = self.api
        deadline = time.time() + min(timeout, 120)
        sent = 0
        with api.lock:
            history = api.events[kind]
            sent = next((i for i, event in enumerate(history) if event[0] > since), len(history))
        try:
            while time.time() < deadline:
                with api.lock:
                    history = api.events[kind]
                    if sent >= len(history):
                        api.lock.wait(timeout=1)
                    fresh = history[sent:]
                    sent = len(history)
                lines = b"".join(json.dumps({"type": event, "object": item}, separators=(",", ":")).encode() + b"\n"
                                 for _, event, item in fresh)
                if lines:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(lines), lines))
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass


def make_certificates(directory):
    def run(*arguments):
        subprocess.run(["openssl", *arguments], check=True, capture_output=True, cwd=directory)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=bench-ca")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(directory, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "1",
        "-extfile", "san.ext")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--cluster", required=True, help="a generated list.json (generate-cluster.py --format json)")
    parser.add_argument("--changes", type=int, default=300)
    parser.add_argument("--changes-per-s", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--burst", type=int, default=2000, help="EndpointSlice changes put at once, after the churn")
    args = parser.parse_args()
    summary = os.path.join(os.path.dirname(os.path.dirname(args.cluster)), "summary.json")
    last = json.load(open(summary))["last_service"]

    work = tempfile.mkdtemp(prefix="clusterdns-k8s-bench-")
    try:
        make_certificates(work)
        api = API()
        items = json.load(open(args.cluster))["items"]
        for item in items:
            if item.get("kind") in api.objects:
                item["apiVersion"] = item.get("apiVersion", "v1")
                api.put(item, notify=False)
        lat = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lat-svc", "namespace": "default"},
               "spec": {"clusterIP": "10.200.0.1", "clusterIPs": ["10.200.0.1"], "ports": [{"port": 80}]}}
        api.put(lat, notify=False)
        counts = {kind: len(objects) for kind, objects in api.objects.items()}
        print(f"stand-in API server: {counts}", flush=True)

        Handler.api = api
        port = free_ports(1)[0]
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(os.path.join(work, "server.crt"), os.path.join(work, "server.key"))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        kubeconfig = os.path.join(work, "kubeconfig")
        with open(kubeconfig, "w") as f:
            f.write(f"""apiVersion: v1
kind: Config
current-context: bench
contexts: [{{name: bench, context: {{cluster: bench, user: bench}}}}]
clusters: [{{name: bench, cluster: {{server: "https://127.0.0.1:{port}", certificate-authority: {work}/ca.crt}}}}]
users: [{{name: bench, user: {{token: {TOKEN}}}}}]
""")

        # 1. Start to serving.
        log = open(os.path.join(work, "serve.log"), "w+")
        started = time.perf_counter()
        process = subprocess.Popen([args.binary, "serve", "--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0", "--threads", "1",
                                    "--lameduck", "0"], stdout=subprocess.DEVNULL, stderr=log)
        STARTED.append(process)
        dns_port = None
        deadline = time.time() + 30
        while dns_port is None and time.time() < deadline:
            log.seek(0)
            text = log.read()
            if "listening on 127.0.0.1:" in text:
                dns_port = int(text.split("listening on 127.0.0.1:", 1)[1].split()[0])
            else:
                time.sleep(0.005)
        if dns_port is None:
            sys.exit("the server never listened")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(0.5)
        first = None
        deadline = time.time() + 120
        while first is None and time.time() < deadline:
            rcode, addresses = query(dns_port, last, sock)
            if rcode == 0 and addresses:
                first = time.perf_counter() - started
            else:
                time.sleep(0.01)
        print(f"start to serving {last}: {first:.2f} s" if first else "no answer within 120 s", flush=True)
        while time.time() < deadline:
            log.seek(0)
            if "compiled the answers" in log.read():
                break
            time.sleep(0.05)
        log.seek(0)
        for line in log.read().splitlines():
            if "listed" in line or "compiled the answers" in line:
                print("  " + line.split("] ", 1)[-1])

        # 2. change -> answer.
        latencies, missed = [], 0
        name = "lat-svc.default.svc.cluster.local"
        for i in range(args.changes):
            ip = f"10.200.{i // 250 + 1}.{i % 250 + 1}"
            changed = json.loads(json.dumps(lat))
            changed["spec"]["clusterIP"] = ip
            changed["spec"]["clusterIPs"] = [ip]
            t0 = time.perf_counter()
            api.put(changed)
            answered = False
            while time.perf_counter() - t0 < 2:
                _, addresses = query(dns_port, name, sock)
                if addresses == [ip]:
                    latencies.append((time.perf_counter() - t0) * 1000)
                    answered = True
                    break
                time.sleep(0.0002)
            missed += not answered
        print(f"change -> answer, {args.changes} MODIFIED events: p50 {percentile(latencies, 50):.2f} ms, p90 {percentile(latencies, 90):.2f} ms, "
              f"p99 {percentile(latencies, 99):.2f} ms, max {max(latencies):.2f} ms; missed (no answer within 2 s): {missed}", flush=True)

        # 3. Churn: EndpointSlice changes at a steady rate.
        slices = [item for item in api.objects["EndpointSlice"].values() if item.get("endpoints") and item.get("addressType") == "IPv4"][:1000]
        total = args.changes_per_s * args.seconds

        def cpu():
            with open(f"/proc/{process.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        before = cpu()
        start = time.perf_counter()
        for i in range(total):
            delay = start + i / args.changes_per_s - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            item = json.loads(json.dumps(slices[i % len(slices)]))
            item["endpoints"][0]["addresses"] = [f"10.201.{i // 250 % 250}.{i % 250 + 1}"]
            api.put(item)
            if time.perf_counter() - start > args.seconds * 3:
                total = i + 1
                break
        elapsed = time.perf_counter() - start
        time.sleep(2)
        used = cpu() - before
        print(f"churn: {total} EndpointSlice changes in {elapsed:.1f} s ({total / elapsed:.0f}/s): {used:.2f} s CPU, "
              f"{used / total * 1000:.2f} ms per change ({used / elapsed * 100:.0f} % of a core)")

        # 4. A burst (a rollout, a relist's worth): BURST EndpointSlice changes put at once.
        before = cpu()
        start = time.perf_counter()
        for i in range(args.burst):
            item = json.loads(json.dumps(slices[i % len(slices)]))
            item["endpoints"][0]["addresses"] = [f"10.202.{i // 250 % 250}.{i % 250 + 1}"]
            api.put(item)
        put = time.perf_counter() - start
        time.sleep(3)
        used = cpu() - before
        print(f"burst: {args.burst} EndpointSlice changes put in {put:.2f} s: {used:.2f} s CPU (3 s after), {used / args.burst * 1000:.2f} ms per change")
    finally:
        for process in reversed(STARTED):
            process.kill()
            process.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
