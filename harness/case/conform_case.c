/*
 * The case loader (conformance/FORMAT.md): JSON case files into struct
 * aipa_case, with every malformation reported as "file: json.path: reason".
 * Also variant names and sets, the curl-style byte forms, and suites.
 */
#include "aipa/conform.h"
#include "case_int.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void aipa__note(struct aipa_buf *b, const char *fmt, ...)
{
    va_list ap;

    if (b == NULL) {
        return;
    }
    va_start(ap, fmt);
    if (aipa_buf_vprintf(b, fmt, ap) != AIPA_OK) {
        /* a truncated note is still better than none: keep what fitted */
    }
    va_end(ap);
}

/* ---- variants ---- */

const char *const aipa__sig_names[2] = {"v1", "v3"};
const char *const aipa__shape_names[3] = {"get", "post-query", "post-form"};
const char *const aipa__fmt_names[2] = {"xml", "json"};

static int bit_index(unsigned bits)
{
    for (int i = 0; i < 8; i++) {
        if (bits == (1u << i)) {
            return i;
        }
    }
    return -1;
}

void aipa_variant_name(const struct aipa_variant *v, char out[AIPA_VARIANT_NAME_MAX])
{
    int s = bit_index(v->sig), h = bit_index(v->shape), f = bit_index(v->fmt);

    if (s < 0 || s > 1 || h < 0 || h > 2 || f < 0 || f > 1) {
        snprintf(out, AIPA_VARIANT_NAME_MAX, "raw");
        return;
    }
    snprintf(out, AIPA_VARIANT_NAME_MAX, "%s-%s-%s", aipa__sig_names[s], aipa__shape_names[h],
             aipa__fmt_names[f]);
}

aipa_err aipa_variant_parse(const char *s, struct aipa_variant *out)
{
    char name[AIPA_VARIANT_NAME_MAX];
    struct aipa_variant all[16];
    size_t n;

    if (strcmp(s, "raw") == 0) {
        *out = (struct aipa_variant){0, 0, 0};
        return AIPA_OK;
    }
    n = aipa_variants_expand(
        &(struct aipa_variant_set){AIPA_VSIG_ALL, AIPA_VSHAPE_ALL, AIPA_VFMT_ALL}, all,
        AIPA_ARRAY_LEN(all));
    for (size_t i = 0; i < n; i++) {
        aipa_variant_name(&all[i], name);
        if (strcmp(name, s) == 0) {
            *out = all[i];
            return AIPA_OK;
        }
    }
    return AIPA_EPARSE;
}

size_t aipa_variants_expand(const struct aipa_variant_set *set, struct aipa_variant *out,
                            size_t cap)
{
    size_t n = 0;

    for (unsigned s = 0; s < 2; s++) {
        for (unsigned h = 0; h < 3; h++) {
            for (unsigned f = 0; f < 2; f++) {
                unsigned sb = 1u << s, hb = 1u << h, fb = 1u << f;

                if (!(set->sig & sb) || !(set->shape & hb) || !(set->fmt & fb)) {
                    continue;
                }
                if (sb == AIPA_VSIG_V3 && hb == AIPA_VSHAPE_POST_FORM) {
                    continue; /* V3 signs no form body */
                }
                if (n < cap) {
                    out[n] = (struct aipa_variant){sb, hb, fb};
                }
                n++;
            }
        }
    }
    return n;
}

/* Sets the axis bit for a single axis word; false if word names none. */
static bool axis_word(const char *w, size_t n, struct aipa_variant_set *vs)
{
    for (unsigned i = 0; i < 2; i++) {
        if (strlen(aipa__sig_names[i]) == n && memcmp(aipa__sig_names[i], w, n) == 0) {
            vs->sig |= 1u << i;
            return true;
        }
        if (strlen(aipa__fmt_names[i]) == n && memcmp(aipa__fmt_names[i], w, n) == 0) {
            vs->fmt |= 1u << i;
            return true;
        }
    }
    for (unsigned i = 0; i < 3; i++) {
        if (strlen(aipa__shape_names[i]) == n && memcmp(aipa__shape_names[i], w, n) == 0) {
            vs->shape |= 1u << i;
            return true;
        }
    }
    return false;
}

aipa_err aipa_variant_filter_parse(const char *s, struct aipa_variant_set *out)
{
    struct aipa_variant_set vs = {0, 0, 0};
    const char *p = s;

    if (s == NULL || *s == '\0') {
        return AIPA_EPARSE;
    }
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        char item[AIPA_VARIANT_NAME_MAX];
        struct aipa_variant v;

        if (n == 0 || n >= sizeof(item)) {
            return AIPA_EPARSE;
        }
        if (!axis_word(p, n, &vs)) {
            memcpy(item, p, n);
            item[n] = '\0';
            if (aipa_variant_parse(item, &v) != AIPA_OK || v.sig == 0) {
                return AIPA_EPARSE;
            }
            vs.sig |= v.sig;
            vs.shape |= v.shape;
            vs.fmt |= v.fmt;
        }
        p += n;
        if (*p == ',') {
            p++;
        }
    }
    out->sig = vs.sig != 0 ? vs.sig : AIPA_VSIG_ALL;
    out->shape = vs.shape != 0 ? vs.shape : AIPA_VSHAPE_ALL;
    out->fmt = vs.fmt != 0 ? vs.fmt : AIPA_VFMT_ALL;
    return AIPA_OK;
}

unsigned aipa_variant_pick_bit(const struct aipa_variant *v)
{
    struct aipa_variant all[16];
    size_t n = aipa_variants_expand(
        &(struct aipa_variant_set){AIPA_VSIG_ALL, AIPA_VSHAPE_ALL, AIPA_VFMT_ALL}, all, 16);

    for (size_t k = 0; k < n && k < 16; k++) {
        if (all[k].sig == v->sig && all[k].shape == v->shape && all[k].fmt == v->fmt) {
            return 1u << k;
        }
    }
    return 0;
}

aipa_err aipa_variant_select_parse(const char *s, struct aipa_variant_set *set, unsigned *pick)
{
    struct aipa_variant_set words = {0, 0, 0}, names = {0, 0, 0};
    struct aipa_variant all[16];
    size_t n;
    unsigned exact = 0, from_words = 0;
    bool any_word = false;
    const char *p = s;

    if (s == NULL || *s == '\0') {
        return AIPA_EPARSE;
    }
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        char item[AIPA_VARIANT_NAME_MAX];
        struct aipa_variant v;

        if (len == 0 || len >= sizeof(item)) {
            return AIPA_EPARSE;
        }
        if (axis_word(p, len, &words)) {
            any_word = true;
        } else {
            memcpy(item, p, len);
            item[len] = '\0';
            if (aipa_variant_parse(item, &v) != AIPA_OK || v.sig == 0 ||
                aipa_variant_pick_bit(&v) == 0) {
                return AIPA_EPARSE;
            }
            exact |= aipa_variant_pick_bit(&v);
            names.sig |= v.sig;
            names.shape |= v.shape;
            names.fmt |= v.fmt;
        }
        p += len;
        if (*p == ',' && *++p == '\0') {
            return AIPA_EPARSE; /* a trailing comma: an empty item */
        }
    }
    if (any_word) {
        words.sig = words.sig != 0 ? words.sig : AIPA_VSIG_ALL;
        words.shape = words.shape != 0 ? words.shape : AIPA_VSHAPE_ALL;
        words.fmt = words.fmt != 0 ? words.fmt : AIPA_VFMT_ALL;
        n = aipa_variants_expand(&words, all, 16);
        for (size_t k = 0; k < n && k < 16; k++) {
            from_words |= aipa_variant_pick_bit(&all[k]);
        }
        if (from_words == 0) {
            return AIPA_EPARSE; /* e.g. v3,post-form: V3 signs no form body */
        }
    }
    set->sig = words.sig | names.sig;
    set->shape = words.shape | names.shape;
    set->fmt = words.fmt | names.fmt;
    *pick = exact | from_words;
    return AIPA_OK;
}

/* ---- byte forms: %hex[ %XX ]hex% and %repeat[N x STR]% ---- */

/* Decodes %XX sequences in s[0..n) (other bytes literal) into out. */
static aipa_err pct_literal(const char *s, size_t n, struct aipa_buf *out)
{
    size_t i = 0;

    while (i < n) {
        const char *pct = memchr(s + i, '%', n - i);
        size_t run = pct != NULL ? (size_t)(pct - (s + i)) : n - i;

        /* The bytes up to the next '%' in one append. */
        AIPA_TRY(aipa_buf_append(out, s + i, run));
        i += run;
        if (i == n) {
            break;
        }
        if (i + 2 < n && aipa_hex_digit((uint8_t)s[i + 1]) >= 0 && aipa_hex_digit((uint8_t)s[i + 2]) >= 0) {
            AIPA_TRY(aipa_buf_putc(out, (char)(aipa_hex_digit((uint8_t)s[i + 1]) * 16 + aipa_hex_digit((uint8_t)s[i + 2]))));
            i += 3;
        } else {
            AIPA_TRY(aipa_buf_putc(out, '%'));
            i++;
        }
    }
    return AIPA_OK;
}

static const char *find_n(const char *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);

    if (m > n) {
        return NULL;
    }
    for (size_t i = 0; i + m <= n; i++) {
        if (memcmp(hay + i, needle, m) == 0) {
            return hay + i;
        }
    }
    return NULL;
}

