/*
 * `govchain bench apply|tree|commit|replay`: the ledger's speed, each figure printed
 * beside a baseline measured in the same run, so that the ratio means something on a
 * shared, noisy machine:
 *
 *   apply   records applied per second with signature checks excluded, beside one
 *           thread's signature verifications per second;
 *   tree    state-tree updates per second, beside hashes per second (65-byte inputs,
 *           as the tree hashes);
 *   commit  blocks committed per second to LevelDB with sync, beside synced LevelDB
 *           writes per second of the same size;
 *   replay  transactions replayed per second (every certificate, signature and root
 *           re-verified, signatures on every core), beside the verifications per second
 *           that all cores together allow.
 *
 * The workload is a network from gov_network_create: ISSUE transactions of business
 * licences by market-regulation, each with its own document hash.
 */
/* nftw, to remove the temporary store. */
#define _XOPEN_SOURCE 700
#include "node/bench.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ftw.h>
#include <sys/stat.h>

#include "govchain/error.h"
#include "govchain/kv.h"
#include "govchain/kv_leveldb.h"
#include "govchain/ledger.h"
#include "govchain/network.h"
#include "govchain/quorum.h"
#include "govchain/replay.h"
#include "govchain/rules.h"
#include "govchain/smt.h"
#include "govchain/state.h"
#include "node/cli.h"
#include "node/verify_pool.h"

#define COMMAND         "bench"
#define GENESIS_TIME_MS 1767225600000ULL

static double now_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* count ISSUE transactions (signed when sign is set), document hashes from `first`. */
static gov_tx *make_issues(const gov_network *network, uint64_t first, uint32_t count, bool sign)
{
    gov_tx *txs = calloc(count, sizeof(gov_tx));
    for (uint32_t i = 0; txs != NULL && i < count; i++) {
        gov_tx *tx = &txs[i];
        uint64_t n = first + i;
        tx->version = GOV_TX_VERSION;
        tx->kind = GOV_TX_ISSUE;
        tx->chain_id = network->genesis->hash;
        strcpy(tx->department, "market-regulation");
        tx->nonce = n;
        tx->created_ms = GENESIS_TIME_MS + 1000;
        gov_issue *issue = &tx->payload.issue;
        gov_hash_bytes(network->genesis->suite, &n, sizeof(n), &issue->doc_hash);
        issue->doc_class = GOV_DOC_CLASS_CERTIFICATE;
        strcpy(issue->doc_type, "business-licence");
        gov_hash_bytes(network->genesis->suite, issue->doc_hash.bytes, GOV_HASH_LEN,
                       &issue->subject_ref);
        issue->valid_from_ms = GENESIS_TIME_MS;
        if (sign && gov_tx_sign(tx, network->department_keys[0]) != 0) {
            free(txs);
            return NULL;
        }
    }
    return txs;
}

/* Verifications per second on `threads` threads together, for about `seconds`. */
typedef struct {
    const gov_genesis *genesis;
    const gov_tx *tx;
    double seconds;
    uint64_t done;
} verify_job;

static void *verify_for_a_while(void *arg)
{
    verify_job *job = arg;
    double start = now_seconds();
    do {
        for (int i = 0; i < 16; i++) {
            if (gov_rules_check_signature(job->genesis, job->tx) != GOV_REJECT_NONE) {
                return NULL;
            }
        }
        job->done += 16;
    } while (now_seconds() - start < job->seconds);
    return NULL;
}

double gov_bench_verify_rate(const gov_network *network, unsigned threads, double seconds)
{
    gov_tx *tx = make_issues(network, 0, 1, true);
    if (tx == NULL) {
        return 0;
    }
    verify_job jobs[GOV_VERIFY_THREADS_MAX];
    pthread_t ids[GOV_VERIFY_THREADS_MAX];
    double start = now_seconds();
    for (unsigned t = 0; t < threads; t++) {
        jobs[t] = (verify_job){.genesis = network->genesis, .tx = tx, .seconds = seconds};
        if (t > 0 && pthread_create(&ids[t], NULL, verify_for_a_while, &jobs[t]) != 0) {
            threads = t;
            break;
        }
    }
    verify_for_a_while(&jobs[0]);
    uint64_t done = jobs[0].done;
    for (unsigned t = 1; t < threads; t++) {
        pthread_join(ids[t], NULL);
        done += jobs[t].done;
    }
    double elapsed = now_seconds() - start;
    free(tx);
    return (double)done / elapsed;
}

gov_network *gov_bench_network(gov_suite suite)
{
    gov_network *network = NULL;
    char why[512] = "";
    if (gov_network_create(suite, 4, GENESIS_TIME_MS, "bench", &network, why, sizeof(why)) != 0) {
        gov_cli_failure(COMMAND, "cannot create a network: %s", why);
        return NULL;
    }
    return network;
}

