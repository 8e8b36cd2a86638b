/*
 * TLS 1.3 for peer links, over memory BIOs, with validator identities pinned to the
 * validator set (docs/peers.md).
 *
 * Design note.
 *
 * Certificates. Each node makes a self-signed X.509 v3 certificate at start-up:
 * subject and issuer CN "govchain-validator-<index>" (for people reading logs; the
 * extension is authoritative), a random serial, a validity that nothing checks, and
 * the non-critical govchain link extension GOV_TLS_LINK_OID whose value is the DER of
 *
 *     GovchainLink ::= SEQUENCE {
 *         version        INTEGER (1),
 *         validator      INTEGER (0..63),
 *         chainId        OCTET STRING (SIZE (32)),
 *         linkSignature  OCTET STRING (SIZE (64)) OPTIONAL }   -- sm2-sm3 only
 *
 * The certificate's key depends on the suite:
 *   - p256-sha256: the validator's own key, so the TLS handshake itself (CertificateVerify)
 *     proves possession of the genesis key.
 *   - sm2-sm3: OpenSSL 3.0 cannot put an SM2 key in a TLS 1.3 handshake (it has no
 *     sm2sig_sm3 signature scheme and refuses an SM2 certificate with "unknown certificate
 *     type"), so the certificate's key is a fresh P-256 key and linkSignature is
 *     gov_sign(validator key, GOV_TLS_LINK_TAG, chain id, index as 4 bytes big-endian ||
 *     SubjectPublicKeyInfo DER). The handshake proves possession of the P-256 key and
 *     the signature ties that key to the genesis SM2 key.
 *
 * Verification replaces OpenSSL's chain building altogether
 * (SSL_CTX_set_cert_verify_callback): there is no CA, and validity dates, key usages
 * and chains mean nothing here. check_peer() below applies the rules listed in tls.h;
 * when it refuses, the handshake fails with an alert and the session keeps the reason.
 *
 * Invariants:
 *   1. A session reports its handshake done only after check_peer() accepted the leaf
 *      certificate, so peer_index is always an authenticated, allowed validator.
 *   2. Nothing but TLS 1.3 with ECDSA P-256 SHA-256 signatures is negotiated, and no
 *      session is ever resumed (no tickets, no cache), so every link is verified afresh.
 */
#include "node/tls.h"

#include "govchain/assert.h"
#include "govchain/error.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define LINK_VERSION      1
#define LINK_DER_LEN_P256 42  /* 30 28 | 02 01 01 | 02 01 i | 04 20 <32> */
#define LINK_DER_LEN_SM2  108 /* 30 6a | ... | 04 40 <64> */
#define CHAIN_PREFIX_LEN  8   /* the bytes before the chain id */
#define CERT_BYTES_MAX    16384
#define SPKI_BYTES_MAX    512
#define REASON_LEN        192

struct gov_tls {
    SSL_CTX *ctx;
    X509 *certificate;
    ASN1_OBJECT *link_oid;
    gov_suite suite;
    gov_hash chain_id;
    uint32_t own_index;
    uint32_t validators_count;
    uint8_t keys[GOV_VALIDATORS_MAX][GOV_PUBLIC_KEY_LEN];
    gov_public_key *parsed_keys[GOV_VALIDATORS_MAX];
};

struct gov_tls_session {
    gov_tls *tls;
    SSL *ssl;
    BIO *network_in;  /* bytes from the peer, read by OpenSSL */
    BIO *network_out; /* bytes OpenSSL wrote for the peer */
    uint64_t allowed_peers;
    bool handshake_done;
    bool refused;
    uint32_t peer_index;
    char refusal[REASON_LEN];
};

/* OpenSSL's most recent error as text, and the queue cleared, so that one failure
 * never leaks into the report of the next. */
static int openssl_fail(char *why, size_t why_len, const char *what)
{
    unsigned long code = ERR_peek_last_error();
    const char *reason = code != 0 ? ERR_reason_error_string(code) : NULL;
    ERR_clear_error();
    return gov_fail(why, why_len, GOV_ECRYPTO, "%s: %s", what,
                    reason != NULL ? reason : "OpenSSL error");
}

