/*
 * Unit tests of the matcher: each field check passing and failing, status
 * and Code, soft Message/RequestId differences (pass-nonstrict), nonstrict
 * outcomes, editions, body format, transport failures, references to
 * earlier steps, across checks, and reasons that quote hostile bytes safely.
 */
/* cmocka needs the four headers before it. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include "aipa/conform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RID "F2EF6A3B-E345-46B9-931E-0EA094818567"

/* A one-step case whose only step has the given expect list (JSON text). */
static struct aipa_case *case_with(const char *expect, const char *extra_step_keys)
{
    char json[8192];
    struct aipa_case *c = NULL;
    struct aipa_buf err;

    snprintf(json, sizeof(json),
             "{\"id\": \"m/x\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": \"s\"},"
             " \"level\": \"MUST\", \"fixtures\": {\"vm\": {}}, \"steps\": ["
             "{\"request\": {\"Action\": \"A\"}, \"expect\": [{\"status\": 200}]},"
             "{\"request\": {\"Action\": \"A\"}%s, \"expect\": %s}]}",
             extra_step_keys, expect);
    aipa_buf_init(&err, 4096);
    if (aipa_case_parse(json, strlen(json), "m.json", &c, &err) != AIPA_OK) {
        print_error("%s\n", err.ptr);
    }
    assert_non_null(c);
    aipa_buf_cleanup(&err);
    return c;
}

struct fx {
    struct aipa_case *c;
    struct aipa_run_env env;
    cJSON *step0;
    cJSON *body;
    struct aipa_observed obs;
    struct aipa_buf reason;
    char id[16];
    char *ids[1];
};

static void fx_init(struct fx *f, const char *expect, const char *body_json, long status)
{
    memset(f, 0, sizeof(*f));
    f->c = case_with(expect, "");
    snprintf(f->id, sizeof(f->id), "i-vm1");
    f->ids[0] = f->id;
    f->env.c = f->c;
    f->env.fixture_ids[0] = f->ids;
    f->step0 = cJSON_Parse("{\"RequestId\": \"" RID "\", \"IpAddress\": \"47.96.0.9\"}");
    f->env.step_roots[0] = f->step0;
    f->env.steps_done = 1;
    f->body = body_json != NULL ? cJSON_Parse(body_json) : NULL;
    f->obs.status = status;
    f->obs.root = f->body;
    f->obs.want_fmt = AIPA_VFMT_JSON;
    f->obs.body_fmt = f->body != NULL ? AIPA_VFMT_JSON : 0;
    aipa_buf_init(&f->reason, 1 << 16);
}

static enum aipa_verdict fx_match(struct fx *f, unsigned edition)
{
    aipa_buf_reset(&f->reason);
    return aipa_match_response(&f->c->steps[1], edition, &f->obs, &f->env, &f->reason);
}

static void fx_cleanup(struct fx *f)
{
    aipa_case_free(f->c);
    cJSON_Delete(f->step0);
    cJSON_Delete(f->body);
    aipa_buf_cleanup(&f->reason);
}

static const char *reason(const struct fx *f)
{
    return f->reason.ptr != NULL ? f->reason.ptr : "";
}

/* Runs one check over a body: want is the expected verdict. */
static void check_case(const char *check, const char *body, enum aipa_verdict want)
{
    char expect[4096];
    struct fx f;
    enum aipa_verdict got;

    snprintf(expect, sizeof(expect), "[{\"status\": 200, \"fields\": {\"F\": %s}}]", check);
    fx_init(&f, expect, body, 200);
    got = fx_match(&f, AIPA_ED_2024);
    if (got != want) {
        print_error("check %s on %s: wanted %s, got %s (%s)\n", check, body,
                    aipa_verdict_name(want), aipa_verdict_name(got), reason(&f));
    }
    assert_int_equal(got, want);
    if (want == AIPA_V_FAIL) {
        assert_non_null(strstr(reason(&f), "F: ")); /* the path is named */
    }
    fx_cleanup(&f);
}

#define BODY(x) "{\"RequestId\": \"" RID "\"" x "}"

