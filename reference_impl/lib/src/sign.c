/*
 * The two request signatures of spec/wire.md §2 (see aipa/sign.h and
 * docs/internals/sign.md): V1 (RPC, HMAC-SHA1, spec/wire.md §2.2) and V3
 * (ACS3-HMAC-SHA256, spec/wire.md §2.3), plus the strict timestamp form of §2.1.
 *
 * HMAC, SHA-1, SHA-256 and base64 come from OpenSSL's libcrypto; this file
 * only builds the canonical strings around them.
 */
#include "aipa/sign.h"

#include "wire_int.h"

#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* clang-format off */
/* RFC 9110 tchar: the bytes of a header field name. */
static const uint8_t tchar[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
/* clang-format on */

/* Ceiling of the temporary strings built here (canonical forms of a request
 * that already passed the wire limits are far smaller). */
#define SIGN_SCRATCH_MAX ((size_t)1 << 28)

#define V3_ALGORITHM "ACS3-HMAC-SHA256"

static const char hex_lower[16] = "0123456789abcdef";

static void hex_encode(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex_lower[in[i] >> 4];
        out[2 * i + 1] = hex_lower[in[i] & 15u];
    }
    out[2 * n] = '\0';
}

static bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static struct aipa_slice trim_ows(struct aipa_slice s)
{
    while (s.len > 0 && is_ows(s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len > 0 && is_ows(s.ptr[s.len - 1])) {
        s.len--;
    }
    return s;
}

/* Undoes appends made to out since start (all-or-nothing outputs). */
static void buf_rewind(struct aipa_buf *out, size_t start)
{
    out->len = start;
    if (out->ptr != NULL) {
        out->ptr[start] = '\0';
    }
}

bool aipa_ct_equal(const void *a, size_t a_len, const void *b, size_t b_len)
{
    if (a_len != b_len) {
        return false;
    }
    if (a_len == 0) {
        return true;
    }
    return CRYPTO_memcmp(a, b, a_len) == 0;
}

/* Room for the sorted view of a usual request without an allocation. */
#define VIEW_SMALL 32

/*
 * A sorted, non-owning view of params without the parameter called skip
 * (NULL: keep all). The items are shallow copies, in small (VIEW_SMALL
 * items) when they fit; release with view_free(view, small).
 */
static aipa_err sorted_view(const struct aipa_params *params, const char *skip,
                            struct aipa_params *view, struct aipa_param *small)
{
    size_t skip_len = skip != NULL ? strlen(skip) : 0;

    view->items = NULL;
    view->count = 0;
    view->cap = 0;
    view->limits = params->limits;
    if (params->count == 0) {
        return AIPA_OK;
    }
    view->items =
        params->count <= VIEW_SMALL ? small : aipa_malloc(params->count * sizeof(*view->items));
    if (view->items == NULL) {
        return AIPA_ENOMEM;
    }
    view->cap = params->count;
    for (size_t i = 0; i < params->count; i++) {
        const struct aipa_param *it = &params->items[i];

        if (skip != NULL && it->name_len == skip_len && memcmp(it->name, skip, skip_len) == 0) {
            continue;
        }
        view->items[view->count++] = *it;
    }
    aipa_params_sort(view);
    return AIPA_OK;
}

static void view_free(struct aipa_params *view, const struct aipa_param *small)
{
    if (view->items != small) {
        aipa_free(view->items);
    }
    view->items = NULL;
}

/* ---- V1 ---- */

static bool unreserved(uint8_t c)
{
    return aipa__unreserved[c] != 0;
}

/* The length of pct(pct(s)): unreserved bytes stay, any other takes five. */
static size_t pct_twice_len(const uint8_t *s, size_t n)
{
    size_t need = 0;

    for (size_t i = 0; i < n; i++) {
        need += unreserved(s[i]) ? 1u : 5u;
    }
    return need;
}

/*
 * pct(pct(s)) in one pass: an unreserved byte stays, any other becomes
 * "%25" and its two hex digits (the '%' of the first encoding, encoded).
 */
static aipa_err pct_encode_twice(const uint8_t *s, size_t n, struct aipa_buf *out)
{
    static const char hex_upper[16] = "0123456789ABCDEF";
    size_t need = pct_twice_len(s, n);
    char *d;

    AIPA_TRY(aipa_buf_reserve(out, need));
    d = out->ptr + out->len;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];

        if (unreserved(c)) {
            *d++ = (char)c;
        } else {
            memcpy(d, "%25", 3);
            d[3] = hex_upper[c >> 4];
            d[4] = hex_upper[c & 15u];
            d += 5;
        }
    }
    out->len += need;
    out->ptr[out->len] = '\0';
    return AIPA_OK;
}

