/*
 * livefuzz_gen.c: request generation for `aipa fuzz`.
 *
 * A request starts as a well-formed call of one of the served actions (the
 * grammar below: actions, their parameters, common parameters), and then
 * takes 0..4 stacked mutations drawn from the seeded generator: dropped,
 * duplicated, renamed and unknown parameters, boundary values, dictionary
 * values, bad percent-escapes written raw, other methods and content types,
 * form bodies, auth damage (signature, timestamp, nonce, key) and oversized
 * inputs. Every choice comes from g->rng, so one seed gives one sequence.
 */
#include "aipa/livefuzz.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_DICT_ENTRIES 4096u

void aipa_lf_gen_init(struct aipa_lf_gen *g, uint64_t seed, size_t fixture_count)
{
    memset(g, 0, sizeof(*g));
    aipa_rng_seed(&g->rng, seed);
    g->fixture_count = fixture_count;
}

void aipa_lf_gen_cleanup(struct aipa_lf_gen *g)
{
    for (size_t i = 0; i < g->name_count; i++) {
        aipa_free(g->names[i]);
    }
    for (size_t i = 0; i < g->value_count; i++) {
        aipa_free(g->values[i]);
    }
    aipa_free(g->names);
    aipa_free(g->values);
    aipa_free(g->value_lens);
    memset(g, 0, sizeof(*g));
}

static bool has_value(const struct aipa_lf_gen *g, const char *v, size_t len)
{
    for (size_t i = 0; i < g->value_count; i++) {
        if (g->value_lens[i] == len && memcmp(g->values[i], v, len) == 0) {
            return true;
        }
    }
    return false;
}

aipa_err aipa_lf_gen_add_value(struct aipa_lf_gen *g, const char *v, size_t len)
{
    if (g->value_count >= MAX_DICT_ENTRIES || len > 4096 || has_value(g, v, len)) {
        return AIPA_OK; /* bounded; duplicates add nothing */
    }
    if (g->value_count == g->value_cap) {
        size_t ncap = g->value_cap == 0 ? 64 : g->value_cap * 2;
        char **nv = aipa_realloc(g->values, ncap * sizeof(*nv));
        if (nv == NULL) {
            return AIPA_ENOMEM;
        }
        g->values = nv;
        size_t *nl = aipa_realloc(g->value_lens, ncap * sizeof(*nl));
        if (nl == NULL) {
            return AIPA_ENOMEM;
        }
        g->value_lens = nl;
        g->value_cap = ncap;
    }
    char *c = aipa_malloc(len + 1);
    if (c == NULL) {
        return AIPA_ENOMEM;
    }
    if (len > 0) {
        memcpy(c, v, len);
    }
    c[len] = '\0';
    g->values[g->value_count] = c;
    g->value_lens[g->value_count] = len;
    g->value_count++;
    return AIPA_OK;
}

static bool looks_like_name(const char *s, size_t n)
{
    if (n == 0 || n > 64 || s[0] < 'A' || s[0] > 'Z') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_')) {
            return false;
        }
    }
    return true;
}

