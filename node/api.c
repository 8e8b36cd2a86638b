/*
 * The node's HTTP/JSON API (node/api.h): routing, reads, status and metrics, and long
 * polls for raw blocks. Submissions are in node/api_submit.c, the regulators' endpoints
 * in node/api_audit.c.
 *
 * Reads: the handler parses the path and the query on the loop, then a read job runs on
 * libuv's thread pool under the read lock and builds the JSON; its after-callback
 * answers.
 */
#include "node/api.h"
#include "node/api_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "govchain/error.h"
#include "govchain/query.h"
#include "govchain/receipt.h"
#include "node/json_out.h"
#include "node/web.h"

enum {
    BLOCKS_PAGE_MAX = 100, /* GET /v1/blocks?limit= */
    /* A page of blocks ends, after its first block, before this many transactions (about
     * a kilobyte of JSON each), so one request cannot build hundreds of megabytes. */
    BLOCKS_PAGE_TXS_MAX = 2000,
    HISTORY_PAGE_MAX = 100, /* changes listed with a document */
    RECEIPT_CACHE_BLOCKS = 64,
};

/* A GET /v1/blocks/raw waiting for its first block to be committed (long poll). */
struct raw_waiter {
    struct raw_waiter *prev, *next;
    gov_api *api;
    gov_http_reply *reply;
    uint64_t from, limit;
    uv_timer_t timer;
};

uint64_t gov_api_wall_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

gov_suite gov_api_suite(const gov_api *api)
{
    return gov_ledger_genesis(api->config.ledger)->suite;
}

/* Path and query parsing ------------------------------------------------------------- */

/* A 64-hex-digit hash path segment. */
static bool parse_hash(const char *text, gov_hash *out)
{
    return strlen(text) == 2 * GOV_HASH_LEN && gov_hex_decode(text, out->bytes, GOV_HASH_LEN) == 0;
}

/* A decimal height path segment: digits only, no sign, no leading zeros but "0". */
static bool parse_u64(const char *text, uint64_t *out)
{
    size_t len = strlen(text);
    if (len == 0 || len > 19 || (len > 1 && text[0] == '0')) {
        return false;
    }
    uint64_t value = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)text[i])) {
            return false;
        }
        value = value * 10 + (uint64_t)(text[i] - '0');
    }
    *out = value;
    return true;
}

/* An optional unsigned query parameter; false (with the reply answered) when bad. */
static bool query_u64(gov_http_reply *reply, const char *query, const char *name, uint64_t *out,
                      bool *present)
{
    char value[32];
    int rc = gov_http_query_get(query, name, value, sizeof(value));
    *present = rc == 0;
    if (rc == GOV_ENOENT) {
        return true;
    }
    if (rc != 0 || !parse_u64(value, out)) {
        char message[96];
        snprintf(message, sizeof(message), "query parameter %s must be a whole number", name);
        gov_http_reply_error(reply, 400, "bad_parameter", message);
        return false;
    }
    return true;
}

/* Read jobs ------------------------------------------------------------------------------ */

void gov_api_read_fail(read_job *job, int status, const char *code, const char *message)
{
    job->status = status;
    job->error_code = code;
    snprintf(job->error, sizeof(job->error), "%s", message);
}

/* A store failure while reading: the store is corrupted or unreadable. */
void gov_api_read_store_error(read_job *job, const char *why)
{
    gov_api_read_fail(job, 500, "store_error", why);
}

static void read_tx(read_job *job)
{
    gov_tx tx;
    gov_ledger_position at;
    gov_block_header header;
    char why[160];
    int rc = gov_query_tx(job->api->config.ledger, &job->hash, &tx, &at, &header, why, sizeof(why));
    if (rc == GOV_ENOENT) {
        gov_api_read_fail(job, 404, "not_found", "no committed transaction has this id");
        return;
    }
    if (rc != 0) {
        gov_api_read_store_error(job, why);
        return;
    }
    gov_hash block_hash;
    gov_block_hash(gov_api_suite(job->api), &header, &block_hash);
    job->body =
        json_pack("{s:o, s:o, s:I, s:o, s:o, s:s}", "tx", gov_json_tx(gov_api_suite(job->api), &tx),
                  "height", gov_json_u64(at.height), "index", (json_int_t)at.index, "block_hash",
                  gov_json_hash(&block_hash), "block_time_ms", gov_json_u64(header.time_ms),
                  "result", "applied");
    job->status = 200;
    gov_tx_clear(&tx);
}

