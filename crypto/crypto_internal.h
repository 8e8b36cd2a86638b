/*
 * Internals shared by the files of the crypto module (hash.c, keys.c, sign.c).
 *
 * Keys hold a ready EVP_PKEY and a "template" EVP_MD_CTX: a digest-sign or
 * digest-verify context that is fully initialised (digest chosen; for SM2 the
 * distinguishing id set and Z already absorbed) and then never touched again. Each
 * signing or verifying call copies the template into a context of its own, so keys
 * are immutable after creation and can be shared between threads, and no call pays
 * for an algorithm fetch or for recomputing Z.
 */
#ifndef GOVCHAIN_CRYPTO_INTERNAL_H
#define GOVCHAIN_CRYPTO_INTERNAL_H

#include "govchain/assert.h"
#include "govchain/crypto.h"

#include <openssl/evp.h>

struct gov_private_key {
    gov_suite suite;
    EVP_PKEY *pkey;
    EVP_MD_CTX *sign_template;
    uint8_t public_bytes[GOV_PUBLIC_KEY_LEN];
};

struct gov_public_key {
    gov_suite suite;
    EVP_PKEY *pkey;
    EVP_MD_CTX *verify_template;
    uint8_t bytes[GOV_PUBLIC_KEY_LEN];
};

/* The suite's digest, fetched once per process. */
const EVP_MD *gov_crypto_md(gov_suite suite);

/* A template context for signing (sign true) or verifying with pkey, or NULL when
 * OpenSSL fails. Does not take ownership of pkey. */
EVP_MD_CTX *gov_crypto_template_new(gov_suite suite, EVP_PKEY *pkey, bool sign);

#endif
