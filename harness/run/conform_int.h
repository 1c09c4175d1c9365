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

#endif /* AIPA_CONFORM_INT_H */
