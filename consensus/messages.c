/*
 * PBFT messages and certificates: canonical encoding, signatures and certificate
 * checks (shapes and signing rules in include/govchain/messages.h).
 *
 * Design note. A certificate stores only [validator, signature] pairs; the vote each
 * signature covers is rebuilt from the certificate's (view, height, digest), so a
 * certificate cannot carry votes for different blocks, and checking one costs one
 * signature verification per vote and nothing else. Decoders enforce the structural
 * rules that make each message meaningful on its own (ascending distinct votes,
 * heights that agree between a view-change and its certificates, a new-view whose
 * parts are all for its view); whether a message is acceptable now is the replica's
 * decision (Castro & Liskov §4.2-§4.4).
 */
#include "govchain/messages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "govchain/assert.h"
#include "govchain/error.h"
#include "govchain/quorum.h"

enum {
    PHASE_SIGNED_FIELDS = 5,
    PHASE_FIELDS = 6,
    PRE_PREPARE_FIELDS = 7,
    VIEW_CHANGE_FIELDS = 7,
    NEW_VIEW_FIELDS = 6,
    COMMIT_CERT_FIELDS = 4,
    PREPARED_CERT_FIELDS = 5,
    REQUEST_FIELDS = 4,
    BLOCK_FIELDS = 4,
    EQUIVOCATION_FIELDS = 8,
    FIELDS_MIN = 4,
    FIELDS_MAX = 7,
};

const char *gov_pbft_type_name(gov_pbft_type type)
{
    switch (type) {
    case GOV_PBFT_PRE_PREPARE:
        return "pre-prepare";
    case GOV_PBFT_PREPARE:
        return "prepare";
    case GOV_PBFT_COMMIT:
        return "commit";
    case GOV_PBFT_VIEW_CHANGE:
        return "view-change";
    case GOV_PBFT_NEW_VIEW:
        return "new-view";
    case GOV_PBFT_REQUEST:
        return "request";
    case GOV_PBFT_BLOCK:
        return "block";
    }
    return NULL;
}

static const char *signature_tag(gov_pbft_type type)
{
    switch (type) {
    case GOV_PBFT_PRE_PREPARE:
        return "govchain/pre-prepare/1";
    case GOV_PBFT_PREPARE:
        return "govchain/prepare/1";
    case GOV_PBFT_COMMIT:
        return "govchain/commit/1";
    case GOV_PBFT_VIEW_CHANGE:
        return "govchain/view-change/1";
    case GOV_PBFT_NEW_VIEW:
        return "govchain/new-view/1";
    case GOV_PBFT_REQUEST:
    case GOV_PBFT_BLOCK:
        return NULL;
    }
    return NULL;
}

bool gov_pbft_type_signed(gov_pbft_type type)
{
    return signature_tag(type) != NULL;
}

uint32_t gov_validator_set_faults(const gov_validator_set *set)
{
    return gov_quorum_faults(set->count);
}

uint32_t gov_validator_set_quorum(const gov_validator_set *set)
{
    return gov_quorum_size(set->count);
}

static bool is_phase(gov_pbft_type type)
{
    return type == GOV_PBFT_PRE_PREPARE || type == GOV_PBFT_PREPARE || type == GOV_PBFT_COMMIT;
}

void gov_pbft_message_clear(gov_pbft_message *message)
{
    if (is_phase(message->type)) {
        free(message->body.phase.block);
    } else if (message->type == GOV_PBFT_NEW_VIEW) {
        gov_pbft_new_view *new_view = &message->body.new_view;
        free(new_view->view_changes);
        if (new_view->pre_prepare != NULL) {
            gov_pbft_message_clear(new_view->pre_prepare);
            free(new_view->pre_prepare);
        }
    } else if (message->type == GOV_PBFT_BLOCK) {
        free(message->body.block.block);
    }
    memset(message, 0, sizeof(*message));
}

/* Encoders --------------------------------------------------------------------------- */

static void encode_votes(const gov_vote_signature *votes, uint32_t count, gov_buf *out)
{
    GOV_ASSERT(count <= GOV_VALIDATORS_MAX);
    gov_enc_array(out, count);
    for (uint32_t i = 0; i < count; i++) {
        gov_enc_array(out, 2);
        gov_enc_uint(out, votes[i].validator);
        gov_enc_bin(out, votes[i].signature, GOV_SIGNATURE_LEN);
    }
}

void gov_commit_cert_encode_into(const gov_commit_cert *cert, gov_buf *out)
{
    gov_enc_array(out, COMMIT_CERT_FIELDS);
    gov_enc_uint(out, cert->view);
    gov_enc_uint(out, cert->height);
    gov_enc_bin(out, cert->digest.bytes, GOV_HASH_LEN);
    encode_votes(cert->votes, cert->votes_count, out);
}

