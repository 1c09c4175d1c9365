/*
 * test_livefuzz_unit: the live fuzzer's pieces without a network: the
 * generator's determinism, rendering and signing, the oracles and ddmin.
 */
/* cmocka.h needs these first */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include "aipa/livefuzz.h"
#include "aipa/transport.h"
#include "aipa/render.h"
#include "aipa/sign.h"
#include "aipa/wire.h"
/* the report writers, to feed them every byte value */
#include "../../harness/lf/livefuzz_int.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <string.h>

static bool same_req(const struct aipa_lf_req *a, const struct aipa_lf_req *b)
{
    if (strcmp(a->method, b->method) != 0 || a->auth != b->auth || a->mut != b->mut ||
        strcmp(a->content_type, b->content_type) != 0 || strcmp(a->accept, b->accept) != 0 ||
        a->count != b->count) {
        return false;
    }
    for (size_t i = 0; i < a->count; i++) {
        if (a->params[i].name_len != b->params[i].name_len ||
            a->params[i].value_len != b->params[i].value_len ||
            a->params[i].flags != b->params[i].flags ||
            memcmp(a->params[i].name, b->params[i].name, a->params[i].name_len) != 0 ||
            memcmp(a->params[i].value, b->params[i].value, a->params[i].value_len) != 0) {
            return false;
        }
    }
    return true;
}

static void test_generator_is_deterministic(void **state)
{
    struct aipa_lf_gen g1, g2, g3;
    struct aipa_lf_req r1, r2, r3;
    size_t differ = 0, mutated = 0;

    (void)state;
    aipa_lf_gen_init(&g1, 42, 10);
    aipa_lf_gen_init(&g2, 42, 10);
    aipa_lf_gen_init(&g3, 43, 10);
    aipa_lf_req_init(&r1);
    aipa_lf_req_init(&r2);
    aipa_lf_req_init(&r3);
    for (int i = 0; i < 2000; i++) {
        assert_int_equal(aipa_lf_generate(&g1, &r1), AIPA_OK);
        assert_int_equal(aipa_lf_generate(&g2, &r2), AIPA_OK);
        assert_int_equal(aipa_lf_generate(&g3, &r3), AIPA_OK);
        assert_true(same_req(&r1, &r2));
        differ += !same_req(&r1, &r3);
        mutated += r1.mut != 0 || strcmp(r1.method, "GET") != 0;
    }
    assert_true(differ > 1000); /* another seed, other requests */
    assert_true(mutated > 100);
    aipa_lf_req_cleanup(&r1);
    aipa_lf_req_cleanup(&r2);
    aipa_lf_req_cleanup(&r3);
    aipa_lf_gen_cleanup(&g1);
    aipa_lf_gen_cleanup(&g2);
    aipa_lf_gen_cleanup(&g3);
}

static const char *const ids[] = {"i-target0", "i-target1"};

static void sign_ctx(struct aipa_lf_sign_ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->access_key_id = "testid";
    c->access_key_secret = "testsecret";
    c->now = 1700000000;
    c->nonce = "nonce-1";
    c->host = "127.0.0.1:8080";
    c->ids = ids;
    c->id_count = 2;
}

/* Parses the rendered query and verifies its V1 signature as a server would. */
static bool v1_verifies(const struct aipa_lf_wire *w)
{
    struct aipa_params p;
    struct aipa_wire_result res;
    struct aipa_buf sts;
    bool match = false;
    const char *q = strchr(w->target.ptr, '?');

    aipa_params_init(&p, NULL);
    aipa_buf_init(&sts, 1u << 20);
    assert_non_null(q);
    assert_int_equal(aipa_wire_parse((const uint8_t *)q + 1, strlen(q + 1), AIPA_WIRE_PLUS_IS_SPACE,
                                     AIPA_PARAM_QUERY, &p, &res),
                     AIPA_OK);
    assert_int_equal(aipa_v1_verify(w->method, &p, "testsecret", &sts, &match), AIPA_OK);
    aipa_params_cleanup(&p);
    aipa_buf_cleanup(&sts);
    return match;
}

