/*
 * Unit tests of the signatures (reference_impl/lib/src/sign.c): every vector of
 * spec/wire.md §2.2 and §2.3 byte for byte, the captured SDK requests of
 * spec/wire.md §2.6 parsed from their raw bytes with the wire parser and verified, one-byte
 * tampering of every signed input, Authorization header parsing, and the
 * strict timestamp form.
 */
#define _DEFAULT_SOURCE /* timegm (the test oracle only) */

/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
// clang-format off
#include <cmocka.h>
// clang-format on
#include "aipa/common.h"
#include "aipa/errors.h"
#include "aipa/sign.h"
#include "aipa/wire.h"
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PLUS   AIPA_WIRE_PLUS_IS_SPACE
#define SECRET "testsecret"

/* ---- expected texts, copied from the spec ---- */

/* spec/wire.md §2.6 (a), verbatim, CRLF line ends. */
static const char capture_a[] =
    "POST /?InstanceId=i-bp1gtjxuuvwj17zr0001 HTTP/1.1\r\n"
    "host: 127.0.0.1:18080\r\n"
    "x-acs-version: 2014-05-26\r\n"
    "x-acs-action: AllocatePublicIpAddress\r\n"
    "user-agent: AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.1 TeaDSL/2\r\n"
    "x-acs-date: 2026-11-27T07:51:21Z\r\n"
    "x-acs-signature-nonce: 5c692507df90cfef3803ed0d120d1deb10bd77c39231b6e765891efd3556b6e4\r\n"
    "accept: application/json\r\n"
    "x-acs-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\r\n"
    "x-acs-credentials-provider: static_ak\r\n"
    "Authorization: ACS3-HMAC-SHA256 "
    "Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-credentials-"
    "provider;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature="
    "579d9bdc75d351be974cc9bd4707154ff224c2a67b25bbb150a1f865267ec988\r\n"
    "Connection: keep-alive\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

/* spec/wire.md §2.6 (b), verbatim, CRLF line ends. */
static const char capture_b[] =
    "POST "
    "/?InstanceId=i-bp1gtjxuuvwj17zr0001&IpAddress=112.124.1.2&OwnerAccount=a%20b*c~d!%27()%2B%2F%"
    "C3%A9&OwnerId=1234567890123&ResourceOwnerAccount=roa%40x.com&ResourceOwnerId=42&VlanId=720 "
    "HTTP/1.1\r\n"
    "host: 127.0.0.1:18080\r\n"
    "x-acs-version: 2014-05-26\r\n"
    "x-acs-action: AllocatePublicIpAddress\r\n"
    "user-agent: AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.1 TeaDSL/2\r\n"
    "x-acs-date: 2026-11-27T07:51:22Z\r\n"
    "x-acs-signature-nonce: 38adbed8bc11cb8db6a5250e168454e516887c602fd622b63a97995d8fac6d81\r\n"
    "accept: application/json\r\n"
    "x-acs-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\r\n"
    "x-acs-credentials-provider: static_ak\r\n"
    "Authorization: ACS3-HMAC-SHA256 "
    "Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-credentials-"
    "provider;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature="
    "253ff6c0b380548c2ea7a4c05f26fb1bfe97438ac4b1448a02704e01f9563c27\r\n"
    "Connection: keep-alive\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

/* spec/wire.md §2.6 (c), verbatim, CRLF line ends. */
static const char capture_c[] =
    "POST "
    "/?Action=AllocatePublicIpAddress&Format=json&Version=2014-05-26&Timestamp=2026-11-27T07%3A51%"
    "3A23Z&SignatureNonce=b459be194ebe2a3a255ede8fa3ae662d84f8bfdff2d3ecdb614d259586ed4271&"
    "InstanceId=i-bp1gtjxuuvwj17zr0001&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&AccessKeyId="
    "testid&Signature=YrUmtZmodh%2BT1ShLZzBkOEEY%2Fio%3D HTTP/1.1\r\n"
    "host: 127.0.0.1:18080\r\n"
    "x-acs-version: 2014-05-26\r\n"
    "x-acs-action: AllocatePublicIpAddress\r\n"
    "user-agent: AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.1 TeaDSL/2\r\n"
    "x-acs-credentials-provider: static_ak\r\n"
    "Connection: keep-alive\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

/* spec/wire.md §2.6 (d), verbatim, CRLF line ends. */
static const char capture_d[] =
    "GET "
    "/?AccessKeyId=testid&Action=AllocatePublicIpAddress&Format=JSON&InstanceId=i-"
    "bp1gtjxuuvwj17zr0001&RegionId=cn-hangzhou&SignatureMethod=HMAC-SHA1&SignatureNonce="
    "b65680084034a0f7bd0dd7ed3da30bd5&SignatureVersion=1.0&Timestamp=2026-11-27T07%3A51%3A23Z&"
    "Version=2014-05-26&Signature=SI39FreCutoJczP36h5Obrf24bs%3D HTTP/1.1\r\n"
    "x-sdk-client: Node.js(v20.20.2), @alicloud/pop-core: 1.8.0\r\n"
    "user-agent: AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.8.0\r\n"
    "x-acs-action: AllocatePublicIpAddress\r\n"
    "x-acs-version: 2014-05-26\r\n"
    "Host: 127.0.0.1:18080\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";

/* spec/wire.md §2.6 (e), verbatim, CRLF line ends. */
static const char capture_e[] =
    "POST / HTTP/1.1\r\n"
    "x-sdk-client: Node.js(v20.20.2), @alicloud/pop-core: 1.8.0\r\n"
    "user-agent: AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.8.0\r\n"
    "x-acs-action: AllocatePublicIpAddress\r\n"
    "x-acs-version: 2014-05-26\r\n"
    "content-type: application/x-www-form-urlencoded\r\n"
    "Host: 127.0.0.1:18080\r\n"
    "Connection: keep-alive\r\n"
    "Content-Length: 308\r\n"
    "\r\n"
    "AccessKeyId=testid&Action=AllocatePublicIpAddress&Format=JSON&InstanceId=i-"
    "bp1gtjxuuvwj17zr0001&RegionId=cn-hangzhou&SignatureMethod=HMAC-SHA1&SignatureNonce="
    "59cbd0423d7532bbbdb52b83c869efbd&SignatureVersion=1.0&Timestamp=2026-11-27T07%3A51%3A23Z&"
    "Version=2014-05-26&Signature=Oz%2BXc1BFNqwrr6afRCguBYVDAAM%3D";

/* spec/wire.md §2.6 (a), the verify block: CanonicalRequest (LF line ends, no final LF). */
static const char capture_a_canonical[] =
    "POST\n"
    "/\n"
    "InstanceId=i-bp1gtjxuuvwj17zr0001\n"
    "host:127.0.0.1:18080\n"
    "x-acs-action:AllocatePublicIpAddress\n"
    "x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
    "x-acs-credentials-provider:static_ak\n"
    "x-acs-date:2026-11-27T07:51:21Z\n"
    "x-acs-signature-nonce:5c692507df90cfef3803ed0d120d1deb10bd77c39231b6e765891efd3556b6e4\n"
    "x-acs-version:2014-05-26\n"
    "\n"
    "host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-"
    "nonce;x-acs-version\n"
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static const char capture_a_sts[] =
    "ACS3-HMAC-SHA256\n"
    "401f2840c23ec556c07224174b888f6e70e685288b09f68b50a14649188a725b";

/* spec/wire.md §2.6 (b), the canonical query line. */
static const char capture_b_query[] =
    "InstanceId=i-bp1gtjxuuvwj17zr0001&IpAddress=112.124.1.2&OwnerAccount=a%20b%2Ac~d%21%27%28%29%"
    "2B%2F%C3%A9&OwnerId=1234567890123&ResourceOwnerAccount=roa%40x.com&ResourceOwnerId=42&VlanId="
    "720";

/* spec/wire.md §2.6 (c), StringToSign. */
static const char capture_c_sts[] =
    "POST&%2F&AccessKeyId%3Dtestid%26Action%3DAllocatePublicIpAddress%26Format%3Djson%26InstanceId%"
    "3Di-bp1gtjxuuvwj17zr0001%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%"
    "3Db459be194ebe2a3a255ede8fa3ae662d84f8bfdff2d3ecdb614d259586ed4271%26SignatureVersion%3D1.0%"
    "26Timestamp%3D2026-11-27T07%253A51%253A23Z%26Version%3D2014-05-26";

/* spec/wire.md §2.6 (d), StringToSign. */
static const char capture_d_sts[] =
    "GET&%2F&AccessKeyId%3Dtestid%26Action%3DAllocatePublicIpAddress%26Format%3DJSON%26InstanceId%"
    "3Di-bp1gtjxuuvwj17zr0001%26RegionId%3Dcn-hangzhou%26SignatureMethod%3DHMAC-SHA1%"
    "26SignatureNonce%3Db65680084034a0f7bd0dd7ed3da30bd5%26SignatureVersion%3D1.0%26Timestamp%"
    "3D2026-11-27T07%253A51%253A23Z%26Version%3D2014-05-26";

/* spec/wire.md §2.2, the DescribeRegions doc vector's StringToSign. */
static const char doc_sts[] =
    "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%"
    "3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%"
    "26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26";

/* spec/wire.md §2.2, StringToSign of the awkward OwnerAccount vector. */
static const char awkward_sts[] =
    "GET&%2F&AccessKeyId%3Dtestid%26Action%3DAllocatePublicIpAddress%26Format%3DJSON%26InstanceId%"
    "3Di-bp1gtjxuuvwj17zr0001%26OwnerAccount%3Da%2520b%252Ac~d%2521%2527%2528%2529%252B%252F%25C3%"
    "25A9%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%"
    "26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26";

/*
 * Differential V1 vectors: random parameters (awkward ASCII, multibyte
 * UTF-8, tabs), written on the wire by Python's urllib (quote, or
 * urlencode with '+' for space), signed by Python's urllib.parse.quote
 * (safe='-_.~') and hmac, independently of this code.
 */
