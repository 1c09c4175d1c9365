/*
 * The model's callers (aipa_model_*_as): accounts (another account's
 * instance does not exist for a caller), DryRun (every check, no change),
 * the lifecycle actions' lock codes, DescribeInstances' Status filter, and
 * the injectable release failures, as docs/internals/errors.md gives them.
 */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h> /* after setjmp.h, stdarg.h, stddef.h */
// clang-format on

#include "aipa/model.h"

#include <stdio.h>
#include <string.h>

#define POOL "\"Pool\":{\"Cidrs\":[\"47.96.0.0/24\"]}"

static struct aipa_model *model_new(unsigned edition, const char *doc)
{
    struct aipa_model *m = NULL;
    struct aipa_model_config cfg = {edition, 7, NULL, 0, 0, false};
    struct aipa_buf why;

    assert_int_equal(aipa_model_new(&m, &cfg), AIPA_OK);
    aipa_buf_init(&why, 4096);
    if (aipa_model_load_json(m, doc, strlen(doc), &why) != AIPA_OK) {
        fail_msg("load failed: %s", why.ptr ? why.ptr : "");
    }
    aipa_buf_cleanup(&why);
    return m;
}

static void dump(struct aipa_model *m, struct aipa_buf *out)
{
    aipa_buf_init(out, 1u << 20);
    assert_int_equal(aipa_model_dump_json(m, out), AIPA_OK);
}

/* The state as a string, for "nothing changed" (Counters included). */
static void assert_same_state(struct aipa_model *m, const struct aipa_buf *before)
{
    struct aipa_buf now;

    dump(m, &now);
    assert_string_equal(now.ptr, before->ptr);
    aipa_buf_cleanup(&now);
}

static const char accounts_doc[] =
    "{" POOL ",\"Instances\":["
    "{\"InstanceId\":\"i-mine\",\"PublicIpAddress\":{\"IpAddress\":[\"47.96.0.10\"]}},"
    "{\"InstanceId\":\"i-stopped\",\"Status\":\"Stopped\"},"
    "{\"InstanceId\":\"i-theirs\",\"AipaOwnerId\":\"1002\","
    "\"PublicIpAddress\":{\"IpAddress\":[\"47.96.0.11\"]}}]}";

