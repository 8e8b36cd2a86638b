/*
 * Transaction signatures verified on every core (see node/verify_pool.h).
 *
 * Design note. The pool holds a queue of jobs, in the order they were started, each a
 * block whose transactions are handed out in chunks of CHUNK_TXS: a thread takes the
 * next chunk of the first job in the queue, checks it without the lock, and reports it;
 * a job leaves the queue when its last chunk is handed out and is complete when its last
 * chunk is reported. So the oldest job (the block the replay waits for) is served first,
 * and later jobs keep the threads busy while the replay's own thread executes and
 * commits. Chunks are small enough that no thread is left with much more work than the
 * others at the end of a block, and large enough that the lock is taken rarely (once per
 * chunk, against a millisecond or so of verification). Once a job has a bad signature
 * its remaining chunks are handed out unchecked: the verdict is already known, and the
 * replay then names the bad transaction by executing the block with every check.
 *
 * The thread that finishes a job takes that job's remaining chunks itself rather than
 * sleep; with no threads at all (none could start) it checks the whole block, so the
 * verdict never depends on threads being available.
 */
#include "node/verify_pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "govchain/assert.h"
#include "govchain/rules.h"

enum { CHUNK_TXS = 16 };

struct gov_verify_job {
    const gov_block *block;
    uint32_t handed;      /* transactions handed out to be checked */
    uint32_t checked;     /* transactions whose check is over */
    bool all_valid;       /* no bad signature found so far */
    gov_verify_job *next; /* in the queue, while chunks are left to hand out */
};

struct gov_verify_pool {
    const gov_genesis *genesis;
    pthread_mutex_t lock;
    pthread_cond_t work; /* a job was queued, or the pool is closing */
    pthread_cond_t done; /* a job is complete */
    gov_verify_job *first;
    gov_verify_job *last;
    bool closing;
    unsigned threads;
    pthread_t ids[GOV_VERIFY_THREADS_MAX];
};

/* A chunk taken from a job: count transactions from first; skip when the job already
 * failed. */
typedef struct {
    gov_verify_job *job;
    uint32_t first;
    uint32_t count;
    bool skip;
} chunk;

unsigned gov_verify_threads(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) {
        return 1;
    }
    return cores > GOV_VERIFY_THREADS_MAX ? GOV_VERIFY_THREADS_MAX : (unsigned)cores;
}

/* Under the lock: takes the job's next chunk; a job with nothing left to hand out
 * leaves the queue. */
static chunk take_chunk(gov_verify_pool *pool, gov_verify_job *job)
{
    uint32_t left = job->block->txs_count - job->handed;
    GOV_ASSERT(left > 0);
    chunk taken = {.job = job, .first = job->handed, .skip = !job->all_valid};
    taken.count = taken.skip || left < CHUNK_TXS ? left : CHUNK_TXS;
    job->handed += taken.count;
    if (job->handed == job->block->txs_count) {
        gov_verify_job **link = &pool->first;
        gov_verify_job *before = NULL;
        while (*link != job) {
            GOV_ASSERT(*link != NULL);
            before = *link;
            link = &(*link)->next;
        }
        *link = job->next;
        if (pool->last == job) {
            pool->last = before;
        }
        job->next = NULL;
    }
    return taken;
}

/* Without the lock: checks the chunk's transactions, stopping at the first bad one. */
static bool check_chunk(const gov_verify_pool *pool, const chunk *taken)
{
    const gov_tx *txs = taken->job->block->txs + taken->first;
    for (uint32_t i = 0; i < taken->count && !taken->skip; i++) {
        if (gov_rules_check_signature(pool->genesis, &txs[i]) != GOV_REJECT_NONE) {
            return false;
        }
    }
    return true;
}

/* Under the lock: reports a checked chunk. */
static void report_chunk(gov_verify_pool *pool, const chunk *taken, bool valid)
{
    gov_verify_job *job = taken->job;
    job->all_valid = job->all_valid && valid;
    job->checked += taken->count;
    if (job->checked == job->block->txs_count) {
        pthread_cond_broadcast(&pool->done);
    }
}

