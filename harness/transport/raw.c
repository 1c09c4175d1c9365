/*
 * raw.c: one TCP exchange of raw bytes (raw.h).
 */
#include "raw.h"

#include "aipa/transport.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void aipa_raw_result_init(struct aipa_raw_result *r, size_t max_got)
{
    memset(r, 0, sizeof(*r));
    aipa_buf_init(&r->got, max_got);
}

void aipa_raw_result_cleanup(struct aipa_raw_result *r)
{
    aipa_buf_cleanup(&r->got);
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* host and port of an http:// target (aipa_url_parse) into the caller's buffers. */
static bool split_target(const char *target, char *host, size_t host_cap, char *port,
                         size_t port_cap)
{
    struct aipa_url u;
    const char *h;
    size_t hn;
    bool ok = false;

    memset(&u, 0, sizeof(u));
    if (aipa_url_parse(target, &u) != AIPA_OK || strcmp(u.scheme, "http") != 0) {
        goto out;
    }
    h = u.host;
    hn = strlen(h);
    if (hn >= 2 && h[0] == '[' && h[hn - 1] == ']') {
        h++; /* getaddrinfo wants an IPv6 address bare */
        hn -= 2;
    }
    if (hn == 0 || hn >= host_cap) {
        goto out;
    }
    memcpy(host, h, hn);
    host[hn] = '\0';
    snprintf(port, port_cap, "%s", u.port != NULL ? u.port : "80");
    ok = true;
out:
    aipa_url_cleanup(&u);
    return ok;
}

static int dial(const char *host, const char *port, char *err, size_t err_cap)
{
    struct addrinfo hints, *res = NULL;
    int fd = -1;
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, err_cap, "cannot resolve %.64s: %.60s", host, gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            snprintf(err, err_cap, "cannot connect to %.64s:%.8s: %.60s", host, port,
                     strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* Reads what is there (waiting up to wait_ms for the first byte); false once closed. */
static bool drain(int fd, int wait_ms, struct aipa_raw_result *r)
{
    struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
    char chunk[16384];

    while (poll(&p, 1, wait_ms) > 0) {
        ssize_t n = recv(fd, chunk, sizeof(chunk), 0);

        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
            r->closed = true;
            r->reset = n < 0 && errno == ECONNRESET;
            return false;
        }
        if (n > 0 && aipa_buf_append(&r->got, chunk, (size_t)n) != AIPA_OK) {
            return false; /* more than the caller keeps: stop reading */
        }
        wait_ms = 0;
    }
    return true;
}

aipa_err aipa_raw_exchange(const char *target, const uint8_t *data, size_t n, unsigned drip_ms,
                           unsigned wait_ms, struct aipa_raw_result *r)
{
    char host[256], port[16];
    int fd;
    size_t off = 0;
    int64_t deadline;

    if (!split_target(target, host, sizeof(host), port, sizeof(port))) {
        snprintf(r->error, sizeof(r->error), "wire steps need an http:// target, not %.100s",
                 target);
        return AIPA_EINVAL;
    }
    fd = dial(host, port, r->error, sizeof(r->error));
    if (fd < 0) {
        return AIPA_EIO;
    }
    r->error[0] = '\0';
    while (off < n && !r->closed) {
        size_t chunk = drip_ms > 0 ? 1 : n - off;
        ssize_t w = send(fd, data + off, chunk, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            r->closed = true; /* the peer is gone (reset or broken pipe) */
            r->reset = errno == ECONNRESET || errno == EPIPE;
            break;
        }
        off += (size_t)w;
        /* Between drips, read what the peer says, and notice when it closes. */
        if (!drain(fd, drip_ms > 0 && off < n ? (int)drip_ms : 0, r)) {
            break;
        }
    }
    r->sent_all = off == n;
    deadline = mono_ms() + 4 * (int64_t)wait_ms;
    while (!r->closed && mono_ms() < deadline) {
        size_t before = r->got.len;

        if (!drain(fd, (int)wait_ms, r) || r->got.len == before) {
            break; /* closed, or silent for wait_ms */
        }
    }
    close(fd);
    return AIPA_OK;
}
