/*
 * conform_int.h: internals shared by the conform*.c and report*.c files
 * (not a public interface).
 */
#ifndef AIPA_CONFORM_INT_H
#define AIPA_CONFORM_INT_H

#include "aipa/conform.h"
#include "subst.h" /* ${...}: the one scanner, in the case room */

/* Appends a formatted note to b (NULL-safe); a failed append is ignored. */
void aipa__note(struct aipa_buf *b, const char *fmt, ...) AIPA_PRINTF(2, 3);

/* Appends s in double quotes, control bytes and quotes escaped, cut at max bytes. */
void aipa__quote(struct aipa_buf *b, const char *s, size_t max);

/* A copy of s in which every byte that does not start a well-formed UTF-8
 * sequence becomes U+FFFD, so reports are always valid UTF-8 (NULL: ENOMEM). */
char *aipa__utf8_dup(const char *s);

/* The parsed form of one ${...} expression. */
enum aipa__ref_kind {
    AIPA_REF_FIXTURE,      /* ${vm}, ${vm[3]}, ${vm[i]} */
    AIPA_REF_INDEX,        /* ${i} */
    AIPA_REF_STEP,         /* ${step[N].PATH} */
    AIPA_REF_REGION,       /* ${region} */
    AIPA_REF_POOL_ADDRESS, /* ${pool.address} */
    AIPA_REF_POOL_OUTSIDE, /* ${pool.outside} */
};

struct aipa__ref {
    enum aipa__ref_kind kind;
    char name[64];    /* FIXTURE: the fixture name */
    bool index_is_i;  /* FIXTURE: [i] */
    size_t index;     /* FIXTURE: [K]; STEP: N */
    const char *path; /* STEP: into the expression (not NUL-terminated) */
    size_t path_len;
};

/* Parses expr[0..len) into r; AIPA_EPARSE with a reason in why. */
AIPA_MUST_CHECK aipa_err aipa__ref_parse(const char *expr, size_t len, struct aipa__ref *r,
                                         struct aipa_buf *why);

/* Parses "step[N].PATH" (same_as operands) into *step and *path (into s). */
AIPA_MUST_CHECK aipa_err aipa__stepref_parse(const char *s, size_t *step, const char **path);

/*
 * Reads at most max + 1 bytes of the file at path into *out (NUL-terminated;
 * aipa_free it) and their count into *len, so that *len > max tells the
 * caller the file is longer than max, to report in its own words. AIPA_EIO
 * (cannot open, read error) or AIPA_ENOMEM, with a note in err (NULL-safe).
 */
AIPA_MUST_CHECK aipa_err aipa__read_file(const char *path, size_t max, char **out, size_t *len,
                                         struct aipa_buf *err);

/* How many results of one edition (0: all) the baseline marks as known failures. */
size_t aipa__report_known(const struct aipa_report *r, unsigned edition);

/* The names of the variant axes: bit i of a variant-set mask stands for names[i]. */
extern const char *const aipa__sig_names[2];   /* "v1", "v3" */
extern const char *const aipa__shape_names[3]; /* "get", "post-query", "post-form" */
extern const char *const aipa__fmt_names[2];   /* "xml", "json" */

/* A non-empty JSON list of names[0..n) into a mask (bit i: names[i]); AIPA_EPARSE for
 * anything else (not a list, empty, a non-string or unknown item). */
struct cJSON;
AIPA_MUST_CHECK aipa_err aipa__axis_bits(const struct cJSON *v, const char *const *names, size_t n,
                                         unsigned *out);

/*
 * Runs wire step s (FORMAT.md "Wire steps") against target and judges it:
 * the first final answer against the step's outcomes, then the connection
 * checks. Sets *req_text and *resp_text (transcripts, aipa_free them; NULL
 * when nothing was sent) and appends why to reason. AIPA_V_SKIP for a
 * target that is not http://.
 */
enum aipa_verdict aipa__run_wire(const char *target, const struct aipa_step *s, unsigned edition,
                                 const struct aipa_run_env *env, struct aipa_buf *reason,
                                 char **req_text, char **resp_text);

#endif /* AIPA_CONFORM_INT_H */
