/*
 * Unit tests of the model's rules: every error row of both editions reached
 * from a state, the precedence between rules that apply at once, the
 * lifecycle actions and the effective flag, the pool, determinism.
 */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include "aipa/model.h"
/* The internals, to corrupt a model on purpose and see aipa_model_check notice. */
#include "../../reference_impl/lib/src/model_int.h"

#include <stdio.h>
#include <string.h>

#define POOL24 "\"Pool\":{\"Cidrs\":[\"47.96.0.0/24\"]}"

static struct aipa_model *model_new(unsigned edition, uint64_t seed, const char *doc)
{
    struct aipa_model *m = NULL;
    struct aipa_model_config cfg = {edition, seed, NULL, 0, 0, false};
    struct aipa_buf why;

    assert_int_equal(aipa_model_new(&m, &cfg), AIPA_OK);
    if (doc != NULL) {
        aipa_buf_init(&why, 4096);
        if (aipa_model_load_json(m, doc, strlen(doc), &why) != AIPA_OK) {
            fail_msg("load failed: %s\n%s", why.ptr ? why.ptr : "", doc);
        }
        aipa_buf_cleanup(&why);
    }
    return m;
}

static void assert_consistent(struct aipa_model *m)
{
    struct aipa_buf why;

    aipa_buf_init(&why, 4096);
    if (aipa_model_check(m, &why) != AIPA_OK) {
        fail_msg("invariant broken: %s", why.ptr ? why.ptr : "");
    }
    aipa_buf_cleanup(&why);
}

static const char *code_name(enum aipa_code c)
{
    static char buf[160];
    const struct aipa_api_error *e = aipa_code_info(c);

    if (e == NULL) {
        return "OK";
    }
    (void)snprintf(buf, sizeof(buf), "%s (%.60s)", e->code, e->message);
    return buf;
}

/* ---- the rules, table-driven ---- */

struct rule_case {
    const char *name;
    const char *inst; /* extra members of instance i-t, "" for none */
    const char *id;   /* request InstanceId; NULL: i-t */
    const char *ip;   /* IpAddress parameter, NULL: absent */
    const char *vlan; /* VlanId parameter, NULL: absent */
    bool not_whitelisted;
    long free; /* set_pool_free before the call; -1: leave */
    enum aipa_code want2018;
    enum aipa_code want2024;
    const char *want_ip; /* on success, the exact address expected (NULL: any new one) */
};

#define OK          AIPA_C_OK
#define HELD        "\"PublicIpAddress\":{\"IpAddress\":[\"47.96.0.7\"]}"
#define SEC         "\"OperationLocks\":{\"LockReason\":[{\"LockReason\":\"security\"}]}"
#define FIN         "\"OperationLocks\":{\"LockReason\":[{\"LockReason\":\"financial\"}]}"
#define VPC_EIP     "\"InstanceNetworkType\":\"vpc\",\"EipAddress\":{\"IpAddress\":\"42.112.0.10\"}"
#define CLASSIC_EIP "\"EipAddress\":{\"IpAddress\":\"42.112.0.10\",\"AllocationId\":\"eip-1\"}"
#define INJ(x)      "\"AipaNextAllocateError\":\"" x "\""

