/*
 * livefuzz_report.c: what `aipa fuzz` writes: one case file per finding
 * (conformance/FORMAT.md, replayed by `aipa conform --cases DIR`), the
 * findings as JSON, and SARIF 2.1.0 with one result per bucket.
 *
 * Secrets never appear: no AccessKeySecret, and Signature values and
 * Authorization headers are redacted from every transcript.
 */
#include "aipa/conform.h"
#include "aipa/livefuzz.h"
#include "livefuzz_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

aipa_err aipa__lf_mkdirs(const char *path)
{
    char buf[1024];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(buf)) {
        return AIPA_EINVAL;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
                return AIPA_EIO;
            }
            buf[i] = c;
        }
    }
    return AIPA_OK;
}

static size_t utf8_seq_len(const uint8_t *s, size_t left);

/*
 * s as valid UTF-8: every byte that does not start a valid sequence becomes
 * the text \xHH, so nothing is lost and JSON readers accept the report.
 * NULL when s already is valid (nothing to do) or memory ran out.
 */
static char *utf8_fixed(const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s);
    struct aipa_buf b;
    size_t i = 0;
    char *out = NULL;

    if (aipa_utf8_valid(p, n)) {
        return NULL;
    }
    aipa_buf_init(&b, 4 * n + 1);
    while (i < n) {
        size_t k = utf8_seq_len(p + i, n - i);

        if (k == 0) {
            if (aipa_buf_printf(&b, "\\x%02X", p[i]) != AIPA_OK) {
                break;
            }
            i++;
        } else if (aipa_buf_append(&b, p + i, k) != AIPA_OK) {
            break;
        } else {
            i += k;
        }
    }
    if (i == n) {
        out = cJSON_malloc(b.len + 1);
        if (out != NULL) {
            memcpy(out, b.ptr != NULL ? b.ptr : "", b.len);
            out[b.len] = '\0';
        }
    }
    aipa_buf_cleanup(&b);
    return out;
}

/* Every string and member name in the tree made valid UTF-8 (see utf8_fixed). */
static void utf8_sanitize(cJSON *item)
{
    for (; item != NULL; item = item->next) {
        if (item->string != NULL && (item->type & cJSON_StringIsConst) == 0) {
            char *fixed = utf8_fixed(item->string);
            if (fixed != NULL) {
                cJSON_free(item->string);
                item->string = fixed;
            }
        }
        if (cJSON_IsString(item) && item->valuestring != NULL &&
            (item->type & cJSON_IsReference) == 0) {
            char *fixed = utf8_fixed(item->valuestring);
            if (fixed != NULL) {
                cJSON_free(item->valuestring);
                item->valuestring = fixed;
            }
        }
        utf8_sanitize(item->child);
    }
}

static aipa_err write_doc(cJSON *doc, const char *path)
{
    char *text;
    FILE *f;
    aipa_err err = AIPA_EIO;

    utf8_sanitize(doc);
    text = cJSON_Print(doc);
    if (text == NULL) {
        return AIPA_ENOMEM;
    }
    f = fopen(path, "w");
    if (f != NULL) {
        size_t n = strlen(text);
        if (fwrite(text, 1, n, f) == n && fputc('\n', f) != EOF) {
            err = AIPA_OK;
        }
        if (fclose(f) != 0) {
            err = AIPA_EIO;
        }
    }
    cJSON_free(text);
    return err;
}

static const char *edition_name(unsigned ed)
{
    return aipa_edition_name(ed == AIPA_ED_2018 ? AIPA_ED_2018 : AIPA_ED_2024);
}

/* ---- values as case-file strings ---- */

static size_t utf8_seq_len(const uint8_t *s, size_t left)
{
    size_t n = s[0] < 0x80             ? 1
               : (s[0] & 0xe0) == 0xc0 ? 2
               : (s[0] & 0xf0) == 0xe0 ? 3
               : (s[0] & 0xf8) == 0xf0 ? 4
                                       : 0;
    if (n == 0 || n > left || !aipa_utf8_valid(s, n)) {
        return 0;
    }
    return n;
}

static bool fixture_ref_at(const char *v, size_t left, size_t *len)
{
    size_t k = 4;
    if (left < 6 || memcmp(v, "${vm", 4) != 0) {
        return false;
    }
    while (k < left && v[k] >= '0' && v[k] <= '9') {
        k++;
    }
    if (k == 4 || k >= left || v[k] != '}') {
        return false;
    }
    *len = k + 1;
    return true;
}

/*
 * Writes v as a FORMAT.md request value: ${vmN} stays, other "${" becomes
 * "$${", '%' and bytes JSON cannot carry (NUL, invalid UTF-8) become
 * %hex[...]hex%, long runs of one byte become %repeat[N x c]%.
 */
