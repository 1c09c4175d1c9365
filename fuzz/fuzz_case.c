/*
 * Target: the conformance case loader aipa_case_parse and the curl-style
 * byte forms aipa_case_expand_bytes (harness/case/conform_case.c,
 * conformance/FORMAT.md). Case files are data anyone may write or receive
 * (a third party's suite, `aipa fuzz` findings), so the loader is a parser
 * of untrusted input.
 *
 * Input: byte 0 even: the rest is a case file; odd: the rest is a request
 * value for aipa_case_expand_bytes. Oracles:
 *   - parse: succeeds with *out set and no message, or fails with EPARSE /
 *     ETOOBIG, *out NULL and a one-line message that names the origin;
 *     a loaded case keeps every limit of aipa/conform.h (steps, outcomes,
 *     checks, fixtures, tags, repeat, id syntax) and parsing twice gives the
 *     same answer;
 *   - expand: text without '%' is copied as is; the output never exceeds
 *     AIPA_CASE_MAX_EXPANDED; the only errors are EPARSE and ETOOBIG; the
 *     output of a %hex[...]hex% form of bytes is those bytes.
 */
#include "aipa/conform.h"
#include "fuzz_common.h"

static bool id_ok(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > AIPA_CASE_MAX_ID || strstr(id, "//") != NULL || strstr(id, "..") != NULL) {
        return false;
    }
    if (!((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= '0' && id[0] <= '9'))) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '/' || c == '-')) {
            return false;
        }
    }
    return true;
}

static void check_case(const struct aipa_case *c)
{
    FUZZ_CHECK(c->id != NULL && id_ok(c->id), "loaded a case with id \"%s\"", c->id ? c->id : "");
    FUZZ_CHECK(c->title != NULL && c->clause != NULL && c->clause[0] != '\0' && c->source != NULL,
               "a required field is missing");
    FUZZ_CHECK(c->step_count >= 1 && c->step_count <= AIPA_CASE_MAX_STEPS, "%zu steps",
               c->step_count);
    FUZZ_CHECK(c->tag_count <= AIPA_CASE_MAX_TAGS && c->fixture_count <= AIPA_CASE_MAX_FIXTURES,
               "%zu tags, %zu fixtures", c->tag_count, c->fixture_count);
    FUZZ_CHECK((c->editions & ~AIPA_ED_ALL) == 0 && c->editions != 0, "editions 0x%x", c->editions);
    for (size_t i = 0; i < c->fixture_count; i++) {
        FUZZ_CHECK(c->fixtures[i].count >= 1 && c->fixtures[i].count <= AIPA_CASE_MAX_FIXTURE_COUNT,
                   "fixture count %u", c->fixtures[i].count);
    }
    for (size_t s = 0; s < c->step_count; s++) {
        const struct aipa_step *st = &c->steps[s];
        FUZZ_CHECK((st->params == NULL) != (st->raw == NULL) || st->param_count == 0,
                   "step %zu is both request and raw", s);
        FUZZ_CHECK(st->param_count <= AIPA_CASE_MAX_PARAMS, "%zu params", st->param_count);
        FUZZ_CHECK(st->repeat >= 1 && st->repeat <= AIPA_CASE_MAX_REPEAT, "repeat %u", st->repeat);
        FUZZ_CHECK(st->outcome_count >= 1 && st->outcome_count <= AIPA_CASE_MAX_OUTCOMES,
                   "%zu outcomes", st->outcome_count);
        for (size_t o = 0; o < st->outcome_count; o++) {
            const struct aipa_outcome *out = &st->outcomes[o];
            FUZZ_CHECK(out->status_count <= AIPA_OUTCOME_MAX_STATUS, "%zu statuses",
                       out->status_count);
            for (size_t k = 0; k < out->status_count; k++) {
                FUZZ_CHECK(out->status[k] >= 100 && out->status[k] <= 599, "status %d",
                           out->status[k]);
            }
            FUZZ_CHECK(out->check_count <= AIPA_CASE_MAX_CHECKS, "%zu checks", out->check_count);
            for (size_t k = 0; k < out->check_count; k++) {
                FUZZ_CHECK(out->checks[k].path != NULL, "a check without a path");
            }
        }
        if (st->raw != NULL) {
            FUZZ_CHECK(st->raw->method != NULL && st->raw->target != NULL && st->raw->body != NULL,
                       "raw step %zu lacks a field", s);
        }
    }
}

