#!/usr/bin/env python3
"""Generate a realistic, seeded Kubernetes registry for ClusterDNS load tests, and the dnsperf
query file that goes with it.

    python3 Benchmarks/generate-cluster.py --preset small --out /tmp/cluster-small
    python3 Benchmarks/generate-cluster.py --preset large --out /tmp/cluster-large --seed 7

Writes, under --out:
  manifests/namespaces.yaml              v1 Namespace objects
  manifests/<ns>/services.yaml           v1 Service: ClusterIP, NodePort, LoadBalancer, dual-stack,
                                         headless, ExternalName
  manifests/<ns>/endpointslices.yaml     discovery.k8s.io/v1 EndpointSlice, one per backed Service
  manifests/<ns>/pods.yaml               v1 Pod behind every endpoint (targetRef), with labels
  queries.txt                            dnsperf input ("name TYPE" per line), the mix below
  summary.json                           what was generated

The manifests are what `kubectl get -o yaml` writes (trimmed of managedFields), so ClusterDNS
loads them with `clusterdns serve --registry <out>/manifests`, and `clusterdns export` turns them
into the master files Knot DNS and NSD serve.

Query mix (fractions of --queries lines, names drawn uniformly, or Zipf with --zipf S):
  57% A of ClusterIP/NodePort/LoadBalancer services     (2% of them AAAA on dual-stack names)
   3% A of ExternalName services                        (CNAME; some chase to in-cluster names)
  10% SRV: _port._proto of ClusterIP services, bare service names, _port._proto of headless ones
  10% A of headless services                            (one A per ready endpoint: multi-record)
   5% AAAA of IPv4-only services                        (NOERROR/NODATA with the SOA)
  10% NXDOMAIN from the ndots:5 search path, 60% A / 40% AAAA:
      google.com.<ns>.svc.cluster.local, google.com.svc.cluster.local, google.com.cluster.local,
      <svc>.<ns>.svc.cluster.local.<ns>.svc.cluster.local, ...svc.cluster.local.svc.cluster.local,
      <svc>.<other-ns>.<ns>.svc.cluster.local, unknown services
   5% PTR of ClusterIPs (80%) and endpoint IPs (20%)
"""

import argparse
import bisect
import ipaddress
import json
import os
import random
import sys

PRESETS = {
    # 1k services, about 5k records.
    "small": dict(namespaces=10, services=1000),
    # 50k services, about 230k records.
    "large": dict(namespaces=100, services=50000),
}

# Fractions of all services.
EXTERNAL_NAME = 0.02
HEADLESS = 0.08
# Of the remaining (ClusterIP-backed) services.
NODE_PORT = 0.15
LOAD_BALANCER = 0.10
DUAL_STACK = 0.05
# Endpoints behind a ClusterIP-backed service: (count, weight). Many services in a big cluster are
# scaled to zero or wait for pods; most have one or two replicas.
# (The large preset is tuned to the issue's ~230k records; more endpoints here add an A and a PTR each.)
CLUSTERIP_ENDPOINTS = [(0, 0.88), (1, 0.09), (2, 0.03)]
NOT_READY = 0.05  # of all endpoints

PORT_SHAPES = [  # (weight, [(name, protocol, port, targetPort)]); unnamed ports get no _port._proto SRV
    (0.58, [("", "TCP", 80, 8080)]),
    (0.20, [("http", "TCP", 80, 8080)]),
    (0.05, [("https", "TCP", 443, 8443)]),
    (0.05, [("grpc", "TCP", 9090, 9090)]),
    (0.05, [("redis", "TCP", 6379, 6379)]),
    (0.05, [("http", "TCP", 80, 8080), ("metrics", "TCP", 9100, 9100)]),
    (0.02, [("dns", "UDP", 53, 5353), ("dns-tcp", "TCP", 53, 5353)]),
]

