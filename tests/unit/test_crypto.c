/*
 * Unit tests of the crypto module: Wycheproof vectors, hash known answers, interop
 * with the openssl command line for both suites, keys, key files, domain separation.
 */
#include "govchain/crypto.h"
#include "govchain/error.h"
#include "govchain/keyfile.h"
#include "tests/unit/test_util.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

static const gov_suite all_suites[] = {GOV_SUITE_P256_SHA256, GOV_SUITE_SM2_SM3};
#define SUITE_COUNT (sizeof(all_suites) / sizeof(all_suites[0]))

/* Group orders, to build out-of-range signature scalars. */
static const char p256_order_hex[] =
    "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
static const char sm2_order_hex[] =
    "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123";

/* Helpers ---------------------------------------------------------------------------- */

/* Decodes hex of any even length into a heap buffer (never NULL, even when empty). */
static uint8_t *hex_alloc(const char *hex, size_t *len)
{
    size_t digits = strlen(hex);
    if (digits % 2 != 0) {
        fail_msg("odd-length hex in test data: %s", hex);
    }
    uint8_t *bytes = malloc(digits / 2 + 1);
    assert_non_null(bytes);
    assert_int_equal(gov_hex_decode(hex, bytes, digits / 2), 0);
    *len = digits / 2;
    return bytes;
}

static void hex_fixed(const char *hex, uint8_t *out, size_t len)
{
    assert_int_equal(gov_hex_decode(hex, out, len), 0);
}

static gov_public_key *public_of(const gov_private_key *key)
{
    uint8_t point[GOV_PUBLIC_KEY_LEN];
    gov_public_key *public_key = NULL;
    gov_private_key_public(key, point);
    assert_int_equal(gov_public_key_parse(gov_private_key_suite(key), point, &public_key), 0);
    return public_key;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(data, 1, len, file), len);
    assert_int_equal(fclose(file), 0);
}

static char *path_in(const char *dir, const char *name)
{
    char *path = malloc(strlen(dir) + strlen(name) + 2);
    assert_non_null(path);
    sprintf(path, "%s/%s", dir, name);
    return path;
}

/* Runs a shell command with stderr merged into stdout; returns its exit status and
 * the start of its output in output[output_len]. */
__attribute__((format(printf, 3, 4))) static int run_command(char *output, size_t output_len,
                                                             const char *format, ...)
{
    char command[4096];
    va_list args;
    va_start(args, format);
    int written = vsnprintf(command, sizeof(command) - 8, format, args);
    va_end(args);
    assert_true(written > 0 && (size_t)written < sizeof(command) - 8);
    strcat(command, " 2>&1");
    FILE *pipe = popen(command, "r");
    assert_non_null(pipe);
    size_t used = fread(output, 1, output_len - 1, pipe);
    output[used] = '\0';
    while (fgetc(pipe) != EOF) {
    }
    int status = pclose(pipe);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* r || s from a DER ECDSA/SM2 signature. */
static void der_to_raw(const uint8_t *der, size_t der_len, uint8_t raw[GOV_SIGNATURE_LEN])
{
    const unsigned char *cursor = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &cursor, (long)der_len);
    assert_non_null(sig);
    const BIGNUM *r = NULL;
    const BIGNUM *s = NULL;
    ECDSA_SIG_get0(sig, &r, &s);
    assert_int_equal(BN_bn2binpad(r, raw, 32), 32);
    assert_int_equal(BN_bn2binpad(s, raw + 32, 32), 32);
    ECDSA_SIG_free(sig);
}

static size_t raw_to_der(const uint8_t raw[GOV_SIGNATURE_LEN], uint8_t der[80])
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    assert_non_null(sig);
    BIGNUM *r = BN_bin2bn(raw, 32, NULL);
    BIGNUM *s = BN_bin2bn(raw + 32, 32, NULL);
    assert_int_equal(ECDSA_SIG_set0(sig, r, s), 1);
    unsigned char *cursor = der;
    int len = i2d_ECDSA_SIG(sig, &cursor);
    assert_true(len > 0 && len <= 80);
    ECDSA_SIG_free(sig);
    return (size_t)len;
}

/* 1. Wycheproof ------------------------------------------------------------------------ */

typedef struct {
    long checked;
    long valid;
    long invalid;
    long acceptable_accepted;
    long acceptable_rejected;
    long groups_with_bad_key;
} wycheproof_counts;

static void wycheproof_test(const gov_public_key *key, json_t *test, wycheproof_counts *counts)
{
    json_int_t id = json_integer_value(json_object_get(test, "tcId"));
    const char *result = json_string_value(json_object_get(test, "result"));
    const char *msg_hex = json_string_value(json_object_get(test, "msg"));
    const char *sig_hex = json_string_value(json_object_get(test, "sig"));
    assert_non_null(result);
    assert_non_null(msg_hex);
    assert_non_null(sig_hex);
    size_t msg_len = 0;
    size_t sig_len = 0;
    uint8_t *msg = hex_alloc(msg_hex, &msg_len);
    uint8_t *sig = hex_alloc(sig_hex, &sig_len);
    /* Our API takes exactly 64 bytes: any other length is invalid without a call; a key
     * our parser refused makes every signature under it invalid. */
    bool accepted =
        key != NULL && sig_len == GOV_SIGNATURE_LEN && gov_verify_raw(key, msg, msg_len, sig);
    if (strcmp(result, "valid") == 0) {
        if (!accepted) {
            fail_msg("Wycheproof tcId %lld: valid signature rejected", (long long)id);
        }
        counts->valid++;
    } else if (strcmp(result, "invalid") == 0) {
        if (accepted) {
            fail_msg("Wycheproof tcId %lld: invalid signature accepted", (long long)id);
        }
        counts->invalid++;
    } else {
        assert_string_equal(result, "acceptable");
        if (accepted) {
            counts->acceptable_accepted++;
        } else {
            counts->acceptable_rejected++;
        }
    }
    counts->checked++;
    free(msg);
    free(sig);
}

