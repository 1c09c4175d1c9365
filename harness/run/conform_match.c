/*
 * The matcher: one response against a step's acceptable outcomes, and the
 * checks across the responses of a repeated step. Also ${...} resolution
 * against a run's environment. Everything read from the target is quoted
 * and truncated before it goes into a reason.
 */
#include "aipa/conform.h"
#include "aipa/parse.h"
#include "aipa/wire.h"
#include "conform_int.h"

#include <stdio.h>
#include <string.h>

#define REASON_VALUE_MAX 160 /* bytes of a target's value quoted in a reason */

const char *aipa_verdict_name(enum aipa_verdict v)
{
    switch (v) {
#define AIPA_VERDICT_NAME_(id, name)                                                               \
    case id:                                                                                       \
        return name;
        AIPA_VERDICTS(AIPA_VERDICT_NAME_)
#undef AIPA_VERDICT_NAME_
    case AIPA_V_COUNT_:
        break;
    }
    return "?";
}

enum aipa_verdict aipa_verdict_parse(const char *s)
{
    for (int v = 0; v < (int)AIPA_V_COUNT_; v++) {
        if (strcmp(s, aipa_verdict_name((enum aipa_verdict)v)) == 0) {
            return (enum aipa_verdict)v;
        }
    }
    return AIPA_V_COUNT_;
}

/* Appends s quoted, control bytes and quotes escaped, cut at max bytes. */
void aipa__quote(struct aipa_buf *b, const char *s, size_t max)
{
    size_t n;

    if (s == NULL) {
        aipa__note(b, "(none)");
        return;
    }
    n = strlen(s);
    aipa__note(b, "\"");
    for (size_t i = 0; i < n && i < max; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch == '"' || ch == '\\') {
            aipa__note(b, "\\%c", ch);
        } else if (ch < 0x20 || ch == 0x7f) {
            aipa__note(b, "\\x%02x", ch);
        } else {
            aipa__note(b, "%c", ch);
        }
    }
    aipa__note(b, n > max ? "\"..." : "\"");
}

char *aipa__utf8_dup(const char *s)
{
    struct aipa_buf b;
    const uint8_t *p = (const uint8_t *)s;
    size_t left = strlen(s);
    char *out;

    aipa_buf_init(&b, 3 * left + 1);
    while (left > 0) {
        uint32_t cp;
        size_t n = aipa_utf8_decode(p, left, &cp);

        if (cp == AIPA_UTF8_INVALID) {
            /* One U+FFFD for each byte that starts no well-formed sequence. */
            if (aipa_buf_append(&b, "\xef\xbf\xbd", 3) != AIPA_OK) {
                break;
            }
            n = 1;
        } else if (aipa_buf_append(&b, p, n) != AIPA_OK) {
            break;
        }
        p += n;
        left -= n;
    }
    if (b.ptr == NULL && aipa_buf_puts(&b, "") != AIPA_OK) {
        return NULL;
    }
    out = aipa_buf_steal(&b, NULL);
    aipa_buf_cleanup(&b);
    return out;
}

/* ---- ${...} resolution ---- */

struct rctx {
    const struct aipa_run_env *env;
};

static aipa_err resolve(void *ctx, const char *expr, size_t len, struct aipa_buf *out,
                        struct aipa_buf *why)
{
    const struct aipa_run_env *env = ((struct rctx *)ctx)->env;
    struct aipa__ref r;

