/*
 * The PBFT replica in small, exact scenarios with a test driver: four replicas whose
 * messages are delivered in order unless the test drops them, and a ledger per replica
 * that keeps committed blocks (block bytes: [height, parent digest, payload]; digest:
 * SHA-256 of the bytes). tests/sim runs the same replica under thousands of random
 * fault schedules; these tests pin down single rules so a regression names itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "govchain/canon.h"
#include "govchain/crypto.h"
#include "govchain/error.h"
#include "govchain/messages.h"
#include "govchain/pbft.h"
#include "tests/unit/test_util.h"

enum { N = 4, HEIGHTS_MAX = 64, QUEUE_MAX = 4096, TIMEOUT_MS = 1000 };

typedef struct {
    gov_hash digest;
    gov_buf block;
    gov_commit_cert cert;
} committed;

typedef struct {
    gov_pbft *replica;
    bool down;     /* crashed: receives nothing */
    bool isolated; /* messages to and from it are lost */
    committed chain[HEIGHTS_MAX + 1];
    uint64_t height;
    gov_buf durable;
    bool pending;
    uint32_t payload; /* makes each built block distinct */
    uint64_t timer_ms;
    size_t evidence_count; /* equivocations this replica reported, each checked */
    gov_equivocation evidence[8];
} node;

typedef struct {
    uint32_t from, to;
    gov_buf bytes;
} in_flight;

typedef struct {
    gov_private_key *keys[N];
    gov_public_key *public_keys[N];
    gov_validator_set set;
    node nodes[N];
    in_flight queue[QUEUE_MAX];
    size_t head, tail;
    uint64_t now;
    uint32_t blocks_left; /* builds answered with a block; then "nothing to build" */
    uint32_t blocks_built;
    /* (type, view, height) -> digest signed, per validator: the non-equivocation check. */
    struct {
        bool has;
        uint32_t sender;
        gov_pbft_type type;
        uint64_t view, height;
        gov_hash digest;
    } signed_votes[8192];
    size_t signed_count;
} net;

static void drive(net *t, uint32_t i);
static void deliver_all(net *t, size_t limit);

static gov_pbft_config config_of(net *t, uint32_t self)
{
    gov_pbft_config config = {.validators = &t->set, .self = self, .key = t->keys[self]};
    config.view_timeout_ms = TIMEOUT_MS;
    config.view_timeout_max_ms = 8 * TIMEOUT_MS;
    config.catch_up_blocks = 4;
    return config;
}

static void open_node(net *t, uint32_t i)
{
    node *nd = &t->nodes[i];
    gov_pbft_head head = {.height = nd->height};
    head.digest = nd->chain[nd->height].digest;
    if (nd->height > 0) {
        head.block = nd->chain[nd->height].block.data;
        head.block_len = nd->chain[nd->height].block.len;
        head.cert = &nd->chain[nd->height].cert;
    }
    char why[200];
    gov_pbft_config config = config_of(t, i);
    int rc = gov_pbft_open(&config, &head, nd->durable.data, nd->durable.len, t->now, &nd->replica,
                           why, sizeof(why));
    if (rc != 0) {
        fail_msg("open replica %u: %s", i, why);
    }
    nd->down = false;
}

static void net_init(net *t)
{
    memset(t, 0, sizeof(*t));
    for (int i = 0; i < N; i++) {
        uint8_t bytes[GOV_PUBLIC_KEY_LEN];
        assert_int_equal(gov_private_key_generate(GOV_SUITE_P256_SHA256, &t->keys[i]), 0);
        gov_private_key_public(t->keys[i], bytes);
        assert_int_equal(gov_public_key_parse(GOV_SUITE_P256_SHA256, bytes, &t->public_keys[i]), 0);
    }
    t->set.suite = GOV_SUITE_P256_SHA256;
    memset(t->set.chain_id.bytes, 0x5a, GOV_HASH_LEN);
    t->set.count = N;
    t->set.keys = t->public_keys;
    t->set.cache = gov_sig_cache_new(4096);
    t->now = 1000;
    t->blocks_left = 8;
    for (uint32_t i = 0; i < N; i++) {
        t->nodes[i].chain[0].digest = t->set.chain_id; /* "genesis" */
        open_node(t, i);
    }
    for (uint32_t i = 0; i < N; i++) {
        drive(t, i);
    }
    deliver_all(t, SIZE_MAX);
}

