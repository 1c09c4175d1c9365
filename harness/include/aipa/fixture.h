/*
 * aipa/fixture.h: the harness's one client of the /_aipa/ fixture protocol
 * (conformance/FIXTURES.md): reset, pool, instances, state, info, edition,
 * next-error. The conformance runner and the live fuzzer both call it.
 *
 * A struct aipa_fixture_conn names where the calls go: a transport handle
 * (borrowed: the caller's connection to the target), the target's path
 * prefix, the Host header, and the token. A call sends
 *
 *   METHOD <prefix>/_aipa/<path>
 *   [Host: <host>]  X-Aipa-Token: <token>  [Content-Type: application/json]
 *
 * with the JSON body, if any, and fills a struct aipa_response.
 */
#ifndef AIPA_FIXTURE_H
#define AIPA_FIXTURE_H

#include "aipa/common.h"
#include "aipa/transport.h"

#define AIPA_FIXTURE_MAX_HEADERS 3
#define AIPA_FIXTURE_ID_MAX      1024u /* bytes of an InstanceId the client reads, NUL included */

struct aipa_fixture_conn {
    struct aipa_tx *tx; /* borrowed */
    const char *prefix; /* path before "/_aipa/..."; NULL or "": none */
    const char *host;   /* Host header; NULL: the one libcurl derives from the origin */
    const char *token;  /* X-Aipa-Token; NULL: not sent */

    /* private: the call in flight between aipa_fixture_begin and _finish */
    struct aipa_tx_header hs_[AIPA_FIXTURE_MAX_HEADERS];
    struct aipa_buf target_;
    struct aipa_tx_msg m_;
};

/* Sets the four public fields (all borrowed) and the private ones. */
AIPA_API void aipa_fixture_conn_init(struct aipa_fixture_conn *fc, struct aipa_tx *tx,
                                     const char *prefix, const char *host, const char *token);
AIPA_API void aipa_fixture_conn_cleanup(struct aipa_fixture_conn *fc);

/* The prefix of a target URL: its path without the trailing '/' ("" for none). */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_fixture_prefix(const char *target_url, struct aipa_buf *out);

/*
 * The headers a call sends (at most AIPA_FIXTURE_MAX_HEADERS; they point into
 * fc), so an in-process reference can be handed the same request. Returns
 * the count.
 */
AIPA_API size_t aipa_fixture_headers(const struct aipa_fixture_conn *fc, bool json,
                                     struct aipa_tx_header out[AIPA_FIXTURE_MAX_HEADERS]);

/*
 * One call, blocking: path is "/_aipa/reset" and the like, json the body or
 * NULL. AIPA_OK once resp is filled, also on transport failure (resp->xerr).
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_fixture_call(struct aipa_fixture_conn *fc,
                                                    const char *method, const char *path,
                                                    const char *json, struct aipa_response *resp);
/*
 * The same in two halves (aipa_tx_begin, aipa_tx_finish), so the caller can
 * do the reference's part while the target answers. json and resp must live
 * until aipa_fixture_finish.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_fixture_begin(struct aipa_fixture_conn *fc,
                                                     const char *method, const char *path,
                                                     const char *json, struct aipa_response *resp);
AIPA_API AIPA_MUST_CHECK aipa_err aipa_fixture_finish(struct aipa_fixture_conn *fc);

/*
 * The InstanceId of a POST /_aipa/instances answer (a JSON body), read with
 * the bounded parser, into out (cap bytes). AIPA_EPARSE when the body is not
 * JSON or has no non-empty string InstanceId that fits.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_fixture_instance_id(const struct aipa_buf *body, char *out,
                                                           size_t cap);
/* The string member name of a JSON answer ("Edition" of /_aipa/info), like the above. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_fixture_string(const struct aipa_buf *body, const char *name,
                                                      char *out, size_t cap);

#endif /* AIPA_FIXTURE_H */
