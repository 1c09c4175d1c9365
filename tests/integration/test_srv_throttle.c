/*
 * --throttle: each AccessKeyId gets its own token bucket; a request that
 * finds it empty is answered 400 Throttling.User, in the asked format,
 * with x-acs-retry-after naming the wait in milliseconds; waiting that long
 * admits the next one; other keys and the fixture protocol are unaffected;
 * the fixture reset refills every bucket. The rate is low (0.5/s, burst 2) so
 * that a slow machine cannot refill a bucket between two requests.
 */
/* cmocka needs the four headers before it. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include "itest.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void slow_rate(struct aipa_srv_config *cfg)
{
    cfg->throttle_rate = 0.5;
    cfg->throttle_burst = 2;
}

static void describe(const struct it_server *s, const char *key, const char *secret,
                     struct it_resp *r)
{
    it_v1(s, "GET", false, secret,
          KV("Action", "DescribeInstances", "Format", "JSON", "AccessKeyId", key), r);
}

static void assert_throttled(const struct it_resp *r)
{
    cJSON *doc = cJSON_Parse(r->body);
    long ms = strtol(r->retry_after, NULL, 10);

    assert_int_equal(r->status, 400);
    assert_non_null(doc);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "Code")),
                        "Throttling.User");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "Message")),
                        "Request was denied due to user flow control.");
    /* Burst spent at 0.5/s: the next token is at most two seconds away. */
    assert_true(ms >= 1 && ms <= 2001);
    cJSON_Delete(doc);
}

static void burst_then_throttled_then_admitted(void **state)
{
    struct it_server s;
    struct it_resp r;
    struct timespec wait;
    long ms;

    (void)state;
    it_start(&s, slow_rate);
    describe(&s, "testid", IT_SECRET, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.retry_after, "");
    describe(&s, "testid", IT_SECRET, &r);
    assert_int_equal(r.status, 200);
    describe(&s, "testid", IT_SECRET, &r);
    assert_throttled(&r);
    ms = strtol(r.retry_after, NULL, 10);

    /* Another key has its own bucket. */
    describe(&s, "wl", "wlsecret", &r);
    assert_int_equal(r.status, 200);

    /* Waiting what the server asked for admits the next request. */
    wait.tv_sec = ms / 1000;
    wait.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&wait, NULL);
    describe(&s, "testid", IT_SECRET, &r);
    assert_int_equal(r.status, 200);
    it_stop(&s);
}

static void fixtures_are_not_throttled_and_reset_refills(void **state)
{
    struct it_server s;
    struct it_resp r;

    (void)state;
    it_start(&s, slow_rate);
    for (int i = 0; i < 2; i++) {
        describe(&s, "testid", IT_SECRET, &r);
        assert_int_equal(r.status, 200);
    }
    for (int i = 0; i < 5; i++) {
        it_fixture(&s, "GET", "/_aipa/info", NULL, &r);
        assert_int_equal(r.status, 200);
    }
    describe(&s, "testid", IT_SECRET, &r);
    assert_throttled(&r);
    it_fixture(&s, "POST", "/_aipa/reset", NULL, &r);
    assert_int_equal(r.status, 200);
    describe(&s, "testid", IT_SECRET, &r);
    assert_int_equal(r.status, 200);
    it_stop(&s);
}

static void xml_when_xml_was_asked(void **state)
{
    struct it_server s;
    struct it_resp r;

    (void)state;
    it_start(&s, slow_rate);
    for (int i = 0; i < 3; i++) {
        it_v1(&s, "GET", false, IT_SECRET, KV("Action", "DescribeInstances"), &r);
    }
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.content_type, "text/xml"));
    assert_non_null(strstr(r.body, "<Code>Throttling.User</Code>"));
    assert_true(r.retry_after[0] != '\0');
    it_stop(&s);
}

static void off_by_default(void **state)
{
    struct it_server s;
    struct it_resp r;

    (void)state;
    it_start(&s, NULL);
    for (int i = 0; i < 20; i++) {
        describe(&s, "testid", IT_SECRET, &r);
        assert_int_equal(r.status, 200);
    }
    it_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(burst_then_throttled_then_admitted),
        cmocka_unit_test(fixtures_are_not_throttled_and_reset_refills),
        cmocka_unit_test(xml_when_xml_was_asked),
        cmocka_unit_test(off_by_default),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
