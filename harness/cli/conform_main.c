/*
 * `aipa conform`: load the suites, pick the target (or start the reference
 * server in-process), run every case x variant under each edition, apply
 * the baseline, write the reports, and exit 0 / 1 / 2.
 */
#include "aipa/client.h"
#include "aipa/conform.h"
#include "aipa/fixcheck.h"
#include "aipa/server.h"
#include "cli.h"
#include "conform_int.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_PATTERNS 64

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: aipa conform [options]\n"
        "\n"
        "Runs the conformance cases (conformance/FORMAT.md) against --target, or, with no\n"
        "target, against the reference server started in-process on 127.0.0.1 (both doc\n"
        "editions unless --edition says otherwise).\n"
        "\n"
        "target\n"
        "  --target URL          endpoint to check (http:// or https://)\n"
        "  --profile FILE|NAME   target profile; a bare NAME is conformance/profiles/NAME.json\n"
        "                        beside the cases (e.g. --profile reference)\n"
        "  --edition E           2018-08-02, 2024-12-20 or all (default: embedded all;\n"
        "                        a target: profile, /_aipa/info, else 2024-12-20)\n"
        "  --timeout SECONDS     per request (default 10)\n"
        "  --retries N           resend a request answered with a Throttling code the\n"
        "                        case does not expect, after x-acs-retry-after ms or a\n"
        "                        backoff, up to N times (default 3; 0: judge it)\n"
        "  --rate R              at most R case requests per second, all jobs together\n"
        "                        (fixture requests are not paced)\n"
        "  --wait-ready SECONDS  first wait up to SECONDS for the target to answer HTTP\n"
        "                        (for a server started in the same CI step)\n"
        "  --seed N              seed of the embedded server (IDs, addresses)\n"
        "selection\n"
        "  --cases DIR           case directory or file (default: $AIPA_CASES, the source\n"
        "                        tree's conformance/cases, or one next to the binary)\n"
        "  --only PAT            only cases whose id matches the glob, or tag:NAME (repeatable)\n"
        "  --skip PAT            skip those (repeatable)\n"
        "  --variants LIST       axis words combine (v1,json: every V1 JSON variant); full\n"
        "                        names select exactly themselves (v1-get-xml,v3-get-json)\n"
        "  --rerun-failed FILE   only the fail/error rows of an earlier JSON report\n"
        "  --list                list the selected cases and send nothing\n"
        "  --check-fixtures      check the target's fixture protocol (conformance/FIXTURES.md)\n"
        "                        endpoint by endpoint instead of running cases; exit 0 all\n"
        "                        checks pass, 1 one failed, 2 no answer\n"
        "gating\n"
        "  --baseline FILE       known failures with reasons: exit 1 only on new failures\n"
        "  --write-baseline FILE write the failures of this run as a baseline\n"
        "  --strict              SHOULD-level differences and the alternatives of latitude\n"
        "                        rows (aipa latitude) fail instead of pass-nonstrict\n"
        "  --max-response-ms N   fail a case whose answer took longer than N ms\n"
        "reports\n"
        "  --junit FILE  --json FILE  --html FILE  --sarif FILE\n"
        "  --report-dir DIR      all four: DIR/junit.xml, report.json, report.html,\n"
        "                        report.sarif\n"
        "  --full-transcripts    the JSON report keeps the transcripts of passes too\n"
        "                        (default: failures only)\n"
        "  -j, --jobs N          cases in parallel (default 1 against a target or with\n"
        "                        --seed; one per core, at most 4, on the embedded server)\n"
        "  -q, --quiet           only the table of counts and the exit line\n"
        "  -v, --verbose         transcripts of failures on the console\n"
        "  -h, --help\n"
        "\n"
        "Credentials come from $AIPA_ACCESS_KEY_ID / $AIPA_ACCESS_KEY_SECRET or the profile's\n"
        "named variables; $AIPA_FIXTURE_TOKEN enables the fixture protocol on a target.\n"
        "Exit status: 0 nothing failed beyond the baseline, 1 conformance failures,\n"
        "2 usage, configuration or harness error.\n");
}

struct cli {
    const char *target;
    const char *profile;
    const char *cases;
    const char *edition;
    const char *only[MAX_PATTERNS];
    size_t only_count;
    const char *skip[MAX_PATTERNS];
    size_t skip_count;
    const char *variants;
    const char *rerun;
    const char *baseline;
    const char *write_baseline;
    const char *junit, *json, *html, *sarif, *report_dir, *ndjson;
    double timeout_s;
    long retries;           /* -1: not given */
    double rate;            /* 0: unpaced */
    double wait_ready_s;    /* 0: do not wait */
    double max_response_ms; /* 0: no latency gate */
    unsigned long long seed;
    bool seed_set;
    unsigned jobs; /* 0: not given (see default_jobs) */
    bool list, quiet, verbose, strict, full_transcripts, check_fixtures;
};

/*
 * Without -j: the embedded server is ours and in-process, so use the cores
 * (the suite's wall time is mostly waiting on a single request at a time);
 * a remote target gets one request at a time, as does a --seed run, whose
 * point is a repeatable report.
 */
static unsigned default_jobs(const struct cli *o, bool embedded)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (!embedded || o->seed_set || n < 2) {
        return 1;
    }
    return n > 4 ? 4u : (unsigned)n;
}

/* ---- console progress ---- */

