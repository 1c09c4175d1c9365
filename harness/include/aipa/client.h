/*
 * aipa/client.h: the harness's HTTP client (libcurl).
 *
 * One struct aipa_client owns one CURL easy handle, so consecutive requests
 * to the same target reuse the connection (keep-alive). A client is not
 * thread-safe: use one per thread.
 *
 * A request goes through two steps, which callers may also run apart:
 *
 *   aipa_client_build()  operation params + knobs -> struct aipa_built
 *                        (method, request target, headers, body), signed
 *                        V1, V3 or not at all, then the tamper hook;
 *   aipa_client_send()   struct aipa_built -> struct aipa_response.
 *
 * aipa_client_call() does both. Transport failures are not aipa_err errors:
 * the call returns AIPA_OK and resp->xerr says what went wrong (connect
 * failed, timeout, too large, ...), with a message. aipa_err results other
 * than AIPA_OK mean a caller bug (AIPA_EINVAL), memory (AIPA_ENOMEM), or a
 * request that cannot be built (AIPA_ETOOBIG past the param limits).
 *
 * Secrets: the client copies the secret it is given, wipes it on free, and
 * never writes it anywhere (no logs, no repro lines, no error messages).
 */
#ifndef AIPA_CLIENT_H
#define AIPA_CLIENT_H

#include "aipa/common.h"
#include "aipa/request.h"
#include "aipa/sign.h"
#include "aipa/transport.h"
#include "aipa/wire.h"

/* ---- configuration ---- */

#define AIPA_CLIENT_MAX_HEADERS 64 /* request headers of one built request */

struct aipa_client_config {
    /*
     * Base URL of the target: "http://127.0.0.1:8080" or with a path
     * ("https://gw.example/ecs/"; the path is the RPC pathname, "/" if none).
     * Only http and https are accepted. Copied.
     */
    const char *target;
    const char *access_key_id;     /* copied; NULL: "" */
    const char *access_key_secret; /* copied and wiped on free; NULL: "" */
    const char *version;           /* API version; NULL: AIPA_API_VERSION (wire.h) */
    long connect_timeout_ms;       /* <= 0: the default */
    long timeout_ms;               /* whole transfer; <= 0: the default */
    size_t max_response;           /* body cap; 0: the default. Past it: AIPA_XERR_TOO_LARGE */
    bool insecure;                 /* skip TLS peer and host verification (explicit only) */
    const char *ca_file;           /* PEM bundle to verify the target with; NULL: system */
    const char *user_agent;        /* NULL: "aipa/<version>" */
    const char *proxy;             /* NULL: no proxy at all (environment ignored) */
};

/* Fills cfg with the defaults (target NULL: the caller must set it). */
AIPA_API void aipa_client_config_defaults(struct aipa_client_config *cfg);

struct aipa_client;

/* AIPA_EINVAL when target is missing or not an http(s) URL. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_client_new(struct aipa_client **out,
                                                  const struct aipa_client_config *cfg);
AIPA_API void aipa_client_free(struct aipa_client *c);
/* The target URL as configured (owned by the client). */
AIPA_API const char *aipa_client_target(const struct aipa_client *c);
/* The client's connection, for other protocols on the same target (the fixture protocol). */
AIPA_API struct aipa_tx *aipa_client_tx(struct aipa_client *c);

/* ---- requests ---- */

/* A header as the caller gives it: both NUL-terminated. */
struct aipa_kv {
    const char *name;
    const char *value;
};

/* A built request. Every field is owned by it (aipa_built_cleanup frees). */
struct aipa_built {
    struct aipa_buf method; /* "GET", "POST", or anything a knob put there */
    struct aipa_buf target; /* request target as sent: path and query ("/?A=b") */
    struct aipa_buf body;   /* may be empty */
    /* Headers sent, in order; names and values NUL-terminated, owned. */
    struct {
        char *name;
        char *value;
    } headers[AIPA_CLIENT_MAX_HEADERS];
    size_t header_count;
    /* Every parameter that went on the wire (query and form), decoded. */
    struct aipa_params sent;
    /* What was signed, once (StringToSign, canonical request, signature). */
    struct aipa_sign_trace trace;
    bool tampered; /* the tamper hook ran (repro lines say so) */
};

AIPA_API void aipa_built_init(struct aipa_built *b);
AIPA_API void aipa_built_cleanup(struct aipa_built *b);
/* Replaces every header called name (case-insensitive) by one with value, or appends it. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_built_set_header(struct aipa_built *b, const char *name,
                                                        const char *value);
/* Removes every header called name (case-insensitive); returns how many went. */
AIPA_API size_t aipa_built_remove_header(struct aipa_built *b, const char *name);
/* The first header called name (case-insensitive), or NULL. */
AIPA_API const char *aipa_built_header(const struct aipa_built *b, const char *name);

