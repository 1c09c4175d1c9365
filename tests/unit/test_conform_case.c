/*
 * Unit tests of the case loader (conformance/FORMAT.md): every class of
 * malformed case file gets a clear error naming the JSON path; variants,
 * the %hex/%repeat forms, ${...} substitution, selection patterns, suites.
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

#include <cmocka.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char BASE[] =
    "{\"id\": \"allocate/status/starting\", \"title\": \"Starting is rejected\","
    " \"doc\": {\"clause\": \"must be Running or Stopped\", \"source\": "
    "\"spec/allocate-2018.md#description\"},"
    " \"level\": \"MUST\", \"tags\": [\"status\", \"negative\"],"
    " \"fixtures\": {\"vm\": {\"Status\": \"Starting\"}, \"many\": {\"$count\": 3}},"
    " \"steps\": [{\"name\": \"allocate\", \"request\": {\"Action\": \"AllocatePublicIpAddress\","
    " \"InstanceId\": \"${vm}\"}, \"expect\": [{\"status\": 403, \"Code\": "
    "\"IncorrectInstanceStatus\", \"Message\": \"m\", \"fields\": {\"RequestId\": {\"is\": "
    "\"uuid\"}}}]},"
    " {\"request\": {\"Action\": \"DescribeInstances\", \"InstanceIds\": \"[\\\"${vm}\\\"]\"},"
    " \"expect\": [{\"status\": 200, \"fields\": "
    "{\"Instances.Instance[0].PublicIpAddress.IpAddress\":"
    " [], \"TotalCount\": 1, \"X\": {\"same_as\": \"step[0].RequestId\"}}}]}]}";

/* BASE with the first occurrence of from replaced by to. */
static char *mutate(const char *from, const char *to)
{
    const char *hit = strstr(BASE, from);
    size_t n;
    char *out;

    assert_non_null(hit);
    n = strlen(BASE) - strlen(from) + strlen(to) + 1;
    out = malloc(n);
    assert_non_null(out);
    snprintf(out, n, "%.*s%s%s", (int)(hit - BASE), BASE, to, hit + strlen(from));
    return out;
}

static void expect_error(const char *json, const char *needle)
{
    struct aipa_case *c = (struct aipa_case *)1;
    struct aipa_buf err;
    aipa_err e;

    aipa_buf_init(&err, 1 << 16);
    e = aipa_case_parse(json, strlen(json), "t.json", &c, &err);
    if (e == AIPA_OK || err.ptr == NULL || strstr(err.ptr, needle) == NULL) {
        print_error("wanted an error containing \"%s\", got %s: %s\n", needle, aipa_errname(e),
                    err.ptr != NULL ? err.ptr : "(none)");
    }
    assert_int_not_equal(e, AIPA_OK);
    assert_null(c);
    assert_non_null(err.ptr);
    assert_non_null(strstr(err.ptr, needle));
    assert_ptr_equal(strstr(err.ptr, "t.json: "), err.ptr); /* the file is named first */
    aipa_buf_cleanup(&err);
}

static void expect_mutation_error(const char *from, const char *to, const char *needle)
{
    char *json = mutate(from, to);

    expect_error(json, needle);
    free(json);
}

static void base_case_loads(void **state)
{
    struct aipa_case *c = NULL;
    struct aipa_buf err;

    (void)state;
    aipa_buf_init(&err, 4096);
    assert_int_equal(aipa_case_parse(BASE, strlen(BASE), "t.json", &c, &err), AIPA_OK);
    assert_non_null(c);
    assert_string_equal(c->id, "allocate/status/starting");
    assert_int_equal(c->level, AIPA_LEVEL_MUST);
    assert_int_equal(c->editions, AIPA_ED_ALL);
    assert_int_equal(c->tag_count, 2);
    assert_int_equal(c->fixture_count, 2);
    assert_int_equal(c->fixtures[1].count, 3);
    /* "$count" is the runner's: it is not forwarded to the target. */
    assert_null(cJSON_GetObjectItemCaseSensitive(c->fixtures[1].state, "$count"));
    assert_int_equal(c->step_count, 2);
    assert_string_equal(c->steps[0].name, "allocate");
    assert_string_equal(c->steps[0].principal, "default");
    assert_int_equal(c->steps[0].repeat, 1);
    assert_int_equal(c->steps[0].outcome_count, 1);
    assert_int_equal(c->steps[0].outcomes[0].status[0], 403);
    assert_string_equal(c->steps[0].outcomes[0].code, "IncorrectInstanceStatus");
    assert_int_equal(c->steps[0].outcomes[0].checks[0].kind, AIPA_CHK_IS_UUID);
    assert_int_equal(c->steps[1].outcomes[0].checks[0].kind, AIPA_CHK_LIST_EQUALS);
    assert_int_equal(c->steps[1].outcomes[0].checks[1].kind, AIPA_CHK_EQUALS);
    assert_int_equal(c->steps[1].outcomes[0].checks[2].kind, AIPA_CHK_SAME_AS);
    assert_int_equal(c->variants.sig, AIPA_VSIG_ALL);
    assert_false(c->all_raw);
    aipa_case_free(c);
    aipa_case_free(NULL);
    aipa_buf_cleanup(&err);
}

