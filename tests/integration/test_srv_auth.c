/*
 * Every authentication error of docs/serve.md over HTTP, V1 and V3, each
 * followed by a normal request that must still succeed.
 */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h> /* after setjmp.h, stdarg.h, stddef.h */
// clang-format on

#include "aipa/sign.h"
#include "aipa/wire.h"
#include "itest.h"

static void expect(const struct it_resp *r, long status, const char *code)
{
    it_expect(r, status, code);
    /* Every answer carries a RequestId, also as a header. */
    assert_int_equal(strlen(r->request_id), 36);
}

/* A normal signed request still works. */
static void still_serving(void)
{
    struct it_resp r;

    it_v1(
        &it_srv, "GET", false, IT_SECRET,
        KV("Action", "DescribeInstances", "Format", "JSON", "InstanceIds", "[\"i-aipa-running\"]"),
        &r);
    expect(&r, 200, "");
}

static const char *const common[] = {"AccessKeyId",    "SignatureMethod", "SignatureVersion",
                                     "SignatureNonce", "Timestamp",       "Action",
                                     "Version"};

static void v1_missing_each_common_parameter(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++) {
        struct it_resp r;
        char msg[512];
        char want[160];
        it_v1(&it_srv, "GET", false, IT_SECRET,
              KV("Action", "AllocatePublicIpAddress", "InstanceId", "i-aipa-running", "Format",
                 "JSON", common[i], NULL),
              &r);
        expect(&r, 400, "MissingParameter");
        it_field(&r, "Message", msg, sizeof(msg));
        snprintf(want, sizeof(want), "\"%s\"", common[i]);
        assert_non_null(strstr(msg, want));
    }
    still_serving();
}

static void v1_missing_instance_id(void **state)
{
    struct it_resp r;
    char msg[512];

    (void)state;
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "AllocatePublicIpAddress", "Format", "JSON"), &r);
    expect(&r, 400, "MissingParameter");
    it_field(&r, "Message", msg, sizeof(msg));
    assert_non_null(strstr(msg, "\"InstanceId\""));
    still_serving();
}

static void v1_wrong_secret_gives_server_string_to_sign(void **state)
{
    struct it_resp r;
    char msg[4096];
    static const char prefix[] =
        "Specified signature is not matched with our calculation. server string to sign is:";

    (void)state;
    it_v1(&it_srv, "GET", false, "not-the-secret",
          KV("Action", "AllocatePublicIpAddress", "InstanceId", "i-aipa-running", "Format", "JSON",
             "OwnerAccount", "a b*c~d!'()+/\xc3\xa9"),
          &r);
    expect(&r, 400, "SignatureDoesNotMatch");
    it_field(&r, "Message", msg, sizeof(msg));
    assert_memory_equal(msg, prefix, sizeof(prefix) - 1);
    /* The StringToSign a client computes (spec/wire.md §2.2) is exactly what follows. */
    assert_memory_equal(msg + sizeof(prefix) - 1, "GET&%2F&AccessKeyId%3Dtestid%26Action%3D", 40);
    assert_non_null(strstr(msg, "%26OwnerAccount%3Da%2520b%252Ac~d%2521%2527%2528%2529%252B%252F%"
                                "25C3%25A9%26"));
    still_serving();
}

static void v1_malformed_signature_is_incomplete(void **state)
{
    struct it_resp r;
    char msg[4096];

    (void)state;
    /* No Signature at all: IncompleteSignature with the StringToSign to sign. */
    it_v1(&it_srv, "GET", false, NULL,
          KV("Action", "AllocatePublicIpAddress", "InstanceId", "i-aipa-running", "Format", "JSON"),
          &r);
    expect(&r, 400, "IncompleteSignature");
    it_field(&r, "Message", msg, sizeof(msg));
    assert_non_null(strstr(msg, "server string to sign is:GET&%2F&AccessKeyId%3Dtestid%26Action"));
    it_v1(&it_srv, "GET", false, NULL,
          KV("Action", "AllocatePublicIpAddress", "InstanceId", "i-aipa-running", "Format", "JSON",
             "Signature", ""),
          &r);
    expect(&r, 400, "IncompleteSignature");
    it_v1(&it_srv, "GET", false, NULL,
          KV("Action", "AllocatePublicIpAddress", "InstanceId", "i-aipa-running", "Format", "JSON",
             "Signature", "abc"),
          &r);
    expect(&r, 400, "IncompleteSignature");
    still_serving();
}

