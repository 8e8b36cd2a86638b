/*
 * Signing and verifying, raw and domain-separated.
 *
 * Both suites go through OpenSSL's digest-sign API: ECDSA-SHA256 for p256-sha256, and
 * SM2 with SM3 for sm2-sm3, where the digest is e = SM3(Z || message) and Z hashes the
 * distinguishing id, the curve and the public key (GB/T 32918.2 §5.5). OpenSSL 3.0
 * uses an empty id unless told otherwise, which other SM2 implementations reject, so
 * the template sets GOV_SM2_DEFAULT_ID with EVP_PKEY_CTX_set1_id.
 *
 * Each key keeps a template context (crypto_internal.h); a call copies it, feeds the
 * message in pieces (the domain-separated preimage is never assembled in memory) and
 * finishes. Copying skips the per-call algorithm fetch and, for SM2, computing Z,
 * which brings a verify within a few per cent of `openssl speed` (docs/crypto.md).
 *
 * OpenSSL speaks DER for ECDSA and SM2 signatures; govchain's are 64 bytes r || s.
 */
#include "crypto/crypto_internal.h"
#include "govchain/error.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>

#define SCALAR_LEN (GOV_SIGNATURE_LEN / 2)
/* SEQUENCE { INTEGER r, INTEGER s } with r, s < 2^256: each INTEGER is at most
 * 2 + 33 bytes (a leading zero keeps it positive), the SEQUENCE header 2 bytes. */
#define DER_SIGNATURE_LEN_MAX (2 + 2 * (2 + SCALAR_LEN + 1))

/* The order n of each curve's group. A signature scalar must lie in [1, n-1]; OpenSSL
 * checks that too, but r and s arrive from the network, so it is checked here before
 * anything else, on the bytes themselves. */
static const uint8_t p256_order[SCALAR_LEN] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};
static const uint8_t sm2_order[SCALAR_LEN] = {
    0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x72, 0x03, 0xdf, 0x6b, 0x21, 0xc6, 0x05, 0x2b, 0x53, 0xbb, 0xf4, 0x09, 0x39, 0xd5, 0x41, 0x23,
};

typedef int (*update_fn)(EVP_MD_CTX *ctx, const void *data, size_t len);

EVP_MD_CTX *gov_crypto_template_new(gov_suite suite, EVP_PKEY *pkey, bool sign)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    if (ctx == NULL) {
        return NULL;
    }
    const EVP_MD *md = gov_crypto_md(suite);
    int ok = sign ? EVP_DigestSignInit(ctx, &pctx, md, NULL, pkey)
                  : EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey);
    if (ok != 1) {
        goto fail;
    }
    if (suite == GOV_SUITE_SM2_SM3 &&
        EVP_PKEY_CTX_set1_id(pctx, GOV_SM2_DEFAULT_ID, strlen(GOV_SM2_DEFAULT_ID)) <= 0) {
        goto fail;
    }
    /* An empty update makes SM2 absorb Z now, once, instead of in every copy. */
    ok = sign ? EVP_DigestSignUpdate(ctx, "", 0) : EVP_DigestVerifyUpdate(ctx, "", 0);
    if (ok != 1) {
        goto fail;
    }
    /* Each copy is finished once, so final need not preserve it. */
    EVP_MD_CTX_set_flags(ctx, EVP_MD_CTX_FLAG_FINALISE);
    return ctx;

fail:
    EVP_MD_CTX_free(ctx);
    return NULL;
}

/* A domain tag: printable ASCII, at least one character. NUL cannot occur inside a C
 * string, which is what makes "tag || 0x00" an unambiguous prefix. */
static bool tag_valid(const char *tag)
{
    if (tag == NULL || tag[0] == '\0') {
        return false;
    }
    for (const char *c = tag; *c != '\0'; c++) {
        if (*c < 0x20 || *c > 0x7e) {
            return false;
        }
    }
    return true;
}

/* Feeds tag || 0x00 || chain_id || message to update. */
static bool update_preimage(EVP_MD_CTX *ctx, update_fn update, const char *tag,
                            const gov_hash *chain_id, const void *message, size_t message_len)
{
    static const uint8_t separator = 0x00;
    return update(ctx, tag, strlen(tag)) == 1 && update(ctx, &separator, 1) == 1 &&
           update(ctx, chain_id->bytes, GOV_HASH_LEN) == 1 &&
           update(ctx, message, message_len) == 1;
}

static bool scalar_in_range(const uint8_t scalar[SCALAR_LEN], const uint8_t order[SCALAR_LEN])
{
    static const uint8_t zero[SCALAR_LEN];
    /* Big-endian byte strings of one length compare as the numbers they encode. */
    return memcmp(scalar, zero, SCALAR_LEN) != 0 && memcmp(scalar, order, SCALAR_LEN) < 0;
}

