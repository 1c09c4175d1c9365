/*
 * serve_main.c: `aipa serve`, the reference server's command line
 * (docs/serve.md is its manual).
 */
#include "aipa/server.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define MAX_FILE        (64u * 1024u * 1024u)
#define MAX_CREDENTIALS 1024u

static const char usage[] =
    "usage: aipa serve [options]\n"
    "\n"
    "The reference AllocatePublicIpAddress server (ECS RPC API 2014-05-26).\n"
    "\n"
    "  --listen ADDR:PORT      address to bind (default 127.0.0.1:0; port 0 picks a free\n"
    "                          port; IPv6 as [::1]:PORT). The first line of stdout is\n"
    "                          'listening on http(s)://ADDR:PORT'.\n"
    "  --tls-cert FILE         PEM certificate (with --tls-key: serve HTTPS)\n"
    "  --tls-key FILE          PEM private key\n"
    "  --credentials FILE      JSON list of {AccessKeyId, AccessKeySecret, Status:\n"
    "                          \"Active\"|\"Inactive\", Whitelisted: bool}; without it the\n"
    "                          demo pair testid/testsecret is accepted\n"
    "  --auth=off              skip signature, timestamp, nonce and key checks (load tests)\n"
    "  --throttle RATE[:BURST] at most RATE API requests per second per AccessKeyId, in\n"
    "                          bursts of BURST (default RATE); more get Throttling.User\n"
    "                          with x-acs-retry-after (ms). Default: off\n"
    "  --edition ED            2018-08-02 or 2024-12-20 (default 2024-12-20)\n"
    "  --seed N                seed for RequestIds, instance IDs and addresses (default:\n"
    "                          random, printed at start)\n"
    "  --state FILE            seed state (JSON); default: the built-in state\n"
    "  --pool CIDR             the public address pool (repeatable, at most 8); default:\n"
    "                          the built-in one\n"
    "  --latitude strict|alt   strict (default): the reference's choice where the documents\n"
    "                          allow more than one answer; alt: the other documented choice\n"
    "                          on every row of `aipa latitude` that has one\n"
    "  --fixtures              enable the test-only fixture protocol under /_aipa/\n"
    "  --fixture-token T       token for X-Aipa-Token (default: random, printed at start)\n"
    "  --max-connections N     concurrent connections (default 1024)\n"
    "  --timeout S             idle seconds before a connection is closed (default 10)\n"
    "  --threading MODE        per-connection (default: one thread per connection) or\n"
    "                          pool (an epoll thread pool)\n"
    "  --threads N             threads of the pool (default: one per core)\n"
    "  --log FILE|-|off        one line per request (default stderr; '-' is stdout)\n"
    "  --help                  this text\n";

enum {
    OPT_LISTEN = 256,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_CREDENTIALS,
    OPT_AUTH,
    OPT_THROTTLE,
    OPT_EDITION,
    OPT_SEED,
    OPT_STATE,
    OPT_FIXTURES,
    OPT_FIXTURE_TOKEN,
    OPT_MAX_CONN,
    OPT_TIMEOUT,
    OPT_THREADS,
    OPT_TPC,
    OPT_LOG,
    OPT_POOL,
    OPT_LATITUDE,
    OPT_HELP,
};

