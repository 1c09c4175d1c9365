/*
 * fuzz/fuzz_wire_ref.h: an independent reading of the aipa_wire_parse
 * contract (aipa/wire.h), for the differential oracle of fuzz_query and
 * fuzz_form. It splits on '&', skips empty pairs, splits each pair at its
 * first '=', percent-decodes both halves with the reference decoder and
 * applies every documented rejection class. It cannot know which error the
 * parser meets first, so it reports the set of classes the input falls in;
 * the parser must succeed exactly when the set is empty, with the same
 * parameters, and otherwise fail with a class from the set.
 */
#ifndef AIPA_FUZZ_WIRE_REF_H
#define AIPA_FUZZ_WIRE_REF_H

#include "aipa/wire.h"
#include "fuzz_common.h"

#define REF_TOOBIG 0x1u
#define REF_PARSE  0x2u

struct ref_param {
    const uint8_t *name; /* into the scratch arena */
    size_t name_len;
    const uint8_t *value;
    size_t value_len;
};

struct ref_parse {
    struct ref_param *items;
    size_t count;
    unsigned fails; /* REF_* */
};

/*
 * The reference's memory, kept across inputs: the pairs, and one arena for
 * their decoded bytes (a decoded name or value is never longer than its
 * text, so the input's length is room for all of them). Allocating per
 * input (per pair, as this header once did) cost more than the parser
 * under test, in page faults of ASan's allocator.
 */
static struct ref_param *ref_items;
static size_t ref_items_cap;
static uint8_t *ref_bytes;
static size_t ref_bytes_cap;

static inline void ref_scratch_fit(size_t pairs, size_t bytes)
{
    if (pairs > ref_items_cap) {
        free(ref_items);
        ref_items = malloc(pairs * sizeof(*ref_items));
        FUZZ_CHECK(ref_items != NULL, "out of memory");
        ref_items_cap = pairs;
    }
    if (bytes > ref_bytes_cap) {
        free(ref_bytes);
        ref_bytes = malloc(bytes);
        FUZZ_CHECK(ref_bytes != NULL, "out of memory");
        ref_bytes_cap = bytes;
    }
}

static inline bool ref_name_seen(const struct ref_parse *r, const struct aipa_params *existing,
                                 const uint8_t *name, size_t len)
{
    for (size_t i = 0; i < r->count; i++) {
        if (r->items[i].name_len == len && memcmp(r->items[i].name, name, len) == 0) {
            return true;
        }
    }
    for (size_t i = 0; i < existing->count; i++) {
        if (existing->items[i].name_len == len && memcmp(existing->items[i].name, name, len) == 0) {
            return true;
        }
    }
    return false;
}

static inline bool ref_text_ok(const uint8_t *s, size_t n)
{
    return memchr(s, 0, n) == NULL && ref_utf8_valid(s, n);
}

/* Fills r (valid until the next call). existing: what the list held before. */
static inline void ref_parse_run(struct ref_parse *r, const uint8_t *s, size_t n, bool plus,
                                 const struct aipa_wire_limits *lim,
                                 const struct aipa_params *existing)
{
    size_t i = 0, total = existing->count, used = 0;

    ref_scratch_fit(n / 2 + 1, n + 1); /* at most one pair per two bytes */
    memset(r, 0, sizeof(*r));
    r->items = ref_items;
    if (n > lim->max_total) {
        r->fails |= REF_TOOBIG;
    }
    while (i <= n) {
        size_t end = i, eq;
        while (end < n && s[end] != '&') {
            end++;
        }
        if (end > i) {
            struct ref_param p = {0};
            uint8_t *name = ref_bytes + used, *value;
            bool ok = true;
            eq = i;
            while (eq < end && s[eq] != '=') {
                eq++;
            }
            total++;
            if (total > lim->max_params) {
                r->fails |= REF_TOOBIG;
            }
            if (eq == i) {
                r->fails |= REF_PARSE; /* empty name */
                ok = false;
            }
            if (!ref_pct_decode(s + i, eq - i, plus, name, &p.name_len)) {
                r->fails |= REF_PARSE;
                ok = false;
            }
            value = name + p.name_len;
            if (eq < end) {
                if (!ref_pct_decode(s + eq + 1, end - eq - 1, plus, value, &p.value_len)) {
                    r->fails |= REF_PARSE;
                    ok = false;
                }
            }
            used += p.name_len + p.value_len;
            p.name = name;
            p.value = value;
            /* Also on a malformed escape: a parser may meet the limit before it. */
            if (p.name_len > lim->max_name || p.value_len > lim->max_value) {
                r->fails |= REF_TOOBIG;
            }
            /* (once malformed, these could only say malformed again) */
            if (ok && !(r->fails & REF_PARSE)) {
                if (!ref_text_ok(p.name, p.name_len) || !ref_text_ok(p.value, p.value_len)) {
                    r->fails |= REF_PARSE;
                }
                if (ref_name_seen(r, existing, p.name, p.name_len)) {
                    r->fails |= REF_PARSE;
                }
            }
            r->items[r->count++] = p;
        }
        i = end + 1;
    }
}

