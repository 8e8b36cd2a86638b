/*
 * govchain localnet: a demonstration network of N departments on this machine, in one
 * command. It creates the network in DIR if DIR has none (genesis, node keys,
 * department signing keys, one home per node with its config.ini on consecutive
 * loopback ports), starts every node as a child process, issues and endorses sample
 * records on a new network, prints the API addresses and a curl line to try, and stops
 * the nodes on Ctrl-C (SIGINT) or SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "govchain/error.h"
#include "govchain/keyfile.h"
#include "govchain/network.h"
#include "node/cli.h"
#include "node/client.h"
#include "node/config.h"
#include "node/file.h"

#define COMMAND "localnet"

enum { NODES_MAX = 16, PATH_LEN = 1024 };

static const char usage[] =
    "Usage: govchain localnet [--dir DIR] [--nodes N] [--suite S] [--base-port P]\n"
    "\n"
    "Runs a network of N departments' nodes on this machine. When DIR holds no network\n"
    "yet, creates one: DIR/genesis.json, DIR/keys/<department>.pem (each department's\n"
    "signing key), and DIR/node<i>/ (node key, config.ini, data, node.log) for each\n"
    "validator. Then starts the nodes, issues and endorses sample records on a new\n"
    "network, prints each node's API address and a curl line, and keeps the nodes\n"
    "running until Ctrl-C, which stops them all.\n"
    "\n"
    "  --dir DIR        the network's folder (default: ./localnet)\n"
    "  --nodes N        validators, 4 to 16, for a new network (default: 4)\n"
    "  --suite S        p256-sha256 (default) or sm2-sm3, for a new network\n"
    "  --base-port P    node i listens on P+i for peers and P+1000+i for its API\n"
    "                   (default: 7100)\n"
    "  --init           create the network's files and exit without starting it\n"
    "                   (then run each node with `govchain node --home DIR/node<i>`)\n"
    "  --help           this text\n";

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int signum)
{
    (void)signum;
    stop_requested = 1;
}

static int write_text(const char *path, const char *text, mode_t mode, char *why, size_t why_len)
{
    FILE *file = fopen(path, "wx");
    if (file == NULL) {
        return gov_fail(why, why_len, GOV_EIO, "%s: %s", path, strerror(errno));
    }
    chmod(path, mode);
    bool ok = fputs(text, file) >= 0;
    ok = fclose(file) == 0 && ok;
    return ok ? 0 : gov_fail(why, why_len, GOV_EIO, "%s: write failed", path);
}

static int make_dir(const char *path, char *why, size_t why_len)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        return gov_fail(why, why_len, GOV_EIO, "%s: %s", path, strerror(errno));
    }
    return 0;
}

/* Creates the network's files in dir. */
static int create_network(const char *dir, uint32_t nodes, gov_suite suite, unsigned base_port,
                          char *why, size_t why_len)
{
    gov_network *network = NULL;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t now_ms = (uint64_t)now.tv_sec * 1000 - 60000; /* a minute ago */
    int rc = make_dir(dir, why, why_len);
    if (rc == 0) {
        rc = gov_network_create(suite, nodes, now_ms, "localnet", &network, why, why_len);
    }
    char path[PATH_LEN];
    if (rc == 0) {
        snprintf(path, sizeof(path), "%s/keys", dir);
        rc = make_dir(path, why, why_len);
    }
    for (uint32_t d = 0; rc == 0 && d < network->departments_count; d++) {
        snprintf(path, sizeof(path), "%s/keys/%s.pem", dir, network->genesis->departments[d].id);
        rc = gov_keyfile_write(network->department_keys[d], path, why, why_len);
    }
    for (uint32_t i = 0; rc == 0 && i < nodes; i++) {
        snprintf(path, sizeof(path), "%s/node%u", dir, i);
        rc = make_dir(path, why, why_len);
        if (rc == 0) {
            snprintf(path, sizeof(path), "%s/node%u/node.pem", dir, i);
            rc = gov_keyfile_write(network->validator_keys[i], path, why, why_len);
        }
        if (rc != 0) {
            break;
        }
        char config[4096];
        int len =
            snprintf(config, sizeof(config),
                     "; %s's node in a govchain localnet\n"
                     "[node]\nrole = validator\nvalidator = %u\ngenesis = ../genesis.json\n"
                     "key_file = node.pem\ndata_dir = data\n\n"
                     "[network]\nlisten = 127.0.0.1:%u\n",
                     network->genesis->departments[network->genesis->validators[i].department].id,
                     i, base_port + i);
        for (uint32_t j = 0; j < nodes; j++) {
            if (j != i) {
                len += snprintf(config + len, sizeof(config) - (size_t)len,
                                "peer.%u = 127.0.0.1:%u\n", j, base_port + j);
            }
        }
        snprintf(config + len, sizeof(config) - (size_t)len,
                 "\n[api]\nlisten = 127.0.0.1:%u\n\n[log]\nformat = json\n", base_port + 1000 + i);
        snprintf(path, sizeof(path), "%s/node%u/config.ini", dir, i);
        rc = write_text(path, config, 0600, why, why_len);
    }
    if (rc == 0) {
        /* The genesis last: its presence marks a complete network. */
        snprintf(path, sizeof(path), "%s/genesis.json", dir);
        rc = write_text(path, network->genesis_json, 0644, why, why_len);
    }
    gov_network_free(network);
    return rc;
}