static aipa_err case_value(const char *v, size_t n, struct aipa_buf *out)
{
    size_t i = 0;

    aipa_buf_reset(out);
    AIPA_TRY(aipa_buf_reserve(out, n + 1));
    AIPA_TRY(aipa_buf_append(out, "", 0)); /* terminated even when v is empty */
    while (i < n) {
        size_t k;
        uint8_t c = (uint8_t)v[i];
        size_t run = 1;
        while (i + run < n && v[i + run] == v[i]) {
            run++;
        }
        if (run >= 32 &&
            ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
            AIPA_TRY(aipa_buf_printf(out, "%%repeat[%zu x %c]%%", run, (char)c));
            i += run;
            continue;
        }
        if (fixture_ref_at(v + i, n - i, &k)) {
            AIPA_TRY(aipa_buf_append(out, v + i, k));
            i += k;
            continue;
        }
        if (c == '$' && i + 1 < n && v[i + 1] == '{') {
            AIPA_TRY(aipa_buf_puts(out, "$${"));
            i += 2;
            continue;
        }
        k = c == 0 || c == '%' ? 0 : utf8_seq_len((const uint8_t *)v + i, n - i);
        if (k == 0) {
            AIPA_TRY(aipa_buf_printf(out, "%%hex[%%%02X]hex%%", c));
            i++;
            continue;
        }
        AIPA_TRY(aipa_buf_append(out, v + i, k));
        i += k;
    }
    return AIPA_OK;
}

static bool name_ok(const struct aipa_lf_param *p)
{
    return p->name_len > 0 && memchr(p->name, '\0', p->name_len) == NULL &&
           aipa_utf8_valid((const uint8_t *)p->name, p->name_len) &&
           strstr(p->name, "${") == NULL && strchr(p->name, '%') == NULL;
}

/* Whether r can be a `request` step (signed by the runner), else it needs `raw`. */
static bool expressible(const struct aipa_lf_req *r)
{
    bool all_body = r->count > 0, any_body = false;

    if (r->auth == AIPA_SIG_NONE || (r->mut & AIPA_LF_M_BAD_CONTENT_SHA) ||
        r->content_type[0] != '\0' || r->count > AIPA_CASE_MAX_PARAMS ||
        (strcmp(r->method, "GET") != 0 && strcmp(r->method, "POST") != 0)) {
        return false;
    }
    if (r->accept[0] != '\0' &&
        (r->auth != AIPA_SIG_V3 || (strcmp(r->accept, "application/json") != 0 &&
                                        strcmp(r->accept, "application/xml") != 0))) {
        return false;
    }
    if (aipa_lf_req_get(r, "Action") == NULL) {
        return false;
    }
    for (size_t i = 0; i < r->count; i++) {
        const struct aipa_lf_param *p = &r->params[i];
        if ((p->flags & AIPA_LF_P_RAW) || !name_ok(p)) {
            return false;
        }
        any_body = any_body || (p->flags & AIPA_LF_P_BODY);
        all_body = all_body && (p->flags & AIPA_LF_P_BODY);
        for (size_t j = 0; j < i; j++) {
            if (r->params[j].name_len == p->name_len &&
                memcmp(r->params[j].name, p->name, p->name_len) == 0) {
                return false; /* a request object cannot hold a name twice */
            }
        }
    }
    if (any_body && (!all_body || r->auth != AIPA_SIG_V1 || strcmp(r->method, "POST") != 0)) {
        return false;
    }
    return true;
}

static cJSON *outcome_json(const struct lf_outcome *o, const struct lf_finding *f, bool last)
{
    cJSON *e = cJSON_CreateObject();

    if (e == NULL) {
        return NULL;
    }
    cJSON_AddNumberToObject(e, "status", (double)o->status);
    if (o->code[0] != '\0') {
        cJSON_AddStringToObject(e, "Code", o->code);
    } else if (o->status >= 200 && o->status < 300) {
        cJSON_AddNullToObject(e, "Code");
    }
    if (last && f->oracle == AIPA_LF_O_REQUEST_ID) {
        cJSON_AddStringToObject(e, "RequestId", "uuid");
    }
    if (last && f->oracle == AIPA_LF_O_LEAK && o->message[0] != '\0') {
        /* fields are hard checks: a leaked trace in Message fails the step */
        cJSON *fields = cJSON_AddObjectToObject(e, "fields");
        cJSON *chk = cJSON_CreateObject();
        if (fields != NULL && chk != NULL) {
            cJSON_AddStringToObject(chk, "equals", o->message);
            cJSON_AddItemToObject(fields, "Message", chk);
        } else {
            cJSON_Delete(chk);
        }
    }
    if (last && f->oracle == AIPA_LF_O_SCHEMA) {
        cJSON *fields = cJSON_AddObjectToObject(e, "fields");
        cJSON *chk = cJSON_CreateObject();
        if (fields != NULL && chk != NULL) {
            cJSON_AddStringToObject(chk, "is", "ipv4");
            cJSON_AddItemToObject(fields, "IpAddress", chk);
        } else {
            cJSON_Delete(chk);
        }
    }
    return e;
}

