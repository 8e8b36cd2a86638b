/*
 * The LevelDB implementation of govchain/kv.h (contract in govchain/kv_leveldb.h). The
 * only file that includes LevelDB's header; built into govchain_io, never the core.
 *
 * Design notes.
 *
 * 1. Options (DESIGN §5). paranoid_checks makes LevelDB stop at the first sign of
 *    corruption (while opening, and in background compactions, after which every write
 *    fails) instead of skipping what it cannot read; verify_checksums makes every read
 *    check the block it comes from, so a flipped bit is an error, never data. Every
 *    write is one WriteBatch with sync on: after a crash LevelDB recovers all of a batch
 *    or none of it. A corrupted database is reported, never repaired (no RepairDB: it
 *    drops what it cannot read, silently losing committed blocks); the node rebuilds
 *    from peers instead.
 *
 * 2. Errors. Every LevelDB error string becomes GOV_EIO with the string in why[], and
 *    is freed with leveldb_free. LevelDB's "not found" is no error: leveldb_get
 *    returns NULL with no error string, which becomes GOV_ENOENT.
 *
 * 3. Memory. Values from leveldb_get are copied into a buffer of our own, so that the
 *    caller frees with free() whatever LevelDB's allocator is; the original goes back
 *    through leveldb_free. Scans hand the callback LevelDB's own key and value, which
 *    stay valid until the iterator moves: exactly the "borrowed for the call" of the
 *    contract. An iterator reads a snapshot, so a callback may even write to the store.
 *
 * 4. Scans check the iterator's status before every entry, not only at the end. An
 *    iterator that cannot read a table block records the error and moves on to the
 *    next block, so its entries after the bad block look like ordinary data: checked
 *    only at the end, a scan stopped early by its callback would return entries with a
 *    silent gap before them. Checked at every step, the scan reports the error before
 *    it visits anything past the gap.
 */
#include "govchain/kv_leveldb.h"

#include <stdint.h>
#include <stdlib.h>

#include <leveldb/c.h>

#include "govchain/assert.h"
#include "govchain/error.h"
#include "govchain/limits.h"
#include "ledger/kv_internal.h"

typedef struct {
    gov_kv kv; /* first, so that a gov_kv * is a leveldb_store * */
    leveldb_t *db;
    leveldb_options_t *options;
    leveldb_readoptions_t *read_options;
    leveldb_writeoptions_t *write_options;
} leveldb_store;

static const gov_kv_ops store_ops;

static leveldb_store *store_from(gov_kv *kv)
{
    GOV_ASSERT(kv != NULL);
    GOV_ASSERT(kv->ops == &store_ops);
    return (leveldb_store *)kv;
}

/* Note 2: takes ownership of error. */
static int fail_leveldb(char *error, const char *what, char *why, size_t why_len)
{
    int rc = gov_fail(why, why_len, GOV_EIO, "LevelDB %s: %s", what, error);
    leveldb_free(error);
    return rc;
}

static int store_get(gov_kv *kv, const uint8_t *key, size_t key_len, uint8_t **value,
                     size_t *value_len, char *why, size_t why_len)
{
    leveldb_store *store = store_from(kv);
    GOV_ASSERT(key_len <= GOV_KV_KEY_BYTES_MAX);
    char *error = NULL;
    size_t found_len = 0;
    /* LevelDB copies an empty value with malloc(0), which glibc answers with a unique
     * pointer, so NULL without an error means "not found" only. */
    char *found =
        leveldb_get(store->db, store->read_options, (const char *)key, key_len, &found_len, &error);
    if (error != NULL) {
        GOV_ASSERT(found == NULL);
        return fail_leveldb(error, "get", why, why_len);
    }
    if (found == NULL) {
        return GOV_ENOENT;
    }
    uint8_t *copy = gov_kv_copy_bytes(found, found_len);
    leveldb_free(found);
    if (copy == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "cannot copy a value of %zu bytes", found_len);
    }
    *value = copy;
    *value_len = found_len;
    return 0;
}

