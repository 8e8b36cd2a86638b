/*
 * The node's PBFT driver (node/driver.h).
 *
 * A batch is one ready, copied out of the replica so the replica can take the next
 * input at once. Its life: batch_work (in the lane: commits, persist, equivocation
 * evidence kept, blocks read for peers), then batch_done (on the loop: committed callbacks,
 * messages, frames for peers, and the validate / build jobs, which go into the lane behind it).
 */
#include "node/driver.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "govchain/assert.h"
#include "govchain/error.h"
#include "node/evidence.h"

static const uint8_t DURABLE_KEY[] = {'C', 'p', 'b', 'f', 't'};

typedef struct {
    uint64_t height;
    gov_hash digest;
    gov_buf block;
    gov_commit_cert cert;
    gov_block decoded; /* filled in the lane */
} batch_commit;

typedef struct {
    uint32_t to;
    gov_buf bytes;
} batch_message;

typedef struct batch {
    gov_driver *driver;
    size_t commits_count;
    batch_commit *commits;
    bool persist;
    gov_buf durable;
    size_t messages_count;
    batch_message *messages;
    gov_pbft_validate validate;
    gov_buf validate_block;
    gov_pbft_build build;
    size_t serves_count;
    gov_pbft_serve serves[GOV_PBFT_READY_SERVES_MAX];
    size_t evidence_count;
    gov_equivocation evidence[GOV_PBFT_READY_EVIDENCE_MAX];
    /* Frames read in the lane for the serves. */
    size_t frames_count, frames_capacity;
    batch_message *frames;
    /* Set by the lane when a write failed. */
    int failed;
    char why[256];
} batch;

typedef struct {
    gov_driver *driver;
    uint64_t height;
    gov_hash digest;
    gov_buf bytes;
    bool ok;
    char why[256];
} validate_job;

typedef struct {
    gov_driver *driver;
    bool prune; /* only to find what the ledger would refuse, not to propose */
    uint64_t height;
    uint32_t count;
    gov_tx *candidates;
    gov_hash *ids;
    gov_reject *verdicts;
    gov_buf bytes;
    gov_hash digest;
    uint32_t included;
    int rc;
    char why[256];
} build_job;

struct gov_driver {
    gov_driver_config config;
    gov_driver_callbacks callbacks;
    gov_pbft *replica;
    uv_timer_t timer;
    bool timer_open;
    bool stopping;
    size_t batches_in_lane;
    size_t jobs; /* this driver's jobs in the lane (batches, validations, builds) */
    bool failed; /* a lane job failed to write: nothing after it may write or send */
    void (*stopped_cb)(void *arg);
    void *stopped_arg;
};

static uint64_t wall_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

static void drive(gov_driver *driver);

/* Once stopping and the lane has drained, tells whoever asked. */
static void maybe_stopped(gov_driver *driver)
{
    /* The lane is shared (API checks, an observer's follower): wait for our own jobs only,
     * each of which calls this when it is done. */
    if (driver->stopping && !driver->timer_open && driver->jobs == 0 &&
        driver->stopped_cb != NULL) {
        void (*cb)(void *) = driver->stopped_cb;
        driver->stopped_cb = NULL;
        cb(driver->stopped_arg);
    }
}

/* Batches ------------------------------------------------------------------------------ */

static void batch_free(batch *b)
{
    for (size_t i = 0; i < b->commits_count; i++) {
        gov_buf_free(&b->commits[i].block);
        gov_block_clear(&b->commits[i].decoded);
    }
    free(b->commits);
    gov_buf_free(&b->durable);
    for (size_t i = 0; i < b->messages_count; i++) {
        gov_buf_free(&b->messages[i].bytes);
    }
    free(b->messages);
    gov_buf_free(&b->validate_block);
    for (size_t i = 0; i < b->frames_count; i++) {
        gov_buf_free(&b->frames[i].bytes);
    }
    free(b->frames);
    free(b);
}

/* Copies what the replica asked for. NULL when out of memory (the node then stops: a
 * ready that cannot be carried out whole must not be carried out in part). */
