/*
 * The mempool (node/mempool.h): entries in a doubly linked arrival list, found by id
 * through an open-addressing table with tombstones. The table is sized at creation for
 * the count cap, so adding never rehashes and its cost never spikes.
 *
 * Transaction ids are hashes chosen by whoever signs, so an attacker can pick ids that
 * share table slots. The table is keyed by SHA-256 of (a per-pool random key, id)
 * rather than by the id's own bytes, so probes stay short whatever ids arrive.
 */
#include "node/mempool.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "govchain/error.h"

typedef struct entry {
    struct entry *prev, *next;
    gov_hash id;
    gov_tx tx;
    size_t bytes;
} entry;

#define TOMBSTONE ((entry *)1)

struct gov_mempool {
    uint32_t txs_max;
    uint64_t bytes_max;
    uint32_t count;
    uint64_t bytes;
    entry *oldest, *newest;
    entry **slots;
    uint32_t slots_mask;
    uint32_t tombstones;
    uint8_t key[32];
};

gov_mempool *gov_mempool_new(uint32_t txs_max, uint64_t bytes_max)
{
    gov_mempool *pool = calloc(1, sizeof(*pool));
    if (pool == NULL) {
        return NULL;
    }
    uint32_t size = 16;
    while (size < 2 * (uint64_t)txs_max && size < (1u << 30)) {
        size <<= 1;
    }
    pool->slots = calloc(size, sizeof(*pool->slots));
    if (pool->slots == NULL || RAND_bytes(pool->key, sizeof(pool->key)) != 1) {
        free(pool->slots);
        free(pool);
        return NULL;
    }
    pool->slots_mask = size - 1;
    pool->txs_max = txs_max;
    pool->bytes_max = bytes_max;
    return pool;
}

void gov_mempool_free(gov_mempool *pool)
{
    if (pool == NULL) {
        return;
    }
    for (entry *e = pool->oldest; e != NULL;) {
        entry *next = e->next;
        gov_tx_clear(&e->tx);
        free(e);
        e = next;
    }
    free(pool->slots);
    free(pool);
}

static uint32_t slot_of(const gov_mempool *pool, const gov_hash *id)
{
    uint8_t data[64];
    gov_hash mixed;
    memcpy(data, pool->key, 32);
    memcpy(data + 32, id->bytes, 32);
    gov_hash_bytes(GOV_SUITE_P256_SHA256, data, sizeof(data), &mixed);
    return ((uint32_t)mixed.bytes[0] << 24 | (uint32_t)mixed.bytes[1] << 16 |
            (uint32_t)mixed.bytes[2] << 8 | mixed.bytes[3]) &
           pool->slots_mask;
}

/* The slot holding id, or NULL. */
static entry **find(const gov_mempool *pool, const gov_hash *id)
{
    for (uint32_t i = slot_of(pool, id), probes = 0; probes <= pool->slots_mask;
         i = (i + 1) & pool->slots_mask, probes++) {
        entry *e = pool->slots[i];
        if (e == NULL) {
            return NULL;
        }
        if (e != TOMBSTONE && gov_hash_equal(&e->id, id)) {
            return &pool->slots[i];
        }
    }
    return NULL;
}

/* Rebuilds the table without tombstones when they pile up. */
static void rebuild(gov_mempool *pool)
{
    memset(pool->slots, 0, ((size_t)pool->slots_mask + 1) * sizeof(*pool->slots));
    pool->tombstones = 0;
    for (entry *e = pool->oldest; e != NULL; e = e->next) {
        uint32_t i = slot_of(pool, &e->id);
        while (pool->slots[i] != NULL) {
            i = (i + 1) & pool->slots_mask;
        }
        pool->slots[i] = e;
    }
}

int gov_mempool_add(gov_mempool *pool, const gov_tx *tx, const gov_hash *id, size_t bytes)
{
    if (find(pool, id) != NULL) {
        return GOV_EEXIST;
    }
    if (pool->count >= pool->txs_max || bytes > pool->bytes_max - pool->bytes) {
        return GOV_ELIMIT;
    }
    entry *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        return GOV_ENOMEM;
    }
    if (gov_tx_copy(tx, &e->tx) != 0) {
        free(e);
        return GOV_ENOMEM;
    }
    e->id = *id;
    e->bytes = bytes;
    if (pool->tombstones > (pool->slots_mask + 1) / 4) {
        rebuild(pool);
    }
    uint32_t i = slot_of(pool, id);
    while (pool->slots[i] != NULL && pool->slots[i] != TOMBSTONE) {
        i = (i + 1) & pool->slots_mask;
    }
    if (pool->slots[i] == TOMBSTONE) {
        pool->tombstones--;
    }
    pool->slots[i] = e;
    e->prev = pool->newest;
    if (pool->newest != NULL) {
        pool->newest->next = e;
    } else {
        pool->oldest = e;
    }
    pool->newest = e;
    pool->count++;
    pool->bytes += bytes;
    return 0;
}

bool gov_mempool_contains(const gov_mempool *pool, const gov_hash *id)
{
    return find(pool, id) != NULL;
}

bool gov_mempool_remove(gov_mempool *pool, const gov_hash *id)
{
    entry **slot = find(pool, id);
    if (slot == NULL) {
        return false;
    }
    entry *e = *slot;
    *slot = TOMBSTONE;
    pool->tombstones++;
    if (e->prev != NULL) {
        e->prev->next = e->next;
    } else {
        pool->oldest = e->next;
    }
    if (e->next != NULL) {
        e->next->prev = e->prev;
    } else {
        pool->newest = e->prev;
    }
    pool->count--;
    pool->bytes -= e->bytes;
    gov_tx_clear(&e->tx);
    free(e);
    return true;
}

uint32_t gov_mempool_batch(const gov_mempool *pool, uint32_t txs_max, uint64_t bytes_max,
                           const gov_tx **out, gov_hash *ids)
{
    uint32_t count = 0;
    uint64_t bytes = 0;
    for (const entry *e = pool->oldest; e != NULL && count < txs_max; e = e->next) {
        if (e->bytes > bytes_max - bytes) {
            break; /* keep arrival order: a later, smaller one does not jump the queue */
        }
        bytes += e->bytes;
        out[count] = &e->tx;
        if (ids != NULL) {
            ids[count] = e->id;
        }
        count++;
    }
    return count;
}

uint32_t gov_mempool_count(const gov_mempool *pool)
{
    return pool->count;
}

uint64_t gov_mempool_bytes(const gov_mempool *pool)
{
    return pool->bytes;
}
