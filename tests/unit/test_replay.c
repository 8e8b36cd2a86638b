/*
 * Replay: a ledger rebuilt from a data directory re-verifies every block; `govchain
 * replay` prints the summary and exports every transaction; a block whose contents do
 * not re-verify stops the replay at its height, naming the field and both values, even
 * when a quorum certified it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "govchain/error.h"
#include "govchain/kv.h"
#include "govchain/kv_leveldb.h"
#include "govchain/ledger.h"
#include "govchain/quorum.h"
#include "govchain/replay.h"
#include "govchain/rules.h"
#include "node/verify_pool.h"
#include "tests/unit/chain.h"
#include "tests/unit/test_util.h"

enum { BLOCKS = 4, TXS_PER_BLOCK = 3 };

typedef struct {
    test_chain chain;
    char *dir;
    char data_dir[4096];
    char genesis_path[4096];
} fixture;

static gov_hash doc(int block, int i)
{
    gov_hash hash;
    memset(hash.bytes, 0x20 + block * 8 + i, GOV_HASH_LEN);
    return hash;
}

/* A data directory of BLOCKS blocks: issues and endorsements. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    test_chain_init(&f->chain);
    f->dir = test_make_temp_dir();
    snprintf(f->data_dir, sizeof(f->data_dir), "%s/data", f->dir);
    snprintf(f->genesis_path, sizeof(f->genesis_path), "%s/genesis.json", f->dir);
    FILE *file = fopen(f->genesis_path, "w");
    assert_non_null(file);
    fputs(f->chain.genesis_json, file);
    assert_int_equal(fclose(file), 0);
    char why[256];
    gov_kv *store = NULL;
    gov_ledger *ledger = NULL;
    assert_int_equal(gov_kv_leveldb_open(f->data_dir, true, &store, why, sizeof(why)), 0);
    assert_int_equal(gov_ledger_open(f->chain.genesis, store, &ledger, why, sizeof(why)), 0);
    for (int b = 1; b <= BLOCKS; b++) {
        gov_tx txs[TXS_PER_BLOCK];
        gov_hash issued = doc(b, 0);
        test_chain_issue(&f->chain, &issued, 2000000, &txs[0]);
        test_chain_remark(&f->chain, GOV_TX_ENDORSE, CHAIN_TAX, &issued, 2000000, &txs[1]);
        gov_hash other = doc(b, 1);
        test_chain_issue(&f->chain, &other, 2000000, &txs[2]);
        test_chain_commit(&f->chain, ledger, txs, TXS_PER_BLOCK, 2000000 + (uint64_t)b);
    }
    gov_ledger_close(ledger);
    gov_kv_close(store);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    test_remove_tree(f->dir);
    free(f->dir);
    test_chain_free(&f->chain);
    free(f);
    return 0;
}

/* Runs `govchain replay` with extra arguments; returns the exit status and the output
 * (stdout and stderr). */
