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
 *   - StringToSign and signature equal SHA-256 / HMAC-SHA256 computed here
 *     (RFC 2104 over OpenSSL's SHA-256, fuzz_hmac.h);
 *   - the Authorization header built by the client side parses back to its
 *     parts, and verify accepts it; flipping one byte of a query value, of
 *     a signed header's value (unless only trimmed whitespace changes) or of
 *     the secret makes verify reject;
 *   - a raw Authorization that parses has its slices inside the input, and
 *     reformatting the parts parses to the same parts;
 *   - the client's SignedHeaders list of the headers and the must-sign
 *     rules equal a reference; format_authorization gives the header
 *     aipa_v3_authorization built.
 */
#include "aipa/sign.h"
#include "aipa/wire.h"
#include "fuzz_common.h"
#include "fuzz_hmac.h"

#include <ctype.h>

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

/*
 * The first verification of an input writes its StringToSign into a buffer
 * of its own (sts NULL), exactly sized, where ASan sees any overflow; the
 * flipped-byte ones into one buffer kept across inputs.
 */
static bool verifies_into(const char *method, const char *uri, const struct aipa_params *q,
                          const struct aipa_header *h, size_t nh, const struct aipa_v3_auth *auth,
                          const char *hash, const char *secret, bool kept)
{
    static struct aipa_buf sts = {NULL, 0, 0, SIZE_MAX / 2};
    bool match = true;
    aipa_err err =
        aipa_v3_verify(method, uri, q, h, nh, auth, hash, secret, kept ? &sts : NULL, &match);

    FUZZ_CHECK(err == AIPA_OK, "verify failed: %s", aipa_errname(err));
    return match;
}

static bool verifies(const char *method, const char *uri, const struct aipa_params *q,
                     const struct aipa_header *h, size_t nh, const struct aipa_v3_auth *auth,
                     const char *hash, const char *secret)
{
    return verifies_into(method, uri, q, h, nh, auth, hash, secret, true);
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

/* One input, read: the request's parts point into text[]. */
struct v3_input {
    char text[4 + 2 * MAX_HEADERS + 2 * MAX_QUERY][MAX_TEXT];
    const char *method;
    char *uri, *secret, *akid, *hash;
    struct aipa_header h[MAX_HEADERS];
    char *hval[MAX_HEADERS]; /* h[i].value, writable */
    size_t nh;
    struct aipa_params q;
    size_t signed_idx[MAX_HEADERS], nsigned;
    struct aipa_buf sh; /* SignedHeaders as the client sends it */
    bool sh_ok, repeats, split_name;
};

/* Reads the method, strings, headers and query of the layout at the top. */
static void read_request(struct fz *f, struct v3_input *in)
{
    struct aipa_wire_limits lim = aipa_wire_default_limits();
    uint8_t op = fz_u8(f);
    size_t len, nq = (size_t)(op >> 4), t = 0;

    in->method = (op & 1) ? "POST" : "GET";
    in->nh = (size_t)((op >> 1) & 7u);
    in->uri = fz_str(f, in->text[t++], MAX_TEXT, NULL);
    in->secret = fz_str(f, in->text[t++], MAX_TEXT, NULL);
    in->akid = fz_str(f, in->text[t++], MAX_TEXT, &len);
    for (size_t i = 0; i < len; i++) { /* a credential is a token without '=' or ',' */
        static const char alnum[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        in->akid[i] = alnum[(uint8_t)in->akid[i] % 62];
    }
    if (len == 0) {
        snprintf(in->akid, MAX_TEXT, "%s", "testid");
    }
    in->hash = fz_str(f, in->text[t++], MAX_TEXT, NULL);
    for (size_t i = 0; i < in->nh; i++) {
        size_t nl, vl;
        const char *name = fz_str(f, in->text[t++], MAX_TEXT, &nl);
        char *value = fz_str(f, in->text[t++], MAX_TEXT, &vl);
        in->hval[i] = value;
        in->h[i].name = (struct aipa_slice){(const uint8_t *)name, nl};
        in->h[i].value = (struct aipa_slice){(const uint8_t *)value, vl};
    }
    lim.max_params = MAX_QUERY;
    lim.max_name = MAX_TEXT;
    lim.max_value = MAX_TEXT;
    aipa_params_init(&in->q, &lim);
    for (size_t i = 0; i < nq; i++) {
        size_t nl, vl;
        const char *name = fz_str(f, in->text[t++], MAX_TEXT, &nl);
        const char *value = fz_str(f, in->text[t++], MAX_TEXT, &vl);
        FUZZ_CHECK(aipa_params_add(&in->q, name, nl, value, vl, AIPA_PARAM_QUERY) == AIPA_OK,
                   "params_add");
    }
}

/*
 * SignedHeaders: the headers the selector byte picks, names lowercased, in
 * order; and whether the joined list is well-formed (non-empty ';'-separated
 * tokens), whether a name repeats, and whether a name holds ';'.
 */
static void pick_signed(struct fz *f, struct v3_input *in)
{
    uint8_t sel = fz_u8(f);
    size_t elem = 0;

    aipa_buf_reset(&in->sh);
    FUZZ_CHECK(aipa_buf_puts(&in->sh, "") == AIPA_OK, "buffer");
    in->nsigned = 0;
    in->repeats = in->split_name = false;
    for (size_t i = 0; i < in->nh; i++) {
        for (size_t j = 0; j < i; j++) {
            in->repeats = in->repeats || name_ieq(in->h[i].name, in->h[j].name);
        }
        if (!(sel & (1u << i))) {
            continue;
        }
        if (in->nsigned > 0) {
            put(&in->sh, ";", 1);
        }
        for (size_t k = 0; k < in->h[i].name.len; k++) {
            char c = (char)tolower(in->h[i].name.ptr[k]);
            in->split_name = in->split_name || c == ';';
            put(&in->sh, &c, 1);
        }
        in->signed_idx[in->nsigned++] = i;
    }
    in->sh_ok = in->sh.len > 0;
    for (size_t k = 0; k < in->sh.len && in->sh_ok; k++) {
        if (in->sh.ptr[k] == ';') {
            in->sh_ok = elem > 0;
            elem = 0;
        } else {
            in->sh_ok = is_tchar((uint8_t)in->sh.ptr[k]);
            elem++;
        }
    }
    in->sh_ok = in->sh_ok && elem > 0;
}

/*
 * The canonical request into cr, against the reference construction; false
 * when there is nothing to sign (malformed or unresolvable SignedHeaders).
 */
static bool check_canonical(const struct v3_input *in, struct aipa_buf *cr)
{
    static struct aipa_buf want = {NULL, 0, 0, SIZE_MAX / 2}; /* the oracle's, kept */
    aipa_err err = aipa_v3_canonical_request(
        in->method, in->uri, &in->q, in->h, in->nh,
        (struct aipa_slice){(const uint8_t *)in->sh.ptr, in->sh.len}, in->hash, cr);

    if (!in->sh_ok) {
        FUZZ_CHECK(err == AIPA_EPARSE, "SignedHeaders \"%s\" is malformed, got %s", in->sh.ptr,
                   aipa_errname(err));
        return false;
    }
    if (in->split_name && err == AIPA_ENOTFOUND) {
        return false; /* a name holding ';' names other headers, which may be absent */
    }
    FUZZ_CHECK(err == AIPA_OK, "canonical request: %s (SignedHeaders \"%s\")", aipa_errname(err),
               in->sh.ptr);
    if (!in->repeats && !in->split_name) {
        aipa_buf_reset(&want);
        ref_canonical(in->method, in->uri, &in->q, in->h, in->signed_idx, in->nsigned, in->sh.ptr,
                      in->hash, &want);
        FUZZ_CHECK(cr->len == want.len && memcmp(cr->ptr, want.ptr, want.len) == 0,
                   "canonical request differs:\n--- got\n%s\n--- want\n%s", cr->ptr, want.ptr);
    }
    return true;
}

/* StringToSign and signature of cr against the reference digests; the signature into sig. */
static void check_signature(const struct v3_input *in, const struct aipa_buf *cr,
                            char sig[AIPA_V3_SIG_LEN + 1])
{
    char cr_hash[AIPA_SHA256_HEX_LEN + 1], ref_sig[AIPA_V3_SIG_LEN + 1];
    unsigned char md[EVP_MAX_MD_SIZE];
    struct aipa_buf sts;
    aipa_err err;

    FUZZ_CHECK(fz_digest2(true, cr->ptr, cr->len, "", 0, md) == 32, "reference SHA-256");
    to_hex(md, 32, cr_hash);
    aipa_buf_init(&sts, SIZE_MAX / 2);
    err = aipa_v3_string_to_sign(cr->ptr, cr->len, &sts);
    FUZZ_CHECK(err == AIPA_OK, "string_to_sign: %s", aipa_errname(err));
    FUZZ_CHECK(sts.len == 17 + 64 && memcmp(sts.ptr, "ACS3-HMAC-SHA256\n", 17) == 0 &&
                   memcmp(sts.ptr + 17, cr_hash, 64) == 0,
               "StringToSign \"%s\"", sts.ptr);
    err = aipa_v3_signature(in->secret, sts.ptr, sts.len, sig);
    FUZZ_CHECK(err == AIPA_OK, "signature: %s", aipa_errname(err));
    FUZZ_CHECK(fz_hmac(true, in->secret, strlen(in->secret), sts.ptr, sts.len, md) == 32,
               "reference HMAC");
    to_hex(md, 32, ref_sig);
    FUZZ_CHECK(strcmp(sig, ref_sig) == 0, "signature %s, reference %s", sig, ref_sig);
    aipa_buf_cleanup(&sts);
}

/* host, x-acs-* (more than the prefix) and, for a client, content-type; any case */
static bool ref_signs(struct aipa_slice n, bool client)
{
    static const char acs[] = "x-acs-";
    bool acs_name = n.len > 6;

    for (size_t i = 0; i < 6 && acs_name; i++) {
        acs_name = tolower(n.ptr[i]) == acs[i];
    }
    return acs_name ||
           (n.len == 4 && name_ieq(n, (struct aipa_slice){(const uint8_t *)"host", 4})) ||
           (client && n.len == 12 &&
            name_ieq(n, (struct aipa_slice){(const uint8_t *)"content-type", 12}));
}

/* Lowercase byte order, a proper prefix first (names hold no NUL here). */
static int ref_name_order(const void *a, const void *b)
{
    const struct aipa_slice *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;

    for (size_t i = 0; i < n; i++) {
        int d = tolower(x->ptr[i]) - tolower(y->ptr[i]);
        if (d != 0) {
            return d;
        }
    }
    return x->len < y->len ? -1 : x->len > y->len;
}

/*
 * The client's SignedHeaders list of the input's headers, and the must-sign
 * rules, against a reference: the names the rules pick, lowercased, sorted,
 * each once, ';'-joined. Headers whose names hold a NUL are left out of the
 * list comparison (the library compares names as C strings).
 */
static void check_signed_headers_list(const struct v3_input *in)
{
    static struct aipa_buf want = {NULL, 0, 0, SIZE_MAX / 2}; /* the oracle's, kept */
    struct aipa_slice names[MAX_HEADERS];
    struct aipa_buf got;
    size_t n = 0;
    bool nul = false;

    for (size_t i = 0; i < in->nh; i++) {
        struct aipa_slice nm = in->h[i].name;
        FUZZ_CHECK(aipa_v3_must_sign((const char *)nm.ptr, nm.len) == ref_signs(nm, false) &&
                       aipa_v3_client_signs((const char *)nm.ptr, nm.len) == ref_signs(nm, true),
                   "must_sign/client_signs of \"%.*s\"", (int)nm.len, (const char *)nm.ptr);
        nul = nul || memchr(nm.ptr, 0, nm.len) != NULL;
        if (ref_signs(nm, true)) {
            names[n++] = nm;
        }
    }
    aipa_buf_init(&got, 1u << 16);
    FUZZ_CHECK(aipa_v3_signed_headers(in->h, in->nh, &got) == AIPA_OK, "signed_headers");
    if (!nul) {
        qsort(names, n, sizeof(names[0]), ref_name_order);
        aipa_buf_reset(&want);
        FUZZ_CHECK(aipa_buf_puts(&want, "") == AIPA_OK, "buffer");
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && ref_name_order(&names[i], &names[i - 1]) == 0) {
                continue;
            }
            if (want.len > 0) {
                put(&want, ";", 1);
            }
            for (size_t k = 0; k < names[i].len; k++) {
                char c = (char)tolower(names[i].ptr[k]);
                put(&want, &c, 1);
            }
        }
        FUZZ_CHECK(got.ptr != NULL && strcmp(got.ptr, want.ptr) == 0,
                   "SignedHeaders \"%s\", reference \"%s\"", got.ptr ? got.ptr : "(none)",
                   want.ptr);
    }
    aipa_buf_cleanup(&got);
}

/* The client's Authorization parses back to its parts and verifies; into auth. */
static void check_authorization(const struct v3_input *in, const char *sig,
                                struct aipa_buf *auth_hdr, struct aipa_v3_auth *auth)
{
    aipa_err err = aipa_v3_authorization(in->method, in->uri, &in->q, in->h, in->nh, in->sh.ptr,
                                         in->hash, in->akid, in->secret, auth_hdr);

    FUZZ_CHECK(err == AIPA_OK, "authorization: %s", aipa_errname(err));
    {
        struct aipa_buf again;
        aipa_buf_init(&again, 65536);
        FUZZ_CHECK(aipa_v3_format_authorization(in->akid, in->sh.ptr, sig, &again) == AIPA_OK &&
                       again.len == auth_hdr->len &&
                       memcmp(again.ptr, auth_hdr->ptr, again.len) == 0,
                   "format_authorization differs from authorization: %s", auth_hdr->ptr);
        aipa_buf_cleanup(&again);
    }
    err = aipa_v3_parse_authorization((const uint8_t *)auth_hdr->ptr, auth_hdr->len, auth);
    FUZZ_CHECK(err == AIPA_OK, "own Authorization \"%s\" does not parse: %s", auth_hdr->ptr,
               aipa_errname(err));
    FUZZ_CHECK(slice_is(auth->algorithm, "ACS3-HMAC-SHA256") &&
                   slice_is(auth->credential, in->akid) &&
                   slice_is(auth->signed_headers, in->sh.ptr) && slice_is(auth->signature, sig),
               "Authorization parts differ: %s", auth_hdr->ptr);
    FUZZ_CHECK(verifies_into(in->method, in->uri, &in->q, in->h, in->nh, auth, in->hash, in->secret,
                             false),
               "verify(sign(x)) rejects");
}

/* One flipped byte of a query value, of a signed header's value, of the secret: each rejects. */
static void check_flips(struct fz *f, struct v3_input *in, const struct aipa_v3_auth *auth)
{
    if (in->q.count > 0) {
        struct aipa_param *it = &in->q.items[fz_u8(f) % in->q.count];
        if (it->value_len > 0) {
            size_t at = fz_u8(f) % it->value_len;
            uint8_t mask = (uint8_t)(fz_u8(f) | 1u);
            it->value[at] = (char)(it->value[at] ^ mask);
            FUZZ_CHECK(
                !verifies(in->method, in->uri, &in->q, in->h, in->nh, auth, in->hash, in->secret),
                "a flipped byte of query %s still verifies", it->name);
            it->value[at] = (char)(it->value[at] ^ mask);
        }
    }
    /* (a name holding ';' is not itself signed) */
    if (!in->split_name) {
        size_t i = in->signed_idx[fz_u8(f) % in->nsigned];
        if (in->h[i].value.len > 0) {
            char *v = in->hval[i];
            size_t at = fz_u8(f) % in->h[i].value.len;
            uint8_t mask = (uint8_t)(fz_u8(f) | 1u);
            uint8_t before = (uint8_t)v[at], after = (uint8_t)(before ^ mask);
            if (!(is_ows(before) && is_ows(after))) {
                v[at] = (char)after;
                FUZZ_CHECK(!verifies(in->method, in->uri, &in->q, in->h, in->nh, auth, in->hash,
                                     in->secret),
                           "a flipped byte of header %.*s still verifies", (int)in->h[i].name.len,
                           (const char *)in->h[i].name.ptr);
                v[at] = (char)before;
            }
        }
    }
    if (in->secret[0] != '\0') {
        size_t slen = strlen(in->secret), at = fz_u8(f) % slen;
        uint8_t mask = (uint8_t)(fz_u8(f) | 1u);
        if (((uint8_t)in->secret[at] ^ mask) == 0) {
            mask ^= 0x80u;
        }
        in->secret[at] = (char)(in->secret[at] ^ mask);
        FUZZ_CHECK(
            !verifies(in->method, in->uri, &in->q, in->h, in->nh, auth, in->hash, in->secret),
            "a flipped byte of the secret still verifies");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct v3_input in = {.sh = {NULL, 0, 0, 4096}}; /* large: not on the stack */
    struct fz f = {data, size};
    struct aipa_buf cr, auth_hdr;
    struct aipa_v3_auth auth;
    char sig[AIPA_V3_SIG_LEN + 1];

    read_request(&f, &in);
    check_signed_headers_list(&in);
    pick_signed(&f, &in);
    aipa_buf_init(&cr, SIZE_MAX / 2);
    if (check_canonical(&in, &cr)) {
        check_signature(&in, &cr, sig);
        aipa_buf_init(&auth_hdr, 65536);
        check_authorization(&in, sig, &auth_hdr, &auth);
        check_flips(&f, &in, &auth);
        aipa_buf_cleanup(&auth_hdr);
    }
    /* whatever is left is a raw Authorization value */
    check_raw_authorization(f.p, f.n);
    aipa_buf_cleanup(&cr);
    aipa_params_cleanup(&in.q);
    return 0;
}