static const struct rule_case rules[] = {
    /* success */
    {"running gets an address", "", NULL, NULL, NULL, false, -1, OK, OK, NULL},
    {"stopped gets an address", "\"Status\":\"Stopped\"", NULL, NULL, NULL, false, -1, OK, OK,
     NULL},
    {"vpc without eip gets an address", "\"InstanceNetworkType\":\"vpc\"", NULL, NULL, NULL, false,
     -1, OK, OK, NULL},
    /* 2. not found */
    {"unknown instance", "", "i-nope", NULL, NULL, false, -1, AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND,
     AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND, NULL},
    {"instance id differing in case", "", "I-T", NULL, NULL, false, -1,
     AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND, AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND, NULL},
    {"over-long instance id", "", "i-tttttttttttttttttttttttttttttttttttttttt", NULL, NULL, false,
     -1, AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND, AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND, NULL},
    /* 3. security lock, and what it beats */
    {"security lock", SEC, NULL, NULL, NULL, false, -1, AIPA_C_INSTANCE_LOCKED_FOR_SECURITY,
     AIPA_C_INSTANCE_LOCKED_FOR_SECURITY, NULL},
    {"security lock beats Stopping", SEC ",\"Status\":\"Stopping\"", NULL, NULL, NULL, false, -1,
     AIPA_C_INSTANCE_LOCKED_FOR_SECURITY, AIPA_C_INSTANCE_LOCKED_FOR_SECURITY, NULL},
    {"security lock beats financial lock",
     "\"OperationLocks\":{\"LockReason\":[{\"LockReason\":\"financial\"},{\"LockReason\":"
     "\"security\"}]}",
     NULL, NULL, NULL, false, -1, AIPA_C_INSTANCE_LOCKED_FOR_SECURITY,
     AIPA_C_INSTANCE_LOCKED_FOR_SECURITY, NULL},
    {"security lock beats vpc eip", SEC "," VPC_EIP, NULL, NULL, NULL, false, -1,
     AIPA_C_INSTANCE_LOCKED_FOR_SECURITY, AIPA_C_INSTANCE_LOCKED_FOR_SECURITY, NULL},
    {"security lock beats already allocated", SEC "," HELD, NULL, NULL, NULL, false, -1,
     AIPA_C_INSTANCE_LOCKED_FOR_SECURITY, AIPA_C_INSTANCE_LOCKED_FOR_SECURITY, NULL},
    {"security lock beats exhaustion", SEC, NULL, NULL, NULL, false, 0,
     AIPA_C_INSTANCE_LOCKED_FOR_SECURITY, AIPA_C_INSTANCE_LOCKED_FOR_SECURITY, NULL},
    /* 4. financial */
    {"financial lock", FIN, NULL, NULL, NULL, false, -1, AIPA_C_INSTANCE_EXPIRED_OR_IN_ARREARS,
     AIPA_C_INSTANCE_EXPIRED_OR_IN_ARREARS, NULL},
    {"dedicatedhostfinancial lock",
     "\"OperationLocks\":{\"LockReason\":[{\"LockReason\":\"dedicatedhostfinancial\"}]}", NULL,
     NULL, NULL, false, -1, AIPA_C_INSTANCE_EXPIRED_OR_IN_ARREARS,
     AIPA_C_INSTANCE_EXPIRED_OR_IN_ARREARS, NULL},
    {"refunded lock", "\"OperationLocks\":{\"LockReason\":[{\"LockReason\":\"refunded\"}]}", NULL,
     NULL, NULL, false, -1, AIPA_C_INSTANCE_EXPIRED_OR_IN_ARREARS,
     AIPA_C_INSTANCE_EXPIRED_OR_IN_ARREARS, NULL},
    {"expired without a lock", "\"AipaExpired\":true", NULL, NULL, NULL, false, -1,
     AIPA_C_INSTANCE_EXPIRED_OR_IN_ARREARS, AIPA_C_INSTANCE_EXPIRED_OR_IN_ARREARS, NULL},
    {"financial beats Starting", FIN ",\"Status\":\"Starting\"", NULL, NULL, NULL, false, -1,
     AIPA_C_INSTANCE_EXPIRED_OR_IN_ARREARS, AIPA_C_INSTANCE_EXPIRED_OR_IN_ARREARS, NULL},
    {"financial beats bandwidth 0", FIN ",\"InternetMaxBandwidthOut\":0", NULL, NULL, NULL, false,
     -1, AIPA_C_INSTANCE_EXPIRED_OR_IN_ARREARS, AIPA_C_INSTANCE_EXPIRED_OR_IN_ARREARS, NULL},
    /* 5. status */
    {"Starting", "\"Status\":\"Starting\"", NULL, NULL, NULL, false, -1,
     AIPA_C_INCORRECT_INSTANCE_STATUS, AIPA_C_INCORRECT_INSTANCE_STATUS, NULL},
    {"Stopping", "\"Status\":\"Stopping\"", NULL, NULL, NULL, false, -1,
     AIPA_C_INCORRECT_INSTANCE_STATUS, AIPA_C_INCORRECT_INSTANCE_STATUS, NULL},
    {"Pending", "\"Status\":\"Pending\"", NULL, NULL, NULL, false, -1,
     AIPA_C_INCORRECT_INSTANCE_STATUS, AIPA_C_INCORRECT_INSTANCE_STATUS, NULL},
    {"recycling lock", "\"OperationLocks\":{\"LockReason\":[{\"LockReason\":\"recycling\"}]}", NULL,
     NULL, NULL, false, -1, AIPA_C_INCORRECT_INSTANCE_STATUS, AIPA_C_INCORRECT_INSTANCE_STATUS,
     NULL},
    {"status beats cloudbox", "\"Status\":\"Pending\",\"AipaCloudbox\":true", NULL, NULL, NULL,
     false, -1, AIPA_C_INCORRECT_INSTANCE_STATUS, AIPA_C_INCORRECT_INSTANCE_STATUS, NULL},
    {"status beats vpc eip", "\"Status\":\"Starting\"," VPC_EIP, NULL, NULL, NULL, false, -1,
     AIPA_C_INCORRECT_INSTANCE_STATUS, AIPA_C_INCORRECT_INSTANCE_STATUS, NULL},
    {"status beats already allocated", "\"Status\":\"Stopping\"," HELD, NULL, NULL, NULL, false, -1,
     AIPA_C_INCORRECT_INSTANCE_STATUS, AIPA_C_INCORRECT_INSTANCE_STATUS, NULL},
    /* 6. placement (2024 only) */
    {"cloudbox", "\"AipaCloudbox\":true", NULL, NULL, NULL, false, -1, OK,
     AIPA_C_OPERATION_DENIED_CLOUDBOX, NULL},
    {"dedicated region", "\"AipaDedicatedRegion\":true", NULL, NULL, NULL, false, -1, OK,
     AIPA_C_OPERATION_DENIED_DEDICATED_REGION, NULL},
    {"cloudbox beats dedicated region", "\"AipaCloudbox\":true,\"AipaDedicatedRegion\":true", NULL,
     NULL, NULL, false, -1, OK, AIPA_C_OPERATION_DENIED_CLOUDBOX, NULL},
    {"cloudbox beats vpc eip", "\"AipaCloudbox\":true," VPC_EIP, NULL, NULL, NULL, false, -1,
     AIPA_C_OPERATION_DENIED_VPC_EIP, AIPA_C_OPERATION_DENIED_CLOUDBOX, NULL},
    /* 7. EIP */
    {"vpc with eip", VPC_EIP, NULL, NULL, NULL, false, -1, AIPA_C_OPERATION_DENIED_VPC_EIP,
     AIPA_C_OPERATION_DENIED_VPC_EIP, NULL},
    {"classic with eip", CLASSIC_EIP, NULL, NULL, NULL, false, -1, OK,
     AIPA_C_OPERATION_DENIED_HAS_PUBLIC_IP, NULL},
    {"vpc eip beats bandwidth 0", VPC_EIP ",\"InternetMaxBandwidthOut\":0", NULL, NULL, NULL, false,
     -1, AIPA_C_OPERATION_DENIED_VPC_EIP, AIPA_C_OPERATION_DENIED_VPC_EIP, NULL},
    {"vpc eip beats already allocated", VPC_EIP "," HELD, NULL, NULL, NULL, false, -1,
     AIPA_C_OPERATION_DENIED_VPC_EIP, AIPA_C_OPERATION_DENIED_VPC_EIP, NULL},
    /* 8. bandwidth (2024 only) */
    {"bandwidth 0", "\"InternetMaxBandwidthOut\":0", NULL, NULL, NULL, false, -1, OK,
     AIPA_C_ALLOCATE_IP_INVALID_INSTANCE_BANDWIDTH, NULL},
    {"bandwidth negative", "\"InternetMaxBandwidthOut\":-1", NULL, NULL, NULL, false, -1, OK,
     AIPA_C_ALLOCATE_IP_INVALID_INSTANCE_BANDWIDTH, NULL},
    {"bandwidth 0 beats already allocated", "\"InternetMaxBandwidthOut\":0," HELD, NULL, NULL, NULL,
     false, -1, AIPA_C_ALLOCATED_ALREADY, AIPA_C_ALLOCATE_IP_INVALID_INSTANCE_BANDWIDTH, NULL},
    {"bandwidth 0 beats exhaustion", "\"InternetMaxBandwidthOut\":0", NULL, NULL, NULL, false, 0,
     AIPA_C_INSUFFICIENT_PUBLIC_IP, AIPA_C_ALLOCATE_IP_INVALID_INSTANCE_BANDWIDTH, NULL},
    /* 9. already allocated */
    {"second allocation", HELD, NULL, NULL, NULL, false, -1, AIPA_C_ALLOCATED_ALREADY, OK,
     "47.96.0.7"},
    {"second allocation, not yet effective", HELD ",\"AipaPublicIpEffective\":false", NULL, NULL,
     NULL, false, -1, AIPA_C_ALLOCATED_ALREADY, OK, "47.96.0.7"},
    {"second allocation naming the same address", HELD, NULL, "47.96.0.7", NULL, false, -1,
     AIPA_C_ALLOCATED_ALREADY, OK, "47.96.0.7"},
    {"second allocation naming another address", HELD, NULL, "47.96.0.8", NULL, false, -1,
     AIPA_C_ALLOCATED_ALREADY, AIPA_C_ALLOCATED_ALREADY_2, NULL},
    {"already allocated beats exhaustion", HELD, NULL, NULL, NULL, false, 0,
     AIPA_C_ALLOCATED_ALREADY, OK, "47.96.0.7"},
    {"already allocated beats unknown vlan", HELD, NULL, NULL, "vlan-zz", false, -1,
     AIPA_C_ALLOCATED_ALREADY, OK, "47.96.0.7"},
    {"already allocated beats injected failure", HELD "," INJ("AllocateIp.Fail"), NULL, NULL, NULL,
     false, -1, AIPA_C_ALLOCATED_ALREADY, OK, "47.96.0.7"},
    /* 1. IpAddress by value (2024; ignored in 2018) */
    {"IpAddress from a caller not whitelisted", "", NULL, "47.96.0.5", NULL, true, -1, OK,
     AIPA_C_INVALID_IP_ADDRESS_MALFORMED, NULL},
    {"IpAddress with three parts", "", NULL, "47.96.0", NULL, false, -1, OK,
     AIPA_C_INVALID_IP_ADDRESS_MALFORMED, NULL},
    {"IpAddress with a leading zero", "", NULL, "47.96.0.05", NULL, false, -1, OK,
     AIPA_C_INVALID_IP_ADDRESS_MALFORMED, NULL},
    {"IpAddress with an octet over 255", "", NULL, "47.96.0.256", NULL, false, -1, OK,
     AIPA_C_INVALID_IP_ADDRESS_MALFORMED, NULL},
    {"IpAddress with a trailing space", "", NULL, "47.96.0.5 ", NULL, false, -1, OK,
     AIPA_C_INVALID_IP_ADDRESS_MALFORMED, NULL},
    {"IpAddress empty", "", NULL, "", NULL, false, -1, OK, AIPA_C_INVALID_IP_ADDRESS_MALFORMED,
     NULL},
    {"IpAddress IPv6", "", NULL, "::1", NULL, false, -1, OK, AIPA_C_INVALID_IP_ADDRESS_MALFORMED,
     NULL},
    {"IpAddress private", "", NULL, "10.0.0.1", NULL, false, -1, OK,
     AIPA_C_INVALID_IP_ADDRESS_NOT_PUBLIC, NULL},
    {"IpAddress loopback", "", NULL, "127.0.0.1", NULL, false, -1, OK,
     AIPA_C_INVALID_IP_ADDRESS_NOT_PUBLIC, NULL},
    {"IpAddress shared space", "", NULL, "100.64.1.1", NULL, false, -1, OK,
     AIPA_C_INVALID_IP_ADDRESS_NOT_PUBLIC, NULL},
    {"IpAddress multicast", "", NULL, "224.0.0.1", NULL, false, -1, OK,
     AIPA_C_INVALID_IP_ADDRESS_NOT_PUBLIC, NULL},
    {"IpAddress broadcast", "", NULL, "255.255.255.255", NULL, false, -1, OK,
     AIPA_C_INVALID_IP_ADDRESS_NOT_PUBLIC, NULL},
    {"malformed IpAddress beats unknown instance", "", "i-nope", "1.2.3", NULL, false, -1,
     AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND, AIPA_C_INVALID_IP_ADDRESS_MALFORMED, NULL},
    {"private IpAddress beats security lock", SEC, NULL, "192.168.1.1", NULL, false, -1,
     AIPA_C_INSTANCE_LOCKED_FOR_SECURITY, AIPA_C_INVALID_IP_ADDRESS_NOT_PUBLIC, NULL},
    /* 11. IpAddress against the pool */
    {"IpAddress free in the pool", "", NULL, "47.96.0.5", NULL, false, -1, OK, OK, NULL},
    {"IpAddress not in the pool", "", NULL, "8.8.8.8", NULL, false, -1, OK,
     AIPA_C_INVALID_IP_ADDRESS_NOT_FOUND, NULL},
    {"IpAddress the pool's network address", "", NULL, "47.96.0.0", NULL, false, -1, OK,
     AIPA_C_INVALID_IP_ADDRESS_NOT_FOUND, NULL},
    {"IpAddress the pool's broadcast address", "", NULL, "47.96.0.255", NULL, false, -1, OK,
     AIPA_C_INVALID_IP_ADDRESS_NOT_FOUND, NULL},
    {"IpAddress held by another instance", "", NULL, "47.96.0.9", NULL, false, -1, OK,
     AIPA_C_IP_IN_USE, NULL},
    {"IpAddress held back", "", NULL, "47.96.0.5", NULL, false, 0, AIPA_C_INSUFFICIENT_PUBLIC_IP,
     AIPA_C_IP_IN_USE, NULL},
    {"IpAddress check beats injected failure", INJ("AllocateIp.Fail"), NULL, "47.96.0.9", NULL,
     false, -1, AIPA_C_INTERNAL_ERROR, AIPA_C_IP_IN_USE, NULL},
    {"vpc eip beats IpAddress in use", VPC_EIP, NULL, "47.96.0.9", NULL, false, -1,
     AIPA_C_OPERATION_DENIED_VPC_EIP, AIPA_C_OPERATION_DENIED_VPC_EIP, NULL},
    /* 10. VlanId */
    {"unknown VlanId", "", NULL, NULL, "vlan-zz", false, -1, OK, AIPA_C_INVALID_VLAN_ID_NOT_FOUND,
     NULL},
    {"VlanId that is a region, not a vlan", "", NULL, NULL, "cn-hangzhou", false, -1, OK,
     AIPA_C_INVALID_VLAN_ID_NOT_FOUND, NULL},
    {"VlanId of another vlan", "\"VlanAttributes\":{\"VlanId\":\"vlan-a\"}", NULL, NULL, "vlan-b",
     false, -1, OK, AIPA_C_OPERATION_DENIED_VLAN, NULL},
    {"VlanId for an instance in no vlan", "", NULL, NULL, "vlan-a", false, -1, OK,
     AIPA_C_OPERATION_DENIED_VLAN, NULL},
    {"VlanId of the instance's vlan", "\"VlanAttributes\":{\"VlanId\":\"vlan-a\"}", NULL, NULL,
     "vlan-a", false, -1, OK, OK, NULL},
    {"VlanId with no address left", "\"VlanAttributes\":{\"VlanId\":\"vlan-a\"}", NULL, NULL,
     "vlan-a", false, 0, AIPA_C_INSUFFICIENT_PUBLIC_IP, AIPA_C_OPERATION_DENIED_VLAN, NULL},
    {"unknown VlanId beats IpAddress not in pool", "", NULL, "8.8.8.8", "vlan-zz", false, -1, OK,
     AIPA_C_INVALID_VLAN_ID_NOT_FOUND, NULL},
    {"IpAddress and VlanId together", "\"VlanAttributes\":{\"VlanId\":\"vlan-a\"}", NULL,
     "47.96.0.77", "vlan-a", false, -1, OK, OK, NULL},
    /* 12. injected failures (2018 answers the common InternalError) */
    {"inject AllocateIp.Fail", INJ("AllocateIp.Fail"), NULL, NULL, NULL, false, -1,
     AIPA_C_INTERNAL_ERROR, AIPA_C_ALLOCATE_IP_FAIL, NULL},
    {"inject InvalidOperation.AllocateFailed", INJ("InvalidOperation.AllocateFailed"), NULL, NULL,
     NULL, false, -1, AIPA_C_INTERNAL_ERROR, AIPA_C_INVALID_OPERATION_ALLOCATE_FAILED, NULL},
    {"inject NAT_PUBLIC_IP_BINDING_FAILED", INJ("NAT_PUBLIC_IP_BINDING_FAILED"), NULL, NULL, NULL,
     false, -1, AIPA_C_INTERNAL_ERROR, AIPA_C_NAT_PUBLIC_IP_BINDING_FAILED, NULL},
    {"inject NAT_PUBLIC_IP_ALLOCATE_FAILED", INJ("NAT_PUBLIC_IP_ALLOCATE_FAILED"), NULL, NULL, NULL,
     false, -1, AIPA_C_INTERNAL_ERROR, AIPA_C_NAT_PUBLIC_IP_ALLOCATE_FAILED, NULL},
    {"inject InternalError", INJ("InternalError"), NULL, NULL, NULL, false, -1,
     AIPA_C_INTERNAL_ERROR, AIPA_C_INTERNAL_ERROR_ACTION, NULL},
    {"injected failure beats exhaustion", INJ("AllocateIp.Fail"), NULL, NULL, NULL, false, 0,
     AIPA_C_INTERNAL_ERROR, AIPA_C_ALLOCATE_IP_FAIL, NULL},
    {"security lock beats injected failure", SEC "," INJ("AllocateIp.Fail"), NULL, NULL, NULL,
     false, -1, AIPA_C_INSTANCE_LOCKED_FOR_SECURITY, AIPA_C_INSTANCE_LOCKED_FOR_SECURITY, NULL},
    /* 13. exhaustion */
    {"no free address", "", NULL, NULL, NULL, false, 0, AIPA_C_INSUFFICIENT_PUBLIC_IP,
     AIPA_C_INSUFFICIENT_PUBLIC_IP_2024, NULL},
    {"one free address", "", NULL, NULL, NULL, false, 1, OK, OK, NULL},
    {"a free IpAddress despite exhaustion of others", "", NULL, "47.96.0.5", NULL, false, 0,
     AIPA_C_INSUFFICIENT_PUBLIC_IP, AIPA_C_IP_IN_USE, NULL},
};