aipa_err aipa_case_expand_bytes(const char *s, size_t n, struct aipa_buf *out)
{
    size_t i = 0;

    while (i < n) {
        const char *rest = s + i;
        size_t left = n - i;

        if (left >= 5 && memcmp(rest, "%hex[", 5) == 0) {
            const char *end = find_n(rest + 5, left - 5, "]hex%");
            const char *p = rest + 5;

            if (end == NULL) {
                return AIPA_EPARSE;
            }
            while (p < end) {
                if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
                    p++;
                    continue;
                }
                if (*p != '%' || end - p < 3 || aipa_hex_digit((uint8_t)p[1]) < 0 || aipa_hex_digit((uint8_t)p[2]) < 0) {
                    return AIPA_EPARSE;
                }
                if (out->len >= AIPA_CASE_MAX_EXPANDED) {
                    return AIPA_ETOOBIG;
                }
                AIPA_TRY(aipa_buf_putc(out, (char)(aipa_hex_digit((uint8_t)p[1]) * 16 + aipa_hex_digit((uint8_t)p[2]))));
                p += 3;
            }
            i = (size_t)(end - s) + 5;
        } else if (left >= 8 && memcmp(rest, "%repeat[", 8) == 0) {
            const char *end = find_n(rest + 8, left - 8, "]%");
            const char *p = rest + 8;
            size_t count = 0;
            struct aipa_buf unit;
            aipa_err err;

            if (end == NULL) {
                return AIPA_EPARSE;
            }
            while (p < end && *p == ' ') {
                p++;
            }
            if (p >= end || *p < '0' || *p > '9') {
                return AIPA_EPARSE;
            }
            while (p < end && *p >= '0' && *p <= '9') {
                count = count * 10 + (size_t)(*p - '0');
                if (count > AIPA_CASE_MAX_EXPANDED) {
                    return AIPA_ETOOBIG;
                }
                p++;
            }
            if (count == 0 || end - p < 3 || memcmp(p, " x ", 3) != 0) {
                return AIPA_EPARSE;
            }
            p += 3;
            aipa_buf_init(&unit, AIPA_CASE_MAX_EXPANDED);
            err = pct_literal(p, (size_t)(end - p), &unit);
            if (err == AIPA_OK && unit.len > 0 && count > AIPA_CASE_MAX_EXPANDED / unit.len) {
                err = AIPA_ETOOBIG;
            }
            if (err == AIPA_OK && out->len + count * unit.len > AIPA_CASE_MAX_EXPANDED) {
                err = AIPA_ETOOBIG;
            }
            if (err == AIPA_OK && unit.len > 0) {
                size_t want = count * unit.len;

                /* Reserve the whole run in out once, write the unit, then double
                 * what is written (log2(count) copies), with no second buffer. */
                err = aipa_buf_reserve(out, want);
                if (err == AIPA_OK) {
                    char *run = out->ptr + out->len;
                    size_t have = unit.len;

                    memcpy(run, unit.ptr, unit.len);
                    while (have < want) {
                        size_t k = have < want - have ? have : want - have;

                        memcpy(run + have, run, k);
                        have += k;
                    }
                    out->len += want;
                    out->ptr[out->len] = '\0';
                }
            }
            aipa_buf_cleanup(&unit);
            if (err != AIPA_OK) {
                return err;
            }
            i = (size_t)(end - s) + 2;
        } else {
            /* Plain bytes up to the next '%' that may start a form, in one append. */
            const char *pct = memchr(rest + 1, '%', left - 1);
            size_t run = pct != NULL ? (size_t)(pct - rest) : left;

            if (out->len + run > AIPA_CASE_MAX_EXPANDED) {
                return AIPA_ETOOBIG;
            }
            AIPA_TRY(aipa_buf_append(out, rest, run));
            i += run;
        }
    }
    if (out->ptr == NULL) {
        AIPA_TRY(aipa_buf_reserve(out, 1)); /* callers may read ptr as "" */
        out->ptr[0] = '\0';
    }
    return AIPA_OK;
}

static bool parse_index(const char *s, size_t n, size_t *out)
{
    size_t v = 0;

    if (n == 0 || n > 6) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (size_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

static bool is_ident(const char *s, size_t n)
{
    if (n == 0 || n >= 64) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');

        if (!(alpha || c == '_' || (i > 0 && c >= '0' && c <= '9'))) {
            return false;
        }
    }
    return true;
}

aipa_err aipa__stepref_parse(const char *s, size_t *step, const char **path)
{
    const char *close;

    if (strncmp(s, "step[", 5) != 0) {
        return AIPA_EPARSE;
    }
    close = strchr(s + 5, ']');
    if (close == NULL || !parse_index(s + 5, (size_t)(close - s - 5), step)) {
        return AIPA_EPARSE;
    }
    if (close[1] == '\0') {
        *path = close + 1; /* the whole body */
        return AIPA_OK;
    }
    if (close[1] != '.' || close[2] == '\0') {
        return AIPA_EPARSE;
    }
    *path = close + 2;
    return AIPA_OK;
}

aipa_err aipa__ref_parse(const char *expr, size_t len, struct aipa__ref *r, struct aipa_buf *why)
{
    const char *br;

    memset(r, 0, sizeof(*r));
    if (len == 6 && memcmp(expr, "region", 6) == 0) {
        r->kind = AIPA_REF_REGION;
        return AIPA_OK;
    }
    if (len == 1 && expr[0] == 'i') {
        r->kind = AIPA_REF_INDEX;
        return AIPA_OK;
    }
    if (len == 12 && memcmp(expr, "pool.address", 12) == 0) {
        r->kind = AIPA_REF_POOL_ADDRESS;
        return AIPA_OK;
    }
    if (len == 12 && memcmp(expr, "pool.outside", 12) == 0) {
        r->kind = AIPA_REF_POOL_OUTSIDE;
        return AIPA_OK;
    }
    if (len > 5 && memcmp(expr, "step[", 5) == 0) {
        const char *close = memchr(expr + 5, ']', len - 5);

        if (close != NULL && parse_index(expr + 5, (size_t)(close - expr - 5), &r->index) &&
            (size_t)(close - expr) + 2 < len && close[1] == '.') {
            r->kind = AIPA_REF_STEP;
            r->path = close + 2;
            r->path_len = len - (size_t)(close - expr) - 2;
            return AIPA_OK;
        }
        goto bad;
    }
    br = memchr(expr, '[', len);
    if (br == NULL) {
        if (!is_ident(expr, len)) {
            goto bad;
        }
        r->kind = AIPA_REF_FIXTURE;
        memcpy(r->name, expr, len);
        return AIPA_OK;
    }
    if (!is_ident(expr, (size_t)(br - expr)) || expr[len - 1] != ']') {
        goto bad;
    }
    r->kind = AIPA_REF_FIXTURE;
    memcpy(r->name, expr, (size_t)(br - expr));
    if ((size_t)(expr + len - br) == 3 && br[1] == 'i') {
        r->index_is_i = true;
        return AIPA_OK;
    }
    if (!parse_index(br + 1, (size_t)(expr + len - br - 2), &r->index)) {
        goto bad;
    }
    return AIPA_OK;
bad:
    if (why != NULL) {
        aipa__note(why, "unknown substitution ${%.*s}", (int)(len > 60 ? 60 : len), expr);
    }
    return AIPA_EPARSE;
}

/* ---- the loader ---- */

/*
 * Formats a JSON path for messages into a fixed buffer. A path cut short
 * only shortens a message, so truncation is fine.
 */
static void wpath(char *buf, size_t cap, const char *fmt, ...) AIPA_PRINTF(3, 4);

static void wpath(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (vsnprintf(buf, cap, fmt, ap) < 0) {
        buf[0] = '\0';
    }
    va_end(ap);
}

#define WPATH(buf, ...) wpath(buf, sizeof(buf), __VA_ARGS__)

struct lctx {
    const char *origin;
    struct aipa_buf *err;
    struct aipa_case *c;
    size_t step;    /* index of the step being loaded */
    bool wire_step; /* the step is a wire step: status 0 (no answer) is allowed */
};

static aipa_err fail(struct lctx *x, const char *where, const char *fmt, ...) AIPA_PRINTF(3, 4);

static aipa_err fail(struct lctx *x, const char *where, const char *fmt, ...)
{
    struct aipa_buf line;
    va_list ap;

    if (x->err == NULL) {
        return AIPA_EPARSE;
    }
    aipa_buf_init(&line, 4096);
    aipa__note(&line, "%s: %s%s", x->origin, where, where[0] != '\0' ? ": " : "");
    va_start(ap, fmt);
    if (aipa_buf_vprintf(&line, fmt, ap) != AIPA_OK) {
        /* the message is best effort; the error code still says what failed */
    }
    va_end(ap);
    /*
     * One line, whatever the case file held: names and values quoted from it
     * may carry control bytes (cJSON accepts them raw inside strings).
     */
    for (size_t i = 0; i < line.len; i++) {
        unsigned char ch = (unsigned char)line.ptr[i];

        if (ch < 0x20 || ch == 0x7f) {
            aipa__note(x->err, "\\x%02x", ch);
        } else {
            aipa__note(x->err, "%c", ch);
        }
    }
    aipa_buf_cleanup(&line);
    return AIPA_EPARSE;
}

/* Unknown keys are errors, except comments starting with '_'. */
static aipa_err check_keys(struct lctx *x, const char *where, const cJSON *obj,
                           const char *const *allowed, size_t n)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, obj)
    {
        bool ok = it->string != NULL && it->string[0] == '_';

        for (size_t i = 0; !ok && i < n; i++) {
            ok = strcmp(it->string, allowed[i]) == 0;
        }
        if (!ok) {
            return fail(x, where, "unknown key \"%.60s\"", it->string != NULL ? it->string : "");
        }
    }
    return AIPA_OK;
}

static aipa_err dup_str(struct lctx *x, const char *where, const cJSON *v, bool nonempty,
                        char **out)
{
    if (!cJSON_IsString(v) || v->valuestring == NULL) {
        return fail(x, where, "must be a string");
    }
    if (nonempty && v->valuestring[0] == '\0') {
        return fail(x, where, "must not be empty");
    }
    *out = aipa_strdup(v->valuestring);
    return *out != NULL ? AIPA_OK : AIPA_ENOMEM;
}

/* Validates the ${...} forms of s against the case being loaded. */
struct vsubst {
    struct lctx *x;
    size_t step;
    bool fixture; /* in a fixture's state: created before any step */
};

static aipa_err validate_ref(void *ctx, const char *expr, size_t len, struct aipa_buf *out,
                             struct aipa_buf *why)
{
    struct vsubst *v = ctx;
    struct aipa__ref r;

    (void)out;
    AIPA_TRY(aipa__ref_parse(expr, len, &r, why));
    if (r.kind == AIPA_REF_POOL_ADDRESS || r.kind == AIPA_REF_POOL_OUTSIDE) {
        v->x->c->uses_pool = true;
    }
    if (v->fixture && r.kind != AIPA_REF_POOL_ADDRESS && r.kind != AIPA_REF_POOL_OUTSIDE &&
        r.kind != AIPA_REF_REGION) {
        aipa__note(why, "a fixture can use only ${pool.address}, ${pool.outside} and ${region}");
        return AIPA_EPARSE;
    }
    if (r.kind == AIPA_REF_STEP && r.index >= v->step) {
        aipa__note(why, "${step[%zu]...} does not name an earlier step", r.index);
        return AIPA_EPARSE;
    }
    if (r.kind == AIPA_REF_FIXTURE) {
        const struct aipa_fixture *f = NULL;

        for (size_t i = 0; i < v->x->c->fixture_count; i++) {
            if (strcmp(v->x->c->fixtures[i].name, r.name) == 0) {
                f = &v->x->c->fixtures[i];
            }
        }
        if (f == NULL) {
            aipa__note(why, "${%s} names no fixture", r.name);
            return AIPA_EPARSE;
        }
        if (!r.index_is_i && r.index >= f->count) {
            aipa__note(why, "${%s[%zu]}: fixture has %u instance(s)", r.name, r.index, f->count);
            return AIPA_EPARSE;
        }
    }
    return AIPA_OK;
}

