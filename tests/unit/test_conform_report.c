/*
 * Unit tests of baselines, --rerun-failed input and the report writers:
 * a known failure keeps the exit status 0, a new one makes it 1, a harness
 * error 2, a fixed known failure is reported; JUnit parses with libxml2 and
 * carries the right counts and elements; the JSON report parses with cJSON
 * and feeds --rerun-failed; the HTML holds no unescaped byte from a target;
 * SARIF carries failures as results with baseline states.
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
#include "testutil.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOSTILE "<script>alert('x')</script>&\"\x01\x7f"

static struct aipa_case *mk_case(const char *id)
{
    char json[2048];
    struct aipa_case *c = NULL;

    snprintf(json, sizeof(json),
             "{\"id\": \"%s\", \"title\": \"Title <b>%s</b>\", \"doc\": {\"clause\": \"c & d\","
             " \"source\": \"s\"}, \"level\": \"MUST\", \"tags\": [\"t\"], \"steps\": "
             "[{\"request\": {\"Action\": \"A\"}, \"expect\": [{\"status\": 200}]}]}",
             id, id);
    assert_int_equal(aipa_case_parse(json, strlen(json), "r.json", &c, NULL), AIPA_OK);
    return c;
}

struct fixture {
    struct aipa_case *a, *b, *c;
    struct aipa_report r;
};

static void add(struct aipa_report *r, const struct aipa_case *c, unsigned ed, const char *var,
                enum aipa_verdict v, const char *reason, const char *response)
{
    struct aipa_result *res;

    r->items = realloc(r->items, (r->count + 1) * sizeof(*r->items));
    assert_non_null(r->items);
    res = &r->items[r->count++];
    memset(res, 0, sizeof(*res));
    res->c = c;
    res->edition = ed;
    if (strcmp(var, "-") == 0) {
        res->case_level = true;
    } else {
        assert_int_equal(aipa_variant_parse(var, &res->variant), AIPA_OK);
    }
    res->verdict = v;
    res->reason = reason != NULL ? aipa_strdup(reason) : NULL;
    res->ms = 1.5;
    if (response != NULL) {
        res->ex = calloc(1, sizeof(*res->ex));
        assert_non_null(res->ex);
        res->ex_count = 1;
        res->ex[0].step = aipa_strdup("steps[0]");
        res->ex[0].request = aipa_strdup("GET /?Action=A&Signature=[redacted]");
        res->ex[0].response = aipa_strdup(response);
        res->ex[0].repro = aipa_strdup("aipa call --target 'http://127.0.0.1:1' 'Action=A'");
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    f->a = mk_case("allocate/a");
    f->b = mk_case("allocate/b");
    f->c = mk_case("auth/c");
    aipa_report_init(&f->r);
    f->r.target = aipa_strdup("http://127.0.0.1:1");
    f->r.profile = aipa_strdup("test");
    f->r.editions = AIPA_ED_ALL;
    f->r.started = 1700000000;
    add(&f->r, f->a, AIPA_ED_2018, "v1-get-xml", AIPA_V_PASS, NULL, "HTTP 200\n\n<ok/>");
    add(&f->r, f->a, AIPA_ED_2018, "v3-get-json", AIPA_V_FAIL, "expected 403; got " HOSTILE,
        "HTTP 200\n\n" HOSTILE);
    add(&f->r, f->b, AIPA_ED_2024, "v1-post-form-json", AIPA_V_PASS_NONSTRICT, "Message differs",
        NULL);
    add(&f->r, f->b, AIPA_ED_2024, "v1-get-xml", AIPA_V_ERROR, "fixture setup failed", NULL);
    add(&f->r, f->c, AIPA_ED_2024, "-", AIPA_V_SKIP, "principal \"whitelisted\" not configured",
        NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    aipa_report_cleanup(&f->r);
    aipa_case_free(f->a);
    aipa_case_free(f->b);
    aipa_case_free(f->c);
    free(f);
    return 0;
}

static void baseline_from(struct aipa_baseline *b, const char *json)
{
    struct aipa_buf err;

    aipa_buf_init(&err, 4096);
    if (aipa_baseline_parse(b, json, strlen(json), "b.json", &err) != AIPA_OK) {
        print_error("%s\n", err.ptr);
        fail();
    }
    aipa_buf_cleanup(&err);
}

static void exit_codes_without_baseline(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(aipa_report_exit_code(&f->r), 2); /* an unknown harness error */
    f->r.items[3].verdict = AIPA_V_PASS;
    assert_int_equal(aipa_report_exit_code(&f->r), 1); /* the failure */
    f->r.items[1].verdict = AIPA_V_PASS;
    assert_int_equal(aipa_report_exit_code(&f->r), 0); /* skips and nonstrict passes are fine */
    assert_int_equal(aipa_report_count(&f->r, 0, AIPA_V_PASS), 3);
    assert_int_equal(aipa_report_count(&f->r, AIPA_ED_2018, AIPA_V_PASS), 2);
    assert_int_equal(aipa_report_count(&f->r, AIPA_ED_2024, AIPA_V_SKIP), 1);
}