static void malformed_documents(void **state)
{
    (void)state;
    expect_error("", "not valid JSON");
    expect_error("{\"id\": ", "not valid JSON");
    expect_error("[1, 2]", "one JSON object");
    expect_error("\"x\"", "one JSON object");
    expect_error("{} {}", "trailing bytes");
    expect_error("{}", "id is required");
}

static void malformed_top_level(void **state)
{
    (void)state;
    expect_mutation_error("\"title\": \"Starting is rejected\",", "", "title is required");
    expect_mutation_error("allocate/status/starting", "Allocate/Status", "id: ");
    expect_mutation_error("allocate/status/starting", "a//b", "id: ");
    expect_mutation_error("allocate/status/starting", "a/../b", "id: ");
    expect_mutation_error("\"level\": \"MUST\"", "\"level\": \"MAY\"", "level: ");
    expect_mutation_error("\"level\": \"MUST\",", "", "level: ");
    expect_mutation_error("\"tags\": [\"status\", \"negative\"]", "\"tags\": [\"Has Space\"]",
                          "tags: ");
    expect_mutation_error("\"tags\": [\"status\", \"negative\"]", "\"tags\": \"status\"", "tags: ");
    expect_mutation_error("\"level\"", "\"lvl\": 1, \"level\"", "unknown key \"lvl\"");
    expect_mutation_error("\"source\": \"spec/allocate-2018.md#description\"", "\"src\": \"x\"",
                          "doc: ");
    expect_mutation_error("\"clause\": \"must be Running or Stopped\"", "\"clause\": \"\"",
                          "doc.clause: must not be empty");
    expect_mutation_error("\"level\"", "\"editions\": [\"2019\"], \"level\"", "editions: ");
    expect_mutation_error("\"level\"", "\"editions\": [], \"level\"", "editions: ");
    expect_mutation_error("\"level\"", "\"format\": 2, \"level\"", "format: ");
    expect_mutation_error("\"level\"", "\"pool\": {\"Free\": -1}, \"level\"", "pool.Free");
    expect_mutation_error("\"level\"", "\"pool\": {\"Fre\": 1}, \"level\"", "pool: unknown key");
    expect_mutation_error("\"level\"", "\"disabled\": 1, \"level\"", "disabled: ");
    /* Comments are allowed anywhere as keys starting with '_'. */
    {
        char *json = mutate("\"level\"", "\"_note\": \"fine\", \"level\"");
        struct aipa_case *c = NULL;

        assert_int_equal(aipa_case_parse(json, strlen(json), "t.json", &c, NULL), AIPA_OK);
        aipa_case_free(c);
        free(json);
    }
}

static void malformed_fixtures_and_variants(void **state)
{
    (void)state;
    expect_mutation_error("\"vm\": {\"Status\": \"Starting\"}", "\"vm\": 5", "fixtures.vm: ");
    expect_mutation_error("\"vm\": {\"Status\"", "\"9vm\": {\"Status\"", "fixtures.9vm: ");
    expect_mutation_error("\"vm\": {\"Status\"", "\"step\": {\"Status\"", "reserved");
    expect_mutation_error("{\"$count\": 3}", "{\"$count\": 0}", "$count");
    expect_mutation_error("{\"$count\": 3}", "{\"$count\": 65}", "$count");
    expect_mutation_error("{\"$count\": 3}", "{\"$cnt\": 3}", "unknown runner key");
    expect_mutation_error("\"level\"", "\"variants\": {\"signature\": [\"v2\"]}, \"level\"",
                          "variants.signature");
    expect_mutation_error("\"level\"", "\"variants\": {\"sig\": [\"v1\"]}, \"level\"",
                          "variants: unknown key");
    expect_mutation_error("\"level\"",
                          "\"variants\": {\"signature\": [\"v3\"], \"shape\": [\"post-form\"]}, "
                          "\"level\"",
                          "leaves no variant");
}

static void malformed_steps(void **state)
{
    (void)state;
    expect_mutation_error("\"steps\": [", "\"steps\": [], \"_x\": [", "steps: ");
    expect_mutation_error("{\"name\": \"allocate\", \"request\"", "{\"name\": 5, \"request\"",
                          "steps[0].name: must be a string");
    expect_mutation_error("\"request\": {\"Action\": \"AllocatePublicIpAddress\",",
                          "\"requests\": {\"Action\": \"AllocatePublicIpAddress\",",
                          "steps[0]: unknown key \"requests\"");
    expect_mutation_error("\"InstanceId\": \"${vm}\"", "\"InstanceId\": 5",
                          "steps[0].request.InstanceId: must be a string");
    expect_mutation_error("{\"Action\": \"AllocatePublicIpAddress\",", "{", "Action is required");
    expect_mutation_error("\"${vm}\"", "\"${vn}\"", "${vn} names no fixture");
    expect_mutation_error("\"${vm}\"", "\"${vm\"", "unterminated");
    expect_mutation_error("\"${vm}\"", "\"${many[3]}\"", "has 3 instance");
    expect_mutation_error("\"${vm}\"", "\"${step[0].IpAddress}\"", "earlier step");
    expect_mutation_error("\"${vm}\"", "\"${what ever}\"", "unknown substitution");
    expect_mutation_error("\"${vm}\"", "\"%hex[%4]hex%\"", "malformed %hex");
    expect_mutation_error("\"${vm}\"", "\"%repeat[0 x a]%\"", "malformed %hex");
    expect_mutation_error("\"${vm}\"", "\"%repeat[2000000 x a]%\"", "expands past");
    expect_mutation_error("\"name\": \"allocate\",", "\"name\": \"allocate\", \"repeat\": 0,",
                          "steps[0].repeat");
    expect_mutation_error("\"name\": \"allocate\",", "\"name\": \"allocate\", \"parallel\": 1,",
                          "steps[0].parallel");
    expect_mutation_error("\"name\": \"allocate\",",
                          "\"name\": \"allocate\", \"principal\": \"a b\",", "steps[0].principal");
    expect_mutation_error("\"name\": \"allocate\",",
                          "\"name\": \"allocate\", \"pin\": {\"signature\": \"v4\"},",
                          "steps[0].pin");
    expect_mutation_error("\"name\": \"allocate\",",
                          "\"name\": \"allocate\", \"pin\": {\"signature\": \"v3\", \"shape\": "
                          "\"post-form\"},",
                          "form body");
    expect_mutation_error("\"name\": \"allocate\",",
                          "\"name\": \"allocate\", \"across\": [{\"field\": \"IpAddress\", "
                          "\"distinct\": true}],",
                          "needs repeat >= 2");
    expect_mutation_error("\"name\": \"allocate\",",
                          "\"name\": \"allocate\", \"raw\": {\"target\": \"/\"},",
                          "exactly one of \"request\", \"raw\" and \"wire\"");
}

