/*
 * test_client.c: the harness client against a small libmicrohttpd server run
 * inside the test on 127.0.0.1 (ephemeral port). The server verifies every
 * request with aipa_v1_verify / aipa_v3_verify and echoes what it received.
 * Also: the spec's signature vectors through the builder (no network), and
 * the transport failure classes (too large, timeout, reset, refused, TLS,
 * malformed reply), each bounded in time.
 */
/* cmocka needs the four headers before it. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include "cli.h"
#include "aipa/client.h"
#include "aipa/parse.h"
#include "aipa/sign.h"
#include "aipa/wire.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define AKID    "testid"
#define SECRET  "testsecret"
#define BIG_LEN (2u << 20)

/* ---- the echo server ---- */

struct echo_srv {
    struct MHD_Daemon *d;
    uint16_t port;
    atomic_int connections;
    atomic_int landed;
    char url[64];
};

struct conn_state {
    bool started;
    struct aipa_buf target; /* the request target exactly as received */
    struct aipa_buf body;
};

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
    (void)cls;
    (void)con;
    struct conn_state *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        return NULL;
    }
    aipa_buf_init(&st->target, 1u << 20);
    aipa_buf_init(&st->body, 1u << 20);
    if (aipa_buf_puts(&st->target, uri) != AIPA_OK) {
        st->target.len = 0;
    }
    return st;
}

static void on_completed(void *cls, struct MHD_Connection *con, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)con;
    (void)toe;
    struct conn_state *st = *req_cls;
    if (st != NULL) {
        aipa_buf_cleanup(&st->target);
        aipa_buf_cleanup(&st->body);
        free(st);
        *req_cls = NULL;
    }
}

static void on_connection(void *cls, struct MHD_Connection *con, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)con;
    (void)socket_context;
    struct echo_srv *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&s->connections, 1);
    }
}

struct hdr_list {
    struct aipa_header h[64];
    size_t n;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    struct hdr_list *l = cls;
    if (l->n < 64 && value != NULL) {
        l->h[l->n].name = aipa_slice_cstr(key);
        l->h[l->n].value = aipa_slice_cstr(value);
        l->n++;
    }
    return MHD_YES;
}

static enum MHD_Result reply(struct MHD_Connection *con, unsigned status, const char *ct,
                             const void *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL) {
        return MHD_NO;
    }
    if (ct != NULL) {
        MHD_add_response_header(r, "Content-Type", ct);
    }
    enum MHD_Result ret = MHD_queue_response(con, status, r);
    MHD_destroy_response(r);
    return ret;
}

static ssize_t chunk_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    if (pos >= BIG_LEN) {
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    size_t n = max < 4096 ? max : 4096;
    memset(buf, 'z', n);
    return (ssize_t)n;
}

