/*
 * server_auth.c: request authentication for the reference server (V1 and V3
 * signatures, timestamps, access keys) and the SignatureNonce replay cache.
 * The order of the checks is the one docs/serve.md documents.
 */
#include "aipa/sign.h"
#include "server_int.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>

/* ---- nonce cache ---- */

#define NO_ENTRY UINT32_MAX

struct nonce_ent {
    char *key; /* akid '\0' nonce, owned */
    size_t key_len;
    uint64_t hash;
    int64_t t;
    uint32_t next; /* next entry in the same bucket */
};

/* The ring starts small and doubles up to max, so an idle server holds little. */
#define NONCE_INITIAL_CAP 256u

struct aipa_nonce_cache {
    pthread_mutex_t lock;
    struct nonce_ent *ring; /* insertion order: ring[head] is the oldest */
    size_t cap;             /* entries the ring holds now */
    size_t max;             /* entries it may grow to */
    size_t head;
    size_t count;
    uint32_t *buckets;
    size_t bucket_mask;
    int64_t window_s;
};

static uint64_t fnv1a(const char *p, size_t n)
{
    return aipa_fnv1a64(AIPA_FNV1A64_BASIS, p, n);
}

aipa_err aipa__nonce_cache_new(struct aipa_nonce_cache **out, size_t max, int64_t window_s)
{
    aipa_err err = AIPA_ENOMEM;
    struct aipa_nonce_cache *c = NULL;
    size_t nb = 16;

    *out = NULL;
    if (max == 0 || max >= NO_ENTRY) {
        return AIPA_EINVAL;
    }
    c = aipa_calloc(1, sizeof(*c));
    if (c == NULL) {
        goto out;
    }
    c->cap = max < NONCE_INITIAL_CAP ? max : NONCE_INITIAL_CAP;
    while (nb < c->cap) {
        nb <<= 1;
    }
    c->ring = aipa_calloc(c->cap, sizeof(*c->ring));
    c->buckets = aipa_malloc(nb * sizeof(*c->buckets));
    if (c->ring == NULL || c->buckets == NULL) {
        goto out;
    }
    memset(c->buckets, 0xff, nb * sizeof(*c->buckets));
    c->bucket_mask = nb - 1;
    c->max = max;
    c->window_s = window_s;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        goto out;
    }
    err = AIPA_OK;
out:
    if (err != AIPA_OK && c != NULL) {
        aipa_free(c->ring);
        aipa_free(c->buckets);
        aipa_free(c);
        c = NULL;
    }
    *out = c;
    return err;
}

/* Removes the oldest entry. Caller holds the lock; count > 0. */
static void evict_oldest(struct aipa_nonce_cache *c)
{
    struct nonce_ent *e = &c->ring[c->head];
    uint32_t idx = (uint32_t)c->head;
    uint32_t *link = &c->buckets[e->hash & c->bucket_mask];

    while (*link != NO_ENTRY && *link != idx) {
        link = &c->ring[*link].next;
    }
    if (*link == idx) {
        *link = e->next;
    }
    aipa_free(e->key);
    e->key = NULL;
    c->head = (c->head + 1) % c->cap;
    c->count--;
}

/*
 * Doubles the ring (up to max), oldest entry first at index 0, and rebuilds
 * the buckets for the new size. Caller holds the lock; on failure the cache
 * is unchanged.
 */
