/*
 * livefuzz_req.c: the request model of `aipa fuzz` and its rendering to wire
 * bytes, signed V1 (Signature parameter) or V3 (Authorization header) by the
 * harness's one signer (aipa/request.h) for a given clock and nonce
 * (spec/wire.md §2.2, §2.3).
 */
#include "aipa/livefuzz.h"
#include "aipa/request.h"
#include "aipa/sign.h"
#include "aipa/wire.h"
#include "subst.h"

#include <stdio.h>
#include <string.h>

const char *aipa_lf_mutation_name(unsigned bit)
{
    switch (bit) {
#define AIPA_LF_M_NAME_(id, b, name)                                                               \
    case b:                                                                                        \
        return name;
        AIPA_LF_MUTATIONS(AIPA_LF_M_NAME_)
#undef AIPA_LF_M_NAME_
    default:
        return NULL;
    }
}

void aipa_lf_req_init(struct aipa_lf_req *r)
{
    memset(r, 0, sizeof(*r));
    memcpy(r->method, "GET", 4);
    r->auth = AIPA_SIG_V1;
}

static void param_free(struct aipa_lf_param *p)
{
    aipa_free(p->name);
    aipa_free(p->value);
    p->name = NULL;
    p->value = NULL;
}

void aipa_lf_req_clear(struct aipa_lf_req *r)
{
    for (size_t i = 0; i < r->count; i++) {
        param_free(&r->params[i]);
    }
    r->count = 0;
    memcpy(r->method, "GET", 4);
    r->auth = AIPA_SIG_V1;
    r->mut = 0;
    r->content_type[0] = '\0';
    r->accept[0] = '\0';
}

void aipa_lf_req_cleanup(struct aipa_lf_req *r)
{
    if (r == NULL) {
        return;
    }
    aipa_lf_req_clear(r);
    aipa_free(r->params);
    r->params = NULL;
    r->cap = 0;
}

static char *dup_bytes(const char *s, size_t n)
{
    char *p = aipa_malloc(n + 1);

    if (p == NULL) {
        return NULL;
    }
    if (n > 0) {
        memcpy(p, s, n);
    }
    p[n] = '\0';
    return p;
}

aipa_err aipa_lf_req_add(struct aipa_lf_req *r, const char *name, size_t name_len,
                         const char *value, size_t value_len, unsigned flags)
{
    if (r->count >= AIPA_LF_MAX_PARAMS || value_len > AIPA_LF_MAX_VALUE ||
        name_len > AIPA_LF_MAX_VALUE) {
        return AIPA_ETOOBIG;
    }
    if (r->count == r->cap) {
        size_t ncap = r->cap == 0 ? 16 : r->cap * 2;
        struct aipa_lf_param *np = aipa_realloc(r->params, ncap * sizeof(*np));
        if (np == NULL) {
            return AIPA_ENOMEM;
        }
        r->params = np;
        r->cap = ncap;
    }
    struct aipa_lf_param *p = &r->params[r->count];
    p->name = dup_bytes(name, name_len);
    p->value = dup_bytes(value, value_len);
    if (p->name == NULL || p->value == NULL) {
        param_free(p);
        return AIPA_ENOMEM;
    }
    p->name_len = name_len;
    p->value_len = value_len;
    p->flags = flags;
    r->count++;
    return AIPA_OK;
}

aipa_err aipa_lf_req_add_cstr(struct aipa_lf_req *r, const char *name, const char *value)
{
    return aipa_lf_req_add(r, name, strlen(name), value, strlen(value), 0);
}

static bool name_is(const struct aipa_lf_param *p, const char *name)
{
    size_t n = strlen(name);
    return p->name_len == n && memcmp(p->name, name, n) == 0;
}

aipa_err aipa_lf_req_set(struct aipa_lf_req *r, const char *name, const char *value,
                         size_t value_len)
{
    for (size_t i = 0; i < r->count; i++) {
        if (name_is(&r->params[i], name)) {
            if (value_len > AIPA_LF_MAX_VALUE) {
                return AIPA_ETOOBIG;
            }
            char *v = dup_bytes(value, value_len);
            if (v == NULL) {
                return AIPA_ENOMEM;
            }
            aipa_free(r->params[i].value);
            r->params[i].value = v;
            r->params[i].value_len = value_len;
            r->params[i].flags &= ~AIPA_LF_P_RAW;
            return AIPA_OK;
        }
    }
    return aipa_lf_req_add(r, name, strlen(name), value, value_len, 0);
}