static aipa_err request_step(const struct aipa_lf_req *r, size_t idx, const struct lf_outcome *o,
                             cJSON *step)
{
    cJSON *req = cJSON_AddObjectToObject(step, "request");
    cJSON *pin = cJSON_AddObjectToObject(step, "pin");
    cJSON *tamper = cJSON_CreateObject();
    cJSON *omit = cJSON_CreateArray();
    struct aipa_buf v;
    aipa_err err = AIPA_OK;
    bool body = r->count > 0 && (r->params[0].flags & AIPA_LF_P_BODY);

    aipa_buf_init(&v, 4u * AIPA_LF_MAX_VALUE);
    if (req == NULL || pin == NULL || tamper == NULL || omit == NULL) {
        err = AIPA_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < r->count && err == AIPA_OK; i++) {
        const struct aipa_lf_param *p = &r->params[i];
        err = case_value(p->value, p->value_len, &v);
        if (err == AIPA_OK &&
            cJSON_AddStringToObject(req, p->name, v.ptr != NULL ? v.ptr : "") == NULL) {
            err = AIPA_ENOMEM;
        }
    }
    cJSON_AddStringToObject(pin, "signature", r->auth == AIPA_SIG_V3 ? "v3" : "v1");
    cJSON_AddStringToObject(pin, "shape",
                            body                             ? "post-form"
                            : strcmp(r->method, "POST") == 0 ? "post-query"
                                                             : "get");
    if (o->fmt == AIPA_LF_FMT_JSON || o->fmt == AIPA_LF_FMT_XML) {
        cJSON_AddStringToObject(pin, "format", o->fmt == AIPA_LF_FMT_JSON ? "json" : "xml");
    }
    if (r->mut & AIPA_LF_M_BAD_SIGNATURE) {
        cJSON_AddStringToObject(tamper, "secret", "wrong");
    }
    if (r->mut & AIPA_LF_M_UNKNOWN_KEY) {
        cJSON_AddStringToObject(tamper, "key", "unknown");
    }
    if (r->mut & AIPA_LF_M_STALE_TIMESTAMP) {
        cJSON_AddStringToObject(tamper, "timestamp", "stale");
    } else if (r->mut & AIPA_LF_M_FUTURE_TIMESTAMP) {
        cJSON_AddStringToObject(tamper, "timestamp", "future");
    } else if (r->mut & AIPA_LF_M_BAD_TIMESTAMP) {
        cJSON_AddStringToObject(tamper, "timestamp", "malformed");
    }
    if ((r->mut & AIPA_LF_M_REUSE_NONCE) && idx > 0) {
        cJSON_AddStringToObject(tamper, "nonce", "reuse");
    }
    if (r->mut & AIPA_LF_M_NO_SIGNATURE) {
        if (r->auth == AIPA_SIG_V3) {
            cJSON_AddTrueToObject(tamper, "unsigned");
        } else {
            cJSON_AddItemToArray(omit, cJSON_CreateString("Signature"));
        }
    }
    if (r->mut & AIPA_LF_M_NO_TIMESTAMP) {
        cJSON_AddItemToArray(omit, cJSON_CreateString("Timestamp"));
    }
    if (r->mut & AIPA_LF_M_NO_NONCE) {
        cJSON_AddItemToArray(omit, cJSON_CreateString("SignatureNonce"));
    }
    if (r->mut & AIPA_LF_M_NO_KEY) {
        cJSON_AddItemToArray(omit, cJSON_CreateString("AccessKeyId"));
    }
    if (aipa_lf_req_get(r, "Version") == NULL) {
        cJSON_AddItemToArray(omit, cJSON_CreateString("Version"));
    }
    if (aipa_lf_req_get(r, "Format") == NULL && r->auth == AIPA_SIG_V1) {
        cJSON_AddItemToArray(omit, cJSON_CreateString("Format"));
    }
    if ((r->mut & AIPA_LF_M_BAD_SIG_METHOD) && r->auth == AIPA_SIG_V1) {
        cJSON *set = cJSON_AddObjectToObject(tamper, "set");
        if (set != NULL) {
            cJSON_AddStringToObject(set, "SignatureMethod", "HMAC-MD5");
        }
    }
    if (cJSON_GetArraySize(omit) > 0) {
        cJSON_AddItemToObject(tamper, "omit", omit);
        omit = NULL;
    }
    if (cJSON_GetArraySize(tamper) > 0) {
        cJSON_AddItemToObject(step, "tamper", tamper);
        tamper = NULL;
    }
out:
    cJSON_Delete(tamper);
    cJSON_Delete(omit);
    aipa_buf_cleanup(&v);
    return err;
}

