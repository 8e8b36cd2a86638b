/*
 * Submissions to the node's API (node/api.h): POST /v1/txs, the same transactions
 * gossiped by peers, and ?wait=commit.
 *
 * The body is decoded on the loop (bounded by the HTTP server's body cap), the checks
 * that cost (signatures, ledger look-ups) run in a pool job, and the after-callback adds
 * the whole batch to the mempool or none of it. A waiter holds a ?wait=commit reply
 * until every transaction of its request is committed or rejected.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "govchain/error.h"
#include "govchain/query.h"
#include "node/api.h"
#include "node/api_internal.h"
#include "node/json_out.h"

enum {
    SUBMIT_TXS_MAX = 1024, /* transactions in one POST */
    GOSSIP_TXS_MAX = 1024, /* in one gossip frame */
    GOSSIP_TYPE = 8,
};

/* Commit latency buckets, in milliseconds, for /metrics. */
const double GOV_API_LATENCY_BOUNDS_MS[GOV_API_LATENCY_BUCKETS] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000};

struct waiter {
    struct waiter *prev, *next;
    gov_api *api;
    gov_http_reply *reply;
    uint32_t count, remaining, rejected;
    gov_hash *ids;
    json_t *results; /* array, one object per transaction */
    uint64_t started_ms;
    uv_timer_t timer;
};

/* Submissions ------------------------------------------------------------------------ */

typedef struct {
    uv_work_t work;
    gov_api *api;
    gov_http_reply *reply; /* NULL for gossip */
    uint32_t from;         /* gossip: the peer */
    bool wait;
    uint32_t count;
    gov_tx *txs;
    gov_hash *ids;
    size_t *sizes;
    /* Result of the pool checks. */
    int status;
    const char *error_code;
    char error[256];
} submit_job;

static void submit_job_free(submit_job *job)
{
    for (uint32_t i = 0; i < job->count; i++) {
        gov_tx_clear(&job->txs[i]);
    }
    free(job->txs);
    free(job->ids);
    free(job->sizes);
    free(job);
}