static aipa_err add_name(struct aipa_lf_gen *g, const char *s, size_t n)
{
    for (size_t i = 0; i < g->name_count; i++) {
        if (strlen(g->names[i]) == n && memcmp(g->names[i], s, n) == 0) {
            return AIPA_OK;
        }
    }
    if (g->name_count >= MAX_DICT_ENTRIES) {
        return AIPA_OK;
    }
    if (g->name_count == g->name_cap) {
        size_t ncap = g->name_cap == 0 ? 64 : g->name_cap * 2;
        char **nn = aipa_realloc(g->names, ncap * sizeof(*nn));
        if (nn == NULL) {
            return AIPA_ENOMEM;
        }
        g->names = nn;
        g->name_cap = ncap;
    }
    char *c = aipa_strndup(s, n);
    if (c == NULL) {
        return AIPA_ENOMEM;
    }
    g->names[g->name_count++] = c;
    return AIPA_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decodes the quoted token of one dictionary line into out; false if malformed. */
static bool dict_token(const char *line, char *out, size_t cap, size_t *out_len)
{
    const char *q = strchr(line, '"');
    size_t n = 0;

    if (q == NULL) {
        return false;
    }
    for (const char *p = q + 1; *p != '\0'; p++) {
        char c = *p;
        if (c == '"') {
            *out_len = n;
            return true;
        }
        if (c == '\\') {
            p++;
            if (*p == 'x' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
                c = (char)(hexval(p[1]) * 16 + hexval(p[2]));
                p += 2;
            } else if (*p == '\\' || *p == '"') {
                c = *p;
            } else {
                return false;
            }
        }
        if (n + 1 >= cap) {
            return false;
        }
        out[n++] = c;
    }
    return false;
}

aipa_err aipa_lf_gen_load_dict(struct aipa_lf_gen *g, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[8192];
    char tok[4096];
    aipa_err err = AIPA_OK;

    if (f == NULL) {
        return AIPA_EIO;
    }
    while (err == AIPA_OK && fgets(line, sizeof(line), f) != NULL) {
        size_t n = 0;
        const char *p = line;
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (*p == '#' || *p == '\0' || *p == '\n') {
            continue;
        }
        if (!dict_token(p, tok, sizeof(tok), &n)) {
            continue;
        }
        err = aipa_lf_gen_add_value(g, tok, n);
        if (err == AIPA_OK && looks_like_name(tok, n)) {
            err = add_name(g, tok, n);
        }
    }
    fclose(f);
    return err;
}

static aipa_err walk_json(struct aipa_lf_gen *g, const cJSON *node, bool in_request)
{
    const cJSON *c;

    cJSON_ArrayForEach(c, node)
    {
        bool req = in_request || (c->string != NULL && strcmp(c->string, "request") == 0);
        if (in_request && c->string != NULL && cJSON_IsString(c) && c->valuestring != NULL) {
            if (looks_like_name(c->string, strlen(c->string))) {
                AIPA_TRY(add_name(g, c->string, strlen(c->string)));
            }
            /* ${name} fixture references are target-specific: skip them */
            if (strstr(c->valuestring, "${") == NULL) {
                AIPA_TRY(aipa_lf_gen_add_value(g, c->valuestring, strlen(c->valuestring)));
            }
        }
        if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            AIPA_TRY(walk_json(g, c, req));
        }
    }
    return AIPA_OK;
}

static aipa_err load_case_file(struct aipa_lf_gen *g, const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    aipa_err err = AIPA_OK;
    cJSON *doc = NULL;

    if (f == NULL) {
        return AIPA_EIO;
    }
    buf = aipa_malloc(256u * 1024u + 1);
    if (buf == NULL) {
        fclose(f);
        return AIPA_ENOMEM;
    }
    n = fread(buf, 1, 256u * 1024u, f);
    fclose(f);
    buf[n] = '\0';
    doc = cJSON_ParseWithLength(buf, n);
    if (doc != NULL) {
        err = walk_json(g, doc, false);
        cJSON_Delete(doc);
    }
    aipa_free(buf);
    return err;
}

static aipa_err load_dir(struct aipa_lf_gen *g, const char *dir, size_t *files, int depth)
{
    DIR *d;
    struct dirent *e;
    aipa_err err = AIPA_OK;

    if (depth > 8) {
        return AIPA_OK;
    }
    d = opendir(dir);
    if (d == NULL) {
        return AIPA_EIO;
    }
    while (err == AIPA_OK && (e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        size_t nl = strlen(e->d_name);
        if (e->d_name[0] == '.') {
            continue;
        }
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path)) {
            continue;
        }
        if (stat(path, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            err = load_dir(g, path, files, depth + 1);
        } else if (nl > 5 && strcmp(e->d_name + nl - 5, ".json") == 0) {
            if (load_case_file(g, path) == AIPA_OK) {
                (*files)++;
            }
        }
    }
    closedir(d);
    return err;
}

aipa_err aipa_lf_gen_load_cases(struct aipa_lf_gen *g, const char *dir, size_t *files)
{
    size_t n = 0;
    aipa_err err = load_dir(g, dir, &n, 0);
    if (files != NULL) {
        *files = n;
    }
    return err;
}

/* ---- the grammar ---- */