void aipa_lf_req_remove_at(struct aipa_lf_req *r, size_t i)
{
    if (i >= r->count) {
        return;
    }
    param_free(&r->params[i]);
    memmove(&r->params[i], &r->params[i + 1], (r->count - i - 1) * sizeof(r->params[0]));
    r->count--;
}

const struct aipa_lf_param *aipa_lf_req_get(const struct aipa_lf_req *r, const char *name)
{
    for (size_t i = 0; i < r->count; i++) {
        if (name_is(&r->params[i], name)) {
            return &r->params[i];
        }
    }
    return NULL;
}

const char *aipa_lf_req_action(const struct aipa_lf_req *r)
{
    const struct aipa_lf_param *p = aipa_lf_req_get(r, "Action");
    return p != NULL ? p->value : "";
}

aipa_err aipa_lf_req_copy(struct aipa_lf_req *dst, const struct aipa_lf_req *src)
{
    aipa_lf_req_clear(dst);
    memcpy(dst->method, src->method, sizeof(dst->method));
    dst->auth = src->auth;
    dst->mut = src->mut;
    memcpy(dst->content_type, src->content_type, sizeof(dst->content_type));
    memcpy(dst->accept, src->accept, sizeof(dst->accept));
    for (size_t i = 0; i < src->count; i++) {
        const struct aipa_lf_param *p = &src->params[i];
        AIPA_TRY(aipa_lf_req_add(dst, p->name, p->name_len, p->value, p->value_len, p->flags));
    }
    return AIPA_OK;
}

/* ---- rendering ---- */

void aipa_lf_wire_init(struct aipa_lf_wire *w)
{
    memset(w, 0, sizeof(*w));
    aipa_buf_init(&w->target, AIPA_LF_MAX_WIRE);
    aipa_buf_init(&w->body, AIPA_LF_MAX_WIRE);
    aipa_buf_init(&w->headers, 64u * 1024u);
    aipa_sign_trace_init(&w->trace);
}

void aipa_lf_wire_cleanup(struct aipa_lf_wire *w)
{
    aipa_buf_cleanup(&w->target);
    aipa_buf_cleanup(&w->body);
    aipa_buf_cleanup(&w->headers);
    aipa_sign_trace_cleanup(&w->trace);
}

/* ${vmN}: ctx->ids[N]; anything else names nothing (and stays as written). */
static aipa_err resolve_vm(void *vctx, const char *expr, size_t len, struct aipa_buf *out,
                           struct aipa_buf *why)
{
    const struct aipa_lf_sign_ctx *ctx = vctx;
    size_t j = 2;
    size_t idx = 0;

    (void)why;
    if (len < 3 || expr[0] != 'v' || expr[1] != 'm') {
        return AIPA_ENOTFOUND;
    }
    while (j < len && expr[j] >= '0' && expr[j] <= '9' && idx < 100000) {
        idx = idx * 10 + (size_t)(expr[j] - '0');
        j++;
    }
    if (j != len || idx >= ctx->id_count || ctx->ids[idx] == NULL) {
        return AIPA_ENOTFOUND;
    }
    return aipa_buf_puts(out, ctx->ids[idx]);
}

/* Writes value with every ${vmN} replaced by ctx->ids[N]. */
static aipa_err substitute(const char *v, size_t n, const struct aipa_lf_sign_ctx *ctx,
                           struct aipa_buf *out)
{
    aipa_buf_reset(out);
    AIPA_TRY(aipa_buf_reserve(out, n + 1));
    return aipa_subst(v, n, AIPA_SUBST_KEEP_UNKNOWN, resolve_vm, (void *)(uintptr_t)ctx, out,
                      NULL);
}

