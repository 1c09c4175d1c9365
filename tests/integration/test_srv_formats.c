/*
 * Response format selection (Format, else Accept, else XML for V1 / JSON for
 * V3), the four request shapes (GET, POST query, POST form, V3), RequestIds,
 * and dispatch of every action with its required parameters.
 */
// clang-format off
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h> /* after setjmp.h, stdarg.h, stddef.h */
// clang-format on

#include "aipa/sign.h"
#include "itest.h"

#include <cjson/cJSON.h>
#include <libxml/parser.h>

static void is_json(const struct it_resp *r)
{
    cJSON *doc = cJSON_Parse(r->body);

    assert_string_equal(r->content_type, "application/json;charset=utf-8");
    assert_non_null(doc);
    cJSON_Delete(doc);
}

static void is_xml(const struct it_resp *r, const char *root)
{
    xmlDocPtr doc = xmlReadMemory(r->body, (int)strlen(r->body), "r.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

    assert_string_equal(r->content_type, "text/xml;charset=utf-8");
    assert_non_null(doc);
    assert_string_equal((const char *)xmlDocGetRootElement(doc)->name, root);
    xmlFreeDoc(doc);
}

static void format_parameter(void **state)
{
    struct it_resp r;
    static const char *const json[] = {"json", "JSON", "Json", NULL};
    static const char *const xml[] = {"xml", "XML", "XmL", NULL};

    (void)state;
    for (size_t i = 0; json[i] != NULL; i++) {
        it_v1(&it_srv, "GET", false, IT_SECRET,
              KV("Action", "DescribeInstances", "Format", json[i]), &r);
        assert_int_equal(r.status, 200);
        is_json(&r);
    }
    for (size_t i = 0; xml[i] != NULL; i++) {
        it_v1(&it_srv, "GET", false, IT_SECRET, KV("Action", "DescribeInstances", "Format", xml[i]),
              &r);
        assert_int_equal(r.status, 200);
        is_xml(&r, "DescribeInstancesResponse");
    }
    it_v1(&it_srv, "GET", false, IT_SECRET, KV("Action", "DescribeInstances", "Format", "yaml"),
          &r);
    assert_int_equal(r.status, 400);
    is_xml(&r, "Error");
    assert_non_null(strstr(r.body, "<Code>InvalidParameter.Format</Code>"));
    /* A request refused while its parameters are parsed still gets the format it asked for. */
    {
        char url[160];

        snprintf(url, sizeof(url), "%s/?Format=json&InstanceId=%%ff&Action=X", it_srv.base);
        it_http("GET", url, NULL, NULL, 0, 0, &r);
        assert_int_equal(r.status, 400);
        is_json(&r);
        snprintf(url, sizeof(url), "%s/?Bad=%%zz&Format=XML", it_srv.base);
        it_http("GET", url, (const char *const[]){"Accept: application/json", NULL}, NULL, 0, 0,
                &r);
        assert_int_equal(r.status, 400);
        is_xml(&r, "Error");
    }
    /* No Format, no Accept: XML for V1. */
    it_v1(&it_srv, "GET", false, IT_SECRET, KV("Action", "DescribeInstances"), &r);
    assert_int_equal(r.status, 200);
    is_xml(&r, "DescribeInstancesResponse");
}

static void accept_header(void **state)
{
    struct it_resp r;
    char url[128];
    const char *const json[] = {"Accept: application/json", NULL};
    const char *const xml[] = {"Accept: text/xml", NULL};

    (void)state;
    snprintf(url, sizeof(url), "%s/?Action=Nope", it_srv.base);
    it_http("GET", url, json, NULL, 0, 0, &r);
    assert_int_equal(r.status, 400);
    is_json(&r);
    it_http("GET", url, xml, NULL, 0, 0, &r);
    is_xml(&r, "Error");
    /* Format wins over Accept. */
    snprintf(url, sizeof(url), "%s/?Action=Nope&Format=XML", it_srv.base);
    it_http("GET", url, json, NULL, 0, 0, &r);
    is_xml(&r, "Error");
    /* V3 without Format: JSON; with Accept xml: XML; with Format=XML: XML. */
    it_v3(&it_srv, "POST", "DescribeInstances", IT_SECRET, NULL, NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    is_json(&r);
    it_v3(&it_srv, "POST", "DescribeInstances", IT_SECRET, NULL, NULL,
          KV("Accept", "application/xml"), NULL, &r);
    assert_int_equal(r.status, 200);
    is_xml(&r, "DescribeInstancesResponse");
    it_v3(&it_srv, "POST", "DescribeInstances", IT_SECRET, KV("Format", "XML"), NULL, NULL, NULL,
          &r);
    assert_int_equal(r.status, 200);
    is_xml(&r, "DescribeInstancesResponse");
}

static void four_shapes(void **state)
{
    struct it_resp r;
    static const char *const ids[] = {"i-aipa-running", "i-aipa-stopped-vpc",
                                      "i-bp1gtjxuuvwj17zr0001"};
    char ip[32];

    (void)state;
    it_fixture(&it_srv, "POST", "/_aipa/reset", NULL, &r);
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "AllocatePublicIpAddress", "Format", "JSON", "InstanceId", ids[0]), &r);
    assert_int_equal(r.status, 200);
    it_v1(&it_srv, "POST", false, IT_SECRET,
          KV("Action", "AllocatePublicIpAddress", "Format", "JSON", "InstanceId", ids[1],
             "RegionId", "cn-hangzhou", "OwnerId", "1234567890123"),
          &r);
    assert_int_equal(r.status, 200);
    it_v1(&it_srv, "POST", true, IT_SECRET,
          KV("Action", "AllocatePublicIpAddress", "Format", "JSON", "InstanceId", ids[2],
             "OwnerAccount", "a b*c~d!'()+/\xc3\xa9", "ResourceOwnerAccount", "roa@x.com",
             "ResourceOwnerId", "42", "VlanId", ""),
          &r);
    assert_int_equal(r.status, 200);
    it_field(&r, "IpAddress", ip, sizeof(ip));
    /* V3: the existing address comes back (2024-12-20). */
    it_v3(&it_srv, "POST", "AllocatePublicIpAddress", IT_SECRET, KV("InstanceId", ids[2]), NULL,
          NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    {
        char again[32];

        it_field(&r, "IpAddress", again, sizeof(again));
        assert_string_equal(ip, again);
    }
    /* V3 GET works too. */
    it_v3(&it_srv, "GET", "DescribeInstances", IT_SECRET, KV("PageSize", "2"), NULL, NULL, NULL,
          &r);
    assert_int_equal(r.status, 200);
    /* Bad owner parameters. */
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "AllocatePublicIpAddress", "Format", "JSON", "InstanceId", ids[0], "OwnerId",
             "abc"),
          &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"InvalidOwnerId\""));
}