static void test_render_v1_signs_and_substitutes(void **state)
{
    struct aipa_lf_req r;
    struct aipa_lf_wire w;
    struct aipa_lf_sign_ctx c;

    (void)state;
    sign_ctx(&c);
    aipa_lf_req_init(&r);
    aipa_lf_wire_init(&w);
    assert_int_equal(aipa_lf_req_add_cstr(&r, "Action", "AllocatePublicIpAddress"), AIPA_OK);
    assert_int_equal(aipa_lf_req_add_cstr(&r, "InstanceId", "${vm1}"), AIPA_OK);
    assert_int_equal(aipa_lf_req_add_cstr(&r, "OwnerAccount", "a b*c~d!'()+/\xc3\xa9"), AIPA_OK);
    assert_int_equal(aipa_lf_render(&r, &c, &w), AIPA_OK);
    assert_non_null(strstr(w.target.ptr, "InstanceId=i-target1"));
    assert_non_null(strstr(w.target.ptr, "Timestamp=2023-11-14T22%3A13%3A20Z"));
    assert_non_null(strstr(w.target.ptr, "SignatureNonce=nonce-1"));
    assert_string_equal(w.nonce, "nonce-1");
    assert_true(v1_verifies(&w));

    /* only a known ${vmN} is replaced; "$${" is no escape here, the rest stays as written */
    aipa_lf_req_clear(&r);
    assert_int_equal(aipa_lf_req_add_cstr(&r, "Action", "AllocatePublicIpAddress"), AIPA_OK);
    assert_int_equal(aipa_lf_req_add(&r, "InstanceId", 10, "$${vm0}|${vm7}|${vm}|${vm1", 26,
                                     AIPA_LF_P_RAW),
                     AIPA_OK);
    assert_int_equal(aipa_lf_render(&r, &c, &w), AIPA_OK);
    assert_non_null(strstr(w.target.ptr, "InstanceId=$i-target0|${vm7}|${vm}|${vm1&"));
    aipa_lf_req_clear(&r);
    assert_int_equal(aipa_lf_req_add_cstr(&r, "Action", "AllocatePublicIpAddress"), AIPA_OK);
    assert_int_equal(aipa_lf_req_add_cstr(&r, "InstanceId", "${vm1}"), AIPA_OK);
    assert_int_equal(aipa_lf_req_add_cstr(&r, "OwnerAccount", "a b*c~d!'()+/\xc3\xa9"), AIPA_OK);

    /* a wrong secret is a well-formed signature that does not verify */
    r.mut = AIPA_LF_M_BAD_SIGNATURE;
    assert_int_equal(aipa_lf_render(&r, &c, &w), AIPA_OK);
    assert_false(v1_verifies(&w));

    /* stale timestamps and reused nonces */
    r.mut = AIPA_LF_M_STALE_TIMESTAMP | AIPA_LF_M_REUSE_NONCE;
    c.prev_nonce = "nonce-0";
    assert_int_equal(aipa_lf_render(&r, &c, &w), AIPA_OK);
    assert_non_null(strstr(w.target.ptr, "Timestamp=2023-11-14T21%3A13%3A20Z"));
    assert_non_null(strstr(w.target.ptr, "SignatureNonce=nonce-0"));
    assert_true(v1_verifies(&w)); /* still signed correctly: the server must reject it */
    aipa_lf_wire_cleanup(&w);
    aipa_lf_req_cleanup(&r);
}

static void test_render_raw_and_body(void **state)
{
    struct aipa_lf_req r;
    struct aipa_lf_wire w;
    struct aipa_lf_sign_ctx c;

    (void)state;
    sign_ctx(&c);
    aipa_lf_req_init(&r);
    aipa_lf_wire_init(&w);
    assert_int_equal(aipa_lf_req_add(&r, "Action", 6, "StartInstance", 13, AIPA_LF_P_BODY),
                     AIPA_OK);
    assert_int_equal(aipa_lf_req_add(&r, "InstanceId", 10, "i-%zz a", 7, AIPA_LF_P_RAW), AIPA_OK);
    snprintf(r.method, sizeof(r.method), "POST");
    assert_int_equal(aipa_lf_render(&r, &c, &w), AIPA_OK);
    /* the bad escape goes out as is; the space cannot, so it is still encoded */
    assert_non_null(strstr(w.target.ptr, "InstanceId=i-%zz%20a"));
    /* Action in the body takes the common parameters with it */
    assert_non_null(strstr(w.body.ptr, "Action=StartInstance"));
    assert_non_null(strstr(w.body.ptr, "Signature="));
    assert_non_null(strstr(w.headers.ptr, "Content-Type: application/x-www-form-urlencoded"));
    aipa_lf_wire_cleanup(&w);
    aipa_lf_req_cleanup(&r);
}