struct progress {
    bool tty;
    bool quiet;
    size_t failed;
    FILE *events; /* --ndjson, or NULL */
};

/* One event line: the result without its transcript (the JSON report has that). */
static void write_event(FILE *f, const struct aipa_result *res)
{
    cJSON *o = cJSON_CreateObject();
    char vname[AIPA_VARIANT_NAME_MAX];
    char *line;

    if (o == NULL) {
        return;
    }
    aipa_result_variant_name(res, vname);
    if (cJSON_AddStringToObject(o, "id", res->c->id) != NULL &&
        cJSON_AddStringToObject(o, "edition", aipa_edition_name(res->edition)) != NULL &&
        cJSON_AddStringToObject(o, "variant", vname) != NULL &&
        cJSON_AddStringToObject(o, "verdict", aipa_verdict_name(res->verdict)) != NULL &&
        (res->reason != NULL ? cJSON_AddStringToObject(o, "reason", res->reason)
                             : cJSON_AddNullToObject(o, "reason")) != NULL &&
        cJSON_AddNumberToObject(o, "duration_ms", res->ms) != NULL &&
        (line = cJSON_PrintUnformatted(o)) != NULL) {
        fprintf(f, "%s\n", line);
        fflush(f);
        cJSON_free(line);
    }
    cJSON_Delete(o);
}

/*
 * Live output goes to stderr and names no failure (the summary prints each
 * failing case once): a progress line on a terminal, else nothing until the
 * line that closes each edition.
 */
static void on_result(void *ctx, const struct aipa_result *res, size_t done, size_t total)
{
    struct progress *p = ctx;
    bool bad = (res->verdict == AIPA_V_FAIL || res->verdict == AIPA_V_ERROR) && !res->known;

    p->failed += bad;
    if (p->events != NULL) {
        write_event(p->events, res);
    }
    if (p->quiet || !p->tty) {
        return;
    }
    fprintf(stderr, "\r\033[K[%s %zu/%zu] %zu failed  %.50s", aipa_edition_name(res->edition), done,
            total, p->failed, res->c->id);
    fflush(stderr);
}

/* ---- finding the cases ---- */

static bool is_dir(const char *p)
{
    struct stat st;

    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static const char *default_cases(char *buf, size_t cap)
{
    const char *env = getenv("AIPA_CASES");
    char exe[PATH_MAX];
    ssize_t n;

    if (env != NULL && env[0] != '\0') {
        return env;
    }
#ifdef AIPA_SOURCE_DIR
    snprintf(buf, cap, "%s/conformance/cases", AIPA_SOURCE_DIR);
    if (is_dir(buf)) {
        return buf;
    }
#endif
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        char *slash;

        exe[n] = '\0';
        slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
            snprintf(buf, cap, "%s/conformance/cases", exe);
            if (is_dir(buf)) {
                return buf;
            }
            snprintf(buf, cap, "%s/../conformance/cases", exe);
            if (is_dir(buf)) {
                return buf;
            }
            snprintf(buf, cap, "%s/../share/aipa/conformance/cases", exe);
            if (is_dir(buf)) {
                return buf;
            }
        }
    }
    return NULL;
}

/*
 * --profile NAME (no '/', no such file): the profile of that name beside the
 * cases, conformance/profiles/NAME.json, so that `--profile reference`
 * works from any directory. Otherwise the path as given.
 */
static const char *find_profile(const char *given, const char *cases, char *buf, size_t cap)
{
    struct stat st;
    const char *slash = cases != NULL ? strrchr(cases, '/') : NULL;

    if (strchr(given, '/') != NULL || stat(given, &st) == 0 || slash == NULL) {
        return given;
    }
    snprintf(buf, cap, "%.*s/profiles/%s%s", (int)(slash - cases), cases, given,
             strstr(given, ".json") != NULL ? "" : ".json");
    return stat(buf, &st) == 0 ? buf : given;
}

/* ---- option parsing ---- */

/* A number in (0, max]: the form of --timeout, --rate and --wait-ready. */
static bool positive_upto(const char *s, double max, double *out)
{
    char *end = NULL;

    errno = 0;
    *out = strtod(s, &end);
    return errno == 0 && end != s && *end == '\0' && *out > 0 && *out <= max;
}

