/*
 * The node daemon: `govchain node --home DIR`. One libuv loop runs the PBFT driver, the
 * peer links and the HTTP API; ledger work runs in the lane and reads on the thread
 * pool (node/driver.h, node/api.h). docs/node.md describes running one.
 *
 * Start-up refuses, with the reason: a bad config.ini, a genesis that does not parse,
 * a data directory created for another genesis (the ledger records the genesis hash
 * when it first starts), a key file that is not the validator's genesis key or that
 * others can read.
 *
 * SIGTERM and SIGINT stop the node: the API refuses new requests, the lane finishes the
 * commit in progress, LevelDB is closed, and gov_node_run returns 0. A failed write to
 * the ledger stops the node the same way but returns 1. SIGPIPE is ignored.
 */
#ifndef GOVCHAIN_NODE_NODE_H
#define GOVCHAIN_NODE_NODE_H

#include <stddef.h>

/* Runs the node of home until it is stopped; returns the process exit code. Start-up
 * failures are written to stderr. */
int gov_node_run(const char *home);

#endif
