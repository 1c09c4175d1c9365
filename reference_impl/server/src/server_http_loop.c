/*
 * server_http_loop.c: sockets and threads of the HTTP front end
 * (server_http.h): aipa_srv_start, aipa_srv_port, aipa_srv_stop.
 *
 * Two modes over the same connection code:
 * - pool (the default): `threads` event loops, each its own epoll set,
 *   sharing one listening socket (EPOLLEXCLUSIVE, so one loop wakes per
 *   connection). A connection lives on the loop that accepted it.
 * - per-connection: an accepting thread and a thread per connection, each
 *   polling its one socket.
 *
 * Timers, checked every TICK_MS: the idle timeout (no byte in or out for
 * connection_timeout_s), the header deadline (aipa__hconn_expire), and
 * the lingering close. A connection that is done writes its last answer,
 * shuts its sending side, and reads and drops what the client still sends
 * for up to LINGER_MS, so that a refused request's unread body does not
 * turn into a reset that destroys the answer on its way (nginx
 * lingering_close).
 */
#define _GNU_SOURCE /* accept4 */
#include "server_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS      100
#define LINGER_MS    2000
#define MAX_EVENTS   256
#define ACCEPT_BURST 64
/*
 * Connection threads' stacks: the deepest path is cJSON parsing a hostile
 * InstanceIds or fixture body (nesting limit 1000, a few hundred bytes a level).
 */
#define THREAD_STACK (1024u * 1024u)

struct conn;

struct worker {
    struct aipa__front *f;
    pthread_t thread;
    bool started;
    int ep;
    int wake; /* eventfd: aipa_srv_stop */
    struct conn *conns; /* this loop's connections, for the timers */
};

struct aipa__front {
    struct aipa_srv *srv;
    int lfd;
    uint16_t port;
    SSL_CTX *tls;
    unsigned worker_count;
    struct worker *workers;
    atomic_bool stop;
    atomic_uint open; /* connections */
    /* per-connection mode */
    pthread_t acceptor;
    bool acceptor_started;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    unsigned threads_live;
};

struct conn {
    struct aipa__hconn h;
    struct aipa__front *f;
    struct worker *w; /* NULL in per-connection mode */
    struct conn *prev, *next;
    int fd;
    SSL *ssl;
    bool tls_read_wants_write;
    bool tls_write_wants_read;
    bool lingering;
    bool peer_done;
    int64_t active_ms;
    int64_t linger_until_ms;
    uint32_t events; /* registered with epoll */
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fail_msg(struct aipa_buf *err, const char *msg, const char *arg)
{
    if (err != NULL) {
        aipa_buf_reset(err);
        best_effort(aipa_buf_printf(err, "%s%s", msg, arg != NULL ? arg : ""));
    }
}

/* ---- one connection's I/O ---- */

static struct conn *conn_new(struct aipa__front *f, int fd)
{
    struct conn *c = aipa_calloc(1, sizeof(*c));
    int one = 1;

    if (c == NULL) {
        return NULL;
    }
    c->f = f;
    c->fd = fd;
    c->active_ms = mono_ms();
    aipa__hconn_init(&c->h, f->srv, c->active_ms);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (f->tls != NULL) {
        c->ssl = SSL_new(f->tls);
        if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
            SSL_free(c->ssl);
            aipa__hconn_cleanup(&c->h);
            aipa_free(c);
            return NULL;
        }
        SSL_set_accept_state(c->ssl);
    }
    atomic_fetch_add(&f->open, 1);
    return c;
}

static void conn_free(struct conn *c)
{
    SSL_free(c->ssl);
    close(c->fd);
    aipa__hconn_cleanup(&c->h);
    atomic_fetch_sub(&c->f->open, 1);
    aipa_free(c);
}

/* > 0 bytes read; 0 end of stream; -1 failure; -2 nothing now. */
static ssize_t conn_read(struct conn *c, char *p, size_t n)
{
    if (c->ssl != NULL) {
        int r = SSL_read(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);

        c->tls_read_wants_write = false;
        if (r > 0) {
            return r;
        }
        switch (SSL_get_error(c->ssl, r)) {
        case SSL_ERROR_WANT_READ:
            return -2;
        case SSL_ERROR_WANT_WRITE:
            c->tls_read_wants_write = true;
            return -2;
        case SSL_ERROR_ZERO_RETURN:
            return 0;
        default:
            ERR_clear_error();
            return -1;
        }
    }
    for (;;) {
        ssize_t r = recv(c->fd, p, n, 0);

        if (r >= 0) {
            return r;
        }
        if (errno == EINTR) {
            continue;
        }
        return errno == EAGAIN || errno == EWOULDBLOCK ? -2 : -1;
    }
}

