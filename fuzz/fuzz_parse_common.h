/*
 * fuzz/fuzz_parse_common.h: what fuzz_parse_xml and fuzz_parse_json share:
 * the input layout and its split-and-parse step (parse_input_run), the
 * checks every parse result must pass, and the path and value helpers of
 * aipa/parse.h exercised on the parsed tree.
 *
 * Input: byte 0 picks the limits (bits 0-1: default, depth 4, nodes 8,
 * bytes 64) and the Content-Type passed (bits 2-3: NULL, the matching type,
 * "text/plain", the other format's type); then a path string (fz_str),
 * then the body (the rest).
 */
#ifndef AIPA_FUZZ_PARSE_COMMON_H
#define AIPA_FUZZ_PARSE_COMMON_H

#include "aipa/parse.h"
#include "fuzz_common.h"

#include <ctype.h>

static inline struct aipa_parse_limits parse_limits(uint8_t opt)
{
    struct aipa_parse_limits lim = aipa_parse_default_limits();

    switch (opt & 3u) {
    case 1:
        lim.max_depth = 4;
        break;
    case 2:
        lim.max_nodes = 8;
        break;
    case 3:
        lim.max_bytes = 64;
        break;
    default:
        break;
    }
    return lim;
}

/* Depth of a tree, counting the node itself as 1. */
static inline size_t tree_depth(const cJSON *n)
{
    size_t d = 0;
    const cJSON *c;

    cJSON_ArrayForEach(c, n)
    {
        size_t cd = tree_depth(c);
        d = cd > d ? cd : d;
    }
    return d + 1;
}

/*
 * Structural equality; unlike cJSON_Compare, infinities equal themselves
 * (cJSON parses 1e999 to inf, and its compare subtracts).
 */
static inline bool tree_eq(const cJSON *a, const cJSON *b)
{
    const cJSON *c;

    if ((a->type & 0xFF) != (b->type & 0xFF)) {
        return false;
    }
    if (cJSON_IsNumber(a)) {
        return a->valuedouble == b->valuedouble ||
               (a->valuedouble != a->valuedouble && b->valuedouble != b->valuedouble);
    }
    if (cJSON_IsString(a)) {
        return strcmp(a->valuestring, b->valuestring) == 0;
    }
    if (cJSON_IsArray(a) || cJSON_IsObject(a)) {
        const cJSON *d = b->child;
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b)) {
            return false;
        }
        cJSON_ArrayForEach(c, a)
        {
            const cJSON *other =
                cJSON_IsObject(a) ? cJSON_GetObjectItemCaseSensitive(b, c->string) : d;
            if (other == NULL || !tree_eq(c, other)) {
                return false;
            }
            d = d != NULL ? d->next : NULL;
        }
    }
    return true;
}

/* The outcome contract of aipa_parse_body. */
static inline void check_outcome(aipa_err err, const struct aipa_doc *d, const struct aipa_buf *why,
                                 size_t len, const struct aipa_parse_limits *lim)
{
    FUZZ_CHECK(err == AIPA_OK || err == AIPA_EPARSE || err == AIPA_ETOOBIG, "parse returned %s",
               aipa_errname(err));
    FUZZ_CHECK(memchr(d->root_name, 0, sizeof(d->root_name)) != NULL, "root_name unterminated");
    if (err != AIPA_OK) {
        FUZZ_CHECK(d->root == NULL, "a failed parse left a tree");
        FUZZ_CHECK(why->len > 0 && strchr(why->ptr, '\n') == NULL, "reason \"%s\"",
                   why->ptr != NULL ? why->ptr : "");
        return;
    }
    FUZZ_CHECK(d->root != NULL, "success without a tree");
    FUZZ_CHECK(len <= lim->max_bytes, "a %zu-byte body passed a %zu-byte limit", len,
               lim->max_bytes);
}

static inline bool ref_is_ipv4(const char *s, size_t n)
{
    size_t i = 0;

    for (int part = 0; part < 4; part++) {
        size_t start = i;
        unsigned v = 0;
        if (part > 0) {
            if (i >= n || s[i] != '.') {
                return false;
            }
            start = ++i;
        }
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 4) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        if (i == start || i - start > 3 || v > 255 || (s[start] == '0' && i - start > 1)) {
            return false;
        }
    }
    return i == n;
}

static inline bool ref_is_request_id(const char *s, size_t n)
{
    static const size_t groups[] = {8, 4, 4, 4, 12};
    bool upper = false, lower = false;
    size_t i = 0;

    for (size_t g = 0; g < 5; g++) {
        if (g > 0) {
            if (i >= n || s[i] != '-') {
                return false;
            }
            i++;
        }
        for (size_t k = 0; k < groups[g]; k++, i++) {
            if (i >= n || !isxdigit((unsigned char)s[i])) {
                return false;
            }
            upper = upper || (s[i] >= 'A' && s[i] <= 'F');
            lower = lower || (s[i] >= 'a' && s[i] <= 'f');
        }
    }
    return i == n && !(upper && lower);
}

