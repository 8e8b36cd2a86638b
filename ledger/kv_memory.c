/*
 * The in-memory store of govchain/kv.h, and the map it is made of (also used by the
 * overlay, ledger/kv_overlay.c).
 *
 * Design notes.
 *
 * 1. Two indexes over one set of nodes. The ledger's hot path is exact: executing a
 *    transaction looks up about twenty keys and inserts about twenty new ones, and a
 *    commit applies the overlay's batch to the base; ordered scans serve queries and
 *    tests only. So the map keeps
 *      - a hash table (open addressing, linear probing, at most half full) holding
 *        every node: exact lookups and inserts cost O(1) expected and touch about two
 *        cache lines, where a search of the skip list below touches some forty nodes
 *        once the map holds hundreds of thousands of entries;
 *      - a skip list (W. Pugh, "Skip lists: a probabilistic alternative to balanced
 *        trees", CACM 1990, p = 1/4) for key order (bytewise, shorter first), each key
 *        once, level 0 linking them all in order; and
 *      - the `unsorted` nodes: inserted since the map was last put in order, in the hash
 *        table but not yet in the skip list.
 *    gov_kv_map_seek, which every scan starts with, first sorts the unsorted nodes and
 *    links them in; that cannot fail (nothing is allocated) and does not change what
 *    the map holds, so the order a scan sees is exactly that of an eager skip list. A
 *    sorted array would make that merge O(n) per scan and an insert between scans
 *    O(n); the skip list keeps both proportional to what changed. Node heights come
 *    from a fixed-seed generator, so the map is deterministic. Each node holds its key
 *    and the key's hash in its own allocation.
 *
 * 2. The hash table. Slots hold a key's 64-bit hash beside the node pointer, so a probe
 *    past another key compares hashes without reading its node. The hash is a word-at-a-
 *    time multiply-xorshift over the key with Murmur3's 64-bit finaliser: the keys are
 *    mostly cryptographic hashes already, and the core may draw no randomness for a
 *    keyed hash. Deleting shifts the following probe run back (Knuth, TAOCP vol. 3,
 *    6.4 Algorithm R), so there are no tombstone slots and probe runs never rot. The
 *    table doubles before a batch could take it past half full, and shrinks after
 *    deletions leave it less than an eighth full, so memory stays proportional to the
 *    entries held. A new table is zeroed with an explicit write (table_alloc), not
 *    taken from calloc: calloc's fresh pages are the kernel's shared zero page until
 *    written, and inserting probes (reads) a slot before writing it, so each page would
 *    fault twice, the second fault replacing the zero page and flushing the TLB of the
 *    other cores that run the process's threads (a replay's verifying threads).
 *
 * 3. A batch is applied in two phases. Prepare: allocate everything its operations
 *    need: room in the hash table and the unsorted list for as many new nodes as
 *    there are operations (growing the table moves its nodes to a larger one, which
 *    changes nothing the map holds), a node for each key the map lacks (a PUT, or a
 *    DELETE kept as a tombstone), and a copy of each value. Commit: in batch order,
 *    insert or overwrite, a DELETE leaving a tombstone, which cannot fail; each key is
 *    looked up again, so a later operation on a key finds what an earlier one did
 *    ("later operations win"). Then a map that keeps no tombstones (the store's) removes
 *    the keys whose last operation was a DELETE.
 *    Running out of memory therefore stops in the prepare phase and leaves the map's
 *    contents exactly as they were: the atomicity a store promises. The batch is not
 *    sorted: the hash table needs no order, and a scan orders what it needs (note 1).
 *
 * 4. Failure injection. gov_kv_memory_fail_after arms a countdown of successful
 *    writes; once it reaches zero every write fails with GOV_EIO before touching the
 *    map, as a dead disk would, until the caller turns failing off.
 *
 * 5. The store must not be written from inside one of its own scans (the scan's node
 *    could be freed under it); a count of running scans turns that bug into an
 *    assertion. Since no write happens during a scan, no node is unsorted then, and a
 *    scan nested in another's callback seeks without relinking anything.
 *
 * 6. Reuse. The ledger executes every block in one overlay, emptied between blocks
 *    (gov_kv_map_reset, or gov_kv_map_absorb, which empties the map it takes from):
 *    an emptied map keeps its hash table and unsorted list, so the next block's
 *    entries go into memory that is already mapped instead of growing a new table
 *    from the smallest size, block after block. Only the memory is kept: an emptied
 *    map holds no entry, exactly as a new one, and its node heights start again from
 *    the same seed. A map that keeps tombstones (an overlay's) never loses entries
 *    while in use, so it is never shrunk; its table stays the size of the largest
 *    block it held until the overlay is closed.
 *
 * 7. Absorbing many entries into a large map (a replay commits some 25 000 entries per
 *    block into a store of hundreds of thousands) is bound by cache misses: each
 *    entry's home slot in the large table is somewhere in tens of megabytes. The loop
 *    asks the processor for the slots (and the entries' nodes) of the next
 *    ABSORB_AHEAD entries while it handles this one (__builtin_prefetch, a hint that
 *    changes no result), so the misses overlap instead of following one another.
 */