static void print_ratio(gov_suite suite, const char *what, double rate, const char *unit,
                        const char *baseline_name, double baseline)
{
    printf("%s %s: %.0f %s; baseline %s: %.0f/s; ratio %.3f\n", gov_suite_name(suite), what, rate,
           unit, baseline_name, baseline, rate / baseline);
    fflush(stdout);
}

int gov_bench_apply(gov_suite suite, const gov_bench_options *options)
{
    enum { RECORDS = 20000 };
    gov_network *network = gov_bench_network(suite);
    gov_tx *txs = network != NULL ? make_issues(network, 0, RECORDS, false) : NULL;
    if (txs == NULL) {
        gov_network_free(network);
        return GOV_EXIT_FAILED;
    }
    gov_hash *ids = calloc(RECORDS, sizeof(gov_hash));
    for (uint32_t i = 0; ids != NULL && i < RECORDS; i++) {
        gov_tx_id(suite, &txs[i], &ids[i]);
    }
    uint64_t applied = 0;
    double busy = 0;
    int status = ids != NULL ? GOV_EXIT_OK : GOV_EXIT_FAILED;
    while (status == GOV_EXIT_OK && busy < options->seconds) {
        gov_kv *store = NULL;
        gov_kv *overlay = NULL;
        if (gov_kv_memory_open(&store) != 0 || gov_kv_overlay_open(store, &overlay) != 0) {
            gov_kv_close(store);
            status = gov_cli_failure(COMMAND, "out of memory");
            break;
        }
        gov_hash root;
        gov_smt_empty_root(&root);
        gov_state state;
        gov_state_init(&state, network->genesis, overlay, &root);
        gov_block_context block = {
            .height = 1, .time_ms = GENESIS_TIME_MS + 1000, .signatures_checked = true};
        double start = now_seconds();
        for (uint32_t i = 0; i < RECORDS && status == GOV_EXIT_OK; i++) {
            gov_reject verdict;
            char why[256];
            if (gov_rules_execute(&state, &block, i, &txs[i], &ids[i], &verdict, why,
                                  sizeof(why)) != 0 ||
                verdict != GOV_REJECT_NONE) {
                status = gov_cli_failure(COMMAND, "a record was not applied");
            }
        }
        char why[256];
        if (status == GOV_EXIT_OK && gov_state_flush(&state, why, sizeof(why)) != 0) {
            status = gov_cli_failure(COMMAND, "the state tree: %s", why);
        }
        busy += now_seconds() - start;
        applied += RECORDS;
        gov_state_clear(&state);
        gov_kv_close(overlay);
        gov_kv_close(store);
    }
    if (status == GOV_EXIT_OK) {
        print_ratio(suite, "apply", (double)applied / busy,
                    "records/s without signature checks (1 thread)", "signatures verified",
                    gov_bench_verify_rate(network, 1, 1.0));
    }
    free(ids);
    free(txs);
    gov_network_free(network);
    return status;
}

/* Updates per second into a growing tree: one by one, or in batches of `batch` as the
 * ledger writes a block's changes (gov_smt_update_many). */
static double tree_updates(gov_suite suite, unsigned seconds, size_t batch)
{
    enum { UPDATES = 20000 };
    gov_smt_entry *entries = calloc(batch, sizeof(gov_smt_entry));
    uint64_t updates = 0;
    double busy = 0;
    for (uint64_t round = 0; entries != NULL && busy < seconds; round++) {
        gov_kv *store = NULL;
        gov_kv *overlay = NULL;
        if (gov_kv_memory_open(&store) != 0 || gov_kv_overlay_open(store, &overlay) != 0) {
            gov_kv_close(store);
            free(entries);
            return -1;
        }
        gov_smt tree = {.suite = suite, .store = overlay};
        gov_hash root;
        gov_smt_empty_root(&root);
        double start = now_seconds();
        for (uint64_t i = 0; i < UPDATES; i += batch) {
            for (size_t k = 0; k < batch; k++) {
                uint64_t seed[2] = {round, i + k};
                gov_hash_bytes(suite, seed, sizeof(seed), &entries[k].key);
                entries[k].value_hash = entries[k].key;
            }
            int rc = batch == 1 ? gov_smt_update(&tree, &root, &entries[0].key,
                                                 &entries[0].value_hash, &root, NULL, 0)
                                : gov_smt_update_many(&tree, &root, entries, batch, &root, NULL, 0);
            if (rc != 0) {
                free(entries);
                return -1;
            }
        }
        busy += now_seconds() - start;
        updates += UPDATES;
        gov_kv_close(overlay);
        gov_kv_close(store);
    }
    bool allocated = entries != NULL;
    free(entries);
    return allocated ? (double)updates / busy : -1;
}

