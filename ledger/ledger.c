/*
 * The ledger: building, validating and committing blocks (contract in
 * include/govchain/ledger.h).
 *
 * Design note.
 *
 * Execution happens in an overlay store over the committed store, so building or
 * validating a block writes nothing. The ledger opens that overlay once and empties it
 * between blocks (gov_kv_overlay_reset, or the commit, which moves its writes to the
 * store): emptied, it holds nothing of the block before, but keeps its memory, so a
 * block's writes do not grow a new hash table from the smallest size every time. The overlay of the
 * last block built or validated is kept ("pending", with that block's encoding): committing the
 * same block takes its writes as they are instead of executing the block again, which would verify
 * every signature a second time. The commit encodes the block once, for its record, and compares
 * those bytes with the pending block's: equal bytes are the same block, signatures included.
 *
 * A commit is one batch: the pending overlay's writes (documents, tree nodes, history,
 * indexes), the block record, the hash index and the new head, written with one
 * gov_kv_write, which for LevelDB is one synced WriteBatch. So the store holds all of a
 * block or none of it: the head record names the last whole block.
 *
 * States:
 *
 *   READY --build/validate--> READY + pending(block hash)
 *   READY + pending --commit(same block)--> READY (head advanced)
 *   any --commit write fails--> FAILED (every call: GOV_EIO; the node stops)
 */
#include "govchain/ledger.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "govchain/assert.h"
#include "govchain/error.h"
#include "govchain/limits.h"
#include "govchain/state.h"
#include "ledger/store_key.h"

enum {
    HEAD_FIELDS = 7,
    RECORD_FIELDS = 2,
    HEAD_BYTES_MAX = 256 + GOV_MERKLE_PROOF_MAX * 40,
    HEAD_VALUES_MAX = 16 + GOV_MERKLE_PROOF_MAX,
    RECORD_BYTES_MAX = GOV_BLOCK_BYTES_MAX + GOV_CERT_BYTES_MAX + 16,
    RECORD_VALUES_MAX = 1 + GOV_BLOCK_VALUES_MAX + GOV_CERT_VALUES_MAX,
    /* Room kept in a block for its header and array headers. */
    BLOCK_OVERHEAD_BYTES = GOV_HEADER_BYTES_MAX + 16,
};

static const uint8_t head_key[] = {'M', 'h', 'e', 'a', 'd'};

struct gov_ledger {
    const gov_genesis *genesis;
    gov_kv *store;
    gov_ledger_head head;
    gov_public_key **validator_keys;
    gov_validator_set validators;
    bool failed;
    /* The overlay every block is executed in: opened once, emptied between blocks
     * (gov_kv_overlay_reset), so that its memory serves block after block. */
    gov_kv *overlay;
    gov_kv *pending; /* the overlay while it holds the last executed block's writes, or NULL */
    gov_kv *scratch; /* gov_ledger_check's own overlay, so a check leaves `pending` alone */
    /* Which block that was: its whole encoding, signatures included. The header hash
     * would not do: it covers transactions by their ids, which leave the signatures
     * out, so another copy of the block with other signatures has it too. */
    gov_buf pending_encoding;
};

/* Head record ------------------------------------------------------------------------ */

static int head_encode(const gov_ledger *ledger, const gov_ledger_head *head, gov_buf *out)
{
    gov_enc_array(out, HEAD_FIELDS);
    gov_enc_bin(out, ledger->genesis->hash.bytes, GOV_HASH_LEN);
    gov_enc_uint(out, head->height);
    gov_enc_bin(out, head->hash.bytes, GOV_HASH_LEN);
    gov_enc_bin(out, head->state_root.bytes, GOV_HASH_LEN);
    gov_enc_uint(out, head->time_ms);
    gov_enc_uint(out, head->history.size);
    uint32_t parts = (uint32_t)__builtin_popcountll(head->history.size);
    gov_enc_array(out, parts);
    for (uint32_t i = 0; i < parts; i++) {
        gov_enc_bin(out, head->history.frontier[i].bytes, GOV_HASH_LEN);
    }
    return gov_buf_ok(out) ? 0 : GOV_ENOMEM;
}