static void malformed_tamper(void **state)
{
    (void)state;
    expect_mutation_error("\"name\": \"allocate\",",
                          "\"name\": \"allocate\", \"tamper\": {\"secret\": \"right\"},",
                          "secret: only \"wrong\"");
    expect_mutation_error("\"name\": \"allocate\",",
                          "\"name\": \"allocate\", \"tamper\": {\"nonce\": \"reuse\"},",
                          "needs a previous step");
    expect_mutation_error("\"name\": \"allocate\",",
                          "\"name\": \"allocate\", \"tamper\": {\"timestamp\": \"old\"},",
                          "timestamp: ");
    expect_mutation_error("\"name\": \"allocate\",",
                          "\"name\": \"allocate\", \"tamper\": {\"omit\": [\"InstanceId\"]},",
                          "omit: not a common parameter");
    expect_mutation_error("\"name\": \"allocate\",",
                          "\"name\": \"allocate\", \"tamper\": {\"set\": {\"InstanceId\": \"x\"}},",
                          "is not a common parameter");
    expect_mutation_error("\"name\": \"allocate\",",
                          "\"name\": \"allocate\", \"tamper\": {\"sign\": 1},", "unknown key");
    expect_mutation_error("\"name\": \"allocate\",",
                          "\"name\": \"allocate\", \"tamper\": {\"set\": {\"Signature\": \"x\"}},",
                          "the Signature is computed");
    expect_mutation_error("\"name\": \"allocate\",", "\"name\": \"allocate\", \"tamper\": {},",
                          "empty tamper");
    expect_mutation_error("\"name\": \"allocate\",",
                          "\"name\": \"allocate\", \"pin\": {\"signature\": \"v3\"}, "
                          "\"tamper\": {\"omit\": [\"SignatureVersion\"]},",
                          "no V3 form");
}

static void malformed_outcomes(void **state)
{
    (void)state;
    expect_mutation_error("\"status\": 403", "\"status\": 4030", "steps[0].expect[0].status");
    expect_mutation_error("\"status\": 403", "\"status\": \"403\"", "steps[0].expect[0].status");
    expect_mutation_error("\"status\": 403", "\"status\": []", "steps[0].expect[0].status");
    expect_mutation_error("\"status\": 403,", "", "status is required");
    expect_mutation_error("\"Code\": \"IncorrectInstanceStatus\"", "\"Code\": 5",
                          "steps[0].expect[0].Code: must be a string");
    expect_mutation_error("\"Message\": \"m\"", "\"Message\": null", "steps[0].expect[0].Message");
    expect_mutation_error("\"Message\": \"m\"", "\"MessagePrefix\": \"\"", "MessagePrefix");
    expect_mutation_error("\"Message\": \"m\"", "\"RequestId\": \"guid\"", "RequestId");
    expect_mutation_error("\"Message\": \"m\"", "\"grade\": \"lenient\"", "grade");
    expect_mutation_error("\"Message\": \"m\"", "\"Mesage\": \"m\"", "unknown key \"Mesage\"");
    expect_mutation_error("\"expect\": [{\"status\": 403",
                          "\"expect\": [], \"_\": [{\"status\": 403", "acceptable outcomes");
    expect_mutation_error("{\"status\": 403,", "{\"editions\": [\"2018-08-02\"], \"status\": 403,",
                          "no outcome for edition 2024-12-20");
    expect_mutation_error("{\"status\": 403,",
                          "{\"editions\": [\"2018-08-02\", \"2019-01-01\"], \"status\": 403,",
                          "steps[0].expect[0].editions");
    expect_mutation_error("{\"is\": \"uuid\"}", "{\"is\": \"ipv6\"}", "is: ");
    expect_mutation_error("{\"is\": \"uuid\"}", "{\"lenght\": 0}", "unknown check \"lenght\"");
    expect_mutation_error("{\"is\": \"uuid\"}", "{\"length\": -1}", "length takes");
    expect_mutation_error("{\"is\": \"uuid\"}", "{\"is\": \"uuid\", \"absent\": true}",
                          "exactly one of");
    expect_mutation_error("{\"is\": \"uuid\"}", "null", "use {\"absent\": true}");
    expect_mutation_error("{\"is\": \"uuid\"}", "{\"absent\": false}", "absent takes true");
    expect_mutation_error("{\"is\": \"uuid\"}", "[{\"a\": 1}]", "a list check");
    expect_mutation_error("{\"is\": \"uuid\"}", "{\"one_of\": []}", "one_of takes");
    expect_mutation_error("{\"same_as\": \"step[0].RequestId\"}",
                          "{\"same_as\": \"step[1].RequestId\"}", "not an earlier step");
    expect_mutation_error("{\"same_as\": \"step[0].RequestId\"}", "{\"same_as\": \"RequestId\"}",
                          "step[N].PATH");
    expect_mutation_error("\"TotalCount\": 1", "\"a..b\": 1", "malformed path");
}