static int parse_args(int argc, char **argv, struct cli *o)
{
    enum {
        O_TARGET = 256,
        O_PROFILE,
        O_CASES,
        O_EDITION,
        O_ONLY,
        O_SKIP,
        O_VARIANTS,
        O_RERUN,
        O_BASELINE,
        O_WRITE_BASELINE,
        O_JUNIT,
        O_JSON,
        O_HTML,
        O_REPORT_DIR,
        O_TIMEOUT,
        O_SEED,
        O_LIST,
        O_STRICT,
        O_NDJSON,
        O_RETRIES,
        O_RATE,
        O_WAIT_READY,
        O_SARIF,
        O_MAX_RESPONSE_MS,
        O_FULL_TRANSCRIPTS,
        O_CHECK_FIXTURES,
    };
    static const struct option longopts[] = {
        {"target", required_argument, NULL, O_TARGET},
        {"profile", required_argument, NULL, O_PROFILE},
        {"cases", required_argument, NULL, O_CASES},
        {"edition", required_argument, NULL, O_EDITION},
        {"only", required_argument, NULL, O_ONLY},
        {"skip", required_argument, NULL, O_SKIP},
        {"variants", required_argument, NULL, O_VARIANTS},
        {"rerun-failed", required_argument, NULL, O_RERUN},
        {"baseline", required_argument, NULL, O_BASELINE},
        {"write-baseline", required_argument, NULL, O_WRITE_BASELINE},
        {"junit", required_argument, NULL, O_JUNIT},
        {"json", required_argument, NULL, O_JSON},
        {"html", required_argument, NULL, O_HTML},
        {"report-dir", required_argument, NULL, O_REPORT_DIR},
        {"ndjson", required_argument, NULL, O_NDJSON},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"retries", required_argument, NULL, O_RETRIES},
        {"rate", required_argument, NULL, O_RATE},
        {"sarif", required_argument, NULL, O_SARIF},
        {"wait-ready", required_argument, NULL, O_WAIT_READY},
        {"seed", required_argument, NULL, O_SEED},
        {"max-response-ms", required_argument, NULL, O_MAX_RESPONSE_MS},
        {"full-transcripts", no_argument, NULL, O_FULL_TRANSCRIPTS},
        {"list", no_argument, NULL, O_LIST},
        {"check-fixtures", no_argument, NULL, O_CHECK_FIXTURES},
        {"strict", no_argument, NULL, O_STRICT},
        {"jobs", required_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    memset(o, 0, sizeof(*o));
    o->jobs = 0;
    o->timeout_s = 10;
    o->retries = -1;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "j:qvh", longopts, NULL)) != -1) {
        char *end = NULL;

        switch (ch) {
        case O_TARGET:
            o->target = optarg;
            break;
        case O_PROFILE:
            o->profile = optarg;
            break;
        case O_CASES:
            o->cases = optarg;
            break;
        case O_EDITION:
            o->edition = optarg;
            break;
        case O_ONLY:
        case O_SKIP:
            if ((ch == O_ONLY ? o->only_count : o->skip_count) >= MAX_PATTERNS) {
                fprintf(stderr, "aipa conform: at most %d --only/--skip patterns each\n",
                        MAX_PATTERNS);
                return 2;
            }
            if (ch == O_ONLY) {
                o->only[o->only_count++] = optarg;
            } else {
                o->skip[o->skip_count++] = optarg;
            }
            break;
        case O_VARIANTS:
            o->variants = optarg;
            break;
        case O_RERUN:
            o->rerun = optarg;
            break;
        case O_BASELINE:
            o->baseline = optarg;
            break;
        case O_WRITE_BASELINE:
            o->write_baseline = optarg;
            break;
        case O_JUNIT:
            o->junit = optarg;
            break;
        case O_JSON:
            o->json = optarg;
            break;
        case O_HTML:
            o->html = optarg;
            break;
        case O_SARIF:
            o->sarif = optarg;
            break;
        case O_REPORT_DIR:
            o->report_dir = optarg;
            break;
        case O_NDJSON:
            o->ndjson = optarg;
            break;
        case O_TIMEOUT:
            if (!positive_upto(optarg, 600, &o->timeout_s)) {
                fprintf(stderr, "aipa conform: --timeout takes seconds, 0 < s <= 600\n");
                return 2;
            }
            break;
        case O_RETRIES:
            errno = 0;
            o->retries = strtol(optarg, &end, 10);
            if (errno != 0 || end == optarg || *end != '\0' || o->retries < 0 || o->retries > 20) {
                fprintf(stderr, "aipa conform: --retries takes 0 to 20\n");
                return 2;
            }
            break;
        case O_RATE:
            if (!positive_upto(optarg, 100000, &o->rate)) {
                fprintf(stderr, "aipa conform: --rate takes requests per second, 0 < r <= "
                                "100000\n");
                return 2;
            }
            break;
        case O_WAIT_READY:
            if (!positive_upto(optarg, 3600, &o->wait_ready_s)) {
                fprintf(stderr, "aipa conform: --wait-ready takes seconds, 0 < s <= 3600\n");
                return 2;
            }
            break;
        case O_SEED:
            errno = 0;
            o->seed = strtoull(optarg, &end, 10);
            o->seed_set = true;
            if (errno != 0 || end == optarg || *end != '\0') {
                fprintf(stderr, "aipa conform: --seed takes an unsigned integer\n");
                return 2;
            }
            break;
        case O_MAX_RESPONSE_MS:
            if (!positive_upto(optarg, 3600000, &o->max_response_ms)) {
                fprintf(stderr, "aipa conform: --max-response-ms takes milliseconds, 0 < ms <= "
                                "3600000\n");
                return 2;
            }
            break;
        case O_FULL_TRANSCRIPTS:
            o->full_transcripts = true;
            break;
        case O_LIST:
            o->list = true;
            break;
        case O_CHECK_FIXTURES:
            o->check_fixtures = true;
            break;
        case O_STRICT:
            o->strict = true;
            break;
        case 'j': {
            unsigned long j;

            errno = 0;
            j = strtoul(optarg, &end, 10);
            if (errno != 0 || end == optarg || *end != '\0' || j < 1 || j > 64) {
                fprintf(stderr, "aipa conform: -j takes 1..64\n");
                return 2;
            }
            o->jobs = (unsigned)j;
            break;
        }
        case 'q':
            o->quiet = true;
            break;
        case 'v':
            o->verbose = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "aipa conform: unknown or incomplete option '%s'\n\n",
                    argv[optind - 1]);
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "aipa conform: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    return -1;
}

