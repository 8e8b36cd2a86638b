/*
 * Canonical encoding of transactions, block headers and blocks (shapes in
 * include/govchain/block.h, field tables in docs/formats.md).
 *
 * Each structure has one encoder and one decoder written side by side, field for field,
 * so that a reader can check that they mirror each other: the property test in
 * tests/unit/test_codec.c checks it mechanically (random values round-trip, and every
 * one-byte change of a valid encoding either fails to decode or re-encodes to itself).
 */
#include "govchain/block.h"

#include <stdlib.h>
#include <string.h>

#include "govchain/error.h"

enum {
    TX_FIELDS = 2,
    BODY_FIELDS = 8,
    ISSUE_FIELDS = 8,
    REMARK_FIELDS = 2,
    HEADER_FIELDS = 11,
    BLOCK_FIELDS = 2,
};

const char *gov_tx_kind_name(gov_tx_kind kind)
{
    switch (kind) {
    case GOV_TX_ISSUE:
        return "issue";
    case GOV_TX_ENDORSE:
        return "endorse";
    case GOV_TX_REVOKE:
        return "revoke";
    }
    return NULL;
}

int gov_tx_kind_parse(const char *name, gov_tx_kind *out)
{
    for (int kind = GOV_TX_ISSUE; kind <= GOV_TX_REVOKE; kind++) {
        if (strcmp(name, gov_tx_kind_name((gov_tx_kind)kind)) == 0) {
            *out = (gov_tx_kind)kind;
            return 0;
        }
    }
    return GOV_EINVAL;
}

void gov_tx_clear(gov_tx *tx)
{
    if (tx->kind == GOV_TX_ISSUE) {
        free(tx->payload.issue.metadata);
    }
    memset(tx, 0, sizeof(*tx));
}

int gov_tx_copy(const gov_tx *from, gov_tx *to)
{
    *to = *from;
    /* Only an ISSUE owns memory (the payload is a union: touch nothing else). */
    if (from->kind != GOV_TX_ISSUE) {
        return 0;
    }
    to->payload.issue.metadata = NULL;
    size_t size = from->payload.issue.metadata_count * sizeof(gov_metadata_entry);
    if (size == 0) {
        return 0;
    }
    to->payload.issue.metadata = malloc(size);
    if (to->payload.issue.metadata == NULL) {
        memset(to, 0, sizeof(*to));
        return GOV_ENOMEM;
    }
    memcpy(to->payload.issue.metadata, from->payload.issue.metadata, size);
    return 0;
}

void gov_block_clear(gov_block *block)
{
    for (uint32_t i = 0; i < block->txs_count; i++) {
        gov_tx_clear(&block->txs[i]);
    }
    free(block->txs);
    memset(block, 0, sizeof(*block));
}

/* Encoders --------------------------------------------------------------------------- */

static void encode_issue(const gov_issue *issue, gov_buf *out)
{
    gov_enc_array(out, ISSUE_FIELDS);
    gov_enc_bin(out, issue->doc_hash.bytes, GOV_HASH_LEN);
    gov_enc_uint(out, issue->doc_class);
    gov_enc_cstr(out, issue->doc_type);
    gov_enc_bin(out, issue->subject_ref.bytes, GOV_HASH_LEN);
    gov_enc_uint(out, issue->valid_from_ms);
    gov_enc_uint(out, issue->valid_until_ms);
    if (issue->has_supersedes) {
        gov_enc_bin(out, issue->supersedes.bytes, GOV_HASH_LEN);
    } else {
        gov_enc_nil(out);
    }
    gov_enc_array(out, issue->metadata_count);
    for (uint32_t i = 0; i < issue->metadata_count; i++) {
        gov_enc_array(out, 2);
        gov_enc_cstr(out, issue->metadata[i].key);
        gov_enc_cstr(out, issue->metadata[i].value);
    }
}

