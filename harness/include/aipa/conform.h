/*
 * aipa/conform.h: conformance cases (conformance/FORMAT.md) and the runner
 * behind `aipa conform`.
 *
 * Part 1, the case loader: a case file (JSON, one case) becomes a struct
 * aipa_case that owns all its strings. The loader validates everything
 * FORMAT.md describes and reports the first problem as one line naming the
 * file and the JSON path ("steps[1].expect[0].status: ..."). Loaded cases are
 * read-only; other modules (the live fuzzer, the fuzz seed generator) may
 * walk the structs directly.
 */
#ifndef AIPA_CONFORM_H
#define AIPA_CONFORM_H

#include "aipa/common.h"
#include "aipa/errors.h"
#include "aipa/render.h"

#include <cjson/cJSON.h>

/* ---- limits (a case file past any of them is rejected) ---- */
#define AIPA_CASE_MAX_BYTES         (256u * 1024u) /* one case file */
#define AIPA_CASE_MAX_ID            128u
#define AIPA_CASE_MAX_STEPS         16u
#define AIPA_CASE_MAX_PARAMS        64u
#define AIPA_CASE_MAX_OUTCOMES      8u
#define AIPA_CASE_MAX_CHECKS        32u
#define AIPA_CASE_MAX_FIXTURES      16u
#define AIPA_CASE_MAX_FIXTURE_COUNT 64u /* "$count" */
#define AIPA_CASE_MAX_REPEAT        64u
#define AIPA_CASE_MAX_TAGS          16u
#define AIPA_CASE_MAX_EXPANDED      (1024u * 1024u) /* %repeat[]% output */
#define AIPA_SUITE_MAX_CASES        4096u

/* Doc editions are the AIPA_ED_* bits of aipa/errors.h. */
/* "2018-08-02" -> AIPA_ED_2018, "2024-12-20" -> AIPA_ED_2024, else 0. */
AIPA_API unsigned aipa_edition_parse(const char *s);
/* The name of one edition bit ("2018-08-02"); "?" otherwise. */
AIPA_API const char *aipa_edition_name(unsigned edition_bit);

enum aipa_level { AIPA_LEVEL_MUST = 0, AIPA_LEVEL_SHOULD = 1 };

/* ---- variant axes, as bit sets ---- */
#define AIPA_VSIG_V1           0x01u
#define AIPA_VSIG_V3           0x02u
#define AIPA_VSIG_ALL          0x03u
#define AIPA_VSHAPE_GET        0x01u
#define AIPA_VSHAPE_POST_QUERY 0x02u
#define AIPA_VSHAPE_POST_FORM  0x04u
#define AIPA_VSHAPE_ALL        0x07u
#define AIPA_VFMT_XML          0x01u
#define AIPA_VFMT_JSON         0x02u
#define AIPA_VFMT_ALL          0x03u

/* One concrete variant: exactly one bit of each axis (0 in all: "raw"). */
struct aipa_variant {
    unsigned sig;
    unsigned shape;
    unsigned fmt;
};

/* A variant mask: any bits of each axis. */
struct aipa_variant_set {
    unsigned sig;
    unsigned shape;
    unsigned fmt;
};

#define AIPA_VARIANT_NAME_MAX 24
/* "v1-post-form-json", or "raw" for the all-zero variant. */
AIPA_API void aipa_variant_name(const struct aipa_variant *v, char out[AIPA_VARIANT_NAME_MAX]);
/* Parses a variant name; AIPA_EPARSE if it is not one of the 10 (or "raw"). */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_variant_parse(const char *s, struct aipa_variant *out);
/*
 * Every concrete variant in set, in a fixed order (v1 before v3, get,
 * post-query, post-form, xml before json), never V3 with a form body.
 * Writes at most cap and returns the number there are (at most 10).
 */
AIPA_API size_t aipa_variants_expand(const struct aipa_variant_set *set, struct aipa_variant *out,
                                     size_t cap);
/* Parses "v1,v3-get,json,post-form" style filters (--variants): each comma
 * item narrows one axis ("v1", "get", "json") or names a variant. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_variant_filter_parse(const char *s,
                                                            struct aipa_variant_set *out);

/* ---- the case model ---- */

struct aipa_case_kv {
    char *name;
    char *value; /* as written, before substitution and %hex expansion */
};

struct aipa_fixture {
    char *name;
    cJSON *state;   /* instance object with "$count" removed; owned */
    unsigned count; /* instances to create, 1.. */
};

enum aipa_check_kind {
    AIPA_CHK_EQUALS,
    AIPA_CHK_NOT_EQUALS,
    AIPA_CHK_PREFIX,
    AIPA_CHK_ONE_OF,
    AIPA_CHK_IS_IPV4,
    AIPA_CHK_IS_UUID,
    AIPA_CHK_IS_INTEGER,
    AIPA_CHK_IS_NONEMPTY,
    AIPA_CHK_PRESENT,
    AIPA_CHK_ABSENT,
    AIPA_CHK_LENGTH,
    AIPA_CHK_LIST_EQUALS,
    AIPA_CHK_SAME_AS,
    AIPA_CHK_NOT_SAME_AS,
};
AIPA_API const char *aipa_check_kind_name(enum aipa_check_kind k);

struct aipa_check {
    char *path; /* as written; may hold ${...} */
    enum aipa_check_kind kind;
    cJSON *operand; /* EQUALS/NOT_EQUALS/PREFIX/ONE_OF/LIST_EQUALS; owned */
    size_t length;  /* LENGTH */
    char *ref;      /* SAME_AS/NOT_SAME_AS: "step[N].PATH" */
};

