/*
 * aipa/poison.h: the C library calls this project never uses, made errors.
 *
 * strcat, strcpy, sprintf and vsprintf write without a bound; gets reads
 * without one. Use aipa_buf_* or snprintf/memcpy with a checked length.
 * aipa/common.h includes this last, so every project file that includes any
 * aipa header is covered. The headers that declare the names come first:
 * a later #include of them is then a no-op and does not trip the poison.
 */
#ifndef AIPA_POISON_H
#define AIPA_POISON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC poison strcat strcpy sprintf vsprintf gets

#endif /* AIPA_POISON_H */
