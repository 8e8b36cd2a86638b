/*
 * The node daemon (node/node.h): start-up in a goto ladder, the callbacks that connect
 * the driver, the peer links and the API, and an orderly stop.
 */
#include "node/node.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "govchain/error.h"
#include "govchain/genesis.h"
#include "govchain/keyfile.h"
#include "govchain/kv_leveldb.h"
#include "govchain/ledger.h"
#include "node/api.h"
#include "node/config.h"
#include "node/driver.h"
#include "node/follower.h"
#include "node/file.h"
#include "node/http.h"
#include "node/lane.h"
#include "node/log.h"
#include "node/mempool.h"
#include "node/peer.h"
#include "node/verify_pool.h"

typedef struct {
    gov_node_config config;
    gov_logger log;
    uv_loop_t loop;
    uv_signal_t sigterm, sigint;
    gov_genesis *genesis;
    gov_kv *store;
    gov_ledger *ledger;
    gov_private_key *key;
    pthread_rwlock_t ledger_lock;
    gov_mempool *mempool;
    gov_lane *lane;
    gov_verify_pool *verify;
    gov_api *api;
    gov_http_server *http;
    gov_peer_net *peers;
    gov_driver *driver;
    gov_follower *follower; /* role = observer */
    char addresses[GOV_VALIDATORS_MAX][GOV_CONFIG_HOST_MAX + 16];
    const char *address_list[GOV_VALIDATORS_MAX];
    char listen[GOV_CONFIG_HOST_MAX + 16];
    uint8_t (*validator_keys)[GOV_PUBLIC_KEY_LEN];
    bool stopping;
    int exit_code;
    int closing; /* components still closing */
    uint64_t commits;
} node;

static void format_address(const gov_address *address, char *out, size_t out_len)
{
    bool v6 = strchr(address->host, ':') != NULL;
    snprintf(out, out_len, v6 ? "[%s]:%u" : "%s:%u", address->host, address->port);
}

/* Stopping --------------------------------------------------------------------------- */

static void component_closed(void *arg)
{
    node *n = arg;
    n->closing--;
    if (n->closing == 0) {
        uv_close((uv_handle_t *)&n->sigterm, NULL);
        uv_close((uv_handle_t *)&n->sigint, NULL);
    }
}

static void driver_stopped(void *arg)
{
    node *n = arg;
    gov_driver_free(n->driver);
    n->driver = NULL;
    component_closed(n);
}

static void stop(node *n, int exit_code)
{
    if (n->stopping) {
        return;
    }
    n->stopping = true;
    n->exit_code = exit_code;
    gov_log(&n->log, GOV_LOG_INFO, "stop", "stopping (%s)",
            exit_code == 0 ? "signal" : "a fatal error");
    n->closing = 1; /* this function's own reference, dropped at the end */
    if (n->api != NULL) {
        gov_api_close(n->api);
    }
    if (n->http != NULL) {
        n->closing++;
        gov_http_server_stop(n->http, component_closed, n);
        n->http = NULL;
    }
    if (n->peers != NULL) {
        n->closing++;
        gov_peer_net_stop(n->peers, component_closed, n);
        n->peers = NULL;
    }
    if (n->driver != NULL) {
        n->closing++;
        gov_driver_stop(n->driver, driver_stopped, n);
    }
    if (n->follower != NULL) {
        n->closing++;
        gov_follower_stop(n->follower, component_closed, n);
    }
    component_closed(n);
}

static void on_signal(uv_signal_t *handle, int signum)
{
    node *n = handle->data;
    gov_log(&n->log, GOV_LOG_INFO, "signal", "received %s",
            signum == SIGTERM ? "SIGTERM" : "SIGINT");
    stop(n, 0);
}

/* Callbacks ----------------------------------------------------------------------------- */

static void on_frame(void *arg, uint32_t validator, const uint8_t *bytes, size_t len)
{
    node *n = arg;
    if (n->stopping) {
        return;
    }
    if (gov_api_is_gossip(bytes, len)) {
        gov_api_gossip_received(n->api, validator, bytes, len);
    } else {
        gov_driver_receive(n->driver, validator, bytes, len);
    }
}

