/*
 * livefuzz_main.c: the `aipa fuzz` command line (docs/livefuzz.md is its manual).
 */
#include "aipa/client.h"
#include "aipa/errors.h"
#include "aipa/livefuzz.h"
#include "aipa/server.h"
#include "aipa/transport.h"
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_LIST 64

static const char usage[] =
    "usage: aipa fuzz [--target URL] [options]\n"
    "\n"
    "Live and differential fuzzing of an AllocatePublicIpAddress endpoint. Requests come\n"
    "from the API's grammar (the six served actions and unknown ones, dictionaries,\n"
    "conformance cases, boundary values) with stacked seeded mutations; every response\n"
    "is judged by the oracles and, through the fixture protocol, against the in-process\n"
    "reference model started from the same state. Each distinct finding (oracle, status,\n"
    "Code) is minimized and saved as a case file that `aipa conform --cases DIR` replays.\n"
    "\n"
    "  --target URL          endpoint, e.g. http://127.0.0.1:8080 (default: an embedded\n"
    "                        reference server on an ephemeral loopback port)\n"
    "  --allow-remote        allow a target that is not a loopback address\n"
    "  --requests N          fuzz requests to send (default 1000; with --time alone:\n"
    "                        no request limit)\n"
    "  --time S              stop after S seconds (default 60)\n"
    "  --rate R              at most R requests per second (default: unpaced)\n"
    "  --seed N              generator seed (default 1); same seed and same target\n"
    "                        behaviour give the same requests\n"
    "  --seq-len K           requests per sequence between fixture resets (default 64)\n"
    "  --jobs N              N parallel workers (default 1), each with its own\n"
    "                        connection, reference model, generator (worker i: seed\n"
    "                        + i * 0x9e3779b97f4a7c15, so --seed repeats per worker)\n"
    "                        and fixture instances, created with IDs of its own. The\n"
    "                        target is reset at the start and then only when every\n"
    "                        worker meets (see --reset-every); requests naming an\n"
    "                        instance of the seed state are not sent; nearly empty\n"
    "                        address pools are tried with one job only. --requests\n"
    "                        and --rate are shared among the workers\n"
    "  --reset-every K       with --jobs: reset the shared target after K sequences in\n"
    "                        all (default 1000; ~10 addresses leave the pool a sequence)\n"
    "  --timeout-ms MS       per-request timeout; no answer is a 'timeout' finding\n"
    "                        (default 5000)\n"
    "  --token T             fixture protocol token (X-Aipa-Token; default\n"
    "                        $AIPA_FIXTURE_TOKEN)\n"
    "  --no-fixtures         the target has no fixture protocol: no resets, no\n"
    "                        differential oracle\n"
    "  --instance ID         with --no-fixtures: an existing instance for ${vmN}\n"
    "                        (repeatable)\n"
    "  --no-diff             keep the fixture protocol but skip the differential oracle\n"
    "  --edition ED          2018-08-02 or 2024-12-20: switch the target to it (default:\n"
    "                        the target's own, read from /_aipa/info)\n"
    "  --access-key-id ID    default $AIPA_ACCESS_KEY_ID, else the demo key 'testid'\n"
    "  --whitelisted         the key may pass IpAddress (tells the reference model)\n"
    "  --dict FILE           libFuzzer/AFL dictionary of extra names and values\n"
    "                        (repeatable; default: fuzz/*.dict of the source tree)\n"
    "  --seed-cases DIR      take names and values from the case files under DIR\n"
    "                        (repeatable; default: conformance/cases of the source tree)\n"
    "";

/* The rest (one string would pass the 4095 bytes C99 promises). */
static const char usage_more[] =
    "  --strict              the differential oracle accepts the reference's strict answer\n"
    "                        only, not the alternatives of the latitude table (`aipa\n"
    "                        latitude`)\n"
    "  --allow-transient     without fixtures: a documented transient answer (500\n"
    "                        InternalError, 503 ServiceUnavailable, ...) is not a\n"
    "                        server-error finding\n"
    "  --max-response-ms N   an answer slower than N ms is a 'slow' finding (default: off)\n"
    "  --no-minimize         report findings as found, without minimizing them\n"
    "  --min-budget N        replays spent minimizing one finding (default 300)\n"
    "  --out DIR             write DIR/findings.json, DIR/findings.sarif, DIR/cases/\n"
    "  --json FILE           findings as JSON\n"
    "  --sarif FILE          findings as SARIF 2.1.0 (one result per bucket)\n"
    "  --cases DIR           case files, one per finding, under DIR/found/\n"
    "  --framing             probes of the HTTP layer instead (docs/livefuzz.md)\n"
    "  --quiet               no progress lines\n"
    "  --verbose             a line for each new finding as it is hit\n"
    "  --help                this text\n"
    "\n"
    "The secret is read from $AIPA_ACCESS_KEY_SECRET (default: the demo 'testsecret'),\n"
    "and an STS token from $AIPA_SECURITY_TOKEN (sent with every request).\n"
    "Exit status: 0 no findings, 1 findings, 2 usage, configuration or harness error.\n";

