/*
 * `govchain bench receipt`: how many receipts one node serves per second, how large a
 * receipt is, and how long checking one offline takes.
 *
 * Serving: a node's API (node/http.c and node/api.c, as the daemon runs them) over a
 * LevelDB ledger of 20 blocks of 100 documents, loaded over loopback by two keep-alive
 * connections with eight pipelined requests each, asking for receipts of random documents; the baseline, in the same run, is the same
 * clients asking /healthz, the cheapest answer the server gives. Checking: receipts
 * verified per second on one thread (gov_receipt_verify: two certificates and one
 * transaction signature), beside single-thread signature verifications.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "govchain/error.h"
#include "govchain/kv_leveldb.h"
#include "govchain/ledger.h"
#include "govchain/network.h"
#include "govchain/receipt.h"
#include "node/api.h"
#include "node/bench.h"
#include "node/cli.h"
#include "node/http.h"
#include "node/log.h"
#include "node/mempool.h"

#define COMMAND "bench"

enum { BLOCKS = 20, PER_BLOCK = 100, CLIENTS = 2, PIPELINE = 8 };

typedef struct {
    uv_loop_t loop;
    uv_async_t stop;
    gov_http_server *http;
    gov_api *api;
    uint16_t port;
    pthread_t thread;
} server;

static void stopped(void *arg)
{
    server *s = arg;
    uv_close((uv_handle_t *)&s->stop, NULL);
}

static void on_stop(uv_async_t *async)
{
    server *s = async->data;
    gov_http_server_stop(s->http, stopped, s);
}

static void *serve(void *arg)
{
    server *s = arg;
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return NULL;
}

/* Starts the API of ledger on an ephemeral loopback port, on its own thread. */
static int server_start(server *s, gov_ledger *ledger, pthread_rwlock_t *lock, gov_mempool *mempool,
                        gov_logger *log, char *why, size_t why_len)
{
    memset(s, 0, sizeof(*s));
    uv_loop_init(&s->loop);
    gov_api_config api = {
        .loop = &s->loop, .ledger = ledger, .ledger_lock = lock, .mempool = mempool, .log = log};
    s->api = gov_api_new(&api);
    gov_http_config http;
    gov_http_config_default(&http);
    int rc = s->api == NULL ? GOV_ENOMEM
                            : gov_http_server_start(&s->loop, &http, gov_api_handle, s->api,
                                                    &s->http, why, why_len);
    if (rc != 0) {
        return rc;
    }
    s->port = gov_http_server_port(s->http);
    uv_async_init(&s->loop, &s->stop, on_stop);
    s->stop.data = s;
    return pthread_create(&s->thread, NULL, serve, s) == 0 ? 0 : GOV_EIO;
}

static void server_stop(server *s)
{
    uv_async_send(&s->stop);
    pthread_join(s->thread, NULL);
    uv_loop_close(&s->loop);
    gov_api_free(s->api);
}

/* Load ---------------------------------------------------------------------------------- */

typedef struct {
    uint16_t port;
    const gov_hash *docs;
    uint32_t docs_count;
    bool receipts; /* false: /healthz */
    double seconds;
    uint64_t answers;
    uint64_t bytes;
    bool failed;
    uint64_t seed;
} client;

static double now_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* Reads one response (status line, headers with Content-Length, body); its status, or -1. */
static int read_response(int fd, char *buffer, size_t size, size_t *have, uint64_t *body_len)
{
    for (;;) {
        char *end = *have > 0 ? memmem(buffer, *have, "\r\n\r\n", 4) : NULL;
        if (end != NULL) {
            size_t head = (size_t)(end - buffer) + 4;
            int status = atoi(buffer + 9);
            char *length = strcasestr(buffer, "\r\ncontent-length:");
            if (length == NULL || length > end) {
                return -1;
            }
            uint64_t body = strtoull(length + 17, NULL, 10);
            while (*have < head + body) {
                if (head + body > size) {
                    return -1;
                }
                ssize_t n = recv(fd, buffer + *have, size - *have, 0);
                if (n <= 0) {
                    return -1;
                }
                *have += (size_t)n;
            }
            *body_len = body;
            memmove(buffer, buffer + head + body, *have - head - body);
            *have -= head + body;
            return status;
        }
        if (*have == size) {
            return -1;
        }
        ssize_t n = recv(fd, buffer + *have, size - *have - 1, 0);
        if (n <= 0) {
            return -1;
        }
        *have += (size_t)n;
        buffer[*have] = '\0';
    }
}

