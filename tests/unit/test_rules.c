/*
 * Record rules, table-driven: one scenario of transactions executed in order on one
 * ledger state, each row with the verdict a department would see. Every rejection code
 * appears, and a rejected transaction must leave the state root and the store exactly
 * as they were. Then supersede chains, expiry at the block's time, recognition, and the
 * document history.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "govchain/block.h"
#include "govchain/crypto.h"
#include "govchain/genesis.h"
#include "govchain/kv.h"
#include "govchain/rules.h"
#include "govchain/state.h"
#include "tests/unit/test_util.h"

/* Departments of the test genesis, in genesis order, and how many keys each has. */
enum { MARKET, TAX, POLICE, AUDIT, HOUSING, DEPARTMENTS };
static const char *const department_ids[DEPARTMENTS] = {"market", "tax", "police", "audit",
                                                        "housing"};
static const int department_keys[DEPARTMENTS] = {2, 1, 1, 1, 1};

typedef struct {
    gov_private_key *keys[DEPARTMENTS][2];
    gov_genesis *genesis;
    gov_kv *store;
    gov_state state;
    uint64_t nonce;
} fixture;

static char *public_hex(gov_private_key *key)
{
    uint8_t bytes[GOV_PUBLIC_KEY_LEN];
    gov_private_key_public(key, bytes);
    char *hex = malloc(GOV_PUBLIC_KEY_HEX_LEN + 1);
    assert_non_null(hex);
    gov_hex_encode(bytes, sizeof(bytes), hex);
    return hex;
}

static json_t *key_list(fixture *f, int department)
{
    json_t *keys = json_array();
    for (int k = 0; k < department_keys[department]; k++) {
        char *hex = public_hex(f->keys[department][k]);
        json_array_append_new(keys, json_string(hex));
        free(hex);
    }
    return keys;
}

/* market issues licences (recognised by tax and police, 2 needed); police issues
 * residence permits (recognised by market, 1 needed); housing issues building permits
 * (approvals; no recognition agreement) and is no endorser; audit is a regulator. */
static void make_genesis(fixture *f)
{
    static const char *const roles[DEPARTMENTS] = {"[\"issuer\", \"endorser\"]", "[\"endorser\"]",
                                                   "[\"issuer\", \"endorser\"]", "[\"regulator\"]",
                                                   "[\"issuer\"]"};
    static const char *const issues[DEPARTMENTS] = {"[\"licence\"]", "[]", "[\"residence\"]", "[]",
                                                    "[\"permit\"]"};
    json_t *departments = json_array();
    for (int d = 0; d < DEPARTMENTS; d++) {
        json_t *department = json_object();
        json_object_set_new(department, "id", json_string(department_ids[d]));
        json_object_set_new(department, "name", json_string(department_ids[d]));
        json_object_set_new(department, "roles", json_loads(roles[d], 0, NULL));
        json_object_set_new(department, "issues", json_loads(issues[d], 0, NULL));
        json_object_set_new(department, "keys", key_list(f, d));
        json_array_append_new(departments, department);
    }
    json_t *validators = json_array();
    for (int v = 0; v < 4; v++) {
        gov_private_key *node = NULL;
        assert_int_equal(gov_private_key_generate(GOV_SUITE_P256_SHA256, &node), 0);
        char *hex = public_hex(node);
        json_array_append_new(validators, json_pack("{s:s, s:s}", "department", department_ids[v],
                                                    "public_key", hex));
        free(hex);
        gov_private_key_free(node);
    }
    json_t *root = json_pack(
        "{s:i, s:s, s:s, s:I, s:{s:i, s:i, s:i, s:i, s:i}, s:o, s:o, s:o}", "version", 1,
        "chain_name", "rules-test", "suite", "p256-sha256", "genesis_time_ms", (json_int_t)1000000,
        "consensus", "view_timeout_ms", 1000, "view_timeout_max_ms", 60000, "block_txs_max", 100,
        "block_bytes_max", 1 << 20, "clock_skew_ms", 5000, "departments", departments, "doc_types",
        json_loads("[{\"id\": \"licence\", \"class\": \"certificate\", \"recognised_by\": "
                   "[\"tax\", \"police\"], \"endorsements_required\": 2},"
                   "{\"id\": \"residence\", \"class\": \"certificate\", \"recognised_by\": "
                   "[\"market\"], \"endorsements_required\": 1},"
                   "{\"id\": \"permit\", \"class\": \"approval\", \"recognised_by\": [], "
                   "\"endorsements_required\": 0}]",
                   0, NULL),
        "validators", validators);
    assert_non_null(root);
    char *text = json_dumps(root, 0);
    json_decref(root);
    char why[512] = "";
    int rc = gov_genesis_parse(text, strlen(text), &f->genesis, why, sizeof(why));
    free(text);
    if (rc != 0) {
        fail_msg("test genesis refused: %s", why);
    }
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    for (int d = 0; d < DEPARTMENTS; d++) {
        for (int k = 0; k < department_keys[d]; k++) {
            assert_int_equal(gov_private_key_generate(GOV_SUITE_P256_SHA256, &f->keys[d][k]), 0);
        }
    }
    make_genesis(f);
    assert_int_equal(gov_kv_memory_open(&f->store), 0);
    gov_hash empty;
    gov_smt_empty_root(&empty);
    gov_state_init(&f->state, f->genesis, f->store, &empty);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    gov_state_clear(&f->state);
    gov_kv_close(f->store);
    gov_genesis_free(f->genesis);
    for (int d = 0; d < DEPARTMENTS; d++) {
        for (int k = 0; k < department_keys[d]; k++) {
            gov_private_key_free(f->keys[d][k]);
        }
    }
    free(f);
    return 0;
}