static void field_checks_pass_and_fail(void **state)
{
    (void)state;
    /* equals: strings, numbers against XML text, booleans */
    check_case("\"a\"", BODY(", \"F\": \"a\""), AIPA_V_PASS);
    check_case("\"a\"", BODY(", \"F\": \"b\""), AIPA_V_FAIL);
    check_case("\"a\"", BODY(""), AIPA_V_FAIL);
    check_case("5", BODY(", \"F\": \"5\""), AIPA_V_PASS);
    check_case("\"5\"", BODY(", \"F\": 5"), AIPA_V_PASS);
    check_case("5", BODY(", \"F\": 6"), AIPA_V_FAIL);
    check_case("true", BODY(", \"F\": true"), AIPA_V_PASS);
    check_case("{\"equals\": \"${vm}\"}", BODY(", \"F\": \"i-vm1\""), AIPA_V_PASS);
    check_case("{\"equals\": \"${vm}\"}", BODY(", \"F\": \"i-vm2\""), AIPA_V_FAIL);
    check_case("{\"equals\": \"x\"}", BODY(", \"F\": {\"a\": 1}"), AIPA_V_FAIL);
    /* not_equals, prefix, one_of */
    check_case("{\"not_equals\": \"a\"}", BODY(", \"F\": \"b\""), AIPA_V_PASS);
    check_case("{\"not_equals\": \"a\"}", BODY(", \"F\": \"a\""), AIPA_V_FAIL);
    check_case("{\"not_equals\": \"a\"}", BODY(""), AIPA_V_FAIL);
    check_case("{\"prefix\": \"47.\"}", BODY(", \"F\": \"47.96.0.1\""), AIPA_V_PASS);
    check_case("{\"prefix\": \"47.\"}", BODY(", \"F\": \"10.0.0.1\""), AIPA_V_FAIL);
    check_case("{\"one_of\": [\"a\", 2]}", BODY(", \"F\": \"2\""), AIPA_V_PASS);
    check_case("{\"one_of\": [\"a\", 2]}", BODY(", \"F\": \"c\""), AIPA_V_FAIL);
    /* is */
    check_case("{\"is\": \"ipv4\"}", BODY(", \"F\": \"47.96.0.1\""), AIPA_V_PASS);
    check_case("{\"is\": \"ipv4\"}", BODY(", \"F\": \"47.96.0.256\""), AIPA_V_FAIL);
    check_case("{\"is\": \"ipv4\"}", BODY(", \"F\": \"047.96.0.1\""), AIPA_V_FAIL);
    check_case("{\"is\": \"ipv4\"}", BODY(", \"F\": \"112.124.**.**\""), AIPA_V_FAIL);
    check_case("{\"is\": \"uuid\"}", BODY(", \"F\": \"" RID "\""), AIPA_V_PASS);
    check_case("{\"is\": \"uuid\"}", BODY(", \"F\": \"not-a-uuid\""), AIPA_V_FAIL);
    check_case("{\"is\": \"integer\"}", BODY(", \"F\": \"-12\""), AIPA_V_PASS);
    check_case("{\"is\": \"integer\"}", BODY(", \"F\": \"1.5\""), AIPA_V_FAIL);
    check_case("{\"is\": \"nonempty\"}", BODY(", \"F\": \"x\""), AIPA_V_PASS);
    check_case("{\"is\": \"nonempty\"}", BODY(", \"F\": \"\""), AIPA_V_FAIL);
    check_case("{\"is\": \"nonempty\"}", BODY(", \"F\": []"), AIPA_V_FAIL);
    /* present / absent */
    check_case("{\"present\": true}", BODY(", \"F\": \"\""), AIPA_V_PASS);
    check_case("{\"present\": true}", BODY(""), AIPA_V_FAIL);
    check_case("{\"absent\": true}", BODY(""), AIPA_V_PASS);
    check_case("{\"absent\": true}", BODY(", \"F\": null"), AIPA_V_FAIL);
    /* length and list equality, with the XML one-element and empty rules */
    check_case("{\"length\": 2}", BODY(", \"F\": [1, 2]"), AIPA_V_PASS);
    check_case("{\"length\": 1}", BODY(", \"F\": \"single XML element\""), AIPA_V_PASS);
    check_case("{\"length\": 0}", BODY(""), AIPA_V_PASS);
    check_case("{\"length\": 0}", BODY(", \"F\": \"\""), AIPA_V_PASS);
    check_case("{\"length\": 0}", BODY(", \"F\": [\"a\"]"), AIPA_V_FAIL);
    check_case("[]", BODY(""), AIPA_V_PASS);
    check_case("[]", BODY(", \"F\": [\"1.2.3.4\"]"), AIPA_V_FAIL);
    check_case("[\"a\", \"b\"]", BODY(", \"F\": [\"a\", \"b\"]"), AIPA_V_PASS);
    check_case("[\"a\", \"b\"]", BODY(", \"F\": [\"b\", \"a\"]"), AIPA_V_FAIL);
    check_case("[\"a\"]", BODY(", \"F\": \"a\""), AIPA_V_PASS);
    /* same_as / not_same_as an earlier step */
    check_case("{\"same_as\": \"step[0].IpAddress\"}", BODY(", \"F\": \"47.96.0.9\""), AIPA_V_PASS);
    check_case("{\"same_as\": \"step[0].IpAddress\"}", BODY(", \"F\": \"47.96.0.8\""), AIPA_V_FAIL);
    check_case("{\"not_same_as\": \"step[0].IpAddress\"}", BODY(", \"F\": \"47.96.0.8\""),
               AIPA_V_PASS);
    check_case("{\"not_same_as\": \"step[0].IpAddress\"}", BODY(", \"F\": \"47.96.0.9\""),
               AIPA_V_FAIL);
    check_case("{\"same_as\": \"step[0].Nothing\"}", BODY(", \"F\": \"x\""), AIPA_V_FAIL);
}

