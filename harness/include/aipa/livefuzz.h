/*
 * aipa/livefuzz.h: `aipa fuzz`, live and differential fuzzing of an endpoint.
 *
 * The pieces, each usable on its own (and unit-tested that way):
 *
 *   request model   aipa_lf_req: method, auth scheme, request-level mutations
 *                   (stale timestamp, reused nonce, ...) and a parameter list
 *                   whose values may hold any bytes. Instance references are
 *                   symbolic ("${vm3}") and resolved per side at render time.
 *   generator       aipa_lf_gen: requests from the API's grammar (six actions
 *                   and unknown ones, parameters, dictionaries, boundary
 *                   values), with stacked seeded mutations.
 *   render          aipa_lf_render: the request as wire bytes (target, body,
 *                   headers), signed V1 or V3 for a given clock and nonce.
 *   judge           aipa_lf_judge: the oracles over a response, and the
 *                   differential oracle against the reference's response.
 *   minimizer       aipa_lf_ddmin: delta debugging over an index set.
 *   engine          aipa_lf_run: sequences against a target and an in-process
 *                   reference that start from equal state, bucketing,
 *                   minimization, case files, JSON and SARIF reports.
 *
 * docs/livefuzz.md describes the behaviour and the report formats.
 */
#ifndef AIPA_LIVEFUZZ_H
#define AIPA_LIVEFUZZ_H

#include "aipa/common.h"
#include "aipa/errors.h"
#include "aipa/latitude.h"
#include "aipa/request.h"
#include "aipa/server.h"
#include "aipa/wire.h"

#include <stdio.h>

#define AIPA_LF_MAX_PARAMS   512u            /* parameters of one generated request */
#define AIPA_LF_MAX_VALUE    (96u * 1024u)   /* bytes of one generated value */
#define AIPA_LF_MAX_RESPONSE (1024u * 1024u) /* bytes read from a response body */
#define AIPA_LF_MAX_FIXTURES 16u             /* instance fixtures per sequence */
#define AIPA_LF_MAX_WIRE     (1024u * 1024u) /* bytes of a rendered target or body */
#define AIPA_LF_MAX_JOBS     64u             /* parallel workers of one campaign */
#define AIPA_LF_LAT_ACTIONS  8u              /* actions whose response times are kept */
#define AIPA_LF_LAT_SAMPLES  2048u           /* response times kept per action */

/* ---- request model ---- */

/* Parameter flags */
#define AIPA_LF_P_RAW  0x01u /* value goes on the wire as is; otherwise percent-encoded */
#define AIPA_LF_P_BODY 0x02u /* in the form body instead of the query */

struct aipa_lf_param {
    char *name; /* owned, NUL-terminated; name_len is authoritative */
    size_t name_len;
    char *value; /* owned, NUL-terminated; may hold NUL bytes (value_len counts them) */
    size_t value_len;
    unsigned flags; /* AIPA_LF_P_* */
};

/*
 * Request-level mutations. They act on the parts the renderer fills in
 * (clock, nonce, signature, headers), so that they stay meaningful when the
 * request is replayed later with a fresh clock and nonce.
 */
#define AIPA_LF_MUTATIONS(X)                                                                       \
    X(AIPA_LF_M_BAD_SIGNATURE, 0x0001u, "bad-signature")                                           \
    X(AIPA_LF_M_NO_SIGNATURE, 0x0002u, "no-signature")                                             \
    X(AIPA_LF_M_STALE_TIMESTAMP, 0x0004u, "stale-timestamp")                                       \
    X(AIPA_LF_M_FUTURE_TIMESTAMP, 0x0008u, "future-timestamp")                                     \
    X(AIPA_LF_M_BAD_TIMESTAMP, 0x0010u, "malformed-timestamp")                                     \
    X(AIPA_LF_M_NO_TIMESTAMP, 0x0020u, "no-timestamp")                                             \
    X(AIPA_LF_M_REUSE_NONCE, 0x0040u, "reused-nonce")                                              \
    X(AIPA_LF_M_NO_NONCE, 0x0080u, "no-nonce")                                                     \
    X(AIPA_LF_M_UNKNOWN_KEY, 0x0100u, "unknown-access-key")                                        \
    X(AIPA_LF_M_BAD_SIG_METHOD, 0x0200u, "bad-signature-method")                                   \
    X(AIPA_LF_M_BAD_CONTENT_SHA, 0x0400u, "bad-content-sha256")                                    \
    X(AIPA_LF_M_NO_KEY, 0x0800u, "no-access-key")

