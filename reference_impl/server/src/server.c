/*
 * server.c: the reference server's request handler (aipa_srv_handle) and
 * the server object. No network here: the HTTP front end
 * (server_http_conn.c, server_http_loop.c) sits on top and this file never
 * calls it. The order of the checks is documented in docs/serve.md.
 */
#define _GNU_SOURCE /* memmem */
#include "aipa/model.h"
#include "aipa/render.h"
#include "aipa/sign.h"
#include "aipa/wire.h"
#include "server_int.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_RESPONSE               (256u * 1024u * 1024u) /* a state dump of a large model */
#define MAX_MESSAGE                (1024u * 1024u)        /* a StringToSign can be long */
#define DESCRIBE_DEFAULT_PAGE_SIZE 10u

/* ---- config and lifecycle ---- */

void aipa_srv_config_defaults(struct aipa_srv_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->listen_addr = "127.0.0.1";
    cfg->port = 0;
    cfg->max_connections = AIPA_SRV_DEFAULT_MAX_CONNECTIONS;
    cfg->connection_timeout_s = AIPA_SRV_DEFAULT_TIMEOUT_S;
    cfg->header_timeout_ms = AIPA_SRV_DEFAULT_HEADER_TIMEOUT_MS;
    cfg->threads = 0;
    /* The epoll loops: faster than a thread per connection in scripts/bench_server.sh. */
    cfg->thread_per_connection = false;
    cfg->max_url_len = AIPA_SRV_DEFAULT_MAX_URL;
    cfg->max_header_bytes = AIPA_SRV_DEFAULT_MAX_HEADER_BYTES;
    cfg->max_body_len = AIPA_SRV_DEFAULT_MAX_BODY;
    cfg->wire = aipa_wire_default_limits();
    cfg->max_skew_s = AIPA_SRV_DEFAULT_SKEW_S;
    cfg->nonce_window_s = AIPA_SRV_DEFAULT_NONCE_WINDOW_S;
    cfg->nonce_cache_max = AIPA_SRV_DEFAULT_NONCE_MAX;
    cfg->edition = AIPA_ED_2024;
    cfg->host_id = "ecs.aliyuncs.com";
}

void aipa_srv_response_init(struct aipa_srv_response *r)
{
    memset(r, 0, sizeof(*r));
    aipa_buf_init(&r->body, MAX_RESPONSE);
    r->content_type = AIPA_CT_JSON;
}

void aipa_srv_response_cleanup(struct aipa_srv_response *r)
{
    if (r != NULL) {
        aipa_buf_cleanup(&r->body);
    }
}

static void set_error(struct aipa_buf *e, const char *msg)
{
    if (e != NULL) {
        aipa_buf_reset(e);
        best_effort(aipa_buf_puts(e, msg));
    }
}

static bool dup_opt(char **dst, const char *src)
{
    if (src == NULL) {
        *dst = NULL;
        return true;
    }
    *dst = aipa_strdup(src);
    return *dst != NULL;
}

static void free_creds(struct aipa_srv *srv)
{
    for (size_t i = 0; i < srv->cred_count; i++) {
        struct aipa_srv_credential *c = &srv->creds[i];

        if (c->access_key_secret != NULL) {
            aipa_memzero((char *)(uintptr_t)c->access_key_secret, strlen(c->access_key_secret));
        }
        aipa_free((char *)(uintptr_t)c->access_key_id);
        aipa_free((char *)(uintptr_t)c->access_key_secret);
        aipa_free((char *)(uintptr_t)c->owner_id);
        aipa_free((char *)(uintptr_t)c->security_token);
    }
    aipa_free(srv->creds);
    srv->creds = NULL;
    srv->cred_count = 0;
}

static aipa_err copy_creds(struct aipa_srv *srv, const struct aipa_srv_config *cfg)
{
    static const struct aipa_srv_credential demo = {
        AIPA_DEMO_ACCESS_KEY_ID, AIPA_DEMO_ACCESS_KEY_SECRET, true, false, NULL, NULL, 0};
    const struct aipa_srv_credential *src = cfg->credentials;
    size_t n = cfg->credential_count;

    if (n == 0 || src == NULL) {
        src = &demo;
        n = 1;
    }
    srv->creds = aipa_calloc(n, sizeof(*srv->creds));
    AIPA_ENSURE(srv->creds != NULL, AIPA_ENOMEM);
    for (size_t i = 0; i < n; i++) {
        struct aipa_srv_credential *c = &srv->creds[i];

        AIPA_ENSURE(src[i].access_key_id != NULL && src[i].access_key_secret != NULL, AIPA_EINVAL);
        srv->cred_count = i + 1;
        c->access_key_id = aipa_strdup(src[i].access_key_id);
        c->access_key_secret = aipa_strdup(src[i].access_key_secret);
        c->active = src[i].active;
        c->whitelisted = src[i].whitelisted;
        c->expiration = src[i].expiration;
        AIPA_ENSURE(c->access_key_id != NULL && c->access_key_secret != NULL, AIPA_ENOMEM);
        if (src[i].owner_id != NULL) {
            c->owner_id = aipa_strdup(src[i].owner_id);
            AIPA_ENSURE(c->owner_id != NULL, AIPA_ENOMEM);
        }
        if (src[i].security_token != NULL) {
            c->security_token = aipa_strdup(src[i].security_token);
            AIPA_ENSURE(c->security_token != NULL, AIPA_ENOMEM);
        }
    }
    return AIPA_OK;
}

