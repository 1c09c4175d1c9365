/*
 * Spec fidelity over HTTP: STS keys (V1 SecurityToken, V3 x-acs-security-token),
 * accounts (a second account's key sees and changes nothing of the first's),
 * DryRun, and the documented parameters and codes of ReleasePublicIpAddress
 * and DescribeInstances (docs/internals/errors.md).
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

#define TOK_TESTID "CAIStestidToken+/="
#define TOK_OTHER  "CAISotherToken"
#define TOK_OLD    "CAISoldToken"
#define FAR_FUTURE 4102444800 /* 2100-01-01 */

/* testid is an STS key (so V3, which signs as testid, is covered too). */
static const struct aipa_srv_credential sts_creds[] = {
    {"testid", IT_SECRET, true, false, NULL, TOK_TESTID, FAR_FUTURE},
    {"STS.other", "othersecret", true, false, NULL, TOK_OTHER, FAR_FUTURE},
    {"STS.old", "oldsecret", true, false, NULL, TOK_OLD, 1},
    {"longterm", "ltsecret", true, false, NULL, NULL, 0},
};

/* testid's token has expired. */
static const struct aipa_srv_credential expired_creds[] = {
    {"testid", IT_SECRET, true, false, NULL, TOK_TESTID, 1},
};

/* Two accounts: testid in the default one, "other" in account 1002. */
static const struct aipa_srv_credential account_creds[] = {
    {"testid", IT_SECRET, true, true, NULL, NULL, 0},
    {"other", "othersecret", true, true, "1002", NULL, 0},
};

static void use_sts(struct aipa_srv_config *cfg)
{
    cfg->credentials = sts_creds;
    cfg->credential_count = sizeof(sts_creds) / sizeof(sts_creds[0]);
}

static void use_expired(struct aipa_srv_config *cfg)
{
    cfg->credentials = expired_creds;
    cfg->credential_count = 1;
}

static void use_accounts(struct aipa_srv_config *cfg)
{
    cfg->credentials = account_creds;
    cfg->credential_count = 2;
}

#define DESCRIBE "Action", "DescribeInstances", "Format", "JSON"

static void sts_v1(void **state)
{
    struct it_server s;
    struct it_resp r;

    (void)state;
    it_start(&s, use_sts);
    it_v1(&s, "GET", false, IT_SECRET, KV(DESCRIBE, "SecurityToken", TOK_TESTID), &r);
    it_expect(&r, 200, "");
    it_v1(&s, "POST", true, IT_SECRET, KV(DESCRIBE, "SecurityToken", TOK_TESTID), &r);
    it_expect(&r, 200, "");
    it_v1(&s, "GET", false, IT_SECRET, KV(DESCRIBE), &r);
    it_expect(&r, 400, "MissingSecurityToken");
    assert_non_null(strstr(r.body, "SecurityToken is mandatory for this action."));
    it_v1(&s, "GET", false, IT_SECRET, KV(DESCRIBE, "SecurityToken", ""), &r);
    it_expect(&r, 400, "MissingSecurityToken");
    /* Another key's token. */
    it_v1(&s, "GET", false, IT_SECRET, KV(DESCRIBE, "SecurityToken", TOK_OTHER), &r);
    it_expect(&r, 400, "InvalidSecurityToken.MismatchWithAccessKey");
    /* Not a token at all, and a well-formed one nobody issued. */
    it_v1(&s, "GET", false, IT_SECRET, KV(DESCRIBE, "SecurityToken", "not a token!"), &r);
    it_expect(&r, 400, "InvalidSecurityToken.Malformed");
    it_v1(&s, "GET", false, IT_SECRET, KV(DESCRIBE, "SecurityToken", "CAISnobodysToken"), &r);
    it_expect(&r, 400, "InvalidSecurityToken.Malformed");
    /* Past its Expiration. */
    it_v1(&s, "GET", false, "oldsecret",
          KV(DESCRIBE, "AccessKeyId", "STS.old", "SecurityToken", TOK_OLD), &r);
    it_expect(&r, 400, "InvalidSecurityToken.Expired");
    /* The token is checked before the signature: a wrong secret with a missing token. */
    it_v1(&s, "GET", false, "wrong", KV(DESCRIBE), &r);
    it_expect(&r, 400, "MissingSecurityToken");
    /* With the right token, a wrong secret is still a signature error. */
    it_v1(&s, "GET", false, "wrong", KV(DESCRIBE, "SecurityToken", TOK_TESTID), &r);
    it_expect(&r, 400, "SignatureDoesNotMatch");
    /* A long-term key ignores a token. */
    it_v1(&s, "GET", false, "ltsecret",
          KV(DESCRIBE, "AccessKeyId", "longterm", "SecurityToken", "CAISwhatever"), &r);
    it_expect(&r, 200, "");
    it_stop(&s);
}