int gov_commit_cert_encode(const gov_commit_cert *cert, gov_buf *out)
{
    gov_commit_cert_encode_into(cert, out);
    return gov_buf_ok(out) ? 0 : GOV_ENOMEM;
}

void gov_prepared_cert_encode_into(const gov_prepared_cert *cert, gov_buf *out)
{
    gov_enc_array(out, PREPARED_CERT_FIELDS);
    gov_enc_uint(out, cert->view);
    gov_enc_uint(out, cert->height);
    gov_enc_bin(out, cert->digest.bytes, GOV_HASH_LEN);
    gov_enc_bin(out, cert->pre_prepare_signature, GOV_SIGNATURE_LEN);
    encode_votes(cert->prepares, cert->prepares_count, out);
}

/* The signed part of a phase message is its first five fields; the full message adds
 * the signature and, for a PRE-PREPARE, the block. */
static void encode_phase(gov_pbft_type type, const gov_pbft_phase *phase, bool signed_part,
                         gov_buf *out)
{
    uint32_t fields = signed_part                    ? PHASE_SIGNED_FIELDS
                      : type == GOV_PBFT_PRE_PREPARE ? PRE_PREPARE_FIELDS
                                                     : PHASE_FIELDS;
    gov_enc_array(out, fields);
    gov_enc_uint(out, type);
    gov_enc_uint(out, phase->view);
    gov_enc_uint(out, phase->height);
    gov_enc_uint(out, phase->sender);
    gov_enc_bin(out, phase->digest.bytes, GOV_HASH_LEN);
    if (signed_part) {
        return;
    }
    gov_enc_bin(out, phase->signature, GOV_SIGNATURE_LEN);
    if (type == GOV_PBFT_PRE_PREPARE) {
        gov_enc_bin(out, phase->block, phase->block_len);
    }
}

static void encode_view_change(const gov_pbft_view_change *view_change, bool signed_part,
                               gov_buf *out)
{
    gov_enc_array(out, signed_part ? VIEW_CHANGE_FIELDS - 1 : VIEW_CHANGE_FIELDS);
    gov_enc_uint(out, GOV_PBFT_VIEW_CHANGE);
    gov_enc_uint(out, view_change->new_view);
    gov_enc_uint(out, view_change->sender);
    gov_enc_uint(out, view_change->committed_height);
    if (view_change->has_commit_cert) {
        gov_commit_cert_encode_into(&view_change->commit_cert, out);
    } else {
        gov_enc_nil(out);
    }
    if (view_change->has_prepared_cert) {
        gov_prepared_cert_encode_into(&view_change->prepared_cert, out);
    } else {
        gov_enc_nil(out);
    }
    if (!signed_part) {
        gov_enc_bin(out, view_change->signature, GOV_SIGNATURE_LEN);
    }
}

static void encode_new_view(const gov_pbft_new_view *new_view, bool signed_part, gov_buf *out)
{
    gov_enc_array(out, signed_part ? NEW_VIEW_FIELDS - 1 : NEW_VIEW_FIELDS);
    gov_enc_uint(out, GOV_PBFT_NEW_VIEW);
    gov_enc_uint(out, new_view->view);
    gov_enc_uint(out, new_view->sender);
    gov_enc_array(out, new_view->view_changes_count);
    for (uint32_t i = 0; i < new_view->view_changes_count; i++) {
        encode_view_change(&new_view->view_changes[i], false, out);
    }
    if (new_view->pre_prepare != NULL) {
        encode_phase(GOV_PBFT_PRE_PREPARE, &new_view->pre_prepare->body.phase, false, out);
    } else {
        gov_enc_nil(out);
    }
    if (!signed_part) {
        gov_enc_bin(out, new_view->signature, GOV_SIGNATURE_LEN);
    }
}

