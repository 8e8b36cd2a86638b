/* Random values of every canonical structure (see values.h). */
#include "tests/unit/values.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/test_util.h"

/* xorshift64*: small, fast and the same on every platform. */
uint64_t test_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dULL;
}

void test_random_bytes(uint64_t *state, void *out, size_t len)
{
    uint8_t *bytes = out;
    for (size_t i = 0; i < len; i++) {
        bytes[i] = (uint8_t)(test_random(state) >> 56);
    }
}

uint64_t random_below(uint64_t *rng, uint64_t bound)
{
    return bound == 0 ? 0 : test_random(rng) % bound;
}

/* Integers of every width class, so that every msgpack integer header is exercised. */
uint64_t random_uint(uint64_t *rng)
{
    static const uint64_t bounds[] = {0x80, 0x100, 0x10000, 0x100000000ULL, UINT64_MAX};
    uint64_t bound = bounds[random_below(rng, 5)];
    return bound == UINT64_MAX ? test_random(rng) : random_below(rng, bound);
}

void random_hash(uint64_t *rng, gov_hash *out)
{
    test_random_bytes(rng, out->bytes, GOV_HASH_LEN);
}

void random_id(uint64_t *rng, char *out)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789._-";
    size_t len = 1 + random_below(rng, GOV_ID_LEN_MAX);
    for (size_t i = 0; i < len; i++) {
        out[i] = alphabet[random_below(rng, i == 0 ? 36 : sizeof(alphabet) - 1)];
    }
    out[len] = '\0';
}

/* Text with multi-byte characters (2, 3 and 4 bytes) that stays within max bytes. */
void random_text(uint64_t *rng, char *out, size_t max)
{
    static const char *pieces[] = {"a", "Z", " ", "证", "书", "é", "\xf0\x9f\x93\x9c", "7"};
    size_t len = 0;
    size_t target = random_below(rng, max + 1);
    while (len < target) {
        const char *piece = pieces[random_below(rng, 8)];
        size_t piece_len = strlen(piece);
        if (len + piece_len > target) {
            break;
        }
        memcpy(out + len, piece, piece_len);
        len += piece_len;
    }
    out[len] = '\0';
}

void random_issue(uint64_t *rng, gov_issue *issue)
{
    random_hash(rng, &issue->doc_hash);
    issue->doc_class = (gov_doc_class)(1 + random_below(rng, 2));
    random_id(rng, issue->doc_type);
    random_hash(rng, &issue->subject_ref);
    issue->valid_from_ms = random_uint(rng);
    issue->valid_until_ms = random_uint(rng);
    issue->has_supersedes = random_below(rng, 2) == 1;
    if (issue->has_supersedes) {
        random_hash(rng, &issue->supersedes);
    }
    uint32_t count = (uint32_t)random_below(rng, GOV_METADATA_ENTRIES_MAX + 1);
    issue->metadata = count > 0 ? calloc(count, sizeof(*issue->metadata)) : NULL;
    /* Keys "k00".."k15" with random suffixes keep them unique and ascending. */
    for (uint32_t i = 0; i < count; i++) {
        snprintf(issue->metadata[i].key, sizeof(issue->metadata[i].key), "k%02u", i);
        random_text(rng, issue->metadata[i].value, GOV_METADATA_VALUE_LEN_MAX);
    }
    issue->metadata_count = count;
}

void random_tx(uint64_t *rng, gov_tx *tx)
{
    memset(tx, 0, sizeof(*tx));
    tx->version = GOV_TX_VERSION;
    tx->kind = (gov_tx_kind)(1 + random_below(rng, 3));
    random_hash(rng, &tx->chain_id);
    random_id(rng, tx->department);
    tx->key_index = (uint32_t)random_below(rng, GOV_DEPARTMENT_KEYS_MAX);
    tx->nonce = random_uint(rng);
    tx->created_ms = random_uint(rng);
    if (tx->kind == GOV_TX_ISSUE) {
        random_issue(rng, &tx->payload.issue);
    } else {
        gov_doc_remark *remark =
            tx->kind == GOV_TX_ENDORSE ? &tx->payload.endorse : &tx->payload.revoke;
        random_hash(rng, &remark->doc_hash);
        random_text(rng, remark->text, GOV_NOTE_LEN_MAX);
    }
    test_random_bytes(rng, tx->signature, GOV_SIGNATURE_LEN);
}

void random_header(uint64_t *rng, gov_block_header *header)
{
    header->version = GOV_BLOCK_VERSION;
    random_hash(rng, &header->chain_id);
    header->height = random_uint(rng);
    random_hash(rng, &header->prev_hash);
    header->time_ms = random_uint(rng);
    header->proposer = (uint32_t)random_below(rng, GOV_VALIDATORS_MAX);
    header->tx_count = (uint32_t)random_below(rng, GOV_BLOCK_TXS_MAX + 1);
    random_hash(rng, &header->tx_root);
    random_hash(rng, &header->state_root);
    random_hash(rng, &header->history_root);
    random_hash(rng, &header->validators_hash);
}

