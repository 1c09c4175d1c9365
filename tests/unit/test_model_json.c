/*
 * Unit tests of the model's state documents: load/dump round trips, every
 * class of malformed document (with its one-line reason), creating single
 * instances, and allocation failure injected through the allocator hook.
 */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include "aipa/model.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct aipa_model *model_new(unsigned edition)
{
    struct aipa_model *m = NULL;
    struct aipa_model_config cfg = {edition, 99, NULL, 0, 0, false};

    assert_int_equal(aipa_model_new(&m, &cfg), AIPA_OK);
    return m;
}

static void dump(struct aipa_model *m, struct aipa_buf *out)
{
    aipa_buf_init(out, 64u << 20);
    assert_int_equal(aipa_model_dump_json(m, out), AIPA_OK);
}

static void load_ok(struct aipa_model *m, const char *doc)
{
    struct aipa_buf why;

    aipa_buf_init(&why, 4096);
    if (aipa_model_load_json(m, doc, strlen(doc), &why) != AIPA_OK) {
        fail_msg("load failed: %s", why.ptr ? why.ptr : "");
    }
    aipa_buf_cleanup(&why);
}

/* The dump without its Counters line (counters restart at a load). */
static size_t state_part(const struct aipa_buf *b)
{
    const char *c = strstr(b->ptr, "\"Counters\"");

    assert_non_null(c);
    return (size_t)(c - b->ptr);
}

static const char rich[] =
    "{\"Edition\":\"2018-08-02\",\"Pool\":{\"Cidrs\":[\"47.96.0.0/24\",\"121.40.0.0/28\"],"
    "\"FreeCount\":100},\"Vlans\":[\"vlan-x\"],\"Instances\":{\"Instance\":["
    "{\"InstanceId\":\"i-a\",\"Status\":\"Stopped\",\"InstanceNetworkType\":\"vpc\","
    "\"InternetMaxBandwidthOut\":0,\"RegionId\":\"cn-beijing\"},"
    "{\"InstanceId\":\"i-b\",\"PublicIpAddress\":{\"IpAddress\":[\"121.40.0.3\"]},"
    "\"AipaPublicIpEffective\":false,\"VlanAttributes\":{\"VlanId\":\"vlan-y\"}},"
    "{\"InstanceId\":\"i-c\",\"EipAddress\":{\"IpAddress\":\"42.112.0.10\",\"AllocationId\":"
    "\"eip-2ze88m67qx5z****\",\"InternetChargeType\":\"PayByTraffic\",\"Bandwidth\":5,"
    "\"IsSupportUnassociate\":true},\"OperationLocks\":{\"LockReason\":[{\"LockReason\":"
    "\"security\",\"LockMsg\":\"x\"},{\"LockReason\":\"refunded\"}]},\"AipaExpired\":true,"
    "\"AipaCloudbox\":true,\"AipaDedicatedRegion\":true,\"AipaNextAllocateError\":"
    "\"NAT_PUBLIC_IP_ALLOCATE_FAILED\"},"
    "{\"Status\":\"Pending\"}]}}";