/* Documents are named by a letter; their hash is the letter repeated. */
static gov_hash doc(char name)
{
    gov_hash hash;
    memset(hash.bytes, name, GOV_HASH_LEN);
    return hash;
}

/* What a row may do to an otherwise valid transaction. */
enum {
    AS_IS = 0,
    OTHER_CHAIN = 1 << 0,
    BAD_SIGNATURE = 1 << 1,
    UNKNOWN_KEY = 1 << 2,
    STRANGER = 1 << 3,
    REPLAY = 1 << 4, /* submit the previous row's transaction again */
    FUTURE = 1 << 5, /* created 6 s after the block's time (skew allows 5 s) */
};

typedef struct {
    const char *label;
    int sender;
    gov_tx_kind kind;
    char doc;
    const char *doc_type; /* ISSUE */
    gov_doc_class doc_class;
    uint64_t valid_until_ms; /* ISSUE; valid from 1,000,000 */
    char supersedes;         /* ISSUE; 0 for none */
    uint64_t block_time_ms;
    int twist;
    gov_reject expect;
} row;

#define T0 2000000 /* the usual block time */

static const row scenario[] = {
    /* Stateless checks, in their order. */
    {"another chain", MARKET, GOV_TX_ISSUE, 'a', "licence", 1, 0, 0, T0, OTHER_CHAIN,
     GOV_REJECT_WRONG_CHAIN},
    {"a stranger", MARKET, GOV_TX_ISSUE, 'a', "licence", 1, 0, 0, T0, STRANGER,
     GOV_REJECT_UNKNOWN_DEPARTMENT},
    {"key 5 of market", MARKET, GOV_TX_ISSUE, 'a', "licence", 1, 0, 0, T0, UNKNOWN_KEY,
     GOV_REJECT_UNKNOWN_KEY},
    {"forged signature", MARKET, GOV_TX_ISSUE, 'a', "licence", 1, 0, 0, T0, BAD_SIGNATURE,
     GOV_REJECT_BAD_SIGNATURE},
    {"created in the future", MARKET, GOV_TX_ISSUE, 'a', "licence", 1, 0, 0, T0, FUTURE,
     GOV_REJECT_CLOCK_SKEW},
    /* ISSUE. */
    {"market issues licence A", MARKET, GOV_TX_ISSUE, 'a', "licence", 1, 0, 0, T0, AS_IS,
     GOV_REJECT_NONE},
    {"the same transaction again", MARKET, GOV_TX_ISSUE, 'a', "licence", 1, 0, 0, T0, REPLAY,
     GOV_REJECT_DUPLICATE_TX},
    {"licence A issued twice", MARKET, GOV_TX_ISSUE, 'a', "licence", 1, 0, 0, T0, AS_IS,
     GOV_REJECT_DOC_EXISTS},
    {"tax is no issuer", TAX, GOV_TX_ISSUE, 'b', "licence", 1, 0, 0, T0, AS_IS,
     GOV_REJECT_ROLE_MISSING},
    {"unknown type", MARKET, GOV_TX_ISSUE, 'b', "passport", 1, 0, 0, T0, AS_IS,
     GOV_REJECT_UNKNOWN_DOC_TYPE},
    {"police may not issue licences", POLICE, GOV_TX_ISSUE, 'b', "licence", 1, 0, 0, T0, AS_IS,
     GOV_REJECT_DOC_TYPE_NOT_PERMITTED},
    {"a licence is no approval", MARKET, GOV_TX_ISSUE, 'b', "licence", 2, 0, 0, T0, AS_IS,
     GOV_REJECT_WRONG_CLASS},
    {"valid until before valid from", MARKET, GOV_TX_ISSUE, 'b', "licence", 1, 999999, 0, T0, AS_IS,
     GOV_REJECT_BAD_VALIDITY},
    {"supersedes itself", MARKET, GOV_TX_ISSUE, 'b', "licence", 1, 0, 'b', T0, AS_IS,
     GOV_REJECT_SUPERSEDES_SELF},
    {"supersedes what was never issued", MARKET, GOV_TX_ISSUE, 'b', "licence", 1, 0, 'z', T0, AS_IS,
     GOV_REJECT_UNKNOWN_DOCUMENT},
    {"police issues residence R", POLICE, GOV_TX_ISSUE, 'r', "residence", 1, 0, 0, T0, AS_IS,
     GOV_REJECT_NONE},
    {"market supersedes police's R", MARKET, GOV_TX_ISSUE, 'b', "licence", 1, 0, 'r', T0, AS_IS,
     GOV_REJECT_NOT_ISSUER},
    /* ENDORSE. */
    {"housing is no endorser", HOUSING, GOV_TX_ENDORSE, 'a', NULL, 0, 0, 0, T0, AS_IS,
     GOV_REJECT_ROLE_MISSING},
    {"endorse the unknown", TAX, GOV_TX_ENDORSE, 'z', NULL, 0, 0, 0, T0, AS_IS,
     GOV_REJECT_UNKNOWN_DOCUMENT},
    {"market endorses its own A", MARKET, GOV_TX_ENDORSE, 'a', NULL, 0, 0, 0, T0, AS_IS,
     GOV_REJECT_OWN_DOCUMENT},
    {"tax endorses A", TAX, GOV_TX_ENDORSE, 'a', NULL, 0, 0, 0, T0, AS_IS, GOV_REJECT_NONE},
    {"tax endorses A again", TAX, GOV_TX_ENDORSE, 'a', NULL, 0, 0, 0, T0, AS_IS,
     GOV_REJECT_ALREADY_ENDORSED},
    {"police endorses A", POLICE, GOV_TX_ENDORSE, 'a', NULL, 0, 0, 0, T0, AS_IS, GOV_REJECT_NONE},
    /* Expiry at the block's time: E expires at 3,000,000. */
    {"market issues E until 3,000,000", MARKET, GOV_TX_ISSUE, 'e', "licence", 1, 3000000, 0, T0,
     AS_IS, GOV_REJECT_NONE},
    {"tax endorses E just before", TAX, GOV_TX_ENDORSE, 'e', NULL, 0, 0, 0, 2999999, AS_IS,
     GOV_REJECT_NONE},
    {"police endorses E at expiry", POLICE, GOV_TX_ENDORSE, 'e', NULL, 0, 0, 0, 3000000, AS_IS,
     GOV_REJECT_EXPIRED},
    {"market supersedes expired E", MARKET, GOV_TX_ISSUE, 'f', "licence", 1, 0, 'e', 3000000, AS_IS,
     GOV_REJECT_EXPIRED},
    /* REVOKE. */
    {"revoke the unknown", MARKET, GOV_TX_REVOKE, 'z', NULL, 0, 0, 0, T0, AS_IS,
     GOV_REJECT_UNKNOWN_DOCUMENT},
    {"tax revokes market's A", TAX, GOV_TX_REVOKE, 'a', NULL, 0, 0, 0, T0, AS_IS,
     GOV_REJECT_NOT_ISSUER},
    {"police revokes its R", POLICE, GOV_TX_REVOKE, 'r', NULL, 0, 0, 0, T0, AS_IS, GOV_REJECT_NONE},
    {"police revokes R again", POLICE, GOV_TX_REVOKE, 'r', NULL, 0, 0, 0, T0, AS_IS,
     GOV_REJECT_ALREADY_REVOKED},
    {"market endorses revoked R", MARKET, GOV_TX_ENDORSE, 'r', NULL, 0, 0, 0, T0, AS_IS,
     GOV_REJECT_NOT_VALID},
    {"audit, a regulator, revokes market's E", AUDIT, GOV_TX_REVOKE, 'e', NULL, 0, 0, 0, T0, AS_IS,
     GOV_REJECT_NONE},
    /* Supersede chains: A <- B <- C, with the second key of market. */
    {"market supersedes A with B", MARKET, GOV_TX_ISSUE, 'b', "licence", 1, 0, 'a', T0, AS_IS,
     GOV_REJECT_NONE},
    {"market supersedes A again", MARKET, GOV_TX_ISSUE, 'c', "licence", 1, 0, 'a', T0, AS_IS,
     GOV_REJECT_NOT_VALID},
    {"tax endorses superseded A", TAX, GOV_TX_ENDORSE, 'a', NULL, 0, 0, 0, T0, AS_IS,
     GOV_REJECT_NOT_VALID},
    {"market supersedes B with C", MARKET, GOV_TX_ISSUE, 'c', "licence", 1, 0, 'b', T0, AS_IS,
     GOV_REJECT_NONE},
};