static void read_doc(read_job *job)
{
    const gov_genesis *genesis = gov_ledger_genesis(job->api->config.ledger);
    gov_ledger *ledger = job->api->config.ledger;
    char why[160];
    bool found = false;
    gov_doc_state state;
    memset(&state, 0, sizeof(state));
    json_t *doc = NULL;
    if (job->at_time) {
        /* As of a time: as of the last block committed at or before it. */
        job->height = gov_api_height_at_time(ledger, job->time_ms);
        if (job->height == 0) {
            gov_api_read_fail(job, 404, "unknown_document", "no block was committed by that time");
            return;
        }
    }
    if (job->at_height) {
        gov_query_doc_change change;
        int rc =
            gov_query_doc_at(ledger, &job->hash, job->height, &change, &found, why, sizeof(why));
        if (rc == GOV_ENOENT) {
            gov_api_read_fail(job, 404, "height_not_found", "at_height is above the chain's head");
            return;
        }
        if (rc != 0) {
            gov_api_read_store_error(job, why);
            return;
        }
        if (found) {
            gov_block block;
            gov_commit_cert cert;
            uint64_t time_ms = job->now_ms;
            if (job->height > 0 &&
                gov_ledger_block_get(ledger, job->height, &block, &cert, why, sizeof(why)) == 0) {
                time_ms = block.header.time_ms; /* expiry as of that block */
                gov_block_clear(&block);
            }
            doc = gov_json_doc_state(genesis, &change.state, time_ms);
            gov_query_doc_change_clear(&change);
        }
    } else {
        int rc = gov_query_doc(ledger, &job->hash, &state, &found, why, sizeof(why));
        if (rc != 0) {
            gov_api_read_store_error(job, why);
            return;
        }
        if (found) {
            doc = gov_json_doc_state(genesis, &state, job->now_ms);
            gov_doc_state_clear(&state);
        }
    }
    if (!found) {
        gov_api_read_fail(job, 404, "unknown_document", "no document with this hash was issued");
        return;
    }
    gov_query_doc_change changes[HISTORY_PAGE_MAX];
    gov_query_page page;
    json_t *history = json_array();
    if (gov_query_doc_history(ledger, &job->hash, NULL, HISTORY_PAGE_MAX, changes, &page, why,
                              sizeof(why)) != 0) {
        json_decref(doc);
        json_decref(history);
        gov_api_read_store_error(job, why);
        return;
    }
    for (uint32_t i = 0; i < page.count; i++) {
        if (!job->at_height || changes[i].at.height <= job->height) {
            json_array_append_new(history,
                                  json_pack("{s:s, s:o, s:I, s:o, s:s}", "change",
                                            gov_query_change_name(changes[i].kind), "height",
                                            gov_json_u64(changes[i].at.height), "index",
                                            (json_int_t)changes[i].at.index, "tx_id",
                                            gov_json_hash(&changes[i].at.tx_id), "status",
                                            gov_doc_status_name(changes[i].state.status)));
        }
        gov_query_doc_change_clear(&changes[i]);
    }
    job->body = json_pack("{s:o, s:o, s:b}", "document", doc, "history", history,
                          "history_truncated", page.more);
    if (job->at_height && job->body != NULL) {
        json_object_set_new(job->body, "at_height", gov_json_u64(job->height));
    }
    job->status = 200;
}

static void read_receipt(read_job *job)
{
    gov_receipt receipt;
    char why[200];
    int rc = gov_receipt_build(job->api->config.ledger, job->api->receipts, &job->hash, &receipt,
                               why, sizeof(why));
    if (rc == GOV_ENOENT) {
        gov_api_read_fail(job, 503, "no_blocks", "the chain has no committed block yet");
        return;
    }
    if (rc != 0) {
        gov_api_read_store_error(job, why);
        return;
    }
    job->body = gov_receipt_to_json(gov_ledger_genesis(job->api->config.ledger), &receipt);
    job->status = 200;
    gov_receipt_clear(&receipt);
}

