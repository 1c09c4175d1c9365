/*
 * Model benchmark: allocations (and releases) per second and bytes per
 * instance, at 1,000 and 1,000,000 instances, first over the same
 * 1,048,574-address pool (47.96.0.0/12), so only the instance count changes
 * between the two (the pool's random picks miss the cache at both sizes),
 * then with the pool twice the instance count (/21: 2,046 addresses, which
 * sit in cache; /11: 2,097,150), as a deployment of each size would have it.
 *
 * Each round allocates one address for every instance in a shuffled order,
 * then releases them all; the 1,000-instance model runs 1,000 rounds so
 * both sizes time 1,000,000 allocations. Memory is counted through the
 * aipa_set_allocator hook (bytes requested) and cross-checked with
 * mallinfo2() (bytes the C library holds, overhead included).
 *
 * Usage: bench_model [allocations per size, default 1000000]
 *        bench_model --calls INSTANCES CALLS
 * Prints one line per size and a summary; exits non-zero on a wrong result.
 * The second form only populates INSTANCES and makes CALLS random allocate +
 * release pairs, untimed: it is run under callgrind by scripts/bench_model.sh
 * to count the instructions per allocation at each size.
 */
#define _GNU_SOURCE

#include "aipa/model.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- counting allocator: a 16-byte header keeps each block's size ---- */

static size_t live_bytes;

static void *count_malloc(size_t n)
{
    size_t *p = malloc(n + 16);

    if (p == NULL) {
        return NULL;
    }
    p[0] = n;
    live_bytes += n;
    return (char *)p + 16;
}

static void count_free(void *q)
{
    size_t *p;

    if (q == NULL) {
        return;
    }
    p = (size_t *)(void *)((char *)q - 16);
    live_bytes -= p[0];
    free(p);
}

static void *count_calloc(size_t c, size_t n)
{
    size_t *p;

    if (n != 0 && c > (SIZE_MAX - 16) / n) {
        return NULL;
    }
    /* calloc itself, so large blocks stay untouched (fresh zero pages) as they would. */
    p = calloc(1, c * n + 16);
    if (p == NULL) {
        return NULL;
    }
    p[0] = c * n;
    live_bytes += c * n;
    return (char *)p + 16;
}

static void *count_realloc(void *q, size_t n)
{
    size_t *p;
    size_t old;

    if (q == NULL) {
        return count_malloc(n);
    }
    p = (size_t *)(void *)((char *)q - 16);
    old = p[0];
    p = realloc(p, n + 16);
    if (p == NULL) {
        return NULL;
    }
    p[0] = n;
    live_bytes = live_bytes - old + n;
    return (char *)p + 16;
}

static const struct aipa_allocator counting = {count_malloc, count_realloc, count_calloc,
                                               count_free};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t libc_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();

    return mi.uordblks + mi.hblkhd;
}

struct result {
    double ns_alloc;
    double ns_release;
    double bytes_per_instance;
};

#define STREAM_MAX 1000000u
#define TRIALS     3

/*
 * Times allocate-all-then-release-all rounds over a request stream: each
 * round is a shuffled list of `hot` instance IDs (the first `hot` created).
 * The stream is laid out in request order, as requests arrive, so the only
 * random memory accesses are the model's own. Best of TRIALS.
 */