static pid_t start_node(const char *dir, uint32_t index)
{
    char home[PATH_LEN], log[PATH_LEN + 16];
    snprintf(home, sizeof(home), "%s/node%u", dir, index);
    snprintf(log, sizeof(log), "%s/node.log", home);
    fflush(NULL); /* or the child would repeat what is still buffered */
    pid_t pid = fork();
    if (pid != 0) {
        return pid;
    }
    FILE *out = freopen(log, "a", stdout);
    if (out == NULL || dup2(fileno(stdout), STDERR_FILENO) < 0) {
        _exit(127);
    }
    signal(SIGINT, SIG_IGN); /* the parent stops the nodes, in order */
    execl("/proc/self/exe", "govchain", "node", "--home", home, (char *)NULL);
    _exit(127);
}

static void pause_ms(long ms)
{
    struct timespec delay = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&delay, NULL);
}

static bool healthy(const char *url)
{
    char health[PATH_LEN + 16];
    snprintf(health, sizeof(health), "%.900s/healthz", url);
    gov_http_response response;
    char why[200];
    if (gov_http_fetch("GET", health, NULL, NULL, 0, 2000, &response, why, sizeof(why)) != 0) {
        return false;
    }
    gov_buf_free(&response.body);
    return response.status == 200;
}

/* Signs and submits one transaction, waiting for its block; prints the outcome. */
static int submit_sample(const char *url, const char *dir, gov_suite suite,
                         const gov_hash *chain_id, gov_tx *tx, const char *what)
{
    char why[300], path[PATH_LEN];
    snprintf(path, sizeof(path), "%s/keys/%s.pem", dir, tx->department);
    gov_private_key *key = NULL;
    int rc = gov_keyfile_read(suite, path, &key, why, sizeof(why));
    if (rc == 0) {
        tx->version = GOV_TX_VERSION;
        tx->chain_id = *chain_id;
        RAND_bytes((uint8_t *)&tx->nonce, sizeof(tx->nonce));
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        tx->created_ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
        rc = gov_tx_sign(tx, key);
    }
    gov_private_key_free(key);
    gov_http_response response = {0};
    if (rc == 0) {
        rc = gov_client_submit(url, tx, true, &response, why, sizeof(why));
    }
    if (rc != 0) {
        fprintf(stderr, "govchain localnet: %s: %s\n", what, why);
        return rc;
    }
    bool ok = response.status == 200;
    printf("  %-52s %s\n", what, ok ? "committed" : "NOT committed:");
    if (!ok) {
        printf("    %d %.*s\n", response.status, (int)response.body.len,
               (const char *)response.body.data);
    }
    gov_buf_free(&response.body);
    return ok ? 0 : GOV_EIO;
}