static void encode_remark(const gov_doc_remark *remark, gov_buf *out)
{
    gov_enc_array(out, REMARK_FIELDS);
    gov_enc_bin(out, remark->doc_hash.bytes, GOV_HASH_LEN);
    gov_enc_cstr(out, remark->text);
}

static void encode_body(const gov_tx *tx, gov_buf *out)
{
    gov_enc_array(out, BODY_FIELDS);
    gov_enc_uint(out, tx->version);
    gov_enc_uint(out, tx->kind);
    gov_enc_bin(out, tx->chain_id.bytes, GOV_HASH_LEN);
    gov_enc_cstr(out, tx->department);
    gov_enc_uint(out, tx->key_index);
    gov_enc_uint(out, tx->nonce);
    gov_enc_uint(out, tx->created_ms);
    switch (tx->kind) {
    case GOV_TX_ISSUE:
        encode_issue(&tx->payload.issue, out);
        break;
    case GOV_TX_ENDORSE:
        encode_remark(&tx->payload.endorse, out);
        break;
    case GOV_TX_REVOKE:
        encode_remark(&tx->payload.revoke, out);
        break;
    }
}

void gov_tx_encode_into(const gov_tx *tx, gov_buf *out)
{
    gov_enc_array(out, TX_FIELDS);
    encode_body(tx, out);
    gov_enc_bin(out, tx->signature, GOV_SIGNATURE_LEN);
}

int gov_tx_encode_body(const gov_tx *tx, gov_buf *out)
{
    encode_body(tx, out);
    return gov_buf_ok(out) ? 0 : GOV_ENOMEM;
}

int gov_tx_encode(const gov_tx *tx, gov_buf *out)
{
    gov_tx_encode_into(tx, out);
    return gov_buf_ok(out) ? 0 : GOV_ENOMEM;
}

void gov_block_header_encode_into(const gov_block_header *header, gov_buf *out)
{
    gov_enc_array(out, HEADER_FIELDS);
    gov_enc_uint(out, header->version);
    gov_enc_bin(out, header->chain_id.bytes, GOV_HASH_LEN);
    gov_enc_uint(out, header->height);
    gov_enc_bin(out, header->prev_hash.bytes, GOV_HASH_LEN);
    gov_enc_uint(out, header->time_ms);
    gov_enc_uint(out, header->proposer);
    gov_enc_uint(out, header->tx_count);
    gov_enc_bin(out, header->tx_root.bytes, GOV_HASH_LEN);
    gov_enc_bin(out, header->state_root.bytes, GOV_HASH_LEN);
    gov_enc_bin(out, header->history_root.bytes, GOV_HASH_LEN);
    gov_enc_bin(out, header->validators_hash.bytes, GOV_HASH_LEN);
}

int gov_block_header_encode(const gov_block_header *header, gov_buf *out)
{
    gov_block_header_encode_into(header, out);
    return gov_buf_ok(out) ? 0 : GOV_ENOMEM;
}

int gov_block_encode(const gov_block *block, gov_buf *out)
{
    gov_block_encode_into(block, out);
    return gov_buf_ok(out) ? 0 : GOV_ENOMEM;
}

void gov_block_encode_into(const gov_block *block, gov_buf *out)
{
    gov_enc_array(out, BLOCK_FIELDS);
    gov_block_header_encode_into(&block->header, out);
    gov_enc_array(out, block->txs_count);
    for (uint32_t i = 0; i < block->txs_count; i++) {
        gov_tx_encode_into(&block->txs[i], out);
    }
}

/* Decoders --------------------------------------------------------------------------- */

bool gov_record_dec_hash(gov_dec *dec, const char *field, gov_hash *out)
{
    return gov_dec_bin_fixed(dec, field, out->bytes, GOV_HASH_LEN);
}

