/*
 * The HTTP layer under attack, with raw sockets on loopback: request
 * smuggling (CL.TE, TE.CL, two Content-Lengths), broken framing, unknown
 * transfer codings, huge chunk sizes, the method before the path,
 * absolute-form targets, NUL bytes, HTTP/1.0, limit errors in the client's
 * format, the header deadline, and normal clients served while 2,000 slow
 * ones hold connections (docs/serve.md "HTTP framing").
 */
// clang-format off
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h> /* after setjmp.h, stdarg.h, stddef.h */
// clang-format on

#include "itest.h"

#define Q "/?Action=DescribeInstances&Version=2014-05-26&Format=JSON"

static int connect_to(uint16_t port)
{
    struct sockaddr_in sin;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    return fd;
}

struct exchange {
    char got[1 << 17];
    size_t len;
    bool closed; /* the server closed within the wait */
};

/* Reads until the server closes or wait_ms passes without a byte. */
static void read_all(int fd, int wait_ms, struct exchange *x)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN, .revents = 0};
        ssize_t r;

        if (poll(&p, 1, wait_ms) <= 0) {
            break;
        }
        r = recv(fd, x->got + x->len, sizeof(x->got) - 1 - x->len, 0);
        if (r <= 0) {
            x->closed = true;
            break;
        }
        x->len += (size_t)r;
    }
    x->got[x->len] = '\0';
}

/* Sends raw bytes on a new connection and collects what comes back. */
static void exchange(uint16_t port, const char *raw, size_t n, int wait_ms, struct exchange *x)
{
    int fd = connect_to(port);

    memset(x, 0, sizeof(*x));
    assert_int_equal(send(fd, raw, n, MSG_NOSIGNAL), (ssize_t)n);
    read_all(fd, wait_ms, x);
    close(fd);
}

static void exchange_str(uint16_t port, const char *raw, struct exchange *x)
{
    exchange(port, raw, strlen(raw), 3000, x);
}

static size_t answers(const struct exchange *x)
{
    size_t n = 0;

    for (const char *p = x->got; (p = strstr(p, "HTTP/1.1 ")) != NULL; p++) {
        n++;
    }
    return n;
}

/* Exactly one answer with this status, then the connection closed. */
static void one_answer_then_close(const struct exchange *x, int status)
{
    char line[32];

    snprintf(line, sizeof(line), "HTTP/1.1 %d ", status);
    if (strncmp(x->got, line, strlen(line)) != 0 || answers(x) != 1 || !x->closed) {
        print_error("expected one %d then close, got %zu bytes (closed %d):\n%s\n", status,
                    x->len, x->closed, x->got);
        fail();
    }
}

static void smuggling(void **state)
{
    static const char *const attacks[] = {
        /* CL.TE: the chunked body ends early; the rest would be a second request. */
        "POST " Q " HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\n\r\nGET " Q " HTTP/1.1\r\nHost: a\r\n\r\n",
        /* TE.CL */
        "POST " Q " HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 30\r\n\r\n"
        "0\r\n\r\nGET " Q " HTTP/1.1\r\nHost: a\r\n\r\n",
        /* Two Content-Lengths, the first 0: the second request hides in the body. */
        "POST " Q " HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 31\r\n\r\n"
        "GET " Q " HTTP/1.1\r\nHost: a\r\n\r\n",
        /* Equal ones, and a list, are refused too. */
        "POST " Q " HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        "POST " Q " HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc",
        /* Transfer-Encoding over HTTP/1.0 */
        "POST " Q " HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    };
    struct it_server s;

    (void)state;
    it_start(&s, NULL);
    for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
        struct exchange x;

        exchange_str(s.port, attacks[i], &x);
        one_answer_then_close(&x, 400);
        assert_non_null(strstr(x.got, "\"InvalidParameter\""));
        assert_non_null(strstr(x.got, "x-acs-request-id: "));
    }
    it_stop(&s);
}

static void bad_content_length(void **state)
{
    static const char *const values[] = {"18446744073709551617", "-5", "+5", "0x10", "1 2", "", "5a"};
    struct it_server s;

    (void)state;
    it_start(&s, NULL);
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char raw[256];
        struct exchange x;

        snprintf(raw, sizeof(raw), "POST " Q " HTTP/1.1\r\nHost: a\r\nContent-Length: %s\r\n\r\n",
                 values[i]);
        exchange_str(s.port, raw, &x);
        one_answer_then_close(&x, 400); /* one status line: never the header block twice */
        assert_non_null(strstr(x.got, "Content-Length"));
    }
    it_stop(&s);
}

