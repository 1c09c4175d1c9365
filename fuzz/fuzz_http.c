/*
 * Target: the libmicrohttpd front end of the reference server
 * (reference_impl/server/src/server_mhd.c) and, through it, the whole handler, fed
 * raw HTTP bytes with no network.
 *
 * The daemon runs with no listen socket and no thread of its own
 * (aipa__srv_start_external, server_int.h). For each input, one end of a
 * socketpair is handed to it with MHD_add_connection; the input is written
 * to the other end, whose write side is then shut, and MHD_run is called a
 * bounded number of rounds while the response bytes are read back.
 *
 * Input: byte 0 picks the configuration:
 *   bit 0  auth off, else V1/V3 auth with the demo key testid/testsecret
 *   bit 1  edition 2018-08-02, else 2024-12-20
 *   bit 2  fixture protocol on, token "t"
 *   bit 3  small limits (URL 256, headers 1024, body 512 bytes), so the
 *          refusals before and while reading the body are reached
 * then the bytes sent on the connection (one or more pipelined requests).
 * The clock is fixed (2026-11-27T07:51:30Z), the server throttles at 1 request
 * per second in bursts of 3 (so a fourth pipelined API request is answered
 * Throttling.User with x-acs-retry-after), and it is returned to
 * its seed state before each input, as in fuzz_server (fuzz_server_state.h).
 * Oracles:
 *   - the connection is closed by the server within the bound of rounds
 *     (the client has shut its side: nothing may keep it open);
 *   - the bytes sent back are a sequence of HTTP/1.x responses: a status
 *     line with a three-digit status, headers ending in an empty line, and
 *     (when a Content-Length is given) that many body bytes, up to the
 *     first answer libmicrohttpd makes itself (it closes the connection
 *     then, and 0.9.75 may repeat that answer's header block);
 *   - a response of the handler (it carries x-acs-request-id) has the XML
 *     or the JSON content type and a body that parses as it, unless it
 *     answers a HEAD request (no body).
 */
#include "aipa/server.h"
#include "fuzz_common.h"
#include "fuzz_oom.h"
#include "fuzz_server_state.h" /* the seed state; aipa__srv_start_external */

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define FIXED_NOW  1795765890 /* 2026-11-27T07:51:30Z */
#define MAX_ROUNDS 64
#define MAX_REPLY  (1u << 20)

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
 * Once, at start-up: the daemon's set-up answers each configuration as
 * documented (an IPv6 or IPv4 numeric address and either threading model
 * start; a host name, a certificate without a key, or unreadable TLS files
 * are refused with a one-line reason). No socket is bound (external mode).
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
        cfg.threads = 0;
        cfg.error = &why;
        err = aipa_srv_new(&srv, &cfg);
        FUZZ_CHECK(err == AIPA_OK, "srv_new %s: %s", cases[i].addr, aipa_errname(err));
        err = aipa__srv_start_external(srv);
        FUZZ_CHECK(err == cases[i].want, "start %zu: %s, expected %s", i, aipa_errname(err),
                   aipa_errname(cases[i].want));
        FUZZ_CHECK(err == AIPA_OK || (why.len > 0 && strchr(why.ptr, '\n') == NULL),
                   "start %zu failed without a one-line reason", i);
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

static struct fz_seed *server_for(uint8_t mode)
{
    static struct fz_seed servers[16];
    struct aipa_srv *srv;
    struct aipa_srv_config cfg;
    aipa_err err;