static int time_rounds(struct aipa_model *m, char (*ids)[AIPA_INSTANCE_ID_MAX], size_t hot,
                       size_t total, struct result *res)
{
    size_t rounds = total / hot > 0 ? total / hot : 1;
    size_t len = rounds * hot;
    char(*reqs)[AIPA_INSTANCE_ID_MAX] = malloc(len * sizeof(*reqs));
    char(*ips)[AIPA_IPV4_MAX] = malloc(len * sizeof(*ips));
    uint32_t *order = malloc(hot * sizeof(*order));
    struct aipa_rng r;
    int rc = 1;

    res->ns_alloc = res->ns_release = 1e30;
    if (reqs == NULL || ips == NULL || order == NULL) {
        fprintf(stderr, "bench_model: out of memory\n");
        goto out;
    }
    aipa_rng_seed(&r, 12345);
    for (size_t i = 0; i < hot; i++) {
        order[i] = (uint32_t)i;
    }
    for (size_t round = 0; round < rounds; round++) {
        for (size_t i = hot - 1; i > 0; i--) {
            size_t j = aipa_rng_below(&r, i + 1);
            uint32_t t = order[i];

            order[i] = order[j];
            order[j] = t;
        }
        for (size_t i = 0; i < hot; i++) {
            memcpy(reqs[round * hot + i], ids[order[i]], AIPA_INSTANCE_ID_MAX);
        }
    }
    for (int trial = 0; trial < TRIALS; trial++) {
        double t_alloc = 0;
        double t_release = 0;

        for (size_t round = 0; round < rounds; round++) {
            size_t base = round * hot;
            double t0 = now_s();
            double t1;

            for (size_t i = base; i < base + hot; i++) {
                struct aipa_alloc_req req = {reqs[i], NULL, NULL, false};

                if (aipa_model_allocate(m, &req, ips[i]) != AIPA_C_OK) {
                    fprintf(stderr, "bench_model: allocation %zu failed\n", i);
                    goto out;
                }
            }
            t1 = now_s();
            for (size_t i = base; i < base + hot; i++) {
                if (aipa_model_release(m, reqs[i], ips[i]) != AIPA_C_OK) {
                    fprintf(stderr, "bench_model: release %zu failed\n", i);
                    goto out;
                }
            }
            t_alloc += t1 - t0;
            t_release += now_s() - t1;
        }
        if (t_alloc * 1e9 / (double)len < res->ns_alloc) {
            res->ns_alloc = t_alloc * 1e9 / (double)len;
        }
        if (t_release * 1e9 / (double)len < res->ns_release) {
            res->ns_release = t_release * 1e9 / (double)len;
        }
    }
    rc = 0;
out:
    free(reqs);
    free(ips);
    free(order);
    return rc;
}

/* The IDs of the model's n instances in creation order, read through DescribeInstances
 * pages; plain libc memory, outside the counted bytes. NULL (and a message) on failure. */
static char (*all_ids(struct aipa_model *m, size_t n))[AIPA_INSTANCE_ID_MAX]
{
    char(*ids)[AIPA_INSTANCE_ID_MAX] = malloc(n * sizeof(*ids));
    struct aipa_instance_view *page = malloc(10000 * sizeof(*page));

    if (ids == NULL || page == NULL) {
        fprintf(stderr, "bench_model: out of memory\n");
        goto fail;
    }
    for (size_t pg = 1, got = 0; got < n; pg++) {
        size_t count, total_count;

        (void)aipa_model_describe(m, NULL, 0, pg, 10000, page, 10000, &count, &total_count);
        if (count == 0) {
            fprintf(stderr, "bench_model: describe stopped at %zu\n", got);
            goto fail;
        }
        for (size_t i = 0; i < count; i++) {
            memcpy(ids[got + i], page[i].instance_id, AIPA_INSTANCE_ID_MAX);
        }
        got += count;
    }
    free(page);
    return ids;
fail:
    free(ids);
    free(page);
    return NULL;
}

static int run(size_t n, const char *cidr, size_t total, struct result *all, struct result *hot1k)
{
    const char *cidrs[] = {cidr};
    struct aipa_model_config cfg = {AIPA_ED_2018, 1, cidrs, 1, n, false};
    struct aipa_model *m = NULL;
    char(*ids)[AIPA_INSTANCE_ID_MAX] = NULL;
    size_t live0, live1, live2, libc1, libc2, pool_free0;
    double t0, t_pop;
    int rc = 1;

    live0 = live_bytes;
    if (aipa_model_new(&m, &cfg) != AIPA_OK) {
        fprintf(stderr, "bench_model: aipa_model_new failed\n");
        goto out;
    }
    live1 = live_bytes;
    libc1 = libc_bytes();
    pool_free0 = aipa_model_pool_free(m);
    t0 = now_s();
    if (aipa_model_populate(m, n) != AIPA_OK) {
        fprintf(stderr, "bench_model: populate(%zu) failed\n", n);
        goto out;
    }
    t_pop = now_s() - t0;
    live2 = live_bytes;
    libc2 = libc_bytes();

    ids = all_ids(m, n);
    if (ids == NULL) {
        goto out;
    }
    if (time_rounds(m, ids, n, total, all) != 0) {
        goto out;
    }
    all->bytes_per_instance = (double)(live2 - live1) / (double)n;
    printf(
        "pool=%-15s instances=%-8zu uniform over all: %.2f M alloc/s (%.0f ns), %.2f M release/s "
        "(%.0f ns); populate %.2f M/s\n",
        cidr, n, 1e3 / all->ns_alloc, all->ns_alloc, 1e3 / all->ns_release, all->ns_release,
        (double)n / t_pop / 1e6);
    if (hot1k != NULL) {
        if (time_rounds(m, ids, 1000, total, hot1k) != 0) {
            goto out;
        }
        printf("pool=%-15s instances=%-8zu uniform over 1,000 of them: %.2f M alloc/s (%.0f ns), "
               "%.2f M "
               "release/s (%.0f ns)\n",
               cidr, n, 1e3 / hot1k->ns_alloc, hot1k->ns_alloc, 1e3 / hot1k->ns_release,
               hot1k->ns_release);
    }
    printf(
        "pool=%-15s instances=%-8zu bytes/instance: %.1f (hook), %.1f (mallinfo2); with the pool's "
        "%.1f MiB: %.1f\n",
        cidr, n, all->bytes_per_instance, (double)(libc2 - libc1) / (double)n,
        (double)(live1 - live0) / 1048576.0, (double)(live2 - live0) / (double)n);
    if (aipa_model_check(m, NULL) != AIPA_OK || aipa_model_pool_free(m) != pool_free0) {
        fprintf(stderr, "bench_model: invariants broken\n");
        goto out;
    }
    rc = 0;
out:
    free(ids);
    aipa_model_free(m);
    return rc;
}

