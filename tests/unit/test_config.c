/*
 * The node's config.ini: every key parses into its field, the environment overrides the
 * file, and each mistake an operator can make is refused with the line and the key
 * named, including lines long enough that inih would have cut them silently.
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
#include "node/config.h"
#include "tests/unit/test_util.h"

static const char *const GOOD = "; a validator of a four-department network\n"
                                "[node]\n"
                                "role = validator\n"
                                "validator = 2\n"
                                "key_file = keys/node.pem\n"
                                "genesis = /etc/govchain/genesis.json\n"
                                "\n"
                                "[network]\n"
                                "listen = 127.0.0.1:7002\n"
                                "peer.0 = 127.0.0.1:7000\n"
                                "peer.1 = [::1]:7001\n"
                                "peer.3 = localhost:7003\n"
                                "\n"
                                "[api]\n"
                                "listen = 127.0.0.1:8002\n"
                                "max_body_bytes = 65536\n"
                                "\n"
                                "[mempool]\n"
                                "max_txs = 500\n"
                                "[log]\n"
                                "format = json\n";

static void test_every_key_parses(void **state)
{
    (void)state;
    gov_node_config config;
    char why[200] = "";
    assert_int_equal(gov_node_config_parse("/srv/tax", GOOD, &config, why, sizeof(why)), 0);
    assert_int_equal(config.role, GOV_ROLE_VALIDATOR);
    assert_int_equal(config.validator, 2);
    assert_string_equal(config.key_path, "/srv/tax/keys/node.pem");
    assert_string_equal(config.genesis_path, "/etc/govchain/genesis.json");
    assert_string_equal(config.data_dir, "/srv/tax/data"); /* the default */
    assert_string_equal(config.p2p_listen.host, "127.0.0.1");
    assert_int_equal(config.p2p_listen.port, 7002);
    assert_true(config.has_peer[0] && config.has_peer[1] && !config.has_peer[2] &&
                config.has_peer[3]);
    assert_string_equal(config.peers[1].host, "::1");
    assert_int_equal(config.peers[1].port, 7001);
    assert_string_equal(config.peers[3].host, "localhost");
    assert_int_equal(config.api_listen.port, 8002);
    assert_int_equal(config.api_body_bytes_max, 65536);
    assert_int_equal(config.api_connections_max, 256); /* the default */
    assert_int_equal(config.mempool_txs_max, 500);
    assert_int_equal(config.log_format, GOV_LOG_JSON);
}

static void test_environment_overrides_the_file(void **state)
{
    (void)state;
    gov_node_config config;
    char why[200] = "";
    setenv("GOVCHAIN_API_LISTEN", "0.0.0.0:9000", 1);
    setenv("GOVCHAIN_NETWORK_PEER_2", "10.0.0.9:7000", 1); /* validator 2 is us ... */
    assert_int_equal(gov_node_config_parse("/h", GOOD, &config, why, sizeof(why)), GOV_EINVAL);
    assert_non_null(strstr(why, "network.peer.2 is this node itself"));
    unsetenv("GOVCHAIN_NETWORK_PEER_2");
    setenv("GOVCHAIN_MEMPOOL_MAX_TXS", "77", 1);
    assert_int_equal(gov_node_config_parse("/h", GOOD, &config, why, sizeof(why)), 0);
    assert_string_equal(config.api_listen.host, "0.0.0.0");
    assert_int_equal(config.api_listen.port, 9000);
    assert_int_equal(config.mempool_txs_max, 77);
    setenv("GOVCHAIN_API_MAX_CONNECTIONS", "lots", 1);
    assert_int_equal(gov_node_config_parse("/h", GOOD, &config, why, sizeof(why)), GOV_EINVAL);
    assert_non_null(strstr(why, "GOVCHAIN_API_MAX_CONNECTIONS: api.max_connections must be"));
    unsetenv("GOVCHAIN_API_MAX_CONNECTIONS");
    unsetenv("GOVCHAIN_API_LISTEN");
    unsetenv("GOVCHAIN_MEMPOOL_MAX_TXS");
}

typedef struct {
    const char *text;
    const char *error; /* a fragment of the expected message */
} bad_case;