static aipa_err grow(struct aipa_nonce_cache *c)
{
    size_t cap = c->cap * 2 < c->max ? c->cap * 2 : c->max;
    size_t nb = c->bucket_mask + 1;
    struct nonce_ent *ring = aipa_calloc(cap, sizeof(*ring));
    uint32_t *buckets;

    while (nb < cap) {
        nb <<= 1;
    }
    buckets = aipa_malloc(nb * sizeof(*buckets));
    if (ring == NULL || buckets == NULL) {
        aipa_free(ring);
        aipa_free(buckets);
        return AIPA_ENOMEM;
    }
    memset(buckets, 0xff, nb * sizeof(*buckets));
    for (size_t i = 0; i < c->count; i++) {
        uint32_t *b;

        ring[i] = c->ring[(c->head + i) % c->cap];
        b = &buckets[ring[i].hash & (nb - 1)];
        ring[i].next = *b;
        *b = (uint32_t)i;
    }
    aipa_free(c->ring);
    aipa_free(c->buckets);
    c->ring = ring;
    c->buckets = buckets;
    c->bucket_mask = nb - 1;
    c->cap = cap;
    c->head = 0;
    return AIPA_OK;
}

void aipa__nonce_cache_clear(struct aipa_nonce_cache *c)
{
    if (c == NULL) {
        return;
    }
    pthread_mutex_lock(&c->lock);
    while (c->count > 0) {
        evict_oldest(c);
    }
    pthread_mutex_unlock(&c->lock);
}

void aipa__nonce_cache_free(struct aipa_nonce_cache *c)
{
    if (c == NULL) {
        return;
    }
    aipa__nonce_cache_clear(c);
    pthread_mutex_destroy(&c->lock);
    aipa_free(c->ring);
    aipa_free(c->buckets);
    aipa_free(c);
}

size_t aipa__nonce_cache_count(struct aipa_nonce_cache *c)
{
    size_t n;

    pthread_mutex_lock(&c->lock);
    n = c->count;
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* Looks the nonce up; with insert, records it when it is fresh. */
static aipa_err nonce_lookup(struct aipa_nonce_cache *c, const char *akid, const char *nonce,
                             size_t nonce_len, int64_t now, bool insert, bool *fresh)
{
    aipa_err err = AIPA_OK;
    size_t akid_len = strlen(akid);
    size_t key_len = akid_len + 1 + nonce_len;
    char *key = aipa_malloc(key_len);
    uint64_t h;

    *fresh = false;
    if (key == NULL) {
        return AIPA_ENOMEM;
    }
    memcpy(key, akid, akid_len);
    key[akid_len] = '\0';
    memcpy(key + akid_len + 1, nonce, nonce_len);
    h = fnv1a(key, key_len);

    pthread_mutex_lock(&c->lock);
    /* Entries past the window are forgotten first, oldest first. */
    while (c->count > 0 && now - c->ring[c->head].t >= c->window_s) {
        evict_oldest(c);
    }
    for (uint32_t i = c->buckets[h & c->bucket_mask]; i != NO_ENTRY; i = c->ring[i].next) {
        const struct nonce_ent *e = &c->ring[i];

        if (e->hash == h && e->key_len == key_len && memcmp(e->key, key, key_len) == 0 &&
            now - e->t < c->window_s) {
            goto unlock; /* used */
        }
    }
    if (!insert) {
        *fresh = true;
        goto unlock;
    }
    if (c->count == c->cap && (c->cap == c->max || grow(c) != AIPA_OK)) {
        evict_oldest(c); /* full, or no memory to grow: the oldest goes */
    }
    {
        size_t slot = (c->head + c->count) % c->cap;
        struct nonce_ent *e = &c->ring[slot];
        uint32_t *bucket = &c->buckets[h & c->bucket_mask];

        e->key = key;
        e->key_len = key_len;
        e->hash = h;
        e->t = now;
        e->next = *bucket;
        *bucket = (uint32_t)slot;
        c->count++;
        key = NULL;
        *fresh = true;
    }
unlock:
    pthread_mutex_unlock(&c->lock);
    aipa_free(key);
    return err;
}

aipa_err aipa__nonce_cache_use(struct aipa_nonce_cache *c, const char *akid, const char *nonce,
                               size_t nonce_len, int64_t now, bool *fresh)
{
    return nonce_lookup(c, akid, nonce, nonce_len, now, true, fresh);
}

aipa_err aipa__nonce_cache_peek(struct aipa_nonce_cache *c, const char *akid, const char *nonce,
                                size_t nonce_len, int64_t now, bool *fresh)
{
    return nonce_lookup(c, akid, nonce, nonce_len, now, false, fresh);
}

/* ---- auth ---- */

static void set_code(struct aipa__auth_out *out, enum aipa_code code, const char *arg)
{
    out->code = code;
    if (arg != NULL) {
        snprintf(out->arg, sizeof(out->arg), "%s", arg);
    } else {
        out->arg[0] = '\0';
    }
}

static const struct aipa_srv_credential *find_cred(const struct aipa_srv *srv, const char *id,
                                                   size_t len)
{
    for (size_t i = 0; i < srv->cred_count; i++) {
        const char *k = srv->creds[i].access_key_id;

        if (strlen(k) == len && memcmp(k, id, len) == 0) {
            return &srv->creds[i];
        }
    }
    return NULL;
}

/* InvalidTimeStamp.Format / .Expired, or AIPA_C_OK. */
static enum aipa_code check_time(const struct aipa_srv *srv, const char *s, size_t n)
{
    int64_t t;
    int64_t now = aipa__srv_now(srv);
    int64_t skew;

    if (aipa_parse_timestamp(s, n, &t) != AIPA_OK) {
        return AIPA_C_INVALID_TIMESTAMP_FORMAT;
    }
    skew = now > t ? now - t : t - now;
    if (skew > srv->cfg.max_skew_s) {
        return AIPA_C_INVALID_TIMESTAMP_EXPIRED;
    }
    return AIPA_C_OK;
}

/* Credential checks common to both versions: NotFound, then Inactive. */
static bool check_cred(const struct aipa_srv *srv, const char *id, size_t len,
                       struct aipa__auth_out *out)
{
    const struct aipa_srv_credential *c = find_cred(srv, id, len);

    if (c == NULL) {
        set_code(out, AIPA_C_INVALID_ACCESS_KEY_ID_NOT_FOUND, NULL);
        return false;
    }
    if (!c->active) {
        set_code(out, AIPA_C_INVALID_ACCESS_KEY_ID_INACTIVE, NULL);
        return false;
    }
    out->cred = c;
    return true;
}

/* A token of the form STS issues: 1..AIPA_SRV_MAX_TOKEN_LEN bytes of base64 (and '-' '_' '.'). */
static bool token_well_formed(const char *t, size_t n)
{
    if (n == 0 || n > AIPA_SRV_MAX_TOKEN_LEN) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = t[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '+' || ch == '/' || ch == '=' || ch == '-' || ch == '_' || ch == '.')) {
            return false;
        }
    }
    return true;
}