static void encode_message(const gov_pbft_message *message, bool signed_part, gov_buf *out)
{
    switch (message->type) {
    case GOV_PBFT_PRE_PREPARE:
    case GOV_PBFT_PREPARE:
    case GOV_PBFT_COMMIT:
        encode_phase(message->type, &message->body.phase, signed_part, out);
        break;
    case GOV_PBFT_VIEW_CHANGE:
        encode_view_change(&message->body.view_change, signed_part, out);
        break;
    case GOV_PBFT_NEW_VIEW:
        encode_new_view(&message->body.new_view, signed_part, out);
        break;
    case GOV_PBFT_REQUEST:
        gov_enc_array(out, REQUEST_FIELDS);
        gov_enc_uint(out, GOV_PBFT_REQUEST);
        gov_enc_uint(out, message->body.request.kind);
        gov_enc_uint(out, message->body.request.height);
        if (message->body.request.has_digest) {
            gov_enc_bin(out, message->body.request.digest.bytes, GOV_HASH_LEN);
        } else {
            gov_enc_nil(out);
        }
        break;
    case GOV_PBFT_BLOCK:
        gov_enc_array(out, BLOCK_FIELDS);
        gov_enc_uint(out, GOV_PBFT_BLOCK);
        gov_enc_uint(out, message->body.block.height);
        gov_enc_bin(out, message->body.block.block, message->body.block.block_len);
        gov_commit_cert_encode_into(&message->body.block.cert, out);
        break;
    }
}

int gov_pbft_message_encode(const gov_pbft_message *message, gov_buf *out)
{
    if (gov_pbft_type_name(message->type) == NULL) {
        return GOV_EINVAL;
    }
    encode_message(message, false, out);
    return gov_buf_ok(out) ? 0 : GOV_ENOMEM;
}

/* Decoders --------------------------------------------------------------------------- */

static bool decode_votes(gov_dec *dec, const char *field, gov_vote_signature *votes,
                         uint32_t *count)
{
    if (!gov_dec_array_max(dec, field, GOV_VALIDATORS_MAX, count)) {
        return false;
    }
    for (uint32_t i = 0; i < *count; i++) {
        if (!gov_dec_array(dec, "vote", 2) ||
            !gov_dec_u32(dec, "validator", GOV_VALIDATORS_MAX - 1, &votes[i].validator) ||
            !gov_dec_bin_fixed(dec, "signature", votes[i].signature, GOV_SIGNATURE_LEN) ||
            !gov_dec_leave(dec)) {
            return false;
        }
        if (i > 0 && votes[i - 1].validator >= votes[i].validator) {
            return gov_dec_reject(dec, GOV_EDECODE, "vote",
                                  "votes must be in strictly ascending validator order");
        }
    }
    return gov_dec_leave(dec);
}

bool gov_commit_cert_decode_from(gov_dec *dec, const char *field, gov_commit_cert *out)
{
    memset(out, 0, sizeof(*out));
    return gov_dec_array(dec, field, COMMIT_CERT_FIELDS) &&
           gov_dec_uint(dec, "view", UINT64_MAX, &out->view) &&
           gov_dec_uint(dec, "height", UINT64_MAX, &out->height) &&
           gov_dec_bin_fixed(dec, "digest", out->digest.bytes, GOV_HASH_LEN) &&
           decode_votes(dec, "votes", out->votes, &out->votes_count) && gov_dec_leave(dec);
}

bool gov_prepared_cert_decode_from(gov_dec *dec, gov_prepared_cert *out)
{
    return gov_dec_array(dec, "prepared_cert", PREPARED_CERT_FIELDS) &&
           gov_dec_uint(dec, "view", UINT64_MAX, &out->view) &&
           gov_dec_uint(dec, "height", UINT64_MAX, &out->height) &&
           gov_dec_bin_fixed(dec, "digest", out->digest.bytes, GOV_HASH_LEN) &&
           gov_dec_bin_fixed(dec, "pre_prepare_signature", out->pre_prepare_signature,
                             GOV_SIGNATURE_LEN) &&
           decode_votes(dec, "prepares", out->prepares, &out->prepares_count) && gov_dec_leave(dec);
}

/* Reads the fields after the type of a PRE-PREPARE, PREPARE or COMMIT. */
static bool decode_phase(gov_dec *dec, gov_pbft_type type, gov_pbft_phase *out)
{
    if (!gov_dec_uint(dec, "view", UINT64_MAX, &out->view) ||
        !gov_dec_uint(dec, "height", UINT64_MAX, &out->height) ||
        !gov_dec_u32(dec, "sender", GOV_VALIDATORS_MAX - 1, &out->sender) ||
        !gov_dec_bin_fixed(dec, "digest", out->digest.bytes, GOV_HASH_LEN) ||
        !gov_dec_bin_fixed(dec, "signature", out->signature, GOV_SIGNATURE_LEN)) {
        return false;
    }
    if (type != GOV_PBFT_PRE_PREPARE) {
        return true;
    }
    if (!gov_dec_bin(dec, "block", GOV_BLOCK_BYTES_MAX, &out->block, &out->block_len)) {
        return false;
    }
    if (out->block_len == 0) {
        return gov_dec_reject(dec, GOV_EDECODE, "block", "empty block");
    }
    return true;
}

