/*
 * test_parse.c: bounded parsing of response bodies. Documented bodies
 * (spec/wire.md §1.2, §4.1) parse to the right values; hostile bodies are
 * rejected with a reason, without crashing or leaking (run under ASan).
 */
/* cmocka needs the four headers before it. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include "aipa/parse.h"
#include "testutil.h"

#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses text (strlen) with the given content type; expects success. */
static void parse_ok(struct aipa_doc *d, const char *ct, const char *text)
{
    struct aipa_buf why;

    aipa_buf_init(&why, 1024);
    aipa_err e =
        aipa_parse_body(AIPA_BODY_UNKNOWN, ct, (const uint8_t *)text, strlen(text), NULL, d, &why);
    if (e != AIPA_OK) {
        print_error("unexpected failure: %s\n", why.ptr != NULL ? why.ptr : "(no reason)");
    }
    assert_int_equal(e, AIPA_OK);
    assert_non_null(d->root);
    aipa_buf_cleanup(&why);
}

/* Expects failure with err and a reason containing want. */
static void parse_bad_n(const char *ct, const void *body, size_t len,
                        const struct aipa_parse_limits *lim, aipa_err err, const char *want)
{
    struct aipa_doc d;
    struct aipa_buf why;

    aipa_doc_init(&d);
    aipa_buf_init(&why, 1024);
    aipa_err e = aipa_parse_body(AIPA_BODY_UNKNOWN, ct, body, len, lim, &d, &why);
    if (e != err || why.ptr == NULL || strstr(why.ptr, want) == NULL) {
        print_error("want %s \"%s\", got %s \"%s\"\n", aipa_errname(err), want, aipa_errname(e),
                    why.ptr != NULL ? why.ptr : "");
    }
    assert_int_equal(e, err);
    assert_null(d.root);
    assert_non_null(why.ptr);
    assert_non_null(strstr(why.ptr, want));
    assert_null(strchr(why.ptr, '\n')); /* one line */
    aipa_buf_cleanup(&why);
    aipa_doc_cleanup(&d);
}

static void parse_bad(const char *ct, const char *text, aipa_err err, const char *want)
{
    parse_bad_n(ct, text, strlen(text), NULL, err, want);
}

/* ---- documented bodies ---- */

static void test_spec_success_bodies(void **state)
{
    struct aipa_doc d;
    (void)state;

    aipa_doc_init(&d);
    /* spec/wire.md §1.2, XML without a declaration, indented. */
    parse_ok(&d, "text/xml;charset=utf-8",
             "<AllocatePublicIpAddressResponse>\n"
             "      <RequestId>F2EF6A3B-E345-46B9-931E-0EA094818567</RequestId>\n"
             "      <IpAddress>112.124. **. **</IpAddress>\n"
             "</AllocatePublicIpAddressResponse>");
    assert_int_equal(d.format, AIPA_BODY_XML);
    assert_string_equal(d.root_name, "AllocatePublicIpAddressResponse");
    assert_string_equal(aipa_path_string(d.root, "RequestId"),
                        "F2EF6A3B-E345-46B9-931E-0EA094818567");
    assert_string_equal(aipa_path_string(d.root, "IpAddress"), "112.124. **. **");
    assert_int_equal(cJSON_GetArraySize(d.root), 2);
    assert_false(aipa_is_ipv4("112.124. **. **", 15));

    /* spec/wire.md §1.2, JSON, parsed into the same doc (the old tree is freed). */
    parse_ok(&d, "application/json;charset=utf-8",
             "{\n    \"RequestId\": \"F2EF6A3B-E345-46B9-931E-0EA094818567\",\n"
             "    \"IpAddress\": \"112.124. **. **\"\n}");
    assert_int_equal(d.format, AIPA_BODY_JSON);
    assert_string_equal(d.root_name, "");
    assert_string_equal(aipa_path_string(d.root, "IpAddress"), "112.124. **. **");
    assert_true(aipa_is_request_id(aipa_path_string(d.root, "RequestId"), 36));

    /* A live-looking success with a real address. */
    parse_ok(
        &d, NULL,
        "{\"RequestId\":\"473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E\",\"IpAddress\":\"112.124.10.20\"}");
    const char *ip = aipa_path_string(d.root, "IpAddress");
    assert_true(aipa_is_ipv4(ip, strlen(ip)));
    aipa_doc_cleanup(&d);
}

