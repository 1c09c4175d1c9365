/* Shared helpers of the unit tests; see testutil.h. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */

/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
// clang-format off
#include <cmocka.h>
// clang-format on
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void aipa_test_guard_init(struct aipa_test_guard *g)
{
    long ps = sysconf(_SC_PAGESIZE);

    assert_true(ps > 0);
    g->page = (size_t)ps;
    g->map = mmap(NULL, 2 * g->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(g->map != MAP_FAILED);
    assert_int_equal(mprotect(g->map + g->page, g->page, PROT_NONE), 0);
}

void aipa_test_guard_cleanup(struct aipa_test_guard *g)
{
    assert_int_equal(munmap(g->map, 2 * g->page), 0);
}

const uint8_t *aipa_test_guard_place(struct aipa_test_guard *g, const void *s, size_t n)
{
    uint8_t *dst;

    assert_true(n <= g->page);
    dst = g->map + g->page - n;
    if (n > 0) {
        memcpy(dst, s, n);
    }
    return dst;
}

static long oom_countdown = -1;

void aipa_test_oom_arm(long n)
{
    oom_countdown = n;
}

bool aipa_test_oom_now(void)
{
    if (oom_countdown == 0) {
        return true;
    }
    if (oom_countdown > 0) {
        oom_countdown--;
    }
    return false;
}

static void *oom_malloc(size_t n)
{
    return aipa_test_oom_now() ? NULL : malloc(n);
}

static void *oom_realloc(void *p, size_t n)
{
    return aipa_test_oom_now() ? NULL : realloc(p, n);
}

static void *oom_calloc(size_t count, size_t n)
{
    return aipa_test_oom_now() ? NULL : calloc(count, n);
}

const struct aipa_allocator aipa_test_oom_allocator = {oom_malloc, oom_realloc, oom_calloc, free};
