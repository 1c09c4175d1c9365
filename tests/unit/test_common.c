/* Unit tests: buffers, the allocator hook, the PRNG and the error table. */
/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
// clang-format off
#include <cmocka.h>
// clang-format on
#include "aipa/common.h"
#include "aipa/errors.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static void buf_append_respects_ceiling(void **state)
{
    struct aipa_buf b;

    (void)state;
    aipa_buf_init(&b, 8);
    assert_int_equal(aipa_buf_puts(&b, "abcd"), AIPA_OK);
    assert_int_equal(aipa_buf_puts(&b, "efgh"), AIPA_OK);
    assert_string_equal(b.ptr, "abcdefgh");
    /* One byte past the ceiling fails and leaves the content alone. */
    assert_int_equal(aipa_buf_putc(&b, 'x'), AIPA_ETOOBIG);
    assert_int_equal(b.len, 8);
    assert_string_equal(b.ptr, "abcdefgh");
    aipa_buf_reset(&b);
    assert_int_equal(aipa_buf_printf(&b, "%d-%s", 42, "z"), AIPA_OK);
    assert_string_equal(b.ptr, "42-z");
    assert_int_equal(aipa_buf_printf(&b, "%s", "123456789"), AIPA_ETOOBIG);
    assert_string_equal(b.ptr, "42-z");
    aipa_buf_cleanup(&b);
}

static void buf_reserve_rejects_overflow(void **state)
{
    struct aipa_buf b;

    (void)state;
    aipa_buf_init(&b, SIZE_MAX);
    assert_int_equal(aipa_buf_putc(&b, 'a'), AIPA_OK);
    assert_int_equal(aipa_buf_reserve(&b, SIZE_MAX), AIPA_ETOOBIG);
    aipa_buf_cleanup(&b);
}

static void allocator_failure_is_reported(void **state)
{
    struct aipa_buf b;

    (void)state;
    aipa_test_oom_arm(0);
    aipa_set_allocator(&aipa_test_oom_allocator);
    aipa_buf_init(&b, 100);
    assert_int_equal(aipa_buf_puts(&b, "x"), AIPA_ENOMEM);
    assert_null(aipa_strdup("abc"));
    aipa_set_allocator(NULL);
    assert_int_equal(aipa_buf_puts(&b, "x"), AIPA_OK);
    aipa_buf_cleanup(&b);
}

static void rng_is_deterministic(void **state)
{
    struct aipa_rng a, b;
    char u1[37], u2[37];

    (void)state;
    aipa_rng_seed(&a, 7);
    aipa_rng_seed(&b, 7);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(aipa_rng_next(&a), aipa_rng_next(&b));
    }
    aipa_rng_uuid(&a, u1);
    aipa_rng_uuid(&b, u2);
    assert_string_equal(u1, u2);
    assert_int_equal(strlen(u1), 36);
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            assert_int_equal(u1[i], '-');
        } else {
            assert_true((u1[i] >= '0' && u1[i] <= '9') || (u1[i] >= 'A' && u1[i] <= 'F'));
        }
    }
    for (int i = 0; i < 1000; i++) {
        assert_true(aipa_rng_below(&a, 3) < 3);
    }
    assert_int_equal(aipa_rng_below(&a, 0), 0);
}

static void error_table_rows(void **state)
{
    const struct aipa_api_error *e;
    enum aipa_code ids[8];
    struct aipa_buf b;

    (void)state;
    e = aipa_code_info(AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND);
    assert_non_null(e);
    assert_string_equal(e->code, "InvalidInstanceId.NotFound");
    assert_int_equal(e->http_status, 404);
    assert_null(aipa_code_info(AIPA_C_OK));
    assert_null(aipa_code_info(AIPA_C_COUNT_));

    e = aipa_code_lookup("AllocatedAlready", strlen("AllocatedAlready"));
    assert_non_null(e);
    assert_int_equal(e->id, AIPA_C_ALLOCATED_ALREADY);
    assert_int_equal(e->http_status, 403);
    /* OperationDenied has three documented messages (spec/wire.md §5.3). */
    assert_int_equal(aipa_code_lookup_all("OperationDenied", 15, ids, 8), 3);
    assert_null(aipa_code_lookup("NoSuchCode", 10));

    aipa_buf_init(&b, 1024);
    assert_int_equal(aipa_code_format_message(AIPA_C_MISSING_PARAMETER, "InstanceId", &b), AIPA_OK);
    assert_string_equal(b.ptr, "The input parameter \"InstanceId\" that is mandatory for "
                               "processing this request is not supplied.");
    aipa_buf_reset(&b);
    assert_int_equal(aipa_code_format_code(AIPA_C_MISSING_NAMED, "InstanceId", &b), AIPA_OK);
    assert_string_equal(b.ptr, "MissingInstanceId");
    aipa_buf_cleanup(&b);
}

static void every_seed_row_is_in_both_editions(void **state)
{
    static const struct {
        const char *code;
        int status;
    } seed[] = {
        {"InsufficientPublicIp", 400},       {"OperationDenied", 400},
        {"AllocatedAlready", 403},           {"IncorrectInstanceStatus", 403},
        {"InstanceExpiredOrInArrears", 403}, {"InstanceLockedForSecurity", 403},
        {"InvalidInstanceId.NotFound", 404},
    };

    (void)state;
    for (size_t i = 0; i < AIPA_ARRAY_LEN(seed); i++) {
        enum aipa_code ids[8];
        size_t n = aipa_code_lookup_all(seed[i].code, strlen(seed[i].code), ids, 8);
        unsigned editions = 0;

        assert_true(n >= 1);
        for (size_t k = 0; k < n && k < 8; k++) {
            const struct aipa_api_error *e = aipa_code_info(ids[k]);
            assert_int_equal(e->http_status, seed[i].status);
            editions |= e->editions;
        }
        assert_int_equal(editions, AIPA_ED_ALL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_append_respects_ceiling),
        cmocka_unit_test(buf_reserve_rejects_overflow),
        cmocka_unit_test(allocator_failure_is_reported),
        cmocka_unit_test(rng_is_deterministic),
        cmocka_unit_test(error_table_rows),
        cmocka_unit_test(every_seed_row_is_in_both_editions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