/* ---- listing ---- */

static void list_cases(const struct aipa_suite *s, const struct cli *o)
{
    size_t n = 0;

    for (size_t i = 0; i < s->count; i++) {
        const struct aipa_case *c = s->cases[i];
        bool any = o->only_count == 0;

        for (size_t k = 0; !any && k < o->only_count; k++) {
            any = aipa_case_matches(c, o->only[k]);
        }
        for (size_t k = 0; any && k < o->skip_count; k++) {
            any = !aipa_case_matches(c, o->skip[k]);
        }
        if (!any) {
            continue;
        }
        n++;
        printf("%-60s %-6s %s%s%s", c->id, c->level == AIPA_LEVEL_MUST ? "MUST" : "SHOULD",
               (c->editions & AIPA_ED_2018) ? "2018" : "", c->editions == AIPA_ED_ALL ? "," : "",
               (c->editions & AIPA_ED_2024) ? "2024" : "");
        for (size_t t = 0; t < c->tag_count; t++) {
            printf("%s%s", t == 0 ? "  tags:" : ",", c->tags[t]);
        }
        if (c->disabled != NULL) {
            printf("  (disabled: %s)", c->disabled);
        }
        printf("\n    %s\n", c->title);
    }
    printf("%zu case(s)\n", n);
}

/* ---- reports ---- */

static int write_reports(const struct cli *o, const struct aipa_report *rep)
{
    struct {
        const char *path;
        const char *dir_name;
        aipa_err (*fn)(const struct aipa_report *, struct aipa_buf *);
    } outs[] = {
        {o->junit, "junit.xml", aipa_report_write_junit},
        {o->json, "report.json", aipa_report_write_json},
        {o->html, "report.html", aipa_report_write_html},
        {o->sarif, "report.sarif", aipa_report_write_sarif},
    };
    int rc = 0;

    if (o->report_dir != NULL && mkdir(o->report_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "aipa conform: %s: %s\n", o->report_dir, strerror(errno));
        return 2;
    }
    for (size_t k = 0; k < 2 * AIPA_ARRAY_LEN(outs); k++) {
        size_t i = k % AIPA_ARRAY_LEN(outs);
        struct aipa_buf body, err, path;
        aipa_err e;

        aipa_buf_init(&path, PATH_MAX);
        if (k < AIPA_ARRAY_LEN(outs)) {
            if (outs[i].path == NULL) {
                continue;
            }
            e = aipa_buf_puts(&path, outs[i].path);
        } else {
            if (o->report_dir == NULL) {
                continue;
            }
            e = aipa_buf_printf(&path, "%s/%s", o->report_dir, outs[i].dir_name);
        }
        aipa_buf_init(&body, 1024u * 1024u * 1024u);
        aipa_buf_init(&err, 4096);
        if (e == AIPA_OK) {
            e = outs[i].fn(rep, &body);
        }
        if (e == AIPA_OK) {
            e = aipa_write_file(path.ptr, &body, &err);
        }
        if (e != AIPA_OK) {
            fprintf(stderr, "aipa conform: writing %s: %s\n", path.ptr != NULL ? path.ptr : "?",
                    err.ptr != NULL ? err.ptr : aipa_strerror(e));
            rc = 2;
        }
        aipa_buf_cleanup(&body);
        aipa_buf_cleanup(&err);
        aipa_buf_cleanup(&path);
    }
    if (o->write_baseline != NULL) {
        struct aipa_buf body, err;

        aipa_buf_init(&body, 256u * 1024u * 1024u);
        aipa_buf_init(&err, 4096);
        if (aipa_baseline_write(rep, &body) != AIPA_OK ||
            aipa_write_file(o->write_baseline, &body, &err) != AIPA_OK) {
            fprintf(stderr, "aipa conform: writing %s failed %s\n", o->write_baseline,
                    err.ptr != NULL ? err.ptr : "");
            rc = 2;
        }
        aipa_buf_cleanup(&body);
        aipa_buf_cleanup(&err);
    }
    return rc;
}

/* ---- the embedded reference server ---- */

struct embedded {
    struct aipa_srv *srv;
    char token[33];
    char wl_secret[33];
    char inactive_secret[33];
    char other_secret[33]; /* "other": a key of a second account (OwnerId below) */
    char sts_secret[33];   /* "sts": an STS key, its token valid until 2100 */
    char sts_token[40];
    char old_secret[33]; /* "sts_expired": an STS key whose token has expired */
    char old_token[40];
    char url[64];
};

#define EMBEDDED_OTHER_OWNER "1000000000000002"

static aipa_err embedded_start(struct embedded *em, unsigned edition, uint64_t seed,
                               struct aipa_profile *p, struct aipa_buf *err)
{
    struct aipa_srv_config cfg;
    struct aipa_srv_credential creds[6];

