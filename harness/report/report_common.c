/*
 * What every report agrees on: the one set of counts, answer times per
 * Action, failures grouped by case, and the lines that rerun a result.
 */
#include "aipa/conform.h"
#include "conform_int.h"
#include "report_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- counts ---- */

void aipa_report_counts(const struct aipa_report *r, unsigned edition, struct aipa_counts *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < r->count; i++) {
        const struct aipa_result *res = &r->items[i];

        if (edition != 0 && res->edition != edition) {
            continue;
        }
        out->total++;
        switch (res->verdict) {
        case AIPA_V_PASS:
            out->pass++;
            break;
        case AIPA_V_PASS_NONSTRICT:
            out->nonstrict++;
            break;
        case AIPA_V_FAIL:
        case AIPA_V_ERROR:
            if (res->known) {
                out->fail_known++;
            } else if (res->verdict == AIPA_V_FAIL) {
                out->fail_new++;
            } else {
                out->error++;
            }
            break;
        case AIPA_V_SKIP:
        case AIPA_V_COUNT_:
            out->skip++;
            break;
        }
    }
}

const char *aipa_counts_name(size_t bucket)
{
    static const char *const names[AIPA_COUNT_BUCKETS] = {
        "pass", "pass-nonstrict", "fail-new", "fail-known", "skip", "error"};

    return bucket < AIPA_COUNT_BUCKETS ? names[bucket] : "?";
}

size_t aipa_counts_get(const struct aipa_counts *c, size_t bucket)
{
    const size_t v[AIPA_COUNT_BUCKETS] = {c->pass,       c->nonstrict, c->fail_new,
                                          c->fail_known, c->skip,      c->error};

    return bucket < AIPA_COUNT_BUCKETS ? v[bucket] : 0;
}

/* ---- answer times ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y ? 1 : 0;
}

static int cmp_action(const void *a, const void *b)
{
    return strcmp(((const struct aipa_action_latency *)a)->action,
                  ((const struct aipa_action_latency *)b)->action);
}

/* The nearest-rank percentile q (0..1) of sorted v[0..n). */
static double rank(const double *v, size_t n, double q)
{
    size_t k = (size_t)(q * (double)n + 0.999999);

    k = k == 0 ? 1 : k > n ? n : k;
    return v[k - 1];
}

aipa_err aipa_report_latency(const struct aipa_report *r, struct aipa_action_latency *out,
                             size_t cap, size_t *n)
{
    size_t total = 0, rows = 0;
    double *v;

    *n = 0;
    for (size_t i = 0; i < r->count; i++) {
        total += r->items[i].lat_count;
    }
    if (total == 0) {
        return AIPA_OK;
    }
    v = aipa_calloc(total, sizeof(*v));
    if (v == NULL) {
        return AIPA_ENOMEM;
    }
    /* One pass per Action not yet seen: few Actions, so this stays small. */
    for (size_t i = 0; i < r->count; i++) {
        for (size_t k = 0; k < r->items[i].lat_count; k++) {
            const char *a = r->items[i].lat[k].action;
            size_t m = 0;
            bool seen = false;

            for (size_t j = 0; j < rows && j < cap && !seen; j++) {
                seen = strcmp(out[j].action, a) == 0;
            }
            if (seen) {
                continue;
            }
            for (size_t ii = i; ii < r->count; ii++) {
                for (size_t kk = 0; kk < r->items[ii].lat_count; kk++) {
                    if (strcmp(r->items[ii].lat[kk].action, a) == 0) {
                        v[m++] = r->items[ii].lat[kk].ms;
                    }
                }
            }
            qsort(v, m, sizeof(*v), cmp_double);
            if (rows < cap) {
                memset(&out[rows], 0, sizeof(out[rows]));
                memcpy(out[rows].action, a, strlen(a) + 1);
                out[rows].count = m;
                out[rows].p50_ms = rank(v, m, 0.50);
                out[rows].p99_ms = rank(v, m, 0.99);
                out[rows].max_ms = v[m - 1];
            }
            rows++;
        }
    }
    aipa_free(v);
    *n = rows < cap ? rows : cap;
    qsort(out, *n, sizeof(*out), cmp_action);
    return AIPA_OK;
}

/* ---- groups ---- */

enum aipa__kind aipa__result_kind(const struct aipa_result *res)
{
    if (res->verdict == AIPA_V_FAIL || res->verdict == AIPA_V_ERROR) {
        return res->known ? AIPA_KIND_KNOWN : AIPA_KIND_NEW;
    }
    return res->verdict == AIPA_V_PASS_NONSTRICT ? AIPA_KIND_NONSTRICT : AIPA_KIND_NONE;
}

void aipa__groups_cleanup(struct aipa__groups *g)
{
    for (size_t i = 0; i < g->count; i++) {
        aipa_free(g->items[i].idx);
    }
    aipa_free(g->items);
    memset(g, 0, sizeof(*g));
}

