/*
 * Batches and the dispatch functions of the key-value interface (govchain/kv.h), plus
 * the small helpers every implementation shares (ledger/kv_internal.h).
 *
 * The dispatch functions are the edge of the store: they check every key, prefix, value
 * and batch against GOV_KV_KEY_BYTES_MAX and GOV_KV_VALUE_BYTES_MAX before an
 * implementation sees it, so the limits hold alike for every implementation and each
 * implementation can assert them instead of checking them again. A batch that breaks a
 * limit is refused whole, before anything is written.
 */
#include "govchain/kv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "govchain/assert.h"
#include "govchain/error.h"
#include "govchain/limits.h"
#include "ledger/kv_internal.h"

/* The first growth of a batch: most batches hold one block's worth of writes. */
#define BATCH_CAPACITY_MIN 16

int gov_kv_key_compare(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    size_t common = a_len < b_len ? a_len : b_len;
    /* memcmp with a NULL pointer is undefined even for length 0, and empty keys may
     * legitimately be NULL. */
    int order = common > 0 ? memcmp(a, b, common) : 0;
    if (order != 0) {
        return order;
    }
    return (a_len > b_len) - (a_len < b_len);
}

bool gov_kv_key_has_prefix(const uint8_t *key, size_t key_len, const uint8_t *prefix,
                           size_t prefix_len)
{
    return key_len >= prefix_len && (prefix_len == 0 || memcmp(key, prefix, prefix_len) == 0);
}

void gov_kv_scan_begin(const uint8_t *prefix, size_t prefix_len, const uint8_t *start,
                       size_t start_len, const uint8_t **begin, size_t *begin_len)
{
    if (start != NULL && gov_kv_key_compare(start, start_len, prefix, prefix_len) > 0) {
        *begin = start;
        *begin_len = start_len;
    } else {
        *begin = prefix;
        *begin_len = prefix_len;
    }
}

uint8_t *gov_kv_copy_bytes(const void *bytes, size_t len)
{
    /* One byte for an empty string, so that a copy is NULL only when out of memory. */
    uint8_t *copy = malloc(len > 0 ? len : 1);
    if (copy != NULL && len > 0) {
        memcpy(copy, bytes, len);
    }
    return copy;
}

void gov_kv_batch_init(gov_kv_batch *batch)
{
    GOV_ASSERT(batch != NULL);
    *batch = (gov_kv_batch){0};
}

void gov_kv_batch_clear(gov_kv_batch *batch)
{
    GOV_ASSERT(batch != NULL);
    for (size_t i = 0; i < batch->count; i++) {
        free(batch->ops[i].key);
        free(batch->ops[i].value);
    }
    free(batch->ops);
    gov_kv_batch_init(batch);
}

static int batch_grow(gov_kv_batch *batch)
{
    if (batch->capacity > SIZE_MAX / 2 / sizeof(gov_kv_op)) {
        return GOV_ENOMEM;
    }
    size_t capacity = batch->capacity > 0 ? 2 * batch->capacity : BATCH_CAPACITY_MIN;
    gov_kv_op *ops = realloc(batch->ops, capacity * sizeof(gov_kv_op));
    if (ops == NULL) {
        return GOV_ENOMEM;
    }
    batch->ops = ops;
    batch->capacity = capacity;
    return 0;
}

