/*
 * In-process signature verification throughput: V1 (HMAC-SHA1) and V3
 * (ACS3-HMAC-SHA256) on requests shaped like the SDK captures of
 * spec/wire.md §2.6, each verified as the server does it (canonical
 * string, HMAC, constant-time compare). A third figure adds the wire parse
 * of the raw query to the V1 verification.
 *
 * Usage: bench_sign [seconds per round, default 2] [rounds, default 3]
 * Prints one line per figure: the median rate per second of CPU time and
 * per wall second; exits non-zero if a verification fails.
 */
#define _POSIX_C_SOURCE 200809L

#include "aipa/common.h"
#include "aipa/sign.h"
#include "aipa/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SECRET "testsecret"

/* spec/wire.md §2.6 (d): pop-core GET. */
static const char v1_query[] =
    "AccessKeyId=testid&Action=AllocatePublicIpAddress&Format=JSON&InstanceId=i-"
    "bp1gtjxuuvwj17zr0001&RegionId=cn-hangzhou&SignatureMethod=HMAC-SHA1&SignatureNonce="
    "b65680084034a0f7bd0dd7ed3da30bd5&SignatureVersion=1.0&Timestamp=2026-11-27T07%3A51%3A23Z&"
    "Version=2014-05-26&Signature=SI39FreCutoJczP36h5Obrf24bs%3D";

/* spec/wire.md §2.6 (a): the Node SDK's default V3 request. */
#define SL(s)                                                                                      \
    {                                                                                              \
        (const uint8_t *)(s), sizeof(s) - 1                                                        \
    }
#define HDR(n, v)                                                                                  \
    {                                                                                              \
        SL(n), SL(v)                                                                               \
    }

static const struct aipa_header v3_headers[] = {
    HDR("host", "127.0.0.1:18080"),
    HDR("x-acs-version", "2014-05-26"),
    HDR("x-acs-action", "AllocatePublicIpAddress"),
    HDR("user-agent", "AlibabaCloud (linux; x64) Node.js/v20.20.2 Core/1.0.1 TeaDSL/2"),
    HDR("x-acs-date", "2026-11-27T07:51:21Z"),
    HDR("x-acs-signature-nonce",
        "5c692507df90cfef3803ed0d120d1deb10bd77c39231b6e765891efd3556b6e4"),
    HDR("accept", "application/json"),
    HDR("x-acs-content-sha256", AIPA_EMPTY_SHA256_HEX),
    HDR("x-acs-credentials-provider", "static_ak"),
    HDR("Connection", "keep-alive"),
    HDR("Content-Length", "0"),
};

static const char v3_authorization[] =
    "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;"
    "x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature="
    "579d9bdc75d351be974cc9bd4707154ff224c2a67b25bbb150a1f865267ec988";

static double now(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what)
{
    fprintf(stderr, "bench_sign: %s\n", what);
    return 1;
}

enum figure { FIG_V1, FIG_V1_PARSE, FIG_V3 };

/* One verification of the given kind; false if it did not match. */
static bool verify_once(enum figure fig, const struct aipa_params *v1, const struct aipa_params *q,
                        const struct aipa_v3_auth *auth, struct aipa_buf *sts)
{
    bool match = false;

    switch (fig) {
    case FIG_V1:
        if (aipa_v1_verify("GET", v1, SECRET, sts, &match) != AIPA_OK) {
            return false;
        }
        break;
    case FIG_V1_PARSE: {
        struct aipa_params p;

        aipa_params_init(&p, NULL);
        if (aipa_wire_parse((const uint8_t *)v1_query, sizeof(v1_query) - 1,
                            AIPA_WIRE_PLUS_IS_SPACE, AIPA_PARAM_QUERY, &p, NULL) != AIPA_OK ||
            aipa_v1_verify("GET", &p, SECRET, sts, &match) != AIPA_OK) {
            match = false;
        }
        aipa_params_cleanup(&p);
        break;
    }
    case FIG_V3: {
        struct aipa_v3_auth a;
        char body_hash[AIPA_SHA256_HEX_LEN + 1];

        (void)auth;
        /* as the server does per request: parse the header, hash the body */
        if (aipa_v3_parse_authorization((const uint8_t *)v3_authorization,
                                        sizeof(v3_authorization) - 1, &a) != AIPA_OK ||
            aipa_sha256_hex("", 0, body_hash) != AIPA_OK ||
            aipa_v3_verify("POST", "/", q, v3_headers, AIPA_ARRAY_LEN(v3_headers), &a, body_hash,
                           SECRET, sts, &match) != AIPA_OK) {
            return false;
        }
        break;
    }
    }
    return match;
}