WORDS = ("api web cart checkout payment user auth session search catalog inventory order billing "
         "invoice email notify queue worker cache redis postgres mysql kafka zookeeper etcd gateway "
         "proxy frontend backend admin report metrics logs trace config feature flag rating review "
         "shipping pricing promo ledger ledgerd profile avatar media upload thumb video stream chat "
         "feed graph index ranker recommender ads bidder tracker events audit vault secrets ml "
         "model trainer scorer batch cron scheduler dispatcher router edge cdn dns ntp registry").split()

EXTERNAL_TARGETS = ["db.example.com", "api.stripe.com", "s3.eu-west-1.amazonaws.com",
                    "smtp.sendgrid.net", "storage.googleapis.com", "login.microsoftonline.com"]
SEARCH_HOSTS = ["google.com", "api.github.com", "registry-1.docker.io", "s3.amazonaws.com",
                "sentry.io", "pypi.org", "oauth2.googleapis.com"]


def weighted(rng, pairs):
    roll = rng.random()
    total = 0.0
    for value, weight in pairs:
        total += weight
        if roll < total:
            return value
    return pairs[-1][0]


class Addresses:
    """Sequential, collision-free addresses from the usual kind/kubeadm ranges."""

    def __init__(self, rng):
        self.service_v4 = ipaddress.ip_network("10.96.0.0/12")
        self.service_v6 = ipaddress.ip_network("fd00:10:96::/108")
        self.pod_v4 = ipaddress.ip_network("10.244.0.0/14")
        self.lb_v4 = ipaddress.ip_network("172.18.0.0/16")
        # Skip 10.96.0.0/.1 and .10 (kubernetes, kube-dns); shuffle-free but strided, so
        # neighbouring services do not get neighbouring IPs.
        self.next_service = 16
        self.next_service_v6 = 16
        self.next_pod = 256
        self.next_lb = 10

    def service(self):
        self.next_service += 1
        return str(self.service_v4[self.next_service])

    def service6(self):
        self.next_service_v6 += 1
        return str(self.service_v6[self.next_service_v6])

    def pod(self):
        self.next_pod += 1
        if self.next_pod % 256 in (0, 255):
            self.next_pod += 2
        return str(self.pod_v4[self.next_pod])

    def lb(self):
        self.next_lb += 1
        return str(self.lb_v4[self.next_lb])


def uid(rng):
    h = "%032x" % rng.getrandbits(128)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def suffix(rng, n=5):
    return "".join(rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))


def reverse_name(ip):
    return ipaddress.ip_address(ip).reverse_pointer


