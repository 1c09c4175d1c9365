/*
 * The JSON report: the counts, answer times per Action, and every case x
 * variant with its verdict and reason; the redacted transcripts of failures
 * (of every result with --full-transcripts). It is also the input of
 * --rerun-failed.
 */
#include "aipa/conform.h"
#include "aipa/sign.h"
#include "conform_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool add_str(cJSON *o, const char *k, const char *v)
{
    return v == NULL ? cJSON_AddNullToObject(o, k) != NULL
                     : cJSON_AddStringToObject(o, k, v) != NULL;
}

static bool add_summary(cJSON *sum, const struct aipa_report *r, unsigned ed, const char *name)
{
    cJSON *o = cJSON_CreateObject();
    struct aipa_counts c;

    if (o == NULL) {
        return false;
    }
    cJSON_AddItemToObject(sum, name, o);
    aipa_report_counts(r, ed, &c);
    for (size_t b = 0; b < AIPA_COUNT_BUCKETS; b++) {
        if (cJSON_AddNumberToObject(o, aipa_counts_name(b), (double)aipa_counts_get(&c, b)) ==
            NULL) {
            return false;
        }
    }
    return cJSON_AddNumberToObject(o, "total", (double)c.total) != NULL;
}

/* Answer times per Action: [{action, count, p50_ms, p99_ms, max_ms}]. */
static bool add_latency(cJSON *root, const struct aipa_report *r)
{
    struct aipa_action_latency lat[32];
    size_t n = 0;
    cJSON *list = cJSON_AddArrayToObject(root, "latency");

    if (list == NULL || aipa_report_latency(r, lat, AIPA_ARRAY_LEN(lat), &n) != AIPA_OK) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();

        if (o == NULL) {
            return false;
        }
        cJSON_AddItemToArray(list, o);
        if (cJSON_AddStringToObject(o, "action", lat[i].action) == NULL ||
            cJSON_AddNumberToObject(o, "count", (double)lat[i].count) == NULL ||
            cJSON_AddNumberToObject(o, "p50_ms", lat[i].p50_ms) == NULL ||
            cJSON_AddNumberToObject(o, "p99_ms", lat[i].p99_ms) == NULL ||
            cJSON_AddNumberToObject(o, "max_ms", lat[i].max_ms) == NULL) {
            return false;
        }
    }
    return true;
}

/* Transcripts are kept for failures only, unless the run asked for all. */
static bool keeps_transcript(const struct aipa_report *r, const struct aipa_result *res)
{
    return r->full_transcripts || res->verdict == AIPA_V_FAIL || res->verdict == AIPA_V_ERROR;
}

static bool add_result(cJSON *list, const struct aipa_report *r, const struct aipa_result *res)
{
    cJSON *o = cJSON_CreateObject(), *tags, *steps;
    char vname[AIPA_VARIANT_NAME_MAX];
    bool ok;

    if (o == NULL) {
        return false;
    }
    cJSON_AddItemToArray(list, o);
    aipa_result_variant_name(res, vname);
    ok = add_str(o, "id", res->c->id) && add_str(o, "title", res->c->title) &&
         add_str(o, "level", res->c->level == AIPA_LEVEL_MUST ? "MUST" : "SHOULD") &&
         add_str(o, "clause", res->c->clause) && add_str(o, "source", res->c->source) &&
         add_str(o, "edition", aipa_edition_name(res->edition)) && add_str(o, "variant", vname) &&
         add_str(o, "verdict", aipa_verdict_name(res->verdict)) &&
         add_str(o, "reason", res->reason) &&
         cJSON_AddNumberToObject(o, "duration_ms", res->ms) != NULL &&
         cJSON_AddBoolToObject(o, "known_failure", res->known) != NULL &&
         add_str(o, "known_reason", res->known_reason);
    if (!ok) {
        return false;
    }
    tags = cJSON_AddArrayToObject(o, "tags");
    steps = cJSON_AddArrayToObject(o, "exchanges");
    if (tags == NULL || steps == NULL) {
        return false;
    }
    for (size_t i = 0; i < res->c->tag_count; i++) {
        cJSON *t = cJSON_CreateString(res->c->tags[i]);

        if (t == NULL) {
            return false;
        }
        cJSON_AddItemToArray(tags, t);
    }
    for (size_t i = 0; keeps_transcript(r, res) && i < res->ex_count; i++) {
        cJSON *x = cJSON_CreateObject();

        if (x == NULL) {
            return false;
        }
        cJSON_AddItemToArray(steps, x);
        if (!add_str(x, "step", res->ex[i].step) || !add_str(x, "request", res->ex[i].request) ||
            !add_str(x, "response", res->ex[i].response) ||
            !add_str(x, "repro", res->ex[i].repro)) {
            return false;
        }
    }
    return true;
}

