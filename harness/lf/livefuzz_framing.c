/*
 * livefuzz_framing.c: `aipa fuzz --framing`, framing-level mutations of the
 * HTTP layer itself (docs/livefuzz.md "Framing mode").
 *
 * Each probe is one request written byte for byte from a small grammar of
 * framing: Content-Length (valid, twice, malformed), Transfer-Encoding
 * lists, chunk sizes and extensions, obs-fold, control bytes in values,
 * whitespace before colons, bare LF, absolute-form targets, HTTP versions,
 * Expect; often followed by a second request, which is a smuggling attempt
 * when the framing before it is broken. It goes out on its own connection
 * (harness/transport/raw.c) and is judged on what the connection did:
 *
 *   hang       no answer, and the connection still open after the wait
 *   smuggled   more answers than requests the framing allowed
 *   accepted   a broken framing answered 1xx/2xx/3xx with the connection kept
 *   garbage    bytes back that are no HTTP/1.x answer
 *
 * A sane target closes the connection or answers 4xx/5xx. Every finding is
 * written as framing/probe-N.txt (the bytes, escaped, and the verdict).
 */
#include "aipa/phr.h"
#include "livefuzz_int.h"
#include "raw.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#define PROBE_MAX (64u * 1024u)
#define GOT_MAX   (1u << 20)
#define TAIL      "GET /aipa-smuggled HTTP/1.1\r\nHost: ecs.aliyuncs.com\r\nConnection: close\r\n\r\n"
#define QUERY     "/?Action=DescribeInstances&Version=2014-05-26&Format=JSON"

enum framing {
    FR_VALID_LENGTH,  /* a correct Content-Length body (control) */
    FR_VALID_CHUNKED, /* a correct chunked body (control) */
    FR_CL_TE,
    FR_DUP_CL,
    FR_BAD_CL,
    FR_BAD_TE,
    FR_BAD_CHUNK,
    FR_OBS_FOLD,
    FR_CTL_IN_VALUE,
    FR_SPACE_COLON,
    FR_COUNT_
};

static const char *const bad_lengths[] = {"-1",
                                          "+5",
                                          "0x10",
                                          "1e3",
                                          "18446744073709551617",
                                          "99999999999999999999999",
                                          "5 5",
                                          "5,6",
                                          "",
                                          " ",
                                          "5\x0b",
                                          "05a",
                                          "\xd9\xa3"};
static const char *const codings[] = {
    "identity",           "gzip",     "chunked, chunked",           "xchunked",
    "chunked , identity", "compress", "chunked;q=1, gzip",          ",",
    "\"chunked\"",        "chunk",    "identity, chunked, identity"};
static const char *const chunk_sizes[] = {"ffffffffffffffff",
                                          "1ffffffffffffffff",
                                          "-1",
                                          "0x5",
                                          "5 5",
                                          "g",
                                          "",
                                          "0000000000000000005",
                                          "5;aipa=1;x=\"y\"",
                                          "7fffffffffffffff",
                                          "80000000"};

static uint64_t pick(struct aipa_rng *r, uint64_t n)
{
    return aipa_rng_below(r, n);
}

/* The framing a probe breaks: true when a correct server must not answer the tail. */
static bool broken(enum framing f)
{
    return f != FR_VALID_LENGTH && f != FR_VALID_CHUNKED;
}

