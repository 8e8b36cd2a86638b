/*
 * Crash test of the ledger on LevelDB: a child process commits blocks in a loop and is
 * killed with SIGKILL at a random moment, many times over. After each kill the parent
 * reopens the store and checks what a restarted node would rely on:
 *
 *   1. the head never goes back;
 *   2. blocks 1 .. h are all there, decode, link to each other and to genesis, carry a
 *      certificate that verifies, and the head is block h; there is no 'B' record and
 *      no 'H' index entry for anything but these blocks (no half block);
 *   3. the state is the one the blocks produce: the documents they issued are in the
 *      state tree with the hash of their 'D' entry and the endorsements the blocks
 *      gave them, and (every few rounds and at the end) replaying the stored blocks
 *      into a fresh in-memory ledger gives the same head hash and state root.
 *
 * The next child continues from the reopened head, so the chain grows across rounds.
 *
 * The child builds each block from 1 .. ISSUES_MAX issues of fresh documents plus
 * endorsements: tax endorses the first ENDORSED_MAX documents issued in the previous
 * block, police those of the block before it. So the endorsements a document must have
 * follow from the heights alone, and the parent checks them.
 *
 * GOV_CRASH_ROUNDS sets the number of rounds; GOV_TEST_SEED replays the kill timings
 * (the kills themselves still land wherever the scheduler puts them).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "govchain/canon.h"
#include "govchain/error.h"
#include "govchain/kv.h"
#include "govchain/kv_leveldb.h"
#include "govchain/ledger.h"
#include "govchain/quorum.h"
#include "govchain/smt.h"
#include "govchain/state.h"
#include "tests/unit/chain.h"
#include "tests/unit/test_util.h"

enum {
    ROUNDS_DEFAULT = 25,
    FULL_REPLAY_EVERY = 5,
    ISSUES_MAX = 4,
    ENDORSED_MAX = 2,
    BLOCK_TXS_MAX = ISSUES_MAX + 2 * ENDORSED_MAX,
    KILL_DELAY_MIN_MS = 5,
    KILL_DELAY_MAX_MS = 150,
    /* The first child gets longer, so that even a run of a few rounds has a chain that
     * outgrows its number of kills. */
    FIRST_KILL_DELAY_MS = 300,
    /* Every KILL_EARLY_EVERY-th round kills the child without waiting for it to open the
     * store, so that some kills land in LevelDB's recovery of the previous crash. */
    KILL_EARLY_EVERY = 4,
    KILL_EARLY_MAX_MS = 30,
    CHILD_FAILED = 3,
};

_Static_assert(BLOCK_TXS_MAX <= 8, "the issue asks for blocks of 1 to 8 transactions");

static uint64_t block_time_ms(uint64_t height)
{
    return CHAIN_GENESIS_TIME_MS + 1000 * height;
}

static void put_be64(uint8_t *out, uint64_t value)
{
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(value >> (56 - 8 * i));
    }
}

static uint64_t get_be64(const uint8_t *in)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++) {
        value = value << 8 | in[i];
    }
    return value;
}

/* A fresh document hash for the i-th issue of the block at height, built in round. */
static gov_hash doc_hash_of(uint32_t round, uint64_t height, uint32_t i)
{
    uint8_t name[8 + 8 + 8 + 4];
    memcpy(name, "crashdoc", 8);
    put_be64(name + 8, round);
    put_be64(name + 16, height);
    name[24] = (uint8_t)(i >> 24);
    name[25] = (uint8_t)(i >> 16);
    name[26] = (uint8_t)(i >> 8);
    name[27] = (uint8_t)i;
    gov_hash hash;
    gov_hash_bytes(GOV_SUITE_P256_SHA256, name, sizeof(name), &hash);
    return hash;
}

/* ---- the child: commits blocks until it is killed -------------------------------- */

/* The child never returns into cmocka: a failure is reported and ends the process, and
 * the parent, which expected a SIGKILL, fails the test. */
static _Noreturn void child_fail(const char *what, const char *why)
{
    fprintf(stderr, "crash child: %s: %s\n", what, why);
    _exit(CHILD_FAILED);
}

