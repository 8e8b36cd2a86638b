/*
 * The node's PBFT driver: it runs the replica (govchain/pbft.h) on the event loop and
 * carries out its effects against the real ledger, the LevelDB store and the peer links.
 *
 * Every effect that touches the ledger or the store runs in the node's lane
 * (node/lane.h) on libuv's thread pool: committing blocks, persisting the replica's
 * state, executing a proposed block (its signatures checked on every core by the verify
 * pool), building a block from the mempool, reading blocks for a peer. A replica's
 * ready is copied into a batch and the batches run in order, and a batch's messages are
 * sent only after its commits and its persist are done, as pbft.h requires; a batch with
 * nothing for the lane, and no earlier batch still in it, is carried out at once.
 *
 * The ledger's head changes only inside the lane, under the write side of `ledger_lock`;
 * code on the loop that reads the ledger (the HTTP API) takes the read side.
 *
 * The replica's persisted state lives in the store under the key "Cpbft".
 */
#ifndef GOVCHAIN_NODE_DRIVER_H
#define GOVCHAIN_NODE_DRIVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "govchain/block.h"
#include "govchain/kv.h"
#include "govchain/ledger.h"
#include "govchain/pbft.h"
#include "node/lane.h"
#include "node/log.h"
#include "node/mempool.h"
#include "node/verify_pool.h"

typedef struct gov_driver gov_driver;

/* The callbacks run on the loop and must not call back into the driver. */
typedef struct {
    /* Send bytes to validator `to`, or to every other validator (GOV_PBFT_ALL). */
    void (*send_cb)(void *arg, uint32_t to, const uint8_t *bytes, size_t len);
    /* A block was committed (on the loop, after the ledger and the replica's state are
     * written): remove its transactions from the mempool, answer waiting clients. */
    void (*committed_cb)(void *arg, const gov_block *block, const gov_hash *hash);
    /* The ledger refused a transaction the mempool held, while building a block. */
    void (*rejected_cb)(void *arg, const gov_hash *tx_id, gov_reject reason);
    /* A write to the ledger or the store failed: the node must stop (fail-stop). */
    void (*fatal_cb)(void *arg, const char *why);
    void *arg;
} gov_driver_callbacks;

typedef struct {
    uv_loop_t *loop;
    gov_ledger *ledger;
    gov_kv *store; /* the ledger's store */
    gov_lane *lane;
    gov_mempool *mempool;
    gov_verify_pool *verify; /* may be NULL: signatures are then checked in the lane */
    gov_logger *log;
    pthread_rwlock_t *ledger_lock;
    /* The replica: validators (the ledger's set), self, key, timeouts. */
    gov_pbft_config pbft;
} gov_driver_config;

/* Reads the persisted replica state and the head block, opens the replica and starts
 * it. 0, or GOV_E* with the reason in why[]. */
int gov_driver_start(const gov_driver_config *config, const gov_driver_callbacks *callbacks,
                     gov_driver **out, char *why, size_t why_len);

/* Stops the timer and stops taking inputs; done_cb runs on the loop once the lane has
 * finished the work already queued (a commit in progress completes). Then free. */
void gov_driver_stop(gov_driver *driver, void (*done_cb)(void *arg), void *arg);
void gov_driver_free(gov_driver *driver);

/* Inputs from the node. */
void gov_driver_receive(gov_driver *driver, uint32_t from, const uint8_t *bytes, size_t len);
void gov_driver_mempool_changed(gov_driver *driver);

const gov_pbft *gov_driver_replica(const gov_driver *driver);

#endif
