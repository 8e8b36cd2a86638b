/*
 * govchain node: runs a department's node (node/node.h) from its home directory.
 */
#include <getopt.h>
#include <stdio.h>

#include "node/cli.h"
#include "node/node.h"

#define COMMAND "node"

static const char usage[] =
    "Usage: govchain node --home DIR\n"
    "\n"
    "Runs a validator node: PBFT with the other validators over mutual-TLS links, the\n"
    "ledger in DIR's LevelDB store, and the HTTP/JSON API. DIR holds config.ini (see\n"
    "docs/node.md), which names the genesis file, the validator's key file and the\n"
    "addresses. Any config value can be overridden by GOVCHAIN_<SECTION>_<KEY>, e.g.\n"
    "GOVCHAIN_API_LISTEN=127.0.0.1:8080. Logs go to standard output: plain text on a\n"
    "terminal, JSON Lines otherwise (log.format). SIGTERM or SIGINT stops the node after\n"
    "the commit in progress.\n"
    "\n"
    "  --home DIR   the node's home directory\n"
    "  --help       this text\n";

int gov_cmd_node(int argc, char **argv)
{
    static const struct option options[] = {
        {"home", required_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *home = NULL;
    optind = 0;
    int option;
    while ((option = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (option) {
        case 'H':
            home = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return GOV_EXIT_OK;
        default:
            return gov_cli_option_error(COMMAND, argv, option);
        }
    }
    if (optind < argc) {
        return gov_cli_usage_error(COMMAND, "unexpected argument '%s'", argv[optind]);
    }
    if (home == NULL) {
        return gov_cli_usage_error(COMMAND, "--home DIR is required");
    }
    return gov_node_run(home);
}
