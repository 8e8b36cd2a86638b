/*
 * Peer links (node/tls.c, node/peer.c): TLS sessions pinned to the validator set, driven
 * in memory; then real nodes on one loop over loopback TCP: clusters of three in both
 * suites, impostors, garbage, oversized frames, restarts and a peer that never reads.
 */
#include "govchain/crypto.h"
#include "govchain/error.h"
#include "node/peer.h"
#include "node/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define VALIDATORS_MAX 6
#define TIMEOUT_MS     10000
#define LOG_BYTES      32768

static const gov_suite all_suites[] = {GOV_SUITE_P256_SHA256, GOV_SUITE_SM2_SM3};

/* Keys ------------------------------------------------------------------------------------ */

typedef struct {
    gov_suite suite;
    uint32_t count;
    gov_private_key *keys[VALIDATORS_MAX];
    uint8_t public_keys[VALIDATORS_MAX][GOV_PUBLIC_KEY_LEN];
    gov_hash chain_id;
} validator_set;

static void set_make(validator_set *set, gov_suite suite, uint32_t count)
{
    memset(set, 0, sizeof(*set));
    set->suite = suite;
    set->count = count;
    for (uint32_t i = 0; i < count; i++) {
        assert_int_equal(gov_private_key_generate(suite, &set->keys[i]), 0);
        gov_private_key_public(set->keys[i], set->public_keys[i]);
    }
    gov_hash_bytes(suite, "test chain", 10, &set->chain_id);
}

static void set_free(validator_set *set)
{
    for (uint32_t i = 0; i < VALIDATORS_MAX; i++) {
        gov_private_key_free(set->keys[i]);
    }
}

/* The TLS side of validator `index` as `view` sees the chain, signing with `key`. */
static gov_tls *tls_make(const validator_set *view, uint32_t index, const gov_private_key *key)
{
    gov_tls_config config = {
        .suite = view->suite,
        .chain_id = view->chain_id,
        .validators_count = view->count,
        .validator_keys = (const uint8_t(*)[GOV_PUBLIC_KEY_LEN])view->public_keys,
        .own_index = index,
        .own_key = key,
    };
    gov_tls *tls = NULL;
    char why[256] = "";
    if (gov_tls_new(&config, &tls, why, sizeof(why)) != 0) {
        fail_msg("gov_tls_new: %s", why);
    }
    return tls;
}

/* TLS in memory ---------------------------------------------------------------------------- */

static void shuttle(gov_tls_session *from, gov_tls_session *to)
{
    uint8_t buffer[4096];
    size_t len;
    while ((len = gov_tls_session_take_output(from, buffer, sizeof(buffer))) > 0) {
        assert_int_equal(gov_tls_session_receive(to, buffer, len), 0);
    }
}

typedef struct {
    int client_rc;
    int server_rc;
    char client_why[256];
    char server_why[256];
} pair_result;

/* Runs a handshake between two sessions, then has the client read once, which is where a
 * TLS 1.3 client learns that the server refused its certificate. */
static void handshake_pair(gov_tls_session *client, gov_tls_session *server, pair_result *out)
{
    memset(out, 0, sizeof(*out));
    out->client_rc = GOV_TLS_AGAIN;
    out->server_rc = GOV_TLS_AGAIN;
    for (int round = 0; round < 8; round++) {
        if (out->client_rc == GOV_TLS_AGAIN) {
            out->client_rc =
                gov_tls_session_handshake(client, out->client_why, sizeof(out->client_why));
        }
        shuttle(client, server);
        if (out->server_rc == GOV_TLS_AGAIN) {
            out->server_rc =
                gov_tls_session_handshake(server, out->server_why, sizeof(out->server_why));
        }
        shuttle(server, client);
    }
    if (out->client_rc == 0) {
        uint8_t byte;
        size_t got = 0;
        out->client_rc =
            gov_tls_session_read(client, &byte, 1, &got, out->client_why, sizeof(out->client_why));
        assert_int_equal(got, 0);
    }
}

/* Validator `client_index` (as `client_view` sees it, with `client_key`) dials
 * validator `server_index` of `set`, expecting validator `dialed`. */
static void tls_attempt(const validator_set *set, const validator_set *client_view,
                        uint32_t client_index, const gov_private_key *client_key,
                        uint32_t server_index, uint32_t dialed, pair_result *out)
{
    gov_tls *client_tls = tls_make(client_view, client_index, client_key);
    gov_tls *server_tls = tls_make(set, server_index, set->keys[server_index]);
    gov_tls_session *client = NULL;
    gov_tls_session *server = NULL;
    char why[256];
    assert_int_equal(
        gov_tls_session_new(client_tls, true, UINT64_C(1) << dialed, &client, why, sizeof(why)), 0);
    assert_int_equal(
        gov_tls_session_new(server_tls, false, ~UINT64_C(0), &server, why, sizeof(why)), 0);
    handshake_pair(client, server, out);
    if (out->client_rc == 0 && out->server_rc == 0) {
        assert_int_equal(gov_tls_session_peer_index(client), server_index);
        assert_int_equal(gov_tls_session_peer_index(server), client_index);
        /* Data flows both ways. */
        uint8_t got[16];
        assert_int_equal(gov_tls_session_write(client, "ping", 4, why, sizeof(why)), 0);
        shuttle(client, server);
        size_t got_len = 0;
        assert_int_equal(gov_tls_session_read(server, got, sizeof(got), &got_len, why, sizeof(why)),
                         0);
        assert_int_equal(got_len, 4);
        assert_memory_equal(got, "ping", 4);
        assert_int_equal(gov_tls_session_write(server, "pong", 4, why, sizeof(why)), 0);
        shuttle(server, client);
        assert_int_equal(gov_tls_session_read(client, got, sizeof(got), &got_len, why, sizeof(why)),
                         0);
        assert_int_equal(got_len, 4);
        assert_memory_equal(got, "pong", 4);
    }
    gov_tls_session_free(client);
    gov_tls_session_free(server);
    gov_tls_free(client_tls);
    gov_tls_free(server_tls);
}

