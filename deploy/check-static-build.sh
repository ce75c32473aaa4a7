#!/usr/bin/env bash
# The image's build without a container engine: runs deploy/Containerfile's `swift build` command,
# checks that the binary needs no shared library the runtime image lacks (glibc, libstdc++,
# libgcc_s, and the zlib, libldns, libssl and libcrypto the Containerfile copies in: the Swift
# runtime and Foundation are inside),
# lays it out as the image does (stripped, the resource bundle beside it, away from the checkout),
# and serves the example cluster from it: dig must get kubernetes.default's ClusterIP and the example
# static zone's www.example.internal (parsed by libldns), /ready 200.
#   SCRATCH=.build-static bash deploy/check-static-build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${SCRATCH:-.build-static}

start=$(date +%s)
# deploy/Containerfile's command, with a scratch path of its own so the test build stays as it is.
swift build -c release --static-swift-stdlib --product clusterdns --scratch-path "$scratch"
echo "static-build: swift build took $(( $(date +%s) - start )) s"

bin="$scratch/release/clusterdns"
file -L "$bin"
ldd "$bin" || true
# What distroless/cc-debian12 holds (glibc: the vDSO, the loader, libc, libm and what glibc 2.34
# merged into libc; libstdc++, libgcc_s) and what the Containerfile adds: zlib, libldns and its
# OpenSSL (libssl, libcrypto). Anything else (a Swift runtime library, Foundation, ICU) would be
# missing in the image.
unexpected=
if ldd "$bin" >/dev/null 2>&1; then  # a fully static binary is "not a dynamic executable"
    unexpected=$(ldd "$bin" | awk '{print $1}' | grep -v -E '^(linux-vdso\.so\.1|/lib64/ld-linux-x86-64\.so\.2|/lib/ld-linux-aarch64\.so\.1|lib(c|m|pthread|dl|rt|util)\.so\.[0-9]+|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libz\.so\.1|libldns\.so\.3|libssl\.so\.3|libcrypto\.so\.3)$' || true)
fi
if [ -n "$unexpected" ]; then
    echo "static-build: FAIL: needs shared libraries the runtime image lacks (update deploy/Containerfile):" >&2
    echo "$unexpected" >&2
    exit 1
fi

# The image's layout, in a folder away from the checkout.
dir=$(mktemp -d /tmp/clusterdns-static.XXXXXX)
pid=
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
cp "$bin" "$dir/"
strip "$dir/clusterdns"
cp -R "$scratch/release/ClusterDNS_clusterdns.resources" "$dir/"
echo "static-build: binary $(stat -c %s "$bin") bytes, stripped $(stat -c %s "$dir/clusterdns") bytes"

# The bundled example cluster, on free loopback ports.
"$dir/clusterdns" serve --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --lameduck 0 \
    --registry "$dir/ClusterDNS_clusterdns.resources/example-cluster" 2>"$dir/log" &
pid=$!
port=
http=
for _ in $(seq 150); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$dir/log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
done
http=$(sed -n 's/.*\/ready on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/log" | head -1)
if [ -z "$port" ] || [ -z "$http" ]; then
    echo "static-build: FAIL: the static binary did not start listening; its log:" >&2
    cat "$dir/log" >&2
    exit 1
fi

answer=$(dig @127.0.0.1 -p "$port" +time=2 +tries=2 +short kubernetes.default.svc.cluster.local A)
static=$(dig @127.0.0.1 -p "$port" +time=2 +tries=2 +short www.example.internal A)
ready=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http/ready")
echo "static-build: dig kubernetes.default.svc.cluster.local -> ${answer:-nothing}; www.example.internal -> ${static:-nothing}; /ready -> $ready"

kill -TERM "$pid" 2>/dev/null || true
status=0
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$pid" 2>/dev/null; then
    echo "static-build: FAIL: serve did not stop within 10 s of SIGTERM" >&2
    status=1
else
    wait "$pid" || { echo "static-build: FAIL: serve exited $? on SIGTERM" >&2; status=1; }
fi
pid=

if [ "$answer" != "10.96.0.1" ] || [ "$static" != "192.0.2.10" ] || [ "$ready" != "200" ]; then
    echo "static-build: FAIL: expected 10.96.0.1, 192.0.2.10 and /ready 200; the log:" >&2
    cat "$dir/log" >&2
    exit 1
fi
[ "$status" -eq 0 ] || exit 1
echo "static-build: OK"