static int head_decode(const uint8_t *data, size_t len, gov_hash *chain_id, gov_ledger_head *head,
                       char *why, size_t why_len)
{
    gov_dec dec;
    uint32_t parts = 0;
    memset(head, 0, sizeof(*head));
    gov_dec_begin(&dec, data, len, HEAD_BYTES_MAX, HEAD_VALUES_MAX, why, why_len);
    if (gov_dec_array(&dec, "head", HEAD_FIELDS) &&
        gov_dec_bin_fixed(&dec, "chain_id", chain_id->bytes, GOV_HASH_LEN) &&
        gov_dec_uint(&dec, "height", UINT64_MAX, &head->height) &&
        gov_dec_bin_fixed(&dec, "hash", head->hash.bytes, GOV_HASH_LEN) &&
        gov_dec_bin_fixed(&dec, "state_root", head->state_root.bytes, GOV_HASH_LEN) &&
        gov_dec_uint(&dec, "time_ms", UINT64_MAX, &head->time_ms) &&
        gov_dec_uint(&dec, "history_size", UINT64_MAX, &head->history.size) &&
        gov_dec_array_max(&dec, "history", GOV_MERKLE_PROOF_MAX, &parts)) {
        for (uint32_t i = 0; i < parts; i++) {
            gov_dec_bin_fixed(&dec, "part", head->history.frontier[i].bytes, GOV_HASH_LEN);
        }
        if (gov_dec_ok(&dec) && (parts != (uint32_t)__builtin_popcountll(head->history.size) ||
                                 head->history.size != head->height)) {
            gov_dec_reject(&dec, GOV_EDECODE, NULL, "history does not match the height");
        }
        gov_dec_leave(&dec);
        gov_dec_leave(&dec);
    }
    return gov_dec_finish(&dec);
}

/* Block record ----------------------------------------------------------------------- */

/* The record of a block, [block, cert], encoded; *block_at and *block_len receive
 * where the block's own encoding lies in it. */
static int record_encode(const gov_block *block, const gov_commit_cert *cert, gov_buf *out,
                         size_t *block_at, size_t *block_len)
{
    gov_enc_array(out, RECORD_FIELDS);
    *block_at = out->len;
    gov_block_encode_into(block, out);
    *block_len = out->len - *block_at;
    gov_commit_cert_encode_into(cert, out);
    return gov_buf_ok(out) ? 0 : GOV_ENOMEM;
}

int gov_block_record_encode(const gov_block *block, const gov_commit_cert *cert, gov_buf *out)
{
    size_t block_at = 0;
    size_t block_len = 0;
    return record_encode(block, cert, out, &block_at, &block_len);
}

int gov_block_record_decode(const uint8_t *data, size_t len, gov_block *block,
                            gov_commit_cert *cert, char *why, size_t why_len)
{
    gov_dec dec;
    memset(block, 0, sizeof(*block));
    gov_dec_begin(&dec, data, len, RECORD_BYTES_MAX, RECORD_VALUES_MAX, why, why_len);
    if (gov_dec_array(&dec, "record", RECORD_FIELDS) &&
        gov_block_decode_from(&dec, "block", block)) {
        gov_commit_cert_decode_from(&dec, "commit_cert", cert);
        gov_dec_leave(&dec);
    }
    int rc = gov_dec_finish(&dec);
    if (rc != 0) {
        gov_block_clear(block);
    }
    return rc;
}

/* Opening ------------------------------------------------------------------------------ */

static void head_at_genesis(const gov_genesis *genesis, gov_ledger_head *head)
{
    memset(head, 0, sizeof(*head));
    head->hash = genesis->hash;
    gov_smt_empty_root(&head->state_root);
    head->time_ms = genesis->genesis_time_ms;
    gov_merkle_frontier_init(&head->history);
}

