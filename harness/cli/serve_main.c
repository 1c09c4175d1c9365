/*
 * serve_main.c: `aipa serve`, the reference server's command line
 * (docs/serve.md is its manual).
 */
#include "aipa/model.h"
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
    "                          \"Active\"|\"Inactive\", Whitelisted: bool, OwnerId: account,\n"
    "                          SecurityToken: STS token, Expiration: UTC time}; without it\n"
    "                          the demo pair testid/testsecret is accepted\n"
    "  --auth=off              skip signature, timestamp, nonce and key checks (load tests)\n"
    "  --throttle RATE[:BURST] at most RATE API requests per second per AccessKeyId, in\n"
    "                          bursts of BURST (default RATE); more get Throttling.User\n"
    "                          with x-acs-retry-after (ms). Default: off\n"
    "  --edition ED            2018-08-02 or 2024-12-20 (default 2024-12-20)\n"
    "  --seed N                seed for RequestIds, instance IDs and addresses (default:\n"
    "                          random, printed at start)\n"
    "  --state FILE            seed state (JSON); default: the built-in state. Its\n"
    "                          Edition, when it has one, wins over --edition (a warning\n"
    "                          says so)\n"
    "  --instances N           N more instances that can take an address, Running,\n"
    "                          i-aipa-extra-0001..N, in the seed state (kept by\n"
    "                          /_aipa/reset); for scripts and SDK tests (at most 10000)\n"
    "  --pool CIDR             the public address pool (repeatable, at most 8); default:\n"
    "                          the built-in one\n"
    "  --latitude strict|alt   strict (default): the reference's choice where the documents\n"
    "                          allow more than one answer; alt: the other documented choice\n"
    "                          on every row of `aipa latitude` that has one\n"
    "  --fixtures              enable the test-only fixture protocol under /_aipa/\n"
    "  --fixture-token T       token for X-Aipa-Token (default: random, printed at start)\n"
    "  --max-connections N     concurrent connections (default 10000)\n"
    "  --timeout S             idle seconds before a connection is closed (default 10)\n"
    "  --header-timeout S      seconds from a request's first byte (from accept for the\n"
    "                          first request) to the end of its headers; more bytes do\n"
    "                          not extend it (default 60; fractions allowed, e.g. 0.5)\n"
    "  --threading MODE        pool (default: epoll event loops) or per-connection\n"
    "                          (one thread per connection)\n"
    "  --threads N             event loops of the pool (default: one per core)\n"
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
    OPT_HEADER_TIMEOUT,
    OPT_THREADS,
    OPT_TPC,
    OPT_LOG,
    OPT_POOL,
    OPT_LATITUDE,
    OPT_HELP,
    OPT_INSTANCES,
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
    {"header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"threading", required_argument, NULL, OPT_TPC},
    {"log", required_argument, NULL, OPT_LOG},
    {"pool", required_argument, NULL, OPT_POOL},
    {"latitude", required_argument, NULL, OPT_LATITUDE},
    {"instances", required_argument, NULL, OPT_INSTANCES},
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
    bool edition_set;
    uint64_t instances; /* --instances: extra instances that can take an address */
    char token[33];
    const char *pools[8];
    size_t pool_count;
};

#define MAX_EXTRA_INSTANCES 10000u

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
    struct aipa_buf why;
    char *out = NULL;

    aipa_buf_init(&why, 4096);
    if (aipa_read_file(path, MAX_FILE, &out, len, &why) != AIPA_OK) {
        fprintf(stderr, "aipa serve: %s\n", why.ptr != NULL ? why.ptr : path);
    } else if (*len > MAX_FILE) {
        fprintf(stderr, "aipa serve: %s is larger than %u bytes\n", path, MAX_FILE);
        aipa_free(out);
        out = NULL;
    }
    aipa_buf_cleanup(&why);
    return out;
}

/*
 * The optional account and STS fields of one credentials entry: OwnerId (a
 * string of 1-20 digits), SecurityToken (non-empty) and Expiration
 * (the ISO 8601 UTC form STS returns; only with a SecurityToken).
 */
static bool load_sts_fields(const char *path, size_t n, const cJSON *item,
                            struct aipa_srv_credential *c)
{
    const cJSON *owner = cJSON_GetObjectItemCaseSensitive(item, "OwnerId");
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(item, "SecurityToken");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(item, "Expiration");
    const char *o = owner != NULL && cJSON_IsString(owner) ? owner->valuestring : NULL;

