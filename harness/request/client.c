/*
 * client.c: the harness's libcurl transport, request builder and signer
 * (aipa/client.h, docs/internals/client.md).
 */
#include "aipa/client.h"

#include <curl/curl.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Limits of the lists the client builds: generous, since fuzzing sends big values. */
#define CLIENT_MAX_TOTAL  ((size_t)64 << 20)
#define CLIENT_MAX_PARAMS 4096u
#define CLIENT_MAX_NAME   ((size_t)1 << 20)
#define CLIENT_MAX_VALUE  ((size_t)16 << 20)
#define CLIENT_TEXT_MAX   ((size_t)256 << 20)

struct aipa_client {
    CURL *curl;
    char *target;      /* as configured */
    char *origin;      /* "scheme://host[:port]/": what libcurl connects to */
    char *path;        /* RPC pathname from the target, "/" by default */
    char *host_header; /* Host as sent and signed: host[:port] (port when not the default) */
    char *access_key_id;
    char *secret;
    size_t secret_len;
    char *version;
    char *user_agent;
    char *ca_file;
    char *proxy;
    long connect_timeout_ms;
    long timeout_ms;
    size_t max_response;
    bool insecure;
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

/* ---- configuration ---- */

void aipa_client_config_defaults(struct aipa_client_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->connect_timeout_ms = AIPA_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS;
    cfg->timeout_ms = AIPA_CLIENT_DEFAULT_TIMEOUT_MS;
    cfg->max_response = AIPA_CLIENT_DEFAULT_MAX_RESPONSE;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_global(void)
{
    /* libcurl's global init is not thread-safe: once per process. */
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *dup_or(const char *s, const char *dflt)
{
    return aipa_strdup(s != NULL ? s : dflt);
}

/*
 * Splits the target with libcurl's URL parser into origin, path and the Host
 * header value. AIPA_EINVAL unless it is an absolute http(s) URL.
 */
static aipa_err split_target(struct aipa_client *c)
{
    aipa_err err = AIPA_EINVAL;
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
    struct aipa_buf b;

    aipa_buf_init(&b, 4096);
    if (u == NULL) {
        err = AIPA_ENOMEM;
        goto out;
    }
    if (curl_url_set(u, CURLUPART_URL, c->target, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        goto out;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        goto out;
    }
    if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK) {
        port = NULL; /* none given: the scheme's default */
    }
    if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        path = NULL;
    }
    bool default_port = port == NULL || (strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0) ||
                        (strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0);
    err = aipa_buf_printf(&b, "%s%s%s", host, default_port ? "" : ":", default_port ? "" : port);
    if (err != AIPA_OK) {
        goto out;
    }
    c->host_header = aipa_buf_steal(&b, NULL);
    err = aipa_buf_printf(&b, "%s://%s%s%s/", scheme, host, port != NULL ? ":" : "",
                          port != NULL ? port : "");
    if (err != AIPA_OK) {
        goto out;
    }
    c->origin = aipa_buf_steal(&b, NULL);
    c->path = aipa_strdup(path != NULL && path[0] == '/' ? path : "/");
    err = (c->host_header != NULL && c->origin != NULL && c->path != NULL) ? AIPA_OK : AIPA_ENOMEM;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(u);
    aipa_buf_cleanup(&b);
    return err;
}

aipa_err aipa_client_new(struct aipa_client **out, const struct aipa_client_config *cfg)
{
    aipa_err err = AIPA_ENOMEM;
    struct aipa_client *c = NULL;

    *out = NULL;
    if (cfg == NULL || cfg->target == NULL) {
        return AIPA_EINVAL;
    }
    if (pthread_once(&curl_once, curl_global) != 0 || curl_init_rc != CURLE_OK) {
        return AIPA_EIO;
    }
    c = aipa_calloc(1, sizeof(*c));
    if (c == NULL) {
        goto out;
    }
    c->target = aipa_strdup(cfg->target);
    c->access_key_id = dup_or(cfg->access_key_id, "");
    c->secret = dup_or(cfg->access_key_secret, "");
    c->version = dup_or(cfg->version, AIPA_API_VERSION);
    c->user_agent = dup_or(cfg->user_agent, "aipa/0.1.0");
    c->ca_file = cfg->ca_file != NULL ? aipa_strdup(cfg->ca_file) : NULL;
    c->proxy = dup_or(cfg->proxy, "");
    if (c->target == NULL || c->access_key_id == NULL || c->secret == NULL || c->version == NULL ||
        c->user_agent == NULL || c->proxy == NULL || (cfg->ca_file != NULL && c->ca_file == NULL)) {
        goto out;
    }
    c->secret_len = strlen(c->secret);
    c->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms
                                                        : AIPA_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS;
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : AIPA_CLIENT_DEFAULT_TIMEOUT_MS;
    c->max_response = cfg->max_response > 0 ? cfg->max_response : AIPA_CLIENT_DEFAULT_MAX_RESPONSE;
    c->insecure = cfg->insecure;
    err = split_target(c);
    if (err != AIPA_OK) {
        goto out;
    }
    c->curl = curl_easy_init();
    if (c->curl == NULL) {
        err = AIPA_ENOMEM;
        goto out;
    }
    err = AIPA_OK;
out:
    if (err != AIPA_OK) {
        aipa_client_free(c);
        c = NULL;
    }
    *out = c;
    return err;
}

void aipa_client_free(struct aipa_client *c)
{
    if (c == NULL) {
        return;
    }
    if (c->curl != NULL) {
        curl_easy_cleanup(c->curl);
    }
    if (c->secret != NULL) {
        aipa_memzero(c->secret, c->secret_len);
    }
    aipa_free(c->secret);
    aipa_free(c->target);
    aipa_free(c->origin);
    aipa_free(c->path);
    aipa_free(c->host_header);
    aipa_free(c->access_key_id);
    aipa_free(c->version);
    aipa_free(c->user_agent);
    aipa_free(c->ca_file);
    aipa_free(c->proxy);
    aipa_free(c);
}

const char *aipa_client_target(const struct aipa_client *c)
{
    return c->target;
}

/* ---- built requests ---- */

static struct aipa_wire_limits client_limits(void)
{
    struct aipa_wire_limits l = {CLIENT_MAX_TOTAL, CLIENT_MAX_PARAMS, CLIENT_MAX_NAME,
                                 CLIENT_MAX_VALUE};
    return l;
}

void aipa_built_init(struct aipa_built *b)
{
    struct aipa_wire_limits l = client_limits();

    memset(b, 0, sizeof(*b));
    aipa_buf_init(&b->method, 4096);
    aipa_buf_init(&b->target, CLIENT_TEXT_MAX);
    aipa_buf_init(&b->body, CLIENT_TEXT_MAX);
    aipa_params_init(&b->sent, &l);
    aipa_buf_init(&b->string_to_sign, CLIENT_TEXT_MAX);
    aipa_buf_init(&b->canonical_request, CLIENT_TEXT_MAX);
}

static void free_header(struct aipa_built *b, size_t i)
{
    aipa_free(b->headers[i].name);
    aipa_free(b->headers[i].value);
    b->headers[i].name = NULL;
    b->headers[i].value = NULL;
}

void aipa_built_cleanup(struct aipa_built *b)
{
    aipa_buf_cleanup(&b->method);
    aipa_buf_cleanup(&b->target);
    aipa_buf_cleanup(&b->body);
    aipa_params_cleanup(&b->sent);
    aipa_buf_cleanup(&b->string_to_sign);
    aipa_buf_cleanup(&b->canonical_request);
    for (size_t i = 0; i < b->header_count; i++) {
        free_header(b, i);
    }
    b->header_count = 0;
    b->signature[0] = '\0';
    b->tampered = false;
}

size_t aipa_built_remove_header(struct aipa_built *b, const char *name)
{
    size_t kept = 0;
    size_t gone = 0;

    for (size_t i = 0; i < b->header_count; i++) {
        if (strcasecmp(b->headers[i].name, name) == 0) {
            free_header(b, i);
            gone++;
            continue;
        }
        b->headers[kept] = b->headers[i];
        kept++;
    }
    b->header_count = kept;
    return gone;
}

/* Appends a header (value may be NULL for a raw line without a colon). */
static aipa_err add_header(struct aipa_built *b, const char *name, size_t name_len,
                           const char *value)
{
    if (b->header_count >= AIPA_CLIENT_MAX_HEADERS) {
        return AIPA_ETOOBIG;
    }
    char *n = aipa_strndup(name, name_len);
    char *v = value != NULL ? aipa_strdup(value) : NULL;
    if (n == NULL || (value != NULL && v == NULL)) {
        aipa_free(n);
        aipa_free(v);
        return AIPA_ENOMEM;
    }
    b->headers[b->header_count].name = n;
    b->headers[b->header_count].value = v;
    b->header_count++;
    return AIPA_OK;
}

aipa_err aipa_built_set_header(struct aipa_built *b, const char *name, const char *value)
{
    if (name == NULL || value == NULL) {
        return AIPA_EINVAL;
    }
    for (size_t i = 0; i < b->header_count; i++) {
        if (strcasecmp(b->headers[i].name, name) == 0) {
            char *v = aipa_strdup(value);
            if (v == NULL) {
                return AIPA_ENOMEM;
            }
            aipa_free(b->headers[i].value);
            b->headers[i].value = v;
            /* Later duplicates go, so the header is set exactly once. */
            size_t kept = i + 1;
            for (size_t k = i + 1; k < b->header_count; k++) {
                if (strcasecmp(b->headers[k].name, name) == 0) {
                    free_header(b, k);
                    continue;
                }
                b->headers[kept++] = b->headers[k];
            }
            b->header_count = kept;
            return AIPA_OK;
        }
    }
    return add_header(b, name, strlen(name), value);
}

const char *aipa_built_header(const struct aipa_built *b, const char *name)
{
    for (size_t i = 0; i < b->header_count; i++) {
        if (strcasecmp(b->headers[i].name, name) == 0) {
            return b->headers[i].value;
        }
    }
    return NULL;
}

void aipa_request_init(struct aipa_request *r)
{
    memset(r, 0, sizeof(*r));
    r->sig = AIPA_SIG_V1;
    r->shape = AIPA_SHAPE_GET;
    r->want = AIPA_WANT_DEFAULT;
}

aipa_err aipa_client_nonce(char out[33])
{
    unsigned char raw[16];
    static const char hex[] = "0123456789abcdef";

    if (RAND_bytes(raw, (int)sizeof(raw)) != 1) {
        out[0] = '\0';
        return AIPA_ECRYPTO;
    }
    for (size_t i = 0; i < sizeof(raw); i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 0x0F];
    }
    out[32] = '\0';
    aipa_memzero(raw, sizeof(raw));
    return AIPA_OK;
}

static bool omitted(const struct aipa_request *req, const char *name)
{
    for (size_t i = 0; i < req->omit_count; i++) {
        if (req->omit[i] != NULL && strcasecmp(req->omit[i], name) == 0) {
            return true;
        }
    }
    return false;
}

/* Adds a common parameter unless the caller omitted it or already gave it. */
static aipa_err add_common(struct aipa_params *p, const struct aipa_request *req, const char *name,
                           const char *value)
{
    if (omitted(req, name) || aipa_params_get(p, name) != NULL) {
        return AIPA_OK;
    }
    return aipa_params_add_cstr(p, name, value);
}

/* Adds a header before signing unless omitted. */
static aipa_err add_std_header(struct aipa_built *b, const struct aipa_request *req,
                               const char *name, const char *value)
{
    if (omitted(req, name)) {
        return AIPA_OK;
    }
    return add_header(b, name, strlen(name), value);
}

static aipa_err set_target(struct aipa_built *b, const char *path, const struct aipa_buf *query)
{
    AIPA_TRY(aipa_buf_puts(&b->target, path));
    if (query->len > 0) {
        AIPA_TRY(aipa_buf_putc(&b->target, '?'));
        AIPA_TRY(aipa_buf_append(&b->target, query->ptr, query->len));
    }
    return AIPA_OK;
}

static bool is_signed_v3_header(const char *name)
{
    return strcasecmp(name, "host") == 0 || strcasecmp(name, "content-type") == 0 ||
           strncasecmp(name, "x-acs-", 6) == 0;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The SignedHeaders list of b: lowercase, sorted, each name once. */
static aipa_err v3_signed_headers(const struct aipa_built *b, struct aipa_buf *out)
{
    aipa_err err = AIPA_OK;
    char *names[AIPA_CLIENT_MAX_HEADERS];
    size_t n = 0;

    for (size_t i = 0; i < b->header_count; i++) {
        if (b->headers[i].value == NULL || !is_signed_v3_header(b->headers[i].name)) {
            continue;
        }
        char *low = aipa_strdup(b->headers[i].name);
        if (low == NULL) {
            err = AIPA_ENOMEM;
            goto out;
        }
        for (char *q = low; *q != '\0'; q++) {
            if (*q >= 'A' && *q <= 'Z') {
                *q = (char)(*q - 'A' + 'a');
            }
        }
        names[n++] = low;
    }
    qsort(names, n, sizeof(names[0]), cmp_cstr);
    for (size_t i = 0; i < n && err == AIPA_OK; i++) {
        if (i > 0 && strcmp(names[i], names[i - 1]) == 0) {
            continue;
        }
        if (out->len > 0) {
            err = aipa_buf_putc(out, ';');
        }
        if (err == AIPA_OK) {
            err = aipa_buf_puts(out, names[i]);
        }
    }
out:
    for (size_t i = 0; i < n; i++) {
        aipa_free(names[i]);
    }
    return err;
}

/* V3: canonical request, StringToSign, signature and the Authorization header. */
static aipa_err sign_v3(struct aipa_client *c, const struct aipa_request *req, struct aipa_built *b,
                        const char *sign_method, const struct aipa_params *query,
                        const char *payload_hash, const char *akid, const char *secret)
{
    aipa_err err;
    struct aipa_header hdrs[AIPA_CLIENT_MAX_HEADERS];
    struct aipa_buf signed_list;
    struct aipa_buf auth;

    aipa_buf_init(&signed_list, 64u * 1024u);
    aipa_buf_init(&auth, 64u * 1024u);
    size_t n = 0;
    for (size_t i = 0; i < b->header_count; i++) {
        if (b->headers[i].value == NULL) {
            continue;
        }
        hdrs[n].name = aipa_slice_cstr(b->headers[i].name);
        hdrs[n].value = aipa_slice_cstr(b->headers[i].value);
        n++;
    }
    err = v3_signed_headers(b, &signed_list);
    if (err == AIPA_OK) {
        err = aipa_v3_canonical_request(
            sign_method, c->path, query, hdrs, n,
            aipa_slice_cstr(signed_list.ptr != NULL ? signed_list.ptr : ""), payload_hash,
            &b->canonical_request);
    }
    if (err == AIPA_OK) {
        err = aipa_v3_string_to_sign(b->canonical_request.ptr, b->canonical_request.len,
                                     &b->string_to_sign);
    }
    if (err == AIPA_OK) {
        err = aipa_v3_signature(secret, b->string_to_sign.ptr, b->string_to_sign.len, b->signature);
    }
    if (err == AIPA_OK && !omitted(req, "Authorization")) {
        /* The same header aipa_v3_authorization builds, from the pieces kept for reports. */
        err = aipa_v3_authorization(sign_method, c->path, query, hdrs, n,
                                    signed_list.ptr != NULL ? signed_list.ptr : "", payload_hash,
                                    akid, secret, &auth);
        if (err == AIPA_OK) {
            err = add_header(b, "Authorization", strlen("Authorization"), auth.ptr);
        }
    }
    aipa_buf_cleanup(&signed_list);
    aipa_buf_cleanup(&auth);
    return err;
}

static aipa_err build_raw(const struct aipa_request *req, struct aipa_built *b)
{
    AIPA_TRY(aipa_buf_puts(&b->method, req->raw_method != NULL ? req->raw_method : "GET"));
    if (req->raw_target_len > 0) {
        if (req->raw_target == NULL) {
            return AIPA_EINVAL;
        }
        AIPA_TRY(aipa_buf_append(&b->target, req->raw_target, req->raw_target_len));
    } else {
        AIPA_TRY(aipa_buf_puts(&b->target, "/"));
    }
    if (req->raw_body_len > 0) {
        if (req->raw_body == NULL) {
            return AIPA_EINVAL;
        }
        AIPA_TRY(aipa_buf_append(&b->body, req->raw_body, req->raw_body_len));
    }
    for (size_t i = 0; i < req->raw_header_count; i++) {
        const char *line = req->raw_headers[i];
        if (line == NULL) {
            return AIPA_EINVAL;
        }
        const char *colon = strchr(line, ':');
        if (colon == NULL) {
            AIPA_TRY(add_header(b, line, strlen(line), NULL));
            continue;
        }
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t') {
            v++;
        }
        AIPA_TRY(add_header(b, line, (size_t)(colon - line), v));
    }
    return AIPA_OK;
}

static aipa_err build_signed(struct aipa_client *c, const struct aipa_request *req,
                             struct aipa_built *b)
{
    aipa_err err;
    const char *method = req->method != NULL            ? req->method
                         : req->shape == AIPA_SHAPE_GET ? "GET"
                                                        : "POST";
    const char *sign_method = req->sign_method != NULL ? req->sign_method : method;
    const char *akid = req->access_key_id != NULL ? req->access_key_id : c->access_key_id;
    const char *secret = req->secret != NULL ? req->secret : c->secret;
    char nonce[33];
    char now[21];
    const char *ts = req->timestamp;
    const char *nc = req->nonce;
    struct aipa_buf query;
    struct aipa_params v3q;
    struct aipa_wire_limits lim = client_limits();