static void on_peer_state(void *arg, uint32_t validator, bool connected)
{
    node *n = arg;
    gov_log(&n->log, GOV_LOG_INFO, "peer", "validator %u %s", validator,
            connected ? "connected" : "disconnected");
}

static void on_peer_log(void *arg, gov_peer_log_level level, const char *text)
{
    node *n = arg;
    gov_log(&n->log, (gov_log_level)level, "peer", "%s", text);
}

static void send_to_peers(void *arg, uint32_t to, const uint8_t *bytes, size_t len)
{
    node *n = arg;
    if (n->peers == NULL) {
        return;
    }
    if (to == GOV_PBFT_ALL) {
        gov_peer_broadcast(n->peers, bytes, len);
    } else {
        gov_peer_send(n->peers, to, bytes, len);
    }
}

static void broadcast_gossip(void *arg, const uint8_t *bytes, size_t len)
{
    send_to_peers(arg, GOV_PBFT_ALL, bytes, len);
}

static void on_committed(void *arg, const gov_block *block, const gov_hash *hash)
{
    node *n = arg;
    gov_suite suite = n->genesis->suite;
    for (uint32_t i = 0; i < block->txs_count; i++) {
        gov_hash id;
        if (gov_tx_id(suite, &block->txs[i], &id) == 0) {
            gov_mempool_remove(n->mempool, &id);
        }
    }
    n->commits++;
    if (n->follower != NULL) {
        gov_log_position(&n->log, block->header.height, 0); /* an observer has no view */
    }
    char hex[2 * GOV_HASH_LEN + 1];
    gov_hex_encode(hash->bytes, GOV_HASH_LEN, hex);
    gov_log(&n->log, GOV_LOG_INFO, "commit", "block %llu, %u txs, hash %s, proposer %u",
            (unsigned long long)block->header.height, block->txs_count, hex,
            block->header.proposer);
    gov_api_committed(n->api, block, hash);
}

static void on_rejected(void *arg, const gov_hash *tx_id, gov_reject reason)
{
    node *n = arg;
    char hex[2 * GOV_HASH_LEN + 1];
    gov_hex_encode(tx_id->bytes, GOV_HASH_LEN, hex);
    gov_log(&n->log, GOV_LOG_INFO, "rejected", "transaction %s: %s", hex, gov_reject_code(reason));
    gov_api_rejected(n->api, tx_id, reason);
}

static void on_fatal(void *arg, const char *why)
{
    node *n = arg;
    gov_log(&n->log, GOV_LOG_ERROR, "fatal", "%s", why);
    stop(n, 1);
}

static void on_mempool_changed(void *arg)
{
    node *n = arg;
    if (n->driver != NULL && !n->stopping) {
        gov_driver_mempool_changed(n->driver);
    }
}

/* What /v1/status and /metrics report of consensus and the peer links. */
typedef struct {
    gov_peer_stats peers;
    gov_pbft_stats consensus;
    uint64_t view, height;
    bool view_active;
} node_counters;

static void read_counters(const node *n, node_counters *out)
{
    memset(out, 0, sizeof(*out));
    if (n->peers != NULL) {
        gov_peer_stats_get(n->peers, &out->peers);
    }
    const gov_pbft *replica = n->driver != NULL ? gov_driver_replica(n->driver) : NULL;
    if (replica != NULL) {
        out->consensus = *gov_pbft_stats_get(replica);
        out->view = gov_pbft_view(replica);
        out->height = gov_pbft_height(replica);
        out->view_active = gov_pbft_view_active(replica);
    }
}

static void add_status(void *arg, json_t *status)
{
    node *n = arg;
    node_counters c;
    read_counters(n, &c);
    if (n->follower != NULL) {
        uint64_t source = gov_follower_source_height(n->follower);
        uint64_t height = gov_api_height(n->api);
        json_object_set_new(status, "node", json_string("observer"));
        json_object_set_new(status, "role", json_string("observer"));
        json_object_set_new(status, "observer",
                            json_pack("{s:I, s:I}", "source_height", (json_int_t)source, "lag",
                                      (json_int_t)(source > height ? source - height : 0)));
        return;
    }
    json_object_set_new(
        status, "node",
        json_string(
            n->genesis->departments[n->genesis->validators[n->config.validator].department].id));
    json_object_set_new(status, "role", json_string("validator"));
    json_object_set_new(status, "validator", json_integer(n->config.validator));
    json_object_set_new(status, "consensus",
                        json_pack("{s:I, s:b, s:I, s:I, s:I}", "view", (json_int_t)c.view,
                                  "view_active", c.view_active, "view_changes",
                                  (json_int_t)c.consensus.view_changes, "equivocations",
                                  (json_int_t)c.consensus.equivocations, "consensus_height",
                                  (json_int_t)c.height));
    json_object_set_new(status, "peers",
                        json_pack("{s:I, s:I}", "connected", (json_int_t)c.peers.peers_connected,
                                  "validators", (json_int_t)n->genesis->validators_count));
}

