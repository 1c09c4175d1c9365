/*
 * Target: aipa_wire_parse on an application/x-www-form-urlencoded body
 * (reference_impl/lib/src/wire.c), with small limits and a list that already
 * holds query parameters, as the server parses a POST.
 *
 * Input: byte 0 picks the options, the rest is the body.
 *   bits 0-1  max_params   1, 4, 16, default (128)
 *   bits 2-3  max_name     1, 8, 32, default (128)
 *   bits 4-5  max_value    0, 16, 64, default (16 KiB)
 *   bit 6     max_total 64 instead of the default (64 KiB)
 *   bit 7     the list first holds Action=AllocatePublicIpAddress and
 *             InstanceId=i-x from the query, so a body repeating them is a
 *             duplicate
 * The '+'-is-space flag is always on (the server always sets it); the same
 * differential oracle as fuzz_query checks every outcome against the limits
 * in force.
 */
#include "aipa/wire.h"
#include "fuzz_common.h"
#include "fuzz_wire_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t params[] = {1, 4, 16, AIPA_WIRE_MAX_PARAMS};
    static const size_t names[] = {1, 8, 32, AIPA_WIRE_MAX_NAME};
    static const size_t values[] = {0, 16, 64, AIPA_WIRE_MAX_VALUE};
    struct aipa_wire_limits lim = aipa_wire_default_limits();
    struct aipa_params p;
    uint8_t opt;
    aipa_err err;

    if (size < 1) {
        return 0;
    }
    opt = data[0];
    lim.max_params = params[opt & 3u];
    lim.max_name = names[(opt >> 2) & 3u];
    lim.max_value = values[(opt >> 4) & 3u];
    if (opt & 0x40u) {
        lim.max_total = 64;
    }
    aipa_params_init(&p, &lim);
    if (opt & 0x80u) {
        /* Added directly, so the query part does not depend on the limits. */
        struct aipa_wire_limits wide = aipa_wire_default_limits();
        p.limits = wide;
        err = aipa_params_add(&p, "Action", 6, "AllocatePublicIpAddress", 23, AIPA_PARAM_QUERY);
        FUZZ_CHECK(err == AIPA_OK, "params_add: %s", aipa_errname(err));
        err = aipa_params_add(&p, "InstanceId", 10, "i-x", 3, AIPA_PARAM_QUERY);
        FUZZ_CHECK(err == AIPA_OK, "params_add: %s", aipa_errname(err));
        p.limits = lim;
    }
    (void)check_wire_parse(data + 1, size - 1, AIPA_WIRE_PLUS_IS_SPACE, AIPA_PARAM_BODY, &p);
    aipa_params_cleanup(&p);
    return 0;
}
