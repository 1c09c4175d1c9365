/*
 * Console output: each failing case once, with the editions and variants it
 * failed in, its reasons and the command that runs it again; the known
 * failures in a line each; the known failures that now pass; the table of
 * counts per edition (the same counts every report shows); answer times per
 * Action. Quiet prints the table and the last line only.
 */
#include "aipa/conform.h"
#include "conform_int.h"
#include "report_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONSOLE_LINE_MAX                                                                           \
    600                 /* longer reasons and repro lines are cut (full in the JSON report)        \
                         */
#define REASONS_SHOWN 3 /* distinct reasons printed per case */
#define LATENCY_SHOWN 3 /* Actions whose answer times the table line shows */

static void print_cut(FILE *f, const char *prefix, const char *s)
{
    size_t n = strlen(s);

    if (n <= CONSOLE_LINE_MAX) {
        fprintf(f, "%s%s\n", prefix, s);
    } else {
        fprintf(f, "%s%.*s ... [%zu bytes; the JSON report has all of it]\n", prefix,
                CONSOLE_LINE_MAX, s, n);
    }
}

static bool same_reason(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/* The distinct reasons of a group, each once with how many results gave it. */
static void print_reasons(const struct aipa_report *r, const struct aipa__group *g, FILE *f)
{
    size_t distinct = 0;

    for (size_t k = 0; k < g->count; k++) {
        const struct aipa_result *res = &r->items[g->idx[k]];
        size_t same = 0;
        bool earlier = false;
        char vname[AIPA_VARIANT_NAME_MAX];
        char prefix[128];

        for (size_t j = 0; j < k && !earlier; j++) {
            earlier = same_reason(r->items[g->idx[j]].reason, res->reason);
        }
        if (earlier) {
            continue;
        }
        if (distinct++ >= REASONS_SHOWN) {
            continue;
        }
        for (size_t j = k; j < g->count; j++) {
            same += same_reason(r->items[g->idx[j]].reason, res->reason);
        }
        aipa_result_variant_name(res, vname);
        if (same == g->count) {
            snprintf(prefix, sizeof(prefix), "    %s: ", aipa_verdict_name(res->verdict));
        } else {
            snprintf(prefix, sizeof(prefix), "    %s [%s, %s%s]: ", aipa_verdict_name(res->verdict),
                     vname, aipa_edition_name(res->edition), same > 1 ? " and others" : "");
        }
        print_cut(f, prefix, res->reason != NULL ? res->reason : "(no reason)");
    }
    if (distinct > REASONS_SHOWN) {
        fprintf(f, "    ... and %zu other reason(s) (the JSON and HTML reports have each)\n",
                distinct - REASONS_SHOWN);
    }
}

static void print_transcripts(const struct aipa_result *res, FILE *f)
{
    char vname[AIPA_VARIANT_NAME_MAX];

    aipa_result_variant_name(res, vname);
    fprintf(f, "    === %s, %s\n", vname, aipa_edition_name(res->edition));
    for (size_t i = 0; i < res->ex_count; i++) {
        const struct aipa_exchange *x = &res->ex[i];

        fprintf(f, "    --- %s request\n%s\n    --- %s response\n%s\n", x->step,
                x->request != NULL ? x->request : "", x->step,
                x->response != NULL ? x->response : "");
    }
}

static void print_group(const struct aipa_report *r, const struct aipa__group *g, FILE *f,
                        bool verbose)
{
    const struct aipa_result *first = &r->items[g->idx[0]];
    struct aipa_buf line;
    const char *call = aipa__call_line(first);

    aipa_buf_init(&line, 64 * 1024);
    aipa__group_where(r, g, &line);
    fprintf(f, "\n%s %s (%s) %s\n", g->kind == AIPA_KIND_NONSTRICT ? "NONSTRICT" : "FAIL", g->c->id,
            g->c->level == AIPA_LEVEL_MUST ? "MUST" : "SHOULD",
            g->c->title != NULL ? g->c->title : "");
    print_cut(f, "    in ", line.ptr != NULL ? line.ptr : "?");
    print_reasons(r, g, f);
    aipa_buf_reset(&line);
    aipa__rerun_line(r, first, &line);
    print_cut(f, "    rerun: ", line.ptr != NULL ? line.ptr : "?");
    if (call != NULL && !r->embedded) {
        print_cut(f, "    request: ", call);
    }
    for (size_t k = 0; verbose && k < g->count; k++) {
        print_transcripts(&r->items[g->idx[k]], f);
    }
    aipa_buf_cleanup(&line);
}

/* One line per case the baseline knows. */
static void print_known(const struct aipa_report *r, const struct aipa__groups *gs, FILE *f)
{
    size_t n = aipa__groups_of(gs, AIPA_KIND_KNOWN);

    if (n == 0) {
        return;
    }
    fprintf(f,
            "\nKnown failures (in the baseline; they do not change the exit status): %zu "
            "case(s)\n",
            n);
    for (size_t i = 0; i < gs->count; i++) {
        const struct aipa__group *g = &gs->items[i];
        struct aipa_buf line;
        const char *why = r->items[g->idx[0]].known_reason;

        if (g->kind != AIPA_KIND_KNOWN) {
            continue;
        }
        aipa_buf_init(&line, 64 * 1024);
        aipa__note(&line, "%s in ", g->c->id);
        aipa__group_where(r, g, &line);
        aipa__note(&line, " (baseline: %s)", why != NULL ? why : "");
        print_cut(f, "  ", line.ptr != NULL ? line.ptr : g->c->id);
        aipa_buf_cleanup(&line);
    }
}

static int by_count(const void *a, const void *b)
{
    size_t x = ((const struct aipa_action_latency *)a)->count;
    size_t y = ((const struct aipa_action_latency *)b)->count;

    return x > y ? -1 : x < y ? 1 : 0;
}

static int col_width(size_t bucket)
{
    size_t n = strlen(aipa_counts_name(bucket));

    return n > 6 ? (int)n : 6;
}

static void print_counts_row(FILE *f, const char *name, const struct aipa_counts *c)
{
    fprintf(f, "%-12s", name);
    for (size_t b = 0; b < AIPA_COUNT_BUCKETS; b++) {
        fprintf(f, " %*zu", col_width(b), aipa_counts_get(c, b));
    }
    fprintf(f, " %6zu\n", c->total);
}

static void print_table(const struct aipa_report *r, FILE *f)
{
    struct aipa_counts c;
    struct aipa_action_latency lat[16];
    size_t nlat = 0;

    fprintf(f, "\n%-12s", "edition");
    for (size_t b = 0; b < AIPA_COUNT_BUCKETS; b++) {
        fprintf(f, " %*s", col_width(b), aipa_counts_name(b));
    }
    fprintf(f, " %6s\n", "total");
    for (unsigned ed = AIPA_ED_2018; ed <= AIPA_ED_2024; ed <<= 1) {
        if ((r->editions & ed) != 0) {
            aipa_report_counts(r, ed, &c);
            print_counts_row(f, aipa_edition_name(ed), &c);
        }
    }
    if (r->editions == AIPA_ED_ALL) {
        aipa_report_counts(r, 0, &c);
        print_counts_row(f, "all", &c);
    }
    if (aipa_report_latency(r, lat, AIPA_ARRAY_LEN(lat), &nlat) == AIPA_OK && nlat > 0) {
        /* The Actions answered most often; negative cases name many others once. */
        qsort(lat, nlat, sizeof(lat[0]), by_count);
        fprintf(f, "answer times:");
        for (size_t i = 0; i < nlat && i < LATENCY_SHOWN; i++) {
            fprintf(f, "%s %s p50 %.1f ms, p99 %.1f ms (%zu)%s", i == 0 ? "" : ";", lat[i].action,
                    lat[i].p50_ms, lat[i].p99_ms, lat[i].count,
                    r->max_response_ms > 0 && lat[i].max_ms > r->max_response_ms
                        ? " over --max-response-ms"
                        : "");
        }
        if (nlat > LATENCY_SHOWN) {
            fprintf(f, "; %zu more in the JSON and HTML reports", nlat - LATENCY_SHOWN);
        }
        fprintf(f, "\n");
    }
}

void aipa_report_print_summary(const struct aipa_report *r, FILE *f, bool verbose)
{
    aipa_report_print(r, f, verbose ? AIPA_PRINT_VERBOSE : AIPA_PRINT_NORMAL);
}

void aipa_report_print(const struct aipa_report *r, FILE *f, enum aipa_print_mode mode)
{
    struct aipa__groups gs;
    bool grouped = false;

    if (mode != AIPA_PRINT_QUIET) {
        grouped = aipa__groups_build(r, &gs) == AIPA_OK;
        if (!grouped) {
            fprintf(f, "\n(out of memory grouping the failures: the JSON report has them)\n");
        }
    }
    if (grouped) {
        size_t n = aipa__groups_of(&gs, AIPA_KIND_NEW);

        if (n > 0) {
            fprintf(f,
                    "\nFailures: %zu case(s), each with the editions and variants it failed "
                    "in\n",
                    n);
        }
        for (size_t i = 0; i < gs.count; i++) {
            if (gs.items[i].kind == AIPA_KIND_NEW ||
                (mode == AIPA_PRINT_VERBOSE && gs.items[i].kind == AIPA_KIND_NONSTRICT)) {
                print_group(r, &gs.items[i], f, mode == AIPA_PRINT_VERBOSE);
            }
        }
        print_known(r, &gs, f);
        aipa__groups_cleanup(&gs);
    }
    if (mode != AIPA_PRINT_QUIET && r->fixed_count > 0) {
        fprintf(f, "\nKnown failures that now pass (remove them from the baseline):\n");
        for (size_t i = 0; i < r->fixed_count; i++) {
            fprintf(f, "  %s\n", r->fixed[i]);
        }
    }
    print_table(r, f);
    if (r->throttled > 0) {
        fprintf(f, "%lu Throttling answer(s) resent and not judged\n", r->throttled);
    }
    fprintf(f, "%lu requests (+%lu fixture requests) in %.0f ms against %s; exit status %d\n",
            r->requests, r->fixture_requests, r->wall_ms, r->target != NULL ? r->target : "?",
            aipa_report_exit_code(r));
}
