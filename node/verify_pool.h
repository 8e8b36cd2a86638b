/*
 * Transaction signatures verified on every core. Signature verification is most of the
 * work of validating or replaying a block, and each transaction's is independent, so a
 * pool of one thread per core checks blocks' transactions in chunks; the ledger then
 * executes the block with `signatures_checked` and does not verify them again
 * (govchain/rules.h).
 *
 * Jobs are served in the order they were started, a chunk of transactions at a time,
 * so a replay can start the jobs of the next blocks while it executes and commits the
 * current one (ledger/replay.c): the threads never wait for the replay's thread, and
 * the current block's chunks are always taken first.
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

/* A pool of `threads` verifying threads (at most GOV_VERIFY_THREADS_MAX) for the chain
 * of genesis (borrowed). NULL when out of memory. A pool whose threads could not all
 * start still works: gov_verify_finish checks what no thread took. */
typedef struct gov_verify_pool gov_verify_pool;
gov_verify_pool *gov_verify_pool_open(const gov_genesis *genesis, unsigned threads);
/* Stops the threads and frees the pool; every job started must have been finished.
 * NULL is allowed. */
void gov_verify_pool_close(gov_verify_pool *pool);

/* Starts checking every transaction of block with gov_rules_check_signature and
 * returns at once (NULL when out of memory). block must stay alive and unchanged until
 * gov_verify_finish. Several jobs may be in progress. */
typedef struct gov_verify_job gov_verify_job;
gov_verify_job *gov_verify_start(gov_verify_pool *pool, const gov_block *block);
/* Waits for the job, helping with its chunks that no thread has taken yet, frees it and
 * tells whether every signature was valid (false for a NULL job: the caller then checks
 * the block the slow way). */
bool gov_verify_finish(gov_verify_pool *pool, gov_verify_job *job);

/* A replay verifier (govchain/replay.h) on the pool's threads. */
gov_replay_verifier gov_verify_for_replay(gov_verify_pool *pool);

#endif
