/*
 * The ledger's three calls for consensus: build, validate, commit. Blocks chain and
 * their roots are what the ledger computes; a block that differs in any checked field is
 * refused with that field named and nothing written; a certificate must be a quorum for
 * this block; a failed write stops the ledger and leaves the store at the previous
 * block; a reopened ledger finds its head again.
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
#include "govchain/kv.h"
#include "govchain/kv_leveldb.h"
#include "govchain/ledger.h"
#include "govchain/merkle.h"
#include "govchain/quorum.h"
#include "tests/unit/chain.h"
#include "tests/unit/test_util.h"

typedef struct {
    test_chain chain;
    gov_kv *store;
    gov_ledger *ledger;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    test_chain_init(&f->chain);
    assert_int_equal(gov_kv_memory_open(&f->store), 0);
    char why[256];
    assert_int_equal(gov_ledger_open(f->chain.genesis, f->store, &f->ledger, why, sizeof(why)), 0);
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

static gov_hash doc(uint8_t name)
{
    gov_hash hash;
    memset(hash.bytes, name, GOV_HASH_LEN);
    return hash;
}

static void test_blocks_chain(void **state)
{
    fixture *f = *state;
    char why[256];
    const gov_ledger_head *head = gov_ledger_head_get(f->ledger);
    assert_int_equal(head->height, 0);
    assert_memory_equal(head->hash.bytes, f->chain.genesis->hash.bytes, GOV_HASH_LEN);
    gov_hash block_hashes[3];
    gov_hash leaves[3];
    for (int h = 1; h <= 3; h++) {
        gov_tx txs[2];
        gov_hash a = doc((uint8_t)(0x10 * h));
        test_chain_issue(&f->chain, &a, 2000000 + (uint64_t)h, &txs[0]);
        test_chain_remark(&f->chain, GOV_TX_ENDORSE, CHAIN_TAX, &a, 2000000 + (uint64_t)h, &txs[1]);
        test_chain_commit(&f->chain, f->ledger, txs, 2, 2000000 + (uint64_t)h);
        assert_int_equal(head->height, (uint64_t)h);
        block_hashes[h - 1] = head->hash;
        gov_merkle_leaf_hash(GOV_SUITE_P256_SHA256, head->hash.bytes, GOV_HASH_LEN, &leaves[h - 1]);
    }
    /* Each stored block links to the previous one, its history_root covers the earlier
     * blocks, and its certificate is stored with it. */
    for (uint64_t h = 1; h <= 3; h++) {
        gov_block block;
        gov_commit_cert cert;
        assert_int_equal(gov_ledger_block_get(f->ledger, h, &block, &cert, why, sizeof(why)), 0);
        gov_hash hash, history;
        assert_int_equal(gov_block_hash(GOV_SUITE_P256_SHA256, &block.header, &hash), 0);
        assert_memory_equal(hash.bytes, block_hashes[h - 1].bytes, GOV_HASH_LEN);
        const gov_hash *prev = h == 1 ? &f->chain.genesis->hash : &block_hashes[h - 2];
        assert_memory_equal(block.header.prev_hash.bytes, prev->bytes, GOV_HASH_LEN);
        gov_merkle_root(GOV_SUITE_P256_SHA256, leaves, h - 1, &history);
        assert_memory_equal(block.header.history_root.bytes, history.bytes, GOV_HASH_LEN);
        assert_int_equal(block.txs_count, 2);
        assert_int_equal(cert.height, h);
        assert_int_equal(
            gov_commit_cert_verify(&cert, gov_ledger_validators(f->ledger), why, sizeof(why)), 0);
        gov_block_clear(&block);
    }
    assert_int_equal(gov_ledger_block_get(f->ledger, 4, NULL, NULL, why, sizeof(why)), GOV_ENOENT);
    /* Block hashes by height: from the 'L' index, and the same from the blocks themselves
     * when a store has no index (written before it existed). */
    for (int pass = 0; pass < 2; pass++) {
        for (uint64_t h = 1; h <= 3; h++) {
            gov_hash hash;
            assert_int_equal(gov_ledger_block_hash(f->ledger, h, &hash, why, sizeof(why)), 0);
            assert_memory_equal(hash.bytes, block_hashes[h - 1].bytes, GOV_HASH_LEN);
        }
        gov_kv_batch batch;
        gov_kv_batch_init(&batch);
        for (uint8_t h = 1; h <= 3; h++) {
            uint8_t key[9] = {'L', 0, 0, 0, 0, 0, 0, 0, h};
            assert_int_equal(gov_kv_batch_delete(&batch, key, sizeof(key)), 0);
        }
        size_t before = gov_kv_memory_count(f->store);
        assert_int_equal(gov_kv_write(f->store, &batch, why, sizeof(why)), 0);
        gov_kv_batch_clear(&batch);
        /* The first pass deleted the three index entries: they were there. */
        assert_int_equal(gov_kv_memory_count(f->store), pass == 0 ? before - 3 : before);
    }
    gov_hash none;
    assert_int_equal(gov_ledger_block_hash(f->ledger, 4, &none, why, sizeof(why)), GOV_ENOENT);
}