/* Wire steps (FORMAT.md "Wire steps"): what loads, and each way a wire step can be wrong. */
static void wire_steps(void **state)
{
#define WIRE_CASE(step)                                                                            \
    "{\"id\": \"http/x\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": \"s\"},"    \
    " \"level\": \"MUST\", \"steps\": [" step "]}"
    static const char OK[] = WIRE_CASE(
        "{\"wire\": {\"send\": \"GET / HTTP/1.1\\r\\nX: %hex[%00]hex%\\r\\n\\r\\n\", \"drip_ms\": 5,"
        " \"wait_ms\": 100, \"answers\": 1, \"closed\": true, \"cut_off\": false, \"format\": "
        "\"json\"}, \"expect\": [{\"status\": [0, 400]}]}");
    struct aipa_case *c = NULL;

    (void)state;
    assert_int_equal(aipa_case_parse(OK, strlen(OK), "w.json", &c, NULL), AIPA_OK);
    assert_true(c->all_raw);
    assert_non_null(c->steps[0].wire);
    assert_null(c->steps[0].raw);
    assert_int_equal(c->steps[0].wire->drip_ms, 5);
    assert_int_equal(c->steps[0].wire->wait_ms, 100);
    assert_int_equal(c->steps[0].wire->answers, 1);
    assert_int_equal(c->steps[0].wire->closed, 1);
    assert_int_equal(c->steps[0].wire->cut_off, 0);
    assert_int_equal(c->steps[0].wire->want_fmt, AIPA_VFMT_JSON);
    assert_int_equal(c->steps[0].outcomes[0].status[0], 0); /* no answer: wire steps only */
    aipa_case_free(c);
    expect_error(WIRE_CASE("{\"wire\": {}, \"expect\": [{\"status\": 400}]}"), "send is required");
    expect_error(WIRE_CASE("{\"wire\": {\"send\": \"x\", \"answers\": -1}, \"expect\": [{\"status\":"
                           " 400}]}"),
                 "must be an integer 0..64");
    expect_error(WIRE_CASE("{\"wire\": {\"send\": \"x\", \"closed\": 2}, \"expect\": [{\"status\":"
                           " 400}]}"),
                 "must be true or false");
    expect_error(WIRE_CASE("{\"wire\": {\"send\": \"x\", \"sent\": 1}, \"expect\": [{\"status\":"
                           " 400}]}"),
                 "sent");
    expect_error(WIRE_CASE("{\"wire\": {\"send\": \"x\", \"format\": \"yaml\"}, \"expect\": "
                           "[{\"status\": 400}]}"),
                 "unknown value");
    expect_error(WIRE_CASE("{\"wire\": {\"send\": \"x\"}, \"repeat\": 2, \"expect\": [{\"status\":"
                           " 400}]}"),
                 "a wire step takes no pin, tamper, principal, repeat or across");
    expect_error(WIRE_CASE("{\"wire\": {\"send\": \"%hex[%ZZ]hex%\"}, \"expect\": [{\"status\": "
                           "400}]}"),
                 "malformed");
    /* Status 0 (no answer) is for wire steps only. */
    expect_error(WIRE_CASE("{\"raw\": {\"target\": \"/\"}, \"expect\": [{\"status\": 0}]}"),
                 "100..599");
#undef WIRE_CASE
}