static const char *const served[] = {"AllocatePublicIpAddress", "DescribeInstances",
                                     "StartInstance",           "StopInstance",
                                     "RebootInstance",          "ReleasePublicIpAddress"};

static const char *const unknown_actions[] = {"AllocatePublicIpAddresses",
                                              "allocatepublicipaddress",
                                              "ALLOCATEPUBLICIPADDRESS",
                                              "AllocatePublicIPAddress",
                                              "AllocateEipAddress",
                                              "DeleteInstance",
                                              "Allocate PublicIpAddress",
                                              " AllocatePublicIpAddress",
                                              "AllocatePublicIpAddress ",
                                              "DescribeInstance",
                                              "",
                                              "_aipa"};

static const char *const known_names[] = {
    "Action",          "Version",          "Format",
    "InstanceId",      "IpAddress",        "VlanId",
    "OwnerId",         "OwnerAccount",     "ResourceOwnerAccount",
    "ResourceOwnerId", "RegionId",         "InstanceIds",
    "PageNumber",      "PageSize",         "PublicIpAddress",
    "ForceStop",       "DryRun",           "AccessKeyId",
    "SignatureMethod", "SignatureVersion", "SignatureNonce",
    "Timestamp",       "Signature",        "SecurityToken",
    "SignatureType",   "ClientToken",      "StoppedMode",
    "InstanceName",    "ZoneId",           "instanceid"};

struct bval {
    const char *v;
    size_t len;
};
#define BV(s)                                                                                      \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }

/* Boundary and hostile values (percent-encoded on the wire unless marked raw). */
static const struct bval boundary[] = {
    BV(""),
    BV(" "),
    BV("0"),
    BV("-1"),
    BV("1"),
    BV("2147483647"),
    BV("2147483648"),
    BV("-2147483649"),
    BV("9223372036854775807"),
    BV("9223372036854775808"),
    BV("-9223372036854775809"),
    BV("18446744073709551616"),
    BV("1e309"),
    BV("NaN"),
    BV("null"),
    BV("true"),
    BV("[]"),
    BV("{}"),
    BV("[\"\"]"),
    BV("[\"i-1\",]"),
    BV("[null]"),
    BV("\xc3\xa9"),                 /* é */
    BV("\xe4\xb8\xad\xe6\x96\x87"), /* CJK */
    BV("\xf0\x9f\x98\x80"),         /* 4-byte UTF-8 */
    BV("\xff\xfe"),                 /* invalid UTF-8 */
    BV("\xc0\xaf"),                 /* overlong */
    BV("\xed\xa0\x80"),             /* surrogate */
    BV("a\0b"),                     /* NUL inside */
    BV("\0"),
    BV("\r\n"),
    BV("\t"),
    BV("a b+c"),
    BV("../../../etc/passwd"),
    BV("<x>&amp;</x>"),
    BV("]]>"),
    BV("' OR '1'='1"),
    BV("\"; DROP TABLE instances; --"),
    BV("${jndi:ldap://127.0.0.1/x}"),
    BV("%s%s%s%n"),
    BV("%00"),
    BV("%25"),
    BV("i-"),
    BV("i-bp1gtjxuuvwj17zr0001"),
    BV("I-BP1GTJXUUVWJ17ZR0001"),
    BV("0.0.0.0"),
    BV("255.255.255.255"),
    BV("256.1.1.1"),
    BV("10.0.0.1"),
    BV("47.96.0.10"),
    BV("::1"),
    BV("cn-hangzhou"),
    BV("2014-05-26"),
    BV("2014-05-27"),
    BV("JSON"),
    BV("xml"),
    BV("yaml"),
};

/* Written raw: malformed percent-escapes and '+' (a space once decoded). */
static const char *const raw_bad[] = {"%",   "%4",   "%zz",    "%G1",   "%%", "a%",
                                      "%0",  "%%41", "%u0041", "+",     "%2", "%ZZ%",
                                      "%00", "%C3",  "%FF%FE", "%C0%AF"};

static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};