/* The uncompressed P-256 point of pkey, or false when pkey is not an EC key on P-256. */
static bool p256_public_bytes(EVP_PKEY *pkey, uint8_t out[GOV_PUBLIC_KEY_LEN])
{
    char group[64];
    size_t group_len = 0;
    if (!EVP_PKEY_is_a(pkey, "EC") ||
        EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &group_len) != 1 ||
        strcmp(group, "prime256v1") != 0) {
        return false;
    }
    BIGNUM *x = NULL;
    BIGNUM *y = NULL;
    bool ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
              EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1 &&
              BN_bn2binpad(x, out + 1, 32) == 32 && BN_bn2binpad(y, out + 33, 32) == 32;
    out[0] = 0x04;
    BN_free(x);
    BN_free(y);
    return ok;
}

/* The message the sm2-sm3 link signature covers: index (4 bytes, big-endian) || SPKI. */
static bool link_message(X509 *certificate, uint32_t index, uint8_t out[4 + SPKI_BYTES_MAX],
                         size_t *out_len)
{
    int spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(certificate), NULL);
    if (spki_len <= 0 || spki_len > SPKI_BYTES_MAX) {
        return false;
    }
    out[0] = (uint8_t)(index >> 24);
    out[1] = (uint8_t)(index >> 16);
    out[2] = (uint8_t)(index >> 8);
    out[3] = (uint8_t)index;
    uint8_t *cursor = out + 4;
    if (i2d_X509_PUBKEY(X509_get_X509_PUBKEY(certificate), &cursor) != spki_len) {
        return false;
    }
    *out_len = 4 + (size_t)spki_len;
    return true;
}

/* The GovchainLink DER (see the design note); signature NULL for p256-sha256. */
static size_t link_encode(uint32_t index, const gov_hash *chain_id,
                          const uint8_t signature[GOV_SIGNATURE_LEN], uint8_t out[LINK_DER_LEN_SM2])
{
    GOV_ASSERT(index < GOV_VALIDATORS_MAX);
    size_t len = signature != NULL ? LINK_DER_LEN_SM2 : LINK_DER_LEN_P256;
    const uint8_t prefix[CHAIN_PREFIX_LEN] = {
        0x30, (uint8_t)(len - 2), 0x02, 0x01, LINK_VERSION, 0x02, 0x01, (uint8_t)index,
    };
    memcpy(out, prefix, sizeof(prefix));
    out[8] = 0x04;
    out[9] = GOV_HASH_LEN;
    memcpy(out + 10, chain_id->bytes, GOV_HASH_LEN);
    if (signature != NULL) {
        out[42] = 0x04;
        out[43] = GOV_SIGNATURE_LEN;
        memcpy(out + 44, signature, GOV_SIGNATURE_LEN);
    }
    return len;
}

typedef struct {
    uint32_t index;
    gov_hash chain_id;
    bool has_signature;
    uint8_t signature[GOV_SIGNATURE_LEN];
} link_fields;

/* Strict parse of the GovchainLink DER: exactly one of the two shapes above. */
static bool link_decode(const uint8_t *der, size_t len, link_fields *out, char *why, size_t why_len)
{
    if (len != LINK_DER_LEN_P256 && len != LINK_DER_LEN_SM2) {
        gov_fail(why, why_len, GOV_EDECODE, "link extension of %zu bytes", len);
        return false;
    }
    if (der[0] != 0x30 || der[1] != len - 2 || der[2] != 0x02 || der[3] != 0x01 || der[5] != 0x02 ||
        der[6] != 0x01 || der[8] != 0x04 || der[9] != GOV_HASH_LEN) {
        gov_fail(why, why_len, GOV_EDECODE, "malformed link extension");
        return false;
    }
    if (der[4] != LINK_VERSION) {
        gov_fail(why, why_len, GOV_EDECODE, "link extension version %u (expected %u)", der[4],
                 LINK_VERSION);
        return false;
    }
    if (der[7] >= 0x80) { /* a negative DER INTEGER */
        gov_fail(why, why_len, GOV_EDECODE, "malformed validator index");
        return false;
    }
    out->index = der[7];
    memcpy(out->chain_id.bytes, der + 10, GOV_HASH_LEN);
    out->has_signature = len == LINK_DER_LEN_SM2;
    if (out->has_signature) {
        if (der[42] != 0x04 || der[43] != GOV_SIGNATURE_LEN) {
            gov_fail(why, why_len, GOV_EDECODE, "malformed link signature");
            return false;
        }
        memcpy(out->signature, der + 44, GOV_SIGNATURE_LEN);
    }
    return true;
}

