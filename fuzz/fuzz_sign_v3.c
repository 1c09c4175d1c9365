/*
 * Target: the V3 signature (ACS3-HMAC-SHA256), aipa_v3_canonical_request,
 * _string_to_sign, _signature, _authorization, _parse_authorization and
 * _verify (reference_impl/lib/src/sign.c), spec/wire.md §2.3.
 *
 * Input (struct fz): byte 0: bit 0 the method, bits 1-3 the header count,
 * bits 4-7 the query parameter count; then the strings uri, secret,
 * AccessKeyId, payload hash, the headers (name, value), the query (name,
 * value); one byte choosing which headers are signed; a raw Authorization
 * value; bytes choosing what to flip. Oracles:
 *   - canonical request: equal to an independent construction whenever no
 *     header name repeats; EPARSE exactly when a signed name is not a token;
 *   - StringToSign and signature equal SHA-256 / HMAC-SHA256 computed here;
 *   - the Authorization header built by the client side parses back to its
 *     parts, and verify accepts it; flipping one byte of a query value, of
 *     a signed header's value (unless only trimmed whitespace changes) or of
 *     the secret makes verify reject;
 *   - a raw Authorization that parses has its slices inside the input, and
 *     reformatting the parts parses to the same parts.
 */
#include "aipa/sign.h"
#include "aipa/wire.h"
#include "fuzz_common.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#define MAX_TEXT    256
#define MAX_HEADERS 7
#define MAX_QUERY   15