enum {
#define AIPA_LF_M_ENUM_(id, bit, name) id = bit,
    AIPA_LF_MUTATIONS(AIPA_LF_M_ENUM_)
#undef AIPA_LF_M_ENUM_
};

/* The name of one mutation bit ("bad-signature"); NULL if not a single known bit. */
AIPA_API const char *aipa_lf_mutation_name(unsigned bit);

struct aipa_lf_req {
    char method[12];       /* "GET", "POST", "PUT", ... */
    enum aipa_sig auth;    /* how the renderer signs it (aipa/request.h) */
    unsigned mut;          /* AIPA_LF_M_* bits */
    char content_type[64]; /* "" : form type when there is a body, none otherwise */
    char accept[64];       /* "" : no Accept header */
    struct aipa_lf_param *params;
    size_t count;
    size_t cap;
};

AIPA_API void aipa_lf_req_init(struct aipa_lf_req *r);
AIPA_API void aipa_lf_req_cleanup(struct aipa_lf_req *r);
/* Removes every parameter and resets method, auth and mutations. */
AIPA_API void aipa_lf_req_clear(struct aipa_lf_req *r);
/* Appends a copy of (name, value). AIPA_ETOOBIG past AIPA_LF_MAX_PARAMS or AIPA_LF_MAX_VALUE. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_lf_req_add(struct aipa_lf_req *r, const char *name,
                                                  size_t name_len, const char *value,
                                                  size_t value_len, unsigned flags);
AIPA_API AIPA_MUST_CHECK aipa_err aipa_lf_req_add_cstr(struct aipa_lf_req *r, const char *name,
                                                       const char *value);
/* Replaces the value of the first parameter called name (flags kept); adds it if absent. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_lf_req_set(struct aipa_lf_req *r, const char *name,
                                                  const char *value, size_t value_len);
AIPA_API void aipa_lf_req_remove_at(struct aipa_lf_req *r, size_t i);
/* The first parameter called name (exact bytes), or NULL. */
AIPA_API const struct aipa_lf_param *aipa_lf_req_get(const struct aipa_lf_req *r, const char *name);
AIPA_API AIPA_MUST_CHECK aipa_err aipa_lf_req_copy(struct aipa_lf_req *dst,
                                                   const struct aipa_lf_req *src);
/* The value of Action, or "" when absent. */
AIPA_API const char *aipa_lf_req_action(const struct aipa_lf_req *r);

/* ---- generator ---- */

struct aipa_lf_gen {
    struct aipa_rng rng;
    size_t fixture_count; /* instance references ${vm0} .. ${vm<n-1>} */
    /* Extra names and values from dictionaries and conformance cases (owned). */
    char **names;
    size_t name_count, name_cap;
    char **values;
    size_t *value_lens;
    size_t value_count, value_cap;
};

AIPA_API void aipa_lf_gen_init(struct aipa_lf_gen *g, uint64_t seed, size_t fixture_count);
AIPA_API void aipa_lf_gen_cleanup(struct aipa_lf_gen *g);
/*
 * Loads tokens from a libFuzzer/AFL dictionary (lines `name="value"` or
 * `"value"`, \\, \" and \xNN escapes, # comments). Tokens that look like
 * parameter names (letters, digits, '.', '_', starting upper-case) also
 * become candidate names. Lines it cannot read are skipped.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_lf_gen_load_dict(struct aipa_lf_gen *g, const char *path);
/*
 * Loads parameter names and values from every *.json case file under dir
 * (recursively): every string member of a "request" object. Returns the
 * number of files read through *files (may be NULL).
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_lf_gen_load_cases(struct aipa_lf_gen *g, const char *dir,
                                                         size_t *files);
/* Adds one candidate value (copied). */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_lf_gen_add_value(struct aipa_lf_gen *g, const char *v,
                                                        size_t len);