static void assert_contains(const char *text, const char *part)
{
    if (strstr(text, part) == NULL) {
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
    }
}

static void test_tls_validators_accept_each_other(void **state)
{
    (void)state;
    for (size_t s = 0; s < 2; s++) {
        validator_set set;
        set_make(&set, all_suites[s], 4);
        pair_result result;
        tls_attempt(&set, &set, 0, set.keys[0], 3, 3, &result);
        assert_int_equal(result.client_rc, 0);
        assert_int_equal(result.server_rc, 0);
        set_free(&set);
    }
}

/* The certificate says who it is: CN, the link extension (non-critical, our OID), and for
 * p256-sha256 the validator's own key. */
static void test_tls_certificate_contents(void **state)
{
    (void)state;
    for (size_t s = 0; s < 2; s++) {
        validator_set set;
        set_make(&set, all_suites[s], 4);
        gov_tls *tls = tls_make(&set, 2, set.keys[2]);
        uint8_t *der = NULL;
        size_t der_len = 0;
        assert_int_equal(gov_tls_certificate_der(tls, &der, &der_len), 0);
        const unsigned char *cursor = der;
        X509 *certificate = d2i_X509(NULL, &cursor, (long)der_len);
        assert_non_null(certificate);
        char name[128];
        X509_NAME_oneline(X509_get_subject_name(certificate), name, sizeof(name));
        assert_string_equal(name, "/CN=govchain-validator-2");
        ASN1_OBJECT *oid = OBJ_txt2obj(GOV_TLS_LINK_OID, 1);
        int position = X509_get_ext_by_OBJ(certificate, oid, -1);
        assert_true(position >= 0);
        X509_EXTENSION *extension = X509_get_ext(certificate, position);
        assert_int_equal(X509_EXTENSION_get_critical(extension), 0);
        ASN1_OCTET_STRING *value = X509_EXTENSION_get_data(extension);
        assert_int_equal(ASN1_STRING_length(value),
                         all_suites[s] == GOV_SUITE_P256_SHA256 ? 42 : 108);
        EVP_PKEY *pkey = X509_get0_pubkey(certificate);
        assert_true(EVP_PKEY_is_a(pkey, "EC"));
        size_t point_len = 0;
        uint8_t point[GOV_PUBLIC_KEY_LEN];
        assert_int_equal(EVP_PKEY_get_octet_string_param(pkey, "encoded-pub-key", point,
                                                         sizeof(point), &point_len),
                         1);
        bool same_key = memcmp(point, set.public_keys[2], sizeof(point)) == 0;
        assert_true(same_key == (all_suites[s] == GOV_SUITE_P256_SHA256));
        ASN1_OBJECT_free(oid);
        X509_free(certificate);
        OPENSSL_free(der);
        gov_tls_free(tls);
        set_free(&set);
    }
}

/* Every way of claiming an identity one does not have fails in the handshake, with a
 * reason, and the client learns of it. */
static void test_tls_refusals(void **state)
{
    (void)state;
    for (size_t s = 0; s < 2; s++) {
        gov_suite suite = all_suites[s];
        validator_set set;
        set_make(&set, suite, 4);
        pair_result result;

        /* A stranger: a key genesis does not list, at an index genesis does not have. */
        validator_set stranger;
        memcpy(&stranger, &set, sizeof(stranger));
        memset(stranger.keys, 0, sizeof(stranger.keys));
        stranger.count = 5;
        assert_int_equal(gov_private_key_generate(suite, &stranger.keys[4]), 0);
        gov_private_key_public(stranger.keys[4], stranger.public_keys[4]);
        tls_attempt(&set, &stranger, 4, stranger.keys[4], 1, 1, &result);
        assert_int_equal(result.server_rc, GOV_ECRYPTO);
        assert_contains(result.server_why, "validator 4, which is not in genesis");
        assert_true(result.client_rc < 0 && result.client_rc != GOV_TLS_AGAIN);

        /* An impostor: its own key under validator 0's index. */
        validator_set impostor;
        memcpy(&impostor, &set, sizeof(impostor));
        memcpy(impostor.public_keys[0], stranger.public_keys[4], GOV_PUBLIC_KEY_LEN);
        impostor.count = 4;
        tls_attempt(&set, &impostor, 0, stranger.keys[4], 1, 1, &result);
        assert_int_equal(result.server_rc, GOV_ECRYPTO);
        assert_contains(result.server_why, suite == GOV_SUITE_P256_SHA256
                                               ? "not validator 0's key in genesis"
                                               : "link signature does not verify");
        assert_true(result.client_rc < 0 && result.client_rc != GOV_TLS_AGAIN);

        /* A real validator of another chain. */
        validator_set other_chain;
        memcpy(&other_chain, &set, sizeof(other_chain));
        gov_hash_bytes(suite, "other chain", 11, &other_chain.chain_id);
        tls_attempt(&set, &other_chain, 0, set.keys[0], 1, 1, &result);
        /* (The TLS 1.3 client judges the server's certificate first.) */
        assert_int_equal(result.client_rc, GOV_ECRYPTO);
        assert_contains(result.client_why, "on another chain");
        assert_int_equal(result.server_rc, GOV_ECRYPTO);
        /* ... and the other way round. */
        tls_attempt(&other_chain, &set, 0, set.keys[0], 1, 1, &result);
        assert_int_equal(result.client_rc, GOV_ECRYPTO);
        assert_contains(result.client_why, "on another chain");
        assert_int_equal(result.server_rc, GOV_ECRYPTO);

        /* The dialer meant validator 2 and reached validator 1. */
        tls_attempt(&set, &set, 0, set.keys[0], 1, 2, &result);
        assert_int_equal(result.client_rc, GOV_ECRYPTO);
        assert_contains(result.client_why, "validator 1 is not a peer expected here");
        assert_true(result.server_rc != 0);

        /* A peer claiming our own index. */
        tls_attempt(&set, &set, 1, set.keys[1], 1, 1, &result);
        assert_contains(result.client_why, "our own index");
        gov_private_key_free(stranger.keys[4]);
        set_free(&set);
    }
}

