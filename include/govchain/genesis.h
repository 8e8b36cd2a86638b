/*
 * govchain genesis: the document that founds a chain. It fixes the signature suite,
 * the consensus parameters, the departments (roles, the document types each may issue,
 * their signing keys), the validators (department and node public key, in index
 * order) and the recognition agreements (per document type: which departments
 * recognise it and how many of their endorsements make a document "recognised").
 *
 * Genesis is written as JSON (docs/formats.md, genesis/examples/). Members whose name
 * starts with "//" are comments and are ignored; any other unknown member is an error.
 * gov_genesis_parse() validates everything and reports the first problem with its
 * JSON path, e.g. `departments[1].id: duplicate department id "tax"`.
 *
 * The genesis hash is the suite's hash of the canonical encoding (govchain/canon.h):
 *   [version, chain_name, suite, genesis_time_ms,
 *    [view_timeout_ms, view_timeout_max_ms, block_txs_max, block_bytes_max, clock_skew_ms],
 *    [[id, name, roles, [issued doc type ids], [public keys]] ...],
 *    [[id, class, [recognising department ids], endorsements_required] ...],
 *    [[department id, public key] ...]]
 * with roles as a bit set and keys as 65-byte bin. JSON whitespace, member order and
 * comments do not change it; array order does (it is content: validator indexes).
 * The genesis hash is the chain id that every signature covers.
 *
 * A parsed gov_genesis is immutable and owned by the caller (gov_genesis_free). Index
 * fields refer to the arrays of the same genesis. Pure: parsing works on a buffer.
 */
#ifndef GOVCHAIN_GENESIS_H
#define GOVCHAIN_GENESIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "govchain/crypto.h"
#include "govchain/limits.h"

#define GOV_GENESIS_VERSION 1

typedef enum {
    GOV_ROLE_ISSUER = 1u << 0,    /* may ISSUE the document types it lists */
    GOV_ROLE_ENDORSER = 1u << 1,  /* may ENDORSE (recognise) other departments' documents */
    GOV_ROLE_REGULATOR = 1u << 2, /* may REVOKE any document */
} gov_role;
#define GOV_ROLES_ALL (GOV_ROLE_ISSUER | GOV_ROLE_ENDORSER | GOV_ROLE_REGULATOR)

typedef enum {
    GOV_DOC_CLASS_CERTIFICATE = 1,
    GOV_DOC_CLASS_APPROVAL = 2,
} gov_doc_class;

typedef struct {
    uint64_t view_timeout_ms;     /* first view's timeout; doubles per failed view */
    uint64_t view_timeout_max_ms; /* cap of the doubling */
    uint32_t block_txs_max;       /* <= GOV_BLOCK_TXS_MAX */
    uint32_t block_bytes_max;     /* <= GOV_BLOCK_BYTES_MAX */
    uint64_t clock_skew_ms;       /* tolerated difference between block and local time */
} gov_consensus_params;

typedef struct {
    char id[GOV_ID_LEN_MAX + 1];
    char name[GOV_NAME_LEN_MAX + 1];
    uint32_t roles; /* gov_role bits */
    uint32_t issues_count;
    uint32_t *issues; /* indexes into gov_genesis.doc_types */
    uint32_t keys_count;
    uint8_t keys[GOV_DEPARTMENT_KEYS_MAX][GOV_PUBLIC_KEY_LEN];
    gov_public_key *parsed_keys[GOV_DEPARTMENT_KEYS_MAX];
} gov_genesis_department;

typedef struct {
    char id[GOV_ID_LEN_MAX + 1];
    gov_doc_class doc_class;
    uint32_t recognisers_count;
    uint32_t *recognisers; /* indexes into gov_genesis.departments */
    uint32_t endorsements_required;
} gov_genesis_doc_type;

typedef struct {
    uint32_t department; /* index into gov_genesis.departments */
    uint8_t public_key[GOV_PUBLIC_KEY_LEN];
    gov_public_key *parsed_key;
} gov_genesis_validator;

typedef struct gov_genesis {
    uint32_t version;
    char chain_name[GOV_CHAIN_NAME_LEN_MAX + 1];
    gov_suite suite;
    uint64_t genesis_time_ms;
    gov_consensus_params consensus;
    uint32_t departments_count;
    gov_genesis_department *departments;
    uint32_t doc_types_count;
    gov_genesis_doc_type *doc_types;
    uint32_t validators_count;
    gov_genesis_validator *validators;
    gov_hash hash;            /* the chain id */
    gov_hash validators_hash; /* hash of the canonical encoding of the validator list */
} gov_genesis;

/* Parses and validates genesis JSON. On failure returns GOV_EJSON (not JSON),
 * GOV_EGENESIS (a rule broken) or GOV_ELIMIT (too large), with the JSON path and
 * the reason in why[]. */
int gov_genesis_parse(const char *json, size_t len, gov_genesis **out, char *why, size_t why_len);
void gov_genesis_free(gov_genesis *genesis);

/* Canonical encoding (see above) into a new heap buffer owned by the caller. */
int gov_genesis_encode(const gov_genesis *genesis, uint8_t **out, size_t *len);

/* Lookups; -1 when absent. */
int gov_genesis_department_index(const gov_genesis *genesis, const char *id);
int gov_genesis_doc_type_index(const gov_genesis *genesis, const char *id);

/* n, f = floor((n - 1) / 3) and the quorum q = ceil((n + f + 1) / 2) (2f + 1 when
 * n = 3f + 1). */
uint32_t gov_genesis_faults_tolerated(const gov_genesis *genesis);
uint32_t gov_genesis_quorum(const gov_genesis *genesis);

/* Names for roles and classes as used in JSON; NULL / -1 when unknown. */
const char *gov_role_name(gov_role role);
int gov_role_parse(const char *name, gov_role *out);
const char *gov_doc_class_name(gov_doc_class doc_class);
int gov_doc_class_parse(const char *name, gov_doc_class *out);

/* True when id is 1..GOV_ID_LEN_MAX bytes of [a-z0-9._-] starting with [a-z0-9]. */
bool gov_id_valid(const char *id, size_t len);

#endif
