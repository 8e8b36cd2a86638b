/*
 * Canonical codec: strictness of the msgpack layer and of every structure's decoder.
 *
 * Property tests (seeded; GOV_TEST_SEED replays a failure):
 *   1. random values of every structure round-trip exactly: decode(encode(x)) re-encodes
 *      to the same bytes;
 *   2. for a valid encoding, every single-byte change either fails to decode or
 *      re-encodes to exactly the changed bytes (so no two encodings mean one value).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "govchain/block.h"
#include "govchain/canon.h"
#include "govchain/error.h"
#include "govchain/messages.h"
#include "tests/unit/test_util.h"
#include "tests/unit/values.h"

/* One structure kind under test: how to make, encode, decode and free a value. */
typedef struct {
    const char *name;
    size_t size;
    void (*make)(uint64_t *rng, void *value);
    int (*encode)(const void *value, gov_buf *out);
    int (*decode)(const uint8_t *data, size_t len, void *value, char *why, size_t why_len);
    void (*clear)(void *value);
} codec_kind;

static void make_tx(uint64_t *rng, void *value)
{
    random_tx(rng, value);
}
static void make_header(uint64_t *rng, void *value)
{
    random_header(rng, value);
}
static void make_block(uint64_t *rng, void *value)
{
    random_block(rng, value, 4);
}
static void make_cert(uint64_t *rng, void *value)
{
    random_commit_cert(rng, value, random_uint(rng));
}
static void make_message(uint64_t *rng, void *value)
{
    random_message(rng, value);
}

static int encode_tx(const void *value, gov_buf *out)
{
    return gov_tx_encode(value, out);
}
static int encode_header(const void *value, gov_buf *out)
{
    return gov_block_header_encode(value, out);
}
static int encode_block(const void *value, gov_buf *out)
{
    return gov_block_encode(value, out);
}
static int encode_cert(const void *value, gov_buf *out)
{
    return gov_commit_cert_encode(value, out);
}
static int encode_message(const void *value, gov_buf *out)
{
    return gov_pbft_message_encode(value, out);
}

static int decode_tx(const uint8_t *d, size_t n, void *v, char *w, size_t wl)
{
    return gov_tx_decode(d, n, v, w, wl);
}
static int decode_header(const uint8_t *d, size_t n, void *v, char *w, size_t wl)
{
    return gov_block_header_decode(d, n, v, w, wl);
}
static int decode_block(const uint8_t *d, size_t n, void *v, char *w, size_t wl)
{
    return gov_block_decode(d, n, v, w, wl);
}
static int decode_cert(const uint8_t *d, size_t n, void *v, char *w, size_t wl)
{
    return gov_commit_cert_decode(d, n, v, w, wl);
}
static int decode_message(const uint8_t *d, size_t n, void *v, char *w, size_t wl)
{
    return gov_pbft_message_decode(d, n, v, w, wl);
}

static void clear_tx(void *value)
{
    gov_tx_clear(value);
}
static void clear_header(void *value)
{
    memset(value, 0, sizeof(gov_block_header));
}
static void clear_block(void *value)
{
    gov_block_clear(value);
}
static void clear_cert(void *value)
{
    memset(value, 0, sizeof(gov_commit_cert));
}
static void clear_message(void *value)
{
    gov_pbft_message_clear(value);
}

static const codec_kind kinds[] = {
    {"tx", sizeof(gov_tx), make_tx, encode_tx, decode_tx, clear_tx},
    {"header", sizeof(gov_block_header), make_header, encode_header, decode_header, clear_header},
    {"block", sizeof(gov_block), make_block, encode_block, decode_block, clear_block},
    {"commit_cert", sizeof(gov_commit_cert), make_cert, encode_cert, decode_cert, clear_cert},
    {"message", sizeof(gov_pbft_message), make_message, encode_message, decode_message,
     clear_message},
};

/* Decodes bytes and, when they are accepted, re-encodes; returns whether they were
 * accepted and asserts that acceptance implies an identical re-encoding. */