bool gov_record_dec_id(gov_dec *dec, const char *field, char out[GOV_ID_LEN_MAX + 1])
{
    if (!gov_dec_str(dec, field, GOV_ID_LEN_MAX, out)) {
        return false;
    }
    if (!gov_id_valid(out, strlen(out))) {
        return gov_dec_reject(dec, GOV_EDECODE, field,
                              "not an identifier (1-32 of a-z 0-9 . _ -, starting with a "
                              "letter or digit)");
    }
    return true;
}

static bool decode_metadata(gov_dec *dec, gov_issue *issue)
{
    uint32_t count = 0;
    if (!gov_dec_array_max(dec, "metadata", GOV_METADATA_ENTRIES_MAX, &count)) {
        return false;
    }
    if (count > 0) {
        issue->metadata = calloc(count, sizeof(*issue->metadata));
        if (issue->metadata == NULL) {
            return gov_dec_reject(dec, GOV_ENOMEM, "metadata", "out of memory");
        }
    }
    for (uint32_t i = 0; i < count; i++) {
        gov_metadata_entry *entry = &issue->metadata[i];
        if (!gov_dec_array(dec, "entry", 2) ||
            !gov_dec_str(dec, "key", GOV_METADATA_KEY_LEN_MAX, entry->key) ||
            !gov_dec_str(dec, "value", GOV_METADATA_VALUE_LEN_MAX, entry->value) ||
            !gov_dec_leave(dec)) {
            return false;
        }
        issue->metadata_count = i + 1;
        if (entry->key[0] == '\0') {
            return gov_dec_reject(dec, GOV_EDECODE, "key", "empty metadata key");
        }
        if (i > 0 && strcmp(issue->metadata[i - 1].key, entry->key) >= 0) {
            return gov_dec_reject(dec, GOV_EDECODE, "key",
                                  "metadata keys must be unique and in ascending order");
        }
    }
    return gov_dec_leave(dec);
}

static bool decode_issue(gov_dec *dec, gov_issue *issue)
{
    uint64_t doc_class = 0;
    if (!gov_dec_array(dec, "issue", ISSUE_FIELDS) ||
        !gov_record_dec_hash(dec, "doc_hash", &issue->doc_hash) ||
        !gov_dec_uint(dec, "class", UINT64_MAX, &doc_class)) {
        return false;
    }
    if (doc_class < GOV_DOC_CLASS_CERTIFICATE || doc_class > GOV_DOC_CLASS_APPROVAL) {
        return gov_dec_reject(dec, GOV_EDECODE, "class", "unknown document class");
    }
    issue->doc_class = (gov_doc_class)doc_class;
    if (!gov_record_dec_id(dec, "doc_type", issue->doc_type) ||
        !gov_record_dec_hash(dec, "subject_ref", &issue->subject_ref) ||
        !gov_dec_uint(dec, "valid_from_ms", UINT64_MAX, &issue->valid_from_ms) ||
        !gov_dec_uint(dec, "valid_until_ms", UINT64_MAX, &issue->valid_until_ms)) {
        return false;
    }
    issue->has_supersedes = !gov_dec_nil(dec);
    if (issue->has_supersedes && !gov_record_dec_hash(dec, "supersedes", &issue->supersedes)) {
        return false;
    }
    return decode_metadata(dec, issue) && gov_dec_leave(dec);
}

static bool decode_remark(gov_dec *dec, const char *field, const char *text_field,
                          gov_doc_remark *remark)
{
    return gov_dec_array(dec, field, REMARK_FIELDS) &&
           gov_record_dec_hash(dec, "doc_hash", &remark->doc_hash) &&
           gov_dec_str(dec, text_field, GOV_NOTE_LEN_MAX, remark->text) && gov_dec_leave(dec);
}