static bool is_tchar(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static void put(struct aipa_buf *b, const void *p, size_t n)
{
    FUZZ_CHECK(aipa_buf_append(b, p, n) == AIPA_OK, "reference buffer");
}

static void to_hex(const unsigned char *md, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[2 * n] = '\0';
}

static int name_cmp(const struct aipa_param *a, const struct aipa_param *b)
{
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int c = n > 0 ? memcmp(a->name, b->name, n) : 0;

    if (c != 0) {
        return c;
    }
    return a->name_len < b->name_len ? -1 : a->name_len > b->name_len;
}

static bool name_ieq(struct aipa_slice a, struct aipa_slice b)
{
    if (a.len != b.len) {
        return false;
    }
    for (size_t i = 0; i < a.len; i++) {
        if (tolower(a.ptr[i]) != tolower(b.ptr[i])) {
            return false;
        }
    }
    return true;
}

/* The canonical request of sign.h, for headers whose names do not repeat. */
static void ref_canonical(const char *method, const char *uri, const struct aipa_params *q,
                          const struct aipa_header *h, const size_t *signed_idx, size_t nsigned,
                          const char *sh, const char *hash, struct aipa_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    const struct aipa_param *order[MAX_QUERY];
    size_t n = 0;

    put(out, method, strlen(method));
    put(out, "\n", 1);
    put(out, uri, strlen(uri));
    put(out, "\n", 1);
    for (size_t i = 0; i < q->count; i++) {
        size_t j = n;
        while (j > 0 && name_cmp(order[j - 1], &q->items[i]) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = &q->items[i];
        n++;
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            put(out, "&", 1);
        }
        put(out, order[i]->name, order[i]->name_len);
        put(out, "=", 1);
        for (size_t k = 0; k < order[i]->value_len; k++) {
            uint8_t c = (uint8_t)order[i]->value[k];
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            put(out, ref_unreserved(c) ? (const char *)&c : e, ref_unreserved(c) ? 1 : 3);
        }
    }
    put(out, "\n", 1);
    for (size_t i = 0; i < nsigned; i++) {
        struct aipa_slice v = h[signed_idx[i]].value;
        for (size_t k = 0; k < h[signed_idx[i]].name.len; k++) {
            char c = (char)tolower(h[signed_idx[i]].name.ptr[k]);
            put(out, &c, 1);
        }
        put(out, ":", 1);
        while (v.len > 0 && is_ows(v.ptr[0])) {
            v.ptr++;
            v.len--;
        }
        while (v.len > 0 && is_ows(v.ptr[v.len - 1])) {
            v.len--;
        }
        put(out, v.ptr, v.len);
        put(out, "\n", 1);
    }
    put(out, "\n", 1);
    put(out, sh, strlen(sh));
    put(out, "\n", 1);
    put(out, hash, strlen(hash));
}

static bool verifies(const char *method, const char *uri, const struct aipa_params *q,
                     const struct aipa_header *h, size_t nh, const struct aipa_v3_auth *auth,
                     const char *hash, const char *secret)
{
    bool match = true;
    aipa_err err = aipa_v3_verify(method, uri, q, h, nh, auth, hash, secret, NULL, &match);

    FUZZ_CHECK(err == AIPA_OK, "verify failed: %s", aipa_errname(err));
    return match;
}

static bool slice_is(struct aipa_slice s, const char *c)
{
    return s.len == strlen(c) && memcmp(s.ptr, c, s.len) == 0;
}

static bool slice_within(struct aipa_slice s, const uint8_t *base, size_t n)
{
    return s.len > 0 && s.ptr >= base && s.ptr + s.len <= base + n;
}

/* A raw Authorization value: parse, check, reformat, parse again. */
static void check_raw_authorization(const uint8_t *s, size_t n)
{
    struct aipa_v3_auth a, b;
    struct aipa_buf again;

    if (aipa_v3_parse_authorization(s, n, &a) != AIPA_OK) {
        return;
    }
    FUZZ_CHECK(slice_within(a.algorithm, s, n) && slice_within(a.credential, s, n) &&
                   slice_within(a.signed_headers, s, n) && slice_within(a.signature, s, n),
               "a parsed field is empty or outside the input");
    aipa_buf_init(&again, 4 * n + 64);
    FUZZ_CHECK(aipa_buf_printf(&again, "%.*s Credential=%.*s,SignedHeaders=%.*s,Signature=%.*s",
                               (int)a.algorithm.len, (const char *)a.algorithm.ptr,
                               (int)a.credential.len, (const char *)a.credential.ptr,
                               (int)a.signed_headers.len, (const char *)a.signed_headers.ptr,
                               (int)a.signature.len, (const char *)a.signature.ptr) == AIPA_OK,
               "buffer");
    FUZZ_CHECK(aipa_v3_parse_authorization((const uint8_t *)again.ptr, again.len, &b) == AIPA_OK,
               "reformatted Authorization \"%s\" does not parse", again.ptr);
    FUZZ_CHECK(a.algorithm.len == b.algorithm.len && a.credential.len == b.credential.len &&
                   a.signed_headers.len == b.signed_headers.len &&
                   a.signature.len == b.signature.len &&
                   memcmp(a.credential.ptr, b.credential.ptr, a.credential.len) == 0 &&
                   memcmp(a.signed_headers.ptr, b.signed_headers.ptr, a.signed_headers.len) == 0 &&
                   memcmp(a.signature.ptr, b.signature.ptr, a.signature.len) == 0,
               "reformatted Authorization parses to other parts");
    aipa_buf_cleanup(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};
    struct aipa_wire_limits lim = aipa_wire_default_limits();
    static char text[4 + 2 * MAX_HEADERS + 2 * MAX_QUERY][MAX_TEXT];
    struct aipa_header h[MAX_HEADERS];
    char *hval[MAX_HEADERS]; /* h[i].value, writable */
    size_t signed_idx[MAX_HEADERS], nsigned = 0, nh, nq, len, t = 0;
    struct aipa_params q;
    struct aipa_buf cr, want, sts, auth_hdr, sh;
    struct aipa_v3_auth auth;
    char *uri, *secret, *akid, *hash;
    char sig[AIPA_V3_SIG_LEN + 1], ref_sig[AIPA_V3_SIG_LEN + 1];
    char cr_hash[AIPA_SHA256_HEX_LEN + 1];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    uint8_t op = fz_u8(&f), sel;
    const char *method = (op & 1) ? "POST" : "GET";
    bool sh_ok = true, repeats = false, split_name = false;
    aipa_err err;

    nh = (size_t)((op >> 1) & 7u);
    nq = (size_t)(op >> 4);
    uri = fz_str(&f, text[t++], MAX_TEXT, NULL);
    secret = fz_str(&f, text[t++], MAX_TEXT, NULL);
    akid = fz_str(&f, text[t++], MAX_TEXT, &len);
    for (size_t i = 0; i < len; i++) { /* a credential is a token without '=' or ',' */
        static const char alnum[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        akid[i] = alnum[(uint8_t)akid[i] % 62];
    }
    if (len == 0) {
        strcpy(akid, "testid");
    }
    hash = fz_str(&f, text[t++], MAX_TEXT, NULL);
    for (size_t i = 0; i < nh; i++) {
        size_t nl, vl;
        const char *name = fz_str(&f, text[t++], MAX_TEXT, &nl);
        char *value = fz_str(&f, text[t++], MAX_TEXT, &vl);
        hval[i] = value;
        h[i].name = (struct aipa_slice){(const uint8_t *)name, nl};
        h[i].value = (struct aipa_slice){(const uint8_t *)value, vl};
    }
    lim.max_params = MAX_QUERY;
    lim.max_name = MAX_TEXT;
    lim.max_value = MAX_TEXT;
    aipa_params_init(&q, &lim);
    for (size_t i = 0; i < nq; i++) {
        size_t nl, vl;
        const char *name = fz_str(&f, text[t++], MAX_TEXT, &nl);
        const char *value = fz_str(&f, text[t++], MAX_TEXT, &vl);
        FUZZ_CHECK(aipa_params_add(&q, name, nl, value, vl, AIPA_PARAM_QUERY) == AIPA_OK,
                   "params_add");
    }

    /* SignedHeaders: the selected headers' names, lowercased, in order */
    sel = fz_u8(&f);
    aipa_buf_init(&sh, 4096);
    FUZZ_CHECK(aipa_buf_puts(&sh, "") == AIPA_OK, "buffer");
    for (size_t i = 0; i < nh; i++) {
        for (size_t j = 0; j < i; j++) {
            repeats = repeats || name_ieq(h[i].name, h[j].name);
        }
        if (!(sel & (1u << i))) {
            continue;
        }
        if (nsigned > 0) {
            put(&sh, ";", 1);
        }
        for (size_t k = 0; k < h[i].name.len; k++) {
            char c = (char)tolower(h[i].name.ptr[k]);
            split_name = split_name || c == ';';
            put(&sh, &c, 1);
        }
        signed_idx[nsigned++] = i;
    }
    /* well-formed: non-empty ';'-separated tokens (judged on the joined list) */
    {
        size_t elem = 0;
        sh_ok = sh.len > 0;
        for (size_t k = 0; k < sh.len && sh_ok; k++) {
            if (sh.ptr[k] == ';') {
                sh_ok = elem > 0;
                elem = 0;
            } else {
                sh_ok = is_tchar((uint8_t)sh.ptr[k]);
                elem++;
            }
        }
        sh_ok = sh_ok && elem > 0;
    }

    aipa_buf_init(&cr, SIZE_MAX / 2);
    err = aipa_v3_canonical_request(
        method, uri, &q, h, nh, (struct aipa_slice){(const uint8_t *)sh.ptr, sh.len}, hash, &cr);
    if (!sh_ok) {
        FUZZ_CHECK(err == AIPA_EPARSE, "SignedHeaders \"%s\" is malformed, got %s", sh.ptr,
                   aipa_errname(err));
        goto out;
    }
    if (split_name && err == AIPA_ENOTFOUND) {
        goto out; /* a name holding ';' names other headers, which may be absent */
    }
    FUZZ_CHECK(err == AIPA_OK, "canonical request: %s (SignedHeaders \"%s\")", aipa_errname(err),
               sh.ptr);
    aipa_buf_init(&want, SIZE_MAX / 2);
    if (!repeats && !split_name) {
        ref_canonical(method, uri, &q, h, signed_idx, nsigned, sh.ptr, hash, &want);
        FUZZ_CHECK(cr.len == want.len && memcmp(cr.ptr, want.ptr, want.len) == 0,
                   "canonical request differs:\n--- got\n%s\n--- want\n%s", cr.ptr, want.ptr);
    }
    aipa_buf_cleanup(&want);

    /* StringToSign and signature against OpenSSL directly */
    SHA256((const unsigned char *)cr.ptr, cr.len, md);
    to_hex(md, 32, cr_hash);
    aipa_buf_init(&sts, SIZE_MAX / 2);
    err = aipa_v3_string_to_sign(cr.ptr, cr.len, &sts);
    FUZZ_CHECK(err == AIPA_OK, "string_to_sign: %s", aipa_errname(err));
    FUZZ_CHECK(sts.len == 17 + 64 && memcmp(sts.ptr, "ACS3-HMAC-SHA256\n", 17) == 0 &&
                   memcmp(sts.ptr + 17, cr_hash, 64) == 0,
               "StringToSign \"%s\"", sts.ptr);
    err = aipa_v3_signature(secret, sts.ptr, sts.len, sig);
    FUZZ_CHECK(err == AIPA_OK, "signature: %s", aipa_errname(err));
    FUZZ_CHECK(HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)sts.ptr,
                    sts.len, md, &md_len) != NULL &&
                   md_len == 32,
               "reference HMAC");
    to_hex(md, 32, ref_sig);
    FUZZ_CHECK(strcmp(sig, ref_sig) == 0, "signature %s, reference %s", sig, ref_sig);

    /* the client's Authorization parses back and verifies */
    aipa_buf_init(&auth_hdr, 65536);
    err = aipa_v3_authorization(method, uri, &q, h, nh, sh.ptr, hash, akid, secret, &auth_hdr);
    FUZZ_CHECK(err == AIPA_OK, "authorization: %s", aipa_errname(err));
    err = aipa_v3_parse_authorization((const uint8_t *)auth_hdr.ptr, auth_hdr.len, &auth);
    FUZZ_CHECK(err == AIPA_OK, "own Authorization \"%s\" does not parse: %s", auth_hdr.ptr,
               aipa_errname(err));
    FUZZ_CHECK(slice_is(auth.algorithm, "ACS3-HMAC-SHA256") && slice_is(auth.credential, akid) &&
                   slice_is(auth.signed_headers, sh.ptr) && slice_is(auth.signature, sig),
               "Authorization parts differ: %s", auth_hdr.ptr);
    FUZZ_CHECK(verifies(method, uri, &q, h, nh, &auth, hash, secret), "verify(sign(x)) rejects");

    /* one flipped byte of a query value */
    if (q.count > 0) {
        struct aipa_param *it = &q.items[fz_u8(&f) % q.count];
        if (it->value_len > 0) {
            size_t at = fz_u8(&f) % it->value_len;
            uint8_t mask = (uint8_t)(fz_u8(&f) | 1u);
            it->value[at] = (char)(it->value[at] ^ mask);
            FUZZ_CHECK(!verifies(method, uri, &q, h, nh, &auth, hash, secret),
                       "a flipped byte of query %s still verifies", it->name);
            it->value[at] = (char)(it->value[at] ^ mask);
        }
    }
    /* one flipped byte of a signed header's value (a name holding ';' is not itself signed) */
    if (!split_name) {
        size_t i = signed_idx[fz_u8(&f) % nsigned];
        if (h[i].value.len > 0) {
            char *v = hval[i];
            size_t at = fz_u8(&f) % h[i].value.len;
            uint8_t mask = (uint8_t)(fz_u8(&f) | 1u);
            uint8_t before = (uint8_t)v[at], after = (uint8_t)(before ^ mask);
            if (!(is_ows(before) && is_ows(after))) {
                v[at] = (char)after;
                FUZZ_CHECK(!verifies(method, uri, &q, h, nh, &auth, hash, secret),
                           "a flipped byte of header %.*s still verifies", (int)h[i].name.len,
                           (const char *)h[i].name.ptr);
                v[at] = (char)before;
            }
        }
    }
    /* one flipped byte of the secret */
    if (secret[0] != '\0') {
        size_t slen = strlen(secret), at = fz_u8(&f) % slen;
        uint8_t mask = (uint8_t)(fz_u8(&f) | 1u);
        if (((uint8_t)secret[at] ^ mask) == 0) {
            mask ^= 0x80u;
        }
        secret[at] = (char)(secret[at] ^ mask);
        FUZZ_CHECK(!verifies(method, uri, &q, h, nh, &auth, hash, secret),
                   "a flipped byte of the secret still verifies");
    }
    aipa_buf_cleanup(&auth_hdr);
    aipa_buf_cleanup(&sts);

out:
    /* whatever is left is a raw Authorization value */
    check_raw_authorization(f.p, f.n);
    aipa_buf_cleanup(&cr);
    aipa_buf_cleanup(&sh);
    aipa_params_cleanup(&q);
    return 0;
}
