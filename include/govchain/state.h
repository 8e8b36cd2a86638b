/*
 * govchain ledger state: documents and the indexes around them, kept in a gov_kv store
 * and committed to by the sparse Merkle tree of govchain/smt.h.
 *
 * A document's state is what the ledger knows of it: who issued it, its type, class,
 * subject reference and validity window, whether it was revoked or superseded (and by
 * which transaction), and which departments endorsed it. Its canonical encoding
 * (docs/formats.md) is stored under 'D' || doc_hash, and the hash of that encoding is
 * the value the state tree holds for doc_hash: the state root of a block commits to
 * every document's state after that block.
 *
 * Whether a document is *expired* or *recognised* is not stored: it follows from the
 * state, the time asked about, and the genesis (gov_doc_expired, gov_doc_recognised).
 *
 * Every change also writes:
 *   'Y' || doc_hash || height (8 bytes BE) || index (4 bytes BE) -> the state after it
 *        (the document's history, and its status as of any earlier height);
 *   'T' || tx_id -> [height, index]        (each transaction at most once);
 *   'S' || subject_ref || doc_hash -> ""    (documents by subject, on ISSUE);
 *   'I' || department (2 bytes BE) || height (8) || index (4) -> tx_id  (by department).
 *
 * gov_state works on whatever store it is given, normally an overlay (govchain/kv.h),
 * so that executing a block can be thrown away. Functions return 0 or a negative GOV_E*
 * code with detail in why[]; GOV_EIO / GOV_EDECODE from the store mean it is corrupted
 * or failing, and the ledger stops.
 */
#ifndef GOVCHAIN_STATE_H
#define GOVCHAIN_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "govchain/block.h"
#include "govchain/crypto.h"
#include "govchain/genesis.h"
#include "govchain/kv.h"
#include "govchain/smt.h"

#define GOV_DOC_STATE_VERSION 1

typedef enum {
    GOV_DOC_VALID = 1,      /* issued, not revoked or superseded (may still be expired) */
    GOV_DOC_REVOKED = 2,    /* revoked by its issuer or a regulator */
    GOV_DOC_SUPERSEDED = 3, /* replaced by a newer document of its issuer */
} gov_doc_status;

/* Where and by which transaction something happened. */
typedef struct {
    uint64_t height;
    uint32_t index;
    gov_hash tx_id;
} gov_ledger_position;

typedef struct {
    char department[GOV_ID_LEN_MAX + 1];
    gov_ledger_position at;
} gov_endorsement;

typedef struct {
    gov_hash doc_hash;
    char issuer[GOV_ID_LEN_MAX + 1];
    gov_doc_class doc_class;
    char doc_type[GOV_ID_LEN_MAX + 1];
    gov_hash subject_ref;
    uint64_t valid_from_ms;
    uint64_t valid_until_ms; /* 0: no expiry */
    bool has_supersedes;
    gov_hash supersedes;
    gov_ledger_position issued;
    gov_doc_status status;
    /* REVOKED: the revocation; SUPERSEDED: the issue of the successor. */
    bool has_change;
    gov_ledger_position change;
    char changed_by[GOV_ID_LEN_MAX + 1]; /* the revoking department */
    char reason[GOV_NOTE_LEN_MAX + 1];   /* the revocation reason */
    bool has_superseded_by;
    gov_hash superseded_by;
    uint32_t endorsements_count;
    gov_endorsement *endorsements; /* owned; in the order they were made */
} gov_doc_state;

const char *gov_doc_status_name(gov_doc_status status); /* "valid", "revoked", ... */

void gov_doc_state_clear(gov_doc_state *state);
int gov_doc_state_copy(const gov_doc_state *from, gov_doc_state *to);
int gov_doc_state_encode(const gov_doc_state *state, gov_buf *out);
int gov_doc_state_decode(const uint8_t *data, size_t len, gov_doc_state *out, char *why,
                         size_t why_len);
int gov_doc_state_hash(gov_suite suite, const gov_doc_state *state, gov_hash *out);

/* True when the document has an expiry and time_ms is at or after it. */
bool gov_doc_expired(const gov_doc_state *state, uint64_t time_ms);
/* Whether time_ms is before the document's validity starts (valid_from_ms). */
bool gov_doc_not_yet_valid(const gov_doc_state *state, uint64_t time_ms);
/* Endorsements from the departments that the document type's agreement lists, and
 * whether they reach the number it requires (a type that requires none is recognised
 * as issued). */
uint32_t gov_doc_recognising_endorsements(const gov_genesis *genesis, const gov_doc_state *state);
bool gov_doc_recognised(const gov_genesis *genesis, const gov_doc_state *state);

/* A view of the ledger state at one root, over a store. Document states are written
 * to the store at once; their leaves in the state tree are collected and written in one
 * batch by gov_state_flush (a block's changes share most of their paths), which also
 * brings root up to date. Reading documents never needs the tree, so executing later
 * transactions of a block before the flush sees every earlier change. */
typedef struct {
    const gov_genesis *genesis; /* borrowed */
    gov_kv *store;              /* borrowed; normally an overlay */
    gov_smt tree;
    gov_hash root;          /* the state root as of the last flush */
    gov_smt_entry *pending; /* tree changes not yet flushed (owned) */
    size_t pending_count;
    size_t pending_capacity;
} gov_state;

void gov_state_init(gov_state *state, const gov_genesis *genesis, gov_kv *store,
                    const gov_hash *root);
/* Writes the pending tree changes and updates root. */
int gov_state_flush(gov_state *state, char *why, size_t why_len);
/* Frees what the state holds (unflushed changes are dropped). */
void gov_state_clear(gov_state *state);

/* A document's current state: 0 with *found false when it was never issued. */
int gov_state_doc_get(gov_state *state, const gov_hash *doc_hash, gov_doc_state *out, bool *found,
                      char *why, size_t why_len);
/* Records doc's new state, changed at `at`: the 'D' entry and the history entry now,
 * the tree at the next flush. */
int gov_state_doc_put(gov_state *state, const gov_doc_state *doc, const gov_ledger_position *at,
                      char *why, size_t why_len);
/* Whether a transaction id is already on the ledger (or earlier in this block). */
int gov_state_tx_seen(gov_state *state, const gov_hash *tx_id, bool *seen, char *why,
                      size_t why_len);
/* Records a transaction as applied: 'T' and 'I' entries. */
int gov_state_tx_put(gov_state *state, const gov_tx *tx, const gov_ledger_position *at, char *why,
                     size_t why_len);
/* The subject index entry for a newly issued document. */
int gov_state_subject_put(gov_state *state, const gov_hash *subject_ref, const gov_hash *doc_hash,
                          char *why, size_t why_len);

#endif