static bool decode_view_change_fields(gov_dec *dec, gov_pbft_view_change *out)
{
    if (!gov_dec_uint(dec, "new_view", UINT64_MAX, &out->new_view) ||
        !gov_dec_u32(dec, "sender", GOV_VALIDATORS_MAX - 1, &out->sender) ||
        !gov_dec_uint(dec, "committed_height", UINT64_MAX - 1, &out->committed_height)) {
        return false;
    }
    out->has_commit_cert = !gov_dec_nil(dec);
    if (out->has_commit_cert &&
        !gov_commit_cert_decode_from(dec, "commit_cert", &out->commit_cert)) {
        return false;
    }
    if (out->has_commit_cert != (out->committed_height > 0) ||
        (out->has_commit_cert && out->commit_cert.height != out->committed_height)) {
        return gov_dec_reject(dec, GOV_EDECODE, "commit_cert",
                              "must prove committed_height (nil only at height 0)");
    }
    out->has_prepared_cert = !gov_dec_nil(dec);
    if (out->has_prepared_cert && !gov_prepared_cert_decode_from(dec, &out->prepared_cert)) {
        return false;
    }
    if (out->has_prepared_cert && (out->prepared_cert.height != out->committed_height + 1 ||
                                   out->prepared_cert.view >= out->new_view)) {
        return gov_dec_reject(dec, GOV_EDECODE, "prepared_cert",
                              "must be for the next height and an earlier view");
    }
    return gov_dec_bin_fixed(dec, "signature", out->signature, GOV_SIGNATURE_LEN);
}

static bool decode_type(gov_dec *dec, gov_pbft_type *out)
{
    uint64_t type = 0;
    if (!gov_dec_uint(dec, "type", UINT64_MAX, &type)) {
        return false;
    }
    if (type < GOV_PBFT_PRE_PREPARE || type > GOV_PBFT_BLOCK) {
        return gov_dec_reject(dec, GOV_EDECODE, "type", "unknown message type");
    }
    *out = (gov_pbft_type)type;
    return true;
}

/* A nested message of a known type: enters its array and checks the type field. */
static bool enter_typed(gov_dec *dec, const char *field, gov_pbft_type type, uint32_t fields)
{
    gov_pbft_type found;
    if (!gov_dec_array(dec, field, fields) || !decode_type(dec, &found)) {
        return false;
    }
    if (found != type) {
        return gov_dec_reject(dec, GOV_EDECODE, "type", "unexpected message type here");
    }
    return true;
}

static bool decode_new_view_fields(gov_dec *dec, gov_pbft_new_view *out)
{
    uint32_t count = 0;
    if (!gov_dec_uint(dec, "view", UINT64_MAX, &out->view) ||
        !gov_dec_u32(dec, "sender", GOV_VALIDATORS_MAX - 1, &out->sender) ||
        !gov_dec_array_max(dec, "view_changes", GOV_VALIDATORS_MAX, &count)) {
        return false;
    }
    if (count > 0) {
        out->view_changes = calloc(count, sizeof(*out->view_changes));
        if (out->view_changes == NULL) {
            return gov_dec_reject(dec, GOV_ENOMEM, NULL, "out of memory");
        }
    }
    out->view_changes_count = count;
    for (uint32_t i = 0; i < count; i++) {
        gov_pbft_view_change *view_change = &out->view_changes[i];
        if (!enter_typed(dec, "view_change", GOV_PBFT_VIEW_CHANGE, VIEW_CHANGE_FIELDS) ||
            !decode_view_change_fields(dec, view_change) || !gov_dec_leave(dec)) {
            return false;
        }
        if (view_change->new_view != out->view) {
            return gov_dec_reject(dec, GOV_EDECODE, "view_change", "view-change for another view");
        }
        if (i > 0 && out->view_changes[i - 1].sender >= view_change->sender) {
            return gov_dec_reject(dec, GOV_EDECODE, "view_change",
                                  "view-changes must be in strictly ascending sender order");
        }
    }
    if (!gov_dec_leave(dec)) {
        return false;
    }
    if (gov_dec_nil(dec)) {
        return gov_dec_bin_fixed(dec, "signature", out->signature, GOV_SIGNATURE_LEN);
    }
    out->pre_prepare = calloc(1, sizeof(*out->pre_prepare));
    if (out->pre_prepare == NULL) {
        return gov_dec_reject(dec, GOV_ENOMEM, NULL, "out of memory");
    }
    out->pre_prepare->type = GOV_PBFT_PRE_PREPARE;
    gov_pbft_phase *phase = &out->pre_prepare->body.phase;
    if (!enter_typed(dec, "pre_prepare", GOV_PBFT_PRE_PREPARE, PRE_PREPARE_FIELDS) ||
        !decode_phase(dec, GOV_PBFT_PRE_PREPARE, phase) || !gov_dec_leave(dec)) {
        return false;
    }
    if (phase->view != out->view || phase->sender != out->sender) {
        return gov_dec_reject(dec, GOV_EDECODE, "pre_prepare",
                              "must be the new primary's, for the new view");
    }
    return gov_dec_bin_fixed(dec, "signature", out->signature, GOV_SIGNATURE_LEN);
}