static int load_head(gov_ledger *ledger, char *why, size_t why_len)
{
    uint8_t *value = NULL;
    size_t value_len = 0;
    int rc =
        gov_kv_get(ledger->store, head_key, sizeof(head_key), &value, &value_len, why, why_len);
    if (rc == GOV_ENOENT) {
        head_at_genesis(ledger->genesis, &ledger->head);
        return 0;
    }
    if (rc != 0) {
        return rc;
    }
    gov_hash chain_id;
    char detail[256] = "";
    rc = head_decode(value, value_len, &chain_id, &ledger->head, detail, sizeof(detail));
    free(value);
    if (rc != 0) {
        return gov_fail(why, why_len, GOV_EIO, "the ledger's head record is corrupted: %s", detail);
    }
    if (!gov_hash_equal(&chain_id, &ledger->genesis->hash)) {
        char stored[2 * GOV_HASH_LEN + 1];
        gov_hex_encode(chain_id.bytes, GOV_HASH_LEN, stored);
        return gov_fail(why, why_len, GOV_EGENESIS,
                        "the store belongs to chain %s, not to this genesis", stored);
    }
    return 0;
}

int gov_ledger_open(const gov_genesis *genesis, gov_kv *store, gov_ledger **out, char *why,
                    size_t why_len)
{
    gov_ledger *ledger = calloc(1, sizeof(*ledger));
    if (ledger == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
    }
    ledger->genesis = genesis;
    ledger->store = store;
    ledger->validator_keys = calloc(genesis->validators_count, sizeof(gov_public_key *));
    if (ledger->validator_keys == NULL) {
        free(ledger);
        return gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
    }
    gov_genesis_validator_set(genesis, ledger->validator_keys, &ledger->validators);
    int rc = load_head(ledger, why, why_len);
    if (rc != 0) {
        gov_ledger_close(ledger);
        return rc;
    }
    *out = ledger;
    return 0;
}

/* Forgets the executed block: its writes, and which block it was. */
static void drop_pending(gov_ledger *ledger)
{
    if (ledger->overlay != NULL) {
        gov_kv_overlay_reset(ledger->overlay);
    }
    ledger->pending = NULL;
    gov_buf_reset(&ledger->pending_encoding);
}

/* The overlay, empty, as the pending overlay of the block about to be executed. */
static int begin_pending(gov_ledger *ledger)
{
    GOV_ASSERT(ledger->pending == NULL);
    if (ledger->overlay == NULL) {
        int rc = gov_kv_overlay_open(ledger->store, &ledger->overlay);
        if (rc != 0) {
            return rc;
        }
    }
    ledger->pending = ledger->overlay;
    return 0;
}

void gov_ledger_close(gov_ledger *ledger)
{
    if (ledger == NULL) {
        return;
    }
    drop_pending(ledger);
    gov_kv_close(ledger->overlay);
    gov_kv_close(ledger->scratch);
    gov_buf_free(&ledger->pending_encoding);
    free(ledger->validator_keys);
    free(ledger);
}

const gov_ledger_head *gov_ledger_head_get(const gov_ledger *ledger)
{
    return &ledger->head;
}

const gov_genesis *gov_ledger_genesis(const gov_ledger *ledger)
{
    return ledger->genesis;
}

gov_kv *gov_ledger_store(const gov_ledger *ledger)
{
    return ledger->store;
}

void gov_genesis_validator_set(const gov_genesis *genesis, gov_public_key **keys,
                               gov_validator_set *out)
{
    for (uint32_t i = 0; i < genesis->validators_count; i++) {
        keys[i] = genesis->validators[i].parsed_key;
    }
    *out = (gov_validator_set){.suite = genesis->suite,
                               .chain_id = genesis->hash,
                               .count = genesis->validators_count,
                               .keys = keys};
}

const gov_validator_set *gov_ledger_validators(const gov_ledger *ledger)
{
    return &ledger->validators;
}

static int refuse_if_failed(const gov_ledger *ledger, char *why, size_t why_len)
{
    return ledger->failed ? gov_fail(why, why_len, GOV_EIO,
                                     "the ledger stopped after a failed write; restart the "
                                     "node to recover from the store")
                          : 0;
}

/* Execution ------------------------------------------------------------------------------ */