/* Builds, signs and twists the transaction of a row. prev: the previous row's tx. */
static void make_tx(fixture *f, const row *r, const gov_tx *prev, gov_tx *tx)
{
    if (r->twist & REPLAY) {
        *tx = *prev;
        tx->payload.issue.metadata = NULL; /* rows carry no metadata */
        return;
    }
    memset(tx, 0, sizeof(*tx));
    tx->version = GOV_TX_VERSION;
    tx->kind = r->kind;
    tx->chain_id = f->genesis->hash;
    strcpy(tx->department, department_ids[r->sender]);
    tx->key_index = (r->supersedes != 0 && r->sender == MARKET) ? 1 : 0;
    tx->nonce = ++f->nonce;
    tx->created_ms = r->block_time_ms - 100;
    if (r->kind == GOV_TX_ISSUE) {
        gov_issue *issue = &tx->payload.issue;
        issue->doc_hash = doc(r->doc);
        issue->doc_class = r->doc_class;
        strcpy(issue->doc_type, r->doc_type);
        memset(issue->subject_ref.bytes, 's', GOV_HASH_LEN);
        issue->valid_from_ms = 1000000;
        issue->valid_until_ms = r->valid_until_ms;
        issue->has_supersedes = r->supersedes != 0;
        if (issue->has_supersedes) {
            issue->supersedes = doc(r->supersedes);
        }
    } else {
        gov_doc_remark *remark =
            r->kind == GOV_TX_ENDORSE ? &tx->payload.endorse : &tx->payload.revoke;
        remark->doc_hash = doc(r->doc);
        strcpy(remark->text, r->kind == GOV_TX_ENDORSE ? "recognised" : "issued in error");
    }
    if (r->twist & FUTURE) {
        tx->created_ms = r->block_time_ms + 6000;
    }
    assert_int_equal(gov_tx_sign(tx, f->keys[r->sender][tx->key_index]), 0);
    if (r->twist & OTHER_CHAIN) {
        tx->chain_id.bytes[0] ^= 1;
        assert_int_equal(gov_tx_sign(tx, f->keys[r->sender][tx->key_index]), 0);
    }
    if (r->twist & BAD_SIGNATURE) {
        tx->signature[10] ^= 1;
    }
    if (r->twist & UNKNOWN_KEY) {
        tx->key_index = 5;
    }
    if (r->twist & STRANGER) {
        strcpy(tx->department, "nobody");
    }
}

