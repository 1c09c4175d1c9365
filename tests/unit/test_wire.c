/*
 * Unit tests of the wire codec (reference_impl/lib/src/wire.c): percent codec,
 * UTF-8, the parameter list, and the query/form parser with every limit and
 * malformed class of aipa/wire.h. Parser inputs also run at the very end of a
 * mapped page followed by a PROT_NONE page, so any over-read faults.
 */

/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
// clang-format off
#include <cmocka.h>
// clang-format on
#include "aipa/common.h"
#include "aipa/errors.h"
#include "aipa/wire.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLUS AIPA_WIRE_PLUS_IS_SPACE

/* ---- helpers ---- */

static aipa_err parse_str(const char *s, unsigned flags, struct aipa_params *p,
                          struct aipa_wire_result *res)
{
    return aipa_wire_parse((const uint8_t *)s, strlen(s), flags, AIPA_PARAM_QUERY, p, res);
}

/* Parses s with default limits and expects failure err with the given detail.
 */
static void expect_reject(const char *s, unsigned flags, aipa_err err, const char *detail)
{
    struct aipa_params p;
    struct aipa_wire_result res;

    aipa_params_init(&p, NULL);
    assert_int_equal(parse_str(s, flags, &p, &res), err);
    assert_int_equal(res.code, AIPA_C_INVALID_PARAMETER);
    if (detail != NULL) {
        assert_string_equal(res.detail, detail);
    }
    assert_int_equal(p.count, 0);
    aipa_params_cleanup(&p);
}

static void expect_param(const struct aipa_params *p, size_t i, const char *name, const char *value)
{
    assert_true(i < p->count);
    assert_string_equal(p->items[i].name, name);
    assert_int_equal(p->items[i].name_len, strlen(name));
    assert_string_equal(p->items[i].value, value);
    assert_int_equal(p->items[i].value_len, strlen(value));
}

/* ---- percent codec ---- */

static void encode_matches_alibaba_set(void **state)
{
    struct aipa_buf b;

    (void)state;
    aipa_buf_init(&b, 1024);
    for (unsigned c = 0; c < 256; c++) {
        uint8_t byte = (uint8_t)c;
        bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '~';
        char want[4];

        aipa_buf_reset(&b);
        assert_int_equal(aipa_pct_encode(&byte, 1, &b), AIPA_OK);
        if (keep) {
            want[0] = (char)c;
            want[1] = '\0';
        } else {
            (void)snprintf(want, sizeof(want), "%%%02X", c);
        }
        assert_string_equal(b.ptr, want);
    }
    /* The documented spot checks of spec/wire.md §2.2 step 4. */
    aipa_buf_reset(&b);
    assert_int_equal(aipa_pct_encode((const uint8_t *)"a b*c~d!'()+/\xc3\xa9", 15, &b), AIPA_OK);
    assert_string_equal(b.ptr, "a%20b%2Ac~d%21%27%28%29%2B%2F%C3%A9");
    aipa_buf_cleanup(&b);
}

static void encode_decode_round_trip_all_bytes(void **state)
{
    uint8_t all[256];
    struct aipa_buf enc;
    struct aipa_buf dec;

    (void)state;
    for (unsigned i = 0; i < 256; i++) {
        all[i] = (uint8_t)i;
    }
    aipa_buf_init(&enc, 4096);
    aipa_buf_init(&dec, 4096);
    assert_int_equal(aipa_pct_encode(all, sizeof(all), &enc), AIPA_OK);
    assert_int_equal(enc.len, 66 + 190 * 3); /* 66 unreserved bytes stay, 190 become %XX */
    /* Encoding never emits '+', so the flag does not change the result. */
    assert_null(memchr(enc.ptr, '+', enc.len));
    for (unsigned flags = 0; flags <= PLUS; flags++) {
        aipa_buf_reset(&dec);
        assert_int_equal(aipa_pct_decode((const uint8_t *)enc.ptr, enc.len, flags, &dec), AIPA_OK);
        assert_int_equal(dec.len, sizeof(all));
        assert_memory_equal(dec.ptr, all, sizeof(all));
    }
    /* Each byte alone too, and decoding accepts lowercase hex. */
    for (unsigned i = 0; i < 256; i++) {
        char lower[4];

        (void)snprintf(lower, sizeof(lower), "%%%02x", i);
        aipa_buf_reset(&dec);
        assert_int_equal(aipa_pct_decode((const uint8_t *)lower, 3, 0, &dec), AIPA_OK);
        assert_int_equal(dec.len, 1);
        assert_int_equal((uint8_t)dec.ptr[0], i);
    }
    aipa_buf_cleanup(&enc);
    aipa_buf_cleanup(&dec);
}

static void decode_plus_and_malformed_escapes(void **state)
{
    static const char *const bad[] = {"%",  "%4",  "%zz",  "%%",   "%g0", "%0g",
                                      "a%", "a%4", "%%41", "ok%2", "%-1", "% 1"};
    struct aipa_buf b;

    (void)state;
    aipa_buf_init(&b, 1024);
    assert_int_equal(aipa_pct_decode((const uint8_t *)"a+b%2B", 6, PLUS, &b), AIPA_OK);
    assert_string_equal(b.ptr, "a b+");
    aipa_buf_reset(&b);
    assert_int_equal(aipa_pct_decode((const uint8_t *)"a+b%2B", 6, 0, &b), AIPA_OK);
    assert_string_equal(b.ptr, "a+b+");
    for (size_t i = 0; i < AIPA_ARRAY_LEN(bad); i++) {
        aipa_buf_reset(&b);
        assert_int_equal(aipa_buf_puts(&b, "keep"), AIPA_OK);
        assert_int_equal(aipa_pct_decode((const uint8_t *)bad[i], strlen(bad[i]), PLUS, &b),
                         AIPA_EPARSE);
        /* A failed decode leaves what was there. */
        assert_int_equal(b.len, 4);
        assert_string_equal(b.ptr, "keep");
    }
    /* The buffer ceiling is honoured. */
    aipa_buf_cleanup(&b);
    aipa_buf_init(&b, 2);
    assert_int_equal(aipa_pct_decode((const uint8_t *)"abc", 3, 0, &b), AIPA_ETOOBIG);
    assert_int_equal(aipa_pct_encode((const uint8_t *)" ", 1, &b), AIPA_ETOOBIG);
    aipa_buf_cleanup(&b);
}