/* The first ENDORSED_MAX documents issued in the block at height (none at 0). */
static uint32_t child_issued_docs(gov_ledger *ledger, uint64_t height, gov_hash *docs)
{
    if (height == 0) {
        return 0;
    }
    gov_block block;
    gov_commit_cert cert;
    char why[256] = "";
    if (gov_ledger_block_get(ledger, height, &block, &cert, why, sizeof(why)) != 0) {
        child_fail("block_get", why);
    }
    uint32_t count = 0;
    for (uint32_t i = 0; i < block.txs_count && count < ENDORSED_MAX; i++) {
        if (block.txs[i].kind == GOV_TX_ISSUE) {
            docs[count++] = block.txs[i].payload.issue.doc_hash;
        }
    }
    gov_block_clear(&block);
    return count;
}

static uint32_t child_next_txs(test_chain *chain, gov_ledger *ledger, uint32_t round, uint64_t *rng,
                               gov_tx *txs)
{
    uint64_t height = gov_ledger_head_get(ledger)->height + 1;
    uint64_t time_ms = block_time_ms(height);
    uint32_t count = 0;
    uint32_t issues = 1 + (uint32_t)(test_random(rng) % ISSUES_MAX);
    for (uint32_t i = 0; i < issues; i++) {
        gov_hash doc = doc_hash_of(round, height, i);
        test_chain_issue(chain, &doc, time_ms, &txs[count++]);
    }
    gov_hash docs[ENDORSED_MAX];
    uint32_t endorsed = child_issued_docs(ledger, height - 1, docs);
    for (uint32_t i = 0; i < endorsed; i++) {
        test_chain_remark(chain, GOV_TX_ENDORSE, CHAIN_TAX, &docs[i], time_ms, &txs[count++]);
    }
    endorsed = height >= 2 ? child_issued_docs(ledger, height - 2, docs) : 0;
    for (uint32_t i = 0; i < endorsed; i++) {
        test_chain_remark(chain, GOV_TX_ENDORSE, CHAIN_POLICE, &docs[i], time_ms, &txs[count++]);
    }
    return count;
}

static void child_commit(test_chain *chain, gov_ledger *ledger, const gov_tx *txs, uint32_t count)
{
    uint64_t time_ms = block_time_ms(gov_ledger_head_get(ledger)->height + 1);
    gov_reject verdicts[BLOCK_TXS_MAX];
    gov_block block;
    uint32_t included = 0;
    char why[512] = "";
    if (gov_ledger_build(ledger, time_ms, 0, txs, count, verdicts, &block, &included, why,
                         sizeof(why)) != 0) {
        child_fail("build", why);
    }
    for (uint32_t i = 0; i < count; i++) {
        if (verdicts[i] != GOV_REJECT_NONE) {
            child_fail("a transaction was rejected", gov_reject_code(verdicts[i]));
        }
    }
    if (included != count) {
        child_fail("build", "left transactions out");
    }
    gov_commit_cert cert;
    test_chain_certify(chain, &block, gov_quorum_size(CHAIN_VALIDATORS), &cert);
    if (gov_ledger_commit(ledger, &block, &cert, why, sizeof(why)) != 0) {
        child_fail("commit", why);
    }
    gov_block_clear(&block);
}

static _Noreturn void run_child(test_chain *chain, const char *dir, uint32_t round, int ready_fd)
{
    /* Fresh nonces, so that no transaction of this round repeats one built (and maybe
     * committed) by an earlier child. */
    chain->nonce = (uint64_t)(round + 1) << 32;
    uint64_t rng = test_seed() ^ ((uint64_t)(round + 1) * 0x9e3779b97f4a7c15ULL);
    char why[512] = "";
    gov_kv *store = NULL;
    gov_ledger *ledger = NULL;
    if (gov_kv_leveldb_open(dir, true, &store, why, sizeof(why)) != 0) {
        child_fail("open store", why);
    }
    if (gov_ledger_open(chain->genesis, store, &ledger, why, sizeof(why)) != 0) {
        child_fail("open ledger", why);
    }
    if (write(ready_fd, "r", 1) != 1) {
        child_fail("ready", strerror(errno));
    }
    for (;;) {
        gov_tx txs[BLOCK_TXS_MAX];
        uint32_t count = child_next_txs(chain, ledger, round, &rng, txs);
        child_commit(chain, ledger, txs, count);
        for (uint32_t i = 0; i < count; i++) {
            gov_tx_clear(&txs[i]);
        }
    }
}

/* ---- the parent: kills the child and checks the store ---------------------------- */

static void sleep_ms(uint64_t ms)
{
    struct timespec delay = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&delay, &delay) != 0 && errno == EINTR) {
    }
}

