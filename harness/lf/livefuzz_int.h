/*
 * livefuzz_int.h: what the files of `aipa fuzz` share (engine, reports).
 * Not part of the public API.
 */
#ifndef AIPA_LIVEFUZZ_INT_H
#define AIPA_LIVEFUZZ_INT_H

#include "aipa/livefuzz.h"

#define LF_MAX_SEQ      64u  /* requests per sequence */
#define LF_MAX_FINDINGS 256u /* distinct buckets kept; more are counted */
#define LF_MAX_HITS     16u

/* One outcome as the case file records it. */
struct lf_outcome {
    long status;
    char code[80];
    char message[512]; /* the reference's Message (leak findings compare it) */
    enum aipa_lf_fmt fmt;
};

struct lf_finding {
    char key[200]; /* "oracle|status|Code": the bucket */
    enum aipa_lf_oracle oracle;
    long status;
    char code[80];
    long ref_status;
    char ref_code[80];
    char detail[200];
    uint64_t count;
    uint64_t first_request; /* index of the fuzz request that first hit it */

    /* The (minimized) sequence: steps[0..n-1], the last one triggers it. */
    struct aipa_lf_req *steps;
    size_t step_count;
    long pool_free; /* -1: the pool was not set */
    size_t orig_params;
    size_t orig_steps;
    bool minimized;
    bool reproduced; /* replayed from a fresh state and still hit */
    size_t replays;

    /* the final replay */
    struct lf_outcome *ref_outcomes; /* per step (the reference model's) */
    char method[12];
    char *wire_target; /* as sent to the target, Signature redacted */
    char *wire_body;
    char *resp_excerpt; /* the start of the target's response body */
    char *repro;        /* `aipa call ...` line */
    char case_id[64];
    char case_path[1024];
    bool case_raw;
    char no_case[160]; /* why no case was written ("" when one was, or none was asked for) */
};

struct lf_report_info {
    const struct aipa_lf_config *cfg;
    const char *target;
    unsigned edition;
    bool diff;
    bool fixtures;
    const struct aipa_lf_stats *stats;
    const struct lf_finding *findings;
    size_t finding_count;
    uint64_t dropped_buckets;
};

/* livefuzz_report.c */
aipa_err aipa__lf_write_json(const struct lf_report_info *info, const char *path);
aipa_err aipa__lf_write_sarif(const struct lf_report_info *info, const char *path);
/*
 * Writes the finding's sequence as a case file (conformance/FORMAT.md) under
 * dir/found/<hash>.json; sets f->case_id and f->case_path.
 * fixtures[0..fixture_count) are the instance states of ${vm0}.. .
 */
aipa_err aipa__lf_write_case(struct lf_finding *f, const char *dir, unsigned edition,
                             const char *const *fixtures, size_t fixture_count, bool use_fixtures,
                             const struct aipa_lf_config *cfg);
/* mkdir -p */
aipa_err aipa__lf_mkdirs(const char *path);

#endif /* AIPA_LIVEFUZZ_INT_H */