static void round_trip(void **state)
{
    struct aipa_model *m = model_new(AIPA_ED_2024);
    struct aipa_model *m2 = model_new(AIPA_ED_2024);
    struct aipa_buf d1, d2, d3;
    struct aipa_alloc_req req = {"i-a", NULL, NULL, false};
    char ip[AIPA_IPV4_MAX];

    (void)state;
    load_ok(m, rich);
    assert_int_equal(aipa_model_edition(m), AIPA_ED_2018);
    assert_int_equal(aipa_model_instance_count(m), 4);
    assert_int_equal(aipa_model_pool_free(m), 100);
    /* Change it a little so the dump holds an allocation and a held-back pool. */
    assert_int_equal(aipa_model_allocate(m, &req, ip), AIPA_C_OK);
    dump(m, &d1);
    load_ok(m2, d1.ptr);
    dump(m2, &d2);
    assert_int_equal(state_part(&d1), state_part(&d2));
    assert_memory_equal(d1.ptr, d2.ptr, state_part(&d1));
    /* A dump of a loaded dump is identical, counters included. */
    load_ok(m, d2.ptr);
    dump(m, &d3);
    assert_string_equal(d2.ptr, d3.ptr);
    assert_non_null(strstr(d1.ptr, "\"Allocations\":1"));
    assert_non_null(strstr(d1.ptr, "\"PoolFree\":99"));
    assert_non_null(strstr(d1.ptr, "\"Vlans\":[\"vlan-x\",\"vlan-y\"]"));
    assert_non_null(strstr(d1.ptr, "\"AipaNextAllocateError\":\"NAT_PUBLIC_IP_ALLOCATE_FAILED\""));
    assert_non_null(strstr(d1.ptr, "{\"LockReason\":\"security\"},{\"LockReason\":\"refunded\"}"));
    assert_non_null(strstr(d1.ptr, "\"Cidrs\":[\"47.96.0.0/24\",\"121.40.0.0/28\"]"));
    {
        struct aipa_buf why;

        aipa_buf_init(&why, 4096);
        assert_int_equal(aipa_model_check(m, &why), AIPA_OK);
        assert_int_equal(aipa_model_check(m2, &why), AIPA_OK);
        aipa_buf_cleanup(&why);
    }
    aipa_buf_cleanup(&d1);
    aipa_buf_cleanup(&d2);
    aipa_buf_cleanup(&d3);
    aipa_model_free(m);
    aipa_model_free(m2);
}

static void dump_respects_buffer_ceiling(void **state)
{
    struct aipa_model *m = model_new(AIPA_ED_2024);
    struct aipa_buf out;

    (void)state;
    load_ok(m, rich);
    aipa_buf_init(&out, 64);
    assert_int_equal(aipa_buf_puts(&out, "keep"), AIPA_OK);
    assert_int_equal(aipa_model_dump_json(m, &out), AIPA_ETOOBIG);
    assert_string_equal(out.ptr, "keep"); /* all or nothing */
    aipa_buf_cleanup(&out);
    aipa_model_free(m);
}

struct bad_doc {
    const char *doc;
    const char *reason; /* a substring of the one-line reason */
};

#define I(x) "{\"Instances\":[" x "]}"