static batch *batch_from(gov_driver *driver, const gov_pbft_ready *ready)
{
    batch *b = calloc(1, sizeof(*b));
    if (b == NULL) {
        return NULL;
    }
    b->driver = driver;
    gov_buf_init(&b->durable);
    gov_buf_init(&b->validate_block);
    bool ok = true;
    if (ready->commits_count > 0) {
        b->commits = calloc(ready->commits_count, sizeof(*b->commits));
        ok = b->commits != NULL;
        for (size_t i = 0; ok && i < ready->commits_count; i++) {
            batch_commit *c = &b->commits[i];
            c->height = ready->commits[i].height;
            c->digest = ready->commits[i].digest;
            c->cert = ready->commits[i].cert;
            gov_buf_init(&c->block);
            gov_buf_append(&c->block, ready->commits[i].block, ready->commits[i].block_len);
            b->commits_count++;
            ok = gov_buf_ok(&c->block);
        }
    }
    if (ok && ready->persist) {
        b->persist = true;
        gov_buf_append(&b->durable, ready->durable.data, ready->durable.len);
        ok = gov_buf_ok(&b->durable);
    }
    if (ok && ready->messages_count > 0) {
        b->messages = calloc(ready->messages_count, sizeof(*b->messages));
        ok = b->messages != NULL;
        for (size_t i = 0; ok && i < ready->messages_count; i++) {
            b->messages[i].to = ready->messages[i].to;
            gov_buf_init(&b->messages[i].bytes);
            gov_buf_append(&b->messages[i].bytes, ready->messages[i].bytes.data,
                           ready->messages[i].bytes.len);
            b->messages_count++;
            ok = gov_buf_ok(&b->messages[i].bytes);
        }
    }
    if (ok && ready->validate.requested) {
        b->validate = ready->validate;
        gov_buf_append(&b->validate_block, ready->validate.block, ready->validate.block_len);
        b->validate.block = NULL; /* the copy is validate_block */
        ok = gov_buf_ok(&b->validate_block);
    }
    b->build = ready->build;
    b->serves_count = ready->serves_count;
    memcpy(b->serves, ready->serves, ready->serves_count * sizeof(*b->serves));
    b->evidence_count = ready->evidence_count;
    memcpy(b->evidence, ready->evidence, ready->evidence_count * sizeof(*b->evidence));
    if (!ok) {
        batch_free(b);
        return NULL;
    }
    return b;
}

static bool batch_needs_lane(const batch *b)
{
    return b->commits_count > 0 || b->persist || b->serves_count > 0 || b->evidence_count > 0;
}

static void add_frame(batch *b, uint32_t to, gov_buf *bytes)
{
    if (b->frames_count == b->frames_capacity) {
        size_t capacity = b->frames_capacity == 0 ? 16 : 2 * b->frames_capacity;
        batch_message *grown = realloc(b->frames, capacity * sizeof(*grown));
        if (grown == NULL) {
            gov_buf_free(bytes);
            return; /* the peer asks again */
        }
        b->frames = grown;
        b->frames_capacity = capacity;
    }
    b->frames[b->frames_count].to = to;
    b->frames[b->frames_count].bytes = *bytes;
    b->frames_count++;
}

/* In the lane. */
static void batch_work(void *arg)
{
    batch *b = arg;
    gov_driver *driver = b->driver;
    if (driver->failed) {
        /* An earlier batch failed to write: later state must not reach the store (it
         * would claim heights the ledger does not have), nor messages the network. */
        b->failed = GOV_EIO;
        snprintf(b->why, sizeof(b->why), "an earlier write failed");
        return;
    }
    if (b->commits_count > 0) {
        pthread_rwlock_wrlock(driver->config.ledger_lock);
        for (size_t i = 0; i < b->commits_count && b->failed == 0; i++) {
            batch_commit *c = &b->commits[i];
            b->failed =
                gov_block_decode(c->block.data, c->block.len, &c->decoded, b->why, sizeof(b->why));
            if (b->failed == 0) {
                b->failed = gov_ledger_commit(driver->config.ledger, &c->decoded, &c->cert, b->why,
                                              sizeof(b->why));
            }
        }
        pthread_rwlock_unlock(driver->config.ledger_lock);
    }
    if (b->failed == 0 && b->persist) {
        b->failed = gov_kv_put(driver->config.store, DURABLE_KEY, sizeof(DURABLE_KEY),
                               b->durable.data, b->durable.len, b->why, sizeof(b->why));
    }
    for (size_t i = 0; i < b->evidence_count && b->failed == 0; i++) {
        b->failed =
            gov_evidence_keep(driver->config.store, &b->evidence[i], b->why, sizeof(b->why));
    }
    for (size_t s = 0; s < b->serves_count && b->failed == 0; s++) {
        const gov_pbft_serve *serve = &b->serves[s];
        for (uint64_t h = serve->from; h < serve->from + serve->count; h++) {
            gov_block block;
            gov_commit_cert cert;
            char why[160];
            if (gov_ledger_block_get(driver->config.ledger, h, &block, &cert, why, sizeof(why)) !=
                0) {
                break;
            }
            gov_buf encoded, frame;
            gov_buf_init(&encoded);
            gov_buf_init(&frame);
            if (gov_block_encode(&block, &encoded) == 0 &&
                gov_pbft_block_message_encode(h, encoded.data, encoded.len, &cert, &frame) == 0) {
                add_frame(b, serve->to, &frame);
            } else {
                gov_buf_free(&frame);
            }
            gov_buf_free(&encoded);
            gov_block_clear(&block);
        }
    }
}

