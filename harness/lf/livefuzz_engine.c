/*
 * livefuzz_engine.c: the campaign loop of `aipa fuzz`.
 *
 * The target is driven over the transport room (one keep-alive connection);
 * the reference model runs in-process (aipa_srv_handle, no network) with a
 * clock that reads the same second the request was signed for, so both
 * verify the same signature and see the same Timestamp. Requests run in
 * sequences: before each, both sides are reset through the fixture protocol
 * (/_aipa/reset, /_aipa/pool, /_aipa/instances) and get the same instance
 * fixtures; ${vmN} maps to each side's own InstanceId. Each new
 * (oracle, status, Code) bucket is confirmed by a replay from a fresh state,
 * minimized (ddmin over the earlier steps, then over the parameters, then
 * request-level simplifications and value shrinking) and saved as a case.
 */
#define _GNU_SOURCE /* memmem */
#include "aipa/client.h"
#include "aipa/fixture.h"
#include "aipa/livefuzz.h"
#include "aipa/parse.h"
#include "aipa/server.h"
#include "aipa/transport.h"
#include "livefuzz_int.h"

#include <errno.h>
#include <inttypes.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The instance states every sequence starts with (DescribeInstances field names). */
static const char *const fixture_states[] = {
    "{\"Status\":\"Running\"}",
    "{\"Status\":\"Stopped\"}",
    "{\"Status\":\"Starting\"}",
    "{\"Status\":\"Running\",\"OperationLocks\":{\"LockReason\":[{\"LockReason\":\"security\"}]}}",
    "{\"Status\":\"Running\",\"OperationLocks\":{\"LockReason\":[{\"LockReason\":\"financial\"}]}}",
    ("{\"Status\":\"Running\",\"InstanceNetworkType\":\"vpc\",\"EipAddress\":{\"AllocationId\":"
     "\"eip-fuzz0001\",\"IpAddress\":\"47.100.1.1\"}}"),
    "{\"Status\":\"Running\",\"InternetMaxBandwidthOut\":0}",
    "{\"Status\":\"Stopping\"}",
    "{\"Status\":\"Running\",\"InstanceNetworkType\":\"vpc\"}",
    "{\"Status\":\"Pending\"}",
};
#define FIXTURE_COUNT AIPA_ARRAY_LEN(fixture_states)

struct lf_side {
    char ids[AIPA_LF_MAX_FIXTURES][AIPA_INSTANCE_ID_MAX];
    const char *idp[AIPA_LF_MAX_FIXTURES];
    size_t id_count;
    char prev_nonce[72];
};

/*
 * --jobs N: the workers share one target. It is reset once at the start and
 * then only at a rendezvous of every worker, after epoch_seqs sequences in
 * all (so the shared address pool never drains); between rendezvous each
 * worker creates fixture instances with IDs of its own and leaves the
 * others' alone.
 */
struct lf_shared {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned active;  /* workers still running */
    unsigned arrived; /* workers waiting at the rendezvous */
    uint64_t generation;
    uint64_t seqs; /* sequences started since the last reset */
    uint64_t epoch_seqs;
    bool reset_failed;
};

struct engine {
    const struct aipa_lf_config *cfg;
    struct aipa_tx *tx;          /* the connection to the target */
    struct aipa_fixture_conn fc; /* the fixture protocol over tx */
    struct aipa_response xr;     /* the transfer in flight */
    struct aipa_lf_resp *xr_to;  /* where it lands */
    bool inflight;               /* it left (aipa_tx_begin started it) */
    struct aipa_tx_header txh[AIPA_SRV_MAX_HEADERS];
    struct aipa_tx_msg txm;
    char base[512]; /* scheme://host[:port] */
    char host[300]; /* host[:port], the Host header */
    struct aipa_srv *ref;
    int64_t ref_now;
    char token[96];
    bool diff;
    bool fixtures;
    unsigned edition;
    struct lf_side ts, rs;
    struct aipa_lf_gen gen;
    char salt[24];
    uint64_t nonce_n;
    long pool_free;
    struct aipa_lf_req hist[LF_MAX_SEQ];
    size_t hist_n;
    struct lf_finding findings[LF_MAX_FINDINGS];
    size_t finding_count;
    uint64_t dropped;
    struct aipa_lf_stats *stats;
    struct aipa_lf_wire wt, wr;
    struct aipa_lf_resp rt, rr;
    bool harness_failed;
    bool resync;  /* the two sides may differ: start a new sequence */
    bool tainted; /* this sequence had a finding: its end state proves nothing more */
    char harness_error[256];
    double last_progress;
    double start;
    uint64_t budget;       /* fuzz requests this engine sends */
    struct aipa_buf state; /* the target's seed state (JSON), for the workers' references */

    /* --jobs */
    bool shared;     /* one of several workers on one target */
    unsigned worker; /* its number, 0.. */
    uint64_t fixture_n;
    struct lf_shared *sh;
    struct aipa_lf_config wcfg;
    struct aipa_lf_stats wstats;
    /* InstanceIds of the target's seed state: shared by every worker, so never sent */
    char (*seed_ids)[AIPA_INSTANCE_ID_MAX];
    size_t seed_id_count;
    pthread_t thread;
    bool thread_started;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t ref_clock(void *ctx)
{
    return *(const int64_t *)ctx;
}

void aipa_lf_config_defaults(struct aipa_lf_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->requests = 1000;
    cfg->time_s = 60;
    cfg->seed = 1;
    cfg->seq_len = 64;
    cfg->timeout_ms = 5000;
    cfg->access_key_id = AIPA_DEMO_ACCESS_KEY_ID;
    cfg->access_key_secret = AIPA_DEMO_ACCESS_KEY_SECRET;
    cfg->diff = true;
    cfg->fixtures = true;
    cfg->minimize = true;
    cfg->min_budget = 300;
    cfg->argv0 = "aipa";
    cfg->jobs = 1;
}

bool aipa_lf_host_is_loopback(const char *host)
{
    if (host == NULL) {
        return false;
    }
    if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 || strcmp(host, "[::1]") == 0) {
        return true;
    }
    /* 127.0.0.0/8, written as a dotted quad */
    unsigned a, b, c, d;
    char tail;
    if (sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 &&
        c < 256 && d < 256) {
        return true;
    }
    return false;
}

/* ---- transport ---- */

static void resp_reset(struct aipa_lf_resp *resp)
{
    aipa_buf_reset(&resp->body);
    resp->status = 0;
    resp->content_type[0] = '\0';
    resp->timed_out = false;
    resp->transport_error = false;
    resp->truncated = false;
    resp->error[0] = '\0';
    resp->elapsed_ms = 0;
}

/*
 * A transfer to the target runs in two halves (aipa_tx_begin, then
 * aipa_tx_finish), so that the reference model can answer the same request
 * in-process while the target's answer is on its way.
 */
static void target_begin_msg(struct engine *e, struct aipa_lf_resp *resp, aipa_err begun)
{
    e->xr_to = resp;
    e->inflight = begun == AIPA_OK && e->xr.xerr == AIPA_XERR_NONE;
    if (begun != AIPA_OK) {
        e->xr.sent = false;
        (void)snprintf(e->xr.xerr_msg, sizeof(e->xr.xerr_msg), "%s", aipa_strerror(begun));
    }
}

/* The request w as the transport sends it (header slices point into w). */
static void target_begin(struct engine *e, const struct aipa_lf_wire *w, struct aipa_lf_resp *resp)
{
    struct aipa_header hs[AIPA_SRV_MAX_HEADERS];
    size_t n = aipa_lf_wire_headers(w, hs, AIPA_ARRAY_LEN(hs));

    resp_reset(resp);
    for (size_t i = 0; i < n; i++) {
        e->txh[i].name = (const char *)hs[i].name.ptr;
        e->txh[i].name_len = hs[i].name.len;
        e->txh[i].value = (const char *)hs[i].value.ptr;
        e->txh[i].value_len = hs[i].value.len;
    }
    memset(&e->txm, 0, sizeof(e->txm));
    e->txm.method = w->method;
    e->txm.target = w->target.ptr != NULL ? w->target.ptr : "/";
    e->txm.headers = e->txh;
    e->txm.header_count = n;
    e->txm.body = w->body.ptr;
    e->txm.body_len = w->body.len;
    target_begin_msg(e, resp, aipa_tx_begin(e->tx, &e->txm, &e->xr));
}

/* Waits for the target's answer and moves it into the aipa_lf_resp it was begun for. */
static void target_finish(struct engine *e)
{
    struct aipa_response *xr = &e->xr;
    struct aipa_lf_resp *resp = e->xr_to;
    aipa_err err = aipa_tx_finish(e->tx);
    struct aipa_buf t = resp->body;

    resp->body = xr->body; /* a swap: no copy of the body */
    xr->body = t;
    resp->truncated = xr->truncated;
    if (err != AIPA_OK || !e->inflight || !xr->sent) {
        /* libcurl refused to send it: a harness problem, never the target's */
        aipa_buf_reset(&resp->body);
        resp->transport_error = true;
        resp->status = -1;
        (void)snprintf(resp->error, sizeof(resp->error), "not sent: %.140s",
                       err != AIPA_OK ? aipa_strerror(err) : xr->xerr_msg);
    } else if (xr->xerr == AIPA_XERR_NONE || (xr->xerr == AIPA_XERR_TOO_LARGE && xr->status > 0)) {
        /* over the cap: the status and the start of the body, judged too-large */
        resp->truncated = resp->truncated || xr->xerr == AIPA_XERR_TOO_LARGE;
        resp->status = xr->status;
        resp->elapsed_ms = xr->elapsed_ms;
        (void)snprintf(resp->content_type, sizeof(resp->content_type), "%s", xr->content_type);
        if (xr->status == 0) {
            resp->transport_error = true;
            (void)snprintf(resp->error, sizeof(resp->error), "no HTTP status line");
        }
    } else if (xr->xerr == AIPA_XERR_TIMEOUT) {
        resp->timed_out = true;
        (void)snprintf(resp->error, sizeof(resp->error), "no response within %ld ms",
                       e->cfg->timeout_ms);
    } else {
        resp->transport_error = true;
        (void)snprintf(resp->error, sizeof(resp->error), "%.150s", xr->xerr_msg);
    }
    e->inflight = false;
}

static void ref_send(struct engine *e, const char *method, const char *target, size_t target_len,
                     const struct aipa_header *hs, size_t hn, const char *body, size_t body_len,
                     struct aipa_lf_resp *resp)
{
    struct aipa_srv_request q;
    struct aipa_srv_response sr;

