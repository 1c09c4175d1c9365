/*
 * The RPC wire codec (see aipa/wire.h and docs/internals/wire.md):
 * percent-decoding and -encoding, UTF-8 validation, the parameter list and
 * the query/form parser with its limits.
 *
 * Every input is a (pointer, length) pair and is read strictly inside it.
 */
#include "aipa/wire.h"

#include "wire_int.h"

#include <string.h>

/* clang-format off */
/* 1 for the unreserved bytes of spec/wire.md §2.2 step 4: A-Z a-z 0-9 - _ . ~ */
const uint8_t aipa__unreserved[256] = {
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   1,   1,   0,
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   0,   0,   0,   0,   0,   0,
      0,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   0,   0,   0,   0,   1,
      0,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   0,   0,   0,   1,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
};

/* The value of a hex digit, 255 for any other byte. */
static const uint8_t hex_value[256] = {
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
      0,   1,   2,   3,   4,   5,   6,   7,   8,   9, 255, 255, 255, 255, 255, 255,
    255,  10,  11,  12,  13,  14,  15, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255,  10,  11,  12,  13,  14,  15, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
};

int aipa_hex_digit(uint8_t c)
{
    return hex_value[c] == 255 ? -1 : hex_value[c];
}

/*
 * Length of the UTF-8 sequence a lead byte starts; 0 for continuation bytes,
 * the overlong leads C0 C1 and F5..FF (past U+10FFFF).
 */
static const uint8_t utf8_seq_len[256] = {
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
      0,   0,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,
      2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,   2,
      3,   3,   3,   3,   3,   3,   3,   3,   3,   3,   3,   3,   3,   3,   3,   3,
      4,   4,   4,   4,   4,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
};
/* clang-format on */

static const char hex_upper[16] = "0123456789ABCDEF";

/* First capacity of the parameter array; it doubles from there. */
#define PARAMS_INITIAL_CAP 16u

/* ---- limits ---- */

struct aipa_wire_limits aipa_wire_default_limits(void)
{
    struct aipa_wire_limits l = {AIPA_WIRE_MAX_TOTAL, AIPA_WIRE_MAX_PARAMS, AIPA_WIRE_MAX_NAME,
                                 AIPA_WIRE_MAX_VALUE};

    return l;
}

/* ---- UTF-8 ---- */

size_t aipa_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
    uint8_t c = s[0];
    size_t len = utf8_seq_len[c];
    uint8_t lo = 0x80;
    uint8_t hi = 0xBF;
    uint32_t v;

    if (len == 1) {
        *cp = c;
        return 1;
    }
    *cp = AIPA_UTF8_INVALID;
    if (len == 0) {
        return 1;
    }
    /*
     * The second byte carries the range checks of Unicode Table 3-7:
     * E0 needs A0.. (no overlong), ED ..9F (no surrogates D800-DFFF),
     * F0 90.. (no overlong), F4 ..8F (nothing past U+10FFFF).
     */
    if (c == 0xE0) {
        lo = 0xA0;
    } else if (c == 0xED) {
        hi = 0x9F;
    } else if (c == 0xF0) {
        lo = 0x90;
    } else if (c == 0xF4) {
        hi = 0x8F;
    }
    v = c & (0x7Fu >> len); /* the lead byte's payload: 5, 4 or 3 bits */
    for (size_t k = 1; k < len; k++) {
        if (k >= n || s[k] < lo || s[k] > hi) {
            return k;
        }
        v = (v << 6) | (s[k] & 0x3Fu);
        lo = 0x80;
        hi = 0xBF;
    }
    *cp = v;
    return len;
}

bool aipa_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint32_t cp;

        if (s[i] < 0x80) {
            i++;
            continue;
        }
        i += aipa_utf8_decode(s + i, n - i, &cp);
        if (cp == AIPA_UTF8_INVALID) {
            return false;
        }
    }
    return true;
}

/* ---- percent codec ---- */

/*
 * Decodes s[0..n) into dst, which has room for n bytes (decoding never
 * grows). AIPA_EPARSE on '%' not followed by two hex digits.
 */
