/*
 * request_sign.c: the harness's one signer (aipa/request.h), over the spec
 * library's primitives (aipa/sign.h).
 */
#include "aipa/request.h"

#include <string.h>

#define TRACE_MAX ((size_t)256 << 20)

const char *aipa_sig_name(enum aipa_sig s)
{
    switch (s) {
    case AIPA_SIG_V1:
        return "v1";
    case AIPA_SIG_V3:
        return "v3";
    case AIPA_SIG_NONE:
        return "none";
    }
    return "unknown";
}

void aipa_sign_trace_init(struct aipa_sign_trace *t)
{
    memset(t, 0, sizeof(*t));
    aipa_buf_init(&t->string_to_sign, TRACE_MAX);
    aipa_buf_init(&t->canonical_request, TRACE_MAX);
    aipa_buf_init(&t->signed_headers, TRACE_MAX);
}

void aipa_sign_trace_reset(struct aipa_sign_trace *t)
{
    aipa_buf_reset(&t->string_to_sign);
    aipa_buf_reset(&t->canonical_request);
    aipa_buf_reset(&t->signed_headers);
    t->signature[0] = '\0';
}

void aipa_sign_trace_cleanup(struct aipa_sign_trace *t)
{
    aipa_buf_cleanup(&t->string_to_sign);
    aipa_buf_cleanup(&t->canonical_request);
    aipa_buf_cleanup(&t->signed_headers);
    t->signature[0] = '\0';
}

aipa_err aipa_req_sign_v1(const char *method, const struct aipa_params *params, const char *secret,
                          struct aipa_sign_trace *t)
{
    if (method == NULL || params == NULL || secret == NULL || t == NULL) {
        return AIPA_EINVAL;
    }
    aipa_sign_trace_reset(t);
    AIPA_TRY(aipa_v1_string_to_sign(method, params, &t->string_to_sign));
    return aipa_v1_signature(secret, t->string_to_sign.ptr != NULL ? t->string_to_sign.ptr : "",
                             t->string_to_sign.len, t->signature);
}

aipa_err aipa_req_sign_v3(const char *method, const char *path, const struct aipa_params *query,
                          const struct aipa_header *headers, size_t header_count,
                          const char *payload_hash_hex, const char *access_key_id,
                          const char *secret, struct aipa_sign_trace *t,
                          struct aipa_buf *authorization)
{
    if (method == NULL || path == NULL || query == NULL || payload_hash_hex == NULL ||
        access_key_id == NULL || secret == NULL || t == NULL) {
        return AIPA_EINVAL;
    }
    aipa_sign_trace_reset(t);
    AIPA_TRY(aipa_v3_signed_headers(headers, header_count, &t->signed_headers));
    AIPA_TRY(aipa_v3_canonical_request(method, path, query, headers, header_count,
                                       aipa_slice_cstr(t->signed_headers.ptr), payload_hash_hex,
                                       &t->canonical_request));
    AIPA_TRY(aipa_v3_string_to_sign(t->canonical_request.ptr, t->canonical_request.len,
                                    &t->string_to_sign));
    AIPA_TRY(aipa_v3_signature(secret, t->string_to_sign.ptr, t->string_to_sign.len, t->signature));
    if (authorization == NULL) {
        return AIPA_OK;
    }
    return aipa_v3_format_authorization(access_key_id, t->signed_headers.ptr, t->signature,
                                        authorization);
}