/* Replaces every placeholder AIPAFXREF<N>X by ${vmN}, and a stray "${" by "$${". */
static aipa_err unplace(const char *s, size_t n, struct aipa_buf *out)
{
    size_t i = 0;

    aipa_buf_reset(out);
    AIPA_TRY(aipa_buf_reserve(out, n + 1));
    while (i < n) {
        if (n - i > 10 && memcmp(s + i, "AIPAFXREF", 9) == 0) {
            size_t k = i + 9;
            while (k < n && s[k] >= '0' && s[k] <= '9') {
                k++;
            }
            if (k < n && s[k] == 'X' && k > i + 9) {
                AIPA_TRY(aipa_buf_printf(out, "${vm%.*s}", (int)(k - i - 9), s + i + 9));
                i = k + 1;
                continue;
            }
        }
        if (s[i] == '$' && i + 1 < n && s[i + 1] == '{') {
            AIPA_TRY(aipa_buf_puts(out, "$${"));
            i += 2;
            continue;
        }
        if (s[i] == '%' && (n - i >= 5 && (memcmp(s + i, "%hex[", 5) == 0 ||
                                           (n - i >= 8 && memcmp(s + i, "%repeat[", 8) == 0)))) {
            AIPA_TRY(aipa_buf_puts(out, "%hex[%25]hex%"));
            i++;
            continue;
        }
        AIPA_TRY(aipa_buf_putc(out, s[i]));
        i++;
    }
    return AIPA_OK;
}

static aipa_err raw_step(const struct aipa_lf_req *r, size_t idx, const struct aipa_lf_config *cfg,
                         cJSON *step)
{
    struct aipa_lf_wire w;
    struct aipa_lf_sign_ctx ctx;
    static const char *const ph[] = {
        "AIPAFXREF0X",  "AIPAFXREF1X",  "AIPAFXREF2X",  "AIPAFXREF3X",
        "AIPAFXREF4X",  "AIPAFXREF5X",  "AIPAFXREF6X",  "AIPAFXREF7X",
        "AIPAFXREF8X",  "AIPAFXREF9X",  "AIPAFXREF10X", "AIPAFXREF11X",
        "AIPAFXREF12X", "AIPAFXREF13X", "AIPAFXREF14X", "AIPAFXREF15X"};
    char nonce[32];
    struct aipa_buf t;
    struct aipa_header hs[AIPA_SRV_MAX_HEADERS];
    size_t hn;
    aipa_err err;
    cJSON *raw = cJSON_AddObjectToObject(step, "raw");
    cJSON *headers = NULL;

    if (raw == NULL) {
        return AIPA_ENOMEM;
    }
    snprintf(nonce, sizeof(nonce), "aipa-case-%zu", idx);
    memset(&ctx, 0, sizeof(ctx));
    ctx.access_key_id = cfg->access_key_id;
    ctx.access_key_secret = cfg->access_key_secret;
    ctx.now = (int64_t)time(NULL);
    ctx.nonce = nonce;
    ctx.prev_nonce = idx > 0 ? "aipa-case-prev" : NULL;
    ctx.host = "localhost";
    ctx.ids = ph;
    ctx.id_count = AIPA_ARRAY_LEN(ph);
    aipa_lf_wire_init(&w);
    aipa_buf_init(&t, 4u * AIPA_LF_MAX_WIRE);
    err = aipa_lf_render(r, &ctx, &w);
    if (err == AIPA_OK) {
        cJSON_AddStringToObject(raw, "method", w.method);
        err = unplace(w.target.ptr != NULL ? w.target.ptr : "", w.target.len, &t);
    }
    if (err == AIPA_OK) {
        cJSON_AddStringToObject(raw, "target", t.ptr != NULL ? t.ptr : "");
        hn = aipa_lf_wire_headers(&w, hs, AIPA_ARRAY_LEN(hs));
        for (size_t i = 0; i < hn && err == AIPA_OK; i++) {
            char name[128], value[1024];
            if (aipa_slice_eq_ci(hs[i].name, "Host") || hs[i].name.len >= sizeof(name) ||
                hs[i].value.len >= sizeof(value)) {
                continue;
            }
            if (headers == NULL) {
                headers = cJSON_AddObjectToObject(raw, "headers");
            }
            snprintf(name, sizeof(name), "%.*s", (int)hs[i].name.len, (const char *)hs[i].name.ptr);
            snprintf(value, sizeof(value), "%.*s", (int)hs[i].value.len,
                     (const char *)hs[i].value.ptr);
            if (headers == NULL || cJSON_AddStringToObject(headers, name, value) == NULL) {
                err = AIPA_ENOMEM;
            }
        }
    }
    if (err == AIPA_OK && w.body.len > 0) {
        err = unplace(w.body.ptr, w.body.len, &t);
        if (err == AIPA_OK) {
            cJSON_AddStringToObject(raw, "body", t.ptr != NULL ? t.ptr : "");
        }
    }
    aipa_buf_cleanup(&t);
    aipa_lf_wire_cleanup(&w);
    return err;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    return aipa_fnv1a64(h, p, n);
}

