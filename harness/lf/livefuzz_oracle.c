/*
 * livefuzz_oracle.c: the oracles of `aipa fuzz` and the delta-debugging
 * minimizer.
 *
 * A response is read once into a summary (declared format, whether it
 * parses, RequestId, Code, IpAddress) with the project's bounded parser
 * (aipa/parse.h: libxml2 without network, entities or DTDs; cJSON), then
 * judged: transport, timeout, content type, well-formedness, RequestId,
 * documented status and Code (aipa/errors.h), undocumented 5xx, leaks of
 * internals, the success schema, and the differential oracle against the
 * reference model's response to the same request in the same state.
 */
#define _GNU_SOURCE /* memmem */
#include "aipa/latitude.h"
#include "aipa/livefuzz.h"
#include "aipa/parse.h"

#include <string.h>

const char *aipa_lf_oracle_name(enum aipa_lf_oracle o)
{
    switch (o) {
#define AIPA_LF_O_NAME_(id, name, text)                                                            \
    case id:                                                                                       \
        return name;
        AIPA_LF_ORACLES(AIPA_LF_O_NAME_)
#undef AIPA_LF_O_NAME_
    case AIPA_LF_O_COUNT_:
        break;
    }
    return "?";
}

const char *aipa_lf_oracle_text(enum aipa_lf_oracle o)
{
    switch (o) {
#define AIPA_LF_O_TEXT_(id, name, text)                                                            \
    case id:                                                                                       \
        return text;
        AIPA_LF_ORACLES(AIPA_LF_O_TEXT_)
#undef AIPA_LF_O_TEXT_
    case AIPA_LF_O_COUNT_:
        break;
    }
    return "?";
}

void aipa_lf_resp_init(struct aipa_lf_resp *r)
{
    memset(r, 0, sizeof(*r));
    aipa_buf_init(&r->body, AIPA_LF_MAX_RESPONSE);
}

void aipa_lf_resp_cleanup(struct aipa_lf_resp *r)
{
    aipa_buf_cleanup(&r->body);
}

static void copy_str(char *dst, size_t cap, const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n >= cap) {
        n = cap - 1;
    }
    if (n > 0) {
        memcpy(dst, s, n);
    }
    dst[n] = '\0';
}

void aipa_lf_summarize(const struct aipa_lf_resp *resp, struct aipa_lf_summary *out)
{
    struct aipa_doc doc;
    const char *ct = resp->content_type;
    const uint8_t *body = (const uint8_t *)(resp->body.ptr != NULL ? resp->body.ptr : "");

    memset(out, 0, sizeof(*out));
    if (resp->trusted) {
        /* the in-process reference: its Code is known and its bodies are well-formed */
        out->declared = strncmp(ct, "application/json", 16) == 0 ? AIPA_LF_FMT_JSON
                        : strncmp(ct, "text/xml", 8) == 0        ? AIPA_LF_FMT_XML
                                                                 : AIPA_LF_FMT_OTHER;
        out->parsed = true;
        out->has_request_id = true;
        copy_str(out->code, sizeof(out->code), resp->code);
        return;
    }
    if (ct[0] == '\0') {
        out->declared = AIPA_LF_FMT_NONE;
    } else {
        /* declared by the media type only (no sniffing): "json" or "xml" in it */
        enum aipa_body_format f = aipa_detect_format(ct, (const uint8_t *)"", 0);
        out->declared = f == AIPA_BODY_JSON  ? AIPA_LF_FMT_JSON
                        : f == AIPA_BODY_XML ? AIPA_LF_FMT_XML
                                             : AIPA_LF_FMT_OTHER;
    }
    if (out->declared != AIPA_LF_FMT_JSON && out->declared != AIPA_LF_FMT_XML) {
        return;
    }
    aipa_doc_init(&doc);
    if (aipa_parse_body(out->declared == AIPA_LF_FMT_JSON ? AIPA_BODY_JSON : AIPA_BODY_XML, ct,
                        body, resp->body.len, NULL, &doc, NULL) == AIPA_OK &&
        doc.root != NULL) {
        const char *rid = aipa_path_string(doc.root, "RequestId");
        const char *code = aipa_path_string(doc.root, "Code");
        const char *ip = aipa_path_string(doc.root, "IpAddress");
        out->parsed = cJSON_IsObject(doc.root) || doc.root_name[0] != '\0';
        out->has_request_id = rid != NULL && rid[0] != '\0';
        copy_str(out->code, sizeof(out->code), code);
        copy_str(out->root, sizeof(out->root), doc.root_name);
        if (ip != NULL) {
            out->has_ip_address = true;
            copy_str(out->ip_address, sizeof(out->ip_address), ip);
        }
    }
    aipa_doc_cleanup(&doc);
}

