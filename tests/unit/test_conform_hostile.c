/*
 * The runner against a hostile target (a canned-response server on
 * 127.0.0.1, port 0): entity bombs, DOCTYPEs, control bytes and markup in
 * bodies, truncated and oversized responses, garbage instead of HTTP, and a
 * target that never answers. Every one must end as a clear fail (or, for an
 * unreachable target, an error), never a crash or a hang, and the reports
 * must stay well-formed with the hostile bytes escaped. Profiles load from
 * the repository and malformed ones are rejected.
 */
/* cmocka needs the four headers before it. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include "aipa/conform.h"

#include <arpa/inet.h>
#include <libxml/parser.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a canned-response server ---- */

struct canned {
    int fd;
    uint16_t port;
    const char *response; /* sent after the request headers; NULL: never answer */
    size_t response_len;
    volatile int stop;
    pthread_t th;
};

static void *serve(void *arg)
{
    struct canned *s = arg;

    while (!s->stop) {
        struct pollfd p = {s->fd, POLLIN, 0};
        char buf[65536];
        size_t got = 0;
        int c;

        if (poll(&p, 1, 100) <= 0) {
            continue;
        }
        c = accept(s->fd, NULL, NULL);
        if (c < 0) {
            continue;
        }
        /* Read until the end of the headers (bounded in bytes and time). */
        for (int i = 0; i < 50 && got < sizeof(buf) - 1; i++) {
            struct pollfd q = {c, POLLIN, 0};
            ssize_t n;

            if (poll(&q, 1, 100) <= 0) {
                continue;
            }
            n = recv(c, buf + got, sizeof(buf) - 1 - got, 0);
            if (n <= 0) {
                break;
            }
            got += (size_t)n;
            buf[got] = '\0';
            if (strstr(buf, "\r\n\r\n") != NULL) {
                break;
            }
        }
        if (s->response != NULL) {
            size_t off = 0;

            while (off < s->response_len) {
                ssize_t n = send(c, s->response + off, s->response_len - off, MSG_NOSIGNAL);

                if (n <= 0) {
                    break;
                }
                off += (size_t)n;
            }
        } else {
            usleep(1500 * 1000); /* longer than the runner's timeout */
        }
        close(c);
    }
    return NULL;
}

static void canned_start(struct canned *s, const char *response, size_t len)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);

    memset(s, 0, sizeof(*s));
    s->response = response;
    s->response_len = len;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->fd, 16), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
}

static void canned_stop(struct canned *s)
{
    s->stop = 1;
    pthread_join(s->th, NULL);
    close(s->fd);
}

/* ---- running one case against it ---- */

static const char CASE[] =
    "{\"id\": \"h/one\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": \"s\"},"
    " \"level\": \"MUST\", \"variants\": {\"signature\": [\"v1\"], \"shape\": [\"get\"]},"
    " \"steps\": [{\"request\": {\"Action\": \"AllocatePublicIpAddress\", \"InstanceId\": "
    "\"i-x\"}, \"expect\": [{\"status\": 200, \"fields\": {\"IpAddress\": {\"is\": "
    "\"ipv4\"}}}]}]}";