/* Verifies the request as the reference server would and echoes it as JSON. */
static enum MHD_Result verify_and_echo(struct MHD_Connection *con, const char *url,
                                       const char *method, struct conn_state *st)
{
    struct aipa_params params;
    struct aipa_wire_result res;
    struct hdr_list hl;
    bool match = false;
    const char *scheme = "none";
    const char *problem = "";

    aipa_params_init(&params, NULL);
    memset(&hl, 0, sizeof(hl));
    MHD_get_connection_values(con, MHD_HEADER_KIND, collect_header, &hl);

    const char *q = st->target.ptr != NULL ? strchr(st->target.ptr, '?') : NULL;
    if (q != NULL && aipa_wire_parse((const uint8_t *)q + 1, strlen(q + 1), AIPA_WIRE_PLUS_IS_SPACE,
                                     AIPA_PARAM_QUERY, &params, &res) != AIPA_OK) {
        problem = "bad query";
    }
    const char *ct = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Type");
    size_t query_count = params.count;
    if (ct != NULL && strncmp(ct, "application/x-www-form-urlencoded", 33) == 0 &&
        aipa_wire_parse((const uint8_t *)st->body.ptr, st->body.len, AIPA_WIRE_PLUS_IS_SPACE,
                        AIPA_PARAM_BODY, &params, &res) != AIPA_OK) {
        problem = "bad form body";
    }
    const char *authz = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Authorization");
    if (problem[0] == '\0' && authz != NULL) {
        struct aipa_v3_auth auth;
        char hash[AIPA_SHA256_HEX_LEN + 1];
        scheme = "v3";
        /* V3 signs only the query; the form body (if any) is hashed. */
        params.count = query_count;
        if (aipa_v3_parse_authorization((const uint8_t *)authz, strlen(authz), &auth) != AIPA_OK ||
            aipa_sha256_hex(st->body.ptr != NULL ? st->body.ptr : "", st->body.len, hash) !=
                AIPA_OK ||
            aipa_v3_verify(method, url, &params, hl.h, hl.n, &auth, hash, SECRET, NULL, &match) !=
                AIPA_OK) {
            problem = "v3 verify failed to run";
            match = false;
        }
    } else if (problem[0] == '\0' && aipa_params_get(&params, "Signature") != NULL) {
        scheme = "v1";
        if (aipa_v1_verify(method, &params, SECRET, NULL, &match) != AIPA_OK) {
            problem = "v1 verify failed to run";
            match = false;
        }
    }

    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "verified", match);
    cJSON_AddStringToObject(o, "scheme", scheme);
    cJSON_AddStringToObject(o, "problem", problem);
    cJSON_AddStringToObject(o, "method", method);
    cJSON_AddStringToObject(o, "target", st->target.ptr != NULL ? st->target.ptr : "");
    cJSON_AddNumberToObject(o, "body_len", (double)st->body.len);
    cJSON *h = cJSON_AddObjectToObject(o, "headers");
    for (size_t i = 0; i < hl.n; i++) {
        char name[128];
        (void)snprintf(name, sizeof(name), "%.*s", (int)hl.h[i].name.len,
                       (const char *)hl.h[i].name.ptr);
        for (char *c = name; *c != '\0'; c++) {
            if (*c >= 'A' && *c <= 'Z') {
                *c = (char)(*c - 'A' + 'a');
            }
        }
        cJSON_AddStringToObject(h, name, (const char *)hl.h[i].value.ptr);
    }
    cJSON *p = cJSON_AddObjectToObject(o, "params");
    for (size_t i = 0; i < params.count; i++) {
        cJSON_AddStringToObject(p, params.items[i].name, params.items[i].value);
    }
    char *text = cJSON_PrintUnformatted(o);
    enum MHD_Result ret =
        reply(con, match ? 200 : 401, "application/json;charset=utf-8", text, strlen(text));
    cJSON_free(text);
    cJSON_Delete(o);
    aipa_params_cleanup(&params);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
    (void)version;
    struct echo_srv *s = cls;
    struct conn_state *st = *req_cls;

    if (st == NULL) {
        return MHD_NO;
    }
    if (!st->started) {
        st->started = true;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (aipa_buf_append(&st->body, upload_data, *upload_data_size) != AIPA_OK) {
            return MHD_NO;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/big") == 0) {
        char *big = malloc(BIG_LEN);
        if (big == NULL) {
            return MHD_NO;
        }
        memset(big, 'y', BIG_LEN);
        enum MHD_Result r = reply(con, 200, "text/plain", big, BIG_LEN);
        free(big);
        return r;
    }
    if (strcmp(url, "/chunked") == 0) {
        struct MHD_Response *r =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, chunk_reader, NULL, NULL);
        enum MHD_Result ret = MHD_queue_response(con, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (strcmp(url, "/redirect") == 0) {
        struct MHD_Response *r =
            MHD_create_response_from_buffer(5, (void *)(uintptr_t) "moved", MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Location", "/landed");
        enum MHD_Result ret = MHD_queue_response(con, 302, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (strcmp(url, "/landed") == 0) {
        atomic_fetch_add(&s->landed, 1);
        return reply(con, 200, "text/plain", "landed", 6);
    }
    return verify_and_echo(con, url, method, st);
}

/*
 * A self-signed test certificate for 127.0.0.1 and localhost (P-256, valid
 * until 2126), made for this test with
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes
 *     -days 36500 -subj "/CN=aipa test 127.0.0.1" -addext
 *     "subjectAltName=IP:127.0.0.1,DNS:localhost" -addext "basicConstraints=critical,CA:TRUE"
 * It protects nothing: the server using it exists only inside this test.
 */
static const char test_cert[] = "-----BEGIN CERTIFICATE-----\n"
                                "MIIBsDCCAVWgAwIBAgIUKNxvfzeVLSxamtYvqFjQGSXBX5kwCgYIKoZIzj0EAwIw\n"
                                "HjEcMBoGA1UEAwwTYWlwYSB0ZXN0IDEyNy4wLjAuMTAgFw0yNjExMjcwODUzNDZa\n"
                                "GA8yMTI2MTEwMzA4NTM0NlowHjEcMBoGA1UEAwwTYWlwYSB0ZXN0IDEyNy4wLjAu\n"
                                "MTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABCqPdHJg3t6kK41qxiC5J84vHtPj\n"
                                "WX9aO8Ou8XHo0h7tJq/G0fMgfLfWCAZK8PRLIO37tVDfj6pGa7mW8YVWt7SjbzBt\n"
                                "MB0GA1UdDgQWBBTvtgQx2cz/qZ8wx2RnKKtsjdjHNTAfBgNVHSMEGDAWgBTvtgQx\n"
                                "2cz/qZ8wx2RnKKtsjdjHNTAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwDwYD\n"
                                "VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAkbeyp/SHeNyKFqbAO7qM\n"
                                "4Oz2oc6eQ6VMO5b7whTBDwICIQCIKQRuqxPMaF4ht8NiWbZHwTv/V+Wir8Bs6IFw\n"
                                "/bQ78g==\n"
                                "-----END CERTIFICATE-----\n";
static const char test_key[] = "-----BEGIN PRIVATE KEY-----\n"
                               "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQga63xcd3eErXLhShD\n"
                               "n9phkjI74jlN+nZSM2oq4x+KnMChRANCAAQqj3RyYN7epCuNasYguSfOLx7T41l/\n"
                               "WjvDrvFx6NIe7SavxtHzIHy31ggGSvD0SyDt+7VQ34+qRmu5lvGFVre0\n"
                               "-----END PRIVATE KEY-----\n";

static struct echo_srv *srv_start_opt(bool tls)
{
    struct echo_srv *s = calloc(1, sizeof(*s));
    struct sockaddr_in sa;

    assert_non_null(s);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (tls) {
        flags |= MHD_USE_TLS;
    }
    s->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
        MHD_OPTION_HTTPS_MEM_KEY, tls ? test_key : NULL, MHD_OPTION_HTTPS_MEM_CERT,
        tls ? test_cert : NULL, MHD_OPTION_END);
    assert_non_null(s->d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    s->port = info->port;
    assert_true(s->port != 0);
    (void)snprintf(s->url, sizeof(s->url), "%s://127.0.0.1:%u", tls ? "https" : "http",
                   (unsigned)s->port);
    return s;
}

static struct echo_srv *srv_start(void)
{
    return srv_start_opt(false);
}

static void srv_stop(struct echo_srv *s)
{
    MHD_stop_daemon(s->d);
    free(s);
}

static struct aipa_client *client_for(const char *url, long timeout_ms, size_t max_response)
{
    struct aipa_client_config cfg;
    struct aipa_client *c = NULL;

    aipa_client_config_defaults(&cfg);
    cfg.target = url;
    cfg.access_key_id = AKID;
    cfg.access_key_secret = SECRET;
    cfg.connect_timeout_ms = 2000;
    cfg.timeout_ms = timeout_ms;
    cfg.max_response = max_response;
    assert_int_equal(aipa_client_new(&c, &cfg), AIPA_OK);
    return c;
}

/* Parses an echo body with the harness's own parser. */
static void echo_parse(const struct aipa_response *r, struct aipa_doc *d)
{
    aipa_doc_init(d);
    assert_int_equal(aipa_parse_body(AIPA_BODY_UNKNOWN, r->content_type,
                                     (const uint8_t *)r->body.ptr, r->body.len, NULL, d, NULL),
                     AIPA_OK);
}

static void add(struct aipa_params *p, const char *n, const char *v)
{
    assert_int_equal(aipa_params_add_cstr(p, n, v), AIPA_OK);
}

/* ---- every signature x shape verifies ---- */

static void test_signatures_and_shapes_verify(void **state)
{
    (void)state;
    struct echo_srv *s = srv_start();
    struct aipa_client *c = client_for(s->url, 5000, 0);
    struct aipa_params p;
    /* Values that need encoding: the spec/wire.md §2.2 awkward set, '+', '=', '&', and UTF-8. */
    static const char awkward[] = "a b*c~d!'()+/\xC3\xA9&x=1%";

    aipa_params_init(&p, NULL);
    add(&p, "Action", "AllocatePublicIpAddress");
    add(&p, "InstanceId", "i-bp1gtjxuuvwj17zr0001");
    add(&p, "OwnerAccount", awkward);

    static const struct {
        enum aipa_sig sig;
        enum aipa_shape shape;
        enum aipa_want want;
        const char *method;
    } cases[] = {
        {AIPA_SIG_V1, AIPA_SHAPE_GET, AIPA_WANT_DEFAULT, "GET"},
        {AIPA_SIG_V1, AIPA_SHAPE_GET, AIPA_WANT_JSON, "GET"},
        {AIPA_SIG_V1, AIPA_SHAPE_POST_QUERY, AIPA_WANT_XML, "POST"},
        {AIPA_SIG_V1, AIPA_SHAPE_POST_FORM, AIPA_WANT_JSON, "POST"},
        {AIPA_SIG_V3, AIPA_SHAPE_GET, AIPA_WANT_JSON, "GET"},
        {AIPA_SIG_V3, AIPA_SHAPE_POST_QUERY, AIPA_WANT_JSON, "POST"},
        {AIPA_SIG_V3, AIPA_SHAPE_POST_QUERY, AIPA_WANT_XML, "POST"},
    };
    for (size_t i = 0; i < AIPA_ARRAY_LEN(cases); i++) {
        struct aipa_request req;
        struct aipa_built b;
        struct aipa_response r;
        struct aipa_doc d;

        print_message("  case %zu\n", i);
        aipa_request_init(&req);
        req.sig = cases[i].sig;
        req.shape = cases[i].shape;
        req.want = cases[i].want;
        req.params = &p;
        aipa_built_init(&b);
        aipa_response_init(&r);
        assert_int_equal(aipa_client_call(c, &req, &b, &r), AIPA_OK);
        assert_int_equal(r.xerr, AIPA_XERR_NONE);
        assert_int_equal(r.status, 200);
        assert_true(r.elapsed_ms >= 0.0);
        assert_string_equal(r.content_type, "application/json;charset=utf-8");
        assert_non_null(aipa_response_header(&r, "content-type"));
        echo_parse(&r, &d);
        assert_true(cJSON_IsTrue(aipa_path_get(d.root, "verified")));
        assert_string_equal(aipa_path_string(d.root, "scheme"),
                            cases[i].sig == AIPA_SIG_V1 ? "v1" : "v3");
        assert_string_equal(aipa_path_string(d.root, "method"), cases[i].method);
        assert_string_equal(aipa_path_string(d.root, "params.OwnerAccount"), awkward);
        assert_string_equal(aipa_path_string(d.root, "params.InstanceId"),
                            "i-bp1gtjxuuvwj17zr0001");
        /* The Host that was signed is the one sent, with the port. */
        char host[64];
        (void)snprintf(host, sizeof(host), "127.0.0.1:%u", (unsigned)s->port);
        assert_string_equal(aipa_path_string(d.root, "headers.host"), host);
        if (cases[i].sig == AIPA_SIG_V1) {
            assert_string_equal(aipa_path_string(d.root, "params.Action"),
                                "AllocatePublicIpAddress");
            assert_string_equal(aipa_path_string(d.root, "params.SignatureMethod"), "HMAC-SHA1");
            assert_string_equal(aipa_path_string(d.root, "params.Version"), "2014-05-26");
            const char *sig = aipa_path_string(d.root, "params.Signature");
            assert_non_null(sig);
            assert_string_equal(sig, b.trace.signature);
        } else {
            /* V3: Action and Version as headers, none of the V1 common params. */
            assert_null(aipa_path_get(d.root, "params.Action"));
            assert_null(aipa_path_get(d.root, "params.SignatureNonce"));
            assert_string_equal(aipa_path_string(d.root, "headers.x-acs-action"),
                                "AllocatePublicIpAddress");
            assert_string_equal(aipa_path_string(d.root, "headers.x-acs-content-sha256"),
                                AIPA_EMPTY_SHA256_HEX);
            assert_non_null(strstr(aipa_path_string(d.root, "headers.authorization"), b.trace.signature));
            assert_true(b.trace.canonical_request.len > 0);
        }
        if (cases[i].want == AIPA_WANT_JSON) {
            if (cases[i].sig == AIPA_SIG_V3) {
                assert_string_equal(aipa_path_string(d.root, "headers.accept"), "application/json");
            } else {
                assert_string_equal(aipa_path_string(d.root, "params.Format"), "JSON");
            }
        } else if (cases[i].want == AIPA_WANT_XML) {
            assert_string_equal(aipa_path_string(d.root, "params.Format"), "XML");
        } else {
            assert_null(aipa_path_get(d.root, "params.Format"));
        }
        /* Shapes: a form body only for POST_FORM; no stray Content-Type otherwise. */
        const char *target = aipa_path_string(d.root, "target");
        if (cases[i].shape == AIPA_SHAPE_POST_FORM) {
            assert_string_equal(target, "/");
            assert_true(cJSON_GetNumberValue(aipa_path_get(d.root, "body_len")) > 0);
            assert_string_equal(aipa_path_string(d.root, "headers.content-type"),
                                "application/x-www-form-urlencoded");
        } else {
            assert_true(strncmp(target, "/?", 2) == 0);
            assert_true(cJSON_GetNumberValue(aipa_path_get(d.root, "body_len")) == 0);
            assert_null(aipa_path_get(d.root, "headers.content-type"));
        }
        assert_null(aipa_path_get(d.root, "headers.expect"));
        aipa_doc_cleanup(&d);
        aipa_response_cleanup(&r);
        aipa_built_cleanup(&b);
    }
    /* One connection for all of them: keep-alive. */
    assert_int_equal(atomic_load(&s->connections), 1);
    aipa_params_cleanup(&p);
    aipa_client_free(c);
    srv_stop(s);
}

/* Negative knobs make the server's verification fail, as they should. */
static void tamper_target(void *ctx, struct aipa_built *b)
{
    (void)ctx;
    assert_int_equal(aipa_buf_puts(&b->target, "&Extra=1"), AIPA_OK);
}

static void test_negative_knobs_fail_verification(void **state)
{
    (void)state;
    struct echo_srv *s = srv_start();
    struct aipa_client *c = client_for(s->url, 5000, 0);
    struct aipa_params p;
    static const char *const omit_sig[] = {"Signature"};
    static const char *const omit_date[] = {"x-acs-date"};
    static const char *const rm_nonce[] = {"x-acs-signature-nonce"};

    aipa_params_init(&p, NULL);
    add(&p, "Action", "AllocatePublicIpAddress");
    add(&p, "InstanceId", "i-1");
    for (int k = 0; k < 7; k++) {
        struct aipa_request req;
        struct aipa_response r;
        struct aipa_built b;
        struct aipa_doc d;
        aipa_request_init(&req);
        req.params = &p;
        switch (k) {
        case 0:
            req.secret = "wrongsecret";
            break;
        case 1:
            req.sign_method = "POST"; /* sent as GET */
            break;
        case 2:
            req.omit = omit_sig;
            req.omit_count = 1;
            break;
        case 3:
            req.tamper = tamper_target;
            break;
        case 4:
            req.sig = AIPA_SIG_V3;
            req.secret = "wrongsecret";
            break;
        case 5:
            /* Removed after signing: signed but absent, so it cannot verify. */
            req.sig = AIPA_SIG_V3;
            req.remove_headers = rm_nonce;
            req.remove_header_count = 1;
            break;
        default:
            req.sig = AIPA_SIG_NONE;
            break;
        }
        print_message("  knob %d\n", k);
        aipa_built_init(&b);
        aipa_response_init(&r);
        assert_int_equal(aipa_client_call(c, &req, &b, &r), AIPA_OK);
        assert_int_equal(r.xerr, AIPA_XERR_NONE);
        assert_int_equal(r.status, 401);
        echo_parse(&r, &d);
        assert_true(cJSON_IsFalse(aipa_path_get(d.root, "verified")));
        if (k == 2 || k == 6) {
            assert_null(aipa_path_get(d.root, "params.Signature"));
            assert_string_equal(aipa_path_string(d.root, "scheme"), "none");
        }
        if (k == 3) {
            assert_true(b.tampered);
            assert_string_equal(aipa_path_string(d.root, "params.Extra"), "1");
        }
        if (k == 6) {
            assert_null(aipa_path_get(d.root, "params.AccessKeyId"));
            assert_string_equal(aipa_path_string(d.root, "params.Version"), "2014-05-26");
        }
        aipa_doc_cleanup(&d);
        aipa_response_cleanup(&r);
        aipa_built_cleanup(&b);
    }
    /* An omitted V3 header is left out before signing, so it still verifies. */
    {
        struct aipa_request req;
        struct aipa_response r;
        struct aipa_doc d;
        aipa_request_init(&req);
        req.params = &p;
        req.sig = AIPA_SIG_V3;
        req.omit = omit_date;
        req.omit_count = 1;
        aipa_response_init(&r);
        assert_int_equal(aipa_client_call(c, &req, NULL, &r), AIPA_OK);
        assert_int_equal(r.status, 200);
        echo_parse(&r, &d);
        assert_null(aipa_path_get(d.root, "headers.x-acs-date"));
        aipa_doc_cleanup(&d);
        aipa_response_cleanup(&r);
    }
    aipa_params_cleanup(&p);
    aipa_client_free(c);
    srv_stop(s);
}

/* Overrides are used verbatim; nonces are fresh per request otherwise. */
static void test_overrides_and_nonces(void **state)
{
    (void)state;
    struct aipa_client *c = client_for("http://127.0.0.1:9/", 1000, 0);
    struct aipa_params p;
    struct aipa_request req;
    struct aipa_built b1, b2;
    static const struct aipa_kv extra[] = {{"x-acs-credentials-provider", "static_ak"},
                                           {"X-Test", "1"}};

    aipa_params_init(&p, NULL);
    add(&p, "Action", "AllocatePublicIpAddress");
    aipa_request_init(&req);
    req.params = &p;
    aipa_built_init(&b1);
    aipa_built_init(&b2);
    assert_int_equal(aipa_client_build(c, &req, &b1), AIPA_OK);
    assert_int_equal(aipa_client_build(c, &req, &b2), AIPA_OK);
    const char *n1 = aipa_params_value(&b1.sent, "SignatureNonce");
    const char *n2 = aipa_params_value(&b2.sent, "SignatureNonce");
    assert_non_null(n1);
    assert_int_equal(strlen(n1), 32);
    assert_string_not_equal(n1, n2);
    int64_t t;
    const char *ts = aipa_params_value(&b1.sent, "Timestamp");
    assert_int_equal(aipa_parse_timestamp(ts, strlen(ts), &t), AIPA_OK);

    req.timestamp = "2016-02-23T12:46:24Z";
    req.nonce = "fixed-nonce";
    req.access_key_id = "other";
    req.method = "PUT";
    assert_int_equal(aipa_client_build(c, &req, &b1), AIPA_OK);
    assert_string_equal(aipa_params_value(&b1.sent, "Timestamp"), "2016-02-23T12:46:24Z");
    assert_string_equal(aipa_params_value(&b1.sent, "SignatureNonce"), "fixed-nonce");
    assert_string_equal(aipa_params_value(&b1.sent, "AccessKeyId"), "other");
    assert_string_equal(b1.method.ptr, "PUT");
    assert_true(strncmp(b1.trace.string_to_sign.ptr, "PUT&%2F&", 8) == 0);

    /* V3: extra x-acs-* headers are signed, others are not; a V3 form body is refused. */
    req.sig = AIPA_SIG_V3;
    req.method = NULL;
    req.extra_headers = extra;
    req.extra_header_count = 2;
    assert_int_equal(aipa_client_build(c, &req, &b1), AIPA_OK);
    const char *auth = aipa_built_header(&b1, "authorization");
    assert_non_null(auth);
    assert_non_null(strstr(auth, "Credential=other,SignedHeaders=host;x-acs-action;"
                                 "x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;"
                                 "x-acs-signature-nonce;x-acs-version,Signature="));
    assert_string_equal(aipa_built_header(&b1, "X-Test"), "1");
    assert_string_equal(aipa_built_header(&b1, "x-acs-date"), "2016-02-23T12:46:24Z");
    req.shape = AIPA_SHAPE_POST_FORM;
    assert_int_equal(aipa_client_build(c, &req, &b1), AIPA_EINVAL);
    req.shape = AIPA_SHAPE_GET;
    req.params = NULL;
    assert_int_equal(aipa_client_build(c, &req, &b1), AIPA_EINVAL);

    /* Header helpers. */
    assert_int_equal(aipa_built_set_header(&b2, "X-A", "1"), AIPA_OK);
    assert_int_equal(aipa_built_set_header(&b2, "x-a", "2"), AIPA_OK);
    assert_string_equal(aipa_built_header(&b2, "X-A"), "2");
    assert_int_equal(aipa_built_remove_header(&b2, "X-A"), 1);
    assert_null(aipa_built_header(&b2, "x-a"));

    aipa_built_cleanup(&b1);
    aipa_built_cleanup(&b2);
    aipa_params_cleanup(&p);
    aipa_client_free(c);
}

/* ---- the spec's vectors through the builder (no network) ---- */

static void test_spec_vectors(void **state)
{
    (void)state;
    struct aipa_params p;
    struct aipa_request req;
    struct aipa_built b;

    aipa_built_init(&b);
    /* spec/wire.md §2.2 official vector: DescribeRegions, GET, Format=XML. */
    struct aipa_client *c = client_for("https://ecs.aliyuncs.com", 1000, 0);
    aipa_params_init(&p, NULL);
    add(&p, "Action", "DescribeRegions");
    aipa_request_init(&req);
    req.params = &p;
    req.want = AIPA_WANT_XML;
    req.timestamp = "2016-02-23T12:46:24Z";
    req.nonce = "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf";
    assert_int_equal(aipa_client_build(c, &req, &b), AIPA_OK);
    assert_string_equal(
        b.trace.string_to_sign.ptr,
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%"
        "3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%"
        "3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26");
    assert_string_equal(b.trace.signature, "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    assert_string_equal(aipa_params_value(&b.sent, "Signature"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    assert_non_null(strstr(b.target.ptr, "&Signature=OLeaidS1JvxuMvnyHOwuJ%2BuX5qY%3D"));
    assert_string_equal(aipa_built_header(&b, "Host"), "ecs.aliyuncs.com");
    aipa_params_cleanup(&p);

    /* spec/wire.md §2.2 AllocatePublicIpAddress vectors: GET, POST, and GET with an awkward
     * OwnerAccount. */
    static const struct {
        enum aipa_shape shape;
        const char *owner;
        const char *sig;
    } v1[] = {
        {AIPA_SHAPE_GET, NULL, "n+p2Y9hWVUI6T6dMgSkrl1F+DgM="},
        {AIPA_SHAPE_POST_QUERY, NULL, "QMvScVt8gWcHj5n3NXux3RX80wg="},
        {AIPA_SHAPE_POST_FORM, NULL, "QMvScVt8gWcHj5n3NXux3RX80wg="},
        {AIPA_SHAPE_GET, "a b*c~d!'()+/\xC3\xA9", "C+8y83fUevkkRpIuZYZs4y2bfsM="},
    };
    for (size_t i = 0; i < AIPA_ARRAY_LEN(v1); i++) {
        aipa_params_init(&p, NULL);
        add(&p, "Action", "AllocatePublicIpAddress");
        add(&p, "InstanceId", "i-bp1gtjxuuvwj17zr0001");
        if (v1[i].owner != NULL) {
            add(&p, "OwnerAccount", v1[i].owner);
        }
        aipa_request_init(&req);
        req.params = &p;
        req.shape = v1[i].shape;
        req.want = AIPA_WANT_JSON;
        req.timestamp = "2016-02-23T12:46:24Z";
        req.nonce = "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf";
        assert_int_equal(aipa_client_build(c, &req, &b), AIPA_OK);
        assert_string_equal(b.trace.signature, v1[i].sig);
        aipa_params_cleanup(&p);
    }
    aipa_client_free(c);

    /* spec/wire.md §2.6 (c): Tea with signatureAlgorithm v2, Format=json given by the caller. */
    c = client_for("http://127.0.0.1:18080", 1000, 0);
    aipa_params_init(&p, NULL);
    add(&p, "Action", "AllocatePublicIpAddress");
    add(&p, "Format", "json");
    add(&p, "InstanceId", "i-bp1gtjxuuvwj17zr0001");
    aipa_request_init(&req);
    req.params = &p;
    req.shape = AIPA_SHAPE_POST_QUERY;
    req.timestamp = "2026-11-27T07:51:23Z";
    req.nonce = "b459be194ebe2a3a255ede8fa3ae662d84f8bfdff2d3ecdb614d259586ed4271";
    assert_int_equal(aipa_client_build(c, &req, &b), AIPA_OK);
    assert_string_equal(b.trace.signature, "YrUmtZmodh+T1ShLZzBkOEEY/io=");
    aipa_params_cleanup(&p);

    /* spec/wire.md §2.6 (a): the Node SDK's default V3 request, host with port,
     * credentials-provider signed. */
    static const struct aipa_kv provider[] = {{"x-acs-credentials-provider", "static_ak"}};
    aipa_params_init(&p, NULL);
    add(&p, "Action", "AllocatePublicIpAddress");
    add(&p, "InstanceId", "i-bp1gtjxuuvwj17zr0001");
    aipa_request_init(&req);
    req.sig = AIPA_SIG_V3;
    req.params = &p;
    req.shape = AIPA_SHAPE_POST_QUERY;
    req.want = AIPA_WANT_JSON;
    req.timestamp = "2026-11-27T07:51:21Z";
    req.nonce = "5c692507df90cfef3803ed0d120d1deb10bd77c39231b6e765891efd3556b6e4";
    req.extra_headers = provider;
    req.extra_header_count = 1;
    assert_int_equal(aipa_client_build(c, &req, &b), AIPA_OK);
    assert_string_equal(b.trace.signature,
                        "579d9bdc75d351be974cc9bd4707154ff224c2a67b25bbb150a1f865267ec988");
    assert_string_equal(b.target.ptr, "/?InstanceId=i-bp1gtjxuuvwj17zr0001");
    assert_string_equal(b.method.ptr, "POST");
    assert_int_equal(b.body.len, 0);
    aipa_params_cleanup(&p);
    aipa_client_free(c);

    /* spec/wire.md §2.3 deterministic V3 vector. */
    c = client_for("http://ecs.aliyuncs.com/", 1000, 0);
    aipa_params_init(&p, NULL);
    add(&p, "Action", "AllocatePublicIpAddress");
    add(&p, "InstanceId", "i-bp1gtjxuuvwj17zr0001");
    aipa_request_init(&req);
    req.sig = AIPA_SIG_V3;
    req.params = &p;
    req.shape = AIPA_SHAPE_POST_QUERY;
    req.timestamp = "2023-10-26T09:01:01Z";
    req.nonce = "d410180a5abf7fe235dd9b74aca91fc0";
    assert_int_equal(aipa_client_build(c, &req, &b), AIPA_OK);
    assert_string_equal(
        aipa_built_header(&b, "Authorization"),
        "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;"
        "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
        "Signature=7cd8ac92bdcb593cc63e73084d2407ab369d9d2a5c1d84e3e40bea4022b3f243");
    assert_string_equal(b.trace.string_to_sign.ptr,
                        "ACS3-HMAC-SHA256\n"
                        "ca0bb1a1375a72cc90b9379bd14767f3feef094702a8e3ad9f8cfc6c1680c2cc");
    aipa_params_cleanup(&p);
    aipa_client_free(c);
    aipa_built_cleanup(&b);
}

/* ---- transport failures ---- */

static void test_too_large(void **state)
{
    (void)state;
    struct echo_srv *s = srv_start();
    char url[96];
    static const char *const paths[] = {"/big", "/chunked"};

    for (size_t i = 0; i < 2; i++) {
        (void)snprintf(url, sizeof(url), "%s%s", s->url, paths[i]);
        struct aipa_client *c = client_for(url, 5000, 1u << 20);
        struct aipa_request req;
        struct aipa_response r;
        aipa_request_init(&req);
        req.raw = true;
        req.raw_target = (const uint8_t *)paths[i];
        req.raw_target_len = strlen(paths[i]);
        aipa_response_init(&r);
        assert_int_equal(aipa_client_call(c, &req, NULL, &r), AIPA_OK);
        assert_int_equal(r.xerr, AIPA_XERR_TOO_LARGE);
        assert_string_equal(aipa_xerr_name(r.xerr), "too-large");
        assert_non_null(strstr(r.xerr_msg, "larger than 1048576"));
        assert_true(r.body.len <= (1u << 20));
        aipa_response_cleanup(&r);
        aipa_client_free(c);
    }
    /* Under a larger cap the same response arrives whole. */
    (void)snprintf(url, sizeof(url), "%s/chunked", s->url);
    struct aipa_client *c = client_for(url, 5000, 4u << 20);
    struct aipa_request req;
    struct aipa_response r;
    aipa_request_init(&req);
    req.raw = true;
    req.raw_target = (const uint8_t *)"/chunked";
    req.raw_target_len = 8;
    aipa_response_init(&r);
    assert_int_equal(aipa_client_call(c, &req, NULL, &r), AIPA_OK);
    assert_int_equal(r.xerr, AIPA_XERR_NONE);
    assert_int_equal(r.body.len, BIG_LEN);
    aipa_response_cleanup(&r);
    aipa_client_free(c);
    srv_stop(s);
}

/* A listening socket that never accepts: the kernel completes the handshake, nobody answers. */
static int listen_silent(uint16_t *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static void test_timeout(void **state)
{
    (void)state;
    uint16_t port;
    int fd = listen_silent(&port);
    char url[64];
    (void)snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)port);
    struct aipa_client *c = client_for(url, 300, 0);
    struct aipa_request req;
    struct aipa_response r;
    struct aipa_params p;

    aipa_params_init(&p, NULL);
    add(&p, "Action", "DescribeInstances");
    aipa_request_init(&req);
    req.params = &p;
    aipa_response_init(&r);
    assert_int_equal(aipa_client_call(c, &req, NULL, &r), AIPA_OK);
    assert_int_equal(r.xerr, AIPA_XERR_TIMEOUT);
    assert_int_equal(r.status, 0);
    /* Within the bound: 300 ms configured, well under 3 s observed. */
    assert_true(r.elapsed_ms >= 250.0);
    assert_true(r.elapsed_ms < 3000.0);
    assert_true(strlen(r.xerr_msg) > 0);
    aipa_response_cleanup(&r);
    aipa_params_cleanup(&p);
    aipa_client_free(c);
    close(fd);
}

/* A one-shot server that accepts one connection, reads, sends canned bytes, and closes. */
struct oneshot {
    int fd;
    uint16_t port;
    const char *reply;
    pthread_t th;
};

static void *oneshot_run(void *arg)
{
    struct oneshot *o = arg;
    struct pollfd pfd = {o->fd, POLLIN, 0};
    if (poll(&pfd, 1, 5000) == 1) {
        int cfd = accept(o->fd, NULL, NULL);
        if (cfd >= 0) {
            char buf[4096];
            struct pollfd cp = {cfd, POLLIN, 0};
            if (poll(&cp, 1, 5000) == 1) {
                ssize_t got = read(cfd, buf, sizeof(buf));
                (void)got;
            }
            if (o->reply != NULL) {
                ssize_t put = send(cfd, o->reply, strlen(o->reply), MSG_NOSIGNAL);
                (void)put;
            }
            close(cfd);
        }
    }
    return NULL;
}

static void oneshot_start(struct oneshot *o, const char *reply)
{
    o->fd = listen_silent(&o->port);
    o->reply = reply;
    assert_int_equal(pthread_create(&o->th, NULL, oneshot_run, o), 0);
}

static void oneshot_stop(struct oneshot *o)
{
    pthread_join(o->th, NULL);
    close(o->fd);
}

static enum aipa_xerr raw_get(const char *url, struct aipa_response *r)
{
    struct aipa_client *c = client_for(url, 10000, 0);
    struct aipa_request req;

    aipa_request_init(&req);
    req.raw = true;
    assert_int_equal(aipa_client_call(c, &req, NULL, r), AIPA_OK);
    aipa_client_free(c);
    print_message("  %s: %s after %.1f ms (%s)\n", url, aipa_xerr_name(r->xerr), r->elapsed_ms,
                  r->xerr_msg);
    return r->xerr;
}

static void test_reset_refused_tls_protocol(void **state)
{
    (void)state;
    struct oneshot o;
    struct aipa_response r;
    char url[64];

    aipa_response_init(&r);
    /* Closed without a reply. */
    oneshot_start(&o, NULL);
    (void)snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)o.port);
    assert_int_equal(raw_get(url, &r), AIPA_XERR_RESET);
    oneshot_stop(&o);
    /* Garbage instead of a status line. */
    oneshot_start(&o, "garbage\r\n\r\n");
    (void)snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)o.port);
    assert_int_equal(raw_get(url, &r), AIPA_XERR_PROTOCOL);
    oneshot_stop(&o);
    /* Headers promised a longer body than came. */
    oneshot_start(&o, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
    (void)snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)o.port);
    assert_int_equal(raw_get(url, &r), AIPA_XERR_RESET);
    assert_int_equal(r.status, 200);
    oneshot_stop(&o);
    /* TLS spoken to a plain HTTP server. */
    oneshot_start(&o, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    (void)snprintf(url, sizeof(url), "https://127.0.0.1:%u/", (unsigned)o.port);
    assert_int_equal(raw_get(url, &r), AIPA_XERR_TLS);
    oneshot_stop(&o);
    /* Nothing listening. */
    uint16_t port;
    int fd = listen_silent(&port);
    close(fd);
    (void)snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)port);
    assert_int_equal(raw_get(url, &r), AIPA_XERR_CONNECT);
    assert_string_equal(aipa_xerr_name(AIPA_XERR_CONNECT), "connect");
    aipa_response_cleanup(&r);
}

