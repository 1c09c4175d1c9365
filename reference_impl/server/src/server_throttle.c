/*
 * Flow control for `aipa serve --throttle`: one token bucket per
 * AccessKeyId (and one shared by unauthenticated requests when auth is
 * off). A bucket holds up to `burst` tokens and refills at `rate` per
 * second; a request that finds it empty is answered Throttling.User with
 * the milliseconds until the next token, which the official SDKs read from
 * x-acs-retry-after. Memory is fixed at start: one bucket per configured key.
 */
#include "server_int.h"

#include <pthread.h>

struct bucket {
    double tokens;
    double last_s; /* when tokens was last brought up to date; < 0: never */
};

struct aipa__throttle {
    pthread_mutex_t lock;
    double rate;
    double burst;
    size_t count;
    struct bucket buckets[]; /* count of them */
};

aipa_err aipa__throttle_new(struct aipa__throttle **out, size_t keys, double rate, double burst)
{
    struct aipa__throttle *t;

    *out = NULL;
    if (!(rate > 0) || !(burst >= 1) || keys > SIZE_MAX / sizeof(struct bucket) - 1) {
        return AIPA_EINVAL;
    }
    t = aipa_calloc(1, sizeof(*t) + keys * sizeof(struct bucket));
    if (t == NULL) {
        return AIPA_ENOMEM;
    }
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        aipa_free(t);
        return AIPA_ENOMEM;
    }
    t->rate = rate;
    t->burst = burst;
    t->count = keys;
    aipa__throttle_reset(t);
    *out = t;
    return AIPA_OK;
}

void aipa__throttle_free(struct aipa__throttle *t)
{
    if (t == NULL) {
        return;
    }
    pthread_mutex_destroy(&t->lock);
    aipa_free(t);
}

void aipa__throttle_reset(struct aipa__throttle *t)
{
    if (t == NULL) {
        return;
    }
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->count; i++) {
        t->buckets[i].tokens = t->burst;
        t->buckets[i].last_s = -1;
    }
    pthread_mutex_unlock(&t->lock);
}

unsigned aipa__throttle_take(struct aipa__throttle *t, size_t key, double now_s)
{
    struct bucket *b;
    unsigned wait_ms = 0;

    if (t == NULL || key >= t->count) {
        return 0;
    }
    pthread_mutex_lock(&t->lock);
    b = &t->buckets[key];
    if (b->last_s >= 0 && now_s > b->last_s) {
        b->tokens += (now_s - b->last_s) * t->rate;
        if (b->tokens > t->burst) {
            b->tokens = t->burst;
        }
    }
    if (b->last_s < 0 || now_s > b->last_s) {
        b->last_s = now_s;
    }
    if (b->tokens >= 1) {
        b->tokens -= 1;
    } else {
        /* Whole milliseconds, rounded up, so a client that waits them finds a token. */
        double ms = (1 - b->tokens) / t->rate * 1000.0;

        wait_ms = ms > 3600000.0 ? 3600000u : (unsigned)ms + 1u;
    }
    pthread_mutex_unlock(&t->lock);
    return wait_ms;
}
