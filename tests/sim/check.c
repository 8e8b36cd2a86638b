/*
 * The simulator's safety checkers, run on every commit and on every message an honest
 * replica sends (docs/simulation.md lists them). A violation stops the seed through
 * sim_fail(), which names the invariant first.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "govchain/assert.h"
#include "tests/sim/world.h"

static void hex8(const gov_hash *hash, char out[17])
{
    gov_hex_encode(hash->bytes, 8, out);
}

/* Agreement: honest instances (twins and Byzantine excluded) commit one digest per
 * height, kept in a map for the whole seed. */
static void check_agreement(sim_world *w, const sim_instance *inst, uint64_t height,
                            const gov_hash *digest)
{
    if (height >= w->agreed_capacity) {
        size_t capacity = w->agreed_capacity == 0 ? 64 : w->agreed_capacity;
        while (capacity <= height) {
            capacity *= 2;
        }
        w->agreed = realloc(w->agreed, capacity * sizeof(*w->agreed));
        w->agreed_set = realloc(w->agreed_set, capacity * sizeof(*w->agreed_set));
        GOV_ASSERT(w->agreed != NULL && w->agreed_set != NULL);
        memset(w->agreed_set + w->agreed_capacity, 0, capacity - w->agreed_capacity);
        w->agreed_capacity = capacity;
    }
    if (!w->agreed_set[height]) {
        w->agreed_set[height] = true;
        w->agreed[height] = *digest;
        return;
    }
    if (!gov_hash_equal(&w->agreed[height], digest)) {
        char a[17], b[17];
        hex8(&w->agreed[height], a);
        hex8(digest, b);
        sim_fail(w,
                 "agreement: replica %u committed %s at height %" PRIu64
                 " where another honest replica committed %s",
                 inst->index, b, height, a);
    }
}

/* Every committed block: consecutive with the ledger, its certificate valid and for
 * this height and digest, its digest the block's hash, and the block well-formed and
 * chained on the previous head. */
void sim_check_commit(sim_world *w, sim_instance *inst, const gov_pbft_commit *commit)
{
    char why[160] = "";
    gov_hash actual;
    sim_block block;
    uint64_t expected = inst->ledger.count + 1;
    if (commit->height != expected) {
        sim_fail(w,
                 "durability: replica %u (instance %u) committed height %" PRIu64
                 " on a ledger at %zu",
                 inst->index, inst->id, commit->height, inst->ledger.count);
        return;
    }
    sim_block_digest(commit->block, commit->block_len, &actual);
    if (!gov_hash_equal(&actual, &commit->digest) ||
        !gov_hash_equal(&commit->cert.digest, &commit->digest) ||
        commit->cert.height != commit->height) {
        sim_fail(w,
                 "certificate: replica %u's commit at height %" PRIu64
                 " names another digest or height than its block",
                 inst->index, commit->height);
        return;
    }
    int rc = gov_commit_cert_verify(&commit->cert, w->set, why, sizeof(why));
    if (rc != 0) {
        sim_fail(w, "certificate: replica %u's commit at height %" PRIu64 ": %s", inst->index,
                 commit->height, why);
        return;
    }
    if (sim_block_decode(commit->block, commit->block_len, &block) != 0 ||
        block.height != commit->height ||
        !gov_hash_equal(&block.parent, sim_ledger_head_digest(&inst->ledger))) {
        sim_fail(w,
                 "chain: replica %u committed a block at height %" PRIu64
                 " that is malformed or not on its head",
                 inst->index, commit->height);
        return;
    }
    if (inst->role == SIM_HONEST) {
        check_agreement(w, inst, commit->height, &commit->digest);
    }
}

/* Non-equivocation: the table of what each honest validator signed. */
static uint64_t vote_hash(uint32_t index, uint32_t type, uint64_t view, uint64_t height)
{
    uint64_t h = 0x9e3779b97f4a7c15u ^ index;
    h = (h ^ type) * 0xbf58476d1ce4e5b9u;
    h = (h ^ view) * 0x94d049bb133111ebu;
    h = (h ^ height) * 0xbf58476d1ce4e5b9u;
    return h ^ (h >> 31);
}

static sim_vote_slot *vote_find(sim_world *w, uint32_t index, uint32_t type, uint64_t view,
                                uint64_t height)
{
    size_t mask = w->votes_capacity - 1;
    size_t i = vote_hash(index, type, view, height) & mask;
    while (w->votes[i].type != 0) {
        sim_vote_slot *slot = &w->votes[i];
        if (slot->index == index && slot->type == type && slot->view == view &&
            slot->height == height) {
            return slot;
        }
        i = (i + 1) & mask;
    }
    return &w->votes[i];
}