/* Response headers: only the final response's, at most 64 kept, 64 KiB in all. */
static void test_response_headers_bounded(void **state)
{
    (void)state;
    struct oneshot o;
    struct aipa_response r;
    char url[64];
    struct aipa_buf reply;

    aipa_response_init(&r);
    aipa_buf_init(&reply, 1 << 20);
    /* A 100 Continue before the real response: its headers are dropped. */
    oneshot_start(&o, "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
                      "HTTP/1.1 200 OK\r\nX-Final: yes\r\nContent-Type: text/plain\r\n"
                      "Content-Length: 2\r\n\r\nok");
    (void)snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)o.port);
    assert_int_equal(raw_get(url, &r), AIPA_XERR_NONE);
    assert_int_equal(r.status, 200);
    assert_null(aipa_response_header(&r, "X-Interim"));
    assert_string_equal(aipa_response_header(&r, "x-final"), "yes");
    assert_string_equal(r.content_type, "text/plain");
    assert_string_equal(r.body.ptr, "ok");
    oneshot_stop(&o);

    /* 100 headers: the first 64 are kept and the response says so. */
    assert_int_equal(aipa_buf_puts(&reply, "HTTP/1.1 200 OK\r\n"), AIPA_OK);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(aipa_buf_printf(&reply, "X-H%d:   v%d  \r\n", i, i), AIPA_OK);
    }
    assert_int_equal(aipa_buf_puts(&reply, "Content-Length: 0\r\n\r\n"), AIPA_OK);
    oneshot_start(&o, reply.ptr);
    (void)snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)o.port);
    assert_int_equal(raw_get(url, &r), AIPA_XERR_NONE);
    assert_int_equal(r.header_count, AIPA_TX_MAX_RESP_HEADERS);
    assert_true(r.headers_truncated);
    assert_string_equal(aipa_response_header(&r, "X-H0"), "v0"); /* trimmed */
    assert_null(aipa_response_header(&r, "X-H99"));
    oneshot_stop(&o);

    /* More than 64 KiB of header lines: too large. */
    aipa_buf_reset(&reply);
    assert_int_equal(aipa_buf_puts(&reply, "HTTP/1.1 200 OK\r\n"), AIPA_OK);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(aipa_buf_printf(&reply, "X-Big%d: ", i), AIPA_OK);
        for (int k = 0; k < 4000; k++) {
            assert_int_equal(aipa_buf_putc(&reply, 'a'), AIPA_OK);
        }
        assert_int_equal(aipa_buf_puts(&reply, "\r\n"), AIPA_OK);
    }
    assert_int_equal(aipa_buf_puts(&reply, "Content-Length: 0\r\n\r\n"), AIPA_OK);
    oneshot_start(&o, reply.ptr);
    (void)snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)o.port);
    assert_int_equal(raw_get(url, &r), AIPA_XERR_TOO_LARGE);
    oneshot_stop(&o);
    aipa_buf_cleanup(&reply);
    aipa_response_cleanup(&r);
}

