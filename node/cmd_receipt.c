/*
 * govchain receipt: saves a document's receipt from a node.
 * govchain verify: checks a receipt offline against the genesis alone (docs/receipt.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "govchain/error.h"
#include "govchain/genesis.h"
#include "govchain/receipt.h"
#include "node/cli.h"
#include "node/client.h"
#include "node/file.h"

enum { RECEIPT_BYTES_MAX = 1 << 20 };

static const char receipt_usage[] =
    "Usage: govchain receipt --node URL (--doc-hash HEX | --file PATH) --out FILE\n"
    "\n"
    "Asks the node for the document's receipt, a proof of its current state and of who\n"
    "issued it that `govchain verify` checks offline, and writes it to FILE (which must\n"
    "not exist). A document that was never issued gets a receipt proving its absence.\n"
    "The file is hashed here and not sent.\n";

static const char verify_usage[] =
    "Usage: govchain verify --genesis FILE --receipt FILE [--file PATH]\n"
    "                       [--max-age SECONDS]\n"
    "\n"
    "Checks a receipt with no network: the commit certificates against the genesis\n"
    "validators, the headers, the state proof, the issuing transaction's signature, role\n"
    "and Merkle path, and, with --file, that the file's hash is the document's. Prints\n"
    "the issuer, type, status, validity, endorsements and recognition, and the block\n"
    "(with its time and age) the receipt proves them as of: a later change, such as a\n"
    "revocation, is not in an older receipt. --max-age refuses a receipt whose block is\n"
    "older than that. Exit 0 when the receipt proves a valid document (issued, in force,\n"
    "not revoked, superseded or expired), 1 otherwise with the reason, 2 for bad usage.\n";

int gov_cmd_receipt(int argc, char **argv)
{
    static const char *const command = "receipt";
    static const struct option options[] = {
        {"node", required_argument, NULL, 'n'}, {"doc-hash", required_argument, NULL, 'D'},
        {"file", required_argument, NULL, 'f'}, {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    const char *node = NULL, *hex = NULL, *file = NULL, *out = NULL;
    optind = 0;
    int option;
    while ((option = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (option) {
        case 'n':
            node = optarg;
            break;
        case 'D':
            hex = optarg;
            break;
        case 'f':
            file = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'h':
            fputs(receipt_usage, stdout);
            return GOV_EXIT_OK;
        default:
            return gov_cli_option_error(command, argv, option);
        }
    }
    if (optind < argc) {
        return gov_cli_usage_error(command, "unexpected argument '%s'", argv[optind]);
    }
    if (node == NULL || out == NULL || (hex == NULL) == (file == NULL)) {
        return gov_cli_usage_error(command,
                                   "--node, --out and one of --doc-hash and --file are needed");
    }
    char url[1024], why[400];
    if (gov_client_url(node, url, sizeof(url), why, sizeof(why)) != 0) {
        return gov_cli_usage_error(command, "%s", why);
    }
    gov_hash doc, chain_id;
    gov_suite suite = GOV_SUITE_P256_SHA256;
    if (hex != NULL) {
        if (strlen(hex) != 2 * GOV_HASH_LEN || gov_hex_decode(hex, doc.bytes, GOV_HASH_LEN) != 0) {
            return gov_cli_usage_error(command, "--doc-hash must be 64 hex digits");
        }
    } else if (gov_client_chain(url, &chain_id, &suite, NULL, why, sizeof(why)) != 0 ||
               gov_client_file_hash(suite, file, &doc, why, sizeof(why)) != 0) {
        return gov_cli_failure(command, "%s", why);
    }
    char doc_hex[2 * GOV_HASH_LEN + 1], target[1200];
    gov_hex_encode(doc.bytes, GOV_HASH_LEN, doc_hex);
    snprintf(target, sizeof(target), "%s/v1/docs/%s/receipt", url, doc_hex);
    gov_http_response response;
    if (gov_http_fetch("GET", target, NULL, NULL, 0, GOV_CLIENT_TIMEOUT_MS, &response, why,
                       sizeof(why)) != 0) {
        return gov_cli_failure(command, "%s", why);
    }
    if (response.status != 200) {
        int code = gov_cli_failure(command, "the node answered %d: %.*s", response.status,
                                   (int)response.body.len, (const char *)response.body.data);
        gov_buf_free(&response.body);
        return code;
    }
    FILE *output = fopen(out, "wx");
    bool ok = output != NULL &&
              fwrite(response.body.data, 1, response.body.len, output) == response.body.len;
    ok = output != NULL && fclose(output) == 0 && ok;
    gov_buf_free(&response.body);
    if (!ok) {
        return gov_cli_failure(command, "cannot write %s (it must not exist yet)", out);
    }
    printf("receipt for %s saved to %s\n", doc_hex, out);
    return GOV_EXIT_OK;
}

static void format_utc(uint64_t ms, char text[32])
{
    time_t seconds = (time_t)(ms / 1000);
    struct tm utc;
    gmtime_r(&seconds, &utc);
    strftime(text, 32, "%Y-%m-%d %H:%M:%S UTC", &utc);
}

static void print_time(const char *label, uint64_t ms)
{
    char text[32] = "-";
    if (ms != 0) {
        format_utc(ms, text);
    }
    printf("%-13s %s\n", label, text);
}

/* "as of   block 12, 2026-11-29 09:57:54 UTC (3 min ago)" */
static void print_as_of(uint64_t height, uint64_t time_ms, uint64_t age_s)
{
    char text[32];
    format_utc(time_ms, text);
    static const struct {
        uint64_t seconds;
        const char *unit;
    } units[] = {{86400, "days"}, {3600, "h"}, {60, "min"}, {1, "s"}};
    size_t u = 0;
    while (u + 1 < sizeof(units) / sizeof(units[0]) && age_s < units[u].seconds) {
        u++;
    }
    printf("%-13s block %llu, %s (%llu %s ago)\n", "as of", (unsigned long long)height, text,
           (unsigned long long)(age_s / units[u].seconds), units[u].unit);
}

