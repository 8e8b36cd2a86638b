/*
 * The regulators' commands (docs/audit.md):
 *   govchain checkpoint --node URL --out FILE
 *   govchain checkpoint verify --node URL --genesis FILE --checkpoint FILE
 *   govchain audit --node URL --department ID [--from H] [--to H]
 *                  [--from-time MS] [--to-time MS] [--format jsonl|csv]
 *   govchain evidence --node URL --genesis FILE
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "govchain/checkpoint.h"
#include "govchain/error.h"
#include "govchain/genesis.h"
#include "govchain/ledger.h"
#include "govchain/messages.h"
#include "node/cli.h"
#include "node/client.h"
#include "node/file.h"

#define CHECKPOINT_FORMAT "govchain-checkpoint/1"

enum { CHECKPOINT_BYTES_MAX = 64 * 1024 };

static const char checkpoint_usage[] =
    "Usage: govchain checkpoint --node URL --out FILE\n"
    "       govchain checkpoint verify --node URL --genesis FILE --checkpoint FILE\n"
    "\n"
    "The first form saves the node's newest block header with its commit certificate as\n"
    "a checkpoint (FILE must not exist). The second proves, with a consistency proof from\n"
    "the node's history tree and without downloading the blocks in between, that the\n"
    "node's chain today extends the checkpoint: that history was not rewritten. Exit 0\n"
    "when it does, 1 when it does not (with the first thing that failed), 2 for bad\n"
    "usage.\n";

static const char audit_usage[] =
    "Usage: govchain audit --node URL --department ID [--from H] [--to H]\n"
    "                      [--from-time MS] [--to-time MS] [--format jsonl|csv]\n"
    "\n"
    "Lists everything one department did (its transactions, in chain order) in a range\n"
    "of heights or of block times (milliseconds since the epoch), one line each, as JSON\n"
    "Lines (default) or CSV: height, index, block time, kind, document, transaction id.\n";

static const char evidence_usage[] =
    "Usage: govchain evidence --node URL --genesis FILE\n"
    "\n"
    "Fetches the proofs of equivocation the node's replica kept (two signatures of one\n"
    "validator over different blocks for the same step of consensus) and checks each one\n"
    "against the genesis validator keys alone, so a regulator need not trust the node\n"
    "that serves them. Prints one line per proof. Exit 0 when every proof holds (also\n"
    "when there are none), 1 when one does not or the node cannot be asked, 2 for bad\n"
    "usage.\n";

/* GET url into JSON; *status the HTTP status. */
static json_t *fetch_json(const char *url, int *status, char *why, size_t why_len)
{
    gov_http_response response;
    if (gov_http_fetch("GET", url, NULL, NULL, 0, GOV_CLIENT_TIMEOUT_MS, &response, why, why_len) !=
        0) {
        return NULL;
    }
    *status = response.status;
    json_error_t error;
    json_t *body = json_loadb((const char *)response.body.data, response.body.len, 0, &error);
    gov_buf_free(&response.body);
    if (body == NULL) {
        (void)gov_fail(why, why_len, GOV_EIO, "%s answered %d with something that is not JSON", url,
                       response.status);
    }
    return body;
}

static bool hex_decode_into(const char *hex, gov_buf *out)
{
    size_t len = hex == NULL ? 0 : strlen(hex);
    if (len == 0 || len % 2 != 0) {
        return false;
    }
    uint8_t *bytes = malloc(len / 2);
    bool ok = bytes != NULL && gov_hex_decode(hex, bytes, len / 2) == 0;
    gov_buf_reset(out);
    if (ok) {
        gov_buf_append(out, bytes, len / 2);
    }
    free(bytes);
    return ok && gov_buf_ok(out);
}

/* A {"header", "commit_cert"} member into a certified header. */
static bool certified_from_json(json_t *object, gov_certified_header *out)
{
    gov_buf bytes;
    gov_buf_init(&bytes);
    char why[160];
    bool ok = hex_decode_into(json_string_value(json_object_get(object, "header")), &bytes) &&
              gov_block_header_decode(bytes.data, bytes.len, &out->header, why, sizeof(why)) == 0 &&
              hex_decode_into(json_string_value(json_object_get(object, "commit_cert")), &bytes) &&
              gov_commit_cert_decode(bytes.data, bytes.len, &out->cert, why, sizeof(why)) == 0;
    gov_buf_free(&bytes);
    return ok;
}

