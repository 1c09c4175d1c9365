/*
 * Unit tests of the model under load: invariants and exact free counts after
 * long random sequences of every action (both editions), eight threads
 * allocating and releasing on their own and on shared instances at once, and
 * threads mixing every call (dump, describe, create, set_pool_free, check).
 */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include "aipa/model.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void assert_consistent(struct aipa_model *m, const char *when)
{
    struct aipa_buf why;

    aipa_buf_init(&why, 4096);
    if (aipa_model_check(m, &why) != AIPA_OK) {
        fail_msg("invariant broken after %s: %s", when, why.ptr ? why.ptr : "");
    }
    aipa_buf_cleanup(&why);
}

/* ---- random sequences ---- */

#define POOL_SIZE 62 /* 47.96.0.0/26 */
#define N_INST    80

static const char *const statuses[] = {"Running",  "Running",  "Stopped",
                                       "Starting", "Stopping", "Pending"};

static size_t held_count(struct aipa_model *m)
{
    static struct aipa_instance_view v[256];
    size_t count;
    size_t total;
    size_t held = 0;

    assert_int_equal(aipa_model_describe(m, NULL, 0, 1, 256, v, 256, &count, &total), AIPA_C_OK);
    assert_int_equal(count, total);
    for (size_t i = 0; i < count; i++) {
        held += v[i].public_ip[0] != '\0';
        /* Two instances never share an address. */
        for (size_t k = 0; k < i && v[i].public_ip[0] != '\0'; k++) {
            assert_string_not_equal(v[i].public_ip, v[k].public_ip);
        }
    }
    return held;
}

static size_t held_count_all(struct aipa_model *m)
{
    static struct aipa_instance_view v[1024];
    size_t count;
    size_t total;
    size_t held = 0;

    assert_int_equal(aipa_model_describe(m, NULL, 0, 1, 1024, v, 1024, &count, &total), AIPA_C_OK);
    assert_int_equal(count, total);
    for (size_t i = 0; i < count; i++) {
        held += v[i].public_ip[0] != '\0';
    }
    return held;
}

static void random_ip(struct aipa_rng *r, char out[AIPA_IPV4_MAX])
{
    switch (aipa_rng_below(r, 6)) {
    case 0:
        (void)snprintf(out, AIPA_IPV4_MAX, "47.96.0.%u", (unsigned)aipa_rng_below(r, 70));
        break;
    case 1:
        (void)snprintf(out, AIPA_IPV4_MAX, "10.0.0.%u", (unsigned)aipa_rng_below(r, 255));
        break;
    case 2:
        (void)snprintf(out, AIPA_IPV4_MAX, "47.96.%u", (unsigned)aipa_rng_below(r, 9));
        break;
    default:
        (void)snprintf(out, AIPA_IPV4_MAX, "47.96.0.%u", 1 + (unsigned)aipa_rng_below(r, 62));
        break;
    }
}

/* How often each allocation outcome occurred over all sequences. */
static unsigned long outcomes[AIPA_C_COUNT_];