static aipa_err validate_text(struct lctx *x, const char *where, const char *s, bool bytes)
{
    struct aipa_buf out, why;
    struct vsubst v = {x, x->step, false};
    aipa_err err;

    aipa_buf_init(&out, AIPA_CASE_MAX_EXPANDED);
    aipa_buf_init(&why, 256);
    err = aipa_subst(s, strlen(s), 0, validate_ref, &v, &out, &why);
    if (err == AIPA_EPARSE) {
        err = fail(x, where, "%s", why.ptr != NULL ? why.ptr : "bad substitution");
    }
    if (err == AIPA_OK && bytes) {
        aipa_buf_reset(&out);
        err = aipa_case_expand_bytes(s, strlen(s), &out);
        if (err == AIPA_EPARSE) {
            err = fail(x, where, "malformed %%hex[...]hex%% or %%repeat[N x STR]%% form");
        } else if (err == AIPA_ETOOBIG) {
            err = fail(x, where, "expands past %u bytes", AIPA_CASE_MAX_EXPANDED);
        }
    }
    aipa_buf_cleanup(&out);
    aipa_buf_cleanup(&why);
    return err;
}

static aipa_err load_editions(struct lctx *x, const char *where, const cJSON *v, unsigned *out)
{
    const cJSON *it;
    unsigned eds = 0;

    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
        return fail(x, where, "must be a non-empty list of \"2018-08-02\" / \"2024-12-20\"");
    }
    cJSON_ArrayForEach(it, v)
    {
        unsigned e = cJSON_IsString(it) ? aipa_edition_parse(it->valuestring) : 0;

        if (e == 0) {
            return fail(x, where, "unknown edition (known: \"2018-08-02\", \"2024-12-20\")");
        }
        eds |= e;
    }
    *out = eds;
    return AIPA_OK;
}

static bool is_case_id(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > AIPA_CASE_MAX_ID || strstr(s, "//") != NULL || strstr(s, "..") != NULL) {
        return false;
    }
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')) || s[n - 1] == '/') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '/' || c == '-')) {
            return false;
        }
    }
    return true;
}

static bool is_tag(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'))) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

/* The ${...} forms in every string of a fixture's state (pool and region only). */
static aipa_err validate_fixture_strings(struct lctx *x, const char *where, const cJSON *node)
{
    for (const cJSON *k = node->child; k != NULL; k = k->next) {
        if (cJSON_IsString(k) && strstr(k->valuestring, "${") != NULL) {
            struct aipa_buf out, why;
            struct vsubst v = {x, 0, true};
            aipa_err err;

            aipa_buf_init(&out, AIPA_CASE_MAX_EXPANDED);
            aipa_buf_init(&why, 256);
            err =
                aipa_subst(k->valuestring, strlen(k->valuestring), 0, validate_ref, &v, &out, &why);
            if (err == AIPA_EPARSE) {
                err = fail(x, where, "%s", why.ptr != NULL ? why.ptr : "bad substitution");
            }
            aipa_buf_cleanup(&out);
            aipa_buf_cleanup(&why);
            AIPA_TRY(err);
        } else if (cJSON_IsObject(k) || cJSON_IsArray(k)) {
            AIPA_TRY(validate_fixture_strings(x, where, k));
        }
    }
    return AIPA_OK;
}

static aipa_err load_fixtures(struct lctx *x, const cJSON *v)
{
    const cJSON *it;
    size_t n;
    char where[128];

    if (!cJSON_IsObject(v)) {
        return fail(x, "fixtures", "must be an object of name -> instance state");
    }
    n = (size_t)cJSON_GetArraySize(v);
    if (n > AIPA_CASE_MAX_FIXTURES) {
        return fail(x, "fixtures", "more than %u fixtures", AIPA_CASE_MAX_FIXTURES);
    }
    x->c->fixtures = aipa_calloc(n, sizeof(*x->c->fixtures));
    if (x->c->fixtures == NULL) {
        return AIPA_ENOMEM;
    }
    cJSON_ArrayForEach(it, v)
    {
        struct aipa_fixture *f = &x->c->fixtures[x->c->fixture_count];
        const cJSON *cnt;

        WPATH(where, "fixtures.%.60s", it->string);
        if (!is_ident(it->string, strlen(it->string))) {
            return fail(x, where, "fixture names are [A-Za-z][A-Za-z0-9_]* (at most 63 bytes)");
        }
        if (strcmp(it->string, "step") == 0 || strcmp(it->string, "region") == 0 ||
            strcmp(it->string, "i") == 0 || strcmp(it->string, "pool") == 0) {
            return fail(x, where, "\"%s\" is reserved for substitutions", it->string);
        }
        if (!cJSON_IsObject(it)) {
            return fail(x, where, "must be an object with DescribeInstances field names");
        }
        f->name = aipa_strdup(it->string);
        f->state = cJSON_Duplicate(it, true);
        x->c->fixture_count++;
        if (f->name == NULL || f->state == NULL) {
            return AIPA_ENOMEM;
        }
        f->count = 1;
        cnt = cJSON_GetObjectItemCaseSensitive(f->state, "$count");
        if (cnt != NULL) {
            double d = cJSON_IsNumber(cnt) ? cnt->valuedouble : -1;

            if (d < 1 || d > AIPA_CASE_MAX_FIXTURE_COUNT || d != (double)(unsigned)d) {
                return fail(x, where, "$count must be an integer 1..%u",
                            AIPA_CASE_MAX_FIXTURE_COUNT);
            }
            f->count = (unsigned)d;
            cJSON_DeleteItemFromObjectCaseSensitive(f->state, "$count");
        }
        for (const cJSON *k = f->state->child; k != NULL; k = k->next) {
            if (k->string != NULL && k->string[0] == '$') {
                return fail(x, where, "unknown runner key \"%.40s\" (only $count)", k->string);
            }
        }
        AIPA_TRY(validate_fixture_strings(x, where, f->state));
    }
    return AIPA_OK;
}

static aipa_err load_axis(struct lctx *x, const char *where, const cJSON *v,
                          const char *const *names, size_t n, unsigned *out, bool single)
{
    if (single) {
        if (!cJSON_IsString(v)) {
            return fail(x, where, "must be a string");
        }
        for (size_t i = 0; i < n; i++) {
            if (strcmp(v->valuestring, names[i]) == 0) {
                *out = 1u << i;
                return AIPA_OK;
            }
        }
        return fail(x, where, "unknown value \"%.40s\"", v->valuestring);
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
        return fail(x, where, "must be a non-empty list");
    }
    if (aipa__axis_bits(v, names, n, out) != AIPA_OK) {
        return fail(x, where, "unknown value in list");
    }
    return AIPA_OK;
}

aipa_err aipa__axis_bits(const cJSON *v, const char *const *names, size_t n, unsigned *out)
{
    const cJSON *it;
    unsigned bits = 0;

    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
        return AIPA_EPARSE;
    }
    cJSON_ArrayForEach(it, v)
    {
        unsigned b = 0;

        for (size_t i = 0; cJSON_IsString(it) && i < n; i++) {
            if (strcmp(it->valuestring, names[i]) == 0) {
                b = 1u << i;
            }
        }
        if (b == 0) {
            return AIPA_EPARSE;
        }
        bits |= b;
    }
    *out = bits;
    return AIPA_OK;
}

static aipa_err load_variants(struct lctx *x, const cJSON *v)
{
    static const char *const keys[] = {"signature", "shape", "format"};
    struct aipa_variant_set *vs = &x->c->variants;
    const cJSON *it;

    if (!cJSON_IsObject(v)) {
        return fail(x, "variants", "must be an object");
    }
    AIPA_TRY(check_keys(x, "variants", v, keys, 3));
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "signature")) != NULL) {
        AIPA_TRY(load_axis(x, "variants.signature", it, aipa__sig_names, 2, &vs->sig, false));
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "shape")) != NULL) {
        AIPA_TRY(load_axis(x, "variants.shape", it, aipa__shape_names, 3, &vs->shape, false));
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "format")) != NULL) {
        AIPA_TRY(load_axis(x, "variants.format", it, aipa__fmt_names, 2, &vs->fmt, false));
    }
    if (aipa_variants_expand(vs, NULL, 0) == 0) {
        return fail(x, "variants", "leaves no variant (V3 never carries a form body)");
    }
    return AIPA_OK;
}

static aipa_err load_kvs(struct lctx *x, const char *where, const cJSON *v, size_t max, bool bytes,
                         struct aipa_case_kv **out, size_t *count)
{
    const cJSON *it;
    size_t n;
    char w[160];

    if (!cJSON_IsObject(v)) {
        return fail(x, where, "must be an object of name -> string");
    }
    n = (size_t)cJSON_GetArraySize(v);
    if (n > max) {
        return fail(x, where, "more than %zu entries", max);
    }
    *out = aipa_calloc(n, sizeof(**out));
    if (*out == NULL) {
        return AIPA_ENOMEM;
    }
    cJSON_ArrayForEach(it, v)
    {
        struct aipa_case_kv *kv = &(*out)[*count];

        WPATH(w, "%s.%.60s", where, it->string);
        if (it->string[0] == '\0') {
            return fail(x, where, "empty name");
        }
        for (size_t i = 0; i < *count; i++) {
            if (strcmp((*out)[i].name, it->string) == 0) {
                return fail(x, w, "given twice");
            }
        }
        if (!cJSON_IsString(it)) {
            return fail(x, w, "must be a string (write \"5\", not 5)");
        }
        kv->name = aipa_strdup(it->string);
        kv->value = aipa_strdup(it->valuestring);
        (*count)++;
        if (kv->name == NULL || kv->value == NULL) {
            return AIPA_ENOMEM;
        }
        AIPA_TRY(validate_text(x, w, kv->value, bytes));
    }
    return AIPA_OK;
}

static const char *const common_names[] = {
    "Action",           "Version",        "AccessKeyId", "Signature", "SignatureMethod",
    "SignatureVersion", "SignatureNonce", "Timestamp",   "Format",
};

