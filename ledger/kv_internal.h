/*
 * Internals shared by the key-value store's files (ledger/kv*.c); not part of the public
 * interface in include/govchain/kv.h.
 *
 * The dispatch functions in ledger/kv.c are the edge of the store: they check every key,
 * value and batch against the limits, so the implementations behind kv->ops assert
 * instead. The map in ledger/kv_memory.c (a hash table for exact keys beside a skip
 * list kept in key order lazily, only when a scan needs it) holds the in-memory store's
 * entries and the overlay's pending entries; only the overlay keeps tombstones.
 */
#ifndef GOVCHAIN_KV_INTERNAL_H
#define GOVCHAIN_KV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "govchain/kv.h"

/* Bytewise order, shorter first on a tie: <0, 0 or >0 like memcmp. */
int gov_kv_key_compare(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len);
bool gov_kv_key_has_prefix(const uint8_t *key, size_t key_len, const uint8_t *prefix,
                           size_t prefix_len);
/* The larger of prefix and start (start NULL counts as the empty key): where a scan
 * begins. */
void gov_kv_scan_begin(const uint8_t *prefix, size_t prefix_len, const uint8_t *start,
                       size_t start_len, const uint8_t **begin, size_t *begin_len);
/* Copies the first min(value_len, buf_len) bytes of value to buf (gov_kv_get_into). */
void gov_kv_copy_into(const uint8_t *value, size_t value_len, uint8_t *buf, size_t buf_len);
/* A heap copy of len bytes (never NULL for len 0), or NULL when out of memory. */
uint8_t *gov_kv_copy_bytes(const void *bytes, size_t len);

/* The skip list's height limit: with each level kept by a quarter of the nodes, 16
 * levels index 4^16 entries before searches start to slow down. */
#define GOV_KV_MAP_LEVELS 16

/* A node's `unsorted_at` while it is linked into the skip list. */
#define GOV_KV_NODE_LINKED SIZE_MAX

typedef struct gov_kv_node gov_kv_node;
struct gov_kv_node {
    const uint8_t *key; /* stored inside the node's own allocation */
    size_t key_len;
    uint8_t *value; /* NULL exactly when deleted */
    size_t value_len;
    uint64_t hash;       /* of the key, kept so that the hash table never rehashes keys */
    size_t unsorted_at;  /* index in map->unsorted, or GOV_KV_NODE_LINKED */
    bool deleted;        /* a tombstone: the overlay hides the base's entry */
    unsigned levels;     /* 1 .. GOV_KV_MAP_LEVELS */
    gov_kv_node *next[]; /* next[0] is the next entry in key order, once linked */
};

/* One slot of the map's hash table; node NULL when empty. The hash sits beside the
 * pointer so that probing past other keys reads no node. */
typedef struct {
    uint64_t hash;
    gov_kv_node *node;
} gov_kv_slot;

/* Entries, each key once, all keys and values owned, found two ways (design notes in
 * ledger/kv_memory.c): by exact key through an open-addressing hash table that holds
 * every entry, and in key order through a skip list that holds every entry except the
 * `unsorted` ones, written since the map was last put in order. Only gov_kv_map_seek
 * puts it in order, so the ledger's lookups and inserts never walk the skip list. */
typedef struct {
    gov_kv_node *head[GOV_KV_MAP_LEVELS];
    unsigned levels; /* levels in use */
    size_t count;    /* entries, tombstones included */
    uint64_t random; /* chooses node heights; fixed seed, so the map is deterministic */
    gov_kv_slot *slots;
    size_t slots_len; /* 0 or a power of two; at most half the slots are used */
    gov_kv_node **unsorted;
    size_t unsorted_count;
    size_t unsorted_capacity;
} gov_kv_map;

void gov_kv_map_init(gov_kv_map *map);
void gov_kv_map_free(gov_kv_map *map);
/* Frees every entry, leaving the map empty as gov_kv_map_init does, but keeps its hash
 * table and unsorted list for the entries to come. */
void gov_kv_map_reset(gov_kv_map *map);
/* The first entry whose key is >= key, or NULL; entry->next[0] is the one after it,
 * valid until the map is next written. Links the unsorted entries into the skip list
 * first, which cannot fail; that is why the map is not const. */
const gov_kv_node *gov_kv_map_seek(gov_kv_map *map, const uint8_t *key, size_t key_len);
/* Asks the processor for the cache line of key's home slot (a hint; changes nothing). */
void gov_kv_map_prefetch(const gov_kv_map *map, const uint8_t *key, size_t key_len);
/* The entry with exactly this key, or NULL. */
const gov_kv_node *gov_kv_map_find(const gov_kv_map *map, const uint8_t *key, size_t key_len);
/* Applies the batch; later operations on the same key win. A DELETE removes the key, or
 * with keep_tombstones records a tombstone. GOV_ENOMEM leaves the map unchanged. */
int gov_kv_map_apply(gov_kv_map *map, const gov_kv_batch *batch, bool keep_tombstones);
/* Moves every entry of `from` into map (which keeps no tombstones), as applying a batch
 * of one operation per entry of `from` would: an entry's node and value become map's, a
 * tombstone removes map's entry. No key or value is copied. `from` is left empty, with
 * its hash table kept as gov_kv_map_reset keeps it.
 * GOV_ENOMEM leaves both maps unchanged. */
int gov_kv_map_absorb(gov_kv_map *map, gov_kv_map *from);

/* Whether kv is an in-memory store (gov_kv_memory_open). */
bool gov_kv_is_memory(const gov_kv *kv);
/* One write to the in-memory store kv that moves the entries of `entries` into it
 * (gov_kv_map_absorb): atomic, and failing as an injected failure says, as any write. */
int gov_kv_memory_absorb(gov_kv *kv, gov_kv_map *entries, char *why, size_t why_len);

#endif
