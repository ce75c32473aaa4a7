#!/usr/bin/env python3
"""Small DNS probes for compare.sh, standard library only.

  dnsprobe.py first-answer --port P --start EPOCH --timeout S NAME/TYPE [NAME/TYPE ...]
      Polls 127.0.0.1:P every 10 ms until every NAME/TYPE answers NOERROR with at least one
      record; prints the seconds since EPOCH (the moment the server was started).
  dnsprobe.py compare --queries FILE --sample N --seed S LABEL=PORT [LABEL=PORT ...]
      Asks every server the same N queries (drawn from the dnsperf file) and checks that the
      rcode and the answer set agree; prints each disagreement, the rcode mix, and exits 1 on any.
"""

import argparse
import random
import socket
import struct
import sys
import time

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "TXT": 16, "AAAA": 28, "SRV": 33}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query_packet(qid, name, qtype):
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + encode_name(name) + struct.pack("!HH", TYPES[qtype], 1)


def read_name(data, offset):
    labels, jumped, end, hops = [], False, offset, 0
    while True:
        length = data[offset]
        if length & 0xC0 == 0xC0:
            if not jumped:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | data[offset + 1]
            jumped, hops = True, hops + 1
            if hops > 127:
                raise ValueError("compression loop")
            continue
        if length == 0:
            return ".".join(labels).lower() + ".", (end if jumped else offset + 1)
        labels.append(data[offset + 1:offset + 1 + length].decode("ascii", "backslashreplace"))
        offset += 1 + length


def read_record(data, offset):
    owner, offset = read_name(data, offset)
    rtype, _rclass, ttl, length = struct.unpack_from("!HHIH", data, offset)
    offset += 10
    rdata = data[offset:offset + length]
    if rtype == 1:
        text = socket.inet_ntop(socket.AF_INET, rdata)
    elif rtype == 28:
        text = socket.inet_ntop(socket.AF_INET6, rdata)
    elif rtype in (2, 5, 12):
        text = read_name(data, offset)[0]
    elif rtype == 33:
        priority, weight, port = struct.unpack_from("!HHH", data, offset)
        text = f"{priority} {weight} {port} {read_name(data, offset + 6)[0]}"
    elif rtype == 6:
        mname, position = read_name(data, offset)
        rname, position = read_name(data, position)
        text = f"{mname} {rname} " + " ".join(str(v) for v in struct.unpack_from("!IIIII", data, position))
    else:
        text = rdata.hex()
    return f"{owner} {ttl} {TYPE_NAMES.get(rtype, rtype)} {text}", offset + length


def ask(sock, port, name, qtype, qid, timeout=1.0, tries=3):
    packet = query_packet(qid, name, qtype)
    for _ in range(tries):
        sock.sendto(packet, ("127.0.0.1", port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            try:
                data, _ = sock.recvfrom(65535)
            except (socket.timeout, ConnectionRefusedError):
                break
            if len(data) < 12 or struct.unpack_from("!H", data)[0] != qid:
                continue
            flags, qd, an, ns, _ar = struct.unpack_from("!HHHHH", data, 2)
            offset = 12
            for _ in range(qd):
                offset = read_name(data, offset)[1] + 4
            answers, authority = [], []
            for _ in range(an):
                record, offset = read_record(data, offset)
                answers.append(record)
            for _ in range(ns):
                record, offset = read_record(data, offset)
                authority.append(record)
            return dict(rcode=RCODES.get(flags & 0xF, flags & 0xF), tc=bool(flags & 0x0200), aa=bool(flags & 0x0400),
                        answers=sorted(answers), authority=sorted(authority))
    return None


def first_answer(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    wanted = [item.rsplit("/", 1) for item in args.names]
    qid = 0
    deadline = time.time() + args.timeout
    while time.time() < deadline:
        done = True
        for name, qtype in wanted:
            qid = (qid + 1) & 0xFFFF
            reply = ask(sock, args.port, name, qtype, qid, timeout=0.01, tries=1)
            if not reply or reply["rcode"] != "NOERROR" or not reply["answers"]:
                done = False
                break
        if done:
            print(f"{time.time() - args.start:.3f}")
            return 0
        time.sleep(0.01)
    print("timeout")
    return 1


def compare(args):
    servers = [item.split("=", 1) for item in args.servers]
    with open(args.queries) as f:
        lines = [line.split() for line in f if line.strip()]
    rng = random.Random(args.seed)
    sample = rng.sample(lines, min(args.sample, len(lines)))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    mismatches, authority_diffs, rcodes, qid = 0, 0, {}, 0
    for name, qtype in sample:
        replies = {}
        for label, port in servers:
            qid = (qid + 1) & 0xFFFF
            replies[label] = ask(sock, int(port), name, qtype, qid)
        reference_label = servers[0][0]
        reference = replies[reference_label]
        key = reference["rcode"] if reference else "TIMEOUT"
        rcodes[key] = rcodes.get(key, 0) + 1
        for label, _ in servers[1:]:
            other = replies[label]
            if reference is None or other is None:
                mismatches += 1
                print(f"MISMATCH {name} {qtype}: {reference_label}={reference and reference['rcode']} {label}={other and other['rcode']}")
                continue
            if (reference["rcode"], reference["answers"]) != (other["rcode"], other["answers"]):
                mismatches += 1
                print(f"MISMATCH {name} {qtype}:\n  {reference_label}: {reference['rcode']} {reference['answers']}\n  {label}: {other['rcode']} {other['answers']}")
            elif [r.split()[2] for r in reference["authority"]] != [r.split()[2] for r in other["authority"]]:
                authority_diffs += 1
                if authority_diffs <= 5:
                    print(f"note: authority differs for {name} {qtype}: {reference_label} {reference['authority']} / {label} {other['authority']}")
    mix = " ".join(f"{k}:{v}" for k, v in sorted(rcodes.items()))
    print(f"sample of {len(sample)} queries x {len(servers)} servers: {mismatches} answer mismatches, "
          f"{authority_diffs} authority-section differences; rcodes {mix}")
    return 1 if mismatches else 0


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("first-answer")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--start", type=float, required=True)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("names", nargs="+")
    p = sub.add_parser("compare")
    p.add_argument("--queries", required=True)
    p.add_argument("--sample", type=int, default=300)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("servers", nargs="+")
    args = parser.parse_args()
    sys.exit(first_answer(args) if args.command == "first-answer" else compare(args))


if __name__ == "__main__":
    main()
