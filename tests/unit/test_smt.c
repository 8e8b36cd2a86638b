/*
 * Unit tests for ledger/smt.c (the state commitment, include/govchain/smt.h).
 *
 * Four kinds of evidence:
 *  1. Small trees whose roots are computed here by hand from the definitions
 *     (EMPTY = zeros, LEAF = H(0x00 || k || v), INTERNAL = H(0x01 || l || r)), with the
 *     exact bytes of stored nodes and the exact number of nodes each update writes.
 *  2. A deliberately naive model: a sorted array of (key, value hash) pairs and a
 *     recursive root written straight from the shape in smt.h, sharing no code with
 *     smt.c. Seeded random operations, with crowded keys (long shared prefixes), are
 *     applied to both; roots, gets and proofs must agree, every proof must verify and
 *     every tampered proof must fail. Also: order independence, old roots, and a tree
 *     built through an overlay store.
 *  3. Cost: node reads and writes per update, counted by a store that wraps the memory
 *     store, for trees of 1,000 to 100,000 keys.
 *  4. Corrupted stores (garbage, a valid node under the wrong hash, a missing node,
 *     self-consistent but impossible trees, a failing write): GOV_EIO, never a crash.
 * Failures print the seed; GOV_TEST_SEED=<seed> replays them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "govchain/crypto.h"
#include "govchain/error.h"
#include "govchain/kv.h"
#include "govchain/smt.h"
#include "tests/unit/test_util.h"

#define assert_hash_equal(a, b)     assert_memory_equal((a)->bytes, (b)->bytes, GOV_HASH_LEN)
#define assert_hash_not_equal(a, b) assert_memory_not_equal((a)->bytes, (b)->bytes, GOV_HASH_LEN)

#define NODE_KEY_LEN (1 + GOV_HASH_LEN)
#define NODE_LEN     70 /* 0x93, tag, 0xc4 0x20 a, 0xc4 0x20 b */
#define WHY_LEN      256

#define SIBLING_TRIES_MAX 24
#define BLOCK_UPDATES     100

static const gov_hash zero_hash;

/* A generator state derived from the printed seed; xorshift must not start at 0. */
static uint64_t seeded(uint64_t salt)
{
    uint64_t state = test_seed() ^ (salt * 0x9e3779b97f4a7c15ULL);
    return state != 0 ? state : 1;
}

static gov_hash random_hash(uint64_t *rng)
{
    gov_hash out;
    test_random_bytes(rng, out.bytes, GOV_HASH_LEN);
    return out;
}

static gov_hash hex_hash(const char *hex)
{
    gov_hash out;
    assert_int_equal(gov_hex_decode(hex, out.bytes, GOV_HASH_LEN), 0);
    return out;
}

static gov_hash filled_hash(uint8_t first, uint8_t rest)
{
    gov_hash out;
    memset(out.bytes, rest, GOV_HASH_LEN);
    out.bytes[0] = first;
    return out;
}

/* ------------------------------------------------------------------------------------
 * The definitions, by hand: no call into smt.c.
 * ---------------------------------------------------------------------------------- */

static gov_hash hand_node(gov_suite suite, uint8_t tag, const gov_hash *a, const gov_hash *b)
{
    uint8_t preimage[1 + 2 * GOV_HASH_LEN];
    preimage[0] = tag;
    memcpy(preimage + 1, a->bytes, GOV_HASH_LEN);
    memcpy(preimage + 1 + GOV_HASH_LEN, b->bytes, GOV_HASH_LEN);
    gov_hash out;
    gov_hash_bytes(suite, preimage, sizeof(preimage), &out);
    return out;
}

static gov_hash hand_leaf(gov_suite suite, const gov_hash *key, const gov_hash *value)
{
    return hand_node(suite, 0x00, key, value);
}

static gov_hash hand_internal(gov_suite suite, const gov_hash *left, const gov_hash *right)
{
    return hand_node(suite, 0x01, left, right);
}

/* The stored form of a node, written out byte by byte from docs/state.md. */
static void hand_encoding(uint8_t tag, const gov_hash *a, const gov_hash *b, uint8_t out[NODE_LEN])
{
    out[0] = 0x93; /* fixarray of 3 */
    out[1] = tag;  /* positive fixint */
    out[2] = 0xc4; /* bin 8 */
    out[3] = GOV_HASH_LEN;
    memcpy(out + 4, a->bytes, GOV_HASH_LEN);
    out[36] = 0xc4;
    out[37] = GOV_HASH_LEN;
    memcpy(out + 38, b->bytes, GOV_HASH_LEN);
}

static void hand_store_key(const gov_hash *hash, uint8_t out[NODE_KEY_LEN])
{
    out[0] = 'N';
    memcpy(out + 1, hash->bytes, GOV_HASH_LEN);
}

static unsigned hand_bit(const gov_hash *key, unsigned index)
{
    return (key->bytes[index / 8] >> (7 - index % 8)) & 1u;
}

/* ------------------------------------------------------------------------------------
 * Stores.
 * ---------------------------------------------------------------------------------- */

/* A gov_kv that counts what goes through it to another store (borrowed). */
typedef struct {
    gov_kv base;
    gov_kv *inner;
    size_t gets;
    size_t writes;
    size_t puts;
    /* When set, the keys read, to check that none is read twice (at most read_max). */
    uint8_t (*read_keys)[NODE_KEY_LEN];
    size_t read_max;
    size_t twice; /* reads of a key read before */
} counting_kv;

static int counting_get(gov_kv *kv, const uint8_t *key, size_t key_len, uint8_t **value,
                        size_t *value_len, char *why, size_t why_len)
{
    counting_kv *counter = (counting_kv *)kv;
    if (counter->read_keys != NULL && key_len == NODE_KEY_LEN) {
        for (size_t i = 0; i < counter->gets && i < counter->read_max; i++) {
            counter->twice += memcmp(counter->read_keys[i], key, NODE_KEY_LEN) == 0;
        }
        if (counter->gets < counter->read_max) {
            memcpy(counter->read_keys[counter->gets], key, NODE_KEY_LEN);
        }
    }
    counter->gets++;
    return gov_kv_get(counter->inner, key, key_len, value, value_len, why, why_len);
}

static int counting_write(gov_kv *kv, const gov_kv_batch *batch, char *why, size_t why_len)
{
    counting_kv *counter = (counting_kv *)kv;
    counter->writes++;
    counter->puts += batch->count;
    return gov_kv_write(counter->inner, batch, why, why_len);
}

static int counting_scan(gov_kv *kv, const uint8_t *prefix, size_t prefix_len, const uint8_t *start,
                         size_t start_len, gov_kv_scan_cb cb, void *arg, char *why, size_t why_len)
{
    counting_kv *counter = (counting_kv *)kv;
    return gov_kv_scan(counter->inner, prefix, prefix_len, start, start_len, cb, arg, why, why_len);
}

static void counting_close(gov_kv *kv)
{
    free(kv);
}

static const gov_kv_ops counting_ops = {
    .get = counting_get,
    .write = counting_write,
    .scan = counting_scan,
    .close = counting_close,
};

static counting_kv *counting_open(gov_kv *inner)
{
    counting_kv *counter = calloc(1, sizeof(*counter));
    assert_non_null(counter);
    counter->base.ops = &counting_ops;
    counter->inner = inner;
    return counter;
}

static void counting_reset(counting_kv *counter)
{
    counter->gets = 0;
    counter->writes = 0;
    counter->puts = 0;
}

/* A memory store seen through a counter, and a tree over it. */
typedef struct {
    gov_kv *memory;
    counting_kv *counter;
    gov_smt smt;
} fixture;

static void fixture_open(fixture *f, gov_suite suite)
{
    assert_int_equal(gov_kv_memory_open(&f->memory), 0);
    f->counter = counting_open(f->memory);
    f->smt.suite = suite;
    f->smt.store = &f->counter->base;
}

static void fixture_close(fixture *f)
{
    gov_kv_close(&f->counter->base);
    gov_kv_close(f->memory);
}

