/*
 * aipa/latitude.h: every point where the documents allow more than one
 * answer, in one table.
 *
 * Each row has a stable id ("dup-param"), the editions it applies to, the
 * strict answer (the one the reference gives by default), the accepted
 * alternatives, and the source text that leaves the choice open. The
 * reference handler and the model report, with each answer, the set of rows
 * that applied to the request (struct aipa_lat_set); the conformance matcher
 * and the live fuzzer's differential oracle accept an answer inside that set
 * (naming the row), and `--strict` narrows both to the strict answer.
 * docs/latitude.md is generated from this table (`aipa latitude --markdown`).
 */
#ifndef AIPA_LATITUDE_H
#define AIPA_LATITUDE_H

#include "aipa/common.h"
#include "aipa/errors.h"

/* clang-format off */
/* The rows, in table order: enum id and stable name. The facts are in latitude.c. */
#define AIPA_LATITUDE_ROWS(X)                                   \
    X(AIPA_LAT_DUP_PARAM,             "dup-param")              \
    X(AIPA_LAT_WIRE_MALFORMED,        "wire-malformed")         \
    X(AIPA_LAT_WIRE_LIMIT,            "wire-limit")             \
    X(AIPA_LAT_URL_TOO_LONG,          "url-too-long")           \
    X(AIPA_LAT_HEADERS_TOO_LARGE,     "headers-too-large")      \
    X(AIPA_LAT_BODY_TOO_LARGE,        "body-too-large")         \
    X(AIPA_LAT_HTTP_METHOD,           "http-method")            \
    X(AIPA_LAT_FORMAT_UNKNOWN,        "format-unknown")         \
    X(AIPA_LAT_FORMAT_EMPTY,          "format-empty")           \
    X(AIPA_LAT_V3_NO_ACCEPT,          "v3-no-accept-format")    \
    X(AIPA_LAT_ACTION_EMPTY,          "action-empty")           \
    X(AIPA_LAT_ACTION_UNKNOWN,        "action-unknown")         \
    X(AIPA_LAT_VERSION_MISSING,       "version-missing")        \
    X(AIPA_LAT_VERSION_WRONG,         "version-wrong")          \
    X(AIPA_LAT_CHECK_ORDER,           "check-order")            \
    X(AIPA_LAT_NONCE_AFTER_REJECT,    "nonce-after-reject")     \
    X(AIPA_LAT_MISSING_PARAM_CODE,    "missing-param-code")     \
    X(AIPA_LAT_MISSING_INSTANCE_ID,   "missing-instanceid-code") \
    X(AIPA_LAT_KEY_UNKNOWN,           "key-unknown-status")     \
    X(AIPA_LAT_KEY_INACTIVE,          "key-inactive-code")      \
    X(AIPA_LAT_TIMESTAMP_FORMAT,      "timestamp-format-code")  \
    X(AIPA_LAT_SIGNATURE_MISSING,     "signature-missing-code") \
    X(AIPA_LAT_SIGNATURE_METHOD,      "signature-method-code")  \
    X(AIPA_LAT_OWNER_ID,              "owner-id-code")          \
    X(AIPA_LAT_OWNER_BOTH,            "owner-both-code")        \
    X(AIPA_LAT_INSTANCE_ID_MALFORMED, "instanceid-malformed")   \
    X(AIPA_LAT_RELEASE_NO_ADDRESS,    "release-no-address")     \
    X(AIPA_LAT_RELEASE_BAD_ADDRESS,   "release-bad-address")    \
    X(AIPA_LAT_DESCRIBE_BAD_IDS,      "describe-bad-instanceids") \
    X(AIPA_LAT_DESCRIBE_PAGING,       "describe-bad-paging")    \
    X(AIPA_LAT_PRECEDENCE,            "precedence")             \
    X(AIPA_LAT_ALREADY_ALLOCATED,     "already-allocated-2024") \
    X(AIPA_LAT_CLASSIC_EIP_2018,      "classic-eip-2018")       \
    X(AIPA_LAT_CLASSIC_EIP_2024,      "classic-eip-2024")       \
    X(AIPA_LAT_ZERO_BANDWIDTH_2018,   "zero-bandwidth-2018")    \
    X(AIPA_LAT_WHITELIST_CODE,        "whitelist-code")         \
    X(AIPA_LAT_IP_NOT_IN_POOL,        "ip-not-in-pool")         \
    X(AIPA_LAT_IP_NOT_PUBLIC,         "ip-not-public")          \
    X(AIPA_LAT_INSUFFICIENT_MESSAGE,  "insufficient-ip-message") \
    X(AIPA_LAT_ALLOCATED_MESSAGE,     "allocated-already-message") \
    X(AIPA_LAT_TRANSIENT_2018,        "transient-2018")
/* clang-format on */

enum aipa_lat {
#define AIPA_LAT_ENUM_(id, name) id,
    AIPA_LATITUDE_ROWS(AIPA_LAT_ENUM_)
#undef AIPA_LAT_ENUM_
        AIPA_LAT_COUNT_
};