static void status_code_and_soft_checks(void **state)
{
    struct fx f;

    (void)state;
    fx_init(&f,
            "[{\"status\": 403, \"Code\": \"AllocatedAlready\", \"Message\": \"There is an "
            "IpAddress allocated already for the specified instance.\"}]",
            BODY(", \"Code\": \"AllocatedAlready\", \"Message\": \"There is an IpAddress "
                 "allocated already for the specified instance.\""),
            403);
    assert_int_equal(fx_match(&f, AIPA_ED_2018), AIPA_V_PASS);
    assert_null(f.reason.ptr == NULL || f.reason.len == 0 ? NULL : f.reason.ptr);
    /* A different message is soft: pass-nonstrict, and the reason shows both. */
    cJSON_ReplaceItemInObject(f.body, "Message",
                              cJSON_CreateString("An IpAddress has been "
                                                 "assigned."));
    assert_int_equal(fx_match(&f, AIPA_ED_2018), AIPA_V_PASS_NONSTRICT);
    assert_non_null(strstr(reason(&f), "Message differs"));
    assert_non_null(strstr(reason(&f), "An IpAddress has been assigned."));
    /* Wrong Code and wrong status are hard. */
    cJSON_ReplaceItemInObject(f.body, "Code", cJSON_CreateString("OperationDenied"));
    assert_int_equal(fx_match(&f, AIPA_ED_2018), AIPA_V_FAIL);
    assert_non_null(strstr(reason(&f), "expected 403 AllocatedAlready"));
    assert_non_null(strstr(reason(&f), "\"OperationDenied\""));
    cJSON_ReplaceItemInObject(f.body, "Code", cJSON_CreateString("AllocatedAlready"));
    f.obs.status = 400;
    assert_int_equal(fx_match(&f, AIPA_ED_2018), AIPA_V_FAIL);
    assert_non_null(strstr(reason(&f), "status 400"));
    f.obs.status = 403;
    /* The RequestId format is soft by default. */
    cJSON_ReplaceItemInObject(f.body, "Message",
                              cJSON_CreateString("There is an IpAddress allocated already for "
                                                 "the specified instance."));
    cJSON_ReplaceItemInObject(f.body, "RequestId", cJSON_CreateString("req-1"));
    assert_int_equal(fx_match(&f, AIPA_ED_2018), AIPA_V_PASS_NONSTRICT);
    assert_non_null(strstr(reason(&f), "RequestId"));
    fx_cleanup(&f);

    /* "RequestId": "uuid" makes it hard; "Code": null requires no Code. */
    fx_init(&f, "[{\"status\": 200, \"Code\": null, \"RequestId\": \"uuid\"}]",
            "{\"RequestId\": \"req-1\"}", 200);
    assert_int_equal(fx_match(&f, AIPA_ED_2018), AIPA_V_FAIL);
    cJSON_ReplaceItemInObject(f.body, "RequestId", cJSON_CreateString(RID));
    assert_int_equal(fx_match(&f, AIPA_ED_2018), AIPA_V_PASS);
    cJSON_AddStringToObject(f.body, "Code", "Oops");
    assert_int_equal(fx_match(&f, AIPA_ED_2018), AIPA_V_FAIL);
    assert_non_null(strstr(reason(&f), "unexpected Code"));
    fx_cleanup(&f);

    /* MessagePrefix */
    fx_init(&f, "[{\"status\": 400, \"MessagePrefix\": \"Specified signature is not matched\"}]",
            BODY(", \"Message\": \"Specified signature is not matched with our calculation. "
                 "server string to sign is:GET&%2F&...\""),
            400);
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_PASS);
    cJSON_ReplaceItemInObject(f.body, "Message", cJSON_CreateString("nope"));
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_PASS_NONSTRICT);
    fx_cleanup(&f);
}