static gov_hash update_ok(const gov_smt *smt, const gov_hash *root, const gov_hash *key,
                          const gov_hash *value)
{
    char why[WHY_LEN] = "";
    gov_hash new_root;
    int rc = gov_smt_update(smt, root, key, value, &new_root, why, sizeof(why));
    if (rc != 0) {
        fail_msg("gov_smt_update: %s: %s", gov_strerror(rc), why);
    }
    return new_root;
}

static void put_raw(gov_kv *kv, const gov_hash *hash, const void *value, size_t len)
{
    uint8_t key[NODE_KEY_LEN];
    hand_store_key(hash, key);
    assert_int_equal(gov_kv_put(kv, key, sizeof(key), value, len, NULL, 0), 0);
}

static void put_node(gov_kv *kv, uint8_t tag, const gov_hash *a, const gov_hash *b,
                     const gov_hash *hash)
{
    uint8_t encoding[NODE_LEN];
    hand_encoding(tag, a, b, encoding);
    put_raw(kv, hash, encoding, sizeof(encoding));
}

static void expect_stored(gov_kv *kv, const gov_hash *hash, uint8_t tag, const gov_hash *a,
                          const gov_hash *b)
{
    uint8_t key[NODE_KEY_LEN];
    uint8_t expected[NODE_LEN];
    uint8_t *value = NULL;
    size_t len = 0;
    hand_store_key(hash, key);
    hand_encoding(tag, a, b, expected);
    assert_int_equal(gov_kv_get(kv, key, sizeof(key), &value, &len, NULL, 0), 0);
    assert_int_equal(len, NODE_LEN);
    assert_memory_equal(value, expected, NODE_LEN);
    free(value);
}

/* ------------------------------------------------------------------------------------
 * Proof checks.
 * ---------------------------------------------------------------------------------- */

static void prove_ok(const gov_smt *smt, const gov_hash *root, const gov_hash *key,
                     gov_smt_proof *proof)
{
    char why[WHY_LEN] = "";
    int rc = gov_smt_prove(smt, root, key, proof, why, sizeof(why));
    if (rc != 0) {
        fail_msg("gov_smt_prove: %s: %s", gov_strerror(rc), why);
    }
}

static void flip_bit(gov_hash *hash, unsigned index)
{
    hash->bytes[index / 8] ^= (uint8_t)(0x80u >> (index % 8));
}

static void expect_rejected(gov_suite suite, const gov_hash *root, const gov_hash *key,
                            const gov_hash *value, const gov_smt_proof *proof)
{
    assert_false(gov_smt_verify(suite, root, key, value, proof));
}

/* A correct proof for key holding value (NULL: absent) under root, changed in each of
 * its fields: every change must fail. */
static void tamper_fields(gov_suite suite, const gov_hash *root, const gov_hash *key,
                          const gov_hash *value, const gov_smt_proof *good, uint64_t *rng)
{
    gov_smt_proof bad;
    /* Every sibling of a short proof; of a long one (crowded keys), the first, the
     * last and a random sample, since each try costs a walk of the whole depth. */
    for (uint32_t n = 0; n < good->depth && n < SIBLING_TRIES_MAX; n++) {
        uint32_t i = n;
        if (good->depth > SIBLING_TRIES_MAX) {
            i = n == 0 ? 0 : n == 1 ? good->depth - 1 : (uint32_t)(test_random(rng) % good->depth);
        }
        bad = *good;
        flip_bit(&bad.siblings[i], (unsigned)(test_random(rng) % 256));
        expect_rejected(suite, root, key, value, &bad);
    }
    bad = *good;
    flip_bit(&bad.leaf_key, (unsigned)(test_random(rng) % 256));
    expect_rejected(suite, root, key, value, &bad);
    bad = *good;
    flip_bit(&bad.leaf_value_hash, (unsigned)(test_random(rng) % 256));
    expect_rejected(suite, root, key, value, &bad);
    for (int kind = 0; kind <= 4; kind++) {
        bad = *good;
        bad.kind = (gov_smt_proof_kind)kind;
        if (bad.kind != good->kind) {
            expect_rejected(suite, root, key, value, &bad);
        }
    }
    const uint32_t depths[3] = {good->depth + 1, good->depth - 1, GOV_SMT_DEPTH + 1};
    for (int i = 0; i < 3; i++) {
        bad = *good;
        bad.depth = depths[i]; /* 0 - 1 wraps to a depth above 256: refused too */
        expect_rejected(suite, root, key, value, &bad);
    }
}

/* The same correct proof, unchanged, for questions it does not answer. */
static void ask_other_questions(gov_suite suite, const gov_hash *root, const gov_hash *key,
                                const gov_hash *value, const gov_smt_proof *good, uint64_t *rng)
{
    gov_hash other = random_hash(rng);
    expect_rejected(suite, &other, key, value, good); /* another root */
    expect_rejected(suite, root, key, &other, good);  /* another value */
    expect_rejected(suite, root, key, value != NULL ? NULL : &good->leaf_value_hash, good);
    if (good->kind == GOV_SMT_PROOF_OTHER_LEAF) {
        /* The other key's leaf passed off as key's own: the fold still reaches the root,
         * so only the check of leaf_key against key refuses it. */
        gov_smt_proof relabelled = *good;
        relabelled.kind = GOV_SMT_PROOF_MEMBER;
        expect_rejected(suite, root, key, &good->leaf_value_hash, &relabelled);
    }
    /* A membership proof is for its key alone. An absence proof is for a place in the
     * tree: it fails for a key that leaves the path above its end, and holds for one
     * that follows the path there (other than the leaf's own key). */
    gov_hash other_key = *key;
    if (value != NULL) {
        flip_bit(&other_key, (unsigned)(test_random(rng) % 256));
        expect_rejected(suite, root, &other_key, value, good);
        return;
    }
    if (good->depth > 0) {
        flip_bit(&other_key, (unsigned)(test_random(rng) % good->depth));
        expect_rejected(suite, root, &other_key, NULL, good);
    }
    if (good->depth < GOV_SMT_DEPTH) {
        other_key = *key;
        flip_bit(&other_key, good->depth + (unsigned)(test_random(rng) % (256 - good->depth)));
        bool own_leaf =
            good->kind == GOV_SMT_PROOF_OTHER_LEAF && gov_hash_equal(&other_key, &good->leaf_key);
        assert_int_equal(gov_smt_verify(suite, root, &other_key, NULL, good), !own_leaf);
    }
}

/* get, prove and verify for one key, against what the caller knows (value NULL:
 * absent), then tampering. */
static void check_key(const gov_smt *smt, const gov_hash *root, const gov_hash *key,
                      const gov_hash *value, uint64_t *rng)
{
    gov_smt_proof proof;
    char why[WHY_LEN] = "";
    bool found = value == NULL; /* the opposite of the answer, which get must set */
    gov_hash got;
    int rc = gov_smt_get(smt, root, key, &found, &got, why, sizeof(why));
    if (rc != 0) {
        fail_msg("gov_smt_get: %s: %s", gov_strerror(rc), why);
    }
    assert_int_equal(found, value != NULL);
    if (value != NULL) {
        assert_hash_equal(&got, value);
    }
    prove_ok(smt, root, key, &proof);
    assert_true(gov_smt_verify(smt->suite, root, key, value, &proof));
    if (value != NULL) {
        assert_int_equal(proof.kind, GOV_SMT_PROOF_MEMBER);
    } else {
        assert_int_not_equal(proof.kind, GOV_SMT_PROOF_MEMBER);
    }
    tamper_fields(smt->suite, root, key, value, &proof, rng);
    ask_other_questions(smt->suite, root, key, value, &proof, rng);
}

/* ------------------------------------------------------------------------------------
 * 1. Known structure, by hand.
 * ---------------------------------------------------------------------------------- */