enum {
    OPT_TARGET = 256,
    OPT_ALLOW_REMOTE,
    OPT_REQUESTS,
    OPT_TIME,
    OPT_RATE,
    OPT_SEED,
    OPT_SEQ_LEN,
    OPT_JOBS,
    OPT_RESET_EVERY,
    OPT_TIMEOUT,
    OPT_TOKEN,
    OPT_NO_FIXTURES,
    OPT_INSTANCE,
    OPT_NO_DIFF,
    OPT_EDITION,
    OPT_AKID,
    OPT_WHITELISTED,
    OPT_DICT,
    OPT_SEED_CASES,
    OPT_NO_MINIMIZE,
    OPT_STRICT,
    OPT_ALLOW_TRANSIENT,
    OPT_MAX_RESPONSE_MS,
    OPT_MIN_BUDGET,
    OPT_OUT,
    OPT_JSON,
    OPT_SARIF,
    OPT_CASES,
    OPT_QUIET,
    OPT_VERBOSE,
    OPT_FRAMING,
    OPT_HELP,
};

static const struct option long_opts[] = {
    {"target", required_argument, NULL, OPT_TARGET},
    {"allow-remote", no_argument, NULL, OPT_ALLOW_REMOTE},
    {"requests", required_argument, NULL, OPT_REQUESTS},
    {"time", required_argument, NULL, OPT_TIME},
    {"rate", required_argument, NULL, OPT_RATE},
    {"seed", required_argument, NULL, OPT_SEED},
    {"seq-len", required_argument, NULL, OPT_SEQ_LEN},
    {"jobs", required_argument, NULL, OPT_JOBS},
    {"reset-every", required_argument, NULL, OPT_RESET_EVERY},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
    {"token", required_argument, NULL, OPT_TOKEN},
    {"no-fixtures", no_argument, NULL, OPT_NO_FIXTURES},
    {"instance", required_argument, NULL, OPT_INSTANCE},
    {"no-diff", no_argument, NULL, OPT_NO_DIFF},
    {"edition", required_argument, NULL, OPT_EDITION},
    {"access-key-id", required_argument, NULL, OPT_AKID},
    {"whitelisted", no_argument, NULL, OPT_WHITELISTED},
    {"dict", required_argument, NULL, OPT_DICT},
    {"seed-cases", required_argument, NULL, OPT_SEED_CASES},
    {"no-minimize", no_argument, NULL, OPT_NO_MINIMIZE},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"allow-transient", no_argument, NULL, OPT_ALLOW_TRANSIENT},
    {"max-response-ms", required_argument, NULL, OPT_MAX_RESPONSE_MS},
    {"min-budget", required_argument, NULL, OPT_MIN_BUDGET},
    {"out", required_argument, NULL, OPT_OUT},
    {"json", required_argument, NULL, OPT_JSON},
    {"sarif", required_argument, NULL, OPT_SARIF},
    {"cases", required_argument, NULL, OPT_CASES},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"framing", no_argument, NULL, OPT_FRAMING},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;

    if (s == NULL || *s == '\0' || *s == '-') {
        return false;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

static bool parse_double(const char *s, double min, double max, double *out)
{
    char *end = NULL;
    double v;

    if (s == NULL || *s == '\0') {
        return false;
    }
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= min) || !(v <= max)) {
        return false;
    }
    *out = v;
    return true;
}

static bool is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int bad(const char *opt, const char *val)
{
    fprintf(stderr, "aipa fuzz: bad value for --%s: '%s'\n(see aipa fuzz --help)\n", opt,
            val != NULL ? val : "");
    return 2;
}

/* True when the URL's host is a loopback name or address. */
static bool loopback_url(const char *url)
{
    struct aipa_url u;
    bool yes;

    memset(&u, 0, sizeof(u));
    yes = aipa_url_parse(url, &u) == AIPA_OK && aipa_lf_host_is_loopback(u.host);
    aipa_url_cleanup(&u);
    return yes;
}

