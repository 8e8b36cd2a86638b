/*
 * `govchain bench SUBJECT`: how fast govchain's own API does one thing.
 *
 * The signature subjects (verify, sign) run on one thread and are meant to be read beside
 * `openssl speed` on the same machine; the ledger subjects (node/bench_ledger.c) print
 * their own baseline, measured in the same run, and the ratio (docs/benchmarks.md).
 * Each subject is a row of the table below: a name, a line of help, and a function that
 * measures it for one suite and prints one line. A timed loop checks the clock only
 * between batches of calls.
 */
#include "govchain/crypto.h"
#include "govchain/error.h"
#include "node/bench.h"
#include "node/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COMMAND               "bench"
#define BATCH_CALLS           16
#define SECONDS_DEFAULT       3
#define SECONDS_MAX           3600
#define MESSAGE_BYTES_DEFAULT 256
#define MESSAGE_BYTES_MAX     (1 << 20)
#define BENCH_TAG             "govchain/tx/1"

typedef gov_bench_options bench_options;

/* What the crypto subjects work on: a fresh key and one signed message. */
typedef struct {
    gov_private_key *key;
    gov_public_key *public_key;
    gov_hash chain_id;
    uint8_t *message;
    size_t message_len;
    uint8_t signature[GOV_SIGNATURE_LEN];
} fixture;

/* Measures one subject for one suite, prints its line; returns a GOV_EXIT_* code. */
typedef int (*subject_fn)(gov_suite suite, const bench_options *options);

typedef struct {
    const char *name;
    const char *help;
    subject_fn run;
} subject;

static int bench_verify(gov_suite suite, const bench_options *options);
static int bench_sign(gov_suite suite, const bench_options *options);

static const subject subjects[] = {
    {"verify", "gov_verify of a signed message (tag \"" BENCH_TAG "\")", bench_verify},
    {"sign", "gov_sign of a message (tag \"" BENCH_TAG "\")", bench_sign},
    {"apply", "records applied without signature checks, beside verifications", gov_bench_apply},
    {"tree", "state-tree updates, beside hashes", gov_bench_tree},
    {"commit", "blocks committed to LevelDB with sync, beside synced writes", gov_bench_commit},
    {"replay", "transactions replayed, beside verifications on every core", gov_bench_replay},
    {"receipt", "receipts served over HTTP beside /healthz; receipt size; offline check time",
     gov_bench_receipt},
    {"network", "four nodes and an observer under load: records/s, observer lag, replay --from",
     gov_bench_network_load},
};
#define SUBJECT_COUNT (sizeof(subjects) / sizeof(subjects[0]))

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Calls op(arg) for at least seconds; returns calls per second, or -1 as soon as one
 * call reports a wrong result. */
static double calls_per_second(unsigned seconds, bool (*op)(fixture *), fixture *arg)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    uint64_t calls = 0;
    double elapsed = 0;
    do {
        for (int i = 0; i < BATCH_CALLS; i++) {
            if (!op(arg)) {
                return -1;
            }
        }
        calls += BATCH_CALLS;
        elapsed = seconds_since(&start);
    } while (elapsed < seconds);
    return (double)calls / elapsed;
}

static void fixture_free(fixture *f)
{
    gov_private_key_free(f->key);
    gov_public_key_free(f->public_key);
    free(f->message);
}

/* A key, its public key parsed back as a verifier would, and a signed message. */
static int fixture_init(fixture *f, gov_suite suite, size_t message_bytes)
{
    static const char chain_seed[] = "govchain bench chain";
    uint8_t point[GOV_PUBLIC_KEY_LEN];
    memset(f, 0, sizeof(*f));
    gov_hash_bytes(suite, chain_seed, sizeof(chain_seed) - 1, &f->chain_id);
    f->message_len = message_bytes;
    /* Never malloc(0): the loop needs a valid pointer even for empty messages. */
    f->message = malloc(message_bytes + 1);
    if (f->message == NULL) {
        return GOV_ENOMEM;
    }
    for (size_t i = 0; i < message_bytes; i++) {
        f->message[i] = (uint8_t)(i * 131 + 7);
    }
    int rc = gov_private_key_generate(suite, &f->key);
    if (rc == 0) {
        gov_private_key_public(f->key, point);
        rc = gov_public_key_parse(suite, point, &f->public_key);
    }
    if (rc == 0) {
        rc = gov_sign(f->key, BENCH_TAG, &f->chain_id, f->message, f->message_len, f->signature);
    }
    return rc;
}