static bool accepted_and_canonical(const codec_kind *kind, const uint8_t *data, size_t len)
{
    void *value = calloc(1, kind->size);
    char why[256];
    bool accepted = kind->decode(data, len, value, why, sizeof(why)) == 0;
    if (accepted) {
        gov_buf again;
        gov_buf_init(&again);
        assert_int_equal(kind->encode(value, &again), 0);
        if (again.len != len || memcmp(again.data, data, len) != 0) {
            fail_msg("%s: accepted bytes re-encode differently (seed %llu)", kind->name,
                     (unsigned long long)test_seed());
        }
        gov_buf_free(&again);
        kind->clear(value);
    }
    free(value);
    return accepted;
}

static void test_round_trip(void **state)
{
    (void)state;
    uint64_t rng = test_seed();
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        const codec_kind *kind = &kinds[k];
        for (int round = 0; round < 300; round++) {
            void *value = calloc(1, kind->size);
            kind->make(&rng, value);
            gov_buf bytes;
            gov_buf_init(&bytes);
            assert_int_equal(kind->encode(value, &bytes), 0);
            if (!accepted_and_canonical(kind, bytes.data, bytes.len)) {
                char why[256] = "";
                void *again = calloc(1, kind->size);
                kind->decode(bytes.data, bytes.len, again, why, sizeof(why));
                free(again);
                fail_msg("%s round %d: own encoding rejected: %s (seed %llu)", kind->name, round,
                         why, (unsigned long long)test_seed());
            }
            gov_buf_free(&bytes);
            kind->clear(value);
            free(value);
        }
    }
}

/* Every single-byte change of a valid encoding: every position, every other value for
 * small encodings, a random sample of values for large ones. */
static void test_single_byte_changes(void **state)
{
    (void)state;
    uint64_t rng = test_seed() ^ 0x5bd1e995;
    size_t accepted = 0;
    size_t rejected = 0;
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        const codec_kind *kind = &kinds[k];
        for (int round = 0; round < 6; round++) {
            void *value = calloc(1, kind->size);
            kind->make(&rng, value);
            gov_buf bytes;
            gov_buf_init(&bytes);
            assert_int_equal(kind->encode(value, &bytes), 0);
            uint8_t *mutated = malloc(bytes.len);
            size_t values_per_position = bytes.len <= 400 ? 255 : 16;
            for (size_t position = 0; position < bytes.len; position++) {
                for (size_t v = 0; v < values_per_position; v++) {
                    memcpy(mutated, bytes.data, bytes.len);
                    uint8_t delta = values_per_position == 255
                                        ? (uint8_t)(v + 1)
                                        : (uint8_t)(1 + random_below(&rng, 255));
                    mutated[position] ^= delta;
                    if (accepted_and_canonical(kind, mutated, bytes.len)) {
                        accepted++;
                    } else {
                        rejected++;
                    }
                }
            }
            free(mutated);
            gov_buf_free(&bytes);
            kind->clear(value);
            free(value);
        }
    }
    fprintf(stderr,
            "# single-byte changes: %zu accepted (each re-encoded identically), "
            "%zu rejected\n",
            accepted, rejected);
    assert_true(accepted > 0);
    assert_true(rejected > 0);
}

/* Hand-written inputs with one defect each. */
typedef struct {
    const char *name;
    const char *hex;
    int code;
    const char *reason;
} bad_input;

static void check_bad_inputs(const bad_input *rows, size_t count,
                             int (*decode)(const uint8_t *, size_t, void *, char *, size_t),
                             size_t size, void (*clear)(void *))
{
    for (size_t i = 0; i < count; i++) {
        size_t len = strlen(rows[i].hex) / 2;
        uint8_t *data = malloc(len + 1);
        assert_int_equal(gov_hex_decode(rows[i].hex, data, len), 0);
        void *value = calloc(1, size);
        char why[256] = "";
        int rc = decode(data, len, value, why, sizeof(why));
        if (rc != rows[i].code || strstr(why, rows[i].reason) == NULL) {
            fail_msg("%s: got %d \"%s\", expected %d containing \"%s\"", rows[i].name, rc, why,
                     rows[i].code, rows[i].reason);
        }
        clear(value);
        free(value);
        free(data);
    }
}