static uint32_t fields_of(gov_pbft_type type)
{
    switch (type) {
    case GOV_PBFT_PRE_PREPARE:
        return PRE_PREPARE_FIELDS;
    case GOV_PBFT_PREPARE:
    case GOV_PBFT_COMMIT:
        return PHASE_FIELDS;
    case GOV_PBFT_VIEW_CHANGE:
        return VIEW_CHANGE_FIELDS;
    case GOV_PBFT_NEW_VIEW:
        return NEW_VIEW_FIELDS;
    case GOV_PBFT_REQUEST:
        return REQUEST_FIELDS;
    case GOV_PBFT_BLOCK:
        return BLOCK_FIELDS;
    }
    return 0;
}

static bool decode_request_fields(gov_dec *dec, gov_pbft_request *out)
{
    uint32_t kind = 0;
    if (!gov_dec_u32(dec, "kind", GOV_PBFT_REQUEST_PROPOSAL, &kind) ||
        !gov_dec_uint(dec, "height", UINT64_MAX, &out->height)) {
        return false;
    }
    if (kind < GOV_PBFT_REQUEST_BLOCKS) {
        return gov_dec_reject(dec, GOV_EDECODE, "kind", "unknown request kind");
    }
    out->kind = (gov_pbft_request_kind)kind;
    out->has_digest = !gov_dec_nil(dec);
    if (out->has_digest != (kind == GOV_PBFT_REQUEST_PROPOSAL)) {
        return gov_dec_reject(dec, GOV_EDECODE, "digest",
                              "a digest names a proposal, and only a proposal request has one");
    }
    return !out->has_digest || gov_dec_bin_fixed(dec, "digest", out->digest.bytes, GOV_HASH_LEN);
}

static bool decode_block_fields(gov_dec *dec, gov_pbft_block *out)
{
    if (!gov_dec_uint(dec, "height", UINT64_MAX, &out->height) ||
        !gov_dec_bin(dec, "block", GOV_BLOCK_BYTES_MAX, &out->block, &out->block_len) ||
        !gov_commit_cert_decode_from(dec, "commit_cert", &out->cert)) {
        return false;
    }
    if (out->block_len == 0) {
        return gov_dec_reject(dec, GOV_EDECODE, "block", "empty block");
    }
    if (out->height == 0 || out->cert.height != out->height) {
        return gov_dec_reject(dec, GOV_EDECODE, "commit_cert",
                              "must be for the block's height (1 or more)");
    }
    return true;
}

static bool decode_message(gov_dec *dec, gov_pbft_message *out)
{
    /* The type, the first element, fixes how many elements the array must have. */
    uint32_t count = 0;
    if (!gov_dec_array_between(dec, "message", FIELDS_MIN, FIELDS_MAX, &count) ||
        !decode_type(dec, &out->type)) {
        return false;
    }
    if (count != fields_of(out->type)) {
        return gov_dec_reject(dec, GOV_EDECODE, gov_pbft_type_name(out->type),
                              "wrong number of fields for this message type");
    }
    bool ok = false;
    switch (out->type) {
    case GOV_PBFT_PRE_PREPARE:
    case GOV_PBFT_PREPARE:
    case GOV_PBFT_COMMIT:
        ok = decode_phase(dec, out->type, &out->body.phase);
        break;
    case GOV_PBFT_VIEW_CHANGE:
        ok = decode_view_change_fields(dec, &out->body.view_change);
        break;
    case GOV_PBFT_NEW_VIEW:
        ok = decode_new_view_fields(dec, &out->body.new_view);
        break;
    case GOV_PBFT_REQUEST:
        ok = decode_request_fields(dec, &out->body.request);
        break;
    case GOV_PBFT_BLOCK:
        ok = decode_block_fields(dec, &out->body.block);
        break;
    }
    return ok && gov_dec_leave(dec);
}

