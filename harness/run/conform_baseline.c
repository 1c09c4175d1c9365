/*
 * Baselines (known failures with reasons, so CI gates only on regressions)
 * and re-running the failures of an earlier JSON report.
 *
 * Baseline file:
 *   {"format": 1, "known_failures": [
 *      {"id": "allocate/x/(glob)", "variant": "v3-(glob)", "editions": ["2024-12-20"],
 *       "reason": "why it is known to fail"},
 *      {"id": "auth/y", "variants": ["v1-get-xml", "v3-*"], "reason": "..."}]}
 * id, variant and each of variants are fnmatch globs; variant (or variants)
 * and editions are optional.
 */
#include "aipa/conform.h"
#include "conform_int.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define BASELINE_MAX_BYTES            (4u * 1024u * 1024u)
#define BASELINE_MAX_ENTRIES          10000u
#define REPORT_MAX_BYTES              (256u * 1024u * 1024u)
#define AIPA_CASE_MAX_VARIANTS_PER_ED 16 /* 10 variants, or one case-level result */

aipa_err aipa__read_file(const char *path, size_t max, char **out, size_t *len,
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
        aipa__note(err, "%s: cannot open: %s", path, strerror(errno));
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
    if (e != AIPA_OK) {
        aipa__note(err, "%s: %s", path, e == AIPA_EIO ? "read error" : aipa_strerror(e));
        aipa_buf_cleanup(&b);
        return e;
    }
    if (b.ptr == NULL && (e = aipa_buf_puts(&b, "")) != AIPA_OK) {
        aipa__note(err, "%s: %s", path, aipa_strerror(e));
        return e;
    }
    *len = b.len;
    *out = aipa_buf_steal(&b, NULL);
    aipa_buf_cleanup(&b);
    return *out != NULL ? AIPA_OK : AIPA_ENOMEM;
}

/* The whole file, or AIPA_ETOOBIG when it is longer than max. */
static aipa_err read_whole(const char *path, size_t max, char **out, size_t *len,
                           struct aipa_buf *err)
{
    AIPA_TRY(aipa__read_file(path, max, out, len, err));
    if (*len > max) {
        aipa__note(err, "%s: file too large", path);
        aipa_free(*out);
        *out = NULL;
        *len = 0;
        return AIPA_ETOOBIG;
    }
    return AIPA_OK;
}

/* ---- baseline ---- */

void aipa_baseline_cleanup(struct aipa_baseline *b)
{
    for (size_t i = 0; i < b->count; i++) {
        aipa_free(b->items[i].id);
        aipa_free(b->items[i].variant);
        aipa_free(b->items[i].reason);
        for (size_t k = 0; k < b->items[i].variant_count; k++) {
            aipa_free(b->items[i].variants[k]);
        }
        aipa_free(b->items[i].variants);
    }
    aipa_free(b->items);
    memset(b, 0, sizeof(*b));
}

static aipa_err berr(struct aipa_buf *err, const char *origin, size_t i, const char *msg)
{
    aipa__note(err, "%s: known_failures[%zu]: %s", origin, i, msg);
    return AIPA_EPARSE;
}

/* "variants": a non-empty list of non-empty strings, not beside "variant". */
static aipa_err parse_variants(struct aipa_baseline_entry *en, const cJSON *list, bool have_one)
{
    const cJSON *x;
    size_t n;

    if (list == NULL) {
        return AIPA_OK;
    }
    if (have_one || !cJSON_IsArray(list) || (n = (size_t)cJSON_GetArraySize(list)) == 0 || n > 64) {
        return AIPA_EPARSE;
    }
    en->variants = aipa_calloc(n, sizeof(*en->variants));
    if (en->variants == NULL) {
        return AIPA_ENOMEM;
    }
    cJSON_ArrayForEach(x, list)
    {
        if (!cJSON_IsString(x) || x->valuestring[0] == '\0') {
            return AIPA_EPARSE;
        }
        en->variants[en->variant_count] = aipa_strdup(x->valuestring);
        if (en->variants[en->variant_count] == NULL) {
            return AIPA_ENOMEM;
        }
        en->variant_count++;
    }
    return AIPA_OK;
}