static void test_render_v3_headers(void **state)
{
    struct aipa_lf_req r;
    struct aipa_lf_wire w;
    struct aipa_lf_sign_ctx c;
    struct aipa_header hs[16];
    size_t n;
    bool auth = false, action = false;

    (void)state;
    sign_ctx(&c);
    aipa_lf_req_init(&r);
    aipa_lf_wire_init(&w);
    r.auth = AIPA_SIG_V3;
    assert_int_equal(aipa_lf_req_add_cstr(&r, "Action", "\t AllocatePublicIpAddress \r\n"),
                     AIPA_OK);
    assert_int_equal(aipa_lf_req_add_cstr(&r, "InstanceId", "${vm0}"), AIPA_OK);
    assert_int_equal(aipa_lf_render(&r, &c, &w), AIPA_OK);
    assert_string_equal(w.target.ptr, "/?InstanceId=i-target0");
    n = aipa_lf_wire_headers(&w, hs, 16);
    for (size_t i = 0; i < n; i++) {
        if (aipa_slice_eq(hs[i].name, "Authorization")) {
            auth = hs[i].value.len > 20 &&
                   memcmp(hs[i].value.ptr, "ACS3-HMAC-SHA256 Credential=testid,", 35) == 0;
        }
        if (aipa_slice_eq(hs[i].name, "x-acs-action")) {
            /* trimmed and without controls, as an HTTP server would hand it over */
            action = aipa_slice_eq(hs[i].value, "AllocatePublicIpAddress");
        }
    }
    assert_true(auth);
    assert_true(action);
    aipa_lf_wire_cleanup(&w);
    aipa_lf_req_cleanup(&r);
}

static void set_resp(struct aipa_lf_resp *r, long status, const char *ct, const char *body)
{
    aipa_buf_reset(&r->body);
    r->status = status;
    snprintf(r->content_type, sizeof(r->content_type), "%s", ct);
    assert_int_equal(aipa_buf_puts(&r->body, body), AIPA_OK);
}

static bool has_oracle(const struct aipa_lf_hit *h, size_t n, enum aipa_lf_oracle o)
{
    for (size_t i = 0; i < n; i++) {
        if (h[i].oracle == o) {
            return true;
        }
    }
    return false;
}

