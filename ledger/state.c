/*
 * Ledger state: document states, their canonical encoding, and the store entries that
 * record them (layout in include/govchain/state.h and docs/formats.md).
 *
 * Design note. A document's state is small and changes rarely (issue, a few
 * endorsements, perhaps a revocation), so each change rewrites the whole state: the
 * 'D' entry, the tree leaf (hash of the encoding) and a history entry holding the state
 * as it was after the change. Reading "the status as of height h" is then one reverse
 * lookup in the history, with no replay.
 */
#include "govchain/state.h"

#include <stdlib.h>
#include <string.h>

#include "govchain/assert.h"
#include "govchain/canon.h"
#include "govchain/error.h"
#include "ledger/store_key.h"
#include "govchain/limits.h"

enum {
    STATE_FIELDS = 14,
    POSITION_FIELDS = 3,
    CHANGE_FIELDS = 3,
    ENDORSEMENT_FIELDS = 2,
    /* Enough for every department's endorsement with room to spare. */
    STATE_BYTES_MAX = 1024 + GOV_DEPARTMENTS_MAX * 96,
    STATE_VALUES_MAX = 64 + GOV_DEPARTMENTS_MAX * 6,
};

const char *gov_doc_status_name(gov_doc_status status)
{
    switch (status) {
    case GOV_DOC_VALID:
        return "valid";
    case GOV_DOC_REVOKED:
        return "revoked";
    case GOV_DOC_SUPERSEDED:
        return "superseded";
    }
    return NULL;
}

void gov_doc_state_clear(gov_doc_state *state)
{
    free(state->endorsements);
    memset(state, 0, sizeof(*state));
}

int gov_doc_state_copy(const gov_doc_state *from, gov_doc_state *to)
{
    *to = *from;
    to->endorsements = NULL;
    if (from->endorsements_count == 0) {
        return 0;
    }
    to->endorsements = calloc(from->endorsements_count, sizeof(*to->endorsements));
    if (to->endorsements == NULL) {
        to->endorsements_count = 0;
        return GOV_ENOMEM;
    }
    memcpy(to->endorsements, from->endorsements,
           from->endorsements_count * sizeof(*to->endorsements));
    return 0;
}

/* Encoding ------------------------------------------------------------------------------ */

static void encode_hash(gov_buf *out, const gov_hash *hash)
{
    gov_enc_bin(out, hash->bytes, GOV_HASH_LEN);
}

static void encode_position(gov_buf *out, const gov_ledger_position *at)
{
    gov_enc_array(out, POSITION_FIELDS);
    gov_enc_uint(out, at->height);
    gov_enc_uint(out, at->index);
    encode_hash(out, &at->tx_id);
}

int gov_doc_state_encode(const gov_doc_state *state, gov_buf *out)
{
    gov_enc_array(out, STATE_FIELDS);
    gov_enc_uint(out, GOV_DOC_STATE_VERSION);
    encode_hash(out, &state->doc_hash);
    gov_enc_cstr(out, state->issuer);
    gov_enc_uint(out, state->doc_class);
    gov_enc_cstr(out, state->doc_type);
    encode_hash(out, &state->subject_ref);
    gov_enc_uint(out, state->valid_from_ms);
    gov_enc_uint(out, state->valid_until_ms);
    if (state->has_supersedes) {
        encode_hash(out, &state->supersedes);
    } else {
        gov_enc_nil(out);
    }
    encode_position(out, &state->issued);
    gov_enc_uint(out, state->status);
    if (state->has_change) {
        gov_enc_array(out, CHANGE_FIELDS);
        encode_position(out, &state->change);
        gov_enc_cstr(out, state->changed_by);
        gov_enc_cstr(out, state->reason);
    } else {
        gov_enc_nil(out);
    }
    if (state->has_superseded_by) {
        encode_hash(out, &state->superseded_by);
    } else {
        gov_enc_nil(out);
    }
    gov_enc_array(out, state->endorsements_count);
    for (uint32_t i = 0; i < state->endorsements_count; i++) {
        gov_enc_array(out, ENDORSEMENT_FIELDS);
        gov_enc_cstr(out, state->endorsements[i].department);
        encode_position(out, &state->endorsements[i].at);
    }
    return gov_buf_ok(out) ? 0 : GOV_ENOMEM;
}

/* Decoding ------------------------------------------------------------------------------ */

