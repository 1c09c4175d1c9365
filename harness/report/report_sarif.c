/*
 * The SARIF 2.1.0 report, for code-scanning dashboards: one rule per case
 * that did not pass cleanly, one result per failing (level "error") or
 * nonstrict (level "note") case x variant, located at the case file
 * relative to %SRCROOT% (the source tree holding conformance/). A baselined
 * failure is baselineState "unchanged", any other "new", so a dashboard
 * shows only regressions as new alerts. Harness errors (the run could not
 * judge) are tool notifications, not results: they say nothing about the
 * target. The run's properties carry the counts every report shows.
 */
#include "aipa/conform.h"
#include "conform_int.h"
#include "report_int.h"

#include <stdio.h>
#include <string.h>

#ifndef AIPA_HOMEPAGE_URL
#define AIPA_HOMEPAGE_URL "https://github.com/aipa-project/aipa"
#endif
#define AIPA_CONFORM_DOC AIPA_HOMEPAGE_URL "/blob/main/docs/conform.md"
#define AIPA_CASES_URL   AIPA_HOMEPAGE_URL "/blob/main/"

/* The case file as a repository-relative URI when it lies under conformance/. */
static const char *case_uri(const struct aipa_case *c)
{
    const char *o = c->origin != NULL ? c->origin : "";
    const char *at = strstr(o, "conformance/");

    return at != NULL ? at : o;
}

static bool judged(const struct aipa_result *res)
{
    return res->verdict == AIPA_V_FAIL || res->verdict == AIPA_V_PASS_NONSTRICT;
}

/* Index of the case's rule in rules (added on first use). */
static int rule_index(cJSON *rules, const struct aipa_case *c)
{
    int n = cJSON_GetArraySize(rules);
    cJSON *r, *d, *props;

    for (int i = 0; i < n; i++) {
        const char *id = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(rules, i), "id"));

        if (id != NULL && strcmp(id, c->id) == 0) {
            return i;
        }
    }
    r = cJSON_CreateObject();
    if (r == NULL) {
        return -1;
    }
    cJSON_AddItemToArray(rules, r);
    d = cJSON_AddObjectToObject(r, "shortDescription");
    props = cJSON_AddObjectToObject(r, "properties");
    if (cJSON_AddStringToObject(r, "id", c->id) == NULL || d == NULL || props == NULL ||
        cJSON_AddStringToObject(d, "text", c->title != NULL ? c->title : c->id) == NULL ||
        cJSON_AddStringToObject(props, "level", c->level == AIPA_LEVEL_MUST ? "MUST" : "SHOULD") ==
            NULL ||
        (c->clause != NULL && cJSON_AddStringToObject(props, "clause", c->clause) == NULL)) {
        return -1;
    }
    if (strncmp(case_uri(c), "conformance/", 12) == 0) {
        struct aipa_buf u;
        bool ok;

        aipa_buf_init(&u, 4096);
        aipa__note(&u, "%s%s", AIPA_CASES_URL, case_uri(c));
        ok = u.ptr != NULL && cJSON_AddStringToObject(r, "helpUri", u.ptr) != NULL;
        aipa_buf_cleanup(&u);
        if (!ok) {
            return -1;
        }
    }
    return n;
}

