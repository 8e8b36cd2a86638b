/*
 * The subjects of `govchain bench` (node/cmd_bench.c dispatches; node/bench_ledger.c
 * measures the ledger). Each measures one thing for one suite, prints one line, and
 * returns a GOV_EXIT_* code.
 */
#ifndef GOVCHAIN_NODE_BENCH_H
#define GOVCHAIN_NODE_BENCH_H

#include <stddef.h>

#include "govchain/crypto.h"
#include "govchain/ledger.h"
#include "govchain/network.h"

typedef struct {
    unsigned seconds;
    size_t message_bytes;
} gov_bench_options;

int gov_bench_apply(gov_suite suite, const gov_bench_options *options);
int gov_bench_tree(gov_suite suite, const gov_bench_options *options);
int gov_bench_commit(gov_suite suite, const gov_bench_options *options);
int gov_bench_replay(gov_suite suite, const gov_bench_options *options);
int gov_bench_receipt(gov_suite suite, const gov_bench_options *options);
int gov_bench_network_load(gov_suite suite, const gov_bench_options *options);

/* Shared by the subjects (node/bench_ledger.c). */
/* A four-department network of suite (NULL when it cannot be made). */
gov_network *gov_bench_network(gov_suite suite);
/* Builds, certifies and commits `blocks` blocks of `per_block` signed ISSUEs; the time in
 * gov_ledger_commit alone goes to *commit_seconds (may be NULL). Prints its failures. */
int gov_bench_grow_chain(const gov_network *network, gov_ledger *ledger, uint32_t blocks,
                         uint32_t per_block, double *commit_seconds);
/* Signature verifications per second on `threads` threads for about `seconds`. */
double gov_bench_verify_rate(const gov_network *network, unsigned threads, double seconds);
/* A private temporary directory (NULL on failure), and its removal with its contents. */
char *gov_bench_temp_dir(void);
void gov_bench_remove_dir(char *dir);

#endif