static const char *const content_types[] = {"application/x-www-form-urlencoded",
                                            "application/x-www-form-urlencoded; charset=utf-8",
                                            "application/json",
                                            "text/plain",
                                            "multipart/form-data; boundary=x",
                                            "application/xml",
                                            "APPLICATION/X-WWW-FORM-URLENCODED",
                                            "application/octet-stream",
                                            ";"};

static const char *const accepts[] = {"application/json", "text/xml",
                                      "application/xml",  "*/*",
                                      "text/html",        "application/json;q=0,text/xml"};

static uint64_t pick(struct aipa_lf_gen *g, uint64_t n)
{
    return aipa_rng_below(&g->rng, n);
}

static bool chance(struct aipa_lf_gen *g, unsigned percent)
{
    return aipa_rng_below(&g->rng, 100) < percent;
}

static void fixture_ref(struct aipa_lf_gen *g, char out[24])
{
    if (g->fixture_count == 0 || chance(g, 8)) {
        static const char *const other[] = {"i-fuzznotfound0001", "i-0000000000000000",
                                            "i-bp1gtjxuuvwj17zr0001"};
        snprintf(out, 24, "%s", other[pick(g, AIPA_ARRAY_LEN(other))]);
        return;
    }
    snprintf(out, 24, "${vm%u}", (unsigned)pick(g, g->fixture_count));
}

aipa_err aipa_lf_generate_valid(struct aipa_lf_gen *g, struct aipa_lf_req *r)
{
    char ref[24];
    uint64_t a = pick(g, 100);
    const char *action;
    bool body;

    aipa_lf_req_clear(r);
    if (a < 45) {
        action = served[0];
    } else if (a < 60) {
        action = served[1];
    } else if (a < 70) {
        action = served[2];
    } else if (a < 80) {
        action = served[3];
    } else if (a < 88) {
        action = served[4];
    } else if (a < 96) {
        action = served[5];
    } else {
        action = unknown_actions[pick(g, AIPA_ARRAY_LEN(unknown_actions))];
    }
    snprintf(r->method, sizeof(r->method), "%s", chance(g, 45) ? "GET" : "POST");
    r->auth = chance(g, 15) ? AIPA_SIG_V3 : AIPA_SIG_V1;
    body = strcmp(r->method, "POST") == 0 && r->auth == AIPA_SIG_V1 && chance(g, 25);
    unsigned pf = body ? AIPA_LF_P_BODY : 0;

    AIPA_TRY(aipa_lf_req_add(r, "Action", 6, action, strlen(action), pf));
    AIPA_TRY(aipa_lf_req_add(r, "Version", 7, "2014-05-26", 10, pf));
    uint64_t f = pick(g, 4);
    if (r->auth == AIPA_SIG_V3) {
        snprintf(r->accept, sizeof(r->accept), "application/json");
    } else if (f == 0) {
        AIPA_TRY(aipa_lf_req_add(r, "Format", 6, "JSON", 4, pf));
    } else if (f == 1) {
        AIPA_TRY(aipa_lf_req_add(r, "Format", 6, "json", 4, pf));
    } else if (f == 2) {
        AIPA_TRY(aipa_lf_req_add(r, "Format", 6, "XML", 3, pf));
    }
    if (chance(g, 30)) {
        AIPA_TRY(aipa_lf_req_add(r, "RegionId", 8, "cn-hangzhou", 11, pf));
    }
    fixture_ref(g, ref);
    if (strcmp(action, "AllocatePublicIpAddress") == 0) {
        AIPA_TRY(aipa_lf_req_add(r, "InstanceId", 10, ref, strlen(ref), pf));
        if (chance(g, 5)) {
            char ip[20];
            snprintf(ip, sizeof(ip), "47.96.%u.%u", (unsigned)pick(g, 16), (unsigned)pick(g, 256));
            AIPA_TRY(aipa_lf_req_add(r, "IpAddress", 9, ip, strlen(ip), pf));
        }
        if (chance(g, 5)) {
            AIPA_TRY(aipa_lf_req_add(r, "OwnerId", 7, "1234567890123", 13, pf));
        }
        if (chance(g, 3)) {
            AIPA_TRY(aipa_lf_req_add(r, "VlanId", 6, "720", 3, pf));
        }
    } else if (strcmp(action, "DescribeInstances") == 0) {
        if (chance(g, 70)) {
            char ids[64];
            char ref2[24];
            fixture_ref(g, ref2);
            if (chance(g, 50)) {
                snprintf(ids, sizeof(ids), "[\"%s\"]", ref);
            } else {
                snprintf(ids, sizeof(ids), "[\"%s\",\"%s\"]", ref, ref2);
            }
            AIPA_TRY(aipa_lf_req_add(r, "InstanceIds", 11, ids, strlen(ids), pf));
        }
        if (chance(g, 20)) {
            AIPA_TRY(aipa_lf_req_add(r, "PageNumber", 10, "1", 1, pf));
            AIPA_TRY(aipa_lf_req_add(r, "PageSize", 8, "10", 2, pf));
        }
    } else if (strcmp(action, "ReleasePublicIpAddress") == 0) {
        AIPA_TRY(aipa_lf_req_add(r, "InstanceId", 10, ref, strlen(ref), pf));
    } else {
        AIPA_TRY(aipa_lf_req_add(r, "InstanceId", 10, ref, strlen(ref), pf));
    }
    return AIPA_OK;
}

