/*
 * The runner end to end against the reference server on 127.0.0.1 (port
 * 0): a passing case passes in every variant, a wrong expectation fails
 * with expected-vs-got, a SHOULD-level mismatch is pass-nonstrict (fail
 * with --strict), fixture failures and an unreachable target are harness
 * errors, missing principals and other editions skip, repeated parallel
 * steps are checked across, transcripts carry no secrets, and
 * `aipa conform` itself exits 0 / 1 / 2 and writes its reports.
 */
/* cmocka needs the four headers before it. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include "cli.h"
#include "aipa/conform.h"
#include "aipa/server.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN     "test-token-0123456789"
#define WL_SECRET "whitelisted-secret-value"

struct env {
    struct aipa_srv *srv;
    char url[64];
    struct aipa_profile prof;
    char dir[64];
};

static const char *const CASES[][2] = {
    {"ok/describe",
     "{\"id\": \"ok/describe\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": \"s\"},"
     " \"level\": \"MUST\", \"tags\": [\"good\"], \"fixtures\": {\"vm\": {\"Status\": "
     "\"Stopped\"}},"
     " \"steps\": [{\"request\": {\"Action\": \"DescribeInstances\", \"RegionId\": "
     "\"cn-hangzhou\", \"InstanceIds\": "
     "\"[\\\"${vm}\\\"]\"}, \"expect\": [{\"status\": 200, \"Code\": null, \"RequestId\": "
     "\"uuid\", \"fields\": {\"Instances.Instance[0].InstanceId\": \"${vm}\","
     " \"Instances.Instance[0].Status\": \"Stopped\", \"TotalCount\": 1}}]}]}"},
    {"ok/allocate-then-describe",
     "{\"id\": \"ok/allocate-then-describe\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", "
     "\"source\": \"s\"}, \"level\": \"MUST\", \"fixtures\": {\"vm\": {}},"
     " \"steps\": [{\"request\": {\"Action\": \"AllocatePublicIpAddress\", \"InstanceId\": "
     "\"${vm}\"}, \"expect\": [{\"status\": 200, \"fields\": {\"IpAddress\": {\"is\": "
     "\"ipv4\"}}}]},"
     " {\"request\": {\"Action\": \"RebootInstance\", \"InstanceId\": \"${vm}\"}, "
     "\"expect\": [{\"status\": 200}]},"
     " {\"request\": {\"Action\": \"DescribeInstances\", \"RegionId\": \"cn-hangzhou\", "
     "\"InstanceIds\": \"[\\\"${vm}\\\"]\"},"
     " \"expect\": [{\"status\": 200, \"fields\": {"
     "\"Instances.Instance[0].PublicIpAddress.IpAddress[0]\": {\"same_as\": "
     "\"step[0].IpAddress\"}}}]}]}"},
    {"bad/wrong-code",
     "{\"id\": \"bad/wrong-code\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": "
     "\"s\"}, \"level\": \"MUST\", \"variants\": {\"signature\": [\"v1\"], \"shape\": "
     "[\"get\"]}, \"steps\": [{\"request\": {\"Action\": \"AllocatePublicIpAddress\", "
     "\"InstanceId\": \"i-doesnotexist\"}, \"expect\": [{\"status\": 403, \"Code\": "
     "\"NotTheCode\"}]}]}"},
    {"bad/should-level",
     "{\"id\": \"bad/should-level\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": "
     "\"s\"}, \"level\": \"SHOULD\", \"variants\": {\"signature\": [\"v1\"], \"shape\": "
     "[\"get\"], \"format\": [\"json\"]}, \"steps\": [{\"request\": {\"Action\": "
     "\"AllocatePublicIpAddress\", \"InstanceId\": \"i-doesnotexist\"}, \"expect\": "
     "[{\"status\": 400}]}]}"},
    {"err/bad-fixture",
     "{\"id\": \"err/bad-fixture\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": "
     "\"s\"}, \"level\": \"MUST\", \"variants\": {\"signature\": [\"v1\"], \"shape\": "
     "[\"get\"], \"format\": [\"json\"]}, \"fixtures\": {\"vm\": {\"Status\": \"Flying\"}},"
     " \"steps\": [{\"request\": {\"Action\": \"DescribeInstances\", \"RegionId\": "
     "\"cn-hangzhou\"}, \"expect\": "
     "[{\"status\": 200}]}]}"},
    {"skip/principal",
     "{\"id\": \"skip/principal\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": "
     "\"s\"}, \"level\": \"MUST\", \"steps\": [{\"principal\": \"auditor\", \"request\": "
     "{\"Action\": \"DescribeInstances\", \"RegionId\": \"cn-hangzhou\"}, \"expect\": "
     "[{\"status\": 200}]}]}"},
    {"skip/edition",
     "{\"id\": \"skip/edition\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": "
     "\"s\"}, \"level\": \"MUST\", \"editions\": [\"2018-08-02\"], \"steps\": [{\"request\": "
     "{\"Action\": \"DescribeInstances\", \"RegionId\": \"cn-hangzhou\"}, \"expect\": "
     "[{\"status\": 200}]}]}"},
    {"ok/raw",
     "{\"id\": \"ok/raw\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": \"s\"},"
     " \"level\": \"MUST\", \"steps\": [{\"raw\": {\"target\": "
     "\"/?Action=AllocatePublicIpAddress&InstanceId=%zz\"}, \"expect\": [{\"status\": 400}]}]}"},
    {"ok/parallel",
     "{\"id\": \"ok/parallel\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": \"s\"},"
     " \"level\": \"MUST\", \"variants\": {\"signature\": [\"v1\"], \"shape\": [\"get\"], "
     "\"format\": [\"json\"]}, \"fixtures\": {\"vms\": {\"$count\": 6}}, \"steps\": "
     "[{\"request\": {\"Action\": \"AllocatePublicIpAddress\", \"InstanceId\": \"${vms[i]}\"}, "
     "\"repeat\": 6, \"parallel\": true, \"expect\": [{\"status\": 200}], \"across\": "
     "[{\"field\": \"IpAddress\", \"distinct\": true}, {\"status\": 200, \"count\": 6}]}]}"},
    {"ok/pinned",
     "{\"id\": \"ok/pinned\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": \"s\"},"
     " \"level\": \"MUST\", \"steps\": [{\"pin\": {\"signature\": \"v3\", \"format\": "
     "\"json\"}, \"request\": {\"Action\": \"DescribeInstances\", \"RegionId\": \"cn-hangzhou\"}, "
     "\"expect\": [{\"status\": "
     "200}]}]}"},
    {"ok/v1-only-tamper",
     "{\"id\": \"ok/v1-only-tamper\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", "
     "\"source\": \"s\"}, \"level\": \"MUST\", \"steps\": [{\"tamper\": {\"omit\": "
     "[\"SignatureVersion\"]}, \"request\": {\"Action\": \"DescribeInstances\", \"RegionId\": "
     "\"cn-hangzhou\"}, \"expect\": "
     "[{\"status\": [400, 403, 404]}]}]}"},
    {"ok/whitelisted-wrong-secret",
     "{\"id\": \"ok/whitelisted-wrong-secret\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", "
     "\"source\": \"s\"}, \"level\": \"MUST\", \"steps\": [{\"principal\": \"whitelisted\", "
     "\"request\": {\"Action\": \"DescribeInstances\", \"RegionId\": \"cn-hangzhou\"}, \"expect\": "
     "[{\"status\": 200}]},"
     " {\"principal\": \"whitelisted\", \"tamper\": {\"secret\": \"wrong\"}, \"request\": "
     "{\"Action\": \"DescribeInstances\", \"RegionId\": \"cn-hangzhou\"}, \"expect\": "
     "[{\"status\": 400, \"Code\": "
     "\"SignatureDoesNotMatch\"}]}]}"},
};

static void write_cases(const char *dir)
{
    char path[512];

    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        char sub[256];
        char *slash;

        snprintf(sub, sizeof(sub), "%s/%s", dir, CASES[i][0]);
        slash = strrchr(sub, '/');
        *slash = '\0';
        (void)mkdir(sub, 0700);
        snprintf(path, sizeof(path), "%s/%s.json", dir, CASES[i][0]);
        aipa_test_write_file(path, CASES[i][1]);
    }
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    struct aipa_srv_config cfg;
    struct aipa_srv_credential creds[2] = {
        {AIPA_DEMO_ACCESS_KEY_ID, AIPA_DEMO_ACCESS_KEY_SECRET, true, false, NULL, NULL, 0},
        {"wl-id", WL_SECRET, true, true, NULL, NULL, 0},
    };

    assert_non_null(e);
    aipa_srv_config_defaults(&cfg);
    cfg.listen_addr = "127.0.0.1";
    cfg.port = 0;
    cfg.credentials = creds;
    cfg.credential_count = 2;
    cfg.edition = AIPA_ED_2024;
    cfg.fixtures = true;
    cfg.fixture_token = TOKEN;
    assert_int_equal(aipa_srv_new(&e->srv, &cfg), AIPA_OK);
    assert_int_equal(aipa_srv_start(e->srv), AIPA_OK);
    snprintf(e->url, sizeof(e->url), "http://127.0.0.1:%u", (unsigned)aipa_srv_port(e->srv));
    assert_int_equal(aipa_profile_init(&e->prof), AIPA_OK);
    e->prof.fixture_protocol = true;
    e->prof.fixture_token = aipa_strdup(TOKEN);
    assert_int_equal(aipa_profile_set_principal(&e->prof, "default", AIPA_DEMO_ACCESS_KEY_ID,
                                                AIPA_DEMO_ACCESS_KEY_SECRET),
                     AIPA_OK);
    assert_int_equal(aipa_profile_set_principal(&e->prof, "whitelisted", "wl-id", WL_SECRET),
                     AIPA_OK);
    snprintf(e->dir, sizeof(e->dir), "/tmp/aipa-run-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    write_cases(e->dir);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;

    aipa_srv_stop(e->srv);
    aipa_srv_free(e->srv);
    aipa_profile_cleanup(&e->prof);
    aipa_test_rm_rf(e->dir);
    free(e);
    return 0;
}

static const struct aipa_result *find(const struct aipa_report *r, const char *id,
                                      const char *variant)
{
    for (size_t i = 0; i < r->count; i++) {
        char v[AIPA_VARIANT_NAME_MAX];

        aipa_result_variant_name(&r->items[i], v);
        if (strcmp(r->items[i].c->id, id) == 0 && (variant == NULL || strcmp(v, variant) == 0)) {
            return &r->items[i];
        }
    }
    print_error("no result for %s [%s]\n", id, variant != NULL ? variant : "*");
    fail();
    return NULL;
}

static size_t count_id(const struct aipa_report *r, const char *id, enum aipa_verdict v)
{
    size_t n = 0;

    for (size_t i = 0; i < r->count; i++) {
        n += strcmp(r->items[i].c->id, id) == 0 && r->items[i].verdict == v;
    }
    return n;
}

static void run(struct env *e, unsigned jobs, bool strict, struct aipa_suite *s,
                struct aipa_report *r)
{
    struct aipa_run_opts o;
    struct aipa_buf err;

    aipa_buf_init(&err, 1 << 16);
    aipa_suite_init(s);
    assert_int_equal(aipa_suite_load(s, e->dir, &err), AIPA_OK);
    aipa_report_init(r);
    aipa_run_opts_init(&o);
    o.profile = &e->prof;
    o.target = e->url;
    o.edition = AIPA_ED_2024;
    o.jobs = jobs;
    o.strict = strict;
    o.timeout_ms = 10000;
    if (aipa_run_suite(s, &o, r, &err) != AIPA_OK) {
        print_error("%s\n", err.ptr);
        fail();
    }
    aipa_buf_cleanup(&err);
}

static void check_verdicts(const struct aipa_report *r)
{
    const struct aipa_result *res;

    /* A passing case passes in all ten variants. */
    assert_int_equal(count_id(r, "ok/describe", AIPA_V_PASS), 10);
    assert_int_equal(count_id(r, "ok/allocate-then-describe", AIPA_V_PASS), 10);
    assert_int_equal(count_id(r, "ok/whitelisted-wrong-secret", AIPA_V_PASS), 10);
    /* A wrong expectation fails, saying what was expected and what came. */
    assert_int_equal(count_id(r, "bad/wrong-code", AIPA_V_FAIL), 2);
    res = find(r, "bad/wrong-code", "v1-get-json");
    assert_non_null(strstr(res->reason, "expected 403 NotTheCode; got 404"));
    assert_non_null(strstr(res->reason, "InvalidInstanceId.NotFound"));
    assert_true(res->ex_count >= 1);
    assert_non_null(res->ex[0].repro);
    assert_non_null(strstr(res->ex[0].repro, "aipa call"));
    /* The line replays as is: no fixed nonce (it would be SignatureNonceUsed), and the
     * default principal's secret comes from the environment, not an override. */
    assert_null(strstr(res->ex[0].repro, "--nonce"));
    assert_null(strstr(res->ex[0].repro, "--secret-env"));
    /* Fixture failure: a harness error, never a target failure. */
    res = find(r, "err/bad-fixture", "v1-get-json");
    assert_int_equal(res->verdict, AIPA_V_ERROR);
    assert_non_null(strstr(res->reason, "fixture"));
    /* Skips, case-level, with reasons. */
    res = find(r, "skip/principal", "-");
    assert_int_equal(res->verdict, AIPA_V_SKIP);
    assert_non_null(strstr(res->reason, "principal \"auditor\""));
    res = find(r, "skip/edition", "-");
    assert_int_equal(res->verdict, AIPA_V_SKIP);
    assert_non_null(strstr(res->reason, "not in edition 2024-12-20"));
    /* Raw requests run once. */
    res = find(r, "ok/raw", "raw");
    assert_int_equal(res->verdict, AIPA_V_PASS);
    /* Variant expansion: every step pins v3 and json, so only the V3 shapes remain. */
    assert_int_equal(count_id(r, "ok/pinned", AIPA_V_PASS), 2);
    assert_int_equal(find(r, "ok/pinned", "v3-post-query-json")->verdict, AIPA_V_PASS);
    /* A tamper with no V3 form: the V1 variants run, the V3 ones skip, saying why. */
    assert_int_equal(count_id(r, "ok/v1-only-tamper", AIPA_V_PASS), 6);
    assert_int_equal(count_id(r, "ok/v1-only-tamper", AIPA_V_SKIP), 4);
    assert_non_null(strstr(find(r, "ok/v1-only-tamper", "v3-get-xml")->reason, "no V3 form"));
    /* Parallel allocations over six instances: distinct addresses. */
    res = find(r, "ok/parallel", "v1-get-json");
    if (res->verdict != AIPA_V_PASS) {
        print_error("ok/parallel: %s\n", res->reason);
    }
    assert_int_equal(res->verdict, AIPA_V_PASS);
}

