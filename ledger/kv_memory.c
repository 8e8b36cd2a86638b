/*
 * The in-memory store of govchain/kv.h, and the sorted map it is made of (also used by
 * the overlay, ledger/kv_overlay.c).
 *
 * Design notes.
 *
 * 1. The map is a skip list (W. Pugh, "Skip lists: a probabilistic alternative to
 *    balanced trees", CACM 1990, p = 1/4): entries sorted by key (bytewise, shorter
 *    first), each key once, level 0 linking them all in order. Finding, inserting and
 *    removing cost O(log n); a scan seeks once and follows level 0. A sorted array would
 *    be simpler, but inserting into it moves O(n) entries, and the overlay receives
 *    every write of a block one by one: tens of thousands of writes for a full block
 *    would cost quadratic time there. Node heights come from a fixed-seed generator, so
 *    the map is deterministic. Each node holds its key in its own allocation.
 *
 * 2. A batch is applied in two phases. Prepare: sort the batch's operations by key,
 *    keep the last one on each key ("later operations win"), and allocate everything
 *    they need: a node for each key the map lacks (a PUT, or a DELETE kept as a
 *    tombstone) and a copy of each value. Commit: link, overwrite or unlink, which
 *    cannot fail. Running out of memory therefore stops in the prepare phase and leaves
 *    the map exactly as it was: the atomicity a store promises.
 *
 * 3. Failure injection. gov_kv_memory_fail_after arms a countdown of successful
 *    writes; once it reaches zero every write fails with GOV_EIO before touching the
 *    map, as a dead disk would, until the caller turns failing off.
 *
 * 4. The store must not be written from inside one of its own scans (the scan's node
 *    could be freed under it); a count of running scans turns that bug into an
 *    assertion.
 */
#include "govchain/kv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "govchain/assert.h"
#include "govchain/error.h"
#include "govchain/limits.h"
#include "ledger/kv_internal.h"

/* ---- The sorted map: a skip list ------------------------------------------------- */

/* Any fixed seed: node heights only affect speed, and a fixed one keeps runs repeatable. */
#define MAP_SEED 0x9e3779b97f4a7c15ULL

void gov_kv_map_init(gov_kv_map *map)
{
    *map = (gov_kv_map){.random = MAP_SEED};
}

void gov_kv_map_free(gov_kv_map *map)
{
    gov_kv_node *node = map->head[0];
    while (node != NULL) {
        gov_kv_node *next = node->next[0];
        free(node->value);
        free(node);
        node = next;
    }
    gov_kv_map_init(map);
}

/* Returns the first node whose key is >= key, or NULL. When links is not NULL, links[l]
 * receives, for every level l in use, the array of next pointers (map->head or a
 * smaller node's next) whose entry l points at or past that node: where a node is
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

const gov_kv_node *gov_kv_map_seek(const gov_kv_map *map, const uint8_t *key, size_t key_len)
{
    /* map_search writes nothing when links is NULL. */
    return map_search((gov_kv_map *)map, key, key_len, NULL);
}

const gov_kv_node *gov_kv_map_find(const gov_kv_map *map, const uint8_t *key, size_t key_len)
{
    const gov_kv_node *node = gov_kv_map_seek(map, key, key_len);
    if (node == NULL || gov_kv_key_compare(node->key, node->key_len, key, key_len) != 0) {
        return NULL;
    }
    return node;
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

/* A new unlinked node holding a copy of key (in the same allocation), with no value. */
static gov_kv_node *node_new(gov_kv_map *map, const uint8_t *key, size_t key_len)
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
    node->deleted = false;
    node->levels = levels;
    for (unsigned level = 0; level < levels; level++) {
        node->next[level] = NULL;
    }
    return node;
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
    map->count++;
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
    GOV_ASSERT(map->count > 0);
    map->count--;
}

/* One operation of a batch being applied (note 2). */
typedef struct {
    const gov_kv_op *op;
    gov_kv_node *fresh; /* a node for a key the map lacks, or NULL */
    uint8_t *value;     /* a copy of a PUT's value */
} prepared_op;

/* Orders by key, then by position in the batch, so that the last operation on a key
 * ends its run of equal keys. */