static const struct {
    const char *method;
    const char *query;
    const char *secret;
    const char *sts;
    const char *sig;
} v1_diff[] = {
    {"GET",
     "SignatureNonce=0%2A%3D0%C3%A9%09%5C&SignatureType=Z9&OwnerAccount=%60%7D%09%7B%28%3E0&"
     "OwnerId=0%3E%21%5E%2A%3A%27%2B&B=%5B%5E%20%3C&RegionId=%21%29%5E%60.%C2%A0%28.%20%23&"
     "InstanceId=_%5C%2A%7D_-Z%C2%A0%E2%82%AC0&VlanId=%2F%28%24%22&Action=%27%21a_%E2%82%AC%23~%5C%"
     "7B&Format=%3E%29%25%5D%2F%27..",
     "0"
     "\xf0"
     "\x9f"
     "\x98"
     "\x80"
     ")0"
     "\xc3"
     "\xa9"
     "-%"
     "\xc2"
     "\xa0"
     "9|/",
     "GET&%2F&Action%3D%2527%2521a_%25E2%2582%25AC%2523~%255C%257B%26B%3D%255B%255E%2520%253C%"
     "26Format%3D%253E%2529%2525%255D%252F%2527..%26InstanceId%3D_%255C%252A%257D_-Z%25C2%25A0%"
     "25E2%2582%25AC0%26OwnerAccount%3D%2560%257D%2509%257B%2528%253E0%26OwnerId%3D0%253E%2521%"
     "255E%252A%253A%2527%252B%26RegionId%3D%2521%2529%255E%2560.%25C2%25A0%2528.%2520%2523%"
     "26SignatureNonce%3D0%252A%253D0%25C3%25A9%2509%255C%26SignatureType%3DZ9%26VlanId%3D%252F%"
     "2528%2524%2522",
     "cottuFGhbzfyuaghajfJSA+xcLc="},
    {"POST",
     "SignatureType=%C3%A9%2B%3A%3F&Action=-%7B%40%3C&a=%090%5B.%2A%23%2A%7D%3B&b.c=%3C%22&"
     "OwnerAccount=%22%7C%7B%22%40%3A+&Timestamp=&Version=%5C%25%60%29%21%2F%5E%3C__%2B%60",
     ">+"
     "\xc3"
     "\xa9",
     "POST&%2F&Action%3D-%257B%2540%253C%26OwnerAccount%3D%2522%257C%257B%2522%2540%253A%2520%"
     "26SignatureType%3D%25C3%25A9%252B%253A%253F%26Timestamp%3D%26Version%3D%255C%2525%2560%2529%"
     "2521%252F%255E%253C__%252B%2560%26a%3D%25090%255B.%252A%2523%252A%257D%253B%26b.c%3D%253C%"
     "2522",
     "Sscd9H0q8ECXP3YK0jIiuRv/0f4="},
    {"POST",
     "SignatureMethod=%7B%7C%40%E4%B8%AD%23%7C%60&Timestamp=%5DZ%25%5E%60.%3D%E4%B8%AD%7D%E2%82%AC%"
     "2F%20",
     "+ ",
     "POST&%2F&SignatureMethod%3D%257B%257C%2540%25E4%25B8%25AD%2523%257C%2560%26Timestamp%3D%"
     "255DZ%2525%255E%2560.%253D%25E4%25B8%25AD%257D%25E2%2582%25AC%252F%2520",
     "05qHJXZpGUcJQhTiKjFZRHrhnaA="},
    {"GET",
     "Format=%2Aa%2B90%22Z%5D%28%5D%5D&VlanId=%2F%7B%28-%E4%B8%AD%3F%3E&b.c=&OwnerId=%C2%A0a%C2%A0%"
     "3D%21%3F%C2%A0&B=%7B%40Z%5E%C3%A9&a=9&SignatureVersion=%3E&OwnerAccount=%3A%7C%26%C3%A9%2B_~&"
     "IpAddress=a",
     "*:{9",
     "GET&%2F&B%3D%257B%2540Z%255E%25C3%25A9%26Format%3D%252Aa%252B90%2522Z%255D%2528%255D%255D%"
     "26IpAddress%3Da%26OwnerAccount%3D%253A%257C%2526%25C3%25A9%252B_~%26OwnerId%3D%25C2%25A0a%"
     "25C2%25A0%253D%2521%253F%25C2%25A0%26SignatureVersion%3D%253E%26VlanId%3D%252F%257B%2528-%"
     "25E4%25B8%25AD%253F%253E%26a%3D9%26b.c%3D",
     "tMYgkVcE5aKzalkNbIt2HLuL5M4="},
    {"POST",
     "a=%27%F0%9F%98%80-%F0%9F%98%80%25%260%F0%9F%98%80&OwnerAccount=%09%28&SignatureMethod=%3A%E4%"
     "B8%AD%E2%82%AC&Version=%26%3E.%E2%82%AC%21%3F%26%3F&b.c=%E4%B8%AD%3F%2B%2C%E2%82%AC%28~-%3E&"
     "B=%21%F0%9F%98%80%5D%3C%5C%3E%09%25&AccessKeyId=Z%27.%E2%82%AC%7D%3F%7D%E4%B8%ADZ&Action=-%"
     "C3%A9%21%3A%60_%C2%A0%09_%220&InstanceId=9%29%7D%26%240&SignatureVersion=%28",
     "[! ]*~#"
     "\xc2"
     "\xa0"
     "|/$)*%",
     "POST&%2F&AccessKeyId%3DZ%2527.%25E2%2582%25AC%257D%253F%257D%25E4%25B8%25ADZ%26Action%3D-%"
     "25C3%25A9%2521%253A%2560_%25C2%25A0%2509_%25220%26B%3D%2521%25F0%259F%2598%2580%255D%253C%"
     "255C%253E%2509%2525%26InstanceId%3D9%2529%257D%2526%25240%26OwnerAccount%3D%2509%2528%"
     "26SignatureMethod%3D%253A%25E4%25B8%25AD%25E2%2582%25AC%26SignatureVersion%3D%2528%26Version%"
     "3D%2526%253E.%25E2%2582%25AC%2521%253F%2526%253F%26a%3D%2527%25F0%259F%2598%2580-%25F0%259F%"
     "2598%2580%2525%25260%25F0%259F%2598%2580%26b.c%3D%25E4%25B8%25AD%253F%252B%252C%25E2%2582%"
     "25AC%2528~-%253E",
     "iEyeiknacS3fMAYc9z6int6QF8k="},
    {"POST",
     "SignatureType=%26&SignatureMethod=-%2C9%25&OwnerId=%20%5E&x_y=~%29&Version=-%F0%9F%98%80%22%"
     "20.&Action=-&B=%24%29%26",
     "\xc3"
     "\xa9"
     "$"
     "\xc3"
     "\xa9"
     "] ([>{{/)a^$*",
     "POST&%2F&Action%3D-%26B%3D%2524%2529%2526%26OwnerId%3D%2520%255E%26SignatureMethod%3D-%252C9%"
     "2525%26SignatureType%3D%2526%26Version%3D-%25F0%259F%2598%2580%2522%2520.%26x_y%3D~%2529",
     "AzfOve4psp9SrZ1icphKhluQvyI="},
    {"GET",
     "Format=%5D%E2%82%AC%E2%82%ACZ%C3%A9%3B%3E%23%E2%82%AC.%3A&SignatureMethod=%25%3D%C2%A0%2F%7D%"
     "60a%60%2B%E4%B8%AD-%7B&SignatureNonce=%F0%9F%98%80%2B%60%24%F0%9F%98%80%60-_-&Timestamp=%3C%"
     "E2%82%AC%2B%5D+%7D%F0%9F%98%80a",
     "'%+.~;^"
     "\xf0"
     "\x9f"
     "\x98"
     "\x80",
     "GET&%2F&Format%3D%255D%25E2%2582%25AC%25E2%2582%25ACZ%25C3%25A9%253B%253E%2523%25E2%2582%"
     "25AC.%253A%26SignatureMethod%3D%2525%253D%25C2%25A0%252F%257D%2560a%2560%252B%25E4%25B8%25AD-"
     "%257B%26SignatureNonce%3D%25F0%259F%2598%2580%252B%2560%2524%25F0%259F%2598%2580%2560-_-%"
     "26Timestamp%3D%253C%25E2%2582%25AC%252B%255D%2520%257D%25F0%259F%2598%2580a",
     "X98oedr0iO8Wkh9ZqIC/EmMUuRg="},
    {"GET",
     "Version=%29~a%3F%5E.%E2%82%AC&Timestamp=&SignatureMethod=%2B%2A9%5C.%20%5C%28%3C&"
     "OwnerAccount=%3E%21%260%60&RegionId=&Format=.%3B%E4%B8%AD%20%5E_%E4%B8%AD%3EZ%2C%259&B=%2B_%"
     "3A%09-&VlanId=%3C%2A%29%3C%3B%22%F0%9F%98%80%24%5C&SignatureVersion=%20%200%3C%2C0%F0%9F%98%"
     "80&x_y=%7B%40-_%3A",
     "\xc3"
     "\xa9"
     "`!&%=-|{(%a]<"
     "\xc3"
     "\xa9"
     "=0+",
     "GET&%2F&B%3D%252B_%253A%2509-%26Format%3D.%253B%25E4%25B8%25AD%2520%255E_%25E4%25B8%25AD%"
     "253EZ%252C%25259%26OwnerAccount%3D%253E%2521%25260%2560%26RegionId%3D%26SignatureMethod%3D%"
     "252B%252A9%255C.%2520%255C%2528%253C%26SignatureVersion%3D%2520%25200%253C%252C0%25F0%259F%"
     "2598%2580%26Timestamp%3D%26Version%3D%2529~a%253F%255E.%25E2%2582%25AC%26VlanId%3D%253C%252A%"
     "2529%253C%253B%2522%25F0%259F%2598%2580%2524%255C%26x_y%3D%257B%2540-_%253A",
     "e0LvSmyx2lSVLKfvrFAAA4oeH5M="},
    {"POST", "IpAddress=%5C%23%3E",
     "\xe4"
     "\xb8"
     "\xad"
     "/"
     "\xe4"
     "\xb8"
     "\xad"
     "\xc3"
     "\xa9"
     "@"
     "\xe4"
     "\xb8"
     "\xad"
     "= ~"
     "\xf0"
     "\x9f"
     "\x98"
     "\x80"
     "^",
     "POST&%2F&IpAddress%3D%255C%2523%253E", "SRrvOL0wUchrkvVmJE7A7MMZ/KA="},
    {"GET",
     "Format=%22%E2%82%AC%29&SignatureType=+&B=%C2%A0~%27%F0%9F%98%80%21%E2%82%AC%C2%A09%2B&a=%2F%"
     "3D%C3%A9%239%7D%239%3E",
     "\xf0"
     "\x9f"
     "\x98"
     "\x80",
     "GET&%2F&B%3D%25C2%25A0~%2527%25F0%259F%2598%2580%2521%25E2%2582%25AC%25C2%25A09%252B%"
     "26Format%3D%2522%25E2%2582%25AC%2529%26SignatureType%3D%2520%26a%3D%252F%253D%25C3%25A9%"
     "25239%257D%25239%253E",
     "G7/sXl7OQKZhe9us2JTIkRDu3+Q="},
};