static aipa_err decode_into(const uint8_t *s, size_t n, unsigned flags, uint8_t *dst,
                            size_t *dst_len)
{
    size_t i = 0;
    size_t o = 0;

    while (i < n) {
        uint8_t c = s[i];

        if (c == '%') {
            uint8_t h;
            uint8_t l;

            if (n - i < 3) {
                return AIPA_EPARSE;
            }
            h = hex_value[s[i + 1]];
            l = hex_value[s[i + 2]];
            if (h > 15 || l > 15) {
                return AIPA_EPARSE;
            }
            dst[o++] = (uint8_t)((h << 4) | l);
            i += 3;
        } else {
            dst[o++] = (c == '+' && (flags & AIPA_WIRE_PLUS_IS_SPACE) != 0) ? (uint8_t)' ' : c;
            i++;
        }
    }
    *dst_len = o;
    return AIPA_OK;
}

aipa_err aipa_pct_decode(const uint8_t *s, size_t n, unsigned flags, struct aipa_buf *out)
{
    aipa_err err;
    size_t len = 0;

    if (out == NULL || (s == NULL && n > 0)) {
        return AIPA_EINVAL;
    }
    /* Reserve the worst case (no escapes), decode in place, then commit. */
    err = aipa_buf_reserve(out, n);
    if (err != AIPA_OK) {
        return err;
    }
    err = decode_into(s, n, flags, (uint8_t *)out->ptr + out->len, &len);
    if (err != AIPA_OK) {
        out->ptr[out->len] = '\0';
        return err;
    }
    out->len += len;
    out->ptr[out->len] = '\0';
    return AIPA_OK;
}

aipa_err aipa_pct_encode(const uint8_t *s, size_t n, struct aipa_buf *out)
{
    aipa_err err;
    size_t need = 0;
    char *d;

    if (out == NULL || (s == NULL && n > 0)) {
        return AIPA_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        need += aipa__unreserved[s[i]] ? 1u : 3u;
    }
    err = aipa_buf_reserve(out, need);
    if (err != AIPA_OK) {
        return err;
    }
    d = out->ptr + out->len;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];

        if (aipa__unreserved[c]) {
            *d++ = (char)c;
        } else {
            *d++ = '%';
            *d++ = hex_upper[c >> 4];
            *d++ = hex_upper[c & 15u];
        }
    }
    out->len += need;
    out->ptr[out->len] = '\0';
    return AIPA_OK;
}

/* ---- the parameter list ---- */

void aipa_params_init(struct aipa_params *p, const struct aipa_wire_limits *limits)
{
    p->items = NULL;
    p->count = 0;
    p->cap = 0;
    p->limits = limits != NULL ? *limits : aipa_wire_default_limits();
}

/*
 * A parameter's name and value live in one allocation, "name\0value\0":
 * value points just past the name's NUL. Half the allocations of two
 * strings, which showed in every request the server parses (and more so
 * under ASan). Freeing the name frees both.
 */
static char *param_block(const char *name, size_t name_len, const char *value, size_t value_len)
{
    char *b;

    if (name_len > SIZE_MAX - 2 || value_len > SIZE_MAX - 2 - name_len) {
        return NULL;
    }
    b = aipa_malloc(name_len + value_len + 2);
    if (b == NULL) {
        return NULL;
    }
    if (name_len > 0) {
        memcpy(b, name, name_len);
    }
    b[name_len] = '\0';
    if (value_len > 0) {
        memcpy(b + name_len + 1, value, value_len);
    }
    b[name_len + 1 + value_len] = '\0';
    return b;
}

static void param_free(struct aipa_param *it)
{
    aipa_free(it->name); /* the value too (param_block) */
    it->name = NULL;
    it->value = NULL;
}

/* Frees items [from, count) and shortens the list to from. */
static void params_truncate(struct aipa_params *p, size_t from)
{
    for (size_t i = from; i < p->count; i++) {
        param_free(&p->items[i]);
    }
    if (from < p->count) {
        p->count = from;
    }
}

void aipa_params_cleanup(struct aipa_params *p)
{
    if (p == NULL) {
        return;
    }
    params_truncate(p, 0);
    aipa_free(p->items);
    p->items = NULL;
    p->count = 0;
    p->cap = 0;
}

static aipa_err params_grow(struct aipa_params *p)
{
    size_t cap;
    struct aipa_param *items;

    if (p->count < p->cap) {
        return AIPA_OK;
    }
    cap = p->cap == 0 ? PARAMS_INITIAL_CAP : p->cap * 2u;
    if (cap > p->limits.max_params && p->limits.max_params > p->count) {
        cap = p->limits.max_params; /* never hold more than the limit allows */
    }
    if (cap <= p->count || cap > SIZE_MAX / sizeof(*items)) {
        return AIPA_ETOOBIG;
    }
    items = aipa_realloc(p->items, cap * sizeof(*items));
    if (items == NULL) {
        return AIPA_ENOMEM;
    }
    p->items = items;
    p->cap = cap;
    return AIPA_OK;
}