/* Fills the header fields that follow from the head and the executed transactions. */
static int finish_header(gov_ledger *ledger, gov_block *block, const gov_hash *tx_ids,
                         const gov_hash *state_root)
{
    gov_block_header *header = &block->header;
    gov_suite suite = ledger->genesis->suite;
    header->version = GOV_BLOCK_VERSION;
    header->chain_id = ledger->genesis->hash;
    header->height = ledger->head.height + 1;
    header->prev_hash = ledger->head.hash;
    header->tx_count = block->txs_count;
    header->state_root = *state_root;
    header->validators_hash = ledger->genesis->validators_hash;
    gov_merkle_frontier_root(suite, &ledger->head.history, &header->history_root);
    gov_hash *leaves = calloc(block->txs_count + 1, sizeof(gov_hash));
    if (leaves == NULL) {
        return GOV_ENOMEM;
    }
    for (uint32_t i = 0; i < block->txs_count; i++) {
        gov_merkle_leaf_hash(suite, tx_ids[i].bytes, GOV_HASH_LEN, &leaves[i]);
    }
    gov_merkle_root(suite, leaves, block->txs_count, &header->tx_root);
    free(leaves);
    return 0;
}

int gov_ledger_build(gov_ledger *ledger, uint64_t time_ms, uint32_t proposer,
                     const gov_tx *candidates, uint32_t count, gov_reject *verdicts,
                     gov_block *block, uint32_t *included, char *why, size_t why_len)
{
    int rc = refuse_if_failed(ledger, why, why_len);
    if (rc != 0) {
        return rc;
    }
    const gov_consensus_params *limits = &ledger->genesis->consensus;
    uint32_t room = limits->block_txs_max < count ? limits->block_txs_max : count;
    memset(block, 0, sizeof(*block));
    *included = 0;
    drop_pending(ledger);
    gov_hash *tx_ids = calloc(room + 1, sizeof(gov_hash));
    block->txs = calloc(room + 1, sizeof(gov_tx));
    rc = tx_ids == NULL || block->txs == NULL ? GOV_ENOMEM : begin_pending(ledger);
    if (rc != 0) {
        goto out;
    }
    gov_state state;
    gov_state_init(&state, ledger->genesis, ledger->pending, &ledger->head.state_root);
    gov_block_context context = {.height = ledger->head.height + 1,
                                 .time_ms = time_ms > ledger->head.time_ms ? time_ms
                                                                           : ledger->head.time_ms};
    size_t bytes = BLOCK_OVERHEAD_BYTES;
    gov_buf encoded;
    gov_buf_init(&encoded);
    for (uint32_t i = 0; i < count && rc == 0; i++) {
        verdicts[i] = GOV_REJECT_NONE;
        gov_buf_reset(&encoded);
        rc = gov_tx_encode(&candidates[i], &encoded);
        if (rc != 0 || block->txs_count == room || bytes + encoded.len > limits->block_bytes_max) {
            continue; /* no room: left for a later block, not rejected */
        }
        gov_hash id;
        rc = gov_tx_id(ledger->genesis->suite, &candidates[i], &id);
        if (rc == 0) {
            rc = gov_rules_execute(&state, &context, block->txs_count, &candidates[i], &id,
                                   &verdicts[i], why, why_len);
        }
        if (rc == 0 && verdicts[i] == GOV_REJECT_NONE) {
            rc = gov_tx_copy(&candidates[i], &block->txs[block->txs_count]);
            tx_ids[block->txs_count++] = id;
            bytes += encoded.len;
        }
    }
    gov_buf_free(&encoded);
    if (rc == 0) {
        rc = gov_state_flush(&state, why, why_len);
    }
    if (rc == 0) {
        block->header.time_ms = context.time_ms;
        block->header.proposer = proposer;
        rc = finish_header(ledger, block, tx_ids, &state.root);
    }
    gov_state_clear(&state);
    if (rc == 0) {
        rc = gov_block_encode(block, &ledger->pending_encoding);
    }
    *included = block->txs_count;
out:
    free(tx_ids);
    if (rc != 0) {
        drop_pending(ledger);
        gov_block_clear(block);
        *included = 0;
    }
    return rc;
}