static void test_oracles(void **state)
{
    struct aipa_lf_req r;
    struct aipa_lf_wire w;
    struct aipa_lf_resp t, ref;
    struct aipa_lf_hit h[16];
    size_t n;
    const char *ok_ref = "{\"RequestId\":\"F2EF6A3B-E345-46B9-931E-0EA094818567\","
                         "\"Code\":\"IncorrectInstanceStatus\",\"Message\":\"x\"}";

    (void)state;
    aipa_lf_req_init(&r);
    aipa_lf_wire_init(&w);
    aipa_lf_resp_init(&t);
    aipa_lf_resp_init(&ref);
    assert_int_equal(aipa_lf_req_add_cstr(&r, "Action", "AllocatePublicIpAddress"), AIPA_OK);
    set_resp(&ref, 403, AIPA_CT_JSON, ok_ref);

    /* the same answer as the reference: nothing */
    set_resp(&t, 403, AIPA_CT_JSON, ok_ref);
    assert_int_equal(aipa_lf_judge(&r, &w, &t, &ref, h, 16), 0);

    /* another status */
    set_resp(&t, 400, AIPA_CT_JSON, ok_ref);
    n = aipa_lf_judge(&r, &w, &t, &ref, h, 16);
    assert_true(has_oracle(h, n, AIPA_LF_O_DIFF_STATUS));
    assert_true(has_oracle(h, n, AIPA_LF_O_UNDOCUMENTED)); /* 400 is not its documented status */

    /* another Code */
    set_resp(&t, 403, AIPA_CT_JSON,
             "{\"RequestId\":\"F2EF6A3B-E345-46B9-931E-0EA094818567\","
             "\"Code\":\"InstanceLockedForSecurity\"}");
    n = aipa_lf_judge(&r, &w, &t, &ref, h, 16);
    assert_true(has_oracle(h, n, AIPA_LF_O_DIFF_CODE));
    assert_false(has_oracle(h, n, AIPA_LF_O_DIFF_STATUS));

    /* no RequestId, a malformed body, a wrong content type */
    set_resp(&t, 403, AIPA_CT_JSON, "{\"Code\":\"IncorrectInstanceStatus\"}");
    n = aipa_lf_judge(&r, &w, &t, &ref, h, 16);
    assert_true(has_oracle(h, n, AIPA_LF_O_REQUEST_ID));
    set_resp(&t, 403, AIPA_CT_JSON, "{\"RequestId\":\"x\",\"Code\":");
    n = aipa_lf_judge(&r, &w, &t, &ref, h, 16);
    assert_true(has_oracle(h, n, AIPA_LF_O_MALFORMED));
    set_resp(&t, 403, "text/html", ok_ref);
    n = aipa_lf_judge(&r, &w, &t, &ref, h, 16);
    assert_true(has_oracle(h, n, AIPA_LF_O_CONTENT_TYPE));

    /* an undocumented 5xx */
    set_resp(&t, 502, AIPA_CT_JSON, "{\"RequestId\":\"x\"}");
    n = aipa_lf_judge(&r, &w, &t, NULL, h, 16);
    assert_true(has_oracle(h, n, AIPA_LF_O_SERVER_ERROR));

    /* a leaked trace; the same text sent by the request itself is an echo */
    set_resp(&t, 403, AIPA_CT_JSON,
             "{\"RequestId\":\"F2EF6A3B-E345-46B9-931E-0EA094818567\",\"Code\":"
             "\"IncorrectInstanceStatus\",\"Message\":\"at Foo.run(Foo.java:12)\"}");
    n = aipa_lf_judge(&r, &w, &t, &ref, h, 16);
    assert_true(has_oracle(h, n, AIPA_LF_O_LEAK));
    assert_int_equal(aipa_lf_req_add_cstr(&r, "OwnerAccount", "Foo.java:12"), AIPA_OK);
    n = aipa_lf_judge(&r, &w, &t, &ref, h, 16);
    assert_false(has_oracle(h, n, AIPA_LF_O_LEAK));

    /* an allocation success without an address */
    set_resp(&ref, 200, AIPA_CT_JSON, "{\"RequestId\":\"x\",\"IpAddress\":\"47.96.0.1\"}");
    set_resp(&t, 200, AIPA_CT_JSON, "{\"RequestId\":\"x\",\"IpAddress\":\"47.96.0\"}");
    n = aipa_lf_judge(&r, &w, &t, &ref, h, 16);
    assert_true(has_oracle(h, n, AIPA_LF_O_SCHEMA));

    /* no answer at all */
    t.status = 0;
    t.transport_error = true;
    n = aipa_lf_judge(&r, &w, &t, &ref, h, 16);
    assert_true(has_oracle(h, n, AIPA_LF_O_TRANSPORT));

    aipa_lf_resp_cleanup(&t);
    aipa_lf_resp_cleanup(&ref);
    aipa_lf_wire_cleanup(&w);
    aipa_lf_req_cleanup(&r);
}

static void test_documented(void **state)
{
    (void)state;
    assert_true(aipa_lf_documented(200, ""));
    assert_true(aipa_lf_documented(403, "IncorrectInstanceStatus"));
    assert_false(aipa_lf_documented(400, "IncorrectInstanceStatus"));
    assert_true(aipa_lf_documented(404, "InvalidInstanceId.NotFound"));
    assert_true(aipa_lf_documented(400, "MissingInstanceId"));
    assert_false(aipa_lf_documented(400, "Missing"));
    assert_false(aipa_lf_documented(400, "NoSuchThing"));
    assert_false(aipa_lf_documented(400, ""));
    assert_false(aipa_lf_documented(302, "InvalidParameter"));
}

struct pair {
    size_t a, b;
    size_t calls;
};

