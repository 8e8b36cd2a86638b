/*
 * The simulator's blocks and ledger. A block is the canonical msgpack array
 *     [height, parent digest (bin 32), proposer, [transaction id ...]]
 * with ids strictly ascending; its digest is SHA-256 of those bytes. The ledger is a
 * replica's committed chain with each block's commit certificate: it stands in for
 * LevelDB, so it survives the replica's crashes and only ever grows.
 */
#ifndef GOVCHAIN_SIM_BLOCK_H
#define GOVCHAIN_SIM_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "govchain/canon.h"
#include "govchain/crypto.h"
#include "govchain/messages.h"

enum { SIM_BLOCK_TXS_MAX = 64 };

typedef struct {
    uint64_t height;
    gov_hash parent;
    uint32_t proposer;
    uint32_t txs_count;
    uint64_t txs[SIM_BLOCK_TXS_MAX];
} sim_block;

/* Encodes into out (reset first); GOV_ENOMEM on allocation failure. */
int sim_block_encode(const sim_block *block, gov_buf *out);
/* Strict decode: GOV_EDECODE for anything but a well-formed block. */
int sim_block_decode(const uint8_t *data, size_t len, sim_block *out);
void sim_block_digest(const uint8_t *data, size_t len, gov_hash *out);

typedef struct {
    gov_hash digest;
    uint8_t *block;
    size_t block_len;
    gov_commit_cert cert;
} sim_entry;

typedef struct {
    gov_hash genesis;
    size_t count; /* committed height */
    size_t capacity;
    sim_entry *entries; /* entries[h - 1] is height h */
} sim_ledger;

void sim_ledger_init(sim_ledger *ledger, const gov_hash *genesis);
void sim_ledger_free(sim_ledger *ledger);
/* The head's digest (genesis at height 0). */
const gov_hash *sim_ledger_head_digest(const sim_ledger *ledger);
const sim_entry *sim_ledger_at(const sim_ledger *ledger, uint64_t height); /* NULL if absent */
/* Appends the block at height count + 1 (the caller checked it). */
void sim_ledger_append(sim_ledger *ledger, const gov_hash *digest, const uint8_t *block,
                       size_t block_len, const gov_commit_cert *cert);

/* The ledger's validation of a proposal: well-formed, at `height` = head + 1 on the
 * head, hashing to `digest`, with no transaction the ledger already holds (committed[]
 * covers ids 1..tx_count; larger ids are made up by Byzantine proposers and allowed). */
bool sim_ledger_validate(const sim_ledger *ledger, uint64_t height, const gov_hash *digest,
                         const uint8_t *data, size_t len, uint32_t validators,
                         const bool *committed, uint64_t tx_count);

#endif
