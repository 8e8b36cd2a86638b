/* Internals shared between genesis/genesis.c and genesis/genesis_json.c. */
#ifndef GOVCHAIN_GENESIS_INTERNAL_H
#define GOVCHAIN_GENESIS_INTERNAL_H

#include "govchain/genesis.h"

/* Fills genesis->hash and genesis->validators_hash from the canonical encodings, once
 * the parser has validated everything else. GOV_ELIMIT when the encoding exceeds
 * GOV_GENESIS_BYTES_MAX (so that every genesis this node accepts can also be sent to
 * and decoded by a peer), GOV_ENOMEM when it cannot be built. */
int gov_genesis_compute_hashes(gov_genesis *genesis);

#endif
