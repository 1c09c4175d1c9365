/*
 * Unit tests of the latitude table (aipa/latitude.h): the table's own
 * consistency, its generated document, the matching of answers against a
 * set, and the rows the handler and the model report (and the other choice
 * they take with latitude_alt).
 */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include "aipa/latitude.h"
#include "aipa/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void rows_are_consistent(void **state)
{
    (void)state;
    assert_int_equal(aipa_lat_count(), AIPA_LAT_COUNT_);
    for (size_t i = 0; i < aipa_lat_count(); i++) {
        const struct aipa_latitude *r = aipa_lat_row((enum aipa_lat)i);

        assert_non_null(r);
        assert_int_equal(r->id, i);
        /* stable ids: lower case, digits and '-' */
        assert_true(strlen(r->name) > 2);
        for (const char *c = r->name; *c != '\0'; c++) {
            assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-');
        }
        assert_ptr_equal(aipa_lat_find(r->name, strlen(r->name)), r);
        assert_true(r->editions != 0 && (r->editions & ~AIPA_ED_ALL) == 0);
        /* a row without fixed alternatives takes them from the request */
        assert_true(r->alt_count > 0 || r->per_request);
        assert_true(strlen(r->when) > 0 && strlen(r->text) > 20 && strlen(r->source) > 0);
        for (size_t k = i + 1; k < aipa_lat_count(); k++) {
            assert_string_not_equal(r->name, aipa_lat_row((enum aipa_lat)k)->name);
        }
    }
    assert_null(aipa_lat_row(AIPA_LAT_COUNT_));
    assert_null(aipa_lat_find("no-such-row", 11));
}

/* docs/latitude.md is the table's --markdown output; this fails when they drift apart. */
static void committed_doc_matches_table(void **state)
{
    char path[1024];
    struct aipa_buf md;
    FILE *f;
    char *doc;
    long n;

    (void)state;
    snprintf(path, sizeof(path), "%s/docs/latitude.md", AIPA_SOURCE_DIR);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    doc = malloc((size_t)n + 1);
    assert_non_null(doc);
    assert_int_equal(fread(doc, 1, (size_t)n, f), (size_t)n);
    doc[n] = '\0';
    fclose(f);
    aipa_buf_init(&md, 1024u * 1024u);
    assert_int_equal(aipa_lat_markdown(&md), AIPA_OK);
    if (md.len != (size_t)n || memcmp(md.ptr, doc, md.len) != 0) {
        fail_msg("docs/latitude.md differs from the table: regenerate it with "
                 "`aipa latitude --markdown > docs/latitude.md`");
    }
    /* every row is in it, by id */
    for (size_t i = 0; i < aipa_lat_count(); i++) {
        char needle[80];

        snprintf(needle, sizeof(needle), "| `%s` |", aipa_lat_row((enum aipa_lat)i)->name);
        assert_non_null(strstr(doc, needle));
    }
    aipa_buf_cleanup(&md);
    free(doc);
}