static void wycheproof_group(json_t *group, wycheproof_counts *counts)
{
    json_t *public_key = json_object_get(group, "publicKey");
    assert_string_equal(json_string_value(json_object_get(public_key, "curve")), "secp256r1");
    assert_string_equal(json_string_value(json_object_get(group, "sha")), "SHA-256");
    const char *point_hex = json_string_value(json_object_get(public_key, "uncompressed"));
    assert_non_null(point_hex);
    size_t point_len = 0;
    uint8_t *point = hex_alloc(point_hex, &point_len);
    gov_public_key *key = NULL;
    if (point_len != GOV_PUBLIC_KEY_LEN ||
        gov_public_key_parse(GOV_SUITE_P256_SHA256, point, &key) != 0) {
        key = NULL;
        counts->groups_with_bad_key++;
    }
    size_t index;
    json_t *test;
    json_array_foreach(json_object_get(group, "tests"), index, test)
    {
        wycheproof_test(key, test, counts);
    }
    gov_public_key_free(key);
    free(point);
}

static void test_wycheproof_p256_p1363(void **state)
{
    (void)state;
    json_error_t error;
    const char *path = test_data_path("wycheproof/ecdsa_secp256r1_sha256_p1363_test.json");
    json_t *root = json_load_file(path, 0, &error);
    if (root == NULL) {
        fail_msg("%s:%d: %s", path, error.line, error.text);
    }
    json_int_t expected = json_integer_value(json_object_get(root, "numberOfTests"));
    assert_true(expected > 0);
    json_t *groups = json_object_get(root, "testGroups");
    assert_true(json_array_size(groups) > 0);
    wycheproof_counts counts = {0};
    size_t index;
    json_t *group;
    json_array_foreach(groups, index, group)
    {
        assert_string_equal(json_string_value(json_object_get(group, "type")), "EcdsaP1363Verify");
        wycheproof_group(group, &counts);
    }
    printf("# Wycheproof P-256 P1363: %ld tests (%ld valid, %ld invalid, acceptable %ld "
           "accepted / %ld rejected), %ld groups with a key we refused\n",
           counts.checked, counts.valid, counts.invalid, counts.acceptable_accepted,
           counts.acceptable_rejected, counts.groups_with_bad_key);
    assert_int_equal(counts.checked, expected);
    json_decref(root);
}

/* 2. Hashes ----------------------------------------------------------------------------- */

static void assert_hash_hex(gov_suite suite, const void *data, size_t len, const char *hex)
{
    gov_hash expected;
    gov_hash actual;
    hex_fixed(hex, expected.bytes, GOV_HASH_LEN);
    gov_hash_bytes(suite, data, len, &actual);
    assert_memory_equal(actual.bytes, expected.bytes, GOV_HASH_LEN);
}