static int issue_samples(const char *url, const char *dir, gov_hash *licence)
{
    char why[300];
    gov_hash chain_id;
    gov_suite suite;
    int rc = gov_client_chain(url, &chain_id, &suite, NULL, why, sizeof(why));
    if (rc != 0) {
        fprintf(stderr, "govchain localnet: %s\n", why);
        return rc;
    }
    char path[PATH_LEN];
    snprintf(path, sizeof(path), "%s/samples", dir);
    make_dir(path, why, sizeof(why));
    snprintf(path, sizeof(path), "%s/samples/business-licence.txt", dir);
    char text[256];
    uint32_t serial = 0;
    RAND_bytes((uint8_t *)&serial, sizeof(serial));
    snprintf(text, sizeof(text),
             "Business licence No. GX-%08u\nHolder: Nanning Sample Trading Co., Ltd.\n"
             "Issued by: market-regulation (localnet sample)\n",
             serial);
    remove(path);
    rc = write_text(path, text, 0644, why, sizeof(why));
    if (rc == 0) {
        rc = gov_client_file_hash(suite, path, licence, why, sizeof(why));
    }
    if (rc != 0) {
        fprintf(stderr, "govchain localnet: %s\n", why);
        return rc;
    }
    printf("Sample records (file %s):\n", path);
    gov_tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.kind = GOV_TX_ISSUE;
    snprintf(tx.department, sizeof(tx.department), "market-regulation");
    tx.payload.issue.doc_hash = *licence;
    tx.payload.issue.doc_class = GOV_DOC_CLASS_CERTIFICATE;
    snprintf(tx.payload.issue.doc_type, sizeof(tx.payload.issue.doc_type), "business-licence");
    gov_hash_bytes(suite, "localnet sample holder", 22, &tx.payload.issue.subject_ref);
    tx.payload.issue.valid_from_ms = 0;
    rc = submit_sample(url, dir, suite, &chain_id, &tx,
                       "market-regulation issues a business licence");
    const char *endorsers[] = {"tax", "public-security"};
    for (int i = 0; rc == 0 && i < 2; i++) {
        memset(&tx, 0, sizeof(tx));
        tx.kind = GOV_TX_ENDORSE;
        snprintf(tx.department, sizeof(tx.department), "%s", endorsers[i]);
        tx.payload.endorse.doc_hash = *licence;
        snprintf(tx.payload.endorse.text, sizeof(tx.payload.endorse.text),
                 "recognised for registration");
        char what[96];
        snprintf(what, sizeof(what), "%s endorses (recognises) it", endorsers[i]);
        rc = submit_sample(url, dir, suite, &chain_id, &tx, what);
    }
    return rc;
}

static void stop_nodes(pid_t *pids, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        if (pids[i] > 0) {
            kill(pids[i], SIGTERM);
        }
    }
    for (uint32_t i = 0; i < count; i++) {
        if (pids[i] > 0) {
            waitpid(pids[i], NULL, 0);
            pids[i] = 0;
        }
    }
}