#include "govchain/kv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "govchain/assert.h"
#include "govchain/error.h"
#include "govchain/limits.h"
#include "ledger/kv_internal.h"

/* ---- The map: a hash table and a lazily ordered skip list --------------------------- */

/* Any fixed seed: node heights only affect speed, and a fixed one keeps runs repeatable. */
#define MAP_SEED 0x9e3779b97f4a7c15ULL
/* The smallest hash table; a power of two, as every size is. */
#define SLOTS_MIN 16
/* How many entries ahead gov_kv_map_absorb fetches (note 7). */
#define ABSORB_AHEAD 8
/* The unsorted list's first allocation. */
#define UNSORTED_MIN 16

void gov_kv_map_init(gov_kv_map *map)
{
    *map = (gov_kv_map){.random = MAP_SEED};
}

void gov_kv_map_free(gov_kv_map *map)
{
    /* The hash table holds every node, sorted or not. */
    for (size_t i = 0; i < map->slots_len; i++) {
        gov_kv_node *node = map->slots[i].node;
        if (node != NULL) {
            free(node->value);
            free(node);
        }
    }
    free(map->slots);
    free(map->unsorted);
    gov_kv_map_init(map);
}

/* Forgets every entry (the nodes have been freed or moved elsewhere) but keeps the hash
 * table, emptied, and the unsorted list's room (note 6). */
static void map_forget(gov_kv_map *map)
{
    /* The table holds every entry's node (map->count of them, tombstones included), so
     * a map without entries has an empty table already. */
    if (map->count > 0) {
        memset(map->slots, 0, map->slots_len * sizeof(*map->slots));
    }
    for (unsigned level = 0; level < GOV_KV_MAP_LEVELS; level++) {
        map->head[level] = NULL;
    }
    map->levels = 0;
    map->count = 0;
    map->random = MAP_SEED;
    map->unsorted_count = 0;
}

void gov_kv_map_reset(gov_kv_map *map)
{
    for (size_t i = 0; map->count > 0 && i < map->slots_len; i++) {
        gov_kv_node *node = map->slots[i].node;
        if (node != NULL) {
            free(node->value);
            free(node);
        }
    }
    map_forget(map);
}

/* Murmur3's 64-bit finaliser: every input bit flips each output bit with probability
 * about 1/2. */
