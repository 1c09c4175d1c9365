/*
 * Internal to libaipa: what the wire codec shares with the signers.
 */
#ifndef AIPA_WIRE_INT_H
#define AIPA_WIRE_INT_H

#include <stdint.h>

/* 1 for the unreserved bytes of spec/wire.md §2.2 step 4 (A-Z a-z 0-9 - _ . ~), which
 * percent-encoding leaves as they are; 0 for every other byte. */
extern const uint8_t aipa__unreserved[256];

#endif /* AIPA_WIRE_INT_H */
