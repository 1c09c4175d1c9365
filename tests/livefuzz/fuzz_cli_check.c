/*
 * fuzz_cli_check: what every `aipa fuzz` run promises on the command line.
 *
 *   summary  a run ends with one line naming why it stopped (the --requests
 *            budget) and where the outputs went
 *   time     --time alone bounds a run (no request limit of its own), and
 *            the summary says the time limit stopped it
 *   bytes    against a faulty server (every answer a finding), with requests
 *            carrying every byte value 0x00-0xFF (a dictionary of them),
 *            findings.json and findings.sarif are valid UTF-8 and parse
 *
 *   fuzz_cli_check --aipa PATH --workdir DIR -- BADSERVER [ARGS...]
 */
#include "proc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FILE (64L * 1024L * 1024L)

static const char *aipa, *workdir;

/* The whole file (NUL-terminated, *len bytes); NULL if unreadable. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < MAX_FILE &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
        *len = fread(buf, 1, (size_t)n, f);
        buf[*len] = '\0';
    }
    fclose(f);
    return buf;
}

/* Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static bool utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        unsigned cp;

        if (k == 0 || i + k > n) {
            return false;
        }
        cp = k == 1 ? c : c & (0x7fu >> k);
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (s[i + j] & 0x3fu);
        }
        if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return false;
        }
        i += k;
    }
    return true;
}

/* Runs `sh -c cmd` (bounded); its exit status. */
static int shell(const char *cmd, double timeout_s)
{
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    bool sig = false;

    return aipa_test_run(argv, timeout_s, &sig);
}

/* The one line of path that starts with prefix, copied to out; false if none. */
static bool line_starting(const char *path, const char *prefix, char *out, size_t cap)
{
    size_t n = 0;
    char *text = slurp(path, &n);
    bool found = false;

    for (char *p = text; p != NULL && *p != '\0' && !found;) {
        char *nl = strchr(p, '\n');
        size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
        if (strncmp(p, prefix, strlen(prefix)) == 0) {
            snprintf(out, cap, "%.*s", (int)len, p);
            found = true;
        }
        p = nl != NULL ? nl + 1 : NULL;
    }
    free(text);
    return found;
}

static void summary(void)
{
    char cmd[16384], line[2048], err[4096], out[4096];
    int rc;

    snprintf(out, sizeof(out), "%s/summary", workdir);
    snprintf(err, sizeof(err), "%s/summary.err", workdir);
    snprintf(cmd, sizeof(cmd), "'%s' fuzz --requests 40 --seed 1 --quiet --out '%s' 2>'%s'", aipa,
             out, err);
    rc = shell(cmd, 120);
    aipa_test_check(rc == 0, "a clean 40-request run exits 0 (got %d)", rc);
    aipa_test_check(line_starting(err, "aipa fuzz: stopped by ", line, sizeof(line)),
                    "--quiet still ends with the summary line");
    aipa_test_check(strstr(line, "the --requests budget (40)") != NULL &&
                        strstr(line, "after 40 requests") != NULL,
                    "it says the --requests budget stopped it: %s", line);
    aipa_test_check(strstr(line, "/summary/findings.json") != NULL &&
                        strstr(line, "/summary/findings.sarif") != NULL,
                    "it says where the outputs went");
}

static void time_only(void)
{
    char cmd[16384], line[2048], err[4096], json[4096];
    cJSON *doc, *st;
    int rc;

    snprintf(json, sizeof(json), "%s/time.json", workdir);
    snprintf(err, sizeof(err), "%s/time.err", workdir);
    (void)remove(json);
    snprintf(cmd, sizeof(cmd), "'%s' fuzz --time 3 --seed 2 --quiet --json '%s' 2>'%s'", aipa,
             json, err);
    rc = shell(cmd, 120);
    aipa_test_check(rc == 0, "a --time 3 run exits 0 (got %d)", rc);
    doc = aipa_test_load_json(json, MAX_FILE);
    st = cJSON_GetObjectItemCaseSensitive(doc, "stats");
    aipa_test_check(aipa_test_jnum(st, "elapsed_s") >= 2.9,
                    "--time alone ran for its 3 s (%.2f s), not until a request count",
                    aipa_test_jnum(st, "elapsed_s"));
    aipa_test_check(aipa_test_jnum(st, "requests") > 0, "and sent requests (%.0f)",
                    aipa_test_jnum(st, "requests"));
    aipa_test_check(aipa_test_jstr(st, "stopped_by") != NULL &&
                        strcmp(aipa_test_jstr(st, "stopped_by"), "time") == 0,
                    "findings.json says the time limit stopped it");
    aipa_test_check(line_starting(err, "aipa fuzz: stopped by the --time limit (3 s)", line,
                                  sizeof(line)),
                    "the summary line says so too");
    cJSON_Delete(doc);
}

