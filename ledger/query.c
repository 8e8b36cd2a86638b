/*
 * Ledger queries (govchain/query.h): reads of the committed store, nothing else.
 *
 * Design note. Every query is a point read or one ascending prefix scan of an index the
 * ledger already writes in the same batch as the block (govchain/state.h), so a query
 * sees whole blocks only and needs no lock or snapshot of its own:
 *
 *   'D' doc_hash                          -> current state        gov_query_doc
 *   'Y' doc_hash || height || index       -> state after change   history, doc_at
 *   'T' tx_id                             -> [height, index]      gov_query_tx (then 'B')
 *   'S' subject_ref || doc_hash           -> ""                   docs_by_subject
 *   'I' department || height || index     -> tx_id                department_txs
 *
 * Integers in keys are big-endian, so key order is chain order and a range of heights is
 * a range of keys. Invariants this file relies on, and checks where it reads them:
 *   1. every key under a prefix has that prefix's fixed length;
 *   2. a history entry holds the state of the document its key names, and that state
 *      records the change at the key's (height, index): its issue, an endorsement, or
 *      its revocation or supersession;
 *   3. a 'T' entry names a committed block whose transaction at that index has that id.
 * An entry that breaks one is corruption (GOV_EIO), never an answer.
 *
 * Pages resume "after" an entry: with fixed-length keys the least key greater than K is
 * K || 0x00, so the scan simply starts there.
 *
 * "As of height h" is the last history entry at a height <= h. The store offers only
 * ascending scans, so gov_query_doc_at walks the document's history from its issue and
 * stops at the first entry above h. That is cheap because a history is short: one issue,
 * at most one endorsement per other department, one supersession, one revocation
 * (GOV_DEPARTMENTS_MAX + 2 entries at the very most). Only the raw bytes of the best
 * entry so far are kept; only the answer is decoded.
 */
#include "govchain/query.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "govchain/assert.h"
#include "govchain/canon.h"
#include "govchain/error.h"
#include "ledger/store_key.h"
#include "govchain/limits.h"

enum {
    HEIGHT_BYTES = GOV_KEY_HEIGHT_BYTES,
    INDEX_BYTES = GOV_KEY_INDEX_BYTES,
    DEPARTMENT_BYTES = GOV_KEY_DEPARTMENT_BYTES,
    POSITION_BYTES = HEIGHT_BYTES + INDEX_BYTES,
    /* The fixed lengths of invariant 1. */
    HISTORY_KEY_LEN = 1 + GOV_HASH_LEN + POSITION_BYTES,
    SUBJECT_KEY_LEN = 1 + 2 * GOV_HASH_LEN,
    DEPARTMENT_KEY_LEN = 1 + DEPARTMENT_BYTES + POSITION_BYTES,
    /* A 'T' value: [height, index], at most 1 + 9 + 5 bytes and three msgpack values. */
    TX_PLACE_BYTES_MAX = 16,
    TX_PLACE_VALUES_MAX = 3,
    HEX_BYTES = 2 * GOV_HASH_LEN + 1,
};

const char *gov_query_change_name(gov_query_change_kind kind)
{
    switch (kind) {
    case GOV_QUERY_CHANGE_ISSUED:
        return "issued";
    case GOV_QUERY_CHANGE_ENDORSED:
        return "endorsed";
    case GOV_QUERY_CHANGE_REVOKED:
        return "revoked";
    case GOV_QUERY_CHANGE_SUPERSEDED:
        return "superseded";
    }
    return NULL;
}

void gov_query_doc_change_clear(gov_query_doc_change *change)
{
    gov_doc_state_clear(&change->state);
    memset(change, 0, sizeof(*change));
}

/* Keys ---------------------------------------------------------------------------------- */

static uint64_t read_be(const uint8_t *bytes, size_t width)
{
    uint64_t value = 0;
    for (size_t i = 0; i < width; i++) {
        value = (value << 8) | bytes[i];
    }
    return value;
}

