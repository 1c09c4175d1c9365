/*
 * aipa/request.h: the request model's shared vocabulary and its signer.
 *
 * Every request the harness signs (the conformance runner's and `aipa call`'s
 * through aipa/client.h, the live fuzzer's through aipa/livefuzz.h) is signed
 * here, once, and leaves a trace of what was signed.
 */
#ifndef AIPA_REQUEST_H
#define AIPA_REQUEST_H

#include "aipa/common.h"
#include "aipa/sign.h"
#include "aipa/wire.h"

/* How a request is signed: the one name for this choice in the harness. */
enum aipa_sig {
    AIPA_SIG_V1 = 0,   /* RPC HMAC-SHA1, Signature parameter (spec/wire.md §2.2) */
    AIPA_SIG_V3 = 1,   /* ACS3-HMAC-SHA256, Authorization header (spec/wire.md §2.3) */
    AIPA_SIG_NONE = 2, /* unsigned */
};

/* "v1", "v3", "none". */
AIPA_API const char *aipa_sig_name(enum aipa_sig s);

enum aipa_shape {
    AIPA_SHAPE_GET = 0,        /* GET /?params */
    AIPA_SHAPE_POST_QUERY = 1, /* POST /?params, empty body (Tea SDK, V1 and V3) */
    AIPA_SHAPE_POST_FORM = 2,  /* POST /, params as a form body (pop-core); V1 and NONE only */
};

/* Which response format to ask for. */
enum aipa_want {
    AIPA_WANT_DEFAULT = 0, /* ask for nothing (V1 servers answer XML) */
    AIPA_WANT_XML = 1,     /* V1/NONE: Format=XML. V3: Format=XML in the query */
    AIPA_WANT_JSON = 2,    /* V1/NONE: Format=JSON. V3: Accept: application/json */
};

/* What a signature was computed over, for reports and `aipa call --explain`. */
struct aipa_sign_trace {
    struct aipa_buf string_to_sign;      /* V1 and V3 */
    struct aipa_buf canonical_request;   /* V3 */
    struct aipa_buf signed_headers;      /* V3: "host;x-acs-..." */
    char signature[AIPA_V3_SIG_LEN + 1]; /* V1 base64 or V3 hex; "" when unsigned */
};

AIPA_API void aipa_sign_trace_init(struct aipa_sign_trace *t);
AIPA_API void aipa_sign_trace_reset(struct aipa_sign_trace *t);
AIPA_API void aipa_sign_trace_cleanup(struct aipa_sign_trace *t);

/*
 * V1: the StringToSign of method and the decoded parameters, and its
 * HMAC-SHA1 signature under secret, into t (reset first).
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_req_sign_v1(const char *method,
                                                   const struct aipa_params *params,
                                                   const char *secret, struct aipa_sign_trace *t);

/*
 * V3, computed once: SignedHeaders (every header of headers that
 * aipa_v3_client_signs), the canonical request, the StringToSign, the
 * signature, and the Authorization value (appended to authorization when it
 * is not NULL), into t (reset first).
 */
AIPA_API AIPA_MUST_CHECK aipa_err
aipa_req_sign_v3(const char *method, const char *path, const struct aipa_params *query,
                 const struct aipa_header *headers, size_t header_count,
                 const char *payload_hash_hex, const char *access_key_id, const char *secret,
                 struct aipa_sign_trace *t, struct aipa_buf *authorization);

#endif /* AIPA_REQUEST_H */