/*
 * A fresh request: a well-formed call of one of the served actions (or an
 * unknown one), then 0 to 4 stacked mutations. Deterministic given the
 * generator's seed and the sequence of calls.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_lf_generate(struct aipa_lf_gen *g, struct aipa_lf_req *r);
/* One well-formed request without mutations. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_lf_generate_valid(struct aipa_lf_gen *g,
                                                         struct aipa_lf_req *r);
/* Applies one random mutation. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_lf_mutate(struct aipa_lf_gen *g, struct aipa_lf_req *r);

/* ---- render and sign ---- */

struct aipa_lf_sign_ctx {
    const char *access_key_id;
    const char *access_key_secret;
    /* STS: sent as the SDKs do (V1 SecurityToken, V3 x-acs-security-token, signed); NULL: none */
    const char *security_token;
    int64_t now;       /* the clock the Timestamp / x-acs-date is written from */
    const char *nonce; /* a fresh nonce for this request */
    const char
        *prev_nonce;  /* the last nonce this side used (for AIPA_LF_M_REUSE_NONCE); may be NULL */
    const char *host; /* Host header value, "127.0.0.1:8080" */
    /* ${vmN} resolves to ids[N]; an out-of-range N stays as written. */
    const char *const *ids;
    size_t id_count;
};

struct aipa_lf_wire {
    char method[12];
    struct aipa_buf target;       /* "/?A=b&..." */
    struct aipa_buf body;         /* may be empty */
    struct aipa_buf headers;      /* "Name: value\n" lines, Host first */
    char nonce[72];               /* the nonce that was sent ("" if none) */
    struct aipa_sign_trace trace; /* what was signed ("" when unsigned) */
};

AIPA_API void aipa_lf_wire_init(struct aipa_lf_wire *w);
AIPA_API void aipa_lf_wire_cleanup(struct aipa_lf_wire *w);
AIPA_API AIPA_MUST_CHECK aipa_err aipa_lf_render(const struct aipa_lf_req *r,
                                                 const struct aipa_lf_sign_ctx *ctx,
                                                 struct aipa_lf_wire *out);
/* The headers of w as an array for aipa_srv_handle (slices point into w->headers). */
AIPA_API size_t aipa_lf_wire_headers(const struct aipa_lf_wire *w, struct aipa_header *out,
                                     size_t cap);

/* ---- responses and oracles ---- */

struct aipa_lf_resp {
    long status;            /* 0 when there was no response */
    char content_type[128]; /* as received ("" if none) */
    struct aipa_buf body;   /* at most AIPA_LF_MAX_RESPONSE bytes */
    bool timed_out;
    bool transport_error;
    bool truncated; /* the body was longer than the cap */
    char error[160];
    /*
     * Set for the in-process reference's answers: code holds its Code, and
     * the body is not parsed again (only the leak echo test reads it).
     */
    bool trusted;
    char code[80];
    /* The reference's: the latitude rows that applied (what else is valid). */
    struct aipa_lat_set latitude;
    /* The target's: milliseconds from sending to the whole answer (0: not measured). */
    double elapsed_ms;
};

AIPA_API void aipa_lf_resp_init(struct aipa_lf_resp *r);
AIPA_API void aipa_lf_resp_cleanup(struct aipa_lf_resp *r);

enum aipa_lf_fmt { AIPA_LF_FMT_NONE = 0, AIPA_LF_FMT_XML, AIPA_LF_FMT_JSON, AIPA_LF_FMT_OTHER };