/* Differential V3 vectors: as above, with random headers, body and query. */
static const struct {
    const char *method;
    const char *query;
    const char *headers; /* "name: value\r\n" lines */
    const char *body;
    const char *secret;
    const char *signed_headers;
    const char *sig;
} v3_diff[] = {
    {"GET", "",
     "host: 127.0.0.1:29474"
     "\x0d"
     "\x0a"
     "x-acs-action: AllocatePublicIpAddress"
     "\x0d"
     "\x0a"
     "x-acs-version: 2014-05-26"
     "\x0d"
     "\x0a"
     "x-acs-date: 2026-11-27T07:51:11Z"
     "\x0d"
     "\x0a"
     "x-acs-signature-nonce: ef17c17f4fe23075810a09473c705101"
     "\x0d"
     "\x0a"
     "x-acs-content-sha256: fc0a9062838852e6ce7c95f7692b9779129790ca6625062b7d446a0149db755e"
     "\x0d"
     "\x0a"
     "content-type: application/octet-stream"
     "\x0d"
     "\x0a",
     ",:/"
     "\xe4"
     "\xb8"
     "\xad"
     "^9@|9",
     "*)$-'=]_}-+]?",
     "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-"
     "version",
     "b5e457df2dbe9709d8a6e53271c3acd3e9aa6278621d1fa7eeb5ea60aa158342"},
    {"POST", "IpAddress=%24%3E%3A%5E%27",
     "host: 127.0.0.1:18420"
     "\x0d"
     "\x0a"
     "x-acs-action: AllocatePublicIpAddress"
     "\x0d"
     "\x0a"
     "x-acs-version: 2014-05-26"
     "\x0d"
     "\x0a"
     "x-acs-date: 2026-11-27T07:51:55Z"
     "\x0d"
     "\x0a"
     "x-acs-signature-nonce: 0055aeb3f2c492308b4c65d6fa1fa1dc"
     "\x0d"
     "\x0a"
     "x-acs-content-sha256: 956289cd1f0183781a8da61acce84959566a1f57f319beecb47ef13993cf34fc"
     "\x0d"
     "\x0a"
     "content-type: application/octet-stream"
     "\x0d"
     "\x0a",
     "/ ("
     "\x09"
     "%"
     "\xc2"
     "\xa0"
     "ZZ?"
     "\xf0"
     "\x9f"
     "\x98"
     "\x80"
     "`="
     "\xc3"
     "\xa9"
     "[=&,)"
     "\x09",
     "9"
     "\xe2"
     "\x82"
     "\xac"
     "!$~&"
     "\x22"
     "^"
     "\x22"
     "}/~9Z",
     "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-"
     "version",
     "f68a10e26530a6e9f86df355572df123f617bf474258d49515744940887a5a56"},
    {"GET", "VlanId=%09%23%C2%A0%3E_",
     "host: 127.0.0.1:21421"
     "\x0d"
     "\x0a"
     "x-acs-action: AllocatePublicIpAddress"
     "\x0d"
     "\x0a"
     "x-acs-version: 2014-05-26"
     "\x0d"
     "\x0a"
     "x-acs-date: 2026-11-27T07:51:18Z"
     "\x0d"
     "\x0a"
     "x-acs-signature-nonce: c8f8cdcd906e607eab4ef5371a7ec988"
     "\x0d"
     "\x0a"
     "x-acs-content-sha256: cae0ada39372fcbb6fbd5d8de65d02fd31bec82c88e5544a8aa79cd84858d702"
     "\x0d"
     "\x0a"
     "content-type: application/octet-stream"
     "\x0d"
     "\x0a",
     "\x09"
     "={"
     "\xc2"
     "\xa0"
     "\xc2"
     "\xa0"
     "0[{"
     "\x22"
     "@'a':<#.",
     "~",
     "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-"
     "version",
     "da3870bb443ec938fd2f9befe783a35ae6d45c351d6a3925d9bc3a9cab9becf8"},
    {"POST", "OwnerAccount=%5E",
     "host: 127.0.0.1:54611"
     "\x0d"
     "\x0a"
     "x-acs-action: AllocatePublicIpAddress"
     "\x0d"
     "\x0a"
     "x-acs-version: 2014-05-26"
     "\x0d"
     "\x0a"
     "x-acs-date: 2026-11-27T07:51:37Z"
     "\x0d"
     "\x0a"
     "x-acs-signature-nonce: 037f5933f567a279c195702011da8e21"
     "\x0d"
     "\x0a"
     "x-acs-content-sha256: 84b2424da7b381977f266e41c1205a13b84829263d9a6439a3303ba83bf53d2f"
     "\x0d"
     "\x0a",
     "\xc3"
     "\xa9"
     "["
     "\xe2"
     "\x82"
     "\xac"
     "=! }0{;0"
     "\xc2"
     "\xa0"
     ",@.+"
     "\xe4"
     "\xb8"
     "\xad",
     "])(>a[&<",
     "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version",
     "5545945e3105ef19b2c011353ee8d9a95d9aeab64cecd0f3bbd70efa5959bdc9"},
    {"GET", "IpAddress=9a%7D%C2%A0%2C",
     "host: 127.0.0.1:25892"
     "\x0d"
     "\x0a"
     "x-acs-action: AllocatePublicIpAddress"
     "\x0d"
     "\x0a"
     "x-acs-version: 2014-05-26"
     "\x0d"
     "\x0a"
     "x-acs-date: 2026-11-27T07:51:41Z"
     "\x0d"
     "\x0a"
     "x-acs-signature-nonce: 8cb359c8cdf8712180234c70c5d2cc27"
     "\x0d"
     "\x0a"
     "x-acs-content-sha256: f78fe006de328c63e98fd6d1660db899b7ba7cd449f185b08e12ef8b47d1ae5f"
     "\x0d"
     "\x0a",
     "'@)@"
     "\xe2"
     "\x82"
     "\xac"
     "($@!^&)/~]<~>",
     "@#,"
     "\x22"
     "]"
     "\xe4"
     "\xb8"
     "\xad"
     "={{'}+",
     "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version",
     "d5da30e37939eef47a13d817ddde6e4c050f6910e6c11f4130a29b9c35a06d25"},
    {"GET", "",
     "host: 127.0.0.1:19471"
     "\x0d"
     "\x0a"
     "x-acs-action: AllocatePublicIpAddress"
     "\x0d"
     "\x0a"
     "x-acs-version: 2014-05-26"
     "\x0d"
     "\x0a"
     "x-acs-date: 2026-11-27T07:51:09Z"
     "\x0d"
     "\x0a"
     "x-acs-signature-nonce: 967034388810ec9284ef5a8b9134bf7d"
     "\x0d"
     "\x0a"
     "x-acs-content-sha256: c4cc90ed3d26f12d4b08a75140970a7904035c31cbb4515a83f19b9003c00d1d"
     "\x0d"
     "\x0a"
     "content-type: application/octet-stream"
     "\x0d"
     "\x0a",
     "\xe2"
     "\x82"
     "\xac",
     ".9&.@",
     "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-"
     "version",
     "cda8352e4902d921d5fe6b62bf563eee6ffeb6779404761644baec509d0cab9c"},
};

/* ---- a raw HTTP/1.1 request, split just enough to verify it ---- */

#define RAW_MAX_HEADERS 32

struct raw_req {
    char method[8];
    struct aipa_header headers[RAW_MAX_HEADERS];
    size_t header_count;
    const uint8_t *body;
    size_t body_len;
    struct aipa_params query;  /* the URL query alone (what V3 signs) */
    struct aipa_params params; /* query and form body together (what V1 signs) */
};

static const struct aipa_header *raw_header(const struct raw_req *r, const char *name)
{
    for (size_t i = 0; i < r->header_count; i++) {
        if (aipa_slice_eq_ci(r->headers[i].name, name)) {
            return &r->headers[i];
        }
    }
    return NULL;
}

static const uint8_t *find_crlf(const uint8_t *p, const uint8_t *end)
{
    for (; p + 1 < end; p++) {
        if (p[0] == '\r' && p[1] == '\n') {
            return p;
        }
    }
    return NULL;
}

/* Splits text (which must outlive r) and parses query and form body. */
static void raw_parse(const char *text, size_t n, struct raw_req *r)
{
    const uint8_t *p = (const uint8_t *)text;
    const uint8_t *end = p + n;
    const uint8_t *eol = find_crlf(p, end);
    const uint8_t *sp1;
    const uint8_t *sp2;
    const uint8_t *qm;
    const struct aipa_header *ct;
    struct aipa_wire_result res;

    memset(r, 0, sizeof(*r));
    aipa_params_init(&r->query, NULL);
    aipa_params_init(&r->params, NULL);
    assert_non_null(eol);
    sp1 = memchr(p, ' ', (size_t)(eol - p));
    assert_non_null(sp1);
    sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
    assert_non_null(sp2);
    assert_true((size_t)(sp1 - p) < sizeof(r->method));
    memcpy(r->method, p, (size_t)(sp1 - p));
    /* headers */
    p = eol + 2;
    while ((eol = find_crlf(p, end)) != p) {
        const uint8_t *colon;

        assert_non_null(eol);
        assert_true(r->header_count < RAW_MAX_HEADERS);
        colon = memchr(p, ':', (size_t)(eol - p));
        assert_non_null(colon);
        r->headers[r->header_count].name = (struct aipa_slice){p, (size_t)(colon - p)};
        /* the value keeps its leading space: the canonicaliser trims */
        r->headers[r->header_count].value =
            (struct aipa_slice){colon + 1, (size_t)(eol - colon - 1)};
        r->header_count++;
        p = eol + 2;
    }
    r->body = p + 2;
    r->body_len = (size_t)(end - r->body);
    /* query: everything after '?' in the target */
    qm = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
    if (qm != NULL) {
        size_t qlen = (size_t)(sp2 - qm - 1);

        assert_int_equal(aipa_wire_parse(qm + 1, qlen, PLUS, AIPA_PARAM_QUERY, &r->query, &res),
                         AIPA_OK);
        assert_int_equal(aipa_wire_parse(qm + 1, qlen, PLUS, AIPA_PARAM_QUERY, &r->params, &res),
                         AIPA_OK);
    }
    ct = raw_header(r, "content-type");
    if (ct != NULL) {
        struct aipa_slice v = ct->value;

        while (v.len > 0 && v.ptr[0] == ' ') {
            v.ptr++;
            v.len--;
        }
        if (aipa_slice_eq_ci(v, "application/x-www-form-urlencoded")) {
            assert_int_equal(
                aipa_wire_parse(r->body, r->body_len, PLUS, AIPA_PARAM_BODY, &r->params, &res),
                AIPA_OK);
        }
    }
}

static void raw_cleanup(struct raw_req *r)
{
    aipa_params_cleanup(&r->query);
    aipa_params_cleanup(&r->params);
}