/*
 * STS (docs/serve.md, Credentials): a key with a SecurityToken needs that
 * token. tok is the value sent (NULL when absent). Absent: MissingSecurityToken;
 * not a token this server issued: .Malformed; another key's token:
 * .MismatchWithAccessKey; past Expiration: .Expired. A long-term key ignores
 * a token, as the SDKs send one only with STS credentials.
 */
static bool check_token(const struct aipa_srv *srv, const char *tok, size_t n,
                        struct aipa__auth_out *out)
{
    const struct aipa_srv_credential *c = out->cred;
    const struct aipa_srv_credential *owner = NULL;

    if (c->security_token == NULL) {
        return true;
    }
    if (tok == NULL || n == 0) {
        set_code(out, AIPA_C_MISSING_NAMED, "SecurityToken");
        return false;
    }
    for (size_t i = 0; i < srv->cred_count && token_well_formed(tok, n); i++) {
        const char *t = srv->creds[i].security_token;

        if (t != NULL && strlen(t) == n && memcmp(t, tok, n) == 0) {
            owner = &srv->creds[i];
            break;
        }
    }
    if (owner == NULL) {
        set_code(out, AIPA_C_INVALID_SECURITY_TOKEN_MALFORMED, NULL);
        return false;
    }
    if (owner != c) {
        set_code(out, AIPA_C_INVALID_SECURITY_TOKEN_MISMATCH, NULL);
        return false;
    }
    if (c->expiration != 0 && aipa__srv_now(srv) >= c->expiration) {
        set_code(out, AIPA_C_INVALID_SECURITY_TOKEN_EXPIRED, NULL);
        return false;
    }
    return true;
}

