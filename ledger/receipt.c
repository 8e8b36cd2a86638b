/*
 * Receipts (include/govchain/receipt.h; the format and the checks: docs/receipt.md).
 *
 * On the wire every signed or hashed part travels as the hex of its canonical encoding,
 * so a verifier hashes exactly the bytes it was given and never re-encodes a JSON view;
 * the "display" member repeats the document for people and is not part of the proof.
 */
#include "govchain/receipt.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "govchain/error.h"
#include "govchain/query.h"
#include "govchain/rules.h"

enum { RECEIPT_JSON_BYTES_MAX = 1 << 20 };

void gov_receipt_clear(gov_receipt *receipt)
{
    gov_doc_state_clear(&receipt->state);
    gov_tx_clear(&receipt->issue_tx);
    memset(receipt, 0, sizeof(*receipt));
}

/* Building ----------------------------------------------------------------------------- */

/* What a receipt needs of a committed block: its header and certificate, and, for the
 * issuing block, its transactions and their RFC 6962 leaves. Blocks never change once
 * committed, so a cache of recent ones needs no invalidation. */
typedef struct {
    bool used;
    uint64_t height;
    uint64_t last_use;
    gov_block block; /* owned */
    gov_commit_cert cert;
    gov_hash *leaves; /* owned; txs_count of them */
} cache_entry;

struct gov_receipt_cache {
    pthread_mutex_t lock;
    uint32_t count;
    uint64_t clock;
    cache_entry *entries;
};

gov_receipt_cache *gov_receipt_cache_new(uint32_t blocks)
{
    gov_receipt_cache *cache = calloc(1, sizeof(*cache));
    if (cache == NULL || blocks == 0) {
        free(cache);
        return NULL;
    }
    cache->entries = calloc(blocks, sizeof(*cache->entries));
    if (cache->entries == NULL || pthread_mutex_init(&cache->lock, NULL) != 0) {
        free(cache->entries);
        free(cache);
        return NULL;
    }
    cache->count = blocks;
    return cache;
}

static void entry_clear(cache_entry *e)
{
    gov_block_clear(&e->block);
    free(e->leaves);
    memset(e, 0, sizeof(*e));
}

void gov_receipt_cache_free(gov_receipt_cache *cache)
{
    if (cache == NULL) {
        return;
    }
    for (uint32_t i = 0; i < cache->count; i++) {
        entry_clear(&cache->entries[i]);
    }
    pthread_mutex_destroy(&cache->lock);
    free(cache->entries);
    free(cache);
}

/* Reads block `height` into e, with its leaves. */
static int entry_load(gov_ledger *ledger, uint64_t height, cache_entry *e, char *why,
                      size_t why_len)
{
    memset(e, 0, sizeof(*e));
    int rc = gov_ledger_block_get(ledger, height, &e->block, &e->cert, why, why_len);
    if (rc != 0) {
        return rc;
    }
    gov_suite suite = gov_ledger_genesis(ledger)->suite;
    e->leaves = calloc(e->block.txs_count == 0 ? 1 : e->block.txs_count, sizeof(*e->leaves));
    if (e->leaves == NULL) {
        gov_block_clear(&e->block);
        return gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
    }
    for (uint32_t i = 0; rc == 0 && i < e->block.txs_count; i++) {
        gov_hash id;
        rc = gov_tx_id(suite, &e->block.txs[i], &id);
        gov_merkle_leaf_hash(suite, id.bytes, GOV_HASH_LEN, &e->leaves[i]);
    }
    if (rc != 0) {
        entry_clear(e);
        return rc;
    }
    e->used = true;
    e->height = height;
    return 0;
}

/* Fills the header and certificate of block `height` and, when index is not NULL, the
 * transaction at *index with its path. */