static void expect_doc(fixture *f, char name, gov_doc_status status, uint32_t endorsements)
{
    gov_doc_state state;
    bool found = false;
    char why[256];
    gov_hash hash = doc(name);
    assert_int_equal(gov_state_doc_get(&f->state, &hash, &state, &found, why, sizeof(why)), 0);
    assert_true(found);
    assert_int_equal(state.status, status);
    assert_int_equal(state.endorsements_count, endorsements);
    gov_doc_state_clear(&state);
}

static void test_scenario(void **state)
{
    fixture *f = *state;
    gov_tx prev;
    memset(&prev, 0, sizeof(prev));
    char why[256];
    int rejections_seen[64] = {0};
    for (size_t i = 0; i < sizeof(scenario) / sizeof(scenario[0]); i++) {
        const row *r = &scenario[i];
        gov_tx tx;
        make_tx(f, r, &prev, &tx);
        gov_hash tx_id;
        assert_int_equal(gov_tx_id(GOV_SUITE_P256_SHA256, &tx, &tx_id), 0);
        gov_hash root_before = f->state.root;
        size_t entries_before = gov_kv_memory_count(f->store);
        gov_block_context block = {.height = 1 + i, .time_ms = r->block_time_ms};
        gov_reject verdict = GOV_REJECT_NONE;
        int rc = gov_rules_execute(&f->state, &block, 0, &tx, &tx_id, &verdict, why, sizeof(why));
        assert_int_equal(rc, 0);
        assert_int_equal(gov_state_flush(&f->state, why, sizeof(why)), 0);
        if (verdict != r->expect) {
            fail_msg("row %zu \"%s\": got %s, expected %s", i, r->label, gov_reject_code(verdict),
                     gov_reject_code(r->expect));
        }
        if (verdict != GOV_REJECT_NONE) {
            /* Nothing written: same root, same entries. */
            assert_memory_equal(root_before.bytes, f->state.root.bytes, GOV_HASH_LEN);
            assert_int_equal(gov_kv_memory_count(f->store), entries_before);
        } else {
            assert_memory_not_equal(root_before.bytes, f->state.root.bytes, GOV_HASH_LEN);
        }
        rejections_seen[verdict] = 1;
        prev = tx;
    }
    /* Every reason code occurred. */
    for (int reason = GOV_REJECT_WRONG_CHAIN; reason <= GOV_REJECT_ALREADY_REVOKED; reason++) {
        if (!rejections_seen[reason]) {
            fail_msg("the scenario never produced %s", gov_reject_code((gov_reject)reason));
        }
    }
    expect_doc(f, 'a', GOV_DOC_SUPERSEDED, 2);
    expect_doc(f, 'b', GOV_DOC_SUPERSEDED, 0);
    expect_doc(f, 'c', GOV_DOC_VALID, 0);
    expect_doc(f, 'r', GOV_DOC_REVOKED, 0);
    expect_doc(f, 'e', GOV_DOC_REVOKED, 1);
}

