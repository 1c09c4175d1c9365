/*
 * aipa/transport.h: the harness's one libcurl layer.
 *
 * A struct aipa_tx owns one CURL easy handle (so consecutive requests reuse
 * the connection) and, once aipa_tx_begin is used, one multi handle. It
 * sends a struct aipa_tx_msg (method, request target, headers, body: all
 * borrowed, sent as given) to the configured origin and fills a struct
 * aipa_response. Every libcurl option is checked; reads are bounded (body
 * cap, header cap); header values that are empty go out empty.
 *
 * Two ways to send:
 *   aipa_tx_send()                  blocking (easy interface);
 *   aipa_tx_begin() / aipa_tx_finish()  the request leaves at begin and the
 *                                   answer is collected at finish (multi
 *                                   interface), so the caller can work while
 *                                   the target answers.
 *
 * Transport failures are not aipa_err errors: the response's xerr says what
 * went wrong, with a message. A handle is not thread-safe: one per thread.
 */
#ifndef AIPA_TRANSPORT_H
#define AIPA_TRANSPORT_H

#include "aipa/common.h"

#define AIPA_TX_DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define AIPA_TX_DEFAULT_TIMEOUT_MS         30000L
#define AIPA_TX_DEFAULT_MAX_RESPONSE       (8u * 1024u * 1024u) /* body bytes */
#define AIPA_TX_MAX_RESP_HEADERS           64 /* response headers kept; more are dropped */
#define AIPA_TX_MAX_RESP_HEADER_BYTES      (64u * 1024u) /* all response header lines */

/* Transport error classes (X-macro: enum, short name, description). */
#define AIPA_XERRS(X)                                                                              \
    X(AIPA_XERR_NONE, "none", "no transport error")                                                \
    X(AIPA_XERR_CONNECT, "connect", "could not connect (refused, unreachable, name not resolved)") \
    X(AIPA_XERR_TIMEOUT, "timeout", "connect or transfer timed out")                               \
    X(AIPA_XERR_TOO_LARGE, "too-large", "response larger than the configured cap")                 \
    X(AIPA_XERR_RESET, "reset", "connection closed or reset before a full response")               \
    X(AIPA_XERR_TLS, "tls", "TLS handshake or certificate verification failed")                    \
    X(AIPA_XERR_PROTOCOL, "protocol", "malformed HTTP response")                                   \
    X(AIPA_XERR_USAGE, "usage", "bad URL or unsupported protocol")                                 \
    X(AIPA_XERR_OTHER, "other", "other transport failure")

enum aipa_xerr {
#define AIPA_XERR_ENUM_(id, name, desc) id,
    AIPA_XERRS(AIPA_XERR_ENUM_)
#undef AIPA_XERR_ENUM_
};

AIPA_API const char *aipa_xerr_name(enum aipa_xerr e); /* "timeout", ... */
AIPA_API const char *aipa_xerr_desc(enum aipa_xerr e);

struct aipa_response {
    long status;            /* HTTP status; 0 when no status line was received */
    char content_type[128]; /* Content-Type as received (truncated), "" if none */
    struct aipa_buf body;   /* up to the handle's max_response bytes; NUL-terminated */
    /* Response headers (last response only), NUL-terminated, values trimmed. */
    struct {
        char *name;
        char *value;
    } headers[AIPA_TX_MAX_RESP_HEADERS];
    size_t header_count;
    bool headers_truncated; /* more headers than kept */
    bool truncated;         /* keep_past_cap: body bytes past the cap were dropped */
    bool sent;              /* the request left (false: refused before sending) */
    double elapsed_ms;      /* whole transfer, as libcurl measured it */
    enum aipa_xerr xerr;    /* AIPA_XERR_NONE when a full response arrived */
    char xerr_msg[256];     /* human-readable detail ("" when none) */
};