static bool needs_pair(const size_t *keep, size_t k, void *ctx)
{
    struct pair *p = ctx;
    bool a = false, b = false;

    p->calls++;
    for (size_t i = 0; i < k; i++) {
        a = a || keep[i] == p->a;
        b = b || keep[i] == p->b;
    }
    return a && b;
}

static bool always(const size_t *keep, size_t k, void *ctx)
{
    (void)keep;
    (void)k;
    (void)ctx;
    return true;
}

static void test_ddmin(void **state)
{
    size_t keep[64];
    size_t n = 0, runs = 0;
    struct pair p = {3, 41, 0};

    (void)state;
    assert_int_equal(aipa_lf_ddmin(50, needs_pair, &p, 1000, keep, &n, &runs), AIPA_OK);
    assert_int_equal(n, 2);
    assert_int_equal(keep[0], 3);
    assert_int_equal(keep[1], 41);
    assert_int_equal(runs, p.calls);
    assert_true(runs < 200);

    assert_int_equal(aipa_lf_ddmin(50, always, NULL, 1000, keep, &n, &runs), AIPA_OK);
    assert_int_equal(n, 0); /* nothing is needed */
    assert_int_equal(runs, 1);

    /* the budget bounds the work; the result still fails */
    p.calls = 0;
    assert_int_equal(aipa_lf_ddmin(50, needs_pair, &p, 5, keep, &n, &runs), AIPA_OK);
    assert_true(runs <= 5);
    assert_true(n >= 2);
}

static void test_loopback(void **state)
{
    (void)state;
    assert_true(aipa_lf_host_is_loopback("127.0.0.1"));
    assert_true(aipa_lf_host_is_loopback("127.1.2.3"));
    assert_true(aipa_lf_host_is_loopback("::1"));
    assert_true(aipa_lf_host_is_loopback("[::1]"));
    assert_true(aipa_lf_host_is_loopback("localhost"));
    assert_false(aipa_lf_host_is_loopback("10.0.0.1"));
    assert_false(aipa_lf_host_is_loopback("127.0.0.1.example.com"));
    assert_false(aipa_lf_host_is_loopback("ecs.aliyuncs.com"));
    assert_false(aipa_lf_host_is_loopback(NULL));
}

/*
 * The renderer signs through the harness's one signer and keeps its trace;
 * a secret longer than any stack buffer is used whole (V1 and V3), and a
 * long Action reaches x-acs-action whole.
 */
static void test_render_trace_and_long_values(void **state)
{
    struct aipa_lf_req r;
    struct aipa_lf_wire w;
    struct aipa_lf_sign_ctx c;
    char secret[1200];
    char action[700];
    char sig[AIPA_V3_SIG_LEN + 1];

    (void)state;
    memset(secret, 'k', sizeof(secret) - 1);
    secret[sizeof(secret) - 1] = '\0';
    memset(action, 'A', sizeof(action) - 1);
    action[sizeof(action) - 1] = '\0';
    sign_ctx(&c);
    c.access_key_secret = secret;
    aipa_lf_req_init(&r);
    aipa_lf_wire_init(&w);
    assert_int_equal(aipa_lf_req_add_cstr(&r, "Action", "AllocatePublicIpAddress"), AIPA_OK);
    assert_int_equal(aipa_lf_render(&r, &c, &w), AIPA_OK);
    assert_true(w.trace.string_to_sign.len > 0);
    assert_int_equal(aipa_v1_signature(secret, w.trace.string_to_sign.ptr,
                                       w.trace.string_to_sign.len, sig),
                     AIPA_OK);
    assert_string_equal(sig, w.trace.signature);
    /* V3 */
    aipa_lf_req_clear(&r);
    r.auth = AIPA_SIG_V3;
    assert_int_equal(aipa_lf_req_add_cstr(&r, "Action", action), AIPA_OK);
    assert_int_equal(aipa_lf_req_add_cstr(&r, "Version", "2014-05-26"), AIPA_OK);
    assert_int_equal(aipa_lf_render(&r, &c, &w), AIPA_OK);
    assert_string_equal(w.trace.signed_headers.ptr,
                        "host;x-acs-action;x-acs-content-sha256;x-acs-date;"
                        "x-acs-signature-nonce;x-acs-version");
    assert_non_null(strstr(w.trace.canonical_request.ptr, action));
    assert_int_equal(aipa_v3_signature(secret, w.trace.string_to_sign.ptr,
                                       w.trace.string_to_sign.len, sig),
                     AIPA_OK);
    assert_string_equal(sig, w.trace.signature);
    assert_non_null(strstr(w.headers.ptr, sig));
    assert_non_null(strstr(w.headers.ptr, action));
    aipa_lf_wire_cleanup(&w);
    aipa_lf_req_cleanup(&r);
}

