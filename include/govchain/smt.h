/*
 * govchain state commitment: a sparse Merkle tree over 256-bit keys (document hashes),
 * each holding the hash of a value (a document's state). DESIGN §4, "State commitment".
 *
 * Shape. The tree is the compressed form of the full binary tree of depth 256: a subtree
 * that holds no key is EMPTY, a subtree that holds exactly one key is that key's LEAF
 * (at the depth where its key first differs from every other key), and every other
 * subtree is an INTERNAL node over its two halves (split by the next bit of the key,
 * most significant bit first; bit 0 goes left). So the same set of (key, value hash)
 * pairs always gives the same root, whatever order they were written in, and a tree of
 * n random keys is about log2(n) deep: one update costs O(log n) hashes and node writes.
 *
 *   EMPTY          = 32 zero bytes
 *   LEAF(k, v)     = H(0x00 || k || v)
 *   INTERNAL(l, r) = H(0x01 || l || r)
 *
 * with the chain's suite hash H. The root of the empty tree is EMPTY.
 *
 * Storage. Nodes live in a gov_kv under the key 'N' || node hash (DESIGN §5), encoded
 * canonically: a leaf as [0, key, value_hash], an internal node as [1, left, right].
 * Nodes are never deleted or changed (a node's key is its hash), so every earlier root
 * stays readable and provable. The ledger updates the tree inside an overlay store, so
 * a tentative execution writes nothing to disk.
 *
 * Proofs. A proof for key k lists the sibling hashes on k's path from the root down to
 * where the path ends, and what it ends at: the leaf of k itself (membership, with its
 * value hash), the leaf of another key k' that shares the path so far (non-membership),
 * or EMPTY (non-membership). gov_smt_verify needs only the root, the key and the proof.
 *
 * Functions return 0 or a negative GOV_E* code, with detail in why[] (may be NULL):
 * GOV_EIO when the store holds a node that is missing, malformed, or not the node of the
 * hash it is stored under (a corrupted store: never GOV_EDECODE; why[] names the node's
 * hash), or the store's own code when the store itself fails (GOV_EIO, GOV_ENOMEM).
 * Pure apart from the store it is given.
 */
#ifndef GOVCHAIN_SMT_H
#define GOVCHAIN_SMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "govchain/crypto.h"
#include "govchain/kv.h"

#define GOV_SMT_DEPTH       256
#define GOV_SMT_NODE_PREFIX 'N'

typedef struct {
    gov_suite suite;
    gov_kv *store; /* borrowed */
} gov_smt;

typedef enum {
    GOV_SMT_PROOF_MEMBER = 1,     /* the path ends at k's leaf */
    GOV_SMT_PROOF_OTHER_LEAF = 2, /* ... at the leaf of another key: k is absent */
    GOV_SMT_PROOF_EMPTY = 3,      /* ... at an empty subtree: k is absent */
} gov_smt_proof_kind;

typedef struct {
    gov_smt_proof_kind kind;
    gov_hash leaf_key;                /* MEMBER: k; OTHER_LEAF: the other key; EMPTY: 0 */
    gov_hash leaf_value_hash;         /* MEMBER and OTHER_LEAF; EMPTY: 0 */
    uint32_t depth;                   /* how many siblings; the path ends at this depth */
    gov_hash siblings[GOV_SMT_DEPTH]; /* siblings[0] is next to the root */
} gov_smt_proof;

void gov_smt_empty_root(gov_hash *out);
void gov_smt_leaf_hash(gov_suite suite, const gov_hash *key, const gov_hash *value_hash,
                       gov_hash *out);
void gov_smt_internal_hash(gov_suite suite, const gov_hash *left, const gov_hash *right,
                           gov_hash *out);

/* The value hash stored under key in the tree of root: 0 with *found true and
 * *value_hash set, or 0 with *found false when the key is absent. */
int gov_smt_get(const gov_smt *smt, const gov_hash *root, const gov_hash *key, bool *found,
                gov_hash *value_hash, char *why, size_t why_len);

/* Sets key to value_hash in the tree of root, writing the new nodes to the store (one
 * gov_kv_write), and gives the new root. Writing the same value again changes nothing. */
int gov_smt_update(const gov_smt *smt, const gov_hash *root, const gov_hash *key,
                   const gov_hash *value_hash, gov_hash *new_root, char *why, size_t why_len);

/* Sets many keys at once: the same tree as writing them one by one in the given order
 * (a key given twice takes its last value), but every node on the paths shared by
 * several keys is computed and written once, in one gov_kv_write. The ledger writes a
 * block's document changes this way. */
typedef struct {
    gov_hash key;
    gov_hash value_hash;
} gov_smt_entry;

int gov_smt_update_many(const gov_smt *smt, const gov_hash *root, const gov_smt_entry *entries,
                        size_t count, gov_hash *new_root, char *why, size_t why_len);

int gov_smt_prove(const gov_smt *smt, const gov_hash *root, const gov_hash *key,
                  gov_smt_proof *proof, char *why, size_t why_len);

/* Checks a proof against root alone. value_hash NULL asks "is key absent?"; otherwise
 * "does key hold value_hash?". False for any proof that does not show exactly that. */
bool gov_smt_verify(gov_suite suite, const gov_hash *root, const gov_hash *key,
                    const gov_hash *value_hash, const gov_smt_proof *proof);

#endif
