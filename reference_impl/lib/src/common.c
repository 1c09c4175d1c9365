/* Buffers, slices, the allocator hook and the PRNG (see aipa/common.h). */
#include "aipa/common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *aipa_strerror(aipa_err e)
{
    switch (e) {
#define AIPA_MSG_(name, msg)                                                                       \
    case name:                                                                                     \
        return msg;
        AIPA_ERRORS(AIPA_MSG_)
#undef AIPA_MSG_
    }
    return "unknown error";
}

const char *aipa_errname(aipa_err e)
{
    switch (e) {
#define AIPA_NAME_(name, msg)                                                                      \
    case name:                                                                                     \
        return #name;
        AIPA_ERRORS(AIPA_NAME_)
#undef AIPA_NAME_
    }
    return "AIPA_E?";
}

/* ---- allocator ---- */

static struct aipa_allocator allocator = {malloc, realloc, calloc, free};

void aipa_set_allocator(const struct aipa_allocator *a)
{
    if (a == NULL) {
        allocator = (struct aipa_allocator){malloc, realloc, calloc, free};
    } else {
        allocator = *a;
    }
}

void *aipa_malloc(size_t n)
{
    return allocator.malloc_fn(n == 0 ? 1 : n);
}

void *aipa_calloc(size_t count, size_t n)
{
    return allocator.calloc_fn(count == 0 ? 1 : count, n == 0 ? 1 : n);
}

void *aipa_realloc(void *p, size_t n)
{
    return allocator.realloc_fn(p, n == 0 ? 1 : n);
}

void aipa_free(void *p)
{
    if (p != NULL) {
        allocator.free_fn(p);
    }
}

char *aipa_strndup(const char *s, size_t n)
{
    char *d = aipa_malloc(n + 1);

    if (d == NULL) {
        return NULL;
    }
    if (n > 0) {
        memcpy(d, s, n);
    }
    d[n] = '\0';
    return d;
}

char *aipa_strdup(const char *s)
{
    return aipa_strndup(s, strlen(s));
}

void aipa_memzero(void *p, size_t n)
{
    volatile unsigned char *v = p;

    while (n-- > 0) {
        *v++ = 0;
    }
}

/* ---- slices ---- */

struct aipa_slice aipa_slice_cstr(const char *s)
{
    return (struct aipa_slice){(const uint8_t *)s, s == NULL ? 0 : strlen(s)};
}

bool aipa_slice_eq(struct aipa_slice a, const char *cstr)
{
    size_t n = strlen(cstr);

    return a.len == n && (n == 0 || memcmp(a.ptr, cstr, n) == 0);
}

bool aipa_slice_eq_ci(struct aipa_slice a, const char *cstr)
{
    size_t n = strlen(cstr);

    return a.len == n && (n == 0 || strncasecmp((const char *)a.ptr, cstr, n) == 0);
}

/* ---- buffers ---- */