/* ---- documented status and Code ---- */

bool aipa_lf_documented(long status, const char *code)
{
    /* the one rule, with the latitude table's (lib/latitude.c) */
    return status >= 0 && status <= 999 && aipa_lat_documented((unsigned)status, code);
}

/* ---- leaks ---- */

static const char *const leak_markers[] = {
    "Traceback (most recent call last)",
    "Exception in thread",
    "java.lang.",
    "NullPointerException",
    "StackOverflowError",
    "SQLException",
    "SQLSTATE",
    "syntax error at or near",
    "error in your SQL syntax",
    "ORA-0",
    "sqlite3.",
    "psycopg2",
    "goroutine ",
    "panic: ",
    "runtime error:",
    "Segmentation fault",
    "AddressSanitizer",
    "core dumped",
    "stack trace",
    "Stack trace",
    "backtrace",
    "Backtrace",
    "/home/",
    "/usr/src/",
    "/usr/lib/",
    "/var/lib/",
    "/opt/",
    "/root/",
    "C:\\",
    "Fatal error:",
};

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static const char *find_bytes(const char *h, size_t hn, const char *n, size_t nn)
{
    if (nn == 0 || hn < nn) {
        return NULL;
    }
    return memmem(h, hn, n, nn); /* glibc's two-way search: linear, not a byte loop */
}

/*
 * Pattern markers: a memory address (0x and 8+ hex digits) and a source
 * location (name.c:123, .go:, .py", line, .java:).
 */
static bool pattern_at(const char *s, size_t left, size_t *mlen)
{
    if (left >= 10 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        size_t k = 2;
        while (k < left && is_hex(s[k])) {
            k++;
        }
        if (k - 2 >= 8) {
            *mlen = k;
            return true;
        }
    }
    static const char *const exts[] = {
        ".c:", ".h:", ".cc:", ".cpp:", ".go:", ".java:", ".rs:", ".js:", ".py\", line "};
    for (size_t e = 0; e < AIPA_ARRAY_LEN(exts); e++) {
        size_t el = strlen(exts[e]);
        if (left > el && memcmp(s, exts[e], el) == 0 && is_digit(s[el])) {
            *mlen = el + 1;
            return true;
        }
    }
    return false;
}

const char *aipa_lf_leak_marker(const char *body, size_t len, const char *sent, size_t sent_len,
                                char *what, size_t what_cap)
{
    for (size_t m = 0; m < AIPA_ARRAY_LEN(leak_markers); m++) {
        size_t ml = strlen(leak_markers[m]);
        const char *at = find_bytes(body, len, leak_markers[m], ml);
        if (at != NULL && find_bytes(sent, sent_len, leak_markers[m], ml) == NULL) {
            copy_str(what, what_cap, leak_markers[m]);
            return leak_markers[m];
        }
    }
    for (size_t i = 0; i < len; i++) {
        size_t ml = 0;
        if ((body[i] == '0' || body[i] == '.') && pattern_at(body + i, len - i, &ml)) {
            if (find_bytes(sent, sent_len, body + i, ml) != NULL) {
                continue; /* the request carried it: an echo, not a leak */
            }
            size_t n = ml < what_cap - 1 ? ml : what_cap - 1;
            memcpy(what, body + i, n);
            what[n] = '\0';
            return body[i] == '0' ? "memory address" : "source location";
        }
    }
    return NULL;
}

/* ---- the judge ---- */

