/*
 * govchain PBFT replica: Castro & Liskov's protocol with sequence number = block height
 * and one block in flight, as a pure state machine (docs/consensus.md has the rules, the
 * state diagram and which function does each transition).
 *
 * The replica does no I/O and reads no clock: every input is a call with the time
 * passed in, and every effect lands in an outbox (gov_pbft_ready) that the caller, a
 * "driver", carries out. The node (libuv, LevelDB, TLS links) and the simulator
 * (tests/sim) are the two drivers. Block contents are opaque here: the ledger builds and
 * validates blocks, consensus orders their digests.
 *
 * Driving a replica:
 *
 *     gov_pbft_open(&config, &committed, durable, durable_len, now, &replica, why, len);
 *     loop:
 *         one input: gov_pbft_receive / _tick / _set_pending / _built / _validated
 *         gov_pbft_ready *ready = gov_pbft_ready_get(replica);
 *         carry out, IN THIS ORDER:
 *           1. ready->commits: write each block with its certificate to the ledger, in
 *              order (they are consecutive heights);
 *           2. ready->persist: when set, store ready->durable atomically and durably;
 *              it replaces what was stored before and is what gov_pbft_open gets back;
 *           3. ready->messages: send each (to one validator, or to all others);
 *           4. ready->validate / ready->build / ready->serve: start them; their results
 *              come back later as gov_pbft_validated / gov_pbft_built inputs (serve has no
 *              result: answer the peer from the ledger with gov_pbft_block_message_encode);
 *           5. ready->timer_ms: call gov_pbft_tick at that time (0: no timer);
 *           6. ready->evidence: keep it (any time; nothing depends on it).
 *         gov_pbft_ready_done(replica);
 *
 * The order is the crash-safety contract: a replica never signs two different digests
 * for one (type, view, height), also across restarts, because what it signed is stored
 * (2) before anyone can see it (3); a commit (1) makes older records moot.
 *
 * Inputs never fail on bad data: a message that does not decode, whose signature fails,
 * that comes from an unknown sender, for a wrong view or outside the window, is dropped,
 * counted in gov_pbft_stats and described in ready->events. Only gov_pbft_open fails
 * (GOV_EINVAL / GOV_EDECODE / GOV_ENOMEM with the reason in why[]).
 */
#ifndef GOVCHAIN_PBFT_H
#define GOVCHAIN_PBFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "govchain/canon.h"
#include "govchain/crypto.h"
#include "govchain/messages.h"

/* Addresses for messages: a validator index, or every validator but the sender. */
#define GOV_PBFT_ALL UINT32_MAX

/* Views above this are refused at the edge, so view + 1 never overflows. */
#define GOV_PBFT_VIEW_MAX ((uint64_t)1 << 62)

typedef struct gov_pbft gov_pbft;

typedef struct {
    /* The validators in genesis order; borrowed for the replica's lifetime. Its cache
     * (if any) remembers valid signatures, so a vote seen in a PREPARE and again in a
     * VIEW-CHANGE's certificate is verified once. */
    const gov_validator_set *validators;
    uint32_t self;                /* this replica's index in validators */
    const gov_private_key *key;   /* validators->keys[self]'s private key; borrowed */
    uint64_t view_timeout_ms;     /* T(v) base: genesis consensus.view_timeout_ms */
    uint64_t view_timeout_max_ms; /* T(v) cap */
    uint32_t catch_up_blocks;     /* blocks asked for per catch-up request (0: 16) */
} gov_pbft_config;

/* What the ledger holds when the replica opens: its head, with the head's block and
 * commit certificate (height 0: genesis, no block, no certificate). The replica keeps a
 * copy: a new primary may have to re-propose the block a previous view prepared. */
typedef struct {
    uint64_t height;
    gov_hash digest; /* the head block's hash (genesis hash at height 0) */
    const uint8_t *block;
    size_t block_len;
    const gov_commit_cert *cert; /* NULL at height 0 */
} gov_pbft_head;

/* A message to send: bytes of one encoded consensus message. */
typedef struct {
    uint32_t to; /* a validator index, or GOV_PBFT_ALL */
    gov_buf bytes;
} gov_pbft_outgoing;

/* A block to write with its certificate. The bytes are the replica's until
 * gov_pbft_ready_done. */
typedef struct {
    uint64_t height;
    gov_hash digest;
    const uint8_t *block;
    size_t block_len;
    gov_commit_cert cert;
} gov_pbft_commit;

/* Validate block bytes as the block at `height` on the committed head: its hash must be
 * `digest`, every signature and rule must hold and the roots must match. Answer with
 * gov_pbft_validated(height, digest, ok). At most one is outstanding. */
typedef struct {
    bool requested;
    uint64_t height;
    gov_hash digest;
    const uint8_t *block; /* the replica's until gov_pbft_ready_done: copy if needed */
    size_t block_len;
} gov_pbft_validate;

/* Build a block for `height` from pending transactions; answer with gov_pbft_built. */
typedef struct {
    bool requested;
    uint64_t height;
} gov_pbft_build;