static void test_hash_known_answers(void **state)
{
    (void)state;
    /* GB/T 32905-2016 appendix A, examples 1 and 2. */
    assert_hash_hex(GOV_SUITE_SM2_SM3, "abc", 3,
                    "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    char abcd[65];
    for (int i = 0; i < 16; i++) {
        memcpy(abcd + 4 * i, "abcd", 4);
    }
    assert_hash_hex(GOV_SUITE_SM2_SM3, abcd, 64,
                    "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
    /* FIPS 180-2 appendix B.1. */
    assert_hash_hex(GOV_SUITE_P256_SHA256, "abc", 3,
                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_hasher_incremental(void **state)
{
    (void)state;
    uint8_t data[1000];
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i * 7 + 3);
    }
    for (size_t s = 0; s < SUITE_COUNT; s++) {
        gov_hash one_shot;
        gov_hash_bytes(all_suites[s], data, sizeof(data), &one_shot);
        gov_hasher *hasher = gov_hasher_new(all_suites[s]);
        assert_non_null(hasher);
        /* Split points across block boundaries, and reuse of the hasher after final. */
        static const size_t splits[] = {0, 1, 63, 64, 65, 500, 999, 1000};
        for (size_t i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
            gov_hash pieces;
            gov_hasher_update(hasher, data, splits[i]);
            gov_hasher_update(hasher, NULL, 0);
            gov_hasher_update(hasher, data + splits[i], sizeof(data) - splits[i]);
            gov_hasher_final(hasher, &pieces);
            assert_true(gov_hash_equal(&pieces, &one_shot));
        }
        gov_hash empty;
        gov_hash empty_one_shot;
        gov_hasher_final(hasher, &empty);
        gov_hash_bytes(all_suites[s], "", 0, &empty_one_shot);
        assert_true(gov_hash_equal(&empty, &empty_one_shot));
        assert_false(gov_hash_is_zero(&empty));
        gov_hasher_free(hasher);
    }
    gov_hash zero = {{0}};
    assert_true(gov_hash_is_zero(&zero));
    gov_hasher_free(NULL);
}

static void test_suite_names(void **state)
{
    (void)state;
    gov_suite suite;
    assert_string_equal(gov_suite_name(GOV_SUITE_P256_SHA256), "p256-sha256");
    assert_string_equal(gov_suite_name(GOV_SUITE_SM2_SM3), "sm2-sm3");
    assert_null(gov_suite_name((gov_suite)0));
    assert_int_equal(gov_suite_parse("sm2-sm3", &suite), 0);
    assert_int_equal(suite, GOV_SUITE_SM2_SM3);
    assert_int_equal(gov_suite_parse("p256-sha256", &suite), 0);
    assert_int_equal(suite, GOV_SUITE_P256_SHA256);
    assert_int_equal(gov_suite_parse("P256-SHA256", &suite), GOV_EINVAL);
    assert_int_equal(gov_suite_parse("", &suite), GOV_EINVAL);
    assert_false(gov_suite_valid((gov_suite)3));
}

static void test_hex(void **state)
{
    (void)state;
    static const uint8_t bytes[] = {0x00, 0x01, 0xab, 0xcd, 0xef, 0xff};
    char hex[2 * sizeof(bytes) + 1];
    gov_hex_encode(bytes, sizeof(bytes), hex);
    assert_string_equal(hex, "0001abcdefff");
    uint8_t decoded[sizeof(bytes)];
    assert_int_equal(gov_hex_decode("0001ABCDEFff", decoded, sizeof(decoded)), 0);
    assert_memory_equal(decoded, bytes, sizeof(bytes));
    memset(decoded, 0x5a, sizeof(decoded));
    assert_int_equal(gov_hex_decode("0001abcdeff", decoded, sizeof(decoded)), GOV_EINVAL);
    assert_int_equal(gov_hex_decode("0001abcdefff00", decoded, sizeof(decoded)), GOV_EINVAL);
    assert_int_equal(gov_hex_decode("0001abcdefgf", decoded, sizeof(decoded)), GOV_EINVAL);
    assert_int_equal(gov_hex_decode(" 001abcdefff", decoded, sizeof(decoded)), GOV_EINVAL);
    /* Nothing is written on failure. */
    assert_int_equal(decoded[0], 0x5a);
    char empty[1];
    gov_hex_encode(bytes, 0, empty);
    assert_string_equal(empty, "");
}

/* 3. Interoperability with the openssl command line ------------------------------------ */

typedef struct {
    gov_suite suite;
    const char *genpkey_args;
    const char *digest;
    const char *id_option; /* SM2's distinguishing id, as the openssl tools take it */
} interop_case;

static const interop_case interop_cases[] = {
    {GOV_SUITE_SM2_SM3, "-algorithm SM2", "sm3", "-pkeyopt distid:" GOV_SM2_DEFAULT_ID},
    {GOV_SUITE_P256_SHA256, "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", "sha256", ""},
};

static const char interop_message[] = "a certificate of the land registry, 2024-05-01\n";

/* The public key in an openssl SubjectPublicKeyInfo PEM equals ours. */
static void assert_public_pem_equals(const char *path, const gov_private_key *key)
{
    FILE *file = fopen(path, "r");
    assert_non_null(file);
    EVP_PKEY *pkey = PEM_read_PUBKEY(file, NULL, NULL, NULL);
    fclose(file);
    assert_non_null(pkey);
    uint8_t theirs[GOV_PUBLIC_KEY_LEN + 8];
    uint8_t ours[GOV_PUBLIC_KEY_LEN];
    size_t len = 0;
    assert_int_equal(EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                                     theirs, sizeof(theirs), &len),
                     1);
    assert_int_equal(len, GOV_PUBLIC_KEY_LEN);
    gov_private_key_public(key, ours);
    assert_memory_equal(ours, theirs, GOV_PUBLIC_KEY_LEN);
    EVP_PKEY_free(pkey);
}

static void openssl_signs_govchain_verifies(const interop_case *c, const char *dir)
{
    char output[2048];
    char *key_path = path_in(dir, "openssl_key.pem");
    char *pub_path = path_in(dir, "openssl_pub.pem");
    char *msg_path = path_in(dir, "openssl_msg");
    char *sig_path = path_in(dir, "openssl_sig.der");
    write_file(msg_path, interop_message, strlen(interop_message));
    assert_int_equal(run_command(output, sizeof(output), "openssl genpkey %s -out '%s'",
                                 c->genpkey_args, key_path),
                     0);
    assert_int_equal(run_command(output, sizeof(output), "openssl pkey -in '%s' -pubout -out '%s'",
                                 key_path, pub_path),
                     0);
    assert_int_equal(run_command(output, sizeof(output),
                                 "openssl pkeyutl -sign -inkey '%s' -in '%s' -rawin -digest %s "
                                 "%s -out '%s'",
                                 key_path, msg_path, c->digest, c->id_option, sig_path),
                     0);
    size_t len = 0;
    char *pem = test_read_file(key_path, &len);
    gov_private_key *key = NULL;
    assert_int_equal(gov_private_key_from_pem(c->suite, pem, len, &key), 0);
    assert_public_pem_equals(pub_path, key);
    gov_public_key *public_key = public_of(key);
    char *der = test_read_file(sig_path, &len);
    uint8_t sig[GOV_SIGNATURE_LEN];
    der_to_raw((const uint8_t *)der, len, sig);
    char message[sizeof(interop_message)];
    memcpy(message, interop_message, sizeof(message));
    assert_true(gov_verify_raw(public_key, message, strlen(message), sig));
    message[3] ^= 0x01;
    assert_false(gov_verify_raw(public_key, message, strlen(message), sig));
    if (c->suite == GOV_SUITE_SM2_SM3) {
        /* Signed with OpenSSL's default (empty) id, which its own tool accepts back: a
         * govchain verifier must refuse it, or the id would not really be in use. */
        free(der);
        assert_int_equal(run_command(output, sizeof(output),
                                     "openssl pkeyutl -sign -inkey '%s' -in '%s' -rawin "
                                     "-digest sm3 -out '%s'",
                                     key_path, msg_path, sig_path),
                         0);
        assert_int_equal(run_command(output, sizeof(output),
                                     "openssl pkeyutl -verify -pubin -inkey '%s' -rawin "
                                     "-digest sm3 -in '%s' -sigfile '%s'",
                                     pub_path, msg_path, sig_path),
                         0);
        der = test_read_file(sig_path, &len);
        der_to_raw((const uint8_t *)der, len, sig);
        assert_false(gov_verify_raw(public_key, interop_message, strlen(interop_message), sig));
    }
    gov_public_key_free(public_key);
    gov_private_key_free(key);
    free(der);
    free(pem);
    free(key_path);
    free(pub_path);
    free(msg_path);
    free(sig_path);
}

/* openssl verifies signature over the file at msg_path; returns its exit status. */
static int openssl_verify(const interop_case *c, const char *pub_path, const char *msg_path,
                          const char *sig_path, const char *id_option, const uint8_t *signature)
{
    char output[2048];
    uint8_t der[80];
    size_t der_len = raw_to_der(signature, der);
    write_file(sig_path, der, der_len);
    int status = run_command(output, sizeof(output),
                             "openssl pkeyutl -verify -pubin -inkey '%s' -rawin -digest %s %s "
                             "-in '%s' -sigfile '%s'",
                             pub_path, c->digest, id_option, msg_path, sig_path);
    if (status == 0) {
        assert_non_null(strstr(output, "Signature Verified Successfully"));
    }
    return status;
}

static void govchain_signs_openssl_verifies(const interop_case *c, const char *dir)
{
    char output[2048];
    char why[256];
    char *key_path = path_in(dir, "govchain_key.pem");
    char *pub_path = path_in(dir, "govchain_pub.pem");
    char *msg_path = path_in(dir, "govchain_msg");
    char *sig_path = path_in(dir, "govchain_sig.der");
    gov_private_key *key = NULL;
    assert_int_equal(gov_private_key_generate(c->suite, &key), 0);
    assert_int_equal(gov_keyfile_write(key, key_path, why, sizeof(why)), 0);
    /* openssl reads the key file we wrote and finds the same public key. */
    assert_int_equal(run_command(output, sizeof(output), "openssl pkey -in '%s' -pubout -out '%s'",
                                 key_path, pub_path),
                     0);
    assert_public_pem_equals(pub_path, key);

    uint8_t sig[GOV_SIGNATURE_LEN];
    write_file(msg_path, interop_message, strlen(interop_message));
    assert_int_equal(gov_sign_raw(key, interop_message, strlen(interop_message), sig), 0);
    assert_int_equal(openssl_verify(c, pub_path, msg_path, sig_path, c->id_option, sig), 0);
    write_file(msg_path, "another message", 15);
    assert_int_not_equal(openssl_verify(c, pub_path, msg_path, sig_path, c->id_option, sig), 0);
    if (c->suite == GOV_SUITE_SM2_SM3) {
        write_file(msg_path, interop_message, strlen(interop_message));
        assert_int_not_equal(openssl_verify(c, pub_path, msg_path, sig_path, "", sig), 0);
    }

    /* The domain-separated signature is a plain signature over exactly
     * tag || 0x00 || chain_id || message, as docs/crypto.md says. */
    static const char tag[] = "govchain/tx/1";
    gov_hash chain_id;
    gov_hash_bytes(c->suite, "interop chain", 13, &chain_id);
    assert_int_equal(gov_sign(key, tag, &chain_id, interop_message, strlen(interop_message), sig),
                     0);
    uint8_t preimage[sizeof(tag) + GOV_HASH_LEN + sizeof(interop_message)];
    size_t preimage_len = 0;
    memcpy(preimage, tag, sizeof(tag)); /* with its NUL: the 0x00 separator */
    preimage_len += sizeof(tag);
    memcpy(preimage + preimage_len, chain_id.bytes, GOV_HASH_LEN);
    preimage_len += GOV_HASH_LEN;
    memcpy(preimage + preimage_len, interop_message, strlen(interop_message));
    preimage_len += strlen(interop_message);
    write_file(msg_path, preimage, preimage_len);
    assert_int_equal(openssl_verify(c, pub_path, msg_path, sig_path, c->id_option, sig), 0);

    gov_private_key_free(key);
    free(key_path);
    free(pub_path);
    free(msg_path);
    free(sig_path);
}

/*
 * SM2 verification written out from GB/T 32918 in the test itself, sharing nothing with
 * OpenSSL's SM2 code but elliptic-curve arithmetic and SM3: Z is computed from the
 * standard's definition with the default id, e = SM3(Z || M), and (r, s) is checked as
 * t = r + s, (x1, y1) = [s]G + [t]P, r == e + x1 (mod n). A govchain signature must pass,
 * and must fail when Z is built with any other id. So the id is the standard's and
 * is really applied, which an OpenSSL-only round trip cannot show.
 */
static const char sm2_a[] = "fffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffc";
static const char sm2_b[] = "28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93";
static const char sm2_gx[] = "32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7";
static const char sm2_gy[] = "bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0";

static bool sm2_verify_by_the_standard(const uint8_t public_key[GOV_PUBLIC_KEY_LEN], const char *id,
                                       const void *message, size_t len,
                                       const uint8_t signature[GOV_SIGNATURE_LEN])
{
    /* Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA), ENTL the id's bit length. */
    uint8_t z_input[2 + 64 + 6 * 32];
    size_t id_len = strlen(id);
    assert_true(id_len <= 64);
    size_t at = 0;
    z_input[at++] = (uint8_t)((id_len * 8) >> 8);
    z_input[at++] = (uint8_t)(id_len * 8);
    memcpy(z_input + at, id, id_len);
    at += id_len;
    const char *constants[] = {sm2_a, sm2_b, sm2_gx, sm2_gy};
    for (size_t i = 0; i < 4; i++, at += 32) {
        assert_int_equal(gov_hex_decode(constants[i], z_input + at, 32), 0);
    }
    memcpy(z_input + at, public_key + 1, 64);
    at += 64;
    gov_hash z;
    gov_hash_bytes(GOV_SUITE_SM2_SM3, z_input, at, &z);
    gov_hasher *hasher = gov_hasher_new(GOV_SUITE_SM2_SM3);
    assert_non_null(hasher);
    gov_hasher_update(hasher, z.bytes, GOV_HASH_LEN);
    gov_hasher_update(hasher, message, len);
    gov_hash e_bytes;
    gov_hasher_final(hasher, &e_bytes);
    gov_hasher_free(hasher);

    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_sm2);
    BN_CTX *ctx = BN_CTX_new();
    EC_POINT *p = EC_POINT_new(group);
    EC_POINT *sum = EC_POINT_new(group);
    BIGNUM *n = BN_new(), *r = BN_bin2bn(signature, 32, NULL);
    BIGNUM *sig_s = BN_bin2bn(signature + 32, 32, NULL), *t = BN_new();
    BIGNUM *e = BN_bin2bn(e_bytes.bytes, GOV_HASH_LEN, NULL), *x1 = BN_new();
    BIGNUM *check = BN_new();
    assert_true(group != NULL && ctx != NULL && p != NULL && sum != NULL && check != NULL);
    assert_int_equal(EC_GROUP_get_order(group, n, ctx), 1);
    assert_int_equal(EC_POINT_oct2point(group, p, public_key, GOV_PUBLIC_KEY_LEN, ctx), 1);
    assert_int_equal(BN_mod_add(t, r, sig_s, n, ctx), 1);
    assert_int_equal(EC_POINT_mul(group, sum, sig_s, p, t, ctx), 1);
    assert_int_equal(EC_POINT_get_affine_coordinates(group, sum, x1, NULL, ctx), 1);
    assert_int_equal(BN_mod_add(check, e, x1, n, ctx), 1);
    bool valid = BN_cmp(check, r) == 0;
    BN_free(check);
    BN_free(x1);
    BN_free(e);
    BN_free(t);
    BN_free(sig_s);
    BN_free(r);
    BN_free(n);
    EC_POINT_free(sum);
    EC_POINT_free(p);
    BN_CTX_free(ctx);
    EC_GROUP_free(group);
    return valid;
}