/* >= 0 bytes written (0: not now); -1 failure. */
static ssize_t conn_write(struct conn *c, const char *p, size_t n)
{
    if (c->ssl != NULL) {
        int r = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);

        c->tls_write_wants_read = false;
        if (r > 0) {
            return r;
        }
        switch (SSL_get_error(c->ssl, r)) {
        case SSL_ERROR_WANT_WRITE:
            return 0;
        case SSL_ERROR_WANT_READ:
            c->tls_write_wants_read = true;
            return 0;
        default:
            ERR_clear_error();
            return -1;
        }
    }
    for (;;) {
        ssize_t r = send(c->fd, p, n, MSG_NOSIGNAL);

        if (r >= 0) {
            return r;
        }
        if (errno == EINTR) {
            continue;
        }
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
}

/* Writes what it can; false on failure. */
static bool flush(struct conn *c, int64_t now)
{
    size_t n;
    const char *p;

    while ((p = aipa__hconn_pending(&c->h, &n)) != NULL) {
        ssize_t w = conn_write(c, p, n);

        if (w < 0) {
            return false;
        }
        if (w == 0) {
            break;
        }
        c->active_ms = now;
        aipa__hconn_sent(&c->h, (size_t)w, now);
    }
    return true;
}

/* Reads and drops what a closing client still sends; false once it is done. */
static bool linger(struct conn *c)
{
    char sink[4096];

    for (int i = 0; i < 16; i++) {
        ssize_t r = recv(c->fd, sink, sizeof(sink), 0); /* raw bytes, TLS or not */

        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            return false;
        }
        if (r < 0) {
            return true;
        }
    }
    return true;
}

/* The last answer is out: shut the sending side and linger. False: free now. */
static bool start_linger(struct conn *c, int64_t now)
{
    if (c->peer_done) {
        return false;
    }
    if (c->ssl != NULL) {
        (void)SSL_shutdown(c->ssl);
        ERR_clear_error();
    }
    if (shutdown(c->fd, SHUT_WR) != 0) {
        return false;
    }
    c->lingering = true;
    c->linger_until_ms = now + LINGER_MS;
    return true;
}

/* Moves the connection on after readiness. False: free it. */
static bool conn_io(struct conn *c, int64_t now)
{
    bool drained = false;

    if (c->lingering) {
        return linger(c);
    }
    for (int round = 0; round < 8; round++) {
        char *p;
        size_t n;
        ssize_t r;

        if (!flush(c, now)) {
            return false;
        }
        if (drained || aipa__hconn_pending(&c->h, &n) != NULL ||
            !aipa__hconn_room(&c->h, &p, &n)) {
            break;
        }
        r = conn_read(c, p, n);
        if (r == -2) {
            break;
        }
        if (r < 0) {
            return false;
        }
        c->active_ms = now;
        if (r == 0) {
            c->peer_done = true;
            aipa__hconn_eof(&c->h);
            continue; /* flush what is left, then close */
        }
        /*
         * A short read emptied the socket: answer, and wait for readiness
         * rather than spend a recv on EAGAIN (TLS may still hold records).
         */
        drained = (size_t)r < n && (c->ssl == NULL || SSL_pending(c->ssl) == 0);
        aipa__hconn_received(&c->h, (size_t)r, now);
    }
    if (aipa__hconn_finished(&c->h)) {
        return start_linger(c, now);
    }
    return true;
}

/* The timers at now; false: free the connection. */
static bool conn_tick(struct conn *c, int64_t now)
{
    const struct aipa_srv_config *cfg = &c->f->srv->cfg;

    if (c->lingering) {
        return now < c->linger_until_ms;
    }
    if (aipa__hconn_expire(&c->h, now)) {
        return conn_io(c, now);
    }
    return now - c->active_ms < (int64_t)cfg->connection_timeout_s * 1000;
}