static void net_free(net *t)
{
    for (int i = 0; i < N; i++) {
        gov_pbft_free(t->nodes[i].replica);
        for (int h = 0; h <= HEIGHTS_MAX; h++) {
            gov_buf_free(&t->nodes[i].chain[h].block);
        }
        gov_buf_free(&t->nodes[i].durable);
        gov_private_key_free(t->keys[i]);
        gov_public_key_free(t->public_keys[i]);
    }
    while (t->head != t->tail) {
        gov_buf_free(&t->queue[t->head++ % QUEUE_MAX].bytes);
    }
    gov_sig_cache_free(t->set.cache);
}

static void make_block(node *nd, uint64_t height, uint32_t payload, gov_buf *out, gov_hash *digest)
{
    gov_buf_reset(out);
    gov_enc_array(out, 3);
    gov_enc_uint(out, height);
    gov_enc_bin(out, nd->chain[height - 1].digest.bytes, GOV_HASH_LEN);
    gov_enc_uint(out, payload);
    gov_hash_bytes(GOV_SUITE_P256_SHA256, out->data, out->len, digest);
}

/* The ledger's validation: the right height on our head, and bytes that hash to digest. */
static bool block_valid(node *nd, uint64_t height, const gov_hash *digest, const uint8_t *block,
                        size_t len)
{
    if (height != nd->height + 1) {
        return false;
    }
    gov_buf expected;
    gov_buf_init(&expected);
    gov_dec dec;
    uint64_t h = 0, payload = 0;
    gov_hash parent;
    char why[100];
    gov_dec_begin(&dec, block, len, 1024, 16, why, sizeof(why));
    gov_dec_array(&dec, "block", 3);
    gov_dec_uint(&dec, "height", UINT64_MAX, &h);
    gov_dec_bin_fixed(&dec, "parent", parent.bytes, GOV_HASH_LEN);
    gov_dec_uint(&dec, "payload", UINT64_MAX, &payload);
    gov_dec_leave(&dec);
    bool ok = gov_dec_finish(&dec) == 0 && h == height &&
              gov_hash_equal(&parent, &nd->chain[nd->height].digest);
    gov_hash actual;
    gov_hash_bytes(GOV_SUITE_P256_SHA256, block, len, &actual);
    gov_buf_free(&expected);
    return ok && gov_hash_equal(&actual, digest);
}

static void record_signed(net *t, uint32_t sender, const gov_buf *bytes)
{
    gov_pbft_message message;
    char why[100];
    if (gov_pbft_message_decode(bytes->data, bytes->len, &message, why, sizeof(why)) != 0) {
        return;
    }
    const gov_pbft_phase *phase = NULL;
    gov_pbft_type type = message.type;
    if (type == GOV_PBFT_PRE_PREPARE || type == GOV_PBFT_PREPARE || type == GOV_PBFT_COMMIT) {
        phase = &message.body.phase;
    } else if (type == GOV_PBFT_NEW_VIEW && message.body.new_view.pre_prepare != NULL) {
        phase = &message.body.new_view.pre_prepare->body.phase;
        type = GOV_PBFT_PRE_PREPARE;
    }
    if (phase != NULL && phase->sender == sender) {
        for (size_t i = 0; i < t->signed_count; i++) {
            if (t->signed_votes[i].sender == sender && t->signed_votes[i].type == type &&
                t->signed_votes[i].view == phase->view &&
                t->signed_votes[i].height == phase->height) {
                if (!gov_hash_equal(&t->signed_votes[i].digest, &phase->digest)) {
                    fail_msg("validator %u signed two %s digests at view %llu height %llu", sender,
                             gov_pbft_type_name(type), (unsigned long long)phase->view,
                             (unsigned long long)phase->height);
                }
                gov_pbft_message_clear(&message);
                return;
            }
        }
        assert_true(t->signed_count < 8192);
        t->signed_votes[t->signed_count].sender = sender;
        t->signed_votes[t->signed_count].type = type;
        t->signed_votes[t->signed_count].view = phase->view;
        t->signed_votes[t->signed_count].height = phase->height;
        t->signed_votes[t->signed_count].digest = phase->digest;
        t->signed_count++;
    }
    gov_pbft_message_clear(&message);
}