/* ---- UTF-8 ---- */

struct utf8_case {
    const char *bytes;
    size_t len;
    bool valid;
};

#define U8(s, v)                                                                                   \
    {                                                                                              \
        s, sizeof(s) - 1, v                                                                        \
    }

static void utf8_table(void **state)
{
    static const struct utf8_case cases[] = {
        U8("", true),
        U8("plain ASCII ~", true),
        U8("\x00", true), /* NUL is valid UTF-8; the parser rejects it separately */
        U8("\xc3\xa9", true),
        U8("\xc2\x80", true),                  /* U+0080, smallest 2-byte */
        U8("\xdf\xbf", true),                  /* U+07FF */
        U8("\xe0\xa0\x80", true),              /* U+0800, smallest 3-byte */
        U8("\xed\x9f\xbf", true),              /* U+D7FF, just below the surrogates */
        U8("\xee\x80\x80", true),              /* U+E000, just above */
        U8("\xef\xbf\xbf", true),              /* U+FFFF */
        U8("\xf0\x90\x80\x80", true),          /* U+10000, smallest 4-byte */
        U8("\xf4\x8f\xbf\xbf", true),          /* U+10FFFF, the largest */
        U8("\xc0\x80", false),                 /* overlong NUL */
        U8("\xc0\xaf", false),                 /* overlong '/' */
        U8("\xc1\xbf", false),                 /* overlong U+007F */
        U8("\xe0\x80\x80", false),             /* overlong 3-byte */
        U8("\xe0\x9f\xbf", false),             /* overlong U+07FF */
        U8("\xf0\x8f\xbf\xbf", false),         /* overlong U+FFFF */
        U8("\xed\xa0\x80", false),             /* U+D800, high surrogate */
        U8("\xed\xbf\xbf", false),             /* U+DFFF, low surrogate */
        U8("\xed\xa0\xbd\xed\xb8\x80", false), /* CESU-8 surrogate pair */
        U8("\xf4\x90\x80\x80", false),         /* U+110000 */
        U8("\xf5\x80\x80\x80", false),
        U8("\xf8\x88\x80\x80\x80", false), /* 5-byte form */
        U8("\xff", false),
        U8("\xfe", false),
        U8("\x80", false), /* lone continuation */
        U8("\xbf", false),
        U8("\xc3", false), /* truncated */
        U8("\xe0\xa0", false),
        U8("\xf0\x90\x80", false),
        U8("\xc3\x41", false), /* continuation missing */
        U8("\xe2\x82\x41", false),
        U8("a\xc3\xa9\xc3", false),
    };
    struct aipa_test_guard g;

    (void)state;
    aipa_test_guard_init(&g);
    for (size_t i = 0; i < AIPA_ARRAY_LEN(cases); i++) {
        const uint8_t *at = aipa_test_guard_place(&g, cases[i].bytes, cases[i].len);

        if (aipa_utf8_valid(at, cases[i].len) != cases[i].valid) {
            fail_msg("case %zu: expected %s", i, cases[i].valid ? "valid" : "invalid");
        }
    }
    aipa_test_guard_cleanup(&g);
}

/*
 * An independent reference: decode one scalar arithmetically and demand the
 * shortest form, no surrogate and nothing past U+10FFFF.
 */
static bool ref_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint32_t cp;
        size_t len;
        uint32_t min;

        if (s[i] < 0x80) {
            i++;
            continue;
        } else if ((s[i] & 0xE0) == 0xC0) {
            len = 2;
            cp = s[i] & 0x1Fu;
            min = 0x80;
        } else if ((s[i] & 0xF0) == 0xE0) {
            len = 3;
            cp = s[i] & 0x0Fu;
            min = 0x800;
        } else if ((s[i] & 0xF8) == 0xF0) {
            len = 4;
            cp = s[i] & 0x07u;
            min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len) {
            return false;
        }
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += len;
    }
    return true;
}

/* Encodes cp (at most U+10FFFF) as UTF-8 into out; returns the length. */
static size_t ref_utf8_encode(uint32_t cp, uint8_t out[4])
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* aipa_utf8_decode: the code point, the length, and the maximal subpart of a bad sequence. */
static void utf8_decode_values_and_subparts(void **state)
{
#define D8(s, cp, len)                                                                             \
    {                                                                                              \
        (const uint8_t *)(s), sizeof(s) - 1, cp, len                                               \
    }
    static const struct {
        const uint8_t *bytes;
        size_t n;
        uint32_t cp;
        size_t len;
    } cases[] = {
        D8("A", 0x41, 1),
        D8("\x7f", 0x7F, 1),
        D8("\xc2\x80", 0x80, 2),
        D8("\xc3\xa9z", 0xE9, 2),
        D8("\xe2\x82\xac", 0x20AC, 3),
        D8("\xed\x9f\xbf", 0xD7FF, 3),
        D8("\xf0\x90\x80\x80", 0x10000, 4),
        D8("\xf4\x8f\xbf\xbf", 0x10FFFF, 4),
        D8("\x80", AIPA_UTF8_INVALID, 1),             /* lone continuation */
        D8("\xc0\x80", AIPA_UTF8_INVALID, 1),         /* overlong lead */
        D8("\xf5\x80\x80\x80", AIPA_UTF8_INVALID, 1), /* past U+10FFFF */
        D8("\xe0\x80\x80", AIPA_UTF8_INVALID, 1), /* overlong: the second byte is out of range */
        D8("\xed\xa0\x80", AIPA_UTF8_INVALID, 1), /* surrogate */
        D8("\xf4\x90\x80\x80", AIPA_UTF8_INVALID, 1),
        D8("\xe2\x82", AIPA_UTF8_INVALID, 2),     /* truncated at the end */
        D8("\xe2\x82\x41", AIPA_UTF8_INVALID, 2), /* a continuation missing */
        D8("\xf0\x90\x80", AIPA_UTF8_INVALID, 3),
        D8("\xf0\x90\x80"
           "A",
           AIPA_UTF8_INVALID, 3),
    };
#undef D8
    struct aipa_test_guard g;
    uint8_t s[3];
    size_t mismatches = 0;

    (void)state;
    aipa_test_guard_init(&g);
    for (size_t i = 0; i < AIPA_ARRAY_LEN(cases); i++) {
        const uint8_t *at = aipa_test_guard_place(&g, cases[i].bytes, cases[i].n);
        uint32_t cp = 0;
        size_t len = aipa_utf8_decode(at, cases[i].n, &cp);

        if (cp != cases[i].cp || len != cases[i].len) {
            fail_msg("case %zu: got U+%04X length %zu, expected U+%04X length %zu", i, (unsigned)cp,
                     len, (unsigned)cases[i].cp, cases[i].len);
        }
    }
    aipa_test_guard_cleanup(&g);
    /* Every 3-byte string with a multi-byte lead: decoding sequence by sequence
     * agrees with the reference validator, and each code point re-encodes to
     * the very bytes it came from. */
    for (uint32_t v = 0xC00000; v < (1u << 24); v++) {
        bool ok = true;
        size_t i = 0;

        s[0] = (uint8_t)(v >> 16);
        s[1] = (uint8_t)(v >> 8);
        s[2] = (uint8_t)v;
        while (i < 3) {
            uint8_t enc[4];
            uint32_t cp;
            size_t len = aipa_utf8_decode(s + i, 3 - i, &cp);

            if (len == 0 || len > 3 - i) {
                mismatches++;
                break;
            }
            if (cp == AIPA_UTF8_INVALID) {
                ok = false;
            } else if (ref_utf8_encode(cp, enc) != len || memcmp(enc, s + i, len) != 0) {
                mismatches++;
            }
            i += len;
        }
        mismatches += ok != ref_utf8_valid(s, 3) ? 1u : 0u;
    }
    assert_int_equal(mismatches, 0);
}

