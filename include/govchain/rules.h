/*
 * govchain record rules: whether a transaction may be applied to the ledger state, and
 * what applying it changes (DESIGN §4). Pure and deterministic: the outcome depends only
 * on the genesis, the state, the block's height and time, and the transaction, so every
 * honest node reaches the same state.
 *
 * A transaction is either applied whole or rejected with one stable reason (a code for
 * programs, a sentence for people); a rejected transaction changes nothing. Checks run
 * in a fixed order, so the reason reported is also deterministic:
 *
 *   every kind: wrong_chain, unknown_department, unknown_key, bad_signature,
 *               clock_skew, duplicate_tx
 *   ISSUE:      role_missing, unknown_doc_type, doc_type_not_permitted, wrong_class,
 *               bad_validity, doc_exists, then for a supersede: supersedes_self,
 *               unknown_document, not_issuer, not_valid, expired
 *   ENDORSE:    role_missing, unknown_document, own_document, not_valid, expired,
 *               already_endorsed
 *   REVOKE:     unknown_document, not_issuer, already_revoked
 *
 * Functions return 0 (with the verdict in *result) or a negative GOV_E* code when the
 * store fails, which is not a verdict on the transaction.
 */
#ifndef GOVCHAIN_RULES_H
#define GOVCHAIN_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "govchain/block.h"
#include "govchain/genesis.h"
#include "govchain/state.h"

/* X(name, code, message): the stable reason codes. */
#define GOV_REJECT_MAP(X)                                                                    \
    X(WRONG_CHAIN, "wrong_chain", "the transaction is for another chain")                    \
    X(UNKNOWN_DEPARTMENT, "unknown_department", "the sending department is not in genesis")  \
    X(UNKNOWN_KEY, "unknown_key", "the signing key is not one of the department's keys")     \
    X(BAD_SIGNATURE, "bad_signature", "the signature does not verify")                       \
    X(CLOCK_SKEW, "clock_skew",                                                              \
      "the transaction was created after the block's time "                                  \
      "plus the allowed clock skew")                                                         \
    X(DUPLICATE_TX, "duplicate_tx", "the transaction is already on the ledger")              \
    X(ROLE_MISSING, "role_missing", "the department lacks the role this needs")              \
    X(UNKNOWN_DOC_TYPE, "unknown_doc_type", "the document type is not in genesis")           \
    X(DOC_TYPE_NOT_PERMITTED, "doc_type_not_permitted",                                      \
      "the department may not issue this document type")                                     \
    X(WRONG_CLASS, "wrong_class", "the class differs from the document type's class")        \
    X(BAD_VALIDITY, "bad_validity", "valid_until is not after valid_from")                   \
    X(DOC_EXISTS, "doc_exists", "a document with this hash was already issued")              \
    X(SUPERSEDES_SELF, "supersedes_self", "a document cannot supersede itself")              \
    X(UNKNOWN_DOCUMENT, "unknown_document", "no document with this hash was issued")         \
    X(NOT_ISSUER, "not_issuer", "the department did not issue this document")                \
    X(NOT_VALID, "not_valid", "the document is revoked or superseded")                       \
    X(EXPIRED, "expired", "the document has expired")                                        \
    X(OWN_DOCUMENT, "own_document", "a department cannot endorse its own document")          \
    X(ALREADY_ENDORSED, "already_endorsed", "the department already endorsed this document") \
    X(ALREADY_REVOKED, "already_revoked", "the document is already revoked")

typedef enum {
    GOV_REJECT_NONE = 0,
#define GOV_REJECT_ENUM(name, code, message) GOV_REJECT_##name,
    GOV_REJECT_MAP(GOV_REJECT_ENUM)
#undef GOV_REJECT_ENUM
} gov_reject;

/* "ok" for GOV_REJECT_NONE; NULL for a value that is not a reason. */
const char *gov_reject_code(gov_reject reason);
const char *gov_reject_message(gov_reject reason);

/* The block a transaction is executed in. */
typedef struct {
    uint64_t height;
    uint64_t time_ms;
    /* Set only when the caller verified the transaction's signature itself (with
     * gov_rules_check_signature, e.g. on another thread) and it was valid: execution
     * then skips that one verification, the most expensive step. */
    bool signatures_checked;
} gov_block_context;

/* Checks tx (whose id is tx_id) against the state and, when it is allowed, applies it
 * as the index-th transaction of the block: documents, tree, history and indexes. The
 * verdict goes to *result; GOV_REJECT_NONE means applied. */
int gov_rules_execute(gov_state *state, const gov_block_context *block, uint32_t index,
                      const gov_tx *tx, const gov_hash *tx_id, gov_reject *result, char *why,
                      size_t why_len);

/* The signature-free checks a node can make before a transaction enters its pool:
 * chain, department, key, signature. Stateless. */
gov_reject gov_rules_check_signature(const gov_genesis *genesis, const gov_tx *tx);

#endif