static const char *oracle_source(enum aipa_lf_oracle o)
{
    switch (o) {
    case AIPA_LF_O_SCHEMA:
        return "spec/wire.md#s1.2";
    case AIPA_LF_O_CONTENT_TYPE:
    case AIPA_LF_O_MALFORMED:
    case AIPA_LF_O_REQUEST_ID:
    case AIPA_LF_O_LEAK:
        return "spec/wire.md#s4.1";
    case AIPA_LF_O_TRANSPORT:
    case AIPA_LF_O_TIMEOUT:
    case AIPA_LF_O_TOO_LARGE:
    case AIPA_LF_O_SLOW:
    case AIPA_LF_O_STATE:
    case AIPA_LF_O_UNDOCUMENTED:
    case AIPA_LF_O_SERVER_ERROR:
    case AIPA_LF_O_DIFF_STATUS:
    case AIPA_LF_O_DIFF_CODE:
    case AIPA_LF_O_COUNT_:
        break;
    }
    return "spec/allocate-2024.md#errors";
}

static const char *oracle_clause(enum aipa_lf_oracle o)
{
    switch (o) {
    case AIPA_LF_O_SCHEMA:
        return "A successful AllocatePublicIpAddress response carries RequestId and IpAddress.";
    case AIPA_LF_O_CONTENT_TYPE:
    case AIPA_LF_O_MALFORMED:
        return "Responses are XML or JSON in the requested format, with the documented shape.";
    case AIPA_LF_O_REQUEST_ID:
        return "Every response, success or error, carries a RequestId.";
    case AIPA_LF_O_LEAK:
        return "Error bodies carry RequestId, HostId, Code, Message and Recommend, and nothing "
               "of the server's internals.";
    case AIPA_LF_O_TRANSPORT:
    case AIPA_LF_O_TIMEOUT:
    case AIPA_LF_O_TOO_LARGE:
    case AIPA_LF_O_SLOW:
    case AIPA_LF_O_STATE:
    case AIPA_LF_O_UNDOCUMENTED:
    case AIPA_LF_O_SERVER_ERROR:
    case AIPA_LF_O_DIFF_STATUS:
    case AIPA_LF_O_DIFF_CODE:
    case AIPA_LF_O_COUNT_:
        break;
    }
    return "The HTTP status and Code are the documented ones for this request in this state, as "
           "the reference model answers them.";
}

aipa_err aipa__lf_write_case(struct lf_finding *f, const char *dir, unsigned edition,
                             const char *const *fixtures, size_t fixture_count, bool use_fixtures,
                             const struct aipa_lf_config *cfg)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *steps, *tags, *eds, *docobj, *fx;
    char path[1024], sub[1024], title[300], note[600];
    uint64_t h = AIPA_FNV1A64_BASIS;
    aipa_err err = AIPA_OK;

    if (doc == NULL) {
        return AIPA_ENOMEM;
    }
    h = fnv1a(h, f->key, strlen(f->key));
    for (size_t i = 0; i < f->step_count; i++) {
        const struct aipa_lf_req *r = &f->steps[i];
        h = fnv1a(h, r->method, strlen(r->method));
        h = fnv1a(h, &r->mut, sizeof(r->mut));
        for (size_t k = 0; k < r->count; k++) {
            h = fnv1a(h, r->params[k].name, r->params[k].name_len);
            h = fnv1a(h, "=", 1);
            h = fnv1a(h, r->params[k].value, r->params[k].value_len);
        }
    }
    snprintf(f->case_id, sizeof(f->case_id), "found/%016" PRIx64, h);
    snprintf(title, sizeof(title), "%s: %s answered HTTP %ld%s%s%s", aipa_lf_oracle_name(f->oracle),
             aipa_lf_req_action(&f->steps[f->step_count - 1])[0]
                 ? aipa_lf_req_action(&f->steps[f->step_count - 1])
                 : "a request without Action",
             f->status, f->code[0] ? " " : "", f->code,
             f->ref_status != 0 ? " where the reference model differs" : "");
    cJSON_AddStringToObject(doc, "id", f->case_id);
    cJSON_AddStringToObject(doc, "title", title);
    docobj = cJSON_AddObjectToObject(doc, "doc");
    if (docobj != NULL) {
        cJSON_AddStringToObject(docobj, "clause", oracle_clause(f->oracle));
        cJSON_AddStringToObject(docobj, "source", oracle_source(f->oracle));
    }
    cJSON_AddStringToObject(doc, "level", "MUST");
    tags = cJSON_AddArrayToObject(doc, "tags");
    if (tags != NULL) {
        cJSON_AddItemToArray(tags, cJSON_CreateString("found"));
        cJSON_AddItemToArray(tags, cJSON_CreateString(aipa_lf_oracle_name(f->oracle)));
    }
    eds = cJSON_AddArrayToObject(doc, "editions");
    if (eds != NULL) {
        cJSON_AddItemToArray(eds, cJSON_CreateString(edition_name(edition)));
    }
    snprintf(note, sizeof(note),
             "Found by aipa fuzz (seed %" PRIu64 ", request %" PRIu64 "), minimized from %zu "
             "step(s) and %zu parameter(s): %s",
             cfg->seed, f->first_request, f->orig_steps, f->orig_params, f->detail);
    cJSON_AddStringToObject(doc, "_note", note);
    if (use_fixtures) {
        fx = cJSON_AddObjectToObject(doc, "fixtures");
        for (size_t i = 0; fx != NULL && i < fixture_count; i++) {
            char name[32];
            cJSON *state = cJSON_Parse(fixtures[i]);
            snprintf(name, sizeof(name), "vm%zu", i);
            if (state != NULL) {
                cJSON_AddItemToObject(fx, name, state);
            }
        }
        if (f->pool_free >= 0) {
            cJSON *pool = cJSON_AddObjectToObject(doc, "pool");
            if (pool != NULL) {
                cJSON_AddNumberToObject(pool, "Free", (double)f->pool_free);
            }
        }
    }
    f->case_raw = false;
    steps = cJSON_AddArrayToObject(doc, "steps");
    for (size_t i = 0; steps != NULL && i < f->step_count && err == AIPA_OK; i++) {
        const struct aipa_lf_req *r = &f->steps[i];
        cJSON *step = cJSON_CreateObject();
        cJSON *expect;
        cJSON *o;
        if (step == NULL) {
            err = AIPA_ENOMEM;
            break;
        }
        cJSON_AddItemToArray(steps, step);
        if (expressible(r)) {
            err = request_step(r, i, &f->ref_outcomes[i], step);
        } else {
            f->case_raw = true;
            err = raw_step(r, i, cfg, step);
        }
        expect = cJSON_AddArrayToObject(step, "expect");
        o = outcome_json(&f->ref_outcomes[i], f, i + 1 == f->step_count);
        if (expect == NULL || o == NULL) {
            cJSON_Delete(o);
            err = AIPA_ENOMEM;
            break;
        }
        cJSON_AddItemToArray(expect, o);
    }
    if (err == AIPA_OK) {
        snprintf(sub, sizeof(sub), "%s/found", dir);
        err = aipa__lf_mkdirs(sub);
    }
    if (err == AIPA_OK) {
        snprintf(path, sizeof(path), "%s/%s.json", dir, f->case_id);
        err = write_doc(doc, path);
    }
    if (err == AIPA_OK) {
        snprintf(f->case_path, sizeof(f->case_path), "%s", path);
    }
    cJSON_Delete(doc);
    return err;
}

