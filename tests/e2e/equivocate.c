/*
 * govchain-equivocate: plays a faulty validator against a live node, for
 * tests/e2e/evidence_test.sh. With validator I's node key it opens a real peer link
 * (mutual TLS pinned to genesis) to validator J and sends two COMMITs, validly signed by
 * I, for one (view, height) with different digests: the equivocation an honest replica
 * never signs, which J must keep as evidence (GET /v1/evidence).
 *
 * Usage: govchain-equivocate GENESIS KEY_FILE I J HOST:PORT VIEW HEIGHT
 * Exit 0 once both messages are handed to the link, 1 if no link came up in 15 s, 2 for
 * bad arguments.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "govchain/error.h"
#include "govchain/genesis.h"
#include "govchain/keyfile.h"
#include "govchain/messages.h"
#include "node/file.h"
#include "node/peer.h"

typedef struct {
    uv_loop_t loop;
    uv_timer_t timer;
    gov_peer_net *net;
    uint32_t to;
    gov_buf frames[2];
    bool sent;
    int exit_code;
} tool;

static void stopped(void *arg)
{
    tool *t = arg;
    uv_close((uv_handle_t *)&t->timer, NULL);
}

static void finish(tool *t, int exit_code)
{
    if (t->net != NULL) {
        t->exit_code = exit_code;
        gov_peer_net *net = t->net;
        t->net = NULL;
        gov_peer_net_stop(net, stopped, t);
    }
}

/* After sending, a moment for TLS to flush; without a link, the deadline. */
static void on_timer(uv_timer_t *timer)
{
    tool *t = timer->data;
    if (!t->sent) {
        fprintf(stderr, "govchain-equivocate: no link to validator %u\n", t->to);
    }
    finish(t, t->sent ? 0 : 1);
}

static void on_frame(void *arg, uint32_t validator, const uint8_t *bytes, size_t len)
{
    (void)arg, (void)validator, (void)bytes, (void)len; /* what the node says is not needed */
}

static void on_peer_state(void *arg, uint32_t validator, bool connected)
{
    tool *t = arg;
    if (!connected || validator != t->to || t->sent || t->net == NULL) {
        return;
    }
    for (int i = 0; i < 2; i++) {
        if (gov_peer_send(t->net, t->to, t->frames[i].data, t->frames[i].len) != 0) {
            fprintf(stderr, "govchain-equivocate: cannot queue a message\n");
            finish(t, 1);
            return;
        }
    }
    t->sent = true;
    uv_timer_start(&t->timer, on_timer, 500, 0);
}

static void on_log(void *arg, gov_peer_log_level level, const char *text)
{
    (void)arg;
    if (level >= GOV_PEER_LOG_WARN) {
        fprintf(stderr, "govchain-equivocate: link: %s\n", text);
    }
}

static bool parse_u64(const char *text, uint64_t *out)
{
    char *end = NULL;
    *out = strtoull(text, &end, 10);
    return text[0] >= '0' && text[0] <= '9' && *end == '\0';
}

/* COMMIT(view, height, digest) signed as validator `self`. */
static int signed_commit(const gov_genesis *genesis, const gov_private_key *key, uint32_t self,
                         uint64_t view, uint64_t height, uint8_t fill, gov_buf *out)
{
    gov_pbft_message commit = {.type = GOV_PBFT_COMMIT};
    commit.body.phase.view = view;
    commit.body.phase.height = height;
    commit.body.phase.sender = self;
    memset(commit.body.phase.digest.bytes, fill, GOV_HASH_LEN);
    int rc = gov_pbft_message_sign(&commit, key, &genesis->hash);
    return rc != 0 ? rc : gov_pbft_message_encode(&commit, out);
}

int main(int argc, char **argv)
{
    uint64_t self = 0, to = 0, view = 0, height = 0;
    if (argc != 8 || !parse_u64(argv[3], &self) || !parse_u64(argv[4], &to) ||
        !parse_u64(argv[6], &view) || !parse_u64(argv[7], &height) || self >= to) {
        fprintf(stderr, "usage: govchain-equivocate GENESIS KEY_FILE I J HOST:PORT VIEW HEIGHT\n"
                        "(I < J: the lower index dials)\n");
        return 2;
    }
    char why[400];
    gov_genesis *genesis = NULL;
    gov_private_key *key = NULL;
    if (gov_genesis_load(argv[1], &genesis, why, sizeof(why)) != 0 ||
        gov_keyfile_read(genesis->suite, argv[2], &key, why, sizeof(why)) != 0) {
        fprintf(stderr, "govchain-equivocate: %s\n", why);
        gov_genesis_free(genesis);
        return 2;
    }
    if (to >= genesis->validators_count) {
        fprintf(stderr, "govchain-equivocate: genesis has %u validators\n",
                genesis->validators_count);
        return 2;
    }
    tool t = {.to = (uint32_t)to, .exit_code = 1};
    uint8_t(*keys)[GOV_PUBLIC_KEY_LEN] = calloc(genesis->validators_count, sizeof(*keys));
    const char **addresses = calloc(genesis->validators_count, sizeof(*addresses));
    int rc = keys == NULL || addresses == NULL ? GOV_ENOMEM : 0;
    for (uint32_t i = 0; rc == 0 && i < genesis->validators_count; i++) {
        memcpy(keys[i], genesis->validators[i].public_key, GOV_PUBLIC_KEY_LEN);
    }
    if (rc == 0) {
        addresses[to] = argv[5];
        for (int i = 0; i < 2 && rc == 0; i++) {
            gov_buf_init(&t.frames[i]);
            rc = signed_commit(genesis, key, (uint32_t)self, view, height, (uint8_t)(0xa0 + i),
                               &t.frames[i]);
        }
    }
    gov_peer_config config = {
        .suite = genesis->suite,
        .chain_id = genesis->hash,
        .validators_count = genesis->validators_count,
        .validator_keys = (const uint8_t(*)[GOV_PUBLIC_KEY_LEN])keys,
        .own_index = (uint32_t)self,
        .own_key = key,
        .listen_address = "127.0.0.1:0",
        .validator_addresses = addresses,
    };
    gov_peer_callbacks callbacks = {on_frame, on_peer_state, on_log, &t};
    if (rc == 0) {
        uv_loop_init(&t.loop);
        uv_timer_init(&t.loop, &t.timer);
        t.timer.data = &t;
        rc = gov_peer_net_start(&t.loop, &config, &callbacks, &t.net, why, sizeof(why));
        if (rc == 0) {
            uv_timer_start(&t.timer, on_timer, 15000, 0);
        } else {
            fprintf(stderr, "govchain-equivocate: %s\n", why);
            uv_close((uv_handle_t *)&t.timer, NULL);
        }
        uv_run(&t.loop, UV_RUN_DEFAULT);
        uv_loop_close(&t.loop);
    }
    if (rc == 0 && t.exit_code == 0) {
        printf("sent two COMMITs of validator %" PRIu64 " for view %" PRIu64 ", height %" PRIu64
               " with different digests to validator %" PRIu64 "\n",
               self, view, height, to);
    }
    for (int i = 0; i < 2; i++) {
        gov_buf_free(&t.frames[i]);
    }
    free(keys);
    free(addresses);
    gov_private_key_free(key);
    gov_genesis_free(genesis);
    return rc != 0 ? 1 : t.exit_code;
}