def generate(args):
    rng = random.Random(args.seed)
    preset = PRESETS[args.preset]
    n_ns = args.namespaces or preset["namespaces"]
    n_svc = args.services or preset["services"]
    domain = args.domain.rstrip(".")
    addresses = Addresses(rng)

    namespaces = ["default", "kube-system"] + [f"team-{i:03d}" for i in range(max(0, n_ns - 2))]
    per_ns = {ns: [] for ns in namespaces}
    # The usual two: kubernetes.default and kube-dns.kube-system.
    services = [
        dict(ns="default", name="kubernetes", kind="ClusterIP", ips=["10.96.0.1"],
             ports=[("https", "TCP", 443, 6443)], endpoints=[], selector=False),
        dict(ns="kube-system", name="kube-dns", kind="ClusterIP", ips=["10.96.0.10"],
             ports=[("dns", "UDP", 53, 53), ("dns-tcp", "TCP", 53, 53), ("metrics", "TCP", 9153, 9153)],
             endpoints=[], selector=True),
    ]
    used = {("default", "kubernetes"), ("kube-system", "kube-dns")}
    ns_cycle = namespaces[2:] or namespaces
    while len(services) < n_svc:
        ns = ns_cycle[len(services) % len(ns_cycle)]
        name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}"
        if (ns, name) in used:
            name = f"{name}-{suffix(rng, 3)}"
            if (ns, name) in used:
                continue
        used.add((ns, name))
        roll = rng.random()
        svc = dict(ns=ns, name=name, endpoints=[], selector=True)
        if roll < EXTERNAL_NAME:
            svc["kind"] = "ExternalName"
            svc["selector"] = False
            svc["ports"] = []
            svc["external"] = rng.choice(EXTERNAL_TARGETS)
        elif roll < EXTERNAL_NAME + HEADLESS:
            svc["kind"] = "Headless"
            svc["ports"] = weighted(rng, [(shape, w) for w, shape in PORT_SHAPES])
            svc["statefulset"] = rng.random() < 0.5
            svc["publishNotReady"] = rng.random() < 0.05
            svc["endpoint_count"] = args.headless_endpoints
        else:
            kind_roll = rng.random()
            svc["kind"] = "NodePort" if kind_roll < NODE_PORT else "LoadBalancer" if kind_roll < NODE_PORT + LOAD_BALANCER else "ClusterIP"
            svc["ports"] = weighted(rng, [(shape, w) for w, shape in PORT_SHAPES])
            svc["ips"] = [addresses.service()]
            if rng.random() < DUAL_STACK:
                svc["ips"].append(addresses.service6())
            svc["endpoint_count"] = weighted(rng, CLUSTERIP_ENDPOINTS)
            if svc["kind"] == "LoadBalancer":
                svc["lb"] = addresses.lb()
        services.append(svc)

    # ExternalName services that point back into the cluster (a common migration alias).
    clusterip = [s for s in services if s["kind"] in ("ClusterIP", "NodePort", "LoadBalancer")]
    for svc in services:
        if svc["kind"] == "ExternalName" and rng.random() < 0.2 and clusterip:
            target = rng.choice(clusterip)
            svc["external"] = f"{target['name']}.{target['ns']}.svc.{domain}"

    # Endpoints and their pods.
    pods = []
    for svc in services:
        count = svc.get("endpoint_count", 0)
        if count == 0 and svc["name"] == "kube-dns":
            count = 2
        dual = len(svc.get("ips", [])) == 2
        for index in range(count):
            if svc.get("statefulset"):
                pod_name, hostname = f"{svc['name']}-{index}", f"{svc['name']}-{index}"
            else:
                pod_name, hostname = f"{svc['name']}-{suffix(rng, 10)}-{suffix(rng)}", None
            ip = addresses.pod()
            ready = rng.random() >= NOT_READY
            endpoint = dict(ip=ip, hostname=hostname, ready=ready, pod=pod_name, node=f"node-{rng.randrange(1, 201):03d}")
            svc["endpoints"].append(endpoint)
            pods.append(dict(ns=svc["ns"], name=pod_name, app=svc["name"], ip=ip, ready=ready,
                             hostname=hostname, subdomain=svc["name"] if hostname else None,
                             node=endpoint["node"], ports=svc["ports"], dual=dual))
        per_ns[svc["ns"]].append(svc)

    write_manifests(args.out, namespaces, per_ns, pods, rng)
    queries, mix = write_queries(args, services, namespaces, domain, rng)
    summary = dict(
        preset=args.preset, seed=args.seed, domain=domain, namespaces=len(namespaces), services=len(services),
        by_kind={k: sum(1 for s in services if s["kind"] == k) for k in ("ClusterIP", "NodePort", "LoadBalancer", "Headless", "ExternalName")},
        dual_stack=sum(1 for s in services if len(s.get("ips", [])) == 2),
        endpoints=sum(len(s["endpoints"]) for s in services), pods=len(pods), queries=queries, query_mix=mix,
        last_service=f"{services[-1]['name']}.{services[-1]['ns']}.svc.{domain}",
    )
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary), file=sys.stderr)