static int block_parts(gov_ledger *ledger, gov_receipt_cache *cache, uint64_t height,
                       gov_block_header *header, gov_commit_cert *cert, const uint32_t *index,
                       gov_receipt *out, char *why, size_t why_len)
{
    cache_entry local;
    cache_entry *e = NULL;
    int rc = 0;
    if (cache != NULL) {
        pthread_mutex_lock(&cache->lock);
        cache_entry *victim = &cache->entries[0];
        for (uint32_t i = 0; i < cache->count && e == NULL; i++) {
            cache_entry *c = &cache->entries[i];
            if (c->used && c->height == height) {
                e = c;
            } else if (!c->used || (victim->used && c->last_use < victim->last_use)) {
                victim = c;
            }
        }
        if (e == NULL) {
            entry_clear(victim);
            rc = entry_load(ledger, height, victim, why, why_len);
            e = rc == 0 ? victim : NULL;
        }
        if (e != NULL) {
            e->last_use = ++cache->clock;
        }
    } else {
        rc = entry_load(ledger, height, &local, why, why_len);
        e = rc == 0 ? &local : NULL;
    }
    if (rc == 0) {
        *header = e->block.header;
        *cert = e->cert;
    }
    if (rc == 0 && index != NULL) {
        gov_suite suite = gov_ledger_genesis(ledger)->suite;
        size_t path_len = 0;
        if (*index >= e->block.txs_count) {
            rc = gov_fail(why, why_len, GOV_EIO, "the issuing transaction is not in its block");
        } else {
            out->issue_index = *index;
            rc = gov_merkle_inclusion_proof(suite, e->leaves, e->block.txs_count, *index, out->path,
                                            &path_len);
            out->path_len = (uint32_t)path_len;
        }
        if (rc == 0) {
            rc = gov_tx_copy(&e->block.txs[*index], &out->issue_tx);
        }
    }
    if (cache != NULL) {
        pthread_mutex_unlock(&cache->lock);
    } else if (e != NULL) {
        entry_clear(e);
    }
    return rc;
}

int gov_receipt_build(gov_ledger *ledger, gov_receipt_cache *cache, const gov_hash *doc_hash,
                      gov_receipt *out, char *why, size_t why_len)
{
    memset(out, 0, sizeof(*out));
    out->chain_id = gov_ledger_genesis(ledger)->hash;
    out->doc_hash = *doc_hash;
    const gov_ledger_head *head = gov_ledger_head_get(ledger);
    if (head->height == 0) {
        return gov_fail(why, why_len, GOV_ENOENT, "the chain has no block yet");
    }
    gov_suite suite = gov_ledger_genesis(ledger)->suite;
    int rc = block_parts(ledger, cache, head->height, &out->state_header, &out->state_cert, NULL,
                         out, why, why_len);
    if (rc == 0) {
        rc = gov_query_doc(ledger, doc_hash, &out->state, &out->found, why, why_len);
    }
    if (rc == 0) {
        gov_smt smt = {.suite = suite, .store = gov_ledger_store(ledger)};
        rc =
            gov_smt_prove(&smt, &out->state_header.state_root, doc_hash, &out->proof, why, why_len);
    }
    if (rc == 0 && out->found) {
        rc = block_parts(ledger, cache, out->state.issued.height, &out->issue_header,
                         &out->issue_cert, &out->state.issued.index, out, why, why_len);
    }
    if (rc != 0) {
        gov_receipt_clear(out);
    }
    return rc;
}

/* JSON -------------------------------------------------------------------------------------- */

static json_t *hex_json(const uint8_t *bytes, size_t len)
{
    char *hex = malloc(2 * len + 1);
    if (hex == NULL) {
        return NULL;
    }
    gov_hex_encode(bytes, len, hex);
    json_t *value = json_string(hex);
    free(hex);
    return value;
}

static json_t *hash_json(const gov_hash *hash)
{
    return hex_json(hash->bytes, GOV_HASH_LEN);
}

static json_t *encoded_json(int (*encode)(const void *, gov_buf *), const void *value)
{
    gov_buf buf;
    gov_buf_init(&buf);
    json_t *json = encode(value, &buf) == 0 ? hex_json(buf.data, buf.len) : NULL;
    gov_buf_free(&buf);
    return json;
}