static void run_sequence(unsigned edition, uint64_t seed, int steps)
{
    struct aipa_model *m;
    struct aipa_model_config cfg = {edition, seed, NULL, 0, 0, false};
    struct aipa_rng r;
    char doc[16384];
    size_t len = 0;
    size_t expect_free;
    char ids[N_INST + 64][AIPA_INSTANCE_ID_MAX];
    size_t n_ids = N_INST;

    aipa_rng_seed(&r, seed);
    len += (size_t)snprintf(doc + len, sizeof(doc) - len,
                            "{\"Pool\":{\"Cidrs\":[\"47.96.0.0/26\"]},\"Vlans\":[\"vlan-q\"],"
                            "\"Instances\":[");
    for (int i = 0; i < N_INST; i++) {
        (void)snprintf(ids[i], sizeof(ids[i]), "i-%d", i);
        len += (size_t)snprintf(
            doc + len, sizeof(doc) - len,
            "%s{\"InstanceId\":\"%s\",\"Status\":\"%s\",\"InstanceNetworkType\":\"%s\","
            "\"InternetMaxBandwidthOut\":%d%s%s%s}",
            i ? "," : "", ids[i], statuses[aipa_rng_below(&r, AIPA_ARRAY_LEN(statuses))],
            aipa_rng_below(&r, 2) ? "vpc" : "classic", (int)aipa_rng_below(&r, 4) - 1,
            aipa_rng_below(&r, 8) == 0 ? ",\"EipAddress\":{\"IpAddress\":\"42.112.0.1\"}" : "",
            aipa_rng_below(&r, 6) == 0 ? ",\"VlanAttributes\":{\"VlanId\":\"vlan-q\"}" : "",
            aipa_rng_below(&r, 10) == 0 ? ",\"AipaNextAllocateError\":\"AllocateIp.Fail\"" : "");
    }
    (void)snprintf(doc + len, sizeof(doc) - len, "]}");
    assert_int_equal(aipa_model_new(&m, &cfg), AIPA_OK);
    assert_int_equal(aipa_model_load_json(m, doc, strlen(doc), NULL), AIPA_OK);
    expect_free = POOL_SIZE;
    for (int step = 0; step < steps; step++) {
        const char *id = ids[aipa_rng_below(&r, n_ids)];
        struct aipa_instance_view before;
        struct aipa_instance_view after;
        char ip[AIPA_IPV4_MAX];
        char named[AIPA_IPV4_MAX];
        enum aipa_code c;
        unsigned op = (unsigned)aipa_rng_below(&r, 100);

        assert_int_equal(aipa_model_get(m, id, &before), AIPA_C_OK);
        if (op < 45) {
            struct aipa_alloc_req req = {id, NULL, NULL, aipa_rng_below(&r, 8) != 0};

            if (aipa_rng_below(&r, 4) == 0) {
                random_ip(&r, named);
                req.ip_address = named;
            }
            if (aipa_rng_below(&r, 8) == 0) {
                req.vlan_id = aipa_rng_below(&r, 2) ? "vlan-q" : "vlan-none";
            }
            c = aipa_model_allocate(m, &req, ip);
            outcomes[c]++;
            assert_int_equal(aipa_model_get(m, id, &after), AIPA_C_OK);
            if (c == AIPA_C_OK) {
                assert_string_equal(after.public_ip, ip);
                if (before.public_ip[0] == '\0') {
                    assert_true(expect_free > 0);
                    expect_free--;
                    assert_false(after.public_ip_effective);
                } else {
                    assert_string_equal(before.public_ip, ip);
                }
            } else {
                assert_string_equal(after.public_ip, before.public_ip);
            }
        } else if (op < 70) {
            const char *which = before.public_ip;

            if (aipa_rng_below(&r, 4) == 0) {
                random_ip(&r, named);
                which = named;
            }
            c = aipa_model_release(m, id, which);
            if (c == AIPA_C_OK) {
                expect_free++;
            }
            assert_int_equal(aipa_model_get(m, id, &after), AIPA_C_OK);
            assert_true(c == AIPA_C_OK ? after.public_ip[0] == '\0'
                                       : strcmp(after.public_ip, before.public_ip) == 0);
        } else if (op < 78) {
            (void)aipa_model_start(m, id);
        } else if (op < 86) {
            (void)aipa_model_stop(m, id);
        } else if (op < 92) {
            (void)aipa_model_reboot(m, id);
        } else if (op < 96) {
            size_t k = aipa_rng_below(&r, 5) == 0 ? SIZE_MAX : aipa_rng_below(&r, 70);
            size_t avail = POOL_SIZE - held_count(m);

            assert_int_equal(aipa_model_set_pool_free(m, k), AIPA_OK);
            expect_free = k < avail ? k : avail;
        } else if (op < 99) {
            if (n_ids < AIPA_ARRAY_LEN(ids)) {
                assert_int_equal(aipa_model_create_instance_json(m, "{}", 2, ids[n_ids], NULL),
                                 AIPA_OK);
                n_ids++;
            }
        } else {
            assert_int_equal(aipa_model_reset(m), AIPA_OK);
            n_ids = N_INST;
            expect_free = POOL_SIZE;
        }
        if (aipa_model_pool_free(m) != expect_free) {
            fail_msg("step %d op %u: free %zu, expected %zu", step, op, aipa_model_pool_free(m),
                     expect_free);
        }
        if (step % 16 == 0) {
            /* Held back = size - free - held: never negative. */
            assert_true(held_count(m) + expect_free <= POOL_SIZE);
        }
        assert_consistent(m, "a random step");
    }
    aipa_model_free(m);
}