static aipa_err random_value(struct aipa_lf_gen *g, struct aipa_buf *out, unsigned *flags)
{
    uint64_t k = pick(g, 100);

    aipa_buf_reset(out);
    *flags = 0;
    if (k < 45) {
        const struct bval *b = &boundary[pick(g, AIPA_ARRAY_LEN(boundary))];
        return aipa_buf_append(out, b->v, b->len);
    }
    if (k < 65 && g->value_count > 0) {
        size_t i = (size_t)pick(g, g->value_count);
        return aipa_buf_append(out, g->values[i], g->value_lens[i]);
    }
    if (k < 78) {
        *flags = AIPA_LF_P_RAW;
        return aipa_buf_puts(out, raw_bad[pick(g, AIPA_ARRAY_LEN(raw_bad))]);
    }
    if (k < 90) {
        static const size_t lens[] = {63, 64, 127, 128, 129, 255, 256, 1024, 4096};
        size_t n = lens[pick(g, AIPA_ARRAY_LEN(lens))];
        char c = (char)('a' + pick(g, 26));
        AIPA_TRY(aipa_buf_reserve(out, n + 1));
        memset(out->ptr + out->len, c, n);
        out->len += n;
        out->ptr[out->len] = '\0';
        return AIPA_OK;
    }
    /* random bytes, short */
    size_t n = (size_t)pick(g, 12) + 1;
    for (size_t i = 0; i < n; i++) {
        AIPA_TRY(aipa_buf_putc(out, (char)(uint8_t)pick(g, 256)));
    }
    return AIPA_OK;
}

static const char *random_name(struct aipa_lf_gen *g)
{
    if (g->name_count > 0 && chance(g, 30)) {
        return g->names[pick(g, g->name_count)];
    }
    return known_names[pick(g, AIPA_ARRAY_LEN(known_names))];
}

static size_t pick_param(struct aipa_lf_gen *g, const struct aipa_lf_req *r)
{
    return (size_t)pick(g, r->count);
}

static aipa_err set_at(struct aipa_lf_req *r, size_t i, const char *v, size_t n, unsigned flags)
{
    char *nv = aipa_malloc(n + 1);
    if (nv == NULL) {
        return AIPA_ENOMEM;
    }
    if (n > 0) {
        memcpy(nv, v, n);
    }
    nv[n] = '\0';
    aipa_free(r->params[i].value);
    r->params[i].value = nv;
    r->params[i].value_len = n;
    r->params[i].flags = (r->params[i].flags & AIPA_LF_P_BODY) | flags;
    return AIPA_OK;
}