static uint64_t hash_finish(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_word(uint64_t hash, uint64_t word)
{
    hash = (hash ^ word) * 0x9fb21c651e98df25ULL;
    return hash ^ (hash >> 29);
}

/* Note 2. Words are read in the host's byte order: the hash only places nodes in the
 * table, never decides an order anyone sees. */
static uint64_t key_hash(const uint8_t *key, size_t key_len)
{
    uint64_t hash = MAP_SEED ^ ((uint64_t)key_len * 0xc2b2ae3d27d4eb4fULL);
    size_t at = 0;
    for (; at + sizeof(uint64_t) <= key_len; at += sizeof(uint64_t)) {
        uint64_t word;
        memcpy(&word, key + at, sizeof(word));
        hash = hash_word(hash, word);
    }
    if (at < key_len) {
        uint64_t word = 0;
        memcpy(&word, key + at, key_len - at);
        hash = hash_word(hash, word);
    }
    return hash_finish(hash);
}

/* The slot holding the node with this key, or NULL. */
static gov_kv_slot *table_find(const gov_kv_map *map, const uint8_t *key, size_t key_len,
                               uint64_t hash)
{
    if (map->slots_len == 0) {
        return NULL;
    }
    size_t mask = map->slots_len - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        gov_kv_slot *slot = &map->slots[i];
        if (slot->node == NULL) {
            return NULL;
        }
        if (slot->hash == hash &&
            gov_kv_key_compare(slot->node->key, slot->node->key_len, key, key_len) == 0) {
            return slot;
        }
    }
}

/* Puts a node whose key the table lacks into a free slot; there is always one, since
 * the table is at most half full. */
static void table_insert(gov_kv_slot *slots, size_t slots_len, gov_kv_node *node)
{
    size_t mask = slots_len - 1;
    size_t i = (size_t)node->hash & mask;
    while (slots[i].node != NULL) {
        i = (i + 1) & mask;
    }
    slots[i] = (gov_kv_slot){.hash = node->hash, .node = node};
}

/* Takes the node out of the table, shifting back the entries after it in its probe run
 * that may move (note 2): an entry at j whose home slot is h may fill the hole at i
 * when i lies cyclically within h .. j. */
static void table_remove(gov_kv_map *map, const gov_kv_node *node)
{
    size_t mask = map->slots_len - 1;
    size_t hole = (size_t)node->hash & mask;
    while (map->slots[hole].node != node) {
        GOV_ASSERT(map->slots[hole].node != NULL);
        hole = (hole + 1) & mask;
    }
    for (size_t j = (hole + 1) & mask; map->slots[j].node != NULL; j = (j + 1) & mask) {
        size_t home = (size_t)map->slots[j].hash & mask;
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            map->slots[hole] = map->slots[j];
            hole = j;
        }
    }
    map->slots[hole] = (gov_kv_slot){0};
}

/* Moves every node into slots (slots_len of them, all empty) and frees the old table. */
static void table_move(gov_kv_map *map, gov_kv_slot *slots, size_t slots_len)
{
    for (size_t i = 0; i < map->slots_len; i++) {
        if (map->slots[i].node != NULL) {
            table_insert(slots, slots_len, map->slots[i].node);
        }
    }
    free(map->slots);
    map->slots = slots;
    map->slots_len = slots_len;
}

/* Zeroes through a pointer the compiler cannot see through, so that malloc followed by
 * this is not turned into calloc (note 2). */
static void *(*const volatile zero_bytes)(void *, int, size_t) = memset;

/* An empty table of slots_len slots, or NULL; written before it is read (note 2). */
static gov_kv_slot *table_alloc(size_t slots_len)
{
    gov_kv_slot *slots = malloc(slots_len * sizeof(*slots));
    if (slots != NULL) {
        zero_bytes(slots, 0, slots_len * sizeof(*slots));
    }
    return slots;
}

/* The smallest table size that holds count entries at most half full. */
static size_t table_size_for(size_t count)
{
    size_t slots_len = SLOTS_MIN;
    while (slots_len / 2 < count) {
        GOV_ASSERT(slots_len <= SIZE_MAX / 2 / sizeof(gov_kv_slot));
        slots_len *= 2;
    }
    return slots_len;
}

/* Room for `adding` more entries in the table and the unsorted list (note 3): moves
 * nothing in or out of the map, so failing leaves it as it was. */
