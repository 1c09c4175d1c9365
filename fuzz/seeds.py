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

# ---- captured requests (spec/wire.md §2.6) ----
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


def fzs(*parts):
    """Strings in the struct fz layout of fuzz_common.h: "\\\n"-separated, '\\' doubled."""
    out = b""
    for i, p in enumerate(parts):
        if isinstance(p, str):
            p = p.encode("utf-8", "surrogateescape")
        out += p.replace(b"\\", b"\\\\") + (b"\\\n" if i + 1 < len(parts) else b"")
    return out


V1_VECTOR = [("AccessKeyId", "testid"), ("Action", "AllocatePublicIpAddress"), ("Format", "JSON"),
             ("InstanceId", "i-bp1gtjxuuvwj17zr0001"), ("SignatureMethod", "HMAC-SHA1"),
             ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"), ("SignatureVersion", "1.0"),
             ("Timestamp", "2016-02-23T12:46:24Z"), ("Version", "2014-05-26")]


def gen_sign():
    def v1(name, method_post, params, secret="testsecret", tail=b"\x05\x00\x03\x07"):
        op = bytes([(len(params) << 1) | (1 if method_post else 0)])
        flat = [secret] + [x for kv in params for x in kv]
        write("fuzz_sign_v1", name, op + fzs(*flat) + b"\\\n" + tail)
    v1("vector-get", False, V1_VECTOR)
    v1("vector-post", True, V1_VECTOR)
    v1("vector-awkward", False, V1_VECTOR + [("OwnerAccount", "a b*c~d!'()+/\u00e9")])
    v1("describe-regions", False, [("AccessKeyId", "testid"), ("Action", "DescribeRegions"), ("Format", "XML"),
                                   ("SignatureMethod", "HMAC-SHA1"),
                                   ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
                                   ("SignatureVersion", "1.0"), ("Timestamp", "2016-02-23T12:46:24Z"),
                                   ("Version", "2014-05-26")])
    v1("go-empty-signaturetype", False, V1_VECTOR + [("SignatureType", "")])
    v1("signature-present", False, V1_VECTOR + [("Signature", "n+p2Y9hWVUI6T6dMgSkrl1F+DgM=")])
    v1("two-signatures", True, [("Signature", "a"), ("A", "1"), ("Signature", "b")])
    v1("empty", False, [], secret="")
    v1("binary", True, [("\x00\xff", "\x01\x80"), ("a", "")], secret="s\x7f")

    # fuzz_sign_v3: op = method | nh << 1 | nq << 4; uri, secret, akid, hash, headers, query, sel, raw auth
    empty_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    def v3(name, post, uri, headers, query, sel, raw_auth, secret="testsecret", akid="testid"):
        op = bytes([(1 if post else 0) | (len(headers) << 1) | (len(query) << 4)])
        flat = [uri, secret, akid, empty_hash] + [x for kv in headers for x in kv] + [x for kv in query for x in kv]
        write("fuzz_sign_v3", name, op + fzs(*flat) + b"\\\n" + bytes([sel]) + raw_auth.encode())
    vec_h = [("host", "ecs.aliyuncs.com"), ("x-acs-action", "AllocatePublicIpAddress"),
             ("x-acs-version", "2014-05-26"), ("x-acs-date", "2023-10-26T09:01:01Z"),
             ("x-acs-signature-nonce", "d410180a5abf7fe235dd9b74aca91fc0"), ("x-acs-content-sha256", empty_hash)]
    auth = ("ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;"
            "x-acs-signature-nonce;x-acs-version,Signature=7cd8ac92bdcb593cc63e73084d2407ab369d9d2a5c1d84e3e40bea4022b3f243")
    v3("vector", True, "/", vec_h, [("InstanceId", "i-bp1gtjxuuvwj17zr0001")], 0x3f, auth)
    cap_h = [("host", "127.0.0.1:18080"), ("x-acs-version", "2014-05-26"), ("x-acs-action", "AllocatePublicIpAddress"),
             ("x-acs-date", "2026-11-27T07:51:22Z"), ("accept", "application/json"),
             ("x-acs-content-sha256", empty_hash), ("x-acs-credentials-provider", "static_ak")]
    v3("captured-b", True, "/", cap_h,
       [("InstanceId", "i-bp1gtjxuuvwj17zr0001"), ("IpAddress", "112.124.1.2"), ("OwnerAccount", "a b*c~d!'()+/\u00e9"),
        ("OwnerId", "1234567890123"), ("ResourceOwnerAccount", "roa@x.com"), ("ResourceOwnerId", "42"), ("VlanId", "720")],
       0x6f, "ACS3-HMAC-SHA256  Credential=k , Signature=ab,SignedHeaders=host")
    v3("repeated-header", False, "/", [("X-Acs-A", " 1 "), ("x-acs-a", "\t2"), ("Host", "h")], [], 0x07,
       "ACS3-HMAC-SHA256 Credential=a,Credential=b")
    v3("bad-signed-name", False, "/", [("bad name", "v")], [], 0x01, "x")
    v3("no-signed", False, "/", [("host", "h")], [("a", "b")], 0x00, "ACS3-HMAC-SHA256 Credential=x,SignedHeaders=;,Signature=y")


