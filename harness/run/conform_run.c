/*
 * The runner: case x variant -> fixtures -> requests (built and signed by
 * the client) -> bounded parse -> matcher -> verdict, with transcripts for
 * the reports. Workers run cases in parallel, each with its own client.
 */
#define _GNU_SOURCE /* memmem */
#include "aipa/client.h"
#include "aipa/conform.h"
#include "aipa/fixture.h"
#include "aipa/fixture_state.h"
#include "aipa/parse.h"
#include "aipa/sign.h"
#include "conform_int.h"

#include <errno.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TRANSCRIPT_BODY_MAX (64u * 1024u) /* response body bytes kept per exchange */
#define TRANSCRIPT_REQ_MAX  (16u * 1024u) /* request body/target bytes kept */
#define MAX_KEPT_REPEATS    4             /* exchanges kept per repeated step */
#define FIXTURE_REPLY_MAX   (64u * 1024u)

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void aipa_run_opts_init(struct aipa_run_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->variants = (struct aipa_variant_set){AIPA_VSIG_ALL, AIPA_VSHAPE_ALL, AIPA_VFMT_ALL};
    o->jobs = 1;
    o->edition = AIPA_ED_2024;
    o->keep_pass_transcripts = true;
    o->throttle_retries = 3;
}

/* ---- reports: storage ---- */

void aipa_report_init(struct aipa_report *r)
{
    memset(r, 0, sizeof(*r));
}

static void exchange_free(struct aipa_exchange *x)
{
    aipa_free(x->step);
    aipa_free(x->request);
    aipa_free(x->response);
    aipa_free(x->repro);
}

static void result_free(struct aipa_result *res)
{
    aipa_free(res->reason);
    for (size_t i = 0; i < res->ex_count; i++) {
        exchange_free(&res->ex[i]);
    }
    aipa_free(res->ex);
    aipa_free(res->lat);
}

void aipa_report_cleanup(struct aipa_report *r)
{
    for (size_t i = 0; i < r->count; i++) {
        result_free(&r->items[i]);
    }
    aipa_free(r->items);
    aipa_free(r->target);
    aipa_free(r->profile);
    aipa_free(r->profile_path);
    for (size_t i = 0; i < r->fixed_count; i++) {
        aipa_free(r->fixed[i]);
    }
    aipa_free(r->fixed);
    memset(r, 0, sizeof(*r));
}

static aipa_err report_reserve(struct aipa_report *r, size_t extra)
{
    size_t need = r->count + extra;

    if (need > r->cap) {
        size_t cap = r->cap == 0 ? 256 : r->cap;
        struct aipa_result *p;

        while (cap < need) {
            cap *= 2;
        }
        p = aipa_realloc(r->items, cap * sizeof(*p));
        if (p == NULL) {
            return AIPA_ENOMEM;
        }
        memset(p + r->cap, 0, (cap - r->cap) * sizeof(*p));
        r->items = p;
        r->cap = cap;
    }
    return AIPA_OK;
}

size_t aipa_report_count(const struct aipa_report *r, unsigned edition, enum aipa_verdict v)
{
    size_t n = 0;

    for (size_t i = 0; i < r->count; i++) {
        if ((edition == 0 || r->items[i].edition == edition) && r->items[i].verdict == v) {
            n++;
        }
    }
    return n;
}

size_t aipa__report_known(const struct aipa_report *r, unsigned edition)
{
    size_t n = 0;

    for (size_t i = 0; i < r->count; i++) {
        if ((edition == 0 || r->items[i].edition == edition) && r->items[i].known) {
            n++;
        }
    }
    return n;
}

int aipa_report_exit_code(const struct aipa_report *r)
{
    bool fail = false, error = false;

    for (size_t i = 0; i < r->count; i++) {
        if (r->items[i].known) {
            continue;
        }
        fail = fail || r->items[i].verdict == AIPA_V_FAIL;
        error = error || r->items[i].verdict == AIPA_V_ERROR;
    }
    return error ? 2 : fail ? 1 : 0;
}

/* ---- fixture protocol ---- */

/*
 * One fixture-protocol call over cl's connection (aipa/fixture.h). body may
 * be NULL. On success *status and the reply body (NUL-terminated) are
 * filled; a transport failure is AIPA_EIO with a reason.
 */
static aipa_err fixture_call(struct aipa_client *cl, const char *target, const char *token,
                             const char *method, const char *path, const char *body, long *status,
                             struct aipa_buf *reply, struct aipa_buf *err)
{
    struct aipa_fixture_conn fc;
    struct aipa_response resp;
    struct aipa_buf prefix;
    aipa_err e;

    aipa_buf_init(&prefix, 2048);
    aipa_response_init(&resp);
    e = aipa_fixture_prefix(target, &prefix);
    aipa_fixture_conn_init(&fc, aipa_client_tx(cl), prefix.ptr, NULL, token);
    if (e == AIPA_OK) {
        e = aipa_fixture_call(&fc, method, path, body, &resp);
    }
    if (e != AIPA_OK) {
        aipa__note(err, "%s %s: %s", method, path, aipa_strerror(e));
        goto out;
    }
    if (resp.xerr != AIPA_XERR_NONE) {
        aipa__note(err, "%s %s: %s (%s)", method, path, aipa_xerr_desc(resp.xerr), resp.xerr_msg);
        e = AIPA_EIO;
        goto out;
    }
    *status = resp.status;
    aipa_buf_reset(reply);
    e = aipa_buf_append(reply, resp.body.ptr != NULL ? resp.body.ptr : "",
                        resp.body.len < FIXTURE_REPLY_MAX ? resp.body.len : FIXTURE_REPLY_MAX);
    if (e == AIPA_OK && reply->ptr == NULL) {
        e = aipa_buf_puts(reply, "");
    }
out:
    aipa_fixture_conn_cleanup(&fc);
    aipa_buf_cleanup(&prefix);
    aipa_response_cleanup(&resp);
    return e;
}

static aipa_err fixture_expect(struct aipa_client *cl, const char *target, const char *token,
                               const char *method, const char *path, const char *body, long want,
                               struct aipa_buf *reply, struct aipa_buf *err)
{
    long status = 0;

    AIPA_TRY(fixture_call(cl, target, token, method, path, body, &status, reply, err));
    if (status != want) {
        aipa__note(err, "%s %s answered %ld: ", method, path, status);
        aipa__quote(err, reply->ptr, 200);
        return AIPA_EIO;
    }
    return AIPA_OK;
}

static aipa_err new_plain_client(struct aipa_client **out, const char *target, long timeout_ms)
{
    struct aipa_client_config cfg;

    aipa_client_config_defaults(&cfg);
    cfg.target = target;
    if (timeout_ms > 0) {
        cfg.timeout_ms = timeout_ms;
        cfg.connect_timeout_ms = timeout_ms < 5000 ? timeout_ms : 5000;
    }
    return aipa_client_new(out, &cfg);
}

aipa_err aipa_target_wait_ready(const char *target, double seconds, struct aipa_buf *err)
{
    double deadline = now_ms() + seconds * 1e3;
    aipa_err e = AIPA_ETIMEDOUT;

    for (;;) {
        struct aipa_client *cl = NULL;
        struct aipa_request req;
        struct aipa_response resp;
        struct aipa_buf bp;
        double left = deadline - now_ms();

        aipa_buf_init(&bp, 2048);
        aipa_request_init(&req);
        aipa_response_init(&resp);
        req.raw = true;
        req.raw_method = "GET";
        if (aipa_fixture_prefix(target, &bp) == AIPA_OK) {
            req.raw_target = (const uint8_t *)bp.ptr;
            req.raw_target_len = bp.len;
        }
        if (new_plain_client(&cl, target, left > 1000 ? 1000 : (long)left + 1) == AIPA_OK &&
            aipa_client_call(cl, &req, NULL, &resp) == AIPA_OK) {
            if (resp.xerr == AIPA_XERR_NONE) {
                e = AIPA_OK;
            } else {
                aipa_buf_reset(err);
                aipa__note(err, "%s: %s (%s)", target, aipa_xerr_desc(resp.xerr), resp.xerr_msg);
            }
        }
        aipa_response_cleanup(&resp);
        aipa_buf_cleanup(&bp);
        aipa_client_free(cl);
        if (e == AIPA_OK || now_ms() + 100 > deadline) {
            break;
        }
        {
            struct timespec ts = {0, 100 * 1000000L};

            nanosleep(&ts, NULL);
        }
    }
    if (e != AIPA_OK && err->len == 0) {
        aipa__note(err, "%s did not answer within %.0f s", target, seconds);
    }
    return e;
}

aipa_err aipa_fixture_info(const char *target, const char *token, unsigned *edition,
                           struct aipa_buf *err)
{
    struct aipa_client *cl = NULL;
    struct aipa_buf reply;
    cJSON *doc = NULL;
    aipa_err e;

    aipa_buf_init(&reply, FIXTURE_REPLY_MAX);
    e = new_plain_client(&cl, target, 5000);
    if (e == AIPA_OK) {
        e = fixture_expect(cl, target, token, "GET", "/_aipa/info", NULL, 200, &reply, err);
    }
    if (e == AIPA_OK) {
        const cJSON *ed, *proto;

        doc = cJSON_ParseWithLength(reply.ptr, reply.len);
        ed = cJSON_GetObjectItemCaseSensitive(doc, "Edition");
        proto = cJSON_GetObjectItemCaseSensitive(doc, "Protocol");
        *edition = cJSON_IsString(ed) ? aipa_edition_parse(ed->valuestring) : 0;
        if (*edition == 0 || !cJSON_IsNumber(proto) || proto->valuedouble != 1) {
            aipa__note(err, "GET /_aipa/info: expected {\"Edition\": ..., \"Protocol\": 1}");
            e = AIPA_EPARSE;
        }
    }
    cJSON_Delete(doc);
    aipa_buf_cleanup(&reply);
    aipa_client_free(cl);
    return e;
}