    if (req->params == NULL || (req->sig == AIPA_SIG_V3 && req->shape == AIPA_SHAPE_POST_FORM)) {
        return AIPA_EINVAL;
    }
    if (ts == NULL) {
        aipa_format_timestamp((int64_t)time(NULL), now);
        ts = now;
    }
    if (nc == NULL) {
        AIPA_TRY(aipa_client_nonce(nonce));
        nc = nonce;
    }
    aipa_buf_init(&query, CLIENT_TEXT_MAX);
    aipa_params_init(&v3q, &lim);

    err = aipa_buf_puts(&b->method, method);
    /* Every operation parameter, in the caller's order. */
    for (size_t i = 0; i < req->params->count && err == AIPA_OK; i++) {
        const struct aipa_param *p = &req->params->items[i];
        err = aipa_params_add(&b->sent, p->name, p->name_len, p->value, p->value_len,
                              AIPA_PARAM_BUILT);
    }
    if (err != AIPA_OK) {
        goto out;
    }
    const char *fmt = req->want == AIPA_WANT_JSON  ? "JSON"
                      : req->want == AIPA_WANT_XML ? "XML"
                                                   : NULL;

    if (req->sig == AIPA_SIG_V1 || req->sig == AIPA_SIG_NONE) {
        err = add_common(&b->sent, req, "Version", c->version);
        if (err == AIPA_OK && fmt != NULL) {
            err = add_common(&b->sent, req, "Format", fmt);
        }
        if (req->sig == AIPA_SIG_V1) {
            if (err == AIPA_OK) {
                err = add_common(&b->sent, req, "AccessKeyId", akid);
            }
            if (err == AIPA_OK) {
                err = add_common(&b->sent, req, "SignatureMethod", "HMAC-SHA1");
            }
            if (err == AIPA_OK) {
                err = add_common(&b->sent, req, "SignatureVersion", "1.0");
            }
            if (err == AIPA_OK) {
                err = add_common(&b->sent, req, "SignatureNonce", nc);
            }
            if (err == AIPA_OK) {
                err = add_common(&b->sent, req, "Timestamp", ts);
            }
            if (err == AIPA_OK) {
                err = aipa_v1_string_to_sign(sign_method, &b->sent, &b->string_to_sign);
            }
            if (err == AIPA_OK) {
                err = aipa_v1_signature(secret, b->string_to_sign.ptr, b->string_to_sign.len,
                                        b->signature);
            }
            /* A Signature the caller gave goes as given; an omitted one is left out. */
            if (err == AIPA_OK && !omitted(req, "Signature") &&
                aipa_params_get(&b->sent, "Signature") == NULL) {
                err = aipa_v1_sign(sign_method, &b->sent, secret);
            }
        }
        if (err != AIPA_OK) {
            goto out;
        }
        err = aipa_wire_build_query(&b->sent, &query);
        if (err != AIPA_OK) {
            goto out;
        }
        if (req->shape == AIPA_SHAPE_POST_FORM) {
            err = aipa_buf_puts(&b->target, c->path);
            if (err == AIPA_OK) {
                err = aipa_buf_append(&b->body, query.ptr != NULL ? query.ptr : "", query.len);
            }
        } else {
            err = set_target(b, c->path, &query);
        }
        if (err == AIPA_OK) {
            err = add_std_header(b, req, "Host", c->host_header);
        }
        if (err == AIPA_OK && req->shape == AIPA_SHAPE_POST_FORM) {
            err = add_std_header(b, req, "Content-Type", "application/x-www-form-urlencoded");
        }
        if (err == AIPA_OK) {
            err = add_std_header(b, req, "User-Agent", c->user_agent);
        }
        for (size_t i = 0; i < req->extra_header_count && err == AIPA_OK; i++) {
            const struct aipa_kv *h = &req->extra_headers[i];
            err = add_header(b, h->name, strlen(h->name), h->value);
        }
        goto out;
    }