    AIPA_TRY(aipa__ref_parse(expr, len, &r, why));
    switch (r.kind) {
    case AIPA_REF_REGION:
        return aipa_buf_puts(out, env->region != NULL ? env->region : "cn-hangzhou");
    case AIPA_REF_INDEX:
        return aipa_buf_printf(out, "%zu", env->rep);
    case AIPA_REF_POOL_ADDRESS:
    case AIPA_REF_POOL_OUTSIDE: {
        const char *v = r.kind == AIPA_REF_POOL_ADDRESS ? env->pool_address : env->pool_outside;

        if (v == NULL || v[0] == '\0') {
            aipa__note(why, "${%.*s}: the target's pool is not known (GET /_aipa/state)", (int)len,
                       expr);
            return AIPA_EPARSE;
        }
        return aipa_buf_puts(out, v);
    }
    case AIPA_REF_FIXTURE: {
        const struct aipa_case *c = env->c;
        size_t k = r.index_is_i ? env->rep : r.index;

        for (size_t f = 0; c != NULL && f < c->fixture_count; f++) {
            if (strcmp(c->fixtures[f].name, r.name) != 0) {
                continue;
            }
            if (k >= c->fixtures[f].count || env->fixture_ids[f] == NULL ||
                env->fixture_ids[f][k] == NULL) {
                aipa__note(why, "${%.*s}: no instance %zu", (int)len, expr, k);
                return AIPA_EPARSE;
            }
            return aipa_buf_puts(out, env->fixture_ids[f][k]);
        }
        aipa__note(why, "${%s} names no fixture", r.name);
        return AIPA_EPARSE;
    }
    case AIPA_REF_STEP: {
        char path[256];
        const cJSON *node;
        aipa_err e;

        if (r.index >= env->steps_done || env->step_roots[r.index] == NULL ||
            r.path_len >= sizeof(path)) {
            aipa__note(why, "${%.*s}: step %zu has no parsed response", (int)len, expr, r.index);
            return AIPA_EPARSE;
        }
        memcpy(path, r.path, r.path_len);
        path[r.path_len] = '\0';
        node = aipa_path_get(env->step_roots[r.index], path);
        e = node != NULL ? aipa_node_scalar_text(node, out) : AIPA_ENOTFOUND;
        if (e == AIPA_ENOMEM || e == AIPA_ETOOBIG) {
            return e;
        }
        if (e != AIPA_OK) {
            aipa__note(why, "${%.*s}: no such value in the response of step %zu", (int)len, expr,
                       r.index);
            return AIPA_EPARSE;
        }
        return AIPA_OK;
    }
    }
    return AIPA_EINVAL;
}

aipa_err aipa_run_env_expand(const struct aipa_run_env *env, const char *s, bool bytes,
                             struct aipa_buf *out, struct aipa_buf *why)
{
    struct rctx r = {env};
    struct aipa_buf tmp;
    aipa_err e;

    if (!bytes) {
        return aipa_subst(s, strlen(s), 0, resolve, &r, out, why);
    }
    aipa_buf_init(&tmp, AIPA_CASE_MAX_EXPANDED);
    e = aipa_subst(s, strlen(s), 0, resolve, &r, &tmp, why);
    if (e == AIPA_OK) {
        e = aipa_case_expand_bytes(tmp.ptr, tmp.len, out);
        if (e == AIPA_EPARSE) {
            aipa__note(why, "malformed %%hex or %%repeat form after substitution");
        }
    }
    aipa_buf_cleanup(&tmp);
    return e;
}

/* Replaces the ${...} forms in every string under node (a copy of a fixture's state). */
static aipa_err expand_strings(const struct aipa_run_env *env, cJSON *node, struct aipa_buf *why)
{
    for (cJSON *k = node->child; k != NULL; k = k->next) {
        if (cJSON_IsString(k) && strstr(k->valuestring, "${") != NULL) {
            struct aipa_buf out;
            aipa_err e;

            aipa_buf_init(&out, AIPA_CASE_MAX_EXPANDED);
            e = aipa_run_env_expand(env, k->valuestring, false, &out, why);
            if (e == AIPA_OK && cJSON_SetValuestring(k, out.ptr) == NULL) {
                e = AIPA_ENOMEM;
            }
            aipa_buf_cleanup(&out);
            AIPA_TRY(e);
        } else if (cJSON_IsObject(k) || cJSON_IsArray(k)) {
            AIPA_TRY(expand_strings(env, k, why));
        }
    }
    return AIPA_OK;
}

aipa_err aipa_run_env_fixture_body(const struct aipa_run_env *env, const cJSON *state, char **out,
                                   struct aipa_buf *why)
{
    cJSON *copy = cJSON_Duplicate(state, true);
    aipa_err e = copy != NULL ? expand_strings(env, copy, why) : AIPA_ENOMEM;

    /* Instances live in the profile's region, where DescribeInstances will look. */
    if (e == AIPA_OK && env->region != NULL &&
        cJSON_GetObjectItemCaseSensitive(copy, "RegionId") == NULL &&
        cJSON_AddStringToObject(copy, "RegionId", env->region) == NULL) {
        e = AIPA_ENOMEM;
    }
    *out = NULL;
    if (e == AIPA_OK) {
        *out = cJSON_PrintUnformatted(copy);
        e = *out != NULL ? AIPA_OK : AIPA_ENOMEM;
    }
    cJSON_Delete(copy);
    return e;
}

/* ---- matching one response ---- */

static const char *root_str(const struct aipa_observed *obs, const char *name)
{
    return obs->root != NULL ? aipa_path_string(obs->root, name) : NULL;
}

/* Scalar text of a node into out (reset first); false for objects/arrays/NULL. */
static bool node_text(const cJSON *node, struct aipa_buf *out)
{
    aipa_buf_reset(out);
    if (node == NULL || aipa_node_scalar_text(node, out) != AIPA_OK) {
        return false;
    }
    if (out->ptr == NULL && aipa_buf_puts(out, "") != AIPA_OK) {
        return false;
    }
    return true;
}