static void *work(void *arg)
{
    gov_verify_pool *pool = arg;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (pool->first == NULL && !pool->closing) {
            pthread_cond_wait(&pool->work, &pool->lock);
        }
        if (pool->first == NULL) {
            break; /* closing, and nothing left */
        }
        chunk taken = take_chunk(pool, pool->first);
        pthread_mutex_unlock(&pool->lock);
        bool valid = check_chunk(pool, &taken);
        pthread_mutex_lock(&pool->lock);
        report_chunk(pool, &taken, valid);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

gov_verify_pool *gov_verify_pool_open(const gov_genesis *genesis, unsigned threads)
{
    gov_verify_pool *pool = calloc(1, sizeof(*pool));
    if (pool == NULL) {
        return NULL;
    }
    pool->genesis = genesis;
    if (pthread_mutex_init(&pool->lock, NULL) != 0) {
        free(pool);
        return NULL;
    }
    if (pthread_cond_init(&pool->work, NULL) != 0) {
        pthread_mutex_destroy(&pool->lock);
        free(pool);
        return NULL;
    }
    if (pthread_cond_init(&pool->done, NULL) != 0) {
        pthread_cond_destroy(&pool->work);
        pthread_mutex_destroy(&pool->lock);
        free(pool);
        return NULL;
    }
    if (threads > GOV_VERIFY_THREADS_MAX) {
        threads = GOV_VERIFY_THREADS_MAX;
    }
    /* A thread that cannot start leaves its share to the others, or to the finisher. */
    while (pool->threads < threads &&
           pthread_create(&pool->ids[pool->threads], NULL, work, pool) == 0) {
        pool->threads++;
    }
    return pool;
}

void gov_verify_pool_close(gov_verify_pool *pool)
{
    if (pool == NULL) {
        return;
    }
    pthread_mutex_lock(&pool->lock);
    GOV_ASSERT(pool->first == NULL);
    pool->closing = true;
    pthread_cond_broadcast(&pool->work);
    pthread_mutex_unlock(&pool->lock);
    for (unsigned t = 0; t < pool->threads; t++) {
        pthread_join(pool->ids[t], NULL);
    }
    pthread_cond_destroy(&pool->done);
    pthread_cond_destroy(&pool->work);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

gov_verify_job *gov_verify_start(gov_verify_pool *pool, const gov_block *block)
{
    gov_verify_job *job = calloc(1, sizeof(*job));
    if (job == NULL) {
        return NULL;
    }
    job->block = block;
    job->all_valid = true;
    if (block->txs_count == 0) {
        return job; /* complete already */
    }
    pthread_mutex_lock(&pool->lock);
    if (pool->last == NULL) {
        pool->first = job;
    } else {
        pool->last->next = job;
    }
    pool->last = job;
    pthread_cond_broadcast(&pool->work);
    pthread_mutex_unlock(&pool->lock);
    return job;
}

bool gov_verify_finish(gov_verify_pool *pool, gov_verify_job *job)
{
    if (job == NULL) {
        return false;
    }
    pthread_mutex_lock(&pool->lock);
    while (job->checked < job->block->txs_count) {
        if (job->handed < job->block->txs_count) {
            chunk taken = take_chunk(pool, job);
            pthread_mutex_unlock(&pool->lock);
            bool valid = check_chunk(pool, &taken);
            pthread_mutex_lock(&pool->lock);
            report_chunk(pool, &taken, valid);
        } else {
            pthread_cond_wait(&pool->done, &pool->lock);
        }
    }
    bool all_valid = job->all_valid;
    pthread_mutex_unlock(&pool->lock);
    free(job);
    return all_valid;
}

static void *replay_start(void *arg, const gov_block *block)
{
    return gov_verify_start(arg, block);
}

static bool replay_finish(void *arg, void *job)
{
    return gov_verify_finish(arg, job);
}

gov_replay_verifier gov_verify_for_replay(gov_verify_pool *pool)
{
    return (gov_replay_verifier){.start = replay_start, .finish = replay_finish, .arg = pool};
}