static bool decode_body(gov_dec *dec, gov_tx *tx)
{
    uint64_t version = 0;
    uint64_t kind = 0;
    if (!gov_dec_array(dec, "body", BODY_FIELDS) ||
        !gov_dec_uint(dec, "version", UINT32_MAX, &version)) {
        return false;
    }
    if (version != GOV_TX_VERSION) {
        return gov_dec_reject(dec, GOV_EDECODE, "version", "unsupported transaction version");
    }
    tx->version = GOV_TX_VERSION;
    if (!gov_dec_uint(dec, "kind", UINT64_MAX, &kind)) {
        return false;
    }
    if (kind < GOV_TX_ISSUE || kind > GOV_TX_REVOKE) {
        return gov_dec_reject(dec, GOV_EDECODE, "kind", "unknown transaction kind");
    }
    tx->kind = (gov_tx_kind)kind;
    if (!gov_record_dec_hash(dec, "chain_id", &tx->chain_id) ||
        !gov_record_dec_id(dec, "department", tx->department) ||
        !gov_dec_u32(dec, "key_index", GOV_DEPARTMENT_KEYS_MAX - 1, &tx->key_index) ||
        !gov_dec_uint(dec, "nonce", UINT64_MAX, &tx->nonce) ||
        !gov_dec_uint(dec, "created_ms", UINT64_MAX, &tx->created_ms)) {
        return false;
    }
    bool ok = false;
    switch (tx->kind) {
    case GOV_TX_ISSUE:
        ok = decode_issue(dec, &tx->payload.issue);
        break;
    case GOV_TX_ENDORSE:
        ok = decode_remark(dec, "endorse", "note", &tx->payload.endorse);
        break;
    case GOV_TX_REVOKE:
        ok = decode_remark(dec, "revoke", "reason", &tx->payload.revoke);
        break;
    }
    return ok && gov_dec_leave(dec);
}

bool gov_tx_decode_from(gov_dec *dec, const char *field, gov_tx *out)
{
    memset(out, 0, sizeof(*out));
    return gov_dec_array(dec, field, TX_FIELDS) && decode_body(dec, out) &&
           gov_dec_bin_fixed(dec, "signature", out->signature, GOV_SIGNATURE_LEN) &&
           gov_dec_leave(dec);
}

int gov_tx_decode(const uint8_t *data, size_t len, gov_tx *out, char *why, size_t why_len)
{
    gov_dec dec;
    gov_dec_begin(&dec, data, len, GOV_TX_BYTES_MAX, GOV_TX_VALUES_MAX, why, why_len);
    gov_tx_decode_from(&dec, "tx", out);
    int rc = gov_dec_finish(&dec);
    if (rc != 0) {
        gov_tx_clear(out);
    }
    return rc;
}

bool gov_block_header_decode_from(gov_dec *dec, const char *field, gov_block_header *out)
{
    uint64_t version = 0;
    memset(out, 0, sizeof(*out));
    if (!gov_dec_array(dec, field, HEADER_FIELDS) ||
        !gov_dec_uint(dec, "version", UINT32_MAX, &version)) {
        return false;
    }
    if (version != GOV_BLOCK_VERSION) {
        return gov_dec_reject(dec, GOV_EDECODE, "version", "unsupported block version");
    }
    out->version = GOV_BLOCK_VERSION;
    return gov_record_dec_hash(dec, "chain_id", &out->chain_id) &&
           gov_dec_uint(dec, "height", UINT64_MAX, &out->height) &&
           gov_record_dec_hash(dec, "prev_hash", &out->prev_hash) &&
           gov_dec_uint(dec, "time_ms", UINT64_MAX, &out->time_ms) &&
           gov_dec_u32(dec, "proposer", GOV_VALIDATORS_MAX - 1, &out->proposer) &&
           gov_dec_u32(dec, "tx_count", GOV_BLOCK_TXS_MAX, &out->tx_count) &&
           gov_record_dec_hash(dec, "tx_root", &out->tx_root) &&
           gov_record_dec_hash(dec, "state_root", &out->state_root) &&
           gov_record_dec_hash(dec, "history_root", &out->history_root) &&
           gov_record_dec_hash(dec, "validators_hash", &out->validators_hash) && gov_dec_leave(dec);
}