/* Validation ---------------------------------------------------------------------------- */

static int hash_mismatch(const char *field, const gov_hash *claimed, const gov_hash *actual,
                         char *why, size_t why_len)
{
    char claimed_hex[2 * GOV_HASH_LEN + 1];
    char actual_hex[2 * GOV_HASH_LEN + 1];
    gov_hex_encode(claimed->bytes, GOV_HASH_LEN, claimed_hex);
    gov_hex_encode(actual->bytes, GOV_HASH_LEN, actual_hex);
    return gov_fail(why, why_len, GOV_EINVAL, "%s: the block says %s, the ledger gives %s", field,
                    claimed_hex, actual_hex);
}

static int number_mismatch(const char *field, uint64_t claimed, uint64_t actual, char *why,
                           size_t why_len)
{
    return gov_fail(why, why_len, GOV_EINVAL,
                    "%s: the block says %" PRIu64 ", the ledger expects %" PRIu64, field, claimed,
                    actual);
}

/* The checks on a header that need no execution: chain, position, time, size. */
static int check_header(const gov_ledger *ledger, const gov_block *block,
                        const gov_ledger_checks *checks, char *why, size_t why_len)
{
    const gov_block_header *header = &block->header;
    const gov_genesis *genesis = ledger->genesis;
    if (header->version != GOV_BLOCK_VERSION) {
        return number_mismatch("version", header->version, GOV_BLOCK_VERSION, why, why_len);
    }
    if (!gov_hash_equal(&header->chain_id, &genesis->hash)) {
        return hash_mismatch("chain_id", &header->chain_id, &genesis->hash, why, why_len);
    }
    if (header->height != ledger->head.height + 1) {
        return number_mismatch("height", header->height, ledger->head.height + 1, why, why_len);
    }
    if (!gov_hash_equal(&header->prev_hash, &ledger->head.hash)) {
        return hash_mismatch("prev_hash", &header->prev_hash, &ledger->head.hash, why, why_len);
    }
    if (header->time_ms < ledger->head.time_ms) {
        return gov_fail(why, why_len, GOV_EINVAL,
                        "time_ms: %" PRIu64 " is before the previous block's %" PRIu64,
                        header->time_ms, ledger->head.time_ms);
    }
    uint64_t skew = genesis->consensus.clock_skew_ms;
    if (checks != NULL && checks->check_clock &&
        (header->time_ms > checks->now_ms + skew || header->time_ms + skew < checks->now_ms)) {
        return gov_fail(why, why_len, GOV_EINVAL,
                        "time_ms: %" PRIu64 " is more than %" PRIu64 " ms from local time %" PRIu64,
                        header->time_ms, skew, checks->now_ms);
    }
    if (header->proposer >= genesis->validators_count) {
        return gov_fail(why, why_len, GOV_EINVAL, "proposer: %u is not one of the %u validators",
                        header->proposer, genesis->validators_count);
    }
    if (header->tx_count != block->txs_count) {
        return gov_fail(why, why_len, GOV_EINVAL,
                        "tx_count: the block says %u, it holds %u transactions", header->tx_count,
                        block->txs_count);
    }
    if (block->txs_count > genesis->consensus.block_txs_max) {
        return gov_fail(why, why_len, GOV_EINVAL, "tx_count: %u, more than block_txs_max %u",
                        block->txs_count, genesis->consensus.block_txs_max);
    }
    if (!gov_hash_equal(&header->validators_hash, &genesis->validators_hash)) {
        return hash_mismatch("validators_hash", &header->validators_hash, &genesis->validators_hash,
                             why, why_len);
    }
    return 0;
}

/* Executes the block's transactions in the emptied overlay, now pending; every one must
 * apply. */