/* Build drops what the rules reject, with the reason, and keeps the rest in order. */
static void test_build_drops_rejected(void **state)
{
    fixture *f = *state;
    char why[256];
    gov_hash a = doc(0xaa);
    gov_tx txs[3];
    test_chain_issue(&f->chain, &a, 2000000, &txs[0]);
    test_chain_issue(&f->chain, &a, 2000000, &txs[1]); /* the same document again */
    test_chain_remark(&f->chain, GOV_TX_ENDORSE, CHAIN_TAX, &a, 2000000, &txs[2]);
    gov_reject verdicts[3];
    gov_block block;
    uint32_t included = 0;
    assert_int_equal(gov_ledger_build(f->ledger, 2000000, 1, txs, 3, verdicts, &block, &included,
                                      why, sizeof(why)),
                     0);
    assert_int_equal(included, 2);
    assert_int_equal(verdicts[0], GOV_REJECT_NONE);
    assert_int_equal(verdicts[1], GOV_REJECT_DOC_EXISTS);
    assert_int_equal(verdicts[2], GOV_REJECT_NONE);
    assert_int_equal(block.header.proposer, 1);
    assert_int_equal(block.txs[1].kind, GOV_TX_ENDORSE);
    /* Building wrote nothing. */
    assert_int_equal(gov_kv_memory_count(f->store), 0);
    gov_block_clear(&block);
}

typedef void (*tamper_fn)(gov_block *block);

static void wrong_height(gov_block *b)
{
    b->header.height++;
}
static void wrong_prev(gov_block *b)
{
    b->header.prev_hash.bytes[0] ^= 1;
}
static void wrong_time(gov_block *b)
{
    b->header.time_ms = 10;
}
static void wrong_proposer(gov_block *b)
{
    b->header.proposer = 9;
}
static void wrong_tx_root(gov_block *b)
{
    b->header.tx_root.bytes[5] ^= 1;
}
static void wrong_state_root(gov_block *b)
{
    b->header.state_root.bytes[5] ^= 1;
}
static void wrong_history_root(gov_block *b)
{
    b->header.history_root.bytes[5] ^= 1;
}
static void wrong_validators(gov_block *b)
{
    b->header.validators_hash.bytes[0] ^= 1;
}
static void wrong_chain(gov_block *b)
{
    b->header.chain_id.bytes[0] ^= 1;
}
static void wrong_count(gov_block *b)
{
    b->header.tx_count++;
}
static void forged_tx(gov_block *b)
{
    b->txs[0].signature[3] ^= 1;
}
static void swapped_txs(gov_block *b)
{
    gov_tx first = b->txs[0];
    b->txs[0] = b->txs[1];
    b->txs[1] = first;
}