/* ---- JSON ---- */

/* A transcript with Signature values redacted. */
static char *redact(const char *s)
{
    struct aipa_buf b;
    const char *p = s;

    aipa_buf_init(&b, 64u * 1024u);
    while (p != NULL && *p != '\0') {
        const char *m = strstr(p, "Signature=");
        if (m == NULL || (m > s && m[-1] != '?' && m[-1] != '&')) {
            if (m == NULL) {
                if (aipa_buf_puts(&b, p) != AIPA_OK) {
                    break;
                }
                break;
            }
            if (aipa_buf_append(&b, p, (size_t)(m - p) + 10) != AIPA_OK) {
                break;
            }
            p = m + 10;
            continue;
        }
        if (aipa_buf_append(&b, p, (size_t)(m - p) + 10) != AIPA_OK ||
            aipa_buf_puts(&b, "REDACTED") != AIPA_OK) {
            break;
        }
        p = m + 10;
        while (*p != '\0' && *p != '&') {
            p++;
        }
    }
    size_t n = 0;
    char *out = aipa_buf_steal(&b, &n);
    aipa_buf_cleanup(&b);
    return out != NULL ? out : aipa_strdup("");
}

static cJSON *finding_json(const struct lf_finding *f)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *req;
    char *t;

    if (o == NULL) {
        return NULL;
    }
    cJSON_AddStringToObject(o, "bucket", f->key);
    cJSON_AddStringToObject(o, "oracle", aipa_lf_oracle_name(f->oracle));
    cJSON_AddNumberToObject(o, "status", (double)f->status);
    cJSON_AddStringToObject(o, "Code", f->code);
    if (f->ref_status != 0) {
        cJSON_AddNumberToObject(o, "reference_status", (double)f->ref_status);
        cJSON_AddStringToObject(o, "reference_Code", f->ref_code);
    }
    cJSON_AddStringToObject(o, "detail", f->detail);
    cJSON_AddNumberToObject(o, "hits", (double)f->count);
    cJSON_AddNumberToObject(o, "first_request", (double)f->first_request);
    cJSON_AddBoolToObject(o, "reproduced", f->reproduced);
    cJSON_AddBoolToObject(o, "minimized", f->minimized);
    cJSON_AddNumberToObject(o, "replays", (double)f->replays);
    cJSON_AddNumberToObject(o, "steps", (double)f->step_count);
    cJSON_AddNumberToObject(o, "original_steps", (double)f->orig_steps);
    cJSON_AddNumberToObject(o, "parameters",
                            (double)(f->step_count > 0 ? f->steps[f->step_count - 1].count : 0));
    cJSON_AddNumberToObject(o, "original_parameters", (double)f->orig_params);
    if (f->case_path[0] != '\0') {
        cJSON_AddStringToObject(o, "case_id", f->case_id);
        cJSON_AddStringToObject(o, "case_file", f->case_path);
        cJSON_AddBoolToObject(o, "case_raw", f->case_raw);
    }
    if (f->no_case[0] != '\0') {
        cJSON_AddStringToObject(o, "no_case", f->no_case);
    }
    if (f->repro != NULL) {
        cJSON_AddStringToObject(o, "repro", f->repro);
    }
    req = cJSON_AddObjectToObject(o, "request");
    if (req != NULL) {
        cJSON_AddStringToObject(req, "method", f->method);
        t = redact(f->wire_target != NULL ? f->wire_target : "");
        cJSON_AddStringToObject(req, "target", t);
        aipa_free(t);
        t = redact(f->wire_body != NULL ? f->wire_body : "");
        cJSON_AddStringToObject(req, "body", t);
        aipa_free(t);
        if (f->step_count > 0) {
            cJSON *m = cJSON_AddArrayToObject(req, "mutations");
            unsigned mut = f->steps[f->step_count - 1].mut;
            for (unsigned bit = 1; m != NULL && bit != 0 && bit <= 0x8000u; bit <<= 1) {
                if ((mut & bit) && aipa_lf_mutation_name(bit) != NULL) {
                    cJSON_AddItemToArray(m, cJSON_CreateString(aipa_lf_mutation_name(bit)));
                }
            }
        }
    }
    cJSON_AddStringToObject(o, "response_excerpt", f->resp_excerpt != NULL ? f->resp_excerpt : "");
    return o;
}