static const char *hex(const gov_hash *hash, char out[HEX_BYTES])
{
    gov_hex_encode(hash->bytes, GOV_HASH_LEN, out);
    return out;
}

static int check_limit(uint32_t limit, char *why, size_t why_len)
{
    return limit > 0 ? 0 : gov_fail(why, why_len, GOV_EINVAL, "a page limit must be at least 1");
}

/* Document states ------------------------------------------------------------------------ */

/* Decodes a stored state of doc_hash. Anything but running out of memory is corruption. */
static int state_decode(const uint8_t *value, size_t value_len, const gov_hash *doc_hash,
                        const char *entry, gov_doc_state *out, char *why, size_t why_len)
{
    char reason[160] = "";
    char name[HEX_BYTES];
    int rc = gov_doc_state_decode(value, value_len, out, reason, sizeof(reason));
    if (rc == GOV_ENOMEM) {
        return gov_fail(why, why_len, rc, "out of memory reading document %s", hex(doc_hash, name));
    }
    if (rc != 0) {
        return gov_fail(why, why_len, GOV_EIO, "stored %s of document %s is corrupted: %s", entry,
                        hex(doc_hash, name), reason);
    }
    if (!gov_hash_equal(&out->doc_hash, doc_hash)) {
        gov_doc_state_clear(out);
        return gov_fail(why, why_len, GOV_EIO, "stored %s of document %s names another document",
                        entry, hex(doc_hash, name));
    }
    return 0;
}

int gov_query_doc(const gov_ledger *ledger, const gov_hash *doc_hash, gov_doc_state *state,
                  bool *found, char *why, size_t why_len)
{
    memset(state, 0, sizeof(*state));
    *found = false;
    gov_store_key key;
    gov_store_key_begin(&key, 'D');
    gov_store_key_add(&key, doc_hash->bytes, GOV_HASH_LEN);
    uint8_t *value = NULL;
    size_t value_len = 0;
    int rc =
        gov_kv_get(gov_ledger_store(ledger), key.bytes, key.len, &value, &value_len, why, why_len);
    if (rc == GOV_ENOENT) {
        return 0;
    }
    if (rc != 0) {
        return rc;
    }
    rc = state_decode(value, value_len, doc_hash, "state", state, why, why_len);
    free(value);
    *found = rc == 0;
    return rc;
}

static bool position_is(const gov_ledger_position *at, uint64_t height, uint32_t index)
{
    return at->height == height && at->index == index;
}

/* Which change of invariant 2 the state records at (height, index); false when none. */
static bool classify_change(const gov_doc_state *state, uint64_t height, uint32_t index,
                            gov_query_doc_change *out)
{
    if (position_is(&state->issued, height, index)) {
        out->kind = GOV_QUERY_CHANGE_ISSUED;
        out->at = state->issued;
        return true;
    }
    for (uint32_t i = 0; i < state->endorsements_count; i++) {
        if (position_is(&state->endorsements[i].at, height, index)) {
            out->kind = GOV_QUERY_CHANGE_ENDORSED;
            out->at = state->endorsements[i].at;
            return true;
        }
    }
    if (!state->has_change || !position_is(&state->change, height, index)) {
        return false;
    }
    if (state->status == GOV_DOC_VALID) {
        return false;
    }
    out->kind =
        state->status == GOV_DOC_REVOKED ? GOV_QUERY_CHANGE_REVOKED : GOV_QUERY_CHANGE_SUPERSEDED;
    out->at = state->change;
    return true;
}

