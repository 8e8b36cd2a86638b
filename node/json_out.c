/* JSON views of ledger records (see node/json_out.h). */
#include "node/json_out.h"

#include <stdio.h>
#include <stdlib.h>

#include "govchain/crypto.h"

/* Integers above 2^53 lose precision in JavaScript and above 2^63 do not fit jansson's
 * integers, so those go out as decimal strings. */
json_t *gov_json_u64(uint64_t value)
{
    if (value <= (1ULL << 53)) {
        return json_integer((json_int_t)value);
    }
    char text[24];
    snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
    return json_string(text);
}

json_t *gov_json_hex(const uint8_t *bytes, size_t len)
{
    char *hex = malloc(2 * len + 1);
    if (hex == NULL) {
        return NULL;
    }
    gov_hex_encode(bytes, len, hex);
    json_t *value = json_string(hex);
    free(hex);
    return value;
}

json_t *gov_json_hash(const gov_hash *hash)
{
    char hex[2 * GOV_HASH_LEN + 1];
    gov_hex_encode(hash->bytes, GOV_HASH_LEN, hex);
    return json_string(hex);
}

static json_t *issue_json(const gov_issue *issue)
{
    json_t *metadata = json_object();
    for (uint32_t i = 0; i < issue->metadata_count; i++) {
        json_object_set_new(metadata, issue->metadata[i].key,
                            json_string(issue->metadata[i].value));
    }
    return json_pack("{s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "doc_hash",
                     gov_json_hash(&issue->doc_hash), "class", gov_doc_class_name(issue->doc_class),
                     "doc_type", issue->doc_type, "subject_ref", gov_json_hash(&issue->subject_ref),
                     "valid_from_ms", gov_json_u64(issue->valid_from_ms), "valid_until_ms",
                     gov_json_u64(issue->valid_until_ms), "supersedes",
                     issue->has_supersedes ? gov_json_hash(&issue->supersedes) : json_null(),
                     "metadata", metadata);
}

json_t *gov_json_tx(gov_suite suite, const gov_tx *tx)
{
    gov_hash id;
    if (gov_tx_id(suite, tx, &id) != 0) {
        return NULL;
    }
    char signature[2 * GOV_SIGNATURE_LEN + 1];
    gov_hex_encode(tx->signature, GOV_SIGNATURE_LEN, signature);
    json_t *payload;
    if (tx->kind == GOV_TX_ISSUE) {
        payload = issue_json(&tx->payload.issue);
    } else {
        const gov_doc_remark *remark =
            tx->kind == GOV_TX_ENDORSE ? &tx->payload.endorse : &tx->payload.revoke;
        payload = json_pack("{s:o, s:s}", "doc_hash", gov_json_hash(&remark->doc_hash),
                            tx->kind == GOV_TX_ENDORSE ? "note" : "reason", remark->text);
    }
    return json_pack("{s:o, s:s, s:s, s:i, s:o, s:o, s:o, s:s}", "tx_id", gov_json_hash(&id),
                     "kind", gov_tx_kind_name(tx->kind), "department", tx->department, "key_index",
                     (int)tx->key_index, "nonce", gov_json_u64(tx->nonce), "created_ms",
                     gov_json_u64(tx->created_ms), "payload", payload, "signature", signature);
}

static json_t *position_json(const gov_ledger_position *at)
{
    return json_pack("{s:o, s:I, s:o}", "height", gov_json_u64(at->height), "index",
                     (json_int_t)at->index, "tx_id", gov_json_hash(&at->tx_id));
}

json_t *gov_json_doc_state(const gov_genesis *genesis, const gov_doc_state *state, uint64_t now_ms)
{
    json_t *endorsements = json_array();
    for (uint32_t i = 0; endorsements != NULL && i < state->endorsements_count; i++) {
        json_array_append_new(endorsements, json_pack("{s:s, s:o}", "department",
                                                      state->endorsements[i].department, "at",
                                                      position_json(&state->endorsements[i].at)));
    }
    json_t *doc = json_pack(
        "{s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:s, s:b, s:b, s:b, s:o}", "doc_hash",
        gov_json_hash(&state->doc_hash), "issuer", state->issuer, "class",
        gov_doc_class_name(state->doc_class), "doc_type", state->doc_type, "subject_ref",
        gov_json_hash(&state->subject_ref), "valid_from_ms", gov_json_u64(state->valid_from_ms),
        "valid_until_ms", gov_json_u64(state->valid_until_ms), "supersedes",
        state->has_supersedes ? gov_json_hash(&state->supersedes) : json_null(), "issued",
        position_json(&state->issued), "status", gov_doc_status_name(state->status), "expired",
        gov_doc_expired(state, now_ms), "not_yet_valid", gov_doc_not_yet_valid(state, now_ms),
        "recognised", gov_doc_recognised(genesis, state), "endorsements", endorsements);
    if (doc != NULL && state->has_change) {
        json_object_set_new(doc, "changed", position_json(&state->change));
        if (state->changed_by[0] != '\0') {
            json_object_set_new(doc, "changed_by", json_string(state->changed_by));
            json_object_set_new(doc, "reason", json_string(state->reason));
        }
    }
    if (doc != NULL && state->has_superseded_by) {
        json_object_set_new(doc, "superseded_by", gov_json_hash(&state->superseded_by));
    }
    return doc;
}

json_t *gov_json_block_header(const gov_block_header *header, const gov_hash *hash)
{
    return json_pack(
        "{s:o, s:I, s:o, s:o, s:o, s:o, s:I, s:I, s:o, s:o, s:o, s:o}", "hash", gov_json_hash(hash),
        "version", (json_int_t)header->version, "chain_id", gov_json_hash(&header->chain_id),
        "height", gov_json_u64(header->height), "prev_hash", gov_json_hash(&header->prev_hash),
        "time_ms", gov_json_u64(header->time_ms), "proposer", (json_int_t)header->proposer,
        "tx_count", (json_int_t)header->tx_count, "tx_root", gov_json_hash(&header->tx_root),
        "state_root", gov_json_hash(&header->state_root), "history_root",
        gov_json_hash(&header->history_root), "validators_hash",
        gov_json_hash(&header->validators_hash));
}

json_t *gov_json_commit_cert(const gov_commit_cert *cert)
{
    json_t *votes = json_array();
    for (uint32_t i = 0; votes != NULL && i < cert->votes_count; i++) {
        char signature[2 * GOV_SIGNATURE_LEN + 1];
        gov_hex_encode(cert->votes[i].signature, GOV_SIGNATURE_LEN, signature);
        json_array_append_new(votes, json_pack("{s:I, s:s}", "validator",
                                               (json_int_t)cert->votes[i].validator, "signature",
                                               signature));
    }
    return json_pack("{s:o, s:o, s:o, s:o}", "view", gov_json_u64(cert->view), "height",
                     gov_json_u64(cert->height), "digest", gov_json_hash(&cert->digest), "votes",
                     votes);
}

json_t *gov_json_block(gov_suite suite, const gov_block *block, const gov_commit_cert *cert)
{
    gov_hash hash;
    if (gov_block_hash(suite, &block->header, &hash) != 0) {
        return NULL;
    }
    json_t *txs = json_array();
    for (uint32_t i = 0; txs != NULL && i < block->txs_count; i++) {
        json_array_append_new(txs, gov_json_tx(suite, &block->txs[i]));
    }
    return json_pack("{s:o, s:o, s:o}", "header", gov_json_block_header(&block->header, &hash),
                     "txs", txs, "commit_cert",
                     cert != NULL ? gov_json_commit_cert(cert) : json_null());
}