enum aipa_rid_mode { AIPA_RID_UUID_SOFT = 0, AIPA_RID_UUID, AIPA_RID_PRESENT, AIPA_RID_ANY };

#define AIPA_OUTCOME_MAX_STATUS 8

struct aipa_outcome {
    unsigned editions; /* AIPA_ED_* bits */
    bool nonstrict;
    int status[AIPA_OUTCOME_MAX_STATUS];
    size_t status_count;
    char *code;       /* NULL: not checked */
    bool code_absent; /* "Code": null */
    char *message;    /* NULL: not checked */
    char *message_prefix;
    enum aipa_rid_mode request_id;
    struct aipa_check *checks;
    size_t check_count;
};

enum aipa_across_kind { AIPA_ACR_DISTINCT, AIPA_ACR_SAME, AIPA_ACR_STATUS, AIPA_ACR_CODE };

struct aipa_across {
    unsigned editions;
    enum aipa_across_kind kind;
    char *field; /* DISTINCT/SAME */
    int status;  /* STATUS */
    char *code;  /* CODE */
    size_t min, max;
};

/* Tamper flags (FORMAT.md "Tampering"). */
#define AIPA_TAMPER_WRONG_SECRET 0x01u
#define AIPA_TAMPER_UNKNOWN_KEY  0x02u
#define AIPA_TAMPER_TS_STALE     0x04u
#define AIPA_TAMPER_TS_FUTURE    0x08u
#define AIPA_TAMPER_TS_MALFORMED 0x10u
#define AIPA_TAMPER_REUSE_NONCE  0x20u
#define AIPA_TAMPER_UNSIGNED     0x40u

struct aipa_tamper {
    unsigned flags;
    char **omit; /* common parameter names */
    size_t omit_count;
    struct aipa_case_kv *set;
    size_t set_count;
    bool v1_only; /* some item has no V3 form */
};

struct aipa_raw {
    char *method;
    char *target;
    struct aipa_case_kv *headers;
    size_t header_count;
    char *body; /* "" when absent */
};

struct aipa_step {
    char *name;                  /* NULL when absent */
    struct aipa_case_kv *params; /* NULL for raw steps */
    size_t param_count;
    struct aipa_raw *raw;    /* NULL for request steps */
    char *principal;         /* "default" when absent */
    struct aipa_variant pin; /* zero bits on an axis: not pinned */
    struct aipa_tamper tamper;
    unsigned repeat; /* 1.. */
    bool parallel;
    struct aipa_outcome *outcomes;
    size_t outcome_count;
    struct aipa_across *across;
    size_t across_count;
};

struct aipa_case {
    char *id;
    char *title;
    char *clause;
    char *source;
    char *origin; /* the file it came from, for messages */
    enum aipa_level level;
    char **tags;
    size_t tag_count;
    unsigned editions;
    struct aipa_fixture *fixtures;
    size_t fixture_count;
    long pool_free; /* -1: not set */
    struct aipa_variant_set variants;
    char *disabled; /* NULL: enabled */
    struct aipa_step *steps;
    size_t step_count;
    bool all_raw;
};

/*
 * Parses one case. origin names it in messages (a path, or "<input>").
 * On failure returns AIPA_EPARSE (or AIPA_ETOOBIG past the limits,
 * AIPA_ENOMEM) with a one-line reason in err (if non-NULL) and *out NULL.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_case_parse(const char *json, size_t len, const char *origin,
                                                  struct aipa_case **out, struct aipa_buf *err);
/* Reads and parses a file; AIPA_EIO if it cannot be read. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_case_load_file(const char *path, struct aipa_case **out,
                                                      struct aipa_buf *err);
AIPA_API void aipa_case_free(struct aipa_case *c);

/* True when the case's id or one of its tags matches pat: "tag:NAME", or an
 * fnmatch glob over the id (e.g. allocate/ followed by a star). */
AIPA_API bool aipa_case_matches(const struct aipa_case *c, const char *pat);

/*
 * Expands curl test-file forms in s[0..n): %hex[ %XX... ]hex% and
 * %repeat[N x STR]% (STR may hold %XX). Other bytes are copied. AIPA_EPARSE
 * on a malformed form, AIPA_ETOOBIG past AIPA_CASE_MAX_EXPANDED.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_case_expand_bytes(const char *s, size_t n,
                                                         struct aipa_buf *out);

/* A set of cases, sorted by id. */
struct aipa_suite {
    struct aipa_case **cases;
    size_t count;
    size_t cap;
};

AIPA_API void aipa_suite_init(struct aipa_suite *s);
AIPA_API void aipa_suite_cleanup(struct aipa_suite *s);
/*
 * Loads every *.json under dir (recursively; a single file also works). Each
 * case's id must equal its path relative to dir without ".json", and ids are
 * unique. Every bad file is reported, one line each, in err; the return is
 * then AIPA_EPARSE (the good ones stay loaded).
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_suite_load(struct aipa_suite *s, const char *path,
                                                  struct aipa_buf *err);
/* Adds one parsed case (the suite takes ownership, also on failure). */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_suite_add(struct aipa_suite *s, struct aipa_case *c);
AIPA_API void aipa_suite_sort(struct aipa_suite *s);

#endif /* AIPA_CONFORM_H */