static void enqueue(net *t, uint32_t from, uint32_t to, const gov_buf *bytes)
{
    if (t->nodes[from].isolated || t->nodes[to].isolated) {
        return;
    }
    assert_true(t->tail - t->head < QUEUE_MAX);
    in_flight *m = &t->queue[t->tail++ % QUEUE_MAX];
    m->from = from;
    m->to = to;
    gov_buf_init(&m->bytes);
    gov_buf_append(&m->bytes, bytes->data, bytes->len);
}

/* Carries out one replica's ready, in the order pbft.h prescribes. */
static void drive(net *t, uint32_t i)
{
    node *nd = &t->nodes[i];
    for (;;) {
        gov_pbft_ready *ready = gov_pbft_ready_get(nd->replica);
        if (getenv("GOV_TEST_TRACE") != NULL) {
            for (size_t e = 0; e < ready->events_count; e++) {
                printf("t=%llu r%u h=%llu v=%llu: %s\n", (unsigned long long)t->now, i,
                       (unsigned long long)nd->height,
                       (unsigned long long)gov_pbft_view(nd->replica), ready->events[e].text);
            }
        }
        for (size_t c = 0; c < ready->commits_count; c++) {
            const gov_pbft_commit *commit = &ready->commits[c];
            assert_int_equal(commit->height, nd->height + 1);
            char why[160];
            if (gov_commit_cert_verify(&commit->cert, &t->set, why, sizeof(why)) != 0) {
                fail_msg("replica %u committed height %llu with a bad certificate: %s", i,
                         (unsigned long long)commit->height, why);
            }
            assert_true(gov_hash_equal(&commit->cert.digest, &commit->digest));
            committed *slot = &nd->chain[++nd->height];
            slot->digest = commit->digest;
            gov_buf_reset(&slot->block);
            gov_buf_append(&slot->block, commit->block, commit->block_len);
            slot->cert = commit->cert;
        }
        if (ready->persist) {
            gov_buf_reset(&nd->durable);
            gov_buf_append(&nd->durable, ready->durable.data, ready->durable.len);
        }
        for (size_t m = 0; m < ready->messages_count; m++) {
            record_signed(t, i, &ready->messages[m].bytes);
            for (uint32_t to = 0; to < N; to++) {
                if (to != i &&
                    (ready->messages[m].to == to || ready->messages[m].to == GOV_PBFT_ALL)) {
                    enqueue(t, i, to, &ready->messages[m].bytes);
                }
            }
        }
        for (size_t s = 0; s < ready->serves_count; s++) {
            const gov_pbft_serve *serve = &ready->serves[s];
            for (uint64_t h = serve->from; h <= nd->height && h < serve->from + serve->count; h++) {
                gov_buf bytes;
                gov_buf_init(&bytes);
                assert_int_equal(gov_pbft_block_message_encode(h, nd->chain[h].block.data,
                                                               nd->chain[h].block.len,
                                                               &nd->chain[h].cert, &bytes),
                                 0);
                enqueue(t, i, serve->to, &bytes);
                gov_buf_free(&bytes);
            }
        }
        for (size_t e = 0; e < ready->evidence_count; e++) {
            char why[160];
            if (gov_equivocation_verify(&ready->evidence[e], &t->set, why, sizeof(why)) != 0) {
                fail_msg("replica %u reported evidence that does not verify: %s", i, why);
            }
            if (nd->evidence_count < 8) {
                nd->evidence[nd->evidence_count++] = ready->evidence[e];
            }
        }
        gov_pbft_validate validate = ready->validate;
        gov_pbft_build build = ready->build;
        gov_buf copy;
        gov_buf_init(&copy);
        if (validate.requested) {
            gov_buf_append(&copy, validate.block, validate.block_len);
        }
        nd->timer_ms = ready->timer_ms;
        gov_pbft_ready_done(nd->replica);
        if (validate.requested) {
            bool ok = block_valid(nd, validate.height, &validate.digest, copy.data, copy.len);
            gov_buf_free(&copy);
            gov_pbft_validated(nd->replica, validate.height, &validate.digest, ok, t->now);
            continue;
        }
        gov_buf_free(&copy);
        if (nd->pending && t->blocks_left == 0 && nd->height >= t->blocks_built &&
            !build.requested) {
            /* Every transaction is in a committed block: the mempool is empty. */
            nd->pending = false;
            gov_pbft_set_pending(nd->replica, false, t->now);
            continue;
        }
        if (build.requested && t->blocks_left == 0) {
            nd->pending = false;
            gov_pbft_built(nd->replica, build.height, NULL, NULL, 0, t->now);
            continue;
        }
        if (build.requested) {
            t->blocks_left--;
            t->blocks_built++;
            gov_buf block;
            gov_buf_init(&block);
            gov_hash digest;
            make_block(nd, build.height, nd->payload++, &block, &digest);
            gov_pbft_built(nd->replica, build.height, &digest, block.data, block.len, t->now);
            gov_buf_free(&block);
            continue;
        }
        return;
    }
}