/* "response_ms": {action: {count, p50, p99}} over the target's answers to fuzz requests. */
static void latency_json(const struct aipa_lf_stats *stats, cJSON *st)
{
    cJSON *lat = cJSON_AddObjectToObject(st, "response_ms");
    struct aipa_lf_latency *l = aipa_malloc(sizeof(*l));

    for (size_t k = 0; lat != NULL && l != NULL && k < AIPA_LF_LAT_ACTIONS; k++) {
        cJSON *a;
        if (stats->latency[k].action[0] == '\0' || stats->latency[k].sample_count == 0) {
            continue;
        }
        memcpy(l, &stats->latency[k], sizeof(*l));
        a = cJSON_AddObjectToObject(lat, l->action);
        if (a != NULL) {
            cJSON_AddNumberToObject(a, "count", (double)l->count);
            cJSON_AddNumberToObject(a, "p50", aipa_lf_latency_pct(l, 50));
            cJSON_AddNumberToObject(a, "p99", aipa_lf_latency_pct(l, 99));
        }
    }
    aipa_free(l);
}

aipa_err aipa__lf_write_json(const struct lf_report_info *info, const char *path)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *st, *arr;
    aipa_err err;

    if (doc == NULL) {
        return AIPA_ENOMEM;
    }
    cJSON_AddStringToObject(doc, "tool", "aipa fuzz");
    cJSON_AddStringToObject(doc, "version", "0.1.0");
    cJSON_AddStringToObject(doc, "target", info->target);
    cJSON_AddStringToObject(doc, "edition", edition_name(info->edition));
    cJSON_AddNumberToObject(doc, "seed", (double)info->cfg->seed);
    cJSON_AddBoolToObject(doc, "differential", info->diff);
    cJSON_AddBoolToObject(doc, "fixtures", info->fixtures);
    st = cJSON_AddObjectToObject(doc, "stats");
    if (st != NULL) {
        cJSON_AddNumberToObject(st, "requests", (double)info->stats->requests);
        cJSON_AddNumberToObject(st, "total_requests", (double)info->stats->total_requests);
        cJSON_AddNumberToObject(st, "sequences", (double)info->stats->sequences);
        cJSON_AddNumberToObject(st, "hits", (double)info->stats->hits);
        cJSON_AddNumberToObject(st, "buckets", (double)info->finding_count);
        cJSON_AddNumberToObject(st, "buckets_dropped", (double)info->dropped_buckets);
        cJSON_AddNumberToObject(st, "elapsed_s", info->stats->elapsed_s);
        char dg[24];
        snprintf(dg, sizeof(dg), "%016" PRIx64, info->stats->digest);
        cJSON_AddStringToObject(st, "request_digest", dg);
        cJSON_AddStringToObject(st, "stopped_by",
                                info->stats->stop != NULL ? info->stats->stop : "error");
        latency_json(info->stats, st);
    }
    arr = cJSON_AddArrayToObject(doc, "findings");
    for (size_t i = 0; arr != NULL && i < info->finding_count; i++) {
        cJSON *fj = finding_json(&info->findings[i]);
        if (fj != NULL) {
            cJSON_AddItemToArray(arr, fj);
        }
    }
    err = write_doc(doc, path);
    cJSON_Delete(doc);
    return err;
}