static void utf8_matches_reference_exhaustively(void **state)
{
    uint8_t s[4];
    size_t mismatches = 0;

    (void)state;
    /* Every 1-, 2- and 3-byte string (16.8 million), and every 4-byte one
     * with a 4-byte lead and continuation-range tails sampled per nibble. */
    for (uint32_t v = 0; v < (1u << 24); v++) {
        s[0] = (uint8_t)(v >> 16);
        s[1] = (uint8_t)(v >> 8);
        s[2] = (uint8_t)v;
        mismatches += aipa_utf8_valid(s, 3) != ref_utf8_valid(s, 3) ? 1u : 0u;
        if ((v & 0xFFFF) == 0) {
            mismatches += aipa_utf8_valid(s, 1) != ref_utf8_valid(s, 1) ? 1u : 0u;
        }
        if ((v & 0xFF) == 0) {
            mismatches += aipa_utf8_valid(s, 2) != ref_utf8_valid(s, 2) ? 1u : 0u;
        }
    }
    for (unsigned a = 0xF0; a <= 0xFF; a++) {
        for (unsigned b = 0; b < 256; b++) {
            for (unsigned c = 0x70; c < 0xD0; c += 0x0F) {
                for (unsigned d = 0x70; d < 0xD0; d += 0x0F) {
                    s[0] = (uint8_t)a;
                    s[1] = (uint8_t)b;
                    s[2] = (uint8_t)c;
                    s[3] = (uint8_t)d;
                    mismatches += aipa_utf8_valid(s, 4) != ref_utf8_valid(s, 4) ? 1u : 0u;
                }
            }
        }
    }
    assert_int_equal(mismatches, 0);
}

/* ---- parsing: accepted shapes ---- */

static void parse_basic_pairs(void **state)
{
    struct aipa_params p;
    struct aipa_wire_result res;

    (void)state;
    aipa_params_init(&p, NULL);
    assert_int_equal(parse_str("Action=AllocatePublicIpAddress&InstanceId=i-1&Flag&Empty=&"
                               "Eq=a%3Db=c&N%61me=x%2By+z&&",
                               PLUS, &p, &res),
                     AIPA_OK);
    assert_int_equal(res.code, AIPA_C_OK);
    assert_string_equal(res.detail, "");
    assert_int_equal(p.count, 6);
    expect_param(&p, 0, "Action", "AllocatePublicIpAddress");
    expect_param(&p, 1, "InstanceId", "i-1");
    expect_param(&p, 2, "Flag", ""); /* no '=' is an empty value */
    expect_param(&p, 3, "Empty", "");
    expect_param(&p, 4, "Eq", "a=b=c"); /* the first '=' splits */
    expect_param(&p, 5, "Name", "x+y z");
    assert_int_equal(p.items[0].origin, AIPA_PARAM_QUERY);
    assert_string_equal(aipa_params_value(&p, "Flag"), "");
    aipa_params_cleanup(&p);
}

static void parse_plus_handling(void **state)
{
    struct aipa_params p;

    (void)state;
    aipa_params_init(&p, NULL);
    assert_int_equal(parse_str("a+b=c+d&e=%2B", PLUS, &p, NULL), AIPA_OK);
    expect_param(&p, 0, "a b", "c d");
    expect_param(&p, 1, "e", "+");
    aipa_params_cleanup(&p);
    aipa_params_init(&p, NULL);
    assert_int_equal(parse_str("a+b=c+d&e=%2B", 0, &p, NULL), AIPA_OK);
    expect_param(&p, 0, "a+b", "c+d");
    expect_param(&p, 1, "e", "+");
    aipa_params_cleanup(&p);
}

static void parse_empty_pairs_are_skipped(void **state)
{
    static const char *const inputs[] = {"", "&", "&&&", "&a=1", "a=1&", "&&a=1&&&", "a=1&&"};
    static const size_t counts[] = {0, 0, 0, 1, 1, 1, 1};

    (void)state;
    for (size_t i = 0; i < AIPA_ARRAY_LEN(inputs); i++) {
        struct aipa_params p;
        struct aipa_wire_result res;

        aipa_params_init(&p, NULL);
        assert_int_equal(parse_str(inputs[i], PLUS, &p, &res), AIPA_OK);
        assert_int_equal(p.count, counts[i]);
        if (counts[i] == 1) {
            expect_param(&p, 0, "a", "1");
        }
        aipa_params_cleanup(&p);
    }
}