static void editions_and_grades(void **state)
{
    struct fx f;

    (void)state;
    fx_init(&f,
            "[{\"editions\": [\"2018-08-02\"], \"status\": 403, \"Code\": \"AllocatedAlready\"},"
            " {\"editions\": [\"2024-12-20\"], \"status\": 200, \"fields\": {\"IpAddress\": "
            "{\"is\": \"ipv4\"}}},"
            " {\"editions\": [\"2024-12-20\"], \"grade\": \"nonstrict\", \"status\": 403, "
            "\"Code\": \"AllocatedAlready\"}]",
            BODY(", \"Code\": \"AllocatedAlready\""), 403);
    /* 2018: the strict outcome; 2024: only the nonstrict alternative matches. */
    assert_int_equal(fx_match(&f, AIPA_ED_2018), AIPA_V_PASS);
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_PASS_NONSTRICT);
    assert_non_null(strstr(reason(&f), "nonstrict outcome"));
    cJSON_Delete(f.body);
    f.body = cJSON_Parse(BODY(", \"IpAddress\": \"47.96.0.9\""));
    f.obs.root = f.body;
    f.obs.status = 200;
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_PASS);
    assert_int_equal(fx_match(&f, AIPA_ED_2018), AIPA_V_FAIL);
    /* The reason lists only the outcomes of the edition under test. */
    assert_non_null(strstr(reason(&f), "expected 403 AllocatedAlready; got 200"));
    fx_cleanup(&f);
}

static void body_format_and_transport(void **state)
{
    struct fx f;

    (void)state;
    fx_init(&f, "[{\"status\": 200}]", BODY(""), 200);
    f.obs.want_fmt = AIPA_VFMT_XML; /* asked for XML, got JSON */
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_FAIL);
    assert_non_null(strstr(reason(&f), "asked for XML, got a JSON body"));
    f.obs.root = NULL;
    f.obs.body_fmt = 0;
    f.obs.parse_error = "DOCTYPE not allowed";
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_FAIL);
    assert_non_null(strstr(reason(&f), "DOCTYPE not allowed"));
    f.obs.want_fmt = 0; /* raw: only status checked, no body needed */
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_PASS);
    f.obs.transport = "connect or transfer timed out";
    f.obs.status = 0;
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_FAIL);
    assert_non_null(strstr(reason(&f), "no response (connect or transfer timed out)"));
    fx_cleanup(&f);
}

static void xml_root_and_content_type(void **state)
{
    struct fx f;

    (void)state;
    fx_init(&f, "[{\"status\": 200}]", BODY(""), 200);
    f.obs.want_fmt = AIPA_VFMT_XML;
    f.obs.body_fmt = AIPA_VFMT_XML;
    f.obs.action = "AllocatePublicIpAddress";
    f.obs.root_name = "AllocatePublicIpAddressResponse";
    f.obs.content_type = "text/xml;charset=utf-8";
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_PASS);
    /* Another root element is a hard failure. */
    f.obs.root_name = "AllocatePublicIpAddressResult";
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_FAIL);
    assert_non_null(strstr(reason(&f), "XML root element \"AllocatePublicIpAddressResult\", "
                                       "expected <AllocatePublicIpAddressResponse>"));
    /* An error body's root is <Error>. */
    cJSON_AddStringToObject(f.body, "Code", "X");
    f.obs.root_name = "Errors";
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_FAIL);
    assert_non_null(strstr(reason(&f), "expected <Error>"));
    f.obs.root_name = "Error";
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_PASS);
    /* An XML body must be labelled XML (the Node SDK parses XML only under text/xml). */
    f.obs.content_type = "text/html;charset=utf-8";
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_FAIL);
    assert_non_null(strstr(reason(&f), "Content-Type \"text/html;charset=utf-8\" does not name "
                                       "the XML body"));
    f.obs.content_type = "Application/XML";
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_PASS);
    /* JSON bodies have no root element to check. */
    f.obs.body_fmt = AIPA_VFMT_JSON;
    f.obs.want_fmt = AIPA_VFMT_JSON;
    f.obs.root_name = "Whatever";
    f.obs.content_type = "application/json";
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_PASS);
    /* A mislabelled JSON body is a soft difference: no SDK reads that label. */
    f.obs.content_type = "text/html";
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_PASS_NONSTRICT);
    assert_non_null(strstr(reason(&f), "does not name the JSON body"));
    fx_cleanup(&f);
}

