/*
 * A small chain for tests that need signed transactions and committed blocks: a genesis
 * whose department and validator private keys the test holds.
 *
 *   departments: market (issuer, endorser; issues "licence", a certificate recognised
 *                by tax and police, 2 endorsements required), tax (endorser), police
 *                (issuer, endorser; issues "residence"), audit (regulator)
 *   validators:  4, one per department, keys in chain.validators[]
 */
#ifndef GOVCHAIN_TEST_CHAIN_H
#define GOVCHAIN_TEST_CHAIN_H

#include "govchain/block.h"
#include "govchain/genesis.h"
#include "govchain/ledger.h"
#include "govchain/messages.h"

enum { CHAIN_MARKET, CHAIN_TAX, CHAIN_POLICE, CHAIN_AUDIT, CHAIN_DEPARTMENTS };
enum { CHAIN_VALIDATORS = 4, CHAIN_GENESIS_TIME_MS = 1000000 };

typedef struct {
    gov_private_key *departments[CHAIN_DEPARTMENTS];
    gov_private_key *validators[CHAIN_VALIDATORS];
    gov_genesis *genesis;
    char *genesis_json; /* the genesis file's text */
    uint64_t nonce;
} test_chain;

/* Creates keys and the genesis (suite p256-sha256); fails the test on any error. */
void test_chain_init(test_chain *chain);
void test_chain_free(test_chain *chain);

/* A signed ISSUE of a licence (market) for doc_hash; ENDORSE / REVOKE of doc_hash by a
 * department. Each call uses a fresh nonce, so two calls never give the same tx. */
void test_chain_issue(test_chain *chain, const gov_hash *doc_hash, uint64_t created_ms,
                      gov_tx *out);
void test_chain_remark(test_chain *chain, gov_tx_kind kind, int department,
                       const gov_hash *doc_hash, uint64_t created_ms, gov_tx *out);

/* A commit certificate for block (view 0) signed by the first `votes` validators. */
void test_chain_certify(test_chain *chain, const gov_block *block, uint32_t votes,
                        gov_commit_cert *cert);

/* Builds a block of txs at time_ms on ledger, certifies it with a quorum and commits it;
 * every tx must be applied. */
void test_chain_commit(test_chain *chain, gov_ledger *ledger, const gov_tx *txs, uint32_t count,
                       uint64_t time_ms);

#endif