static void set_pending(net *t, uint32_t i, bool pending)
{
    t->nodes[i].pending = pending;
    gov_pbft_set_pending(t->nodes[i].replica, pending, t->now);
    drive(t, i);
}

/* Delivers queued messages until none are left (or `limit` were delivered). */
static void deliver_all(net *t, size_t limit)
{
    for (size_t delivered = 0; t->head != t->tail && delivered < limit; delivered++) {
        in_flight m = t->queue[t->head++ % QUEUE_MAX];
        node *nd = &t->nodes[m.to];
        if (!nd->down && !nd->isolated && !t->nodes[m.from].isolated) {
            gov_pbft_receive(nd->replica, m.from, m.bytes.data, m.bytes.len, t->now);
            drive(t, m.to);
        }
        gov_buf_free(&m.bytes);
    }
}

/* Advances time to each due timer, delivering messages in between, until `until`. */
static void run_until(net *t, uint64_t until)
{
    deliver_all(t, SIZE_MAX);
    while (t->now < until) {
        uint64_t next = until;
        for (uint32_t i = 0; i < N; i++) {
            if (!t->nodes[i].down && t->nodes[i].timer_ms != 0 && t->nodes[i].timer_ms < next) {
                next = t->nodes[i].timer_ms;
            }
        }
        t->now = next > t->now ? next : t->now + 1;
        for (uint32_t i = 0; i < N; i++) {
            if (!t->nodes[i].down && t->nodes[i].timer_ms != 0 && t->nodes[i].timer_ms <= t->now) {
                gov_pbft_tick(t->nodes[i].replica, t->now);
                drive(t, i);
            }
        }
        deliver_all(t, SIZE_MAX);
    }
}

static void crash(net *t, uint32_t i)
{
    gov_pbft_free(t->nodes[i].replica);
    t->nodes[i].replica = NULL;
    t->nodes[i].down = true;
}

static void restart(net *t, uint32_t i)
{
    open_node(t, i);
    drive(t, i);
    if (t->nodes[i].pending) {
        set_pending(t, i, true);
    }
}

static void assert_same_chains(net *t, uint64_t at_least)
{
    for (uint32_t i = 0; i < N; i++) {
        if (t->nodes[i].down) {
            continue;
        }
        if (t->nodes[i].height < at_least) {
            fail_msg("replica %u is at height %llu, view %llu (%s), expected %llu or more", i,
                     (unsigned long long)t->nodes[i].height,
                     (unsigned long long)gov_pbft_view(t->nodes[i].replica),
                     gov_pbft_view_active(t->nodes[i].replica) ? "active" : "changing",
                     (unsigned long long)at_least);
        }
        assert_int_equal(gov_pbft_height(t->nodes[i].replica), t->nodes[i].height);
        for (uint32_t j = 0; j < N; j++) {
            uint64_t common =
                t->nodes[i].height < t->nodes[j].height ? t->nodes[i].height : t->nodes[j].height;
            for (uint64_t h = 1; h <= common; h++) {
                assert_true(
                    gov_hash_equal(&t->nodes[i].chain[h].digest, &t->nodes[j].chain[h].digest));
            }
        }
    }
}