static uint32_t interest(const struct conn *c)
{
    size_t n;
    bool pending = aipa__hconn_pending(&c->h, &n) != NULL;
    uint32_t ev = 0;

    if (c->lingering || !pending || c->tls_write_wants_read) {
        ev |= EPOLLIN;
    }
    if ((pending && !c->lingering) || c->tls_read_wants_write) {
        ev |= EPOLLOUT;
    }
    return ev;
}

/* ---- pool mode: epoll loops ---- */

static void unlink_conn(struct conn *c)
{
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        c->w->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
}

static void drop(struct conn *c)
{
    unlink_conn(c);
    (void)epoll_ctl(c->w->ep, EPOLL_CTL_DEL, c->fd, NULL);
    conn_free(c);
}

static void rearm(struct conn *c)
{
    uint32_t ev = interest(c);

    if (ev != c->events) {
        struct epoll_event e = {.events = ev, .data.ptr = c};

        if (epoll_ctl(c->w->ep, EPOLL_CTL_MOD, c->fd, &e) == 0) {
            c->events = ev;
        }
    }
}

static bool room_for_one(struct aipa__front *f)
{
    return atomic_load(&f->open) < f->srv->cfg.max_connections;
}

static void accept_some(struct worker *w)
{
    struct aipa__front *f = w->f;

    for (int i = 0; i < ACCEPT_BURST; i++) {
        int fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct conn *c;
        struct epoll_event e;

        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: the socket stays readable; do not spin on it. */
                struct timespec ts = {0, 10 * 1000 * 1000};

                nanosleep(&ts, NULL);
            }
            return; /* EAGAIN: retried on the next wake */
        }
        if (!room_for_one(f) || (c = conn_new(f, fd)) == NULL) {
            close(fd); /* over --max-connections: refused */
            continue;
        }
        c->w = w;
        c->events = EPOLLIN;
        e.events = EPOLLIN;
        e.data.ptr = c;
        if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &e) != 0) {
            conn_free(c);
            continue;
        }
        c->next = w->conns;
        if (w->conns != NULL) {
            w->conns->prev = c;
        }
        w->conns = c;
    }
}

static void sweep(struct worker *w, int64_t now)
{
    struct conn *c = w->conns;

    while (c != NULL) {
        struct conn *next = c->next;

        if (!conn_tick(c, now)) {
            drop(c);
        } else {
            rearm(c);
        }
        c = next;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct aipa__front *f = w->f;
    struct epoll_event evs[MAX_EVENTS];
    int64_t last_sweep = mono_ms();

    while (!atomic_load(&f->stop)) {
        int n = epoll_wait(w->ep, evs, MAX_EVENTS, TICK_MS);
        int64_t now = mono_ms();

        for (int i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;

            if (tag == &f->lfd) {
                accept_some(w);
            } else if (tag == &w->wake) {
                continue;
            } else {
                struct conn *c = tag;

                if (!conn_io(c, now)) {
                    drop(c);
                } else {
                    rearm(c);
                }
            }
        }
        if (now - last_sweep >= TICK_MS) {
            sweep(w, now);
            last_sweep = now;
        }
    }
    while (w->conns != NULL) {
        drop(w->conns);
    }
    return NULL;
}

static aipa_err start_workers(struct aipa__front *f)
{
    struct aipa_srv *srv = f->srv;
    unsigned count = srv->cfg.threads;

    if (count == 0) {
        long nproc = sysconf(_SC_NPROCESSORS_ONLN);

        count = nproc > 0 ? (unsigned)nproc : 1u;
    }
    f->workers = aipa_calloc(count, sizeof(*f->workers));
    if (f->workers == NULL) {
        return AIPA_ENOMEM;
    }
    f->worker_count = count;
    for (unsigned i = 0; i < count; i++) {
        f->workers[i].ep = f->workers[i].wake = -1;
    }
    for (unsigned i = 0; i < count; i++) {
        struct worker *w = &f->workers[i];
        struct epoll_event e;

        w->f = f;
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        w->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (w->ep < 0 || w->wake < 0) {
            return AIPA_EIO;
        }
        e.events = EPOLLIN | EPOLLEXCLUSIVE;
        e.data.ptr = &f->lfd;
        if (epoll_ctl(w->ep, EPOLL_CTL_ADD, f->lfd, &e) != 0) {
            return AIPA_EIO;
        }
        e.events = EPOLLIN;
        e.data.ptr = &w->wake;
        if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->wake, &e) != 0) {
            return AIPA_EIO;
        }
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            return AIPA_EIO;
        }
        w->started = true;
    }
    return AIPA_OK;
}