    /* V3: Action and Version travel as headers, the rest in the query. */
    const char *action = aipa_params_value(&b->sent, "Action");
    const char *version = aipa_params_value(&b->sent, "Version");
    for (size_t i = 0; i < b->sent.count && err == AIPA_OK; i++) {
        const struct aipa_param *p = &b->sent.items[i];
        if (strcmp(p->name, "Action") == 0 || strcmp(p->name, "Version") == 0) {
            continue;
        }
        err = aipa_params_add(&v3q, p->name, p->name_len, p->value, p->value_len, AIPA_PARAM_BUILT);
    }
    if (err == AIPA_OK && req->want == AIPA_WANT_XML) {
        err = add_common(&v3q, req, "Format", "XML");
    }
    char payload_hash[AIPA_SHA256_HEX_LEN + 1];
    if (err == AIPA_OK) {
        err = aipa_sha256_hex(b->body.ptr != NULL ? b->body.ptr : "", b->body.len, payload_hash);
    }
    if (err == AIPA_OK) {
        err = add_std_header(b, req, "host", c->host_header);
    }
    if (err == AIPA_OK && action != NULL) {
        err = add_std_header(b, req, "x-acs-action", action);
    }
    if (err == AIPA_OK) {
        err = add_std_header(b, req, "x-acs-version", version != NULL ? version : c->version);
    }
    if (err == AIPA_OK) {
        err = add_std_header(b, req, "x-acs-date", ts);
    }
    if (err == AIPA_OK) {
        err = add_std_header(b, req, "x-acs-signature-nonce", nc);
    }
    if (err == AIPA_OK) {
        err = add_std_header(b, req, "x-acs-content-sha256", payload_hash);
    }
    if (err == AIPA_OK && req->want == AIPA_WANT_JSON) {
        err = add_std_header(b, req, "Accept", "application/json");
    }
    if (err == AIPA_OK) {
        err = add_std_header(b, req, "User-Agent", c->user_agent);
    }
    for (size_t i = 0; i < req->extra_header_count && err == AIPA_OK; i++) {
        const struct aipa_kv *h = &req->extra_headers[i];
        err = add_header(b, h->name, strlen(h->name), h->value);
    }
    if (err == AIPA_OK) {
        err = sign_v3(c, req, b, sign_method, &v3q, payload_hash, akid, secret);
    }
    if (err == AIPA_OK) {
        err = aipa_wire_build_query(&v3q, &query);
    }
    if (err == AIPA_OK) {
        err = set_target(b, c->path, &query);
    }
    if (err == AIPA_OK) {
        /* What went on the wire: the query params, plus Action and Version as headers carry them.
         */
        aipa_params_cleanup(&b->sent);
        err = aipa_params_copy(&b->sent, &v3q);
    }
out:
    aipa_buf_cleanup(&query);
    aipa_params_cleanup(&v3q);
    aipa_memzero(nonce, sizeof(nonce));
    return err;
}

aipa_err aipa_client_build(struct aipa_client *c, const struct aipa_request *req,
                           struct aipa_built *b)
{
    aipa_err err;