static void test_sm2_by_the_standard(void **state)
{
    (void)state;
    gov_private_key *key = NULL;
    assert_int_equal(gov_private_key_generate(GOV_SUITE_SM2_SM3, &key), 0);
    uint8_t public_key[GOV_PUBLIC_KEY_LEN];
    gov_private_key_public(key, public_key);
    static const char message[] = "business licence 91450100MA5K000000";
    uint8_t signature[GOV_SIGNATURE_LEN];
    for (int round = 0; round < 8; round++) {
        assert_int_equal(gov_sign_raw(key, message, strlen(message), signature), 0);
        assert_true(sm2_verify_by_the_standard(public_key, GOV_SM2_DEFAULT_ID, message,
                                               strlen(message), signature));
        assert_false(
            sm2_verify_by_the_standard(public_key, "", message, strlen(message), signature));
        assert_false(sm2_verify_by_the_standard(public_key, "ALICE123@YAHOO.COM", message,
                                                strlen(message), signature));
        assert_false(sm2_verify_by_the_standard(public_key, GOV_SM2_DEFAULT_ID, message,
                                                strlen(message) - 1, signature));
    }
    gov_private_key_free(key);
}

static void test_openssl_interop(void **state)
{
    (void)state;
    char output[256];
    if (run_command(output, sizeof(output), "openssl version") != 0) {
        fail_msg("the openssl command line is needed for this test: %s", output);
    }
    for (size_t i = 0; i < sizeof(interop_cases) / sizeof(interop_cases[0]); i++) {
        char *dir = test_make_temp_dir();
        openssl_signs_govchain_verifies(&interop_cases[i], dir);
        govchain_signs_openssl_verifies(&interop_cases[i], dir);
        test_remove_tree(dir);
        free(dir);
    }
}

