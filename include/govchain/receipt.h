/*
 * govchain receipts: a portable proof of a document's state that anyone holding the
 * chain's genesis can check offline, without trusting the node that produced it
 * (DESIGN §8; the format, field by field, with the verification algorithm: docs/receipt.md).
 *
 * A receipt proves two things:
 *   - the document's current state (or that it was never issued): a sparse-Merkle proof
 *     to the state_root of the newest block, whose header a commit certificate signs;
 *   - who issued it: the issuing transaction with the department's own signature, its
 *     RFC 6962 path to its block's tx_root, and that block's header and certificate.
 *
 * Pure: building reads the ledger's store; verifying needs only the genesis. Functions
 * return 0 or a negative GOV_E* code with the reason in why[]. Verification failures
 * are GOV_EPROOF (a proof or a binding does not hold), GOV_EBADSIG (a signature or a
 * certificate does not verify) or GOV_EINVAL (another chain, a malformed part).
 */
#ifndef GOVCHAIN_RECEIPT_H
#define GOVCHAIN_RECEIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "govchain/block.h"
#include "govchain/genesis.h"
#include "govchain/ledger.h"
#include "govchain/merkle.h"
#include "govchain/messages.h"
#include "govchain/smt.h"
#include "govchain/state.h"

#define GOV_RECEIPT_FORMAT "govchain-receipt/1"

typedef struct {
    gov_hash chain_id; /* the chain the receipt claims to be of */
    gov_hash doc_hash;
    /* The state, at the newest block. */
    gov_block_header state_header;
    gov_commit_cert state_cert;
    bool found;
    gov_doc_state state; /* found only; owned */
    gov_smt_proof proof;
    /* The issue (found only). */
    gov_tx issue_tx; /* owned */
    uint32_t issue_index;
    uint32_t path_len;
    gov_hash path[GOV_MERKLE_PROOF_MAX];
    gov_block_header issue_header;
    gov_commit_cert issue_cert;
} gov_receipt;

void gov_receipt_clear(gov_receipt *receipt);

/* Recent blocks' headers, certificates, transactions and transaction leaves, so that
 * receipts for documents of the same blocks do not decode and hash those blocks again.
 * Committed blocks never change, so nothing is ever invalidated. Thread-safe. */
typedef struct gov_receipt_cache gov_receipt_cache;
gov_receipt_cache *gov_receipt_cache_new(uint32_t blocks); /* NULL when out of memory */
void gov_receipt_cache_free(gov_receipt_cache *cache);

/* The receipt of doc_hash from the ledger's newest block (cache may be NULL). GOV_ENOENT
 * when the ledger has no block yet (nothing is certified). Reads only; the caller keeps
 * commits out meanwhile. */
int gov_receipt_build(gov_ledger *ledger, gov_receipt_cache *cache, const gov_hash *doc_hash,
                      gov_receipt *out, char *why, size_t why_len);

/* The receipt as JSON (docs/receipt.md): canonical encodings as hex, proofs, and an
 * untrusted "display" part for people. NULL when out of memory. */
json_t *gov_receipt_to_json(const gov_genesis *genesis, const gov_receipt *receipt);

/* Parses receipt JSON strictly (exact members, hex of the right lengths, canonical
 * encodings). GOV_EJSON / GOV_EDECODE / GOV_ELIMIT with the reason. */
int gov_receipt_from_json(gov_suite suite, const char *text, size_t len, gov_receipt *out,
                          char *why, size_t why_len);

/* A block header of genesis's chain, signed by a quorum of its validators: its chain id
 * and validator-set hash are genesis's, and cert is a valid commit certificate for its
 * height and hash. `which` names the block in the reason ("the newest"). Also used by
 * checkpoints (docs/audit.md). */
int gov_certified_header_verify(const gov_genesis *genesis, const gov_block_header *header,
                                const gov_commit_cert *cert, const char *which, char *why,
                                size_t why_len);

/* What a verified receipt shows. */
typedef struct {
    bool found;         /* false: the receipt proves the document was never issued */
    uint64_t height;    /* of the newest block it proves against */
    uint64_t time_ms;   /* that block's time */
    bool expired;       /* at now_ms */
    bool not_yet_valid; /* now_ms is before its valid_from_ms */
    bool recognised;    /* genesis's recognition agreement for its type is met */
} gov_receipt_result;

/* Checks everything against genesis alone: both headers are of this chain and signed by
 * a quorum of its validators, the state proof holds for the state root, the issuing
 * transaction is signed by one of the issuer's genesis keys, issues this document with
 * the fields the state shows, sits at its position under its block's tx_root, and the
 * issuer may issue its type. now_ms decides expiry. */
int gov_receipt_verify(const gov_genesis *genesis, const gov_receipt *receipt, uint64_t now_ms,
                       gov_receipt_result *result, char *why, size_t why_len);

#endif
