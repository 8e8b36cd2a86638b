/* An observer's follower (node/follower.h). */
#include "node/follower.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "govchain/error.h"
#include "node/remote_blocks.h"

enum {
    WAIT_MS = 2000,    /* long poll for the next block */
    BATCH_BLOCKS = 50, /* blocks committed per job */
    RETRY_MS = 1000,   /* after a source failed, or answered a long poll early with nothing */
    /* With several sources, when the current one has brought nothing for this long the
     * others are asked for their heads, and one that is ahead of us is taken instead: a
     * source that is stale, or lies that it is, cannot hold an observer back, and on an
     * idle chain the observer stays where it is. */
    PROBE_MS = 10000,
};

typedef struct {
    gov_block block;
    gov_hash hash;
} committed;

struct gov_follower {
    gov_follower_config config;
    char sources[GOV_FOLLOWER_SOURCES_MAX][1024];
    uint32_t current;
    gov_remote_blocks *remote;  /* the lane's, between jobs */
    uint64_t source_height;     /* the loop's */
    uint64_t job_source_height; /* the lane job's, copied in follow_done */
    uv_timer_t retry;
    uint64_t job_started_ms;   /* the loop's clock when the running job started */
    uint64_t last_progress_ms; /* when a job last committed a block (or the sources were asked) */
    bool probe;                /* set by the loop: the next job asks the other sources first */
    int probe_switched_from;   /* set by that job: the source it left, or -1 */
    bool stopping, running;
    void (*stopped_cb)(void *arg);
    void *stopped_arg;
    /* The job's results. */
    committed done[BATCH_BLOCKS];
    uint32_t done_count;
    int rc;
    char why[512];
};

static void start_job(gov_follower *f);

/* In the lane: asks each other source for its head and takes the first that is ahead of
 * ours in place of the current one (which stays when none is). */
static void probe_sources(gov_follower *f, uint64_t head)
{
    f->probe_switched_from = -1;
    for (uint32_t k = 1; k < f->config.sources_count; k++) {
        uint32_t i = (f->current + k) % f->config.sources_count;
        gov_remote_blocks *other = NULL;
        char why[256];
        if (gov_remote_blocks_open(f->sources[i], &other, why, sizeof(why)) != 0) {
            continue;
        }
        if (gov_remote_blocks_head(other) > head) {
            gov_remote_blocks_close(f->remote);
            f->remote = other;
            f->probe_switched_from = (int)f->current;
            f->current = i;
            return;
        }
        gov_remote_blocks_close(other);
    }
}

/* In the lane: waits for blocks above our head, then checks and commits up to a batch. */
static void follow_work(void *arg)
{
    gov_follower *f = arg;
    f->done_count = 0;
    f->rc = 0;
    if (f->probe) {
        f->probe = false;
        probe_sources(f, gov_ledger_head_get(f->config.ledger)->height);
    }
    if (f->remote == NULL) {
        f->rc = gov_remote_blocks_open(f->sources[f->current], &f->remote, f->why, sizeof(f->why));
        if (f->rc != 0) {
            return;
        }
    }
    gov_ledger *ledger = f->config.ledger;
    uint64_t head = gov_ledger_head_get(ledger)->height;
    f->rc = gov_remote_blocks_wait(f->remote, head, WAIT_MS, f->why, sizeof(f->why));
    f->job_source_height = gov_remote_blocks_head(f->remote);
    gov_suite suite = gov_ledger_genesis(ledger)->suite;
    for (uint64_t h = head + 1;
         f->rc == 0 && h <= f->job_source_height && f->done_count < BATCH_BLOCKS; h++) {
        committed *c = &f->done[f->done_count];
        gov_commit_cert cert;
        f->rc = gov_remote_blocks_get(f->remote, h, &c->block, &cert, f->why, sizeof(f->why));
        if (f->rc != 0) {
            break;
        }
        /* Execute outside the lock (it touches only the ledger's pending overlay), then
         * commit under it: the commit checks the certificate and reuses the execution. */
        gov_hash digest;
        gov_ledger_checks checks = {0};
        f->rc = gov_ledger_validate(ledger, &c->block, &checks, &digest, f->why, sizeof(f->why));
        if (f->rc == 0) {
            pthread_rwlock_wrlock(f->config.ledger_lock);
            f->rc = gov_ledger_commit(ledger, &c->block, &cert, f->why, sizeof(f->why));
            pthread_rwlock_unlock(f->config.ledger_lock);
        }
        if (f->rc == 0) {
            f->rc = gov_block_hash(suite, &c->block.header, &c->hash);
        }
        if (f->rc != 0) {
            gov_block_clear(&c->block);
            char inner[512];
            memcpy(inner, f->why, sizeof(inner));
            (void)gov_fail(f->why, sizeof(f->why), f->rc, "block %" PRIu64 ": %s", h, inner);
            break;
        }
        f->done_count++;
    }
    if (f->rc != 0) {
        /* A source that fails or serves a bad block is left for the next one. */
        gov_remote_blocks_close(f->remote);
        f->remote = NULL;
    }
}