static void known_failures_keep_exit_zero(void **state)
{
    struct fixture *f = *state;
    struct aipa_baseline b;

    baseline_from(&b, "{\"format\": 1, \"known_failures\": ["
                      "{\"id\": \"allocate/a\", \"variant\": \"v3-*\", \"reason\": \"V3 host\"},"
                      "{\"id\": \"allocate/b\", \"editions\": [\"2024-12-20\"], \"reason\": "
                      "\"fixtures\"}]}");
    assert_int_equal(aipa_baseline_apply(&b, &f->r), AIPA_OK);
    assert_true(f->r.items[1].known);
    assert_string_equal(f->r.items[1].known_reason, "V3 host");
    assert_true(f->r.items[3].known);
    assert_false(f->r.items[0].known);
    assert_int_equal(aipa_report_exit_code(&f->r), 0);
    assert_int_equal(f->r.fixed_count, 0);
    aipa_baseline_cleanup(&b);
}

static void new_failure_exits_one(void **state)
{
    struct fixture *f = *state;
    struct aipa_baseline b;

    /* The baseline knows the error but not the failure (wrong variant glob). */
    baseline_from(&b, "{\"known_failures\": ["
                      "{\"id\": \"allocate/a\", \"variant\": \"v1-*\", \"reason\": \"x\"},"
                      "{\"id\": \"allocate/*\", \"variant\": \"v1-get-xml\", \"editions\": "
                      "[\"2024-12-20\"], \"reason\": \"y\"}]}");
    assert_int_equal(aipa_baseline_apply(&b, &f->r), AIPA_OK);
    assert_false(f->r.items[1].known);
    assert_true(f->r.items[3].known);
    assert_int_equal(aipa_report_exit_code(&f->r), 1);
    /* The first entry covers allocate/a v1-get-xml, which passes: reported as fixed. */
    assert_int_equal(f->r.fixed_count, 1);
    assert_non_null(strstr(f->r.fixed[0], "allocate/a [v1-*]"));
    aipa_baseline_cleanup(&b);
}

static void fixed_known_failure_is_reported(void **state)
{
    struct fixture *f = *state;
    struct aipa_baseline b;

    f->r.items[1].verdict = AIPA_V_PASS; /* the known failure now passes */
    f->r.items[3].verdict = AIPA_V_PASS;
    baseline_from(&b, "{\"known_failures\": [{\"id\": \"allocate/a\", \"variant\": \"v3-get-json\","
                      " \"reason\": \"gateway bug 12\"}]}");
    assert_int_equal(aipa_baseline_apply(&b, &f->r), AIPA_OK);
    assert_int_equal(aipa_report_exit_code(&f->r), 0);
    assert_int_equal(f->r.fixed_count, 1);
    assert_non_null(strstr(f->r.fixed[0], "gateway bug 12"));
    aipa_baseline_cleanup(&b);
}

