/*
 * HTTPS and IPv6 listeners, start-up failures, and the nonce replay window
 * and cache bound (driven through aipa_srv_handle with a fake clock).
 */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h> /* after setjmp.h, stdarg.h, stddef.h */
// clang-format on

#include "aipa/sign.h"
#include "aipa/wire.h"
#include "itest.h"

#include <curl/curl.h>

#ifndef AIPA_ITEST_DATA
#error "AIPA_ITEST_DATA must name tests/integration/data"
#endif

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
    struct aipa_buf *b = ud;

    if (aipa_buf_append(b, p, size * n) != AIPA_OK) {
        return 0; /* past the cap: abort the transfer */
    }
    return size * n;
}

/* GET url with curl (TLS verified against the test certificate); returns the status. */
static long get(const char *url, struct aipa_buf *body)
{
    CURL *c = curl_easy_init();
    long status = 0;

    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO, AIPA_ITEST_DATA "/test-cert.pem");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_easy_cleanup(c);
    return status;
}

static void tls(struct aipa_srv_config *cfg)
{
    cfg->tls_cert_file = AIPA_ITEST_DATA "/test-cert.pem";
    cfg->tls_key_file = AIPA_ITEST_DATA "/test-key.pem";
}

static void https_listener(void **state)
{
    struct it_server s;
    struct aipa_buf body;
    char url[128];

    (void)state;
    it_start(&s, tls);
    aipa_buf_init(&body, 1u << 20);
    snprintf(url, sizeof(url), "https://127.0.0.1:%u/?Action=Nope&Format=JSON", (unsigned)s.port);
    assert_int_equal(get(url, &body), 400);
    assert_non_null(strstr(body.ptr, "\"MissingParameter\""));
    /* Plain HTTP to the TLS port is not answered as HTTP. */
    aipa_buf_reset(&body);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/?Format=JSON", (unsigned)s.port);
    assert_int_not_equal(get(url, &body), 400);
    aipa_buf_cleanup(&body);
    it_stop(&s);
}

static void ipv6(struct aipa_srv_config *cfg)
{
    cfg->listen_addr = "::1";
}

static void ipv6_listener(void **state)
{
    struct it_server s;
    struct aipa_buf body;
    char url[128];
    struct aipa_srv_config cfg;
    struct aipa_srv *srv = NULL;

    (void)state;
    /* Skip quietly where the host has no IPv6 loopback. */
    aipa_srv_config_defaults(&cfg);
    ipv6(&cfg);
    assert_int_equal(aipa_srv_new(&srv, &cfg), AIPA_OK);
    if (aipa_srv_start(srv) != AIPA_OK) {
        aipa_srv_free(srv);
        skip();
    }
    aipa_srv_free(srv);

    memset(&s, 0, sizeof(s));
    it_start(&s, ipv6);
    aipa_buf_init(&body, 1u << 20);
    snprintf(url, sizeof(url), "http://[::1]:%u/?Action=Nope&Format=JSON", (unsigned)s.port);
    assert_int_equal(get(url, &body), 400);
    aipa_buf_cleanup(&body);
    it_stop(&s);
}

static void start_failures(void **state)
{
    struct aipa_srv_config cfg;
    struct aipa_srv *srv = NULL;
    struct aipa_buf err;

    (void)state;
    aipa_buf_init(&err, 1024);
    aipa_srv_config_defaults(&cfg);
    cfg.error = &err;
    cfg.listen_addr = "localhost"; /* names are not resolved */
    assert_int_equal(aipa_srv_new(&srv, &cfg), AIPA_OK);
    assert_int_not_equal(aipa_srv_start(srv), AIPA_OK);
    assert_non_null(strstr(err.ptr, "numeric"));
    aipa_srv_free(srv);

    aipa_srv_config_defaults(&cfg);
    cfg.error = &err;
    cfg.tls_cert_file = AIPA_ITEST_DATA "/test-cert.pem";
    assert_int_equal(aipa_srv_new(&srv, &cfg), AIPA_OK);
    assert_int_not_equal(aipa_srv_start(srv), AIPA_OK); /* no key */
    aipa_srv_free(srv);

    aipa_srv_config_defaults(&cfg);
    cfg.error = &err;
    cfg.tls_cert_file = AIPA_ITEST_DATA "/missing.pem";
    cfg.tls_key_file = AIPA_ITEST_DATA "/test-key.pem";
    assert_int_equal(aipa_srv_new(&srv, &cfg), AIPA_OK);
    assert_int_equal(aipa_srv_start(srv), AIPA_EIO);
    assert_non_null(strstr(err.ptr, "missing.pem"));
    aipa_srv_free(srv);

    /* A bad state document fails aipa_srv_new with the model's reason. */
    aipa_srv_config_defaults(&cfg);
    cfg.error = &err;
    cfg.state_json = "{\"Instances\":[{\"Status\":\"Runing\"}]}";
    cfg.state_json_len = strlen(cfg.state_json);
    assert_int_not_equal(aipa_srv_new(&srv, &cfg), AIPA_OK);
    assert_null(srv);
    assert_non_null(strstr(err.ptr, "Runing"));
    /* Fixtures without a token. */
    aipa_srv_config_defaults(&cfg);
    cfg.error = &err;
    cfg.fixtures = true;
    assert_int_equal(aipa_srv_new(&srv, &cfg), AIPA_EINVAL);
    aipa_buf_cleanup(&err);
}