/* V1: the StringToSign is expected_sts (when given) and the sent Signature matches. */
static void check_v1_capture(const char *text, size_t n, const char *expected_sts,
                             const char *expected_sig)
{
    struct raw_req r;
    struct aipa_buf sts;
    bool match = false;

    raw_parse(text, n, &r);
    assert_null(raw_header(&r, "authorization"));
    aipa_buf_init(&sts, 1u << 16);
    assert_int_equal(aipa_v1_verify(r.method, &r.params, SECRET, &sts, &match), AIPA_OK);
    if (expected_sts != NULL) {
        assert_string_equal(sts.ptr, expected_sts);
    }
    assert_string_equal(aipa_params_value(&r.params, "Signature"), expected_sig);
    assert_true(match);
    /* The same request with the other method does not verify. */
    assert_int_equal(aipa_v1_verify(strcmp(r.method, "GET") == 0 ? "POST" : "GET", &r.params,
                                    SECRET, &sts, &match),
                     AIPA_OK);
    assert_false(match);
    aipa_buf_cleanup(&sts);
    raw_cleanup(&r);
}

/* V3: parse Authorization, check the payload hash, verify; returns the canonical request. */
static void check_v3_capture(const char *text, size_t n, struct aipa_buf *canonical,
                             struct aipa_buf *sts)
{
    struct raw_req r;
    const struct aipa_header *authz;
    const struct aipa_header *content_hash;
    struct aipa_v3_auth a;
    char body_hash[AIPA_SHA256_HEX_LEN + 1];
    bool match = false;

    raw_parse(text, n, &r);
    authz = raw_header(&r, "authorization");
    assert_non_null(authz);
    assert_int_equal(aipa_v3_parse_authorization(authz->value.ptr, authz->value.len, &a), AIPA_OK);
    assert_true(aipa_slice_eq(a.algorithm, "ACS3-HMAC-SHA256"));
    assert_true(aipa_slice_eq(a.credential, "testid"));
    assert_int_equal(aipa_sha256_hex(r.body, r.body_len, body_hash), AIPA_OK);
    content_hash = raw_header(&r, "x-acs-content-sha256");
    assert_non_null(content_hash);
    assert_true(aipa_slice_eq(content_hash->value, " " AIPA_EMPTY_SHA256_HEX));
    assert_string_equal(body_hash, AIPA_EMPTY_SHA256_HEX);
    assert_int_equal(aipa_v3_verify(r.method, "/", &r.query, r.headers, r.header_count, &a,
                                    body_hash, SECRET, sts, &match),
                     AIPA_OK);
    assert_true(match);
    assert_int_equal(aipa_v3_canonical_request(r.method, "/", &r.query, r.headers, r.header_count,
                                               a.signed_headers, body_hash, canonical),
                     AIPA_OK);
    /* A wrong secret does not verify. */
    assert_int_equal(aipa_v3_verify(r.method, "/", &r.query, r.headers, r.header_count, &a,
                                    body_hash, "testsecreT", NULL, &match),
                     AIPA_OK);
    assert_false(match);
    raw_cleanup(&r);
}

/* ---- spec/wire.md §2.2: V1 vectors ---- */

static void add_all(struct aipa_params *p, const char *const *kv, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        assert_int_equal(aipa_params_add_cstr(p, kv[i], kv[i + 1]), AIPA_OK);
    }
}