static void add_metrics(void *arg, gov_buf *out)
{
    node *n = arg;
    if (n->follower != NULL) {
        uint64_t source = gov_follower_source_height(n->follower);
        uint64_t height = gov_api_height(n->api);
        char text[200];
        int len = snprintf(text, sizeof(text),
                           "# TYPE govchain_observer_lag_blocks gauge\n"
                           "govchain_observer_lag_blocks %llu\n",
                           (unsigned long long)(source > height ? source - height : 0));
        gov_buf_append(out, text, (size_t)len);
        return;
    }
    node_counters c;
    read_counters(n, &c);
    char text[1024];
    int len = snprintf(
        text, sizeof(text),
        "# TYPE govchain_view gauge\ngovchain_view %llu\n"
        "# TYPE govchain_view_changes_total counter\ngovchain_view_changes_total %llu\n"
        "# TYPE govchain_equivocations_total counter\ngovchain_equivocations_total %llu\n"
        "# TYPE govchain_peers_connected gauge\ngovchain_peers_connected %u\n"
        "# TYPE govchain_consensus_messages_dropped_total counter\n"
        "govchain_consensus_messages_dropped_total %llu\n"
        "# TYPE govchain_peer_frames_dropped_total counter\n"
        "govchain_peer_frames_dropped_total %llu\n"
        "# TYPE govchain_blocks_committed_total counter\ngovchain_blocks_committed_total %llu\n",
        (unsigned long long)c.view, (unsigned long long)c.consensus.view_changes,
        (unsigned long long)c.consensus.equivocations, c.peers.peers_connected,
        (unsigned long long)c.consensus.dropped, (unsigned long long)c.peers.frames_dropped,
        (unsigned long long)n->commits);
    gov_buf_append(out, text, (size_t)len);
}

/* Start-up --------------------------------------------------------------------------- */

static int load_chain(node *n, char *why, size_t why_len)
{
    int rc = gov_genesis_load(n->config.genesis_path, &n->genesis, why, why_len);
    if (rc != 0) {
        return rc;
    }
    if (n->config.role == GOV_ROLE_OBSERVER) {
        /* An observer holds no key: it cannot sign, so it cannot vote. */
        rc = gov_kv_leveldb_open(n->config.data_dir, true, &n->store, why, why_len);
        return rc != 0 ? rc : gov_ledger_open(n->genesis, n->store, &n->ledger, why, why_len);
    }
    if (n->config.validator >= n->genesis->validators_count) {
        return gov_fail(why, why_len, GOV_EINVAL,
                        "node.validator is %u but genesis has %u validators", n->config.validator,
                        n->genesis->validators_count);
    }
    rc = gov_keyfile_read(n->genesis->suite, n->config.key_path, &n->key, why, why_len);
    if (rc != 0) {
        return rc;
    }
    uint8_t public_key[GOV_PUBLIC_KEY_LEN];
    gov_private_key_public(n->key, public_key);
    if (memcmp(public_key, n->genesis->validators[n->config.validator].public_key,
               GOV_PUBLIC_KEY_LEN) != 0) {
        return gov_fail(why, why_len, GOV_EBADKEY,
                        "%s is not the key genesis lists for validator %u", n->config.key_path,
                        n->config.validator);
    }
    rc = gov_kv_leveldb_open(n->config.data_dir, true, &n->store, why, why_len);
    if (rc != 0) {
        return rc;
    }
    return gov_ledger_open(n->genesis, n->store, &n->ledger, why, why_len);
}

