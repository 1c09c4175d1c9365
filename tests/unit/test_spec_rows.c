/*
 * The error table against its sources: every AllocatePublicIpAddress entry
 * of the 2024-06 API metadata (M1, spec/api-metadata.md#errors,
 * copied here verbatim) is a row marked M1; the companion actions' and the
 * STS rows carry their documented status and message; every row names known
 * sources; and docs/internals/errors.md lists exactly the header's rows.
 */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h> /* after setjmp.h, stdarg.h, stddef.h */
// clang-format on

#include "aipa/errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct triple {
    int status;
    const char *code;
    const char *message;
    const char *source; /* the tag the row must carry */
};

static const struct triple m1_allocate[] = {
    {400, "InvalidOperation.AllocateFailed",
     "The current instance failed to allocate public IP, please try again later.", "M1"},
    {400, "InvalidIpAddress.Malformed", "The specified parameter \"IpAddress\" is not valid.",
     "M1"},
    {400, "OperationDenied", "Specified operation is denied as your instance is in VPC.", "M1"},
    {400, "InsufficientPublicIp", "Ip address not found.", "M1"},
    {400, "AllocateIpInvalidInstanceBandwidth",
     "OperationDenied The InternetMaxBandwidthOut of the specified instance cannot be less than 0.",
     "M1"},
    {400, "OperationDenied.CloudboxNotSupport",
     "This operation is denied, because the specified ECS instance which is in the Cloudbox dose "
     "not support PublicIp or Eip.",
     "M1"},
    {400, "OperationDenied.DedicatedRegionNotSupported",
     "This operation is denied, because the specified ECS instance which is in the dedicated "
     "region dose not support PublicIp or Eip.",
     "M1"},
    {403, "IncorrectInstanceStatus",
     "The current status of the resource does not support this operation.", "M1"},
    {403, "InstanceLockedForSecurity",
     "The specified operation is denied as your instance is locked for security reasons.", "M1"},
    {403, "InstanceExpiredOrInArrears",
     "The specified operation is denied as your prepay instance is expired (prepay mode) or in "
     "arrears (afterpay mode).",
     "M1"},
    {403, "IpInUse", "The specified IP is already in use.", "M1"},
    {403, "AllocatedAlready", "There is an IpAddress allocated already for the specified instance.",
     "M1"},
    {403, "AllocateIp.Fail", "The specified instance fails to allocate ip, please try again.",
     "M1"},
    {403, "NAT_PUBLIC_IP_BINDING_FAILED", "Binding nat public ip failed.", "M1"},
    {403, "NAT_PUBLIC_IP_ALLOCATE_FAILED", "Nat public ip binding failed.", "M1"},
    {403, "InvalidIpAddress.NotPublic", "The specified IP is not public address.", "M1"},
    {404, "InvalidInstanceId.NotFound", "The specified InstanceId does not exist.", "M1"},
    {404, "InvalidVlanId.NotFound", "The VlanId provided does not exist in our records.", "M1"},
    {404, "InvalidIpAddress.NotFound", "The specified IP is not in the specified vlan.", "M1"},
    {500, "InternalError", "The request processing has failed due to some unknown error.", "M1"},
};

