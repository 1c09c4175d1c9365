/*
 * aipa/wire.h: the RPC wire codec. Percent-decoding of query strings and
 * form bodies, the Alibaba percent-encoding of spec/wire.md §2.2, and one
 * parameter list that holds the union of query and form body.
 *
 * Every input is (pointer, length); nothing needs a NUL terminator.
 */
#ifndef AIPA_WIRE_H
#define AIPA_WIRE_H

#include "aipa/common.h"
#include "aipa/errors.h"

/* Default limits; a server may configure others. */
/* The ECS API version this project implements (the Version parameter). */
#define AIPA_API_VERSION "2014-05-26"

#define AIPA_WIRE_MAX_TOTAL  (64u * 1024u) /* bytes of one query string or body */
#define AIPA_WIRE_MAX_PARAMS 128u          /* parameters in query + body together */
#define AIPA_WIRE_MAX_NAME   128u          /* decoded bytes of a name */
#define AIPA_WIRE_MAX_VALUE  (16u * 1024u) /* decoded bytes of a value */

struct aipa_wire_limits {
    size_t max_total;
    size_t max_params;
    size_t max_name;
    size_t max_value;
};

AIPA_API struct aipa_wire_limits aipa_wire_default_limits(void);

/* The value of a hex digit (either case), -1 for any other byte. */
AIPA_API int aipa_hex_digit(uint8_t c);

/*
 * One decoded parameter. name and value are owned by the list (one
 * allocation holds both), decoded, and NUL-terminated for convenience; the lengths are authoritative (a value may
 * hold a NUL only if the parser was told to allow it, which it never is by
 * default). origin says where it came from.
 */
enum aipa_param_origin { AIPA_PARAM_QUERY = 0, AIPA_PARAM_BODY = 1, AIPA_PARAM_BUILT = 2 };

struct aipa_param {
    char *name;
    size_t name_len;
    char *value;
    size_t value_len;
    enum aipa_param_origin origin;
};

struct aipa_params {
    struct aipa_param *items;
    size_t count;
    size_t cap;
    struct aipa_wire_limits limits;
};

AIPA_API void aipa_params_init(struct aipa_params *p, const struct aipa_wire_limits *limits);
AIPA_API void aipa_params_cleanup(struct aipa_params *p);
/* Appends a copy of (name, value). AIPA_ETOOBIG past the limits. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_params_add(struct aipa_params *p, const char *name,
                                                  size_t name_len, const char *value,
                                                  size_t value_len, enum aipa_param_origin origin);
AIPA_API AIPA_MUST_CHECK aipa_err aipa_params_add_cstr(struct aipa_params *p, const char *name,
                                                       const char *value);
/* Replaces the value of name if present, else adds it. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_params_set(struct aipa_params *p, const char *name,
                                                  const char *value);
/* First parameter with exactly this name (case-sensitive); NULL if absent. */
AIPA_API const struct aipa_param *aipa_params_get(const struct aipa_params *p, const char *name);
/* The value of name, or NULL. */
AIPA_API const char *aipa_params_value(const struct aipa_params *p, const char *name);
/* Removes every parameter called name; returns how many went. */
AIPA_API size_t aipa_params_remove(struct aipa_params *p, const char *name);
/* Sorts by name in byte order (stable, so equal names keep their order). */
AIPA_API void aipa_params_sort(struct aipa_params *p);
/*
 * Deep copy: dst is initialised by the call (with src's limits), so pass a
 * list that holds nothing. On failure dst is left empty.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_params_copy(struct aipa_params *dst,
                                                   const struct aipa_params *src);

/*
 * Parsing. Flags select the decoding rules of the input:
 *   AIPA_WIRE_PLUS_IS_SPACE   '+' decodes to a space (query strings and form
 *                             bodies both use it; always set by the server)
 */
#define AIPA_WIRE_PLUS_IS_SPACE 0x01u