aipa_err aipa_lf_mutate(struct aipa_lf_gen *g, struct aipa_lf_req *r)
{
    struct aipa_buf v;
    unsigned flags = 0;
    aipa_err err = AIPA_OK;
    uint64_t op = pick(g, 20);

    aipa_buf_init(&v, AIPA_LF_MAX_VALUE);
    if (r->count == 0 && op < 7) {
        op = 6; /* nothing to change: add a parameter */
    }
    switch (op) {
    case 0: /* drop a parameter */
        aipa_lf_req_remove_at(r, pick_param(g, r));
        break;
    case 1: { /* duplicate a parameter, same or other value */
        size_t i = pick_param(g, r);
        const struct aipa_lf_param *p = &r->params[i];
        char *name = aipa_strndup(p->name, p->name_len);
        size_t name_len = p->name_len;
        unsigned pf = p->flags;
        if (name == NULL) {
            err = AIPA_ENOMEM;
            break;
        }
        if (chance(g, 50)) {
            err = aipa_buf_append(&v, p->value, p->value_len);
        } else {
            err = random_value(g, &v, &flags);
        }
        if (err == AIPA_OK) {
            err = aipa_lf_req_add(r, name, name_len, v.ptr != NULL ? v.ptr : "", v.len,
                                  (pf & AIPA_LF_P_BODY) | flags);
        }
        aipa_free(name);
        break;
    }
    case 2:
    case 3:
    case 4: /* replace a value */
        err = random_value(g, &v, &flags);
        if (err == AIPA_OK) {
            err = set_at(r, pick_param(g, r), v.ptr != NULL ? v.ptr : "", v.len, flags);
        }
        break;
    case 5: { /* append a bad escape to a value, written raw */
        size_t i = pick_param(g, r);
        const char *bad = raw_bad[pick(g, AIPA_ARRAY_LEN(raw_bad))];
        /* the rest of the value must then be encoded by hand: keep it unreserved */
        err = aipa_buf_puts(&v, "i-");
        if (err == AIPA_OK) {
            err = aipa_buf_puts(&v, bad);
        }
        if (err == AIPA_OK) {
            err = set_at(r, i, v.ptr, v.len, AIPA_LF_P_RAW);
        }
        break;
    }
    case 6: { /* add a known or unknown parameter */
        const char *name = random_name(g);
        err = random_value(g, &v, &flags);
        if (err == AIPA_OK) {
            err = aipa_lf_req_add(r, name, strlen(name), v.ptr != NULL ? v.ptr : "", v.len, flags);
        }
        break;
    }
    case 7: { /* rename a parameter: case change or another name */
        size_t i = pick_param(g, r);
        struct aipa_lf_param *p = &r->params[i];
        const char *nn = NULL;
        char *c;
        if (chance(g, 50) && p->name_len > 0) {
            c = aipa_strndup(p->name, p->name_len);
            if (c != NULL) {
                c[0] = (char)((c[0] >= 'A' && c[0] <= 'Z')   ? c[0] + 32
                              : (c[0] >= 'a' && c[0] <= 'z') ? c[0] - 32
                                                             : c[0]);
            }
        } else {
            nn = random_name(g);
            c = aipa_strdup(nn);
        }
        if (c == NULL) {
            err = AIPA_ENOMEM;
            break;
        }
        aipa_free(p->name);
        p->name = c;
        p->name_len = strlen(c);
        break;
    }
    case 8: /* move parameters into a form body */
        if (chance(g, 50)) {
            r->params[pick_param(g, r)].flags |= AIPA_LF_P_BODY;
        } else {
            for (size_t i = 0; i < r->count; i++) {
                r->params[i].flags |= AIPA_LF_P_BODY;
            }
        }
        if (strcmp(r->method, "GET") == 0 && chance(g, 70)) {
            snprintf(r->method, sizeof(r->method), "POST");
        }
        break;
    case 9: /* another method */
        snprintf(r->method, sizeof(r->method), "%s", methods[pick(g, AIPA_ARRAY_LEN(methods))]);
        break;
    case 10: /* another content type */
        snprintf(r->content_type, sizeof(r->content_type), "%s",
                 content_types[pick(g, AIPA_ARRAY_LEN(content_types))]);
        break;
    case 11:
    case 12: { /* damage the authentication */
        static const unsigned bits[] = {
            AIPA_LF_M_BAD_SIGNATURE,    AIPA_LF_M_NO_SIGNATURE,    AIPA_LF_M_STALE_TIMESTAMP,
            AIPA_LF_M_FUTURE_TIMESTAMP, AIPA_LF_M_BAD_TIMESTAMP,   AIPA_LF_M_NO_TIMESTAMP,
            AIPA_LF_M_REUSE_NONCE,      AIPA_LF_M_NO_NONCE,        AIPA_LF_M_UNKNOWN_KEY,
            AIPA_LF_M_BAD_SIG_METHOD,   AIPA_LF_M_BAD_CONTENT_SHA, AIPA_LF_M_NO_KEY};
        r->mut |= bits[pick(g, AIPA_ARRAY_LEN(bits))];
        break;
    }
    case 13: /* another signature scheme, or none */
        r->auth = (enum aipa_sig)pick(g, 3);
        break;
    case 14: { /* oversized: a huge value or very many parameters */
        if (chance(g, 50)) {
            size_t n = chance(g, 50) ? 16385 : 70000;
            err = aipa_buf_reserve(&v, n + 1);
            if (err == AIPA_OK) {
                memset(v.ptr + v.len, 'A', n);
                v.len += n;
                v.ptr[v.len] = '\0';
            }
            if (err == AIPA_OK) {
                err = aipa_lf_req_add(r, "OwnerAccount", 12, v.ptr, v.len, 0);
            }
        } else {
            size_t n = chance(g, 50) ? 120 : 200;
            for (size_t i = 0; i < n && err == AIPA_OK; i++) {
                char name[32];
                snprintf(name, sizeof(name), "P%zu", i);
                err = aipa_lf_req_add(r, name, strlen(name), "1", 1, 0);
            }
        }
        break;
    }
    case 15: /* Accept */
        snprintf(r->accept, sizeof(r->accept), "%s", accepts[pick(g, AIPA_ARRAY_LEN(accepts))]);
        break;
    case 16: { /* Action: another served, unknown, or case-changed */
        const char *a = chance(g, 50) ? served[pick(g, AIPA_ARRAY_LEN(served))]
                                      : unknown_actions[pick(g, AIPA_ARRAY_LEN(unknown_actions))];
        err = aipa_lf_req_set(r, "Action", a, strlen(a));
        break;
    }
    case 17: { /* InstanceId: another fixture, not found, or hostile */
        char ref[24];
        if (chance(g, 60)) {
            fixture_ref(g, ref);
            err = aipa_lf_req_set(r, "InstanceId", ref, strlen(ref));
        } else {
            err = random_value(g, &v, &flags);
            if (err == AIPA_OK) {
                err = aipa_lf_req_set(r, "InstanceId", v.ptr != NULL ? v.ptr : "", v.len);
            }
        }
        break;
    }
    case 18: { /* Format */
        static const char *const fm[] = {"JSON", "json", "XML", "xml", "Json", "", "yaml", "JSONP"};
        const char *f = fm[pick(g, AIPA_ARRAY_LEN(fm))];
        err = aipa_lf_req_set(r, "Format", f, strlen(f));
        break;
    }
    default: { /* Version */
        static const char *const vs[] = {"2014-05-27", "", "2014-5-26", "2016-11-11", "latest"};
        const char *s = vs[pick(g, AIPA_ARRAY_LEN(vs))];
        if (chance(g, 30)) {
            for (size_t i = 0; i < r->count; i++) {
                if (strcmp(r->params[i].name, "Version") == 0) {
                    aipa_lf_req_remove_at(r, i);
                    break;
                }
            }
        } else {
            err = aipa_lf_req_set(r, "Version", s, strlen(s));
        }
        break;
    }
    }
    aipa_buf_cleanup(&v);
    return err;
}

aipa_err aipa_lf_generate(struct aipa_lf_gen *g, struct aipa_lf_req *r)
{
    AIPA_TRY(aipa_lf_generate_valid(g, r));
    /* about a third stay valid: they move the state (allocations, starts) */
    uint64_t k = pick(g, 100);
    unsigned n = k < 35 ? 0 : k < 70 ? 1 : k < 88 ? 2 : k < 96 ? 3 : 4;
    for (unsigned i = 0; i < n; i++) {
        AIPA_TRY(aipa_lf_mutate(g, r));
    }
    return AIPA_OK;
}
