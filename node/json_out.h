/*
 * JSON views of ledger records, for the command line (and later the HTTP API): hashes
 * and keys as lowercase hex, times as integer milliseconds, text as UTF-8. The returned
 * jansson values are new references owned by the caller; NULL when out of memory.
 */
#ifndef GOVCHAIN_NODE_JSON_OUT_H
#define GOVCHAIN_NODE_JSON_OUT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "govchain/block.h"
#include "govchain/genesis.h"
#include "govchain/ledger.h"
#include "govchain/messages.h"
#include "govchain/state.h"

/* An integer, or a decimal string above 2^53 (where JavaScript loses precision). */
json_t *gov_json_u64(uint64_t value);
json_t *gov_json_hash(const gov_hash *hash);
/* Bytes as one lowercase hex string (canonical encodings in proofs). */
json_t *gov_json_hex(const uint8_t *bytes, size_t len);
/* Every field of the transaction, its id included. */
json_t *gov_json_tx(gov_suite suite, const gov_tx *tx);
/* A document's state with "expired" as of now_ms and "recognised" under genesis. */
json_t *gov_json_doc_state(const gov_genesis *genesis, const gov_doc_state *state, uint64_t now_ms);
json_t *gov_json_block_header(const gov_block_header *header, const gov_hash *hash);
json_t *gov_json_commit_cert(const gov_commit_cert *cert);
/* {"header", "txs", "commit_cert"}; cert may be NULL. */
json_t *gov_json_block(gov_suite suite, const gov_block *block, const gov_commit_cert *cert);

#endif