static void test_validate_refuses(void **state)
{
    fixture *f = *state;
    char why[256];
    static const struct {
        tamper_fn tamper;
        const char *reason;
    } cases[] = {
        {wrong_height, "height: the block says 2, the ledger expects 1"},
        {wrong_prev, "prev_hash: the block says"},
        {wrong_time, "time_ms: 10 is before the previous block's"},
        {wrong_proposer, "proposer: 9 is not one of the 4 validators"},
        {wrong_tx_root, "tx_root: the block says"},
        {wrong_state_root, "state_root: the block says"},
        {wrong_history_root, "history_root"},
        {wrong_validators, "validators_hash"},
        {wrong_chain, "chain_id"},
        {wrong_count, "tx_count: the block says 3, it holds 2 transactions"},
        {forged_tx, "txs[0]: rejected: bad_signature"},
        {swapped_txs, "txs[0]: rejected: unknown_document"},
    };
    gov_hash a = doc(0xab);
    gov_tx txs[2];
    test_chain_issue(&f->chain, &a, 2000000, &txs[0]);
    test_chain_remark(&f->chain, GOV_TX_ENDORSE, CHAIN_TAX, &a, 2000000, &txs[1]);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gov_reject verdicts[2];
        gov_block block;
        uint32_t included = 0;
        assert_int_equal(gov_ledger_build(f->ledger, 2000000, 0, txs, 2, verdicts, &block,
                                          &included, why, sizeof(why)),
                         0);
        gov_hash digest;
        assert_int_equal(gov_ledger_validate(f->ledger, &block, NULL, &digest, why, sizeof(why)),
                         0);
        cases[i].tamper(&block);
        int rc = gov_ledger_validate(f->ledger, &block, NULL, &digest, why, sizeof(why));
        if (rc != GOV_EINVAL || strstr(why, cases[i].reason) == NULL) {
            fail_msg("case %zu: got %d \"%s\", expected \"%s\"", i, rc, why, cases[i].reason);
        }
        /* A certified but invalid block is refused at commit as well. */
        gov_commit_cert cert;
        test_chain_certify(&f->chain, &block, 3, &cert);
        assert_int_not_equal(gov_ledger_commit(f->ledger, &block, &cert, why, sizeof(why)), 0);
        assert_int_equal(gov_kv_memory_count(f->store), 0);
        assert_int_equal(gov_ledger_head_get(f->ledger)->height, 0);
        gov_block_clear(&block);
    }
    /* The clock: a block more than the skew away from local time. */
    gov_reject verdicts[2];
    gov_block block;
    uint32_t included;
    assert_int_equal(gov_ledger_build(f->ledger, 2000000, 0, txs, 2, verdicts, &block, &included,
                                      why, sizeof(why)),
                     0);
    gov_ledger_checks clock = {.check_clock = true, .now_ms = 2000000 + 5001};
    gov_hash digest;
    assert_int_equal(gov_ledger_validate(f->ledger, &block, &clock, &digest, why, sizeof(why)),
                     GOV_EINVAL);
    assert_non_null(strstr(why, "more than 5000 ms from local time"));
    clock.now_ms = 2000000 + 5000;
    assert_int_equal(gov_ledger_validate(f->ledger, &block, &clock, &digest, why, sizeof(why)), 0);
    gov_block_clear(&block);
}

/* A validated block's executed writes are reused only for that very block: a copy with
 * the same header but another signature (the header names transactions by ids, which
 * leave signatures out) is validated in full and refused, even with a quorum behind it. */
static void test_commit_revalidates_another_copy(void **state)
{
    fixture *f = *state;
    char why[256];
    gov_hash a = doc(0xaf);
    gov_tx tx;
    test_chain_issue(&f->chain, &a, 2000000, &tx);
    gov_reject verdict;
    gov_block block;
    uint32_t included;
    assert_int_equal(gov_ledger_build(f->ledger, 2000000, 0, &tx, 1, &verdict, &block, &included,
                                      why, sizeof(why)),
                     0);
    gov_hash digest;
    assert_int_equal(gov_ledger_validate(f->ledger, &block, NULL, &digest, why, sizeof(why)), 0);
    block.txs[0].signature[9] ^= 1;
    gov_hash same;
    assert_int_equal(gov_block_hash(GOV_SUITE_P256_SHA256, &block.header, &same), 0);
    assert_memory_equal(same.bytes, digest.bytes, GOV_HASH_LEN);
    gov_commit_cert cert;
    test_chain_certify(&f->chain, &block, 3, &cert);
    assert_int_equal(gov_ledger_commit(f->ledger, &block, &cert, why, sizeof(why)), GOV_EINVAL);
    assert_non_null(strstr(why, "txs[0]: rejected: bad_signature"));
    assert_int_equal(gov_kv_memory_count(f->store), 0);
    /* The block as built still commits. */
    block.txs[0].signature[9] ^= 1;
    assert_int_equal(gov_ledger_commit(f->ledger, &block, &cert, why, sizeof(why)), 0);
    gov_block_clear(&block);
}