/* The nonce must be fresh; it is recorded unless probe (then only looked up). */
static aipa_err use_nonce(struct aipa_srv *srv, const char *nonce, size_t len, bool probe,
                          struct aipa__auth_out *out)
{
    bool fresh = false;

    if (probe) {
        AIPA_TRY(aipa__nonce_cache_peek(srv->nonces, out->cred->access_key_id, nonce, len,
                                        aipa__srv_now(srv), &fresh));
    } else {
        AIPA_TRY(aipa__nonce_cache_use(srv->nonces, out->cred->access_key_id, nonce, len,
                                       aipa__srv_now(srv), &fresh));
    }
    if (!fresh) {
        set_code(out, AIPA_C_SIGNATURE_NONCE_USED, NULL);
    }
    return AIPA_OK;
}

static const char *v1_required[] = {"AccessKeyId", "SignatureMethod", "SignatureVersion",
                                    "SignatureNonce", "Timestamp"};

static bool is_base64_sig(const char *s, size_t n)
{
    if (n != AIPA_V1_SIG_LEN || s[n - 1] != '=') {
        return false;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        char ch = s[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '+' || ch == '/')) {
            return false;
        }
    }
    return true;
}

static aipa_err auth_v1(struct aipa_srv *srv, const struct aipa__auth_in *in,
                        struct aipa__auth_out *out)
{
    const struct aipa_params *p = in->params;
    const struct aipa_param *sig, *ak, *nonce, *ts, *tok;
    bool match = false;

    /*
     * No signature at all is an incomplete signature (the gateway's answer
     * to unsigned requests, spec/wire.md §4.2), with the StringToSign the
     * client should have signed.
     */
    sig = aipa_params_get(p, "Signature");
    if (sig == NULL || sig->value_len == 0) {
        AIPA_TRY(aipa_v1_string_to_sign(in->req->method, p, &out->sts));
        set_code(out, AIPA_C_INCOMPLETE_SIGNATURE, NULL);
        return AIPA_OK;
    }
    for (size_t i = 0; i < AIPA_ARRAY_LEN(v1_required); i++) {
        const struct aipa_param *rp = aipa_params_get(p, v1_required[i]);

        if (rp == NULL || rp->value_len == 0) {
            set_code(out, AIPA_C_MISSING_PARAMETER, v1_required[i]);
            return AIPA_OK;
        }
    }
    if (strcmp(aipa_params_value(p, "SignatureMethod"), "HMAC-SHA1") != 0) {
        set_code(out, AIPA_C_INVALID_SIGNATURE_METHOD, NULL);
        return AIPA_OK;
    }
    if (strcmp(aipa_params_value(p, "SignatureVersion"), "1.0") != 0) {
        set_code(out, AIPA_C_INVALID_NAMED, "SignatureVersion");
        return AIPA_OK;
    }
    nonce = aipa_params_get(p, "SignatureNonce");
    if (nonce->value_len == 0 || nonce->value_len > AIPA_SRV_MAX_NONCE_LEN) {
        set_code(out, AIPA_C_INVALID_NAMED, "SignatureNonce");
        return AIPA_OK;
    }
    ts = aipa_params_get(p, "Timestamp");
    set_code(out, check_time(srv, ts->value, ts->value_len), NULL);
    if (out->code != AIPA_C_OK) {
        return AIPA_OK;
    }
    ak = aipa_params_get(p, "AccessKeyId");
    if (!check_cred(srv, ak->value, ak->value_len, out)) {
        return AIPA_OK;
    }
    tok = aipa_params_get(p, "SecurityToken");
    if (!check_token(srv, tok != NULL ? tok->value : NULL, tok != NULL ? tok->value_len : 0, out)) {
        out->cred = NULL;
        return AIPA_OK;
    }
    AIPA_TRY(aipa_v1_verify(in->req->method, p, out->cred->access_key_secret, &out->sts, &match));
    if (!is_base64_sig(sig->value, sig->value_len)) {
        set_code(out, AIPA_C_INCOMPLETE_SIGNATURE, NULL);
        return AIPA_OK;
    }
    if (!match) {
        set_code(out, AIPA_C_SIGNATURE_DOES_NOT_MATCH, NULL);
        return AIPA_OK;
    }
    return use_nonce(srv, nonce->value, nonce->value_len, in->probe, out);
}