/*
 * Header lines for libcurl, from the rendered wire as the engine hands them
 * to the transport: an empty value must still be sent (signed V3 headers).
 */
static void test_curl_header(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"x-acs-version: ", "x-acs-version;"},
        {"x-acs-version:", "x-acs-version;"},
        {"x-acs-version: 2014-05-26", "x-acs-version: 2014-05-26"},
        {"Accept: application/json", "Accept: application/json"},
    };
    struct aipa_buf b;
    struct aipa_lf_wire w;

    (void)state;
    aipa_buf_init(&b, 1024);
    aipa_lf_wire_init(&w);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct aipa_header hs[2];
        struct aipa_tx_header th;

        aipa_buf_reset(&w.headers);
        assert_int_equal(aipa_buf_printf(&w.headers, "%s\n", cases[i].in), AIPA_OK);
        assert_int_equal(aipa_lf_wire_headers(&w, hs, 2), 1);
        th.name = (const char *)hs[0].name.ptr;
        th.name_len = hs[0].name.len;
        th.value = (const char *)hs[0].value.ptr;
        th.value_len = hs[0].value.len;
        assert_int_equal(aipa_tx_header_line(&th, &b), AIPA_OK);
        assert_string_equal(b.ptr, cases[i].out);
    }
    {
        struct aipa_tx_header raw = {"NoColon", 7, NULL, 0};

        assert_int_equal(aipa_tx_header_line(&raw, &b), AIPA_OK);
        assert_string_equal(b.ptr, "NoColon");
    }
    aipa_lf_wire_cleanup(&w);
    aipa_buf_cleanup(&b);
}

/*
 * The latitude set and the options of aipa_lf_judge_with: an answer among
 * the alternatives of a row the reference reported passes (not with
 * strict, and a miss names the row); without the reference every 5xx is a
 * server-error unless allow_transient and documented transient; a body over
 * the cap is too-large and nothing else; a slow answer is slow.
 */