aipa_err aipa_fixture_set_edition(const char *target, const char *token, unsigned edition,
                                  struct aipa_buf *err)
{
    struct aipa_client *cl = NULL;
    struct aipa_buf reply, body;
    aipa_err e;

    aipa_buf_init(&reply, FIXTURE_REPLY_MAX);
    aipa_buf_init(&body, 256);
    e = new_plain_client(&cl, target, 5000);
    if (e == AIPA_OK) {
        e = aipa_buf_printf(&body, "{\"Edition\":\"%s\"}", aipa_edition_name(edition));
    }
    if (e == AIPA_OK) {
        e = fixture_expect(cl, target, token, "PUT", "/_aipa/edition", body.ptr, 200, &reply, err);
    }
    aipa_buf_cleanup(&reply);
    aipa_buf_cleanup(&body);
    aipa_client_free(cl);
    return e;
}

/* ---- one case x variant ---- */

struct runner {
    const struct aipa_suite *suite;
    const struct aipa_run_opts *o;
    const struct aipa_profile *p;
    const char *target;
    bool reset_each; /* reset fixtures before each run (serial phase) */
    pthread_mutex_t lock;
    size_t done, total;
    unsigned long requests;
    unsigned long fx_requests;
    unsigned long throttled;
    double next_send; /* --rate: monotonic seconds of the next free send slot */
};

struct job {
    const struct aipa_case *c;
    struct aipa_variant v;
    struct aipa_result *res;
    bool serial; /* touches global state: reset before every run, never in parallel */
    bool first;  /* the case's first variant: the serial phase resets before it */
};

/* Per-run state. */
struct run {
    struct runner *rn;
    struct aipa_client *cl;
    const struct aipa_case *c;
    struct aipa_variant v;
    struct aipa_result *res;
    struct aipa_run_env env;
    struct aipa_doc docs[AIPA_CASE_MAX_STEPS];
    char nonces[AIPA_CASE_MAX_STEPS][33];
    struct aipa_buf reason;
    bool nonstrict;
    unsigned long requests;
    unsigned long fx_requests;
    unsigned long throttled;
    struct aipa_fxstate pool; /* the target's state after the reset, for ${pool.*} */
};

/* Replaces every occurrence of each principal's secret in s by "[redacted]". */
static void scrub(const struct aipa_profile *p, char *s)
{
    for (size_t i = 0; i < p->principal_count; i++) {
        const char *sec = p->principals[i].secret;
        size_t n = sec != NULL ? strlen(sec) : 0;
        char *hit;

        if (n < 4) {
            continue; /* too short to scrub without mangling everything */
        }
        while ((hit = strstr(s, sec)) != NULL) {
            memset(hit, '*', n);
        }
    }
}

/* Appends s[0..n) with "Signature=<value>" values replaced. */
static void put_redacted_params(struct aipa_buf *b, const char *s, size_t n, size_t max)
{
    size_t i = 0;

    if (n > max) {
        n = max;
    }
    while (i < n) {
        bool at_start = i == 0 || s[i - 1] == '&' || s[i - 1] == '?';

        if (at_start && n - i >= 10 && memcmp(s + i, "Signature=", 10) == 0) {
            aipa__note(b, "Signature=[redacted]");
            i += 10;
            while (i < n && s[i] != '&') {
                i++;
            }
            continue;
        }
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f) {
            aipa__note(b, "\\x%02x", (unsigned char)s[i]);
        } else {
            aipa__note(b, "%c", s[i]);
        }
        i++;
    }
}

static bool secret_header(const char *name)
{
    return strcasecmp(name, "Authorization") == 0 || strcasecmp(name, "X-Aipa-Token") == 0 ||
           strcasecmp(name, "x-acs-security-token") == 0;
}

static char *render_request(const struct aipa_profile *p, const struct aipa_built *b)
{
    struct aipa_buf t;
    char *s;

    aipa_buf_init(&t, 4 * TRANSCRIPT_REQ_MAX);
    aipa__note(&t, "%s ", b->method.ptr != NULL ? b->method.ptr : "?");
    put_redacted_params(&t, b->target.ptr != NULL ? b->target.ptr : "", b->target.len,
                        TRANSCRIPT_REQ_MAX);
    aipa__note(&t, "\n");
    for (size_t i = 0; i < b->header_count; i++) {
        if (secret_header(b->headers[i].name)) {
            aipa__note(&t, "%s: [redacted]\n", b->headers[i].name);
        } else {
            aipa__note(&t, "%s: ", b->headers[i].name);
            put_redacted_params(&t, b->headers[i].value, strlen(b->headers[i].value), 1024);
            aipa__note(&t, "\n");
        }
    }
    if (b->body.len > 0) {
        aipa__note(&t, "\n");
        put_redacted_params(&t, b->body.ptr, b->body.len, TRANSCRIPT_REQ_MAX);
        if (b->body.len > TRANSCRIPT_REQ_MAX) {
            aipa__note(&t, "\n[... %zu bytes in all]", b->body.len);
        }
    }
    if (t.ptr == NULL) {
        return aipa_strdup("");
    }
    scrub(p, t.ptr);
    s = aipa_buf_steal(&t, NULL);
    aipa_buf_cleanup(&t);
    return s;
}

static char *render_raw_request(const char *method, const struct aipa_buf *target,
                                const struct aipa_case_kv *hdr, size_t nh,
                                const struct aipa_buf *body)
{
    struct aipa_buf t;
    char *s;

    aipa_buf_init(&t, 4 * TRANSCRIPT_REQ_MAX);
    aipa__note(&t, "%s ", method);
    put_redacted_params(&t, target->ptr, target->len, TRANSCRIPT_REQ_MAX);
    aipa__note(&t, "\n");
    for (size_t i = 0; i < nh; i++) {
        aipa__note(&t, "%s: %s\n", hdr[i].name,
                   secret_header(hdr[i].name) ? "[redacted]" : hdr[i].value);
    }
    if (body->len > 0) {
        aipa__note(&t, "\n");
        put_redacted_params(&t, body->ptr, body->len, TRANSCRIPT_REQ_MAX);
    }
    s = t.ptr != NULL ? aipa_buf_steal(&t, NULL) : aipa_strdup("");
    aipa_buf_cleanup(&t);
    return s;
}

static char *render_response(const struct aipa_profile *p, const struct aipa_response *r,
                             size_t body_max)
{
    struct aipa_buf t;
    char *s;

    aipa_buf_init(&t, body_max + 16 * 1024);
    if (r->xerr != AIPA_XERR_NONE) {
        aipa__note(&t, "(no response: %s: %s)\n", aipa_xerr_name(r->xerr), r->xerr_msg);
    } else {
        aipa__note(&t, "HTTP %ld\n", r->status);
        for (size_t i = 0; i < r->header_count; i++) {
            aipa__note(&t, "%s: ", r->headers[i].name);
            put_redacted_params(&t, r->headers[i].value, strlen(r->headers[i].value), 1024);
            aipa__note(&t, "\n");
        }
        aipa__note(&t, "\n");
        if (r->body.len > 0) {
            size_t n = r->body.len < body_max ? r->body.len : body_max;

            for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char)r->body.ptr[i];

                if ((ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t') || ch == 0x7f) {
                    aipa__note(&t, "\\x%02x", ch);
                } else {
                    aipa__note(&t, "%c", ch);
                }
            }
            if (r->body.len > n) {
                aipa__note(&t, "\n[... %zu bytes in all]", r->body.len);
            }
        }
    }
    s = t.ptr != NULL ? aipa_buf_steal(&t, NULL) : aipa_strdup("");
    aipa_buf_cleanup(&t);
    if (s != NULL) {
        scrub(p, s);
    }
    return s;
}

static char *clean(char *s);

static void add_exchange(struct run *r, size_t step, size_t rep, char *req, char *resp, char *repro)
{
    struct aipa_result *res = r->res;
    struct aipa_exchange *p;
    const struct aipa_step *s = &r->c->steps[step];
    struct aipa_buf name;

    p = aipa_realloc(res->ex, (res->ex_count + 1) * sizeof(*p));
    if (p == NULL) {
        aipa_free(req);
        aipa_free(resp);
        aipa_free(repro);
        return;
    }
    res->ex = p;
    aipa_buf_init(&name, 256);
    aipa__note(&name, "steps[%zu]", step);
    if (s->name != NULL) {
        aipa__note(&name, " (%s)", s->name);
    }
    if (s->repeat > 1) {
        aipa__note(&name, " #%zu", rep);
    }
    p[res->ex_count].step = name.ptr != NULL ? aipa_buf_steal(&name, NULL) : aipa_strdup("");
    aipa_buf_cleanup(&name);
    p[res->ex_count].request = clean(req);
    p[res->ex_count].response = clean(resp);
    p[res->ex_count].repro = clean(repro);
    res->ex_count++;
}

/* Effective axis of a step: its pin, else the variant's. */
static struct aipa_variant step_variant(const struct aipa_step *s, const struct aipa_variant *v)
{
    struct aipa_variant e = *v;

    if (s->pin.sig != 0) {
        e.sig = s->pin.sig;
    }
    if (s->pin.shape != 0) {
        e.shape = s->pin.shape;
    }
    if (s->pin.fmt != 0) {
        e.fmt = s->pin.fmt;
    }
    return e;
}

static const char *v3_name(const char *common)
{
    if (strcmp(common, "Action") == 0) {
        return "x-acs-action";
    }
    if (strcmp(common, "Version") == 0) {
        return "x-acs-version";
    }
    if (strcmp(common, "Timestamp") == 0) {
        return "x-acs-date";
    }
    if (strcmp(common, "SignatureNonce") == 0) {
        return "x-acs-signature-nonce";
    }
    return "Authorization"; /* Signature, AccessKeyId */
}