/* CALLS allocate + release pairs on instances drawn uniformly from n. */
static int calls_only(size_t n, size_t calls)
{
    const char *cidrs[] = {"47.96.0.0/12"};
    struct aipa_model_config cfg = {AIPA_ED_2018, 1, cidrs, 1, n, false};
    struct aipa_model *m = NULL;
    char(*ids)[AIPA_INSTANCE_ID_MAX] = NULL;
    char ip[AIPA_IPV4_MAX];
    struct aipa_rng r;
    int rc = 1;

    if (aipa_model_new(&m, &cfg) != AIPA_OK || aipa_model_populate(m, n) != AIPA_OK) {
        fprintf(stderr, "bench_model: set-up failed\n");
        goto out;
    }
    ids = all_ids(m, n);
    if (ids == NULL) {
        goto out;
    }
    aipa_rng_seed(&r, 1);
    for (size_t i = 0; i < calls; i++) {
        const char *id = ids[aipa_rng_below(&r, n)];
        struct aipa_alloc_req req = {id, NULL, NULL, false};

        if (aipa_model_allocate(m, &req, ip) != AIPA_C_OK ||
            aipa_model_release(m, id, ip) != AIPA_C_OK) {
            fprintf(stderr, "bench_model: call %zu failed\n", i);
            goto out;
        }
    }
    rc = 0;
out:
    free(ids);
    aipa_model_free(m);
    return rc;
}

int main(int argc, char **argv)
{
    size_t total = STREAM_MAX;
    struct result small;
    struct result big;
    struct result big_hot;
    struct result small_sized;
    struct result big_sized;

    if (argc == 4 && strcmp(argv[1], "--calls") == 0) {
        size_t n = strtoul(argv[2], NULL, 10);
        size_t calls = strtoul(argv[3], NULL, 10);

        if (n < 1 || n > 10000000 || calls < 1) {
            fprintf(stderr, "usage: bench_model --calls INSTANCES CALLS\n");
            return 2;
        }
        return calls_only(n, calls);
    }
    if (argc > 1) {
        char *end;
        unsigned long long v = strtoull(argv[1], &end, 10);

        if (*end != '\0' || v < 1000 || v > STREAM_MAX) {
            fprintf(stderr, "usage: bench_model [allocations per figure, 1000..1000000]\n");
            return 2;
        }
        total = (size_t)v;
    }
    aipa_set_allocator(&counting);
    if (run(1000, "47.96.0.0/12", total, &small, NULL) != 0 ||
        run(1000000, "47.96.0.0/12", total, &big, &big_hot) != 0 ||
        run(1000, "47.96.0.0/21", total, &small_sized, NULL) != 0 ||
        run(1000000, "47.96.0.0/11", total, &big_sized, NULL) != 0) {
        return 1;
    }
    aipa_set_allocator(NULL);
    printf("summary: ns/alloc 1M/1k = %.2f uniform over all instances (same /12 pool), %.2f "
           "over the same 1,000, %.2f uniform with the pool twice the instance count (/21 "
           "vs /11); goal <= 1.5; bytes/instance at 1M = %.1f (goal < 256)\n",
           big.ns_alloc / small.ns_alloc, big_hot.ns_alloc / small.ns_alloc,
           big_sized.ns_alloc / small_sized.ns_alloc, big.bytes_per_instance);
    return 0;
}