static bool verify_once(fixture *f)
{
    return gov_verify(f->public_key, BENCH_TAG, &f->chain_id, f->message, f->message_len,
                      f->signature);
}

static bool sign_once(fixture *f)
{
    return gov_sign(f->key, BENCH_TAG, &f->chain_id, f->message, f->message_len, f->signature) == 0;
}

/* The shared body of the signature subjects. */
static int bench_signatures(gov_suite suite, const bench_options *options, const char *name,
                            bool (*op)(fixture *))
{
    fixture f;
    int rc = fixture_init(&f, suite, options->message_bytes);
    if (rc != 0) {
        fixture_free(&f);
        return gov_cli_failure(COMMAND, "cannot set up %s: %s", gov_suite_name(suite),
                               gov_strerror(rc));
    }
    double rate = calls_per_second(options->seconds, op, &f);
    /* The last signature made must verify too, or the sign figure means nothing. */
    bool correct = rate >= 0 && verify_once(&f);
    fixture_free(&f);
    if (!correct) {
        return gov_cli_failure(COMMAND, "%s %s produced a wrong result", gov_suite_name(suite),
                               name);
    }
    printf("%s %s: %.0f signatures/s (1 thread, %zu-byte messages)\n", gov_suite_name(suite), name,
           rate, options->message_bytes);
    fflush(stdout);
    return GOV_EXIT_OK;
}

static int bench_verify(gov_suite suite, const bench_options *options)
{
    return bench_signatures(suite, options, "verify", verify_once);
}

static int bench_sign(gov_suite suite, const bench_options *options)
{
    return bench_signatures(suite, options, "sign", sign_once);
}

static void print_usage(FILE *out)
{
    fprintf(out, "Usage: govchain " COMMAND " SUBJECT [--suite p256-sha256|sm2-sm3|all]\n"
                 "                      [--seconds N] [--message-bytes N]\n\n"
                 "Measures how many operations per second govchain's API does; the ledger\n"
                 "subjects print a baseline measured in the same run beside their figure.\n"
                 "\nSubjects:\n");
    for (size_t i = 0; i < SUBJECT_COUNT; i++) {
        fprintf(out, "  %-8s %s\n", subjects[i].name, subjects[i].help);
    }
    fprintf(out,
            "\nOptions:\n"
            "  --suite S           p256-sha256, sm2-sm3 or all (default all)\n"
            "  --seconds N         measure each suite for N seconds (default %d)\n"
            "  --message-bytes N   bytes per message (default %d, about a "
            "transaction)\n"
            "  --help              show this help\n",
            SECONDS_DEFAULT, MESSAGE_BYTES_DEFAULT);
}

/* A decimal count in [min, max]; false for anything else, including signs and spaces. */
static bool parse_count(const char *text, unsigned long min, unsigned long max, unsigned long *out)
{
    if (text[0] < '0' || text[0] > '9') {
        return false;
    }
    errno = 0;
    char *end = NULL;
    unsigned long value = strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < min || value > max) {
        return false;
    }
    *out = value;
    return true;
}

typedef struct {
    const subject *subject;
    gov_suite suites[2];
    size_t suite_count;
    bench_options options;
} bench_request;

static const subject *find_subject(const char *name)
{
    for (size_t i = 0; i < SUBJECT_COUNT; i++) {
        if (strcmp(name, subjects[i].name) == 0) {
            return &subjects[i];
        }
    }
    return NULL;
}

