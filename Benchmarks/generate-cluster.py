#!/usr/bin/env python3
"""Generate a realistic, seeded Kubernetes registry for ClusterDNS load tests, and the dnsperf
query file that goes with it.

    python3 Benchmarks/generate-cluster.py --preset small --out /tmp/cluster-small
    python3 Benchmarks/generate-cluster.py --preset large --out /tmp/cluster-large --seed 7
    python3 Benchmarks/generate-cluster.py --preset large --format json --out /tmp/cluster-large-json
    python3 Benchmarks/generate-cluster.py --services 100000 --namespaces 200 --headless-endpoints 125 \
        --out /tmp/cluster-1m          # 100k services, about 1M endpoints and pods

Writes, under --out:
  manifests/namespaces.yaml              v1 Namespace objects
  manifests/<ns>/services.yaml           v1 Service: ClusterIP, NodePort, LoadBalancer, dual-stack,
                                         headless, ExternalName
  manifests/<ns>/endpointslices.yaml     discovery.k8s.io/v1 EndpointSlice, one per backed Service
  manifests/<ns>/pods.yaml               v1 Pod behind every endpoint (targetRef), with labels
  manifests/list.json                    with --format json, instead of the YAML files: the same
                                         objects as one v1 List, as `kubectl get svc,endpointslices,
                                         pods,namespaces -A -o json` prints it
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
        # Pods: 10.128.0.0/9 (8M addresses, clear of the service range), handed out from kubeadm's
        # 10.244.0.0 as before (so the presets' addresses are unchanged) and wrapping round to
        # 10.128.0.0 after 10.255.255.255: a 1M-endpoint cluster outgrew the old 10.244.0.0/14.
        self.pod_v4 = ipaddress.ip_network("10.128.0.0/9")
        self.lb_v4 = ipaddress.ip_network("172.18.0.0/16")
        assert not self.pod_v4.overlaps(self.service_v4)
        # Skip 10.96.0.0/.1 and .10 (kubernetes, kube-dns); shuffle-free but strided, so
        # neighbouring services do not get neighbouring IPs.
        self.next_service = 16
        self.next_service_v6 = 16
        self.first_pod = int(ipaddress.ip_address("10.244.0.0")) - int(self.pod_v4.network_address) + 256
        self.next_pod = self.first_pod
        self.wrapped = False
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
        if self.next_pod >= self.pod_v4.num_addresses:
            self.next_pod -= self.pod_v4.num_addresses
            self.wrapped = True
        if self.wrapped and self.next_pod > self.first_pod:
            sys.exit(f"out of pod addresses in {self.pod_v4}")
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

    write_manifests(args.out, namespaces, per_ns, pods, rng, args.format)
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


def write_manifests(out, namespaces, per_ns, pods, rng, fmt="yaml"):
    """The objects in the order their random parts are drawn, so both formats hold the same cluster:
    namespaces, then per namespace its services (each followed by its EndpointSlice) and its pods."""
    root = os.path.join(out, "manifests")
    os.makedirs(root, exist_ok=True)
    ts = "2026-01-12T09:00:00Z"
    pods_by_ns = {}
    for pod in pods:
        pods_by_ns.setdefault(pod["ns"], []).append(pod)

    def objects():
        yield "namespaces", [namespace_object(ns, ts, rng) for ns in namespaces]
        rv = 1000
        for ns in namespaces:
            services, slices = [], []
            for svc in per_ns[ns]:
                rv += 1
                services.append(service_object(svc, ts, rv, rng))
                if svc["kind"] != "ExternalName" and svc["name"] != "kubernetes":
                    slices.append(slice_object(svc, ts, rv, rng))
            yield f"{ns}/services", services
            yield f"{ns}/endpointslices", slices
            yield f"{ns}/pods", (pod_object(pod, ts, rng) for pod in pods_by_ns.get(ns, []))

    if fmt == "json":
        write_json_list(os.path.join(root, "list.json"), objects())
        return
    for name, group in objects():
        documents = [to_yaml(obj) for obj in group]
        if "/" in name:
            os.makedirs(os.path.join(root, os.path.dirname(name)), exist_ok=True)
        # Every namespace gets a services.yaml; the other files only when they hold something.
        if documents or name.endswith("/services"):
            with open(os.path.join(root, name + ".yaml"), "w") as f:
                f.write("---\n".join(documents))


def write_json_list(path, groups):
    """One `v1 List` as `kubectl get svc,endpointslices,pods,namespaces -A -o json` prints it: items
    grouped by kind in that order, keys sorted, 4-space indent. Each item is written as it is made
    (to a part file per kind, joined at the end), so a million pods never sit in memory at once."""
    kinds = ("services", "endpointslices", "pods", "namespaces")
    item_indent = "\n" + " " * 8
    parts = {kind: open(f"{path}.{kind}.part", "w+") for kind in kinds}
    counts = dict.fromkeys(kinds, 0)
    for name, group in groups:
        kind = name.split("/")[-1]
        for obj in group:
            text = json.dumps(obj, indent=4, sort_keys=True).replace("\n", item_indent)
            parts[kind].write(("," if counts[kind] else "") + item_indent + text)
            counts[kind] += 1
    with open(path, "w") as f:
        f.write('{\n    "apiVersion": "v1",\n    "items": [')
        written = False
        for kind in kinds:
            part = parts[kind]
            if counts[kind]:
                f.write("," if written else "")
                part.seek(0)
                while chunk := part.read(1 << 20):
                    f.write(chunk)
                written = True
            part.close()
            os.remove(part.name)
        f.write(("\n    " if written else "") + '],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n')


def to_yaml(obj):
    """One document as `kubectl get -o yaml` writes it (keys in the order given, list items at their
    key's indent, strings quoted only where YAML would read them as something else)."""
    lines = []
    yaml_mapping(obj, 0, lines, "")
    return "\n".join(lines) + "\n"


def yaml_mapping(mapping, indent, lines, first_prefix):
    """Appends a non-empty mapping's lines; the first key goes after `first_prefix` (a list's `- `)."""
    pad = " " * indent
    for i, (key, value) in enumerate(mapping.items()):
        head = (first_prefix if i == 0 else pad) + f"{key}:"
        if isinstance(value, dict) and value:
            lines.append(head)
            yaml_mapping(value, indent + 2, lines, " " * (indent + 2))
        elif isinstance(value, list) and value:
            lines.append(head)
            yaml_sequence(value, indent, lines)
        else:
            lines.append(f"{head} {yaml_scalar(value)}")


def yaml_sequence(items, indent, lines):
    pad = " " * indent
    for item in items:
        if isinstance(item, dict) and item:
            yaml_mapping(item, indent + 2, lines, pad + "- ")
        else:
            lines.append(f"{pad}- {yaml_scalar(item)}")


YAML_KEYWORDS = {"", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE",
                 "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"}


def yaml_scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value == {}:
        return "{}"
    if value == []:
        return "[]"
    # Numbers, booleans, nulls and timestamps in disguise are quoted, as kubectl quotes them.
    if value in YAML_KEYWORDS or value.isdigit() or (len(value) > 10 and value[4] == "-" and value[:4].isdigit()):
        return f'"{value}"'
    return value


def namespace_object(ns, ts, rng):
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "creationTimestamp": ts,
            "labels": {"kubernetes.io/metadata.name": ns},
            "name": ns,
            "uid": uid(rng),
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def port_objects(ports, with_target, node_port=None):
    objects = []
    for i, (name, proto, port, target) in enumerate(ports):
        obj = {"name": name} if name else {}
        if node_port is not None:
            obj["nodePort"] = node_port + i
        obj["port"] = port if with_target else target
        obj["protocol"] = proto
        if with_target:
            obj["targetPort"] = target
        objects.append(obj)
    return objects


def service_object(svc, ts, rv, rng):
    obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "creationTimestamp": ts,
            "labels": {"app.kubernetes.io/name": svc["name"], "app.kubernetes.io/part-of": svc["ns"]},
            "name": svc["name"],
            "namespace": svc["ns"],
            "resourceVersion": str(rv),
            "uid": uid(rng),
        },
    }
    kind = svc["kind"]
    if kind == "ExternalName":
        obj["spec"] = {"externalName": svc["external"], "sessionAffinity": "None", "type": "ExternalName"}
        obj["status"] = {"loadBalancer": {}}
        return obj
    if kind == "Headless":
        spec = {"clusterIP": "None", "clusterIPs": ["None"], "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack"}
    else:
        ips = svc["ips"]
        spec = {"clusterIP": ips[0], "clusterIPs": list(ips), "internalTrafficPolicy": "Cluster"}
        if len(ips) == 2:
            spec.update(ipFamilies=["IPv4", "IPv6"], ipFamilyPolicy="RequireDualStack")
        else:
            spec.update(ipFamilies=["IPv4"], ipFamilyPolicy="SingleStack")
    node_port = 30000 + rng.randrange(0, 2700) if kind in ("NodePort", "LoadBalancer") else None
    spec["ports"] = port_objects(svc["ports"], True, node_port)
    if svc.get("publishNotReady"):
        spec["publishNotReadyAddresses"] = True
    if svc.get("selector"):
        spec["selector"] = {"app": svc["name"]}
    spec["sessionAffinity"] = "None"
    spec["type"] = "ClusterIP" if kind == "Headless" else kind
    obj["spec"] = spec
    if kind == "LoadBalancer":
        obj["status"] = {"loadBalancer": {"ingress": [{"ip": svc["lb"], "ipMode": "VIP"}]}}
    else:
        obj["status"] = {"loadBalancer": {}}
    return obj