aipa_err aipa_v1_string_to_sign(const char *method, const struct aipa_params *params,
                                struct aipa_buf *out)
{
    aipa_err err;
    struct aipa_params view;
    struct aipa_param small[VIEW_SMALL];
    size_t start;

    if (method == NULL || method[0] == '\0' || params == NULL || out == NULL) {
        return AIPA_EINVAL;
    }
    start = out->len;
    err = sorted_view(params, "Signature", &view, small);
    /*
     * StringToSign: method "&" pct("/") "&" pct(CanonicalizedQueryString),
     * where CanonicalizedQueryString is pct(name) "=" pct(value) joined by
     * '&'. Written in one pass: each name and value encoded twice, '=' and
     * '&' once ("%3D", "%26"), into room reserved once for the whole.
     */
    if (err == AIPA_OK) {
        size_t need = strlen(method) + 5;

        for (size_t i = 0; i < view.count; i++) {
            const struct aipa_param *it = &view.items[i];

            need += (i > 0 ? 3u : 0u) + 3u +
                    pct_twice_len((const uint8_t *)it->name, it->name_len) +
                    pct_twice_len((const uint8_t *)it->value, it->value_len);
        }
        err = aipa_buf_reserve(out, need);
    }
    if (err == AIPA_OK) {
        err = aipa_buf_puts(out, method);
    }
    if (err == AIPA_OK) {
        err = aipa_buf_puts(out, "&%2F&");
    }
    for (size_t i = 0; err == AIPA_OK && i < view.count; i++) {
        const struct aipa_param *it = &view.items[i];

        if (i > 0) {
            err = aipa_buf_puts(out, "%26");
        }
        if (err == AIPA_OK) {
            err = pct_encode_twice((const uint8_t *)it->name, it->name_len, out);
        }
        if (err == AIPA_OK) {
            err = aipa_buf_puts(out, "%3D");
        }
        if (err == AIPA_OK) {
            err = pct_encode_twice((const uint8_t *)it->value, it->value_len, out);
        }
    }
    if (err != AIPA_OK) {
        buf_rewind(out, start);
    }
    view_free(&view, small);
    return err;
}

/*
 * HMAC contexts fetched once. The one-shot HMAC() fetches the MAC and the
 * digest by name on every call, which cost more than hashing a typical
 * request; here one keyless prototype per digest is set up on first use.
 * Each thread duplicates it once (EVP_MAC_CTX_dup only reads the
 * prototype, so threads may share it) and re-keys its copy for every MAC
 * (EVP_MAC_init with a key starts over): a duplicate per call allocated
 * three digest contexts each time. The prototypes live as long as the
 * process; a thread's copies are freed when it exits (for the main thread,
 * with the process). Without a copy, the one-shot HMAC() does the work.
 */
static EVP_MAC_CTX *hmac_proto[2]; /* [0] SHA-1, [1] SHA-256 */
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;
static pthread_key_t hmac_key;
static bool hmac_key_ok;
static _Thread_local EVP_MAC_CTX *hmac_mine[2];

/* At a thread's exit (its value is a marker: the contexts are in hmac_mine). */
static void hmac_thread_done(void *marker)
{
    (void)marker;
    for (size_t i = 0; i < 2; i++) {
        EVP_MAC_CTX_free(hmac_mine[i]);
        hmac_mine[i] = NULL;
    }
}