def write_manifests(out, namespaces, per_ns, pods, rng):
    root = os.path.join(out, "manifests")
    os.makedirs(root, exist_ok=True)
    ts = "2026-01-12T09:00:00Z"
    with open(os.path.join(root, "namespaces.yaml"), "w") as f:
        docs = []
        for ns in namespaces:
            docs.append(f"""apiVersion: v1
kind: Namespace
metadata:
  creationTimestamp: "{ts}"
  labels:
    kubernetes.io/metadata.name: {ns}
  name: {ns}
  uid: {uid(rng)}
spec:
  finalizers:
  - kubernetes
status:
  phase: Active
""")
        f.write("---\n".join(docs))
    pods_by_ns = {}
    for pod in pods:
        pods_by_ns.setdefault(pod["ns"], []).append(pod)
    rv = 1000
    for ns in namespaces:
        directory = os.path.join(root, ns)
        os.makedirs(directory, exist_ok=True)
        service_docs, slice_docs = [], []
        for svc in per_ns[ns]:
            rv += 1
            service_docs.append(service_yaml(svc, ts, rv, rng))
            if svc["kind"] != "ExternalName" and svc["name"] != "kubernetes":
                slice_docs.append(slice_yaml(svc, ts, rv, rng))
        with open(os.path.join(directory, "services.yaml"), "w") as f:
            f.write("---\n".join(service_docs))
        if slice_docs:
            with open(os.path.join(directory, "endpointslices.yaml"), "w") as f:
                f.write("---\n".join(slice_docs))
        if pods_by_ns.get(ns):
            with open(os.path.join(directory, "pods.yaml"), "w") as f:
                f.write("---\n".join(pod_yaml(pod, ts, rng) for pod in pods_by_ns[ns]))


def ports_yaml(ports, indent, with_target, node_port=None):
    lines = []
    pad = " " * indent
    for i, (name, proto, port, target) in enumerate(ports):
        first = True
        def item(text):
            nonlocal first
            lines.append(f"{pad}{'- ' if first else '  '}{text}")
            first = False
        if name:
            item(f"name: {name}")
        if node_port is not None:
            item(f"nodePort: {node_port + i}")
        item(f"port: {target if not with_target else port}")
        item(f"protocol: {proto}")
        if with_target:
            item(f"targetPort: {target}")
    return "\n".join(lines)


def service_yaml(svc, ts, rv, rng):
    meta = f"""apiVersion: v1
kind: Service
metadata:
  creationTimestamp: "{ts}"
  labels:
    app.kubernetes.io/name: {svc['name']}
    app.kubernetes.io/part-of: {svc['ns']}
  name: {svc['name']}
  namespace: {svc['ns']}
  resourceVersion: "{rv}"
  uid: {uid(rng)}
spec:
"""
    kind = svc["kind"]
    if kind == "ExternalName":
        return meta + f"""  externalName: {svc['external']}
  sessionAffinity: None
  type: ExternalName
status:
  loadBalancer: {{}}
"""
    body = ""
    if kind == "Headless":
        body += "  clusterIP: None\n  clusterIPs:\n  - None\n  ipFamilies:\n  - IPv4\n  ipFamilyPolicy: SingleStack\n"
    else:
        ips = svc["ips"]
        body += f"  clusterIP: {ips[0]}\n  clusterIPs:\n" + "".join(f"  - {ip}\n" for ip in ips)
        body += "  internalTrafficPolicy: Cluster\n  ipFamilies:\n  - IPv4\n"
        body += "  - IPv6\n  ipFamilyPolicy: RequireDualStack\n" if len(ips) == 2 else "  ipFamilyPolicy: SingleStack\n"
    node_port = 30000 + rng.randrange(0, 2700) if kind in ("NodePort", "LoadBalancer") else None
    body += "  ports:\n" + ports_yaml(svc["ports"], 2, True, node_port) + "\n"
    if svc.get("publishNotReady"):
        body += "  publishNotReadyAddresses: true\n"
    if svc.get("selector"):
        body += f"  selector:\n    app: {svc['name']}\n"
    body += "  sessionAffinity: None\n"
    body += f"  type: {'ClusterIP' if kind == 'Headless' else kind}\n"
    if kind == "LoadBalancer":
        body += f"status:\n  loadBalancer:\n    ingress:\n    - ip: {svc['lb']}\n      ipMode: VIP\n"
    else:
        body += "status:\n  loadBalancer: {}\n"
    return meta + body


