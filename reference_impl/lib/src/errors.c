/* The Alibaba error table (see aipa/errors.h for the rows and their sources). */
#include "aipa/errors.h"

#include <string.h>

static const struct aipa_api_error table[] = {{AIPA_C_OK, "", 200, "", AIPA_ED_ALL, ""},
#define AIPA_CODE_ROW_(id, code, status, msg, ed, src) {id, code, status, msg, ed, src},
                                              AIPA_API_ERRORS(AIPA_CODE_ROW_)
#undef AIPA_CODE_ROW_
};

_Static_assert(AIPA_ARRAY_LEN(table) == AIPA_C_COUNT_, "one row per enum value");

/* ---- editions ---- */

unsigned aipa_edition_parse(const char *s)
{
    if (s == NULL) {
        return 0;
    }
    if (strcmp(s, "2018-08-02") == 0) {
        return AIPA_ED_2018;
    }
    if (strcmp(s, "2024-12-20") == 0) {
        return AIPA_ED_2024;
    }
    return 0;
}

const char *aipa_edition_name(unsigned edition_bit)
{
    switch (edition_bit) {
    case AIPA_ED_2018:
        return "2018-08-02";
    case AIPA_ED_2024:
        return "2024-12-20";
    default:
        return "?";
    }
}

const struct aipa_api_error *aipa_code_info(enum aipa_code id)
{
    if (id <= AIPA_C_OK || id >= AIPA_C_COUNT_) {
        return NULL;
    }
    return &table[id];
}

const struct aipa_api_error *aipa_code_lookup(const char *code, size_t n)
{
    enum aipa_code id;

    if (aipa_code_lookup_all(code, n, &id, 1) == 0) {
        return NULL;
    }
    return &table[id];
}

size_t aipa_code_lookup_all(const char *code, size_t n, enum aipa_code *out, size_t cap)
{
    size_t found = 0;

    for (size_t i = 1; i < AIPA_ARRAY_LEN(table); i++) {
        if (strlen(table[i].code) == n && memcmp(table[i].code, code, n) == 0) {
            if (found < cap) {
                out[found] = table[i].id;
            }
            found++;
        }
    }
    return found;
}

/* Copies tmpl into out, putting arg where "%s" stands (once). */
static aipa_err fill(const char *tmpl, const char *arg, struct aipa_buf *out)
{
    const char *hole = strstr(tmpl, "%s");

    if (hole == NULL) {
        return aipa_buf_puts(out, tmpl);
    }
    AIPA_TRY(aipa_buf_append(out, tmpl, (size_t)(hole - tmpl)));
    AIPA_TRY(aipa_buf_puts(out, arg == NULL ? "" : arg));
    return aipa_buf_puts(out, hole + 2);
}

aipa_err aipa_code_format_message(enum aipa_code id, const char *arg, struct aipa_buf *out)
{
    const struct aipa_api_error *e = aipa_code_info(id);

    AIPA_ENSURE(e != NULL, AIPA_EINVAL);
    return fill(e->message, arg, out);
}

aipa_err aipa_code_format_code(enum aipa_code id, const char *arg, struct aipa_buf *out)
{
    const struct aipa_api_error *e = aipa_code_info(id);

    AIPA_ENSURE(e != NULL, AIPA_EINVAL);
    return fill(e->code, arg, out);
}