static bool v3_has_form(const char *name)
{
    return strcmp(name, "Action") == 0 || strcmp(name, "Version") == 0 ||
           strcmp(name, "Timestamp") == 0 || strcmp(name, "SignatureNonce") == 0 ||
           strcmp(name, "Signature") == 0 || strcmp(name, "AccessKeyId") == 0;
}

static aipa_err load_tamper(struct lctx *x, const char *where, const cJSON *v,
                            struct aipa_tamper *t)
{
    static const char *const keys[] = {"secret", "key", "timestamp", "nonce",
                                       "omit",   "set", "unsigned",  "token"};
    const cJSON *it;
    char w[128];

    if (!cJSON_IsObject(v)) {
        return fail(x, where, "must be an object");
    }
    AIPA_TRY(check_keys(x, where, v, keys, AIPA_ARRAY_LEN(keys)));
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "secret")) != NULL) {
        if (!cJSON_IsString(it) || strcmp(it->valuestring, "wrong") != 0) {
            return fail(x, where, "secret: only \"wrong\"");
        }
        t->flags |= AIPA_TAMPER_WRONG_SECRET;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "key")) != NULL) {
        if (!cJSON_IsString(it) || strcmp(it->valuestring, "unknown") != 0) {
            return fail(x, where,
                        "key: only \"unknown\" (use \"principal\": \"inactive\" for a "
                        "disabled key)");
        }
        t->flags |= AIPA_TAMPER_UNKNOWN_KEY;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "timestamp")) != NULL) {
        const char *s = cJSON_IsString(it) ? it->valuestring : "";

        if (strcmp(s, "stale") == 0) {
            t->flags |= AIPA_TAMPER_TS_STALE;
        } else if (strcmp(s, "future") == 0) {
            t->flags |= AIPA_TAMPER_TS_FUTURE;
        } else if (strcmp(s, "malformed") == 0) {
            t->flags |= AIPA_TAMPER_TS_MALFORMED;
        } else {
            return fail(x, where, "timestamp: \"stale\", \"future\" or \"malformed\"");
        }
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "nonce")) != NULL) {
        if (!cJSON_IsString(it) || strcmp(it->valuestring, "reuse") != 0) {
            return fail(x, where, "nonce: only \"reuse\"");
        }
        if (x->step == 0) {
            return fail(x, where, "nonce \"reuse\" needs a previous step");
        }
        t->flags |= AIPA_TAMPER_REUSE_NONCE;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "token")) != NULL) {
        /* "omit", "malformed", or the name of a principal whose token to send */
        if (!cJSON_IsString(it) || !is_ident(it->valuestring, strlen(it->valuestring))) {
            return fail(x, where,
                        "token: \"omit\", \"malformed\" or a principal name (whose "
                        "SecurityToken is sent instead)");
        }
        t->token = aipa_strdup(it->valuestring);
        if (t->token == NULL) {
            return AIPA_ENOMEM;
        }
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "unsigned")) != NULL) {
        if (!cJSON_IsTrue(it)) {
            return fail(x, where, "unsigned: only true");
        }
        t->flags |= AIPA_TAMPER_UNSIGNED;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "omit")) != NULL) {
        const cJSON *e;
        size_t n = cJSON_IsArray(it) ? (size_t)cJSON_GetArraySize(it) : 0;

        if (n == 0 || n > AIPA_ARRAY_LEN(common_names)) {
            return fail(x, where, "omit: a non-empty list of common parameter names");
        }
        t->omit = aipa_calloc(n, sizeof(*t->omit));
        if (t->omit == NULL) {
            return AIPA_ENOMEM;
        }
        cJSON_ArrayForEach(e, it)
        {
            bool known = false;

            for (size_t i = 0; cJSON_IsString(e) && i < AIPA_ARRAY_LEN(common_names); i++) {
                known = known || strcmp(e->valuestring, common_names[i]) == 0;
            }
            if (!known) {
                return fail(x, where,
                            "omit: not a common parameter (Action, Version, "
                            "AccessKeyId, Signature, SignatureMethod, SignatureVersion, "
                            "SignatureNonce, Timestamp, Format)");
            }
            t->omit[t->omit_count] = aipa_strdup(e->valuestring);
            if (t->omit[t->omit_count++] == NULL) {
                return AIPA_ENOMEM;
            }
            if (!v3_has_form(e->valuestring)) {
                t->v1_only = true;
            }
        }
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "set")) != NULL) {
        WPATH(w, "%s.set", where);
        AIPA_TRY(load_kvs(x, w, it, AIPA_ARRAY_LEN(common_names), true, &t->set, &t->set_count));
        for (size_t i = 0; i < t->set_count; i++) {
            bool known = false;

            for (size_t k = 0; k < AIPA_ARRAY_LEN(common_names); k++) {
                known = known || strcmp(t->set[i].name, common_names[k]) == 0;
            }
            if (!known) {
                return fail(x, w,
                            "\"%.40s\" is not a common parameter (put operation "
                            "parameters in request)",
                            t->set[i].name);
            }
            if (strcmp(t->set[i].name, "Signature") == 0) {
                return fail(x, w,
                            "the Signature is computed; use \"secret\": \"wrong\" or "
                            "\"omit\": [\"Signature\"]");
            }
            if (!v3_has_form(t->set[i].name)) {
                t->v1_only = true;
            }
        }
    }
    if (cJSON_GetArraySize(v) == 0) {
        return fail(x, where, "empty tamper object");
    }
    return AIPA_OK;
}

static aipa_err load_raw(struct lctx *x, const char *where, const cJSON *v, struct aipa_raw **out)
{
    static const char *const keys[] = {"method", "target", "headers", "body"};
    struct aipa_raw *r;
    const cJSON *it;
    char w[128];

    if (!cJSON_IsObject(v)) {
        return fail(x, where, "must be an object {method, target, headers, body}");
    }
    AIPA_TRY(check_keys(x, where, v, keys, AIPA_ARRAY_LEN(keys)));
    r = *out = aipa_calloc(1, sizeof(*r));
    if (r == NULL) {
        return AIPA_ENOMEM;
    }
    WPATH(w, "%s.method", where);
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "method")) != NULL) {
        AIPA_TRY(dup_str(x, w, it, true, &r->method));
        for (const char *p = r->method; *p != '\0'; p++) {
            if (*p <= ' ' || *p >= 127) {
                return fail(x, w, "must be an HTTP token");
            }
        }
    } else if ((r->method = aipa_strdup("GET")) == NULL) {
        return AIPA_ENOMEM;
    }
    WPATH(w, "%s.target", where);
    it = cJSON_GetObjectItemCaseSensitive(v, "target");
    if (it == NULL) {
        return fail(x, where, "target is required (path and query as sent, e.g. \"/?A=b\")");
    }
    AIPA_TRY(dup_str(x, w, it, true, &r->target));
    AIPA_TRY(validate_text(x, w, r->target, true));
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "headers")) != NULL) {
        WPATH(w, "%s.headers", where);
        AIPA_TRY(load_kvs(x, w, it, 32, true, &r->headers, &r->header_count));
    }
    WPATH(w, "%s.body", where);
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "body")) != NULL) {
        AIPA_TRY(dup_str(x, w, it, false, &r->body));
        AIPA_TRY(validate_text(x, w, r->body, true));
    } else if ((r->body = aipa_strdup("")) == NULL) {
        return AIPA_ENOMEM;
    }
    return AIPA_OK;
}

/* An optional integer lo..hi into *out (left alone when absent). */
static aipa_err load_int(struct lctx *x, const char *where, const cJSON *v, const char *key,
                         int lo, int hi, int *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(v, key);
    char w[160];

    if (it == NULL) {
        return AIPA_OK;
    }
    if (cJSON_IsBool(it) && lo == 0 && hi == 1) {
        *out = cJSON_IsTrue(it) ? 1 : 0;
        return AIPA_OK;
    }
    if (!cJSON_IsNumber(it) || it->valuedouble < lo || it->valuedouble > hi ||
        it->valuedouble != (double)(int)it->valuedouble) {
        WPATH(w, "%s.%s", where, key);
        return fail(x, w, lo == 0 && hi == 1 ? "must be true or false" : "must be an integer %d..%d",
                    lo, hi);
    }
    *out = (int)it->valuedouble;
    return AIPA_OK;
}

static aipa_err load_wire(struct lctx *x, const char *where, const cJSON *v, struct aipa_wire **out)
{
    static const char *const keys[] = {"send",   "drip_ms", "wait_ms", "answers",
                                       "closed", "cut_off", "format"};
    struct aipa_wire *wr;
    const cJSON *it;
    char w[128];
    int drip = 0, wait = 3000;

    if (!cJSON_IsObject(v)) {
        return fail(x, where, "must be an object {send, drip_ms, wait_ms, answers, closed, cut_off}");
    }
    AIPA_TRY(check_keys(x, where, v, keys, AIPA_ARRAY_LEN(keys)));
    wr = *out = aipa_calloc(1, sizeof(*wr));
    if (wr == NULL) {
        return AIPA_ENOMEM;
    }
    wr->answers = wr->closed = wr->cut_off = -1;
    it = cJSON_GetObjectItemCaseSensitive(v, "send");
    if (it == NULL) {
        return fail(x, where, "send is required (the bytes, e.g. \"GET / HTTP/1.1\\r\\n...\")");
    }
    WPATH(w, "%s.send", where);
    AIPA_TRY(dup_str(x, w, it, true, &wr->send));
    AIPA_TRY(validate_text(x, w, wr->send, true));
    wr->send_len = strlen(wr->send);
    AIPA_TRY(load_int(x, where, v, "drip_ms", 0, 10000, &drip));
    AIPA_TRY(load_int(x, where, v, "wait_ms", 1, 60000, &wait));
    AIPA_TRY(load_int(x, where, v, "answers", 0, 64, &wr->answers));
    AIPA_TRY(load_int(x, where, v, "closed", 0, 1, &wr->closed));
    AIPA_TRY(load_int(x, where, v, "cut_off", 0, 1, &wr->cut_off));
    wr->drip_ms = (unsigned)drip;
    wr->wait_ms = (unsigned)wait;
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "format")) != NULL) {
        WPATH(w, "%s.format", where);
        AIPA_TRY(load_axis(x, w, it, aipa__fmt_names, 2, &wr->want_fmt, true));
    }
    return AIPA_OK;
}

static aipa_err load_stepref(struct lctx *x, const char *where, const cJSON *v, char **out)
{
    size_t step;
    const char *path;

    AIPA_TRY(dup_str(x, where, v, true, out));
    if (aipa__stepref_parse(*out, &step, &path) != AIPA_OK || path[0] == '\0') {
        return fail(x, where, "must be \"step[N].PATH\"");
    }
    if (step >= x->step) {
        return fail(x, where, "step[%zu] is not an earlier step", step);
    }
    return AIPA_OK;
}