static int run_replay(const fixture *f, const char *extra, char *output, size_t output_len)
{
    char command[16384];
    snprintf(command, sizeof(command), "%s replay --data-dir %s --genesis %s %s 2>&1", GOV_BINARY,
             f->data_dir, f->genesis_path, extra);
    FILE *pipe = popen(command, "r");
    assert_non_null(pipe);
    size_t used = fread(output, 1, output_len - 1, pipe);
    output[used] = '\0';
    int status = pclose(pipe);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* A verifier as the node's is, but in line: start checks every signature with the
 * rules' own check, finish reports it; blocks are counted. */
typedef struct {
    const gov_genesis *genesis;
    int blocks;
} verifier_state;

static void *verify_start(void *arg, const gov_block *block)
{
    verifier_state *v = arg;
    bool all_valid = true;
    for (uint32_t i = 0; i < block->txs_count; i++) {
        all_valid =
            all_valid && gov_rules_check_signature(v->genesis, &block->txs[i]) == GOV_REJECT_NONE;
    }
    v->blocks++;
    return all_valid ? v : NULL;
}

static bool verify_finish(void *arg, void *job)
{
    (void)arg;
    return job != NULL;
}

static void test_replay_library(void **state)
{
    fixture *f = *state;
    char why[512];
    gov_kv *source_store, *target_store;
    gov_ledger *source, *target;
    assert_int_equal(gov_kv_leveldb_open(f->data_dir, false, &source_store, why, sizeof(why)), 0);
    assert_int_equal(gov_ledger_open(f->chain.genesis, source_store, &source, why, sizeof(why)), 0);
    assert_int_equal(gov_kv_memory_open(&target_store), 0);
    assert_int_equal(gov_ledger_open(f->chain.genesis, target_store, &target, why, sizeof(why)), 0);
    gov_replay_summary summary;
    verifier_state verified = {.genesis = f->chain.genesis};
    gov_replay_verifier verifier = {
        .start = verify_start, .finish = verify_finish, .arg = &verified};
    assert_int_equal(gov_replay(source, target, 2, NULL, NULL, NULL, &summary, why, sizeof(why)),
                     0);
    assert_int_equal(summary.blocks, 2);
    assert_int_equal(summary.height, 2);
    assert_int_equal(
        gov_replay(source, target, 0, &verifier, NULL, NULL, &summary, why, sizeof(why)), 0);
    assert_int_equal(summary.blocks, BLOCKS - 2);
    assert_int_equal(verified.blocks, BLOCKS - 2);
    assert_int_equal(summary.transactions, (BLOCKS - 2) * TXS_PER_BLOCK);
    const gov_ledger_head *ours = gov_ledger_head_get(target);
    const gov_ledger_head *theirs = gov_ledger_head_get(source);
    assert_int_equal(ours->height, BLOCKS);
    assert_memory_equal(ours->hash.bytes, theirs->hash.bytes, GOV_HASH_LEN);
    assert_memory_equal(ours->state_root.bytes, theirs->state_root.bytes, GOV_HASH_LEN);
    gov_ledger_close(target);
    gov_ledger_close(source);
    gov_kv_close(target_store);
    gov_kv_close(source_store);
}

/* Rewrites block `height` in the data directory after change() altered it; when
 * recertify, a quorum signs the altered block, as a faulty majority or a bug could. */
static void tamper(fixture *f, uint64_t height, void (*change)(gov_block *), bool recertify)
{
    char why[512];
    gov_kv *store;
    gov_ledger *ledger;
    assert_int_equal(gov_kv_leveldb_open(f->data_dir, false, &store, why, sizeof(why)), 0);
    assert_int_equal(gov_ledger_open(f->chain.genesis, store, &ledger, why, sizeof(why)), 0);
    gov_block block;
    gov_commit_cert cert;
    assert_int_equal(gov_ledger_block_get(ledger, height, &block, &cert, why, sizeof(why)), 0);
    change(&block);
    if (recertify) {
        test_chain_certify(&f->chain, &block, gov_quorum_size(CHAIN_VALIDATORS), &cert);
    }
    gov_buf record;
    gov_buf_init(&record);
    assert_int_equal(gov_block_record_encode(&block, &cert, &record), 0);
    uint8_t key[9] = {'B'};
    for (int i = 0; i < 8; i++) {
        key[1 + i] = (uint8_t)(height >> (56 - 8 * i));
    }
    assert_int_equal(gov_kv_put(store, key, sizeof(key), record.data, record.len, why, sizeof(why)),
                     0);
    gov_buf_free(&record);
    gov_block_clear(&block);
    gov_ledger_close(ledger);
    gov_kv_close(store);
}

static void wrong_state_root(gov_block *block)
{
    block->header.state_root.bytes[0] ^= 0xff;
}

static void forged_signature(gov_block *block)
{
    block->txs[0].signature[7] ^= 1;
}

/* With a verifier, a block with a forged signature is still refused and named: the
 * execution that skipped signatures is thrown away and the block checked in full. */
static void test_replay_verifier_finds_forgery(void **state)
{
    fixture *f = *state;
    tamper(f, 2, forged_signature, false);
    char why[512];
    gov_kv *source_store, *target_store;
    gov_ledger *source, *target;
    assert_int_equal(gov_kv_leveldb_open(f->data_dir, false, &source_store, why, sizeof(why)), 0);
    assert_int_equal(gov_ledger_open(f->chain.genesis, source_store, &source, why, sizeof(why)), 0);
    assert_int_equal(gov_kv_memory_open(&target_store), 0);
    assert_int_equal(gov_ledger_open(f->chain.genesis, target_store, &target, why, sizeof(why)), 0);
    verifier_state verified = {.genesis = f->chain.genesis};
    gov_replay_verifier verifier = {
        .start = verify_start, .finish = verify_finish, .arg = &verified};
    gov_replay_summary summary;
    assert_int_equal(
        gov_replay(source, target, 0, &verifier, NULL, NULL, &summary, why, sizeof(why)),
        GOV_EINVAL);
    assert_non_null(strstr(why, "height 2: txs[0]: rejected: bad_signature"));
    assert_int_equal(summary.blocks, 1);
    assert_int_equal(gov_ledger_head_get(target)->height, 1);
    gov_ledger_close(target);
    gov_ledger_close(source);
    gov_kv_close(target_store);
    gov_kv_close(source_store);
}

/* Opens the fixture's data directory as the source and a fresh in-memory target. */
typedef struct {
    gov_kv *source_store;
    gov_kv *target_store;
    gov_ledger *source;
    gov_ledger *target;
} replay_pair;

static void pair_open(fixture *f, replay_pair *p)
{
    char why[512];
    assert_int_equal(gov_kv_leveldb_open(f->data_dir, false, &p->source_store, why, sizeof(why)),
                     0);
    assert_int_equal(
        gov_ledger_open(f->chain.genesis, p->source_store, &p->source, why, sizeof(why)), 0);
    assert_int_equal(gov_kv_memory_open(&p->target_store), 0);
    assert_int_equal(
        gov_ledger_open(f->chain.genesis, p->target_store, &p->target, why, sizeof(why)), 0);
}

static void pair_close(replay_pair *p)
{
    gov_ledger_close(p->target);
    gov_ledger_close(p->source);
    gov_kv_close(p->target_store);
    gov_kv_close(p->source_store);
}

/* Replays the fixture with the node's verify pool of `threads` threads (0: the
 * finishing thread checks everything); returns the result, *committed the target's
 * head. */
static int replay_with_pool(fixture *f, unsigned threads, uint64_t *committed, char *why,
                            size_t why_len)
{
    replay_pair p;
    pair_open(f, &p);
    gov_verify_pool *pool = gov_verify_pool_open(f->chain.genesis, threads);
    assert_non_null(pool);
    gov_replay_verifier verifier = gov_verify_for_replay(pool);
    gov_replay_summary summary;
    int rc = gov_replay(p.source, p.target, 0, &verifier, NULL, NULL, &summary, why, why_len);
    gov_verify_pool_close(pool);
    *committed = gov_ledger_head_get(p.target)->height;
    assert_int_equal(summary.height, *committed);
    assert_int_equal(summary.blocks, *committed);
    if (rc == 0) {
        assert_memory_equal(gov_ledger_head_get(p.target)->hash.bytes,
                            gov_ledger_head_get(p.source)->hash.bytes, GOV_HASH_LEN);
    }
    pair_close(&p);
    return rc;
}

/* The pool, with threads and without: a whole chain replays; a forged signature in a
 * block whose signatures were checked while the blocks before it were executed and
 * committed is reported at its own height, after those blocks are committed. */
static void test_replay_pool(void **state)
{
    fixture *f = *state;
    char why[512];
    uint64_t committed = 0;
    for (unsigned threads = 0; threads <= 3; threads += 3) {
        assert_int_equal(replay_with_pool(f, threads, &committed, why, sizeof(why)), 0);
        assert_int_equal(committed, BLOCKS);
    }
    tamper(f, 3, forged_signature, false);
    for (unsigned threads = 0; threads <= 3; threads += 3) {
        assert_int_equal(replay_with_pool(f, threads, &committed, why, sizeof(why)), GOV_EINVAL);
        if (strstr(why, "height 3: txs[0]: rejected: bad_signature") == NULL) {
            fail_msg("unexpected reason: %s", why);
        }
        assert_int_equal(committed, 2);
    }
}

/* A certificate that no longer matches its block is reported at its height, with the
 * blocks before it committed, though its signatures were checked ahead. */
static void test_replay_pool_certificate(void **state)
{
    fixture *f = *state;
    char why[512];
    uint64_t committed = 0;
    tamper(f, 2, wrong_state_root, false);
    assert_int_equal(replay_with_pool(f, 2, &committed, why, sizeof(why)), GOV_EINVAL);
    if (strstr(why, "height 2: commit_cert.digest: the block says") == NULL) {
        fail_msg("unexpected reason: %s", why);
    }
    assert_int_equal(committed, 1);
}

/* A stored block that cannot be read is reported at its height, after the blocks before
 * it, although the replay reads ahead. */
static void test_replay_unreadable_block(void **state)
{
    fixture *f = *state;
    char why[512];
    gov_kv *store;
    assert_int_equal(gov_kv_leveldb_open(f->data_dir, false, &store, why, sizeof(why)), 0);
    uint8_t key[9] = {'B', 0, 0, 0, 0, 0, 0, 0, 3};
    assert_int_equal(gov_kv_put(store, key, sizeof(key), "junk", 4, why, sizeof(why)), 0);
    gov_kv_close(store);
    uint64_t committed = 0;
    assert_int_equal(replay_with_pool(f, 2, &committed, why, sizeof(why)), GOV_EIO);
    if (strstr(why, "height 3: block 3 is corrupted") == NULL) {
        fail_msg("unexpected reason: %s", why);
    }
    assert_int_equal(committed, 2);
}

/* The order in which the replay uses a verifier: jobs started ahead of the block being
 * executed, in height order; each finished once, in the same order, also the jobs of
 * blocks after a failure. */
typedef struct {
    const gov_genesis *genesis;
    uint64_t started[BLOCKS + 1];
    uint64_t finished[BLOCKS + 1];
    int starts;
    int finishes;
    int most_open; /* the most jobs open at once */
} order_state;

typedef struct {
    order_state *order;
    uint64_t height;
    bool all_valid;
} order_job;

static void *order_start(void *arg, const gov_block *block)
{
    order_state *o = arg;
    assert_true(o->starts <= BLOCKS);
    o->started[o->starts++] = block->header.height;
    order_job *job = malloc(sizeof(*job));
    assert_non_null(job);
    job->order = o;
    job->height = block->header.height;
    job->all_valid = true;
    for (uint32_t i = 0; i < block->txs_count; i++) {
        job->all_valid = job->all_valid &&
                         gov_rules_check_signature(o->genesis, &block->txs[i]) == GOV_REJECT_NONE;
    }
    if (o->starts - o->finishes > o->most_open) {
        o->most_open = o->starts - o->finishes;
    }
    return job;
}

static bool order_finish(void *arg, void *job_arg)
{
    order_state *o = arg;
    order_job *job = job_arg;
    assert_true(o->finishes < o->starts);
    o->finished[o->finishes++] = job->height;
    bool all_valid = job->all_valid;
    free(job);
    return all_valid;
}

static void test_replay_verifier_order(void **state)
{
    fixture *f = *state;
    char why[512];
    for (int stop = 0; stop <= 1; stop++) {
        if (stop) {
            tamper(f, 2, wrong_state_root, true); /* certified, but a wrong state root */
        }
        replay_pair p;
        pair_open(f, &p);
        order_state o = {.genesis = f->chain.genesis};
        gov_replay_verifier verifier = {.start = order_start, .finish = order_finish, .arg = &o};
        gov_replay_summary summary;
        int rc =
            gov_replay(p.source, p.target, 0, &verifier, NULL, NULL, &summary, why, sizeof(why));
        assert_int_equal(rc, stop ? GOV_EINVAL : 0);
        if (stop && strstr(why, "height 2: state_root: the block says") == NULL) {
            fail_msg("unexpected reason: %s", why);
        }
        assert_int_equal(gov_ledger_head_get(p.target)->height, stop ? 1 : BLOCKS);
        /* Small blocks: the whole chain is read ahead. */
        assert_int_equal(o.starts, BLOCKS);
        assert_int_equal(o.finishes, BLOCKS);
        assert_int_equal(o.most_open, BLOCKS);
        for (int i = 0; i < BLOCKS; i++) {
            assert_int_equal(o.started[i], (uint64_t)i + 1);
            assert_int_equal(o.finished[i], (uint64_t)i + 1);
        }
        pair_close(&p);
    }
}

static void test_replay_command(void **state)
{
    fixture *f = *state;
    char output[8192];
    char export_path[4200];
    snprintf(export_path, sizeof(export_path), "%s/history.jsonl", f->dir);
    char extra[4300];
    snprintf(extra, sizeof(extra), "--export %s", export_path);
    assert_int_equal(run_replay(f, extra, output, sizeof(output)), 0);
    assert_non_null(strstr(output, "replayed 4 blocks, 12 transactions"));
    assert_non_null(strstr(output, "height: 4"));
    /* One JSON line per transaction, in order, with its block. */
    size_t len = 0;
    char *lines = test_read_file(export_path, &len);
    int count = 0;
    for (char *line = strtok(lines, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        count++;
        assert_non_null(strstr(line, "\"result\":\"applied\""));
        assert_non_null(strstr(line, "\"tx_id\":\""));
        if (count == 5) { /* block 2, index 1: tax's endorsement */
            assert_non_null(strstr(line, "\"height\":2"));
            assert_non_null(strstr(line, "\"index\":1"));
            assert_non_null(strstr(line, "\"kind\":\"endorse\""));
            assert_non_null(strstr(line, "\"department\":\"tax\""));
        }
    }
    assert_int_equal(count, BLOCKS * TXS_PER_BLOCK);
    free(lines);
    /* The export never overwrites a file. */
    assert_int_equal(run_replay(f, extra, output, sizeof(output)), 1);
    assert_non_null(strstr(output, "cannot create"));

    assert_int_equal(run_replay(f, "--until 2", output, sizeof(output)), 0);
    assert_non_null(strstr(output, "replayed 2 blocks, 6 transactions"));
    assert_int_equal(run_replay(f, "--until 0", output, sizeof(output)), 2);
    assert_int_equal(run_replay(f, "--bogus", output, sizeof(output)), 2);
}

static void test_tampered_state_root(void **state)
{
    fixture *f = *state;
    char output[8192];
    tamper(f, 3, wrong_state_root, true);
    assert_int_equal(run_replay(f, "", output, sizeof(output)), 1);
    if (strstr(output, "height 3: state_root: the block says") == NULL ||
        strstr(output, "the ledger gives") == NULL ||
        strstr(output, "after 2 good blocks") == NULL) {
        fail_msg("unexpected output: %s", output);
    }
}

static void test_tampered_transaction(void **state)
{
    fixture *f = *state;
    char output[8192];
    tamper(f, 2, forged_signature, false);
    assert_int_equal(run_replay(f, "", output, sizeof(output)), 1);
    if (strstr(output, "height 2: txs[0]: rejected: bad_signature") == NULL) {
        fail_msg("unexpected output: %s", output);
    }
}

static void test_tampered_certificate(void **state)
{
    fixture *f = *state;
    char output[8192];
    /* The header changes, the certificate does not: it no longer names this block. */
    tamper(f, 4, wrong_state_root, false);
    assert_int_equal(run_replay(f, "", output, sizeof(output)), 1);
    if (strstr(output, "height 4: commit_cert.digest: the block says") == NULL) {
        fail_msg("unexpected output: %s", output);
    }
}

static void test_other_chain(void **state)
{
    fixture *f = *state;
    test_chain other;
    test_chain_init(&other);
    FILE *file = fopen(f->genesis_path, "w");
    assert_non_null(file);
    fputs(other.genesis_json, file);
    fclose(file);
    test_chain_free(&other);
    char output[8192];
    assert_int_equal(run_replay(f, "", output, sizeof(output)), 1);
    assert_non_null(strstr(output, "belongs to chain"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_replay_library, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_verifier_finds_forgery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_state_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_certificate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_pool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_pool_certificate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_unreadable_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_verifier_order, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
