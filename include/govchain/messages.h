/*
 * govchain consensus messages and certificates (PBFT, Castro & Liskov), their
 * canonical encodings and signatures. Pure: no I/O. This header belongs to the
 * consensus module and depends only on crypto and the canonical codec; in particular
 * it knows nothing of blocks' contents: a pre-prepare carries the block as opaque
 * bytes, named by its digest.
 *
 * Wire shapes (fixed-order msgpack arrays; docs/formats.md has the tables):
 *   PRE-PREPARE = [1, view, height, sender, digest(bin 32), signature(bin 64), block(bin)]
 *   PREPARE     = [2, view, height, sender, digest, signature]
 *   COMMIT      = [3, view, height, sender, digest, signature]
 *   VIEW-CHANGE = [4, new_view, sender, committed_height, commit_cert | nil,
 *                  prepared_cert | nil, signature]
 *   NEW-VIEW    = [5, view, sender, [VIEW-CHANGE ...], PRE-PREPARE | nil, signature]
 *   REQUEST     = [6, kind, height, digest | nil]      (unsigned; see below)
 *   BLOCK       = [7, height, block(bin), commit_cert]  (unsigned; the cert proves it)
 *   commit_cert   = [view, height, digest, [[validator, signature] ...]]
 *   prepared_cert = [view, height, digest, pre_prepare_signature,
 *                    [[validator, signature] ...]]
 * Vote lists are strictly ascending by validator index (so one vote per validator and
 * one encoding per set).
 *
 * Signatures (govchain/crypto.h domains, chain id = genesis hash):
 *   PRE-PREPARE, PREPARE, COMMIT sign encode([type, view, height, sender, digest]) under
 *   "govchain/pre-prepare/1", "govchain/prepare/1", "govchain/commit/1"; the block is
 *   not signed itself, its digest is. So a certificate's entry [validator, signature]
 *   is checked by rebuilding the vote it signed.
 *   VIEW-CHANGE and NEW-VIEW sign the encoding of their array without the final
 *   signature element, under "govchain/view-change/1" and "govchain/new-view/1".
 *
 * REQUEST and BLOCK carry no signature: the link authenticates who asks, and a BLOCK
 * is believed only through its commit certificate and the ledger's re-execution. A
 * REQUEST asks for committed blocks from `height` on (kind 1, digest nil), for the
 * NEW-VIEW that started view `height` or a later one (kind 2, digest nil), or for the
 * PRE-PREPARE that proposed `digest` at `height` (kind 3).
 *
 * Ownership: gov_pbft_message owns its block bytes and nested view-changes; release
 * with gov_pbft_message_clear. Decoders return 0 or GOV_EDECODE / GOV_ELIMIT /
 * GOV_ENOMEM with the reason in why[] and leave the output cleared on failure.
 */
#ifndef GOVCHAIN_MESSAGES_H
#define GOVCHAIN_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "govchain/canon.h"
#include "govchain/crypto.h"
#include "govchain/limits.h"

typedef enum {
    GOV_PBFT_PRE_PREPARE = 1,
    GOV_PBFT_PREPARE = 2,
    GOV_PBFT_COMMIT = 3,
    GOV_PBFT_VIEW_CHANGE = 4,
    GOV_PBFT_NEW_VIEW = 5,
    GOV_PBFT_REQUEST = 6,
    GOV_PBFT_BLOCK = 7,
} gov_pbft_type;

typedef enum {
    GOV_PBFT_REQUEST_BLOCKS = 1,
    GOV_PBFT_REQUEST_NEW_VIEW = 2,
    GOV_PBFT_REQUEST_PROPOSAL = 3,
} gov_pbft_request_kind;

/* Remembers signatures found valid, keyed by SHA-256 of (validator, domain tag, signed
 * bytes, signature), so that a vote seen first in a PREPARE and again inside
 * certificates is verified once. Only valid results are kept; a fixed number of entries,
 * the oldest in a slot replaced. Not thread-safe: one per thread. */
typedef struct gov_sig_cache gov_sig_cache;
gov_sig_cache *gov_sig_cache_new(uint32_t entries); /* NULL when out of memory */
void gov_sig_cache_free(gov_sig_cache *cache);
uint64_t gov_sig_cache_hits(const gov_sig_cache *cache);

/* The validators as consensus sees them: index order of genesis. Borrowed keys. */
typedef struct {
    gov_suite suite;
    gov_hash chain_id;
    uint32_t count;
    gov_public_key *const *keys;
    gov_sig_cache *cache; /* optional */
} gov_validator_set;

/* f and q of govchain/quorum.h for this set. */
uint32_t gov_validator_set_faults(const gov_validator_set *set);
uint32_t gov_validator_set_quorum(const gov_validator_set *set);

typedef struct {
    uint32_t validator;
    uint8_t signature[GOV_SIGNATURE_LEN];
} gov_vote_signature;

/* C(v, h, d): q COMMIT signatures from distinct validators. */
typedef struct {
    uint64_t view;
    uint64_t height;
    gov_hash digest;
    uint32_t votes_count;
    gov_vote_signature votes[GOV_VALIDATORS_MAX];
} gov_commit_cert;

/* P(v, h, d): the primary's PRE-PREPARE signature and q - 1 PREPARE signatures from
 * distinct validators other than the primary (2f when n = 3f + 1; govchain/quorum.h
 * says why not 2f otherwise). */