static void run_parse(const uint8_t *s, size_t n)
{
    struct aipa_case *c = NULL, *c2 = NULL;
    struct aipa_buf err, err2;
    aipa_err e, e2;

    aipa_buf_init(&err, 1u << 16);
    aipa_buf_init(&err2, 1u << 16);
    e = aipa_case_parse((const char *)s, n, "<fuzz>", &c, &err);
    if (e == AIPA_OK) {
        FUZZ_CHECK(c != NULL, "success without a case");
        FUZZ_CHECK(err.len == 0, "success with a message: %s", err.ptr);
        check_case(c);
    } else {
        FUZZ_CHECK(e == AIPA_EPARSE || e == AIPA_ETOOBIG, "parse returned %s", aipa_errname(e));
        FUZZ_CHECK(c == NULL, "failure left a case");
        FUZZ_CHECK(err.len > 0 && strstr(err.ptr, "<fuzz>") != NULL,
                   "failure message does not name the origin: \"%s\"", err.ptr ? err.ptr : "");
        FUZZ_CHECK(strchr(err.ptr, '\n') == NULL, "multi-line message: %s", err.ptr);
    }
    e2 = aipa_case_parse((const char *)s, n, "<fuzz>", &c2, &err2);
    FUZZ_CHECK(e2 == e && err2.len == err.len && (err.len == 0 || strcmp(err.ptr, err2.ptr) == 0),
               "parsing twice differs");
    aipa_case_free(c);
    aipa_case_free(c2);
    aipa_buf_cleanup(&err);
    aipa_buf_cleanup(&err2);
}

static void run_expand(const uint8_t *s, size_t n)
{
    struct aipa_buf out;
    aipa_err e;

    aipa_buf_init(&out, SIZE_MAX / 2);
    e = aipa_case_expand_bytes((const char *)s, n, &out);
    FUZZ_CHECK(e == AIPA_OK || e == AIPA_EPARSE || e == AIPA_ETOOBIG, "expand returned %s",
               aipa_errname(e));
    if (e == AIPA_OK) {
        FUZZ_CHECK(out.len <= AIPA_CASE_MAX_EXPANDED, "expanded to %zu bytes", out.len);
    }
    if (memchr(s, '%', n) == NULL) {
        FUZZ_CHECK(e == AIPA_OK && out.len == n && (n == 0 || memcmp(out.ptr, s, n) == 0),
                   "text without %% changed");
    }
    aipa_buf_cleanup(&out);

    /* %hex[ %XX ... ]hex% of the input's bytes gives back those bytes */
    if (n <= 1024) {
        static const char hex[] = "0123456789ABCDEF";
        static char form[1024 * 3 + 16]; /* the oracle's own: no allocation */
        size_t k = 0;
        memcpy(form, "%hex[", 5);
        k = 5;
        for (size_t i = 0; i < n; i++) {
            form[k++] = '%';
            form[k++] = hex[s[i] >> 4];
            form[k++] = hex[s[i] & 15];
        }
        memcpy(form + k, "]hex%", 5);
        k += 5;
        aipa_buf_init(&out, SIZE_MAX / 2);
        e = aipa_case_expand_bytes(form, k, &out);
        FUZZ_CHECK(e == AIPA_OK && out.len == n && (n == 0 || memcmp(out.ptr, s, n) == 0),
                   "%%hex[] of %zu bytes did not give them back (%s)", n, aipa_errname(e));
        aipa_buf_cleanup(&out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    if (data[0] & 1u) {
        run_expand(data + 1, size - 1);
    } else {
        run_parse(data + 1, size - 1);
    }
    return 0;
}