def gen_model():
    # ops (fuzz_model.c): 0 create a,b,c | 2 allocate who,ip,misc | 4 release who,ip | 5 start | 6 stop
    # | 7 reboot who | 8 set_pool_free n | 9 dump/load | 10 reset | 11 edition
    run = bytes([0, 0x00, 0x02, 0x00])            # Running classic bandwidth 5
    stopped = bytes([0, 0x01, 0x02, 0x00])
    vpc_eip = bytes([0, 0x18, 0x02, 0x00])
    locked = bytes([0, 0x00, 0x06, 0x00])          # security lock
    flaky = bytes([0, 0x00, 0x02, 0x01])           # AipaNextAllocateError
    zero_bw = bytes([0, 0x00, 0x00, 0x00])
    vlan = bytes([0, 0x20, 0x02, 0x00])
    for ed in (0, 1):
        e = bytes([ed])
        write("fuzz_model", "ed%d-allocate-twice" % ed, e + run + b"\x02\x00\x00\x00" + b"\x02\x00\x00\x00")
        write("fuzz_model", "ed%d-allocate-start-release" % ed,
              e + stopped + b"\x02\x00\x00\x00\x05\x00\x04\x00\x05\x09")
        write("fuzz_model", "ed%d-rules" % ed, e + vpc_eip + locked + flaky + zero_bw + vlan +
              b"".join(bytes([2, i, 0, 0]) for i in range(6)) + b"\x02\x00\x00\x00")
        write("fuzz_model", "ed%d-exhaust" % ed, e + run * 3 + b"\x08\x01" +
              b"".join(bytes([2, i, 0, 0]) for i in range(3)) + b"\x09\x0a\x0b")
        write("fuzz_model", "ed%d-named-ip" % ed, e + run + vlan + b"\x08\x03" +
              b"\x02\x00\x09\x04\x02\x01\x01\x05\x02\x01\x02\x04\x02\x01\x03\x04\x02\x01\x04\x04\x02\x01\x19\x05")
        write("fuzz_model", "ed%d-lifecycle" % ed, e + run + stopped + b"\x05\x00\x05\x01\x06\x00\x07\x01\x07\x00\x06\x05")


STATE_FULL = {
    "Edition": "2024-12-20",
    "Pool": {"Cidrs": ["47.96.0.0/29", "47.97.0.0/31"], "FreeCount": 5},
    "Vlans": ["vlan-a", "720"],
    "Instances": [
        {"InstanceId": "i-doc-running", "Status": "Running", "InstanceNetworkType": "classic",
         "InternetMaxBandwidthOut": 5, "RegionId": "cn-hangzhou",
         "PublicIpAddress": {"IpAddress": ["47.96.0.2"]}, "AipaPublicIpEffective": True},
        {"InstanceId": "i-doc-vpc-eip", "Status": "Stopped", "InstanceNetworkType": "vpc",
         "InternetMaxBandwidthOut": 0, "RegionId": "cn-beijing",
         "EipAddress": {"IpAddress": "47.100.0.9", "AllocationId": "eip-1", "Bandwidth": 5,
                        "IsSupportUnassociate": True},
         "VlanAttributes": {"VlanId": "vlan-a"}},
        {"InstanceId": "i-doc-locked", "Status": "Running", "InstanceNetworkType": "classic",
         "InternetMaxBandwidthOut": 1, "OperationLocks": {"LockReason": [{"LockReason": "security", "LockMsg": "x"}]},
         "AipaExpired": True, "AipaCloudbox": False, "AipaDedicatedRegion": True,
         "AipaNextAllocateError": "AllocateIp.Fail"},
    ],
}


