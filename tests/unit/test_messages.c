/*
 * Consensus messages and certificates with real keys: signatures bind every signed
 * field, certificates need a quorum of distinct known validators, and a signature made
 * for one chain or one message type never counts for another.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "govchain/canon.h"
#include "govchain/crypto.h"
#include "govchain/error.h"
#include "govchain/messages.h"
#include "govchain/quorum.h"
#include "tests/unit/test_util.h"

enum { VALIDATORS = 7 }; /* f = 2, quorum 5 */

typedef struct {
    gov_private_key *private_keys[VALIDATORS];
    gov_public_key *public_keys[VALIDATORS];
    gov_validator_set set;
} cluster;

static void cluster_init(cluster *c, gov_suite suite)
{
    memset(c, 0, sizeof(*c));
    for (int i = 0; i < VALIDATORS; i++) {
        uint8_t bytes[GOV_PUBLIC_KEY_LEN];
        assert_int_equal(gov_private_key_generate(suite, &c->private_keys[i]), 0);
        gov_private_key_public(c->private_keys[i], bytes);
        assert_int_equal(gov_public_key_parse(suite, bytes, &c->public_keys[i]), 0);
    }
    c->set.suite = suite;
    memset(c->set.chain_id.bytes, 0x42, GOV_HASH_LEN);
    c->set.count = VALIDATORS;
    c->set.keys = c->public_keys;
}

static void cluster_free(cluster *c)
{
    for (int i = 0; i < VALIDATORS; i++) {
        gov_private_key_free(c->private_keys[i]);
        gov_public_key_free(c->public_keys[i]);
    }
}

/* A vote of `type` by validator, signed; returns its signature. */
static void signed_vote(cluster *c, gov_pbft_type type, uint64_t view, uint64_t height,
                        const gov_hash *digest, uint32_t validator, uint8_t *signature)
{
    gov_pbft_message message;
    memset(&message, 0, sizeof(message));
    message.type = type;
    message.body.phase.view = view;
    message.body.phase.height = height;
    message.body.phase.sender = validator;
    message.body.phase.digest = *digest;
    assert_int_equal(gov_pbft_message_sign(&message, c->private_keys[validator], &c->set.chain_id),
                     0);
    assert_true(gov_pbft_message_signature_valid(&message, &c->set));
    memcpy(signature, message.body.phase.signature, GOV_SIGNATURE_LEN);
}

static void make_commit_cert(cluster *c, gov_commit_cert *cert, uint32_t votes)
{
    memset(cert, 0, sizeof(*cert));
    cert->view = 3;
    cert->height = 17;
    memset(cert->digest.bytes, 0xd1, GOV_HASH_LEN);
    for (uint32_t i = 0; i < votes; i++) {
        cert->votes[i].validator = i + 1;
        signed_vote(c, GOV_PBFT_COMMIT, cert->view, cert->height, &cert->digest, i + 1,
                    cert->votes[i].signature);
    }
    cert->votes_count = votes;
}