/* A history entry ('Y' key of HISTORY_KEY_LEN bytes, value) as a change. */
static int change_decode(const gov_hash *doc_hash, const uint8_t *key, const uint8_t *value,
                         size_t value_len, gov_query_doc_change *out, char *why, size_t why_len)
{
    memset(out, 0, sizeof(*out));
    uint64_t height = read_be(key + 1 + GOV_HASH_LEN, HEIGHT_BYTES);
    uint32_t index = (uint32_t)read_be(key + 1 + GOV_HASH_LEN + HEIGHT_BYTES, INDEX_BYTES);
    int rc = state_decode(value, value_len, doc_hash, "history", &out->state, why, why_len);
    if (rc != 0) {
        return rc;
    }
    if (!classify_change(&out->state, height, index, out)) {
        char name[HEX_BYTES];
        gov_query_doc_change_clear(out);
        return gov_fail(why, why_len, GOV_EIO,
                        "history of document %s at %" PRIu64 "/%" PRIu32
                        " records no change made there",
                        hex(doc_hash, name), height, index);
    }
    return 0;
}

static int history_key_check(const gov_hash *doc_hash, size_t key_len, char *why, size_t why_len)
{
    char name[HEX_BYTES];
    if (key_len == HISTORY_KEY_LEN) {
        return 0;
    }
    return gov_fail(why, why_len, GOV_EIO, "history key of document %s has %zu bytes",
                    hex(doc_hash, name), key_len);
}

/* History ---------------------------------------------------------------------------------- */

typedef struct {
    const gov_hash *doc_hash;
    uint32_t limit;
    gov_query_doc_change *out;
    gov_query_page *page;
    char *why;
    size_t why_len;
} history_scan;

static int history_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
                         size_t value_len)
{
    history_scan *scan = arg;
    int rc = history_key_check(scan->doc_hash, key_len, scan->why, scan->why_len);
    if (rc != 0) {
        return rc;
    }
    if (scan->page->count == scan->limit) {
        scan->page->more = true;
        return 1;
    }
    rc = change_decode(scan->doc_hash, key, value, value_len, &scan->out[scan->page->count],
                       scan->why, scan->why_len);
    if (rc != 0) {
        return rc;
    }
    scan->page->count++;
    return 0;
}

int gov_query_doc_history(const gov_ledger *ledger, const gov_hash *doc_hash,
                          const gov_ledger_position *after, uint32_t limit,
                          gov_query_doc_change *out, gov_query_page *page, char *why,
                          size_t why_len)
{
    *page = (gov_query_page){0};
    int rc = check_limit(limit, why, why_len);
    if (rc != 0) {
        return rc;
    }
    gov_store_key prefix;
    gov_store_key_begin(&prefix, 'Y');
    gov_store_key_add(&prefix, doc_hash->bytes, GOV_HASH_LEN);
    gov_store_key start = prefix;
    if (after != NULL) {
        gov_store_key_add_be(&start, after->height, HEIGHT_BYTES);
        gov_store_key_add_be(&start, after->index, INDEX_BYTES);
        gov_store_key_add_successor(&start);
    }
    history_scan scan = {doc_hash, limit, out, page, why, why_len};
    rc = gov_kv_scan(gov_ledger_store(ledger), prefix.bytes, prefix.len, start.bytes, start.len,
                     history_visit, &scan, why, why_len);
    if (rc != 0) {
        /* Outputs are left cleared on failure (govchain/query.h). */
        for (uint32_t i = 0; i < page->count; i++) {
            gov_query_doc_change_clear(&out[i]);
        }
        *page = (gov_query_page){0};
    }
    return rc;
}

/* Status as of a height ------------------------------------------------------------------- */

typedef struct {
    const gov_hash *doc_hash;
    uint64_t height; /* the height asked about */
    gov_buf key;     /* the last entry at or below it so far, raw */
    gov_buf value;
    char *why;
    size_t why_len;
} as_of_scan;

static int as_of_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
                       size_t value_len)
{
    as_of_scan *scan = arg;
    int rc = history_key_check(scan->doc_hash, key_len, scan->why, scan->why_len);
    if (rc != 0) {
        return rc;
    }
    if (read_be(key + 1 + GOV_HASH_LEN, HEIGHT_BYTES) > scan->height) {
        return 1;
    }
    gov_buf_reset(&scan->key);
    gov_buf_append(&scan->key, key, key_len);
    gov_buf_reset(&scan->value);
    gov_buf_append(&scan->value, value, value_len);
    if (!gov_buf_ok(&scan->key) || !gov_buf_ok(&scan->value)) {
        return gov_fail(scan->why, scan->why_len, GOV_ENOMEM, "out of memory reading a history");
    }
    return 0;
}