static void test_header_rejections(void **state)
{
    (void)state;
    /* A valid header: [1, h32, 7, h32, 1000, 2, 0, h32, h32, h32, h32]. */
    char valid[1024];
    char h32[65 + 4];
    snprintf(h32, sizeof(h32), "c420%s",
             "1111111111111111111111111111111111111111111111111111111111111111");
    snprintf(valid, sizeof(valid),
             "9b01%s07%scd03e802"
             "00%s%s%s%s",
             h32, h32, h32, h32, h32, h32);
    gov_block_header header;
    size_t len = strlen(valid) / 2;
    uint8_t bytes[512];
    assert_int_equal(gov_hex_decode(valid, bytes, len), 0);
    char why[256] = "";
    assert_int_equal(gov_block_header_decode(bytes, len, &header, why, sizeof(why)), 0);
    assert_int_equal(header.time_ms, 1000);

    char trailing[1100], padded[1100], wrong_type[1100], short_hash[1100], map[64];
    snprintf(trailing, sizeof(trailing), "%s00", valid);
    /* height 7 written as uint8 0xcc07 instead of fixint 07 */
    snprintf(padded, sizeof(padded), "9b01%scc07%scd03e80200%s%s%s%s", h32, h32, h32, h32, h32,
             h32);
    /* chain id as str instead of bin */
    snprintf(wrong_type, sizeof(wrong_type), "9b01d920%s07%scd03e80200%s%s%s%s", h32 + 4, h32, h32,
             h32, h32, h32);
    snprintf(short_hash, sizeof(short_hash), "9b01c41f%.62s07%scd03e80200%s%s%s%s", h32 + 4, h32,
             h32, h32, h32, h32);
    snprintf(map, sizeof(map), "81%s", "0101");
    const bad_input rows[] = {
        {"empty", "", GOV_EDECODE, "empty input"},
        {"trailing byte", trailing, GOV_EDECODE, "trailing bytes"},
        {"non-shortest integer", padded, GOV_EDECODE, "non-shortest"},
        {"str for bin", wrong_type, GOV_EDECODE, "header.chain_id: expected bin, found str"},
        {"31-byte hash", short_hash, GOV_EDECODE, "expected 32 bytes"},
        {"map", map, GOV_EDECODE, "not allowed in canonical encoding"},
        {"float", "cb3ff0000000000000", GOV_EDECODE, "not allowed"},
        {"negative", "ff", GOV_EDECODE, "not allowed"},
        {"huge array count", "dd7fffffff01", GOV_EDECODE, "exceeds the bytes left"},
        {"huge bin length", "c6ffffffff00", GOV_EDECODE, "exceeds the bytes left"},
        {"array shorter than declared", "9b0102", GOV_EDECODE, "exceeds the bytes left"},
        {"truncated integer", "91cd01", GOV_EDECODE, "truncated header"},
        {"array16 for a short array", "dc000b", GOV_EDECODE, "non-shortest"},
        {"more values than a header holds", "9191919191919191919191919191919100", GOV_ELIMIT,
         "more than 12 values"},
        {"scalar", "07", GOV_EDECODE, "expected array"},
    };
    check_bad_inputs(rows, sizeof(rows) / sizeof(rows[0]), decode_header, sizeof(header),
                     clear_header);
}