static const struct bad_doc bad_docs[] = {
    /* not a document */
    {"", "not valid JSON"},
    {"{", "not valid JSON"},
    {"{\"Instances\":[]} x", "trailing bytes"},
    {"{}{}", "trailing bytes"},
    {"[]", "state: expected an object"},
    {"null", "state: expected an object"},
    {"\"x\"", "state: expected an object"},
    /* top level */
    {"{\"Foo\":1}", "state: unknown field \"Foo\""},
    /* control bytes from the document never break the one-line reason */
    {"{\"Fo\\no\\r\":1}", "state: unknown field \"Fo?o?\""},
    {"{\"Instances\":[],\"Instances\":[]}", "field \"Instances\" appears twice"},
    {"{\"Edition\":\"2019-01-01\"}", "state.Edition"},
    {"{\"Edition\":2018}", "state.Edition: expected a string"},
    {"{\"Instances\":7}", "state.Instances: expected an array"},
    {"{\"Instances\":{\"Instance\":7}}", "state.Instances: expected an array"},
    {"{\"Instances\":{\"Instances\":[]}}", "state.Instances: unknown field"},
    {"{\"Vlans\":\"vlan-a\"}", "state.Vlans: expected an array"},
    {"{\"Vlans\":[\"\"]}", "state.Vlans[]"},
    {"{\"Vlans\":[\"vlan-with-a-long-name\"]}", "state.Vlans[]"},
    {"{\"Counters\":[]}", "state.Counters: expected an object"},
    /* pool */
    {"{\"Pool\":[]}", "state.Pool: expected an object"},
    {"{\"Pool\":{\"Size\":1}}", "state.Pool: unknown field"},
    {"{\"Pool\":{\"Cidrs\":[]}}", "state.Pool.Cidrs: expected a non-empty array"},
    {"{\"Pool\":{\"Cidrs\":\"47.96.0.0/16\"}}", "state.Pool.Cidrs: expected a non-empty array"},
    {"{\"Pool\":{\"Cidrs\":[16]}}", "expected a string"},
    {"{\"Pool\":{\"Cidrs\":[\"192.168.0.0/16\"]}}", "overlaps 192.168.0.0/16 (private)"},
    {"{\"Pool\":{\"Cidrs\":[\"47.96.0.1/16\"]}}", "is not a CIDR block"},
    {"{\"Pool\":{\"Cidrs\":[\"47.96.0.0/16\",\"47.96.128.0/17\"]}}", "overlap"},
    {"{\"Pool\":{\"Cidrs\":[\"47.0.0.0/8\"]}}", "more than 4194304 addresses"},
    {"{\"Pool\":{\"FreeCount\":-1}}", "state.Pool.FreeCount"},
    {"{\"Pool\":{\"FreeCount\":1.5}}", "state.Pool.FreeCount"},
    {"{\"Pool\":{\"FreeCount\":\"10\"}}", "state.Pool.FreeCount: expected an integer"},
    /* instances */
    {I("7"), "state.Instances[0]: expected an object"},
    {I("{},[]"), "state.Instances[1]: expected an object"},
    {I("{\"InstanceName\":\"x\"}"), "state.Instances[0]: unknown field \"InstanceName\""},
    {I("{\"Status\":\"Running\",\"Status\":\"Running\"}"), "field \"Status\" appears twice"},
    {I("{\"InstanceId\":\"\"}"), "state.Instances[0].InstanceId"},
    {I("{\"InstanceId\":\"i a\"}"), "state.Instances[0].InstanceId"},
    {I("{\"InstanceId\":\"i-\\\"quote\"}"), "state.Instances[0].InstanceId"},
    {I("{\"InstanceId\":\"i-0123456789012345678901234567890\"}"), "InstanceId"},
    {I("{\"InstanceId\":5}"), "InstanceId: expected a string"},
    {I("{\"InstanceId\":\"i-x\"},{\"InstanceId\":\"i-x\"}"),
     "state.Instances[1]: InstanceId i-x already exists"},
    {I("{\"Status\":\"running\"}"), "state.Instances[0].Status: \"running\" is not one of"},
    {I("{\"Status\":\"run\\tning\"}"), "Status: \"run?ning\" is not one of"},
    {I("{\"Status\":null}"), "Status: expected a string"},
    {I("{\"InstanceNetworkType\":\"VPC\"}"), "InstanceNetworkType: \"VPC\" is not classic or vpc"},
    {I("{\"InternetMaxBandwidthOut\":\"5\"}"), "InternetMaxBandwidthOut: expected an integer"},
    {I("{\"InternetMaxBandwidthOut\":2.5}"), "InternetMaxBandwidthOut: expected an integer from"},
    {I("{\"InternetMaxBandwidthOut\":3e10}"), "InternetMaxBandwidthOut: expected an integer from"},
    {I("{\"PublicIpAddress\":[\"47.96.0.1\"]}"), "PublicIpAddress: expected an object"},
    {I("{\"PublicIpAddress\":{\"IpAddress\":\"47.96.0.1\"}}"),
     "PublicIpAddress.IpAddress: expected an array"},
    {I("{\"PublicIpAddress\":{\"IpAddress\":[\"47.96.0.1\",\"47.96.0.2\"]}}"), "at most one"},
    {I("{\"PublicIpAddress\":{\"IpAddress\":[\"47.96.0\"]}}"), "not a dotted-quad"},
    {I("{\"PublicIpAddress\":{\"IpAddress\":[\"0.0.0.0\"]}}"), "not a dotted-quad"},
    {I("{\"PublicIpAddress\":{\"IpAddress\":[\"8.8.8.8\"]}}"), "is not in the address pool"},
    {I("{\"PublicIpAddress\":{\"IpAddress\":[\"47.96.0.0\"]}}"), "is not in the address pool"},
    {I("{\"PublicIpAddress\":{\"IpAddress\":[\"47.96.0.1\"]}},"
       "{\"PublicIpAddress\":{\"IpAddress\":[\"47.96.0.1\"]}}"),
     "state.Instances[1]: PublicIpAddress 47.96.0.1 of i-"},
    {I("{\"PublicIpAddress\":{\"Ip\":[]}}"), "PublicIpAddress: unknown field"},
    {I("{\"EipAddress\":{\"IpAddress\":\"x\"}}"), "EipAddress.IpAddress"},
    {I("{\"EipAddress\":{\"AllocationId\":\"eip-1\"}}"), "AllocationId without IpAddress"},
    {I("{\"EipAddress\":{\"IpAddress\":\"42.1.1.1\",\"Bandwidth\":\"5\"}}"), "Bandwidth"},
    {I("{\"EipAddress\":{\"IpAddress\":\"42.1.1.1\",\"IsSupportUnassociate\":1}}"),
     "IsSupportUnassociate: expected true or false"},
    {I("{\"EipAddress\":{\"IpAddress\":\"42.1.1.1\",\"Extra\":1}}"), "EipAddress: unknown field"},
    {I("{\"OperationLocks\":[]}"), "OperationLocks: expected an object"},
    {I("{\"OperationLocks\":{\"LockReason\":{}}}"), "LockReason: expected an array"},
    {I("{\"OperationLocks\":{\"LockReason\":[\"security\"]}}"),
     "LockReason[0]: expected an object"},
    {I("{\"OperationLocks\":{\"LockReason\":[{\"LockMsg\":\"x\"}]}}"), "LockReason is required"},
    {I("{\"OperationLocks\":{\"LockReason\":[{\"LockReason\":\"Security\"}]}}"),
     "\"Security\" is not one of financial"},
    {I("{\"OperationLocks\":{\"LockReason\":[{\"LockReason\":\"security\",\"Why\":1}]}}"),
     "unknown field \"Why\""},
    {I("{\"RegionId\":\"a-region-name-that-is-too-long\"}"), "RegionId"},
    {I("{\"RegionId\":\"\"}"), "RegionId"},
    {I("{\"VlanAttributes\":{\"VlanId\":7}}"), "VlanId: expected a string"},
    {I("{\"VlanAttributes\":{\"PrivateIpAddress\":\"x\"}}"), "VlanAttributes: unknown field"},
    {I("{\"AipaExpired\":\"true\"}"), "AipaExpired: expected true or false"},
    {I("{\"AipaCloudbox\":1}"), "AipaCloudbox: expected true or false"},
    {I("{\"AipaDedicatedRegion\":null}"), "AipaDedicatedRegion: expected true or false"},
    {I("{\"AipaPublicIpEffective\":true}"), "AipaPublicIpEffective is true without"},
    {I("{\"AipaNextAllocateError\":\"IpInUse\"}"), "AipaNextAllocateError: \"IpInUse\" is not"},
    {I("{\"AipaNextAllocateError\":false}"), "AipaNextAllocateError: expected a string"},
};