int gov_query_doc_at(const gov_ledger *ledger, const gov_hash *doc_hash, uint64_t height,
                     gov_query_doc_change *change, bool *found, char *why, size_t why_len)
{
    memset(change, 0, sizeof(*change));
    *found = false;
    uint64_t head = gov_ledger_head_get(ledger)->height;
    if (height > head) {
        return gov_fail(why, why_len, GOV_ENOENT, "height %" PRIu64 " is above the head %" PRIu64,
                        height, head);
    }
    gov_store_key prefix;
    gov_store_key_begin(&prefix, 'Y');
    gov_store_key_add(&prefix, doc_hash->bytes, GOV_HASH_LEN);
    as_of_scan scan = {.doc_hash = doc_hash, .height = height, .why = why, .why_len = why_len};
    gov_buf_init(&scan.key);
    gov_buf_init(&scan.value);
    int rc = gov_kv_scan(gov_ledger_store(ledger), prefix.bytes, prefix.len, NULL, 0, as_of_visit,
                         &scan, why, why_len);
    if (rc == 0 && scan.key.len > 0) {
        rc = change_decode(doc_hash, scan.key.data, scan.value.data, scan.value.len, change, why,
                           why_len);
        *found = rc == 0;
    }
    gov_buf_free(&scan.value);
    gov_buf_free(&scan.key);
    return rc;
}

/* Transactions ---------------------------------------------------------------------------- */

/* The 'T' value [height, index]. Anything but running out of memory is corruption. */
static int tx_place_decode(const uint8_t *value, size_t value_len, const gov_hash *tx_id,
                           gov_ledger_position *at, char *why, size_t why_len)
{
    char reason[128] = "";
    gov_dec dec;
    gov_dec_begin(&dec, value, value_len, TX_PLACE_BYTES_MAX, TX_PLACE_VALUES_MAX, reason,
                  sizeof(reason));
    if (gov_dec_array(&dec, "tx_place", 2)) {
        gov_dec_uint(&dec, "height", UINT64_MAX, &at->height);
        gov_dec_u32(&dec, "index", GOV_BLOCK_TXS_MAX - 1, &at->index);
        gov_dec_leave(&dec);
    }
    int rc = gov_dec_finish(&dec);
    if (rc == GOV_ENOMEM) {
        return gov_fail(why, why_len, rc, "out of memory reading a transaction's place");
    }
    if (rc != 0) {
        char name[HEX_BYTES];
        return gov_fail(why, why_len, GOV_EIO, "stored place of transaction %s is corrupted: %s",
                        hex(tx_id, name), reason);
    }
    at->tx_id = *tx_id;
    return 0;
}

/* Reads the 'T' entry of tx_id into *at: GOV_ENOENT when there is none. */
static int tx_place_get(const gov_ledger *ledger, const gov_hash *tx_id, gov_ledger_position *at,
                        char *why, size_t why_len)
{
    gov_store_key key;
    gov_store_key_begin(&key, 'T');
    gov_store_key_add(&key, tx_id->bytes, GOV_HASH_LEN);
    uint8_t *value = NULL;
    size_t value_len = 0;
    int rc =
        gov_kv_get(gov_ledger_store(ledger), key.bytes, key.len, &value, &value_len, why, why_len);
    char name[HEX_BYTES];
    if (rc == GOV_ENOENT) {
        return gov_fail(why, why_len, rc, "no applied transaction has id %s", hex(tx_id, name));
    }
    if (rc != 0) {
        return rc;
    }
    rc = tx_place_decode(value, value_len, tx_id, at, why, why_len);
    free(value);
    return rc;
}