static bool is_scalar(const cJSON *v)
{
    return cJSON_IsString(v) || cJSON_IsNumber(v) || cJSON_IsBool(v);
}

static aipa_err validate_operand_text(struct lctx *x, const char *where, const cJSON *v)
{
    const cJSON *e;

    if (cJSON_IsString(v)) {
        return validate_text(x, where, v->valuestring, false);
    }
    cJSON_ArrayForEach(e, v)
    {
        if (cJSON_IsString(e)) {
            AIPA_TRY(validate_text(x, where, e->valuestring, false));
        }
    }
    return AIPA_OK;
}

static aipa_err load_check(struct lctx *x, const char *where, const cJSON *v, struct aipa_check *k)
{
    const cJSON *op;

    if (is_scalar(v)) {
        k->kind = AIPA_CHK_EQUALS;
        k->operand = cJSON_Duplicate(v, true);
        return k->operand != NULL ? validate_operand_text(x, where, v) : AIPA_ENOMEM;
    }
    if (cJSON_IsArray(v)) {
        const cJSON *e;

        cJSON_ArrayForEach(e, v)
        {
            if (!is_scalar(e)) {
                return fail(x, where, "a list check holds only strings, numbers, booleans");
            }
        }
        k->kind = AIPA_CHK_LIST_EQUALS;
        k->operand = cJSON_Duplicate(v, true);
        return k->operand != NULL ? validate_operand_text(x, where, v) : AIPA_ENOMEM;
    }
    if (!cJSON_IsObject(v) || cJSON_GetArraySize(v) != 1) {
        return fail(x, where,
                    "a check is a literal, a list, or an object with exactly one of equals, "
                    "not_equals, prefix, one_of, is, present, absent, length, same_as, "
                    "not_same_as (null is not a check: use {\"absent\": true})");
    }
    op = v->child;
    if (strcmp(op->string, "equals") == 0 || strcmp(op->string, "not_equals") == 0) {
        if (!is_scalar(op)) {
            return fail(x, where, "%s takes a string, number or boolean", op->string);
        }
        k->kind = op->string[0] == 'e' ? AIPA_CHK_EQUALS : AIPA_CHK_NOT_EQUALS;
    } else if (strcmp(op->string, "prefix") == 0) {
        if (!cJSON_IsString(op)) {
            return fail(x, where, "prefix takes a string");
        }
        k->kind = AIPA_CHK_PREFIX;
    } else if (strcmp(op->string, "one_of") == 0) {
        const cJSON *e;

        if (!cJSON_IsArray(op) || cJSON_GetArraySize(op) == 0) {
            return fail(x, where, "one_of takes a non-empty list");
        }
        cJSON_ArrayForEach(e, op)
        {
            if (!is_scalar(e)) {
                return fail(x, where, "one_of holds only strings, numbers, booleans");
            }
        }
        k->kind = AIPA_CHK_ONE_OF;
    } else if (strcmp(op->string, "is") == 0) {
        const char *s = cJSON_IsString(op) ? op->valuestring : "";

        if (strcmp(s, "ipv4") == 0) {
            k->kind = AIPA_CHK_IS_IPV4;
        } else if (strcmp(s, "uuid") == 0) {
            k->kind = AIPA_CHK_IS_UUID;
        } else if (strcmp(s, "integer") == 0) {
            k->kind = AIPA_CHK_IS_INTEGER;
        } else if (strcmp(s, "nonempty") == 0) {
            k->kind = AIPA_CHK_IS_NONEMPTY;
        } else {
            return fail(x, where, "is: \"ipv4\", \"uuid\", \"integer\" or \"nonempty\"");
        }
        return AIPA_OK;
    } else if (strcmp(op->string, "present") == 0 || strcmp(op->string, "absent") == 0) {
        if (!cJSON_IsTrue(op)) {
            return fail(x, where, "%s takes true", op->string);
        }
        k->kind = op->string[0] == 'p' ? AIPA_CHK_PRESENT : AIPA_CHK_ABSENT;
        return AIPA_OK;
    } else if (strcmp(op->string, "length") == 0) {
        if (!cJSON_IsNumber(op) || op->valuedouble < 0 || op->valuedouble > 100000 ||
            op->valuedouble != (double)(size_t)op->valuedouble) {
            return fail(x, where, "length takes an integer >= 0");
        }
        k->kind = AIPA_CHK_LENGTH;
        k->length = (size_t)op->valuedouble;
        return AIPA_OK;
    } else if (strcmp(op->string, "same_as") == 0 || strcmp(op->string, "not_same_as") == 0) {
        k->kind = op->string[0] == 's' ? AIPA_CHK_SAME_AS : AIPA_CHK_NOT_SAME_AS;
        return load_stepref(x, where, op, &k->ref);
    } else {
        return fail(x, where, "unknown check \"%.40s\"", op->string);
    }
    k->operand = cJSON_Duplicate(op, true);
    if (k->operand == NULL) {
        return AIPA_ENOMEM;
    }
    return validate_operand_text(x, where, op);
}

static aipa_err load_status(struct lctx *x, const char *where, const cJSON *v, int *out,
                            size_t *count, size_t cap)
{
    const cJSON *e;

    if (cJSON_IsNumber(v)) {
        if ((v->valuedouble < 100 && !(x->wire_step && v->valuedouble == 0)) ||
            v->valuedouble > 599 || v->valuedouble != (int)v->valuedouble) {
            goto bad;
        }
        out[0] = (int)v->valuedouble;
        *count = 1;
        return AIPA_OK;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0 || (size_t)cJSON_GetArraySize(v) > cap) {
        goto bad;
    }
    cJSON_ArrayForEach(e, v)
    {
        if (!cJSON_IsNumber(e) || (e->valuedouble < 100 && !(x->wire_step && e->valuedouble == 0)) ||
            e->valuedouble > 599 || e->valuedouble != (int)e->valuedouble) {
            goto bad;
        }
        out[(*count)++] = (int)e->valuedouble;
    }
    return AIPA_OK;
bad:
    return fail(x, where, "must be an integer 100..599 or a list of them (at most %zu)", cap);
}

/* "latitude": a row id of the latitude table, or a list of them. */
static aipa_err load_latitude(struct lctx *x, const char *where, const cJSON *v,
                              struct aipa_lat_set *out)
{
    const cJSON *it;

    aipa_lat_set_clear(out);
    if (cJSON_IsString(v)) {
        const struct aipa_latitude *r = aipa_lat_find(v->valuestring, strlen(v->valuestring));
        if (r == NULL) {
            return fail(x, where, "names no row of the latitude table (aipa latitude --ids)");
        }
        aipa_lat_set_add(out, r->id);
        return AIPA_OK;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
        return fail(x, where, "must be a row id or a non-empty list of them");
    }
    cJSON_ArrayForEach(it, v)
    {
        const struct aipa_latitude *r =
            cJSON_IsString(it) ? aipa_lat_find(it->valuestring, strlen(it->valuestring)) : NULL;
        if (r == NULL) {
            return fail(x, where, "names no row of the latitude table (aipa latitude --ids)");
        }
        aipa_lat_set_add(out, r->id);
    }
    return AIPA_OK;
}

static aipa_err load_outcome(struct lctx *x, const char *where, const cJSON *v,
                             struct aipa_outcome *o)
{
    static const char *const keys[] = {"editions",  "grade",     "status", "Code",    "Message",
                                       "MessagePrefix", "RequestId", "fields", "latitude"};
    const cJSON *it;
    char w[256];

    if (!cJSON_IsObject(v)) {
        return fail(x, where, "must be an object");
    }
    AIPA_TRY(check_keys(x, where, v, keys, AIPA_ARRAY_LEN(keys)));
    o->editions = x->c->editions;
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "editions")) != NULL) {
        WPATH(w, "%s.editions", where);
        AIPA_TRY(load_editions(x, w, it, &o->editions));
        if ((o->editions & ~x->c->editions) != 0) {
            return fail(x, w, "names an edition the case does not hold for");
        }
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "grade")) != NULL) {
        if (cJSON_IsString(it) && strcmp(it->valuestring, "nonstrict") == 0) {
            o->nonstrict = true;
        } else if (!cJSON_IsString(it) || strcmp(it->valuestring, "strict") != 0) {
            WPATH(w, "%s.grade", where);
            return fail(x, w, "must be \"strict\" or \"nonstrict\"");
        }
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "latitude")) != NULL) {
        WPATH(w, "%s.latitude", where);
        AIPA_TRY(load_latitude(x, w, it, &o->latitude));
    }
    WPATH(w, "%s.status", where);
    it = cJSON_GetObjectItemCaseSensitive(v, "status");
    if (it == NULL) {
        return fail(x, where, "status is required");
    }
    AIPA_TRY(load_status(x, w, it, o->status, &o->status_count, AIPA_OUTCOME_MAX_STATUS));
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "Code")) != NULL) {
        WPATH(w, "%s.Code", where);
        if (cJSON_IsNull(it)) {
            o->code_absent = true;
        } else {
            AIPA_TRY(dup_str(x, w, it, true, &o->code));
        }
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "Message")) != NULL) {
        WPATH(w, "%s.Message", where);
        AIPA_TRY(dup_str(x, w, it, false, &o->message));
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "MessagePrefix")) != NULL) {
        WPATH(w, "%s.MessagePrefix", where);
        AIPA_TRY(dup_str(x, w, it, true, &o->message_prefix));
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "RequestId")) != NULL) {
        const char *s = cJSON_IsString(it) ? it->valuestring : "";

        if (strcmp(s, "uuid") == 0) {
            o->request_id = AIPA_RID_UUID;
        } else if (strcmp(s, "present") == 0) {
            o->request_id = AIPA_RID_PRESENT;
        } else if (strcmp(s, "any") == 0) {
            o->request_id = AIPA_RID_ANY;
        } else {
            WPATH(w, "%s.RequestId", where);
            return fail(x, w, "must be \"uuid\", \"present\" or \"any\"");
        }
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "fields")) != NULL) {
        const cJSON *f;
        size_t n;

        WPATH(w, "%s.fields", where);
        if (!cJSON_IsObject(it)) {
            return fail(x, w, "must be an object of path -> check");
        }
        n = (size_t)cJSON_GetArraySize(it);
        if (n > AIPA_CASE_MAX_CHECKS) {
            return fail(x, w, "more than %u checks", AIPA_CASE_MAX_CHECKS);
        }
        o->checks = aipa_calloc(n, sizeof(*o->checks));
        if (o->checks == NULL) {
            return AIPA_ENOMEM;
        }
        cJSON_ArrayForEach(f, it)
        {
            struct aipa_check *k = &o->checks[o->check_count++];

            WPATH(w, "%s.fields.%.80s", where, f->string);
            if (f->string[0] == '\0' || strstr(f->string, "..") != NULL || f->string[0] == '.' ||
                f->string[strlen(f->string) - 1] == '.') {
                return fail(x, w, "malformed path");
            }
            k->path = aipa_strdup(f->string);
            if (k->path == NULL) {
                return AIPA_ENOMEM;
            }
            AIPA_TRY(validate_text(x, w, k->path, false));
            AIPA_TRY(load_check(x, w, f, k));
        }
    }
    return AIPA_OK;
}