static bool hashes_from_json(json_t *list, gov_hash *out, uint32_t *count)
{
    if (!json_is_array(list) || json_array_size(list) > GOV_MERKLE_PROOF_MAX) {
        return false;
    }
    *count = (uint32_t)json_array_size(list);
    for (uint32_t i = 0; i < *count; i++) {
        const char *hex = json_string_value(json_array_get(list, i));
        if (hex == NULL || strlen(hex) != 2 * GOV_HASH_LEN ||
            gov_hex_decode(hex, out[i].bytes, GOV_HASH_LEN) != 0) {
            return false;
        }
    }
    return true;
}

static uint64_t head_height(const char *url, char *why, size_t why_len, bool *ok)
{
    char target[1200];
    snprintf(target, sizeof(target), "%s/v1/status", url);
    int status = 0;
    json_t *body = fetch_json(target, &status, why, why_len);
    json_t *height = json_object_get(body, "height");
    *ok = status == 200 && json_is_integer(height);
    uint64_t value = *ok ? (uint64_t)json_integer_value(height) : 0;
    if (!*ok && body != NULL) {
        (void)gov_fail(why, why_len, GOV_EIO, "%s did not report its height", target);
    }
    json_decref(body);
    return value;
}

/* The proof between heights from and to, from the node. */
static int fetch_proof(const char *url, uint64_t from, uint64_t to, gov_history_proof *out,
                       char *why, size_t why_len)
{
    char target[1200];
    snprintf(target, sizeof(target), "%s/v1/proofs/consistency?from=%" PRIu64 "&to=%" PRIu64, url,
             from, to);
    int status = 0;
    json_t *body = fetch_json(target, &status, why, why_len);
    if (body == NULL) {
        return GOV_EIO;
    }
    memset(out, 0, sizeof(*out));
    bool ok =
        status == 200 && certified_from_json(json_object_get(body, "from"), &out->from) &&
        certified_from_json(json_object_get(body, "to"), &out->to) &&
        hashes_from_json(json_object_get(body, "consistency"), out->consistency,
                         &out->consistency_len) &&
        hashes_from_json(json_object_get(body, "inclusion"), out->inclusion, &out->inclusion_len);
    if (!ok) {
        const char *message =
            json_string_value(json_object_get(json_object_get(body, "error"), "message"));
        (void)gov_fail(why, why_len, GOV_EIO, "%s: %s", target,
                       message != NULL ? message : "not a history proof");
    }
    json_decref(body);
    return ok ? 0 : GOV_EIO;
}

static int checkpoint_save(const char *url, const char *out_path)
{
    static const char *const command = "checkpoint";
    char why[400];
    bool ok = false;
    uint64_t head = head_height(url, why, sizeof(why), &ok);
    if (!ok) {
        return gov_cli_failure(command, "%s", why);
    }
    if (head == 0) {
        return gov_cli_failure(command, "the chain has no block yet");
    }
    char target[1200];
    snprintf(target, sizeof(target), "%s/v1/proofs/consistency?from=%" PRIu64 "&to=%" PRIu64, url,
             head, head);
    int status = 0;
    json_t *body = fetch_json(target, &status, why, sizeof(why));
    json_t *from = json_object_get(body, "from");
    gov_certified_header checkpoint;
    if (status != 200 || !certified_from_json(from, &checkpoint)) {
        json_decref(body);
        return gov_cli_failure(command, "%s", body == NULL ? why : "the node gave no header");
    }
    json_t *file =
        json_pack("{s:s, s:I, s:O, s:O}", "format", CHECKPOINT_FORMAT, "height",
                  (json_int_t)checkpoint.header.height, "header", json_object_get(from, "header"),
                  "commit_cert", json_object_get(from, "commit_cert"));
    json_decref(body);
    char *text = file == NULL ? NULL : json_dumps(file, JSON_INDENT(2));
    json_decref(file);
    FILE *output = text == NULL ? NULL : fopen(out_path, "wx");
    ok = output != NULL && fputs(text, output) >= 0 && fputc('\n', output) != EOF;
    ok = output != NULL && fclose(output) == 0 && ok;
    free(text);
    if (!ok) {
        return gov_cli_failure(command, "cannot write %s (it must not exist yet)", out_path);
    }
    printf("checkpoint at height %" PRIu64 " saved to %s\n", checkpoint.header.height, out_path);
    return GOV_EXIT_OK;
}

