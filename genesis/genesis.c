/*
 * The parsed genesis: its lifetime, its canonical encoding and hashes, lookups and the
 * quorum arithmetic. Parsing and validation of the JSON form are in genesis_json.c.
 *
 * Canonical encoding (govchain/genesis.h has the shape). Enumerations are encoded as
 * their numeric values, never as their JSON names: the suite as gov_suite (1 for
 * p256-sha256, 2 for sm2-sm3), the roles as a gov_role bit set and the document class
 * as gov_doc_class (1 certificate, 2 approval). Cross references (issued document
 * types, recognising departments, validators' departments) are encoded as the ids they
 * refer to rather than as indexes, so that a reader of the encoding needs no lookup.
 */
#include "genesis/genesis_internal.h"

#include <stdlib.h>
#include <string.h>

#include "govchain/canon.h"
#include "govchain/error.h"
#include "govchain/quorum.h"

void gov_genesis_free(gov_genesis *genesis)
{
    if (genesis == NULL) {
        return;
    }
    /* The parser may give up half-way: the arrays are zeroed when allocated, so every
     * pointer not yet filled is NULL and every count covers only allocated slots. */
    if (genesis->departments != NULL) {
        for (uint32_t i = 0; i < genesis->departments_count; i++) {
            gov_genesis_department *department = &genesis->departments[i];
            free(department->issues);
            for (uint32_t k = 0; k < GOV_DEPARTMENT_KEYS_MAX; k++) {
                if (department->parsed_keys[k] != NULL) {
                    gov_public_key_free(department->parsed_keys[k]);
                }
            }
        }
        free(genesis->departments);
    }
    if (genesis->doc_types != NULL) {
        for (uint32_t i = 0; i < genesis->doc_types_count; i++) {
            free(genesis->doc_types[i].recognisers);
        }
        free(genesis->doc_types);
    }
    if (genesis->validators != NULL) {
        for (uint32_t i = 0; i < genesis->validators_count; i++) {
            if (genesis->validators[i].parsed_key != NULL) {
                gov_public_key_free(genesis->validators[i].parsed_key);
            }
        }
        free(genesis->validators);
    }
    free(genesis);
}

/* [[department id, public key] ...]: also hashed alone as the validator-set hash. */
static void encode_validators(gov_buf *buf, const gov_genesis *genesis)
{
    gov_enc_array(buf, genesis->validators_count);
    for (uint32_t i = 0; i < genesis->validators_count; i++) {
        const gov_genesis_validator *validator = &genesis->validators[i];
        gov_enc_array(buf, 2);
        gov_enc_cstr(buf, genesis->departments[validator->department].id);
        gov_enc_bin(buf, validator->public_key, GOV_PUBLIC_KEY_LEN);
    }
}

static void encode_consensus(gov_buf *buf, const gov_consensus_params *consensus)
{
    gov_enc_array(buf, 5);
    gov_enc_uint(buf, consensus->view_timeout_ms);
    gov_enc_uint(buf, consensus->view_timeout_max_ms);
    gov_enc_uint(buf, consensus->block_txs_max);
    gov_enc_uint(buf, consensus->block_bytes_max);
    gov_enc_uint(buf, consensus->clock_skew_ms);
}

static void encode_departments(gov_buf *buf, const gov_genesis *genesis)
{
    gov_enc_array(buf, genesis->departments_count);
    for (uint32_t i = 0; i < genesis->departments_count; i++) {
        const gov_genesis_department *department = &genesis->departments[i];
        gov_enc_array(buf, 5);
        gov_enc_cstr(buf, department->id);
        gov_enc_cstr(buf, department->name);
        gov_enc_uint(buf, department->roles);
        gov_enc_array(buf, department->issues_count);
        for (uint32_t k = 0; k < department->issues_count; k++) {
            gov_enc_cstr(buf, genesis->doc_types[department->issues[k]].id);
        }
        gov_enc_array(buf, department->keys_count);
        for (uint32_t k = 0; k < department->keys_count; k++) {
            gov_enc_bin(buf, department->keys[k], GOV_PUBLIC_KEY_LEN);
        }
    }
}

static void encode_doc_types(gov_buf *buf, const gov_genesis *genesis)
{
    gov_enc_array(buf, genesis->doc_types_count);
    for (uint32_t i = 0; i < genesis->doc_types_count; i++) {
        const gov_genesis_doc_type *doc_type = &genesis->doc_types[i];
        gov_enc_array(buf, 4);
        gov_enc_cstr(buf, doc_type->id);
        gov_enc_uint(buf, (uint64_t)doc_type->doc_class);
        gov_enc_array(buf, doc_type->recognisers_count);
        for (uint32_t k = 0; k < doc_type->recognisers_count; k++) {
            gov_enc_cstr(buf, genesis->departments[doc_type->recognisers[k]].id);
        }
        gov_enc_uint(buf, doc_type->endorsements_required);
    }
}