static void *load(void *arg)
{
    client *c = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(c->port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&address, sizeof(address)) != 0) {
        c->failed = true;
        close(fd);
        return NULL;
    }
    size_t size = 1 << 20;
    char *buffer = malloc(size);
    size_t have = 0;
    double end = now_seconds() + c->seconds;
    /* PIPELINE requests in flight per connection (HTTP/1.1 pipelining, answered in order):
     * the server's capacity is measured, not the clients' round trips. */
    while (buffer != NULL && now_seconds() < end) {
        char requests[PIPELINE * 160];
        size_t len = 0;
        for (int i = 0; i < PIPELINE; i++) {
            if (c->receipts) {
                c->seed = c->seed * 6364136223846793005ull + 1442695040888963407ull;
                const gov_hash *doc = &c->docs[(c->seed >> 33) % c->docs_count];
                char hex[2 * GOV_HASH_LEN + 1];
                gov_hex_encode(doc->bytes, GOV_HASH_LEN, hex);
                len += (size_t)snprintf(requests + len, sizeof(requests) - len,
                                        "GET /v1/docs/%s/receipt HTTP/1.1\r\nHost: bench\r\n\r\n",
                                        hex);
            } else {
                len += (size_t)snprintf(requests + len, sizeof(requests) - len,
                                        "GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n");
            }
        }
        if (send(fd, requests, len, MSG_NOSIGNAL) != (ssize_t)len) {
            c->failed = true;
            break;
        }
        for (int i = 0; i < PIPELINE && !c->failed; i++) {
            uint64_t body = 0;
            if (read_response(fd, buffer, size, &have, &body) != 200) {
                c->failed = true;
                break;
            }
            c->answers++;
            c->bytes += body;
        }
        if (c->failed) {
            break;
        }
    }
    free(buffer);
    close(fd);
    return NULL;
}

/* Answers per second from CLIENTS keep-alive clients for seconds; -1 on a failure. */
static double answers_per_second(uint16_t port, const gov_hash *docs, uint32_t count, bool receipts,
                                 double seconds, double *mean_bytes)
{
    client clients[CLIENTS];
    pthread_t threads[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        clients[i] = (client){port, docs, count, receipts, seconds, 0, 0, false, (uint64_t)i + 1};
        pthread_create(&threads[i], NULL, load, &clients[i]);
    }
    uint64_t answers = 0, bytes = 0;
    bool failed = false;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(threads[i], NULL);
        answers += clients[i].answers;
        bytes += clients[i].bytes;
        failed |= clients[i].failed;
    }
    if (mean_bytes != NULL) {
        *mean_bytes = answers == 0 ? 0 : (double)bytes / (double)answers;
    }
    return failed ? -1 : (double)answers / seconds;
}

/* The subject ----------------------------------------------------------------------------- */

