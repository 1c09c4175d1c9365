/*
 * transport.c: the one libcurl layer of the harness (aipa/transport.h).
 */
#include "aipa/transport.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define TX_TEXT_MAX ((size_t)256 << 20)

/* State of the transfer in flight, for the libcurl callbacks. */
struct xfer {
    struct aipa_response *resp;
    size_t header_bytes;
    bool keep_past_cap;
    bool too_large;
    bool oom;
};

struct aipa_tx {
    CURL *curl;
    CURLM *multi; /* made by the first aipa_tx_begin */
    char *origin;
    char *ca_file;
    char *proxy;
    long connect_timeout_ms;
    long timeout_ms;
    size_t max_response;
    bool insecure;
    bool keep_past_cap;
    bool url_target;
    bool body_unless_get;

    /* the transfer in flight */
    struct curl_slist *hdrs;
    struct aipa_buf url;
    struct xfer x;
    char errbuf[CURL_ERROR_SIZE];
    bool active;
};

/* ---- transport error classes ---- */

const char *aipa_xerr_name(enum aipa_xerr e)
{
    switch (e) {
#define AIPA_XERR_NAME_(id, name, desc)                                                            \
    case id:                                                                                       \
        return name;
        AIPA_XERRS(AIPA_XERR_NAME_)
#undef AIPA_XERR_NAME_
    }
    return "unknown";
}

const char *aipa_xerr_desc(enum aipa_xerr e)
{
    switch (e) {
#define AIPA_XERR_DESC_(id, name, desc)                                                            \
    case id:                                                                                       \
        return desc;
        AIPA_XERRS(AIPA_XERR_DESC_)
#undef AIPA_XERR_DESC_
    }
    return "unknown";
}

/* ---- responses ---- */

void aipa_response_init(struct aipa_response *r)
{
    memset(r, 0, sizeof(*r));
    aipa_buf_init(&r->body, AIPA_TX_DEFAULT_MAX_RESPONSE);
    r->xerr = AIPA_XERR_NONE;
}

static void clear_resp_headers(struct aipa_response *r)
{
    for (size_t i = 0; i < r->header_count; i++) {
        aipa_free(r->headers[i].name);
        aipa_free(r->headers[i].value);
        r->headers[i].name = NULL;
        r->headers[i].value = NULL;
    }
    r->header_count = 0;
}

void aipa_response_cleanup(struct aipa_response *r)
{
    clear_resp_headers(r);
    aipa_buf_cleanup(&r->body);
}

const char *aipa_response_header(const struct aipa_response *r, const char *name)
{
    for (size_t i = 0; i < r->header_count; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0) {
            return r->headers[i].value;
        }
    }
    return NULL;
}

/* ---- URLs ---- */

void aipa_url_cleanup(struct aipa_url *u)
{
    curl_free(u->scheme);
    curl_free(u->host);
    curl_free(u->port);
    curl_free(u->path);
    memset(u, 0, sizeof(*u));
}

aipa_err aipa_url_parse(const char *url, struct aipa_url *out)
{
    aipa_err err = AIPA_EINVAL;
    CURLU *u = curl_url();

    memset(out, 0, sizeof(*out));
    if (u == NULL) {
        return AIPA_ENOMEM;
    }
    if (url == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &out->scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &out->host, 0) != CURLUE_OK) {
        goto out;
    }
    if (strcmp(out->scheme, "http") != 0 && strcmp(out->scheme, "https") != 0) {
        goto out;
    }
    if (curl_url_get(u, CURLUPART_PORT, &out->port, 0) != CURLUE_OK) {
        out->port = NULL; /* none given: the scheme's default */
    }
    if (curl_url_get(u, CURLUPART_PATH, &out->path, 0) != CURLUE_OK) {
        out->path = NULL;
    }
    err = AIPA_OK;
out:
    curl_url_cleanup(u);
    if (err != AIPA_OK) {
        aipa_url_cleanup(out);
    }
    return err;
}

/* ---- handles ---- */

