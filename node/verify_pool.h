/*
 * Transaction signatures verified on every core. Signature verification is most of the
 * work of validating or replaying a block, and each transaction's is independent, so a
 * block's transactions are split over one thread per core; the ledger then executes the
 * block with `signatures_checked` and does not verify them again (govchain/rules.h).
 */
#ifndef GOVCHAIN_NODE_VERIFY_POOL_H
#define GOVCHAIN_NODE_VERIFY_POOL_H

#include <stdbool.h>

#include "govchain/block.h"
#include "govchain/genesis.h"
#include "govchain/replay.h"

#define GOV_VERIFY_THREADS_MAX 32

/* The number of threads to use: the online cores, at least 1, at most the maximum. */
unsigned gov_verify_threads(void);

/* Checks every transaction of block with gov_rules_check_signature on `threads`
 * threads; *all_valid is true when every one passed. */
void gov_verify_block(const gov_genesis *genesis, const gov_block *block, unsigned threads,
                      bool *all_valid);

/* The same in the background, so that the calling thread can execute the block in the
 * meantime: gov_verify_start returns at once (block must stay alive), gov_verify_finish
 * waits and gives the verdict. */
typedef struct gov_verify_job gov_verify_job;
gov_verify_job *gov_verify_start(const gov_genesis *genesis, const gov_block *block,
                                 unsigned threads);
void gov_verify_finish(gov_verify_job *job, bool *all_valid);

/* A replay verifier (govchain/replay.h) that checks each block on every core while the
 * replay executes it. genesis is borrowed. */
gov_replay_verifier gov_verify_for_replay(const gov_genesis *genesis);

#endif