static void add_hit(struct aipa_lf_hit *hits, size_t cap, size_t *n, enum aipa_lf_oracle o,
                    const struct aipa_lf_resp *resp, const struct aipa_lf_summary *s,
                    const struct aipa_lf_resp *ref, const struct aipa_lf_summary *rs,
                    const char *detail)
{
    if (*n < cap) {
        struct aipa_lf_hit *h = &hits[*n];
        memset(h, 0, sizeof(*h));
        h->oracle = o;
        h->status = resp->status;
        copy_str(h->code, sizeof(h->code), s->code);
        if (ref != NULL) {
            h->ref_status = ref->status;
            copy_str(h->ref_code, sizeof(h->ref_code), rs->code);
        }
        copy_str(h->detail, sizeof(h->detail), detail);
    }
    (*n)++;
}

/* Everything the request carried, decoded and as sent, for the leak oracle's echo test. */
static aipa_err sent_text(const struct aipa_lf_req *req, const struct aipa_lf_wire *wire,
                          struct aipa_buf *out)
{
    AIPA_TRY(
        aipa_buf_append(out, wire->target.ptr != NULL ? wire->target.ptr : "", wire->target.len));
    AIPA_TRY(aipa_buf_putc(out, '\n'));
    AIPA_TRY(aipa_buf_append(out, wire->body.ptr != NULL ? wire->body.ptr : "", wire->body.len));
    AIPA_TRY(aipa_buf_putc(out, '\n'));
    AIPA_TRY(aipa_buf_append(out, wire->headers.ptr != NULL ? wire->headers.ptr : "",
                             wire->headers.len));
    for (size_t i = 0; i < req->count; i++) {
        AIPA_TRY(aipa_buf_putc(out, '\n'));
        AIPA_TRY(aipa_buf_append(out, req->params[i].name, req->params[i].name_len));
        AIPA_TRY(aipa_buf_putc(out, '='));
        AIPA_TRY(aipa_buf_append(out, req->params[i].value, req->params[i].value_len));
        if (req->params[i].flags & AIPA_LF_P_RAW) {
            /* and its decoded form */
            struct aipa_buf dec;
            aipa_buf_init(&dec, AIPA_LF_MAX_VALUE);
            if (aipa_pct_decode((const uint8_t *)req->params[i].value, req->params[i].value_len,
                                AIPA_WIRE_PLUS_IS_SPACE, &dec) == AIPA_OK &&
                dec.len > 0) {
                aipa_err e = aipa_buf_putc(out, '\n');
                if (e == AIPA_OK) {
                    e = aipa_buf_append(out, dec.ptr, dec.len);
                }
                aipa_buf_cleanup(&dec);
                AIPA_TRY(e);
            } else {
                aipa_buf_cleanup(&dec);
            }
        }
    }
    return AIPA_OK;
}

static unsigned lat_format(enum aipa_lf_fmt f)
{
    return f == AIPA_LF_FMT_XML ? AIPA_LAT_FMT_XML : f == AIPA_LF_FMT_JSON ? AIPA_LAT_FMT_JSON : 0;
}

/* The first latitude row the reference reported that applies to the edition, or "". */
static void outside_row(const struct aipa_lf_resp *ref, const struct aipa_lf_judge_opts *o,
                        struct aipa_lf_hit *hits, size_t cap, size_t n, char *detail, size_t dcap)
{
    const struct aipa_latitude *r;

    if (ref == NULL || n == 0 || n > cap) {
        return;
    }
    r = aipa_lat_first(&ref->latitude, o->edition);
    if (r == NULL) {
        return;
    }
    copy_str(hits[n - 1].row, sizeof(hits[n - 1].row), r->name);
    snprintf(detail, dcap, "%.150s; outside latitude row %s%s", hits[n - 1].detail, r->name,
             o->strict ? " (--strict)" : "");
    copy_str(hits[n - 1].detail, sizeof(hits[n - 1].detail), detail);
}