    if (c == NULL || req == NULL || b == NULL) {
        return AIPA_EINVAL;
    }
    aipa_built_cleanup(b);
    aipa_built_init(b);
    err = req->raw ? build_raw(req, b) : build_signed(c, req, b);
    for (size_t i = 0; err == AIPA_OK && !req->raw && i < req->remove_header_count; i++) {
        (void)aipa_built_remove_header(b, req->remove_headers[i]);
    }
    if (err == AIPA_OK && req->tamper != NULL) {
        req->tamper(req->tamper_ctx, b);
        b->tampered = true;
    }
    if (err != AIPA_OK) {
        aipa_built_cleanup(b);
        aipa_built_init(b);
    }
    return err;
}

/* ---- responses ---- */

void aipa_response_init(struct aipa_response *r)
{
    memset(r, 0, sizeof(*r));
    aipa_buf_init(&r->body, AIPA_CLIENT_DEFAULT_MAX_RESPONSE);
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

/* State of one transfer, for the libcurl callbacks. */
struct xfer {
    struct aipa_response *resp;
    size_t header_bytes;
    bool too_large;
    bool oom;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct xfer *x = userdata;
    size_t n = size * nmemb;
    aipa_err err = aipa_buf_append(&x->resp->body, ptr, n);

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
    if (x->header_bytes > AIPA_CLIENT_MAX_RESP_HEADER_BYTES) {
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
    if (r->header_count >= AIPA_CLIENT_MAX_RESP_HEADERS) {
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

/* True when b already carries a header called name. */
static bool has_header(const struct aipa_built *b, const char *name)
{
    return aipa_built_header(b, name) != NULL;
}

/* libcurl header lines for b, plus suppression of the defaults we do not want. */
static aipa_err header_list(const struct aipa_built *b, struct curl_slist **out)
{
    aipa_err err = AIPA_OK;
    struct curl_slist *list = NULL;
    struct aipa_buf line;
    /* Headers libcurl would add on its own; removed unless the request sets them. */
    static const char *const defaults[] = {"Accept", "Content-Type", "Expect"};

    aipa_buf_init(&line, CLIENT_TEXT_MAX);
    for (size_t i = 0; i < b->header_count && err == AIPA_OK; i++) {
        aipa_buf_reset(&line);
        const char *v = b->headers[i].value;
        if (v == NULL) {
            err = aipa_buf_puts(&line, b->headers[i].name); /* a raw line, as given */
        } else if (v[0] == '\0') {
            /* libcurl's syntax for a header with an empty value */
            err = aipa_buf_printf(&line, "%s;", b->headers[i].name);
        } else {
            err = aipa_buf_printf(&line, "%s: %s", b->headers[i].name, v);
        }
        if (err == AIPA_OK) {
            struct curl_slist *n = curl_slist_append(list, line.ptr);
            if (n == NULL) {
                err = AIPA_ENOMEM;
            } else {
                list = n;
            }
        }
    }
    for (size_t i = 0; i < AIPA_ARRAY_LEN(defaults) && err == AIPA_OK; i++) {
        if (has_header(b, defaults[i])) {
            continue;
        }
        aipa_buf_reset(&line);
        err = aipa_buf_printf(&line, "%s:", defaults[i]);
        if (err == AIPA_OK) {
            struct curl_slist *n = curl_slist_append(list, line.ptr);
            if (n == NULL) {
                err = AIPA_ENOMEM;
            } else {
                list = n;
            }
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

#define SETOPT(opt, val)                                                                           \
    do {                                                                                           \
        if (rc == CURLE_OK) {                                                                      \
            rc = curl_easy_setopt(c->curl, opt, val);                                              \
        }                                                                                          \
    } while (0)

aipa_err aipa_client_send(struct aipa_client *c, const struct aipa_built *b,
                          struct aipa_response *resp)
{
    aipa_err err;
    struct curl_slist *hdrs = NULL;
    struct xfer x;
    char errbuf[CURL_ERROR_SIZE];
    CURLcode rc = CURLE_OK;

    if (c == NULL || b == NULL || resp == NULL || b->method.ptr == NULL || b->target.ptr == NULL) {
        return AIPA_EINVAL;
    }
    clear_resp_headers(resp);
    aipa_buf_cleanup(&resp->body);
    aipa_buf_init(&resp->body, c->max_response);
    resp->status = 0;
    resp->content_type[0] = '\0';
    resp->headers_truncated = false;
    resp->elapsed_ms = 0;
    resp->xerr = AIPA_XERR_NONE;
    resp->xerr_msg[0] = '\0';
    memset(&x, 0, sizeof(x));
    x.resp = resp;
    errbuf[0] = '\0';

    err = header_list(b, &hdrs);
    if (err != AIPA_OK) {
        return err;
    }
    /* Reset keeps the connection cache, so the next request reuses the connection. */
    curl_easy_reset(c->curl);
    SETOPT(CURLOPT_URL, c->origin);
    SETOPT(CURLOPT_REQUEST_TARGET, b->target.ptr);
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    SETOPT(CURLOPT_TIMEOUT_MS, c->timeout_ms);
    SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_response);
    SETOPT(CURLOPT_PROXY, c->proxy);
    SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SETOPT(CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
    if (c->ca_file != NULL) {
        SETOPT(CURLOPT_CAINFO, c->ca_file);
    }
    SETOPT(CURLOPT_HTTPHEADER, hdrs);
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, &x);
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, &x);
    SETOPT(CURLOPT_ERRORBUFFER, errbuf);

    const char *m = b->method.ptr;
    if (b->body.len > 0 || strcmp(m, "POST") == 0) {
        SETOPT(CURLOPT_POST, 1L);
        SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->body.len);
        SETOPT(CURLOPT_POSTFIELDS, b->body.ptr != NULL ? b->body.ptr : "");
        if (strcmp(m, "POST") != 0) {
            SETOPT(CURLOPT_CUSTOMREQUEST, m);
        }
    } else {
        SETOPT(CURLOPT_HTTPGET, 1L);
        if (strcmp(m, "HEAD") == 0) {
            SETOPT(CURLOPT_NOBODY, 1L);
        } else if (strcmp(m, "GET") != 0) {
            SETOPT(CURLOPT_CUSTOMREQUEST, m);
        }
    }
    if (rc != CURLE_OK) {
        resp->xerr = AIPA_XERR_USAGE;
        (void)snprintf(resp->xerr_msg, sizeof(resp->xerr_msg), "libcurl option: %s",
                       curl_easy_strerror(rc));
        goto out;
    }

    rc = curl_easy_perform(c->curl);
    long status = 0;
    if (curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK) {
        resp->status = status;
    }
    curl_off_t us = 0;
    if (curl_easy_getinfo(c->curl, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK) {
        resp->elapsed_ms = (double)us / 1000.0;
    }
    char *ct = NULL;
    if (curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL) {
        (void)snprintf(resp->content_type, sizeof(resp->content_type), "%s", ct);
    }
    if (x.oom) {
        err = AIPA_ENOMEM;
        goto out;
    }
    resp->xerr = classify(rc, &x);
    if (resp->xerr == AIPA_XERR_TOO_LARGE) {
        (void)snprintf(resp->xerr_msg, sizeof(resp->xerr_msg),
                       "response larger than %zu bytes (body) or %u bytes (headers)",
                       c->max_response, (unsigned)AIPA_CLIENT_MAX_RESP_HEADER_BYTES);
    } else if (resp->xerr != AIPA_XERR_NONE) {
        (void)snprintf(resp->xerr_msg, sizeof(resp->xerr_msg), "%s",
                       errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
    }
out:
    /* The handle must not keep pointers into b or x past this call. */
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(hdrs);
    return err;
}

aipa_err aipa_client_call(struct aipa_client *c, const struct aipa_request *req,
                          struct aipa_built *b, struct aipa_response *resp)
{
    struct aipa_built local;
    struct aipa_built *use = b;
    aipa_err err;

    if (use == NULL) {
        aipa_built_init(&local);
        use = &local;
    }
    err = aipa_client_build(c, req, use);
    if (err == AIPA_OK) {
        err = aipa_client_send(c, use, resp);
    }
    if (b == NULL) {
        aipa_built_cleanup(&local);
    }
    return err;
}

/* ---- reproduction lines ---- */

/* Appends s (n bytes) quoted for POSIX sh: '...' when printable, else bash $'...'. */
static aipa_err shell_quote(struct aipa_buf *out, const char *s, size_t n)
{
    bool printable = true;

    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7F) {
            printable = false;
            break;
        }
    }
    if (printable) {
        AIPA_TRY(aipa_buf_putc(out, '\''));
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '\'') {
                AIPA_TRY(aipa_buf_puts(out, "'\\''"));
            } else {
                AIPA_TRY(aipa_buf_putc(out, s[i]));
            }
        }
        return aipa_buf_putc(out, '\'');
    }
    AIPA_TRY(aipa_buf_puts(out, "$'"));
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\'' || ch == '\\') {
            AIPA_TRY(aipa_buf_putc(out, '\\'));
            AIPA_TRY(aipa_buf_putc(out, (char)ch));
        } else if (ch < 0x20 || ch >= 0x7F) {
            AIPA_TRY(aipa_buf_printf(out, "\\x%02x", ch));
        } else {
            AIPA_TRY(aipa_buf_putc(out, (char)ch));
        }
    }
    return aipa_buf_putc(out, '\'');
}

static aipa_err opt_q(struct aipa_buf *out, const char *opt, const char *v, size_t n)
{
    AIPA_TRY(aipa_buf_printf(out, " %s ", opt));
    return shell_quote(out, v, n);
}

static aipa_err opt_qs(struct aipa_buf *out, const char *opt, const char *v)
{
    return opt_q(out, opt, v, strlen(v));
}

aipa_err aipa_client_repro(const struct aipa_client *c, const struct aipa_request *req,
                           struct aipa_buf *out)
{
    if (c == NULL || req == NULL || out == NULL) {
        return AIPA_EINVAL;
    }
    AIPA_TRY(aipa_buf_puts(out, "aipa call"));
    AIPA_TRY(opt_qs(out, "--target", c->target));
    if (c->insecure) {
        AIPA_TRY(aipa_buf_puts(out, " --insecure"));
    }
    if (req->raw) {
        AIPA_TRY(opt_qs(out, "--raw-method", req->raw_method != NULL ? req->raw_method : "GET"));
        AIPA_TRY(opt_q(out, "--raw-target",
                       req->raw_target != NULL ? (const char *)req->raw_target : "/",
                       req->raw_target != NULL ? req->raw_target_len : 1));
        for (size_t i = 0; i < req->raw_header_count; i++) {
            AIPA_TRY(opt_qs(out, "--raw-header", req->raw_headers[i]));
        }
        if (req->raw_body_len > 0 && req->raw_body != NULL) {
            AIPA_TRY(opt_q(out, "--raw-body", (const char *)req->raw_body, req->raw_body_len));
        }
    } else {
        static const char *const sig_names[] = {"v1", "v3", "none"};
        AIPA_TRY(aipa_buf_printf(out, " --sig %s", sig_names[req->sig]));
        const char *method = req->method != NULL            ? req->method
                             : req->shape == AIPA_SHAPE_GET ? "GET"
                                                            : "POST";
        AIPA_TRY(opt_qs(out, "--method", method));
        if (req->shape == AIPA_SHAPE_POST_FORM) {
            AIPA_TRY(aipa_buf_puts(out, " --form"));
        }
        if (req->want != AIPA_WANT_DEFAULT) {
            AIPA_TRY(
                aipa_buf_printf(out, " --format %s", req->want == AIPA_WANT_JSON ? "json" : "xml"));
        }
        AIPA_TRY(opt_qs(out, "--access-key-id",
                        req->access_key_id != NULL ? req->access_key_id : c->access_key_id));
        if (req->secret != NULL) {
            AIPA_TRY(aipa_buf_puts(out, " --secret-env AIPA_OVERRIDE_SECRET"));
        }
        if (req->timestamp != NULL) {
            AIPA_TRY(opt_qs(out, "--timestamp", req->timestamp));
        }
        if (req->nonce != NULL) {
            AIPA_TRY(opt_qs(out, "--nonce", req->nonce));
        }
        if (req->sign_method != NULL) {
            AIPA_TRY(opt_qs(out, "--sign-method", req->sign_method));
        }
        for (size_t i = 0; i < req->omit_count; i++) {
            AIPA_TRY(opt_qs(out, "--omit", req->omit[i]));
        }
        struct aipa_buf h;
        aipa_buf_init(&h, CLIENT_TEXT_MAX);
        for (size_t i = 0; i < req->extra_header_count; i++) {
            aipa_buf_reset(&h);
            aipa_err e = aipa_buf_printf(&h, "%s: %s", req->extra_headers[i].name,
                                         req->extra_headers[i].value);
            if (e == AIPA_OK) {
                e = opt_q(out, "-H", h.ptr, h.len);
            }
            if (e != AIPA_OK) {
                aipa_buf_cleanup(&h);
                return e;
            }
        }
        aipa_buf_cleanup(&h);
        for (size_t i = 0; i < req->remove_header_count; i++) {
            AIPA_TRY(opt_qs(out, "--remove-header", req->remove_headers[i]));
        }
        for (size_t i = 0; req->params != NULL && i < req->params->count; i++) {
            const struct aipa_param *p = &req->params->items[i];
            struct aipa_buf kv;
            aipa_buf_init(&kv, CLIENT_TEXT_MAX);
            aipa_err e = aipa_buf_append(&kv, p->name, p->name_len);
            if (e == AIPA_OK) {
                e = aipa_buf_putc(&kv, '=');
            }
            if (e == AIPA_OK) {
                e = aipa_buf_append(&kv, p->value, p->value_len);
            }
            if (e == AIPA_OK) {
                e = aipa_buf_putc(out, ' ');
            }
            if (e == AIPA_OK) {
                e = shell_quote(out, kv.ptr, kv.len);
            }
            aipa_buf_cleanup(&kv);
            AIPA_TRY(e);
        }
    }
    if (req->tamper != NULL) {
        AIPA_TRY(aipa_buf_puts(out, "  # tampered after signing: not reproducible as is"));
    }
    return AIPA_OK;
}
