/*
 * Checkpoints: a checkpoint taken at height C verifies against the same chain grown
 * longer, at every later height and at C itself; it fails against a chain that forked
 * after genesis (same genesis, other blocks), against a proof whose parts were swapped
 * or altered, and against another chain's genesis.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "govchain/checkpoint.h"
#include "govchain/error.h"
#include "govchain/kv.h"
#include "govchain/ledger.h"
#include "tests/unit/chain.h"
#include "tests/unit/test_util.h"

enum { HEIGHT = 9 };

typedef struct {
    test_chain chain;
    gov_kv *stores[2];
    gov_ledger *ledgers[2]; /* [0]: the chain; [1]: a fork of it after block 2 */
} fixture;

/* Commits one block with a fresh ISSUE on ledger; seed makes forks differ. */
static void grow(fixture *f, gov_ledger *ledger, uint8_t seed)
{
    uint64_t height = gov_ledger_head_get(ledger)->height;
    gov_hash doc;
    memset(doc.bytes, seed, GOV_HASH_LEN);
    doc.bytes[0] = (uint8_t)height;
    gov_tx tx;
    test_chain_issue(&f->chain, &doc, CHAIN_GENESIS_TIME_MS + 10, &tx);
    test_chain_commit(&f->chain, ledger, &tx, 1, CHAIN_GENESIS_TIME_MS + 1000 * (height + 1));
    gov_tx_clear(&tx);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    test_chain_init(&f->chain);
    char why[200];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(gov_kv_memory_open(&f->stores[i]), 0);
        assert_int_equal(
            gov_ledger_open(f->chain.genesis, f->stores[i], &f->ledgers[i], why, sizeof(why)), 0);
    }
    /* Blocks 1 and 2 are the same on both: the very same blocks, committed twice. */
    for (int b = 0; b < 2; b++) {
        grow(f, f->ledgers[0], 0x10);
        gov_block block;
        gov_commit_cert cert;
        assert_int_equal(
            gov_ledger_block_get(f->ledgers[0], (uint64_t)b + 1, &block, &cert, why, sizeof(why)),
            0);
        assert_int_equal(gov_ledger_commit(f->ledgers[1], &block, &cert, why, sizeof(why)), 0);
        gov_block_clear(&block);
    }
    for (int b = 2; b < HEIGHT; b++) {
        grow(f, f->ledgers[0], 0x10);
        grow(f, f->ledgers[1], 0x20);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 2; i++) {
        gov_ledger_close(f->ledgers[i]);
        gov_kv_close(f->stores[i]);
    }
    test_chain_free(&f->chain);
    free(f);
    return 0;
}

static int verify(fixture *f, gov_ledger *ledger, uint64_t c, uint64_t n, char *why, size_t why_len)
{
    gov_certified_header checkpoint;
    assert_int_equal(gov_certified_header_get(f->ledgers[0], c, &checkpoint, why, why_len), 0);
    gov_history_proof proof;
    assert_int_equal(gov_history_proof_build(ledger, c, n, &proof, why, why_len), 0);
    return gov_checkpoint_verify(f->chain.genesis, &checkpoint, &proof, why, why_len);
}

static void test_longer_chain_extends_every_checkpoint(void **state)
{
    fixture *f = *state;
    char why[300];
    for (uint64_t c = 1; c <= HEIGHT; c++) {
        for (uint64_t n = c; n <= HEIGHT; n++) {
            int rc = verify(f, f->ledgers[0], c, n, why, sizeof(why));
            if (rc != 0) {
                fail_msg("checkpoint %llu against height %llu: %s", (unsigned long long)c,
                         (unsigned long long)n, why);
            }
        }
    }
}

static void test_forked_chain_fails(void **state)
{
    fixture *f = *state;
    char why[300];
    /* Blocks 1 and 2 are shared: those checkpoints hold on the fork too. */
    assert_int_equal(verify(f, f->ledgers[1], 2, HEIGHT, why, sizeof(why)), 0);
    for (uint64_t c = 3; c <= HEIGHT; c++) {
        assert_int_equal(verify(f, f->ledgers[1], c, HEIGHT, why, sizeof(why)), GOV_EPROOF);
        assert_non_null(strstr(why, "history was rewritten"));
    }
    /* A fork that shows the checkpoint's own header as "from" but its own history: the
     * proofs cannot place the checkpoint's block in the fork's tree. */
    gov_certified_header checkpoint;
    gov_history_proof proof;
    assert_int_equal(gov_certified_header_get(f->ledgers[0], 5, &checkpoint, why, sizeof(why)), 0);
    assert_int_equal(gov_history_proof_build(f->ledgers[1], 5, HEIGHT, &proof, why, sizeof(why)),
                     0);
    proof.from = checkpoint;
    assert_int_equal(gov_checkpoint_verify(f->chain.genesis, &checkpoint, &proof, why, sizeof(why)),
                     GOV_EPROOF);
}

static void test_altered_proofs_fail(void **state)
{
    fixture *f = *state;
    char why[300];
    gov_certified_header checkpoint;
    gov_history_proof proof, changed;
    assert_int_equal(gov_certified_header_get(f->ledgers[0], 4, &checkpoint, why, sizeof(why)), 0);
    assert_int_equal(gov_history_proof_build(f->ledgers[0], 4, HEIGHT, &proof, why, sizeof(why)),
                     0);
    assert_int_equal(gov_checkpoint_verify(f->chain.genesis, &checkpoint, &proof, why, sizeof(why)),
                     0);
    for (uint32_t i = 0; i < proof.consistency_len; i++) {
        changed = proof;
        changed.consistency[i].bytes[i % GOV_HASH_LEN] ^= 1;
        assert_int_not_equal(
            gov_checkpoint_verify(f->chain.genesis, &checkpoint, &changed, why, sizeof(why)), 0);
    }
    for (uint32_t i = 0; i < proof.inclusion_len; i++) {
        changed = proof;
        changed.inclusion[i].bytes[0] ^= 0x80;
        assert_int_not_equal(
            gov_checkpoint_verify(f->chain.genesis, &checkpoint, &changed, why, sizeof(why)), 0);
    }
    changed = proof;
    changed.to.header.history_root.bytes[3] ^= 1; /* its certificate no longer matches */
    assert_int_not_equal(
        gov_checkpoint_verify(f->chain.genesis, &checkpoint, &changed, why, sizeof(why)), 0);
    changed = proof;
    changed.to.cert.votes_count = 1; /* below a quorum */
    assert_int_not_equal(
        gov_checkpoint_verify(f->chain.genesis, &checkpoint, &changed, why, sizeof(why)), 0);

    test_chain other;
    test_chain_init(&other);
    assert_int_not_equal(
        gov_checkpoint_verify(other.genesis, &checkpoint, &proof, why, sizeof(why)), 0);
    test_chain_free(&other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_longer_chain_extends_every_checkpoint),
        cmocka_unit_test(test_forked_chain_fails),
        cmocka_unit_test(test_altered_proofs_fail),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