static int execute_block(gov_ledger *ledger, const gov_block *block, bool signatures_checked,
                         gov_hash *state_root, gov_hash *tx_ids, char *why, size_t why_len)
{
    int rc = begin_pending(ledger);
    if (rc != 0) {
        return rc;
    }
    gov_state state;
    gov_state_init(&state, ledger->genesis, ledger->pending, &ledger->head.state_root);
    gov_block_context context = {.height = block->header.height,
                                 .time_ms = block->header.time_ms,
                                 .signatures_checked = signatures_checked};
    for (uint32_t i = 0; i < block->txs_count && rc == 0; i++) {
        gov_reject verdict = GOV_REJECT_NONE;
        rc = gov_tx_id(ledger->genesis->suite, &block->txs[i], &tx_ids[i]);
        if (rc == 0) {
            rc = gov_rules_execute(&state, &context, i, &block->txs[i], &tx_ids[i], &verdict, why,
                                   why_len);
        }
        if (rc == 0 && verdict != GOV_REJECT_NONE) {
            rc = gov_fail(why, why_len, GOV_EINVAL, "txs[%u]: rejected: %s (%s)", i,
                          gov_reject_code(verdict), gov_reject_message(verdict));
        }
    }
    if (rc == 0) {
        rc = gov_state_flush(&state, why, why_len);
    }
    *state_root = state.root;
    gov_state_clear(&state);
    return rc;
}

int gov_ledger_check(gov_ledger *ledger, uint64_t time_ms, const gov_tx *candidates, uint32_t count,
                     gov_reject *verdicts, char *why, size_t why_len)
{
    /* gov_ledger_build on the scratch overlay: the executed block, if any, stays pending
     * for its commit, which then need not execute it again. */
    gov_kv *overlay = ledger->overlay;
    gov_kv *pending = ledger->pending;
    gov_buf encoding = ledger->pending_encoding;
    ledger->overlay = ledger->scratch;
    ledger->pending = NULL;
    gov_buf_init(&ledger->pending_encoding);
    gov_block block;
    uint32_t included = 0;
    int rc = gov_ledger_build(ledger, time_ms, 0, candidates, count, verdicts, &block, &included,
                              why, why_len);
    if (rc == 0) {
        gov_block_clear(&block);
    }
    drop_pending(ledger);
    gov_buf_free(&ledger->pending_encoding);
    ledger->scratch = ledger->overlay; /* opened on first use, kept for the next */
    ledger->overlay = overlay;
    ledger->pending = pending;
    ledger->pending_encoding = encoding;
    return rc;
}

int gov_ledger_validate(gov_ledger *ledger, const gov_block *block, const gov_ledger_checks *checks,
                        gov_hash *digest, char *why, size_t why_len)
{
    int rc = refuse_if_failed(ledger, why, why_len);
    if (rc != 0) {
        return rc;
    }
    drop_pending(ledger);
    rc = check_header(ledger, block, checks, why, why_len);
    if (rc != 0) {
        return rc;
    }
    /* Encoded once: for its size, and kept to recognise the block at commit. */
    gov_buf *encoding = &ledger->pending_encoding;
    rc = gov_block_encode(block, encoding);
    if (rc == 0 && encoding->len > ledger->genesis->consensus.block_bytes_max) {
        rc = gov_fail(why, why_len, GOV_EINVAL, "size: %zu bytes, more than block_bytes_max %u",
                      encoding->len, ledger->genesis->consensus.block_bytes_max);
    }
    gov_hash *tx_ids = calloc(block->txs_count + 1, sizeof(gov_hash));
    gov_hash state_root;
    if (rc == 0) {
        rc = tx_ids == NULL
                 ? GOV_ENOMEM
                 : execute_block(ledger, block, checks != NULL && checks->signatures_checked,
                                 &state_root, tx_ids, why, why_len);
    }
    gov_block expected = {.header = block->header, .txs_count = block->txs_count};
    if (rc == 0) {
        rc = finish_header(ledger, &expected, tx_ids, &state_root);
    }
    free(tx_ids);
    if (rc == 0 && !gov_hash_equal(&block->header.tx_root, &expected.header.tx_root)) {
        rc = hash_mismatch("tx_root", &block->header.tx_root, &expected.header.tx_root, why,
                           why_len);
    }
    if (rc == 0 && !gov_hash_equal(&block->header.history_root, &expected.header.history_root)) {
        rc = hash_mismatch("history_root", &block->header.history_root,
                           &expected.header.history_root, why, why_len);
    }
    if (rc == 0 && !gov_hash_equal(&block->header.state_root, &state_root)) {
        rc = hash_mismatch("state_root", &block->header.state_root, &state_root, why, why_len);
    }
    if (rc == 0) {
        rc = gov_block_hash(ledger->genesis->suite, &block->header, digest);
    }
    if (rc != 0) {
        drop_pending(ledger);
        return rc;
    }
    return 0;
}