static void malformed_baselines(void **state)
{
    static const char *const bad[] = {
        "[]",
        "{}",
        "{\"format\": 2, \"known_failures\": []}",
        "{\"known_failures\": [{\"id\": \"a\"}]}",
        "{\"known_failures\": [{\"reason\": \"r\"}]}",
        "{\"known_failures\": [{\"id\": \"a\", \"reason\": \"r\", \"editions\": [\"x\"]}]}",
        "{\"known_failures\": [{\"id\": \"a\", \"reason\": \"r\", \"extra\": 1}]}",
        "{\"known_failures\": [{\"id\": \"a\", \"reason\": \"r\", \"variant\": 3}]}",
    };
    struct aipa_baseline b;
    struct aipa_buf err;

    (void)state;
    aipa_buf_init(&err, 4096);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        aipa_buf_reset(&err);
        assert_int_not_equal(aipa_baseline_parse(&b, bad[i], strlen(bad[i]), "b.json", &err),
                             AIPA_OK);
        assert_non_null(strstr(err.ptr, "b.json: "));
        assert_int_equal(b.count, 0);
    }
    assert_int_equal(aipa_baseline_load(&b, "/nonexistent/baseline.json", &err), AIPA_EIO);
    aipa_buf_cleanup(&err);
}

static void written_baseline_round_trips(void **state)
{
    struct fixture *f = *state;
    struct aipa_buf out;
    struct aipa_baseline b;

    aipa_buf_init(&out, 1 << 20);
    assert_int_equal(aipa_baseline_write(&f->r, &out), AIPA_OK);
    baseline_from(&b, out.ptr);
    assert_int_equal(b.count, 2); /* the fail and the error */
    assert_int_equal(aipa_baseline_apply(&b, &f->r), AIPA_OK);
    assert_int_equal(aipa_report_exit_code(&f->r), 0);
    aipa_baseline_cleanup(&b);
    aipa_buf_cleanup(&out);
}

/* One entry per case: "variants" lists what failed when not every variant did. */
static void written_baseline_is_one_entry_per_case(void **state)
{
    struct fixture *f = *state;
    struct aipa_buf out;
    cJSON *root;
    const cJSON *list, *a;

    /* A second failing variant of allocate/a in 2018: still one entry for the case. */
    add(&f->r, f->a, AIPA_ED_2018, "v1-get-json", AIPA_V_FAIL, "expected 403; got 200", NULL);
    aipa_buf_init(&out, 1 << 20);
    assert_int_equal(aipa_baseline_write(&f->r, &out), AIPA_OK);
    root = cJSON_Parse(out.ptr);
    list = cJSON_GetObjectItemCaseSensitive(root, "known_failures");
    assert_int_equal(cJSON_GetArraySize(list), 2);
    a = cJSON_GetArrayItem(list, 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(a, "id")->valuestring, "allocate/a");
    /* v1-get-xml passed: the entry names the two that failed, in 2018 only. */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a, "variants")), 2);
    assert_null(cJSON_GetObjectItemCaseSensitive(a, "variant"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a, "editions")), 1);
    cJSON_Delete(root);
    aipa_buf_cleanup(&out);
}

/* "variants" (any glob of the list) is read; with "variant" beside it, or empty, it is refused. */
static void baseline_variants_list(void **state)
{
    struct fixture *f = *state;
    struct aipa_baseline b;
    struct aipa_counts c;
    static const char *const bad[] = {
        "{\"known_failures\": [{\"id\": \"a\", \"variants\": [], \"reason\": \"r\"}]}",
        "{\"known_failures\": [{\"id\": \"a\", \"variants\": [\"\"], \"reason\": \"r\"}]}",
        "{\"known_failures\": [{\"id\": \"a\", \"variants\": \"v1-*\", \"reason\": \"r\"}]}",
        "{\"known_failures\": [{\"id\": \"a\", \"variant\": \"*\", \"variants\": [\"*\"], "
        "\"reason\": \"r\"}]}",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(aipa_baseline_parse(&b, bad[i], strlen(bad[i]), "b.json", NULL),
                         AIPA_EPARSE);
    }
    baseline_from(&b, "{\"known_failures\": [{\"id\": \"allocate/*\", \"variants\": "
                      "[\"v1-get-xml\", \"v3-*\"], \"reason\": \"r\"}]}");
    assert_int_equal(aipa_baseline_apply(&b, &f->r), AIPA_OK);
    assert_true(f->r.items[1].known); /* v3-get-json */
    assert_true(f->r.items[3].known); /* v1-get-xml of allocate/b: an error, covered */
    aipa_baseline_cleanup(&b);
    /* One bucket per result: pass, fail-known (the fail), nonstrict, fail-known (the
     * covered error), skip. */
    aipa_report_counts(&f->r, 0, &c);
    assert_int_equal(c.total, 5);
    assert_int_equal(c.pass + c.nonstrict + c.fail_new + c.fail_known + c.skip + c.error, 5);
    assert_int_equal(c.pass, 1);
    assert_int_equal(c.nonstrict, 1);
    assert_int_equal(c.skip, 1);
    assert_int_equal(c.fail_new, 0);
    assert_int_equal(c.fail_known, 2);
    assert_int_equal(c.error, 0);
}

