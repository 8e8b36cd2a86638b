/*
 * Byzantine behaviour: a faulty instance runs the real replica, and everything it sends
 * passes through sim_byz_send, which holds its private key and so can sign whatever
 * a faulty validator could. Honest replicas must stay safe against all of it; with at
 * most f of these, live too.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "govchain/assert.h"
#include "tests/sim/world.h"

static const gov_private_key *key_of(sim_world *w, const sim_instance *inst)
{
    return w->keys->keys[inst->index];
}

/* Signs and sends a message built here. */
static void send_signed(sim_world *w, sim_instance *inst, uint32_t to, gov_pbft_message *message)
{
    gov_buf buf;
    gov_buf_init(&buf);
    if (gov_pbft_message_sign(message, key_of(w, inst), &w->set->chain_id) == 0 &&
        gov_pbft_message_encode(message, &buf) == 0) {
        sim_net_send(w, inst->id, to, buf.data, buf.len);
    }
    gov_buf_free(&buf);
}

/* The alternative block for (view, height): the proposal a colluding primary sends to
 * half the replicas, and the digest double-voters vote for. Built once per (view,
 * height) so that every faulty validator backs the same one. */
static const gov_hash *alt_digest(sim_world *w, uint64_t view, uint64_t height,
                                  const gov_hash *parent, uint32_t proposer)
{
    if (w->alt_valid && w->alt_view == view && w->alt_height == height) {
        return &w->alt_digest;
    }
    sim_block block = {.height = height, .proposer = proposer, .txs_count = 1};
    block.parent = parent != NULL ? *parent : (gov_hash){{0}};
    if (parent == NULL) {
        for (int i = 0; i < GOV_HASH_LEN; i++) {
            block.parent.bytes[i] = (uint8_t)sim_rng_u64(&w->rng);
        }
    }
    block.txs[0] = ((uint64_t)1 << 40) + sim_rng_below(&w->rng, 1u << 30);
    GOV_ASSERT(sim_block_encode(&block, &w->alt_block) == 0);
    sim_block_digest(w->alt_block.data, w->alt_block.len, &w->alt_digest);
    w->alt_view = view;
    w->alt_height = height;
    w->alt_valid = true;
    return &w->alt_digest;
}

/* Sends `to` each validator other than itself separately, so a split can differ. */
static void for_each_peer(sim_world *w, sim_instance *inst, uint32_t to, uint32_t *peers,
                          uint32_t *count)
{
    *count = 0;
    for (uint32_t v = 0; v < w->n; v++) {
        if (v != inst->index && (to == GOV_PBFT_ALL || to == v)) {
            peers[(*count)++] = v;
        }
    }
}

static void equivocate(sim_world *w, sim_instance *inst, uint32_t to, const gov_pbft_message *m,
                       const uint8_t *data, size_t len)
{
    const gov_pbft_phase *phase = &m->body.phase;
    sim_block original;
    if (m->type != GOV_PBFT_PRE_PREPARE ||
        sim_block_decode(phase->block, phase->block_len, &original) != 0) {
        sim_net_send(w, inst->id, to, data, len);
        return;
    }
    alt_digest(w, phase->view, phase->height, &original.parent, inst->index);
    gov_pbft_message alt = {.type = GOV_PBFT_PRE_PREPARE};
    alt.body.phase = (gov_pbft_phase){.view = phase->view,
                                      .height = phase->height,
                                      .sender = inst->index,
                                      .digest = w->alt_digest};
    alt.body.phase.block = w->alt_block.data;
    alt.body.phase.block_len = w->alt_block.len;
    uint32_t peers[SIM_VALIDATORS_MAX], count;
    for_each_peer(w, inst, to, peers, &count);
    for (uint32_t i = 0; i < count; i++) {
        if (sim_rng_chance(&w->rng, 500)) {
            send_signed(w, inst, peers[i], &alt);
        } else {
            sim_net_send(w, inst->id, peers[i], data, len);
        }
    }
}

static void double_vote(sim_world *w, sim_instance *inst, uint32_t to, const gov_pbft_message *m,
                        const uint8_t *data, size_t len)
{
    sim_net_send(w, inst->id, to, data, len);
    if (m->type != GOV_PBFT_PREPARE && m->type != GOV_PBFT_COMMIT) {
        return;
    }
    gov_pbft_message second = *m;
    second.body.phase.digest =
        *alt_digest(w, m->body.phase.view, m->body.phase.height, NULL, inst->index);
    uint32_t peers[SIM_VALIDATORS_MAX], count;
    for_each_peer(w, inst, to, peers, &count);
    for (uint32_t i = 0; i < count; i++) {
        if (sim_rng_chance(&w->rng, 600)) {
            send_signed(w, inst, peers[i], &second);
        }
    }
}

/* A VIEW-CHANGE for `view`, carrying the instance's real committed head. */
static void send_view_change(sim_world *w, sim_instance *inst, uint64_t view)
{
    gov_pbft_message vc = {.type = GOV_PBFT_VIEW_CHANGE};
    gov_pbft_view_change *body = &vc.body.view_change;
    body->new_view = view;
    body->sender = inst->index;
    body->committed_height = inst->ledger.count;
    const sim_entry *head = sim_ledger_at(&inst->ledger, inst->ledger.count);
    if (head != NULL) {
        body->has_commit_cert = true;
        body->commit_cert = head->cert;
    }
    send_signed(w, inst, GOV_PBFT_ALL, &vc);
}