static void test_tx_rejections(void **state)
{
    (void)state;
    /* Build a valid ENDORSE and derive defective variants from its encoding. */
    gov_tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.version = 1;
    tx.kind = GOV_TX_ENDORSE;
    memset(tx.chain_id.bytes, 0xab, GOV_HASH_LEN);
    strcpy(tx.department, "tax");
    tx.nonce = 42;
    tx.created_ms = 1767225600000ULL;
    memset(tx.payload.endorse.doc_hash.bytes, 0xcd, GOV_HASH_LEN);
    strcpy(tx.payload.endorse.text, "recognised");
    gov_buf buf;
    gov_buf_init(&buf);
    assert_int_equal(gov_tx_encode(&tx, &buf), 0);
    char *hex = malloc(2 * buf.len + 1);
    if (hex == NULL) {
        fail_msg("out of memory");
        return;
    }
    gov_hex_encode(buf.data, buf.len, hex);
    gov_tx decoded;
    char why[256];
    assert_int_equal(gov_tx_decode(buf.data, buf.len, &decoded, why, sizeof(why)), 0);
    assert_string_equal(decoded.payload.endorse.text, "recognised");
    gov_tx_clear(&decoded);

    /* The department "tax" is encoded as a3 746178: replace by invalid identifiers. */
    char *at = strstr(hex, "a3746178");
    assert_non_null(at);
    char upper[1024], bad_utf8[1024], kind9[1024];
    size_t prefix = (size_t)(at - hex);
    snprintf(upper, sizeof(upper), "%.*sa3544158%s", (int)prefix, hex, at + 8);
    snprintf(bad_utf8, sizeof(bad_utf8), "%.*sa374c078%s", (int)prefix, hex, at + 8);
    /* [[1, 2, ...]]: tx array 92, body array 98, version 01, kind 02 */
    assert_true(strncmp(hex, "92980102", 8) == 0);
    snprintf(kind9, sizeof(kind9), "92980109%s", hex + 8);
    const bad_input rows[] = {
        {"uppercase department", upper, GOV_EDECODE, "tx.body.department: not an identifier"},
        {"invalid UTF-8", bad_utf8, GOV_EDECODE, "not valid UTF-8"},
        {"unknown kind", kind9, GOV_EDECODE, "tx.body.kind: unknown transaction kind"},
    };
    check_bad_inputs(rows, sizeof(rows) / sizeof(rows[0]), decode_tx, sizeof(gov_tx), clear_tx);
    free(hex);
    gov_buf_free(&buf);
}

static void test_field_limits(void **state)
{
    (void)state;
    uint64_t rng = test_seed();
    gov_tx tx;
    for (;;) {
        random_tx(&rng, &tx);
        if (tx.kind == GOV_TX_ISSUE && tx.payload.issue.metadata_count >= 2) {
            break;
        }
        gov_tx_clear(&tx);
    }
    /* Metadata out of order is not canonical. */
    gov_issue *issue = &tx.payload.issue;
    strcpy(issue->metadata[0].key, "zz");
    gov_buf buf;
    gov_buf_init(&buf);
    assert_int_equal(gov_tx_encode(&tx, &buf), 0);
    gov_tx decoded;
    char why[256];
    assert_int_equal(gov_tx_decode(buf.data, buf.len, &decoded, why, sizeof(why)), GOV_EDECODE);
    assert_non_null(strstr(why, "ascending"));
    gov_tx_clear(&tx);
    gov_buf_free(&buf);

    /* A note one byte over the limit, encoded by hand through the codec layer. */
    gov_buf_init(&buf);
    gov_enc_array(&buf, 2);
    gov_enc_array(&buf, 8);
    gov_enc_uint(&buf, 1);
    gov_enc_uint(&buf, GOV_TX_REVOKE);
    uint8_t zero[GOV_HASH_LEN] = {0};
    gov_enc_bin(&buf, zero, sizeof(zero));
    gov_enc_cstr(&buf, "tax");
    gov_enc_uint(&buf, 0);
    gov_enc_uint(&buf, 1);
    gov_enc_uint(&buf, 2);
    gov_enc_array(&buf, 2);
    gov_enc_bin(&buf, zero, sizeof(zero));
    char long_note[GOV_NOTE_LEN_MAX + 2];
    memset(long_note, 'x', GOV_NOTE_LEN_MAX + 1);
    long_note[GOV_NOTE_LEN_MAX + 1] = '\0';
    gov_enc_cstr(&buf, long_note);
    uint8_t signature[GOV_SIGNATURE_LEN] = {0};
    gov_enc_bin(&buf, signature, sizeof(signature));
    assert_int_equal(gov_tx_decode(buf.data, buf.len, &decoded, why, sizeof(why)), GOV_ELIMIT);
    assert_non_null(strstr(why, "tx.body.revoke.reason: 257 bytes, at most 256"));
    gov_buf_free(&buf);

    /* A whole input over its structure's cap is refused before it is scanned. */
    uint8_t *big = calloc(1, GOV_TX_BYTES_MAX + 1);
    assert_int_equal(gov_tx_decode(big, GOV_TX_BYTES_MAX + 1, &decoded, why, sizeof(why)),
                     GOV_ELIMIT);
    free(big);
}