/* Runs one child and kills it; the delay counts from the child's "store open" signal,
 * or from the fork in early-kill rounds. */
static void run_and_kill(test_chain *chain, const char *dir, uint32_t round, uint64_t *rng)
{
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(ready[0]);
        run_child(chain, dir, round, ready[1]);
    }
    close(ready[1]);
    bool early = round % KILL_EARLY_EVERY == KILL_EARLY_EVERY - 1;
    uint64_t delay_ms;
    if (early) {
        delay_ms = test_random(rng) % (KILL_EARLY_MAX_MS + 1);
    } else {
        char byte;
        ssize_t got;
        do {
            got = read(ready[0], &byte, 1);
        } while (got < 0 && errno == EINTR);
        delay_ms =
            KILL_DELAY_MIN_MS + test_random(rng) % (KILL_DELAY_MAX_MS - KILL_DELAY_MIN_MS + 1);
        if (round == 0) {
            delay_ms = FIRST_KILL_DELAY_MS;
        }
    }
    sleep_ms(delay_ms);
    assert_int_equal(kill(child, SIGKILL), 0);
    int status = 0;
    pid_t waited;
    do {
        waited = waitpid(child, &status, 0);
    } while (waited < 0 && errno == EINTR);
    /* The read end stays open until the child is gone, so it never dies of SIGPIPE. */
    close(ready[0]);
    assert_int_equal(waited, child);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
        fail_msg("round %u: the child did not die of our SIGKILL (status 0x%x): it failed", round,
                 status);
    }
}

typedef struct {
    gov_hash *hashes; /* hashes[height], 1 .. height */
    uint64_t height;
    int failures;
    uint64_t count;
} index_scan;

static int count_entry(void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
                       size_t value_len)
{
    (void)key;
    (void)key_len;
    (void)value;
    (void)value_len;
    uint64_t *count = arg;
    (*count)++;
    return 0;
}

/* Each 'H' entry must name a block 1 .. height whose hash is its key. */
static int check_hash_entry(void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
                            size_t value_len)
{
    index_scan *scan = arg;
    scan->count++;
    if (key_len != 1 + GOV_HASH_LEN || value_len != 8) {
        scan->failures++;
        return 0;
    }
    uint64_t height = get_be64(value);
    if (height == 0 || height > scan->height ||
        memcmp(scan->hashes[height].bytes, key + 1, GOV_HASH_LEN) != 0) {
        scan->failures++;
    }
    return 0;
}

/* No record or index entry beyond the head: the half of a block a crash could leave. */
static void check_nothing_beyond(gov_kv *disk, gov_hash *hashes, uint64_t height)
{
    char why[256] = "";
    uint8_t key[9] = {'B'};
    put_be64(key + 1, height + 1);
    uint8_t *value = NULL;
    size_t value_len = 0;
    int rc = gov_kv_get(disk, key, sizeof(key), &value, &value_len, why, sizeof(why));
    free(value);
    if (rc != GOV_ENOENT) {
        fail_msg("a 'B' record at height %llu, above the head %llu (rc %d): a half block",
                 (unsigned long long)height + 1, (unsigned long long)height, rc);
    }
    uint64_t records = 0;
    assert_int_equal(gov_kv_scan(disk, "B", 1, NULL, 0, count_entry, &records, why, sizeof(why)),
                     0);
    assert_int_equal(records, height);
    index_scan scan = {.hashes = hashes, .height = height};
    assert_int_equal(gov_kv_scan(disk, "H", 1, NULL, 0, check_hash_entry, &scan, why, sizeof(why)),
                     0);
    assert_int_equal(scan.count, height);
    assert_int_equal(scan.failures, 0);
}

/* One stored block: decodes, is at its height, links, and its certificate verifies. */
static void check_block(gov_ledger *ledger, uint64_t height, const gov_hash *prev, gov_block *block,
                        gov_commit_cert *cert, gov_hash *hash)
{
    char why[512] = "";
    int rc = gov_ledger_block_get(ledger, height, block, cert, why, sizeof(why));
    if (rc != 0) {
        fail_msg("block %llu: %s", (unsigned long long)height, why);
    }
    assert_int_equal(block->header.height, height);
    assert_memory_equal(block->header.prev_hash.bytes, prev->bytes, GOV_HASH_LEN);
    assert_int_equal(gov_block_hash(GOV_SUITE_P256_SHA256, &block->header, hash), 0);
    assert_int_equal(cert->height, height);
    assert_memory_equal(cert->digest.bytes, hash->bytes, GOV_HASH_LEN);
    rc = gov_commit_cert_verify(cert, gov_ledger_validators(ledger), why, sizeof(why));
    if (rc != 0) {
        fail_msg("block %llu's certificate: %s", (unsigned long long)height, why);
    }
    assert_true(block->txs_count >= 1);
    assert_true(block->txs_count <= BLOCK_TXS_MAX);
}

