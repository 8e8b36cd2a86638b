/*
 * RFC 6962 Merkle trees: hashing, inclusion and consistency proofs, and the
 * append-only frontier. The contract is in include/govchain/merkle.h; docs/merkle.md
 * describes the formats.
 *
 * Design notes.
 *
 * 1. Definitions (RFC 6962 §2.1). MTH({}) = H(""), MTH({d}) = H(0x00 || d), and for
 *    n > 1 MTH(D[n]) = H(0x01 || MTH(D[0:k]) || MTH(D[k:n])) where k is the largest
 *    power of two smaller than n. The left subtree D[0:k] is therefore always perfect.
 *
 * 2. Frontier. Because every left subtree is perfect, a tree of n leaves is the
 *    right-leaning fold of its perfect subtrees, one per set bit of n, largest first:
 *    for n = 7 = 4 + 2 + 1, MTH = node(F4, node(F2, F1)). Appending a leaf merges the
 *    trailing equal-sized subtrees exactly like a binary increment carries. Every
 *    subtree hash in this file is computed through this structure (range_root), so no
 *    code recurses and the extra memory is O(log n) for any n.
 *
 * 3. Proofs. PATH (§2.1.1) and SUBPROOF (§2.1.2) are recursions that descend into one
 *    half and append the other half's MTH *after* the recursive result. The loops
 *    below descend the same way but meet the hashes root-level first, so they collect
 *    them in a scratch array and emit it reversed: the proof lists the deepest hash
 *    first, as the RFC and RFC 9162 verifiers expect.
 *
 * 4. Verification implements RFC 9162 §2.1.3.2 and §2.1.4.2 step by step. It needs
 *    only sizes, roots and the proof, and rejects proofs that are too long (the "sn is
 *    0" check inside the loop) or too short (sn != 0 at the end).
 *
 * 5. Size limit. A consistency proof in a tree of n leaves has at most
 *    ceil(log2 n) + 1 hashes, which is GOV_MERKLE_PROOF_MAX = 64 for n = 2^63; the
 *    header promises that bound, so sizes above 2^63 are refused everywhere.
 */
#include "govchain/merkle.h"

#include <stdlib.h>
#include <string.h>

#include "govchain/error.h"

/* RFC 6962 §2.1 domain-separation prefixes: a leaf can never be taken for a node. */
#define LEAF_PREFIX 0x00
#define NODE_PREFIX 0x01

/* Leaves up to this size are hashed from a stack buffer; tx ids and block hashes are
 * 32 bytes, so the allocating path is for callers with unusual leaves only. */
#define LEAF_STACK_MAX 256

#define TREE_SIZE_MAX ((uint64_t)1 << 63)

void gov_merkle_leaf_hash(gov_suite suite, const void *data, size_t len, gov_hash *out)
{
    if (len <= LEAF_STACK_MAX) {
        uint8_t preimage[1 + LEAF_STACK_MAX];
        preimage[0] = LEAF_PREFIX;
        if (len > 0) {
            memcpy(preimage + 1, data, len);
        }
        gov_hash_bytes(suite, preimage, 1 + len, out);
        return;
    }
    gov_hasher *hasher = gov_hasher_new(suite);
    if (hasher == NULL) {
        /* This function cannot report failure, and a wrong leaf hash would corrupt a
         * root silently: stopping is the only safe answer (fail-stop, STYLE.md). */
        abort();
    }
    const uint8_t prefix = LEAF_PREFIX;
    gov_hasher_update(hasher, &prefix, 1);
    gov_hasher_update(hasher, data, len);
    gov_hasher_final(hasher, out);
    gov_hasher_free(hasher);
}

/* The children are copied before hashing, so out may alias left or right. */
void gov_merkle_node_hash(gov_suite suite, const gov_hash *left, const gov_hash *right,
                          gov_hash *out)
{
    uint8_t preimage[1 + 2 * GOV_HASH_LEN];
    preimage[0] = NODE_PREFIX;
    memcpy(preimage + 1, left->bytes, GOV_HASH_LEN);
    memcpy(preimage + 1 + GOV_HASH_LEN, right->bytes, GOV_HASH_LEN);
    gov_hash_bytes(suite, preimage, sizeof(preimage), out);
}

static unsigned count_set_bits(uint64_t value)
{
    unsigned count = 0;
    for (; value != 0; value &= value - 1) {
        count++;
    }
    return count;
}

/* RFC 6962 §2.1's k: the largest power of two smaller than n, for n >= 2. Doubling
 * only while 2k <= n - 1 keeps k below 2^63, so the shift never overflows. */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    while (k <= (n - 1) / 2) {
        k <<= 1;
    }
    return k;
}