struct render_state {
    const struct aipa_lf_sign_ctx *ctx;
    struct aipa_params decoded; /* what the server should decode: signed (V1) */
    struct aipa_params v3query; /* V3: decoded query parameters */
    struct aipa_buf tmp;
    struct aipa_buf enc;
    struct aipa_buf dec;
};

/* Appends name=value to dst (query or body) and the decoded pair to the signing lists. */
static aipa_err emit(struct render_state *st, struct aipa_buf *dst, const char *name,
                     size_t name_len, const char *value, size_t value_len, unsigned flags,
                     bool v3_query)
{
    struct aipa_buf *tmp = &st->tmp;
    struct aipa_buf *enc = &st->enc;
    struct aipa_buf *dec = &st->dec;
    char *dname = NULL;
    size_t dname_len = 0;
    aipa_err err;

    if (dst->len > 0) {
        AIPA_TRY(aipa_buf_putc(dst, '&'));
    }
    /* the name is always encoded; AIPA_LF_P_RAW is about the value */
    aipa_buf_reset(enc);
    AIPA_TRY(aipa_pct_encode((const uint8_t *)name, name_len, enc));
    AIPA_TRY(aipa_buf_append(dst, enc->ptr, enc->len));
    AIPA_TRY(aipa_buf_putc(dst, '='));
    AIPA_TRY(substitute(value, value_len, st->ctx, tmp));
    if (flags & AIPA_LF_P_RAW) {
        /*
         * Raw is about escapes ('%', '+', '&', '='): bytes that cannot stand in
         * a request line at all (space, controls, non-ASCII, '#') are still
         * encoded, so the request always reaches the target.
         */
        for (size_t i = 0; i < tmp->len; i++) {
            uint8_t c = (uint8_t)tmp->ptr[i];
            if (c <= 0x20 || c >= 0x7f || c == '#' || c == '"' || c == '\\') {
                AIPA_TRY(aipa_buf_printf(dst, "%%%02X", c));
            } else {
                AIPA_TRY(aipa_buf_putc(dst, (char)c));
            }
        }
    } else {
        aipa_buf_reset(enc);
        AIPA_TRY(aipa_pct_encode((const uint8_t *)tmp->ptr, tmp->len, enc));
        AIPA_TRY(aipa_buf_append(dst, enc->ptr, enc->len));
    }
    /* decoded copy for the signature: what a correct server decodes */
    if (flags & AIPA_LF_P_RAW) {
        dname = aipa_strndup(name, name_len);
        dname_len = name_len;
        if (dname == NULL) {
            return AIPA_ENOMEM;
        }
        aipa_buf_reset(dec);
        if (aipa_pct_decode((const uint8_t *)tmp->ptr, tmp->len, AIPA_WIRE_PLUS_IS_SPACE, dec) !=
            AIPA_OK) {
            aipa_buf_reset(dec);
            err = aipa_buf_append(dec, tmp->ptr, tmp->len);
            if (err != AIPA_OK) {
                aipa_free(dname);
                return err;
            }
        }
        err = aipa_params_add(&st->decoded, dname, dname_len, dec->ptr != NULL ? dec->ptr : "",
                              dec->len, AIPA_PARAM_BUILT);
        if (err == AIPA_OK && v3_query) {
            err = aipa_params_add(&st->v3query, dname, dname_len, dec->ptr != NULL ? dec->ptr : "",
                                  dec->len, AIPA_PARAM_BUILT);
        }
        aipa_free(dname);
        return err;
    }
    AIPA_TRY(aipa_params_add(&st->decoded, name, name_len, tmp->ptr != NULL ? tmp->ptr : "",
                             tmp->len, AIPA_PARAM_BUILT));
    if (v3_query) {
        AIPA_TRY(aipa_params_add(&st->v3query, name, name_len, tmp->ptr != NULL ? tmp->ptr : "",
                                 tmp->len, AIPA_PARAM_BUILT));
    }
    return AIPA_OK;
}

