/*
 * Record rules (DESIGN §4): the checks a transaction must pass and the state changes it
 * makes. Reason codes and their order are in include/govchain/rules.h.
 *
 * Design note. Each kind has one check function that only reads, and one apply
 * function that only writes; gov_rules_execute runs the checks to the end before it
 * writes anything, so a rejected transaction leaves no trace, and the checks' order
 * (cheap and stateless first, then what needs the store) fixes which reason a
 * transaction with several defects gets.
 */
#include "govchain/rules.h"

#include <stdlib.h>
#include <string.h>

#include "govchain/assert.h"
#include "govchain/error.h"

const char *gov_reject_code(gov_reject reason)
{
    switch (reason) {
    case GOV_REJECT_NONE:
        return "ok";
#define GOV_REJECT_CODE(name, code, message) \
    case GOV_REJECT_##name:                  \
        return code;
        GOV_REJECT_MAP(GOV_REJECT_CODE)
#undef GOV_REJECT_CODE
    }
    return NULL;
}

const char *gov_reject_message(gov_reject reason)
{
    switch (reason) {
    case GOV_REJECT_NONE:
        return "applied";
#define GOV_REJECT_MESSAGE(name, code, message) \
    case GOV_REJECT_##name:                     \
        return message;
        GOV_REJECT_MAP(GOV_REJECT_MESSAGE)
#undef GOV_REJECT_MESSAGE
    }
    return NULL;
}

/* The stateless checks; the signature is verified only when verify is set. */
static gov_reject check_sender(const gov_genesis *genesis, const gov_tx *tx, bool verify)
{
    if (!gov_hash_equal(&tx->chain_id, &genesis->hash)) {
        return GOV_REJECT_WRONG_CHAIN;
    }
    int department = gov_genesis_department_index(genesis, tx->department);
    if (department < 0) {
        return GOV_REJECT_UNKNOWN_DEPARTMENT;
    }
    const gov_genesis_department *sender = &genesis->departments[department];
    if (tx->key_index >= sender->keys_count) {
        return GOV_REJECT_UNKNOWN_KEY;
    }
    if (verify && !gov_tx_signature_valid(tx, &genesis->hash, sender->parsed_keys[tx->key_index])) {
        return GOV_REJECT_BAD_SIGNATURE;
    }
    return GOV_REJECT_NONE;
}

gov_reject gov_rules_check_signature(const gov_genesis *genesis, const gov_tx *tx)
{
    return check_sender(genesis, tx, true);
}

static const gov_genesis_department *sender_of(const gov_genesis *genesis, const gov_tx *tx)
{
    int index = gov_genesis_department_index(genesis, tx->department);
    GOV_ASSERT(index >= 0); /* gov_rules_check_signature ran first */
    return &genesis->departments[index];
}

static bool department_issues(const gov_genesis_department *department, uint32_t doc_type)
{
    for (uint32_t i = 0; i < department->issues_count; i++) {
        if (department->issues[i] == doc_type) {
            return true;
        }
    }
    return false;
}

/* Checks ------------------------------------------------------------------------------ */

/* Whether a document may still be acted on at the block's time. */
static gov_reject check_active(const gov_doc_state *doc, const gov_block_context *block)
{
    if (doc->status != GOV_DOC_VALID) {
        return GOV_REJECT_NOT_VALID;
    }
    return gov_doc_expired(doc, block->time_ms) ? GOV_REJECT_EXPIRED : GOV_REJECT_NONE;
}