static void parse_query_then_body_is_one_list(void **state)
{
    static const char q[] = "Action=AllocatePublicIpAddress&InstanceId=i-1";
    static const char body[] = "Format=JSON&RegionId=cn-hangzhou";
    struct aipa_params p;
    struct aipa_wire_result res;

    (void)state;
    aipa_params_init(&p, NULL);
    assert_int_equal(
        aipa_wire_parse((const uint8_t *)q, sizeof(q) - 1, PLUS, AIPA_PARAM_QUERY, &p, &res),
        AIPA_OK);
    assert_int_equal(
        aipa_wire_parse((const uint8_t *)body, sizeof(body) - 1, PLUS, AIPA_PARAM_BODY, &p, &res),
        AIPA_OK);
    assert_int_equal(p.count, 4);
    assert_int_equal(p.items[1].origin, AIPA_PARAM_QUERY);
    assert_int_equal(p.items[2].origin, AIPA_PARAM_BODY);
    expect_param(&p, 3, "RegionId", "cn-hangzhou");
    aipa_params_cleanup(&p);
}

/* ---- parsing: malformed classes ---- */

static void parse_bad_escapes(void **state)
{
    (void)state;
    /* In a value: the detail is the (decoded) name. */
    expect_reject("InstanceId=%", PLUS, AIPA_EPARSE, "InstanceId");
    expect_reject("InstanceId=%4", PLUS, AIPA_EPARSE, "InstanceId");
    expect_reject("InstanceId=%zz", PLUS, AIPA_EPARSE, "InstanceId");
    expect_reject("InstanceId=%%", PLUS, AIPA_EPARSE, "InstanceId");
    expect_reject("InstanceId=ab%%41", PLUS, AIPA_EPARSE, "InstanceId");
    expect_reject("a=1&Ow%6EerId=%g1", PLUS, AIPA_EPARSE, "OwnerId");
    /* In a name: the raw name, as sent. */
    expect_reject("Inst%anceId=1", PLUS, AIPA_EPARSE, "Inst%anceId");
    expect_reject("a%=1", PLUS, AIPA_EPARSE, "a%");
    expect_reject("%4", PLUS, AIPA_EPARSE, "%4");
}

static void parse_decoded_nul(void **state)
{
    (void)state;
    expect_reject("a=x%00y", PLUS, AIPA_EPARSE, "a");
    expect_reject("a=%00", PLUS, AIPA_EPARSE, "a");
    expect_reject("a%00b=1", PLUS, AIPA_EPARSE, "a%00b");
    /* A raw NUL byte inside the input is the same thing. */
    {
        static const uint8_t raw[] = {'a', '=', 'x', 0, 'y'};
        struct aipa_params p;
        struct aipa_wire_result res;

        aipa_params_init(&p, NULL);
        assert_int_equal(aipa_wire_parse(raw, sizeof(raw), PLUS, AIPA_PARAM_BODY, &p, &res),
                         AIPA_EPARSE);
        assert_string_equal(res.detail, "a");
        aipa_params_cleanup(&p);
    }
}

static void parse_invalid_utf8(void **state)
{
    (void)state;
    expect_reject("a=%C3%28", PLUS, AIPA_EPARSE, "a");           /* bad continuation */
    expect_reject("a=%C0%AF", PLUS, AIPA_EPARSE, "a");           /* overlong '/' */
    expect_reject("a=%E0%80%80", PLUS, AIPA_EPARSE, "a");        /* overlong 3-byte */
    expect_reject("a=%ED%A0%80", PLUS, AIPA_EPARSE, "a");        /* surrogate U+D800 */
    expect_reject("a=%F4%90%80%80", PLUS, AIPA_EPARSE, "a");     /* past U+10FFFF */
    expect_reject("a=%C3", PLUS, AIPA_EPARSE, "a");              /* truncated */
    expect_reject("a=\xff", PLUS, AIPA_EPARSE, "a");             /* a raw bad byte */
    expect_reject("b%FF=1", PLUS, AIPA_EPARSE, "b%FF");          /* in the name */
    expect_reject("b\xff\xc3\xa9=1", PLUS, AIPA_EPARSE, "b???"); /* detail stays UTF-8 */
    /* Well-formed multibyte text passes, raw or escaped. */
    {
        struct aipa_params p;

        aipa_params_init(&p, NULL);
        assert_int_equal(parse_str("n=%C3%A9&m=\xc3\xa9&o=%F0%9F%98%80", PLUS, &p, NULL), AIPA_OK);
        expect_param(&p, 0, "n", "\xc3\xa9");
        expect_param(&p, 1, "m", "\xc3\xa9");
        expect_param(&p, 2, "o", "\xf0\x9f\x98\x80");
        aipa_params_cleanup(&p);
    }
}

static void parse_empty_name(void **state)
{
    (void)state;
    expect_reject("=x", PLUS, AIPA_EPARSE, "");
    expect_reject("=", PLUS, AIPA_EPARSE, "");
    expect_reject("a=1&=2", PLUS, AIPA_EPARSE, "");
}

static void parse_duplicates(void **state)
{
    struct aipa_params p;
    struct aipa_wire_result res;
    static const char body[] = "Format=JSON&InstanceId=i-2";

    (void)state;
    expect_reject("a=1&a=2", PLUS, AIPA_EPARSE, "a");
    expect_reject("a=1&a=1", PLUS, AIPA_EPARSE, "a");
    expect_reject("a&a", PLUS, AIPA_EPARSE, "a");
    expect_reject("InstanceId=1&Instance%49d=2", PLUS, AIPA_EPARSE, "InstanceId"); /* decoded */
    expect_reject("a+b=1&a%20b=2", PLUS, AIPA_EPARSE, "a b");
    /* Names are case-sensitive: these are two parameters. */
    aipa_params_init(&p, NULL);
    assert_int_equal(parse_str("a=1&A=2", PLUS, &p, NULL), AIPA_OK);
    assert_int_equal(p.count, 2);
    aipa_params_cleanup(&p);
    /* Across query and body: the body's InstanceId repeats the query's. */
    aipa_params_init(&p, NULL);
    assert_int_equal(parse_str("InstanceId=i-1&Action=x", PLUS, &p, NULL), AIPA_OK);
    assert_int_equal(
        aipa_wire_parse((const uint8_t *)body, sizeof(body) - 1, PLUS, AIPA_PARAM_BODY, &p, &res),
        AIPA_EPARSE);
    assert_int_equal(res.code, AIPA_C_INVALID_PARAMETER);
    assert_string_equal(res.detail, "InstanceId");
    /* The failed call added nothing (Format was rolled back). */
    assert_int_equal(p.count, 2);
    assert_null(aipa_params_get(&p, "Format"));
    expect_param(&p, 0, "InstanceId", "i-1");
    aipa_params_cleanup(&p);
}

