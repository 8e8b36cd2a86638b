/*
 * Network creation: the genesis of a new network is valid, lists the keys that were
 * made (department keys sign for their department, node keys are the validators), and
 * has the departments and agreements network.h promises, for both suites.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "govchain/error.h"
#include "govchain/network.h"

static void check_network(gov_suite suite, uint32_t validators)
{
    gov_network *network = NULL;
    char why[512] = "";
    int rc = gov_network_create(suite, validators, 1767225600000ULL, "test-net", &network, why,
                                sizeof(why));
    if (rc != 0) {
        fail_msg("network of %u: %s", validators, why);
    }
    const gov_genesis *genesis = network->genesis;
    assert_int_equal(genesis->suite, suite);
    assert_int_equal(genesis->validators_count, validators);
    assert_int_equal(genesis->departments_count, validators + 1);
    for (uint32_t i = 0; i < validators; i++) {
        uint8_t key[GOV_PUBLIC_KEY_LEN];
        gov_private_key_public(network->validator_keys[i], key);
        assert_memory_equal(genesis->validators[i].public_key, key, GOV_PUBLIC_KEY_LEN);
        assert_int_equal(genesis->validators[i].department, i);
    }
    for (uint32_t i = 0; i < network->departments_count; i++) {
        uint8_t key[GOV_PUBLIC_KEY_LEN];
        gov_private_key_public(network->department_keys[i], key);
        assert_memory_equal(genesis->departments[i].keys[0], key, GOV_PUBLIC_KEY_LEN);
    }
    int audit = gov_genesis_department_index(genesis, "audit-office");
    assert_int_equal(audit, (int)validators);
    assert_int_equal(genesis->departments[audit].roles, GOV_ROLE_REGULATOR);
    int licence = gov_genesis_doc_type_index(genesis, "business-licence");
    assert_true(licence >= 0);
    assert_int_equal(genesis->doc_types[licence].endorsements_required, 2);
    if (validators > 4) {
        assert_true(gov_genesis_department_index(genesis, "department-5") >= 0);
    }
    /* The text is the genesis: parsing it again gives the same chain id. */
    gov_genesis *again = NULL;
    assert_int_equal(gov_genesis_parse(network->genesis_json, strlen(network->genesis_json), &again,
                                       why, sizeof(why)),
                     0);
    assert_memory_equal(again->hash.bytes, genesis->hash.bytes, GOV_HASH_LEN);
    gov_genesis_free(again);
    gov_network_free(network);
}

static void test_networks(void **state)
{
    (void)state;
    check_network(GOV_SUITE_P256_SHA256, 4);
    check_network(GOV_SUITE_P256_SHA256, 7);
    check_network(GOV_SUITE_SM2_SM3, 4);
}

static void test_bad_sizes(void **state)
{
    (void)state;
    gov_network *network = NULL;
    char why[256];
    assert_int_equal(
        gov_network_create(GOV_SUITE_P256_SHA256, 3, 0, "x", &network, why, sizeof(why)),
        GOV_EINVAL);
    assert_int_equal(
        gov_network_create(GOV_SUITE_P256_SHA256, 65, 0, "x", &network, why, sizeof(why)),
        GOV_EINVAL);
    assert_null(network);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_networks),
        cmocka_unit_test(test_bad_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