static bool add_result(cJSON *results, cJSON *rules, const struct aipa_report *rep,
                       const struct aipa_result *res)
{
    cJSON *r = cJSON_CreateObject();
    cJSON *msg, *locs, *loc, *pl, *al, *fp;
    char vname[AIPA_VARIANT_NAME_MAX];
    char key[512];
    struct aipa_buf text;
    int idx = rule_index(rules, res->c);
    bool ok;

    if (r == NULL || idx < 0) {
        cJSON_Delete(r);
        return false;
    }
    cJSON_AddItemToArray(results, r);
    aipa_result_variant_name(res, vname);
    aipa_buf_init(&text, 64 * 1024);
    aipa__note(&text, "%s (%s, %s): %s%s", res->c->id, aipa_edition_name(res->edition), vname,
               res->verdict == AIPA_V_FAIL ? "" : "only nonstrict: ",
               res->reason != NULL ? res->reason : aipa_verdict_name(res->verdict));
    /* The embedded server of the run is gone: its rerun line starts one with the same seed. */
    if (rep->embedded || aipa__call_line(res) == NULL) {
        aipa__note(&text, ". Run it again: ");
        aipa__rerun_line(rep, res, &text);
    } else {
        aipa__note(&text, ". Reproduce: %s", aipa__call_line(res));
    }
    snprintf(key, sizeof(key), "%s|%s|%s", res->c->id, aipa_edition_name(res->edition), vname);
    msg = cJSON_AddObjectToObject(r, "message");
    locs = cJSON_AddArrayToObject(r, "locations");
    loc = cJSON_CreateObject();
    ok = msg != NULL && locs != NULL && loc != NULL;
    if (ok) {
        cJSON_AddItemToArray(locs, loc);
    } else {
        cJSON_Delete(loc);
    }
    pl = ok ? cJSON_AddObjectToObject(loc, "physicalLocation") : NULL;
    al = pl != NULL ? cJSON_AddObjectToObject(pl, "artifactLocation") : NULL;
    fp = al != NULL ? cJSON_AddObjectToObject(r, "partialFingerprints") : NULL;
    ok = fp != NULL && text.ptr != NULL &&
         cJSON_AddStringToObject(r, "ruleId", res->c->id) != NULL &&
         cJSON_AddNumberToObject(r, "ruleIndex", idx) != NULL &&
         cJSON_AddStringToObject(r, "level", res->verdict == AIPA_V_FAIL ? "error" : "note") !=
             NULL &&
         cJSON_AddStringToObject(r, "baselineState", res->known ? "unchanged" : "new") != NULL &&
         cJSON_AddStringToObject(msg, "text", text.ptr) != NULL &&
         cJSON_AddStringToObject(al, "uri", case_uri(res->c)) != NULL &&
         (strncmp(case_uri(res->c), "conformance/", 12) != 0 ||
          cJSON_AddStringToObject(al, "uriBaseId", "%SRCROOT%") != NULL) &&
         cJSON_AddStringToObject(fp, "aipaCase/v1", key) != NULL;
    aipa_buf_cleanup(&text);
    return ok;
}

/* properties.latency: answer times per Action, as the other reports give them. */
static bool add_latency(cJSON *props, const struct aipa_report *r)
{
    struct aipa_action_latency lat[32];
    size_t n = 0;
    cJSON *list = cJSON_AddArrayToObject(props, "latency");

    if (list == NULL || aipa_report_latency(r, lat, AIPA_ARRAY_LEN(lat), &n) != AIPA_OK) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();

        cJSON_AddItemToArray(list, o);
        if (o == NULL || cJSON_AddStringToObject(o, "action", lat[i].action) == NULL ||
            cJSON_AddNumberToObject(o, "count", (double)lat[i].count) == NULL ||
            cJSON_AddNumberToObject(o, "p50_ms", lat[i].p50_ms) == NULL ||
            cJSON_AddNumberToObject(o, "p99_ms", lat[i].p99_ms) == NULL ||
            cJSON_AddNumberToObject(o, "max_ms", lat[i].max_ms) == NULL) {
            return false;
        }
    }
    return true;
}

/* properties.counts: the one set of counts, as the console and the other reports show it. */
static bool add_counts(cJSON *props, const struct aipa_report *r)
{
    cJSON *o = cJSON_AddObjectToObject(props, "counts");
    struct aipa_counts c;

    if (o == NULL) {
        return false;
    }
    aipa_report_counts(r, 0, &c);
    for (size_t b = 0; b < AIPA_COUNT_BUCKETS; b++) {
        if (cJSON_AddNumberToObject(o, aipa_counts_name(b), (double)aipa_counts_get(&c, b)) ==
            NULL) {
            return false;
        }
    }
    return cJSON_AddNumberToObject(o, "total", (double)c.total) != NULL && add_latency(props, r);
}

