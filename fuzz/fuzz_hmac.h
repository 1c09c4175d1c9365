/*
 * fuzz/fuzz_hmac.h: the signer targets' reference digests, for their
 * differential oracles.
 *
 * HMAC is built here from its definition (RFC 2104: the key padded to the
 * digest's block, H((K ^ opad) || H((K ^ ipad) || message))) over plain
 * OpenSSL digests, so it shares nothing with the EVP_MAC path of sign.c.
 * The digests are fetched once and one digest context is reused: OpenSSL's
 * one-shot HMAC() and SHA256() fetch the algorithm and allocate contexts on
 * every call, which cost the targets more than the code under test.
 */
#ifndef AIPA_FUZZ_HMAC_H
#define AIPA_FUZZ_HMAC_H

#include "fuzz_common.h"

#include <openssl/evp.h>

#define FZ_MD_BLOCK 64 /* SHA-1 and SHA-256 */

static EVP_MD *fz_md[2]; /* [0] SHA-1, [1] SHA-256 */
static EVP_MD_CTX *fz_md_ctx;

static inline void fz_md_init(void)
{
    if (fz_md_ctx != NULL) {
        return;
    }
    fz_md[0] = EVP_MD_fetch(NULL, "SHA1", NULL);
    fz_md[1] = EVP_MD_fetch(NULL, "SHA256", NULL);
    fz_md_ctx = EVP_MD_CTX_new();
    FUZZ_CHECK(fz_md[0] != NULL && fz_md[1] != NULL && fz_md_ctx != NULL, "digests");
    FUZZ_CHECK(EVP_MD_get_block_size(fz_md[0]) == FZ_MD_BLOCK &&
                   EVP_MD_get_block_size(fz_md[1]) == FZ_MD_BLOCK,
               "block size");
}

/* H(a || b) into out; returns the digest's length. */
static inline size_t fz_digest2(bool sha256, const void *a, size_t a_len, const void *b,
                                size_t b_len, unsigned char *out)
{
    unsigned int n = 0;

    fz_md_init();
    FUZZ_CHECK(EVP_DigestInit_ex2(fz_md_ctx, fz_md[sha256 ? 1 : 0], NULL) == 1 &&
                   EVP_DigestUpdate(fz_md_ctx, a, a_len) == 1 &&
                   EVP_DigestUpdate(fz_md_ctx, b, b_len) == 1 &&
                   EVP_DigestFinal_ex(fz_md_ctx, out, &n) == 1,
               "reference digest");
    return n;
}

/* HMAC-SHA1 (20 bytes) or HMAC-SHA256 (32 bytes) of msg under key. */
static inline size_t fz_hmac(bool sha256, const void *key, size_t key_len, const void *msg,
                             size_t len, unsigned char *out)
{
    unsigned char k[FZ_MD_BLOCK] = {0}, pad[FZ_MD_BLOCK], inner[EVP_MAX_MD_SIZE];
    size_t n;

    if (key_len > FZ_MD_BLOCK) {
        (void)fz_digest2(sha256, key, key_len, "", 0, k); /* a long key is hashed first */
    } else if (key_len > 0) {
        memcpy(k, key, key_len);
    }
    for (size_t i = 0; i < FZ_MD_BLOCK; i++) {
        pad[i] = (unsigned char)(k[i] ^ 0x36u);
    }
    n = fz_digest2(sha256, pad, FZ_MD_BLOCK, msg, len, inner);
    for (size_t i = 0; i < FZ_MD_BLOCK; i++) {
        pad[i] = (unsigned char)(k[i] ^ 0x5cu);
    }
    return fz_digest2(sha256, pad, FZ_MD_BLOCK, inner, n, out);
}

#endif /* AIPA_FUZZ_HMAC_H */
