/*
 * Keys: generation, PKCS#8 PEM in memory, and public keys as uncompressed points.
 *
 * A p256-sha256 key is an OpenSSL "EC" key on prime256v1; a sm2-sm3 key is an "SM2"
 * key (OpenSSL 3 gives SM2 its own key type, and reads a PKCS#8 key with the SM2
 * algorithm OID back as that type). Nothing else is accepted for either suite.
 */
#include "crypto/crypto_internal.h"
#include "govchain/error.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/pem.h>

#define COORDINATE_LEN 32

static const char *key_type(gov_suite suite)
{
    return suite == GOV_SUITE_SM2_SM3 ? "SM2" : "EC";
}

static const char *group_name(gov_suite suite)
{
    return suite == GOV_SUITE_SM2_SM3 ? "SM2" : "prime256v1";
}

/* Whether pkey is a key of the suite: the right OpenSSL key type on the right curve. */
static bool pkey_matches_suite(EVP_PKEY *pkey, gov_suite suite)
{
    char group[64];
    size_t group_len = 0;
    if (!EVP_PKEY_is_a(pkey, key_type(suite))) {
        return false;
    }
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &group_len) != 1) {
        return false;
    }
    if (strcmp(group, group_name(suite)) != 0) {
        return false;
    }
    /* A key may spell its curve out as explicit parameters that merely equal the named
     * curve; such keys are written back the same way and other tools reject them, so
     * only the named form is a key of the suite. */
    char encoding[32];
    size_t encoding_len = 0;
    return EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_ENCODING, encoding,
                                          sizeof(encoding), &encoding_len) == 1 &&
           strcmp(encoding, OSSL_PKEY_EC_ENCODING_GROUP) == 0;
}

/* The public point of pkey as 0x04 || x || y. Read as coordinates rather than as the
 * encoded point, because a key loaded from PEM may carry a compressed-point form. */
static bool pkey_public_bytes(EVP_PKEY *pkey, uint8_t out[GOV_PUBLIC_KEY_LEN])
{
    BIGNUM *x = NULL;
    BIGNUM *y = NULL;
    bool ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
              EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1 &&
              BN_bn2binpad(x, out + 1, COORDINATE_LEN) == COORDINATE_LEN &&
              BN_bn2binpad(y, out + 1 + COORDINATE_LEN, COORDINATE_LEN) == COORDINATE_LEN;
    out[0] = 0x04;
    BN_free(x);
    BN_free(y);
    return ok;
}

/* Wraps pkey, a checked key of the suite, into a private key. Takes ownership of
 * pkey, also on failure. */
static int private_key_wrap(gov_suite suite, EVP_PKEY *pkey, gov_private_key **out)
{
    gov_private_key *key = malloc(sizeof(*key));
    if (key == NULL) {
        EVP_PKEY_free(pkey);
        return GOV_ENOMEM;
    }
    key->suite = suite;
    key->pkey = pkey;
    if (!pkey_public_bytes(pkey, key->public_bytes)) {
        goto fail;
    }
    key->sign_template = gov_crypto_template_new(suite, pkey, true);
    if (key->sign_template == NULL) {
        goto fail;
    }
    *out = key;
    return 0;

fail:
    ERR_clear_error();
    EVP_PKEY_free(pkey);
    free(key);
    return GOV_ECRYPTO;
}

int gov_private_key_generate(gov_suite suite, gov_private_key **out)
{
    if (!gov_suite_valid(suite) || out == NULL) {
        return GOV_EINVAL;
    }
    EVP_PKEY *pkey = suite == GOV_SUITE_SM2_SM3 ? EVP_PKEY_Q_keygen(NULL, NULL, "SM2")
                                                : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (pkey == NULL) {
        ERR_clear_error();
        return GOV_ECRYPTO;
    }
    return private_key_wrap(suite, pkey, out);
}

void gov_private_key_free(gov_private_key *key)
{
    if (key == NULL) {
        return;
    }
    EVP_MD_CTX_free(key->sign_template);
    /* EVP_PKEY_free clears the private scalar. */
    EVP_PKEY_free(key->pkey);
    free(key);
}

gov_suite gov_private_key_suite(const gov_private_key *key)
{
    return key->suite;
}

void gov_private_key_public(const gov_private_key *key, uint8_t out[GOV_PUBLIC_KEY_LEN])
{
    memcpy(out, key->public_bytes, GOV_PUBLIC_KEY_LEN);
}

int gov_private_key_to_pem(const gov_private_key *key, char **pem, size_t *pem_len)
{
    if (key == NULL || pem == NULL || pem_len == NULL) {
        return GOV_EINVAL;
    }
    /* A secure-memory BIO wipes its buffer when freed, so the only copy of the PEM
     * left is the one handed to the caller. */
    BIO *bio = BIO_new(BIO_s_secmem());
    if (bio == NULL) {
        return GOV_ENOMEM;
    }
    int rc = GOV_ECRYPTO;
    if (PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL) != 1) {
        goto out;
    }
    char *data = NULL;
    long data_len = BIO_get_mem_data(bio, &data);
    if (data_len <= 0 || data == NULL) {
        goto out;
    }
    char *copy = malloc((size_t)data_len + 1);
    if (copy == NULL) {
        rc = GOV_ENOMEM;
        goto out;
    }
    memcpy(copy, data, (size_t)data_len);
    copy[data_len] = '\0';
    *pem = copy;
    *pem_len = (size_t)data_len;
    rc = 0;