static void huge_view(sim_world *w, sim_instance *inst, uint32_t to, const gov_pbft_message *m,
                      const uint8_t *data, size_t len)
{
    static const uint64_t views[] = {GOV_PBFT_VIEW_MAX - 1, GOV_PBFT_VIEW_MAX,
                                     GOV_PBFT_VIEW_MAX + 1, UINT64_MAX};
    sim_net_send(w, inst->id, to, data, len);
    if (!sim_rng_chance(&w->rng, 300)) {
        return;
    }
    uint64_t view = views[sim_rng_below(&w->rng, 4)];
    send_view_change(w, inst, view);
    if (m->type == GOV_PBFT_PREPARE || m->type == GOV_PBFT_COMMIT) {
        gov_pbft_message high = *m;
        high.body.phase.view = view;
        send_signed(w, inst, GOV_PBFT_ALL, &high);
    }
}

static void far_ahead(sim_world *w, sim_instance *inst, uint32_t to, const gov_pbft_message *m,
                      const uint8_t *data, size_t len)
{
    sim_net_send(w, inst->id, to, data, len);
    if (!sim_rng_chance(&w->rng, 400)) {
        return;
    }
    if (m->type == GOV_PBFT_PREPARE || m->type == GOV_PBFT_COMMIT ||
        m->type == GOV_PBFT_PRE_PREPARE) {
        gov_pbft_message ahead = *m; /* borrows the block: never cleared */
        ahead.body.phase.height += sim_rng_chance(&w->rng, 500) ? 1000 : ((uint64_t)1 << 40);
        send_signed(w, inst, to, &ahead);
        return;
    }
    /* A BLOCK far ahead whose certificate is for another height or block. */
    const sim_entry *head = sim_ledger_at(&inst->ledger, inst->ledger.count);
    if (head != NULL) {
        gov_commit_cert cert = head->cert;
        cert.height = inst->ledger.count + 1000;
        gov_buf buf;
        gov_buf_init(&buf);
        if (gov_pbft_block_message_encode(cert.height, head->block, head->block_len, &cert, &buf) ==
            0) {
            sim_net_send(w, inst->id, to, buf.data, buf.len);
        }
        gov_buf_free(&buf);
    }
}

static void garbage(sim_world *w, sim_instance *inst, uint32_t to, const uint8_t *data, size_t len)
{
    uint64_t choice = sim_rng_below(&w->rng, 4);
    if (choice == 0) {
        sim_net_send(w, inst->id, to, data, len);
        return;
    }
    gov_buf buf;
    gov_buf_init(&buf);
    if (choice == 1) { /* random bytes, sometimes starting like a message */
        size_t n = (size_t)sim_rng_below(&w->rng, 200);
        for (size_t i = 0; i < n; i++) {
            uint8_t byte = (uint8_t)sim_rng_u64(&w->rng);
            gov_buf_append(&buf, &byte, 1);
        }
    } else if (choice == 2 && len > 0) { /* one byte changed */
        gov_buf_append(&buf, data, len);
        buf.data[sim_rng_below(&w->rng, len)] ^= (uint8_t)sim_rng_range(&w->rng, 1, 255);
    } else { /* truncated */
        gov_buf_append(&buf, data, len == 0 ? 0 : (size_t)sim_rng_below(&w->rng, len));
    }
    sim_net_send(w, inst->id, to, buf.data, buf.len);
    gov_buf_free(&buf);
    if (sim_rng_chance(&w->rng, 300)) {
        sim_net_send(w, inst->id, to, data, len);
    }
}

void sim_byz_send(sim_world *w, sim_instance *inst, uint32_t to, const uint8_t *data, size_t len)
{
    if (inst->byz == SIM_BYZ_SILENT) {
        return;
    }
    if (inst->byz == SIM_BYZ_GARBAGE) {
        garbage(w, inst, to, data, len);
        return;
    }
    gov_pbft_message m;
    if (gov_pbft_message_decode(data, len, &m, NULL, 0) != 0) {
        sim_net_send(w, inst->id, to, data, len);
        return;
    }
    switch (inst->byz) {
    case SIM_BYZ_EQUIVOCATE:
        equivocate(w, inst, to, &m, data, len);
        break;
    case SIM_BYZ_DOUBLE_VOTE:
        double_vote(w, inst, to, &m, data, len);
        break;
    case SIM_BYZ_HUGE_VIEW:
        huge_view(w, inst, to, &m, data, len);
        break;
    case SIM_BYZ_FAR_AHEAD:
        far_ahead(w, inst, to, &m, data, len);
        break;
    default:
        sim_net_send(w, inst->id, to, data, len);
        break;
    }
    gov_pbft_message_clear(&m);
}

void sim_byz_free(sim_world *w)
{
    gov_buf_free(&w->alt_block);
    w->alt_valid = false;
}