static void malformed_raw_and_across(void **state)
{
    static const char RAW[] =
        "{\"id\": \"wire/x\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": \"s\"},"
        " \"level\": \"SHOULD\", \"steps\": [{\"raw\": {\"method\": \"GET\", \"target\": "
        "\"/?A=%hex[%FF]hex%\"}, \"expect\": [{\"status\": [400, 404]}]}]}";
    struct aipa_case *c = NULL;

    (void)state;
    assert_int_equal(aipa_case_parse(RAW, strlen(RAW), "r.json", &c, NULL), AIPA_OK);
    assert_true(c->all_raw);
    assert_int_equal(c->level, AIPA_LEVEL_SHOULD);
    assert_int_equal(c->steps[0].outcomes[0].status_count, 2);
    assert_string_equal(c->steps[0].raw->body, "");
    aipa_case_free(c);
    expect_error("{\"id\": \"wire/x\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": "
                 "\"s\"}, \"level\": \"MUST\", \"steps\": [{\"raw\": {\"method\": \"GET\"}, "
                 "\"expect\": [{\"status\": 400}]}]}",
                 "target is required");
    expect_error("{\"id\": \"wire/x\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": "
                 "\"s\"}, \"level\": \"MUST\", \"steps\": [{\"raw\": {\"method\": \"G T\", "
                 "\"target\": \"/\"}, \"expect\": [{\"status\": 400}]}]}",
                 "HTTP token");
    expect_error("{\"id\": \"wire/x\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": "
                 "\"s\"}, \"level\": \"MUST\", \"steps\": [{\"raw\": {\"target\": \"/\"}, "
                 "\"tamper\": {\"secret\": \"wrong\"}, \"expect\": [{\"status\": 400}]}]}",
                 "a raw step takes no pin, tamper or principal");
    expect_error(
        "{\"id\": \"c/x\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": "
        "\"s\"}, \"level\": \"MUST\", \"steps\": [{\"request\": {\"Action\": \"A\"}, "
        "\"repeat\": 4, \"expect\": [{\"status\": 200}], \"across\": [{\"field\": \"X\"}]}]}",
        "\"distinct\": true or \"same\": true");
    expect_error(
        "{\"id\": \"c/x\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": "
        "\"s\"}, \"level\": \"MUST\", \"steps\": [{\"request\": {\"Action\": \"A\"}, "
        "\"repeat\": 4, \"expect\": [{\"status\": 200}], \"across\": [{\"status\": 200}]}]}",
        "either count or min/max");
    expect_error("{\"id\": \"c/x\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": "
                 "\"s\"}, \"level\": \"MUST\", \"steps\": [{\"request\": {\"Action\": \"A\"}, "
                 "\"repeat\": 65, \"expect\": [{\"status\": 200}]}]}",
                 "repeat");
}

static void oversized_case_is_rejected(void **state)
{
    size_t n = AIPA_CASE_MAX_BYTES + 10;
    char *big = malloc(n + 1);
    struct aipa_case *c = NULL;
    struct aipa_buf err;

    (void)state;
    assert_non_null(big);
    memset(big, ' ', n);
    big[n] = '\0';
    aipa_buf_init(&err, 4096);
    assert_int_equal(aipa_case_parse(big, n, "big.json", &c, &err), AIPA_ETOOBIG);
    assert_null(c);
    assert_non_null(strstr(err.ptr, "larger than"));
    aipa_buf_cleanup(&err);
    free(big);
}

static void variant_names_and_expansion(void **state)
{
    struct aipa_variant vs[16], v;
    char name[AIPA_VARIANT_NAME_MAX];
    struct aipa_variant_set all = {AIPA_VSIG_ALL, AIPA_VSHAPE_ALL, AIPA_VFMT_ALL};
    struct aipa_variant_set set;
    size_t n;

    (void)state;
    n = aipa_variants_expand(&all, vs, 16);
    assert_int_equal(n, 10); /* 2 formats x (3 V1 shapes + 2 V3 shapes) */
    for (size_t i = 0; i < n; i++) {
        assert_false(vs[i].sig == AIPA_VSIG_V3 && vs[i].shape == AIPA_VSHAPE_POST_FORM);
        aipa_variant_name(&vs[i], name);
        assert_int_equal(aipa_variant_parse(name, &v), AIPA_OK);
        assert_memory_equal(&v, &vs[i], sizeof(v));
    }
    aipa_variant_name(&vs[0], name);
    assert_string_equal(name, "v1-get-xml");
    aipa_variant_name(&vs[9], name);
    assert_string_equal(name, "v3-post-query-json");
    assert_int_equal(aipa_variant_parse("v3-post-form-xml", &v), AIPA_EPARSE);
    assert_int_equal(aipa_variant_parse("raw", &v), AIPA_OK);
    assert_int_equal(v.sig, 0);
    /* Capped output still counts them all. */
    assert_int_equal(aipa_variants_expand(&all, vs, 3), 10);

    assert_int_equal(aipa_variant_filter_parse("v1,json", &set), AIPA_OK);
    assert_int_equal(aipa_variants_expand(&set, vs, 16), 3);
    assert_int_equal(aipa_variant_filter_parse("v3", &set), AIPA_OK);
    assert_int_equal(aipa_variants_expand(&set, vs, 16), 4);
    assert_int_equal(aipa_variant_filter_parse("post-form", &set), AIPA_OK);
    assert_int_equal(aipa_variants_expand(&set, vs, 16), 2); /* V1 only */
    assert_int_equal(aipa_variant_filter_parse("v3-get-json", &set), AIPA_OK);
    assert_int_equal(aipa_variants_expand(&set, vs, 16), 1);
    assert_int_equal(aipa_variant_filter_parse("v2", &set), AIPA_EPARSE);
    assert_int_equal(aipa_variant_filter_parse("", &set), AIPA_EPARSE);
    assert_int_equal(aipa_variant_filter_parse("v1,,json", &set), AIPA_EPARSE);
}