static void hmac_setup(void)
{
    static char names[2][8] = {"SHA1", "SHA256"};
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);

    for (size_t i = 0; mac != NULL && i < 2; i++) {
        OSSL_PARAM params[2];
        EVP_MAC_CTX *c = EVP_MAC_CTX_new(mac);

        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, names[i], 0);
        params[1] = OSSL_PARAM_construct_end();
        if (c != NULL && EVP_MAC_CTX_set_params(c, params) != 1) {
            EVP_MAC_CTX_free(c);
            c = NULL;
        }
        hmac_proto[i] = c;
    }
    EVP_MAC_free(mac); /* the contexts hold their own reference */
    hmac_key_ok = pthread_key_create(&hmac_key, hmac_thread_done) == 0;
}

/* This thread's context for the digest, or NULL (then the caller duplicates one). */
static EVP_MAC_CTX *hmac_thread_ctx(size_t which)
{
    if (hmac_mine[which] == NULL && hmac_key_ok && hmac_proto[which] != NULL &&
        pthread_setspecific(hmac_key, &hmac_key) == 0) {
        hmac_mine[which] = EVP_MAC_CTX_dup(hmac_proto[which]);
    }
    return hmac_mine[which];
}

/* HMAC-SHA1 (sha256 false, 20 bytes) or HMAC-SHA256 (32 bytes) of data under key. */
static bool hmac(bool sha256, const void *key, size_t key_len, const void *data, size_t len,
                 unsigned char *md, size_t md_cap, size_t *md_len)
{
    EVP_MAC_CTX *c;
    unsigned int n = 0;
    bool ok;

    (void)pthread_once(&hmac_once, hmac_setup);
    c = hmac_thread_ctx(sha256 ? 1 : 0);
    if (c != NULL) {
        return EVP_MAC_init(c, key, key_len, NULL) == 1 && EVP_MAC_update(c, data, len) == 1 &&
               EVP_MAC_final(c, md, md_len, md_cap) == 1;
    }
    /* no context (a provider without HMAC? no memory?): the one-shot call says why not */
    ok = HMAC(sha256 ? EVP_sha256() : EVP_sha1(), key, (int)key_len, data, len, md, &n) != NULL;
    *md_len = n;
    return ok;
}

aipa_err aipa_v1_signature(const char *secret, const char *sts, size_t sts_len,
                           char out[AIPA_V1_SIG_LEN + 1])
{
    aipa_err err = AIPA_ECRYPTO;
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t md_len = 0;
    size_t secret_len;
    char small[128]; /* the key of a usual secret, without an allocation */
    char *key = NULL;

    if (secret == NULL || (sts == NULL && sts_len > 0) || out == NULL) {
        return AIPA_EINVAL;
    }
    out[0] = '\0';
    secret_len = strlen(secret);
    if (secret_len >= INT_MAX) {
        return AIPA_EINVAL;
    }
    /* The key is the secret followed by '&' (spec/wire.md §2.2 step 7). */
    key = secret_len + 2 <= sizeof(small) ? small : aipa_malloc(secret_len + 2);
    if (key == NULL) {
        err = AIPA_ENOMEM;
        goto out;
    }
    memcpy(key, secret, secret_len);
    key[secret_len] = '&';
    key[secret_len + 1] = '\0';
    if (!hmac(false, key, secret_len + 1, sts ? sts : "", sts_len, md, sizeof(md), &md_len) ||
        md_len != 20) {
        goto out;
    }
    if (EVP_EncodeBlock((unsigned char *)out, md, 20) != AIPA_V1_SIG_LEN) {
        out[0] = '\0';
        goto out;
    }
    err = AIPA_OK;
out:
    if (key != NULL) {
        aipa_memzero(key, secret_len + 2);
        if (key != small) {
            aipa_free(key);
        }
    }
    aipa_memzero(md, sizeof(md));
    return err;
}

aipa_err aipa_v1_verify(const char *method, const struct aipa_params *params, const char *secret,
                        struct aipa_buf *sts, bool *match)
{
    aipa_err err;
    struct aipa_buf local;
    struct aipa_buf *b = sts;
    char expected[AIPA_V1_SIG_LEN + 1];
    const struct aipa_param *sent;

