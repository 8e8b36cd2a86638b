/*
 * The simulated world of one seed, shared by the driver (world.c), the Byzantine
 * mutators (byzantine.c) and the checkers (check.c). Internal to tests/sim.
 *
 * Instances vs validators: an instance is one running replica with its own ledger and
 * persisted state; a validator is an index into the validator set. They coincide except
 * for twins, where two instances run with one index and one key.
 */
#ifndef GOVCHAIN_SIM_WORLD_H
#define GOVCHAIN_SIM_WORLD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "govchain/pbft.h"
#include "tests/sim/block.h"
#include "tests/sim/rng.h"
#include "tests/sim/sim.h"

enum {
    SIM_INSTANCES_MAX = 2 * SIM_VALIDATORS_MAX,
    SIM_VIEW_TIMEOUT_MS = 1000, /* T(v) base */
    SIM_VIEW_TIMEOUT_CAP_MS = 8000,
    SIM_EVENTS_MAX = 3000000, /* a run past this is reported as runaway */
};

typedef enum { SIM_HONEST, SIM_BYZANTINE, SIM_TWIN } sim_role;

typedef enum {
    SIM_BYZ_NONE,
    SIM_BYZ_EQUIVOCATE,  /* a primary sends two validly signed proposals */
    SIM_BYZ_DOUBLE_VOTE, /* a second PREPARE / COMMIT for another digest */
    SIM_BYZ_HUGE_VIEW,   /* signed VIEW-CHANGE / PREPARE near and above GOV_PBFT_VIEW_MAX */
    SIM_BYZ_FAR_AHEAD,   /* signed messages 1000 heights ahead, a bogus BLOCK */
    SIM_BYZ_GARBAGE,     /* random bytes and single-byte mutations */
    SIM_BYZ_SILENT,      /* drops everything it would send */
    SIM_BYZ_KINDS,
    SIM_BYZ_MIXED = SIM_BYZ_KINDS, /* in a mix: each faulty validator draws a kind */
} sim_byz;

typedef enum {
    EV_DELIVER,
    EV_TIMER,
    EV_TX,
    EV_VALIDATED,
    EV_BUILT,
    EV_CRASH,
    EV_ARM_CRASH, /* crash right after the next persist, before its messages go out */
    EV_RESTART,
    EV_PARTITION,
    EV_UNPARTITION,
    EV_HEAL,
} sim_event_kind;

typedef struct {
    uint64_t time;
    uint64_t seq; /* ties broken by insertion order */
    sim_event_kind kind;
    uint32_t inst;
    uint32_t from; /* EV_DELIVER: the sending instance */
    uint32_t gen;  /* the instance's incarnation (or timer generation) when scheduled */
    uint64_t a;    /* tx id, height, partition number */
    gov_hash digest;
    bool ok;
    uint8_t *data; /* owned */
    size_t len;
} sim_event;

typedef struct {
    sim_event *items;
    size_t count;
    size_t capacity;
    uint64_t next_seq;
} sim_queue;

typedef struct {
    uint32_t id;
    uint32_t index;
    sim_role role;
    sim_byz byz;
    bool up;
    bool crash_armed;
    uint32_t incarnation;
    uint32_t timer_gen;
    uint32_t timer_spins; /* timers set at or before the clock in a row */
    gov_pbft *pbft;
    sim_ledger ledger;
    uint8_t *durable;
    size_t durable_len;
    bool *mempool;   /* [tx_count + 1]: arrived (kept across crashes: clients resend) */
    bool *committed; /* [tx_count + 1]: in the ledger */
    uint64_t committed_txs;
    bool told_pending;
    int64_t clock_offset_ms;
    int32_t clock_ppm;
    uint32_t reach;            /* bit i: linked to instance i (twins split the others) */
    gov_pbft_stats last_stats; /* of the previous incarnations, summed */
} sim_instance;

typedef struct {
    uint32_t drop_permille;
    uint32_t dup_permille;
    uint32_t delay_min_ms;
    uint32_t delay_max_ms;
    uint32_t partitions;
    uint32_t crashes;
    bool drift;
    int byz; /* -1 none, a sim_byz, or SIM_BYZ_MIXED */
    bool twins;
    const char *name;
    const char *about;
} sim_mix;

/* (validator, type, view, height) -> digest of what an honest validator signed. */
typedef struct {
    uint64_t view;
    uint64_t height;
    uint32_t index;
    uint32_t type; /* 0: empty slot */
    gov_hash digest;
} sim_vote_slot;

typedef struct {
    const sim_keys *keys;
    const gov_validator_set *set;
    sim_options options;
    sim_result *result;
    sim_rng rng;
    const sim_mix *mix;
    uint32_t n;
    uint32_t f;
    uint32_t count; /* instances */
    sim_instance inst[SIM_INSTANCES_MAX];
    sim_queue queue;
    uint64_t now;
    bool stop;
    bool healed;
    uint64_t heal_ms;
    uint64_t last_tx_ms;
    uint64_t tx_count;
    uint64_t tx_submitted;
    uint16_t blocked[SIM_INSTANCES_MAX][SIM_INSTANCES_MAX]; /* partition counts a -> b */
    uint32_t partition_groups[16][2]; /* per partition: blocked from-mask, to-mask */
    /* checker state */
    gov_hash *agreed;
    bool *agreed_set;
    size_t agreed_capacity;
    sim_vote_slot *votes;
    size_t votes_capacity;
    size_t votes_count;
    /* Byzantine: the alternative block for (view, height), shared by colluders */
    uint64_t alt_view;
    uint64_t alt_height;
    gov_hash alt_digest;
    gov_buf alt_block;
    bool alt_valid;
    gov_buf scratch;
} sim_world;

/* world.c */
void sim_trace(sim_world *w, const char *format, ...) __attribute__((format(printf, 2, 3)));
void sim_fail(sim_world *w, const char *format, ...) __attribute__((format(printf, 2, 3)));
void sim_hash_mix(sim_world *w, uint64_t value);
/* Sends bytes from instance `from` to validator `to` (or GOV_PBFT_ALL) through the
 * network's faults. */
void sim_net_send(sim_world *w, uint32_t from, uint32_t to, const uint8_t *data, size_t len);

/* byzantine.c: what a faulty instance sends instead of `data`. */
void sim_byz_send(sim_world *w, sim_instance *inst, uint32_t to, const uint8_t *data, size_t len);
void sim_byz_free(sim_world *w);

/* check.c */
void sim_check_commit(sim_world *w, sim_instance *inst, const gov_pbft_commit *commit);
void sim_check_outgoing(sim_world *w, sim_instance *inst, const uint8_t *data, size_t len);
void sim_check_evidence(sim_world *w, const sim_instance *inst, const gov_pbft_ready *ready);
void sim_check_free(sim_world *w);

#endif