static bool decode_position(gov_dec *dec, const char *field, gov_ledger_position *at)
{
    return gov_dec_array(dec, field, POSITION_FIELDS) &&
           gov_dec_uint(dec, "height", UINT64_MAX, &at->height) &&
           gov_dec_u32(dec, "index", GOV_BLOCK_TXS_MAX - 1, &at->index) &&
           gov_record_dec_hash(dec, "tx_id", &at->tx_id) && gov_dec_leave(dec);
}

static bool decode_optional_hash(gov_dec *dec, const char *field, bool *present, gov_hash *out)
{
    *present = !gov_dec_nil(dec);
    return !*present || gov_record_dec_hash(dec, field, out);
}

static bool decode_enum(gov_dec *dec, const char *field, uint32_t min, uint32_t max, uint32_t *out)
{
    if (!gov_dec_u32(dec, field, UINT32_MAX, out)) {
        return false;
    }
    return (*out >= min && *out <= max) || gov_dec_reject(dec, GOV_EDECODE, field, "unknown value");
}

static bool decode_endorsements(gov_dec *dec, gov_doc_state *out)
{
    uint32_t count = 0;
    if (!gov_dec_array_max(dec, "endorsements", GOV_DEPARTMENTS_MAX, &count)) {
        return false;
    }
    if (count > 0) {
        out->endorsements = calloc(count, sizeof(*out->endorsements));
        if (out->endorsements == NULL) {
            return gov_dec_reject(dec, GOV_ENOMEM, NULL, "out of memory");
        }
    }
    out->endorsements_count = count;
    for (uint32_t i = 0; i < count; i++) {
        gov_endorsement *endorsement = &out->endorsements[i];
        if (!gov_dec_array(dec, "endorsement", ENDORSEMENT_FIELDS) ||
            !gov_record_dec_id(dec, "department", endorsement->department) ||
            !decode_position(dec, "at", &endorsement->at) || !gov_dec_leave(dec)) {
            return false;
        }
    }
    return gov_dec_leave(dec);
}

static bool decode_state(gov_dec *dec, gov_doc_state *out)
{
    uint64_t version = 0;
    uint32_t doc_class = 0;
    uint32_t status = 0;
    if (!gov_dec_array(dec, "doc_state", STATE_FIELDS) ||
        !gov_dec_uint(dec, "version", UINT64_MAX, &version)) {
        return false;
    }
    if (version != GOV_DOC_STATE_VERSION) {
        return gov_dec_reject(dec, GOV_EDECODE, "version", "unsupported state version");
    }
    if (!gov_record_dec_hash(dec, "doc_hash", &out->doc_hash) ||
        !gov_record_dec_id(dec, "issuer", out->issuer) ||
        !decode_enum(dec, "class", GOV_DOC_CLASS_CERTIFICATE, GOV_DOC_CLASS_APPROVAL, &doc_class) ||
        !gov_record_dec_id(dec, "doc_type", out->doc_type) ||
        !gov_record_dec_hash(dec, "subject_ref", &out->subject_ref) ||
        !gov_dec_uint(dec, "valid_from_ms", UINT64_MAX, &out->valid_from_ms) ||
        !gov_dec_uint(dec, "valid_until_ms", UINT64_MAX, &out->valid_until_ms) ||
        !decode_optional_hash(dec, "supersedes", &out->has_supersedes, &out->supersedes) ||
        !decode_position(dec, "issued", &out->issued) ||
        !decode_enum(dec, "status", GOV_DOC_VALID, GOV_DOC_SUPERSEDED, &status)) {
        return false;
    }
    out->doc_class = (gov_doc_class)doc_class;
    out->status = (gov_doc_status)status;
    out->has_change = !gov_dec_nil(dec);
    if (out->has_change &&
        (!gov_dec_array(dec, "change", CHANGE_FIELDS) ||
         !decode_position(dec, "at", &out->change) ||
         !gov_dec_str(dec, "changed_by", GOV_ID_LEN_MAX, out->changed_by) ||
         !gov_dec_str(dec, "reason", GOV_NOTE_LEN_MAX, out->reason) || !gov_dec_leave(dec))) {
        return false;
    }
    return decode_optional_hash(dec, "superseded_by", &out->has_superseded_by,
                                &out->superseded_by) &&
           decode_endorsements(dec, out) && gov_dec_leave(dec);
}

int gov_doc_state_decode(const uint8_t *data, size_t len, gov_doc_state *out, char *why,
                         size_t why_len)
{
    gov_dec dec;
    memset(out, 0, sizeof(*out));
    gov_dec_begin(&dec, data, len, STATE_BYTES_MAX, STATE_VALUES_MAX, why, why_len);
    decode_state(&dec, out);
    int rc = gov_dec_finish(&dec);
    if (rc != 0) {
        gov_doc_state_clear(out);
    }
    return rc;
}