static const struct option long_opts[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"throttle", required_argument, NULL, OPT_THROTTLE},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"credentials", required_argument, NULL, OPT_CREDENTIALS},
    {"auth", required_argument, NULL, OPT_AUTH},
    {"edition", required_argument, NULL, OPT_EDITION},
    {"seed", required_argument, NULL, OPT_SEED},
    {"state", required_argument, NULL, OPT_STATE},
    {"fixtures", no_argument, NULL, OPT_FIXTURES},
    {"fixture-token", required_argument, NULL, OPT_FIXTURE_TOKEN},
    {"max-connections", required_argument, NULL, OPT_MAX_CONN},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"threading", required_argument, NULL, OPT_TPC},
    {"log", required_argument, NULL, OPT_LOG},
    {"pool", required_argument, NULL, OPT_POOL},
    {"latitude", required_argument, NULL, OPT_LATITUDE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

struct serve_opts {
    struct aipa_srv_config cfg;
    char addr[64];
    const char *credentials_file;
    const char *state_file;
    const char *log_path;
    bool seeded;
    char token[33];
    const char *pools[8];
    size_t pool_count;
};

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;

    if (s == NULL || *s < '0' || *s > '9') {
        return false;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* "127.0.0.1:8080", "[::1]:8080", or a bare address (port 0). */
static bool parse_listen(const char *s, char *addr, size_t cap, uint16_t *port)
{
    const char *colon;
    size_t n;
    uint64_t p = 0;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');

        if (close == NULL) {
            return false;
        }
        n = (size_t)(close - s - 1);
        if (n == 0 || n >= cap) {
            return false;
        }
        memcpy(addr, s + 1, n);
        addr[n] = '\0';
        if (close[1] == '\0') {
            *port = 0;
            return true;
        }
        if (close[1] != ':' || !parse_u64(close + 2, 65535, &p)) {
            return false;
        }
        *port = (uint16_t)p;
        return true;
    }
    colon = strrchr(s, ':');
    n = colon != NULL ? (size_t)(colon - s) : strlen(s);
    if (n == 0 || n >= cap || (colon != NULL && strchr(s, ':') != colon)) {
        return false;
    }
    memcpy(addr, s, n);
    addr[n] = '\0';
    if (colon != NULL && !parse_u64(colon + 1, 65535, &p)) {
        return false;
    }
    *port = (uint16_t)p;
    return true;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct aipa_buf b;
    char chunk[65536];
    size_t n;
    char *out;

    if (f == NULL) {
        fprintf(stderr, "aipa serve: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    aipa_buf_init(&b, MAX_FILE);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (aipa_buf_append(&b, chunk, n) != AIPA_OK) {
            fprintf(stderr, "aipa serve: %s is larger than %u bytes\n", path, MAX_FILE);
            aipa_buf_cleanup(&b);
            fclose(f);
            return NULL;
        }
    }
    fclose(f);
    out = aipa_buf_steal(&b, len);
    return out;
}

/* Reads the credentials file into creds (strings owned by doc's copies). */
static bool load_credentials(const char *path, struct aipa_srv_credential **out, size_t *count,
                             cJSON **doc_out)
{
    size_t len = 0;
    char *text = slurp(path, &len);
    cJSON *doc = NULL;
    const cJSON *item;
    struct aipa_srv_credential *creds = NULL;
    size_t n = 0;
    bool ok = false;

    if (text == NULL) {
        return false;
    }
    doc = cJSON_ParseWithLength(text, len);
    if (doc == NULL || !cJSON_IsArray(doc) || cJSON_GetArraySize(doc) == 0 ||
        (size_t)cJSON_GetArraySize(doc) > MAX_CREDENTIALS) {
        fprintf(stderr, "aipa serve: %s: expected a JSON list of 1..%u credentials\n", path,
                MAX_CREDENTIALS);
        goto out;
    }
    creds = aipa_calloc((size_t)cJSON_GetArraySize(doc), sizeof(*creds));
    if (creds == NULL) {
        goto out;
    }
    cJSON_ArrayForEach(item, doc)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "AccessKeyId");
        const cJSON *secret = cJSON_GetObjectItemCaseSensitive(item, "AccessKeySecret");
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(item, "Status");
        const cJSON *wl = cJSON_GetObjectItemCaseSensitive(item, "Whitelisted");

        if (!cJSON_IsString(id) || id->valuestring[0] == '\0' || !cJSON_IsString(secret) ||
            secret->valuestring[0] == '\0') {
            fprintf(stderr, "aipa serve: %s: entry %zu needs AccessKeyId and AccessKeySecret\n",
                    path, n);
            goto out;
        }
        if (status != NULL &&
            (!cJSON_IsString(status) || (strcmp(status->valuestring, "Active") != 0 &&
                                         strcmp(status->valuestring, "Inactive") != 0))) {
            fprintf(stderr, "aipa serve: %s: entry %zu: Status is \"Active\" or \"Inactive\"\n",
                    path, n);
            goto out;
        }
        if (wl != NULL && !cJSON_IsBool(wl)) {
            fprintf(stderr, "aipa serve: %s: entry %zu: Whitelisted is true or false\n", path, n);
            goto out;
        }
        creds[n].access_key_id = id->valuestring;
        creds[n].access_key_secret = secret->valuestring;
        creds[n].active = status == NULL || strcmp(status->valuestring, "Active") == 0;
        creds[n].whitelisted = wl != NULL && cJSON_IsTrue(wl);
        n++;
    }
    ok = true;
out:
    if (text != NULL) {
        aipa_memzero(text, len);
    }
    aipa_free(text);
    if (!ok) {
        aipa_free(creds);
        cJSON_Delete(doc);
        creds = NULL;
        doc = NULL;
        n = 0;
    }
    *out = creds;
    *count = n;
    *doc_out = doc;
    return ok;
}

static uint64_t random_u64(void)
{
    uint64_t v = 0;

    if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v)) {
        v = (uint64_t)time(NULL) ^ (uint64_t)clock();
    }
    return v;
}

