/*
 * govchain ledger: the chain of committed blocks and the state they produce, over one
 * gov_kv store (DESIGN §4, §5). It offers consensus the three calls it needs, and keeps
 * the store consistent through crashes.
 *
 *   build     executes candidate transactions on the committed state, drops the ones
 *             the rules reject (with their reasons), and makes a block of the rest with
 *             every root filled in;
 *   validate  executes a proposed block in an overlay and checks its header against
 *             the result: nothing is written;
 *   commit    checks the commit certificate against the validator set and writes the
 *             block, its certificate, every state change, the indexes and the new head
 *             in ONE synchronous batch.
 *
 * Heights start at 1; block 1's prev_hash is the genesis hash. A block's history_root is
 * the RFC 6962 root over the hashes of all earlier blocks (1 .. h-1), so any two heights
 * have a consistency proof. Its state_root is the root of the state tree after it, and
 * its tx_root the RFC 6962 root over its transactions' ids.
 *
 * Store entries besides those of govchain/state.h:
 *   'B' || height (8 bytes BE) -> [block, commit certificate]
 *   'H' || block hash          -> height (8 bytes BE)
 *   'M' || "head"              -> [chain id, height, block hash, state root, time_ms,
 *                                  history size, [history frontier hashes]]
 *
 * Fail-stop: if writing a commit fails, the ledger refuses every later call with
 * GOV_EIO, and the caller (the node) must stop; the store holds the previous block
 * whole, never part of the failed one.
 *
 * Not thread-safe: one caller at a time. Functions return 0 or a negative GOV_E* code
 * with the reason in why[].
 */
#ifndef GOVCHAIN_LEDGER_H
#define GOVCHAIN_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "govchain/block.h"
#include "govchain/genesis.h"
#include "govchain/kv.h"
#include "govchain/merkle.h"
#include "govchain/messages.h"
#include "govchain/rules.h"

typedef struct gov_ledger gov_ledger;

/* The committed head. At height 0 (nothing committed) hash is the genesis hash and
 * state_root the empty tree's root. */
typedef struct {
    uint64_t height;
    gov_hash hash;
    gov_hash state_root;
    uint64_t time_ms;            /* of the head block; genesis_time_ms at height 0 */
    gov_merkle_frontier history; /* over the hashes of blocks 1 .. height */
} gov_ledger_head;

/* Opens the ledger kept in store (borrowed, must outlive the ledger). An empty store
 * starts at height 0. GOV_EGENESIS when the store belongs to another chain. */
int gov_ledger_open(const gov_genesis *genesis, gov_kv *store, gov_ledger **out, char *why,
                    size_t why_len);
void gov_ledger_close(gov_ledger *ledger);

const gov_ledger_head *gov_ledger_head_get(const gov_ledger *ledger);
const gov_genesis *gov_ledger_genesis(const gov_ledger *ledger);
gov_kv *gov_ledger_store(const gov_ledger *ledger);
/* The validator set of genesis, as consensus checks certificates with it. */
const gov_validator_set *gov_ledger_validators(const gov_ledger *ledger);
/* The same set made from a genesis alone, for checks without a ledger (receipts,
 * evidence): keys[] (validators_count entries, the caller's) receives the borrowed
 * public keys that *out points at. */
void gov_genesis_validator_set(const gov_genesis *genesis, gov_public_key **keys,
                               gov_validator_set *out);

/* Builds the next block from candidates (borrowed), at time_ms, proposed by validator
 * `proposer`. verdicts[i] (count entries) receives each candidate's verdict;
 * GOV_REJECT_NONE candidates are in the block, in their order, up to the genesis
 * limits (a candidate left out for room gets GOV_REJECT_NONE and is not included:
 * *included tells how many were taken). The block is the caller's (gov_block_clear). */
int gov_ledger_build(gov_ledger *ledger, uint64_t time_ms, uint32_t proposer,
                     const gov_tx *candidates, uint32_t count, gov_reject *verdicts,
                     gov_block *block, uint32_t *included, char *why, size_t why_len);

/* How to validate a block, besides executing it. */
/* What gov_ledger_build would decide for candidates (verdicts[i]), without building a
 * block and without disturbing the block last built or validated, whose commit can then
 * still reuse its execution. For checks of transactions before they are pooled. */
int gov_ledger_check(gov_ledger *ledger, uint64_t time_ms, const gov_tx *candidates, uint32_t count,
                     gov_reject *verdicts, char *why, size_t why_len);

typedef struct {
    bool check_clock; /* compare the block's time with now_ms (not in replay) */
    uint64_t now_ms;
    /* The caller has verified every transaction's signature itself (for instance on
     * several threads) and all were valid, so execution need not verify them again.
     * Every other check still runs. */
    bool signatures_checked;
} gov_ledger_checks;

/* Validates block as the next block. On success *digest is its hash. GOV_EINVAL with
 * the first failed check in why[] (e.g. "state_root: block says 3fa1..., execution gives
 * 9b2c...") when it is not valid. Nothing is written; the executed result is kept so
 * that committing the same block does not execute it again. */
int gov_ledger_validate(gov_ledger *ledger, const gov_block *block, const gov_ledger_checks *checks,
                        gov_hash *digest, char *why, size_t why_len);

/* Commits block with its commit certificate (which must verify against the validator
 * set, for this height and this block's hash), validating it first if it was not the
 * last block validated. */
int gov_ledger_commit(gov_ledger *ledger, const gov_block *block, const gov_commit_cert *cert,
                      char *why, size_t why_len);

/* A committed block and its certificate; GOV_ENOENT above the head. */
/* The hash of the committed block at height (from the 'L' index; stores written before
 * it existed are read block by block). GOV_ENOENT above the head. */
int gov_ledger_block_hash(gov_ledger *ledger, uint64_t height, gov_hash *out, char *why,
                          size_t why_len);
int gov_ledger_block_get(gov_ledger *ledger, uint64_t height, gov_block *block,
                         gov_commit_cert *cert, char *why, size_t why_len);

/* The canonical encoding of the 'B' record: [block, cert]. */
int gov_block_record_encode(const gov_block *block, const gov_commit_cert *cert, gov_buf *out);
int gov_block_record_decode(const uint8_t *data, size_t len, gov_block *block,
                            gov_commit_cert *cert, char *why, size_t why_len);

#endif