static void test_block_tx_count_must_match(void **state)
{
    (void)state;
    uint64_t rng = test_seed();
    gov_block block;
    random_block(&rng, &block, 3);
    block.header.tx_count = block.txs_count + 1;
    gov_buf buf;
    gov_buf_init(&buf);
    assert_int_equal(gov_block_encode(&block, &buf), 0);
    gov_block decoded;
    char why[256];
    assert_int_equal(gov_block_decode(buf.data, buf.len, &decoded, why, sizeof(why)), GOV_EDECODE);
    assert_non_null(strstr(why, "tx_count"));
    gov_buf_free(&buf);
    gov_block_clear(&block);
}

static void test_view_change_consistency(void **state)
{
    (void)state;
    uint64_t rng = test_seed();
    gov_pbft_message message;
    memset(&message, 0, sizeof(message));
    message.type = GOV_PBFT_VIEW_CHANGE;
    random_view_change(&rng, &message.body.view_change, 5, 1);
    message.body.view_change.committed_height = 9;
    message.body.view_change.has_commit_cert = true;
    random_commit_cert(&rng, &message.body.view_change.commit_cert, 8);
    message.body.view_change.has_prepared_cert = false;
    gov_buf buf;
    gov_buf_init(&buf);
    assert_int_equal(gov_pbft_message_encode(&message, &buf), 0);
    gov_pbft_message decoded;
    char why[256];
    assert_int_equal(gov_pbft_message_decode(buf.data, buf.len, &decoded, why, sizeof(why)),
                     GOV_EDECODE);
    assert_non_null(strstr(why, "must prove committed_height"));
    gov_buf_free(&buf);
    gov_pbft_message_clear(&message);
}

/* Twelve nested arrays are the most the scan accepts; thirteen are refused, naming the
 * byte where the thirteenth starts. */
static void test_depth_limit(void **state)
{
    (void)state;
    uint8_t nested[GOV_DEC_DEPTH_MAX + 2];
    for (size_t depth = GOV_DEC_DEPTH_MAX; depth <= GOV_DEC_DEPTH_MAX + 1; depth++) {
        memset(nested, 0x91, depth);
        nested[depth] = 0x00;
        gov_dec dec;
        char why[256] = "";
        gov_dec_begin(&dec, nested, depth + 1, 64, 64, why, sizeof(why));
        bool accepted = gov_dec_ok(&dec);
        gov_dec_finish(&dec);
        if (depth == GOV_DEC_DEPTH_MAX) {
            assert_true(accepted);
        } else {
            assert_false(accepted);
            assert_string_equal(why, "nested too deeply at byte 12");
        }
    }
}

/* The value budget bounds what msgpack-c allocates: an input whose every byte is a
 * value is refused by count before it is unpacked. */
static void test_value_budget(void **state)
{
    (void)state;
    size_t len = 1 + 4 + 100000;
    uint8_t *zeros = calloc(1, len);
    assert_non_null(zeros);
    zeros[0] = 0xdd; /* array 32 of 100000 zeros */
    zeros[2] = 0x01;
    zeros[3] = 0x86;
    zeros[4] = 0xa0;
    gov_pbft_message message;
    char why[256];
    assert_int_equal(gov_pbft_message_decode(zeros, len, &message, why, sizeof(why)), GOV_ELIMIT);
    assert_non_null(strstr(why, "values, the most this structure can hold"));
    free(zeros);
}

/* Errors inside lists name the element: a block's third transaction. */
static void test_error_paths_name_list_elements(void **state)
{
    (void)state;
    uint64_t rng = test_seed();
    gov_block block;
    random_block(&rng, &block, 0);
    free(block.txs);
    block.txs_count = 3;
    block.header.tx_count = 3;
    block.txs = calloc(3, sizeof(gov_tx));
    for (int i = 0; i < 3; i++) {
        random_tx(&rng, &block.txs[i]);
    }
    strcpy(block.txs[2].department, "Tax");
    gov_buf buf;
    gov_buf_init(&buf);
    assert_int_equal(gov_block_encode(&block, &buf), 0);
    gov_block decoded;
    char why[256];
    assert_int_equal(gov_block_decode(buf.data, buf.len, &decoded, why, sizeof(why)), GOV_EDECODE);
    assert_non_null(strstr(why, "block.txs[2].body.department: not an identifier"));
    gov_buf_free(&buf);
    gov_block_clear(&block);
}