def gen_model_documents():
    """State-document mode of fuzz_model (first byte 0xf0 and above): documents to load."""
    with open(os.path.join(ROOT, "reference_impl", "state", "default.json"), "rb") as f:
        default = f.read()
    full = json.dumps(STATE_FULL).encode()
    bad = {
        "truncated": full[:len(full) // 2],
        "not-object": b"[1,2]",
        "empty": b"",
        "bad-status": full.replace(b'"Stopped"', b'"Sleeping"'),
        "bad-ip": full.replace(b"47.96.0.2", b"47.96.0.300"),
        "ip-outside-pool": full.replace(b"47.96.0.2", b"8.8.8.8"),
        "duplicate-id": full.replace(b"i-doc-vpc-eip", b"i-doc-running"),
        "bad-cidr": full.replace(b"47.96.0.0/29", b"47.96.0.0/33"),
        "bad-lock": full.replace(b'"security"', b'"nope"'),
        "bad-edition": full.replace(b"2024-12-20", b"1999-01-01"),
        "negative-bandwidth": full.replace(b'"InternetMaxBandwidthOut": 1', b'"InternetMaxBandwidthOut": -1'),
        "bad-inject": full.replace(b"AllocateIp.Fail", b"NoSuchCode"),
        "string-bandwidth": full.replace(b'"InternetMaxBandwidthOut": 5', b'"InternetMaxBandwidthOut": "5"'),
        "deep": b"[" * 2000,
    }
    for ed in (0xf0, 0xf1):
        write("fuzz_model", "doc-%x-default" % ed, bytes([ed]) + default)
        write("fuzz_model", "doc-%x-full" % ed, bytes([ed]) + full)
    for name, doc in bad.items():
        write("fuzz_model", "doc-bad-" + name, b"\xf1" + doc)
    for n in range(0, 24, 2):
        write("fuzz_model", "doc-oom-full-%d" % n, b"\xf3" + struct.pack(">H", n) + full)
    for n in range(0, 16, 3):
        write("fuzz_model", "doc-oom-default-%d" % n, b"\xf2" + struct.pack(">H", n) + default)


CAPTURED_HEADERS_V3 = [
    "host: 127.0.0.1:18080", "x-acs-version: 2014-05-26", "x-acs-action: AllocatePublicIpAddress",
    "user-agent: AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.1 TeaDSL/2"]
EMPTY_SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def srv_req(method, target, headers, body=""):
    return fzs(method, target, *headers, "", body)


def captured_requests():
    """The captured SDK requests of spec/wire.md §2.6: name -> (method, target, headers, body)."""
    a = ("POST", "/?" + Q_V3_A, CAPTURED_HEADERS_V3 + [
        "x-acs-date: 2026-11-27T07:51:21Z",
        "x-acs-signature-nonce: 5c692507df90cfef3803ed0d120d1deb10bd77c39231b6e765891efd3556b6e4",
        "accept: application/json", "x-acs-content-sha256: " + EMPTY_SHA, "x-acs-credentials-provider: static_ak",
        "Authorization: ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;"
        "x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,"
        "Signature=579d9bdc75d351be974cc9bd4707154ff224c2a67b25bbb150a1f865267ec988",
        "Connection: keep-alive", "Content-Length: 0"])
    b = ("POST", "/?" + Q_V3_B, CAPTURED_HEADERS_V3 + [
        "x-acs-date: 2026-11-27T07:51:22Z",
        "x-acs-signature-nonce: 38adbed8bc11cb8db6a5250e168454e516887c602fd622b63a97995d8fac6d81",
        "accept: application/json", "x-acs-content-sha256: " + EMPTY_SHA, "x-acs-credentials-provider: static_ak",
        "Authorization: ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;"
        "x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,"
        "Signature=253ff6c0b380548c2ea7a4c05f26fb1bfe97438ac4b1448a02704e01f9563c27",
        "Connection: keep-alive", "Content-Length: 0"])
    c = ("POST", "/?" + Q_V1_C, CAPTURED_HEADERS_V3 + ["x-acs-credentials-provider: static_ak",
                                                               "Connection: keep-alive", "Content-Length: 0"])
    d = ("GET", "/?" + Q_V1_D, ["x-sdk-client: Node.js(v20.20.2), @alicloud/pop-core: 1.8.0",
                                       "x-acs-action: AllocatePublicIpAddress", "x-acs-version: 2014-05-26",
                                       "Host: 127.0.0.1:18080", "Connection: keep-alive"])
    e = ("POST", "/", ["x-acs-action: AllocatePublicIpAddress", "x-acs-version: 2014-05-26",
                              "content-type: application/x-www-form-urlencoded", "Host: 127.0.0.1:18080",
                              "Content-Length: 308"], B_V1_E)
    return {"v3-a": a, "v3-b-all-params": b, "v1-c-tea": c, "v1-d-popcore-get": d, "v1-e-popcore-form": e}


def gen_server():
    caps = {k: srv_req(*v) for k, v in captured_requests().items()}
    d = caps["v1-d-popcore-get"]
    for name, r in caps.items():
        write("fuzz_server", "auth-" + name, b"\x00" + r)          # 2024, auth on
        write("fuzz_server", "auth-2018-" + name, b"\x02" + r)     # 2018, auth on
    write("fuzz_server", "auth-replay-nonce", b"\x00" + d + b"\\\n" + d)
    unsigned = lambda q, m="GET", h=(): srv_req(m, "/?" + q + "&Version=2014-05-26", list(h))
    flows = {
        "allocate-describe": [unsigned("Action=AllocatePublicIpAddress&InstanceId=i-aipa-running&Format=JSON"),
                              unsigned("Action=RebootInstance&InstanceId=i-aipa-running"),
                              unsigned("Action=DescribeInstances&InstanceIds=%5B%22i-aipa-running%22%5D")],
        "allocate-release": [unsigned("Action=AllocatePublicIpAddress&InstanceId=i-aipa-stopped-vpc"),
                             unsigned("Action=ReleasePublicIpAddress&InstanceId=i-aipa-running&IpAddress=47.96.0.1"),
                             unsigned("Action=StartInstance&InstanceId=i-aipa-stopped-vpc&Format=xml")],
        "errors": [unsigned("Action=AllocatePublicIpAddress&InstanceId=i-aipa-locked"),
                   unsigned("Action=AllocatePublicIpAddress&InstanceId=i-aipa-vpc-eip&IpAddress=10.0.0.1"),
                   unsigned("Action=AllocatePublicIpAddress", "POST"),
                   unsigned("Action=NoSuchAction&Format=JSON", "PUT")],
        "form-post": [srv_req("POST", "/?Format=JSON", ["Content-Type: application/x-www-form-urlencoded; charset=UTF-8"],
                              "Action=AllocatePublicIpAddress&InstanceId=i-aipa-no-bandwidth&Version=2014-05-26")],
        "describe-paging": [unsigned("Action=DescribeInstances&PageNumber=2&PageSize=3&Format=JSON"),
                            unsigned("Action=DescribeInstances&PageSize=0")],
        "bad-wire": [unsigned("Action=AllocatePublicIpAddress&InstanceId=%zz"), unsigned("a=1&a=2"),
                     srv_req("GET", "/other", [], "")],
    }
    for name, reqs in flows.items():
        write("fuzz_server", "noauth-" + name, b"\x01" + b"\\\n".join(reqs))
        write("fuzz_server", "noauth-2018-" + name, b"\x03" + b"\\\n".join(reqs))
    tok = "X-Aipa-Token: t"
    fixtures = [srv_req("POST", "/_aipa/reset", [tok]),
                srv_req("POST", "/_aipa/instances", [tok, "Content-Type: application/json"],
                        '{"Status":"Stopped","InstanceNetworkType":"vpc","InternetMaxBandwidthOut":0,'
                        '"AipaNextAllocateError":"AllocateIp.Fail"}'),
                srv_req("PUT", "/_aipa/pool", [tok], '{"Free":0}'),
                srv_req("GET", "/_aipa/state", [tok])]
    write("fuzz_server", "fixtures", b"\x05" + b"\\\n".join(fixtures))
    # the other routes: info, edition (each way and a bad one), pool refusals, method and path errors
    routes = [srv_req("GET", "/_aipa/info", [tok]),
              srv_req("PUT", "/_aipa/edition", [tok], '{"Edition":"2018-08-02"}'),
              srv_req("PUT", "/_aipa/edition", [tok], '{"Edition":"2024-12-20"}'),
              srv_req("PUT", "/_aipa/edition", [tok], '{"Edition":"1999"}')]
    write("fuzz_server", "fixtures-routes", b"\x05" + b"\\\n".join(routes))
    pool_bad = [srv_req("PUT", "/_aipa/pool", [tok], '{"Free":-1}'),
                srv_req("PUT", "/_aipa/pool", [tok], '{"Free":1.5}'),
                srv_req("PUT", "/_aipa/pool", [tok], 'not json'),
                srv_req("GET", "/_aipa/pool", [tok])]
    write("fuzz_server", "fixtures-pool-bad", b"\x05" + b"\\\n".join(pool_bad))
    inst_bad = [srv_req("POST", "/_aipa/instances", [tok], '{"InstanceId":"i-aipa-running"}'),
                srv_req("POST", "/_aipa/instances", [tok], '{"Status":"Nope"}'),
                srv_req("POST", "/_aipa/nothing", [tok]),
                srv_req("GET", "/_aipa", [tok])]
    write("fuzz_server", "fixtures-instances-bad", b"\x05" + b"\\\n".join(inst_bad))
    for n in range(0, 40, 4):
        write("fuzz_server", "oom-fixtures-routes-%d" % n, b"\xfd" + struct.pack(">H", n) + b"\\\n".join(routes))
        write("fuzz_server", "oom-fixtures-state-%d" % n, b"\xfd" + struct.pack(">H", n) +
              srv_req("GET", "/_aipa/state", [tok]))
    write("fuzz_server", "fixtures-bad-token", b"\x05" + srv_req("POST", "/_aipa/reset", ["X-Aipa-Token: x"]) +
          b"\\\n" + srv_req("GET", "/_aipa/edition", [tok]) + b"\\\n" + srv_req("PUT", "/_aipa/edition", [tok], '"2018-08-02"'))
    import re
    for cid, i, req in case_requests():
        # fixtures are not created here: every ${...} names an instance of the default state
        req = {k: re.sub(r"\$\{[^}]*\}", "i-aipa-running", v) for k, v in req.items()}
        write("fuzz_server", "case-%s-%d" % (slug(cid), i), b"\x01" + unsigned(qs(req)))
    # allocation-failure mode (byte 0 >= 0xf8, then n as two bytes): the n-th allocation fails
    oom = {"auth-v1-d": b"\x00" + d, "auth-v3-a": b"\x00" + caps["v3-a"],
           "noauth-allocate-describe": b"\x01" + b"\\\n".join(flows["allocate-describe"]),
           "noauth-form-post": b"\x01" + b"\\\n".join(flows["form-post"]),
           "noauth-errors": b"\x01" + b"\\\n".join(flows["errors"]),
           "fixtures": b"\x05" + b"\\\n".join(fixtures)}
    for name, r in oom.items():
        for n in range(0, 96, 8):
            write("fuzz_server", "oom-%s-%d" % (name, n), bytes([0xf8 | r[0]]) + struct.pack(">H", n) + r[1:])


def http_req(method, target, headers, body="", version="HTTP/1.1"):
    """A raw HTTP/1.x request (for fuzz_http): Host and Content-Length added when missing."""
    names = [h.split(":", 1)[0].strip().lower() for h in headers]
    hs = list(headers)
    if "host" not in names:
        hs.append("Host: 127.0.0.1")
    if body and "content-length" not in names and "transfer-encoding" not in names:
        hs.append("Content-Length: %d" % len(body.encode("utf-8", "surrogateescape")))
    return ("%s %s %s\r\n%s\r\n%s" % (method, target, version, "".join(h + "\r\n" for h in hs), body)).encode(
        "utf-8", "surrogateescape")


def gen_http():
    caps = captured_requests()
    for name, r in caps.items():
        write("fuzz_http", "auth-" + name, b"\x00" + http_req(*r))
        write("fuzz_http", "auth-2018-" + name, b"\x02" + http_req(*r))
    d = http_req(*caps["v1-d-popcore-get"])
    write("fuzz_http", "auth-replay-nonce-pipelined", b"\x00" + d + d)
    u = lambda q, m="GET", h=(), body="": http_req(m, "/?" + q + "&Version=2014-05-26", list(h), body)
    flows = {
        "allocate-describe": [u("Action=AllocatePublicIpAddress&InstanceId=i-aipa-running&Format=JSON"),
                              u("Action=DescribeInstances&InstanceIds=%5B%22i-aipa-running%22%5D")],
        "head-then-get": [u("Action=DescribeRegions", "HEAD"), u("Action=DescribeRegions&Format=JSON")],
        "form-post": [http_req("POST", "/?Format=JSON",
                               ["Content-Type: application/x-www-form-urlencoded; charset=UTF-8"],
                               "Action=AllocatePublicIpAddress&InstanceId=i-aipa-no-bandwidth&Version=2014-05-26")],
        "chunked-form": [http_req("POST", "/", ["Content-Type: application/x-www-form-urlencoded",
                                                "Transfer-Encoding: chunked"],
                                  "1a\r\nAction=DescribeInstances&V\r\n14\r\nersion=2014-05-26&a=b\r\n0\r\n\r\n")],
        "expect-continue": [http_req("POST", "/", ["Expect: 100-continue",
                                                   "Content-Type: application/x-www-form-urlencoded"],
                                     "Action=DescribeRegions&Version=2014-05-26")],
        "http10-close": [http_req("GET", "/?Action=DescribeRegions&Version=2014-05-26", ["Connection: close"],
                                  version="HTTP/1.0")],
        "put-delete-options": [u("Action=X", "PUT"), u("Action=X", "DELETE"), u("Action=X", "OPTIONS")],
        "bad-wire": [u("Action=AllocatePublicIpAddress&InstanceId=%zz"), u("a=1&a=2"), http_req("GET", "/other", [])],
        "many-headers": [http_req("GET", "/?Action=DescribeRegions", ["X-H%d: %d" % (i, i) for i in range(70)])],
        "long-url": [http_req("GET", "/?Action=DescribeRegions&Pad=" + "x" * 3000, [])],
        "declared-too-big": [http_req("POST", "/", ["Content-Length: 99999999"], "")],
        "body-over-limit": [http_req("POST", "/", ["Content-Type: application/x-www-form-urlencoded"],
                                     "Action=DescribeRegions&Pad=" + "y" * 700)],
        "garbage": [b"\x00\x01\x02 / HTTP/9.9\r\n\r\n".decode("latin-1")],
        "lf-only": ["GET /?Action=DescribeRegions HTTP/1.1\nHost: x\n\n"],
        "no-host": ["GET /?Action=DescribeRegions HTTP/1.1\r\n\r\n"],
        "truncated-body": ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nAction=Desc"],
        "truncated-headers": ["GET / HTTP/1.1\r\nHost: x\r\nX-A: b"],
    }
    for name, reqs in flows.items():
        raw = b"".join(r if isinstance(r, bytes) else r.encode("latin-1") for r in reqs)
        write("fuzz_http", "noauth-" + name, b"\x01" + raw)
        write("fuzz_http", "noauth-small-" + name, b"\x09" + raw)
    tok = "X-Aipa-Token: t"
    fixtures = [http_req("POST", "/_aipa/reset", [tok]),
                http_req("POST", "/_aipa/instances", [tok, "Content-Type: application/json"],
                         '{"Status":"Stopped","InstanceNetworkType":"vpc","InternetMaxBandwidthOut":0}'),
                http_req("PUT", "/_aipa/pool", [tok], '{"Free":0}'),
                http_req("GET", "/_aipa/state", [tok])]
    write("fuzz_http", "fixtures", b"\x05" + b"".join(fixtures))
    write("fuzz_http", "fixtures-bad-token", b"\x05" + http_req("POST", "/_aipa/reset", ["X-Aipa-Token: x"]))
    import re
    for cid, i, req in case_requests()[:40]:
        req = {k: re.sub(r"\$\{[^}]*\}", "i-aipa-running", v) for k, v in req.items()}
        write("fuzz_http", "case-%s-%d" % (slug(cid), i), b"\x01" + http_req(
            "POST", "/", ["Content-Type: application/x-www-form-urlencoded"], qs(req)))


def gen_render():
    # mode 0: a writer program (fuzz_render.c): op = name<<3 | kind; 0/1 string, 2 int (|0x80 bool),
    # 3 object, 4 array, 5-7 close
    def op(kind, name=0, flag=0):
        return bytes([(name << 3) | kind | flag])
    describe = (b"\x00" + bytes([0]) + op(0, 0) + fzs("F2EF6A3B-E345-46B9-931E-0EA094818567") + b"\\\n" +
                op(2, 8) + b"\x7f\xff\xff\xff" + op(3, 4) + op(4, 5) + op(3) + op(0, 9) + fzs("Running") +
                b"\\\n" + op(4, 1) + op(0) + fzs("47.96.0.1") + b"\\\n" + op(5) + op(5) + op(5) + op(5))
    write("fuzz_render", "program-describe", describe)
    write("fuzz_render", "program-awkward-text",
          b"\x00\x01" + op(0, 3) + fzs("a<b>&c\"d'e\r\n\t\x00\x01\x7f\xc3\xa9\xed\xa0\x80\xef\xbf\xbe\xff]]>"))
    write("fuzz_render", "program-empty-array", b"\x00\x02" + op(4, 1) + op(5) + op(3, 2) + op(5) + op(2, 6, 0x80) + b"\x01")
    write("fuzz_render", "program-deep", b"\x00\x03" + op(3, 6) * 12 + op(0, 7) + fzs("x"))
    for i, (a, b, c, d, e) in enumerate([
            ("540CFF28-407A-40B5-B6A5-74B000000000", "ecs.aliyuncs.com", "MissingParameter.CommandId",
             "The input parameter \u201cCommandId\u201d that is required for processing this request is not supplied.",
             "https://error-center.aliyun.com/status/search?Keyword=InvalidVersion&source=PopGw"),
            ("r", "h", "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. "
             "server string to sign is:GET&%2F&AccessKeyId%3Dtestid", "<![CDATA[x]]>")]):
        write("fuzz_render", "error-%d" % i, b"\x01\x00" + fzs(a, b, c, d, e))
    write("fuzz_render", "allocate", b"\x01\x01" + fzs("473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E", "112.124.10.20", "", "", ""))
    write("fuzz_render", "simple", b"\x01\x02" + fzs("473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E", "", "StopInstance", "", ""))


def gen_case():
    for path in sorted(glob.glob(os.path.join(ROOT, "conformance", "cases", "**", "*.json"), recursive=True)):
        rel = os.path.relpath(path, os.path.join(ROOT, "conformance", "cases"))
        with open(path, "rb") as f:
            write("fuzz_case", "case-" + slug(rel[:-5]), b"\x00" + f.read())
    for name, v in {"hex": "i-%hex[%FF%FE]hex%", "repeat": "%repeat[3 x ab%20]%", "plain": "i-aipa-running",
                    "bad-hex": "%hex[%F]hex%", "big-repeat": "%repeat[100000000 x a]%", "percent": "100%"}.items():
        write("fuzz_case", "expand-" + name, b"\x01" + v.encode())


XML_BODIES = {
    "error-doc": '<?xml version="1.0" encoding="UTF-8"?><!--Result root node-->\n<Error>\n    <RequestId>540CFF28-407A-40B5-B6A5-74B000000000</RequestId>\n'
                 '    <HostId>ecs.aliyuncs.com</HostId>\n    <Code>MissingParameter.CommandId</Code>\n'
                 '    <Message>The input parameter \u201cCommandId\u201d that is required for processing this request is not supplied.</Message>\n</Error>',
    "error-cdata": "<?xml version='1.0' encoding='UTF-8'?><Error><RequestId>93ABDCE5-4D1A-4861-B38E-D31BDC709E4B</RequestId>"
                   "<HostId>dypnsapi.aliyuncs.com</HostId><Code>InvalidVersion</Code><Message>Specified parameter Version is not valid.</Message>"
                   "<Recommend><![CDATA[https://error-center.aliyun.com/status/search?Keyword=InvalidVersion&source=PopGw]]></Recommend></Error>",
    "allocate": '<?xml version="1.0" encoding="UTF-8"?><AllocatePublicIpAddressResponse>\n      <RequestId>F2EF6A3B-E345-46B9-931E-0EA094818567</RequestId>\n'
                '      <IpAddress>112.124.10.20</IpAddress>\n</AllocatePublicIpAddressResponse>',
    "describe": '<?xml version="1.0" encoding="UTF-8"?><DescribeInstancesResponse><RequestId>473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E</RequestId>'
                '<TotalCount>2</TotalCount><PageNumber>1</PageNumber><PageSize>10</PageSize><Instances><Instance><InstanceId>i-a</InstanceId>'
                '<Status>Running</Status><PublicIpAddress><IpAddress>47.96.0.1</IpAddress></PublicIpAddress><EipAddress><IpAddress></IpAddress>'
                '</EipAddress><OperationLocks><LockReason/></OperationLocks></Instance><Instance><InstanceId>i-b</InstanceId><Status>Stopped</Status>'
                '<PublicIpAddress/></Instance></Instances></DescribeInstancesResponse>',
    "xxe": '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Error><Code>&x;</Code></Error>',
    "billion-laughs": '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                      '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><l>&c;</l>',
    "external-dtd": '<?xml version="1.0"?><!DOCTYPE Error SYSTEM "http://127.0.0.1:1/x.dtd"><Error/>',
    "entities": '<Error><Code>a&amp;b&lt;&#x41;&#65;&gt;</Code><Message>&undefined;</Message></Error>',
    "deep": "<a>" * 40 + "x" + "</a>" * 40,
    "many": "<r>" + "<i>1</i>" * 200 + "</r>",
    "mixed": "<r>text<a>1</a>more<a>2</a><b x='1'><!--c--><?pi x?></b>  </r>",
    "utf16-decl": '<?xml version="1.0" encoding="UTF-16"?><r/>',
    "bom": "\ufeff<r>1</r>",
}
JSON_BODIES = {
    "error": '{"RequestId":"6BE56E05-0000-0000-0000-000000000000","HostId":"ecs.ap-southeast-3.aliyuncs.com","Code":"InvalidImageId.NotFound",'
             '"Message":"The specified ImageId does not exist.","Recommend":"https://api.alibabacloud.com/troubleshoot?intl_lang=EN_US&q=InvalidImageId.NotFound"}',
    "error-spaced": '{"Message": "Specified parameter Version is not valid.","RequestId": "948256E2-4AFC-423B-BC4C-A367E37582FD","HostId": "ecs.aliyuncs.com","Code": "InvalidVersion"}',
    "allocate": '{\n    "RequestId": "F2EF6A3B-E345-46B9-931E-0EA094818567",\n    "IpAddress": "112.124.10.20"\n}',
    "describe": '{"RequestId":"473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E","TotalCount":1,"PageNumber":1,"PageSize":10,"Instances":{"Instance":['
                '{"InstanceId":"i-a","Status":"Running","PublicIpAddress":{"IpAddress":["47.96.0.1"]},"OperationLocks":{"LockReason":[]},'
                '"InternetMaxBandwidthOut":5,"Vpc":false,"X":null,"F":1.5e3}]}}',
    "escapes": '{"a":"\\u00e9\\ud83d\\ude00\\\"\\\\\\/\\b\\f\\n\\r\\t","b":"\\u0000","c":"\\ud800"}',
    "deep": "[" * 40 + "]" * 40,
    "trailing": '{"a":1} x',
    "bom": '\ufeff{"a":[1,2,{"b":"c"}]}',
    "numbers": '[0,-0,1e999,-1e-999,123456789012345678901234567890,0.1]',
    "scalar": '"5"',
}
PATHS = ["RequestId", "Code", "Instances.Instance[0].PublicIpAddress.IpAddress", "Instances.Instance[1].Status",
         "Instances.Instance", "[0]", "a[2].b", "a..b", "a[", "", "PublicIpAddress.IpAddress[0]", "IpAddress"]


def gen_parse():
    for i, (name, body) in enumerate(XML_BODIES.items()):
        write("fuzz_parse_xml", name, bytes([i % 4 << 2]) + fzs(PATHS[i % len(PATHS)], body))
    write("fuzz_parse_xml", "describe-small-limits", b"\x02" + fzs("Instances", XML_BODIES["describe"]))
    write("fuzz_parse_xml", "deep-limit", b"\x01" + fzs("a", XML_BODIES["deep"]))
    for i, (name, body) in enumerate(JSON_BODIES.items()):
        write("fuzz_parse_json", name, bytes([i % 4 << 2]) + fzs(PATHS[i % len(PATHS)], body))
    write("fuzz_parse_json", "deep-limit", b"\x01" + fzs("a", JSON_BODIES["deep"]))
    write("fuzz_parse_json", "small-body", b"\x03" + fzs("RequestId", JSON_BODIES["describe"]))


def gen_parse_real():
    """The recorded real bodies of tests/data/real-bodies (README.md there gives their sources)."""
    d = os.path.join(ROOT, "tests", "data", "real-bodies")
    for path in sorted(glob.glob(os.path.join(d, "*.xml")) + glob.glob(os.path.join(d, "*.json"))):
        name = os.path.basename(path)
        stem, ext = os.path.splitext(name)
        with open(path, "rb") as fh:
            body = fh.read()
        probe = "Instances.Instance[0].InstanceId" if "DescribeInstances" in stem else "Code"
        write("fuzz_parse_xml" if ext == ".xml" else "fuzz_parse_json", "real-" + stem, b"\x00" + fzs(probe, body))


GENERATORS = {"wire": gen_wire, "sign": gen_sign, "model": gen_model, "model-documents": gen_model_documents, "server": gen_server, "http": gen_http,
              "render": gen_render, "case": gen_case, "parse": gen_parse,
              "parse-real": gen_parse_real}

if __name__ == "__main__":
    only = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--only" else None
    for name, fn in GENERATORS.items():
        if only is None or only == name:
            fn()