void gov_merkle_frontier_init(gov_merkle_frontier *tree)
{
    memset(tree, 0, sizeof(*tree));
}

void gov_merkle_frontier_append(gov_suite suite, gov_merkle_frontier *tree,
                                const gov_hash *leaf_hash)
{
    if (tree->size == UINT64_MAX) {
        abort(); /* A 2^64th leaf has no size to record; unreachable in practice. */
    }
    unsigned old_count = count_set_bits(tree->size);
    unsigned count = old_count;
    gov_hash carry = *leaf_hash;
    /* Each trailing 1 bit of the size is a perfect subtree as large as the carry, and
     * the smallest subtrees are last: merge them as a binary increment carries. */
    for (uint64_t bits = tree->size; (bits & 1) != 0; bits >>= 1) {
        count--;
        gov_merkle_node_hash(suite, &tree->frontier[count], &carry, &carry);
    }
    tree->frontier[count] = carry;
    /* Clear the merged slots so that equal trees are equal structs, byte for byte. */
    if (old_count > count + 1) {
        memset(&tree->frontier[count + 1], 0, (old_count - count - 1) * sizeof(gov_hash));
    }
    tree->size++;
}

void gov_merkle_frontier_root(gov_suite suite, const gov_merkle_frontier *tree, gov_hash *out)
{
    unsigned count = count_set_bits(tree->size);
    if (count == 0) {
        gov_hash_bytes(suite, "", 0, out); /* RFC 6962 §2.1: MTH({}) = HASH(). */
        return;
    }
    /* Fold right to left (design note 2): the right part of each split is the
     * tree of all smaller subtrees. */
    gov_hash root = tree->frontier[count - 1];
    for (unsigned i = count - 1; i-- > 0;) {
        gov_merkle_node_hash(suite, &tree->frontier[i], &root, &root);
    }
    *out = root;
}

/* MTH(D[count]) over leaf_hashes[0..count). */
static void range_root(gov_suite suite, const gov_hash *leaf_hashes, uint64_t count, gov_hash *out)
{
    gov_merkle_frontier tree;
    gov_merkle_frontier_init(&tree);
    for (uint64_t i = 0; i < count; i++) {
        gov_merkle_frontier_append(suite, &tree, &leaf_hashes[i]);
    }
    gov_merkle_frontier_root(suite, &tree, out);
}

void gov_merkle_root(gov_suite suite, const gov_hash *leaf_hashes, uint64_t n, gov_hash *out)
{
    range_root(suite, leaf_hashes, n, out);
}

/* Writes hashes[count-1], ..., hashes[0] to path (design note 3). */
static void emit_reversed(const gov_hash *hashes, size_t count, gov_hash *path, size_t *path_len)
{
    for (size_t i = 0; i < count; i++) {
        path[i] = hashes[count - 1 - i];
    }
    *path_len = count;
}

int gov_merkle_inclusion_proof(gov_suite suite, const gov_hash *leaf_hashes, uint64_t n,
                               uint64_t index, gov_hash *path, size_t *path_len)
{
    if (index >= n || n > TREE_SIZE_MAX) {
        return GOV_EINVAL;
    }
    /* Root-level sibling first; at most ceil(log2 n) <= 63 of them. */
    gov_hash siblings[GOV_MERKLE_PROOF_MAX];
    size_t count = 0;
    uint64_t start = 0;
    uint64_t size = n;
    uint64_t offset = index;
    /* RFC 6962 §2.1.1: PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) when m < k, and
     * PATH(m - k, D[k:n]) : MTH(D[0:k]) otherwise; PATH(0, {d}) = {}. */
    while (size > 1) {
        uint64_t k = split_point(size);
        if (offset < k) {
            range_root(suite, leaf_hashes + start + k, size - k, &siblings[count++]);
            size = k;
        } else {
            range_root(suite, leaf_hashes + start, k, &siblings[count++]);
            start += k;
            offset -= k;
            size -= k;
        }
    }
    emit_reversed(siblings, count, path, path_len);
    return 0;
}

