/* Transaction signatures verified on every core (see node/verify_pool.h). */
#include "node/verify_pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "govchain/rules.h"

/* One thread's share of a block. */
typedef struct {
    const gov_genesis *genesis;
    const gov_tx *txs;
    uint32_t count;
    bool all_valid;
    bool threaded;
    pthread_t thread;
} share;

static void *verify_share(void *arg)
{
    share *mine = arg;
    mine->all_valid = true;
    for (uint32_t i = 0; i < mine->count && mine->all_valid; i++) {
        mine->all_valid =
            gov_rules_check_signature(mine->genesis, &mine->txs[i]) == GOV_REJECT_NONE;
    }
    return NULL;
}

unsigned gov_verify_threads(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) {
        return 1;
    }
    return cores > GOV_VERIFY_THREADS_MAX ? GOV_VERIFY_THREADS_MAX : (unsigned)cores;
}

struct gov_verify_job {
    unsigned count;
    share shares[GOV_VERIFY_THREADS_MAX];
};

/* Splits block over `threads` shares; share 0 runs on a thread too when background. */
static void split(gov_verify_job *job, const gov_genesis *genesis, const gov_block *block,
                  unsigned threads, bool background)
{
    if (threads < 1 || block->txs_count < 2 * threads) {
        threads = 1; /* a thread costs more than a few verifications */
    }
    if (threads > GOV_VERIFY_THREADS_MAX) {
        threads = GOV_VERIFY_THREADS_MAX;
    }
    job->count = threads;
    uint32_t per = (block->txs_count + threads - 1) / threads;
    for (unsigned t = 0; t < threads; t++) {
        uint32_t first = t * per < block->txs_count ? t * per : block->txs_count;
        uint32_t left = block->txs_count - first;
        share *mine = &job->shares[t];
        *mine = (share){
            .genesis = genesis, .txs = block->txs + first, .count = left < per ? left : per};
        /* A share whose thread cannot start is done by the finishing thread, so the
         * answer never depends on threads being available. */
        mine->threaded =
            (background || t > 0) && pthread_create(&mine->thread, NULL, verify_share, mine) == 0;
    }
}

static void join(gov_verify_job *job, bool *all_valid)
{
    *all_valid = true;
    for (unsigned t = 0; t < job->count; t++) {
        if (job->shares[t].threaded) {
            pthread_join(job->shares[t].thread, NULL);
        } else {
            verify_share(&job->shares[t]);
        }
        *all_valid = *all_valid && job->shares[t].all_valid;
    }
}

gov_verify_job *gov_verify_start(const gov_genesis *genesis, const gov_block *block,
                                 unsigned threads)
{
    gov_verify_job *job = malloc(sizeof(*job));
    if (job != NULL) {
        split(job, genesis, block, threads, true);
    }
    return job;
}

void gov_verify_finish(gov_verify_job *job, bool *all_valid)
{
    if (job == NULL) {
        *all_valid = false; /* could not start: the caller verifies the slow way */
        return;
    }
    join(job, all_valid);
    free(job);
}

void gov_verify_block(const gov_genesis *genesis, const gov_block *block, unsigned threads,
                      bool *all_valid)
{
    gov_verify_job job;
    split(&job, genesis, block, threads, false);
    join(&job, all_valid);
}

static void *replay_start(void *arg, const gov_block *block)
{
    return gov_verify_start(arg, block, gov_verify_threads());
}

static bool replay_finish(void *arg, void *job)
{
    (void)arg;
    bool all_valid = false;
    gov_verify_finish(job, &all_valid);
    return all_valid;
}

gov_replay_verifier gov_verify_for_replay(const gov_genesis *genesis)
{
    /* The verifier's argument is not const; the jobs only read the genesis. */
    return (gov_replay_verifier){
        .start = replay_start, .finish = replay_finish, .arg = (void *)genesis};
}
