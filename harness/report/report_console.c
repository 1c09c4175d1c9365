/*
 * Console output: the summary table (verdict counts per edition), each
 * failure and error with its reason and an `aipa call` line that reproduces
 * it, and the known failures that now pass.
 */
#include "aipa/conform.h"
#include "conform_int.h"

#include <stdio.h>
#include <string.h>

#define CONSOLE_LINE_MAX                                                                           \
    600 /* longer reasons and repro lines are cut (full in the JSON report)                        \
         */

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

static void print_result(FILE *f, const struct aipa_result *res, bool verbose)
{
    char vname[AIPA_VARIANT_NAME_MAX];

    aipa_result_variant_name(res, vname);
    fprintf(f, "%s %s [%s, %s]%s\n", aipa_verdict_name(res->verdict), res->c->id, vname,
            aipa_edition_name(res->edition), res->known ? " (known failure)" : "");
    if (res->reason != NULL) {
        print_cut(f, "    ", res->reason);
    }
    if (res->known && res->known_reason != NULL) {
        fprintf(f, "    baseline: %s\n", res->known_reason);
    }
    for (size_t i = 0; i < res->ex_count; i++) {
        const struct aipa_exchange *x = &res->ex[i];

        if (verbose) {
            fprintf(f, "    --- %s request\n%s\n    --- %s response\n%s\n", x->step,
                    x->request != NULL ? x->request : "", x->step,
                    x->response != NULL ? x->response : "");
        }
        /* The last exchange is the one that failed; earlier ones set it up. */
        if (x->repro != NULL && (verbose || i + 1 == res->ex_count)) {
            print_cut(f, "    reproduce: ", x->repro);
        }
    }
}

void aipa_report_print_summary(const struct aipa_report *r, FILE *f, bool verbose)
{
    size_t shown = 0;

    for (size_t i = 0; i < r->count; i++) {
        const struct aipa_result *res = &r->items[i];

        if ((res->verdict == AIPA_V_FAIL || res->verdict == AIPA_V_ERROR) &&
            (!res->known || verbose)) {
            if (shown++ == 0) {
                fprintf(f, "\nFailures and errors:\n");
            }
            print_result(f, res, verbose);
        }
    }
    if (verbose) {
        for (size_t i = 0; i < r->count; i++) {
            if (r->items[i].verdict == AIPA_V_PASS_NONSTRICT ||
                r->items[i].verdict == AIPA_V_SKIP) {
                print_result(f, &r->items[i], false);
            }
        }
    }
    if (r->fixed_count > 0) {
        fprintf(f, "\nKnown failures that now pass (remove them from the baseline):\n");
        for (size_t i = 0; i < r->fixed_count; i++) {
            fprintf(f, "  %s\n", r->fixed[i]);
        }
    }
    fprintf(f, "\n%-12s %6s %15s %6s %6s %6s %6s\n", "edition", "pass", "pass-nonstrict", "fail",
            "skip", "error", "known");
    for (unsigned ed = AIPA_ED_2018; ed <= AIPA_ED_2024; ed <<= 1) {
        if ((r->editions & ed) == 0) {
            continue;
        }
        fprintf(f, "%-12s %6zu %15zu %6zu %6zu %6zu %6zu\n", aipa_edition_name(ed),
                aipa_report_count(r, ed, AIPA_V_PASS),
                aipa_report_count(r, ed, AIPA_V_PASS_NONSTRICT),
                aipa_report_count(r, ed, AIPA_V_FAIL), aipa_report_count(r, ed, AIPA_V_SKIP),
                aipa_report_count(r, ed, AIPA_V_ERROR), aipa__report_known(r, ed));
    }
    if (r->throttled > 0) {
        fprintf(f, "%lu Throttling answer(s) resent and not judged\n", r->throttled);
    }
    fprintf(f, "%lu requests (+%lu fixture requests) in %.0f ms against %s; exit status %d\n",
            r->requests, r->fixture_requests, r->wall_ms, r->target != NULL ? r->target : "?",
            aipa_report_exit_code(r));
}