/* The leaf's link extension, which must occur exactly once. */
static bool find_link(const gov_tls *tls, X509 *leaf, link_fields *out, char *why, size_t why_len)
{
    int position = X509_get_ext_by_OBJ(leaf, tls->link_oid, -1);
    if (position < 0) {
        gov_fail(why, why_len, GOV_EDECODE, "certificate has no govchain link extension");
        return false;
    }
    if (X509_get_ext_by_OBJ(leaf, tls->link_oid, position) >= 0) {
        gov_fail(why, why_len, GOV_EDECODE, "certificate has two govchain link extensions");
        return false;
    }
    ASN1_OCTET_STRING *value = X509_EXTENSION_get_data(X509_get_ext(leaf, position));
    return link_decode(ASN1_STRING_get0_data(value), (size_t)ASN1_STRING_length(value), out, why,
                       why_len);
}

/* The pinning rules (tls.h, numbered there). True when the leaf is an allowed
 * validator's; otherwise false with the reason. */
static bool check_peer(gov_tls_session *session, X509 *leaf, char *why, size_t why_len)
{
    const gov_tls *tls = session->tls;
    link_fields link;
    if (!find_link(tls, leaf, &link, why, why_len)) {
        return false;
    }
    if (link.index >= tls->validators_count) {
        gov_fail(why, why_len, GOV_EINVAL,
                 "certificate claims validator %u, which is not in genesis (%u validators)",
                 link.index, tls->validators_count);
        return false;
    }
    if (link.index == tls->own_index) {
        gov_fail(why, why_len, GOV_EINVAL, "certificate claims our own index %u", link.index);
        return false;
    }
    if ((session->allowed_peers >> link.index & 1) == 0) {
        gov_fail(why, why_len, GOV_EINVAL, "validator %u is not a peer expected here", link.index);
        return false;
    }
    if (!gov_hash_equal(&link.chain_id, &tls->chain_id)) {
        char theirs[2 * GOV_HASH_LEN + 1];
        gov_hex_encode(link.chain_id.bytes, GOV_HASH_LEN, theirs);
        gov_fail(why, why_len, GOV_EINVAL, "validator %u is on another chain (chain id %.16s...)",
                 link.index, theirs);
        return false;
    }
    EVP_PKEY *pkey = X509_get0_pubkey(leaf);
    uint8_t point[GOV_PUBLIC_KEY_LEN];
    if (pkey == NULL || !p256_public_bytes(pkey, point)) {
        gov_fail(why, why_len, GOV_EBADKEY, "certificate key is not a P-256 key");
        return false;
    }
    if (tls->suite == GOV_SUITE_P256_SHA256) {
        if (link.has_signature || memcmp(point, tls->keys[link.index], sizeof(point)) != 0) {
            gov_fail(why, why_len, GOV_EBADKEY,
                     "certificate key is not validator %u's key in genesis", link.index);
            return false;
        }
    } else {
        uint8_t message[4 + SPKI_BYTES_MAX];
        size_t message_len = 0;
        if (!link.has_signature || !link_message(leaf, link.index, message, &message_len) ||
            !gov_verify(tls->parsed_keys[link.index], GOV_TLS_LINK_TAG, &tls->chain_id, message,
                        message_len, link.signature)) {
            gov_fail(why, why_len, GOV_EBADSIG,
                     "link signature does not verify under validator %u's key in genesis",
                     link.index);
            return false;
        }
    }
    if (X509_verify(leaf, pkey) != 1) {
        ERR_clear_error();
        gov_fail(why, why_len, GOV_EBADSIG, "certificate self-signature does not verify");
        return false;
    }
    session->peer_index = link.index;
    return true;
}