static void another_accounts_instance_is_invisible(void **state)
{
    struct aipa_model *m = model_new(AIPA_ED_2024, accounts_doc);
    struct aipa_caller me = {NULL, false}, other = {"1002", false}, stranger = {"1003", false};
    struct aipa_alloc_req ar = {"i-mine", NULL, NULL, false};
    struct aipa_instance_view v[4];
    struct aipa_describe_filter all = {NULL, 0, false, AIPA_ST_RUNNING};
    const char *ids[] = {"i-mine", "i-theirs"};
    struct aipa_describe_filter some = {ids, 2, false, AIPA_ST_RUNNING};
    struct aipa_buf before;
    char ip[AIPA_IPV4_MAX];
    size_t count, total;

    (void)state;
    dump(m, &before);
    /* The second account: every action on the first one's instances is NotFound, and changes
     * nothing. */
    assert_int_equal(aipa_model_allocate_as(m, &other, &ar, ip),
                     AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND);
    assert_int_equal(aipa_model_release_as(m, &other, "i-mine", "47.96.0.10"),
                     AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND);
    assert_int_equal(aipa_model_stop_as(m, &other, "i-mine"), AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND);
    assert_int_equal(aipa_model_reboot_as(m, &other, "i-mine"),
                     AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND);
    assert_int_equal(aipa_model_start_as(m, &other, "i-stopped"),
                     AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND);
    /* An account that owns nothing sees nothing. */
    assert_int_equal(aipa_model_stop_as(m, &stranger, "i-theirs"),
                     AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND);
    assert_same_state(m, &before);
    /* And the first account cannot touch the second one's. */
    assert_int_equal(aipa_model_release_as(m, &me, "i-theirs", "47.96.0.11"),
                     AIPA_C_INVALID_INSTANCE_ID_NOT_FOUND);
    assert_same_state(m, &before);
    /* DescribeInstances lists only the caller's instances, listed or not by id. */
    assert_int_equal(aipa_model_describe_as(m, &other, &all, 1, 10, v, 4, &count, &total),
                     AIPA_C_OK);
    assert_int_equal(count, 1);
    assert_int_equal(total, 1);
    assert_string_equal(v[0].instance_id, "i-theirs");
    assert_string_equal(v[0].owner_id, "1002");
    assert_int_equal(aipa_model_describe_as(m, &me, &all, 1, 10, v, 4, &count, &total), AIPA_C_OK);
    assert_int_equal(total, 2);
    assert_string_equal(v[0].instance_id, "i-mine");
    assert_string_equal(v[1].instance_id, "i-stopped");
    assert_int_equal(aipa_model_describe_as(m, &me, &some, 1, 10, v, 4, &count, &total), AIPA_C_OK);
    assert_int_equal(total, 1);
    assert_string_equal(v[0].instance_id, "i-mine");
    assert_int_equal(aipa_model_describe_as(m, &stranger, &all, 1, 10, v, 4, &count, &total),
                     AIPA_C_OK);
    assert_int_equal(total, 0);
    /* The operator (NULL) sees all three. */
    assert_int_equal(aipa_model_describe_as(m, NULL, &all, 1, 10, v, 4, &count, &total), AIPA_C_OK);
    assert_int_equal(total, 3);
    /* Each account acts on its own. */
    assert_int_equal(aipa_model_release_as(m, &other, "i-theirs", "47.96.0.11"), AIPA_C_OK);
    assert_int_equal(aipa_model_release_as(m, &me, "i-mine", "47.96.0.10"), AIPA_C_OK);
    aipa_buf_cleanup(&before);
    aipa_model_free(m);
}

static void owner_survives_dump_and_load(void **state)
{
    struct aipa_model *m = model_new(AIPA_ED_2024, accounts_doc);
    struct aipa_model *m2;
    struct aipa_caller other = {"1002", false};
    struct aipa_buf d;
    struct aipa_instance_view v;

    (void)state;
    dump(m, &d);
    assert_non_null(strstr(d.ptr, "\"AipaOwnerId\":\"1002\""));
    m2 = model_new(AIPA_ED_2024, d.ptr);
    assert_int_equal(aipa_model_stop_as(m2, &other, "i-theirs"), AIPA_C_OK);
    assert_int_equal(aipa_model_get(m2, "i-theirs", &v), AIPA_C_OK);
    assert_int_equal(v.status, AIPA_ST_STOPPED);
    aipa_buf_cleanup(&d);
    aipa_model_free(m);
    aipa_model_free(m2);
}

