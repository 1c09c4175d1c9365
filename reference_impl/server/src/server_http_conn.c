/*
 * server_http_conn.c: one connection's HTTP/1.1 engine (server_http.h).
 *
 * Request heads are parsed by picohttpparser; this file decides what each
 * request's framing is and refuses what RFC 9112 says to refuse, before a
 * byte of the body is read:
 *
 * - Transfer-Encoding with Content-Length (CL.TE / TE.CL smuggling), with
 *   HTTP/1.0, or whose last coding is not chunked: 400, then close
 *   (RFC 9112 §6.1, §6.3 items 3-4). Any coding but chunked: 501, then close.
 * - Content-Length twice, or not 1*DIGIT, or past 2^64: 400, then close
 *   (RFC 9112 §6.3 item 5). Over the body limit: 413, then close, the body unread.
 * - A chunked body malformed (server_http_chunked.c is strict where
 *   picohttpparser's decoder is lenient enough to end a body early): 400;
 *   one whose chunk sizes pass the body limit: 413. Both close.
 * - HTTP/1.1 without exactly one Host: 400 (RFC 9112 §3.2). A continuation line
 *   (obs-fold), a control byte such as NUL in a header: 400 (RFC 9112 §5.2).
 * - absolute-form targets are answered as their path and query, with the
 *   target's authority in place of Host (RFC 9112 §3.2.2).
 * - A request line past the URL limit: 414; a head past the header limit
 *   or with too many lines: 431. Both close.
 *
 * Every refusal is a full answer from the handler (aipa__srv_refuse), in the
 * client's format with Code and RequestId. A connection that answered a
 * framing error reads nothing more, so nothing after it can be smuggled.
 */
#include "server_http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define IN_START        (16u * 1024u) /* first input buffer; grows by doubling */
#define LINE_SLACK      (8u * 1024u)  /* method, version, line ends beyond the two limits */
#define PIPELINE_SLACK  (16u * 1024u) /* room for the next request behind a full body */
#define OUT_HIGH        (64u * 1024u) /* answers waiting: stop reading past this */
#define OUT_MAX         (512u * 1024u * 1024u)
#define METHOD_MAX      31u
#define CONTINUE_100    "HTTP/1.1 100 Continue\r\n\r\n"

void aipa__hconn_init(struct aipa__hconn *c, struct aipa_srv *srv, int64_t now_ms)
{
    const struct aipa_srv_config *cfg = &srv->cfg;

    memset(c, 0, sizeof(*c));
    c->srv = srv;
    c->state = AIPA_HC_HEAD;
    c->head_cap = cfg->max_url_len + cfg->max_header_bytes + LINE_SLACK;
    c->in_max = c->head_cap + cfg->max_body_len + PIPELINE_SLACK;
    aipa_buf_init(&c->out, OUT_MAX);
    aipa_buf_init(&c->body, cfg->max_body_len);
    aipa_srv_response_init(&c->resp);
    c->header_timeout_ms =
        cfg->header_timeout_ms != 0 ? cfg->header_timeout_ms : AIPA_SRV_DEFAULT_HEADER_TIMEOUT_MS;
    /* The first request's deadline runs from accept, as nginx's does. */
    c->head_clock = true;
    c->head_start_ms = now_ms;
}

void aipa__hconn_cleanup(struct aipa__hconn *c)
{
    aipa_free(c->in);
    c->in = NULL;
    aipa_buf_cleanup(&c->out);
    aipa_buf_cleanup(&c->body);
    aipa_srv_response_cleanup(&c->resp);
}

