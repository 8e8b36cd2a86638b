/*
 * govchain replay: rebuilds a ledger from another ledger's committed blocks, checking
 * everything again (DESIGN §9): every commit certificate against the validator set,
 * every transaction's signature and rules, tx_root, history_root and state_root. The
 * first block that does not re-verify stops the replay, and the reason names its height
 * and the field, with both values.
 *
 * Pure: it reads blocks through gov_ledger_block_get and commits them to the target
 * ledger, whatever stores those are.
 */
#ifndef GOVCHAIN_REPLAY_H
#define GOVCHAIN_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "govchain/block.h"
#include "govchain/ledger.h"

typedef struct {
    uint64_t blocks;
    uint64_t transactions;
    uint64_t height; /* the target's head after the replay */
} gov_replay_summary;

/* Called after each block is re-verified and committed, with its hash; return 0 to go
 * on or a negative GOV_E* code to stop the replay with it (e.g. an export that failed). */
typedef int (*gov_replay_block_cb)(void *arg, const gov_block *block, const gov_hash *hash);

/* Optional: verifies the signatures of every transaction in block (for instance on
 * several threads, with gov_rules_check_signature) and sets *all_valid. When all are
 * valid the replay executes the block without verifying them again; otherwise it
 * executes it with every check, which finds and names the bad transaction. */
typedef int (*gov_replay_verify_cb)(void *arg, const gov_block *block, bool *all_valid);

/* Replays source's blocks (target->head + 1) .. min(until, source head) into target
 * (until 0: to the source's head). GOV_EINVAL when a block does not re-verify, with
 * "height H: <field>: ..." in why[]; other codes when a store fails. */
int gov_replay(gov_ledger *source, gov_ledger *target, uint64_t until, gov_replay_verify_cb verify,
               gov_replay_block_cb cb, void *arg, gov_replay_summary *summary, char *why,
               size_t why_len);

#endif