    memset(em, 0, sizeof(*em));
    AIPA_TRY(aipa_client_nonce(em->token));
    AIPA_TRY(aipa_client_nonce(em->wl_secret));
    AIPA_TRY(aipa_client_nonce(em->inactive_secret));
    AIPA_TRY(aipa_client_nonce(em->other_secret));
    AIPA_TRY(aipa_client_nonce(em->sts_secret));
    AIPA_TRY(aipa_client_nonce(em->old_secret));
    AIPA_TRY(aipa_client_nonce(em->sts_token + 4));
    AIPA_TRY(aipa_client_nonce(em->old_token + 4));
    memcpy(em->sts_token, "CAIS", 4);
    memcpy(em->old_token, "CAIS", 4);
    creds[0] = (struct aipa_srv_credential){
        AIPA_DEMO_ACCESS_KEY_ID, AIPA_DEMO_ACCESS_KEY_SECRET, true, false, NULL, NULL, 0};
    creds[1] =
        (struct aipa_srv_credential){"aipa-whitelisted", em->wl_secret, true, true, NULL, NULL, 0};
    creds[2] = (struct aipa_srv_credential){
        "aipa-inactive", em->inactive_secret, false, false, NULL, NULL, 0};
    creds[3] = (struct aipa_srv_credential){
        "aipa-other", em->other_secret, true, false, EMBEDDED_OTHER_OWNER, NULL, 0};
    creds[4] = (struct aipa_srv_credential){"STS.aipa-sts", em->sts_secret, true,      false,
                                            NULL,           em->sts_token,  4102444800 /* 2100 */};
    creds[5] = (struct aipa_srv_credential){
        "STS.aipa-expired", em->old_secret, true, false, NULL, em->old_token, 1};
    aipa_srv_config_defaults(&cfg);
    cfg.listen_addr = "127.0.0.1";
    cfg.port = 0;
    cfg.credentials = creds;
    cfg.credential_count = 6;
    cfg.edition = edition;
    cfg.seed = seed;
    cfg.fixtures = true;
    cfg.fixture_token = em->token;
    cfg.error = err;
    /* The front end's defaults, as `aipa serve` runs; see docs/serve.md. */
    cfg.thread_per_connection = false;
    /* So that http/slow/header-deadline sees the deadline within its run (default 60 s). */
    cfg.header_timeout_ms = 2000;
    AIPA_TRY(aipa_srv_new(&em->srv, &cfg));
    if (aipa_srv_start(em->srv) != AIPA_OK) {
        aipa_srv_free(em->srv);
        em->srv = NULL;
        return AIPA_EIO;
    }
    snprintf(em->url, sizeof(em->url), "http://127.0.0.1:%u", (unsigned)aipa_srv_port(em->srv));
    p->fixture_protocol = true;
    aipa_free(p->fixture_token);
    p->fixture_token = aipa_strdup(em->token);
    aipa_free(p->name);
    p->name = aipa_strdup("embedded reference server");
    if (p->fixture_token == NULL || p->name == NULL) {
        return AIPA_ENOMEM;
    }
    AIPA_TRY(aipa_profile_set_principal(p, "default", AIPA_DEMO_ACCESS_KEY_ID,
                                        AIPA_DEMO_ACCESS_KEY_SECRET));
    AIPA_TRY(aipa_profile_set_principal(p, "whitelisted", "aipa-whitelisted", em->wl_secret));
    AIPA_TRY(aipa_profile_set_principal(p, "inactive", "aipa-inactive", em->inactive_secret));
    AIPA_TRY(aipa_profile_set_principal(p, "other", "aipa-other", em->other_secret));
    AIPA_TRY(aipa_profile_set_principal(p, "sts", "STS.aipa-sts", em->sts_secret));
    AIPA_TRY(aipa_profile_set_token(p, "sts", em->sts_token));
    AIPA_TRY(aipa_profile_set_principal(p, "sts_expired", "STS.aipa-expired", em->old_secret));
    return aipa_profile_set_token(p, "sts_expired", em->old_token);
}

static void embedded_stop(struct embedded *em)
{
    if (em->srv != NULL) {
        aipa_srv_stop(em->srv);
        aipa_srv_free(em->srv);
        em->srv = NULL;
    }
    aipa_memzero(em->token, sizeof(em->token));
    aipa_memzero(em->wl_secret, sizeof(em->wl_secret));
    aipa_memzero(em->inactive_secret, sizeof(em->inactive_secret));
    aipa_memzero(em->other_secret, sizeof(em->other_secret));
    aipa_memzero(em->sts_secret, sizeof(em->sts_secret));
    aipa_memzero(em->old_secret, sizeof(em->old_secret));
    aipa_memzero(em->sts_token, sizeof(em->sts_token));
    aipa_memzero(em->old_token, sizeof(em->old_token));
}

/* ---- --check-fixtures ---- */

/*
 * The target (--target, the profile's, or the embedded reference server in
 * edition 2024-12-20) and its token (the profile's, $AIPA_FIXTURE_TOKEN, or
 * the embedded server's), checked by aipa_fixcheck_run.
 */
