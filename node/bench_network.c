/*
 * `govchain bench network`: a four-department network and an observer as real processes
 * on loopback (what `govchain localnet` runs), under a load of signed ISSUE records sent
 * in batches to every validator. It measures:
 *   - records committed per second under that load;
 *   - how far the observer falls behind the validators (sampled every 100 ms);
 *   - `replay --from` of a validator's whole history: transactions re-verified per
 *     second, beside the same run's signature verifications on every core.
 */
#include <inttypes.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "govchain/error.h"
#include "govchain/keyfile.h"
#include "govchain/kv.h"
#include "govchain/replay.h"
#include "node/bench.h"
#include "node/cli.h"
#include "node/client.h"
#include "node/file.h"
#include "node/remote_blocks.h"
#include "node/verify_pool.h"

#define COMMAND "bench"

enum { NODES = 4, BATCH = 100, PATH_LEN = 1024 };

static double now_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static pid_t spawn_govchain(const char *const *args, const char *log)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *out = log != NULL ? freopen(log, "a", stdout) : NULL;
        if (log != NULL && (out == NULL || dup2(fileno(stdout), STDERR_FILENO) < 0)) {
            _exit(127);
        }
        execv("/proc/self/exe", (char *const *)args);
        _exit(127);
    }
    return pid;
}

static bool get_status(const char *url, uint64_t *height, uint64_t *mempool)
{
    char target[256], why[200];
    snprintf(target, sizeof(target), "%s/v1/status", url);
    gov_http_response response;
    if (gov_http_fetch("GET", target, NULL, NULL, 0, 5000, &response, why, sizeof(why)) != 0) {
        return false;
    }
    json_error_t error;
    json_t *body = json_loadb((const char *)response.body.data, response.body.len, 0, &error);
    gov_buf_free(&response.body);
    bool ok = json_is_integer(json_object_get(body, "height"));
    if (ok) {
        *height = (uint64_t)json_integer_value(json_object_get(body, "height"));
        if (mempool != NULL) {
            *mempool = (uint64_t)json_integer_value(
                json_object_get(json_object_get(body, "mempool"), "txs"));
        }
    }
    json_decref(body);
    return ok;
}

/* {"txs": [hex ...]}: BATCH signed ISSUEs of new documents. */
static char *batch_body(const gov_private_key *key, const gov_hash *chain_id, gov_suite suite,
                        uint64_t *serial)
{
    json_t *txs = json_array();
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t now_ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
    for (int i = 0; i < BATCH && txs != NULL; i++) {
        gov_tx tx;
        memset(&tx, 0, sizeof(tx));
        tx.version = GOV_TX_VERSION;
        tx.kind = GOV_TX_ISSUE;
        tx.chain_id = *chain_id;
        strcpy(tx.department, "market-regulation");
        tx.nonce = ++*serial;
        tx.created_ms = now_ms;
        gov_issue *issue = &tx.payload.issue;
        uint8_t seed[16];
        RAND_bytes(seed, sizeof(seed));
        gov_hash_bytes(suite, seed, sizeof(seed), &issue->doc_hash);
        issue->doc_class = GOV_DOC_CLASS_CERTIFICATE;
        strcpy(issue->doc_type, "business-licence");
        issue->subject_ref = issue->doc_hash;
        issue->valid_from_ms = now_ms;
        gov_buf encoded;
        gov_buf_init(&encoded);
        char *hex = NULL;
        if (gov_tx_sign(&tx, key) == 0 && gov_tx_encode(&tx, &encoded) == 0 &&
            (hex = malloc(2 * encoded.len + 1)) != NULL) {
            gov_hex_encode(encoded.data, encoded.len, hex);
            json_array_append_new(txs, json_string(hex));
        }
        free(hex);
        gov_buf_free(&encoded);
    }
    json_t *body = json_pack("{s:o}", "txs", txs);
    char *text = body == NULL ? NULL : json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return text;
}

typedef struct {
    char dir[PATH_LEN];
    unsigned base;
    pid_t pids[NODES + 1];
    char urls[NODES + 1][64]; /* [NODES]: the observer */
} network;

static void stop_all(network *net)
{
    for (int i = 0; i <= NODES; i++) {
        if (net->pids[i] > 0) {
            kill(net->pids[i], SIGTERM);
        }
    }
    for (int i = 0; i <= NODES; i++) {
        if (net->pids[i] > 0) {
            waitpid(net->pids[i], NULL, 0);
        }
    }
}