static void malformed_documents(void **state)
{
    struct aipa_model *m = model_new(AIPA_ED_2024);
    struct aipa_buf before;
    struct aipa_buf after;
    struct aipa_buf why;

    (void)state;
    load_ok(m, rich);
    dump(m, &before);
    aipa_buf_init(&why, 4096);
    for (size_t i = 0; i < AIPA_ARRAY_LEN(bad_docs); i++) {
        const char *doc = bad_docs[i].doc;
        aipa_err err = aipa_model_load_json(m, doc, strlen(doc), &why);

        if (err != AIPA_EPARSE) {
            fail_msg("case %zu %s: want AIPA_EPARSE, got %s", i, doc, aipa_errname(err));
        }
        if (why.ptr == NULL || strstr(why.ptr, bad_docs[i].reason) == NULL ||
            strchr(why.ptr, '\n') != NULL) {
            fail_msg("case %zu %s: reason \"%s\" lacks \"%s\"", i, doc, why.ptr ? why.ptr : "",
                     bad_docs[i].reason);
        }
        /* A failed load leaves the model as it was. */
        dump(m, &after);
        assert_string_equal(before.ptr, after.ptr);
        aipa_buf_cleanup(&after);
    }
    /* A NUL inside the declared length is not JSON either; a NULL pointer is refused. */
    assert_int_equal(aipa_model_load_json(m, "{}\0{}", 5, &why), AIPA_EPARSE);
    assert_int_equal(aipa_model_load_json(m, NULL, 0, &why), AIPA_EPARSE);
    /* Reasons are optional. */
    assert_int_equal(aipa_model_load_json(m, "[]", 2, NULL), AIPA_EPARSE);
    /* A document shorter than the buffer: only len bytes are read. */
    assert_int_equal(aipa_model_load_json(m, "{}garbage", 2, &why), AIPA_OK);
    assert_int_equal(aipa_model_instance_count(m), 0);
    aipa_buf_cleanup(&why);
    aipa_buf_cleanup(&before);
    aipa_model_free(m);
}

