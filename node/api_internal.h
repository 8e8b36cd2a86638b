/*
 * What the API's files share (node/api.h): the API's state; the read jobs of node/api.c,
 * which run on libuv's thread pool under the ledger's read lock and answer when they are
 * done, used by the regulators' endpoints in node/api_audit.c; and the submissions of
 * node/api_submit.c.
 */
#ifndef GOVCHAIN_NODE_API_INTERNAL_H
#define GOVCHAIN_NODE_API_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "govchain/ledger.h"
#include "govchain/receipt.h"
#include "node/api.h"
#include "node/http.h"

enum { GOV_API_LATENCY_BUCKETS = 12 };
/* Commit latency buckets, in milliseconds, for /metrics (node/api_submit.c). */
extern const double GOV_API_LATENCY_BOUNDS_MS[GOV_API_LATENCY_BUCKETS];

typedef struct waiter waiter;         /* a ?wait=commit reply (node/api_submit.c) */
typedef struct raw_waiter raw_waiter; /* a long poll for raw blocks (node/api.c) */

struct gov_api {
    gov_api_config config;
    bool closed;
    uint64_t height; /* the committed height as the loop has seen it */
    /* The head as the loop has seen it: /v1/status reads this, never the ledger, so the
     * loop does not wait for the lock while a commit holds it. */
    gov_hash head_hash, head_state_root;
    uint64_t head_time_ms;
    gov_receipt_cache *receipts;
    waiter *waiters;
    raw_waiter *raw_waiters;
    uint64_t submitted, accepted, refused;
    uint64_t latency_counts[GOV_API_LATENCY_BUCKETS + 1];
    double latency_sum_ms;
    uint64_t latency_count;
};

/* The wall clock in milliseconds (transactions' and blocks' times). */
uint64_t gov_api_wall_ms(void);
/* The ledger's suite. */
gov_suite gov_api_suite(const gov_api *api);

/* node/api_submit.c: POST /v1/txs (the handler's part), and the waiters of ?wait=commit:
 * told of each committed block, and answered 503 when the API closes. */
void gov_api_submit(gov_api *api, gov_http_reply *reply, const gov_http_request *request);
void gov_api_waiters_committed(gov_api *api, const gov_block *block, const gov_hash *hash);
void gov_api_waiters_close(gov_api *api);

typedef enum {
    READ_TX,
    READ_DOC,
    READ_RECEIPT,
    READ_BLOCK,
    READ_BLOCKS,
    READ_RAW_BLOCKS, /* node/api_audit.c from here on */
    READ_CONSISTENCY,
    READ_DEPARTMENT,
    READ_EVIDENCE,
} read_kind;

typedef struct {
    uv_work_t work;
    gov_api *api;
    gov_http_reply *reply;
    read_kind kind;
    gov_hash hash;
    uint64_t height, limit;
    uint64_t to_height; /* consistency, department: the range's end */
    bool at_height;
    bool at_time; /* docs: height found from a time */
    uint64_t time_ms;
    char department[GOV_ID_LEN_MAX + 1];
    gov_ledger_position after; /* department: the page starts after this */
    bool has_after;
    uint64_t now_ms;
    /* Result. */
    int status;
    json_t *body;
    const char *error_code;
    char error[200];
} read_job;

/* A new job answering reply (answers 503 itself and returns NULL when out of memory). */
read_job *gov_api_read_new(gov_http_reply *reply, read_kind kind);
/* Runs the job on the pool; its result answers the reply. */
void gov_api_read_start(gov_api *api, gov_http_reply *reply, read_job *job);
void gov_api_read_fail(read_job *job, int status, const char *code, const char *message);
void gov_api_read_store_error(read_job *job, const char *why);

gov_ledger *gov_api_ledger(const gov_api *api);

/* Answers GET /v1/blocks/raw: at once when block `from` exists or wait_ms is 0, else at
 * the next commit or after wait_ms, whichever comes first (node/api.c). */
void gov_api_raw_blocks(gov_api *api, gov_http_reply *reply, uint64_t from, uint64_t limit,
                        uint64_t wait_ms);

/* node/api_audit.c: the kinds from READ_RAW_BLOCKS on, run on the pool. */
void gov_api_read_audit(read_job *job);
/* Routes GET /v1/blocks/raw, /v1/proofs/consistency, /v1/departments/{id}/txs and
 * /v1/evidence;
 * false when the path is none of them. */
bool gov_api_route_audit(gov_api *api, gov_http_reply *reply, const gov_http_request *request);
/* The height of the newest block whose time is at most time_ms (0 when none is). */
uint64_t gov_api_height_at_time(gov_ledger *ledger, uint64_t time_ms);

#endif
