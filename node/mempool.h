/*
 * The node's mempool: transactions that passed their checks on arrival (decoded,
 * signature verified, chain id right) and wait for a block. Bounded in count and in
 * bytes; a transaction id is held once; first in, first proposed.
 *
 * Ownership: gov_mempool_add copies the transaction. gov_mempool_batch returns borrowed
 * pointers valid until the next add or remove. Not thread-safe: the event loop owns it.
 */
#ifndef GOVCHAIN_NODE_MEMPOOL_H
#define GOVCHAIN_NODE_MEMPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "govchain/block.h"

typedef struct gov_mempool gov_mempool;

/* NULL when out of memory. */
gov_mempool *gov_mempool_new(uint32_t txs_max, uint64_t bytes_max);
void gov_mempool_free(gov_mempool *pool);

/* Adds a copy of tx, whose id and encoded size the caller computed. 0, GOV_EEXIST when
 * that id is already held, GOV_ELIMIT when the pool is full (by count or by bytes),
 * GOV_ENOMEM. */
int gov_mempool_add(gov_mempool *pool, const gov_tx *tx, const gov_hash *id, size_t bytes);

bool gov_mempool_contains(const gov_mempool *pool, const gov_hash *id);
/* Removes the transaction with this id if held (committed, or refused by the ledger);
 * whether it was held. */
bool gov_mempool_remove(gov_mempool *pool, const gov_hash *id);

/* The oldest transactions, up to txs_max of them and bytes_max encoded bytes in all, in
 * arrival order, into out[] (borrowed). Returns how many. */
uint32_t gov_mempool_batch(const gov_mempool *pool, uint32_t txs_max, uint64_t bytes_max,
                           const gov_tx **out, gov_hash *ids);

uint32_t gov_mempool_count(const gov_mempool *pool);
uint64_t gov_mempool_bytes(const gov_mempool *pool);

#endif