/*
 * Outcome of a parse. On success code is AIPA_C_OK. Otherwise code is the
 * Alibaba error the server answers with, and detail names the offending
 * parameter where there is one (NUL-terminated, possibly truncated).
 *
 * The classes and their outcomes (each documented and tested):
 *   input longer than max_total           AIPA_ETOOBIG  / InvalidParameter "%s" = "QueryString"
 *   more than max_params parameters       AIPA_ETOOBIG  / InvalidParameter (detail
 * "ParameterCount") a name or value past its limit        AIPA_ETOOBIG  / InvalidParameter (detail:
 * the name) malformed %-escape ("%", "%4", "%zz") AIPA_EPARSE   / InvalidParameter (detail: the
 * name) a decoded NUL byte in a name or value AIPA_EPARSE   / InvalidParameter invalid UTF-8 in a
 * name or value      AIPA_EPARSE   / InvalidParameter empty name ("=x", "&&" is skipped)
 * AIPA_EPARSE   / InvalidParameter a name seen twice (query or body)     AIPA_EPARSE   /
 * InvalidParameter (detail: the name) Empty pairs between separators ("a=1&&b=2", a trailing "&")
 * are skipped; "a" with no "=" is a parameter with an empty value.
 *
 * Each pair is checked in this order: name (escape, NUL, UTF-8, length),
 * value (escape, NUL, UTF-8, length), duplicate, count; the first failure
 * wins. On any failure out is restored to what it held before the call. Out
 * of memory is AIPA_ENOMEM with code AIPA_C_INTERNAL_ERROR. res may be NULL.
 * A detail is always valid UTF-8 (bytes that are not become '?').
 */
struct aipa_wire_result {
    enum aipa_code code;
    char detail[64];
    bool duplicate; /* the failure was a repeated name (a latitude row: dup-param) */
};

AIPA_API AIPA_MUST_CHECK aipa_err aipa_wire_parse(const uint8_t *s, size_t n, unsigned flags,
                                                  enum aipa_param_origin origin,
                                                  struct aipa_params *out,
                                                  struct aipa_wire_result *res);

/*
 * Decodes %XX (and '+' per flags), appending to out. AIPA_EPARSE on a
 * malformed escape (out unchanged). out needs room for n more bytes.
 * No NUL or UTF-8 check: aipa_wire_parse adds those.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_pct_decode(const uint8_t *s, size_t n, unsigned flags,
                                                  struct aipa_buf *out);
/*
 * Alibaba percent-encoding (spec/wire.md §2.2 step 4): unreserved A-Z a-z 0-9 - _ . ~ stay,
 * every other byte becomes %XX with uppercase hex. Appends to out.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_pct_encode(const uint8_t *s, size_t n, struct aipa_buf *out);
/* Upper bound of the encoded length of n bytes (3n). */
#define AIPA_PCT_ENCODED_MAX(n) ((n)*3u)

/* True when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
AIPA_API bool aipa_utf8_valid(const uint8_t *s, size_t n);

/* What aipa_utf8_decode gives for an ill-formed sequence (never a code point). */
#define AIPA_UTF8_INVALID 0xFFFFFFFFu

/*
 * Decodes the UTF-8 sequence at s[0..n) (n >= 1) under the rules of
 * aipa_utf8_valid: sets *cp and returns the sequence's length. An ill-formed
 * or truncated sequence sets *cp = AIPA_UTF8_INVALID and returns the length of
 * its maximal well-formed prefix, at least 1 (Unicode's "maximal subpart":
 * one U+FFFD per return keeps to its recommended practice).
 */
AIPA_API size_t aipa_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp);

/*
 * Serialises params as a query string: name=value pairs joined with '&',
 * both percent-encoded with aipa_pct_encode, in list order. Appends to out
 * (all or nothing).
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_wire_build_query(const struct aipa_params *p,
                                                        struct aipa_buf *out);

#endif /* AIPA_WIRE_H */