/*
 * The oracle: runs aipa_wire_parse on s into p (which may hold parameters
 * already) and compares with the reference. Returns the parser's result.
 */
static inline aipa_err check_wire_parse(const uint8_t *s, size_t n, unsigned flags,
                                        enum aipa_param_origin origin, struct aipa_params *p)
{
    struct ref_parse ref;
    struct aipa_wire_result res;
    size_t before = p->count;
    const char *first_name = before > 0 ? p->items[0].name : NULL;
    aipa_err err;

    ref_parse_run(&ref, s, n, (flags & AIPA_WIRE_PLUS_IS_SPACE) != 0, &p->limits, p);
    memset(&res, 0xA5, sizeof(res)); /* the parser must write it */
    err = aipa_wire_parse(s, n, flags, origin, p, &res);
    FUZZ_CHECK(memchr(res.detail, 0, sizeof(res.detail)) != NULL, "detail not NUL-terminated");
    if (ref.fails == 0) {
        FUZZ_CHECK(err == AIPA_OK, "parser failed with %s (%s \"%s\"), reference accepts",
                   aipa_errname(err),
                   aipa_code_info(res.code) ? aipa_code_info(res.code)->code : "?", res.detail);
        FUZZ_CHECK(res.code == AIPA_C_OK, "success with code %d", (int)res.code);
        FUZZ_CHECK(p->count == before + ref.count, "%zu parameters, reference %zu",
                   p->count - before, ref.count);
        for (size_t i = 0; i < ref.count; i++) {
            const struct aipa_param *a = &p->items[before + i];
            const struct ref_param *b = &ref.items[i];
            FUZZ_CHECK(a->name_len == b->name_len && memcmp(a->name, b->name, b->name_len) == 0,
                       "name %zu differs", i);
            FUZZ_CHECK(a->value_len == b->value_len &&
                           memcmp(a->value, b->value, b->value_len) == 0,
                       "value of %s differs (%zu vs %zu bytes)", b->name_len ? a->name : "",
                       a->value_len, b->value_len);
            FUZZ_CHECK(a->name[a->name_len] == '\0' && a->value[a->value_len] == '\0',
                       "parameter %zu not NUL-terminated", i);
            FUZZ_CHECK(a->origin == origin, "origin %d, expected %d", (int)a->origin, (int)origin);
        }
    } else {
        FUZZ_CHECK(err == AIPA_ETOOBIG || err == AIPA_EPARSE,
                   "reference rejects (classes 0x%x), parser gave %s", ref.fails,
                   aipa_errname(err));
        FUZZ_CHECK(err != AIPA_ETOOBIG || (ref.fails & REF_TOOBIG),
                   "parser says too big, reference only malformed");
        FUZZ_CHECK(err != AIPA_EPARSE || (ref.fails & REF_PARSE),
                   "parser says malformed (\"%s\"), reference only too big", res.detail);
        FUZZ_CHECK(res.code == AIPA_C_INVALID_PARAMETER, "rejection answered with Code %s",
                   aipa_code_info(res.code) ? aipa_code_info(res.code)->code : "(none)");
        /* wire.h: on any failure the list is restored to what it held. */
        FUZZ_CHECK(p->count == before, "failed parse left %zu parameters, had %zu", p->count,
                   before);
        FUZZ_CHECK(before == 0 || p->items[0].name == first_name, "failed parse moved the list");
    }
    return err;
}

#endif /* AIPA_FUZZ_WIRE_REF_H */