static json_t *block_json(read_job *job, uint64_t height, int *rc, char *why, size_t why_len)
{
    gov_block block;
    gov_commit_cert cert;
    *rc = gov_ledger_block_get(job->api->config.ledger, height, &block, &cert, why, why_len);
    if (*rc != 0) {
        return NULL;
    }
    json_t *json = gov_json_block(gov_api_suite(job->api), &block, &cert);
    gov_block_clear(&block);
    return json;
}

static void read_blocks(read_job *job)
{
    char why[160];
    int rc = 0;
    uint64_t head = gov_ledger_head_get(job->api->config.ledger)->height;
    if (job->kind == READ_BLOCK) {
        if (job->height == 0 || job->height > head) {
            gov_api_read_fail(job, 404, "not_found", "no block at this height");
            return;
        }
        job->body = block_json(job, job->height, &rc, why, sizeof(why));
        if (rc != 0) {
            gov_api_read_store_error(job, why);
            return;
        }
        job->status = 200;
        return;
    }
    json_t *blocks = json_array();
    uint64_t from = job->height == 0 ? 1 : job->height;
    uint64_t next = from;
    size_t txs = 0;
    for (; next <= head && next < from + job->limit && blocks != NULL &&
           (next == from || txs < BLOCKS_PAGE_TXS_MAX);
         next++) {
        json_t *block = block_json(job, next, &rc, why, sizeof(why));
        if (rc != 0) {
            json_decref(blocks);
            gov_api_read_store_error(job, why);
            return;
        }
        txs += json_array_size(json_object_get(block, "txs"));
        json_array_append_new(blocks, block);
    }
    job->body = json_pack("{s:o, s:o, s:o}", "blocks", blocks, "head", gov_json_u64(head), "next",
                          next <= head ? gov_json_u64(next) : json_null());
    job->status = 200;
}

static void read_work(uv_work_t *work)
{
    read_job *job = work->data;
    pthread_rwlock_rdlock(job->api->config.ledger_lock);
    switch (job->kind) {
    case READ_TX:
        read_tx(job);
        break;
    case READ_DOC:
        read_doc(job);
        break;
    case READ_RECEIPT:
        read_receipt(job);
        break;
    case READ_BLOCK:
    case READ_BLOCKS:
        read_blocks(job);
        break;
    default:
        gov_api_read_audit(job);
        break;
    }
    pthread_rwlock_unlock(job->api->config.ledger_lock);
    if (job->status == 200 && job->body == NULL) {
        gov_api_read_fail(job, 500, "internal_error", "out of memory building the answer");
    }
}

static void read_done(uv_work_t *work, int status)
{
    read_job *job = work->data;
    (void)status; /* UV_ECANCELED: read_cancelled took it off the queue */
    if (job->reply == NULL) {
        json_decref(job->body); /* the client went away */
    } else if (job->error_code != NULL) {
        json_decref(job->body);
        gov_http_reply_error(job->reply, job->status, job->error_code, job->error);
    } else {
        gov_http_reply_json(job->reply, job->status, job->body);
    }
    free(job);
}

/* The client went away: a read still waiting for a pool thread is dropped (read_done then
 * runs with UV_ECANCELED), so a client that pipelines requests and leaves, again and
 * again, cannot fill the pool's queue. A read already running finishes unanswered. */
static void read_cancelled(gov_http_reply *reply, void *arg)
{
    (void)reply;
    read_job *job = arg;
    job->reply = NULL;
    (void)uv_cancel((uv_req_t *)&job->work);
}

void gov_api_read_start(gov_api *api, gov_http_reply *reply, read_job *job)
{
    job->api = api;
    job->reply = reply;
    job->now_ms = gov_api_wall_ms();
    job->work.data = job;
    if (uv_queue_work(api->config.loop, &job->work, read_work, read_done) != 0) {
        free(job);
        gov_http_reply_error(reply, 500, "internal_error", "could not start the query");
        return;
    }
    gov_http_reply_on_cancel(reply, read_cancelled, job);
}

read_job *gov_api_read_new(gov_http_reply *reply, read_kind kind)
{
    read_job *job = calloc(1, sizeof(*job));
    if (job == NULL) {
        gov_http_reply_error(reply, 503, "out_of_memory", "the node is out of memory");
        return NULL;
    }
    job->kind = kind;
    return job;
}

/* Synchronous answers -------------------------------------------------------------- */