static int encode_header(const void *value, gov_buf *out)
{
    return gov_block_header_encode(value, out);
}

static int encode_cert(const void *value, gov_buf *out)
{
    return gov_commit_cert_encode(value, out);
}

static int encode_state(const void *value, gov_buf *out)
{
    return gov_doc_state_encode(value, out);
}

static int encode_tx(const void *value, gov_buf *out)
{
    return gov_tx_encode(value, out);
}

static json_t *display_json(const gov_genesis *genesis, const gov_receipt *r)
{
    if (!r->found) {
        return json_pack("{s:b}", "found", false);
    }
    const gov_doc_state *s = &r->state;
    json_t *endorsers = json_array();
    for (uint32_t i = 0; endorsers != NULL && i < s->endorsements_count; i++) {
        json_array_append_new(endorsers, json_string(s->endorsements[i].department));
    }
    return json_pack("{s:b, s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:b, s:I}", "found", true, "issuer",
                     s->issuer, "doc_type", s->doc_type, "class", gov_doc_class_name(s->doc_class),
                     "status", gov_doc_status_name(s->status), "valid_from_ms",
                     (json_int_t)s->valid_from_ms, "valid_until_ms", (json_int_t)s->valid_until_ms,
                     "endorsed_by", endorsers, "recognised", gov_doc_recognised(genesis, s),
                     "height", (json_int_t)r->state_header.height);
}

json_t *gov_receipt_to_json(const gov_genesis *genesis, const gov_receipt *r)
{
    json_t *siblings = json_array();
    for (uint32_t i = 0; siblings != NULL && i < r->proof.depth; i++) {
        json_array_append_new(siblings, hash_json(&r->proof.siblings[i]));
    }
    json_t *state =
        json_pack("{s:o, s:o, s:o, s:{s:i, s:o, s:o, s:o}}", "header",
                  encoded_json(encode_header, &r->state_header), "commit_cert",
                  encoded_json(encode_cert, &r->state_cert), "document",
                  r->found ? encoded_json(encode_state, &r->state) : json_null(), "proof", "kind",
                  (int)r->proof.kind, "leaf_key", hash_json(&r->proof.leaf_key), "leaf_value_hash",
                  hash_json(&r->proof.leaf_value_hash), "siblings", siblings);
    json_t *issue = json_null();
    if (r->found) {
        json_t *path = json_array();
        for (uint32_t i = 0; path != NULL && i < r->path_len; i++) {
            json_array_append_new(path, hash_json(&r->path[i]));
        }
        issue = json_pack("{s:o, s:I, s:o, s:o, s:o}", "tx", encoded_json(encode_tx, &r->issue_tx),
                          "index", (json_int_t)r->issue_index, "path", path, "header",
                          encoded_json(encode_header, &r->issue_header), "commit_cert",
                          encoded_json(encode_cert, &r->issue_cert));
    }
    return json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:o}", "format", GOV_RECEIPT_FORMAT,
                     "chain_id", hash_json(&r->chain_id), "suite", gov_suite_name(genesis->suite),
                     "doc_hash", hash_json(&r->doc_hash), "state", state, "issue", issue, "display",
                     display_json(genesis, r));
}

/* Parsing --------------------------------------------------------------------------------- */

typedef struct {
    char *why;
    size_t why_len;
    int rc;
} parse_ctx;

static bool parse_fail(parse_ctx *ctx, int rc, const char *field, const char *reason)
{
    if (ctx->rc == 0) {
        ctx->rc = gov_fail(ctx->why, ctx->why_len, rc, "%s: %s", field, reason);
    }
    return false;
}

/* An object with exactly these members. */
static bool exact_members(parse_ctx *ctx, json_t *object, const char *field,
                          const char *const *names, size_t count)
{
    if (!json_is_object(object) || json_object_size(object) != count) {
        return parse_fail(ctx, GOV_EJSON, field, "not an object with the expected members");
    }
    for (size_t i = 0; i < count; i++) {
        if (json_object_get(object, names[i]) == NULL) {
            return parse_fail(ctx, GOV_EJSON, field, "a member is missing");
        }
    }
    return true;
}