void aipa_tx_config_defaults(struct aipa_tx_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->connect_timeout_ms = AIPA_TX_DEFAULT_CONNECT_TIMEOUT_MS;
    cfg->timeout_ms = AIPA_TX_DEFAULT_TIMEOUT_MS;
    cfg->max_response = AIPA_TX_DEFAULT_MAX_RESPONSE;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_global(void)
{
    /* libcurl's global init is not thread-safe: once per process. */
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

aipa_err aipa_tx_new(struct aipa_tx **out, const struct aipa_tx_config *cfg)
{
    aipa_err err = AIPA_ENOMEM;
    struct aipa_tx *tx = NULL;

    *out = NULL;
    if (cfg == NULL || cfg->origin == NULL) {
        return AIPA_EINVAL;
    }
    if (pthread_once(&curl_once, curl_global) != 0 || curl_init_rc != CURLE_OK) {
        return AIPA_EIO;
    }
    tx = aipa_calloc(1, sizeof(*tx));
    if (tx == NULL) {
        goto out;
    }
    aipa_buf_init(&tx->url, TX_TEXT_MAX);
    tx->origin = aipa_strdup(cfg->origin);
    tx->proxy = aipa_strdup(cfg->proxy != NULL ? cfg->proxy : "");
    tx->ca_file = cfg->ca_file != NULL ? aipa_strdup(cfg->ca_file) : NULL;
    if (tx->origin == NULL || tx->proxy == NULL || (cfg->ca_file != NULL && tx->ca_file == NULL)) {
        goto out;
    }
    tx->connect_timeout_ms =
        cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : AIPA_TX_DEFAULT_CONNECT_TIMEOUT_MS;
    tx->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : AIPA_TX_DEFAULT_TIMEOUT_MS;
    tx->max_response = cfg->max_response > 0 ? cfg->max_response : AIPA_TX_DEFAULT_MAX_RESPONSE;
    tx->insecure = cfg->insecure;
    tx->keep_past_cap = cfg->keep_past_cap;
    tx->url_target = cfg->url_target;
    tx->body_unless_get = cfg->body_unless_get;
    tx->curl = curl_easy_init();
    err = tx->curl != NULL ? AIPA_OK : AIPA_EIO;
out:
    if (err != AIPA_OK) {
        aipa_tx_free(tx);
        tx = NULL;
    }
    *out = tx;
    return err;
}

void aipa_tx_free(struct aipa_tx *tx)
{
    if (tx == NULL) {
        return;
    }
    if (tx->active) {
        (void)curl_multi_remove_handle(tx->multi, tx->curl); /* abandon the transfer */
    }
    if (tx->multi != NULL) {
        curl_multi_cleanup(tx->multi);
    }
    if (tx->curl != NULL) {
        curl_easy_cleanup(tx->curl);
    }
    curl_slist_free_all(tx->hdrs);
    aipa_buf_cleanup(&tx->url);
    aipa_free(tx->origin);
    aipa_free(tx->ca_file);
    aipa_free(tx->proxy);
    aipa_free(tx);
}

long aipa_tx_timeout_ms(const struct aipa_tx *tx)
{
    return tx->timeout_ms;
}

/* ---- callbacks ---- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct xfer *x = userdata;
    size_t n = size * nmemb;

    if (x->resp->truncated) {
        return n; /* keep reading (and dropping) so the connection stays usable */
    }
    aipa_err err = aipa_buf_append(&x->resp->body, ptr, n);
    if (err == AIPA_ETOOBIG && x->keep_past_cap) {
        x->resp->truncated = true;
        return n;
    }
    if (err == AIPA_ETOOBIG) {
        x->too_large = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (err != AIPA_OK) {
        x->oom = true;
        return 0;
    }
    return n;
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static size_t on_header(char *ptr, size_t size, size_t nitems, void *userdata)
{
    struct xfer *x = userdata;
    struct aipa_response *r = x->resp;
    size_t n = size * nitems;

    x->header_bytes += n;
    if (x->header_bytes > AIPA_TX_MAX_RESP_HEADER_BYTES) {
        if (x->keep_past_cap) {
            r->headers_truncated = true;
            return n;
        }
        x->too_large = true;
        return 0;
    }
    if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
        /* A new status line (after a 1xx, say): only the last response's headers count. */
        clear_resp_headers(r);
        r->headers_truncated = false;
        return n;
    }
    const char *colon = memchr(ptr, ':', n);
    if (colon == NULL) {
        return n; /* the blank line, or a malformed line libcurl let through */
    }
    if (r->header_count >= AIPA_TX_MAX_RESP_HEADERS) {
        r->headers_truncated = true;
        return n;
    }
    size_t name_len = (size_t)(colon - ptr);
    const char *v = colon + 1;
    const char *end = ptr + n;
    while (v < end && is_space(*v)) {
        v++;
    }
    while (end > v && is_space(end[-1])) {
        end--;
    }
    char *name = aipa_strndup(ptr, name_len);
    char *value = aipa_strndup(v, (size_t)(end - v));
    if (name == NULL || value == NULL) {
        aipa_free(name);
        aipa_free(value);
        x->oom = true;
        return 0;
    }
    r->headers[r->header_count].name = name;
    r->headers[r->header_count].value = value;
    r->header_count++;
    return n;
}

static enum aipa_xerr classify(CURLcode rc, const struct xfer *x)
{
    if (x->too_large) {
        return AIPA_XERR_TOO_LARGE;
    }
    /* An int switch: libcurl's enum is long and grows, the rest falls to "other". */
    switch ((int)rc) {
    case CURLE_OK:
        return AIPA_XERR_NONE;
    case CURLE_FILESIZE_EXCEEDED:
        return AIPA_XERR_TOO_LARGE;
    case CURLE_OPERATION_TIMEDOUT:
        return AIPA_XERR_TIMEOUT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return AIPA_XERR_CONNECT;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        return AIPA_XERR_RESET;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
        return AIPA_XERR_TLS;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL: /* e.g. an HTTP/0.9 reply, which is refused */
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_RANGE_ERROR:
        return AIPA_XERR_PROTOCOL;
    case CURLE_URL_MALFORMAT:
        return AIPA_XERR_USAGE;
    default:
        return AIPA_XERR_OTHER;
    }
}

/* ---- request headers ---- */

static bool has_header(const struct aipa_tx_msg *m, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < m->header_count; i++) {
        const struct aipa_tx_header *h = &m->headers[i];
        if (h->value != NULL && h->name_len == n && strncasecmp(h->name, name, n) == 0) {
            return true;
        }
    }
    return false;
}

