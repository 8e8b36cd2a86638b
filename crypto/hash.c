/* Suites and hashing: SHA-256 for p256-sha256, SM3 for sm2-sm3. */
#include "crypto/crypto_internal.h"
#include "govchain/error.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

struct gov_hasher {
    EVP_MD_CTX *ctx;
    const EVP_MD *md;
};

/* Fetched once: an implicit fetch by name on every hash would take the provider
 * store's lock and a property lookup each time, which shows in verify throughput. */
static pthread_once_t digests_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;
static EVP_MD *sm3_md;

static void fetch_digests(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    sm3_md = EVP_MD_fetch(NULL, "SM3", NULL);
}

const EVP_MD *gov_crypto_md(gov_suite suite)
{
    GOV_ASSERT(gov_suite_valid(suite));
    int rc = pthread_once(&digests_once, fetch_digests);
    GOV_ASSERT(rc == 0);
    const EVP_MD *md = suite == GOV_SUITE_SM2_SM3 ? sm3_md : sha256_md;
    /* Both live in OpenSSL's default provider; without them nothing here can work. */
    GOV_ASSERT(md != NULL);
    return md;
}

const char *gov_suite_name(gov_suite suite)
{
    switch (suite) {
    case GOV_SUITE_P256_SHA256:
        return "p256-sha256";
    case GOV_SUITE_SM2_SM3:
        return "sm2-sm3";
    }
    return NULL;
}

int gov_suite_parse(const char *name, gov_suite *out)
{
    static const gov_suite suites[] = {GOV_SUITE_P256_SHA256, GOV_SUITE_SM2_SM3};
    if (name == NULL || out == NULL) {
        return GOV_EINVAL;
    }
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        if (strcmp(name, gov_suite_name(suites[i])) == 0) {
            *out = suites[i];
            return 0;
        }
    }
    return GOV_EINVAL;
}

bool gov_suite_valid(gov_suite suite)
{
    return gov_suite_name(suite) != NULL;
}

void gov_hash_bytes(gov_suite suite, const void *data, size_t len, gov_hash *out)
{
    unsigned int written = 0;
    GOV_ASSERT(EVP_Digest(data, len, out->bytes, &written, gov_crypto_md(suite), NULL) == 1);
    GOV_ASSERT(written == GOV_HASH_LEN);
}

gov_hasher *gov_hasher_new(gov_suite suite)
{
    gov_hasher *hasher = malloc(sizeof(*hasher));
    if (hasher == NULL) {
        return NULL;
    }
    hasher->md = gov_crypto_md(suite);
    hasher->ctx = EVP_MD_CTX_new();
    if (hasher->ctx == NULL) {
        goto fail_ctx;
    }
    if (EVP_DigestInit_ex2(hasher->ctx, hasher->md, NULL) != 1) {
        goto fail_init;
    }
    return hasher;

fail_init:
    ERR_clear_error();
    EVP_MD_CTX_free(hasher->ctx);
fail_ctx:
    free(hasher);
    return NULL;
}

void gov_hasher_update(gov_hasher *hasher, const void *data, size_t len)
{
    GOV_ASSERT(EVP_DigestUpdate(hasher->ctx, data, len) == 1);
}

void gov_hasher_final(gov_hasher *hasher, gov_hash *out)
{
    unsigned int written = 0;
    GOV_ASSERT(EVP_DigestFinal_ex(hasher->ctx, out->bytes, &written) == 1);
    GOV_ASSERT(written == GOV_HASH_LEN);
    GOV_ASSERT(EVP_DigestInit_ex2(hasher->ctx, hasher->md, NULL) == 1);
}

void gov_hasher_free(gov_hasher *hasher)
{
    if (hasher == NULL) {
        return;
    }
    EVP_MD_CTX_free(hasher->ctx);
    free(hasher);
}

bool gov_hash_equal(const gov_hash *a, const gov_hash *b)
{
    return memcmp(a->bytes, b->bytes, GOV_HASH_LEN) == 0;
}

bool gov_hash_is_zero(const gov_hash *hash)
{
    static const gov_hash zero;
    return gov_hash_equal(hash, &zero);
}
