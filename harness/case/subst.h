/*
 * subst.h: ${...} substitution, the one scanner for case files (the
 * conformance runner) and generated requests (the live fuzzer).
 * Private to the harness.
 */
#ifndef AIPA_SUBST_H
#define AIPA_SUBST_H

#include "aipa/common.h"

/*
 * Appends the value of the expression between "${" and "}" (expr, len bytes)
 * to out. AIPA_ENOTFOUND: the expression names nothing (see
 * AIPA_SUBST_KEEP_UNKNOWN); other errors stop the scan, with a reason in why
 * (may be NULL).
 */
typedef aipa_err (*aipa_subst_fn)(void *ctx, const char *expr, size_t len, struct aipa_buf *out,
                                  struct aipa_buf *why);

/*
 * Strict (flags 0), for case files: "$${" is a literal "${"; an
 * unterminated "${" is AIPA_EPARSE; every resolver error is returned.
 * AIPA_SUBST_KEEP_UNKNOWN, for generated values that may hold anything: a
 * "${" the resolver does not know (AIPA_ENOTFOUND), or without a closing
 * '}', stays as written and the scan goes on after its '$'; "$${" is not an
 * escape.
 */
#define AIPA_SUBST_KEEP_UNKNOWN 0x01u

/*
 * Copies s (n bytes, may hold NUL bytes) to out (appended; out is
 * NUL-terminated after) with every ${expr} replaced by resolve's value.
 */
AIPA_MUST_CHECK aipa_err aipa_subst(const char *s, size_t n, unsigned flags, aipa_subst_fn resolve,
                                    void *ctx, struct aipa_buf *out, struct aipa_buf *why);

#endif /* AIPA_SUBST_H */
