/*
 * Request limits (URL, headers, body, parameters, connections, slow clients)
 * answered as docs/serve.md documents, and the server serving normally after.
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

static void still_serving(const struct it_server *s)
{
    struct it_resp r;

    it_v1(s, "GET", false, IT_SECRET,
          KV("Action", "AllocatePublicIpAddress", "Format", "JSON", "InstanceId", "i-aipa-running"),
          &r);
    it_expect(&r, 200, "");
}

static char *filled(size_t n, char c)
{
    char *p = malloc(n + 1);

    assert_non_null(p);
    memset(p, c, n);
    p[n] = '\0';
    return p;
}

static void oversized_url(void **state)
{
    struct it_server s;
    struct it_resp r;
    char *pad, *url;
    char msg[256];

    (void)state;
    it_start(&s, NULL);
    /* Over max_url_len (16 KiB) but inside MHD's pool: the documented error body. */
    pad = filled(20 * 1024, 'a');
    url = malloc(strlen(pad) + 128);
    assert_non_null(url);
    snprintf(url, strlen(pad) + 128, "%s/?Format=JSON&Pad=%s", s.base, pad);
    it_http("GET", url, NULL, NULL, 0, 0, &r);
    it_expect(&r, 414, "InvalidParameter");
    it_field(&r, "Message", msg, sizeof(msg));
    assert_non_null(strstr(msg, "\"URL\""));
    /* The query is not parsed, yet the answer is in the format it asked for. */
    assert_string_equal(r.content_type, "application/json;charset=utf-8");
    free(url);
    free(pad);
    /* Far past the pool: libmicrohttpd refuses it itself (414) and closes. */
    pad = filled(400 * 1024, 'a');
    url = malloc(strlen(pad) + 128);
    assert_non_null(url);
    snprintf(url, strlen(pad) + 128, "%s/?Pad=%s", s.base, pad);
    it_http("GET", url, NULL, NULL, 0, 0, &r);
    assert_true(r.status == 414 || r.status == 0);
    free(url);
    free(pad);
    still_serving(&s);
    it_stop(&s);
}

static void oversized_headers(void **state)
{
    struct it_server s;
    struct it_resp r;
    char *big, *line;
    char url[128];
    const char *hdrs[80];

    (void)state;
    it_start(&s, NULL);
    snprintf(url, sizeof(url), "%s/?Format=JSON", s.base);
    big = filled(20 * 1024, 'b');
    line = malloc(strlen(big) + 16);
    assert_non_null(line);
    snprintf(line, strlen(big) + 16, "X-Big: %s", big);
    hdrs[0] = line;
    hdrs[1] = NULL;
    it_http("GET", url, hdrs, NULL, 0, 0, &r);
    it_expect(&r, 431, "InvalidParameter");
    free(line);
    free(big);
    /* Too many header fields. */
    {
        static char names[70][32];

        for (size_t i = 0; i < 70; i++) {
            snprintf(names[i], sizeof(names[i]), "X-H%zu: v", i);
            hdrs[i] = names[i];
        }
        hdrs[70] = NULL;
        it_http("GET", url, hdrs, NULL, 0, 0, &r);
        it_expect(&r, 431, "InvalidParameter");
    }
    /* Far past the pool: libmicrohttpd's own 431 (or a close). */
    big = filled(400 * 1024, 'b');
    line = malloc(strlen(big) + 16);
    assert_non_null(line);
    snprintf(line, strlen(big) + 16, "X-Big: %s", big);
    hdrs[0] = line;
    hdrs[1] = NULL;
    it_http("GET", url, hdrs, NULL, 0, 0, &r);
    assert_true(r.status == 431 || r.status == 0);
    free(line);
    free(big);
    still_serving(&s);
    it_stop(&s);
}

