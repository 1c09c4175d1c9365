/*
 * raw.h: bytes on a TCP connection exactly as given, and what comes back,
 * for the HTTP-layer checks (wire steps, conformance/FORMAT.md). No HTTP
 * here: the caller reads the answers (aipa/phr.h).
 */
#ifndef AIPA_TRANSPORT_RAW_H
#define AIPA_TRANSPORT_RAW_H

#include "aipa/common.h"

struct aipa_raw_result {
    struct aipa_buf got; /* every byte received, in order */
    bool closed;         /* the peer closed (end of stream or reset) within the wait */
    bool reset;          /* ... by a reset */
    bool sent_all;       /* every byte was sent before the peer closed */
    char error[160];     /* set when no connection could be made ("" otherwise) */
};

void aipa_raw_result_init(struct aipa_raw_result *r, size_t max_got);
void aipa_raw_result_cleanup(struct aipa_raw_result *r);

/*
 * Connects to target ("http://HOST:PORT[/...]"; IPv6 as [::1]), sends
 * data[0..n) (all at once, or one byte every drip_ms), then reads until the
 * peer closes or nothing arrives for wait_ms; the whole exchange is bounded
 * by n * drip_ms + 4 * wait_ms. AIPA_EINVAL for a target that is not
 * http:// (r->error says why), AIPA_EIO when no connection could be made;
 * AIPA_OK otherwise, whatever the peer did.
 */
AIPA_MUST_CHECK aipa_err aipa_raw_exchange(const char *target, const uint8_t *data, size_t n,
                                           unsigned drip_ms, unsigned wait_ms,
                                           struct aipa_raw_result *r);

#endif /* AIPA_TRANSPORT_RAW_H */