static void test_redirect_not_followed(void **state)
{
    (void)state;
    struct echo_srv *s = srv_start();
    char url[96];
    (void)snprintf(url, sizeof(url), "%s/redirect", s->url);
    struct aipa_client *c = client_for(url, 5000, 0);
    struct aipa_params p;
    struct aipa_request req;
    struct aipa_response r;
    struct aipa_built b;

    aipa_params_init(&p, NULL);
    add(&p, "Action", "DescribeInstances");
    aipa_request_init(&req);
    req.params = &p;
    aipa_built_init(&b);
    aipa_response_init(&r);
    assert_int_equal(aipa_client_call(c, &req, &b, &r), AIPA_OK);
    /* The target's path is the RPC pathname. */
    assert_true(strncmp(b.target.ptr, "/redirect?", 10) == 0);
    assert_int_equal(r.xerr, AIPA_XERR_NONE);
    assert_int_equal(r.status, 302);
    assert_string_equal(aipa_response_header(&r, "Location"), "/landed");
    assert_string_equal(r.body.ptr, "moved");
    assert_int_equal(atomic_load(&s->landed), 0);
    aipa_built_cleanup(&b);
    aipa_response_cleanup(&r);
    aipa_params_cleanup(&p);
    aipa_client_free(c);
    srv_stop(s);
}