    if (owner != NULL &&
        (o == NULL || o[0] == '\0' || strspn(o, "0123456789") != strlen(o) || strlen(o) > 20)) {
        fprintf(stderr, "aipa serve: %s: entry %zu: OwnerId is a string of 1-20 digits\n", path, n);
        return false;
    }
    if (token != NULL && (!cJSON_IsString(token) || token->valuestring[0] == '\0')) {
        fprintf(stderr, "aipa serve: %s: entry %zu: SecurityToken is a non-empty string\n", path,
                n);
        return false;
    }
    if (exp != NULL && (token == NULL || !cJSON_IsString(exp) ||
                        aipa_parse_timestamp(exp->valuestring, strlen(exp->valuestring),
                                             &c->expiration) != AIPA_OK)) {
        fprintf(stderr,
                "aipa serve: %s: entry %zu: Expiration is a UTC time (2026-12-05T10:00:00Z) "
                "and needs a SecurityToken\n",
                path, n);
        return false;
    }
    c->owner_id = o;
    c->security_token = token != NULL ? token->valuestring : NULL;
    return true;
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
        if (!load_sts_fields(path, n, item, &creds[n])) {
            goto out;
        }
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
            o->cfg.edition = aipa_edition_parse(optarg);
            if (o->cfg.edition == 0) {
                fprintf(stderr, "aipa serve: --edition is 2018-08-02 or 2024-12-20\n");
                return 2;
            }
            o->edition_set = true;
            break;
        case OPT_INSTANCES:
            if (!parse_u64(optarg, MAX_EXTRA_INSTANCES, &o->instances)) {
                fprintf(stderr, "aipa serve: --instances takes 0..%u\n", MAX_EXTRA_INSTANCES);
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
        case OPT_HEADER_TIMEOUT: {
            char *end = NULL;
            double secs = strtod(optarg, &end);

            if (end == optarg || *end != '\0' || !(secs >= 0.001 && secs <= 86400.0)) {
                fprintf(stderr, "aipa serve: bad --header-timeout %s (seconds, 0.001..86400)\n",
                        optarg);
                return 2;
            }
            o->cfg.header_timeout_ms = (unsigned)(secs * 1000.0 + 0.5);
            break;
        }
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

/*
 * The seed state with n more instances that can take an address appended to
 * its Instances (the document of --state, else the built-in one). A
 * document that is not an object with an Instances list is returned as is:
 * the model's loader explains what is wrong with it.
 */
static char *add_instances(const char *doc, size_t len, uint64_t n, size_t *out_len)
{
    cJSON *root = cJSON_ParseWithLength(doc, len);
    cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "Instances");
    char *text = NULL, *out = NULL;
    bool ok = true;

    if (!cJSON_IsArray(list)) {
        *out_len = len;
        out = aipa_strndup(doc, len);
        goto out;
    }
    for (uint64_t i = 1; ok && i <= n; i++) {
        cJSON *in = cJSON_CreateObject();
        char id[32];

        snprintf(id, sizeof(id), "i-aipa-extra-%04" PRIu64, i);
        cJSON_AddItemToArray(list, in);
        ok = in != NULL && cJSON_AddStringToObject(in, "InstanceId", id) != NULL &&
             cJSON_AddStringToObject(in, "Status", "Running") != NULL &&
             cJSON_AddStringToObject(in, "InstanceNetworkType", "classic") != NULL &&
             cJSON_AddNumberToObject(in, "InternetMaxBandwidthOut", 5) != NULL &&
             cJSON_AddStringToObject(in, "RegionId", "cn-hangzhou") != NULL;
    }
    text = ok ? cJSON_PrintUnformatted(root) : NULL;
    if (text != NULL) {
        *out_len = strlen(text);
        out = aipa_strndup(text, *out_len);
    }
out:
    cJSON_free(text);
    cJSON_Delete(root);
    return out;
}

/* What the server runs with, as it is: the edition in force (and whether
 * the state file chose it over --edition), throttling, extra instances. */
static void print_banner(const struct serve_opts *o, struct aipa_srv *srv)
{
    unsigned ed = aipa_model_edition(aipa_srv_model(srv));
    const char *name = aipa_edition_name(ed == AIPA_ED_2018 ? AIPA_ED_2018 : AIPA_ED_2024);
    unsigned asked = o->cfg.edition != 0 ? o->cfg.edition : AIPA_ED_2024;

    printf("edition %s%s, seed %" PRIu64 "\n", name,
           o->state_file != NULL && ed != asked ? " (from the state file)" : "", o->cfg.seed);
    if (o->state_file != NULL && o->edition_set && ed != asked) {
        fprintf(stderr,
                "aipa serve: WARNING: %s sets Edition %s, which overrides --edition %s; "
                "serving %s (remove Edition from the file, or change --edition)\n",
                o->state_file, name, aipa_edition_name(asked), name);
    }
    if (o->cfg.throttle_rate > 0) {
        printf("throttle: %g requests/s per AccessKeyId, bursts of %g; beyond: Throttling.User "
               "with x-acs-retry-after\n",
               o->cfg.throttle_rate,
               o->cfg.throttle_burst > 0 ? o->cfg.throttle_burst : o->cfg.throttle_rate);
    }
    if (o->instances > 0) {
        printf("instances: %" PRIu64 " more that can take an address, i-aipa-extra-0001 .. "
               "i-aipa-extra-%04" PRIu64 "\n",
               o->instances, o->instances);
    }
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
    if (o.instances > 0) {
        const char *base = state != NULL ? state : aipa_srv_default_state();
        char *more =
            add_instances(base, state != NULL ? state_len : strlen(base), o.instances, &state_len);

        if (more == NULL) {
            fprintf(stderr, "aipa serve: out of memory adding --instances\n");
            goto out;
        }
        aipa_free(state);
        state = more;
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
    print_banner(&o, srv);
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