/* ---- the nonce window, through the handler with a fake clock ---- */

static int64_t fake_now;

static int64_t clock_hook(void *ctx)
{
    (void)ctx;
    return fake_now;
}

/* A V1 GET DescribeInstances signed with nonce at timestamp ts; returns the status and code. */
static unsigned call(struct aipa_srv *srv, const char *nonce, int64_t ts, char code[64])
{
    struct aipa_params p;
    struct aipa_buf q;
    char tbuf[21];
    struct aipa_srv_request req;
    struct aipa_srv_response resp;
    unsigned status;

    aipa_format_timestamp(ts, tbuf);
    aipa_params_init(&p, NULL);
    assert_int_equal(aipa_params_add_cstr(&p, "Action", "DescribeInstances"), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "RegionId", "cn-hangzhou"), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "Version", "2014-05-26"), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "AccessKeyId", "testid"), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "SignatureMethod", "HMAC-SHA1"), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "SignatureVersion", "1.0"), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "SignatureNonce", nonce), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "Timestamp", tbuf), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "Format", "JSON"), AIPA_OK);
    assert_int_equal(aipa_v1_sign("GET", &p, IT_SECRET), AIPA_OK);
    aipa_buf_init(&q, 1u << 16);
    assert_int_equal(aipa_buf_puts(&q, "/?"), AIPA_OK);
    {
        struct aipa_buf qs;

        aipa_buf_init(&qs, 1u << 16);
        assert_int_equal(aipa_wire_build_query(&p, &qs), AIPA_OK);
        assert_int_equal(aipa_buf_append(&q, qs.ptr, qs.len), AIPA_OK);
        aipa_buf_cleanup(&qs);
    }
    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.target = q.ptr;
    req.target_len = q.len;
    aipa_srv_response_init(&resp);
    assert_int_equal(aipa_srv_handle(srv, &req, &resp), AIPA_OK);
    status = resp.status;
    snprintf(code, 64, "%s", resp.code);
    aipa_srv_response_cleanup(&resp);
    aipa_buf_cleanup(&q);
    aipa_params_cleanup(&p);
    return status;
}

static struct aipa_srv *clocked_server(size_t nonce_max)
{
    struct aipa_srv_config cfg;
    struct aipa_srv *srv = NULL;

    aipa_srv_config_defaults(&cfg);
    cfg.now = clock_hook;
    cfg.nonce_cache_max = nonce_max;
    assert_int_equal(aipa_srv_new(&srv, &cfg), AIPA_OK);
    return srv;
}

static void nonce_window(void **state)
{
    struct aipa_srv *srv;
    char code[64];

    (void)state;
    fake_now = 1795765890; /* 2026-11-27T07:51:30Z */
    srv = clocked_server(1000);
    assert_int_equal(call(srv, "n-window", fake_now, code), 200);
    fake_now += 899;
    assert_int_equal(call(srv, "n-window", fake_now, code), 400);
    assert_string_equal(code, "SignatureNonceUsed");
    fake_now += 1; /* 900 s after first use: out of the window */
    assert_int_equal(call(srv, "n-window", fake_now, code), 200);
    /* Skew: exactly 15 minutes either way is accepted, one second more is not. */
    assert_int_equal(call(srv, "n-skew-1", fake_now - 900, code), 200);
    assert_int_equal(call(srv, "n-skew-2", fake_now + 900, code), 200);
    assert_int_equal(call(srv, "n-skew-3", fake_now - 901, code), 400);
    assert_string_equal(code, "InvalidTimeStamp.Expired");
    assert_int_equal(call(srv, "n-skew-4", fake_now + 901, code), 400);
    assert_string_equal(code, "InvalidTimeStamp.Expired");
    aipa_srv_free(srv);
}