/* Everything one request of a step needs, kept alive until it is sent. */
struct built_req {
    struct aipa_request req;
    struct aipa_params params;
    const char *omit[16];
    char ts[32];
    char wrong_secret[48];
    char unknown_key[48];
    struct aipa_buf set_ak, set_ts, set_nonce;
    struct aipa_kv token_header; /* V3 x-acs-security-token */
    /* What the reproduction line must repeat: a nonce the case chose or reuses, a secret
     * other than the default principal's (which `aipa call` reads from the environment). */
    bool repro_nonce, repro_secret;
    /* raw */
    struct aipa_buf raw_target, raw_body;
    struct aipa_buf raw_hdr_store;
    const char *raw_hdrs[32];
    unsigned want_fmt;
};

/* A value no STS issues (a space and '!'), for tamper "token": "malformed". */
#define MALFORMED_TOKEN "aipa malformed token!"

/*
 * The SecurityToken a step sends: its principal's (STS keys have one), or
 * what tamper.token says (FORMAT.md, Tampering). NULL: none.
 */
static const char *step_token(const struct aipa_profile *p, const struct aipa_principal *pr,
                              const struct aipa_tamper *t)
{
    const struct aipa_principal *other;

    if (t->token == NULL) {
        return pr != NULL ? pr->security_token : NULL;
    }
    if (strcmp(t->token, "omit") == 0) {
        return NULL;
    }
    if (strcmp(t->token, "malformed") == 0) {
        return MALFORMED_TOKEN;
    }
    other = aipa_profile_principal(p, t->token);
    return other != NULL ? other->security_token : NULL;
}

/*
 * Sends token the way the SDKs do: V1 (and unsigned) as the SecurityToken
 * parameter, V3 as the x-acs-security-token header, signed. A SecurityToken
 * the case itself sends wins.
 */
static aipa_err apply_token(struct built_req *br, const char *token)
{
    if (token == NULL || aipa_params_get(&br->params, "SecurityToken") != NULL) {
        return AIPA_OK;
    }
    if (br->req.sig == AIPA_SIG_V3) {
        br->token_header.name = "x-acs-security-token";
        br->token_header.value = token;
        br->req.extra_headers = &br->token_header;
        br->req.extra_header_count = 1;
        return AIPA_OK;
    }
    return aipa_params_add(&br->params, "SecurityToken", 13, token, strlen(token),
                           AIPA_PARAM_BUILT);
}

static void built_req_init(struct built_req *br)
{
    struct aipa_wire_limits lim = aipa_wire_default_limits();

    memset(br, 0, sizeof(*br));
    lim.max_total = 4u * AIPA_CASE_MAX_EXPANDED;
    lim.max_value = AIPA_CASE_MAX_EXPANDED;
    lim.max_name = 1024;
    lim.max_params = 256;
    aipa_request_init(&br->req);
    aipa_params_init(&br->params, &lim);
    aipa_buf_init(&br->set_ak, 1024);
    aipa_buf_init(&br->set_ts, 1024);
    aipa_buf_init(&br->set_nonce, 1024);
    aipa_buf_init(&br->raw_target, AIPA_CASE_MAX_EXPANDED + 1024);
    aipa_buf_init(&br->raw_body, AIPA_CASE_MAX_EXPANDED + 1024);
    aipa_buf_init(&br->raw_hdr_store, 64 * 1024);
}

static void built_req_cleanup(struct built_req *br)
{
    aipa_params_cleanup(&br->params);
    aipa_buf_cleanup(&br->set_ak);
    aipa_buf_cleanup(&br->set_ts);
    aipa_buf_cleanup(&br->set_nonce);
    aipa_buf_cleanup(&br->raw_target);
    aipa_buf_cleanup(&br->raw_body);
    aipa_buf_cleanup(&br->raw_hdr_store);
}

/* The raw request of step s (a case that writes the bytes itself), expanded. */
static aipa_err prepare_raw(struct run *r, const struct aipa_step *s, struct built_req *br,
                            struct aipa_buf *val, struct aipa_buf *why)
{
    aipa_err e;
    size_t offs[32];

    e = aipa_run_env_expand(&r->env, s->raw->target, true, &br->raw_target, why);
    if (e == AIPA_OK) {
        e = aipa_run_env_expand(&r->env, s->raw->body, true, &br->raw_body, why);
    }
    for (size_t i = 0; e == AIPA_OK && i < s->raw->header_count && i < 32; i++) {
        aipa_buf_reset(val);
        e = aipa_run_env_expand(&r->env, s->raw->headers[i].value, true, val, why);
        offs[i] = br->raw_hdr_store.len;
        if (e == AIPA_OK) {
            e = aipa_buf_printf(&br->raw_hdr_store, "%s: %s", s->raw->headers[i].name, val->ptr);
        }
        if (e == AIPA_OK) {
            e = aipa_buf_putc(&br->raw_hdr_store, '\0');
        }
    }
    if (e != AIPA_OK) {
        return e;
    }
    for (size_t i = 0; i < s->raw->header_count && i < 32; i++) {
        br->raw_hdrs[i] = br->raw_hdr_store.ptr + offs[i];
    }
    br->req.raw = true;
    br->req.raw_method = s->raw->method;
    br->req.raw_target = (const uint8_t *)br->raw_target.ptr;
    br->req.raw_target_len = br->raw_target.len;
    br->req.raw_headers = br->raw_hdrs;
    br->req.raw_header_count = s->raw->header_count < 32 ? s->raw->header_count : 32;
    br->req.raw_body = (const uint8_t *)br->raw_body.ptr;
    br->req.raw_body_len = br->raw_body.len;
    br->want_fmt = 0;
    return AIPA_OK;
}

/* The parameters of step s and the tamper's set values, expanded, into br. */
static aipa_err prepare_params(struct run *r, const struct aipa_step *s, struct built_req *br,
                               struct aipa_buf *val, struct aipa_buf *why)
{
    const struct aipa_tamper *t = &s->tamper;
    aipa_err e = AIPA_OK;

    for (size_t i = 0; e == AIPA_OK && i < s->param_count; i++) {
        aipa_buf_reset(val);
        e = aipa_run_env_expand(&r->env, s->params[i].value, true, val, why);
        if (e == AIPA_OK) {
            e = aipa_params_add(&br->params, s->params[i].name, strlen(s->params[i].name),
                                val->ptr, val->len, AIPA_PARAM_BUILT);
        }
    }
    for (size_t i = 0; e == AIPA_OK && i < t->set_count; i++) {
        const char *n = t->set[i].name;
        struct aipa_buf *dst = strcmp(n, "AccessKeyId") == 0      ? &br->set_ak
                               : strcmp(n, "Timestamp") == 0      ? &br->set_ts
                               : strcmp(n, "SignatureNonce") == 0 ? &br->set_nonce
                                                                  : NULL;

        aipa_buf_reset(val);
        e = aipa_run_env_expand(&r->env, t->set[i].value, true, val, why);
        if (e != AIPA_OK) {
            break;
        }
        if (dst != NULL) {
            e = aipa_buf_append(dst, val->ptr, val->len);
            if (e == AIPA_OK && dst->ptr == NULL) {
                e = aipa_buf_puts(dst, "");
            }
        } else {
            aipa_params_remove(&br->params, n);
            e = aipa_params_add(&br->params, n, strlen(n), val->ptr, val->len, AIPA_PARAM_BUILT);
        }
    }
    return e;
}

/*
 * Prepares request rep of step si. Returns AIPA_OK, or AIPA_EPARSE when a
 * substitution failed (reason in why: a harness error).
 */
static aipa_err prepare(struct run *r, size_t si, size_t rep, struct built_req *br,
                        struct aipa_buf *why)
{
    const struct aipa_step *s = &r->c->steps[si];
    const struct aipa_profile *p = r->rn->p;
    struct aipa_buf val;
    aipa_err e = AIPA_OK;