static aipa_err load_across(struct lctx *x, const char *where, const cJSON *v,
                            struct aipa_across *a)
{
    static const char *const keys[] = {"editions", "field", "distinct", "same", "status",
                                       "Code",     "count", "min",      "max"};
    const cJSON *it, *cnt, *mn, *mx;
    char w[160];

    if (!cJSON_IsObject(v)) {
        return fail(x, where, "must be an object");
    }
    AIPA_TRY(check_keys(x, where, v, keys, AIPA_ARRAY_LEN(keys)));
    a->editions = x->c->editions;
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "editions")) != NULL) {
        WPATH(w, "%s.editions", where);
        AIPA_TRY(load_editions(x, w, it, &a->editions));
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "field")) != NULL) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(v, "distinct");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(v, "same");

        WPATH(w, "%s.field", where);
        AIPA_TRY(dup_str(x, w, it, true, &a->field));
        if (cJSON_IsTrue(d) && s == NULL) {
            a->kind = AIPA_ACR_DISTINCT;
        } else if (cJSON_IsTrue(s) && d == NULL) {
            a->kind = AIPA_ACR_SAME;
        } else {
            return fail(x, where, "a field check takes \"distinct\": true or \"same\": true");
        }
        return AIPA_OK;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "status")) != NULL) {
        size_t one = 0;

        WPATH(w, "%s.status", where);
        if (cJSON_IsArray(it)) {
            return fail(x, w, "must be one integer");
        }
        AIPA_TRY(load_status(x, w, it, &a->status, &one, 1));
        a->kind = AIPA_ACR_STATUS;
    } else if ((it = cJSON_GetObjectItemCaseSensitive(v, "Code")) != NULL) {
        WPATH(w, "%s.Code", where);
        AIPA_TRY(dup_str(x, w, it, true, &a->code));
        a->kind = AIPA_ACR_CODE;
    } else {
        return fail(x, where, "needs \"field\", \"status\" or \"Code\"");
    }
    cnt = cJSON_GetObjectItemCaseSensitive(v, "count");
    mn = cJSON_GetObjectItemCaseSensitive(v, "min");
    mx = cJSON_GetObjectItemCaseSensitive(v, "max");
    if ((cnt != NULL) == (mn != NULL || mx != NULL)) {
        return fail(x, where, "give either count or min/max");
    }
    a->min = 0;
    a->max = SIZE_MAX;
    for (int i = 0; i < 3; i++) {
        const cJSON *n = i == 0 ? cnt : i == 1 ? mn : mx;

        if (n == NULL) {
            continue;
        }
        if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble > AIPA_CASE_MAX_REPEAT ||
            n->valuedouble != (double)(size_t)n->valuedouble) {
            return fail(x, where, "count/min/max take integers 0..%u", AIPA_CASE_MAX_REPEAT);
        }
        if (i != 2) {
            a->min = (size_t)n->valuedouble;
        }
        if (i != 1) {
            a->max = (size_t)n->valuedouble;
        }
    }
    return AIPA_OK;
}

/* A step's "pin": the variant axes it fixes whatever the run varies. */
static aipa_err load_pin(struct lctx *x, const char *where, const cJSON *it, struct aipa_step *s)
{
    static const char *const pkeys[] = {"signature", "shape", "format"};
    const cJSON *p;
    char w[128];

    WPATH(w, "%s.pin", where);
    if (!cJSON_IsObject(it) || cJSON_GetArraySize(it) == 0) {
        return fail(x, w, "must be an object with signature, shape and/or format");
    }
    AIPA_TRY(check_keys(x, w, it, pkeys, 3));
    if ((p = cJSON_GetObjectItemCaseSensitive(it, "signature")) != NULL) {
        AIPA_TRY(load_axis(x, w, p, aipa__sig_names, 2, &s->pin.sig, true));
    }
    if ((p = cJSON_GetObjectItemCaseSensitive(it, "shape")) != NULL) {
        AIPA_TRY(load_axis(x, w, p, aipa__shape_names, 3, &s->pin.shape, true));
    }
    if ((p = cJSON_GetObjectItemCaseSensitive(it, "format")) != NULL) {
        AIPA_TRY(load_axis(x, w, p, aipa__fmt_names, 2, &s->pin.fmt, true));
    }
    if (s->pin.sig == AIPA_VSIG_V3 && s->pin.shape == AIPA_VSHAPE_POST_FORM) {
        return fail(x, w, "V3 never carries a form body");
    }
    return AIPA_OK;
}

/* A step's "expect": its acceptable outcomes, which must cover the case's editions. */
static aipa_err load_expect(struct lctx *x, const char *where, const cJSON *v, struct aipa_step *s)
{
    const cJSON *it;
    char w[128];
    unsigned covered = 0;

    it = cJSON_GetObjectItemCaseSensitive(v, "expect");
    WPATH(w, "%s.expect", where);
    if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) == 0 ||
        (size_t)cJSON_GetArraySize(it) > AIPA_CASE_MAX_OUTCOMES) {
        return fail(x, w, "must be a list of 1..%u acceptable outcomes", AIPA_CASE_MAX_OUTCOMES);
    }
    s->outcomes = aipa_calloc((size_t)cJSON_GetArraySize(it), sizeof(*s->outcomes));
    if (s->outcomes == NULL) {
        return AIPA_ENOMEM;
    }
    for (const cJSON *o = it->child; o != NULL; o = o->next) {
        WPATH(w, "%s.expect[%zu]", where, s->outcome_count);
        s->outcome_count++; /* counted first so a failed load is still freed */
        AIPA_TRY(load_outcome(x, w, o, &s->outcomes[s->outcome_count - 1]));
        covered |= s->outcomes[s->outcome_count - 1].editions;
    }
    if ((covered & x->c->editions) != x->c->editions) {
        unsigned missing = x->c->editions & ~covered;

        WPATH(w, "%s.expect", where);
        return fail(x, w, "no outcome for edition %s",
                    aipa_edition_name(missing & AIPA_ED_2018 ? AIPA_ED_2018 : AIPA_ED_2024));
    }
    return AIPA_OK;
}

static aipa_err load_step(struct lctx *x, const cJSON *v, struct aipa_step *s)
{
    static const char *const keys[] = {"name",     "request", "raw",    "wire",
                                       "principal", "pin",    "tamper", "repeat",
                                       "parallel", "expect",  "across"};
    const cJSON *it, *req, *raw, *wire;
    char where[64], w[128];

    WPATH(where, "steps[%zu]", x->step);
    if (!cJSON_IsObject(v)) {
        return fail(x, where, "must be an object");
    }
    AIPA_TRY(check_keys(x, where, v, keys, AIPA_ARRAY_LEN(keys)));
    s->repeat = 1;
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "name")) != NULL) {
        WPATH(w, "%s.name", where);
        AIPA_TRY(dup_str(x, w, it, true, &s->name));
    }
    req = cJSON_GetObjectItemCaseSensitive(v, "request");
    raw = cJSON_GetObjectItemCaseSensitive(v, "raw");
    wire = cJSON_GetObjectItemCaseSensitive(v, "wire");
    if ((req != NULL) + (raw != NULL) + (wire != NULL) != 1) {
        return fail(x, where, "needs exactly one of \"request\", \"raw\" and \"wire\"");
    }
    x->wire_step = wire != NULL;
    if (wire != NULL) {
        WPATH(w, "%s.wire", where);
        AIPA_TRY(load_wire(x, w, wire, &s->wire));
        if (cJSON_GetObjectItemCaseSensitive(v, "pin") != NULL ||
            cJSON_GetObjectItemCaseSensitive(v, "tamper") != NULL ||
            cJSON_GetObjectItemCaseSensitive(v, "principal") != NULL ||
            cJSON_GetObjectItemCaseSensitive(v, "repeat") != NULL ||
            cJSON_GetObjectItemCaseSensitive(v, "across") != NULL) {
            return fail(x, where, "a wire step takes no pin, tamper, principal, repeat or across");
        }
    } else if (req != NULL) {
        WPATH(w, "%s.request", where);
        AIPA_TRY(load_kvs(x, w, req, AIPA_CASE_MAX_PARAMS, true, &s->params, &s->param_count));
        bool has_action = false;

        for (size_t i = 0; i < s->param_count; i++) {
            has_action = has_action || strcmp(s->params[i].name, "Action") == 0;
        }
        if (!has_action) {
            return fail(x, w, "Action is required (omit it with tamper.omit to test its absence)");
        }
    } else {
        WPATH(w, "%s.raw", where);
        AIPA_TRY(load_raw(x, w, raw, &s->raw));
        if (cJSON_GetObjectItemCaseSensitive(v, "pin") != NULL ||
            cJSON_GetObjectItemCaseSensitive(v, "tamper") != NULL ||
            cJSON_GetObjectItemCaseSensitive(v, "principal") != NULL) {
            return fail(x, where, "a raw step takes no pin, tamper or principal");
        }
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "principal")) != NULL) {
        WPATH(w, "%s.principal", where);
        AIPA_TRY(dup_str(x, w, it, true, &s->principal));
        if (!is_ident(s->principal, strlen(s->principal))) {
            return fail(x, w, "must be a name ([A-Za-z][A-Za-z0-9_]*)");
        }
    } else if ((s->principal = aipa_strdup("default")) == NULL) {
        return AIPA_ENOMEM;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "pin")) != NULL) {
        AIPA_TRY(load_pin(x, where, it, s));
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "tamper")) != NULL) {
        WPATH(w, "%s.tamper", where);
        AIPA_TRY(load_tamper(x, w, it, &s->tamper));
        if (s->tamper.v1_only && s->pin.sig == AIPA_VSIG_V3) {
            return fail(x, w, "has no V3 form but the step pins v3");
        }
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "repeat")) != NULL) {
        if (!cJSON_IsNumber(it) || it->valuedouble < 1 || it->valuedouble > AIPA_CASE_MAX_REPEAT ||
            it->valuedouble != (double)(unsigned)it->valuedouble) {
            WPATH(w, "%s.repeat", where);
            return fail(x, w, "must be an integer 1..%u", AIPA_CASE_MAX_REPEAT);
        }
        s->repeat = (unsigned)it->valuedouble;
        if (s->tamper.flags & AIPA_TAMPER_REUSE_NONCE) {
            return fail(x, where, "repeat and nonce \"reuse\" do not combine");
        }
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "parallel")) != NULL) {
        if (!cJSON_IsBool(it)) {
            WPATH(w, "%s.parallel", where);
            return fail(x, w, "must be true or false");
        }
        s->parallel = cJSON_IsTrue(it);
    }
    AIPA_TRY(load_expect(x, where, v, s));
    if ((it = cJSON_GetObjectItemCaseSensitive(v, "across")) != NULL) {
        WPATH(w, "%s.across", where);
        if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) == 0 || cJSON_GetArraySize(it) > 8) {
            return fail(x, w, "must be a list of 1..8 checks");
        }
        if (s->repeat < 2) {
            return fail(x, w, "needs repeat >= 2");
        }
        s->across = aipa_calloc((size_t)cJSON_GetArraySize(it), sizeof(*s->across));
        if (s->across == NULL) {
            return AIPA_ENOMEM;
        }
        for (const cJSON *a = it->child; a != NULL; a = a->next) {
            WPATH(w, "%s.across[%zu]", where, s->across_count);
            AIPA_TRY(load_across(x, w, a, &s->across[s->across_count++]));
        }
    }
    return AIPA_OK;
}

