/* itest.c: see itest.h. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h> /* after setjmp.h, stdarg.h, stddef.h */
// clang-format on

#include "itest.h"

#include "aipa/request.h"
#include "aipa/sign.h"
#include "aipa/wire.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>

static const struct aipa_srv_credential it_creds[] = {
    {"testid", IT_SECRET, true, false, NULL, NULL, 0},
    {"wl", "wlsecret", true, true, NULL, NULL, 0},
    {"off", "offsecret", false, false, NULL, NULL, 0},
};

void it_start(struct it_server *s, void (*tweak)(struct aipa_srv_config *cfg))
{
    struct aipa_srv_config cfg;
    struct aipa_buf err;

    aipa_buf_init(&err, 1024);
    aipa_srv_config_defaults(&cfg);
    cfg.listen_addr = "127.0.0.1";
    cfg.port = 0;
    cfg.fixtures = true;
    cfg.fixture_token = IT_TOKEN;
    cfg.seed = 7;
    cfg.threads = 2;
    cfg.credentials = it_creds;
    cfg.credential_count = AIPA_ARRAY_LEN(it_creds);
    cfg.error = &err;
    if (tweak != NULL) {
        tweak(&cfg);
    }
    memset(s, 0, sizeof(*s));
    if (aipa_srv_new(&s->srv, &cfg) != AIPA_OK || aipa_srv_start(s->srv) != AIPA_OK) {
        fprintf(stderr, "server: %s\n", err.ptr != NULL ? err.ptr : "?");
        aipa_buf_cleanup(&err);
        fail_msg("cannot start the server");
    }
    aipa_buf_cleanup(&err);
    s->port = aipa_srv_port(s->srv);
    assert_true(s->port != 0);
    snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%u", (unsigned)s->port);
}

void it_stop(struct it_server *s)
{
    aipa_srv_free(s->srv);
    s->srv = NULL;
}

struct it_server it_srv;

int it_suite_setup(void **state)
{
    (void)state;
    it_start(&it_srv, NULL);
    return 0;
}

int it_suite_teardown(void **state)
{
    (void)state;
    it_stop(&it_srv);
    return 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct it_resp *r = ud;
    size_t len = size * n;
    size_t room = sizeof(r->body) - 1 - (r->body_len < sizeof(r->body) ? r->body_len : 0);
    size_t take = r->body_len < sizeof(r->body) - 1 ? (len < room ? len : room) : 0;

    if (take > 0) {
        memcpy(r->body + r->body_len, p, take);
        r->body[r->body_len + take] = '\0';
    }
    r->body_len += len;
    return len;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);

    if (n > nl + 1 && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
        const char *v = line + nl + 1;
        size_t vn = n - nl - 1;

        while (vn > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            vn--;
        }
        while (vn > 0 && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' ')) {
            vn--;
        }
        if (vn >= cap) {
            vn = cap - 1;
        }
        memcpy(out, v, vn);
        out[vn] = '\0';
    }
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct it_resp *r = ud;
    size_t len = size * n;

    header_value(p, len, "Content-Type", r->content_type, sizeof(r->content_type));
    header_value(p, len, "x-acs-request-id", r->request_id, sizeof(r->request_id));
    header_value(p, len, "x-acs-retry-after", r->retry_after, sizeof(r->retry_after));
    return len;
}

