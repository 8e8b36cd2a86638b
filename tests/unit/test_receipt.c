/*
 * Receipts: a receipt built from a ledger verifies against the genesis alone, for a valid
 * document, a revoked one and one never issued; changing any single value of it (any
 * hex digit of any hash, signature, header, certificate, state or transaction; any
 * index or proof kind) makes it fail to parse or to verify; the untrusted "display" part
 * changes nothing; a receipt checked against another chain's genesis fails.
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

#include "govchain/error.h"
#include "govchain/kv.h"
#include "govchain/ledger.h"
#include "govchain/receipt.h"
#include "tests/unit/chain.h"
#include "tests/unit/test_util.h"

enum { NOW_MS = CHAIN_GENESIS_TIME_MS + 100000 };

typedef struct {
    test_chain chain;
    gov_kv *store;
    gov_ledger *ledger;
    gov_hash licence, revoked, unknown;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    test_chain_init(&f->chain);
    char why[200];
    assert_int_equal(gov_kv_memory_open(&f->store), 0);
    assert_int_equal(gov_ledger_open(f->chain.genesis, f->store, &f->ledger, why, sizeof(why)), 0);
    memset(f->licence.bytes, 0x11, GOV_HASH_LEN);
    memset(f->revoked.bytes, 0x22, GOV_HASH_LEN);
    memset(f->unknown.bytes, 0x33, GOV_HASH_LEN);
    gov_tx txs[3];
    test_chain_issue(&f->chain, &f->licence, CHAIN_GENESIS_TIME_MS + 10, &txs[0]);
    test_chain_issue(&f->chain, &f->revoked, CHAIN_GENESIS_TIME_MS + 10, &txs[1]);
    test_chain_commit(&f->chain, f->ledger, txs, 2, CHAIN_GENESIS_TIME_MS + 1000);
    test_chain_remark(&f->chain, GOV_TX_ENDORSE, CHAIN_TAX, &f->licence,
                      CHAIN_GENESIS_TIME_MS + 1500, &txs[2]);
    test_chain_commit(&f->chain, f->ledger, &txs[2], 1, CHAIN_GENESIS_TIME_MS + 2000);
    gov_tx revoke;
    test_chain_remark(&f->chain, GOV_TX_REVOKE, CHAIN_MARKET, &f->revoked,
                      CHAIN_GENESIS_TIME_MS + 2500, &revoke);
    test_chain_commit(&f->chain, f->ledger, &revoke, 1, CHAIN_GENESIS_TIME_MS + 3000);
    for (int i = 0; i < 3; i++) {
        gov_tx_clear(&txs[i]);
    }
    gov_tx_clear(&revoke);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    gov_ledger_close(f->ledger);
    gov_kv_close(f->store);
    test_chain_free(&f->chain);
    free(f);
    return 0;
}

/* The receipt of doc as JSON text. */
static char *receipt_text(fixture *f, const gov_hash *doc)
{
    gov_receipt receipt;
    char why[200];
    int rc = gov_receipt_build(f->ledger, NULL, doc, &receipt, why, sizeof(why));
    if (rc != 0) {
        fail_msg("build: %s", why);
    }
    json_t *json = gov_receipt_to_json(f->chain.genesis, &receipt);
    assert_non_null(json);
    char *text = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    gov_receipt_clear(&receipt);
    return text;
}

/* Parses and verifies; 0 when the receipt holds. */
static int check(const gov_genesis *genesis, const char *text, gov_receipt_result *result,
                 gov_receipt *keep)
{
    gov_receipt receipt;
    char why[300];
    int rc = gov_receipt_from_json(genesis->suite, text, strlen(text), &receipt, why, sizeof(why));
    if (rc == 0) {
        rc = gov_receipt_verify(genesis, &receipt, NOW_MS, result, why, sizeof(why));
    }
    if (rc == 0 && keep != NULL) {
        *keep = receipt;
    } else if (rc == 0 || receipt.found) {
        gov_receipt_clear(&receipt);
    }
    return rc;
}

static void test_receipts_verify(void **state)
{
    fixture *f = *state;
    gov_receipt_result result;
    gov_receipt receipt;
    char *text = receipt_text(f, &f->licence);
    assert_int_equal(check(f->chain.genesis, text, &result, &receipt), 0);
    assert_true(result.found);
    assert_int_equal(result.height, 3);
    assert_true(result.recognised == gov_doc_recognised(f->chain.genesis, &receipt.state));
    assert_int_equal(receipt.state.status, GOV_DOC_VALID);
    assert_string_equal(receipt.state.issuer, "market");
    assert_int_equal(receipt.state.endorsements_count, 1);
    assert_string_equal(receipt.state.endorsements[0].department, "tax");
    assert_int_equal(receipt.issue_header.height, 1);
    gov_receipt_clear(&receipt);
    free(text);

    text = receipt_text(f, &f->revoked);
    assert_int_equal(check(f->chain.genesis, text, &result, &receipt), 0);
    assert_int_equal(receipt.state.status, GOV_DOC_REVOKED);
    gov_receipt_clear(&receipt);
    free(text);

    text = receipt_text(f, &f->unknown);
    assert_int_equal(check(f->chain.genesis, text, &result, NULL), 0);
    assert_false(result.found);
    free(text);
}