/* Commit ------------------------------------------------------------------------------- */

static int check_certificate(const gov_ledger *ledger, const gov_block *block, const gov_hash *hash,
                             const gov_commit_cert *cert, char *why, size_t why_len)
{
    if (cert->height != block->header.height) {
        return number_mismatch("commit_cert.height", cert->height, block->header.height, why,
                               why_len);
    }
    if (!gov_hash_equal(&cert->digest, hash)) {
        return hash_mismatch("commit_cert.digest", &cert->digest, hash, why, why_len);
    }
    char detail[256] = "";
    int rc = gov_commit_cert_verify(cert, &ledger->validators, detail, sizeof(detail));
    return rc == 0 ? 0 : gov_fail(why, why_len, rc, "commit_cert: %s", detail);
}

/* Adds the block record (encoded), the hash index and the new head to the pending
 * overlay. */
static int stage_block(gov_ledger *ledger, const gov_buf *record, const gov_ledger_head *head,
                       char *why, size_t why_len)
{
    gov_store_key record_key;
    gov_store_key_begin(&record_key, 'B');
    gov_store_key_add_be(&record_key, head->height, GOV_KEY_HEIGHT_BYTES);
    gov_store_key hash_key;
    gov_store_key_begin(&hash_key, 'H');
    gov_store_key_add(&hash_key, head->hash.bytes, GOV_HASH_LEN);
    gov_store_key by_height;
    gov_store_key_begin(&by_height, 'L');
    gov_store_key_add_be(&by_height, head->height, GOV_KEY_HEIGHT_BYTES);
    const uint8_t *height_be = record_key.bytes + 1;
    gov_buf head_record;
    gov_buf_init(&head_record);
    gov_kv_batch batch;
    gov_kv_batch_init(&batch);
    int rc = head_encode(ledger, head, &head_record);
    if (rc == 0) {
        rc = gov_kv_batch_put(&batch, record_key.bytes, record_key.len, record->data, record->len);
    }
    if (rc == 0) {
        rc =
            gov_kv_batch_put(&batch, hash_key.bytes, hash_key.len, height_be, GOV_KEY_HEIGHT_BYTES);
    }
    if (rc == 0) {
        rc = gov_kv_batch_put(&batch, by_height.bytes, by_height.len, head->hash.bytes,
                              GOV_HASH_LEN);
    }
    if (rc == 0) {
        rc =
            gov_kv_batch_put(&batch, head_key, sizeof(head_key), head_record.data, head_record.len);
    }
    if (rc == 0) {
        rc = gov_kv_write(ledger->pending, &batch, why, why_len);
    }
    gov_kv_batch_clear(&batch);
    gov_buf_free(&head_record);
    return rc;
}