static int batch_append(gov_kv_batch *batch, gov_kv_op_kind kind, const void *key, size_t key_len,
                        const void *value, size_t value_len)
{
    GOV_ASSERT(batch != NULL);
    GOV_ASSERT(key != NULL || key_len == 0);
    GOV_ASSERT(value != NULL || value_len == 0);
    GOV_ASSERT(batch->count <= batch->capacity);
    if (key_len > GOV_KV_KEY_BYTES_MAX || value_len > GOV_KV_VALUE_BYTES_MAX) {
        return GOV_ELIMIT;
    }
    /* Cannot overflow: both lengths are bounded above. */
    size_t op_bytes = key_len + value_len;
    if (batch->bytes > SIZE_MAX - op_bytes) {
        return GOV_ELIMIT;
    }
    if (batch->count == batch->capacity) {
        int rc = batch_grow(batch);
        if (rc != 0) {
            return rc;
        }
    }
    uint8_t *key_copy = gov_kv_copy_bytes(key, key_len);
    if (key_copy == NULL) {
        return GOV_ENOMEM;
    }
    uint8_t *value_copy = NULL;
    if (kind == GOV_KV_PUT) {
        value_copy = gov_kv_copy_bytes(value, value_len);
        if (value_copy == NULL) {
            free(key_copy);
            return GOV_ENOMEM;
        }
    }
    batch->ops[batch->count] = (gov_kv_op){
        .kind = kind,
        .key = key_copy,
        .key_len = key_len,
        .value = value_copy,
        .value_len = value_len,
    };
    batch->count++;
    batch->bytes += op_bytes;
    return 0;
}

int gov_kv_batch_put(gov_kv_batch *batch, const void *key, size_t key_len, const void *value,
                     size_t value_len)
{
    return batch_append(batch, GOV_KV_PUT, key, key_len, value, value_len);
}

int gov_kv_batch_delete(gov_kv_batch *batch, const void *key, size_t key_len)
{
    return batch_append(batch, GOV_KV_DELETE, key, key_len, NULL, 0);
}

static int check_key(const void *key, size_t key_len, const char *what, char *why, size_t why_len)
{
    GOV_ASSERT(key != NULL || key_len == 0);
    if (key_len > GOV_KV_KEY_BYTES_MAX) {
        return gov_fail(why, why_len, GOV_ELIMIT, "%s of %zu bytes exceeds the limit of %d", what,
                        key_len, (int)GOV_KV_KEY_BYTES_MAX);
    }
    return 0;
}

/* A batch may have been filled by hand rather than by gov_kv_batch_put, so its shape is
 * asserted and its sizes are checked. */
static int check_batch(const gov_kv_batch *batch, char *why, size_t why_len)
{
    GOV_ASSERT(batch != NULL);
    GOV_ASSERT(batch->ops != NULL || batch->count == 0);
    for (size_t i = 0; i < batch->count; i++) {
        const gov_kv_op *op = &batch->ops[i];
        GOV_ASSERT(op->kind == GOV_KV_PUT || op->kind == GOV_KV_DELETE);
        GOV_ASSERT(op->key != NULL || op->key_len == 0);
        GOV_ASSERT(op->kind == GOV_KV_PUT || (op->value == NULL && op->value_len == 0));
        GOV_ASSERT(op->value != NULL || op->value_len == 0);
        if (op->key_len > GOV_KV_KEY_BYTES_MAX) {
            return gov_fail(why, why_len, GOV_ELIMIT,
                            "batch operation %zu: key of %zu bytes exceeds the limit of %d", i,
                            op->key_len, (int)GOV_KV_KEY_BYTES_MAX);
        }
        if (op->value_len > GOV_KV_VALUE_BYTES_MAX) {
            return gov_fail(why, why_len, GOV_ELIMIT,
                            "batch operation %zu: value of %zu bytes exceeds the limit of %d", i,
                            op->value_len, (int)GOV_KV_VALUE_BYTES_MAX);
        }
    }
    return 0;
}

int gov_kv_get(gov_kv *kv, const void *key, size_t key_len, uint8_t **value, size_t *value_len,
               char *why, size_t why_len)
{
    GOV_ASSERT(kv != NULL);
    GOV_ASSERT(value != NULL);
    GOV_ASSERT(value_len != NULL);
    *value = NULL;
    *value_len = 0;
    int rc = check_key(key, key_len, "key", why, why_len);
    if (rc != 0) {
        return rc;
    }
    rc = kv->ops->get(kv, key, key_len, value, value_len, why, why_len);
    if (rc != 0) {
        /* A failed get hands nothing to the caller, so there is nothing to leak. */
        GOV_ASSERT(*value == NULL);
        *value_len = 0;
        return rc;
    }
    /* Even an empty value is a buffer: NULL means absent and nothing else. */
    GOV_ASSERT(*value != NULL);
    return 0;
}

