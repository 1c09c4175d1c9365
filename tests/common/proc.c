/* Child processes, check lines and JSON files for the test drivers (proc.h). */
#include "proc.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aipa/poison.h"

extern char **environ;

static int failures;

void aipa_test_check(bool ok, const char *fmt, ...)
{
    va_list ap;

    printf("%s: ", ok ? "ok" : "FAIL");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    if (!ok) {
        failures++;
    }
}

int aipa_test_failures(void)
{
    return failures;
}

double aipa_test_now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void aipa_test_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

pid_t aipa_test_spawn(const char *const *argv)
{
    pid_t pid = -1;

    /* posix_spawn does not write argv; its prototype predates const. */
    if (posix_spawn(&pid, argv[0], NULL, NULL, (char *const *)(uintptr_t)argv, environ) != 0) {
        return -1;
    }
    return pid;
}

int aipa_test_wait_bounded(pid_t pid, double timeout_s, bool *signalled)
{
    double end = aipa_test_now_s() + timeout_s;
    int st = 0;

    *signalled = false;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);

        if (r == pid) {
            if (WIFSIGNALED(st)) {
                *signalled = true;
                return 128 + WTERMSIG(st);
            }
            return WEXITSTATUS(st);
        }
        if (r < 0 && errno != EINTR) {
            return -2;
        }
        if (aipa_test_now_s() > end) {
            kill(pid, SIGKILL);
            (void)waitpid(pid, &st, 0);
            return -1;
        }
        aipa_test_sleep_ms(20);
    }
}

int aipa_test_run(const char *const *argv, double timeout_s, bool *signalled)
{
    pid_t pid = aipa_test_spawn(argv);

    *signalled = false;
    if (pid <= 0) {
        return -2;
    }
    return aipa_test_wait_bounded(pid, timeout_s, signalled);
}

pid_t aipa_test_start_server(const char *const *argv, unsigned *port)
{
    int fds[2];
    posix_spawn_file_actions_t fa;
    pid_t pid = -1;
    char line[256];
    size_t len = 0;
    double end = 0;
    const char *colon = NULL;

    *port = 0;
    if (pipe(fds) != 0) {
        return -1;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    if (posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)(uintptr_t)argv, environ) != 0) {
        pid = -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    end = aipa_test_now_s() + 10.0;
    while (pid > 0 && len + 1 < sizeof(line) && aipa_test_now_s() < end) {
        struct pollfd p = {fds[0], POLLIN, 0};

        if (poll(&p, 1, 100) <= 0) {
            continue;
        }
        if (read(fds[0], line + len, 1) != 1 || line[len] == '\n') {
            break;
        }
        len++;
    }
    line[len] = '\0';
    close(fds[0]);
    colon = strrchr(line, ':');
    *port = (unsigned)strtoul(colon != NULL ? colon + 1 : line, NULL, 10);
    if (pid > 0 && (*port == 0 || *port > 65535)) {
        kill(pid, SIGKILL);
        (void)waitpid(pid, NULL, 0);
        pid = -1;
    }
    return pid;
}

/* The whole file, NUL-terminated, in *len bytes (without the NUL); NULL past max. */
static char *read_file(const char *path, long max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n = 0;

    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n <= max &&
        fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        if (buf != NULL) {
            buf[n] = '\0';
            *len = (size_t)n;
        }
    }
    fclose(f);
    return buf;
}

cJSON *aipa_test_load_json(const char *path, long max)
{
    size_t len = 0;
    char *text = read_file(path, max, &len);
    cJSON *doc = text != NULL ? cJSON_ParseWithLength(text, len) : NULL;

    free(text);
    return doc;
}

const char *aipa_test_jstr(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double aipa_test_jnum(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

bool aipa_test_jtrue(const cJSON *o, const char *name)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, name));
}