static void check_commit_cert(gov_suite suite)
{
    cluster c;
    cluster_init(&c, suite);
    assert_int_equal(gov_validator_set_quorum(&c.set), 5);
    char why[256];
    gov_commit_cert cert;
    make_commit_cert(&c, &cert, 5);
    assert_int_equal(gov_commit_cert_verify(&cert, &c.set, why, sizeof(why)), 0);

    /* Survives its own encoding. */
    gov_buf buf;
    gov_buf_init(&buf);
    assert_int_equal(gov_commit_cert_encode(&cert, &buf), 0);
    gov_commit_cert decoded;
    assert_int_equal(gov_commit_cert_decode(buf.data, buf.len, &decoded, why, sizeof(why)), 0);
    assert_int_equal(gov_commit_cert_verify(&decoded, &c.set, why, sizeof(why)), 0);
    gov_buf_free(&buf);

    gov_commit_cert bad = cert;
    bad.votes_count = 4;
    assert_int_equal(gov_commit_cert_verify(&bad, &c.set, why, sizeof(why)), GOV_EINVAL);
    assert_non_null(strstr(why, "4 votes, a quorum is 5"));

    bad = cert; /* another block at the same height */
    bad.digest.bytes[0] ^= 1;
    assert_int_equal(gov_commit_cert_verify(&bad, &c.set, why, sizeof(why)), GOV_EBADSIG);

    bad = cert; /* the same votes claimed for another view or height */
    bad.view++;
    assert_int_equal(gov_commit_cert_verify(&bad, &c.set, why, sizeof(why)), GOV_EBADSIG);
    bad = cert;
    bad.height++;
    assert_int_equal(gov_commit_cert_verify(&bad, &c.set, why, sizeof(why)), GOV_EBADSIG);

    bad = cert; /* one validator counted twice */
    bad.votes[1] = bad.votes[0];
    assert_int_equal(gov_commit_cert_verify(&bad, &c.set, why, sizeof(why)), GOV_EINVAL);
    assert_non_null(strstr(why, "ascending"));

    bad = cert; /* a vote attributed to someone else */
    bad.votes[4].validator = 6;
    assert_int_equal(gov_commit_cert_verify(&bad, &c.set, why, sizeof(why)), GOV_EBADSIG);

    bad = cert; /* an unknown validator */
    bad.votes[4].validator = VALIDATORS;
    assert_int_equal(gov_commit_cert_verify(&bad, &c.set, why, sizeof(why)), GOV_EINVAL);

    bad = cert; /* prepares are not commits */
    for (uint32_t i = 0; i < bad.votes_count; i++) {
        signed_vote(&c, GOV_PBFT_PREPARE, bad.view, bad.height, &bad.digest, bad.votes[i].validator,
                    bad.votes[i].signature);
    }
    assert_int_equal(gov_commit_cert_verify(&bad, &c.set, why, sizeof(why)), GOV_EBADSIG);

    gov_validator_set other_chain = c.set;
    other_chain.chain_id.bytes[31] ^= 1;
    assert_int_equal(gov_commit_cert_verify(&cert, &other_chain, why, sizeof(why)), GOV_EBADSIG);
    cluster_free(&c);
}

static void test_commit_cert_p256(void **state)
{
    (void)state;
    check_commit_cert(GOV_SUITE_P256_SHA256);
}

static void test_commit_cert_sm2(void **state)
{
    (void)state;
    check_commit_cert(GOV_SUITE_SM2_SM3);
}

static void test_prepared_cert(void **state)
{
    (void)state;
    cluster c;
    cluster_init(&c, GOV_SUITE_P256_SHA256);
    gov_prepared_cert cert;
    memset(&cert, 0, sizeof(cert));
    cert.view = 9; /* primary 9 mod 7 = 2 */
    cert.height = 4;
    memset(cert.digest.bytes, 0x77, GOV_HASH_LEN);
    signed_vote(&c, GOV_PBFT_PRE_PREPARE, cert.view, cert.height, &cert.digest, 2,
                cert.pre_prepare_signature);
    const uint32_t backups[] = {0, 3, 5, 6};
    for (uint32_t i = 0; i < 4; i++) {
        cert.prepares[i].validator = backups[i];
        signed_vote(&c, GOV_PBFT_PREPARE, cert.view, cert.height, &cert.digest, backups[i],
                    cert.prepares[i].signature);
    }
    cert.prepares_count = 4;
    char why[256];
    assert_int_equal(gov_prepared_cert_verify(&cert, &c.set, why, sizeof(why)), 0);

    gov_prepared_cert bad = cert;
    bad.prepares_count = 3;
    assert_int_equal(gov_prepared_cert_verify(&bad, &c.set, why, sizeof(why)), GOV_EINVAL);

    bad = cert; /* the primary's own prepare does not count */
    bad.prepares[1].validator = 2;
    signed_vote(&c, GOV_PBFT_PREPARE, cert.view, cert.height, &cert.digest, 2,
                bad.prepares[1].signature);
    assert_int_equal(gov_prepared_cert_verify(&bad, &c.set, why, sizeof(why)), GOV_EINVAL);
    assert_non_null(strstr(why, "primary"));

    bad = cert; /* a pre-prepare signed by a backup, not the view's primary */
    signed_vote(&c, GOV_PBFT_PRE_PREPARE, cert.view, cert.height, &cert.digest, 3,
                bad.pre_prepare_signature);
    assert_int_equal(gov_prepared_cert_verify(&bad, &c.set, why, sizeof(why)), GOV_EBADSIG);
    cluster_free(&c);
}