static int read_genesis(const char *command, const char *path, gov_genesis **out)
{
    char why[400];
    return gov_genesis_load(path, out, why, sizeof(why)) == 0 ? 0
                                                              : gov_cli_failure(command, "%s", why);
}

static int checkpoint_verify(const char *url, const char *genesis_path, const char *path)
{
    static const char *const command = "checkpoint verify";
    gov_genesis *genesis = NULL;
    int code = read_genesis(command, genesis_path, &genesis);
    if (code != 0) {
        return code;
    }
    char *text = NULL;
    size_t len = 0;
    char why[400];
    gov_certified_header checkpoint;
    json_error_t error;
    json_t *file = NULL;
    if (gov_file_read(path, CHECKPOINT_BYTES_MAX, &text, &len, why, sizeof(why)) != 0) {
        code = gov_cli_failure(command, "%s", why);
    } else if ((file = json_loadb(text, len, 0, &error)) == NULL ||
               strcmp(json_string_value(json_object_get(file, "format")) != NULL
                          ? json_string_value(json_object_get(file, "format"))
                          : "",
                      CHECKPOINT_FORMAT) != 0 ||
               !certified_from_json(file, &checkpoint)) {
        code = gov_cli_failure(command, "%s is not a govchain checkpoint", path);
    }
    free(text);
    json_decref(file);
    gov_history_proof *proof = malloc(sizeof(*proof));
    bool ok = false;
    uint64_t head = 0;
    if (code == 0 && proof != NULL) {
        head = head_height(url, why, sizeof(why), &ok);
        if (!ok) {
            code = gov_cli_failure(command, "%s", why);
        } else if (head < checkpoint.header.height) {
            code = gov_cli_failure(command,
                                   "the node's chain (height %" PRIu64
                                   ") is shorter than the checkpoint (height %" PRIu64 ")",
                                   head, checkpoint.header.height);
        } else if (fetch_proof(url, checkpoint.header.height, head, proof, why, sizeof(why)) != 0) {
            code = gov_cli_failure(command, "%s", why);
        } else if (gov_checkpoint_verify(genesis, &checkpoint, proof, why, sizeof(why)) != 0) {
            code = gov_cli_failure(command, "%s", why);
        } else {
            printf("the chain at height %" PRIu64 " extends the checkpoint at height %" PRIu64
                   ": history up to it is unchanged (%u + %u proof hashes, no blocks "
                   "downloaded)\n",
                   head, checkpoint.header.height, proof->consistency_len, proof->inclusion_len);
        }
    } else if (code == 0) {
        code = gov_cli_failure(command, "out of memory");
    }
    free(proof);
    gov_genesis_free(genesis);
    return code;
}