static void request_ids(void **state)
{
    struct it_resp r;
    char body_id[64];

    (void)state;
    it_v1(&it_srv, "GET", false, IT_SECRET, KV("Action", "DescribeInstances", "Format", "JSON"),
          &r);
    it_field(&r, "RequestId", body_id, sizeof(body_id));
    assert_string_equal(body_id, r.request_id);
    assert_int_equal(strlen(body_id), 36);
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            assert_int_equal(body_id[i], '-');
        } else {
            assert_true(isxdigit((unsigned char)body_id[i]) && !islower((unsigned char)body_id[i]));
        }
    }
    /* Errors carry one too. */
    it_v1(&it_srv, "GET", false, IT_SECRET, KV("Action", "Nope", "Format", "XML"), &r);
    it_field(&r, "RequestId", body_id, sizeof(body_id));
    assert_string_equal(body_id, r.request_id);
}

static void seed_42(struct aipa_srv_config *cfg)
{
    cfg->seed = 42;
}

static void deterministic_under_seed(void **state)
{
    char first[2][64];

    (void)state;
    for (int k = 0; k < 2; k++) {
        struct it_server s;
        struct it_resp r;

        it_start(&s, seed_42);
        it_v1(&s, "GET", false, IT_SECRET, KV("Action", "DescribeInstances", "Format", "JSON"), &r);
        snprintf(first[k], sizeof(first[k]), "%s", r.request_id);
        it_stop(&s);
    }
    assert_string_equal(first[0], first[1]);
}

