/*
 * Committed blocks read from a node's API (GET /v1/blocks/raw), for `govchain replay
 * --from` and observer nodes. Nothing read is trusted: every block comes with its
 * commit certificate, and the reader re-verifies both (ledger/replay.c, the ledger).
 * Blocks are fetched in batches and kept until asked for. Blocking HTTP: call from a
 * thread that may wait.
 */
#ifndef GOVCHAIN_NODE_REMOTE_BLOCKS_H
#define GOVCHAIN_NODE_REMOTE_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

#include "govchain/block.h"
#include "govchain/messages.h"
#include "govchain/replay.h"

typedef struct gov_remote_blocks gov_remote_blocks;

/* url: "http://host:port". Reads the node's head (height and hash). */
int gov_remote_blocks_open(const char *url, gov_remote_blocks **out, char *why, size_t why_len);
void gov_remote_blocks_close(gov_remote_blocks *remote);

uint64_t gov_remote_blocks_head(const gov_remote_blocks *remote);
const gov_hash *gov_remote_blocks_head_hash(const gov_remote_blocks *remote);

/* Waits up to wait_ms for a block above `height` and updates the head; 0 when one is
 * there (or the wait ended), an error when the node cannot be reached. */
int gov_remote_blocks_wait(gov_remote_blocks *remote, uint64_t height, uint32_t wait_ms, char *why,
                           size_t why_len);

/* The block at height with its certificate (the caller's to clear). */
int gov_remote_blocks_get(gov_remote_blocks *remote, uint64_t height, gov_block *block,
                          gov_commit_cert *cert, char *why, size_t why_len);

/* A replay source over the node (govchain/replay.h). */
gov_replay_source gov_remote_blocks_source(gov_remote_blocks *remote);

#endif