/* Every leaf of the proof-carrying part of the receipt, changed once each. */
typedef struct {
    fixture *f;
    json_t *root;
    bool absent; /* the receipt proves absence */
    size_t mutations, refused, still_absent;
} walk;

static void try_mutation(walk *w, const char *where)
{
    char *text = json_dumps(w->root, JSON_COMPACT);
    gov_receipt_result result;
    w->mutations++;
    if (check(w->f->chain.genesis, text, &result, NULL) != 0) {
        w->refused++;
    } else if (w->absent && strncmp(where, "receipt.doc_hash", 16) == 0 && !result.found) {
        /* A proof of absence ends at an empty subtree or another key's leaf, and so
         * proves every key below that point absent: changing the low bits of the hash
         * gives a receipt that truly proves another unknown document unknown. (A
         * verifier given the file compares its hash: govchain verify --file.) */
        w->still_absent++;
    } else {
        fail_msg("a receipt with %s changed still verifies", where);
    }
    free(text);
}

static void mutate_all(walk *w, json_t *value, const char *where)
{
    if (json_is_object(value)) {
        const char *key;
        json_t *member;
        json_object_foreach(value, key, member)
        {
            if (strcmp(key, "display") == 0) {
                continue;
            }
            char inner[200];
            snprintf(inner, sizeof(inner), "%s.%s", where, key);
            mutate_all(w, member, inner);
        }
    } else if (json_is_array(value)) {
        for (size_t i = 0; i < json_array_size(value); i++) {
            char inner[200];
            snprintf(inner, sizeof(inner), "%s[%zu]", where, i);
            mutate_all(w, json_array_get(value, i), inner);
        }
    } else if (json_is_integer(value)) {
        json_int_t original = json_integer_value(value);
        json_integer_set(value, original + 1);
        try_mutation(w, where);
        json_integer_set(value, original);
    } else if (json_is_string(value)) {
        char *original = strdup(json_string_value(value));
        size_t len = strlen(original);
        /* Hashes: every digit; long encodings: every 5th digit, so every field of a
         * header, certificate, state and transaction is hit. */
        size_t step = len <= 2 * GOV_HASH_LEN ? 1 : 5;
        for (size_t i = 0; i < len; i += step) {
            char *changed = strdup(original);
            changed[i] = changed[i] == '0' ? '1' : '0';
            json_string_set(value, changed);
            char inner[220];
            snprintf(inner, sizeof(inner), "%s (digit %zu)", where, i);
            try_mutation(w, inner);
            free(changed);
        }
        json_string_set(value, original);
        free(original);
    }
}

static void test_every_change_is_caught(void **state)
{
    fixture *f = *state;
    const gov_hash *docs[] = {&f->licence, &f->revoked, &f->unknown};
    for (int d = 0; d < 3; d++) {
        char *text = receipt_text(f, docs[d]);
        json_error_t error;
        walk w = {f, json_loads(text, 0, &error), docs[d] == &f->unknown, 0, 0, 0};
        assert_non_null(w.root);
        mutate_all(&w, w.root, "receipt");
        assert_true(w.mutations > 300);
        assert_int_equal(w.refused + w.still_absent, w.mutations);
        assert_true(w.still_absent < 2 * GOV_HASH_LEN);
        /* The display part is for people: changing it changes nothing. */
        json_object_set_new(json_object_get(w.root, "display"), "status", json_string("valid"));
        char *changed = json_dumps(w.root, JSON_COMPACT);
        gov_receipt_result result;
        assert_int_equal(check(f->chain.genesis, changed, &result, NULL), 0);
        free(changed);
        json_decref(w.root);
        free(text);
    }
}

static void test_another_chain_refuses(void **state)
{
    fixture *f = *state;
    test_chain other;
    test_chain_init(&other); /* same shape, other keys: another chain id */
    char *text = receipt_text(f, &f->licence);
    gov_receipt receipt;
    char why[300];
    assert_int_equal(
        gov_receipt_from_json(other.genesis->suite, text, strlen(text), &receipt, why, sizeof(why)),
        0);
    gov_receipt_result result;
    assert_int_equal(gov_receipt_verify(other.genesis, &receipt, NOW_MS, &result, why, sizeof(why)),
                     GOV_EINVAL);
    assert_non_null(strstr(why, "another chain"));
    gov_receipt_clear(&receipt);
    free(text);
    test_chain_free(&other);
}

static void test_no_block_no_receipt(void **state)
{
    (void)state;
    test_chain chain;
    test_chain_init(&chain);
    gov_kv *store = NULL;
    gov_ledger *ledger = NULL;
    char why[200];
    assert_int_equal(gov_kv_memory_open(&store), 0);
    assert_int_equal(gov_ledger_open(chain.genesis, store, &ledger, why, sizeof(why)), 0);
    gov_receipt receipt;
    gov_hash doc;
    memset(doc.bytes, 1, GOV_HASH_LEN);
    assert_int_equal(gov_receipt_build(ledger, NULL, &doc, &receipt, why, sizeof(why)), GOV_ENOENT);
    gov_ledger_close(ledger);
    gov_kv_close(store);
    test_chain_free(&chain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_receipts_verify),
        cmocka_unit_test(test_every_change_is_caught),
        cmocka_unit_test(test_another_chain_refuses),
        cmocka_unit_test(test_no_block_no_receipt),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