/* gov_ledger_check gives build's verdicts and leaves the executed block pending: its
 * commit reuses that execution. Shown with the one difference reuse makes: a block
 * validated with signatures_checked (the caller vouches for them) commits without its
 * signatures being checked again, which a fresh execution would do. */
static void test_check_keeps_pending(void **state)
{
    fixture *f = *state;
    char why[256];
    gov_hash a = doc(0xc1), b = doc(0xc2);
    gov_tx tx, other;
    test_chain_issue(&f->chain, &a, 2000000, &tx);
    test_chain_issue(&f->chain, &b, 2000000, &other);
    gov_reject verdict;
    gov_block block;
    uint32_t included;
    assert_int_equal(gov_ledger_build(f->ledger, 2000000, 0, &tx, 1, &verdict, &block, &included,
                                      why, sizeof(why)),
                     0);
    block.txs[0].signature[5] ^= 1; /* a copy the caller claims it checked */
    gov_ledger_checks trusted = {.signatures_checked = true};
    gov_hash digest;
    assert_int_equal(gov_ledger_validate(f->ledger, &block, &trusted, &digest, why, sizeof(why)),
                     0);
    /* Checks in between: verdicts as build gives them, nothing written. */
    gov_tx both[2];
    both[0] = other;
    both[1] = other; /* the same transaction twice: the second is a duplicate */
    gov_reject verdicts[2];
    assert_int_equal(gov_ledger_check(f->ledger, 2000000, both, 2, verdicts, why, sizeof(why)), 0);
    assert_int_equal(verdicts[0], GOV_REJECT_NONE);
    assert_int_equal(verdicts[1], GOV_REJECT_DUPLICATE_TX);
    assert_int_equal(gov_kv_memory_count(f->store), 0);
    /* The pending execution survived the check: the commit takes it as it is. */
    gov_commit_cert cert;
    test_chain_certify(&f->chain, &block, 3, &cert);
    assert_int_equal(gov_ledger_commit(f->ledger, &block, &cert, why, sizeof(why)), 0);
    assert_int_equal(gov_ledger_head_get(f->ledger)->height, 1);
    gov_block_clear(&block);
    gov_tx_clear(&tx);
    gov_tx_clear(&other);
}

static void test_commit_needs_certificate(void **state)
{
    fixture *f = *state;
    char why[256];
    gov_hash a = doc(0xac);
    gov_tx tx;
    test_chain_issue(&f->chain, &a, 2000000, &tx);
    gov_reject verdict;
    gov_block block;
    uint32_t included;
    assert_int_equal(gov_ledger_build(f->ledger, 2000000, 0, &tx, 1, &verdict, &block, &included,
                                      why, sizeof(why)),
                     0);
    gov_commit_cert cert;
    test_chain_certify(&f->chain, &block, 2, &cert); /* below the quorum of 3 */
    assert_int_equal(gov_ledger_commit(f->ledger, &block, &cert, why, sizeof(why)), GOV_EINVAL);
    assert_non_null(strstr(why, "2 votes, a quorum is 3"));
    test_chain_certify(&f->chain, &block, 3, &cert);
    cert.digest.bytes[0] ^= 1;
    assert_int_equal(gov_ledger_commit(f->ledger, &block, &cert, why, sizeof(why)), GOV_EINVAL);
    assert_non_null(strstr(why, "commit_cert.digest"));
    test_chain_certify(&f->chain, &block, 3, &cert);
    cert.height = 2;
    assert_int_equal(gov_ledger_commit(f->ledger, &block, &cert, why, sizeof(why)), GOV_EINVAL);
    assert_int_equal(gov_kv_memory_count(f->store), 0);
    test_chain_certify(&f->chain, &block, 3, &cert);
    assert_int_equal(gov_ledger_commit(f->ledger, &block, &cert, why, sizeof(why)), 0);
    assert_int_equal(gov_ledger_head_get(f->ledger)->height, 1);
    gov_block_clear(&block);
}