    if (match == NULL) {
        return AIPA_EINVAL;
    }
    *match = false;
    if (method == NULL || params == NULL || secret == NULL) {
        return AIPA_EINVAL;
    }
    aipa_buf_init(&local, SIGN_SCRATCH_MAX);
    if (b == NULL) {
        b = &local;
    }
    aipa_buf_reset(b);
    err = aipa_v1_string_to_sign(method, params, b);
    if (err == AIPA_OK) {
        err = aipa_v1_signature(secret, b->ptr, b->len, expected);
    }
    if (err == AIPA_OK) {
        sent = aipa_params_get(params, "Signature");
        *match =
            sent != NULL && aipa_ct_equal(sent->value, sent->value_len, expected, AIPA_V1_SIG_LEN);
    }
    aipa_buf_cleanup(&local);
    return err;
}

aipa_err aipa_v1_sign(const char *method, struct aipa_params *params, const char *secret)
{
    aipa_err err;
    struct aipa_buf sts;
    char sig[AIPA_V1_SIG_LEN + 1];

    if (method == NULL || params == NULL || secret == NULL) {
        return AIPA_EINVAL;
    }
    aipa_buf_init(&sts, SIGN_SCRATCH_MAX);
    err = aipa_v1_string_to_sign(method, params, &sts);
    if (err == AIPA_OK) {
        err = aipa_v1_signature(secret, sts.ptr, sts.len, sig);
    }
    if (err == AIPA_OK) {
        err = aipa_params_set(params, "Signature", sig);
    }
    aipa_buf_cleanup(&sts);
    return err;
}

/* ---- V3 ---- */

/* A ';'-separated list of header names: no empty element, tchar bytes only. */
static bool signed_headers_valid(struct aipa_slice s)
{
    size_t elem = 0;

    if (s.len == 0) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] == ';') {
            if (elem == 0) {
                return false;
            }
            elem = 0;
        } else if (tchar[s.ptr[i]]) {
            elem++;
        } else {
            return false;
        }
    }
    return elem > 0;
}

/* A field value of the Authorization header: visible ASCII, no ',' or '='. */
static bool auth_value_valid(struct aipa_slice s)
{
    if (s.len == 0) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];

        if (c <= 0x20 || c >= 0x7F || c == ',' || c == '=') {
            return false;
        }
    }
    return true;
}

aipa_err aipa_v3_parse_authorization(const uint8_t *s, size_t n, struct aipa_v3_auth *out)
{
    struct aipa_slice in;
    struct aipa_v3_auth a;
    size_t i = 0;
    bool have_cred = false;
    bool have_sh = false;
    bool have_sig = false;

    if (out == NULL || (s == NULL && n > 0)) {
        return AIPA_EINVAL;
    }
    memset(out, 0, sizeof(*out));
    memset(&a, 0, sizeof(a));
    in = trim_ows((struct aipa_slice){s, n});

    /* algorithm: [A-Za-z0-9-]+ then at least one space */
    while (i < in.len && (tchar[in.ptr[i]] && in.ptr[i] != ',')) {
        i++;
    }
    if (i == 0 || i == in.len || !is_ows(in.ptr[i])) {
        return AIPA_EPARSE;
    }
    a.algorithm = (struct aipa_slice){in.ptr, i};
    while (i < in.len && is_ows(in.ptr[i])) {
        i++;
    }
    /* fields: Name=value, separated by ',' with optional spaces, each once */
    for (;;) {
        size_t name_start = i;
        size_t value_start;
        struct aipa_slice name;
        struct aipa_slice value;
        struct aipa_slice *slot;
        bool *seen;

        while (i < in.len && in.ptr[i] != '=' && in.ptr[i] != ',') {
            i++;
        }
        if (i == in.len || in.ptr[i] != '=') {
            return AIPA_EPARSE;
        }
        name = (struct aipa_slice){in.ptr + name_start, i - name_start};
        i++; /* '=' */
        value_start = i;
        while (i < in.len && in.ptr[i] != ',') {
            i++;
        }
        value = trim_ows((struct aipa_slice){in.ptr + value_start, i - value_start});
        if (aipa_slice_eq(name, "Credential")) {
            slot = &a.credential;
            seen = &have_cred;
        } else if (aipa_slice_eq(name, "SignedHeaders")) {
            slot = &a.signed_headers;
            seen = &have_sh;
        } else if (aipa_slice_eq(name, "Signature")) {
            slot = &a.signature;
            seen = &have_sig;
        } else {
            return AIPA_EPARSE;
        }
        if (*seen || !auth_value_valid(value)) {
            return AIPA_EPARSE;
        }
        *seen = true;
        *slot = value;
        if (i == in.len) {
            break;
        }
        i++; /* ',' */
        while (i < in.len && is_ows(in.ptr[i])) {
            i++;
        }
        if (i == in.len) {
            return AIPA_EPARSE; /* a trailing ',' */
        }
    }
    if (!have_cred || !have_sh || !have_sig || !signed_headers_valid(a.signed_headers)) {
        return AIPA_EPARSE;
    }
    *out = a;
    return AIPA_OK;
}