static int start_network(network *net, gov_suite suite, char *why, size_t why_len)
{
    char base[16];
    snprintf(base, sizeof(base), "%u", net->base);
    const char *init[] = {
        "govchain",    "localnet", "--init", "--dir", net->dir, "--suite", gov_suite_name(suite),
        "--base-port", base,       NULL};
    int status = 0;
    pid_t pid = spawn_govchain(init, "/dev/null");
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return gov_fail(why, why_len, GOV_EIO, "govchain localnet --init failed");
    }
    char homes[NODES + 1][PATH_LEN + 16], logs[NODES + 1][PATH_LEN + 32];
    for (int i = 0; i < NODES; i++) {
        snprintf(homes[i], sizeof(homes[i]), "%.1000s/node%d", net->dir, i);
        snprintf(net->urls[i], sizeof(net->urls[i]), "http://127.0.0.1:%u", net->base + 1000 + i);
    }
    snprintf(homes[NODES], sizeof(homes[NODES]), "%.1000s/observer", net->dir);
    snprintf(net->urls[NODES], sizeof(net->urls[NODES]), "http://127.0.0.1:%u",
             net->base + 1000 + 99);
    char config[1024];
    snprintf(config, sizeof(config),
             "[node]\nrole = observer\ngenesis = ../genesis.json\n[api]\nlisten = "
             "127.0.0.1:%u\n[observer]\nsource.0 = %s\nsource.1 = %s\n[log]\nformat = json\n",
             net->base + 1000 + 99, net->urls[0], net->urls[1]);
    char path[PATH_LEN + 64];
    snprintf(path, sizeof(path), "%.1030s/config.ini", homes[NODES]);
    FILE *file = mkdir(homes[NODES], 0700) == 0 ? fopen(path, "w") : NULL;
    if (file == NULL || fputs(config, file) < 0 || fclose(file) != 0) {
        return gov_fail(why, why_len, GOV_EIO, "cannot write %s", path);
    }
    for (int i = 0; i <= NODES; i++) {
        snprintf(logs[i], sizeof(logs[i]), "%.1030s/node.log", homes[i]);
        const char *args[] = {"govchain", "node", "--home", homes[i], NULL};
        net->pids[i] = spawn_govchain(args, logs[i]);
    }
    for (int tries = 0; tries < 300; tries++) {
        int up = 0;
        uint64_t height;
        for (int i = 0; i <= NODES; i++) {
            up += get_status(net->urls[i], &height, NULL);
        }
        if (up == NODES + 1) {
            return 0;
        }
        struct timespec pause = {0, 100000000};
        nanosleep(&pause, NULL);
    }
    return gov_fail(why, why_len, GOV_EIO, "the nodes did not start (logs in %s)", net->dir);
}