static void verdicts_serial(void **state)
{
    struct env *e = *state;
    struct aipa_suite s;
    struct aipa_report r;
    const struct aipa_result *res;

    run(e, 1, false, &s, &r);
    check_verdicts(&r);
    /* SHOULD-level: pass-nonstrict with the difference named. */
    res = find(&r, "bad/should-level", "v1-get-json");
    assert_int_equal(res->verdict, AIPA_V_PASS_NONSTRICT);
    assert_non_null(strstr(res->reason, "SHOULD-level difference"));
    assert_int_equal(aipa_report_exit_code(&r), 2); /* the fixture error */
    /* No secret anywhere in the transcripts; signatures are redacted. */
    for (size_t i = 0; i < r.count; i++) {
        for (size_t k = 0; k < r.items[i].ex_count; k++) {
            const struct aipa_exchange *x = &r.items[i].ex[k];

            assert_null(strstr(x->request, AIPA_DEMO_ACCESS_KEY_SECRET));
            assert_null(strstr(x->request, WL_SECRET));
            assert_null(strstr(x->request, TOKEN));
            if (x->repro != NULL) {
                assert_null(strstr(x->repro, WL_SECRET));
            }
            if (strstr(x->request, "Signature=") != NULL) {
                assert_non_null(strstr(x->request, "Signature=[redacted]"));
            }
            if (strstr(x->request, "Authorization:") != NULL) {
                assert_non_null(strstr(x->request, "Authorization: [redacted]"));
            }
        }
    }
    aipa_report_cleanup(&r);
    aipa_suite_cleanup(&s);
}