/* What a response says, read with libxml2 (no network, no entities, no DTD) or cJSON. */
struct aipa_lf_summary {
    enum aipa_lf_fmt declared; /* from Content-Type */
    bool parsed;               /* the body parses as the declared format */
    bool has_request_id;
    char code[80];       /* Code of an error body ("" if none) */
    char root[80];       /* XML root element name ("" for JSON) */
    char ip_address[48]; /* IpAddress of an AllocatePublicIpAddress success */
    bool has_ip_address;
};

AIPA_API void aipa_lf_summarize(const struct aipa_lf_resp *resp, struct aipa_lf_summary *out);

#define AIPA_LF_ORACLES(X)                                                                         \
    X(AIPA_LF_O_TRANSPORT, "transport", "the connection failed or closed without a response")      \
    X(AIPA_LF_O_TIMEOUT, "timeout", "no response within the timeout")                              \
    X(AIPA_LF_O_CONTENT_TYPE, "content-type", "the Content-Type is neither XML nor JSON")          \
    X(AIPA_LF_O_MALFORMED, "malformed-body", "the body does not parse as its declared format")     \
    X(AIPA_LF_O_REQUEST_ID, "missing-request-id", "the response carries no RequestId")             \
    X(AIPA_LF_O_UNDOCUMENTED, "undocumented-error",                                                \
      "the status and Code are neither documented for this action nor common errors")              \
    X(AIPA_LF_O_SERVER_ERROR, "server-error", "an undocumented 5xx")                               \
    X(AIPA_LF_O_LEAK, "leak",                                                                      \
      "the body shows internals (stack trace, file path, memory address, exception or SQL)")       \
    X(AIPA_LF_O_SCHEMA, "schema", "a success body lacks a documented field")                       \
    X(AIPA_LF_O_TOO_LARGE, "too-large", "the response body is larger than the size cap")           \
    X(AIPA_LF_O_SLOW, "slow", "the answer took longer than --max-response-ms")                     \
    X(AIPA_LF_O_STATE, "state",                                                                    \
      "after the sequence the target's state differs from the model's (pool or an instance)")      \
    X(AIPA_LF_O_DIFF_STATUS, "diff-status", "the HTTP status differs from the reference model's")  \
    X(AIPA_LF_O_DIFF_CODE, "diff-code", "the Code differs from the reference model's")

enum aipa_lf_oracle {
#define AIPA_LF_O_ENUM_(id, name, text) id,
    AIPA_LF_ORACLES(AIPA_LF_O_ENUM_)
#undef AIPA_LF_O_ENUM_
        AIPA_LF_O_COUNT_
};

AIPA_API const char *aipa_lf_oracle_name(enum aipa_lf_oracle o);
AIPA_API const char *aipa_lf_oracle_text(enum aipa_lf_oracle o);

struct aipa_lf_hit {
    enum aipa_lf_oracle oracle;
    long status;       /* the target's */
    char code[80];     /* the target's Code ("" if none) */
    long ref_status;   /* the reference's (differential only; 0 otherwise) */
    char ref_code[80]; /* the reference's Code */
    char detail[200];  /* one line */
    char row[40];      /* the latitude row the answer fell outside of ("" if none applied) */
};

/* How aipa_lf_judge_with judges. */
struct aipa_lf_judge_opts {
    unsigned edition;     /* AIPA_ED_*: the latitude rows of this edition (0: any) */
    bool strict;          /* accept the reference's strict answer only (no latitude) */
    bool allow_transient; /* without the reference: documented transient 5xx pass */
    long max_response_ms; /* > 0: a slower answer is a `slow` finding */
};

/*
 * Runs every oracle over the target's response. ref (may be NULL) is the
 * reference model's response to the same request in the same state; with it
 * the differential oracles run too. wire is the request as sent (the leak
 * oracle ignores text the request itself carried). Writes up to cap hits;
 * returns how many were found.
 */
AIPA_API size_t aipa_lf_judge(const struct aipa_lf_req *req, const struct aipa_lf_wire *wire,
                              const struct aipa_lf_resp *resp, const struct aipa_lf_resp *ref,
                              struct aipa_lf_hit *hits, size_t cap);