static void test_spec_error_bodies(void **state)
{
    struct aipa_doc d;
    (void)state;

    aipa_doc_init(&d);
    /* spec/wire.md §4.1 documented XML: declaration, a comment, curly quotes in the message. */
    parse_ok(&d, "text/xml;charset=utf-8",
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?><!--Result root node-->\n"
             "<Error>\n"
             "    <RequestId>540CFF28-407A-40B5-B6A5-74Bxxxxxxxxx</RequestId>\n"
             "    <HostId>ecs.aliyuncs.com</HostId>\n"
             "    <Code>MissingParameter.CommandId</Code>\n"
             "    <Message>The input parameter \xE2\x80\x9C"
             "CommandId\xE2\x80\x9D that is required for processing this request is not "
             "supplied.</Message>\n"
             "</Error>");
    assert_string_equal(d.root_name, "Error");
    assert_string_equal(aipa_path_string(d.root, "Code"), "MissingParameter.CommandId");
    assert_string_equal(aipa_path_string(d.root, "HostId"), "ecs.aliyuncs.com");
    assert_non_null(strstr(aipa_path_string(d.root, "Message"), "\xE2\x80\x9C"
                                                                "CommandId\xE2\x80\x9D"));
    /* The documented placeholder id is not a valid RequestId. */
    assert_false(aipa_is_request_id(aipa_path_string(d.root, "RequestId"), 36));

    /* spec/wire.md §4.1 real XML: single-quoted declaration, no whitespace, CDATA Recommend. */
    parse_ok(&d, "text/xml;charset=utf-8",
             "<?xml version='1.0' encoding='UTF-8'?><Error><RequestId>93ABDCE5-4D1A-4861-B38E-"
             "D31BDC709E4B</RequestId><HostId>dypnsapi.aliyuncs.com</HostId><Code>InvalidVersion"
             "</Code><Message>Specified parameter Version is not valid.</Message><Recommend>"
             "<![CDATA[https://error-center.aliyun.com/status/search?Keyword=InvalidVersion&"
             "source=PopGw]]></Recommend></Error>");
    assert_string_equal(d.root_name, "Error");
    assert_string_equal(aipa_path_string(d.root, "RequestId"),
                        "93ABDCE5-4D1A-4861-B38E-D31BDC709E4B");
    assert_true(aipa_is_request_id(aipa_path_string(d.root, "RequestId"), 36));
    assert_string_equal(aipa_path_string(d.root, "Code"), "InvalidVersion");
    assert_string_equal(aipa_path_string(d.root, "Message"),
                        "Specified parameter Version is not valid.");
    assert_string_equal(aipa_path_string(d.root, "Recommend"),
                        "https://error-center.aliyun.com/status/search?Keyword=InvalidVersion&"
                        "source=PopGw");

    /* spec/wire.md §4.1 real JSON from ECS (key order differs, spaces after colons). */
    parse_ok(&d, "application/json; charset=UTF-8",
             "{\"Message\": \"Specified parameter Version is not valid.\",\"RequestId\": "
             "\"948256E2-4AFC-423B-BC4C-A367E37582FD\",\"HostId\": \"ecs.aliyuncs.com\",\"Code\": "
             "\"InvalidVersion\"}");
    assert_string_equal(aipa_path_string(d.root, "Code"), "InvalidVersion");
    assert_string_equal(aipa_path_string(d.root, "HostId"), "ecs.aliyuncs.com");
    assert_null(aipa_path_string(d.root, "Recommend"));

    /* spec/wire.md §4.1 current JSON with Recommend. */
    parse_ok(&d, "application/json",
             "{\"RequestId\":\"81EF1E7D-0D15-5CAF-B602-3487FAFA88D5\",\"HostId\":\"ecs.cn-hangzhou."
             "aliyuncs.com\",\"Code\":\"InvalidInstanceId.NotFound\",\"Message\":\"The specified "
             "InstanceId does not exist.\",\"Recommend\":\"https://api.aliyun.com/troubleshoot?q="
             "InvalidInstanceId.NotFound&product=Ecs&requestId=81EF1E7D-0D15-5CAF-B602-"
             "3487FAFA88D5\"}");
    assert_string_equal(aipa_path_string(d.root, "Code"), "InvalidInstanceId.NotFound");
    assert_non_null(strstr(aipa_path_string(d.root, "Recommend"), "product=Ecs&requestId="));
    aipa_doc_cleanup(&d);
}

