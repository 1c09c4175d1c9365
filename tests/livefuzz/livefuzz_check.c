/*
 * livefuzz_check: one `aipa fuzz` scenario against a live server.
 *
 * Starts a server (badserver with a planted fault, the leak server, or
 * `aipa serve`), reads its port from the first line of its stdout, runs
 * `aipa fuzz` at it, and asserts on what the fuzzer wrote:
 *
 *   --expect ORACLE   a finding of that oracle exists, was reproduced from a
 *                     fresh state and minimized to at most --max-params
 *                     parameters; its case file, JSON and SARIF entries exist;
 *                     with --conform its case fails under `aipa conform`
 *                     against the server and passes against the embedded
 *                     reference server
 *   --none            the run ends with no finding at all (exit 0)
 *   --determinism     (no server) two runs of the embedded target with one
 *                     --seed generate the same requests, another seed others
 *
 * Every wait is bounded; the children are killed on the way out.
 *
 *   livefuzz_check --aipa PATH --workdir DIR [--token T] [--requests N]
 *                  [--seed N] [--timeout S] [--max-params N] [--edition ED]
 *                  [--expect ORACLE]... [--none] [--conform]
 *                  [--fuzz-arg X]... -- SERVER [ARGS...]
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_ARGS   64
#define MAX_EXPECT 8
#define MAX_FILE   (64L * 1024L * 1024L)

static int failures;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void check(bool ok, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    printf("%s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    if (!ok) {
        failures++;
    }
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits for pid at most secs; kills it past that. Returns the exit status, -1 on timeout. */
static int wait_bounded(pid_t pid, double secs, bool *signaled)
{
    double end = now_s() + secs;
    int st = 0;

    *signaled = false;
    while (now_s() < end) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            if (WIFSIGNALED(st)) {
                *signaled = true;
                return 128 + WTERMSIG(st);
            }
            return WEXITSTATUS(st);
        }
        if (r < 0 && errno != EINTR) {
            return -1;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    (void)waitpid(pid, &st, 0);
    return -1;
}

static void stop_child(pid_t pid)
{
    bool sig;

    if (pid <= 0) {
        return;
    }
    kill(pid, SIGTERM);
    if (wait_bounded(pid, 5.0, &sig) == -1) {
        printf("note: server %d needed SIGKILL\n", (int)pid);
    }
}

/* Starts argv[0] with stdout on a pipe; the first line names the port. */
static pid_t start_server(char **argv, unsigned *port)
{
    int fds[2];
    posix_spawn_file_actions_t fa;
    pid_t pid = -1;
    char line[256];
    size_t len = 0;
    double end;

    if (pipe(fds) != 0) {
        return -1;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
        pid = -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    end = now_s() + 10.0;
    while (pid > 0 && len + 1 < sizeof(line) && now_s() < end) {
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
    /* "33673" (badserver, leakserver) or "listening on http://127.0.0.1:33673" (aipa serve) */
    const char *colon = strrchr(line, ':');
    *port = (unsigned)strtoul(colon != NULL ? colon + 1 : line, NULL, 10);
    if (pid > 0 && (*port == 0 || *port > 65535)) {
        kill(pid, SIGKILL);
        (void)waitpid(pid, NULL, 0);
        pid = -1;
    }
    return pid;
}

static int run(const char *const *argv, double secs, bool *signaled)
{
    pid_t pid = -1;

    if (posix_spawn(&pid, argv[0], NULL, NULL, (char *const *)(uintptr_t)argv, environ) != 0) {
        return -2;
    }
    return wait_bounded(pid, secs, signaled);
}

static cJSON *load_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    cJSON *doc = NULL;

    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > MAX_FILE ||
        fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)n + 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        doc = cJSON_ParseWithLength(buf, (size_t)n);
    }
    free(buf);
    fclose(f);
    return doc;
}

static double num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool truth(const cJSON *o, const char *name)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, name));
}