static bool parse_suites(const char *text, bench_request *request)
{
    if (strcmp(text, "all") == 0) {
        request->suites[0] = GOV_SUITE_P256_SHA256;
        request->suites[1] = GOV_SUITE_SM2_SM3;
        request->suite_count = 2;
        return true;
    }
    request->suite_count = 1;
    return gov_suite_parse(text, &request->suites[0]) == 0;
}

enum { OPTION_SUITE = 256, OPTION_SECONDS, OPTION_MESSAGE_BYTES };

/* Fills request from argv; GOV_EXIT_OK, or GOV_EXIT_USAGE after saying why. */
static int parse_arguments(int argc, char **argv, bench_request *request, bool *help)
{
    static const struct option long_options[] = {
        {"suite", required_argument, NULL, OPTION_SUITE},
        {"seconds", required_argument, NULL, OPTION_SECONDS},
        {"message-bytes", required_argument, NULL, OPTION_MESSAGE_BYTES},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    unsigned long value = 0;
    int option;
    opterr = 0;
    optind = 0;
    /* "-" hands operands over in place (as option 1), so the subject may stand before
     * or after the options even under POSIXLY_CORRECT; ":" reports a missing value. */
    while ((option = getopt_long(argc, argv, "-:h", long_options, NULL)) != -1) {
        switch (option) {
        case 1:
            if (request->subject != NULL) {
                return gov_cli_usage_error(COMMAND, "unexpected argument '%s'", optarg);
            }
            request->subject = find_subject(optarg);
            if (request->subject == NULL) {
                return gov_cli_usage_error(COMMAND, "unknown subject '%s'", optarg);
            }
            break;
        case OPTION_SUITE:
            if (!parse_suites(optarg, request)) {
                return gov_cli_usage_error(COMMAND, "unknown suite '%s'", optarg);
            }
            break;
        case OPTION_SECONDS:
            if (!parse_count(optarg, 1, SECONDS_MAX, &value)) {
                return gov_cli_usage_error(COMMAND, "--seconds must be 1 to %d, not '%s'",
                                           SECONDS_MAX, optarg);
            }
            request->options.seconds = (unsigned)value;
            break;
        case OPTION_MESSAGE_BYTES:
            if (!parse_count(optarg, 0, MESSAGE_BYTES_MAX, &value)) {
                return gov_cli_usage_error(COMMAND, "--message-bytes must be 0 to %d, not '%s'",
                                           MESSAGE_BYTES_MAX, optarg);
            }
            request->options.message_bytes = value;
            break;
        case 'h':
            *help = true;
            return GOV_EXIT_OK;
        default:
            return gov_cli_option_error(COMMAND, argv, option);
        }
    }
    /* getopt stops at "--"; whatever follows it is an operand we do not take. */
    if (optind < argc) {
        return gov_cli_usage_error(COMMAND, "unexpected argument '%s'", argv[optind]);
    }
    if (request->subject == NULL) {
        return gov_cli_usage_error(COMMAND, "say what to measure: verify or sign");
    }
    return GOV_EXIT_OK;
}

int gov_cmd_bench(int argc, char **argv)
{
    bench_request request = {
        .subject = NULL,
        .suites = {GOV_SUITE_P256_SHA256, GOV_SUITE_SM2_SM3},
        .suite_count = 2,
        .options = {.seconds = SECONDS_DEFAULT, .message_bytes = MESSAGE_BYTES_DEFAULT},
    };
    bool help = false;
    int rc = parse_arguments(argc, argv, &request, &help);
    if (rc != GOV_EXIT_OK) {
        return rc;
    }
    if (help) {
        print_usage(stdout);
        return GOV_EXIT_OK;
    }
    for (size_t i = 0; i < request.suite_count; i++) {
        rc = request.subject->run(request.suites[i], &request.options);
        if (rc != GOV_EXIT_OK) {
            return rc;
        }
    }
    return GOV_EXIT_OK;
}
