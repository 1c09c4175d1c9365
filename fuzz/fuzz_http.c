/*
 * Target: the HTTP/1.1 front end of the reference server
 * (reference_impl/server/src/server_http_conn.c: picohttpparser heads, the
 * framing rules, limits, the answers) and, through it, the whole handler,
 * fed raw HTTP bytes with no network.
 *
 * The engine is driven as the socket loop drives it (aipa__hconn_room,
 * _received, _pending, _sent, _eof), with no socket: the input is handed
 * over in segments, the answers are taken in segments, then the client's
 * end of stream. One connection per configuration is kept across inputs
 * while the previous input left it clean (its requests all answered, no
 * byte left over, not closing), with its buffers: a fresh connection costs
 * its allocations, a kept one shows what a long-lived one does.
 *
 * Input: byte 0 picks the configuration:
 *   bit 0  auth off, else V1/V3 auth with the demo key testid/testsecret
 *   bit 1  edition 2018-08-02, else 2024-12-20
 *   bit 2  fixture protocol on, token "t"
 *   bit 3  small limits (URL 256, headers 1024, body 512 bytes), so the
 *          refusals before and while reading the body are reached
 *   bits 4-7  segment size: 0 the whole input at once, k: 1 << (k - 1)
 *          bytes at a time (received and sent alike)
 * then the bytes sent on the connection (one or more pipelined requests).
 * The clock is fixed (2026-11-27T07:51:30Z), the server throttles at 1 request
 * per second in bursts of 3 (so a fourth pipelined API request is answered
 * Throttling.User with x-acs-retry-after), and it is returned to
 * its seed state before each input, as in fuzz_server (fuzz_server_state.h).
 * Oracles:
 *   - after the client's end of stream, the connection finishes (its last
 *     answer is out and it closes) within a bound of rounds;
 *   - the bytes sent back are a sequence of whole HTTP/1.1 responses: a
 *     status line with a three-digit status, headers ending in an empty
 *     line, a Content-Length and that many body bytes (none for HEAD);
 *   - nothing follows an answer that says Connection: close (no request
 *     after a refused framing is answered: nothing can be smuggled);
 *   - every final answer but a 408 comes from the handler (it carries
 *     x-acs-request-id), with the XML or the JSON content type and a body
 *     that parses as it (JSON on every input, XML on one input in 8: see
 *     check_xml); the count of them is the engine's count.
 */
#include "aipa/server.h"
#include "fuzz_common.h"
#include "fuzz_oom.h"
#include "fuzz_server_state.h" /* the seed state */
#include "server_http.h"

#include <cjson/cJSON.h>
#include <libxml/parser.h>
#include <strings.h>
#include <sys/mman.h>

#define FIXED_NOW  1795765890 /* 2026-11-27T07:51:30Z */
#define MAX_ROUNDS 100000
#define MAX_REPLY  (8u << 20)

static int64_t fixed_now(void *ctx)
{
    (void)ctx;
    return FIXED_NOW;
}