int gov_doc_state_hash(gov_suite suite, const gov_doc_state *state, gov_hash *out)
{
    gov_buf buf;
    gov_buf_init(&buf);
    int rc = gov_doc_state_encode(state, &buf);
    if (rc == 0) {
        gov_hash_bytes(suite, buf.data, buf.len, out);
    }
    gov_buf_free(&buf);
    return rc;
}

/* Derived status -------------------------------------------------------------------------- */

bool gov_doc_expired(const gov_doc_state *state, uint64_t time_ms)
{
    return state->valid_until_ms != 0 && time_ms >= state->valid_until_ms;
}

bool gov_doc_not_yet_valid(const gov_doc_state *state, uint64_t time_ms)
{
    return time_ms < state->valid_from_ms;
}

uint32_t gov_doc_recognising_endorsements(const gov_genesis *genesis, const gov_doc_state *state)
{
    int type = gov_genesis_doc_type_index(genesis, state->doc_type);
    if (type < 0) {
        return 0;
    }
    const gov_genesis_doc_type *doc_type = &genesis->doc_types[type];
    uint32_t count = 0;
    for (uint32_t i = 0; i < state->endorsements_count; i++) {
        for (uint32_t r = 0; r < doc_type->recognisers_count; r++) {
            const char *recogniser = genesis->departments[doc_type->recognisers[r]].id;
            if (strcmp(recogniser, state->endorsements[i].department) == 0) {
                count++;
                break;
            }
        }
    }
    return count;
}

bool gov_doc_recognised(const gov_genesis *genesis, const gov_doc_state *state)
{
    int type = gov_genesis_doc_type_index(genesis, state->doc_type);
    return type >= 0 && gov_doc_recognising_endorsements(genesis, state) >=
                            genesis->doc_types[type].endorsements_required;
}

/* Store entries ----------------------------------------------------------------------------- */

void gov_state_init(gov_state *state, const gov_genesis *genesis, gov_kv *store,
                    const gov_hash *root)
{
    state->genesis = genesis;
    state->store = store;
    state->tree.suite = genesis->suite;
    state->tree.store = store;
    state->root = *root;
    state->pending = NULL;
    state->pending_count = 0;
    state->pending_capacity = 0;
}

void gov_state_clear(gov_state *state)
{
    free(state->pending);
    state->pending = NULL;
    state->pending_count = 0;
    state->pending_capacity = 0;
}

int gov_state_flush(gov_state *state, char *why, size_t why_len)
{
    int rc = gov_smt_update_many(&state->tree, &state->root, state->pending, state->pending_count,
                                 &state->root, why, why_len);
    if (rc == 0) {
        state->pending_count = 0;
    }
    return rc;
}

static int add_pending(gov_state *state, const gov_hash *doc_hash, const gov_hash *value_hash)
{
    if (state->pending_count == state->pending_capacity) {
        size_t capacity = state->pending_capacity == 0 ? 64 : 2 * state->pending_capacity;
        gov_smt_entry *grown = realloc(state->pending, capacity * sizeof(*grown));
        if (grown == NULL) {
            return GOV_ENOMEM;
        }
        state->pending = grown;
        state->pending_capacity = capacity;
    }
    state->pending[state->pending_count++] =
        (gov_smt_entry){.key = *doc_hash, .value_hash = *value_hash};
    return 0;
}

int gov_state_doc_get(gov_state *state, const gov_hash *doc_hash, gov_doc_state *out, bool *found,
                      char *why, size_t why_len)
{
    gov_store_key key;
    gov_store_key_begin(&key, 'D');
    gov_store_key_add(&key, doc_hash->bytes, GOV_HASH_LEN);
    uint8_t *value = NULL;
    size_t value_len = 0;
    memset(out, 0, sizeof(*out));
    *found = false;
    int rc = gov_kv_get(state->store, key.bytes, key.len, &value, &value_len, why, why_len);
    if (rc == GOV_ENOENT) {
        return 0;
    }
    if (rc != 0) {
        return rc;
    }
    rc = gov_doc_state_decode(value, value_len, out, why, why_len);
    free(value);
    if (rc != 0) {
        return gov_fail(why, why_len, GOV_EIO, "stored state of a document is corrupted");
    }
    *found = true;
    return 0;
}