/* ---- per-connection mode ---- */

static void *conn_main(void *arg)
{
    struct conn *c = arg;
    struct aipa__front *f = c->f;
    bool alive = true;

    while (alive && !atomic_load(&f->stop)) {
        uint32_t ev = interest(c);
        struct pollfd pfd = {.fd = c->fd, .events = 0, .revents = 0};
        int n;
        int64_t now;

        pfd.events = (short)(((ev & EPOLLIN) != 0 ? POLLIN : 0) | ((ev & EPOLLOUT) != 0 ? POLLOUT : 0));
        n = poll(&pfd, 1, TICK_MS);
        now = mono_ms();
        if (n > 0) {
            alive = conn_io(c, now);
        }
        alive = alive && conn_tick(c, now);
    }
    conn_free(c);
    pthread_mutex_lock(&f->lock);
    f->threads_live--;
    pthread_cond_broadcast(&f->idle);
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

static void spawn(struct aipa__front *f, int fd)
{
    pthread_attr_t attr;
    pthread_t t;
    struct conn *c;

    if (!room_for_one(f) || (c = conn_new(f, fd)) == NULL) {
        close(fd);
        return;
    }
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    pthread_mutex_lock(&f->lock);
    f->threads_live++;
    pthread_mutex_unlock(&f->lock);
    if (pthread_create(&t, &attr, conn_main, c) != 0) {
        conn_free(c);
        pthread_mutex_lock(&f->lock);
        f->threads_live--;
        pthread_mutex_unlock(&f->lock);
    }
    pthread_attr_destroy(&attr);
}

static void *acceptor_main(void *arg)
{
    struct aipa__front *f = arg;

    while (!atomic_load(&f->stop)) {
        struct pollfd pfd = {.fd = f->lfd, .events = POLLIN, .revents = 0};

        if (poll(&pfd, 1, TICK_MS) <= 0) {
            continue;
        }
        for (int i = 0; i < ACCEPT_BURST; i++) {
            int fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

            if (fd < 0) {
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                    struct timespec ts = {0, 10 * 1000 * 1000};

                    nanosleep(&ts, NULL); /* no descriptor: do not spin on a readable socket */
                }
                break;
            }
            spawn(f, fd);
        }
    }
    return NULL;
}

/* ---- start and stop ---- */

static bool readable_file(const char *path)
{
    FILE *fp = fopen(path, "rb");

    if (fp == NULL) {
        return false;
    }
    fclose(fp);
    return true;
}