static void run_rule(const struct rule_case *rc, unsigned edition)
{
    char doc[2048];
    char ip[AIPA_IPV4_MAX];
    struct aipa_model *m;
    struct aipa_instance_view before;
    struct aipa_instance_view after;
    size_t free_before;
    enum aipa_code want = edition == AIPA_ED_2018 ? rc->want2018 : rc->want2024;
    enum aipa_code got;
    struct aipa_alloc_req req = {rc->id != NULL ? rc->id : "i-t", rc->ip, rc->vlan,
                                 !rc->not_whitelisted};

    (void)snprintf(doc, sizeof(doc),
                   "{" POOL24 ",\"Vlans\":[\"vlan-a\",\"vlan-b\"],\"Instances\":["
                   "{\"InstanceId\":\"i-holder\",\"PublicIpAddress\":{\"IpAddress\":"
                   "[\"47.96.0.9\"]}},{\"InstanceId\":\"i-t\"%s%s}]}",
                   rc->inst[0] ? "," : "", rc->inst);
    m = model_new(edition, 7, doc);
    if (rc->free >= 0) {
        assert_int_equal(aipa_model_set_pool_free(m, (size_t)rc->free), AIPA_OK);
    }
    assert_int_equal(aipa_model_get(m, "i-t", &before), AIPA_C_OK);
    free_before = aipa_model_pool_free(m);
    got = aipa_model_allocate(m, &req, ip);
    if (got != want) {
        char w[160];

        (void)snprintf(w, sizeof(w), "%s", code_name(want));
        fail_msg("%s [%s]: want %s, got %s", rc->name,
                 edition == AIPA_ED_2018 ? "2018-08-02" : "2024-12-20", w, code_name(got));
    }
    assert_int_equal(aipa_model_get(m, "i-t", &after), AIPA_C_OK);
    if (got == AIPA_C_OK) {
        assert_string_equal(after.public_ip, ip);
        if (rc->want_ip != NULL) {
            assert_string_equal(ip, rc->want_ip);
        } else if (req.ip_address != NULL && edition == AIPA_ED_2024) {
            assert_string_equal(ip, req.ip_address);
        }
        if (before.public_ip[0] == '\0') {
            /* A new address: one fewer free, not effective until a start or reboot. */
            assert_int_equal(aipa_model_pool_free(m), free_before - 1);
            assert_false(after.public_ip_effective);
            assert_string_not_equal(ip, "47.96.0.9");
        } else {
            assert_int_equal(aipa_model_pool_free(m), free_before);
        }
    } else {
        /* An error changes nothing but a consumed injection. */
        assert_string_equal(ip, "");
        assert_string_equal(after.public_ip, before.public_ip);
        assert_int_equal(aipa_model_pool_free(m), free_before);
    }
    assert_consistent(m);
    aipa_model_free(m);
}

static void rules_2018(void **state)
{
    (void)state;
    for (size_t i = 0; i < AIPA_ARRAY_LEN(rules); i++) {
        run_rule(&rules[i], AIPA_ED_2018);
    }
}

static void rules_2024(void **state)
{
    (void)state;
    for (size_t i = 0; i < AIPA_ARRAY_LEN(rules); i++) {
        run_rule(&rules[i], AIPA_ED_2024);
    }
}

/* Some rule case answers with the row's Code, from a row of the same edition. */
static bool code_reached(const char *code, unsigned edition)
{
    for (size_t i = 0; i < AIPA_ARRAY_LEN(rules); i++) {
        enum aipa_code c = edition == AIPA_ED_2018 ? rules[i].want2018 : rules[i].want2024;
        const struct aipa_api_error *e = aipa_code_info(c);

        if (e != NULL && strcmp(e->code, code) == 0) {
            /* The answer must belong to the edition it is given in. */
            assert_true((e->editions & edition) != 0 ||
                        (c == AIPA_C_INTERNAL_ERROR && edition == AIPA_ED_2018));
            return true;
        }
    }
    return false;
}

/*
 * Every AllocatePublicIpAddress row of the error table is answered by some
 * rule case in each edition the row belongs to. A Code with two messages is
 * reached through the row the server sends (the first, or the edition's own).
 */