int gov_state_doc_put(gov_state *state, const gov_doc_state *doc, const gov_ledger_position *at,
                      char *why, size_t why_len)
{
    gov_buf encoded;
    gov_buf_init(&encoded);
    int rc = gov_doc_state_encode(doc, &encoded);
    if (rc != 0) {
        goto out;
    }
    gov_hash value_hash;
    gov_hash_bytes(state->genesis->suite, encoded.data, encoded.len, &value_hash);
    rc = add_pending(state, &doc->doc_hash, &value_hash);
    if (rc != 0) {
        goto out;
    }
    gov_store_key current;
    gov_store_key_begin(&current, 'D');
    gov_store_key_add(&current, doc->doc_hash.bytes, GOV_HASH_LEN);
    gov_store_key history;
    gov_store_key_begin(&history, 'Y');
    gov_store_key_add(&history, doc->doc_hash.bytes, GOV_HASH_LEN);
    gov_store_key_add_be(&history, at->height, GOV_KEY_HEIGHT_BYTES);
    gov_store_key_add_be(&history, at->index, GOV_KEY_INDEX_BYTES);
    gov_kv_batch batch;
    gov_kv_batch_init(&batch);
    rc = gov_kv_batch_put(&batch, current.bytes, current.len, encoded.data, encoded.len);
    if (rc == 0) {
        rc = gov_kv_batch_put(&batch, history.bytes, history.len, encoded.data, encoded.len);
    }
    if (rc == 0) {
        rc = gov_kv_write(state->store, &batch, why, why_len);
    }
    gov_kv_batch_clear(&batch);
out:
    gov_buf_free(&encoded);
    return rc;
}

int gov_state_tx_seen(gov_state *state, const gov_hash *tx_id, bool *seen, char *why,
                      size_t why_len)
{
    gov_store_key key;
    gov_store_key_begin(&key, 'T');
    gov_store_key_add(&key, tx_id->bytes, GOV_HASH_LEN);
    /* Only whether it is there: nothing is copied. */
    size_t value_len = 0;
    int rc = gov_kv_get_into(state->store, key.bytes, key.len, NULL, 0, &value_len, why, why_len);
    *seen = rc == 0;
    return rc == GOV_ENOENT ? 0 : rc;
}

int gov_state_tx_put(gov_state *state, const gov_tx *tx, const gov_ledger_position *at, char *why,
                     size_t why_len)
{
    int department = gov_genesis_department_index(state->genesis, tx->department);
    GOV_ASSERT(department >= 0);
    gov_store_key by_id;
    gov_store_key_begin(&by_id, 'T');
    gov_store_key_add(&by_id, at->tx_id.bytes, GOV_HASH_LEN);
    gov_store_key by_department;
    gov_store_key_begin(&by_department, 'I');
    gov_store_key_add_be(&by_department, (uint64_t)department, GOV_KEY_DEPARTMENT_BYTES);
    gov_store_key_add_be(&by_department, at->height, GOV_KEY_HEIGHT_BYTES);
    gov_store_key_add_be(&by_department, at->index, GOV_KEY_INDEX_BYTES);
    gov_buf where;
    gov_buf_init(&where);
    gov_enc_array(&where, 2);
    gov_enc_uint(&where, at->height);
    gov_enc_uint(&where, at->index);
    gov_kv_batch batch;
    gov_kv_batch_init(&batch);
    int rc = gov_buf_ok(&where) ? 0 : GOV_ENOMEM;
    if (rc == 0) {
        rc = gov_kv_batch_put(&batch, by_id.bytes, by_id.len, where.data, where.len);
    }
    if (rc == 0) {
        rc = gov_kv_batch_put(&batch, by_department.bytes, by_department.len, at->tx_id.bytes,
                              GOV_HASH_LEN);
    }
    if (rc == 0) {
        rc = gov_kv_write(state->store, &batch, why, why_len);
    }
    gov_kv_batch_clear(&batch);
    gov_buf_free(&where);
    return rc;
}

int gov_state_subject_put(gov_state *state, const gov_hash *subject_ref, const gov_hash *doc_hash,
                          char *why, size_t why_len)
{
    gov_store_key key;
    gov_store_key_begin(&key, 'S');
    gov_store_key_add(&key, subject_ref->bytes, GOV_HASH_LEN);
    gov_store_key_add(&key, doc_hash->bytes, GOV_HASH_LEN);
    return gov_kv_put(state->store, key.bytes, key.len, "", 0, why, why_len);
}
