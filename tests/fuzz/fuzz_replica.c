/*
 * Fuzz target: one PBFT replica (validator 1 of 4) driven by a script the fuzzer writes.
 * Each step is raw bytes from a peer, or a validly signed PRE-PREPARE / PREPARE / COMMIT /
 * VIEW-CHANGE from any validator (keys below), a clock tick, a ledger answer, a change of
 * pending work, or a restart from the persisted state. So the fuzzer reaches the
 * replica's logic behind the signature checks, not only its decoder.
 *
 * Oracles (abort on violation): the replica never signs two digests for one
 * (type, view, height), also across restarts; every block it commits carries a commit
 * certificate that verifies, for that block's digest and the next height.
 *
 * The keys are test keys made for this file only.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "govchain/canon.h"
#include "govchain/crypto.h"
#include "govchain/messages.h"
#include "govchain/pbft.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { N = 4, SELF = 1, SIGNED_MAX = 512 };

static const char *const PEMS[N] = {
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgy20+tuYzKCjk5LzE\n"
    "Q9z8vDCnfLUBEs+v1g8gWDngNTuhRANCAAR1xhVcYKlXI4lJoPmj0RiHVAKdIoCx\n"
    "BzM07igS9Blt6YZI2HDF9Vq3bQqkTW28qn+kfbSASuZxvlv+XFkItQQO\n"
    "-----END PRIVATE KEY-----\n",
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgdq09smPTHEF+7E9N\n"
    "o3RMODZzUvYPxmGRD3cNcy9yJQmhRANCAARzSMLq+/mdRQwkkbdv65wiSJgkxhk8\n"
    "GYx/446gxLkRfzE2CsOORiNN6IEYH8OZljCpO8jH9Pf4nyjex8orOJTl\n"
    "-----END PRIVATE KEY-----\n",
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgmLdx34v6qBFmffsD\n"
    "JQ86aSr2SYCpsYCsyBGp98cZxUqhRANCAAT1lKETSJa5skEKfUbEd1qgKJZjhhFU\n"
    "/6m5q3odJzuWe57HFkIQFeBilN4PzslBSH71JdXcBuZjvnCEsoicl0Iz\n"
    "-----END PRIVATE KEY-----\n",
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgpX31Tg9cUb60sIMC\n"
    "YqjtlTJhOmkG8Caatv98Ct2W6FGhRANCAAShJMgXZRVPB8zxVLjQVBH4ctqe8HrJ\n"
    "D56bDL9BPTorDD6yN34gaXvJnGfdmUlLWJIt/B2ykiYUsClIF58aXMef\n"
    "-----END PRIVATE KEY-----\n",
};

static gov_private_key *keys[N];
static gov_public_key *public_keys[N];
static gov_validator_set set;

typedef struct {
    const uint8_t *data;
    size_t size, at;
} script;

static uint8_t next(script *s)
{
    return s->at < s->size ? s->data[s->at++] : 0;
}

static void setup(void)
{
    if (keys[0] != NULL) {
        return;
    }
    for (int i = 0; i < N; i++) {
        uint8_t bytes[GOV_PUBLIC_KEY_LEN];
        if (gov_private_key_from_pem(GOV_SUITE_P256_SHA256, PEMS[i], strlen(PEMS[i]), &keys[i]) !=
            0) {
            abort();
        }
        gov_private_key_public(keys[i], bytes);
        if (gov_public_key_parse(GOV_SUITE_P256_SHA256, bytes, &public_keys[i]) != 0) {
            abort();
        }
    }
    set.suite = GOV_SUITE_P256_SHA256;
    memset(set.chain_id.bytes, 0x33, GOV_HASH_LEN);
    set.count = N;
    set.keys = public_keys;
    set.cache = gov_sig_cache_new(1024);
}

typedef struct {
    gov_pbft *replica;
    uint64_t now;
    gov_buf durable;
    /* The ledger's head. */
    uint64_t height;
    gov_hash digest;
    gov_buf block;
    gov_commit_cert cert;
    /* Outstanding ledger requests. */
    bool validate, build;
    uint64_t validate_height, build_height;
    gov_hash validate_digest;
    /* What the replica signed: (type, view, height) -> digest. */
    struct {
        gov_pbft_type type;
        uint64_t view, height;
        gov_hash digest;
    } signed_votes[SIGNED_MAX];
    size_t signed_count;
} world;