static void random_sequences_keep_invariants(void **state)
{
    int distinct = 0;

    (void)state;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        run_sequence(seed % 2 ? AIPA_ED_2018 : AIPA_ED_2024, seed, 1500);
    }
    /* The sequences are worth something only if they reach many outcomes. */
    for (int c = 0; c < AIPA_C_COUNT_; c++) {
        distinct += outcomes[c] > 0;
    }
    assert_true(outcomes[AIPA_C_OK] > 200);
    assert_true(
        outcomes[AIPA_C_INSUFFICIENT_PUBLIC_IP] + outcomes[AIPA_C_INSUFFICIENT_PUBLIC_IP_2024] > 0);
    assert_true(outcomes[AIPA_C_IP_IN_USE] > 0);
    if (distinct < 14) {
        fail_msg("only %d distinct allocation outcomes", distinct);
    }
}

/* ---- threads ---- */

#define THREADS    8
#define OWN        32
#define SHARED     16
#define ITERATIONS 3000

struct worker {
    struct aipa_model *m;
    int index;
    char own[OWN][AIPA_INSTANCE_ID_MAX];
    char own_ip[OWN][AIPA_IPV4_MAX];
    char (*shared)[AIPA_INSTANCE_ID_MAX];
    unsigned long allocations; /* new addresses obtained */
    unsigned long releases;
    unsigned long errors; /* unexpected results on own instances */
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct aipa_rng r;

    aipa_rng_seed(&r, (uint64_t)w->index * 7919u + 1);
    for (int it = 0; it < ITERATIONS; it++) {
        char ip[AIPA_IPV4_MAX];
        unsigned pick = (unsigned)aipa_rng_below(&r, 4);

        if (pick < 3) {
            /* Own instance: the outcome is known exactly. */
            size_t k = aipa_rng_below(&r, OWN);
            struct aipa_alloc_req req = {w->own[k], NULL, NULL, false};
            enum aipa_code c = aipa_model_allocate(w->m, &req, ip);

            if (w->own_ip[k][0] == '\0') {
                if (c != AIPA_C_OK) {
                    w->errors++;
                    continue;
                }
                memcpy(w->own_ip[k], ip, sizeof(ip));
                w->allocations++;
            } else if (c != AIPA_C_ALLOCATED_ALREADY) {
                w->errors++;
            }
            if (aipa_rng_below(&r, 2) == 0) {
                if (aipa_model_release(w->m, w->own[k], w->own_ip[k]) != AIPA_C_OK) {
                    w->errors++;
                }
                w->own_ip[k][0] = '\0';
                w->releases++;
            }
            if (aipa_rng_below(&r, 16) == 0) {
                struct aipa_instance_view v;

                if (aipa_model_stop(w->m, w->own[k]) != AIPA_C_OK ||
                    aipa_model_start(w->m, w->own[k]) != AIPA_C_OK ||
                    aipa_model_get(w->m, w->own[k], &v) != AIPA_C_OK ||
                    strcmp(v.public_ip, w->own_ip[k]) != 0 ||
                    v.public_ip_effective != (w->own_ip[k][0] != '\0')) {
                    w->errors++;
                }
            }
        } else {
            /* Shared instance: another thread may win any race. */
            const char *id = w->shared[aipa_rng_below(&r, SHARED)];
            struct aipa_alloc_req req = {id, NULL, NULL, false};
            enum aipa_code c = aipa_model_allocate(w->m, &req, ip);

            if (c == AIPA_C_OK) {
                w->allocations++;
                if (aipa_rng_below(&r, 2) == 0) {
                    enum aipa_code rc = aipa_model_release(w->m, id, ip);

                    if (rc == AIPA_C_OK) {
                        w->releases++;
                    } else if (rc != AIPA_C_RELEASE_IP_NOT_FOUND) {
                        w->errors++;
                    }
                }
            } else if (c != AIPA_C_ALLOCATED_ALREADY) {
                w->errors++;
            } else {
                struct aipa_instance_view v;

                /* Someone holds it: release it if it is still that address. */
                if (aipa_model_get(w->m, id, &v) == AIPA_C_OK && v.public_ip[0] != '\0' &&
                    aipa_rng_below(&r, 2) == 0) {
                    enum aipa_code rc = aipa_model_release(w->m, id, v.public_ip);

                    if (rc == AIPA_C_OK) {
                        w->releases++;
                    } else if (rc != AIPA_C_RELEASE_IP_NOT_FOUND) {
                        w->errors++;
                    }
                }
            }
        }
    }
    return NULL;
}