static void v1_unknown_and_inactive_keys(void **state)
{
    struct it_resp r;

    (void)state;
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "DescribeInstances", "Format", "JSON", "AccessKeyId", "nobody"), &r);
    expect(&r, 404, "InvalidAccessKeyId.NotFound");
    it_v1(&it_srv, "GET", false, "offsecret",
          KV("Action", "DescribeInstances", "Format", "JSON", "AccessKeyId", "off"), &r);
    expect(&r, 400, "InvalidAccessKeyId.Inactive");
    still_serving();
}

static void v1_nonce_replay(void **state)
{
    struct it_resp r;
    char nonce[48];

    (void)state;
    it_nonce(nonce);
    /* A request with a bad signature must not burn the nonce. */
    it_v1(&it_srv, "GET", false, "wrong",
          KV("Action", "DescribeInstances", "Format", "JSON", "SignatureNonce", nonce), &r);
    expect(&r, 400, "SignatureDoesNotMatch");
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "DescribeInstances", "Format", "JSON", "SignatureNonce", nonce), &r);
    expect(&r, 200, "");
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "DescribeInstances", "Format", "JSON", "SignatureNonce", nonce), &r);
    expect(&r, 400, "SignatureNonceUsed");
    /* The same nonce replayed through another shape is still a replay. */
    it_v1(&it_srv, "POST", true, IT_SECRET,
          KV("Action", "DescribeInstances", "Format", "JSON", "SignatureNonce", nonce), &r);
    expect(&r, 400, "SignatureNonceUsed");
    still_serving();
}

static void v1_timestamps(void **state)
{
    struct it_resp r;
    static const char *const bad[] = {"2016-02-23T12:46:24.000Z",
                                      "2016-02-23 12:46:24",
                                      "2016-02-23T12:46:24+08:00",
                                      "yesterday",
                                      "",
                                      NULL};

    (void)state;
    for (size_t i = 0; bad[i] != NULL; i++) {
        it_v1(&it_srv, "GET", false, IT_SECRET,
              KV("Action", "DescribeInstances", "Format", "JSON", "Timestamp", bad[i]), &r);
        expect(&r, 400, bad[i][0] == '\0' ? "MissingParameter" : "InvalidTimeStamp.Format");
    }
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "DescribeInstances", "Format", "JSON", "Timestamp", "2016-02-23T12:46:24Z"),
          &r);
    expect(&r, 400, "InvalidTimeStamp.Expired");
    {
        char ts[21];

        aipa_format_timestamp((int64_t)time(NULL) + 16 * 60, ts);
        it_v1(&it_srv, "GET", false, IT_SECRET,
              KV("Action", "DescribeInstances", "Format", "JSON", "Timestamp", ts), &r);
        expect(&r, 400, "InvalidTimeStamp.Expired");
        aipa_format_timestamp((int64_t)time(NULL) - 14 * 60, ts);
        it_v1(&it_srv, "GET", false, IT_SECRET,
              KV("Action", "DescribeInstances", "Format", "JSON", "Timestamp", ts), &r);
        expect(&r, 200, "");
    }
    still_serving();
}

