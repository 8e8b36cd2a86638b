/*
 * govchain submit issue|endorse|revoke: signs a transaction with a department's key and
 * submits it to a node. govchain status: a document's status as JSON.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "govchain/error.h"
#include "govchain/keyfile.h"
#include "node/cli.h"
#include "node/client.h"

static const char submit_usage[] =
    "Usage: govchain submit issue   --node URL --key FILE --department ID\n"
    "                               (--file PATH | --doc-hash HEX) --type DOC_TYPE\n"
    "                               --subject-ref HEX [--valid-from MS] [--valid-until MS]\n"
    "                               [--supersedes HEX] [--meta KEY=VALUE]... [--wait]\n"
    "       govchain submit endorse --node URL --key FILE --department ID\n"
    "                               (--file PATH | --doc-hash HEX) [--note TEXT] [--wait]\n"
    "       govchain submit revoke  --node URL --key FILE --department ID\n"
    "                               (--file PATH | --doc-hash HEX) [--reason TEXT] [--wait]\n"
    "\n"
    "Signs a transaction with the department's key and submits it to the node. The chain\n"
    "id, the suite and the document type's class come from the node's /v1/departments,\n"
    "or from a genesis file (--genesis), which also allows signing offline (--print).\n"
    "A document is named by its file (hashed here; the file is not sent) or by its hash.\n"
    "Prints the node's answer as JSON; exit 0 when the node accepted the transaction\n"
    "(with --wait: when it was committed), 1 otherwise.\n"
    "\n"
    "  --node URL          the node's API, e.g. http://127.0.0.1:8100\n"
    "  --key FILE          the department's signing key (PKCS#8 PEM, mode 0600)\n"
    "  --key-index N       which of the department's genesis keys it is (default 0)\n"
    "  --department ID     the sending department\n"
    "  --subject-ref HEX   issue: the salted hash of the holder's identifier (32 bytes)\n"
    "  --valid-from MS, --valid-until MS   issue: validity, ms since the epoch\n"
    "                      (defaults: now, and no expiry)\n"
    "  --wait              wait until the transaction is in a committed block\n"
    "  --genesis FILE      take the chain id, suite and classes from this genesis\n"
    "  --print             print the signed request body ({\"tx\": hex}) instead of\n"
    "                      submitting it (with --genesis, no node is needed)\n";

static const char status_usage[] =
    "Usage: govchain status --node URL (--file PATH | --doc-hash HEX) [--at-height H]\n"
    "\n"
    "Prints the node's view of a document as JSON: issuer, type, status, validity,\n"
    "endorsements, recognition and history. Exit 0 when the document is known, 1 when it\n"
    "is not (or the node could not be asked).\n";

typedef struct {
    const char *node, *key, *department, *file, *doc_hash, *type, *subject_ref, *supersedes;
    const char *text;
    const char *meta[GOV_METADATA_ENTRIES_MAX];
    uint32_t meta_count;
    uint64_t valid_from, valid_until, key_index;
    bool has_valid_from, wait, print;
    const char *genesis;
} submit_args;

static bool parse_u64_arg(const char *text, uint64_t *out)
{
    char *end = NULL;
    if (text[0] < '0' || text[0] > '9') {
        return false;
    }
    unsigned long long value = strtoull(text, &end, 10);
    *out = value;
    return *end == '\0';
}

static int parse_hash_arg(const char *command, const char *name, const char *hex, gov_hash *out)
{
    if (strlen(hex) != 2 * GOV_HASH_LEN || gov_hex_decode(hex, out->bytes, GOV_HASH_LEN) != 0) {
        return gov_cli_usage_error(command, "%s must be 64 hex digits", name);
    }
    return 0;
}

/* The document named by --file or --doc-hash. */
static int doc_hash_of(const char *command, const char *file, const char *hex, gov_suite suite,
                       gov_hash *out)
{
    if ((file == NULL) == (hex == NULL)) {
        return gov_cli_usage_error(command, "give exactly one of --file and --doc-hash");
    }
    if (hex != NULL) {
        return parse_hash_arg(command, "--doc-hash", hex, out);
    }
    char why[300];
    if (gov_client_file_hash(suite, file, out, why, sizeof(why)) != 0) {
        return gov_cli_failure(command, "%s", why);
    }
    return 0;
}