void aipa__hconn_reset(struct aipa__hconn *c, int64_t now_ms)
{
    struct aipa__hconn keep = *c;

    memset(c, 0, sizeof(*c));
    c->srv = keep.srv;
    c->head_cap = keep.head_cap;
    c->header_timeout_ms = keep.header_timeout_ms;
    c->in = keep.in;
    c->in_cap = keep.in_cap;
    c->in_max = keep.in_max;
    c->out = keep.out;
    c->body = keep.body;
    c->resp = keep.resp;
    aipa_buf_reset(&c->out);
    aipa_buf_reset(&c->body);
    c->state = AIPA_HC_HEAD;
    c->head_clock = true;
    c->head_start_ms = now_ms;
}

static size_t out_waiting(const struct aipa__hconn *c)
{
    return c->out.len - c->out_off;
}

bool aipa__hconn_finished(const struct aipa__hconn *c)
{
    return c->state == AIPA_HC_CLOSING && out_waiting(c) == 0;
}

bool aipa__hconn_busy(const struct aipa__hconn *c)
{
    return c->state != AIPA_HC_HEAD || c->in_len > c->in_off;
}

const char *aipa__hconn_pending(const struct aipa__hconn *c, size_t *n)
{
    *n = out_waiting(c);
    return *n > 0 ? c->out.ptr + c->out_off : NULL;
}

/* ---- answers ---- */