typedef struct {
    uint64_t view;
    uint64_t height;
    gov_hash digest;
    uint8_t pre_prepare_signature[GOV_SIGNATURE_LEN]; /* by primary(view) = view mod n */
    uint32_t prepares_count;
    gov_vote_signature prepares[GOV_VALIDATORS_MAX];
} gov_prepared_cert;

/* PRE-PREPARE, PREPARE, COMMIT. */
typedef struct {
    uint64_t view;
    uint64_t height;
    uint32_t sender;
    gov_hash digest;
    uint8_t signature[GOV_SIGNATURE_LEN];
    uint8_t *block; /* PRE-PREPARE only; owned */
    size_t block_len;
} gov_pbft_phase;

typedef struct {
    uint64_t new_view;
    uint32_t sender;
    uint64_t committed_height;
    bool has_commit_cert; /* false only when committed_height is 0 (genesis) */
    gov_commit_cert commit_cert;
    bool has_prepared_cert;
    gov_prepared_cert prepared_cert;
    uint8_t signature[GOV_SIGNATURE_LEN];
} gov_pbft_view_change;

typedef struct gov_pbft_message gov_pbft_message;

typedef struct {
    uint64_t view;
    uint32_t sender;
    uint32_t view_changes_count;
    gov_pbft_view_change *view_changes; /* owned */
    gov_pbft_message *pre_prepare;      /* owned; NULL when O is empty */
    uint8_t signature[GOV_SIGNATURE_LEN];
} gov_pbft_new_view;

typedef struct {
    gov_pbft_request_kind kind;
    uint64_t height;
    bool has_digest; /* kind 3 only */
    gov_hash digest;
} gov_pbft_request;

typedef struct {
    uint64_t height;
    uint8_t *block; /* owned */
    size_t block_len;
    gov_commit_cert cert;
} gov_pbft_block;

struct gov_pbft_message {
    gov_pbft_type type;
    union {
        gov_pbft_phase phase; /* PRE-PREPARE, PREPARE, COMMIT */
        gov_pbft_view_change view_change;
        gov_pbft_new_view new_view;
        gov_pbft_request request;
        gov_pbft_block block;
    } body;
};

const char *gov_pbft_type_name(gov_pbft_type type); /* "pre-prepare", ...; NULL */

void gov_pbft_message_clear(gov_pbft_message *message);

int gov_pbft_message_encode(const gov_pbft_message *message, gov_buf *out);
int gov_pbft_message_decode(const uint8_t *data, size_t len, gov_pbft_message *out, char *why,
                            size_t why_len);

int gov_commit_cert_encode(const gov_commit_cert *cert, gov_buf *out);
int gov_commit_cert_decode(const uint8_t *data, size_t len, gov_commit_cert *out, char *why,
                           size_t why_len);
void gov_commit_cert_encode_into(const gov_commit_cert *cert, gov_buf *out);
bool gov_commit_cert_decode_from(gov_dec *dec, const char *field, gov_commit_cert *out);
void gov_prepared_cert_encode_into(const gov_prepared_cert *cert, gov_buf *out);
bool gov_prepared_cert_decode_from(gov_dec *dec, gov_prepared_cert *out);

/* Whether a message type carries a signature (types 1 to 5). */
bool gov_pbft_type_signed(gov_pbft_type type);

/* Signs / verifies a message as its sender (sets / checks the message's signature).
 * A PRE-PREPARE's block bytes are covered only through the digest: they are not
 * authenticated until the receiver has checked that the block's hash is the digest. */
int gov_pbft_message_sign(gov_pbft_message *message, const gov_private_key *key,
                          const gov_hash *chain_id);
bool gov_pbft_message_signature_valid(const gov_pbft_message *message,
                                      const gov_validator_set *set);

/* Checks C against the validator set: at least a quorum of distinct known validators,
 * each signature a valid COMMIT(view, height, digest). 0, or GOV_EBADSIG / GOV_EINVAL
 * with the reason in why[]. */
int gov_commit_cert_verify(const gov_commit_cert *cert, const gov_validator_set *set, char *why,
                           size_t why_len);
/* Checks P: the primary of cert->view signed the PRE-PREPARE and q - 1 other distinct
 * validators signed matching PREPAREs. */
int gov_prepared_cert_verify(const gov_prepared_cert *cert, const gov_validator_set *set, char *why,
                             size_t why_len);

/* Evidence that a validator equivocated: its signatures over two messages of one type
 * (PRE-PREPARE, PREPARE or COMMIT), view and height with different digests. An honest
 * validator never signs such a pair, so the pair proves a fault to anyone holding the
 * genesis validator set, with nothing else (docs/consensus.md). Encoded as
 * [type, view, height, validator, digest_a, signature_a, digest_b, signature_b]. */
typedef struct {
    gov_pbft_type type;
    uint64_t view;
    uint64_t height;
    uint32_t validator;
    gov_hash digests[2];
    uint8_t signatures[2][GOV_SIGNATURE_LEN];
} gov_equivocation;

int gov_equivocation_encode(const gov_equivocation *evidence, gov_buf *out);
int gov_equivocation_decode(const uint8_t *data, size_t len, gov_equivocation *out, char *why,
                            size_t why_len);
/* 0 when the evidence proves equivocation: a phase type, a known validator, two
 * different digests, and both signatures valid for (type, view, height, validator,
 * digest). GOV_EINVAL / GOV_EBADSIG with the reason in why[] otherwise. */
int gov_equivocation_verify(const gov_equivocation *evidence, const gov_validator_set *set,
                            char *why, size_t why_len);

#endif
