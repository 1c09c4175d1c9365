/*
 * The fixture protocol of conformance/FIXTURES.md: token guard, every
 * endpoint's round trip, and the paths disappearing when fixtures are off.
 */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h> /* after setjmp.h, stdarg.h, stddef.h */
// clang-format on

#include "itest.h"

#include <cjson/cJSON.h>

static cJSON *json_of(const struct it_resp *r)
{
    cJSON *doc = cJSON_Parse(r->body);

    assert_non_null(doc);
    assert_string_equal(r->content_type, "application/json;charset=utf-8");
    return doc;
}

static void token_required(void **state)
{
    struct it_resp r;
    char url[128];
    const char *const wrong[] = {"X-Aipa-Token: nope", NULL};
    const char *const longer[] = {"X-Aipa-Token: " IT_TOKEN "x", NULL};
    cJSON *doc;

    (void)state;
    snprintf(url, sizeof(url), "%s/_aipa/info", it_srv.base);
    it_http("GET", url, NULL, NULL, 0, 0, &r);
    assert_int_equal(r.status, 403);
    doc = json_of(&r);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(doc, "ok")));
    assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "error")));
    cJSON_Delete(doc);
    it_http("GET", url, wrong, NULL, 0, 0, &r);
    assert_int_equal(r.status, 403);
    it_http("GET", url, longer, NULL, 0, 0, &r);
    assert_int_equal(r.status, 403);
    /* A wrong token on an unknown path is still 403, never a hint. */
    snprintf(url, sizeof(url), "%s/_aipa/nothing", it_srv.base);
    it_http("GET", url, wrong, NULL, 0, 0, &r);
    assert_int_equal(r.status, 403);
}

static void info_and_edition(void **state)
{
    struct it_resp r;
    cJSON *doc;

    (void)state;
    it_fixture(&it_srv, "GET", "/_aipa/info", NULL, &r);
    assert_int_equal(r.status, 200);
    doc = json_of(&r);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(doc, "Edition")->valuestring,
                        "2024-12-20");
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(doc, "Protocol")->valuedouble, 1);
    cJSON_Delete(doc);

    it_fixture(&it_srv, "PUT", "/_aipa/edition", "{\"Edition\":\"2018-08-02\"}", &r);
    assert_int_equal(r.status, 200);
    it_fixture(&it_srv, "GET", "/_aipa/info", NULL, &r);
    assert_non_null(strstr(r.body, "\"2018-08-02\""));
    /* 2018: a second allocation is AllocatedAlready. */
    it_fixture(&it_srv, "POST", "/_aipa/reset", NULL, &r);
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "AllocatePublicIpAddress", "Format", "JSON", "InstanceId", "i-aipa-running"),
          &r);
    assert_int_equal(r.status, 200);
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "AllocatePublicIpAddress", "Format", "JSON", "InstanceId", "i-aipa-running"),
          &r);
    assert_int_equal(r.status, 403);
    assert_non_null(strstr(r.body, "\"AllocatedAlready\""));

    it_fixture(&it_srv, "PUT", "/_aipa/edition", "{\"Edition\":\"2024-12-20\"}", &r);
    assert_int_equal(r.status, 200);
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "AllocatePublicIpAddress", "Format", "JSON", "InstanceId", "i-aipa-running"),
          &r);
    assert_int_equal(r.status, 200);

    it_fixture(&it_srv, "PUT", "/_aipa/edition", "{\"Edition\":\"2020-01-01\"}", &r);
    assert_int_equal(r.status, 400);
    it_fixture(&it_srv, "PUT", "/_aipa/edition", "not json", &r);
    assert_int_equal(r.status, 400);
    it_fixture(&it_srv, "GET", "/_aipa/edition", NULL, &r);
    assert_int_equal(r.status, 405);
}

