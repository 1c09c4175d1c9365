/*
 * Standalone driver for the fuzz targets: runs every input file given on the
 * command line (directories are walked one level deep, in name order) through
 * LLVMFuzzerTestOneInput exactly once. Linked with each fuzz_<t>.c into
 * fuzz_<t>_replay, so ctest replays corpus/fuzz_<t>/ and
 * corpus/regressions/fuzz_<t>/ in every preset, with gcc as well as clang,
 * and under ASan/UBSan in the asan preset.
 *
 * A missing path is an error (exit 2), an empty directory is not: the
 * regressions directory of a target starts out empty. A target finding a
 * problem aborts, which ctest reports as a failure naming the input.
 */
#include "aipa/common.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define REPLAY_MAX_INPUT (16u * 1024u * 1024u)

static int run_file(const char *path, size_t *count)
{
    struct aipa_buf why;
    char *data = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = 2;

    aipa_buf_init(&why, 4096);
    if (aipa_read_file(path, REPLAY_MAX_INPUT, &data, &len, &why) != AIPA_OK) {
        fprintf(stderr, "replay: %s\n", why.ptr != NULL ? why.ptr : path);
        goto out;
    }
    if (len > REPLAY_MAX_INPUT) {
        fprintf(stderr, "replay: %s: larger than %u bytes\n", path, REPLAY_MAX_INPUT);
        goto out;
    }
    /* An exact-size heap copy, so ASan flags any read past the input. */
    buf = malloc(len > 0 ? len : 1);
    if (buf == NULL) {
        fprintf(stderr, "replay: %s: out of memory\n", path);
        goto out;
    }
    memcpy(buf, data, len);
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    (void)LLVMFuzzerTestOneInput(buf, len);
    (*count)++;
    rc = 0;
out:
    free(buf);
    aipa_free(data);
    aipa_buf_cleanup(&why);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (d == NULL) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return 2;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue; /* ".", "..", and dot files such as .gitkeep */
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **nn = realloc(names, ncap * sizeof(*names));
            if (nn == NULL) {
                rc = 2;
                goto out;
            }
            names = nn;
            cap = ncap;
        }
        size_t len = strlen(dir) + 1 + strlen(e->d_name) + 1;
        names[n] = malloc(len);
        if (names[n] == NULL) {
            rc = 2;
            goto out;
        }
        snprintf(names[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    if (n > 0) {
        qsort(names, n, sizeof(*names), by_name);
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            rc = run_file(names[i], count);
        }
    }
out:
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int rc = 0;

    if (argc < 2) {
        fprintf(stderr,
                "usage: %s FILE|DIR...\n"
                "Runs each input through the fuzz target once.\n",
                argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize != NULL) {
        (void)LLVMFuzzerInitialize(&argc, &argv);
    }
    for (int i = 1; i < argc && rc == 0; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            rc = 2;
        } else if (S_ISDIR(st.st_mode)) {
            rc = run_dir(argv[i], &count);
        } else {
            rc = run_file(argv[i], &count);
        }
    }
    fprintf(stderr, "replay: %s: %zu inputs, %s\n", argv[0], count, rc == 0 ? "all ran" : "error");
    return rc;
}
