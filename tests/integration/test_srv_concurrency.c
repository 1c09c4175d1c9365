/*
 * Many threads allocating at once: no address is ever handed to two
 * instances, each instance keeps one address, and the pool count stays exact
 * (checked through GET /_aipa/state and the model's own invariant check).
 */
// clang-format off
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h> /* after setjmp.h, stdarg.h, stddef.h */
// clang-format on

#include "aipa/model.h"
#include "itest.h"

#include <cjson/cJSON.h>

#define THREADS   8
#define INSTANCES 60
#define POOL_FREE 45

static char ids[INSTANCES][AIPA_INSTANCE_ID_MAX];

struct outcome {
    long status;
    char code[64];
    char ip[AIPA_IPV4_MAX];
};

static struct outcome results[THREADS][INSTANCES];

static void *worker(void *arg)
{
    size_t t = (size_t)(uintptr_t)arg;

    for (size_t k = 0; k < INSTANCES; k++) {
        /* Each thread walks the instances from its own offset, so they collide. */
        size_t i = (k + t * 7) % INSTANCES;
        struct it_resp *r = malloc(sizeof(*r));

        if (r == NULL) {
            abort();
        }
        it_v1(&it_srv, t % 2 == 0 ? "GET" : "POST", t % 4 == 3, IT_SECRET,
              KV("Action", "AllocatePublicIpAddress", "Format", "JSON", "InstanceId", ids[i]), r);
        results[t][i].status = r->status;
        it_code(r, results[t][i].code, sizeof(results[t][i].code));
        it_field(r, "IpAddress", results[t][i].ip, sizeof(results[t][i].ip));
        free(r);
    }
    return NULL;
}

static void prepare(const char *edition)
{
    struct it_resp r;
    char body[64];

    snprintf(body, sizeof(body), "{\"Edition\":\"%s\"}", edition);
    it_fixture(&it_srv, "PUT", "/_aipa/edition", body, &r);
    assert_int_equal(r.status, 200);
    it_fixture(&it_srv, "POST", "/_aipa/reset", NULL, &r);
    assert_int_equal(r.status, 200);
    for (size_t i = 0; i < INSTANCES; i++) {
        char id[64];

        it_fixture(&it_srv, "POST", "/_aipa/instances",
                   i % 2 == 0 ? "{\"Status\":\"Running\"}"
                              : "{\"Status\":\"Stopped\",\"InstanceNetworkType\":\"vpc\"}",
                   &r);
        assert_int_equal(r.status, 201);
        it_field(&r, "InstanceId", id, sizeof(id));
        assert_true(id[0] != '\0');
        assert_true(strlen(id) < sizeof(ids[i]));
        memcpy(ids[i], id, strlen(id) + 1);
    }
    it_fixture(&it_srv, "PUT", "/_aipa/pool",
               "{\"Free\":"
               "45"
               "}",
               &r);
    assert_int_equal(r.status, 200);
    memset(results, 0, sizeof(results));
}

static void run_threads(void)
{
    pthread_t th[THREADS];

    for (size_t t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_create(&th[t], NULL, worker, (void *)(uintptr_t)t), 0);
    }
    for (size_t t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
    }
}

/* The state dump agrees: FreeCount 0 and each holder's address unique. */
static void check_state(size_t want_holders)
{
    struct it_resp *r = malloc(sizeof(*r));
    cJSON *doc, *inst;
    const cJSON *pool, *free_count, *list;
    size_t holders = 0;
    char seen[INSTANCES + 16][AIPA_IPV4_MAX];

    assert_non_null(r);
    it_fixture(&it_srv, "GET", "/_aipa/state", NULL, r);
    assert_int_equal(r->status, 200);
    assert_true(r->body_len < sizeof(r->body));
    doc = cJSON_Parse(r->body);
    assert_non_null(doc);
    pool = cJSON_GetObjectItemCaseSensitive(doc, "Pool");
    free_count = cJSON_GetObjectItemCaseSensitive(pool, "FreeCount");
    assert_true(cJSON_IsNumber(free_count));
    assert_int_equal((int)free_count->valuedouble, 0);
    list = cJSON_GetObjectItemCaseSensitive(doc, "Instances");
    cJSON_ArrayForEach(inst, list)
    {
        const cJSON *pub = cJSON_GetObjectItemCaseSensitive(inst, "PublicIpAddress");
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(pub, "IpAddress");
        const cJSON *ip;

        cJSON_ArrayForEach(ip, arr)
        {
            assert_true(cJSON_IsString(ip));
            for (size_t j = 0; j < holders; j++) {
                assert_string_not_equal(seen[j], ip->valuestring);
            }
            assert_true(holders < AIPA_ARRAY_LEN(seen));
            snprintf(seen[holders++], AIPA_IPV4_MAX, "%s", ip->valuestring);
        }
    }
    assert_int_equal(holders, want_holders);
    cJSON_Delete(doc);
    free(r);
    {
        struct aipa_buf why;

        aipa_buf_init(&why, 1024);
        assert_int_equal(aipa_model_check(aipa_srv_model(it_srv.srv), &why), AIPA_OK);
        aipa_buf_cleanup(&why);
    }
}

/* Instances that got an address: each has one, the same in every answer, and no other holds it. */
static size_t check_unique(bool edition_2018)
{
    size_t holders = 0;

    for (size_t i = 0; i < INSTANCES; i++) {
        const char *ip = NULL;
        size_t successes = 0;

        for (size_t t = 0; t < THREADS; t++) {
            const struct outcome *o = &results[t][i];

            if (o->status == 200) {
                assert_true(o->ip[0] != '\0');
                if (ip == NULL) {
                    ip = o->ip;
                }
                assert_string_equal(ip, o->ip);
                successes++;
            } else if (o->status == 403) {
                assert_string_equal(o->code, "AllocatedAlready");
                assert_true(edition_2018);
            } else {
                assert_int_equal(o->status, 400);
                assert_string_equal(o->code, "InsufficientPublicIp");
            }
        }
        if (edition_2018) {
            assert_true(successes <= 1); /* one winner, the others AllocatedAlready */
        }
        if (ip != NULL) {
            for (size_t j = 0; j < i; j++) {
                for (size_t t = 0; t < THREADS; t++) {
                    if (results[t][j].status == 200) {
                        assert_string_not_equal(results[t][j].ip, ip);
                    }
                }
            }
            holders++;
        }
    }
    return holders;
}

static void concurrent_allocations_2024(void **state)
{
    (void)state;
    prepare("2024-12-20");
    run_threads();
    assert_int_equal(check_unique(false), POOL_FREE);
    check_state(POOL_FREE);
}

static void concurrent_allocations_2018(void **state)
{
    (void)state;
    prepare("2018-08-02");
    run_threads();
    assert_int_equal(check_unique(true), POOL_FREE);
    check_state(POOL_FREE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(concurrent_allocations_2024),
        cmocka_unit_test(concurrent_allocations_2018),
    };

    return cmocka_run_group_tests(tests, it_suite_setup, it_suite_teardown);
}