static void every_row_is_reachable(void **state)
{
    (void)state;
    for (int c = 1; c <= AIPA_C_INTERNAL_ERROR_ACTION; c++) {
        const struct aipa_api_error *e = aipa_code_info((enum aipa_code)c);

        for (unsigned ed = AIPA_ED_2018; ed <= AIPA_ED_2024; ed <<= 1) {
            if ((e->editions & ed) != 0 && !code_reached(e->code, ed)) {
                fail_msg("no rule case reaches %s \"%s\" in edition %u", e->code, e->message, ed);
            }
        }
    }
    /* Both messages of AllocatedAlready and of InsufficientPublicIp are sent. */
    {
        bool first = false;
        bool second = false;

        for (size_t i = 0; i < AIPA_ARRAY_LEN(rules); i++) {
            first = first || rules[i].want2018 == AIPA_C_ALLOCATED_ALREADY;
            second = second || rules[i].want2024 == AIPA_C_ALLOCATED_ALREADY_2;
        }
        assert_true(first && second);
    }
    for (size_t i = 0; i < AIPA_ARRAY_LEN(rules); i++) {
        assert_int_not_equal(rules[i].want2018, AIPA_C_INSUFFICIENT_PUBLIC_IP_2024);
        assert_int_not_equal(rules[i].want2024, AIPA_C_INSUFFICIENT_PUBLIC_IP);
    }
    /* 2018 answers only with seed rows or the common InternalError. */
    for (size_t i = 0; i < AIPA_ARRAY_LEN(rules); i++) {
        const struct aipa_api_error *e = aipa_code_info(rules[i].want2018);

        assert_true(e == NULL || (e->editions & AIPA_ED_2018) != 0 ||
                    rules[i].want2018 == AIPA_C_INTERNAL_ERROR);
    }
}

static void injection_is_one_shot(void **state)
{
    struct aipa_model *m = model_new(AIPA_ED_2024, 1,
                                     "{" POOL24 ",\"Instances\":[{\"InstanceId\":\"i-t\"," INJ(
                                         "NAT_PUBLIC_IP_BINDING_FAILED") "}]}");
    struct aipa_alloc_req req = {"i-t", NULL, NULL, true};
    char ip[AIPA_IPV4_MAX];

    (void)state;
    assert_int_equal(aipa_model_allocate(m, &req, ip), AIPA_C_NAT_PUBLIC_IP_BINDING_FAILED);
    assert_int_equal(aipa_model_allocate(m, &req, ip), AIPA_C_OK);
    assert_string_not_equal(ip, "");
    /* A reset brings the injection back. */
    assert_int_equal(aipa_model_reset(m), AIPA_OK);
    assert_int_equal(aipa_model_allocate(m, &req, ip), AIPA_C_NAT_PUBLIC_IP_BINDING_FAILED);
    aipa_model_free(m);
}

static void edition_switch_changes_second_allocation(void **state)
{
    struct aipa_model *m =
        model_new(AIPA_ED_2018, 1, "{" POOL24 ",\"Instances\":[{\"InstanceId\":\"i-t\"}]}");
    struct aipa_alloc_req req = {"i-t", NULL, NULL, false};
    char ip[AIPA_IPV4_MAX];
    char first[AIPA_IPV4_MAX];

    (void)state;
    assert_int_equal(aipa_model_edition(m), AIPA_ED_2018);
    assert_int_equal(aipa_model_allocate(m, &req, first), AIPA_C_OK);
    assert_int_equal(aipa_model_allocate(m, &req, ip), AIPA_C_ALLOCATED_ALREADY);
    aipa_model_set_edition(m, AIPA_ED_2024);
    assert_int_equal(aipa_model_edition(m), AIPA_ED_2024);
    assert_int_equal(aipa_model_allocate(m, &req, ip), AIPA_C_OK);
    assert_string_equal(ip, first);
    aipa_model_set_edition(m, 99); /* ignored */
    assert_int_equal(aipa_model_edition(m), AIPA_ED_2024);
    aipa_model_free(m);
}

/* ---- lifecycle ---- */

static enum aipa_status status_of(struct aipa_model *m, const char *id)
{
    struct aipa_instance_view v;

    assert_int_equal(aipa_model_get(m, id, &v), AIPA_C_OK);
    return v.status;
}

static void lifecycle_transitions(void **state)
{
    static const char *const names[] = {"Pending", "Running", "Starting", "Stopping", "Stopped"};
    char doc[1024];
    struct aipa_model *m;

    (void)state;
    (void)snprintf(doc, sizeof(doc),
                   "{\"Instances\":[{\"InstanceId\":\"i-0\",\"Status\":\"%s\"},{\"InstanceId\":"
                   "\"i-1\",\"Status\":\"%s\"},{\"InstanceId\":\"i-2\",\"Status\":\"%s\"},"
                   "{\"InstanceId\":\"i-3\",\"Status\":\"%s\"},{\"InstanceId\":\"i-4\","
                   "\"Status\":\"%s\"}]}",
                   names[0], names[1], names[2], names[3], names[4]);
    m = model_new(AIPA_ED_2024, 1, doc);
    for (int s = 0; s < 5; s++) {
        char id[8];
        enum aipa_status st = (enum aipa_status)s;

        (void)snprintf(id, sizeof(id), "i-%d", s);
        assert_int_equal(status_of(m, id), st);
        assert_string_equal(aipa_status_name(st), names[s]);
        /* Start only from Stopped; stop and reboot only from Running. */
        assert_int_equal(aipa_model_start(m, id),
                         st == AIPA_ST_STOPPED ? AIPA_C_OK : AIPA_C_INCORRECT_INSTANCE_STATUS);
        if (st == AIPA_ST_STOPPED) {
            assert_int_equal(status_of(m, id), AIPA_ST_RUNNING);
            assert_int_equal(aipa_model_stop(m, id), AIPA_C_OK);
            assert_int_equal(status_of(m, id), AIPA_ST_STOPPED);
            continue;
        }
        assert_int_equal(aipa_model_reboot(m, id),
                         st == AIPA_ST_RUNNING ? AIPA_C_OK : AIPA_C_INCORRECT_INSTANCE_STATUS);
        assert_int_equal(status_of(m, id), st);
        assert_int_equal(aipa_model_stop(m, id),
                         st == AIPA_ST_RUNNING ? AIPA_C_OK : AIPA_C_INCORRECT_INSTANCE_STATUS);
        assert_int_equal(status_of(m, id), st == AIPA_ST_RUNNING ? AIPA_ST_STOPPED : st);
    }
    /* Stopped instances refuse stop and reboot. */
    assert_int_equal(aipa_model_stop(m, "i-4"), AIPA_C_INCORRECT_INSTANCE_STATUS);
    assert_int_equal(aipa_model_reboot(m, "i-4"), AIPA_C_INCORRECT_INSTANCE_STATUS);
    assert_int_equal(aipa_model_start(m, "i-nope"), AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND);
    assert_int_equal(aipa_model_stop(m, "i-nope"), AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND);
    assert_int_equal(aipa_model_reboot(m, NULL), AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND);
    assert_int_equal(aipa_status_parse("running", &(enum aipa_status){0}), AIPA_EPARSE);
    assert_string_equal(aipa_status_name((enum aipa_status)42), "Unknown");
    aipa_model_free(m);
}

static void effective_after_start_or_reboot(void **state)
{
    struct aipa_model *m = model_new(
        AIPA_ED_2024, 3,
        "{" POOL24 ",\"Instances\":[{\"InstanceId\":\"i-run\"},{\"InstanceId\":\"i-stop\","
        "\"Status\":\"Stopped\"}]}");
    struct aipa_alloc_req run = {"i-run", NULL, NULL, false};
    struct aipa_alloc_req stop = {"i-stop", NULL, NULL, false};
    struct aipa_instance_view v;
    char ip[AIPA_IPV4_MAX];

    (void)state;
    assert_int_equal(aipa_model_allocate(m, &run, ip), AIPA_C_OK);
    assert_int_equal(aipa_model_get(m, "i-run", &v), AIPA_C_OK);
    assert_string_equal(v.public_ip, ip);
    assert_false(v.public_ip_effective);
    /* Stop then nothing: still not effective. */
    assert_int_equal(aipa_model_stop(m, "i-run"), AIPA_C_OK);
    assert_int_equal(aipa_model_get(m, "i-run", &v), AIPA_C_OK);
    assert_false(v.public_ip_effective);
    assert_int_equal(aipa_model_start(m, "i-run"), AIPA_C_OK);
    assert_int_equal(aipa_model_get(m, "i-run", &v), AIPA_C_OK);
    assert_true(v.public_ip_effective);
    assert_string_equal(v.public_ip, ip);

    /* A stopped instance's address becomes effective at start; reboot also works. */
    assert_int_equal(aipa_model_allocate(m, &stop, ip), AIPA_C_OK);
    assert_int_equal(aipa_model_get(m, "i-stop", &v), AIPA_C_OK);
    assert_false(v.public_ip_effective);
    assert_int_equal(aipa_model_start(m, "i-stop"), AIPA_C_OK);
    assert_int_equal(aipa_model_get(m, "i-stop", &v), AIPA_C_OK);
    assert_true(v.public_ip_effective);

    /* Release, allocate again: the new one waits for a reboot. */
    assert_int_equal(aipa_model_release(m, "i-stop", ip), AIPA_C_OK);
    assert_int_equal(aipa_model_get(m, "i-stop", &v), AIPA_C_OK);
    assert_string_equal(v.public_ip, "");
    assert_false(v.public_ip_effective);
    assert_int_equal(aipa_model_allocate(m, &stop, ip), AIPA_C_OK);
    assert_int_equal(aipa_model_get(m, "i-stop", &v), AIPA_C_OK);
    assert_false(v.public_ip_effective);
    assert_int_equal(aipa_model_reboot(m, "i-stop"), AIPA_C_OK);
    assert_int_equal(aipa_model_get(m, "i-stop", &v), AIPA_C_OK);
    assert_true(v.public_ip_effective);
    /* A reboot without an address marks nothing. */
    assert_int_equal(aipa_model_release(m, "i-stop", ip), AIPA_C_OK);
    assert_int_equal(aipa_model_reboot(m, "i-stop"), AIPA_C_OK);
    assert_int_equal(aipa_model_get(m, "i-stop", &v), AIPA_C_OK);
    assert_false(v.public_ip_effective);
    assert_consistent(m);
    aipa_model_free(m);
}

