/*
 * server_int.h: what the server's files share. Layers, each calling only
 * those below it: server_util.c (shared helpers); server_auth.c (auth and
 * nonce cache), server_fixtures.c (the /_aipa/ protocol),
 * server_throttle.c; server.c (the handler and the server object); the HTTP
 * front end, server_http_conn.c (one connection's HTTP/1.1 engine) and
 * server_http_loop.c (sockets, threads, timers, TLS). Not part of the public
 * API.
 */
#ifndef AIPA_SERVER_INT_H
#define AIPA_SERVER_INT_H

#include "aipa/errors.h"
#include "aipa/render.h"
#include "aipa/server.h"

#include <pthread.h>

struct aipa__front;

/* Defaults of aipa_srv_config_defaults(); docs/serve.md lists them. */
#define AIPA_SRV_DEFAULT_MAX_URL          (16u * 1024u)
#define AIPA_SRV_DEFAULT_MAX_HEADER_BYTES (16u * 1024u)
#define AIPA_SRV_DEFAULT_MAX_BODY         (64u * 1024u)
#define AIPA_SRV_DEFAULT_MAX_CONNECTIONS  10000u
#define AIPA_SRV_DEFAULT_TIMEOUT_S        10u
#define AIPA_SRV_DEFAULT_HEADER_TIMEOUT_MS 60000u /* nginx client_header_timeout */
#define AIPA_SRV_DEFAULT_SKEW_S           900
#define AIPA_SRV_DEFAULT_NONCE_WINDOW_S   900
#define AIPA_SRV_DEFAULT_NONCE_MAX        100000u
#define AIPA_SRV_MAX_NONCE_LEN            256u /* longer SignatureNonce values are InvalidSignatureNonce */
#define AIPA_SRV_MAX_TOKEN_LEN            8192u /* longer SecurityToken values are .Malformed */
#define AIPA_SRV_MAX_IDS                  100u /* InstanceIds per DescribeInstances, PageSize ceiling */

/* ---- nonce replay cache (server_auth.c) ---- */

struct aipa_nonce_cache;

/*
 * A bounded set of (AccessKeyId, nonce) pairs seen within window_s seconds.
 * At most max entries; when full the oldest entry is evicted first.
 */
aipa_err aipa__nonce_cache_new(struct aipa_nonce_cache **out, size_t max, int64_t window_s);
void aipa__nonce_cache_free(struct aipa_nonce_cache *c);
void aipa__nonce_cache_clear(struct aipa_nonce_cache *c);
size_t aipa__nonce_cache_count(struct aipa_nonce_cache *c);
/*
 * Atomically: if (akid, nonce) was recorded less than window_s ago, *fresh is
 * false; otherwise it is recorded at now and *fresh is true.
 */
aipa_err aipa__nonce_cache_use(struct aipa_nonce_cache *c, const char *akid, const char *nonce,
                               size_t nonce_len, int64_t now, bool *fresh);
/* The same without recording: *fresh says whether it was unused. */
aipa_err aipa__nonce_cache_peek(struct aipa_nonce_cache *c, const char *akid, const char *nonce,
                                size_t nonce_len, int64_t now, bool *fresh);

/* ---- the server object ---- */

/* Token buckets for --throttle (server_throttle.c); every call takes a NULL t. */
struct aipa__throttle;
AIPA_MUST_CHECK aipa_err aipa__throttle_new(struct aipa__throttle **out, size_t keys, double rate,
                                            double burst);
void aipa__throttle_free(struct aipa__throttle *t);
/* Every bucket full again (the fixture protocol's reset). */
void aipa__throttle_reset(struct aipa__throttle *t);
/* Takes a token from bucket key at now_s: 0, or the milliseconds until one is there. */
unsigned aipa__throttle_take(struct aipa__throttle *t, size_t key, double now_s);

#define AIPA_SRV_PROBE_NONCES 64

struct aipa_srv {
    struct aipa_srv_config cfg; /* string members point at the copies below */
    struct aipa_srv_credential *creds;
    size_t cred_count;
    char *listen_addr;
    char *tls_cert_file, *tls_key_file;
    char *fixture_token;
    char *host_id;
    char *state_json; /* seed state document (owned copy) */
    size_t state_json_len;

