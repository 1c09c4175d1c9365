/*
 * server_http.h: the HTTP/1.1 front end of the reference server, in two
 * layers over the handler (server.c):
 *
 * - server_http_conn.c: one connection's protocol engine, no sockets.
 *   Bytes in (aipa__hconn_room / aipa__hconn_received), bytes out
 *   (aipa__hconn_pending / aipa__hconn_sent). It parses heads with
 *   picohttpparser and chunked bodies strictly (server_http_chunked.c),
 *   decides the framing of each request (RFC 9112 §6),
 *   enforces the limits and the header deadline, calls the handler and
 *   writes the answers. fuzz_http drives it directly.
 * - server_http_loop.c: sockets, the epoll loops or thread per connection,
 *   idle timers, lingering close, TLS (OpenSSL); aipa_srv_start/stop/port.
 *
 * Not part of the public API.
 */
#ifndef AIPA_SERVER_HTTP_H
#define AIPA_SERVER_HTTP_H

#include "aipa/phr.h"
#include "server_http_chunked.h"
#include "server_int.h"

/* Header lines picohttpparser may return; more is 431 before the handler sees it. */
#define AIPA_HTTP_MAX_LINES 128

enum aipa__hconn_state {
    AIPA_HC_HEAD,         /* reading a request line and headers */
    AIPA_HC_BODY_LENGTH,  /* reading a Content-Length body */
    AIPA_HC_BODY_CHUNKED, /* reading a chunked body */
    AIPA_HC_CLOSING       /* answered for the last time: flush, then close */
};

/* One connection. Every member is the engine's; the loop uses the functions below. */
struct aipa__hconn {
    struct aipa_srv *srv;
    enum aipa__hconn_state state;

    char *in; /* received bytes; [in_off, in_len) not yet consumed */
    size_t in_off, in_len, in_cap, in_max;
    size_t head_cap; /* a request line plus headers larger than this is refused */

    struct aipa_buf out; /* answers; [out_off, out.len) not yet sent */
    size_t out_off;

    /* The current request, once its head is parsed (pointers into in). */
    size_t head_len, last_len;
    const char *method, *path;
    size_t method_len, path_len;
    int minor;
    struct phr_header lines[AIPA_HTTP_MAX_LINES];
    size_t line_count;
    bool head_stale;               /* the buffer moved since the head was parsed: parse it again */
    uint64_t body_left;            /* Content-Length body */
    struct aipa__chunked chunk;    /* a chunked body's decoder */
    struct aipa_srv_response resp; /* reused for every answer: its body keeps its memory */
    struct aipa_buf body;          /* a chunked body, decoded */
    bool keep_alive;
    bool head_method;

    /* The header deadline: runs from head_start_ms while head_clock is on. */
    bool head_clock;
    int64_t head_start_ms;
    unsigned header_timeout_ms;

    unsigned long requests; /* answered so far (tests, fuzzing) */
};

void aipa__hconn_init(struct aipa__hconn *c, struct aipa_srv *srv, int64_t now_ms);
void aipa__hconn_cleanup(struct aipa__hconn *c);
/*
 * The connection as new (a new client on the same buffers): state, bytes
 * and counters go, the memory stays.
 */
void aipa__hconn_reset(struct aipa__hconn *c, int64_t now_ms);

/*
 * Room for received bytes at *p, *n bytes (at least 1). False when the
 * connection should not read now: answers are waiting to be sent, the
 * input buffer is full, or it is closing.
 */
bool aipa__hconn_room(struct aipa__hconn *c, char **p, size_t *n);
/* n bytes were written into the room; answers all complete requests it can. */
void aipa__hconn_received(struct aipa__hconn *c, size_t n, int64_t now_ms);
/* The peer shut its sending side: nothing more will arrive. */
void aipa__hconn_eof(struct aipa__hconn *c);

/* Bytes waiting to be sent (NULL, 0 when none). */
const char *aipa__hconn_pending(const struct aipa__hconn *c, size_t *n);
/* n of them were sent; requests held back behind them are answered. */
void aipa__hconn_sent(struct aipa__hconn *c, size_t n, int64_t now_ms);

/* True once the last answer is sent and the connection is to be closed. */
bool aipa__hconn_finished(const struct aipa__hconn *c);
/* True while a request has been started but not answered. */
bool aipa__hconn_busy(const struct aipa__hconn *c);
/*
 * Checks the header deadline at now_ms. When it has passed, a started
 * request gets 408 and the connection turns to closing; true then.
 */
bool aipa__hconn_expire(struct aipa__hconn *c, int64_t now_ms);

#endif /* AIPA_SERVER_HTTP_H */