/* Raw mode sends the bytes as given. */
static void test_raw_mode(void **state)
{
    (void)state;
    struct echo_srv *s = srv_start();
    struct aipa_client *c = client_for(s->url, 5000, 0);
    struct aipa_request req;
    struct aipa_response r;
    struct aipa_doc d;
    static const char target[] = "/?Action=Describe%zzInstances&A=1&A=2&%FF";
    static const char *const hdrs[] = {"X-Raw: yes", "Content-Type: text/plain"};

    aipa_request_init(&req);
    req.raw = true;
    req.raw_method = "PATCH";
    req.raw_target = (const uint8_t *)target;
    req.raw_target_len = sizeof(target) - 1;
    req.raw_headers = hdrs;
    req.raw_header_count = 2;
    req.raw_body = (const uint8_t *)"hello";
    req.raw_body_len = 5;
    aipa_response_init(&r);
    assert_int_equal(aipa_client_call(c, &req, NULL, &r), AIPA_OK);
    assert_int_equal(r.xerr, AIPA_XERR_NONE);
    echo_parse(&r, &d);
    assert_string_equal(aipa_path_string(d.root, "target"), target);
    assert_string_equal(aipa_path_string(d.root, "method"), "PATCH");
    assert_string_equal(aipa_path_string(d.root, "headers.x-raw"), "yes");
    assert_string_equal(aipa_path_string(d.root, "problem"), "bad query");
    assert_int_equal(cJSON_GetNumberValue(aipa_path_get(d.root, "body_len")), 5);
    aipa_doc_cleanup(&d);
    aipa_response_cleanup(&r);
    aipa_client_free(c);
    srv_stop(s);
}

