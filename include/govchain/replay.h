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

/* Optional: signature checks that run beside execution, since they are most of a
 * replay's work and each transaction's is independent. start begins checking every
 * transaction's signature in block (with gov_rules_check_signature, for instance on
 * other threads) and returns a job; finish waits for the job and tells whether all were
 * valid. Meanwhile the replay executes the block without verifying signatures; when
 * not all were valid, it executes the block again with every check, which names the
 * bad transaction. Without a verifier every check runs in line.
 *
 * The replay starts jobs ahead: while it executes and commits block h, the jobs of the
 * next blocks (a few thousand transactions' worth) are already started, so several
 * jobs are open at once. Jobs are started in height order and finished in the same
 * order, each exactly once (also when the replay stops early: its verdict is then
 * ignored); a block stays alive and unchanged until its job is finished. A job may be
 * NULL (finish must then answer false). Blocks are still judged one by one in height
 * order: a failure at height h is reported as h's even when later blocks are already
 * being checked, and every block before it is committed first. */
typedef struct {
    void *(*start)(void *arg, const gov_block *block);
    bool (*finish)(void *arg, void *job);
    void *arg;
} gov_replay_verifier;

/* Where a replay reads blocks: a ledger (gov_replay) or a node's API (govchain replay
 * --from). block_get returns the block at a height with its certificate (the caller's
 * to clear), or a negative GOV_E* code with the reason in why[]. head_hash, when not
 * NULL, is the source's own idea of its head block's hash, checked at the end. */
typedef struct {
    int (*block_get)(void *arg, uint64_t height, gov_block *block, gov_commit_cert *cert, char *why,
                     size_t why_len);
    void *arg;
    uint64_t head_height;
    const gov_hash *head_hash;
} gov_replay_source;

int gov_replay_from(const gov_replay_source *source, gov_ledger *target, uint64_t until,
                    const gov_replay_verifier *verifier, gov_replay_block_cb cb, void *arg,
                    gov_replay_summary *summary, char *why, size_t why_len);

/* Replays source's blocks (target->head + 1) .. min(until, source head) into target
 * (until 0: to the source's head). GOV_EINVAL when a block does not re-verify, with
 * "height H: <field>: ..." in why[]; other codes when a store fails. */
int gov_replay(gov_ledger *source, gov_ledger *target, uint64_t until,
               const gov_replay_verifier *verifier, gov_replay_block_cb cb, void *arg,
               gov_replay_summary *summary, char *why, size_t why_len);

#endif