/* Licence A is recognised after tax's and police's endorsements (2 of 2 listed), not
 * after one; a type without an agreement is recognised as issued. */
static void test_recognition(void **state)
{
    fixture *f = *state;
    char why[256];
    const row steps[] = {
        {"issue", MARKET, GOV_TX_ISSUE, 'a', "licence", 1, 0, 0, T0, AS_IS, GOV_REJECT_NONE},
        {"tax", TAX, GOV_TX_ENDORSE, 'a', NULL, 0, 0, 0, T0, AS_IS, GOV_REJECT_NONE},
        {"police", POLICE, GOV_TX_ENDORSE, 'a', NULL, 0, 0, 0, T0, AS_IS, GOV_REJECT_NONE},
        {"permit", HOUSING, GOV_TX_ISSUE, 'p', "permit", 2, 0, 0, T0, AS_IS, GOV_REJECT_NONE},
    };
    const bool recognised_after[] = {false, false, true, true};
    gov_tx prev;
    memset(&prev, 0, sizeof(prev));
    for (size_t i = 0; i < 4; i++) {
        gov_tx tx;
        make_tx(f, &steps[i], &prev, &tx);
        gov_hash tx_id;
        assert_int_equal(gov_tx_id(GOV_SUITE_P256_SHA256, &tx, &tx_id), 0);
        gov_block_context block = {.height = 1, .time_ms = T0};
        gov_reject verdict;
        assert_int_equal(gov_rules_execute(&f->state, &block, (uint32_t)i, &tx, &tx_id, &verdict,
                                           why, sizeof(why)),
                         0);
        assert_int_equal(verdict, GOV_REJECT_NONE);
        gov_doc_state doc_state;
        bool found;
        gov_hash hash = doc(steps[i].doc);
        assert_int_equal(gov_state_doc_get(&f->state, &hash, &doc_state, &found, why, sizeof(why)),
                         0);
        assert_int_equal(gov_doc_recognised(f->genesis, &doc_state), recognised_after[i]);
        gov_doc_state_clear(&doc_state);
        prev = tx;
    }
}