static void parse_failure_restores_list(void **state)
{
    struct aipa_params p;
    struct aipa_wire_result res;

    (void)state;
    aipa_params_init(&p, NULL);
    assert_int_equal(parse_str("keep=1", PLUS, &p, NULL), AIPA_OK);
    assert_int_equal(parse_str("x=1&y=2&z=%", PLUS, &p, &res), AIPA_EPARSE);
    assert_int_equal(p.count, 1);
    expect_param(&p, 0, "keep", "1");
    /* And the list still works afterwards. */
    assert_int_equal(parse_str("x=1", PLUS, &p, &res), AIPA_OK);
    assert_int_equal(p.count, 2);
    aipa_params_cleanup(&p);
}

/* ---- parsing: limits, exactly at and one past each ---- */

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);

    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

static void limit_total(void **state)
{
    struct aipa_params p;
    struct aipa_wire_result res;
    size_t max = AIPA_WIRE_MAX_TOTAL;
    /* "a=1" then '&' padding (empty pairs) to exactly max bytes, then max + 1 */
    char *s = repeat('&', max + 1);

    (void)state;
    memcpy(s, "a=1", 3);
    aipa_params_init(&p, NULL);
    assert_int_equal(aipa_wire_parse((const uint8_t *)s, max, PLUS, AIPA_PARAM_QUERY, &p, &res),
                     AIPA_OK);
    assert_int_equal(p.count, 1);
    aipa_params_cleanup(&p);
    aipa_params_init(&p, NULL);
    assert_int_equal(aipa_wire_parse((const uint8_t *)s, max + 1, PLUS, AIPA_PARAM_QUERY, &p, &res),
                     AIPA_ETOOBIG);
    assert_int_equal(res.code, AIPA_C_INVALID_PARAMETER);
    assert_string_equal(res.detail, "QueryString");
    assert_int_equal(p.count, 0);
    aipa_params_cleanup(&p);
    free(s);
}

/* "p0=v&p1=v&..." with n parameters. */
static char *many_params(size_t n, size_t first)
{
    size_t cap = n * 16 + 1;
    char *s = malloc(cap);
    size_t o = 0;

    assert_non_null(s);
    s[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(s + o, cap - o, "%sp%zu=v", i > 0 ? "&" : "", first + i);

        assert_true(w > 0 && (size_t)w < cap - o);
        o += (size_t)w;
    }
    return s;
}

static void limit_count(void **state)
{
    struct aipa_params p;
    struct aipa_wire_result res;
    char *at = many_params(AIPA_WIRE_MAX_PARAMS, 0);
    char *over = many_params(AIPA_WIRE_MAX_PARAMS + 1, 0);
    char *q = many_params(100, 0);
    char *body_ok = many_params(AIPA_WIRE_MAX_PARAMS - 100, 100);
    char *body_over = many_params(AIPA_WIRE_MAX_PARAMS - 100 + 1, 100);

    (void)state;
    aipa_params_init(&p, NULL);
    assert_int_equal(parse_str(at, PLUS, &p, &res), AIPA_OK);
    assert_int_equal(p.count, AIPA_WIRE_MAX_PARAMS);
    aipa_params_cleanup(&p);
    expect_reject(over, PLUS, AIPA_ETOOBIG, "ParameterCount");
    /* The count is of query and body together. */
    aipa_params_init(&p, NULL);
    assert_int_equal(parse_str(q, PLUS, &p, &res), AIPA_OK);
    assert_int_equal(aipa_wire_parse((const uint8_t *)body_over, strlen(body_over), PLUS,
                                     AIPA_PARAM_BODY, &p, &res),
                     AIPA_ETOOBIG);
    assert_string_equal(res.detail, "ParameterCount");
    assert_int_equal(p.count, 100);
    assert_int_equal(
        aipa_wire_parse((const uint8_t *)body_ok, strlen(body_ok), PLUS, AIPA_PARAM_BODY, &p, &res),
        AIPA_OK);
    assert_int_equal(p.count, AIPA_WIRE_MAX_PARAMS);
    aipa_params_cleanup(&p);
    free(at);
    free(over);
    free(q);
    free(body_ok);
    free(body_over);
}

static void limit_name_length(void **state)
{
    struct aipa_params p;
    struct aipa_wire_result res;
    char *name_at = repeat('N', AIPA_WIRE_MAX_NAME);
    char *name_over = repeat('N', AIPA_WIRE_MAX_NAME + 1);
    char *enc = malloc(3 * AIPA_WIRE_MAX_NAME + 3);
    char in[1024];

    (void)state;
    assert_non_null(enc);
    aipa_params_init(&p, NULL);
    (void)snprintf(in, sizeof(in), "%s=1", name_at);
    assert_int_equal(parse_str(in, PLUS, &p, &res), AIPA_OK);
    assert_int_equal(p.items[0].name_len, AIPA_WIRE_MAX_NAME);
    aipa_params_cleanup(&p);
    (void)snprintf(in, sizeof(in), "%s=1", name_over);
    aipa_params_init(&p, NULL);
    assert_int_equal(parse_str(in, PLUS, &p, &res), AIPA_ETOOBIG);
    assert_int_equal(res.code, AIPA_C_INVALID_PARAMETER);
    /* The detail is the name, cut to fit. */
    assert_int_equal(strlen(res.detail), sizeof(res.detail) - 1);
    assert_memory_equal(res.detail, name_over, sizeof(res.detail) - 1);
    aipa_params_cleanup(&p);
    /* The limit counts decoded bytes: 128 escapes pass, 129 do not. */
    for (size_t i = 0; i < AIPA_WIRE_MAX_NAME; i++) {
        memcpy(enc + 3 * i, "%4E", 3);
    }
    memcpy(enc + 3 * AIPA_WIRE_MAX_NAME, "=1", 3);
    aipa_params_init(&p, NULL);
    assert_int_equal(parse_str(enc, PLUS, &p, &res), AIPA_OK);
    expect_param(&p, 0, name_at, "1");
    aipa_params_cleanup(&p);
    free(enc);
    free(name_at);
    free(name_over);
}

