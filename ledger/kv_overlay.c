/*
 * The overlay store of govchain/kv.h: tentative writes over a base store.
 *
 * The ledger executes a proposed block in an overlay over the committed store, so that
 * validating a block writes nothing; when the block commits, the overlay's writes go to
 * the base in one atomic write (DESIGN §5).
 *
 * Design notes.
 *
 * 1. State. `pending` is a map (ledger/kv_internal.h) of the keys written through the
 *    overlay, each with its latest value or a tombstone for a DELETE: found by exact key
 *    through a hash table, and put in key order only when a scan seeks into it. It is
 *    all the overlay records: writing, for each of its keys, the latest value or a
 *    DELETE gives the base the overlay's view, whatever the order of the writes was.
 *    `batch` is that, built from `pending` in key order only when gov_kv_overlay_batch
 *    asks for it (`batch_built`), so that executing a block copies each value once, into
 *    `pending`. The base is borrowed and never written.
 *
 * 2. View. An overlay key is its pending entry when there is one (a tombstone meaning
 *    absent), else the base's entry. get follows this directly.
 *
 * 3. Scan merges two sorted sequences: the base's scan (driven by the base, through a
 *    callback) and a cursor `next` into the pending map, which begins at the same place.
 *    Invariant: every pending entry before `next` has been visited or skipped, and is
 *    smaller than any base key still to come. For each base key K, the merge first
 *    visits the pending entries smaller than K; then a pending entry equal to K shadows
 *    the base's (visited with the pending value, or skipped for a tombstone), otherwise
 *    the base's entry is visited. When the base's scan ends, the pending entries left
 *    that still carry the prefix are visited. Pending entries between where the scan
 *    begins and a base key carry the prefix themselves, since the keys that carry a
 *    prefix are contiguous in key order.
 *
 * 4. Stop and abort. The caller's callback returning 1 makes the merge return 1 to the
 *    base, which stops its scan and returns 0; a flag then keeps the remaining pending
 *    entries from being visited. A negative code passes through the base's scan as the
 *    base's own result and is returned as it is.
 *
 * 5. A write applies its batch to `pending`, atomically (gov_kv_map_apply), and
 *    forgets a `batch` built before it.
 *
 * 6. Commit. gov_kv_overlay_commit writes the overlay to its base in one write and
 *    leaves the overlay empty (reading through to the base, which now has its writes).
 *    Any base takes `batch`; an in-memory base instead takes the pending entries
 *    themselves (gov_kv_memory_absorb), which gives it the same entries as `batch`
 *    would, with the entries' nodes and values moved instead of copied. That is how a
 *    replay commits each block into the in-memory ledger it rebuilds.
 *
 * 7. Reuse. gov_kv_overlay_reset and a commit empty the overlay but keep the memory of
 *    `pending` (its hash table: ledger/kv_memory.c, note 6), so an overlay emptied
 *    between blocks takes the next block's writes without growing a table again. An
 *    emptied overlay holds nothing: every read goes through to the base.
 */
#include "govchain/kv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "govchain/assert.h"
#include "govchain/error.h"
#include "govchain/limits.h"
#include "ledger/kv_internal.h"

typedef struct {
    gov_kv kv; /* first, so that a gov_kv * is an overlay_store * */
    gov_kv *base;
    gov_kv_map pending;
    gov_kv_batch batch;
    bool batch_built; /* batch holds pending's entries (note 1) */
    /* Writing from inside a scan would move `pending` under the merge. */
    unsigned scans_running;
} overlay_store;

static const gov_kv_ops overlay_ops;

static overlay_store *overlay_from(gov_kv *kv)
{
    GOV_ASSERT(kv != NULL);
    GOV_ASSERT(kv->ops == &overlay_ops);
    return (overlay_store *)kv;
}

static int overlay_get(gov_kv *kv, const uint8_t *key, size_t key_len, uint8_t **value,
                       size_t *value_len, char *why, size_t why_len)
{
    overlay_store *overlay = overlay_from(kv);
    GOV_ASSERT(key_len <= GOV_KV_KEY_BYTES_MAX);
    const gov_kv_node *entry = gov_kv_map_find(&overlay->pending, key, key_len);
    if (entry == NULL) {
        return gov_kv_get(overlay->base, key, key_len, value, value_len, why, why_len);
    }
    if (entry->deleted) {
        return GOV_ENOENT;
    }
    uint8_t *copy = gov_kv_copy_bytes(entry->value, entry->value_len);
    if (copy == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "cannot copy a value of %zu bytes",
                        entry->value_len);
    }
    *value = copy;
    *value_len = entry->value_len;
    return 0;
}