static void test_mistakes_are_named(void **state)
{
    (void)state;
    char long_line[400];
    snprintf(long_line, sizeof(long_line), "[api]\nlisten = 127.0.0.1:1\n; %0*d\n", 197, 0);
    const bad_case cases[] = {
        {"[node]\nrole = leader\n", "line 2: node.role must be validator or observer"},
        {"[node]\nvalidatr = 1\n", "line 2: unknown key 'validatr' in section [node]"},
        {"[nodes]\nrole = validator\n", "unknown key 'role' in section [nodes]"},
        {"[api]\nlisten = 127.0.0.1:8080\nlisten = 127.0.0.1:8081\n",
         "line 3: api.listen is set twice"},
        {"[api]\nlisten = 127.0.0.1:99999\n", "port in '127.0.0.1:99999' is not 0..65535"},
        {"[api]\nlisten = 127.0.0.1\n", "'127.0.0.1' is not host:port"},
        {"[api]\nlisten = 127.0.0.1:1\nmax_connections = -1\n",
         "api.max_connections must be a whole number from 1 to 65536"},
        {"[api]\nlisten = 127.0.0.1:1\nmax_connections = 10 \xef\xbc\x90\n",
         "api.max_connections must be a whole number"},
        {"[api]\nlisten = 127.0.0.1:1\n[network]\npeer.64 = 127.0.0.1:1\n",
         "unknown key 'peer.64' in section [network]"},
        {"[node]\nvalidator = 1\n[network]\nlisten = 127.0.0.1:7001\n", "api.listen is required"},
        {"[api]\nlisten = 127.0.0.1:8080\n", "node.validator (this node's index in genesis)"},
        {"[node]\nvalidator = 1\n[api]\nlisten = 127.0.0.1:8080\n", "network.listen is required"},
        {"just words\n", "line 1: not a section header or key = value"},
        {long_line, "line 3 is longer than 198 characters"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gov_node_config config;
        char why[200] = "";
        int rc = gov_node_config_parse("/h", cases[i].text, &config, why, sizeof(why));
        if (rc != GOV_EINVAL || strstr(why, cases[i].error) == NULL) {
            fail_msg("case %zu: got %d '%s', expected '%s'", i, rc, why, cases[i].error);
        }
    }
}

static void test_observer_needs_no_key_or_index(void **state)
{
    (void)state;
    gov_node_config config;
    char why[200] = "";
    const char *text = "[node]\nrole = observer\n[api]\nlisten = 127.0.0.1:8090\n"
                       "[observer]\nsource.0 = http://127.0.0.1:8100\n"
                       "source.1 = http://127.0.0.1:8101\n";
    assert_int_equal(gov_node_config_parse("/obs", text, &config, why, sizeof(why)), 0);
    assert_int_equal(config.role, GOV_ROLE_OBSERVER);
    assert_int_equal(config.observer_sources_count, 2);
    assert_string_equal(config.observer_sources[1], "http://127.0.0.1:8101");
    /* An observer needs sources, numbered without gaps, that are URLs. */
    assert_int_equal(gov_node_config_parse("/obs",
                                           "[node]\nrole = observer\n[api]\n"
                                           "listen = 127.0.0.1:8090\n",
                                           &config, why, sizeof(why)),
                     GOV_EINVAL);
    assert_non_null(strstr(why, "observer.source.0"));
    assert_int_equal(gov_node_config_parse("/obs",
                                           "[node]\nrole = observer\n[api]\n"
                                           "listen = 127.0.0.1:8090\n[observer]\n"
                                           "source.1 = http://127.0.0.1:8101\n",
                                           &config, why, sizeof(why)),
                     GOV_EINVAL);
    assert_non_null(strstr(why, "observer.source.0 is missing"));
    assert_int_equal(gov_node_config_parse("/obs",
                                           "[node]\nrole = observer\n[api]\n"
                                           "listen = 127.0.0.1:8090\n[observer]\n"
                                           "source.0 = 127.0.0.1:8101\n",
                                           &config, why, sizeof(why)),
                     GOV_EINVAL);
    assert_non_null(strstr(why, "must be a validator's API URL"));
}

static void test_load_reads_the_home_directory(void **state)
{
    (void)state;
    char *home = test_make_temp_dir();
    gov_node_config config;
    char why[300] = "";
    assert_int_equal(gov_node_config_load(home, &config, why, sizeof(why)), GOV_ENOENT);
    char path[1100];
    snprintf(path, sizeof(path), "%s/config.ini", home);
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs(GOOD, file);
    fclose(file);
    assert_int_equal(gov_node_config_load(home, &config, why, sizeof(why)), 0);
    char expected[1100];
    snprintf(expected, sizeof(expected), "%s/keys/node.pem", home);
    assert_string_equal(config.key_path, expected);
    /* A NUL byte would end inih's string early and hide everything after it. */
    file = fopen(path, "w");
    assert_non_null(file);
    fwrite("[api]\nlisten = 127.0.0.1:1\n\0[node]\n", 1, 35, file);
    fclose(file);
    assert_int_equal(gov_node_config_load(home, &config, why, sizeof(why)), GOV_EINVAL);
    assert_non_null(strstr(why, "NUL byte"));
    test_remove_tree(home);
    free(home);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_key_parses),
        cmocka_unit_test(test_environment_overrides_the_file),
        cmocka_unit_test(test_mistakes_are_named),
        cmocka_unit_test(test_observer_needs_no_key_or_index),
        cmocka_unit_test(test_load_reads_the_home_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