/* Hex into a new buffer (at most max bytes). */
static bool hex_bytes(parse_ctx *ctx, json_t *value, const char *field, size_t max, uint8_t **out,
                      size_t *len)
{
    const char *hex = json_string_value(value);
    size_t hex_len = hex == NULL ? 0 : strlen(hex);
    if (hex == NULL || hex_len == 0 || hex_len % 2 != 0 || hex_len / 2 > max) {
        return parse_fail(ctx, GOV_EJSON, field, "not hex of the allowed length");
    }
    *out = malloc(hex_len / 2);
    if (*out == NULL) {
        return parse_fail(ctx, GOV_ENOMEM, field, "out of memory");
    }
    if (gov_hex_decode(hex, *out, hex_len / 2) != 0) {
        free(*out);
        *out = NULL;
        return parse_fail(ctx, GOV_EJSON, field, "not lowercase or uppercase hex");
    }
    *len = hex_len / 2;
    return true;
}

static bool hex_hash(parse_ctx *ctx, json_t *value, const char *field, gov_hash *out)
{
    const char *hex = json_string_value(value);
    if (hex == NULL || strlen(hex) != 2 * GOV_HASH_LEN ||
        gov_hex_decode(hex, out->bytes, GOV_HASH_LEN) != 0) {
        return parse_fail(ctx, GOV_EJSON, field, "not a 64-hex-digit hash");
    }
    return true;
}

/* Hex of a canonical encoding, decoded by decode(). */
static bool hex_decoded(parse_ctx *ctx, json_t *value, const char *field, size_t max,
                        int (*decode)(const uint8_t *, size_t, void *, char *, size_t), void *out)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (!hex_bytes(ctx, value, field, max, &bytes, &len)) {
        return false;
    }
    char inner[160];
    int rc = decode(bytes, len, out, inner, sizeof(inner));
    free(bytes);
    if (rc != 0) {
        return parse_fail(ctx, rc, field, inner);
    }
    return true;
}

static int decode_header(const uint8_t *data, size_t len, void *out, char *why, size_t why_len)
{
    return gov_block_header_decode(data, len, out, why, why_len);
}

static int decode_cert(const uint8_t *data, size_t len, void *out, char *why, size_t why_len)
{
    return gov_commit_cert_decode(data, len, out, why, why_len);
}

static int decode_state(const uint8_t *data, size_t len, void *out, char *why, size_t why_len)
{
    return gov_doc_state_decode(data, len, out, why, why_len);
}

static int decode_tx(const uint8_t *data, size_t len, void *out, char *why, size_t why_len)
{
    return gov_tx_decode(data, len, out, why, why_len);
}

static bool hash_list(parse_ctx *ctx, json_t *value, const char *field, size_t max, gov_hash *out,
                      uint32_t *count)
{
    if (!json_is_array(value) || json_array_size(value) > max) {
        return parse_fail(ctx, GOV_EJSON, field, "not a list of hashes of the allowed length");
    }
    *count = (uint32_t)json_array_size(value);
    for (uint32_t i = 0; i < *count; i++) {
        if (!hex_hash(ctx, json_array_get(value, i), field, &out[i])) {
            return false;
        }
    }
    return true;
}

