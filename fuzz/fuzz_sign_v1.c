/*
 * Target: the V1 signature, aipa_v1_string_to_sign / _signature / _sign /
 * _verify (reference_impl/lib/src/sign.c), spec/wire.md §2.2.
 *
 * Input (struct fz): byte 0 picks the method (GET or POST) and a parameter
 * count; then the secret, then name and value strings ("\\\n"-separated,
 * see fuzz_common.h); the last two bytes pick which byte to flip.
 * Oracles:
 *   - the StringToSign equals an independent construction: parameters but
 *     Signature, stably sorted by name bytes, pct(name)=pct(value) joined by
 *     '&', then method&%2F&pct(that);
 *   - the signature equals Base64(HMAC-SHA1(secret&, sts)) computed here
 *     from RFC 2104 over OpenSSL's SHA-1 (fuzz_hmac.h);
 *   - verify(sign(x)) accepts; flipping any one byte of a parameter value,
 *     of the secret, or changing the method makes it reject.
 */
#include "aipa/sign.h"
#include "aipa/wire.h"
#include "fuzz_common.h"
#include "fuzz_hmac.h"

#include <openssl/evp.h>
#include <time.h>

#define MAX_PARAMS 24
#define MAX_TEXT   512

static void ref_encode(struct aipa_buf *out, const uint8_t *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < n; i++) {
        char e[3] = {'%', hex[s[i] >> 4], hex[s[i] & 15]};
        aipa_err err =
            ref_unreserved(s[i]) ? aipa_buf_putc(out, (char)s[i]) : aipa_buf_append(out, e, 3);
        FUZZ_CHECK(err == AIPA_OK, "reference buffer");
    }
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

/*
 * method&%2F&pct(sorted pct(name)=pct(value) joined by '&'); out and the
 * scratch are the oracle's own, kept across inputs.
 */
static void ref_sts(const char *method, const struct aipa_params *p, struct aipa_buf *out)
{
    static struct aipa_buf cq = {NULL, 0, 0, SIZE_MAX / 2};
    const struct aipa_param *order[MAX_PARAMS + 2];
    size_t n = 0;

    for (size_t i = 0; i < p->count; i++) {
        if (p->items[i].name_len == 9 && memcmp(p->items[i].name, "Signature", 9) == 0) {
            continue;
        }
        /* insertion sort: stable */
        size_t j = n;
        while (j > 0 && name_cmp(order[j - 1], &p->items[i]) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = &p->items[i];
        n++;
    }
    aipa_buf_reset(&cq);
    FUZZ_CHECK(aipa_buf_puts(&cq, "") == AIPA_OK, "reference buffer");
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            FUZZ_CHECK(aipa_buf_putc(&cq, '&') == AIPA_OK, "reference buffer");
        }
        ref_encode(&cq, (const uint8_t *)order[i]->name, order[i]->name_len);
        FUZZ_CHECK(aipa_buf_putc(&cq, '=') == AIPA_OK, "reference buffer");
        ref_encode(&cq, (const uint8_t *)order[i]->value, order[i]->value_len);
    }
    FUZZ_CHECK(aipa_buf_puts(out, method) == AIPA_OK && aipa_buf_puts(out, "&%2F&") == AIPA_OK,
               "reference buffer");
    ref_encode(out, (const uint8_t *)cq.ptr, cq.len);
}

/*
 * The first verification of an input builds its StringToSign in a buffer of
 * its own (sts NULL), exactly sized, where ASan sees any overflow; the
 * later ones (kept true) into one buffer kept across inputs.
 */
static bool verifies(const char *method, const struct aipa_params *p, const char *secret, bool kept)
{
    static struct aipa_buf sts = {NULL, 0, 0, SIZE_MAX / 2};
    bool match = true;
    aipa_err err = aipa_v1_verify(method, p, secret, kept ? &sts : NULL, &match);

    FUZZ_CHECK(err == AIPA_OK, "verify failed: %s", aipa_errname(err));
    return match;
}

/*
 * aipa_format_timestamp against gmtime_r, and back through
 * aipa_parse_timestamp, for a time taken from the input's first eight bytes
 * (as it is, which is mostly clamped, and folded into years 0000-9999 and a
 * day either side).
 */
