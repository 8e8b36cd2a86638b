/*
 * JSON views of ledger records, for the command line (and later the HTTP API): hashes
 * and keys as lowercase hex, times as integer milliseconds, text as UTF-8. The returned
 * jansson values are new references owned by the caller; NULL when out of memory.
 */
#ifndef GOVCHAIN_NODE_JSON_OUT_H
#define GOVCHAIN_NODE_JSON_OUT_H

#include <stdint.h>

#include <jansson.h>

#include "govchain/block.h"

/* An integer, or a decimal string above 2^53 (where JavaScript loses precision). */
json_t *gov_json_u64(uint64_t value);
json_t *gov_json_hash(const gov_hash *hash);
/* Every field of the transaction, its id included. */
json_t *gov_json_tx(gov_suite suite, const gov_tx *tx);

#endif