static int store_write(gov_kv *kv, const gov_kv_batch *batch, char *why, size_t why_len)
{
    leveldb_store *store = store_from(kv);
    leveldb_writebatch_t *write_batch = leveldb_writebatch_create();
    for (size_t i = 0; i < batch->count; i++) {
        const gov_kv_op *op = &batch->ops[i];
        GOV_ASSERT(op->key_len <= GOV_KV_KEY_BYTES_MAX);
        GOV_ASSERT(op->value_len <= GOV_KV_VALUE_BYTES_MAX);
        if (op->kind == GOV_KV_PUT) {
            leveldb_writebatch_put(write_batch, (const char *)op->key, op->key_len,
                                   (const char *)op->value, op->value_len);
        } else {
            leveldb_writebatch_delete(write_batch, (const char *)op->key, op->key_len);
        }
    }
    char *error = NULL;
    leveldb_write(store->db, store->write_options, write_batch, &error);
    leveldb_writebatch_destroy(write_batch);
    if (error != NULL) {
        return fail_leveldb(error, "write", why, why_len);
    }
    return 0;
}

/* Note 4: takes the iterator's error, if it has one, as GOV_EIO. */
static int iterator_error(leveldb_iterator_t *iterator, char *why, size_t why_len)
{
    char *error = NULL;
    leveldb_iter_get_error(iterator, &error);
    return error != NULL ? fail_leveldb(error, "scan", why, why_len) : 0;
}

static int store_scan(gov_kv *kv, const uint8_t *prefix, size_t prefix_len, const uint8_t *start,
                      size_t start_len, gov_kv_scan_cb cb, void *arg, char *why, size_t why_len)
{
    leveldb_store *store = store_from(kv);
    const uint8_t *begin;
    size_t begin_len;
    gov_kv_scan_begin(prefix, prefix_len, start, start_len, &begin, &begin_len);
    leveldb_iterator_t *iterator = leveldb_create_iterator(store->db, store->read_options);
    leveldb_iter_seek(iterator, (const char *)begin, begin_len);
    int rc;
    while ((rc = iterator_error(iterator, why, why_len)) == 0 && leveldb_iter_valid(iterator)) {
        size_t key_len;
        const uint8_t *key = (const uint8_t *)leveldb_iter_key(iterator, &key_len);
        /* Keys with the prefix are contiguous, so the first without it ends the scan. */
        if (!gov_kv_key_has_prefix(key, key_len, prefix, prefix_len)) {
            break;
        }
        size_t value_len;
        const uint8_t *value = (const uint8_t *)leveldb_iter_value(iterator, &value_len);
        rc = cb(arg, key, key_len, value, value_len);
        if (rc != 0) {
            break;
        }
        leveldb_iter_next(iterator);
    }
    leveldb_iter_destroy(iterator);
    return rc > 0 ? 0 : rc;
}

static void store_close(gov_kv *kv)
{
    leveldb_store *store = store_from(kv);
    leveldb_close(store->db);
    leveldb_writeoptions_destroy(store->write_options);
    leveldb_readoptions_destroy(store->read_options);
    leveldb_options_destroy(store->options);
    free(store);
}

static const gov_kv_ops store_ops = {
    .get = store_get,
    .write = store_write,
    .scan = store_scan,
    .close = store_close,
};

int gov_kv_leveldb_open(const char *path, bool create, gov_kv **out, char *why, size_t why_len)
{
    GOV_ASSERT(path != NULL);
    GOV_ASSERT(out != NULL);
    *out = NULL;
    leveldb_store *store = calloc(1, sizeof(*store));
    if (store == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "cannot allocate a LevelDB store");
    }
    store->kv.ops = &store_ops;
    /* LevelDB's constructors cannot return NULL: they abort when out of memory. */
    store->options = leveldb_options_create();
    leveldb_options_set_create_if_missing(store->options, create);
    leveldb_options_set_error_if_exists(store->options, 0);
    leveldb_options_set_paranoid_checks(store->options, 1);
    store->read_options = leveldb_readoptions_create();
    leveldb_readoptions_set_verify_checksums(store->read_options, 1);
    store->write_options = leveldb_writeoptions_create();
    leveldb_writeoptions_set_sync(store->write_options, 1);

    char *error = NULL;
    store->db = leveldb_open(store->options, path, &error);
    if (error != NULL) {
        int rc = fail_leveldb(error, "open", why, why_len);
        leveldb_writeoptions_destroy(store->write_options);
        leveldb_readoptions_destroy(store->read_options);
        leveldb_options_destroy(store->options);
        free(store);
        return rc;
    }
    GOV_ASSERT(store->db != NULL);
    *out = &store->kv;
    return 0;
}
