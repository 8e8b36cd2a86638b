/*
 * govchain replay: rebuilds a fresh ledger from the blocks of an existing data directory,
 * re-verifying everything (ledger/replay.c), and prints a summary; on the first block
 * that does not re-verify, names its height, the field and both values, and exits 1.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "govchain/error.h"
#include "govchain/genesis.h"
#include "govchain/kv.h"
#include "govchain/kv_leveldb.h"
#include "govchain/ledger.h"
#include "govchain/limits.h"
#include "govchain/replay.h"
#include "govchain/rules.h"
#include "node/cli.h"
#include "node/file.h"
#include "node/json_out.h"
#include "node/remote_blocks.h"
#include "node/verify_pool.h"

#define COMMAND "replay"

static const char usage[] =
    "Usage: govchain replay (--data-dir DIR | --from URL) --genesis FILE [--until H]\n"
    "                       [--export FILE.jsonl]\n"
    "\n"
    "Rebuilds a fresh ledger, in memory, from the blocks stored in the node data directory\n"
    "DIR (its LevelDB store), re-verifying every commit certificate against the validators\n"
    "of genesis, every transaction's signature and rules, and each block's tx_root,\n"
    "history_root and state_root. The data directory is only read.\n"
    "\n"
    "  --data-dir DIR      the node's data directory (the LevelDB store)\n"
    "  --from URL          a running node's API instead (http://host:port): its blocks are\n"
    "                      pulled and checked the same way, trusting the node for nothing\n"
    "  --genesis FILE      the chain's genesis file\n"
    "  --until H           stop after height H (default: the stored head)\n"
    "  --export FILE       write one JSON object per transaction (JSON Lines), with its\n"
    "                      block and result\n"
    "\n"
    "Exit status: 0 when every block re-verifies; 1 at the first that does not (its\n"
    "height, the field and both values are printed) or when the store cannot be read;\n"
    "2 for bad usage.\n";

typedef struct {
    const char *data_dir;
    const char *from_url;
    const char *genesis_path;
    const char *export_path;
    uint64_t until;
} options;

static int parse(int argc, char **argv, options *out, bool *help)
{
    static const struct option long_options[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"genesis", required_argument, NULL, 'g'},
        {"from", required_argument, NULL, 'f'},
        {"until", required_argument, NULL, 'u'},
        {"export", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int option;
    opterr = 0;
    optind = 0;
    while ((option = getopt_long(argc, argv, ":d:g:u:e:h", long_options, NULL)) != -1) {
        char *end = NULL;
        switch (option) {
        case 'd':
            out->data_dir = optarg;
            break;
        case 'f':
            out->from_url = optarg;
            break;
        case 'g':
            out->genesis_path = optarg;
            break;
        case 'e':
            out->export_path = optarg;
            break;
        case 'u':
            errno = 0;
            out->until = strtoull(optarg, &end, 10);
            if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-' ||
                out->until == 0) {
                return gov_cli_usage_error(COMMAND,
                                           "--until needs a height of 1 or more, "
                                           "not '%s'",
                                           optarg);
            }
            break;
        case 'h':
            *help = true;
            return GOV_EXIT_OK;
        default:
            return gov_cli_option_error(COMMAND, argv, option);
        }
    }
    if (optind < argc) {
        return gov_cli_usage_error(COMMAND, "unexpected argument '%s'", argv[optind]);
    }
    if ((out->data_dir == NULL) == (out->from_url == NULL) || out->genesis_path == NULL) {
        return gov_cli_usage_error(COMMAND,
                                   "--genesis FILE and one of --data-dir DIR and --from URL are "
                                   "required");
    }
    return GOV_EXIT_OK;
}

static int load_genesis(const char *path, gov_genesis **out)
{
    char why[512] = "";
    return gov_genesis_load(path, out, why, sizeof(why)) == 0 ? 0
                                                              : gov_cli_failure(COMMAND, "%s", why);
}

/* What the per-block callback needs: the export file, the chain's genesis, and the
 * progress line on a terminal. */
typedef struct {
    FILE *file;
    const gov_genesis *genesis;
    uint64_t documents; /* ISSUE transactions replayed */
    uint64_t transactions;
    uint64_t last; /* the height the replay goes to */
    bool progress; /* standard error is a terminal */
    struct timespec start, shown;
} replay_context;

static double seconds_since(const struct timespec *start);

static void show_progress(replay_context *out, uint64_t height, bool final)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!out->progress || (!final && seconds_since(&out->shown) < 0.2)) {
        return;
    }
    out->shown = now;
    double elapsed = seconds_since(&out->start);
    double share = out->last == 0 ? 1.0 : (double)height / (double)out->last;
    int bar = (int)(share * 30);
    fprintf(stderr, "\rreplaying [%.*s%*s] %5.1f%%  height %" PRIu64 " of %" PRIu64 "  %.0f tx/s ",
            bar, "##############################", 30 - bar, "", share * 100, height, out->last,
            elapsed > 0 ? (double)out->transactions / elapsed : 0.0);
    if (final) {
        fputc('\n', stderr);
    }
}