/* DescribeInstances shapes: one path works for both formats and both cardinalities. */
static void test_describe_shapes(void **state)
{
    struct aipa_doc d;
    struct aipa_buf t;
    (void)state;

    aipa_doc_init(&d);
    aipa_buf_init(&t, 256);
    /* XML, one instance (a single element where JSON has an array), one address. */
    parse_ok(&d, "text/xml;charset=utf-8",
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DescribeInstancesResponse>"
             "<RequestId>R</RequestId><TotalCount>1</TotalCount><Instances><Instance>"
             "<InstanceId>i-1</InstanceId><InternetMaxBandwidthOut>5</InternetMaxBandwidthOut>"
             "<PublicIpAddress><IpAddress>47.96.0.7</IpAddress></PublicIpAddress>"
             "<OperationLocks></OperationLocks></Instance></Instances>"
             "</DescribeInstancesResponse>");
    assert_int_equal(aipa_path_array_len(d.root, "Instances.Instance"), 1);
    assert_string_equal(aipa_path_string(d.root, "Instances.Instance[0].InstanceId"), "i-1");
    assert_null(aipa_path_get(d.root, "Instances.Instance[1]"));
    assert_int_equal(aipa_path_array_len(d.root, "Instances.Instance[0].PublicIpAddress.IpAddress"),
                     1);
    assert_string_equal(
        aipa_path_string(d.root, "Instances.Instance[0].PublicIpAddress.IpAddress[0]"),
        "47.96.0.7");
    assert_string_equal(cJSON_GetStringValue(aipa_path_array_item(
                            d.root, "Instances.Instance[0].PublicIpAddress.IpAddress", 0)),
                        "47.96.0.7");
    assert_null(aipa_path_array_item(d.root, "Instances.Instance[0].PublicIpAddress.IpAddress", 1));
    /* An empty container counts as an empty array. */
    assert_int_equal(aipa_path_array_len(d.root, "Instances.Instance[0].OperationLocks.LockReason"),
                     0);
    assert_int_equal(aipa_path_array_len(d.root, "Instances.Instance[0].OperationLocks"), 0);
    assert_null(aipa_path_array_item(d.root, "Instances.Instance[0].OperationLocks", 0));
    /* XML leaves are strings; their text compares with JSON numbers. */
    const cJSON *bw = aipa_path_get(d.root, "Instances.Instance[0].InternetMaxBandwidthOut");
    assert_string_equal(aipa_node_type_name(bw), "string");
    assert_int_equal(aipa_node_scalar_text(bw, &t), AIPA_OK);
    assert_string_equal(t.ptr, "5");

    /* XML, two instances and two addresses: repeated siblings become arrays. */
    parse_ok(&d, NULL,
             "<DescribeInstancesResponse><Instances><Instance><InstanceId>i-1</InstanceId>"
             "<PublicIpAddress><IpAddress>1.1.1.1</IpAddress><IpAddress>2.2.2.2</IpAddress>"
             "<IpAddress>3.3.3.3</IpAddress></PublicIpAddress></Instance><Instance><InstanceId>"
             "i-2</InstanceId><PublicIpAddress/></Instance></Instances>"
             "</DescribeInstancesResponse>");
    assert_int_equal(aipa_path_array_len(d.root, "Instances.Instance"), 2);
    assert_string_equal(aipa_node_type_name(aipa_path_get(d.root, "Instances.Instance")), "array");
    assert_int_equal(aipa_path_array_len(d.root, "Instances.Instance[0].PublicIpAddress.IpAddress"),
                     3);
    assert_string_equal(
        aipa_path_string(d.root, "Instances.Instance[0].PublicIpAddress.IpAddress[2]"), "3.3.3.3");
    assert_string_equal(aipa_path_string(d.root, "Instances.Instance[1].InstanceId"), "i-2");
    assert_int_equal(aipa_path_array_len(d.root, "Instances.Instance[1].PublicIpAddress.IpAddress"),
                     0);

    /* JSON, same data, with numbers. */
    parse_ok(&d, "application/json",
             "{\"RequestId\":\"R\",\"TotalCount\":1,\"Instances\":{\"Instance\":[{\"InstanceId\":"
             "\"i-1\",\"InternetMaxBandwidthOut\":5,\"PublicIpAddress\":{\"IpAddress\":[]},"
             "\"OperationLocks\":{\"LockReason\":[{\"LockReason\":\"security\"}]}}]}}");
    assert_int_equal(aipa_path_array_len(d.root, "Instances.Instance"), 1);
    assert_int_equal(aipa_path_array_len(d.root, "Instances.Instance[0].PublicIpAddress.IpAddress"),
                     0);
    assert_string_equal(
        aipa_path_string(d.root, "Instances.Instance[0].OperationLocks.LockReason[0].LockReason"),
        "security");
    bw = aipa_path_get(d.root, "Instances.Instance[0].InternetMaxBandwidthOut");
    assert_string_equal(aipa_node_type_name(bw), "number");
    aipa_buf_reset(&t);
    assert_int_equal(aipa_node_scalar_text(bw, &t), AIPA_OK);
    assert_string_equal(t.ptr, "5");
    aipa_buf_cleanup(&t);
    aipa_doc_cleanup(&d);
}

/* ---- hostile bodies ---- */

static void test_entity_bomb(void **state)
{
    (void)state;
    parse_bad("text/xml",
              "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
              " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
              " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
              " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
              " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
              " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
              " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
              " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
              " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
              " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
              "]>\n<Error><Code>&lol9;</Code></Error>",
              AIPA_EPARSE, "DOCTYPE not allowed");
}

static void test_external_entity_and_dtd(void **state)
{
    (void)state;
    parse_bad("text/xml",
              "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
              "<Error><Code>&xxe;</Code></Error>",
              AIPA_EPARSE, "DOCTYPE not allowed");
    parse_bad("text/xml",
              "<?xml version=\"1.0\"?><!DOCTYPE Error SYSTEM \"http://127.0.0.1:1/x.dtd\">"
              "<Error><Code>x</Code></Error>",
              AIPA_EPARSE, "DOCTYPE not allowed");
    parse_bad("text/xml", "<!DOCTYPE Error><Error/>", AIPA_EPARSE, "DOCTYPE not allowed");
    /* Refused as soon as the DOCTYPE starts: a broken internal subset is never read. */
    parse_bad("text/xml", "<!DOCTYPE r [ <!GARBAGE ]><r/>", AIPA_EPARSE, "DOCTYPE not allowed");
    /* Parameter entities in the internal subset never get read either. */
    parse_bad("text/xml", "<!DOCTYPE r [<!ENTITY % p SYSTEM \"http://127.0.0.1:1/p\"> %p;]><r/>",
              AIPA_EPARSE, "DOCTYPE not allowed");
    /* An entity reference with no declaration at all. */
    parse_bad("text/xml", "<Error><Code>&xxe;</Code></Error>", AIPA_EPARSE,
              "undeclared entity reference");
    /* Predefined entities and character references are fine. */
    struct aipa_doc d;
    aipa_doc_init(&d);
    parse_ok(&d, "text/xml", "<E><M>&lt;&amp;&gt;&quot;&apos;&#13;&#x41;</M></E>");
    assert_string_equal(aipa_path_string(d.root, "M"), "<&>\"'\rA");
    aipa_doc_cleanup(&d);
}

