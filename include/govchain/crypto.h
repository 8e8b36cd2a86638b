/*
 * govchain crypto: the two signature suites, hashing, keys and domain-separated
 * signatures. OpenSSL 3 EVP only.
 *
 * Conventions. A chain uses one suite, fixed by its genesis:
 *   GOV_SUITE_P256_SHA256  ECDSA over NIST P-256 with SHA-256;
 *   GOV_SUITE_SM2_SM3      SM2 (GB/T 32918) with the default distinguishing id
 *                          "1234567812345678", set explicitly, and SM3 (GB/T 32905).
 * Hashes are 32 bytes. Public keys are uncompressed points (0x04 || x || y, 65 bytes),
 * written as 130 lowercase hex digits. Signatures are 64 bytes r || s, big-endian.
 *
 * Every govchain signature covers a domain: the preimage that the suite signs is
 *     tag || 0x00 || chain_id (32 bytes) || message
 * where tag is an ASCII string without NUL such as "govchain/tx/1" and chain_id is the
 * genesis hash (all zero only when signing something that precedes genesis). So no
 * signature made for one chain or one role verifies for another.
 *
 * gov_private_key and gov_public_key are opaque, immutable after creation and safe
 * to share between threads for signing and verifying. Arguments are borrowed.
 * Functions return 0 or a negative GOV_E* code (govchain/error.h); verification is a
 * predicate and returns bool. This module performs no file, clock or network I/O;
 * only key generation and signing draw randomness. Key files are read and written by
 * govchain/keyfile.h.
 */
#ifndef GOVCHAIN_CRYPTO_H
#define GOVCHAIN_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GOV_HASH_LEN           32
#define GOV_PUBLIC_KEY_LEN     65
#define GOV_PUBLIC_KEY_HEX_LEN (2 * GOV_PUBLIC_KEY_LEN)
#define GOV_SIGNATURE_LEN      64
#define GOV_SM2_DEFAULT_ID     "1234567812345678"

typedef enum {
    GOV_SUITE_P256_SHA256 = 1,
    GOV_SUITE_SM2_SM3 = 2,
} gov_suite;

typedef struct {
    uint8_t bytes[GOV_HASH_LEN];
} gov_hash;

typedef struct gov_private_key gov_private_key;
typedef struct gov_public_key gov_public_key;

/* "p256-sha256" or "sm2-sm3"; NULL for a value that is not a suite. */
const char *gov_suite_name(gov_suite suite);
/* Parses a suite name; GOV_EINVAL for anything else. */
int gov_suite_parse(const char *name, gov_suite *out);
bool gov_suite_valid(gov_suite suite);

/* Hashing with the suite's hash (SHA-256 or SM3). */
void gov_hash_bytes(gov_suite suite, const void *data, size_t len, gov_hash *out);

/* Incremental hashing, for preimages built from several pieces. */
typedef struct gov_hasher gov_hasher;
gov_hasher *gov_hasher_new(gov_suite suite); /* NULL when out of memory */
void gov_hasher_update(gov_hasher *hasher, const void *data, size_t len);
/* Writes the digest and resets the hasher for reuse. */
void gov_hasher_final(gov_hasher *hasher, gov_hash *out);
void gov_hasher_free(gov_hasher *hasher);

bool gov_hash_equal(const gov_hash *a, const gov_hash *b);
bool gov_hash_is_zero(const gov_hash *hash);

/* Hex helpers. gov_hex_encode writes 2*len lowercase digits and a NUL into
 * out[2*len+1]. gov_hex_decode accepts exactly 2*len hex digits (either case) and
 * returns GOV_EINVAL otherwise. */
void gov_hex_encode(const uint8_t *bytes, size_t len, char *out);
int gov_hex_decode(const char *hex, uint8_t *out, size_t len);

/* Keys. */
int gov_private_key_generate(gov_suite suite, gov_private_key **out);
void gov_private_key_free(gov_private_key *key);
gov_suite gov_private_key_suite(const gov_private_key *key);
void gov_private_key_public(const gov_private_key *key, uint8_t out[GOV_PUBLIC_KEY_LEN]);

/* PKCS#8 PEM (unencrypted "PRIVATE KEY"), in memory. The encoded buffer is owned by
 * the caller, who must wipe and free it with gov_private_key_pem_free. Decoding also
 * takes a SEC1 "EC PRIVATE KEY", and fails with GOV_EBADKEY when the PEM is not an
 * unencrypted key of the given suite on its named curve (P-256 EC for p256-sha256, SM2
 * for sm2-sm3; a curve spelt out as explicit parameters is refused). */
int gov_private_key_to_pem(const gov_private_key *key, char **pem, size_t *pem_len);
void gov_private_key_pem_free(char *pem, size_t pem_len);
int gov_private_key_from_pem(gov_suite suite, const char *pem, size_t pem_len,
                             gov_private_key **out);

/* Parses an uncompressed point of the suite's curve; GOV_EBADKEY when it is not a
 * valid point on the curve (including the point at infinity). */
int gov_public_key_parse(gov_suite suite, const uint8_t bytes[GOV_PUBLIC_KEY_LEN],
                         gov_public_key **out);
int gov_public_key_parse_hex(gov_suite suite, const char *hex, gov_public_key **out);
void gov_public_key_free(gov_public_key *key);
gov_suite gov_public_key_suite(const gov_public_key *key);
void gov_public_key_bytes(const gov_public_key *key, uint8_t out[GOV_PUBLIC_KEY_LEN]);

/* Domain-separated signatures (see the conventions above). */
int gov_sign(const gov_private_key *key, const char *tag, const gov_hash *chain_id,
             const void *message, size_t message_len, uint8_t signature[GOV_SIGNATURE_LEN]);
bool gov_verify(const gov_public_key *key, const char *tag, const gov_hash *chain_id,
                const void *message, size_t message_len,
                const uint8_t signature[GOV_SIGNATURE_LEN]);

/* Raw signatures over message as given, without a domain: the building block of the
 * two calls above, exposed for interoperability tests and known-answer vectors. */
int gov_sign_raw(const gov_private_key *key, const void *message, size_t message_len,
                 uint8_t signature[GOV_SIGNATURE_LEN]);
bool gov_verify_raw(const gov_public_key *key, const void *message, size_t message_len,
                    const uint8_t signature[GOV_SIGNATURE_LEN]);

#endif
