/*
 * govchain checkpoints: a regulator keeps a certified block header, and later proves,
 * without downloading the blocks in between, that today's chain extends it, so that
 * history was not rewritten (DESIGN §9; docs/audit.md).
 *
 * The proof between heights C and N (C <= N) is:
 *   - block C's and block N's headers with their commit certificates;
 *   - an RFC 6962 consistency proof between the history trees of sizes C-1 and N-1 (the
 *     history_root of header C covers blocks 1 .. C-1, and that of header N blocks
 *     1 .. N-1);
 *   - the inclusion of block C's hash, leaf C-1, in the tree of size N-1.
 * Block C's hash commits to its history_root, so the two together show that blocks
 * 1 .. C are, unchanged, the first C blocks of today's chain.
 *
 * Functions return 0 or a negative GOV_E* code with the reason in why[]; a proof that
 * does not hold is GOV_EPROOF (or GOV_EBADSIG / GOV_EINVAL from the certificates).
 */
#ifndef GOVCHAIN_CHECKPOINT_H
#define GOVCHAIN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "govchain/block.h"
#include "govchain/genesis.h"
#include "govchain/ledger.h"
#include "govchain/merkle.h"
#include "govchain/messages.h"

typedef struct {
    gov_block_header header;
    gov_commit_cert cert;
} gov_certified_header;

typedef struct {
    gov_certified_header from, to;
    uint32_t consistency_len;
    gov_hash consistency[GOV_MERKLE_PROOF_MAX];
    uint32_t inclusion_len;
    gov_hash inclusion[GOV_MERKLE_PROOF_MAX];
} gov_history_proof;

/* The certified header of block `height`. */
int gov_certified_header_get(gov_ledger *ledger, uint64_t height, gov_certified_header *out,
                             char *why, size_t why_len);

/* The proof that the chain at height `to` extends block `from` (1 <= from <= to <= head).
 * Reads the hash of every block below `to` (32 bytes each, from the ledger's index). */
int gov_history_proof_build(gov_ledger *ledger, uint64_t from, uint64_t to, gov_history_proof *out,
                            char *why, size_t why_len);

/* Checks, against genesis alone, that checkpoint is certified, that proof->from is the
 * very same header, that proof->to is certified, and that the proofs place the
 * checkpoint's block in proof->to's history. */
int gov_checkpoint_verify(const gov_genesis *genesis, const gov_certified_header *checkpoint,
                          const gov_history_proof *proof, char *why, size_t why_len);

#endif