static void threads_keep_exact_counts(void **state)
{
    const char *cidrs[] = {"47.96.0.0/20"}; /* 4094 addresses */
    struct aipa_model_config cfg = {AIPA_ED_2018, 5, cidrs, 1, 0, false};
    struct aipa_model *m;
    static struct worker workers[THREADS];
    static char shared[SHARED][AIPA_INSTANCE_ID_MAX];
    pthread_t tids[THREADS];
    unsigned long allocations = 0;
    unsigned long releases = 0;
    size_t held;
    struct aipa_buf dump;
    char want[64];

    (void)state;
    assert_int_equal(aipa_model_new(&m, &cfg), AIPA_OK);
    for (int s = 0; s < SHARED; s++) {
        assert_int_equal(aipa_model_create_instance_json(m, "{}", 2, shared[s], NULL), AIPA_OK);
    }
    for (int t = 0; t < THREADS; t++) {
        memset(&workers[t], 0, sizeof(workers[t]));
        workers[t].m = m;
        workers[t].index = t;
        workers[t].shared = shared;
        for (int k = 0; k < OWN; k++) {
            assert_int_equal(aipa_model_create_instance_json(m, "{}", 2, workers[t].own[k], NULL),
                             AIPA_OK);
        }
    }
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_create(&tids[t], NULL, work, &workers[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(tids[t], NULL), 0);
        assert_int_equal(workers[t].errors, 0);
        allocations += workers[t].allocations;
        releases += workers[t].releases;
    }
    assert_consistent(m, "the threads");
    held = held_count_all(m);
    assert_int_equal(allocations - releases, held);
    assert_int_equal(aipa_model_pool_free(m), 4094 - held);
    assert_int_equal(aipa_model_instance_count(m), SHARED + THREADS * OWN);
    aipa_buf_init(&dump, 1u << 22);
    assert_int_equal(aipa_model_dump_json(m, &dump), AIPA_OK);
    (void)snprintf(want, sizeof(want), "\"Allocations\":%lu,\"Releases\":%lu", allocations,
                   releases);
    assert_non_null(strstr(dump.ptr, want));
    aipa_buf_cleanup(&dump);
    aipa_model_free(m);
}

/* ---- threads mixing every call ---- */

struct mixer {
    struct aipa_model *m;
    int index;
    atomic_int *stop;
    unsigned long allocations;
    unsigned long releases;
    unsigned long errors;
    unsigned long checks;
};