static void encode_genesis(gov_buf *buf, const gov_genesis *genesis)
{
    gov_enc_array(buf, 8);
    gov_enc_uint(buf, genesis->version);
    gov_enc_cstr(buf, genesis->chain_name);
    gov_enc_uint(buf, (uint64_t)genesis->suite);
    gov_enc_uint(buf, genesis->genesis_time_ms);
    encode_consensus(buf, &genesis->consensus);
    encode_departments(buf, genesis);
    encode_doc_types(buf, genesis);
    encode_validators(buf, genesis);
}

int gov_genesis_encode(const gov_genesis *genesis, uint8_t **out, size_t *len)
{
    if (genesis == NULL || out == NULL || len == NULL) {
        return GOV_EINVAL;
    }
    gov_buf buf;
    gov_buf_init(&buf);
    encode_genesis(&buf, genesis);
    if (!gov_buf_ok(&buf)) {
        gov_buf_free(&buf);
        return GOV_ENOMEM;
    }
    /* The buffer's storage passes to the caller, who frees it with free(). */
    *out = buf.data;
    *len = buf.len;
    return 0;
}

int gov_genesis_compute_hashes(gov_genesis *genesis)
{
    gov_buf buf;
    gov_buf_init(&buf);
    encode_genesis(&buf, genesis);
    if (!gov_buf_ok(&buf)) {
        gov_buf_free(&buf);
        return GOV_ENOMEM;
    }
    if (buf.len > GOV_GENESIS_BYTES_MAX) {
        gov_buf_free(&buf);
        return GOV_ELIMIT;
    }
    gov_hash_bytes(genesis->suite, buf.data, buf.len, &genesis->hash);

    gov_buf_reset(&buf);
    encode_validators(&buf, genesis);
    if (!gov_buf_ok(&buf)) {
        gov_buf_free(&buf);
        return GOV_ENOMEM;
    }
    gov_hash_bytes(genesis->suite, buf.data, buf.len, &genesis->validators_hash);
    gov_buf_free(&buf);
    return 0;
}

int gov_genesis_department_index(const gov_genesis *genesis, const char *id)
{
    for (uint32_t i = 0; i < genesis->departments_count; i++) {
        if (strcmp(genesis->departments[i].id, id) == 0) {
            return (int)i;
        }
    }
    return -1;
}

int gov_genesis_doc_type_index(const gov_genesis *genesis, const char *id)
{
    for (uint32_t i = 0; i < genesis->doc_types_count; i++) {
        if (strcmp(genesis->doc_types[i].id, id) == 0) {
            return (int)i;
        }
    }
    return -1;
}

uint32_t gov_genesis_faults_tolerated(const gov_genesis *genesis)
{
    return gov_quorum_faults(genesis->validators_count);
}

uint32_t gov_genesis_quorum(const gov_genesis *genesis)
{
    return gov_quorum_size(genesis->validators_count);
}

static const struct {
    gov_role role;
    const char *name;
} role_names[] = {
    {GOV_ROLE_ISSUER, "issuer"},
    {GOV_ROLE_ENDORSER, "endorser"},
    {GOV_ROLE_REGULATOR, "regulator"},
};

const char *gov_role_name(gov_role role)
{
    for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++) {
        if (role_names[i].role == role) {
            return role_names[i].name;
        }
    }
    return NULL;
}

int gov_role_parse(const char *name, gov_role *out)
{
    for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++) {
        if (strcmp(role_names[i].name, name) == 0) {
            *out = role_names[i].role;
            return 0;
        }
    }
    return GOV_EINVAL;
}

const char *gov_doc_class_name(gov_doc_class doc_class)
{
    switch (doc_class) {
    case GOV_DOC_CLASS_CERTIFICATE:
        return "certificate";
    case GOV_DOC_CLASS_APPROVAL:
        return "approval";
    }
    return NULL;
}

int gov_doc_class_parse(const char *name, gov_doc_class *out)
{
    if (strcmp(name, "certificate") == 0) {
        *out = GOV_DOC_CLASS_CERTIFICATE;
        return 0;
    }
    if (strcmp(name, "approval") == 0) {
        *out = GOV_DOC_CLASS_APPROVAL;
        return 0;
    }
    return GOV_EINVAL;
}

bool gov_id_valid(const char *id, size_t len)
{
    if (id == NULL || len == 0 || len > GOV_ID_LEN_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        bool alphanumeric = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alphanumeric && (i == 0 || (c != '.' && c != '_' && c != '-'))) {
            return false;
        }
    }
    return true;
}