static void limit_value_length(void **state)
{
    struct aipa_params p;
    struct aipa_wire_result res;
    char *v = repeat('v', AIPA_WIRE_MAX_VALUE + 1);
    char *in = malloc(AIPA_WIRE_MAX_VALUE + 16);

    (void)state;
    assert_non_null(in);
    (void)snprintf(in, AIPA_WIRE_MAX_VALUE + 16, "Val=%.*s", (int)AIPA_WIRE_MAX_VALUE, v);
    aipa_params_init(&p, NULL);
    assert_int_equal(parse_str(in, PLUS, &p, &res), AIPA_OK);
    assert_int_equal(p.items[0].value_len, AIPA_WIRE_MAX_VALUE);
    aipa_params_cleanup(&p);
    (void)snprintf(in, AIPA_WIRE_MAX_VALUE + 16, "Val=%s", v);
    expect_reject(in, PLUS, AIPA_ETOOBIG, "Val");
    free(in);
    free(v);
}

static void limits_configurable(void **state)
{
    const struct aipa_wire_limits lim = {20, 2, 3, 4};
    struct aipa_params p;
    struct aipa_wire_result res;
    struct {
        const char *in;
        aipa_err err;
        const char *detail;
    } cases[] = {
        {"abc=1234&xyz=1234&&", AIPA_OK, ""},                   /* 19 bytes */
        {"abc=1234&xyz=1234&&&", AIPA_OK, ""},                  /* 20: at the limit */
        {"abc=1234&xyz=1234&&&&", AIPA_ETOOBIG, "QueryString"}, /* 21 */
        {"a=1&b=2&c=3", AIPA_ETOOBIG, "ParameterCount"},
        {"abcd=1", AIPA_ETOOBIG, "abcd"},
        {"abc=12345", AIPA_ETOOBIG, "abc"},
        {"abc=%31%32%33%34", AIPA_OK, ""}, /* decoded value is 4 bytes */
    };

    (void)state;
    for (size_t i = 0; i < AIPA_ARRAY_LEN(cases); i++) {
        aipa_params_init(&p, &lim);
        assert_int_equal(parse_str(cases[i].in, PLUS, &p, &res), cases[i].err);
        assert_string_equal(res.detail, cases[i].detail);
        assert_int_equal(res.code, cases[i].err == AIPA_OK ? AIPA_C_OK : AIPA_C_INVALID_PARAMETER);
        aipa_params_cleanup(&p);
    }
    /* aipa_params_add keeps the same limits. */
    aipa_params_init(&p, &lim);
    assert_int_equal(aipa_params_add(&p, "abcd", 4, "", 0, AIPA_PARAM_BUILT), AIPA_ETOOBIG);
    assert_int_equal(aipa_params_add(&p, "a", 1, "12345", 5, AIPA_PARAM_BUILT), AIPA_ETOOBIG);
    assert_int_equal(aipa_params_add_cstr(&p, "a", "1"), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "b", "2"), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "c", "3"), AIPA_ETOOBIG);
    assert_int_equal(aipa_params_set(&p, "a", "12345"), AIPA_ETOOBIG);
    assert_string_equal(aipa_params_value(&p, "a"), "1");
    assert_int_equal(p.count, 2);
    aipa_params_cleanup(&p);
    assert_int_equal(aipa_wire_default_limits().max_total, AIPA_WIRE_MAX_TOTAL);
    assert_int_equal(aipa_wire_default_limits().max_params, AIPA_WIRE_MAX_PARAMS);
}

/* ---- every input at a page end ---- */

static const char *const guarded_inputs[] = {
    "",
    "a",
    "a=",
    "=",
    "&",
    "%",
    "a=%",
    "a=%4",
    "a=%41",
    "a%",
    "a%4",
    "a%41",
    "a=1&b",
    "a=1&b=",
    "a=1&b=%C3",
    "a=%C3%A9",
    "a=%E2%82",
    "a=%F0%9F%98",
    "a+b=c+d",
    "Action=AllocatePublicIpAddress&InstanceId=i-bp1gtjxuuvwj17zr0001&"
    "Timestamp=2026-11-27T07%3A51%"
    "3A23Z&Signature=YrUmtZmodh%2BT1ShLZzBkOEEY%2Fio%3D",
    "a=1&&&&",
    "a=1&a",
    "x=%zz",
    "\xc3",
    "a=\xe2\x82",
};

static void parse_never_reads_past_end(void **state)
{
    struct aipa_test_guard g;
    struct aipa_buf b;

    (void)state;
    aipa_test_guard_init(&g);
    aipa_buf_init(&b, 1u << 16);
    for (size_t i = 0; i < AIPA_ARRAY_LEN(guarded_inputs); i++) {
        const char *in = guarded_inputs[i];
        size_t n = strlen(in);

        /* Every prefix too: each one ends at the guard. */
        for (size_t k = 0; k <= n; k++) {
            const uint8_t *at = aipa_test_guard_place(&g, in, k);

            for (unsigned flags = 0; flags <= PLUS; flags++) {
                struct aipa_params p;
                struct aipa_wire_result res;
                aipa_err err;

                aipa_params_init(&p, NULL);
                err = aipa_wire_parse(at, k, flags, AIPA_PARAM_QUERY, &p, &res);
                assert_true(err == AIPA_OK || err == AIPA_EPARSE);
                assert_true((err == AIPA_OK) == (res.code == AIPA_C_OK));
                aipa_params_cleanup(&p);
                aipa_buf_reset(&b);
                err = aipa_pct_decode(at, k, flags, &b);
                assert_true(err == AIPA_OK || err == AIPA_EPARSE);
                (void)aipa_utf8_valid(at, k);
                aipa_buf_reset(&b);
                assert_int_equal(aipa_pct_encode(at, k, &b), AIPA_OK);
            }
        }
    }
    aipa_buf_cleanup(&b);
    aipa_test_guard_cleanup(&g);
}

/* Seeded random bytes drawn mostly from the wire's own alphabet, at the guard.
 */
