/*
 * aipa/sign.h: the two request signatures of spec/wire.md §2.
 *
 *   V1  RPC, HMAC-SHA1, SignatureVersion=1.0, a Signature parameter (spec/wire.md §2.2)
 *   V3  ACS3-HMAC-SHA256, an Authorization header (spec/wire.md §2.3)
 *
 * Each is usable to sign (client side) and to verify (server side); verify
 * compares in constant time. HMAC and SHA come from OpenSSL's libcrypto.
 *
 * Functions that write text into a struct aipa_buf append to it, all or
 * nothing; the *_verify functions reset their sts buffer first, and accept
 * sts == NULL when the caller does not need the StringToSign.
 */
#ifndef AIPA_SIGN_H
#define AIPA_SIGN_H

#include "aipa/common.h"
#include "aipa/wire.h"

#define AIPA_V1_SIG_LEN       28 /* base64 of 20 bytes */
#define AIPA_V3_SIG_LEN       64 /* hex of 32 bytes */
#define AIPA_SHA256_HEX_LEN   64
#define AIPA_EMPTY_SHA256_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- V1 ---- */

/*
 * StringToSign = method "&" pct("/") "&" pct(CanonicalizedQueryString), from
 * every parameter of params except "Signature", sorted by name in byte
 * order (params itself is not reordered). method is the actual HTTP method.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_v1_string_to_sign(const char *method,
                                                         const struct aipa_params *params,
                                                         struct aipa_buf *out);
/* Base64(HMAC-SHA1(secret + "&", sts)), NUL-terminated. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_v1_signature(const char *secret, const char *sts,
                                                    size_t sts_len, char out[AIPA_V1_SIG_LEN + 1]);
/*
 * Computes the StringToSign of params (into sts, which the caller can put in
 * a SignatureDoesNotMatch message) and compares the Signature parameter with
 * the expected one in constant time. Returns AIPA_OK with *match set
 * (false when there is no Signature parameter).
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_v1_verify(const char *method,
                                                 const struct aipa_params *params,
                                                 const char *secret, struct aipa_buf *sts,
                                                 bool *match);
/* Adds (or replaces) the Signature parameter of params for method and secret. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_v1_sign(const char *method, struct aipa_params *params,
                                               const char *secret);

/* ---- V3 ---- */

/* A request header as received; the slices point into the caller's storage. */
struct aipa_header {
    struct aipa_slice name;
    struct aipa_slice value;
};

/* The parsed Authorization header; slices point into the header value. */
struct aipa_v3_auth {
    struct aipa_slice algorithm;      /* "ACS3-HMAC-SHA256" */
    struct aipa_slice credential;     /* the AccessKeyId */
    struct aipa_slice signed_headers; /* "host;x-acs-action;..." as sent */
    struct aipa_slice signature;      /* lowercase hex */
};

/*
 * Parses "ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..".
 * The three fields may come in any order, separated by ',' with optional
 * spaces; each must appear once. AIPA_EPARSE when malformed.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_v3_parse_authorization(const uint8_t *s, size_t n,
                                                              struct aipa_v3_auth *out);

/*
 * CanonicalRequest = method \n uri \n CanonicalQueryString \n
 *                    CanonicalHeaders \n SignedHeaders \n payload_hash_hex
 * CanonicalQueryString: query params sorted by name, name=pct(value) joined
 * by '&' (names unencoded, as the SDK does). CanonicalHeaders: for each name
 * of signed_headers (lowercase, ';'-separated, in the order given), the
 * header's lowercase name ':' trimmed value '\n'; repeated headers joined
 * with ','. A signed header that is absent from headers is AIPA_ENOTFOUND;
 * a malformed signed_headers (empty element, non-token byte) AIPA_EPARSE.
 * Header names match case-insensitively; values are trimmed of SP and HTAB.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_v3_canonical_request(
    const char *method, const char *uri, const struct aipa_params *query,
    const struct aipa_header *headers, size_t header_count, struct aipa_slice signed_headers,
    const char *payload_hash_hex, struct aipa_buf *out);
/* "ACS3-HMAC-SHA256\n" hex(SHA256(canonical)). */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_v3_string_to_sign(const char *canonical, size_t len,
                                                         struct aipa_buf *out);
/* hex(HMAC-SHA256(secret, sts)), lowercase, NUL-terminated. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_v3_signature(const char *secret, const char *sts,
                                                    size_t sts_len, char out[AIPA_V3_SIG_LEN + 1]);
/* Lowercase hex SHA-256 of data. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_sha256_hex(const void *data, size_t len,
                                                  char out[AIPA_SHA256_HEX_LEN + 1]);
/*
 * Recomputes the signature of a received V3 request and compares it in
 * constant time with auth->signature. sts receives the StringToSign.
 * An algorithm other than ACS3-HMAC-SHA256 never matches (the caller can
 * check auth->algorithm first to answer with a more precise error). Errors
 * of aipa_v3_canonical_request pass through (AIPA_ENOTFOUND, AIPA_EPARSE).
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_v3_verify(
    const char *method, const char *uri, const struct aipa_params *query,
    const struct aipa_header *headers, size_t header_count, const struct aipa_v3_auth *auth,
    const char *payload_hash_hex, const char *secret, struct aipa_buf *sts, bool *match);
/*
 * Client side: builds the Authorization header value for the given request.
 * signed_headers is the ';'-list to sign (every header it names must be in
 * headers).
 */
AIPA_API AIPA_MUST_CHECK aipa_err
aipa_v3_authorization(const char *method, const char *uri, const struct aipa_params *query,
                      const struct aipa_header *headers, size_t header_count,
                      const char *signed_headers, const char *payload_hash_hex,
                      const char *access_key_id, const char *secret, struct aipa_buf *out);

/*
 * Which headers a V3 signature covers, in one place for both sides:
 * aipa_v3_must_sign is the server's rule (host and every x-acs-* header a
 * request carries must be named in SignedHeaders); aipa_v3_client_signs is
 * what a client signs (those, plus content-type, as the SDK does).
 */
AIPA_API bool aipa_v3_must_sign(const char *name, size_t name_len);
AIPA_API bool aipa_v3_client_signs(const char *name, size_t name_len);
/*
 * The SignedHeaders list of a client request: the lowercase names of the
 * headers aipa_v3_client_signs, sorted, each once, ';'-separated.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_v3_signed_headers(const struct aipa_header *headers,
                                                         size_t header_count,
                                                         struct aipa_buf *out);
/* "ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<list>,Signature=<hex>". */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_v3_format_authorization(const char *access_key_id,
                                                               const char *signed_headers,
                                                               const char *signature,
                                                               struct aipa_buf *out);

/* Constant-time comparison of two byte strings (length is not secret). */
AIPA_API bool aipa_ct_equal(const void *a, size_t a_len, const void *b, size_t b_len);

/* ---- timestamps ---- */

/*
 * Parses the strict ISO 8601 UTC form "yyyy-MM-ddTHH:mm:ssZ" (spec/wire.md §2.1) into
 * seconds since the epoch. AIPA_EPARSE for anything else (milliseconds,
 * offsets, out-of-range fields).
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_parse_timestamp(const char *s, size_t n, int64_t *out);
/* Writes "yyyy-MM-ddTHH:mm:ssZ" and a NUL (21 bytes); t is clamped to years 0000-9999. */
AIPA_API void aipa_format_timestamp(int64_t t, char out[21]);

#endif /* AIPA_SIGN_H */