static void all_pending(net *t, bool pending)
{
    for (uint32_t i = 0; i < N; i++) {
        if (!t->nodes[i].down) {
            set_pending(t, i, pending);
        }
    }
}

/* Normal case: view 0's primary proposes, everyone commits, one view throughout. */
static void test_normal_case_commits(void **state)
{
    (void)state;
    net *t = calloc(1, sizeof(*t));
    net_init(t);
    all_pending(t, true);
    run_until(t, t->now + 100);
    assert_same_chains(t, 5);
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(gov_pbft_view(t->nodes[i].replica), 0);
        assert_int_equal(gov_pbft_stats_get(t->nodes[i].replica)->view_changes, 0);
    }
    net_free(t);
    free(t);
}

/* A crashed primary: the others time out, change view, and the new primary commits. */
static void test_view_change_on_silent_primary(void **state)
{
    (void)state;
    net *t = calloc(1, sizeof(*t));
    net_init(t);
    crash(t, 0);
    all_pending(t, true);
    run_until(t, t->now + 10 * TIMEOUT_MS);
    assert_same_chains(t, 3);
    for (uint32_t i = 1; i < N; i++) {
        assert_true(gov_pbft_view(t->nodes[i].replica) >= 1);
        assert_true(gov_pbft_view_active(t->nodes[i].replica));
    }
    /* The old primary comes back in view 0 and catches up to the others. */
    restart(t, 0);
    run_until(t, t->now + 10 * TIMEOUT_MS);
    assert_same_chains(t, 3);
    assert_true(t->nodes[0].height + 1 >= t->nodes[1].height);
    net_free(t);
    free(t);
}

/* A replica cut off for many heights catches up by BLOCK messages, each checked by its
 * certificate, then takes part again. */
static void test_catch_up_after_isolation(void **state)
{
    (void)state;
    net *t = calloc(1, sizeof(*t));
    net_init(t);
    t->nodes[3].isolated = true;
    t->blocks_left = 12;
    all_pending(t, true);
    run_until(t, t->now + 200);
    uint64_t ahead = t->nodes[0].height;
    assert_true(ahead >= 10);
    assert_int_equal(t->nodes[3].height, 0);
    t->nodes[3].isolated = false;
    crash(t, 2); /* now the quorum needs replica 3 */
    t->blocks_left = 4;
    all_pending(t, true);
    run_until(t, t->now + 20 * TIMEOUT_MS);
    assert_same_chains(t, ahead + 1);
    assert_true(gov_pbft_stats_get(t->nodes[3].replica)->catch_up_requests > 0);
    net_free(t);
    free(t);
}

/* Restarts from persisted state keep what was signed: replicas crash right after
 * voting, come back, and nobody signs a second digest (record_signed checks each). */
static void test_restart_keeps_signed_votes(void **state)
{
    (void)state;
    net *t = calloc(1, sizeof(*t));
    net_init(t);
    all_pending(t, true);
    for (int round = 0; round < 6; round++) {
        deliver_all(t, 7 + (size_t)round * 3); /* stop mid-height */
        uint32_t victim = (uint32_t)round % N;
        crash(t, victim);
        restart(t, victim);
        run_until(t, t->now + 50);
    }
    run_until(t, t->now + 30 * TIMEOUT_MS);
    assert_same_chains(t, 4);
    net_free(t);
    free(t);
}

