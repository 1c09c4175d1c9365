/*
 * Unit tests: reading a target's state document (aipa/fixture_state.h): the
 * rules of conformance/FIXTURES.md "State document", the counters, and the
 * addresses ${pool.address} and ${pool.outside} stand for.
 */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
// clang-format off
#include <cmocka.h>
// clang-format on
#include "aipa/fixture_state.h"
#include "aipa/model.h"

#include <string.h>

static aipa_err read_doc(const char *doc, struct aipa_fxstate *s, struct aipa_buf *why)
{
    aipa_buf_reset(why);
    return aipa_fxstate_read(doc, strlen(doc), s, why);
}

/* The reference's own dump reads back, with its counters, and names its pool. */
static void reference_dump_reads(void **state)
{
    const char *const cidrs[] = {"198.51.7.0/30"};
    struct aipa_model_config cfg = {AIPA_ED_2024, 7, cidrs, 1, 0, false};
    struct aipa_model *m = NULL;
    struct aipa_buf dump, why;
    struct aipa_fxstate s;
    char id[AIPA_INSTANCE_ID_MAX];
    const char *inst = "{\"PublicIpAddress\":{\"IpAddress\":[\"198.51.7.1\"]}}";

    (void)state;
    aipa_buf_init(&dump, 1 << 20);
    aipa_buf_init(&why, 512);
    assert_int_equal(aipa_model_new(&m, &cfg), AIPA_OK);
    assert_int_equal(aipa_model_create_instance_json(m, inst, strlen(inst), id, &why), AIPA_OK);
    assert_int_equal(aipa_model_dump_json(m, &dump), AIPA_OK);
    assert_int_equal(aipa_fxstate_read(dump.ptr, dump.len, &s, &why), AIPA_OK);
    assert_string_equal(s.edition, "2024-12-20");
    assert_int_equal(s.instance_count, 1);
    assert_int_equal(s.held_count, 1);
    assert_int_equal(s.pool_size, 2); /* .1 and .2: network and broadcast skipped */
    assert_int_equal(s.free_count, 1);
    assert_string_equal(s.pool_address, "198.51.7.2"); /* .1 is held */
    assert_string_equal(s.pool_outside, "8.8.8.8");
    aipa_model_free(m);
    aipa_buf_cleanup(&dump);
    aipa_buf_cleanup(&why);
}

static void picks_follow_the_pool(void **state)
{
    struct aipa_buf why;
    struct aipa_fxstate s;

    (void)state;
    aipa_buf_init(&why, 512);
    /* A /32 block's one address counts; 8.8.8.8 inside the pool is not "outside". */
    assert_int_equal(read_doc("{\"Pool\":{\"Cidrs\":[\"8.8.8.0/24\",\"1.2.3.4/32\"],"
                              "\"FreeCount\":255}}",
                              &s, &why),
                     AIPA_OK);
    assert_string_equal(s.pool_address, "8.8.8.1");
    assert_string_equal(s.pool_outside, "1.1.1.1");
    assert_int_equal(s.pool_size, 255);
    /* Every address of the first block held: the next block's. */
    assert_int_equal(read_doc("{\"Pool\":{\"Cidrs\":[\"1.2.3.4/32\",\"5.6.7.0/31\"],"
                              "\"FreeCount\":2},\"Instances\":[{\"PublicIpAddress\":"
                              "{\"IpAddress\":[\"1.2.3.4\"]}}]}",
                              &s, &why),
                     AIPA_OK);
    assert_string_equal(s.pool_address, "5.6.7.0");
    aipa_buf_cleanup(&why);
}

static void broken_documents_say_why(void **state)
{
    static const struct {
        const char *doc;
        const char *reason;
    } bad[] = {
        {"{\"Pool\":{\"Cidrs\":[\"47.96.0.1/16\"],\"FreeCount\":1}}", "CIDR"},
        {"{\"Pool\":{\"Cidrs\":[\"10.0.0.0/24\"],\"FreeCount\":1}}", "not public"},
        {"{\"Pool\":{\"FreeCount\":1}}", "state.Pool.Cidrs: missing"},
        {"{\"Pool\":{\"Cidrs\":[\"1.2.3.0/30\"]}}", "state.Pool.FreeCount: missing"},
        {"{\"Pool\":{\"Cidrs\":[\"1.2.3.0/30\"],\"FreeCount\":2},\"Instances\":[{\"Status\":"
         "\"Runing\"}]}",
         "Status"},
        {"{\"Pool\":{\"Cidrs\":[\"1.2.3.0/30\"],\"FreeCount\":2},\"Instances\":[],"
         "\"Counters\":{\"PoolFree\":3}}",
         "state.Counters.PoolFree is 3 but Pool.FreeCount is 2"},
        {"{\"Pool\":{\"Cidrs\":[\"1.2.3.0/30\"],\"FreeCount\":2},\"Instances\":[{}],"
         "\"Counters\":{\"InstanceCount\":2}}",
         "state.Counters.InstanceCount is 2 but the number of Instances is 1"},
        {"{\"Pool\":{\"Cidrs\":[\"1.2.3.0/30\"],\"FreeCount\":2},"
         "\"Counters\":{\"PoolHeldBack\":1}}",
         "state.Counters.PoolHeldBack is 1"},
        {"{\"Pool\":{\"Cidrs\":[\"1.2.3.0/30\"],\"FreeCount\":2},"
         "\"Counters\":{\"Allocations\":-1}}",
         "state.Counters.Allocations: expected a non-negative integer"},
        {"{\"Pool\":{\"Cidrs\":[\"1.2.3.0/30\"],\"FreeCount\":2},\"Instances\":[{\"InstanceId\":"
         "\"i-1\"},{\"InstanceId\":\"i-1\"}]}",
         "i-1"},
        {"[]", ""},
    };
    struct aipa_buf why;
    struct aipa_fxstate s;

    (void)state;
    aipa_buf_init(&why, 512);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        aipa_err e = read_doc(bad[i].doc, &s, &why);

        if (e != AIPA_EPARSE || why.ptr == NULL || strstr(why.ptr, bad[i].reason) == NULL) {
            fail_msg("document %zu: error %d, reason \"%s\", wanted one with \"%s\"", i, (int)e,
                     why.ptr != NULL ? why.ptr : "", bad[i].reason);
        }
    }
    aipa_buf_cleanup(&why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_dump_reads),
        cmocka_unit_test(picks_follow_the_pool),
        cmocka_unit_test(broken_documents_say_why),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