static void start_validate(gov_driver *driver, batch *b);
static void start_build(gov_driver *driver, const gov_pbft_build *build, bool prune);

/* On the loop, after batch_work (or instead of it, for a batch with no lane work). */
static void batch_done(void *arg)
{
    batch *b = arg;
    gov_driver *driver = b->driver;
    if (b->failed != 0) {
        bool first = !driver->failed;
        driver->failed = true;
        if (first) {
            driver->callbacks.fatal_cb(driver->callbacks.arg, b->why);
        }
        batch_free(b);
        return;
    }
    for (size_t i = 0; i < b->commits_count; i++) {
        gov_log_position(driver->config.log, b->commits[i].height, gov_pbft_view(driver->replica));
        driver->callbacks.committed_cb(driver->callbacks.arg, &b->commits[i].decoded,
                                       &b->commits[i].digest);
    }
    for (size_t i = 0; i < b->messages_count; i++) {
        driver->callbacks.send_cb(driver->callbacks.arg, b->messages[i].to,
                                  b->messages[i].bytes.data, b->messages[i].bytes.len);
    }
    for (size_t i = 0; i < b->frames_count; i++) {
        driver->callbacks.send_cb(driver->callbacks.arg, b->frames[i].to, b->frames[i].bytes.data,
                                  b->frames[i].bytes.len);
    }
    if (b->validate.requested && !driver->stopping) {
        start_validate(driver, b);
    }
    if (b->build.requested && !driver->stopping) {
        start_build(driver, &b->build, false);
    }
    bool committed = b->commits_count > 0;
    batch_free(b);
    if (committed && !driver->stopping && gov_mempool_count(driver->config.mempool) > 0) {
        /* What the mempool still holds may have become invalid with this block (a
         * document revoked, a duplicate): find out as a primary would, so that a backup
         * does not wait on transactions no primary will ever propose and change views
         * for nothing. */
        gov_pbft_build prune = {.requested = true, .height = gov_pbft_height(driver->replica) + 1};
        start_build(driver, &prune, true);
    }
    if (committed && !driver->stopping) {
        /* The committed callbacks took transactions out of the mempool. */
        gov_pbft_set_pending(driver->replica, gov_mempool_count(driver->config.mempool) > 0,
                             uv_now(driver->config.loop));
        drive(driver);
    }
}

static void batch_lane_done(void *arg)
{
    batch *b = arg;
    gov_driver *driver = b->driver;
    driver->batches_in_lane--;
    driver->jobs--;
    batch_done(b);
    maybe_stopped(driver);
}

/* Validation ------------------------------------------------------------------------- */

static void validate_work(void *arg)
{
    validate_job *job = arg;
    gov_driver *driver = job->driver;
    gov_block block;
    if (gov_block_decode(job->bytes.data, job->bytes.len, &block, job->why, sizeof(job->why)) !=
        0) {
        return;
    }
    bool signatures_ok = false;
    if (driver->config.verify != NULL) {
        signatures_ok = gov_verify_finish(driver->config.verify,
                                          gov_verify_start(driver->config.verify, &block));
    }
    gov_ledger_checks checks = {.check_clock = true, .now_ms = wall_ms()};
    checks.signatures_checked = signatures_ok;
    gov_hash digest;
    if (gov_ledger_validate(driver->config.ledger, &block, &checks, &digest, job->why,
                            sizeof(job->why)) == 0) {
        job->ok = gov_hash_equal(&digest, &job->digest);
        if (!job->ok) {
            snprintf(job->why, sizeof(job->why), "the block's hash is not the proposed digest");
        }
    }
    gov_block_clear(&block);
}