static void accepts_alternatives_of_the_rows_in_the_set(void **state)
{
    struct aipa_lat_set s;
    const struct aipa_latitude *r;

    (void)state;
    aipa_lat_set_clear(&s);
    /* an empty set accepts nothing */
    assert_null(aipa_lat_accepts(&s, AIPA_ED_2024, 400, "MissingInstanceId", AIPA_LAT_FMT_ANY));
    aipa_lat_set_add(&s, AIPA_LAT_MISSING_INSTANCE_ID);
    r = aipa_lat_accepts(&s, AIPA_ED_2024, 400, "MissingInstanceId", AIPA_LAT_FMT_ANY);
    assert_non_null(r);
    assert_string_equal(r->name, "missing-instanceid-code");
    /* a Code outside the row, or the right Code with the wrong status */
    assert_null(aipa_lat_accepts(&s, AIPA_ED_2024, 500, "InternalError", AIPA_LAT_FMT_ANY));
    assert_null(aipa_lat_accepts(&s, AIPA_ED_2024, 403, "MissingInstanceId", AIPA_LAT_FMT_ANY));
    /* edition: already-allocated-2024 is not a 2018 row */
    aipa_lat_set_clear(&s);
    aipa_lat_set_add(&s, AIPA_LAT_ALREADY_ALLOCATED);
    assert_non_null(aipa_lat_accepts(&s, AIPA_ED_2024, 403, "AllocatedAlready", AIPA_LAT_FMT_ANY));
    assert_null(aipa_lat_accepts(&s, AIPA_ED_2018, 403, "AllocatedAlready", AIPA_LAT_FMT_ANY));
    assert_null(aipa_lat_accepts(&s, AIPA_ED_2024, 200, "", AIPA_LAT_FMT_ANY)); /* strict: caller's */
    /* per-request answers: only the ones the request earned */
    aipa_lat_set_clear(&s);
    aipa_lat_set_also(&s, AIPA_LAT_PRECEDENCE, AIPA_C_INCORRECT_INSTANCE_STATUS);
    assert_true(aipa_lat_set_has(&s, AIPA_LAT_PRECEDENCE));
    assert_non_null(
        aipa_lat_accepts(&s, AIPA_ED_2024, 403, "IncorrectInstanceStatus", AIPA_LAT_FMT_ANY));
    assert_null(
        aipa_lat_accepts(&s, AIPA_ED_2024, 403, "InstanceExpiredOrInArrears", AIPA_LAT_FMT_ANY));
    /* format rows */
    aipa_lat_set_clear(&s);
    aipa_lat_set_add(&s, AIPA_LAT_V3_NO_ACCEPT);
    assert_non_null(aipa_lat_accepts(&s, AIPA_ED_2024, 200, "", AIPA_LAT_FMT_XML));
    assert_null(aipa_lat_accepts(&s, AIPA_ED_2024, 200, "", AIPA_LAT_FMT_JSON));
    /* "any documented answer" still refuses an undocumented 5xx */
    aipa_lat_set_clear(&s);
    aipa_lat_set_add(&s, AIPA_LAT_DUP_PARAM);
    assert_non_null(aipa_lat_accepts(&s, AIPA_ED_2024, 404, "InvalidInstanceId.NotFound", 0));
    assert_null(aipa_lat_accepts(&s, AIPA_ED_2024, 502, "BadGateway", 0));
    assert_null(aipa_lat_accepts(&s, AIPA_ED_2024, 400, "", 0));
}

static void transient_codes(void **state)
{
    (void)state;
    assert_true(aipa_lat_transient(500, "InternalError"));
    assert_true(aipa_lat_transient(503, "ServiceUnavailable"));
    assert_false(aipa_lat_transient(500, "NoSuchThing"));
    assert_false(aipa_lat_transient(400, "InternalError"));
    assert_false(aipa_lat_transient(404, "InvalidInstanceId.NotFound"));
}

/* ---- the handler ---- */

struct call {
    struct aipa_srv_response resp;
};

static struct aipa_srv *server(bool alt, unsigned edition)
{
    struct aipa_srv_config cfg;
    struct aipa_srv *srv = NULL;

    aipa_srv_config_defaults(&cfg);
    cfg.auth_off = true;
    cfg.seed = 7;
    cfg.edition = edition;
    cfg.latitude_alt = alt;
    assert_int_equal(aipa_srv_new(&srv, &cfg), AIPA_OK);
    return srv;
}

/* GET target with the given headers ("Name: value" pairs, NULL-terminated). */
static void get(struct aipa_srv *srv, const char *target, const char *const *hdrs,
                struct aipa_srv_response *resp)
{
    struct aipa_header hs[8];
    size_t n = 0;