static int map_reserve(gov_kv_map *map, size_t adding)
{
    size_t unsorted_needed = map->unsorted_count + adding;
    if (unsorted_needed > map->unsorted_capacity) {
        size_t capacity =
            map->unsorted_capacity < UNSORTED_MIN ? UNSORTED_MIN : map->unsorted_capacity * 2;
        if (capacity < unsorted_needed) {
            capacity = unsorted_needed;
        }
        gov_kv_node **unsorted = realloc(map->unsorted, capacity * sizeof(*unsorted));
        if (unsorted == NULL) {
            return GOV_ENOMEM;
        }
        map->unsorted = unsorted;
        map->unsorted_capacity = capacity;
    }
    if ((map->count + adding) > map->slots_len / 2) {
        size_t slots_len = table_size_for(map->count + adding);
        gov_kv_slot *slots = table_alloc(slots_len);
        if (slots == NULL) {
            return GOV_ENOMEM;
        }
        table_move(map, slots, slots_len);
    }
    return 0;
}

/* After deletions, a smaller table (note 2). Only an economy: without the memory for
 * it the larger table serves as well. */
static void map_shrink(gov_kv_map *map)
{
    if (map->slots_len <= SLOTS_MIN || map->count >= map->slots_len / 8) {
        return;
    }
    size_t slots_len = table_size_for(map->count * 2);
    gov_kv_slot *slots = table_alloc(slots_len);
    if (slots != NULL) {
        table_move(map, slots, slots_len);
    }
}

void gov_kv_map_prefetch(const gov_kv_map *map, const uint8_t *key, size_t key_len)
{
    if (map->slots_len > 0) {
        __builtin_prefetch(&map->slots[(size_t)key_hash(key, key_len) & (map->slots_len - 1)]);
    }
}

const gov_kv_node *gov_kv_map_find(const gov_kv_map *map, const uint8_t *key, size_t key_len)
{
    const gov_kv_slot *slot = table_find(map, key, key_len, key_hash(key, key_len));
    return slot == NULL ? NULL : slot->node;
}

/* Returns the first linked node whose key is >= key, or NULL. When links is not NULL,
 * links[l] receives, for every level l in use, the array of next pointers (map->head or
 * a smaller node's next) whose entry l points at or past that node: where a node is
 * linked in or out at level l. */
static gov_kv_node *map_search(gov_kv_map *map, const uint8_t *key, size_t key_len,
                               gov_kv_node **links[GOV_KV_MAP_LEVELS])
{
    gov_kv_node **at = map->head;
    for (unsigned level = map->levels; level-- > 0;) {
        while (at[level] != NULL &&
               gov_kv_key_compare(at[level]->key, at[level]->key_len, key, key_len) < 0) {
            at = at[level]->next;
        }
        if (links != NULL) {
            links[level] = at;
        }
    }
    return at[0];
}

/* links as filled by map_search for the node's key. */
static void map_link(gov_kv_map *map, gov_kv_node *node, gov_kv_node **links[])
{
    while (map->levels < node->levels) {
        links[map->levels++] = map->head;
    }
    for (unsigned level = 0; level < node->levels; level++) {
        node->next[level] = links[level][level];
        links[level][level] = node;
    }
}

static void map_unlink(gov_kv_map *map, gov_kv_node *node, gov_kv_node **links[])
{
    for (unsigned level = 0; level < node->levels; level++) {
        GOV_ASSERT(links[level][level] == node);
        links[level][level] = node->next[level];
    }
    while (map->levels > 0 && map->head[map->levels - 1] == NULL) {
        map->levels--;
    }
}

static int compare_nodes(const void *a, const void *b)
{
    const gov_kv_node *left = *(const gov_kv_node *const *)a;
    const gov_kv_node *right = *(const gov_kv_node *const *)b;
    return gov_kv_key_compare(left->key, left->key_len, right->key, right->key_len);
}

/* Links the unsorted nodes into the skip list (note 1). In key order, so that each
 * search runs over nodes the previous one has just brought into the cache. */