static void test_target_validation(void **state)
{
    (void)state;
    static const char *const bad[] = {"ftp://127.0.0.1/", "file:///etc/passwd", "127.0.0.1:80", "",
                                      "http://",          "gopher://127.0.0.1/"};
    struct aipa_client_config cfg;
    struct aipa_client *c = (struct aipa_client *)1;

    for (size_t i = 0; i < AIPA_ARRAY_LEN(bad); i++) {
        aipa_client_config_defaults(&cfg);
        cfg.target = bad[i];
        assert_int_equal(aipa_client_new(&c, &cfg), AIPA_EINVAL);
        assert_null(c);
    }
    aipa_client_config_defaults(&cfg);
    assert_int_equal(aipa_client_new(&c, &cfg), AIPA_EINVAL);
    /* IPv6 loopback with a port: Host keeps the brackets. */
    c = client_for("http://[::1]:8080/", 1000, 0);
    struct aipa_params p;
    struct aipa_request req;
    struct aipa_built b;
    aipa_params_init(&p, NULL);
    add(&p, "Action", "X");
    aipa_request_init(&req);
    req.params = &p;
    aipa_built_init(&b);
    assert_int_equal(aipa_client_build(c, &req, &b), AIPA_OK);
    assert_string_equal(aipa_built_header(&b, "Host"), "[::1]:8080");
    aipa_client_free(c);
    /* Default ports are not written into Host. */
    c = client_for("https://ecs.aliyuncs.com:443", 1000, 0);
    assert_int_equal(aipa_client_build(c, &req, &b), AIPA_OK);
    assert_string_equal(aipa_built_header(&b, "Host"), "ecs.aliyuncs.com");
    aipa_client_free(c);
    aipa_built_cleanup(&b);
    aipa_params_cleanup(&p);
}