static void test_tls_garbage_and_config(void **state)
{
    (void)state;
    validator_set set;
    set_make(&set, GOV_SUITE_P256_SHA256, 4);
    gov_tls *tls = tls_make(&set, 1, set.keys[1]);
    gov_tls_session *server = NULL;
    char why[256] = "";
    assert_int_equal(gov_tls_session_new(tls, false, ~UINT64_C(0), &server, why, sizeof(why)), 0);
    static const char garbage[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(gov_tls_session_receive(server, garbage, sizeof(garbage) - 1), 0);
    assert_int_equal(gov_tls_session_handshake(server, why, sizeof(why)), GOV_ECRYPTO);
    assert_false(gov_tls_session_refused_peer(server));
    assert_false(gov_tls_session_handshake_done(server));
    gov_tls_session_free(server);
    gov_tls_free(tls);

    /* A node whose key is not the one genesis lists for its index does not start. */
    gov_tls_config config = {
        .suite = set.suite,
        .chain_id = set.chain_id,
        .validators_count = 4,
        .validator_keys = (const uint8_t(*)[GOV_PUBLIC_KEY_LEN])set.public_keys,
        .own_index = 1,
        .own_key = set.keys[2],
    };
    tls = NULL;
    assert_int_equal(gov_tls_new(&config, &tls, why, sizeof(why)), GOV_EINVAL);
    assert_contains(why, "not validator 1's key");
    assert_null(tls);
    set_free(&set);
}

/* Nodes on a loop ---------------------------------------------------------------------------- */

typedef struct {
    uv_loop_t *loop;
    gov_peer_net *net;
    uint32_t index;
    bool running;
    bool stop_done;
    bool connected[VALIDATORS_MAX];
    uint32_t frames_from[VALIDATORS_MAX];
    size_t bytes_from[VALIDATORS_MAX];
    uint8_t last[VALIDATORS_MAX][64];
    size_t last_len[VALIDATORS_MAX];
    char log[LOG_BYTES];
    size_t log_len;
} node;

typedef struct {
    validator_set set;
    uv_loop_t loop;
    node nodes[VALIDATORS_MAX];
    uint16_t ports[VALIDATORS_MAX];
    char addresses[VALIDATORS_MAX][32];
    const char *address_list[VALIDATORS_MAX];
    gov_peer_config base; /* limits shared by every node */
} cluster;

static void on_frame(void *arg, uint32_t from, const uint8_t *bytes, size_t len)
{
    node *n = arg;
    assert_true(from < VALIDATORS_MAX);
    n->frames_from[from]++;
    n->bytes_from[from] += len;
    n->last_len[from] = len < sizeof(n->last[from]) ? len : sizeof(n->last[from]);
    memcpy(n->last[from], bytes, n->last_len[from]);
}

static void on_peer_state(void *arg, uint32_t validator, bool connected)
{
    node *n = arg;
    assert_true(validator < VALIDATORS_MAX);
    n->connected[validator] = connected;
}

static void on_log(void *arg, gov_peer_log_level level, const char *text)
{
    node *n = arg;
    if (getenv("GOV_TEST_VERBOSE") != NULL) {
        fprintf(stderr, "[node %u] %d %s\n", n->index, (int)level, text);
    }
    if (level >= GOV_PEER_LOG_INFO) {
        int written = snprintf(n->log + n->log_len, sizeof(n->log) - n->log_len, "%s\n", text);
        if (written > 0 && n->log_len + (size_t)written < sizeof(n->log)) {
            n->log_len += (size_t)written;
        }
    }
}

static void tick_cb(uv_timer_t *timer)
{
    (void)timer;
}

/* Runs the loop until done(arg) holds (it may also do work, such as pumping a raw
 * client) or TIMEOUT_MS pass. */
static bool run_until(uv_loop_t *loop, bool (*done)(void *arg), void *arg)
{
    uv_timer_t tick;
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, tick_cb, 1, 1);
    uv_update_time(loop);
    uint64_t deadline = uv_now(loop) + TIMEOUT_MS;
    bool ok;
    while (!(ok = done(arg)) && uv_now(loop) < deadline) {
        uv_run(loop, UV_RUN_ONCE);
    }
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return ok;
}