/* tx_id covers the body and only the body; the signature binds body and chain. */
static void test_tx_identity_and_signature(void **state)
{
    (void)state;
    uint64_t rng = test_seed();
    gov_tx tx;
    random_tx(&rng, &tx);
    gov_private_key *key = NULL;
    gov_public_key *public_key = NULL;
    uint8_t public_bytes[GOV_PUBLIC_KEY_LEN];
    assert_int_equal(gov_private_key_generate(GOV_SUITE_P256_SHA256, &key), 0);
    gov_private_key_public(key, public_bytes);
    assert_int_equal(gov_public_key_parse(GOV_SUITE_P256_SHA256, public_bytes, &public_key), 0);
    assert_int_equal(gov_tx_sign(&tx, key), 0);
    assert_true(gov_tx_signature_valid(&tx, &tx.chain_id, public_key));

    gov_hash id, again, other_suite;
    assert_int_equal(gov_tx_id(GOV_SUITE_P256_SHA256, &tx, &id), 0);
    gov_buf body;
    gov_buf_init(&body);
    assert_int_equal(gov_tx_encode_body(&tx, &body), 0);
    gov_hash_bytes(GOV_SUITE_P256_SHA256, body.data, body.len, &again);
    assert_memory_equal(id.bytes, again.bytes, GOV_HASH_LEN);
    assert_int_equal(gov_tx_id(GOV_SUITE_SM2_SM3, &tx, &other_suite), 0);
    assert_memory_not_equal(id.bytes, other_suite.bytes, GOV_HASH_LEN);
    gov_buf_free(&body);

    /* Another signature leaves the id alone; another nonce changes it and breaks the
     * signature; a transaction for another chain is refused whatever it claims. */
    tx.signature[0] ^= 1;
    assert_int_equal(gov_tx_id(GOV_SUITE_P256_SHA256, &tx, &again), 0);
    assert_memory_equal(id.bytes, again.bytes, GOV_HASH_LEN);
    assert_false(gov_tx_signature_valid(&tx, &tx.chain_id, public_key));
    tx.signature[0] ^= 1;
    tx.nonce ^= 1;
    assert_int_equal(gov_tx_id(GOV_SUITE_P256_SHA256, &tx, &again), 0);
    assert_memory_not_equal(id.bytes, again.bytes, GOV_HASH_LEN);
    assert_false(gov_tx_signature_valid(&tx, &tx.chain_id, public_key));
    tx.nonce ^= 1;
    gov_hash other_chain = tx.chain_id;
    other_chain.bytes[0] ^= 1;
    assert_false(gov_tx_signature_valid(&tx, &other_chain, public_key));
    assert_true(gov_tx_signature_valid(&tx, &tx.chain_id, public_key));

    gov_tx_kind kind;
    for (int k = GOV_TX_ISSUE; k <= GOV_TX_REVOKE; k++) {
        assert_int_equal(gov_tx_kind_parse(gov_tx_kind_name((gov_tx_kind)k), &kind), 0);
        assert_int_equal(kind, k);
    }
    assert_int_equal(gov_tx_kind_parse("delete", &kind), GOV_EINVAL);
    assert_null(gov_tx_kind_name((gov_tx_kind)9));
    gov_public_key_free(public_key);
    gov_private_key_free(key);
    gov_tx_clear(&tx);
}

static void test_block_hash_is_header_hash(void **state)
{
    (void)state;
    uint64_t rng = test_seed();
    gov_block_header header;
    random_header(&rng, &header);
    gov_hash hash, again;
    assert_int_equal(gov_block_hash(GOV_SUITE_P256_SHA256, &header, &hash), 0);
    gov_buf buf;
    gov_buf_init(&buf);
    assert_int_equal(gov_block_header_encode(&header, &buf), 0);
    gov_hash_bytes(GOV_SUITE_P256_SHA256, buf.data, buf.len, &again);
    assert_memory_equal(hash.bytes, again.bytes, GOV_HASH_LEN);
    header.state_root.bytes[31] ^= 1;
    assert_int_equal(gov_block_hash(GOV_SUITE_P256_SHA256, &header, &again), 0);
    assert_memory_not_equal(hash.bytes, again.bytes, GOV_HASH_LEN);
    gov_buf_free(&buf);
}

