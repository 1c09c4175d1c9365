/*
 * conform_int.h: internals shared by the run room's files and the reports
 * above them (not a public interface).
 */
#ifndef AIPA_CONFORM_INT_H
#define AIPA_CONFORM_INT_H

#include "case_int.h" /* aipa__note, ${} references, the axis names */

/* Appends s in double quotes, control bytes and quotes escaped, cut at max bytes. */
void aipa__quote(struct aipa_buf *b, const char *s, size_t max);

/* A copy of s in which every byte that does not start a well-formed UTF-8
 * sequence becomes U+FFFD, so reports are always valid UTF-8 (NULL: ENOMEM). */
char *aipa__utf8_dup(const char *s);

/* How many results of one edition (0: all) the baseline marks as known failures. */
size_t aipa__report_known(const struct aipa_report *r, unsigned edition);

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