/* Walks blocks 1 .. head, filling hashes[]; with replay, commits each block into a
 * fresh in-memory ledger (which re-executes it) and compares the heads. */
static void check_blocks(const test_chain *chain, gov_ledger *ledger, gov_hash *hashes, bool replay)
{
    const gov_ledger_head *head = gov_ledger_head_get(ledger);
    char why[512] = "";
    gov_kv *memory = NULL;
    gov_ledger *replayed = NULL;
    if (replay) {
        assert_int_equal(gov_kv_memory_open(&memory), 0);
        assert_int_equal(gov_ledger_open(chain->genesis, memory, &replayed, why, sizeof(why)), 0);
    }
    hashes[0] = chain->genesis->hash;
    gov_hash last_state_root;
    gov_smt_empty_root(&last_state_root);
    for (uint64_t h = 1; h <= head->height; h++) {
        gov_block block;
        gov_commit_cert cert;
        check_block(ledger, h, &hashes[h - 1], &block, &cert, &hashes[h]);
        last_state_root = block.header.state_root;
        if (replay && gov_ledger_commit(replayed, &block, &cert, why, sizeof(why)) != 0) {
            fail_msg("replaying block %llu: %s", (unsigned long long)h, why);
        }
        gov_block_clear(&block);
    }
    assert_memory_equal(head->hash.bytes, hashes[head->height].bytes, GOV_HASH_LEN);
    assert_memory_equal(head->state_root.bytes, last_state_root.bytes, GOV_HASH_LEN);
    assert_int_equal(head->history.size, head->height);
    if (replay) {
        const gov_ledger_head *again = gov_ledger_head_get(replayed);
        assert_int_equal(again->height, head->height);
        assert_memory_equal(again->hash.bytes, head->hash.bytes, GOV_HASH_LEN);
        assert_memory_equal(again->state_root.bytes, head->state_root.bytes, GOV_HASH_LEN);
        gov_ledger_close(replayed);
        gov_kv_close(memory);
    }
}

/* A document issued at (height, index) in a chain of head_height blocks: in the tree at
 * the head's root with the hash of its 'D' entry, valid, with the endorsements the
 * child's blocks gave it. */
static void check_doc(gov_ledger *ledger, const gov_hash *doc_hash, uint64_t height, uint32_t index)
{
    const gov_ledger_head *head = gov_ledger_head_get(ledger);
    gov_kv *disk = gov_ledger_store(ledger);
    char why[512] = "";
    gov_state state;
    gov_state_init(&state, gov_ledger_genesis(ledger), disk, &head->state_root);
    gov_doc_state doc;
    bool found = false;
    assert_int_equal(gov_state_doc_get(&state, doc_hash, &doc, &found, why, sizeof(why)), 0);
    assert_true(found);
    assert_int_equal(doc.status, GOV_DOC_VALID);
    assert_int_equal(doc.issued.height, height);
    assert_int_equal(doc.issued.index, index);
    uint32_t expected = 0;
    if (index < ENDORSED_MAX) {
        expected = (height + 1 <= head->height) + (height + 2 <= head->height);
    }
    assert_int_equal(doc.endorsements_count, expected);
    gov_doc_state_clear(&doc);

    uint8_t key[1 + GOV_HASH_LEN] = {'D'};
    memcpy(key + 1, doc_hash->bytes, GOV_HASH_LEN);
    uint8_t *value = NULL;
    size_t value_len = 0;
    assert_int_equal(gov_kv_get(disk, key, sizeof(key), &value, &value_len, why, sizeof(why)), 0);
    assert_int_equal(gov_doc_state_decode(value, value_len, &doc, why, sizeof(why)), 0);
    free(value);
    gov_hash stored_hash;
    assert_int_equal(gov_doc_state_hash(GOV_SUITE_P256_SHA256, &doc, &stored_hash), 0);
    gov_doc_state_clear(&doc);
    gov_smt smt = {.suite = GOV_SUITE_P256_SHA256, .store = disk};
    gov_hash tree_hash;
    found = false;
    assert_int_equal(
        gov_smt_get(&smt, &head->state_root, doc_hash, &found, &tree_hash, why, sizeof(why)), 0);
    assert_true(found);
    assert_memory_equal(tree_hash.bytes, stored_hash.bytes, GOV_HASH_LEN);
}