/* Encodes, decodes and checks the signature of a message; then checks that changing a
 * signed field breaks it. */
static void test_message_signatures(void **state)
{
    (void)state;
    cluster c;
    cluster_init(&c, GOV_SUITE_P256_SHA256);
    char why[256];

    gov_pbft_message pre_prepare;
    memset(&pre_prepare, 0, sizeof(pre_prepare));
    pre_prepare.type = GOV_PBFT_PRE_PREPARE;
    pre_prepare.body.phase = (gov_pbft_phase){.view = 1, .height = 18, .sender = 1};
    memset(pre_prepare.body.phase.digest.bytes, 0x5a, GOV_HASH_LEN);
    pre_prepare.body.phase.block_len = 3;
    pre_prepare.body.phase.block = (uint8_t *)strdup("blk");
    assert_int_equal(gov_pbft_message_sign(&pre_prepare, c.private_keys[1], &c.set.chain_id), 0);

    gov_buf buf;
    gov_buf_init(&buf);
    assert_int_equal(gov_pbft_message_encode(&pre_prepare, &buf), 0);
    gov_pbft_message decoded;
    assert_int_equal(gov_pbft_message_decode(buf.data, buf.len, &decoded, why, sizeof(why)), 0);
    assert_true(gov_pbft_message_signature_valid(&decoded, &c.set));
    decoded.body.phase.height++;
    assert_false(gov_pbft_message_signature_valid(&decoded, &c.set));
    decoded.body.phase.height--;
    decoded.body.phase.sender = 2; /* claimed by another replica */
    assert_false(gov_pbft_message_signature_valid(&decoded, &c.set));
    decoded.body.phase.sender = VALIDATORS; /* unknown sender */
    assert_false(gov_pbft_message_signature_valid(&decoded, &c.set));
    gov_pbft_message_clear(&decoded);
    gov_buf_free(&buf);

    /* A view-change carrying a commit certificate, then a new-view carrying it. */
    gov_pbft_message view_change;
    memset(&view_change, 0, sizeof(view_change));
    view_change.type = GOV_PBFT_VIEW_CHANGE;
    gov_pbft_view_change *vc = &view_change.body.view_change;
    vc->new_view = 1;
    vc->sender = 3;
    vc->committed_height = 17;
    vc->has_commit_cert = true;
    make_commit_cert(&c, &vc->commit_cert, 5);
    assert_int_equal(gov_pbft_message_sign(&view_change, c.private_keys[3], &c.set.chain_id), 0);
    assert_true(gov_pbft_message_signature_valid(&view_change, &c.set));

    gov_pbft_message new_view;
    memset(&new_view, 0, sizeof(new_view));
    new_view.type = GOV_PBFT_NEW_VIEW;
    new_view.body.new_view.view = 1;
    new_view.body.new_view.sender = 1;
    new_view.body.new_view.view_changes_count = 1;
    new_view.body.new_view.view_changes = malloc(sizeof(gov_pbft_view_change));
    new_view.body.new_view.view_changes[0] = *vc;
    new_view.body.new_view.pre_prepare = malloc(sizeof(gov_pbft_message));
    *new_view.body.new_view.pre_prepare = pre_prepare; /* takes ownership of the block */
    assert_int_equal(gov_pbft_message_sign(&new_view, c.private_keys[1], &c.set.chain_id), 0);

    gov_buf_init(&buf);
    assert_int_equal(gov_pbft_message_encode(&new_view, &buf), 0);
    assert_int_equal(gov_pbft_message_decode(buf.data, buf.len, &decoded, why, sizeof(why)), 0);
    assert_true(gov_pbft_message_signature_valid(&decoded, &c.set));
    assert_true(gov_pbft_message_signature_valid(
        &(gov_pbft_message){.type = GOV_PBFT_VIEW_CHANGE,
                            .body.view_change = decoded.body.new_view.view_changes[0]},
        &c.set));
    /* The nested certificate is part of what the new primary signed. */
    decoded.body.new_view.view_changes[0].commit_cert.votes[0].signature[5] ^= 1;
    assert_false(gov_pbft_message_signature_valid(&decoded, &c.set));
    gov_pbft_message_clear(&decoded);
    gov_buf_free(&buf);
    gov_pbft_message_clear(&new_view);
    cluster_free(&c);
}