/* DER encoding of r || s into der; returns its length, or 0 when OpenSSL fails. */
static size_t signature_to_der(const uint8_t signature[GOV_SIGNATURE_LEN],
                               uint8_t der[DER_SIGNATURE_LEN_MAX])
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(signature, SCALAR_LEN, NULL);
    BIGNUM *s = BN_bin2bn(signature + SCALAR_LEN, SCALAR_LEN, NULL);
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return 0;
    }
    /* Fits: see DER_SIGNATURE_LEN_MAX. */
    unsigned char *end = der;
    int len = i2d_ECDSA_SIG(sig, &end);
    ECDSA_SIG_free(sig);
    return len > 0 ? (size_t)len : 0;
}

static bool der_to_signature(const uint8_t *der, size_t der_len,
                             uint8_t signature[GOV_SIGNATURE_LEN])
{
    const unsigned char *cursor = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &cursor, (long)der_len);
    if (sig == NULL) {
        return false;
    }
    const BIGNUM *r = NULL;
    const BIGNUM *s = NULL;
    ECDSA_SIG_get0(sig, &r, &s);
    bool ok = BN_bn2binpad(r, signature, SCALAR_LEN) == SCALAR_LEN &&
              BN_bn2binpad(s, signature + SCALAR_LEN, SCALAR_LEN) == SCALAR_LEN;
    ECDSA_SIG_free(sig);
    return ok;
}

/* Signs the preimage (with a tag) or the message alone (tag NULL). */
static int sign_message(const gov_private_key *key, const char *tag, const gov_hash *chain_id,
                        const void *message, size_t message_len,
                        uint8_t signature[GOV_SIGNATURE_LEN])
{
    uint8_t der[DER_SIGNATURE_LEN_MAX];
    size_t der_len = sizeof(der);
    int rc = GOV_ECRYPTO;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_MD_CTX_copy_ex(ctx, key->sign_template) != 1) {
        goto out;
    }
    bool fed = tag != NULL
                   ? update_preimage(ctx, EVP_DigestSignUpdate, tag, chain_id, message, message_len)
                   : EVP_DigestSignUpdate(ctx, message, message_len) == 1;
    if (!fed || EVP_DigestSignFinal(ctx, der, &der_len) != 1 ||
        !der_to_signature(der, der_len, signature)) {
        goto out;
    }
    rc = 0;

out:
    if (rc != 0) {
        ERR_clear_error();
    }
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* Verifies over the preimage (with a tag) or the message alone (tag NULL). */
static bool verify_message(const gov_public_key *key, const char *tag, const gov_hash *chain_id,
                           const void *message, size_t message_len,
                           const uint8_t signature[GOV_SIGNATURE_LEN])
{
    const uint8_t *order = key->suite == GOV_SUITE_SM2_SM3 ? sm2_order : p256_order;
    if (!scalar_in_range(signature, order) || !scalar_in_range(signature + SCALAR_LEN, order)) {
        return false;
    }
    uint8_t der[DER_SIGNATURE_LEN_MAX];
    size_t der_len = signature_to_der(signature, der);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool valid = false;
    if (der_len == 0 || ctx == NULL || EVP_MD_CTX_copy_ex(ctx, key->verify_template) != 1) {
        goto out;
    }
    bool fed = tag != NULL ? update_preimage(ctx, EVP_DigestVerifyUpdate, tag, chain_id, message,
                                             message_len)
                           : EVP_DigestVerifyUpdate(ctx, message, message_len) == 1;
    valid = fed && EVP_DigestVerifyFinal(ctx, der, der_len) == 1;

out:
    if (!valid) {
        /* A forged signature is an ordinary outcome here, not an error to keep. */
        ERR_clear_error();
    }
    EVP_MD_CTX_free(ctx);
    return valid;
}

int gov_sign(const gov_private_key *key, const char *tag, const gov_hash *chain_id,
             const void *message, size_t message_len, uint8_t signature[GOV_SIGNATURE_LEN])
{
    if (key == NULL || !tag_valid(tag) || chain_id == NULL || signature == NULL ||
        (message == NULL && message_len > 0)) {
        return GOV_EINVAL;
    }
    return sign_message(key, tag, chain_id, message, message_len, signature);
}

bool gov_verify(const gov_public_key *key, const char *tag, const gov_hash *chain_id,
                const void *message, size_t message_len, const uint8_t signature[GOV_SIGNATURE_LEN])
{
    if (key == NULL || !tag_valid(tag) || chain_id == NULL || signature == NULL ||
        (message == NULL && message_len > 0)) {
        return false;
    }
    return verify_message(key, tag, chain_id, message, message_len, signature);
}

int gov_sign_raw(const gov_private_key *key, const void *message, size_t message_len,
                 uint8_t signature[GOV_SIGNATURE_LEN])
{
    if (key == NULL || signature == NULL || (message == NULL && message_len > 0)) {
        return GOV_EINVAL;
    }
    return sign_message(key, NULL, NULL, message, message_len, signature);
}

bool gov_verify_raw(const gov_public_key *key, const void *message, size_t message_len,
                    const uint8_t signature[GOV_SIGNATURE_LEN])
{
    if (key == NULL || signature == NULL || (message == NULL && message_len > 0)) {
        return false;
    }
    return verify_message(key, NULL, NULL, message, message_len, signature);
}