static void check_signed(world *w, const gov_buf *bytes)
{
    gov_pbft_message message;
    char why[160];
    if (gov_pbft_message_decode(bytes->data, bytes->len, &message, why, sizeof(why)) != 0) {
        fprintf(stderr, "the replica sent a message that does not decode: %s\n", why);
        abort();
    }
    const gov_pbft_phase *phase = NULL;
    gov_pbft_type type = message.type;
    if (type == GOV_PBFT_PRE_PREPARE || type == GOV_PBFT_PREPARE || type == GOV_PBFT_COMMIT) {
        phase = &message.body.phase;
    } else if (type == GOV_PBFT_NEW_VIEW && message.body.new_view.pre_prepare != NULL) {
        phase = &message.body.new_view.pre_prepare->body.phase;
        type = GOV_PBFT_PRE_PREPARE;
    }
    if (phase != NULL && phase->sender == SELF) {
        bool seen = false;
        for (size_t i = 0; i < w->signed_count && !seen; i++) {
            if (w->signed_votes[i].type == type && w->signed_votes[i].view == phase->view &&
                w->signed_votes[i].height == phase->height) {
                seen = true;
                if (!gov_hash_equal(&w->signed_votes[i].digest, &phase->digest)) {
                    fprintf(stderr, "the replica signed two %s digests at view %llu height %llu\n",
                            gov_pbft_type_name(type), (unsigned long long)phase->view,
                            (unsigned long long)phase->height);
                    abort();
                }
            }
        }
        if (!seen && w->signed_count < SIGNED_MAX) {
            w->signed_votes[w->signed_count].type = type;
            w->signed_votes[w->signed_count].view = phase->view;
            w->signed_votes[w->signed_count].height = phase->height;
            w->signed_votes[w->signed_count].digest = phase->digest;
            w->signed_count++;
        }
    }
    gov_pbft_message_clear(&message);
}

static void drain(world *w)
{
    gov_pbft_ready *ready = gov_pbft_ready_get(w->replica);
    for (size_t i = 0; i < ready->commits_count; i++) {
        const gov_pbft_commit *c = &ready->commits[i];
        char why[160];
        if (c->height != w->height + 1 || !gov_hash_equal(&c->cert.digest, &c->digest) ||
            c->cert.height != c->height ||
            gov_commit_cert_verify(&c->cert, &set, why, sizeof(why)) != 0) {
            fprintf(stderr, "commit of height %llu without a valid certificate\n",
                    (unsigned long long)c->height);
            abort();
        }
        w->height = c->height;
        w->digest = c->digest;
        w->cert = c->cert;
        gov_buf_reset(&w->block);
        gov_buf_append(&w->block, c->block, c->block_len);
    }
    if (ready->persist) {
        gov_buf_reset(&w->durable);
        gov_buf_append(&w->durable, ready->durable.data, ready->durable.len);
    }
    for (size_t i = 0; i < ready->messages_count; i++) {
        check_signed(w, &ready->messages[i].bytes);
    }
    if (ready->validate.requested) {
        w->validate = true;
        w->validate_height = ready->validate.height;
        w->validate_digest = ready->validate.digest;
    }
    if (ready->build.requested) {
        w->build = true;
        w->build_height = ready->build.height;
    }
    gov_pbft_ready_done(w->replica);
}

static void open_replica(world *w)
{
    gov_pbft_config config = {.validators = &set, .self = SELF, .key = keys[SELF]};
    config.view_timeout_ms = 1000;
    config.view_timeout_max_ms = 8000;
    gov_pbft_head head = {.height = w->height, .digest = w->digest};
    if (w->height > 0) {
        head.block = w->block.data;
        head.block_len = w->block.len;
        head.cert = &w->cert;
    }
    char why[160];
    if (gov_pbft_open(&config, &head, w->durable.data, w->durable.len, w->now, &w->replica, why,
                      sizeof(why)) != 0) {
        fprintf(stderr, "the replica does not reopen from its own state: %s\n", why);
        abort();
    }
    w->validate = w->build = false;
    drain(w);
}