static void hostile_values_are_quoted(void **state)
{
    struct fx f;
    char big[4096];

    (void)state;
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    fx_init(&f, "[{\"status\": 200, \"Code\": \"X\"}]", BODY(""), 200);
    cJSON_AddStringToObject(f.body, "Code", "a\x1b[31m\"b\n");
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_FAIL);
    /* Control bytes and quotes are escaped: no raw ESC or newline in the reason. */
    assert_null(strchr(reason(&f), '\x1b'));
    assert_null(strchr(reason(&f), '\n'));
    assert_non_null(strstr(reason(&f), "a\\x1b[31m\\\"b\\x0a"));
    cJSON_ReplaceItemInObject(f.body, "Code", cJSON_CreateString(big));
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_FAIL);
    assert_true(f.reason.len < 1024); /* values are cut */
    fx_cleanup(&f);
}

static void unresolved_reference_is_an_error(void **state)
{
    struct fx f;

    (void)state;
    fx_init(&f, "[{\"status\": 200, \"fields\": {\"F\": {\"equals\": \"${step[0].Missing}\"}}}]",
            BODY(", \"F\": \"x\""), 200);
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_ERROR);
    assert_non_null(strstr(reason(&f), "no such value"));
    fx_cleanup(&f);
}

static struct aipa_observed ob(long status, const cJSON *root, const char *parse_error)
{
    struct aipa_observed o;

    memset(&o, 0, sizeof(o));
    o.status = status;
    o.body_fmt = root != NULL ? AIPA_VFMT_JSON : 0;
    o.root = root;
    o.parse_error = parse_error;
    return o;
}

static void across_checks(void **state)
{
    struct aipa_case *c = case_with("[{\"status\": [200, 403]}]",
                                    ", \"repeat\": 4, \"parallel\": true, \"across\": ["
                                    "{\"field\": \"IpAddress\", \"distinct\": true},"
                                    "{\"status\": 200, \"count\": 1},"
                                    "{\"Code\": \"AllocatedAlready\", \"min\": 1, \"max\": 3}]");
    struct aipa_case *same =
        case_with("[{\"status\": 200}]", ", \"repeat\": 2, \"across\": [{\"editions\": "
                                         "[\"2024-12-20\"], \"field\": \"IpAddress\", \"same\": "
                                         "true}]");
    cJSON *ok = cJSON_Parse("{\"IpAddress\": \"47.96.0.1\"}");
    cJSON *dup = cJSON_Parse("{\"IpAddress\": \"47.96.0.1\"}");
    cJSON *other = cJSON_Parse("{\"IpAddress\": \"47.96.0.2\"}");
    cJSON *denied = cJSON_Parse("{\"Code\": \"AllocatedAlready\"}");
    struct aipa_observed obs[4];
    struct aipa_buf r;

    (void)state;
    aipa_buf_init(&r, 1 << 16);
    memset(obs, 0, sizeof(obs));
    obs[0] = ob(200, ok, NULL);
    for (int i = 1; i < 4; i++) {
        obs[i] = ob(403, denied, NULL);
    }
    assert_int_equal(aipa_match_across(&c->steps[1], AIPA_ED_2018, obs, 4, &r), AIPA_V_PASS);
    /* Two successes with the same address: both distinct and count fail. */
    obs[1] = ob(200, dup, NULL);
    assert_int_equal(aipa_match_across(&c->steps[1], AIPA_ED_2018, obs, 4, &r), AIPA_V_FAIL);
    assert_non_null(strstr(r.ptr, "are equal"));
    assert_non_null(strstr(r.ptr, "2 of 4 responses had status 200, expected 1"));
    /* No AllocatedAlready at all: below min. */
    aipa_buf_reset(&r);
    for (int i = 0; i < 4; i++) {
        obs[i] = ob(500, NULL, "x");
    }
    obs[0].status = 200;
    obs[0].root = ok;
    assert_int_equal(aipa_match_across(&c->steps[1], AIPA_ED_2018, obs, 4, &r), AIPA_V_FAIL);
    assert_non_null(strstr(r.ptr, "Code AllocatedAlready, expected 1..3"));
    /* same, only in 2024 */
    aipa_buf_reset(&r);
    obs[0] = ob(200, ok, NULL);
    obs[1] = ob(200, other, NULL);
    assert_int_equal(aipa_match_across(&same->steps[1], AIPA_ED_2024, obs, 2, &r), AIPA_V_FAIL);
    assert_non_null(strstr(r.ptr, "differ"));
    assert_int_equal(aipa_match_across(&same->steps[1], AIPA_ED_2018, obs, 2, &r), AIPA_V_PASS);
    obs[1].root = dup;
    aipa_buf_reset(&r);
    assert_int_equal(aipa_match_across(&same->steps[1], AIPA_ED_2024, obs, 2, &r), AIPA_V_PASS);
    aipa_buf_cleanup(&r);
    cJSON_Delete(ok);
    cJSON_Delete(dup);
    cJSON_Delete(other);
    cJSON_Delete(denied);
    aipa_case_free(c);
    aipa_case_free(same);
}

