/*
 * Ledger queries over a real chain: five blocks built, certified by the validators'
 * COMMIT signatures and committed through the ledger API, then every query checked
 * against what was committed: documents and their histories, the status as of each
 * height, transactions by id, documents by subject and transactions by department
 * with pagination, and blocks by height. The same checks run on the in-memory store
 * and on LevelDB (also after reopening it), and corrupted entries must be reported as
 * GOV_EIO, never answered.
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
#include "govchain/error.h"
#include "govchain/genesis.h"
#include "govchain/kv.h"
#include "govchain/kv_leveldb.h"
#include "govchain/ledger.h"
#include "govchain/messages.h"
#include "govchain/query.h"
#include "govchain/state.h"
#include "tests/unit/test_util.h"

/* Departments of the test genesis, in genesis order (validator i belongs to the i-th). */
enum { MARKET, TAX, POLICE, AUDIT, HOUSING, DEPARTMENTS };
static const char *const department_ids[DEPARTMENTS] = {"market", "tax", "police", "audit",
                                                        "housing"};
enum { VALIDATORS = 4, BLOCKS = 5, STEPS_MAX = 16 };

#define T0 2000000 /* block h is made at T0 + 1000 h */

/* A long reason: the whole text must come back from the ledger, not just its start. */
#define LONG_REASON                                                                        \
    "issued in error: the applicant's file was mixed up with another applicant's file at " \
    "the counter, and the register shows that the licence was never applied for by the "   \
    "holder named on it; revoked on the request of the holder"

/* One transaction offered to the chain, in the block of `height`. */
typedef struct {
    uint64_t height;
    int sender;
    gov_tx_kind kind;
    char doc;
    const char *doc_type; /* ISSUE */
    gov_doc_class doc_class;
    char subject;    /* ISSUE */
    char supersedes; /* ISSUE; 0 for none */
    gov_reject expect;
} step;

static const step chain[] = {
    {1, MARKET, GOV_TX_ISSUE, 'a', "licence", GOV_DOC_CLASS_CERTIFICATE, 's', 0, GOV_REJECT_NONE},
    {1, POLICE, GOV_TX_ISSUE, 'r', "residence", GOV_DOC_CLASS_CERTIFICATE, 's', 0, GOV_REJECT_NONE},
    {1, HOUSING, GOV_TX_ISSUE, 'p', "permit", GOV_DOC_CLASS_APPROVAL, 't', 0, GOV_REJECT_NONE},
    {2, TAX, GOV_TX_ENDORSE, 'a', NULL, 0, 0, 0, GOV_REJECT_NONE},
    {2, POLICE, GOV_TX_ENDORSE, 'a', NULL, 0, 0, 0, GOV_REJECT_NONE},
    {2, MARKET, GOV_TX_ISSUE, 'b', "licence", GOV_DOC_CLASS_CERTIFICATE, 's', 0, GOV_REJECT_NONE},
    {3, POLICE, GOV_TX_REVOKE, 'r', NULL, 0, 0, 0, GOV_REJECT_NONE},
    {3, MARKET, GOV_TX_ISSUE, 'c', "licence", GOV_DOC_CLASS_CERTIFICATE, 's', 'b', GOV_REJECT_NONE},
    {4, AUDIT, GOV_TX_REVOKE, 'b', NULL, 0, 0, 0, GOV_REJECT_NONE},
    {4, MARKET, GOV_TX_ENDORSE, 'a', NULL, 0, 0, 0, GOV_REJECT_OWN_DOCUMENT},
    {4, TAX, GOV_TX_ENDORSE, 'c', NULL, 0, 0, 0, GOV_REJECT_NONE},
    /* Block 5 is empty. */
};
#define CHAIN_STEPS (sizeof(chain) / sizeof(chain[0]))

/* The history each document must have: (height, index, kind) per change. */
typedef struct {
    uint64_t height;
    uint32_t index;
    gov_query_change_kind kind;
} expected_change;

typedef struct {
    char doc;
    uint32_t count;
    expected_change changes[4];
} expected_history;

static const expected_history histories[] = {
    {'a',
     3,
     {{1, 0, GOV_QUERY_CHANGE_ISSUED},
      {2, 0, GOV_QUERY_CHANGE_ENDORSED},
      {2, 1, GOV_QUERY_CHANGE_ENDORSED}}},
    {'r', 2, {{1, 1, GOV_QUERY_CHANGE_ISSUED}, {3, 0, GOV_QUERY_CHANGE_REVOKED}}},
    {'p', 1, {{1, 2, GOV_QUERY_CHANGE_ISSUED}}},
    {'b',
     3,
     {{2, 2, GOV_QUERY_CHANGE_ISSUED},
      {3, 1, GOV_QUERY_CHANGE_SUPERSEDED},
      {4, 0, GOV_QUERY_CHANGE_REVOKED}}},
    {'c', 2, {{3, 1, GOV_QUERY_CHANGE_ISSUED}, {4, 1, GOV_QUERY_CHANGE_ENDORSED}}},
    {'z', 0, {{0, 0, 0}}}, /* never issued */
};
#define HISTORIES (sizeof(histories) / sizeof(histories[0]))