aipa_err aipa_params_add(struct aipa_params *p, const char *name, size_t name_len,
                         const char *value, size_t value_len, enum aipa_param_origin origin)
{
    aipa_err err;
    char *b;

    if (p == NULL || (name == NULL && name_len > 0) || (value == NULL && value_len > 0)) {
        return AIPA_EINVAL;
    }
    if (p->count >= p->limits.max_params || name_len > p->limits.max_name ||
        value_len > p->limits.max_value) {
        return AIPA_ETOOBIG;
    }
    err = params_grow(p);
    if (err != AIPA_OK) {
        return err;
    }
    b = param_block(name, name_len, value, value_len);
    if (b == NULL) {
        return AIPA_ENOMEM;
    }
    p->items[p->count].name = b;
    p->items[p->count].name_len = name_len;
    p->items[p->count].value = b + name_len + 1;
    p->items[p->count].value_len = value_len;
    p->items[p->count].origin = origin;
    p->count++;
    return AIPA_OK;
}

aipa_err aipa_params_add_cstr(struct aipa_params *p, const char *name, const char *value)
{
    if (name == NULL || value == NULL) {
        return AIPA_EINVAL;
    }
    return aipa_params_add(p, name, strlen(name), value, strlen(value), AIPA_PARAM_BUILT);
}

static bool name_eq(const struct aipa_param *it, const char *name, size_t len)
{
    return it->name_len == len && (len == 0 || memcmp(it->name, name, len) == 0);
}

static struct aipa_param *find_n(const struct aipa_params *p, const char *name, size_t len)
{
    for (size_t i = 0; i < p->count; i++) {
        if (name_eq(&p->items[i], name, len)) {
            return &p->items[i];
        }
    }
    return NULL;
}

aipa_err aipa_params_set(struct aipa_params *p, const char *name, const char *value)
{
    struct aipa_param *it;
    char *b;
    size_t vlen;

    if (p == NULL || name == NULL || value == NULL) {
        return AIPA_EINVAL;
    }
    it = find_n(p, name, strlen(name));
    if (it == NULL) {
        return aipa_params_add_cstr(p, name, value);
    }
    vlen = strlen(value);
    if (vlen > p->limits.max_value) {
        return AIPA_ETOOBIG;
    }
    b = param_block(it->name, it->name_len, value, vlen);
    if (b == NULL) {
        return AIPA_ENOMEM;
    }
    aipa_free(it->name);
    it->name = b;
    it->value = b + it->name_len + 1;
    it->value_len = vlen;
    return AIPA_OK;
}

const struct aipa_param *aipa_params_get(const struct aipa_params *p, const char *name)
{
    if (p == NULL || name == NULL) {
        return NULL;
    }
    return find_n(p, name, strlen(name));
}

const char *aipa_params_value(const struct aipa_params *p, const char *name)
{
    const struct aipa_param *it = aipa_params_get(p, name);

    return it != NULL ? it->value : NULL;
}

size_t aipa_params_remove(struct aipa_params *p, const char *name)
{
    size_t len;
    size_t kept = 0;
    size_t removed = 0;

    if (p == NULL || name == NULL) {
        return 0;
    }
    len = strlen(name);
    for (size_t i = 0; i < p->count; i++) {
        if (name_eq(&p->items[i], name, len)) {
            param_free(&p->items[i]);
            removed++;
        } else {
            p->items[kept++] = p->items[i];
        }
    }
    p->count = kept;
    return removed;
}

/* Byte order of names; a proper prefix sorts first. */
static int name_cmp(const struct aipa_param *a, const struct aipa_param *b)
{
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int c = n > 0 ? memcmp(a->name, b->name, n) : 0;

    if (c != 0) {
        return c;
    }
    return a->name_len < b->name_len ? -1 : (a->name_len > b->name_len ? 1 : 0);
}

/*
 * Stable sort: insertion sort for short runs (the usual request holds a
 * dozen parameters), merge sort with one scratch array above that.
 */