aipa_err aipa_baseline_parse(struct aipa_baseline *b, const char *json, size_t len,
                             const char *origin, struct aipa_buf *err)
{
    cJSON *root = NULL;
    const cJSON *list, *it;
    aipa_err e = AIPA_OK;
    size_t n;

    memset(b, 0, sizeof(*b));
    if (len > BASELINE_MAX_BYTES) {
        aipa__note(err, "%s: larger than %u bytes", origin, BASELINE_MAX_BYTES);
        return AIPA_ETOOBIG;
    }
    root = cJSON_ParseWithLength(json, len);
    if (!cJSON_IsObject(root)) {
        aipa__note(err, "%s: not a JSON object", origin);
        e = AIPA_EPARSE;
        goto out;
    }
    it = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (it != NULL && !(cJSON_IsNumber(it) && it->valuedouble == 1)) {
        aipa__note(err, "%s: format: only version 1 exists", origin);
        e = AIPA_EPARSE;
        goto out;
    }
    list = cJSON_GetObjectItemCaseSensitive(root, "known_failures");
    if (!cJSON_IsArray(list)) {
        aipa__note(err, "%s: known_failures: a list is required", origin);
        e = AIPA_EPARSE;
        goto out;
    }
    n = (size_t)cJSON_GetArraySize(list);
    if (n > BASELINE_MAX_ENTRIES) {
        aipa__note(err, "%s: more than %u entries", origin, BASELINE_MAX_ENTRIES);
        e = AIPA_ETOOBIG;
        goto out;
    }
    b->items = aipa_calloc(n, sizeof(*b->items));
    if (b->items == NULL) {
        e = AIPA_ENOMEM;
        goto out;
    }
    cJSON_ArrayForEach(it, list)
    {
        struct aipa_baseline_entry *en = &b->items[b->count];
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
        const cJSON *var = cJSON_GetObjectItemCaseSensitive(it, "variant");
        const cJSON *eds = cJSON_GetObjectItemCaseSensitive(it, "editions");
        const cJSON *why = cJSON_GetObjectItemCaseSensitive(it, "reason");
        const cJSON *k;

        b->count++;
        if (!cJSON_IsObject(it)) {
            e = berr(err, origin, b->count - 1, "must be an object");
            goto out;
        }
        cJSON_ArrayForEach(k, it)
        {
            if (strcmp(k->string, "id") != 0 && strcmp(k->string, "variant") != 0 &&
                strcmp(k->string, "variants") != 0 && strcmp(k->string, "editions") != 0 &&
                strcmp(k->string, "reason") != 0 && k->string[0] != '_') {
                e = berr(err, origin, b->count - 1, "unknown key");
                goto out;
            }
        }
        if (!cJSON_IsString(id) || id->valuestring[0] == '\0') {
            e = berr(err, origin, b->count - 1, "id (a case id or glob) is required");
            goto out;
        }
        if (!cJSON_IsString(why) || why->valuestring[0] == '\0') {
            e = berr(err, origin, b->count - 1, "reason is required: say why it fails");
            goto out;
        }
        if (var != NULL && (!cJSON_IsString(var) || var->valuestring[0] == '\0')) {
            e = berr(err, origin, b->count - 1, "variant must be a variant name or glob");
            goto out;
        }
        en->editions = AIPA_ED_ALL;
        if (eds != NULL) {
            const cJSON *x;

            en->editions = 0;
            cJSON_ArrayForEach(x, eds)
            {
                unsigned ed = cJSON_IsString(x) ? aipa_edition_parse(x->valuestring) : 0;

                if (ed == 0) {
                    e = berr(err, origin, b->count - 1, "editions: unknown edition");
                    goto out;
                }
                en->editions |= ed;
            }
            if (!cJSON_IsArray(eds) || en->editions == 0) {
                e = berr(err, origin, b->count - 1, "editions: a non-empty list");
                goto out;
            }
        }
        e = parse_variants(en, cJSON_GetObjectItemCaseSensitive(it, "variants"), var != NULL);
        if (e != AIPA_OK) {
            if (e == AIPA_EPARSE) {
                berr(err, origin, b->count - 1,
                     "variants must be a non-empty list of variant names or globs (and "
                     "not given with variant)");
            }
            goto out;
        }
        en->id = aipa_strdup(id->valuestring);
        en->variant = aipa_strdup(var != NULL ? var->valuestring : "*");
        en->reason = aipa_strdup(why->valuestring);
        if (en->id == NULL || en->variant == NULL || en->reason == NULL) {
            e = AIPA_ENOMEM;
            goto out;
        }
    }
out:
    cJSON_Delete(root);
    if (e != AIPA_OK) {
        aipa_baseline_cleanup(b);
    }
    return e;
}