static int overlay_get_into(gov_kv *kv, const uint8_t *key, size_t key_len, uint8_t *buf,
                            size_t buf_len, size_t *value_len, char *why, size_t why_len)
{
    overlay_store *overlay = overlay_from(kv);
    GOV_ASSERT(key_len <= GOV_KV_KEY_BYTES_MAX);
    const gov_kv_node *entry = gov_kv_map_find(&overlay->pending, key, key_len);
    if (entry == NULL) {
        return gov_kv_get_into(overlay->base, key, key_len, buf, buf_len, value_len, why, why_len);
    }
    if (entry->deleted) {
        return GOV_ENOENT;
    }
    gov_kv_copy_into(entry->value, entry->value_len, buf, buf_len);
    *value_len = entry->value_len;
    return 0;
}

static void overlay_prefetch(gov_kv *kv, const uint8_t *key, size_t key_len)
{
    overlay_store *overlay = overlay_from(kv);
    gov_kv_map_prefetch(&overlay->pending, key, key_len);
    gov_kv_prefetch(overlay->base, key, key_len);
}

static int overlay_write(gov_kv *kv, const gov_kv_batch *batch, char *why, size_t why_len)
{
    overlay_store *overlay = overlay_from(kv);
    GOV_ASSERT(overlay->scans_running == 0);
    int rc = gov_kv_map_apply(&overlay->pending, batch, true);
    if (rc != 0) {
        return gov_fail(why, why_len, rc, "overlay: cannot record %zu operations: %s", batch->count,
                        gov_strerror(rc));
    }
    if (overlay->batch_built) {
        gov_kv_batch_clear(&overlay->batch);
        overlay->batch_built = false;
    }
    return 0;
}

typedef struct {
    const gov_kv_node *next; /* note 3; NULL past the last pending entry */
    const uint8_t *prefix;
    size_t prefix_len;
    gov_kv_scan_cb cb;
    void *arg;
    bool stopped; /* the caller's callback asked to stop (note 4) */
} merge_scan;

/* Visits one entry: 0 to go on, 1 to stop, or the caller's negative code. */
static int merge_visit(merge_scan *merge, const uint8_t *key, size_t key_len, const uint8_t *value,
                       size_t value_len)
{
    int rc = merge->cb(merge->arg, key, key_len, value, value_len);
    if (rc > 0) {
        merge->stopped = true;
        return 1;
    }
    return rc;
}

/* Visits the pending entries that carry the prefix and, when bounded, are smaller than
 * key; tombstones are passed over. */