static void validate_done(void *arg)
{
    validate_job *job = arg;
    gov_driver *driver = job->driver;
    driver->jobs--;
    if (!job->ok) {
        gov_log(driver->config.log, GOV_LOG_WARN, "invalid-block", "height %llu refused: %s",
                (unsigned long long)job->height, job->why);
    }
    if (!driver->stopping) {
        gov_pbft_validated(driver->replica, job->height, &job->digest, job->ok,
                           uv_now(driver->config.loop));
        drive(driver);
    }
    gov_buf_free(&job->bytes);
    free(job);
    maybe_stopped(driver);
}

static void start_validate(gov_driver *driver, batch *b)
{
    validate_job *job = calloc(1, sizeof(*job));
    if (job == NULL) {
        driver->callbacks.fatal_cb(driver->callbacks.arg, "out of memory");
        return;
    }
    job->driver = driver;
    job->height = b->validate.height;
    job->digest = b->validate.digest;
    job->bytes = b->validate_block; /* taken */
    gov_buf_init(&b->validate_block);
    driver->jobs++;
    if (gov_lane_submit(driver->config.lane, validate_work, validate_done, job) != 0) {
        driver->jobs--;
        gov_buf_free(&job->bytes);
        free(job);
        driver->callbacks.fatal_cb(driver->callbacks.arg, "out of memory");
    }
}

/* Building ---------------------------------------------------------------------------- */

static void build_job_free(build_job *job)
{
    for (uint32_t i = 0; i < job->count; i++) {
        gov_tx_clear(&job->candidates[i]);
    }
    free(job->candidates);
    free(job->ids);
    free(job->verdicts);
    gov_buf_free(&job->bytes);
    free(job);
}

static void build_work(void *arg)
{
    build_job *job = arg;
    gov_driver *driver = job->driver;
    const gov_ledger_head *head = gov_ledger_head_get(driver->config.ledger);
    if (head->height + 1 != job->height) {
        job->rc = GOV_EINVAL; /* the replica moved on meanwhile */
        return;
    }
    if (job->prune) {
        /* Only the verdicts: a block validated meanwhile stays ready for its commit. */
        job->rc = gov_ledger_check(driver->config.ledger, wall_ms(), job->candidates, job->count,
                                   job->verdicts, job->why, sizeof(job->why));
        return;
    }
    gov_block block;
    job->rc = gov_ledger_build(driver->config.ledger, wall_ms(), driver->config.pbft.self,
                               job->candidates, job->count, job->verdicts, &block, &job->included,
                               job->why, sizeof(job->why));
    if (job->rc != 0) {
        return;
    }
    if (job->included > 0 && !job->prune) {
        job->rc = gov_block_encode(&block, &job->bytes);
        if (job->rc == 0) {
            job->rc = gov_block_hash(gov_ledger_genesis(driver->config.ledger)->suite,
                                     &block.header, &job->digest);
        }
    }
    gov_block_clear(&block);
}

static void build_done(void *arg)
{
    build_job *job = arg;
    gov_driver *driver = job->driver;
    driver->jobs--;
    if (job->rc == 0) {
        for (uint32_t i = 0; i < job->count; i++) {
            /* A transaction is reported once, by whichever build removes it first. */
            if (job->verdicts[i] != GOV_REJECT_NONE &&
                gov_mempool_remove(driver->config.mempool, &job->ids[i])) {
                driver->callbacks.rejected_cb(driver->callbacks.arg, &job->ids[i],
                                              job->verdicts[i]);
            }
        }
    } else if (job->rc != GOV_EINVAL) {
        gov_log(driver->config.log, GOV_LOG_ERROR, "build", "building block %llu failed: %s",
                (unsigned long long)job->height, job->why);
    }
    if (!driver->stopping && job->prune) {
        gov_pbft_set_pending(driver->replica, gov_mempool_count(driver->config.mempool) > 0,
                             uv_now(driver->config.loop));
        drive(driver);
    } else if (!driver->stopping) {
        bool built = job->rc == 0 && job->included > 0;
        gov_pbft_built(driver->replica, job->height, &job->digest, built ? job->bytes.data : NULL,
                       built ? job->bytes.len : 0, uv_now(driver->config.loop));
        if (gov_mempool_count(driver->config.mempool) > 0) {
            /* What was left out (no room, or refused) may still make a block. */
            gov_pbft_set_pending(driver->replica, true, uv_now(driver->config.loop));
        }
        drive(driver);
    }
    build_job_free(job);
    maybe_stopped(driver);
}