static void release_errors(void **state)
{
    struct aipa_model *m = model_new(
        AIPA_ED_2024, 3,
        "{" POOL24 ",\"Instances\":[{\"InstanceId\":\"i-a\",\"PublicIpAddress\":{\"IpAddress\":"
        "[\"47.96.0.10\"]}},{\"InstanceId\":\"i-b\",\"PublicIpAddress\":{\"IpAddress\":"
        "[\"47.96.0.11\"]}},{\"InstanceId\":\"i-c\"},{\"InstanceId\":\"i-lock\",\"Status\":"
        "\"Stopping\"," SEC ",\"PublicIpAddress\":{\"IpAddress\":[\"47.96.0.12\"]}},"
        "{\"InstanceId\":\"i-starting\",\"Status\":\"Starting\",\"PublicIpAddress\":"
        "{\"IpAddress\":[\"47.96.0.13\"]}}]}");
    size_t free0 = aipa_model_pool_free(m);

    (void)state;
    assert_int_equal(free0, 254 - 4);
    assert_int_equal(aipa_model_release(m, "i-nope", "47.96.0.10"),
                     AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND);
    assert_int_equal(aipa_model_release(m, "i-nope", "bad"), AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND);
    /* No address, or not an address: not in the caller's records (M1-release, 400). */
    assert_int_equal(aipa_model_release(m, "i-a", NULL), AIPA_C_RELEASE_IP_NOT_FOUND);
    assert_int_equal(aipa_model_release(m, "i-a", "47.96.0"), AIPA_C_RELEASE_IP_NOT_FOUND);
    /* No InstanceId (optional in the metadata): NeedInstanceId, whatever the address. */
    assert_int_equal(aipa_model_release(m, NULL, "47.96.0.10"),
                     AIPA_C_INVALID_IP_ADDRESS_NEED_INSTANCE_ID);
    assert_int_equal(aipa_model_release(m, NULL, "bad"),
                     AIPA_C_INVALID_IP_ADDRESS_NEED_INSTANCE_ID);
    /* Locks and status come before the address. */
    assert_int_equal(aipa_model_release(m, "i-lock", "bad"), AIPA_C_INSTANCE_LOCKED_FOR_SECURITY);
    assert_int_equal(aipa_model_release(m, "i-lock", "47.96.0.12"),
                     AIPA_C_INSTANCE_LOCKED_FOR_SECURITY);
    assert_int_equal(aipa_model_release(m, "i-starting", "47.96.0.13"),
                     AIPA_C_INCORRECT_INSTANCE_STATUS);
    /* Another instance's address, an address not held, none at all. */
    assert_int_equal(aipa_model_release(m, "i-a", "47.96.0.11"), AIPA_C_RELEASE_IP_NOT_FOUND);
    assert_int_equal(aipa_model_release(m, "i-a", "8.8.8.8"), AIPA_C_RELEASE_IP_NOT_FOUND);
    assert_int_equal(aipa_model_release(m, "i-c", "47.96.0.10"), AIPA_C_RELEASE_IP_NOT_FOUND);
    assert_int_equal(aipa_model_pool_free(m), free0);
    /* The right one, then again. */
    assert_int_equal(aipa_model_release(m, "i-a", "47.96.0.10"), AIPA_C_OK);
    assert_int_equal(aipa_model_pool_free(m), free0 + 1);
    assert_int_equal(aipa_model_release(m, "i-a", "47.96.0.10"), AIPA_C_RELEASE_IP_NOT_FOUND);
    assert_int_equal(aipa_model_pool_free(m), free0 + 1);
    /* Stopped instances may release. */
    assert_int_equal(aipa_model_stop(m, "i-b"), AIPA_C_OK);
    assert_int_equal(aipa_model_release(m, "i-b", "47.96.0.11"), AIPA_C_OK);
    assert_consistent(m);
    aipa_model_free(m);
}

static void release_then_allocate_again(void **state)
{
    struct aipa_model *m =
        model_new(AIPA_ED_2018, 5, "{" POOL24 ",\"Instances\":[{\"InstanceId\":\"i-t\"}]}");
    struct aipa_alloc_req req = {"i-t", NULL, NULL, false};
    char ip[AIPA_IPV4_MAX];
    char other[AIPA_IPV4_MAX];

    (void)state;
    for (int i = 0; i < 50; i++) {
        assert_int_equal(aipa_model_allocate(m, &req, ip), AIPA_C_OK);
        assert_int_equal(aipa_model_pool_free(m), 253);
        assert_int_equal(aipa_model_allocate(m, &req, other), AIPA_C_ALLOCATED_ALREADY);
        assert_string_equal(other, ""); /* cleared on error */
        assert_int_equal(aipa_model_release(m, "i-t", ip), AIPA_C_OK);
        assert_int_equal(aipa_model_pool_free(m), 254);
    }
    assert_consistent(m);
    aipa_model_free(m);
}

/* A /29 pool has 6 addresses: exhaust it, release one, get exactly that one back. */
static void exhaustion_then_release(void **state)
{
    struct aipa_model *m = model_new(AIPA_ED_2024, 9,
                                     "{\"Pool\":{\"Cidrs\":[\"47.96.0.8/29\"]},\"Instances\":["
                                     "{\"InstanceId\":\"i-0\"},{\"InstanceId\":\"i-1\"},"
                                     "{\"InstanceId\":\"i-2\"},{\"InstanceId\":\"i-3\"},"
                                     "{\"InstanceId\":\"i-4\"},{\"InstanceId\":\"i-5\"},"
                                     "{\"InstanceId\":\"i-6\"}]}");
    char ips[7][AIPA_IPV4_MAX];
    bool seen[8] = {false};

    (void)state;
    assert_int_equal(aipa_model_pool_free(m), 6);
    for (int i = 0; i < 6; i++) {
        char id[8];
        struct aipa_alloc_req req = {id, NULL, NULL, false};
        unsigned last;

        (void)snprintf(id, sizeof(id), "i-%d", i);
        assert_int_equal(aipa_model_allocate(m, &req, ips[i]), AIPA_C_OK);
        /* 47.96.0.9 .. 47.96.0.14: never the network (.8) or broadcast (.15) address. */
        assert_int_equal(sscanf(ips[i], "47.96.0.%u", &last), 1);
        assert_true(last >= 9 && last <= 14);
        assert_false(seen[last - 8]);
        seen[last - 8] = true;
    }
    assert_int_equal(aipa_model_pool_free(m), 0);
    {
        struct aipa_alloc_req req = {"i-6", NULL, NULL, false};

        assert_int_equal(aipa_model_allocate(m, &req, ips[6]), AIPA_C_INSUFFICIENT_PUBLIC_IP_2024);
        aipa_model_set_edition(m, AIPA_ED_2018);
        assert_int_equal(aipa_model_allocate(m, &req, ips[6]), AIPA_C_INSUFFICIENT_PUBLIC_IP);
        assert_int_equal(aipa_model_release(m, "i-3", ips[3]), AIPA_C_OK);
        assert_int_equal(aipa_model_pool_free(m), 1);
        assert_int_equal(aipa_model_allocate(m, &req, ips[6]), AIPA_C_OK);
        assert_string_equal(ips[6], ips[3]);
        assert_int_equal(aipa_model_pool_free(m), 0);
    }
    assert_consistent(m);
    aipa_model_free(m);
}