/* The format, content-type and RequestId oracles. */
static void judge_shape(const struct aipa_lf_resp *resp, const struct aipa_lf_summary *s,
                        const struct aipa_lf_resp *ref, const struct aipa_lf_summary *rs,
                        const struct aipa_lf_judge_opts *o, struct aipa_lf_hit *hits, size_t cap,
                        size_t *n)
{
    char detail[200];

    if (s->declared != AIPA_LF_FMT_XML && s->declared != AIPA_LF_FMT_JSON) {
        snprintf(detail, sizeof(detail), "Content-Type \"%.120s\"", resp->content_type);
        add_hit(hits, cap, n, AIPA_LF_O_CONTENT_TYPE, resp, s, ref, rs, detail);
    } else if (ref != NULL && rs->declared != s->declared &&
               (rs->declared == AIPA_LF_FMT_XML || rs->declared == AIPA_LF_FMT_JSON) &&
               (o->strict || aipa_lat_accepts_format(&ref->latitude, o->edition,
                                                     lat_format(s->declared)) == NULL)) {
        snprintf(detail, sizeof(detail), "answered %s where the reference answered %s",
                 s->declared == AIPA_LF_FMT_JSON ? "JSON" : "XML",
                 rs->declared == AIPA_LF_FMT_JSON ? "JSON" : "XML");
        add_hit(hits, cap, n, AIPA_LF_O_CONTENT_TYPE, resp, s, ref, rs, detail);
        outside_row(ref, o, hits, cap, *n, detail, sizeof(detail));
    } else if (!s->parsed) {
        snprintf(detail, sizeof(detail), "%d-byte body does not parse as %s", (int)resp->body.len,
                 s->declared == AIPA_LF_FMT_JSON ? "JSON" : "XML");
        add_hit(hits, cap, n, AIPA_LF_O_MALFORMED, resp, s, ref, rs, detail);
    } else if (!s->has_request_id) {
        add_hit(hits, cap, n, AIPA_LF_O_REQUEST_ID, resp, s, ref, rs, "no RequestId in the body");
    }
}

/* The leak oracle: internals in the body that the request did not carry. */
static void judge_leak(const struct aipa_lf_req *req, const struct aipa_lf_wire *wire,
                       const struct aipa_lf_resp *resp, const struct aipa_lf_summary *s,
                       const struct aipa_lf_resp *ref, const struct aipa_lf_summary *rs,
                       struct aipa_lf_hit *hits, size_t cap, size_t *n)
{
    struct aipa_buf sent;
    char what[64], detail[200];
    const char *marker = NULL;

    if (resp->body.len == 0) {
        return;
    }
    aipa_buf_init(&sent, 4u * AIPA_LF_MAX_WIRE);
    /* first without the request (cheap, and almost always clean), then the echo test */
    if (aipa_lf_leak_marker(resp->body.ptr, resp->body.len, "", 0, what, sizeof(what)) != NULL &&
        sent_text(req, wire, &sent) == AIPA_OK) {
        marker = aipa_lf_leak_marker(resp->body.ptr, resp->body.len,
                                     sent.ptr != NULL ? sent.ptr : "", sent.len, what, sizeof(what));
        /* the reference answering the same text means it is an echo of the request */
        if (marker != NULL && ref != NULL && ref->body.len > 0 &&
            find_bytes(ref->body.ptr, ref->body.len, what, strlen(what)) != NULL) {
            marker = NULL;
        }
    }
    aipa_buf_cleanup(&sent);
    if (marker != NULL) {
        snprintf(detail, sizeof(detail), "%s: \"%.60s\"", marker, what);
        add_hit(hits, cap, n, AIPA_LF_O_LEAK, resp, s, ref, rs, detail);
    }
}

size_t aipa_lf_judge(const struct aipa_lf_req *req, const struct aipa_lf_wire *wire,
                     const struct aipa_lf_resp *resp, const struct aipa_lf_resp *ref,
                     struct aipa_lf_hit *hits, size_t cap)
{
    struct aipa_lf_judge_opts o;

    memset(&o, 0, sizeof(o));
    return aipa_lf_judge_with(req, wire, resp, ref, &o, hits, cap);
}