static void dry_run_checks_everything_and_changes_nothing(void **state)
{
    struct aipa_model *m =
        model_new(AIPA_ED_2024,
                  "{" POOL ",\"Instances\":[{\"InstanceId\":\"i-run\"},"
                  "{\"InstanceId\":\"i-held\",\"PublicIpAddress\":{\"IpAddress\":[\"47.96.0.10\"]},"
                  "\"AipaNextReleaseError\":\"OperationTimesOverLimit\"},"
                  "{\"InstanceId\":\"i-stop\",\"Status\":\"Stopped\",\"AipaNextAllocateError\":"
                  "\"AllocateIp.Fail\"},"
                  "{\"InstanceId\":\"i-lock\",\"OperationLocks\":{\"LockReason\":[{\"LockReason\":"
                  "\"security\"}]}}]}");
    struct aipa_caller dry = {NULL, true};
    struct aipa_alloc_req run = {"i-run", NULL, NULL, false};
    struct aipa_alloc_req stop = {"i-stop", NULL, NULL, false};
    struct aipa_alloc_req held = {"i-held", NULL, NULL, false};
    struct aipa_alloc_req lock = {"i-lock", NULL, NULL, false};
    struct aipa_buf before;
    char ip[AIPA_IPV4_MAX];

    (void)state;
    dump(m, &before);
    /* Every check passes: DryRunOperation. */
    assert_int_equal(aipa_model_allocate_as(m, &dry, &run, ip), AIPA_C_DRY_RUN_OPERATION);
    assert_int_equal(aipa_model_allocate_as(m, &dry, &held, ip), AIPA_C_DRY_RUN_OPERATION);
    assert_int_equal(aipa_model_stop_as(m, &dry, "i-run"), AIPA_C_DRY_RUN_OPERATION);
    assert_int_equal(aipa_model_reboot_as(m, &dry, "i-run"), AIPA_C_DRY_RUN_OPERATION);
    assert_int_equal(aipa_model_start_as(m, &dry, "i-stop"), AIPA_C_DRY_RUN_OPERATION);
    /* A check fails: that error, as without DryRun. */
    assert_int_equal(aipa_model_allocate_as(m, &dry, &lock, ip),
                     AIPA_C_INSTANCE_LOCKED_FOR_SECURITY);
    assert_int_equal(aipa_model_start_as(m, &dry, "i-run"), AIPA_C_INCORRECT_INSTANCE_STATUS);
    assert_int_equal(aipa_model_release_as(m, &dry, "i-run", "47.96.0.10"),
                     AIPA_C_RELEASE_IP_NOT_FOUND);
    assert_int_equal(aipa_model_release_as(m, &dry, NULL, "47.96.0.10"),
                     AIPA_C_INVALID_IP_ADDRESS_NEED_INSTANCE_ID);
    /* An injected failure answers, but stays pending. */
    assert_int_equal(aipa_model_allocate_as(m, &dry, &stop, ip), AIPA_C_DRY_RUN_OPERATION);
    assert_int_equal(aipa_model_release_as(m, &dry, "i-held", "47.96.0.10"),
                     AIPA_C_OPERATION_TIMES_OVER_LIMIT);
    assert_same_state(m, &before);
    /* Without DryRun the injected failures fire once. */
    assert_int_equal(aipa_model_allocate(m, &stop, ip), AIPA_C_ALLOCATE_IP_FAIL);
    assert_int_equal(aipa_model_release(m, "i-held", "47.96.0.10"),
                     AIPA_C_OPERATION_TIMES_OVER_LIMIT);
    assert_int_equal(aipa_model_release(m, "i-held", "47.96.0.10"), AIPA_C_OK);
    assert_int_equal(aipa_model_release(m, "i-held", "47.96.0.10"), AIPA_C_RELEASE_IP_NOT_FOUND);
    aipa_buf_cleanup(&before);
    aipa_model_free(m);
}

static void lifecycle_lock_codes(void **state)
{
    struct aipa_model *m = model_new(
        AIPA_ED_2024,
        "{" POOL ",\"Instances\":["
        "{\"InstanceId\":\"i-sec\",\"Status\":\"Stopped\",\"OperationLocks\":{\"LockReason\":"
        "[{\"LockReason\":\"security\"},{\"LockReason\":\"financial\"}]}},"
        "{\"InstanceId\":\"i-fin-stopped\",\"Status\":\"Stopped\",\"OperationLocks\":{"
        "\"LockReason\":"
        "[{\"LockReason\":\"financial\"}]}},"
        "{\"InstanceId\":\"i-expired\",\"AipaExpired\":true},"
        "{\"InstanceId\":\"i-recycling\",\"Status\":\"Stopped\",\"OperationLocks\":{\"LockReason\":"
        "[{\"LockReason\":\"recycling\"}]}}]}");

    (void)state;
    /* Security first, then expiry (Start's own Code), then status. */
    assert_int_equal(aipa_model_start(m, "i-sec"), AIPA_C_INSTANCE_LOCKED_FOR_SECURITY);
    assert_int_equal(aipa_model_stop(m, "i-sec"), AIPA_C_INSTANCE_LOCKED_FOR_SECURITY);
    assert_int_equal(aipa_model_start(m, "i-fin-stopped"), AIPA_C_INSTANCE_EXPIRED);
    assert_int_equal(aipa_model_reboot(m, "i-fin-stopped"), AIPA_C_INSTANCE_EXPIRED_OR_IN_ARREARS);
    assert_int_equal(aipa_model_stop(m, "i-expired"), AIPA_C_INSTANCE_EXPIRED_OR_IN_ARREARS);
    assert_int_equal(aipa_model_reboot(m, "i-expired"), AIPA_C_INSTANCE_EXPIRED_OR_IN_ARREARS);
    /* A recycling lock does not stop a start. */
    assert_int_equal(aipa_model_start(m, "i-recycling"), AIPA_C_OK);
    aipa_model_free(m);
}

