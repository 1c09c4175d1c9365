/*
 * IPv4 helpers and the public address pool: O(1) random pick, claim of a
 * named address, release, and holding addresses back (see model_int.h for
 * the zone layout).
 */
#include "model_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- IPv4 ---- */

aipa_err aipa__ipv4_parse(const char *s, size_t len, uint32_t *out)
{
    char tmp[AIPA_IPV4_MAX];
    struct in_addr a;

    if (s == NULL || len < 7 || len >= sizeof(tmp) || memchr(s, '\0', len) != NULL) {
        return AIPA_EPARSE;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (inet_pton(AF_INET, tmp, &a) != 1) {
        return AIPA_EPARSE;
    }
    *out = ntohl(a.s_addr);
    return AIPA_OK;
}

void aipa__ipv4_format(uint32_t ip, char out[AIPA_IPV4_MAX])
{
    /* By hand: snprintf was a third of an allocation's cost. */
    char *o = out;

    for (int shift = 24; shift >= 0; shift -= 8) {
        unsigned v = (ip >> shift) & 0xffu;

        if (v >= 100) {
            *o++ = (char)('0' + v / 100);
        }
        if (v >= 10) {
            *o++ = (char)('0' + v / 10 % 10);
        }
        *o++ = (char)('0' + v % 10);
        *o++ = shift > 0 ? '.' : '\0';
    }
}

/* IANA special-purpose IPv4 blocks (RFC 6890 and successors). */
static const struct {
    uint32_t base;
    unsigned prefix;
    const char *name;
} special[] = {
    {0x00000000u, 8, "0.0.0.0/8 (this network)"},
    {0x0a000000u, 8, "10.0.0.0/8 (private)"},
    {0x64400000u, 10, "100.64.0.0/10 (shared address space)"},
    {0x7f000000u, 8, "127.0.0.0/8 (loopback)"},
    {0xa9fe0000u, 16, "169.254.0.0/16 (link-local)"},
    {0xac100000u, 12, "172.16.0.0/12 (private)"},
    {0xc0000000u, 24, "192.0.0.0/24 (IETF protocol assignments)"},
    {0xc0000200u, 24, "192.0.2.0/24 (documentation)"},
    {0xc0586300u, 24, "192.88.99.0/24 (6to4 relay anycast)"},
    {0xc0a80000u, 16, "192.168.0.0/16 (private)"},
    {0xc6120000u, 15, "198.18.0.0/15 (benchmarking)"},
    {0xc6336400u, 24, "198.51.100.0/24 (documentation)"},
    {0xcb007100u, 24, "203.0.113.0/24 (documentation)"},
    {0xe0000000u, 4, "224.0.0.0/4 (multicast)"},
    {0xf0000000u, 4, "240.0.0.0/4 (reserved, broadcast)"},
};

static uint32_t prefix_mask(unsigned prefix)
{
    return prefix == 0 ? 0u : ~0u << (32 - prefix);
}

static const char *special_block(uint32_t ip)
{
    for (size_t i = 0; i < AIPA_ARRAY_LEN(special); i++) {
        if ((ip & prefix_mask(special[i].prefix)) == special[i].base) {
            return special[i].name;
        }
    }
    return NULL;
}

bool aipa__ipv4_is_public(uint32_t ip)
{
    return special_block(ip) == NULL;
}

/* The special block that [lo, hi] overlaps, or NULL. */
static const char *special_overlap(uint32_t lo, uint32_t hi)
{
    for (size_t i = 0; i < AIPA_ARRAY_LEN(special); i++) {
        uint32_t s_lo = special[i].base;
        uint32_t s_hi = s_lo | ~prefix_mask(special[i].prefix);

        if (lo <= s_hi && s_lo <= hi) {
            return special[i].name;
        }
    }
    return NULL;
}

aipa_err aipa__cidr_parse(const char *s, size_t len, uint32_t *base, unsigned *prefix)
{
    const char *slash = memchr(s, '/', len);
    size_t plen;
    unsigned p = 0;
    uint32_t ip;

    if (slash == NULL) {
        return AIPA_EPARSE;
    }
    AIPA_TRY(aipa__ipv4_parse(s, (size_t)(slash - s), &ip));
    plen = len - (size_t)(slash - s) - 1;
    if (plen < 1 || plen > 2) {
        return AIPA_EPARSE;
    }
    for (size_t i = 0; i < plen; i++) {
        char c = slash[1 + i];

        if (c < '0' || c > '9' || (i == 0 && c == '0' && plen > 1)) {
            return AIPA_EPARSE;
        }
        p = p * 10 + (unsigned)(c - '0');
    }
    if (p > 32 || (ip & ~prefix_mask(p)) != 0) {
        return AIPA_EPARSE;
    }
    *base = ip;
    *prefix = p;
    return AIPA_OK;
}

/* ---- pool ---- */

static const char *const default_cidrs[] = {"47.96.0.0/16"};

static int block_cmp(const void *a, const void *b)
{
    const struct aipa_pool_block *x = a;
    const struct aipa_pool_block *y = b;

    return x->first < y->first ? -1 : x->first > y->first;
}

void aipa__pool_cleanup(struct aipa_pool *p)
{
    aipa_free(p->blocks);
    aipa_free(p->mem);
    memset(p, 0, sizeof(*p));
}

aipa_err aipa__pool_init(struct aipa_pool *p, const char *const *cidrs, size_t count,
                         struct aipa_buf *why)
{
    aipa_err err = AIPA_EPARSE;
    uint64_t total = 0;

    memset(p, 0, sizeof(*p));
    if (cidrs == NULL || count == 0) {
        cidrs = default_cidrs;
        count = AIPA_ARRAY_LEN(default_cidrs);
    }
    if (count > AIPA_POOL_MAX_CIDRS) {
        aipa__why(why, "pool: %zu CIDR blocks, at most %d", count, AIPA_POOL_MAX_CIDRS);
        goto out;
    }
    err = AIPA_ENOMEM;
    p->blocks = aipa_calloc(count, sizeof(*p->blocks));
    if (p->blocks == NULL) {
        goto out;
    }
    err = AIPA_EPARSE;
    for (size_t i = 0; i < count; i++) {
        struct aipa_pool_block *b = &p->blocks[i];
        const char *c = cidrs[i] == NULL ? "" : cidrs[i];
        uint32_t base;
        unsigned prefix;
        uint64_t hosts;
        const char *bad;

        if (aipa__cidr_parse(c, strlen(c), &base, &prefix) != AIPA_OK) {
            aipa__why(why, "pool: \"%.40s\" is not a CIDR block like 47.96.0.0/16", c);
            goto out;
        }
        if (prefix < 8) {
            aipa__why(why, "pool: %s is wider than a /8", c);
            goto out;
        }
        hosts = (uint64_t)1 << (32 - prefix);
        bad = special_overlap(base, (uint32_t)(base + (hosts - 1)));
        if (bad != NULL) {
            aipa__why(why, "pool: %s overlaps %s, which is not public", c, bad);
            goto out;
        }
        /* Network and broadcast addresses are skipped, except in /31 and /32. */
        b->base = base;
        b->prefix = (uint8_t)prefix;
        b->first = prefix <= 30 ? base + 1 : base;
        b->count = (uint32_t)(prefix <= 30 ? hosts - 2 : hosts);
        total += b->count;
        if (total > AIPA_POOL_MAX_ADDRESSES) {
            aipa__why(why, "pool: more than %u addresses", AIPA_POOL_MAX_ADDRESSES);
            goto out;
        }
    }
    p->block_count = count;
    qsort(p->blocks, count, sizeof(*p->blocks), block_cmp);
    for (size_t i = 0; i < count; i++) {
        struct aipa_pool_block *b = &p->blocks[i];

        if (i > 0) {
            const struct aipa_pool_block *a = &p->blocks[i - 1];
            uint32_t a_end = a->base | ~prefix_mask(a->prefix);

            if (b->base <= a_end) {
                char x[AIPA_IPV4_MAX], y[AIPA_IPV4_MAX];

                aipa__ipv4_format(a->base, x);
                aipa__ipv4_format(b->base, y);
                aipa__why(why, "pool: %s/%u and %s/%u overlap", x, a->prefix, y, b->prefix);
                goto out;
            }
            b->offset = a->offset + a->count;
        }
    }
    p->size = (uint32_t)total;
    err = AIPA_ENOMEM;
    /* perm and pos in one block. */
    p->mem = aipa_malloc((size_t)p->size * 2 * sizeof(uint32_t));
    if (p->mem == NULL) {
        goto out;
    }
    p->perm = p->mem;
    p->pos = p->perm + p->size;
    for (size_t i = 0; i < p->block_count; i++) {
        const struct aipa_pool_block *b = &p->blocks[i];

        for (uint32_t k = 0; k < b->count; k++) {
            p->perm[b->offset + k] = b->offset + k;
            p->pos[b->offset + k] = b->offset + k;
        }
    }
    p->nback = 0;
    p->nfree = p->size;
    err = AIPA_OK;
out:
    if (err == AIPA_ENOMEM) {
        aipa__why(why, "pool: out of memory");
    }
    if (err != AIPA_OK) {
        aipa__pool_cleanup(p);
    }
    return err;
}

bool aipa__pool_index(const struct aipa_pool *p, uint32_t ip, uint32_t *idx)
{
    size_t lo = 0;
    size_t hi = p->block_count;

    /* Binary search over at most AIPA_POOL_MAX_CIDRS blocks. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct aipa_pool_block *b = &p->blocks[mid];

        if (ip < b->first) {
            hi = mid;
        } else if (ip - b->first >= b->count) {
            lo = mid + 1;
        } else {
            *idx = b->offset + (ip - b->first);
            return true;
        }
    }
    return false;
}

uint32_t aipa__pool_addr(const struct aipa_pool *p, uint32_t idx)
{
    size_t lo = 0;
    size_t hi = p->block_count;

    /* The last block whose offset is <= idx. */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;

        if (p->blocks[mid].offset <= idx) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return p->blocks[lo].first + (idx - p->blocks[lo].offset);
}

enum aipa_pool_zone aipa__pool_zone(const struct aipa_pool *p, uint32_t idx)
{
    uint32_t at = p->pos[idx];

    if (at < p->nback) {
        return AIPA_POOL_HELD_BACK;
    }
    if (at - p->nback < p->nfree) {
        return AIPA_POOL_FREE;
    }
    return AIPA_POOL_IN_USE;
}

uint32_t aipa__pool_in_use(const struct aipa_pool *p)
{
    return p->size - p->nback - p->nfree;
}

static void swap_at(struct aipa_pool *p, uint32_t a, uint32_t b)
{
    uint32_t t;

    if (a == b) {
        return;
    }
    t = p->perm[a];
    p->perm[a] = p->perm[b];
    p->perm[b] = t;
    p->pos[p->perm[a]] = a;
    p->pos[p->perm[b]] = b;
}

bool aipa__pool_pick(const struct aipa_pool *p, struct aipa_rng *r, uint32_t *at)
{
    uint32_t last;

    if (p->nfree == 0) {
        return false;
    }
    *at = p->nback + (uint32_t)aipa_rng_below(r, p->nfree);
    last = p->nback + p->nfree - 1;
    /*
     * The swap in take_at writes pos[] of both indices; start those misses
     * now. The first depends on the perm[] load, which the caller's own
     * work (the instance look-up) overlaps.
     */
    __builtin_prefetch(&p->pos[p->perm[*at]], 1);
    __builtin_prefetch(&p->pos[p->perm[last]], 1);
    return true;
}

uint32_t aipa__pool_take_at(struct aipa_pool *p, uint32_t at)
{
    uint32_t last = p->nback + p->nfree - 1;

    swap_at(p, at, last);
    p->nfree--;
    return aipa__pool_addr(p, p->perm[last]);
}

bool aipa__pool_take_random(struct aipa_pool *p, struct aipa_rng *r, uint32_t *ip)
{
    uint32_t at;

    if (!aipa__pool_pick(p, r, &at)) {
        return false;
    }
    *ip = aipa__pool_take_at(p, at);
    return true;
}

void aipa__pool_take(struct aipa_pool *p, uint32_t idx)
{
    uint32_t at = p->pos[idx];

    if (at < p->nback) {
        /* Held back: to the end of its zone, then across the free zone. */
        swap_at(p, at, p->nback - 1);
        swap_at(p, p->nback - 1, p->nback + p->nfree - 1);
        p->nback--;
        return;
    }
    swap_at(p, at, p->nback + p->nfree - 1);
    p->nfree--;
}

void aipa__pool_prefetch_put(const struct aipa_pool *p, uint32_t idx)
{
    uint32_t edge = p->nback + p->nfree;

    __builtin_prefetch(&p->pos[idx], 1);
    if (p->pos[idx] < p->size) {
        __builtin_prefetch(&p->perm[p->pos[idx]], 1);
    }
    if (edge < p->size) {
        __builtin_prefetch(&p->pos[p->perm[edge]], 1);
    }
}

void aipa__pool_put(struct aipa_pool *p, uint32_t idx)
{
    swap_at(p, p->pos[idx], p->nback + p->nfree);
    p->nfree++;
}

void aipa__pool_set_free(struct aipa_pool *p, size_t free)
{
    p->nfree += p->nback;
    p->nback = 0;
    if (free < p->nfree) {
        p->nback = p->nfree - (uint32_t)free;
        p->nfree = (uint32_t)free;
    }
}

aipa_err aipa__pool_check(const struct aipa_pool *p, struct aipa_buf *why)
{
    if ((uint64_t)p->nback + p->nfree > p->size) {
        aipa__why(why, "pool zones exceed its size");
        return AIPA_EINVAL;
    }
    for (uint32_t at = 0; at < p->size; at++) {
        uint32_t idx = p->perm[at];

        if (idx >= p->size || p->pos[idx] != at) {
            aipa__why(why, "pool position %u (index %u) is not indexed back", at, idx);
            return AIPA_EINVAL;
        }
    }
    return AIPA_OK;
}

/* The one-line reason of the model and the pool (model_int.h). */
void aipa__why(struct aipa_buf *why, const char *fmt, ...)
{
    va_list ap;

    if (why == NULL) {
        return;
    }
    aipa_buf_reset(why);
    va_start(ap, fmt);
    if (aipa_buf_vprintf(why, fmt, ap) != AIPA_OK) {
        aipa_buf_reset(why); /* the reason is best effort: a full buffer stays empty */
    }
    va_end(ap);
    /* One line, whatever the document held: control bytes quoted from it become '?'. */
    for (size_t i = 0; i < why->len; i++) {
        if ((unsigned char)why->ptr[i] < 0x20 || why->ptr[i] == 0x7f) {
            why->ptr[i] = '?';
        }
    }
}
