/*
 * Target: aipa_pct_encode, aipa_pct_decode, aipa_utf8_valid
 * (reference_impl/lib/src/wire.c).
 *
 * Input: byte 0 holds the decode flags (bit 0: AIPA_WIRE_PLUS_IS_SPACE), the
 * rest is the text. Oracles:
 *   - encode emits only unreserved bytes and %XX with uppercase hex, exactly
 *     one or three bytes per input byte, and decode(encode(x)) == x;
 *   - decode(x) agrees with an independent decoder on success and bytes;
 *   - decoding every prefix of x that ends inside an escape reads nothing
 *     past its end (each prefix is an exact-size heap copy, so ASan sees
 *     an over-read);
 *   - aipa_utf8_valid agrees with an independent RFC 3629 validator.
 */
#include "aipa/wire.h"
#include "fuzz_common.h"

static void check_decode(const uint8_t *s, size_t n, unsigned flags)
{
    static uint8_t small[1u << 16]; /* the reference's own, kept: no allocation per input */
    uint8_t *ref = n <= sizeof(small) ? small : malloc(n);
    struct aipa_buf out;
    size_t ref_len = 0;
    bool ref_ok;
    aipa_err err;

    FUZZ_CHECK(ref != NULL, "out of memory");
    ref_ok = ref_pct_decode(s, n, (flags & AIPA_WIRE_PLUS_IS_SPACE) != 0, ref, &ref_len);
    /* wire.h: the output needs room for n bytes, so a ceiling of n must do. */
    aipa_buf_init(&out, n);
    err = aipa_pct_decode(s, n, flags, &out);
    FUZZ_CHECK((err == AIPA_OK) == ref_ok, "decode gave %s, reference %s", aipa_errname(err),
               ref_ok ? "ok" : "malformed");
    if (err == AIPA_OK) {
        FUZZ_CHECK(out.len == ref_len, "decoded %zu bytes, reference %zu", out.len, ref_len);
        FUZZ_CHECK(ref_len == 0 || memcmp(out.ptr, ref, ref_len) == 0, "decoded bytes differ");
    } else {
        FUZZ_CHECK(err == AIPA_EPARSE, "malformed escape gave %s", aipa_errname(err));
    }
    aipa_buf_cleanup(&out);
    if (ref != small) {
        free(ref);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aipa_buf enc, dec;
    unsigned flags;
    const uint8_t *s;
    size_t n, want = 0;
    aipa_err err;

    if (size < 1) {
        return 0;
    }
    flags = data[0] & AIPA_WIRE_PLUS_IS_SPACE;
    s = data + 1;
    n = size - 1;

    /* encode */
    aipa_buf_init(&enc, AIPA_PCT_ENCODED_MAX(n));
    err = aipa_pct_encode(s, n, &enc);
    FUZZ_CHECK(err == AIPA_OK, "encode of %zu bytes failed: %s", n, aipa_errname(err));
    for (size_t i = 0; i < n; i++) {
        want += ref_unreserved(s[i]) ? 1 : 3;
    }
    FUZZ_CHECK(enc.len == want, "encoded length %zu, expected %zu", enc.len, want);
    for (size_t i = 0, j = 0; i < n; i++) {
        if (ref_unreserved(s[i])) {
            FUZZ_CHECK(enc.ptr[j] == (char)s[i], "unreserved byte 0x%02x was changed", s[i]);
            j++;
        } else {
            static const char hex[] = "0123456789ABCDEF";
            FUZZ_CHECK(enc.ptr[j] == '%' && enc.ptr[j + 1] == hex[s[i] >> 4] &&
                           enc.ptr[j + 2] == hex[s[i] & 15],
                       "byte 0x%02x not encoded as %%XX uppercase", s[i]);
            j += 3;
        }
    }

    /* decode(encode(x)) == x, with either flag (wire.h: decode needs room for its input) */
    aipa_buf_init(&dec, enc.len);
    err = aipa_pct_decode((const uint8_t *)(enc.ptr != NULL ? enc.ptr : ""), enc.len, flags, &dec);
    FUZZ_CHECK(err == AIPA_OK, "decode(encode(x)) failed: %s", aipa_errname(err));
    FUZZ_CHECK(dec.len == n && (n == 0 || memcmp(dec.ptr, s, n) == 0),
               "decode(encode(x)) != x (%zu vs %zu bytes)", dec.len, n);
    aipa_buf_cleanup(&dec);
    aipa_buf_cleanup(&enc);

    /* decode(x) against the reference, on x and on the prefixes that cut an escape */
    check_decode(s, n, flags);
    for (size_t cut = 1; cut <= 2 && cut <= n; cut++) {
        uint8_t *prefix = malloc(n - cut > 0 ? n - cut : 1);
        FUZZ_CHECK(prefix != NULL, "out of memory");
        if (n - cut > 0) {
            memcpy(prefix, s, n - cut);
        }
        check_decode(prefix, n - cut, flags);
        free(prefix);
    }

    FUZZ_CHECK(aipa_utf8_valid(s, n) == ref_utf8_valid(s, n), "UTF-8 validity differs (%s)",
               ref_utf8_valid(s, n) ? "reference: valid" : "reference: invalid");
    return 0;
}