static void test_empty_tree(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, GOV_SUITE_P256_SHA256);
    gov_hash root;
    memset(&root, 0xff, sizeof(root));
    gov_smt_empty_root(&root);
    assert_hash_equal(&root, &zero_hash);

    gov_hash key = filled_hash(0x12, 0x34);
    bool found = true;
    gov_hash value;
    assert_int_equal(gov_smt_get(&f.smt, &root, &key, &found, &value, NULL, 0), 0);
    assert_false(found);
    gov_smt_proof proof;
    prove_ok(&f.smt, &root, &key, &proof);
    assert_int_equal(proof.kind, GOV_SMT_PROOF_EMPTY);
    assert_int_equal(proof.depth, 0);
    assert_true(gov_smt_verify(f.smt.suite, &root, &key, NULL, &proof));
    assert_false(gov_smt_verify(f.smt.suite, &root, &key, &value, &proof));
    /* EMPTY is never stored or looked up. */
    assert_int_equal(f.counter->gets, 0);
    assert_int_equal(gov_kv_memory_count(f.memory), 0);
    fixture_close(&f);
}

static void test_one_and_two_keys(void **state)
{
    (void)state;
    const gov_suite suite = GOV_SUITE_P256_SHA256;
    fixture f;
    fixture_open(&f, suite);
    gov_hash k0 = filled_hash(0x7f, 0xff), v0 = filled_hash(0x01, 0x01);
    gov_hash k1 = filled_hash(0x80, 0x00), v1 = filled_hash(0x02, 0x02);
    gov_hash leaf0 = hand_leaf(suite, &k0, &v0), leaf1 = hand_leaf(suite, &k1, &v1);

    /* Known answers, also in docs/state.md: SHA-256 computed outside govchain. */
    gov_hash known = hex_hash("6ba6bebac6f67e5b077e32acd9cc266161caa5f63508adc31fd68af9b5ff012e");
    assert_hash_equal(&leaf0, &known);
    gov_hash one = update_ok(&f.smt, &zero_hash, &k0, &v0);
    assert_hash_equal(&one, &leaf0);
    gov_hash check;
    gov_smt_leaf_hash(suite, &k0, &v0, &check);
    assert_hash_equal(&check, &leaf0);
    assert_int_equal(f.counter->writes, 1);
    assert_int_equal(gov_kv_memory_count(f.memory), 1);
    expect_stored(f.memory, &leaf0, 0, &k0, &v0);

    /* k1 differs from k0 in the first bit: the root is INTERNAL(leaf0, leaf1), and the
     * update writes k1's leaf and the root only. */
    gov_hash two = update_ok(&f.smt, &one, &k1, &v1);
    gov_hash expected = hand_internal(suite, &leaf0, &leaf1);
    assert_hash_equal(&two, &expected);
    known = hex_hash("69cf31c73d5cedb0e398cdef2d85a5e5b20a2d091d62401b1eb249d5b5df4ec9");
    assert_hash_equal(&two, &known);
    gov_smt_internal_hash(suite, &leaf0, &leaf1, &check);
    assert_hash_equal(&check, &expected);
    assert_int_equal(f.counter->writes, 2);
    assert_int_equal(gov_kv_memory_count(f.memory), 3);
    expect_stored(f.memory, &two, 1, &leaf0, &leaf1);

    gov_smt_proof proof;
    prove_ok(&f.smt, &two, &k1, &proof);
    assert_int_equal(proof.kind, GOV_SMT_PROOF_MEMBER);
    assert_int_equal(proof.depth, 1);
    assert_hash_equal(&proof.siblings[0], &leaf0);
    assert_hash_equal(&proof.leaf_value_hash, &v1);

    /* The other order gives the same root; the old one-key root still answers. */
    gov_hash reverse = update_ok(&f.smt, &zero_hash, &k1, &v1);
    reverse = update_ok(&f.smt, &reverse, &k0, &v0);
    assert_hash_equal(&reverse, &two);
    bool found = true;
    gov_hash value;
    assert_int_equal(gov_smt_get(&f.smt, &one, &k1, &found, &value, NULL, 0), 0);
    assert_false(found);
    fixture_close(&f);
}

/* Keys a = 1010..., b = 1011... share their first 3 bits: the root is INTERNAL(E,
 * n1) with n1 = INTERNAL(n2, E), n2 = INTERNAL(E, n3), n3 = INTERNAL(leaf_a, leaf_b), the
 * leaves at depth 4. */
typedef struct {
    gov_suite suite;
    fixture f;
    uint64_t rng;
    gov_hash ka, va, kb, vb, lb, n1, n2, n3, root;
} prefix_tree;

/* Builds it; known_root is the root computed outside govchain (docs/state.md). */
static void prefix_tree_build(prefix_tree *t, gov_suite suite, const char *known_root)
{
    t->suite = suite;
    t->rng = seeded(1);
    fixture_open(&t->f, suite);
    t->ka = filled_hash(0xa0, 0x11), t->va = filled_hash(0xaa, 0xaa);
    t->kb = filled_hash(0xb0, 0x22), t->vb = filled_hash(0xbb, 0xbb);
    gov_hash la = hand_leaf(suite, &t->ka, &t->va);
    t->lb = hand_leaf(suite, &t->kb, &t->vb);
    t->n3 = hand_internal(suite, &la, &t->lb);
    t->n2 = hand_internal(suite, &zero_hash, &t->n3);
    t->n1 = hand_internal(suite, &t->n2, &zero_hash);
    gov_hash expected = hand_internal(suite, &zero_hash, &t->n1);

    t->root = update_ok(&t->f.smt, &zero_hash, &t->ka, &t->va);
    counting_reset(t->f.counter);
    t->root = update_ok(&t->f.smt, &t->root, &t->kb, &t->vb);
    assert_hash_equal(&t->root, &expected);
    gov_hash known = hex_hash(known_root);
    assert_hash_equal(&t->root, &known);
    /* One read (a's leaf at the root), b's leaf and four internal nodes, one batch. */
    assert_int_equal(t->f.counter->gets, 1);
    assert_int_equal(t->f.counter->writes, 1);
    assert_int_equal(t->f.counter->puts, 5);
    expect_stored(t->f.memory, &t->n2, 1, &zero_hash, &t->n3);
}

static void prefix_tree_proofs(prefix_tree *t)
{
    const gov_smt *smt = &t->f.smt;
    gov_smt_proof proof;
    prove_ok(smt, &t->root, &t->ka, &proof);
    assert_int_equal(proof.kind, GOV_SMT_PROOF_MEMBER);
    assert_int_equal(proof.depth, 4);
    assert_hash_equal(&proof.siblings[0], &zero_hash);
    assert_hash_equal(&proof.siblings[1], &zero_hash);
    assert_hash_equal(&proof.siblings[2], &zero_hash);
    assert_hash_equal(&proof.siblings[3], &t->lb);
    check_key(smt, &t->root, &t->ka, &t->va, &t->rng);
    check_key(smt, &t->root, &t->kb, &t->vb, &t->rng);

    /* Absent keys: 1010 0000 0011... ends at a's leaf; 0... and 11... at EMPTY. */
    gov_hash kc = filled_hash(0xa0, 0x33), kd = filled_hash(0x00, 0x00);
    gov_hash ke = filled_hash(0xc0, 0x00);
    prove_ok(smt, &t->root, &kc, &proof);
    assert_int_equal(proof.kind, GOV_SMT_PROOF_OTHER_LEAF);
    assert_int_equal(proof.depth, 4);
    assert_hash_equal(&proof.leaf_key, &t->ka);
    prove_ok(smt, &t->root, &kd, &proof);
    assert_int_equal(proof.kind, GOV_SMT_PROOF_EMPTY);
    assert_int_equal(proof.depth, 1);
    assert_hash_equal(&proof.siblings[0], &t->n1);
    prove_ok(smt, &t->root, &ke, &proof);
    assert_int_equal(proof.kind, GOV_SMT_PROOF_EMPTY);
    assert_int_equal(proof.depth, 2);
    assert_hash_equal(&proof.siblings[1], &t->n2);
    check_key(smt, &t->root, &kc, NULL, &t->rng);
    check_key(smt, &t->root, &kd, NULL, &t->rng);
    check_key(smt, &t->root, &ke, NULL, &t->rng);
}