static void defaults_and_shapes(void **state)
{
    struct aipa_model *m = model_new(AIPA_ED_2024);
    struct aipa_instance_view v;

    (void)state;
    load_ok(m, "{\"Instances\":[{\"InstanceId\":\"i-x\",\"PublicIpAddress\":{\"IpAddress\":"
               "[\"47.96.7.7\"]},\"EipAddress\":{\"IpAddress\":\"\",\"AllocationId\":\"\"},"
               "\"VlanAttributes\":{\"VlanId\":\"\"},\"AipaNextAllocateError\":\"\","
               "\"OperationLocks\":{}}],\"Counters\":{\"Anything\":1}}");
    assert_int_equal(aipa_model_get(m, "i-x", &v), AIPA_C_OK);
    assert_int_equal(v.status, AIPA_ST_RUNNING);
    assert_int_equal(v.internet_max_bandwidth_out, 5);
    assert_string_equal(v.public_ip, "47.96.7.7");
    assert_true(v.public_ip_effective); /* a state's address is effective unless it says not */
    assert_string_equal(v.eip_address, "");
    assert_string_equal(v.vlan_id, "");
    assert_string_equal(v.region_id, "cn-hangzhou");
    assert_int_equal(aipa_model_pool_free(m), 65533);
    /* An empty document is an empty model with the configured pool. */
    load_ok(m, " {} \n");
    assert_int_equal(aipa_model_instance_count(m), 0);
    assert_int_equal(aipa_model_pool_free(m), 65534);
    aipa_model_free(m);
}

static void create_instance(void **state)
{
    struct aipa_model *m = model_new(AIPA_ED_2024);
    char id[AIPA_INSTANCE_ID_MAX];
    struct aipa_buf why;
    struct aipa_instance_view v;
    static const char vpc[] = "{\"Status\":\"Stopped\",\"InstanceNetworkType\":\"vpc\","
                              "\"PublicIpAddress\":{\"IpAddress\":[\"47.96.1.2\"]}}";

    (void)state;
    aipa_buf_init(&why, 4096);
    assert_int_equal(aipa_model_create_instance_json(m, vpc, strlen(vpc), id, &why), AIPA_OK);
    assert_int_equal(strlen(id), 22);
    assert_int_equal(aipa_model_get(m, id, &v), AIPA_C_OK);
    assert_int_equal(v.status, AIPA_ST_STOPPED);
    assert_true(v.vpc);
    assert_string_equal(v.public_ip, "47.96.1.2");
    assert_int_equal(aipa_model_pool_free(m), 65533);
    /* The same address again: held by another instance. */
    assert_int_equal(aipa_model_create_instance_json(m, vpc, strlen(vpc), id, &why), AIPA_EEXIST);
    assert_non_null(strstr(why.ptr, "held by another instance"));
    assert_string_equal(id, "");
    /* A named ID, then the same ID again. */
    assert_int_equal(aipa_model_create_instance_json(m, "{\"InstanceId\":\"i-n\"}", 20, id, &why),
                     AIPA_OK);
    assert_string_equal(id, "i-n");
    assert_int_equal(aipa_model_create_instance_json(m, "{\"InstanceId\":\"i-n\"}", 20, id, &why),
                     AIPA_EEXIST);
    assert_non_null(strstr(why.ptr, "already exists"));
    /* Bad documents name the path "instance". */
    assert_int_equal(aipa_model_create_instance_json(m, "{\"Status\":1}", 12, id, &why),
                     AIPA_EPARSE);
    assert_non_null(strstr(why.ptr, "instance.Status"));
    assert_int_equal(aipa_model_create_instance_json(m, "[]", 2, NULL, NULL), AIPA_EPARSE);
    assert_int_equal(aipa_model_instance_count(m), 2);
    /* Create does not change the seed state that reset returns to. */
    assert_int_equal(aipa_model_reset(m), AIPA_OK);
    assert_int_equal(aipa_model_instance_count(m), 0);
    aipa_buf_cleanup(&why);
    aipa_model_free(m);
}