static long xpath_count(xmlDocPtr doc, const char *expr)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
    long n;

    assert_non_null(o);
    n = o->type == XPATH_NUMBER ? (long)o->floatval
                                : (o->nodesetval != NULL ? o->nodesetval->nodeNr : 0);
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(ctx);
    return n;
}

static void junit_parses_with_right_counts(void **state)
{
    struct fixture *f = *state;
    struct aipa_buf out;
    xmlDocPtr doc;

    aipa_buf_init(&out, 1 << 24);
    assert_int_equal(aipa_report_write_junit(&f->r, &out), AIPA_OK);
    doc = xmlReadMemory(out.ptr, (int)out.len, "junit.xml", NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    assert_int_equal(xpath_count(doc, "/testsuites"), 1);
    assert_int_equal(xpath_count(doc, "number(/testsuites/@tests)"), 5);
    assert_int_equal(xpath_count(doc, "number(/testsuites/@failures)"), 1);
    assert_int_equal(xpath_count(doc, "number(/testsuites/@errors)"), 1);
    assert_int_equal(xpath_count(doc, "number(/testsuites/@skipped)"), 1);
    assert_int_equal(xpath_count(doc, "//testsuite"), 2);
    assert_int_equal(xpath_count(doc, "//testcase"), 5);
    assert_int_equal(xpath_count(doc, "//testcase/failure"), 1);
    assert_int_equal(xpath_count(doc, "//testcase/error"), 1);
    assert_int_equal(xpath_count(doc, "//testcase/skipped[@message]"), 1);
    assert_int_equal(xpath_count(doc, "//testsuite[@name='aipa conform 2018-08-02']/testcase"), 2);
    assert_int_equal(
        xpath_count(doc, "//testcase[@classname='2018-08-02.allocate' and @name='a[v3-get-json]']"
                         "/failure[@type='conformance']"),
        1);
    /* The hostile text arrived as text (parsed back), not as markup. */
    assert_int_equal(xpath_count(doc, "//script"), 0);
    assert_non_null(strstr(out.ptr, "&lt;script&gt;"));
    xmlFreeDoc(doc);

    /* A known failure becomes a skip, so JUnit gates like the exit status. */
    f->r.items[1].known = true;
    f->r.items[1].known_reason = "known";
    aipa_buf_reset(&out);
    assert_int_equal(aipa_report_write_junit(&f->r, &out), AIPA_OK);
    doc = xmlReadMemory(out.ptr, (int)out.len, "junit.xml", NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    assert_int_equal(xpath_count(doc, "number(/testsuites/@failures)"), 0);
    assert_int_equal(xpath_count(doc, "number(/testsuites/@skipped)"), 2);
    xmlFreeDoc(doc);
    aipa_buf_cleanup(&out);
}

static void json_parses_and_feeds_rerun(void **state)
{
    struct fixture *f = *state;
    struct aipa_buf out;
    cJSON *root;
    const cJSON *results, *first;
    struct aipa_rerun rr;

    aipa_buf_init(&out, 1 << 24);
    assert_int_equal(aipa_report_write_json(&f->r, &out), AIPA_OK);
    root = cJSON_Parse(out.ptr);
    assert_non_null(root);
    results = cJSON_GetObjectItemCaseSensitive(root, "results");
    assert_int_equal(cJSON_GetArraySize(results), 5);
    first = cJSON_GetArrayItem(results, 1);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(first, "verdict")->valuestring, "fail");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(first, "variant")->valuestring,
                        "v3-get-json");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(first, "edition")->valuestring,
                        "2018-08-02");
    assert_non_null(strstr(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(first, "exchanges"), 0), "response")
            ->valuestring,
        "<script>"));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(
                         cJSON_GetObjectItemCaseSensitive(
                             cJSON_GetObjectItemCaseSensitive(root, "summary"), "2024-12-20"),
                         "error")
                         ->valueint,
                     1);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(root, "exit_code")->valueint, 2);
    cJSON_Delete(root);

    assert_int_equal(aipa_rerun_parse(&rr, out.ptr, out.len, NULL), AIPA_OK);
    assert_int_equal(rr.count, 2);
    assert_true(aipa_rerun_wants(&rr, "allocate/a", "v3-get-json", AIPA_ED_2018));
    assert_false(aipa_rerun_wants(&rr, "allocate/a", "v3-get-json", AIPA_ED_2024));
    assert_false(aipa_rerun_wants(&rr, "allocate/a", "v1-get-xml", AIPA_ED_2018));
    assert_true(aipa_rerun_wants(&rr, "allocate/b", "v1-get-xml", AIPA_ED_2024));
    aipa_rerun_cleanup(&rr);
    assert_int_equal(aipa_rerun_parse(&rr, "{\"results\": 1}", 14, NULL), AIPA_EPARSE);
    assert_int_equal(aipa_rerun_parse(&rr, "nope", 4, NULL), AIPA_EPARSE);
    aipa_buf_cleanup(&out);
}