static void timestamp_for(const struct aipa_lf_req *r, const struct aipa_lf_sign_ctx *ctx,
                          char out[40])
{
    int64_t t = ctx->now;
    char iso[21];

    if (r->mut & AIPA_LF_M_STALE_TIMESTAMP) {
        t -= 3600;
    } else if (r->mut & AIPA_LF_M_FUTURE_TIMESTAMP) {
        t += 3600;
    }
    aipa_format_timestamp(t, iso);
    if (r->mut & AIPA_LF_M_BAD_TIMESTAMP) {
        /* milliseconds are not allowed (spec/wire.md §2.1) */
        snprintf(out, 40, "%.19s.000Z", iso);
    } else {
        snprintf(out, 40, "%s", iso);
    }
}

static const char *nonce_for(const struct aipa_lf_req *r, const struct aipa_lf_sign_ctx *ctx)
{
    if ((r->mut & AIPA_LF_M_REUSE_NONCE) && ctx->prev_nonce != NULL && ctx->prev_nonce[0]) {
        return ctx->prev_nonce;
    }
    return ctx->nonce;
}

static const char *key_for(const struct aipa_lf_req *r, const struct aipa_lf_sign_ctx *ctx)
{
    return (r->mut & AIPA_LF_M_UNKNOWN_KEY) ? "LTAIfuzzunknownkey" : ctx->access_key_id;
}

/* The secret to sign with: the configured one, or a wrong one for AIPA_LF_M_BAD_SIGNATURE. */
static aipa_err secret_for(const struct aipa_lf_req *r, const struct aipa_lf_sign_ctx *ctx,
                           struct aipa_buf *out)
{
    AIPA_TRY(aipa_buf_puts(out, ctx->access_key_secret));
    return aipa_buf_puts(out, (r->mut & AIPA_LF_M_BAD_SIGNATURE) ? "-wrong" : "");
}

static void wipe(struct aipa_buf *b)
{
    if (b->ptr != NULL) {
        aipa_memzero(b->ptr, b->len);
    }
    aipa_buf_cleanup(b);
}

static aipa_err header(struct aipa_buf *h, const char *name, const char *value)
{
    return aipa_buf_printf(h, "%s: %s\n", name, value);
}

/* The request target: "/" and, when there is one, "?" and the query. */
static aipa_err put_target(struct aipa_buf *target, const struct aipa_buf *query)
{
    AIPA_TRY(aipa_buf_putc(target, '/'));
    if (query->len > 0) {
        AIPA_TRY(aipa_buf_putc(target, '?'));
        AIPA_TRY(aipa_buf_append(target, query->ptr, query->len));
    }
    return AIPA_OK;
}

static aipa_err render_v1(const struct aipa_lf_req *r, struct render_state *st,
                          struct aipa_lf_wire *out)
{
    const struct aipa_lf_sign_ctx *ctx = st->ctx;
    const struct aipa_lf_param *action = aipa_lf_req_get(r, "Action");
    bool common_in_body = action != NULL && (action->flags & AIPA_LF_P_BODY);
    bool have[7] = {false};
    static const char *const names[] = {"AccessKeyId", "SignatureMethod", "SignatureVersion",
                                        "SignatureNonce", "Timestamp", "Signature",
                                        "SecurityToken"};
    char ts[40];
    const char *nonce = nonce_for(r, ctx);
    aipa_err err = AIPA_OK;
    struct aipa_buf query;
    struct aipa_buf secret;

