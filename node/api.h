/*
 * The node's HTTP/JSON API (DESIGN §7; docs/api.md lists every endpoint with examples):
 *
 *   POST /v1/txs[?wait=commit]   submit one or many signed transactions
 *   GET  /v1/txs/{id}            a committed transaction and where it is
 *   GET  /v1/docs/{hash}[?at_height=H]   a document's state and history
 *   GET  /v1/blocks/{height}     a block with its commit certificate
 *   GET  /v1/blocks?from=&limit= blocks in order
 *   GET  /v1/departments         departments, roles, document types, keys
 *   GET  /v1/status, /healthz, /metrics
 *
 * Reads run on libuv's thread pool under the read side of the ledger lock, so the loop
 * never waits for LevelDB. A submission is checked whole before anything is kept:
 * decoded, its signatures verified off the loop, its ids looked up on the ledger and in
 * the mempool, and only if every transaction passes are they all added (never half a
 * request). Transactions arriving from peers are checked the same way.
 *
 * Peers forward transactions to each other in frames [8, [tx bytes, ...]], which the
 * node tells apart from consensus messages (types 1 to 7) with gov_api_is_gossip.
 */
#ifndef GOVCHAIN_NODE_API_H
#define GOVCHAIN_NODE_API_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "govchain/ledger.h"
#include "govchain/rules.h"
#include "node/http.h"
#include "node/lane.h"
#include "node/log.h"
#include "node/mempool.h"

/* GET /v1/blocks/raw answers at most this many blocks and, past the first block, stops
 * before this many bytes of records (sent as hex, twice that). Clients (an observer,
 * `govchain replay --from`) size their response cap from the same numbers. */
enum {
    GOV_API_RAW_BLOCKS_MAX = 100,
    GOV_API_RAW_RECORD_BYTES_MAX = 8 * 1024 * 1024,
};

typedef struct gov_api gov_api;

typedef struct {
    uv_loop_t *loop;
    gov_ledger *ledger;
    pthread_rwlock_t *ledger_lock;
    gov_mempool *mempool;
    gov_lane *lane; /* where a submission's execution check runs, beside consensus work */
    gov_logger *log;
    /* The mempool gained transactions (tell consensus). */
    void (*mempool_changed_cb)(void *arg);
    /* Send a gossip frame to every other validator. */
    void (*broadcast_cb)(void *arg, const uint8_t *bytes, size_t len);
    /* The node's own status fields (consensus, peers) added to /v1/status. */
    void (*status_cb)(void *arg, json_t *status);
    /* The node's own metrics appended to /metrics (Prometheus text format). */
    void (*metrics_cb)(void *arg, gov_buf *out);
    void *arg;
    uint32_t wait_timeout_ms; /* ?wait=commit gives up (202) after this */
    bool read_only;           /* an observer: POST /v1/txs is refused (403) */
} gov_api_config;

gov_api *gov_api_new(const gov_api_config *config); /* NULL when out of memory */
/* Answers every waiting client (503) and frees. In-flight pool jobs must have finished:
 * call after the loop has run down. */
void gov_api_free(gov_api *api);
/* Stops taking requests: new ones get 503 while the node shuts down. */
void gov_api_close(gov_api *api);

/* The HTTP handler (node/http.h), with the api as arg. */
void gov_api_handle(gov_http_reply *reply, const gov_http_request *request, void *arg);

/* Events from consensus, on the loop. */
void gov_api_committed(gov_api *api, const gov_block *block, const gov_hash *hash);
void gov_api_rejected(gov_api *api, const gov_hash *tx_id, gov_reject reason);

/* Peer gossip. */
bool gov_api_is_gossip(const uint8_t *bytes, size_t len);
void gov_api_gossip_received(gov_api *api, uint32_t from, const uint8_t *bytes, size_t len);

/* The committed height as the loop has seen it (no lock needed, on the loop). */
uint64_t gov_api_height(const gov_api *api);

/* Latency histogram of commits as seen by waiting clients, for /metrics. */
void gov_api_metrics(gov_api *api, gov_buf *out);

#endif