/* A failed write stops the ledger; the store keeps the previous block whole, and a
 * ledger reopened on it carries on from there. */
static void test_failed_write_stops(void **state)
{
    fixture *f = *state;
    char why[256];
    gov_tx tx;
    gov_hash a = doc(0xad), b = doc(0xae);
    test_chain_issue(&f->chain, &a, 2000000, &tx);
    test_chain_commit(&f->chain, f->ledger, &tx, 1, 2000000);
    size_t entries = gov_kv_memory_count(f->store);
    gov_ledger_head before = *gov_ledger_head_get(f->ledger);

    gov_kv_memory_fail_after(f->store, 0);
    test_chain_issue(&f->chain, &b, 2000001, &tx);
    gov_reject verdict;
    gov_block block;
    uint32_t included;
    assert_int_equal(gov_ledger_build(f->ledger, 2000001, 0, &tx, 1, &verdict, &block, &included,
                                      why, sizeof(why)),
                     0);
    gov_commit_cert cert;
    test_chain_certify(&f->chain, &block, 3, &cert);
    assert_int_equal(gov_ledger_commit(f->ledger, &block, &cert, why, sizeof(why)), GOV_EIO);
    assert_int_equal(gov_kv_memory_count(f->store), entries);
    /* Every later call refuses. */
    gov_kv_memory_fail_after(f->store, -1);
    assert_int_equal(gov_ledger_commit(f->ledger, &block, &cert, why, sizeof(why)), GOV_EIO);
    assert_non_null(strstr(why, "stopped after a failed write"));

    gov_ledger_close(f->ledger);
    assert_int_equal(gov_ledger_open(f->chain.genesis, f->store, &f->ledger, why, sizeof(why)), 0);
    const gov_ledger_head *head = gov_ledger_head_get(f->ledger);
    assert_int_equal(head->height, before.height);
    assert_memory_equal(head->hash.bytes, before.hash.bytes, GOV_HASH_LEN);
    assert_memory_equal(head->state_root.bytes, before.state_root.bytes, GOV_HASH_LEN);
    assert_int_equal(gov_ledger_commit(f->ledger, &block, &cert, why, sizeof(why)), 0);
    assert_int_equal(head->height, 2);
    gov_block_clear(&block);
}

/* Every entry of a store, in key order, as one byte string per entry. */
typedef struct {
    gov_buf all;
    size_t count;
} dump;

static int dump_entry(void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
                      size_t value_len)
{
    dump *d = arg;
    gov_enc_bin(&d->all, key, key_len);
    gov_enc_bin(&d->all, value, value_len);
    d->count++;
    return gov_buf_ok(&d->all) ? 0 : GOV_ENOMEM;
}

static void assert_same_store(gov_kv *a, gov_kv *b)
{
    dump da = {0};
    dump db = {0};
    gov_buf_init(&da.all);
    gov_buf_init(&db.all);
    assert_int_equal(gov_kv_scan(a, NULL, 0, NULL, 0, dump_entry, &da, NULL, 0), 0);
    assert_int_equal(gov_kv_scan(b, NULL, 0, NULL, 0, dump_entry, &db, NULL, 0), 0);
    assert_int_equal(da.count, db.count);
    assert_int_equal(da.all.len, db.all.len);
    assert_memory_equal(da.all.data, db.all.data, da.all.len);
    gov_buf_free(&da.all);
    gov_buf_free(&db.all);
}

/* The ledger executes every block in one overlay, emptied between blocks: nothing a
 * block executed and did not commit (built and dropped, validated and refused, refused
 * at commit) reaches the store with a later block. The store ends exactly as that of
 * a ledger that only ever saw the committed blocks. */