int gov_pbft_message_decode(const uint8_t *data, size_t len, gov_pbft_message *out, char *why,
                            size_t why_len)
{
    gov_dec dec;
    memset(out, 0, sizeof(*out));
    gov_dec_begin(&dec, data, len, GOV_MESSAGE_BYTES_MAX, GOV_MESSAGE_VALUES_MAX, why, why_len);
    decode_message(&dec, out);
    int rc = gov_dec_finish(&dec);
    if (rc != 0) {
        gov_pbft_message_clear(out);
    }
    return rc;
}

int gov_commit_cert_decode(const uint8_t *data, size_t len, gov_commit_cert *out, char *why,
                           size_t why_len)
{
    gov_dec dec;
    gov_dec_begin(&dec, data, len, GOV_CERT_BYTES_MAX, GOV_CERT_VALUES_MAX, why, why_len);
    gov_commit_cert_decode_from(&dec, "commit_cert", out);
    int rc = gov_dec_finish(&dec);
    if (rc != 0) {
        memset(out, 0, sizeof(*out));
    }
    return rc;
}

/* Signatures ------------------------------------------------------------------------- */

struct gov_sig_cache {
    uint32_t mask; /* entries - 1; entries is a power of two */
    uint64_t hits;
    gov_hasher *hasher;
    gov_hash *slots; /* all zero: empty */
};

gov_sig_cache *gov_sig_cache_new(uint32_t entries)
{
    uint32_t size = 1;
    while (size < entries && size < (1u << 24)) {
        size <<= 1;
    }
    gov_sig_cache *cache = calloc(1, sizeof(*cache));
    if (cache == NULL) {
        return NULL;
    }
    cache->slots = calloc(size, sizeof(*cache->slots));
    cache->hasher = gov_hasher_new(GOV_SUITE_P256_SHA256);
    if (cache->slots == NULL || cache->hasher == NULL) {
        gov_sig_cache_free(cache);
        return NULL;
    }
    cache->mask = size - 1;
    return cache;
}

void gov_sig_cache_free(gov_sig_cache *cache)
{
    if (cache != NULL) {
        gov_hasher_free(cache->hasher);
        free(cache->slots);
        free(cache);
    }
}

uint64_t gov_sig_cache_hits(const gov_sig_cache *cache)
{
    return cache == NULL ? 0 : cache->hits;
}

/* The cache key of one signature check: the set's chain id and the signer's index fix
 * the key, so (index, tag, bytes, signature) names the check. */
static void sig_cache_key(gov_sig_cache *cache, uint32_t signer, const char *tag,
                          const uint8_t *data, size_t len, const uint8_t *signature, gov_hash *out)
{
    uint8_t index[4] = {(uint8_t)(signer >> 24), (uint8_t)(signer >> 16), (uint8_t)(signer >> 8),
                        (uint8_t)signer};
    gov_hasher_update(cache->hasher, index, sizeof(index));
    gov_hasher_update(cache->hasher, tag, strlen(tag) + 1); /* the NUL ends the tag */
    gov_hasher_update(cache->hasher, signature, GOV_SIGNATURE_LEN);
    gov_hasher_update(cache->hasher, data, len);
    gov_hasher_final(cache->hasher, out);
}

/* gov_verify through the set's cache, when it has one. */
static bool set_verify(const gov_validator_set *set, uint32_t signer, const char *tag,
                       const uint8_t *data, size_t len, const uint8_t *signature)
{
    gov_sig_cache *cache = set->cache;
    if (cache == NULL) {
        return gov_verify(set->keys[signer], tag, &set->chain_id, data, len, signature);
    }
    gov_hash key;
    sig_cache_key(cache, signer, tag, data, len, signature, &key);
    uint32_t slot = ((uint32_t)key.bytes[0] << 24 | (uint32_t)key.bytes[1] << 16 |
                     (uint32_t)key.bytes[2] << 8 | key.bytes[3]) &
                    cache->mask;
    if (memcmp(cache->slots[slot].bytes, key.bytes, GOV_HASH_LEN) == 0) {
        cache->hits++;
        return true;
    }
    if (!gov_verify(set->keys[signer], tag, &set->chain_id, data, len, signature)) {
        return false;
    }
    cache->slots[slot] = key;
    return true;
}

/* The bytes a vote's signature covers: [type, view, height, sender, digest]. */
static int encode_vote(gov_pbft_type type, uint64_t view, uint64_t height, uint32_t sender,
                       const gov_hash *digest, gov_buf *out)
{
    gov_pbft_phase phase = {.view = view, .height = height, .sender = sender};
    phase.digest = *digest;
    encode_phase(type, &phase, true, out);
    return gov_buf_ok(out) ? 0 : GOV_ENOMEM;
}