static double cpu_now(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * One timed round of at least `seconds` wall time: verifications per wall
 * second, and per second of this thread's CPU time (what one core does when
 * the machine is shared and the wall rate is not).
 */
static void round_rate(enum figure fig, double seconds, const struct aipa_params *v1,
                       const struct aipa_params *q, const struct aipa_v3_auth *auth,
                       struct aipa_buf *sts, double *wall_rate, double *cpu_rate)
{
    unsigned long n = 0;
    double t0 = now();
    double c0 = cpu_now();
    double elapsed;

    do {
        for (int i = 0; i < 1000; i++) {
            (void)verify_once(fig, v1, q, auth, sts);
        }
        n += 1000;
        elapsed = now() - t0;
    } while (elapsed < seconds);
    *wall_rate = (double)n / elapsed;
    *cpu_rate = (double)n / (cpu_now() - c0);
}

#define MAX_ROUNDS 15

static void insert_sorted(double *a, int n, double x)
{
    int k = n;

    while (k > 0 && a[k - 1] > x) {
        a[k] = a[k - 1];
        k--;
    }
    a[k] = x;
}

static int run(const char *label, enum figure fig, double seconds, int rounds,
               const struct aipa_params *v1, const struct aipa_params *q,
               const struct aipa_v3_auth *auth)
{
    struct aipa_buf sts;
    double wall[MAX_ROUNDS];
    double cpu[MAX_ROUNDS];

    aipa_buf_init(&sts, 1u << 16);
    /* warm up, and prove the request verifies */
    for (int i = 0; i < 1000; i++) {
        if (!verify_once(fig, v1, q, auth, &sts)) {
            aipa_buf_cleanup(&sts);
            return fail("a verification did not match");
        }
    }
    for (int r = 0; r < rounds; r++) {
        double w;
        double c;

        round_rate(fig, seconds, v1, q, auth, &sts, &w, &c);
        insert_sorted(wall, r, w);
        insert_sorted(cpu, r, c);
    }
    /* Medians over the rounds; the wall rate falls when others share the cores. */
    printf("%-37s %8.0f/s per CPU-second (%.2f us)  %8.0f/s wall  (median of %d x %.1f s)\n", label,
           cpu[rounds / 2], 1e6 / cpu[rounds / 2], wall[rounds / 2], rounds, seconds);
    aipa_buf_cleanup(&sts);
    return 0;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 2.0;
    long rounds = argc > 2 ? strtol(argv[2], NULL, 10) : 3;
    struct aipa_params v1;
    struct aipa_params q;
    struct aipa_v3_auth auth;
    int rc = 0;

    if (!(seconds > 0.0 && seconds <= 600.0) || rounds < 1 || rounds > MAX_ROUNDS) {
        return fail("usage: bench_sign [seconds per round, (0, 600]] [rounds, 1-15]");
    }
    aipa_params_init(&v1, NULL);
    aipa_params_init(&q, NULL);
    if (aipa_wire_parse((const uint8_t *)v1_query, sizeof(v1_query) - 1, AIPA_WIRE_PLUS_IS_SPACE,
                        AIPA_PARAM_QUERY, &v1, NULL) != AIPA_OK ||
        aipa_params_add_cstr(&q, "InstanceId", "i-bp1gtjxuuvwj17zr0001") != AIPA_OK ||
        aipa_v3_parse_authorization((const uint8_t *)v3_authorization, sizeof(v3_authorization) - 1,
                                    &auth) != AIPA_OK) {
        rc = fail("setup failed");
        goto out;
    }
    rc |= run("V1 verify (11 params, capture d)", FIG_V1, seconds, (int)rounds, &v1, &q, &auth);
    rc |= run("V1 wire parse + verify", FIG_V1_PARSE, seconds, (int)rounds, &v1, &q, &auth);
    rc |= run("V3 verify (7 signed hdrs, capture a)", FIG_V3, seconds, (int)rounds, &v1, &q, &auth);
out:
    aipa_params_cleanup(&v1);
    aipa_params_cleanup(&q);
    return rc;
}