/* 4. Keys ------------------------------------------------------------------------------- */

static void test_key_pem_round_trip(void **state)
{
    (void)state;
    for (size_t s = 0; s < SUITE_COUNT; s++) {
        gov_suite suite = all_suites[s];
        gov_suite other = suite == GOV_SUITE_SM2_SM3 ? GOV_SUITE_P256_SHA256 : GOV_SUITE_SM2_SM3;
        gov_private_key *key = NULL;
        assert_int_equal(gov_private_key_generate(suite, &key), 0);
        assert_int_equal(gov_private_key_suite(key), suite);
        char *pem = NULL;
        size_t pem_len = 0;
        assert_int_equal(gov_private_key_to_pem(key, &pem, &pem_len), 0);
        assert_int_equal(strlen(pem), pem_len);
        assert_true(strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
        assert_non_null(strstr(pem, "-----END PRIVATE KEY-----"));

        gov_private_key *loaded = NULL;
        assert_int_equal(gov_private_key_from_pem(suite, pem, pem_len, &loaded), 0);
        uint8_t a[GOV_PUBLIC_KEY_LEN];
        uint8_t b[GOV_PUBLIC_KEY_LEN];
        gov_private_key_public(key, a);
        gov_private_key_public(loaded, b);
        assert_memory_equal(a, b, GOV_PUBLIC_KEY_LEN);
        assert_int_equal(a[0], 0x04);
        /* The reloaded key signs for the original public key. */
        gov_public_key *public_key = public_of(key);
        uint8_t sig[GOV_SIGNATURE_LEN];
        assert_int_equal(gov_sign_raw(loaded, "x", 1, sig), 0);
        assert_true(gov_verify_raw(public_key, "x", 1, sig));
        gov_public_key_bytes(public_key, b);
        assert_memory_equal(a, b, GOV_PUBLIC_KEY_LEN);
        assert_int_equal(gov_public_key_suite(public_key), suite);

        gov_private_key *wrong = NULL;
        assert_int_equal(gov_private_key_from_pem(other, pem, pem_len, &wrong), GOV_EBADKEY);
        assert_null(wrong);
        /* A PEM cut short is not a key. */
        assert_int_equal(gov_private_key_from_pem(suite, pem, pem_len / 2, &wrong), GOV_EBADKEY);

        gov_public_key_free(public_key);
        gov_private_key_free(loaded);
        gov_private_key_free(key);
        gov_private_key_pem_free(pem, pem_len);
    }
}

static void test_key_pem_rejects(void **state)
{
    (void)state;
    gov_private_key *key = NULL;
    static const char garbage[] = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n"
                                  "-----END PRIVATE KEY-----\n";
    assert_int_equal(
        gov_private_key_from_pem(GOV_SUITE_P256_SHA256, garbage, strlen(garbage), &key),
        GOV_EBADKEY);
    assert_int_equal(gov_private_key_from_pem(GOV_SUITE_SM2_SM3, "hello", 5, &key), GOV_EBADKEY);
    assert_int_equal(gov_private_key_from_pem(GOV_SUITE_SM2_SM3, "", 0, &key), GOV_EBADKEY);

    /* A P-256 key on another curve (P-384), and an encrypted key: both refused. (That
     * the encrypted one is refused without a passphrase prompt rests on the callback in
     * crypto/keys.c; a test without a terminal cannot observe a prompt.) */
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    assert_non_null(p384);
    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey(bio, p384, NULL, NULL, 0, NULL, NULL), 1);
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    assert_int_equal(gov_private_key_from_pem(GOV_SUITE_P256_SHA256, data, (size_t)len, &key),
                     GOV_EBADKEY);
    BIO_free(bio);
    EVP_PKEY_free(p384);

    EVP_PKEY *p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    assert_non_null(p256);
    bio = BIO_new(BIO_s_mem());
    assert_int_equal(
        PEM_write_bio_PKCS8PrivateKey(bio, p256, EVP_aes_256_cbc(), "secret", 6, NULL, NULL), 1);
    len = BIO_get_mem_data(bio, &data);
    assert_int_equal(gov_private_key_from_pem(GOV_SUITE_P256_SHA256, data, (size_t)len, &key),
                     GOV_EBADKEY);
    BIO_free(bio);
    EVP_PKEY_free(p256);
    assert_null(key);

    /* A P-256 key whose curve is spelt out as explicit parameters, not named. */
    char pem[4096];
    assert_int_equal(run_command(pem, sizeof(pem),
                                 "openssl ecparam -name prime256v1 -genkey -noout "
                                 "-param_enc explicit | openssl pkcs8 -topk8 -nocrypt"),
                     0);
    assert_non_null(strstr(pem, "BEGIN PRIVATE KEY"));
    assert_int_equal(gov_private_key_from_pem(GOV_SUITE_P256_SHA256, pem, strlen(pem), &key),
                     GOV_EBADKEY);
    assert_null(key);
}