/* Checks invariant 3 for the block read at at->height and copies the transaction out. */
static int tx_from_block(const gov_ledger *ledger, const gov_block *block,
                         const gov_ledger_position *at, gov_tx *tx, char *why, size_t why_len)
{
    char name[HEX_BYTES];
    if (at->index >= block->txs_count) {
        return gov_fail(why, why_len, GOV_EIO,
                        "transaction %s: block %" PRIu64 " has no transaction %" PRIu32,
                        hex(&at->tx_id, name), at->height, at->index);
    }
    gov_hash found_id;
    int rc = gov_tx_id(gov_ledger_genesis(ledger)->suite, &block->txs[at->index], &found_id);
    if (rc != 0) {
        return gov_fail(why, why_len, rc, "cannot hash a stored transaction");
    }
    if (!gov_hash_equal(&found_id, &at->tx_id)) {
        return gov_fail(why, why_len, GOV_EIO,
                        "transaction %s: block %" PRIu64 " holds another transaction at %" PRIu32,
                        hex(&at->tx_id, name), at->height, at->index);
    }
    rc = gov_tx_copy(&block->txs[at->index], tx);
    return rc == 0 ? 0 : gov_fail(why, why_len, rc, "out of memory copying a transaction");
}

int gov_query_tx(gov_ledger *ledger, const gov_hash *tx_id, gov_tx *tx, gov_ledger_position *at,
                 gov_block_header *header, char *why, size_t why_len)
{
    memset(tx, 0, sizeof(*tx));
    memset(at, 0, sizeof(*at));
    if (header != NULL) {
        memset(header, 0, sizeof(*header));
    }
    gov_ledger_position place;
    int rc = tx_place_get(ledger, tx_id, &place, why, why_len);
    if (rc != 0) {
        return rc;
    }
    /* The certificate is only read because gov_ledger_block_get hands it out too. */
    gov_commit_cert *cert = malloc(sizeof(*cert));
    if (cert == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "out of memory reading a block");
    }
    gov_block block;
    memset(&block, 0, sizeof(block));
    rc = gov_ledger_block_get(ledger, place.height, &block, cert, why, why_len);
    if (rc == GOV_ENOENT) {
        char name[HEX_BYTES];
        rc = gov_fail(why, why_len, GOV_EIO,
                      "transaction %s is recorded in block %" PRIu64 ", which is not committed",
                      hex(tx_id, name), place.height);
    }
    if (rc == 0) {
        rc = tx_from_block(ledger, &block, &place, tx, why, why_len);
    }
    if (rc == 0) {
        *at = place;
        if (header != NULL) {
            *header = block.header;
        }
    }
    gov_block_clear(&block);
    free(cert);
    return rc;
}

/* Documents by subject ---------------------------------------------------------------------- */

typedef struct {
    uint32_t limit;
    gov_hash *out;
    gov_query_page *page;
    char *why;
    size_t why_len;
} subject_scan;

static int subject_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
                         size_t value_len)
{
    (void)value;
    subject_scan *scan = arg;
    if (key_len != SUBJECT_KEY_LEN || value_len != 0) {
        return gov_fail(scan->why, scan->why_len, GOV_EIO,
                        "subject index entry of %zu + %zu bytes is corrupted", key_len, value_len);
    }
    if (scan->page->count == scan->limit) {
        scan->page->more = true;
        return 1;
    }
    memcpy(scan->out[scan->page->count].bytes, key + 1 + GOV_HASH_LEN, GOV_HASH_LEN);
    scan->page->count++;
    return 0;
}

