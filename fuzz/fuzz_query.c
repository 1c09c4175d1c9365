/*
 * Target: aipa_wire_parse on a query string, aipa_wire_build_query
 * (reference_impl/lib/src/wire.c).
 *
 * Input: the query string exactly as it follows '?' on the request line
 * (so conformance requests and captured SDK URLs are seeds as they are).
 * Parsed as the server does: '+' is a space, default limits, origin QUERY.
 * Oracles:
 *   - differential: the parser accepts exactly what an independent reading
 *     of the wire.h contract accepts, with the same parameters, and
 *     rejects with a documented class and InvalidParameter otherwise;
 *   - round trip: a query built from the parsed list parses back to it;
 *   - aipa_params_remove of one of its names removes exactly those.
 */
#include "aipa/wire.h"
#include "fuzz_common.h"
#include "fuzz_wire_ref.h"

/*
 * aipa_params_remove on copy (equal to p) of one of p's names (picked by the
 * input's length): it removes exactly the parameters of that name, keeps
 * the others in order, and removes nothing the second time.
 */
static void check_remove(const struct aipa_params *p, struct aipa_params *copy, const char *name)
{
    size_t want = 0, removed, k = 0;

    for (size_t i = 0; i < p->count; i++) {
        want += strcmp(p->items[i].name, name) == 0;
    }
    removed = aipa_params_remove(copy, name);
    FUZZ_CHECK(removed == want, "remove(%s) removed %zu of %zu", name, removed, want);
    FUZZ_CHECK(copy->count == p->count - want && aipa_params_get(copy, name) == NULL,
               "remove(%s) left %zu of %zu parameters", name, copy->count, p->count);
    for (size_t i = 0; i < p->count; i++) {
        if (strcmp(p->items[i].name, name) != 0) {
            FUZZ_CHECK(strcmp(copy->items[k].name, p->items[i].name) == 0 &&
                           copy->items[k].value_len == p->items[i].value_len &&
                           memcmp(copy->items[k].value, p->items[i].value, p->items[i].value_len) ==
                               0,
                       "remove(%s) reordered or changed %s", name, p->items[i].name);
            k++;
        }
    }
    FUZZ_CHECK(aipa_params_remove(copy, name) == 0, "a second remove(%s) removed more", name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aipa_wire_limits lim = aipa_wire_default_limits();
    struct aipa_params p, back;
    struct aipa_wire_result res;
    struct aipa_buf q;
    aipa_err err;

    aipa_params_init(&p, &lim);
    err = check_wire_parse(data, size, AIPA_WIRE_PLUS_IS_SPACE, AIPA_PARAM_QUERY, &p);
    if (err == AIPA_OK) {
        /* The built query may be up to three times longer: lift the total limit. */
        struct aipa_wire_limits wide = lim;
        wide.max_total = SIZE_MAX;
        aipa_buf_init(&q, AIPA_PCT_ENCODED_MAX(size) + 1);
        err = aipa_wire_build_query(&p, &q);
        FUZZ_CHECK(err == AIPA_OK, "build_query failed: %s", aipa_errname(err));
        aipa_params_init(&back, &wide);
        err = aipa_wire_parse((const uint8_t *)(q.ptr != NULL ? q.ptr : ""), q.len,
                              AIPA_WIRE_PLUS_IS_SPACE, AIPA_PARAM_QUERY, &back, &res);
        FUZZ_CHECK(err == AIPA_OK, "built query \"%s\" does not parse: %s \"%s\"",
                   q.ptr != NULL ? q.ptr : "", aipa_errname(err), res.detail);
        FUZZ_CHECK(back.count == p.count, "round trip: %zu parameters became %zu", p.count,
                   back.count);
        for (size_t i = 0; i < p.count; i++) {
            FUZZ_CHECK(back.items[i].name_len == p.items[i].name_len &&
                           memcmp(back.items[i].name, p.items[i].name, p.items[i].name_len) == 0,
                       "round trip: name %zu changed", i);
            FUZZ_CHECK(back.items[i].value_len == p.items[i].value_len &&
                           memcmp(back.items[i].value, p.items[i].value, p.items[i].value_len) == 0,
                       "round trip: value of %s changed", p.items[i].name);
        }
        if (p.count > 0) {
            check_remove(&p, &back, p.items[size % p.count].name);
        }
        aipa_params_cleanup(&back);
        aipa_buf_cleanup(&q);
    }
    aipa_params_cleanup(&p);
    return 0;
}
