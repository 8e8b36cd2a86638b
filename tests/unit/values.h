/*
 * Random values of every canonical structure, for property tests and for seeding the
 * fuzz corpus. Values are valid for their decoders (identifiers well formed, votes
 * ascending, heights consistent) and cover every integer width and text with
 * multi-byte characters. Deterministic for a given rng state (test_random).
 */
#ifndef GOVCHAIN_TEST_VALUES_H
#define GOVCHAIN_TEST_VALUES_H

#include <stdint.h>

#include "govchain/block.h"
#include "govchain/messages.h"

uint64_t random_below(uint64_t *rng, uint64_t bound);
uint64_t random_uint(uint64_t *rng);
void random_hash(uint64_t *rng, gov_hash *out);
void random_id(uint64_t *rng, char *out);
void random_text(uint64_t *rng, char *out, size_t max);
void random_issue(uint64_t *rng, gov_issue *issue);
void random_tx(uint64_t *rng, gov_tx *tx);
void random_header(uint64_t *rng, gov_block_header *header);
void random_block(uint64_t *rng, gov_block *block, uint32_t txs_max);
uint32_t random_votes(uint64_t *rng, gov_vote_signature *votes);
void random_commit_cert(uint64_t *rng, gov_commit_cert *cert, uint64_t height);
void random_view_change(uint64_t *rng, gov_pbft_view_change *view_change, uint64_t new_view,
                        uint32_t sender);
void random_phase(uint64_t *rng, gov_pbft_type type, gov_pbft_phase *phase);
void random_message(uint64_t *rng, gov_pbft_message *message);

#endif