static void test_executed_writes_do_not_leak(void **state)
{
    fixture *f = *state;
    char why[256];
    gov_kv *clean_store = NULL;
    gov_ledger *clean = NULL;
    assert_int_equal(gov_kv_memory_open(&clean_store), 0);
    assert_int_equal(gov_ledger_open(f->chain.genesis, clean_store, &clean, why, sizeof(why)), 0);
    for (uint8_t h = 1; h <= 3; h++) {
        /* Executed and dropped: a block built, then another validated and refused. */
        gov_tx dropped;
        gov_hash unused = doc((uint8_t)(0x70 + h));
        test_chain_issue(&f->chain, &unused, 2000000, &dropped);
        gov_reject verdict;
        gov_block block;
        uint32_t included = 0;
        assert_int_equal(gov_ledger_build(f->ledger, 2000000 + h, 0, &dropped, 1, &verdict, &block,
                                          &included, why, sizeof(why)),
                         0);
        gov_block_clear(&block);
        gov_tx refused;
        gov_hash other = doc((uint8_t)(0x80 + h));
        test_chain_issue(&f->chain, &other, 2000000, &refused);
        assert_int_equal(gov_ledger_build(f->ledger, 2000000 + h, 0, &refused, 1, &verdict, &block,
                                          &included, why, sizeof(why)),
                         0);
        block.header.state_root.bytes[0] ^= 1;
        gov_hash digest;
        assert_int_equal(gov_ledger_validate(f->ledger, &block, NULL, &digest, why, sizeof(why)),
                         GOV_EINVAL);
        gov_commit_cert cert;
        test_chain_certify(&f->chain, &block, 3, &cert);
        assert_int_equal(gov_ledger_commit(f->ledger, &block, &cert, why, sizeof(why)), GOV_EINVAL);
        gov_block_clear(&block);
        /* Then the block that commits, on both ledgers. */
        gov_tx tx;
        gov_hash a = doc((uint8_t)(0x60 + h));
        test_chain_issue(&f->chain, &a, 2000000, &tx);
        assert_int_equal(gov_ledger_build(f->ledger, 2000000 + h, 0, &tx, 1, &verdict, &block,
                                          &included, why, sizeof(why)),
                         0);
        test_chain_certify(&f->chain, &block, 3, &cert);
        assert_int_equal(gov_ledger_commit(f->ledger, &block, &cert, why, sizeof(why)), 0);
        assert_int_equal(gov_ledger_commit(clean, &block, &cert, why, sizeof(why)), 0);
        gov_block_clear(&block);
        assert_same_store(f->store, clean_store);
    }
    gov_ledger_close(clean);
    gov_kv_close(clean_store);
}

/* Reopening finds the head; another chain's genesis is refused; LevelDB keeps it all. */
static void test_reopen(void **state)
{
    fixture *f = *state;
    char why[256];
    char *dir = test_make_temp_dir();
    gov_kv *disk = NULL;
    assert_int_equal(gov_kv_leveldb_open(dir, true, &disk, why, sizeof(why)), 0);
    gov_ledger *ledger = NULL;
    assert_int_equal(gov_ledger_open(f->chain.genesis, disk, &ledger, why, sizeof(why)), 0);
    for (int h = 1; h <= 3; h++) {
        gov_tx tx;
        gov_hash a = doc((uint8_t)(0x40 + h));
        test_chain_issue(&f->chain, &a, 2000000, &tx);
        test_chain_commit(&f->chain, ledger, &tx, 1, 2000000 + (uint64_t)h);
    }
    gov_ledger_head before = *gov_ledger_head_get(ledger);
    gov_ledger_close(ledger);
    gov_kv_close(disk);

    assert_int_equal(gov_kv_leveldb_open(dir, false, &disk, why, sizeof(why)), 0);
    assert_int_equal(gov_ledger_open(f->chain.genesis, disk, &ledger, why, sizeof(why)), 0);
    const gov_ledger_head *head = gov_ledger_head_get(ledger);
    assert_int_equal(head->height, 3);
    assert_memory_equal(head->hash.bytes, before.hash.bytes, GOV_HASH_LEN);
    assert_int_equal(head->history.size, 3);
    gov_ledger_close(ledger);

    test_chain other;
    test_chain_init(&other);
    assert_int_equal(gov_ledger_open(other.genesis, disk, &ledger, why, sizeof(why)), GOV_EGENESIS);
    assert_non_null(strstr(why, "belongs to chain"));
    test_chain_free(&other);
    gov_kv_close(disk);
    test_remove_tree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_blocks_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_drops_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_needs_certificate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_revalidates_another_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_keeps_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_executed_writes_do_not_leak, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