static void sts_v3(void **state)
{
    struct it_server s;
    struct it_resp r;

    (void)state;
    it_start(&s, use_sts);
    it_v3(&s, "POST", "DescribeInstances", IT_SECRET, NULL, KV("x-acs-security-token", TOK_TESTID),
          NULL, NULL, &r);
    it_expect(&r, 200, "");
    it_v3(&s, "POST", "DescribeInstances", IT_SECRET, NULL, NULL, NULL, NULL, &r);
    it_expect(&r, 400, "MissingSecurityToken");
    it_v3(&s, "POST", "DescribeInstances", IT_SECRET, NULL, KV("x-acs-security-token", TOK_OTHER),
          NULL, NULL, &r);
    it_expect(&r, 400, "InvalidSecurityToken.MismatchWithAccessKey");
    it_v3(&s, "POST", "DescribeInstances", IT_SECRET, NULL, KV("x-acs-security-token", "%%%"), NULL,
          NULL, &r);
    it_expect(&r, 400, "InvalidSecurityToken.Malformed");
    /* The token header must be signed, like every x-acs-* header. */
    it_v3(&s, "POST", "DescribeInstances", IT_SECRET, NULL, NULL,
          KV("x-acs-security-token", TOK_TESTID), NULL, &r);
    it_expect(&r, 400, "IncompleteSignature");
    it_stop(&s);
    it_start(&s, use_expired);
    it_v3(&s, "POST", "DescribeInstances", IT_SECRET, NULL, KV("x-acs-security-token", TOK_TESTID),
          NULL, NULL, &r);
    it_expect(&r, 400, "InvalidSecurityToken.Expired");
    it_v1(&s, "GET", false, IT_SECRET, KV(DESCRIBE, "SecurityToken", TOK_TESTID), &r);
    it_expect(&r, 400, "InvalidSecurityToken.Expired");
    it_stop(&s);
}

/* Creates an instance by fixture; id receives its InstanceId. */
static void make(const struct it_server *s, const char *body, char id[64])
{
    struct it_resp r;

    it_fixture(s, "POST", "/_aipa/instances", body, &r);
    assert_int_equal(r.status, 201);
    it_field(&r, "InstanceId", id, 64);
}

static void as_other(const struct it_server *s, const char *const *kv, struct it_resp *r)
{
    const char *all[32];
    size_t n = 0;

    all[n++] = "AccessKeyId";
    all[n++] = "other";
    for (size_t i = 0; kv[i] != NULL && n + 2 < 32; i += 2) {
        all[n++] = kv[i];
        all[n++] = kv[i + 1];
    }
    all[n] = NULL;
    it_v1(s, "GET", false, "othersecret", all, r);
}