static void check_docs_of_block(gov_ledger *ledger, uint64_t height)
{
    gov_block block;
    gov_commit_cert cert;
    char why[256] = "";
    assert_int_equal(gov_ledger_block_get(ledger, height, &block, &cert, why, sizeof(why)), 0);
    for (uint32_t i = 0; i < block.txs_count; i++) {
        if (block.txs[i].kind == GOV_TX_ISSUE) {
            check_doc(ledger, &block.txs[i].payload.issue.doc_hash, height, i);
        }
    }
    gov_block_clear(&block);
}

/* Reopens the store after a kill and checks it; gives the head height. */
static uint64_t check_store(const test_chain *chain, const char *dir, uint64_t previous,
                            bool replay, uint64_t *rng)
{
    char why[512] = "";
    gov_kv *disk = NULL;
    gov_ledger *ledger = NULL;
    int rc = gov_kv_leveldb_open(dir, false, &disk, why, sizeof(why));
    if (rc != 0) {
        fail_msg("reopening the store: %s", why);
    }
    rc = gov_ledger_open(chain->genesis, disk, &ledger, why, sizeof(why));
    if (rc != 0) {
        fail_msg("reopening the ledger: %s", why);
    }
    uint64_t height = gov_ledger_head_get(ledger)->height;
    if (height < previous) {
        fail_msg("the head went back from %llu to %llu", (unsigned long long)previous,
                 (unsigned long long)height);
    }
    gov_hash *hashes = calloc(height + 1, sizeof(*hashes));
    assert_non_null(hashes);
    check_blocks(chain, ledger, hashes, replay);
    check_nothing_beyond(disk, hashes, height);
    free(hashes);
    /* The newest blocks, whose documents the crash could have touched last, and one
     * older block at random. */
    for (uint64_t h = height; h >= 1 && h + 3 > height; h--) {
        check_docs_of_block(ledger, h);
    }
    if (height > 3) {
        check_docs_of_block(ledger, 1 + test_random(rng) % (height - 3));
    }
    gov_ledger_close(ledger);
    gov_kv_close(disk);
    return height;
}

static uint32_t crash_rounds(void)
{
    const char *text = getenv("GOV_CRASH_ROUNDS");
    unsigned long rounds = text != NULL ? strtoul(text, NULL, 0) : 0;
    return rounds > 0 && rounds < 100000 ? (uint32_t)rounds : ROUNDS_DEFAULT;
}

static void test_killed_commits_leave_a_whole_prefix(void **state)
{
    (void)state;
    uint32_t rounds = crash_rounds();
    uint64_t rng = test_seed();
    fprintf(stderr, "# crash test: GOV_TEST_SEED=%llu GOV_CRASH_ROUNDS=%u\n",
            (unsigned long long)rng, rounds);
    test_chain chain;
    test_chain_init(&chain);
    char *dir = test_make_temp_dir();
    uint64_t height = 0;
    uint64_t grew_min = UINT64_MAX;
    uint64_t grew_max = 0;
    for (uint32_t round = 0; round < rounds; round++) {
        run_and_kill(&chain, dir, round, &rng);
        bool replay = (round + 1) % FULL_REPLAY_EVERY == 0 || round + 1 == rounds;
        uint64_t reached = check_store(&chain, dir, height, replay, &rng);
        grew_min = reached - height < grew_min ? reached - height : grew_min;
        grew_max = reached - height > grew_max ? reached - height : grew_max;
        height = reached;
    }
    fprintf(stderr, "# crash test: %u kills, final height %llu, %llu .. %llu blocks a round\n",
            rounds, (unsigned long long)height, (unsigned long long)grew_min,
            (unsigned long long)grew_max);
    /* Enough blocks that the kills landed in the middle of a stream of commits. */
    assert_true(height > rounds);
    test_remove_tree(dir);
    free(dir);
    test_chain_free(&chain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_killed_commits_leave_a_whole_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