static json_t *departments_json(const gov_genesis *genesis)
{
    json_t *list = json_array();
    for (uint32_t i = 0; list != NULL && i < genesis->departments_count; i++) {
        const gov_genesis_department *d = &genesis->departments[i];
        json_t *roles = json_array();
        static const char *const role_names[] = {"issuer", "endorser", "regulator"};
        for (uint32_t r = 0; r < 3; r++) {
            if (d->roles & (1u << r)) {
                json_array_append_new(roles, json_string(role_names[r]));
            }
        }
        json_t *issues = json_array();
        for (uint32_t t = 0; t < d->issues_count; t++) {
            json_array_append_new(issues, json_string(genesis->doc_types[d->issues[t]].id));
        }
        json_t *keys = json_array();
        for (uint32_t k = 0; k < d->keys_count; k++) {
            char hex[2 * GOV_PUBLIC_KEY_LEN + 1];
            gov_hex_encode(d->keys[k], GOV_PUBLIC_KEY_LEN, hex);
            json_array_append_new(keys, json_string(hex));
        }
        json_array_append_new(list,
                              json_pack("{s:s, s:s, s:o, s:o, s:o}", "id", d->id, "name", d->name,
                                        "roles", roles, "issues", issues, "keys", keys));
    }
    json_t *types = json_array();
    for (uint32_t i = 0; types != NULL && i < genesis->doc_types_count; i++) {
        const gov_genesis_doc_type *t = &genesis->doc_types[i];
        json_t *recognisers = json_array();
        for (uint32_t r = 0; r < t->recognisers_count; r++) {
            json_array_append_new(recognisers,
                                  json_string(genesis->departments[t->recognisers[r]].id));
        }
        json_array_append_new(types, json_pack("{s:s, s:s, s:o, s:I}", "id", t->id, "class",
                                               gov_doc_class_name(t->doc_class), "recognised_by",
                                               recognisers, "endorsements_required",
                                               (json_int_t)t->endorsements_required));
    }
    return json_pack("{s:o, s:s, s:s, s:o, s:o}", "chain_id", gov_json_hash(&genesis->hash),
                     "chain_name", genesis->chain_name, "suite", gov_suite_name(genesis->suite),
                     "departments", list, "doc_types", types);
}

static void answer_status(gov_api *api, gov_http_reply *reply)
{
    json_t *status = json_pack(
        "{s:o, s:s, s:o, s:o, s:o, s:o, s:{s:I, s:o}}", "chain_id",
        gov_json_hash(&gov_ledger_genesis(api->config.ledger)->hash), "chain_name",
        gov_ledger_genesis(api->config.ledger)->chain_name, "height", gov_json_u64(api->height),
        "head_hash", gov_json_hash(&api->head_hash), "state_root",
        gov_json_hash(&api->head_state_root), "head_time_ms", gov_json_u64(api->head_time_ms),
        "mempool", "txs", (json_int_t)gov_mempool_count(api->config.mempool), "bytes",
        gov_json_u64(gov_mempool_bytes(api->config.mempool)));
    if (status != NULL && api->config.status_cb != NULL) {
        api->config.status_cb(api->config.arg, status);
    }
    gov_http_reply_json(reply, 200, status);
}

void gov_api_metrics(gov_api *api, gov_buf *out)
{
    char line[160];
    gov_buf_append(out, "# TYPE govchain_commit_latency_seconds histogram\n", 49);
    uint64_t cumulative = 0;
    for (int i = 0; i <= GOV_API_LATENCY_BUCKETS; i++) {
        cumulative += api->latency_counts[i];
        int n =
            i < GOV_API_LATENCY_BUCKETS
                ? snprintf(line, sizeof(line),
                           "govchain_commit_latency_seconds_bucket{le=\"%g\"} %llu\n",
                           GOV_API_LATENCY_BOUNDS_MS[i] / 1000.0, (unsigned long long)cumulative)
                : snprintf(line, sizeof(line),
                           "govchain_commit_latency_seconds_bucket{le=\"+Inf\"} %llu\n",
                           (unsigned long long)cumulative);
        gov_buf_append(out, line, (size_t)n);
    }
    int n = snprintf(line, sizeof(line),
                     "govchain_commit_latency_seconds_sum %.3f\n"
                     "govchain_commit_latency_seconds_count %llu\n",
                     api->latency_sum_ms / 1000.0, (unsigned long long)api->latency_count);
    gov_buf_append(out, line, (size_t)n);
    n = snprintf(line, sizeof(line),
                 "# TYPE govchain_txs_submitted_total counter\ngovchain_txs_submitted_total %llu\n"
                 "# TYPE govchain_txs_refused_total counter\ngovchain_txs_refused_total %llu\n",
                 (unsigned long long)api->submitted, (unsigned long long)api->refused);
    gov_buf_append(out, line, (size_t)n);
}