    if (servers[mode].srv == NULL) {
        fz_server_config(&cfg, mode, fixed_now);
        if (mode & 8u) {
            cfg.max_url_len = 256;
            cfg.max_header_bytes = 1024;
            cfg.max_body_len = 512;
        }
        cfg.thread_per_connection = false;
        cfg.threads = 1;
        /* The fixed clock never refills: a fourth API request in one input is throttled. */
        cfg.throttle_rate = 1;
        cfg.throttle_burst = 3;
        err = aipa_srv_new(&srv, &cfg);
        FUZZ_CHECK(err == AIPA_OK, "srv_new: %s", aipa_errname(err));
        err = aipa__srv_start_external(srv);
        FUZZ_CHECK(err == AIPA_OK, "start_external: %s", aipa_errname(err));
        fz_seed_init(&servers[mode], srv);
    }
    fz_seed_restore(&servers[mode]);
    return &servers[mode];
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

static void check_body(const char *ct, size_t ct_len, const char *body, size_t len)
{
    if (ct_len >= 16 && strncmp(ct, "application/json", 16) == 0) {
        cJSON *j = cJSON_ParseWithLength(body, len);
        FUZZ_CHECK(j != NULL && cJSON_IsObject(j), "body is not a JSON object:\n%.*s", (int)len,
                   body);
        cJSON_Delete(j);
    } else {
        FUZZ_CHECK(ct_len >= 8 && strncmp(ct, "text/xml", 8) == 0, "content type %.*s", (int)ct_len,
                   ct);
        xmlDocPtr doc = xmlReadMemory(body, (int)len, "response.xml", NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        FUZZ_CHECK(doc != NULL && xmlDocGetRootElement(doc) != NULL,
                   "body is not well-formed XML:\n%.*s", (int)len, body);
        xmlFreeDoc(doc);
    }
}

/* Checks the byte stream the server sent back: a sequence of responses. */
static void check_replies(const char *r, size_t n, bool head_seen)
{
    size_t off = 0;

    for (int k = 0; off < n && k < 64; k++) {
        const char *s = r + off, *hend, *v;
        size_t rest = n - off, vlen, hlen, body_len = 0;

        FUZZ_CHECK(rest >= 12 && (memcmp(s, "HTTP/1.1 ", 9) == 0 || memcmp(s, "HTTP/1.0 ", 9) == 0),
                   "response %d does not start with a status line: %.*s", k,
                   (int)(rest < 40 ? rest : 40), s);
        FUZZ_CHECK(s[9] >= '1' && s[9] <= '5' && s[10] >= '0' && s[10] <= '9' && s[11] >= '0' &&
                       s[11] <= '9',
                   "status %.3s", s + 9);
        hend = NULL;
        for (size_t i = 0; i + 3 < rest; i++) {
            if (memcmp(s + i, "\r\n\r\n", 4) == 0) {
                hend = s + i;
                break;
            }
        }
        FUZZ_CHECK(hend != NULL, "response %d: headers without an end", k);
        hlen = (size_t)(hend - s);
        if (find_header(s, hlen, "x-acs-request-id", &vlen) == NULL) {
            /*
             * libmicrohttpd's own error answer (a malformed request): it
             * closes the connection after it, and 0.9.75 may send its header
             * block twice there, so nothing after it is checked.
             */
            return;
        }
        v = find_header(s, hlen, "Content-Length", &vlen);
        if (v == NULL) {
            return; /* a body up to the close: nothing further to delimit */
        }
        for (size_t i = 0; i < vlen; i++) {
            FUZZ_CHECK(v[i] >= '0' && v[i] <= '9', "Content-Length %.*s", (int)vlen, v);
            body_len = body_len * 10 + (size_t)(v[i] - '0');
            FUZZ_CHECK(body_len <= MAX_REPLY, "Content-Length %.*s", (int)vlen, v);
        }
        off += hlen + 4;
        if (head_seen && n - off >= 9 && memcmp(r + off, "HTTP/1.", 7) == 0) {
            body_len = 0; /* the answer to a HEAD request: headers only */
        }
        {
            const char *ct = find_header(s, hlen, "Content-Type", &vlen);
            FUZZ_CHECK(ct != NULL, "a handler response without a content type");
            if (n - off >= body_len && body_len > 0) {
                check_body(ct, vlen, r + off, body_len);
            }
        }
        if (n - off < body_len) {
            return; /* a HEAD answer, or a body cut at the close */
        }
        off += body_len;
    }
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
    static char reply[MAX_REPLY];
    struct fz f = {data, size};
    uint8_t mode = fz_u8(&f) & 15u;
    struct fz_seed *seed = server_for(mode);
    struct aipa_srv *srv = seed->srv;
    struct sockaddr_in peer;
    size_t got = 0, sent = 0;
    bool closed = false;
    int sv[2];

    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0,
               "socketpair: %s", strerror(errno));
    memset(&peer, 0, sizeof(peer));
    peer.sin_family = AF_INET;
    peer.sin_port = htons(40000);
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* The input fits in the socket buffer (max_len is far below it). */
    while (sent < f.n) {
        ssize_t w = write(sv[0], f.p + sent, f.n - sent);
        if (w <= 0) {
            break;
        }
        sent += (size_t)w;
    }
    FUZZ_CHECK(shutdown(sv[0], SHUT_WR) == 0, "shutdown: %s", strerror(errno));
    if (MHD_add_connection(srv->daemon, sv[1], (const struct sockaddr *)&peer, sizeof(peer)) !=
        MHD_YES) {
        close(sv[0]); /* MHD closed sv[1] */
        return 0;
    }
    for (int round = 0; round < MAX_ROUNDS && !closed; round++) {
        FUZZ_CHECK(MHD_run(srv->daemon) == MHD_YES, "MHD_run failed");
        for (;;) {
            ssize_t r = read(sv[0], reply + got, sizeof(reply) - got);
            if (r > 0) {
                got += (size_t)r;
                FUZZ_CHECK(got < sizeof(reply), "more than %u bytes of replies", MAX_REPLY);
                continue;
            }
            if (r == 0) {
                closed = true;
            }
            break;
        }
    }
    FUZZ_CHECK(closed, "the server kept the connection open after %d rounds (%zu bytes sent back)",
               MAX_ROUNDS, got);
    close(sv[0]);
    {
        const union MHD_DaemonInfo *info =
            MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
        FUZZ_CHECK(info == NULL || info->num_connections == 0, "%u connections left",
                   info != NULL ? info->num_connections : 0);
    }
    if (verbose) {
        fprintf(stderr, "%.*s\n", (int)got, reply);
    }
    check_replies(reply, got, has_head(f.p, f.n));
    if (fz_seed_check_due(data, size)) {
        fz_seed_check(seed);
    }
    return 0;
}