aipa_err aipa_srv_new(struct aipa_srv **out, const struct aipa_srv_config *cfg)
{
    aipa_err err = AIPA_ENOMEM;
    struct aipa_srv *srv = aipa_calloc(1, sizeof(*srv));
    struct aipa_model_config mc;
    const char *state;
    size_t state_len;

    *out = NULL;
    if (srv == NULL) {
        set_error(cfg->error, "out of memory");
        return AIPA_ENOMEM;
    }
    srv->cfg = *cfg;
    if (!dup_opt(&srv->listen_addr, cfg->listen_addr != NULL ? cfg->listen_addr : "127.0.0.1") ||
        !dup_opt(&srv->tls_cert_file, cfg->tls_cert_file) ||
        !dup_opt(&srv->tls_key_file, cfg->tls_key_file) ||
        !dup_opt(&srv->fixture_token, cfg->fixture_token) ||
        !dup_opt(&srv->host_id, cfg->host_id != NULL ? cfg->host_id : "ecs.aliyuncs.com")) {
        goto out;
    }
    srv->cfg.listen_addr = srv->listen_addr;
    srv->cfg.tls_cert_file = srv->tls_cert_file;
    srv->cfg.tls_key_file = srv->tls_key_file;
    srv->cfg.fixture_token = srv->fixture_token;
    srv->cfg.host_id = srv->host_id;
    if (srv->cfg.fixtures && (srv->fixture_token == NULL || srv->fixture_token[0] == '\0')) {
        set_error(cfg->error, "the fixture protocol needs a non-empty token");
        err = AIPA_EINVAL;
        goto out;
    }
    err = copy_creds(srv, cfg);
    if (err != AIPA_OK) {
        set_error(cfg->error, "bad credentials");
        goto out;
    }
    srv->cfg.credentials = srv->creds;
    srv->cfg.credential_count = srv->cred_count;

    state = cfg->state_json != NULL ? cfg->state_json : aipa_srv_default_state();
    state_len = cfg->state_json != NULL ? cfg->state_json_len : strlen(state);
    err = AIPA_ENOMEM;
    srv->state_json = aipa_strndup(state, state_len);
    if (srv->state_json == NULL) {
        goto out;
    }
    srv->state_json_len = state_len;
    srv->cfg.state_json = srv->state_json;

    memset(&mc, 0, sizeof(mc));
    mc.edition = cfg->edition != 0 ? cfg->edition : AIPA_ED_2024;
    mc.seed = cfg->seed;
    mc.pool_cidrs = cfg->pool_cidrs;
    mc.pool_cidr_count = cfg->pool_cidr_count;
    mc.latitude_alt = cfg->latitude_alt;
    srv->cfg.pool_cidrs = NULL; /* not kept past new */
    srv->cfg.pool_cidr_count = 0;
    err = aipa_model_new(&srv->model, &mc);
    if (err != AIPA_OK) {
        set_error(cfg->error, "cannot create the model (bad pool?)");
        goto out;
    }
    err = aipa_model_load_json(srv->model, srv->state_json, srv->state_json_len, cfg->error);
    if (err != AIPA_OK) {
        goto out;
    }
    err = aipa__nonce_cache_new(
        &srv->nonces, cfg->nonce_cache_max != 0 ? cfg->nonce_cache_max : AIPA_SRV_DEFAULT_NONCE_MAX,
        cfg->nonce_window_s);
    if (err != AIPA_OK) {
        set_error(cfg->error, "cannot create the nonce cache");
        goto out;
    }
    if (cfg->throttle_rate > 0) {
        double burst = cfg->throttle_burst > 0 ? cfg->throttle_burst : cfg->throttle_rate;

        err = aipa__throttle_new(&srv->throttle, srv->cred_count + 1, cfg->throttle_rate,
                                 burst < 1 ? 1 : burst);
        if (err != AIPA_OK) {
            set_error(cfg->error, "cannot create the throttle");
            goto out;
        }
    }
    if (pthread_mutex_init(&srv->rng_lock, NULL) != 0) {
        err = AIPA_ENOMEM;
        goto out;
    }
    srv->rng_lock_ok = true;
    /* RequestIds use their own stream so they do not disturb the model's. */
    aipa_rng_seed(&srv->rng, cfg->seed ^ 0x5245515545535431ull);
    err = AIPA_OK;
out:
    if (err != AIPA_OK) {
        aipa_srv_free(srv); /* one cleanup path: it also wipes the fixture token */
        srv = NULL;
    }
    *out = srv;
    return err;
}

void aipa_srv_free(struct aipa_srv *srv)
{
    if (srv == NULL) {
        return;
    }
    if (srv->front_stop != NULL) {
        srv->front_stop(srv); /* a running front end (server_http_loop.c) */
    }
    if (srv->rng_lock_ok) {
        pthread_mutex_destroy(&srv->rng_lock);
    }
    aipa__nonce_cache_free(srv->nonces);
    aipa__throttle_free(srv->throttle);
    aipa_model_free(srv->model);
    free_creds(srv);
    if (srv->fixture_token != NULL) {
        aipa_memzero(srv->fixture_token, strlen(srv->fixture_token));
    }
    aipa_free(srv->listen_addr);
    aipa_free(srv->tls_cert_file);
    aipa_free(srv->tls_key_file);
    aipa_free(srv->fixture_token);
    aipa_free(srv->host_id);
    aipa_free(srv->state_json);
    aipa_free(srv);
}

struct aipa_model *aipa_srv_model(struct aipa_srv *srv)
{
    return srv->model;
}

/* ---- the handler ---- */

struct hctx {
    struct aipa_srv *srv;
    const struct aipa_srv_request *req;
    struct aipa_srv_response *resp;
    enum aipa_format fmt;
    bool v3;
    struct aipa_params params;       /* query + form body */
    struct aipa_params query_params; /* query only, for V3 */
    const struct aipa_srv_credential *cred;
    bool authed;            /* the signature was checked (and the nonce recorded) */
    struct aipa_caller who; /* the key's account (the default one with auth off), DryRun */
};

