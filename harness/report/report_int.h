/*
 * report_int.h: what the report writers share (report_common.c): failures
 * grouped by case, where a group failed, and the line that reruns a result.
 * Not a public interface.
 */
#ifndef AIPA_REPORT_INT_H
#define AIPA_REPORT_INT_H

#include "aipa/conform.h"

/* What a result is to the reader, worst first; NONE for a clean pass or a skip. */
enum aipa__kind {
    AIPA_KIND_NEW = 0,   /* a fail or error the baseline does not cover */
    AIPA_KIND_KNOWN,     /* a fail or error the baseline covers */
    AIPA_KIND_NONSTRICT, /* pass-nonstrict */
    AIPA_KIND_NONE,
};
enum aipa__kind aipa__result_kind(const struct aipa_result *res);

/* The results of one case of one kind, in report order (all editions). */
struct aipa__group {
    const struct aipa_case *c;
    enum aipa__kind kind;
    size_t *idx; /* into r->items */
    size_t count;
    size_t cap;
};

struct aipa__groups {
    struct aipa__group *items;
    size_t count;
};

/* Groups every result of a kind other than NONE: new failures first, then
 * known ones, then nonstrict passes; cases in report order within a kind. */
AIPA_MUST_CHECK aipa_err aipa__groups_build(const struct aipa_report *r, struct aipa__groups *g);
void aipa__groups_cleanup(struct aipa__groups *g);
/* How many groups of kind k there are. */
size_t aipa__groups_of(const struct aipa__groups *g, enum aipa__kind k);

/* Where a group's results are: "2018-08-02: all 10 variants; 2024-12-20:
 * v1-get-xml, v3-get-json" (all: every variant of the case that ran). */
void aipa__group_where(const struct aipa_report *r, const struct aipa__group *g,
                       struct aipa_buf *out);

/*
 * The command that runs one result again: against the embedded server an
 * `aipa conform` line with the run's seed, edition, case and variant (it
 * starts the server itself); against a target the same with --target and
 * the profile. Shell-quoted.
 */
void aipa__rerun_line(const struct aipa_report *r, const struct aipa_result *res,
                      struct aipa_buf *out);

/* The `aipa call` line of the exchange that failed (the last one), or NULL. */
const char *aipa__call_line(const struct aipa_result *res);

#endif /* AIPA_REPORT_INT_H */