/* --framing: the probes of livefuzz_framing.c, against the target or an embedded server. */
static int framing_main(const struct aipa_lf_config *cfg)
{
    struct aipa_lf_framing_config fc;
    struct aipa_lf_framing_stats st;
    struct aipa_srv_config sc;
    struct aipa_srv *srv = NULL;
    char url[64];
    int status;

    memset(&fc, 0, sizeof(fc));
    fc.target = cfg->target;
    if (fc.target == NULL) {
        aipa_srv_config_defaults(&sc);
        if (aipa_srv_new(&srv, &sc) != AIPA_OK || aipa_srv_start(srv) != AIPA_OK) {
            fprintf(stderr, "aipa fuzz: the embedded reference server did not start\n");
            aipa_srv_free(srv);
            return 2;
        }
        snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)aipa_srv_port(srv));
        fc.target = url;
    } else if (!cfg->allow_remote && !loopback_url(fc.target)) {
        fprintf(stderr, "aipa fuzz: %s is not a loopback address (--allow-remote)\n", fc.target);
        return 2;
    }
    fc.probes = cfg->requests;
    fc.time_s = cfg->time_s;
    fc.seed = cfg->seed;
    /* Loopback answers come in well under this; a sane target also closes at once. */
    fc.wait_ms = cfg->timeout_ms > 0 && cfg->timeout_ms < 500 ? (unsigned)cfg->timeout_ms : 500;
    fc.out_dir = cfg->out_dir;
    fc.progress = cfg->progress;
    status = aipa_lf_framing_run(&fc, &st);
    aipa_srv_free(srv);
    return status;
}

/*
 * Without --target: a reference server of its own on an ephemeral loopback
 * port, with the fixture protocol under a fresh token, as the target.
 */
struct embedded {
    struct aipa_srv *srv;
    char token[40];
    char url[64];
};

static aipa_err start_embedded(struct embedded *em, struct aipa_lf_config *cfg)
{
    struct aipa_srv_config sc;
    char nonce[33];

    if (cfg->token == NULL) {
        AIPA_TRY(aipa_client_nonce(nonce));
        snprintf(em->token, sizeof(em->token), "fuzz-%.16s", nonce);
        cfg->token = em->token;
    }
    aipa_srv_config_defaults(&sc);
    sc.listen_addr = "127.0.0.1";
    sc.port = 0;
    sc.fixtures = true;
    sc.fixture_token = cfg->token;
    sc.seed = cfg->seed;
    sc.edition = cfg->edition != 0 ? cfg->edition : AIPA_ED_2024;
    sc.threads = 1;
    AIPA_TRY(aipa_srv_new(&em->srv, &sc));
    AIPA_TRY(aipa_srv_start(em->srv));
    snprintf(em->url, sizeof(em->url), "http://127.0.0.1:%u", (unsigned)aipa_srv_port(em->srv));
    cfg->target = em->url;
    cfg->embedded = true;
    return AIPA_OK;
}

static void stop_embedded(struct embedded *em)
{
    if (em->srv != NULL) {
        aipa_srv_stop(em->srv);
        aipa_srv_free(em->srv);
        em->srv = NULL;
    }
}

/* What aipa fuzz's command line gives, before the run's defaults are filled in. */
struct fuzz_args {
    struct aipa_lf_config cfg;
    const char *dicts[MAX_LIST];
    size_t dict_n;
    const char *case_dirs[MAX_LIST];
    size_t case_n;
    const char *instances[AIPA_LF_MAX_FIXTURES];
    size_t inst_n;
    bool quiet;
    bool framing;
    bool requests_set, time_set;
};