static void map_sort(gov_kv_map *map)
{
    if (map->unsorted_count == 0) {
        return;
    }
    qsort(map->unsorted, map->unsorted_count, sizeof(*map->unsorted), compare_nodes);
    for (size_t i = 0; i < map->unsorted_count; i++) {
        gov_kv_node *node = map->unsorted[i];
        GOV_ASSERT(node->unsorted_at != GOV_KV_NODE_LINKED);
        gov_kv_node **links[GOV_KV_MAP_LEVELS];
        gov_kv_node *after = map_search(map, node->key, node->key_len, links);
        /* Keys are unique: the hash table holds each once. */
        GOV_ASSERT(after == NULL ||
                   gov_kv_key_compare(after->key, after->key_len, node->key, node->key_len) > 0);
        map_link(map, node, links);
        node->unsorted_at = GOV_KV_NODE_LINKED;
    }
    map->unsorted_count = 0;
    /* The list is next needed at the size of the next run of writes, not of this one. */
    free(map->unsorted);
    map->unsorted = NULL;
    map->unsorted_capacity = 0;
}

const gov_kv_node *gov_kv_map_seek(gov_kv_map *map, const uint8_t *key, size_t key_len)
{
    map_sort(map);
    return map_search(map, key, key_len, NULL);
}

/* A node's height: 1, plus one more with probability 1/4 each time (Pugh's p = 1/4),
 * drawn from xorshift64, two bits per level. */
static unsigned random_levels(gov_kv_map *map)
{
    uint64_t x = map->random;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    map->random = x;
    unsigned levels = 1;
    while (levels < GOV_KV_MAP_LEVELS && (x & 3) == 0) {
        levels++;
        x >>= 2;
    }
    return levels;
}

/* A new node, in neither index, holding a copy of key (in the same allocation) and its
 * hash, with no value. */
static gov_kv_node *node_new(gov_kv_map *map, const uint8_t *key, size_t key_len, uint64_t hash)
{
    GOV_ASSERT(key_len <= GOV_KV_KEY_BYTES_MAX);
    unsigned levels = random_levels(map);
    size_t links_size = levels * sizeof(gov_kv_node *);
    gov_kv_node *node = malloc(sizeof(gov_kv_node) + links_size + key_len);
    if (node == NULL) {
        return NULL;
    }
    uint8_t *key_copy = (uint8_t *)node + sizeof(gov_kv_node) + links_size;
    if (key_len > 0) {
        memcpy(key_copy, key, key_len);
    }
    node->key = key_copy;
    node->key_len = key_len;
    node->value = NULL;
    node->value_len = 0;
    node->hash = hash;
    node->unsorted_at = GOV_KV_NODE_LINKED;
    node->deleted = false;
    node->levels = levels;
    for (unsigned level = 0; level < levels; level++) {
        node->next[level] = NULL;
    }
    return node;
}

/* Adds a prepared node to both the hash table and the unsorted list; map_reserve has
 * made room in both. */
static void map_insert(gov_kv_map *map, gov_kv_node *node)
{
    GOV_ASSERT(map->count + 1 <= map->slots_len / 2);
    GOV_ASSERT(map->unsorted_count < map->unsorted_capacity);
    table_insert(map->slots, map->slots_len, node);
    node->unsorted_at = map->unsorted_count;
    map->unsorted[map->unsorted_count++] = node;
    map->count++;
}

/* Takes the node out of every index and frees it. */
static void map_remove(gov_kv_map *map, gov_kv_node *node)
{
    table_remove(map, node);
    if (node->unsorted_at == GOV_KV_NODE_LINKED) {
        gov_kv_node **links[GOV_KV_MAP_LEVELS];
        gov_kv_node *found = map_search(map, node->key, node->key_len, links);
        GOV_ASSERT(found == node);
        map_unlink(map, node, links);
    } else {
        /* Order among unsorted nodes does not matter: the last takes the hole. */
        size_t at = node->unsorted_at;
        GOV_ASSERT(at < map->unsorted_count);
        GOV_ASSERT(map->unsorted[at] == node);
        gov_kv_node *last = map->unsorted[--map->unsorted_count];
        map->unsorted[at] = last;
        last->unsorted_at = at;
    }
    GOV_ASSERT(map->count > 0);
    map->count--;
    free(node->value);
    free(node);
}

/* One operation of a batch being applied (note 3). */
typedef struct {
    uint64_t hash;      /* of the key */
    gov_kv_node *fresh; /* a node for a key the map lacked when prepared, or NULL */
    uint8_t *value;     /* a copy of a PUT's value */
} prepared_op;