/* Formats an answer may name. */
#define AIPA_LAT_FMT_ANY  0u /* the format the request asked for */
#define AIPA_LAT_FMT_XML  1u
#define AIPA_LAT_FMT_JSON 2u

/*
 * Wildcards in an answer's code:
 *   NULL              no Code: a success body, or a refusal with no API body
 *   AIPA_LAT_ANY      any documented (status, Code) of errors.h, or a success
 *   AIPA_LAT_MISSING  "Missing" followed by a parameter name
 * A status of 0 matches any status.
 */
#define AIPA_LAT_ANY     "*"
#define AIPA_LAT_MISSING "Missing*"

struct aipa_lat_answer {
    unsigned status;
    const char *code;
    unsigned format;     /* AIPA_LAT_FMT_* */
    const char *message; /* only where the row is about the Message; else NULL */
};

struct aipa_latitude {
    enum aipa_lat id;
    const char *name;
    unsigned editions; /* AIPA_ED_* bits */
    const char *when;  /* the situation, one sentence */
    struct aipa_lat_answer strict;
    const struct aipa_lat_answer *alts; /* the accepted alternatives */
    size_t alt_count;
    /*
     * True when the alternatives also include, per request, the other
     * answers the request earns (struct aipa_lat_set's also list): the order
     * of checks is not documented.
     */
    bool per_request;
    const char *source; /* "seed", "doc 2024-12-20", "wire facts", "metadata", "none" */
    const char *where;  /* section or table in the source */
    const char *text;   /* what the source says (or does not), in the project's words */
};

/* The row for id; NULL out of range. */
AIPA_API const struct aipa_latitude *aipa_lat_row(enum aipa_lat id);
/* The row called name (n bytes); NULL if none. */
AIPA_API const struct aipa_latitude *aipa_lat_find(const char *name, size_t n);
AIPA_API size_t aipa_lat_count(void);

#define AIPA_LAT_BIT(id)  (UINT64_C(1) << (unsigned)(id))
#define AIPA_LAT_MAX_ALSO 8u

/*
 * The rows that applied to one request, and the other answers the request
 * earned where the order of checks decided (check-order, precedence,
 * transient-2018).
 */
struct aipa_lat_set {
    uint64_t rows; /* AIPA_LAT_BIT() of each row */
    size_t also_count;
    struct aipa_lat_also {
        unsigned status;
        char code[64]; /* as on the wire ("InvalidSignatureVersion", not "Invalid%s") */
    } also[AIPA_LAT_MAX_ALSO];
};

AIPA_API void aipa_lat_set_clear(struct aipa_lat_set *s);
AIPA_API void aipa_lat_set_add(struct aipa_lat_set *s, enum aipa_lat id);
/*
 * Adds code to the also list (once; dropped past AIPA_LAT_MAX_ALSO) and marks row.
 * These three do nothing when s is NULL.
 */
AIPA_API void aipa_lat_set_also(struct aipa_lat_set *s, enum aipa_lat row, enum aipa_code code);
/* The same for an answer given as (status, wire Code), for templated Codes. */
AIPA_API void aipa_lat_set_also_answer(struct aipa_lat_set *s, enum aipa_lat row, unsigned status,
                                       const char *code);
AIPA_API bool aipa_lat_set_has(const struct aipa_lat_set *s, enum aipa_lat id);

/* Whether (status, Code) is documented in errors.h (a 2xx always is); templated rows count. */
AIPA_API bool aipa_lat_documented(unsigned status, const char *code);

/*
 * Whether answer (status, code: "" for none, format AIPA_LAT_FMT_XML/JSON or
 * ANY when unknown) is one of the alternatives of a row in s that applies
 * to edition. Returns that row, or NULL. The strict answer itself is the
 * caller's to compare.
 */
AIPA_API const struct aipa_latitude *aipa_lat_accepts(const struct aipa_lat_set *s,
                                                      unsigned edition, unsigned status,
                                                      const char *code, unsigned format);
/*
 * Whether a row in s lets the answer come in format (AIPA_LAT_FMT_XML/JSON)
 * rather than the one the reference chose; that row, or NULL.
 */
AIPA_API const struct aipa_latitude *aipa_lat_accepts_format(const struct aipa_lat_set *s,
                                                             unsigned edition, unsigned format);
/*
 * The first row in s that applies to edition and decides a (status, Code),
 * not only a Message (for naming a finding); NULL if none.
 */
AIPA_API const struct aipa_latitude *aipa_lat_first(const struct aipa_lat_set *s, unsigned edition);
/* Comma-separated names of the rows in s ("" when none). */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_lat_names(const struct aipa_lat_set *s,
                                                 struct aipa_buf *out);

/*
 * Documented transient answers (a retry may succeed): InternalError 500,
 * ServiceUnavailable 503, Throttling*, the "try again" codes of the 2024
 * table. `aipa fuzz --allow-transient` lets them pass without fixtures.
 */
AIPA_API bool aipa_lat_transient(unsigned status, const char *code);

/* The table as Markdown (docs/latitude.md). */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_lat_markdown(struct aipa_buf *out);

#endif /* AIPA_LATITUDE_H */