static const struct triple others[] = {
    /* The seed's variant of InsufficientPublicIp (no period). */
    {400, "InsufficientPublicIp", "Ip address not found", "seed"},
    /* ReleasePublicIpAddress (M1). */
    {400, "InvalidIpAddress.NotFound",
     "The specified parameter \"IpAddress\" is not found in your records.", "M1-release"},
    {403, "InvalidIpAddress.NeedInstanceId",
     "The specified IpAddress need to release with InstanceId.", "M1-release"},
    {400, "DryRunOperation", "This is a dryrun request with successful result.", "M1-release"},
    {403, "OperationTimesOverLimit",
     "The specified operation is denied as release public ip times over the limit.", "M1-release"},
    {403, "Forbidden.ExceedDuration",
     "Instance nat public ip can only be released in 6 hours after ecs created.", "M1-release"},
    {403, "IncorrectInstanceStatus",
     "The current status of the resource does not support this operation.", "M1-release"},
    {404, "InvalidInstanceId.NotFound", "The specified InstanceId does not exist.", "M1-reboot"},
    /* StartInstance, DescribeInstances (M1). */
    {403, "InstanceExpired",
     "The postPaid instance has been expired.Please ensure your account have enough balance.",
     "M1-start"},
    {404, "InvalidStatus.NotFound", "The specified Status is not found.", "M1-describe"},
    /* STS. */
    {400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.", "sts"},
    {400, "InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed.", "sts"},
    {400, "InvalidSecurityToken.MismatchWithAccessKey",
     "Specified SecurityToken mismatch with the AccessKey.", "sts"},
    /* The real answer in no table. */
    {404, "Forbidden.InstanceNotFound",
     "The specified Instance is not found, so we cann't get enough information to check "
     "permission in RAM.",
     "real"},
};

static const char *const known_tags[] = {"seed",     "s5.3",    "M1",        "M1-release",
                                         "M1-start", "M1-stop", "M1-reboot", "M1-describe",
                                         "s4.2",     "sts",     "real",      "s5.3 (other ops)"};

/* True when the space-separated list src has tag as one of its words. */
static bool has_tag(const char *src, const char *tag)
{
    size_t n = strlen(tag);

    for (const char *p = src; (p = strstr(p, tag)) != NULL; p += n) {
        if ((p == src || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ')) {
            return true;
        }
    }
    return false;
}

static bool find(const struct triple *t)
{
    enum aipa_code ids[8];
    size_t n = aipa_code_lookup_all(t->code, strlen(t->code), ids, 8);

    for (size_t i = 0; i < n && i < 8; i++) {
        const struct aipa_api_error *e = aipa_code_info(ids[i]);

        if (e->http_status == t->status && strcmp(e->message, t->message) == 0 &&
            has_tag(e->source, t->source)) {
            return true;
        }
    }
    return false;
}

static void every_m1_entry_is_a_row(void **state)
{
    size_t marked = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(m1_allocate) / sizeof(m1_allocate[0]); i++) {
        if (!find(&m1_allocate[i])) {
            fail_msg("M1 row %d %s \"%s\" is not in the table", m1_allocate[i].status,
                     m1_allocate[i].code, m1_allocate[i].message);
        }
    }
    /* And no row claims M1 beyond those 20. */
    for (int id = 1; id < AIPA_C_COUNT_; id++) {
        marked += has_tag(aipa_code_info((enum aipa_code)id)->source, "M1");
    }
    assert_int_equal(marked, 20);
}

static void companion_and_sts_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        if (!find(&others[i])) {
            fail_msg("row %d %s \"%s\" [%s] is not in the table", others[i].status, others[i].code,
                     others[i].message, others[i].source);
        }
    }
}

static void every_row_names_known_sources(void **state)
{
    (void)state;
    for (int id = 1; id < AIPA_C_COUNT_; id++) {
        const struct aipa_api_error *e = aipa_code_info((enum aipa_code)id);
        char copy[128];
        char *save = NULL;

        assert_true(e->source[0] != '\0');
        if (strcmp(e->source, "s5.3 (other ops)") == 0) {
            continue;
        }
        snprintf(copy, sizeof(copy), "%s", e->source);
        for (char *w = strtok_r(copy, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
            bool ok = false;

            for (size_t k = 0; k < sizeof(known_tags) / sizeof(known_tags[0]); k++) {
                ok |= strcmp(w, known_tags[k]) == 0;
            }
            if (!ok) {
                fail_msg("%s: unknown source tag \"%s\"", e->code, w);
            }
        }
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* docs/internals/errors.md: one table line per row, in table order, and no other. */
static void the_doc_lists_every_row(void **state)
{
    char *doc = slurp(AIPA_SOURCE_DIR "/docs/internals/errors.md");
    const char *at = strstr(doc, "| status | Code | Message | editions | sources |");
    char line[1024];

    (void)state;
    assert_non_null(at);
    at = strchr(at, '\n') + 1;
    at = strchr(at, '\n') + 1; /* the |---| line */
    for (int id = 1; id < AIPA_C_COUNT_; id++) {
        const struct aipa_api_error *e = aipa_code_info((enum aipa_code)id);
        const char *ed = e->editions == AIPA_ED_ALL    ? "both"
                         : e->editions == AIPA_ED_2018 ? "2018"
                                                       : "2024";
        const char *nl = strchr(at, '\n');
        int n = snprintf(line, sizeof(line), "| %d | `%s` | %s | %s | %s |", e->http_status,
                         e->code, e->message, ed, e->source);

        assert_non_null(nl);
        if ((size_t)(nl - at) != (size_t)n || memcmp(at, line, (size_t)n) != 0) {
            fail_msg("docs/internals/errors.md row %d: expected\n%s\ngot\n%.*s", id, line,
                     (int)(nl - at), at);
        }
        at = nl + 1;
    }
    assert_true(at[0] != '|'); /* no extra row */
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_m1_entry_is_a_row),
        cmocka_unit_test(companion_and_sts_rows),
        cmocka_unit_test(every_row_names_known_sources),
        cmocka_unit_test(the_doc_lists_every_row),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