/* --variants: full names select exactly themselves; axis words combine; a mix is the union. */
static void variant_selection_is_exact_for_names(void **state)
{
    struct aipa_variant_set set;
    struct aipa_variant a, b;
    unsigned pick = 0;

    (void)state;
    assert_int_equal(aipa_variant_parse("v1-get-xml", &a), AIPA_OK);
    assert_int_equal(aipa_variant_parse("v3-post-query-json", &b), AIPA_OK);
    assert_int_equal(aipa_variant_select_parse("v1-get-xml,v3-post-query-json", &set, &pick),
                     AIPA_OK);
    assert_int_equal(pick, aipa_variant_pick_bit(&a) | aipa_variant_pick_bit(&b));
    assert_int_equal(__builtin_popcount(pick), 2); /* not the 8 combinations of their parts */
    assert_int_equal(aipa_variant_select_parse("v1,json", &set, &pick), AIPA_OK);
    assert_int_equal(__builtin_popcount(pick), 3);
    assert_int_equal(aipa_variant_select_parse("v3-get-json,post-form", &set, &pick), AIPA_OK);
    assert_int_equal(__builtin_popcount(pick), 3); /* v3-get-json + the two V1 form variants */
    assert_int_equal(aipa_variant_select_parse("v3,post-form", &set, &pick), AIPA_EPARSE);
    assert_int_equal(aipa_variant_select_parse("v3-post-form-json", &set, &pick), AIPA_EPARSE);
    assert_int_equal(aipa_variant_select_parse("raw", &set, &pick), AIPA_EPARSE);
    assert_int_equal(aipa_variant_select_parse("v1,", &set, &pick), AIPA_EPARSE);
    assert_int_equal(aipa_variant_select_parse("", &set, &pick), AIPA_EPARSE);
}

static void byte_forms_expand(void **state)
{
    struct aipa_buf b;
    const char *in;

    (void)state;
    aipa_buf_init(&b, AIPA_CASE_MAX_EXPANDED);
    in = "a%hex[ %00%01%FF ]hex%b";
    assert_int_equal(aipa_case_expand_bytes(in, strlen(in), &b), AIPA_OK);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.ptr,
                        "a\x00\x01\xff"
                        "b",
                        5);
    aipa_buf_reset(&b);
    in = "%repeat[3 x ab%41]%!";
    assert_int_equal(aipa_case_expand_bytes(in, strlen(in), &b), AIPA_OK);
    assert_string_equal(b.ptr, "abAabAabA!");
    aipa_buf_reset(&b);
    in = "100% plain %zz";
    assert_int_equal(aipa_case_expand_bytes(in, strlen(in), &b), AIPA_OK);
    assert_string_equal(b.ptr, in);
    aipa_buf_reset(&b);
    in = "%repeat[1048576 x a]%";
    assert_int_equal(aipa_case_expand_bytes(in, strlen(in), &b), AIPA_OK);
    assert_int_equal(b.len, AIPA_CASE_MAX_EXPANDED);
    aipa_buf_reset(&b);
    in = "x%repeat[1048576 x a]%";
    assert_int_equal(aipa_case_expand_bytes(in, strlen(in), &b), AIPA_ETOOBIG);
    aipa_buf_reset(&b);
    in = "%repeat[99999999999 x a]%";
    assert_int_equal(aipa_case_expand_bytes(in, strlen(in), &b), AIPA_ETOOBIG);
    aipa_buf_reset(&b);
    in = "%hex[%G0]hex%";
    assert_int_equal(aipa_case_expand_bytes(in, strlen(in), &b), AIPA_EPARSE);
    aipa_buf_reset(&b);
    in = "%hex[%00";
    assert_int_equal(aipa_case_expand_bytes(in, strlen(in), &b), AIPA_EPARSE);
    aipa_buf_reset(&b);
    in = "%repeat[3 y a]%";
    assert_int_equal(aipa_case_expand_bytes(in, strlen(in), &b), AIPA_EPARSE);
    aipa_buf_reset(&b);
    /* Repeats of a count that is no power of two come out whole (built by doubling). */
    in = "<%repeat[5 x xyz]%>";
    assert_int_equal(aipa_case_expand_bytes(in, strlen(in), &b), AIPA_OK);
    assert_string_equal(b.ptr, "<xyzxyzxyzxyzxyz>");
    aipa_buf_reset(&b);
    in = "%repeat[1 x q]%%repeat[2 x %25]%";
    assert_int_equal(aipa_case_expand_bytes(in, strlen(in), &b), AIPA_OK);
    assert_string_equal(b.ptr, "q%%");
    aipa_buf_cleanup(&b);
    /* Plain text: exactly the ceiling fits, one byte more does not. */
    {
        char *big = malloc(AIPA_CASE_MAX_EXPANDED + 2);

        assert_non_null(big);
        memset(big, 'p', AIPA_CASE_MAX_EXPANDED + 1);
        big[AIPA_CASE_MAX_EXPANDED + 1] = '\0';
        aipa_buf_init(&b, AIPA_CASE_MAX_EXPANDED);
        assert_int_equal(aipa_case_expand_bytes(big, AIPA_CASE_MAX_EXPANDED, &b), AIPA_OK);
        assert_int_equal(b.len, AIPA_CASE_MAX_EXPANDED);
        aipa_buf_reset(&b);
        assert_int_equal(aipa_case_expand_bytes(big, AIPA_CASE_MAX_EXPANDED + 1, &b), AIPA_ETOOBIG);
        aipa_buf_cleanup(&b);
        free(big);
    }
}