static void free_prepared(prepared_op *ops, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(ops[i].fresh);
        free(ops[i].value);
    }
    free(ops);
}

/* The prepare phase: every allocation the batch needs. A key the batch writes twice and
 * the map lacks gets a node for each write; the commit keeps the first. */
static int prepare_ops(gov_kv_map *map, const gov_kv_batch *batch, prepared_op *ops,
                       bool keep_tombstones)
{
    /* Room for every operation to add a key: more than needed when some keys exist
     * already, which only brings a growth of the table forward. */
    if (map_reserve(map, batch->count) != 0) {
        return GOV_ENOMEM;
    }
    for (size_t i = 0; i < batch->count; i++) {
        const gov_kv_op *op = &batch->ops[i];
        bool put = op->kind == GOV_KV_PUT;
        ops[i].hash = key_hash(op->key, op->key_len);
        if ((put || keep_tombstones) &&
            table_find(map, op->key, op->key_len, ops[i].hash) == NULL) {
            ops[i].fresh = node_new(map, op->key, op->key_len, ops[i].hash);
            if (ops[i].fresh == NULL) {
                return GOV_ENOMEM;
            }
        }
        if (put) {
            ops[i].value = gov_kv_copy_bytes(op->value, op->value_len);
            if (ops[i].value == NULL) {
                return GOV_ENOMEM;
            }
        }
    }
    return 0;
}

/* The commit phase for one operation, in batch order: cannot fail; takes what was
 * prepared. The key is looked up again, since an earlier operation of the batch may
 * have added it. */
static void commit_op(gov_kv_map *map, const gov_kv_op *op, prepared_op *prepared,
                      bool keep_tombstones)
{
    gov_kv_slot *slot = table_find(map, op->key, op->key_len, prepared->hash);
    gov_kv_node *node = slot == NULL ? NULL : slot->node;
    if (node == NULL) {
        if (prepared->fresh == NULL) {
            GOV_ASSERT(op->kind == GOV_KV_DELETE && !keep_tombstones);
            return;
        }
        node = prepared->fresh;
        prepared->fresh = NULL;
        map_insert(map, node);
    } else {
        free(node->value);
        node->value = NULL;
    }
    if (op->kind == GOV_KV_PUT) {
        node->value = prepared->value;
        node->value_len = op->value_len;
        node->deleted = false;
        prepared->value = NULL;
    } else {
        /* A tombstone, even in a map that keeps none: a later PUT in the batch may
         * bring the key back on this node; gov_kv_map_apply removes what is left. */
        node->value_len = 0;
        node->deleted = true;
    }
}

int gov_kv_map_apply(gov_kv_map *map, const gov_kv_batch *batch, bool keep_tombstones)
{
    if (batch->count == 0) {
        return 0;
    }
    prepared_op *ops = calloc(batch->count, sizeof(prepared_op));
    if (ops == NULL) {
        return GOV_ENOMEM;
    }
    if (prepare_ops(map, batch, ops, keep_tombstones) != 0) {
        free_prepared(ops, batch->count);
        return GOV_ENOMEM;
    }
    for (size_t i = 0; i < batch->count; i++) {
        commit_op(map, &batch->ops[i], &ops[i], keep_tombstones);
    }
    for (size_t i = 0; !keep_tombstones && i < batch->count; i++) {
        const gov_kv_op *op = &batch->ops[i];
        gov_kv_slot *slot =
            op->kind == GOV_KV_DELETE ? table_find(map, op->key, op->key_len, ops[i].hash) : NULL;
        if (slot != NULL && slot->node->deleted) {
            map_remove(map, slot->node);
        }
    }
    /* What the commit did not take: nodes prepared for a key written twice. */
    free_prepared(ops, batch->count);
    if (!keep_tombstones) {
        /* Only a map that keeps no tombstones loses entries; one that keeps them (an
         * overlay's) keeps the table it was reset with (note 6). */
        map_shrink(map);
    }
    return 0;
}