    r->env.rep = rep;
    aipa_buf_init(&val, AIPA_CASE_MAX_EXPANDED + 1);
    if (s->raw != NULL) {
        e = prepare_raw(r, s, br, &val, why);
        goto out;
    } else {
        struct aipa_variant ev = step_variant(s, &r->v);
        const struct aipa_principal *pr = aipa_profile_principal(p, s->principal);
        const struct aipa_tamper *t = &s->tamper;
        size_t no = 0;

        e = prepare_params(r, s, br, &val, why);
        if (e != AIPA_OK) {
            goto out;
        }
        br->req.params = &br->params;
        br->req.sig = ev.sig == AIPA_VSIG_V3 ? AIPA_SIG_V3 : AIPA_SIG_V1;
        if (t->flags & AIPA_TAMPER_UNSIGNED) {
            br->req.sig = AIPA_SIG_NONE;
        }
        br->req.shape = ev.shape == AIPA_VSHAPE_GET          ? AIPA_SHAPE_GET
                        : ev.shape == AIPA_VSHAPE_POST_QUERY ? AIPA_SHAPE_POST_QUERY
                                                             : AIPA_SHAPE_POST_FORM;
        br->req.want = ev.fmt == AIPA_VFMT_XML ? AIPA_WANT_XML : AIPA_WANT_JSON;
        br->want_fmt = ev.fmt;
        if (pr != NULL) {
            br->req.access_key_id = pr->access_key_id;
            br->req.secret = pr->secret;
            br->repro_secret = strcmp(pr->name, "default") != 0;
        }
        if (t->flags & AIPA_TAMPER_WRONG_SECRET) {
            snprintf(br->wrong_secret, sizeof(br->wrong_secret), "aipa-wrong-secret-%zu", si);
            br->req.secret = br->wrong_secret;
            br->repro_secret = true;
        }
        if (t->flags & AIPA_TAMPER_UNKNOWN_KEY) {
            snprintf(br->unknown_key, sizeof(br->unknown_key), "aipa-unknown-key-%zu", si);
            br->req.access_key_id = br->unknown_key;
        }
        if (t->flags & (AIPA_TAMPER_TS_STALE | AIPA_TAMPER_TS_FUTURE)) {
            int64_t now = (int64_t)time(NULL);

            aipa_format_timestamp(now + ((t->flags & AIPA_TAMPER_TS_STALE) ? -3600 : 3600), br->ts);
            br->req.timestamp = br->ts;
        } else if (t->flags & AIPA_TAMPER_TS_MALFORMED) {
            snprintf(br->ts, sizeof(br->ts), "2016-02-23 12:46:24");
            br->req.timestamp = br->ts;
        }
        if (br->set_ak.ptr != NULL) {
            br->req.access_key_id = br->set_ak.ptr;
        }
        if (br->set_ts.ptr != NULL) {
            br->req.timestamp = br->set_ts.ptr;
        }
        /* Every request carries a nonce the runner chose, so a later step can reuse it. */
        if ((t->flags & AIPA_TAMPER_REUSE_NONCE) && si > 0 && r->nonces[si - 1][0] != '\0') {
            memcpy(r->nonces[si], r->nonces[si - 1], sizeof(r->nonces[si]));
        } else if ((e = aipa_client_nonce(r->nonces[si])) != AIPA_OK) {
            goto out;
        }
        br->req.nonce = r->nonces[si];
        br->repro_nonce = (t->flags & AIPA_TAMPER_REUSE_NONCE) != 0;
        if (br->set_nonce.ptr != NULL) {
            br->req.nonce = br->set_nonce.ptr;
            br->repro_nonce = true;
        }
        if (e == AIPA_OK) {
            e = apply_token(br, step_token(p, pr, t));
        }
        for (size_t i = 0; i < t->omit_count && no < AIPA_ARRAY_LEN(br->omit); i++) {
            /* An omitted name may also be one the case itself sends (Action): drop both. */
            aipa_params_remove(&br->params, t->omit[i]);
            br->omit[no++] = br->req.sig == AIPA_SIG_V3 ? v3_name(t->omit[i]) : t->omit[i];
        }
        br->req.omit = br->omit;
        br->req.omit_count = no;
    }
out:
    aipa_buf_cleanup(&val);
    return e;
}

/* Parses resp into doc and fills obs. */
static void observe(const struct aipa_response *resp, unsigned want_fmt, const char *action,
                    struct aipa_doc *doc, struct aipa_buf *why, struct aipa_observed *obs)
{
    const char *enc;

    memset(obs, 0, sizeof(*obs));
    obs->want_fmt = want_fmt;
    obs->action = action;
    obs->content_type = resp->content_type;
    if (resp->xerr != AIPA_XERR_NONE) {
        obs->transport = aipa_xerr_desc(resp->xerr);
        return;
    }
    obs->status = resp->status;
    if (resp->body.len == 0) {
        obs->parse_error = "empty body";
        return;
    }
    /* The runner offers no encoding (no Accept-Encoding): a coded body is not the answer. */
    enc = aipa_response_header(resp, "Content-Encoding");
    if (enc != NULL && enc[0] != '\0' && strcasecmp(enc, "identity") != 0) {
        aipa__note(why, "Content-Encoding: %.60s, which the request did not ask for", enc);
        obs->parse_error = why->ptr != NULL ? why->ptr : "an unasked Content-Encoding";
        return;
    }
    if (aipa_parse_body(
            AIPA_BODY_UNKNOWN, resp->content_type[0] != '\0' ? resp->content_type : NULL,
            (const uint8_t *)resp->body.ptr, resp->body.len, NULL, doc, why) == AIPA_OK) {
        obs->root = doc->root;
        obs->root_name = doc->format == AIPA_BODY_XML ? doc->root_name : NULL;
        obs->body_fmt = doc->format == AIPA_BODY_XML    ? AIPA_VFMT_XML
                        : doc->format == AIPA_BODY_JSON ? AIPA_VFMT_JSON
                                                        : 0;
    } else {
        obs->parse_error = why->ptr != NULL ? why->ptr : "unparseable body";
    }
}

struct par_slot {
    struct run *r;
    struct aipa_client *cl;
    struct aipa_built *b;
    struct aipa_response *resp;
    aipa_err e;
};

static void *par_send(void *arg)
{
    struct par_slot *ps = arg;

    ps->e = aipa_client_send(ps->cl, ps->b, ps->resp);
    return NULL;
}

static void keep_reason(struct run *r, size_t si, const char *what, const struct aipa_buf *why)
{
    const struct aipa_step *s = &r->c->steps[si];

    aipa__note(&r->reason, "%ssteps[%zu]%s%s%s: %s%s", r->reason.len > 0 ? "; " : "", si,
               s->name != NULL ? " (" : "", s->name != NULL ? s->name : "",
               s->name != NULL ? ")" : "", what, why->ptr != NULL ? why->ptr : "");
}

/* --rate: waits for this request's slot; slots are 1/rate apart across all jobs. */
static void pace(struct runner *rn)
{
    double at;
    double now;

    if (!(rn->o->rate > 0)) {
        return;
    }
    pthread_mutex_lock(&rn->lock);
    now = now_ms() / 1e3;
    at = rn->next_send > now ? rn->next_send : now;
    rn->next_send = at + 1.0 / rn->o->rate;
    pthread_mutex_unlock(&rn->lock);
    if (at > now) {
        double d = at - now;
        struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};

        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }
}

/*
 * True when the answer is throttling, as the official SDKs and aliyun-cli
 * now decide it: an error (4xx/5xx) that carries x-acs-retry-after, whatever
 * its Code, or a Code that names Throttling.
 */
static bool is_throttling(const struct aipa_response *resp)
{
    struct aipa_doc doc;
    struct aipa_buf why;
    const char *code;
    bool yes = false;

    if (resp->xerr == AIPA_XERR_NONE && resp->status >= 400 &&
        aipa_response_header(resp, "x-acs-retry-after") != NULL) {
        return true;
    }
    if (resp->xerr != AIPA_XERR_NONE || resp->body.len == 0 ||
        memmem(resp->body.ptr, resp->body.len, "Throttling", 10) == NULL) {
        return false;
    }
    aipa_doc_init(&doc);
    aipa_buf_init(&why, 1024);
    if (aipa_parse_body(
            AIPA_BODY_UNKNOWN, resp->content_type[0] != '\0' ? resp->content_type : NULL,
            (const uint8_t *)resp->body.ptr, resp->body.len, NULL, &doc, &why) == AIPA_OK) {
        code = aipa_path_string(doc.root, "Code");
        yes = code != NULL && strstr(code, "Throttling") != NULL;
    }
    aipa_doc_cleanup(&doc);
    aipa_buf_cleanup(&why);
    return yes;
}

static bool step_expects_throttling(const struct aipa_step *s)
{
    for (size_t k = 0; k < s->outcome_count; k++) {
        if (s->outcomes[k].code != NULL && strstr(s->outcomes[k].code, "Throttling") != NULL) {
            return true;
        }
    }
    return false;
}

/*
 * The wait before retry `attempt` (0-based): what x-acs-retry-after asked for
 * (milliseconds, as the SDKs read it), else 100 ms doubling; at most 10 s.
 */
static long throttle_wait_ms(const struct aipa_response *resp, unsigned attempt)
{
    const char *h = aipa_response_header(resp, "x-acs-retry-after");
    long ms = 100L << (attempt < 6 ? attempt : 6);

    if (h != NULL) {
        char *end;
        long v;

        errno = 0;
        v = strtol(h, &end, 10);
        if (errno == 0 && end != h && *end == '\0' && v >= 0) {
            ms = v;
        }
    }
    return ms < 10000 ? ms : 10000;
}

/*
 * Sends request i of step si. A Throttling answer the step does not expect
 * is not the target's verdict on the case: after the wait the target asked
 * for, the request is prepared and built again (a fresh nonce and
 * timestamp) and resent, at most throttle_retries times; only the last
 * answer is judged. Returns what aipa_client_send or the rebuild returned.
 */
static aipa_err send_step_request(struct run *r, size_t si, unsigned i, struct built_req *br,
                                  struct aipa_built *b, struct aipa_response *resp,
                                  struct aipa_buf *why)
{
    const struct aipa_step *s = &r->c->steps[si];
    aipa_err e;

    pace(r->rn);
    e = aipa_client_send(r->cl, b, resp);
    r->requests++;
    for (unsigned attempt = 0; e == AIPA_OK && attempt < r->rn->o->throttle_retries &&
                               !step_expects_throttling(s) && is_throttling(resp);
         attempt++) {
        long ms = throttle_wait_ms(resp, attempt);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

        r->throttled++;
        nanosleep(&ts, NULL);
        if (!br->req.raw) {
            built_req_cleanup(br);
            built_req_init(br);
            aipa_built_cleanup(b);
            aipa_built_init(b);
            e = prepare(r, si, i, br, why);
            if (e == AIPA_OK) {
                e = aipa_client_build(r->cl, &br->req, b);
            }
            if (e != AIPA_OK) {
                aipa__note(why, "the request could not be rebuilt after throttling: %s",
                           aipa_strerror(e));
                return e;
            }
        }
        pace(r->rn);
        e = aipa_client_send(r->cl, b, resp);
        r->requests++;
    }
    return e;
}

/* Sends the n built requests of one step at once, each on its own connection. */
static aipa_err send_parallel(struct run *r, unsigned n, struct aipa_built *bs,
                              struct aipa_response *resps)
{
    struct par_slot slots[AIPA_CASE_MAX_REPEAT];
    pthread_t th[AIPA_CASE_MAX_REPEAT];
    bool started[AIPA_CASE_MAX_REPEAT] = {false};
    aipa_err e = AIPA_OK;