    for (; hdrs != NULL && hdrs[2 * n] != NULL && n < 8; n++) {
        hs[n].name.ptr = (const uint8_t *)hdrs[2 * n];
        hs[n].name.len = strlen(hdrs[2 * n]);
        hs[n].value.ptr = (const uint8_t *)hdrs[2 * n + 1];
        hs[n].value.len = strlen(hdrs[2 * n + 1]);
    }
    struct aipa_srv_request req = {"GET", target, strlen(target), hs, n, NULL, 0};
    aipa_srv_response_init(resp);
    assert_int_equal(aipa_srv_handle(srv, &req, resp), AIPA_OK);
}

#define API "/?Version=2014-05-26&Action="
#define TWO_FAULTS                                                                                 \
    "{\"InstanceId\":\"i-two-faults\",\"Status\":\"Stopping\",\"OperationLocks\":"           \
    "{\"LockReason\":[{\"LockReason\":\"security\"}]}}"

static void add_instance(struct aipa_srv *srv, const char *json)
{
    char id[AIPA_INSTANCE_ID_MAX];

    assert_int_equal(
        aipa_model_create_instance_json(aipa_srv_model(srv), json, strlen(json), id, NULL),
        AIPA_OK);
}

static void expect(struct aipa_srv *srv, const char *target, const char *const *hdrs,
                   unsigned status, const char *code, enum aipa_lat row)
{
    struct aipa_srv_response r;

    get(srv, target, hdrs, &r);
    if (r.status != status || strcmp(r.code, code) != 0 ||
        !aipa_lat_set_has(&r.latitude, row)) {
        fail_msg("%s: got %u %s (rows %#llx), want %u %s with %s", target, r.status, r.code,
                 (unsigned long long)r.latitude.rows, status, code, aipa_lat_row(row)->name);
    }
    aipa_srv_response_cleanup(&r);
}

