/*
 * AFL++ driver for the fuzz targets: persistent mode (__AFL_LOOP) with the
 * test case in shared memory (__AFL_FUZZ_TESTCASE_BUF), the fastest way
 * afl-fuzz can feed an in-process target. Built as fuzz_<t>_afl (and
 * fuzz_<t>_afl_cmplog) by the afl preset.
 *
 * Without afl-clang-fast the macros fall back to reading one input from
 * stdin per loop, so the same file also compiles with a plain compiler and
 * runs under afl-fuzz's fork server or by hand (`fuzz_x_afl < input`).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * afl-clang-fast defines the __AFL_* macros on the command line with casts
 * and statement expressions that the project's warning set rejects; they
 * are AFL++'s code, so those warnings are off in this file only.
 */
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wcast-qual"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#ifdef __clang__
#pragma clang diagnostic ignored "-Wextra-semi"
#pragma clang diagnostic ignored "-Wgnu-statement-expression"
#pragma clang diagnostic ignored "-Wshorten-64-to-32"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#ifndef __AFL_FUZZ_TESTCASE_LEN
/* Compat path: no shared memory; one read of stdin per iteration. */
#define AFL_COMPAT_MAX (1024u * 1024u)
static unsigned char compat_buf[AFL_COMPAT_MAX];
static ssize_t compat_len;
static int compat_done;
#define __AFL_FUZZ_INIT() extern int afl_compat_unused_
#define __AFL_INIT()                                                                               \
    do {                                                                                           \
    } while (0)
#define __AFL_FUZZ_TESTCASE_BUF compat_buf
#define __AFL_FUZZ_TESTCASE_LEN compat_len
#define __AFL_LOOP(n)           compat_loop()
static int compat_loop(void)
{
    if (compat_done) {
        return 0;
    }
    compat_done = 1; /* stdin is consumed once: a single iteration */
    compat_len = read(0, compat_buf, sizeof(compat_buf));
    return compat_len >= 0;
}
#endif

__AFL_FUZZ_INIT();

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize != NULL) {
        (void)LLVMFuzzerInitialize(&argc, &argv);
    }
    __AFL_INIT(); /* deferred fork server: after one-time initialisation */

    unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF; /* must follow __AFL_INIT */
    /*
     * The target reads through a copy of exactly len bytes so that an
     * over-read is caught by ASan (the shared buffer itself is larger).
     */
    /* 100000 inputs per forked child: afl-fuzz's fork cost is spread thin */
    while (__AFL_LOOP(100000)) {
        size_t len = (size_t)__AFL_FUZZ_TESTCASE_LEN;
        uint8_t *copy = malloc(len > 0 ? len : 1);
        if (copy == NULL) {
            abort();
        }
        if (len > 0) {
            memcpy(copy, buf, len);
        }
        (void)LLVMFuzzerTestOneInput(copy, len);
        free(copy);
    }
    return 0;
}