aipa_err aipa_baseline_load(struct aipa_baseline *b, const char *path, struct aipa_buf *err)
{
    char *data;
    size_t len;
    aipa_err e;

    memset(b, 0, sizeof(*b));
    AIPA_TRY(read_whole(path, BASELINE_MAX_BYTES, &data, &len, err));
    e = aipa_baseline_parse(b, data, len, path, err);
    aipa_free(data);
    return e;
}

static bool entry_matches(const struct aipa_baseline_entry *en, const struct aipa_result *res)
{
    char vname[AIPA_VARIANT_NAME_MAX];

    aipa_result_variant_name(res, vname);
    if ((en->editions & res->edition) == 0 || fnmatch(en->id, res->c->id, 0) != 0) {
        return false;
    }
    if (en->variant_count == 0) {
        return fnmatch(en->variant, vname, 0) == 0;
    }
    for (size_t k = 0; k < en->variant_count; k++) {
        if (fnmatch(en->variants[k], vname, 0) == 0) {
            return true;
        }
    }
    return false;
}

aipa_err aipa_baseline_apply(struct aipa_baseline *b, struct aipa_report *r)
{
    r->have_baseline = true;
    for (size_t i = 0; i < r->count; i++) {
        struct aipa_result *res = &r->items[i];

        if (res->verdict != AIPA_V_FAIL && res->verdict != AIPA_V_ERROR) {
            continue;
        }
        for (size_t k = 0; k < b->count; k++) {
            if (entry_matches(&b->items[k], res)) {
                res->known = true;
                res->known_reason = b->items[k].reason;
                b->items[k].used = true;
                break;
            }
        }
    }
    for (size_t k = 0; k < b->count; k++) {
        const struct aipa_baseline_entry *en = &b->items[k];
        bool passes = false;

        if (en->used) {
            continue;
        }
        for (size_t i = 0; i < r->count && !passes; i++) {
            passes = (r->items[i].verdict == AIPA_V_PASS ||
                      r->items[i].verdict == AIPA_V_PASS_NONSTRICT) &&
                     entry_matches(en, &r->items[i]);
        }
        if (passes) {
            struct aipa_buf line;
            char **p = aipa_realloc(r->fixed, (r->fixed_count + 1) * sizeof(*p));

            if (p == NULL) {
                return AIPA_ENOMEM;
            }
            r->fixed = p;
            aipa_buf_init(&line, 4096);
            aipa__note(&line, "%s [%s] (known failure now passes: %s)", en->id, en->variant,
                       en->reason);
            r->fixed[r->fixed_count] =
                line.ptr != NULL ? aipa_buf_steal(&line, NULL) : aipa_strdup(en->id);
            aipa_buf_cleanup(&line);
            if (r->fixed[r->fixed_count] == NULL) {
                return AIPA_ENOMEM;
            }
            r->fixed_count++;
        }
    }
    return AIPA_OK;
}

/* The failing results of one case in one edition, in report order, and how
 * many of its results in that edition ran (were not skipped). */
struct case_fails {
    const struct aipa_result *res[AIPA_CASE_MAX_VARIANTS_PER_ED];
    size_t count;
    size_t ran;
};