static void parse_random_inputs_at_page_end(void **state)
{
    static const char alphabet[] = "ab=&%+2F0zC3A9\xc3\xa9\xff\x80";
    struct aipa_test_guard g;
    struct aipa_rng rng;
    uint8_t buf[96];

    (void)state;
    aipa_test_guard_init(&g);
    aipa_rng_seed(&rng, 20261127);
    for (size_t iter = 0; iter < 20000; iter++) {
        size_t n = (size_t)aipa_rng_below(&rng, sizeof(buf) + 1);
        struct aipa_params p;
        struct aipa_wire_result res;
        const uint8_t *at;
        aipa_err err;

        for (size_t i = 0; i < n; i++) {
            buf[i] = (uint8_t)alphabet[aipa_rng_below(&rng, sizeof(alphabet) - 1)];
        }
        at = aipa_test_guard_place(&g, buf, n);
        aipa_params_init(&p, NULL);
        err = aipa_wire_parse(at, n, PLUS, AIPA_PARAM_BODY, &p, &res);
        assert_true(err == AIPA_OK || err == AIPA_EPARSE);
        if (err == AIPA_OK) {
            /* Whatever was accepted is clean text without duplicates. */
            for (size_t i = 0; i < p.count; i++) {
                assert_true(p.items[i].name_len > 0);
                assert_true(aipa_utf8_valid((const uint8_t *)p.items[i].name, p.items[i].name_len));
                assert_true(
                    aipa_utf8_valid((const uint8_t *)p.items[i].value, p.items[i].value_len));
                assert_null(memchr(p.items[i].value, 0, p.items[i].value_len));
                assert_ptr_equal(aipa_params_get(&p, p.items[i].name), &p.items[i]);
            }
        } else {
            assert_int_equal(p.count, 0);
        }
        aipa_params_cleanup(&p);
    }
    aipa_test_guard_cleanup(&g);
}

/* ---- the parameter list ---- */

static void params_helpers(void **state)
{
    struct aipa_params p;
    struct aipa_params c;
    const struct aipa_param *it;

    (void)state;
    aipa_params_init(&p, NULL);
    assert_null(aipa_params_get(&p, "x"));
    assert_null(aipa_params_value(&p, "x"));
    assert_int_equal(aipa_params_add_cstr(&p, "b", "1"), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "a", "2"), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "b", "3"), AIPA_OK); /* add keeps duplicates */
    assert_int_equal(aipa_params_add(&p, "bin", 3, "x\0y", 3, AIPA_PARAM_BODY), AIPA_OK);
    it = aipa_params_get(&p, "bin");
    assert_non_null(it);
    assert_int_equal(it->value_len, 3);
    assert_memory_equal(it->value, "x\0y", 4); /* NUL-terminated beyond the length */
    assert_int_equal(it->origin, AIPA_PARAM_BODY);
    assert_string_equal(aipa_params_value(&p, "b"), "1"); /* the first one */
    assert_null(aipa_params_get(&p, "B"));                /* case-sensitive */
    assert_null(aipa_params_get(&p, "bi"));               /* no prefix match */
    /* set replaces the first, or adds */
    assert_int_equal(aipa_params_set(&p, "a", "22"), AIPA_OK);
    assert_string_equal(aipa_params_value(&p, "a"), "22");
    assert_int_equal(aipa_params_get(&p, "a")->value_len, 2);
    /* a value set from the list's own value (name and value share a block) */
    assert_int_equal(aipa_params_set(&p, "a", aipa_params_value(&p, "a")), AIPA_OK);
    assert_string_equal(aipa_params_value(&p, "a"), "22");
    assert_string_equal(aipa_params_get(&p, "a")->name, "a");
    assert_int_equal(aipa_params_get(&p, "a")->name_len, 1);
    assert_int_equal(aipa_params_set(&p, "new", ""), AIPA_OK);
    assert_int_equal(p.count, 5);
    assert_int_equal(p.items[4].origin, AIPA_PARAM_BUILT);
    /* copy is deep */
    assert_int_equal(aipa_params_copy(&c, &p), AIPA_OK);
    assert_int_equal(c.count, p.count);
    assert_int_equal(aipa_params_set(&c, "a", "changed"), AIPA_OK);
    assert_string_equal(aipa_params_value(&p, "a"), "22");
    assert_int_equal(aipa_params_get(&c, "bin")->value_len, 3);
    aipa_params_cleanup(&c);
    /* remove takes every copy and keeps the order of the rest */
    assert_int_equal(aipa_params_remove(&p, "b"), 2);
    assert_int_equal(aipa_params_remove(&p, "b"), 0);
    assert_int_equal(p.count, 3);
    assert_string_equal(p.items[0].name, "a");
    assert_string_equal(p.items[1].name, "bin");
    assert_string_equal(p.items[2].name, "new");
    aipa_params_cleanup(&p);
    aipa_params_cleanup(&p); /* twice is harmless */
    /* bad arguments */
    assert_int_equal(aipa_params_add_cstr(NULL, "a", "b"), AIPA_EINVAL);
    assert_int_equal(aipa_wire_parse(NULL, 1, 0, AIPA_PARAM_QUERY, &p, NULL), AIPA_EINVAL);
}

static void params_sort_is_stable_byte_order(void **state)
{
    struct aipa_params p;
    static const char *const names[] = {"b", "a", "B", "ab", "a", "", "_", "~", "\xc3\xa9", "A"};

    (void)state;
    aipa_params_init(&p, NULL);
    for (size_t i = 0; i < AIPA_ARRAY_LEN(names); i++) {
        char v[24];

        (void)snprintf(v, sizeof(v), "%zu", i);
        assert_int_equal(
            aipa_params_add(&p, names[i], strlen(names[i]), v, strlen(v), AIPA_PARAM_BUILT),
            AIPA_OK);
    }
    aipa_params_sort(&p);
    /* "" < "A" < "B" < "_" < "a"(1) < "a"(4) < "ab" < "b" < "~" < "é" */
    expect_param(&p, 0, "", "5");
    expect_param(&p, 1, "A", "9");
    expect_param(&p, 2, "B", "2");
    expect_param(&p, 3, "_", "6");
    expect_param(&p, 4, "a", "1");
    expect_param(&p, 5, "a", "4");
    expect_param(&p, 6, "ab", "3");
    expect_param(&p, 7, "b", "0");
    expect_param(&p, 8, "~", "7");
    expect_param(&p, 9, "\xc3\xa9", "8");
    aipa_params_cleanup(&p);
}