int gov_cmd_checkpoint(int argc, char **argv)
{
    static const struct option options[] = {
        {"node", required_argument, NULL, 'n'},    {"out", required_argument, NULL, 'o'},
        {"genesis", required_argument, NULL, 'g'}, {"checkpoint", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    bool verify = argc >= 2 && strcmp(argv[1], "verify") == 0;
    const char *command = verify ? "checkpoint verify" : "checkpoint";
    if (verify) {
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    const char *node = NULL, *out = NULL, *genesis = NULL, *checkpoint = NULL;
    optind = 0;
    int option;
    while ((option = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (option) {
        case 'n':
            node = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'g':
            genesis = optarg;
            break;
        case 'c':
            checkpoint = optarg;
            break;
        case 'h':
            fputs(checkpoint_usage, stdout);
            return GOV_EXIT_OK;
        default:
            return gov_cli_option_error("checkpoint", argv, option);
        }
    }
    if (optind < argc) {
        return gov_cli_usage_error("checkpoint", "unexpected argument '%s'", argv[optind]);
    }
    char url[1024], why[300];
    if (node == NULL || gov_client_url(node, url, sizeof(url), why, sizeof(why)) != 0) {
        return gov_cli_usage_error("checkpoint", "--node URL (http://host:port) is required");
    }
    if (verify) {
        if (genesis == NULL || checkpoint == NULL || out != NULL) {
            return gov_cli_usage_error("checkpoint",
                                       "verify takes --node, --genesis and --checkpoint");
        }
        return checkpoint_verify(url, genesis, checkpoint);
    }
    if (out == NULL || genesis != NULL || checkpoint != NULL) {
        return gov_cli_usage_error("checkpoint", "%s takes --node and --out", command);
    }
    return checkpoint_save(url, out);
}

static const char *text_or_dash(json_t *value)
{
    const char *text = json_string_value(value);
    return text != NULL ? text : "-";
}

/* CSV needs quotes only around fields with commas or quotes; ids and hex have neither. */
static void print_tx(json_t *item, bool csv)
{
    json_t *tx = json_object_get(item, "tx");
    json_t *payload = json_object_get(tx, "payload");
    if (!csv) {
        char *line = json_dumps(item, JSON_COMPACT);
        if (line != NULL) {
            puts(line);
        }
        free(line);
        return;
    }
    printf("%" JSON_INTEGER_FORMAT ",%" JSON_INTEGER_FORMAT ",%" JSON_INTEGER_FORMAT ",%s,%s,%s\n",
           json_integer_value(json_object_get(item, "height")),
           json_integer_value(json_object_get(item, "index")),
           json_integer_value(json_object_get(item, "block_time_ms")),
           text_or_dash(json_object_get(tx, "kind")),
           text_or_dash(json_object_get(payload, "doc_hash")),
           text_or_dash(json_object_get(tx, "tx_id")));
}

int gov_cmd_audit(int argc, char **argv)
{
    static const char *const command = "audit";
    static const struct option options[] = {
        {"node", required_argument, NULL, 'n'},
        {"department", required_argument, NULL, 'd'},
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"from-time", required_argument, NULL, 'F'},
        {"to-time", required_argument, NULL, 'T'},
        {"format", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *node = NULL, *department = NULL, *format = "jsonl";
    uint64_t from = 1, to = 0, from_time = 0, to_time = 0;
    bool has_from_time = false, has_to_time = false;
    optind = 0;
    int option;
    char *end = NULL;
    while ((option = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        uint64_t *target = option == 'f'   ? &from
                           : option == 't' ? &to
                           : option == 'F' ? &from_time
                           : option == 'T' ? &to_time
                                           : NULL;
        if (target != NULL) {
            *target = strtoull(optarg, &end, 10);
            if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0') {
                return gov_cli_usage_error(command, "heights and times are whole numbers");
            }
            has_from_time |= option == 'F';
            has_to_time |= option == 'T';
            continue;
        }
        switch (option) {
        case 'n':
            node = optarg;
            break;
        case 'd':
            department = optarg;
            break;
        case 'o':
            format = optarg;
            break;
        case 'h':
            fputs(audit_usage, stdout);
            return GOV_EXIT_OK;
        default:
            return gov_cli_option_error(command, argv, option);
        }
    }
    if (optind < argc) {
        return gov_cli_usage_error(command, "unexpected argument '%s'", argv[optind]);
    }
    bool csv = strcmp(format, "csv") == 0;
    if (!csv && strcmp(format, "jsonl") != 0) {
        return gov_cli_usage_error(command, "--format is jsonl or csv");
    }
    char url[1024], why[400];
    if (node == NULL || department == NULL ||
        gov_client_url(node, url, sizeof(url), why, sizeof(why)) != 0) {
        return gov_cli_usage_error(command, "--node URL and --department ID are required");
    }
    if (csv) {
        printf("height,index,block_time_ms,kind,doc_hash,tx_id\n");
    }
    char after[64] = "";
    for (;;) {
        char target[1400];
        int len =
            snprintf(target, sizeof(target), "%s/v1/departments/%s/txs?from=%" PRIu64 "&limit=500",
                     url, department, from);
        if (to != 0) {
            len += snprintf(target + len, sizeof(target) - (size_t)len, "&to=%" PRIu64, to);
        }
        if (after[0] != '\0') {
            snprintf(target + len, sizeof(target) - (size_t)len, "&after=%s", after);
        }
        int status = 0;
        json_t *body = fetch_json(target, &status, why, sizeof(why));
        if (body == NULL || status != 200) {
            const char *message =
                json_string_value(json_object_get(json_object_get(body, "error"), "message"));
            int code = gov_cli_failure(command, "%s", message != NULL ? message : why);
            json_decref(body);
            return code;
        }
        json_t *txs = json_object_get(body, "txs");
        for (size_t i = 0; i < json_array_size(txs); i++) {
            json_t *item = json_array_get(txs, i);
            uint64_t time = (uint64_t)json_integer_value(json_object_get(item, "block_time_ms"));
            if ((has_from_time && time < from_time) || (has_to_time && time > to_time)) {
                continue;
            }
            print_tx(item, csv);
        }
        const char *next = json_string_value(json_object_get(body, "next_after"));
        bool more = json_is_true(json_object_get(body, "more")) && next != NULL;
        if (more) {
            snprintf(after, sizeof(after), "%s", next);
        }
        json_decref(body);
        if (!more) {
            break;
        }
    }
    return fflush(stdout) == 0 ? GOV_EXIT_OK : GOV_EXIT_FAILED;
}

/* Checks one served proof: its canonical record, decoded and verified; the readable
 * fields beside it are not trusted. */
static bool evidence_check(const gov_genesis *genesis, const gov_validator_set *set, json_t *item,
                           size_t index)
{
    gov_buf record;
    gov_buf_init(&record);
    gov_equivocation e;
    char why[200] = "the record is not hex";
    bool ok = hex_decode_into(json_string_value(json_object_get(item, "record")), &record) &&
              gov_equivocation_decode(record.data, record.len, &e, why, sizeof(why)) == 0 &&
              gov_equivocation_verify(&e, set, why, sizeof(why)) == 0;
    gov_buf_free(&record);
    if (!ok) {
        printf("proof %zu: does NOT hold: %s\n", index + 1, why);
        return false;
    }
    printf("proof %zu: holds: validator %u (department %s) signed two %s digests at view %" PRIu64
           ", height %" PRIu64 "\n",
           index + 1, e.validator,
           genesis->departments[genesis->validators[e.validator].department].id,
           gov_pbft_type_name(e.type), e.view, e.height);
    return true;
}

int gov_cmd_evidence(int argc, char **argv)
{
    static const char *const command = "evidence";
    static const struct option options[] = {
        {"node", required_argument, NULL, 'n'},
        {"genesis", required_argument, NULL, 'g'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *node = NULL, *genesis_path = NULL;
    optind = 0;
    int option;
    while ((option = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (option) {
        case 'n':
            node = optarg;
            break;
        case 'g':
            genesis_path = optarg;
            break;
        case 'h':
            fputs(evidence_usage, stdout);
            return GOV_EXIT_OK;
        default:
            return gov_cli_option_error(command, argv, option);
        }
    }
    if (optind < argc) {
        return gov_cli_usage_error(command, "unexpected argument '%s'", argv[optind]);
    }
    char url[1024], why[400];
    if (node == NULL || genesis_path == NULL ||
        gov_client_url(node, url, sizeof(url), why, sizeof(why)) != 0) {
        return gov_cli_usage_error(command, "--node URL and --genesis FILE are required");
    }
    gov_genesis *genesis = NULL;
    int code = read_genesis(command, genesis_path, &genesis);
    if (code != 0) {
        return code;
    }
    char target[1200];
    snprintf(target, sizeof(target), "%s/v1/evidence", url);
    int status = 0;
    json_t *body = fetch_json(target, &status, why, sizeof(why));
    json_t *list = json_object_get(body, "evidence");
    if (status != 200 || !json_is_array(list)) {
        const char *message =
            json_string_value(json_object_get(json_object_get(body, "error"), "message"));
        code = gov_cli_failure(command, "%s",
                               message != NULL ? message
                               : body == NULL  ? why
                                               : "the node gave no evidence list");
    } else {
        gov_public_key *keys[GOV_VALIDATORS_MAX];
        gov_validator_set set;
        gov_genesis_validator_set(genesis, keys, &set);
        size_t held = 0, count = json_array_size(list);
        for (size_t i = 0; i < count; i++) {
            held += evidence_check(genesis, &set, json_array_get(list, i), i);
        }
        printf("%zu proof%s of equivocation from %s, %zu holding against the genesis keys\n", count,
               count == 1 ? "" : "s", url, held);
        code = held == count ? GOV_EXIT_OK : GOV_EXIT_FAILED;
    }
    json_decref(body);
    gov_genesis_free(genesis);
    return code;
}