static void verdict_names_round_trip(void **state)
{
    (void)state;
    for (int v = 0; v < (int)AIPA_V_COUNT_; v++) {
        assert_int_equal(aipa_verdict_parse(aipa_verdict_name((enum aipa_verdict)v)), v);
    }
    assert_string_equal(aipa_verdict_name(AIPA_V_PASS_NONSTRICT), "pass-nonstrict");
    assert_int_equal(aipa_verdict_parse("passed"), AIPA_V_COUNT_);
}

/*
 * The latitude table: an outcome naming a row accepts the row's alternatives
 * as pass-nonstrict and says which row; --strict fails them, naming it too;
 * a nonstrict outcome the table explains is named; a row id the table does
 * not have is a load error.
 */
static void latitude_rows(void **state)
{
    struct fx f;
    struct aipa_case *c = NULL;
    struct aipa_buf err;
    static const char bad[] =
        "{\"id\": \"m/x\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": \"s\"},"
        " \"level\": \"MUST\", \"steps\": [{\"request\": {\"Action\": \"A\"}, \"expect\": "
        "[{\"status\": 400, \"latitude\": \"no-such-row\"}]}]}";

    (void)state;
    fx_init(&f,
            "[{\"status\": 400, \"Code\": \"MissingParameter\", \"latitude\": "
            "\"missing-instanceid-code\"}]",
            "{\"RequestId\": \"" RID "\", \"Code\": \"MissingInstanceId\"}", 400);
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_PASS_NONSTRICT);
    assert_non_null(strstr(reason(&f), "latitude row missing-instanceid-code"));
    f.env.strict = true;
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_FAIL);
    assert_non_null(strstr(reason(&f), "missing-instanceid-code"));
    assert_non_null(strstr(reason(&f), "--strict"));
    /* outside the row: a plain failure that still names the row */
    f.env.strict = false;
    cJSON_Delete(f.body);
    f.body = cJSON_Parse("{\"RequestId\": \"" RID "\", \"Code\": \"InternalError\"}");
    f.obs.root = f.body;
    f.obs.status = 500;
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_FAIL);
    assert_non_null(strstr(reason(&f), "outside latitude row missing-instanceid-code"));
    fx_cleanup(&f);

    /* a nonstrict outcome explained by the table is named; --strict fails it */
    fx_init(&f,
            "[{\"status\": 400, \"Code\": \"InvalidParameter.Format\"},"
            " {\"status\": 400, \"Code\": \"InvalidParameter\", \"grade\": \"nonstrict\"}]",
            "{\"RequestId\": \"" RID "\", \"Code\": \"InvalidParameter\"}", 400);
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_PASS_NONSTRICT);
    assert_non_null(strstr(reason(&f), "(latitude row format-unknown)"));
    f.env.strict = true;
    assert_int_equal(fx_match(&f, AIPA_ED_2024), AIPA_V_FAIL);
    fx_cleanup(&f);

    aipa_buf_init(&err, 4096);
    assert_int_not_equal(aipa_case_parse(bad, strlen(bad), "m.json", &c, &err), AIPA_OK);
    assert_null(c);
    assert_non_null(strstr(err.ptr, "latitude"));
    aipa_buf_cleanup(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(field_checks_pass_and_fail),
        cmocka_unit_test(latitude_rows),
        cmocka_unit_test(status_code_and_soft_checks),
        cmocka_unit_test(editions_and_grades),
        cmocka_unit_test(body_format_and_transport),
        cmocka_unit_test(xml_root_and_content_type),
        cmocka_unit_test(hostile_values_are_quoted),
        cmocka_unit_test(unresolved_reference_is_an_error),
        cmocka_unit_test(across_checks),
        cmocka_unit_test(verdict_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