size_t aipa_lf_judge_with(const struct aipa_lf_req *req, const struct aipa_lf_wire *wire,
                          const struct aipa_lf_resp *resp, const struct aipa_lf_resp *ref,
                          const struct aipa_lf_judge_opts *o, struct aipa_lf_hit *hits, size_t cap)
{
    struct aipa_lf_summary s, rs;
    size_t n = 0;
    char detail[200];
    bool same_as_ref, accepted;

    memset(&rs, 0, sizeof(rs));
    memset(&s, 0, sizeof(s));
    if (resp->truncated && resp->status > 0) {
        /* over the cap: its own finding, not a timeout or a body that does not parse */
        snprintf(detail, sizeof(detail), "HTTP %ld with a body over the %u-byte cap", resp->status,
                 AIPA_LF_MAX_RESPONSE);
        add_hit(hits, cap, &n, AIPA_LF_O_TOO_LARGE, resp, &s, NULL, &rs, detail);
        return n;
    }
    if (resp->timed_out) {
        add_hit(hits, cap, &n, AIPA_LF_O_TIMEOUT, resp, &s, NULL, &rs, resp->error);
        return n;
    }
    if (resp->transport_error || resp->status == 0) {
        add_hit(hits, cap, &n, AIPA_LF_O_TRANSPORT, resp, &s, NULL, &rs,
                resp->error[0] ? resp->error : "no response");
        return n;
    }
    aipa_lf_summarize(resp, &s);
    if (ref != NULL) {
        aipa_lf_summarize(ref, &rs);
    }
    if (o->max_response_ms > 0 && resp->elapsed_ms > (double)o->max_response_ms) {
        snprintf(detail, sizeof(detail), "answered in %.0f ms (limit %ld ms)", resp->elapsed_ms,
                 o->max_response_ms);
        add_hit(hits, cap, &n, AIPA_LF_O_SLOW, resp, &s, ref, &rs, detail);
    }
    /* what the reference model itself answers is, by definition, documented behaviour */
    same_as_ref = ref != NULL && ref->status == resp->status && strcmp(rs.code, s.code) == 0;
    /* and so is another answer the documents allow there (the latitude table) */
    accepted = same_as_ref ||
               (ref != NULL && !o->strict &&
                aipa_lat_accepts(&ref->latitude, o->edition, (unsigned)resp->status, s.code,
                                 lat_format(s.declared)) != NULL);
    /*
     * A request past the transport limits (413 URL/body too large, 414, 431)
     * may be refused by the HTTP layer in front of the API (a gateway, or a
     * server's front end) before any API body is written: then only the
     * status is compared (with the differential oracle; without it, such a
     * status is accepted as it is).
     */
    if ((ref == NULL || ref->status == resp->status || accepted) &&
        (resp->status == 413 || resp->status == 414 || resp->status == 431)) {
        return n;
    }
    judge_shape(resp, &s, ref, &rs, o, hits, cap, &n);
    if (resp->status >= 500 && ref == NULL) {
        /* nothing in a request can make a server fault: without the reference, every 5xx */
        if (!(o->allow_transient && aipa_lat_transient((unsigned)resp->status, s.code))) {
            snprintf(detail, sizeof(detail), "HTTP %ld, Code \"%s\"", resp->status, s.code);
            add_hit(hits, cap, &n, AIPA_LF_O_SERVER_ERROR, resp, &s, ref, &rs, detail);
        }
    } else if (!accepted) {
        bool doc = aipa_lf_documented(resp->status, s.code);
        if (resp->status >= 500 && !doc) {
            snprintf(detail, sizeof(detail), "HTTP %ld, Code \"%s\"", resp->status, s.code);
            add_hit(hits, cap, &n, AIPA_LF_O_SERVER_ERROR, resp, &s, ref, &rs, detail);
        } else if (!doc && s.parsed) {
            snprintf(detail, sizeof(detail), "HTTP %ld with Code \"%s\" is not documented",
                     resp->status, s.code);
            add_hit(hits, cap, &n, AIPA_LF_O_UNDOCUMENTED, resp, &s, ref, &rs, detail);
        }
    }
    judge_leak(req, wire, resp, &s, ref, &rs, hits, cap, &n);
    if (resp->status >= 200 && resp->status < 300 && s.parsed &&
        strcmp(aipa_lf_req_action(req), "AllocatePublicIpAddress") == 0 &&
        (ref == NULL || (ref->status >= 200 && ref->status < 300))) {
        if (!s.has_ip_address || !aipa_is_ipv4(s.ip_address, strlen(s.ip_address))) {
            snprintf(detail, sizeof(detail), "success without a dotted-quad IpAddress (\"%.40s\")",
                     s.ip_address);
            add_hit(hits, cap, &n, AIPA_LF_O_SCHEMA, resp, &s, ref, &rs, detail);
        }
    }
    if (ref != NULL && ref->status != 0 && !accepted) {
        if (ref->status != resp->status) {
            snprintf(detail, sizeof(detail),
                     "HTTP %ld \"%s\", the reference model: HTTP %ld \"%s\"", resp->status, s.code,
                     ref->status, rs.code);
            add_hit(hits, cap, &n, AIPA_LF_O_DIFF_STATUS, resp, &s, ref, &rs, detail);
        } else {
            snprintf(detail, sizeof(detail), "Code \"%s\", the reference model: \"%s\" (HTTP %ld)",
                     s.code, rs.code, resp->status);
            add_hit(hits, cap, &n, AIPA_LF_O_DIFF_CODE, resp, &s, ref, &rs, detail);
        }
        outside_row(ref, o, hits, cap, n, detail, sizeof(detail));
    }
    return n;
}