static void cluster_init(cluster *c, gov_suite suite, uint32_t count)
{
    memset(c, 0, sizeof(*c));
    set_make(&c->set, suite, count);
    assert_int_equal(uv_loop_init(&c->loop), 0);
    c->base.reconnect_min_ms = 20;
    c->base.reconnect_max_ms = 200;
    c->base.handshake_timeout_ms = 3000;
    c->base.random_seed = 42;
}

static gov_peer_config node_config(cluster *c, uint32_t index, const validator_set *view,
                                   const gov_private_key *key, const char *listen)
{
    gov_peer_config config = c->base;
    config.suite = view->suite;
    config.chain_id = view->chain_id;
    config.validators_count = view->count;
    config.validator_keys = (const uint8_t(*)[GOV_PUBLIC_KEY_LEN])view->public_keys;
    config.own_index = index;
    config.own_key = key;
    config.listen_address = listen;
    config.validator_addresses = c->address_list;
    return config;
}

/* Starts validator `index` as `view` sees the chain (the real set for an honest node),
 * listening on `port` (0: any), and records its address for the nodes that dial it. */
static void node_start_as(cluster *c, uint32_t index, const validator_set *view,
                          const gov_private_key *key, uint16_t port)
{
    node *n = &c->nodes[index];
    memset(n, 0, sizeof(*n));
    n->loop = &c->loop;
    n->index = index;
    char listen[32];
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
    gov_peer_config config = node_config(c, index, view, key, listen);
    gov_peer_callbacks callbacks = {on_frame, on_peer_state, on_log, n};
    char why[256] = "";
    if (gov_peer_net_start(&c->loop, &config, &callbacks, &n->net, why, sizeof(why)) != 0) {
        fail_msg("node %u: %s", index, why);
    }
    n->running = true;
    c->ports[index] = gov_peer_net_port(n->net);
    snprintf(c->addresses[index], sizeof(c->addresses[index]), "127.0.0.1:%u", c->ports[index]);
    c->address_list[index] = c->addresses[index];
}

static void node_start(cluster *c, uint32_t index, uint16_t port)
{
    node_start_as(c, index, &c->set, c->set.keys[index], port);
}

static void stop_done_cb(void *arg)
{
    node *n = arg;
    n->stop_done = true;
}

static bool node_stopped(void *arg)
{
    return ((node *)arg)->stop_done;
}

static void node_stop(cluster *c, uint32_t index)
{
    node *n = &c->nodes[index];
    assert_true(n->running);
    n->running = false;
    gov_peer_net_stop(n->net, stop_done_cb, n);
    n->net = NULL;
    assert_true(run_until(&c->loop, node_stopped, n));
}

static void cluster_free(cluster *c)
{
    for (uint32_t i = 0; i < VALIDATORS_MAX; i++) {
        if (c->nodes[i].running) {
            node_stop(c, i);
        }
    }
    uv_run(&c->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&c->loop), 0);
    set_free(&c->set);
}

typedef struct {
    cluster *c;
    uint32_t first;
    uint32_t last; /* inclusive */
} range;

/* Every running node in the range has a link to every other one. */
static bool fully_connected(void *arg)
{
    range *r = arg;
    for (uint32_t i = r->first; i <= r->last; i++) {
        for (uint32_t j = r->first; j <= r->last; j++) {
            node *n = &r->c->nodes[i];
            if (i != j && (!n->running || !n->connected[j] || !gov_peer_connected(n->net, j))) {
                return false;
            }
        }
    }
    return true;
}

typedef struct {
    cluster *c;
    uint32_t count;
    uint32_t expected; /* frames from each other node */
} frames_wait;

static bool frames_arrived(void *arg)
{
    frames_wait *w = arg;
    for (uint32_t i = 0; i < w->count; i++) {
        for (uint32_t j = 0; j < w->count; j++) {
            if (i != j && w->c->nodes[i].frames_from[j] < w->expected) {
                return false;
            }
        }
    }
    return true;
}

/* Each node of 0..count-1 broadcasts a small frame naming itself and sends one large frame
 * to each other node; all arrive, from the right sender, intact. */
