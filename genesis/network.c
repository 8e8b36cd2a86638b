/*
 * Network creation (include/govchain/network.h): keys, then the genesis JSON built with
 * jansson, then the genesis parsed back through the one validating parser, so a created
 * network is checked by exactly the rules a hand-written genesis is.
 */
#include "govchain/network.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "govchain/error.h"
#include "govchain/limits.h"

enum { NAMED_DEPARTMENTS = 4 };

static const struct {
    const char *id;
    const char *name;
    const char *issues;
} named[NAMED_DEPARTMENTS] = {
    {"market-regulation", "Market Regulation Administration", "business-licence"},
    {"tax", "Tax Service", "tax-registration"},
    {"public-security", "Public Security Department", "residence-permit"},
    {"housing-construction", "Housing and Urban-Rural Development", "construction-permit"},
};

static const char doc_types[] =
    "[{\"id\": \"business-licence\", \"class\": \"certificate\","
    "  \"recognised_by\": [\"tax\", \"public-security\"], \"endorsements_required\": 2},"
    " {\"id\": \"tax-registration\", \"class\": \"certificate\","
    "  \"recognised_by\": [\"market-regulation\"], \"endorsements_required\": 1},"
    " {\"id\": \"residence-permit\", \"class\": \"certificate\","
    "  \"recognised_by\": [\"market-regulation\", \"housing-construction\"],"
    "  \"endorsements_required\": 1},"
    " {\"id\": \"construction-permit\", \"class\": \"approval\","
    "  \"recognised_by\": [\"market-regulation\", \"public-security\"],"
    "  \"endorsements_required\": 2}]";

static json_t *public_key_json(const gov_private_key *key)
{
    uint8_t bytes[GOV_PUBLIC_KEY_LEN];
    char hex[GOV_PUBLIC_KEY_HEX_LEN + 1];
    gov_private_key_public(key, bytes);
    gov_hex_encode(bytes, sizeof(bytes), hex);
    return json_string(hex);
}

/* Department i of the network: the named four, numbered endorsers, the regulator. */
static json_t *department_json(const gov_network *network, uint32_t i)
{
    char id[GOV_ID_LEN_MAX + 1];
    char name[GOV_NAME_LEN_MAX + 1];
    json_t *keys = json_pack("[o]", public_key_json(network->department_keys[i]));
    if (i < NAMED_DEPARTMENTS) {
        return json_pack("{s:s, s:s, s:[s, s], s:[s], s:o}", "id", named[i].id, "name",
                         named[i].name, "roles", "issuer", "endorser", "issues", named[i].issues,
                         "keys", keys);
    }
    if (i + 1 == network->departments_count) {
        return json_pack("{s:s, s:s, s:[s], s:o}", "id", "audit-office", "name", "Audit Office",
                         "roles", "regulator", "keys", keys);
    }
    snprintf(id, sizeof(id), "department-%u", i + 1);
    snprintf(name, sizeof(name), "Department %u", i + 1);
    return json_pack("{s:s, s:s, s:[s], s:o}", "id", id, "name", name, "roles", "endorser", "keys",
                     keys);
}

static char *genesis_text(const gov_network *network, gov_suite suite, uint64_t genesis_time_ms,
                          const char *chain_name)
{
    json_t *departments = json_array();
    json_t *validators = json_array();
    for (uint32_t i = 0; i < network->departments_count; i++) {
        json_array_append_new(departments, department_json(network, i));
    }
    for (uint32_t i = 0; i < network->validators_count; i++) {
        json_t *department = json_object_get(json_array_get(departments, i), "id");
        json_array_append_new(validators,
                              json_pack("{s:O, s:o}", "department", department, "public_key",
                                        public_key_json(network->validator_keys[i])));
    }
    json_t *root =
        json_pack("{s:i, s:s, s:s, s:I, s:{s:i, s:i, s:i, s:i, s:i}, s:o, s:o, s:o}", "version",
                  GOV_GENESIS_VERSION, "chain_name", chain_name, "suite", gov_suite_name(suite),
                  "genesis_time_ms", (json_int_t)genesis_time_ms, "consensus", "view_timeout_ms",
                  2000, "view_timeout_max_ms", 60000, "block_txs_max", 1000, "block_bytes_max",
                  2 * 1024 * 1024, "clock_skew_ms", 10000, "departments", departments, "doc_types",
                  json_loads(doc_types, 0, NULL), "validators", validators);
    char *text = root != NULL ? json_dumps(root, JSON_INDENT(2)) : NULL;
    json_decref(root);
    return text;
}

static int make_keys(gov_suite suite, uint32_t count, gov_private_key ***out)
{
    *out = calloc(count, sizeof(gov_private_key *));
    if (*out == NULL) {
        return GOV_ENOMEM;
    }
    for (uint32_t i = 0; i < count; i++) {
        int rc = gov_private_key_generate(suite, &(*out)[i]);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int gov_network_create(gov_suite suite, uint32_t validators, uint64_t genesis_time_ms,
                       const char *chain_name, gov_network **out, char *why, size_t why_len)
{
    if (validators < GOV_VALIDATORS_MIN || validators > GOV_VALIDATORS_MAX ||
        !gov_suite_valid(suite)) {
        return gov_fail(why, why_len, GOV_EINVAL,
                        "a network has a known suite and %d to %d validators", GOV_VALIDATORS_MIN,
                        GOV_VALIDATORS_MAX);
    }
    gov_network *network = calloc(1, sizeof(*network));
    if (network == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
    }
    network->validators_count = validators;
    network->departments_count = validators + 1;
    int rc = make_keys(suite, network->departments_count, &network->department_keys);
    if (rc == 0) {
        rc = make_keys(suite, validators, &network->validator_keys);
    }
    if (rc != 0) {
        gov_fail(why, why_len, rc, "cannot create the network's keys: %s", gov_strerror(rc));
    } else if ((network->genesis_json =
                    genesis_text(network, suite, genesis_time_ms, chain_name)) == NULL) {
        rc = gov_fail(why, why_len, GOV_ENOMEM, "cannot write the genesis: out of memory");
    } else {
        rc = gov_genesis_parse(network->genesis_json, strlen(network->genesis_json),
                               &network->genesis, why, why_len);
    }
    if (rc != 0) {
        gov_network_free(network);
        return rc;
    }
    *out = network;
    return 0;
}

void gov_network_free(gov_network *network)
{
    if (network == NULL) {
        return;
    }
    for (uint32_t i = 0; network->department_keys != NULL && i < network->departments_count; i++) {
        gov_private_key_free(network->department_keys[i]);
    }
    for (uint32_t i = 0; network->validator_keys != NULL && i < network->validators_count; i++) {
        gov_private_key_free(network->validator_keys[i]);
    }
    free(network->department_keys);
    free(network->validator_keys);
    gov_genesis_free(network->genesis);
    free(network->genesis_json);
    free(network);
}