static const char *reason(unsigned status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

/* The Date header's value, formatted once a second per thread. */
static const char *http_date(void)
{
    static _Thread_local char cached[40];
    static _Thread_local time_t cached_at = -1;
    time_t now = time(NULL);

    if (now != cached_at) {
        struct tm tm;

        gmtime_r(&now, &tm);
        strftime(cached, sizeof(cached), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached_at = now;
    }
    return cached;
}

/* Appends resp as an HTTP/1.1 answer; on failure the connection just closes. */
static void put_response(struct aipa__hconn *c, const struct aipa_srv_response *resp, bool close)
{
    size_t mark = c->out.len;
    aipa_err err;

    err = aipa_buf_printf(&c->out,
                          "HTTP/1.1 %u %s\r\nDate: %s\r\nContent-Type: %s\r\n"
                          "Content-Length: %zu\r\nx-acs-request-id: %s\r\n",
                          resp->status, reason(resp->status), http_date(), resp->content_type,
                          resp->body.len, resp->request_id);
    if (err == AIPA_OK && resp->retry_after_ms != 0) {
        err = aipa_buf_printf(&c->out, "x-acs-retry-after: %u\r\n", resp->retry_after_ms);
    }
    if (err == AIPA_OK) {
        err = aipa_buf_puts(&c->out, close ? "Connection: close\r\n\r\n"
                                           : (c->minor == 0 ? "Connection: keep-alive\r\n\r\n"
                                                            : "\r\n"));
    }
    if (err == AIPA_OK && !c->head_method && resp->body.len > 0) {
        err = aipa_buf_append(&c->out, resp->body.ptr, resp->body.len);
    }
    if (err != AIPA_OK) {
        c->out.len = mark;
        c->state = AIPA_HC_CLOSING;
    }
    c->requests++;
}

/* The request as the handler sees it: headers copied into hs, Host replaced by authority. */
static size_t collect_headers(const struct aipa__hconn *c, struct aipa_header *hs,
                              struct aipa_slice authority)
{
    size_t n = 0;

    for (size_t i = 0; i < c->line_count; i++) {
        const struct phr_header *l = &c->lines[i];

        hs[n].name.ptr = (const uint8_t *)l->name;
        hs[n].name.len = l->name_len;
        hs[n].value.ptr = (const uint8_t *)l->value;
        hs[n].value.len = l->value_len;
        if (authority.ptr != NULL && l->name_len == 4 && strncasecmp(l->name, "Host", 4) == 0) {
            hs[n].value = authority;
        }
        n++;
    }
    return n;
}

struct target {
    const char *ptr; /* origin-form: path and query */
    size_t len;
    struct aipa_slice authority; /* of an absolute-form target; ptr NULL otherwise */
};

/*
 * The request's target in origin form. absolute-form (RFC 9112 §3.2.2)
 * gives its path and query, with "/" for an empty path (built in scratch
 * then), and its authority. False for a target of no form the server
 * accepts (asterisk-form, authority-form, garbage).
 */
static bool split_target(const char *p, size_t n, struct aipa_buf *scratch, struct target *t)
{
    size_t skip, a;

    memset(t, 0, sizeof(*t));
    if (n > 0 && p[0] == '/') {
        t->ptr = p;
        t->len = n;
        return true;
    }
    if (n >= 7 && strncasecmp(p, "http://", 7) == 0) {
        skip = 7;
    } else if (n >= 8 && strncasecmp(p, "https://", 8) == 0) {
        skip = 8;
    } else {
        return false;
    }
    for (a = skip; a < n && p[a] != '/' && p[a] != '?' && p[a] != '#'; a++) {
    }
    if (a == skip) {
        return false; /* no authority */
    }
    t->authority.ptr = (const uint8_t *)p + skip;
    t->authority.len = a - skip;
    if (a < n && p[a] == '/') {
        t->ptr = p + a;
        t->len = n - a;
        return true;
    }
    /* "http://h" or "http://h?q": the path is "/", the query kept. */
    if (aipa_buf_putc(scratch, '/') != AIPA_OK || aipa_buf_append(scratch, p + a, n - a) != AIPA_OK) {
        return false;
    }
    t->ptr = scratch->ptr;
    t->len = scratch->len;
    return true;
}

/*
 * Answers the current request through the handler. refuse: the front end's
 * own refusal (status and the name for InvalidParameter's message).
 */
static void answer(struct aipa__hconn *c, const uint8_t *body, size_t body_len, unsigned refuse,
                   const char *what, bool close)
{
    struct aipa_header hs[AIPA_HTTP_MAX_LINES];
    struct aipa_srv_request req;
    struct aipa_srv_response *resp;
    struct target t;
    struct aipa_buf scratch;
    char method[METHOD_MAX + 1];
    size_t mlen = c->method_len <= METHOD_MAX ? c->method_len : METHOD_MAX;
    aipa_err err;

    memcpy(method, c->method != NULL ? c->method : "", mlen);
    method[mlen] = '\0';
    memset(&req, 0, sizeof(req));
    req.method = method;
    aipa_buf_init(&scratch, c->srv->cfg.max_url_len + LINE_SLACK + c->head_cap);
    if (c->path == NULL || !split_target(c->path, c->path_len, &scratch, &t)) {
        t.ptr = c->path != NULL ? c->path : "";
        t.len = c->path_len;
        t.authority.ptr = NULL;
    }
    req.target = t.ptr;
    req.target_len = t.len;
    req.headers = hs;
    req.header_count = collect_headers(c, hs, t.authority);
    req.body = body != NULL ? body : (const uint8_t *)"";
    req.body_len = body_len;
    resp = &c->resp;
    resp->retry_after_ms = 0;
    err = refuse != 0 ? aipa__srv_refuse(c->srv, &req, refuse, what, resp)
                      : aipa_srv_handle(c->srv, &req, resp);
    /* A limit answered: the rest of what this client sends is not read. */
    close = close || resp->status == 413 || resp->status == 414 || resp->status == 431;
    if (err == AIPA_OK) {
        put_response(c, resp, close || !c->keep_alive);
    }
    if (err != AIPA_OK || close || !c->keep_alive) {
        c->state = AIPA_HC_CLOSING;
    }
    aipa_buf_cleanup(&scratch);
}

/* A refusal that ends the connection: nothing after it is read. */
static void refuse(struct aipa__hconn *c, unsigned status, const char *what)
{
    answer(c, NULL, 0, status, what, true);
}

/* ---- heads ---- */

/* RFC 9110 tchar */
static bool is_tchar(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') ||
           (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static void consume(struct aipa__hconn *c, size_t n);

static bool is_ows(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* v[0..n) without leading and trailing spaces and tabs. */
static void trim(const char **v, size_t *n)
{
    while (*n > 0 && is_ows(**v)) {
        (*v)++;
        (*n)--;
    }
    while (*n > 0 && is_ows((*v)[*n - 1])) {
        (*n)--;
    }
}

static bool name_is(const struct phr_header *l, const char *name)
{
    size_t n = strlen(name);

    return l->name_len == n && strncasecmp(l->name, name, n) == 0;
}

/* Whether the comma-separated list v[0..n) holds tok (any case). */
static bool list_has(const char *v, size_t n, const char *tok)
{
    size_t tn = strlen(tok);

    while (n > 0) {
        const char *comma = memchr(v, ',', n);
        size_t len = comma != NULL ? (size_t)(comma - v) : n;
        const char *e = v;
        size_t en = len;

        trim(&e, &en);
        if (en == tn && strncasecmp(e, tok, tn) == 0) {
            return true;
        }
        if (comma == NULL) {
            break;
        }
        v += len + 1;
        n -= len + 1;
    }
    return false;
}

/* What the Transfer-Encoding lines of a request ask for, in order. */
struct codings {
    size_t count;         /* non-empty elements */
    bool last_chunked;    /* the final one is chunked */
    bool chunked_earlier; /* chunked before the final one */
    bool other;           /* any coding but chunked */
};

static void add_codings(struct codings *cd, const char *v, size_t n)
{
    while (true) {
        const char *comma = memchr(v, ',', n);
        size_t len = comma != NULL ? (size_t)(comma - v) : n;
        const char *e = v;
        size_t en = len;
        const char *semi = memchr(e, ';', en);

        if (semi != NULL) {
            en = (size_t)(semi - e);
        }
        trim(&e, &en);
        if (en > 0 || semi != NULL) {
            bool chunked = en == 7 && strncasecmp(e, "chunked", 7) == 0;

            if (cd->count > 0 && cd->last_chunked) {
                cd->chunked_earlier = true;
            }
            cd->count++;
            cd->last_chunked = chunked;
            cd->other = cd->other || !chunked;
        }
        if (comma == NULL) {
            break;
        }
        v += len + 1;
        n -= len + 1;
    }
}

/* 1*DIGIT within uint64_t (RFC 9110 §8.6); false for anything else, a list included. */
static bool parse_length(const char *v, size_t n, uint64_t *out)
{
    uint64_t x = 0;

    trim(&v, &n);
    if (n == 0) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)v[i] - '0';

        if (d > 9 || x > (UINT64_MAX - d) / 10) {
            return false;
        }
        x = x * 10 + d;
    }
    *out = x;
    return true;
}

/* Reads the head's framing and connection fields; refuses (and closes) what it must. */
static void start_request(struct aipa__hconn *c)
{
    const struct aipa_srv_config *cfg = &c->srv->cfg;
    struct codings cd;
    size_t cl_count = 0, host_count = 0;
    uint64_t length = 0;
    bool cl_bad = false, conn_close = false, conn_keep = false, expect = false;
    struct target t;
    struct aipa_buf scratch;
    bool target_ok;

    memset(&cd, 0, sizeof(cd));
    c->head_clock = false;
    c->head_method = c->method_len == 4 && memcmp(c->method, "HEAD", 4) == 0;
    c->keep_alive = false;
    for (size_t i = 0; i < c->line_count; i++) {
        const struct phr_header *l = &c->lines[i];

        if (l->name == NULL) {
            refuse(c, 400, "Header"); /* obs-fold (RFC 9112 §5.2) */
            return;
        }
        if (name_is(l, "Content-Length")) {
            cl_count++;
            cl_bad = cl_bad || !parse_length(l->value, l->value_len, &length);
        } else if (name_is(l, "Transfer-Encoding")) {
            add_codings(&cd, l->value, l->value_len);
            cd.count += cd.count == 0; /* an empty Transfer-Encoding still counts as one */
        } else if (name_is(l, "Host")) {
            host_count++;
        } else if (name_is(l, "Connection")) {
            conn_close = conn_close || list_has(l->value, l->value_len, "close");
            conn_keep = conn_keep || list_has(l->value, l->value_len, "keep-alive");
        } else if (name_is(l, "Expect")) {
            expect = list_has(l->value, l->value_len, "100-continue");
        }
    }
    c->keep_alive = c->minor >= 1 ? !conn_close : conn_keep && !conn_close;

    if (c->method_len > METHOD_MAX) {
        refuse(c, 501, "Method");
        return;
    }
    for (size_t i = 0; i < c->method_len; i++) {
        if (!is_tchar((unsigned char)c->method[i])) {
            refuse(c, 400, "Request"); /* method = token (RFC 9110 §9.1) */
            return;
        }
    }
    aipa_buf_init(&scratch, c->head_cap);
    target_ok = split_target(c->path, c->path_len, &scratch, &t);
    aipa_buf_cleanup(&scratch);
    if (!target_ok && ((c->method_len == 3 && memcmp(c->method, "GET", 3) == 0) ||
                       (c->method_len == 4 && memcmp(c->method, "POST", 4) == 0))) {
        refuse(c, 400, "URL");
        return;
    }
    if (c->minor >= 1 && host_count != 1) {
        refuse(c, 400, "Host"); /* RFC 9112 §3.2: none, or more than one */
        return;
    }
    if (cd.count > 0) {
        /* Either side of a CL.TE or TE.CL pair; HTTP/1.0 has no chunked (RFC 9112 §6.1, §6.3). */
        if (cl_count > 0 || c->minor == 0 || !cd.last_chunked || cd.chunked_earlier) {
            refuse(c, 400, "Transfer-Encoding");
            return;
        }
        if (cd.other) {
            refuse(c, 501, "Transfer-Encoding"); /* a coding this server does not apply */
            return;
        }
        memset(&c->chunk, 0, sizeof(c->chunk));
        aipa_buf_reset(&c->body);
        c->state = AIPA_HC_BODY_CHUNKED;
    } else if (cl_count > 1 || cl_bad) {
        refuse(c, 400, "Content-Length");
        return;
    } else if (length > cfg->max_body_len) {
        refuse(c, 413, "Body"); /* before the body is read; then closed */
        return;
    } else if (length > 0) {
        c->body_left = length;
        c->state = AIPA_HC_BODY_LENGTH;
    } else {
        answer(c, NULL, 0, 0, NULL, false);
        consume(c, c->head_len);
        return;
    }
    if (expect && c->minor >= 1 && c->in_len - c->in_off == c->head_len &&
        aipa_buf_puts(&c->out, CONTINUE_100) != AIPA_OK) {
        c->state = AIPA_HC_CLOSING;
    }
}

/* method and target of a head that could not be parsed, from its first line, for the answer. */
static void partial_line(struct aipa__hconn *c, const char *base, size_t avail)
{
    const char *sp = memchr(base, ' ', avail);
    const char *eol = memchr(base, '\n', avail);
    size_t end = eol != NULL ? (size_t)(eol - base) : avail;

    c->line_count = 0;
    c->method = NULL;
    c->method_len = 0;
    c->path = NULL;
    c->path_len = 0;
    if (sp == NULL || (size_t)(sp - base) >= end) {
        return;
    }
    c->method = base;
    c->method_len = (size_t)(sp - base);
    c->path = sp + 1;
    c->path_len = end - c->method_len - 1;
    {
        const char *sp2 = memchr(c->path, ' ', c->path_len);

        if (sp2 != NULL) {
            c->path_len = (size_t)(sp2 - c->path);
        }
    }
}

static size_t count_lines(const char *p, size_t n)
{
    size_t lines = 0;

    for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++) {
        lines++;
    }
    return lines;
}

static int parse_head(struct aipa__hconn *c, size_t avail, size_t last_len)
{
    c->line_count = AIPA_ARRAY_LEN(c->lines);
    return phr_parse_request(c->in + c->in_off, avail, &c->method, &c->method_len, &c->path,
                             &c->path_len, &c->minor, c->lines, &c->line_count, last_len);
}

static bool step_head(struct aipa__hconn *c, int64_t now_ms)
{
    const struct aipa_srv_config *cfg = &c->srv->cfg;
    size_t avail = c->in_len - c->in_off;
    const char *base = c->in + c->in_off;
    int r;

    if (avail == 0) {
        return false;
    }
    if (!c->head_clock) {
        c->head_clock = true;
        c->head_start_ms = now_ms;
    }
    r = parse_head(c, avail, c->last_len);
    if (r == -2) {
        const char *eol = memchr(base, '\n', avail);
        size_t line = eol != NULL ? (size_t)(eol - base) : avail;

        c->last_len = avail;
        if (line > cfg->max_url_len + LINE_SLACK || avail >= c->head_cap) {
            partial_line(c, base, avail);
            refuse(c, line > cfg->max_url_len + LINE_SLACK ? 414 : 431,
                   line > cfg->max_url_len + LINE_SLACK ? "URL" : "Headers");
        }
        return false;
    }
    c->last_len = 0;
    if (r < 0) {
        partial_line(c, base, avail);
        if (count_lines(base, avail) > AIPA_HTTP_MAX_LINES) {
            refuse(c, 431, "Headers");
        } else {
            refuse(c, 400, "Request"); /* not HTTP/1.x, a control byte, a bad name */
        }
        return false;
    }
    c->head_len = (size_t)r;
    c->head_stale = false;
    start_request(c);
    return true;
}

/* The head's pointers again after the buffer moved under a request being read. */
static void reparse(struct aipa__hconn *c)
{
    if (c->head_stale) {
        (void)parse_head(c, c->head_len, 0);
        c->head_stale = false;
    }
}

/* The request's bytes (head, framing, body) are done with. */
static void consume(struct aipa__hconn *c, size_t n)
{
    c->in_off += n;
    if (c->in_off == c->in_len) {
        c->in_off = c->in_len = 0;
    }
    c->head_len = 0;
    c->line_count = 0;
    c->method = c->path = NULL;
    c->method_len = c->path_len = 0;
    c->head_method = false; /* a refusal of the next head must not inherit it */
    if (c->state != AIPA_HC_CLOSING) {
        c->state = AIPA_HC_HEAD;
    }
}

static bool step_length(struct aipa__hconn *c)
{
    size_t need = c->head_len + (size_t)c->body_left;

    if (c->in_len - c->in_off < need) {
        return false;
    }
    reparse(c);
    answer(c, (const uint8_t *)c->in + c->in_off + c->head_len, (size_t)c->body_left, 0, NULL,
           false);
    consume(c, need);
    return true;
}

static bool step_chunked(struct aipa__hconn *c)
{
    const struct aipa_srv_config *cfg = &c->srv->cfg;
    const char *p = c->in + c->in_off + c->head_len;
    size_t raw = c->in_len - c->in_off - c->head_len;
    size_t used = 0;

    if (raw == 0) {
        return false;
    }
    /* Framing bytes (sizes, extensions, trailers) are bounded like a head. */
    switch (aipa__chunked_feed(&c->chunk, p, raw, &c->body, cfg->max_body_len, c->head_cap,
                               &used)) {
    case AIPA_CHUNK_MORE:
        c->in_len = c->in_off + c->head_len; /* all of it is in body now */
        return false;
    case AIPA_CHUNK_BAD:
        reparse(c);
        refuse(c, 400, "Transfer-Encoding");
        return false;
    case AIPA_CHUNK_BIG:
        /* A chunk size past the limit is refused before its data is read. */
        reparse(c);
        refuse(c, 413, "Body");
        return false;
    case AIPA_CHUNK_DONE:
        break;
    }
    reparse(c);
    answer(c, (const uint8_t *)c->body.ptr, c->body.len, 0, NULL, false);
    consume(c, c->head_len + used);
    aipa_buf_reset(&c->body);
    return true;
}

static void process(struct aipa__hconn *c, int64_t now_ms)
{
    bool more = true;

    while (more && c->state != AIPA_HC_CLOSING && out_waiting(c) < OUT_HIGH) {
        switch (c->state) {
        case AIPA_HC_HEAD:
            more = step_head(c, now_ms);
            break;
        case AIPA_HC_BODY_LENGTH:
            more = step_length(c);
            break;
        case AIPA_HC_BODY_CHUNKED:
            more = step_chunked(c);
            break;
        case AIPA_HC_CLOSING:
            more = false;
            break;
        }
    }
}

/* ---- the loop's side ---- */

bool aipa__hconn_room(struct aipa__hconn *c, char **p, size_t *n)
{
    size_t want = 4096;

    if (c->state == AIPA_HC_CLOSING || out_waiting(c) >= OUT_HIGH) {
        return false;
    }
    if (c->state == AIPA_HC_BODY_LENGTH) {
        size_t need = c->in_off + c->head_len + (size_t)c->body_left;

        if (need > c->in_len && need - c->in_len > want) {
            want = need - c->in_len;
        }
    }
    if (c->in_cap - c->in_len < want && c->in_off > 0) {
        memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
        c->in_len -= c->in_off;
        c->in_off = 0;
        if (c->state != AIPA_HC_HEAD) {
            c->head_stale = true; /* moved: parse the head again before use */
        }
        c->last_len = 0;
    }
    if (c->in_cap - c->in_len < want && c->in_cap < c->in_max) {
        size_t cap = c->in_cap == 0 ? IN_START : c->in_cap;
        char *q;

        while (cap - c->in_len < want && cap < c->in_max) {
            cap *= 2;
        }
        cap = cap < c->in_max ? cap : c->in_max;
        q = aipa_realloc(c->in, cap);
        if (q == NULL) {
            c->state = AIPA_HC_CLOSING;
            return false;
        }
        c->in = q;
        c->in_cap = cap;
        if (c->state != AIPA_HC_HEAD) {
            c->head_stale = true;
        }
    }
    if (c->in_cap == c->in_len) {
        return false;
    }
    *p = c->in + c->in_len;
    *n = c->in_cap - c->in_len;
    return true;
}

void aipa__hconn_received(struct aipa__hconn *c, size_t n, int64_t now_ms)
{
    c->in_len += n;
    process(c, now_ms);
}

void aipa__hconn_eof(struct aipa__hconn *c)
{
    c->state = AIPA_HC_CLOSING;
}

void aipa__hconn_sent(struct aipa__hconn *c, size_t n, int64_t now_ms)
{
    c->out_off += n;
    if (c->out_off == c->out.len) {
        c->out_off = 0;
        if (c->out.cap > 4 * OUT_HIGH) {
            aipa_buf_cleanup(&c->out); /* a large answer's memory is not kept */
            aipa_buf_init(&c->out, OUT_MAX);
        } else {
            aipa_buf_reset(&c->out);
        }
        process(c, now_ms);
    }
}

bool aipa__hconn_expire(struct aipa__hconn *c, int64_t now_ms)
{
    static const char timeout_408[] = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
                                      "Content-Length: 0\r\n\r\n";

    if (c->state != AIPA_HC_HEAD || !c->head_clock ||
        now_ms - c->head_start_ms < (int64_t)c->header_timeout_ms) {
        return false;
    }
    if (c->in_len > c->in_off && out_waiting(c) == 0) {
        best_effort(aipa_buf_append(&c->out, timeout_408, sizeof(timeout_408) - 1));
    }
    c->state = AIPA_HC_CLOSING;
    return true;
}
