/*
 * An observer node's follower: it keeps the node's ledger up with the chain by reading
 * committed blocks from validators' APIs (node/remote_blocks.h: long polls, so new
 * blocks arrive as they commit) and committing each one only after the ledger has
 * checked its commit certificate against genesis's validators and re-executed it
 * (gov_ledger_validate and gov_ledger_commit). It holds no key, signs nothing and sends
 * nothing to the validators but reads, so it cannot influence consensus. When a source
 * fails or serves a block that does not verify, it moves to the next source.
 *
 * Its work runs in the node's lane (node/lane.h); its callbacks run on the loop.
 */
#ifndef GOVCHAIN_NODE_FOLLOWER_H
#define GOVCHAIN_NODE_FOLLOWER_H

#include <pthread.h>
#include <stdint.h>

#include <uv.h>

#include "govchain/block.h"
#include "govchain/ledger.h"
#include "node/lane.h"
#include "node/log.h"

enum { GOV_FOLLOWER_SOURCES_MAX = 16 };

typedef struct gov_follower gov_follower;

typedef struct {
    uv_loop_t *loop;
    gov_ledger *ledger;
    pthread_rwlock_t *ledger_lock;
    gov_lane *lane;
    gov_logger *log;
    uint32_t sources_count;
    const char *sources[GOV_FOLLOWER_SOURCES_MAX]; /* "http://host:port" of validators' APIs */
    /* A block was committed (on the loop). */
    void (*committed_cb)(void *arg, const gov_block *block, const gov_hash *hash);
    void *arg;
} gov_follower_config;

int gov_follower_start(const gov_follower_config *config, gov_follower **out, char *why,
                       size_t why_len);
/* Stops after the job in progress; done_cb runs on the loop. Then free. */
void gov_follower_stop(gov_follower *follower, void (*done_cb)(void *arg), void *arg);
void gov_follower_free(gov_follower *follower);

/* The newest height the current source reported (0 before the first answer). */
uint64_t gov_follower_source_height(const gov_follower *follower);

#endif