static void run_against(const char *response, size_t len, enum aipa_verdict want,
                        const char *reason_part)
{
    struct canned srv;
    struct aipa_suite s;
    struct aipa_report r;
    struct aipa_run_opts o;
    struct aipa_profile p;
    struct aipa_case *c = NULL;
    struct aipa_buf err, out;
    char url[64];
    xmlDocPtr doc;

    canned_start(&srv, response, len);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)srv.port);
    aipa_buf_init(&err, 1 << 16);
    aipa_buf_init(&out, 1 << 26);
    assert_int_equal(aipa_case_parse(CASE, strlen(CASE), "h.json", &c, &err), AIPA_OK);
    aipa_suite_init(&s);
    assert_int_equal(aipa_suite_add(&s, c), AIPA_OK);
    assert_int_equal(aipa_profile_init(&p), AIPA_OK);
    assert_int_equal(aipa_profile_set_principal(&p, "default", "id", "a-secret-value"), AIPA_OK);
    aipa_report_init(&r);
    r.editions = AIPA_ED_2024;
    aipa_run_opts_init(&o);
    o.profile = &p;
    o.target = url;
    o.timeout_ms = 700;
    assert_int_equal(aipa_run_suite(&s, &o, &r, &err), AIPA_OK);
    assert_int_equal(r.count, 2); /* xml and json */
    for (size_t i = 0; i < r.count; i++) {
        if (r.items[i].verdict != want ||
            (reason_part != NULL && strstr(r.items[i].reason, reason_part) == NULL)) {
            print_error("wanted %s with \"%s\", got %s: %s\n", aipa_verdict_name(want),
                        reason_part != NULL ? reason_part : "",
                        aipa_verdict_name(r.items[i].verdict),
                        r.items[i].reason != NULL ? r.items[i].reason : "");
            fail();
        }
    }
    /* The reports stay well-formed, with nothing of the target as markup. */
    assert_int_equal(aipa_report_write_junit(&r, &out), AIPA_OK);
    doc = xmlReadMemory(out.ptr, (int)out.len, "j.xml", NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    xmlFreeDoc(doc);
    aipa_buf_reset(&out);
    assert_int_equal(aipa_report_write_html(&r, &out), AIPA_OK);
    assert_null(strstr(out.ptr, "<script"));
    assert_null(strstr(out.ptr, "<!ENTITY"));
    aipa_buf_reset(&out);
    assert_int_equal(aipa_report_write_json(&r, &out), AIPA_OK);
    cJSON_Delete(cJSON_Parse(out.ptr) /* must parse */);
    assert_null(strstr(out.ptr, "a-secret-value"));
    aipa_report_cleanup(&r);
    aipa_suite_cleanup(&s);
    aipa_profile_cleanup(&p);
    aipa_buf_cleanup(&err);
    aipa_buf_cleanup(&out);
    canned_stop(&srv);
}

static void respond(const char *ct, const char *body, enum aipa_verdict want, const char *part)
{
    char buf[8192];
    int n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nConnection: close\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     ct, strlen(body), body);

    assert_true(n > 0 && (size_t)n < sizeof(buf));
    run_against(buf, (size_t)n, want, part);
}

static void entity_bomb_and_doctype(void **state)
{
    (void)state;
    respond("text/xml",
            "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b "
            "\"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>"
            "<AllocatePublicIpAddressResponse><IpAddress>&c;</IpAddress>"
            "</AllocatePublicIpAddressResponse>",
            AIPA_V_FAIL, "did not parse");
    respond("text/xml",
            "<!DOCTYPE r SYSTEM \"http://127.0.0.1:1/x.dtd\"><r><IpAddress>1.2.3.4</IpAddress></r>",
            AIPA_V_FAIL, "did not parse");
}

static void markup_and_control_bytes(void **state)
{
    (void)state;
    respond("application/json",
            "{\"RequestId\": \"<script>alert(1)</script>\", \"IpAddress\": \"\\u001b[31m<b>\", "
            "\"Code\": \"\\u0000x\"}",
            AIPA_V_FAIL, "IpAddress: expected is ipv4");
    respond("application/json", "{\"IpAddress\": \"\xff\xfe not utf8\"}", AIPA_V_FAIL, NULL);
    respond("text/html", "<html><script>alert(1)</script></html>", AIPA_V_FAIL, NULL);
}