static void insertion_sort(struct aipa_param *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct aipa_param x = a[i];
        size_t j = i;

        while (j > 0 && name_cmp(&a[j - 1], &x) > 0) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

static void merge_sort(struct aipa_param *a, struct aipa_param *tmp, size_t n)
{
    size_t mid;
    size_t i;
    size_t j;
    size_t k = 0;

    if (n <= 16) {
        insertion_sort(a, n);
        return;
    }
    mid = n / 2;
    merge_sort(a, tmp, mid);
    merge_sort(a + mid, tmp, n - mid);
    i = 0;
    j = mid;
    while (i < mid && j < n) {
        /* <= keeps equal names in their original order */
        tmp[k++] = name_cmp(&a[i], &a[j]) <= 0 ? a[i++] : a[j++];
    }
    while (i < mid) {
        tmp[k++] = a[i++];
    }
    while (j < n) {
        tmp[k++] = a[j++];
    }
    memcpy(a, tmp, n * sizeof(*a));
}

void aipa_params_sort(struct aipa_params *p)
{
    struct aipa_param *tmp;

    if (p == NULL || p->count < 2) {
        return;
    }
    tmp = p->count > 16 ? aipa_malloc(p->count * sizeof(*tmp)) : NULL;
    if (tmp == NULL) {
        insertion_sort(p->items, p->count); /* small, or no memory: still stable */
        return;
    }
    merge_sort(p->items, tmp, p->count);
    aipa_free(tmp);
}

aipa_err aipa_params_copy(struct aipa_params *dst, const struct aipa_params *src)
{
    aipa_err err = AIPA_OK;

    if (dst == NULL || src == NULL) {
        return AIPA_EINVAL;
    }
    aipa_params_init(dst, &src->limits);
    for (size_t i = 0; i < src->count && err == AIPA_OK; i++) {
        const struct aipa_param *it = &src->items[i];

        err = aipa_params_add(dst, it->name, it->name_len, it->value, it->value_len, it->origin);
    }
    if (err != AIPA_OK) {
        aipa_params_cleanup(dst);
    }
    return err;
}

/* ---- parsing ---- */

static void result_set(struct aipa_wire_result *res, enum aipa_code code, const uint8_t *s,
                       size_t n)
{
    size_t cap;
    size_t o = 0;

    if (res == NULL) {
        return;
    }
    res->code = code;
    res->detail[0] = '\0';
    if (s == NULL) {
        return;
    }
    cap = sizeof(res->detail) - 1;
    if (aipa_utf8_valid(s, n)) {
        /* Keep whole characters; control bytes become '?'. */
        size_t i = 0;

        while (i < n) {
            size_t len = utf8_seq_len[s[i]];

            if (len == 0 || len > n - i || o + len > cap) {
                break;
            }
            for (size_t k = 0; k < len; k++) {
                uint8_t c = s[i + k];

                res->detail[o++] = (char)((c < 0x20 || c == 0x7F) ? '?' : c);
            }
            i += len;
        }
    } else {
        /* Not text: show printable ASCII only so the message stays valid UTF-8. */
        for (size_t i = 0; i < n && o < cap; i++) {
            uint8_t c = s[i];

            res->detail[o++] = (char)((c < 0x20 || c > 0x7E) ? '?' : c);
        }
    }
    res->detail[o] = '\0';
}

static void result_set_cstr(struct aipa_wire_result *res, enum aipa_code code, const char *s)
{
    result_set(res, code, (const uint8_t *)s, strlen(s));
}

/* A decoded name or value is acceptable text: no NUL, valid UTF-8. */
static bool text_ok(const uint8_t *s, size_t n)
{
    return memchr(s, 0, n) == NULL && aipa_utf8_valid(s, n);
}

aipa_err aipa_wire_parse(const uint8_t *s, size_t n, unsigned flags, enum aipa_param_origin origin,
                         struct aipa_params *out, struct aipa_wire_result *res)
{
    aipa_err err = AIPA_OK;
    uint8_t *scratch = NULL;
    size_t start_count;
    size_t i = 0;

    if (out == NULL || (s == NULL && n > 0)) {
        return AIPA_EINVAL;
    }
    result_set(res, AIPA_C_OK, NULL, 0);
    start_count = out->count;
    if (n > out->limits.max_total) {
        result_set_cstr(res, AIPA_C_INVALID_PARAMETER, "QueryString");
        err = AIPA_ETOOBIG;
        goto out;
    }
    if (n == 0) {
        goto out;
    }
    /* One scratch area holds a decoded name followed by its decoded value. */
    scratch = aipa_malloc(n);
    if (scratch == NULL) {
        err = AIPA_ENOMEM;
        goto out;
    }
    while (i < n) {
        const uint8_t *pair = s + i;
        const uint8_t *amp = memchr(pair, '&', n - i);
        size_t pair_len = amp != NULL ? (size_t)(amp - pair) : n - i;
        const uint8_t *eq;
        size_t raw_name_len;
        const uint8_t *raw_value;
        size_t raw_value_len;
        uint8_t *name;
        size_t name_len = 0;
        uint8_t *value;
        size_t value_len = 0;

        i += pair_len + (amp != NULL ? 1u : 0u);
        if (pair_len == 0) {
            continue; /* "a=1&&b=2", a trailing '&' */
        }
        eq = memchr(pair, '=', pair_len);
        raw_name_len = eq != NULL ? (size_t)(eq - pair) : pair_len;
        raw_value = eq != NULL ? eq + 1 : pair + pair_len;
        raw_value_len = eq != NULL ? pair_len - raw_name_len - 1 : 0;

        if (raw_name_len == 0) {
            result_set_cstr(res, AIPA_C_INVALID_PARAMETER, "");
            err = AIPA_EPARSE;
            goto out;
        }
        name = scratch;
        err = decode_into(pair, raw_name_len, flags, name, &name_len);
        if (err != AIPA_OK || !text_ok(name, name_len)) {
            result_set(res, AIPA_C_INVALID_PARAMETER, pair, raw_name_len);
            err = AIPA_EPARSE;
            goto out;
        }
        if (name_len > out->limits.max_name) {
            result_set(res, AIPA_C_INVALID_PARAMETER, name, name_len);
            err = AIPA_ETOOBIG;
            goto out;
        }
        value = scratch + name_len;
        err = decode_into(raw_value, raw_value_len, flags, value, &value_len);
        if (err != AIPA_OK || !text_ok(value, value_len)) {
            result_set(res, AIPA_C_INVALID_PARAMETER, name, name_len);
            err = AIPA_EPARSE;
            goto out;
        }
        if (value_len > out->limits.max_value) {
            result_set(res, AIPA_C_INVALID_PARAMETER, name, name_len);
            err = AIPA_ETOOBIG;
            goto out;
        }
        /* Duplicates count across calls too: query and body are one list. */
        if (find_n(out, (const char *)name, name_len) != NULL) {
            result_set(res, AIPA_C_INVALID_PARAMETER, name, name_len);
            if (res != NULL) {
                res->duplicate = true;
            }
            err = AIPA_EPARSE;
            goto out;
        }
        if (out->count >= out->limits.max_params) {
            result_set_cstr(res, AIPA_C_INVALID_PARAMETER, "ParameterCount");
            err = AIPA_ETOOBIG;
            goto out;
        }
        err = aipa_params_add(out, (const char *)name, name_len, (const char *)value, value_len,
                              origin);
        if (err != AIPA_OK) {
            goto out;
        }
    }
out:
    if (err != AIPA_OK) {
        if (res != NULL && res->code == AIPA_C_OK) {
            /* Not the peer's fault (memory): the server answers InternalError. */
            res->code = AIPA_C_INTERNAL_ERROR;
        }
        params_truncate(out, start_count);
    }
    aipa_free(scratch);
    return err;
}

aipa_err aipa_wire_build_query(const struct aipa_params *p, struct aipa_buf *out)
{
    aipa_err err = AIPA_OK;
    size_t start;

    if (p == NULL || out == NULL) {
        return AIPA_EINVAL;
    }
    start = out->len;
    /* Even an empty list leaves out as a valid (empty) string. */
    err = aipa_buf_reserve(out, 0);
    if (err == AIPA_OK) {
        out->ptr[out->len] = '\0';
    }
    for (size_t i = 0; i < p->count && err == AIPA_OK; i++) {
        const struct aipa_param *it = &p->items[i];

        if (i > 0) {
            err = aipa_buf_putc(out, '&');
        }
        if (err == AIPA_OK) {
            err = aipa_pct_encode((const uint8_t *)it->name, it->name_len, out);
        }
        if (err == AIPA_OK) {
            err = aipa_buf_putc(out, '=');
        }
        if (err == AIPA_OK) {
            err = aipa_pct_encode((const uint8_t *)it->value, it->value_len, out);
        }
    }
    if (err != AIPA_OK) {
        /* All or nothing. */
        out->len = start;
        if (out->ptr != NULL) {
            out->ptr[start] = '\0';
        }
    }
    return err;
}