/* The class genesis gives a document type, from the node's /v1/departments answer. */
static int class_of(json_t *departments, const char *type, gov_doc_class *out)
{
    json_t *types = json_object_get(departments, "doc_types");
    for (size_t i = 0; i < json_array_size(types); i++) {
        json_t *t = json_array_get(types, i);
        const char *id = json_string_value(json_object_get(t, "id"));
        if (id != NULL && strcmp(id, type) == 0) {
            return gov_doc_class_parse(json_string_value(json_object_get(t, "class")), out);
        }
    }
    return GOV_ENOENT;
}

static void print_body(const gov_http_response *response)
{
    json_error_t error;
    json_t *body = json_loadb((const char *)response->body.data, response->body.len, 0, &error);
    if (body != NULL) {
        json_dumpf(body, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(body);
    } else {
        printf("%.*s\n", (int)response->body.len, (const char *)response->body.data);
    }
}

static int build_payload(const char *command, const submit_args *a, gov_tx *tx, json_t *departments,
                         gov_suite suite)
{
    gov_hash doc;
    int rc = doc_hash_of(command, a->file, a->doc_hash, suite, &doc);
    if (rc != 0) {
        return rc;
    }
    if (tx->kind != GOV_TX_ISSUE) {
        gov_doc_remark *remark =
            tx->kind == GOV_TX_ENDORSE ? &tx->payload.endorse : &tx->payload.revoke;
        remark->doc_hash = doc;
        if (a->text != NULL && strlen(a->text) > GOV_NOTE_LEN_MAX) {
            return gov_cli_usage_error(command, "the note or reason is longer than %d bytes",
                                       GOV_NOTE_LEN_MAX);
        }
        snprintf(remark->text, sizeof(remark->text), "%s", a->text != NULL ? a->text : "");
        return 0;
    }
    gov_issue *issue = &tx->payload.issue;
    issue->doc_hash = doc;
    if (a->type == NULL || a->subject_ref == NULL) {
        return gov_cli_usage_error(command, "issue needs --type and --subject-ref");
    }
    if (strlen(a->type) > GOV_ID_LEN_MAX) {
        return gov_cli_usage_error(command, "--type is longer than %d characters", GOV_ID_LEN_MAX);
    }
    snprintf(issue->doc_type, sizeof(issue->doc_type), "%s", a->type);
    if (class_of(departments, a->type, &issue->doc_class) != 0) {
        return gov_cli_failure(command, "genesis has no document type '%s'", a->type);
    }
    rc = parse_hash_arg(command, "--subject-ref", a->subject_ref, &issue->subject_ref);
    if (rc == 0 && a->supersedes != NULL) {
        issue->has_supersedes = true;
        rc = parse_hash_arg(command, "--supersedes", a->supersedes, &issue->supersedes);
    }
    if (rc != 0) {
        return rc;
    }
    issue->valid_from_ms = a->has_valid_from ? a->valid_from : tx->created_ms;
    issue->valid_until_ms = a->valid_until;
    if (a->meta_count > 0) {
        issue->metadata = calloc(a->meta_count, sizeof(*issue->metadata));
        if (issue->metadata == NULL) {
            return gov_cli_failure(command, "out of memory");
        }
    }
    for (uint32_t i = 0; i < a->meta_count; i++) {
        const char *equals = strchr(a->meta[i], '=');
        size_t key_len = equals == NULL ? 0 : (size_t)(equals - a->meta[i]);
        if (key_len == 0 || key_len > GOV_METADATA_KEY_LEN_MAX ||
            strlen(equals + 1) > GOV_METADATA_VALUE_LEN_MAX) {
            return gov_cli_usage_error(command, "--meta must be KEY=VALUE within the size limits");
        }
        /* Keys must be strictly ascending: insert in order. */
        gov_metadata_entry entry;
        memcpy(entry.key, a->meta[i], key_len);
        entry.key[key_len] = '\0';
        snprintf(entry.value, sizeof(entry.value), "%s", equals + 1);
        uint32_t at = issue->metadata_count;
        while (at > 0 && strcmp(issue->metadata[at - 1].key, entry.key) > 0) {
            issue->metadata[at] = issue->metadata[at - 1];
            at--;
        }
        if (at > 0 && strcmp(issue->metadata[at - 1].key, entry.key) == 0) {
            return gov_cli_usage_error(command, "--meta key '%s' is given twice", entry.key);
        }
        issue->metadata[at] = entry;
        issue->metadata_count++;
    }
    return 0;
}

int gov_cmd_submit(int argc, char **argv)
{
    static const char *const command = "submit";
    static const struct option options[] = {
        {"node", required_argument, NULL, 'n'},
        {"key", required_argument, NULL, 'k'},
        {"key-index", required_argument, NULL, 'K'},
        {"department", required_argument, NULL, 'd'},
        {"file", required_argument, NULL, 'f'},
        {"doc-hash", required_argument, NULL, 'D'},
        {"type", required_argument, NULL, 't'},
        {"subject-ref", required_argument, NULL, 's'},
        {"valid-from", required_argument, NULL, 'F'},
        {"valid-until", required_argument, NULL, 'U'},
        {"supersedes", required_argument, NULL, 'S'},
        {"meta", required_argument, NULL, 'm'},
        {"note", required_argument, NULL, 'N'},
        {"reason", required_argument, NULL, 'R'},
        {"wait", no_argument, NULL, 'w'},
        {"genesis", required_argument, NULL, 'g'},
        {"print", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
        fputs(submit_usage, stdout);
        return GOV_EXIT_OK;
    }
    if (argc < 2) {
        return gov_cli_usage_error(command, "say what to submit: issue, endorse or revoke");
    }
    gov_tx tx;
    memset(&tx, 0, sizeof(tx));
    if (gov_tx_kind_parse(argv[1], &tx.kind) != 0) {
        return gov_cli_usage_error(command, "'%s' is not issue, endorse or revoke", argv[1]);
    }
    submit_args a;
    memset(&a, 0, sizeof(a));
    optind = 0;
    int option;
    argv[1] = argv[0]; /* getopt sees "submit <options>" */
    while ((option = getopt_long(argc - 1, argv + 1, ":", options, NULL)) != -1) {
        switch (option) {
        case 'n':
            a.node = optarg;
            break;
        case 'k':
            a.key = optarg;
            break;
        case 'K':
            if (!parse_u64_arg(optarg, &a.key_index) || a.key_index >= GOV_DEPARTMENT_KEYS_MAX) {
                return gov_cli_usage_error(command, "--key-index must be 0 to %d",
                                           GOV_DEPARTMENT_KEYS_MAX - 1);
            }
            break;
        case 'd':
            a.department = optarg;
            break;
        case 'f':
            a.file = optarg;
            break;
        case 'D':
            a.doc_hash = optarg;
            break;
        case 't':
            a.type = optarg;
            break;
        case 's':
            a.subject_ref = optarg;
            break;
        case 'F':
            a.has_valid_from = true;
            if (!parse_u64_arg(optarg, &a.valid_from)) {
                return gov_cli_usage_error(command, "--valid-from must be milliseconds");
            }
            break;
        case 'U':
            if (!parse_u64_arg(optarg, &a.valid_until)) {
                return gov_cli_usage_error(command, "--valid-until must be milliseconds");
            }
            break;
        case 'S':
            a.supersedes = optarg;
            break;
        case 'm':
            if (a.meta_count == GOV_METADATA_ENTRIES_MAX) {
                return gov_cli_usage_error(command, "at most %d --meta entries",
                                           GOV_METADATA_ENTRIES_MAX);
            }
            a.meta[a.meta_count++] = optarg;
            break;
        case 'N':
        case 'R':
            a.text = optarg;
            break;
        case 'w':
            a.wait = true;
            break;
        case 'g':
            a.genesis = optarg;
            break;
        case 'p':
            a.print = true;
            break;
        case 'h':
            fputs(submit_usage, stdout);
            return GOV_EXIT_OK;
        default:
            return gov_cli_option_error(command, argv + 1, option);
        }
    }
    if (optind < argc - 1) {
        return gov_cli_usage_error(command, "unexpected argument '%s'", argv[optind + 1]);
    }
    if ((a.node == NULL && !(a.print && a.genesis != NULL)) || a.key == NULL ||
        a.department == NULL) {
        return gov_cli_usage_error(command,
                                   "--node (or --genesis with --print), --key and --department "
                                   "are required");
    }
    if (strlen(a.department) > GOV_ID_LEN_MAX) {
        return gov_cli_usage_error(command, "--department is longer than %d characters",
                                   GOV_ID_LEN_MAX);
    }
    char url[1024] = "", why[400];
    if (a.node != NULL && gov_client_url(a.node, url, sizeof(url), why, sizeof(why)) != 0) {
        return gov_cli_usage_error(command, "%s", why);
    }
    gov_suite suite;
    json_t *departments = NULL;
    int chain_rc =
        a.genesis != NULL
            ? gov_client_chain_from_genesis(a.genesis, &tx.chain_id, &suite, &departments, why,
                                            sizeof(why))
            : gov_client_chain(url, &tx.chain_id, &suite, &departments, why, sizeof(why));
    if (chain_rc != 0) {
        return gov_cli_failure(command, "%s", why);
    }
    gov_private_key *key = NULL;
    if (gov_keyfile_read(suite, a.key, &key, why, sizeof(why)) != 0) {
        json_decref(departments);
        return gov_cli_failure(command, "%s", why);
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    tx.version = GOV_TX_VERSION;
    tx.key_index = (uint32_t)a.key_index;
    tx.created_ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
    snprintf(tx.department, sizeof(tx.department), "%s", a.department);
    int rc = RAND_bytes((uint8_t *)&tx.nonce, sizeof(tx.nonce)) == 1 ? 0 : GOV_ECRYPTO;
    int exit_code = rc == 0 ? build_payload(command, &a, &tx, departments, suite) : GOV_EXIT_FAILED;
    json_decref(departments);
    if (exit_code == 0 && gov_tx_sign(&tx, key) != 0) {
        exit_code = gov_cli_failure(command, "signing failed (is the key of this chain's suite?)");
    }
    gov_private_key_free(key);
    if (exit_code != 0) {
        gov_tx_clear(&tx);
        return exit_code;
    }
    if (a.print) {
        char *body = gov_client_tx_body(&tx);
        gov_tx_clear(&tx);
        if (body == NULL) {
            return gov_cli_failure(command, "out of memory");
        }
        printf("%s\n", body);
        free(body);
        return GOV_EXIT_OK;
    }
    gov_http_response response;
    rc = gov_client_submit(url, &tx, a.wait, &response, why, sizeof(why));
    gov_tx_clear(&tx);
    if (rc != 0) {
        return gov_cli_failure(command, "%s", why);
    }
    print_body(&response);
    bool ok = a.wait ? response.status == 200 : response.status == 202;
    gov_buf_free(&response.body);
    return ok ? GOV_EXIT_OK : GOV_EXIT_FAILED;
}

int gov_cmd_status(int argc, char **argv)
{
    static const char *const command = "status";
    static const struct option options[] = {
        {"node", required_argument, NULL, 'n'},     {"file", required_argument, NULL, 'f'},
        {"doc-hash", required_argument, NULL, 'D'}, {"at-height", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    const char *node = NULL, *file = NULL, *hex = NULL;
    uint64_t at_height = 0;
    bool at = false;
    optind = 0;
    int option;
    while ((option = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (option) {
        case 'n':
            node = optarg;
            break;
        case 'f':
            file = optarg;
            break;
        case 'D':
            hex = optarg;
            break;
        case 'a':
            at = true;
            if (!parse_u64_arg(optarg, &at_height)) {
                return gov_cli_usage_error(command, "--at-height must be a whole number");
            }
            break;
        case 'h':
            fputs(status_usage, stdout);
            return GOV_EXIT_OK;
        default:
            return gov_cli_option_error(command, argv, option);
        }
    }
    if (optind < argc) {
        return gov_cli_usage_error(command, "unexpected argument '%s'", argv[optind]);
    }
    if (node == NULL) {
        return gov_cli_usage_error(command, "--node is required");
    }
    char url[1024], why[400];
    if (gov_client_url(node, url, sizeof(url), why, sizeof(why)) != 0) {
        return gov_cli_usage_error(command, "%s", why);
    }
    gov_hash chain_id, doc;
    gov_suite suite = GOV_SUITE_P256_SHA256;
    if (file != NULL && gov_client_chain(url, &chain_id, &suite, NULL, why, sizeof(why)) != 0) {
        return gov_cli_failure(command, "%s", why);
    }
    int rc = doc_hash_of(command, file, hex, suite, &doc);
    if (rc != 0) {
        return rc;
    }
    char hash_hex[2 * GOV_HASH_LEN + 1], target[1200];
    gov_hex_encode(doc.bytes, GOV_HASH_LEN, hash_hex);
    if (at) {
        snprintf(target, sizeof(target), "%s/v1/docs/%s?at_height=%llu", url, hash_hex,
                 (unsigned long long)at_height);
    } else {
        snprintf(target, sizeof(target), "%s/v1/docs/%s", url, hash_hex);
    }
    gov_http_response response;
    if (gov_http_fetch("GET", target, NULL, NULL, 0, GOV_CLIENT_TIMEOUT_MS, &response, why,
                       sizeof(why)) != 0) {
        return gov_cli_failure(command, "%s", why);
    }
    print_body(&response);
    bool ok = response.status == 200;
    gov_buf_free(&response.body);
    return ok ? GOV_EXIT_OK : GOV_EXIT_FAILED;
}