static void collect(const struct aipa_report *r, const struct aipa_case *c, unsigned ed,
                    struct case_fails *cf)
{
    memset(cf, 0, sizeof(*cf));
    for (size_t i = 0; i < r->count; i++) {
        const struct aipa_result *res = &r->items[i];

        if (res->c != c || res->edition != ed || res->verdict == AIPA_V_SKIP) {
            continue;
        }
        cf->ran++;
        if ((res->verdict == AIPA_V_FAIL || res->verdict == AIPA_V_ERROR) &&
            cf->count < AIPA_ARRAY_LEN(cf->res)) {
            cf->res[cf->count++] = res;
        }
    }
}

static bool same_variants(const struct case_fails *a, const struct case_fails *b)
{
    if (a->count != b->count || (a->count == a->ran) != (b->count == b->ran)) {
        return false;
    }
    for (size_t k = 0; k < a->count; k++) {
        char x[AIPA_VARIANT_NAME_MAX], y[AIPA_VARIANT_NAME_MAX];

        aipa_result_variant_name(a->res[k], x);
        aipa_result_variant_name(b->res[k], y);
        if (strcmp(x, y) != 0) {
            return false;
        }
    }
    return true;
}

/* One entry: the case, the variants unless all failed, the editions unless both. */
static bool add_entry(cJSON *list, const struct case_fails *cf, unsigned editions)
{
    cJSON *en = cJSON_CreateObject();
    struct aipa_buf why;
    const struct aipa_result *first = cf->res[0];
    bool ok = en != NULL;

    if (!ok) {
        return false;
    }
    cJSON_AddItemToArray(list, en);
    aipa_buf_init(&why, 1024);
    aipa__note(&why, "%s in %zu of %zu variant(s) when recorded: %.160s",
               aipa_verdict_name(first->verdict), cf->count, cf->ran,
               first->reason != NULL ? first->reason : "");
    ok = cJSON_AddStringToObject(en, "id", first->c->id) != NULL;
    if (ok && cf->count < cf->ran) {
        cJSON *vs = cJSON_AddArrayToObject(en, "variants");

        ok = vs != NULL;
        for (size_t k = 0; ok && k < cf->count; k++) {
            char vname[AIPA_VARIANT_NAME_MAX];
            cJSON *v;

            aipa_result_variant_name(cf->res[k], vname);
            v = cJSON_CreateString(vname);
            ok = v != NULL;
            cJSON_AddItemToArray(vs, v);
        }
    }
    if (ok && editions != AIPA_ED_ALL) {
        cJSON *eds = cJSON_AddArrayToObject(en, "editions");

        ok = eds != NULL;
        for (unsigned ed = AIPA_ED_2018; ok && ed <= AIPA_ED_2024; ed <<= 1) {
            if (editions & ed) {
                cJSON *v = cJSON_CreateString(aipa_edition_name(ed));

                ok = v != NULL;
                cJSON_AddItemToArray(eds, v);
            }
        }
    }
    ok = ok && why.ptr != NULL && cJSON_AddStringToObject(en, "reason", why.ptr) != NULL;
    aipa_buf_cleanup(&why);
    return ok;
}

aipa_err aipa_baseline_write(const struct aipa_report *r, struct aipa_buf *out)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *list = cJSON_CreateArray();
    char *text = NULL;
    aipa_err e = AIPA_ENOMEM;

    if (root == NULL || list == NULL) {
        cJSON_Delete(list);
        goto out;
    }
    if (cJSON_AddNumberToObject(root, "format", 1) == NULL) {
        cJSON_Delete(list);
        goto out;
    }
    cJSON_AddItemToObject(root, "known_failures", list);
    for (size_t i = 0; i < r->count; i++) {
        const struct aipa_case *c = r->items[i].c;
        struct case_fails f18, f24;
        bool seen = false;

        if (r->items[i].verdict != AIPA_V_FAIL && r->items[i].verdict != AIPA_V_ERROR) {
            continue;
        }
        for (size_t j = 0; j < i && !seen; j++) {
            seen = r->items[j].c == c &&
                   (r->items[j].verdict == AIPA_V_FAIL || r->items[j].verdict == AIPA_V_ERROR);
        }
        if (seen) {
            continue; /* the case has its entry already */
        }
        collect(r, c, AIPA_ED_2018, &f18);
        collect(r, c, AIPA_ED_2024, &f24);
        if (f18.count > 0 && f24.count > 0 && same_variants(&f18, &f24)) {
            if (!add_entry(list, &f18, AIPA_ED_ALL)) {
                goto out;
            }
            continue;
        }
        if ((f18.count > 0 && !add_entry(list, &f18, AIPA_ED_2018)) ||
            (f24.count > 0 && !add_entry(list, &f24, AIPA_ED_2024))) {
            goto out;
        }
    }
    text = cJSON_Print(root);
    if (text != NULL) {
        e = aipa_buf_puts(out, text);
        if (e == AIPA_OK) {
            e = aipa_buf_putc(out, '\n');
        }
    }