static void actions_dispatch(void **state)
{
    struct it_resp r;
    static const char *const lifecycle[] = {"StopInstance", "StartInstance", "RebootInstance"};
    char ip[32];

    (void)state;
    it_fixture(&it_srv, "POST", "/_aipa/reset", NULL, &r);
    for (size_t i = 0; i < 3; i++) {
        it_v1(&it_srv, "GET", false, IT_SECRET, KV("Action", lifecycle[i], "Format", "JSON"), &r);
        assert_int_equal(r.status, 400);
        assert_non_null(strstr(r.body, "\"MissingParameter\""));
        assert_non_null(strstr(r.body, "InstanceId"));
        it_v1(&it_srv, "GET", false, IT_SECRET,
              KV("Action", lifecycle[i], "Format", "XML", "InstanceId", "i-nope"), &r);
        assert_int_equal(r.status, 404);
        assert_non_null(strstr(r.body, "InvalidInstanceId.NotFound"));
    }
    /* Malformed ids (too long for any instance, or bad characters) are 400, not 404. */
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "AllocatePublicIpAddress", "Format", "JSON", "InstanceId",
             "i-0123456789abcdef0123456789abcdef"),
          &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"InvalidInstanceId.Malformed\""));
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "StartInstance", "Format", "JSON", "InstanceId", "i-a/b"), &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"InvalidInstanceId.Malformed\""));
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "AllocatePublicIpAddress", "Format", "JSON", "InstanceId", "i-aipa-running"),
          &r);
    assert_int_equal(r.status, 200);
    it_field(&r, "IpAddress", ip, sizeof(ip));
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "RebootInstance", "Format", "XML", "InstanceId", "i-aipa-running"), &r);
    assert_int_equal(r.status, 200);
    is_xml(&r, "RebootInstanceResponse");
    it_v1(
        &it_srv, "GET", false, IT_SECRET,
        KV("Action", "DescribeInstances", "Format", "JSON", "InstanceIds", "[\"i-aipa-running\"]"),
        &r);
    assert_non_null(strstr(r.body, ip));
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "ReleasePublicIpAddress", "Format", "JSON", "InstanceId", "i-aipa-running"),
          &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "PublicIpAddress"));
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "ReleasePublicIpAddress", "Format", "JSON", "InstanceId", "i-aipa-running",
             "PublicIpAddress", ip),
          &r);
    assert_int_equal(r.status, 200);
    /* DescribeInstances parameters. */
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "DescribeInstances", "Format", "JSON", "PageSize", "101"), &r);
    assert_int_equal(r.status, 400);
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "DescribeInstances", "Format", "JSON", "PageNumber", "0"), &r);
    assert_int_equal(r.status, 400);
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "DescribeInstances", "Format", "JSON", "InstanceIds", "i-aipa-running"), &r);
    assert_int_equal(r.status, 400);
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "DescribeInstances", "Format", "JSON", "InstanceIds", "[1]"), &r);
    assert_int_equal(r.status, 400);
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "DescribeInstances", "Format", "JSON", "PageSize", "3", "PageNumber", "2"),
          &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"PageNumber\":2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_parameter),
        cmocka_unit_test(accept_header),
        cmocka_unit_test(four_shapes),
        cmocka_unit_test(request_ids),
        cmocka_unit_test(deterministic_under_seed),
        cmocka_unit_test(actions_dispatch),
    };

    return cmocka_run_group_tests(tests, it_suite_setup, it_suite_teardown);
}