static void assert_parse_fails(gov_suite suite, const uint8_t point[GOV_PUBLIC_KEY_LEN])
{
    gov_public_key *key = NULL;
    assert_int_equal(gov_public_key_parse(suite, point, &key), GOV_EBADKEY);
    assert_null(key);
}

static void test_public_key_parse_rejects(void **state)
{
    (void)state;
    for (size_t s = 0; s < SUITE_COUNT; s++) {
        gov_suite suite = all_suites[s];
        gov_private_key *key = NULL;
        assert_int_equal(gov_private_key_generate(suite, &key), 0);
        uint8_t good[GOV_PUBLIC_KEY_LEN];
        uint8_t bad[GOV_PUBLIC_KEY_LEN];
        gov_private_key_public(key, good);
        static const uint8_t prefixes[] = {0x00, 0x02, 0x03, 0x05, 0x06, 0x07};
        for (size_t i = 0; i < sizeof(prefixes); i++) {
            memcpy(bad, good, sizeof(bad));
            bad[0] = prefixes[i];
            assert_parse_fails(suite, bad);
        }
        memcpy(bad, good, sizeof(bad));
        bad[GOV_PUBLIC_KEY_LEN - 1] ^= 0x01; /* y no longer matches x */
        assert_parse_fails(suite, bad);
        memset(bad, 0, sizeof(bad));
        assert_parse_fails(suite, bad); /* infinity, however encoded */
        bad[0] = 0x04;
        assert_parse_fails(suite, bad); /* (0, 0) */
        memset(bad + 1, 0xff, GOV_PUBLIC_KEY_LEN - 1);
        assert_parse_fails(suite, bad); /* coordinates beyond the field */

        /* A point of the other suite's curve is not a point of this one. */
        gov_private_key *other = NULL;
        gov_suite other_suite =
            suite == GOV_SUITE_SM2_SM3 ? GOV_SUITE_P256_SHA256 : GOV_SUITE_SM2_SM3;
        assert_int_equal(gov_private_key_generate(other_suite, &other), 0);
        gov_private_key_public(other, bad);
        assert_parse_fails(suite, bad);

        /* Hex: the right text parses (either case); anything else is not a key. */
        char hex[GOV_PUBLIC_KEY_HEX_LEN + 3];
        gov_public_key *parsed = NULL;
        gov_hex_encode(good, GOV_PUBLIC_KEY_LEN, hex);
        assert_int_equal(gov_public_key_parse_hex(suite, hex, &parsed), 0);
        gov_public_key_free(parsed);
        for (char *c = hex; *c != '\0'; c++) {
            *c = *c >= 'a' && *c <= 'f' ? (char)(*c - 'a' + 'A') : *c;
        }
        assert_int_equal(gov_public_key_parse_hex(suite, hex, &parsed), 0);
        gov_public_key_free(parsed);
        parsed = NULL;
        hex[GOV_PUBLIC_KEY_HEX_LEN - 1] = '\0'; /* odd length */
        assert_int_equal(gov_public_key_parse_hex(suite, hex, &parsed), GOV_EBADKEY);
        hex[GOV_PUBLIC_KEY_HEX_LEN - 2] = '\0'; /* one byte short */
        assert_int_equal(gov_public_key_parse_hex(suite, hex, &parsed), GOV_EBADKEY);
        gov_hex_encode(good, GOV_PUBLIC_KEY_LEN, hex);
        strcat(hex, "00"); /* one byte long */
        assert_int_equal(gov_public_key_parse_hex(suite, hex, &parsed), GOV_EBADKEY);
        gov_hex_encode(good, GOV_PUBLIC_KEY_LEN, hex);
        hex[20] = 'g';
        assert_int_equal(gov_public_key_parse_hex(suite, hex, &parsed), GOV_EBADKEY);
        assert_null(parsed);

        gov_private_key_free(other);
        gov_private_key_free(key);
    }
}

/* 5. Key files -------------------------------------------------------------------------- */

/* A new key file in a fresh directory; the caller frees both strings. */
static char *new_key_file(const gov_private_key *key, char **dir)
{
    char why[512];
    *dir = test_make_temp_dir();
    char *path = path_in(*dir, "validator.pem");
    assert_int_equal(gov_keyfile_write(key, path, why, sizeof(why)), 0);
    return path;
}

static void test_keyfile_write(void **state)
{
    (void)state;
    char why[512];
    char *dir = NULL;
    gov_private_key *key = NULL;
    assert_int_equal(gov_private_key_generate(GOV_SUITE_SM2_SM3, &key), 0);
    char *path = new_key_file(key, &dir);
    struct stat info;
    assert_int_equal(stat(path, &info), 0);
    assert_true(S_ISREG(info.st_mode));
    assert_int_equal(info.st_mode & 07777, 0600);

    /* Never overwritten, and left as it was. */
    size_t before_len = 0;
    char *before = test_read_file(path, &before_len);
    gov_private_key *other = NULL;
    assert_int_equal(gov_private_key_generate(GOV_SUITE_SM2_SM3, &other), 0);
    assert_int_equal(gov_keyfile_write(other, path, why, sizeof(why)), GOV_EEXIST);
    size_t after_len = 0;
    char *after = test_read_file(path, &after_len);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, before_len);

    /* Round trip. */
    gov_private_key *loaded = NULL;
    assert_int_equal(gov_keyfile_read(GOV_SUITE_SM2_SM3, path, &loaded, why, sizeof(why)), 0);
    uint8_t a[GOV_PUBLIC_KEY_LEN];
    uint8_t b[GOV_PUBLIC_KEY_LEN];
    gov_private_key_public(key, a);
    gov_private_key_public(loaded, b);
    assert_memory_equal(a, b, GOV_PUBLIC_KEY_LEN);

    /* A directory that does not exist cannot hold a new key. */
    char *missing = path_in(dir, "missing");
    char *nowhere = path_in(missing, "key.pem");
    assert_int_equal(gov_keyfile_write(key, nowhere, why, sizeof(why)), GOV_EIO);
    assert_int_equal(stat(missing, &info), -1);

    free(nowhere);
    free(missing);
    free(before);
    free(after);
    gov_private_key_free(loaded);
    gov_private_key_free(other);
    gov_private_key_free(key);
    test_remove_tree(dir);
    free(path);
    free(dir);
}