/*
 * The same with options. With the reference, an answer among the
 * alternatives of a latitude row the reference reported (ref->latitude)
 * passes unless opts->strict; one outside them names the row (hit.row).
 * Without it, every 5xx is a server-error unless opts->allow_transient and
 * it is a documented transient answer (aipa_lat_transient). A body over the
 * cap (resp->truncated) is a too-large finding and nothing else.
 */
AIPA_API size_t aipa_lf_judge_with(const struct aipa_lf_req *req, const struct aipa_lf_wire *wire,
                                   const struct aipa_lf_resp *resp, const struct aipa_lf_resp *ref,
                                   const struct aipa_lf_judge_opts *opts, struct aipa_lf_hit *hits,
                                   size_t cap);

/*
 * The state-effect oracle: compares the target's state document (GET
 * /_aipa/state) with the reference model's, both after the same requests.
 * Instance tids[i] of the target is the reference's rids[i]. Compared: the
 * pool's FreeCount, and per instance its Status, how many public addresses
 * it has and whether the address is effective. Returns true when they agree;
 * else kind gets what differs ("pool", "status", "address", "effective",
 * "document") and why a one-line account.
 */
AIPA_API bool aipa_lf_state_equal(const char *tdoc, size_t tlen, const char *rdoc, size_t rlen,
                                  const char *const *tids, const char *const *rids, size_t n,
                                  char *kind, size_t kind_cap, char *why, size_t why_cap);

/* Whether (status, code) is documented for the action or a common error (errors.h). */
AIPA_API bool aipa_lf_documented(long status, const char *code);
/* The first internal-detail marker found in body that the request did not carry; NULL if none. */
AIPA_API const char *aipa_lf_leak_marker(const char *body, size_t len, const char *sent,
                                         size_t sent_len, char *what, size_t what_cap);

/* ---- minimizer ---- */

/*
 * Delta debugging (Zeller's ddmin) over the indices 0..n-1. test(keep, k,
 * ctx) must return true when the subset keep[0..k) still fails. On return
 * keep[0..*out_n) is a 1-minimal failing subset (or as small as the budget
 * of test calls allowed). keep must have room for n entries.
 */
typedef bool (*aipa_lf_test_fn)(const size_t *keep, size_t k, void *ctx);
AIPA_API AIPA_MUST_CHECK aipa_err aipa_lf_ddmin(size_t n, aipa_lf_test_fn test, void *ctx,
                                                size_t budget, size_t *keep, size_t *out_n,
                                                size_t *tests_run);

/* ---- the engine ---- */

struct aipa_lf_config {
    const char *target; /* base URL "http://127.0.0.1:8080" (required) */
    bool embedded;      /* the target is a reference server the caller started (for reports) */
    bool allow_remote;
    uint64_t requests; /* fuzz requests (fixture setup and minimization not counted) */
    double time_s;     /* wall-clock limit */
    double rate;       /* requests per second, 0: unpaced */
    uint64_t seed;
    size_t seq_len;    /* requests per sequence between resets */
    long timeout_ms;   /* per request */
    const char *token; /* fixture protocol token */
    const char *access_key_id;
    const char *access_key_secret;
    const char *security_token; /* STS token of that key (the reference is told so); NULL: none */
    bool whitelisted;           /* the key may pass IpAddress (the reference is told so) */
    /* Without the fixture protocol: existing instance IDs for ${vm0}.. (borrowed). */
    const char *const *instances;
    size_t instance_count;
    unsigned edition; /* 0: ask the target (/_aipa/edition), else AIPA_ED_* */
    bool diff;        /* run the differential oracle */
    bool fixtures;    /* use the fixture protocol on the target */
    bool minimize;
    size_t min_budget;      /* replays per finding */
    const char *out_dir;    /* findings.json, findings.sarif, cases/ go here (may be NULL) */
    const char *json_path;  /* overrides out_dir/findings.json */
    const char *sarif_path; /* overrides out_dir/findings.sarif */
    const char *cases_dir;  /* overrides out_dir/cases */
    const char *const *dicts;
    size_t dict_count;
    const char *const *seed_case_dirs;
    size_t seed_case_dir_count;
    /*
     * Parallel workers on the one target (1: a single sequence at a time).
     * Each has its own connection, reference model, generator (seed +
     * i * 0x9e3779b97f4a7c15) and fixture instances; the target is reset
     * only when every worker meets at a rendezvous.
     */
    unsigned jobs;
    uint64_t reset_every; /* with jobs > 1: sequences between shared resets (0: 1,000) */
    FILE *progress;       /* progress lines; NULL: quiet */
    bool verbose;         /* one line per finding hit */
    const char *argv0;    /* for the `aipa call` reproduction line ("aipa") */
    bool strict;          /* the differential oracle accepts the strict answer only */
    bool allow_transient; /* without fixtures: documented transient 5xx are not findings */
    long max_response_ms; /* > 0: an answer slower than this is a `slow` finding */
};