static int check_fixtures_main(const struct cli *o)
{
    struct aipa_profile prof;
    struct aipa_fixcheck_opts fo;
    struct aipa_fixcheck_result res;
    struct embedded em;
    struct aipa_buf err;
    const char *target;
    const char *tok = getenv("AIPA_FIXTURE_TOKEN");
    int rc = 2;

    memset(&em, 0, sizeof(em));
    memset(&fo, 0, sizeof(fo));
    aipa_buf_init(&err, 1u << 16);
    if (aipa_profile_init(&prof) != AIPA_OK) {
        fprintf(stderr, "aipa conform: out of memory\n");
        goto out;
    }
    if (o->profile != NULL && aipa_profile_load(&prof, o->profile, &err) != AIPA_OK) {
        fprintf(stderr, "aipa conform: %s\n", err.ptr != NULL ? err.ptr : o->profile);
        goto out;
    }
    target = o->target != NULL ? o->target : prof.target;
    if (target == NULL) {
        if (embedded_start(&em, AIPA_ED_2024, o->seed, &prof, &err) != AIPA_OK) {
            fprintf(stderr, "aipa conform: cannot start the reference server: %s\n",
                    err.ptr != NULL ? err.ptr : "");
            goto out;
        }
        target = em.url;
    } else if (o->wait_ready_s > 0 &&
               aipa_target_wait_ready(target, o->wait_ready_s, &err) != AIPA_OK) {
        fprintf(stderr, "aipa conform: the target is not ready after %g s: %s\n", o->wait_ready_s,
                err.ptr != NULL ? err.ptr : "");
        goto out;
    }
    fo.token = prof.fixture_token != NULL ? prof.fixture_token : tok;
    if (fo.token == NULL || fo.token[0] == '\0') {
        fprintf(stderr, "aipa conform: --check-fixtures needs the fixture token: set "
                        "AIPA_FIXTURE_TOKEN or name it in the profile\n");
        goto out;
    }
    fo.target = target;
    fo.timeout_ms = (long)(o->timeout_s * 1000.0);
    if (aipa_profile_principal(&prof, "default") != NULL) {
        fo.access_key_id = aipa_profile_principal(&prof, "default")->access_key_id;
        fo.access_key_secret = aipa_profile_principal(&prof, "default")->secret;
    } else if (!o->quiet) {
        printf("(no credentials: the two API checks are skipped)\n");
    }
    fo.out = stdout;
    if (!o->quiet) {
        printf("checking the fixture protocol of %s (conformance/FIXTURES.md)\n", target);
    }
    if (aipa_fixcheck_run(&fo, &res) != AIPA_OK) {
        fprintf(stderr, "aipa conform: cannot check %s (bad URL or out of memory)\n", target);
        goto out;
    }
    if (res.unreachable) {
        printf("fixture protocol: %u passed, %u failed, then no answer: %s\n", res.passed,
               res.failed, res.unreachable_why);
        rc = 2;
    } else {
        printf("fixture protocol: %u passed, %u failed\n", res.passed, res.failed);
        rc = res.failed > 0 ? 1 : 0;
    }
out:
    embedded_stop(&em);
    aipa_profile_cleanup(&prof);
    aipa_buf_cleanup(&err);
    return rc;
}

/* ---- main ---- */

/* The baseline applied, the console summary, the reports written: the exit status. */
static int finish(const struct cli *o, struct aipa_baseline *base, struct aipa_report *rep)
{
    int rc, wrc;

    if (o->baseline != NULL && aipa_baseline_apply(base, rep) != AIPA_OK) {
        fprintf(stderr, "aipa conform: out of memory applying the baseline\n");
        return 2;
    }
    aipa_report_print(rep, stdout,
                      o->quiet     ? AIPA_PRINT_QUIET
                      : o->verbose ? AIPA_PRINT_VERBOSE
                                   : AIPA_PRINT_NORMAL);
    rc = aipa_report_exit_code(rep);
    wrc = write_reports(o, rep);
    return wrc > rc ? wrc : rc;
}

/*
 * What the options name besides the cases: the profile (a bare name is the
 * bundled one), the baseline, the report to rerun, the variant selection and
 * the editions. False, said on stderr, on a file or value that is not right.
 */
static bool load_inputs(struct cli *o, const char *cases, char *profile_buf, size_t profile_cap,
                        struct aipa_profile *prof, struct aipa_baseline *base,
                        struct aipa_rerun *rerun, struct aipa_run_opts *ro, unsigned *editions,
                        struct aipa_buf *err)
{
    if (o->profile != NULL) {
        o->profile = find_profile(o->profile, cases, profile_buf, profile_cap);
    }
    if (o->profile != NULL && aipa_profile_load(prof, o->profile, err) != AIPA_OK) {
        fprintf(stderr, "aipa conform: %s\n", err->ptr != NULL ? err->ptr : o->profile);
        return false;
    }
    if (o->baseline != NULL && aipa_baseline_load(base, o->baseline, err) != AIPA_OK) {
        fprintf(stderr, "aipa conform: %s\n", err->ptr != NULL ? err->ptr : o->baseline);
        return false;
    }
    if (o->rerun != NULL && aipa_rerun_load(rerun, o->rerun, err) != AIPA_OK) {
        fprintf(stderr, "aipa conform: %s: %s\n", o->rerun, err->ptr != NULL ? err->ptr : "");
        return false;
    }
    aipa_run_opts_init(ro);
    if (o->variants != NULL &&
        aipa_variant_select_parse(o->variants, &ro->variants, &ro->variant_pick) != AIPA_OK) {
        fprintf(stderr, "aipa conform: --variants: use v1, v3, get, post-query, post-form, xml, "
                        "json or full names like v1-get-xml, comma-separated\n");
        return false;
    }
    if (o->edition != NULL && strcmp(o->edition, "all") == 0) {
        *editions = AIPA_ED_ALL;
    } else if (o->edition != NULL) {
        *editions = aipa_edition_parse(o->edition);
        if (*editions == 0) {
            fprintf(stderr, "aipa conform: --edition: 2018-08-02, 2024-12-20 or all\n");
            return false;
        }
    }
    return true;
}