static int merge_pending(merge_scan *merge, bool bounded, const uint8_t *key, size_t key_len)
{
    while (merge->next != NULL) {
        const gov_kv_node *entry = merge->next;
        if (!gov_kv_key_has_prefix(entry->key, entry->key_len, merge->prefix, merge->prefix_len)) {
            return 0;
        }
        if (bounded && gov_kv_key_compare(entry->key, entry->key_len, key, key_len) >= 0) {
            return 0;
        }
        merge->next = entry->next[0];
        if (!entry->deleted) {
            int rc = merge_visit(merge, entry->key, entry->key_len, entry->value, entry->value_len);
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}

/* The base scan's callback (note 3). */
static int merge_base_entry(void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
                            size_t value_len)
{
    merge_scan *merge = arg;
    int rc = merge_pending(merge, true, key, key_len);
    if (rc != 0) {
        return rc;
    }
    const gov_kv_node *entry = merge->next;
    if (entry == NULL || gov_kv_key_compare(entry->key, entry->key_len, key, key_len) != 0) {
        return merge_visit(merge, key, key_len, value, value_len);
    }
    /* The pending entry shadows the base's. */
    merge->next = entry->next[0];
    if (entry->deleted) {
        return 0;
    }
    return merge_visit(merge, entry->key, entry->key_len, entry->value, entry->value_len);
}

static int overlay_scan(gov_kv *kv, const uint8_t *prefix, size_t prefix_len, const uint8_t *start,
                        size_t start_len, gov_kv_scan_cb cb, void *arg, char *why, size_t why_len)
{
    overlay_store *overlay = overlay_from(kv);
    const uint8_t *begin;
    size_t begin_len;
    gov_kv_scan_begin(prefix, prefix_len, start, start_len, &begin, &begin_len);
    merge_scan merge = {
        .next = gov_kv_map_seek(&overlay->pending, begin, begin_len),
        .prefix = prefix,
        .prefix_len = prefix_len,
        .cb = cb,
        .arg = arg,
        .stopped = false,
    };
    overlay->scans_running++;
    int rc = gov_kv_scan(overlay->base, prefix, prefix_len, start, start_len, merge_base_entry,
                         &merge, why, why_len);
    if (rc == 0 && !merge.stopped) {
        rc = merge_pending(&merge, false, NULL, 0);
    }
    overlay->scans_running--;
    return rc > 0 ? 0 : rc;
}

static void overlay_close(gov_kv *kv)
{
    overlay_store *overlay = overlay_from(kv);
    GOV_ASSERT(overlay->scans_running == 0);
    gov_kv_map_free(&overlay->pending);
    gov_kv_batch_clear(&overlay->batch);
    free(overlay);
}

static const gov_kv_ops overlay_ops = {
    .get = overlay_get,
    .write = overlay_write,
    .scan = overlay_scan,
    .close = overlay_close,
    .get_into = overlay_get_into,
    .prefetch = overlay_prefetch,
};

int gov_kv_overlay_open(gov_kv *base, gov_kv **out)
{
    GOV_ASSERT(base != NULL);
    GOV_ASSERT(out != NULL);
    *out = NULL;
    overlay_store *overlay = calloc(1, sizeof(*overlay));
    if (overlay == NULL) {
        return GOV_ENOMEM;
    }
    overlay->kv.ops = &overlay_ops;
    overlay->base = base;
    gov_kv_map_init(&overlay->pending);
    gov_kv_batch_init(&overlay->batch);
    *out = &overlay->kv;
    return 0;
}

const gov_kv_batch *gov_kv_overlay_batch(gov_kv *kv)
{
    overlay_store *overlay = overlay_from(kv);
    if (overlay->batch_built) {
        return &overlay->batch;
    }
    gov_kv_batch_clear(&overlay->batch);
    int rc = 0;
    for (const gov_kv_node *entry = gov_kv_map_seek(&overlay->pending, NULL, 0);
         entry != NULL && rc == 0; entry = entry->next[0]) {
        rc = entry->deleted ? gov_kv_batch_delete(&overlay->batch, entry->key, entry->key_len)
                            : gov_kv_batch_put(&overlay->batch, entry->key, entry->key_len,
                                               entry->value, entry->value_len);
    }
    if (rc != 0) {
        gov_kv_batch_clear(&overlay->batch);
        return NULL;
    }
    overlay->batch_built = true;
    return &overlay->batch;
}

void gov_kv_overlay_reset(gov_kv *kv)
{
    overlay_store *overlay = overlay_from(kv);
    GOV_ASSERT(overlay->scans_running == 0);
    gov_kv_map_reset(&overlay->pending);
    gov_kv_batch_clear(&overlay->batch);
    overlay->batch_built = false;
}

int gov_kv_overlay_commit(gov_kv *kv, char *why, size_t why_len)
{
    overlay_store *overlay = overlay_from(kv);
    GOV_ASSERT(overlay->scans_running == 0);
    int rc;
    if (gov_kv_is_memory(overlay->base)) {
        /* Note 6: the pending entries hold the overlay's view, one entry per key. */
        rc = gov_kv_memory_absorb(overlay->base, &overlay->pending, why, why_len);
    } else {
        const gov_kv_batch *batch = gov_kv_overlay_batch(kv);
        rc = batch == NULL
                 ? gov_fail(why, why_len, GOV_ENOMEM,
                            "overlay: cannot copy %zu entries into a batch", overlay->pending.count)
                 : gov_kv_write(overlay->base, batch, why, why_len);
        if (rc == 0) {
            gov_kv_map_reset(&overlay->pending);
        }
    }
    if (rc == 0) {
        gov_kv_batch_clear(&overlay->batch);
        overlay->batch_built = false;
    }
    return rc;
}