/* ---- state ---- */

static const cJSON *state_instance(const cJSON *doc, const char *id)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "Instances");
    const cJSON *it;

    cJSON_ArrayForEach(it, list)
    {
        const cJSON *iid = cJSON_GetObjectItemCaseSensitive(it, "InstanceId");
        if (cJSON_IsString(iid) && strcmp(iid->valuestring, id) == 0) {
            return it;
        }
    }
    return NULL;
}

static int address_count(const cJSON *inst)
{
    const cJSON *pub = cJSON_GetObjectItemCaseSensitive(inst, "PublicIpAddress");
    const cJSON *ips = cJSON_GetObjectItemCaseSensitive(pub, "IpAddress");

    return cJSON_IsArray(ips) ? cJSON_GetArraySize(ips) : -1;
}

static const char *str_member(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* One instance of each side; false (kind and why set) when they differ. */
static bool instance_equal(const cJSON *ti, const cJSON *ri, const char *tid, char *kind,
                           size_t kind_cap, char *why, size_t why_cap)
{
    int ta = address_count(ti), ra = address_count(ri);

    if (strcmp(str_member(ti, "Status"), str_member(ri, "Status")) != 0) {
        snprintf(kind, kind_cap, "status");
        snprintf(why, why_cap, "%.40s: Status %.16s, the model's %.16s", tid,
                 str_member(ti, "Status"), str_member(ri, "Status"));
        return false;
    }
    if (ta != ra) {
        snprintf(kind, kind_cap, "address");
        snprintf(why, why_cap, "%.40s holds %d public address%s, the model's instance %d", tid, ta,
                 ta == 1 ? "" : "es", ra);
        return false;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ti, "AipaPublicIpEffective")) !=
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ri, "AipaPublicIpEffective"))) {
        snprintf(kind, kind_cap, "effective");
        snprintf(why, why_cap, "%.40s: AipaPublicIpEffective differs from the model's", tid);
        return false;
    }
    return true;
}

