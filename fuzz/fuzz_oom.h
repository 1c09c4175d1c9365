/*
 * fuzz/fuzz_oom.h: allocation-failure injection for the fuzz targets.
 *
 * fz_oom_install() routes libaipa's allocations (aipa_set_allocator) through
 * a counter; fz_oom_arm(n) makes the n-th allocation from then on fail (that
 * one only: the code after it runs with memory again, as after a transient
 * failure), fz_oom_disarm() stops it. A target takes n from its input, so
 * the fuzzer walks the error paths of every allocation an input makes, and
 * ASan/LSan (libFuzzer checks for leaks after each input) catch what an
 * error path frees twice, reads after freeing or forgets to free.
 * libxml2 and cJSON keep their own allocators: the oracles' parsers never
 * fail.
 */
#ifndef AIPA_FUZZ_OOM_H
#define AIPA_FUZZ_OOM_H

#include "aipa/common.h"

#include <stdbool.h>
#include <stdlib.h>

static long fz_oom_countdown = -1;
static bool fz_oom_fired;

static inline bool fz_oom_now(void)
{
    if (fz_oom_countdown < 0) {
        return false;
    }
    if (fz_oom_countdown-- == 0) {
        fz_oom_fired = true;
        return true;
    }
    return false;
}

static inline void *fz_oom_malloc(size_t n)
{
    return fz_oom_now() ? NULL : malloc(n);
}

static inline void *fz_oom_realloc(void *p, size_t n)
{
    return fz_oom_now() ? NULL : realloc(p, n);
}

static inline void *fz_oom_calloc(size_t count, size_t n)
{
    return fz_oom_now() ? NULL : calloc(count, n);
}

static inline void fz_oom_install(void)
{
    static const struct aipa_allocator a = {fz_oom_malloc, fz_oom_realloc, fz_oom_calloc, free};

    aipa_set_allocator(&a);
}

static inline void fz_oom_arm(long n)
{
    fz_oom_countdown = n;
    fz_oom_fired = false;
}

/* Stops injecting; returns whether a failure was injected since fz_oom_arm. */
static inline bool fz_oom_disarm(void)
{
    fz_oom_countdown = -1;
    return fz_oom_fired;
}

#endif /* AIPA_FUZZ_OOM_H */