static void exchange_frames(cluster *c, uint32_t count, uint32_t round)
{
    size_t big_len = 1u << 20;
    uint8_t *big = malloc(big_len);
    assert_non_null(big);
    for (size_t k = 0; k < big_len; k++) {
        big[k] = (uint8_t)(k * 7 + round);
    }
    uint32_t before[VALIDATORS_MAX][VALIDATORS_MAX];
    for (uint32_t i = 0; i < count; i++) {
        memcpy(before[i], c->nodes[i].frames_from, sizeof(before[i]));
        memset(c->nodes[i].frames_from, 0, sizeof(c->nodes[i].frames_from));
        memset(c->nodes[i].bytes_from, 0, sizeof(c->nodes[i].bytes_from));
    }
    for (uint32_t i = 0; i < count; i++) {
        for (uint32_t j = 0; j < count; j++) {
            if (i != j) {
                assert_int_equal(gov_peer_send(c->nodes[i].net, j, big, big_len), 0);
            }
        }
        char text[32];
        int len = snprintf(text, sizeof(text), "hello from %u round %u", i, round);
        assert_int_equal(gov_peer_broadcast(c->nodes[i].net, (const uint8_t *)text, (size_t)len),
                         0);
    }
    frames_wait w = {c, count, 2};
    assert_true(run_until(&c->loop, frames_arrived, &w));
    for (uint32_t i = 0; i < count; i++) {
        for (uint32_t j = 0; j < count; j++) {
            if (i == j) {
                assert_int_equal(c->nodes[i].frames_from[j], 0);
                continue;
            }
            char text[32];
            int len = snprintf(text, sizeof(text), "hello from %u round %u", j, round);
            assert_int_equal(c->nodes[i].frames_from[j], 2);
            assert_int_equal(c->nodes[i].bytes_from[j], big_len + (size_t)len);
            assert_int_equal(c->nodes[i].last_len[j], (size_t)len);
            assert_memory_equal(c->nodes[i].last[j], text, (size_t)len);
        }
    }
    (void)before;
    free(big);
}

static void test_three_nodes_exchange_frames(void **state)
{
    (void)state;
    for (size_t s = 0; s < 2; s++) {
        cluster *c = calloc(1, sizeof(*c));
        cluster_init(c, all_suites[s], 3);
        /* Each dials the higher indexes, so start from the top to know their ports. */
        for (int i = 2; i >= 0; i--) {
            node_start(c, (uint32_t)i, 0);
        }
        range all = {c, 0, 2};
        assert_true(run_until(&c->loop, fully_connected, &all));
        exchange_frames(c, 3, 1);
        for (uint32_t i = 0; i < 3; i++) {
            gov_peer_stats stats;
            gov_peer_stats_get(c->nodes[i].net, &stats);
            assert_int_equal(stats.peers_connected, 2);
            assert_int_equal(stats.frames_in, 4);
            assert_int_equal(stats.frames_out, 4);
            assert_int_equal(stats.handshake_failures, 0);
            assert_int_equal(stats.frames_dropped, 0);
            assert_contains(c->nodes[i].log, "is up");
        }
        /* Misuse is refused, not queued. */
        assert_int_equal(gov_peer_send(c->nodes[0].net, 0, (const uint8_t *)"x", 1), GOV_EINVAL);
        assert_int_equal(gov_peer_send(c->nodes[0].net, 3, (const uint8_t *)"x", 1), GOV_EINVAL);
        assert_int_equal(gov_peer_send(c->nodes[0].net, 1, (const uint8_t *)"x", 0), GOV_ELIMIT);
        cluster_free(c);
        free(c);
    }
}

typedef struct {
    cluster *c;
    uint32_t node_index;
    uint64_t failures; /* wait until handshake_failures reaches this */
} failures_wait;

static bool failures_reached(void *arg)
{
    failures_wait *w = arg;
    gov_peer_stats stats;
    gov_peer_stats_get(w->c->nodes[w->node_index].net, &stats);
    return stats.handshake_failures >= w->failures;
}

/* A node that claims validator 0 with a key genesis does not list for it: both honest
 * nodes refuse it in the handshake, both sides log and count it, and no frame passes. */
static void test_impostor_is_refused(void **state)
{
    (void)state;
    for (size_t s = 0; s < 2; s++) {
        gov_suite suite = all_suites[s];
        cluster *c = calloc(1, sizeof(*c));
        cluster_init(c, suite, 3);
        node_start(c, 2, 0);
        node_start(c, 1, 0);
        validator_set impostor_view = c->set;
        gov_private_key *impostor_key = NULL;
        assert_int_equal(gov_private_key_generate(suite, &impostor_key), 0);
        gov_private_key_public(impostor_key, impostor_view.public_keys[0]);
        node_start_as(c, 0, &impostor_view, impostor_key, 0);
        /* The impostor queues frames for both, which must never be delivered. */
        assert_int_equal(gov_peer_broadcast(c->nodes[0].net, (const uint8_t *)"forged", 6), 0);
        for (uint32_t honest = 1; honest <= 2; honest++) {
            failures_wait w = {c, honest, 2}; /* refused at least twice (it redials) */
            assert_true(run_until(&c->loop, failures_reached, &w));
        }
        failures_wait w = {c, 0, 4};
        assert_true(run_until(&c->loop, failures_reached, &w));
        const char *reason = suite == GOV_SUITE_P256_SHA256 ? "not validator 0's key in genesis"
                                                            : "link signature does not verify";
        for (uint32_t honest = 1; honest <= 2; honest++) {
            assert_contains(c->nodes[honest].log, reason);
            assert_int_equal(c->nodes[honest].frames_from[0], 0);
            assert_false(c->nodes[honest].connected[0]);
            assert_false(gov_peer_connected(c->nodes[honest].net, 0));
        }
        assert_contains(c->nodes[0].log, "handshake failed");
        assert_false(c->nodes[0].connected[1]);
        assert_false(c->nodes[0].connected[2]);
        /* The honest pair is not disturbed. */
        range honest = {c, 1, 2};
        assert_true(run_until(&c->loop, fully_connected, &honest));
        cluster_free(c);
        gov_private_key_free(impostor_key);
        free(c);
    }
}