/* Returns 0 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct serve_opts *o)
{
    int c;
    uint64_t v;

    aipa_srv_config_defaults(&o->cfg);
    snprintf(o->addr, sizeof(o->addr), "127.0.0.1");
    o->log_path = NULL;
    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN:
            if (!parse_listen(optarg, o->addr, sizeof(o->addr), &o->cfg.port)) {
                fprintf(stderr, "aipa serve: bad --listen %s (ADDR:PORT)\n", optarg);
                return 2;
            }
            break;
        case OPT_TLS_CERT:
            o->cfg.tls_cert_file = optarg;
            break;
        case OPT_TLS_KEY:
            o->cfg.tls_key_file = optarg;
            break;
        case OPT_CREDENTIALS:
            o->credentials_file = optarg;
            break;
        case OPT_AUTH:
            if (strcmp(optarg, "off") == 0) {
                o->cfg.auth_off = true;
            } else if (strcmp(optarg, "on") == 0) {
                o->cfg.auth_off = false;
            } else {
                fprintf(stderr, "aipa serve: --auth takes on or off\n");
                return 2;
            }
            break;
        case OPT_THROTTLE: {
            char *end = NULL;

            errno = 0;
            o->cfg.throttle_rate = strtod(optarg, &end);
            o->cfg.throttle_burst = 0;
            if (errno == 0 && end != optarg && *end == ':') {
                const char *b = end + 1;

                o->cfg.throttle_burst = strtod(b, &end);
                if (end == b || !(o->cfg.throttle_burst >= 1)) {
                    end = NULL;
                }
            }
            if (errno != 0 || end == NULL || end == optarg || *end != '\0' ||
                !(o->cfg.throttle_rate > 0) || o->cfg.throttle_rate > 1e6 ||
                o->cfg.throttle_burst > 1e6) {
                fprintf(stderr, "aipa serve: --throttle takes RATE[:BURST], requests per second "
                                "(0 < RATE <= 1e6, 1 <= BURST <= 1e6)\n");
                return 2;
            }
            break;
        }
        case OPT_EDITION:
            if (strcmp(optarg, "2018-08-02") == 0) {
                o->cfg.edition = AIPA_ED_2018;
            } else if (strcmp(optarg, "2024-12-20") == 0) {
                o->cfg.edition = AIPA_ED_2024;
            } else {
                fprintf(stderr, "aipa serve: --edition is 2018-08-02 or 2024-12-20\n");
                return 2;
            }
            break;
        case OPT_SEED:
            if (!parse_u64(optarg, UINT64_MAX, &o->cfg.seed)) {
                fprintf(stderr, "aipa serve: bad --seed %s\n", optarg);
                return 2;
            }
            o->seeded = true;
            break;
        case OPT_STATE:
            o->state_file = optarg;
            break;
        case OPT_FIXTURES:
            o->cfg.fixtures = true;
            break;
        case OPT_FIXTURE_TOKEN:
            if (optarg[0] == '\0') {
                fprintf(stderr, "aipa serve: the fixture token cannot be empty\n");
                return 2;
            }
            o->cfg.fixture_token = optarg;
            break;
        case OPT_MAX_CONN:
        case OPT_TIMEOUT:
        case OPT_THREADS:
            if (!parse_u64(optarg, c == OPT_THREADS ? 1024 : 1000000, &v) ||
                (c == OPT_MAX_CONN && v == 0)) {
                fprintf(stderr, "aipa serve: bad number %s\n", optarg);
                return 2;
            }
            if (c == OPT_MAX_CONN) {
                o->cfg.max_connections = (unsigned)v;
            } else if (c == OPT_TIMEOUT) {
                o->cfg.connection_timeout_s = (unsigned)v;
            } else {
                o->cfg.threads = (unsigned)v;
            }
            break;
        case OPT_TPC:
            if (strcmp(optarg, "per-connection") == 0) {
                o->cfg.thread_per_connection = true;
            } else if (strcmp(optarg, "pool") == 0) {
                o->cfg.thread_per_connection = false;
            } else {
                fprintf(stderr, "aipa serve: --threading is per-connection or pool\n");
                return 2;
            }
            break;
        case OPT_LOG:
            o->log_path = optarg;
            break;
        case OPT_POOL:
            if (o->pool_count >= AIPA_ARRAY_LEN(o->pools)) {
                fprintf(stderr, "aipa serve: at most %zu --pool\n", AIPA_ARRAY_LEN(o->pools));
                return 2;
            }
            o->pools[o->pool_count++] = optarg;
            o->cfg.pool_cidrs = o->pools;
            o->cfg.pool_cidr_count = o->pool_count;
            break;
        case OPT_LATITUDE:
            if (strcmp(optarg, "strict") == 0 || strcmp(optarg, "alt") == 0) {
                o->cfg.latitude_alt = strcmp(optarg, "alt") == 0;
            } else {
                fprintf(stderr, "aipa serve: --latitude is strict or alt\n");
                return 2;
            }
            break;
        case OPT_HELP:
            fputs(usage, stdout);
            return -1;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "aipa serve: unexpected argument %s\n", argv[optind]);
        return 2;
    }
    if ((o->cfg.tls_cert_file != NULL) != (o->cfg.tls_key_file != NULL)) {
        fprintf(stderr, "aipa serve: --tls-cert and --tls-key go together\n");
        return 2;
    }
    return 0;
}

int aipa_serve_main(int argc, char **argv)
{
    struct serve_opts o;
    struct aipa_srv *srv = NULL;
    struct aipa_srv_credential *creds = NULL;
    cJSON *cred_doc = NULL;
    char *state = NULL;
    size_t state_len = 0;
    FILE *log = stderr;
    struct aipa_buf err;
    sigset_t set;
    int sig = 0;
    int rc;

    memset(&o, 0, sizeof(o));
    aipa_buf_init(&err, 4096);
    rc = parse_args(argc, argv, &o);
    if (rc != 0) {
        rc = rc < 0 ? 0 : rc;
        goto out;
    }
    rc = 2;
    o.cfg.listen_addr = o.addr;
    if (!o.seeded) {
        o.cfg.seed = random_u64();
    }
    if (o.cfg.fixtures && o.cfg.fixture_token == NULL) {
        uint64_t a = random_u64(), b = random_u64();

        snprintf(o.token, sizeof(o.token), "%016" PRIx64 "%016" PRIx64, a, b);
        o.cfg.fixture_token = o.token;
    }
    if (o.credentials_file != NULL &&
        !load_credentials(o.credentials_file, &creds, &o.cfg.credential_count, &cred_doc)) {
        goto out;
    }
    o.cfg.credentials = creds;
    if (o.state_file != NULL) {
        state = slurp(o.state_file, &state_len);
        if (state == NULL) {
            goto out;
        }
        o.cfg.state_json = state;
        o.cfg.state_json_len = state_len;
    }
    if (o.log_path != NULL && strcmp(o.log_path, "off") == 0) {
        log = NULL;
    } else if (o.log_path != NULL && strcmp(o.log_path, "-") == 0) {
        log = stdout;
        setvbuf(stdout, NULL, _IOLBF, 0); /* one line per request, as it happens */
    } else if (o.log_path != NULL) {
        log = fopen(o.log_path, "a");
        if (log == NULL) {
            fprintf(stderr, "aipa serve: cannot open log %s: %s\n", o.log_path, strerror(errno));
            goto out;
        }
        setvbuf(log, NULL, _IOLBF, 0);
    }
    o.cfg.log = log;
    o.cfg.error = &err;

    /* Block the stop signals before MHD starts its threads, so only sigwait sees them. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (aipa_srv_new(&srv, &o.cfg) != AIPA_OK) {
        fprintf(stderr, "aipa serve: %s\n", err.len > 0 ? err.ptr : "cannot create the server");
        goto out;
    }
    if (aipa_srv_start(srv) != AIPA_OK) {
        fprintf(stderr, "aipa serve: %s\n", err.len > 0 ? err.ptr : "cannot start");
        goto out;
    }
    printf("listening on %s://%s%s%s:%u\n", o.cfg.tls_cert_file != NULL ? "https" : "http",
           strchr(o.addr, ':') != NULL ? "[" : "", o.addr, strchr(o.addr, ':') != NULL ? "]" : "",
           (unsigned)aipa_srv_port(srv));
    printf("edition %s, seed %" PRIu64 "\n",
           o.cfg.edition == AIPA_ED_2018 ? "2018-08-02" : "2024-12-20", o.cfg.seed);
    if (creds == NULL) {
        printf("credentials: demo pair AccessKeyId=%s AccessKeySecret=%s\n",
               AIPA_DEMO_ACCESS_KEY_ID, AIPA_DEMO_ACCESS_KEY_SECRET);
    }
    if (o.cfg.fixtures) {
        printf("fixtures: on, X-Aipa-Token: %s\n", o.cfg.fixture_token);
    }
    fflush(stdout);
    if (o.cfg.auth_off) {
        fprintf(stderr, "aipa serve: WARNING: --auth=off: requests are not authenticated "
                        "(load tests only)\n");
    }
    if (sigwait(&set, &sig) == 0) {
        fprintf(stderr, "aipa serve: %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
    rc = 0;
out:
    aipa_srv_free(srv);
    aipa_free(creds);
    cJSON_Delete(cred_doc);
    aipa_free(state);
    if (log != NULL && log != stderr && log != stdout) {
        fclose(log);
    }
    aipa_buf_cleanup(&err);
    return rc;
}
