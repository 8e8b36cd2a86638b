/*
 * The mempool: one copy per transaction id, caps on count and bytes that refuse rather
 * than grow, batches in arrival order within a block's limits, and removal anywhere in
 * the queue, checked against a naive model over many random operations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "govchain/error.h"
#include "node/mempool.h"
#include "tests/unit/chain.h"
#include "tests/unit/test_util.h"

enum { TXS = 64 };

typedef struct {
    test_chain chain;
    gov_tx txs[TXS];
    gov_hash ids[TXS];
    size_t sizes[TXS];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    test_chain_init(&f->chain);
    for (int i = 0; i < TXS; i++) {
        gov_hash doc;
        memset(doc.bytes, i + 1, GOV_HASH_LEN);
        test_chain_issue(&f->chain, &doc, CHAIN_GENESIS_TIME_MS + 10, &f->txs[i]);
        assert_int_equal(gov_tx_id(GOV_SUITE_P256_SHA256, &f->txs[i], &f->ids[i]), 0);
        gov_buf buf;
        gov_buf_init(&buf);
        assert_int_equal(gov_tx_encode(&f->txs[i], &buf), 0);
        f->sizes[i] = buf.len;
        gov_buf_free(&buf);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < TXS; i++) {
        gov_tx_clear(&f->txs[i]);
    }
    test_chain_free(&f->chain);
    free(f);
    return 0;
}

static void test_duplicates_and_caps(void **state)
{
    fixture *f = *state;
    gov_mempool *pool = gov_mempool_new(3, 1 << 20);
    assert_non_null(pool);
    assert_int_equal(gov_mempool_add(pool, &f->txs[0], &f->ids[0], f->sizes[0]), 0);
    assert_int_equal(gov_mempool_add(pool, &f->txs[0], &f->ids[0], f->sizes[0]), GOV_EEXIST);
    assert_int_equal(gov_mempool_add(pool, &f->txs[1], &f->ids[1], f->sizes[1]), 0);
    assert_int_equal(gov_mempool_add(pool, &f->txs[2], &f->ids[2], f->sizes[2]), 0);
    assert_int_equal(gov_mempool_add(pool, &f->txs[3], &f->ids[3], f->sizes[3]), GOV_ELIMIT);
    assert_int_equal(gov_mempool_count(pool), 3);
    assert_true(gov_mempool_contains(pool, &f->ids[2]));
    assert_false(gov_mempool_contains(pool, &f->ids[3]));
    gov_mempool_free(pool);

    /* The byte cap: room for exactly two of these transactions. */
    pool = gov_mempool_new(100, f->sizes[0] + f->sizes[1]);
    assert_int_equal(gov_mempool_add(pool, &f->txs[0], &f->ids[0], f->sizes[0]), 0);
    assert_int_equal(gov_mempool_add(pool, &f->txs[1], &f->ids[1], f->sizes[1]), 0);
    assert_int_equal(gov_mempool_add(pool, &f->txs[2], &f->ids[2], f->sizes[2]), GOV_ELIMIT);
    assert_int_equal(gov_mempool_bytes(pool), f->sizes[0] + f->sizes[1]);
    gov_mempool_remove(pool, &f->ids[0]);
    assert_int_equal(gov_mempool_add(pool, &f->txs[2], &f->ids[2], f->sizes[2]), 0);
    gov_mempool_free(pool);
}

static void test_batches_keep_arrival_order(void **state)
{
    fixture *f = *state;
    gov_mempool *pool = gov_mempool_new(TXS, 1 << 20);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(gov_mempool_add(pool, &f->txs[i], &f->ids[i], f->sizes[i]), 0);
    }
    gov_mempool_remove(pool, &f->ids[0]);
    gov_mempool_remove(pool, &f->ids[5]);
    const gov_tx *batch[TXS];
    gov_hash ids[TXS];
    assert_int_equal(gov_mempool_batch(pool, 4, 1 << 20, batch, ids), 4);
    const int expected[] = {1, 2, 3, 4};
    for (int i = 0; i < 4; i++) {
        assert_true(gov_hash_equal(&ids[i], &f->ids[expected[i]]));
        assert_ptr_not_equal(batch[i], &f->txs[expected[i]]); /* the pool's own copy */
        assert_int_equal(batch[i]->nonce, f->txs[expected[i]].nonce);
    }
    /* A byte limit that fits two and a half transactions gives two. */
    uint64_t limit = f->sizes[1] + f->sizes[2] + f->sizes[3] / 2;
    assert_int_equal(gov_mempool_batch(pool, 100, limit, batch, ids), 2);
    gov_mempool_free(pool);
}

static void test_against_a_model(void **state)
{
    fixture *f = *state;
    uint64_t rng = test_seed();
    gov_mempool *pool = gov_mempool_new(16, 1 << 20); /* a small table: many tombstones */
    int model[TXS];                                   /* arrival order of held transactions */
    int held = 0;
    for (int step = 0; step < 20000; step++) {
        int i = (int)(test_random(&rng) % TXS);
        int at = -1;
        for (int k = 0; k < held; k++) {
            at = model[k] == i ? k : at;
        }
        if (test_random(&rng) % 2 == 0) {
            int rc = gov_mempool_add(pool, &f->txs[i], &f->ids[i], f->sizes[i]);
            int expected = at >= 0 ? GOV_EEXIST : held == 16 ? GOV_ELIMIT : 0;
            assert_int_equal(rc, expected);
            if (rc == 0) {
                model[held++] = i;
            }
        } else {
            gov_mempool_remove(pool, &f->ids[i]);
            if (at >= 0) {
                memmove(&model[at], &model[at + 1], (size_t)(held - at - 1) * sizeof(int));
                held--;
            }
        }
        assert_int_equal(gov_mempool_count(pool), held);
        if (step % 97 == 0) {
            const gov_tx *batch[TXS];
            gov_hash ids[TXS];
            assert_int_equal(gov_mempool_batch(pool, TXS, UINT64_MAX, batch, ids), held);
            for (int k = 0; k < held; k++) {
                assert_true(gov_hash_equal(&ids[k], &f->ids[model[k]]));
            }
        }
    }
    gov_mempool_free(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duplicates_and_caps),
        cmocka_unit_test(test_batches_keep_arrival_order),
        cmocka_unit_test(test_against_a_model),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