/* Raw clients ------------------------------------------------------------------------------ */

static int raw_socket(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&address, sizeof(address)), 0);
    assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
    return fd;
}

/* Reads what is there; true once the other side has closed the connection. */
static bool raw_drain(int fd, uint8_t *into, size_t cap, size_t *got)
{
    for (;;) {
        uint8_t scratch[16384];
        ssize_t n = recv(fd, scratch, sizeof(scratch), 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            return true;
        }
        if (n < 0) {
            return false;
        }
        if (into != NULL) {
            size_t take = (size_t)n < cap - *got ? (size_t)n : cap - *got;
            memcpy(into + *got, scratch, take);
            *got += take;
        }
    }
}

typedef struct {
    cluster *c;
    int fd;
    bool closed;
    gov_tls *tls;
    gov_tls_session *session;
    bool hello_sent;
    uint8_t plaintext[64];
    size_t plaintext_len;
    bool reading; /* false: leave the socket unread, like a stuck peer */
} raw_client;

static void raw_send_all(raw_client *r)
{
    uint8_t buffer[16384];
    size_t len;
    while ((len = gov_tls_session_take_output(r->session, buffer, sizeof(buffer))) > 0) {
        size_t sent = 0;
        while (sent < len) {
            ssize_t n = send(r->fd, buffer + sent, len - sent, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                uv_run(&r->c->loop, UV_RUN_NOWAIT);
                continue;
            }
            assert_true(n > 0);
            sent += (size_t)n;
        }
    }
}

/* One step of the raw TLS client: move bytes both ways and advance TLS. */
static void raw_pump(raw_client *r)
{
    char why[256] = "";
    if (r->reading && !r->closed) {
        uint8_t cipher[65536];
        size_t got = 0;
        r->closed = raw_drain(r->fd, cipher, sizeof(cipher), &got);
        assert_int_equal(gov_tls_session_receive(r->session, cipher, got), 0);
    }
    if (!gov_tls_session_handshake_done(r->session)) {
        int rc = gov_tls_session_handshake(r->session, why, sizeof(why));
        assert_true(rc == 0 || rc == GOV_TLS_AGAIN);
    }
    if (gov_tls_session_handshake_done(r->session)) {
        if (!r->hello_sent) {
            const uint8_t hello[8] = {'G', 'O', 'V', 'L', 'I', 'N', 'K', 1};
            assert_int_equal(gov_tls_session_write(r->session, hello, 8, why, sizeof(why)), 0);
            r->hello_sent = true;
        }
        size_t got = 1;
        while (r->reading && got > 0 && r->plaintext_len < sizeof(r->plaintext)) {
            int rc = gov_tls_session_read(r->session, r->plaintext + r->plaintext_len,
                                          sizeof(r->plaintext) - r->plaintext_len, &got, why,
                                          sizeof(why));
            if (rc != 0) {
                r->closed = true;
                break;
            }
            r->plaintext_len += got;
        }
    }
    raw_send_all(r);
}

static bool raw_linked(void *arg)
{
    raw_client *r = arg;
    raw_pump(r);
    return r->plaintext_len >= 8;
}

static bool raw_closed(void *arg)
{
    raw_client *r = arg;
    if (r->reading) {
        raw_pump(r);
    } else {
        uint8_t scratch[1];
        ssize_t n = recv(r->fd, scratch, 0, MSG_PEEK);
        (void)n;
    }
    return r->closed;
}

/* Validator `index` of the cluster's set, played by hand: handshake and link hello with
 * node `to`. */
static void raw_link(raw_client *r, cluster *c, uint32_t index, uint32_t to)
{
    memset(r, 0, sizeof(*r));
    r->c = c;
    r->reading = true;
    r->tls = tls_make(&c->set, index, c->set.keys[index]);
    char why[256] = "";
    assert_int_equal(
        gov_tls_session_new(r->tls, true, UINT64_C(1) << to, &r->session, why, sizeof(why)), 0);
    r->fd = raw_socket(c->ports[to]);
    assert_true(run_until(&c->loop, raw_linked, r));
    assert_memory_equal(r->plaintext, "GOVLINK\1", 8);
}

static void raw_free(raw_client *r)
{
    close(r->fd);
    gov_tls_session_free(r->session);
    gov_tls_free(r->tls);
}

static void raw_write_frame_header(raw_client *r, uint32_t len)
{
    uint8_t header[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                         (uint8_t)len};
    char why[256];
    assert_int_equal(gov_tls_session_write(r->session, header, 4, why, sizeof(why)), 0);
}

typedef struct {
    node *n;
    uint32_t from;
    uint32_t frames;
} frame_wait;

static bool frame_arrived(void *arg)
{
    frame_wait *w = arg;
    return w->n->frames_from[w->from] >= w->frames;
}

static bool closed_fd(void *arg)
{
    int fd = *(int *)arg;
    size_t got = 0;
    return raw_drain(fd, NULL, 0, &got);
}

/* Bytes that are not TLS, or no bytes at all, cost a connection and a log line; the node
 * goes on serving its peers. */