static void handler_reports_rows(void **state)
{
    struct aipa_srv *srv = server(false, AIPA_ED_2024);
    static const char *const v3[] = {"Authorization", "ACS3-HMAC-SHA256 x", "x-acs-action",
                                     "DescribeInstances", "x-acs-version", "2014-05-26", NULL};
    struct aipa_srv_response r;

    (void)state;
    expect(srv, API "AllocatePublicIpAddress&InstanceId=a&InstanceId=b", NULL, 400,
           "InvalidParameter", AIPA_LAT_DUP_PARAM);
    expect(srv, API "AllocatePublicIpAddress", NULL, 400, "MissingParameter",
           AIPA_LAT_MISSING_INSTANCE_ID);
    expect(srv, API "AllocatePublicIpAddress&InstanceId=i-aipa-running&Format=yaml", NULL, 400,
           "InvalidParameter.Format", AIPA_LAT_FORMAT_UNKNOWN);
    expect(srv, API "&InstanceId=x", NULL, 400, "MissingParameter", AIPA_LAT_ACTION_EMPTY);
    expect(srv, API "ReleasePublicIpAddress&InstanceId=i-aipa-running", NULL, 400,
           "MissingParameter", AIPA_LAT_RELEASE_NO_ADDRESS);
    expect(srv, API "DescribeInstances&RegionId=cn-hangzhou&InstanceIds=%5B1%5D", NULL, 400, "InvalidParameter",
           AIPA_LAT_DESCRIBE_BAD_IDS);
    /* precedence: locked and Stopping; the lock answers, the status is accepted too */
    add_instance(srv, TWO_FAULTS);
    get(srv, API "AllocatePublicIpAddress&InstanceId=i-two-faults", NULL, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(r.code, "InstanceLockedForSecurity");
    assert_non_null(aipa_lat_accepts(&r.latitude, AIPA_ED_2024, 403, "IncorrectInstanceStatus", 0));
    assert_null(aipa_lat_accepts(&r.latitude, AIPA_ED_2024, 400, "InsufficientPublicIp", 0));
    aipa_srv_response_cleanup(&r);
    /* a V3 request with neither Accept nor Format: JSON, under the row */
    get(srv, "/?RegionId=cn-hangzhou", v3, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "application/json;charset=utf-8");
    assert_true(aipa_lat_set_has(&r.latitude, AIPA_LAT_V3_NO_ACCEPT));
    aipa_srv_response_cleanup(&r);
    /* check-order: a wrong Version also earns the missing InstanceId */
    get(srv, "/?Version=2099-01-01&Action=AllocatePublicIpAddress", NULL, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(r.code, "InvalidVersion");
    assert_true(aipa_lat_set_has(&r.latitude, AIPA_LAT_VERSION_WRONG));
    assert_non_null(aipa_lat_accepts(&r.latitude, AIPA_ED_2024, 400, "MissingParameter", 0));
    assert_non_null(aipa_lat_accepts(&r.latitude, AIPA_ED_2024, 400, "MissingInstanceId", 0));
    assert_null(aipa_lat_accepts(&r.latitude, AIPA_ED_2024, 404, "InvalidInstanceId.NotFound", 0));
    aipa_srv_response_cleanup(&r);
    /* a clean success applies no row */
    get(srv, API "AllocatePublicIpAddress&InstanceId=i-aipa-running", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.latitude.rows, 0);
    aipa_srv_response_cleanup(&r);
    /* and a second allocation is the 2024 row */
    expect(srv, API "AllocatePublicIpAddress&InstanceId=i-aipa-running", NULL, 200, "",
           AIPA_LAT_ALREADY_ALLOCATED);
    aipa_srv_free(srv);
}

/* --latitude alt: the other documented choice, and the same rows reported. */
static void alt_takes_the_other_choice(void **state)
{
    struct aipa_srv *srv = server(true, AIPA_ED_2024);
    static const char *const v3[] = {"Authorization", "ACS3-HMAC-SHA256 x", "x-acs-action",
                                     "DescribeInstances", "x-acs-version", "2014-05-26", NULL};
    struct aipa_srv_response r;
    const struct aipa_latitude *row;

    (void)state;
    expect(srv, API "AllocatePublicIpAddress", NULL, 400, "MissingInstanceId",
           AIPA_LAT_MISSING_INSTANCE_ID);
    expect(srv, API "ReleasePublicIpAddress&InstanceId=i-aipa-running", NULL, 400,
           "MissingPublicIpAddress", AIPA_LAT_RELEASE_NO_ADDRESS);
    expect(srv, API "NoSuchAction", NULL, 403, "InvalidAction", AIPA_LAT_ACTION_UNKNOWN);
    expect(srv, API "AllocatePublicIpAddress&InstanceId=i-aipa-running&Format=yaml", NULL, 400,
           "InvalidParameter", AIPA_LAT_FORMAT_UNKNOWN);
    get(srv, "/?RegionId=cn-hangzhou", v3, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/xml;charset=utf-8");
    aipa_srv_response_cleanup(&r);
    add_instance(srv, TWO_FAULTS);
    expect(srv, API "AllocatePublicIpAddress&InstanceId=i-two-faults", NULL, 403,
           "IncorrectInstanceStatus", AIPA_LAT_PRECEDENCE);
    /* the first allocation succeeds; the second is refused, under the 2024 row */
    get(srv, API "AllocatePublicIpAddress&InstanceId=i-aipa-running", NULL, &r);
    assert_int_equal(r.status, 200);
    aipa_srv_response_cleanup(&r);
    get(srv, API "AllocatePublicIpAddress&InstanceId=i-aipa-running", NULL, &r);
    assert_int_equal(r.status, 403);
    assert_string_equal(r.code, "AllocatedAlready");
    row = aipa_lat_accepts(&r.latitude, AIPA_ED_2024, 403, "AllocatedAlready", 0);
    assert_non_null(row);
    assert_string_equal(row->name, "already-allocated-2024");
    aipa_srv_response_cleanup(&r);
    aipa_srv_free(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_are_consistent),
        cmocka_unit_test(committed_doc_matches_table),
        cmocka_unit_test(accepts_alternatives_of_the_rows_in_the_set),
        cmocka_unit_test(transient_codes),
        cmocka_unit_test(handler_reports_rows),
        cmocka_unit_test(alt_takes_the_other_choice),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