static void broken_http(void **state)
{
    static const char truncated[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                    "Content-Length: 1000\r\n\r\n{\"IpAddress\"";
    static const char garbage[] = "\x16\x03\x01\x02\x00 not http at all\r\n\r\n";
    static const char no_body[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

    (void)state;
    run_against(truncated, sizeof(truncated) - 1, AIPA_V_FAIL, "no response");
    run_against(garbage, sizeof(garbage) - 1, AIPA_V_FAIL, "no response");
    run_against(no_body, sizeof(no_body) - 1, AIPA_V_FAIL, "empty body");
}

static void oversized_and_silent(void **state)
{
    size_t n = 9u * 1024u * 1024u;
    char *big = malloc(n + 256);
    int h;

    (void)state;
    assert_non_null(big);
    h = snprintf(big, 256,
                 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                 n);
    memset(big + h, ' ', n);
    run_against(big, (size_t)h + n, AIPA_V_FAIL, "no response");
    free(big);
    run_against(NULL, 0, AIPA_V_FAIL, "no response"); /* never answers: the timeout */
}

static void profiles_load(void **state)
{
    struct aipa_profile p;
    struct aipa_buf err;
    char path[4096];
    static const char *const bad[] = {
        "[]",
        "{\"targt\": \"x\"}",
        "{\"target\": \"ftp://x\"}",
        "{\"edition\": \"2020\"}",
        "{\"variants\": {\"signature\": [\"v9\"]}}",
        "{\"credentials\": {\"default\": {\"id\": \"x\", \"secret\": \"y\"}}}",
        "{\"fixtures\": {\"protocol\": true, \"token_env\": \"AIPA_TEST_UNSET_VARIABLE\"}}",
        "{\"fixtures\": {\"static\": {\"vm\": 5}}}",
        "{\"timeout_ms\": 0}",
        "{\"skip\": [1]}",
    };

    (void)state;
    aipa_buf_init(&err, 4096);
    setenv("AIPA_FIXTURE_TOKEN", "tok", 1);
    setenv("AIPA_ACCESS_KEY_ID", "id1", 1);
    setenv("AIPA_ACCESS_KEY_SECRET", "secret1", 1);
    setenv("AIPA_WL_KEY_ID", "id2", 1);
    setenv("AIPA_WL_KEY_SECRET", "secret2", 1);
    unsetenv("AIPA_INACTIVE_KEY_ID");
    unsetenv("AIPA_TEST_UNSET_VARIABLE");
    assert_int_equal(aipa_profile_init(&p), AIPA_OK);
    snprintf(path, sizeof(path), "%s/conformance/profiles/reference.json", AIPA_SOURCE_DIR);
    if (aipa_profile_load(&p, path, &err) != AIPA_OK) {
        print_error("%s\n", err.ptr);
        fail();
    }
    assert_true(p.fixture_protocol);
    assert_string_equal(p.fixture_token, "tok");
    assert_string_equal(aipa_profile_principal(&p, "default")->secret, "secret1");
    assert_string_equal(aipa_profile_principal(&p, "whitelisted")->access_key_id, "id2");
    assert_null(aipa_profile_principal(&p, "inactive")); /* its variables are unset */
    aipa_profile_cleanup(&p);

    assert_int_equal(aipa_profile_init(&p), AIPA_OK);
    snprintf(path, sizeof(path), "%s/conformance/profiles/static-example.json", AIPA_SOURCE_DIR);
    assert_int_equal(aipa_profile_load(&p, path, &err), AIPA_OK);
    assert_false(p.fixture_protocol);
    assert_non_null(p.static_fixtures);
    assert_int_equal(p.edition, AIPA_ED_2024);
    assert_int_equal(p.variants.shape, AIPA_VSHAPE_GET | AIPA_VSHAPE_POST_QUERY);
    assert_int_equal(p.skip_count, 2);
    aipa_profile_cleanup(&p);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(aipa_profile_init(&p), AIPA_OK);
        aipa_buf_reset(&err);
        if (aipa_profile_parse(&p, bad[i], strlen(bad[i]), "p.json", &err) == AIPA_OK) {
            print_error("accepted: %s\n", bad[i]);
            fail();
        }
        assert_non_null(strstr(err.ptr, "p.json"));
        aipa_profile_cleanup(&p);
    }
    aipa_buf_cleanup(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(entity_bomb_and_doctype),
        cmocka_unit_test(markup_and_control_bytes),
        cmocka_unit_test(broken_http),
        cmocka_unit_test(oversized_and_silent),
        cmocka_unit_test(profiles_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