static aipa_err tls_setup(struct aipa__front *f)
{
    struct aipa_srv *srv = f->srv;
    struct aipa_buf *err = srv->cfg.error;

    if ((srv->tls_cert_file != NULL) != (srv->tls_key_file != NULL)) {
        fail_msg(err, "TLS needs both a certificate and a key", NULL);
        return AIPA_EINVAL;
    }
    if (srv->tls_cert_file == NULL) {
        return AIPA_OK;
    }
    if (!readable_file(srv->tls_cert_file)) {
        fail_msg(err, "cannot open ", srv->tls_cert_file);
        return AIPA_EIO;
    }
    if (!readable_file(srv->tls_key_file)) {
        fail_msg(err, "cannot open ", srv->tls_key_file);
        return AIPA_EIO;
    }
    f->tls = SSL_CTX_new(TLS_server_method());
    if (f->tls == NULL ||
        SSL_CTX_set_min_proto_version(f->tls, TLS1_2_VERSION) != 1 ||
        SSL_CTX_use_certificate_chain_file(f->tls, srv->tls_cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(f->tls, srv->tls_key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(f->tls) != 1) {
        ERR_clear_error();
        fail_msg(err, "the TLS certificate or key is not usable: ", srv->tls_cert_file);
        return AIPA_EIO;
    }
    SSL_CTX_set_mode(f->tls, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return AIPA_OK;
}

static aipa_err listen_on(struct aipa__front *f)
{
    struct aipa_srv *srv = f->srv;
    struct sockaddr_storage ss;
    socklen_t len;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    int one = 1;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, srv->listen_addr, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(srv->cfg.port);
        len = sizeof(*sin);
    } else if (inet_pton(AF_INET6, srv->listen_addr, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(srv->cfg.port);
        len = sizeof(*sin6);
    } else {
        fail_msg(srv->cfg.error, "the listen address must be a numeric IPv4 or IPv6 address",
                 NULL);
        return AIPA_EINVAL;
    }
    f->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (f->lfd < 0) {
        fail_msg(srv->cfg.error, "cannot create a socket", NULL);
        return AIPA_EIO;
    }
    (void)setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(f->lfd, (struct sockaddr *)&ss, len) != 0 || listen(f->lfd, 4096) != 0) {
        fail_msg(srv->cfg.error, "cannot listen (address in use or not available?) on ",
                 srv->listen_addr);
        return AIPA_EIO;
    }
    len = sizeof(ss);
    if (getsockname(f->lfd, (struct sockaddr *)&ss, &len) != 0) {
        return AIPA_EIO;
    }
    f->port = ntohs(ss.ss_family == AF_INET ? sin->sin_port : sin6->sin6_port);
    return AIPA_OK;
}

/* Descriptors for every connection allowed, where the hard limit lets the soft one rise. */
static void raise_fd_limit(unsigned connections)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)connections + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void front_free(struct aipa__front *f)
{
    if (f == NULL) {
        return;
    }
    atomic_store(&f->stop, true);
    for (unsigned i = 0; i < f->worker_count; i++) {
        struct worker *w = &f->workers[i];

        if (w->started) {
            uint64_t one = 1;

            if (write(w->wake, &one, sizeof(one)) < 0) {
                /* the loop still sees stop within a tick */
            }
            pthread_join(w->thread, NULL);
        }
        if (w->ep >= 0) {
            close(w->ep);
        }
        if (w->wake >= 0) {
            close(w->wake);
        }
    }
    if (f->acceptor_started) {
        pthread_join(f->acceptor, NULL);
    }
    pthread_mutex_lock(&f->lock);
    while (f->threads_live > 0) {
        pthread_cond_wait(&f->idle, &f->lock);
    }
    pthread_mutex_unlock(&f->lock);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->idle);
    if (f->lfd >= 0) {
        close(f->lfd);
    }
    SSL_CTX_free(f->tls);
    aipa_free(f->workers);
    aipa_free(f);
}

static void front_stop(struct aipa_srv *srv)
{
    aipa_srv_stop(srv);
}

aipa_err aipa_srv_start(struct aipa_srv *srv)
{
    aipa_err err = AIPA_ENOMEM;
    struct aipa__front *f;

    AIPA_ENSURE(srv != NULL && srv->front == NULL, AIPA_EINVAL);
    f = aipa_calloc(1, sizeof(*f));
    if (f == NULL) {
        return AIPA_ENOMEM;
    }
    f->srv = srv;
    f->lfd = -1;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->idle, NULL);
    err = tls_setup(f);
    if (err == AIPA_OK) {
        err = listen_on(f);
    }
    if (err == AIPA_OK) {
        raise_fd_limit(srv->cfg.max_connections);
        if (srv->cfg.thread_per_connection) {
            err = pthread_create(&f->acceptor, NULL, acceptor_main, f) == 0 ? AIPA_OK : AIPA_EIO;
            f->acceptor_started = err == AIPA_OK;
        } else {
            err = start_workers(f);
        }
    }
    if (err != AIPA_OK) {
        front_free(f);
        return err;
    }
    srv->front = f;
    srv->front_stop = front_stop;
    return AIPA_OK;
}

uint16_t aipa_srv_port(const struct aipa_srv *srv)
{
    return srv->front != NULL ? srv->front->port : 0;
}

void aipa_srv_stop(struct aipa_srv *srv)
{
    if (srv == NULL || srv->front == NULL) {
        return;
    }
    front_free(srv->front);
    srv->front = NULL;
    srv->front_stop = NULL;
}