/* Structural rules of consensus messages, each with its reason. */
static void test_message_structure_rules(void **state)
{
    (void)state;
    uint64_t rng = test_seed();
    char why[256];
    gov_buf buf;
    gov_buf_init(&buf);
    gov_pbft_message decoded;

    gov_pbft_message pre_prepare;
    memset(&pre_prepare, 0, sizeof(pre_prepare));
    pre_prepare.type = GOV_PBFT_PRE_PREPARE;
    random_phase(&rng, GOV_PBFT_PRE_PREPARE, &pre_prepare.body.phase);
    free(pre_prepare.body.phase.block);
    pre_prepare.body.phase.block = NULL;
    pre_prepare.body.phase.block_len = 0;
    assert_int_equal(gov_pbft_message_encode(&pre_prepare, &buf), 0);
    assert_int_equal(gov_pbft_message_decode(buf.data, buf.len, &decoded, why, sizeof(why)),
                     GOV_EDECODE);
    assert_non_null(strstr(why, "message.block: empty block"));

    /* A prepared certificate from a view not before the view-change's. */
    gov_pbft_message view_change;
    memset(&view_change, 0, sizeof(view_change));
    view_change.type = GOV_PBFT_VIEW_CHANGE;
    random_view_change(&rng, &view_change.body.view_change, 5, 2);
    view_change.body.view_change.has_prepared_cert = true;
    view_change.body.view_change.prepared_cert.view = 5;
    view_change.body.view_change.prepared_cert.height =
        view_change.body.view_change.committed_height + 1;
    gov_buf_reset(&buf);
    assert_int_equal(gov_pbft_message_encode(&view_change, &buf), 0);
    assert_int_equal(gov_pbft_message_decode(buf.data, buf.len, &decoded, why, sizeof(why)),
                     GOV_EDECODE);
    assert_non_null(strstr(why, "must be for the next height and an earlier view"));

    /* A new-view whose view-change is for another view, or whose pre-prepare is not
     * the new primary's. */
    view_change.body.view_change.has_prepared_cert = false;
    gov_pbft_message new_view;
    memset(&new_view, 0, sizeof(new_view));
    new_view.type = GOV_PBFT_NEW_VIEW;
    new_view.body.new_view.view = 6;
    new_view.body.new_view.sender = 2;
    new_view.body.new_view.view_changes_count = 1;
    new_view.body.new_view.view_changes = calloc(1, sizeof(gov_pbft_view_change));
    new_view.body.new_view.view_changes[0] = view_change.body.view_change;
    gov_buf_reset(&buf);
    assert_int_equal(gov_pbft_message_encode(&new_view, &buf), 0);
    assert_int_equal(gov_pbft_message_decode(buf.data, buf.len, &decoded, why, sizeof(why)),
                     GOV_EDECODE);
    assert_non_null(strstr(why, "view-change for another view"));
    new_view.body.new_view.view_changes[0].new_view = 6;
    pre_prepare.body.phase.view = 6;
    pre_prepare.body.phase.sender = 3;
    pre_prepare.body.phase.block = (uint8_t *)strdup("b");
    pre_prepare.body.phase.block_len = 1;
    new_view.body.new_view.pre_prepare = calloc(1, sizeof(gov_pbft_message));
    *new_view.body.new_view.pre_prepare = pre_prepare;
    gov_buf_reset(&buf);
    assert_int_equal(gov_pbft_message_encode(&new_view, &buf), 0);
    assert_int_equal(gov_pbft_message_decode(buf.data, buf.len, &decoded, why, sizeof(why)),
                     GOV_EDECODE);
    assert_non_null(strstr(why, "must be the new primary's, for the new view"));
    new_view.body.new_view.pre_prepare->body.phase.sender = 2;
    gov_buf_reset(&buf);
    assert_int_equal(gov_pbft_message_encode(&new_view, &buf), 0);
    assert_int_equal(gov_pbft_message_decode(buf.data, buf.len, &decoded, why, sizeof(why)), 0);
    gov_pbft_message_clear(&decoded);

    gov_pbft_message_clear(&new_view);
    gov_buf_free(&buf);
}