    aipa_buf_init(&query, AIPA_LF_MAX_WIRE);
    aipa_buf_init(&secret, 64u * 1024u);
    for (size_t i = 0; i < r->count && err == AIPA_OK; i++) {
        const struct aipa_lf_param *p = &r->params[i];
        for (size_t k = 0; k < AIPA_ARRAY_LEN(names); k++) {
            if (name_is(p, names[k])) {
                have[k] = true;
            }
        }
        if (name_is(p, "Signature")) {
            continue; /* an explicit Signature is written last, after the computed one would be */
        }
        err = emit(st, (p->flags & AIPA_LF_P_BODY) ? &out->body : &query, p->name, p->name_len,
                   p->value, p->value_len, p->flags, false);
    }
    struct aipa_buf *dst = common_in_body ? &out->body : &query;
    timestamp_for(r, ctx, ts);
    if (err == AIPA_OK && !have[0] && !(r->mut & AIPA_LF_M_NO_KEY)) {
        const char *k = key_for(r, ctx);
        err = emit(st, dst, "AccessKeyId", 11, k, strlen(k), 0, false);
    }
    if (err == AIPA_OK && !have[1]) {
        const char *m = (r->mut & AIPA_LF_M_BAD_SIG_METHOD) ? "HMAC-MD5" : "HMAC-SHA1";
        err = emit(st, dst, "SignatureMethod", 15, m, strlen(m), 0, false);
    }
    if (err == AIPA_OK && !have[2]) {
        err = emit(st, dst, "SignatureVersion", 16, "1.0", 3, 0, false);
    }
    if (err == AIPA_OK && !have[3] && !(r->mut & AIPA_LF_M_NO_NONCE)) {
        err = emit(st, dst, "SignatureNonce", 14, nonce, strlen(nonce), 0, false);
        snprintf(out->nonce, sizeof(out->nonce), "%s", nonce);
    }
    if (err == AIPA_OK && !have[4] && !(r->mut & AIPA_LF_M_NO_TIMESTAMP)) {
        err = emit(st, dst, "Timestamp", 9, ts, strlen(ts), 0, false);
    }
    if (err == AIPA_OK && !have[6] && ctx->security_token != NULL) {
        err = emit(st, dst, "SecurityToken", 13, ctx->security_token,
                   strlen(ctx->security_token), 0, false);
    }
    if (err == AIPA_OK && !(r->mut & AIPA_LF_M_NO_SIGNATURE) && !have[5]) {
        err = secret_for(r, ctx, &secret);
        if (err == AIPA_OK) {
            err = aipa_req_sign_v1(r->method, &st->decoded, secret.ptr, &out->trace);
        }
        if (err == AIPA_OK) {
            const char *sig = out->trace.signature;
            err = emit(st, dst, "Signature", 9, sig, strlen(sig), 0, false);
        }
    }
    /* explicit Signature parameters from the request itself */
    for (size_t i = 0; i < r->count && err == AIPA_OK; i++) {
        const struct aipa_lf_param *p = &r->params[i];
        if (name_is(p, "Signature")) {
            err = emit(st, (p->flags & AIPA_LF_P_BODY) ? &out->body : &query, p->name, p->name_len,
                       p->value, p->value_len, p->flags, false);
        }
    }
    if (err == AIPA_OK) {
        err = put_target(&out->target, &query);
    }
    aipa_buf_cleanup(&query);
    wipe(&secret);
    return err;
}

/*
 * A value as an HTTP header carries it: control characters dropped (they
 * cannot be sent), then optional whitespace trimmed from both ends, as every
 * HTTP server does before the application sees it.
 */
static aipa_err header_value(const char *v, size_t n, struct aipa_buf *out)
{
    aipa_buf_reset(out);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            continue;
        }
        if (out->len == 0 && (c == ' ' || c == '\t')) {
            continue; /* optional whitespace before the value */
        }
        AIPA_TRY(aipa_buf_putc(out, (char)c));
    }
    while (out->len > 0 && (out->ptr[out->len - 1] == ' ' || out->ptr[out->len - 1] == '\t')) {
        out->len--;
    }
    return aipa_buf_puts(out, ""); /* NUL-terminated, also when empty */
}

static aipa_err render_v3(const struct aipa_lf_req *r, struct render_state *st,
                          struct aipa_lf_wire *out)
{
    const struct aipa_lf_sign_ctx *ctx = st->ctx;
    const struct aipa_lf_param *action = aipa_lf_req_get(r, "Action");
    const struct aipa_lf_param *version = aipa_lf_req_get(r, "Version");
    struct aipa_buf query, auth, secret, action_v, version_v;
    char ts[40];
    char sha[AIPA_SHA256_HEX_LEN + 1];
    const char *nonce = nonce_for(r, ctx);
    aipa_err err = AIPA_OK;
    struct aipa_header hs[8];
    size_t hn = 0;