/* A case's "doc": the clause it checks, quoted, and where it comes from. */
static aipa_err load_doc(struct lctx *x, const cJSON *doc)
{
    static const char *const dkeys[] = {"clause", "source", "edition_note"};
    struct aipa_case *c = x->c;
    const cJSON *it;

    if (!cJSON_IsObject(doc)) {
        return fail(x, "doc", "is required: {\"clause\": ..., \"source\": ...}");
    }
    AIPA_TRY(check_keys(x, "doc", doc, dkeys, 3));
    it = cJSON_GetObjectItemCaseSensitive(doc, "clause");
    if (it == NULL) {
        return fail(x, "doc", "clause is required (quote the requirement)");
    }
    AIPA_TRY(dup_str(x, "doc.clause", it, true, &c->clause));
    it = cJSON_GetObjectItemCaseSensitive(doc, "source");
    if (it == NULL) {
        return fail(x, "doc", "source is required (spec/<file>#<anchor> or a URL)");
    }
    AIPA_TRY(dup_str(x, "doc.source", it, true, &c->source));
    if ((it = cJSON_GetObjectItemCaseSensitive(doc, "edition_note")) != NULL &&
        !cJSON_IsString(it)) {
        return fail(x, "doc.edition_note", "must be a string");
    }
    return AIPA_OK;
}

/* A case's "tags": names a run selects cases by. */
static aipa_err load_tags(struct lctx *x, const cJSON *it)
{
    struct aipa_case *c = x->c;
    const cJSON *t;
    size_t n = cJSON_IsArray(it) ? (size_t)cJSON_GetArraySize(it) : SIZE_MAX;

    if (n > AIPA_CASE_MAX_TAGS) {
        return fail(x, "tags", "must be a list of at most %u tags", AIPA_CASE_MAX_TAGS);
    }
    c->tags = aipa_calloc(n, sizeof(*c->tags));
    if (c->tags == NULL) {
        return AIPA_ENOMEM;
    }
    cJSON_ArrayForEach(t, it)
    {
        if (!cJSON_IsString(t) || !is_tag(t->valuestring)) {
            return fail(x, "tags", "tags are [a-z0-9][a-z0-9_-]* (at most 64 bytes)");
        }
        c->tags[c->tag_count] = aipa_strdup(t->valuestring);
        if (c->tags[c->tag_count++] == NULL) {
            return AIPA_ENOMEM;
        }
    }
    return AIPA_OK;
}

static aipa_err load_case(struct lctx *x, const cJSON *root)
{
    static const char *const keys[] = {"format", "id",       "title",    "doc",
                                       "level",  "tags",     "editions", "fixtures",
                                       "pool",   "variants", "disabled", "steps"};
    struct aipa_case *c = x->c;
    const cJSON *it;

    if (!cJSON_IsObject(root)) {
        return fail(x, "", "a case file holds one JSON object");
    }
    AIPA_TRY(check_keys(x, "", root, keys, AIPA_ARRAY_LEN(keys)));
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "format")) != NULL &&
        !(cJSON_IsNumber(it) && it->valuedouble == 1)) {
        return fail(x, "format", "only format version 1 exists");
    }
    it = cJSON_GetObjectItemCaseSensitive(root, "id");
    if (it == NULL) {
        return fail(x, "", "id is required");
    }
    AIPA_TRY(dup_str(x, "id", it, true, &c->id));
    if (!is_case_id(c->id)) {
        return fail(x, "id",
                    "\"%.60s\" is not [a-z0-9][a-z0-9._/-]* (at most %u bytes, no // "
                    "or ..)",
                    c->id, AIPA_CASE_MAX_ID);
    }
    it = cJSON_GetObjectItemCaseSensitive(root, "title");
    if (it == NULL) {
        return fail(x, "", "title is required");
    }
    AIPA_TRY(dup_str(x, "title", it, true, &c->title));
    AIPA_TRY(load_doc(x, cJSON_GetObjectItemCaseSensitive(root, "doc")));
    it = cJSON_GetObjectItemCaseSensitive(root, "level");
    if (cJSON_IsString(it) && strcmp(it->valuestring, "MUST") == 0) {
        c->level = AIPA_LEVEL_MUST;
    } else if (cJSON_IsString(it) && strcmp(it->valuestring, "SHOULD") == 0) {
        c->level = AIPA_LEVEL_SHOULD;
    } else {
        return fail(x, "level", "is required: \"MUST\" or \"SHOULD\"");
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "tags")) != NULL) {
        AIPA_TRY(load_tags(x, it));
    }
    c->editions = AIPA_ED_ALL;
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "editions")) != NULL) {
        AIPA_TRY(load_editions(x, "editions", it, &c->editions));
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "fixtures")) != NULL) {
        AIPA_TRY(load_fixtures(x, it));
    }
    c->pool_free = -1;
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "pool")) != NULL) {
        static const char *const pkeys[] = {"Free"};
        const cJSON *f;

        if (!cJSON_IsObject(it)) {
            return fail(x, "pool", "must be {\"Free\": N}");
        }
        AIPA_TRY(check_keys(x, "pool", it, pkeys, 1));
        f = cJSON_GetObjectItemCaseSensitive(it, "Free");
        if (!cJSON_IsNumber(f) || f->valuedouble < 0 || f->valuedouble > 1e9 ||
            f->valuedouble != (double)(long)f->valuedouble) {
            return fail(x, "pool.Free", "must be an integer >= 0");
        }
        c->pool_free = (long)f->valuedouble;
    }
    c->variants = (struct aipa_variant_set){AIPA_VSIG_ALL, AIPA_VSHAPE_ALL, AIPA_VFMT_ALL};
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "variants")) != NULL) {
        AIPA_TRY(load_variants(x, it));
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "disabled")) != NULL) {
        AIPA_TRY(dup_str(x, "disabled", it, true, &c->disabled));
    }
    it = cJSON_GetObjectItemCaseSensitive(root, "steps");
    if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) == 0 ||
        (size_t)cJSON_GetArraySize(it) > AIPA_CASE_MAX_STEPS) {
        return fail(x, "steps", "is required: a list of 1..%u steps", AIPA_CASE_MAX_STEPS);
    }
    c->steps = aipa_calloc((size_t)cJSON_GetArraySize(it), sizeof(*c->steps));
    if (c->steps == NULL) {
        return AIPA_ENOMEM;
    }
    c->all_raw = true;
    for (const cJSON *s = it->child; s != NULL; s = s->next) {
        x->step = c->step_count;
        c->step_count++;
        AIPA_TRY(load_step(x, s, &c->steps[x->step]));
        c->all_raw =
            c->all_raw && (c->steps[x->step].raw != NULL || c->steps[x->step].wire != NULL);
    }
    return AIPA_OK;
}

aipa_err aipa_case_parse(const char *json, size_t len, const char *origin, struct aipa_case **out,
                         struct aipa_buf *err)
{
    struct lctx x = {origin != NULL ? origin : "<input>", err, NULL, 0, false};
    aipa_err e = AIPA_ENOMEM;
    cJSON *root = NULL;
    const char *end = NULL;

    *out = NULL;
    if (len > AIPA_CASE_MAX_BYTES) {
        e = AIPA_ETOOBIG;
        (void)fail(&x, "", "larger than %u bytes", AIPA_CASE_MAX_BYTES);
        goto out;
    }
    x.c = aipa_calloc(1, sizeof(*x.c));
    if (x.c == NULL) {
        goto out;
    }
    x.c->origin = aipa_strdup(x.origin);
    if (x.c->origin == NULL) {
        goto out;
    }
    root = cJSON_ParseWithLengthOpts(json, len, &end, false);
    if (root == NULL) {
        size_t off = end != NULL && end >= json ? (size_t)(end - json) : 0;
        size_t line = 1;

        for (size_t i = 0; i < off && i < len; i++) {
            line += json[i] == '\n';
        }
        e = fail(&x, "", "not valid JSON (near line %zu, byte %zu)", line, off);
        goto out;
    }
    for (; end != NULL && end < json + len; end++) {
        if (*end != ' ' && *end != '\n' && *end != '\r' && *end != '\t' && *end != '\0') {
            e = fail(&x, "", "trailing bytes after the JSON object");
            goto out;
        }
    }
    e = load_case(&x, root);
    if (e == AIPA_ENOMEM) {
        (void)fail(&x, "", "out of memory");
    }
out:
    cJSON_Delete(root);
    if (e != AIPA_OK) {
        aipa_case_free(x.c);
        x.c = NULL;
    }
    *out = x.c;
    return e;
}

aipa_err aipa_case_load_file(const char *path, struct aipa_case **out, struct aipa_buf *err)
{
    char *data;
    size_t n;
    aipa_err e;

    *out = NULL;
    /* A longer file is cut just past the limit, which aipa_case_parse reports. */
    AIPA_TRY(aipa_read_file(path, AIPA_CASE_MAX_BYTES, &data, &n, err));
    e = aipa_case_parse(data, n, path, out, err);
    aipa_free(data);
    return e;
}