static void test_metadata_key_not_empty(void **state)
{
    (void)state;
    uint64_t rng = test_seed();
    gov_tx tx;
    for (;;) {
        random_tx(&rng, &tx);
        if (tx.kind == GOV_TX_ISSUE && tx.payload.issue.metadata_count >= 1) {
            break;
        }
        gov_tx_clear(&tx);
    }
    tx.payload.issue.metadata[0].key[0] = '\0';
    gov_buf buf;
    gov_buf_init(&buf);
    assert_int_equal(gov_tx_encode(&tx, &buf), 0);
    gov_tx decoded;
    char why[256];
    assert_int_equal(gov_tx_decode(buf.data, buf.len, &decoded, why, sizeof(why)), GOV_EDECODE);
    if (strstr(why, "tx.body.issue.metadata[0]: empty metadata key") == NULL) {
        fail_msg("got: %s", why);
    }
    gov_buf_free(&buf);
    gov_tx_clear(&tx);
}

/* A copy is the same transaction, whatever its kind: a remark's text (which shares the
 * union with an issue's metadata pointer) is copied whole. */
static void test_tx_copy(void **state)
{
    (void)state;
    uint64_t rng = test_seed();
    for (int round = 0; round < 200; round++) {
        gov_tx tx, copy;
        random_tx(&rng, &tx);
        if (tx.kind != GOV_TX_ISSUE) {
            memset(tx.payload.revoke.text, 'r', GOV_NOTE_LEN_MAX);
            tx.payload.revoke.text[GOV_NOTE_LEN_MAX] = '\0';
        }
        assert_int_equal(gov_tx_copy(&tx, &copy), 0);
        gov_buf a, b;
        gov_buf_init(&a);
        gov_buf_init(&b);
        assert_int_equal(gov_tx_encode(&tx, &a), 0);
        gov_tx_clear(&tx); /* the copy owns its own memory */
        assert_int_equal(gov_tx_encode(&copy, &b), 0);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        gov_buf_free(&a);
        gov_buf_free(&b);
        gov_tx_clear(&copy);
    }
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(gov_utf8_valid("plain", 5));
    assert_true(gov_utf8_valid("\xe8\xaf\x81\xe4\xb9\xa6", 6)); /* 证书 */
    assert_true(gov_utf8_valid("\xf0\x9f\x93\x9c", 4));         /* U+1F4DC */
    assert_false(gov_utf8_valid("a\0b", 3));                    /* NUL */
    assert_false(gov_utf8_valid("\xc0\xaf", 2));                /* overlong '/' */
    assert_false(gov_utf8_valid("\xed\xa0\x80", 3));            /* surrogate */
    assert_false(gov_utf8_valid("\xf4\x90\x80\x80", 4));        /* above U+10FFFF */
    assert_false(gov_utf8_valid("\xe8\xaf", 2));                /* truncated */
    assert_false(gov_utf8_valid("\x80", 1));                    /* lone continuation */
    assert_true(gov_utf8_valid("a\tb\x1b", 4));                 /* controls are text */
    assert_false(gov_utf8_printable("a\tb", 3));                /* but not printable */
    assert_false(gov_utf8_printable("\x1b[2J", 4));             /* terminal escape */
    assert_false(gov_utf8_printable("\x7f", 1));                /* DEL */
    assert_false(gov_utf8_printable("\xc2\x85", 2));            /* C1 NEL */
    assert_false(gov_utf8_printable("\xe2\x80\xae", 3));        /* U+202E override */
    assert_false(gov_utf8_printable("\xe2\x81\xa6", 3));        /* U+2066 isolate */
    assert_true(gov_utf8_printable("\xe5\xb8\x82 Bureau", 10)); /* 市 Bureau */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_single_byte_changes),
        cmocka_unit_test(test_header_rejections),
        cmocka_unit_test(test_tx_rejections),
        cmocka_unit_test(test_field_limits),
        cmocka_unit_test(test_block_tx_count_must_match),
        cmocka_unit_test(test_view_change_consistency),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_value_budget),
        cmocka_unit_test(test_error_paths_name_list_elements),
        cmocka_unit_test(test_tx_identity_and_signature),
        cmocka_unit_test(test_block_hash_is_header_hash),
        cmocka_unit_test(test_message_structure_rules),
        cmocka_unit_test(test_metadata_key_not_empty),
        cmocka_unit_test(test_tx_copy),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