def slice_object(svc, ts, rv, rng):
    endpoints = []
    for ep in svc["endpoints"]:
        endpoint = {
            "addresses": [ep["ip"]],
            "conditions": {"ready": ep["ready"], "serving": ep["ready"], "terminating": False},
        }
        if ep["hostname"]:
            endpoint["hostname"] = ep["hostname"]
        endpoint["nodeName"] = ep["node"]
        endpoint["targetRef"] = {"kind": "Pod", "name": ep["pod"], "namespace": svc["ns"], "uid": uid(rng)}
        endpoint["zone"] = f"zone-{ep['node'][-1]}"
        endpoints.append(endpoint)
    return {
        "addressType": "IPv4",
        "apiVersion": "discovery.k8s.io/v1",
        "endpoints": endpoints,
        "kind": "EndpointSlice",
        "metadata": {
            "creationTimestamp": ts,
            "generateName": f"{svc['name']}-",
            "generation": 1,
            "labels": {
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                "kubernetes.io/service-name": svc["name"],
            },
            "name": f"{svc['name']}-{suffix(rng)}",
            "namespace": svc["ns"],
            "resourceVersion": str(rv),
            "uid": uid(rng),
        },
        "ports": port_objects(svc["ports"], False),
    }


def pod_object(pod, ts, rng):
    container = {"image": f"registry.example.com/{pod['app']}:1.0", "name": "main"}
    ports = []
    for name, proto, port, target in pod["ports"]:
        container_port = {"containerPort": target}
        if name:
            container_port["name"] = name
        container_port["protocol"] = proto
        ports.append(container_port)
    if ports:
        container["ports"] = ports
    spec = {"containers": [container]}
    if pod["hostname"]:
        spec["hostname"] = pod["hostname"]
        spec["subdomain"] = pod["subdomain"]
    spec["nodeName"] = pod["node"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "creationTimestamp": ts,
            "labels": {"app": pod["app"]},
            "name": pod["name"],
            "namespace": pod["ns"],
            "uid": uid(rng),
        },
        "spec": spec,
        "status": {
            "conditions": [{"status": "True" if pod["ready"] else "False", "type": "Ready"}],
            "phase": "Running",
            "podIP": pod["ip"],
            "podIPs": [{"ip": pod["ip"]}],
        },
    }


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
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml",
                        help="yaml: a file per kind and namespace; json: one kubectl-style v1 List, manifests/list.json")
    parser.add_argument("--zipf", type=float, default=0.0, help="Zipf exponent for name popularity (0: uniform)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    generate(args)


if __name__ == "__main__":
    main()