/* A numeric option: -1 when taken, 2 for a bad value, 0 when c is not one. */
static int take_number(int c, struct fuzz_args *a)
{
    uint64_t u;

    switch (c) {
    case OPT_REQUESTS:
        if (!parse_u64(optarg, 0, UINT64_MAX / 2, &a->cfg.requests)) {
            return bad("requests", optarg);
        }
        a->requests_set = true;
        return -1;
    case OPT_TIME:
        if (!parse_double(optarg, 0.0, 1e9, &a->cfg.time_s)) {
            return bad("time", optarg);
        }
        a->time_set = true;
        return -1;
    case OPT_RATE:
        if (!parse_double(optarg, 0.0, 1e9, &a->cfg.rate)) {
            return bad("rate", optarg);
        }
        return -1;
    case OPT_SEED:
        if (!parse_u64(optarg, 0, UINT64_MAX, &a->cfg.seed)) {
            return bad("seed", optarg);
        }
        return -1;
    case OPT_JOBS:
        if (!parse_u64(optarg, 1, AIPA_LF_MAX_JOBS, &u)) {
            return bad("jobs", optarg);
        }
        a->cfg.jobs = (unsigned)u;
        return -1;
    case OPT_RESET_EVERY:
        if (!parse_u64(optarg, 1, 1000000, &a->cfg.reset_every)) {
            return bad("reset-every", optarg);
        }
        return -1;
    case OPT_SEQ_LEN:
        if (!parse_u64(optarg, 1, 64, &u)) {
            return bad("seq-len", optarg);
        }
        a->cfg.seq_len = (size_t)u;
        return -1;
    case OPT_TIMEOUT:
        if (!parse_u64(optarg, 1, 3600000, &u)) {
            return bad("timeout-ms", optarg);
        }
        a->cfg.timeout_ms = (long)u;
        return -1;
    case OPT_MIN_BUDGET:
        if (!parse_u64(optarg, 1, 100000, &u)) {
            return bad("min-budget", optarg);
        }
        a->cfg.min_budget = (size_t)u;
        return -1;
    case OPT_MAX_RESPONSE_MS:
        if (!parse_u64(optarg, 1, 3600000, &u)) {
            return bad("max-response-ms", optarg);
        }
        a->cfg.max_response_ms = (long)u;
        return -1;
    default:
        return 0;
    }
}

/* Any other option: -1 when taken, else the exit status (2: unknown or bad). */
static int take_option(int c, char **argv, struct fuzz_args *a)
{
    switch (c) {
    case OPT_TARGET:
        a->cfg.target = optarg;
        return -1;
    case OPT_ALLOW_REMOTE:
        a->cfg.allow_remote = true;
        return -1;
    case OPT_TOKEN:
        a->cfg.token = optarg;
        return -1;
    case OPT_NO_FIXTURES:
        a->cfg.fixtures = false;
        a->cfg.diff = false;
        return -1;
    case OPT_INSTANCE:
        if (a->inst_n >= AIPA_LF_MAX_FIXTURES) {
            return bad("instance", "too many (16 at most)");
        }
        a->instances[a->inst_n++] = optarg;
        return -1;
    case OPT_NO_DIFF:
        a->cfg.diff = false;
        return -1;
    case OPT_EDITION:
        a->cfg.edition = aipa_edition_parse(optarg);
        if (a->cfg.edition == 0) {
            return bad("edition", optarg);
        }
        return -1;
    case OPT_AKID:
        a->cfg.access_key_id = optarg;
        return -1;
    case OPT_WHITELISTED:
        a->cfg.whitelisted = true;
        return -1;
    case OPT_DICT:
        if (a->dict_n >= MAX_LIST || !is_file(optarg)) {
            return bad("dict", optarg);
        }
        a->dicts[a->dict_n++] = optarg;
        return -1;
    case OPT_SEED_CASES:
        if (a->case_n >= MAX_LIST || !is_dir(optarg)) {
            return bad("seed-cases", optarg);
        }
        a->case_dirs[a->case_n++] = optarg;
        return -1;
    case OPT_NO_MINIMIZE:
        a->cfg.minimize = false;
        return -1;
    case OPT_STRICT:
        a->cfg.strict = true;
        return -1;
    case OPT_ALLOW_TRANSIENT:
        a->cfg.allow_transient = true;
        return -1;
    case OPT_OUT:
        a->cfg.out_dir = optarg;
        return -1;
    case OPT_JSON:
        a->cfg.json_path = optarg;
        return -1;
    case OPT_SARIF:
        a->cfg.sarif_path = optarg;
        return -1;
    case OPT_CASES:
        a->cfg.cases_dir = optarg;
        return -1;
    case OPT_QUIET:
        a->quiet = true;
        return -1;
    case OPT_VERBOSE:
        a->cfg.verbose = true;
        return -1;
    case OPT_FRAMING:
        a->framing = true;
        return -1;
    case OPT_HELP:
        fputs(usage, stdout);
        fputs(usage_more, stdout);
        return 0;
    case ':':
        fprintf(stderr, "aipa fuzz: %s needs a value\n(see aipa fuzz --help)\n", argv[optind - 1]);
        return 2;
    default:
        fprintf(stderr, "aipa fuzz: unknown option '%s'\n(see aipa fuzz --help)\n",
                argv[optind - 1]);
        return 2;
    }
}

