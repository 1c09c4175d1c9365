#!/usr/bin/env python3
"""Writes the seed corpora corpus/fuzz_<t>/ from the documented examples.

Sources: the captured SDK requests, signature test vectors and response
bodies of /work/shared/spec (copied here as literals so the corpus does not
depend on that tree), the conformance cases under conformance/cases (their
requests become query strings and form bodies), and hand-written inputs for
each rejection class of aipa/wire.h. Deterministic: rerunning rewrites the
same files. Run from anywhere: fuzz/seeds.py [--only fuzz_x]
"""
import base64
import glob
import hashlib
import hmac
import json
import os
import struct
import sys
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "corpus")

# ---- captured requests (ecs-rpc-wire.md §2.6) ----
Q_V3_A = "InstanceId=i-bp1gtjxuuvwj17zr0001"
Q_V3_B = ("InstanceId=i-bp1gtjxuuvwj17zr0001&IpAddress=112.124.1.2&OwnerAccount=a%20b*c~d!%27()%2B%2F%C3%A9"
          "&OwnerId=1234567890123&ResourceOwnerAccount=roa%40x.com&ResourceOwnerId=42&VlanId=720")
Q_V1_C = ("Action=AllocatePublicIpAddress&Format=json&Version=2014-05-26&Timestamp=2026-11-27T07%3A51%3A23Z"
          "&SignatureNonce=b459be194ebe2a3a255ede8fa3ae662d84f8bfdff2d3ecdb614d259586ed4271"
          "&InstanceId=i-bp1gtjxuuvwj17zr0001&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0"
          "&AccessKeyId=testid&Signature=YrUmtZmodh%2BT1ShLZzBkOEEY%2Fio%3D")
Q_V1_D = ("AccessKeyId=testid&Action=AllocatePublicIpAddress&Format=JSON&InstanceId=i-bp1gtjxuuvwj17zr0001"
          "&RegionId=cn-hangzhou&SignatureMethod=HMAC-SHA1&SignatureNonce=b65680084034a0f7bd0dd7ed3da30bd5"
          "&SignatureVersion=1.0&Timestamp=2026-11-27T07%3A51%3A23Z&Version=2014-05-26"
          "&Signature=SI39FreCutoJczP36h5Obrf24bs%3D")
B_V1_E = ("AccessKeyId=testid&Action=AllocatePublicIpAddress&Format=JSON&InstanceId=i-bp1gtjxuuvwj17zr0001"
          "&RegionId=cn-hangzhou&SignatureMethod=HMAC-SHA1&SignatureNonce=59cbd0423d7532bbbdb52b83c869efbd"
          "&SignatureVersion=1.0&Timestamp=2026-11-27T07%3A51%3A23Z&Version=2014-05-26"
          "&Signature=Oz%2BXc1BFNqwrr6afRCguBYVDAAM%3D")
Q_GO = ("AccessKeyId=testid&Action=AllocatePublicIpAddress&Format=JSON&InstanceId=i-bp1gtjxuuvwj17zr0001"
        "&SignatureMethod=HMAC-SHA1&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureType="
        "&SignatureVersion=1.0&Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26&OwnerAccount=a+b")

# one input per rejection class of aipa/wire.h, and the edge cases it names
WIRE_EDGES = {
    "empty": "",
    "pairs-skipped": "a=1&&b=2&",
    "no-equals": "a&b=&c",
    "plus-space": "a=x+y&b=%2B",
    "bad-escape-end": "a=%",
    "bad-escape-short": "a=%4",
    "bad-escape-hex": "a=%zz",
    "escape-lower": "a=%2f%c3%a9",
    "nul": "a=%00",
    "raw-nul": "a=b\x00c",
    "bad-utf8": "a=%FF%FE",
    "overlong": "a=%C0%AF",
    "surrogate": "a=%ED%A0%80",
    "max-codepoint": "a=%F4%8F%BF%BF",
    "past-max-codepoint": "a=%F4%90%80%80",
    "empty-name": "=x",
    "empty-name-2": "a=1&=",
    "duplicate": "a=1&a=2",
    "duplicate-encoded": "a=1&%61=2",
    "name-in-escape": "%41ction=x",
    "many-equals": "a==b=c",
    "long-name": "n" * 129 + "=1",
    "long-value": "v=" + "x" * 16385,
    "many-params": "&".join("p%d=%d" % (i, i) for i in range(129)),
    "control": "a=%01%1F%7F",
}


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def case_requests():
    """(case id, step index, params) from every conformance case."""
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "conformance", "cases", "**", "*.json"), recursive=True)):
        try:
            with open(path, "rb") as f:
                case = json.load(f)
        except (ValueError, OSError):
            continue
        for i, step in enumerate(case.get("steps", [])):
            req = step.get("request")
            if isinstance(req, dict) and all(isinstance(v, str) for v in req.values()):
                out.append((case.get("id", "case"), i, req))
    return out


def qs(params):
    return "&".join(urllib.parse.quote(k, safe="-_.~") + "=" + urllib.parse.quote(v, safe="-_.~")
                    for k, v in params.items())


def slug(s):
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in s)[:80]


def gen_wire():
    captured = {"v3-a": Q_V3_A, "v3-b-awkward": Q_V3_B, "v1-c-tea": Q_V1_C, "v1-d-popcore": Q_V1_D,
                "v1-e-form": B_V1_E, "go-signaturetype": Q_GO}
    for name, q in list(captured.items()) + list(WIRE_EDGES.items()):
        write("fuzz_query", name, q)
        # fuzz_form: byte 0 = options; 0x03 = default limits, 0x83 also with query params
        write("fuzz_form", name, b"\x3f" + q.encode("utf-8", "surrogateescape"))
        write("fuzz_pct", name, b"\x01" + q.encode("utf-8", "surrogateescape"))
    write("fuzz_form", "dup-with-query", b"\xbfAction=AllocatePublicIpAddress&X=1")
    write("fuzz_form", "small-limits", b"\x40" + B_V1_E.encode())
    write("fuzz_form", "one-param", b"\x00a=1&b=2")
    write("fuzz_pct", "no-plus", b"\x00a+b%20c")
    write("fuzz_pct", "all-bytes", bytes([1]) + bytes(range(256)))
    for cid, i, req in case_requests():
        q = qs(req)
        write("fuzz_query", "case-%s-%d" % (slug(cid), i), q)
        write("fuzz_form", "case-%s-%d" % (slug(cid), i), b"\xbf" + q.encode())


GENERATORS = {"wire": gen_wire}

if __name__ == "__main__":
    only = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--only" else None
    for name, fn in GENERATORS.items():
        if only is None or only == name:
            fn()
