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
 *   --expect-bucket B a finding with exactly that bucket (oracle|status|Code
 *                     [|reference status|reference Code]) exists and was
 *                     reproduced from a fresh state: the fault is its own
 *                     bucket, with the reference's answer in it
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
#include "proc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aipa/poison.h"

#define MAX_ARGS   64
#define MAX_EXPECT 8
#define MAX_FILE   (64L * 1024L * 1024L)

static void stop_child(pid_t pid)
{
    bool sig;

    if (pid <= 0) {
        return;
    }
    kill(pid, SIGTERM);
    if (aipa_test_wait_bounded(pid, 5.0, &sig) == -1) {
        printf("note: server %d needed SIGKILL\n", (int)pid);
    }
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
    const char *buckets[MAX_EXPECT];
    size_t bucket_n;
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
    const char *id = aipa_test_jstr(f, "case_id");
    char profile[4096], report[4096];
    const char *argv[MAX_ARGS];
    size_t n = 0;
    bool sig = false;
    int rc;
    FILE *pf;

    aipa_test_check(id != NULL, "[%s] the finding names its case id", oracle);
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
    rc = aipa_test_run(argv, 120, &sig);
    aipa_test_check(rc == 1 && !sig,
                    "[%s] aipa conform replays case %s and fails on the server (exit %d)", oracle,
                    id, rc);

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
    rc = aipa_test_run(argv, 120, &sig);
    aipa_test_check(rc == 0 && !sig,
                    "[%s] the same case passes against the embedded reference server (exit %d)",
                    oracle, rc);
}

static void check_sarif(const char *path, const char *oracle)
{
    cJSON *doc = aipa_test_load_json(path, MAX_FILE);
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(doc, "runs");
    const cJSON *run0 = cJSON_GetArrayItem(runs, 0);
    const cJSON *results = cJSON_GetObjectItemCaseSensitive(run0, "results");
    const cJSON *r;
    bool found = false;

    aipa_test_check(doc != NULL && aipa_test_jstr(doc, "version") != NULL &&
                        strcmp(aipa_test_jstr(doc, "version"), "2.1.0") == 0,
                    "[%s] SARIF 2.1.0 written", oracle);
    cJSON_ArrayForEach(r, results)
    {
        const char *rule = aipa_test_jstr(r, "ruleId");
        found = found || (rule != NULL && strcmp(rule, oracle) == 0);
    }
    aipa_test_check(found, "[%s] SARIF has a result with ruleId %s", oracle, oracle);
    cJSON_Delete(doc);
}