static void v1_method_version_action(void **state)
{
    struct it_resp r;

    (void)state;
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "DescribeInstances", "Format", "JSON", "SignatureMethod", "HMAC-SHA256"),
          &r);
    expect(&r, 400, "InvalidSignatureMethod");
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "DescribeInstances", "Format", "JSON", "SignatureVersion", "2.0"), &r);
    expect(&r, 400, "InvalidSignatureVersion");
    it_v1(&it_srv, "GET", false, IT_SECRET,
          KV("Action", "DescribeInstances", "Format", "JSON", "Version", "2016-03-14"), &r);
    expect(&r, 400, "InvalidVersion");
    it_v1(&it_srv, "GET", false, IT_SECRET, KV("Action", "DescribeRegions", "Format", "JSON"), &r);
    expect(&r, 404, "InvalidAction.NotFound");
    it_v1(&it_srv, "PUT", false, IT_SECRET, KV("Action", "DescribeInstances", "Format", "JSON"),
          &r);
    expect(&r, 403, "UnsupportedHTTPMethod");
    it_v1(&it_srv, "DELETE", false, IT_SECRET, KV("Action", "DescribeInstances", "Format", "JSON"),
          &r);
    expect(&r, 403, "UnsupportedHTTPMethod");
    {
        char url[128];

        snprintf(url, sizeof(url), "%s/not-the-api?Format=JSON", it_srv.base);
        it_http("GET", url, NULL, NULL, 0, 0, &r);
        expect(&r, 404, "InvalidAction.NotFound");
    }
    still_serving();
}

static void v3_good_and_errors(void **state)
{
    struct it_resp r;
    char msg[4096];

    (void)state;
    it_v3(&it_srv, "POST", "AllocatePublicIpAddress", IT_SECRET, KV("InstanceId", "i-aipa-running"),
          NULL, NULL, NULL, &r);
    expect(&r, 200, "");
    assert_string_equal(r.content_type, "application/json;charset=utf-8");

    it_v3(&it_srv, "POST", "AllocatePublicIpAddress", "wrong", KV("InstanceId", "i-aipa-running"),
          NULL, NULL, NULL, &r);
    expect(&r, 400, "SignatureDoesNotMatch");
    it_field(&r, "Message", msg, sizeof(msg));
    assert_non_null(strstr(msg, "server string to sign is:ACS3-HMAC-SHA256\n"));

    /* An x-acs-* header sent but not signed. */
    it_v3(&it_srv, "POST", "AllocatePublicIpAddress", IT_SECRET, KV("InstanceId", "i-aipa-running"),
          NULL, KV("x-acs-extra", "1"), NULL, &r);
    expect(&r, 400, "IncompleteSignature");
    /* host not signed. */
    it_v3(&it_srv, "POST", "AllocatePublicIpAddress", IT_SECRET, KV("InstanceId", "i-aipa-running"),
          KV("host", NULL), NULL, NULL, &r);
    expect(&r, 400, "IncompleteSignature");
    /* Missing required headers. */
    it_v3(&it_srv, "POST", "AllocatePublicIpAddress", IT_SECRET, KV("InstanceId", "i-aipa-running"),
          KV("x-acs-date", NULL), NULL, NULL, &r);
    expect(&r, 400, "MissingParameter");
    it_v3(&it_srv, "POST", "AllocatePublicIpAddress", IT_SECRET, KV("InstanceId", "i-aipa-running"),
          KV("x-acs-signature-nonce", NULL), NULL, NULL, &r);
    expect(&r, 400, "MissingParameter");
    it_v3(&it_srv, "POST", "AllocatePublicIpAddress", IT_SECRET, KV("InstanceId", "i-aipa-running"),
          KV("x-acs-version", "2016-03-14"), NULL, NULL, &r);
    expect(&r, 400, "InvalidVersion");
    it_v3(&it_srv, "POST", "NoSuchAction", IT_SECRET, KV("InstanceId", "i-aipa-running"), NULL,
          NULL, NULL, &r);
    expect(&r, 404, "InvalidAction.NotFound");
    it_v3(&it_srv, "POST", "AllocatePublicIpAddress", IT_SECRET, KV("InstanceId", "i-aipa-running"),
          KV("x-acs-date", "2026-11-27 07:51:21"), NULL, NULL, &r);
    expect(&r, 400, "InvalidTimeStamp.Format");
    it_v3(&it_srv, "POST", "AllocatePublicIpAddress", IT_SECRET, KV("InstanceId", "i-aipa-running"),
          KV("x-acs-date", "2016-02-23T12:46:24Z"), NULL, NULL, &r);
    expect(&r, 400, "InvalidTimeStamp.Expired");
    /* A body that does not match the signed x-acs-content-sha256. */
    it_v3(&it_srv, "POST", "AllocatePublicIpAddress", IT_SECRET, KV("InstanceId", "i-aipa-running"),
          KV("x-acs-content-sha256", AIPA_EMPTY_SHA256_HEX), NULL, "tampered", &r);
    expect(&r, 400, "SignatureDoesNotMatch");
    /* A body that does match is fine (and ignored: not a form). */
    it_v3(&it_srv, "POST", "AllocatePublicIpAddress", IT_SECRET, KV("InstanceId", "i-aipa-running"),
          NULL, NULL, "{\"x\":1}", &r);
    expect(&r, 200, "");
    {
        char url[128];
        const char *const h[] = {"Authorization: ACS3-HMAC-SHA256 garbage",
                                 "x-acs-action: "
                                 "DescribeInstances",
                                 "x-acs-version: 2014-05-26", NULL};

        snprintf(url, sizeof(url), "%s/", it_srv.base);
        it_http("POST", url, h, NULL, 0, 0, &r);
        expect(&r, 400, "IncompleteSignature");
    }
    {
        char url[128];
        const char *const h[] = {
            "Authorization: HMAC-MD5 Credential=testid,SignedHeaders=host,Signature=00",
            "x-acs-action: DescribeInstances", "x-acs-version: 2014-05-26", NULL};

        snprintf(url, sizeof(url), "%s/", it_srv.base);
        it_http("POST", url, h, NULL, 0, 0, &r);
        expect(&r, 400, "InvalidSignatureMethod");
    }
    still_serving();
}