static int start_services(node *n, char *why, size_t why_len)
{
    n->mempool = gov_mempool_new(n->config.mempool_txs_max, n->config.mempool_bytes_max);
    n->lane = gov_lane_new(&n->loop);
    n->verify = gov_verify_pool_open(n->genesis, gov_verify_threads());
    gov_api_config api = {
        .loop = &n->loop,
        .ledger = n->ledger,
        .ledger_lock = &n->ledger_lock,
        .mempool = n->mempool,
        .lane = n->lane,
        .log = &n->log,
        .mempool_changed_cb = on_mempool_changed,
        .broadcast_cb = broadcast_gossip,
        .status_cb = add_status,
        .metrics_cb = add_metrics,
        .arg = n,
        .read_only = n->config.role == GOV_ROLE_OBSERVER,
    };
    n->api = n->mempool != NULL && n->lane != NULL ? gov_api_new(&api) : NULL;
    if (n->api == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
    }

    gov_http_config http;
    gov_http_config_default(&http);
    http.host = n->config.api_listen.host;
    http.port = n->config.api_listen.port;
    http.connections_max = n->config.api_connections_max;
    http.body_bytes_max = n->config.api_body_bytes_max;
    http.header_bytes_max = n->config.api_header_bytes_max;
    http.request_timeout_ms = n->config.api_request_timeout_ms;
    int rc = gov_http_server_start(&n->loop, &http, gov_api_handle, n->api, &n->http, why, why_len);
    if (rc != 0) {
        return rc;
    }

    if (n->config.role == GOV_ROLE_OBSERVER) {
        gov_follower_config follower = {
            .loop = &n->loop,
            .ledger = n->ledger,
            .ledger_lock = &n->ledger_lock,
            .lane = n->lane,
            .log = &n->log,
            .sources_count = n->config.observer_sources_count,
            .committed_cb = on_committed,
            .arg = n,
        };
        for (uint32_t i = 0; i < n->config.observer_sources_count; i++) {
            follower.sources[i] = n->config.observer_sources[i];
        }
        return gov_follower_start(&follower, &n->follower, why, why_len);
    }
    n->validator_keys = calloc(n->genesis->validators_count, sizeof(*n->validator_keys));
    if (n->validator_keys == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < n->genesis->validators_count; i++) {
        memcpy(n->validator_keys[i], n->genesis->validators[i].public_key, GOV_PUBLIC_KEY_LEN);
        n->address_list[i] = NULL;
        if (n->config.has_peer[i]) {
            format_address(&n->config.peers[i], n->addresses[i], sizeof(n->addresses[i]));
            n->address_list[i] = n->addresses[i];
        }
    }
    format_address(&n->config.p2p_listen, n->listen, sizeof(n->listen));
    gov_peer_config peer = {
        .suite = n->genesis->suite,
        .chain_id = n->genesis->hash,
        .validators_count = n->genesis->validators_count,
        .validator_keys = (const uint8_t(*)[GOV_PUBLIC_KEY_LEN])n->validator_keys,
        .own_index = n->config.validator,
        .own_key = n->key,
        .listen_address = n->listen,
        .validator_addresses = n->address_list,
    };
    gov_peer_callbacks peer_callbacks = {on_frame, on_peer_state, on_peer_log, n};
    rc = gov_peer_net_start(&n->loop, &peer, &peer_callbacks, &n->peers, why, why_len);
    if (rc != 0) {
        return rc;
    }

    gov_driver_config driver = {
        .loop = &n->loop,
        .ledger = n->ledger,
        .store = n->store,
        .lane = n->lane,
        .mempool = n->mempool,
        .verify = n->verify,
        .log = &n->log,
        .ledger_lock = &n->ledger_lock,
    };
    driver.pbft.validators = gov_ledger_validators(n->ledger);
    driver.pbft.self = n->config.validator;
    driver.pbft.key = n->key;
    driver.pbft.view_timeout_ms = n->genesis->consensus.view_timeout_ms;
    driver.pbft.view_timeout_max_ms = n->genesis->consensus.view_timeout_max_ms;
    gov_driver_callbacks callbacks = {send_to_peers, on_committed, on_rejected, on_fatal, n};
    return gov_driver_start(&driver, &callbacks, &n->driver, why, why_len);
}