static bool parse_state(parse_ctx *ctx, json_t *state, gov_receipt *out)
{
    static const char *const names[] = {"header", "commit_cert", "document", "proof"};
    static const char *const proof_names[] = {"kind", "leaf_key", "leaf_value_hash", "siblings"};
    if (!exact_members(ctx, state, "state", names, 4)) {
        return false;
    }
    json_t *proof = json_object_get(state, "proof");
    json_t *document = json_object_get(state, "document");
    out->found = !json_is_null(document);
    if (!hex_decoded(ctx, json_object_get(state, "header"), "state.header", GOV_HEADER_BYTES_MAX,
                     decode_header, &out->state_header) ||
        !hex_decoded(ctx, json_object_get(state, "commit_cert"), "state.commit_cert",
                     GOV_CERT_BYTES_MAX, decode_cert, &out->state_cert) ||
        (out->found &&
         !hex_decoded(ctx, document, "state.document", 64 * 1024, decode_state, &out->state)) ||
        !exact_members(ctx, proof, "state.proof", proof_names, 4)) {
        return false;
    }
    json_int_t kind = json_integer_value(json_object_get(proof, "kind"));
    if (!json_is_integer(json_object_get(proof, "kind")) || kind < GOV_SMT_PROOF_MEMBER ||
        kind > GOV_SMT_PROOF_EMPTY) {
        return parse_fail(ctx, GOV_EJSON, "state.proof.kind", "not 1, 2 or 3");
    }
    out->proof.kind = (gov_smt_proof_kind)kind;
    return hex_hash(ctx, json_object_get(proof, "leaf_key"), "state.proof.leaf_key",
                    &out->proof.leaf_key) &&
           hex_hash(ctx, json_object_get(proof, "leaf_value_hash"), "state.proof.leaf_value_hash",
                    &out->proof.leaf_value_hash) &&
           hash_list(ctx, json_object_get(proof, "siblings"), "state.proof.siblings", GOV_SMT_DEPTH,
                     out->proof.siblings, &out->proof.depth);
}

static bool parse_issue(parse_ctx *ctx, json_t *issue, gov_receipt *out)
{
    static const char *const names[] = {"tx", "index", "path", "header", "commit_cert"};
    if (!exact_members(ctx, issue, "issue", names, 5)) {
        return false;
    }
    json_t *index = json_object_get(issue, "index");
    if (!json_is_integer(index) || json_integer_value(index) < 0 ||
        json_integer_value(index) >= GOV_BLOCK_TXS_MAX) {
        return parse_fail(ctx, GOV_EJSON, "issue.index", "not a transaction index");
    }
    out->issue_index = (uint32_t)json_integer_value(index);
    return hex_decoded(ctx, json_object_get(issue, "tx"), "issue.tx", GOV_TX_BYTES_MAX, decode_tx,
                       &out->issue_tx) &&
           hash_list(ctx, json_object_get(issue, "path"), "issue.path", GOV_MERKLE_PROOF_MAX,
                     out->path, &out->path_len) &&
           hex_decoded(ctx, json_object_get(issue, "header"), "issue.header", GOV_HEADER_BYTES_MAX,
                       decode_header, &out->issue_header) &&
           hex_decoded(ctx, json_object_get(issue, "commit_cert"), "issue.commit_cert",
                       GOV_CERT_BYTES_MAX, decode_cert, &out->issue_cert);
}

int gov_receipt_from_json(gov_suite suite, const char *text, size_t len, gov_receipt *out,
                          char *why, size_t why_len)
{
    memset(out, 0, sizeof(*out));
    if (len > RECEIPT_JSON_BYTES_MAX) {
        return gov_fail(why, why_len, GOV_ELIMIT, "a receipt is at most %d bytes",
                        RECEIPT_JSON_BYTES_MAX);
    }
    json_error_t error;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
    if (root == NULL) {
        return gov_fail(why, why_len, GOV_EJSON, "not JSON: %s (line %d)", error.text, error.line);
    }
    static const char *const names[] = {"format", "chain_id", "suite",  "doc_hash",
                                        "state",  "issue",    "display"};
    parse_ctx ctx = {why, why_len, 0};
    const char *format = json_string_value(json_object_get(root, "format"));
    const char *suite_name = json_string_value(json_object_get(root, "suite"));
    if (exact_members(&ctx, root, "receipt", names, 7)) {
        if (format == NULL || strcmp(format, GOV_RECEIPT_FORMAT) != 0) {
            parse_fail(&ctx, GOV_EJSON, "format", "not " GOV_RECEIPT_FORMAT);
        } else if (suite_name == NULL || strcmp(suite_name, gov_suite_name(suite)) != 0) {
            parse_fail(&ctx, GOV_EINVAL, "suite", "not the genesis's suite");
        } else if (hex_hash(&ctx, json_object_get(root, "chain_id"), "chain_id", &out->chain_id) &&
                   hex_hash(&ctx, json_object_get(root, "doc_hash"), "doc_hash", &out->doc_hash) &&
                   parse_state(&ctx, json_object_get(root, "state"), out)) {
            json_t *issue = json_object_get(root, "issue");
            if (out->found != !json_is_null(issue)) {
                parse_fail(&ctx, GOV_EJSON, "issue", "present exactly when the document is");
            } else if (out->found) {
                parse_issue(&ctx, issue, out);
            }
        }
    }
    json_decref(root);
    if (ctx.rc != 0) {
        gov_receipt_clear(out);
    }
    return ctx.rc;
}