/* OpenSSL's certificate verification, replaced (see the design note). */
static int cert_verify_cb(X509_STORE_CTX *store, void *arg)
{
    (void)arg;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    gov_tls_session *session = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
    X509 *leaf = X509_STORE_CTX_get0_cert(store);
    if (session == NULL || leaf == NULL) {
        X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    if (!check_peer(session, leaf, session->refusal, sizeof(session->refusal))) {
        session->refused = true;
        X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    X509_STORE_CTX_set_error(store, X509_V_OK);
    return 1;
}

/* The TLS key: for p256-sha256 the validator key itself, read back from its PEM (the
 * crypto module keeps its EVP_PKEY private); for sm2-sm3 a fresh P-256 key. */
static EVP_PKEY *tls_key_new(const gov_private_key *own_key)
{
    if (gov_private_key_suite(own_key) == GOV_SUITE_SM2_SM3) {
        return EVP_EC_gen("P-256");
    }
    char *pem = NULL;
    size_t pem_len = 0;
    if (gov_private_key_to_pem(own_key, &pem, &pem_len) != 0) {
        return NULL;
    }
    EVP_PKEY *pkey = NULL;
    BIO *bio = pem_len <= INT_MAX ? BIO_new_mem_buf(pem, (int)pem_len) : NULL;
    if (bio != NULL) {
        pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        BIO_free(bio);
    }
    gov_private_key_pem_free(pem, pem_len);
    return pkey;
}

static bool set_name(X509 *certificate, uint32_t index)
{
    char common_name[64];
    snprintf(common_name, sizeof(common_name), "govchain-validator-%u", index);
    X509_NAME *name = X509_get_subject_name(certificate);
    return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)common_name,
                                      -1, -1, 0) == 1 &&
           X509_set_issuer_name(certificate, name) == 1;
}

static bool set_serial(X509 *certificate)
{
    uint8_t random[8];
    if (RAND_bytes(random, sizeof(random)) != 1) {
        return false;
    }
    BIGNUM *serial = BN_bin2bn(random, sizeof(random), NULL);
    bool ok = serial != NULL && BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(certificate));
    BN_free(serial);
    return ok;
}

static bool add_link_extension(gov_tls *tls, X509 *certificate, const gov_private_key *own_key)
{
    uint8_t signature[GOV_SIGNATURE_LEN];
    const uint8_t *link_signature = NULL;
    if (tls->suite == GOV_SUITE_SM2_SM3) {
        uint8_t message[4 + SPKI_BYTES_MAX];
        size_t message_len = 0;
        if (!link_message(certificate, tls->own_index, message, &message_len) ||
            gov_sign(own_key, GOV_TLS_LINK_TAG, &tls->chain_id, message, message_len, signature) !=
                0) {
            return false;
        }
        link_signature = signature;
    }
    uint8_t der[LINK_DER_LEN_SM2];
    size_t der_len = link_encode(tls->own_index, &tls->chain_id, link_signature, der);
    ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
    X509_EXTENSION *extension = NULL;
    bool ok = value != NULL && ASN1_OCTET_STRING_set(value, der, (int)der_len) == 1 &&
              (extension = X509_EXTENSION_create_by_OBJ(NULL, tls->link_oid, 0, value)) != NULL &&
              X509_add_ext(certificate, extension, -1) == 1;
    X509_EXTENSION_free(extension);
    ASN1_OCTET_STRING_free(value);
    return ok;
}

/* The self-signed certificate described in the design note. */
static X509 *certificate_new(gov_tls *tls, EVP_PKEY *tls_key, const gov_private_key *own_key)
{
    X509 *certificate = X509_new();
    bool ok = certificate != NULL && X509_set_version(certificate, X509_VERSION_3) == 1 &&
              set_serial(certificate) && set_name(certificate, tls->own_index) &&
              X509_gmtime_adj(X509_getm_notBefore(certificate), -24L * 3600) != NULL &&
              X509_time_adj_ex(X509_getm_notAfter(certificate), 3650, 0, NULL) != NULL &&
              X509_set_pubkey(certificate, tls_key) == 1 &&
              add_link_extension(tls, certificate, own_key) &&
              X509_sign(certificate, tls_key, EVP_sha256()) > 0;
    if (!ok) {
        X509_free(certificate);
        return NULL;
    }
    return certificate;
}

static bool context_configure(SSL_CTX *ctx, gov_tls *tls)
{
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_cert_verify_callback(ctx, cert_verify_cb, tls);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_max_cert_list(ctx, CERT_BYTES_MAX);
    return SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1 &&
           SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) == 1 &&
           SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                                         "TLS_CHACHA20_POLY1305_SHA256") == 1 &&
           SSL_CTX_set1_sigalgs_list(ctx, "ECDSA+SHA256") == 1 &&
           SSL_CTX_set1_client_sigalgs_list(ctx, "ECDSA+SHA256") == 1 &&
           SSL_CTX_set1_groups_list(ctx, "X25519:P-256") == 1 &&
           SSL_CTX_set_num_tickets(ctx, 0) == 1;
}