static aipa_err append_line(struct curl_slist **list, const char *line)
{
    struct curl_slist *n = curl_slist_append(*list, line);

    if (n == NULL) {
        return AIPA_ENOMEM;
    }
    *list = n;
    return AIPA_OK;
}

aipa_err aipa_tx_header_line(const struct aipa_tx_header *h, struct aipa_buf *out)
{
    aipa_buf_reset(out);
    if (h->name == NULL) {
        return AIPA_EINVAL;
    }
    AIPA_TRY(aipa_buf_append(out, h->name, h->name_len));
    if (h->value != NULL && h->value_len == 0) {
        /* "Name:" would remove the header; "Name;" sends it with an empty value */
        return aipa_buf_putc(out, ';');
    }
    if (h->value != NULL) {
        AIPA_TRY(aipa_buf_append(out, ": ", 2));
        AIPA_TRY(aipa_buf_append(out, h->value, h->value_len));
    }
    return AIPA_OK;
}

/* libcurl header lines for m, plus suppression of the defaults the request does not set. */
static aipa_err header_list(const struct aipa_tx_msg *m, struct curl_slist **out)
{
    aipa_err err = AIPA_OK;
    struct curl_slist *list = NULL;
    struct aipa_buf line;
    /* Headers libcurl would add on its own; removed unless the request sets them. */
    static const char *const defaults[] = {"Accept", "Content-Type", "Expect"};

    aipa_buf_init(&line, TX_TEXT_MAX);
    for (size_t i = 0; i < m->header_count && err == AIPA_OK; i++) {
        err = aipa_tx_header_line(&m->headers[i], &line);
        if (err == AIPA_OK && line.ptr != NULL) {
            err = append_line(&list, line.ptr);
        }
    }
    for (size_t i = 0; i < AIPA_ARRAY_LEN(defaults) && err == AIPA_OK; i++) {
        if (has_header(m, defaults[i])) {
            continue;
        }
        aipa_buf_reset(&line);
        err = aipa_buf_printf(&line, "%s:", defaults[i]);
        if (err == AIPA_OK) {
            err = append_line(&list, line.ptr);
        }
    }
    aipa_buf_cleanup(&line);
    if (err != AIPA_OK) {
        curl_slist_free_all(list);
        list = NULL;
    }
    *out = list;
    return err;
}

/* ---- sending ---- */

/* An origin-form target of printable ASCII without '#' or '\\'. */
static bool target_is_plain(const char *target)
{
    if (target[0] != '/') {
        return false;
    }
    for (const char *p = target; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || c == '#' || c == '\\') {
            return false;
        }
    }
    return true;
}