/* True when the ';'-list list names name (exact, lowercase). */
static bool list_has(struct aipa_slice list, const char *name, size_t name_len)
{
    const uint8_t *p = list.ptr;
    const uint8_t *end = list.ptr + list.len;

    while (p <= end) {
        const uint8_t *semi = memchr(p, ';', (size_t)(end - p));
        const uint8_t *item_end = semi != NULL ? semi : end;
        size_t n = (size_t)(item_end - p);

        if (n == name_len && strncasecmp((const char *)p, name, n) == 0) {
            return true;
        }
        if (semi == NULL) {
            break;
        }
        p = semi + 1;
    }
    return false;
}

static const char *v3_required[] = {"x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"};

static aipa_err auth_v3(struct aipa_srv *srv, const struct aipa__auth_in *in,
                        struct aipa__auth_out *out)
{
    const struct aipa_srv_request *req = in->req;
    const struct aipa_header *authz = aipa__srv_header(req, "Authorization");
    const struct aipa_header *date, *nonce, *claimed, *tok_h;
    struct aipa_v3_auth a;
    char body_hash[AIPA_SHA256_HEX_LEN + 1];
    bool match = false;
    aipa_err err;

    if (aipa_v3_parse_authorization(authz->value.ptr, authz->value.len, &a) != AIPA_OK) {
        set_code(out, AIPA_C_INCOMPLETE_SIGNATURE, NULL);
        return AIPA_OK;
    }
    if (!aipa_slice_eq(a.algorithm, "ACS3-HMAC-SHA256")) {
        set_code(out, AIPA_C_INVALID_SIGNATURE_METHOD, NULL);
        return AIPA_OK;
    }
    for (size_t i = 0; i < AIPA_ARRAY_LEN(v3_required); i++) {
        const struct aipa_header *rh = aipa__srv_header(req, v3_required[i]);

        if (rh == NULL || rh->value.len == 0) {
            set_code(out, AIPA_C_MISSING_PARAMETER, v3_required[i]);
            return AIPA_OK;
        }
    }
    /* host and every x-acs-* header sent must be signed. */
    if (!list_has(a.signed_headers, "host", 4)) {
        set_code(out, AIPA_C_INCOMPLETE_SIGNATURE, NULL);
        return AIPA_OK;
    }
    for (size_t i = 0; i < req->header_count; i++) {
        struct aipa_slice n = req->headers[i].name;

        if (aipa_v3_must_sign((const char *)n.ptr, n.len) &&
            !list_has(a.signed_headers, (const char *)n.ptr, n.len)) {
            set_code(out, AIPA_C_INCOMPLETE_SIGNATURE, NULL);
            return AIPA_OK;
        }
    }
    nonce = aipa__srv_header(req, "x-acs-signature-nonce");
    if (nonce->value.len == 0 || nonce->value.len > AIPA_SRV_MAX_NONCE_LEN) {
        set_code(out, AIPA_C_INVALID_NAMED, "SignatureNonce");
        return AIPA_OK;
    }
    date = aipa__srv_header(req, "x-acs-date");
    set_code(out, check_time(srv, (const char *)date->value.ptr, date->value.len), NULL);
    if (out->code != AIPA_C_OK) {
        return AIPA_OK;
    }
    if (!check_cred(srv, (const char *)a.credential.ptr, a.credential.len, out)) {
        return AIPA_OK;
    }
    tok_h = aipa__srv_header(req, "x-acs-security-token");
    if (!check_token(srv, tok_h != NULL ? (const char *)tok_h->value.ptr : NULL,
                     tok_h != NULL ? tok_h->value.len : 0, out)) {
        out->cred = NULL;
        return AIPA_OK;
    }
    /*
     * The payload hash is the server's own: a body that does not match the
     * x-acs-content-sha256 the client signed fails like any other change.
     */
    AIPA_TRY(aipa_sha256_hex(req->body, req->body_len, body_hash));
    claimed = aipa__srv_header(req, "x-acs-content-sha256");
    err = aipa_v3_verify(req->method, "/", in->query_params, req->headers, req->header_count, &a,
                         body_hash, out->cred->access_key_secret, &out->sts, &match);
    if (err == AIPA_ENOTFOUND || err == AIPA_EPARSE) {
        set_code(out, AIPA_C_INCOMPLETE_SIGNATURE, NULL); /* a signed header is missing */
        return AIPA_OK;
    }
    AIPA_TRY(err);
    if (!match || claimed->value.len != AIPA_SHA256_HEX_LEN ||
        strncasecmp((const char *)claimed->value.ptr, body_hash, AIPA_SHA256_HEX_LEN) != 0) {
        set_code(out, AIPA_C_SIGNATURE_DOES_NOT_MATCH, NULL);
        return AIPA_OK;
    }
    return use_nonce(srv, (const char *)nonce->value.ptr, nonce->value.len, in->probe, out);
}

