/*
 * aipa/fixture_state.h: reading a target's state document (GET /_aipa/state,
 * conformance/FIXTURES.md "State document") as the harness needs it: is it
 * one `aipa fuzz` can load, do its counters agree, and which addresses name
 * "an address of the target's pool" (${pool.address}) and "a public address
 * outside it" (${pool.outside}) in the cases.
 */
#ifndef AIPA_FIXTURE_STATE_H
#define AIPA_FIXTURE_STATE_H

#include "aipa/common.h"

#define AIPA_FXSTATE_IPV4_MAX 16 /* "255.255.255.255" and its NUL */

struct aipa_fxstate {
    char edition[16];      /* "2018-08-02", "2024-12-20" or "" when absent */
    size_t instance_count; /* the instances listed */
    size_t held_count;     /* instances that hold a PublicIpAddress */
    uint64_t pool_size;    /* addresses of Pool.Cidrs (network/broadcast skipped) */
    uint64_t free_count;   /* Pool.FreeCount */
    char pool_address[AIPA_FXSTATE_IPV4_MAX]; /* lowest pool address no instance holds; "" none */
    char pool_outside[AIPA_FXSTATE_IPV4_MAX]; /* a public address in no block */
};

/*
 * Reads the state document doc[0..len): it must load into the reference
 * model exactly as `aipa fuzz` loads it (every rule of FIXTURES.md "State
 * document", "Pool"), name its pool in Pool.Cidrs and, when it has Counters,
 * counters that agree with the rest. Fills *out. AIPA_EPARSE with a one-line
 * reason in why for a document that breaks a rule; AIPA_ENOMEM.
 */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_fxstate_read(const char *doc, size_t len,
                                                    struct aipa_fxstate *out, struct aipa_buf *why);

#endif /* AIPA_FIXTURE_STATE_H */