#define SETOPT(opt, val)                                                                           \
    do {                                                                                           \
        if (rc == CURLE_OK) {                                                                      \
            rc = curl_easy_setopt(tx->curl, opt, val);                                             \
        }                                                                                          \
    } while (0)

static CURLcode set_method(struct aipa_tx *tx, const struct aipa_tx_msg *m)
{
    CURLcode rc = CURLE_OK;
    const char *meth = m->method;
    bool get = strcmp(meth, "GET") == 0;

    if (m->body_len > 0 || strcmp(meth, "POST") == 0 || (tx->body_unless_get && !get)) {
        SETOPT(CURLOPT_POST, 1L);
        SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)m->body_len);
        SETOPT(CURLOPT_POSTFIELDS, m->body != NULL ? m->body : "");
        if (strcmp(meth, "POST") != 0) {
            SETOPT(CURLOPT_CUSTOMREQUEST, meth);
        }
    } else {
        SETOPT(CURLOPT_HTTPGET, 1L);
        if (strcmp(meth, "HEAD") == 0) {
            SETOPT(CURLOPT_NOBODY, 1L);
        } else if (!get) {
            SETOPT(CURLOPT_CUSTOMREQUEST, meth);
        }
    }
    return rc;
}

/* Sets every option of m on the easy handle; false (and resp filled) when one fails. */
static aipa_err prepare(struct aipa_tx *tx, const struct aipa_tx_msg *m, struct aipa_response *resp)
{
    CURLcode rc = CURLE_OK;
    bool in_url = tx->url_target && !target_is_plain(m->target);

    clear_resp_headers(resp);
    aipa_buf_cleanup(&resp->body);
    aipa_buf_init(&resp->body, tx->max_response);
    resp->status = 0;
    resp->content_type[0] = '\0';
    resp->headers_truncated = false;
    resp->truncated = false;
    resp->sent = false;
    resp->elapsed_ms = 0;
    resp->xerr = AIPA_XERR_NONE;
    resp->xerr_msg[0] = '\0';
    memset(&tx->x, 0, sizeof(tx->x));
    tx->x.resp = resp;
    tx->x.keep_past_cap = tx->keep_past_cap;
    tx->errbuf[0] = '\0';
    aipa_buf_reset(&tx->url);
    AIPA_TRY(header_list(m, &tx->hdrs));
    AIPA_TRY(aipa_buf_puts(&tx->url, tx->origin));
    AIPA_TRY(aipa_buf_puts(&tx->url, in_url ? m->target : "/"));

    /* Reset keeps the connection cache, so the next request reuses the connection. */
    curl_easy_reset(tx->curl);
    SETOPT(CURLOPT_URL, tx->url.ptr);
    if (!in_url) {
        SETOPT(CURLOPT_REQUEST_TARGET, m->target);
    }
    SETOPT(CURLOPT_PATH_AS_IS, 1L);
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, tx->connect_timeout_ms);
    SETOPT(CURLOPT_TIMEOUT_MS, tx->timeout_ms);
    if (!tx->keep_past_cap) {
        SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)tx->max_response);
    }
    SETOPT(CURLOPT_PROXY, tx->proxy);
    SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SETOPT(CURLOPT_SSL_VERIFYPEER, tx->insecure ? 0L : 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, tx->insecure ? 0L : 2L);
    if (tx->ca_file != NULL) {
        SETOPT(CURLOPT_CAINFO, tx->ca_file);
    }
    SETOPT(CURLOPT_HTTPHEADER, tx->hdrs);
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, &tx->x);
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, &tx->x);
    SETOPT(CURLOPT_ERRORBUFFER, tx->errbuf);
    if (rc == CURLE_OK) {
        rc = set_method(tx, m);
    }
    if (rc != CURLE_OK) {
        resp->xerr = AIPA_XERR_USAGE;
        (void)snprintf(resp->xerr_msg, sizeof(resp->xerr_msg), "libcurl option: %s",
                       curl_easy_strerror(rc));
    }
    return AIPA_OK;
}