static void v1_doc_vector_describe_regions(void **state)
{
    static const char q[] =
        "AccessKeyId=testid&Action=DescribeRegions&Format=XML&SignatureMethod=HMAC-SHA1&"
        "SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0&"
        "Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26";
    struct aipa_params p;
    struct aipa_buf sts;
    char sig[AIPA_V1_SIG_LEN + 1];
    bool match = false;

    (void)state;
    aipa_params_init(&p, NULL);
    aipa_buf_init(&sts, 1u << 16);
    assert_int_equal(
        aipa_wire_parse((const uint8_t *)q, sizeof(q) - 1, PLUS, AIPA_PARAM_QUERY, &p, NULL),
        AIPA_OK);
    assert_int_equal(aipa_v1_string_to_sign("GET", &p, &sts), AIPA_OK);
    assert_string_equal(sts.ptr, doc_sts);
    assert_int_equal(aipa_v1_signature(SECRET, sts.ptr, sts.len, sig), AIPA_OK);
    assert_string_equal(sig, "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    /* sign adds it; verify accepts it; a second sign replaces, never duplicates */
    assert_int_equal(aipa_v1_sign("GET", &p, SECRET), AIPA_OK);
    assert_string_equal(aipa_params_value(&p, "Signature"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    assert_int_equal(aipa_v1_sign("GET", &p, SECRET), AIPA_OK);
    assert_int_equal(aipa_params_remove(&p, "Signature"), 1);
    assert_int_equal(aipa_params_set(&p, "Signature", "OLeaidS1JvxuMvnyHOwuJ+uX5qY="), AIPA_OK);
    assert_int_equal(aipa_v1_verify("GET", &p, SECRET, &sts, &match), AIPA_OK);
    assert_true(match);
    assert_string_equal(sts.ptr, doc_sts); /* verify resets sts, then fills it */
    /* The old page's signature does not reproduce (spec/wire.md §2.2 caution). */
    assert_int_equal(aipa_params_set(&p, "Signature", "CT9X0VtwR86fNWSnsc6v8YGOjuE="), AIPA_OK);
    assert_int_equal(aipa_v1_verify("GET", &p, SECRET, NULL, &match), AIPA_OK);
    assert_false(match);
    aipa_buf_cleanup(&sts);
    aipa_params_cleanup(&p);
}

static const char *const allocate_params[] = {
    "AccessKeyId",      "testid",     "Action",         "AllocatePublicIpAddress",
    "Format",           "JSON",       "InstanceId",     "i-bp1gtjxuuvwj17zr0001",
    "SignatureMethod",  "HMAC-SHA1",  "SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    "SignatureVersion", "1.0",        "Timestamp",      "2016-02-23T12:46:24Z",
    "Version",          "2014-05-26",
};

static void v1_allocate_vectors(void **state)
{
    struct aipa_params p;
    struct aipa_buf sts;
    char sig[AIPA_V1_SIG_LEN + 1];

    (void)state;
    aipa_buf_init(&sts, 1u << 16);
    /* Added in reverse so the sort is exercised. */
    aipa_params_init(&p, NULL);
    for (size_t i = AIPA_ARRAY_LEN(allocate_params); i >= 2; i -= 2) {
        assert_int_equal(aipa_params_add_cstr(&p, allocate_params[i - 2], allocate_params[i - 1]),
                         AIPA_OK);
    }
    assert_int_equal(aipa_v1_string_to_sign("GET", &p, &sts), AIPA_OK);
    assert_int_equal(aipa_v1_signature(SECRET, sts.ptr, sts.len, sig), AIPA_OK);
    assert_string_equal(sig, "n+p2Y9hWVUI6T6dMgSkrl1F+DgM=");
    /* params itself is not reordered */
    assert_string_equal(p.items[0].name, "Version");
    aipa_buf_reset(&sts);
    assert_int_equal(aipa_v1_string_to_sign("POST", &p, &sts), AIPA_OK);
    assert_int_equal(aipa_v1_signature(SECRET, sts.ptr, sts.len, sig), AIPA_OK);
    assert_string_equal(sig, "QMvScVt8gWcHj5n3NXux3RX80wg=");
    /* the awkward OwnerAccount */
    assert_int_equal(aipa_params_add_cstr(&p, "OwnerAccount", "a b*c~d!'()+/\xc3\xa9"), AIPA_OK);
    aipa_buf_reset(&sts);
    assert_int_equal(aipa_v1_string_to_sign("GET", &p, &sts), AIPA_OK);
    assert_string_equal(sts.ptr, awkward_sts);
    assert_int_equal(aipa_v1_signature(SECRET, sts.ptr, sts.len, sig), AIPA_OK);
    assert_string_equal(sig, "C+8y83fUevkkRpIuZYZs4y2bfsM=");
    aipa_params_cleanup(&p);
    aipa_buf_cleanup(&sts);
}

/* The awkward vector survives the trip through the wire, with '+' as space or %20. */
static void v1_awkward_vector_through_the_wire(void **state)
{
    static const char *const queries[] = {
        /* as spec/wire.md §2.2's encoder writes it */
        "OwnerAccount=a%20b%2Ac~d%21%27%28%29%2B%2F%C3%A9",
        /* as Node querystring writes it (spec/wire.md §2.4 caveat) */
        "OwnerAccount=a%20b*c~d!%27()%2B%2F%C3%A9",
        /* as Go url.Values writes it: space as '+' */
        "OwnerAccount=a+b%2Ac%7Ed%21%27%28%29%2B%2F%C3%A9",
    };

    (void)state;
    for (size_t i = 0; i < AIPA_ARRAY_LEN(queries); i++) {
        struct aipa_params p;
        struct aipa_buf sts;
        bool match = false;

        aipa_params_init(&p, NULL);
        aipa_buf_init(&sts, 1u << 16);
        add_all(&p, allocate_params, AIPA_ARRAY_LEN(allocate_params));
        assert_int_equal(aipa_wire_parse((const uint8_t *)queries[i], strlen(queries[i]), PLUS,
                                         AIPA_PARAM_QUERY, &p, NULL),
                         AIPA_OK);
        assert_int_equal(aipa_params_add_cstr(&p, "Signature", "C+8y83fUevkkRpIuZYZs4y2bfsM="),
                         AIPA_OK);
        assert_int_equal(aipa_v1_verify("GET", &p, SECRET, &sts, &match), AIPA_OK);
        assert_string_equal(sts.ptr, awkward_sts);
        assert_true(match);
        aipa_buf_cleanup(&sts);
        aipa_params_cleanup(&p);
    }
}

/* ---- spec/wire.md §2.3: the deterministic V3 vector ---- */

#define V3_SIGNED                                                                                  \
    "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"

/* A slice of a string literal, usable in static initialisers. */
#define SL(s)                                                                                      \
    {                                                                                              \
        (const uint8_t *)(s), sizeof(s) - 1                                                        \
    }
#define HDR(n, v)                                                                                  \
    {                                                                                              \
        SL(n), SL(v)                                                                               \
    }

static const struct aipa_header v3_headers[] = {
    HDR("host", "ecs.aliyuncs.com"),
    HDR("x-acs-action", "AllocatePublicIpAddress"),
    HDR("x-acs-version", "2014-05-26"),
    HDR("x-acs-date", "2023-10-26T09:01:01Z"),
    HDR("x-acs-signature-nonce", "d410180a5abf7fe235dd9b74aca91fc0"),
    HDR("x-acs-content-sha256", AIPA_EMPTY_SHA256_HEX),
    HDR("user-agent", "not signed"),
};

#define V3_AUTHORIZATION                                                                           \
    "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=" V3_SIGNED                                  \
    ",Signature=7cd8ac92bdcb593cc63e73084d2407ab369d9d2a5c1d84e3e40bea4022b3f243"

static void v3_query(struct aipa_params *q)
{
    aipa_params_init(q, NULL);
    assert_int_equal(aipa_params_add_cstr(q, "InstanceId", "i-bp1gtjxuuvwj17zr0001"), AIPA_OK);
}

static void v3_deterministic_vector(void **state)
{
    struct aipa_params q;
    struct aipa_buf b;
    struct aipa_buf sts;
    struct aipa_v3_auth a;
    char hash[AIPA_SHA256_HEX_LEN + 1];
    char sig[AIPA_V3_SIG_LEN + 1];
    bool match = false;

    (void)state;
    v3_query(&q);
    aipa_buf_init(&b, 1u << 16);
    aipa_buf_init(&sts, 1u << 16);
    assert_int_equal(
        aipa_v3_canonical_request("POST", "/", &q, v3_headers, AIPA_ARRAY_LEN(v3_headers),
                                  AIPA_SLICE_STR(V3_SIGNED), AIPA_EMPTY_SHA256_HEX, &b),
        AIPA_OK);
    assert_int_equal(aipa_sha256_hex(b.ptr, b.len, hash), AIPA_OK);
    assert_string_equal(hash, "ca0bb1a1375a72cc90b9379bd14767f3feef094702a8e3ad9f8cfc6c1680c2cc");
    assert_int_equal(aipa_v3_string_to_sign(b.ptr, b.len, &sts), AIPA_OK);
    assert_string_equal(sts.ptr,
                        "ACS3-HMAC-SHA256\n"
                        "ca0bb1a1375a72cc90b9379bd14767f3feef094702a8e3ad9f8cfc6c1680c2cc");
    assert_int_equal(aipa_v3_signature(SECRET, sts.ptr, sts.len, sig), AIPA_OK);
    assert_string_equal(sig, "7cd8ac92bdcb593cc63e73084d2407ab369d9d2a5c1d84e3e40bea4022b3f243");
    /* client side: the whole header value */
    aipa_buf_reset(&b);
    assert_int_equal(aipa_v3_authorization("POST", "/", &q, v3_headers, AIPA_ARRAY_LEN(v3_headers),
                                           V3_SIGNED, AIPA_EMPTY_SHA256_HEX, "testid", SECRET, &b),
                     AIPA_OK);
    assert_string_equal(b.ptr, V3_AUTHORIZATION);
    /* server side: parse it back and verify */
    assert_int_equal(aipa_v3_parse_authorization((const uint8_t *)b.ptr, b.len, &a), AIPA_OK);
    assert_int_equal(aipa_v3_verify("POST", "/", &q, v3_headers, AIPA_ARRAY_LEN(v3_headers), &a,
                                    AIPA_EMPTY_SHA256_HEX, SECRET, &sts, &match),
                     AIPA_OK);
    assert_true(match);
    assert_string_equal(sts.ptr,
                        "ACS3-HMAC-SHA256\n"
                        "ca0bb1a1375a72cc90b9379bd14767f3feef094702a8e3ad9f8cfc6c1680c2cc");
    aipa_buf_cleanup(&b);
    aipa_buf_cleanup(&sts);
    aipa_params_cleanup(&q);
}

/* ---- spec/wire.md §2.6: the captured SDK requests ---- */

static void capture_a_v3_default(void **state)
{
    struct aipa_buf canonical;
    struct aipa_buf sts;

    (void)state;
    aipa_buf_init(&canonical, 1u << 16);
    aipa_buf_init(&sts, 1u << 16);
    check_v3_capture(capture_a, sizeof(capture_a) - 1, &canonical, &sts);
    assert_string_equal(canonical.ptr, capture_a_canonical);
    assert_string_equal(sts.ptr, capture_a_sts);
    aipa_buf_cleanup(&canonical);
    aipa_buf_cleanup(&sts);
}

static void capture_b_v3_awkward_query(void **state)
{
    struct aipa_buf canonical;
    struct aipa_buf sts;
    const char *line;
    const char *eol;

    (void)state;
    aipa_buf_init(&canonical, 1u << 16);
    aipa_buf_init(&sts, 1u << 16);
    check_v3_capture(capture_b, sizeof(capture_b) - 1, &canonical, &sts);
    /* the third line of the canonical request */
    line = strchr(canonical.ptr, '\n');
    assert_non_null(line);
    line = strchr(line + 1, '\n');
    assert_non_null(line);
    line++;
    eol = strchr(line, '\n');
    assert_non_null(eol);
    assert_int_equal((size_t)(eol - line), strlen(capture_b_query));
    assert_memory_equal(line, capture_b_query, strlen(capture_b_query));
    aipa_buf_cleanup(&canonical);
    aipa_buf_cleanup(&sts);
}

static void capture_c_v1_tea_post_query(void **state)
{
    (void)state;
    check_v1_capture(capture_c, sizeof(capture_c) - 1, capture_c_sts,
                     "YrUmtZmodh+T1ShLZzBkOEEY/io=");
}

static void capture_d_v1_popcore_get(void **state)
{
    (void)state;
    check_v1_capture(capture_d, sizeof(capture_d) - 1, capture_d_sts,
                     "SI39FreCutoJczP36h5Obrf24bs=");
}

static void capture_e_v1_popcore_form_body(void **state)
{
    struct raw_req r;
    struct aipa_buf sts;
    bool match = false;

    (void)state;
    raw_parse(capture_e, sizeof(capture_e) - 1, &r);
    assert_int_equal(r.body_len, 308); /* its Content-Length */
    assert_int_equal(r.query.count, 0);
    assert_int_equal(r.params.count, 11);
    assert_int_equal(aipa_params_get(&r.params, "Signature")->origin, AIPA_PARAM_BODY);
    aipa_buf_init(&sts, 1u << 16);
    assert_int_equal(aipa_v1_verify(r.method, &r.params, SECRET, &sts, &match), AIPA_OK);
    assert_true(match);
    assert_true(strncmp(sts.ptr, "POST&%2F&AccessKeyId%3Dtestid%26", 32) == 0);
    /* The spec prints only its start; the rest is (d)'s with the method and nonce of (e). */
    {
        char want[sizeof(capture_d_sts) + 1];
        char *nonce;

        (void)snprintf(want, sizeof(want), "POST%s", capture_d_sts + 3);
        nonce = strstr(want, "b65680084034a0f7bd0dd7ed3da30bd5");
        assert_non_null(nonce);
        memcpy(nonce, "59cbd0423d7532bbbdb52b83c869efbd", 32);
        assert_string_equal(sts.ptr, want);
    }
    aipa_buf_cleanup(&sts);
    raw_cleanup(&r);
    check_v1_capture(capture_e, sizeof(capture_e) - 1, NULL, "Oz+Xc1BFNqwrr6afRCguBYVDAAM=");
}

/* ---- differential vectors from an independent implementation ---- */

static void v1_differential(void **state)
{
    (void)state;
    for (size_t i = 0; i < AIPA_ARRAY_LEN(v1_diff); i++) {
        struct aipa_params p;
        struct aipa_wire_result res;
        struct aipa_buf sts;
        char sig[AIPA_V1_SIG_LEN + 1];
        bool match = false;

        aipa_params_init(&p, NULL);
        aipa_buf_init(&sts, 1u << 16);
        assert_int_equal(aipa_wire_parse((const uint8_t *)v1_diff[i].query,
                                         strlen(v1_diff[i].query), PLUS, AIPA_PARAM_QUERY, &p,
                                         &res),
                         AIPA_OK);
        assert_int_equal(aipa_v1_string_to_sign(v1_diff[i].method, &p, &sts), AIPA_OK);
        assert_string_equal(sts.ptr, v1_diff[i].sts);
        assert_int_equal(aipa_v1_signature(v1_diff[i].secret, sts.ptr, sts.len, sig), AIPA_OK);
        assert_string_equal(sig, v1_diff[i].sig);
        assert_int_equal(aipa_params_add_cstr(&p, "Signature", v1_diff[i].sig), AIPA_OK);
        assert_int_equal(aipa_v1_verify(v1_diff[i].method, &p, v1_diff[i].secret, NULL, &match),
                         AIPA_OK);
        assert_true(match);
        aipa_buf_cleanup(&sts);
        aipa_params_cleanup(&p);
    }
}

static void v3_differential(void **state)
{
    (void)state;
    for (size_t i = 0; i < AIPA_ARRAY_LEN(v3_diff); i++) {
        struct aipa_params q;
        struct aipa_header h[16];
        size_t hc = 0;
        const char *p = v3_diff[i].headers;
        char hash[AIPA_SHA256_HEX_LEN + 1];
        char want[512];
        struct aipa_buf b;
        struct aipa_v3_auth a;
        bool match = false;

        aipa_params_init(&q, NULL);
        aipa_buf_init(&b, 1u << 16);
        assert_int_equal(aipa_wire_parse((const uint8_t *)v3_diff[i].query,
                                         strlen(v3_diff[i].query), PLUS, AIPA_PARAM_QUERY, &q,
                                         NULL),
                         AIPA_OK);
        /* "name: value\r\n" lines; values keep the space after the colon */
        while (*p != '\0') {
            const char *colon = strchr(p, ':');
            const char *eol = strstr(p, "\r\n");

            assert_non_null(colon);
            assert_non_null(eol);
            assert_true(hc < AIPA_ARRAY_LEN(h));
            h[hc].name = (struct aipa_slice){(const uint8_t *)p, (size_t)(colon - p)};
            h[hc].value =
                (struct aipa_slice){(const uint8_t *)colon + 1, (size_t)(eol - colon - 1)};
            hc++;
            p = eol + 2;
        }
        assert_int_equal(aipa_sha256_hex(v3_diff[i].body, strlen(v3_diff[i].body), hash), AIPA_OK);
        assert_int_equal(aipa_v3_authorization(v3_diff[i].method, "/", &q, h, hc,
                                               v3_diff[i].signed_headers, hash, "id",
                                               v3_diff[i].secret, &b),
                         AIPA_OK);
        (void)snprintf(want, sizeof(want),
                       "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=%s,Signature=%s",
                       v3_diff[i].signed_headers, v3_diff[i].sig);
        assert_string_equal(b.ptr, want);
        assert_int_equal(aipa_v3_parse_authorization((const uint8_t *)b.ptr, b.len, &a), AIPA_OK);
        assert_int_equal(aipa_v3_verify(v3_diff[i].method, "/", &q, h, hc, &a, hash,
                                        v3_diff[i].secret, NULL, &match),
                         AIPA_OK);
        assert_true(match);
        aipa_buf_cleanup(&b);
        aipa_params_cleanup(&q);
    }
}

/* ---- tampering: one byte of any signed input changes the verdict ---- */

static void v1_one_byte_changes_mismatch(void **state)
{
    struct aipa_params p;
    char secret[] = SECRET;
    bool match = true;

    (void)state;
    aipa_params_init(&p, NULL);
    add_all(&p, allocate_params, AIPA_ARRAY_LEN(allocate_params));
    assert_int_equal(aipa_params_add_cstr(&p, "OwnerAccount", "a b*c~d!'()+/\xc3\xa9"), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "SignatureType", ""), AIPA_OK);
    assert_int_equal(aipa_v1_sign("POST", &p, SECRET), AIPA_OK);
    assert_int_equal(aipa_v1_verify("POST", &p, SECRET, NULL, &match), AIPA_OK);
    assert_true(match);
    /* each byte of the secret */
    for (size_t i = 0; i < sizeof(secret) - 1; i++) {
        secret[i] ^= 0x01;
        assert_int_equal(aipa_v1_verify("POST", &p, secret, NULL, &match), AIPA_OK);
        assert_false(match);
        secret[i] ^= 0x01;
    }
    /* each byte of each parameter value, and of each name (Signature's own
     * value is the thing compared, so it is covered too) */
    for (size_t k = 0; k < p.count; k++) {
        struct aipa_param *it = &p.items[k];

        for (size_t i = 0; i < it->value_len; i++) {
            it->value[i] ^= 0x01;
            assert_int_equal(aipa_v1_verify("POST", &p, SECRET, NULL, &match), AIPA_OK);
            assert_false(match);
            it->value[i] ^= 0x01;
        }
        for (size_t i = 0; i < it->name_len; i++) {
            it->name[i] ^= 0x20; /* case flip: names are case-sensitive */
            assert_int_equal(aipa_v1_verify("POST", &p, SECRET, NULL, &match), AIPA_OK);
            assert_false(match);
            it->name[i] ^= 0x20;
        }
    }
    /* the method, one byte and one case */
    assert_int_equal(aipa_v1_verify("POSU", &p, SECRET, NULL, &match), AIPA_OK);
    assert_false(match);
    assert_int_equal(aipa_v1_verify("post", &p, SECRET, NULL, &match), AIPA_OK);
    assert_false(match);
    /* an empty value is still signed: SignatureType= and SignatureType=x differ */
    assert_int_equal(aipa_params_set(&p, "SignatureType", "x"), AIPA_OK);
    assert_int_equal(aipa_v1_verify("POST", &p, SECRET, NULL, &match), AIPA_OK);
    assert_false(match);
    assert_int_equal(aipa_params_remove(&p, "SignatureType"), 1);
    assert_int_equal(aipa_v1_verify("POST", &p, SECRET, NULL, &match), AIPA_OK);
    assert_false(match);
    /* no Signature at all */
    assert_int_equal(aipa_params_remove(&p, "Signature"), 1);
    match = true;
    assert_int_equal(aipa_v1_verify("POST", &p, SECRET, NULL, &match), AIPA_OK);
    assert_false(match);
    /* a Signature of the right value but truncated or extended */
    assert_int_equal(aipa_v1_sign("POST", &p, SECRET), AIPA_OK);
    {
        char s[AIPA_V1_SIG_LEN + 2];

        (void)snprintf(s, sizeof(s), "%s", aipa_params_value(&p, "Signature"));
        s[AIPA_V1_SIG_LEN - 1] = '\0';
        assert_int_equal(aipa_params_set(&p, "Signature", s), AIPA_OK);
        assert_int_equal(aipa_v1_verify("POST", &p, SECRET, NULL, &match), AIPA_OK);
        assert_false(match);
    }
    aipa_params_cleanup(&p);
}

struct v3_fixture {
    struct aipa_params q;
    struct aipa_header h[AIPA_ARRAY_LEN(v3_headers)];
    char values[AIPA_ARRAY_LEN(v3_headers)][128];
    struct aipa_v3_auth a;
};

static bool v3_matches(const struct v3_fixture *f, const char *method, const char *uri,
                       const char *hash, const char *secret)
{
    bool match = true;

    assert_int_equal(aipa_v3_verify(method, uri, &f->q, f->h, AIPA_ARRAY_LEN(f->h), &f->a, hash,
                                    secret, NULL, &match),
                     AIPA_OK);
    return match;
}

static void v3_one_byte_changes_mismatch(void **state)
{
    static const char authz[] = V3_AUTHORIZATION;
    struct v3_fixture f;
    char secret[] = SECRET;
    char hash[] = AIPA_EMPTY_SHA256_HEX;
    char sig[AIPA_V3_SIG_LEN + 1];

    (void)state;
    v3_query(&f.q);
    assert_int_equal(aipa_params_add_cstr(&f.q, "OwnerAccount", "a b"), AIPA_OK);
    /* Own copies of the header values so single bytes can be flipped. */
    for (size_t i = 0; i < AIPA_ARRAY_LEN(v3_headers); i++) {
        assert_true(v3_headers[i].value.len < sizeof(f.values[i]));
        memcpy(f.values[i], v3_headers[i].value.ptr, v3_headers[i].value.len);
        f.h[i].name = v3_headers[i].name;
        f.h[i].value = (struct aipa_slice){(const uint8_t *)f.values[i], v3_headers[i].value.len};
    }
    {
        struct aipa_buf b;

        aipa_buf_init(&b, 4096);
        assert_int_equal(aipa_v3_authorization("POST", "/", &f.q, f.h, AIPA_ARRAY_LEN(f.h),
                                               V3_SIGNED, hash, "testid", SECRET, &b),
                         AIPA_OK);
        /* keep the signature in stable storage for the parsed slices */
        assert_int_equal(b.len, sizeof(authz) - 1);
        memcpy(sig, b.ptr + b.len - AIPA_V3_SIG_LEN, AIPA_V3_SIG_LEN + 1);
        aipa_buf_cleanup(&b);
    }
    assert_int_equal(aipa_v3_parse_authorization((const uint8_t *)authz, sizeof(authz) - 1, &f.a),
                     AIPA_OK);
    f.a.signature = (struct aipa_slice){(const uint8_t *)sig, AIPA_V3_SIG_LEN};
    assert_true(v3_matches(&f, "POST", "/", hash, SECRET));
    for (size_t i = 0; i < sizeof(secret) - 1; i++) {
        secret[i] ^= 0x01;
        assert_false(v3_matches(&f, "POST", "/", hash, secret));
        secret[i] ^= 0x01;
    }
    /* V1's "&" key suffix must not be accepted for V3 */
    assert_false(v3_matches(&f, "POST", "/", hash, SECRET "&"));
    assert_false(v3_matches(&f, "GET", "/", hash, SECRET));
    assert_false(v3_matches(&f, "POST", "/x", hash, SECRET));
    for (size_t i = 0; i < sizeof(hash) - 1; i++) {
        hash[i] ^= 0x01;
        assert_false(v3_matches(&f, "POST", "/", hash, SECRET));
        hash[i] ^= 0x01;
    }
    for (size_t k = 0; k < f.q.count; k++) {
        for (size_t i = 0; i < f.q.items[k].value_len; i++) {
            f.q.items[k].value[i] ^= 0x01;
            assert_false(v3_matches(&f, "POST", "/", hash, SECRET));
            f.q.items[k].value[i] ^= 0x01;
        }
    }
    /* every byte of every signed header value; the unsigned one is free */
    for (size_t k = 0; k < AIPA_ARRAY_LEN(f.h); k++) {
        bool is_signed = !aipa_slice_eq(f.h[k].name, "user-agent");

        for (size_t i = 0; i < f.h[k].value.len; i++) {
            f.values[k][i] ^= 0x01;
            assert_true(v3_matches(&f, "POST", "/", hash, SECRET) == !is_signed);
            f.values[k][i] ^= 0x01;
        }
    }
    /* whitespace around a value is not signed; inside it is */
    {
        char padded[] = " \t2014-05-26 \t";
        char inner[] = "2014 05-26";
        struct aipa_slice saved = f.h[2].value;

        f.h[2].value = (struct aipa_slice){(const uint8_t *)padded, sizeof(padded) - 1};
        assert_true(v3_matches(&f, "POST", "/", hash, SECRET));
        f.h[2].value = (struct aipa_slice){(const uint8_t *)inner, sizeof(inner) - 1};
        assert_false(v3_matches(&f, "POST", "/", hash, SECRET));
        f.h[2].value = saved;
    }
    /* header names match in any case */
    f.h[0].name = AIPA_SLICE_STR("HoSt");
    assert_true(v3_matches(&f, "POST", "/", hash, SECRET));
    /* each byte of the signature, uppercase hex, a truncated one */
    for (size_t i = 0; i < AIPA_V3_SIG_LEN; i++) {
        sig[i] ^= 0x01;
        assert_false(v3_matches(&f, "POST", "/", hash, SECRET));
        sig[i] ^= 0x01;
    }
    for (size_t i = 0; i < AIPA_V3_SIG_LEN; i++) {
        if (sig[i] >= 'a' && sig[i] <= 'f') {
            sig[i] = (char)(sig[i] - 'a' + 'A');
            assert_false(v3_matches(&f, "POST", "/", hash, SECRET));
            sig[i] = (char)(sig[i] - 'A' + 'a');
            break;
        }
    }
    f.a.signature.len--;
    assert_false(v3_matches(&f, "POST", "/", hash, SECRET));
    f.a.signature.len++;
    assert_true(v3_matches(&f, "POST", "/", hash, SECRET));
    /* another algorithm never matches */
    f.a.algorithm = AIPA_SLICE_STR("ACS3-HMAC-SM3");
    assert_false(v3_matches(&f, "POST", "/", hash, SECRET));
    aipa_params_cleanup(&f.q);
}

/* ---- V3 canonical request details ---- */

static void v3_canonical_details(void **state)
{
    struct aipa_params q;
    struct aipa_buf b;
    const struct aipa_header h[] = {
        HDR("X-Acs-Multi", "  one "),
        HDR("host", "127.0.0.1:18080"),
        HDR("x-acs-multi", "\ttwo"),
        HDR("x-acs-empty", "   "),
    };

    (void)state;
    aipa_params_init(&q, NULL);
    aipa_buf_init(&b, 4096);
    /* names unencoded, values encoded, sorted by name bytes */
    assert_int_equal(aipa_params_add_cstr(&q, "b.c", "x y"), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&q, "B", "*"), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&q, "a", ""), AIPA_OK);
    assert_int_equal(aipa_v3_canonical_request("GET", "/", &q, h, AIPA_ARRAY_LEN(h),
                                               AIPA_SLICE_STR("Host;x-acs-multi;x-acs-empty"),
                                               "abc", &b),
                     AIPA_OK);
    assert_string_equal(b.ptr, "GET\n/\nB=%2A&a=&b.c=x%20y\n"
                               "host:127.0.0.1:18080\nx-acs-multi:one,two\nx-acs-empty:\n\n"
                               "Host;x-acs-multi;x-acs-empty\nabc");
    /* no query: an empty line */
    aipa_buf_reset(&b);
    assert_int_equal(aipa_v3_canonical_request("POST", "/", NULL, h, AIPA_ARRAY_LEN(h),
                                               AIPA_SLICE_STR("host"), AIPA_EMPTY_SHA256_HEX, &b),
                     AIPA_OK);
    assert_string_equal(b.ptr, "POST\n/\n\nhost:127.0.0.1:18080\n\nhost\n" AIPA_EMPTY_SHA256_HEX);
    /* a signed header that is absent; malformed lists; out is left alone */
    aipa_buf_reset(&b);
    assert_int_equal(aipa_buf_puts(&b, "keep"), AIPA_OK);
    assert_int_equal(aipa_v3_canonical_request("POST", "/", &q, h, AIPA_ARRAY_LEN(h),
                                               AIPA_SLICE_STR("host;x-acs-date"), "", &b),
                     AIPA_ENOTFOUND);
    assert_string_equal(b.ptr, "keep");
    {
        static const char *const bad[] = {
            "", ";", "host;", ";host", "host;;x-acs-multi", "ho st", "host,x", "h\xc3\xa9"};

        for (size_t i = 0; i < AIPA_ARRAY_LEN(bad); i++) {
            assert_int_equal(aipa_v3_canonical_request("POST", "/", &q, h, AIPA_ARRAY_LEN(h),
                                                       aipa_slice_cstr(bad[i]), "", &b),
                             AIPA_EPARSE);
            assert_string_equal(b.ptr, "keep");
        }
    }
    /* a ceiling on out is honoured, all or nothing */
    aipa_buf_cleanup(&b);
    aipa_buf_init(&b, 16);
    assert_int_equal(aipa_v3_canonical_request("POST", "/", &q, h, AIPA_ARRAY_LEN(h),
                                               AIPA_SLICE_STR("host"), "", &b),
                     AIPA_ETOOBIG);
    assert_int_equal(b.len, 0);
    aipa_buf_cleanup(&b);
    aipa_params_cleanup(&q);
}