static void v3_nonce_replay(void **state)
{
    struct it_resp r;
    char nonce[48];

    (void)state;
    it_nonce(nonce);
    it_v3(&it_srv, "POST", "DescribeInstances", IT_SECRET, NULL, KV("x-acs-signature-nonce", nonce),
          NULL, NULL, &r);
    expect(&r, 200, "");
    it_v3(&it_srv, "POST", "DescribeInstances", IT_SECRET, NULL, KV("x-acs-signature-nonce", nonce),
          NULL, NULL, &r);
    expect(&r, 400, "SignatureNonceUsed");
    still_serving();
}

static void v3_unknown_key(void **state)
{
    struct it_resp r;
    char url[128];
    const char *h[] = {
        "Authorization: ACS3-HMAC-SHA256 Credential=nobody,SignedHeaders=host;x-acs-action;"
        "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=00",
        "x-acs-action: DescribeInstances",
        "x-acs-version: 2014-05-26",
        "x-acs-content-sha256: " AIPA_EMPTY_SHA256_HEX,
        "x-acs-signature-nonce: abc",
        NULL,
        NULL};
    char date[64], ts[21];

    (void)state;
    aipa_format_timestamp((int64_t)time(NULL), ts);
    snprintf(date, sizeof(date), "x-acs-date: %s", ts);
    h[5] = date;
    snprintf(url, sizeof(url), "%s/", it_srv.base);
    it_http("POST", url, h, NULL, 0, 0, &r);
    expect(&r, 404, "InvalidAccessKeyId.NotFound");
    still_serving();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(v1_missing_each_common_parameter),
        cmocka_unit_test(v1_missing_instance_id),
        cmocka_unit_test(v1_wrong_secret_gives_server_string_to_sign),
        cmocka_unit_test(v1_malformed_signature_is_incomplete),
        cmocka_unit_test(v1_unknown_and_inactive_keys),
        cmocka_unit_test(v1_nonce_replay),
        cmocka_unit_test(v1_timestamps),
        cmocka_unit_test(v1_method_version_action),
        cmocka_unit_test(v3_good_and_errors),
        cmocka_unit_test(v3_nonce_replay),
        cmocka_unit_test(v3_unknown_key),
    };

    return cmocka_run_group_tests(tests, it_suite_setup, it_suite_teardown);
}