static void accounts(void **state)
{
    struct it_server s;
    struct it_resp r;
    char mine[64], theirs[64], ip[32];

    (void)state;
    it_start(&s, use_accounts);
    make(&s, "{\"PublicIpAddress\":{\"IpAddress\":[\"47.96.0.9\"]}}", mine);
    make(&s, "{\"Status\":\"Stopped\",\"AipaOwnerId\":\"1002\"}", theirs);
    /* The second account: every action on the first one's instance is NotFound. */
    as_other(&s, KV("Action", "AllocatePublicIpAddress", "Format", "JSON", "InstanceId", mine), &r);
    it_expect(&r, 404, "InvalidInstanceId.NotFound");
    as_other(&s, KV("Action", "StopInstance", "Format", "JSON", "InstanceId", mine), &r);
    it_expect(&r, 404, "InvalidInstanceId.NotFound");
    as_other(&s, KV("Action", "RebootInstance", "Format", "JSON", "InstanceId", mine), &r);
    it_expect(&r, 404, "InvalidInstanceId.NotFound");
    as_other(&s,
             KV("Action", "ReleasePublicIpAddress", "Format", "JSON", "InstanceId", mine,
                "PublicIpAddress", "47.96.0.9"),
             &r);
    it_expect(&r, 404, "InvalidInstanceId.NotFound");
    /* DescribeInstances omits it, by id or not. */
    as_other(&s, KV(DESCRIBE, "RegionId", "cn-hangzhou"), &r);
    it_expect(&r, 200, "");
    assert_null(strstr(r.body, mine));
    assert_non_null(strstr(r.body, theirs));
    as_other(&s, KV(DESCRIBE, "RegionId", "cn-hangzhou", "InstanceIds", "[\"i-none\"]"), &r);
    it_expect(&r, 200, "");
    assert_non_null(strstr(r.body, "\"TotalCount\":0"));
    /* Nothing of the first account's changed: still Running with its address. */
    it_v1(&s, "GET", false, IT_SECRET, KV(DESCRIBE, "Status", "Running"), &r);
    it_expect(&r, 200, "");
    assert_non_null(strstr(r.body, mine));
    assert_non_null(strstr(r.body, "47.96.0.9"));
    assert_null(strstr(r.body, theirs));
    /* The instance created for account 1002 is invisible to the first and usable by its own. */
    it_v1(&s, "GET", false, IT_SECRET,
          KV("Action", "StartInstance", "Format", "JSON", "InstanceId", theirs), &r);
    it_expect(&r, 404, "InvalidInstanceId.NotFound");
    as_other(&s, KV("Action", "AllocatePublicIpAddress", "Format", "JSON", "InstanceId", theirs),
             &r);
    it_expect(&r, 200, "");
    it_field(&r, "IpAddress", ip, sizeof(ip));
    as_other(&s, KV("Action", "StartInstance", "Format", "JSON", "InstanceId", theirs), &r);
    it_expect(&r, 200, "");
    it_stop(&s);
}

static void dry_run(void **state)
{
    struct it_server s;
    struct it_resp r;
    char id[64];

    (void)state;
    it_start(&s, use_accounts);
    make(&s, "{}", id);
    it_v1(&s, "GET", false, IT_SECRET,
          KV("Action", "AllocatePublicIpAddress", "Format", "JSON", "InstanceId", id, "DryRun",
             "true"),
          &r);
    it_expect(&r, 400, "DryRunOperation");
    assert_non_null(strstr(r.body, "This is a dryrun request with successful result."));
    it_v1(&s, "GET", false, IT_SECRET,
          KV("Action", "StopInstance", "Format", "JSON", "InstanceId", id, "DryRun", "TRUE"), &r);
    it_expect(&r, 400, "DryRunOperation");
    it_v1(&s, "GET", false, IT_SECRET,
          KV("Action", "RebootInstance", "Format", "JSON", "InstanceId", id, "DryRun", "true"), &r);
    it_expect(&r, 400, "DryRunOperation");
    it_v1(&s, "GET", false, IT_SECRET,
          KV("Action", "StartInstance", "Format", "JSON", "InstanceId", id, "DryRun", "true"), &r);
    it_expect(&r, 403, "IncorrectInstanceStatus");
    it_v1(&s, "GET", false, IT_SECRET, KV(DESCRIBE, "DryRun", "true"), &r);
    it_expect(&r, 400, "DryRunOperation");
    it_v1(&s, "GET", false, IT_SECRET,
          KV("Action", "StopInstance", "Format", "JSON", "InstanceId", id, "DryRun", "yes"), &r);
    it_expect(&r, 400, "InvalidParameter");
    /* Nothing changed: still Running, no address. */
    it_v1(&s, "GET", false, IT_SECRET, KV(DESCRIBE, "Status", "Running"), &r);
    it_expect(&r, 200, "");
    assert_non_null(strstr(r.body, id));
    assert_null(strstr(r.body, "\"IpAddress\":[\""));
    /* DryRun=false acts. */
    it_v1(&s, "GET", false, IT_SECRET,
          KV("Action", "StopInstance", "Format", "JSON", "InstanceId", id, "DryRun", "false"), &r);
    it_expect(&r, 200, "");
    it_stop(&s);
}