int gov_query_docs_by_subject(const gov_ledger *ledger, const gov_hash *subject_ref,
                              const gov_hash *after, uint32_t limit, gov_hash *out,
                              gov_query_page *page, char *why, size_t why_len)
{
    *page = (gov_query_page){0};
    int rc = check_limit(limit, why, why_len);
    if (rc != 0) {
        return rc;
    }
    gov_store_key prefix;
    gov_store_key_begin(&prefix, 'S');
    gov_store_key_add(&prefix, subject_ref->bytes, GOV_HASH_LEN);
    gov_store_key start = prefix;
    if (after != NULL) {
        gov_store_key_add(&start, after->bytes, GOV_HASH_LEN);
        gov_store_key_add_successor(&start);
    }
    subject_scan scan = {limit, out, page, why, why_len};
    rc = gov_kv_scan(gov_ledger_store(ledger), prefix.bytes, prefix.len, start.bytes, start.len,
                     subject_visit, &scan, why, why_len);
    if (rc != 0) {
        *page = (gov_query_page){0};
    }
    return rc;
}

/* Transactions by department ---------------------------------------------------------------- */

typedef struct {
    uint64_t to_height;
    uint32_t limit;
    gov_ledger_position *out;
    gov_query_page *page;
    char *why;
    size_t why_len;
} department_scan;

static int department_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
                            size_t value_len)
{
    department_scan *scan = arg;
    if (key_len != DEPARTMENT_KEY_LEN || value_len != GOV_HASH_LEN) {
        return gov_fail(scan->why, scan->why_len, GOV_EIO,
                        "department index entry of %zu + %zu bytes is corrupted", key_len,
                        value_len);
    }
    const uint8_t *position = key + 1 + DEPARTMENT_BYTES;
    uint64_t height = read_be(position, HEIGHT_BYTES);
    if (height > scan->to_height) {
        return 1;
    }
    if (scan->page->count == scan->limit) {
        scan->page->more = true;
        return 1;
    }
    gov_ledger_position *at = &scan->out[scan->page->count];
    at->height = height;
    at->index = (uint32_t)read_be(position + HEIGHT_BYTES, INDEX_BYTES);
    memcpy(at->tx_id.bytes, value, GOV_HASH_LEN);
    scan->page->count++;
    return 0;
}

/* Where a page of department txs starts: the range's start, or just after `after` when
 * that lies inside the range. */
static void department_start(gov_store_key *start, uint64_t from_height,
                             const gov_ledger_position *after)
{
    if (after != NULL && after->height >= from_height) {
        gov_store_key_add_be(start, after->height, HEIGHT_BYTES);
        gov_store_key_add_be(start, after->index, INDEX_BYTES);
        gov_store_key_add_successor(start);
    } else {
        gov_store_key_add_be(start, from_height, HEIGHT_BYTES);
        gov_store_key_add_be(start, 0, INDEX_BYTES);
    }
}

int gov_query_department_txs(const gov_ledger *ledger, const char *department, uint64_t from_height,
                             uint64_t to_height, const gov_ledger_position *after, uint32_t limit,
                             gov_ledger_position *out, gov_query_page *page, char *why,
                             size_t why_len)
{
    *page = (gov_query_page){0};
    int rc = check_limit(limit, why, why_len);
    if (rc != 0) {
        return rc;
    }
    if (from_height > to_height) {
        return gov_fail(why, why_len, GOV_EINVAL,
                        "height range %" PRIu64 " .. %" PRIu64 " is empty", from_height, to_height);
    }
    int index = gov_genesis_department_index(gov_ledger_genesis(ledger), department);
    if (index < 0) {
        return gov_fail(why, why_len, GOV_ENOENT, "no department \"%s\" in genesis", department);
    }
    gov_store_key prefix;
    gov_store_key_begin(&prefix, 'I');
    gov_store_key_add_be(&prefix, (uint64_t)index, DEPARTMENT_BYTES);
    gov_store_key start = prefix;
    department_start(&start, from_height, after);
    department_scan scan = {to_height, limit, out, page, why, why_len};
    rc = gov_kv_scan(gov_ledger_store(ledger), prefix.bytes, prefix.len, start.bytes, start.len,
                     department_visit, &scan, why, why_len);
    if (rc != 0) {
        *page = (gov_query_page){0};
    }
    return rc;
}