static void start_build(gov_driver *driver, const gov_pbft_build *build, bool prune)
{
    const gov_genesis *genesis = gov_ledger_genesis(driver->config.ledger);
    uint32_t room = genesis->consensus.block_txs_max;
    build_job *job = calloc(1, sizeof(*job));
    const gov_tx **batch_txs = calloc(room == 0 ? 1 : room, sizeof(*batch_txs));
    if (job != NULL) {
        job->ids = calloc(room == 0 ? 1 : room, sizeof(*job->ids));
        job->candidates = calloc(room == 0 ? 1 : room, sizeof(*job->candidates));
        job->verdicts = calloc(room == 0 ? 1 : room, sizeof(*job->verdicts));
    }
    if (job == NULL || batch_txs == NULL || job->ids == NULL || job->candidates == NULL ||
        job->verdicts == NULL) {
        free(batch_txs);
        if (job != NULL) {
            build_job_free(job);
        }
        driver->callbacks.fatal_cb(driver->callbacks.arg, "out of memory");
        return;
    }
    job->driver = driver;
    job->prune = prune;
    job->height = build->height;
    gov_buf_init(&job->bytes);
    uint32_t count = gov_mempool_batch(driver->config.mempool, room,
                                       genesis->consensus.block_bytes_max, batch_txs, job->ids);
    for (uint32_t i = 0; i < count; i++) {
        if (gov_tx_copy(batch_txs[i], &job->candidates[i]) != 0) {
            break;
        }
        job->count++;
    }
    free(batch_txs);
    driver->jobs++;
    if (gov_lane_submit(driver->config.lane, build_work, build_done, job) != 0) {
        driver->jobs--;
        build_job_free(job);
        driver->callbacks.fatal_cb(driver->callbacks.arg, "out of memory");
    }
}

/* The replica's outbox ---------------------------------------------------------------- */

static void on_timer(uv_timer_t *timer)
{
    gov_driver *driver = timer->data;
    if (!driver->stopping) {
        gov_pbft_tick(driver->replica, uv_now(driver->config.loop));
        drive(driver);
    }
}

static void log_events(gov_driver *driver, const gov_pbft_ready *ready)
{
    for (size_t i = 0; i < ready->events_count; i++) {
        const gov_pbft_event *e = &ready->events[i];
        static const char *const names[] = {"dropped",      "view-change", "new-view",
                                            "equivocation", "catch-up",    "consensus"};
        gov_log_level level = e->kind == GOV_PBFT_EVENT_EQUIVOCATION ? GOV_LOG_WARN
                              : e->kind == GOV_PBFT_EVENT_DROPPED    ? GOV_LOG_DEBUG
                                                                     : GOV_LOG_INFO;
        gov_log(driver->config.log, level, names[e->kind], "%s", e->text);
    }
}

/* Takes the replica's ready, copies it into a batch and carries it out in order. */
static void drive(gov_driver *driver)
{
    gov_pbft_ready *ready = gov_pbft_ready_get(driver->replica);
    gov_log_position(driver->config.log, gov_pbft_height(driver->replica),
                     gov_pbft_view(driver->replica));
    log_events(driver, ready);
    uint64_t timer_ms = ready->timer_ms;
    batch *b = batch_from(driver, ready);
    gov_pbft_ready_done(driver->replica);
    if (b == NULL) {
        driver->callbacks.fatal_cb(driver->callbacks.arg,
                                   "out of memory carrying out consensus effects");
        return;
    }
    if (timer_ms != 0) {
        uint64_t now = uv_now(driver->config.loop);
        uv_timer_start(&driver->timer, on_timer, timer_ms > now ? timer_ms - now : 0, 0);
    } else {
        uv_timer_stop(&driver->timer);
    }
    if (!batch_needs_lane(b) && driver->batches_in_lane == 0) {
        batch_done(b);
        return;
    }
    driver->batches_in_lane++;
    driver->jobs++;
    if (gov_lane_submit(driver->config.lane, batch_work, batch_lane_done, b) != 0) {
        driver->batches_in_lane--;
        driver->jobs--;
        batch_free(b);
        driver->callbacks.fatal_cb(driver->callbacks.arg, "out of memory");
    }
}