    aipa_buf_reset(&resp->body);
    resp->status = 0;
    resp->content_type[0] = '\0';
    resp->timed_out = resp->transport_error = resp->truncated = false;
    resp->trusted = false;
    resp->code[0] = '\0';
    resp->error[0] = '\0';
    aipa_lat_set_clear(&resp->latitude);
    q.method = method;
    q.target = target;
    q.target_len = target_len;
    q.headers = hs;
    q.header_count = hn;
    q.body = (const uint8_t *)body;
    q.body_len = body_len;
    aipa_srv_response_init(&sr);
    if (aipa_srv_handle(e->ref, &q, &sr) == AIPA_OK) {
        resp->status = (long)sr.status;
        resp->trusted = true;
        resp->latitude = sr.latitude;
        snprintf(resp->code, sizeof(resp->code), "%s", sr.code);
        snprintf(resp->content_type, sizeof(resp->content_type), "%s",
                 sr.content_type != NULL ? sr.content_type : "");
        if (sr.body.len > 0 && aipa_buf_append(&resp->body, sr.body.ptr, sr.body.len) != AIPA_OK) {
            resp->truncated = true;
        }
    } else {
        resp->transport_error = true;
        snprintf(resp->error, sizeof(resp->error), "the reference model failed");
    }
    aipa_srv_response_cleanup(&sr);
}

/* ---- fixture protocol ---- */

static aipa_err fixture_check(struct engine *e, bool ref, const char *method, const char *path,
                              const struct aipa_lf_resp *resp)
{
    if (resp->status < 200 || resp->status > 299) {
        snprintf(e->harness_error, sizeof(e->harness_error),
                 "fixture protocol: %s %s on the %s answered %ld%s%.120s", method, path,
                 ref ? "reference" : "target", resp->status, resp->error[0] ? ": " : " ",
                 resp->error[0] ? resp->error : (resp->body.ptr != NULL ? resp->body.ptr : ""));
        return AIPA_EIO;
    }
    return AIPA_OK;
}

/*
 * One fixture call on the target and/or the reference. With both, the
 * reference (in-process: a reset rebuilds its pool) does its part while the
 * target's answer travels, as run_one does for fuzz requests.
 */
static aipa_err fixture_both(struct engine *e, bool target, bool ref, const char *method,
                             const char *path, const char *json)
{
    size_t blen = json != NULL ? strlen(json) : 0;

    if (target) {
        resp_reset(&e->rt);
        target_begin_msg(e, &e->rt, aipa_fixture_begin(&e->fc, method, path, json, &e->xr));
    }
    if (ref) {
        struct aipa_tx_header th[AIPA_FIXTURE_MAX_HEADERS];
        struct aipa_header hs[AIPA_FIXTURE_MAX_HEADERS];
        size_t hn = aipa_fixture_headers(&e->fc, json != NULL, th);
        for (size_t i = 0; i < hn; i++) {
            hs[i].name = (struct aipa_slice){(const uint8_t *)th[i].name, th[i].name_len};
            hs[i].value = (struct aipa_slice){(const uint8_t *)th[i].value, th[i].value_len};
        }
        ref_send(e, method, path, strlen(path), hs, hn, json, blen, &e->rr);
    }
    if (target) {
        target_finish(e);
        e->stats->total_requests++;
        AIPA_TRY(fixture_check(e, false, method, path, &e->rt));
    }
    if (ref) {
        AIPA_TRY(fixture_check(e, true, method, path, &e->rr));
    }
    return AIPA_OK;
}

static aipa_err side_id(struct engine *e, bool ref, struct lf_side *side, size_t i)
{
    if (aipa_fixture_instance_id(ref ? &e->rr.body : &e->rt.body, side->ids[i],
                                 sizeof(side->ids[i])) != AIPA_OK) {
        snprintf(e->harness_error, sizeof(e->harness_error),
                 "fixture protocol: POST /_aipa/instances on the %s gave no InstanceId",
                 ref ? "reference" : "target");
        return AIPA_EPARSE;
    }
    side->idp[i] = side->ids[i];
    return AIPA_OK;
}

/*
 * A worker's fixture instance ID: "i-", the worker and a counter in base 36
 * (unique in the campaign), then digits from the seed; the format of the
 * IDs the reference model generates.
 */
static void worker_id(struct engine *e, char out[AIPA_INSTANCE_ID_MAX])
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    uint64_t w = e->worker;
    uint64_t n = e->fixture_n++;
    struct aipa_rng r;
    uint64_t x;

    aipa_rng_seed(&r, e->cfg->seed ^ (n * 0x9e3779b97f4a7c15ull) ^ (w << 48));
    x = aipa_rng_next(&r);
    out[0] = 'i';
    out[1] = '-';
    for (int i = 3; i >= 2; i--, w /= 36) {
        out[i] = digits[w % 36];
    }
    for (int i = 11; i >= 4; i--, n /= 36) {
        out[i] = digits[n % 36];
    }
    for (int i = 12; i < 22; i++, x /= 36) {
        out[i] = digits[x % 36];
    }
    out[22] = '\0';
}

/*
 * A worker's sequence: no reset (the target is shared), the fixture
 * instances created afresh on both sides with IDs of its own.
 */
static aipa_err setup_shared(struct engine *e)
{
    for (size_t i = 0; i < FIXTURE_COUNT; i++) {
        char id[AIPA_INSTANCE_ID_MAX];
        char body[512];
        int n;

        worker_id(e, id);
        n = snprintf(body, sizeof(body), "{\"InstanceId\":\"%s\",%s", id, fixture_states[i] + 1);
        if (n < 0 || (size_t)n >= sizeof(body)) {
            return AIPA_EINVAL;
        }
        AIPA_TRY(fixture_both(e, true, e->diff, "POST", "/_aipa/instances", body));
        AIPA_TRY(side_id(e, false, &e->ts, i));
        if (e->diff) {
            AIPA_TRY(side_id(e, true, &e->rs, i));
        }
    }
    e->ts.id_count = FIXTURE_COUNT;
    if (e->diff) {
        e->rs.id_count = FIXTURE_COUNT;
    }
    return AIPA_OK;
}

/* Each side, in its own order: reset, pool size, the fixture instances. */
static aipa_err setup_sequence(struct engine *e, long pool)
{
    bool t = e->fixtures;
    bool r = e->diff;

    e->ts.prev_nonce[0] = '\0';
    e->rs.prev_nonce[0] = '\0';
    if (!t && !r) {
        return AIPA_OK;
    }
    if (e->shared) {
        return setup_shared(e);
    }
    AIPA_TRY(fixture_both(e, t, r, "POST", "/_aipa/reset", NULL));
    if (pool >= 0) {
        char body[64];
        snprintf(body, sizeof(body), "{\"Free\":%ld}", pool);
        AIPA_TRY(fixture_both(e, t, r, "PUT", "/_aipa/pool", body));
    }
    for (size_t i = 0; i < FIXTURE_COUNT; i++) {
        AIPA_TRY(fixture_both(e, t, r, "POST", "/_aipa/instances", fixture_states[i]));
        if (t) {
            AIPA_TRY(side_id(e, false, &e->ts, i));
        }
        if (r) {
            AIPA_TRY(side_id(e, true, &e->rs, i));
        }
    }
    if (t) {
        e->ts.id_count = FIXTURE_COUNT;
    }
    if (r) {
        e->rs.id_count = FIXTURE_COUNT;
    }
    return AIPA_OK;
}

/* ---- one request on both sides ---- */

static void next_nonce(struct engine *e, char out[72])
{
    snprintf(out, 72, "%s%016" PRIx64, e->salt, ++e->nonce_n);
}

/*
 * Whether both sides resolve a request alike (the same instance IDs and the
 * same previous nonce): then the target's rendering, signed for the same
 * clock and nonce, is byte for byte the reference's, and is rendered once.
 */
static bool sides_alike(const struct engine *e)
{
    if (e->ts.id_count != e->rs.id_count || strcmp(e->ts.prev_nonce, e->rs.prev_nonce) != 0) {
        return false;
    }
    for (size_t i = 0; i < e->ts.id_count; i++) {
        if (strcmp(e->ts.ids[i], e->rs.ids[i]) != 0) {
            return false;
        }
    }
    return true;
}

static size_t run_one(struct engine *e, const struct aipa_lf_req *req, struct aipa_lf_hit *hits,
                      size_t cap, bool *rendered)
{
    char nonce[72];
    struct aipa_lf_sign_ctx ctx;
    int64_t t = (int64_t)time(NULL);
    const struct aipa_lf_wire *wr = &e->wr;
    bool alike = e->diff && sides_alike(e);

    *rendered = false;
    next_nonce(e, nonce);
    memset(&ctx, 0, sizeof(ctx));
    ctx.access_key_id = e->cfg->access_key_id;
    ctx.access_key_secret = e->cfg->access_key_secret;
    ctx.security_token = e->cfg->security_token;
    ctx.now = t;
    ctx.nonce = nonce;
    ctx.host = e->host;
    ctx.prev_nonce = e->ts.prev_nonce;
    ctx.ids = e->ts.idp;
    ctx.id_count = e->ts.id_count;
    if (aipa_lf_render(req, &ctx, &e->wt) != AIPA_OK) {
        return 0; /* too large to build: not sent */
    }
    target_begin(e, &e->wt, &e->rt);
    /* the reference's copy is rendered, and answered, while the target's answer travels */
    if (alike) {
        wr = &e->wt;
    } else if (e->diff) {
        ctx.prev_nonce = e->rs.prev_nonce;
        ctx.ids = e->rs.idp;
        ctx.id_count = e->rs.id_count;
        if (aipa_lf_render(req, &ctx, &e->wr) != AIPA_OK) {
            /*
             * Not reachable in practice (both copies differ only in IDs and
             * nonce, of equal length), but the target has it now: the two
             * sides no longer match, so the sequence starts again.
             */
            target_finish(e);
            e->stats->total_requests++;
            e->resync = true;
            return 0;
        }
    }
    *rendered = true;
    if (e->diff && e->inflight) {
        struct aipa_header hs[AIPA_SRV_MAX_HEADERS];
        size_t hn = aipa_lf_wire_headers(wr, hs, AIPA_ARRAY_LEN(hs));
        e->ref_now = t;
        ref_send(e, wr->method, wr->target.ptr, wr->target.len, hs, hn, wr->body.ptr,
                 wr->body.len, &e->rr);
        if (wr->nonce[0] != '\0') {
            snprintf(e->rs.prev_nonce, sizeof(e->rs.prev_nonce), "%s", wr->nonce);
        }
    }
    target_finish(e);
    e->stats->total_requests++;
    if (e->rt.status == -1) {
        *rendered = false;
        return 0;
    }
    if (e->wt.nonce[0] != '\0') {
        snprintf(e->ts.prev_nonce, sizeof(e->ts.prev_nonce), "%s", e->wt.nonce);
    }
    {
        struct aipa_lf_judge_opts o;

        memset(&o, 0, sizeof(o));
        o.edition = e->edition;
        o.strict = e->cfg->strict;
        o.allow_transient = e->cfg->allow_transient;
        o.max_response_ms = e->cfg->max_response_ms;
        if (e->diff && (e->rt.status / 100 == 2) != (e->rr.status / 100 == 2)) {
            /*
             * One side changed state and the other did not (a documented
             * alternative, or a fault): later answers would differ for that
             * alone, so the sequence starts again from equal states.
             */
            e->resync = true;
        }
        return aipa_lf_judge_with(req, &e->wt, &e->rt, e->diff ? &e->rr : NULL, &o, hits, cap);
    }
}

/*
 * The bucket: the oracle, the target's (status, Code) and the reference's,
 * so that two faults behind the same target answer stay apart.
 */