static void answer_metrics(gov_api *api, gov_http_reply *reply)
{
    gov_buf out;
    gov_buf_init(&out);
    char line[200];
    int n = snprintf(line, sizeof(line),
                     "# TYPE govchain_height gauge\ngovchain_height %llu\n"
                     "# TYPE govchain_mempool_txs gauge\ngovchain_mempool_txs %u\n",
                     (unsigned long long)api->height, gov_mempool_count(api->config.mempool));
    gov_buf_append(&out, line, (size_t)n);
    gov_api_metrics(api, &out);
    if (api->config.metrics_cb != NULL) {
        api->config.metrics_cb(api->config.arg, &out);
    }
    if (!gov_buf_ok(&out)) {
        gov_buf_free(&out);
        gov_http_reply_error(reply, 503, "out_of_memory", "the node is out of memory");
        return;
    }
    gov_http_reply_text(reply, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
    gov_buf_free(&out);
}

/* Long polls for raw blocks ------------------------------------------------------------ */

gov_ledger *gov_api_ledger(const gov_api *api)
{
    return api->config.ledger;
}

uint64_t gov_api_height(const gov_api *api)
{
    return api->height;
}

static void start_raw_read(gov_api *api, gov_http_reply *reply, uint64_t from, uint64_t limit)
{
    read_job *job = gov_api_read_new(reply, READ_RAW_BLOCKS);
    if (job != NULL) {
        job->height = from;
        job->limit = limit;
        gov_api_read_start(api, reply, job);
    }
}

static void raw_waiter_closed(uv_handle_t *handle)
{
    free(handle->data);
}

/* Retires a waiter; with answer, its read starts (the reply goes to the job). */
static void raw_waiter_finish(raw_waiter *w, bool answer)
{
    gov_api *api = w->api;
    if (w->prev != NULL) {
        w->prev->next = w->next;
    } else {
        api->raw_waiters = w->next;
    }
    if (w->next != NULL) {
        w->next->prev = w->prev;
    }
    uv_timer_stop(&w->timer);
    if (answer && w->reply != NULL) {
        gov_http_reply_on_cancel(w->reply, NULL, NULL);
        start_raw_read(api, w->reply, w->from, w->limit);
    }
    w->reply = NULL;
    uv_close((uv_handle_t *)&w->timer, raw_waiter_closed);
}

static void raw_waiter_timeout(uv_timer_t *timer)
{
    raw_waiter_finish(timer->data, true); /* answers with no blocks and the head */
}

static void raw_waiter_cancelled(gov_http_reply *reply, void *arg)
{
    (void)reply;
    raw_waiter *w = arg;
    w->reply = NULL;
    raw_waiter_finish(w, false);
}

void gov_api_raw_blocks(gov_api *api, gov_http_reply *reply, uint64_t from, uint64_t limit,
                        uint64_t wait_ms)
{
    raw_waiter *w = NULL;
    if (from <= api->height || wait_ms == 0 || (w = calloc(1, sizeof(*w))) == NULL) {
        start_raw_read(api, reply, from, limit);
        return;
    }
    w->api = api;
    w->reply = reply;
    w->from = from;
    w->limit = limit;
    uv_timer_init(api->config.loop, &w->timer);
    w->timer.data = w;
    uv_timer_start(&w->timer, raw_waiter_timeout, wait_ms, 0);
    gov_http_reply_on_cancel(reply, raw_waiter_cancelled, w);
    w->next = api->raw_waiters;
    if (api->raw_waiters != NULL) {
        api->raw_waiters->prev = w;
    }
    api->raw_waiters = w;
}

/* Consensus events -------------------------------------------------------------------- */

void gov_api_committed(gov_api *api, const gov_block *block, const gov_hash *hash)
{
    if (block->header.height > api->height) {
        api->height = block->header.height;
        api->head_hash = *hash;
        api->head_state_root = block->header.state_root;
        api->head_time_ms = block->header.time_ms;
    }
    for (raw_waiter *w = api->raw_waiters, *next; w != NULL; w = next) {
        next = w->next;
        if (w->from <= api->height) {
            raw_waiter_finish(w, true);
        }
    }
    gov_api_waiters_committed(api, block, hash);
}

/* Routing --------------------------------------------------------------------------------- */

static void method_not_allowed(gov_http_reply *reply, const char *allow)
{
    gov_http_reply_header(reply, "Allow", allow);
    gov_http_reply_error(reply, 405, "method_not_allowed", "this path does not take that method");
}

void gov_api_handle(gov_http_reply *reply, const gov_http_request *request, void *arg)
{
    gov_api *api = arg;
    const char *path = request->path;
    /* HEAD is a GET whose body the server leaves out (node/http.h). */
    bool get = strcmp(request->method, "GET") == 0 || strcmp(request->method, "HEAD") == 0;
    if (api->closed) {
        gov_http_reply_error(reply, 503, "shutting_down", "the node is shutting down");
        return;
    }
    if (strcmp(path, "/v1/txs") == 0) {
        if (strcmp(request->method, "POST") != 0) {
            method_not_allowed(reply, "POST");
            return;
        }
        if (api->config.read_only) {
            gov_http_reply_error(reply, 403, "read_only",
                                 "this node is an observer: send transactions to a validator");
            return;
        }
        gov_api_submit(api, reply, request);
        return;
    }
    if (!get) {
        method_not_allowed(reply, "GET, HEAD");
        return;
    }
    if (gov_api_route_audit(api, reply, request)) {
        return;
    }
    if (strcmp(path, "/healthz") == 0) {
        gov_http_reply_json(reply, 200, json_pack("{s:s}", "status", "ok"));
        return;
    }
    if (strcmp(path, "/v1/status") == 0) {
        answer_status(api, reply);
        return;
    }
    if (strcmp(path, "/metrics") == 0) {
        answer_metrics(api, reply);
        return;
    }
    if (strcmp(path, "/v1/genesis") == 0) {
        /* The canonical encoding: a verifier hashes it to get the chain id, so it need
         * not trust the node for it (docs/receipt.md). */
        const gov_genesis *genesis = gov_ledger_genesis(api->config.ledger);
        uint8_t *encoding = NULL;
        size_t len = 0;
        json_t *body = NULL;
        if (gov_genesis_encode(genesis, &encoding, &len) == 0) {
            body =
                json_pack("{s:o, s:s, s:o}", "chain_id", gov_json_hash(&genesis->hash), "suite",
                          gov_suite_name(genesis->suite), "encoding", gov_json_hex(encoding, len));
            free(encoding);
        }
        gov_http_reply_json(reply, 200, body);
        return;
    }
    if (strcmp(path, "/v1/departments") == 0) {
        gov_http_reply_json(reply, 200, departments_json(gov_ledger_genesis(api->config.ledger)));
        return;
    }
    if (strncmp(path, "/v1/txs/", 8) == 0) {
        read_job *job = NULL;
        if (!parse_hash(path + 8, &(gov_hash){0})) {
            gov_http_reply_error(reply, 400, "bad_tx_id", "a transaction id is 64 hex digits");
        } else if ((job = gov_api_read_new(reply, READ_TX)) != NULL) {
            parse_hash(path + 8, &job->hash);
            gov_api_read_start(api, reply, job);
        }
        return;
    }
    size_t path_len = strlen(path);
    if (strncmp(path, "/v1/docs/", 9) == 0 && path_len == 9 + 2 * GOV_HASH_LEN + 8 &&
        strcmp(path + 9 + 2 * GOV_HASH_LEN, "/receipt") == 0) {
        char hex[2 * GOV_HASH_LEN + 1];
        memcpy(hex, path + 9, 2 * GOV_HASH_LEN);
        hex[2 * GOV_HASH_LEN] = '\0';
        read_job *job = NULL;
        if (!parse_hash(hex, &(gov_hash){0})) {
            gov_http_reply_error(reply, 400, "bad_doc_hash", "a document hash is 64 hex digits");
        } else if ((job = gov_api_read_new(reply, READ_RECEIPT)) != NULL) {
            parse_hash(hex, &job->hash);
            gov_api_read_start(api, reply, job);
        }
        return;
    }
    if (strncmp(path, "/v1/docs/", 9) == 0) {
        gov_hash hash;
        uint64_t height = 0;
        bool at = false;
        if (!parse_hash(path + 9, &hash)) {
            gov_http_reply_error(reply, 400, "bad_doc_hash", "a document hash is 64 hex digits");
            return;
        }
        uint64_t time_ms = 0;
        bool at_time = false;
        if (!query_u64(reply, request->query, "at_height", &height, &at) ||
            !query_u64(reply, request->query, "at_time", &time_ms, &at_time)) {
            return;
        }
        if (at && at_time) {
            gov_http_reply_error(reply, 400, "bad_parameter",
                                 "give at_height or at_time, not both");
            return;
        }
        read_job *job = gov_api_read_new(reply, READ_DOC);
        if (job != NULL) {
            job->hash = hash;
            job->height = height;
            job->at_height = at || at_time;
            job->at_time = at_time;
            job->time_ms = time_ms;
            gov_api_read_start(api, reply, job);
        }
        return;
    }
    if (strncmp(path, "/v1/blocks/", 11) == 0) {
        uint64_t height = 0;
        if (!parse_u64(path + 11, &height)) {
            gov_http_reply_error(reply, 400, "bad_height", "a height is a whole number");
            return;
        }
        read_job *job = gov_api_read_new(reply, READ_BLOCK);
        if (job != NULL) {
            job->height = height;
            gov_api_read_start(api, reply, job);
        }
        return;
    }
    if (strcmp(path, "/v1/blocks") == 0) {
        uint64_t from = 1, limit = 20;
        bool present = false;
        if (!query_u64(reply, request->query, "from", &from, &present) ||
            !query_u64(reply, request->query, "limit", &limit, &present)) {
            return;
        }
        if (limit == 0 || limit > BLOCKS_PAGE_MAX) {
            gov_http_reply_error(reply, 400, "bad_parameter", "limit must be 1 to 100");
            return;
        }
        read_job *job = gov_api_read_new(reply, READ_BLOCKS);
        if (job != NULL) {
            job->height = from;
            job->limit = limit;
            gov_api_read_start(api, reply, job);
        }
        return;
    }
    const gov_web_asset *asset = gov_web_find(path);
    if (asset != NULL) {
        /* The verification page: its own files only, nothing from elsewhere. */
        gov_http_reply_header(reply, "Content-Security-Policy",
                              "default-src 'self'; script-src 'self'; style-src 'self'; "
                              "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'");
        gov_http_reply_text(reply, 200, asset->content_type, asset->data, asset->len);
        return;
    }
    gov_http_reply_error(reply, 404, "not_found", "no such endpoint");
}

/* Life ----------------------------------------------------------------------------------- */

gov_api *gov_api_new(const gov_api_config *config)
{
    gov_api *api = calloc(1, sizeof(*api));
    if (api != NULL) {
        api->config = *config;
        if (api->config.wait_timeout_ms == 0) {
            api->config.wait_timeout_ms = 30000;
        }
        const gov_ledger_head *head = gov_ledger_head_get(api->config.ledger);
        api->height = head->height; /* before any lane job can change it */
        api->head_hash = head->hash;
        api->head_state_root = head->state_root;
        api->head_time_ms = head->time_ms;
        /* Receipts of recent blocks' documents reuse the decoded blocks (NULL: none). */
        api->receipts = gov_receipt_cache_new(RECEIPT_CACHE_BLOCKS);
    }
    return api;
}

void gov_api_close(gov_api *api)
{
    api->closed = true;
    gov_api_waiters_close(api);
    while (api->raw_waiters != NULL) {
        raw_waiter *w = api->raw_waiters;
        if (w->reply != NULL) {
            gov_http_reply_on_cancel(w->reply, NULL, NULL);
            gov_http_reply_error(w->reply, 503, "shutting_down", "the node is shutting down");
            w->reply = NULL;
        }
        raw_waiter_finish(w, false);
    }
}

void gov_api_free(gov_api *api)
{
    if (api == NULL) {
        return;
    }
    gov_receipt_cache_free(api->receipts);
    free(api);
}
