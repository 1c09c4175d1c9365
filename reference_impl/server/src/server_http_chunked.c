/*
 * server_http_chunked.c: the strict chunked decoder (server_http_chunked.h).
 */
#include "server_http_chunked.h"

#include <string.h>

static int hex(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
        return (c | 0x20) - 'a' + 10;
    }
    return -1;
}

/* RFC 9110 tchar */
static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A byte allowed in an extension or a field value: VCHAR, obs-text, SP, HTAB. */
static bool is_text(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* One byte of framing (everything but chunk data). */
static enum aipa__chunk_result step(struct aipa__chunked *d, unsigned char c, size_t body_len,
                                    size_t max_body)
{
    int v;

    switch (d->state) {
    case AIPA_CH_SIZE:
        if ((v = hex(c)) >= 0) {
            if (++d->digits > 16) {
                return AIPA_CHUNK_BIG;
            }
            d->size = d->size * 16 + (uint64_t)v;
            return AIPA_CHUNK_MORE;
        }
        if (d->digits == 0) {
            return AIPA_CHUNK_BAD;
        }
        if (d->size > max_body - body_len) {
            return AIPA_CHUNK_BIG; /* before a byte of it is read */
        }
        d->state = AIPA_CH_SIZE_WS;
        return step(d, c, body_len, max_body);
    case AIPA_CH_SIZE_WS:
        if (c == ' ' || c == '\t') {
            return AIPA_CHUNK_MORE;
        }
        if (c == ';') {
            d->state = AIPA_CH_EXT;
            return AIPA_CHUNK_MORE;
        }
        /* fall through: the line end */
        d->state = AIPA_CH_EXT;
        return step(d, c, body_len, max_body);
    case AIPA_CH_EXT:
        if (c == '\r') {
            d->state = AIPA_CH_SIZE_LF;
            return AIPA_CHUNK_MORE;
        }
        if (c == '\n') {
            d->state = d->size == 0 ? AIPA_CH_TRAILER_START : AIPA_CH_DATA;
            return AIPA_CHUNK_MORE;
        }
        return is_text(c) ? AIPA_CHUNK_MORE : AIPA_CHUNK_BAD;
    case AIPA_CH_SIZE_LF:
        if (c != '\n') {
            return AIPA_CHUNK_BAD;
        }
        d->state = d->size == 0 ? AIPA_CH_TRAILER_START : AIPA_CH_DATA;
        return AIPA_CHUNK_MORE;
    case AIPA_CH_DATA_CR:
        if (c == '\r') {
            d->state = AIPA_CH_DATA_LF;
            return AIPA_CHUNK_MORE;
        }
        /* fall through: LF alone */
        d->state = AIPA_CH_DATA_LF;
        return step(d, c, body_len, max_body);
    case AIPA_CH_DATA_LF:
        if (c != '\n') {
            return AIPA_CHUNK_BAD;
        }
        d->state = AIPA_CH_SIZE;
        d->size = 0;
        d->digits = 0;
        return AIPA_CHUNK_MORE;
    case AIPA_CH_TRAILER_START:
        if (c == '\r') {
            d->state = AIPA_CH_FINAL_LF;
            return AIPA_CHUNK_MORE;
        }
        if (c == '\n') {
            d->state = AIPA_CH_DONE;
            return AIPA_CHUNK_DONE;
        }
        if (!is_tchar(c)) {
            return AIPA_CHUNK_BAD; /* no obs-fold, no line without a name */
        }
        d->state = AIPA_CH_TRAILER_NAME;
        return AIPA_CHUNK_MORE;
    case AIPA_CH_TRAILER_NAME:
        if (c == ':') {
            d->state = AIPA_CH_TRAILER_VALUE;
            return AIPA_CHUNK_MORE;
        }
        return is_tchar(c) ? AIPA_CHUNK_MORE : AIPA_CHUNK_BAD;
    case AIPA_CH_TRAILER_VALUE:
        if (c == '\r') {
            d->state = AIPA_CH_TRAILER_LF;
            return AIPA_CHUNK_MORE;
        }
        if (c == '\n') {
            d->state = AIPA_CH_TRAILER_START;
            return AIPA_CHUNK_MORE;
        }
        return is_text(c) ? AIPA_CHUNK_MORE : AIPA_CHUNK_BAD;
    case AIPA_CH_TRAILER_LF:
        if (c != '\n') {
            return AIPA_CHUNK_BAD;
        }
        d->state = AIPA_CH_TRAILER_START;
        return AIPA_CHUNK_MORE;
    case AIPA_CH_FINAL_LF:
        if (c != '\n') {
            return AIPA_CHUNK_BAD;
        }
        d->state = AIPA_CH_DONE;
        return AIPA_CHUNK_DONE;
    case AIPA_CH_DATA:
    case AIPA_CH_DONE:
        break;
    }
    return AIPA_CHUNK_BAD;
}

enum aipa__chunk_result aipa__chunked_feed(struct aipa__chunked *d, const char *p, size_t n,
                                           struct aipa_buf *body, size_t max_body,
                                           uint64_t max_overhead, size_t *used)
{
    size_t i = 0;

    while (i < n) {
        enum aipa__chunk_result r;

        if (d->state == AIPA_CH_DATA) {
            size_t take = n - i < d->size ? n - i : (size_t)d->size;

            if (aipa_buf_append(body, p + i, take) != AIPA_OK) {
                *used = i;
                return AIPA_CHUNK_BIG;
            }
            i += take;
            d->size -= take;
            if (d->size == 0) {
                d->state = AIPA_CH_DATA_CR;
            }
            continue;
        }
        if (++d->overhead > max_overhead) {
            *used = i;
            return AIPA_CHUNK_BIG;
        }
        r = step(d, (unsigned char)p[i++], body->len, max_body);
        if (r != AIPA_CHUNK_MORE) {
            *used = i;
            return r;
        }
    }
    *used = i;
    return AIPA_CHUNK_MORE;
}