static void free_kvs(struct aipa_case_kv *kv, size_t n)
{
    for (size_t i = 0; kv != NULL && i < n; i++) {
        aipa_free(kv[i].name);
        aipa_free(kv[i].value);
    }
    aipa_free(kv);
}

void aipa_case_free(struct aipa_case *c)
{
    if (c == NULL) {
        return;
    }
    aipa_free(c->id);
    aipa_free(c->title);
    aipa_free(c->clause);
    aipa_free(c->source);
    aipa_free(c->origin);
    aipa_free(c->disabled);
    for (size_t i = 0; i < c->tag_count; i++) {
        aipa_free(c->tags[i]);
    }
    aipa_free(c->tags);
    for (size_t i = 0; i < c->fixture_count; i++) {
        aipa_free(c->fixtures[i].name);
        cJSON_Delete(c->fixtures[i].state);
    }
    aipa_free(c->fixtures);
    for (size_t i = 0; i < c->step_count; i++) {
        struct aipa_step *s = &c->steps[i];

        aipa_free(s->name);
        free_kvs(s->params, s->param_count);
        if (s->wire != NULL) {
            aipa_free(s->wire->send);
            aipa_free(s->wire);
        }
        if (s->raw != NULL) {
            aipa_free(s->raw->method);
            aipa_free(s->raw->target);
            aipa_free(s->raw->body);
            free_kvs(s->raw->headers, s->raw->header_count);
            aipa_free(s->raw);
        }
        aipa_free(s->principal);
        for (size_t k = 0; k < s->tamper.omit_count; k++) {
            aipa_free(s->tamper.omit[k]);
        }
        aipa_free(s->tamper.omit);
        aipa_free(s->tamper.token);
        free_kvs(s->tamper.set, s->tamper.set_count);
        for (size_t k = 0; k < s->outcome_count; k++) {
            struct aipa_outcome *o = &s->outcomes[k];

            aipa_free(o->code);
            aipa_free(o->message);
            aipa_free(o->message_prefix);
            for (size_t j = 0; j < o->check_count; j++) {
                aipa_free(o->checks[j].path);
                aipa_free(o->checks[j].ref);
                cJSON_Delete(o->checks[j].operand);
            }
            aipa_free(o->checks);
        }
        aipa_free(s->outcomes);
        for (size_t k = 0; k < s->across_count; k++) {
            aipa_free(s->across[k].field);
            aipa_free(s->across[k].code);
        }
        aipa_free(s->across);
    }
    aipa_free(c->steps);
    aipa_free(c);
}

const char *aipa_check_kind_name(enum aipa_check_kind k)
{
    switch (k) {
    case AIPA_CHK_EQUALS:
        return "equals";
    case AIPA_CHK_NOT_EQUALS:
        return "not_equals";
    case AIPA_CHK_PREFIX:
        return "prefix";
    case AIPA_CHK_ONE_OF:
        return "one_of";
    case AIPA_CHK_IS_IPV4:
        return "is ipv4";
    case AIPA_CHK_IS_UUID:
        return "is uuid";
    case AIPA_CHK_IS_INTEGER:
        return "is integer";
    case AIPA_CHK_IS_NONEMPTY:
        return "is nonempty";
    case AIPA_CHK_PRESENT:
        return "present";
    case AIPA_CHK_ABSENT:
        return "absent";
    case AIPA_CHK_LENGTH:
        return "length";
    case AIPA_CHK_LIST_EQUALS:
        return "list equals";
    case AIPA_CHK_SAME_AS:
        return "same_as";
    case AIPA_CHK_NOT_SAME_AS:
        return "not_same_as";
    }
    return "?";
}

bool aipa_case_matches(const struct aipa_case *c, const char *pat)
{
    if (strncmp(pat, "tag:", 4) == 0) {
        for (size_t i = 0; i < c->tag_count; i++) {
            if (strcmp(c->tags[i], pat + 4) == 0) {
                return true;
            }
        }
        return false;
    }
    return fnmatch(pat, c->id, 0) == 0;
}

/* ---- suites ---- */

void aipa_suite_init(struct aipa_suite *s)
{
    memset(s, 0, sizeof(*s));
}

void aipa_suite_cleanup(struct aipa_suite *s)
{
    for (size_t i = 0; i < s->count; i++) {
        aipa_case_free(s->cases[i]);
    }
    aipa_free(s->cases);
    memset(s, 0, sizeof(*s));
}

aipa_err aipa_suite_add(struct aipa_suite *s, struct aipa_case *c)
{
    if (s->count == s->cap) {
        size_t cap = s->cap == 0 ? 64 : s->cap * 2;
        struct aipa_case **p;

        if (s->count >= AIPA_SUITE_MAX_CASES) {
            aipa_case_free(c);
            return AIPA_ETOOBIG;
        }
        p = aipa_realloc(s->cases, cap * sizeof(*p));
        if (p == NULL) {
            aipa_case_free(c);
            return AIPA_ENOMEM;
        }
        s->cases = p;
        s->cap = cap;
    }
    s->cases[s->count++] = c;
    return AIPA_OK;
}

static int cmp_case(const void *a, const void *b)
{
    const struct aipa_case *const *x = a, *const *y = b;

    return strcmp((*x)->id, (*y)->id);
}

void aipa_suite_sort(struct aipa_suite *s)
{
    if (s->count > 1) {
        qsort(s->cases, s->count, sizeof(*s->cases), cmp_case);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads one file; rel is its path under the suite root ("" for a lone file). */
static aipa_err suite_file(struct aipa_suite *s, const char *path, const char *rel,
                           struct aipa_buf *err, bool *bad)
{
    struct aipa_buf e1;
    struct aipa_case *c = NULL;
    aipa_err e;

    aipa_buf_init(&e1, 4096);
    e = aipa_case_load_file(path, &c, &e1);
    if (e == AIPA_OK && rel[0] != '\0') {
        size_t n = strlen(rel) - 5; /* without ".json" */

        if (strlen(c->id) != n || strncmp(c->id, rel, n) != 0) {
            aipa__note(&e1, "%s: id: \"%s\" does not match the file's path \"%.*s\"", path, c->id,
                       (int)n, rel);
            aipa_case_free(c);
            c = NULL;
            e = AIPA_EPARSE;
        }
    }
    if (e == AIPA_OK) {
        for (size_t i = 0; i < s->count; i++) {
            if (strcmp(s->cases[i]->id, c->id) == 0) {
                aipa__note(&e1, "%s: id: \"%s\" is also used by %s", path, c->id,
                           s->cases[i]->origin);
                aipa_case_free(c);
                c = NULL;
                e = AIPA_EPARSE;
                break;
            }
        }
    }
    if (e == AIPA_OK) {
        e = aipa_suite_add(s, c);
    }
    if (e != AIPA_OK) {
        *bad = true;
        if (err != NULL && e1.len > 0) {
            aipa__note(err, "%s\n", e1.ptr);
        }
        e = e == AIPA_ENOMEM ? AIPA_ENOMEM : AIPA_OK;
    }
    aipa_buf_cleanup(&e1);
    return e;
}

static aipa_err suite_dir(struct aipa_suite *s, const char *dir, const char *rel, int depth,
                          struct aipa_buf *err, bool *bad)
{
    aipa_err e = AIPA_OK;
    DIR *d;
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;

    if (depth > 16) {
        aipa__note(err, "%s: directories nested too deep\n", dir);
        *bad = true;
        return AIPA_OK;
    }
    d = opendir(dir);
    if (d == NULL) {
        aipa__note(err, "%s: cannot open directory: %s\n", dir, strerror(errno));
        *bad = true;
        return AIPA_OK;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }
        if (n == cap) {
            char **p;

            cap = cap == 0 ? 64 : cap * 2;
            p = aipa_realloc(names, cap * sizeof(*names));
            if (p == NULL) {
                e = AIPA_ENOMEM;
                goto out;
            }
            names = p;
        }
        names[n] = aipa_strdup(de->d_name);
        if (names[n] == NULL) {
            e = AIPA_ENOMEM;
            goto out;
        }
        n++;
    }
    if (n > 1) {
        qsort(names, n, sizeof(*names), cmp_str);
    }
    for (size_t i = 0; i < n && e == AIPA_OK; i++) {
        struct aipa_buf path, sub;
        struct stat st;
        size_t len = strlen(names[i]);

        aipa_buf_init(&path, 4096);
        aipa_buf_init(&sub, 4096);
        if (aipa_buf_printf(&path, "%s/%s", dir, names[i]) != AIPA_OK ||
            aipa_buf_printf(&sub, "%s%s%s", rel, rel[0] != '\0' ? "/" : "", names[i]) != AIPA_OK) {
            aipa__note(err, "%s/%s: path too long\n", dir, names[i]);
            *bad = true;
        } else if (stat(path.ptr, &st) != 0) {
            aipa__note(err, "%s: %s\n", path.ptr, strerror(errno));
            *bad = true;
        } else if (S_ISDIR(st.st_mode)) {
            e = suite_dir(s, path.ptr, sub.ptr, depth + 1, err, bad);
        } else if (S_ISREG(st.st_mode) && len > 5 && strcmp(names[i] + len - 5, ".json") == 0) {
            e = suite_file(s, path.ptr, sub.ptr, err, bad);
        }
        aipa_buf_cleanup(&path);
        aipa_buf_cleanup(&sub);
    }
out:
    for (size_t i = 0; i < n; i++) {
        aipa_free(names[i]);
    }
    aipa_free(names);
    closedir(d);
    return e;
}

aipa_err aipa_suite_load(struct aipa_suite *s, const char *path, struct aipa_buf *err)
{
    struct stat st;
    bool bad = false;
    aipa_err e;
    struct aipa_buf scratch;

    aipa_buf_init(&scratch, 64 * 1024);
    if (err == NULL) {
        err = &scratch;
    }

    if (stat(path, &st) != 0) {
        aipa__note(err, "%s: %s\n", path, strerror(errno));
        aipa_buf_cleanup(&scratch);
        return AIPA_EIO;
    }
    if (S_ISDIR(st.st_mode)) {
        e = suite_dir(s, path, "", 0, err, &bad);
    } else {
        e = suite_file(s, path, "", err, &bad);
    }
    aipa_suite_sort(s);
    aipa_buf_cleanup(&scratch);
    if (e != AIPA_OK) {
        return e;
    }
    return bad ? AIPA_EPARSE : AIPA_OK;
}
