/* Shared helpers of the unit tests; see testutil.h. */
#define _DEFAULT_SOURCE     /* MAP_ANONYMOUS */
#define _XOPEN_SOURCE   700 /* nftw */

/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
// clang-format off
#include <cmocka.h>
// clang-format on
#include "testutil.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
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

void aipa_test_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

void aipa_test_rm_rf(const char *path)
{
    if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        assert_int_equal(errno, ENOENT);
    }
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