static int config_check(const gov_tls_config *config, char *why, size_t why_len)
{
    if (!gov_suite_valid(config->suite) || config->own_key == NULL ||
        config->validator_keys == NULL) {
        return gov_fail(why, why_len, GOV_EINVAL, "incomplete TLS configuration");
    }
    if (config->validators_count == 0 || config->validators_count > GOV_VALIDATORS_MAX) {
        return gov_fail(why, why_len, GOV_EINVAL, "%u validators (1 to %d allowed)",
                        config->validators_count, GOV_VALIDATORS_MAX);
    }
    if (config->own_index >= config->validators_count) {
        return gov_fail(why, why_len, GOV_EINVAL, "own index %u is not below %u validators",
                        config->own_index, config->validators_count);
    }
    uint8_t own_public[GOV_PUBLIC_KEY_LEN];
    gov_private_key_public(config->own_key, own_public);
    if (gov_private_key_suite(config->own_key) != config->suite ||
        memcmp(own_public, config->validator_keys[config->own_index], sizeof(own_public)) != 0) {
        return gov_fail(why, why_len, GOV_EINVAL,
                        "the node key is not validator %u's key in genesis", config->own_index);
    }
    return 0;
}

int gov_tls_new(const gov_tls_config *config, gov_tls **out, char *why, size_t why_len)
{
    int rc = config_check(config, why, why_len);
    if (rc != 0) {
        return rc;
    }
    gov_tls *tls = calloc(1, sizeof(*tls));
    if (tls == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
    }
    tls->suite = config->suite;
    tls->chain_id = config->chain_id;
    tls->own_index = config->own_index;
    tls->validators_count = config->validators_count;
    for (uint32_t i = 0; i < config->validators_count; i++) {
        memcpy(tls->keys[i], config->validator_keys[i], GOV_PUBLIC_KEY_LEN);
        if (gov_public_key_parse(config->suite, tls->keys[i], &tls->parsed_keys[i]) != 0) {
            rc = gov_fail(why, why_len, GOV_EBADKEY, "validator %u's key is not a %s key", i,
                          gov_suite_name(config->suite));
            goto fail;
        }
    }
    EVP_PKEY *tls_key = NULL;
    tls->link_oid = OBJ_txt2obj(GOV_TLS_LINK_OID, 1);
    tls->ctx = SSL_CTX_new(TLS_method());
    if (tls->link_oid == NULL || tls->ctx == NULL || !context_configure(tls->ctx, tls) ||
        (tls_key = tls_key_new(config->own_key)) == NULL ||
        (tls->certificate = certificate_new(tls, tls_key, config->own_key)) == NULL ||
        SSL_CTX_use_certificate(tls->ctx, tls->certificate) != 1 ||
        SSL_CTX_use_PrivateKey(tls->ctx, tls_key) != 1 ||
        SSL_CTX_check_private_key(tls->ctx) != 1) {
        EVP_PKEY_free(tls_key);
        rc = openssl_fail(why, why_len, "making the TLS certificate");
        goto fail;
    }
    EVP_PKEY_free(tls_key); /* the context holds its own reference */
    *out = tls;
    return 0;
fail:
    gov_tls_free(tls);
    return rc;
}

void gov_tls_free(gov_tls *tls)
{
    if (tls == NULL) {
        return;
    }
    SSL_CTX_free(tls->ctx);
    X509_free(tls->certificate);
    ASN1_OBJECT_free(tls->link_oid);
    for (uint32_t i = 0; i < tls->validators_count; i++) {
        gov_public_key_free(tls->parsed_keys[i]);
    }
    free(tls);
}

int gov_tls_certificate_der(const gov_tls *tls, uint8_t **der, size_t *der_len)
{
    unsigned char *bytes = NULL;
    int len = i2d_X509(tls->certificate, &bytes);
    if (len <= 0) {
        ERR_clear_error();
        return GOV_ECRYPTO;
    }
    *der = bytes; /* OPENSSL_malloc'd; the caller frees it with OPENSSL_free */
    *der_len = (size_t)len;
    return 0;
}

int gov_tls_session_new(gov_tls *tls, bool client, uint64_t allowed_peers, gov_tls_session **out,
                        char *why, size_t why_len)
{
    gov_tls_session *session = calloc(1, sizeof(*session));
    if (session == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
    }
    session->tls = tls;
    session->allowed_peers = allowed_peers;
    session->ssl = SSL_new(tls->ctx);
    session->network_in = BIO_new(BIO_s_mem());
    session->network_out = BIO_new(BIO_s_mem());
    if (session->ssl == NULL || session->network_in == NULL || session->network_out == NULL) {
        BIO_free(session->network_in);
        BIO_free(session->network_out);
        SSL_free(session->ssl);
        free(session);
        return openssl_fail(why, why_len, "making a TLS session");
    }
    /* An empty input BIO means "wait for more", not end of file. */
    BIO_set_mem_eof_return(session->network_in, -1);
    SSL_set_bio(session->ssl, session->network_in, session->network_out);
    SSL_set_app_data(session->ssl, session);
    if (client) {
        SSL_set_connect_state(session->ssl);
    } else {
        SSL_set_accept_state(session->ssl);
    }
    *out = session;
    return 0;
}