static int compare_prepared(const void *a, const void *b)
{
    const gov_kv_op *left = ((const prepared_op *)a)->op;
    const gov_kv_op *right = ((const prepared_op *)b)->op;
    int order = gov_kv_key_compare(left->key, left->key_len, right->key, right->key_len);
    if (order != 0) {
        return order;
    }
    return (left > right) - (left < right);
}

/* The batch's last operation on each key, in key order, nothing prepared yet; *count
 * receives how many. NULL when out of memory. */
static prepared_op *final_ops(const gov_kv_batch *batch, size_t *count)
{
    prepared_op *ops = calloc(batch->count, sizeof(prepared_op));
    if (ops == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < batch->count; i++) {
        ops[i].op = &batch->ops[i];
    }
    qsort(ops, batch->count, sizeof(prepared_op), compare_prepared);
    size_t kept = 0;
    for (size_t i = 0; i < batch->count; i++) {
        const gov_kv_op *op = ops[i].op;
        bool last_on_key =
            i + 1 == batch->count || gov_kv_key_compare(op->key, op->key_len, ops[i + 1].op->key,
                                                        ops[i + 1].op->key_len) != 0;
        if (last_on_key) {
            ops[kept++].op = op;
        }
    }
    *count = kept;
    return ops;
}

static void free_prepared(prepared_op *ops, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(ops[i].fresh);
        free(ops[i].value);
    }
    free(ops);
}

/* The prepare phase: every allocation the batch needs. */
static int prepare_ops(gov_kv_map *map, prepared_op *ops, size_t count, bool keep_tombstones)
{
    for (size_t i = 0; i < count; i++) {
        const gov_kv_op *op = ops[i].op;
        bool put = op->kind == GOV_KV_PUT;
        bool exists = gov_kv_map_find(map, op->key, op->key_len) != NULL;
        if (!exists && (put || keep_tombstones)) {
            ops[i].fresh = node_new(map, op->key, op->key_len);
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

/* The commit phase for one operation: cannot fail; takes what was prepared. The final
 * operations have distinct keys, so whether each key exists is as it was prepared. */
static void commit_op(gov_kv_map *map, const prepared_op *prepared, bool keep_tombstones)
{
    const gov_kv_op *op = prepared->op;
    gov_kv_node **links[GOV_KV_MAP_LEVELS];
    gov_kv_node *node = map_search(map, op->key, op->key_len, links);
    bool found =
        node != NULL && gov_kv_key_compare(node->key, node->key_len, op->key, op->key_len) == 0;
    if (prepared->fresh != NULL) {
        GOV_ASSERT(!found);
        node = prepared->fresh;
        map_link(map, node, links);
    } else if (!found) {
        GOV_ASSERT(op->kind == GOV_KV_DELETE && !keep_tombstones);
        return;
    } else {
        free(node->value);
    }
    if (op->kind == GOV_KV_PUT) {
        node->value = prepared->value;
        node->value_len = op->value_len;
        node->deleted = false;
    } else if (keep_tombstones) {
        node->value = NULL;
        node->value_len = 0;
        node->deleted = true;
    } else {
        map_unlink(map, node, links);
        free(node);
    }
}

int gov_kv_map_apply(gov_kv_map *map, const gov_kv_batch *batch, bool keep_tombstones)
{
    if (batch->count == 0) {
        return 0;
    }
    size_t count = 0;
    prepared_op *ops = final_ops(batch, &count);
    if (ops == NULL) {
        return GOV_ENOMEM;
    }
    if (prepare_ops(map, ops, count, keep_tombstones) != 0) {
        free_prepared(ops, count);
        return GOV_ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        commit_op(map, &ops[i], keep_tombstones);
    }
    /* The map owns the prepared nodes and values now. */
    free(ops);
    return 0;
}

/* ---- The in-memory store ----------------------------------------------------------- */

typedef struct {
    gov_kv kv; /* first, so that a gov_kv * is a memory_store * */
    gov_kv_map map;
    long writes_before_failure; /* negative: never fail (note 3) */
    unsigned scans_running;     /* note 4 */
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