static void on_retry(uv_timer_t *timer)
{
    start_job(timer->data);
}

static void follow_done(void *arg)
{
    gov_follower *f = arg;
    f->running = false;
    f->source_height = f->job_source_height;
    for (uint32_t i = 0; i < f->done_count; i++) {
        f->config.committed_cb(f->config.arg, &f->done[i].block, &f->done[i].hash);
        gov_block_clear(&f->done[i].block);
    }
    uint64_t now = uv_now(f->config.loop);
    bool progress = f->done_count > 0;
    f->done_count = 0;
    if (progress) {
        f->last_progress_ms = now;
    }
    if (f->rc != 0) {
        gov_log(f->config.log, GOV_LOG_WARN, "follow", "source %s: %s", f->sources[f->current],
                f->why);
        f->current = (f->current + 1) % f->config.sources_count;
        f->last_progress_ms = now;
    } else if (!progress && f->config.sources_count > 1 && now - f->last_progress_ms >= PROBE_MS) {
        f->probe = true; /* for the next job */
        f->last_progress_ms = now;
    }
    if (f->probe_switched_from >= 0) {
        gov_log(f->config.log, GOV_LOG_INFO, "follow",
                "source %s brought no block for %d s and %s is ahead: following it",
                f->sources[f->probe_switched_from], PROBE_MS / 1000, f->sources[f->current]);
        f->probe_switched_from = -1;
    }
    if (f->stopping) {
        uv_close((uv_handle_t *)&f->retry, NULL);
        if (f->stopped_cb != NULL) {
            f->stopped_cb(f->stopped_arg);
        }
        return;
    }
    /* A long poll answered early with nothing is a source not keeping the protocol:
     * wait before asking again rather than spin on it. */
    bool early_empty = !progress && now - f->job_started_ms < WAIT_MS / 2;
    if (f->rc != 0 || early_empty) {
        uv_timer_start(&f->retry, on_retry, RETRY_MS, 0);
    } else {
        start_job(f);
    }
}

static void start_job(gov_follower *f)
{
    if (f->stopping || f->running) {
        return;
    }
    f->running = true;
    f->job_started_ms = uv_now(f->config.loop);
    if (gov_lane_submit(f->config.lane, follow_work, follow_done, f) != 0) {
        f->running = false;
        uv_timer_start(&f->retry, on_retry, RETRY_MS, 0);
    }
}

int gov_follower_start(const gov_follower_config *config, gov_follower **out, char *why,
                       size_t why_len)
{
    *out = NULL;
    if (config->sources_count == 0 || config->sources_count > GOV_FOLLOWER_SOURCES_MAX) {
        return gov_fail(why, why_len, GOV_EINVAL,
                        "an observer needs 1 to %d sources (observer.source.N)",
                        GOV_FOLLOWER_SOURCES_MAX);
    }
    gov_follower *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
    }
    f->config = *config;
    for (uint32_t i = 0; i < config->sources_count; i++) {
        snprintf(f->sources[i], sizeof(f->sources[i]), "%s", config->sources[i]);
        f->config.sources[i] = f->sources[i];
    }
    uv_timer_init(config->loop, &f->retry);
    f->retry.data = f;
    f->last_progress_ms = uv_now(config->loop);
    f->probe_switched_from = -1;
    start_job(f);
    *out = f;
    return 0;
}

void gov_follower_stop(gov_follower *f, void (*done_cb)(void *arg), void *arg)
{
    f->stopping = true;
    f->stopped_cb = done_cb;
    f->stopped_arg = arg;
    uv_timer_stop(&f->retry);
    if (!f->running) {
        uv_close((uv_handle_t *)&f->retry, NULL);
        if (done_cb != NULL) {
            done_cb(arg);
        }
    }
}

void gov_follower_free(gov_follower *f)
{
    if (f != NULL) {
        gov_remote_blocks_close(f->remote);
        free(f);
    }
}

uint64_t gov_follower_source_height(const gov_follower *f)
{
    return f->source_height;
}