out:
    cJSON_free(text);
    cJSON_Delete(root);
    return e;
}

/* ---- re-running failures ---- */

void aipa_rerun_cleanup(struct aipa_rerun *rr)
{
    for (size_t i = 0; i < rr->count; i++) {
        aipa_free(rr->items[i].id);
        aipa_free(rr->items[i].variant);
    }
    aipa_free(rr->items);
    memset(rr, 0, sizeof(*rr));
}

aipa_err aipa_rerun_parse(struct aipa_rerun *rr, const char *json, size_t len, struct aipa_buf *err)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    const cJSON *results, *it;
    aipa_err e = AIPA_OK;

    memset(rr, 0, sizeof(*rr));
    results = cJSON_GetObjectItemCaseSensitive(root, "results");
    if (!cJSON_IsArray(results)) {
        aipa__note(err, "not an aipa conform JSON report (no \"results\" list)");
        e = AIPA_EPARSE;
        goto out;
    }
    rr->items = aipa_calloc((size_t)cJSON_GetArraySize(results) + 1, sizeof(*rr->items));
    if (rr->items == NULL) {
        e = AIPA_ENOMEM;
        goto out;
    }
    cJSON_ArrayForEach(it, results)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
        const cJSON *var = cJSON_GetObjectItemCaseSensitive(it, "variant");
        const cJSON *ed = cJSON_GetObjectItemCaseSensitive(it, "edition");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "verdict");
        enum aipa_verdict vd =
            cJSON_IsString(v) ? aipa_verdict_parse(v->valuestring) : AIPA_V_COUNT_;
        struct aipa_rerun_item *ri;

        if (!cJSON_IsString(id) || !cJSON_IsString(var) || !cJSON_IsString(ed) ||
            vd == AIPA_V_COUNT_) {
            aipa__note(err, "a result lacks id, variant, edition or verdict");
            e = AIPA_EPARSE;
            goto out;
        }
        if (vd != AIPA_V_FAIL && vd != AIPA_V_ERROR) {
            continue;
        }
        ri = &rr->items[rr->count++];
        ri->id = aipa_strdup(id->valuestring);
        ri->variant = aipa_strdup(var->valuestring);
        ri->edition = aipa_edition_parse(ed->valuestring);
        if (ri->id == NULL || ri->variant == NULL) {
            e = AIPA_ENOMEM;
            goto out;
        }
    }
out:
    cJSON_Delete(root);
    if (e != AIPA_OK) {
        aipa_rerun_cleanup(rr);
    }
    return e;
}

aipa_err aipa_rerun_load(struct aipa_rerun *rr, const char *path, struct aipa_buf *err)
{
    char *data;
    size_t len;
    aipa_err e;

    memset(rr, 0, sizeof(*rr));
    AIPA_TRY(read_whole(path, REPORT_MAX_BYTES, &data, &len, err));
    e = aipa_rerun_parse(rr, data, len, err);
    aipa_free(data);
    return e;
}

bool aipa_rerun_wants(const struct aipa_rerun *rr, const char *id, const char *variant,
                      unsigned edition)
{
    for (size_t i = 0; i < rr->count; i++) {
        if (strcmp(rr->items[i].id, id) == 0 && strcmp(rr->items[i].variant, variant) == 0 &&
            (rr->items[i].edition == 0 || rr->items[i].edition == edition)) {
            return true;
        }
    }
    return false;
}
