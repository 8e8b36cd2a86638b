/*
 * The govchain command line: one handler per subcommand (node/cmd_<name>.c), dispatched
 * from the table in node/main.c.
 *
 * A handler receives argv with argv[0] set to its own name (so getopt_long works as
 * for a program) and returns an exit code: GOV_EXIT_OK, GOV_EXIT_FAILED when a check
 * failed or the work could not be done (with the reason on stderr), GOV_EXIT_USAGE for
 * bad usage (with a hint to --help). `--help` prints the subcommand's usage to stdout
 * and returns GOV_EXIT_OK.
 */
#ifndef GOVCHAIN_NODE_CLI_H
#define GOVCHAIN_NODE_CLI_H

enum {
    GOV_EXIT_OK = 0,
    GOV_EXIT_FAILED = 1,
    GOV_EXIT_USAGE = 2,
};

int gov_cmd_keygen(int argc, char **argv);
int gov_cmd_genesis(int argc, char **argv);
int gov_cmd_replay(int argc, char **argv);
int gov_cmd_bench(int argc, char **argv);
int gov_cmd_node(int argc, char **argv);
int gov_cmd_localnet(int argc, char **argv);
int gov_cmd_submit(int argc, char **argv);
int gov_cmd_status(int argc, char **argv);
int gov_cmd_receipt(int argc, char **argv);
int gov_cmd_verify(int argc, char **argv);
int gov_cmd_checkpoint(int argc, char **argv);
int gov_cmd_audit(int argc, char **argv);
int gov_cmd_evidence(int argc, char **argv);

/* Prints "govchain <command>: <message>" and "Try 'govchain <command> --help'." to
 * stderr and returns GOV_EXIT_USAGE. */
int gov_cli_usage_error(const char *command, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
/* For getopt_long's '?' (unknown option) or ':' (missing value, with a leading ':' in
 * the option string): names the offending option as the user typed it, including a
 * short option inside a cluster such as -vx, and returns GOV_EXIT_USAGE. Handlers set
 * optind = 0 before parsing so that glibc fully resets its state. */
int gov_cli_option_error(const char *command, char **argv, int getopt_result);
/* Prints "govchain <command>: <message>" to stderr and returns GOV_EXIT_FAILED. */
int gov_cli_failure(const char *command, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

#endif