static void votes_grow(sim_world *w)
{
    sim_vote_slot *old = w->votes;
    size_t old_capacity = w->votes_capacity;
    w->votes_capacity = old_capacity == 0 ? 1024 : 2 * old_capacity;
    w->votes = calloc(w->votes_capacity, sizeof(*w->votes));
    GOV_ASSERT(w->votes != NULL);
    for (size_t i = 0; i < old_capacity; i++) {
        if (old[i].type != 0) {
            *vote_find(w, old[i].index, old[i].type, old[i].view, old[i].height) = old[i];
        }
    }
    free(old);
}

static void record_vote(sim_world *w, const sim_instance *inst, gov_pbft_type type,
                        const gov_pbft_phase *phase)
{
    if (phase->sender != inst->index) {
        return; /* a relay (e.g. the primary's PRE-PREPARE asked for by a peer) */
    }
    if (2 * (w->votes_count + 1) > w->votes_capacity) {
        votes_grow(w);
    }
    sim_vote_slot *slot = vote_find(w, inst->index, type, phase->view, phase->height);
    if (slot->type == 0) {
        *slot = (sim_vote_slot){.view = phase->view,
                                .height = phase->height,
                                .index = inst->index,
                                .type = type,
                                .digest = phase->digest};
        w->votes_count++;
        return;
    }
    if (!gov_hash_equal(&slot->digest, &phase->digest)) {
        char a[17], b[17];
        hex8(&slot->digest, a);
        hex8(&phase->digest, b);
        sim_fail(w,
                 "non-equivocation: honest replica %u signed %s for view %" PRIu64
                 " height %" PRIu64 " with digests %s and %s",
                 inst->index, gov_pbft_type_name(type), phase->view, phase->height, a, b);
    }
}

/* Decodes what an honest replica sends and records every PRE-PREPARE, PREPARE and
 * COMMIT it signed, NEW-VIEW's embedded PRE-PREPARE included. A replica that sends
 * bytes that do not decode is also reported: its peers would drop them. */
void sim_check_outgoing(sim_world *w, sim_instance *inst, const uint8_t *data, size_t len)
{
    gov_pbft_message message;
    char why[160] = "";
    if (gov_pbft_message_decode(data, len, &message, why, sizeof(why)) != 0) {
        sim_fail(w, "well-formed: replica %u sent a message that does not decode: %s", inst->index,
                 why);
        return;
    }
    switch (message.type) {
    case GOV_PBFT_PRE_PREPARE:
    case GOV_PBFT_PREPARE:
    case GOV_PBFT_COMMIT:
        record_vote(w, inst, message.type, &message.body.phase);
        break;
    case GOV_PBFT_NEW_VIEW:
        if (message.body.new_view.pre_prepare != NULL) {
            record_vote(w, inst, GOV_PBFT_PRE_PREPARE,
                        &message.body.new_view.pre_prepare->body.phase);
        }
        break;
    default:
        break;
    }
    gov_pbft_message_clear(&message);
}

/* Accountability: every equivocation proof a replica reports verifies against the
 * validator set, and accuses a validator that really is faulty (Byzantine, or one key
 * run twice): an honest validator is never accused. */
void sim_check_evidence(sim_world *w, const sim_instance *inst, const gov_pbft_ready *ready)
{
    for (size_t i = 0; i < ready->evidence_count; i++) {
        const gov_equivocation *e = &ready->evidence[i];
        char why[160] = "";
        if (gov_equivocation_verify(e, w->set, why, sizeof(why)) != 0) {
            sim_fail(w, "evidence: replica %u reported a proof that does not verify: %s",
                     inst->index, why);
            return;
        }
        bool faulty = false;
        for (uint32_t k = 0; k < w->count; k++) {
            faulty |= w->inst[k].index == e->validator && w->inst[k].role != SIM_HONEST;
        }
        if (!faulty) {
            sim_fail(w,
                     "evidence: replica %u accused honest validator %u of equivocating (%s, "
                     "view %" PRIu64 ", height %" PRIu64 ")",
                     inst->index, e->validator, gov_pbft_type_name(e->type), e->view, e->height);
            return;
        }
        w->result->evidence++;
    }
}

void sim_check_free(sim_world *w)
{
    free(w->agreed);
    free(w->agreed_set);
    free(w->votes);
    w->agreed = NULL;
    w->agreed_set = NULL;
    w->votes = NULL;
}