static void substitution_resolves_against_a_run(void **state)
{
    struct aipa_case *c = NULL;
    struct aipa_run_env env;
    char vm[] = "i-vm", a[] = "i-a", b[] = "i-b", cc[] = "i-c";
    char *ids0[] = {vm};
    char *ids1[] = {a, b, cc};
    cJSON *step0 = cJSON_Parse("{\"RequestId\": \"R\", \"IpAddress\": \"47.96.0.1\", "
                               "\"List\": {\"Item\": [\"x\", \"y\"]}}");
    struct aipa_buf out, why;

    (void)state;
    assert_int_equal(aipa_case_parse(BASE, strlen(BASE), "t.json", &c, NULL), AIPA_OK);
    memset(&env, 0, sizeof(env));
    env.c = c;
    env.fixture_ids[0] = ids0;
    env.fixture_ids[1] = ids1;
    env.step_roots[0] = step0;
    env.steps_done = 1;
    env.rep = 2;
    aipa_buf_init(&out, 1 << 16);
    aipa_buf_init(&why, 1 << 16);
    assert_int_equal(aipa_run_env_expand(&env,
                                         "${vm} ${many[1]} ${many[i]} ${i} ${region} "
                                         "${step[0].IpAddress} ${step[0].List.Item[1]} $${vm}",
                                         false, &out, &why),
                     AIPA_OK);
    assert_string_equal(out.ptr, "i-vm i-b i-c 2 cn-hangzhou 47.96.0.1 y ${vm}");
    aipa_buf_reset(&out);
    assert_int_equal(aipa_run_env_expand(&env, "${step[0].Missing}", false, &out, &why),
                     AIPA_EPARSE);
    assert_non_null(strstr(why.ptr, "no such value"));
    aipa_buf_reset(&why);
    env.rep = 3; /* ${many[i]} past the fixture's count */
    assert_int_equal(aipa_run_env_expand(&env, "${many[i]}", false, &out, &why), AIPA_EPARSE);
    aipa_buf_reset(&out);
    assert_int_equal(aipa_run_env_expand(&env, "${vm}%hex[%41]hex%", true, &out, &why), AIPA_OK);
    assert_string_equal(out.ptr, "i-vmA");
    aipa_buf_cleanup(&out);
    aipa_buf_cleanup(&why);
    cJSON_Delete(step0);
    aipa_case_free(c);
}

/* ${pool.address} and ${pool.outside}: from the target's state, also inside fixtures. */
static void pool_substitutions(void **state)
{
    struct aipa_case *c = NULL;
    struct aipa_run_env env;
    struct aipa_buf out, why;
    char *json = mutate("\"Status\": \"Starting\"",
                        "\"PublicIpAddress\": {\"IpAddress\": [\"${pool.address}\"]}");

    (void)state;
    assert_int_equal(aipa_case_parse(BASE, strlen(BASE), "t.json", &c, NULL), AIPA_OK);
    assert_false(c->uses_pool);
    aipa_case_free(c);
    c = NULL;
    assert_int_equal(aipa_case_parse(json, strlen(json), "t.json", &c, NULL), AIPA_OK);
    assert_true(c->uses_pool);
    memset(&env, 0, sizeof(env));
    env.c = c;
    aipa_buf_init(&out, 1 << 16);
    aipa_buf_init(&why, 1 << 16);
    /* unknown until the runner has read the target's state */
    assert_int_equal(aipa_run_env_expand(&env, "${pool.address}", false, &out, &why), AIPA_EPARSE);
    assert_non_null(strstr(why.ptr, "the target's pool is not known"));
    env.pool_address = "198.51.7.1";
    env.pool_outside = "8.8.8.8";
    aipa_buf_reset(&out);
    assert_int_equal(
        aipa_run_env_expand(&env, "${pool.address} ${pool.outside}", false, &out, &why), AIPA_OK);
    assert_string_equal(out.ptr, "198.51.7.1 8.8.8.8");
    {
        char *body = NULL;

        /* the fixture's body as POST /_aipa/instances gets it */
        assert_int_equal(aipa_run_env_fixture_body(&env, c->fixtures[0].state, &body, &why),
                         AIPA_OK);
        assert_string_equal(body, "{\"PublicIpAddress\":{\"IpAddress\":[\"198.51.7.1\"]}}");
        cJSON_free(body);
        env.region = "cn-beijing"; /* the profile's region, unless the fixture names one */
        assert_int_equal(aipa_run_env_fixture_body(&env, c->fixtures[0].state, &body, &why),
                         AIPA_OK);
        assert_string_equal(body, "{\"PublicIpAddress\":{\"IpAddress\":[\"198.51.7.1\"]},"
                                  "\"RegionId\":\"cn-beijing\"}");
        cJSON_free(body);
        env.pool_address = NULL;
        assert_int_equal(aipa_run_env_fixture_body(&env, c->fixtures[0].state, &body, &why),
                         AIPA_EPARSE);
        assert_null(body);
    }
    aipa_buf_cleanup(&out);
    aipa_buf_cleanup(&why);
    aipa_case_free(c);
    free(json);
    /* a fixture is created before any step and before the other fixtures */
    expect_mutation_error("\"Status\": \"Starting\"", "\"Status\": \"${many}\"",
                          "fixtures.vm: a fixture can use only ${pool.address}");
    expect_mutation_error("\"Status\": \"Starting\"",
                          "\"EipAddress\": {\"IpAddress\": \"${step[0].IpAddress}\"}",
                          "a fixture can use only");
    expect_mutation_error("\"Status\": \"Starting\"", "\"RegionId\": \"${pool.nothing}\"",
                          "unknown substitution ${pool.nothing}");
    expect_mutation_error("\"many\": {", "\"pool\": {", "\"pool\" is reserved");
}