static void test_keyfile_read_refuses(void **state)
{
    (void)state;
    char why[512];
    char *dir = NULL;
    gov_private_key *key = NULL;
    gov_private_key *loaded = NULL;
    assert_int_equal(gov_private_key_generate(GOV_SUITE_SM2_SM3, &key), 0);
    char *path = new_key_file(key, &dir);
    assert_int_equal(gov_keyfile_read(GOV_SUITE_P256_SHA256, path, &loaded, why, sizeof(why)),
                     GOV_EBADKEY);

    static const mode_t open_modes[] = {0640, 0604, 0660, 0644, 0601, 0610};
    for (size_t i = 0; i < sizeof(open_modes) / sizeof(open_modes[0]); i++) {
        assert_int_equal(chmod(path, open_modes[i]), 0);
        why[0] = '\0';
        assert_int_equal(gov_keyfile_read(GOV_SUITE_SM2_SM3, path, &loaded, why, sizeof(why)),
                         GOV_EPERM);
        assert_non_null(strstr(why, "chmod 600"));
        assert_non_null(strstr(why, "group or others"));
    }
    /* Only group and other bits matter. */
    assert_int_equal(chmod(path, 0400), 0);
    assert_int_equal(gov_keyfile_read(GOV_SUITE_SM2_SM3, path, &loaded, why, sizeof(why)), 0);
    gov_private_key_free(loaded);
    loaded = NULL;

    char *missing = path_in(dir, "missing.pem");
    assert_int_equal(gov_keyfile_read(GOV_SUITE_SM2_SM3, missing, &loaded, why, sizeof(why)),
                     GOV_ENOENT);
    assert_int_equal(gov_keyfile_read(GOV_SUITE_SM2_SM3, dir, &loaded, why, sizeof(why)), GOV_EIO);
    assert_non_null(strstr(why, "not a regular file"));
    /* A file far larger than any key is refused before it is parsed. */
    char *large = path_in(dir, "large.pem");
    size_t large_len = 70 * 1024;
    char *filler = malloc(large_len);
    assert_non_null(filler);
    memset(filler, 'A', large_len);
    write_file(large, filler, large_len);
    assert_int_equal(chmod(large, 0600), 0);
    assert_int_equal(gov_keyfile_read(GOV_SUITE_SM2_SM3, large, &loaded, why, sizeof(why)),
                     GOV_EBADKEY);
    assert_null(loaded);

    /* A FIFO is refused at once rather than waited on (the read opens O_NONBLOCK). */
    char *fifo = path_in(dir, "fifo.pem");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(gov_keyfile_read(GOV_SUITE_SM2_SM3, fifo, &loaded, why, sizeof(why)), GOV_EIO);
    assert_non_null(strstr(why, "not a regular file"));

    free(fifo);
    free(filler);
    free(large);
    free(missing);
    gov_private_key_free(key);
    test_remove_tree(dir);
    free(path);
    free(dir);
}

/* A writer killed halfway (here by SIGXFSZ: the file size limit is zero) leaves no
 * file at the key's path, so a retry is not blocked by a truncated key. Runs in a
 * child process because it lowers the child's resource limit and gets killed. */
static void test_keyfile_write_interrupted(void **state)
{
    (void)state;
    char *dir = test_make_temp_dir();
    char *path = path_in(dir, "key.pem");
    gov_private_key *key = NULL;
    assert_int_equal(gov_private_key_generate(GOV_SUITE_P256_SHA256, &key), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct rlimit none = {0, 0};
        signal(SIGXFSZ, SIG_DFL);
        setrlimit(RLIMIT_FSIZE, &none);
        char why[512];
        gov_keyfile_write(key, path, why, sizeof(why));
        _exit(0); /* not reached: the first write kills the child */
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGXFSZ);
    struct stat info;
    assert_int_equal(stat(path, &info), -1);
    /* And a retry succeeds. */
    char why[512];
    assert_int_equal(gov_keyfile_write(key, path, why, sizeof(why)), 0);
    gov_private_key_free(key);
    test_remove_tree(dir);
    free(path);
    free(dir);
}

/* 6. Domain separation and signature checks --------------------------------------------- */

