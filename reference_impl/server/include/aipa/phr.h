/*
 * aipa/phr.h: picohttpparser, the HTTP/1.x parser inside h2o's library
 * (libh2o-evloop). Debian ships the library with the parser's symbols but
 * not its header, so its entry points are declared here from its documented
 * API. Link PkgConfig::H2O (aipa_server does).
 */
#ifndef AIPA_PHR_H
#define AIPA_PHR_H

#include "aipa/common.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct phr_header {
    const char *name; /* NULL for a continuation line (obs-fold) */
    size_t name_len;
    const char *value;
    size_t value_len;
};

struct phr_chunked_decoder {
    size_t bytes_left_in_chunk;
    char consume_trailer;
    char hex_count_;
    char state_;
    uint64_t reserved_[4]; /* zeroed room: later versions add counters here */
};

/* > 0: head length; -1: malformed; -2: incomplete. num_headers in: capacity, out: count. */
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len,
                      const char **path, size_t *path_len, int *minor_version,
                      struct phr_header *headers, size_t *num_headers, size_t last_len);
/*
 * Decodes in place: *bufsz in: bytes at buf, out: decoded bytes now at buf.
 * >= 0: done, that many bytes after the body follow the decoded data;
 * -1: malformed; -2: incomplete (all input used).
 */
ssize_t phr_decode_chunked(struct phr_chunked_decoder *decoder, char *buf, size_t *bufsz);

/* As phr_parse_request, for a response: its version, status and reason. */
int phr_parse_response(const char *buf, size_t len, int *minor_version, int *status,
                       const char **msg, size_t *msg_len, struct phr_header *headers,
                       size_t *num_headers, size_t last_len);

#endif /* AIPA_PHR_H */
