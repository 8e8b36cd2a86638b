/* Transaction signatures verified on every core (see node/verify_pool.h). */
#include "node/verify_pool.h"

#include <pthread.h>
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

void gov_verify_block(const gov_genesis *genesis, const gov_block *block, unsigned threads,
                      bool *all_valid)
{
    share shares[GOV_VERIFY_THREADS_MAX];
    if (threads < 1 || block->txs_count < 2 * threads) {
        threads = 1; /* a thread costs more than a few verifications */
    }
    if (threads > GOV_VERIFY_THREADS_MAX) {
        threads = GOV_VERIFY_THREADS_MAX;
    }
    uint32_t per = (block->txs_count + threads - 1) / threads;
    for (unsigned t = 0; t < threads; t++) {
        uint32_t first = t * per < block->txs_count ? t * per : block->txs_count;
        uint32_t left = block->txs_count - first;
        shares[t] = (share){
            .genesis = genesis, .txs = block->txs + first, .count = left < per ? left : per};
        /* The calling thread takes share 0; a share whose thread cannot start is done
         * here too, so the answer never depends on threads being available. */
        shares[t].threaded =
            t > 0 && pthread_create(&shares[t].thread, NULL, verify_share, &shares[t]) == 0;
    }
    *all_valid = true;
    for (unsigned t = 0; t < threads; t++) {
        if (shares[t].threaded) {
            pthread_join(shares[t].thread, NULL);
        } else {
            verify_share(&shares[t]);
        }
        *all_valid = *all_valid && shares[t].all_valid;
    }
}