/* What the fixture committed. */
typedef struct {
    gov_tx tx;
    gov_hash id;
    bool applied;
    gov_ledger_position at;
} offered_tx;

typedef struct {
    gov_private_key *department_keys[DEPARTMENTS];
    gov_private_key *validator_keys[VALIDATORS];
    gov_genesis *genesis;
    char *dir; /* LevelDB only */
    gov_kv *store;
    gov_ledger *ledger;
    uint64_t nonce;
    offered_tx offered[CHAIN_STEPS];
    gov_hash block_hashes[BLOCKS + 1];
    gov_buf block_encodings[BLOCKS + 1];
} fixture;

static gov_hash filled(char byte)
{
    gov_hash hash;
    memset(hash.bytes, byte, GOV_HASH_LEN);
    return hash;
}

/* Genesis --------------------------------------------------------------------------------- */

static json_t *public_hex(gov_private_key *key)
{
    uint8_t bytes[GOV_PUBLIC_KEY_LEN];
    char hex[GOV_PUBLIC_KEY_HEX_LEN + 1];
    gov_private_key_public(key, bytes);
    gov_hex_encode(bytes, sizeof(bytes), hex);
    return json_string(hex);
}

/* market issues licences (recognised by tax and police), police residence permits,
 * housing building permits; audit is a regulator. */
static json_t *departments_json(fixture *f)
{
    static const char *const roles[DEPARTMENTS] = {"[\"issuer\", \"endorser\"]", "[\"endorser\"]",
                                                   "[\"issuer\", \"endorser\"]", "[\"regulator\"]",
                                                   "[\"issuer\"]"};
    static const char *const issues[DEPARTMENTS] = {"[\"licence\"]", "[]", "[\"residence\"]", "[]",
                                                    "[\"permit\"]"};
    json_t *departments = json_array();
    for (int d = 0; d < DEPARTMENTS; d++) {
        json_t *keys = json_array();
        json_array_append_new(keys, public_hex(f->department_keys[d]));
        json_array_append_new(
            departments, json_pack("{s:s, s:s, s:o, s:o, s:o}", "id", department_ids[d], "name",
                                   department_ids[d], "roles", json_loads(roles[d], 0, NULL),
                                   "issues", json_loads(issues[d], 0, NULL), "keys", keys));
    }
    return departments;
}