static void test_judge_latitude_and_options(void **state)
{
    struct aipa_lf_req r;
    struct aipa_lf_wire w;
    struct aipa_lf_resp t, ref;
    struct aipa_lf_hit h[16];
    struct aipa_lf_judge_opts o;
    size_t n;
    const char *rid = "\"RequestId\":\"F2EF6A3B-E345-46B9-931E-0EA094818567\"";
    char body[256];

    (void)state;
    aipa_lf_req_init(&r);
    aipa_lf_wire_init(&w);
    aipa_lf_resp_init(&t);
    aipa_lf_resp_init(&ref);
    memset(&o, 0, sizeof(o));
    o.edition = AIPA_ED_2024;
    assert_int_equal(aipa_lf_req_add_cstr(&r, "Action", "AllocatePublicIpAddress"), AIPA_OK);
    snprintf(body, sizeof(body), "{%s,\"Code\":\"MissingParameter\"}", rid);
    set_resp(&ref, 400, AIPA_CT_JSON, body);
    aipa_lat_set_add(&ref.latitude, AIPA_LAT_MISSING_INSTANCE_ID);
    snprintf(body, sizeof(body), "{%s,\"Code\":\"MissingInstanceId\"}", rid);
    set_resp(&t, 400, AIPA_CT_JSON, body);
    assert_int_equal(aipa_lf_judge_with(&r, &w, &t, &ref, &o, h, 16), 0);
    o.strict = true;
    n = aipa_lf_judge_with(&r, &w, &t, &ref, &o, h, 16);
    assert_true(has_oracle(h, n, AIPA_LF_O_DIFF_CODE));
    assert_string_equal(h[0].row, "missing-instanceid-code");
    assert_non_null(strstr(h[0].detail, "outside latitude row missing-instanceid-code"));
    o.strict = false;
    /* outside the row: a finding, naming it */
    snprintf(body, sizeof(body), "{%s,\"Code\":\"InvalidInstanceId.NotFound\"}", rid);
    set_resp(&t, 404, AIPA_CT_JSON, body);
    n = aipa_lf_judge_with(&r, &w, &t, &ref, &o, h, 16);
    assert_true(has_oracle(h, n, AIPA_LF_O_DIFF_STATUS));
    assert_string_equal(h[n - 1].row, "missing-instanceid-code");

    /* no reference: a documented 500 is still a server-error, unless allowed as transient */
    snprintf(body, sizeof(body), "{%s,\"Code\":\"InternalError\"}", rid);
    set_resp(&t, 500, AIPA_CT_JSON, body);
    n = aipa_lf_judge_with(&r, &w, &t, NULL, &o, h, 16);
    assert_true(has_oracle(h, n, AIPA_LF_O_SERVER_ERROR));
    o.allow_transient = true;
    assert_false(has_oracle(h, aipa_lf_judge_with(&r, &w, &t, NULL, &o, h, 16),
                            AIPA_LF_O_SERVER_ERROR));
    snprintf(body, sizeof(body), "{%s,\"Code\":\"Boom\"}", rid);
    set_resp(&t, 500, AIPA_CT_JSON, body);
    n = aipa_lf_judge_with(&r, &w, &t, NULL, &o, h, 16);
    assert_true(has_oracle(h, n, AIPA_LF_O_SERVER_ERROR));

    /* over the cap: too-large alone */
    set_resp(&t, 200, AIPA_CT_JSON, "{\"RequestId\":");
    t.truncated = true;
    n = aipa_lf_judge_with(&r, &w, &t, &ref, &o, h, 16);
    assert_int_equal(n, 1);
    assert_int_equal(h[0].oracle, AIPA_LF_O_TOO_LARGE);
    t.truncated = false;

    /* slow */
    snprintf(body, sizeof(body), "{%s,\"Code\":\"MissingParameter\"}", rid);
    set_resp(&t, 400, AIPA_CT_JSON, body);
    t.elapsed_ms = 900;
    o.max_response_ms = 500;
    n = aipa_lf_judge_with(&r, &w, &t, &ref, &o, h, 16);
    assert_true(has_oracle(h, n, AIPA_LF_O_SLOW));
    o.max_response_ms = 1000;
    assert_false(has_oracle(h, aipa_lf_judge_with(&r, &w, &t, &ref, &o, h, 16), AIPA_LF_O_SLOW));

    aipa_lf_req_cleanup(&r);
    aipa_lf_wire_cleanup(&w);
    aipa_lf_resp_cleanup(&t);
    aipa_lf_resp_cleanup(&ref);
}

/* The state-effect oracle's comparison. */
static void test_state_equal(void **state)
{
    static const char *const ids_t[] = {"i-t"};
    static const char *const ids_r[] = {"i-r"};
    const char *t = "{\"Pool\":{\"FreeCount\":5},\"Instances\":[{\"InstanceId\":\"i-t\","
                    "\"Status\":\"Running\",\"PublicIpAddress\":{\"IpAddress\":[\"1.2.3.4\"]}}]}";
    const char *r = "{\"Pool\":{\"FreeCount\":5},\"Instances\":[{\"InstanceId\":\"i-r\","
                    "\"Status\":\"Running\",\"PublicIpAddress\":{\"IpAddress\":[\"9.9.9.9\"]}}]}";
    const char *pool = "{\"Pool\":{\"FreeCount\":4},\"Instances\":[{\"InstanceId\":\"i-t\","
                       "\"Status\":\"Running\",\"PublicIpAddress\":{\"IpAddress\":[\"1.2.3.4\"]}}]}";
    const char *none = "{\"Pool\":{\"FreeCount\":5},\"Instances\":[{\"InstanceId\":\"i-t\","
                       "\"Status\":\"Running\",\"PublicIpAddress\":{\"IpAddress\":[]}}]}";
    char kind[32], why[200];

    (void)state;
    /* other IDs and other addresses are fine: they are each side's own */
    assert_true(aipa_lf_state_equal(t, strlen(t), r, strlen(r), ids_t, ids_r, 1, kind,
                                    sizeof(kind), why, sizeof(why)));
    assert_false(aipa_lf_state_equal(pool, strlen(pool), r, strlen(r), ids_t, ids_r, 1, kind,
                                     sizeof(kind), why, sizeof(why)));
    assert_string_equal(kind, "pool");
    assert_false(aipa_lf_state_equal(none, strlen(none), r, strlen(r), ids_t, ids_r, 1, kind,
                                     sizeof(kind), why, sizeof(why)));
    assert_string_equal(kind, "address");
    assert_false(aipa_lf_state_equal("[]", 2, r, strlen(r), ids_t, ids_r, 1, kind, sizeof(kind),
                                     why, sizeof(why)));
    assert_string_equal(kind, "document");
}