void it_http(const char *method, const char *url, const char *const *headers, const void *body,
             size_t body_len, long timeout_ms, struct it_resp *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;

    assert_non_null(c);
    memset(r, 0, sizeof(*r));
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
        h = curl_slist_append(h, headers[i]);
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    r->curl_code = (int)curl_easy_perform(c);
    if (r->curl_code == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

void it_nonce(char out[48])
{
    static atomic_uint counter;
    unsigned n = atomic_fetch_add(&counter, 1u);

    snprintf(out, 48, "it-%ld-%ld-%u", (long)getpid(), (long)time(NULL), n);
}

static void now_ts(char out[21])
{
    aipa_format_timestamp((int64_t)time(NULL), out);
}

static bool kv_names(const char *const *kv, const char *name)
{
    for (size_t i = 0; kv[i] != NULL; i += 2) {
        if (strcmp(kv[i], name) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * Applies kv to p: replace, add, or (NULL value) remove. DescribeInstances
 * requires RegionId: one is added unless kv names it (an empty value tests
 * its absence).
 */
static void apply_kv(struct aipa_params *p, const char *const *kv)
{
    bool describe = false, region = false;

    for (size_t i = 0; kv != NULL && kv[i] != NULL; i += 2) {
        describe |= strcmp(kv[i], "Action") == 0 && kv[i + 1] != NULL &&
                    strcmp(kv[i + 1], "DescribeInstances") == 0;
        region |= strcmp(kv[i], "RegionId") == 0;
        if (kv[i + 1] == NULL) {
            (void)aipa_params_remove(p, kv[i]);
        } else {
            assert_int_equal(aipa_params_set(p, kv[i], kv[i + 1]), AIPA_OK);
        }
    }
    if (describe && !region) {
        assert_int_equal(aipa_params_set(p, "RegionId", "cn-hangzhou"), AIPA_OK);
    }
}

void it_v1(const struct it_server *s, const char *method, bool form, const char *secret,
           const char *const *kv, struct it_resp *r)
{
    struct aipa_params p;
    struct aipa_buf q, url;
    char nonce[48], ts[21];
    const char *const form_hdr[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    const char *const plain_hdr[] = {"Content-Type:", NULL};

    it_nonce(nonce);
    now_ts(ts);
    aipa_params_init(&p, NULL);
    assert_int_equal(aipa_params_add_cstr(&p, "AccessKeyId", "testid"), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "SignatureMethod", "HMAC-SHA1"), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "SignatureVersion", "1.0"), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "SignatureNonce", nonce), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "Timestamp", ts), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "Version", "2014-05-26"), AIPA_OK);
    apply_kv(&p, kv);
    if (secret != NULL) {
        /* signed as the harness signs: the one signer of aipa/request.h */
        struct aipa_sign_trace t;

        aipa_sign_trace_init(&t);
        assert_int_equal(aipa_req_sign_v1(method, &p, secret, &t), AIPA_OK);
        assert_int_equal(aipa_params_set(&p, "Signature", t.signature), AIPA_OK);
        aipa_sign_trace_cleanup(&t);
    }
    aipa_buf_init(&q, 1u << 20);
    aipa_buf_init(&url, 1u << 20);
    assert_int_equal(aipa_wire_build_query(&p, &q), AIPA_OK);
    if (form) {
        assert_int_equal(aipa_buf_printf(&url, "%s/", s->base), AIPA_OK);
        it_http(method, url.ptr, form_hdr, q.ptr != NULL ? q.ptr : "", q.len, 0, r);
    } else {
        assert_int_equal(aipa_buf_printf(&url, "%s/?%s", s->base, q.ptr != NULL ? q.ptr : ""),
                         AIPA_OK);
        it_http(method, url.ptr, plain_hdr, NULL, 0, 0, r);
    }
    aipa_buf_cleanup(&q);
    aipa_buf_cleanup(&url);
    aipa_params_cleanup(&p);
}

#define IT_MAX_HDRS 24

void it_v3(const struct it_server *s, const char *method, const char *action, const char *secret,
           const char *const *kv, const char *const *hdr_kv, const char *const *unsigned_kv,
           const char *body, struct it_resp *r)
{
    struct aipa_params q;
    struct aipa_buf qs, url, authz;
    struct aipa_sign_trace trace;
    char nonce[48], ts[21], host[32], hash[AIPA_SHA256_HEX_LEN + 1];
    const char *names[IT_MAX_HDRS], *values[IT_MAX_HDRS];
    struct aipa_header hdrs[IT_MAX_HDRS];
    char lines[IT_MAX_HDRS + 4][512];
    const char *line_ptrs[IT_MAX_HDRS + 5];
    size_t n = 0, nl = 0;
    size_t body_len = body != NULL ? strlen(body) : 0;

    it_nonce(nonce);
    now_ts(ts);
    snprintf(host, sizeof(host), "127.0.0.1:%u", (unsigned)s->port);
    assert_int_equal(aipa_sha256_hex(body != NULL ? body : "", body_len, hash), AIPA_OK);
    /* Sorted by name, as the SDK signs them. */
    names[n] = "host", values[n++] = host;
    names[n] = "x-acs-action", values[n++] = action;
    names[n] = "x-acs-content-sha256", values[n++] = hash;
    names[n] = "x-acs-date", values[n++] = ts;
    names[n] = "x-acs-signature-nonce", values[n++] = nonce;
    names[n] = "x-acs-version", values[n++] = "2014-05-26";
    for (size_t i = 0; hdr_kv != NULL && hdr_kv[i] != NULL; i += 2) {
        size_t j;

        for (j = 0; j < n && strcmp(names[j], hdr_kv[i]) != 0; j++) {
        }
        if (j == n) {
            assert_true(n < IT_MAX_HDRS);
            names[n] = hdr_kv[i];
            values[n++] = hdr_kv[i + 1];
        } else {
            values[j] = hdr_kv[i + 1];
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (values[i] == NULL) {
            continue;
        }
        hdrs[nl].name = aipa_slice_cstr(names[i]);
        hdrs[nl].value = aipa_slice_cstr(values[i]);
        nl++;
    }
    aipa_params_init(&q, NULL);
    apply_kv(&q, kv);
    if (strcmp(action, "DescribeInstances") == 0 && aipa_params_get(&q, "RegionId") == NULL &&
        !(kv != NULL && kv_names(kv, "RegionId"))) {
        assert_int_equal(aipa_params_set(&q, "RegionId", "cn-hangzhou"), AIPA_OK);
    }
    aipa_buf_init(&authz, 8192);
    /* signed as the harness signs: every header kept is host or x-acs-*, so all are signed */
    aipa_sign_trace_init(&trace);
    assert_int_equal(aipa_req_sign_v3(method, "/", &q, hdrs, nl, hash, "testid", secret, &trace,
                                      &authz),
                     AIPA_OK);
    aipa_buf_init(&qs, 1u << 20);
    aipa_buf_init(&url, 1u << 20);
    assert_int_equal(aipa_wire_build_query(&q, &qs), AIPA_OK);
    assert_int_equal(aipa_buf_printf(&url, "%s/%s%s", s->base, qs.len > 0 ? "?" : "",
                                     qs.ptr != NULL ? qs.ptr : ""),
                     AIPA_OK);
    n = 0;
    for (size_t i = 0; i < nl; i++) {
        if (strcmp((const char *)hdrs[i].name.ptr, "host") == 0) {
            if (strcmp((const char *)hdrs[i].value.ptr, host) != 0) {
                snprintf(lines[n], sizeof(lines[n]), "Host: %s", hdrs[i].value.ptr);
                line_ptrs[n] = lines[n];
                n++;
            }
            continue;
        }
        snprintf(lines[n], sizeof(lines[n]), "%s: %s", hdrs[i].name.ptr, hdrs[i].value.ptr);
        line_ptrs[n] = lines[n];
        n++;
    }
    snprintf(lines[n], sizeof(lines[n]), "Authorization: %s", authz.ptr);
    line_ptrs[n] = lines[n];
    n++;
    for (size_t i = 0; unsigned_kv != NULL && unsigned_kv[i] != NULL; i += 2) {
        snprintf(lines[n], sizeof(lines[n]), "%s: %s", unsigned_kv[i], unsigned_kv[i + 1]);
        line_ptrs[n] = lines[n];
        n++;
    }
    line_ptrs[n++] = "Content-Type:";
    line_ptrs[n] = NULL;
    it_http(method, url.ptr, line_ptrs, body, body_len, 0, r);
    aipa_buf_cleanup(&qs);
    aipa_buf_cleanup(&url);
    aipa_buf_cleanup(&authz);
    aipa_sign_trace_cleanup(&trace);
    aipa_params_cleanup(&q);
}

void it_fixture(const struct it_server *s, const char *method, const char *path,
                const char *json_body, struct it_resp *r)
{
    char url[256];
    const char *const hdr[] = {"X-Aipa-Token: " IT_TOKEN, "Content-Type: application/json", NULL};

    snprintf(url, sizeof(url), "%s%s", s->base, path);
    it_http(method, url, hdr, json_body, json_body != NULL ? strlen(json_body) : 0, 0, r);
}

void it_field(const struct it_resp *r, const char *name, char *out, size_t cap)
{
    cJSON *doc = cJSON_Parse(r->body);

    out[0] = '\0';
    if (doc != NULL) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

        if (cJSON_IsString(v)) {
            snprintf(out, cap, "%s", v->valuestring);
        }
        cJSON_Delete(doc);
        return;
    }
    {
        char open[96], close[96];
        const char *a, *b;

        snprintf(open, sizeof(open), "<%s>", name);
        snprintf(close, sizeof(close), "</%s>", name);
        a = strstr(r->body, open);
        if (a == NULL) {
            return;
        }
        a += strlen(open);
        b = strstr(a, close);
        if (b == NULL) {
            return;
        }
        snprintf(out, cap, "%.*s", (int)(b - a), a);
    }
}

void it_code(const struct it_resp *r, char *out, size_t cap)
{
    it_field(r, "Code", out, cap);
}

void it_expect(const struct it_resp *r, long status, const char *code)
{
    char got[128];

    it_code(r, got, sizeof(got));
    if (r->status != status || strcmp(got, code) != 0) {
        fprintf(stderr, "want %ld %s, got %ld %s: %.300s\n", status, code, r->status, got, r->body);
    }
    assert_int_equal(r->status, status);
    assert_string_equal(got, code);
}