static void copy_field(char *dst, size_t cap, const char *src, size_t n)
{
    if (n >= cap) {
        n = cap - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The last resort when even an error body cannot be built. */
static void internal_failure(struct hctx *h)
{
    struct aipa_srv_response *r = h->resp;

    aipa_buf_reset(&r->body);
    r->status = 500;
    copy_field(r->code, sizeof(r->code), "InternalError", 13);
    if (h->fmt == AIPA_FMT_JSON) {
        r->content_type = AIPA_CT_JSON;
        best_effort(aipa_buf_puts(&r->body, "{\"Code\":\"InternalError\"}"));
    } else {
        r->content_type = AIPA_CT_XML;
        best_effort(aipa_buf_puts(&r->body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                                            "<Error><Code>InternalError</Code></Error>"));
    }
}

/*
 * Answers with error id (status from the table unless status is non-zero);
 * arg fills the %s of its Code and Message.
 */
static void reply_error(struct hctx *h, enum aipa_code id, const char *arg, unsigned status)
{
    const struct aipa_api_error *e = aipa_code_info(id);
    struct aipa_srv_response *r = h->resp;
    struct aipa_buf code, msg, rec;
    aipa_err err;

    if (e == NULL) {
        internal_failure(h);
        return;
    }
    aipa_buf_init(&code, 256);
    aipa_buf_init(&msg, MAX_MESSAGE);
    aipa_buf_init(&rec, 512);
    err = aipa_code_format_code(id, arg, &code);
    if (err == AIPA_OK) {
        err = aipa_code_format_message(id, arg, &msg);
    }
    if (err == AIPA_OK) {
        err = aipa_buf_printf(&rec,
                              "https://api.aliyun.com/troubleshoot?q=%s&product=Ecs&requestId=%s",
                              code.ptr, r->request_id);
    }
    if (err == AIPA_OK) {
        aipa_buf_reset(&r->body);
        err = aipa_render_error(h->fmt, r->request_id, h->srv->host_id, code.ptr, msg.ptr, rec.ptr,
                                &r->body);
    }
    if (err == AIPA_OK) {
        r->status = status != 0 ? status : (unsigned)e->http_status;
        r->content_type = aipa_content_type(h->fmt);
        copy_field(r->code, sizeof(r->code), code.ptr, code.len);
    } else {
        internal_failure(h);
    }
    aipa_buf_cleanup(&code);
    aipa_buf_cleanup(&msg);
    aipa_buf_cleanup(&rec);
}

static void reply_ok(struct hctx *h, aipa_err render_err)
{
    if (render_err != AIPA_OK) {
        internal_failure(h);
        return;
    }
    h->resp->status = 200;
    h->resp->content_type = aipa_content_type(h->fmt);
    h->resp->code[0] = '\0';
}

/* Parses a decimal in [min, max]; false for anything else. */
static bool parse_uint(const char *s, size_t n, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0 || n > 20) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');

        if (d > 9 || v > (max - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    if (v < min) {
        return false;
    }
    *out = v;
    return true;
}

static bool alt(const struct hctx *h)
{
    return h->srv->cfg.latitude_alt;
}

static void lat(struct hctx *h, enum aipa_lat row)
{
    aipa_lat_set_add(&h->resp->latitude, row);
}

/*
 * Answers that a required parameter is missing: MissingParameter, or
 * Missing{Name} with --latitude alt; row says which latitude row applies.
 */
static void reply_missing(struct hctx *h, const char *name, enum aipa_lat row)
{
    /* Missing{Name} names the parameter, also when V3 carries it in a header */
    static const char *const v3_names[][2] = {
        {"x-acs-action", "Action"},           {"x-acs-version", "Version"},
        {"x-acs-date", "Timestamp"},          {"x-acs-signature-nonce", "SignatureNonce"},
        {"x-acs-content-sha256", "ContentSha256"}, {"Authorization", "Signature"},
    };

    lat(h, row);
    if (alt(h)) {
        for (size_t i = 0; i < AIPA_ARRAY_LEN(v3_names); i++) {
            if (strcasecmp(name, v3_names[i][0]) == 0) {
                name = v3_names[i][1];
            }
        }
        reply_error(h, AIPA_C_MISSING_NAMED, name, 0);
    } else {
        reply_error(h, AIPA_C_MISSING_PARAMETER, name, 0);
    }
}

/* The value of a required parameter; answers MissingParameter and returns NULL when absent. */
static const char *required(struct hctx *h, const char *name)
{
    const struct aipa_param *p = aipa_params_get(&h->params, name);

    if (p == NULL || p->value_len == 0) {
        enum aipa_lat row = strcmp(name, "InstanceId") == 0        ? AIPA_LAT_MISSING_INSTANCE_ID
                            : strcmp(name, "PublicIpAddress") == 0 ? AIPA_LAT_RELEASE_NO_ADDRESS
                                                                   : AIPA_LAT_MISSING_PARAM_CODE;
        reply_missing(h, name, row);
        return NULL;
    }
    return p->value;
}

/* Optional numeric (int64) parameter: answers error id when present and not a number. */
static bool optional_number(struct hctx *h, const char *name, enum aipa_code id, const char *arg)
{
    const struct aipa_param *p = aipa_params_get(&h->params, name);
    uint64_t v;

    if (p != NULL && !parse_uint(p->value, p->value_len, 0, INT64_MAX, &v)) {
        reply_error(h, id, arg, 0);
        return false;
    }
    return true;
}

/*
 * InstanceId: required, and well formed (1-31 of [A-Za-z0-9._:*-], the ids the
 * model can hold); else MissingParameter or InvalidInstanceId.Malformed.
 */
static const char *instance_id(struct hctx *h)
{
    const char *id = required(h, "InstanceId");

    if (id == NULL) {
        return NULL;
    }
    if (!aipa_instance_id_valid(id, strlen(id))) {
        lat(h, AIPA_LAT_INSTANCE_ID_MALFORMED);
        reply_error(h, alt(h) ? AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND
                              : AIPA_C_INVALID_INSTANCE_ID_MALFORMED,
                    NULL, 0);
        return NULL;
    }
    return id;
}

static const char *nonempty(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

/*
 * DryRun (every action): "true" or "false" in any case; anything else is
 * InvalidParameter. Sets h->who.dry_run; false after answering an error.
 */
static bool dry_run(struct hctx *h)
{
    const struct aipa_param *p = aipa_params_get(&h->params, "DryRun");

    h->who.dry_run = false;
    if (p == NULL) {
        return true;
    }
    if (p->value_len == 4 && strncasecmp(p->value, "true", 4) == 0) {
        h->who.dry_run = true;
        return true;
    }
    if (p->value_len == 5 && strncasecmp(p->value, "false", 5) == 0) {
        return true;
    }
    reply_error(h, AIPA_C_INVALID_PARAMETER, "DryRun", 0);
    return false;
}

static void act_allocate(struct hctx *h)
{
    struct aipa_alloc_req ar;
    char ip[AIPA_IPV4_MAX] = "";
    enum aipa_code code;
    const char *id = instance_id(h);

    if (id == NULL) {
        return;
    }
    if (!optional_number(h, "OwnerId", alt(h) ? AIPA_C_INVALID_PARAMETER : AIPA_C_INVALID_OWNER_ID,
                         "OwnerId") ||
        !optional_number(h, "ResourceOwnerId", AIPA_C_INVALID_PARAMETER, "ResourceOwnerId")) {
        lat(h, AIPA_LAT_OWNER_ID);
        return;
    }
    if (aipa_params_get(&h->params, "OwnerId") != NULL &&
        aipa_params_get(&h->params, "OwnerAccount") != NULL) {
        lat(h, AIPA_LAT_OWNER_BOTH);
        reply_error(h, alt(h) ? AIPA_C_INVALID_OWNER_ID : AIPA_C_INVALID_OWNER, NULL, 0);
        return;
    }
    memset(&ar, 0, sizeof(ar));
    ar.instance_id = id;
    /* An empty optional parameter is treated as absent, as the gateway does with empty values. */
    ar.ip_address = nonempty(aipa_params_value(&h->params, "IpAddress"));
    ar.vlan_id = nonempty(aipa_params_value(&h->params, "VlanId"));
    /* With auth off there is no caller to look up: treat it as whitelisted. */
    ar.whitelisted = h->cred != NULL ? h->cred->whitelisted : true;
    code = aipa_model_allocate_lat(h->srv->model, &h->who, &ar, ip, &h->resp->latitude);
    if (code != AIPA_C_OK) {
        reply_error(h, code, NULL, 0);
        return;
    }
    aipa_buf_reset(&h->resp->body);
    reply_ok(h, aipa_render_allocate(h->fmt, h->resp->request_id, ip, &h->resp->body));
}

typedef enum aipa_code (*lifecycle_fn)(struct aipa_model *, const struct aipa_caller *,
                                       const char *);

static void act_lifecycle(struct hctx *h, lifecycle_fn fn)
{
    enum aipa_code code;
    const char *id = instance_id(h);

    if (id == NULL) {
        return;
    }
    code = fn(h->srv->model, &h->who, id);
    if (code != AIPA_C_OK) {
        reply_error(h, code, NULL, 0);
        return;
    }
    aipa_buf_reset(&h->resp->body);
    reply_ok(h, aipa_render_simple(h->fmt, h->resp->action, h->resp->request_id, &h->resp->body));
}

/*
 * ReleasePublicIpAddress as the metadata has it: PublicIpAddress required,
 * InstanceId optional (without it the model answers NeedInstanceId).
 */
static void act_release(struct hctx *h)
{
    enum aipa_code code;
    const char *id = NULL;
    const char *ip;

    if (nonempty(aipa_params_value(&h->params, "InstanceId")) != NULL) {
        id = instance_id(h);
        if (id == NULL) {
            return;
        }
    }
    ip = required(h, "PublicIpAddress");
    if (ip == NULL) {
        return;
    }
    code = aipa_model_release_lat(h->srv->model, &h->who, id, ip, &h->resp->latitude);
    if (code != AIPA_C_OK) {
        reply_error(h, code, NULL, 0);
        return;
    }
    aipa_buf_reset(&h->resp->body);
    reply_ok(h, aipa_render_simple(h->fmt, h->resp->action, h->resp->request_id, &h->resp->body));
}

static void reply_bad_ids(struct hctx *h)
{
    lat(h, AIPA_LAT_DESCRIBE_BAD_IDS);
    if (alt(h)) {
        reply_error(h, AIPA_C_INVALID_NAMED, "InstanceIds.Malformed", 0);
    } else {
        reply_error(h, AIPA_C_INVALID_PARAMETER, "InstanceIds", 0);
    }
}

/* Reads InstanceIds (a JSON array of strings) into ids; false after answering an error. */
static bool parse_instance_ids(struct hctx *h, const struct aipa_param *p, cJSON **doc,
                               const char **ids, size_t *count)
{
    const cJSON *item;

    *count = 0;
    *doc = cJSON_ParseWithLength(p->value, p->value_len);
    if (*doc == NULL || !cJSON_IsArray(*doc) ||
        (size_t)cJSON_GetArraySize(*doc) > AIPA_SRV_MAX_IDS) {
        reply_bad_ids(h);
        return false;
    }
    cJSON_ArrayForEach(item, *doc)
    {
        if (!cJSON_IsString(item) || item->valuestring == NULL) {
            reply_bad_ids(h);
            return false;
        }
        ids[(*count)++] = item->valuestring;
    }
    return true;
}

static void act_describe(struct hctx *h)
{
    const struct aipa_param *p;
    const char *ids[AIPA_SRV_MAX_IDS];
    size_t id_count = 0, count = 0, total = 0;
    uint64_t page_number = 1, page_size = DESCRIBE_DEFAULT_PAGE_SIZE;
    struct aipa_instance_view *views = NULL;
    cJSON *doc = NULL;
    enum aipa_code code;

    struct aipa_describe_filter f;

    memset(&f, 0, sizeof(f));
    if (required(h, "RegionId") == NULL) {
        goto out;
    }
    p = aipa_params_get(&h->params, "PageNumber");
    if (p != NULL && !parse_uint(p->value, p->value_len, 1, INT32_MAX, &page_number)) {
        lat(h, AIPA_LAT_DESCRIBE_PAGING);
        reply_error(h, AIPA_C_INVALID_PARAMETER, "PageNumber", 0);
        goto out;
    }
    p = aipa_params_get(&h->params, "PageSize");
    if (p != NULL && !parse_uint(p->value, p->value_len, 1, AIPA_SRV_MAX_IDS, &page_size)) {
        lat(h, AIPA_LAT_DESCRIBE_PAGING);
        reply_error(h, AIPA_C_INVALID_PARAMETER, "PageSize", 0);
        goto out;
    }
    p = aipa_params_get(&h->params, "InstanceIds");
    if (p != NULL && !parse_instance_ids(h, p, &doc, ids, &id_count)) {
        goto out;
    }
    p = aipa_params_get(&h->params, "Status");
    if (p != NULL && p->value_len > 0) {
        if (aipa_status_parse(p->value, &f.status) != AIPA_OK) {
            reply_error(h, AIPA_C_INVALID_STATUS_NOT_FOUND, NULL, 0);
            goto out;
        }
        f.has_status = true;
    }
    if (h->who.dry_run) {
        reply_error(h, AIPA_C_DRY_RUN_OPERATION, NULL, 0);
        goto out;
    }
    views = aipa_calloc((size_t)page_size, sizeof(*views));
    if (views == NULL) {
        internal_failure(h);
        goto out;
    }
    f.ids = id_count > 0 ? ids : NULL;
    f.id_count = id_count;
    code = aipa_model_describe_as(h->srv->model, &h->who, &f, (size_t)page_number,
                                  (size_t)page_size, views, (size_t)page_size, &count, &total);
    if (code != AIPA_C_OK) {
        reply_error(h, code, NULL, 0);
        goto out;
    }
    aipa_buf_reset(&h->resp->body);
    reply_ok(h, aipa_render_describe(h->fmt, h->resp->request_id, views, count, total,
                                     (size_t)page_number, (size_t)page_size, &h->resp->body));
out:
    cJSON_Delete(doc);
    aipa_free(views);
}

enum action {
    ACT_ALLOCATE,
    ACT_DESCRIBE,
    ACT_START,
    ACT_STOP,
    ACT_REBOOT,
    ACT_RELEASE,
    ACT_UNKNOWN,
};

static const char *const action_names[] = {
    "AllocatePublicIpAddress", "DescribeInstances",      "StartInstance", "StopInstance",
    "RebootInstance",          "ReleasePublicIpAddress",
};

static enum action find_action(const char *s, size_t n)
{
    for (size_t i = 0; i < AIPA_ARRAY_LEN(action_names); i++) {
        if (strlen(action_names[i]) == n && memcmp(action_names[i], s, n) == 0) {
            return (enum action)i;
        }
    }
    return ACT_UNKNOWN;
}

static void dispatch(struct hctx *h, enum action a)
{
    h->who.owner_id = h->cred != NULL ? h->cred->owner_id : NULL;
    if (a != ACT_UNKNOWN && !dry_run(h)) {
        return;
    }
    switch (a) {
    case ACT_ALLOCATE:
        act_allocate(h);
        break;
    case ACT_DESCRIBE:
        act_describe(h);
        break;
    case ACT_START:
        act_lifecycle(h, aipa_model_start_as);
        break;
    case ACT_STOP:
        act_lifecycle(h, aipa_model_stop_as);
        break;
    case ACT_REBOOT:
        act_lifecycle(h, aipa_model_reboot_as);
        break;
    case ACT_RELEASE:
        act_release(h);
        break;
    case ACT_UNKNOWN:
        reply_error(h, AIPA_C_INVALID_ACTION_NOT_FOUND, NULL, 0);
        break;
    }
}

/* Format from Accept, else the version's default (V1 XML, V3 JSON). */
static enum aipa_format default_format(const struct aipa_srv_request *req, bool v3)
{
    const struct aipa_header *a = aipa__srv_header(req, "Accept");

    if (a != NULL) {
        const char *v = (const char *)a->value.ptr;
        size_t n = a->value.len;

        if (memmem(v, n, "application/json", 16) != NULL) {
            return AIPA_FMT_JSON;
        }
        if (memmem(v, n, "xml", 3) != NULL) {
            return AIPA_FMT_XML;
        }
    }
    return v3 ? AIPA_FMT_JSON : AIPA_FMT_XML;
}

/*
 * A Format parameter found by scanning raw "a=b&c=d" text (no decoding, at
 * most the first 256 pairs), so that a request rejected before its
 * parameters are parsed (a limit, a bad escape elsewhere) is still answered
 * in the format it asked for. Only the literal values json and xml count.
 */
static bool raw_format(const uint8_t *s, size_t n, enum aipa_format *out)
{
    const uint8_t *p = s;
    const uint8_t *end = s + n;

    for (int pairs = 0; p < end && pairs < 256; pairs++) {
        const uint8_t *amp = memchr(p, '&', (size_t)(end - p));
        const uint8_t *stop = amp != NULL ? amp : end;
        size_t len = (size_t)(stop - p);

        if (len == 11 && memcmp(p, "Format=", 7) == 0 &&
            strncasecmp((const char *)p + 7, "json", 4) == 0) {
            *out = AIPA_FMT_JSON;
            return true;
        }
        if (len == 10 && memcmp(p, "Format=", 7) == 0 &&
            strncasecmp((const char *)p + 7, "xml", 3) == 0) {
            *out = AIPA_FMT_XML;
            return true;
        }
        if (amp == NULL) {
            break;
        }
        p = amp + 1;
    }
    return false;
}

/*
 * The format of an answer given before the parameters are parsed (a limit
 * or broken framing): a literal Format=json|xml pair in the raw query or
 * form body, else Accept, else JSON for a client that names its action in
 * x-acs-action (pop-core and the V3 SDKs, which cannot read XML), else the
 * version's default (fallback).
 */
static bool is_form(const struct aipa_srv_request *req);

static enum aipa_format limit_format(const struct aipa_srv_request *req, struct aipa_slice query,
                                     enum aipa_format fallback)
{
    enum aipa_format f = fallback;

    if (raw_format(query.ptr, query.len, &f)) {
        return f;
    }
    if (is_form(req) && req->body_len > 0 && raw_format(req->body, req->body_len, &f)) {
        return f;
    }
    if (aipa__srv_header(req, "Accept") == NULL && aipa__srv_header(req, "x-acs-action") != NULL) {
        return AIPA_FMT_JSON;
    }
    return fallback;
}

static bool is_form(const struct aipa_srv_request *req)
{
    const struct aipa_header *ct = aipa__srv_header(req, "Content-Type");
    static const char form[] = "application/x-www-form-urlencoded";
    size_t n = sizeof(form) - 1;

    if (ct == NULL || ct->value.len < n || strncasecmp((const char *)ct->value.ptr, form, n) != 0) {
        return false;
    }
    return ct->value.len == n || ct->value.ptr[n] == ';' || ct->value.ptr[n] == ' ';
}

static bool parse_wire(struct hctx *h, const uint8_t *s, size_t n, enum aipa_param_origin origin)
{
    struct aipa_wire_result res;
    aipa_err err;

    memset(&res, 0, sizeof(res));
    err = aipa_wire_parse(s, n, AIPA_WIRE_PLUS_IS_SPACE, origin, &h->params, &res);
    if (err == AIPA_OK) {
        return true;
    }
    if (err == AIPA_ENOMEM || res.code == AIPA_C_OK) {
        internal_failure(h);
        return false;
    }
    res.detail[sizeof(res.detail) - 1] = '\0';
    lat(h, res.duplicate           ? AIPA_LAT_DUP_PARAM
           : err == AIPA_ETOOBIG ? AIPA_LAT_WIRE_LIMIT
                                 : AIPA_LAT_WIRE_MALFORMED);
    reply_error(h, res.code, res.detail, 0);
    return false;
}

/* Action and Version: V3 headers, else the parameters. False when absent or empty. */
static bool common_value(const struct hctx *h, const char *hdr, const char *param,
                         const char **out, size_t *out_len)
{
    const struct aipa_param *p;

    if (h->v3) {
        const struct aipa_header *x = aipa__srv_header(h->req, hdr);

        if (x != NULL && x->value.len > 0) {
            *out = (const char *)x->value.ptr;
            *out_len = x->value.len;
            return true;
        }
    }
    p = aipa_params_get(&h->params, param);
    if (p != NULL && p->value_len > 0) {
        *out = p->value;
        *out_len = p->value_len;
        return true;
    }
    return false;
}

static bool get_common(struct hctx *h, const char *hdr, const char *param, enum aipa_lat row,
                       const char **out, size_t *out_len)
{
    if (common_value(h, hdr, param, out, out_len)) {
        return true;
    }
    reply_missing(h, h->v3 ? hdr : param, row);
    return false;
}

static int64_t now_us(void);

/*
 * --throttle: takes a token from the caller's bucket (the key's index, or
 * the shared last bucket when auth is off). False when there was none; the
 * wait then goes out as x-acs-retry-after. Buckets run on the configured
 * clock when there is one (so a fixed clock, as in the fuzz targets, gives
 * repeatable answers), else on the monotonic clock.
 */
static bool admit(struct hctx *h, const struct aipa_srv_credential *cred)
{
    struct aipa_srv *srv = h->srv;
    size_t key = cred != NULL ? (size_t)(cred - srv->creds) : srv->cred_count;
    unsigned wait_ms;

    if (srv->throttle == NULL) {
        return true;
    }
    wait_ms = aipa__throttle_take(srv->throttle, key,
                                  srv->cfg.now != NULL ? (double)aipa__srv_now(srv)
                                                       : (double)now_us() / 1e6);
    h->resp->retry_after_ms = wait_ms;
    return wait_ms == 0;
}

/* The gateway checks of handle_api, in order; where a request was refused. */
enum stage { ST_FORMAT, ST_ACTION, ST_VERSION, ST_UNKNOWN_ACTION, ST_AUTH };

static bool version_ok(const char *v, size_t n)
{
    return n == sizeof(AIPA_API_VERSION) - 1 && memcmp(v, AIPA_API_VERSION, n) == 0;
}

/* Format: absent (true), json or xml (true, *fmt set), else false. */
static bool format_ok(const struct hctx *h, enum aipa_format *fmt, bool *empty)
{
    const struct aipa_param *f = aipa_params_get(&h->params, "Format");

    *empty = f != NULL && f->value_len == 0;
    if (f == NULL) {
        return true;
    }
    if (f->value_len == 4 && strcasecmp(f->value, "json") == 0) {
        *fmt = AIPA_FMT_JSON;
        return true;
    }
    if (f->value_len == 3 && strcasecmp(f->value, "xml") == 0) {
        *fmt = AIPA_FMT_XML;
        return true;
    }
    return false;
}

/*
 * The row whose documented variants an answer with Code c may take (its
 * status, Missing{Name}, ...); AIPA_LAT_COUNT_ when none.
 */
static enum aipa_lat code_row(enum aipa_code c)
{
    static const struct {
        enum aipa_code code;
        enum aipa_lat row;
    } rows[] = {
        {AIPA_C_INVALID_ACCESS_KEY_ID_NOT_FOUND, AIPA_LAT_KEY_UNKNOWN},
        {AIPA_C_INVALID_ACCESS_KEY_ID_INACTIVE, AIPA_LAT_KEY_INACTIVE},
        {AIPA_C_INVALID_TIMESTAMP_FORMAT, AIPA_LAT_TIMESTAMP_FORMAT},
        {AIPA_C_INCOMPLETE_SIGNATURE, AIPA_LAT_SIGNATURE_MISSING},
        {AIPA_C_INVALID_SIGNATURE_METHOD, AIPA_LAT_SIGNATURE_METHOD},
        {AIPA_C_MISSING_PARAMETER, AIPA_LAT_MISSING_PARAM_CODE},
        {AIPA_C_INVALID_VERSION, AIPA_LAT_VERSION_WRONG},
        {AIPA_C_INVALID_ACTION_NOT_FOUND, AIPA_LAT_ACTION_UNKNOWN},
        {AIPA_C_INVALID_PARAMETER_FORMAT, AIPA_LAT_FORMAT_UNKNOWN},
        {AIPA_C_INVALID_INSTANCE_ID_MALFORMED, AIPA_LAT_INSTANCE_ID_MALFORMED},
    };

    for (size_t i = 0; i < AIPA_ARRAY_LEN(rows); i++) {
        if (rows[i].code == c) {
            return rows[i].row;
        }
    }
    return AIPA_LAT_COUNT_;
}

/* check-order: code (its %s filled by arg) is another answer this request earns. */
static void also_arg(struct hctx *h, enum aipa_code code, const char *arg)
{
    const struct aipa_api_error *e = aipa_code_info(code);
    struct aipa_buf wire;
    enum aipa_lat row = code_row(code);

    if (e == NULL) {
        return;
    }
    aipa_buf_init(&wire, 256);
    if (aipa_code_format_code(code, arg, &wire) == AIPA_OK && wire.ptr != NULL) {
        aipa_lat_set_also_answer(&h->resp->latitude, AIPA_LAT_CHECK_ORDER,
                                 (unsigned)e->http_status, wire.ptr);
    }
    aipa_buf_cleanup(&wire);
    if (row != AIPA_LAT_COUNT_) {
        lat(h, row); /* and the documented variants of that answer */
    }
}

static void also(struct hctx *h, enum aipa_code code)
{
    also_arg(h, code, NULL);
}


/* The request's SignatureNonce (V1) or x-acs-signature-nonce (V3); false if none. */
static bool request_nonce(const struct hctx *h, const char **v, size_t *n)
{
    const struct aipa_param *p;

    if (h->v3) {
        const struct aipa_header *x = aipa__srv_header(h->req, "x-acs-signature-nonce");
        if (x == NULL) {
            return false;
        }
        *v = (const char *)x->value.ptr;
        *n = x->value.len;
        return true;
    }
    p = aipa_params_get(&h->params, "SignatureNonce");
    if (p == NULL) {
        return false;
    }
    *v = p->value;
    *n = p->value_len;
    return true;
}

/*
 * check-order: a request refused at one gateway check also earns the answer
 * of every other check it fails, since no document orders them. Each is
 * found on its own, without side effects (the nonce is not recorded).
 */
static void other_faults(struct hctx *h, enum stage answered)
{
    const char *v = NULL;
    size_t n = 0;
    enum aipa_format fmt = h->fmt;
    bool empty, have_action;
    enum action a = ACT_UNKNOWN;

    if (answered != ST_FORMAT && !format_ok(h, &fmt, &empty)) {
        also(h, AIPA_C_INVALID_PARAMETER_FORMAT);
    }
    have_action = common_value(h, "x-acs-action", "Action", &v, &n);
    if (have_action) {
        a = find_action(v, n);
    }
    if (answered != ST_ACTION && !have_action) {
        also(h, AIPA_C_MISSING_PARAMETER);
    }
    if (answered != ST_UNKNOWN_ACTION && have_action && a == ACT_UNKNOWN) {
        also(h, AIPA_C_INVALID_ACTION_NOT_FOUND);
    }
    if (answered != ST_VERSION) {
        if (!common_value(h, "x-acs-version", "Version", &v, &n)) {
            also(h, AIPA_C_MISSING_PARAMETER);
        } else if (!version_ok(v, n)) {
            also(h, AIPA_C_INVALID_VERSION);
        }
    }
    if (answered != ST_AUTH && !h->authed) {
        struct aipa__auth_in in = {h->req, &h->params, &h->query_params, h->v3, true};
        struct aipa__auth_out out;
        const char *nonce;
        size_t nonce_len;

        memset(&out, 0, sizeof(out));
        aipa_buf_init(&out.sts, MAX_MESSAGE);
        if (aipa__srv_auth(h->srv, &in, &out) == AIPA_OK) {
            if (out.code != AIPA_C_OK) {
                also_arg(h, out.code, out.arg);
            } else if (out.cred != NULL && request_nonce(h, &nonce, &nonce_len)) {
                /* signed well: a checker that verifies first has used this nonce up */
                if (aipa__srv_probe_nonce_seen(h->srv, nonce, nonce_len)) {
                    also(h, AIPA_C_SIGNATURE_NONCE_USED);
                }
                aipa__srv_probe_nonce_add(h->srv, nonce, nonce_len);
            }
        }
        aipa_buf_cleanup(&out.sts);
    }
    if (a != ACT_UNKNOWN && a != ACT_DESCRIBE) {
        const struct aipa_param *p = aipa_params_get(&h->params, "InstanceId");

        if (p == NULL || p->value_len == 0) {
            also(h, AIPA_C_MISSING_PARAMETER);
        } else if (p->value_len >= AIPA_INSTANCE_ID_MAX) {
            also(h, AIPA_C_INVALID_INSTANCE_ID_MALFORMED);
        }
    }
}

/* The rows of an auth refusal, and the alternative answer with --latitude alt. */
static void reply_auth(struct hctx *h, const struct aipa__auth_out *out)
{
    enum aipa_code c = out->code;
    bool sig = c == AIPA_C_SIGNATURE_DOES_NOT_MATCH || c == AIPA_C_INCOMPLETE_SIGNATURE;
    const char *arg = sig ? (out->sts.ptr != NULL ? out->sts.ptr : "") : out->arg;

    enum aipa_lat row = code_row(c);

    if (c == AIPA_C_MISSING_PARAMETER) {
        reply_missing(h, out->arg, AIPA_LAT_MISSING_PARAM_CODE);
        return;
    }
    if (c == AIPA_C_INVALID_ACCESS_KEY_ID_NOT_FOUND) {
        lat(h, AIPA_LAT_KEY_UNKNOWN);
        reply_error(h, c, arg, alt(h) ? 400 : 0);
        return;
    }
    if (row != AIPA_LAT_COUNT_) {
        lat(h, row);
    }
    reply_error(h, c, arg, 0);
}

/* Format, Action, Version; false after answering (stage says which refused). */
static bool gateway_params(struct hctx *h, enum action *a, enum stage *stage)
{
    const char *action, *version;
    size_t action_len, version_len;
    bool empty;

    *stage = ST_FORMAT;
    if (!format_ok(h, &h->fmt, &empty)) {
        lat(h, empty ? AIPA_LAT_FORMAT_EMPTY : AIPA_LAT_FORMAT_UNKNOWN);
        reply_error(h, alt(h) ? AIPA_C_INVALID_PARAMETER : AIPA_C_INVALID_PARAMETER_FORMAT,
                    "Format", 0);
        return false;
    }
    if (h->v3 && aipa_params_get(&h->params, "Format") == NULL &&
        aipa__srv_header(h->req, "Accept") == NULL) {
        lat(h, AIPA_LAT_V3_NO_ACCEPT);
        h->fmt = alt(h) ? AIPA_FMT_XML : AIPA_FMT_JSON;
    }
    *stage = ST_ACTION;
    if (!get_common(h, "x-acs-action", "Action", AIPA_LAT_ACTION_EMPTY, &action, &action_len)) {
        return false;
    }
    /* Client bytes: printable only, since they reach the log line. */
    aipa__srv_printable(h->resp->action, sizeof(h->resp->action), action, action_len);
    *stage = ST_VERSION;
    if (!get_common(h, "x-acs-version", "Version", AIPA_LAT_VERSION_MISSING, &version,
                    &version_len)) {
        return false;
    }
    if (!version_ok(version, version_len)) {
        lat(h, AIPA_LAT_VERSION_WRONG);
        reply_error(h, AIPA_C_INVALID_VERSION, NULL, alt(h) ? 403 : 0);
        return false;
    }
    *stage = ST_UNKNOWN_ACTION;
    *a = find_action(action, action_len);
    if (*a == ACT_UNKNOWN) {
        lat(h, AIPA_LAT_ACTION_UNKNOWN);
        if (alt(h)) {
            reply_error(h, AIPA_C_INVALID_NAMED, "Action", 403);
        } else {
            reply_error(h, AIPA_C_INVALID_ACTION_NOT_FOUND, NULL, 0);
        }
        return false;
    }
    return true;
}

/*
 * The signature, timestamp, nonce and key: false after answering. A nonce
 * that a request refused before its signature check carried makes the row
 * nonce-after-reject apply.
 */
static bool authenticate(struct hctx *h)
{
    struct aipa__auth_in in;
    struct aipa__auth_out out;
    const char *nonce;
    size_t nonce_len;
    bool ok = false;
    aipa_err err;

    memset(&in, 0, sizeof(in));
    in.req = h->req;
    in.params = &h->params;
    in.query_params = &h->query_params;
    in.v3 = h->v3;
    memset(&out, 0, sizeof(out));
    aipa_buf_init(&out.sts, MAX_MESSAGE);
    err = aipa__srv_auth(h->srv, &in, &out);
    if (err != AIPA_OK) {
        internal_failure(h);
    } else if (out.code != AIPA_C_OK) {
        reply_auth(h, &out);
    } else {
        h->cred = out.cred;
        h->authed = true;
        ok = true;
        if (out.cred != NULL && request_nonce(h, &nonce, &nonce_len) &&
            aipa__srv_probe_nonce_seen(h->srv, nonce, nonce_len)) {
            aipa_lat_set_also(&h->resp->latitude, AIPA_LAT_NONCE_AFTER_REJECT,
                              AIPA_C_SIGNATURE_NONCE_USED);
        }
    }
    aipa_buf_cleanup(&out.sts);
    return ok;
}

static void handle_api(struct hctx *h, struct aipa_slice query)
{
    const struct aipa_srv_request *req = h->req;
    enum action a = ACT_UNKNOWN;
    enum stage stage;

    if (!parse_wire(h, query.ptr, query.len, AIPA_PARAM_QUERY)) {
        return;
    }
    if (h->v3 && aipa_params_copy(&h->query_params, &h->params) != AIPA_OK) {
        internal_failure(h);
        return;
    }
    if (strcmp(req->method, "POST") == 0 && is_form(req) && req->body_len > 0 &&
        !parse_wire(h, req->body, req->body_len, AIPA_PARAM_BODY)) {
        return;
    }
    /* --latitude alt: the other order (row check-order), the signature first */
    if (alt(h) && !authenticate(h)) {
        other_faults(h, ST_AUTH);
        return;
    }
    if (!gateway_params(h, &a, &stage)) {
        other_faults(h, stage);
        return;
    }
    if (!h->authed && !authenticate(h)) {
        other_faults(h, ST_AUTH);
        return;
    }
    if (!admit(h, h->cred)) {
        reply_error(h, AIPA_C_THROTTLING_USER, NULL, 0);
        return;
    }
    dispatch(h, a);
}

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static bool starts_with(struct aipa_slice s, const char *prefix)
{
    size_t n = strlen(prefix);

    return s.len >= n && memcmp(s.ptr, prefix, n) == 0;
}

static aipa_err handle(struct aipa_srv *srv, const struct aipa_srv_request *req,
                       size_t declared_body_len, unsigned refuse_status, const char *refuse_what,
                       struct aipa_srv_response *resp);

aipa_err aipa_srv_handle(struct aipa_srv *srv, const struct aipa_srv_request *req,
                         struct aipa_srv_response *resp)
{
    return handle(srv, req, 0, 0, NULL, resp);
}

aipa_err aipa__srv_handle_declared(struct aipa_srv *srv, const struct aipa_srv_request *req,
                                   size_t declared_body_len, struct aipa_srv_response *resp)
{
    return handle(srv, req, declared_body_len, 0, NULL, resp);
}

aipa_err aipa__srv_refuse(struct aipa_srv *srv, const struct aipa_srv_request *req,
                          unsigned status, const char *what, struct aipa_srv_response *resp)
{
    AIPA_ENSURE(status >= 400 && what != NULL, AIPA_EINVAL);
    return handle(srv, req, 0, status, what, resp);
}

static aipa_err handle(struct aipa_srv *srv, const struct aipa_srv_request *req,
                       size_t declared_body_len, unsigned refuse_status, const char *refuse_what,
                       struct aipa_srv_response *resp)
{
    struct hctx h;
    struct aipa_slice path, query = {(const uint8_t *)"", 0};
    const uint8_t *qmark;
    int64_t t0 = now_us();
    size_t header_bytes = 0;
    unsigned limit = refuse_status;
    const char *what = refuse_what;

    AIPA_ENSURE(srv != NULL && req != NULL && resp != NULL && req->method != NULL, AIPA_EINVAL);
    AIPA_ENSURE(req->target != NULL || req->target_len == 0, AIPA_EINVAL);
    AIPA_ENSURE(req->body != NULL || req->body_len == 0, AIPA_EINVAL);

    memset(&h, 0, sizeof(h));
    h.srv = srv;
    h.req = req;
    h.resp = resp;
    aipa_params_init(&h.params, &srv->cfg.wire);
    aipa_params_init(&h.query_params, &srv->cfg.wire);
    aipa_buf_reset(&resp->body);
    resp->action[0] = '\0';
    resp->code[0] = '\0';
    aipa_lat_set_clear(&resp->latitude);
    aipa__srv_request_id(srv, resp->request_id);
    h.v3 = aipa__srv_header(req, "Authorization") != NULL;
    h.fmt = default_format(req, h.v3);

    path.ptr = (const uint8_t *)req->target;
    path.len = req->target_len;
    qmark = req->target_len > 0 ? memchr(req->target, '?', req->target_len) : NULL;
    if (qmark != NULL) {
        path.len = (size_t)(qmark - path.ptr);
        query.ptr = qmark + 1;
        query.len = req->target_len - path.len - 1;
    }
    for (size_t i = 0; i < req->header_count; i++) {
        header_bytes += req->headers[i].name.len + req->headers[i].value.len + 4;
    }
    if (!raw_format(query.ptr, query.len, &h.fmt) && is_form(req) && req->body_len > 0) {
        (void)raw_format(req->body, req->body_len, &h.fmt);
    }

    /* Limits first: they protect every later step. */
    if (limit == 0 && req->target_len > srv->cfg.max_url_len) {
        limit = 414;
        what = "URL";
        lat(&h, AIPA_LAT_URL_TOO_LONG);
    } else if (limit == 0 && (header_bytes > srv->cfg.max_header_bytes ||
                              req->header_count > AIPA_SRV_MAX_HEADERS)) {
        limit = 431;
        what = "Headers";
        lat(&h, AIPA_LAT_HEADERS_TOO_LARGE);
    } else if (limit == 0 && (req->body_len > srv->cfg.max_body_len ||
                              declared_body_len > srv->cfg.max_body_len)) {
        limit = 413;
        what = "Body";
        lat(&h, AIPA_LAT_BODY_TOO_LARGE);
    }
    if (limit != 0) {
        h.fmt = limit_format(req, query, h.fmt);
        reply_error(&h, AIPA_C_INVALID_PARAMETER, what, limit);
    } else if (srv->cfg.fixtures &&
               (starts_with(path, "/_aipa/") || aipa_slice_eq(path, "/_aipa"))) {
        aipa__srv_fixture(srv, req, path, resp);
    } else if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0) {
        /* The method before the path (docs/serve.md step 3): DELETE /x is 403, not 404. */
        lat(&h, AIPA_LAT_HTTP_METHOD);
        reply_error(&h, AIPA_C_UNSUPPORTED_HTTP_METHOD, NULL, srv->cfg.latitude_alt ? 400 : 0);
    } else if (!aipa_slice_eq(path, "/")) {
        reply_error(&h, AIPA_C_INVALID_ACTION_NOT_FOUND, NULL, 0);
    } else {
        handle_api(&h, query);
    }

    aipa_params_cleanup(&h.params);
    aipa_params_cleanup(&h.query_params);
    if (srv->cfg.log != NULL) {
        char method[16];

        aipa__srv_printable(method, sizeof(method), req->method, strlen(req->method));
        fprintf(srv->cfg.log, "%s %s %u %s %" PRId64 "us %s\n", method,
                resp->action[0] != '\0' ? resp->action : "-", resp->status,
                resp->code[0] != '\0' ? resp->code : "-", now_us() - t0, resp->request_id);
    }
    return AIPA_OK;
}