/* ---- Authorization header parsing ---- */

static void authorization_parse_accepts(void **state)
{
    static const char *const ok[] = {
        "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host;x-acs-date,Signature=abc",
        "ACS3-HMAC-SHA256 Credential=id,Signature=abc,SignedHeaders=host;x-acs-date",
        "ACS3-HMAC-SHA256 SignedHeaders=host;x-acs-date,Credential=id,Signature=abc",
        "ACS3-HMAC-SHA256 SignedHeaders=host;x-acs-date,Signature=abc,Credential=id",
        "ACS3-HMAC-SHA256 Signature=abc,Credential=id,SignedHeaders=host;x-acs-date",
        "ACS3-HMAC-SHA256 Signature=abc,SignedHeaders=host;x-acs-date,Credential=id",
        "  ACS3-HMAC-SHA256   Credential=id, SignedHeaders=host;x-acs-date ,\tSignature=abc \t",
        "ACS3-HMAC-SHA256\tCredential=id,SignedHeaders=host;x-acs-date,Signature=abc",
    };
    struct aipa_test_guard g;

    (void)state;
    aipa_test_guard_init(&g);
    for (size_t i = 0; i < AIPA_ARRAY_LEN(ok); i++) {
        struct aipa_v3_auth a;
        size_t n = strlen(ok[i]);
        const uint8_t *at = aipa_test_guard_place(&g, ok[i], n);

        if (aipa_v3_parse_authorization(at, n, &a) != AIPA_OK) {
            fail_msg("rejected: %s", ok[i]);
        }
        assert_true(aipa_slice_eq(a.algorithm, "ACS3-HMAC-SHA256"));
        assert_true(aipa_slice_eq(a.credential, "id"));
        assert_true(aipa_slice_eq(a.signed_headers, "host;x-acs-date"));
        assert_true(aipa_slice_eq(a.signature, "abc"));
        /* the slices point into the input */
        assert_true(a.signature.ptr >= at && a.signature.ptr + a.signature.len <= at + n);
    }
    aipa_test_guard_cleanup(&g);
}