/* Writes each replayed transaction as one JSON line. */
static int export_block(void *arg, const gov_block *block, const gov_hash *hash)
{
    replay_context *out = arg;
    out->transactions += block->txs_count;
    for (uint32_t i = 0; i < block->txs_count; i++) {
        out->documents += block->txs[i].kind == GOV_TX_ISSUE;
    }
    show_progress(out, block->header.height, false);
    if (out->file == NULL) {
        return 0;
    }
    for (uint32_t i = 0; i < block->txs_count; i++) {
        json_t *line = gov_json_tx(out->genesis->suite, &block->txs[i]);
        if (line == NULL) {
            return GOV_ENOMEM;
        }
        json_object_set_new(line, "height", gov_json_u64(block->header.height));
        json_object_set_new(line, "index", json_integer(i));
        json_object_set_new(line, "block_hash", gov_json_hash(hash));
        json_object_set_new(line, "block_time_ms", gov_json_u64(block->header.time_ms));
        /* Only applied transactions enter blocks. */
        json_object_set_new(line, "result", json_string("applied"));
        int rc = json_dumpf(line, out->file, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(line);
        if (rc != 0 || fputc('\n', out->file) == EOF) {
            return GOV_EIO;
        }
    }
    return 0;
}

static int ledger_block_get(void *arg, uint64_t height, gov_block *block, gov_commit_cert *cert,
                            char *why, size_t why_len)
{
    return gov_ledger_block_get(arg, height, block, cert, why, why_len);
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static int run(const options *opts, gov_genesis *genesis)
{
    char why[1024] = "";
    gov_kv *source_store = NULL;
    gov_kv *target_store = NULL;
    gov_ledger *source = NULL;
    gov_ledger *target = NULL;
    gov_remote_blocks *remote = NULL;
    replay_context out = {.genesis = genesis, .progress = isatty(STDERR_FILENO)};
    int status = GOV_EXIT_FAILED;
    const char *where = opts->data_dir != NULL ? opts->data_dir : opts->from_url;
    int rc = opts->data_dir != NULL
                 ? gov_kv_leveldb_open(opts->data_dir, false, &source_store, why, sizeof(why))
                 : gov_remote_blocks_open(opts->from_url, &remote, why, sizeof(why));
    if (rc != 0 ||
        (source_store != NULL &&
         gov_ledger_open(genesis, source_store, &source, why, sizeof(why)) != 0) ||
        gov_kv_memory_open(&target_store) != 0 ||
        gov_ledger_open(genesis, target_store, &target, why, sizeof(why)) != 0) {
        gov_cli_failure(COMMAND, "%s: %s", where, why);
        goto out;
    }
    gov_replay_source from;
    if (remote != NULL) {
        from = gov_remote_blocks_source(remote);
    } else {
        const gov_ledger_head *head = gov_ledger_head_get(source);
        from = (gov_replay_source){.block_get = ledger_block_get,
                                   .arg = source,
                                   .head_height = head->height,
                                   .head_hash = &head->hash};
    }
    out.last = opts->until != 0 && opts->until < from.head_height ? opts->until : from.head_height;
    if (opts->export_path != NULL && (out.file = fopen(opts->export_path, "wx")) == NULL) {
        gov_cli_failure(COMMAND, "cannot create %s: %s", opts->export_path, strerror(errno));
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &out.start);
    out.shown = out.start;
    gov_replay_summary summary;
    /* Without a pool (out of memory) every signature is checked in line. */
    gov_verify_pool *pool = gov_verify_pool_open(genesis, gov_verify_threads());
    gov_replay_verifier verifier = gov_verify_for_replay(pool);
    rc = gov_replay_from(&from, target, opts->until, pool != NULL ? &verifier : NULL, export_block,
                         &out, &summary, why, sizeof(why));
    gov_verify_pool_close(pool);
    double seconds = seconds_since(&out.start);
    show_progress(&out, gov_ledger_head_get(target)->height, true);
    if (out.file != NULL && fclose(out.file) != 0 && rc == 0) {
        rc = GOV_EIO;
        snprintf(why, sizeof(why), "writing %s: %s", opts->export_path, strerror(errno));
    }
    out.file = NULL;
    if (rc != 0) {
        gov_cli_failure(COMMAND, "stopped after %" PRIu64 " good blocks: %s", summary.blocks, why);
        goto out;
    }
    const gov_ledger_head *head = gov_ledger_head_get(target);
    char hash[2 * GOV_HASH_LEN + 1];
    char root[2 * GOV_HASH_LEN + 1];
    gov_hex_encode(head->hash.bytes, GOV_HASH_LEN, hash);
    gov_hex_encode(head->state_root.bytes, GOV_HASH_LEN, root);
    printf("replayed %" PRIu64 " blocks, %" PRIu64 " transactions (%" PRIu64
           " documents issued) in %.2f s, %.0f transactions/s: every certificate, signature "
           "and root re-verified\n",
           summary.blocks, summary.transactions, out.documents, seconds,
           seconds > 0 ? (double)summary.transactions / seconds : 0.0);
    printf("height: %" PRIu64 "\nblock hash: %s\nstate root: %s\n", head->height, hash, root);
    if (opts->export_path != NULL) {
        printf("exported: %s\n", opts->export_path);
    }
    status = GOV_EXIT_OK;
out:
    if (out.file != NULL) {
        fclose(out.file);
    }
    gov_ledger_close(target);
    gov_ledger_close(source);
    gov_kv_close(target_store);
    gov_kv_close(source_store);
    gov_remote_blocks_close(remote);
    return status;
}

int gov_cmd_replay(int argc, char **argv)
{
    options opts = {0};
    bool help = false;
    int status = parse(argc, argv, &opts, &help);
    if (status != GOV_EXIT_OK || help) {
        if (help) {
            fputs(usage, stdout);
        }
        return status;
    }
    gov_genesis *genesis = NULL;
    status = load_genesis(opts.genesis_path, &genesis);
    if (status != 0) {
        return status;
    }
    status = run(&opts, genesis);
    gov_genesis_free(genesis);
    return status;
}