/* The path helpers on the parsed tree, and the value checks on its strings. */
static inline void check_paths(const cJSON *root, const char *path)
{
    const cJSON *out = (const cJSON *)1;
    aipa_err err = aipa_path_lookup(root, path, &out);
    size_t n;

    FUZZ_CHECK(err == AIPA_OK || err == AIPA_ENOTFOUND || err == AIPA_EINVAL, "lookup: %s",
               aipa_errname(err));
    FUZZ_CHECK((err == AIPA_OK) == (out != NULL), "lookup %s with out %p", aipa_errname(err),
               (const void *)out);
    FUZZ_CHECK(aipa_path_get(root, path) == out, "path_get and path_lookup disagree");
    if (path[0] == '\0') {
        FUZZ_CHECK(out == root, "the empty path is not the node itself");
    }
    n = aipa_path_array_len(root, path);
    if (out == NULL) {
        FUZZ_CHECK(n == 0, "absent node has length %zu", n);
    } else if (cJSON_IsArray(out)) {
        FUZZ_CHECK(n == (size_t)cJSON_GetArraySize(out), "array length %zu", n);
    }
    for (size_t i = 0; i < n && i < 64; i++) {
        FUZZ_CHECK(aipa_path_array_item(root, path, i) != NULL, "item %zu of %zu absent", i, n);
    }
    FUZZ_CHECK(aipa_path_array_item(root, path, n) == NULL, "item past the end present");
    if (out != NULL) {
        struct aipa_buf t;
        aipa_buf_init(&t, 1u << 20);
        err = aipa_node_scalar_text(out, &t);
        FUZZ_CHECK((err == AIPA_EINVAL) == (cJSON_IsObject(out) || cJSON_IsArray(out)),
                   "scalar_text of a %s: %s", aipa_node_type_name(out), aipa_errname(err));
        if (cJSON_IsString(out)) {
            const char *s = aipa_path_string(root, path);
            FUZZ_CHECK(s == out->valuestring, "path_string differs");
            FUZZ_CHECK(err == AIPA_OK && strcmp(t.ptr != NULL ? t.ptr : "", s) == 0,
                       "scalar_text of a string changed it");
            FUZZ_CHECK(aipa_is_ipv4(s, strlen(s)) == ref_is_ipv4(s, strlen(s)),
                       "is_ipv4(\"%s\") disagrees", s);
            FUZZ_CHECK(aipa_is_request_id(s, strlen(s)) == ref_is_request_id(s, strlen(s)),
                       "is_request_id(\"%s\") disagrees", s);
        }
        aipa_buf_cleanup(&t);
    }
    /* the path text itself as a value */
    FUZZ_CHECK(aipa_is_ipv4(path, strlen(path)) == ref_is_ipv4(path, strlen(path)),
               "is_ipv4(\"%s\") disagrees", path);
    FUZZ_CHECK(aipa_is_request_id(path, strlen(path)) == ref_is_request_id(path, strlen(path)),
               "is_request_id(\"%s\") disagrees", path);
}

/* One fuzz input split and parsed by aipa_parse_body (parse_input_run). */
struct parse_input {
    struct aipa_parse_limits lim;
    char path[256];
    const uint8_t *body; /* points into the fuzz input */
    size_t len;
    struct aipa_doc d;
    struct aipa_buf why;
    aipa_err err;
};

/*
 * Splits data as described at the top, runs aipa_detect_format and
 * aipa_parse_body as fmt with the Content-Type that bits 2-3 of byte 0 pick
 * (NULL, match_type, "text/plain", other_type), and checks the outcome
 * contract. Release in with parse_input_done.
 */
static inline void parse_input_run(struct parse_input *in, enum aipa_body_format fmt,
                                   const char *match_type, const char *other_type,
                                   const uint8_t *data, size_t size)
{
    const char *const types[] = {NULL, match_type, "text/plain", other_type};
    struct fz f = {data, size};
    uint8_t opt = fz_u8(&f);
    const char *ct = types[(opt >> 2) & 3u];

    in->lim = parse_limits(opt);
    fz_str(&f, in->path, sizeof(in->path), NULL);
    in->body = f.p;
    in->len = f.n;
    (void)aipa_detect_format(ct, in->body, in->len);
    aipa_doc_init(&in->d);
    aipa_buf_init(&in->why, 4096);
    in->err = aipa_parse_body(fmt, ct, in->body, in->len, &in->lim, &in->d, &in->why);
    check_outcome(in->err, &in->d, &in->why, in->len, &in->lim);
}

/* The path checks on a parsed tree (check_paths), then frees what in holds. */
static inline void parse_input_done(struct parse_input *in)
{
    if (in->err == AIPA_OK) {
        check_paths(in->d.root, in->path);
    }
    aipa_doc_cleanup(&in->d);
    aipa_buf_cleanup(&in->why);
}

#endif /* AIPA_FUZZ_PARSE_COMMON_H */