/* ISSUE. On success, *replaced holds the superseded document when there is one. */
static int check_issue(gov_state *state, const gov_block_context *block, const gov_tx *tx,
                       gov_doc_state *replaced, bool *replacing, gov_reject *result, char *why,
                       size_t why_len)
{
    const gov_genesis *genesis = state->genesis;
    const gov_issue *issue = &tx->payload.issue;
    const gov_genesis_department *sender = sender_of(genesis, tx);
    *replacing = false;
    int type = gov_genesis_doc_type_index(genesis, issue->doc_type);
    if ((sender->roles & GOV_ROLE_ISSUER) == 0) {
        *result = GOV_REJECT_ROLE_MISSING;
    } else if (type < 0) {
        *result = GOV_REJECT_UNKNOWN_DOC_TYPE;
    } else if (!department_issues(sender, (uint32_t)type)) {
        *result = GOV_REJECT_DOC_TYPE_NOT_PERMITTED;
    } else if (genesis->doc_types[type].doc_class != issue->doc_class) {
        *result = GOV_REJECT_WRONG_CLASS;
    } else if (issue->valid_until_ms != 0 && issue->valid_until_ms <= issue->valid_from_ms) {
        *result = GOV_REJECT_BAD_VALIDITY;
    }
    if (*result != GOV_REJECT_NONE) {
        return 0;
    }
    gov_doc_state existing;
    bool found = false;
    int rc = gov_state_doc_get(state, &issue->doc_hash, &existing, &found, why, why_len);
    gov_doc_state_clear(&existing);
    if (rc != 0 || found) {
        *result = found ? GOV_REJECT_DOC_EXISTS : GOV_REJECT_NONE;
        return rc;
    }
    if (!issue->has_supersedes) {
        return 0;
    }
    if (gov_hash_equal(&issue->supersedes, &issue->doc_hash)) {
        *result = GOV_REJECT_SUPERSEDES_SELF;
        return 0;
    }
    rc = gov_state_doc_get(state, &issue->supersedes, replaced, &found, why, why_len);
    if (rc != 0) {
        return rc;
    }
    if (!found) {
        *result = GOV_REJECT_UNKNOWN_DOCUMENT;
    } else if (strcmp(replaced->issuer, sender->id) != 0) {
        *result = GOV_REJECT_NOT_ISSUER;
    } else {
        *result = check_active(replaced, block);
    }
    *replacing = *result == GOV_REJECT_NONE;
    if (!*replacing) {
        gov_doc_state_clear(replaced);
    }
    return 0;
}

static gov_reject check_endorse(const gov_genesis *genesis, const gov_block_context *block,
                                const gov_tx *tx, const gov_doc_state *doc, bool found)
{
    const gov_genesis_department *sender = sender_of(genesis, tx);
    if ((sender->roles & GOV_ROLE_ENDORSER) == 0) {
        return GOV_REJECT_ROLE_MISSING;
    }
    if (!found) {
        return GOV_REJECT_UNKNOWN_DOCUMENT;
    }
    if (strcmp(doc->issuer, sender->id) == 0) {
        return GOV_REJECT_OWN_DOCUMENT;
    }
    gov_reject active = check_active(doc, block);
    if (active != GOV_REJECT_NONE) {
        return active;
    }
    for (uint32_t i = 0; i < doc->endorsements_count; i++) {
        if (strcmp(doc->endorsements[i].department, sender->id) == 0) {
            return GOV_REJECT_ALREADY_ENDORSED;
        }
    }
    return GOV_REJECT_NONE;
}

static gov_reject check_revoke(const gov_genesis *genesis, const gov_tx *tx,
                               const gov_doc_state *doc, bool found)
{
    const gov_genesis_department *sender = sender_of(genesis, tx);
    if (!found) {
        return GOV_REJECT_UNKNOWN_DOCUMENT;
    }
    if (strcmp(doc->issuer, sender->id) != 0 && (sender->roles & GOV_ROLE_REGULATOR) == 0) {
        return GOV_REJECT_NOT_ISSUER;
    }
    return doc->status == GOV_DOC_REVOKED ? GOV_REJECT_ALREADY_REVOKED : GOV_REJECT_NONE;
}

/* Changes ----------------------------------------------------------------------------- */

static int apply_issue(gov_state *state, const gov_tx *tx, const gov_ledger_position *at,
                       gov_doc_state *replaced, bool replacing, char *why, size_t why_len)
{
    const gov_issue *issue = &tx->payload.issue;
    gov_doc_state doc;
    memset(&doc, 0, sizeof(doc));
    doc.doc_hash = issue->doc_hash;
    strcpy(doc.issuer, tx->department);
    doc.doc_class = issue->doc_class;
    strcpy(doc.doc_type, issue->doc_type);
    doc.subject_ref = issue->subject_ref;
    doc.valid_from_ms = issue->valid_from_ms;
    doc.valid_until_ms = issue->valid_until_ms;
    doc.has_supersedes = issue->has_supersedes;
    doc.supersedes = issue->supersedes;
    doc.issued = *at;
    doc.status = GOV_DOC_VALID;
    int rc = gov_state_doc_put(state, &doc, at, why, why_len);
    if (rc == 0) {
        rc = gov_state_subject_put(state, &issue->subject_ref, &issue->doc_hash, why, why_len);
    }
    if (rc == 0 && replacing) {
        replaced->status = GOV_DOC_SUPERSEDED;
        replaced->has_change = true;
        replaced->change = *at;
        strcpy(replaced->changed_by, tx->department);
        replaced->has_superseded_by = true;
        replaced->superseded_by = issue->doc_hash;
        rc = gov_state_doc_put(state, replaced, at, why, why_len);
    }
    return rc;
}