int gov_kv_map_absorb(gov_kv_map *map, gov_kv_map *from)
{
    GOV_ASSERT(map != from);
    if (from->count == 0) {
        return 0;
    }
    /* The prepare phase (note 3): room for every entry of `from`, as if all were new;
     * the nodes themselves exist already. */
    if (map_reserve(map, from->count) != 0) {
        return GOV_ENOMEM;
    }
    /* The commit phase: cannot fail. `from` holds each key once, so the order of its
     * entries does not matter. Each entry's home slot in map, and the node itself, are
     * fetched into the cache a few entries ahead (note 7). */
    size_t mask = map->slots_len - 1;
    size_t ahead = 0;       /* the next slot of `from` to fetch for */
    unsigned in_flight = 0; /* entries fetched for and not yet taken */
    for (size_t i = 0; i < from->slots_len; i++) {
        for (; ahead < from->slots_len && in_flight < ABSORB_AHEAD; ahead++) {
            const gov_kv_slot *next = &from->slots[ahead];
            if (next->node != NULL) {
                __builtin_prefetch(&map->slots[(size_t)next->hash & mask], 1);
                __builtin_prefetch(next->node, 0);
                in_flight++;
            }
        }
        gov_kv_node *node = from->slots[i].node;
        if (node == NULL) {
            continue;
        }
        in_flight--;
        gov_kv_slot *slot = table_find(map, node->key, node->key_len, node->hash);
        gov_kv_node *existing = slot == NULL ? NULL : slot->node;
        if (node->deleted) {
            if (existing != NULL) {
                map_remove(map, existing);
            }
            free(node);
        } else if (existing != NULL) {
            free(existing->value);
            existing->value = node->value;
            existing->value_len = node->value_len;
            free(node);
        } else {
            /* Out of from's skip list, if it was in it, and into map's unsorted nodes. */
            for (unsigned level = 0; level < node->levels; level++) {
                node->next[level] = NULL;
            }
            map_insert(map, node);
        }
    }
    /* Every node has moved or been freed: from's indexes are emptied, and kept for its
     * next entries (note 6). */
    map_forget(from);
    map_shrink(map);
    return 0;
}

/* ---- The in-memory store ----------------------------------------------------------- */

typedef struct {
    gov_kv kv; /* first, so that a gov_kv * is a memory_store * */
    gov_kv_map map;
    long writes_before_failure; /* negative: never fail (note 4) */
    unsigned scans_running;     /* note 5 */
} memory_store;

static const gov_kv_ops memory_ops;

static memory_store *memory_from(gov_kv *kv)
{
    GOV_ASSERT(kv != NULL);
    GOV_ASSERT(kv->ops == &memory_ops);
    return (memory_store *)kv;
}

static int memory_get(gov_kv *kv, const uint8_t *key, size_t key_len, uint8_t **value,
                      size_t *value_len, char *why, size_t why_len)
{
    memory_store *store = memory_from(kv);
    GOV_ASSERT(key_len <= GOV_KV_KEY_BYTES_MAX);
    const gov_kv_node *entry = gov_kv_map_find(&store->map, key, key_len);
    if (entry == NULL) {
        return GOV_ENOENT;
    }
    GOV_ASSERT(!entry->deleted);
    uint8_t *copy = gov_kv_copy_bytes(entry->value, entry->value_len);
    if (copy == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "cannot copy a value of %zu bytes",
                        entry->value_len);
    }
    *value = copy;
    *value_len = entry->value_len;
    return 0;
}

static int memory_get_into(gov_kv *kv, const uint8_t *key, size_t key_len, uint8_t *buf,
                           size_t buf_len, size_t *value_len, char *why, size_t why_len)
{
    (void)why;
    (void)why_len;
    memory_store *store = memory_from(kv);
    GOV_ASSERT(key_len <= GOV_KV_KEY_BYTES_MAX);
    const gov_kv_node *entry = gov_kv_map_find(&store->map, key, key_len);
    if (entry == NULL) {
        return GOV_ENOENT;
    }
    GOV_ASSERT(!entry->deleted);
    gov_kv_copy_into(entry->value, entry->value_len, buf, buf_len);
    *value_len = entry->value_len;
    return 0;
}