int gov_bench_receipt(gov_suite suite, const gov_bench_options *options)
{
    gov_network *network = gov_bench_network(suite);
    char *dir = gov_bench_temp_dir();
    gov_kv *store = NULL;
    gov_ledger *ledger = NULL;
    char why[400] = "";
    int rc = network != NULL && dir != NULL ? 0 : GOV_ENOMEM;
    if (rc == 0) {
        rc = gov_kv_leveldb_open(dir, true, &store, why, sizeof(why));
    }
    if (rc == 0) {
        rc = gov_ledger_open(network->genesis, store, &ledger, why, sizeof(why));
    }
    if (rc == 0) {
        rc = gov_bench_grow_chain(network, ledger, BLOCKS, PER_BLOCK, NULL);
    }
    /* The documents: those the chain's blocks issued. */
    uint32_t count = BLOCKS * PER_BLOCK;
    gov_hash *docs = rc == 0 ? calloc(count, sizeof(*docs)) : NULL;
    for (uint64_t h = 1; docs != NULL && h <= BLOCKS && rc == 0; h++) {
        gov_block block;
        gov_commit_cert cert;
        rc = gov_ledger_block_get(ledger, h, &block, &cert, why, sizeof(why));
        for (uint32_t i = 0; rc == 0 && i < block.txs_count; i++) {
            docs[(h - 1) * PER_BLOCK + i] = block.txs[i].payload.issue.doc_hash;
        }
        if (rc == 0) {
            gov_block_clear(&block);
        }
    }
    if (rc != 0 || docs == NULL) {
        int code = gov_cli_failure(COMMAND, "receipt: setting up: %s",
                                   why[0] ? why : gov_strerror(rc != 0 ? rc : GOV_ENOMEM));
        free(docs);
        gov_ledger_close(ledger);
        gov_kv_close(store);
        gov_bench_remove_dir(dir);
        gov_network_free(network);
        return code;
    }

    /* Serving, beside /healthz. */
    pthread_rwlock_t lock;
    pthread_rwlock_init(&lock, NULL);
    gov_mempool *mempool = gov_mempool_new(16, 1 << 20);
    gov_logger log;
    gov_log_init(&log, stderr, GOV_LOG_PLAIN, "bench");
    log.min_level = GOV_LOG_ERROR;
    server s;
    rc = server_start(&s, ledger, &lock, mempool, &log, why, sizeof(why));
    double seconds = options->seconds;
    double receipt_bytes = 0;
    double receipts =
        rc == 0 ? answers_per_second(s.port, docs, count, true, seconds, &receipt_bytes) : -1;
    double health = rc == 0 ? answers_per_second(s.port, NULL, 0, false, seconds, NULL) : -1;
    if (rc == 0) {
        server_stop(&s);
    }

    /* Offline checking, beside single-thread signature verification. */
    gov_receipt receipt;
    uint64_t verified = 0;
    double start = now_seconds();
    while (rc == 0 && now_seconds() - start < seconds) {
        rc = gov_receipt_build(ledger, NULL, &docs[verified % count], &receipt, why, sizeof(why));
        gov_receipt_result result;
        if (rc == 0) {
            rc = gov_receipt_verify(network->genesis, &receipt, 0, &result, why, sizeof(why));
            gov_receipt_clear(&receipt);
        }
        verified++;
    }
    double build_and_verify = (double)verified / (now_seconds() - start);
    verified = 0;
    start = now_seconds();
    while (rc == 0 && now_seconds() - start < seconds) {
        rc = gov_receipt_build(ledger, NULL, &docs[verified % count], &receipt, why, sizeof(why));
        gov_receipt_clear(&receipt);
        verified++;
    }
    double build_only = (double)verified / (now_seconds() - start);
    double signatures = gov_bench_verify_rate(network, 1, seconds);

    int code = GOV_EXIT_OK;
    if (rc != 0 || receipts < 0 || health < 0) {
        code = gov_cli_failure(COMMAND, "receipt: %s", why[0] ? why : "a request failed");
    } else {
        /* One verification is the time of both; building is subtracted. */
        double verify_seconds = 1.0 / build_and_verify - 1.0 / build_only;
        printf("receipt (%s): %.0f receipts/s served over HTTP by one node (%d keep-alive "
               "connections, %d pipelined requests each, %u documents); baseline /healthz "
               "%.0f/s; ratio %.3f\n",
               gov_suite_name(suite), receipts, CLIENTS, PIPELINE, count, health,
               receipts / health);
        printf("receipt (%s): %.0f bytes per receipt (JSON)\n", gov_suite_name(suite),
               receipt_bytes);
        printf("receipt (%s): offline verification %.2f ms per receipt (one thread); baseline "
               "%.0f signature verifications/s, one thread; ratio %.1f verifications' worth\n",
               gov_suite_name(suite), verify_seconds * 1000, signatures,
               verify_seconds * signatures);
    }
    gov_mempool_free(mempool);
    pthread_rwlock_destroy(&lock);
    free(docs);
    gov_ledger_close(ledger);
    gov_kv_close(store);
    gov_bench_remove_dir(dir);
    gov_network_free(network);
    return code;
}
