/*
 * aipa/server.h: the reference server.
 *
 * Two layers. aipa_srv_handle() is the whole request handler with no
 * network: a request (method, target, headers, body) in, a response (status,
 * content type, body) out. It does wire parsing, auth (V1 or V3, nonce
 * replay cache, clock skew), dispatch, the model and rendering, and the
 * fixture protocol under /_aipa/. The fuzz target and the embedded
 * `aipa conform` call it directly or through the HTTP front end.
 * aipa_srv_start() puts the HTTP/1.1 front end (epoll loops or a thread per
 * connection, picohttpparser, OpenSSL for HTTPS) in front of it.
 */
#ifndef AIPA_SERVER_H
#define AIPA_SERVER_H

#include "aipa/common.h"
#include "aipa/latitude.h"
#include "aipa/model.h"
#include "aipa/sign.h"
#include "aipa/wire.h"

#include <stdio.h>

#define AIPA_SRV_MAX_HEADERS 64

struct aipa_srv_credential {
    const char *access_key_id;
    const char *access_key_secret;
    bool active;      /* false: InvalidAccessKeyId.Inactive */
    bool whitelisted; /* may pass IpAddress */
    /* The account the key belongs to (OwnerId); NULL or "": the default account. */
    const char *owner_id;
    /*
     * STS: with a token the key is temporary, and every request must carry
     * this token (V1 SecurityToken, V3 x-acs-security-token) until
     * expiration (Unix seconds; 0: never). NULL: a long-term key.
     */
    const char *security_token;
    int64_t expiration;
};

struct aipa_srv_config {
    /* network (aipa_srv_start only) */
    const char *listen_addr;                  /* "127.0.0.1" by default; "::1" works too */
    uint16_t port;                            /* 0 picks a free port; aipa_srv_port() tells which */
    const char *tls_cert_file, *tls_key_file; /* both set: HTTPS */
    unsigned max_connections;      /* open connections; more are closed at accept */
    unsigned connection_timeout_s; /* idle: no byte in or out for this long closes */
    /*
     * A request line and headers must be complete this long after the
     * request's first byte (after accept for a connection's first request);
     * more bytes do not extend it (nginx client_header_timeout). 0: 60 s.
     */
    unsigned header_timeout_ms;
    unsigned threads; /* event loops of the pool mode; 0: one per core */
    /* false (the default): `threads` epoll loops; true: a thread per connection */
    bool thread_per_connection;

    /* request limits (the handler enforces them too) */
    size_t max_url_len;
    size_t max_header_bytes;
    size_t max_body_len;
    struct aipa_wire_limits wire;

    /* auth */
    const struct aipa_srv_credential *credentials;
    size_t credential_count;
    bool auth_off;          /* load tests only */
    int64_t max_skew_s;     /* 900 */
    int64_t nonce_window_s; /* 900 */
    size_t nonce_cache_max; /* bounded memory; oldest evicted first */
    /*
     * Flow control: each AccessKeyId (all requests, with auth off) may make
     * throttle_rate API requests per second, in bursts of throttle_burst
     * (0: the rate, at least 1); beyond that Throttling.User with
     * x-acs-retry-after. 0: off. Fixture requests are never throttled.
     */
    double throttle_rate;
    double throttle_burst;
    /* Clock for timestamps and the nonce window; NULL means time(NULL). */
    int64_t (*now)(void *ctx);
    void *now_ctx;

    /* model */
    unsigned edition; /* AIPA_ED_2018 or AIPA_ED_2024 */
    uint64_t seed;
    const char *state_json; /* seed state document; NULL: the built-in default */
    size_t state_json_len;
    const char *const *pool_cidrs;
    size_t pool_cidr_count;
    /*
     * Take the documented alternative instead of the strict answer on every
     * latitude row that has one (aipa/latitude.h, docs/latitude.md): a second
     * valid configuration of the reference.
     */
    bool latitude_alt;

    /* fixture protocol */
    bool fixtures;
    const char *fixture_token; /* required in X-Aipa-Token when fixtures is on */

    const char *host_id; /* HostId in error bodies, "ecs.aliyuncs.com" by default */
    FILE *log;           /* one line per request; NULL: silent */

    /*
     * If non-NULL, receives a one-line reason when aipa_srv_new or
     * aipa_srv_start fails; it must outlive both calls.
     */
    struct aipa_buf *error;
};

/* Fills cfg with the defaults named above (no credentials, no state). */
AIPA_API void aipa_srv_config_defaults(struct aipa_srv_config *cfg);

/* A request as received. Everything is borrowed from the caller. */
struct aipa_srv_request {
    const char *method; /* "GET", "POST", ... */
    const char *target; /* path and query as on the request line: "/?A=b" */
    size_t target_len;
    const struct aipa_header *headers;
    size_t header_count;
    const uint8_t *body;
    size_t body_len;
};

/* A response to send. body is owned by the response. */
struct aipa_srv_response {
    unsigned status;
    const char *content_type; /* static string */
    struct aipa_buf body;
    char request_id[37];
    unsigned retry_after_ms; /* non-zero: sent as x-acs-retry-after (Throttling) */
    /* For logs and tests: the action and the Code answered ("" on success). */
    char action[48];
    char code[64];
    /*
     * The latitude rows that applied to this request, and the other answers
     * it earned where the order of checks is not documented: what else a
     * valid implementation may answer (aipa/latitude.h).
     */
    struct aipa_lat_set latitude;
};

AIPA_API void aipa_srv_response_init(struct aipa_srv_response *r);
AIPA_API void aipa_srv_response_cleanup(struct aipa_srv_response *r);

struct aipa_srv;

/* Copies what it needs from cfg (credentials included). */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_srv_new(struct aipa_srv **out,
                                               const struct aipa_srv_config *cfg);
AIPA_API void aipa_srv_free(struct aipa_srv *srv);
AIPA_API struct aipa_model *aipa_srv_model(struct aipa_srv *srv);

/* Handles one request; thread-safe. Returns AIPA_OK whenever resp is filled. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_srv_handle(struct aipa_srv *srv,
                                                  const struct aipa_srv_request *req,
                                                  struct aipa_srv_response *resp);

/* Starts the HTTP front end (non-blocking); docs/serve.md "Front end". */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_srv_start(struct aipa_srv *srv);
AIPA_API uint16_t aipa_srv_port(const struct aipa_srv *srv);
AIPA_API void aipa_srv_stop(struct aipa_srv *srv);

/* The built-in default state document (NUL-terminated JSON). */
AIPA_API const char *aipa_srv_default_state(void);
/* The demo key pair used when no credentials are configured. */
#define AIPA_DEMO_ACCESS_KEY_ID     "testid"
#define AIPA_DEMO_ACCESS_KEY_SECRET "testsecret"

/* `aipa serve` */
AIPA_API int aipa_serve_main(int argc, char **argv);

#endif /* AIPA_SERVER_H */
