/*
 * govchain consensus simulator: N real PBFT replicas (consensus/pbft.c) in one process
 * over a simulated network, every choice drawn from one seed (docs/simulation.md).
 *
 * sim_run() runs one seed and fills a sim_result; it never exits the process. The
 * keys are made once per process (key generation is slow) and shared by every seed:
 * a run depends on the seed only, never on key or signature bytes.
 */
#ifndef GOVCHAIN_SIM_H
#define GOVCHAIN_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "govchain/crypto.h"
#include "govchain/messages.h"

enum {
    SIM_VALIDATORS_MAX = 10,
    SIM_SIZES = 3, /* n = 4, 7, 10 */
};

/* One validator set per n over the first n of SIM_VALIDATORS_MAX keys, each with its
 * own signature cache (the cache's key does not include the chain id). */
typedef struct {
    gov_private_key *keys[SIM_VALIDATORS_MAX];
    gov_public_key *pubs[SIM_VALIDATORS_MAX];
    gov_validator_set sets[SIM_SIZES];
    gov_sig_cache *caches[SIM_SIZES];
} sim_keys;

int sim_keys_init(sim_keys *keys);
void sim_keys_free(sim_keys *keys);
/* The set for n validators (4, 7 or 10). */
const gov_validator_set *sim_keys_set(const sim_keys *keys, uint32_t n);

typedef struct {
    uint64_t seed;
    uint32_t nodes; /* 0: chosen by the seed */
    int mix;        /* -1: chosen by the seed */
    bool self_test; /* f + 1 twins that must fork (the checker's own test) */
    bool verbose;
} sim_options;

typedef struct {
    uint32_t n;
    int mix;
    bool failed;
    char failure[512]; /* "<invariant>: <details>" */
    uint64_t trace_hash;
    uint64_t events;
    uint64_t messages;     /* messages honest replicas sent, one per recipient */
    uint64_t heights;      /* the highest height every honest replica committed */
    uint64_t end_ms;       /* simulated time at the end */
    uint64_t heal_ms;      /* when the last fault healed */
    uint64_t recovery_ms;  /* from max(heal, last transaction) to all committed */
    uint64_t view_changes; /* summed over honest replicas */
    uint64_t signatures;   /* signed by honest replicas */
    uint64_t evidence;     /* equivocation proofs the replicas reported, each checked */
} sim_result;

int sim_mix_count(void);
const char *sim_mix_name(int mix);
int sim_mix_parse(const char *name); /* -1 when unknown */
/* The n and mix a seed picks when the options leave them open. */
uint32_t sim_seed_nodes(uint64_t seed);
int sim_seed_mix(uint64_t seed);

/* The liveness bound for n validators, in simulated milliseconds after the last heal. */
uint64_t sim_liveness_bound_ms(uint32_t n);

void sim_run(const sim_keys *keys, const sim_options *options, sim_result *out);

#endif