/* findings.json and findings.sarif stay valid UTF-8 JSON whatever bytes a finding carries. */
static void test_reports_are_utf8_whatever_the_bytes(void **state)
{
    char bytes[512], path[256];
    struct lf_finding f;
    struct aipa_lf_stats st;
    struct aipa_lf_config cfg;
    struct lf_report_info info;
    size_t n = 0;

    (void)state;
    /* every byte value but NUL (C strings), and sequences that are not UTF-8 */
    for (unsigned b = 1; b < 256; b++) {
        bytes[n++] = (char)b;
    }
    memcpy(bytes + n, "\xe4\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80", 10);
    n += 10;
    bytes[n] = '\0';
    memset(&f, 0, sizeof(f));
    memset(&st, 0, sizeof(st));
    aipa_lf_config_defaults(&cfg);
    snprintf(f.key, sizeof(f.key), "diff-code|400|%.150s", bytes + 100);
    snprintf(f.code, sizeof(f.code), "%.70s", bytes + 120);
    snprintf(f.detail, sizeof(f.detail), "%.190s", bytes + 60);
    f.oracle = AIPA_LF_O_DIFF_CODE;
    f.status = 400;
    f.repro = bytes;
    f.wire_target = bytes;
    f.wire_body = bytes;
    f.resp_excerpt = bytes;
    memset(&info, 0, sizeof(info));
    info.cfg = &cfg;
    info.target = bytes;
    info.stats = &st;
    info.findings = &f;
    info.finding_count = 1;
    for (int k = 0; k < 2; k++) {
        FILE *fp;
        char *text;
        long len;
        cJSON *doc;

        snprintf(path, sizeof(path), "/tmp/aipa-lf-utf8-%d-%d.json", (int)getpid(), k);
        assert_int_equal(k == 0 ? aipa__lf_write_json(&info, path)
                                : aipa__lf_write_sarif(&info, path),
                         AIPA_OK);
        fp = fopen(path, "rb");
        assert_non_null(fp);
        assert_int_equal(fseek(fp, 0, SEEK_END), 0);
        len = ftell(fp);
        rewind(fp);
        text = malloc((size_t)len + 1);
        assert_non_null(text);
        assert_int_equal(fread(text, 1, (size_t)len, fp), (size_t)len);
        text[len] = '\0';
        fclose(fp);
        remove(path);
        assert_true(aipa_utf8_valid((const uint8_t *)text, (size_t)len));
        doc = cJSON_ParseWithLength(text, (size_t)len);
        assert_non_null(doc);
        /* the bytes that were not UTF-8 are still there, as text */
        assert_non_null(strstr(text, "\\\\xE4"));
        cJSON_Delete(doc);
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generator_is_deterministic),
        cmocka_unit_test(test_reports_are_utf8_whatever_the_bytes),
        cmocka_unit_test(test_judge_latitude_and_options),
        cmocka_unit_test(test_state_equal),
        cmocka_unit_test(test_render_v1_signs_and_substitutes),
        cmocka_unit_test(test_render_raw_and_body),
        cmocka_unit_test(test_render_v3_headers),
        cmocka_unit_test(test_oracles),
        cmocka_unit_test(test_documented),
        cmocka_unit_test(test_ddmin),
        cmocka_unit_test(test_loopback),
        cmocka_unit_test(test_curl_header),
        cmocka_unit_test(test_render_trace_and_long_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
