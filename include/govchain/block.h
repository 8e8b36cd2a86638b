/*
 * govchain records: transactions, block headers and blocks, with their canonical
 * encodings (govchain/canon.h) and the identities derived from them.
 *
 * Wire shapes (every one a fixed-order msgpack array; docs/formats.md has the field
 * tables):
 *   tx      = [body, signature(bin 64)]
 *   body    = [version, kind, chain_id(bin 32), department(str), key_index, nonce,
 *              created_ms, payload]
 *   ISSUE   = [doc_hash(bin 32), class, doc_type(str), subject_ref(bin 32),
 *              valid_from_ms, valid_until_ms, supersedes(bin 32 | nil),
 *              [[key(str), value(str)] ...]]       metadata keys strictly ascending
 *   ENDORSE = [doc_hash(bin 32), note(str)]
 *   REVOKE  = [doc_hash(bin 32), reason(str)]
 *   header  = [version, chain_id, height, prev_hash, time_ms, proposer, tx_count,
 *              tx_root, state_root, history_root, validators_hash]   (hashes bin 32)
 *   block   = [header, [tx ...]]
 *
 * Identities: tx_id = H(encode(body)); block hash = H(encode(header)), with the suite's
 * hash. A transaction's signature covers the body under the domain tag "govchain/tx/1"
 * and its chain_id (govchain/crypto.h).
 *
 * Decoders are strict (canon.h): they also check what the shape alone fixes
 * (known kind and class, identifiers well formed, metadata keys ascending, tx_count
 * equal to the transactions present). Whether a transaction is allowed is the ledger's
 * rule engine's business, not the codec's.
 *
 * Ownership: gov_tx and gov_block own heap memory (metadata, transactions); release
 * it with gov_tx_clear / gov_block_clear. Encoders append to a caller's gov_buf and
 * return 0 or GOV_ENOMEM; decoders return 0, GOV_EDECODE, GOV_ELIMIT or GOV_ENOMEM
 * with the field path and reason in why[] (may be NULL), and leave the output cleared
 * on failure.
 */
#ifndef GOVCHAIN_BLOCK_H
#define GOVCHAIN_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "govchain/canon.h"
#include "govchain/crypto.h"
#include "govchain/genesis.h"
#include "govchain/limits.h"

#define GOV_TX_VERSION       1
#define GOV_BLOCK_VERSION    1
#define GOV_TX_SIGNATURE_TAG "govchain/tx/1"

typedef enum {
    GOV_TX_ISSUE = 1,
    GOV_TX_ENDORSE = 2,
    GOV_TX_REVOKE = 3,
} gov_tx_kind;

typedef struct {
    char key[GOV_METADATA_KEY_LEN_MAX + 1];
    char value[GOV_METADATA_VALUE_LEN_MAX + 1];
} gov_metadata_entry;

typedef struct {
    gov_hash doc_hash;
    gov_doc_class doc_class;
    char doc_type[GOV_ID_LEN_MAX + 1];
    gov_hash subject_ref; /* salted hash of the citizen's identifier; never the id */
    uint64_t valid_from_ms;
    uint64_t valid_until_ms; /* 0: no expiry */
    bool has_supersedes;
    gov_hash supersedes;
    uint32_t metadata_count;
    gov_metadata_entry *metadata; /* owned; keys strictly ascending */
} gov_issue;

typedef struct {
    gov_hash doc_hash;
    char text[GOV_NOTE_LEN_MAX + 1]; /* ENDORSE: note; REVOKE: reason */
} gov_doc_remark;

typedef struct {
    uint32_t version;
    gov_tx_kind kind;
    gov_hash chain_id;
    char department[GOV_ID_LEN_MAX + 1];
    uint32_t key_index; /* which of the department's genesis keys signed */
    uint64_t nonce;
    uint64_t created_ms;
    union {
        gov_issue issue;
        gov_doc_remark endorse;
        gov_doc_remark revoke;
    } payload;
    uint8_t signature[GOV_SIGNATURE_LEN];
} gov_tx;

typedef struct {
    uint32_t version;
    gov_hash chain_id;
    uint64_t height;
    gov_hash prev_hash;
    uint64_t time_ms;
    uint32_t proposer; /* validator index */
    uint32_t tx_count;
    gov_hash tx_root;
    gov_hash state_root;
    gov_hash history_root;
    gov_hash validators_hash;
} gov_block_header;

typedef struct {
    gov_block_header header;
    uint32_t txs_count;
    gov_tx *txs; /* owned */
} gov_block;

const char *gov_tx_kind_name(gov_tx_kind kind); /* "issue", "endorse", "revoke"; NULL */
int gov_tx_kind_parse(const char *name, gov_tx_kind *out);

void gov_tx_clear(gov_tx *tx);
/* A deep copy (metadata included) that the caller clears. */
int gov_tx_copy(const gov_tx *from, gov_tx *to);
void gov_block_clear(gov_block *block);

int gov_tx_encode_body(const gov_tx *tx, gov_buf *out);
int gov_tx_encode(const gov_tx *tx, gov_buf *out);
int gov_tx_decode(const uint8_t *data, size_t len, gov_tx *out, char *why, size_t why_len);
int gov_tx_id(gov_suite suite, const gov_tx *tx, gov_hash *out);

/* Signs the body with key (whose suite must match) into tx->signature. */
int gov_tx_sign(gov_tx *tx, const gov_private_key *key);
/* True when tx is for chain_id (the verifier's genesis hash, never the transaction's own
 * claim) and key signed its body. */
bool gov_tx_signature_valid(const gov_tx *tx, const gov_hash *chain_id, const gov_public_key *key);

int gov_block_header_encode(const gov_block_header *header, gov_buf *out);
int gov_block_header_decode(const uint8_t *data, size_t len, gov_block_header *out, char *why,
                            size_t why_len);
int gov_block_hash(gov_suite suite, const gov_block_header *header, gov_hash *out);

int gov_block_encode(const gov_block *block, gov_buf *out);
int gov_block_decode(const uint8_t *data, size_t len, gov_block *out, char *why, size_t why_len);

/* The pieces of the decoders above, for structures that embed a transaction or a
 * header (blocks here, receipts and store records later). */
void gov_tx_encode_into(const gov_tx *tx, gov_buf *out);
bool gov_tx_decode_from(gov_dec *dec, const char *field, gov_tx *out);
void gov_block_header_encode_into(const gov_block_header *header, gov_buf *out);
bool gov_block_header_decode_from(gov_dec *dec, const char *field, gov_block_header *out);
void gov_block_encode_into(const gov_block *block, gov_buf *out);
bool gov_block_decode_from(gov_dec *dec, const char *field, gov_block *out);
/* Fields every record shares: a 32-byte hash, and an identifier (gov_id_valid). */
bool gov_record_dec_hash(gov_dec *dec, const char *field, gov_hash *out);
bool gov_record_dec_id(gov_dec *dec, const char *field, char out[GOV_ID_LEN_MAX + 1]);

#endif