AIPA_API void aipa_response_init(struct aipa_response *r);
AIPA_API void aipa_response_cleanup(struct aipa_response *r);
/* The first response header called name (case-insensitive), or NULL. */
AIPA_API const char *aipa_response_header(const struct aipa_response *r, const char *name);

struct aipa_tx_config {
    const char *origin;      /* "scheme://host[:port]" (http or https); copied */
    long connect_timeout_ms; /* <= 0: the default */
    long timeout_ms;         /* whole transfer; <= 0: the default */
    size_t max_response;     /* body cap; 0: the default */
    bool insecure;           /* skip TLS peer and host verification (explicit only) */
    const char *ca_file;     /* PEM bundle to verify the target with; NULL: system */
    const char *proxy;       /* NULL: no proxy at all (environment ignored) */
    /*
     * The live fuzzer's habits, so the target sees what the in-process
     * reference sees:
     *   keep_past_cap: bytes past the body cap are dropped and the transfer
     *     goes on (resp->truncated), instead of failing with TOO_LARGE;
     *   url_target: a request target that is not plain printable ASCII
     *     origin-form goes into the URL (libcurl parses it) instead of going
     *     out verbatim;
     *   body_unless_get: every request but a bodiless GET carries a body
     *     (maybe empty, so Content-Length: 0) with the method as given.
     */
    bool keep_past_cap;
    bool url_target;
    bool body_unless_get;
};

AIPA_API void aipa_tx_config_defaults(struct aipa_tx_config *cfg);

/* A request header. value NULL: name is a raw line, sent as it is. */
struct aipa_tx_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/*
 * The line libcurl is given for h (CURLOPT_HTTPHEADER), into out (reset
 * first): "Name: value"; "Name;" for an empty value, so the header is still
 * sent (libcurl reads "Name:" as "remove it"); a raw line as it is.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_tx_header_line(const struct aipa_tx_header *h,
                                                      struct aipa_buf *out);

/* One request; everything borrowed until the send ends (aipa_tx_finish for begin). */
struct aipa_tx_msg {
    const char *method; /* "GET", "POST", or anything */
    const char *target; /* request target, NUL-terminated: "/?A=b" */
    const struct aipa_tx_header *headers;
    size_t header_count;
    const char *body; /* may be NULL when body_len is 0 */
    size_t body_len;
};

/* An absolute http(s) URL split by libcurl's parser. Every part owned. */
struct aipa_url {
    char *scheme; /* "http" or "https" */
    char *host;   /* as libcurl gives it (IPv6 in brackets) */
    char *port;   /* NULL when the URL names none */
    char *path;   /* NULL when the URL has none */
};

/* AIPA_EINVAL unless url is an absolute http or https URL. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_url_parse(const char *url, struct aipa_url *out);
AIPA_API void aipa_url_cleanup(struct aipa_url *u);

struct aipa_tx;

/* AIPA_EINVAL without an origin; AIPA_EIO when libcurl cannot start. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_tx_new(struct aipa_tx **out,
                                              const struct aipa_tx_config *cfg);
AIPA_API void aipa_tx_free(struct aipa_tx *tx);
AIPA_API long aipa_tx_timeout_ms(const struct aipa_tx *tx);

/*
 * Sends m and fills resp (reset first). Redirects are never followed.
 * Returns AIPA_OK once resp is filled, also on transport failure; AIPA_ENOMEM
 * when memory ran out.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_tx_send(struct aipa_tx *tx, const struct aipa_tx_msg *m,
                                               struct aipa_response *resp);
/*
 * The two halves of aipa_tx_send. After begin, call finish exactly once
 * (also when begin failed: it then only returns); resp and m must live until
 * then. At most one transfer per handle is in flight.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_tx_begin(struct aipa_tx *tx, const struct aipa_tx_msg *m,
                                                struct aipa_response *resp);
AIPA_API AIPA_MUST_CHECK aipa_err aipa_tx_finish(struct aipa_tx *tx);

#endif /* AIPA_TRANSPORT_H */