/* A peer asked for committed blocks: send it, for each height from `from` while the
 * ledger has it and at most `count`, gov_pbft_block_message_encode(height, block,
 * certificate). */
typedef struct {
    uint32_t to;
    uint64_t from;
    uint32_t count;
} gov_pbft_serve;

typedef enum {
    GOV_PBFT_EVENT_DROPPED,      /* an input was refused; text says why */
    GOV_PBFT_EVENT_VIEW_CHANGE,  /* this replica moved to a new view */
    GOV_PBFT_EVENT_NEW_VIEW,     /* a view started (a NEW-VIEW was sent or accepted) */
    GOV_PBFT_EVENT_EQUIVOCATION, /* a validator signed two digests for one (type, v, h) */
    GOV_PBFT_EVENT_CATCH_UP,     /* asked a peer for blocks */
    GOV_PBFT_EVENT_INFO,
} gov_pbft_event_kind;

typedef struct {
    gov_pbft_event_kind kind;
    uint32_t peer; /* the sender concerned, or GOV_PBFT_ALL */
    char text[160];
} gov_pbft_event;

enum {
    GOV_PBFT_READY_MESSAGES_MAX = 4 * GOV_VALIDATORS_MAX + 16,
    GOV_PBFT_READY_COMMITS_MAX = 64,
    GOV_PBFT_READY_SERVES_MAX = 8,
    GOV_PBFT_READY_EVENTS_MAX = 16, /* further events in one step are only counted */
    GOV_PBFT_READY_EVIDENCE_MAX = 4,
};

typedef struct {
    size_t commits_count;
    gov_pbft_commit commits[GOV_PBFT_READY_COMMITS_MAX];
    bool persist;
    gov_buf durable;
    size_t messages_count;
    gov_pbft_outgoing messages[GOV_PBFT_READY_MESSAGES_MAX];
    gov_pbft_validate validate;
    gov_pbft_build build;
    size_t serves_count;
    gov_pbft_serve serves[GOV_PBFT_READY_SERVES_MAX];
    uint64_t timer_ms; /* absolute time of the next gov_pbft_tick; 0: none */
    size_t events_count;
    gov_pbft_event events[GOV_PBFT_READY_EVENTS_MAX];
    /* Equivocations seen (signatures checked): keep them for whoever audits the
     * validators. Beyond GOV_PBFT_READY_EVIDENCE_MAX in one step they are only counted. */
    size_t evidence_count;
    gov_equivocation evidence[GOV_PBFT_READY_EVIDENCE_MAX];
} gov_pbft_ready;

/* Counters for metrics and tests. */
typedef struct {
    uint64_t received;
    uint64_t dropped;
    uint64_t view_changes; /* views this replica moved to by timeout or by f + 1 */
    uint64_t new_views;    /* views entered */
    uint64_t equivocations;
    uint64_t commits;
    uint64_t catch_up_requests;
    uint64_t signatures; /* messages this replica signed */
} gov_pbft_stats;

/* Opens a replica on the ledger's head and what it last persisted (durable may be NULL
 * on a new replica). */
int gov_pbft_open(const gov_pbft_config *config, const gov_pbft_head *head, const uint8_t *durable,
                  size_t durable_len, uint64_t now_ms, gov_pbft **out, char *why, size_t why_len);
void gov_pbft_free(gov_pbft *replica);

/* Inputs. `from` is the validator the link authenticated (mutual TLS in the node);
 * messages that name another sender are still judged by their own signature. */
void gov_pbft_receive(gov_pbft *replica, uint32_t from, const uint8_t *data, size_t len,
                      uint64_t now_ms);
void gov_pbft_tick(gov_pbft *replica, uint64_t now_ms);
/* Whether the mempool holds transactions waiting for a block. */
void gov_pbft_set_pending(gov_pbft *replica, bool pending, uint64_t now_ms);
/* The block asked for by ready->build; block NULL when there was nothing to build, which
 * also counts as gov_pbft_set_pending(false) until the next set_pending(true). */
void gov_pbft_built(gov_pbft *replica, uint64_t height, const gov_hash *digest,
                    const uint8_t *block, size_t block_len, uint64_t now_ms);
/* The answer to ready->validate. */
void gov_pbft_validated(gov_pbft *replica, uint64_t height, const gov_hash *digest, bool ok,
                        uint64_t now_ms);

/* The effects of the inputs so far; valid until gov_pbft_ready_done. */
gov_pbft_ready *gov_pbft_ready_get(gov_pbft *replica);
void gov_pbft_ready_done(gov_pbft *replica);

/* Observation, for the node's status and for tests. */
uint64_t gov_pbft_view(const gov_pbft *replica);
bool gov_pbft_view_active(const gov_pbft *replica); /* false while changing view */
uint64_t gov_pbft_height(const gov_pbft *replica);  /* committed height */
const gov_pbft_stats *gov_pbft_stats_get(const gov_pbft *replica);

/* The catch-up answer: [7, height, block, commit_cert]. */
int gov_pbft_block_message_encode(uint64_t height, const uint8_t *block, size_t block_len,
                                  const gov_commit_cert *cert, gov_buf *out);

#endif
