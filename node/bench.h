/*
 * The subjects of `govchain bench` (node/cmd_bench.c dispatches; node/bench_ledger.c
 * measures the ledger). Each measures one thing for one suite, prints one line, and
 * returns a GOV_EXIT_* code.
 */
#ifndef GOVCHAIN_NODE_BENCH_H
#define GOVCHAIN_NODE_BENCH_H

#include <stddef.h>

#include "govchain/crypto.h"

typedef struct {
    unsigned seconds;
    size_t message_bytes;
} gov_bench_options;

int gov_bench_apply(gov_suite suite, const gov_bench_options *options);
int gov_bench_tree(gov_suite suite, const gov_bench_options *options);
int gov_bench_commit(gov_suite suite, const gov_bench_options *options);
int gov_bench_replay(gov_suite suite, const gov_bench_options *options);

#endif