struct aipa_request {
    enum aipa_sig sig;
    enum aipa_shape shape;
    enum aipa_want want;
    /*
     * Operation parameters: Action, InstanceId, ... (borrowed). For V3,
     * Action and Version move to the x-acs-action / x-acs-version headers
     * and the rest stay in the query. A common parameter given here
     * (Version, Format, AccessKeyId, Timestamp, ...) is sent as given and
     * the client does not add its own.
     */
    const struct aipa_params *params;

    /* ---- knobs for negative cases and fuzzing (all optional: NULL / 0) ---- */
    const char *secret;        /* sign with this secret instead of the client's */
    const char *access_key_id; /* instead of the client's */
    const char *timestamp;     /* Timestamp / x-acs-date, verbatim */
    const char *nonce;         /* SignatureNonce / x-acs-signature-nonce, verbatim */
    const char *method;        /* HTTP method on the wire (and signed), instead of the shape's */
    const char *sign_method;   /* sign as if the method were this (a mismatch case) */
    /*
     * Names to leave out: common parameters (V1: "Version", "Timestamp",
     * "SignatureNonce", "SignatureMethod", "SignatureVersion", "AccessKeyId",
     * "Signature", "Format") and, for V3, headers ("x-acs-date", "host",
     * "Authorization", ...). Omitted before signing, except "Signature" and
     * "Authorization", which are dropped after it.
     */
    const char *const *omit;
    size_t omit_count;
    /* Headers added before signing (V3 signs those named x-acs-*, as the SDK does). */
    const struct aipa_kv *extra_headers;
    size_t extra_header_count;
    /* Headers removed after signing (case-insensitive). */
    const char *const *remove_headers;
    size_t remove_header_count;
    /* Runs after signing, before sending; may change anything in b. */
    void (*tamper)(void *ctx, struct aipa_built *b);
    void *tamper_ctx;

    /*
     * Raw mode: no params, no signing, nothing added. raw_method (default
     * "GET") and the raw request-target bytes (path and query, sent as they
     * are, e.g. "/?A=%zz") with raw_headers ("Name: value" lines, no CRLF)
     * and raw_body. libcurl still adds Host (unless a raw header sets it) and
     * Content-Length when there is a body.
     */
    bool raw;
    const char *raw_method;
    const uint8_t *raw_target;
    size_t raw_target_len;
    const char *const *raw_headers;
    size_t raw_header_count;
    const uint8_t *raw_body;
    size_t raw_body_len;
};

/* Zeroes r and sets the defaults: V1, GET, AIPA_WANT_DEFAULT. */
AIPA_API void aipa_request_init(struct aipa_request *r);

/*
 * Builds (and signs) req into b, which must have been initialised with
 * aipa_built_init (it is reset first). AIPA_EINVAL for a request that
 * makes no sense (V3 with a form body, no params outside raw mode).
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_client_build(struct aipa_client *c,
                                                    const struct aipa_request *req,
                                                    struct aipa_built *b);

/* ---- responses (struct aipa_response: aipa/transport.h) ---- */

/*
 * Sends b to the client's target and fills resp (reset first). Redirects are
 * never followed (a 3xx is a response like any other). Returns AIPA_OK once
 * resp is filled, also on transport failure (see resp->xerr).
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_client_send(struct aipa_client *c,
                                                   const struct aipa_built *b,
                                                   struct aipa_response *resp);

/* aipa_client_build then aipa_client_send; b may be NULL when the caller does not need it. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_client_call(struct aipa_client *c,
                                                   const struct aipa_request *req,
                                                   struct aipa_built *b,
                                                   struct aipa_response *resp);

/*
 * Writes a shell command line that reproduces req against the client's
 * target with `aipa call` (quoted for POSIX sh). Secrets never appear: the
 * client's secret is read by aipa call from $AIPA_ACCESS_KEY_SECRET, an
 * overriding req->secret is referenced as $AIPA_OVERRIDE_SECRET. A tamper
 * hook cannot be expressed; the line then ends with a "# tampered" comment.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_client_repro(const struct aipa_client *c,
                                                    const struct aipa_request *req,
                                                    struct aipa_buf *out);

/* A fresh random nonce: 32 lowercase hex digits and a NUL. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_client_nonce(char out[33]);

#endif /* AIPA_CLIENT_H */