/* Life ----------------------------------------------------------------------------------- */

int gov_driver_start(const gov_driver_config *config, const gov_driver_callbacks *callbacks,
                     gov_driver **out, char *why, size_t why_len)
{
    *out = NULL;
    gov_driver *driver = calloc(1, sizeof(*driver));
    if (driver == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
    }
    driver->config = *config;
    driver->callbacks = *callbacks;

    uint8_t *durable = NULL;
    size_t durable_len = 0;
    int rc = gov_kv_get(config->store, DURABLE_KEY, sizeof(DURABLE_KEY), &durable, &durable_len,
                        why, why_len);
    if (rc == GOV_ENOENT) {
        rc = 0;
    }
    const gov_ledger_head *head = gov_ledger_head_get(config->ledger);
    gov_pbft_head pbft_head = {.height = head->height, .digest = head->hash};
    if (head->height == 0) {
        pbft_head.digest = gov_ledger_genesis(config->ledger)->hash;
    }
    gov_block block;
    gov_commit_cert cert;
    gov_buf encoded;
    gov_buf_init(&encoded);
    memset(&block, 0, sizeof(block));
    if (rc == 0 && head->height > 0) {
        rc = gov_ledger_block_get(config->ledger, head->height, &block, &cert, why, why_len);
        if (rc == 0) {
            rc = gov_block_encode(&block, &encoded);
        }
        pbft_head.block = encoded.data;
        pbft_head.block_len = encoded.len;
        pbft_head.cert = &cert;
    }
    if (rc == 0) {
        rc = gov_pbft_open(&config->pbft, &pbft_head, durable, durable_len, uv_now(config->loop),
                           &driver->replica, why, why_len);
    }
    free(durable);
    gov_block_clear(&block);
    gov_buf_free(&encoded);
    if (rc != 0) {
        free(driver);
        return rc;
    }
    uv_timer_init(config->loop, &driver->timer);
    driver->timer.data = driver;
    driver->timer_open = true;
    gov_log_position(config->log, head->height, gov_pbft_view(driver->replica));
    *out = driver; /* first: a fatal callback from the first drive can then stop it */
    drive(driver);
    gov_driver_mempool_changed(driver);
    return 0;
}

void gov_driver_receive(gov_driver *driver, uint32_t from, const uint8_t *bytes, size_t len)
{
    if (driver->stopping) {
        return;
    }
    gov_pbft_receive(driver->replica, from, bytes, len, uv_now(driver->config.loop));
    drive(driver);
}

void gov_driver_mempool_changed(gov_driver *driver)
{
    if (driver->stopping) {
        return;
    }
    gov_pbft_set_pending(driver->replica, gov_mempool_count(driver->config.mempool) > 0,
                         uv_now(driver->config.loop));
    drive(driver);
}

const gov_pbft *gov_driver_replica(const gov_driver *driver)
{
    return driver->replica;
}

static void timer_closed(uv_handle_t *handle)
{
    gov_driver *driver = handle->data;
    driver->timer_open = false;
    maybe_stopped(driver);
}

void gov_driver_stop(gov_driver *driver, void (*done_cb)(void *arg), void *arg)
{
    driver->stopping = true;
    driver->stopped_cb = done_cb;
    driver->stopped_arg = arg;
    uv_timer_stop(&driver->timer);
    uv_close((uv_handle_t *)&driver->timer, timer_closed);
}

void gov_driver_free(gov_driver *driver)
{
    if (driver == NULL) {
        return;
    }
    GOV_ASSERT(!driver->timer_open);
    gov_pbft_free(driver->replica);
    free(driver);
}