/*
 * A target of the user's: wait for it if asked, take the fixture token from
 * the environment when no profile says, and settle the editions to check
 * (the option, the profile, the target's /_aipa/info, else 2024-12-20).
 * False, after saying why on stderr, when the run cannot go on.
 */
static bool prepare_target(const struct cli *o, struct aipa_profile *prof, const char *target,
                           unsigned *editions, struct aipa_buf *err)
{
    const char *tok = getenv("AIPA_FIXTURE_TOKEN");

    if (o->wait_ready_s > 0 && aipa_target_wait_ready(target, o->wait_ready_s, err) != AIPA_OK) {
        fprintf(stderr, "aipa conform: the target is not ready after %g s: %s\n", o->wait_ready_s,
                err->ptr != NULL ? err->ptr : "");
        return false;
    }
    if (o->profile == NULL && tok != NULL && tok[0] != '\0') {
        prof->fixture_protocol = true;
        prof->fixture_token = aipa_strdup(tok);
    }
    if (aipa_profile_principal(prof, "default") == NULL) {
        fprintf(stderr, "aipa conform: no credentials: set AIPA_ACCESS_KEY_ID and "
                        "AIPA_ACCESS_KEY_SECRET, or name them in the profile\n");
        return false;
    }
    if (*editions == 0) {
        *editions = prof->edition;
    }
    if (*editions == 0 && prof->fixture_protocol) {
        unsigned ed = 0;

        if (aipa_fixture_info(target, prof->fixture_token, &ed, err) == AIPA_OK) {
            *editions = ed;
        } else {
            fprintf(stderr, "aipa conform: warning: %s\n", err->ptr != NULL ? err->ptr : "");
            aipa_buf_reset(err);
        }
    }
    if (*editions == 0) {
        *editions = AIPA_ED_2024;
        if (!o->quiet) {
            fprintf(stderr, "aipa conform: edition unknown; checking 2024-12-20 (use --edition)\n");
        }
    }
    if (*editions == AIPA_ED_ALL && !prof->fixture_protocol) {
        fprintf(stderr, "aipa conform: --edition all needs the fixture protocol to switch the "
                        "target's edition\n");
        return false;
    }
    return true;
}

/* Runs the suite under each edition in turn (switching the target's with the
 * fixture protocol when there are two). False, said on stderr, on a run that
 * could not happen. */
static bool run_editions(const struct cli *o, const struct aipa_suite *suite,
                         struct aipa_run_opts *ro, unsigned editions, const struct progress *prog,
                         struct aipa_report *rep, struct aipa_buf *err)
{
    for (unsigned ed = AIPA_ED_2018; ed <= AIPA_ED_2024; ed <<= 1) {
        size_t before = rep->count;

        if ((editions & ed) == 0) {
            continue;
        }
        if (editions == AIPA_ED_ALL &&
            aipa_fixture_set_edition(ro->target, ro->profile->fixture_token, ed, err) != AIPA_OK) {
            fprintf(stderr, "aipa conform: cannot switch the edition: %s\n",
                    err->ptr != NULL ? err->ptr : "");
            return false;
        }
        ro->edition = ed;
        if (aipa_run_suite(suite, ro, rep, err) != AIPA_OK) {
            fprintf(stderr, "\naipa conform: %s\n", err->ptr != NULL ? err->ptr : "run failed");
            return false;
        }
        /* Results settled when planned (skips) never reached a worker: stream them too. */
        for (size_t i = before; prog->events != NULL && i < rep->count; i++) {
            if (!rep->items[i].ran) {
                write_event(prog->events, &rep->items[i]);
            }
        }
        if (!o->quiet) {
            struct aipa_counts c;

            aipa_report_counts(rep, ed, &c);
            fprintf(stderr, "%s%s: %zu results, %zu failed or errors (before the baseline)\n",
                    prog->tty ? "\r\033[K" : "", aipa_edition_name(ed), rep->count - before,
                    c.fail_new + c.error);
        }
    }
    return true;
}

/* The run options from the command line and the profile. */
static void fill_run_opts(const struct cli *o, const struct aipa_profile *prof, const char *target,
                          const struct aipa_rerun *rerun, struct progress *prog,
                          struct aipa_run_opts *ro)
{
    ro->profile = prof;
    ro->target = target;
    ro->only = o->only;
    ro->only_count = o->only_count;
    ro->skip = o->skip;
    ro->skip_count = o->skip_count;
    ro->rerun = rerun;
    ro->jobs = o->jobs != 0 ? o->jobs : default_jobs(o, o->target == NULL && prof->target == NULL);
    ro->timeout_ms = (long)(o->timeout_s * 1000.0);
    if (prof->timeout_ms > 0 && o->timeout_s == 10) {
        ro->timeout_ms = prof->timeout_ms;
    }
    ro->rate = o->rate;
    if (o->retries >= 0) {
        ro->throttle_retries = (unsigned)o->retries;
    }
    ro->strict = o->strict;
    ro->max_response_ms = o->max_response_ms;
    /* Passes keep no transcript unless asked: a clean run's report stays small. */
    ro->keep_pass_transcripts = o->full_transcripts;
    ro->progress = on_result;
    ro->progress_ctx = prog;
}