static uint8_t *signature_of(gov_pbft_message *message)
{
    switch (message->type) {
    case GOV_PBFT_VIEW_CHANGE:
        return message->body.view_change.signature;
    case GOV_PBFT_NEW_VIEW:
        return message->body.new_view.signature;
    default:
        return message->body.phase.signature;
    }
}

/* Signed types only (gov_pbft_type_signed). */
static uint32_t sender_of(const gov_pbft_message *message)
{
    switch (message->type) {
    case GOV_PBFT_VIEW_CHANGE:
        return message->body.view_change.sender;
    case GOV_PBFT_NEW_VIEW:
        return message->body.new_view.sender;
    default:
        return message->body.phase.sender;
    }
}

int gov_pbft_message_sign(gov_pbft_message *message, const gov_private_key *key,
                          const gov_hash *chain_id)
{
    const char *tag = signature_tag(message->type);
    if (tag == NULL) {
        return GOV_EINVAL;
    }
    gov_buf signed_part;
    gov_buf_init(&signed_part);
    encode_message(message, true, &signed_part);
    int rc = gov_buf_ok(&signed_part) ? gov_sign(key, tag, chain_id, signed_part.data,
                                                 signed_part.len, signature_of(message))
                                      : GOV_ENOMEM;
    gov_buf_free(&signed_part);
    return rc;
}

bool gov_pbft_message_signature_valid(const gov_pbft_message *message, const gov_validator_set *set)
{
    const char *tag = signature_tag(message->type);
    uint32_t sender = sender_of(message);
    if (tag == NULL || sender >= set->count) {
        return false;
    }
    gov_buf signed_part;
    gov_buf_init(&signed_part);
    encode_message(message, true, &signed_part);
    /* signature_of only reads here; the cast keeps one accessor for both uses. */
    const uint8_t *signature = signature_of((gov_pbft_message *)message);
    bool valid = gov_buf_ok(&signed_part) &&
                 set_verify(set, sender, tag, signed_part.data, signed_part.len, signature);
    gov_buf_free(&signed_part);
    return valid;
}

static bool vote_valid(const gov_validator_set *set, gov_pbft_type type, uint64_t view,
                       uint64_t height, const gov_hash *digest, uint32_t validator,
                       const uint8_t signature[GOV_SIGNATURE_LEN])
{
    gov_buf vote;
    gov_buf_init(&vote);
    bool valid = encode_vote(type, view, height, validator, digest, &vote) == 0 &&
                 set_verify(set, validator, signature_tag(type), vote.data, vote.len, signature);
    gov_buf_free(&vote);
    return valid;
}

/* Checks that votes are from distinct known validators (ascending order makes them
 * distinct) and that each signature is a valid vote of `type`. */
static int votes_verify(const gov_vote_signature *votes, uint32_t count, gov_pbft_type type,
                        uint64_t view, uint64_t height, const gov_hash *digest,
                        const gov_validator_set *set, char *why, size_t why_len)
{
    GOV_ASSERT(count <= GOV_VALIDATORS_MAX);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t validator = votes[i].validator;
        if (validator >= set->count) {
            return gov_fail(why, why_len, GOV_EINVAL, "vote from unknown validator %u", validator);
        }
        if (i > 0 && votes[i - 1].validator >= validator) {
            return gov_fail(why, why_len, GOV_EINVAL,
                            "votes not in strictly ascending validator order");
        }
        if (!vote_valid(set, type, view, height, digest, validator, votes[i].signature)) {
            return gov_fail(why, why_len, GOV_EBADSIG,
                            "%s signature of validator %u does not verify",
                            gov_pbft_type_name(type), validator);
        }
    }
    return 0;
}

int gov_commit_cert_verify(const gov_commit_cert *cert, const gov_validator_set *set, char *why,
                           size_t why_len)
{
    uint32_t quorum = gov_validator_set_quorum(set);
    if (cert->votes_count < quorum) {
        return gov_fail(why, why_len, GOV_EINVAL, "commit certificate has %u votes, a quorum is %u",
                        cert->votes_count, quorum);
    }
    return votes_verify(cert->votes, cert->votes_count, GOV_PBFT_COMMIT, cert->view, cert->height,
                        &cert->digest, set, why, why_len);
}