static void verdicts_parallel_and_strict(void **state)
{
    struct env *e = *state;
    struct aipa_suite s;
    struct aipa_report r;

    run(e, 3, true, &s, &r);
    check_verdicts(&r);
    assert_int_equal(find(&r, "bad/should-level", "v1-get-json")->verdict, AIPA_V_FAIL);
    aipa_report_cleanup(&r);
    aipa_suite_cleanup(&s);
}

static void profile_and_filters_narrow_variants(void **state)
{
    struct env *e = *state;
    struct aipa_suite s;
    struct aipa_report r;
    struct aipa_run_opts o;
    struct aipa_buf err;
    const char *only[] = {"ok/describe", "ok/pinned"};
    struct aipa_variant_set saved = e->prof.variants;

    aipa_buf_init(&err, 4096);
    aipa_suite_init(&s);
    assert_int_equal(aipa_suite_load(&s, e->dir, &err), AIPA_OK);
    aipa_report_init(&r);
    aipa_run_opts_init(&o);
    o.profile = &e->prof;
    o.target = e->url;
    o.only = only;
    o.only_count = 2;
    /* The target supports V1 only; the command line asks for JSON. */
    e->prof.variants.sig = AIPA_VSIG_V1;
    assert_int_equal(aipa_variant_filter_parse("json", &o.variants), AIPA_OK);
    assert_int_equal(aipa_run_suite(&s, &o, &r, &err), AIPA_OK);
    e->prof.variants = saved;
    assert_int_equal(count_id(&r, "ok/describe", AIPA_V_PASS), 3);
    /* ok/pinned pins V3, which the profile excludes: nothing left to run. */
    assert_int_equal(count_id(&r, "ok/pinned", AIPA_V_SKIP), 1);
    assert_non_null(strstr(find(&r, "ok/pinned", "-")->reason, "no variant left"));
    aipa_report_cleanup(&r);
    aipa_suite_cleanup(&s);
    aipa_buf_cleanup(&err);
}