static void authorization_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "",
        " ",
        "ACS3-HMAC-SHA256",
        "ACS3-HMAC-SHA256 ",
        "ACS3-HMAC-SHA256 Credential=id",
        "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host",                /* no Signature */
        "ACS3-HMAC-SHA256 SignedHeaders=host,Signature=abc",                /* no Credential */
        "ACS3-HMAC-SHA256 Credential=id,Signature=abc",                     /* no SignedHeaders */
        "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host,Signature=abc,", /* trailing ',' */
        "ACS3-HMAC-SHA256 Credential=id,,SignedHeaders=host,Signature=abc", /* empty field */
        "ACS3-HMAC-SHA256 ,Credential=id,SignedHeaders=host,Signature=abc",
        "ACS3-HMAC-SHA256 Credential=id,Credential=id,SignedHeaders=host,Signature=abc",
        "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host,Signature=abc,Signature=abc",
        "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host,Signature=abc,Extra=1",
        "ACS3-HMAC-SHA256 credential=id,SignedHeaders=host,Signature=abc", /* field case */
        "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=abc",   /* empty value */
        "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=,Signature=abc",
        "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host,Signature=",
        "ACS3-HMAC-SHA256 Credential,SignedHeaders=host,Signature=abc", /* no '=' */
        "ACS3-HMAC-SHA256 Credential=a b,SignedHeaders=host,Signature=abc",
        "ACS3-HMAC-SHA256 Credential=a=b,SignedHeaders=host,Signature=abc",
        "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host;,Signature=abc",
        "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=;host,Signature=abc",
        "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host;;date,Signature=abc",
        "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=ho\"st,Signature=abc",
        "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host,Signature=ab\x7f",
        "ACS3-HMAC-SHA256 Credential=\xc3\xa9,SignedHeaders=host,Signature=abc",
        "ACS3-HMAC-SHA256,Credential=id,SignedHeaders=host,Signature=abc", /* no space */
        "Credential=id,SignedHeaders=host,Signature=abc",                  /* no algorithm */
        "ACS3-HMAC-SHA256 Credential=id SignedHeaders=host,Signature=abc",
    };
    struct aipa_test_guard g;

    (void)state;
    aipa_test_guard_init(&g);
    for (size_t i = 0; i < AIPA_ARRAY_LEN(bad); i++) {
        struct aipa_v3_auth a;
        size_t n = strlen(bad[i]);

        /* every prefix of each, ending at the guard page */
        for (size_t k = 0; k <= n; k++) {
            const uint8_t *at = aipa_test_guard_place(&g, bad[i], k);
            aipa_err err = aipa_v3_parse_authorization(at, k, &a);

            assert_true(err == AIPA_OK || err == AIPA_EPARSE);
            if (k == n && err != AIPA_EPARSE) {
                fail_msg("accepted: %s", bad[i]);
            }
        }
    }
    /* a NUL byte inside */
    {
        static const char nul[] = "ACS3-HMAC-SHA256 Credential=i\0d,SignedHeaders=host,Signature=a";
        struct aipa_v3_auth a;

        assert_int_equal(aipa_v3_parse_authorization((const uint8_t *)nul, sizeof(nul) - 1, &a),
                         AIPA_EPARSE);
    }
    aipa_test_guard_cleanup(&g);
}

/* ---- timestamps ---- */

static void timestamp_parse_valid(void **state)
{
    static const struct {
        const char *s;
        int64_t t;
    } ok[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"2016-02-23T12:46:24Z", 1456231584},
        {"2000-02-29T00:00:00Z", 951782400},
        {"1969-12-31T23:59:59Z", -1},
        {"0001-01-01T00:00:00Z", -62135596800},
        {"2024-02-29T23:59:59Z", 1709251199},
        {"9999-12-31T23:59:59Z", 253402300799},
    };

    (void)state;
    for (size_t i = 0; i < AIPA_ARRAY_LEN(ok); i++) {
        int64_t t = 0;
        char back[21];

        assert_int_equal(aipa_parse_timestamp(ok[i].s, strlen(ok[i].s), &t), AIPA_OK);
        assert_int_equal(t, ok[i].t);
        aipa_format_timestamp(t, back);
        assert_string_equal(back, ok[i].s);
    }
}

static void timestamp_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "",
        "2016-02-23T12:46:24",      /* no Z */
        "2016-02-23T12:46:24.000Z", /* milliseconds */
        "2016-02-23T12:46:24+00:00",
        "2016-02-23T12:46:24z",
        "2016-02-23t12:46:24Z",
        "2016-02-23 12:46:24Z",
        "2016-2-23T12:46:24Z",
        "16-02-23T12:46:24Z",
        "2016/02/23T12:46:24Z",
        "2016-02-23T12-46-24Z",
        "2016-00-23T12:46:24Z",
        "2016-13-23T12:46:24Z",
        "2016-02-00T12:46:24Z",
        "2016-01-32T12:46:24Z",
        "2016-04-31T12:46:24Z",
        "2023-02-29T12:46:24Z", /* not a leap year */
        "1900-02-29T12:46:24Z", /* divisible by 100 */
        "2100-02-29T12:46:24Z",
        "2016-02-30T12:46:24Z",
        "2016-02-23T24:00:00Z",
        "2016-02-23T12:60:24Z",
        "2016-02-23T12:46:60Z", /* no leap second */
        "2016-02-23T12:46:2 Z",
        "+016-02-23T12:46:24Z",
        "-016-02-23T12:46:24Z",
        "2016-02-23T12:46:24Z ",
        " 2016-02-23T12:46:24Z",
        "2016-02-23T12:46:2\0Z",
        "２016-02-23T12:46:24Z",
    };
    struct aipa_test_guard g;

    (void)state;
    aipa_test_guard_init(&g);
    for (size_t i = 0; i < AIPA_ARRAY_LEN(bad); i++) {
        int64_t t = 42;
        size_t n = strlen(bad[i]);
        const char *at = (const char *)aipa_test_guard_place(&g, bad[i], n);

        if (aipa_parse_timestamp(at, n, &t) != AIPA_EPARSE) {
            fail_msg("accepted: %s", bad[i]);
        }
    }
    /* an embedded NUL, counted by length */
    {
        int64_t t;

        assert_int_equal(aipa_parse_timestamp("2016-02-23T12:46:2\0Z", 20, &t), AIPA_EPARSE);
    }
    aipa_test_guard_cleanup(&g);
}

static void timestamp_matches_timegm(void **state)
{
    struct aipa_rng rng;

    (void)state;
    aipa_rng_seed(&rng, 1);
    /* every day from 1899 to 2201 at a random second, against glibc */
    for (int64_t day = -25568; day < 84000; day++) {
        int64_t t = day * 86400 + (int64_t)aipa_rng_below(&rng, 86400);
        time_t tt = (time_t)t;
        struct tm tm;
        char mine[21];
        char libc[32];
        int64_t back = 0;

        assert_non_null(gmtime_r(&tt, &tm));
        assert_true(strftime(libc, sizeof(libc), "%Y-%m-%dT%H:%M:%SZ", &tm) == 20);
        aipa_format_timestamp(t, mine);
        assert_string_equal(mine, libc);
        assert_int_equal(aipa_parse_timestamp(mine, 20, &back), AIPA_OK);
        assert_int_equal(back, t);
        assert_int_equal((int64_t)timegm(&tm), t);
    }
    /* clamping to what the form can hold */
    {
        char s[21];

        aipa_format_timestamp(INT64_MIN, s);
        assert_string_equal(s, "0000-01-01T00:00:00Z");
        aipa_format_timestamp(INT64_MAX, s);
        assert_string_equal(s, "9999-12-31T23:59:59Z");
    }
}