static void test_garbage_is_dropped(void **state)
{
    (void)state;
    cluster *c = calloc(1, sizeof(*c));
    cluster_init(c, GOV_SUITE_P256_SHA256, 3);
    c->base.handshake_timeout_ms = 300;
    for (int i = 2; i >= 0; i--) {
        node_start(c, (uint32_t)i, 0);
    }
    range all = {c, 0, 2};
    assert_true(run_until(&c->loop, fully_connected, &all));

    int fd = raw_socket(c->ports[2]);
    static const char garbage[] = "GET / HTTP/1.1\r\nHost: govchain\r\n\r\n\x16\x03\x01\xff\xff";
    assert_int_equal(send(fd, garbage, sizeof(garbage) - 1, 0), (ssize_t)(sizeof(garbage) - 1));
    assert_true(run_until(&c->loop, closed_fd, &fd));
    close(fd);
    gov_peer_stats stats;
    gov_peer_stats_get(c->nodes[2].net, &stats);
    assert_int_equal(stats.handshake_failures, 1);
    assert_contains(c->nodes[2].log, "127.0.0.1:");
    assert_contains(c->nodes[2].log, "handshake failed");

    /* A silent client is dropped at the handshake deadline. */
    fd = raw_socket(c->ports[1]);
    assert_true(run_until(&c->loop, closed_fd, &fd));
    close(fd);
    assert_contains(c->nodes[1].log, "no link within 300 ms");

    /* A client that hangs up halfway through the handshake. */
    fd = raw_socket(c->ports[2]);
    static const uint8_t record_start[] = {0x16, 0x03, 0x01, 0x00, 0x80, 0x01};
    assert_int_equal(send(fd, record_start, sizeof(record_start), 0), 6);
    close(fd);
    failures_wait w = {c, 2, 2};
    assert_true(run_until(&c->loop, failures_reached, &w));

    exchange_frames(c, 3, 2);
    cluster_free(c);
    free(c);
}

typedef struct {
    cluster *c;
    uint32_t node;
    uint64_t refused;
} refused_wait;

static bool refused_reached(void *arg)
{
    refused_wait *w = arg;
    gov_peer_stats stats;
    gov_peer_stats_get(w->c->nodes[w->node].net, &stats);
    return stats.connections_refused >= w->refused;
}

static size_t occurrences(const char *text, const char *what)
{
    size_t count = 0;
    for (const char *at = strstr(text, what); at != NULL; at = strstr(at + 1, what)) {
        count++;
    }
    return count;
}

/* Silent connections from one address hold at most 8 handshake slots (the cluster has 3
 * validators): the rest are refused at once, and the refusals make one log line, not one
 * each. The peers' links are not disturbed. */
static void test_one_address_cannot_take_every_handshake_slot(void **state)
{
    (void)state;
    cluster *c = calloc(1, sizeof(*c));
    cluster_init(c, GOV_SUITE_P256_SHA256, 3);
    c->base.handshake_timeout_ms = 5000;
    for (int i = 2; i >= 0; i--) {
        node_start(c, (uint32_t)i, 0);
    }
    range all = {c, 0, 2};
    assert_true(run_until(&c->loop, fully_connected, &all));
    enum { SILENT = 20 };
    int fds[SILENT];
    for (int i = 0; i < SILENT; i++) {
        fds[i] = raw_socket(c->ports[2]);
    }
    refused_wait w = {c, 2, SILENT - 8};
    assert_true(run_until(&c->loop, refused_reached, &w));
    gov_peer_stats stats;
    gov_peer_stats_get(c->nodes[2].net, &stats);
    assert_int_equal(stats.connections_refused, SILENT - 8);
    assert_int_equal(occurrences(c->nodes[2].log, "from this address"), 1);
    for (int i = 0; i < SILENT; i++) {
        close(fds[i]);
    }
    exchange_frames(c, 3, 1);
    cluster_free(c);
    free(c);
}

/* An authenticated peer announcing a frame over the cap, or an empty one, loses its link
 * at the header, before the body is sent (so before anything could be allocated). */
static void test_oversized_frame_drops_link(void **state)
{
    (void)state;
    uint32_t lengths[] = {GOV_MESSAGE_BYTES_MAX + 1u, 0xffffffffu, 0};
    for (size_t k = 0; k < sizeof(lengths) / sizeof(lengths[0]); k++) {
        cluster *c = calloc(1, sizeof(*c));
        cluster_init(c, GOV_SUITE_P256_SHA256, 3);
        node_start(c, 2, 0);
        raw_client r;
        raw_link(&r, c, 0, 2);
        /* A good frame first: the hand-made framing is right, so the refusal below is
         * about the length alone. */
        char why[256];
        raw_write_frame_header(&r, 3);
        assert_int_equal(gov_tls_session_write(r.session, "abc", 3, why, sizeof(why)), 0);
        raw_send_all(&r);
        frame_wait fw = {&c->nodes[2], 0, 1};
        assert_true(run_until(&c->loop, frame_arrived, &fw));
        assert_memory_equal(c->nodes[2].last[0], "abc", 3);
        assert_true(c->nodes[2].connected[0]);

        raw_write_frame_header(&r, lengths[k]);
        raw_send_all(&r);
        assert_true(run_until(&c->loop, raw_closed, &r));
        gov_peer_stats stats;
        gov_peer_stats_get(c->nodes[2].net, &stats);
        assert_int_equal(stats.links_dropped, 1);
        assert_int_equal(stats.frames_in, 1);
        assert_false(c->nodes[2].connected[0]);
        char expected[96];
        snprintf(expected, sizeof(expected), "frame of %u bytes (allowed 1 to %u)", lengths[k],
                 (unsigned)GOV_MESSAGE_BYTES_MAX);
        assert_contains(c->nodes[2].log, expected);
        raw_free(&r);
        cluster_free(c);
        free(c);
    }
}