static void test_quorum_arithmetic(void **state)
{
    (void)state;
    /* n, f, q, prepares in a prepared certificate */
    static const uint32_t table[][4] = {
        {4, 1, 3, 2}, {5, 1, 4, 3}, {6, 1, 4, 3},  {7, 2, 5, 4},
        {8, 2, 6, 5}, {9, 2, 6, 5}, {10, 3, 7, 6}, {64, 21, 43, 42},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        gov_validator_set set = {.count = table[i][0]};
        assert_int_equal(gov_validator_set_faults(&set), table[i][1]);
        assert_int_equal(gov_validator_set_quorum(&set), table[i][2]);
        assert_int_equal(gov_quorum_prepares(table[i][0]), table[i][3]);
    }
    /* Two quorums share a correct validator, and the correct ones form a quorum. */
    for (uint32_t n = 4; n <= GOV_VALIDATORS_MAX; n++) {
        uint32_t f = gov_quorum_faults(n);
        uint32_t q = gov_quorum_size(n);
        assert_true(2 * q - n >= f + 1);
        assert_true(q <= n - f);
        /* A prepared certificate (primary + prepares) is itself a quorum. */
        assert_int_equal(1 + gov_quorum_prepares(n), q);
    }
}

/* With n = 6 (f = 1, q = 4) a Byzantine primary could otherwise pair a commit
 * certificate for one block with a prepared certificate of "2f" prepares for another
 * in the same view: the primary plus replicas 4 and 5 are only three validators, who
 * need not include a correct one that committed. Such a certificate must be refused. */
static void test_prepared_cert_needs_a_quorum(void **state)
{
    (void)state;
    gov_private_key *private_keys[6];
    gov_public_key *public_keys[6];
    for (int i = 0; i < 6; i++) {
        uint8_t bytes[GOV_PUBLIC_KEY_LEN];
        assert_int_equal(gov_private_key_generate(GOV_SUITE_P256_SHA256, &private_keys[i]), 0);
        gov_private_key_public(private_keys[i], bytes);
        assert_int_equal(gov_public_key_parse(GOV_SUITE_P256_SHA256, bytes, &public_keys[i]), 0);
    }
    cluster c;
    memset(&c, 0, sizeof(c));
    c.set = (gov_validator_set){.suite = GOV_SUITE_P256_SHA256, .count = 6, .keys = public_keys};
    memcpy(c.private_keys, private_keys, sizeof(private_keys));
    memset(c.set.chain_id.bytes, 0x42, GOV_HASH_LEN);

    gov_prepared_cert cert;
    memset(&cert, 0, sizeof(cert));
    cert.view = 6; /* primary 0 */
    cert.height = 10;
    memset(cert.digest.bytes, 0xee, GOV_HASH_LEN);
    signed_vote(&c, GOV_PBFT_PRE_PREPARE, cert.view, cert.height, &cert.digest, 0,
                cert.pre_prepare_signature);
    for (uint32_t i = 0; i < 3; i++) {
        cert.prepares[i].validator = 3 + i;
        signed_vote(&c, GOV_PBFT_PREPARE, cert.view, cert.height, &cert.digest, 3 + i,
                    cert.prepares[i].signature);
    }
    char why[256];
    cert.prepares_count = 2; /* replicas 3 and 4: the "2f" of the paper */
    assert_int_equal(gov_prepared_cert_verify(&cert, &c.set, why, sizeof(why)), GOV_EINVAL);
    assert_non_null(strstr(why, "2 prepares, 3 are needed"));
    cert.prepares_count = 3; /* q - 1 */
    assert_int_equal(gov_prepared_cert_verify(&cert, &c.set, why, sizeof(why)), 0);
    for (int i = 0; i < 6; i++) {
        gov_private_key_free(private_keys[i]);
        gov_public_key_free(public_keys[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_cert_p256),
        cmocka_unit_test(test_commit_cert_sm2),
        cmocka_unit_test(test_prepared_cert),
        cmocka_unit_test(test_message_signatures),
        cmocka_unit_test(test_quorum_arithmetic),
        cmocka_unit_test(test_prepared_cert_needs_a_quorum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