    aipa_buf_init(&query, AIPA_LF_MAX_WIRE);
    aipa_buf_init(&auth, 64u * 1024u);
    aipa_buf_init(&secret, 64u * 1024u);
    aipa_buf_init(&action_v, AIPA_LF_MAX_VALUE + 1u);
    aipa_buf_init(&version_v, AIPA_LF_MAX_VALUE + 1u);
    for (size_t i = 0; i < r->count && err == AIPA_OK; i++) {
        const struct aipa_lf_param *p = &r->params[i];
        if (p == action || p == version) {
            continue; /* they travel as x-acs-action / x-acs-version */
        }
        err = emit(st, (p->flags & AIPA_LF_P_BODY) ? &out->body : &query, p->name, p->name_len,
                   p->value, p->value_len, p->flags, !(p->flags & AIPA_LF_P_BODY));
    }
    if (err == AIPA_OK && action != NULL) {
        err = header_value(action->value, action->value_len, &action_v);
    }
    if (err == AIPA_OK && version != NULL) {
        err = header_value(version->value, version->value_len, &version_v);
    }
    timestamp_for(r, ctx, ts);
    if (err == AIPA_OK) {
        if (r->mut & AIPA_LF_M_BAD_CONTENT_SHA) {
            err = aipa_sha256_hex("x", 1, sha);
        } else {
            err = aipa_sha256_hex(out->body.ptr != NULL ? out->body.ptr : "", out->body.len, sha);
        }
    }
    /* the signed headers, every one host or x-acs-*, in sorted order */
    hs[hn].name = AIPA_SLICE_STR("host");
    hs[hn++].value = aipa_slice_cstr(ctx->host);
    if (action != NULL) {
        hs[hn].name = AIPA_SLICE_STR("x-acs-action");
        hs[hn++].value = aipa_slice_cstr(action_v.ptr != NULL ? action_v.ptr : "");
    }
    hs[hn].name = AIPA_SLICE_STR("x-acs-content-sha256");
    hs[hn++].value = aipa_slice_cstr(sha);
    if (!(r->mut & AIPA_LF_M_NO_TIMESTAMP)) {
        hs[hn].name = AIPA_SLICE_STR("x-acs-date");
        hs[hn++].value = aipa_slice_cstr(ts);
    }
    if (ctx->security_token != NULL) {
        hs[hn].name = AIPA_SLICE_STR("x-acs-security-token");
        hs[hn++].value = aipa_slice_cstr(ctx->security_token);
    }
    if (!(r->mut & AIPA_LF_M_NO_NONCE)) {
        hs[hn].name = AIPA_SLICE_STR("x-acs-signature-nonce");
        hs[hn++].value = aipa_slice_cstr(nonce);
        snprintf(out->nonce, sizeof(out->nonce), "%s", nonce);
    }
    if (version != NULL) {
        hs[hn].name = AIPA_SLICE_STR("x-acs-version");
        hs[hn++].value = aipa_slice_cstr(version_v.ptr != NULL ? version_v.ptr : "");
    }
    for (size_t i = 1; i < hn && err == AIPA_OK; i++) { /* Host is written by the caller */
        err = aipa_buf_append(&out->headers, hs[i].name.ptr, hs[i].name.len);
        if (err == AIPA_OK) {
            err = aipa_buf_append(&out->headers, ": ", 2);
        }
        if (err == AIPA_OK) {
            err = aipa_buf_append(&out->headers, hs[i].value.ptr, hs[i].value.len);
        }
        if (err == AIPA_OK) {
            err = aipa_buf_putc(&out->headers, '\n');
        }
    }
    if (err == AIPA_OK && !(r->mut & AIPA_LF_M_NO_SIGNATURE)) {
        err = secret_for(r, ctx, &secret);
        if (err == AIPA_OK) {
            err = aipa_req_sign_v3(r->method, "/", &st->v3query, hs, hn, sha,
                                   (r->mut & AIPA_LF_M_NO_KEY) ? "" : key_for(r, ctx), secret.ptr,
                                   &out->trace, &auth);
        }
        if (err == AIPA_OK) {
            err = header(&out->headers, "Authorization", auth.ptr != NULL ? auth.ptr : "");
        }
    }
    if (err == AIPA_OK) {
        err = put_target(&out->target, &query);
    }
    aipa_buf_cleanup(&query);
    aipa_buf_cleanup(&auth);
    wipe(&secret);
    aipa_buf_cleanup(&action_v);
    aipa_buf_cleanup(&version_v);
    return err;
}