static void release(node *n)
{
    gov_follower_free(n->follower);
    gov_api_free(n->api);
    gov_lane_free(n->lane);
    gov_verify_pool_close(n->verify);
    gov_mempool_free(n->mempool);
    gov_ledger_close(n->ledger);
    gov_kv_close(n->store);
    gov_private_key_free(n->key);
    gov_genesis_free(n->genesis);
    free(n->validator_keys);
}

int gov_node_run(const char *home)
{
    node *n = calloc(1, sizeof(*n));
    if (n == NULL) {
        fprintf(stderr, "govchain node: out of memory\n");
        return 1;
    }
    char why[512] = "";
    int rc = gov_node_config_load(home, &n->config, why, sizeof(why));
    if (rc != 0) {
        fprintf(stderr, "govchain node: %s\n", why);
        free(n);
        return rc == GOV_EINVAL ? 2 : 1;
    }
    signal(SIGPIPE, SIG_IGN);
    /* Writers first: a stream of API reads must not keep a commit (and so consensus)
     * waiting. And room in libuv's pool beside the lane's job for reads and checks. */
    pthread_rwlockattr_t lock_attributes;
    pthread_rwlockattr_init(&lock_attributes);
    pthread_rwlockattr_setkind_np(&lock_attributes, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&n->ledger_lock, &lock_attributes);
    pthread_rwlockattr_destroy(&lock_attributes);
    setenv("UV_THREADPOOL_SIZE", "8", 0);
    uv_loop_init(&n->loop);
    uv_signal_init(&n->loop, &n->sigterm);
    uv_signal_init(&n->loop, &n->sigint);
    n->sigterm.data = n->sigint.data = n;
    rc = load_chain(n, why, sizeof(why));
    const char *name = "node";
    if (rc == 0 && n->config.role == GOV_ROLE_OBSERVER) {
        name = "observer";
    } else if (rc == 0) {
        name = n->genesis->departments[n->genesis->validators[n->config.validator].department].id;
    }
    gov_log_init(&n->log, stdout, n->config.log_format, name);
    if (rc == 0) {
        gov_log_position(&n->log, gov_ledger_head_get(n->ledger)->height, 0);
        rc = start_services(n, why, sizeof(why));
    }
    if (rc != 0) {
        fprintf(stderr, "govchain node: %s\n", why);
        if (n->genesis != NULL) {
            gov_log(&n->log, GOV_LOG_ERROR, "start", "%s", why);
        }
        stop(n, 1);
    } else {
        if (n->follower != NULL) {
            gov_log(&n->log, GOV_LOG_INFO, "start",
                    "observer of chain %s at height %llu, following %s; API on %s:%u",
                    n->genesis->chain_name,
                    (unsigned long long)gov_ledger_head_get(n->ledger)->height,
                    n->config.observer_sources[0], n->config.api_listen.host,
                    gov_http_server_port(n->http));
        } else {
            gov_log(&n->log, GOV_LOG_INFO, "start",
                    "validator %u of chain %s at height %llu; API on %s:%u, peers on %s",
                    n->config.validator, n->genesis->chain_name,
                    (unsigned long long)gov_ledger_head_get(n->ledger)->height,
                    n->config.api_listen.host, gov_http_server_port(n->http), n->listen);
        }
    }
    if (!n->stopping) {
        uv_signal_start(&n->sigterm, on_signal, SIGTERM);
        uv_signal_start(&n->sigint, on_signal, SIGINT);
    }
    uv_run(&n->loop, UV_RUN_DEFAULT);
    if (n->driver != NULL) {
        /* start-up failed after the driver started but before the loop ran */
        gov_driver_free(n->driver);
    }
    int closed = uv_loop_close(&n->loop);
    if (closed != 0) {
        gov_log(&n->log, GOV_LOG_WARN, "stop", "event loop still had handles at exit");
    }
    int exit_code = n->exit_code;
    if (exit_code == 0) {
        gov_log(&n->log, GOV_LOG_INFO, "stop", "stopped at height %llu",
                (unsigned long long)gov_ledger_head_get(n->ledger)->height);
    }
    release(n);
    pthread_rwlock_destroy(&n->ledger_lock);
    free(n);
    return exit_code;
}