static void test_repro_line(void **state)
{
    (void)state;
    struct aipa_client *c = client_for("http://127.0.0.1:8080", 1000, 0);
    struct aipa_params p;
    struct aipa_request req;
    struct aipa_buf out;
    static const char *const omit[] = {"Timestamp"};
    static const struct aipa_kv extra[] = {{"X-Note", "it's"}};

    aipa_params_init(&p, NULL);
    add(&p, "Action", "AllocatePublicIpAddress");
    add(&p, "OwnerAccount", "a'b\x01");
    aipa_request_init(&req);
    req.params = &p;
    req.sig = AIPA_SIG_V3;
    req.shape = AIPA_SHAPE_POST_QUERY;
    req.want = AIPA_WANT_JSON;
    req.secret = "hunter2-wrong";
    req.nonce = "n1";
    req.omit = omit;
    req.omit_count = 1;
    req.extra_headers = extra;
    req.extra_header_count = 1;
    aipa_buf_init(&out, 1 << 16);
    assert_int_equal(aipa_client_repro(c, &req, &out), AIPA_OK);
    assert_string_equal(out.ptr,
                        "aipa call --target 'http://127.0.0.1:8080' --sig v3 --method 'POST' "
                        "--format json --access-key-id 'testid' --secret-env AIPA_OVERRIDE_SECRET "
                        "--nonce 'n1' --omit 'Timestamp' -H 'X-Note: it'\\''s' "
                        "'Action=AllocatePublicIpAddress' $'OwnerAccount=a\\'b\\x01'");
    assert_null(strstr(out.ptr, "hunter2"));
    assert_null(strstr(out.ptr, SECRET));

    aipa_buf_reset(&out);
    aipa_request_init(&req);
    req.raw = true;
    req.raw_method = "GET";
    req.raw_target = (const uint8_t *)"/?a=%zz\r\n";
    req.raw_target_len = 9;
    assert_int_equal(aipa_client_repro(c, &req, &out), AIPA_OK);
    assert_string_equal(out.ptr, "aipa call --target 'http://127.0.0.1:8080' --raw-method 'GET' "
                                 "--raw-target $'/?a=%zz\\x0d\\x0a'");
    aipa_buf_cleanup(&out);
    aipa_params_cleanup(&p);
    aipa_client_free(c);
}

/* ---- aipa call / aipa sign ---- */

/* Runs a subcommand with stdout captured into out (and stderr into err). */
static int run_cli(int (*fn)(int, char **), const char *const *args, size_t n, struct aipa_buf *out,
                   struct aipa_buf *err)
{
    char *argv[32];
    FILE *fo = tmpfile();
    FILE *fe = tmpfile();

    assert_true(n < 32);
    assert_non_null(fo);
    assert_non_null(fe);
    for (size_t i = 0; i < n; i++) {
        argv[i] = strdup(args[i]);
    }
    argv[n] = NULL;
    fflush(stdout);
    fflush(stderr);
    int so = dup(STDOUT_FILENO);
    int se = dup(STDERR_FILENO);
    dup2(fileno(fo), STDOUT_FILENO);
    dup2(fileno(fe), STDERR_FILENO);
    int rc = fn((int)n, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, STDOUT_FILENO);
    dup2(se, STDERR_FILENO);
    close(so);
    close(se);
    FILE *fs[2] = {fo, fe};
    struct aipa_buf *bs[2] = {out, err};
    for (int k = 0; k < 2; k++) {
        char buf[4096];
        size_t got;
        aipa_buf_reset(bs[k]);
        rewind(fs[k]);
        while ((got = fread(buf, 1, sizeof(buf), fs[k])) > 0) {
            assert_int_equal(aipa_buf_append(bs[k], buf, got), AIPA_OK);
        }
        assert_int_equal(aipa_buf_putc(bs[k], '\0'), AIPA_OK);
        fclose(fs[k]);
    }
    for (size_t i = 0; i < n; i++) {
        free(argv[i]);
    }
    return rc;
}

#define RUN(fn, ...)                                                                               \
    run_cli(fn, (const char *const[]){__VA_ARGS__},                                                \
            sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *), &out, &err)

static void test_cli_sign(void **state)
{
    (void)state;
    struct aipa_buf out, err;
    aipa_buf_init(&out, 1 << 20);
    aipa_buf_init(&err, 1 << 20);
    assert_int_equal(setenv("AIPA_ACCESS_KEY_SECRET", SECRET, 1), 0);

    assert_int_equal(RUN(aipa_sign_main, "sign", "--access-key-id", AKID, "--timestamp",
                         "2016-02-23T12:46:24Z", "--nonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
                         "--format", "xml", "Action=DescribeRegions"),
                     0);
    assert_non_null(strstr(out.ptr, "StringToSign:\nGET&%2F&AccessKeyId%3Dtestid%26Action%3D"
                                    "DescribeRegions%26Format%3DXML%26"));
    assert_non_null(strstr(out.ptr, "Signature: OLeaidS1JvxuMvnyHOwuJ+uX5qY=\n"));
    assert_null(strstr(out.ptr, SECRET));

    assert_int_equal(RUN(aipa_sign_main, "sign", "--sig", "v3", "--method", "POST",
                         "--access-key-id", AKID, "--timestamp", "2023-10-26T09:01:01Z", "--nonce",
                         "d410180a5abf7fe235dd9b74aca91fc0", "Action=AllocatePublicIpAddress",
                         "InstanceId=i-bp1gtjxuuvwj17zr0001"),
                     0);
    assert_non_null(strstr(out.ptr,
                           "CanonicalRequest:\nPOST\n/\nInstanceId=i-bp1gtjxuuvwj17zr0001\n"
                           "host:ecs.aliyuncs.com\n"));
    assert_non_null(strstr(
        out.ptr, "Signature: 7cd8ac92bdcb593cc63e73084d2407ab369d9d2a5c1d84e3e40bea4022b3f243\n"));

    /* The secret from a file (first line only). */
    char path[] = "/tmp/aipa-test-secret-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "testsecret\nignored\n", 19), 19);
    close(fd);
    assert_int_equal(unsetenv("AIPA_ACCESS_KEY_SECRET"), 0);
    assert_int_equal(RUN(aipa_sign_main, "sign", "--secret-file", path, "--access-key-id", AKID,
                         "--timestamp", "2016-02-23T12:46:24Z", "--nonce",
                         "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "--format", "xml",
                         "Action=DescribeRegions"),
                     0);
    assert_non_null(strstr(out.ptr, "Signature: OLeaidS1JvxuMvnyHOwuJ+uX5qY=\n"));
    unlink(path);

    /* No secret anywhere, bad options, bad params: usage errors. */
    assert_int_equal(RUN(aipa_sign_main, "sign", "--access-key-id", AKID, "Action=X"), 2);
    assert_non_null(strstr(err.ptr, "no secret"));
    assert_int_equal(RUN(aipa_sign_main, "sign", "--sig", "v9", "Action=X"), 2);
    assert_int_equal(RUN(aipa_sign_main, "sign", "--bogus"), 2);
    assert_int_equal(setenv("AIPA_ACCESS_KEY_SECRET", SECRET, 1), 0);
    assert_int_equal(RUN(aipa_sign_main, "sign", "--access-key-id", AKID, "NoEquals"), 2);
    assert_int_equal(RUN(aipa_sign_main, "sign", "--help"), 0);
    assert_non_null(strstr(out.ptr, "usage: aipa sign"));
    aipa_buf_cleanup(&out);
    aipa_buf_cleanup(&err);
}

