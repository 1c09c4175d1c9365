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
#include "aipa/latitude.h"
#include "aipa/render.h"
#include "aipa/request.h"

#include <cjson/cJSON.h>
#include <stdio.h>

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

/* Doc editions are the AIPA_ED_* bits of aipa/errors.h, named by
 * aipa_edition_name and aipa_edition_parse there. */

enum aipa_level { AIPA_LEVEL_MUST = 0, AIPA_LEVEL_SHOULD = 1 };

/* ---- variant axes, as bit sets of the request model's choices (aipa/request.h) ---- */
#define AIPA_VSIG_V1           (1u << AIPA_SIG_V1)
#define AIPA_VSIG_V3           (1u << AIPA_SIG_V3)
#define AIPA_VSIG_ALL          (AIPA_VSIG_V1 | AIPA_VSIG_V3)
#define AIPA_VSHAPE_GET        (1u << AIPA_SHAPE_GET)
#define AIPA_VSHAPE_POST_QUERY (1u << AIPA_SHAPE_POST_QUERY)
#define AIPA_VSHAPE_POST_FORM  (1u << AIPA_SHAPE_POST_FORM)
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
/*
 * The --variants selection: axis words combine (v1,json: every V1 JSON
 * variant), full names select exactly themselves, and the selection is the
 * union of the two. *set is the axis mask that covers it (for pinned steps)
 * and *pick the concrete variants (bit k: the k-th of aipa_variants_expand
 * over all variants). AIPA_EPARSE for an unknown item or an empty selection.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_variant_select_parse(const char *s,
                                                            struct aipa_variant_set *set,
                                                            unsigned *pick);
/* The bit of v in a pick mask (0 for "raw"). */
AIPA_API unsigned aipa_variant_pick_bit(const struct aipa_variant *v);

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
    /*
     * "latitude": the rows of the latitude table (aipa/latitude.h) this
     * outcome is the strict answer of; their alternatives pass nonstrict.
     */
    struct aipa_lat_set latitude;
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
    /*
     * The SecurityToken sent (V1 parameter, V3 x-acs-security-token header):
     * NULL the principal's own; "omit" none; "malformed" a value that is no
     * token; else the token of the principal of that name.
     */
    char *token;
};

struct aipa_raw {
    char *method;
    char *target;
    struct aipa_case_kv *headers;
    size_t header_count;
    char *body; /* "" when absent */
};

/*
 * A wire step (FORMAT.md "Wire steps"): bytes sent as they are on a new
 * connection, for the HTTP layer itself, and what the connection must do.
 */
struct aipa_wire {
    char *send;        /* ${...}, %hex[...]hex% and %repeat[...]% apply */
    size_t send_len;   /* bytes of send (it may hold NUL) */
    unsigned drip_ms;  /* > 0: one byte at a time, this far apart */
    unsigned wait_ms;  /* silence that ends the wait for answers */
    int answers;       /* -1: not checked; else exactly this many final (non-1xx) answers */
    int closed;        /* -1: not checked; 1: the target closes the connection; 0: keeps it */
    int cut_off;       /* -1: not checked; 1: closed before everything was sent */
    unsigned want_fmt; /* AIPA_VFMT_XML/JSON the first answer's body must be in; 0: any */
};

