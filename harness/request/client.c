/*
 * client.c: the harness's request builder (aipa/client.h,
 * docs/internals/client.md): operation parameters and knobs to a signed
 * request, sent over the transport room (aipa/transport.h) and signed by the
 * one signer (aipa/request.h).
 */
#include "aipa/client.h"

#include <openssl/rand.h>
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
    struct aipa_tx *tx;
    char *target;      /* as configured */
    char *origin;      /* "scheme://host[:port]/": what libcurl connects to */
    char *path;        /* RPC pathname from the target, "/" by default */
    char *host_header; /* Host as sent and signed: host[:port] (port when not the default) */
    char *access_key_id;
    char *secret;
    size_t secret_len;
    char *version;
    char *user_agent;
    bool insecure;
};

/* ---- configuration ---- */

void aipa_client_config_defaults(struct aipa_client_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->connect_timeout_ms = AIPA_TX_DEFAULT_CONNECT_TIMEOUT_MS;
    cfg->timeout_ms = AIPA_TX_DEFAULT_TIMEOUT_MS;
    cfg->max_response = AIPA_TX_DEFAULT_MAX_RESPONSE;
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
    aipa_err err;
    struct aipa_url u;
    struct aipa_buf b;

    aipa_buf_init(&b, 4096);
    err = aipa_url_parse(c->target, &u);
    if (err != AIPA_OK) {
        goto out;
    }
    const char *scheme = u.scheme, *port = u.port;
    bool default_port = port == NULL || (strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0) ||
                        (strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0);
    err = aipa_buf_printf(&b, "%s%s%s", u.host, default_port ? "" : ":", default_port ? "" : port);
    if (err != AIPA_OK) {
        goto out;
    }
    c->host_header = aipa_buf_steal(&b, NULL);
    err = aipa_buf_printf(&b, "%s://%s%s%s/", scheme, u.host, port != NULL ? ":" : "",
                          port != NULL ? port : "");
    if (err != AIPA_OK) {
        goto out;
    }
    c->origin = aipa_buf_steal(&b, NULL);
    c->path = aipa_strdup(u.path != NULL && u.path[0] == '/' ? u.path : "/");
    err = (c->host_header != NULL && c->origin != NULL && c->path != NULL) ? AIPA_OK : AIPA_ENOMEM;
out:
    aipa_url_cleanup(&u);
    aipa_buf_cleanup(&b);
    return err;
}