int gov_block_header_decode(const uint8_t *data, size_t len, gov_block_header *out, char *why,
                            size_t why_len)
{
    gov_dec dec;
    gov_dec_begin(&dec, data, len, GOV_HEADER_BYTES_MAX, GOV_HEADER_VALUES_MAX, why, why_len);
    gov_block_header_decode_from(&dec, "header", out);
    int rc = gov_dec_finish(&dec);
    if (rc != 0) {
        memset(out, 0, sizeof(*out));
    }
    return rc;
}

bool gov_block_decode_from(gov_dec *dec, const char *field, gov_block *out)
{
    uint32_t count = 0;
    if (!gov_dec_array(dec, field, BLOCK_FIELDS) ||
        !gov_block_header_decode_from(dec, "header", &out->header) ||
        !gov_dec_array_max(dec, "txs", GOV_BLOCK_TXS_MAX, &count)) {
        return false;
    }
    if (count != out->header.tx_count) {
        return gov_dec_reject(dec, GOV_EDECODE, NULL,
                              "the number of transactions differs from header.tx_count");
    }
    if (count > 0) {
        out->txs = calloc(count, sizeof(*out->txs));
        if (out->txs == NULL) {
            return gov_dec_reject(dec, GOV_ENOMEM, NULL, "out of memory");
        }
    }
    for (uint32_t i = 0; i < count; i++) {
        /* Count the transaction before decoding it, so that clearing frees whatever
         * a failed decode left behind. */
        out->txs_count = i + 1;
        if (!gov_tx_decode_from(dec, "tx", &out->txs[i])) {
            return false;
        }
    }
    return gov_dec_leave(dec) && gov_dec_leave(dec);
}

int gov_block_decode(const uint8_t *data, size_t len, gov_block *out, char *why, size_t why_len)
{
    gov_dec dec;
    memset(out, 0, sizeof(*out));
    gov_dec_begin(&dec, data, len, GOV_BLOCK_BYTES_MAX, GOV_BLOCK_VALUES_MAX, why, why_len);
    gov_block_decode_from(&dec, "block", out);
    int rc = gov_dec_finish(&dec);
    if (rc != 0) {
        gov_block_clear(out);
    }
    return rc;
}

/* Identities and signatures --------------------------------------------------------- */

int gov_tx_id(gov_suite suite, const gov_tx *tx, gov_hash *out)
{
    gov_buf body;
    gov_buf_init(&body);
    int rc = gov_tx_encode_body(tx, &body);
    if (rc == 0) {
        gov_hash_bytes(suite, body.data, body.len, out);
    }
    gov_buf_free(&body);
    return rc;
}

int gov_block_hash(gov_suite suite, const gov_block_header *header, gov_hash *out)
{
    gov_buf buf;
    gov_buf_init(&buf);
    int rc = gov_block_header_encode(header, &buf);
    if (rc == 0) {
        gov_hash_bytes(suite, buf.data, buf.len, out);
    }
    gov_buf_free(&buf);
    return rc;
}

int gov_tx_sign(gov_tx *tx, const gov_private_key *key)
{
    gov_buf body;
    gov_buf_init(&body);
    int rc = gov_tx_encode_body(tx, &body);
    if (rc == 0) {
        rc = gov_sign(key, GOV_TX_SIGNATURE_TAG, &tx->chain_id, body.data, body.len, tx->signature);
    }
    gov_buf_free(&body);
    return rc;
}

bool gov_tx_signature_valid(const gov_tx *tx, const gov_hash *chain_id, const gov_public_key *key)
{
    if (!gov_hash_equal(&tx->chain_id, chain_id)) {
        return false;
    }
    gov_buf body;
    gov_buf_init(&body);
    bool valid =
        gov_tx_encode_body(tx, &body) == 0 &&
        gov_verify(key, GOV_TX_SIGNATURE_TAG, &tx->chain_id, body.data, body.len, tx->signature);
    gov_buf_free(&body);
    return valid;
}