static void prefix_tree_updates(prefix_tree *t)
{
    const gov_suite suite = t->suite;
    /* 1000... lands in the EMPTY left of n2: its leaf at depth 3, no split. */
    gov_hash kf = filled_hash(0x80, 0x44), vf = filled_hash(0xff, 0xff);
    gov_hash lf = hand_leaf(suite, &kf, &vf);
    gov_hash m2 = hand_internal(suite, &lf, &t->n3);
    gov_hash m1 = hand_internal(suite, &m2, &zero_hash);
    gov_hash expected = hand_internal(suite, &zero_hash, &m1);
    counting_reset(t->f.counter);
    gov_hash next = update_ok(&t->f.smt, &t->root, &kf, &vf);
    assert_hash_equal(&next, &expected);
    assert_int_equal(t->f.counter->puts, 4);
    assert_int_equal(t->f.counter->gets, 3);

    /* Writing the same value again changes nothing and writes nothing. */
    counting_reset(t->f.counter);
    size_t nodes = gov_kv_memory_count(t->f.memory);
    gov_hash same = update_ok(&t->f.smt, &next, &t->ka, &t->va);
    assert_hash_equal(&same, &next);
    assert_int_equal(t->f.counter->writes, 0);
    assert_int_equal(gov_kv_memory_count(t->f.memory), nodes);

    /* A new value for a replaces its leaf at depth 4: five nodes, one batch. */
    gov_hash va2 = filled_hash(0x0a, 0x0a);
    gov_hash la2 = hand_leaf(suite, &t->ka, &va2);
    gov_hash n3b = hand_internal(suite, &la2, &t->lb);
    gov_hash m2b = hand_internal(suite, &lf, &n3b);
    gov_hash m1b = hand_internal(suite, &m2b, &zero_hash);
    expected = hand_internal(suite, &zero_hash, &m1b);
    counting_reset(t->f.counter);
    gov_hash changed = update_ok(&t->f.smt, &next, &t->ka, &va2);
    assert_hash_equal(&changed, &expected);
    assert_int_equal(t->f.counter->writes, 1);
    assert_int_equal(t->f.counter->puts, 5);
    check_key(&t->f.smt, &changed, &t->ka, &va2, &t->rng);
    check_key(&t->f.smt, &next, &t->ka, &t->va, &t->rng);
}

static void check_shared_prefix(gov_suite suite, const char *known_root)
{
    prefix_tree t;
    prefix_tree_build(&t, suite, known_root);
    prefix_tree_proofs(&t);
    prefix_tree_updates(&t);
    fixture_close(&t.f);
}

static void test_shared_prefix_sha256(void **state)
{
    (void)state;
    check_shared_prefix(GOV_SUITE_P256_SHA256,
                        "d85e49cac838098c3e2eecb4088b7ce85903d9544fab261c809fd663d58a2691");
}

static void test_shared_prefix_sm3(void **state)
{
    (void)state;
    check_shared_prefix(GOV_SUITE_SM2_SM3,
                        "31d2a01376cbc8f9b1fa416e8c5919eb8df392b533f68a42957851b0e5c7769f");
}

/* Two keys equal but for their last bit: leaves at depth 256 under 255 EMPTY siblings. */
static void test_deepest_leaves(void **state)
{
    (void)state;
    const gov_suite suite = GOV_SUITE_P256_SHA256;
    uint64_t rng = seeded(2);
    fixture f;
    fixture_open(&f, suite);
    gov_hash k0 = filled_hash(0x5a, 0x5a), k1 = k0;
    flip_bit(&k1, 255);
    gov_hash v = filled_hash(0x01, 0x02);
    gov_hash root = update_ok(&f.smt, &zero_hash, &k0, &v);
    root = update_ok(&f.smt, &root, &k1, &v);
    gov_hash l0 = hand_leaf(suite, &k0, &v), l1 = hand_leaf(suite, &k1, &v);
    gov_hash expected =
        hand_bit(&k1, 255) ? hand_internal(suite, &l0, &l1) : hand_internal(suite, &l1, &l0);
    for (unsigned depth = 255; depth-- > 0;) {
        expected = hand_bit(&k0, depth) ? hand_internal(suite, &zero_hash, &expected)
                                        : hand_internal(suite, &expected, &zero_hash);
    }
    assert_hash_equal(&root, &expected);
    gov_smt_proof proof;
    prove_ok(&f.smt, &root, &k1, &proof);
    assert_int_equal(proof.depth, GOV_SMT_DEPTH);
    check_key(&f.smt, &root, &k0, &v, &rng);
    check_key(&f.smt, &root, &k1, &v, &rng);
    gov_hash absent = k0;
    flip_bit(&absent, 254);
    check_key(&f.smt, &root, &absent, NULL, &rng);
    fixture_close(&f);
}

/* ------------------------------------------------------------------------------------
 * 2. The naive model.
 * ---------------------------------------------------------------------------------- */

typedef struct {
    gov_hash key;
    gov_hash value;
} pair;

typedef struct {
    pair *pairs; /* sorted by key, bytewise: the order of the tree's leaves */
    size_t count;
    size_t capacity;
} model;

static void model_free(model *m)
{
    free(m->pairs);
    memset(m, 0, sizeof(*m));
}