static void memory_prefetch(gov_kv *kv, const uint8_t *key, size_t key_len)
{
    gov_kv_map_prefetch(&memory_from(kv)->map, key, key_len);
}

static int memory_write(gov_kv *kv, const gov_kv_batch *batch, char *why, size_t why_len)
{
    memory_store *store = memory_from(kv);
    GOV_ASSERT(store->scans_running == 0);
    if (store->writes_before_failure == 0) {
        return gov_fail(why, why_len, GOV_EIO, "in-memory store: injected write failure");
    }
    if (gov_kv_map_apply(&store->map, batch, false) != 0) {
        return gov_fail(why, why_len, GOV_ENOMEM,
                        "in-memory store: out of memory applying %zu operations", batch->count);
    }
    if (store->writes_before_failure > 0) {
        store->writes_before_failure--;
    }
    return 0;
}

bool gov_kv_is_memory(const gov_kv *kv)
{
    return kv != NULL && kv->ops == &memory_ops;
}

int gov_kv_memory_absorb(gov_kv *kv, gov_kv_map *entries, char *why, size_t why_len)
{
    memory_store *store = memory_from(kv);
    GOV_ASSERT(store->scans_running == 0);
    if (store->writes_before_failure == 0) {
        return gov_fail(why, why_len, GOV_EIO, "in-memory store: injected write failure");
    }
    size_t count = entries->count;
    if (gov_kv_map_absorb(&store->map, entries) != 0) {
        return gov_fail(why, why_len, GOV_ENOMEM,
                        "in-memory store: out of memory taking %zu entries", count);
    }
    if (store->writes_before_failure > 0) {
        store->writes_before_failure--;
    }
    return 0;
}

static int memory_scan(gov_kv *kv, const uint8_t *prefix, size_t prefix_len, const uint8_t *start,
                       size_t start_len, gov_kv_scan_cb cb, void *arg, char *why, size_t why_len)
{
    (void)why;
    (void)why_len;
    memory_store *store = memory_from(kv);
    const uint8_t *begin;
    size_t begin_len;
    gov_kv_scan_begin(prefix, prefix_len, start, start_len, &begin, &begin_len);
    int rc = 0;
    store->scans_running++;
    for (const gov_kv_node *entry = gov_kv_map_seek(&store->map, begin, begin_len); entry != NULL;
         entry = entry->next[0]) {
        /* Keys with the prefix are contiguous, so the first without it ends the scan. */
        if (!gov_kv_key_has_prefix(entry->key, entry->key_len, prefix, prefix_len)) {
            break;
        }
        rc = cb(arg, entry->key, entry->key_len, entry->value, entry->value_len);
        if (rc != 0) {
            break;
        }
    }
    store->scans_running--;
    return rc > 0 ? 0 : rc;
}

static void memory_close(gov_kv *kv)
{
    memory_store *store = memory_from(kv);
    GOV_ASSERT(store->scans_running == 0);
    gov_kv_map_free(&store->map);
    free(store);
}

static const gov_kv_ops memory_ops = {
    .get = memory_get,
    .write = memory_write,
    .scan = memory_scan,
    .close = memory_close,
    .get_into = memory_get_into,
    .prefetch = memory_prefetch,
};

int gov_kv_memory_open(gov_kv **out)
{
    GOV_ASSERT(out != NULL);
    *out = NULL;
    memory_store *store = calloc(1, sizeof(*store));
    if (store == NULL) {
        return GOV_ENOMEM;
    }
    store->kv.ops = &memory_ops;
    gov_kv_map_init(&store->map);
    store->writes_before_failure = -1;
    *out = &store->kv;
    return 0;
}

void gov_kv_memory_fail_after(gov_kv *kv, long writes)
{
    memory_from(kv)->writes_before_failure = writes < 0 ? -1 : writes;
}

size_t gov_kv_memory_count(gov_kv *kv)
{
    return memory_from(kv)->map.count;
}