static void check_timestamp(const uint8_t *data, size_t size)
{
    static const int64_t lo = -62167219200; /* 0000-01-01T00:00:00Z */
    static const int64_t hi = 253402300799; /* 9999-12-31T23:59:59Z */
    uint64_t u = 0;

    for (size_t i = 0; i < 8 && i < size; i++) {
        u = (u << 8) | data[i];
    }
    for (int k = 0; k < 2; k++) {
        int64_t t =
            k == 0 ? (int64_t)u : lo - 86400 + (int64_t)(u % (uint64_t)(hi - lo + 2 * 86400));
        int64_t clamped = t < lo ? lo : t > hi ? hi : t;
        time_t tt = (time_t)clamped;
        struct tm tm;
        char got[21], want[80];
        int64_t back = 0;

        memset(got, 'x', sizeof(got));
        aipa_format_timestamp(t, got);
        FUZZ_CHECK(gmtime_r(&tt, &tm) != NULL, "gmtime_r(%lld)", (long long)clamped);
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        FUZZ_CHECK(got[20] == '\0' && strcmp(got, want) == 0,
                   "format_timestamp(%lld): %.21s, want %s", (long long)t, got, want);
        FUZZ_CHECK(aipa_parse_timestamp(got, 20, &back) == AIPA_OK && back == clamped,
                   "parse_timestamp(%s) gives %lld, want %lld", got, (long long)back,
                   (long long)clamped);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aipa_wire_limits lim = aipa_wire_default_limits();
    struct fz f = {data, size};
    static struct aipa_buf want = {NULL, 0, 0, SIZE_MAX / 2}; /* the oracle's, kept */
    struct aipa_params p;
    struct aipa_buf sts;
    char secret[MAX_TEXT], name[MAX_TEXT], value[MAX_TEXT];
    char sig[AIPA_V1_SIG_LEN + 1], ref_sig[AIPA_V1_SIG_LEN + 1];
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t secret_len, name_len, value_len, nparams;
    uint8_t op = fz_u8(&f);
    const char *method = (op & 1) ? "POST" : "GET";
    aipa_err err;

    check_timestamp(data, size);
    nparams = (size_t)(op >> 1) % (MAX_PARAMS + 1);
    fz_str(&f, secret, sizeof(secret), &secret_len);
    secret_len = strlen(secret); /* the secret is a C string: it ends at a NUL */
    lim.max_params = MAX_PARAMS + 2;
    lim.max_name = MAX_TEXT;
    lim.max_value = MAX_TEXT;
    aipa_params_init(&p, &lim);
    for (size_t i = 0; i < nparams && f.n > 0; i++) {
        fz_str(&f, name, sizeof(name), &name_len);
        fz_str(&f, value, sizeof(value), &value_len);
        err = aipa_params_add(&p, name, name_len, value, value_len, AIPA_PARAM_QUERY);
        FUZZ_CHECK(err == AIPA_OK, "params_add: %s", aipa_errname(err));
    }

    /* StringToSign against the reference construction */
    aipa_buf_init(&sts, SIZE_MAX / 2);
    aipa_buf_reset(&want);
    err = aipa_v1_string_to_sign(method, &p, &sts);
    FUZZ_CHECK(err == AIPA_OK, "string_to_sign: %s", aipa_errname(err));
    ref_sts(method, &p, &want);
    FUZZ_CHECK(sts.len == want.len && memcmp(sts.ptr, want.ptr, want.len) == 0,
               "StringToSign differs:\n  got  %s\n  want %s", sts.ptr, want.ptr);

    /* the signature against HMAC-SHA1 computed here */
    err = aipa_v1_signature(secret, sts.ptr, sts.len, sig);
    FUZZ_CHECK(err == AIPA_OK, "signature: %s", aipa_errname(err));
    {
        char key[MAX_TEXT + 1];
        memcpy(key, secret, secret_len);
        key[secret_len] = '&';
        FUZZ_CHECK(fz_hmac(false, key, secret_len + 1, sts.ptr, sts.len, md) == 20,
                   "reference HMAC");
        FUZZ_CHECK(EVP_EncodeBlock((unsigned char *)ref_sig, md, 20) == AIPA_V1_SIG_LEN,
                   "reference base64");
    }
    FUZZ_CHECK(strcmp(sig, ref_sig) == 0, "signature %s, reference %s", sig, ref_sig);

    /* verify(sign(x)) accepts */
    err = aipa_v1_sign(method, &p, secret);
    FUZZ_CHECK(err == AIPA_OK, "sign: %s", aipa_errname(err));
    FUZZ_CHECK(strcmp(aipa_params_value(&p, "Signature"), sig) == 0, "sign wrote another value");
    FUZZ_CHECK(verifies(method, &p, secret, false), "verify(sign(x)) rejects");
    FUZZ_CHECK(!verifies((op & 1) ? "GET" : "POST", &p, secret, true), "the other method verifies");

    /* one flipped byte of a value rejects (the Signature value too) */
    {
        size_t total = 0, pick;
        for (size_t i = 0; i < p.count; i++) {
            total += p.items[i].value_len;
        }
        pick = total > 0 ? fz_u16(&f) % total : 0;
        for (size_t i = 0; i < p.count && total > 0; i++) {
            if (pick < p.items[i].value_len) {
                if (&p.items[i] != aipa_params_get(&p, p.items[i].name) &&
                    strcmp(p.items[i].name, "Signature") == 0) {
                    break; /* a second Signature is neither signed nor compared */
                }
                uint8_t mask = (uint8_t)(fz_u8(&f) | 1u);
                p.items[i].value[pick] = (char)(p.items[i].value[pick] ^ mask);
                FUZZ_CHECK(!verifies(method, &p, secret, true),
                           "a flipped byte of %s still verifies", p.items[i].name);
                p.items[i].value[pick] = (char)(p.items[i].value[pick] ^ mask);
                break;
            }
            pick -= p.items[i].value_len;
        }
    }
    /* one flipped byte of the secret rejects */
    if (secret_len > 0) {
        size_t at = fz_u8(&f) % secret_len;
        uint8_t mask = (uint8_t)(fz_u8(&f) | 1u);
        if (((uint8_t)secret[at] ^ mask) == 0) {
            mask ^= 0x80u; /* keep it a C string of the same length */
        }
        secret[at] = (char)(secret[at] ^ mask);
        FUZZ_CHECK(!verifies(method, &p, secret, true),
                   "a flipped byte of the secret still verifies");
    }

    aipa_buf_cleanup(&sts);
    aipa_params_cleanup(&p);
    return 0;
}