int gov_ledger_commit(gov_ledger *ledger, const gov_block *block, const gov_commit_cert *cert,
                      char *why, size_t why_len)
{
    int rc = refuse_if_failed(ledger, why, why_len);
    if (rc != 0) {
        return rc;
    }
    /* The certificate first: it is cheaper than executing the block. */
    gov_hash hash;
    rc = gov_block_hash(ledger->genesis->suite, &block->header, &hash);
    if (rc == 0) {
        rc = check_certificate(ledger, block, &hash, cert, why, why_len);
    }
    /* Only the very block that was executed (signatures included) may reuse its
     * writes; any other copy is validated in full. The block's bytes in its record are
     * compared with the executed block's. */
    gov_buf record;
    gov_buf_init(&record);
    size_t block_at = 0;
    size_t block_len = 0;
    if (rc == 0) {
        rc = record_encode(block, cert, &record, &block_at, &block_len);
    }
    const gov_buf *executed = &ledger->pending_encoding;
    if (rc == 0 && (ledger->pending == NULL || executed->len != block_len ||
                    memcmp(executed->data, record.data + block_at, block_len) != 0)) {
        rc = gov_ledger_validate(ledger, block, NULL, &hash, why, why_len);
    }
    if (rc != 0) {
        gov_buf_free(&record);
        return rc;
    }
    gov_ledger_head head = ledger->head;
    head.height = block->header.height;
    head.hash = hash;
    head.state_root = block->header.state_root;
    head.time_ms = block->header.time_ms;
    gov_hash leaf;
    gov_merkle_leaf_hash(ledger->genesis->suite, hash.bytes, GOV_HASH_LEN, &leaf);
    gov_merkle_frontier_append(ledger->genesis->suite, &head.history, &leaf);
    rc = stage_block(ledger, &record, &head, why, why_len);
    gov_buf_free(&record);
    if (rc == 0) {
        rc = gov_kv_overlay_commit(ledger->pending, why, why_len);
        if (rc != 0) {
            /* Fail-stop: what reached the disk is unknown until the store is reopened. */
            ledger->failed = true;
        }
    }
    drop_pending(ledger);
    if (rc == 0) {
        ledger->head = head;
    }
    return rc;
}

int gov_ledger_block_hash(gov_ledger *ledger, uint64_t height, gov_hash *out, char *why,
                          size_t why_len)
{
    if (height == 0 || height > ledger->head.height) {
        return gov_fail(why, why_len, GOV_ENOENT, "no block at height %llu",
                        (unsigned long long)height);
    }
    gov_store_key key;
    gov_store_key_begin(&key, 'L');
    gov_store_key_add_be(&key, height, GOV_KEY_HEIGHT_BYTES);
    uint8_t *value = NULL;
    size_t len = 0;
    int rc = gov_kv_get(ledger->store, key.bytes, key.len, &value, &len, why, why_len);
    if (rc == 0 && len == GOV_HASH_LEN) {
        memcpy(out->bytes, value, GOV_HASH_LEN);
        free(value);
        return 0;
    }
    free(value);
    if (rc == 0) {
        return gov_fail(why, why_len, GOV_EIO, "the hash of block %llu is stored corrupted",
                        (unsigned long long)height);
    }
    if (rc != GOV_ENOENT) {
        return rc;
    }
    /* A store written before the index existed: hash the stored block's header. */
    gov_block block;
    gov_commit_cert cert;
    rc = gov_ledger_block_get(ledger, height, &block, &cert, why, why_len);
    if (rc == 0) {
        rc = gov_block_hash(ledger->genesis->suite, &block.header, out);
        gov_block_clear(&block);
    }
    return rc;
}

int gov_ledger_block_get(gov_ledger *ledger, uint64_t height, gov_block *block,
                         gov_commit_cert *cert, char *why, size_t why_len)
{
    if (height == 0 || height > ledger->head.height) {
        return gov_fail(why, why_len, GOV_ENOENT, "no block at height %" PRIu64, height);
    }
    gov_store_key key;
    gov_store_key_begin(&key, 'B');
    gov_store_key_add_be(&key, height, GOV_KEY_HEIGHT_BYTES);
    uint8_t *value = NULL;
    size_t value_len = 0;
    int rc = gov_kv_get(ledger->store, key.bytes, key.len, &value, &value_len, why, why_len);
    if (rc == GOV_ENOENT) {
        return gov_fail(why, why_len, GOV_EIO, "block %" PRIu64 " is missing from the store",
                        height);
    }
    if (rc != 0) {
        return rc;
    }
    char detail[256] = "";
    rc = gov_block_record_decode(value, value_len, block, cert, detail, sizeof(detail));
    free(value);
    return rc == 0 ? 0
                   : gov_fail(why, why_len, GOV_EIO, "block %" PRIu64 " is corrupted: %s", height,
                              detail);
}