int gov_merkle_consistency_proof(gov_suite suite, const gov_hash *leaf_hashes, uint64_t m,
                                 uint64_t n, gov_hash *path, size_t *path_len)
{
    if (m == 0 || m > n || n > TREE_SIZE_MAX) {
        return GOV_EINVAL;
    }
    /* Root-level hash first; at most ceil(log2 n) + 1 <= 64 of them. */
    gov_hash hashes[GOV_MERKLE_PROOF_MAX];
    size_t count = 0;
    uint64_t start = 0;
    uint64_t size = n;
    uint64_t old_size = m;
    /* The RFC's flag b: true while the subtree in hand is known to the verifier
     * because it is the old tree itself. */
    bool is_old_root = true;
    /* RFC 6962 §2.1.2, SUBPROOF(m, D[n], b) for m < n:
     *   m <= k: SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
     *   m > k:  SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]) */
    while (old_size < size) {
        uint64_t k = split_point(size);
        if (old_size <= k) {
            range_root(suite, leaf_hashes + start + k, size - k, &hashes[count++]);
            size = k;
        } else {
            range_root(suite, leaf_hashes + start, k, &hashes[count++]);
            start += k;
            old_size -= k;
            size -= k;
            is_old_root = false;
        }
    }
    /* SUBPROOF(m, D[m], true) = {}, but SUBPROOF(m, D[m], false) = {MTH(D[m])}: the
     * verifier cannot know a subtree of the old tree that is not its root. */
    if (!is_old_root) {
        range_root(suite, leaf_hashes + start, size, &hashes[count++]);
    }
    emit_reversed(hashes, count, path, path_len);
    return 0;
}

/* RFC 9162 §2.1.3.2 step 4b.ii and §2.1.4.2 step 6b.iii: right-shift fn and sn
 * together until LSB(fn) is set or fn is 0. */
static void shift_to_set_bit(uint64_t *fn, uint64_t *sn)
{
    while (*fn != 0 && (*fn & 1) == 0) {
        *fn >>= 1;
        *sn >>= 1;
    }
}

bool gov_merkle_verify_inclusion(gov_suite suite, const gov_hash *leaf_hash, uint64_t index,
                                 uint64_t n, const gov_hash *path, size_t path_len,
                                 const gov_hash *root)
{
    /* Step 1: leaf_index >= tree_size fails. */
    if (index >= n || n > TREE_SIZE_MAX || path_len > GOV_MERKLE_PROOF_MAX) {
        return false;
    }
    /* Steps 2 and 3. */
    uint64_t fn = index;
    uint64_t sn = n - 1;
    gov_hash r = *leaf_hash;
    /* Step 4. */
    for (size_t i = 0; i < path_len; i++) {
        if (sn == 0) {
            return false; /* 4a: the proof is longer than the path to the root. */
        }
        if ((fn & 1) != 0 || fn == sn) {
            /* 4b: r is a right child, or the last node of its level, whose sibling
             * then lies to the left. */
            gov_merkle_node_hash(suite, &path[i], &r, &r);
            shift_to_set_bit(&fn, &sn);
        } else {
            gov_merkle_node_hash(suite, &r, &path[i], &r);
        }
        fn >>= 1; /* 4c */
        sn >>= 1;
    }
    /* Step 5: sn == 0 rejects a proof that stops short of the root. */
    return sn == 0 && gov_hash_equal(&r, root);
}

bool gov_merkle_verify_consistency(gov_suite suite, uint64_t m, uint64_t n, const gov_hash *root_m,
                                   const gov_hash *root_n, const gov_hash *path, size_t path_len)
{
    if (m == 0 || m > n || n > TREE_SIZE_MAX || path_len > GOV_MERKLE_PROOF_MAX) {
        return false;
    }
    if (m == n) {
        /* RFC 6962 §2.1.2: PROOF(n, D[n]) is empty; the trees are the same. */
        return path_len == 0 && gov_hash_equal(root_m, root_n);
    }
    /* RFC 9162 §2.1.4.2 for 0 < first < second. Step 1. */
    if (path_len == 0) {
        return false;
    }
    /* Step 2: when m is a power of two its root is a node of the new tree and the
     * proof omits it, so it starts the path; otherwise path[0] does. */
    size_t next = 1;
    gov_hash fr = path[0];
    if ((m & (m - 1)) == 0) {
        fr = *root_m;
        next = 0;
    }
    /* Steps 3 to 5. */
    uint64_t fn = m - 1;
    uint64_t sn = n - 1;
    while ((fn & 1) != 0) {
        fn >>= 1;
        sn >>= 1;
    }
    gov_hash sr = fr;
    /* Step 6. */
    for (; next < path_len; next++) {
        if (sn == 0) {
            return false; /* 6a: the proof is too long. */
        }
        const gov_hash *c = &path[next];
        if ((fn & 1) != 0 || fn == sn) {
            gov_merkle_node_hash(suite, c, &fr, &fr);
            gov_merkle_node_hash(suite, c, &sr, &sr);
            shift_to_set_bit(&fn, &sn);
        } else {
            gov_merkle_node_hash(suite, &sr, c, &sr); /* only the new tree grows right */
        }
        fn >>= 1; /* 6c */
        sn >>= 1;
    }
    /* Step 7. */
    return sn == 0 && gov_hash_equal(&fr, root_m) && gov_hash_equal(&sr, root_n);
}
