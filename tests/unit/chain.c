/* A small chain for tests (see chain.h). */
#include "tests/unit/chain.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "govchain/crypto.h"
#include "govchain/quorum.h"

static const char *const department_ids[CHAIN_DEPARTMENTS] = {"market", "tax", "police", "audit"};

static json_t *public_hex(gov_private_key *key)
{
    uint8_t bytes[GOV_PUBLIC_KEY_LEN];
    char hex[GOV_PUBLIC_KEY_HEX_LEN + 1];
    gov_private_key_public(key, bytes);
    gov_hex_encode(bytes, sizeof(bytes), hex);
    return json_string(hex);
}

void test_chain_init(test_chain *chain)
{
    static const char *const roles[CHAIN_DEPARTMENTS] = {
        "[\"issuer\", \"endorser\"]", "[\"endorser\"]", "[\"issuer\", \"endorser\"]",
        "[\"regulator\"]"};
    static const char *const issues[CHAIN_DEPARTMENTS] = {"[\"licence\"]", "[]", "[\"residence\"]",
                                                          "[]"};
    memset(chain, 0, sizeof(*chain));
    json_t *departments = json_array();
    json_t *validators = json_array();
    for (int d = 0; d < CHAIN_DEPARTMENTS; d++) {
        assert_int_equal(gov_private_key_generate(GOV_SUITE_P256_SHA256, &chain->departments[d]),
                         0);
        assert_int_equal(gov_private_key_generate(GOV_SUITE_P256_SHA256, &chain->validators[d]), 0);
        json_t *keys = json_array();
        json_array_append_new(keys, public_hex(chain->departments[d]));
        json_array_append_new(
            departments, json_pack("{s:s, s:s, s:o, s:o, s:o}", "id", department_ids[d], "name",
                                   department_ids[d], "roles", json_loads(roles[d], 0, NULL),
                                   "issues", json_loads(issues[d], 0, NULL), "keys", keys));
        json_array_append_new(validators,
                              json_pack("{s:s, s:o}", "department", department_ids[d], "public_key",
                                        public_hex(chain->validators[d])));
    }
    json_t *root = json_pack(
        "{s:i, s:s, s:s, s:I, s:{s:i, s:i, s:i, s:i, s:i}, s:o, s:o, s:o}", "version", 1,
        "chain_name", "test-chain", "suite", "p256-sha256", "genesis_time_ms",
        (json_int_t)CHAIN_GENESIS_TIME_MS, "consensus", "view_timeout_ms", 1000,
        "view_timeout_max_ms", 60000, "block_txs_max", 50, "block_bytes_max", 65536,
        "clock_skew_ms", 5000, "departments", departments, "doc_types",
        json_loads("[{\"id\": \"licence\", \"class\": \"certificate\", \"recognised_by\": "
                   "[\"tax\", \"police\"], \"endorsements_required\": 2},"
                   "{\"id\": \"residence\", \"class\": \"certificate\", \"recognised_by\": "
                   "[\"market\"], \"endorsements_required\": 1}]",
                   0, NULL),
        "validators", validators);
    assert_non_null(root);
    char *text = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    char why[512] = "";
    int rc = gov_genesis_parse(text, strlen(text), &chain->genesis, why, sizeof(why));
    chain->genesis_json = text;
    if (rc != 0) {
        fail_msg("test genesis refused: %s", why);
    }
}

void test_chain_free(test_chain *chain)
{
    for (int i = 0; i < CHAIN_DEPARTMENTS; i++) {
        gov_private_key_free(chain->departments[i]);
    }
    for (int i = 0; i < CHAIN_VALIDATORS; i++) {
        gov_private_key_free(chain->validators[i]);
    }
    gov_genesis_free(chain->genesis);
    free(chain->genesis_json);
    memset(chain, 0, sizeof(*chain));
}

static void start_tx(test_chain *chain, gov_tx_kind kind, int department, uint64_t created_ms,
                     gov_tx *out)
{
    memset(out, 0, sizeof(*out));
    out->version = GOV_TX_VERSION;
    out->kind = kind;
    out->chain_id = chain->genesis->hash;
    strcpy(out->department, department_ids[department]);
    out->nonce = ++chain->nonce;
    out->created_ms = created_ms;
}

void test_chain_issue(test_chain *chain, const gov_hash *doc_hash, uint64_t created_ms, gov_tx *out)
{
    start_tx(chain, GOV_TX_ISSUE, CHAIN_MARKET, created_ms, out);
    gov_issue *issue = &out->payload.issue;
    issue->doc_hash = *doc_hash;
    issue->doc_class = GOV_DOC_CLASS_CERTIFICATE;
    strcpy(issue->doc_type, "licence");
    memset(issue->subject_ref.bytes, 0x5e, GOV_HASH_LEN);
    issue->valid_from_ms = CHAIN_GENESIS_TIME_MS;
    assert_int_equal(gov_tx_sign(out, chain->departments[CHAIN_MARKET]), 0);
}

void test_chain_remark(test_chain *chain, gov_tx_kind kind, int department,
                       const gov_hash *doc_hash, uint64_t created_ms, gov_tx *out)
{
    start_tx(chain, kind, department, created_ms, out);
    gov_doc_remark *remark = kind == GOV_TX_ENDORSE ? &out->payload.endorse : &out->payload.revoke;
    remark->doc_hash = *doc_hash;
    strcpy(remark->text, kind == GOV_TX_ENDORSE ? "recognised" : "withdrawn");
    assert_int_equal(gov_tx_sign(out, chain->departments[department]), 0);
}

void test_chain_certify(test_chain *chain, const gov_block *block, uint32_t votes,
                        gov_commit_cert *cert)
{
    memset(cert, 0, sizeof(*cert));
    cert->height = block->header.height;
    assert_int_equal(gov_block_hash(GOV_SUITE_P256_SHA256, &block->header, &cert->digest), 0);
    for (uint32_t v = 0; v < votes; v++) {
        gov_pbft_message commit;
        memset(&commit, 0, sizeof(commit));
        commit.type = GOV_PBFT_COMMIT;
        commit.body.phase.height = cert->height;
        commit.body.phase.sender = v;
        commit.body.phase.digest = cert->digest;
        assert_int_equal(
            gov_pbft_message_sign(&commit, chain->validators[v], &chain->genesis->hash), 0);
        cert->votes[v].validator = v;
        memcpy(cert->votes[v].signature, commit.body.phase.signature, GOV_SIGNATURE_LEN);
    }
    cert->votes_count = votes;
}

void test_chain_commit(test_chain *chain, gov_ledger *ledger, const gov_tx *txs, uint32_t count,
                       uint64_t time_ms)
{
    gov_reject *verdicts = calloc(count + 1, sizeof(gov_reject));
    gov_block block;
    uint32_t included = 0;
    char why[512] = "";
    int rc = gov_ledger_build(ledger, time_ms, 0, txs, count, verdicts, &block, &included, why,
                              sizeof(why));
    if (rc != 0) {
        fail_msg("build: %s", why);
    }
    for (uint32_t i = 0; i < count; i++) {
        if (verdicts[i] != GOV_REJECT_NONE) {
            fail_msg("tx %u rejected: %s", i, gov_reject_code(verdicts[i]));
        }
    }
    assert_int_equal(included, count);
    gov_commit_cert cert;
    test_chain_certify(chain, &block, gov_quorum_size(CHAIN_VALIDATORS), &cert);
    rc = gov_ledger_commit(ledger, &block, &cert, why, sizeof(why));
    if (rc != 0) {
        fail_msg("commit: %s", why);
    }
    gov_block_clear(&block);
    free(verdicts);
}