/* Garbage, forged and misaddressed input is dropped with a reason, never acted on. */
static void test_bad_input_is_dropped(void **state)
{
    (void)state;
    net *t = calloc(1, sizeof(*t));
    net_init(t);
    gov_pbft *r = t->nodes[1].replica;
    uint8_t garbage[64];
    memset(garbage, 0xc1, sizeof(garbage)); /* 0xc1 is never valid msgpack */
    gov_pbft_receive(r, 0, garbage, sizeof(garbage), t->now);
    gov_pbft_ready *ready = gov_pbft_ready_get(r);
    assert_int_equal(ready->events_count, 1);
    assert_int_equal(ready->events[0].kind, GOV_PBFT_EVENT_DROPPED);
    assert_non_null(strstr(ready->events[0].text, "malformed"));
    assert_int_equal(ready->messages_count, 0);
    gov_pbft_ready_done(r);

    /* A PREPARE signed by validator 2's key but claiming to be from 3. */
    gov_pbft_message forged = {.type = GOV_PBFT_PREPARE};
    forged.body.phase.height = 1;
    forged.body.phase.sender = 3;
    assert_int_equal(gov_pbft_message_sign(&forged, t->keys[2], &t->set.chain_id), 0);
    gov_buf bytes;
    gov_buf_init(&bytes);
    assert_int_equal(gov_pbft_message_encode(&forged, &bytes), 0);
    gov_pbft_receive(r, 2, bytes.data, bytes.len, t->now);
    ready = gov_pbft_ready_get(r);
    assert_int_equal(ready->events_count, 1);
    assert_non_null(strstr(ready->events[0].text, "bad signature"));
    gov_pbft_ready_done(r);

    /* A PRE-PREPARE from a validator that is not the primary of its view. */
    gov_pbft_message wrong = {.type = GOV_PBFT_PRE_PREPARE};
    wrong.body.phase.height = 1;
    wrong.body.phase.sender = 2;
    uint8_t block[4] = {1, 2, 3, 4};
    wrong.body.phase.block = block;
    wrong.body.phase.block_len = sizeof(block);
    assert_int_equal(gov_pbft_message_sign(&wrong, t->keys[2], &t->set.chain_id), 0);
    gov_buf_reset(&bytes);
    assert_int_equal(gov_pbft_message_encode(&wrong, &bytes), 0);
    gov_pbft_receive(r, 2, bytes.data, bytes.len, t->now);
    ready = gov_pbft_ready_get(r);
    assert_int_equal(ready->events_count, 1);
    assert_non_null(strstr(ready->events[0].text, "not the primary"));
    assert_int_equal(ready->messages_count, 0);
    gov_pbft_ready_done(r);

    /* A message far over the size cap is refused before decoding. */
    gov_pbft_receive(r, 2, garbage, (size_t)GOV_MESSAGE_BYTES_MAX + 1, t->now);
    ready = gov_pbft_ready_get(r);
    assert_non_null(strstr(ready->events[0].text, "over the limit"));
    gov_pbft_ready_done(r);
    assert_int_equal(gov_pbft_stats_get(r)->dropped, 4);
    gov_buf_free(&bytes);

    /* And the replica still works. */
    all_pending(t, true);
    run_until(t, t->now + 100);
    assert_same_chains(t, 3);
    net_free(t);
    free(t);
}

/* An equivocating primary: two different blocks for view 0 height 1 reach different
 * backups. No block may be committed by two honest replicas with different digests;
 * the equivocation is reported; a view change gets the network going again. */