static void html_escapes_everything(void **state)
{
    struct fixture *f = *state;
    struct aipa_buf out;
    const char *body;

    aipa_buf_init(&out, 1 << 24);
    assert_int_equal(aipa_report_write_html(&f->r, &out), AIPA_OK);
    body = out.ptr;
    assert_non_null(strstr(body, "<!DOCTYPE html>"));
    assert_non_null(strstr(body, "</html>"));
    /* No target or case byte appears as markup. */
    assert_null(strstr(body, "<script"));
    assert_null(strstr(body, "<b>"));
    assert_null(strchr(body, '\x01'));
    assert_null(strchr(body, '\x7f'));
    assert_non_null(strstr(body, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"));
    assert_non_null(strstr(body, "Title &lt;b&gt;allocate/a&lt;/b&gt;"));
    /* Self-contained: no external references. */
    assert_null(strstr(body, "src="));
    assert_null(strstr(body, "<link"));
    assert_null(strstr(body, "http://127.0.0.1:1\"")); /* only as escaped text */
    /* The failure has a details block with its transcript and repro line. */
    assert_non_null(strstr(body, "id=\"r1\""));
    assert_non_null(strstr(body, "aipa call --target &#39;http://127.0.0.1:1&#39;"));
    aipa_buf_cleanup(&out);
}

/* Read top down: the counts, then the failures (grouped by case), then the matrix and its legend.
 */
static void html_failures_before_matrix(void **state)
{
    struct fixture *f = *state;
    struct aipa_buf out;
    const char *body, *counts, *failures, *nonstrict, *matrix, *legend_blank;

    add(&f->r, f->a, AIPA_ED_2024, "v1-get-xml", AIPA_V_FAIL, "expected 403; got 200", NULL);
    aipa_buf_init(&out, 1 << 24);
    assert_int_equal(aipa_report_write_html(&f->r, &out), AIPA_OK);
    body = out.ptr;
    counts = strstr(body, "<th>fail-new</th>");
    failures = strstr(body, "id=\"failures\"");
    nonstrict = strstr(body, "id=\"nonstrict\"");
    matrix = strstr(body, "id=\"matrix\"");
    legend_blank = strstr(body, "<td class=\"none\"></td><td>blank");
    assert_non_null(counts);
    assert_non_null(failures);
    assert_non_null(nonstrict);
    assert_non_null(matrix);
    assert_non_null(legend_blank);
    assert_true(counts < failures && failures < nonstrict && nonstrict < matrix &&
                matrix < legend_blank);
    /* allocate/a failed in both editions: one block for the case, saying where. */
    assert_non_null(strstr(body, "Failed in 2018-08-02: v3-get-json; 2024-12-20: v1-get-xml"));
    assert_null(strstr(strstr(body, "Failed in 2018-08-02") + 1, "Failed in 2018-08-02"));
    aipa_buf_cleanup(&out);
}

static const cJSON *jget(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* SARIF: failures and nonstrict passes are results at their case files; errors are notes. */
static void sarif_has_results_rules_and_baseline_states(void **state)
{
    struct fixture *f = *state;
    struct aipa_baseline b;
    struct aipa_buf out;
    cJSON *root;
    const cJSON *run, *results, *r0, *r1, *inv;

    baseline_from(&b, "{\"format\": 1, \"known_failures\": ["
                      "{\"id\": \"allocate/a\", \"variant\": \"v3-*\", \"reason\": \"V3 "
                      "host\"}]}");
    assert_int_equal(aipa_baseline_apply(&b, &f->r), AIPA_OK);
    aipa_buf_init(&out, 1 << 24);
    assert_int_equal(aipa_report_write_sarif(&f->r, &out), AIPA_OK);
    root = cJSON_Parse(out.ptr);
    assert_non_null(root);
    assert_string_equal(cJSON_GetStringValue(jget(root, "version")), "2.1.0");
    run = cJSON_GetArrayItem(jget(root, "runs"), 0);
    assert_non_null(run);
    assert_string_equal(cJSON_GetStringValue(jget(jget(jget(run, "tool"), "driver"), "name")),
                        "aipa conform");
    /* Two judged results (the fail and the nonstrict pass), a rule for each case. */
    results = jget(run, "results");
    assert_int_equal(cJSON_GetArraySize(results), 2);
    assert_int_equal(cJSON_GetArraySize(jget(jget(jget(run, "tool"), "driver"), "rules")), 2);
    r0 = cJSON_GetArrayItem(results, 0);
    r1 = cJSON_GetArrayItem(results, 1);
    assert_string_equal(cJSON_GetStringValue(jget(r0, "ruleId")), "allocate/a");
    assert_string_equal(cJSON_GetStringValue(jget(r0, "level")), "error");
    assert_string_equal(cJSON_GetStringValue(jget(r0, "baselineState")), "unchanged");
    assert_non_null(strstr(cJSON_GetStringValue(jget(jget(r0, "message"), "text")), "v3-get-json"));
    assert_non_null(
        strstr(cJSON_GetStringValue(jget(jget(r0, "message"), "text")), "Reproduce: aipa call"));
    assert_string_equal(
        cJSON_GetStringValue(
            jget(jget(jget(cJSON_GetArrayItem(jget(r0, "locations"), 0), "physicalLocation"),
                      "artifactLocation"),
                 "uri")),
        "r.json");
    assert_string_equal(cJSON_GetStringValue(jget(jget(r0, "partialFingerprints"), "aipaCase/v1")),
                        "allocate/a|2018-08-02|v3-get-json");
    assert_string_equal(cJSON_GetStringValue(jget(r1, "ruleId")), "allocate/b");
    assert_string_equal(cJSON_GetStringValue(jget(r1, "level")), "note");
    assert_string_equal(cJSON_GetStringValue(jget(r1, "baselineState")), "new");
    /* The harness error is a notification, and the run says it did not fully execute. */
    inv = cJSON_GetArrayItem(jget(run, "invocations"), 0);
    assert_int_equal(cJSON_GetArraySize(jget(inv, "toolExecutionNotifications")), 1);
    assert_true(cJSON_IsFalse(jget(inv, "executionSuccessful")));
    cJSON_Delete(root);
    aipa_buf_cleanup(&out);
    aipa_baseline_cleanup(&b);
}

/* Injected allocation failures in the writers and the baseline: reported, never a crash or leak. */
static void allocation_failures_are_reported(void **state)
{
    static const char BASE[] = "{\"known_failures\": [{\"id\": \"allocate/*\", \"reason\": "
                               "\"r\"}, {\"id\": \"auth/c\", \"reason\": \"r2\"}]}";
    aipa_err (*const writers[])(const struct aipa_report *, struct aipa_buf *) = {
        aipa_report_write_json, aipa_report_write_junit, aipa_report_write_html,
        aipa_report_write_sarif, aipa_baseline_write};
    struct fixture *f = *state;

    for (size_t w = 0; w < sizeof(writers) / sizeof(writers[0]); w++) {
        bool ok = false;

        for (long k = 0; k < 100000 && !ok; k++) {
            struct aipa_buf out;
            aipa_err e;

            aipa_buf_init(&out, 1 << 24);
            aipa_test_oom_arm(k);
            aipa_set_allocator(&aipa_test_oom_allocator);
            e = writers[w](&f->r, &out);
            aipa_set_allocator(NULL);
            ok = e == AIPA_OK;
            if (!ok) {
                assert_true(e == AIPA_ENOMEM || e == AIPA_ETOOBIG);
            }
            aipa_buf_cleanup(&out);
        }
        assert_true(ok);
    }
    {
        bool ok = false;

        for (long k = 0; k < 1000 && !ok; k++) {
            struct aipa_baseline b;
            aipa_err e;

            aipa_test_oom_arm(k);
            aipa_set_allocator(&aipa_test_oom_allocator);
            e = aipa_baseline_parse(&b, BASE, strlen(BASE), "b.json", NULL);
            if (e == AIPA_OK) {
                e = aipa_baseline_apply(&b, &f->r);
                aipa_baseline_cleanup(&b);
                ok = e == AIPA_OK;
            }
            aipa_set_allocator(NULL);
            if (!ok) {
                assert_true(e == AIPA_ENOMEM);
            }
        }
        assert_true(ok);
    }
}

static void write_file_is_atomic(void **state)
{
    char dir[] = "/tmp/aipa-report-XXXXXX";
    char path[256];
    struct aipa_buf b, err;
    FILE *f;
    char got[16] = {0};

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/out.txt", dir);
    aipa_buf_init(&b, 64);
    aipa_buf_init(&err, 4096);
    assert_int_equal(aipa_buf_puts(&b, "hello"), AIPA_OK);
    assert_int_equal(aipa_write_file(path, &b, &err), AIPA_OK);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fread(got, 1, sizeof(got) - 1, f), 5);
    fclose(f);
    assert_string_equal(got, "hello");
    assert_int_equal(aipa_write_file("/nonexistent/dir/x", &b, &err), AIPA_EIO);
    assert_non_null(strstr(err.ptr, "cannot write"));
    unlink(path);
    rmdir(dir);
    aipa_buf_cleanup(&b);
    aipa_buf_cleanup(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(exit_codes_without_baseline, setup, teardown),
        cmocka_unit_test_setup_teardown(known_failures_keep_exit_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(new_failure_exits_one, setup, teardown),
        cmocka_unit_test_setup_teardown(fixed_known_failure_is_reported, setup, teardown),
        cmocka_unit_test(malformed_baselines),
        cmocka_unit_test_setup_teardown(written_baseline_round_trips, setup, teardown),
        cmocka_unit_test_setup_teardown(written_baseline_is_one_entry_per_case, setup, teardown),
        cmocka_unit_test_setup_teardown(baseline_variants_list, setup, teardown),
        cmocka_unit_test_setup_teardown(junit_parses_with_right_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(json_parses_and_feeds_rerun, setup, teardown),
        cmocka_unit_test_setup_teardown(html_escapes_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(html_failures_before_matrix, setup, teardown),
        cmocka_unit_test_setup_teardown(sarif_has_results_rules_and_baseline_states, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(allocation_failures_are_reported, setup, teardown),
        cmocka_unit_test(write_file_is_atomic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