static void submit_fail(submit_job *job, int status, const char *code, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static void submit_fail(submit_job *job, int status, const char *code, const char *format, ...)
{
    if (job->error_code != NULL) {
        return; /* the first failure is the one reported */
    }
    job->status = status;
    job->error_code = code;
    va_list args;
    va_start(args, format);
    vsnprintf(job->error, sizeof(job->error), format, args);
    va_end(args);
}

/* On the pool: signatures, chain and department checks, and ids already committed. */
static void submit_work(uv_work_t *work)
{
    submit_job *job = work->data;
    const gov_genesis *genesis = gov_ledger_genesis(job->api->config.ledger);
    for (uint32_t i = 0; i < job->count && job->error_code == NULL; i++) {
        gov_reject reason = gov_rules_check_signature(genesis, &job->txs[i]);
        if (reason != GOV_REJECT_NONE) {
            submit_fail(job, 422, gov_reject_code(reason), "transaction %u: %s", i,
                        gov_reject_message(reason));
        }
    }
    pthread_rwlock_rdlock(job->api->config.ledger_lock);
    for (uint32_t i = 0; i < job->count && job->error_code == NULL; i++) {
        gov_tx tx;
        gov_ledger_position at;
        char why[160];
        int rc =
            gov_query_tx(job->api->config.ledger, &job->ids[i], &tx, &at, NULL, why, sizeof(why));
        if (rc == 0) {
            gov_tx_clear(&tx);
            submit_fail(job, 409, "duplicate_tx",
                        "transaction %u is already on the ledger, at height %llu", i,
                        (unsigned long long)at.height);
        } else if (rc != GOV_ENOENT) {
            submit_fail(job, 500, "store_error", "%s", why);
        }
    }
    pthread_rwlock_unlock(job->api->config.ledger_lock);
}

static void waiter_free(waiter *w)
{
    free(w->ids);
    json_decref(w->results);
    free(w);
}

static void waiter_unlink(waiter *w)
{
    gov_api *api = w->api;
    if (w->prev != NULL) {
        w->prev->next = w->next;
    } else {
        api->waiters = w->next;
    }
    if (w->next != NULL) {
        w->next->prev = w->prev;
    }
}

static void waiter_closed(uv_handle_t *handle)
{
    waiter_free(handle->data);
}

/* Answers a waiter (if its client is still there) and retires it. */
static void waiter_finish(waiter *w, int status)
{
    waiter_unlink(w);
    uv_timer_stop(&w->timer);
    if (w->reply != NULL && status >= 500) {
        gov_http_reply_error(w->reply, status, "shutting_down",
                             "the node is shutting down; ask GET /v1/txs/{id} later");
    } else if (w->reply != NULL) {
        json_t *body = json_pack("{s:O, s:b}", "txs", w->results, "committed",
                                 w->remaining == 0 && w->rejected == 0);
        gov_http_reply_json(w->reply, status, body);
    }
    w->reply = NULL;
    uv_close((uv_handle_t *)&w->timer, waiter_closed);
}

static void waiter_timeout(uv_timer_t *timer)
{
    waiter_finish(timer->data, 202); /* accepted, not committed yet: ask GET /v1/txs/{id} */
}

static void waiter_cancelled(gov_http_reply *reply, void *arg)
{
    (void)reply;
    waiter *w = arg;
    w->reply = NULL;
    waiter_finish(w, 0);
}

static json_t *accepted_json(const submit_job *job)
{
    json_t *results = json_array();
    for (uint32_t i = 0; results != NULL && i < job->count; i++) {
        json_array_append_new(results, json_pack("{s:o, s:s}", "tx_id", gov_json_hash(&job->ids[i]),
                                                 "status", "pending"));
    }
    return results;
}

static void start_waiter(gov_api *api, submit_job *job)
{
    waiter *w = calloc(1, sizeof(*w));
    gov_hash *ids = calloc(job->count, sizeof(*ids));
    json_t *results = accepted_json(job);
    if (w == NULL || ids == NULL || results == NULL) {
        free(w);
        free(ids);
        json_decref(results);
        gov_http_reply_json(job->reply, 202,
                            json_pack("{s:o, s:b}", "txs", accepted_json(job), "committed", false));
        return;
    }
    memcpy(ids, job->ids, job->count * sizeof(*ids));
    w->api = api;
    w->reply = job->reply;
    w->count = w->remaining = job->count;
    w->ids = ids;
    w->results = results;
    w->started_ms = uv_now(api->config.loop);
    uv_timer_init(api->config.loop, &w->timer);
    w->timer.data = w;
    uv_timer_start(&w->timer, waiter_timeout, api->config.wait_timeout_ms, 0);
    gov_http_reply_on_cancel(job->reply, waiter_cancelled, w);
    w->next = api->waiters;
    if (api->waiters != NULL) {
        api->waiters->prev = w;
    }
    api->waiters = w;
}

/* Encodes txs as a gossip frame [8, [tx bytes ...]]. */
static int gossip_encode(const submit_job *job, gov_buf *out)
{
    gov_enc_array(out, 2);
    gov_enc_uint(out, GOSSIP_TYPE);
    gov_enc_array(out, job->count);
    gov_buf tx;
    gov_buf_init(&tx);
    for (uint32_t i = 0; i < job->count; i++) {
        gov_buf_reset(&tx);
        gov_tx_encode(&job->txs[i], &tx);
        gov_enc_bin(out, tx.data, tx.len);
    }
    bool ok = gov_buf_ok(&tx) && gov_buf_ok(out);
    gov_buf_free(&tx);
    return ok ? 0 : GOV_ENOMEM;
}

/* In the lane: would the ledger apply these transactions now, in this order? A
 * transaction the ledger would refuse (a revoked document, a department that is not
 * the issuer, a duplicate document) is refused here with the same reason, instead of
 * sitting in every mempool waiting for a block that will never take it. */
static void execute_work(void *arg)
{
    submit_job *job = arg;
    gov_reject *verdicts = calloc(job->count, sizeof(*verdicts));
    if (verdicts == NULL) {
        submit_fail(job, 503, "out_of_memory", "the node is out of memory");
        return;
    }
    char why[200];
    int rc = gov_ledger_check(job->api->config.ledger, gov_api_wall_ms(), job->txs, job->count,
                              verdicts, why, sizeof(why));
    if (rc != 0) {
        submit_fail(job, 500, "ledger_error", "%s", why);
    } else {
        for (uint32_t i = 0; i < job->count; i++) {
            if (verdicts[i] != GOV_REJECT_NONE) {
                /* A duplicate is a conflict (409) wherever it is found; it can be found here
                 * when the first copy was committed after the stateless checks. */
                submit_fail(job, verdicts[i] == GOV_REJECT_DUPLICATE_TX ? 409 : 422,
                            gov_reject_code(verdicts[i]), "transaction %u: %s", i,
                            gov_reject_message(verdicts[i]));
                break;
            }
        }
    }
    free(verdicts);
}

static void admit(submit_job *job);
static submit_job *new_submit(gov_api *api, uint32_t count);

static void execute_done(void *arg)
{
    admit(arg);
}

/* On the loop, after the stateless checks: the stateful one goes into the lane. */
static void submit_done(uv_work_t *work, int status)
{
    (void)status;
    submit_job *job = work->data;
    if (job->error_code == NULL && job->api->config.lane != NULL && !job->api->closed &&
        gov_lane_submit(job->api->config.lane, execute_work, execute_done, job) == 0) {
        return;
    }
    admit(job);
}

/* On the loop: the mempool checks, then all or nothing. */
static void admit(submit_job *job)
{
    gov_api *api = job->api;
    gov_mempool *pool = api->config.mempool;
    if (job->error_code == NULL) {
        for (uint32_t i = 0; i < job->count; i++) {
            if (gov_mempool_contains(pool, &job->ids[i])) {
                submit_fail(job, 409, "duplicate_tx",
                            "transaction %u is already waiting for a block", i);
            }
        }
        uint32_t added = 0;
        for (uint32_t i = 0; i < job->count && job->error_code == NULL; i++) {
            int rc = gov_mempool_add(pool, &job->txs[i], &job->ids[i], job->sizes[i]);
            if (rc == 0) {
                added++;
                continue;
            }
            /* Undo this request's additions: a request is kept whole or not at all. */
            for (uint32_t k = 0; k < added; k++) {
                gov_mempool_remove(pool, &job->ids[k]);
            }
            if (rc == GOV_ELIMIT) {
                submit_fail(job, 503, "mempool_full",
                            "the node's mempool is full (%u transactions, %llu bytes); retry "
                            "later",
                            gov_mempool_count(pool), (unsigned long long)gov_mempool_bytes(pool));
            } else if (rc == GOV_EEXIST) {
                submit_fail(job, 409, "duplicate_tx", "transaction %u appears twice", i);
            } else {
                submit_fail(job, 503, "out_of_memory", "the node is out of memory");
            }
        }
    }
    if (job->error_code != NULL && job->reply == NULL && job->count > 1 && !api->closed) {
        /* Gossip is not a client's request: one bad or already-held transaction must not
         * keep the others out. Check each again on its own (dependent ones, such as an
         * endorsement of a document issued in the same frame, pass together above). */
        for (uint32_t i = 0; i < job->count; i++) {
            submit_job *one = new_submit(api, 1);
            if (one == NULL || gov_tx_copy(&job->txs[i], &one->txs[0]) != 0) {
                if (one != NULL) {
                    submit_job_free(one);
                }
                continue;
            }
            one->count = 1;
            one->ids[0] = job->ids[i];
            one->sizes[0] = job->sizes[i];
            one->from = job->from;
            one->work.data = one;
            if (uv_queue_work(api->config.loop, &one->work, submit_work, submit_done) != 0) {
                submit_job_free(one);
            }
        }
        submit_job_free(job);
        return;
    }
    if (job->error_code != NULL) {
        api->refused += job->count;
        if (job->reply != NULL) {
            gov_http_reply_error(job->reply, job->status, job->error_code, job->error);
        } else {
            gov_log(api->config.log, GOV_LOG_DEBUG, "gossip",
                    "transactions from validator %u not kept: %s", job->from, job->error);
        }
        submit_job_free(job);
        return;
    }
    api->accepted += job->count;
    if (job->reply != NULL) {
        /* Clients' transactions go to the other validators; gossip is not passed on. */
        gov_buf frame;
        gov_buf_init(&frame);
        if (gossip_encode(job, &frame) == 0 && api->config.broadcast_cb != NULL) {
            api->config.broadcast_cb(api->config.arg, frame.data, frame.len);
        }
        gov_buf_free(&frame);
        if (job->wait && !api->closed) {
            start_waiter(api, job);
        } else {
            gov_http_reply_json(
                job->reply, 202,
                json_pack("{s:o, s:b}", "txs", accepted_json(job), "committed", false));
        }
    }
    if (api->config.mempool_changed_cb != NULL) {
        api->config.mempool_changed_cb(api->config.arg);
    }
    submit_job_free(job);
}

static submit_job *new_submit(gov_api *api, uint32_t count)
{
    submit_job *job = calloc(1, sizeof(*job));
    if (job == NULL) {
        return NULL;
    }
    job->api = api;
    job->txs = calloc(count == 0 ? 1 : count, sizeof(*job->txs));
    job->ids = calloc(count == 0 ? 1 : count, sizeof(*job->ids));
    job->sizes = calloc(count == 0 ? 1 : count, sizeof(*job->sizes));
    if (job->txs == NULL || job->ids == NULL || job->sizes == NULL) {
        submit_job_free(job);
        return NULL;
    }
    return job;
}

/* Decodes one transaction's bytes into the job (slot job->count). */
static bool add_tx_bytes(submit_job *job, const uint8_t *bytes, size_t len, char *why,
                         size_t why_len)
{
    gov_tx *tx = &job->txs[job->count];
    if (gov_tx_decode(bytes, len, tx, why, why_len) != 0) {
        return false;
    }
    if (gov_tx_id(gov_api_suite(job->api), tx, &job->ids[job->count]) != 0) {
        gov_tx_clear(tx);
        snprintf(why, why_len, "could not compute the transaction id");
        return false;
    }
    for (uint32_t i = 0; i < job->count; i++) {
        if (gov_hash_equal(&job->ids[i], &job->ids[job->count])) {
            gov_tx_clear(tx);
            snprintf(why, why_len, "the same transaction appears twice");
            return false;
        }
    }
    job->sizes[job->count] = len;
    job->count++;
    return true;
}

/* POST /v1/txs: {"tx": "<hex>"} or {"txs": ["<hex>", ...]}, hex of the canonical
 * encoding of each signed transaction (docs/formats.md). */
void gov_api_submit(gov_api *api, gov_http_reply *reply, const gov_http_request *request)
{
    const char *type = request->content_type;
    if (type == NULL || strncasecmp(type, "application/json", 16) != 0 ||
        (type[16] != '\0' && type[16] != ';' && type[16] != ' ')) {
        gov_http_reply_error(reply, 415, "unsupported_media_type",
                             "send the transactions as application/json");
        return;
    }
    char wait[16];
    bool wait_commit = false;
    int rc = gov_http_query_get(request->query, "wait", wait, sizeof(wait));
    if (rc == 0 && strcmp(wait, "commit") == 0) {
        wait_commit = true;
    } else if (rc != GOV_ENOENT) {
        gov_http_reply_error(reply, 400, "bad_parameter", "wait must be \"commit\" when given");
        return;
    }
    json_error_t error;
    json_t *body =
        json_loadb((const char *)request->body, request->body_len, JSON_REJECT_DUPLICATES, &error);
    if (body == NULL || !json_is_object(body)) {
        char message[200];
        snprintf(message, sizeof(message), "the body is not a JSON object: %s",
                 body == NULL ? error.text : "another JSON value");
        json_decref(body);
        gov_http_reply_error(reply, 400, "bad_json", message);
        return;
    }
    json_t *one = json_object_get(body, "tx");
    json_t *many = json_object_get(body, "txs");
    json_t *list = NULL;
    if ((one == NULL) == (many == NULL) || json_object_size(body) != 1) {
        json_decref(body);
        gov_http_reply_error(reply, 400, "bad_json",
                             "the body must have exactly one member: \"tx\" or \"txs\"");
        return;
    }
    if (one != NULL) {
        list = json_array();
        json_array_append(list, one);
    } else if (json_is_array(many)) {
        list = json_incref(many);
    }
    json_decref(body);
    size_t count = list == NULL ? 0 : json_array_size(list);
    if (list == NULL || count == 0 || count > SUBMIT_TXS_MAX) {
        json_decref(list);
        gov_http_reply_error(reply, 400, "bad_json",
                             "\"txs\" must be an array of 1 to 1024 hex strings");
        return;
    }
    submit_job *job = new_submit(api, (uint32_t)count);
    if (job == NULL) {
        json_decref(list);
        gov_http_reply_error(reply, 503, "out_of_memory", "the node is out of memory");
        return;
    }
    job->reply = reply;
    job->wait = wait_commit;
    api->submitted += count;
    uint8_t *bytes = malloc(GOV_TX_BYTES_MAX);
    for (size_t i = 0; i < count; i++) {
        const char *hex = json_string_value(json_array_get(list, i));
        size_t hex_len = hex == NULL ? 0 : strlen(hex);
        char why[200], message[260];
        if (bytes == NULL) {
            snprintf(message, sizeof(message), "the node is out of memory");
        } else if (hex == NULL || hex_len == 0 || hex_len % 2 != 0 ||
                   hex_len / 2 > GOV_TX_BYTES_MAX || gov_hex_decode(hex, bytes, hex_len / 2) != 0) {
            snprintf(message, sizeof(message),
                     "transaction %zu is not a hex string of at most %d bytes", i,
                     GOV_TX_BYTES_MAX);
        } else if (!add_tx_bytes(job, bytes, hex_len / 2, why, sizeof(why))) {
            snprintf(message, sizeof(message), "transaction %zu: %s", i, why);
        } else {
            continue;
        }
        free(bytes);
        json_decref(list);
        api->refused += count;
        submit_job_free(job);
        gov_http_reply_error(reply, 400, "bad_transaction", message);
        return;
    }
    free(bytes);
    json_decref(list);
    /* The execution check runs the request as one block would: a request that cannot fit
     * one block would be checked only in part, so it is refused whole. */
    const gov_consensus_params *limits = &gov_ledger_genesis(api->config.ledger)->consensus;
    size_t total = 0;
    for (uint32_t i = 0; i < job->count; i++) {
        total += job->sizes[i];
    }
    if (job->count > limits->block_txs_max ||
        total + GOV_HEADER_BYTES_MAX + 16 > limits->block_bytes_max) {
        char message[200];
        snprintf(message, sizeof(message),
                 "%u transactions of %zu bytes do not fit one block (at most %u transactions "
                 "and %u bytes): send them in smaller requests",
                 job->count, total, limits->block_txs_max, limits->block_bytes_max);
        api->refused += job->count;
        submit_job_free(job);
        gov_http_reply_error(reply, 413, "too_large_for_a_block", message);
        return;
    }
    job->work.data = job;
    if (uv_queue_work(api->config.loop, &job->work, submit_work, submit_done) != 0) {
        submit_job_free(job);
        gov_http_reply_error(reply, 500, "internal_error", "could not start the checks");
    }
}

bool gov_api_is_gossip(const uint8_t *bytes, size_t len)
{
    /* A two-element array whose first element is the integer 8. */
    return len >= 3 && bytes[0] == 0x92 && bytes[1] == GOSSIP_TYPE;
}

void gov_api_gossip_received(gov_api *api, uint32_t from, const uint8_t *bytes, size_t len)
{
    if (api->closed) {
        return;
    }
    gov_dec dec;
    char why[160];
    uint32_t count = 0;
    uint64_t type = 0;
    gov_dec_begin(&dec, bytes, len, GOV_MESSAGE_BYTES_MAX, 4 + GOSSIP_TXS_MAX, why, sizeof(why));
    if (gov_dec_array(&dec, "gossip", 2) && gov_dec_uint(&dec, "type", GOSSIP_TYPE, &type)) {
        gov_dec_array_max(&dec, "txs", GOSSIP_TXS_MAX, &count);
    }
    submit_job *job = gov_dec_ok(&dec) && count > 0 ? new_submit(api, count) : NULL;
    for (uint32_t i = 0; job != NULL && i < count && gov_dec_ok(&dec); i++) {
        uint8_t *tx = NULL;
        size_t tx_len = 0;
        if (gov_dec_bin(&dec, "tx", GOV_TX_BYTES_MAX, &tx, &tx_len)) {
            char tx_why[160];
            if (!add_tx_bytes(job, tx, tx_len, tx_why, sizeof(tx_why))) {
                gov_dec_reject(&dec, GOV_EDECODE, "tx", "a transaction does not decode");
            }
        }
        free(tx);
    }
    if (gov_dec_ok(&dec)) {
        gov_dec_leave(&dec);
        gov_dec_leave(&dec);
    }
    int rc = gov_dec_finish(&dec);
    if (rc != 0 || job == NULL) {
        gov_log(api->config.log, GOV_LOG_WARN, "gossip",
                "bad transaction frame from validator %u: %s", from,
                rc != 0 ? why : "empty or out of memory");
        if (job != NULL) {
            submit_job_free(job);
        }
        return;
    }
    job->from = from;
    job->work.data = job;
    if (uv_queue_work(api->config.loop, &job->work, submit_work, submit_done) != 0) {
        submit_job_free(job);
    }
}

/* Commits and rejections ------------------------------------------------------------- */

static void record_latency(gov_api *api, uint64_t ms)
{
    int bucket = 0;
    while (bucket < GOV_API_LATENCY_BUCKETS && (double)ms > GOV_API_LATENCY_BOUNDS_MS[bucket]) {
        bucket++;
    }
    api->latency_counts[bucket]++;
    api->latency_sum_ms += (double)ms;
    api->latency_count++;
}

void gov_api_waiters_committed(gov_api *api, const gov_block *block, const gov_hash *hash)
{
    if (api->waiters == NULL) {
        return;
    }
    gov_suite suite = gov_api_suite(api);
    for (uint32_t t = 0; t < block->txs_count; t++) {
        gov_hash id;
        if (gov_tx_id(suite, &block->txs[t], &id) != 0) {
            continue;
        }
        for (waiter *w = api->waiters, *next; w != NULL; w = next) {
            next = w->next;
            for (uint32_t i = 0; i < w->count; i++) {
                if (gov_hash_equal(&w->ids[i], &id)) {
                    json_t *result = json_array_get(w->results, i);
                    json_object_set_new(result, "status", json_string("committed"));
                    json_object_set_new(result, "height", gov_json_u64(block->header.height));
                    json_object_set_new(result, "index", json_integer(t));
                    json_object_set_new(result, "block_hash", gov_json_hash(hash));
                    w->remaining--;
                    if (w->remaining == 0) {
                        record_latency(api, uv_now(api->config.loop) - w->started_ms);
                        waiter_finish(w, w->rejected == 0 ? 200 : 422);
                    }
                    break;
                }
            }
        }
    }
}

void gov_api_rejected(gov_api *api, const gov_hash *tx_id, gov_reject reason)
{
    for (waiter *w = api->waiters, *next; w != NULL; w = next) {
        next = w->next;
        for (uint32_t i = 0; i < w->count; i++) {
            if (gov_hash_equal(&w->ids[i], tx_id)) {
                json_t *result = json_array_get(w->results, i);
                json_object_set_new(result, "status", json_string("rejected"));
                json_object_set_new(result, "reason", json_string(gov_reject_code(reason)));
                json_object_set_new(result, "message", json_string(gov_reject_message(reason)));
                w->rejected++;
                if (--w->remaining == 0) {
                    waiter_finish(w, 422);
                }
                break;
            }
        }
    }
}

void gov_api_waiters_close(gov_api *api)
{
    while (api->waiters != NULL) {
        waiter_finish(api->waiters, 503);
    }
}
