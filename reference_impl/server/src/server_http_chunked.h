/*
 * server_http_chunked.h: a strict decoder of the chunked transfer coding
 * (RFC 9112 §7.1) for request bodies. picohttpparser's decoder takes any
 * bytes after the size digits as an extension ("0x5" is a last chunk) and
 * any line as a trailer, which lets a body end early and the rest of it be
 * read as another request; this one accepts only
 *
 *   chunk-size (1..16 HEXDIG) [BWS ";" extension without control bytes] CRLF
 *   chunk-data CRLF ... "0" ... CRLF, trailer fields (name ":" value) CRLF, CRLF
 *
 * with LF alone accepted for CRLF, as the head parser does.
 */
#ifndef AIPA_SERVER_HTTP_CHUNKED_H
#define AIPA_SERVER_HTTP_CHUNKED_H

#include "aipa/common.h"

enum aipa__chunk_state {
    AIPA_CH_SIZE = 0, /* reading size digits */
    AIPA_CH_SIZE_WS,  /* after the digits: BWS, then ";" or the line end */
    AIPA_CH_EXT,      /* a chunk extension, to the line end */
    AIPA_CH_SIZE_LF,  /* after CR of the size line */
    AIPA_CH_DATA,
    AIPA_CH_DATA_CR, /* the CRLF after the data */
    AIPA_CH_DATA_LF,
    AIPA_CH_TRAILER_START, /* the start of a trailer line, or the final line end */
    AIPA_CH_TRAILER_NAME,
    AIPA_CH_TRAILER_VALUE,
    AIPA_CH_TRAILER_LF,
    AIPA_CH_FINAL_LF,
    AIPA_CH_DONE
};

struct aipa__chunked {
    enum aipa__chunk_state state;
    uint64_t size;   /* of the chunk being read (digits so far while in SIZE) */
    unsigned digits; /* size digits read */
    uint64_t overhead; /* bytes that are not data: bounded by the caller's limit */
};

enum aipa__chunk_result {
    AIPA_CHUNK_MORE, /* all of the input used; the body goes on */
    AIPA_CHUNK_DONE, /* the body ended; *used says where */
    AIPA_CHUNK_BAD,  /* not the chunked coding */
    AIPA_CHUNK_BIG   /* a chunk size or the framing past the limits */
};

/*
 * Decodes p[0..n) into body (whose ceiling is the body limit), *used = bytes
 * taken. A chunk size that would take the body past max_body, or framing
 * overhead past max_overhead, is AIPA_CHUNK_BIG at once.
 */
enum aipa__chunk_result aipa__chunked_feed(struct aipa__chunked *d, const char *p, size_t n,
                                           struct aipa_buf *body, size_t max_body,
                                           uint64_t max_overhead, size_t *used);

#endif /* AIPA_SERVER_HTTP_CHUNKED_H */
