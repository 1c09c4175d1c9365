/*
 * aipa/common.h: error codes, slices, bounded buffers and the allocator hook
 * shared by every part of libaipa and the harness.
 */
#ifndef AIPA_COMMON_H
#define AIPA_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AIPA_API          __attribute__((visibility("default")))
#define AIPA_MUST_CHECK   __attribute__((warn_unused_result))
#define AIPA_PRINTF(f, a) __attribute__((format(printf, f, a)))

/*
 * Internal result codes (not Alibaba error codes: those are enum aipa_code in
 * aipa/errors.h). AIPA_EAGAIN means "incomplete, call again with more" and is
 * kept apart from AIPA_EPARSE, "malformed".
 */
#define AIPA_ERRORS(X)                                                                             \
    X(AIPA_OK, "success")                                                                          \
    X(AIPA_EAGAIN, "incomplete input, call again")                                                 \
    X(AIPA_EPARSE, "malformed input")                                                              \
    X(AIPA_ETOOBIG, "configured limit exceeded")                                                   \
    X(AIPA_ENOMEM, "out of memory")                                                                \
    X(AIPA_EINVAL, "invalid argument (caller bug)")                                                \
    X(AIPA_EIO, "I/O error")                                                                       \
    X(AIPA_ENOTFOUND, "not found")                                                                 \
    X(AIPA_EEXIST, "already exists")                                                               \
    X(AIPA_ETIMEDOUT, "timed out")                                                                 \
    X(AIPA_ECRYPTO, "cryptographic library failure")

typedef enum {
#define AIPA_ENUM_(name, msg) name,
    AIPA_ERRORS(AIPA_ENUM_)
#undef AIPA_ENUM_
} aipa_err;

AIPA_API const char *aipa_strerror(aipa_err e);
AIPA_API const char *aipa_errname(aipa_err e);

#define AIPA_TRY(expr)                                                                             \
    do {                                                                                           \
        aipa_err e_ = (expr);                                                                      \
        if (e_ != AIPA_OK) {                                                                       \
            return e_;                                                                             \
        }                                                                                          \
    } while (0)

#define AIPA_ENSURE(cond, e)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            return (e);                                                                            \
        }                                                                                          \
    } while (0)

#define AIPA_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * A borrowed byte range. It owns nothing; every struct or function that hands
 * one out names the buffer it points into. Not NUL-terminated.
 */
struct aipa_slice {
    const uint8_t *ptr;
    size_t len;
};

#define AIPA_SLICE_STR(s) ((struct aipa_slice){(const uint8_t *)(s), sizeof(s) - 1})
AIPA_API struct aipa_slice aipa_slice_cstr(const char *s);
AIPA_API bool aipa_slice_eq(struct aipa_slice a, const char *cstr);
AIPA_API bool aipa_slice_eq_ci(struct aipa_slice a, const char *cstr);

/*
 * A growable byte buffer with a ceiling fixed at init. ptr is always
 * NUL-terminated after a successful append (the NUL is not counted in len),
 * so text can be handed to C APIs directly. Appends past max fail with
 * AIPA_ETOOBIG and leave the buffer unchanged.
 */
struct aipa_buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max;
};

AIPA_API void aipa_buf_init(struct aipa_buf *b, size_t max);
AIPA_API void aipa_buf_cleanup(struct aipa_buf *b);
AIPA_API void aipa_buf_reset(struct aipa_buf *b); /* len = 0, keeps memory */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_buf_reserve(struct aipa_buf *b, size_t extra);
AIPA_API AIPA_MUST_CHECK aipa_err aipa_buf_append(struct aipa_buf *b, const void *p, size_t n);
AIPA_API AIPA_MUST_CHECK aipa_err aipa_buf_puts(struct aipa_buf *b, const char *s);
AIPA_API AIPA_MUST_CHECK aipa_err aipa_buf_putc(struct aipa_buf *b, char c);
AIPA_API AIPA_MUST_CHECK aipa_err aipa_buf_printf(struct aipa_buf *b, const char *fmt, ...)
    AIPA_PRINTF(2, 3);
AIPA_API AIPA_MUST_CHECK aipa_err aipa_buf_vprintf(struct aipa_buf *b, const char *fmt, va_list ap)
    AIPA_PRINTF(2, 0);
/* Hands the storage to the caller (who frees it with aipa_free); b is left empty. */
AIPA_API char *aipa_buf_steal(struct aipa_buf *b, size_t *len);

/*
 * Allocation. Everything in libaipa and the harness allocates through these,
 * so tests can inject failures. The default is libc.
 */
struct aipa_allocator {
    void *(*malloc_fn)(size_t n);
    void *(*realloc_fn)(void *p, size_t n);
    void *(*calloc_fn)(size_t count, size_t n);
    void (*free_fn)(void *p);
};

/* Replaces the allocator; NULL restores libc. Not thread-safe: call before use. */
AIPA_API void aipa_set_allocator(const struct aipa_allocator *a);
AIPA_API void *aipa_malloc(size_t n);
AIPA_API void *aipa_calloc(size_t count, size_t n);
AIPA_API void *aipa_realloc(void *p, size_t n);
AIPA_API void aipa_free(void *p);
AIPA_API char *aipa_strndup(const char *s, size_t n);
AIPA_API char *aipa_strdup(const char *s);
/* Zeroes n bytes in a way the compiler cannot drop (for secrets). */
AIPA_API void aipa_memzero(void *p, size_t n);

/* Deterministic PRNG (splitmix64 seeding, xoshiro256**), for --seed. */
struct aipa_rng {
    uint64_t s[4];
};
AIPA_API void aipa_rng_seed(struct aipa_rng *r, uint64_t seed);
AIPA_API uint64_t aipa_rng_next(struct aipa_rng *r);
/* Uniform in [0, bound); bound 0 returns 0. */
AIPA_API uint64_t aipa_rng_below(struct aipa_rng *r, uint64_t bound);
/* Writes an uppercase 8-4-4-4-12 UUID (version 4 layout) and a NUL: 37 bytes. */
AIPA_API void aipa_rng_uuid(struct aipa_rng *r, char out[37]);

/*
 * Reads at most max + 1 bytes of the file at path into *out (NUL-terminated;
 * aipa_free it) and their count into *len, so that *len > max tells the
 * caller the file is longer than max, to report in its own words. AIPA_EIO
 * (cannot open, read error) or AIPA_ENOMEM, with "path: reason" appended to
 * err (NULL-safe).
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_read_file(const char *path, size_t max, char **out,
                                                 size_t *len, struct aipa_buf *err);

/* FNV-1a over n bytes, continuing from h (start with the _BASIS). */
#define AIPA_FNV1A32_BASIS 2166136261u
#define AIPA_FNV1A64_BASIS 0xcbf29ce484222325ull
AIPA_API uint32_t aipa_fnv1a32(uint32_t h, const void *p, size_t n);
AIPA_API uint64_t aipa_fnv1a64(uint64_t h, const void *p, size_t n);

/* Last: the banned C library calls become errors in every file after this. */
#include "aipa/poison.h"

#endif /* AIPA_COMMON_H */