static void test_cli_call(void **state)
{
    (void)state;
    struct echo_srv *s = srv_start();
    struct aipa_buf out, err;
    aipa_buf_init(&out, 1 << 20);
    aipa_buf_init(&err, 1 << 20);
    assert_int_equal(setenv("AIPA_ACCESS_KEY_SECRET", SECRET, 1), 0);
    assert_int_equal(setenv("AIPA_ACCESS_KEY_ID", AKID, 1), 0);
    assert_int_equal(setenv("AIPA_TEST_WRONG", "not-the-secret", 1), 0);

    /* Verified: HTTP 200, exit 0; status line, headers, blank line, body. */
    assert_int_equal(RUN(aipa_call_main, "call", "--target", s->url, "--sig", "v3", "--method",
                         "POST", "--format", "json", "Action=AllocatePublicIpAddress",
                         "InstanceId=i-1"),
                     0);
    assert_true(strncmp(out.ptr, "HTTP 200\n", 9) == 0);
    assert_non_null(strstr(out.ptr, "Content-Type: application/json;charset=utf-8\n"));
    assert_non_null(strstr(out.ptr, "\n\n{\"verified\":true"));
    /* Form body, V1. */
    assert_int_equal(RUN(aipa_call_main, "call", "--target", s->url, "--form", "--body-only",
                         "Action=DescribeInstances"),
                     0);
    assert_true(strncmp(out.ptr, "{\"verified\":true", 16) == 0);
    /* A wrong secret from another variable: the server refuses, exit 1. */
    assert_int_equal(RUN(aipa_call_main, "call", "--target", s->url, "--secret-env",
                         "AIPA_TEST_WRONG", "Action=DescribeInstances"),
                     1);
    assert_true(strncmp(out.ptr, "HTTP 401\n", 9) == 0);
    /* Raw mode needs no key. */
    assert_int_equal(
        RUN(aipa_call_main, "call", "--target", s->url, "--raw-target", "/?x=%41", "--body-only"),
        1);
    assert_non_null(strstr(out.ptr, "\"target\":\"/?x=%41\""));
    /* The repro line names the environment, never the secret. */
    assert_int_equal(RUN(aipa_call_main, "call", "--target", s->url, "--repro", "--nonce", "n",
                         "Action=DescribeInstances"),
                     0);
    assert_non_null(strstr(out.ptr, "aipa call --target '"));
    assert_null(strstr(out.ptr, SECRET));
    /* Usage and transport errors: exit 2. */
    assert_int_equal(RUN(aipa_call_main, "call", "Action=DescribeInstances"), 2);
    assert_non_null(strstr(err.ptr, "--target"));
    assert_int_equal(RUN(aipa_call_main, "call", "--target", "ftp://127.0.0.1/", "Action=X"), 2);
    assert_int_equal(
        RUN(aipa_call_main, "call", "--target", s->url, "--sig", "v3", "--form", "Action=X"), 2);
    assert_int_equal(
        RUN(aipa_call_main, "call", "--target", s->url, "--timeout-ms", "abc", "Action=X"), 2);
    uint16_t port;
    int fd = listen_silent(&port);
    close(fd);
    char dead[64];
    (void)snprintf(dead, sizeof(dead), "http://127.0.0.1:%u", (unsigned)port);
    assert_int_equal(RUN(aipa_call_main, "call", "--target", dead, "Action=X"), 2);
    assert_non_null(strstr(err.ptr, "transport error (connect)"));
    assert_int_equal(unsetenv("AIPA_ACCESS_KEY_ID"), 0);
    assert_int_equal(RUN(aipa_call_main, "call", "--target", s->url, "Action=X"), 2);
    assert_non_null(strstr(err.ptr, "AccessKeyId"));
    assert_int_equal(RUN(aipa_call_main, "call", "--help"), 0);
    assert_non_null(strstr(out.ptr, "usage: aipa call"));
    aipa_buf_cleanup(&out);
    aipa_buf_cleanup(&err);
    srv_stop(s);
}

/* ---- allocation failure injection ---- */

/* Building under allocation failure: AIPA_ENOMEM (or a crypto failure), never a crash or leak. */
static void test_build_out_of_memory(void **state)
{
    (void)state;
    struct aipa_client *c = client_for("http://127.0.0.1:9/", 1000, 0);
    struct aipa_params p;
    static const struct aipa_kv extra[] = {{"x-acs-credentials-provider", "static_ak"}};

    aipa_params_init(&p, NULL);
    add(&p, "Action", "AllocatePublicIpAddress");
    add(&p, "InstanceId", "i-1");
    for (int sig = 0; sig < 3; sig++) {
        bool done = false;
        for (long k = 0; k < 5000 && !done; k++) {
            struct aipa_request req;
            struct aipa_built b;
            struct aipa_buf line;
            aipa_request_init(&req);
            req.sig = (enum aipa_sig)sig;
            req.shape = sig == 1 ? AIPA_SHAPE_POST_QUERY : AIPA_SHAPE_POST_FORM;
            req.want = AIPA_WANT_JSON;
            req.params = &p;
            req.extra_headers = extra;
            req.extra_header_count = 1;
            aipa_built_init(&b);
            aipa_buf_init(&line, 1 << 16);
            aipa_test_oom_arm(k);
            aipa_set_allocator(&aipa_test_oom_allocator);
            aipa_err e = aipa_client_build(c, &req, &b);
            aipa_err r = aipa_client_repro(c, &req, &line);
            aipa_set_allocator(NULL);
            aipa_test_oom_arm(-1);
            assert_true(e == AIPA_OK || e == AIPA_ENOMEM || e == AIPA_ECRYPTO);
            assert_true(r == AIPA_OK || r == AIPA_ENOMEM);
            if (e != AIPA_OK) {
                /* A failed build leaves an empty request behind. */
                assert_int_equal(b.header_count, 0);
                assert_int_equal(b.target.len, 0);
            }
            done = e == AIPA_OK && r == AIPA_OK;
            aipa_buf_cleanup(&line);
            aipa_built_cleanup(&b);
        }
        assert_true(done);
    }
    aipa_params_cleanup(&p);
    aipa_client_free(c);
}

/* TLS: verification is on by default; a CA file or an explicit --insecure gets through. */
static void test_tls_verification(void **state)
{
    (void)state;
    struct echo_srv *s = srv_start_opt(true);
    char ca[] = "/tmp/aipa-test-ca-XXXXXX";
    int fd = mkstemp(ca);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, test_cert, strlen(test_cert)), (ssize_t)strlen(test_cert));
    close(fd);
    struct aipa_params p;
    aipa_params_init(&p, NULL);
    add(&p, "Action", "DescribeInstances");

    for (int mode = 0; mode < 3; mode++) {
        struct aipa_client_config cfg;
        struct aipa_client *c = NULL;
        struct aipa_request req;
        struct aipa_response r;
        aipa_client_config_defaults(&cfg);
        cfg.target = s->url;
        cfg.access_key_id = AKID;
        cfg.access_key_secret = SECRET;
        cfg.timeout_ms = 10000;
        cfg.ca_file = mode == 1 ? ca : NULL;
        cfg.insecure = mode == 2;
        assert_int_equal(aipa_client_new(&c, &cfg), AIPA_OK);
        aipa_request_init(&req);
        req.params = &p;
        aipa_response_init(&r);
        assert_int_equal(aipa_client_call(c, &req, NULL, &r), AIPA_OK);
        print_message("  mode %d: %s %ld %s\n", mode, aipa_xerr_name(r.xerr), r.status, r.xerr_msg);
        if (mode == 0) {
            assert_int_equal(r.xerr, AIPA_XERR_TLS); /* self-signed, not trusted */
            assert_int_equal(r.status, 0);
        } else {
            assert_int_equal(r.xerr, AIPA_XERR_NONE);
            assert_int_equal(r.status, 200);
        }
        aipa_response_cleanup(&r);
        aipa_client_free(c);
    }
    unlink(ca);
    aipa_params_cleanup(&p);
    srv_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signatures_and_shapes_verify),
        cmocka_unit_test(test_negative_knobs_fail_verification),
        cmocka_unit_test(test_overrides_and_nonces),
        cmocka_unit_test(test_spec_vectors),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_reset_refused_tls_protocol),
        cmocka_unit_test(test_response_headers_bounded),
        cmocka_unit_test(test_redirect_not_followed),
        cmocka_unit_test(test_tls_verification),
        cmocka_unit_test(test_raw_mode),
        cmocka_unit_test(test_target_validation),
        cmocka_unit_test(test_repro_line),
        cmocka_unit_test(test_build_out_of_memory),
        cmocka_unit_test(test_cli_sign),
        cmocka_unit_test(test_cli_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