aipa_err aipa__srv_auth(struct aipa_srv *srv, const struct aipa__auth_in *in,
                        struct aipa__auth_out *out)
{
    out->code = AIPA_C_OK;
    out->arg[0] = '\0';
    out->cred = NULL;
    if (srv->cfg.auth_off) {
        return AIPA_OK;
    }
    return in->v3 ? auth_v3(srv, in, out) : auth_v1(srv, in, out);
}

/*
 * ---- nonce-after-reject ----
 * The nonces of refused requests that carried a valid signature (the
 * latitude row nonce-after-reject), beside the nonce cache they shadow.
 */

void aipa__srv_probe_nonce_add(struct aipa_srv *srv, const char *nonce, size_t len)
{
    char *slot;

    if (len == 0 || len >= sizeof(srv->probe_nonces[0])) {
        return;
    }
    pthread_mutex_lock(&srv->rng_lock);
    slot = srv->probe_nonces[srv->probe_head % AIPA_SRV_PROBE_NONCES];
    memcpy(slot, nonce, len);
    slot[len] = '\0';
    srv->probe_head++;
    pthread_mutex_unlock(&srv->rng_lock);
}

bool aipa__srv_probe_nonce_seen(struct aipa_srv *srv, const char *nonce, size_t len)
{
    bool seen = false;

    if (len == 0 || len >= sizeof(srv->probe_nonces[0])) {
        return false;
    }
    pthread_mutex_lock(&srv->rng_lock);
    for (size_t i = 0; i < AIPA_SRV_PROBE_NONCES && !seen; i++) {
        seen = strlen(srv->probe_nonces[i]) == len && memcmp(srv->probe_nonces[i], nonce, len) == 0;
    }
    pthread_mutex_unlock(&srv->rng_lock);
    return seen;
}

void aipa__srv_probe_nonce_clear(struct aipa_srv *srv)
{
    pthread_mutex_lock(&srv->rng_lock);
    memset(srv->probe_nonces, 0, sizeof(srv->probe_nonces));
    srv->probe_head = 0;
    pthread_mutex_unlock(&srv->rng_lock);
}