    for (unsigned i = 0; i < n; i++) {
        slots[i] = (struct par_slot){r, NULL, &bs[i], &resps[i], AIPA_OK};
    }
    for (unsigned i = 0; i < n; i++) {
        e = new_plain_client(&slots[i].cl, r->rn->target, r->rn->o->timeout_ms);
        if (e != AIPA_OK) {
            break;
        }
    }
    for (unsigned i = 0; e == AIPA_OK && i < n; i++) {
        started[i] = pthread_create(&th[i], NULL, par_send, &slots[i]) == 0;
        if (!started[i]) {
            par_send(&slots[i]); /* no thread left: send it here */
        }
    }
    for (unsigned i = 0; i < n; i++) {
        if (started[i]) {
            pthread_join(th[i], NULL);
        }
        if (slots[i].e != AIPA_OK && e == AIPA_OK) {
            e = slots[i].e;
        }
        aipa_client_free(slots[i].cl);
    }
    r->requests += n;
    return e;
}

/* Keeps the transcript of request i of step si: request, response and a replay line. */
static void keep_exchange(struct run *r, size_t si, unsigned i, struct built_req *br,
                          struct aipa_built *b, struct aipa_response *resp, enum aipa_verdict rv)
{
    const struct aipa_step *s = &r->c->steps[si];
    struct aipa_buf repro;
    char *req_text = br->req.raw ? render_raw_request(br->req.raw_method, &br->raw_target,
                                                      s->raw->headers, s->raw->header_count,
                                                      &br->raw_body)
                                 : render_request(r->rn->p, b);
    struct aipa_request rq = br->req;

    /* A fixed nonce would make the replay a SignatureNonceUsed of its own. */
    if (!br->repro_nonce) {
        rq.nonce = NULL;
    }
    if (!br->repro_secret) {
        rq.secret = NULL;
    }
    aipa_buf_init(&repro, 64 * 1024);
    if (aipa_client_repro(r->cl, &rq, &repro) != AIPA_OK) {
        aipa_buf_reset(&repro);
    }
    if (repro.ptr != NULL) {
        scrub(r->rn->p, repro.ptr);
    }
    add_exchange(r, si, i, req_text,
                 render_response(r->rn->p, resp, rv == AIPA_V_PASS ? 8192 : TRANSCRIPT_BODY_MAX),
                 repro.ptr != NULL ? aipa_buf_steal(&repro, NULL) : NULL);
    aipa_buf_cleanup(&repro);
}

/* The step's across-repeat checks over its n answers; v raised to FAIL if one fails. */
static enum aipa_verdict match_across(struct run *r, size_t si, const struct aipa_observed *obs,
                                      unsigned n, enum aipa_verdict v)
{
    struct aipa_buf rs;

    aipa_buf_init(&rs, 64 * 1024);
    if (aipa_match_across(&r->c->steps[si], r->rn->o->edition, obs, n, &rs) == AIPA_V_FAIL) {
        keep_reason(r, si, "", &rs);
        v = v > AIPA_V_FAIL ? v : AIPA_V_FAIL;
    }
    aipa_buf_cleanup(&rs);
    return v;
}

/*
 * Records how long the answer took (for the per-Action p50/p99 of the
 * reports) and applies the latency gate: an answer slower than
 * --max-response-ms fails the case, whatever it said.
 */
static enum aipa_verdict judge_latency(struct run *r, const struct built_req *br,
                                       const struct aipa_response *resp, enum aipa_verdict rv,
                                       struct aipa_buf *reason)
{
    double bound = r->rn->o->max_response_ms;
    const char *action = br->req.raw ? "raw" : aipa_params_value(&br->params, "Action");
    struct aipa_latency *p;

    if (resp->status == 0) {
        return rv; /* no answer: nothing to time */
    }
    p = aipa_realloc(r->res->lat, (r->res->lat_count + 1) * sizeof(*p));
    if (p != NULL) {
        r->res->lat = p;
        snprintf(p[r->res->lat_count].action, sizeof(p->action), "%s",
                 action != NULL && action[0] != '\0' ? action : "(none)");
        p[r->res->lat_count].ms = resp->elapsed_ms;
        r->res->lat_count++;
    }
    if (bound > 0 && resp->elapsed_ms > bound &&
        (rv == AIPA_V_PASS || rv == AIPA_V_PASS_NONSTRICT || rv == AIPA_V_FAIL)) {
        aipa__note(reason, "%sanswered in %.0f ms, over the --max-response-ms bound of %.0f ms",
                   rv == AIPA_V_FAIL && reason->len > 0 ? "; " : "", resp->elapsed_ms, bound);
        return AIPA_V_FAIL;
    }
    return rv;
}

/* Runs step si; returns its verdict (PASS, PASS_NONSTRICT, FAIL, ERROR). */
/* A wire step: raw bytes on their own connection (conform_wire.c). */
static enum aipa_verdict run_wire_step(struct run *r, size_t si)
{
    struct aipa_buf rs;
    char *req_text = NULL, *resp_text = NULL;
    enum aipa_verdict v;

    aipa_buf_init(&rs, 64 * 1024);
    v = aipa__run_wire(r->rn->target, &r->c->steps[si], r->rn->o->edition, &r->env, &rs,
                       &req_text, &resp_text);
    r->requests++;
    if (req_text != NULL) {
        add_exchange(r, si, 0, req_text, resp_text != NULL ? resp_text : aipa_strdup(""), NULL);
    } else {
        aipa_free(resp_text);
    }
    if (v != AIPA_V_PASS) {
        keep_reason(r, si, "", &rs);
    }
    aipa_buf_cleanup(&rs);
    r->env.steps_done = si + 1;
    return v;
}

/*
 * Answer i of step si: observed, judged against the step's outcomes and the
 * latency bound, its transcript and reason kept. The verdict of this answer.
 */
static enum aipa_verdict judge_answer(struct run *r, size_t si, unsigned i, struct built_req *br,
                                      struct aipa_built *b, struct aipa_response *resp,
                                      struct aipa_doc *doc, struct aipa_buf *why,
                                      struct aipa_observed *obs)
{
    const struct aipa_step *s = &r->c->steps[si];
    enum aipa_verdict rv;
    struct aipa_buf rs;

    observe(resp, br->want_fmt, br->req.raw ? NULL : aipa_params_value(&br->params, "Action"),
            doc, why, obs);
    aipa_buf_init(&rs, 64 * 1024);
    if (resp->xerr == AIPA_XERR_CONNECT || resp->xerr == AIPA_XERR_TLS ||
        resp->xerr == AIPA_XERR_USAGE) {
        /* Not the target's answer: the harness could not reach it (or trust it). */
        aipa__note(&rs, "target unreachable (%s): %s", aipa_xerr_name(resp->xerr), resp->xerr_msg);
        rv = AIPA_V_ERROR;
    } else {
        rv = aipa_match_response(s, r->rn->o->edition, obs, &r->env, &rs);
        rv = judge_latency(r, br, resp, rv, &rs);
    }
    if (i < MAX_KEPT_REPEATS || rv == AIPA_V_FAIL || rv == AIPA_V_ERROR) {
        keep_exchange(r, si, i, br, b, resp, rv);
    }
    if (rv == AIPA_V_PASS_NONSTRICT || rv == AIPA_V_FAIL || rv == AIPA_V_ERROR) {
        struct aipa_buf what;

        aipa_buf_init(&what, 64);
        if (s->repeat > 1) {
            aipa__note(&what, "#%u: ", i);
        }
        keep_reason(r, si, what.ptr != NULL ? what.ptr : "", &rs);
        aipa_buf_cleanup(&what);
    }
    aipa_buf_cleanup(&rs);
    return rv;
}

static enum aipa_verdict run_api_step(struct run *r, size_t si)
{
    const struct aipa_step *s = &r->c->steps[si];
    unsigned n = s->repeat;
    struct built_req *brs = aipa_calloc(n, sizeof(*brs));
    struct aipa_built *bs = aipa_calloc(n, sizeof(*bs));
    struct aipa_response *resps = aipa_calloc(n, sizeof(*resps));
    struct aipa_doc *docs = aipa_calloc(n, sizeof(*docs));
    struct aipa_observed *obs = aipa_calloc(n, sizeof(*obs));
    struct aipa_buf *whys = aipa_calloc(n, sizeof(*whys));
    struct aipa_buf why;
    enum aipa_verdict v = AIPA_V_PASS;
    bool send_par = s->parallel && n > 1;
    unsigned inited = 0;