    struct aipa_model *model;
    struct aipa_nonce_cache *nonces;
    struct aipa__throttle *throttle; /* NULL: --throttle off */

    pthread_mutex_t rng_lock; /* also guards the probe ring below */
    bool rng_lock_ok;         /* rng_lock was initialised (aipa_srv_free destroys it) */
    struct aipa_rng rng;      /* RequestIds */
    /*
     * Nonces of requests refused before their (valid) signature was checked:
     * a later reuse is the latitude row nonce-after-reject. A ring; the
     * oldest is forgotten first.
     */
    char probe_nonces[AIPA_SRV_PROBE_NONCES][72];
    size_t probe_head;

    /*
     * The running HTTP front end, if any. The front end sets both at start;
     * aipa_srv_free stops it through front_stop, so the handler never
     * calls into the layer above it.
     */
    struct aipa__front *front;
    void (*front_stop)(struct aipa_srv *srv);
};

/* For appends whose failure leaves a usable (shorter) result. */
static inline void best_effort(aipa_err e)
{
    (void)e;
}

int64_t aipa__srv_now(const struct aipa_srv *srv);
void aipa__srv_request_id(struct aipa_srv *srv, char out[37]);

/*
 * aipa_srv_handle, for a front end that has not read the body yet: a
 * declared_body_len over the limit is answered 413 at once.
 */
aipa_err aipa__srv_handle_declared(struct aipa_srv *srv, const struct aipa_srv_request *req,
                                   size_t declared_body_len, struct aipa_srv_response *resp);

/*
 * A request the front end refuses before the handler may judge it (a limit,
 * broken framing): status (>= 400) with InvalidParameter naming what, in the
 * client's format (a literal Format pair in the raw query or form body, then
 * Accept, then x-acs-action meaning JSON), logged like any answer. req may
 * carry only what was read: a partial target, no headers, no body.
 */
aipa_err aipa__srv_refuse(struct aipa_srv *srv, const struct aipa_srv_request *req,
                          unsigned status, const char *what, struct aipa_srv_response *resp);

/* Copies n bytes of src as a string, bytes outside 0x21..0x7e as '?' (for logs). */
void aipa__srv_printable(char *dst, size_t cap, const char *src, size_t n);

/* A header's value by case-insensitive name; NULL if absent. */
const struct aipa_header *aipa__srv_header(const struct aipa_srv_request *req, const char *name);

/*
 * Fills resp with a JSON body (fixture protocol answers). body is copied.
 * On failure (out of memory) resp holds a 500.
 */
void aipa__srv_json_reply(struct aipa_srv_response *resp, unsigned status, const char *body,
                          size_t len);

/*
 * The fixture protocol: req targets /_aipa/... (path is the part of the
 * target before '?'). Always fills resp.
 */
void aipa__srv_fixture(struct aipa_srv *srv, const struct aipa_srv_request *req,
                       struct aipa_slice path, struct aipa_srv_response *resp);

/* ---- auth (server_auth.c) ---- */

struct aipa__auth_in {
    const struct aipa_srv_request *req;
    const struct aipa_params *params;       /* query + form body */
    const struct aipa_params *query_params; /* query only (V3 canonical query) */
    bool v3;
    bool probe; /* only find the answer: the nonce is looked up, not recorded */
};

struct aipa__auth_out {
    enum aipa_code code;                    /* AIPA_C_OK when the request may proceed */
    char arg[96];                           /* %s of the message (a parameter name), "" if none */
    struct aipa_buf sts;                    /* server StringToSign for signature errors */
    const struct aipa_srv_credential *cred; /* NULL when auth is off */
};

/*
 * Checks the request in the order docs/serve.md gives and fills out. out->sts
 * must have been initialised by the caller. Returns AIPA_ENOMEM (or another
 * internal error) only when it could not decide.
 */
aipa_err aipa__srv_auth(struct aipa_srv *srv, const struct aipa__auth_in *in,
                        struct aipa__auth_out *out);
/* The probe ring (nonce-after-reject): remember, look up, forget all. */
void aipa__srv_probe_nonce_add(struct aipa_srv *srv, const char *nonce, size_t len);
bool aipa__srv_probe_nonce_seen(struct aipa_srv *srv, const char *nonce, size_t len);
void aipa__srv_probe_nonce_clear(struct aipa_srv *srv);

#endif /* AIPA_SERVER_INT_H */