/* An operand's text with ${...} resolved. */
static aipa_err operand_text(const struct aipa_run_env *env, const cJSON *op, struct aipa_buf *out,
                             struct aipa_buf *why)
{
    aipa_buf_reset(out);
    if (cJSON_IsString(op)) {
        return aipa_run_env_expand(env, op->valuestring, false, out, why);
    }
    AIPA_TRY(aipa_node_scalar_text(op, out));
    if (out->ptr == NULL) {
        AIPA_TRY(aipa_buf_puts(out, ""));
    }
    return AIPA_OK;
}

static bool is_integer_text(const char *s)
{
    size_t i = s[0] == '-' ? 1 : 0;

    if (s[i] == '\0') {
        return false;
    }
    for (; s[i] != '\0'; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

/* Outcome evaluation state. */
struct oeval {
    bool hard_ok;
    size_t score;             /* hard checks that passed, status counting double */
    struct aipa_buf mismatch; /* hard mismatches */
    struct aipa_buf soft;     /* soft differences */
    bool error;               /* a reference could not be resolved */
};

static void mism(struct oeval *ev, const char *fmt, ...) AIPA_PRINTF(2, 3);

static void mism(struct oeval *ev, const char *fmt, ...)
{
    va_list ap;

    ev->hard_ok = false;
    if (ev->mismatch.len > 0) {
        aipa__note(&ev->mismatch, "; ");
    }
    va_start(ap, fmt);
    if (aipa_buf_vprintf(&ev->mismatch, fmt, ap) != AIPA_OK) {
        /* keep what fitted */
    }
    va_end(ap);
}

static void check_field(const struct aipa_check *k, const struct aipa_observed *obs,
                        const struct aipa_run_env *env, struct oeval *ev)
{
    struct aipa_buf path, got, want, why;
    const cJSON *node = NULL;
    bool ok = false;

    aipa_buf_init(&path, 4096);
    aipa_buf_init(&got, 64 * 1024);
    aipa_buf_init(&want, 64 * 1024);
    aipa_buf_init(&why, 512);
    if (aipa_run_env_expand(env, k->path, false, &path, &why) != AIPA_OK) {
        ev->error = true;
        mism(ev, "path %s: %s", k->path, why.ptr != NULL ? why.ptr : "unresolved");
        goto out;
    }
    if (obs->root != NULL) {
        node = aipa_path_get(obs->root, path.ptr);
    }
    switch (k->kind) {
    case AIPA_CHK_PRESENT:
        ok = node != NULL;
        break;
    case AIPA_CHK_ABSENT:
        ok = node == NULL;
        break;
    case AIPA_CHK_LENGTH:
        ok = obs->root != NULL && aipa_path_array_len(obs->root, path.ptr) == k->length;
        break;
    case AIPA_CHK_LIST_EQUALS: {
        size_t n = obs->root != NULL ? aipa_path_array_len(obs->root, path.ptr) : 0;
        size_t m = (size_t)cJSON_GetArraySize(k->operand);

        ok = obs->root != NULL && n == m;
        for (size_t i = 0; ok && i < n; i++) {
            const cJSON *item = aipa_path_array_item(obs->root, path.ptr, i);
            const cJSON *op = cJSON_GetArrayItem(k->operand, (int)i);

            if (operand_text(env, op, &want, &why) != AIPA_OK) {
                ev->error = true;
                ok = false;
                break;
            }
            ok = node_text(item, &got) && strcmp(got.ptr, want.ptr) == 0;
        }
        break;
    }
    case AIPA_CHK_EQUALS:
    case AIPA_CHK_NOT_EQUALS:
    case AIPA_CHK_PREFIX:
        if (operand_text(env, k->operand, &want, &why) != AIPA_OK) {
            ev->error = true;
            break;
        }
        if (!node_text(node, &got)) {
            ok = false;
        } else if (k->kind == AIPA_CHK_EQUALS) {
            ok = strcmp(got.ptr, want.ptr) == 0;
        } else if (k->kind == AIPA_CHK_NOT_EQUALS) {
            ok = strcmp(got.ptr, want.ptr) != 0;
        } else {
            ok = strncmp(got.ptr, want.ptr, want.len) == 0;
        }
        break;
    case AIPA_CHK_ONE_OF: {
        const cJSON *op;

        if (!node_text(node, &got)) {
            break;
        }
        cJSON_ArrayForEach(op, k->operand)
        {
            if (operand_text(env, op, &want, &why) != AIPA_OK) {
                ev->error = true;
                break;
            }
            if (strcmp(got.ptr, want.ptr) == 0) {
                ok = true;
                break;
            }
        }
        break;
    }
    case AIPA_CHK_IS_IPV4:
        ok = node_text(node, &got) && aipa_is_ipv4(got.ptr, got.len);
        break;
    case AIPA_CHK_IS_UUID:
        ok = node_text(node, &got) && aipa_is_request_id(got.ptr, got.len);
        break;
    case AIPA_CHK_IS_INTEGER:
        ok = node_text(node, &got) && is_integer_text(got.ptr);
        break;
    case AIPA_CHK_IS_NONEMPTY:
        if (cJSON_IsArray(node) || cJSON_IsObject(node)) {
            ok = node->child != NULL;
        } else {
            ok = node_text(node, &got) && got.len > 0;
        }
        break;
    case AIPA_CHK_SAME_AS:
    case AIPA_CHK_NOT_SAME_AS: {
        size_t step;
        const char *rpath;
        const cJSON *ref = NULL;

        if (aipa__stepref_parse(k->ref, &step, &rpath) == AIPA_OK && step < env->steps_done &&
            env->step_roots[step] != NULL) {
            ref = aipa_path_get(env->step_roots[step], rpath);
        }
        if (!node_text(ref, &want)) {
            aipa_buf_reset(&got);
            mism(ev, "%s: %s has no value to compare with", path.ptr, k->ref);
            goto out;
        }
        if (!node_text(node, &got)) {
            ok = false;
        } else {
            ok = (strcmp(got.ptr, want.ptr) == 0) == (k->kind == AIPA_CHK_SAME_AS);
        }
        break;
    }
    }
    if (ev->error) {
        mism(ev, "%s: %s", path.ptr, why.ptr != NULL ? why.ptr : "unresolved reference");
    } else if (ok) {
        ev->score++;
    } else {
        struct aipa_buf *m = &ev->mismatch;

        mism(ev, "%s: expected %s", path.ptr, aipa_check_kind_name(k->kind));
        if (k->kind == AIPA_CHK_LENGTH) {
            aipa__note(m, " %zu, got %zu", k->length,
                       obs->root != NULL ? aipa_path_array_len(obs->root, path.ptr) : 0);
        } else {
            if (want.len > 0 || k->kind == AIPA_CHK_EQUALS) {
                aipa__note(m, " ");
                aipa__quote(m, want.ptr != NULL ? want.ptr : "", REASON_VALUE_MAX);
            }
            if (node == NULL) {
                aipa__note(m, ", got nothing");
            } else if (node_text(node, &got)) {
                aipa__note(m, ", got ");
                aipa__quote(m, got.ptr, REASON_VALUE_MAX);
            } else {
                aipa__note(m, ", got %s", aipa_node_type_name(node));
            }
        }
    }
out:
    aipa_buf_cleanup(&path);
    aipa_buf_cleanup(&got);
    aipa_buf_cleanup(&want);
    aipa_buf_cleanup(&why);
}

static const char *fmt_name(unsigned f)
{
    return f == AIPA_VFMT_XML ? "XML" : f == AIPA_VFMT_JSON ? "JSON" : "?";
}

/* True when word (lowercase) occurs in s, case-insensitively. */
static bool names_ci(const char *s, const char *word)
{
    size_t n = strlen(word);

    for (; *s != '\0'; s++) {
        size_t i = 0;

        while (i < n && s[i] != '\0' && (s[i] | 0x20) == word[i]) {
            i++;
        }
        if (i == n) {
            return true;
        }
    }
    return false;
}

static void eval_outcome(const struct aipa_outcome *o, const struct aipa_observed *obs,
                         const struct aipa_run_env *env, struct oeval *ev)
{
    bool status_ok = false;
    const char *code = root_str(obs, "Code");
    const char *msg = root_str(obs, "Message");
    const char *rid = root_str(obs, "RequestId");

    ev->hard_ok = true;
    if (obs->transport != NULL) {
        mism(ev, "no response (%s)", obs->transport);
        return;
    }
    for (size_t i = 0; i < o->status_count; i++) {
        status_ok = status_ok || obs->status == o->status[i];
    }
    if (status_ok) {
        ev->score += 2;
    } else {
        mism(ev, "status %ld", obs->status);
    }
    if (obs->want_fmt != 0 && obs->body_fmt != obs->want_fmt) {
        if (obs->root == NULL) {
            mism(ev, "asked for %s, body did not parse: %s", fmt_name(obs->want_fmt),
                 obs->parse_error != NULL ? obs->parse_error : "empty");
        } else {
            mism(ev, "asked for %s, got a %s body", fmt_name(obs->want_fmt),
                 fmt_name(obs->body_fmt));
        }
    } else if (obs->want_fmt == 0 && obs->root == NULL && (o->code != NULL || o->check_count > 0)) {
        mism(ev, "body did not parse: %s", obs->parse_error != NULL ? obs->parse_error : "empty");
    }
    /* XML shape: <{Action}Response> on success, <Error> for an error (spec/wire.md §1.2, §4.1). */
    if (obs->root != NULL && obs->body_fmt == AIPA_VFMT_XML && obs->root_name != NULL) {
        char want_root[160];

        want_root[0] = '\0';
        if (code != NULL) {
            snprintf(want_root, sizeof(want_root), "Error");
        } else if (obs->action != NULL && obs->action[0] != '\0' && strlen(obs->action) < 128) {
            snprintf(want_root, sizeof(want_root), "%sResponse", obs->action);
        }
        if (want_root[0] != '\0' && strcmp(obs->root_name, want_root) != 0) {
            mism(ev, "XML root element ");
            aipa__quote(&ev->mismatch, obs->root_name, REASON_VALUE_MAX);
            aipa__note(&ev->mismatch, ", expected <%s>", want_root);
        } else if (want_root[0] != '\0') {
            ev->score++;
        }
    }
    /*
     * Content-Type must name the body's format. For XML it is hard: the Node
     * SDK parses a body as XML only under text/xml (spec/wire.md §3.1), so a
     * mislabelled XML error breaks it. No SDK reads the label of a JSON body,
     * so there it is a soft difference.
     */
    if (obs->root != NULL && obs->content_type != NULL && obs->body_fmt != 0 &&
        !names_ci(obs->content_type, obs->body_fmt == AIPA_VFMT_XML ? "xml" : "json")) {
        struct aipa_buf *b = obs->body_fmt == AIPA_VFMT_XML ? &ev->mismatch : &ev->soft;

        if (obs->body_fmt == AIPA_VFMT_XML) {
            mism(ev, "Content-Type ");
        } else {
            aipa__note(b, "%sContent-Type ", b->len > 0 ? "; " : "");
        }
        aipa__quote(b, obs->content_type, REASON_VALUE_MAX);
        aipa__note(b, " does not name the %s body", fmt_name(obs->body_fmt));
    }
    if (o->code != NULL) {
        if (code != NULL && strcmp(code, o->code) == 0) {
            ev->score++;
        } else {
            mism(ev, "Code ");
            aipa__quote(&ev->mismatch, code, REASON_VALUE_MAX);
        }
    } else if (o->code_absent) {
        if (code == NULL) {
            ev->score++;
        } else {
            mism(ev, "unexpected Code ");
            aipa__quote(&ev->mismatch, code, REASON_VALUE_MAX);
        }
    }
    for (size_t i = 0; i < o->check_count; i++) {
        check_field(&o->checks[i], obs, env, ev);
    }
    /* RequestId: hard when the outcome asks, soft by default. */
    if (o->request_id == AIPA_RID_PRESENT && rid == NULL) {
        mism(ev, "no RequestId");
    } else if (o->request_id == AIPA_RID_UUID &&
               (rid == NULL || !aipa_is_request_id(rid, strlen(rid)))) {
        mism(ev, "RequestId ");
        aipa__quote(&ev->mismatch, rid, REASON_VALUE_MAX);
        aipa__note(&ev->mismatch, " is not a UUID");
    } else if (o->request_id == AIPA_RID_UUID_SOFT && obs->root != NULL &&
               (rid == NULL || !aipa_is_request_id(rid, strlen(rid)))) {
        aipa__note(&ev->soft, "%sRequestId ", ev->soft.len > 0 ? "; " : "");
        aipa__quote(&ev->soft, rid, REASON_VALUE_MAX);
        aipa__note(&ev->soft, " is not a UUID");
    }
    if (o->message != NULL && (msg == NULL || strcmp(msg, o->message) != 0)) {
        aipa__note(&ev->soft, "%sMessage differs: expected ", ev->soft.len > 0 ? "; " : "");
        aipa__quote(&ev->soft, o->message, REASON_VALUE_MAX);
        aipa__note(&ev->soft, ", got ");
        aipa__quote(&ev->soft, msg, REASON_VALUE_MAX);
    }
    if (o->message_prefix != NULL &&
        (msg == NULL || strncmp(msg, o->message_prefix, strlen(o->message_prefix)) != 0)) {
        aipa__note(&ev->soft, "%sMessage does not start with ", ev->soft.len > 0 ? "; " : "");
        aipa__quote(&ev->soft, o->message_prefix, REASON_VALUE_MAX);
        aipa__note(&ev->soft, ", got ");
        aipa__quote(&ev->soft, msg, REASON_VALUE_MAX);
    }
}

static void outcome_summary(const struct aipa_outcome *o, struct aipa_buf *b)
{
    for (size_t i = 0; i < o->status_count; i++) {
        aipa__note(b, "%s%d", i > 0 ? "|" : "", o->status[i]);
    }
    if (o->code != NULL) {
        aipa__note(b, " %s", o->code);
    }
    if (o->check_count > 0) {
        aipa__note(b, " (+%zu field check%s)", o->check_count, o->check_count > 1 ? "s" : "");
    }
    if (o->nonstrict) {
        aipa__note(b, " [nonstrict]");
    }
}

static void observed_summary(const struct aipa_observed *obs, struct aipa_buf *b)
{
    const char *code = root_str(obs, "Code");
    const char *msg = root_str(obs, "Message");

    if (obs->transport != NULL) {
        aipa__note(b, "no response (%s)", obs->transport);
        return;
    }
    aipa__note(b, "%ld", obs->status);
    if (code != NULL) {
        aipa__note(b, " ");
        aipa__quote(b, code, REASON_VALUE_MAX);
    }
    if (msg != NULL) {
        aipa__note(b, " Message ");
        aipa__quote(b, msg, REASON_VALUE_MAX);
    }
    if (obs->root == NULL) {
        aipa__note(b, " (body did not parse: %s)",
                   obs->parse_error != NULL ? obs->parse_error : "empty");
    }
}

/* ---- the latitude table ---- */

static bool outcome_is(const struct aipa_outcome *o, int status, const char *code)
{
    bool st = false;

    for (size_t i = 0; i < o->status_count; i++) {
        st = st || o->status[i] == status;
    }
    if (!st) {
        return false;
    }
    if (code == NULL) {
        return o->code == NULL || o->code_absent;
    }
    return o->code != NULL && strcmp(o->code, code) == 0;
}

/* A concrete answer (no wildcard) of a row. */
static bool concrete(const struct aipa_lat_answer *a)
{
    return a->status != 0 &&
           (a->code == NULL ||
            (strcmp(a->code, AIPA_LAT_ANY) != 0 && strcmp(a->code, AIPA_LAT_MISSING) != 0));
}

/* Whether outcome o is one of the row's concrete answers (the strict one too unless alts_only). */
static bool row_holds(const struct aipa_latitude *row, const struct aipa_outcome *o, bool alts_only)
{
    if (!alts_only && outcome_is(o, (int)row->strict.status, row->strict.code)) {
        return true;
    }
    for (size_t k = 0; k < row->alt_count; k++) {
        if (concrete(&row->alts[k]) && outcome_is(o, (int)row->alts[k].status, row->alts[k].code)) {
            return true;
        }
    }
    return false;
}

/*
 * The row of the latitude table that explains a nonstrict outcome of step s:
 * one that holds both it and a strict outcome of the step. With directed,
 * the strict outcome must be the row's strict answer and the nonstrict one an
 * alternative (what --strict refuses). NULL if none does.
 */
static const struct aipa_latitude *explain(const struct aipa_step *s, unsigned edition,
                                           const struct aipa_outcome *ns, bool directed)
{
    for (size_t r = 0; r < aipa_lat_count(); r++) {
        const struct aipa_latitude *row = aipa_lat_row((enum aipa_lat)r);
        bool strict = false;

        if ((row->editions & edition) == 0 || !concrete(&row->strict) ||
            !row_holds(row, ns, directed)) {
            continue;
        }
        for (size_t i = 0; i < s->outcome_count && !strict; i++) {
            const struct aipa_outcome *o = &s->outcomes[i];
            strict = !o->nonstrict && (o->editions & edition) != 0 &&
                     (directed ? outcome_is(o, (int)row->strict.status, row->strict.code)
                               : row_holds(row, o, false));
        }
        if (strict) {
            return row;
        }
    }
    return NULL;
}

/* The row whose strict answer is an applicable strict outcome of s (for naming a failure). */
static const struct aipa_latitude *strict_row(const struct aipa_step *s, unsigned edition)
{
    for (size_t i = 0; i < s->outcome_count; i++) {
        const struct aipa_outcome *o = &s->outcomes[i];
        const struct aipa_latitude *named = aipa_lat_first(&o->latitude, edition);

        if (o->nonstrict || (o->editions & edition) == 0) {
            continue;
        }
        if (named != NULL) {
            return named;
        }
        for (size_t r = 0; r < aipa_lat_count(); r++) {
            const struct aipa_latitude *row = aipa_lat_row((enum aipa_lat)r);
            if ((row->editions & edition) != 0 && concrete(&row->strict) &&
                row->strict.code != NULL &&
                outcome_is(o, (int)row->strict.status, row->strict.code)) {
                return row;
            }
        }
    }
    return NULL;
}

/*
 * An answer no outcome matched, among the alternatives of a row an
 * applicable outcome names ("latitude"); that row, or NULL.
 */
static const struct aipa_latitude *named_alternative(const struct aipa_step *s, unsigned edition,
                                                     const struct aipa_observed *obs)
{
    const char *code = root_str(obs, "Code");

    if (obs->transport != NULL) {
        return NULL;
    }
    for (size_t i = 0; i < s->outcome_count; i++) {
        const struct aipa_outcome *o = &s->outcomes[i];
        const struct aipa_latitude *r;

        if ((o->editions & edition) == 0 || o->latitude.rows == 0) {
            continue;
        }
        r = aipa_lat_accepts(&o->latitude, edition, (unsigned)obs->status,
                             code != NULL ? code : "", AIPA_LAT_FMT_ANY);
        if (r != NULL) {
            return r;
        }
    }
    return NULL;
}

enum aipa_verdict aipa_match_response(const struct aipa_step *s, unsigned edition,
                                      const struct aipa_observed *obs,
                                      const struct aipa_run_env *env, struct aipa_buf *reason)
{
    const struct aipa_latitude *row = NULL;
    struct oeval best_fail;
    enum aipa_verdict best = AIPA_V_FAIL;
    bool have_fail = false, any_error = false;
    size_t applicable = 0;
    struct aipa_buf nonstrict_reason;

    aipa_buf_init(&nonstrict_reason, 64 * 1024);
    memset(&best_fail, 0, sizeof(best_fail));
    aipa_buf_init(&best_fail.mismatch, 64 * 1024);
    aipa_buf_init(&best_fail.soft, 64 * 1024);
    for (size_t i = 0; i < s->outcome_count && best != AIPA_V_PASS; i++) {
        const struct aipa_outcome *o = &s->outcomes[i];
        struct oeval ev;

        if ((o->editions & edition) == 0) {
            continue;
        }
        applicable++;
        memset(&ev, 0, sizeof(ev));
        aipa_buf_init(&ev.mismatch, 64 * 1024);
        aipa_buf_init(&ev.soft, 64 * 1024);
        eval_outcome(o, obs, env, &ev);
        if (ev.hard_ok && !ev.error) {
            if (!o->nonstrict && ev.soft.len == 0) {
                best = AIPA_V_PASS;
            } else if (best == AIPA_V_FAIL &&
                       (!o->nonstrict || !env->strict || explain(s, edition, o, true) == NULL)) {
                const struct aipa_latitude *why = NULL;

                if (o->nonstrict) {
                    why = explain(s, edition, o, true);
                    why = why != NULL ? why : explain(s, edition, o, false);
                }

                best = AIPA_V_PASS_NONSTRICT;
                aipa_buf_reset(&nonstrict_reason);
                if (o->nonstrict) {
                    aipa__note(&nonstrict_reason, "matched the nonstrict outcome ");
                    outcome_summary(o, &nonstrict_reason);
                }
                if (why != NULL) {
                    aipa__note(&nonstrict_reason, " (latitude row %s)", why->name);
                }
                if (ev.soft.len > 0) {
                    aipa__note(&nonstrict_reason, "%s%s", o->nonstrict ? "; " : "", ev.soft.ptr);
                }
            }
        } else {
            any_error = any_error || ev.error;
            if (!have_fail || ev.score > best_fail.score) {
                aipa_buf_cleanup(&best_fail.mismatch);
                aipa_buf_cleanup(&best_fail.soft);
                best_fail = ev;
                have_fail = true;
                continue; /* ownership moved */
            }
        }
        aipa_buf_cleanup(&ev.mismatch);
        aipa_buf_cleanup(&ev.soft);
    }
    if (best == AIPA_V_FAIL && !any_error && (row = named_alternative(s, edition, obs)) != NULL &&
        !env->strict) {
        best = AIPA_V_PASS_NONSTRICT;
        aipa_buf_reset(&nonstrict_reason);
        aipa__note(&nonstrict_reason, "an alternative of latitude row %s: ", row->name);
        observed_summary(obs, &nonstrict_reason);
    }
    if (applicable == 0) {
        aipa__note(reason, "no outcome applies to edition %s", aipa_edition_name(edition));
        best = AIPA_V_ERROR;
    } else if (best == AIPA_V_PASS_NONSTRICT) {
        aipa__note(reason, "%s", nonstrict_reason.ptr != NULL ? nonstrict_reason.ptr : "");
    } else if (best == AIPA_V_FAIL) {
        size_t k = 0;

        aipa__note(reason, "expected ");
        for (size_t i = 0; i < s->outcome_count; i++) {
            if ((s->outcomes[i].editions & edition) != 0) {
                aipa__note(reason, "%s", k++ > 0 ? " or " : "");
                outcome_summary(&s->outcomes[i], reason);
            }
        }
        aipa__note(reason, "; got ");
        observed_summary(obs, reason);
        if (best_fail.mismatch.len > 0) {
            aipa__note(reason, " [%s]", best_fail.mismatch.ptr);
        }
        if (row != NULL) {
            aipa__note(reason, "; an alternative of latitude row %s, refused by --strict",
                       row->name);
        } else if ((row = strict_row(s, edition)) != NULL) {
            aipa__note(reason, "; %s latitude row %s (docs/latitude.md)",
                       env->strict ? "with --strict, the strict answer of" : "outside",
                       row->name);
        }
        if (any_error && best_fail.error) {
            best = AIPA_V_ERROR;
        }
    }
    aipa_buf_cleanup(&best_fail.mismatch);
    aipa_buf_cleanup(&best_fail.soft);
    aipa_buf_cleanup(&nonstrict_reason);
    return best;
}

/* ---- across ---- */

enum aipa_verdict aipa_match_across(const struct aipa_step *s, unsigned edition,
                                    const struct aipa_observed *obs, size_t n,
                                    struct aipa_buf *reason)
{
    enum aipa_verdict v = AIPA_V_PASS;
    struct aipa_buf a, b;

    aipa_buf_init(&a, 64 * 1024);
    aipa_buf_init(&b, 64 * 1024);
    for (size_t i = 0; i < s->across_count; i++) {
        const struct aipa_across *x = &s->across[i];

        if ((x->editions & edition) == 0) {
            continue;
        }
        if (x->kind == AIPA_ACR_DISTINCT || x->kind == AIPA_ACR_SAME) {
            for (size_t p = 0; p < n; p++) {
                if (obs[p].root == NULL || !node_text(aipa_path_get(obs[p].root, x->field), &a)) {
                    continue;
                }
                for (size_t q = p + 1; q < n; q++) {
                    bool eq;

                    if (obs[q].root == NULL ||
                        !node_text(aipa_path_get(obs[q].root, x->field), &b)) {
                        continue;
                    }
                    eq = strcmp(a.ptr, b.ptr) == 0;
                    if (eq == (x->kind == AIPA_ACR_DISTINCT)) {
                        aipa__note(reason, "%sacross: %s of responses #%zu and #%zu %s: ",
                                   reason->len > 0 ? "; " : "", x->field, p, q,
                                   eq ? "are equal" : "differ");
                        aipa__quote(reason, a.ptr, REASON_VALUE_MAX);
                        if (!eq) {
                            aipa__note(reason, " vs ");
                            aipa__quote(reason, b.ptr, REASON_VALUE_MAX);
                        }
                        v = AIPA_V_FAIL;
                        goto next;
                    }
                }
            }
        } else {
            size_t count = 0;

            for (size_t p = 0; p < n; p++) {
                if (x->kind == AIPA_ACR_STATUS) {
                    count += obs[p].transport == NULL && obs[p].status == x->status;
                } else {
                    const char *code = root_str(&obs[p], "Code");

                    count += code != NULL && strcmp(code, x->code) == 0;
                }
            }
            if (count < x->min || count > x->max) {
                aipa__note(reason, "%sacross: %zu of %zu responses had ",
                           reason->len > 0 ? "; " : "", count, n);
                if (x->kind == AIPA_ACR_STATUS) {
                    aipa__note(reason, "status %d", x->status);
                } else {
                    aipa__note(reason, "Code %s", x->code);
                }
                if (x->min == x->max) {
                    aipa__note(reason, ", expected %zu", x->min);
                } else if (x->max == SIZE_MAX) {
                    aipa__note(reason, ", expected at least %zu", x->min);
                } else {
                    aipa__note(reason, ", expected %zu..%zu", x->min, x->max);
                }
                v = AIPA_V_FAIL;
            }
        }
    next:;
    }
    aipa_buf_cleanup(&a);
    aipa_buf_cleanup(&b);
    return v;
}

void aipa_result_variant_name(const struct aipa_result *res, char out[AIPA_VARIANT_NAME_MAX])
{
    if (res->case_level) {
        snprintf(out, AIPA_VARIANT_NAME_MAX, "-");
    } else {
        aipa_variant_name(&res->variant, out);
    }
}