/* The options, then their checks: -1 to run, else the exit status. */
static int parse_fuzz_args(int argc, char **argv, struct fuzz_args *a)
{
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", long_opts, NULL)) != -1) {
        int st = take_number(c, a);

        if (st == 0) {
            st = take_option(c, argv, a);
        }
        if (st != -1) {
            return st;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "aipa fuzz: unexpected argument '%s'\n(see aipa fuzz --help)\n",
                argv[optind]);
        return 2;
    }
    if (a->inst_n > 0 && a->cfg.fixtures) {
        fprintf(stderr, "aipa fuzz: --instance needs --no-fixtures\n");
        return 2;
    }
    if (a->cfg.target == NULL && !a->cfg.fixtures) {
        fprintf(stderr, "aipa fuzz: the embedded server always has the fixture protocol\n");
        return 2;
    }
    if (a->time_set && !a->requests_set) {
        a->cfg.requests = UINT64_MAX / 2; /* --time alone bounds the run */
    }
    return -1;
}

/* The source tree's dictionaries and cases, when none were given and they are there. */
static void source_defaults(struct fuzz_args *a, glob_t *dict_glob, char *cases, size_t cases_cap)
{
#ifdef AIPA_SOURCE_DIR
    if (a->dict_n == 0) {
        char pattern[1024];
        snprintf(pattern, sizeof(pattern), "%s/fuzz/*.dict", AIPA_SOURCE_DIR);
        if (glob(pattern, 0, NULL, dict_glob) == 0) {
            for (size_t i = 0; i < dict_glob->gl_pathc && a->dict_n < MAX_LIST; i++) {
                a->dicts[a->dict_n++] = dict_glob->gl_pathv[i];
            }
        }
    }
    if (a->case_n == 0) {
        snprintf(cases, cases_cap, "%s/conformance/cases", AIPA_SOURCE_DIR);
        if (is_dir(cases)) {
            a->case_dirs[a->case_n++] = cases;
        }
    }
#else
    (void)a;
    (void)dict_glob;
    (void)cases;
    (void)cases_cap;
#endif
}

/* The four environment variables, each taken only when set and not empty. */
static void from_environment(struct aipa_lf_config *cfg)
{
    const char *v;

    if ((v = getenv("AIPA_FIXTURE_TOKEN")) != NULL && v[0] != '\0') {
        cfg->token = v;
    }
    if ((v = getenv("AIPA_ACCESS_KEY_ID")) != NULL && v[0] != '\0') {
        cfg->access_key_id = v;
    }
    if ((v = getenv("AIPA_ACCESS_KEY_SECRET")) != NULL && v[0] != '\0') {
        cfg->access_key_secret = v;
    }
    if ((v = getenv("AIPA_SECURITY_TOKEN")) != NULL && v[0] != '\0') {
        cfg->security_token = v;
    }
}

int aipa_fuzz_main(int argc, char **argv)
{
    struct embedded em;
    struct fuzz_args a;
    glob_t dict_glob;
    int status;
    char default_cases[1024];

    memset(&dict_glob, 0, sizeof(dict_glob));
    memset(&em, 0, sizeof(em));
    memset(&a, 0, sizeof(a));
    aipa_lf_config_defaults(&a.cfg);
    a.cfg.argv0 = "aipa";
    from_environment(&a.cfg);
    status = parse_fuzz_args(argc, argv, &a);
    if (status != -1) {
        return status;
    }
    a.cfg.instances = a.instances;
    a.cfg.instance_count = a.inst_n;
    source_defaults(&a, &dict_glob, default_cases, sizeof(default_cases));
    a.cfg.dicts = a.dicts;
    a.cfg.dict_count = a.dict_n;
    a.cfg.seed_case_dirs = a.case_dirs;
    a.cfg.seed_case_dir_count = a.case_n;
    a.cfg.progress = a.quiet ? NULL : stderr;
    if (a.framing) {
        globfree(&dict_glob);
        return framing_main(&a.cfg);
    }
    if (a.cfg.target == NULL && start_embedded(&em, &a.cfg) != AIPA_OK) {
        fprintf(stderr, "aipa fuzz: could not start the embedded reference server\n");
        status = 2;
    } else {
        status = aipa_lf_run(&a.cfg, NULL);
    }
    stop_embedded(&em);
    globfree(&dict_glob);
    return status;
}