void aipa_buf_init(struct aipa_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void aipa_buf_cleanup(struct aipa_buf *b)
{
    aipa_free(b->ptr);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

void aipa_buf_reset(struct aipa_buf *b)
{
    b->len = 0;
    if (b->ptr != NULL) {
        b->ptr[0] = '\0';
    }
}

aipa_err aipa_buf_reserve(struct aipa_buf *b, size_t extra)
{
    size_t need;
    size_t cap;
    char *p;

    /* len + extra + 1 (the NUL) must fit in both the ceiling and size_t. */
    if (extra > b->max || b->len > b->max - extra || b->len + extra == SIZE_MAX) {
        return AIPA_ETOOBIG;
    }
    need = b->len + extra + 1; /* room for the NUL */
    if (need <= b->cap) {
        return AIPA_OK;
    }
    cap = b->cap < 64 ? 64 : b->cap;
    while (cap < need) {
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    }
    if (b->max != SIZE_MAX && cap > b->max + 1) {
        cap = b->max + 1;
    }
    p = aipa_realloc(b->ptr, cap);
    if (p == NULL) {
        return AIPA_ENOMEM;
    }
    b->ptr = p;
    b->cap = cap;
    return AIPA_OK;
}

aipa_err aipa_buf_append(struct aipa_buf *b, const void *p, size_t n)
{
    AIPA_TRY(aipa_buf_reserve(b, n));
    if (n > 0) {
        memcpy(b->ptr + b->len, p, n);
    }
    b->len += n;
    b->ptr[b->len] = '\0';
    return AIPA_OK;
}

aipa_err aipa_buf_puts(struct aipa_buf *b, const char *s)
{
    return aipa_buf_append(b, s, strlen(s));
}

aipa_err aipa_buf_putc(struct aipa_buf *b, char c)
{
    return aipa_buf_append(b, &c, 1);
}

aipa_err aipa_buf_vprintf(struct aipa_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        return AIPA_EINVAL;
    }
    AIPA_TRY(aipa_buf_reserve(b, (size_t)n));
    (void)vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return AIPA_OK;
}

aipa_err aipa_buf_printf(struct aipa_buf *b, const char *fmt, ...)
{
    va_list ap;
    aipa_err err;

    va_start(ap, fmt);
    err = aipa_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return err;
}

char *aipa_buf_steal(struct aipa_buf *b, size_t *len)
{
    char *p = b->ptr;

    if (p == NULL) {
        p = aipa_strndup("", 0);
    }
    if (len != NULL) {
        *len = b->len;
    }
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

/* ---- PRNG: splitmix64 to seed xoshiro256** ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void aipa_rng_seed(struct aipa_rng *r, uint64_t seed)
{
    uint64_t x = seed;

    for (size_t i = 0; i < 4; i++) {
        r->s[i] = splitmix64(&x);
    }
}

uint64_t aipa_rng_next(struct aipa_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t aipa_rng_below(struct aipa_rng *r, uint64_t bound)
{
    uint64_t threshold;
    uint64_t x;

    if (bound == 0) {
        return 0;
    }
    /* Lemire-style rejection keeps the result unbiased. */
    threshold = (0 - bound) % bound;
    do {
        x = aipa_rng_next(r);
    } while (x < threshold);
    return x % bound;
}

void aipa_rng_uuid(struct aipa_rng *r, char out[37])
{
    static const char hex[] = "0123456789ABCDEF";
    uint64_t a = aipa_rng_next(r);
    uint64_t b = aipa_rng_next(r);
    uint8_t bytes[16];
    size_t o = 0;

    for (size_t i = 0; i < 8; i++) {
        bytes[i] = (uint8_t)(a >> (8 * i));
        bytes[8 + i] = (uint8_t)(b >> (8 * i));
    }
    bytes[6] = (uint8_t)((bytes[6] & 0x0F) | 0x40);
    bytes[8] = (uint8_t)((bytes[8] & 0x3F) | 0x80);
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[o++] = '-';
        }
        out[o++] = hex[bytes[i] >> 4];
        out[o++] = hex[bytes[i] & 0x0F];
    }
    out[o] = '\0';
}

/* Appends "path: why" to err (NULL-safe); a failed append leaves err as it was. */
static void note_path(struct aipa_buf *err, const char *path, const char *why)
{
    if (err != NULL && aipa_buf_printf(err, "%s: %s", path, why) != AIPA_OK) {
        return;
    }
}

aipa_err aipa_read_file(const char *path, size_t max, char **out, size_t *len,
                        struct aipa_buf *err)
{
    FILE *f = fopen(path, "rb");
    struct aipa_buf b;
    char chunk[65536];
    size_t n;
    aipa_err e = AIPA_OK;

    *out = NULL;
    *len = 0;
    if (f == NULL) {
        char why[160];

        snprintf(why, sizeof(why), "cannot open: %s", strerror(errno));
        note_path(err, path, why);
        return AIPA_EIO;
    }
    aipa_buf_init(&b, max + 1);
    while (e == AIPA_OK && b.len <= max && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        size_t room = max + 1 - b.len;

        e = aipa_buf_append(&b, chunk, n < room ? n : room);
    }
    if (e == AIPA_OK && ferror(f)) {
        e = AIPA_EIO;
    }
    fclose(f);
    if (e == AIPA_OK) { /* an empty file is "" */
        *out = aipa_buf_steal(&b, len);
        e = *out != NULL ? AIPA_OK : AIPA_ENOMEM;
    }
    if (e != AIPA_OK) {
        note_path(err, path, e == AIPA_EIO ? "read error" : aipa_strerror(e));
    }
    aipa_buf_cleanup(&b);
    return e;
}

uint32_t aipa_fnv1a32(uint32_t h, const void *p, size_t n)
{
    const uint8_t *s = p;

    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 16777619u;
    }
    return h;
}

uint64_t aipa_fnv1a64(uint64_t h, const void *p, size_t n)
{
    const uint8_t *s = p;

    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