    aipa_buf_init(&why, 64 * 1024);
    if (brs == NULL || bs == NULL || resps == NULL || docs == NULL || obs == NULL || whys == NULL) {
        aipa__note(&why, "out of memory");
        keep_reason(r, si, "", &why);
        v = AIPA_V_ERROR;
        goto out;
    }
    for (unsigned i = 0; i < n; i++, inited++) {
        built_req_init(&brs[i]);
        aipa_built_init(&bs[i]);
        aipa_response_init(&resps[i]);
        aipa_doc_init(&docs[i]);
        aipa_buf_init(&whys[i], 4096);
    }
    for (unsigned i = 0; i < n; i++) {
        aipa_err e = prepare(r, si, i, &brs[i], &why);

        if (e == AIPA_OK) {
            aipa_buf_reset(&why);
            e = aipa_client_build(r->cl, &brs[i].req, &bs[i]);
            if (e != AIPA_OK) {
                aipa__note(&why, "the request could not be built: %s", aipa_strerror(e));
            }
        }
        if (e != AIPA_OK) {
            keep_reason(r, si, "", &why);
            v = AIPA_V_ERROR;
            goto out;
        }
        if (!send_par) {
            e = send_step_request(r, si, i, &brs[i], &bs[i], &resps[i], &why);
            if (e != AIPA_OK) {
                aipa__note(&why, "send failed: %s", aipa_strerror(e));
                keep_reason(r, si, "", &why);
                v = AIPA_V_ERROR;
                goto out;
            }
        }
    }
    if (send_par) {
        aipa_err e = send_parallel(r, n, bs, resps);

        if (e != AIPA_OK) {
            aipa__note(&why, "parallel send failed: %s", aipa_strerror(e));
            keep_reason(r, si, "", &why);
            v = AIPA_V_ERROR;
            goto out;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        enum aipa_verdict rv =
            judge_answer(r, si, i, &brs[i], &bs[i], &resps[i], &docs[i], &whys[i], &obs[i]);

        if (rv > v && rv != AIPA_V_SKIP) {
            v = rv;
        }
        if (rv == AIPA_V_ERROR) {
            goto out;
        }
    }
    if (n > 1 && s->across_count > 0 && v != AIPA_V_ERROR) {
        v = match_across(r, si, obs, n, v);
    }
    /* Later steps may refer to this one: keep the first parsed response. */
    if (n > 0 && docs[0].root != NULL) {
        r->docs[si] = docs[0];
        aipa_doc_init(&docs[0]);
        r->env.step_roots[si] = r->docs[si].root;
    }
out:
    r->env.steps_done = si + 1;
    for (unsigned i = 0; i < inited; i++) {
        built_req_cleanup(&brs[i]);
        aipa_built_cleanup(&bs[i]);
        aipa_response_cleanup(&resps[i]);
        aipa_doc_cleanup(&docs[i]);
        aipa_buf_cleanup(&whys[i]);
    }
    aipa_free(brs);
    aipa_free(bs);
    aipa_free(resps);
    aipa_free(docs);
    aipa_free(obs);
    aipa_free(whys);
    aipa_buf_cleanup(&why);
    return v;
}

/* One step: a wire step on its own connection, or an API request (repeated). */
static enum aipa_verdict run_step(struct run *r, size_t si)
{
    if (r->c->steps[si].wire != NULL) {
        return run_wire_step(r, si);
    }
    return run_api_step(r, si);
}

/*
 * ${pool.address} and ${pool.outside} of a run: read from the target's state
 * document right after the reset (conformance/FIXTURES.md). A document that
 * breaks the protocol is a harness error naming the rule.
 */
static aipa_err read_pool(struct run *r, struct aipa_buf *why)
{
    struct aipa_fixture_conn fc;
    struct aipa_response resp;
    struct aipa_buf prefix, reason;
    aipa_err e;

    aipa_buf_init(&prefix, 2048);
    aipa_buf_init(&reason, 1024);
    aipa_response_init(&resp);
    e = aipa_fixture_prefix(r->rn->target, &prefix);
    aipa_fixture_conn_init(&fc, aipa_client_tx(r->cl), prefix.ptr, NULL, r->rn->p->fixture_token);
    if (e == AIPA_OK) {
        e = aipa_fixture_call(&fc, "GET", "/_aipa/state", NULL, &resp);
        r->fx_requests++;
    }
    if (e == AIPA_OK && resp.xerr != AIPA_XERR_NONE) {
        aipa__note(why, "GET /_aipa/state: %s (%s)", aipa_xerr_desc(resp.xerr), resp.xerr_msg);
        e = AIPA_EIO;
    } else if (e == AIPA_OK && resp.status != 200) {
        aipa__note(why, "GET /_aipa/state answered %ld", resp.status);
        e = AIPA_EIO;
    } else if (e == AIPA_OK) {
        e = aipa_fxstate_read(resp.body.ptr != NULL ? resp.body.ptr : "", resp.body.len, &r->pool,
                              &reason);
        if (e == AIPA_EPARSE) {
            aipa__note(why,
                       "the target's state document (needed for ${pool.*}): %s "
                       "(conformance/FIXTURES.md; try aipa conform --check-fixtures)",
                       reason.ptr != NULL ? reason.ptr : "unusable");
        }
    }
    if (e == AIPA_OK) {
        r->env.pool_address = r->pool.pool_address;
        r->env.pool_outside = r->pool.pool_outside;
    }
    aipa_fixture_conn_cleanup(&fc);
    aipa_response_cleanup(&resp);
    aipa_buf_cleanup(&prefix);
    aipa_buf_cleanup(&reason);
    return e;
}

/* Creates the case's fixtures (or maps them statically). */
static enum aipa_verdict setup_fixtures(struct run *r, bool reset, struct aipa_buf *why)
{
    const struct aipa_case *c = r->c;
    const struct aipa_profile *p = r->rn->p;
    const char *tok = p->fixture_token;
    struct aipa_buf reply;
    enum aipa_verdict v = AIPA_V_PASS;

    aipa_buf_init(&reply, FIXTURE_REPLY_MAX);
    if (!p->fixture_protocol) {
        for (size_t f = 0; f < c->fixture_count; f++) {
            const struct aipa_fixture *fx = &c->fixtures[f];
            char key[256];
            const cJSON *id;

            r->env.fixture_ids[f] = aipa_calloc(fx->count, sizeof(char *));
            if (r->env.fixture_ids[f] == NULL) {
                v = AIPA_V_ERROR;
                goto out;
            }
            for (unsigned k = 0; k < fx->count; k++) {
                snprintf(key, sizeof(key), "%s:%s%s", c->id, fx->name, k > 0 ? "#" : "");
                if (k > 0) {
                    snprintf(key + strlen(key), sizeof(key) - strlen(key), "%u", k);
                }
                id = cJSON_GetObjectItemCaseSensitive(p->static_fixtures, key);
                if (id == NULL && k == 0) {
                    id = cJSON_GetObjectItemCaseSensitive(p->static_fixtures, fx->name);
                }
                if (!cJSON_IsString(id)) {
                    aipa__note(why,
                               "fixture %s unavailable (no fixture protocol; the profile "
                               "maps no instance to it)",
                               fx->name);
                    v = AIPA_V_SKIP;
                    goto out;
                }
                r->env.fixture_ids[f][k] = aipa_strdup(id->valuestring);
                if (r->env.fixture_ids[f][k] == NULL) {
                    v = AIPA_V_ERROR;
                    goto out;
                }
            }
        }
        goto out;
    }
    r->fx_requests += (reset ? 1u : 0u) + (c->pool_free >= 0 ? 1u : 0u);
    if (reset && fixture_expect(r->cl, r->rn->target, tok, "POST", "/_aipa/reset", "{}", 200,
                                &reply, why) != AIPA_OK) {
        v = AIPA_V_ERROR;
        goto out;
    }
    if (c->uses_pool && read_pool(r, why) != AIPA_OK) {
        v = AIPA_V_ERROR;
        goto out;
    }
    if (c->pool_free >= 0) {
        char body[64];

        snprintf(body, sizeof(body), "{\"Free\":%ld}", c->pool_free);
        if (fixture_expect(r->cl, r->rn->target, tok, "PUT", "/_aipa/pool", body, 200, &reply,
                           why) != AIPA_OK) {
            v = AIPA_V_ERROR;
            goto out;
        }
    }
    for (size_t f = 0; f < c->fixture_count; f++) {
        const struct aipa_fixture *fx = &c->fixtures[f];
        char *body = NULL;
        aipa_err be = aipa_run_env_fixture_body(&r->env, fx->state, &body, why);

        r->env.fixture_ids[f] = aipa_calloc(fx->count, sizeof(char *));
        if (be != AIPA_OK || r->env.fixture_ids[f] == NULL) {
            cJSON_free(body);
            aipa__note(why, be == AIPA_EPARSE ? " (fixture %s)" : "out of memory (fixture %s)",
                       fx->name);
            v = AIPA_V_ERROR;
            goto out;
        }
        for (unsigned k = 0; k < fx->count; k++) {
            long status = 0;
            char id[AIPA_FIXTURE_ID_MAX];
            aipa_err e = fixture_call(r->cl, r->rn->target, tok, "POST", "/_aipa/instances", body,
                                      &status, &reply, why);

            r->fx_requests++;

            if (e == AIPA_OK) {
                if ((status == 200 || status == 201) &&
                    aipa_fixture_instance_id(&reply, id, sizeof(id)) == AIPA_OK) {
                    r->env.fixture_ids[f][k] = aipa_strdup(id);
                } else {
                    aipa__note(why, "fixture %s: POST /_aipa/instances answered %ld: ", fx->name,
                               status);
                    aipa__quote(why, reply.ptr, 300);
                    e = AIPA_EIO;
                }
            }
            if (e == AIPA_OK && r->env.fixture_ids[f][k] == NULL) {
                e = AIPA_ENOMEM;
            }
            if (e != AIPA_OK) {
                cJSON_free(body);
                v = AIPA_V_ERROR;
                goto out;
            }
        }
        cJSON_free(body);
    }
out:
    aipa_buf_cleanup(&reply);
    return v;
}

static void set_reason(struct aipa_result *res, const char *s)
{
    aipa_free(res->reason);
    res->reason = s != NULL && s[0] != '\0' ? aipa__utf8_dup(s) : NULL;
}

/* Takes s and returns it as valid UTF-8 (s itself when it already is). */
static char *clean(char *s)
{
    char *c;

    if (s == NULL) {
        return NULL;
    }
    c = aipa__utf8_dup(s);
    aipa_free(s);
    return c;
}

static void run_job(struct runner *rn, struct aipa_client *cl, struct job *j)
{
    struct run r;
    struct aipa_buf why;
    enum aipa_verdict v = AIPA_V_PASS;
    double t0 = now_ms();

    memset(&r, 0, sizeof(r));
    r.rn = rn;
    r.cl = cl;
    r.c = j->c;
    r.v = j->v;
    r.res = j->res;
    r.env.c = j->c;
    r.env.region = rn->p->region;
    r.env.strict = rn->o->strict;
    aipa_buf_init(&r.reason, 256 * 1024);
    aipa_buf_init(&why, 64 * 1024);
    for (size_t i = 0; i < AIPA_CASE_MAX_STEPS; i++) {
        aipa_doc_init(&r.docs[i]);
    }
    /*
     * Reset before each case (its first variant); later variants make their
     * own instances, so they need no reset unless the case touches global
     * state (the pool, fixed IDs or addresses).
     */
    v = setup_fixtures(&r, (rn->reset_each && j->first) || j->serial, &why);
    if (v != AIPA_V_PASS) {
        aipa__note(&r.reason, "%s%s", v == AIPA_V_ERROR ? "fixture setup failed: " : "",
                   why.ptr != NULL ? why.ptr : "");
    }
    for (size_t si = 0;
         v != AIPA_V_FAIL && v != AIPA_V_ERROR && v != AIPA_V_SKIP && si < j->c->step_count; si++) {
        enum aipa_verdict sv = run_step(&r, si);

        if (sv > v) {
            v = sv;
        }
    }
    if (v == AIPA_V_FAIL && j->c->level == AIPA_LEVEL_SHOULD && !rn->o->strict) {
        struct aipa_buf t;

        aipa_buf_init(&t, 256 * 1024);
        aipa__note(&t, "SHOULD-level difference: %s", r.reason.ptr != NULL ? r.reason.ptr : "");
        aipa_buf_reset(&r.reason);
        aipa__note(&r.reason, "%s", t.ptr != NULL ? t.ptr : "");
        aipa_buf_cleanup(&t);
        v = AIPA_V_PASS_NONSTRICT;
    }
    j->res->verdict = v;
    j->res->ran = true;
    set_reason(j->res, r.reason.ptr);
    j->res->ms = now_ms() - t0;
    if (v == AIPA_V_PASS && !rn->o->keep_pass_transcripts) {
        for (size_t i = 0; i < j->res->ex_count; i++) {
            exchange_free(&j->res->ex[i]);
        }
        aipa_free(j->res->ex);
        j->res->ex = NULL;
        j->res->ex_count = 0;
    }
    for (size_t f = 0; f < AIPA_CASE_MAX_FIXTURES; f++) {
        for (size_t k = 0; r.env.fixture_ids[f] != NULL && k < j->c->fixtures[f].count; k++) {
            aipa_free(r.env.fixture_ids[f][k]);
        }
        aipa_free(r.env.fixture_ids[f]);
    }
    for (size_t i = 0; i < AIPA_CASE_MAX_STEPS; i++) {
        aipa_doc_cleanup(&r.docs[i]);
    }
    aipa_buf_cleanup(&r.reason);
    aipa_buf_cleanup(&why);
    pthread_mutex_lock(&rn->lock);
    rn->requests += r.requests;
    rn->fx_requests += r.fx_requests;
    rn->throttled += r.throttled;
    rn->done++;
    if (rn->o->progress != NULL) {
        rn->o->progress(rn->o->progress_ctx, j->res, rn->done, rn->total);
    }
    pthread_mutex_unlock(&rn->lock);
}

/* ---- scheduling ---- */

struct pool {
    struct runner *rn;
    struct job *jobs;
    size_t count;
    size_t next;
    pthread_mutex_t lock;
    aipa_err err;
};

static void *worker(void *arg)
{
    struct pool *pl = arg;
    struct aipa_client *cl = NULL;

    if (new_plain_client(&cl, pl->rn->target, pl->rn->o->timeout_ms) != AIPA_OK) {
        pthread_mutex_lock(&pl->lock);
        pl->err = AIPA_ENOMEM;
        pthread_mutex_unlock(&pl->lock);
        return NULL;
    }
    for (;;) {
        struct job *j = NULL;

        pthread_mutex_lock(&pl->lock);
        if (pl->next < pl->count) {
            j = &pl->jobs[pl->next++];
        }
        pthread_mutex_unlock(&pl->lock);
        if (j == NULL) {
            break;
        }
        run_job(pl->rn, cl, j);
    }
    aipa_client_free(cl);
    return NULL;
}

static aipa_err run_jobs(struct runner *rn, struct job *jobs, size_t n, unsigned threads)
{
    struct pool pl = {rn, jobs, n, 0, PTHREAD_MUTEX_INITIALIZER, AIPA_OK};
    pthread_t th[64];
    unsigned started = 0;

    if (n == 0) {
        return AIPA_OK;
    }
    if (threads > 64) {
        threads = 64;
    }
    if (threads <= 1) {
        worker(&pl);
        return pl.err;
    }
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&th[i], NULL, worker, &pl) == 0) {
            started++;
        }
    }
    if (started == 0) {
        worker(&pl);
    }
    for (unsigned i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
    }
    return pl.err;
}