static aipa_err render_none(const struct aipa_lf_req *r, struct render_state *st,
                            struct aipa_lf_wire *out)
{
    struct aipa_buf query;
    aipa_err err = AIPA_OK;

    aipa_buf_init(&query, AIPA_LF_MAX_WIRE);
    for (size_t i = 0; i < r->count && err == AIPA_OK; i++) {
        const struct aipa_lf_param *p = &r->params[i];
        err = emit(st, (p->flags & AIPA_LF_P_BODY) ? &out->body : &query, p->name, p->name_len,
                   p->value, p->value_len, p->flags, false);
    }
    if (err == AIPA_OK) {
        err = put_target(&out->target, &query);
    }
    aipa_buf_cleanup(&query);
    return err;
}

aipa_err aipa_lf_render(const struct aipa_lf_req *r, const struct aipa_lf_sign_ctx *ctx,
                        struct aipa_lf_wire *out)
{
    struct render_state st;
    struct aipa_wire_limits lim = {SIZE_MAX, AIPA_LF_MAX_PARAMS + 16u, AIPA_LF_MAX_VALUE + 1u,
                                   AIPA_LF_MAX_WIRE};
    aipa_err err;
    struct aipa_buf extra;

    memset(&st, 0, sizeof(st));
    st.ctx = ctx;
    aipa_params_init(&st.decoded, &lim);
    aipa_params_init(&st.v3query, &lim);
    aipa_buf_init(&st.tmp, AIPA_LF_MAX_WIRE);
    aipa_buf_init(&st.enc, AIPA_LF_MAX_WIRE);
    aipa_buf_init(&st.dec, AIPA_LF_MAX_WIRE);
    aipa_buf_init(&extra, 64u * 1024u);
    aipa_buf_reset(&out->target);
    aipa_buf_reset(&out->body);
    aipa_buf_reset(&out->headers);
    out->nonce[0] = '\0';
    aipa_sign_trace_reset(&out->trace);
    snprintf(out->method, sizeof(out->method), "%s", r->method);

    /* Host goes first; render_v3 writes its headers after it */
    err = header(&out->headers, "Host", ctx->host);
    if (err == AIPA_OK) {
        switch (r->auth) {
        case AIPA_SIG_V1:
            err = render_v1(r, &st, out);
            break;
        case AIPA_SIG_V3:
            err = render_v3(r, &st, out);
            break;
        case AIPA_SIG_NONE:
            err = render_none(r, &st, out);
            break;
        }
    }
    if (err == AIPA_OK && (out->body.len > 0 || r->content_type[0] != '\0')) {
        err = header(&out->headers, "Content-Type",
                     r->content_type[0] ? r->content_type : "application/x-www-form-urlencoded");
    }
    if (err == AIPA_OK && r->accept[0] != '\0') {
        err = header(&out->headers, "Accept", r->accept);
    }
    aipa_params_cleanup(&st.decoded);
    aipa_params_cleanup(&st.v3query);
    aipa_buf_cleanup(&st.tmp);
    aipa_buf_cleanup(&st.enc);
    aipa_buf_cleanup(&st.dec);
    aipa_buf_cleanup(&extra);
    return err;
}

size_t aipa_lf_wire_headers(const struct aipa_lf_wire *w, struct aipa_header *out, size_t cap)
{
    size_t n = 0;
    const char *p = w->headers.ptr;
    const char *end = p != NULL ? p + w->headers.len : NULL;

    while (p != NULL && p < end && n < cap) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl != NULL ? nl : end;
        const char *colon = memchr(p, ':', (size_t)(line_end - p));
        if (colon != NULL) {
            const char *v = colon + 1;
            while (v < line_end && *v == ' ') {
                v++;
            }
            out[n].name.ptr = (const uint8_t *)p;
            out[n].name.len = (size_t)(colon - p);
            out[n].value.ptr = (const uint8_t *)v;
            out[n].value.len = (size_t)(line_end - v);
            n++;
        }
        p = nl != NULL ? nl + 1 : end;
    }
    return n;
}