/* Writes one probe into b; *with_tail: a second request follows. */
static aipa_err build(struct aipa_rng *r, enum framing f, bool with_tail, struct aipa_buf *b)
{
    static const char body[] = "Action=DescribeInstances";
    const char *version = pick(r, 10) == 0 ? "HTTP/1.0" : "HTTP/1.1";
    const char *eol = pick(r, 12) == 0 ? "\n" : "\r\n";
    bool chunked_body = false;

    if (f == FR_CL_TE || f == FR_DUP_CL || f == FR_BAD_CHUNK || f == FR_BAD_TE) {
        version = "HTTP/1.1"; /* the attacks are about 1.1 framing */
    }
    AIPA_TRY(aipa_buf_printf(b, "POST %s%s %s%s", pick(r, 8) == 0 ? "http://ecs.aliyuncs.com" : "",
                             QUERY, version, eol));
    AIPA_TRY(aipa_buf_printf(b, "Host: ecs.aliyuncs.com%s", eol));
    AIPA_TRY(aipa_buf_printf(b, "Content-Type: application/x-www-form-urlencoded%s", eol));
    if (pick(r, 6) == 0) {
        AIPA_TRY(aipa_buf_printf(b, "Expect: 100-continue%s", eol));
    }
    if (!with_tail && !broken(f)) {
        AIPA_TRY(aipa_buf_printf(b, "Connection: close%s", eol)); /* no wait for the silence */
    }
    switch (f) {
    case FR_VALID_LENGTH:
    case FR_OBS_FOLD:
    case FR_CTL_IN_VALUE:
    case FR_SPACE_COLON:
        AIPA_TRY(aipa_buf_printf(b, "%s: %zu%s",
                                 f == FR_SPACE_COLON ? "Content-Length " : "Content-Length",
                                 sizeof(body) - 1, eol));
        break;
    case FR_VALID_CHUNKED:
        AIPA_TRY(aipa_buf_printf(b, "Transfer-Encoding: chunked%s", eol));
        chunked_body = true;
        break;
    case FR_CL_TE:
        if (pick(r, 2) == 0) {
            AIPA_TRY(aipa_buf_printf(b, "Content-Length: %u%sTransfer-Encoding: chunked%s",
                                     (unsigned)pick(r, 40), eol, eol));
        } else {
            AIPA_TRY(aipa_buf_printf(b, "Transfer-Encoding: chunked%sContent-Length: %u%s", eol,
                                     (unsigned)pick(r, 40), eol));
        }
        chunked_body = true;
        break;
    case FR_DUP_CL:
        AIPA_TRY(aipa_buf_printf(b, "Content-Length: %zu%sContent-Length: %u%s", sizeof(body) - 1,
                                 eol, (unsigned)pick(r, 80), eol));
        break;
    case FR_BAD_CL:
        AIPA_TRY(aipa_buf_printf(b, "Content-Length: %s%s",
                                 bad_lengths[pick(r, AIPA_ARRAY_LEN(bad_lengths))], eol));
        break;
    case FR_BAD_TE:
        AIPA_TRY(aipa_buf_printf(b, "Transfer-Encoding: %s%s",
                                 codings[pick(r, AIPA_ARRAY_LEN(codings))], eol));
        chunked_body = true;
        break;
    case FR_BAD_CHUNK:
        AIPA_TRY(aipa_buf_printf(b, "Transfer-Encoding: chunked%s%s", eol, eol));
        AIPA_TRY(aipa_buf_printf(b, "%s\r\n%s\r\n0\r\n\r\n",
                                 chunk_sizes[pick(r, AIPA_ARRAY_LEN(chunk_sizes))], body));
        goto tail;
    case FR_COUNT_:
        return AIPA_EINVAL;
    }
    if (f == FR_OBS_FOLD) {
        AIPA_TRY(aipa_buf_printf(b, "X-Aipa: a%s b%s", eol, eol));
    } else if (f == FR_CTL_IN_VALUE) {
        static const char ctl[] = {'\0', '\r', '\x7f', '\x01', '\x0b'};
        char c = ctl[pick(r, sizeof(ctl))];

        AIPA_TRY(aipa_buf_puts(b, "X-Aipa: a"));
        AIPA_TRY(aipa_buf_append(b, &c, 1));
        AIPA_TRY(aipa_buf_printf(b, "b%s", eol));
    }
    AIPA_TRY(aipa_buf_puts(b, eol));
    if (chunked_body) {
        AIPA_TRY(aipa_buf_printf(b, "%zx\r\n%s\r\n0\r\n\r\n", sizeof(body) - 1, body));
    } else {
        AIPA_TRY(aipa_buf_puts(b, body));
    }
tail:
    if (with_tail) {
        AIPA_TRY(aipa_buf_puts(b, TAIL));
    }
    return AIPA_OK;
}

/* Final answers in got (1xx not counted); first status and whether bytes were not HTTP. */
static size_t count_answers(const char *p, size_t n, int *first, bool *garbage)
{
    size_t off = 0, finals = 0;

    *first = 0;
    *garbage = false;
    while (off < n) {
        struct phr_header hs[100];
        size_t nh = 100, clen = 0;
        const char *msg;
        size_t msg_len;
        int minor, status;
        int r = phr_parse_response(p + off, n - off, &minor, &status, &msg, &msg_len, hs, &nh, 0);

        if (r == -2) {
            break; /* cut at the close: what came is still counted */
        }
        if (r < 0) {
            *garbage = true;
            break;
        }
        off += (size_t)r;
        if (status >= 100 && status < 200) {
            continue;
        }
        if (finals++ == 0) {
            *first = status;
        }
        for (size_t i = 0; i < nh; i++) {
            if (hs[i].name_len == 14 && strncasecmp(hs[i].name, "Content-Length", 14) == 0) {
                for (size_t k = 0; k < hs[i].value_len && hs[i].value[k] >= '0' &&
                                   hs[i].value[k] <= '9' && clen < GOT_MAX;
                     k++) {
                    clen = clen * 10 + (size_t)(hs[i].value[k] - '0');
                }
            }
        }
        off += clen < n - off ? clen : n - off;
    }
    return finals;
}