static void make_genesis(fixture *f)
{
    json_t *validators = json_array();
    for (int v = 0; v < VALIDATORS; v++) {
        json_array_append_new(validators,
                              json_pack("{s:s, s:o}", "department", department_ids[v], "public_key",
                                        public_hex(f->validator_keys[v])));
    }
    json_t *root = json_pack(
        "{s:i, s:s, s:s, s:I, s:{s:i, s:i, s:i, s:i, s:i}, s:o, s:o, s:o}", "version", 1,
        "chain_name", "query-test", "suite", "p256-sha256", "genesis_time_ms", (json_int_t)1000000,
        "consensus", "view_timeout_ms", 1000, "view_timeout_max_ms", 60000, "block_txs_max", 100,
        "block_bytes_max", 1 << 20, "clock_skew_ms", 5000, "departments", departments_json(f),
        "doc_types",
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

/* Building the chain ------------------------------------------------------------------------ */

static void make_tx(fixture *f, const step *s, gov_tx *tx)
{
    memset(tx, 0, sizeof(*tx));
    tx->version = GOV_TX_VERSION;
    tx->kind = s->kind;
    tx->chain_id = f->genesis->hash;
    strcpy(tx->department, department_ids[s->sender]);
    tx->nonce = ++f->nonce;
    tx->created_ms = T0 + 1000 * s->height - 100;
    if (s->kind == GOV_TX_ISSUE) {
        gov_issue *issue = &tx->payload.issue;
        issue->doc_hash = filled(s->doc);
        issue->doc_class = s->doc_class;
        strcpy(issue->doc_type, s->doc_type);
        issue->subject_ref = filled(s->subject);
        issue->valid_from_ms = 1000000;
        issue->has_supersedes = s->supersedes != 0;
        if (issue->has_supersedes) {
            issue->supersedes = filled(s->supersedes);
        }
        /* Metadata on one document, so that copies of it are checked too. */
        if (s->doc == 'a') {
            issue->metadata_count = 2;
            issue->metadata = calloc(2, sizeof(gov_metadata_entry));
            assert_non_null(issue->metadata);
            strcpy(issue->metadata[0].key, "holder");
            strcpy(issue->metadata[0].value, "stall 14, north market");
            strcpy(issue->metadata[1].key, "number");
            strcpy(issue->metadata[1].value, "L-2024-0001");
        }
    } else {
        gov_doc_remark *remark =
            s->kind == GOV_TX_ENDORSE ? &tx->payload.endorse : &tx->payload.revoke;
        remark->doc_hash = filled(s->doc);
        strcpy(remark->text, s->kind == GOV_TX_ENDORSE ? "recognised" : LONG_REASON);
    }
    assert_int_equal(gov_tx_sign(tx, f->department_keys[s->sender]), 0);
}

/* A commit certificate from a quorum of validators, votes ascending. */
static void certify(fixture *f, uint64_t height, const gov_hash *digest, gov_commit_cert *cert)
{
    memset(cert, 0, sizeof(*cert));
    cert->view = 0;
    cert->height = height;
    cert->digest = *digest;
    cert->votes_count = gov_validator_set_quorum(gov_ledger_validators(f->ledger));
    assert_true(cert->votes_count <= VALIDATORS);
    for (uint32_t v = 0; v < cert->votes_count; v++) {
        gov_pbft_message vote;
        memset(&vote, 0, sizeof(vote));
        vote.type = GOV_PBFT_COMMIT;
        vote.body.phase = (gov_pbft_phase){.view = 0, .height = height, .sender = v};
        vote.body.phase.digest = *digest;
        assert_int_equal(gov_pbft_message_sign(&vote, f->validator_keys[v], &f->genesis->hash), 0);
        cert->votes[v].validator = v;
        memcpy(cert->votes[v].signature, vote.body.phase.signature, GOV_SIGNATURE_LEN);
        gov_pbft_message_clear(&vote);
    }
}

/* Builds, certifies and commits block `height` out of the chain's steps for it. */
static void commit_block(fixture *f, uint64_t height)
{
    gov_tx candidates[STEPS_MAX];
    size_t steps[STEPS_MAX];
    uint32_t count = 0;
    for (size_t i = 0; i < CHAIN_STEPS; i++) {
        if (chain[i].height == height) {
            make_tx(f, &chain[i], &candidates[count]);
            steps[count++] = i;
        }
    }
    gov_reject verdicts[STEPS_MAX];
    gov_block block;
    uint32_t included = 0;
    char why[512] = "";
    int rc = gov_ledger_build(f->ledger, T0 + 1000 * height, (uint32_t)(height % VALIDATORS),
                              candidates, count, verdicts, &block, &included, why, sizeof(why));
    if (rc != 0) {
        fail_msg("build of block %lu: %s", (unsigned long)height, why);
    }
    uint32_t index = 0;
    for (uint32_t c = 0; c < count; c++) {
        offered_tx *offered = &f->offered[steps[c]];
        assert_int_equal(verdicts[c], chain[steps[c]].expect);
        offered->tx = candidates[c];
        assert_int_equal(gov_tx_id(f->genesis->suite, &offered->tx, &offered->id), 0);
        offered->applied = verdicts[c] == GOV_REJECT_NONE;
        if (offered->applied) {
            offered->at = (gov_ledger_position){height, index++, offered->id};
        }
    }
    assert_int_equal(included, index);
    assert_int_equal(gov_block_hash(f->genesis->suite, &block.header, &f->block_hashes[height]), 0);
    gov_buf_init(&f->block_encodings[height]);
    assert_int_equal(gov_block_encode(&block, &f->block_encodings[height]), 0);
    gov_commit_cert cert;
    certify(f, height, &f->block_hashes[height], &cert);
    rc = gov_ledger_commit(f->ledger, &block, &cert, why, sizeof(why));
    if (rc != 0) {
        fail_msg("commit of block %lu: %s", (unsigned long)height, why);
    }
    assert_int_equal(gov_ledger_head_get(f->ledger)->height, height);
    gov_block_clear(&block);
}

static void open_ledger(fixture *f)
{
    char why[512] = "";
    if (f->dir != NULL) {
        int rc = gov_kv_leveldb_open(f->dir, true, &f->store, why, sizeof(why));
        if (rc != 0) {
            fail_msg("leveldb: %s", why);
        }
    } else {
        assert_int_equal(gov_kv_memory_open(&f->store), 0);
    }
    if (gov_ledger_open(f->genesis, f->store, &f->ledger, why, sizeof(why)) != 0) {
        fail_msg("ledger: %s", why);
    }
}

static void close_ledger(fixture *f)
{
    gov_ledger_close(f->ledger);
    gov_kv_close(f->store);
    f->ledger = NULL;
    f->store = NULL;
}

static int setup(void **state, bool leveldb)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    for (int d = 0; d < DEPARTMENTS; d++) {
        assert_int_equal(gov_private_key_generate(GOV_SUITE_P256_SHA256, &f->department_keys[d]),
                         0);
    }
    for (int v = 0; v < VALIDATORS; v++) {
        assert_int_equal(gov_private_key_generate(GOV_SUITE_P256_SHA256, &f->validator_keys[v]), 0);
    }
    make_genesis(f);
    f->dir = leveldb ? test_make_temp_dir() : NULL;
    open_ledger(f);
    for (uint64_t height = 1; height <= BLOCKS; height++) {
        commit_block(f, height);
    }
    *state = f;
    return 0;
}

static int setup_memory(void **state)
{
    return setup(state, false);
}

static int setup_leveldb(void **state)
{
    return setup(state, true);
}

static int teardown(void **state)
{
    fixture *f = *state;
    close_ledger(f);
    if (f->dir != NULL) {
        test_remove_tree(f->dir);
        free(f->dir);
    }
    for (size_t i = 0; i < CHAIN_STEPS; i++) {
        gov_tx_clear(&f->offered[i].tx);
    }
    for (int h = 1; h <= BLOCKS; h++) {
        gov_buf_free(&f->block_encodings[h]);
    }
    gov_genesis_free(f->genesis);
    for (int d = 0; d < DEPARTMENTS; d++) {
        gov_private_key_free(f->department_keys[d]);
    }
    for (int v = 0; v < VALIDATORS; v++) {
        gov_private_key_free(f->validator_keys[v]);
    }
    free(f);
    return 0;
}

/* The checks ------------------------------------------------------------------------------ */

/* The offered transaction applied at (height, index). */
static const offered_tx *applied_at(const fixture *f, uint64_t height, uint32_t index)
{
    for (size_t i = 0; i < CHAIN_STEPS; i++) {
        const offered_tx *offered = &f->offered[i];
        if (offered->applied && offered->at.height == height && offered->at.index == index) {
            return offered;
        }
    }
    fail_msg("nothing was applied at %lu/%u", (unsigned long)height, index);
    return NULL;
}

static void expect_position(const gov_ledger_position *at, const gov_ledger_position *expected)
{
    assert_int_equal(at->height, expected->height);
    assert_int_equal(at->index, expected->index);
    assert_memory_equal(at->tx_id.bytes, expected->tx_id.bytes, GOV_HASH_LEN);
}

static void expect_change(const fixture *f, const gov_query_doc_change *change, char doc,
                          const expected_change *expected)
{
    gov_hash hash = filled(doc);
    assert_memory_equal(change->state.doc_hash.bytes, hash.bytes, GOV_HASH_LEN);
    assert_int_equal(change->kind, expected->kind);
    expect_position(&change->at, &applied_at(f, expected->height, expected->index)->at);
}

/* Current states, spelt out: what a citizen's page would show. */
static void check_docs(const fixture *f)
{
    char why[256] = "";
    gov_doc_state state;
    bool found = true;
    gov_hash hash = filled('z');
    assert_int_equal(gov_query_doc(f->ledger, &hash, &state, &found, why, sizeof(why)), 0);
    assert_false(found);
    hash = filled('a');
    assert_int_equal(gov_query_doc(f->ledger, &hash, &state, &found, why, sizeof(why)), 0);
    assert_true(found);
    assert_int_equal(state.status, GOV_DOC_VALID);
    assert_string_equal(state.issuer, "market");
    assert_int_equal(state.endorsements_count, 2);
    assert_string_equal(state.endorsements[0].department, "tax");
    assert_string_equal(state.endorsements[1].department, "police");
    assert_true(gov_doc_recognised(f->genesis, &state));
    gov_doc_state_clear(&state);
    hash = filled('b');
    assert_int_equal(gov_query_doc(f->ledger, &hash, &state, &found, why, sizeof(why)), 0);
    assert_true(found);
    assert_int_equal(state.status, GOV_DOC_REVOKED); /* superseded by c, then revoked */
    assert_string_equal(state.changed_by, "audit");
    assert_string_equal(state.reason, LONG_REASON);
    assert_true(state.has_superseded_by);
    gov_hash successor = filled('c');
    assert_memory_equal(state.superseded_by.bytes, successor.bytes, GOV_HASH_LEN);
    gov_doc_state_clear(&state);
}

static void check_history(const fixture *f)
{
    char why[256] = "";
    for (size_t d = 0; d < HISTORIES; d++) {
        const expected_history *expected = &histories[d];
        gov_hash hash = filled(expected->doc);
        gov_query_doc_change changes[8];
        gov_query_page page;
        assert_int_equal(
            gov_query_doc_history(f->ledger, &hash, NULL, 8, changes, &page, why, sizeof(why)), 0);
        assert_int_equal(page.count, expected->count);
        assert_false(page.more);
        for (uint32_t i = 0; i < page.count; i++) {
            expect_change(f, &changes[i], expected->doc, &expected->changes[i]);
            gov_query_doc_change_clear(&changes[i]);
        }
        /* One at a time, each page resuming after the last change returned. */
        gov_ledger_position after;
        for (uint32_t i = 0; i < expected->count; i++) {
            gov_query_doc_change one;
            assert_int_equal(gov_query_doc_history(f->ledger, &hash, i == 0 ? NULL : &after, 1,
                                                   &one, &page, why, sizeof(why)),
                             0);
            assert_int_equal(page.count, 1);
            assert_int_equal(page.more, i + 1 < expected->count);
            expect_change(f, &one, expected->doc, &expected->changes[i]);
            after = one.at;
            gov_query_doc_change_clear(&one);
        }
    }
    gov_hash hash = filled('b');
    gov_query_doc_change change;
    gov_query_page page;
    assert_int_equal(
        gov_query_doc_history(f->ledger, &hash, NULL, 0, &change, &page, why, sizeof(why)),
        GOV_EINVAL);
}

/* The state as of each height is the last change at or below it, exactly as the history
 * recorded it; before the issue there is none. */
static void check_doc_at(const fixture *f)
{
    char why[256] = "";
    for (size_t d = 0; d < HISTORIES; d++) {
        const expected_history *expected = &histories[d];
        gov_hash hash = filled(expected->doc);
        for (uint64_t height = 0; height <= BLOCKS; height++) {
            const expected_change *last = NULL;
            for (uint32_t i = 0; i < expected->count; i++) {
                if (expected->changes[i].height <= height) {
                    last = &expected->changes[i];
                }
            }
            gov_query_doc_change change;
            bool found = true;
            assert_int_equal(
                gov_query_doc_at(f->ledger, &hash, height, &change, &found, why, sizeof(why)), 0);
            assert_int_equal(found, last != NULL);
            if (last != NULL) {
                expect_change(f, &change, expected->doc, last);
            }
            gov_query_doc_change_clear(&change);
        }
        gov_query_doc_change change;
        bool found = true;
        assert_int_equal(
            gov_query_doc_at(f->ledger, &hash, BLOCKS + 1, &change, &found, why, sizeof(why)),
            GOV_ENOENT);
        assert_false(found);
    }
}

/* Spelt out for document b, whose status changed at every height from 2 to 4. */
static void check_doc_b_statuses(const fixture *f)
{
    static const gov_doc_status statuses[BLOCKS + 1] = {
        0, 0, GOV_DOC_VALID, GOV_DOC_SUPERSEDED, GOV_DOC_REVOKED, GOV_DOC_REVOKED};
    char why[256] = "";
    gov_hash hash = filled('b');
    for (uint64_t height = 0; height <= BLOCKS; height++) {
        gov_query_doc_change change;
        bool found = false;
        assert_int_equal(
            gov_query_doc_at(f->ledger, &hash, height, &change, &found, why, sizeof(why)), 0);
        assert_int_equal(found, statuses[height] != 0);
        assert_int_equal(change.state.status, statuses[height]);
        gov_query_doc_change_clear(&change);
    }
}

static void expect_same_tx(const gov_tx *got, const gov_tx *expected)
{
    gov_buf a, b;
    gov_buf_init(&a);
    gov_buf_init(&b);
    assert_int_equal(gov_tx_encode(got, &a), 0);
    assert_int_equal(gov_tx_encode(expected, &b), 0);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    gov_buf_free(&a);
    gov_buf_free(&b);
}

static void check_txs(const fixture *f)
{
    char why[256] = "";
    for (size_t i = 0; i < CHAIN_STEPS; i++) {
        const offered_tx *offered = &f->offered[i];
        gov_tx tx;
        gov_ledger_position at;
        gov_block_header header;
        int rc = gov_query_tx(f->ledger, &offered->id, &tx, &at, &header, why, sizeof(why));
        if (!offered->applied) {
            /* Rejected when the block was built: never on the ledger. */
            assert_int_equal(rc, GOV_ENOENT);
            continue;
        }
        if (rc != 0) {
            fail_msg("transaction at %lu/%u: %s", (unsigned long)offered->at.height,
                     offered->at.index, why);
        }
        expect_same_tx(&tx, &offered->tx);
        expect_position(&at, &offered->at);
        assert_int_equal(header.height, at.height);
        assert_int_equal(header.time_ms, T0 + 1000 * at.height);
        gov_hash hash;
        assert_int_equal(gov_block_hash(f->genesis->suite, &header, &hash), 0);
        assert_memory_equal(hash.bytes, f->block_hashes[at.height].bytes, GOV_HASH_LEN);
        gov_tx_clear(&tx);
        /* The header is optional. */
        assert_int_equal(gov_query_tx(f->ledger, &offered->id, &tx, &at, NULL, why, sizeof(why)),
                         0);
        gov_tx_clear(&tx);
    }
    gov_hash unknown = filled(0);
    gov_tx tx;
    gov_ledger_position at;
    assert_int_equal(gov_query_tx(f->ledger, &unknown, &tx, &at, NULL, why, sizeof(why)),
                     GOV_ENOENT);
}

static void expect_subject_page(const fixture *f, char subject, const gov_hash *after,
                                uint32_t limit, const char *docs, bool more)
{
    char why[256] = "";
    gov_hash subject_ref = filled(subject);
    gov_hash out[8];
    gov_query_page page;
    assert_int_equal(gov_query_docs_by_subject(f->ledger, &subject_ref, after, limit, out, &page,
                                               why, sizeof(why)),
                     0);
    assert_int_equal(page.count, strlen(docs));
    assert_int_equal(page.more, more);
    for (uint32_t i = 0; i < page.count; i++) {
        gov_hash expected = filled(docs[i]);
        assert_memory_equal(out[i].bytes, expected.bytes, GOV_HASH_LEN);
    }
}

/* Subject s holds a, b, c and r (in the order of their hashes), subject t holds p. */
static void check_subjects(const fixture *f)
{
    expect_subject_page(f, 's', NULL, 8, "abcr", false);
    expect_subject_page(f, 's', NULL, 4, "abcr", false);
    expect_subject_page(f, 's', NULL, 1, "a", true);
    const char *order = "abcr";
    for (int i = 0; i < 3; i++) {
        gov_hash after = filled(order[i]);
        expect_subject_page(f, 's', &after, 1, (char[]){order[i + 1], 0}, i < 2);
    }
    gov_hash after = filled('r');
    expect_subject_page(f, 's', &after, 1, "", false);
    after = filled('b'); /* resumes after any hash, listed or not */
    expect_subject_page(f, 's', &after, 8, "cr", false);
    expect_subject_page(f, 't', NULL, 8, "p", false);
    expect_subject_page(f, 'u', NULL, 8, "", false);
    char why[256] = "";
    gov_hash subject_ref = filled('s');
    gov_query_page page;
    assert_int_equal(gov_query_docs_by_subject(f->ledger, &subject_ref, NULL, 0, &after, &page, why,
                                               sizeof(why)),
                     GOV_EINVAL);
}

/* positions: "h/i h/i ..." of the transactions the page must list. */
static void expect_department_page(const fixture *f, int department, uint64_t from, uint64_t to,
                                   const gov_ledger_position *after, uint32_t limit,
                                   const char *positions, bool more)
{
    char why[256] = "";
    gov_ledger_position out[8];
    gov_query_page page;
    int rc = gov_query_department_txs(f->ledger, department_ids[department], from, to, after, limit,
                                      out, &page, why, sizeof(why));
    if (rc != 0) {
        fail_msg("department txs: %s", why);
    }
    uint32_t count = 0;
    for (const char *p = positions; *p != '\0'; p += 4) {
        uint64_t height = (uint64_t)(p[0] - '0');
        uint32_t index = (uint32_t)(p[2] - '0');
        assert_true(count < page.count);
        expect_position(&out[count++], &applied_at(f, height, index)->at);
        if (p[3] == '\0') {
            break;
        }
    }
    assert_int_equal(page.count, count);
    assert_int_equal(page.more, more);
}

static void check_departments(const fixture *f)
{
    expect_department_page(f, MARKET, 0, BLOCKS, NULL, 8, "1/0 2/2 3/1", false);
    expect_department_page(f, MARKET, 2, 3, NULL, 8, "2/2 3/1", false);
    expect_department_page(f, MARKET, 2, 2, NULL, 8, "2/2", false);
    expect_department_page(f, MARKET, 1, 2, NULL, 1, "1/0", true);
    expect_department_page(f, MARKET, 4, 100, NULL, 8, "", false);
    expect_department_page(f, POLICE, 1, BLOCKS, NULL, 2, "1/1 2/1", true);
    gov_ledger_position after = applied_at(f, 2, 1)->at;
    expect_department_page(f, POLICE, 1, BLOCKS, &after, 2, "3/0", false);
    after = applied_at(f, 1, 1)->at;
    expect_department_page(f, POLICE, 1, 2, &after, 1, "2/1", false);
    expect_department_page(f, POLICE, 1, 3, &after, 1, "2/1", true);
    /* A cursor before the range does not widen it. */
    after = (gov_ledger_position){.height = 1, .index = 0};
    expect_department_page(f, POLICE, 3, BLOCKS, &after, 8, "3/0", false);
    expect_department_page(f, TAX, 1, BLOCKS, NULL, 8, "2/0 4/1", false);
    expect_department_page(f, AUDIT, 1, BLOCKS, NULL, 8, "4/0", false);
    expect_department_page(f, HOUSING, 1, BLOCKS, NULL, 8, "1/2", false);
    char why[256] = "";
    gov_ledger_position out[1];
    gov_query_page page;
    assert_int_equal(
        gov_query_department_txs(f->ledger, "nobody", 1, 5, NULL, 1, out, &page, why, sizeof(why)),
        GOV_ENOENT);
    assert_int_equal(
        gov_query_department_txs(f->ledger, "market", 3, 2, NULL, 1, out, &page, why, sizeof(why)),
        GOV_EINVAL);
    assert_int_equal(
        gov_query_department_txs(f->ledger, "market", 1, 2, NULL, 0, out, &page, why, sizeof(why)),
        GOV_EINVAL);
}

/* Blocks by height are the ledger's own call; they come back as committed. */
static void check_blocks(const fixture *f)
{
    char why[256] = "";
    for (uint64_t height = 1; height <= BLOCKS; height++) {
        gov_block block;
        gov_commit_cert cert;
        assert_int_equal(gov_ledger_block_get(f->ledger, height, &block, &cert, why, sizeof(why)),
                         0);
        gov_buf encoded;
        gov_buf_init(&encoded);
        assert_int_equal(gov_block_encode(&block, &encoded), 0);
        assert_int_equal(encoded.len, f->block_encodings[height].len);
        assert_memory_equal(encoded.data, f->block_encodings[height].data, encoded.len);
        assert_memory_equal(cert.digest.bytes, f->block_hashes[height].bytes, GOV_HASH_LEN);
        assert_int_equal(cert.height, height);
        gov_buf_free(&encoded);
        gov_block_clear(&block);
    }
    gov_block block;
    gov_commit_cert cert;
    assert_int_equal(gov_ledger_block_get(f->ledger, BLOCKS + 1, &block, &cert, why, sizeof(why)),
                     GOV_ENOENT);
    assert_int_equal(gov_ledger_block_get(f->ledger, 0, &block, &cert, why, sizeof(why)),
                     GOV_ENOENT);
}

static void check_all(const fixture *f)
{
    check_docs(f);
    check_history(f);
    check_doc_at(f);
    check_doc_b_statuses(f);
    check_txs(f);
    check_subjects(f);
    check_departments(f);
    check_blocks(f);
}

static void test_memory(void **state)
{
    check_all(*state);
}

/* LevelDB: the same answers, and the same again from the files after reopening. */
static void test_leveldb(void **state)
{
    fixture *f = *state;
    check_all(f);
    close_ledger(f);
    open_ledger(f);
    assert_int_equal(gov_ledger_head_get(f->ledger)->height, BLOCKS);
    check_all(f);
}

/* Corruption ------------------------------------------------------------------------------- */

static void put_raw(fixture *f, const uint8_t *key, size_t key_len, const void *value,
                    size_t value_len)
{
    char why[256] = "";
    assert_int_equal(gov_kv_put(f->store, key, key_len, value, value_len, why, sizeof(why)), 0);
}

static void put_tx_place(fixture *f, const gov_hash *tx_id, uint64_t height, uint32_t index)
{
    uint8_t key[1 + GOV_HASH_LEN] = {'T'};
    memcpy(key + 1, tx_id->bytes, GOV_HASH_LEN);
    gov_buf place;
    gov_buf_init(&place);
    gov_enc_array(&place, 2);
    gov_enc_uint(&place, height);
    gov_enc_uint(&place, index);
    assert_true(gov_buf_ok(&place));
    put_raw(f, key, sizeof(key), place.data, place.len);
    gov_buf_free(&place);
}

static void expect_tx_corrupted(fixture *f, const gov_hash *tx_id)
{
    char why[256] = "";
    gov_tx tx;
    gov_ledger_position at;
    assert_int_equal(gov_query_tx(f->ledger, tx_id, &tx, &at, NULL, why, sizeof(why)), GOV_EIO);
    assert_true(strlen(why) > 0);
}

/* Transaction places that do not match the blocks they name. */
static void test_corrupted_tx_places(void **state)
{
    fixture *f = *state;
    const offered_tx *first = applied_at(f, 1, 0);
    put_tx_place(f, &first->id, 1, 2); /* another transaction's place */
    expect_tx_corrupted(f, &first->id);
    put_tx_place(f, &first->id, 1, 7); /* past the block's end */
    expect_tx_corrupted(f, &first->id);
    put_tx_place(f, &first->id, BLOCKS + 3, 0); /* a block not committed */
    expect_tx_corrupted(f, &first->id);
    uint8_t key[1 + GOV_HASH_LEN] = {'T'};
    memcpy(key + 1, first->id.bytes, GOV_HASH_LEN);
    put_raw(f, key, sizeof(key), "\x92\x01", 2); /* truncated */
    expect_tx_corrupted(f, &first->id);
    put_raw(f, key, sizeof(key), "\x92\x01\xcc\x02", 4); /* index not in shortest form */
    expect_tx_corrupted(f, &first->id);
    /* The other transactions are unaffected. */
    const offered_tx *second = applied_at(f, 1, 1);
    gov_tx tx;
    gov_ledger_position at;
    char why[256] = "";
    assert_int_equal(gov_query_tx(f->ledger, &second->id, &tx, &at, NULL, why, sizeof(why)), 0);
    gov_tx_clear(&tx);
}

/* A current state, a history entry and index entries that are not what they should be. */
static void test_corrupted_entries(void **state)
{
    fixture *f = *state;
    char why[256] = "";
    gov_hash a = filled('a');
    gov_doc_state doc;
    bool found = false;
    uint8_t doc_key[1 + GOV_HASH_LEN] = {'D'};
    memcpy(doc_key + 1, a.bytes, GOV_HASH_LEN);
    put_raw(f, doc_key, sizeof(doc_key), "junk", 4);
    assert_int_equal(gov_query_doc(f->ledger, &a, &doc, &found, why, sizeof(why)), GOV_EIO);
    assert_false(found);
    /* Document p's valid state filed as a's. */
    gov_hash p = filled('p');
    assert_int_equal(gov_query_doc(f->ledger, &p, &doc, &found, why, sizeof(why)), 0);
    gov_buf encoded;
    gov_buf_init(&encoded);
    assert_int_equal(gov_doc_state_encode(&doc, &encoded), 0);
    put_raw(f, doc_key, sizeof(doc_key), encoded.data, encoded.len);
    assert_int_equal(gov_query_doc(f->ledger, &a, &doc, &found, why, sizeof(why)), GOV_EIO);
    /* A history entry of c at 4/5, where the state it holds records no change. */
    gov_hash c = filled('c');
    gov_query_doc_change change;
    assert_int_equal(gov_query_doc_at(f->ledger, &c, 3, &change, &found, why, sizeof(why)), 0);
    gov_buf_reset(&encoded);
    assert_int_equal(gov_doc_state_encode(&change.state, &encoded), 0);
    gov_query_doc_change_clear(&change);
    uint8_t history_key[1 + GOV_HASH_LEN + 12] = {'Y'};
    memcpy(history_key + 1, c.bytes, GOV_HASH_LEN);
    history_key[1 + GOV_HASH_LEN + 7] = 4;
    history_key[1 + GOV_HASH_LEN + 11] = 5;
    put_raw(f, history_key, sizeof(history_key), encoded.data, encoded.len);
    gov_query_page page;
    gov_query_doc_change changes[4];
    assert_int_equal(
        gov_query_doc_history(f->ledger, &c, NULL, 4, changes, &page, why, sizeof(why)), GOV_EIO);
    assert_int_equal(page.count, 0);
    assert_int_equal(gov_query_doc_at(f->ledger, &c, 4, &change, &found, why, sizeof(why)),
                     GOV_EIO);
    /* As of height 3 the bad entry lies beyond the answer and is not read. */
    assert_int_equal(gov_query_doc_at(f->ledger, &c, 3, &change, &found, why, sizeof(why)), 0);
    gov_query_doc_change_clear(&change);
    gov_buf_free(&encoded);
    gov_doc_state_clear(&doc);
}

static void test_corrupted_indexes(void **state)
{
    fixture *f = *state;
    char why[256] = "";
    gov_hash subject = filled('t');
    uint8_t subject_key[1 + 2 * GOV_HASH_LEN] = {'S'};
    memcpy(subject_key + 1, subject.bytes, GOV_HASH_LEN);
    memset(subject_key + 1 + GOV_HASH_LEN, 'q', GOV_HASH_LEN);
    put_raw(f, subject_key, sizeof(subject_key), "x", 1); /* index values are empty */
    gov_hash out[4];
    gov_query_page page;
    assert_int_equal(
        gov_query_docs_by_subject(f->ledger, &subject, NULL, 4, out, &page, why, sizeof(why)),
        GOV_EIO);
    assert_int_equal(page.count, 0);
    put_raw(f, subject_key, sizeof(subject_key) - 1, "", 0); /* short key */
    subject_key[1 + GOV_HASH_LEN] = 'a';
    put_raw(f, subject_key, sizeof(subject_key), "", 0); /* a good one before the bad ones */
    /* Filling a page of two reads one entry more, the short key, to tell whether more
     * are left: a bad entry is never taken for the end of a list. */
    assert_int_equal(
        gov_query_docs_by_subject(f->ledger, &subject, NULL, 2, out, &page, why, sizeof(why)),
        GOV_EIO);
    /* The housing department is index 4; its entry at 3/0 holds a short tx id. */
    uint8_t department_key[1 + 2 + 12] = {'I', 0, HOUSING};
    department_key[3 + 7] = 3;
    put_raw(f, department_key, sizeof(department_key), "short", 5);
    gov_ledger_position positions[4];
    assert_int_equal(gov_query_department_txs(f->ledger, "housing", 1, 5, NULL, 4, positions, &page,
                                              why, sizeof(why)),
                     GOV_EIO);
    /* Other departments' entries are not read. */
    assert_int_equal(gov_query_department_txs(f->ledger, "audit", 1, 5, NULL, 4, positions, &page,
                                              why, sizeof(why)),
                     0);
    assert_int_equal(page.count, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_memory, setup_memory, teardown),
        cmocka_unit_test_setup_teardown(test_leveldb, setup_leveldb, teardown),
        cmocka_unit_test_setup_teardown(test_corrupted_tx_places, setup_memory, teardown),
        cmocka_unit_test_setup_teardown(test_corrupted_entries, setup_memory, teardown),
        cmocka_unit_test_setup_teardown(test_corrupted_indexes, setup_memory, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