static void oversized_body(void **state)
{
    struct it_server s;
    struct it_resp r;
    char *body;
    char url[128];
    const char *const form[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    const char *const chunked[] = {"Content-Type: application/x-www-form-urlencoded",
                                   "Transfer-Encoding: chunked", NULL};

    (void)state;
    it_start(&s, NULL);
    snprintf(url, sizeof(url), "%s/?Format=JSON", s.base);
    body = filled(100 * 1024, 'c');
    memcpy(body, "Pad=", 4);
    /* A declared length past the limit is refused before the body is read. */
    it_http("POST", url, form, body, strlen(body), 0, &r);
    it_expect(&r, 413, "InvalidParameter");
    /* A chunked body past the limit: the connection is closed. */
    it_http("POST", url, chunked, body, strlen(body), 0, &r);
    assert_true(r.status == 0 || r.status == 413);
    free(body);
    still_serving(&s);
    it_stop(&s);
}

static void too_many_parameters(void **state)
{
    struct it_server s;
    struct it_resp r;
    char *url = malloc(64 * 1024);
    size_t n;
    char msg[256];

    (void)state;
    assert_non_null(url);
    it_start(&s, NULL);
    n = (size_t)snprintf(url, 64 * 1024, "%s/?Format=JSON", s.base);
    for (int i = 0; i < 200; i++) {
        n += (size_t)snprintf(url + n, 64 * 1024 - n, "&P%d=%d", i, i);
    }
    it_http("GET", url, NULL, NULL, 0, 0, &r);
    it_expect(&r, 400, "InvalidParameter");
    /* A malformed escape names the parameter. */
    snprintf(url, 64 * 1024, "%s/?Format=JSON&Action=Describe%%zzInstances", s.base);
    it_http("GET", url, NULL, NULL, 0, 0, &r);
    it_expect(&r, 400, "InvalidParameter");
    it_field(&r, "Message", msg, sizeof(msg));
    assert_non_null(strstr(msg, "Action"));
    /* The same name twice. */
    snprintf(url, 64 * 1024, "%s/?Format=JSON&Action=A&Action=B", s.base);
    it_http("GET", url, NULL, NULL, 0, 0, &r);
    it_expect(&r, 400, "InvalidParameter");
    free(url);
    still_serving(&s);
    it_stop(&s);
}

static int connect_raw(uint16_t port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void short_timeout(struct aipa_srv_config *cfg)
{
    cfg->connection_timeout_s = 2;
}

#define SLOW_CLIENTS 300

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void short_timeout_pool(struct aipa_srv_config *cfg)
{
    cfg->connection_timeout_s = 2;
    cfg->thread_per_connection = false;
}

/* Slowloris: many connections that never finish their headers. */
static void slow_clients(void (*tweak)(struct aipa_srv_config *))
{
    struct it_server s;
    int fds[SLOW_CLIENTS];
    size_t open_count = 0;
    double t0;

    it_start(&s, tweak);
    for (size_t i = 0; i < SLOW_CLIENTS; i++) {
        static const char partial[] = "GET /?Action=DescribeInstances HTTP/1.1\r\nHost: x\r\nX-A";

        fds[i] = connect_raw(s.port);
        if (fds[i] >= 0) {
            assert_true(send(fds[i], partial, sizeof(partial) - 1, MSG_NOSIGNAL) > 0);
            open_count++;
        }
    }
    assert_int_equal(open_count, SLOW_CLIENTS);
    /* A normal client is served at once, several times over. */
    t0 = now_s();
    for (int i = 0; i < 5; i++) {
        still_serving(&s);
    }
    assert_true(now_s() - t0 < 2.0);
    /* The slow ones are closed by the per-connection timeout (2 s here). */
    {
        size_t closed = 0;
        double deadline = now_s() + 8.0;

        for (size_t i = 0; i < SLOW_CLIENTS; i++) {
            struct pollfd p = {fds[i], POLLIN, 0};
            int left = (int)((deadline - now_s()) * 1000.0);
            char b[256];

            if (left > 0 && poll(&p, 1, left) == 1 && recv(fds[i], b, sizeof(b), 0) <= 0) {
                closed++;
            }
            close(fds[i]);
        }
        assert_int_equal(closed, SLOW_CLIENTS);
    }
    still_serving(&s);
    it_stop(&s);
}

static void slow_clients_thread_per_connection(void **state)
{
    (void)state;
    slow_clients(short_timeout);
}

static void slow_clients_epoll_pool(void **state)
{
    (void)state;
    slow_clients(short_timeout_pool);
}

static void few_connections(struct aipa_srv_config *cfg)
{
    cfg->max_connections = 20;
    cfg->connection_timeout_s = 30;
}

static void connection_limit(void **state)
{
    struct it_server s;
    int fds[20];
    struct it_resp r;
    char url[128];

    (void)state;
    it_start(&s, few_connections);
    for (size_t i = 0; i < 20; i++) {
        fds[i] = connect_raw(s.port);
        assert_true(fds[i] >= 0);
    }
    usleep(200 * 1000);
    /* Over the limit: refused (closed), never queued forever. */
    snprintf(url, sizeof(url), "%s/?Format=JSON", s.base);
    it_http("GET", url, NULL, NULL, 0, 2000, &r);
    assert_int_equal(r.status, 0);
    for (size_t i = 0; i < 20; i++) {
        close(fds[i]);
    }
    usleep(300 * 1000);
    still_serving(&s);
    it_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(oversized_url),
        cmocka_unit_test(oversized_headers),
        cmocka_unit_test(oversized_body),
        cmocka_unit_test(too_many_parameters),
        cmocka_unit_test(slow_clients_thread_per_connection),
        cmocka_unit_test(slow_clients_epoll_pool),
        cmocka_unit_test(connection_limit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
