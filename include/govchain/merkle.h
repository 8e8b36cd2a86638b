/*
 * govchain Merkle trees: RFC 6962 (Certificate Transparency) tree hashing with
 * inclusion and consistency proofs, over the chain's hash (SHA-256 or SM3).
 *
 *   leaf hash  = H(0x00 || leaf data)
 *   node hash  = H(0x01 || left || right)
 *   empty root = H("")
 * The tree over n leaves splits at k, the largest power of two smaller than n
 * (RFC 6962 §2.1). A block's tx_root is this tree over its tx ids; its history_root
 * is this tree over the hashes of all earlier blocks.
 *
 * Proof generation works on an array of leaf hashes held by the caller. Verification
 * needs only the root(s), the sizes and the proof, and follows RFC 9162 §2.1.3.2 and
 * §2.1.4.2. Proofs are at most GOV_MERKLE_PROOF_MAX hashes (trees up to 2^63 leaves).
 * Arguments are borrowed; functions return 0 or a negative GOV_E* code, predicates
 * return bool. Pure: no I/O.
 */
#ifndef GOVCHAIN_MERKLE_H
#define GOVCHAIN_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "govchain/crypto.h"

#define GOV_MERKLE_PROOF_MAX 64

void gov_merkle_leaf_hash(gov_suite suite, const void *data, size_t len, gov_hash *out);
void gov_merkle_node_hash(gov_suite suite, const gov_hash *left, const gov_hash *right,
                          gov_hash *out);

/* Root over n leaf hashes (n may be 0: the empty root). */
void gov_merkle_root(gov_suite suite, const gov_hash *leaf_hashes, uint64_t n, gov_hash *out);

/* Audit path for leaf index in a tree of n leaves, written to path[] (room for
 * GOV_MERKLE_PROOF_MAX hashes); *path_len receives its length. GOV_EINVAL when
 * index >= n. */
int gov_merkle_inclusion_proof(gov_suite suite, const gov_hash *leaf_hashes, uint64_t n,
                               uint64_t index, gov_hash *path, size_t *path_len);
bool gov_merkle_verify_inclusion(gov_suite suite, const gov_hash *leaf_hash, uint64_t index,
                                 uint64_t n, const gov_hash *path, size_t path_len,
                                 const gov_hash *root);

/* Consistency proof that the tree of the first m leaves is a prefix of the tree of n
 * leaves (0 < m <= n; the proof for m == n is empty). GOV_EINVAL otherwise. */
int gov_merkle_consistency_proof(gov_suite suite, const gov_hash *leaf_hashes, uint64_t m,
                                 uint64_t n, gov_hash *path, size_t *path_len);
bool gov_merkle_verify_consistency(gov_suite suite, uint64_t m, uint64_t n, const gov_hash *root_m,
                                   const gov_hash *root_n, const gov_hash *path, size_t path_len);

/*
 * An append-only tree that keeps only its frontier: the roots of the perfect subtrees
 * that make up the current tree, largest first (one per set bit of the size). It
 * computes the current root in O(log n) without the leaves, which is how the ledger
 * keeps history_root as blocks are appended.
 */
typedef struct {
    uint64_t size;
    gov_hash frontier[GOV_MERKLE_PROOF_MAX];
} gov_merkle_frontier;

void gov_merkle_frontier_init(gov_merkle_frontier *tree);
void gov_merkle_frontier_append(gov_suite suite, gov_merkle_frontier *tree,
                                const gov_hash *leaf_hash);
void gov_merkle_frontier_root(gov_suite suite, const gov_merkle_frontier *tree, gov_hash *out);

#endif
