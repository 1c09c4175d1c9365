/*
 * aipa/fixcheck.h: `aipa conform --check-fixtures`, a check of a target's
 * fixture protocol (conformance/FIXTURES.md) endpoint by endpoint, so an
 * implementer can debug the protocol before running the API suites.
 */
#ifndef AIPA_FIXCHECK_H
#define AIPA_FIXCHECK_H

#include "aipa/common.h"

#include <stdio.h>

struct aipa_fixcheck_opts {
    const char *target; /* base URL of the API, e.g. "http://127.0.0.1:8080/" */
    const char *token;  /* the X-Aipa-Token */
    long timeout_ms;    /* per request; <= 0: the transport's default */
    /*
     * Optional (NULL: the API checks are skipped): a key of the target, to
     * check what the protocol promises of the API itself: an armed
     * AipaNextAllocateError fails one allocation and no more, and a reset
     * clears the nonce cache.
     */
    const char *access_key_id;
    const char *access_key_secret;
    FILE *out; /* one line per check: "ok    name: detail" or "FAIL  name: reason" */
};

struct aipa_fixcheck_result {
    unsigned passed;
    unsigned failed;
    bool unreachable; /* a request got no answer: the rest was not checked */
    char unreachable_why[256];
};

/*
 * Runs every check against o->target, printing one line each, and leaves
 * the target reset and in the edition it found. AIPA_OK once the run ended
 * (read *res for the verdict); AIPA_ENOMEM; AIPA_EINVAL for a bad target URL.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_fixcheck_run(const struct aipa_fixcheck_opts *o,
                                                    struct aipa_fixcheck_result *res);

#endif /* AIPA_FIXCHECK_H */