struct aipa_step {
    char *name;                  /* NULL when absent */
    struct aipa_case_kv *params; /* NULL for raw and wire steps */
    size_t param_count;
    struct aipa_raw *raw;    /* NULL for request steps */
    struct aipa_wire *wire;  /* NULL unless a wire step */
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
    bool uses_pool; /* ${pool.address} or ${pool.outside}: needs the target's state document */
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

/* ==== Part 2: matching, running, baselines, reports ==== */

/* The verdicts of FORMAT.md, best first. */
#define AIPA_VERDICTS(X)                                                                           \
    X(AIPA_V_PASS, "pass")                                                                         \
    X(AIPA_V_PASS_NONSTRICT, "pass-nonstrict")                                                     \
    X(AIPA_V_FAIL, "fail")                                                                         \
    X(AIPA_V_SKIP, "skip")                                                                         \
    X(AIPA_V_ERROR, "error")

enum aipa_verdict {
#define AIPA_VERDICT_ENUM_(id, name) id,
    AIPA_VERDICTS(AIPA_VERDICT_ENUM_)
#undef AIPA_VERDICT_ENUM_
        AIPA_V_COUNT_
};
AIPA_API const char *aipa_verdict_name(enum aipa_verdict v);
/* AIPA_V_COUNT_ when s names none. */
AIPA_API enum aipa_verdict aipa_verdict_parse(const char *s);

/*
 * What the runner knows while it runs one case x variant: the instance IDs
 * of the fixtures, the responses of earlier steps, the repetition number.
 * The matcher and the request builder resolve ${...} against it.
 */
struct aipa_run_env {
    const struct aipa_case *c;
    char **fixture_ids[AIPA_CASE_MAX_FIXTURES];   /* [fixture][k]: NUL-terminated IDs */
    const cJSON *step_roots[AIPA_CASE_MAX_STEPS]; /* parsed first response of each done step */
    size_t steps_done;
    size_t rep; /* ${i} */
    const char *region;
    bool strict; /* --strict: an alternative of a latitude row fails */
    /* From the target's state document (FIXTURES.md); NULL: not known. */
    const char *pool_address; /* ${pool.address} */
    const char *pool_outside; /* ${pool.outside} */
};

/* Resolves ${...} and expands %hex/%repeat in s into out. AIPA_EPARSE
 * (reason in why) when a reference has no value. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_run_env_expand(const struct aipa_run_env *env, const char *s,
                                                      bool bytes, struct aipa_buf *out,
                                                      struct aipa_buf *why);

/*
 * The body of POST /_aipa/instances for a fixture's state: its JSON with the
 * ${...} forms of its strings resolved (${pool.address}, ${pool.outside},
 * ${region}) and, unless it names one, env->region as RegionId (when set).
 * *out is freed with cJSON_free. AIPA_EPARSE (reason in why).
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_run_env_fixture_body(const struct aipa_run_env *env,
                                                            const cJSON *state, char **out,
                                                            struct aipa_buf *why);

/* One response, as the matcher sees it. */
struct aipa_observed {
    long status;             /* 0: no response (transport failure) */
    const char *transport;   /* non-NULL: why no response arrived */
    unsigned want_fmt;       /* AIPA_VFMT_XML/JSON the request asked for; 0: no check */
    unsigned body_fmt;       /* AIPA_VFMT_XML/JSON the body parsed as; 0: did not parse */
    const cJSON *root;       /* the parsed body (aipa/parse.h tree), NULL if none */
    const char *parse_error; /* why the body did not parse */
    /* Optional (NULL: not checked) */
    const char *content_type; /* as received; must name the body's format (XML: hard, JSON: soft) */
    const char *root_name;    /* XML root element: <{action}Response> or <Error> (hard) */
    const char *action;       /* the Action the request named */
};

/*
 * Matches one response against the outcomes of step s that apply under
 * edition. Returns AIPA_V_PASS, AIPA_V_PASS_NONSTRICT (reason says what was
 * only nonstrict or soft), AIPA_V_FAIL (reason: expected vs got) or
 * AIPA_V_ERROR (a ${...} had no value). reason is appended to.
 */
AIPA_API enum aipa_verdict aipa_match_response(const struct aipa_step *s, unsigned edition,
                                               const struct aipa_observed *obs,
                                               const struct aipa_run_env *env,
                                               struct aipa_buf *reason);
/* The across checks of a repeated step over its n responses. */
AIPA_API enum aipa_verdict aipa_match_across(const struct aipa_step *s, unsigned edition,
                                             const struct aipa_observed *obs, size_t n,
                                             struct aipa_buf *reason);

/* ---- profiles (conformance/profiles, FORMAT.md "Profiles") ---- */

#define AIPA_PROFILE_MAX_PRINCIPALS 8

struct aipa_principal {
    char *name;
    char *access_key_id;
    char *secret;         /* wiped on cleanup */
    char *security_token; /* STS; NULL for a long-term key; wiped on cleanup */
};

struct aipa_profile {
    char *name;
    char *target;     /* NULL: none given */
    char *region;     /* "cn-hangzhou" by default */
    unsigned edition; /* 0: ask /_aipa/info, else the default */
    struct aipa_variant_set variants;
    bool fixture_protocol;
    char *fixture_token;    /* NULL: none */
    cJSON *static_fixtures; /* object name -> InstanceId; owned; NULL if none */
    struct aipa_principal principals[AIPA_PROFILE_MAX_PRINCIPALS];
    size_t principal_count;
    long timeout_ms;
    char **skip; /* --skip patterns from the profile */
    size_t skip_count;
};

/* A profile with defaults: all variants, no fixtures, a "default" principal
 * from $AIPA_ACCESS_KEY_ID / $AIPA_ACCESS_KEY_SECRET when both are set. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_profile_init(struct aipa_profile *p);
/* Reads a profile file over the defaults; AIPA_EPARSE with a reason. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_profile_load(struct aipa_profile *p, const char *path,
                                                    struct aipa_buf *err);
AIPA_API AIPA_MUST_CHECK aipa_err aipa_profile_parse(struct aipa_profile *p, const char *json,
                                                     size_t len, const char *origin,
                                                     struct aipa_buf *err);
AIPA_API void aipa_profile_cleanup(struct aipa_profile *p);
/* Adds or replaces a principal (copies). */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_profile_set_principal(struct aipa_profile *p,
                                                             const char *name, const char *id,
                                                             const char *secret);
AIPA_API const struct aipa_principal *aipa_profile_principal(const struct aipa_profile *p,
                                                             const char *name);
/* Gives principal name (which must exist) an STS SecurityToken (copied; NULL: none). */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_profile_set_token(struct aipa_profile *p, const char *name,
                                                         const char *token);

/* ---- results ---- */

/* The time one answer took, and the Action it answered ("raw" for raw steps). */
#define AIPA_LATENCY_ACTION_MAX 48
struct aipa_latency {
    char action[AIPA_LATENCY_ACTION_MAX];
    double ms;
};

/* One request/response of a run, redacted (no secrets, Signature values,
 * Authorization or X-Aipa-Token header values). */
struct aipa_exchange {
    char *step;     /* "steps[0]" or "steps[0] (allocate) #3" */
    char *request;  /* method, target, headers, body */
    char *response; /* status line, headers, body (truncated at 64 KiB) */
    char *repro;    /* an `aipa call ...` line, or NULL */
};

struct aipa_result {
    const struct aipa_case *c; /* borrowed from the suite */
    unsigned edition;          /* one AIPA_ED_* bit */
    struct aipa_variant variant;
    bool case_level; /* a skip of the whole case: variant shown as "-" */
    enum aipa_verdict verdict;
    char *reason; /* NULL for a clean pass */
    double ms;
    struct aipa_exchange *ex;
    size_t ex_count;
    bool known;               /* matched a baseline entry */
    bool ran;                 /* went through a worker (false: skipped when planned) */
    const char *known_reason; /* borrowed from the baseline */
    /* How long each judged answer took (a resent Throttling answer is not). */
    struct aipa_latency *lat;
    size_t lat_count;
};

struct aipa_report {
    struct aipa_result *items;
    size_t count;
    size_t cap;
    char *target;
    char *profile;
    unsigned editions;
    double started; /* seconds since the epoch */
    double wall_ms;
    unsigned long requests;         /* case requests sent */
    unsigned long fixture_requests; /* fixture-protocol requests sent */
    unsigned long throttled;        /* Throttling answers retried (not judged) */
    /* Baseline entries no failing result matched but a passing one did. */
    char **fixed;
    size_t fixed_count;
    bool have_baseline;
    /* How a failure is replayed: against the embedded server (seed below)
     * with an `aipa conform` line; otherwise with the `aipa call` lines. */
    bool embedded;
    unsigned long long seed;
    char *profile_path;     /* --profile as given, for repro lines; NULL: none */
    bool full_transcripts;  /* the JSON report keeps the exchanges of passes too */
    double max_response_ms; /* the latency gate in force (0: none) */
};

/*
 * The one set of counts every report shows. Each result is in exactly one
 * bucket: a fail or error the baseline covers is fail_known; other fails
 * are fail_new and other errors error. total is their sum.
 */
struct aipa_counts {
    size_t pass;
    size_t nonstrict;
    size_t fail_new;
    size_t fail_known;
    size_t skip;
    size_t error;
    size_t total;
};
/* The counts of one edition (0: all). */
AIPA_API void aipa_report_counts(const struct aipa_report *r, unsigned edition,
                                 struct aipa_counts *out);
/* The bucket names, in the order above: "pass", "pass-nonstrict", "fail-new",
 * "fail-known", "skip", "error". */
#define AIPA_COUNT_BUCKETS 6
AIPA_API const char *aipa_counts_name(size_t bucket);
AIPA_API size_t aipa_counts_get(const struct aipa_counts *c, size_t bucket);

/* Answer times of one Action over the whole report. */
struct aipa_action_latency {
    char action[AIPA_LATENCY_ACTION_MAX];
    size_t count;
    double p50_ms;
    double p99_ms;
    double max_ms;
};
/* Fills out[0..cap) with one row per Action seen (sorted by name) and returns
 * how many there are; AIPA_ENOMEM leaves *n 0. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_report_latency(const struct aipa_report *r,
                                                      struct aipa_action_latency *out, size_t cap,
                                                      size_t *n);

AIPA_API void aipa_report_init(struct aipa_report *r);
AIPA_API void aipa_report_cleanup(struct aipa_report *r);
/* Counts of a verdict, for one edition (0: all). known failures counted apart. */
AIPA_API size_t aipa_report_count(const struct aipa_report *r, unsigned edition,
                                  enum aipa_verdict v);
/* 0 nothing beyond the baseline failed, 1 failures, 2 harness errors. */
AIPA_API int aipa_report_exit_code(const struct aipa_report *r);
/* "v1-get-xml", or "-" for a case-level result. */
AIPA_API void aipa_result_variant_name(const struct aipa_result *res,
                                       char out[AIPA_VARIANT_NAME_MAX]);

/* ---- baseline ---- */

struct aipa_baseline_entry {
    char *id;        /* fnmatch glob over case ids */
    char *variant;   /* glob over variant names; "*" */
    char **variants; /* "variants": a list of globs (any one matches); NULL: variant */
    size_t variant_count;
    unsigned editions;
    char *reason;
    bool used;
};

struct aipa_baseline {
    struct aipa_baseline_entry *items;
    size_t count;
};

AIPA_API AIPA_MUST_CHECK aipa_err aipa_baseline_parse(struct aipa_baseline *b, const char *json,
                                                      size_t len, const char *origin,
                                                      struct aipa_buf *err);
AIPA_API AIPA_MUST_CHECK aipa_err aipa_baseline_load(struct aipa_baseline *b, const char *path,
                                                     struct aipa_buf *err);
AIPA_API void aipa_baseline_cleanup(struct aipa_baseline *b);
/*
 * Marks every fail/error result that an entry covers as known, and lists in
 * r->fixed the entries that covered no failing result but at least one
 * result that now passes.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_baseline_apply(struct aipa_baseline *b,
                                                      struct aipa_report *r);
/*
 * Writes a baseline covering every fail/error of r (for --write-baseline):
 * one entry per case, without "variant" when every variant of the case that
 * ran failed and without "editions" when it failed in both, else with the
 * "variants" and "editions" it failed in (one entry per edition when those
 * differ between editions).
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_baseline_write(const struct aipa_report *r,
                                                      struct aipa_buf *out);

/* ---- re-running failures ---- */

struct aipa_rerun_item {
    char *id;
    char *variant; /* "-" for case-level */
    unsigned edition;
};

struct aipa_rerun {
    struct aipa_rerun_item *items;
    size_t count;
};

/* Reads the fail and error rows of a JSON report. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_rerun_load(struct aipa_rerun *rr, const char *path,
                                                  struct aipa_buf *err);
AIPA_API AIPA_MUST_CHECK aipa_err aipa_rerun_parse(struct aipa_rerun *rr, const char *json,
                                                   size_t len, struct aipa_buf *err);
AIPA_API void aipa_rerun_cleanup(struct aipa_rerun *rr);
AIPA_API bool aipa_rerun_wants(const struct aipa_rerun *rr, const char *id, const char *variant,
                               unsigned edition);

/* ---- running ---- */

struct aipa_run_opts {
    const struct aipa_profile *profile;
    const char *target;               /* base URL */
    unsigned edition;                 /* one AIPA_ED_* bit: the edition this run checks */
    struct aipa_variant_set variants; /* CLI narrowing (all bits: none) */
    const char *const *only;          /* patterns (aipa_case_matches); none: all */
    size_t only_count;
    const char *const *skip;
    size_t skip_count;
    const struct aipa_rerun *rerun; /* NULL: everything selected */
    unsigned jobs;                  /* parallel cases, >= 1 */
    long timeout_ms;
    /*
     * A Throttling answer (a Code containing "Throttling", as the official
     * SDKs classify it) to a step that does not expect one is sent again,
     * rebuilt, up to this many times; 0: never.
     */
    unsigned throttle_retries;
    /* At most this many case requests per second, all jobs together (parallel
     * repeat steps excepted); 0: unpaced. Fixture requests are never paced. */
    double rate;
    /* Exactly these concrete variants (bit k: the k-th of
     * aipa_variants_expand over all variants); 0: every variant the sets allow. */
    unsigned variant_pick;
    /* An answer slower than this fails its case (0: no bound). */
    double max_response_ms;
    bool strict;                /* SHOULD-level mismatches fail */
    bool keep_pass_transcripts; /* keep exchanges of passing runs too */
    /* Called after each result (serialised by the runner). */
    void (*progress)(void *ctx, const struct aipa_result *res, size_t done, size_t total);
    void *progress_ctx;
};

AIPA_API void aipa_run_opts_init(struct aipa_run_opts *o);

/*
 * Runs every selected case x variant of suite under opts->edition against
 * opts->target and appends the results to report. Returns AIPA_OK when the
 * run happened (verdicts say how it went); another code when it could not
 * start (reason in err).
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_run_suite(const struct aipa_suite *suite,
                                                 const struct aipa_run_opts *opts,
                                                 struct aipa_report *report, struct aipa_buf *err);

/*
 * Waits until target answers HTTP at all (any status: a GET of its base
 * path), polling every 100 ms for at most seconds. AIPA_ETIMEDOUT with the
 * last transport failure in err when it never did. For CI jobs that start a
 * server and the run together.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_target_wait_ready(const char *target, double seconds,
                                                         struct aipa_buf *err);

/* Fixture protocol helpers (against a target with /_aipa/). */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_fixture_info(const char *target, const char *token,
                                                    unsigned *edition, struct aipa_buf *err);
AIPA_API AIPA_MUST_CHECK aipa_err aipa_fixture_set_edition(const char *target, const char *token,
                                                           unsigned edition, struct aipa_buf *err);

/* ---- reports (report_*.c) ---- */

AIPA_API AIPA_MUST_CHECK aipa_err aipa_report_write_json(const struct aipa_report *r,
                                                         struct aipa_buf *out);
/* SARIF 2.1.0: failing and nonstrict results located at their case files. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_report_write_sarif(const struct aipa_report *r,
                                                          struct aipa_buf *out);
AIPA_API AIPA_MUST_CHECK aipa_err aipa_report_write_junit(const struct aipa_report *r,
                                                          struct aipa_buf *out);
AIPA_API AIPA_MUST_CHECK aipa_err aipa_report_write_html(const struct aipa_report *r,
                                                         struct aipa_buf *out);
/* Writes buf to path (atomically: a temporary file renamed). */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_write_file(const char *path, const struct aipa_buf *buf,
                                                  struct aipa_buf *err);
/* The console summary table (verdict counts per edition) and failures. */
AIPA_API void aipa_report_print_summary(const struct aipa_report *r, FILE *f, bool verbose);
enum aipa_print_mode {
    AIPA_PRINT_QUIET,  /* the counts table and the last line only */
    AIPA_PRINT_NORMAL, /* and each failing case once, grouped, with how to rerun it */
    AIPA_PRINT_VERBOSE /* and the transcripts, and the nonstrict passes */
};
AIPA_API void aipa_report_print(const struct aipa_report *r, FILE *f, enum aipa_print_mode mode);

#endif /* AIPA_CONFORM_H */