static void nonce_cache_is_bounded(void **state)
{
    struct aipa_srv *srv;
    char code[64], nonce[32];

    (void)state;
    fake_now = 1795765890;
    srv = clocked_server(4);
    for (int i = 0; i < 5; i++) {
        snprintf(nonce, sizeof(nonce), "n-bound-%d", i);
        assert_int_equal(call(srv, nonce, fake_now, code), 200);
    }
    /* The four newest are remembered; the oldest was evicted (documented). */
    for (int i = 1; i < 5; i++) {
        snprintf(nonce, sizeof(nonce), "n-bound-%d", i);
        assert_int_equal(call(srv, nonce, fake_now, code), 400);
        assert_string_equal(code, "SignatureNonceUsed");
    }
    assert_int_equal(call(srv, "n-bound-0", fake_now, code), 200);
    /* Many more distinct nonces never grow it past the bound (checked under ASan/LSan). */
    for (int i = 0; i < 2000; i++) {
        snprintf(nonce, sizeof(nonce), "n-many-%d", i);
        assert_int_equal(call(srv, nonce, fake_now, code), 200);
    }
    aipa_srv_free(srv);
}

/* The cache grows from a small ring to its bound and keeps every entry while it does. */
static void nonce_cache_grows_then_evicts(void **state)
{
    struct aipa_srv *srv;
    char code[64], nonce[32];

    (void)state;
    fake_now = 1795765890;
    srv = clocked_server(1000);
    for (int i = 0; i < 600; i++) {
        snprintf(nonce, sizeof(nonce), "g-%d", i);
        assert_int_equal(call(srv, nonce, fake_now, code), 200);
    }
    for (int i = 0; i < 600; i += 7) {
        snprintf(nonce, sizeof(nonce), "g-%d", i);
        assert_int_equal(call(srv, nonce, fake_now, code), 400);
        assert_string_equal(code, "SignatureNonceUsed");
    }
    for (int i = 600; i < 1100; i++) {
        snprintf(nonce, sizeof(nonce), "g-%d", i);
        assert_int_equal(call(srv, nonce, fake_now, code), 200);
    }
    /* 1100 recorded into 1000 places: g-0..g-99 are gone, g-100.. remain. */
    assert_int_equal(call(srv, "g-99", fake_now, code), 200);
    assert_int_equal(call(srv, "g-101", fake_now, code), 400);
    assert_int_equal(call(srv, "g-1099", fake_now, code), 400);
    aipa_srv_free(srv);
}

static void handler_rejects_caller_bugs(void **state)
{
    struct aipa_srv *srv = clocked_server(16);
    struct aipa_srv_request req;
    struct aipa_srv_response resp;

    (void)state;
    memset(&req, 0, sizeof(req));
    aipa_srv_response_init(&resp);
    assert_int_equal(aipa_srv_handle(srv, &req, &resp), AIPA_EINVAL); /* no method */
    req.method = "GET";
    req.target_len = 3; /* no target */
    assert_int_equal(aipa_srv_handle(srv, &req, &resp), AIPA_EINVAL);
    req.target = "/?A";
    req.body_len = 1; /* no body */
    assert_int_equal(aipa_srv_handle(srv, &req, &resp), AIPA_EINVAL);
    /* An empty target is a request for "" (not "/"): 404. */
    req.target = NULL;
    req.target_len = 0;
    req.body_len = 0;
    assert_int_equal(aipa_srv_handle(srv, &req, &resp), AIPA_OK);
    assert_int_equal(resp.status, 404);
    aipa_srv_response_cleanup(&resp);
    aipa_srv_free(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(https_listener),
        cmocka_unit_test(ipv6_listener),
        cmocka_unit_test(start_failures),
        cmocka_unit_test(nonce_window),
        cmocka_unit_test(nonce_cache_is_bounded),
        cmocka_unit_test(nonce_cache_grows_then_evicts),
        cmocka_unit_test(handler_rejects_caller_bugs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