static int scenario(const struct opts *o)
{
    unsigned port = 0;
    pid_t srv = aipa_test_start_server((const char *const *)o->server, &port);
    char target[128], out[4096], json[4200], sarif[4200], cases[4200];
    const char *argv[MAX_ARGS];
    size_t n = 0;
    bool sig = false;
    int rc;
    double t0;
    cJSON *doc = NULL;

    aipa_test_check(srv > 0, "server %s started on port %u", o->server[0], port);
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
    t0 = aipa_test_now_s();
    rc = aipa_test_run(argv, o->timeout, &sig);
    aipa_test_check(rc != -1, "aipa fuzz finished within %.0f s (took %.1f s)", o->timeout,
                    aipa_test_now_s() - t0);
    aipa_test_check(!sig, "aipa fuzz was not killed by a signal (status %d)", rc);
    aipa_test_check(rc != 86, "aipa fuzz ran clean under the sanitizers (status %d)", rc);
    doc = aipa_test_load_json(json, MAX_FILE);
    aipa_test_check(doc != NULL, "findings.json parses");
    const cJSON *findings = cJSON_GetObjectItemCaseSensitive(doc, "findings");
    const cJSON *stats = cJSON_GetObjectItemCaseSensitive(doc, "stats");
    if (o->none) {
        aipa_test_check(rc == 0, "aipa fuzz exits 0 against a well-behaved server (got %d)", rc);
        aipa_test_check(cJSON_GetArraySize(findings) == 0, "no findings in %.0f requests (got %d)",
                        aipa_test_jnum(stats, "requests"), cJSON_GetArraySize(findings));
        const cJSON *f;
        cJSON_ArrayForEach(f, findings)
        {
            printf("  unexpected: %s: %s\n", aipa_test_jstr(f, "bucket"),
                   aipa_test_jstr(f, "detail"));
        }
    } else {
        aipa_test_check(rc == 1, "aipa fuzz exits 1 when it finds something (got %d)", rc);
    }
    for (size_t k = 0; k < o->bucket_n; k++) {
        const cJSON *f, *hit = NULL;
        cJSON_ArrayForEach(f, findings)
        {
            const char *b = aipa_test_jstr(f, "bucket");
            if (b != NULL && strcmp(b, o->buckets[k]) == 0) {
                hit = f;
            }
        }
        aipa_test_check(hit != NULL, "bucket %s found within %s requests", o->buckets[k],
                        o->requests);
        if (hit == NULL) {
            cJSON_ArrayForEach(f, findings)
            {
                printf("  got: %s\n", aipa_test_jstr(f, "bucket"));
            }
            continue;
        }
        printf("  %s: %s (first at request %.0f)\n", o->buckets[k], aipa_test_jstr(hit, "detail"),
               aipa_test_jnum(hit, "first_request"));
        aipa_test_check(aipa_test_jtrue(hit, "reproduced"),
                        "[%s] replayed from a fresh state and still hit", o->buckets[k]);
    }
    for (size_t k = 0; k < o->expect_n; k++) {
        const char *oracle = o->expect[k];
        const cJSON *f, *best = NULL;
        cJSON_ArrayForEach(f, findings)
        {
            const char *fo = aipa_test_jstr(f, "oracle");
            if (fo != NULL && strcmp(fo, oracle) == 0 && best == NULL) {
                best = f;
            }
        }
        aipa_test_check(best != NULL, "[%s] found within %s requests", oracle, o->requests);
        if (best == NULL) {
            continue;
        }
        printf("  %s: %s (first at request %.0f)\n", aipa_test_jstr(best, "bucket"),
               aipa_test_jstr(best, "detail"), aipa_test_jnum(best, "first_request"));
        aipa_test_check(aipa_test_jtrue(best, "reproduced"),
                        "[%s] replayed from a fresh state and still hit", oracle);
        aipa_test_check(aipa_test_jtrue(best, "minimized"), "[%s] minimized (%.0f replays)", oracle,
                        aipa_test_jnum(best, "replays"));
        aipa_test_check(
            aipa_test_jnum(best, "parameters") >= 0 &&
                aipa_test_jnum(best, "parameters") <= o->max_params &&
                aipa_test_jnum(best, "parameters") <= aipa_test_jnum(best, "original_parameters") &&
                aipa_test_jnum(best, "steps") <= aipa_test_jnum(best, "original_steps"),
            "[%s] minimized to %.0f step(s), %.0f parameter(s) (from %.0f, %.0f; at most %d)",
            oracle, aipa_test_jnum(best, "steps"), aipa_test_jnum(best, "parameters"),
            aipa_test_jnum(best, "original_steps"), aipa_test_jnum(best, "original_parameters"),
            o->max_params);
        aipa_test_check(
            file_exists(aipa_test_jstr(best, "case_file")), "[%s] case file written: %s", oracle,
            aipa_test_jstr(best, "case_file") != NULL ? aipa_test_jstr(best, "case_file")
                                                      : "(none)");
        aipa_test_check(aipa_test_jstr(best, "repro") != NULL, "[%s] has a reproduction line",
                        oracle);
        check_sarif(sarif, oracle);
        if (o->conform) {
            check_conform(o, target, cases, best, oracle);
        }
    }
    cJSON_Delete(doc);
    stop_child(srv);
    return aipa_test_failures() == 0 ? 0 : 1;
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
    for (size_t i = 0; i < o->fuzz_arg_n && n + 1 < MAX_ARGS; i++) {
        argv[n++] = o->fuzz_args[i];
    }
    argv[n] = NULL;
    (void)aipa_test_run(argv, o->timeout, &sig);
    doc = aipa_test_load_json(json, MAX_FILE);
    d = aipa_test_jstr(cJSON_GetObjectItemCaseSensitive(doc, "stats"), "request_digest");
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
    aipa_test_check(a[0] != '\0', "a run with --seed %s reports its request digest (%s)", o->seed,
                    a);
    aipa_test_check(strcmp(a, b) == 0, "the same seed gives the same %s requests (%s, %s)",
                    o->requests, a, b);
    aipa_test_check(strcmp(a, c) != 0, "another seed gives other requests (%s, %s)", a, c);
    return aipa_test_failures() == 0 ? 0 : 1;
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
        } else if (strcmp(a, "--expect-bucket") == 0 && o.bucket_n < MAX_EXPECT) {
            o.buckets[o.bucket_n++] = v;
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
    if (o.aipa == NULL || o.workdir == NULL || i >= argc || (o.expect_n == 0 && o.bucket_n == 0 && !o.none) ||
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