int gov_prepared_cert_verify(const gov_prepared_cert *cert, const gov_validator_set *set, char *why,
                             size_t why_len)
{
    if (set->count == 0) {
        return gov_fail(why, why_len, GOV_EINVAL, "empty validator set");
    }
    uint32_t primary = (uint32_t)(cert->view % set->count);
    uint32_t needed = gov_quorum_prepares(set->count);
    if (cert->prepares_count < needed) {
        return gov_fail(why, why_len, GOV_EINVAL,
                        "prepared certificate has %u prepares, %u are needed", cert->prepares_count,
                        needed);
    }
    for (uint32_t i = 0; i < cert->prepares_count; i++) {
        if (cert->prepares[i].validator == primary) {
            return gov_fail(why, why_len, GOV_EINVAL,
                            "prepared certificate counts a prepare from the primary");
        }
    }
    if (!vote_valid(set, GOV_PBFT_PRE_PREPARE, cert->view, cert->height, &cert->digest, primary,
                    cert->pre_prepare_signature)) {
        return gov_fail(why, why_len, GOV_EBADSIG,
                        "pre-prepare signature of primary %u does not verify", primary);
    }
    return votes_verify(cert->prepares, cert->prepares_count, GOV_PBFT_PREPARE, cert->view,
                        cert->height, &cert->digest, set, why, why_len);
}

/* Equivocation evidence ---------------------------------------------------------------- */

int gov_equivocation_encode(const gov_equivocation *evidence, gov_buf *out)
{
    gov_buf_reset(out);
    gov_enc_array(out, EQUIVOCATION_FIELDS);
    gov_enc_uint(out, evidence->type);
    gov_enc_uint(out, evidence->view);
    gov_enc_uint(out, evidence->height);
    gov_enc_uint(out, evidence->validator);
    for (int i = 0; i < 2; i++) {
        gov_enc_bin(out, evidence->digests[i].bytes, GOV_HASH_LEN);
        gov_enc_bin(out, evidence->signatures[i], GOV_SIGNATURE_LEN);
    }
    return gov_buf_ok(out) ? 0 : GOV_ENOMEM;
}

int gov_equivocation_decode(const uint8_t *data, size_t len, gov_equivocation *out, char *why,
                            size_t why_len)
{
    gov_dec dec;
    memset(out, 0, sizeof(*out));
    gov_dec_begin(&dec, data, len, 512, 2 * EQUIVOCATION_FIELDS, why, why_len);
    uint64_t type = 0;
    if (gov_dec_array(&dec, "equivocation", EQUIVOCATION_FIELDS) &&
        gov_dec_uint(&dec, "type", GOV_PBFT_COMMIT, &type) &&
        gov_dec_uint(&dec, "view", UINT64_MAX, &out->view) &&
        gov_dec_uint(&dec, "height", UINT64_MAX, &out->height) &&
        gov_dec_u32(&dec, "validator", GOV_VALIDATORS_MAX - 1, &out->validator)) {
        for (int i = 0; i < 2; i++) {
            if (!gov_dec_bin_fixed(&dec, "digest", out->digests[i].bytes, GOV_HASH_LEN) ||
                !gov_dec_bin_fixed(&dec, "signature", out->signatures[i], GOV_SIGNATURE_LEN)) {
                break;
            }
        }
        gov_dec_leave(&dec);
    }
    out->type = (gov_pbft_type)type;
    if (gov_dec_ok(&dec) && !is_phase(out->type)) {
        gov_dec_reject(&dec, GOV_EDECODE, "type", "not a PRE-PREPARE, PREPARE or COMMIT");
    }
    int rc = gov_dec_finish(&dec);
    if (rc != 0) {
        memset(out, 0, sizeof(*out));
    }
    return rc;
}

int gov_equivocation_verify(const gov_equivocation *evidence, const gov_validator_set *set,
                            char *why, size_t why_len)
{
    if (!is_phase(evidence->type)) {
        return gov_fail(why, why_len, GOV_EINVAL, "type %u is not a PRE-PREPARE, PREPARE or COMMIT",
                        (unsigned)evidence->type);
    }
    if (evidence->validator >= set->count) {
        return gov_fail(why, why_len, GOV_EINVAL, "unknown validator %u", evidence->validator);
    }
    if (gov_hash_equal(&evidence->digests[0], &evidence->digests[1])) {
        return gov_fail(why, why_len, GOV_EINVAL, "the two digests are the same: no equivocation");
    }
    for (int i = 0; i < 2; i++) {
        if (!vote_valid(set, evidence->type, evidence->view, evidence->height,
                        &evidence->digests[i], evidence->validator, evidence->signatures[i])) {
            return gov_fail(
                why, why_len, GOV_EBADSIG, "%s signature %c of validator %u does not verify",
                gov_pbft_type_name(evidence->type), i == 0 ? 'a' : 'b', evidence->validator);
        }
    }
    return 0;
}