static aipa_err put_lower(struct aipa_buf *out, const uint8_t *s, size_t n)
{
    size_t start = out->len;

    AIPA_TRY(aipa_buf_append(out, s, n));
    for (size_t i = start; i < out->len; i++) {
        char c = out->ptr[i];

        if (c >= 'A' && c <= 'Z') {
            out->ptr[i] = (char)(c - 'A' + 'a');
        }
    }
    return AIPA_OK;
}

static bool header_name_eq(struct aipa_slice a, const uint8_t *b, size_t n)
{
    if (a.len != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t x = a.ptr[i];
        uint8_t y = b[i];

        x = (uint8_t)((x >= 'A' && x <= 'Z') ? x + 32 : x);
        y = (uint8_t)((y >= 'A' && y <= 'Z') ? y + 32 : y);
        if (x != y) {
            return false;
        }
    }
    return true;
}

/* "name:v1,v2\n" for one signed header; AIPA_ENOTFOUND when absent. */
static aipa_err put_canonical_header(struct aipa_buf *out, const uint8_t *name, size_t n,
                                     const struct aipa_header *headers, size_t header_count)
{
    bool found = false;

    AIPA_TRY(put_lower(out, name, n));
    AIPA_TRY(aipa_buf_putc(out, ':'));
    for (size_t i = 0; i < header_count; i++) {
        struct aipa_slice v;

        if (!header_name_eq(headers[i].name, name, n)) {
            continue;
        }
        if (found) {
            AIPA_TRY(aipa_buf_putc(out, ','));
        }
        v = trim_ows(headers[i].value);
        AIPA_TRY(aipa_buf_append(out, v.ptr, v.len));
        found = true;
    }
    if (!found) {
        return AIPA_ENOTFOUND;
    }
    return aipa_buf_putc(out, '\n');
}

static aipa_err put_canonical_query(struct aipa_buf *out, const struct aipa_params *query)
{
    aipa_err err = AIPA_OK;
    struct aipa_params view;
    struct aipa_param small[VIEW_SMALL];

    if (query == NULL) {
        return AIPA_OK;
    }
    err = sorted_view(query, NULL, &view, small);
    for (size_t i = 0; err == AIPA_OK && i < view.count; i++) {
        const struct aipa_param *it = &view.items[i];

        if (i > 0) {
            err = aipa_buf_putc(out, '&');
        }
        /* Names go unencoded, as the SDK's getAuthorizationQueryString does. */
        if (err == AIPA_OK) {
            err = aipa_buf_append(out, it->name, it->name_len);
        }
        if (err == AIPA_OK) {
            err = aipa_buf_putc(out, '=');
        }
        if (err == AIPA_OK) {
            err = aipa_pct_encode((const uint8_t *)it->value, it->value_len, out);
        }
    }
    view_free(&view, small);
    return err;
}

aipa_err aipa_v3_canonical_request(const char *method, const char *uri,
                                   const struct aipa_params *query,
                                   const struct aipa_header *headers, size_t header_count,
                                   struct aipa_slice signed_headers, const char *payload_hash_hex,
                                   struct aipa_buf *out)
{
    aipa_err err = AIPA_OK;
    size_t start;
    size_t elem = 0;