static char *repeat(const char *a, size_t n, const char *mid, const char *b)
{
    size_t la = strlen(a), lm = strlen(mid), lb = strlen(b);
    char *s = malloc(n * (la + lb) + lm + 1);
    assert_non_null(s);
    char *p = s;
    for (size_t i = 0; i < n; i++) {
        memcpy(p, a, la);
        p += la;
    }
    memcpy(p, mid, lm);
    p += lm;
    for (size_t i = 0; i < n; i++) {
        memcpy(p, b, lb);
        p += lb;
    }
    *p = '\0';
    return s;
}

static void test_deep_nesting(void **state)
{
    (void)state;
    char *x = repeat("<a>", 100000, "x", "</a>");
    parse_bad("text/xml", x, AIPA_ETOOBIG, "too deep");
    free(x);
    char *j = repeat("[", 100000, "1", "]");
    parse_bad("application/json", j, AIPA_ETOOBIG, "too deep");
    free(j);
    j = repeat("{\"a\":", 5000, "1", "}");
    parse_bad(NULL, j, AIPA_ETOOBIG, "too deep");
    free(j);
    /* Brackets inside strings do not count. */
    struct aipa_doc d;
    aipa_doc_init(&d);
    j = repeat("", 0, "{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"{{{{\"}", "");
    parse_ok(&d, NULL, j);
    free(j);
    /* Exactly at the limit is accepted. */
    struct aipa_parse_limits lim = aipa_parse_default_limits();
    lim.max_depth = 4;
    const char *ok = "<a><b><c><d>x</d></c></b></a>";
    assert_int_equal(
        aipa_parse_body(AIPA_BODY_UNKNOWN, NULL, (const uint8_t *)ok, strlen(ok), &lim, &d, NULL),
        AIPA_OK);
    assert_string_equal(aipa_path_string(d.root, "b.c.d"), "x");
    const char *deep = "<a><b><c><d><e>x</e></d></c></b></a>";
    parse_bad_n(NULL, deep, strlen(deep), &lim, AIPA_ETOOBIG, "too deep (more than 4 levels)");
    aipa_doc_cleanup(&d);
}

static void test_truncated(void **state)
{
    (void)state;
    parse_bad("text/xml", "<?xml version=\"1.0\"?>\n<Error>\n<Code>InvalidVer", AIPA_EPARSE,
              "XML not well-formed at line 3");
    parse_bad("text/xml", "<Error><Code>x</Code>", AIPA_EPARSE, "XML not well-formed at line 1");
    parse_bad("application/json", "{\"Code\":\"Inva", AIPA_EPARSE, "JSON: unexpected");
    parse_bad("application/json", "{\"Code\":", AIPA_EPARSE, "JSON: unexpected");
    parse_bad("application/json", "{\"Code\" 1}", AIPA_EPARSE,
              "JSON: unexpected byte 0x31 at offset 8");
    parse_bad(NULL, "", AIPA_EPARSE, "empty body");
    parse_bad(NULL, "   ", AIPA_EPARSE, "unknown body format");
    parse_bad(NULL, "Internal Server Error", AIPA_EPARSE, "unknown body format");
}

static void test_invalid_utf8_and_nul(void **state)
{
    (void)state;
    parse_bad("text/xml", "<Error><Code>\xC0\xAF</Code></Error>", AIPA_EPARSE,
              "XML not well-formed");
    parse_bad("text/xml", "<Error><Code>\xED\xA0\x80</Code></Error>", AIPA_EPARSE,
              "XML not well-formed");
    parse_bad("application/json", "{\"Code\":\"\xFF\"}", AIPA_EPARSE,
              "JSON: invalid UTF-8 at offset 9");
    parse_bad("application/json", "{\"Code\":\"\xE2\x82\"}", AIPA_EPARSE, "JSON: invalid UTF-8");
    parse_bad("application/json", "{\"Code\":\"\\ud800\"}", AIPA_EPARSE, "JSON: unexpected");
    parse_bad("application/json", "{\"Code\":\"a\\u0000b\"}", AIPA_EPARSE, "\\u0000");
    parse_bad("application/json", "{\"Code\":\"a\tb\"}", AIPA_EPARSE, "control byte 0x09");

    static const char xnul[] = "<Error><Code>a\0b</Code></Error>";
    parse_bad_n("text/xml", xnul, sizeof(xnul) - 1, NULL, AIPA_EPARSE, "XML not well-formed");
    static const char jnul[] = "{\"Code\":\"a\0b\"}";
    parse_bad_n("application/json", jnul, sizeof(jnul) - 1, NULL, AIPA_EPARSE,
                "JSON: NUL byte at offset 10");
    static const char jnul_after[] = "{\"Code\":\"ab\"}\0{}";
    parse_bad_n("application/json", jnul_after, sizeof(jnul_after) - 1, NULL, AIPA_EPARSE,
                "JSON: NUL byte");
    parse_bad("text/xml", "<Error><Code>&#0;</Code></Error>", AIPA_EPARSE, "XML not well-formed");
}

/* A member twice: the SDKs keep the last, cJSON the first; neither is safe to pick. */
static void test_duplicate_members(void **state)
{
    (void)state;
    parse_bad("application/json", "{\"Code\":\"A\",\"Message\":\"m\",\"Code\":\"B\"}", AIPA_EPARSE,
              "JSON: duplicate member \"Code\"");
    parse_bad("application/json", "{\"a\":[{\"x\":1,\"x\":2}]}", AIPA_EPARSE,
              "duplicate member \"x\"");
    /* A large object takes the sorting path; the reason stays one printable line. */
    struct aipa_buf b;
    aipa_buf_init(&b, 1 << 20);
    assert_int_equal(aipa_buf_puts(&b, "{"), AIPA_OK);
    for (int i = 0; i < 5000; i++) {
        assert_int_equal(aipa_buf_printf(&b, "\"k%d\":%d,", i, i), AIPA_OK);
    }
    assert_int_equal(aipa_buf_puts(&b, "\"k\\n\\\"1\":0,\"k\\n\\\"1\":1}"), AIPA_OK);
    parse_bad("application/json", b.ptr, AIPA_EPARSE, "duplicate member \"k??1\"");
    /* Without the duplicate it parses; equal names in different objects are fine. */
    aipa_buf_reset(&b);
    assert_int_equal(aipa_buf_puts(&b, "{"), AIPA_OK);
    for (int i = 0; i < 5000; i++) {
        assert_int_equal(aipa_buf_printf(&b, "\"k%d\":{\"v\":%d},", i, i), AIPA_OK);
    }
    assert_int_equal(aipa_buf_puts(&b, "\"v\":0}"), AIPA_OK);
    struct aipa_doc d;
    aipa_doc_init(&d);
    parse_ok(&d, NULL, b.ptr);
    assert_int_equal(cJSON_GetNumberValue(aipa_path_get(d.root, "k4999.v")), 4999);
    aipa_doc_cleanup(&d);
    aipa_buf_cleanup(&b);
}

static void test_trailing_garbage(void **state)
{
    (void)state;
    parse_bad("application/json", "{\"Code\":\"x\"} junk", AIPA_EPARSE,
              "JSON: trailing data at offset 13");
    parse_bad("application/json", "{\"a\":1}{\"b\":2}", AIPA_EPARSE, "trailing data at offset 7");
    parse_bad("text/xml", "<Error><Code>x</Code></Error><Error/>", AIPA_EPARSE,
              "XML not well-formed");
    parse_bad("text/xml", "<Error/>junk", AIPA_EPARSE, "XML not well-formed");
    /* Trailing whitespace is fine. */
    struct aipa_doc d;
    aipa_doc_init(&d);
    parse_ok(&d, "application/json", "{\"Code\":\"x\"}\r\n\t ");
    parse_ok(&d, "text/xml", "<Error><Code>x</Code></Error>\n\n");
    aipa_doc_cleanup(&d);
}

static void test_size_limits(void **state)
{
    (void)state;
    const size_t ten = 10u << 20;
    char *big = malloc(ten + 1);
    assert_non_null(big);

    /* 10 MiB of JSON string: over the 8 MiB default, rejected before parsing. */
    memset(big, 'a', ten);
    memcpy(big, "{\"a\":\"", 6);
    memcpy(big + ten - 2, "\"}", 2);
    big[ten] = '\0';
    parse_bad_n("application/json", big, ten, NULL, AIPA_ETOOBIG, "body larger than 8388608 bytes");
    /* With a larger cap it parses. */
    struct aipa_parse_limits lim = aipa_parse_default_limits();
    lim.max_bytes = 16u << 20;
    struct aipa_doc d;
    aipa_doc_init(&d);
    assert_int_equal(
        aipa_parse_body(AIPA_BODY_UNKNOWN, NULL, (const uint8_t *)big, ten, &lim, &d, NULL),
        AIPA_OK);
    assert_int_equal(strlen(aipa_path_string(d.root, "a")), ten - 8);

    /* 10 MiB of elements: the element cap stops it. */
    size_t n = 0;
    memcpy(big, "<r>", 3);
    n = 3;
    while (n + 4 + 4 <= ten) {
        memcpy(big + n, "<a/>", 4);
        n += 4;
    }
    memcpy(big + n, "</r>", 4);
    n += 4;
    parse_bad_n("text/xml", big, n, &lim, AIPA_ETOOBIG, "too many elements");
    /* And 10 MiB of one text node parses under the larger cap. */
    memcpy(big, "<r>", 3);
    memset(big + 3, 'x', ten - 7);
    memcpy(big + ten - 4, "</r>", 4);
    assert_int_equal(
        aipa_parse_body(AIPA_BODY_XML, NULL, (const uint8_t *)big, ten, &lim, &d, NULL), AIPA_OK);
    assert_string_equal(d.root_name, "r");
    assert_int_equal(strlen(d.root->valuestring), ten - 7);
    aipa_doc_cleanup(&d);
    free(big);
}

/* Content type first, then sniffing. */
static void test_detect_format(void **state)
{
    (void)state;
    const uint8_t x[] = "<a/>";
    const uint8_t j[] = "{}";
    const uint8_t bom[] = "\xEF\xBB\xBF \n<a/>";
    assert_int_equal(aipa_detect_format("application/json;charset=utf-8", x, 4), AIPA_BODY_JSON);
    assert_int_equal(aipa_detect_format("Text/XML", j, 2), AIPA_BODY_XML);
    assert_int_equal(aipa_detect_format("application/problem+json", x, 4), AIPA_BODY_JSON);
    /* A parameter mentioning json does not count. */
    assert_int_equal(aipa_detect_format("text/plain; x=json", x, 4), AIPA_BODY_XML);
    assert_int_equal(aipa_detect_format("text/plain", j, 2), AIPA_BODY_JSON);
    assert_int_equal(aipa_detect_format(NULL, bom, sizeof(bom) - 1), AIPA_BODY_XML);
    assert_int_equal(aipa_detect_format(NULL, (const uint8_t *)"[1]", 3), AIPA_BODY_JSON);
    assert_int_equal(aipa_detect_format(NULL, (const uint8_t *)"ok", 2), AIPA_BODY_UNKNOWN);
    assert_int_equal(aipa_detect_format(NULL, NULL, 0), AIPA_BODY_UNKNOWN);
    assert_string_equal(aipa_body_format_name(AIPA_BODY_JSON), "json");
    /* A forced format wins over the content type. */
    struct aipa_doc d;
    aipa_doc_init(&d);
    assert_int_equal(aipa_parse_body(AIPA_BODY_JSON, "text/xml", j, 2, NULL, &d, NULL), AIPA_OK);
    assert_int_equal(d.format, AIPA_BODY_JSON);
    aipa_doc_cleanup(&d);
}

static void test_paths(void **state)
{
    struct aipa_doc d;
    const cJSON *out;
    (void)state;

    aipa_doc_init(&d);
    parse_ok(&d, NULL,
             "{\"a\":{\"b\":[{\"c\":\"x\"},{\"c\":\"y\"}],\"n\":1.5,\"t\":true,\"z\":null,"
             "\"big\":12345678901},\"d.e\":1,\"arr\":[[1,2],[3]]}");
    assert_string_equal(aipa_path_string(d.root, "a.b[1].c"), "y");
    assert_string_equal(aipa_path_string(d.root, "a.b[0].c"), "x");
    assert_null(aipa_path_string(d.root, "a.b[2].c"));
    assert_null(aipa_path_string(d.root, "a.n"));
    assert_int_equal(aipa_path_array_len(d.root, "a.b"), 2);
    assert_int_equal(aipa_path_array_len(d.root, "a.missing"), 0);
    assert_int_equal(aipa_path_array_len(d.root, "a.n"), 1);
    assert_int_equal(aipa_path_array_len(d.root, "arr[0]"), 2);
    assert_int_equal(cJSON_GetNumberValue(aipa_path_get(d.root, "arr[0][1]")), 2);
    assert_int_equal(cJSON_GetNumberValue(aipa_path_get(d.root, "arr[1][0]")), 3);
    /* The one-element rule: [0] of a non-array is the node. */
    assert_ptr_equal(aipa_path_get(d.root, "a[0]"), aipa_path_get(d.root, "a"));
    assert_null(aipa_path_get(d.root, "a[1]"));
    assert_ptr_equal(aipa_path_get(d.root, ""), d.root);
    assert_ptr_equal(aipa_path_get(d.root, "[0].a"), aipa_path_get(d.root, "a"));
    /* Case-sensitive names; a dot in a name cannot be addressed. */
    assert_null(aipa_path_get(d.root, "A"));
    assert_null(aipa_path_get(d.root, "d.e"));
    /* Malformed paths. */
    static const char *const bad[] = {
        "a..b", "a.",  ".a",    "a[",    "a[]",
        "a[x]", "a[0", "a.[0]", "a[0]b", "a[99999999999999999999999]"};
    for (size_t i = 0; i < AIPA_ARRAY_LEN(bad); i++) {
        assert_int_equal(aipa_path_lookup(d.root, bad[i], &out), AIPA_EINVAL);
        assert_null(out);
    }
    assert_int_equal(aipa_path_lookup(d.root, "a.q", &out), AIPA_ENOTFOUND);
    assert_int_equal(aipa_path_lookup(d.root, "a.b[1].c", &out), AIPA_OK);
    assert_int_equal(aipa_path_lookup(NULL, "a", &out), AIPA_ENOTFOUND);

    /* Types and scalar text. */
    assert_string_equal(aipa_node_type_name(aipa_path_get(d.root, "a.t")), "bool");
    assert_string_equal(aipa_node_type_name(aipa_path_get(d.root, "a.z")), "null");
    assert_string_equal(aipa_node_type_name(aipa_path_get(d.root, "a")), "object");
    assert_string_equal(aipa_node_type_name(aipa_path_get(d.root, "a.b")), "array");
    assert_string_equal(aipa_node_type_name(aipa_path_get(d.root, "nope")), "absent");
    struct aipa_buf t;
    aipa_buf_init(&t, 256);
    static const struct {
        const char *path;
        const char *text;
    } scal[] = {{"a.n", "1.5"},    {"a.t", "true"},          {"a.z", "null"},
                {"a.b[0].c", "x"}, {"a.big", "12345678901"}, {"d.e", NULL}};
    for (size_t i = 0; i < AIPA_ARRAY_LEN(scal); i++) {
        aipa_buf_reset(&t);
        const cJSON *n = aipa_path_get(d.root, scal[i].path);
        if (scal[i].text == NULL) {
            assert_int_equal(aipa_node_scalar_text(n, &t), AIPA_EINVAL);
            continue;
        }
        assert_int_equal(aipa_node_scalar_text(n, &t), AIPA_OK);
        assert_string_equal(t.ptr, scal[i].text);
    }
    assert_int_equal(aipa_node_scalar_text(aipa_path_get(d.root, "a"), &t), AIPA_EINVAL);
    aipa_buf_cleanup(&t);
    aipa_doc_cleanup(&d);
}

static void test_value_checks(void **state)
{
    (void)state;
    static const char *const ids_ok[] = {"473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E",
                                         "473469c7-aa6f-4dc5-b3db-a3dc0de3c83e",
                                         "00000000-0000-0000-0000-000000000000"};
    static const char *const ids_bad[] = {"473469C7-AA6F-4DC5-B3DB-a3dc0de3c83e", /* mixed case */
                                          "473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83",  /* short */
                                          "473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83EE",
                                          "473469C7AAA6F-4DC5-B3DB-A3DC0DE3C83E",
                                          "473469G7-AA6F-4DC5-B3DB-A3DC0DE3C83E",
                                          "{473469C7-AA6F-4DC5-B3DB-A3DC0DE3C8}",
                                          ""};
    for (size_t i = 0; i < AIPA_ARRAY_LEN(ids_ok); i++) {
        assert_true(aipa_is_request_id(ids_ok[i], strlen(ids_ok[i])));
    }
    for (size_t i = 0; i < AIPA_ARRAY_LEN(ids_bad); i++) {
        assert_false(aipa_is_request_id(ids_bad[i], strlen(ids_bad[i])));
    }
    assert_false(aipa_is_request_id(NULL, 36));

    static const char *const ip_ok[] = {"0.0.0.0", "255.255.255.255", "47.96.0.7", "10.0.0.1"};
    static const char *const ip_bad[] = {
        "256.0.0.1", "1.2.3",   "1.2.3.4.5",  "01.2.3.4",      "1.2.3.4 ", " 1.2.3.4",   "1..3.4",
        "1.2.3.",    "a.b.c.d", "1.2.3.4/24", "112.124.**.**", "",         "1.2.3.1000", "::1"};
    for (size_t i = 0; i < AIPA_ARRAY_LEN(ip_ok); i++) {
        assert_true(aipa_is_ipv4(ip_ok[i], strlen(ip_ok[i])));
    }
    for (size_t i = 0; i < AIPA_ARRAY_LEN(ip_bad); i++) {
        if (aipa_is_ipv4(ip_bad[i], strlen(ip_bad[i]))) {
            print_error("accepted %s\n", ip_bad[i]);
        }
        assert_false(aipa_is_ipv4(ip_bad[i], strlen(ip_bad[i])));
    }
    /* Length is authoritative: a valid prefix is not enough. */
    assert_false(aipa_is_ipv4("1.2.3.4", 5));
    assert_true(aipa_is_ipv4("1.2.3.4xyz", 7));
}

/* Many children (the indexed path): distinct names and interleaved repeats. */
static void test_xml_wide_elements(void **state)
{
    struct aipa_buf b;
    struct aipa_doc d;
    (void)state;

    aipa_buf_init(&b, 1 << 20);
    assert_int_equal(aipa_buf_puts(&b, "<r>"), AIPA_OK);
    for (int i = 0; i < 3000; i++) {
        assert_int_equal(aipa_buf_printf(&b, "<a%d>%d</a%d><X>%d</X>", i, i, i, i), AIPA_OK);
    }
    assert_int_equal(aipa_buf_puts(&b, "<Y><Z>1</Z></Y><Y><Z>2</Z></Y></r>"), AIPA_OK);
    aipa_doc_init(&d);
    parse_ok(&d, "text/xml", b.ptr);
    assert_int_equal(cJSON_GetArraySize(d.root), 3002);
    assert_int_equal(aipa_path_array_len(d.root, "X"), 3000);
    assert_string_equal(aipa_path_string(d.root, "X[0]"), "0");
    assert_string_equal(aipa_path_string(d.root, "X[2999]"), "2999");
    assert_string_equal(aipa_path_string(d.root, "a1234"), "1234");
    assert_string_equal(aipa_path_string(d.root, "Y[1].Z"), "2");
    aipa_doc_cleanup(&d);
    aipa_buf_cleanup(&b);
}

/* Encodings: UTF-16 XML with a BOM is converted; mislabelled or UTF-16 JSON is refused. */
static void test_encodings(void **state)
{
    (void)state;
    struct aipa_doc d;
    /* "<a>é</a>" in UTF-16LE with a BOM. */
    static const uint8_t utf16[] = {0xFF, 0xFE, '<', 0,   'a', 0,   '>', 0,   0xE9,
                                    0,    '<',  0,   '/', 0,   'a', 0,   '>', 0};
    aipa_doc_init(&d);
    assert_int_equal(aipa_parse_body(AIPA_BODY_XML, NULL, utf16, sizeof(utf16), NULL, &d, NULL),
                     AIPA_OK);
    assert_string_equal(d.root_name, "a");
    assert_string_equal(d.root->valuestring, "\xC3\xA9");
    aipa_doc_cleanup(&d);
    parse_bad("text/xml", "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>x</a>", AIPA_EPARSE,
              "XML not well-formed");
    parse_bad("text/xml", "<?xml version=\"1.0\" encoding=\"no-such-charset\"?><a>x</a>",
              AIPA_EPARSE, "XML not well-formed");
    static const uint8_t json16[] = {0xFF, 0xFE, '{', 0, '}', 0};
    parse_bad_n("application/json", json16, sizeof(json16), NULL, AIPA_EPARSE,
                "JSON: invalid UTF-8 at offset 0");
}

/* Attributes, comments, PIs and namespaces do not disturb the mapping. */
static void test_xml_mapping_details(void **state)
{
    struct aipa_doc d;
    (void)state;

    aipa_doc_init(&d);
    parse_ok(&d, "text/xml",
             "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><?pi x?><r xmlns=\"urn:x\" a=\"1\">"
             "<!-- c --><A k=\"v\">t\xE9</A>  <B> <C>1</C> mixed </B><E></E><F/><S>  </S></r>");
    assert_string_equal(d.root_name, "r");
    assert_string_equal(aipa_path_string(d.root, "A"), "t\xC3\xA9"); /* converted to UTF-8 */
    assert_string_equal(aipa_path_string(d.root, "B.C"), "1");
    assert_string_equal(aipa_path_string(d.root, "E"), "");
    assert_string_equal(aipa_path_string(d.root, "F"), "");
    assert_string_equal(aipa_node_type_name(aipa_path_get(d.root, "S")), "string");
    assert_int_equal(cJSON_GetArraySize(d.root), 5);
    aipa_doc_cleanup(&d);
}

/* ---- allocation failure injection ---- */

static void *oom_cjson_malloc(size_t n)
{
    return aipa_test_oom_now() ? NULL : malloc(n);
}

/*
 * Allocation failures inside the parser (its own buffers, and cJSON through
 * its hooks) give AIPA_ENOMEM with d->root NULL, or success; never a crash or
 * a leak. libxml2's own allocations are not injected.
 */
static void test_out_of_memory(void **state)
{
    static const char *const bodies[] = {
        "<?xml version='1.0' encoding='UTF-8'?><Error><RequestId>R</RequestId><Code>C</Code>"
        "<Recommend><![CDATA[https://x/?a=1&b=2]]></Recommend><A><B>1</B><B>2</B><B>3</B></A>"
        "</Error>",
        "{\"RequestId\":\"R\",\"Instances\":{\"Instance\":[{\"InstanceId\":\"i-1\",\"A\":[1,2,3]},"
        "{\"InstanceId\":\"i-2\",\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,"
        "\"k7\":7,\"k8\":8,\"k9\":9}]}}",
        "{\"a\":1,\"a\":2}",
    };
    cJSON_Hooks hooks = {oom_cjson_malloc, free};
    (void)state;

    for (size_t i = 0; i < AIPA_ARRAY_LEN(bodies); i++) {
        bool done = false;
        for (long k = 0; k < 2000 && !done; k++) {
            struct aipa_doc d;
            struct aipa_buf why;
            aipa_doc_init(&d);
            aipa_buf_init(&why, 1024);
            aipa_test_oom_arm(k);
            aipa_set_allocator(&aipa_test_oom_allocator);
            cJSON_InitHooks(&hooks);
            aipa_err e = aipa_parse_body(AIPA_BODY_UNKNOWN, NULL, (const uint8_t *)bodies[i],
                                         strlen(bodies[i]), NULL, &d, &why);
            cJSON_InitHooks(NULL);
            aipa_set_allocator(NULL);
            aipa_test_oom_arm(-1);
            if (i == 2) {
                /* A duplicate is a parse error once memory suffices to find it. */
                assert_true(e == AIPA_EPARSE || e == AIPA_ENOMEM);
                done = e == AIPA_EPARSE;
            } else {
                /*
                 * cJSON reports its own allocation failure as a parse
                 * failure (it returns NULL either way), so JSON may give
                 * AIPA_EPARSE here too; XML must say AIPA_ENOMEM.
                 */
                if (e != AIPA_OK && e != AIPA_ENOMEM && !(i == 1 && e == AIPA_EPARSE)) {
                    print_error("body %zu, failure at %ld: %s: %s\n", i, k, aipa_errname(e),
                                why.ptr != NULL ? why.ptr : "");
                }
                assert_true(e == AIPA_OK || e == AIPA_ENOMEM || (i == 1 && e == AIPA_EPARSE));
                done = e == AIPA_OK;
            }
            if (e != AIPA_OK) {
                assert_null(d.root);
            }
            aipa_doc_cleanup(&d);
            aipa_buf_cleanup(&why);
        }
        assert_true(done);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_success_bodies),
        cmocka_unit_test(test_spec_error_bodies),
        cmocka_unit_test(test_describe_shapes),
        cmocka_unit_test(test_entity_bomb),
        cmocka_unit_test(test_external_entity_and_dtd),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_invalid_utf8_and_nul),
        cmocka_unit_test(test_duplicate_members),
        cmocka_unit_test(test_trailing_garbage),
        cmocka_unit_test(test_size_limits),
        cmocka_unit_test(test_detect_format),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_value_checks),
        cmocka_unit_test(test_xml_mapping_details),
        cmocka_unit_test(test_xml_wide_elements),
        cmocka_unit_test(test_encodings),
        cmocka_unit_test(test_out_of_memory),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    xmlCleanupParser();
    return rc;
}