static void hit_key(const struct aipa_lf_hit *h, char *out, size_t cap)
{
    if (h->ref_status != 0) {
        snprintf(out, cap, "%s|%ld|%s|%ld|%s", aipa_lf_oracle_name(h->oracle), h->status, h->code,
                 h->ref_status, h->ref_code);
    } else {
        snprintf(out, cap, "%s|%ld|%s", aipa_lf_oracle_name(h->oracle), h->status, h->code);
    }
}

static bool hits_have(const struct aipa_lf_hit *hits, size_t n, const char *key)
{
    char k[200];
    for (size_t i = 0; i < n && i < LF_MAX_HITS; i++) {
        hit_key(&hits[i], k, sizeof(k));
        if (strcmp(k, key) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- the state-effect oracle ---- */

/*
 * The target's state against the reference's after the same requests (GET
 * /_aipa/state on both sides). True, with hit filled, when they differ.
 * Only with the fixture protocol, the differential oracle and one worker.
 */
static bool state_differs(struct engine *e, struct aipa_lf_hit *hit)
{
    char kind[32], why[200];
    size_t n = e->ts.id_count < e->rs.id_count ? e->ts.id_count : e->rs.id_count;

    if (!e->diff || !e->fixtures || e->shared ||
        fixture_both(e, true, true, "GET", "/_aipa/state", NULL) != AIPA_OK ||
        e->rt.truncated || e->rr.truncated) {
        return false;
    }
    if (aipa_lf_state_equal(e->rt.body.ptr, e->rt.body.len, e->rr.body.ptr, e->rr.body.len,
                            e->ts.idp, e->rs.idp, n, kind, sizeof(kind), why, sizeof(why))) {
        return false;
    }
    memset(hit, 0, sizeof(*hit));
    hit->oracle = AIPA_LF_O_STATE;
    snprintf(hit->code, sizeof(hit->code), "%s", kind);
    snprintf(hit->detail, sizeof(hit->detail), "%s", why);
    return true;
}

/* ---- replay and minimization ---- */

struct replay_out {
    struct lf_outcome *ref; /* per step; may be NULL */
};

/* Replays steps from a fresh state; true when the last one still hits key. */
/* The Message of a response body, read with the bounded parser ("" when none). */
static void outcome_message(const struct aipa_lf_resp *src, enum aipa_lf_fmt fmt, char *out,
                            size_t cap)
{
    struct aipa_doc d;
    enum aipa_body_format bf = fmt == AIPA_LF_FMT_JSON  ? AIPA_BODY_JSON
                               : fmt == AIPA_LF_FMT_XML ? AIPA_BODY_XML
                                                        : AIPA_BODY_UNKNOWN;
    const char *m = NULL;

    out[0] = '\0';
    if (bf == AIPA_BODY_UNKNOWN) {
        return;
    }
    aipa_doc_init(&d);
    if (aipa_parse_body(bf, NULL, (const uint8_t *)(src->body.ptr != NULL ? src->body.ptr : ""),
                        src->body.len, NULL, &d, NULL) == AIPA_OK) {
        m = aipa_path_string(d.root, "Message");
    }
    if (m != NULL) {
        (void)snprintf(out, cap, "%s", m);
    }
    aipa_doc_cleanup(&d);
}

static bool replay(struct engine *e, struct lf_finding *f, const struct aipa_lf_req *steps,
                   size_t n, struct lf_outcome *record)
{
    struct aipa_lf_hit hits[LF_MAX_HITS];
    size_t nh = 0;
    bool rendered;

    f->replays++;
    if (n == 0 || setup_sequence(e, f->pool_free) != AIPA_OK) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        nh = run_one(e, &steps[i], hits, LF_MAX_HITS, &rendered);
        if (record != NULL) {
            struct lf_outcome *o = &record[i];
            struct aipa_lf_summary s;
            const struct aipa_lf_resp *src = e->diff ? &e->rr : &e->rt;
            memset(o, 0, sizeof(*o));
            aipa_lf_summarize(src, &s);
            o->status = src->status;
            snprintf(o->code, sizeof(o->code), "%s", s.code);
            o->fmt = s.declared;
            /* the Message, for leak findings */
            outcome_message(src, s.declared, o->message, sizeof(o->message));
        }
        if (!rendered) {
            return false;
        }
    }
    if (f->oracle == AIPA_LF_O_STATE) {
        /* the state after the whole sequence, not the last answer */
        nh = state_differs(e, &hits[0]) ? 1 : 0;
    }
    return hits_have(hits, nh, f->key);
}

struct min_ctx {
    struct engine *e;
    struct lf_finding *f;
    struct aipa_lf_req *scratch; /* f->step_count entries */
    int mode;                    /* 0: steps, 1: parameters of the last step */
};

static bool budget_left(const struct engine *e, const struct lf_finding *f)
{
    /* --time bounds the whole run, minimization included */
    return f->replays < e->cfg->min_budget && !e->harness_failed &&
           now_s() - e->start < e->cfg->time_s;
}

static bool min_test(const size_t *keep, size_t k, void *vctx)
{
    struct min_ctx *m = vctx;
    struct lf_finding *f = m->f;
    size_t n = 0;

    if (m->mode == 0) {
        /* keep[] indexes the earlier steps; the last step always stays */
        for (size_t i = 0; i < k; i++) {
            if (aipa_lf_req_copy(&m->scratch[n++], &f->steps[keep[i]]) != AIPA_OK) {
                return false;
            }
        }
        if (aipa_lf_req_copy(&m->scratch[n++], &f->steps[f->step_count - 1]) != AIPA_OK) {
            return false;
        }
    } else {
        for (size_t i = 0; i + 1 < f->step_count; i++) {
            if (aipa_lf_req_copy(&m->scratch[n++], &f->steps[i]) != AIPA_OK) {
                return false;
            }
        }
        struct aipa_lf_req *last = &m->scratch[n++];
        const struct aipa_lf_req *src = &f->steps[f->step_count - 1];
        if (aipa_lf_req_copy(last, src) != AIPA_OK) {
            return false;
        }
        aipa_lf_req_clear(last);
        memcpy(last->method, src->method, sizeof(last->method));
        last->auth = src->auth;
        last->mut = src->mut;
        memcpy(last->content_type, src->content_type, sizeof(last->content_type));
        memcpy(last->accept, src->accept, sizeof(last->accept));
        for (size_t i = 0; i < k; i++) {
            const struct aipa_lf_param *p = &src->params[keep[i]];
            if (aipa_lf_req_add(last, p->name, p->name_len, p->value, p->value_len, p->flags) !=
                AIPA_OK) {
                return false;
            }
        }
    }
    if (!budget_left(m->e, f)) {
        return false;
    }
    return replay(m->e, f, m->scratch, n, NULL);
}

/* Replays the sequence with the last step replaced by cand; keeps it when the bucket still hits. */
static bool try_last(struct engine *e, struct lf_finding *f, struct aipa_lf_req *scratch,
                     const struct aipa_lf_req *cand)
{
    size_t n = f->step_count;

    if (!budget_left(e, f)) {
        return false;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        if (aipa_lf_req_copy(&scratch[i], &f->steps[i]) != AIPA_OK) {
            return false;
        }
    }
    if (aipa_lf_req_copy(&scratch[n - 1], cand) != AIPA_OK) {
        return false;
    }
    if (replay(e, f, scratch, n, NULL)) {
        return aipa_lf_req_copy(&f->steps[n - 1], cand) == AIPA_OK;
    }
    return false;
}

static bool is_fixture_ref(const struct aipa_lf_param *p)
{
    return p->value_len >= 6 && memcmp(p->value, "${vm", 4) == 0 &&
           p->value[p->value_len - 1] == '}' && memchr(p->value, '"', p->value_len) == NULL;
}

/* Whether the client can build r itself (signed, from parameters), or it needs raw bytes. */
static bool callable(const struct aipa_lf_req *r)
{
    bool all_body = r->count > 0, any_body = false;

    if (r->count == 0 || r->auth == AIPA_SIG_NONE || (r->mut & AIPA_LF_M_BAD_CONTENT_SHA) ||
        r->content_type[0] != '\0' ||
        (r->accept[0] != '\0' &&
         (r->auth != AIPA_SIG_V3 || strcmp(r->accept, "application/json") != 0))) {
        return false;
    }
    for (size_t i = 0; i < r->count; i++) {
        const struct aipa_lf_param *p = &r->params[i];
        if ((p->flags & AIPA_LF_P_RAW) || memchr(p->name, '\0', p->name_len) != NULL ||
            memchr(p->value, '\0', p->value_len) != NULL) {
            return false; /* a command line cannot carry NUL */
        }
        any_body = any_body || (p->flags & AIPA_LF_P_BODY);
        all_body = all_body && (p->flags & AIPA_LF_P_BODY);
    }
    return !any_body || (all_body && r->auth == AIPA_SIG_V1 && strcmp(r->method, "POST") == 0);
}

static void simplify_last(struct engine *e, struct lf_finding *f, struct aipa_lf_req *scratch)
{
    struct aipa_lf_req cand;
    struct aipa_lf_req *last;

    aipa_lf_req_init(&cand);
#define LAST (&f->steps[f->step_count - 1])
#define TRY(edit)                                                                                  \
    do {                                                                                           \
        if (aipa_lf_req_copy(&cand, LAST) == AIPA_OK) {                                            \
            edit;                                                                                  \
            (void)try_last(e, f, scratch, &cand);                                                  \
        }                                                                                          \
    } while (0)

    last = LAST;
    for (unsigned bit = 1; bit != 0 && bit <= 0x8000u; bit <<= 1) {
        if (LAST->mut & bit) {
            TRY(cand.mut &= ~bit);
        }
    }
    if (LAST->auth != AIPA_SIG_V1) {
        TRY(cand.auth = AIPA_SIG_V1);
    }
    if (strcmp(LAST->method, "GET") != 0) {
        TRY(snprintf(cand.method, sizeof(cand.method), "GET"));
        if (strcmp(LAST->method, "GET") != 0 && strcmp(LAST->method, "POST") != 0) {
            TRY(snprintf(cand.method, sizeof(cand.method), "POST"));
        }
    }
    if (LAST->content_type[0] != '\0') {
        TRY(cand.content_type[0] = '\0');
    }
    if (LAST->accept[0] != '\0' && LAST->auth != AIPA_SIG_V3) {
        TRY(cand.accept[0] = '\0');
    }
    bool any_body = false;
    for (size_t i = 0; i < LAST->count; i++) {
        any_body = any_body || (LAST->params[i].flags & AIPA_LF_P_BODY);
    }
    if (any_body) {
        TRY(for (size_t i = 0; i < cand.count; i++) { cand.params[i].flags &= ~AIPA_LF_P_BODY; });
    }
    for (size_t i = 0; i < LAST->count; i++) {
        if (LAST->params[i].flags & AIPA_LF_P_RAW) {
            TRY(cand.params[i].flags &= ~AIPA_LF_P_RAW);
        }
    }
    /*
     * A request only raw bytes can express is best replayed unsigned (a case
     * file cannot carry a fresh signature in raw bytes): keep it unsigned if
     * the finding does not need the signature.
     */
    if (!callable(LAST) && LAST->auth != AIPA_SIG_NONE) {
        TRY(cand.auth = AIPA_SIG_NONE; cand.mut = 0);
    }
    /* values: empty, then halves */
    for (size_t i = 0; i < LAST->count && budget_left(e, f); i++) {
        if (is_fixture_ref(&LAST->params[i]) || LAST->params[i].value_len == 0) {
            continue;
        }
        if (aipa_lf_req_copy(&cand, LAST) == AIPA_OK && i < cand.count) {
            cand.params[i].value[0] = '\0';
            cand.params[i].value_len = 0;
            if (try_last(e, f, scratch, &cand)) {
                continue;
            }
        }
        /* the shortest prefix that still triggers it (binary search on the length) */
        size_t lo = 0, hi = LAST->params[i].value_len; /* hi triggers; lo: "" did not */
        for (int round = 0; round < 24 && hi - lo > 1 && budget_left(e, f); round++) {
            size_t mid = lo + (hi - lo) / 2;
            if (aipa_lf_req_copy(&cand, LAST) != AIPA_OK || i >= cand.count) {
                break;
            }
            cand.params[i].value[mid] = '\0';
            cand.params[i].value_len = mid;
            if (try_last(e, f, scratch, &cand)) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
    }
    (void)last;
#undef TRY
#undef LAST
    aipa_lf_req_cleanup(&cand);
}

/* Confirms, minimizes and records the final replay of a new finding. */
static void minimize(struct engine *e, struct lf_finding *f)
{
    struct aipa_lf_req scratch[LF_MAX_SEQ];
    struct min_ctx m;
    size_t keep[AIPA_LF_MAX_PARAMS];
    size_t kn = 0;

    for (size_t i = 0; i < LF_MAX_SEQ; i++) {
        aipa_lf_req_init(&scratch[i]);
    }
    f->reproduced = replay(e, f, f->steps, f->step_count, NULL);
    if (!f->reproduced) {
        f->reproduced = replay(e, f, f->steps, f->step_count, NULL);
    }
    if (f->reproduced && e->cfg->minimize) {
        m.e = e;
        m.f = f;
        m.scratch = scratch;
        /* the earlier steps */
        if (f->step_count > 1) {
            m.mode = 0;
            if (aipa_lf_ddmin(f->step_count - 1, min_test, &m, e->cfg->min_budget, keep, &kn,
                              NULL) == AIPA_OK) {
                struct aipa_lf_req *ns = aipa_calloc(kn + 1, sizeof(*ns));
                if (ns != NULL) {
                    bool ok = true;
                    for (size_t i = 0; i <= kn; i++) {
                        aipa_lf_req_init(&ns[i]);
                        ok = ok && aipa_lf_req_copy(
                                       &ns[i], &f->steps[i < kn ? keep[i] : f->step_count - 1]) ==
                                       AIPA_OK;
                    }
                    if (ok) {
                        for (size_t i = 0; i < f->step_count; i++) {
                            aipa_lf_req_cleanup(&f->steps[i]);
                        }
                        aipa_free(f->steps);
                        f->steps = ns;
                        f->step_count = kn + 1;
                    } else {
                        for (size_t i = 0; i <= kn; i++) {
                            aipa_lf_req_cleanup(&ns[i]);
                        }
                        aipa_free(ns);
                    }
                }
            }
        }
        /* the parameters of the last step */
        struct aipa_lf_req *last = &f->steps[f->step_count - 1];
        if (last->count > 0 && last->count <= AIPA_LF_MAX_PARAMS && budget_left(e, f)) {
            m.mode = 1;
            if (aipa_lf_ddmin(last->count, min_test, &m, e->cfg->min_budget, keep, &kn, NULL) ==
                    AIPA_OK &&
                kn < last->count) {
                struct aipa_lf_req nr;
                aipa_lf_req_init(&nr);
                if (aipa_lf_req_copy(&nr, last) == AIPA_OK) {
                    aipa_lf_req_clear(&nr);
                    memcpy(nr.method, last->method, sizeof(nr.method));
                    nr.auth = last->auth;
                    nr.mut = last->mut;
                    memcpy(nr.content_type, last->content_type, sizeof(nr.content_type));
                    memcpy(nr.accept, last->accept, sizeof(nr.accept));
                    bool ok = true;
                    for (size_t i = 0; i < kn && ok; i++) {
                        const struct aipa_lf_param *p = &last->params[keep[i]];
                        ok = aipa_lf_req_add(&nr, p->name, p->name_len, p->value, p->value_len,
                                             p->flags) == AIPA_OK;
                    }
                    if (ok && aipa_lf_req_copy(last, &nr) != AIPA_OK) {
                        /* last is left as it was on failure: nothing lost */
                    }
                }
                aipa_lf_req_cleanup(&nr);
            }
        }
        simplify_last(e, f, scratch);
        f->minimized = true;
    }
    /* the final replay gives the outcomes the case file records */
    f->ref_outcomes = aipa_calloc(f->step_count, sizeof(*f->ref_outcomes));
    if (f->ref_outcomes != NULL) {
        bool again = replay(e, f, f->steps, f->step_count, f->ref_outcomes);
        f->reproduced = f->reproduced && again;
        snprintf(f->method, sizeof(f->method), "%s", e->wt.method);
        f->wire_target = aipa_strndup(e->wt.target.ptr != NULL ? e->wt.target.ptr : "",
                                      e->wt.target.len < 4096 ? e->wt.target.len : 4096);
        f->wire_body = aipa_strndup(e->wt.body.ptr != NULL ? e->wt.body.ptr : "",
                                    e->wt.body.len < 4096 ? e->wt.body.len : 4096);
        f->resp_excerpt = aipa_strndup(e->rt.body.ptr != NULL ? e->rt.body.ptr : "",
                                       e->rt.body.len < 1024 ? e->rt.body.len : 1024);
        /* the state-effect oracle on the replay: what else the finding did to the target */
        struct aipa_lf_hit sh;
        if (f->oracle != AIPA_LF_O_STATE && state_differs(e, &sh)) {
            char d[sizeof(f->detail)];
            snprintf(d, sizeof(d), "%.100s; the state differs too: %.68s", f->detail, sh.detail);
            snprintf(f->detail, sizeof(f->detail), "%s", d);
        }
    }
    for (size_t i = 0; i < LF_MAX_SEQ; i++) {
        aipa_lf_req_cleanup(&scratch[i]);
    }
}

/* ---- the `aipa call` line ---- */

/*
 * The `aipa call` line (aipa_client_repro) that sends the finding's last
 * request to the target as it stands after the final replay (its instances
 * are the ones that replay created). A request the client can sign is given
 * as parameters and knobs, so it is freshly signed when run; anything else
 * as the raw bytes of the final replay, whose signature was valid for that
 * second only. The case file is the durable reproduction.
 */
static void make_repro(struct engine *e, struct lf_finding *f)
{
    const struct aipa_lf_req *r = &f->steps[f->step_count - 1];
    struct aipa_client_config cc;
    struct aipa_client *client = NULL;
    struct aipa_request req;
    struct aipa_params params;
    struct aipa_wire_limits lim = aipa_wire_default_limits();
    struct aipa_buf out;
    struct aipa_buf target;
    const char *omit[8];
    size_t omit_n = 0;
    char *hdr_store[AIPA_SRV_MAX_HEADERS];
    const char *hdrs[AIPA_SRV_MAX_HEADERS];
    size_t hn = 0;

    aipa_client_config_defaults(&cc);
    cc.target = e->base;
    cc.access_key_id = e->cfg->access_key_id;
    lim.max_params = AIPA_LF_MAX_PARAMS + 8;
    lim.max_value = AIPA_LF_MAX_VALUE;
    lim.max_name = AIPA_LF_MAX_VALUE;
    lim.max_total = SIZE_MAX;
    aipa_params_init(&params, &lim);
    aipa_buf_init(&out, 1024u * 1024u);
    aipa_buf_init(&target, AIPA_LF_MAX_WIRE + 64);
    aipa_request_init(&req);
    if (aipa_client_new(&client, &cc) != AIPA_OK) {
        goto out;
    }
    if (!callable(r)) {
        struct aipa_header hs[AIPA_SRV_MAX_HEADERS];
        size_t n = aipa_lf_wire_headers(&e->wt, hs, AIPA_ARRAY_LEN(hs));
        for (size_t i = 0; i < n && hn < AIPA_ARRAY_LEN(hdrs); i++) {
            if (aipa_slice_eq_ci(hs[i].name, "Host")) {
                continue;
            }
            struct aipa_buf h;
            aipa_buf_init(&h, 8192);
            bool redact = aipa_slice_eq_ci(hs[i].name, "Authorization");
            if (aipa_buf_append(&h, hs[i].name.ptr, hs[i].name.len) == AIPA_OK &&
                aipa_buf_puts(&h, ": ") == AIPA_OK &&
                (redact ? aipa_buf_puts(&h, "REDACTED")
                        : aipa_buf_append(&h, hs[i].value.ptr, hs[i].value.len)) == AIPA_OK) {
                size_t len = 0;
                hdr_store[hn] = aipa_buf_steal(&h, &len);
                if (hdr_store[hn] != NULL) {
                    hdrs[hn] = hdr_store[hn];
                    hn++;
                }
            }
            aipa_buf_cleanup(&h);
        }
        /* no Signature value leaves the run: it is redacted, like Authorization above */
        const char *src = e->wt.target.ptr != NULL ? e->wt.target.ptr : "/";
        const char *sig = strstr(src, "Signature=");
        if (sig != NULL && (sig == src || sig[-1] == '&' || sig[-1] == '?')) {
            const char *end = strchr(sig, '&');
            if (aipa_buf_append(&target, src, (size_t)(sig - src) + 10) != AIPA_OK ||
                aipa_buf_puts(&target, "REDACTED") != AIPA_OK ||
                (end != NULL && aipa_buf_puts(&target, end) != AIPA_OK)) {
                goto out;
            }
        } else if (aipa_buf_puts(&target, src) != AIPA_OK) {
            goto out;
        }
        req.raw = true;
        req.raw_method = e->wt.method;
        req.raw_target = (const uint8_t *)target.ptr;
        req.raw_target_len = target.len;
        req.raw_headers = hdrs;
        req.raw_header_count = hn;
        req.raw_body = (const uint8_t *)e->wt.body.ptr;
        req.raw_body_len = e->wt.body.len;
    } else {
        bool body = false;
        for (size_t i = 0; i < r->count; i++) {
            const char *v = r->params[i].value;
            size_t vl = r->params[i].value_len;
            body = body || (r->params[i].flags & AIPA_LF_P_BODY);
            if (is_fixture_ref(&r->params[i])) {
                size_t idx = (size_t)strtoul(v + 4, NULL, 10);
                if (idx < e->ts.id_count) {
                    v = e->ts.ids[idx];
                    vl = strlen(v);
                }
            }
            if (aipa_params_add(&params, r->params[i].name, r->params[i].name_len, v, vl,
                                AIPA_PARAM_BUILT) != AIPA_OK) {
                goto out;
            }
        }
        if ((r->mut & AIPA_LF_M_BAD_SIG_METHOD) && r->auth == AIPA_SIG_V1 &&
            aipa_params_get(&params, "SignatureMethod") == NULL &&
            aipa_params_add_cstr(&params, "SignatureMethod", "HMAC-MD5") != AIPA_OK) {
            goto out;
        }
        req.params = &params;
        req.sig = r->auth == AIPA_SIG_V3 ? AIPA_SIG_V3 : AIPA_SIG_V1;
        req.shape = body                            ? AIPA_SHAPE_POST_FORM
                    : strcmp(r->method, "GET") == 0 ? AIPA_SHAPE_GET
                                                    : AIPA_SHAPE_POST_QUERY;
        if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "POST") != 0) {
            req.method = r->method;
        }
        req.want =
            r->auth == AIPA_SIG_V3 && r->accept[0] != '\0' ? AIPA_WANT_JSON : AIPA_WANT_DEFAULT;
        if (r->mut & AIPA_LF_M_BAD_SIGNATURE) {
            req.secret = "not-the-secret"; /* the line names $AIPA_OVERRIDE_SECRET instead */
        }
        if (r->mut & AIPA_LF_M_UNKNOWN_KEY) {
            req.access_key_id = "LTAIfuzzunknownkey";
        }
        if (r->mut & AIPA_LF_M_STALE_TIMESTAMP) {
            req.timestamp = "2016-02-23T12:46:24Z";
        } else if (r->mut & AIPA_LF_M_FUTURE_TIMESTAMP) {
            req.timestamp = "2099-01-01T00:00:00Z";
        } else if (r->mut & AIPA_LF_M_BAD_TIMESTAMP) {
            req.timestamp = "2016-02-23T12:46:24.000Z";
        }
        bool v3 = r->auth == AIPA_SIG_V3;
        if (r->mut & AIPA_LF_M_NO_SIGNATURE) {
            omit[omit_n++] = v3 ? "Authorization" : "Signature";
        }
        if (r->mut & AIPA_LF_M_NO_TIMESTAMP) {
            omit[omit_n++] = v3 ? "x-acs-date" : "Timestamp";
        }
        if (r->mut & AIPA_LF_M_NO_NONCE) {
            omit[omit_n++] = v3 ? "x-acs-signature-nonce" : "SignatureNonce";
        }
        if (r->mut & AIPA_LF_M_NO_KEY) {
            omit[omit_n++] = "AccessKeyId";
        }
        if (aipa_lf_req_get(r, "Version") == NULL) {
            omit[omit_n++] = v3 ? "x-acs-version" : "Version";
        }
        if (aipa_lf_req_get(r, "Format") == NULL && !v3) {
            omit[omit_n++] = "Format";
        }
        req.omit = omit;
        req.omit_count = omit_n;
    }
    if (aipa_client_repro(client, &req, &out) == AIPA_OK && out.len > 0) {
        if (r->mut & AIPA_LF_M_REUSE_NONCE && !req.raw) {
            if (aipa_buf_puts(&out, "  # the finding reused the previous request's nonce") !=
                AIPA_OK) {
                /* the line stays usable without the note */
            }
        }
        size_t n = 0;
        f->repro = aipa_buf_steal(&out, &n);
    }
out:
    for (size_t i = 0; i < hn; i++) {
        aipa_free(hdr_store[i]);
    }
    aipa_client_free(client);
    aipa_params_cleanup(&params);
    aipa_buf_cleanup(&out);
    aipa_buf_cleanup(&target);
}

/* ---- the campaign ---- */

static struct lf_finding *find_bucket(struct engine *e, const char *key)
{
    for (size_t i = 0; i < e->finding_count; i++) {
        if (strcmp(e->findings[i].key, key) == 0) {
            return &e->findings[i];
        }
    }
    return NULL;
}

static void progress(struct engine *e, bool final)
{
    FILE *p = e->cfg->progress;
    double t = now_s();
    bool tty;

    if (p == NULL || e->shared) {
        return;
    }
    tty = isatty(fileno(p)) != 0;
    if (!final && t - e->last_progress < (tty ? 0.25 : 5.0)) {
        return;
    }
    e->last_progress = t;
    double el = t - e->start;
    fprintf(p,
            "%sfuzz: %" PRIu64 " requests (%" PRIu64
            " with setup and replays), %.0f req/s, %zu finding%s, %.1f s%s",
            tty ? "\r" : "", e->stats->requests, e->stats->total_requests,
            el > 0 ? (double)e->stats->total_requests / el : 0.0, e->finding_count,
            e->finding_count == 1 ? "" : "s", el, tty && !final ? "   " : "\n");
    fflush(p);
}

static void record_hits(struct engine *e, const struct aipa_lf_hit *hits, size_t nh,
                        bool *new_found)
{
    for (size_t i = 0; i < nh && i < LF_MAX_HITS; i++) {
        char key[200];
        struct lf_finding *f;
        hit_key(&hits[i], key, sizeof(key));
        e->stats->hits++;
        f = find_bucket(e, key);
        if (f != NULL) {
            f->count++;
            continue;
        }
        if (e->finding_count >= LF_MAX_FINDINGS) {
            e->dropped++;
            continue;
        }
        f = &e->findings[e->finding_count];
        memset(f, 0, sizeof(*f));
        snprintf(f->key, sizeof(f->key), "%s", key);
        f->oracle = hits[i].oracle;
        f->status = hits[i].status;
        snprintf(f->code, sizeof(f->code), "%s", hits[i].code);
        f->ref_status = hits[i].ref_status;
        snprintf(f->ref_code, sizeof(f->ref_code), "%s", hits[i].ref_code);
        snprintf(f->detail, sizeof(f->detail), "%s", hits[i].detail);
        f->count = 1;
        f->first_request = e->stats->requests;
        f->pool_free = e->pool_free;
        f->steps = aipa_calloc(e->hist_n + 1, sizeof(*f->steps));
        if (f->steps == NULL) {
            continue;
        }
        bool ok = true;
        for (size_t k = 0; k <= e->hist_n; k++) {
            aipa_lf_req_init(&f->steps[k]);
            ok = ok && aipa_lf_req_copy(&f->steps[k], &e->hist[k]) == AIPA_OK;
        }
        f->step_count = e->hist_n + 1;
        f->orig_steps = f->step_count;
        f->orig_params = e->hist[e->hist_n].count;
        if (!ok) {
            continue;
        }
        e->finding_count++;
        *new_found = true;
        if (e->cfg->verbose && e->cfg->progress != NULL) {
            fprintf(e->cfg->progress, "%sfuzz: new finding %s: %s\n",
                    isatty(fileno(e->cfg->progress)) ? "\r" : "", f->key, f->detail);
        }
    }
}

static void free_findings(struct engine *e)
{
    for (size_t i = 0; i < e->finding_count; i++) {
        struct lf_finding *f = &e->findings[i];
        for (size_t k = 0; k < f->step_count; k++) {
            aipa_lf_req_cleanup(&f->steps[k]);
        }
        aipa_free(f->steps);
        aipa_free(f->ref_outcomes);
        aipa_free(f->wire_target);
        aipa_free(f->wire_body);
        aipa_free(f->resp_excerpt);
        aipa_free(f->repro);
    }
}

static aipa_err parse_target(struct engine *e, const char *url, bool allow_remote)
{
    struct aipa_url u;
    aipa_err err = aipa_url_parse(url, &u);

    if (err == AIPA_ENOMEM) {
        return err;
    }
    if (err != AIPA_OK) {
        snprintf(e->harness_error, sizeof(e->harness_error),
                 "--target: cannot parse URL \"%s\" (only http and https)", url);
        return err;
    }
    if (!allow_remote && !aipa_lf_host_is_loopback(u.host)) {
        snprintf(e->harness_error, sizeof(e->harness_error),
                 "--target %s is not a loopback address; pass --allow-remote to fuzz it", u.host);
        err = AIPA_EINVAL;
    } else {
        snprintf(e->host, sizeof(e->host), "%s%s%s", u.host, u.port != NULL ? ":" : "",
                 u.port != NULL ? u.port : "");
        snprintf(e->base, sizeof(e->base), "%s://%s", u.scheme, e->host);
    }
    aipa_url_cleanup(&u);
    return err;
}

/* The connection to the target at e->base, and the fixture protocol over it. */
static aipa_err open_tx(struct engine *e)
{
    struct aipa_tx_config tc;

    aipa_tx_config_defaults(&tc);
    tc.origin = e->base;
    tc.timeout_ms = e->cfg->timeout_ms;
    tc.connect_timeout_ms = e->cfg->timeout_ms < 5000 ? e->cfg->timeout_ms : 5000L;
    tc.max_response = AIPA_LF_MAX_RESPONSE;
    tc.keep_past_cap = false; /* over the cap: abort, a too-large finding (not a timeout) */
    tc.url_target = true;
    tc.body_unless_get = true;
    if (aipa_tx_new(&e->tx, &tc) != AIPA_OK) {
        snprintf(e->harness_error, sizeof(e->harness_error), "libcurl failed to start");
        return AIPA_EIO;
    }
    e->fc.tx = e->tx;
    return AIPA_OK;
}

/* e's reference model, started from the target's seed state (state; empty: its built-in one). */
static aipa_err new_reference(struct engine *e, const struct aipa_buf *state)
{
    struct aipa_srv_config sc;
    struct aipa_srv_credential cred;
    struct aipa_buf why;

    aipa_srv_config_defaults(&sc);
    sc.fixtures = true;
    sc.fixture_token = e->token;
    sc.edition = e->edition;
    sc.seed = e->cfg->seed;
    sc.now = ref_clock;
    sc.now_ctx = &e->ref_now;
    memset(&cred, 0, sizeof(cred));
    if (strcmp(e->cfg->access_key_id, AIPA_DEMO_ACCESS_KEY_ID) != 0 ||
        strcmp(e->cfg->access_key_secret, AIPA_DEMO_ACCESS_KEY_SECRET) != 0 ||
        e->cfg->security_token != NULL) {
        cred.access_key_id = e->cfg->access_key_id;
        cred.security_token = e->cfg->security_token;
        cred.access_key_secret = e->cfg->access_key_secret;
        cred.active = true;
        cred.whitelisted = e->cfg->whitelisted;
        sc.credentials = &cred;
        sc.credential_count = 1;
    }
    AIPA_TRY(aipa_srv_new(&e->ref, &sc));
    if (state->len == 0) {
        return AIPA_OK;
    }
    /* the target's seed state becomes the reference's */
    aipa_buf_init(&why, 512);
    if (aipa_model_load_json(aipa_srv_model(e->ref), state->ptr, state->len, &why) != AIPA_OK &&
        e->cfg->progress != NULL) {
        fprintf(e->cfg->progress,
                "fuzz: warning: the target's state does not load into the reference (%s); "
                "the reference keeps its built-in state\n",
                why.ptr != NULL ? why.ptr : "?");
    }
    aipa_buf_cleanup(&why);
    return AIPA_OK;
}

/* The target's edition and seed state, so the reference starts equal. */
static aipa_err sync_reference(struct engine *e)
{
    char ed[32] = "";

    if (e->fixtures) {
        AIPA_TRY(fixture_both(e, true, false, "GET", "/_aipa/info", NULL));
        if (aipa_fixture_string(&e->rt.body, "Edition", ed, sizeof(ed)) == AIPA_OK &&
            e->edition == 0) {
            e->edition = aipa_edition_parse(ed) == AIPA_ED_2018 ? AIPA_ED_2018 : AIPA_ED_2024;
        }
        if (e->cfg->edition != 0 && e->cfg->edition != e->edition) {
            /* the user asked for an edition: switch the target to it */
            char body[64];
            snprintf(body, sizeof(body), "{\"Edition\":\"%s\"}",
                     aipa_edition_name(e->cfg->edition));
            AIPA_TRY(fixture_both(e, true, false, "PUT", "/_aipa/edition", body));
            e->edition = e->cfg->edition;
        }
    }
    if (e->edition == 0) {
        e->edition = e->cfg->edition != 0 ? e->cfg->edition : AIPA_ED_2024;
    }
    if (!e->diff) {
        return AIPA_OK;
    }
    if (e->fixtures) {
        AIPA_TRY(fixture_both(e, true, false, "POST", "/_aipa/reset", NULL));
        AIPA_TRY(fixture_both(e, true, false, "GET", "/_aipa/state", NULL));
        aipa_buf_reset(&e->state);
        AIPA_TRY(aipa_buf_append(&e->state, e->rt.body.ptr != NULL ? e->rt.body.ptr : "",
                                 e->rt.body.len));
    }
    return new_reference(e, &e->state);
}

static void fnv(uint64_t *h, const void *p, size_t n)
{
    *h = aipa_fnv1a64(*h, p, n);
}

static void digest_req(uint64_t *h, const struct aipa_lf_req *r)
{
    unsigned auth = (unsigned)r->auth;
    fnv(h, r->method, strlen(r->method) + 1);
    fnv(h, &auth, sizeof(auth));
    fnv(h, &r->mut, sizeof(r->mut));
    fnv(h, r->content_type, strlen(r->content_type) + 1);
    fnv(h, r->accept, strlen(r->accept) + 1);
    for (size_t i = 0; i < r->count; i++) {
        fnv(h, r->params[i].name, r->params[i].name_len + 1);
        fnv(h, r->params[i].value, r->params[i].value_len + 1);
        fnv(h, &r->params[i].flags, sizeof(r->params[i].flags));
    }
}

static void random_salt(char out[24])
{
    uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    x ^= (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull;
    struct aipa_rng r;
    aipa_rng_seed(&r, x);
    snprintf(out, 24, "%016" PRIx64, aipa_rng_next(&r));
}

static void join_path(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/*
 * The one line every run ends with: why it stopped, what it found, where the
 * outputs went. Printed whatever --quiet says (stderr).
 */
static void summary(const struct engine *e, const char *json_path, const char *sarif_path,
                    const char *cases_dir)
{
    const struct aipa_lf_stats *st = e->stats;
    const char *why = st->stop != NULL ? st->stop : "error";
    char reason[220];

    if (strcmp(why, "requests") == 0) {
        snprintf(reason, sizeof(reason), "the --requests budget (%" PRIu64 ")", e->cfg->requests);
    } else if (strcmp(why, "time") == 0) {
        snprintf(reason, sizeof(reason), "the --time limit (%.0f s)", e->cfg->time_s);
    } else {
        snprintf(reason, sizeof(reason), "an error: %.180s",
                 st->stop_detail[0] != '\0' ? st->stop_detail : "unknown");
    }
    fprintf(stderr,
            "aipa fuzz: stopped by %s after %" PRIu64 " requests in %.1f s; %zu finding%s; "
            "outputs: %s%s%s%s%s%s%s\n",
            reason, st->requests, st->elapsed_s, e->finding_count,
            e->finding_count == 1 ? "" : "s", json_path != NULL ? json_path : "",
            json_path != NULL && sarif_path != NULL ? ", " : "",
            sarif_path != NULL ? sarif_path : "",
            (json_path != NULL || sarif_path != NULL) && cases_dir != NULL && e->finding_count > 0
                ? ", "
                : "",
            cases_dir != NULL && e->finding_count > 0 ? cases_dir : "",
            cases_dir != NULL && e->finding_count > 0 ? "/found" : "",
            json_path == NULL && sarif_path == NULL ? "none (pass --out DIR)" : "");
}

static double latency_pct(const struct aipa_lf_latency *src, double p)
{
    struct aipa_lf_latency *l = aipa_malloc(sizeof(*l));
    double v = 0;

    if (l != NULL) {
        memcpy(l, src, sizeof(*l));
        v = aipa_lf_latency_pct(l, p);
        aipa_free(l);
    }
    return v;
}

/* p50 and p99 of the target's response times, per action (progress output). */
static void latency_lines(const struct engine *e)
{
    FILE *p = e->cfg->progress;

    for (size_t k = 0; p != NULL && k < AIPA_LF_LAT_ACTIONS; k++) {
        const struct aipa_lf_latency *l = &e->stats->latency[k];
        if (l->sample_count > 0) {
            fprintf(p, "fuzz: %-24s %8" PRIu64 " answers, p50 %.2f ms, p99 %.2f ms\n", l->action,
                    l->count, latency_pct(l, 50), latency_pct(l, 99));
        }
    }
}

static int finish(struct engine *e, int status)
{
    const struct aipa_lf_config *cfg = e->cfg;
    char jpath[1024] = "", spath[1024] = "", cdir[1024] = "";
    const char *json_path = cfg->json_path;
    const char *sarif_path = cfg->sarif_path;
    const char *cases_dir = cfg->cases_dir;
    struct lf_report_info info;

    if (cfg->out_dir != NULL) {
        if (aipa__lf_mkdirs(cfg->out_dir) != AIPA_OK) {
            fprintf(stderr, "aipa fuzz: cannot create %s: %s\n", cfg->out_dir, strerror(errno));
            return 2;
        }
        if (json_path == NULL) {
            join_path(jpath, sizeof(jpath), cfg->out_dir, "findings.json");
            json_path = jpath;
        }
        if (sarif_path == NULL) {
            join_path(spath, sizeof(spath), cfg->out_dir, "findings.sarif");
            sarif_path = spath;
        }
        if (cases_dir == NULL) {
            join_path(cdir, sizeof(cdir), cfg->out_dir, "cases");
            cases_dir = cdir;
        }
    }
    for (size_t i = 0; i < e->finding_count; i++) {
        struct lf_finding *f = &e->findings[i];
        /*
         * Without the reference a case can only record what the target did,
         * which fails only where the format itself is broken.
         */
        bool expressible = e->diff || f->oracle == AIPA_LF_O_REQUEST_ID ||
                           f->oracle == AIPA_LF_O_MALFORMED || f->oracle == AIPA_LF_O_SCHEMA;
        if (cases_dir != NULL && f->oracle == AIPA_LF_O_STATE) {
            snprintf(f->no_case, sizeof(f->no_case),
                     "state findings are judged through GET /_aipa/state, which case files do "
                     "not express");
        } else if (cases_dir != NULL && f->ref_outcomes != NULL && !expressible) {
            snprintf(f->no_case, sizeof(f->no_case),
                     "%s findings need the differential oracle to become cases",
                     aipa_lf_oracle_name(f->oracle));
        } else if (cases_dir != NULL && f->ref_outcomes != NULL) {
            if (aipa__lf_write_case(f, cases_dir, e->edition, fixture_states, FIXTURE_COUNT,
                                    e->fixtures, cfg) != AIPA_OK) {
                fprintf(stderr, "aipa fuzz: cannot write the case of %s under %s\n", f->key,
                        cases_dir);
                status = 2;
            }
        }
    }
    memset(&info, 0, sizeof(info));
    info.cfg = cfg;
    info.target = e->base;
    info.edition = e->edition;
    info.diff = e->diff;
    info.fixtures = e->fixtures;
    info.stats = e->stats;
    info.findings = e->findings;
    info.finding_count = e->finding_count;
    info.dropped_buckets = e->dropped;
    if (json_path != NULL && aipa__lf_write_json(&info, json_path) != AIPA_OK) {
        fprintf(stderr, "aipa fuzz: cannot write %s\n", json_path);
        status = 2;
    }
    if (sarif_path != NULL && aipa__lf_write_sarif(&info, sarif_path) != AIPA_OK) {
        fprintf(stderr, "aipa fuzz: cannot write %s\n", sarif_path);
        status = 2;
    }
    if (cfg->progress != NULL) {
        for (size_t i = 0; i < e->finding_count; i++) {
            const struct lf_finding *f = &e->findings[i];
            fprintf(cfg->progress, "finding %zu: %s (%" PRIu64 " hit%s): %s\n", i + 1, f->key,
                    f->count, f->count == 1 ? "" : "s", f->detail);
            fprintf(cfg->progress, "  minimized: %zu step%s, %zu parameter%s (from %zu, %zu)%s\n",
                    f->step_count, f->step_count == 1 ? "" : "s",
                    f->step_count > 0 ? f->steps[f->step_count - 1].count : 0,
                    f->step_count > 0 && f->steps[f->step_count - 1].count == 1 ? "" : "s",
                    f->orig_steps, f->orig_params, f->reproduced ? "" : "; did NOT reproduce");
            if (f->case_path[0] != '\0') {
                fprintf(cfg->progress, "  case: %s\n", f->case_path);
            }
            if (f->repro != NULL) {
                size_t rl = strlen(f->repro);
                fprintf(cfg->progress, "  reproduce: %.*s%s\n", (int)(rl > 400 ? 400 : rl),
                        f->repro, rl > 400 ? " ... (the whole line is in the JSON report)" : "");
            }
        }
    }
    if (status == 0 && e->finding_count > 0) {
        status = 1;
    }
    latency_lines(e);
    summary(e, json_path, sarif_path, cases_dir);
    return status;
}

/* ---- engines and workers ---- */

/* The resources of one engine (the main one or a --jobs worker). */
static void engine_init(struct engine *e, const struct aipa_lf_config *cfg,
                        struct aipa_lf_stats *stats)
{
    e->cfg = cfg;
    e->stats = stats;
    e->pool_free = -1;
    e->diff = cfg->diff && cfg->fixtures;
    e->fixtures = cfg->fixtures;
    for (size_t i = 0; i < LF_MAX_SEQ; i++) {
        aipa_lf_req_init(&e->hist[i]);
    }
    aipa_lf_wire_init(&e->wt);
    aipa_lf_wire_init(&e->wr);
    aipa_lf_resp_init(&e->rt);
    aipa_lf_resp_init(&e->rr);
    aipa_buf_init(&e->state, AIPA_LF_MAX_RESPONSE);
    aipa_response_init(&e->xr);
    aipa_fixture_conn_init(&e->fc, NULL, "", e->host, e->token);
}

static void engine_cleanup(struct engine *e)
{
    free_findings(e);
    aipa_lf_gen_cleanup(&e->gen);
    for (size_t i = 0; i < LF_MAX_SEQ; i++) {
        aipa_lf_req_cleanup(&e->hist[i]);
    }
    aipa_lf_wire_cleanup(&e->wt);
    aipa_lf_wire_cleanup(&e->wr);
    aipa_lf_resp_cleanup(&e->rt);
    aipa_lf_resp_cleanup(&e->rr);
    aipa_buf_cleanup(&e->state);
    aipa_fixture_conn_cleanup(&e->fc);
    aipa_tx_free(e->tx);
    aipa_response_cleanup(&e->xr);
    aipa_srv_free(e->ref);
    if (!e->shared) {
        aipa_free(e->seed_ids);
    }
}

/* The generator, with the dictionaries and seed cases of the configuration. */
static aipa_err load_gen(struct engine *e, uint64_t seed)
{
    const struct aipa_lf_config *cfg = e->cfg;

    aipa_lf_gen_init(&e->gen, seed, e->fixtures ? FIXTURE_COUNT : e->ts.id_count);
    for (size_t i = 0; i < cfg->dict_count; i++) {
        if (aipa_lf_gen_load_dict(&e->gen, cfg->dicts[i]) != AIPA_OK) {
            snprintf(e->harness_error, sizeof(e->harness_error), "cannot read dictionary %s",
                     cfg->dicts[i]);
            return AIPA_EIO;
        }
    }
    for (size_t i = 0; i < cfg->seed_case_dir_count; i++) {
        if (aipa_lf_gen_load_cases(&e->gen, cfg->seed_case_dirs[i], NULL) != AIPA_OK) {
            snprintf(e->harness_error, sizeof(e->harness_error), "cannot read cases under %s",
                     cfg->seed_case_dirs[i]);
            return AIPA_EIO;
        }
    }
    return AIPA_OK;
}

/*
 * Whether a request touches what the workers share beyond their own
 * fixtures: a parameter value naming an instance of the seed state, or a
 * SignatureNonce of its own (a dictionary value another worker may have
 * sent already; the nonces the renderer writes are unique per worker).
 */
static bool touches_shared(const struct engine *e, const struct aipa_lf_req *r)
{
    for (size_t i = 0; i < r->count; i++) {
        if (strcasecmp(r->params[i].name, "SignatureNonce") == 0) {
            return true;
        }
        for (size_t k = 0; k < e->seed_id_count; k++) {
            if (memmem(r->params[i].value, r->params[i].value_len, e->seed_ids[k],
                       strlen(e->seed_ids[k])) != NULL) {
                return true;
            }
        }
    }
    return false;
}

/* The target is reset for every worker; called with sh->mu held. */
static void epoch_reset_locked(struct engine *e)
{
    struct lf_shared *sh = e->sh;

    if (fixture_both(e, true, false, "POST", "/_aipa/reset", NULL) != AIPA_OK) {
        sh->reset_failed = true;
    }
    sh->seqs = 0;
    sh->arrived = 0;
    sh->generation++;
    pthread_cond_broadcast(&sh->cv);
}

/*
 * Before each sequence of a worker: once epoch_seqs sequences have started
 * since the last reset, every worker meets here, the last to arrive resets
 * the target and each resets its own reference.
 */
static aipa_err epoch_point(struct engine *e)
{
    struct lf_shared *sh = e->sh;
    bool reset = false;
    bool failed = false;

    pthread_mutex_lock(&sh->mu);
    sh->seqs++;
    if (sh->seqs > sh->epoch_seqs) {
        uint64_t gen = sh->generation;

        reset = true;
        sh->arrived++;
        if (sh->arrived == sh->active) {
            epoch_reset_locked(e);
        } else {
            while (gen == sh->generation) {
                pthread_cond_wait(&sh->cv, &sh->mu);
            }
        }
        failed = sh->reset_failed;
    }
    pthread_mutex_unlock(&sh->mu);
    if (failed) {
        if (e->harness_error[0] == '\0') {
            snprintf(e->harness_error, sizeof(e->harness_error),
                     "fixture protocol: the shared reset of the target failed");
        }
        return AIPA_EIO;
    }
    if (reset && e->diff) {
        return fixture_both(e, false, true, "POST", "/_aipa/reset", NULL);
    }
    return AIPA_OK;
}

static void worker_leave(struct engine *e)
{
    struct lf_shared *sh = e->sh;

    pthread_mutex_lock(&sh->mu);
    sh->active--;
    if (sh->arrived > 0 && sh->arrived == sh->active) {
        epoch_reset_locked(e); /* the others wait for no one now */
    }
    pthread_mutex_unlock(&sh->mu);
}

/* ---- response times ---- */

static struct aipa_lf_latency *latency_slot(struct aipa_lf_stats *s, const char *action)
{
    /* the six served actions by name; anything else shares the last slot */
    static const char *const known[] = {"AllocatePublicIpAddress", "DescribeInstances",
                                        "StartInstance",           "StopInstance",
                                        "RebootInstance",          "ReleasePublicIpAddress"};
    size_t k = AIPA_LF_LAT_ACTIONS - 1;

    for (size_t i = 0; i < AIPA_ARRAY_LEN(known) && i < AIPA_LF_LAT_ACTIONS - 1; i++) {
        if (strcmp(action, known[i]) == 0) {
            k = i;
        }
    }
    if (s->latency[k].action[0] == '\0') {
        snprintf(s->latency[k].action, sizeof(s->latency[k].action), "%s",
                 k == AIPA_LF_LAT_ACTIONS - 1 ? "(other)" : known[k]);
    }
    return &s->latency[k];
}

/*
 * Keeps a sample (a reservoir once the slot is full, its slot drawn from a
 * hash of the count: the generator's stream is left alone).
 */
static void latency_add(struct aipa_lf_stats *s, const char *action, double ms)
{
    struct aipa_lf_latency *l;

    if (ms <= 0) {
        return;
    }
    l = latency_slot(s, action);
    l->count++;
    if (l->sample_count < AIPA_LF_LAT_SAMPLES) {
        l->samples[l->sample_count++] = (float)ms;
    } else {
        uint64_t j = l->count * 0x9e3779b97f4a7c15ull;
        j ^= j >> 29;
        j %= l->count;
        if (j < AIPA_LF_LAT_SAMPLES) {
            l->samples[j] = (float)ms;
        }
    }
}


/*
 * At the end of a sequence: the state-effect oracle. A difference is a
 * finding whose steps are the whole sequence (minimized like any other).
 * True when one was recorded.
 */
static bool state_check(struct engine *e, size_t seq_len)
{
    struct aipa_lf_hit hit;
    bool new_found = false;
    size_t n = e->hist_n < seq_len ? e->hist_n : seq_len;

    if (!state_differs(e, &hit)) {
        return false;
    }
    e->hist_n = n - 1; /* record_hits takes hist[0..hist_n] */
    record_hits(e, &hit, 1, &new_found);
    e->hist_n = seq_len;
    e->tainted = true;
    for (size_t i = 0; new_found && i < e->finding_count; i++) {
        struct lf_finding *f = &e->findings[i];
        if (f->ref_outcomes == NULL && f->steps != NULL && !e->harness_failed) {
            minimize(e, f);
            make_repro(e, f);
        }
    }
    e->resync = true;
    return true;
}

/* Sequences of generated requests until the budget, the clock or a harness failure ends them. */
static void campaign(struct engine *e)
{
    const struct aipa_lf_config *cfg = e->cfg;
    struct aipa_lf_stats *stats = e->stats;
    struct aipa_lf_hit hits[LF_MAX_HITS];
    size_t seq_len = cfg->seq_len == 0 ? 1 : cfg->seq_len > LF_MAX_SEQ ? LF_MAX_SEQ : cfg->seq_len;
    unsigned skipped = 0;

    e->hist_n = seq_len; /* start with a fresh sequence */
    while (stats->requests < e->budget && now_s() - e->start < cfg->time_s && !e->harness_failed) {
        bool rendered = false;
        bool new_found = false;
        size_t nh;

        if (e->hist_n >= seq_len || e->resync) {
            if (!e->resync && !e->tainted && e->hist_n > 0 && state_check(e, seq_len)) {
                continue; /* a state finding was minimized: a fresh sequence follows */
            }
            e->hist_n = 0;
            e->resync = false;
            e->tainted = false;
            if (e->shared && e->fixtures && epoch_point(e) != AIPA_OK) {
                e->harness_failed = true;
                break;
            }
            /*
             * now and then a nearly exhausted pool, so InsufficientPublicIp is
             * reachable (not with --jobs: the workers share the target's pool)
             */
            e->pool_free = !e->shared && aipa_rng_below(&e->gen.rng, 100) < 10
                               ? (long)aipa_rng_below(&e->gen.rng, 3)
                               : -1;
            if (setup_sequence(e, e->pool_free) != AIPA_OK) {
                e->harness_failed = true;
                break;
            }
            stats->sequences++;
        }
        if (aipa_lf_generate(&e->gen, &e->hist[e->hist_n]) != AIPA_OK) {
            snprintf(e->harness_error, sizeof(e->harness_error), "out of memory");
            e->harness_failed = true;
            break;
        }
        /* another worker may change a seed instance or use a nonce at any time */
        if (e->shared && touches_shared(e, &e->hist[e->hist_n]) && ++skipped < 1000) {
            continue;
        }
        skipped = 0;
        if (cfg->rate > 0) {
            double due = e->start + (double)stats->requests / cfg->rate;
            double wait = due - now_s();
            if (wait > 0) {
                struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
        nh = run_one(e, &e->hist[e->hist_n], hits, LF_MAX_HITS, &rendered);
        if (!rendered) {
            continue; /* the same slot gets a new request */
        }
        stats->requests++;
        latency_add(stats, aipa_lf_req_action(&e->hist[e->hist_n]), e->rt.elapsed_ms);
        digest_req(&stats->digest, &e->hist[e->hist_n]);
        record_hits(e, hits, nh, &new_found);
        if (new_found) {
            /* minimization resets both sides: the sequence ends here */
            for (size_t i = 0; i < e->finding_count; i++) {
                struct lf_finding *f = &e->findings[i];
                if (f->ref_outcomes == NULL && f->steps != NULL && !e->harness_failed) {
                    minimize(e, f);
                    make_repro(e, f);
                }
            }
            e->hist_n = seq_len;
            e->tainted = true;
        } else {
            e->hist_n++;
        }
        progress(e, false);
    }
}

static void *worker_main(void *arg)
{
    struct engine *e = arg;

    campaign(e);
    worker_leave(e);
    return NULL;
}

/* The InstanceIds of the target's seed state (e->state), read with the bounded parser. */
static aipa_err read_seed_ids(struct engine *e)
{
    struct aipa_doc d;
    aipa_err err = AIPA_OK;
    size_t n = 0;

    aipa_doc_init(&d);
    if (aipa_parse_body(AIPA_BODY_JSON, NULL,
                        (const uint8_t *)(e->state.ptr != NULL ? e->state.ptr : ""), e->state.len,
                        NULL, &d, NULL) == AIPA_OK) {
        n = aipa_path_array_len(d.root, "Instances");
    }
    e->seed_ids = aipa_calloc(n + 1, sizeof(*e->seed_ids));
    if (e->seed_ids == NULL) {
        err = AIPA_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const char *id = aipa_path_string(aipa_path_array_item(d.root, "Instances", i), "InstanceId");
        if (id != NULL && strlen(id) > 0 && strlen(id) < AIPA_INSTANCE_ID_MAX) {
            snprintf(e->seed_ids[e->seed_id_count++], AIPA_INSTANCE_ID_MAX, "%s", id);
        }
    }
out:
    aipa_doc_cleanup(&d);
    return err;
}

/* A worker: its own connection, reference, generator (seed + i * 2^64/phi) and nonces. */
static aipa_err worker_setup(struct engine *e0, struct engine *w, unsigned i, struct lf_shared *sh)
{
    const struct aipa_lf_config *cfg = e0->cfg;
    unsigned n = cfg->jobs;

    w->wcfg = *cfg;
    /* the main thread reports progress; workers print only --verbose finding lines */
    w->wcfg.progress = cfg->verbose ? cfg->progress : NULL;
    w->wcfg.rate = cfg->rate / (double)n;
    engine_init(w, &w->wcfg, &w->wstats);
    w->wstats.digest = AIPA_FNV1A64_BASIS;
    w->shared = true;
    w->worker = i;
    w->sh = sh;
    w->start = e0->start;
    w->edition = e0->edition;
    w->ts = e0->ts;
    w->seed_ids = e0->seed_ids;
    w->seed_id_count = e0->seed_id_count;
    w->budget = cfg->requests / n + (i < cfg->requests % n ? 1 : 0);
    snprintf(w->base, sizeof(w->base), "%s", e0->base);
    snprintf(w->host, sizeof(w->host), "%s", e0->host);
    snprintf(w->token, sizeof(w->token), "%s", e0->token);
    snprintf(w->salt, sizeof(w->salt), "%.12s%04x", e0->salt, i);
    AIPA_TRY(open_tx(w));
    if (w->diff) {
        AIPA_TRY(new_reference(w, &e0->state));
    }
    return load_gen(w, cfg->seed + (uint64_t)i * 0x9e3779b97f4a7c15ull);
}

/* Moves a worker's findings and counts into the main engine. */
static void merge_worker(struct engine *e0, struct engine *w, uint64_t *digest)
{
    struct aipa_lf_stats *s = e0->stats;

    s->requests += w->wstats.requests;
    s->total_requests += w->wstats.total_requests;
    s->sequences += w->wstats.sequences;
    s->hits += w->wstats.hits;
    fnv(digest, &w->wstats.digest, sizeof(w->wstats.digest));
    for (size_t k = 0; k < AIPA_LF_LAT_ACTIONS; k++) {
        const struct aipa_lf_latency *l = &w->wstats.latency[k];
        struct aipa_lf_latency *m = &s->latency[k];
        if (l->action[0] != '\0') {
            snprintf(m->action, sizeof(m->action), "%s", l->action);
        }
        m->count += l->count;
        for (size_t j = 0; j < l->sample_count && m->sample_count < AIPA_LF_LAT_SAMPLES; j++) {
            m->samples[m->sample_count++] = l->samples[j];
        }
    }
    e0->dropped += w->dropped;
    for (size_t i = 0; i < w->finding_count; i++) {
        struct lf_finding *f = &w->findings[i];
        struct lf_finding *g = find_bucket(e0, f->key);
        if (g != NULL || e0->finding_count >= LF_MAX_FINDINGS) {
            if (g != NULL) {
                g->count += f->count;
            } else {
                e0->dropped++;
            }
            continue; /* freed with the worker */
        }
        e0->findings[e0->finding_count++] = *f;
        memset(f, 0, sizeof(*f)); /* now owned by e0 */
    }
    if (w->harness_failed && !e0->harness_failed) {
        e0->harness_failed = true;
        snprintf(e0->harness_error, sizeof(e0->harness_error), "worker %u: %.200s", w->worker,
                 w->harness_error);
    }
}

/* --jobs N: N workers on the one target, each with its own connection and reference. */
static void run_jobs(struct engine *e)
{
    const struct aipa_lf_config *cfg = e->cfg;
    unsigned n = cfg->jobs;
    struct engine *ws = aipa_calloc(n, sizeof(*ws));
    struct lf_shared sh;
    uint64_t digest = AIPA_FNV1A64_BASIS;

    if (ws == NULL) {
        snprintf(e->harness_error, sizeof(e->harness_error), "out of memory");
        e->harness_failed = true;
        return;
    }
    memset(&sh, 0, sizeof(sh));
    pthread_mutex_init(&sh.mu, NULL);
    pthread_cond_init(&sh.cv, NULL);
    /* at most ~10 addresses leave the pool per sequence: reset well before it drains */
    sh.epoch_seqs = cfg->reset_every != 0 ? cfg->reset_every : 1000;
    if (e->fixtures && e->state.len == 0) {
        /* without the reference the seed state was not read yet */
        if (fixture_both(e, true, false, "POST", "/_aipa/reset", NULL) != AIPA_OK ||
            fixture_both(e, true, false, "GET", "/_aipa/state", NULL) != AIPA_OK ||
            aipa_buf_append(&e->state, e->rt.body.ptr != NULL ? e->rt.body.ptr : "",
                            e->rt.body.len) != AIPA_OK) {
            e->harness_failed = true;
        }
    }
    if (!e->harness_failed && e->fixtures && read_seed_ids(e) != AIPA_OK) {
        snprintf(e->harness_error, sizeof(e->harness_error), "out of memory");
        e->harness_failed = true;
    }
    for (unsigned i = 0; i < n && !e->harness_failed; i++) {
        if (worker_setup(e, &ws[i], i, &sh) != AIPA_OK) {
            snprintf(e->harness_error, sizeof(e->harness_error), "worker %u: %.200s", i,
                     ws[i].harness_error[0] != '\0' ? ws[i].harness_error : "could not start");
            e->harness_failed = true;
        }
    }
    sh.active = n;
    for (unsigned i = 0; i < n && !e->harness_failed; i++) {
        if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0) {
            snprintf(e->harness_error, sizeof(e->harness_error), "cannot start worker %u", i);
            e->harness_failed = true;
            /* the ones not started never arrive at a rendezvous */
            pthread_mutex_lock(&sh.mu);
            sh.active = i;
            pthread_cond_broadcast(&sh.cv);
            pthread_mutex_unlock(&sh.mu);
            break;
        }
        ws[i].thread_started = true;
    }
    for (unsigned i = 0; i < n; i++) {
        if (ws[i].thread_started) {
            pthread_join(ws[i].thread, NULL);
            merge_worker(e, &ws[i], &digest);
        }
        if (ws[i].cfg != NULL) {
            engine_cleanup(&ws[i]);
        }
    }
    e->stats->digest = digest;
    pthread_cond_destroy(&sh.cv);
    pthread_mutex_destroy(&sh.mu);
    aipa_free(ws);
}

int aipa_lf_run(const struct aipa_lf_config *cfg, struct aipa_lf_stats *stats)
{
    struct engine *e = aipa_calloc(1, sizeof(*e));
    struct aipa_lf_stats local;
    int status = 2;
    bool finished = false;

    if (stats == NULL) {
        stats = &local;
    }
    memset(stats, 0, sizeof(*stats));
    stats->digest = AIPA_FNV1A64_BASIS;
    if (e == NULL) {
        fprintf(stderr, "aipa fuzz: out of memory\n");
        return 2;
    }
    if (cfg->jobs < 1 || cfg->jobs > AIPA_LF_MAX_JOBS) {
        fprintf(stderr, "aipa fuzz: --jobs must be 1 to %u\n", AIPA_LF_MAX_JOBS);
        aipa_free(e);
        return 2;
    }
    xmlInitParser(); /* before any worker thread parses */
    engine_init(e, cfg, stats);
    e->start = now_s();
    e->budget = cfg->requests;
    random_salt(e->salt);
    if (cfg->token != NULL) {
        snprintf(e->token, sizeof(e->token), "%s", cfg->token);
    } else {
        snprintf(e->token, sizeof(e->token), "fuzz-%s", e->salt);
    }
    if (cfg->target == NULL) {
        snprintf(e->harness_error, sizeof(e->harness_error), "no target");
        goto out;
    }
    if (parse_target(e, cfg->target, cfg->allow_remote) != AIPA_OK) {
        goto out;
    }
    if (open_tx(e) != AIPA_OK) {
        goto out;
    }
    if (e->fixtures && cfg->token == NULL) {
        snprintf(e->harness_error, sizeof(e->harness_error),
                 "the fixture protocol needs --token (or AIPA_FIXTURE_TOKEN); pass --no-fixtures "
                 "to fuzz without it (and without the differential oracle)");
        goto out;
    }
    if (sync_reference(e) != AIPA_OK) {
        goto out;
    }
    if (!e->fixtures) {
        for (size_t i = 0; i < cfg->instance_count && i < AIPA_LF_MAX_FIXTURES; i++) {
            snprintf(e->ts.ids[i], sizeof(e->ts.ids[i]), "%s", cfg->instances[i]);
            e->ts.idp[i] = e->ts.ids[i];
            e->ts.id_count = i + 1;
        }
    }
    if (load_gen(e, cfg->seed) != AIPA_OK) {
        goto out;
    }
    if (cfg->progress != NULL) {
        fprintf(cfg->progress,
                "fuzz: target %s%s, edition %s, seed %" PRIu64 ", differential %s, %zu "
                "dictionary values",
                e->base, cfg->embedded ? " (embedded reference server)" : "",
                aipa_edition_name(e->edition == AIPA_ED_2018 ? AIPA_ED_2018 : AIPA_ED_2024),
                cfg->seed,
                e->diff ? "on" : "off", e->gen.value_count);
        if (cfg->jobs > 1) {
            fprintf(cfg->progress, ", %u workers", cfg->jobs);
        }
        fputc('\n', cfg->progress);
    }

    if (cfg->jobs > 1) {
        run_jobs(e);
    } else {
        campaign(e);
    }
    stats->buckets = e->finding_count;
    stats->elapsed_s = now_s() - e->start;
    if (e->harness_failed) {
        stats->stop = "error";
        snprintf(stats->stop_detail, sizeof(stats->stop_detail), "%s", e->harness_error);
    } else {
        stats->stop = stats->requests >= e->budget ? "requests" : "time";
    }
    progress(e, true);
    if (e->harness_failed && e->finding_count == 0) {
        goto out;
    }
    if (e->harness_failed) {
        /* a target that stops answering mid-run is reported with what was found */
        fprintf(stderr, "aipa fuzz: stopped early: %s\n", e->harness_error);
        e->harness_error[0] = '\0';
    }
    status = finish(e, 0);
    finished = true;
out:
    if (status == 2 && e->harness_error[0] != '\0') {
        fprintf(stderr, "aipa fuzz: %s\n", e->harness_error);
    }
    if (!finished) {
        stats->stop = "error";
        snprintf(stats->stop_detail, sizeof(stats->stop_detail), "%s",
                 e->harness_error[0] != '\0' ? e->harness_error : "the run could not start");
        stats->elapsed_s = now_s() - e->start;
        summary(e, NULL, NULL, NULL);
    }
    engine_cleanup(e);
    aipa_free(e);
    return status;
}