    if (method == NULL || uri == NULL || out == NULL || payload_hash_hex == NULL ||
        (headers == NULL && header_count > 0) ||
        (signed_headers.ptr == NULL && signed_headers.len > 0)) {
        return AIPA_EINVAL;
    }
    if (!signed_headers_valid(signed_headers)) {
        return AIPA_EPARSE;
    }
    start = out->len;
    err = aipa_buf_printf(out, "%s\n%s\n", method, uri);
    if (err == AIPA_OK) {
        err = put_canonical_query(out, query);
    }
    if (err == AIPA_OK) {
        err = aipa_buf_putc(out, '\n');
    }
    /* CanonicalHeaders, in the order of SignedHeaders as sent. */
    for (size_t i = 0; err == AIPA_OK && i <= signed_headers.len; i++) {
        if (i < signed_headers.len && signed_headers.ptr[i] != ';') {
            elem++;
            continue;
        }
        err = put_canonical_header(out, signed_headers.ptr + i - elem, elem, headers, header_count);
        elem = 0;
    }
    if (err == AIPA_OK) {
        err = aipa_buf_putc(out, '\n');
    }
    if (err == AIPA_OK) {
        err = aipa_buf_append(out, signed_headers.ptr, signed_headers.len);
    }
    if (err == AIPA_OK) {
        err = aipa_buf_putc(out, '\n');
    }
    if (err == AIPA_OK) {
        err = aipa_buf_puts(out, payload_hash_hex);
    }
    if (err != AIPA_OK) {
        buf_rewind(out, start);
    }
    return err;
}