int aipa_conform_main(int argc, char **argv)
{
    struct cli o;
    struct aipa_suite suite;
    struct aipa_profile prof;
    struct aipa_report rep;
    struct aipa_baseline base;
    struct aipa_rerun rerun;
    struct aipa_run_opts ro;
    struct aipa_buf err;
    struct embedded em;
    struct progress prog;
    char cases_buf[PATH_MAX + 64];
    char profile_buf[2 * PATH_MAX];
    const char *cases;
    const char *target = NULL;
    unsigned editions = 0;
    unsigned restore_edition = 0;
    int rc = parse_args(argc, argv, &o);
    bool load_bad = false;
    aipa_err e;

    if (rc >= 0) {
        return rc;
    }
    if (o.check_fixtures) {
        return check_fixtures_main(&o);
    }
    rc = 2;
    memset(&prog, 0, sizeof(prog));
    aipa_suite_init(&suite);
    aipa_report_init(&rep);
    memset(&base, 0, sizeof(base));
    memset(&rerun, 0, sizeof(rerun));
    memset(&em, 0, sizeof(em));
    aipa_buf_init(&err, 1u << 20);
    if (aipa_profile_init(&prof) != AIPA_OK) {
        fprintf(stderr, "aipa conform: out of memory\n");
        goto out;
    }

    cases = o.cases != NULL ? o.cases : default_cases(cases_buf, sizeof(cases_buf));
    if (cases == NULL) {
        fprintf(stderr, "aipa conform: no case directory found; pass --cases DIR or set "
                        "AIPA_CASES\n");
        goto out;
    }
    e = aipa_suite_load(&suite, cases, &err);
    if (e != AIPA_OK) {
        fprintf(stderr, "aipa conform: bad case files (they are not run):\n%s",
                err.ptr != NULL ? err.ptr : "");
        load_bad = true;
        if (e != AIPA_EPARSE) {
            goto out;
        }
        aipa_buf_reset(&err);
    }
    if (o.list) {
        list_cases(&suite, &o);
        rc = load_bad ? 2 : 0;
        goto out;
    }
    if (!load_inputs(&o, cases, profile_buf, sizeof(profile_buf), &prof, &base, &rerun, &ro,
                     &editions, &err)) {
        goto out;
    }

    target = o.target != NULL ? o.target : prof.target;
    if (target == NULL) {
        /* The embedded default: the reference server on an ephemeral loopback port. */
        if (editions == 0) {
            editions = AIPA_ED_ALL;
        }
        /* Every embedded run has a seed, so that its rerun lines repeat it. */
        if (!o.seed_set && getrandom(&o.seed, sizeof(o.seed), 0) != (ssize_t)sizeof(o.seed)) {
            o.seed = (unsigned long long)time(NULL) ^ (unsigned long long)getpid();
        }
        rep.embedded = true;
        rep.seed = o.seed;
        if (embedded_start(&em, (editions & AIPA_ED_2018) ? AIPA_ED_2018 : AIPA_ED_2024, o.seed,
                           &prof, &err) != AIPA_OK) {
            fprintf(stderr, "aipa conform: cannot start the reference server: %s\n",
                    err.ptr != NULL ? err.ptr : "");
            goto out;
        }
        target = em.url;
    } else if (!prepare_target(&o, &prof, target, &editions, &err)) {
        goto out;
    }

    if (o.ndjson != NULL) {
        prog.events = strcmp(o.ndjson, "-") == 0 ? stdout : fopen(o.ndjson, "w");
        if (prog.events == NULL) {
            fprintf(stderr, "aipa conform: %s: %s\n", o.ndjson, strerror(errno));
            goto out;
        }
    }
    rep.target = aipa_strdup(target);
    rep.profile = aipa_strdup(prof.name != NULL ? prof.name : "default");
    rep.started = (double)time(NULL);
    rep.profile_path = o.profile != NULL ? aipa_strdup(o.profile) : NULL;
    rep.full_transcripts = o.full_transcripts;
    rep.max_response_ms = o.max_response_ms;
    prog.tty = isatty(STDERR_FILENO) != 0;
    prog.quiet = o.quiet;
    fill_run_opts(&o, &prof, target, o.rerun != NULL ? &rerun : NULL, &prog, &ro);
    /* A target whose edition we switch gets its own edition back afterwards. */
    if (editions == AIPA_ED_ALL && em.srv == NULL &&
        aipa_fixture_info(target, prof.fixture_token, &restore_edition, &err) != AIPA_OK) {
        restore_edition = 0;
        aipa_buf_reset(&err);
    }
    if (!run_editions(&o, &suite, &ro, editions, &prog, &rep, &err)) {
        goto out;
    }
    if (restore_edition != 0 &&
        aipa_fixture_set_edition(target, prof.fixture_token, restore_edition, &err) != AIPA_OK) {
        fprintf(stderr, "aipa conform: warning: could not restore the target's edition: %s\n",
                err.ptr != NULL ? err.ptr : "");
        aipa_buf_reset(&err);
    }
    rc = finish(&o, &base, &rep);
    if (load_bad) {
        rc = 2;
    }
out:
    if (prog.events != NULL && prog.events != stdout) {
        fclose(prog.events);
    }
    embedded_stop(&em);
    aipa_report_cleanup(&rep);
    aipa_baseline_cleanup(&base);
    aipa_rerun_cleanup(&rerun);
    aipa_suite_cleanup(&suite);
    aipa_profile_cleanup(&prof);
    aipa_buf_cleanup(&err);
    return rc;
}