/* Allocates and releases on its own two instances; exhaustion is allowed (the pool is squeezed). */
static void *mix_allocate(void *arg)
{
    struct mixer *w = arg;
    char ids[2][AIPA_INSTANCE_ID_MAX];
    struct aipa_rng r;

    aipa_rng_seed(&r, (uint64_t)w->index + 100);
    for (int k = 0; k < 2; k++) {
        if (aipa_model_create_instance_json(w->m, "{}", 2, ids[k], NULL) != AIPA_OK) {
            w->errors++;
            return NULL;
        }
    }
    for (int it = 0; it < ITERATIONS && !atomic_load(w->stop); it++) {
        char ip[AIPA_IPV4_MAX];
        const char *id = ids[aipa_rng_below(&r, 2)];
        struct aipa_alloc_req req = {id, NULL, NULL, false};
        enum aipa_code c = aipa_model_allocate(w->m, &req, ip);

        if (c == AIPA_C_OK) {
            w->allocations++;
            if (aipa_model_release(w->m, id, ip) != AIPA_C_OK) {
                w->errors++;
            }
            w->releases++;
        } else if (c != AIPA_C_INSUFFICIENT_PUBLIC_IP_2024) {
            w->errors++;
        }
    }
    return NULL;
}

/* Dumps, describes, squeezes the pool, creates instances and checks, all the while. */
static void *mix_admin(void *arg)
{
    struct mixer *w = arg;
    struct aipa_rng r;
    static struct aipa_instance_view v[64];

    aipa_rng_seed(&r, 4242);
    for (int it = 0; it < 400; it++) {
        struct aipa_buf out;
        size_t count;
        size_t total;

        aipa_buf_init(&out, 1u << 22);
        if (aipa_model_dump_json(w->m, &out) != AIPA_OK ||
            strstr(out.ptr, "\"Counters\"") == NULL) {
            w->errors++;
        }
        aipa_buf_cleanup(&out);
        (void)aipa_model_describe(w->m, NULL, 0, 1, 64, v, 64, &count, &total);
        if (count > total) {
            w->errors++;
        }
        if (aipa_model_set_pool_free(w->m, aipa_rng_below(&r, 3) == 0 ? 1 : SIZE_MAX) != AIPA_OK) {
            w->errors++;
        }
        if (aipa_model_create_instance_json(w->m, "{\"Status\":\"Stopped\"}", 20, NULL, NULL) !=
            AIPA_OK) {
            w->errors++;
        }
        if (aipa_model_check(w->m, NULL) != AIPA_OK) {
            w->errors++;
        }
        w->checks++;
    }
    atomic_store(w->stop, 1);
    return NULL;
}

static void threads_mixing_every_call(void **state)
{
    const char *cidrs[] = {"47.96.0.0/24"};
    struct aipa_model_config cfg = {AIPA_ED_2024, 6, cidrs, 1, 0, false};
    struct aipa_model *m;
    static struct mixer mixers[THREADS];
    pthread_t tids[THREADS];
    atomic_int stop = 0;
    unsigned long allocations = 0;
    unsigned long releases = 0;

    (void)state;
    assert_int_equal(aipa_model_new(&m, &cfg), AIPA_OK);
    for (int t = 0; t < THREADS; t++) {
        memset(&mixers[t], 0, sizeof(mixers[t]));
        mixers[t].m = m;
        mixers[t].index = t;
        mixers[t].stop = &stop;
        assert_int_equal(
            pthread_create(&tids[t], NULL, t == 0 ? mix_admin : mix_allocate, &mixers[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(tids[t], NULL), 0);
        assert_int_equal(mixers[t].errors, 0);
        allocations += mixers[t].allocations;
        releases += mixers[t].releases;
    }
    assert_int_equal(mixers[0].checks, 400);
    assert_true(allocations > 0);
    assert_int_equal(allocations, releases);
    assert_consistent(m, "the mixing threads");
    assert_int_equal(held_count_all(m), 0);
    assert_int_equal(aipa_model_set_pool_free(m, SIZE_MAX), AIPA_OK);
    assert_int_equal(aipa_model_pool_free(m), 254);
    assert_int_equal(aipa_model_instance_count(m), 400 + 2 * (THREADS - 1));
    aipa_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_sequences_keep_invariants),
        cmocka_unit_test(threads_keep_exact_counts),
        cmocka_unit_test(threads_mixing_every_call),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