bool aipa_lf_state_equal(const char *tdoc, size_t tlen, const char *rdoc, size_t rlen,
                         const char *const *tids, const char *const *rids, size_t n, char *kind,
                         size_t kind_cap, char *why, size_t why_cap)
{
    cJSON *t = cJSON_ParseWithLength(tdoc != NULL ? tdoc : "", tlen);
    cJSON *r = cJSON_ParseWithLength(rdoc != NULL ? rdoc : "", rlen);
    const cJSON *tp = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t, "Pool"),
                                                       "FreeCount");
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "Pool"),
                                                       "FreeCount");
    bool eq = true;

    if (!cJSON_IsObject(t) || !cJSON_IsObject(r) || !cJSON_IsNumber(tp) || !cJSON_IsNumber(rp)) {
        snprintf(kind, kind_cap, "document");
        snprintf(why, why_cap, "the %s state document has no Pool.FreeCount",
                 cJSON_IsObject(r) && cJSON_IsNumber(rp) ? "target's" : "model's");
        eq = false;
    } else if (tp->valuedouble != rp->valuedouble) {
        snprintf(kind, kind_cap, "pool");
        snprintf(why, why_cap, "%.0f free addresses in the pool, the model's %.0f",
                 tp->valuedouble, rp->valuedouble);
        eq = false;
    }
    for (size_t i = 0; eq && i < n; i++) {
        const cJSON *ti = state_instance(t, tids[i]);
        const cJSON *ri = state_instance(r, rids[i]);

        if (ti == NULL || ri == NULL) {
            snprintf(kind, kind_cap, "document");
            snprintf(why, why_cap, "instance %.40s is missing from the %s state", tids[i],
                     ti == NULL ? "target's" : "model's");
            eq = false;
        } else {
            eq = instance_equal(ti, ri, tids[i], kind, kind_cap, why, why_cap);
        }
    }
    cJSON_Delete(t);
    cJSON_Delete(r);
    return eq;
}

/* ---- ddmin ---- */

struct dd {
    aipa_lf_test_fn test;
    void *ctx;
    size_t budget;
    size_t runs;
};

static bool dd_test(struct dd *d, const size_t *set, size_t k)
{
    if (d->runs >= d->budget) {
        return false;
    }
    d->runs++;
    return d->test(set, k, d->ctx);
}

aipa_err aipa_lf_ddmin(size_t n, aipa_lf_test_fn test, void *ctx, size_t budget, size_t *keep,
                       size_t *out_n, size_t *tests_run)
{
    struct dd d = {test, ctx, budget, 0};
    size_t len = n;
    size_t gran = 2;
    size_t *cand = NULL;

    for (size_t i = 0; i < n; i++) {
        keep[i] = i;
    }
    if (n == 0) {
        *out_n = 0;
        if (tests_run != NULL) {
            *tests_run = 0;
        }
        return AIPA_OK;
    }
    cand = aipa_malloc(n * sizeof(*cand));
    if (cand == NULL) {
        return AIPA_ENOMEM;
    }
    /* the empty set first: often the parameters do not matter at all */
    if (dd_test(&d, cand, 0)) {
        len = 0;
    }
    while (len >= 2 && d.runs < d.budget) {
        bool reduced = false;
        size_t chunk = (len + gran - 1) / gran;
        /* subsets */
        for (size_t start = 0; start < len && !reduced; start += chunk) {
            size_t end = start + chunk < len ? start + chunk : len;
            size_t k = end - start;
            memcpy(cand, keep + start, k * sizeof(*cand));
            if (dd_test(&d, cand, k)) {
                memcpy(keep, cand, k * sizeof(*cand));
                len = k;
                gran = 2;
                reduced = true;
            }
        }
        /* complements */
        for (size_t start = 0; start < len && !reduced && gran > 2; start += chunk) {
            size_t end = start + chunk < len ? start + chunk : len;
            size_t k = 0;
            for (size_t i = 0; i < len; i++) {
                if (i < start || i >= end) {
                    cand[k++] = keep[i];
                }
            }
            if (k > 0 && dd_test(&d, cand, k)) {
                memcpy(keep, cand, k * sizeof(*cand));
                len = k;
                gran = gran - 1 > 2 ? gran - 1 : 2;
                reduced = true;
            }
        }
        if (!reduced) {
            if (gran >= len) {
                break;
            }
            gran = gran * 2 < len ? gran * 2 : len;
        }
    }
    /* a single element may still be removable */
    if (len == 1 && d.runs < d.budget && !(n == 1 && d.runs > 0)) {
        /* the empty set was tried first; nothing more to do */
    }
    aipa_free(cand);
    *out_n = len;
    if (tests_run != NULL) {
        *tests_run = d.runs;
    }
    return AIPA_OK;
}