aipa_err aipa_client_new(struct aipa_client **out, const struct aipa_client_config *cfg)
{
    aipa_err err = AIPA_ENOMEM;
    struct aipa_client *c = NULL;
    struct aipa_tx_config tc;
    char *origin = NULL;

    *out = NULL;
    if (cfg == NULL || cfg->target == NULL) {
        return AIPA_EINVAL;
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
    if (c->target == NULL || c->access_key_id == NULL || c->secret == NULL || c->version == NULL ||
        c->user_agent == NULL) {
        goto out;
    }
    c->secret_len = strlen(c->secret);
    c->insecure = cfg->insecure;
    err = split_target(c);
    if (err != AIPA_OK) {
        goto out;
    }
    /* the origin without its trailing '/': the transport appends the request target */
    origin = aipa_strndup(c->origin, strlen(c->origin) - 1);
    if (origin == NULL) {
        err = AIPA_ENOMEM;
        goto out;
    }
    aipa_tx_config_defaults(&tc);
    tc.origin = origin;
    tc.connect_timeout_ms = cfg->connect_timeout_ms;
    tc.timeout_ms = cfg->timeout_ms;
    tc.max_response = cfg->max_response;
    tc.insecure = cfg->insecure;
    tc.ca_file = cfg->ca_file;
    tc.proxy = cfg->proxy;
    err = aipa_tx_new(&c->tx, &tc);
out:
    aipa_free(origin);
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
    aipa_tx_free(c->tx);
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
    aipa_free(c);
}

const char *aipa_client_target(const struct aipa_client *c)
{
    return c->target;
}

struct aipa_tx *aipa_client_tx(struct aipa_client *c)
{
    return c->tx;
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
    aipa_sign_trace_init(&b->trace);
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
    aipa_sign_trace_cleanup(&b->trace);
    for (size_t i = 0; i < b->header_count; i++) {
        free_header(b, i);
    }
    b->header_count = 0;
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

/* V3: the one signer computes the trace and the Authorization header, once. */
static aipa_err sign_v3(struct aipa_client *c, const struct aipa_request *req, struct aipa_built *b,
                        const char *sign_method, const struct aipa_params *query,
                        const char *payload_hash, const char *akid, const char *secret)
{
    aipa_err err;
    struct aipa_header hdrs[AIPA_CLIENT_MAX_HEADERS];
    struct aipa_buf auth;
    bool want_auth = !omitted(req, "Authorization");

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
    err = aipa_req_sign_v3(sign_method, c->path, query, hdrs, n, payload_hash, akid, secret,
                           &b->trace, want_auth ? &auth : NULL);
    if (err == AIPA_OK && want_auth) {
        err = add_header(b, "Authorization", strlen("Authorization"), auth.ptr);
    }
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

/* What a signed request is built from, once the knobs and the client's defaults are merged. */
struct sign_in {
    const char *method;      /* on the wire */
    const char *sign_method; /* signed */
    const char *akid;
    const char *secret;
    const char *ts;
    const char *nonce;
};

/* The extra headers of req, added before signing. */
static aipa_err add_extra_headers(struct aipa_built *b, const struct aipa_request *req)
{
    for (size_t i = 0; i < req->extra_header_count; i++) {
        const struct aipa_kv *h = &req->extra_headers[i];
        AIPA_TRY(add_header(b, h->name, strlen(h->name), h->value));
    }
    return AIPA_OK;
}

/* V1 and unsigned: the common parameters, the Signature, then query or form. */
static aipa_err build_v1(struct aipa_client *c, const struct aipa_request *req,
                         struct aipa_built *b, const struct sign_in *in, struct aipa_buf *query)
{
    const char *fmt = req->want == AIPA_WANT_JSON  ? "JSON"
                      : req->want == AIPA_WANT_XML ? "XML"
                                                   : NULL;

    AIPA_TRY(add_common(&b->sent, req, "Version", c->version));
    if (fmt != NULL) {
        AIPA_TRY(add_common(&b->sent, req, "Format", fmt));
    }
    if (req->sig == AIPA_SIG_V1) {
        AIPA_TRY(add_common(&b->sent, req, "AccessKeyId", in->akid));
        AIPA_TRY(add_common(&b->sent, req, "SignatureMethod", "HMAC-SHA1"));
        AIPA_TRY(add_common(&b->sent, req, "SignatureVersion", "1.0"));
        AIPA_TRY(add_common(&b->sent, req, "SignatureNonce", in->nonce));
        AIPA_TRY(add_common(&b->sent, req, "Timestamp", in->ts));
        AIPA_TRY(aipa_req_sign_v1(in->sign_method, &b->sent, in->secret, &b->trace));
        /* A Signature the caller gave goes as given; an omitted one is left out. */
        if (!omitted(req, "Signature") && aipa_params_get(&b->sent, "Signature") == NULL) {
            AIPA_TRY(aipa_params_add_cstr(&b->sent, "Signature", b->trace.signature));
        }
    }
    AIPA_TRY(aipa_wire_build_query(&b->sent, query));
    if (req->shape == AIPA_SHAPE_POST_FORM) {
        AIPA_TRY(aipa_buf_puts(&b->target, c->path));
        AIPA_TRY(aipa_buf_append(&b->body, query->ptr != NULL ? query->ptr : "", query->len));
    } else {
        AIPA_TRY(set_target(b, c->path, query));
    }
    AIPA_TRY(add_std_header(b, req, "Host", c->host_header));
    if (req->shape == AIPA_SHAPE_POST_FORM) {
        AIPA_TRY(add_std_header(b, req, "Content-Type", "application/x-www-form-urlencoded"));
    }
    AIPA_TRY(add_std_header(b, req, "User-Agent", c->user_agent));
    return add_extra_headers(b, req);
}

/* V3: Action and Version travel as headers, the rest in the query (v3q). */
static aipa_err build_v3(struct aipa_client *c, const struct aipa_request *req,
                         struct aipa_built *b, const struct sign_in *in, struct aipa_params *v3q,
                         struct aipa_buf *query)
{
    const char *action = aipa_params_value(&b->sent, "Action");
    const char *version = aipa_params_value(&b->sent, "Version");
    char payload_hash[AIPA_SHA256_HEX_LEN + 1];

    for (size_t i = 0; i < b->sent.count; i++) {
        const struct aipa_param *p = &b->sent.items[i];
        if (strcmp(p->name, "Action") == 0 || strcmp(p->name, "Version") == 0) {
            continue;
        }
        AIPA_TRY(
            aipa_params_add(v3q, p->name, p->name_len, p->value, p->value_len, AIPA_PARAM_BUILT));
    }
    if (req->want == AIPA_WANT_XML) {
        AIPA_TRY(add_common(v3q, req, "Format", "XML"));
    }
    AIPA_TRY(aipa_sha256_hex(b->body.ptr != NULL ? b->body.ptr : "", b->body.len, payload_hash));
    AIPA_TRY(add_std_header(b, req, "host", c->host_header));
    if (action != NULL) {
        AIPA_TRY(add_std_header(b, req, "x-acs-action", action));
    }
    AIPA_TRY(add_std_header(b, req, "x-acs-version", version != NULL ? version : c->version));
    AIPA_TRY(add_std_header(b, req, "x-acs-date", in->ts));
    AIPA_TRY(add_std_header(b, req, "x-acs-signature-nonce", in->nonce));
    AIPA_TRY(add_std_header(b, req, "x-acs-content-sha256", payload_hash));
    if (req->want == AIPA_WANT_JSON) {
        AIPA_TRY(add_std_header(b, req, "Accept", "application/json"));
    }
    AIPA_TRY(add_std_header(b, req, "User-Agent", c->user_agent));
    AIPA_TRY(add_extra_headers(b, req));
    AIPA_TRY(sign_v3(c, req, b, in->sign_method, v3q, payload_hash, in->akid, in->secret));
    AIPA_TRY(aipa_wire_build_query(v3q, query));
    AIPA_TRY(set_target(b, c->path, query));
    /* What went on the wire: the query params (Action and Version went as headers). */
    aipa_params_cleanup(&b->sent);
    return aipa_params_copy(&b->sent, v3q);
}

static aipa_err build_signed(struct aipa_client *c, const struct aipa_request *req,
                             struct aipa_built *b)
{
    aipa_err err;
    struct sign_in in;
    char nonce[33];
    char now[21];
    struct aipa_buf query;
    struct aipa_params v3q;
    struct aipa_wire_limits lim = client_limits();

    if (req->params == NULL || (req->sig == AIPA_SIG_V3 && req->shape == AIPA_SHAPE_POST_FORM)) {
        return AIPA_EINVAL;
    }
    in.method = req->method != NULL ? req->method : req->shape == AIPA_SHAPE_GET ? "GET" : "POST";
    in.sign_method = req->sign_method != NULL ? req->sign_method : in.method;
    in.akid = req->access_key_id != NULL ? req->access_key_id : c->access_key_id;
    in.secret = req->secret != NULL ? req->secret : c->secret;
    in.ts = req->timestamp;
    in.nonce = req->nonce;
    if (in.ts == NULL) {
        aipa_format_timestamp((int64_t)time(NULL), now);
        in.ts = now;
    }
    if (in.nonce == NULL) {
        AIPA_TRY(aipa_client_nonce(nonce));
        in.nonce = nonce;
    }
    aipa_buf_init(&query, CLIENT_TEXT_MAX);
    aipa_params_init(&v3q, &lim);

    err = aipa_buf_puts(&b->method, in.method);
    /* Every operation parameter, in the caller's order. */
    for (size_t i = 0; i < req->params->count && err == AIPA_OK; i++) {
        const struct aipa_param *p = &req->params->items[i];
        err = aipa_params_add(&b->sent, p->name, p->name_len, p->value, p->value_len,
                              AIPA_PARAM_BUILT);
    }
    if (err == AIPA_OK) {
        err = req->sig == AIPA_SIG_V3 ? build_v3(c, req, b, &in, &v3q, &query)
                                      : build_v1(c, req, b, &in, &query);
    }
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

aipa_err aipa_client_send(struct aipa_client *c, const struct aipa_built *b,
                          struct aipa_response *resp)
{
    struct aipa_tx_header hs[AIPA_CLIENT_MAX_HEADERS];
    struct aipa_tx_msg m;

    if (c == NULL || b == NULL || resp == NULL || b->method.ptr == NULL || b->target.ptr == NULL) {
        return AIPA_EINVAL;
    }
    for (size_t i = 0; i < b->header_count; i++) {
        hs[i].name = b->headers[i].name;
        hs[i].name_len = strlen(b->headers[i].name);
        hs[i].value = b->headers[i].value;
        hs[i].value_len = b->headers[i].value != NULL ? strlen(b->headers[i].value) : 0;
    }
    memset(&m, 0, sizeof(m));
    m.method = b->method.ptr;
    m.target = b->target.ptr;
    m.headers = hs;
    m.header_count = b->header_count;
    m.body = b->body.ptr;
    m.body_len = b->body.len;
    return aipa_tx_send(c->tx, &m, resp);
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
        AIPA_TRY(aipa_buf_printf(out, " --sig %s", aipa_sig_name(req->sig)));
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