static void save(const char *dir, uint64_t n, const char *verdict, const struct aipa_buf *probe,
                 const struct aipa_raw_result *res)
{
    char path[4096];
    FILE *f;

    if (dir == NULL) {
        return;
    }
    snprintf(path, sizeof(path), "%s/framing", dir);
    (void)mkdir(dir, 0755);
    (void)mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/framing/probe-%" PRIu64 ".txt", dir, n);
    f = fopen(path, "w");
    if (f == NULL) {
        return;
    }
    fprintf(f, "verdict: %s\nclosed: %s\nsent:\n", verdict, res->closed ? "yes" : "no");
    for (size_t i = 0; i < probe->len; i++) {
        unsigned char c = (unsigned char)probe->ptr[i];

        if (c == '\n') {
            fputs("\\n\n", f);
        } else if (c == '\r') {
            fputs("\\r", f);
        } else if (c >= 0x20 && c < 0x7f && c != '\\') {
            fputc(c, f);
        } else {
            fprintf(f, "\\x%02x", c);
        }
    }
    fprintf(f, "\nreceived (%zu bytes):\n%.*s\n", res->got.len,
            (int)(res->got.len < 4096 ? res->got.len : 4096),
            res->got.ptr != NULL ? res->got.ptr : "");
    fclose(f);
}

/* Judges one probe's exchange: NULL when sane, else the finding's kind. */
static const char *judge(enum framing f, bool with_tail, const struct aipa_raw_result *res)
{
    int first;
    bool garbage;
    size_t answers =
        count_answers(res->got.ptr != NULL ? res->got.ptr : "", res->got.len, &first, &garbage);
    size_t allowed = with_tail && !broken(f) ? 2 : 1;

    if (garbage) {
        return "garbage";
    }
    if (answers > allowed) {
        return "smuggled";
    }
    if (answers == 0 && !res->closed) {
        return "hang";
    }
    if (broken(f) && answers > 0 && first < 400 && !res->closed) {
        return "accepted";
    }
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int aipa_lf_framing_run(const struct aipa_lf_framing_config *cfg, struct aipa_lf_framing_stats *st)
{
    struct aipa_rng rng;
    struct aipa_buf probe;
    double t0 = now_s();
    int status = 0;

    memset(st, 0, sizeof(*st));
    aipa_rng_seed(&rng, cfg->seed);
    aipa_buf_init(&probe, PROBE_MAX);
    for (uint64_t n = 0; n < cfg->probes && now_s() - t0 < cfg->time_s; n++) {
        enum framing f = (enum framing)pick(&rng, FR_COUNT_);
        bool with_tail = pick(&rng, 2) == 0;
        struct aipa_raw_result res;
        const char *verdict;
        aipa_err e;

        aipa_buf_reset(&probe);
        if (build(&rng, f, with_tail, &probe) != AIPA_OK) {
            fprintf(stderr, "fuzz: out of memory\n");
            status = 2;
            break;
        }
        aipa_raw_result_init(&res, GOT_MAX);
        e = aipa_raw_exchange(cfg->target, (const uint8_t *)probe.ptr, probe.len, 0, cfg->wait_ms,
                              &res);
        if (e != AIPA_OK) {
            fprintf(stderr, "fuzz: %s\n", res.error);
            aipa_raw_result_cleanup(&res);
            status = 2;
            break;
        }
        st->probes++;
        verdict = judge(f, with_tail, &res);
        if (verdict != NULL) {
            st->findings++;
            st->hang += strcmp(verdict, "hang") == 0;
            st->smuggled += strcmp(verdict, "smuggled") == 0;
            st->accepted += strcmp(verdict, "accepted") == 0;
            st->garbage += strcmp(verdict, "garbage") == 0;
            save(cfg->out_dir, n, verdict, &probe, &res);
            if (cfg->progress != NULL) {
                fprintf(cfg->progress, "framing: probe %" PRIu64 ": %s\n", n, verdict);
            }
        }
        aipa_raw_result_cleanup(&res);
    }
    aipa_buf_cleanup(&probe);
    if (cfg->progress != NULL) {
        fprintf(cfg->progress,
                "framing: %" PRIu64 " probes in %.1f s, %" PRIu64 " findings (hang %" PRIu64
                ", smuggled %" PRIu64 ", accepted %" PRIu64 ", garbage %" PRIu64 ")\n",
                st->probes, now_s() - t0, st->findings, st->hang, st->smuggled, st->accepted,
                st->garbage);
    }
    return status != 0 ? status : st->findings > 0 ? 1 : 0;
}