/* Fills resp from the finished transfer's result rc. */
static aipa_err conclude(struct aipa_tx *tx, CURLcode rc)
{
    struct aipa_response *resp = tx->x.resp;
    long status = 0;
    curl_off_t us = 0;
    char *ct = NULL;

    if (curl_easy_getinfo(tx->curl, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK) {
        resp->status = status;
    }
    if (curl_easy_getinfo(tx->curl, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK) {
        resp->elapsed_ms = (double)us / 1000.0;
    }
    if (curl_easy_getinfo(tx->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL) {
        (void)snprintf(resp->content_type, sizeof(resp->content_type), "%s", ct);
    }
    if (tx->x.oom) {
        return AIPA_ENOMEM;
    }
    resp->xerr = classify(rc, &tx->x);
    resp->sent = rc != CURLE_URL_MALFORMAT;
    if (resp->xerr == AIPA_XERR_TOO_LARGE) {
        (void)snprintf(resp->xerr_msg, sizeof(resp->xerr_msg),
                       "response larger than %zu bytes (body) or %u bytes (headers)",
                       tx->max_response, (unsigned)AIPA_TX_MAX_RESP_HEADER_BYTES);
    } else if (resp->xerr != AIPA_XERR_NONE) {
        (void)snprintf(resp->xerr_msg, sizeof(resp->xerr_msg), "%s",
                       tx->errbuf[0] != '\0' ? tx->errbuf : curl_easy_strerror(rc));
    }
    return AIPA_OK;
}

/* The handle keeps no pointer into the caller's request or response past a transfer. */
static void release(struct aipa_tx *tx)
{
    (void)curl_easy_setopt(tx->curl, CURLOPT_HTTPHEADER, NULL);
    (void)curl_easy_setopt(tx->curl, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(tx->hdrs);
    tx->hdrs = NULL;
    tx->active = false;
}

static bool valid_msg(const struct aipa_tx_msg *m)
{
    return m != NULL && m->method != NULL && m->target != NULL &&
           (m->headers != NULL || m->header_count == 0) && (m->body != NULL || m->body_len == 0);
}

aipa_err aipa_tx_send(struct aipa_tx *tx, const struct aipa_tx_msg *m, struct aipa_response *resp)
{
    aipa_err err;

    if (tx == NULL || !valid_msg(m) || resp == NULL || tx->active) {
        return AIPA_EINVAL;
    }
    err = prepare(tx, m, resp);
    if (err == AIPA_OK && resp->xerr == AIPA_XERR_NONE) {
        err = conclude(tx, curl_easy_perform(tx->curl));
    }
    release(tx);
    return err;
}

aipa_err aipa_tx_begin(struct aipa_tx *tx, const struct aipa_tx_msg *m, struct aipa_response *resp)
{
    aipa_err err;
    int running = 0;

    if (tx == NULL || !valid_msg(m) || resp == NULL || tx->active) {
        return AIPA_EINVAL;
    }
    if (tx->multi == NULL && (tx->multi = curl_multi_init()) == NULL) {
        return AIPA_ENOMEM;
    }
    err = prepare(tx, m, resp);
    if (err == AIPA_OK && resp->xerr == AIPA_XERR_NONE) {
        if (curl_multi_add_handle(tx->multi, tx->curl) != CURLM_OK) {
            resp->xerr = AIPA_XERR_OTHER;
            (void)snprintf(resp->xerr_msg, sizeof(resp->xerr_msg), "libcurl multi failed");
        } else {
            tx->active = true;
            (void)curl_multi_perform(tx->multi, &running); /* connect (or reuse) and send */
        }
    }
    if (!tx->active) {
        release(tx);
    }
    return err;
}

aipa_err aipa_tx_finish(struct aipa_tx *tx)
{
    CURLcode rc = CURLE_OK;
    int running = 1;
    aipa_err err;

    if (tx == NULL || !tx->active) {
        return AIPA_OK;
    }
    /* libcurl enforces CURLOPT_TIMEOUT_MS; the loop ends when the transfer does */
    while (running > 0) {
        if (curl_multi_perform(tx->multi, &running) != CURLM_OK) {
            break;
        }
        if (running > 0 && curl_multi_poll(tx->multi, NULL, 0, 100, NULL) != CURLM_OK) {
            break;
        }
    }
    for (;;) {
        int left = 0;
        CURLMsg *msg = curl_multi_info_read(tx->multi, &left);
        if (msg == NULL) {
            break;
        }
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == tx->curl) {
            rc = msg->data.result;
        }
    }
    (void)curl_multi_remove_handle(tx->multi, tx->curl);
    err = conclude(tx, rc);
    release(tx);
    return err;
}
