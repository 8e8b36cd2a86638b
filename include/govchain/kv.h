/*
 * govchain key-value store: the one interface through which the ledger reads and writes
 * persistent state (DESIGN §5). Implementations:
 *
 *   gov_kv_memory_open    in memory, sorted; for tests. It can be told to fail its
 *                         next writes, as a disk would, so that tests can check that a
 *                         failed write changes nothing.
 *   gov_kv_overlay_open   a read-through layer over another store: reads see the
 *                         overlay's own writes first; nothing reaches the base until
 *                         the caller takes the overlay's batch and writes it. The ledger
 *                         executes a proposed block in an overlay, so validating a block
 *                         writes nothing.
 *   gov_kv_leveldb_open   LevelDB (govchain/kv_leveldb.h; I/O, built outside the core).
 *
 * Keys and values are byte strings; keys order bytewise (memcmp, shorter first on a
 * tie). Every write is a batch applied atomically: all of it or none of it. A store
 * that has reported a failed write must be assumed unusable (the ledger stops).
 *
 * Ownership: values returned by gov_kv_get are new heap buffers owned by the caller.
 * Batches copy what is put into them. A store is used from one thread at a time.
 * Functions return 0 or a negative GOV_E* code with detail in why[] (may be NULL);
 * GOV_ENOENT means "no such key" and is not an error of the store.
 */
#ifndef GOVCHAIN_KV_H
#define GOVCHAIN_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    GOV_KV_PUT = 1,
    GOV_KV_DELETE = 2,
} gov_kv_op_kind;

typedef struct {
    gov_kv_op_kind kind;
    uint8_t *key;
    size_t key_len;
    uint8_t *value; /* NULL for DELETE */
    size_t value_len;
} gov_kv_op;

/* An ordered list of writes. Later operations on the same key win. */
typedef struct {
    gov_kv_op *ops;
    size_t count;
    size_t capacity;
    size_t bytes; /* keys and values, for callers that bound a batch */
} gov_kv_batch;

void gov_kv_batch_init(gov_kv_batch *batch);
void gov_kv_batch_clear(gov_kv_batch *batch); /* frees what it holds, stays usable */
int gov_kv_batch_put(gov_kv_batch *batch, const void *key, size_t key_len, const void *value,
                     size_t value_len);
int gov_kv_batch_delete(gov_kv_batch *batch, const void *key, size_t key_len);

/* Called for each entry of a scan, in ascending key order. Returns 0 to go on, 1 to stop
 * (the scan then returns 0), or a negative GOV_E* code to abort the scan with it. The
 * key and value are borrowed for the call only. */
typedef int (*gov_kv_scan_cb)(void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
                              size_t value_len);

typedef struct gov_kv gov_kv;

typedef struct {
    int (*get)(gov_kv *kv, const uint8_t *key, size_t key_len, uint8_t **value, size_t *value_len,
               char *why, size_t why_len);
    int (*write)(gov_kv *kv, const gov_kv_batch *batch, char *why, size_t why_len);
    int (*scan)(gov_kv *kv, const uint8_t *prefix, size_t prefix_len, const uint8_t *start,
                size_t start_len, gov_kv_scan_cb cb, void *arg, char *why, size_t why_len);
    void (*close)(gov_kv *kv);
    /* Optional (NULL: gov_kv_get_into falls back to get): copies the value into the
     * caller's buffer instead of allocating one. */
    int (*get_into)(gov_kv *kv, const uint8_t *key, size_t key_len, uint8_t *buf, size_t buf_len,
                    size_t *value_len, char *why, size_t why_len);
    /* Optional (NULL: nothing): gov_kv_prefetch. */
    void (*prefetch)(gov_kv *kv, const uint8_t *key, size_t key_len);
} gov_kv_ops;

/* Every implementation's handle starts with this. */
struct gov_kv {
    const gov_kv_ops *ops;
};

/* GOV_ENOENT when the key is absent (and *value is NULL). */
int gov_kv_get(gov_kv *kv, const void *key, size_t key_len, uint8_t **value, size_t *value_len,
               char *why, size_t why_len);
/* As gov_kv_get, but into the caller's buffer, without allocating: copies the first
 * min(value length, buf_len) bytes of the value to buf (which may be NULL when buf_len
 * is 0) and sets *value_len to the value's whole length, so a value longer than buf_len
 * shows as *value_len > buf_len. GOV_ENOENT (and *value_len 0) when the key is absent.
 * For small values read often, as the state tree's nodes. */
int gov_kv_get_into(gov_kv *kv, const void *key, size_t key_len, uint8_t *buf, size_t buf_len,
                    size_t *value_len, char *why, size_t why_len);
/* A hint, changing nothing: key is about to be read, so a store that can starts bringing
 * what the read will touch into the processor's cache (the in-memory store: the key's
 * slot in its hash table), and several reads can wait for memory at once. */
void gov_kv_prefetch(gov_kv *kv, const void *key, size_t key_len);
/* Applies the batch atomically and durably (for LevelDB: one synced WriteBatch). */
int gov_kv_write(gov_kv *kv, const gov_kv_batch *batch, char *why, size_t why_len);
/* A batch of one PUT. */
int gov_kv_put(gov_kv *kv, const void *key, size_t key_len, const void *value, size_t value_len,
               char *why, size_t why_len);
/* Visits the entries whose key starts with prefix and is >= start (start NULL: from the
 * first), in ascending order. */
int gov_kv_scan(gov_kv *kv, const void *prefix, size_t prefix_len, const void *start,
                size_t start_len, gov_kv_scan_cb cb, void *arg, char *why, size_t why_len);
void gov_kv_close(gov_kv *kv); /* NULL is allowed */

/* In-memory store. */
int gov_kv_memory_open(gov_kv **out);
/* Makes the store fail (GOV_EIO, nothing applied) every write after the next `writes`
 * successful ones; a negative count turns failing off. */
void gov_kv_memory_fail_after(gov_kv *kv, long writes);
/* Number of entries, for tests. */
size_t gov_kv_memory_count(gov_kv *kv);

/* Overlay over base (borrowed; must outlive the overlay). */
int gov_kv_overlay_open(gov_kv *base, gov_kv **out);
/* The writes made through the overlay as a batch ready for gov_kv_write on the base:
 * for each key written, in key order, one operation, a PUT of its latest value or a
 * DELETE (what the overlay's view needs, whatever order the writes came in). Built on
 * demand; NULL when out of memory. Borrowed: valid until the overlay is closed or
 * written to again. */
const gov_kv_batch *gov_kv_overlay_batch(gov_kv *overlay);
/* Forgets every write made through the overlay, which then reads through to its base
 * as a new overlay would; the memory it used is kept for the writes to come (the
 * ledger empties one overlay between blocks instead of opening one per block). */
void gov_kv_overlay_reset(gov_kv *overlay);
/* Writes the overlay's writes to its base as one write, as gov_kv_write(base,
 * gov_kv_overlay_batch(overlay)) does, and on success empties the overlay, which then
 * reads through to the base. An in-memory base takes the overlay's entries without
 * copying them. On failure the base and the overlay are unchanged. */
int gov_kv_overlay_commit(gov_kv *overlay, char *why, size_t why_len);

#endif