static void params_sort_large_matches_reference(void **state)
{
    const struct aipa_wire_limits lim = {1u << 20, 5000, 8, 8};
    struct aipa_params p;
    struct aipa_rng rng;

    (void)state;
    aipa_rng_seed(&rng, 7);
    for (size_t round = 0; round < 20; round++) {
        size_t n = (size_t)aipa_rng_below(&rng, 3000) + 17; /* past the insertion cutoff */

        aipa_params_init(&p, &lim);
        for (size_t i = 0; i < n; i++) {
            char name[4];
            char v[24];
            size_t len = (size_t)aipa_rng_below(&rng, 3) + 1;

            for (size_t k = 0; k < len; k++) {
                name[k] = (char)("aAb_"[aipa_rng_below(&rng, 4)]);
            }
            (void)snprintf(v, sizeof(v), "%zu", i);
            assert_int_equal(aipa_params_add(&p, name, len, v, strlen(v), AIPA_PARAM_BUILT),
                             AIPA_OK);
        }
        aipa_params_sort(&p);
        for (size_t i = 1; i < n; i++) {
            const struct aipa_param *x = &p.items[i - 1];
            const struct aipa_param *y = &p.items[i];
            size_t m = x->name_len < y->name_len ? x->name_len : y->name_len;
            int c = memcmp(x->name, y->name, m);

            assert_true(c < 0 || (c == 0 && x->name_len <= y->name_len));
            if (c == 0 && x->name_len == y->name_len) {
                /* stable: insertion order (the value) ascends among equals */
                assert_true(strtoul(x->value, NULL, 10) < strtoul(y->value, NULL, 10));
            }
        }
        aipa_params_cleanup(&p);
    }
}

static void build_query_and_parse_back(void **state)
{
    struct aipa_params p;
    struct aipa_params q;
    struct aipa_buf b;

    (void)state;
    aipa_params_init(&p, NULL);
    aipa_buf_init(&b, 4096);
    assert_int_equal(aipa_wire_build_query(&p, &b), AIPA_OK);
    assert_string_equal(b.ptr, "");
    assert_int_equal(aipa_params_add_cstr(&p, "InstanceId", "i-1"), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "OwnerAccount", "a b*c~d!'()+/\xc3\xa9"), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "Empty", ""), AIPA_OK);
    assert_int_equal(aipa_params_add_cstr(&p, "Odd Name&=", "x=y&z"), AIPA_OK);
    assert_int_equal(aipa_buf_puts(&b, "/?"), AIPA_OK); /* build appends */
    assert_int_equal(aipa_wire_build_query(&p, &b), AIPA_OK);
    assert_string_equal(b.ptr, "/?InstanceId=i-1&OwnerAccount=a%20b%2Ac~d%21%27%28%29%2B%2F%C3%A9"
                               "&Empty=&Odd%20Name%26%3D=x%3Dy%26z");
    aipa_params_init(&q, NULL);
    assert_int_equal(
        aipa_wire_parse((const uint8_t *)b.ptr + 2, b.len - 2, PLUS, AIPA_PARAM_QUERY, &q, NULL),
        AIPA_OK);
    assert_int_equal(q.count, p.count);
    for (size_t i = 0; i < p.count; i++) {
        expect_param(&q, i, p.items[i].name, p.items[i].value);
    }
    aipa_params_cleanup(&q);
    /* All or nothing under a ceiling. */
    aipa_buf_cleanup(&b);
    aipa_buf_init(&b, 30);
    assert_int_equal(aipa_buf_puts(&b, "keep"), AIPA_OK);
    assert_int_equal(aipa_wire_build_query(&p, &b), AIPA_ETOOBIG);
    assert_string_equal(b.ptr, "keep");
    aipa_buf_cleanup(&b);
    aipa_params_cleanup(&p);
}

/* ---- allocation failures ---- */

static void parse_out_of_memory_is_clean(void **state)
{
    static const char in[] = "Action=AllocatePublicIpAddress&InstanceId=i-1&Format=JSON&a=1&b=2";
    bool succeeded = false;

    (void)state;
    for (long k = 0; k < 64 && !succeeded; k++) {
        struct aipa_params p;
        struct aipa_params c;
        struct aipa_wire_result res;
        aipa_err err;

        aipa_params_init(&p, NULL);
        aipa_test_oom_arm(k);
        aipa_set_allocator(&aipa_test_oom_allocator);
        err =
            aipa_wire_parse((const uint8_t *)in, sizeof(in) - 1, PLUS, AIPA_PARAM_QUERY, &p, &res);
        if (err == AIPA_OK) {
            err = aipa_params_copy(&c, &p);
            if (err == AIPA_OK) {
                succeeded = true;
                aipa_params_cleanup(&c);
            } else {
                assert_int_equal(err, AIPA_ENOMEM);
                assert_int_equal(c.count, 0);
            }
        } else {
            assert_int_equal(err, AIPA_ENOMEM);
            assert_int_equal(res.code, AIPA_C_INTERNAL_ERROR);
            assert_int_equal(p.count, 0);
        }
        aipa_set_allocator(NULL);
        aipa_params_cleanup(&p); /* leaks show under ASan */
    }
    assert_true(succeeded);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_matches_alibaba_set),
        cmocka_unit_test(encode_decode_round_trip_all_bytes),
        cmocka_unit_test(decode_plus_and_malformed_escapes),
        cmocka_unit_test(utf8_table),
        cmocka_unit_test(utf8_matches_reference_exhaustively),
        cmocka_unit_test(utf8_decode_values_and_subparts),
        cmocka_unit_test(parse_basic_pairs),
        cmocka_unit_test(parse_plus_handling),
        cmocka_unit_test(parse_empty_pairs_are_skipped),
        cmocka_unit_test(parse_query_then_body_is_one_list),
        cmocka_unit_test(parse_bad_escapes),
        cmocka_unit_test(parse_decoded_nul),
        cmocka_unit_test(parse_invalid_utf8),
        cmocka_unit_test(parse_empty_name),
        cmocka_unit_test(parse_duplicates),
        cmocka_unit_test(parse_failure_restores_list),
        cmocka_unit_test(limit_total),
        cmocka_unit_test(limit_count),
        cmocka_unit_test(limit_name_length),
        cmocka_unit_test(limit_value_length),
        cmocka_unit_test(limits_configurable),
        cmocka_unit_test(parse_never_reads_past_end),
        cmocka_unit_test(parse_random_inputs_at_page_end),
        cmocka_unit_test(params_helpers),
        cmocka_unit_test(params_sort_is_stable_byte_order),
        cmocka_unit_test(params_sort_large_matches_reference),
        cmocka_unit_test(build_query_and_parse_back),
        cmocka_unit_test(parse_out_of_memory_is_clean),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