static void selection_patterns(void **state)
{
    struct aipa_case *c = NULL;

    (void)state;
    assert_int_equal(aipa_case_parse(BASE, strlen(BASE), "t.json", &c, NULL), AIPA_OK);
    assert_true(aipa_case_matches(c, "allocate/*"));
    assert_true(aipa_case_matches(c, "*starting"));
    assert_true(aipa_case_matches(c, "tag:status"));
    assert_false(aipa_case_matches(c, "tag:stat"));
    assert_false(aipa_case_matches(c, "auth/*"));
    aipa_case_free(c);
}

static void suite_checks_ids_against_paths(void **state)
{
    char dir[] = "/tmp/aipa-suite-XXXXXX";
    char path[512];
    struct aipa_suite s;
    struct aipa_buf err;
    char *moved = mutate("allocate/status/starting", "allocate/status/other");

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/allocate", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/allocate/status", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/allocate/status/starting.json", dir);
    aipa_test_write_file(path, BASE);
    snprintf(path, sizeof(path), "%s/allocate/status/wrong-name.json", dir);
    aipa_test_write_file(path, moved);
    snprintf(path, sizeof(path), "%s/allocate/status/broken.json", dir);
    aipa_test_write_file(path, "{");
    snprintf(path, sizeof(path), "%s/allocate/status/README.md", dir);
    aipa_test_write_file(path, "not a case");

    aipa_suite_init(&s);
    aipa_buf_init(&err, 1 << 16);
    assert_int_equal(aipa_suite_load(&s, dir, &err), AIPA_EPARSE);
    assert_int_equal(s.count, 1); /* the good one stays loaded */
    assert_string_equal(s.cases[0]->id, "allocate/status/starting");
    assert_non_null(strstr(err.ptr, "does not match the file's path"));
    assert_non_null(strstr(err.ptr, "broken.json: not valid JSON"));
    assert_null(strstr(err.ptr, "README"));
    aipa_suite_cleanup(&s);

    /* A single file loads without the path rule. */
    aipa_suite_init(&s);
    aipa_buf_reset(&err);
    snprintf(path, sizeof(path), "%s/allocate/status/wrong-name.json", dir);
    assert_int_equal(aipa_suite_load(&s, path, &err), AIPA_OK);
    assert_int_equal(s.count, 1);
    aipa_suite_cleanup(&s);
    aipa_suite_init(&s);
    assert_int_equal(aipa_suite_load(&s, "/nonexistent/aipa", &err), AIPA_EIO);
    aipa_suite_cleanup(&s);

    aipa_test_rm_rf(dir);
    aipa_buf_cleanup(&err);
    free(moved);
}

static void allocation_failures_are_reported(void **state)
{
    bool succeeded = false;

    (void)state;
    /* Fail the 0th, 1st, ... allocation until the parse no longer needs to fail. */
    for (long k = 0; k < 2000 && !succeeded; k++) {
        struct aipa_case *c = NULL;
        aipa_err e;

        aipa_test_oom_arm(k);
        aipa_set_allocator(&aipa_test_oom_allocator);
        e = aipa_case_parse(BASE, strlen(BASE), "t.json", &c, NULL);
        aipa_set_allocator(NULL);
        if (e == AIPA_OK) {
            succeeded = true;
            assert_non_null(c);
        } else {
            /* A failed allocation is reported as such (or, while formatting, as a parse
             * error), never a crash, and nothing is handed out. */
            assert_true(e == AIPA_ENOMEM || e == AIPA_EPARSE);
            assert_null(c);
        }
        aipa_case_free(c);
    }
    assert_true(succeeded);
}

static void repository_cases_all_load(void **state)
{
    struct aipa_suite s;
    struct aipa_buf err;
    char dir[4096];

    (void)state;
    snprintf(dir, sizeof(dir), "%s/conformance/cases", AIPA_SOURCE_DIR);
    aipa_suite_init(&s);
    aipa_buf_init(&err, 1 << 20);
    if (aipa_suite_load(&s, dir, &err) != AIPA_OK) {
        print_error("%s", err.ptr != NULL ? err.ptr : "load failed\n");
        fail();
    }
    assert_true(s.count > 0);
    aipa_suite_cleanup(&s);
    aipa_buf_cleanup(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(base_case_loads),
        cmocka_unit_test(malformed_documents),
        cmocka_unit_test(malformed_top_level),
        cmocka_unit_test(malformed_fixtures_and_variants),
        cmocka_unit_test(malformed_steps),
        cmocka_unit_test(malformed_tamper),
        cmocka_unit_test(malformed_outcomes),
        cmocka_unit_test(malformed_raw_and_across),
        cmocka_unit_test(wire_steps),
        cmocka_unit_test(oversized_case_is_rejected),
        cmocka_unit_test(variant_names_and_expansion),
        cmocka_unit_test(variant_selection_is_exact_for_names),
        cmocka_unit_test(byte_forms_expand),
        cmocka_unit_test(substitution_resolves_against_a_run),
        cmocka_unit_test(pool_substitutions),
        cmocka_unit_test(selection_patterns),
        cmocka_unit_test(suite_checks_ids_against_paths),
        cmocka_unit_test(allocation_failures_are_reported),
        cmocka_unit_test(repository_cases_all_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