/* ---- primitives ---- */

#define FOX "The quick brown fox jumps over the lazy dog"

static void primitives(void **state)
{
    char hex[AIPA_SHA256_HEX_LEN + 1];
    char sig[AIPA_V1_SIG_LEN + 1];
    struct aipa_buf b;
    struct aipa_params p;

    (void)state;
    assert_int_equal(aipa_sha256_hex("", 0, hex), AIPA_OK);
    assert_string_equal(hex, AIPA_EMPTY_SHA256_HEX);
    assert_int_equal(aipa_sha256_hex(NULL, 0, hex), AIPA_OK);
    assert_string_equal(hex, AIPA_EMPTY_SHA256_HEX);
    assert_int_equal(aipa_sha256_hex("abc", 3, hex), AIPA_OK);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_true(aipa_ct_equal("abc", 3, "abc", 3));
    assert_false(aipa_ct_equal("abc", 3, "abd", 3));
    assert_false(aipa_ct_equal("abc", 3, "abcd", 4));
    assert_true(aipa_ct_equal("", 0, "x", 0));
    /* HMAC values from Python's hmac module: V1 keys with secret + "&", V3 with the secret. */
    assert_int_equal(aipa_v1_signature("key", FOX, strlen(FOX), sig), AIPA_OK);
    assert_string_equal(sig, "zjRQZUOj4J+rptg+OBGxGKXW68g=");
    assert_int_equal(aipa_v3_signature("key", FOX, strlen(FOX), hex), AIPA_OK);
    assert_string_equal(hex, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
    /* an empty list signs "GET&%2F&" */
    aipa_params_init(&p, NULL);
    aipa_buf_init(&b, 64);
    assert_int_equal(aipa_v1_string_to_sign("GET", &p, &b), AIPA_OK);
    assert_string_equal(b.ptr, "GET&%2F&");
    /* string_to_sign appends, all or nothing */
    assert_int_equal(aipa_params_add_cstr(&p, "Name", "a long value that will not fit in 64"),
                     AIPA_OK);
    assert_int_equal(aipa_v1_string_to_sign("GET", &p, &b), AIPA_ETOOBIG);
    assert_string_equal(b.ptr, "GET&%2F&");
    assert_int_equal(aipa_v1_string_to_sign(NULL, &p, &b), AIPA_EINVAL);
    assert_int_equal(aipa_v1_string_to_sign("", &p, &b), AIPA_EINVAL);
    aipa_buf_cleanup(&b);
    aipa_params_cleanup(&p);
}

/* Sign, serialise, parse back and verify, over random parameters. */
static void v1_sign_wire_verify_round_trip(void **state)
{
    static const char *const alphabet[] = {"a",
                                           "Z",
                                           "0",
                                           "-",
                                           "_",
                                           ".",
                                           "~",
                                           " ",
                                           "+",
                                           "*",
                                           "%",
                                           "&",
                                           "=",
                                           "/",
                                           "\xc3\xa9",
                                           "\xe2\x82\xac",
                                           "\xf0\x9f\x98\x80"};
    struct aipa_rng rng;

    (void)state;
    aipa_rng_seed(&rng, 99);
    for (size_t iter = 0; iter < 300; iter++) {
        struct aipa_params p;
        struct aipa_params back;
        struct aipa_buf q;
        size_t count = (size_t)aipa_rng_below(&rng, 12) + 1;
        const char *method = aipa_rng_below(&rng, 2) ? "GET" : "POST";
        bool match = false;

        aipa_params_init(&p, NULL);
        aipa_params_init(&back, NULL);
        aipa_buf_init(&q, 1u << 16);
        for (size_t i = 0; i < count; i++) {
            char name[24];
            char value[128] = "";
            size_t len = (size_t)aipa_rng_below(&rng, 20);

            (void)snprintf(name, sizeof(name), "P%zu", i);
            for (size_t k = 0; k < len; k++) {
                strcat(value, alphabet[aipa_rng_below(&rng, AIPA_ARRAY_LEN(alphabet))]);
            }
            assert_int_equal(aipa_params_add_cstr(&p, name, value), AIPA_OK);
        }
        assert_int_equal(aipa_v1_sign(method, &p, SECRET), AIPA_OK);
        assert_int_equal(aipa_wire_build_query(&p, &q), AIPA_OK);
        assert_int_equal(
            aipa_wire_parse((const uint8_t *)q.ptr, q.len, PLUS, AIPA_PARAM_QUERY, &back, NULL),
            AIPA_OK);
        assert_int_equal(aipa_v1_verify(method, &back, SECRET, NULL, &match), AIPA_OK);
        assert_true(match);
        aipa_buf_cleanup(&q);
        aipa_params_cleanup(&back);
        aipa_params_cleanup(&p);
    }
}

/* ---- threads: verification keeps no shared state ---- */

#define THREADS       4
#define THREAD_ROUNDS 500

static void *verify_worker(void *arg)
{
    const struct aipa_params *p = arg;
    struct aipa_params q;
    struct aipa_v3_auth a;
    struct aipa_buf sts;
    long bad = 0;

    aipa_params_init(&q, NULL);
    aipa_buf_init(&sts, 1u << 16);
    if (aipa_params_add_cstr(&q, "InstanceId", "i-bp1gtjxuuvwj17zr0001") != AIPA_OK ||
        aipa_v3_parse_authorization((const uint8_t *)V3_AUTHORIZATION, strlen(V3_AUTHORIZATION),
                                    &a) != AIPA_OK) {
        bad = -1;
    }
    for (int i = 0; bad == 0 && i < THREAD_ROUNDS; i++) {
        bool m1 = false;
        bool m3 = false;

        if (aipa_v1_verify("GET", p, SECRET, &sts, &m1) != AIPA_OK ||
            aipa_v3_verify("POST", "/", &q, v3_headers, AIPA_ARRAY_LEN(v3_headers), &a,
                           AIPA_EMPTY_SHA256_HEX, SECRET, &sts, &m3) != AIPA_OK ||
            !m1 || !m3) {
            bad = i + 1;
        }
    }
    aipa_buf_cleanup(&sts);
    aipa_params_cleanup(&q);
    return (void *)bad;
}

static void verify_from_threads(void **state)
{
    struct aipa_params p;
    pthread_t t[THREADS];

    (void)state;
    aipa_params_init(&p, NULL);
    add_all(&p, allocate_params, AIPA_ARRAY_LEN(allocate_params));
    assert_int_equal(aipa_params_add_cstr(&p, "Signature", "n+p2Y9hWVUI6T6dMgSkrl1F+DgM="),
                     AIPA_OK);
    for (size_t i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_create(&t[i], NULL, verify_worker, &p), 0);
    }
    for (size_t i = 0; i < THREADS; i++) {
        void *ret = (void *)1;

        assert_int_equal(pthread_join(t[i], &ret), 0);
        assert_null(ret);
    }
    aipa_params_cleanup(&p);
}

/* ---- allocation failures ---- */

static void out_of_memory_is_clean(void **state)
{
    struct aipa_params p;
    struct aipa_params q;
    struct aipa_v3_auth a;
    bool v1_done = false;
    bool v3_done = false;

    (void)state;
    aipa_params_init(&p, NULL);
    add_all(&p, allocate_params, AIPA_ARRAY_LEN(allocate_params));
    assert_int_equal(aipa_v1_sign("GET", &p, SECRET), AIPA_OK);
    v3_query(&q);
    assert_int_equal(aipa_v3_parse_authorization((const uint8_t *)V3_AUTHORIZATION,
                                                 strlen(V3_AUTHORIZATION), &a),
                     AIPA_OK);
    for (long k = 0; k < 64 && !(v1_done && v3_done); k++) {
        struct aipa_buf sts;
        bool match = true;
        aipa_err err;

        aipa_buf_init(&sts, 1u << 16);
        aipa_test_oom_arm(k);
        aipa_set_allocator(&aipa_test_oom_allocator);
        err = aipa_v1_verify("GET", &p, SECRET, &sts, &match);
        aipa_set_allocator(NULL);
        if (err == AIPA_OK) {
            assert_true(match);
            v1_done = true;
        } else {
            assert_int_equal(err, AIPA_ENOMEM);
            assert_false(match);
        }
        aipa_test_oom_arm(k);
        aipa_set_allocator(&aipa_test_oom_allocator);
        err = aipa_v3_verify("POST", "/", &q, v3_headers, AIPA_ARRAY_LEN(v3_headers), &a,
                             AIPA_EMPTY_SHA256_HEX, SECRET, &sts, &match);
        aipa_set_allocator(NULL);
        if (err == AIPA_OK) {
            assert_true(match);
            v3_done = true;
        } else {
            assert_int_equal(err, AIPA_ENOMEM);
            assert_false(match);
        }
        aipa_buf_cleanup(&sts);
    }
    assert_true(v1_done && v3_done);
    aipa_params_cleanup(&p);
    aipa_params_cleanup(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(v1_doc_vector_describe_regions),
        cmocka_unit_test(v1_allocate_vectors),
        cmocka_unit_test(v1_awkward_vector_through_the_wire),
        cmocka_unit_test(v3_deterministic_vector),
        cmocka_unit_test(capture_a_v3_default),
        cmocka_unit_test(capture_b_v3_awkward_query),
        cmocka_unit_test(capture_c_v1_tea_post_query),
        cmocka_unit_test(capture_d_v1_popcore_get),
        cmocka_unit_test(capture_e_v1_popcore_form_body),
        cmocka_unit_test(v1_differential),
        cmocka_unit_test(v3_differential),
        cmocka_unit_test(v1_one_byte_changes_mismatch),
        cmocka_unit_test(v3_one_byte_changes_mismatch),
        cmocka_unit_test(v3_canonical_details),
        cmocka_unit_test(authorization_parse_accepts),
        cmocka_unit_test(authorization_parse_rejects),
        cmocka_unit_test(timestamp_parse_valid),
        cmocka_unit_test(timestamp_parse_rejects),
        cmocka_unit_test(timestamp_matches_timegm),
        cmocka_unit_test(primitives),
        cmocka_unit_test(v1_sign_wire_verify_round_trip),
        cmocka_unit_test(verify_from_threads),
        cmocka_unit_test(out_of_memory_is_clean),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