static void check_file(const char *path)
{
    size_t n = 0;
    char *text = slurp(path, &n);
    cJSON *doc;

    aipa_test_check(text != NULL && n > 0, "%s written", path);
    aipa_test_check(text != NULL && utf8_ok((const unsigned char *)text, n), "%s is valid UTF-8",
                    path);
    doc = text != NULL ? cJSON_ParseWithLength(text, n) : NULL;
    aipa_test_check(doc != NULL, "%s parses as JSON", path);
    cJSON_Delete(doc);
    free(text);
}

static void every_byte(char **server)
{
    char dict[4096], out[4096], json[4200], sarif[4200], target[64];
    const char *argv[32];
    unsigned port = 0;
    pid_t srv;
    FILE *f;
    size_t n = 0;
    bool sig = false;
    int rc;

    snprintf(dict, sizeof(dict), "%s/bytes.dict", workdir);
    f = fopen(dict, "w");
    for (unsigned b = 0; f != NULL && b < 256; b++) {
        fprintf(f, "\"\\x%02X\"\n\"a\\x%02Xb\\x%02X\\x%02X\"\n", b, b, b, 255 - b);
    }
    aipa_test_check(f != NULL && fclose(f) == 0, "dictionary of every byte value written");
    srv = aipa_test_start_server((const char *const *)server, &port);
    aipa_test_check(srv > 0, "%s started on port %u", server[0], port);
    if (srv <= 0) {
        return;
    }
    snprintf(target, sizeof(target), "http://127.0.0.1:%u", port);
    snprintf(out, sizeof(out), "%s/bytes", workdir);
    argv[n++] = aipa;
    argv[n++] = "fuzz";
    argv[n++] = "--target";
    argv[n++] = target;
    argv[n++] = "--token";
    argv[n++] = "aipa-badserver";
    argv[n++] = "--requests";
    argv[n++] = "1500";
    argv[n++] = "--seed";
    argv[n++] = "5";
    argv[n++] = "--dict";
    argv[n++] = dict;
    argv[n++] = "--no-minimize";
    argv[n++] = "--quiet";
    argv[n++] = "--out";
    argv[n++] = out;
    argv[n] = NULL;
    rc = aipa_test_run(argv, 300, &sig);
    aipa_test_check(rc == 1, "the faulty server gives findings (exit %d)", rc);
    snprintf(json, sizeof(json), "%s/findings.json", out);
    snprintf(sarif, sizeof(sarif), "%s/findings.sarif", out);
    check_file(json);
    check_file(sarif);
    kill(srv, SIGTERM);
    (void)aipa_test_wait_bounded(srv, 5.0, &sig);
}

int main(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--aipa") == 0 && i + 1 < argc) {
            aipa = argv[++i];
        } else if (strcmp(argv[i], "--workdir") == 0 && i + 1 < argc) {
            workdir = argv[++i];
        } else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
    }
    if (aipa == NULL || workdir == NULL || i >= argc) {
        fprintf(stderr, "usage: fuzz_cli_check --aipa PATH --workdir DIR -- BADSERVER [ARGS]\n");
        return 2;
    }
    (void)mkdir(workdir, 0755);
    summary();
    time_only();
    every_byte(argv + i);
    return aipa_test_failures() == 0 ? 0 : 1;
}