/* Three candidate blocks per height: their bytes and digests. */
static void candidate(uint64_t height, uint8_t which, gov_buf *block, gov_hash *digest)
{
    gov_buf_reset(block);
    gov_enc_array(block, 2);
    gov_enc_uint(block, height);
    gov_enc_uint(block, which % 3);
    gov_hash_bytes(GOV_SUITE_P256_SHA256, block->data, block->len, digest);
}

static void send_signed(world *w, script *s)
{
    uint8_t op = next(s);
    gov_pbft_message message;
    memset(&message, 0, sizeof(message));
    gov_buf block;
    gov_buf_init(&block);
    uint32_t sender = next(s) % N;
    if (op % 4 == 3) {
        message.type = GOV_PBFT_VIEW_CHANGE;
        message.body.view_change.new_view = gov_pbft_view(w->replica) + next(s) % 3;
        message.body.view_change.sender = sender;
        message.body.view_change.committed_height = w->height;
        message.body.view_change.has_commit_cert = w->height > 0;
        message.body.view_change.commit_cert = w->cert;
    } else {
        gov_pbft_phase *phase = &message.body.phase;
        message.type = (gov_pbft_type)(GOV_PBFT_PRE_PREPARE + op % 3);
        phase->view = gov_pbft_view(w->replica) + next(s) % 3;
        phase->height = w->height + 1 + next(s) % 2;
        phase->sender = message.type == GOV_PBFT_PRE_PREPARE ? (uint32_t)(phase->view % N) : sender;
        sender = phase->sender;
        candidate(phase->height, next(s), &block, &phase->digest);
        if (message.type == GOV_PBFT_PRE_PREPARE) {
            phase->block = block.data;
            phase->block_len = block.len;
        }
    }
    gov_buf bytes;
    gov_buf_init(&bytes);
    if (gov_pbft_message_sign(&message, keys[sender], &set.chain_id) == 0 &&
        gov_pbft_message_encode(&message, &bytes) == 0) {
        gov_pbft_receive(w->replica, sender, bytes.data, bytes.len, w->now);
    }
    gov_buf_free(&bytes);
    gov_buf_free(&block);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    world *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return 0;
    }
    script s = {data, size, 0};
    w->now = 1000;
    memset(w->digest.bytes, 0x33, GOV_HASH_LEN);
    open_replica(w);
    for (int steps = 0; s.at < s.size && steps < 64; steps++) {
        uint8_t op = next(&s);
        switch (op % 8) {
        case 0: { /* raw bytes from a peer */
            uint32_t from = next(&s) % N;
            size_t len = next(&s) % 200;
            if (len > s.size - s.at) {
                len = s.size - s.at;
            }
            gov_pbft_receive(w->replica, from, s.data + s.at, len, w->now);
            s.at += len;
            break;
        }
        case 1:
        case 2:
            send_signed(w, &s);
            break;
        case 3:
            w->now += (uint64_t)next(&s) * 40;
            gov_pbft_tick(w->replica, w->now);
            break;
        case 4:
            if (w->validate) {
                w->validate = false;
                gov_pbft_validated(w->replica, w->validate_height, &w->validate_digest,
                                   next(&s) % 4 != 0, w->now);
            }
            break;
        case 5:
            if (w->build) {
                gov_buf block;
                gov_hash digest;
                gov_buf_init(&block);
                candidate(w->build_height, next(&s), &block, &digest);
                w->build = false;
                gov_pbft_built(w->replica, w->build_height, &digest, block.data, block.len, w->now);
                gov_buf_free(&block);
            }
            break;
        case 6:
            gov_pbft_set_pending(w->replica, next(&s) % 2, w->now);
            break;
        default:
            gov_pbft_free(w->replica);
            open_replica(w);
            break;
        }
        drain(w);
    }
    gov_pbft_free(w->replica);
    gov_buf_free(&w->durable);
    gov_buf_free(&w->block);
    free(w);
    return 0;
}