aipa_err aipa_report_write_sarif(const struct aipa_report *r, struct aipa_buf *out)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *runs, *run, *driver, *rules, *results, *invs, *inv, *notes, *props;
    char *s = NULL;
    aipa_err e = AIPA_ENOMEM;
    size_t errors = 0;

    if (doc == NULL) {
        return AIPA_ENOMEM;
    }
    if (cJSON_AddStringToObject(doc, "$schema", "https://json.schemastore.org/sarif-2.1.0.json") ==
            NULL ||
        cJSON_AddStringToObject(doc, "version", "2.1.0") == NULL ||
        (runs = cJSON_AddArrayToObject(doc, "runs")) == NULL ||
        (run = cJSON_CreateObject()) == NULL) {
        goto out;
    }
    cJSON_AddItemToArray(runs, run);
    driver = cJSON_AddObjectToObject(cJSON_AddObjectToObject(run, "tool"), "driver");
    rules = driver != NULL ? cJSON_AddArrayToObject(driver, "rules") : NULL;
    results = cJSON_AddArrayToObject(run, "results");
    invs = cJSON_AddArrayToObject(run, "invocations");
    inv = invs != NULL ? cJSON_CreateObject() : NULL;
    if (inv != NULL) {
        cJSON_AddItemToArray(invs, inv);
    }
    notes = inv != NULL ? cJSON_AddArrayToObject(inv, "toolExecutionNotifications") : NULL;
    props = cJSON_AddObjectToObject(run, "properties");
    if (rules == NULL || results == NULL || notes == NULL || props == NULL ||
        cJSON_AddStringToObject(driver, "name", "aipa conform") == NULL ||
        cJSON_AddStringToObject(driver, "version", "0.1.0") == NULL ||
        cJSON_AddStringToObject(driver, "informationUri", AIPA_CONFORM_DOC) == NULL ||
        cJSON_AddStringToObject(props, "target", r->target != NULL ? r->target : "") == NULL ||
        !add_counts(props, r)) {
        goto out;
    }
    for (size_t i = 0; i < r->count; i++) {
        const struct aipa_result *res = &r->items[i];

        if (judged(res)) {
            if (!add_result(results, rules, r, res)) {
                goto out;
            }
        } else if (res->verdict == AIPA_V_ERROR) {
            cJSON *n = cJSON_CreateObject();
            cJSON *m = n != NULL ? cJSON_AddObjectToObject(n, "message") : NULL;
            char vname[AIPA_VARIANT_NAME_MAX];
            struct aipa_buf text;

            errors++;
            aipa_result_variant_name(res, vname);
            aipa_buf_init(&text, 64 * 1024);
            aipa__note(&text, "%s (%s, %s) could not be judged: %s", res->c->id,
                       aipa_edition_name(res->edition), vname,
                       res->reason != NULL ? res->reason : "harness error");
            if (n != NULL) {
                cJSON_AddItemToArray(notes, n);
            }
            if (m == NULL || text.ptr == NULL ||
                cJSON_AddStringToObject(n, "level", "error") == NULL ||
                cJSON_AddStringToObject(m, "text", text.ptr) == NULL) {
                aipa_buf_cleanup(&text);
                goto out;
            }
            aipa_buf_cleanup(&text);
        }
    }
    if (cJSON_AddBoolToObject(inv, "executionSuccessful", errors == 0) == NULL) {
        goto out;
    }
    s = cJSON_Print(doc);
    e = s == NULL ? AIPA_ENOMEM : aipa_buf_puts(out, s);
    if (e == AIPA_OK) {
        e = aipa_buf_putc(out, '\n');
    }
out:
    cJSON_free(s);
    cJSON_Delete(doc);
    return e;
}
