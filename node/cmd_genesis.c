/* govchain genesis: checks a genesis file against every rule and prints its hash. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "govchain/crypto.h"
#include "govchain/error.h"
#include "govchain/genesis.h"
#include "govchain/limits.h"
#include "node/cli.h"
#include "node/file.h"

static const char usage[] =
    "Usage: govchain genesis verify [--verbose] FILE\n"
    "\n"
    "Checks the genesis file FILE (JSON; '-' reads standard input) against every rule\n"
    "and prints its hash, which is the chain id every signature on the chain covers.\n"
    "When the file breaks a rule, prints where and why and exits with status 1.\n"
    "\n"
    "  --verbose   also print a summary: suite, validators, fault tolerance, departments\n";

static void print_summary(const gov_genesis *genesis)
{
    printf("chain_name: %s\n", genesis->chain_name);
    printf("suite: %s\n", gov_suite_name(genesis->suite));
    printf("validators: %u (tolerates %u faulty, quorum %u)\n", genesis->validators_count,
           gov_genesis_faults_tolerated(genesis), gov_genesis_quorum(genesis));
    printf("departments: %u\n", genesis->departments_count);
    for (uint32_t i = 0; i < genesis->departments_count; i++) {
        const gov_genesis_department *department = &genesis->departments[i];
        printf("  %s (%s): ", department->id, department->name);
        const char *separator = "";
        for (uint32_t role = GOV_ROLE_ISSUER; role <= GOV_ROLE_REGULATOR; role <<= 1) {
            if (department->roles & role) {
                printf("%s%s", separator, gov_role_name((gov_role)role));
                separator = ", ";
            }
        }
        printf("; %u key%s\n", department->keys_count, department->keys_count == 1 ? "" : "s");
    }
    printf("doc_types: %u\n", genesis->doc_types_count);
    for (uint32_t i = 0; i < genesis->doc_types_count; i++) {
        const gov_genesis_doc_type *doc_type = &genesis->doc_types[i];
        printf("  %s (%s): recognised with %u of %u endorsements\n", doc_type->id,
               gov_doc_class_name(doc_type->doc_class), doc_type->endorsements_required,
               doc_type->recognisers_count);
    }
}

static int verify(const char *path, bool verbose)
{
    char why[512] = "";
    char *json = NULL;
    size_t len = 0;
    int rc = gov_file_read(path, GOV_GENESIS_JSON_BYTES_MAX, &json, &len, why, sizeof(why));
    if (rc != 0) {
        return gov_cli_failure("genesis", "%s", why);
    }
    gov_genesis *genesis = NULL;
    rc = gov_genesis_parse(json, len, &genesis, why, sizeof(why));
    free(json);
    if (rc != 0) {
        return gov_cli_failure("genesis", "%s: invalid genesis: %s", path,
                               why[0] != '\0' ? why : gov_strerror(rc));
    }
    char hex[2 * GOV_HASH_LEN + 1];
    gov_hex_encode(genesis->hash.bytes, GOV_HASH_LEN, hex);
    printf("%s\n", hex);
    if (verbose) {
        print_summary(genesis);
    }
    gov_genesis_free(genesis);
    return GOV_EXIT_OK;
}

/* argv[1] is the subcommand (or --help); options may stand anywhere after it. */
int gov_cmd_genesis(int argc, char **argv)
{
    static const struct option options[] = {
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (argc < 2) {
        return gov_cli_usage_error("genesis", "missing subcommand (verify)");
    }
    const char *subcommand = argv[1];
    if (strcmp(subcommand, "--help") == 0 || strcmp(subcommand, "-h") == 0) {
        fputs(usage, stdout);
        return GOV_EXIT_OK;
    }
    if (strcmp(subcommand, "verify") != 0) {
        return gov_cli_usage_error("genesis", "unknown subcommand '%s' (verify)", subcommand);
    }
    bool verbose = false;
    int option;
    opterr = 0;
    optind = 0;
    while ((option = getopt_long(argc - 1, argv + 1, ":vh", options, NULL)) != -1) {
        switch (option) {
        case 'v':
            verbose = true;
            break;
        case 'h':
            fputs(usage, stdout);
            return GOV_EXIT_OK;
        default:
            return gov_cli_option_error("genesis", argv + 1, option);
        }
    }
    if (argc - 1 - optind != 1) {
        return gov_cli_usage_error("genesis", "verify takes exactly one FILE");
    }
    return verify(argv[1 + optind], verbose);
}