static void instance_limit(void **state)
{
    struct aipa_model *m = NULL;
    struct aipa_model_config cfg = {AIPA_ED_2024, 1, NULL, 0, 3, false};
    struct aipa_buf why;

    (void)state;
    aipa_buf_init(&why, 4096);
    assert_int_equal(aipa_model_new(&m, &cfg), AIPA_OK);
    assert_int_equal(aipa_model_populate(m, 3), AIPA_OK);
    assert_int_equal(aipa_model_populate(m, 1), AIPA_ETOOBIG);
    assert_int_equal(aipa_model_create_instance_json(m, "{}", 2, NULL, &why), AIPA_ETOOBIG);
    assert_non_null(strstr(why.ptr, "more than 3 instances"));
    assert_int_equal(aipa_model_load_json(m, I("{},{},{},{}"), strlen(I("{},{},{},{}")), &why),
                     AIPA_ETOOBIG);
    assert_int_equal(aipa_model_instance_count(m), 3);
    aipa_buf_cleanup(&why);
    aipa_model_free(m);
}

/* ---- allocation failure ---- */

static void out_of_memory_is_clean(void **state)
{
    struct aipa_buf d0;
    struct aipa_buf d1;
    int oks = 0;
    static const char region[] = "{\"RegionId\":\"eu-central-1\"}";

    (void)state;
    aipa_set_allocator(&aipa_test_oom_allocator);
    /* model_new under every failure point. */
    for (long k = 0; k < 32; k++) {
        struct aipa_model *m = (struct aipa_model *)&d0;
        struct aipa_model_config cfg = {AIPA_ED_2024, 1, NULL, 0, 0, false};
        aipa_err err;

        aipa_test_oom_arm(k);
        err = aipa_model_new(&m, &cfg);
        aipa_test_oom_arm(-1);
        if (err == AIPA_OK) {
            oks++;
            aipa_model_free(m);
        } else {
            assert_int_equal(err, AIPA_ENOMEM);
            assert_null(m);
        }
    }
    assert_true(oks > 0);
    /* load, create and populate: the model stays whole and consistent. */
    for (long k = 0; k < 200; k++) {
        struct aipa_model *m = model_new(AIPA_ED_2024);
        struct aipa_buf why;
        aipa_err err;

        load_ok(m, "{\"Instances\":[{\"InstanceId\":\"i-old\"}]}");
        dump(m, &d0);
        aipa_test_oom_arm(k);
        err = aipa_model_load_json(m, rich, strlen(rich), NULL);
        aipa_test_oom_arm(-1);
        assert_true(err == AIPA_OK || err == AIPA_ENOMEM);
        dump(m, &d1);
        if (err != AIPA_OK) {
            assert_string_equal(d0.ptr, d1.ptr);
        }
        aipa_buf_cleanup(&d0);
        aipa_buf_cleanup(&d1);
        aipa_test_oom_arm(k);
        err = aipa_model_populate(m, 40);
        aipa_test_oom_arm(-1);
        assert_true(err == AIPA_OK || err == AIPA_ENOMEM);
        aipa_test_oom_arm(k);
        err = aipa_model_create_instance_json(m, region, strlen(region), NULL, NULL);
        aipa_test_oom_arm(-1);
        assert_true(err == AIPA_OK || err == AIPA_ENOMEM);
        aipa_test_oom_arm(k);
        err = aipa_model_reset(m);
        aipa_test_oom_arm(-1);
        assert_true(err == AIPA_OK || err == AIPA_ENOMEM);
        aipa_buf_init(&why, 4096);
        aipa_test_oom_arm(k);
        err = aipa_model_check(m, NULL);
        aipa_test_oom_arm(-1);
        assert_true(err == AIPA_OK || err == AIPA_ENOMEM);
        assert_int_equal(aipa_model_check(m, &why), AIPA_OK);
        aipa_buf_cleanup(&why);
        aipa_model_free(m);
    }
    aipa_set_allocator(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(dump_respects_buffer_ceiling),
        cmocka_unit_test(malformed_documents),
        cmocka_unit_test(defaults_and_shapes),
        cmocka_unit_test(create_instance),
        cmocka_unit_test(instance_limit),
        cmocka_unit_test(out_of_memory_is_clean),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