void gov_tls_session_free(gov_tls_session *session)
{
    if (session != NULL) {
        SSL_free(session->ssl); /* frees both BIOs */
        free(session);
    }
}

int gov_tls_session_receive(gov_tls_session *session, const void *bytes, size_t len)
{
    size_t written = 0;
    if (len == 0) {
        return 0;
    }
    if (BIO_write_ex(session->network_in, bytes, len, &written) != 1 || written != len) {
        ERR_clear_error();
        return GOV_ENOMEM;
    }
    return 0;
}

/* The reason a TLS call failed, for the log. */
static int session_fail(gov_tls_session *session, int result, const char *what, char *why,
                        size_t why_len)
{
    int error = SSL_get_error(session->ssl, result);
    if (session->refused) {
        ERR_clear_error();
        return gov_fail(why, why_len, GOV_ECRYPTO, "refused the peer: %s", session->refusal);
    }
    if (error == SSL_ERROR_ZERO_RETURN) {
        ERR_clear_error();
        return gov_fail(why, why_len, GOV_EIO, "peer closed the connection");
    }
    return openssl_fail(why, why_len, what);
}

int gov_tls_session_handshake(gov_tls_session *session, char *why, size_t why_len)
{
    if (session->handshake_done) {
        return 0;
    }
    ERR_clear_error();
    int result = SSL_do_handshake(session->ssl);
    if (result == 1) {
        GOV_ASSERT(session->peer_index < session->tls->validators_count);
        GOV_ASSERT(session->allowed_peers >> session->peer_index & 1);
        session->handshake_done = true;
        return 0;
    }
    int error = SSL_get_error(session->ssl, result);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
        return GOV_TLS_AGAIN;
    }
    int rc = session_fail(session, result, "TLS handshake failed", why, why_len);
    return rc == GOV_EIO ? gov_fail(why, why_len, GOV_ECRYPTO, "peer closed the handshake") : rc;
}

bool gov_tls_session_handshake_done(const gov_tls_session *session)
{
    return session->handshake_done;
}

bool gov_tls_session_refused_peer(const gov_tls_session *session)
{
    return session->refused;
}

uint32_t gov_tls_session_peer_index(const gov_tls_session *session)
{
    GOV_ASSERT(session->handshake_done);
    return session->peer_index;
}

int gov_tls_session_read(gov_tls_session *session, void *buf, size_t len, size_t *got, char *why,
                         size_t why_len)
{
    GOV_ASSERT(session->handshake_done);
    *got = 0;
    ERR_clear_error();
    int result = SSL_read_ex(session->ssl, buf, len, got);
    if (result == 1) {
        return 0;
    }
    *got = 0;
    int error = SSL_get_error(session->ssl, result);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
        return 0;
    }
    return session_fail(session, result, "TLS read failed", why, why_len);
}

int gov_tls_session_write(gov_tls_session *session, const void *bytes, size_t len, char *why,
                          size_t why_len)
{
    GOV_ASSERT(session->handshake_done);
    size_t written = 0;
    ERR_clear_error();
    /* A memory BIO never pushes back, so a write takes all of its bytes or fails. */
    if (SSL_write_ex(session->ssl, bytes, len, &written) != 1 || written != len) {
        return openssl_fail(why, why_len, "TLS write failed");
    }
    return 0;
}

void gov_tls_session_close(gov_tls_session *session)
{
    if (session->handshake_done) {
        (void)SSL_shutdown(session->ssl);
    }
    ERR_clear_error();
}

size_t gov_tls_session_output_pending(const gov_tls_session *session)
{
    return BIO_ctrl_pending(session->network_out);
}

size_t gov_tls_session_take_output(gov_tls_session *session, void *buf, size_t len)
{
    size_t got = 0;
    if (len == 0 || BIO_read_ex(session->network_out, buf, len, &got) != 1) {
        ERR_clear_error();
        return 0;
    }
    return got;
}
