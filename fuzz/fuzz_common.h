/*
 * fuzz/fuzz_common.h: what the fuzz targets share.
 *
 *   FUZZ_CHECK     an oracle: prints the broken property and aborts, so the
 *                  engine records the input as a crash
 *   struct fz      a reader that splits the input into typed pieces (in the
 *                  style of libxml2's xmlFuzzReadInt/xmlFuzzReadString):
 *                  it never fails; past the end it yields zeros and empty
 *                  strings, so every input is a valid program
 *   ref_*          independent reference implementations (percent-decoding,
 *                  UTF-8 validation) that the differential oracles compare
 *                  libaipa against; written from the spec, not from wire.c
 *
 * Everything is static: each target is one translation unit.
 */
#ifndef AIPA_FUZZ_COMMON_H
#define AIPA_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: oracle failed: %s: ", __FILE__, __LINE__, #cond);              \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* ---- input reader ---- */

struct fz {
    const uint8_t *p;
    size_t n;
};

static inline uint8_t fz_u8(struct fz *f)
{
    uint8_t v = 0;

    if (f->n > 0) {
        v = f->p[0];
        f->p++;
        f->n--;
    }
    return v;
}

static inline uint16_t fz_u16(struct fz *f)
{
    uint16_t hi = fz_u8(f);

    return (uint16_t)((unsigned)(hi << 8) | fz_u8(f));
}

/* A number in [0, bound); bound 0 gives 0. */
static inline size_t fz_below(struct fz *f, size_t bound)
{
    if (bound == 0) {
        return 0;
    }
    return (size_t)fz_u16(f) % bound;
}

/*
 * A string: bytes up to the next "\\\n" pair (the two-byte separator
 * libxml2's fuzz.c uses), or to the end. A lone backslash stands for itself
 * and "\\\\" for one backslash, so any byte string can be written.
 * The result points into out[0..cap) and is NUL-terminated there; *len gets
 * its length (truncated at cap - 1).
 */
static inline char *fz_str(struct fz *f, char *out, size_t cap, size_t *len)
{
    size_t o = 0;

    while (f->n > 0) {
        uint8_t c = f->p[0];
        if (c == '\\' && f->n >= 2) {
            uint8_t d = f->p[1];
            if (d == '\n') {
                f->p += 2;
                f->n -= 2;
                break;
            }
            if (d == '\\') {
                f->p++;
                f->n--;
            }
        }
        f->p++;
        f->n--;
        if (o + 1 < cap) {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    if (len != NULL) {
        *len = o;
    }
    return out;
}

/* ---- reference percent-decoding (spec/wire.md §2.2 step 2) ---- */

static inline int ref_hex(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/*
 * Decodes s[0..n) into out (room for n bytes). Returns false on a malformed
 * escape ("%" not followed by two hex digits); *out_len is then the length
 * decoded before it.
 */
static inline bool ref_pct_decode(const uint8_t *s, size_t n, bool plus_is_space, uint8_t *out,
                                  size_t *out_len)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (n - i < 3 || ref_hex(s[i + 1]) < 0 || ref_hex(s[i + 2]) < 0) {
                *out_len = o;
                return false;
            }
            out[o++] = (uint8_t)(ref_hex(s[i + 1]) * 16 + ref_hex(s[i + 2]));
            i += 2;
        } else if (s[i] == '+' && plus_is_space) {
            out[o++] = ' ';
        } else {
            out[o++] = s[i];
        }
    }
    *out_len = o;
    return true;
}

static inline bool ref_unreserved(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

/* ---- reference UTF-8 validation (RFC 3629 table 4) ---- */

static inline bool ref_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint8_t c = s[i];
        size_t k;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            if (c == 0xE0) {
                lo = 0xA0; /* no overlongs */
            } else if (c == 0xED) {
                hi = 0x9F; /* no surrogates */
            }
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            if (c == 0xF0) {
                lo = 0x90;
            } else if (c == 0xF4) {
                hi = 0x8F; /* <= U+10FFFF */
            }
        } else {
            return false;
        }
        if (n - i <= k) {
            return false;
        }
        if (s[i + 1] < lo || s[i + 1] > hi) {
            return false;
        }
        for (size_t j = 2; j <= k; j++) {
            if (s[i + j] < 0x80 || s[i + j] > 0xBF) {
                return false;
            }
        }
        i += k + 1;
    }
    return true;
}

#endif /* AIPA_FUZZ_COMMON_H */