/* A case must run alone (with a reset) when its fixtures touch global state. */
static bool needs_serial(const struct aipa_case *c)
{
    if (c->pool_free >= 0 || c->uses_pool) {
        return true;
    }
    for (size_t f = 0; f < c->fixture_count; f++) {
        const cJSON *st = c->fixtures[f].state;

        if (cJSON_GetObjectItemCaseSensitive(st, "InstanceId") != NULL ||
            cJSON_GetObjectItemCaseSensitive(st, "PublicIpAddress") != NULL ||
            cJSON_GetObjectItemCaseSensitive(st, "EipAddress") != NULL) {
            return true;
        }
    }
    return false;
}

static bool selected(const struct aipa_run_opts *o, const struct aipa_profile *p,
                     const struct aipa_case *c)
{
    bool any = o->only_count == 0;

    for (size_t i = 0; !any && i < o->only_count; i++) {
        any = aipa_case_matches(c, o->only[i]);
    }
    for (size_t i = 0; any && i < o->skip_count; i++) {
        any = !aipa_case_matches(c, o->skip[i]);
    }
    for (size_t i = 0; any && p != NULL && i < p->skip_count; i++) {
        any = !aipa_case_matches(c, p->skip[i]);
    }
    return any;
}

/*
 * The variants of c to run: the case's set, the profile's, the CLI's; an
 * axis every request step pins collapses to that pin.
 */
static struct aipa_variant_set case_variants(const struct aipa_case *c,
                                             const struct aipa_run_opts *o,
                                             const struct aipa_profile *p)
{
    struct aipa_variant_set vs = c->variants;
    unsigned pin_sig = 0, pin_shape = 0, pin_fmt = 0;
    bool all_sig = true, all_shape = true, all_fmt = true, any = false;

    vs.sig &= o->variants.sig & p->variants.sig;
    vs.shape &= o->variants.shape & p->variants.shape;
    vs.fmt &= o->variants.fmt & p->variants.fmt;
    for (size_t i = 0; i < c->step_count; i++) {
        const struct aipa_step *s = &c->steps[i];

        if (s->raw != NULL || s->wire != NULL) {
            continue;
        }
        any = true;
        all_sig = all_sig && s->pin.sig != 0;
        all_shape = all_shape && s->pin.shape != 0;
        all_fmt = all_fmt && s->pin.fmt != 0;
        pin_sig = pin_sig != 0 ? pin_sig : s->pin.sig;
        pin_shape = pin_shape != 0 ? pin_shape : s->pin.shape;
        pin_fmt = pin_fmt != 0 ? pin_fmt : s->pin.fmt;
    }
    /* A pinned axis still has to be one the target and the command line allow. */
    if (any && all_sig) {
        vs.sig = pin_sig & o->variants.sig & p->variants.sig;
    }
    if (any && all_shape) {
        vs.shape = pin_shape & o->variants.shape & p->variants.shape;
    }
    if (any && all_fmt) {
        vs.fmt = pin_fmt & o->variants.fmt & p->variants.fmt;
    }
    return vs;
}

/* Why a variant cannot run (NULL when it can). */
static const char *variant_blocker(const struct aipa_case *c, const struct aipa_variant *v,
                                   const struct aipa_variant_set *allowed, char *buf, size_t cap)
{
    for (size_t i = 0; i < c->step_count; i++) {
        const struct aipa_step *s = &c->steps[i];
        struct aipa_variant ev;

        if (s->raw != NULL || s->wire != NULL) {
            continue;
        }
        ev = step_variant(s, v);
        if ((ev.sig & allowed->sig) == 0 || (ev.shape & allowed->shape) == 0 ||
            (ev.fmt & allowed->fmt) == 0) {
            char name[AIPA_VARIANT_NAME_MAX];

            aipa_variant_name(&ev, name);
            snprintf(buf, cap, "steps[%zu] pins %s, which the profile or --variants excludes", i,
                     name);
            return buf;
        }
        if (ev.sig == AIPA_VSIG_V3 && s->tamper.v1_only) {
            snprintf(buf, cap, "steps[%zu]: the tamper has no V3 form", i);
            return buf;
        }
        if (ev.sig == AIPA_VSIG_V3 && ev.shape == AIPA_VSHAPE_POST_FORM) {
            snprintf(buf, cap, "steps[%zu]: V3 cannot carry a form body", i);
            return buf;
        }
    }
    return NULL;
}

