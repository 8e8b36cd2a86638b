/*
 * govchain: one binary, one subcommand per node/cmd_<name>.c, dispatched from the table
 * below. Exit codes: 0 success, 1 a failed check or failed work, 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "node/cli.h"

typedef struct {
    const char *name;
    int (*handler)(int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
    {"keygen", gov_cmd_keygen, "create a signing key file and print its public key"},
    {"genesis", gov_cmd_genesis, "check a genesis file and print its hash (the chain id)"},
    {"localnet", gov_cmd_localnet, "run a demonstration network of departments on this machine"},
    {"node", gov_cmd_node, "run a department's node (consensus, ledger, HTTP API)"},
    {"submit", gov_cmd_submit, "sign a record (issue, endorse, revoke) and submit it to a node"},
    {"status", gov_cmd_status, "ask a node for a document's status, by file or hash"},
    {"receipt", gov_cmd_receipt,
     "save a document's receipt (a proof anyone can check) from a node"},
    {"verify", gov_cmd_verify, "check a receipt offline against the genesis alone"},
    {"checkpoint", gov_cmd_checkpoint,
     "save a certified checkpoint, or prove a node's chain extends one"},
    {"audit", gov_cmd_audit, "list what one department did, by height or time (JSON Lines or CSV)"},
    {"evidence", gov_cmd_evidence,
     "check a node's proofs that a validator equivocated, against the genesis alone"},
    {"replay", gov_cmd_replay, "rebuild a ledger from a data directory, re-verifying all"},
    {"bench", gov_cmd_bench, "measure signature throughput through govchain's crypto API"},
};

static void print_usage(FILE *out)
{
    fprintf(out, "Usage: govchain <command> [options]\n\n"
                 "govchain is the node each department runs on a permissioned ledger of\n"
                 "certificates and approval records, replicated by PBFT.\n\nCommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
    }
    fprintf(out, "\nRun 'govchain <command> --help' for a command's options.\n"
                 "Exit status: 0 success, 1 a failed check, 2 bad usage.\n");
}

__attribute__((format(printf, 2, 0))) static void print_message(const char *command_name,
                                                                const char *format, va_list args)
{
    fprintf(stderr, "govchain %s: ", command_name);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
}

int gov_cli_usage_error(const char *command_name, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    print_message(command_name, format, args);
    va_end(args);
    fprintf(stderr, "Try 'govchain %s --help'.\n", command_name);
    return GOV_EXIT_USAGE;
}

int gov_cli_option_error(const char *command_name, char **argv, int getopt_result)
{
    const char *argument = optind > 0 ? argv[optind - 1] : "";
    bool is_long = strncmp(argument, "--", 2) == 0;
    const char *problem = getopt_result == ':' ? "needs a value" : "is not known";
    if (is_long || optopt == 0) {
        /* Show a long option without any "=value" the user attached. */
        int name_len = (int)strcspn(argument, "=");
        return gov_cli_usage_error(command_name, "option '%.*s' %s", name_len, argument, problem);
    }
    return gov_cli_usage_error(command_name, "option '-%c' %s", optopt, problem);
}

int gov_cli_failure(const char *command_name, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    print_message(command_name, format, args);
    va_end(args);
    return GOV_EXIT_FAILED;
}

/* What a command prints is often its result (a public key, a chain id): output that
 * could not be written is a failure, whatever the command itself concluded. */
static int finish_output(const char *command_name, int status)
{
    bool failed = fflush(stdout) != 0 || ferror(stdout);
    if (failed && status == GOV_EXIT_OK) {
        return gov_cli_failure(command_name, "cannot write to standard output: %s",
                               strerror(errno));
    }
    return status;
}

int main(int argc, char **argv)
{
    /* A closed pipe (e.g. `govchain ... | head`) is an error to report, not a kill. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        print_usage(stderr);
        return GOV_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        print_usage(stdout);
        return finish_output("help", GOV_EXIT_OK);
    }
    if (strcmp(name, "--version") == 0) {
        printf("govchain %s\n", GOVCHAIN_VERSION);
        return finish_output("version", GOV_EXIT_OK);
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(name, commands[i].name) == 0) {
            return finish_output(name, commands[i].handler(argc - 1, argv + 1));
        }
    }
    fprintf(stderr, "govchain: unknown command '%s'\n", name);
    fprintf(stderr, "Try 'govchain --help'.\n");
    return GOV_EXIT_USAGE;
}