def slice_yaml(svc, ts, rv, rng):
    eps = []
    for ep in svc["endpoints"]:
        text = f"""- addresses:
  - {ep['ip']}
  conditions:
    ready: {str(ep['ready']).lower()}
    serving: {str(ep['ready']).lower()}
    terminating: false
"""
        if ep["hostname"]:
            text += f"  hostname: {ep['hostname']}\n"
        text += f"""  nodeName: {ep['node']}
  targetRef:
    kind: Pod
    name: {ep['pod']}
    namespace: {svc['ns']}
    uid: {uid(rng)}
  zone: zone-{ep['node'][-1]}
"""
        eps.append(text)
    endpoints = "endpoints:\n" + "".join(eps) if eps else "endpoints: []\n"
    ports = "ports:\n" + ports_yaml(svc["ports"], 0, False) + "\n" if svc["ports"] else "ports: []\n"
    return f"""addressType: IPv4
apiVersion: discovery.k8s.io/v1
{endpoints}kind: EndpointSlice
metadata:
  creationTimestamp: "{ts}"
  generateName: {svc['name']}-
  generation: 1
  labels:
    endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io
    kubernetes.io/service-name: {svc['name']}
  name: {svc['name']}-{suffix(rng)}
  namespace: {svc['ns']}
  resourceVersion: "{rv}"
  uid: {uid(rng)}
{ports}"""


def pod_yaml(pod, ts, rng):
    extra = ""
    if pod["hostname"]:
        extra = f"  hostname: {pod['hostname']}\n  subdomain: {pod['subdomain']}\n"
    container_ports = "".join(
        f"    - containerPort: {target}\n" + (f"      name: {name}\n" if name else "") + f"      protocol: {proto}\n"
        for name, proto, port, target in pod["ports"])
    ready = "True" if pod["ready"] else "False"
    return f"""apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: "{ts}"
  labels:
    app: {pod['app']}
  name: {pod['name']}
  namespace: {pod['ns']}
  uid: {uid(rng)}
spec:
  containers:
  - image: registry.example.com/{pod['app']}:1.0
    name: main
{"    ports:" + chr(10) + container_ports if container_ports else ""}{extra}  nodeName: {pod['node']}
status:
  conditions:
  - status: "{ready}"
    type: Ready
  phase: Running
  podIP: {pod['ip']}
  podIPs:
  - ip: {pod['ip']}
"""


