/*
 * subst.c: ${...} substitution (subst.h).
 */
#include "subst.h"

#include <string.h>

/* Appends why's reason for an unterminated "${" at the start of s. */
static void note_unterminated(struct aipa_buf *why, const char *s, size_t n)
{
    if (why != NULL &&
        aipa_buf_printf(why, "unterminated ${ in \"%.*s\"", (int)(n > 60 ? 60 : n), s) != AIPA_OK) {
        /* a reason that did not fit is left out; the error stands */
    }
}

aipa_err aipa_subst(const char *s, size_t n, unsigned flags, aipa_subst_fn resolve, void *ctx,
                    struct aipa_buf *out, struct aipa_buf *why)
{
    bool keep = (flags & AIPA_SUBST_KEEP_UNKNOWN) != 0;
    size_t i = 0;

    if ((s == NULL && n > 0) || resolve == NULL || out == NULL) {
        return AIPA_EINVAL;
    }
    while (i < n) {
        if (s[i] != '$') {
            /* literal text up to the next '$' in one piece (long values dominate the cost) */
            const char *d = memchr(s + i, '$', n - i);
            size_t span = d != NULL ? (size_t)(d - (s + i)) : n - i;
            AIPA_TRY(aipa_buf_append(out, s + i, span));
            i += span;
            continue;
        }
        if (!keep && n - i >= 3 && s[i + 1] == '$' && s[i + 2] == '{') {
            AIPA_TRY(aipa_buf_append(out, "${", 2));
            i += 3;
            continue;
        }
        if (n - i < 2 || s[i + 1] != '{') {
            AIPA_TRY(aipa_buf_putc(out, '$'));
            i++;
            continue;
        }
        const char *close = memchr(s + i + 2, '}', n - i - 2);
        aipa_err err = AIPA_ENOTFOUND;
        if (close == NULL && !keep) {
            note_unterminated(why, s, n);
            return AIPA_EPARSE;
        }
        if (close != NULL) {
            err = resolve(ctx, s + i + 2, (size_t)(close - (s + i + 2)), out, why);
        }
        if (err == AIPA_ENOTFOUND && keep) {
            AIPA_TRY(aipa_buf_putc(out, '$')); /* stays as written */
            i++;
            continue;
        }
        AIPA_TRY(err);
        i = (size_t)(close - s) + 1;
    }
    if (out->ptr == NULL) {
        AIPA_TRY(aipa_buf_reserve(out, 1));
        out->ptr[0] = '\0';
    }
    return AIPA_OK;
}
