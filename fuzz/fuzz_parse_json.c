/*
 * Target: aipa_parse_body on JSON bodies, aipa_detect_format, and the path
 * and value helpers (harness/parse/parse.c). Response bodies come from targets
 * the harness does not trust.
 *
 * Input: see fuzz_parse_common.h. Oracles:
 *   - the outcome contract (OK/EPARSE/ETOOBIG; a one-line reason on failure;
 *     no tree on failure), and the limits: a body past max_bytes or deeper
 *     than max_depth never parses;
 *   - differential against cJSON used directly: a body that is valid UTF-8,
 *     holds no NUL, no raw control byte and no \u0000 in a string, is within
 *     the limits and that cJSON parses whole must parse, to the same tree;
 *     a body cJSON rejects must be rejected;
 *   - paths: lookup, get, string, array_len/array_item agree with each
 *     other; aipa_is_ipv4 and aipa_is_request_id agree with references.
 */
#include "fuzz_parse_common.h"

static bool json_clean(const uint8_t *s, size_t n)
{
    bool in_str = false;

    if (!ref_utf8_valid(s, n) || memchr(s, 0, n) != NULL) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!in_str) {
            in_str = s[i] == '"';
            continue;
        }
        if (s[i] < 0x20) {
            return false;
        }
        if (s[i] == '\\') {
            if (n - i >= 6 && memcmp(s + i + 1, "u0000", 5) == 0) {
                return false;
            }
            i++;
        } else if (s[i] == '"') {
            in_str = false;
        }
    }
    return true;
}

/* parse.h refuses an object that names a member twice; cJSON keeps both. */
static bool has_dup_members(const cJSON *n)
{
    const cJSON *a;

    cJSON_ArrayForEach(a, n)
    {
        if (has_dup_members(a)) {
            return true;
        }
        for (const cJSON *b = a->next; cJSON_IsObject(n) && b != NULL; b = b->next) {
            if (strcmp(a->string, b->string) == 0) {
                return true;
            }
        }
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct parse_input in;

    parse_input_run(&in, AIPA_BODY_JSON, "application/json;charset=utf-8", "text/xml", data, size);
    if (in.err == AIPA_OK) {
        FUZZ_CHECK(in.d.format == AIPA_BODY_JSON && in.d.root_name[0] == '\0', "JSON doc fields");
        FUZZ_CHECK(tree_depth(in.d.root) <= in.lim.max_depth + 1,
                   "tree of depth %zu passed limit %zu", tree_depth(in.d.root), in.lim.max_depth);
    }

    /* differential against cJSON (BOM aside) */
    {
        size_t start =
            in.len >= 3 && in.body[0] == 0xEF && in.body[1] == 0xBB && in.body[2] == 0xBF ? 3 : 0;
        const char *end = NULL;
        cJSON *ref =
            cJSON_ParseWithLengthOpts((const char *)in.body + start, in.len - start, &end, 0);
        bool whole = false;
        if (ref != NULL) {
            size_t off = (size_t)(end - (const char *)in.body);
            while (off < in.len && (in.body[off] == ' ' || in.body[off] == '\t' ||
                                    in.body[off] == '\n' || in.body[off] == '\r')) {
                off++;
            }
            whole = off == in.len;
        }
        if (ref == NULL || !whole) {
            FUZZ_CHECK(in.err != AIPA_OK, "accepted a body cJSON rejects");
        } else if (in.len <= in.lim.max_bytes && tree_depth(ref) <= in.lim.max_depth &&
                   json_clean(in.body, in.len) && !has_dup_members(ref)) {
            FUZZ_CHECK(in.err == AIPA_OK, "rejected a clean body within the limits: %s",
                       in.why.ptr != NULL ? in.why.ptr : "");
            FUZZ_CHECK(tree_eq(ref, in.d.root), "the tree differs from cJSON's");
        }
        cJSON_Delete(ref);
    }
    parse_input_done(&in);
    return 0;
}