def write_queries(args, services, namespaces, domain, rng):
    """The dnsperf file. Only names whose answers every server agrees on by construction."""
    def fqdn(s):
        return f"{s['name']}.{s['ns']}.svc.{domain}"

    def published(s):
        return [e for e in s["endpoints"] if e["ready"] or s.get("publishNotReady")]

    backed = [s for s in services if s["kind"] in ("ClusterIP", "NodePort", "LoadBalancer")]
    v4only = [s for s in backed if len(s["ips"]) == 1]
    dual = [s for s in backed if len(s["ips"]) == 2] or backed
    external = [s for s in services if s["kind"] == "ExternalName"] or backed
    headless = [s for s in services if s["kind"] == "Headless" and published(s)] or backed
    named_ports = [s for s in backed if any(p[0] for p in s["ports"])]
    headless_named = [s for s in headless if s["kind"] == "Headless" and any(p[0] for p in s["ports"])] or named_ports
    endpoint_ips = [e["ip"] for s in services if s["kind"] != "ExternalName" for e in published(s)]

    if args.zipf:
        def pick(items):
            # Zipf-like popularity over a fixed (seeded) order: rank r has weight 1/r^s.
            key = id(items)
            if key not in pick.cdf:
                weights = [1.0 / (r ** args.zipf) for r in range(1, len(items) + 1)]
                total, acc, cdf = sum(weights), 0.0, []
                for w in weights:
                    acc += w / total
                    cdf.append(acc)
                pick.cdf[key] = cdf
            return items[min(bisect.bisect_left(pick.cdf[key], rng.random()), len(items) - 1)]
        pick.cdf = {}
    else:
        def pick(items):
            return items[rng.randrange(len(items))]

    def srv_name(s):
        name, proto = rng.choice([(p[0], p[1]) for p in s["ports"] if p[0]])
        return f"_{name}._{proto.lower()}.{fqdn(s)}"

    def nxdomain():
        ns = pick(namespaces)
        form = rng.randrange(7)
        if form == 0:
            return f"{rng.choice(SEARCH_HOSTS)}.{ns}.svc.{domain}"
        if form == 1:
            return f"{rng.choice(SEARCH_HOSTS)}.svc.{domain}"
        if form == 2:
            return f"{rng.choice(SEARCH_HOSTS)}.{domain}"
        s = pick(backed)
        if form == 3:
            return f"{fqdn(s)}.{s['ns']}.svc.{domain}"
        if form == 4:
            return f"{fqdn(s)}.svc.{domain}"
        if form == 5:
            return f"{s['name']}.{s['ns']}.{ns}.svc.{domain}"
        return f"{s['name']}-canary.{s['ns']}.svc.{domain}"

    mix = [
        (0.558, "A clusterip", lambda: (fqdn(pick(backed)), "A")),
        (0.012, "AAAA dual-stack", lambda: (fqdn(pick(dual)), "AAAA")),
        (0.03, "A externalname", lambda: (fqdn(pick(external)), "A")),
        (0.06, "SRV _port._proto", lambda: (srv_name(pick(named_ports)), "SRV")),
        (0.02, "SRV service", lambda: (fqdn(pick(backed)), "SRV")),
        (0.02, "SRV headless", lambda: (srv_name(pick(headless_named)), "SRV")),
        (0.10, "A headless", lambda: (fqdn(pick(headless)), "A")),
        (0.05, "AAAA nodata", lambda: (fqdn(pick(v4only)), "AAAA")),
        (0.06, "A nxdomain", lambda: (nxdomain(), "A")),
        (0.04, "AAAA nxdomain", lambda: (nxdomain(), "AAAA")),
        (0.04, "PTR service", lambda: (reverse_name(pick(backed)["ips"][0]), "PTR")),
        (0.01, "PTR endpoint", lambda: (reverse_name(pick(endpoint_ips)) if endpoint_ips else reverse_name(pick(backed)["ips"][0]), "PTR")),
    ]
    counts = {label: 0 for _, label, _ in mix}
    path = os.path.join(args.out, "queries.txt")
    with open(path, "w") as f:
        for _ in range(args.queries):
            label = weighted(rng, [(entry[1], entry[0]) for entry in mix])
            make = next(entry[2] for entry in mix if entry[1] == label)
            name, qtype = make()
            counts[label] += 1
            f.write(f"{name} {qtype}\n")
    return args.queries, counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="small")
    parser.add_argument("--out", required=True, help="output directory (created)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--namespaces", type=int, help="override the preset")
    parser.add_argument("--services", type=int, help="override the preset")
    parser.add_argument("--headless-endpoints", type=int, default=4, help="endpoints per headless service (M)")
    parser.add_argument("--domain", default="cluster.local")
    parser.add_argument("--queries", type=int, default=100000, help="lines in queries.txt")
    parser.add_argument("--zipf", type=float, default=0.0, help="Zipf exponent for name popularity (0: uniform)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    generate(args)


if __name__ == "__main__":
    main()