out:
    if (rc != 0) {
        ERR_clear_error();
    }
    BIO_free(bio);
    return rc;
}

void gov_private_key_pem_free(char *pem, size_t pem_len)
{
    if (pem == NULL) {
        return;
    }
    OPENSSL_cleanse(pem, pem_len);
    free(pem);
}

/* Refuses encrypted keys: without this callback OpenSSL would prompt on the terminal
 * for a passphrase, and a node must never wait for one. */
static int no_passphrase(char *buf, int size, int rwflag, void *user)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)user;
    return -1;
}

int gov_private_key_from_pem(gov_suite suite, const char *pem, size_t pem_len,
                             gov_private_key **out)
{
    if (!gov_suite_valid(suite) || pem == NULL || out == NULL || pem_len > INT_MAX) {
        return GOV_EINVAL;
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
    if (bio == NULL) {
        return GOV_ENOMEM;
    }
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (pkey == NULL) {
        goto fail_key;
    }
    if (!pkey_matches_suite(pkey, suite)) {
        goto fail_check;
    }
    /* A key file whose stored public point does not belong to its private scalar
     * would sign with one key while advertising another. */
    EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    bool consistent = check != NULL && EVP_PKEY_pairwise_check(check) == 1;
    EVP_PKEY_CTX_free(check);
    if (!consistent) {
        goto fail_check;
    }
    return private_key_wrap(suite, pkey, out);

fail_check:
    EVP_PKEY_free(pkey);
fail_key:
    ERR_clear_error();
    return GOV_EBADKEY;
}

/* An EVP_PKEY holding the point bytes (0x04 || x || y) of the suite's curve, or NULL
 * when OpenSSL refuses it: not on the curve, or coordinates out of range. */
static EVP_PKEY *public_pkey_from_point(gov_suite suite, const uint8_t bytes[GOV_PUBLIC_KEY_LEN])
{
    /* OSSL_PARAM has no const variant; fromdata only reads these. */
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group_name(suite), 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)bytes,
                                          GOV_PUBLIC_KEY_LEN),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, key_type(suite), NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    /* The full check: on the curve, not infinity, and of the group's order. */
    EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    bool valid = check != NULL && EVP_PKEY_public_check(check) == 1;
    EVP_PKEY_CTX_free(check);
    if (!valid) {
        EVP_PKEY_free(pkey);
        return NULL;
    }
    return pkey;
}

int gov_public_key_parse(gov_suite suite, const uint8_t bytes[GOV_PUBLIC_KEY_LEN],
                         gov_public_key **out)
{
    if (!gov_suite_valid(suite) || bytes == NULL || out == NULL) {
        return GOV_EINVAL;
    }
    /* Only the uncompressed form: compressed (0x02, 0x03), hybrid (0x06, 0x07) and
     * infinity (0x00) encodings are not public keys in govchain. */
    if (bytes[0] != 0x04) {
        return GOV_EBADKEY;
    }
    gov_public_key *key = malloc(sizeof(*key));
    if (key == NULL) {
        return GOV_ENOMEM;
    }
    int rc = GOV_EBADKEY;
    key->suite = suite;
    memcpy(key->bytes, bytes, GOV_PUBLIC_KEY_LEN);
    key->pkey = public_pkey_from_point(suite, bytes);
    if (key->pkey == NULL) {
        goto fail_pkey;
    }
    key->verify_template = gov_crypto_template_new(suite, key->pkey, false);
    if (key->verify_template == NULL) {
        rc = GOV_ECRYPTO;
        goto fail_template;
    }
    *out = key;
    return 0;

fail_template:
    EVP_PKEY_free(key->pkey);
fail_pkey:
    ERR_clear_error();
    free(key);
    return rc;
}

int gov_public_key_parse_hex(gov_suite suite, const char *hex, gov_public_key **out)
{
    uint8_t bytes[GOV_PUBLIC_KEY_LEN];
    if (!gov_suite_valid(suite) || hex == NULL || out == NULL) {
        return GOV_EINVAL;
    }
    /* Text that is not 130 hex digits is not a key either: one error for both. */
    if (gov_hex_decode(hex, bytes, sizeof(bytes)) != 0) {
        return GOV_EBADKEY;
    }
    return gov_public_key_parse(suite, bytes, out);
}

void gov_public_key_free(gov_public_key *key)
{
    if (key == NULL) {
        return;
    }
    EVP_MD_CTX_free(key->verify_template);
    EVP_PKEY_free(key->pkey);
    free(key);
}

gov_suite gov_public_key_suite(const gov_public_key *key)
{
    return key->suite;
}

void gov_public_key_bytes(const gov_public_key *key, uint8_t out[GOV_PUBLIC_KEY_LEN])
{
    memcpy(out, key->bytes, GOV_PUBLIC_KEY_LEN);
}