static bool file_exists(const char *p)
{
    struct stat st;
    return p != NULL && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

struct opts {
    const char *aipa;
    const char *workdir;
    const char *token;
    const char *requests;
    const char *seed;
    const char *edition;
    double timeout;
    int max_params;
    const char *expect[MAX_EXPECT];
    size_t expect_n;
    bool none;
    bool conform;
    bool determinism;
    const char *fuzz_args[16];
    size_t fuzz_arg_n;
    char **server;
};

static const char profile_json[] =
    "{\n"
    "  \"name\": \"livefuzz-check\",\n"
    "  \"fixtures\": { \"protocol\": true, \"token_env\": \"AIPA_FIXTURE_TOKEN\" },\n"
    "  \"credentials\": {\n"
    "    \"default\": { \"id_env\": \"AIPA_ACCESS_KEY_ID\", \"secret_env\": "
    "\"AIPA_ACCESS_KEY_SECRET\" }\n"
    "  },\n"
    "  \"timeout_ms\": 5000\n"
    "}\n";

/* The case of finding f fails against the server and passes against the reference. */
static void check_conform(const struct opts *o, const char *target, const char *cases,
                          const cJSON *f, const char *oracle)
{
    const char *id = str(f, "case_id");
    char profile[4096], report[4096];
    const char *argv[MAX_ARGS];
    size_t n = 0;
    bool sig = false;
    int rc;
    FILE *pf;

    check(id != NULL, "[%s] the finding names its case id", oracle);
    if (id == NULL) {
        return;
    }
    snprintf(profile, sizeof(profile), "%s/profile.json", o->workdir);
    pf = fopen(profile, "w");
    if (pf != NULL) {
        fputs(profile_json, pf);
        fclose(pf);
    }
    snprintf(report, sizeof(report), "%s/conform-target.json", o->workdir);
    argv[n++] = o->aipa;
    argv[n++] = "conform";
    argv[n++] = "--target";
    argv[n++] = target;
    argv[n++] = "--profile";
    argv[n++] = profile;
    argv[n++] = "--cases";
    argv[n++] = cases;
    argv[n++] = "--only";
    argv[n++] = id;
    argv[n++] = "--edition";
    argv[n++] = o->edition;
    argv[n++] = "--json";
    argv[n++] = report;
    argv[n] = NULL;
    rc = run(argv, 120, &sig);
    check(rc == 1 && !sig, "[%s] aipa conform replays case %s and fails on the server (exit %d)",
          oracle, id, rc);

    n = 0;
    snprintf(report, sizeof(report), "%s/conform-reference.json", o->workdir);
    argv[n++] = o->aipa;
    argv[n++] = "conform";
    argv[n++] = "--cases";
    argv[n++] = cases;
    argv[n++] = "--only";
    argv[n++] = id;
    argv[n++] = "--edition";
    argv[n++] = o->edition;
    argv[n++] = "--json";
    argv[n++] = report;
    argv[n] = NULL;
    rc = run(argv, 120, &sig);
    check(rc == 0 && !sig,
          "[%s] the same case passes against the embedded reference server (exit %d)", oracle, rc);
}

static void check_sarif(const char *path, const char *oracle)
{
    cJSON *doc = load_json(path);
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs");
    const cJSON *run0 = cJSON_GetArrayItem(runs, 0);
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(run0, "results");
    const cJSON *r;
    bool found = false;

    check(doc != NULL && str(doc, "version") != NULL && strcmp(str(doc, "version"), "2.1.0") == 0,
          "[%s] SARIF 2.1.0 written", oracle);
    cJSON_ArrayForEach(r, results)
    {
        const char *rule = str(r, "ruleId");
        found = found || (rule != NULL && strcmp(rule, oracle) == 0);
    }
    check(found, "[%s] SARIF has a result with ruleId %s", oracle, oracle);
    cJSON_Delete(doc);
}

static int scenario(const struct opts *o)
{
    unsigned port = 0;
    pid_t srv = start_server(o->server, &port);
    char target[128], out[4096], json[4200], sarif[4200], cases[4200];
    const char *argv[MAX_ARGS];
    size_t n = 0;
    bool sig = false;
    int rc;
    double t0;
    cJSON *doc = NULL;

    check(srv > 0, "server %s started on port %u", o->server[0], port);
    if (srv <= 0) {
        return 1;
    }
    snprintf(target, sizeof(target), "http://127.0.0.1:%u", port);
    snprintf(out, sizeof(out), "%s/out", o->workdir);
    snprintf(json, sizeof(json), "%s/findings.json", out);
    snprintf(sarif, sizeof(sarif), "%s/findings.sarif", out);
    snprintf(cases, sizeof(cases), "%s/cases", out);
    (void)unlink(json);
    argv[n++] = o->aipa;
    argv[n++] = "fuzz";
    argv[n++] = "--target";
    argv[n++] = target;
    argv[n++] = "--token";
    argv[n++] = o->token;
    argv[n++] = "--requests";
    argv[n++] = o->requests;
    argv[n++] = "--time";
    argv[n++] = "600";
    argv[n++] = "--seed";
    argv[n++] = o->seed;
    argv[n++] = "--out";
    argv[n++] = out;
    argv[n++] = "--quiet";
    for (size_t i = 0; i < o->fuzz_arg_n && n + 1 < MAX_ARGS; i++) {
        argv[n++] = o->fuzz_args[i];
    }
    argv[n] = NULL;
    t0 = now_s();
    rc = run(argv, o->timeout, &sig);
    check(rc != -1, "aipa fuzz finished within %.0f s (took %.1f s)", o->timeout, now_s() - t0);
    check(!sig, "aipa fuzz was not killed by a signal (status %d)", rc);
    check(rc != 86, "aipa fuzz ran clean under the sanitizers (status %d)", rc);
    doc = load_json(json);
    check(doc != NULL, "findings.json parses");
    const cJSON *findings = cJSON_GetObjectItemCaseSensitive(doc, "findings");
    const cJSON *stats = cJSON_GetObjectItemCaseSensitive(doc, "stats");
    if (o->none) {
        check(rc == 0, "aipa fuzz exits 0 against a well-behaved server (got %d)", rc);
        check(cJSON_GetArraySize(findings) == 0, "no findings in %.0f requests (got %d)",
              num(stats, "requests"), cJSON_GetArraySize(findings));
        const cJSON *f;
        cJSON_ArrayForEach(f, findings)
        {
            printf("  unexpected: %s: %s\n", str(f, "bucket"), str(f, "detail"));
        }
    } else {
        check(rc == 1, "aipa fuzz exits 1 when it finds something (got %d)", rc);
    }
    for (size_t k = 0; k < o->expect_n; k++) {
        const char *oracle = o->expect[k];
        const cJSON *f, *best = NULL;
        cJSON_ArrayForEach(f, findings)
        {
            const char *fo = str(f, "oracle");
            if (fo != NULL && strcmp(fo, oracle) == 0 && best == NULL) {
                best = f;
            }
        }
        check(best != NULL, "[%s] found within %s requests", oracle, o->requests);
        if (best == NULL) {
            continue;
        }
        printf("  %s: %s (first at request %.0f)\n", str(best, "bucket"), str(best, "detail"),
               num(best, "first_request"));
        check(truth(best, "reproduced"), "[%s] replayed from a fresh state and still hit", oracle);
        check(truth(best, "minimized"), "[%s] minimized (%.0f replays)", oracle,
              num(best, "replays"));
        check(num(best, "parameters") >= 0 && num(best, "parameters") <= o->max_params &&
                  num(best, "parameters") <= num(best, "original_parameters") &&
                  num(best, "steps") <= num(best, "original_steps"),
              "[%s] minimized to %.0f step(s), %.0f parameter(s) (from %.0f, %.0f; at most %d)",
              oracle, num(best, "steps"), num(best, "parameters"), num(best, "original_steps"),
              num(best, "original_parameters"), o->max_params);
        check(file_exists(str(best, "case_file")), "[%s] case file written: %s", oracle,
              str(best, "case_file") != NULL ? str(best, "case_file") : "(none)");
        check(str(best, "repro") != NULL, "[%s] has a reproduction line", oracle);
        check_sarif(sarif, oracle);
        if (o->conform) {
            check_conform(o, target, cases, best, oracle);
        }
    }
    cJSON_Delete(doc);
    stop_child(srv);
    return failures == 0 ? 0 : 1;
}

/* --determinism: the same seed twice gives the same requests, another seed others. */
static const char *digest_of(const struct opts *o, const char *seed, const char *name, char *out,
                             size_t cap)
{
    char json[4200];
    const char *argv[MAX_ARGS];
    size_t n = 0;
    bool sig = false;
    cJSON *doc;
    const char *d;

    snprintf(json, sizeof(json), "%s/%s.json", o->workdir, name);
    (void)unlink(json);
    argv[n++] = o->aipa;
    argv[n++] = "fuzz";
    argv[n++] = "--requests";
    argv[n++] = o->requests;
    argv[n++] = "--seed";
    argv[n++] = seed;
    argv[n++] = "--no-minimize";
    argv[n++] = "--quiet";
    argv[n++] = "--json";
    argv[n++] = json;
    argv[n] = NULL;
    (void)run(argv, o->timeout, &sig);
    doc = load_json(json);
    d = str(cJSON_GetObjectItemCaseSensitive(doc, "stats"), "request_digest");
    snprintf(out, cap, "%s", d != NULL ? d : "");
    cJSON_Delete(doc);
    return out;
}

static int determinism(const struct opts *o)
{
    char a[32], b[32], c[32];

    digest_of(o, o->seed, "seed-a", a, sizeof(a));
    digest_of(o, o->seed, "seed-b", b, sizeof(b));
    digest_of(o, "424242", "seed-c", c, sizeof(c));
    check(a[0] != '\0', "a run with --seed %s reports its request digest (%s)", o->seed, a);
    check(strcmp(a, b) == 0, "the same seed gives the same %s requests (%s, %s)", o->requests, a,
          b);
    check(strcmp(a, c) != 0, "another seed gives other requests (%s, %s)", a, c);
    return failures == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct opts o;
    int i;

    memset(&o, 0, sizeof(o));
    o.token = "aipa-badserver";
    o.requests = "2000";
    o.seed = "1";
    o.timeout = 300;
    o.max_params = 6;
    o.edition = "2024-12-20";
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "--none") == 0) {
            o.none = true;
            continue;
        }
        if (strcmp(a, "--conform") == 0) {
            o.conform = true;
            continue;
        }
        if (strcmp(a, "--determinism") == 0) {
            o.determinism = true;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "livefuzz_check: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--aipa") == 0) {
            o.aipa = v;
        } else if (strcmp(a, "--workdir") == 0) {
            o.workdir = v;
        } else if (strcmp(a, "--token") == 0) {
            o.token = v;
        } else if (strcmp(a, "--requests") == 0) {
            o.requests = v;
        } else if (strcmp(a, "--seed") == 0) {
            o.seed = v;
        } else if (strcmp(a, "--edition") == 0) {
            o.edition = v;
        } else if (strcmp(a, "--timeout") == 0) {
            o.timeout = strtod(v, NULL);
        } else if (strcmp(a, "--max-params") == 0) {
            o.max_params = atoi(v);
        } else if (strcmp(a, "--expect") == 0 && o.expect_n < MAX_EXPECT) {
            o.expect[o.expect_n++] = v;
        } else if (strcmp(a, "--fuzz-arg") == 0 && o.fuzz_arg_n < 16) {
            o.fuzz_args[o.fuzz_arg_n++] = v;
        } else {
            fprintf(stderr, "livefuzz_check: unknown option %s\n", a);
            return 2;
        }
    }
    if (o.determinism && o.aipa != NULL && o.workdir != NULL) {
        if (mkdir(o.workdir, 0755) != 0 && errno != EEXIST) {
            return 2;
        }
        return determinism(&o);
    }
    if (o.aipa == NULL || o.workdir == NULL || i >= argc || (o.expect_n == 0 && !o.none) ||
        o.timeout <= 0) {
        fprintf(stderr, "usage: livefuzz_check --aipa PATH --workdir DIR [--expect ORACLE | "
                        "--none] ... -- SERVER [ARGS...]\n");
        return 2;
    }
    o.server = argv + i;
    if (mkdir(o.workdir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "livefuzz_check: cannot create %s\n", o.workdir);
        return 2;
    }
    /*
     * A sanitizer report must not pass for "findings" (exit 1): under ASan and
     * UBSan the children exit 86 instead.
     */
    setenv("ASAN_OPTIONS", getenv("ASAN_OPTIONS") != NULL ? getenv("ASAN_OPTIONS") : "", 1);
    setenv("UBSAN_OPTIONS", getenv("UBSAN_OPTIONS") != NULL ? getenv("UBSAN_OPTIONS") : "", 1);
    {
        char buf[1024];
        snprintf(buf, sizeof(buf), "%s%sexitcode=86", getenv("ASAN_OPTIONS"),
                 getenv("ASAN_OPTIONS")[0] ? ":" : "");
        setenv("ASAN_OPTIONS", buf, 1);
        snprintf(buf, sizeof(buf), "%s%sexitcode=86", getenv("UBSAN_OPTIONS"),
                 getenv("UBSAN_OPTIONS")[0] ? ":" : "");
        setenv("UBSAN_OPTIONS", buf, 1);
    }
    setenv("AIPA_FIXTURE_TOKEN", o.token, 1);
    setenv("AIPA_ACCESS_KEY_ID", "testid", 1);
    setenv("AIPA_ACCESS_KEY_SECRET", "testsecret", 1);
    signal(SIGPIPE, SIG_IGN);
    return scenario(&o);
}