static aipa_err group_add(struct aipa__group *gr, size_t i)
{
    if (gr->count == gr->cap) {
        size_t cap = gr->cap == 0 ? 16 : gr->cap * 2;
        size_t *p = aipa_realloc(gr->idx, cap * sizeof(*p));

        if (p == NULL) {
            return AIPA_ENOMEM;
        }
        gr->idx = p;
        gr->cap = cap;
    }
    gr->idx[gr->count++] = i;
    return AIPA_OK;
}

aipa_err aipa__groups_build(const struct aipa_report *r, struct aipa__groups *g)
{
    aipa_err e = AIPA_OK;

    memset(g, 0, sizeof(*g));
    /* One pass per kind keeps the kinds in order and cases in report order. */
    for (int k = AIPA_KIND_NEW; k < AIPA_KIND_NONE && e == AIPA_OK; k++) {
        size_t first = g->count;

        for (size_t i = 0; i < r->count && e == AIPA_OK; i++) {
            const struct aipa_result *res = &r->items[i];
            struct aipa__group *gr = NULL;

            if ((int)aipa__result_kind(res) != k) {
                continue;
            }
            for (size_t j = first; j < g->count && gr == NULL; j++) {
                gr = g->items[j].c == res->c ? &g->items[j] : NULL;
            }
            if (gr == NULL) {
                struct aipa__group *p = aipa_realloc(g->items, (g->count + 1) * sizeof(*p));

                if (p == NULL) {
                    e = AIPA_ENOMEM;
                    break;
                }
                g->items = p;
                gr = &g->items[g->count++];
                memset(gr, 0, sizeof(*gr));
                gr->c = res->c;
                gr->kind = (enum aipa__kind)k;
            }
            e = group_add(gr, i);
        }
    }
    if (e != AIPA_OK) {
        aipa__groups_cleanup(g);
    }
    return e;
}

size_t aipa__groups_of(const struct aipa__groups *g, enum aipa__kind k)
{
    size_t n = 0;

    for (size_t i = 0; i < g->count; i++) {
        n += g->items[i].kind == k;
    }
    return n;
}

void aipa__group_where(const struct aipa_report *r, const struct aipa__group *g,
                       struct aipa_buf *out)
{
    bool first_ed = true;

    for (unsigned ed = AIPA_ED_2018; ed <= AIPA_ED_2024; ed <<= 1) {
        size_t in_group = 0, ran = 0;

        for (size_t k = 0; k < g->count; k++) {
            in_group += r->items[g->idx[k]].edition == ed;
        }
        if (in_group == 0) {
            continue;
        }
        for (size_t i = 0; i < r->count; i++) {
            ran += r->items[i].c == g->c && r->items[i].edition == ed &&
                   r->items[i].verdict != AIPA_V_SKIP;
        }
        aipa__note(out, "%s%s: ", first_ed ? "" : "; ", aipa_edition_name(ed));
        first_ed = false;
        if (in_group == ran && ran > 1) {
            aipa__note(out, "all %zu variants", ran);
            continue;
        }
        for (size_t k = 0, shown = 0; k < g->count; k++) {
            const struct aipa_result *res = &r->items[g->idx[k]];
            char vname[AIPA_VARIANT_NAME_MAX];

            if (res->edition != ed) {
                continue;
            }
            aipa_result_variant_name(res, vname);
            aipa__note(out, "%s%s", shown++ == 0 ? "" : ", ", vname);
        }
    }
}

/* ---- rerun lines ---- */

/* s in single quotes for a POSIX shell. */
static void shell_quote(struct aipa_buf *out, const char *s)
{
    aipa__note(out, "'");
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '\'') {
            aipa__note(out, "'\\''");
        } else {
            aipa__note(out, "%c", *p);
        }
    }
    aipa__note(out, "'");
}

void aipa__rerun_line(const struct aipa_report *r, const struct aipa_result *res,
                      struct aipa_buf *out)
{
    char vname[AIPA_VARIANT_NAME_MAX];

    aipa_result_variant_name(res, vname);
    aipa__note(out, "aipa conform");
    if (r->embedded) {
        aipa__note(out, " --seed %llu", r->seed);
    } else {
        aipa__note(out, " --target ");
        shell_quote(out, r->target != NULL ? r->target : "?");
        if (r->profile_path != NULL) {
            aipa__note(out, " --profile ");
            shell_quote(out, r->profile_path);
        }
    }
    aipa__note(out, " --edition %s --only ", aipa_edition_name(res->edition));
    shell_quote(out, res->c->id);
    if (!res->case_level && res->variant.sig != 0) {
        aipa__note(out, " --variants %s", vname);
    }
    aipa__note(out, " -v");
}

const char *aipa__call_line(const struct aipa_result *res)
{
    return res->ex_count > 0 ? res->ex[res->ex_count - 1].repro : NULL;
}