typedef struct {
    cluster *c;
    uint32_t node_index;
    uint32_t peer;
    uint32_t attempts;
} attempts_wait;

static bool attempts_reached(void *arg)
{
    attempts_wait *w = arg;
    gov_peer_link_stats stats;
    assert_int_equal(gov_peer_link_stats_get(w->c->nodes[w->node_index].net, w->peer, &stats), 0);
    return stats.reconnect_attempts >= w->attempts;
}

/* A validator that stops and comes back on its address is dialed again with backoff, and
 * frames flow again. */
static void test_restarted_peer_reconnects(void **state)
{
    (void)state;
    cluster *c = calloc(1, sizeof(*c));
    cluster_init(c, GOV_SUITE_SM2_SM3, 3);
    for (int i = 2; i >= 0; i--) {
        node_start(c, (uint32_t)i, 0);
    }
    range all = {c, 0, 2};
    assert_true(run_until(&c->loop, fully_connected, &all));
    exchange_frames(c, 3, 1);

    uint16_t port = c->ports[2];
    node_stop(c, 2);
    /* Its dialers notice, and fail to reach it a few times, backing off. */
    for (uint32_t i = 0; i < 2; i++) {
        attempts_wait w = {c, i, 2, 4};
        assert_true(run_until(&c->loop, attempts_reached, &w));
        assert_false(c->nodes[i].connected[2]);
        gov_peer_stats stats;
        gov_peer_stats_get(c->nodes[i].net, &stats);
        assert_true(stats.dial_failures >= 3);
        assert_int_equal(stats.peers_connected, 1);
    }
    /* Frames sent meanwhile wait in the queue. */
    assert_int_equal(gov_peer_send(c->nodes[0].net, 2, (const uint8_t *)"queued", 6), 0);
    node_start(c, 2, port);
    assert_true(run_until(&c->loop, fully_connected, &all));
    frame_wait fw = {&c->nodes[2], 0, 1};
    assert_true(run_until(&c->loop, frame_arrived, &fw));
    assert_memory_equal(c->nodes[2].last[0], "queued", 6);
    memset(c->nodes[2].frames_from, 0, sizeof(c->nodes[2].frames_from));
    exchange_frames(c, 3, 2);
    cluster_free(c);
    free(c);
}

/* A peer that stops reading: the queue holds at most its caps, what does not fit is
 * dropped and counted, the loop never blocks and the link stays up. */
static void test_send_queue_is_bounded(void **state)
{
    (void)state;
    cluster *c = calloc(1, sizeof(*c));
    cluster_init(c, GOV_SUITE_P256_SHA256, 3);
    c->base.send_queue_frames_max = 16;
    c->base.send_queue_bytes_max = 1u << 20;
    node_start(c, 2, 0);
    raw_client r;
    raw_link(&r, c, 0, 2);
    r.reading = false;

    size_t frame_len = 64 * 1024;
    uint8_t *frame = calloc(1, frame_len);
    assert_non_null(frame);
    uint32_t sent = 0;
    uint32_t refused = 0;
    for (uint32_t k = 0; k < 1000; k++) {
        int rc = gov_peer_send(c->nodes[2].net, 0, frame, frame_len);
        assert_true(rc == 0 || rc == GOV_ELIMIT);
        rc == 0 ? sent++ : refused++;
        uv_run(&c->loop, UV_RUN_NOWAIT);
        gov_peer_link_stats link;
        assert_int_equal(gov_peer_link_stats_get(c->nodes[2].net, 0, &link), 0);
        assert_true(link.queued_frames <= 16);
        assert_true(link.queued_bytes <= (1u << 20));
        assert_true(link.unsent_bytes <= 256 * 1024 + frame_len + 1024);
        assert_true(link.connected);
    }
    gov_peer_stats stats;
    gov_peer_stats_get(c->nodes[2].net, &stats);
    assert_true(refused > 0);
    assert_int_equal(stats.frames_dropped, refused);
    assert_int_equal(stats.bytes_dropped, (uint64_t)refused * frame_len);
    assert_contains(c->nodes[2].log, "send queue to validator 0 is full");
    free(frame);
    raw_free(&r);
    cluster_free(c);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls_validators_accept_each_other),
        cmocka_unit_test(test_tls_certificate_contents),
        cmocka_unit_test(test_tls_refusals),
        cmocka_unit_test(test_tls_garbage_and_config),
        cmocka_unit_test(test_three_nodes_exchange_frames),
        cmocka_unit_test(test_impostor_is_refused),
        cmocka_unit_test(test_garbage_is_dropped),
        cmocka_unit_test(test_one_address_cannot_take_every_handshake_slot),
        cmocka_unit_test(test_oversized_frame_drops_link),
        cmocka_unit_test(test_restarted_peer_reconnects),
        cmocka_unit_test(test_send_queue_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