static void quiet_xml(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

/*
 * Once, at start-up: the front end's set-up answers each configuration as
 * documented (IPv4 in either threading mode starts on a loopback port; IPv6
 * starts where the host has it; a host name, a certificate without a key,
 * or unreadable TLS files are refused with a one-line reason).
 */
static void check_start(void)
{
    static const struct {
        const char *addr, *cert, *key;
        bool per_connection;
        aipa_err want;
    } cases[] = {
        {"::1", NULL, NULL, true, AIPA_OK},
        {"127.0.0.1", NULL, NULL, false, AIPA_OK},
        {"127.0.0.1", NULL, NULL, true, AIPA_OK},
        {"localhost", NULL, NULL, true, AIPA_EINVAL},
        {"127.0.0.1", "/nonexistent/aipa-cert.pem", NULL, true, AIPA_EINVAL},
        {"127.0.0.1", "/nonexistent/aipa-cert.pem", "/nonexistent/aipa-key.pem", true, AIPA_EIO},
    };

    for (size_t i = 0; i < AIPA_ARRAY_LEN(cases); i++) {
        struct aipa_srv_config cfg;
        struct aipa_srv *srv = NULL;
        struct aipa_buf why;
        aipa_err err;

        aipa_buf_init(&why, 4096);
        aipa_srv_config_defaults(&cfg);
        cfg.listen_addr = cases[i].addr;
        cfg.tls_cert_file = cases[i].cert;
        cfg.tls_key_file = cases[i].key;
        cfg.thread_per_connection = cases[i].per_connection;
        cfg.threads = 1;
        cfg.error = &why;
        err = aipa_srv_new(&srv, &cfg);
        FUZZ_CHECK(err == AIPA_OK, "srv_new %s: %s", cases[i].addr, aipa_errname(err));
        err = aipa_srv_start(srv);
        FUZZ_CHECK(err == cases[i].want || (i == 0 && err == AIPA_EIO),
                   "start %zu: %s, expected %s", i, aipa_errname(err), aipa_errname(cases[i].want));
        FUZZ_CHECK(err == AIPA_OK || (why.len > 0 && strchr(why.ptr, '\n') == NULL),
                   "start %zu failed without a one-line reason", i);
        FUZZ_CHECK(err != AIPA_OK || aipa_srv_port(srv) != 0, "a started server has no port");
        aipa_srv_stop(srv);
        aipa_srv_stop(srv); /* a second stop is harmless */
        FUZZ_CHECK(aipa_srv_port(srv) == 0, "a stopped server reports a port");
        aipa_srv_free(srv);
        aipa_buf_cleanup(&why);
    }
}

/* AIPA_FUZZ_VERBOSE=1 prints what the server sent back (for checking seeds). */
static bool verbose;

/*
 * Once, at start-up: aipa_srv_new refuses bad configurations with
 * AIPA_EINVAL/EPARSE and a reason, and under allocation failure (each of
 * its allocations failing in turn, fuzz_oom.h) it returns AIPA_ENOMEM with
 * nothing left allocated (LSan checks at exit) or succeeds.
 */
static void check_new(void)
{
#define FZ_ERR_(name, msg) {name, #name, msg},
    static const struct {
        aipa_err e;
        const char *name, *msg;
    } errs[] = {AIPA_ERRORS(FZ_ERR_)};
#undef FZ_ERR_
    static const struct aipa_srv_credential good[] = {{"id", "secret", true, true, NULL, NULL, 0}};
    static const struct aipa_srv_credential bad[] = {{NULL, "secret", true, true, NULL, NULL, 0}};
    static const char *const bad_pool[] = {"47.96.0.0/99"};
    static const char *const pool[] = {"47.96.0.0/28"};
    static const char bad_state[] = "{\"Instances\":7}";
    struct aipa_srv_config cfg;
    struct aipa_srv *srv;
    struct aipa_buf why;
    aipa_err err;

    /* every error has its own name and message; an unknown value has neither */
    for (size_t i = 0; i < AIPA_ARRAY_LEN(errs); i++) {
        FUZZ_CHECK(strcmp(aipa_errname(errs[i].e), errs[i].name) == 0 &&
                       strcmp(aipa_strerror(errs[i].e), errs[i].msg) == 0,
                   "name or message of %s", errs[i].name);
    }
    FUZZ_CHECK(strcmp(aipa_errname((aipa_err)-12345), "AIPA_E?") == 0 &&
                   strcmp(aipa_strerror((aipa_err)-12345), "unknown error") == 0,
               "an unknown error has a name");
    aipa_buf_init(&why, 4096);
    for (int k = 0; k < 4; k++) {
        aipa_srv_config_defaults(&cfg);
        cfg.error = &why;
        cfg.pool_cidrs = pool;
        cfg.pool_cidr_count = 1;
        if (k == 0) {
            cfg.fixtures = true; /* without a token */
        } else if (k == 1) {
            cfg.credentials = bad;
            cfg.credential_count = 1;
        } else if (k == 2) {
            cfg.pool_cidrs = bad_pool;
        } else {
            cfg.state_json = bad_state;
            cfg.state_json_len = sizeof(bad_state) - 1;
        }
        aipa_buf_reset(&why);
        srv = NULL;
        err = aipa_srv_new(&srv, &cfg);
        FUZZ_CHECK(err != AIPA_OK && srv == NULL && why.len > 0,
                   "bad configuration %d: %s, reason \"%s\"", k, aipa_errname(err),
                   why.ptr != NULL ? why.ptr : "");
    }
    aipa_srv_config_defaults(&cfg);
    cfg.credentials = good;
    cfg.credential_count = 1;
    cfg.fixtures = true;
    cfg.fixture_token = "t";
    cfg.pool_cidrs = pool;
    cfg.pool_cidr_count = 1;
    cfg.throttle_rate = 5; /* its buckets are allocated too */
    for (long n = 0; n < 10000; n++) {
        bool injected;

        srv = NULL;
        fz_oom_arm(n);
        err = aipa_srv_new(&srv, &cfg);
        injected = fz_oom_disarm();
        FUZZ_CHECK(err == AIPA_OK ? srv != NULL : (injected && err == AIPA_ENOMEM && srv == NULL),
                   "srv_new with allocation %ld failing: %s", n, aipa_errname(err));
        aipa_srv_free(srv);
        if (!injected) {
            break; /* every allocation has failed once */
        }
    }
    aipa_buf_cleanup(&why);
}

/*
 * Once, at start-up: the nonce replay cache past its first size. With room
 * for 256 (AccessKeyId, nonce) pairs, 300 distinct ones are each fresh, at
 * most 256 are kept (the oldest go first), a recent one is a replay, an
 * evicted or expired one is fresh again; then the same under allocation
 * failure while it grows (a use may fail with AIPA_ENOMEM, never wrongly).
 */
static void check_nonces(void)
{
    for (long fail = -1; fail < 12; fail++) {
        struct aipa_nonce_cache *c = NULL;
        char nonce[32];
        bool fresh = false, injected;
        aipa_err err;

        FUZZ_CHECK(aipa__nonce_cache_new(&c, 0, 900) == AIPA_EINVAL && c == NULL,
                   "a cache of size 0");
        FUZZ_CHECK(aipa__nonce_cache_new(&c, 256, 900) == AIPA_OK, "nonce_cache_new");
        fz_oom_arm(fail);
        for (int i = 0; i < 300; i++) {
            snprintf(nonce, sizeof(nonce), "n%d", i);
            err = aipa__nonce_cache_use(c, "id", nonce, strlen(nonce), 1000 + i, &fresh);
            FUZZ_CHECK((err == AIPA_OK && fresh) || (fail >= 0 && err == AIPA_ENOMEM),
                       "nonce %d: %s, fresh %d", i, aipa_errname(err), fresh);
        }
        injected = fz_oom_disarm();
        FUZZ_CHECK(aipa__nonce_cache_count(c) <= 256, "%zu nonces kept",
                   aipa__nonce_cache_count(c));
        if (!injected) {
            FUZZ_CHECK(aipa__nonce_cache_use(c, "id", "n299", 4, 1400, &fresh) == AIPA_OK && !fresh,
                       "a recent nonce is no replay");
            FUZZ_CHECK(aipa__nonce_cache_use(c, "other", "n299", 4, 1400, &fresh) == AIPA_OK &&
                           fresh,
                       "another key's nonce is a replay");
            FUZZ_CHECK(aipa__nonce_cache_use(c, "id", "n0", 2, 1400, &fresh) == AIPA_OK && fresh,
                       "an evicted nonce is still a replay");
            FUZZ_CHECK(aipa__nonce_cache_use(c, "id", "n298", 4, 1298 + 901, &fresh) == AIPA_OK &&
                           fresh,
                       "an expired nonce is still a replay");
        }
        aipa__nonce_cache_clear(c);
        FUZZ_CHECK(aipa__nonce_cache_count(c) == 0, "clear left nonces");
        aipa__nonce_cache_free(c);
    }
}

/* The value of header `name` in the header block h[0..n), or NULL. */
static const char *find_header(const char *h, size_t n, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    const char *p = h, *end = h + n;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol != NULL ? eol : end;
        if ((size_t)(line_end - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (v < line_end && *v == ' ') {
                v++;
            }
            *len = (size_t)(line_end - v);
            if (*len > 0 && v[*len - 1] == '\r') {
                (*len)--;
            }
            return v;
        }
        p = line_end + 1;
    }
    return NULL;
}

/*
 * Whether this input's XML bodies are parsed: one input in 8, chosen by a
 * hash of the input (so a finding reproduces). libxml2's parser set-up was
 * a third of the target's time; the renderer's XML is checked on every
 * input by fuzz_render and fuzz_server, and JSON bodies here on every input.
 */
static bool check_xml;

static void check_body(const char *ct, size_t ct_len, const char *body, size_t len)
{
    if (!check_xml && ct_len >= 8 && strncmp(ct, "text/xml", 8) == 0) {
        return;
    }
    if (ct_len >= 16 && strncmp(ct, "application/json", 16) == 0) {
        cJSON *j = cJSON_ParseWithLength(body, len);
        FUZZ_CHECK(j != NULL && cJSON_IsObject(j), "body is not a JSON object:\n%.*s", (int)len,
                   body);
        cJSON_Delete(j);
    } else {
        FUZZ_CHECK(ct_len >= 8 && strncmp(ct, "text/xml", 8) == 0, "content type %.*s", (int)ct_len,
                   ct);
        /* One parser context for the whole run: its set-up is most of a small parse. */
        static xmlParserCtxtPtr ctxt;
        xmlDocPtr doc;

        if (ctxt == NULL) {
            ctxt = xmlNewParserCtxt();
            FUZZ_CHECK(ctxt != NULL, "xmlNewParserCtxt");
        }
        doc = xmlCtxtReadMemory(ctxt, body, (int)len, "response.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        FUZZ_CHECK(doc != NULL && xmlDocGetRootElement(doc) != NULL,
                   "body is not well-formed XML:\n%.*s", (int)len, body);
        xmlFreeDoc(doc);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    xmlInitParser();
    xmlSetGenericErrorFunc(NULL, quiet_xml);
    verbose = getenv("AIPA_FUZZ_VERBOSE") != NULL;
    fz_oom_install();
    check_new();
    check_nonces();
    check_start();
    return 0;
}

struct fz_http {
    struct fz_seed seed;
    struct aipa__hconn conn;
    bool conn_live;
};

static struct fz_http *server_for(uint8_t mode)
{
    static struct fz_http servers[16];
    struct fz_http *s = &servers[mode];
    struct aipa_srv *srv;
    struct aipa_srv_config cfg;
    aipa_err err;

    if (s->seed.srv == NULL) {
        fz_server_config(&cfg, mode, fixed_now);
        if (mode & 8u) {
            cfg.max_url_len = 256;
            cfg.max_header_bytes = 1024;
            cfg.max_body_len = 512;
        }
        /* The fixed clock never refills: a fourth API request in one input is throttled. */
        cfg.throttle_rate = 1;
        cfg.throttle_burst = 3;
        err = aipa_srv_new(&srv, &cfg);
        FUZZ_CHECK(err == AIPA_OK, "srv_new: %s", aipa_errname(err));
        fz_seed_init(&s->seed, srv);
        fz_seed_restore(&s->seed);
    }
    if (!s->conn_live) {
        aipa__hconn_init(&s->conn, s->seed.srv, 0);
        s->conn_live = true;
    } else if (aipa__hconn_busy(&s->conn) || s->conn.state == AIPA_HC_CLOSING) {
        /* A new client on the same buffers, as a server reuses a connection's pool. */
        aipa__hconn_reset(&s->conn, 0);
    }
    s->conn.requests = 0;
    return s;
}

/* Takes up to seg bytes (0: all) of what the connection has to send. */
static void take(struct aipa__hconn *c, char *reply, size_t *got, size_t seg)
{
    size_t n;
    const char *p;

    while ((p = aipa__hconn_pending(c, &n)) != NULL) {
        if (seg != 0 && n > seg) {
            n = seg;
        }
        FUZZ_CHECK(*got + n <= MAX_REPLY, "more than %u bytes of replies", MAX_REPLY);
        memcpy(reply + *got, p, n);
        *got += n;
        aipa__hconn_sent(c, n, 0);
    }
}

/* Checks the byte stream sent back; returns the count of final answers. */
static unsigned long check_replies(const char *r, size_t n, bool head_seen)
{
    size_t off = 0;
    unsigned long finals = 0;

    while (off < n) {
        const char *s = r + off, *hend = NULL, *v, *ct;
        size_t rest = n - off, vlen, hlen, ct_len, body_len = 0;
        unsigned status;

        FUZZ_CHECK(rest >= 12 && memcmp(s, "HTTP/1.1 ", 9) == 0,
                   "response does not start with a status line: %.*s", (int)(rest < 40 ? rest : 40),
                   s);
        FUZZ_CHECK(s[9] >= '1' && s[9] <= '5' && s[10] >= '0' && s[10] <= '9' && s[11] >= '0' &&
                       s[11] <= '9',
                   "status %.3s", s + 9);
        status =
            (unsigned)(s[9] - '0') * 100 + (unsigned)(s[10] - '0') * 10 + (unsigned)(s[11] - '0');
        for (size_t i = 0; i + 3 < rest; i++) {
            if (memcmp(s + i, "\r\n\r\n", 4) == 0) {
                hend = s + i;
                break;
            }
        }
        FUZZ_CHECK(hend != NULL, "headers without an end");
        hlen = (size_t)(hend - s);
        off += hlen + 4;
        if (status == 100) {
            continue;
        }
        finals++;
        v = find_header(s, hlen, "Content-Length", &vlen);
        FUZZ_CHECK(v != NULL && vlen > 0, "an answer without Content-Length");
        for (size_t i = 0; i < vlen; i++) {
            FUZZ_CHECK(v[i] >= '0' && v[i] <= '9', "Content-Length %.*s", (int)vlen, v);
            body_len = body_len * 10 + (size_t)(v[i] - '0');
            FUZZ_CHECK(body_len <= MAX_REPLY, "Content-Length %.*s", (int)vlen, v);
        }
        if (status != 408) {
            FUZZ_CHECK(find_header(s, hlen, "x-acs-request-id", &vlen) != NULL,
                       "an answer not from the handler: %.*s", (int)hlen, s);
            ct = find_header(s, hlen, "Content-Type", &ct_len);
            FUZZ_CHECK(ct != NULL, "a handler answer without a content type");
            if (head_seen &&
                (n - off < body_len || (n - off >= 7 && memcmp(r + off, "HTTP/1.", 7) == 0))) {
                body_len = 0; /* the answer to a HEAD request: headers only */
            }
            FUZZ_CHECK(n - off >= body_len, "a body cut short: %zu of %zu bytes", n - off,
                       body_len);
            if (body_len > 0) {
                check_body(ct, ct_len, r + off, body_len);
            }
        }
        off += body_len;
        v = find_header(s, hlen, "Connection", &vlen);
        if (v != NULL && vlen == 5 && strncasecmp(v, "close", 5) == 0) {
            FUZZ_CHECK(off == n, "%zu bytes sent after Connection: close", n - off);
        }
    }
    return finals;
}

/* Whether "HEAD" occurs in the input (then a body may be left out). */
static bool has_head(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 4 <= n; i++) {
        if (memcmp(p + i, "HEAD", 4) == 0) {
            return true;
        }
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /*
     * mmap'd, not a static array: LeakSanitizer scans every global for
     * pointers each time libFuzzer checks an input for leaks.
     */
    static char *reply;
    struct fz f = {data, size};
    uint8_t b0;

    if (reply == NULL) {
        void *m = mmap(NULL, MAX_REPLY, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        FUZZ_CHECK(m != MAP_FAILED, "mmap of the reply buffer");
        reply = m;
    }
    b0 = fz_u8(&f);
    struct fz_http *s = server_for(b0 & 15u);
    struct aipa__hconn *c = &s->conn;
    size_t seg = (b0 >> 4) == 0 ? 0 : (size_t)1 << ((b0 >> 4) - 1);
    size_t got = 0, fed = 0;
    int rounds = 0;
    uint32_t h = aipa_fnv1a32(AIPA_FNV1A32_BASIS, data, size);

    check_xml = (h >> 8 & 7u) == 0;

    while (fed < f.n && rounds++ < MAX_ROUNDS) {
        char *room;
        size_t n;

        if (!aipa__hconn_room(c, &room, &n)) {
            if (aipa__hconn_pending(c, &n) == NULL) {
                break; /* closing: the rest of the input is never read */
            }
            take(c, reply, &got, seg);
            continue;
        }
        n = n < f.n - fed ? n : f.n - fed;
        n = seg != 0 && n > seg ? seg : n;
        memcpy(room, f.p + fed, n);
        fed += n;
        aipa__hconn_received(c, n, 0);
        take(c, reply, &got, seg);
    }
    /* Kept open for the next input when clean; else the client's end of stream. */
    if (aipa__hconn_busy(c) || c->state == AIPA_HC_CLOSING) {
        aipa__hconn_eof(c);
    }
    take(c, reply, &got, seg);
    FUZZ_CHECK(c->state != AIPA_HC_CLOSING || aipa__hconn_finished(c),
               "the connection did not finish after the end of stream");
    if (verbose) {
        fprintf(stderr, "%.*s\n", (int)got, reply);
    }
    {
        unsigned long finals = check_replies(reply, got, has_head(f.p, f.n));

        FUZZ_CHECK(finals == c->requests, "%lu answers sent, %lu counted", finals, c->requests);
    }
    if (fz_seed_check_due(data, size)) {
        fz_seed_check(&s->seed);
    }
    /*
     * Back to the seed state now rather than before the next input: what
     * this input allocated in the model and the nonce cache is freed within
     * it, so libFuzzer sees mallocs and frees balance and does not run a
     * leak check for it.
     */
    fz_seed_restore(&s->seed);
    return 0;
}