static void instances_state_reset(void **state)
{
    struct it_resp r;
    char id[64], ip[32], query[128];
    cJSON *doc;
    const char *body = "{\"InstanceId\":\"i-fixture-vpc\",\"Status\":\"Stopped\","
                       "\"InstanceNetworkType\":\"vpc\",\"InternetMaxBandwidthOut\":7}";

    (void)state;
    it_fixture(&it_srv, "POST", "/_aipa/reset", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"ok\":true}");

    it_fixture(&it_srv, "POST", "/_aipa/instances", body, &r);
    assert_int_equal(r.status, 201);
    it_field(&r, "InstanceId", id, sizeof(id));
    assert_string_equal(id, "i-fixture-vpc");
    /* The same id again: a conflict, with a reason. */
    it_fixture(&it_srv, "POST", "/_aipa/instances", body, &r);
    assert_true(r.status == 409 || r.status == 400);
    /* Bad bodies, each with a reason. */
    it_fixture(&it_srv, "POST", "/_aipa/instances", "{\"Status\":\"Bogus\"}", &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "Status"));
    it_fixture(&it_srv, "POST", "/_aipa/instances", "[1,2", &r);
    assert_int_equal(r.status, 400);
    /* Generated ids. */
    it_fixture(&it_srv, "POST", "/_aipa/instances", "{}", &r);
    assert_int_equal(r.status, 201);
    it_field(&r, "InstanceId", id, sizeof(id));
    assert_memory_equal(id, "i-", 2);

    /* The created instance is visible through the API... */
    snprintf(query, sizeof(query), "[\"i-fixture-vpc\"]");
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "DescribeInstances", "Format", "JSON", "InstanceIds", query), &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"i-fixture-vpc\""));
    assert_non_null(strstr(r.body, "\"Stopped\""));
    /* ...and in the state dump. */
    it_fixture(&it_srv, "GET", "/_aipa/state", NULL, &r);
    assert_int_equal(r.status, 200);
    doc = json_of(&r);
    assert_non_null(strstr(r.body, "\"i-fixture-vpc\""));
    cJSON_Delete(doc);

    /* Pool: set, exhaust, observe. */
    it_fixture(&it_srv, "PUT", "/_aipa/pool", "{\"Free\":1}", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"Free\":1}");
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "AllocatePublicIpAddress", "Format", "JSON", "InstanceId", "i-fixture-vpc"),
          &r);
    assert_int_equal(r.status, 200);
    it_field(&r, "IpAddress", ip, sizeof(ip));
    assert_true(ip[0] != '\0');
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "AllocatePublicIpAddress", "Format", "JSON", "InstanceId", "i-aipa-running"),
          &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"InsufficientPublicIp\""));
    it_fixture(&it_srv, "PUT", "/_aipa/pool", "{\"Free\":-1}", &r);
    assert_int_equal(r.status, 400);
    it_fixture(&it_srv, "PUT", "/_aipa/pool", "{\"Free\":\"3\"}", &r);
    assert_int_equal(r.status, 400);
    it_fixture(&it_srv, "PUT", "/_aipa/pool", "{\"Free\":1.5}", &r);
    assert_int_equal(r.status, 400);

    /* Reset: the created instance is gone, the seed ones are back, the pool refilled. */
    it_fixture(&it_srv, "POST", "/_aipa/reset", NULL, &r);
    assert_int_equal(r.status, 200);
    it_fixture(&it_srv, "GET", "/_aipa/state", NULL, &r);
    assert_null(strstr(r.body, "\"i-fixture-vpc\""));
    assert_non_null(strstr(r.body, "\"i-aipa-running\""));
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "AllocatePublicIpAddress", "Format", "JSON", "InstanceId", "i-aipa-running"),
          &r);
    assert_int_equal(r.status, 200);
}

static void reset_clears_nonces(void **state)
{
    struct it_resp r;
    char nonce[48];

    (void)state;
    it_nonce(nonce);
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "DescribeInstances", "Format", "JSON", "SignatureNonce", nonce), &r);
    assert_int_equal(r.status, 200);
    it_fixture(&it_srv, "POST", "/_aipa/reset", NULL, &r);
    assert_int_equal(r.status, 200);
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "DescribeInstances", "Format", "JSON", "SignatureNonce", nonce), &r);
    assert_int_equal(r.status, 200);
}

static void unknown_paths_and_methods(void **state)
{
    struct it_resp r;

    (void)state;
    it_fixture(&it_srv, "GET", "/_aipa/nothing", NULL, &r);
    assert_int_equal(r.status, 404);
    it_fixture(&it_srv, "GET", "/_aipa/reset", NULL, &r);
    assert_int_equal(r.status, 405);
    it_fixture(&it_srv, "DELETE", "/_aipa/state", NULL, &r);
    assert_int_equal(r.status, 405);
}

static void fixtures_off(struct aipa_srv_config *cfg)
{
    cfg->fixtures = false;
}

static void off_means_unknown_path(void **state)
{
    struct it_server s;
    struct it_resp r;

    (void)state;
    it_start(&s, fixtures_off);
    it_fixture(&s, "GET", "/_aipa/info", NULL, &r);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "InvalidAction.NotFound"));
    it_fixture(&s, "POST", "/_aipa/reset", NULL, &r);
    assert_int_equal(r.status, 404);
    it_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(token_required),
        cmocka_unit_test(info_and_edition),
        cmocka_unit_test(instances_state_reset),
        cmocka_unit_test(reset_clears_nonces),
        cmocka_unit_test(unknown_paths_and_methods),
        cmocka_unit_test(off_means_unknown_path),
    };

    return cmocka_run_group_tests(tests, it_suite_setup, it_suite_teardown);
}