/* Verifying ---------------------------------------------------------------------------------- */

int gov_certified_header_verify(const gov_genesis *genesis, const gov_block_header *header,
                                const gov_commit_cert *cert, const char *which, char *why,
                                size_t why_len)
{
    if (!gov_hash_equal(&header->chain_id, &genesis->hash)) {
        return gov_fail(why, why_len, GOV_EINVAL, "%s block is of another chain", which);
    }
    if (!gov_hash_equal(&header->validators_hash, &genesis->validators_hash)) {
        return gov_fail(why, why_len, GOV_EPROOF, "%s block names another validator set", which);
    }
    gov_hash hash;
    int rc = gov_block_hash(genesis->suite, header, &hash);
    if (rc != 0) {
        return gov_fail(why, why_len, rc, "%s block: cannot hash its header", which);
    }
    if (cert->height != header->height || !gov_hash_equal(&cert->digest, &hash)) {
        return gov_fail(why, why_len, GOV_EPROOF,
                        "%s block: the commit certificate is for another block", which);
    }
    gov_public_key *keys[GOV_VALIDATORS_MAX];
    gov_validator_set set;
    gov_genesis_validator_set(genesis, keys, &set);
    char inner[160];
    rc = gov_commit_cert_verify(cert, &set, inner, sizeof(inner));
    if (rc != 0) {
        return gov_fail(why, why_len, rc, "%s block %llu: %s", which,
                        (unsigned long long)header->height, inner);
    }
    return 0;
}

static const gov_genesis_department *department_of(const gov_genesis *genesis, const char *id)
{
    for (uint32_t i = 0; i < genesis->departments_count; i++) {
        if (strcmp(genesis->departments[i].id, id) == 0) {
            return &genesis->departments[i];
        }
    }
    return NULL;
}

static bool may_issue(const gov_genesis *genesis, const gov_genesis_department *department,
                      const char *doc_type)
{
    if (!(department->roles & GOV_ROLE_ISSUER)) {
        return false;
    }
    for (uint32_t i = 0; i < department->issues_count; i++) {
        if (strcmp(genesis->doc_types[department->issues[i]].id, doc_type) == 0) {
            return true;
        }
    }
    return false;
}

/* The issuing transaction: signed by the issuer, issuing what the state shows, at its
 * position under its certified block's tx_root. */