static void describe_filters_by_status(void **state)
{
    struct aipa_model *m = model_new(
        AIPA_ED_2024, "{" POOL ",\"Instances\":[{\"InstanceId\":\"i-1\"},{\"InstanceId\":\"i-2\","
                      "\"Status\":\"Stopped\"},{\"InstanceId\":\"i-3\"},{\"InstanceId\":\"i-4\","
                      "\"Status\":\"Stopped\"},{\"InstanceId\":\"i-5\",\"Status\":\"Stopped\"}]}");
    struct aipa_describe_filter f = {NULL, 0, true, AIPA_ST_STOPPED};
    struct aipa_instance_view v[2];
    size_t count, total;

    (void)state;
    assert_int_equal(aipa_model_describe_as(m, NULL, &f, 2, 2, v, 2, &count, &total), AIPA_C_OK);
    assert_int_equal(total, 3);
    assert_int_equal(count, 1);
    assert_string_equal(v[0].instance_id, "i-5");
    f.status = AIPA_ST_PENDING;
    assert_int_equal(aipa_model_describe_as(m, NULL, &f, 1, 2, v, 2, &count, &total), AIPA_C_OK);
    assert_int_equal(total, 0);
    aipa_model_free(m);
}

static void release_exceed_duration_once(void **state)
{
    struct aipa_model *m = model_new(
        AIPA_ED_2018, "{" POOL ",\"Instances\":[{\"InstanceId\":\"i-new\",\"PublicIpAddress\":"
                      "{\"IpAddress\":[\"47.96.0.20\"]},\"AipaNextReleaseError\":"
                      "\"Forbidden.ExceedDuration\"}]}");

    (void)state;
    assert_int_equal(aipa_model_release(m, "i-new", "47.96.0.20"),
                     AIPA_C_FORBIDDEN_EXCEED_DURATION);
    assert_int_equal(aipa_model_release(m, "i-new", "47.96.0.20"), AIPA_C_OK);
    aipa_model_free(m);
}

static void bad_documents_are_refused(void **state)
{
    struct aipa_model *m = model_new(AIPA_ED_2024, "{" POOL "}");
    static const char *const bad[] = {
        "{\"Instances\":[{\"InstanceId\":\"i-x\",\"AipaNextReleaseError\":\"AllocateIp.Fail\"}]}",
        "{\"Instances\":[{\"InstanceId\":\"i-x\",\"AipaOwnerId\":\"has space\"}]}",
        "{\"Instances\":[{\"InstanceId\":\"i-x\",\"AipaOwnerId\":7}]}",
    };
    struct aipa_buf why;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        aipa_buf_init(&why, 4096);
        assert_int_equal(aipa_model_load_json(m, bad[i], strlen(bad[i]), &why), AIPA_EPARSE);
        assert_non_null(why.ptr);
        aipa_buf_cleanup(&why);
    }
    aipa_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(another_accounts_instance_is_invisible),
        cmocka_unit_test(owner_survives_dump_and_load),
        cmocka_unit_test(dry_run_checks_everything_and_changes_nothing),
        cmocka_unit_test(lifecycle_lock_codes),
        cmocka_unit_test(describe_filters_by_status),
        cmocka_unit_test(release_exceed_duration_once),
        cmocka_unit_test(bad_documents_are_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