AIPA_API void aipa_lf_config_defaults(struct aipa_lf_config *cfg);

struct aipa_lf_stats {
    uint64_t requests;       /* fuzz requests sent */
    uint64_t total_requests; /* every request to the target, setup and replays included */
    uint64_t sequences;
    size_t buckets; /* distinct findings */
    uint64_t hits;  /* oracle hits, duplicates included */
    double elapsed_s;
    /* FNV-1a over every generated request (method, auth, mutations, parameters):
     * equal for equal seeds against targets that behave the same */
    uint64_t digest;
    /* Why the run stopped: "requests", "time" or "error" (with the reason in stop_detail). */
    const char *stop;
    char stop_detail[256];
    /* Response times of the target per action (fuzz requests only). */
    struct aipa_lf_latency {
        char action[32]; /* "" : a free slot */
        uint64_t count;
        size_t sample_count;                /* samples kept (at most AIPA_LF_LAT_SAMPLES) */
        float samples[AIPA_LF_LAT_SAMPLES]; /* ms; a reservoir past the cap */
    } latency[AIPA_LF_LAT_ACTIONS];
};

/*
 * The p-th percentile (0 < p <= 100) of one action's response times in ms
 * (nearest rank over the kept samples); 0 when there are none. Sorts the
 * samples in place.
 */
AIPA_API double aipa_lf_latency_pct(struct aipa_lf_latency *l, double p);

/*
 * Runs a campaign. Returns the exit status of `aipa fuzz`: 0 no findings, 1
 * findings, 2 usage, configuration or harness error (with a message on
 * stderr).
 */
AIPA_API int aipa_lf_run(const struct aipa_lf_config *cfg, struct aipa_lf_stats *stats);

/* True when host (a URL's host part) is a loopback name or address. */
AIPA_API bool aipa_lf_host_is_loopback(const char *host);

/*
 * `aipa fuzz --framing`: framing-level probes of a target's HTTP layer
 * (livefuzz_framing.c, docs/livefuzz.md "Framing mode"), each on its own
 * connection, judged on what the connection did. Returns the exit status:
 * 0 no findings, 1 findings, 2 the target could not be reached.
 */
struct aipa_lf_framing_config {
    const char *target; /* http://HOST:PORT */
    uint64_t probes;
    double time_s;
    uint64_t seed;
    unsigned wait_ms;    /* silence that ends a probe */
    const char *out_dir; /* findings go to OUT/framing/probe-N.txt; NULL: not written */
    FILE *progress;      /* findings and the summary line; NULL: quiet */
};

struct aipa_lf_framing_stats {
    uint64_t probes, findings;
    uint64_t hang, smuggled, accepted, garbage;
};

AIPA_API int aipa_lf_framing_run(const struct aipa_lf_framing_config *cfg,
                                 struct aipa_lf_framing_stats *st);

#endif /* AIPA_LIVEFUZZ_H */