static void set_pool_free_holds_back_exactly(void **state)
{
    struct aipa_model *m =
        model_new(AIPA_ED_2024, 9,
                  "{" POOL24 ",\"Instances\":[{\"InstanceId\":\"i-a\"},{\"InstanceId\":\"i-b\"}]}");
    struct aipa_alloc_req a = {"i-a", NULL, NULL, false};
    struct aipa_alloc_req b = {"i-b", NULL, NULL, false};
    char ip[AIPA_IPV4_MAX];

    (void)state;
    assert_int_equal(aipa_model_pool_free(m), 254);
    assert_int_equal(aipa_model_set_pool_free(m, 3), AIPA_OK);
    assert_int_equal(aipa_model_pool_free(m), 3);
    assert_int_equal(aipa_model_set_pool_free(m, 1000), AIPA_OK); /* at most: all 254 */
    assert_int_equal(aipa_model_pool_free(m), 254);
    assert_int_equal(aipa_model_set_pool_free(m, 1), AIPA_OK);
    assert_int_equal(aipa_model_allocate(m, &a, ip), AIPA_C_OK);
    assert_int_equal(aipa_model_pool_free(m), 0);
    assert_int_equal(aipa_model_allocate(m, &b, ip), AIPA_C_INSUFFICIENT_PUBLIC_IP_2024);
    assert_int_equal(aipa_model_set_pool_free(m, SIZE_MAX), AIPA_OK);
    assert_int_equal(aipa_model_pool_free(m), 253);
    assert_int_equal(aipa_model_set_pool_free(m, 0), AIPA_OK);
    assert_int_equal(aipa_model_pool_free(m), 0);
    /* A release while addresses are held back adds exactly one free. */
    {
        struct aipa_instance_view v;

        assert_int_equal(aipa_model_get(m, "i-a", &v), AIPA_C_OK);
        assert_int_equal(aipa_model_release(m, "i-a", v.public_ip), AIPA_C_OK);
        assert_int_equal(aipa_model_pool_free(m), 1);
    }
    assert_consistent(m);
    aipa_model_free(m);
}

static void pool_configuration(void **state)
{
    static const struct {
        const char *cidr;
        aipa_err want;
        size_t free;
    } cases[] = {
        {"47.96.0.0/16", AIPA_OK, 65534},
        {"47.96.0.0/30", AIPA_OK, 2},
        {"47.96.0.4/31", AIPA_OK, 2},
        {"47.96.0.7/32", AIPA_OK, 1},
        {"10.0.0.0/24", AIPA_EINVAL, 0},  /* private */
        {"100.0.0.0/8", AIPA_EINVAL, 0},  /* overlaps 100.64/10 */
        {"192.0.2.0/24", AIPA_EINVAL, 0}, /* documentation */
        {"47.96.0.1/24", AIPA_EINVAL, 0}, /* host bits */
        {"47.96.0.0/33", AIPA_EINVAL, 0},
        {"47.96.0.0/7", AIPA_EINVAL, 0}, /* wider than /8 */
        {"47.96.0.0", AIPA_EINVAL, 0},
        {"47.96.0.0/016", AIPA_EINVAL, 0},
        {"47.96.0.0/", AIPA_EINVAL, 0},
        {"47.0.0.0/8", AIPA_EINVAL, 0}, /* more than 2^22 addresses */
        {"", AIPA_EINVAL, 0},
    };

    (void)state;
    for (size_t i = 0; i < AIPA_ARRAY_LEN(cases); i++) {
        const char *cidrs[] = {cases[i].cidr};
        struct aipa_model_config cfg = {AIPA_ED_2024, 1, cidrs, 1, 0, false};
        struct aipa_model *m = (struct aipa_model *)&cfg; /* must become NULL on failure */

        if (aipa_model_new(&m, &cfg) != cases[i].want) {
            fail_msg("pool %s: unexpected result", cases[i].cidr);
        }
        if (cases[i].want == AIPA_OK) {
            assert_int_equal(aipa_model_pool_free(m), cases[i].free);
            assert_consistent(m);
        } else {
            assert_null(m);
        }
        aipa_model_free(m);
    }
    {
        /* Two blocks, overlapping or not; NULL config means the default pool. */
        const char *two[] = {"47.97.0.0/24", "47.96.0.0/24"};
        const char *overlap[] = {"47.96.0.0/16", "47.96.1.0/24"};
        struct aipa_model_config cfg = {AIPA_ED_2024, 1, two, 2, 0, false};
        struct aipa_model *m;

        assert_int_equal(aipa_model_new(&m, &cfg), AIPA_OK);
        assert_int_equal(aipa_model_pool_free(m), 508);
        aipa_model_free(m);
        cfg.pool_cidrs = overlap;
        assert_int_equal(aipa_model_new(&m, &cfg), AIPA_EINVAL);
        assert_int_equal(aipa_model_new(&m, NULL), AIPA_OK);
        assert_int_equal(aipa_model_pool_free(m), 65534);
        assert_int_equal(aipa_model_edition(m), AIPA_ED_2024);
        aipa_model_free(m);
        cfg.edition = 7;
        cfg.pool_cidrs = NULL;
        assert_int_equal(aipa_model_new(&m, &cfg), AIPA_EINVAL);
        aipa_model_free(NULL);
    }
}

/* Addresses named in a multi-block pool resolve to the right block. */
static void named_addresses_across_blocks(void **state)
{
    const char *cidrs[] = {"47.98.0.0/24", "47.96.0.0/30", "121.40.0.0/23"};
    struct aipa_model_config cfg = {AIPA_ED_2024, 1, cidrs, 3, 0, false};
    struct aipa_model *m;
    char id[AIPA_INSTANCE_ID_MAX];
    char ip[AIPA_IPV4_MAX];
    static const char *const ok[] = {"47.98.0.1",  "47.98.0.254", "47.96.0.1",   "47.96.0.2",
                                     "121.40.0.1", "121.40.1.0",  "121.40.1.254"};
    static const char *const absent[] = {"47.98.0.0",  "47.98.0.255",  "47.96.0.0", "47.96.0.3",
                                         "121.40.0.0", "121.40.1.255", "47.97.0.1", "1.1.1.1"};

    (void)state;
    assert_int_equal(aipa_model_new(&m, &cfg), AIPA_OK);
    assert_int_equal(aipa_model_pool_free(m), 254 + 2 + 510);
    for (size_t i = 0; i < AIPA_ARRAY_LEN(ok); i++) {
        struct aipa_alloc_req req = {id, ok[i], NULL, true};

        assert_int_equal(aipa_model_create_instance_json(m, "{}", 2, id, NULL), AIPA_OK);
        assert_int_equal(aipa_model_allocate(m, &req, ip), AIPA_C_OK);
        assert_string_equal(ip, ok[i]);
    }
    for (size_t i = 0; i < AIPA_ARRAY_LEN(absent); i++) {
        struct aipa_alloc_req req = {id, absent[i], NULL, true};

        assert_int_equal(aipa_model_create_instance_json(m, "{}", 2, id, NULL), AIPA_OK);
        assert_int_equal(aipa_model_allocate(m, &req, ip), AIPA_C_INVALID_IP_ADDRESS_NOT_FOUND);
    }
    assert_int_equal(aipa_model_pool_free(m), 766 - AIPA_ARRAY_LEN(ok));
    assert_consistent(m);
    aipa_model_free(m);
}

/* ---- determinism ---- */