int gov_kv_get_into(gov_kv *kv, const void *key, size_t key_len, uint8_t *buf, size_t buf_len,
                    size_t *value_len, char *why, size_t why_len)
{
    GOV_ASSERT(kv != NULL);
    GOV_ASSERT(buf != NULL || buf_len == 0);
    GOV_ASSERT(value_len != NULL);
    *value_len = 0;
    int rc = check_key(key, key_len, "key", why, why_len);
    if (rc != 0) {
        return rc;
    }
    if (kv->ops->get_into != NULL) {
        rc = kv->ops->get_into(kv, key, key_len, buf, buf_len, value_len, why, why_len);
        if (rc != 0) {
            *value_len = 0;
        }
        return rc;
    }
    uint8_t *value = NULL;
    rc = gov_kv_get(kv, key, key_len, &value, value_len, why, why_len);
    if (rc == 0) {
        gov_kv_copy_into(value, *value_len, buf, buf_len);
    }
    free(value);
    return rc;
}

void gov_kv_copy_into(const uint8_t *value, size_t value_len, uint8_t *buf, size_t buf_len)
{
    size_t copied = value_len < buf_len ? value_len : buf_len;
    if (copied > 0) {
        memcpy(buf, value, copied);
    }
}

void gov_kv_prefetch(gov_kv *kv, const void *key, size_t key_len)
{
    GOV_ASSERT(kv != NULL);
    if (kv->ops->prefetch != NULL && key_len <= GOV_KV_KEY_BYTES_MAX) {
        kv->ops->prefetch(kv, key, key_len);
    }
}

int gov_kv_write(gov_kv *kv, const gov_kv_batch *batch, char *why, size_t why_len)
{
    GOV_ASSERT(kv != NULL);
    int rc = check_batch(batch, why, why_len);
    if (rc != 0) {
        return rc;
    }
    return kv->ops->write(kv, batch, why, why_len);
}

int gov_kv_put(gov_kv *kv, const void *key, size_t key_len, const void *value, size_t value_len,
               char *why, size_t why_len)
{
    int rc = check_key(key, key_len, "key", why, why_len);
    if (rc != 0) {
        return rc;
    }
    if (value_len > GOV_KV_VALUE_BYTES_MAX) {
        return gov_fail(why, why_len, GOV_ELIMIT, "value of %zu bytes exceeds the limit of %d",
                        value_len, (int)GOV_KV_VALUE_BYTES_MAX);
    }
    gov_kv_batch batch;
    gov_kv_batch_init(&batch);
    rc = gov_kv_batch_put(&batch, key, key_len, value, value_len);
    if (rc != 0) {
        rc = gov_fail(why, why_len, rc, "cannot copy the key and value into a batch");
    } else {
        rc = gov_kv_write(kv, &batch, why, why_len);
    }
    gov_kv_batch_clear(&batch);
    return rc;
}

int gov_kv_scan(gov_kv *kv, const void *prefix, size_t prefix_len, const void *start,
                size_t start_len, gov_kv_scan_cb cb, void *arg, char *why, size_t why_len)
{
    GOV_ASSERT(kv != NULL);
    GOV_ASSERT(cb != NULL);
    int rc = check_key(prefix, prefix_len, "prefix", why, why_len);
    if (rc == 0 && start != NULL) {
        rc = check_key(start, start_len, "start key", why, why_len);
    }
    if (rc != 0) {
        return rc;
    }
    return kv->ops->scan(kv, prefix, prefix_len, start, start_len, cb, arg, why, why_len);
}

void gov_kv_close(gov_kv *kv)
{
    if (kv != NULL) {
        kv->ops->close(kv);
    }
}