static int apply_endorse(gov_state *state, const gov_tx *tx, const gov_ledger_position *at,
                         gov_doc_state *doc, char *why, size_t why_len)
{
    gov_endorsement *grown =
        realloc(doc->endorsements, (doc->endorsements_count + 1) * sizeof(*grown));
    if (grown == NULL) {
        return GOV_ENOMEM;
    }
    doc->endorsements = grown;
    gov_endorsement *added = &doc->endorsements[doc->endorsements_count++];
    memset(added, 0, sizeof(*added));
    strcpy(added->department, tx->department);
    added->at = *at;
    return gov_state_doc_put(state, doc, at, why, why_len);
}

static int apply_revoke(gov_state *state, const gov_tx *tx, const gov_ledger_position *at,
                        gov_doc_state *doc, char *why, size_t why_len)
{
    doc->status = GOV_DOC_REVOKED;
    doc->has_change = true;
    doc->change = *at;
    strcpy(doc->changed_by, tx->department);
    strcpy(doc->reason, tx->payload.revoke.text);
    return gov_state_doc_put(state, doc, at, why, why_len);
}

/* ENDORSE and REVOKE: both act on an existing document. */
static int execute_on_document(gov_state *state, const gov_block_context *block, const gov_tx *tx,
                               const gov_ledger_position *at, gov_reject *result, char *why,
                               size_t why_len)
{
    const gov_hash *doc_hash =
        tx->kind == GOV_TX_ENDORSE ? &tx->payload.endorse.doc_hash : &tx->payload.revoke.doc_hash;
    gov_doc_state doc;
    bool found = false;
    int rc = gov_state_doc_get(state, doc_hash, &doc, &found, why, why_len);
    if (rc != 0) {
        return rc;
    }
    *result = tx->kind == GOV_TX_ENDORSE ? check_endorse(state->genesis, block, tx, &doc, found)
                                         : check_revoke(state->genesis, tx, &doc, found);
    if (*result == GOV_REJECT_NONE) {
        rc = tx->kind == GOV_TX_ENDORSE ? apply_endorse(state, tx, at, &doc, why, why_len)
                                        : apply_revoke(state, tx, at, &doc, why, why_len);
    }
    gov_doc_state_clear(&doc);
    return rc;
}

int gov_rules_execute(gov_state *state, const gov_block_context *block, uint32_t index,
                      const gov_tx *tx, const gov_hash *tx_id, gov_reject *result, char *why,
                      size_t why_len)
{
    const gov_genesis *genesis = state->genesis;
    *result = check_sender(genesis, tx, !block->signatures_checked);
    if (*result != GOV_REJECT_NONE) {
        return 0;
    }
    if (tx->created_ms > block->time_ms &&
        tx->created_ms - block->time_ms > genesis->consensus.clock_skew_ms) {
        *result = GOV_REJECT_CLOCK_SKEW;
        return 0;
    }
    bool seen = false;
    int rc = gov_state_tx_seen(state, tx_id, &seen, why, why_len);
    if (rc != 0 || seen) {
        *result = seen ? GOV_REJECT_DUPLICATE_TX : GOV_REJECT_NONE;
        return rc;
    }
    gov_ledger_position at = {.height = block->height, .index = index, .tx_id = *tx_id};
    if (tx->kind == GOV_TX_ISSUE) {
        gov_doc_state replaced;
        bool replacing = false;
        memset(&replaced, 0, sizeof(replaced));
        rc = check_issue(state, block, tx, &replaced, &replacing, result, why, why_len);
        if (rc == 0 && *result == GOV_REJECT_NONE) {
            rc = apply_issue(state, tx, &at, &replaced, replacing, why, why_len);
        }
        gov_doc_state_clear(&replaced);
    } else {
        rc = execute_on_document(state, block, tx, &at, result, why, why_len);
    }
    if (rc == 0 && *result == GOV_REJECT_NONE) {
        rc = gov_state_tx_put(state, tx, &at, why, why_len);
    }
    return rc;
}