static void run_script(uint64_t seed, char ids[20][AIPA_INSTANCE_ID_MAX],
                       char ips[20][AIPA_IPV4_MAX])
{
    struct aipa_model_config cfg = {AIPA_ED_2024, seed, NULL, 0, 0, false};
    struct aipa_model *m;

    memset(ids, 0, 20 * AIPA_INSTANCE_ID_MAX);
    memset(ips, 0, 20 * AIPA_IPV4_MAX);
    assert_int_equal(aipa_model_new(&m, &cfg), AIPA_OK);
    for (int i = 0; i < 20; i++) {
        struct aipa_alloc_req req = {ids[i], NULL, NULL, false};

        assert_int_equal(aipa_model_create_instance_json(m, "{}", 2, ids[i], NULL), AIPA_OK);
        assert_int_equal(strlen(ids[i]), 22);
        assert_memory_equal(ids[i], "i-", 2);
        for (int k = 2; k < 22; k++) {
            char c = ids[i][k];

            assert_true((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'));
        }
        assert_int_equal(aipa_model_allocate(m, &req, ips[i]), AIPA_C_OK);
    }
    aipa_model_free(m);
}

static void same_seed_same_ids_and_addresses(void **state)
{
    char ids_a[20][AIPA_INSTANCE_ID_MAX], ids_b[20][AIPA_INSTANCE_ID_MAX];
    char ips_a[20][AIPA_IPV4_MAX], ips_b[20][AIPA_IPV4_MAX];
    int same_ids = 0;
    int same_ips = 0;

    (void)state;
    run_script(42, ids_a, ips_a);
    run_script(42, ids_b, ips_b);
    assert_memory_equal(ids_a, ids_b, sizeof(ids_a));
    assert_memory_equal(ips_a, ips_b, sizeof(ips_a));
    run_script(43, ids_b, ips_b);
    for (int i = 0; i < 20; i++) {
        same_ids += strcmp(ids_a[i], ids_b[i]) == 0;
        same_ips += strcmp(ips_a[i], ips_b[i]) == 0;
    }
    assert_int_equal(same_ids, 0);
    assert_true(same_ips < 3);
}

/*
 * The address is drawn before the instance is looked up (so the pool's cache
 * misses overlap the look-up's), but only a successful allocation may
 * consume the draw: refused requests in between change no later choice.
 */
static void refused_requests_draw_nothing(void **state)
{
    static const char doc[] = "{\"Instances\":[{\"InstanceId\":\"i-a\"},{\"InstanceId\":"
                              "\"i-c\"},{\"InstanceId\":\"i-l\"," SEC "}]}";
    struct aipa_model *a = model_new(AIPA_ED_2024, 7, doc);
    struct aipa_model *b = model_new(AIPA_ED_2024, 7, doc);
    struct aipa_alloc_req ra = {"i-a", NULL, NULL, false};
    struct aipa_alloc_req rc = {"i-c", NULL, NULL, false};
    struct aipa_alloc_req nope = {"i-nope", NULL, NULL, false};
    struct aipa_alloc_req locked = {"i-l", NULL, NULL, false};
    char a1[AIPA_IPV4_MAX], a2[AIPA_IPV4_MAX], b1[AIPA_IPV4_MAX], b2[AIPA_IPV4_MAX];
    char x[AIPA_IPV4_MAX];

    (void)state;
    assert_int_equal(aipa_model_allocate(a, &ra, a1), AIPA_C_OK);
    assert_int_equal(aipa_model_allocate(a, &rc, a2), AIPA_C_OK);

    assert_int_equal(aipa_model_allocate(b, &nope, x), AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND);
    assert_int_equal(aipa_model_allocate(b, &locked, x), AIPA_C_INSTANCE_LOCKED_FOR_SECURITY);
    assert_int_equal(aipa_model_allocate(b, &ra, b1), AIPA_C_OK);
    /* Already allocated: the same address back, no draw. */
    assert_int_equal(aipa_model_allocate(b, &ra, x), AIPA_C_OK);
    assert_string_equal(x, b1);
    /* Releases refused after the pool's lines were prefetched change nothing. */
    assert_int_equal(aipa_model_release(b, "i-nope", b1), AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND);
    assert_int_equal(aipa_model_release(b, "i-c", b1), AIPA_C_RELEASE_IP_NOT_FOUND);
    assert_int_equal(aipa_model_release(b, "i-a", "47.96.0"), AIPA_C_RELEASE_IP_NOT_FOUND);
    assert_int_equal(aipa_model_allocate(b, &rc, b2), AIPA_C_OK);
    assert_string_equal(a1, b1);
    assert_string_equal(a2, b2);
    assert_string_not_equal(b1, b2);
    assert_int_equal(aipa_model_pool_free(b), 65534 - 2);
    assert_consistent(a);
    assert_consistent(b);
    aipa_model_free(a);
    aipa_model_free(b);
}

static void reset_replays_the_same_choices(void **state)
{
    struct aipa_model *m = model_new(
        AIPA_ED_2024, 11, "{\"Instances\":[{\"InstanceId\":\"i-a\"},{\"InstanceId\":\"i-b\"}]}");
    struct aipa_alloc_req a = {"i-a", NULL, NULL, false};
    char first[AIPA_IPV4_MAX], again[AIPA_IPV4_MAX];
    char gen1[AIPA_INSTANCE_ID_MAX], gen2[AIPA_INSTANCE_ID_MAX];

    (void)state;
    assert_int_equal(aipa_model_allocate(m, &a, first), AIPA_C_OK);
    assert_int_equal(aipa_model_create_instance_json(m, "{}", 2, gen1, NULL), AIPA_OK);
    assert_int_equal(aipa_model_instance_count(m), 3);
    assert_int_equal(aipa_model_reset(m), AIPA_OK);
    assert_int_equal(aipa_model_instance_count(m), 2);
    assert_int_equal(aipa_model_pool_free(m), 65534);
    assert_int_equal(aipa_model_allocate(m, &a, again), AIPA_C_OK);
    assert_string_equal(first, again);
    assert_int_equal(aipa_model_create_instance_json(m, "{}", 2, gen2, NULL), AIPA_OK);
    assert_string_equal(gen1, gen2);
    aipa_model_free(m);

    /* With no document loaded, reset empties the model. */
    m = model_new(AIPA_ED_2024, 11, NULL);
    assert_int_equal(aipa_model_populate(m, 5), AIPA_OK);
    assert_int_equal(aipa_model_instance_count(m), 5);
    assert_int_equal(aipa_model_reset(m), AIPA_OK);
    assert_int_equal(aipa_model_instance_count(m), 0);
    aipa_model_free(m);
}

/* ---- describe ---- */

static void describe_pages_and_ids(void **state)
{
    struct aipa_model *m = model_new(AIPA_ED_2024, 1, NULL);
    struct aipa_instance_view v[8];
    char ids[25][AIPA_INSTANCE_ID_MAX];
    size_t count;
    size_t total;

    (void)state;
    for (int i = 0; i < 25; i++) {
        assert_int_equal(aipa_model_create_instance_json(m, "{}", 2, ids[i], NULL), AIPA_OK);
    }
    assert_int_equal(aipa_model_describe(m, NULL, 0, 1, 10, v, 8, &count, &total), AIPA_C_OK);
    assert_int_equal(count, 8); /* capped by cap */
    assert_int_equal(total, 25);
    assert_string_equal(v[0].instance_id, ids[0]);
    assert_int_equal(aipa_model_describe(m, NULL, 0, 3, 10, v, 8, &count, &total), AIPA_C_OK);
    assert_int_equal(count, 5);
    assert_string_equal(v[0].instance_id, ids[20]);
    assert_string_equal(v[4].instance_id, ids[24]);
    assert_int_equal(aipa_model_describe(m, NULL, 0, 4, 10, v, 8, &count, &total), AIPA_C_OK);
    assert_int_equal(count, 0);
    assert_int_equal(aipa_model_describe(m, NULL, 0, SIZE_MAX, SIZE_MAX, v, 8, &count, &total),
                     AIPA_C_OK);
    assert_int_equal(count, 0);
    assert_int_equal(total, 25);
    {
        const char *want[] = {ids[7], "i-unknown", ids[3], ids[7]};

        assert_int_equal(aipa_model_describe(m, want, 4, 1, 10, v, 8, &count, &total), AIPA_C_OK);
        assert_int_equal(total, 3);
        assert_int_equal(count, 3);
        assert_string_equal(v[0].instance_id, ids[7]);
        assert_string_equal(v[1].instance_id, ids[3]);
        assert_string_equal(v[2].instance_id, ids[7]);
        assert_int_equal(aipa_model_describe(m, want, 4, 2, 2, v, 8, &count, &total), AIPA_C_OK);
        assert_int_equal(total, 3);
        assert_int_equal(count, 1);
        assert_string_equal(v[0].instance_id, ids[7]);
    }
    /* Defaults of a created instance. */
    assert_int_equal(v[0].status, AIPA_ST_RUNNING);
    assert_false(v[0].vpc);
    assert_int_equal(v[0].internet_max_bandwidth_out, 5);
    assert_string_equal(v[0].region_id, "cn-hangzhou");
    assert_string_equal(v[0].public_ip, "");
    assert_string_equal(v[0].eip_address, "");
    assert_string_equal(v[0].vlan_id, "");
    assert_int_equal(v[0].locks, 0);
    aipa_model_free(m);
}

static void view_carries_every_field(void **state)
{
    struct aipa_model *m = model_new(
        AIPA_ED_2024, 1,
        "{" POOL24 ",\"Instances\":[{\"InstanceId\":\"i-full\",\"Status\":\"Stopping\","
        "\"InstanceNetworkType\":\"vpc\",\"InternetMaxBandwidthOut\":100,"
        "\"PublicIpAddress\":{\"IpAddress\":[\"47.96.0.3\"]},\"AipaPublicIpEffective\":false,"
        "\"EipAddress\":{\"IpAddress\":\"42.112.0.10\",\"AllocationId\":\"eip-2ze88m67qx5z****\"},"
        "\"OperationLocks\":{\"LockReason\":[{\"LockReason\":\"financial\"},{\"LockReason\":"
        "\"recycling\"}]},\"RegionId\":\"ap-southeast-1\",\"VlanAttributes\":{\"VlanId\":"
        "\"vlan-123\"},\"AipaExpired\":true,\"AipaCloudbox\":true,\"AipaDedicatedRegion\":true}]}");
    struct aipa_instance_view v;

    (void)state;
    assert_int_equal(aipa_model_get(m, "i-full", &v), AIPA_C_OK);
    assert_string_equal(v.instance_id, "i-full");
    assert_int_equal(v.status, AIPA_ST_STOPPING);
    assert_true(v.vpc);
    assert_int_equal(v.internet_max_bandwidth_out, 100);
    assert_string_equal(v.public_ip, "47.96.0.3");
    assert_false(v.public_ip_effective);
    assert_string_equal(v.eip_address, "42.112.0.10");
    assert_string_equal(v.eip_allocation_id, "eip-2ze88m67qx5z****");
    assert_int_equal(v.locks, AIPA_LOCK_FINANCIAL | AIPA_LOCK_RECYCLING);
    assert_true(v.expired);
    assert_true(v.cloudbox);
    assert_true(v.dedicated_region);
    assert_string_equal(v.region_id, "ap-southeast-1");
    assert_string_equal(v.vlan_id, "vlan-123");
    assert_int_equal(aipa_model_get(m, "i-none", &v), AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND);
    assert_int_equal(aipa_model_get(m, NULL, &v), AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND);
    assert_int_equal(aipa_model_get(m, "", &v), AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND);
    aipa_model_free(m);
}

/* ---- more of the state and the checker ---- */

/* A named instance that takes the ID the generator will produce next: it retries. */
static void generated_id_avoids_taken_ones(void **state)
{
    struct aipa_model *m = model_new(AIPA_ED_2024, 77, NULL);
    char first[AIPA_INSTANCE_ID_MAX];
    char again[AIPA_INSTANCE_ID_MAX];
    char doc[128];

    (void)state;
    assert_int_equal(aipa_model_create_instance_json(m, "{}", 2, first, NULL), AIPA_OK);
    (void)snprintf(doc, sizeof(doc), "{\"Instances\":[{\"InstanceId\":\"%s\"}]}", first);
    assert_int_equal(aipa_model_load_json(m, doc, strlen(doc), NULL), AIPA_OK);
    /* load reseeded the generator: its next ID is `first`, which is taken. */
    assert_int_equal(aipa_model_create_instance_json(m, "{}", 2, again, NULL), AIPA_OK);
    assert_string_not_equal(again, first);
    assert_int_equal(aipa_model_instance_count(m), 2);
    assert_consistent(m);
    aipa_model_free(m);
}

/* A state may place an address that set_pool_free had held back. */
static void created_instance_claims_held_back_address(void **state)
{
    struct aipa_model *m = model_new(AIPA_ED_2024, 1, "{" POOL24 "}");
    static const char doc[] = "{\"PublicIpAddress\":{\"IpAddress\":[\"47.96.0.200\"]}}";
    char id[AIPA_INSTANCE_ID_MAX];
    struct aipa_instance_view v;

    (void)state;
    assert_int_equal(aipa_model_set_pool_free(m, 0), AIPA_OK);
    assert_int_equal(aipa_model_create_instance_json(m, doc, strlen(doc), id, NULL), AIPA_OK);
    assert_int_equal(aipa_model_get(m, id, &v), AIPA_C_OK);
    assert_string_equal(v.public_ip, "47.96.0.200");
    assert_int_equal(aipa_model_pool_free(m), 0);
    assert_consistent(m);
    /* Released, it joins the free zone. */
    assert_int_equal(aipa_model_release(m, id, "47.96.0.200"), AIPA_C_OK);
    assert_int_equal(aipa_model_pool_free(m), 1);
    assert_int_equal(aipa_model_set_pool_free(m, SIZE_MAX), AIPA_OK);
    assert_int_equal(aipa_model_pool_free(m), 254);
    assert_consistent(m);
    aipa_model_free(m);
}

/* Many distinct regions and VLANs grow the string table; past its limit, a clear error. */
static void string_table_grows_then_refuses(void **state)
{
    struct aipa_model *m = NULL;
    struct aipa_model_config cfg = {AIPA_ED_2024, 1, NULL, 0, 70000, false};
    struct aipa_buf why;
    char doc[160];
    aipa_err err = AIPA_OK;
    int made = 0;

    (void)state;
    aipa_buf_init(&why, 4096);
    assert_int_equal(aipa_model_new(&m, &cfg), AIPA_OK);
    for (int i = 0; i < 300; i++) {
        char id[AIPA_INSTANCE_ID_MAX];
        struct aipa_instance_view v;
        char want[32];

        (void)snprintf(doc, sizeof(doc),
                       "{\"RegionId\":\"r-%d\",\"VlanAttributes\":{\"VlanId\":\"v-%d\"}}", i, i);
        assert_int_equal(aipa_model_create_instance_json(m, doc, strlen(doc), id, NULL), AIPA_OK);
        assert_int_equal(aipa_model_get(m, id, &v), AIPA_C_OK);
        (void)snprintf(want, sizeof(want), "r-%d", i);
        assert_string_equal(v.region_id, want);
        (void)snprintf(want, sizeof(want), "v-%d", i);
        assert_string_equal(v.vlan_id, want);
    }
    /* Each instance adds one more distinct AllocationId until the table is full. */
    for (int i = 0; i < 70000 && err == AIPA_OK; i++) {
        (void)snprintf(doc, sizeof(doc),
                       "{\"EipAddress\":{\"IpAddress\":\"42.1.1.1\",\"AllocationId\":\"e-%d\"}}",
                       i);
        err = aipa_model_create_instance_json(m, doc, strlen(doc), NULL, &why);
        made += err == AIPA_OK;
    }
    assert_int_equal(err, AIPA_ETOOBIG);
    assert_non_null(strstr(why.ptr, "too many distinct"));
    /* "" + the default region + 300 regions + 300 VLANs + the AllocationIds = 65535 entries. */
    assert_int_equal(made, 65535 - 2 - 600);
    assert_int_equal(aipa_model_instance_count(m), (size_t)(300 + made));
    assert_consistent(m);
    aipa_buf_cleanup(&why);
    aipa_model_free(m);
}

/* Corrupt the internals one way at a time: the checker names each fault. */
static void check_notices_corruption(void **state)
{
    static const char doc[] = "{" POOL24 ",\"Instances\":["
                              "{\"InstanceId\":\"i-a\",\"PublicIpAddress\":{\"IpAddress\":"
                              "[\"47.96.0.10\"]}},{\"InstanceId\":\"i-b\",\"PublicIpAddress\":"
                              "{\"IpAddress\":[\"47.96.0.11\"]}},{\"InstanceId\":\"i-c\"}]}";
    static const char *const reasons[] = {
        "held by two instances", "not from the pool",
        "instances hold",        "effective without",
        "not indexed back",      "zones exceed",
        "out-of-range field",    "not in the pool's in-use zone",
    };

    (void)state;
    for (size_t k = 0; k < AIPA_ARRAY_LEN(reasons); k++) {
        struct aipa_model *m = model_new(AIPA_ED_2024, 1, doc);
        struct aipa_model_state *st = &m->st;
        struct aipa_inst *a = aipa__find(st, "i-a", 3);
        struct aipa_inst *b = aipa__find(st, "i-b", 3);
        struct aipa_inst *c = aipa__find(st, "i-c", 3);
        struct aipa_buf why;
        uint32_t idx;

        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(c);
        assert_consistent(m);
        switch (k) {
        case 0:
            b->public_ip = a->public_ip;
            break;
        case 1:
            a->public_ip = 0x08080808u; /* 8.8.8.8 */
            break;
        case 2:
            a->public_ip = 0; /* the pool still counts it in use */
            a->flags = (uint8_t)(a->flags & ~AIPA_IF_EFFECTIVE);
            break;
        case 3:
            c->flags |= AIPA_IF_EFFECTIVE;
            break;
        case 4:
            st->pool.pos[0] = 5;
            break;
        case 5:
            st->pool.nfree = st->pool.size + 1;
            break;
        case 6:
            c->status = 9;
            break;
        default:
            /* c takes a free address the pool does not know is in use. */
            assert_true(aipa__pool_index(&st->pool, 0x2f600064u, &idx)); /* 47.96.0.100 */
            assert_int_equal(aipa__pool_zone(&st->pool, idx), AIPA_POOL_FREE);
            c->public_ip = 0x2f600064u;
            a->public_ip = 0;
            a->flags = (uint8_t)(a->flags & ~AIPA_IF_EFFECTIVE);
            break;
        }
        aipa_buf_init(&why, 4096);
        assert_int_equal(aipa_model_check(m, &why), AIPA_EINVAL);
        if (strstr(why.ptr, reasons[k]) == NULL) {
            fail_msg("corruption %zu: reason \"%s\" lacks \"%s\"", k, why.ptr, reasons[k]);
        }
        assert_int_equal(aipa_model_check(m, NULL), AIPA_EINVAL);
        aipa_buf_cleanup(&why);
        aipa_model_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rules_2018),
        cmocka_unit_test(rules_2024),
        cmocka_unit_test(every_row_is_reachable),
        cmocka_unit_test(injection_is_one_shot),
        cmocka_unit_test(edition_switch_changes_second_allocation),
        cmocka_unit_test(lifecycle_transitions),
        cmocka_unit_test(effective_after_start_or_reboot),
        cmocka_unit_test(release_errors),
        cmocka_unit_test(release_then_allocate_again),
        cmocka_unit_test(exhaustion_then_release),
        cmocka_unit_test(set_pool_free_holds_back_exactly),
        cmocka_unit_test(pool_configuration),
        cmocka_unit_test(named_addresses_across_blocks),
        cmocka_unit_test(same_seed_same_ids_and_addresses),
        cmocka_unit_test(refused_requests_draw_nothing),
        cmocka_unit_test(reset_replays_the_same_choices),
        cmocka_unit_test(describe_pages_and_ids),
        cmocka_unit_test(view_carries_every_field),
        cmocka_unit_test(generated_id_avoids_taken_ones),
        cmocka_unit_test(created_instance_claims_held_back_address),
        cmocka_unit_test(string_table_grows_then_refuses),
        cmocka_unit_test(check_notices_corruption),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