int gov_bench_network_load(gov_suite suite, const gov_bench_options *options)
{
    network net;
    memset(&net, 0, sizeof(net));
    char *dir = gov_bench_temp_dir();
    char why[400] = "";
    if (dir == NULL) {
        return gov_cli_failure(COMMAND, "network: cannot make a temporary directory");
    }
    snprintf(net.dir, sizeof(net.dir), "%s/net", dir);
    net.base = 18000 + (unsigned)(getpid() % 300) * 20; /* below the ephemeral range */
    int rc = start_network(&net, suite, why, sizeof(why));
    gov_private_key *key = NULL;
    gov_hash chain_id;
    gov_suite chain_suite = suite;
    if (rc == 0) {
        char path[PATH_LEN + 32];
        snprintf(path, sizeof(path), "%s/keys/market-regulation.pem", net.dir);
        rc = gov_keyfile_read(suite, path, &key, why, sizeof(why));
    }
    if (rc == 0) {
        rc = gov_client_chain(net.urls[0], &chain_id, &chain_suite, NULL, why, sizeof(why));
    }

    /* Load, with the observer's lag sampled between batches. */
    uint64_t serial = 0, sent = 0, samples = 0, lag_sum = 0, lag_max = 0;
    double start = now_seconds(), next_sample = start;
    uint64_t start_height = 0;
    get_status(net.urls[0], &start_height, NULL);
    for (int i = 0; rc == 0 && now_seconds() - start < options->seconds; i++) {
        char *body = batch_body(key, &chain_id, chain_suite, &serial);
        char url[128];
        snprintf(url, sizeof(url), "%s/v1/txs", net.urls[i % NODES]);
        gov_http_response response;
        if (body != NULL && gov_http_fetch("POST", url, "application/json", body, strlen(body),
                                           60000, &response, why, sizeof(why)) == 0) {
            sent += response.status == 202 ? BATCH : 0;
            gov_buf_free(&response.body);
        }
        free(body);
        if (now_seconds() >= next_sample) {
            uint64_t validators = 0, observer = 0;
            if (get_status(net.urls[0], &validators, NULL) &&
                get_status(net.urls[NODES], &observer, NULL)) {
                uint64_t lag = validators > observer ? validators - observer : 0;
                lag_sum += lag;
                lag_max = lag > lag_max ? lag : lag_max;
                samples++;
            }
            next_sample = now_seconds() + 0.1;
        }
    }
    /* Until every accepted record is committed. */
    uint64_t height = 0, mempool = 1;
    for (int tries = 0; rc == 0 && tries < 600 && mempool > 0; tries++) {
        struct timespec pause = {0, 100000000};
        nanosleep(&pause, NULL);
        get_status(net.urls[0], &height, &mempool);
    }
    double load_seconds = now_seconds() - start;

    /* Replay of node 1's whole history from its API, beside verifications on all cores. */
    gov_remote_blocks *remote = NULL;
    gov_kv *store = NULL;
    gov_ledger *target = NULL;
    gov_replay_summary summary = {0};
    double replay_seconds = 0;
    gov_network *keys = gov_bench_network(suite);
    char genesis_path[PATH_LEN + 32];
    snprintf(genesis_path, sizeof(genesis_path), "%s/genesis.json", net.dir);
    gov_genesis *genesis = NULL;
    if (rc == 0) {
        rc = gov_genesis_load(genesis_path, &genesis, why, sizeof(why));
    }
    if (rc == 0) {
        rc = gov_remote_blocks_open(net.urls[1], &remote, why, sizeof(why));
    }
    if (rc == 0 && (rc = gov_kv_memory_open(&store)) == 0) {
        rc = gov_ledger_open(genesis, store, &target, why, sizeof(why));
    }
    if (rc == 0) {
        gov_verify_pool *pool = gov_verify_pool_open(genesis, gov_verify_threads());
        gov_replay_verifier verifier = gov_verify_for_replay(pool);
        gov_replay_source source = gov_remote_blocks_source(remote);
        double replay_start = now_seconds();
        rc = gov_replay_from(&source, target, 0, pool != NULL ? &verifier : NULL, NULL, NULL,
                             &summary, why, sizeof(why));
        replay_seconds = now_seconds() - replay_start;
        gov_verify_pool_close(pool);
    }
    stop_all(&net);
    double baseline = keys != NULL ? gov_bench_verify_rate(keys, gov_verify_threads(), 2.0) : 0;

    int code = GOV_EXIT_OK;
    if (rc != 0 || keys == NULL) {
        code = gov_cli_failure(COMMAND, "network: %s", why[0] ? why : gov_strerror(rc));
    } else {
        printf("network (%s): %" PRIu64 " records accepted and committed in %.1f s under load, "
               "%.0f records/s (%" PRIu64 " blocks)\n",
               gov_suite_name(suite), sent, load_seconds, (double)sent / load_seconds,
               height - start_height);
        printf("network (%s): observer lag under that load: max %" PRIu64
               " blocks, mean %.2f (%" PRIu64 " samples, 100 ms apart)\n",
               gov_suite_name(suite), lag_max, samples ? (double)lag_sum / (double)samples : 0.0,
               samples);
        double rate = (double)summary.transactions / replay_seconds;
        printf("network (%s): replay --from a node: %" PRIu64 " transactions in %" PRIu64
               " blocks, %.0f transactions/s; baseline %.0f verifications/s on all cores; "
               "ratio %.3f\n",
               gov_suite_name(suite), summary.transactions, summary.blocks, rate, baseline,
               rate / baseline);
    }
    gov_ledger_close(target);
    gov_kv_close(store);
    gov_remote_blocks_close(remote);
    gov_genesis_free(genesis);
    gov_private_key_free(key);
    gov_network_free(keys);
    gov_bench_remove_dir(dir);
    return code;
}
