/*
 * Unit tests for ledger/merkle.c (RFC 6962 trees, RFC 9162 verification).
 *
 * Three kinds of evidence:
 *  1. Published known answers from Certificate Transparency (SHA-256), below, and
 *     the symbolic 7-leaf examples of RFC 6962 §2.1.3.
 *  2. A deliberately naive model written straight from RFC 6962 §2.1 (recursive MTH,
 *     PATH and SUBPROOF over arrays, sharing no code with merkle.c), compared with the
 *     implementation on seeded random trees; every proof is also verified and then
 *     corrupted in many ways that verification must refuse. Run once per suite.
 *  3. A size-only model of trees whose leaves are all equal, which lets verification
 *     be checked at sizes up to 2^63 where no leaf array could be built.
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
#include "govchain/merkle.h"
#include "tests/unit/test_util.h"

#define ARRAY_LEN(a)  (sizeof(a) / sizeof((a)[0]))
#define SIZE_MAX_TREE ((uint64_t)1 << 63)

#define assert_hash_equal(a, b) assert_memory_equal((a)->bytes, (b)->bytes, GOV_HASH_LEN)

/* ------------------------------------------------------------------------------------
 * Known answers.
 *
 * Source: Google's Certificate Transparency test data, Apache License 2.0
 * (Copyright Google LLC), copied verbatim as hex:
 *   [CT]   github.com/google/certificate-transparency, cpp/merkletree/merkle_tree_test.cc:
 *          kInputs, kSHA256EmptyTreeHash, kSHA256Roots, kSHA256Paths, kSHA256Proofs;
 *   [TD]   github.com/transparency-dev/merkle, proof/verify_test.go: the same leaves,
 *          roots, inclusionProofs and consistencyProofs, plus the proof 6 -> 7;
 *          testonly/constants.go: NodeHashes and CompactTrees;
 *          rfc6962/rfc6962_test.go: the leaf hash of "L123456".
 * Both sources number leaves from 1 in their path vectors ({leaf, snapshot});
 * the tables below use our 0-based index, i.e. their leaf minus one.
 * ---------------------------------------------------------------------------------- */

/* [CT] kInputs, [TD] LeafInputs(). */
static const char *const vector_leaves[8] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};

