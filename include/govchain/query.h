/*
 * govchain ledger queries: what a department, an auditor or a citizen's page asks of the
 * committed ledger (DESIGN §4, §9). Each query reads the store entries the ledger writes
 * (govchain/state.h, govchain/ledger.h) and nothing else; docs/queries.md says which
 * entries each one reads and what it costs.
 *
 *   gov_query_doc               a document's current state            'D'
 *   gov_query_doc_history       every change of a document, in order  'Y'
 *   gov_query_doc_at            a document's state as of a height     'Y'
 *   gov_query_tx                a transaction by id, with its block   'T', then 'B'
 *   gov_query_docs_by_subject   documents of a subject reference      'S'
 *   gov_query_department_txs    what a department did, by height      'I'
 * Blocks by height are gov_ledger_block_get (govchain/ledger.h).
 *
 * Only applied transactions enter a block (rejected ones are dropped when the block is
 * built, and a block that holds one does not validate), so every transaction a query
 * finds was applied: there is no "result" to report besides its position.
 *
 * Pages. Lists come in pages bounded by the caller's limit (at least 1): out[] has room
 * for `limit` entries, page->count says how many were written and page->more whether
 * entries are left after them. The next page starts after the last entry returned:
 * pass its doc hash or its position as `after` (NULL: from the first). A page is read in
 * one pass over the store; pages read at different times may see blocks committed in
 * between, which only ever append (entries never move or disappear).
 *
 * Queries change nothing. They take the ledger as const except gov_query_tx, which
 * reads a block through gov_ledger_block_get. Not thread-safe, like the ledger.
 *
 * Functions return 0, GOV_ENOENT (named in each comment), GOV_EINVAL for a bad
 * argument, or another negative GOV_E* code with the reason in why[] (may be NULL). A
 * stored entry that does not decode, or that contradicts the entries that refer to it,
 * means the store is corrupted: GOV_EIO, and the node should stop (DESIGN §5).
 * Outputs owned by the caller are named in each comment; on failure they are left
 * cleared.
 */
#ifndef GOVCHAIN_QUERY_H
#define GOVCHAIN_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "govchain/block.h"
#include "govchain/crypto.h"
#include "govchain/ledger.h"
#include "govchain/state.h"

/* What a change in a document's history was. */
typedef enum {
    GOV_QUERY_CHANGE_ISSUED = 1,
    GOV_QUERY_CHANGE_ENDORSED = 2,
    GOV_QUERY_CHANGE_REVOKED = 3,
    GOV_QUERY_CHANGE_SUPERSEDED = 4, /* the successor's ISSUE */
} gov_query_change_kind;

/* "issued", "endorsed", "revoked", "superseded"; NULL for anything else. */
const char *gov_query_change_name(gov_query_change_kind kind);

/* One entry of a document's history: the transaction that changed it and the state it
 * left. */
typedef struct {
    gov_ledger_position at;
    gov_query_change_kind kind;
    gov_doc_state state; /* owned: gov_query_doc_change_clear */
} gov_query_doc_change;

void gov_query_doc_change_clear(gov_query_doc_change *change);

typedef struct {
    uint32_t count; /* entries written to out[] */
    bool more;      /* entries are left after them */
} gov_query_page;

/* The current state of doc_hash (owned by the caller: gov_doc_state_clear); 0 with
 * *found false when it was never issued. Expiry and recognition follow from it
 * (gov_doc_expired, gov_doc_recognised). */
int gov_query_doc(const gov_ledger *ledger, const gov_hash *doc_hash, gov_doc_state *state,
                  bool *found, char *why, size_t why_len);

/* The changes of doc_hash in the order they were made, after position `after` (only its
 * height and index are read; NULL: from the issue). Each out[i] is the caller's to clear
 * with gov_query_doc_change_clear. A document never issued has an empty history. */
int gov_query_doc_history(const gov_ledger *ledger, const gov_hash *doc_hash,
                          const gov_ledger_position *after, uint32_t limit,
                          gov_query_doc_change *out, gov_query_page *page, char *why,
                          size_t why_len);

/* The state of doc_hash after block `height` was committed, and the change that made it
 * (the caller's: gov_query_doc_change_clear). 0 with *found false when the document was
 * not issued by then; GOV_ENOENT when height is above the head. Expiry as of that
 * height is gov_doc_expired at that block's time. */
int gov_query_doc_at(const gov_ledger *ledger, const gov_hash *doc_hash, uint64_t height,
                     gov_query_doc_change *change, bool *found, char *why, size_t why_len);

/* The transaction tx_id (a deep copy, the caller's: gov_tx_clear), where it is, and the
 * header of its block (header may be NULL). GOV_ENOENT when no applied transaction has
 * that id. */
int gov_query_tx(gov_ledger *ledger, const gov_hash *tx_id, gov_tx *tx, gov_ledger_position *at,
                 gov_block_header *header, char *why, size_t why_len);

/* Hashes of the documents issued for subject_ref, in ascending order of doc hash (not of
 * issue), after doc hash `after` (NULL: from the first). */
int gov_query_docs_by_subject(const gov_ledger *ledger, const gov_hash *subject_ref,
                              const gov_hash *after, uint32_t limit, gov_hash *out,
                              gov_query_page *page, char *why, size_t why_len);

/* The transactions that department sent, in blocks from_height .. to_height (both
 * included), in chain order, after position `after` (only its height and index are read;
 * NULL: from the start of the range). GOV_ENOENT when genesis has no such department;
 * GOV_EINVAL when from_height > to_height. */
int gov_query_department_txs(const gov_ledger *ledger, const char *department, uint64_t from_height,
                             uint64_t to_height, const gov_ledger_position *after, uint32_t limit,
                             gov_ledger_position *out, gov_query_page *page, char *why,
                             size_t why_len);

#endif