void random_block(uint64_t *rng, gov_block *block, uint32_t txs_max)
{
    memset(block, 0, sizeof(*block));
    random_header(rng, &block->header);
    block->txs_count = (uint32_t)random_below(rng, txs_max + 1);
    block->header.tx_count = block->txs_count;
    block->txs = calloc(block->txs_count + 1, sizeof(*block->txs));
    for (uint32_t i = 0; i < block->txs_count; i++) {
        random_tx(rng, &block->txs[i]);
    }
}

/* count distinct validators in ascending order, with random signatures. */
uint32_t random_votes(uint64_t *rng, gov_vote_signature *votes)
{
    uint32_t count = 0;
    uint32_t chance = 1 + (uint32_t)random_below(rng, 8);
    for (uint32_t validator = 0; validator < GOV_VALIDATORS_MAX; validator++) {
        if (random_below(rng, chance) == 0) {
            votes[count].validator = validator;
            test_random_bytes(rng, votes[count].signature, GOV_SIGNATURE_LEN);
            count++;
        }
    }
    return count;
}

void random_commit_cert(uint64_t *rng, gov_commit_cert *cert, uint64_t height)
{
    memset(cert, 0, sizeof(*cert));
    cert->view = random_uint(rng);
    cert->height = height;
    random_hash(rng, &cert->digest);
    cert->votes_count = random_votes(rng, cert->votes);
}

void random_view_change(uint64_t *rng, gov_pbft_view_change *view_change, uint64_t new_view,
                        uint32_t sender)
{
    memset(view_change, 0, sizeof(*view_change));
    view_change->new_view = new_view;
    view_change->sender = sender;
    view_change->committed_height = random_below(rng, 3) == 0 ? 0 : 1 + random_below(rng, 1000);
    view_change->has_commit_cert = view_change->committed_height > 0;
    if (view_change->has_commit_cert) {
        random_commit_cert(rng, &view_change->commit_cert, view_change->committed_height);
    }
    view_change->has_prepared_cert = new_view > 0 && random_below(rng, 2) == 1;
    if (view_change->has_prepared_cert) {
        gov_prepared_cert *prepared = &view_change->prepared_cert;
        prepared->view = random_below(rng, new_view);
        prepared->height = view_change->committed_height + 1;
        random_hash(rng, &prepared->digest);
        test_random_bytes(rng, prepared->pre_prepare_signature, GOV_SIGNATURE_LEN);
        prepared->prepares_count = random_votes(rng, prepared->prepares);
    }
    test_random_bytes(rng, view_change->signature, GOV_SIGNATURE_LEN);
}

void random_phase(uint64_t *rng, gov_pbft_type type, gov_pbft_phase *phase)
{
    phase->view = random_uint(rng);
    phase->height = random_uint(rng);
    phase->sender = (uint32_t)random_below(rng, GOV_VALIDATORS_MAX);
    random_hash(rng, &phase->digest);
    test_random_bytes(rng, phase->signature, GOV_SIGNATURE_LEN);
    if (type == GOV_PBFT_PRE_PREPARE) {
        phase->block_len = 1 + random_below(rng, 300);
        phase->block = malloc(phase->block_len);
        test_random_bytes(rng, phase->block, phase->block_len);
    }
}

void random_message(uint64_t *rng, gov_pbft_message *message)
{
    memset(message, 0, sizeof(*message));
    message->type = (gov_pbft_type)(1 + random_below(rng, 5));
    if (message->type == GOV_PBFT_VIEW_CHANGE) {
        random_view_change(rng, &message->body.view_change, random_uint(rng),
                           (uint32_t)random_below(rng, GOV_VALIDATORS_MAX));
        return;
    }
    if (message->type != GOV_PBFT_NEW_VIEW) {
        random_phase(rng, message->type, &message->body.phase);
        return;
    }
    gov_pbft_new_view *new_view = &message->body.new_view;
    new_view->view = 1 + random_below(rng, 1000);
    new_view->sender = (uint32_t)random_below(rng, GOV_VALIDATORS_MAX);
    new_view->view_changes_count = (uint32_t)random_below(rng, 5);
    new_view->view_changes =
        calloc(new_view->view_changes_count + 1, sizeof(*new_view->view_changes));
    for (uint32_t i = 0; i < new_view->view_changes_count; i++) {
        random_view_change(rng, &new_view->view_changes[i], new_view->view, i * 3 + 1);
    }
    if (random_below(rng, 2) == 1) {
        new_view->pre_prepare = calloc(1, sizeof(*new_view->pre_prepare));
        new_view->pre_prepare->type = GOV_PBFT_PRE_PREPARE;
        random_phase(rng, GOV_PBFT_PRE_PREPARE, &new_view->pre_prepare->body.phase);
        new_view->pre_prepare->body.phase.view = new_view->view;
        new_view->pre_prepare->body.phase.sender = new_view->sender;
    }
    test_random_bytes(rng, new_view->signature, GOV_SIGNATURE_LEN);
}