static void unreachable_target_is_an_error(void **state)
{
    struct env *e = *state;
    struct aipa_suite s;
    struct aipa_report r;
    struct aipa_run_opts o;
    struct aipa_buf err;
    struct aipa_srv *tmp;
    struct aipa_srv_config cfg;
    char url[64];
    const char *only[] = {"bad/wrong-code"};

    /* A port that was just free: start and stop a server on it. */
    aipa_srv_config_defaults(&cfg);
    cfg.listen_addr = "127.0.0.1";
    assert_int_equal(aipa_srv_new(&tmp, &cfg), AIPA_OK);
    assert_int_equal(aipa_srv_start(tmp), AIPA_OK);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)aipa_srv_port(tmp));
    aipa_srv_stop(tmp);
    aipa_srv_free(tmp);

    aipa_buf_init(&err, 4096);
    aipa_suite_init(&s);
    assert_int_equal(aipa_suite_load(&s, e->dir, &err), AIPA_OK);
    aipa_report_init(&r);
    aipa_run_opts_init(&o);
    o.profile = &e->prof;
    e->prof.fixture_protocol = false;
    o.target = url;
    o.only = only;
    o.only_count = 1;
    o.timeout_ms = 2000;
    assert_int_equal(aipa_run_suite(&s, &o, &r, &err), AIPA_OK);
    e->prof.fixture_protocol = true;
    assert_int_equal(r.count, 2);
    assert_int_equal(r.items[0].verdict, AIPA_V_ERROR);
    assert_non_null(strstr(r.items[0].reason, "unreachable"));
    assert_int_equal(aipa_report_exit_code(&r), 2);
    aipa_report_cleanup(&r);
    aipa_suite_cleanup(&s);
    aipa_buf_cleanup(&err);
}