static void test_domain_separation(void **state)
{
    (void)state;
    static const char tx_tag[] = "govchain/tx/1";
    uint8_t message[256];
    for (size_t i = 0; i < sizeof(message); i++) {
        message[i] = (uint8_t)i;
    }
    for (size_t s = 0; s < SUITE_COUNT; s++) {
        gov_suite suite = all_suites[s];
        gov_private_key *key = NULL;
        assert_int_equal(gov_private_key_generate(suite, &key), 0);
        gov_public_key *public_key = public_of(key);
        gov_hash chain_a;
        gov_hash chain_b;
        gov_hash_bytes(suite, "chain a", 7, &chain_a);
        gov_hash_bytes(suite, "chain b", 7, &chain_b);
        uint8_t sig[GOV_SIGNATURE_LEN];
        assert_int_equal(gov_sign(key, tx_tag, &chain_a, message, sizeof(message), sig), 0);

        assert_true(gov_verify(public_key, tx_tag, &chain_a, message, sizeof(message), sig));
        assert_false(
            gov_verify(public_key, "govchain/prepare/1", &chain_a, message, sizeof(message), sig));
        assert_false(gov_verify(public_key, tx_tag, &chain_b, message, sizeof(message), sig));
        assert_false(gov_verify(public_key, tx_tag, &chain_a, message, sizeof(message) - 1, sig));
        assert_false(gov_verify_raw(public_key, message, sizeof(message), sig));
        message[100] ^= 0x01;
        assert_false(gov_verify(public_key, tx_tag, &chain_a, message, sizeof(message), sig));
        message[100] ^= 0x01;
        sig[10] ^= 0x01;
        assert_false(gov_verify(public_key, tx_tag, &chain_a, message, sizeof(message), sig));
        sig[10] ^= 0x01;

        /* Tags must be non-empty printable ASCII; a NUL ends a C string, so a tag
         * written with one inside is a shorter tag, and a different domain. */
        assert_false(gov_verify(public_key, "", &chain_a, message, sizeof(message), sig));
        assert_false(gov_verify(public_key, NULL, &chain_a, message, sizeof(message), sig));
        assert_false(
            gov_verify(public_key, "govchain/tx\0/1", &chain_a, message, sizeof(message), sig));
        assert_int_equal(gov_sign(key, "", &chain_a, message, sizeof(message), sig), GOV_EINVAL);
        assert_int_equal(gov_sign(key, NULL, &chain_a, message, sizeof(message), sig), GOV_EINVAL);
        assert_int_equal(gov_sign(key, "govchain/tx/\xc3\xa9", &chain_a, message, 1, sig),
                         GOV_EINVAL);
        assert_int_equal(gov_sign(key, "govchain/tx/1\n", &chain_a, message, 1, sig), GOV_EINVAL);

        /* Empty messages are messages too; signatures are randomised. */
        uint8_t sig2[GOV_SIGNATURE_LEN];
        assert_int_equal(gov_sign(key, tx_tag, &chain_a, NULL, 0, sig), 0);
        assert_int_equal(gov_sign(key, tx_tag, &chain_a, NULL, 0, sig2), 0);
        assert_memory_not_equal(sig, sig2, GOV_SIGNATURE_LEN);
        assert_true(gov_verify(public_key, tx_tag, &chain_a, NULL, 0, sig));
        assert_true(gov_verify(public_key, tx_tag, &chain_a, "", 0, sig2));

        gov_public_key_free(public_key);
        gov_private_key_free(key);
    }
}

/* r or s of 0 or at least n must fail however the rest looks. */
static void test_signature_scalar_range(void **state)
{
    (void)state;
    for (size_t s = 0; s < SUITE_COUNT; s++) {
        gov_suite suite = all_suites[s];
        uint8_t order[32];
        hex_fixed(suite == GOV_SUITE_SM2_SM3 ? sm2_order_hex : p256_order_hex, order, 32);
        gov_private_key *key = NULL;
        assert_int_equal(gov_private_key_generate(suite, &key), 0);
        gov_public_key *public_key = public_of(key);
        uint8_t good[GOV_SIGNATURE_LEN];
        uint8_t bad[GOV_SIGNATURE_LEN];
        assert_int_equal(gov_sign_raw(key, "m", 1, good), 0);
        assert_true(gov_verify_raw(public_key, "m", 1, good));
        for (int half = 0; half < 2; half++) {
            uint8_t *scalar = bad + 32 * half;
            memcpy(bad, good, sizeof(bad));
            memset(scalar, 0, 32);
            assert_false(gov_verify_raw(public_key, "m", 1, bad));
            memcpy(scalar, order, 32);
            assert_false(gov_verify_raw(public_key, "m", 1, bad));
            memset(scalar, 0xff, 32);
            assert_false(gov_verify_raw(public_key, "m", 1, bad));
        }
        gov_public_key_free(public_key);
        gov_private_key_free(key);
    }
}

/* Keys are shared between threads: several sign and verify with the same keys at once. */
typedef struct {
    const gov_private_key *key;
    const gov_public_key *public_key;
    int failures;
} thread_work;

static void *sign_and_verify_loop(void *arg)
{
    thread_work *work = arg;
    for (int i = 0; i < 100; i++) {
        uint8_t message[8];
        uint8_t sig[GOV_SIGNATURE_LEN];
        gov_hash chain = {{0}};
        memcpy(message, &i, sizeof(i));
        memcpy(message + 4, &work, 4);
        if (gov_sign(work->key, "govchain/tx/1", &chain, message, sizeof(message), sig) != 0 ||
            !gov_verify(work->public_key, "govchain/tx/1", &chain, message, sizeof(message), sig) ||
            gov_verify(work->public_key, "govchain/tx/2", &chain, message, sizeof(message), sig)) {
            work->failures++;
        }
    }
    return NULL;
}

static void test_keys_shared_between_threads(void **state)
{
    (void)state;
    enum { THREADS = 4 };
    for (size_t s = 0; s < SUITE_COUNT; s++) {
        gov_private_key *key = NULL;
        assert_int_equal(gov_private_key_generate(all_suites[s], &key), 0);
        gov_public_key *public_key = public_of(key);
        pthread_t threads[THREADS];
        thread_work work[THREADS];
        for (int i = 0; i < THREADS; i++) {
            work[i] = (thread_work){key, public_key, 0};
            assert_int_equal(pthread_create(&threads[i], NULL, sign_and_verify_loop, &work[i]), 0);
        }
        for (int i = 0; i < THREADS; i++) {
            assert_int_equal(pthread_join(threads[i], NULL), 0);
            assert_int_equal(work[i].failures, 0);
        }
        gov_public_key_free(public_key);
        gov_private_key_free(key);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wycheproof_p256_p1363),
        cmocka_unit_test(test_hash_known_answers),
        cmocka_unit_test(test_hasher_incremental),
        cmocka_unit_test(test_suite_names),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_openssl_interop),
        cmocka_unit_test(test_sm2_by_the_standard),
        cmocka_unit_test(test_key_pem_round_trip),
        cmocka_unit_test(test_key_pem_rejects),
        cmocka_unit_test(test_public_key_parse_rejects),
        cmocka_unit_test(test_keyfile_write),
        cmocka_unit_test(test_keyfile_read_refuses),
        cmocka_unit_test(test_keyfile_write_interrupted),
        cmocka_unit_test(test_domain_separation),
        cmocka_unit_test(test_signature_scalar_range),
        cmocka_unit_test(test_keys_shared_between_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