static void release_as_documented(void **state)
{
    struct it_server s;
    struct it_resp r;
    char id[64];

    (void)state;
    it_start(&s, use_accounts);
    make(&s, "{\"PublicIpAddress\":{\"IpAddress\":[\"47.96.0.9\"]}}", id);
#define RELEASE "Action", "ReleasePublicIpAddress", "Format", "JSON"
    it_v1(&s, "GET", false, IT_SECRET, KV(RELEASE, "InstanceId", id), &r);
    it_expect(&r, 400, "MissingParameter");
    assert_non_null(strstr(r.body, "PublicIpAddress"));
    it_v1(&s, "GET", false, IT_SECRET, KV(RELEASE, "PublicIpAddress", "47.96.0.9"), &r);
    it_expect(&r, 403, "InvalidIpAddress.NeedInstanceId");
    it_v1(&s, "GET", false, IT_SECRET,
          KV(RELEASE, "InstanceId", id, "PublicIpAddress", "47.96.0.9", "DryRun", "true"), &r);
    it_expect(&r, 400, "DryRunOperation");
    it_v1(&s, "GET", false, IT_SECRET,
          KV(RELEASE, "InstanceId", id, "PublicIpAddress", "47.96.0.9"), &r);
    it_expect(&r, 200, "");
    /* Again: 400 with the Release table's message, not the Allocate row's 404. */
    it_v1(&s, "GET", false, IT_SECRET,
          KV(RELEASE, "InstanceId", id, "PublicIpAddress", "47.96.0.9"), &r);
    it_expect(&r, 400, "InvalidIpAddress.NotFound");
    assert_non_null(
        strstr(r.body, "The specified parameter \\\"IpAddress\\\" is not found in your records."));
    it_v1(&s, "GET", false, IT_SECRET, KV(RELEASE, "InstanceId", id, "PublicIpAddress", "bad"), &r);
    it_expect(&r, 400, "InvalidIpAddress.NotFound");
    it_stop(&s);
}

static void describe_as_documented(void **state)
{
    struct it_server s;
    struct it_resp r;
    char id[64];

    (void)state;
    it_start(&s, use_accounts);
    make(&s, "{\"Status\":\"Stopped\"}", id);
    it_v1(&s, "GET", false, IT_SECRET, KV(DESCRIBE, "RegionId", ""), &r);
    it_expect(&r, 400, "MissingParameter");
    assert_non_null(strstr(r.body, "RegionId"));
    it_v1(&s, "GET", false, IT_SECRET, KV(DESCRIBE, "PageSize", "101"), &r);
    it_expect(&r, 400, "InvalidParameter");
    it_v1(&s, "GET", false, IT_SECRET, KV(DESCRIBE, "PageSize", "0"), &r);
    it_expect(&r, 400, "InvalidParameter");
    it_v1(&s, "GET", false, IT_SECRET, KV(DESCRIBE, "PageSize", "100"), &r);
    it_expect(&r, 200, "");
    it_v1(&s, "GET", false, IT_SECRET, KV(DESCRIBE, "PageNumber", "0"), &r);
    it_expect(&r, 400, "InvalidParameter");
    it_v1(&s, "GET", false, IT_SECRET, KV(DESCRIBE, "Status", "Bogus"), &r);
    it_expect(&r, 404, "InvalidStatus.NotFound");
    it_v1(&s, "GET", false, IT_SECRET, KV(DESCRIBE, "Status", "Stopped"), &r);
    it_expect(&r, 200, "");
    assert_non_null(strstr(r.body, id));
    it_v1(&s, "GET", false, IT_SECRET, KV(DESCRIBE, "Status", "Running"), &r);
    it_expect(&r, 200, "");
    assert_null(strstr(r.body, id));
    it_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sts_v1),
        cmocka_unit_test(sts_v3),
        cmocka_unit_test(accounts),
        cmocka_unit_test(dry_run),
        cmocka_unit_test(release_as_documented),
        cmocka_unit_test(describe_as_documented),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