aipa_err aipa_sha256_hex(const void *data, size_t len, char out[AIPA_SHA256_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;

    if (out == NULL || (data == NULL && len > 0)) {
        return AIPA_EINVAL;
    }
    out[0] = '\0';
    if (EVP_Digest(data != NULL ? data : "", len, md, &md_len, EVP_sha256(), NULL) != 1 ||
        md_len != 32) {
        return AIPA_ECRYPTO;
    }
    hex_encode(md, 32, out);
    return AIPA_OK;
}

aipa_err aipa_v3_string_to_sign(const char *canonical, size_t len, struct aipa_buf *out)
{
    char hash[AIPA_SHA256_HEX_LEN + 1];
    size_t start;
    aipa_err err;

    if (out == NULL || (canonical == NULL && len > 0)) {
        return AIPA_EINVAL;
    }
    AIPA_TRY(aipa_sha256_hex(canonical, len, hash));
    start = out->len;
    err = aipa_buf_puts(out, V3_ALGORITHM "\n");
    if (err == AIPA_OK) {
        err = aipa_buf_append(out, hash, AIPA_SHA256_HEX_LEN);
    }
    if (err != AIPA_OK) {
        buf_rewind(out, start);
    }
    return err;
}

aipa_err aipa_v3_signature(const char *secret, const char *sts, size_t sts_len,
                           char out[AIPA_V3_SIG_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t md_len = 0;
    size_t secret_len;
    aipa_err err = AIPA_ECRYPTO;

    if (secret == NULL || (sts == NULL && sts_len > 0) || out == NULL) {
        return AIPA_EINVAL;
    }
    out[0] = '\0';
    secret_len = strlen(secret);
    if (secret_len >= INT_MAX) {
        return AIPA_EINVAL;
    }
    /* The key is the secret itself, no '&' (spec/wire.md §2.3). */
    if (hmac(true, secret, secret_len, sts ? sts : "", sts_len, md, sizeof(md), &md_len) &&
        md_len == 32) {
        hex_encode(md, 32, out);
        err = AIPA_OK;
    }
    aipa_memzero(md, sizeof(md));
    return err;
}

aipa_err aipa_v3_verify(const char *method, const char *uri, const struct aipa_params *query,
                        const struct aipa_header *headers, size_t header_count,
                        const struct aipa_v3_auth *auth, const char *payload_hash_hex,
                        const char *secret, struct aipa_buf *sts, bool *match)
{
    aipa_err err;
    struct aipa_buf canonical;
    struct aipa_buf local;
    struct aipa_buf *b = sts;
    char expected[AIPA_V3_SIG_LEN + 1];

    if (match == NULL) {
        return AIPA_EINVAL;
    }
    *match = false;
    if (auth == NULL || secret == NULL) {
        return AIPA_EINVAL;
    }
    aipa_buf_init(&canonical, SIGN_SCRATCH_MAX);
    aipa_buf_init(&local, SIGN_SCRATCH_MAX);
    if (b == NULL) {
        b = &local;
    }
    aipa_buf_reset(b);
    err = aipa_v3_canonical_request(method, uri, query, headers, header_count, auth->signed_headers,
                                    payload_hash_hex, &canonical);
    if (err == AIPA_OK) {
        err = aipa_v3_string_to_sign(canonical.ptr, canonical.len, b);
    }
    if (err == AIPA_OK) {
        err = aipa_v3_signature(secret, b->ptr, b->len, expected);
    }
    /* Another algorithm (ACS3-HMAC-SM3, ...) never matches this one. */
    if (err == AIPA_OK && aipa_slice_eq(auth->algorithm, V3_ALGORITHM)) {
        *match = aipa_ct_equal(auth->signature.ptr, auth->signature.len, expected, AIPA_V3_SIG_LEN);
    }
    aipa_buf_cleanup(&canonical);
    aipa_buf_cleanup(&local);
    return err;
}

aipa_err aipa_v3_authorization(const char *method, const char *uri, const struct aipa_params *query,
                               const struct aipa_header *headers, size_t header_count,
                               const char *signed_headers, const char *payload_hash_hex,
                               const char *access_key_id, const char *secret, struct aipa_buf *out)
{
    aipa_err err;
    struct aipa_buf canonical;
    struct aipa_buf sts;
    char sig[AIPA_V3_SIG_LEN + 1];

    if (signed_headers == NULL || access_key_id == NULL || secret == NULL || out == NULL) {
        return AIPA_EINVAL;
    }
    aipa_buf_init(&canonical, SIGN_SCRATCH_MAX);
    aipa_buf_init(&sts, SIGN_SCRATCH_MAX);
    err = aipa_v3_canonical_request(method, uri, query, headers, header_count,
                                    aipa_slice_cstr(signed_headers), payload_hash_hex, &canonical);
    if (err == AIPA_OK) {
        err = aipa_v3_string_to_sign(canonical.ptr, canonical.len, &sts);
    }
    if (err == AIPA_OK) {
        err = aipa_v3_signature(secret, sts.ptr, sts.len, sig);
    }
    if (err == AIPA_OK) {
        err = aipa_v3_format_authorization(access_key_id, signed_headers, sig, out);
    }
    aipa_buf_cleanup(&canonical);
    aipa_buf_cleanup(&sts);
    return err;
}

aipa_err aipa_v3_format_authorization(const char *access_key_id, const char *signed_headers,
                                      const char *signature, struct aipa_buf *out)
{
    if (access_key_id == NULL || signed_headers == NULL || signature == NULL || out == NULL) {
        return AIPA_EINVAL;
    }
    return aipa_buf_printf(out, V3_ALGORITHM " Credential=%s,SignedHeaders=%s,Signature=%s",
                           access_key_id, signed_headers, signature);
}

bool aipa_v3_must_sign(const char *name, size_t name_len)
{
    return (name_len == 4 && strncasecmp(name, "host", 4) == 0) ||
           (name_len > 6 && strncasecmp(name, "x-acs-", 6) == 0);
}

bool aipa_v3_client_signs(const char *name, size_t name_len)
{
    return aipa_v3_must_sign(name, name_len) ||
           (name_len == 12 && strncasecmp(name, "content-type", 12) == 0);
}

static int cmp_slice(const void *a, const void *b)
{
    const struct aipa_slice *x = a;
    const struct aipa_slice *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = strncasecmp((const char *)x->ptr, (const char *)y->ptr, n);

    if (c != 0) {
        return c;
    }
    return x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
}

aipa_err aipa_v3_signed_headers(const struct aipa_header *headers, size_t header_count,
                                struct aipa_buf *out)
{
    aipa_err err = AIPA_OK;
    struct aipa_slice *names = NULL;
    size_t n = 0;

    if ((headers == NULL && header_count > 0) || out == NULL) {
        return AIPA_EINVAL;
    }
    names = aipa_calloc(header_count > 0 ? header_count : 1, sizeof(*names));
    if (names == NULL) {
        return AIPA_ENOMEM;
    }
    for (size_t i = 0; i < header_count; i++) {
        if (aipa_v3_client_signs((const char *)headers[i].name.ptr, headers[i].name.len)) {
            names[n++] = headers[i].name;
        }
    }
    qsort(names, n, sizeof(names[0]), cmp_slice);
    for (size_t i = 0; i < n && err == AIPA_OK; i++) {
        if (i > 0 && cmp_slice(&names[i], &names[i - 1]) == 0) {
            continue;
        }
        if (out->len > 0) {
            err = aipa_buf_putc(out, ';');
        }
        for (size_t k = 0; k < names[i].len && err == AIPA_OK; k++) {
            char c = (char)names[i].ptr[k];
            err = aipa_buf_putc(out, (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c);
        }
    }
    if (err == AIPA_OK && out->ptr == NULL) {
        err = aipa_buf_reserve(out, 1);
        if (err == AIPA_OK) {
            out->ptr[0] = '\0';
        }
    }
    aipa_free(names);
    return err;
}

/* ---- timestamps ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
 */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    int64_t era;
    int64_t yoe;
    int64_t doy;
    int64_t doe;

    y -= m <= 2 ? 1 : 0;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    int64_t era;
    int64_t doe;
    int64_t yoe;
    int64_t doy;
    int64_t mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int64_t days_in_month(int64_t y, int64_t m)
{
    static const int64_t dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* n decimal digits at s; -1 if any is not a digit. */
static int64_t digits(const char *s, size_t n)
{
    int64_t v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

aipa_err aipa_parse_timestamp(const char *s, size_t n, int64_t *out)
{
    int64_t y;
    int64_t mo;
    int64_t d;
    int64_t h;
    int64_t mi;
    int64_t sec;

    if (out == NULL || (s == NULL && n > 0)) {
        return AIPA_EINVAL;
    }
    *out = 0;
    /* yyyy-MM-ddTHH:mm:ssZ, exactly 20 bytes */
    if (n != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[19] != 'Z') {
        return AIPA_EPARSE;
    }
    y = digits(s, 4);
    mo = digits(s + 5, 2);
    d = digits(s + 8, 2);
    h = digits(s + 11, 2);
    mi = digits(s + 14, 2);
    sec = digits(s + 17, 2);
    /* No leap second (:60): the gateway's form has none and POSIX time cannot
     * hold one. */
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
        sec > 59 || d > days_in_month(y, mo)) {
        return AIPA_EPARSE;
    }
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return AIPA_OK;
}

static void put_digits(char *out, int64_t v, size_t n)
{
    for (size_t i = n; i > 0; i--) {
        out[i - 1] = (char)('0' + (char)(v % 10));
        v /= 10;
    }
}

void aipa_format_timestamp(int64_t t, char out[21])
{
    /* Clamped to what the form can hold: years 0000 to 9999. */
    const int64_t lo = days_from_civil(0, 1, 1) * 86400;
    const int64_t hi = days_from_civil(9999, 12, 31) * 86400 + 86399;
    int64_t days;
    int64_t secs;
    int64_t y;
    int64_t m;
    int64_t d;

    if (t < lo) {
        t = lo;
    } else if (t > hi) {
        t = hi;
    }
    days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    secs = t - days * 86400;
    civil_from_days(days, &y, &m, &d);
    put_digits(out, y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = 'T';
    put_digits(out + 11, secs / 3600, 2);
    out[13] = ':';
    put_digits(out + 14, (secs / 60) % 60, 2);
    out[16] = ':';
    put_digits(out + 17, secs % 60, 2);
    out[19] = 'Z';
    out[20] = '\0';
}