/* [CT] kSHA256EmptyTreeHash then kSHA256Roots; [TD] RootHashes(): root by size 0..8. */
static const char *const vector_roots[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* [TD] NodeHashes(): every perfect subtree of the 8-leaf tree, by level then position;
 * level 0 holds the leaf hashes. */
static const char *const vector_level0[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
};
static const char *const vector_level1[4] = {
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
};
static const char *const vector_level2[2] = {
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
};
static const char *const vector_level3 =
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";

/* [TD] CompactTrees(): the frontier after each size 1..8, as {level, position} into
 * NodeHashes(), largest subtree first. {-1, -1} ends a row. */
static const int vector_frontiers[9][3][2] = {
    {{-1, -1}},
    {{0, 0}, {-1, -1}},
    {{1, 0}, {-1, -1}},
    {{1, 0}, {0, 2}, {-1, -1}},
    {{2, 0}, {-1, -1}},
    {{2, 0}, {0, 4}, {-1, -1}},
    {{2, 0}, {1, 2}, {-1, -1}},
    {{2, 0}, {1, 2}, {0, 6}},
    {{3, 0}, {-1, -1}},
};

/* [TD] rfc6962_test.go: HashLeaf("L123456"). */
static const char *const vector_leaf_l123456 =
    "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56";

typedef struct {
    uint64_t index; /* 0-based: the source's leaf minus one */
    uint64_t size;
    size_t len;
    const char *path[3];
} inclusion_vector;

/* [CT] kSHA256Paths[1..5], [TD] inclusionProofs[1..5]. (Their first entry, leaf 0 of
 * size 0, is an invalid request and is tested as such below.) */
static const inclusion_vector vector_inclusions[] = {
    {0, 1, 0, {NULL}},
    {0,
     8,
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     3,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     3,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

typedef struct {
    uint64_t m;
    uint64_t n;
    size_t len;
    const char *proof[3];
} consistency_vector;

/* [CT] kSHA256Proofs (the first four), [TD] consistencyProofs (all five). */
static const consistency_vector vector_consistencies[] = {
    {1, 1, 0, {NULL}},
    {1,
     8,
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     2,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6,
     7,
     3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

/* [TD] verify_test.go's sha256SomeHash: an arbitrary hash that is no node of the tree. */
static const char *const vector_some_hash =
    "abacaba000000000000000000000000000000000000000000060061e00123456";

/* GB/T 32905-2016 Appendix A, example 1: SM3("abc"). Checked only to show that the
 * SM2/SM3 suite really hashes with SM3, so the suite comparison below means something. */
static const char *const sm3_abc =
    "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0";

/* ------------------------------------------------------------------------------------
 * Helpers.
 * ---------------------------------------------------------------------------------- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    fail_msg("bad hex digit '%c' in a test vector", c);
    return -1;
}

/* Decodes hex into out[cap]; returns the byte count. */
static size_t from_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t len = strlen(hex);
    assert_int_equal(len % 2, 0);
    assert_true(len / 2 <= cap);
    for (size_t i = 0; i < len / 2; i++) {
        out[i] = (uint8_t)(hex_digit(hex[2 * i]) << 4 | hex_digit(hex[2 * i + 1]));
    }
    return len / 2;
}

static gov_hash hash_from_hex(const char *hex)
{
    gov_hash hash;
    assert_int_equal(strlen(hex), 2 * GOV_HASH_LEN);
    from_hex(hex, hash.bytes, sizeof(hash.bytes));
    return hash;
}

static void vector_leaf_hashes(gov_suite suite, gov_hash out[8])
{
    for (size_t i = 0; i < 8; i++) {
        uint8_t data[16];
        size_t len = from_hex(vector_leaves[i], data, sizeof(data));
        gov_merkle_leaf_hash(suite, data, len, &out[i]);
    }
}

static gov_hash vector_node(int level, int position)
{
    switch (level) {
    case 0:
        return hash_from_hex(vector_level0[position]);
    case 1:
        return hash_from_hex(vector_level1[position]);
    case 2:
        return hash_from_hex(vector_level2[position]);
    default:
        assert_int_equal(position, 0);
        return hash_from_hex(vector_level3);
    }
}

/* A copy of a proof with room to grow, for the corruption probes. */
typedef struct {
    size_t len;
    gov_hash hashes[GOV_MERKLE_PROOF_MAX + 2];
} hash_list;

static void list_append(hash_list *list, const gov_hash *hash)
{
    assert_true(list->len < ARRAY_LEN(list->hashes));
    list->hashes[list->len++] = *hash;
}

static void list_insert(hash_list *list, size_t at, const gov_hash *hash)
{
    assert_true(list->len < ARRAY_LEN(list->hashes));
    memmove(&list->hashes[at + 1], &list->hashes[at], (list->len - at) * sizeof(gov_hash));
    list->hashes[at] = *hash;
    list->len++;
}

static void list_remove(hash_list *list, size_t at)
{
    memmove(&list->hashes[at], &list->hashes[at + 1], (list->len - at - 1) * sizeof(gov_hash));
    list->len--;
}

static void assert_list_equal(const gov_hash *got, size_t got_len, const hash_list *want)
{
    assert_int_equal(got_len, want->len);
    for (size_t i = 0; i < got_len; i++) {
        assert_hash_equal(&got[i], &want->hashes[i]);
    }
}

static gov_hash flip_byte(gov_hash hash, size_t at, uint8_t mask)
{
    hash.bytes[at % GOV_HASH_LEN] ^= mask != 0 ? mask : 0x01;
    return hash;
}

/* ------------------------------------------------------------------------------------
 * The naive model: RFC 6962 §2.1, transcribed. Recursive, allocating, slow on purpose.
 * ---------------------------------------------------------------------------------- */

/* "k is the largest power of two smaller than n" (n > 1). */
static size_t model_split(size_t n)
{
    size_t k = 1;
    while (k * 2 < n) {
        k *= 2;
    }
    return k;
}

/* MTH({d(0)}) = SHA-256(0x00 || d(0)), with the suite's hash. */
static void model_leaf(gov_suite suite, const uint8_t *data, size_t len, gov_hash *out)
{
    uint8_t *preimage = malloc(len + 1);
    assert_non_null(preimage);
    preimage[0] = 0x00;
    memcpy(preimage + 1, data, len);
    gov_hash_bytes(suite, preimage, len + 1, out);
    free(preimage);
}

static void model_node(gov_suite suite, const gov_hash *left, const gov_hash *right, gov_hash *out)
{
    uint8_t preimage[1 + 2 * GOV_HASH_LEN];
    preimage[0] = 0x01;
    memcpy(preimage + 1, left->bytes, GOV_HASH_LEN);
    memcpy(preimage + 1 + GOV_HASH_LEN, right->bytes, GOV_HASH_LEN);
    gov_hash_bytes(suite, preimage, sizeof(preimage), out);
}

/* MTH(D[n]); leaves[] are the leaf hashes MTH({d(i)}). */
static void model_mth(gov_suite suite, const gov_hash *leaves, size_t n, gov_hash *out)
{
    if (n == 0) {
        gov_hash_bytes(suite, "", 0, out);
        return;
    }
    if (n == 1) {
        *out = leaves[0];
        return;
    }
    size_t k = model_split(n);
    gov_hash left;
    gov_hash right;
    model_mth(suite, leaves, k, &left);
    model_mth(suite, leaves + k, n - k, &right);
    model_node(suite, &left, &right, out);
}

/* PATH(m, D[n]) (§2.1.1). */
static void model_path(gov_suite suite, size_t m, const gov_hash *leaves, size_t n, hash_list *out)
{
    if (n == 1) {
        return;
    }
    size_t k = model_split(n);
    gov_hash other;
    if (m < k) {
        model_path(suite, m, leaves, k, out);
        model_mth(suite, leaves + k, n - k, &other);
    } else {
        model_path(suite, m - k, leaves + k, n - k, out);
        model_mth(suite, leaves, k, &other);
    }
    list_append(out, &other);
}

/* SUBPROOF(m, D[n], b) (§2.1.2). */
static void model_subproof(gov_suite suite, size_t m, const gov_hash *leaves, size_t n, bool b,
                           hash_list *out)
{
    gov_hash other;
    if (m == n) {
        if (!b) {
            model_mth(suite, leaves, m, &other);
            list_append(out, &other);
        }
        return;
    }
    size_t k = model_split(n);
    if (m <= k) {
        model_subproof(suite, m, leaves, k, b, out);
        model_mth(suite, leaves + k, n - k, &other);
    } else {
        model_subproof(suite, m - k, leaves + k, n - k, false, out);
        model_mth(suite, leaves, k, &other);
    }
    list_append(out, &other);
}

/* ------------------------------------------------------------------------------------
 * Randomized comparison with the model.
 * ---------------------------------------------------------------------------------- */

typedef struct {
    gov_suite suite;
    uint64_t rng;
    const gov_hash *leaves;
    uint64_t proofs_checked;  /* generated proofs equal to the model's and verified */
    uint64_t probes_rejected; /* corrupted proofs or arguments that were refused */
} check_context;

/* A generator state derived from the printed seed; xorshift must not start at 0. */
static uint64_t seeded(uint64_t salt)
{
    uint64_t state = test_seed() ^ (salt * 0x9e3779b97f4a7c15ULL);
    return state != 0 ? state : 1;
}

static uint64_t below(check_context *ctx, uint64_t bound)
{
    return test_random(&ctx->rng) % bound;
}

static uint8_t nonzero_byte(check_context *ctx)
{
    return (uint8_t)(1 + below(ctx, 255));
}

/* Random leaves, each starting with its index so that no two are equal (a tree with
 * repeated leaves can have proofs that verify at a second position). Most are short;
 * some exceed merkle.c's stack buffer to take its incremental-hasher path. */
static gov_hash *random_leaves(check_context *ctx, size_t n)
{
    gov_hash *leaves = calloc(n + 1, sizeof(gov_hash));
    assert_non_null(leaves);
    uint8_t data[8 + 600];
    for (size_t i = 0; i < n; i++) {
        size_t len = 8 + (below(ctx, 8) == 0 ? below(ctx, 600) : below(ctx, 40));
        for (size_t b = 0; b < 8; b++) {
            data[b] = (uint8_t)((uint64_t)i >> (8 * b));
        }
        test_random_bytes(&ctx->rng, data + 8, len - 8);
        gov_hash want;
        model_leaf(ctx->suite, data, len, &want);
        gov_merkle_leaf_hash(ctx->suite, data, len, &leaves[i]);
        assert_hash_equal(&leaves[i], &want);
    }
    return leaves;
}

/* Verification of (index, n) with this leaf, path and root must fail. */
static void refuse_inclusion(check_context *ctx, const gov_hash *leaf, uint64_t index, uint64_t n,
                             const hash_list *path, const gov_hash *root)
{
    if (gov_merkle_verify_inclusion(ctx->suite, leaf, index, n, path->hashes, path->len, root)) {
        fail_msg("inclusion proof of %llu in %llu (len %zu) wrongly verified",
                 (unsigned long long)index, (unsigned long long)n, path->len);
    }
    ctx->probes_rejected++;
}

/* Every single-hash change of the proof must fail: every byte in small trees, one
 * random byte per hash in larger ones. */
static void tamper_inclusion(check_context *ctx, const gov_hash *leaf, uint64_t index, uint64_t n,
                             const hash_list *path, const gov_hash *root)
{
    bool every_byte = n <= 32;
    for (size_t i = 0; i < path->len; i++) {
        for (size_t at = 0; at < GOV_HASH_LEN; at++) {
            hash_list bad = *path;
            size_t where = every_byte ? at : below(ctx, GOV_HASH_LEN);
            bad.hashes[i] = flip_byte(bad.hashes[i], where, nonzero_byte(ctx));
            refuse_inclusion(ctx, leaf, index, n, &bad, root);
            if (!every_byte) {
                break;
            }
        }
    }
}

/* A proof with one hash too many or too few (RFC 9162 §2.1.3.2 steps 4a and 5). */
static void reshape_inclusion(check_context *ctx, const gov_hash *leaf, uint64_t index, uint64_t n,
                              const hash_list *path, const gov_hash *root)
{
    gov_hash junk;
    test_random_bytes(&ctx->rng, junk.bytes, GOV_HASH_LEN);
    const gov_hash *extras[] = {&junk, root, leaf};
    for (size_t e = 0; e < ARRAY_LEN(extras); e++) {
        hash_list bad = *path;
        list_append(&bad, extras[e]);
        refuse_inclusion(ctx, leaf, index, n, &bad, root);
        bad = *path;
        list_insert(&bad, 0, extras[e]);
        refuse_inclusion(ctx, leaf, index, n, &bad, root);
        bad = *path;
        list_insert(&bad, below(ctx, path->len + 1), extras[e]);
        refuse_inclusion(ctx, leaf, index, n, &bad, root);
    }
    for (size_t i = 0; i < path->len; i++) {
        hash_list bad = *path;
        list_remove(&bad, i);
        refuse_inclusion(ctx, leaf, index, n, &bad, root);
    }
    /* One hash past the root, with a made-up root to match: only the "sn is 0" check
     * of step 4a tells this from a proof in a taller tree. */
    hash_list longer = *path;
    list_append(&longer, &junk);
    gov_hash made_up;
    model_node(ctx->suite, &junk, root, &made_up);
    refuse_inclusion(ctx, leaf, index, n, &longer, &made_up);
}

/* Right proof, wrong claim: another index, size, leaf or root. */
static void misapply_inclusion(check_context *ctx, uint64_t index, uint64_t n,
                               const hash_list *path, const gov_hash *root)
{
    const gov_hash *leaf = &ctx->leaves[index];
    /* For a fixed size, the left/right pattern of a path names one leaf, so any other
     * index must fail; beyond the tree it fails at RFC 9162 step 1. */
    uint64_t others[] = {index - 1, index + 1, index ^ 1,  index ^ 2,
                         n,         n + 1,     UINT64_MAX, below(ctx, n)};
    for (size_t i = 0; i < ARRAY_LEN(others); i++) {
        if (others[i] != index) {
            refuse_inclusion(ctx, leaf, others[i], n, path, root);
        }
    }
    if (n <= 32) {
        for (uint64_t j = 0; j < n; j++) {
            if (j != index) {
                refuse_inclusion(ctx, leaf, j, n, path, root);
            }
        }
    }
    /* Wrong heights, as in [TD] verify_test.go corruptInclusionProof. */
    refuse_inclusion(ctx, leaf, index, n * 2, path, root);
    refuse_inclusion(ctx, leaf, index, n / 2, path, root);
    refuse_inclusion(ctx, leaf, index, 0, path, root);
    refuse_inclusion(ctx, leaf, index, SIZE_MAX_TREE + 1, path, root);
    gov_hash bad = flip_byte(*leaf, below(ctx, GOV_HASH_LEN), nonzero_byte(ctx));
    refuse_inclusion(ctx, &bad, index, n, path, root);
    if (n > 1) {
        refuse_inclusion(ctx, &ctx->leaves[(index + 1) % n], index, n, path, root);
    }
    bad = flip_byte(*root, below(ctx, GOV_HASH_LEN), nonzero_byte(ctx));
    refuse_inclusion(ctx, leaf, index, n, path, &bad);
    gov_hash_bytes(ctx->suite, "", 0, &bad);
    refuse_inclusion(ctx, leaf, index, n, path, &bad);
}

static void check_inclusion(check_context *ctx, uint64_t n, uint64_t index, const gov_hash *root)
{
    gov_hash path[GOV_MERKLE_PROOF_MAX];
    size_t len = SIZE_MAX;
    assert_int_equal(gov_merkle_inclusion_proof(ctx->suite, ctx->leaves, n, index, path, &len), 0);
    hash_list want = {0};
    model_path(ctx->suite, index, ctx->leaves, n, &want);
    assert_list_equal(path, len, &want);
    assert_true(
        gov_merkle_verify_inclusion(ctx->suite, &ctx->leaves[index], index, n, path, len, root));
    ctx->proofs_checked++;
    tamper_inclusion(ctx, &ctx->leaves[index], index, n, &want, root);
    reshape_inclusion(ctx, &ctx->leaves[index], index, n, &want, root);
    misapply_inclusion(ctx, index, n, &want, root);
}

static void refuse_consistency(check_context *ctx, uint64_t m, uint64_t n, const gov_hash *root_m,
                               const gov_hash *root_n, const hash_list *proof)
{
    if (gov_merkle_verify_consistency(ctx->suite, m, n, root_m, root_n, proof->hashes,
                                      proof->len)) {
        fail_msg("consistency proof %llu -> %llu (len %zu) wrongly verified", (unsigned long long)m,
                 (unsigned long long)n, proof->len);
    }
    ctx->probes_rejected++;
}

static void tamper_consistency(check_context *ctx, uint64_t m, uint64_t n, const gov_hash *root_m,
                               const gov_hash *root_n, const hash_list *proof)
{
    bool every_byte = n <= 32;
    for (size_t i = 0; i < proof->len; i++) {
        for (size_t at = 0; at < GOV_HASH_LEN; at++) {
            hash_list bad = *proof;
            size_t where = every_byte ? at : below(ctx, GOV_HASH_LEN);
            bad.hashes[i] = flip_byte(bad.hashes[i], where, nonzero_byte(ctx));
            refuse_consistency(ctx, m, n, root_m, root_n, &bad);
            if (!every_byte) {
                break;
            }
        }
    }
}

/* Extra or missing hashes (RFC 9162 §2.1.4.2 steps 1, 6a and 7), including the old
 * root itself, which the proof omits exactly when m is a power of two. */
static void reshape_consistency(check_context *ctx, uint64_t m, uint64_t n, const gov_hash *root_m,
                                const gov_hash *root_n, const hash_list *proof)
{
    gov_hash junk;
    test_random_bytes(&ctx->rng, junk.bytes, GOV_HASH_LEN);
    const gov_hash *extras[] = {&junk, root_m, root_n};
    for (size_t e = 0; e < ARRAY_LEN(extras); e++) {
        hash_list bad = *proof;
        list_append(&bad, extras[e]);
        refuse_consistency(ctx, m, n, root_m, root_n, &bad);
        bad = *proof;
        list_insert(&bad, 0, extras[e]);
        refuse_consistency(ctx, m, n, root_m, root_n, &bad);
        bad = *proof;
        list_insert(&bad, below(ctx, proof->len + 1), extras[e]);
        refuse_consistency(ctx, m, n, root_m, root_n, &bad);
    }
    for (size_t i = 0; i < proof->len; i++) {
        hash_list bad = *proof;
        list_remove(&bad, i);
        refuse_consistency(ctx, m, n, root_m, root_n, &bad);
    }
    if (proof->len > 0) {
        hash_list bad = *proof;
        list_insert(&bad, 0, &proof->hashes[0]);
        refuse_consistency(ctx, m, n, root_m, root_n, &bad);
    }
    /* One hash past both roots, with made-up roots to match (step 6a). */
    if (m < n) {
        hash_list longer = *proof;
        list_append(&longer, &junk);
        gov_hash made_up_m;
        gov_hash made_up_n;
        model_node(ctx->suite, &junk, root_m, &made_up_m);
        model_node(ctx->suite, &junk, root_n, &made_up_n);
        refuse_consistency(ctx, m, n, &made_up_m, &made_up_n, &longer);
    }
}

/* Right proof, wrong claim. The size changes are those of [TD] verify_test.go
 * corruptConsistencyProof; roots of the wrong sizes and swapped roots must fail. */
static void misapply_consistency(check_context *ctx, uint64_t m, uint64_t n, const gov_hash *root_m,
                                 const gov_hash *root_n, const hash_list *proof)
{
    if (m == n) {
        gov_hash other = flip_byte(*root_n, below(ctx, GOV_HASH_LEN), nonzero_byte(ctx));
        refuse_consistency(ctx, m, n, root_m, &other, proof);
        refuse_consistency(ctx, 0, n, root_m, root_n, proof);
        refuse_consistency(ctx, n + 1, n, root_m, root_n, proof);
        return;
    }
    uint64_t sizes[][2] = {{m - 1, n}, {m + 1, n}, {m ^ 2, n}, {m, n * 2},
                           {m, n / 2}, {0, n},     {n, m},     {m, SIZE_MAX_TREE + 1}};
    for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
        refuse_consistency(ctx, sizes[i][0], sizes[i][1], root_m, root_n, proof);
    }
    gov_hash bad_m = flip_byte(*root_m, below(ctx, GOV_HASH_LEN), nonzero_byte(ctx));
    gov_hash bad_n = flip_byte(*root_n, below(ctx, GOV_HASH_LEN), nonzero_byte(ctx));
    refuse_consistency(ctx, m, n, &bad_m, root_n, proof);
    refuse_consistency(ctx, m, n, root_m, &bad_n, proof);
    refuse_consistency(ctx, m, n, root_n, root_m, proof);
    hash_list empty = {0};
    refuse_consistency(ctx, m, n, root_m, root_n, &empty);
}

static void check_consistency(check_context *ctx, uint64_t m, uint64_t n, const gov_hash *root_n)
{
    gov_hash proof[GOV_MERKLE_PROOF_MAX];
    size_t len = SIZE_MAX;
    assert_int_equal(gov_merkle_consistency_proof(ctx->suite, ctx->leaves, m, n, proof, &len), 0);
    hash_list want = {0};
    model_subproof(ctx->suite, m, ctx->leaves, n, true, &want);
    assert_list_equal(proof, len, &want);
    gov_hash root_m;
    model_mth(ctx->suite, ctx->leaves, m, &root_m);
    assert_true(gov_merkle_verify_consistency(ctx->suite, m, n, &root_m, root_n, proof, len));
    ctx->proofs_checked++;
    tamper_consistency(ctx, m, n, &root_m, root_n, &want);
    reshape_consistency(ctx, m, n, &root_m, root_n, &want);
    misapply_consistency(ctx, m, n, &root_m, root_n, &want);
}

/* The positions worth testing in a tree of n: all of them in small trees, otherwise
 * both ends, both sides of each split boundary and a random sample. Values are in
 * [first, n]; returns the count written. */
static size_t pick_positions(check_context *ctx, uint64_t first, uint64_t n, uint64_t *out,
                             size_t cap)
{
    size_t count = 0;
    if (n - first < cap) {
        for (uint64_t v = first; v <= n; v++) {
            out[count++] = v;
        }
        return count;
    }
    uint64_t fixed[] = {first, first + 1, n - 1, n};
    for (size_t i = 0; i < ARRAY_LEN(fixed); i++) {
        out[count++] = fixed[i];
    }
    for (uint64_t k = 1; k < n && count + 2 <= cap / 2; k *= 2) {
        out[count++] = k > first ? k - 1 : first;
        out[count++] = k;
    }
    while (count < cap) {
        out[count++] = first + below(ctx, n - first + 1);
    }
    return count;
}

/* The frontier after each append equals the model's root, and holds the roots of the
 * perfect subtrees given by the set bits of the size, largest first. */
static void check_frontier_entries(check_context *ctx, const gov_merkle_frontier *tree)
{
    uint64_t start = 0;
    size_t slot = 0;
    for (int bit = 63; bit >= 0; bit--) {
        uint64_t width = (uint64_t)1 << bit;
        if ((tree->size & width) == 0) {
            continue;
        }
        gov_hash want;
        model_mth(ctx->suite, ctx->leaves + start, width, &want);
        assert_hash_equal(&tree->frontier[slot], &want);
        slot++;
        start += width;
    }
    /* merkle.c clears merged slots, so the struct depends on the size alone. */
    gov_hash zero = {{0}};
    for (; slot < GOV_MERKLE_PROOF_MAX; slot++) {
        assert_hash_equal(&tree->frontier[slot], &zero);
    }
}

static void check_tree(check_context *ctx, uint64_t n)
{
    gov_hash root;
    gov_hash want;
    gov_merkle_root(ctx->suite, ctx->leaves, n, &root);
    model_mth(ctx->suite, ctx->leaves, n, &want);
    assert_hash_equal(&root, &want);

    uint64_t picks[64];
    if (n > 0) {
        size_t count = pick_positions(ctx, 1, n, picks, n <= 64 ? 64 : 24);
        for (size_t i = 0; i < count; i++) {
            check_inclusion(ctx, n, picks[i] - 1, &root);
        }
    }
    if (n > 0) {
        size_t count = pick_positions(ctx, 1, n, picks, n <= 32 ? 40 : 20);
        for (size_t i = 0; i < count; i++) {
            check_consistency(ctx, picks[i], n, &root);
        }
    }
}

static void run_model_checks(gov_suite suite, const char *label)
{
    static const uint64_t large[] = {1000, 1025, 4096 + 3};
    const uint64_t most = large[ARRAY_LEN(large) - 1];
    check_context ctx = {.suite = suite, .rng = seeded((uint64_t)suite)};
    gov_hash *leaves = random_leaves(&ctx, most);
    ctx.leaves = leaves;

    /* The frontier, appended one leaf at a time, against the model at every size up
     * to 300 and at the large sizes. */
    gov_merkle_frontier tree;
    gov_merkle_frontier_init(&tree);
    for (uint64_t size = 0;; size++) {
        bool checked = size <= 300 || size == large[0] || size == large[1] || size == most;
        if (checked) {
            gov_hash got;
            gov_hash want;
            gov_merkle_frontier_root(suite, &tree, &got);
            model_mth(suite, leaves, size, &want);
            assert_hash_equal(&got, &want);
            check_frontier_entries(&ctx, &tree);
        }
        if (size == most) {
            break;
        }
        gov_merkle_frontier_append(suite, &tree, &leaves[size]);
        assert_int_equal(tree.size, size + 1);
    }

    for (uint64_t n = 0; n <= 300; n++) {
        check_tree(&ctx, n);
    }
    for (size_t i = 0; i < ARRAY_LEN(large); i++) {
        check_tree(&ctx, large[i]);
    }
    printf("# %s: %llu proofs equal to the model and verified, %llu corruptions refused\n", label,
           (unsigned long long)ctx.proofs_checked, (unsigned long long)ctx.probes_rejected);
    assert_true(ctx.proofs_checked > 0);
    assert_true(ctx.probes_rejected > ctx.proofs_checked);
    free(leaves);
}

static void test_model_sha256(void **state)
{
    (void)state;
    run_model_checks(GOV_SUITE_P256_SHA256, "p256-sha256");
}

static void test_model_sm3(void **state)
{
    (void)state;
    /* The suite's hash is SM3 (GB/T 32905 example 1)... */
    gov_hash got;
    gov_hash want = hash_from_hex(sm3_abc);
    gov_hash_bytes(GOV_SUITE_SM2_SM3, "abc", 3, &got);
    assert_hash_equal(&got, &want);

    /* ...and the trees use it: the published SHA-256 roots must all differ. */
    gov_hash leaves[8];
    vector_leaf_hashes(GOV_SUITE_SM2_SM3, leaves);
    for (uint64_t n = 0; n <= 8; n++) {
        gov_hash root;
        gov_hash sha256_root = hash_from_hex(vector_roots[n]);
        gov_merkle_root(GOV_SUITE_SM2_SM3, leaves, n, &root);
        assert_memory_not_equal(root.bytes, sha256_root.bytes, GOV_HASH_LEN);
    }
    gov_hash empty;
    gov_merkle_root(GOV_SUITE_SM2_SM3, NULL, 0, &empty);
    gov_hash_bytes(GOV_SUITE_SM2_SM3, "", 0, &want);
    assert_hash_equal(&empty, &want);

    run_model_checks(GOV_SUITE_SM2_SM3, "sm2-sm3");
}

/* ------------------------------------------------------------------------------------
 * Published vectors.
 * ---------------------------------------------------------------------------------- */

static void test_vector_hashes(void **state)
{
    (void)state;
    const gov_suite suite = GOV_SUITE_P256_SHA256;
    gov_hash got;
    gov_hash want = hash_from_hex(vector_leaf_l123456);
    gov_merkle_leaf_hash(suite, "L123456", 7, &got);
    assert_hash_equal(&got, &want);

    gov_hash leaves[8];
    vector_leaf_hashes(suite, leaves);
    for (int i = 0; i < 8; i++) {
        want = vector_node(0, i);
        assert_hash_equal(&leaves[i], &want);
    }
    /* Each perfect subtree in NodeHashes() is the node hash of its two children. */
    for (int level = 1; level <= 3; level++) {
        for (int i = 0; i < 8 >> level; i++) {
            gov_hash left = vector_node(level - 1, 2 * i);
            gov_hash right = vector_node(level - 1, 2 * i + 1);
            want = vector_node(level, i);
            gov_merkle_node_hash(suite, &left, &right, &got);
            assert_hash_equal(&got, &want);
            /* The output may alias an input. */
            gov_merkle_node_hash(suite, &left, &right, &left);
            assert_hash_equal(&left, &want);
        }
    }
}

static void test_vector_roots_and_frontiers(void **state)
{
    (void)state;
    const gov_suite suite = GOV_SUITE_P256_SHA256;
    gov_hash leaves[8];
    vector_leaf_hashes(suite, leaves);
    gov_merkle_frontier tree;
    gov_merkle_frontier_init(&tree);
    for (uint64_t n = 0; n <= 8; n++) {
        gov_hash want = hash_from_hex(vector_roots[n]);
        gov_hash got;
        gov_merkle_root(suite, n == 0 ? NULL : leaves, n, &got);
        assert_hash_equal(&got, &want);

        assert_int_equal(tree.size, n);
        gov_merkle_frontier_root(suite, &tree, &got);
        assert_hash_equal(&got, &want);
        for (size_t slot = 0; slot < 3 && vector_frontiers[n][slot][0] >= 0; slot++) {
            gov_hash node = vector_node(vector_frontiers[n][slot][0], vector_frontiers[n][slot][1]);
            assert_hash_equal(&tree.frontier[slot], &node);
        }
        if (n < 8) {
            gov_merkle_frontier_append(suite, &tree, &leaves[n]);
        }
    }
}

static void test_vector_inclusion(void **state)
{
    (void)state;
    check_context ctx = {.suite = GOV_SUITE_P256_SHA256, .rng = seeded(3)};
    gov_hash leaves[8];
    vector_leaf_hashes(ctx.suite, leaves);
    ctx.leaves = leaves;
    for (size_t v = 0; v < ARRAY_LEN(vector_inclusions); v++) {
        const inclusion_vector *vector = &vector_inclusions[v];
        hash_list want = {0};
        for (size_t i = 0; i < vector->len; i++) {
            gov_hash hash = hash_from_hex(vector->path[i]);
            list_append(&want, &hash);
        }
        gov_hash path[GOV_MERKLE_PROOF_MAX];
        size_t len = SIZE_MAX;
        assert_int_equal(
            gov_merkle_inclusion_proof(ctx.suite, leaves, vector->size, vector->index, path, &len),
            0);
        assert_list_equal(path, len, &want);

        gov_hash root = hash_from_hex(vector_roots[vector->size]);
        assert_true(gov_merkle_verify_inclusion(ctx.suite, &leaves[vector->index], vector->index,
                                                vector->size, path, len, &root));
        tamper_inclusion(&ctx, &leaves[vector->index], vector->index, vector->size, &want, &root);
        reshape_inclusion(&ctx, &leaves[vector->index], vector->index, vector->size, &want, &root);
        misapply_inclusion(&ctx, vector->index, vector->size, &want, &root);
        /* [TD] sha256SomeHash as the root. */
        gov_hash some = hash_from_hex(vector_some_hash);
        refuse_inclusion(&ctx, &leaves[vector->index], vector->index, vector->size, &want, &some);
        ctx.proofs_checked++;
    }
    assert_int_equal(ctx.proofs_checked, ARRAY_LEN(vector_inclusions));
}

static void test_vector_consistency(void **state)
{
    (void)state;
    check_context ctx = {.suite = GOV_SUITE_P256_SHA256, .rng = seeded(3)};
    gov_hash leaves[8];
    vector_leaf_hashes(ctx.suite, leaves);
    ctx.leaves = leaves;
    for (size_t v = 0; v < ARRAY_LEN(vector_consistencies); v++) {
        const consistency_vector *vector = &vector_consistencies[v];
        hash_list want = {0};
        for (size_t i = 0; i < vector->len; i++) {
            gov_hash hash = hash_from_hex(vector->proof[i]);
            list_append(&want, &hash);
        }
        gov_hash proof[GOV_MERKLE_PROOF_MAX];
        size_t len = SIZE_MAX;
        assert_int_equal(
            gov_merkle_consistency_proof(ctx.suite, leaves, vector->m, vector->n, proof, &len), 0);
        assert_list_equal(proof, len, &want);

        gov_hash root_m = hash_from_hex(vector_roots[vector->m]);
        gov_hash root_n = hash_from_hex(vector_roots[vector->n]);
        assert_true(gov_merkle_verify_consistency(ctx.suite, vector->m, vector->n, &root_m, &root_n,
                                                  proof, len));
        tamper_consistency(&ctx, vector->m, vector->n, &root_m, &root_n, &want);
        reshape_consistency(&ctx, vector->m, vector->n, &root_m, &root_n, &want);
        misapply_consistency(&ctx, vector->m, vector->n, &root_m, &root_n, &want);
        ctx.proofs_checked++;
    }
    assert_int_equal(ctx.proofs_checked, ARRAY_LEN(vector_consistencies));
}

/* [CT] MerkleVerifierTest.VerifyConsistencyProof and [TD] TestVerifyConsistency, as far
 * as they apply: our header requires 0 < m <= n, so their "0 is consistent with
 * anything" cases are refused here instead. */
static void test_vector_consistency_edges(void **state)
{
    (void)state;
    const gov_suite suite = GOV_SUITE_P256_SHA256;
    gov_hash empty = hash_from_hex(vector_roots[0]);
    gov_hash root1 = hash_from_hex(vector_roots[1]);
    gov_hash root2 = hash_from_hex(vector_roots[2]);
    assert_true(gov_merkle_verify_consistency(suite, 1, 1, &root1, &root1, NULL, 0));
    assert_false(gov_merkle_verify_consistency(suite, 1, 1, &root1, &root2, NULL, 0));
    assert_false(gov_merkle_verify_consistency(suite, 1, 0, &root1, &root2, NULL, 0));
    assert_false(gov_merkle_verify_consistency(suite, 2, 1, &root2, &root1, NULL, 0));
    assert_false(gov_merkle_verify_consistency(suite, 1, 2, &root1, &root2, NULL, 0));
    assert_false(gov_merkle_verify_consistency(suite, 0, 0, &empty, &empty, NULL, 0));
    assert_false(gov_merkle_verify_consistency(suite, 0, 1, &empty, &root1, NULL, 0));
    /* Roots match but the proof is not empty. */
    assert_false(gov_merkle_verify_consistency(suite, 1, 1, &root1, &root1, &empty, 1));
    assert_false(gov_merkle_verify_consistency(suite, 0, 0, &empty, &empty, &empty, 1));
}

/* Leaf hashes of every length around merkle.c's switch from a stack buffer to an
 * incremental hasher equal H(0x00 || d) computed in one piece. */
static void test_leaf_hash_lengths(void **state)
{
    (void)state;
    static const size_t lengths[] = {0, 1, 31, 32, 33, 255, 256, 257, 1000, 100000};
    uint64_t rng = seeded(5);
    uint8_t *data = malloc(100000);
    assert_non_null(data);
    test_random_bytes(&rng, data, 100000);
    for (size_t i = 0; i < ARRAY_LEN(lengths); i++) {
        gov_hash got;
        gov_hash want;
        gov_merkle_leaf_hash(GOV_SUITE_SM2_SM3, data, lengths[i], &got);
        model_leaf(GOV_SUITE_SM2_SM3, data, lengths[i], &want);
        assert_hash_equal(&got, &want);
        gov_merkle_leaf_hash(GOV_SUITE_P256_SHA256, data, lengths[i], &got);
        model_leaf(GOV_SUITE_P256_SHA256, data, lengths[i], &want);
        assert_hash_equal(&got, &want);
    }
    free(data);
}

/* RFC 6962 §2.1.3 states its 7-leaf example symbolically, with the node names of its
 * diagram:
 *                 hash
 *             k          l
 *          g     h     i     j
 *         a b   c d   e f    d6
 * "The audit path for d0 is [b, h, l]", "for d3 is [c, g, l]", "for d4 is [f, j, k]",
 * "for d6 is [i, k]"; "PROOF(3, D[7]) = [c, d, g, l]", "PROOF(4, D[7]) = [l]",
 * "PROOF(6, D[7]) = [i, j, k]". These pin down the order of the hashes in a proof.
 * The leaves are the first seven [CT] inputs; the names map to [TD] NodeHashes(). */
static void test_rfc6962_examples(void **state)
{
    (void)state;
    const gov_suite suite = GOV_SUITE_P256_SHA256;
    gov_hash leaves[8];
    vector_leaf_hashes(suite, leaves);
    gov_hash node[12]; /* a..l */
    for (int i = 0; i < 6; i++) {
        node[i] = vector_node(0, i); /* a..f */
    }
    for (int i = 0; i < 3; i++) {
        node[6 + i] = vector_node(1, i); /* g, h, i */
    }
    node[9] = vector_node(0, 6);                                /* j = d6 */
    node[10] = vector_node(2, 0);                               /* k */
    gov_merkle_node_hash(suite, &node[8], &node[9], &node[11]); /* l */

    static const struct {
        uint64_t first; /* leaf index, or old size for a consistency proof */
        const char *names;
        bool consistency;
    } examples[] = {
        {0, "bhl", false}, {3, "cgl", false}, {4, "fjk", false}, {6, "ik", false},
        {3, "cdgl", true}, {4, "l", true},    {6, "ijk", true},
    };
    for (size_t e = 0; e < ARRAY_LEN(examples); e++) {
        gov_hash proof[GOV_MERKLE_PROOF_MAX];
        size_t len = SIZE_MAX;
        int rc =
            examples[e].consistency
                ? gov_merkle_consistency_proof(suite, leaves, examples[e].first, 7, proof, &len)
                : gov_merkle_inclusion_proof(suite, leaves, 7, examples[e].first, proof, &len);
        assert_int_equal(rc, 0);
        assert_int_equal(len, strlen(examples[e].names));
        for (size_t i = 0; i < len; i++) {
            assert_hash_equal(&proof[i], &node[examples[e].names[i] - 'a']);
        }
    }
}

/* [CT] VerifyPath's invalid requests and [TD] TestVerifyInclusion's probes. */
static void test_invalid_arguments(void **state)
{
    (void)state;
    const gov_suite suite = GOV_SUITE_P256_SHA256;
    gov_hash leaves[8];
    vector_leaf_hashes(suite, leaves);
    gov_hash path[GOV_MERKLE_PROOF_MAX];
    size_t len = 0;
    gov_hash empty = hash_from_hex(vector_roots[0]);
    gov_hash some = hash_from_hex(vector_some_hash);
    const uint64_t probes[][2] = {{0, 0}, {0, 1}, {1, 0}, {2, 1}};
    for (size_t i = 0; i < ARRAY_LEN(probes); i++) {
        assert_false(
            gov_merkle_verify_inclusion(suite, &some, probes[i][0], probes[i][1], path, 0, &empty));
    }
    assert_int_equal(gov_merkle_inclusion_proof(suite, leaves, 0, 0, path, &len), GOV_EINVAL);
    assert_int_equal(gov_merkle_inclusion_proof(suite, leaves, 8, 8, path, &len), GOV_EINVAL);
    assert_int_equal(gov_merkle_inclusion_proof(suite, leaves, SIZE_MAX_TREE + 1, 0, path, &len),
                     GOV_EINVAL);
    /* [TD] TestTreeConsistencyProof: (6, 3) and (0, 3) are refused. */
    assert_int_equal(gov_merkle_consistency_proof(suite, leaves, 6, 3, path, &len), GOV_EINVAL);
    assert_int_equal(gov_merkle_consistency_proof(suite, leaves, 0, 3, path, &len), GOV_EINVAL);
    assert_int_equal(gov_merkle_consistency_proof(suite, leaves, 0, 0, path, &len), GOV_EINVAL);
    assert_int_equal(gov_merkle_consistency_proof(suite, leaves, 1, SIZE_MAX_TREE + 1, path, &len),
                     GOV_EINVAL);
    /* A path longer than any tree allows is refused before it is read. */
    gov_hash root = hash_from_hex(vector_roots[1]);
    assert_false(gov_merkle_verify_inclusion(suite, &leaves[0], 0, 1, path,
                                             GOV_MERKLE_PROOF_MAX + 1, &root));
}

/* ------------------------------------------------------------------------------------
 * Huge trees. If all leaves are one hash, MTH of n leaves depends on n alone, so the
 * RFC 6962 recursions run on sizes in O(log^2 n) and give valid proofs for any size.
 * ---------------------------------------------------------------------------------- */

typedef struct {
    gov_suite suite;
    gov_hash perfect[64]; /* perfect[j]: MTH of 2^j equal leaves */
} uniform_tree;

static int log2_exact(uint64_t power)
{
    int j = 0;
    while (((uint64_t)1 << j) != power) {
        j++;
    }
    return j;
}

static uint64_t uniform_split(uint64_t n)
{
    uint64_t k = 1;
    while (k < n - k) {
        k *= 2;
    }
    return k;
}

static void uniform_mth(const uniform_tree *u, uint64_t n, gov_hash *out)
{
    if (n == 1) {
        *out = u->perfect[0];
        return;
    }
    uint64_t k = uniform_split(n);
    gov_hash right;
    uniform_mth(u, n - k, &right);
    model_node(u->suite, &u->perfect[log2_exact(k)], &right, out);
}

static void uniform_path(const uniform_tree *u, uint64_t m, uint64_t n, hash_list *out)
{
    if (n == 1) {
        return;
    }
    uint64_t k = uniform_split(n);
    gov_hash other;
    if (m < k) {
        uniform_path(u, m, k, out);
        uniform_mth(u, n - k, &other);
    } else {
        uniform_path(u, m - k, n - k, out);
        other = u->perfect[log2_exact(k)];
    }
    list_append(out, &other);
}

static void uniform_subproof(const uniform_tree *u, uint64_t m, uint64_t n, bool b, hash_list *out)
{
    gov_hash other;
    if (m == n) {
        if (!b) {
            uniform_mth(u, m, &other);
            list_append(out, &other);
        }
        return;
    }
    uint64_t k = uniform_split(n);
    if (m <= k) {
        uniform_subproof(u, m, k, b, out);
        uniform_mth(u, n - k, &other);
    } else {
        uniform_subproof(u, m - k, n - k, false, out);
        other = u->perfect[log2_exact(k)];
    }
    list_append(out, &other);
}

/* A size in [1, 2^63], biased towards the top and towards powers of two and their
 * neighbours, where the 64-bit arithmetic is tightest. */
static uint64_t huge_size(check_context *ctx)
{
    uint64_t top = SIZE_MAX_TREE;
    switch (below(ctx, 4)) {
    case 0:
        return top - below(ctx, 1000);
    case 1: {
        uint64_t near_power = ((uint64_t)1 << below(ctx, 64)) - 1 + below(ctx, 3);
        return near_power == 0 ? 1 : near_power;
    }
    default:
        return 1 + below(ctx, top);
    }
}

static void test_huge_trees(void **state)
{
    (void)state;
    check_context ctx = {.suite = GOV_SUITE_P256_SHA256, .rng = seeded(4)};
    uniform_tree u = {.suite = ctx.suite};
    gov_merkle_leaf_hash(ctx.suite, "x", 1, &u.perfect[0]);
    for (int j = 1; j < 64; j++) {
        model_node(ctx.suite, &u.perfect[j - 1], &u.perfect[j - 1], &u.perfect[j]);
    }
    size_t longest = 0;
    for (int trial = 0; trial < 200; trial++) {
        uint64_t n = trial == 0 ? SIZE_MAX_TREE : huge_size(&ctx);
        n = n > SIZE_MAX_TREE ? SIZE_MAX_TREE : n;
        uint64_t index = trial == 0 ? n - 1 : below(&ctx, n);
        uint64_t m = trial == 0 ? n - 1 : 1 + below(&ctx, n);
        gov_hash root_n;
        gov_hash root_m;
        uniform_mth(&u, n, &root_n);
        uniform_mth(&u, m, &root_m);

        hash_list path = {0};
        uniform_path(&u, index, n, &path);
        assert_true(path.len <= GOV_MERKLE_PROOF_MAX);
        assert_true(gov_merkle_verify_inclusion(ctx.suite, &u.perfect[0], index, n, path.hashes,
                                                path.len, &root_n));
        /* With equal leaves only the shape is checked, so corrupt hashes and length. */
        tamper_inclusion(&ctx, &u.perfect[0], index, n, &path, &root_n);
        reshape_inclusion(&ctx, &u.perfect[0], index, n, &path, &root_n);

        hash_list proof = {0};
        uniform_subproof(&u, m, n, true, &proof);
        assert_true(proof.len <= GOV_MERKLE_PROOF_MAX);
        assert_true(gov_merkle_verify_consistency(ctx.suite, m, n, &root_m, &root_n, proof.hashes,
                                                  proof.len));
        tamper_consistency(&ctx, m, n, &root_m, &root_n, &proof);
        reshape_consistency(&ctx, m, n, &root_m, &root_n, &proof);
        longest = proof.len > longest ? proof.len : longest;
        ctx.proofs_checked += 2;
    }
    /* The first trial, 2^63 - 1 -> 2^63, needs the full 64 hashes. */
    assert_int_equal(longest, GOV_MERKLE_PROOF_MAX);
    printf("# huge trees: %llu proofs verified, %llu corruptions refused\n",
           (unsigned long long)ctx.proofs_checked, (unsigned long long)ctx.probes_rejected);
}

int main(void)
{
    test_seed();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_hashes),
        cmocka_unit_test(test_vector_roots_and_frontiers),
        cmocka_unit_test(test_vector_inclusion),
        cmocka_unit_test(test_vector_consistency),
        cmocka_unit_test(test_vector_consistency_edges),
        cmocka_unit_test(test_rfc6962_examples),
        cmocka_unit_test(test_leaf_hash_lengths),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_huge_trees),
        cmocka_unit_test(test_model_sha256),
        cmocka_unit_test(test_model_sm3),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