/* The first index whose key is >= key. */
static size_t model_lower_bound(const model *m, const gov_hash *key)
{
    size_t lo = 0, hi = m->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(m->pairs[mid].key.bytes, key->bytes, GOV_HASH_LEN) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static int compare_pairs(const void *a, const void *b)
{
    return memcmp(((const pair *)a)->key.bytes, ((const pair *)b)->key.bytes, GOV_HASH_LEN);
}

static const gov_hash *model_get(const model *m, const gov_hash *key)
{
    size_t at = model_lower_bound(m, key);
    if (at < m->count && gov_hash_equal(&m->pairs[at].key, key)) {
        return &m->pairs[at].value;
    }
    return NULL;
}

static void model_set(model *m, const gov_hash *key, const gov_hash *value)
{
    size_t at = model_lower_bound(m, key);
    if (at < m->count && gov_hash_equal(&m->pairs[at].key, key)) {
        m->pairs[at].value = *value;
        return;
    }
    if (m->count == m->capacity) {
        m->capacity = m->capacity == 0 ? 64 : 2 * m->capacity;
        m->pairs = realloc(m->pairs, m->capacity * sizeof(*m->pairs));
        assert_non_null(m->pairs);
    }
    memmove(&m->pairs[at + 1], &m->pairs[at], (m->count - at) * sizeof(*m->pairs));
    m->pairs[at].key = *key;
    m->pairs[at].value = *value;
    m->count++;
}

/* The shape definition of smt.h, recursively: no key is EMPTY, one key is its LEAF,
 * more split by the bit at `depth` (sorted keys: the 0s come first). With a batch, every
 * node is also put into it, encoded by hand: a tree loaded without smt.c. */
static gov_hash model_root_at(gov_suite suite, const pair *pairs, size_t count, unsigned depth,
                              gov_kv_batch *batch)
{
    gov_hash out = zero_hash;
    uint8_t tag = 0;
    gov_hash a, b;
    if (count == 0) {
        return out;
    }
    if (count == 1) {
        a = pairs[0].key;
        b = pairs[0].value;
        out = hand_leaf(suite, &a, &b);
    } else {
        assert_true(depth < GOV_SMT_DEPTH);
        size_t mid = 0;
        while (mid < count && hand_bit(&pairs[mid].key, depth) == 0) {
            mid++;
        }
        tag = 1;
        a = model_root_at(suite, pairs, mid, depth + 1, batch);
        b = model_root_at(suite, pairs + mid, count - mid, depth + 1, batch);
        out = hand_internal(suite, &a, &b);
    }
    if (batch != NULL) {
        uint8_t key[NODE_KEY_LEN], encoding[NODE_LEN];
        hand_store_key(&out, key);
        hand_encoding(tag, &a, &b, encoding);
        assert_int_equal(gov_kv_batch_put(batch, key, sizeof(key), encoding, NODE_LEN), 0);
    }
    return out;
}

static gov_hash model_root(gov_suite suite, const model *m)
{
    return model_root_at(suite, m->pairs, m->count, 0, NULL);
}

/* A key that is in the model or not as asked; crowded keys copy a present key and flip
 * one of its last 64 bits, so that they share a long prefix with it. */
static gov_hash pick_key(const model *m, bool present, uint64_t *rng)
{
    if (present) {
        assert_true(m->count > 0);
        return m->pairs[test_random(rng) % m->count].key;
    }
    for (;;) {
        gov_hash key = random_hash(rng);
        if (m->count > 0 && test_random(rng) % 2 == 0) {
            key = m->pairs[test_random(rng) % m->count].key;
            unsigned bit = test_random(rng) % 4 == 0 ? (unsigned)(test_random(rng) % 256)
                                                     : 255 - (unsigned)(test_random(rng) % 64);
            flip_bit(&key, bit);
        }
        if (model_get(m, &key) == NULL) {
            return key;
        }
    }
}

typedef struct {
    gov_hash root;
    model pairs;
} snapshot;

#define SNAPSHOTS_MAX 8

typedef struct {
    gov_suite suite;
    uint64_t rng;
    fixture f;
    model m;
    gov_hash root;
    snapshot snapshots[SNAPSHOTS_MAX];
    size_t snapshot_count;
} property_run;

/* One random operation on both the tree and the model. */
static void property_step(property_run *run)
{
    uint64_t choice = test_random(&run->rng) % 10;
    gov_hash key, value = random_hash(&run->rng);
    bool rewrite = false;
    if (run->m.count == 0 || choice < 6) {
        key = pick_key(&run->m, false, &run->rng);
    } else {
        key = pick_key(&run->m, true, &run->rng);
        if (choice == 9) {
            value = *model_get(&run->m, &key);
            rewrite = true;
        }
    }
    size_t nodes = gov_kv_memory_count(run->f.memory);
    counting_reset(run->f.counter);
    gov_hash next = update_ok(&run->f.smt, &run->root, &key, &value);
    model_set(&run->m, &key, &value);
    if (rewrite) {
        assert_hash_equal(&next, &run->root);
        assert_int_equal(run->f.counter->writes, 0);
        assert_int_equal(gov_kv_memory_count(run->f.memory), nodes);
    } else {
        assert_int_equal(run->f.counter->writes, 1);
    }
    run->root = next;
    gov_hash expected = model_root(run->suite, &run->m);
    assert_hash_equal(&run->root, &expected);
}

static void check_sample(const gov_smt *smt, const gov_hash *root, const model *m, uint64_t *rng)
{
    for (int i = 0; i < 3 && m->count > 0; i++) {
        gov_hash key = pick_key(m, true, rng);
        check_key(smt, root, &key, model_get(m, &key), rng);
    }
    for (int i = 0; i < 3; i++) {
        gov_hash key = pick_key(m, false, rng);
        check_key(smt, root, &key, NULL, rng);
    }
}

static void take_snapshot(property_run *run)
{
    assert_true(run->snapshot_count < SNAPSHOTS_MAX);
    snapshot *s = &run->snapshots[run->snapshot_count++];
    s->root = run->root;
    memset(&s->pairs, 0, sizeof(s->pairs));
    for (size_t i = 0; i < run->m.count; i++) {
        model_set(&s->pairs, &run->m.pairs[i].key, &run->m.pairs[i].value);
    }
}

/* Every earlier root still gives its own answers, including "absent" for keys that were
 * added after it and the old value for keys changed since. */
static void check_snapshots(property_run *run)
{
    for (size_t i = 0; i < run->snapshot_count; i++) {
        snapshot *s = &run->snapshots[i];
        gov_hash expected = model_root(run->suite, &s->pairs);
        assert_hash_equal(&s->root, &expected);
        check_sample(&run->f.smt, &s->root, &s->pairs, &run->rng);
        for (int j = 0; j < 5; j++) {
            const pair *now = &run->m.pairs[test_random(&run->rng) % run->m.count];
            check_key(&run->f.smt, &s->root, &now->key, model_get(&s->pairs, &now->key), &run->rng);
        }
        model_free(&s->pairs);
    }
}

/* The final set of pairs written into a fresh store in two shuffled orders. */
static void check_order_independence(property_run *run)
{
    for (int round = 0; round < 2; round++) {
        size_t count = run->m.count;
        pair *shuffled = malloc(count * sizeof(*shuffled));
        assert_non_null(shuffled);
        memcpy(shuffled, run->m.pairs, count * sizeof(*shuffled));
        for (size_t i = count; i > 1; i--) {
            size_t j = test_random(&run->rng) % i;
            pair swap = shuffled[i - 1];
            shuffled[i - 1] = shuffled[j];
            shuffled[j] = swap;
        }
        fixture fresh;
        fixture_open(&fresh, run->suite);
        gov_hash root = zero_hash;
        for (size_t i = 0; i < count; i++) {
            root = update_ok(&fresh.smt, &root, &shuffled[i].key, &shuffled[i].value);
        }
        assert_hash_equal(&root, &run->root);
        fixture_close(&fresh);
        free(shuffled);
    }
}

static void run_model(gov_suite suite, uint64_t salt, int steps)
{
    property_run run;
    memset(&run, 0, sizeof(run));
    run.suite = suite;
    run.rng = seeded(salt);
    run.root = zero_hash;
    fixture_open(&run.f, suite);
    for (int step = 1; step <= steps; step++) {
        property_step(&run);
        check_sample(&run.f.smt, &run.root, &run.m, &run.rng);
        if (step % (steps / SNAPSHOTS_MAX) == 0 && run.snapshot_count < SNAPSHOTS_MAX) {
            take_snapshot(&run);
        }
    }
    check_snapshots(&run);
    check_order_independence(&run);
    fixture_close(&run.f);
    model_free(&run.m);
}

static void test_model_sha256(void **state)
{
    (void)state;
    run_model(GOV_SUITE_P256_SHA256, 10, 400);
}

static void test_model_sm3(void **state)
{
    (void)state;
    /* OpenSSL's SM3 is about twice as slow as its SHA-256: fewer steps. */
    run_model(GOV_SUITE_SM2_SM3, 11, 250);
}

/* Updates through an overlay reach nothing below it until its batch is written. */
static void test_overlay(void **state)
{
    (void)state;
    uint64_t rng = seeded(12);
    gov_kv *base = NULL, *overlay = NULL;
    assert_int_equal(gov_kv_memory_open(&base), 0);
    assert_int_equal(gov_kv_overlay_open(base, &overlay), 0);
    gov_smt tentative = {.suite = GOV_SUITE_P256_SHA256, .store = overlay};
    gov_smt committed = {.suite = GOV_SUITE_P256_SHA256, .store = base};
    model m = {0};
    gov_hash root = zero_hash;
    for (int i = 0; i < 50; i++) {
        gov_hash key = pick_key(&m, false, &rng), value = random_hash(&rng);
        root = update_ok(&tentative, &root, &key, &value);
        model_set(&m, &key, &value);
    }
    gov_hash expected = model_root(tentative.suite, &m);
    assert_hash_equal(&root, &expected);
    check_sample(&tentative, &root, &m, &rng);
    assert_int_equal(gov_kv_memory_count(base), 0);

    /* Below the overlay the new root's nodes do not exist yet: a missing node. */
    char why[WHY_LEN] = "";
    bool found = false;
    gov_hash value;
    assert_int_equal(
        gov_smt_get(&committed, &root, &m.pairs[0].key, &found, &value, why, sizeof(why)), GOV_EIO);
    assert_non_null(strstr(why, "missing"));

    assert_int_equal(gov_kv_write(base, gov_kv_overlay_batch(overlay), NULL, 0), 0);
    assert_true(gov_kv_memory_count(base) > 0);
    check_sample(&committed, &root, &m, &rng);
    for (size_t i = 0; i < m.count; i++) {
        check_key(&committed, &root, &m.pairs[i].key, &m.pairs[i].value, &rng);
    }
    gov_kv_close(overlay);
    gov_kv_close(base);
    model_free(&m);
}

/* ------------------------------------------------------------------------------------
 * 3. Cost per update.
 * ---------------------------------------------------------------------------------- */

static double log2_of(size_t n)
{
    double log = 0;
    for (double x = (double)n; x >= 2; x /= 2) {
        log += 1;
    }
    return log; /* floor(log2 n): the bound below is generous enough for it */
}

/* n random pairs, sorted at once: inserting them one by one would cost O(n^2). */
static void model_fill_random(model *m, size_t n, uint64_t *rng)
{
    m->pairs = malloc(n * sizeof(*m->pairs));
    assert_non_null(m->pairs);
    m->capacity = n;
    for (size_t i = 0; i < n; i++) {
        m->pairs[i].key = random_hash(rng);
        m->pairs[i].value = random_hash(rng);
    }
    qsort(m->pairs, n, sizeof(*m->pairs), compare_pairs);
    for (size_t i = 1; i < n; i++) {
        assert_hash_not_equal(&m->pairs[i - 1].key, &m->pairs[i].key);
    }
    m->count = n;
}

/* A tree of n random keys over a fresh memory store, built as the ledger builds it (in
 * blocks of BLOCK_UPDATES updates, each through an overlay whose batch is then written
 * to the store) or loaded from the model's own encoding of every node. Returns the
 * average number of nodes written per insert while building (0 when loaded). */
static double build_tree(gov_kv *base, counting_kv *counter, gov_smt *smt, model *m, size_t n,
                         bool by_updates, uint64_t *rng, gov_hash *root)
{
    *root = zero_hash;
    if (!by_updates) {
        model_fill_random(m, n, rng);
        gov_kv_batch batch;
        gov_kv_batch_init(&batch);
        *root = model_root_at(smt->suite, m->pairs, m->count, 0, &batch);
        assert_int_equal(gov_kv_write(base, &batch, NULL, 0), 0);
        gov_kv_batch_clear(&batch);
        return 0;
    }
    size_t puts = 0;
    for (size_t done = 0; done < n;) {
        gov_kv *overlay = NULL;
        assert_int_equal(gov_kv_overlay_open(base, &overlay), 0);
        counter->inner = overlay;
        counting_reset(counter);
        for (size_t i = 0; i < BLOCK_UPDATES && done < n; i++, done++) {
            gov_hash key = random_hash(rng), value = random_hash(rng);
            *root = update_ok(smt, root, &key, &value);
            model_set(m, &key, &value);
        }
        puts += counter->puts;
        assert_int_equal(gov_kv_write(base, gov_kv_overlay_batch(overlay), NULL, 0), 0);
        gov_kv_close(overlay);
    }
    counter->inner = base;
    gov_hash expected = model_root(smt->suite, m);
    assert_hash_equal(root, &expected);
    return (double)puts / (double)n;
}

/* Builds a tree of n random keys, then counts the node reads and writes of `sample`
 * more updates (half new random keys, half new values for present keys) made in one
 * overlay over it. */
static void measure_cost(size_t n, size_t sample, bool by_updates, uint64_t salt)
{
    uint64_t rng = seeded(salt);
    gov_kv *base = NULL, *overlay = NULL;
    assert_int_equal(gov_kv_memory_open(&base), 0);
    counting_kv *counter = counting_open(base);
    gov_smt smt = {.suite = GOV_SUITE_P256_SHA256, .store = &counter->base};
    model m = {0};
    gov_hash root;
    double build_writes = build_tree(base, counter, &smt, &m, n, by_updates, &rng, &root);

    assert_int_equal(gov_kv_overlay_open(base, &overlay), 0);
    counter->inner = overlay;
    counting_reset(counter);
    size_t max_writes = 0;
    for (size_t i = 0; i < sample; i++) {
        /* New keys are random, as document hashes are: crowded keys would measure the
         * length of their shared prefix instead (see docs/state.md, "Cost"). */
        gov_hash key = i % 2 == 1 ? pick_key(&m, true, &rng) : random_hash(&rng);
        gov_hash value = random_hash(&rng);
        size_t before = counter->puts;
        root = update_ok(&smt, &root, &key, &value);
        model_set(&m, &key, &value);
        size_t writes = counter->puts - before;
        max_writes = writes > max_writes ? writes : max_writes;
    }
    assert_int_equal(counter->writes, sample); /* one batch per update */
    gov_hash expected = model_root(smt.suite, &m);
    assert_hash_equal(&root, &expected);

    double writes = (double)counter->puts / (double)sample;
    double reads = (double)counter->gets / (double)sample;
    double bound = 2 * log2_of(n) + 4;
    print_message("# smt cost: n=%zu (%s): %.2f node writes and %.2f node reads per update "
                  "(max %zu writes; %.2f hashes: one per node written or read); "
                  "bound 2*log2(n)+4 = %.1f",
                  n, by_updates ? "built by updates" : "bulk-loaded", writes, reads, max_writes,
                  writes + reads, bound);
    if (by_updates) {
        print_message("; building it took %.2f node writes per insert", build_writes);
    }
    print_message("\n");
    assert_true(writes < bound);
    assert_true(reads < bound);
    assert_true(writes < 256.0 / 4);
    gov_kv_close(overlay);
    gov_kv_close(&counter->base);
    gov_kv_close(base);
    model_free(&m);
}

static void test_cost(void **state)
{
    (void)state;
    measure_cost(1000, 1000, true, 20);
    measure_cost(10000, 1000, true, 21);
    /* Building 100,000 keys by updates would write about 1.8 million nodes into a
     * memory store that copies itself on every write; loading it is enough to measure
     * updates on it. */
    measure_cost(100000, 1000, false, 22);
}

/* ------------------------------------------------------------------------------------
 * 4. Corrupted stores.
 * ---------------------------------------------------------------------------------- */

/* get, update and prove of key under root all fail with GOV_EIO naming `names`. */
static void expect_corrupt(const gov_smt *smt, const gov_hash *root, const gov_hash *key,
                           const gov_hash *names)
{
    char why[WHY_LEN], hex[2 * GOV_HASH_LEN + 1];
    gov_hex_encode(names->bytes, GOV_HASH_LEN, hex);
    bool found = false;
    gov_hash value = filled_hash(0x42, 0x42), new_root = zero_hash;
    gov_smt_proof proof;

    why[0] = '\0';
    assert_int_equal(gov_smt_get(smt, root, key, &found, &value, why, sizeof(why)), GOV_EIO);
    assert_non_null(strstr(why, hex));
    why[0] = '\0';
    assert_int_equal(gov_smt_update(smt, root, key, &value, &new_root, why, sizeof(why)), GOV_EIO);
    assert_non_null(strstr(why, hex));
    assert_hash_equal(&new_root, &zero_hash); /* untouched */
    why[0] = '\0';
    assert_int_equal(gov_smt_prove(smt, root, key, &proof, why, sizeof(why)), GOV_EIO);
    assert_non_null(strstr(why, hex));
    /* A NULL why is allowed too. */
    assert_int_equal(gov_smt_get(smt, root, key, &found, &value, NULL, 0), GOV_EIO);
    /* A batch through the damaged node fails the same way, alone or among other keys
     * (read ahead level by level before the descent: design note 8 of ledger/smt.c). */
    gov_smt_entry batch[4] = {{.key = *key, .value_hash = value}};
    for (int i = 1; i < 4; i++) {
        batch[i].key = filled_hash((uint8_t)(0x40 * i + 1), (uint8_t)(0x11 * i));
        batch[i].value_hash = value;
    }
    for (size_t count = 1; count <= 4; count += 3) {
        why[0] = '\0';
        assert_int_equal(gov_smt_update_many(smt, root, batch, count, &new_root, why, sizeof(why)),
                         GOV_EIO);
        assert_non_null(strstr(why, hex));
    }
}

static void get_raw(gov_kv *kv, const gov_hash *hash, uint8_t out[NODE_LEN])
{
    uint8_t key[NODE_KEY_LEN];
    uint8_t *value = NULL;
    size_t len = 0;
    hand_store_key(hash, key);
    assert_int_equal(gov_kv_get(kv, key, sizeof(key), &value, &len, NULL, 0), 0);
    assert_int_equal(len, NODE_LEN);
    memcpy(out, value, NODE_LEN);
    free(value);
}

static void delete_raw(gov_kv *kv, const gov_hash *hash)
{
    uint8_t key[NODE_KEY_LEN];
    hand_store_key(hash, key);
    gov_kv_batch batch;
    gov_kv_batch_init(&batch);
    assert_int_equal(gov_kv_batch_delete(&batch, key, sizeof(key)), 0);
    assert_int_equal(gov_kv_write(kv, &batch, NULL, 0), 0);
    gov_kv_batch_clear(&batch);
}

/* Damages the node stored under target, on key's path under root, in every way below;
 * each must fail get, update and prove of key. Then puts it back. */
static void damage_node(const gov_smt *smt, gov_kv *kv, const gov_hash *root, const gov_hash *key,
                        const gov_hash *target)
{
    static const struct {
        uint8_t bytes[8];
        size_t len;
    } garbage[] = {
        {{0x01, 0x02, 0x03}, 3},                   /* not an array */
        {{0x93, 0x02, 0xc4, 0x00, 0xc4, 0x00}, 6}, /* tag 2, empty bins */
        {{0x92, 0x00, 0xc4, 0x00}, 4},             /* two elements */
        {{0x00}, 1},                               /* a lone integer */
        {{0}, 0},                                  /* nothing */
    };
    uint8_t good[NODE_LEN], damaged[NODE_LEN + 1];
    get_raw(kv, target, good);
    for (size_t g = 0; g < sizeof(garbage) / sizeof(garbage[0]); g++) {
        put_raw(kv, target, garbage[g].bytes, garbage[g].len);
        expect_corrupt(smt, root, key, target);
    }
    /* The right bytes with one bit flipped, or a trailing byte. */
    memcpy(damaged, good, NODE_LEN);
    damaged[40] ^= 0x10;
    put_raw(kv, target, damaged, NODE_LEN);
    expect_corrupt(smt, root, key, target);
    memcpy(damaged, good, NODE_LEN);
    damaged[NODE_LEN] = 0xc0;
    put_raw(kv, target, damaged, NODE_LEN + 1);
    expect_corrupt(smt, root, key, target);
    /* A valid encoding of another node: the root's. */
    uint8_t other[NODE_LEN];
    get_raw(kv, root, other);
    put_raw(kv, target, other, NODE_LEN);
    expect_corrupt(smt, root, key, target);
    delete_raw(kv, target);
    expect_corrupt(smt, root, key, target);
    put_raw(kv, target, good, NODE_LEN);
}

static void test_corrupted_nodes(void **state)
{
    (void)state;
    const gov_suite suite = GOV_SUITE_P256_SHA256;
    uint64_t rng = seeded(30);
    fixture f;
    fixture_open(&f, suite);
    model m = {0};
    gov_hash root = zero_hash;
    for (int i = 0; i < 20; i++) {
        gov_hash key = pick_key(&m, false, &rng), value = random_hash(&rng);
        root = update_ok(&f.smt, &root, &key, &value);
        model_set(&m, &key, &value);
    }
    const pair *victim = &m.pairs[0];
    gov_smt_proof proof;
    prove_ok(&f.smt, &root, &victim->key, &proof);
    assert_true(proof.depth >= 2);
    /* The internal node at depth 1 on the victim's path (read out of the root's
     * encoding: left child at byte 4, right at 38), and the victim's leaf. */
    uint8_t encoding[NODE_LEN];
    get_raw(f.memory, &root, encoding);
    gov_hash child;
    memcpy(child.bytes, encoding + (hand_bit(&victim->key, 0) ? 38 : 4), GOV_HASH_LEN);
    gov_hash leaf = hand_leaf(suite, &victim->key, &victim->value);

    damage_node(&f.smt, f.memory, &root, &victim->key, &child);
    check_key(&f.smt, &root, &victim->key, &victim->value, &rng); /* repaired */
    damage_node(&f.smt, f.memory, &root, &victim->key, &leaf);
    check_key(&f.smt, &root, &victim->key, &victim->value, &rng);
    fixture_close(&f);
    model_free(&m);
}

/* Trees that no update builds, made of self-consistent nodes (each stored under its
 * own hash): a leaf off its key's path, and an internal node at depth 256. */
static void test_impossible_trees(void **state)
{
    (void)state;
    const gov_suite suite = GOV_SUITE_P256_SHA256;
    fixture f;
    fixture_open(&f, suite);
    gov_kv *kv = f.memory;

    /* INTERNAL(leaf of 1..., EMPTY): the leaf sits left, where keys start with 0. */
    gov_hash stray = filled_hash(0x80, 0x01), value = filled_hash(0x33, 0x33);
    gov_hash leaf = hand_leaf(suite, &stray, &value);
    gov_hash root = hand_internal(suite, &leaf, &zero_hash);
    put_node(kv, 0, &stray, &value, &leaf);
    put_node(kv, 1, &leaf, &zero_hash, &root);
    gov_hash key = filled_hash(0x00, 0x01);
    expect_corrupt(&f.smt, &root, &key, &leaf);
    /* Its path as an absence proof for key folds to this root; only the shared-prefix
     * check of OTHER_LEAF refuses it (a canonical root could not be matched at all). */
    gov_smt_proof forged;
    memset(&forged, 0, sizeof(forged));
    forged.kind = GOV_SMT_PROOF_OTHER_LEAF;
    forged.leaf_key = stray;
    forged.leaf_value_hash = value;
    forged.depth = 1;
    assert_false(gov_smt_verify(suite, &root, &key, NULL, &forged));

    /* A chain of 257 internal nodes down the all-zero path. */
    gov_hash node = hand_internal(suite, &zero_hash, &zero_hash);
    put_node(kv, 1, &zero_hash, &zero_hash, &node);
    gov_hash deepest = node;
    for (int depth = 255; depth >= 0; depth--) {
        gov_hash parent = hand_internal(suite, &node, &zero_hash);
        put_node(kv, 1, &node, &zero_hash, &parent);
        node = parent;
    }
    expect_corrupt(&f.smt, &node, &zero_hash, &deepest);
    fixture_close(&f);
}

/* A store that fails its write: the update fails with the store's error, and the tree
 * is as it was. */
static void test_failed_write(void **state)
{
    (void)state;
    uint64_t rng = seeded(31);
    fixture f;
    fixture_open(&f, GOV_SUITE_SM2_SM3);
    model m = {0};
    gov_hash root = zero_hash;
    for (int i = 0; i < 10; i++) {
        gov_hash key = pick_key(&m, false, &rng), value = random_hash(&rng);
        root = update_ok(&f.smt, &root, &key, &value);
        model_set(&m, &key, &value);
    }
    size_t nodes = gov_kv_memory_count(f.memory);
    gov_kv_memory_fail_after(f.memory, 0);
    gov_hash key = pick_key(&m, false, &rng), value = random_hash(&rng);
    gov_hash new_root = zero_hash;
    char why[WHY_LEN] = "";
    assert_int_equal(gov_smt_update(&f.smt, &root, &key, &value, &new_root, why, sizeof(why)),
                     GOV_EIO);
    assert_true(strlen(why) > 0);
    assert_hash_equal(&new_root, &zero_hash);
    assert_int_equal(gov_kv_memory_count(f.memory), nodes);
    gov_kv_memory_fail_after(f.memory, -1);
    check_sample(&f.smt, &root, &m, &rng);
    fixture_close(&f);
    model_free(&m);
}

/* A batch gives the tree that the same writes made one by one give, and stores every
 * node that tree needs: random batches (new keys, existing keys, repeats within a batch,
 * keys sharing long prefixes), compared with sequential updates on a second store. */
/* A batch reads each stored node it needs once: the nodes read ahead (design note 8 of
 * ledger/smt.c) are not read again by the descent. */
static void test_update_many_reads_once(void **state)
{
    (void)state;
    fixture f;
    fixture_open(&f, GOV_SUITE_P256_SHA256);
    uint64_t rng = test_seed() ^ 0x3c6ef372;
    gov_hash root;
    gov_smt_empty_root(&root);
    enum { KEYS = 2000, BATCH = 300 };
    gov_smt_entry *entries = calloc(KEYS, sizeof(*entries));
    assert_non_null(entries);
    for (size_t i = 0; i < KEYS; i++) {
        test_random_bytes(&rng, entries[i].key.bytes, GOV_HASH_LEN);
        test_random_bytes(&rng, entries[i].value_hash.bytes, GOV_HASH_LEN);
    }
    char why[WHY_LEN];
    assert_int_equal(gov_smt_update_many(&f.smt, &root, entries, KEYS, &root, why, sizeof(why)), 0);
    /* Half new keys, half new values of existing ones. */
    for (size_t i = 0; i < BATCH; i++) {
        if (i % 2 == 0) {
            test_random_bytes(&rng, entries[i].key.bytes, GOV_HASH_LEN);
        }
        test_random_bytes(&rng, entries[i].value_hash.bytes, GOV_HASH_LEN);
    }
    counting_reset(f.counter);
    f.counter->read_max = 4 * KEYS;
    f.counter->read_keys = calloc(f.counter->read_max, NODE_KEY_LEN);
    assert_non_null(f.counter->read_keys);
    gov_hash batched;
    assert_int_equal(gov_smt_update_many(&f.smt, &root, entries, BATCH, &batched, why, sizeof(why)),
                     0);
    assert_true(f.counter->gets > BATCH);
    assert_true(f.counter->gets <= f.counter->read_max);
    assert_int_equal(f.counter->twice, 0);
    free(f.counter->read_keys);
    f.counter->read_keys = NULL;
    /* The same batch one by one gives the same root. */
    gov_hash one_by_one = root;
    for (size_t i = 0; i < BATCH; i++) {
        one_by_one = update_ok(&f.smt, &one_by_one, &entries[i].key, &entries[i].value_hash);
    }
    assert_hash_equal(&batched, &one_by_one);
    free(entries);
    fixture_close(&f);
}

static void test_update_many(void **state)
{
    (void)state;
    uint64_t rng = test_seed() ^ 0x6a09e667;
    gov_kv *one_by_one = NULL;
    gov_kv *batched = NULL;
    assert_int_equal(gov_kv_memory_open(&one_by_one), 0);
    assert_int_equal(gov_kv_memory_open(&batched), 0);
    gov_smt a = {.suite = GOV_SUITE_P256_SHA256, .store = one_by_one};
    gov_smt b = {.suite = GOV_SUITE_P256_SHA256, .store = batched};
    gov_hash root_a, root_b;
    gov_smt_empty_root(&root_a);
    root_b = root_a;
    enum { KEYS_MAX = 4000 };
    gov_hash *keys = calloc(KEYS_MAX, sizeof(gov_hash));
    size_t key_count = 0;
    gov_smt_entry *batch = calloc(400, sizeof(gov_smt_entry));
    char why[256];
    for (int round = 0; round < 40; round++) {
        size_t n = 1 + test_random(&rng) % (round % 5 == 0 ? 3 : 300);
        for (size_t i = 0; i < n; i++) {
            gov_smt_entry *e = &batch[i];
            uint64_t pick = test_random(&rng) % 4;
            if (pick == 0 && key_count > 0) { /* an existing key, a new value */
                e->key = keys[test_random(&rng) % key_count];
            } else if (pick == 1 && key_count > 0) { /* a neighbour: shares a long prefix */
                e->key = keys[test_random(&rng) % key_count];
                e->key.bytes[20 + test_random(&rng) % 12] ^=
                    (uint8_t)(1u << (test_random(&rng) % 8));
            } else if (pick == 2 && i > 0) { /* written twice in this batch */
                e->key = batch[test_random(&rng) % i].key;
            } else {
                test_random_bytes(&rng, e->key.bytes, GOV_HASH_LEN);
            }
            test_random_bytes(&rng, e->value_hash.bytes, GOV_HASH_LEN);
            if (key_count < KEYS_MAX) {
                keys[key_count++] = e->key;
            }
            assert_int_equal(
                gov_smt_update(&a, &root_a, &e->key, &e->value_hash, &root_a, why, sizeof(why)), 0);
        }
        assert_int_equal(gov_smt_update_many(&b, &root_b, batch, n, &root_b, why, sizeof(why)), 0);
        if (!gov_hash_equal(&root_a, &root_b)) {
            fail_msg("round %d: batched root differs (seed %llu)", round,
                     (unsigned long long)test_seed());
        }
    }
    /* Every key reads back from the batched store, with a proof that verifies. */
    for (size_t i = 0; i < key_count; i++) {
        bool found_a = false, found_b = false;
        gov_hash value_a, value_b;
        assert_int_equal(gov_smt_get(&a, &root_a, &keys[i], &found_a, &value_a, why, sizeof(why)),
                         0);
        assert_int_equal(gov_smt_get(&b, &root_b, &keys[i], &found_b, &value_b, why, sizeof(why)),
                         0);
        assert_true(found_a && found_b);
        assert_memory_equal(value_a.bytes, value_b.bytes, GOV_HASH_LEN);
        gov_smt_proof proof;
        assert_int_equal(gov_smt_prove(&b, &root_b, &keys[i], &proof, why, sizeof(why)), 0);
        assert_true(gov_smt_verify(GOV_SUITE_P256_SHA256, &root_b, &keys[i], &value_b, &proof));
    }
    /* A batch that only rewrites values already there changes nothing; rewrites mixed
     * with a neighbour's change give the one-by-one tree too. */
    gov_smt_entry again[3];
    for (int i = 0; i < 3; i++) {
        bool found = false;
        again[i].key = keys[i];
        assert_int_equal(
            gov_smt_get(&a, &root_a, &keys[i], &found, &again[i].value_hash, why, sizeof(why)), 0);
        assert_true(found);
    }
    gov_hash unchanged;
    assert_int_equal(gov_smt_update_many(&b, &root_b, again, 3, &unchanged, why, sizeof(why)), 0);
    assert_memory_equal(unchanged.bytes, root_b.bytes, GOV_HASH_LEN);
    again[2].key.bytes[31] ^= 1; /* a neighbour of keys[2], new */
    assert_int_equal(
        gov_smt_update(&a, &root_a, &again[2].key, &again[2].value_hash, &root_a, why, sizeof(why)),
        0);
    assert_int_equal(gov_smt_update_many(&b, &root_b, again, 3, &root_b, why, sizeof(why)), 0);
    assert_memory_equal(root_a.bytes, root_b.bytes, GOV_HASH_LEN);
    keys[key_count < KEYS_MAX ? key_count++ : 0] = again[2].key;
    /* The batch stores no more nodes than one-by-one updates do. */
    assert_true(gov_kv_memory_count(batched) <= gov_kv_memory_count(one_by_one));
    fprintf(stderr, "# update_many: %zu keys; nodes stored %zu batched, %zu one by one\n",
            key_count, gov_kv_memory_count(batched), gov_kv_memory_count(one_by_one));
    free(batch);
    free(keys);
    gov_kv_close(batched);
    gov_kv_close(one_by_one);
}

int main(void)
{
    test_seed();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_tree),
        cmocka_unit_test(test_one_and_two_keys),
        cmocka_unit_test(test_shared_prefix_sha256),
        cmocka_unit_test(test_shared_prefix_sm3),
        cmocka_unit_test(test_deepest_leaves),
        cmocka_unit_test(test_model_sha256),
        cmocka_unit_test(test_model_sm3),
        cmocka_unit_test(test_overlay),
        cmocka_unit_test(test_cost),
        cmocka_unit_test(test_corrupted_nodes),
        cmocka_unit_test(test_impossible_trees),
        cmocka_unit_test(test_failed_write),
        cmocka_unit_test(test_update_many),
        cmocka_unit_test(test_update_many_reads_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