int gov_bench_tree(gov_suite suite, const gov_bench_options *options)
{
    uint8_t input[65] = {1};
    uint64_t hashes = 0;
    gov_hash out;
    double start = now_seconds();
    do {
        for (int i = 0; i < 1024; i++) {
            gov_hash_bytes(suite, input, sizeof(input), &out);
            input[1] = out.bytes[0];
        }
        hashes += 1024;
    } while (now_seconds() - start < 1.0);
    double hash_rate = (double)hashes / (now_seconds() - start);
    double single = tree_updates(suite, options->seconds, 1);
    double batched = tree_updates(suite, options->seconds, 1000);
    if (single < 0 || batched < 0) {
        return gov_cli_failure(COMMAND, "a state-tree update failed");
    }
    print_ratio(suite, "tree", single, "updates/s one by one, trees of up to 20000 documents",
                "65-byte hashes", hash_rate);
    print_ratio(suite, "tree", batched, "updates/s in batches of 1000 (one block's), same trees",
                "65-byte hashes", hash_rate);
    return GOV_EXIT_OK;
}

/* A temporary directory for a LevelDB store, removed with everything in it. */
char *gov_bench_temp_dir(void)
{
    const char *base = getenv("TMPDIR");
    char template[4096];
    snprintf(template, sizeof(template), "%s/govchain-bench-XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    char *made = mkdtemp(template);
    return made != NULL ? strdup(made) : NULL;
}

static int remove_entry(const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void)info;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void gov_bench_remove_dir(char *dir)
{
    if (dir != NULL) {
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(dir);
    }
}

/* A certificate for block signed by a quorum of the network's validators. */
static int certify(const gov_network *network, const gov_block *block, gov_commit_cert *cert)
{
    memset(cert, 0, sizeof(*cert));
    cert->height = block->header.height;
    int rc = gov_block_hash(network->genesis->suite, &block->header, &cert->digest);
    uint32_t votes = gov_quorum_size(network->validators_count);
    for (uint32_t v = 0; v < votes && rc == 0; v++) {
        gov_pbft_message commit = {.type = GOV_PBFT_COMMIT};
        commit.body.phase.height = cert->height;
        commit.body.phase.sender = v;
        commit.body.phase.digest = cert->digest;
        rc = gov_pbft_message_sign(&commit, network->validator_keys[v], &network->genesis->hash);
        cert->votes[v].validator = v;
        memcpy(cert->votes[v].signature, commit.body.phase.signature, GOV_SIGNATURE_LEN);
    }
    cert->votes_count = votes;
    return rc;
}

/* Builds and commits `blocks` blocks of `per_block` transactions on ledger; the time
 * spent in gov_ledger_commit alone goes to *commit_seconds (may be NULL). */
int gov_bench_grow_chain(const gov_network *network, gov_ledger *ledger, uint32_t blocks,
                         uint32_t per_block, double *commit_seconds)
{
    gov_reject *verdicts = calloc(per_block, sizeof(gov_reject));
    int rc = verdicts != NULL ? 0 : GOV_ENOMEM;
    char why[512] = "";
    for (uint32_t b = 0; b < blocks && rc == 0; b++) {
        uint64_t height = gov_ledger_head_get(ledger)->height;
        gov_tx *txs = make_issues(network, height * per_block, per_block, true);
        gov_block block = {0};
        gov_commit_cert cert;
        uint32_t included = 0;
        rc = txs == NULL
                 ? GOV_ENOMEM
                 : gov_ledger_build(ledger, GENESIS_TIME_MS + 1000 + height, 0, txs, per_block,
                                    verdicts, &block, &included, why, sizeof(why));
        if (rc == 0 && included != per_block) {
            rc = gov_fail(why, sizeof(why), GOV_EINVAL, "only %u of %u applied", included,
                          per_block);
        }
        if (rc == 0) {
            rc = certify(network, &block, &cert);
        }
        double start = now_seconds();
        if (rc == 0) {
            rc = gov_ledger_commit(ledger, &block, &cert, why, sizeof(why));
        }
        if (commit_seconds != NULL) {
            *commit_seconds += now_seconds() - start;
        }
        gov_block_clear(&block);
        for (uint32_t i = 0; txs != NULL && i < per_block; i++) {
            gov_tx_clear(&txs[i]);
        }
        free(txs);
    }
    free(verdicts);
    if (rc != 0) {
        gov_cli_failure(COMMAND, "growing the chain: %s", why[0] ? why : gov_strerror(rc));
    }
    return rc;
}

/* Synced writes per second of one value of `bytes` bytes, for about a second. */
static double synced_writes(gov_kv *store, size_t bytes)
{
    uint8_t *value = calloc(1, bytes);
    uint64_t writes = 0;
    double start = now_seconds();
    do {
        uint8_t key[9] = {'x'};
        memcpy(key + 1, &writes, sizeof(writes));
        if (value == NULL || gov_kv_put(store, key, sizeof(key), value, bytes, NULL, 0) != 0) {
            break;
        }
        writes++;
    } while (now_seconds() - start < 1.0);
    free(value);
    return (double)writes / (now_seconds() - start);
}

int gov_bench_commit(gov_suite suite, const gov_bench_options *options)
{
    enum { PER_BLOCK = 100 };
    gov_network *network = gov_bench_network(suite);
    char *dir = network != NULL ? gov_bench_temp_dir() : NULL;
    gov_kv *store = NULL;
    gov_ledger *ledger = NULL;
    char why[512] = "";
    int rc = dir == NULL ? GOV_EIO : gov_kv_leveldb_open(dir, true, &store, why, sizeof(why));
    if (rc == 0) {
        rc = gov_ledger_open(network->genesis, store, &ledger, why, sizeof(why));
    }
    double committing = 0;
    uint32_t blocks = 0;
    double start = now_seconds();
    while (rc == 0 && now_seconds() - start < options->seconds) {
        rc = gov_bench_grow_chain(network, ledger, 10, PER_BLOCK, &committing);
        blocks += 10;
    }
    if (rc == 0) {
        gov_block block;
        gov_commit_cert cert;
        gov_buf record;
        gov_buf_init(&record);
        rc = gov_ledger_block_get(ledger, 1, &block, &cert, why, sizeof(why));
        if (rc == 0) {
            rc = gov_block_record_encode(&block, &cert, &record);
            gov_block_clear(&block);
        }
        if (rc == 0) {
            char unit[128];
            snprintf(unit, sizeof(unit), "blocks/s of %d transactions, synced", PER_BLOCK);
            print_ratio(suite, "commit", blocks / committing, unit,
                        "synced LevelDB writes of a block's size",
                        synced_writes(store, record.len));
        }
        gov_buf_free(&record);
    }
    if (rc != 0 && why[0] != '\0') {
        gov_cli_failure(COMMAND, "%s", why);
    }
    gov_ledger_close(ledger);
    gov_kv_close(store);
    gov_bench_remove_dir(dir);
    gov_network_free(network);
    return rc == 0 ? GOV_EXIT_OK : GOV_EXIT_FAILED;
}

int gov_bench_replay(gov_suite suite, const gov_bench_options *options)
{
    gov_network *network = gov_bench_network(suite);
    char *dir = network != NULL ? gov_bench_temp_dir() : NULL;
    gov_kv *source_store = NULL;
    gov_kv *target_store = NULL;
    gov_ledger *source = NULL;
    gov_ledger *target = NULL;
    char why[512] = "";
    int rc =
        dir == NULL ? GOV_EIO : gov_kv_leveldb_open(dir, true, &source_store, why, sizeof(why));
    if (rc == 0) {
        rc = gov_ledger_open(network->genesis, source_store, &source, why, sizeof(why));
    }
    /* About options->seconds of replay at the expected rate: blocks of 1000. */
    uint32_t blocks = suite == GOV_SUITE_SM2_SM3 ? 2 * options->seconds : 10 * options->seconds;
    if (rc == 0) {
        rc = gov_bench_grow_chain(network, source, blocks, 1000, NULL);
    }
    if (rc == 0 && (rc = gov_kv_memory_open(&target_store)) == 0) {
        rc = gov_ledger_open(network->genesis, target_store, &target, why, sizeof(why));
    }
    gov_replay_summary summary;
    double start = now_seconds();
    gov_verify_pool *pool =
        rc == 0 ? gov_verify_pool_open(network->genesis, gov_verify_threads()) : NULL;
    if (rc == 0 && pool == NULL) {
        rc = gov_fail(why, sizeof(why), GOV_ENOMEM, "cannot start the verifying threads");
    }
    if (rc == 0) {
        gov_replay_verifier verifier = gov_verify_for_replay(pool);
        rc = gov_replay(source, target, 0, &verifier, NULL, NULL, &summary, why, sizeof(why));
    }
    double elapsed = now_seconds() - start;
    gov_verify_pool_close(pool);
    if (rc == 0) {
        unsigned threads = gov_verify_threads();
        char baseline[96];
        snprintf(baseline, sizeof(baseline), "signatures verified on %u threads", threads);
        print_ratio(suite, "replay", (double)summary.transactions / elapsed,
                    "transactions/s, everything re-verified", baseline,
                    gov_bench_verify_rate(network, threads, 2.0));
    } else if (why[0] != '\0') {
        gov_cli_failure(COMMAND, "replay: %s", why);
    }
    gov_ledger_close(target);
    gov_ledger_close(source);
    gov_kv_close(target_store);
    gov_kv_close(source_store);
    gov_bench_remove_dir(dir);
    gov_network_free(network);
    return rc == 0 ? GOV_EXIT_OK : GOV_EXIT_FAILED;
}