/* Why the whole case cannot run (NULL when it can). */
static const char *case_blocker(const struct aipa_case *c, const struct aipa_run_opts *o,
                                const struct aipa_profile *p, char *buf, size_t cap)
{
    if (c->disabled != NULL) {
        snprintf(buf, cap, "disabled: %s", c->disabled);
        return buf;
    }
    if ((c->editions & o->edition) == 0) {
        snprintf(buf, cap, "not in edition %s", aipa_edition_name(o->edition));
        return buf;
    }
    if (c->pool_free >= 0 && !p->fixture_protocol) {
        snprintf(buf, cap, "needs pool control (fixture protocol)");
        return buf;
    }
    if (c->uses_pool && !p->fixture_protocol) {
        snprintf(buf, cap, "needs the target's state document for ${pool.*} (fixture protocol)");
        return buf;
    }
    if (c->fixture_count > 0 && !p->fixture_protocol && p->static_fixtures == NULL) {
        snprintf(buf, cap, "fixture %s unavailable (no fixture protocol, no static map)",
                 c->fixtures[0].name);
        return buf;
    }
    for (size_t i = 0; i < c->step_count; i++) {
        const char *tok = c->steps[i].tamper.token;
        const struct aipa_principal *other = NULL;

        if (c->steps[i].raw == NULL && c->steps[i].wire == NULL &&
            aipa_profile_principal(p, c->steps[i].principal) == NULL) {
            snprintf(buf, cap, "principal \"%s\" not configured", c->steps[i].principal);
            return buf;
        }
        if (tok != NULL && strcmp(tok, "omit") != 0 && strcmp(tok, "malformed") != 0 &&
            ((other = aipa_profile_principal(p, tok)) == NULL || other->security_token == NULL)) {
            snprintf(buf, cap, "principal \"%s\" with a SecurityToken not configured", tok);
            return buf;
        }
    }
    return NULL;
}

/* The jobs a run plans: one per case x variant that is not skipped. */
struct plan {
    struct job *jobs;
    size_t count;
    size_t cap;
};

/*
 * --rerun: keeps of vs[0..*nv) the variants the earlier report failed (all
 * of them when it failed the case as a whole). false: the case is not rerun.
 */
static bool rerun_keeps(const struct aipa_run_opts *o, const struct aipa_case *c, const char *why,
                        struct aipa_variant *vs, size_t *nv)
{
    size_t keep = 0;
    char name[AIPA_VARIANT_NAME_MAX];

    if (o->rerun == NULL) {
        return true;
    }
    if (why != NULL) {
        return aipa_rerun_wants(o->rerun, c->id, "-", o->edition);
    }
    for (size_t k = 0; k < *nv; k++) {
        aipa_variant_name(&vs[k], name);
        if (aipa_rerun_wants(o->rerun, c->id, name, o->edition) ||
            aipa_rerun_wants(o->rerun, c->id, "-", o->edition)) {
            vs[keep++] = vs[k];
        }
    }
    *nv = keep;
    return keep > 0;
}

static aipa_err plan_add(struct plan *pl, const struct aipa_case *c, struct aipa_variant v)
{
    if (pl->count == pl->cap) {
        size_t cap = pl->cap == 0 ? 256 : pl->cap * 2;
        struct job *pj = aipa_realloc(pl->jobs, cap * sizeof(*pj));

        if (pj == NULL) {
            return AIPA_ENOMEM;
        }
        pl->jobs = pj;
        pl->cap = cap;
    }
    pl->jobs[pl->count] = (struct job){c, v, NULL, needs_serial(c), false};
    pl->jobs[pl->count].first = pl->count == 0 || pl->jobs[pl->count - 1].c != c;
    pl->count++;
    return AIPA_OK;
}

/* One selected case: its skip results in report, and a job per variant that runs. */
static aipa_err plan_case(const struct aipa_case *c, const struct aipa_run_opts *o,
                          const struct aipa_profile *p, struct aipa_report *report,
                          struct plan *pl)
{
    struct aipa_variant vs[16];
    struct aipa_variant_set set;
    size_t nv;
    char buf[512];
    const char *why = case_blocker(c, o, p, buf, sizeof(buf));
    struct aipa_variant_set allowed = {o->variants.sig & p->variants.sig,
                                       o->variants.shape & p->variants.shape,
                                       o->variants.fmt & p->variants.fmt};

    set = case_variants(c, o, p);
    nv = c->all_raw ? 1 : aipa_variants_expand(&set, vs, AIPA_ARRAY_LEN(vs));
    if (c->all_raw) {
        vs[0] = (struct aipa_variant){0, 0, 0};
    }
    if (o->variant_pick != 0 && !c->all_raw) {
        size_t keep = 0;

        for (size_t k = 0; k < nv; k++) {
            if ((aipa_variant_pick_bit(&vs[k]) & o->variant_pick) != 0) {
                vs[keep++] = vs[k];
            }
        }
        nv = keep;
    }
    if (why == NULL && nv == 0) {
        why = "no variant left after the case, profile and --variants filters";
    }
    if (!rerun_keeps(o, c, why, vs, &nv)) {
        return AIPA_OK;
    }
    AIPA_TRY(report_reserve(report, why != NULL ? 1 : nv));
    if (why != NULL) {
        struct aipa_result *res = &report->items[report->count++];

        memset(res, 0, sizeof(*res));
        res->c = c;
        res->edition = o->edition;
        res->case_level = true;
        res->verdict = AIPA_V_SKIP;
        set_reason(res, why);
        return AIPA_OK;
    }
    for (size_t k = 0; k < nv; k++) {
        struct aipa_result *res = &report->items[report->count++];
        char vb[512];
        const char *vwhy = variant_blocker(c, &vs[k], &allowed, vb, sizeof(vb));

        memset(res, 0, sizeof(*res));
        res->c = c;
        res->edition = o->edition;
        res->variant = vs[k];
        if (vwhy != NULL) {
            res->verdict = AIPA_V_SKIP;
            set_reason(res, vwhy);
            continue;
        }
        AIPA_TRY(plan_add(pl, c, vs[k]));
    }
    return AIPA_OK;
}

/*
 * Runs the planned jobs. With parallel jobs and the fixture protocol, the
 * cases isolated by their own instances run in parallel after one reset, then
 * the serial ones one at a time.
 */
static aipa_err run_phases(struct runner *rn, struct job *jobs, size_t nj, struct aipa_buf *err)
{
    const struct aipa_run_opts *o = rn->o;
    struct aipa_client *cl = NULL;
    struct aipa_buf reply;
    struct job *par = NULL;
    struct job *ser = NULL;
    size_t np = 0, ns = 0;
    aipa_err e;

    if (o->jobs <= 1 || !rn->p->fixture_protocol) {
        return run_jobs(rn, jobs, nj, o->jobs);
    }
    aipa_buf_init(&reply, FIXTURE_REPLY_MAX);
    par = aipa_calloc(nj + 1, sizeof(*par));
    ser = aipa_calloc(nj + 1, sizeof(*ser));
    if (par == NULL || ser == NULL) {
        e = AIPA_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < nj; i++) {
        if (jobs[i].serial) {
            ser[ns++] = jobs[i];
        } else {
            par[np++] = jobs[i];
        }
    }
    e = new_plain_client(&cl, o->target, o->timeout_ms);
    if (e == AIPA_OK) {
        e = fixture_expect(cl, o->target, rn->p->fixture_token, "POST", "/_aipa/reset", "{}", 200,
                           &reply, err);
    }
    if (e == AIPA_OK) {
        e = run_jobs(rn, par, np, o->jobs);
    }
    if (e == AIPA_OK) {
        e = run_jobs(rn, ser, ns, 1);
    }
out:
    aipa_client_free(cl);
    aipa_buf_cleanup(&reply);
    aipa_free(par);
    aipa_free(ser);
    return e;
}

aipa_err aipa_run_suite(const struct aipa_suite *suite, const struct aipa_run_opts *o,
                        struct aipa_report *report, struct aipa_buf *err)
{
    struct runner rn;
    struct plan pl = {NULL, 0, 0};
    size_t first = report->count;
    aipa_err e = AIPA_OK;
    double t0 = now_ms();
    struct aipa_profile defaults;
    const struct aipa_profile *p = o->profile;

    if (o->target == NULL) {
        aipa__note(err, "no target");
        return AIPA_EINVAL;
    }
    memset(&defaults, 0, sizeof(defaults));
    if (p == NULL) {
        if (aipa_profile_init(&defaults) != AIPA_OK) {
            return AIPA_ENOMEM;
        }
        p = &defaults;
    }
    /* libxml2 must be initialised once before threads parse with it. */
    xmlInitParser();
    memset(&rn, 0, sizeof(rn));
    rn.suite = suite;
    rn.o = o;
    rn.p = p;
    rn.target = o->target;
    rn.reset_each = o->jobs <= 1;
    pthread_mutex_init(&rn.lock, NULL);

    /* Plan: one job per case x variant (or one case-level result). */
    for (size_t i = 0; i < suite->count && e == AIPA_OK; i++) {
        if (selected(o, p, suite->cases[i])) {
            e = plan_case(suite->cases[i], o, p, report, &pl);
        }
    }
    if (e != AIPA_OK) {
        aipa__note(err, "planning the run: %s", aipa_strerror(e));
        goto out;
    }
    /* Results are stable now (no more reallocation): point the jobs at them. */
    for (size_t i = first, j = 0; i < report->count && j < pl.count; i++) {
        const struct aipa_result *res = &report->items[i];

        if (!res->case_level && res->verdict != AIPA_V_SKIP) {
            pl.jobs[j++].res = &report->items[i];
        }
    }
    rn.total = pl.count;
    e = run_phases(&rn, pl.jobs, pl.count, err);
    if (e != AIPA_OK && err != NULL && err->len == 0) {
        aipa__note(err, "running: %s", aipa_strerror(e));
    }
out:
    report->requests += rn.requests;
    report->fixture_requests += rn.fx_requests;
    report->throttled += rn.throttled;
    report->wall_ms += now_ms() - t0;
    report->editions |= o->edition;
    pthread_mutex_destroy(&rn.lock);
    aipa_free(pl.jobs);
    if (p == &defaults) {
        aipa_profile_cleanup(&defaults);
    }
    return e;
}
