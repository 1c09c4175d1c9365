/*
 * Shared helpers of the unit tests (tests/unit/test_*.c):
 *
 * - a page-end guard: an input copied so that its last byte is the last one
 *   of a mapped page, followed by a PROT_NONE page, so any over-read faults;
 * - allocation-failure injection through aipa_set_allocator: once armed with
 *   n, the next n allocations succeed and every later one fails;
 * - writing a file and removing a temporary tree.
 *
 * Failures inside the helpers are cmocka assertions, so they belong in a test.
 */
#ifndef AIPA_TESTUTIL_H
#define AIPA_TESTUTIL_H

#include "aipa/common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Two pages: the first readable and writable, the second PROT_NONE. */
struct aipa_test_guard {
    uint8_t *map;
    size_t page;
};

void aipa_test_guard_init(struct aipa_test_guard *g);
void aipa_test_guard_cleanup(struct aipa_test_guard *g);
/* Copies s[0..n) (n at most one page) so that it ends exactly at the protected page. */
const uint8_t *aipa_test_guard_place(struct aipa_test_guard *g, const void *s, size_t n);

/* Writes text to path (created or truncated); asserts that it worked. */
void aipa_test_write_file(const char *path, const char *text);
/* Removes path and, for a directory, all below it (symbolic links are not followed); asserts
 * that it worked. A path that does not exist is not an error. */
void aipa_test_rm_rf(const char *path);

/*
 * Fails every allocation once the countdown reaches zero: after
 * aipa_test_oom_arm(n), n allocations succeed and all later ones fail; a
 * negative n never fails. Install aipa_test_oom_allocator with
 * aipa_set_allocator to route the library's allocations through it. Not
 * thread-safe: arm it around single-threaded code only.
 */
extern const struct aipa_allocator aipa_test_oom_allocator;
void aipa_test_oom_arm(long n);
/* Counts one allocation; true when it is to fail (for other libraries' hooks). */
bool aipa_test_oom_now(void);

#endif