static void test_equivocating_primary(void **state)
{
    (void)state;
    net *t = calloc(1, sizeof(*t));
    net_init(t);
    crash(t, 0); /* the test plays primary 0 by hand */
    gov_buf blocks[2];
    gov_hash digests[2];
    for (int b = 0; b < 2; b++) {
        gov_buf_init(&blocks[b]);
        make_block(&t->nodes[0], 1, 100 + (uint32_t)b, &blocks[b], &digests[b]);
    }
    for (uint32_t to = 1; to < N; to++) {
        for (int b = 0; b < 2; b++) {
            int which = (to == 1) ? b : 1 - b; /* replica 1 sees 0 then 1; the others 1, 0 */
            gov_pbft_message pp = {.type = GOV_PBFT_PRE_PREPARE};
            pp.body.phase.height = 1;
            pp.body.phase.sender = 0;
            pp.body.phase.digest = digests[which];
            pp.body.phase.block = blocks[which].data;
            pp.body.phase.block_len = blocks[which].len;
            assert_int_equal(gov_pbft_message_sign(&pp, t->keys[0], &t->set.chain_id), 0);
            gov_buf bytes;
            gov_buf_init(&bytes);
            assert_int_equal(gov_pbft_message_encode(&pp, &bytes), 0);
            enqueue(t, 0, to, &bytes);
            gov_buf_free(&bytes);
        }
    }
    all_pending(t, true);
    run_until(t, t->now + 20 * TIMEOUT_MS);
    assert_same_chains(t, 2);
    uint64_t reported = 0;
    for (uint32_t i = 1; i < N; i++) {
        reported += gov_pbft_stats_get(t->nodes[i].replica)->equivocations;
    }
    assert_true(reported >= 3);
    /* Each report is kept as evidence that proves the fault with the validator set alone:
     * primary 0's two signed PRE-PREPAREs for view 0, height 1. */
    for (uint32_t i = 1; i < N; i++) {
        const node *nd = &t->nodes[i];
        assert_true(nd->evidence_count >= 1);
        const gov_equivocation *e = &nd->evidence[0];
        assert_int_equal(e->type, GOV_PBFT_PRE_PREPARE);
        assert_int_equal(e->validator, 0);
        assert_int_equal(e->view, 0);
        assert_int_equal(e->height, 1);
        int first = i == 1 ? 0 : 1; /* the block each replica saw first */
        assert_true(gov_hash_equal(&e->digests[0], &digests[first]));
        assert_true(gov_hash_equal(&e->digests[1], &digests[1 - first]));
        char why[160];
        assert_int_equal(gov_equivocation_verify(e, &t->set, why, sizeof(why)), 0);
        /* It survives its encoding, and each changed part stops it proving anything. */
        gov_buf bytes;
        gov_buf_init(&bytes);
        assert_int_equal(gov_equivocation_encode(e, &bytes), 0);
        gov_equivocation back;
        assert_int_equal(gov_equivocation_decode(bytes.data, bytes.len, &back, why, sizeof(why)),
                         0);
        assert_memory_equal(&back, e, sizeof(back));
        assert_int_not_equal(
            gov_equivocation_decode(bytes.data, bytes.len - 1, &back, why, sizeof(why)), 0);
        gov_buf_free(&bytes);
        gov_equivocation bad = *e;
        bad.signatures[1][5] ^= 1;
        assert_int_equal(gov_equivocation_verify(&bad, &t->set, why, sizeof(why)), GOV_EBADSIG);
        bad = *e;
        bad.validator = 1;
        assert_int_equal(gov_equivocation_verify(&bad, &t->set, why, sizeof(why)), GOV_EBADSIG);
        bad = *e;
        bad.view = 1;
        assert_int_equal(gov_equivocation_verify(&bad, &t->set, why, sizeof(why)), GOV_EBADSIG);
        bad = *e;
        bad.type = GOV_PBFT_PREPARE;
        assert_int_equal(gov_equivocation_verify(&bad, &t->set, why, sizeof(why)), GOV_EBADSIG);
        bad = *e;
        bad.digests[1] = bad.digests[0];
        memcpy(bad.signatures[1], bad.signatures[0], GOV_SIGNATURE_LEN);
        assert_int_equal(gov_equivocation_verify(&bad, &t->set, why, sizeof(why)), GOV_EINVAL);
        bad = *e;
        bad.validator = N;
        assert_int_equal(gov_equivocation_verify(&bad, &t->set, why, sizeof(why)), GOV_EINVAL);
    }
    for (int b = 0; b < 2; b++) {
        gov_buf_free(&blocks[b]);
    }
    net_free(t);
    free(t);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normal_case_commits),
        cmocka_unit_test(test_view_change_on_silent_primary),
        cmocka_unit_test(test_catch_up_after_isolation),
        cmocka_unit_test(test_restart_keeps_signed_votes),
        cmocka_unit_test(test_bad_input_is_dropped),
        cmocka_unit_test(test_equivocating_primary),
    };
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