/* ---- SARIF 2.1.0 ---- */

aipa_err aipa__lf_write_sarif(const struct lf_report_info *info, const char *path)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *runs, *run, *tool, *driver, *rules, *results, *inv;
    aipa_err err;

    if (doc == NULL) {
        return AIPA_ENOMEM;
    }
    cJSON_AddStringToObject(doc, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
    cJSON_AddStringToObject(doc, "version", "2.1.0");
    runs = cJSON_AddArrayToObject(doc, "runs");
    run = cJSON_CreateObject();
    cJSON_AddItemToArray(runs, run);
    tool = cJSON_AddObjectToObject(run, "tool");
    driver = cJSON_AddObjectToObject(tool, "driver");
    cJSON_AddStringToObject(driver, "name", "aipa fuzz");
    cJSON_AddStringToObject(driver, "version", "0.1.0");
    cJSON_AddStringToObject(driver, "informationUri", "docs/livefuzz.md");
    rules = cJSON_AddArrayToObject(driver, "rules");
    for (int o = 0; o < (int)AIPA_LF_O_COUNT_; o++) {
        cJSON *r = cJSON_CreateObject();
        cJSON *sd;
        cJSON_AddStringToObject(r, "id", aipa_lf_oracle_name((enum aipa_lf_oracle)o));
        sd = cJSON_AddObjectToObject(r, "shortDescription");
        cJSON_AddStringToObject(sd, "text", aipa_lf_oracle_text((enum aipa_lf_oracle)o));
        cJSON_AddItemToArray(rules, r);
    }
    inv = cJSON_AddArrayToObject(run, "invocations");
    if (inv != NULL) {
        cJSON *i0 = cJSON_CreateObject();
        cJSON_AddBoolToObject(i0, "executionSuccessful", true);
        cJSON_AddItemToArray(inv, i0);
    }
    results = cJSON_AddArrayToObject(run, "results");
    for (size_t i = 0; results != NULL && i < info->finding_count; i++) {
        const struct lf_finding *f = &info->findings[i];
        cJSON *r = cJSON_CreateObject();
        cJSON *msg, *fp, *props;
        char text[1200];
        snprintf(text, sizeof(text), "%s: %s (HTTP %ld%s%s). %s%s", aipa_lf_oracle_name(f->oracle),
                 f->detail, f->status, f->code[0] ? ", " : "", f->code,
                 f->repro != NULL ? "Reproduce: " : "", f->repro != NULL ? f->repro : "");
        cJSON_AddStringToObject(r, "ruleId", aipa_lf_oracle_name(f->oracle));
        cJSON_AddNumberToObject(r, "ruleIndex", (double)f->oracle);
        cJSON_AddStringToObject(r, "level", "error");
        msg = cJSON_AddObjectToObject(r, "message");
        cJSON_AddStringToObject(msg, "text", text);
        if (f->case_path[0] != '\0') {
            cJSON *locs = cJSON_AddArrayToObject(r, "locations");
            cJSON *loc = cJSON_CreateObject();
            cJSON *pl = cJSON_AddObjectToObject(loc, "physicalLocation");
            cJSON *al = cJSON_AddObjectToObject(pl, "artifactLocation");
            cJSON_AddStringToObject(al, "uri", f->case_path);
            cJSON_AddItemToArray(locs, loc);
        }
        fp = cJSON_AddObjectToObject(r, "partialFingerprints");
        cJSON_AddStringToObject(fp, "aipaBucket/v1", f->key);
        props = cJSON_AddObjectToObject(r, "properties");
        cJSON_AddNumberToObject(props, "hits", (double)f->count);
        cJSON_AddNumberToObject(props, "status", (double)f->status);
        cJSON_AddStringToObject(props, "Code", f->code);
        if (f->ref_status != 0) {
            cJSON_AddNumberToObject(props, "referenceStatus", (double)f->ref_status);
            cJSON_AddStringToObject(props, "referenceCode", f->ref_code);
        }
        if (f->case_id[0] != '\0') {
            cJSON_AddStringToObject(props, "caseId", f->case_id);
        }
        if (f->repro != NULL) {
            cJSON_AddStringToObject(props, "repro", f->repro);
        }
        cJSON_AddItemToArray(results, r);
    }
    err = write_doc(doc, path);
    cJSON_Delete(doc);
    return err;
}

/* Percentile p of the latency samples (sorts them in place). */
static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

double aipa_lf_latency_pct(struct aipa_lf_latency *l, double p)
{
    size_t rank;

    if (l->sample_count == 0 || p <= 0) {
        return 0;
    }
    qsort(l->samples, l->sample_count, sizeof(l->samples[0]), cmp_float);
    rank = (size_t)(p / 100.0 * (double)l->sample_count + 0.999999);
    if (rank < 1) {
        rank = 1;
    }
    if (rank > l->sample_count) {
        rank = l->sample_count;
    }
    return (double)l->samples[rank - 1];
}