int gov_cmd_localnet(int argc, char **argv)
{
    static const struct option options[] = {
        {"dir", required_argument, NULL, 'd'},
        {"nodes", required_argument, NULL, 'n'},
        {"suite", required_argument, NULL, 's'},
        {"base-port", required_argument, NULL, 'p'},
        {"init", no_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool init_only = false;
    const char *dir = "localnet";
    unsigned long nodes = 4, base_port = 7100;
    gov_suite suite = GOV_SUITE_P256_SHA256;
    char *end = NULL;
    optind = 0;
    int option;
    while ((option = getopt_long(argc, argv, ":", options, NULL)) != -1) {
        switch (option) {
        case 'd':
            dir = optarg;
            break;
        case 'n':
            nodes = strtoul(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || nodes < 4 || nodes > NODES_MAX) {
                return gov_cli_usage_error(COMMAND, "--nodes must be 4 to %d", NODES_MAX);
            }
            break;
        case 's':
            if (gov_suite_parse(optarg, &suite) != 0) {
                return gov_cli_usage_error(COMMAND, "--suite must be p256-sha256 or sm2-sm3");
            }
            break;
        case 'p':
            base_port = strtoul(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || base_port < 1024 || base_port > 64000) {
                return gov_cli_usage_error(COMMAND, "--base-port must be 1024 to 64000");
            }
            break;
        case 'i':
            init_only = true;
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
    char why[400], path[PATH_LEN];
    if (init_only) {
        snprintf(path, sizeof(path), "%s/genesis.json", dir);
        if (access(path, F_OK) == 0) {
            return gov_cli_failure(COMMAND, "%s already holds a network", dir);
        }
        if (create_network(dir, (uint32_t)nodes, suite, (unsigned)base_port, why, sizeof(why)) !=
            0) {
            return gov_cli_failure(COMMAND, "%s", why);
        }
        printf("Created a %lu-department network in %s/\n", nodes, dir);
        return GOV_EXIT_OK;
    }
    snprintf(path, sizeof(path), "%s/genesis.json", dir);
    bool created = access(path, F_OK) != 0;
    if (created) {
        printf("Creating a %lu-department network in %s/ ...\n", nodes, dir);
        if (create_network(dir, (uint32_t)nodes, suite, (unsigned)base_port, why, sizeof(why)) !=
            0) {
            return gov_cli_failure(COMMAND, "%s", why);
        }
    } else {
        /* An existing network: count its nodes. */
        for (nodes = 0; nodes < NODES_MAX; nodes++) {
            snprintf(path, sizeof(path), "%s/node%lu/config.ini", dir, nodes);
            if (access(path, F_OK) != 0) {
                break;
            }
        }
        if (nodes < 4) {
            return gov_cli_failure(COMMAND, "%s has a genesis.json but not its node folders", dir);
        }
        printf("Starting the %lu-department network in %s/ ...\n", nodes, dir);
    }
    struct sigaction action = {.sa_handler = on_stop_signal};
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    pid_t pids[NODES_MAX] = {0};
    char urls[NODES_MAX][GOV_CONFIG_HOST_MAX + 32];
    for (uint32_t i = 0; i < nodes; i++) {
        /* The API address each node's own config.ini names (an existing network may have
         * been made with another --base-port). */
        char home[PATH_LEN + 16];
        snprintf(home, sizeof(home), "%s/node%u", dir, i);
        gov_node_config config;
        char config_why[300];
        if (gov_node_config_load(home, &config, config_why, sizeof(config_why)) == 0) {
            snprintf(urls[i], sizeof(urls[i]), "http://%s:%u", config.api_listen.host,
                     config.api_listen.port);
        } else {
            snprintf(urls[i], sizeof(urls[i]), "http://127.0.0.1:%lu", base_port + 1000 + i);
        }
        pids[i] = start_node(dir, i);
        if (pids[i] < 0) {
            stop_nodes(pids, (uint32_t)nodes);
            return gov_cli_failure(COMMAND, "cannot start node %u: %s", i, strerror(errno));
        }
    }
    /* Wait until every API answers (each node logs to DIR/node<i>/node.log). */
    for (int tries = 0; !stop_requested; tries++) {
        uint32_t up = 0;
        for (uint32_t i = 0; i < nodes; i++) {
            up += healthy(urls[i]);
        }
        if (up == nodes) {
            break;
        }
        int status = 0;
        pid_t dead = waitpid(-1, &status, WNOHANG);
        if (dead > 0 || tries > 300) {
            stop_nodes(pids, (uint32_t)nodes);
            return gov_cli_failure(COMMAND, "the nodes did not all start; see %s/node<i>/node.log",
                                   dir);
        }
        pause_ms(100);
    }
    gov_hash licence;
    bool samples = false;
    if (created && !stop_requested) {
        samples = issue_samples(urls[0], dir, &licence) == 0;
    }
    printf("\nThe network is running (chain in %s/genesis.json):\n", dir);
    for (uint32_t i = 0; i < nodes; i++) {
        printf("  node %u  API %s   log %s/node%u/node.log\n", i, urls[i], dir, i);
    }
    if (samples) {
        char hex[2 * GOV_HASH_LEN + 1];
        gov_hex_encode(licence.bytes, GOV_HASH_LEN, hex);
        printf("\nTry:\n  curl -s %s/v1/docs/%s\n", urls[1], hex);
        printf("  govchain status --node %s --file %s/samples/business-licence.txt\n", urls[2],
               dir);
    }
    printf("\nCtrl-C stops the network.\n");
    fflush(stdout);
    int exit_code = GOV_EXIT_OK;
    while (!stop_requested) {
        int status = 0;
        pid_t dead = waitpid(-1, &status, WNOHANG);
        if (dead > 0) {
            for (uint32_t i = 0; i < nodes; i++) {
                if (pids[i] == dead) {
                    pids[i] = 0;
                    fprintf(stderr, "govchain localnet: node %u stopped (%s %d); see its log\n", i,
                            WIFEXITED(status) ? "exit" : "signal",
                            WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
                    exit_code = GOV_EXIT_FAILED;
                }
            }
            break;
        }
        pause_ms(200);
    }
    printf("Stopping the nodes ...\n");
    stop_nodes(pids, (uint32_t)nodes);
    printf("Stopped.\n");
    return exit_code;
}