static void rerun_selects_only_failures(void **state)
{
    struct env *e = *state;
    struct aipa_suite s;
    struct aipa_report r, r2;
    struct aipa_buf json, err;
    struct aipa_rerun rr;
    struct aipa_run_opts o;

    run(e, 1, false, &s, &r);
    aipa_buf_init(&json, 1 << 26);
    aipa_buf_init(&err, 4096);
    assert_int_equal(aipa_report_write_json(&r, &json), AIPA_OK);
    assert_int_equal(aipa_rerun_parse(&rr, json.ptr, json.len, &err), AIPA_OK);
    assert_int_equal(rr.count, 3); /* two wrong-code variants and the fixture error */
    aipa_report_init(&r2);
    aipa_run_opts_init(&o);
    o.profile = &e->prof;
    o.target = e->url;
    o.rerun = &rr;
    assert_int_equal(aipa_run_suite(&s, &o, &r2, &err), AIPA_OK);
    assert_int_equal(r2.count, 3);
    assert_int_equal(count_id(&r2, "bad/wrong-code", AIPA_V_FAIL), 2);
    aipa_rerun_cleanup(&rr);
    aipa_report_cleanup(&r2);
    aipa_report_cleanup(&r);
    aipa_suite_cleanup(&s);
    aipa_buf_cleanup(&json);
    aipa_buf_cleanup(&err);
}

static int main_with(const char *const *args, size_t n)
{
    char *argv[32];

    assert_true(n < 32);
    for (size_t i = 0; i < n; i++) {
        argv[i] = (char *)(uintptr_t)args[i];
    }
    argv[n] = NULL;
    return aipa_conform_main((int)n, argv);
}

