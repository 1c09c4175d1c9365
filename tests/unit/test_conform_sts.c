/*
 * STS in the conformance harness: the tamper "token" key of a case, profile
 * principals with token_env (and $AIPA_SECURITY_TOKEN for the default one),
 * and cases that name a token nobody configured being skipped.
 */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h> /* after setjmp.h, stdarg.h, stddef.h */
// clang-format on

#include "aipa/conform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static aipa_err parse_case(const char *tamper, struct aipa_case **c, struct aipa_buf *err)
{
    char json[1024];

    snprintf(json, sizeof(json),
             "{\"id\": \"t/x\", \"title\": \"t\", \"doc\": {\"clause\": \"c\", \"source\": \"s\"}, "
             "\"level\": \"MUST\", \"steps\": [{\"principal\": \"sts\", \"request\": {\"Action\": "
             "\"A\"}, \"tamper\": %s, \"expect\": [{\"status\": 200}]}]}",
             tamper);
    *c = NULL;
    return aipa_case_parse(json, strlen(json), "t.json", c, err);
}

static void tamper_token_parses(void **state)
{
    static const char *const good[] = {"{\"token\": \"omit\"}", "{\"token\": \"malformed\"}",
                                       "{\"token\": \"sts_expired\"}"};
    static const char *const bad[] = {"{\"token\": 1}", "{\"token\": \"\"}",
                                      "{\"token\": \"not a name\"}"};
    struct aipa_buf err;
    struct aipa_case *c;

    (void)state;
    aipa_buf_init(&err, 4096);
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(parse_case(good[i], &c, &err), AIPA_OK);
        assert_non_null(c->steps[0].tamper.token);
        aipa_case_free(c);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        aipa_buf_reset(&err);
        assert_int_equal(parse_case(bad[i], &c, &err), AIPA_EPARSE);
        assert_non_null(strstr(err.ptr, "token"));
    }
    aipa_buf_cleanup(&err);
}

static void profile_tokens(void **state)
{
    struct aipa_profile p;
    struct aipa_buf err;
    const struct aipa_principal *pr;
    static const char json[] =
        "{\"name\": \"p\", \"credentials\": {"
        "\"sts\": {\"id_env\": \"T_STS_ID\", \"secret_env\": \"T_STS_SECRET\", "
        "\"token_env\": \"T_STS_TOKEN\"},"
        "\"unset\": {\"id_env\": \"T_STS_ID\", \"secret_env\": \"T_STS_SECRET\", "
        "\"token_env\": \"T_NOT_SET\"},"
        "\"plain\": {\"id_env\": \"T_STS_ID\", \"secret_env\": \"T_STS_SECRET\"}}}";

    (void)state;
    setenv("AIPA_ACCESS_KEY_ID", "id", 1);
    setenv("AIPA_ACCESS_KEY_SECRET", "secret", 1);
    setenv("AIPA_SECURITY_TOKEN", "CAISdefault", 1);
    setenv("T_STS_ID", "STS.x", 1);
    setenv("T_STS_SECRET", "s", 1);
    setenv("T_STS_TOKEN", "CAISx", 1);
    unsetenv("T_NOT_SET");
    aipa_buf_init(&err, 4096);
    assert_int_equal(aipa_profile_init(&p), AIPA_OK);
    assert_int_equal(aipa_profile_parse(&p, json, strlen(json), "p.json", &err), AIPA_OK);
    pr = aipa_profile_principal(&p, "default");
    assert_non_null(pr);
    assert_string_equal(pr->security_token, "CAISdefault");
    pr = aipa_profile_principal(&p, "sts");
    assert_non_null(pr);
    assert_string_equal(pr->security_token, "CAISx");
    /* A token_env that is not set: the principal is not configured. */
    assert_null(aipa_profile_principal(&p, "unset"));
    pr = aipa_profile_principal(&p, "plain");
    assert_non_null(pr);
    assert_null(pr->security_token);
    assert_int_equal(aipa_profile_set_token(&p, "nobody", "x"), AIPA_EINVAL);
    aipa_profile_cleanup(&p);
    unsetenv("AIPA_SECURITY_TOKEN");
    assert_int_equal(aipa_profile_init(&p), AIPA_OK);
    assert_null(aipa_profile_principal(&p, "default")->security_token);
    aipa_profile_cleanup(&p);
    aipa_buf_cleanup(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tamper_token_parses),
        cmocka_unit_test(profile_tokens),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
