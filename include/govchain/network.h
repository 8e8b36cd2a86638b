/*
 * govchain network creation: the keys and the genesis of a new network of departments,
 * in memory, for a demonstration network, benchmarks and tests (DESIGN §1: genesis/
 * creates networks). Writing the keys and the genesis to files is the caller's job.
 *
 * A network of n validators (4 <= n <= 64) has one department per validator node and one
 * regulator without a node:
 *
 *   market-regulation     issuer, endorser   issues business-licence
 *   tax                   issuer, endorser   issues tax-registration
 *   public-security       issuer, endorser   issues residence-permit
 *   housing-construction  issuer, endorser   issues construction-permit (approval)
 *   department-5 ... n    endorser
 *   audit-office          regulator (no node)
 *
 * with the recognition agreements: business-licence by tax and public-security (2
 * needed), tax-registration by market-regulation (1), residence-permit by
 * market-regulation and housing-construction (1), construction-permit by
 * market-regulation and public-security (2).
 *
 * Key generation draws randomness: that is the only effect. Functions return 0 or a
 * negative GOV_E* code with the reason in why[].
 */
#ifndef GOVCHAIN_NETWORK_H
#define GOVCHAIN_NETWORK_H

#include <stddef.h>
#include <stdint.h>

#include "govchain/crypto.h"
#include "govchain/genesis.h"

typedef struct {
    char *genesis_json; /* the genesis file's text (owned) */
    gov_genesis *genesis;
    uint32_t departments_count;        /* validators + 1 (the regulator) */
    gov_private_key **department_keys; /* each department's signing key (index 0) */
    uint32_t validators_count;
    gov_private_key **validator_keys; /* each validator node's key */
} gov_network;

int gov_network_create(gov_suite suite, uint32_t validators, uint64_t genesis_time_ms,
                       const char *chain_name, gov_network **out, char *why, size_t why_len);
void gov_network_free(gov_network *network);

#endif