static void command_exit_codes_and_reports(void **state)
{
    struct env *e = *state;
    char reports[128], baseline[128], events[128], path[512];
    struct stat st;
    FILE *f;

    snprintf(reports, sizeof(reports), "%s-reports", e->dir);
    snprintf(baseline, sizeof(baseline), "%s-baseline.json", e->dir);
    snprintf(events, sizeof(events), "%s-events.ndjson", e->dir);
    /* Embedded server, passing cases only: 0 */
    {
        const char *a[] = {"conform",     "--cases", e->dir,         "--only", "ok/*",     "--skip",
                           "ok/parallel", "-q",      "--report-dir", reports,  "--ndjson", events};

        assert_int_equal(main_with(a, 12), 0);
    }
    /* The event stream: one parseable JSON line per result, skips included. */
    f = fopen(events, "r");
    assert_non_null(f);
    {
        char line[8192];
        size_t n = 0, skips = 0;

        while (fgets(line, sizeof(line), f) != NULL) {
            cJSON *ev = cJSON_Parse(line);

            assert_non_null(ev);
            assert_non_null(cJSON_GetObjectItemCaseSensitive(ev, "verdict"));
            skips +=
                strcmp(cJSON_GetObjectItemCaseSensitive(ev, "verdict")->valuestring, "skip") == 0;
            cJSON_Delete(ev);
            n++;
        }
        assert_true(n > 20);
        assert_true(skips > 0); /* ok/v1-only-tamper's V3 variants */
    }
    fclose(f);
    snprintf(path, sizeof(path), "%s/junit.xml", reports);
    assert_int_equal(stat(path, &st), 0);
    snprintf(path, sizeof(path), "%s/report.json", reports);
    assert_int_equal(stat(path, &st), 0);
    snprintf(path, sizeof(path), "%s/report.html", reports);
    assert_int_equal(stat(path, &st), 0);
    /* A failure: 1; with the failure in a baseline: 0 again. */
    {
        const char *a[] = {"conform", "--cases",          e->dir,  "--only", "bad/wrong-code",
                           "-q",      "--write-baseline", baseline};

        assert_int_equal(main_with(a, 8), 1);
    }
    {
        const char *a[] = {"conform",        "--cases", e->dir,       "--only",
                           "bad/wrong-code", "-q",      "--baseline", baseline};

        assert_int_equal(main_with(a, 8), 0);
    }
    /* Only one edition with --edition. */
    {
        const char *a[] = {"conform",  "--cases", e->dir,      "--only",
                           "tag:good", "-q",      "--edition", "2018-08-02"};

        assert_int_equal(main_with(a, 8), 0);
    }
    /* Usage and configuration errors: 2 */
    {
        const char *a[] = {"conform", "--bogus"};

        assert_int_equal(main_with(a, 2), 2);
    }
    {
        const char *a[] = {"conform", "--cases", "/nonexistent/cases", "-q"};

        assert_int_equal(main_with(a, 4), 2);
    }
    {
        const char *a[] = {"conform", "--cases", e->dir, "--edition", "2020-01-01"};

        assert_int_equal(main_with(a, 5), 2);
    }
    {
        const char *a[] = {"conform", "--cases", e->dir, "--variants", "v9"};

        assert_int_equal(main_with(a, 5), 2);
    }
    aipa_test_write_file(baseline, "{\"known_failures\": [{\"id\": \"x\"}]}");
    {
        const char *a[] = {"conform", "--cases", e->dir, "--baseline", baseline};

        assert_int_equal(main_with(a, 5), 2);
    }
    {
        const char *a[] = {"conform", "--cases", e->dir, "--list", "--only", "ok/*"};

        assert_int_equal(main_with(a, 6), 0);
    }
    {
        const char *a[] = {"conform", "--help"};

        assert_int_equal(main_with(a, 2), 0);
    }
    aipa_test_rm_rf(reports);
    aipa_test_rm_rf(baseline);
    aipa_test_rm_rf(events);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verdicts_serial),
        cmocka_unit_test(verdicts_parallel_and_strict),
        cmocka_unit_test(profile_and_filters_narrow_variants),
        cmocka_unit_test(unreachable_target_is_an_error),
        cmocka_unit_test(rerun_selects_only_failures),
        cmocka_unit_test(command_exit_codes_and_reports),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