/* The state encoding round-trips, and its hash is what the tree holds. */
static void test_state_encoding(void **state)
{
    fixture *f = *state;
    char why[256];
    const row issue = {"issue", MARKET, GOV_TX_ISSUE, 'a',   "licence",      1,
                       5000000, 0,      T0,           AS_IS, GOV_REJECT_NONE};
    gov_tx tx, prev;
    memset(&prev, 0, sizeof(prev));
    make_tx(f, &issue, &prev, &tx);
    gov_hash tx_id;
    assert_int_equal(gov_tx_id(GOV_SUITE_P256_SHA256, &tx, &tx_id), 0);
    gov_block_context block = {.height = 7, .time_ms = T0};
    gov_reject verdict;
    assert_int_equal(
        gov_rules_execute(&f->state, &block, 3, &tx, &tx_id, &verdict, why, sizeof(why)), 0);
    assert_int_equal(verdict, GOV_REJECT_NONE);
    assert_int_equal(gov_state_flush(&f->state, why, sizeof(why)), 0);
    gov_doc_state doc_state, decoded;
    bool found;
    gov_hash hash = doc('a');
    assert_int_equal(gov_state_doc_get(&f->state, &hash, &doc_state, &found, why, sizeof(why)), 0);
    assert_true(found);
    assert_int_equal(doc_state.issued.height, 7);
    assert_int_equal(doc_state.issued.index, 3);
    assert_memory_equal(doc_state.issued.tx_id.bytes, tx_id.bytes, GOV_HASH_LEN);
    assert_string_equal(doc_state.issuer, "market");
    assert_false(gov_doc_expired(&doc_state, 4999999));
    assert_true(gov_doc_expired(&doc_state, 5000000));
    gov_buf buf;
    gov_buf_init(&buf);
    assert_int_equal(gov_doc_state_encode(&doc_state, &buf), 0);
    assert_int_equal(gov_doc_state_decode(buf.data, buf.len, &decoded, why, sizeof(why)), 0);
    gov_buf again;
    gov_buf_init(&again);
    assert_int_equal(gov_doc_state_encode(&decoded, &again), 0);
    assert_int_equal(buf.len, again.len);
    assert_memory_equal(buf.data, again.data, buf.len);
    gov_hash value_hash, in_tree;
    assert_int_equal(gov_doc_state_hash(GOV_SUITE_P256_SHA256, &doc_state, &value_hash), 0);
    assert_int_equal(
        gov_smt_get(&f->state.tree, &f->state.root, &hash, &found, &in_tree, why, sizeof(why)), 0);
    assert_true(found);
    assert_memory_equal(value_hash.bytes, in_tree.bytes, GOV_HASH_LEN);
    gov_buf_free(&again);
    gov_buf_free(&buf);
    gov_doc_state_clear(&decoded);
    gov_doc_state_clear(&doc_state);
}

/* signatures_checked skips only the signature's verification: a caller that set it
 * vouches for the signature, every other check still runs. */
static void test_signatures_checked(void **state)
{
    fixture *f = *state;
    char why[256];
    const row issue = {"issue", MARKET, GOV_TX_ISSUE, 'a',           "licence",      1,
                       0,       0,      T0,           BAD_SIGNATURE, GOV_REJECT_NONE};
    gov_tx tx, prev;
    memset(&prev, 0, sizeof(prev));
    make_tx(f, &issue, &prev, &tx);
    gov_hash tx_id;
    assert_int_equal(gov_tx_id(GOV_SUITE_P256_SHA256, &tx, &tx_id), 0);
    gov_block_context checked = {.height = 1, .time_ms = T0, .signatures_checked = true};
    gov_reject verdict;
    tx.key_index = 7;
    assert_int_equal(
        gov_rules_execute(&f->state, &checked, 0, &tx, &tx_id, &verdict, why, sizeof(why)), 0);
    assert_int_equal(verdict, GOV_REJECT_UNKNOWN_KEY);
    tx.key_index = 0;
    gov_block_context unchecked = {.height = 1, .time_ms = T0};
    assert_int_equal(
        gov_rules_execute(&f->state, &unchecked, 0, &tx, &tx_id, &verdict, why, sizeof(why)), 0);
    assert_int_equal(verdict, GOV_REJECT_BAD_SIGNATURE);
    assert_int_equal(gov_rules_check_signature(f->genesis, &tx), GOV_REJECT_BAD_SIGNATURE);
    assert_int_equal(
        gov_rules_execute(&f->state, &checked, 0, &tx, &tx_id, &verdict, why, sizeof(why)), 0);
    assert_int_equal(verdict, GOV_REJECT_NONE);
}

static void test_reason_codes(void **state)
{
    (void)state;
    assert_string_equal(gov_reject_code(GOV_REJECT_NONE), "ok");
    assert_string_equal(gov_reject_code(GOV_REJECT_DOC_EXISTS), "doc_exists");
    assert_string_equal(gov_reject_message(GOV_REJECT_EXPIRED), "the document has expired");
    assert_null(gov_reject_code((gov_reject)999));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scenario, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recognition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_encoding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signatures_checked, setup, teardown),
        cmocka_unit_test(test_reason_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