aipa_err aipa_report_write_json(const struct aipa_report *r, struct aipa_buf *out)
{
    cJSON *root = cJSON_CreateObject(), *sum, *eds, *list, *fixed;
    char when[21];
    char seed[24];
    char *text = NULL;
    aipa_err e = AIPA_ENOMEM;
    bool ok;

    if (root == NULL) {
        return AIPA_ENOMEM;
    }
    aipa_format_timestamp((int64_t)r->started, when);
    snprintf(seed, sizeof(seed), "%llu", r->seed); /* a string: 64 bits do not fit a double */
    ok = add_str(root, "tool", "aipa conform") && cJSON_AddNumberToObject(root, "format", 1) &&
         add_str(root, "version", "0.1.0") && add_str(root, "target", r->target) &&
         add_str(root, "profile", r->profile) && add_str(root, "started", when) &&
         cJSON_AddNumberToObject(root, "wall_ms", r->wall_ms) != NULL &&
         cJSON_AddNumberToObject(root, "requests", (double)r->requests) != NULL &&
         cJSON_AddNumberToObject(root, "fixture_requests", (double)r->fixture_requests) != NULL &&
         cJSON_AddNumberToObject(root, "throttled", (double)r->throttled) != NULL &&
         cJSON_AddNumberToObject(root, "exit_code", aipa_report_exit_code(r)) != NULL &&
         cJSON_AddBoolToObject(root, "full_transcripts", r->full_transcripts) != NULL &&
         (r->max_response_ms > 0
              ? cJSON_AddNumberToObject(root, "max_response_ms", r->max_response_ms)
              : cJSON_AddNullToObject(root, "max_response_ms")) != NULL &&
         (r->embedded ? cJSON_AddStringToObject(root, "seed", seed)
                      : cJSON_AddNullToObject(root, "seed")) != NULL &&
         add_latency(root, r);
    eds = ok ? cJSON_AddArrayToObject(root, "editions") : NULL;
    sum = eds != NULL ? cJSON_AddObjectToObject(root, "summary") : NULL;
    ok = sum != NULL && add_summary(sum, r, 0, "all");
    for (unsigned ed = AIPA_ED_2018; ok && ed <= AIPA_ED_2024; ed <<= 1) {
        if (r->editions & ed) {
            cJSON *s = cJSON_CreateString(aipa_edition_name(ed));

            ok = s != NULL && add_summary(sum, r, ed, aipa_edition_name(ed));
            cJSON_AddItemToArray(eds, s);
        }
    }
    list = ok ? cJSON_AddArrayToObject(root, "results") : NULL;
    for (size_t i = 0; list != NULL && ok && i < r->count; i++) {
        ok = add_result(list, r, &r->items[i]);
    }
    fixed = ok && list != NULL ? cJSON_AddArrayToObject(root, "baseline_fixed") : NULL;
    for (size_t i = 0; fixed != NULL && ok && i < r->fixed_count; i++) {
        cJSON *s = cJSON_CreateString(r->fixed[i]);

        ok = s != NULL;
        cJSON_AddItemToArray(fixed, s);
    }
    if (ok && fixed != NULL) {
        text = cJSON_Print(root);
    }
    if (text != NULL) {
        e = aipa_buf_puts(out, text);
        if (e == AIPA_OK) {
            e = aipa_buf_putc(out, '\n');
        }
    }
    cJSON_free(text);
    cJSON_Delete(root);
    return e;
}

aipa_err aipa_write_file(const char *path, const struct aipa_buf *buf, struct aipa_buf *err)
{
    struct aipa_buf tmp;
    FILE *f;
    aipa_err e = AIPA_OK;

    aipa_buf_init(&tmp, 8192);
    if (aipa_buf_printf(&tmp, "%s.tmp%ld", path, (long)getpid()) != AIPA_OK) {
        aipa_buf_cleanup(&tmp);
        return AIPA_ENOMEM;
    }
    f = fopen(tmp.ptr, "wb");
    if (f == NULL) {
        aipa__note(err, "%s: cannot write: %s", path, strerror(errno));
        aipa_buf_cleanup(&tmp);
        return AIPA_EIO;
    }
    if (buf->len > 0 && fwrite(buf->ptr, 1, buf->len, f) != buf->len) {
        e = AIPA_EIO;
    }
    if (fclose(f) != 0) {
        e = AIPA_EIO;
    }
    if (e == AIPA_OK && rename(tmp.ptr, path) != 0) {
        e = AIPA_EIO;
    }
    if (e != AIPA_OK) {
        aipa__note(err, "%s: cannot write: %s", path, strerror(errno));
        (void)remove(tmp.ptr);
    }
    aipa_buf_cleanup(&tmp);
    return e;
}