static void transfer_codings(void **state)
{
    static const struct {
        const char *te;
        int status;
    } cases[] = {
        {"identity", 400},          /* chunked is not the final coding (RFC 9112 §6.3) */
        {"chunked, identity", 400}, /* likewise */
        {"gzip", 400},
        {"chunked, chunked", 400},
        {"gzip, chunked", 501}, /* a coding this server does not apply */
        {"x-unknown, chunked", 501},
    };
    struct it_server s;

    (void)state;
    it_start(&s, NULL);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char raw[256];
        struct exchange x;

        snprintf(raw, sizeof(raw),
                 "POST " Q " HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: %s\r\n\r\n3\r\nabc\r\n",
                 cases[i].te);
        exchange_str(s.port, raw, &x);
        one_answer_then_close(&x, cases[i].status);
    }
    it_stop(&s);
}

static void chunk_sizes(void **state)
{
    struct it_server s;
    struct exchange x;

    (void)state;
    it_start(&s, NULL);
    exchange_str(s.port,
                 "POST " Q " HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "ffffffffffffffff\r\n",
                 &x);
    one_answer_then_close(&x, 413);
    exchange_str(s.port,
                 "POST " Q " HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "1ffffffffffffffff\r\n",
                 &x);
    one_answer_then_close(&x, 413); /* 17 digits: past any size, refused as too large */
    exchange_str(s.port,
                 "POST " Q " HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", &x);
    one_answer_then_close(&x, 400);
    /*
     * "0x5" is no chunk size followed by an extension: a decoder that takes
     * it as a last chunk ends the body early, and the rest (the line, then a
     * smuggled GET) is read as trailers and another request. Found by
     * aipa fuzz --framing against picohttpparser's decoder.
     */
    exchange_str(s.port,
                 "POST " Q " HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "0x5\r\nA=b\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
                 &x);
    one_answer_then_close(&x, 400);
    /* A trailer line that is no field (no name, no colon) is as bad. */
    exchange_str(s.port,
                 "POST " Q " HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "0\r\nA=b\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
                 &x);
    one_answer_then_close(&x, 400);
    /* One chunk past the body limit (64 KiB): 413 as soon as its size is read. */
    exchange_str(s.port,
                 "POST " Q " HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "10001\r\n",
                 &x);
    one_answer_then_close(&x, 413);
    /* A good chunked body is read, with a trailer, and the connection kept. */
    exchange_str(s.port,
                 "POST " Q " HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "3;ext=1\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n"
                 "GET " Q " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                 &x);
    assert_int_equal(answers(&x), 2);
    assert_true(x.closed);
    it_stop(&s);
}

static void method_before_path(void **state)
{
    struct it_server s;
    struct exchange x;

    (void)state;
    it_start(&s, NULL);
    exchange_str(s.port, "DELETE /foo HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\n\r\n", &x);
    assert_non_null(strstr(x.got, "HTTP/1.1 403 "));
    assert_non_null(strstr(x.got, "\"UnsupportedHTTPMethod\""));
    exchange_str(s.port, "GET /foo HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\n\r\n", &x);
    assert_non_null(strstr(x.got, "HTTP/1.1 404 "));
    it_stop(&s);
}

static void odd_targets(void **state)
{
    struct it_server s;
    struct exchange x;

    (void)state;
    it_start(&s, NULL);
    /* absolute-form is answered as its path and query (RFC 9112 §3.2.2): not 404. */
    exchange_str(s.port,
                 "GET http://ecs.aliyuncs.com/?Format=JSON&Version=2014-05-26 HTTP/1.1\r\n"
                 "Host: other\r\n\r\n",
                 &x);
    assert_non_null(strstr(x.got, "HTTP/1.1 400 "));
    assert_non_null(strstr(x.got, "\"MissingParameter\""));
    exchange_str(s.port, "GET http://ecs.aliyuncs.com?Format=JSON HTTP/1.1\r\nHost: o\r\n\r\n", &x);
    assert_non_null(strstr(x.got, "\"MissingParameter\""));
    /* Neither origin- nor absolute-form: 400. */
    exchange_str(s.port, "GET foo HTTP/1.1\r\nHost: a\r\n\r\n", &x);
    one_answer_then_close(&x, 400);
    /* HTTP/1.1 without Host, or with two: 400 (RFC 9112 §3.2). */
    exchange_str(s.port, "GET " Q " HTTP/1.1\r\n\r\n", &x);
    one_answer_then_close(&x, 400);
    exchange_str(s.port, "GET " Q " HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &x);
    one_answer_then_close(&x, 400);
    it_stop(&s);
}

static void control_bytes(void **state)
{
    static const char nul[] = "GET " Q " HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n";
    static const char fold[] = "GET " Q " HTTP/1.1\r\nHost: a\r\nX-A: a\r\n b\r\n\r\n";
    static const char space[] = "GET " Q " HTTP/1.1\r\nHost : a\r\n\r\n";
    struct it_server s;
    struct exchange x;

    (void)state;
    it_start(&s, NULL);
    exchange(s.port, nul, sizeof(nul) - 1, 3000, &x);
    one_answer_then_close(&x, 400);
    exchange(s.port, fold, sizeof(fold) - 1, 3000, &x);
    one_answer_then_close(&x, 400);
    exchange(s.port, space, sizeof(space) - 1, 3000, &x);
    one_answer_then_close(&x, 400);
    it_stop(&s);
}

static void http10_and_pipelining(void **state)
{
    struct it_server s;
    struct exchange x;

    (void)state;
    it_start(&s, NULL);
    exchange_str(s.port, "GET " Q " HTTP/1.0\r\n\r\nGET " Q " HTTP/1.0\r\n\r\n", &x);
    assert_int_equal(answers(&x), 1); /* 1.0 closes after one answer */
    assert_true(x.closed);
    assert_non_null(strstr(x.got, "Connection: close"));
    exchange_str(s.port,
                 "GET " Q " HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                 "GET " Q " HTTP/1.0\r\n\r\n",
                 &x);
    assert_int_equal(answers(&x), 2);
    assert_true(x.closed);
    /* Three pipelined 1.1 requests, the last closing: three answers in order. */
    exchange_str(s.port,
                 "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n"
                 "DELETE / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                 &x);
    assert_int_equal(answers(&x), 3);
    assert_true(strstr(x.got, " 404 ") < strstr(x.got, " 403 "));
    assert_true(x.closed);
    /* HEAD: headers only. */
    exchange_str(s.port, "HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &x);
    assert_non_null(strstr(x.got, "HTTP/1.1 403 "));
    assert_true(x.len == (size_t)(strstr(x.got, "\r\n\r\n") + 4 - x.got));
    it_stop(&s);
}

/* Limit errors carry Code and RequestId in the format the client reads. */
static void limits_in_client_format(void **state)
{
    struct it_server s;
    struct exchange x;
    char *raw = malloc(40000);
    size_t n;

    (void)state;
    assert_non_null(raw);
    it_start(&s, NULL);
    /* pop-core's shape: a form POST with x-acs-action, Format=JSON inside the (unread) body. */
    exchange_str(s.port,
                 "POST / HTTP/1.1\r\nHost: a\r\nx-acs-action: DescribeInstances\r\n"
                 "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n",
                 &x);
    one_answer_then_close(&x, 413);
    assert_non_null(strstr(x.got, "application/json"));
    assert_non_null(strstr(x.got, "\"Code\":\"InvalidParameter\""));
    assert_non_null(strstr(x.got, "\"RequestId\":"));
    /* A request line past the URL limit, Format=JSON in its query: 414 in JSON. */
    n = (size_t)snprintf(raw, 40000, "GET /?Format=JSON&A=");
    memset(raw + n, 'a', 20000);
    n += 20000;
    n += (size_t)snprintf(raw + n, 40000 - n, " HTTP/1.1\r\nHost: a\r\n\r\n");
    exchange(s.port, raw, n, 3000, &x);
    one_answer_then_close(&x, 414);
    assert_non_null(strstr(x.got, "\"Code\":\"InvalidParameter\""));
    /* Headers past their limit, Accept JSON: 431 in JSON. */
    n = (size_t)snprintf(raw, 40000, "GET / HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\nX-Big: ");
    memset(raw + n, 'b', 30000);
    n += 30000;
    n += (size_t)snprintf(raw + n, 40000 - n, "\r\n\r\n");
    exchange(s.port, raw, n, 3000, &x);
    one_answer_then_close(&x, 431);
    assert_non_null(strstr(x.got, "\"Code\":\"InvalidParameter\""));
    /* Over 128 header lines: 431, not a parse error. */
    n = (size_t)snprintf(raw, 40000, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < 200; i++) {
        n += (size_t)snprintf(raw + n, 40000 - n, "X-%d: 1\r\n", i);
    }
    n += (size_t)snprintf(raw + n, 40000 - n, "\r\n");
    exchange(s.port, raw, n, 3000, &x);
    one_answer_then_close(&x, 431);
    free(raw);
    it_stop(&s);
}

static void short_header_deadline(struct aipa_srv_config *cfg)
{
    cfg->header_timeout_ms = 500;
}

/*
 * A client that sends its head one byte every 100 ms (well inside the idle
 * timeout) is cut off by the header deadline: every byte does not restart
 * it. The head is 60 bytes (6 s at that rate), the deadline 0.5 s.
 */
static void header_deadline(void **state)
{
    static const char head[] = "GET /?Action=DescribeInstances HTTP/1.1\r\nHost: aaaaaaaaaa\r\n\r\n";
    struct it_server s;
    struct exchange x;
    int fd;
    size_t sent = 0;

    (void)state;
    it_start(&s, short_header_deadline);
    fd = connect_to(s.port);
    memset(&x, 0, sizeof(x));
    for (; sent < sizeof(head) - 1 && !x.closed; sent++) {
        if (send(fd, head + sent, 1, MSG_NOSIGNAL) != 1) {
            break;
        }
        read_all(fd, 100, &x);
    }
    read_all(fd, 3000, &x);
    close(fd);
    assert_true(sent < sizeof(head) - 1);
    assert_true(x.closed);
    assert_int_equal(strncmp(x.got, "HTTP/1.1 408 ", 13), 0);
    it_stop(&s);
}

#define SLOW_CLIENTS  2000
#define NORMAL_CALLS  20

static void pool_mode(struct aipa_srv_config *cfg)
{
    cfg->thread_per_connection = false;
}

static void per_connection_mode(struct aipa_srv_config *cfg)
{
    cfg->thread_per_connection = true;
}

/*
 * 2,000 connections each holding an unfinished head (the default deadlines,
 * far longer than the test) do not keep a normal client out: every one of
 * its requests succeeds while they are open.
 */
static void slow_clients(void (*tweak)(struct aipa_srv_config *))
{
    static const char partial[] = "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ";
    struct it_server s;
    int *fds = calloc(SLOW_CLIENTS, sizeof(int));
    int ok = 0;

    assert_non_null(fds);
    it_start(&s, tweak);
    for (int i = 0; i < SLOW_CLIENTS; i++) {
        fds[i] = connect_to(s.port);
        assert_int_equal(send(fds[i], partial, sizeof(partial) - 1, MSG_NOSIGNAL),
                         (ssize_t)(sizeof(partial) - 1));
    }
    for (int i = 0; i < NORMAL_CALLS; i++) {
        struct it_resp r;

        it_v1(&s, "GET", false, IT_SECRET, KV("Action", "DescribeInstances", "Format", "JSON"),
              &r);
        ok += r.status == 200;
    }
    /* The slow ones are all still open (none was dropped to make room). */
    for (int i = 0; i < SLOW_CLIENTS; i++) {
        struct pollfd p = {.fd = fds[i], .events = POLLIN, .revents = 0};

        assert_int_equal(poll(&p, 1, 0), 0);
        close(fds[i]);
    }
    free(fds);
    it_stop(&s);
    assert_int_equal(ok, NORMAL_CALLS);
}

static void slow_clients_pool(void **state)
{
    (void)state;
    slow_clients(pool_mode);
}

static void slow_clients_per_connection(void **state)
{
    (void)state;
    slow_clients(per_connection_mode);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(smuggling),
        cmocka_unit_test(bad_content_length),
        cmocka_unit_test(transfer_codings),
        cmocka_unit_test(chunk_sizes),
        cmocka_unit_test(method_before_path),
        cmocka_unit_test(odd_targets),
        cmocka_unit_test(control_bytes),
        cmocka_unit_test(http10_and_pipelining),
        cmocka_unit_test(limits_in_client_format),
        cmocka_unit_test(header_deadline),
        cmocka_unit_test(slow_clients_pool),
        cmocka_unit_test(slow_clients_per_connection),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