int gov_cmd_verify(int argc, char **argv)
{
    static const char *const command = "verify";
    static const struct option options[] = {
        {"genesis", required_argument, NULL, 'g'}, {"receipt", required_argument, NULL, 'r'},
        {"file", required_argument, NULL, 'f'},    {"max-age", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *genesis_path = NULL, *receipt_path = NULL, *file = NULL;
    uint64_t max_age_s = 0;
    bool has_max_age = false;
    char *end = NULL;
    optind = 0;
    int option;
    while ((option = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (option) {
        case 'g':
            genesis_path = optarg;
            break;
        case 'r':
            receipt_path = optarg;
            break;
        case 'f':
            file = optarg;
            break;
        case 'm':
            max_age_s = strtoull(optarg, &end, 10);
            if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' ||
                max_age_s > UINT64_MAX / 1000) {
                return gov_cli_usage_error(command, "--max-age is a whole number of seconds");
            }
            has_max_age = true;
            break;
        case 'h':
            fputs(verify_usage, stdout);
            return GOV_EXIT_OK;
        default:
            return gov_cli_option_error(command, argv, option);
        }
    }
    if (optind < argc) {
        return gov_cli_usage_error(command, "unexpected argument '%s'", argv[optind]);
    }
    if (genesis_path == NULL || receipt_path == NULL) {
        return gov_cli_usage_error(command, "--genesis and --receipt are required");
    }
    char why[400];
    gov_genesis *genesis = NULL;
    if (gov_genesis_load(genesis_path, &genesis, why, sizeof(why)) != 0) {
        return gov_cli_failure(command, "%s", why);
    }
    char *text = NULL;
    size_t len = 0;
    char inner[300];
    int exit_code = GOV_EXIT_FAILED;
    gov_receipt receipt;
    memset(&receipt, 0, sizeof(receipt));
    if (gov_file_read(receipt_path, RECEIPT_BYTES_MAX, &text, &len, why, sizeof(why)) != 0) {
        gov_cli_failure(command, "%s", why);
        goto out;
    }
    int rc = gov_receipt_from_json(genesis->suite, text, len, &receipt, inner, sizeof(inner));
    free(text);
    if (rc != 0) {
        gov_cli_failure(command, "%s is not a receipt: %s", receipt_path, inner);
        goto out;
    }
    gov_hash file_hash;
    if (file != NULL) {
        if (gov_client_file_hash(genesis->suite, file, &file_hash, why, sizeof(why)) != 0) {
            gov_cli_failure(command, "%s", why);
            goto out;
        }
        if (!gov_hash_equal(&file_hash, &receipt.doc_hash)) {
            gov_cli_failure(command, "%s is not the document of this receipt", file);
            goto out;
        }
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t now_ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
    gov_receipt_result result;
    rc = gov_receipt_verify(genesis, &receipt, now_ms, &result, inner, sizeof(inner));
    if (rc != 0) {
        gov_cli_failure(command, "the receipt does not verify: %s", inner);
        goto out;
    }
    char hex[2 * GOV_HASH_LEN + 1];
    gov_hex_encode(receipt.doc_hash.bytes, GOV_HASH_LEN, hex);
    printf("%-13s %s\n", "document", hex);
    printf("%-13s %s (%s), height %llu\n", "chain", genesis->chain_name,
           file != NULL ? "file hash matches" : "proof checked", (unsigned long long)result.height);
    uint64_t age_s = now_ms > result.time_ms ? (now_ms - result.time_ms) / 1000 : 0;
    print_as_of(result.height, result.time_ms, age_s);
    if (has_max_age && age_s > max_age_s) {
        gov_cli_failure(command,
                        "the receipt proves the state as of %llu s ago, more than --max-age %llu: "
                        "fetch a newer one",
                        (unsigned long long)age_s, (unsigned long long)max_age_s);
        goto out;
    }
    if (!result.found) {
        printf("%-13s never issued on this chain (as of block %llu)\n", "status",
               (unsigned long long)result.height);
        gov_cli_failure(command, "the document is unknown");
        goto out;
    }
    const gov_doc_state *s = &receipt.state;
    printf("%-13s %s\n", "issuer", s->issuer);
    printf("%-13s %s (%s)\n", "type", s->doc_type, gov_doc_class_name(s->doc_class));
    printf("%-13s %s%s%s\n", "status", gov_doc_status_name(s->status),
           result.expired ? ", expired" : "", result.not_yet_valid ? ", not yet in force" : "");
    print_time("valid from", s->valid_from_ms);
    print_time("valid until", s->valid_until_ms);
    printf("%-13s", "endorsed by");
    for (uint32_t i = 0; i < s->endorsements_count; i++) {
        printf(" %s", s->endorsements[i].department);
    }
    printf("%s\n", s->endorsements_count == 0 ? " -" : "");
    printf("%-13s %s\n", "recognised", result.recognised ? "yes" : "no");
    if (s->status == GOV_DOC_VALID && !result.expired && !result.not_yet_valid) {
        exit_code = GOV_EXIT_OK;
    } else {
        gov_cli_failure(command, "the document is %s",
                        s->status != GOV_DOC_VALID ? gov_doc_status_name(s->status)
                        : result.expired           ? "expired"
                                                   : "not yet in force");
    }
out:
    gov_receipt_clear(&receipt);
    gov_genesis_free(genesis);
    return exit_code;
}