static int check_issue(const gov_genesis *genesis, const gov_receipt *r, char *why, size_t why_len)
{
    const gov_tx *tx = &r->issue_tx;
    const gov_issue *issue = &tx->payload.issue;
    const gov_doc_state *s = &r->state;
    if (tx->kind != GOV_TX_ISSUE || !gov_hash_equal(&issue->doc_hash, &r->doc_hash)) {
        return gov_fail(why, why_len, GOV_EPROOF, "the transaction does not issue this document");
    }
    gov_reject reason = gov_rules_check_signature(genesis, tx);
    if (reason != GOV_REJECT_NONE) {
        return gov_fail(why, why_len, reason == GOV_REJECT_BAD_SIGNATURE ? GOV_EBADSIG : GOV_EPROOF,
                        "the issuing transaction: %s", gov_reject_message(reason));
    }
    const gov_genesis_department *issuer = department_of(genesis, tx->department);
    if (issuer == NULL || !may_issue(genesis, issuer, issue->doc_type)) {
        return gov_fail(why, why_len, GOV_EPROOF, "%s may not issue %s", tx->department,
                        issue->doc_type);
    }
    gov_hash id;
    int rc = gov_tx_id(genesis->suite, tx, &id);
    if (rc != 0) {
        return gov_fail(why, why_len, rc, "the issuing transaction does not encode");
    }
    if (strcmp(s->issuer, tx->department) != 0 || strcmp(s->doc_type, issue->doc_type) != 0 ||
        s->doc_class != issue->doc_class || !gov_hash_equal(&s->subject_ref, &issue->subject_ref) ||
        s->valid_from_ms != issue->valid_from_ms || s->valid_until_ms != issue->valid_until_ms ||
        !gov_hash_equal(&s->issued.tx_id, &id) || s->issued.height != r->issue_header.height ||
        s->issued.index != r->issue_index) {
        return gov_fail(why, why_len, GOV_EPROOF,
                        "the document's state does not match its issuing transaction");
    }
    if (r->issue_header.height > r->state_header.height) {
        return gov_fail(why, why_len, GOV_EPROOF, "the issue is newer than the state");
    }
    rc = gov_certified_header_verify(genesis, &r->issue_header, &r->issue_cert, "the issuing", why,
                                     why_len);
    if (rc != 0) {
        return rc;
    }
    gov_hash leaf;
    gov_merkle_leaf_hash(genesis->suite, id.bytes, GOV_HASH_LEN, &leaf);
    if (!gov_merkle_verify_inclusion(genesis->suite, &leaf, r->issue_index,
                                     r->issue_header.tx_count, r->path, r->path_len,
                                     &r->issue_header.tx_root)) {
        return gov_fail(why, why_len, GOV_EPROOF,
                        "the issuing transaction's path does not lead to its block's tx_root");
    }
    return 0;
}

int gov_receipt_verify(const gov_genesis *genesis, const gov_receipt *r, uint64_t now_ms,
                       gov_receipt_result *result, char *why, size_t why_len)
{
    memset(result, 0, sizeof(*result));
    if (!gov_hash_equal(&r->chain_id, &genesis->hash)) {
        return gov_fail(why, why_len, GOV_EINVAL, "the receipt is of another chain");
    }
    int rc = gov_certified_header_verify(genesis, &r->state_header, &r->state_cert, "the newest",
                                         why, why_len);
    if (rc != 0) {
        return rc;
    }
    gov_hash value_hash;
    if (r->found) {
        if (!gov_hash_equal(&r->state.doc_hash, &r->doc_hash)) {
            return gov_fail(why, why_len, GOV_EPROOF, "the state is of another document");
        }
        rc = gov_doc_state_hash(genesis->suite, &r->state, &value_hash);
        if (rc != 0) {
            return gov_fail(why, why_len, rc, "the document's state does not encode");
        }
    }
    if (!gov_smt_verify(genesis->suite, &r->state_header.state_root, &r->doc_hash,
                        r->found ? &value_hash : NULL, &r->proof)) {
        return gov_fail(why, why_len, GOV_EPROOF,
                        r->found ? "the state proof does not lead to the "
                                   "certified state root"
                                 : "the proof of absence does not hold");
    }
    result->height = r->state_header.height;
    result->time_ms = r->state_header.time_ms;
    if (!r->found) {
        return 0;
    }
    rc = check_issue(genesis, r, why, why_len);
    if (rc != 0) {
        return rc;
    }
    result->found = true;
    result->expired = gov_doc_expired(&r->state, now_ms);
    result->not_yet_valid = gov_doc_not_yet_valid(&r->state, now_ms);
    result->recognised = gov_doc_recognised(genesis, &r->state);
    return 0;
}
