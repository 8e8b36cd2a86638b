/*
 * The simulator's driver: one seed's world, its event loop, the simulated network and
 * the replicas' drivers (docs/simulation.md). Everything random is drawn from w->rng in
 * event order, so a seed replays exactly.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "govchain/assert.h"
#include "govchain/error.h"
#include "govchain/quorum.h"
#include "tests/sim/world.h"

/* Fault mixes ------------------------------------------------------------------------ */

static const sim_mix MIXES[] = {
    {0, 0, 1, 20, 0, 0, false, -1, false, "clean", "no faults"},
    {150, 50, 1, 300, 0, 0, false, -1, false, "lossy", "drop, duplicate, delay, reorder"},
    {0, 0, 1, 50, 3, 0, false, -1, false, "partition", "symmetric and one-way, healing"},
    {0, 0, 1, 50, 0, 3, false, -1, false, "crash", "crash-restart, also after persist"},
    {20, 0, 1, 50, 0, 0, true, -1, false, "drift", "clock offset and rate per replica"},
    {0, 0, 1, 50, 0, 0, false, SIM_BYZ_EQUIVOCATE, false, "equivocate", "two proposals"},
    {0, 0, 1, 50, 0, 0, false, SIM_BYZ_DOUBLE_VOTE, false, "double-vote", "second votes"},
    {0, 0, 1, 50, 0, 0, false, SIM_BYZ_HUGE_VIEW, false, "huge-view", "views near 2^62"},
    {0, 0, 1, 50, 0, 0, false, SIM_BYZ_FAR_AHEAD, false, "far-ahead", "heights + 1000"},
    {0, 0, 1, 50, 0, 0, false, SIM_BYZ_GARBAGE, false, "garbage", "random and mutated bytes"},
    {0, 0, 1, 50, 0, 0, false, SIM_BYZ_SILENT, false, "silent", "faulty replicas send nothing"},
    {0, 0, 1, 50, 0, 0, false, -1, true, "twins", "f validators run twice with one key"},
    {50, 30, 1, 200, 2, 2, true, SIM_BYZ_MIXED, true, "everything", "all of the above"},
};
enum { MIX_COUNT = sizeof(MIXES) / sizeof(MIXES[0]) };
static const uint32_t SIZES[SIM_SIZES] = {4, 7, 10};

int sim_mix_count(void)
{
    return MIX_COUNT;
}

const char *sim_mix_name(int mix)
{
    return mix >= 0 && mix < MIX_COUNT ? MIXES[mix].name : "self-test";
}

int sim_mix_parse(const char *name)
{
    for (int i = 0; i < MIX_COUNT; i++) {
        if (strcmp(MIXES[i].name, name) == 0) {
            return i;
        }
    }
    return -1;
}

uint32_t sim_seed_nodes(uint64_t seed)
{
    return SIZES[seed % SIM_SIZES];
}

int sim_seed_mix(uint64_t seed)
{
    return (int)((seed / SIM_SIZES) % MIX_COUNT);
}

/* After the last heal, an honest replica may sit out the current view's timeout (at
 * most the cap), then up to f faulty primaries in a row (each at most the cap), and the
 * replicas' timers may be out of step by one more cap each way: 2 (f + 2) caps, plus
 * 10 s for catch-up and the last block. */
uint64_t sim_liveness_bound_ms(uint32_t n)
{
    return 2 * (uint64_t)(gov_quorum_faults(n) + 2) * SIM_VIEW_TIMEOUT_CAP_MS + 10000;
}

/* Reporting -------------------------------------------------------------------------- */

void sim_trace(sim_world *w, const char *format, ...)
{
    if (!w->options.verbose) {
        return;
    }
    va_list args;
    va_start(args, format);
    printf("%8" PRIu64 " ms  ", w->now);
    vprintf(format, args);
    printf("\n");
    va_end(args);
}

void sim_fail(sim_world *w, const char *format, ...)
{
    if (w->result->failed) {
        return; /* the first violation is the one reported */
    }
    va_list args;
    va_start(args, format);
    vsnprintf(w->result->failure, sizeof(w->result->failure), format, args);
    va_end(args);
    w->result->failed = true;
    w->stop = true;
    sim_trace(w, "VIOLATION %s", w->result->failure);
}

/* The trace hash covers what happened (times, kinds, who, message types and lengths,
 * committed digests) but never signature bytes, which ECDSA randomises. */
void sim_hash_mix(sim_world *w, uint64_t value)
{
    uint64_t h = w->result->trace_hash ^ value;
    h *= 0x100000001b3u;
    w->result->trace_hash = h ^ (h >> 29);
}

/* Event queue: a binary min-heap on (time, seq) ---------------------------------------- */

static bool event_before(const sim_event *a, const sim_event *b)
{
    return a->time != b->time ? a->time < b->time : a->seq < b->seq;
}

static void queue_push(sim_world *w, sim_event event)
{
    sim_queue *q = &w->queue;
    if (q->count == q->capacity) {
        q->capacity = q->capacity == 0 ? 1024 : 2 * q->capacity;
        q->items = realloc(q->items, q->capacity * sizeof(*q->items));
        GOV_ASSERT(q->items != NULL);
    }
    event.seq = q->next_seq++;
    size_t i = q->count++;
    while (i > 0 && event_before(&event, &q->items[(i - 1) / 2])) {
        q->items[i] = q->items[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    q->items[i] = event;
}

static bool queue_pop(sim_world *w, sim_event *out)
{
    sim_queue *q = &w->queue;
    if (q->count == 0) {
        return false;
    }
    *out = q->items[0];
    sim_event last = q->items[--q->count];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= q->count) {
            break;
        }
        if (child + 1 < q->count && event_before(&q->items[child + 1], &q->items[child])) {
            child++;
        }
        if (!event_before(&q->items[child], &last)) {
            break;
        }
        q->items[i] = q->items[child];
        i = child;
    }
    if (q->count > 0) {
        q->items[i] = last;
    }
    return true;
}

static void schedule(sim_world *w, uint64_t time, sim_event_kind kind, uint32_t inst, uint64_t a)
{
    queue_push(w, (sim_event){.time = time, .kind = kind, .inst = inst, .a = a});
}

/* Clocks: a replica reads offset + t * (1 + ppm / 10^6) ---------------------------------- */

static uint64_t local_time(const sim_instance *inst, uint64_t t)
{
    int64_t skew = ((int64_t)t * inst->clock_ppm) / 1000000;
    return (uint64_t)(inst->clock_offset_ms + (int64_t)t + skew);
}

static uint64_t local_now(const sim_world *w, const sim_instance *inst)
{
    return local_time(inst, w->now);
}

/* The first global time at which the replica's clock reads at least `local`. */
static uint64_t global_time(const sim_world *w, const sim_instance *inst, uint64_t local)
{
    if (local <= local_now(w, inst)) {
        return w->now;
    }
    int64_t elapsed = (int64_t)local - inst->clock_offset_ms;
    uint64_t t = (uint64_t)(elapsed * 1000000 / (1000000 + inst->clock_ppm));
    t = t < w->now ? w->now : t;
    while (local_time(inst, t) < local) {
        t++;
    }
    return t;
}

/* Network ------------------------------------------------------------------------------ */

static bool linked(const sim_world *w, uint32_t a, uint32_t b)
{
    return (w->inst[a].reach >> b & 1) && (w->inst[b].reach >> a & 1) && w->blocked[a][b] == 0;
}

static void deliver_later(sim_world *w, uint32_t from, uint32_t to, const uint8_t *data, size_t len)
{
    uint32_t lo = w->healed ? 1 : w->mix->delay_min_ms;
    uint32_t hi = w->healed ? 20 : w->mix->delay_max_ms;
    sim_event event = {.time = w->now + sim_rng_range(&w->rng, lo, hi),
                       .kind = EV_DELIVER,
                       .inst = to,
                       .from = from,
                       .gen = w->inst[to].incarnation,
                       .len = len};
    event.data = malloc(len > 0 ? len : 1);
    GOV_ASSERT(event.data != NULL);
    if (len > 0) {
        memcpy(event.data, data, len);
    }
    queue_push(w, event);
}

void sim_net_send(sim_world *w, uint32_t from, uint32_t to, const uint8_t *data, size_t len)
{
    uint32_t index = w->inst[from].index;
    for (uint32_t b = 0; b < w->count; b++) {
        sim_instance *peer = &w->inst[b];
        if (peer->index == index || (to != GOV_PBFT_ALL && peer->index != to) || !peer->up ||
            !linked(w, from, b)) {
            continue;
        }
        if (!w->healed && sim_rng_chance(&w->rng, w->mix->drop_permille)) {
            continue;
        }
        deliver_later(w, from, b, data, len);
        if (!w->healed && sim_rng_chance(&w->rng, w->mix->dup_permille)) {
            deliver_later(w, from, b, data, len);
        }
    }
}

/* Replicas: opening, crashing, carrying out their outbox ------------------------------ */

static bool mempool_pending(const sim_world *w, const sim_instance *inst)
{
    for (uint64_t t = 1; t <= w->tx_count; t++) {
        if (inst->mempool[t] && !inst->committed[t]) {
            return true;
        }
    }
    return false;
}

static void apply_commit(sim_world *w, sim_instance *inst, const gov_pbft_commit *commit)
{
    sim_block block;
    sim_check_commit(w, inst, commit);
    if (w->stop) {
        return;
    }
    sim_ledger_append(&inst->ledger, &commit->digest, commit->block, commit->block_len,
                      &commit->cert);
    GOV_ASSERT(sim_block_decode(commit->block, commit->block_len, &block) == 0);
    for (uint32_t i = 0; i < block.txs_count; i++) {
        uint64_t tx = block.txs[i];
        if (tx >= 1 && tx <= w->tx_count && !inst->committed[tx]) {
            inst->committed[tx] = true;
            inst->committed_txs++;
        }
    }
    sim_hash_mix(w, commit->height);
    sim_hash_mix(w, commit->digest.bytes[0] | (uint64_t)commit->digest.bytes[1] << 8);
    sim_trace(w, "replica %u (instance %u) commits height %" PRIu64 " (%u txs, view %" PRIu64 ")",
              inst->index, inst->id, commit->height, block.txs_count, commit->cert.view);
}

static void store_durable(sim_instance *inst, const gov_buf *durable)
{
    free(inst->durable);
    inst->durable = malloc(durable->len > 0 ? durable->len : 1);
    GOV_ASSERT(inst->durable != NULL);
    if (durable->len > 0) {
        memcpy(inst->durable, durable->data, durable->len);
    }
    inst->durable_len = durable->len;
}

static void send_outgoing(sim_world *w, sim_instance *inst, const gov_pbft_outgoing *message)
{
    if (inst->role == SIM_HONEST) {
        sim_check_outgoing(w, inst, message->bytes.data, message->bytes.len);
        w->result->messages += message->to == GOV_PBFT_ALL ? w->n - 1 : 1;
    }
    sim_hash_mix(w, message->to);
    sim_hash_mix(w, message->bytes.len);
    if (inst->role == SIM_BYZANTINE) {
        sim_byz_send(w, inst, message->to, message->bytes.data, message->bytes.len);
    } else {
        sim_net_send(w, inst->id, message->to, message->bytes.data, message->bytes.len);
    }
}

static void start_validate(sim_world *w, sim_instance *inst, const gov_pbft_validate *validate)
{
    bool ok =
        sim_ledger_validate(&inst->ledger, validate->height, &validate->digest, validate->block,
                            validate->block_len, w->n, inst->committed, w->tx_count);
    sim_event event = {.time = w->now + sim_rng_range(&w->rng, 1, 20),
                       .kind = EV_VALIDATED,
                       .inst = inst->id,
                       .gen = inst->incarnation,
                       .a = validate->height,
                       .digest = validate->digest,
                       .ok = ok};
    queue_push(w, event);
}

static void serve(sim_world *w, sim_instance *inst, const gov_pbft_serve *request)
{
    gov_buf buf;
    gov_buf_init(&buf);
    for (uint64_t h = request->from; h < request->from + request->count; h++) {
        const sim_entry *entry = sim_ledger_at(&inst->ledger, h);
        if (entry == NULL) {
            break;
        }
        gov_buf_reset(&buf);
        GOV_ASSERT(gov_pbft_block_message_encode(h, entry->block, entry->block_len, &entry->cert,
                                                 &buf) == 0);
        gov_pbft_outgoing out = {.to = request->to, .bytes = buf};
        send_outgoing(w, inst, &out);
    }
    gov_buf_free(&buf);
}

/* A timer at or before the replica's clock asks for an immediate tick; a replica that
 * keeps asking without its clock moving would spin a real node's event loop. */
static void set_timer(sim_world *w, sim_instance *inst, uint64_t timer_ms)
{
    if (timer_ms <= local_now(w, inst)) {
        if (++inst->timer_spins > 100) {
            sim_fail(w,
                     "timer: replica %u asks to be ticked at %" PRIu64
                     " ms, not after its clock (%" PRIu64 " ms), 100 times in a row",
                     inst->index, timer_ms, local_now(w, inst));
            return;
        }
    } else {
        inst->timer_spins = 0;
    }
    inst->timer_gen++;
    sim_event event = {.time = global_time(w, inst, timer_ms),
                       .kind = EV_TIMER,
                       .inst = inst->id,
                       .gen = inst->timer_gen};
    queue_push(w, event);
}

static void crash(sim_world *w, sim_instance *inst, uint64_t restart_delay_ms);

static void trace_events(sim_world *w, const sim_instance *inst, const gov_pbft_ready *ready)
{
    for (size_t i = 0; i < ready->events_count; i++) {
        const gov_pbft_event *e = &ready->events[i];
        sim_trace(w, "replica %u (instance %u) event %d: %s", inst->index, inst->id, e->kind,
                  e->text);
    }
}

/* Carries out one ready in the header's order; true when the instance crashed in it
 * (between persisting and sending). */
static bool carry_out_once(sim_world *w, sim_instance *inst)
{
    gov_pbft_ready *ready = gov_pbft_ready_get(inst->pbft);
    for (size_t i = 0; i < ready->commits_count && !w->stop; i++) {
        apply_commit(w, inst, &ready->commits[i]);
    }
    if (ready->persist) {
        store_durable(inst, &ready->durable);
    }
    bool crash_now = inst->crash_armed && ready->persist;
    sim_hash_mix(w, ready->commits_count << 32 | ready->messages_count << 8 |
                        (uint64_t)ready->persist << 1 | crash_now);
    if (!crash_now) {
        for (size_t i = 0; i < ready->messages_count && !w->stop; i++) {
            send_outgoing(w, inst, &ready->messages[i]);
        }
        if (ready->validate.requested) {
            start_validate(w, inst, &ready->validate);
        }
        if (ready->build.requested) {
            queue_push(w, (sim_event){.time = w->now + sim_rng_range(&w->rng, 1, 20),
                                      .kind = EV_BUILT,
                                      .inst = inst->id,
                                      .gen = inst->incarnation,
                                      .a = ready->build.height});
        }
        for (size_t i = 0; i < ready->serves_count; i++) {
            serve(w, inst, &ready->serves[i]);
        }
        if (ready->timer_ms != 0) {
            set_timer(w, inst, ready->timer_ms);
        }
    }
    trace_events(w, inst, ready);
    sim_check_evidence(w, inst, ready);
    gov_pbft_ready_done(inst->pbft);
    if (crash_now) {
        sim_trace(w, "replica %u (instance %u) crashes after persisting, before sending",
                  inst->index, inst->id);
        crash(w, inst, 0);
        return true;
    }
    return false;
}

/* Carries out readies until the replica has nothing more to do, telling it whether the
 * mempool holds transactions whenever that changes. */
static void carry_out(sim_world *w, sim_instance *inst)
{
    while (inst->up && !w->stop) {
        if (carry_out_once(w, inst)) {
            return;
        }
        bool pending = mempool_pending(w, inst);
        if (pending == inst->told_pending || w->stop) {
            return;
        }
        inst->told_pending = pending;
        gov_pbft_set_pending(inst->pbft, pending, local_now(w, inst));
    }
}

static void open_replica(sim_world *w, sim_instance *inst)
{
    const sim_entry *head_entry = sim_ledger_at(&inst->ledger, inst->ledger.count);
    gov_pbft_head head = {.height = inst->ledger.count,
                          .digest = *sim_ledger_head_digest(&inst->ledger)};
    if (head_entry != NULL) {
        head.block = head_entry->block;
        head.block_len = head_entry->block_len;
        head.cert = &head_entry->cert;
    }
    gov_pbft_config config = {.validators = w->set,
                              .self = inst->index,
                              .key = w->keys->keys[inst->index],
                              .view_timeout_ms = SIM_VIEW_TIMEOUT_MS,
                              .view_timeout_max_ms = SIM_VIEW_TIMEOUT_CAP_MS,
                              .catch_up_blocks = 8};
    char why[160] = "";
    int rc = gov_pbft_open(&config, &head, inst->durable, inst->durable_len, local_now(w, inst),
                           &inst->pbft, why, sizeof(why));
    if (rc != 0) {
        sim_fail(w, "restart: replica %u (instance %u) does not open on its own state: %s (%s)",
                 inst->index, inst->id, why, gov_strerror(rc));
        return;
    }
    if (gov_pbft_height(inst->pbft) != inst->ledger.count) {
        sim_fail(w, "durability: replica %u reopened at height %" PRIu64 " on a ledger at %zu",
                 inst->index, gov_pbft_height(inst->pbft), inst->ledger.count);
        return;
    }
    inst->up = true;
    inst->told_pending = false;
    carry_out(w, inst);
}

static void add_stats(gov_pbft_stats *sum, const gov_pbft_stats *stats)
{
    sum->view_changes += stats->view_changes;
    sum->signatures += stats->signatures;
    sum->commits += stats->commits;
}

static void crash(sim_world *w, sim_instance *inst, uint64_t restart_delay_ms)
{
    add_stats(&inst->last_stats, gov_pbft_stats_get(inst->pbft));
    gov_pbft_free(inst->pbft);
    inst->pbft = NULL;
    inst->up = false;
    inst->crash_armed = false;
    inst->incarnation++;
    inst->timer_gen++;
    if (restart_delay_ms == 0) {
        restart_delay_ms = sim_rng_range(&w->rng, 100, 3000);
    }
    uint64_t at = w->now + restart_delay_ms;
    if (!w->healed && at > w->heal_ms) {
        at = w->heal_ms; /* the heal restarts it anyway */
    }
    schedule(w, at, EV_RESTART, inst->id, 0);
}

/* Events ------------------------------------------------------------------------------- */

static void on_deliver(sim_world *w, sim_instance *inst, const sim_event *e)
{
    if (!inst->up || e->gen != inst->incarnation) {
        return; /* the connection died with the crash */
    }
    sim_trace(w, "deliver %u -> %u (instance %u -> %u): %zu bytes, type %d", w->inst[e->from].index,
              inst->index, e->from, inst->id, e->len, e->len > 1 ? e->data[1] : -1);
    gov_pbft_receive(inst->pbft, w->inst[e->from].index, e->data, e->len, local_now(w, inst));
    carry_out(w, inst);
}

static void on_built(sim_world *w, sim_instance *inst, const sim_event *e)
{
    if (!inst->up || e->gen != inst->incarnation) {
        return;
    }
    sim_block block = {.height = e->a, .proposer = inst->index};
    block.parent = *sim_ledger_head_digest(&inst->ledger);
    for (uint64_t t = 1; t <= w->tx_count && block.txs_count < 4; t++) {
        if (inst->mempool[t] && !inst->committed[t]) {
            block.txs[block.txs_count++] = t;
        }
    }
    uint64_t local = local_now(w, inst);
    if (block.txs_count == 0 || e->a != inst->ledger.count + 1) {
        sim_trace(w, "replica %u builds nothing for height %" PRIu64, inst->index, e->a);
        gov_pbft_built(inst->pbft, e->a, NULL, NULL, 0, local);
    } else {
        gov_hash digest;
        GOV_ASSERT(sim_block_encode(&block, &w->scratch) == 0);
        sim_block_digest(w->scratch.data, w->scratch.len, &digest);
        sim_trace(w, "replica %u builds height %" PRIu64 " with %u txs", inst->index, e->a,
                  block.txs_count);
        gov_pbft_built(inst->pbft, e->a, &digest, w->scratch.data, w->scratch.len, local);
    }
    carry_out(w, inst);
}

static void on_partition(sim_world *w, const sim_event *e, int delta)
{
    if (w->healed) {
        return;
    }
    uint32_t from = w->partition_groups[e->a][0], to = w->partition_groups[e->a][1];
    for (uint32_t a = 0; a < w->count; a++) {
        for (uint32_t b = 0; b < w->count; b++) {
            bool cut = (from >> a & 1 && to >> b & 1) || (e->ok && to >> a & 1 && from >> b & 1);
            if (cut) {
                w->blocked[a][b] = (uint16_t)(w->blocked[a][b] + delta);
            }
        }
    }
    sim_trace(w, "%s %s partition %#x %s %#x", delta > 0 ? "start" : "heal",
              e->ok ? "symmetric" : "one-way", from, e->ok ? "<->" : "->", to);
}

static void on_heal(sim_world *w)
{
    w->healed = true;
    memset(w->blocked, 0, sizeof(w->blocked));
    sim_trace(w, "heal: partitions end, the network is clean, crashed replicas restart");
    for (uint32_t i = 0; i < w->count && !w->stop; i++) {
        w->inst[i].crash_armed = false;
        if (!w->inst[i].up) {
            open_replica(w, &w->inst[i]);
        }
    }
}

static void dispatch(sim_world *w, const sim_event *e)
{
    sim_instance *inst = &w->inst[e->inst];
    sim_hash_mix(w, e->time << 8 | e->kind);
    sim_hash_mix(w, (uint64_t)e->inst << 32 | e->from);
    switch (e->kind) {
    case EV_DELIVER:
        on_deliver(w, inst, e);
        break;
    case EV_TIMER:
        if (inst->up && e->gen == inst->timer_gen) {
            sim_trace(w, "replica %u (instance %u) tick at local %" PRIu64, inst->index, inst->id,
                      local_now(w, inst));
            gov_pbft_tick(inst->pbft, local_now(w, inst));
            carry_out(w, inst);
        }
        break;
    case EV_TX:
        inst->mempool[e->a] = true;
        carry_out(w, inst);
        break;
    case EV_VALIDATED:
        if (inst->up && e->gen == inst->incarnation) {
            gov_pbft_validated(inst->pbft, e->a, &e->digest, e->ok, local_now(w, inst));
            carry_out(w, inst);
        }
        break;
    case EV_BUILT:
        on_built(w, inst, e);
        break;
    case EV_CRASH:
        if (inst->up && !w->healed) {
            sim_trace(w, "replica %u (instance %u) crashes", inst->index, inst->id);
            crash(w, inst, e->a);
        }
        break;
    case EV_ARM_CRASH:
        if (inst->up && !w->healed) {
            inst->crash_armed = true;
        }
        break;
    case EV_RESTART:
        if (!inst->up) {
            sim_trace(w, "replica %u (instance %u) restarts", inst->index, inst->id);
            open_replica(w, inst);
        }
        break;
    case EV_PARTITION:
        on_partition(w, e, 1);
        break;
    case EV_UNPARTITION:
        on_partition(w, e, -1);
        break;
    case EV_HEAL:
        on_heal(w);
        break;
    }
}

/* Setup -------------------------------------------------------------------------------- */

static sim_instance *add_instance(sim_world *w, uint32_t index, sim_role role)
{
    GOV_ASSERT(w->count < SIM_INSTANCES_MAX);
    sim_instance *inst = &w->inst[w->count];
    memset(inst, 0, sizeof(*inst));
    inst->id = w->count++;
    inst->index = index;
    inst->role = role;
    inst->reach = UINT32_MAX;
    sim_ledger_init(&inst->ledger, &w->set->chain_id);
    return inst;
}

/* Splits the other instances between a twin pair: each reaches one of the two. */
static void split_twins(sim_world *w, sim_instance *a, sim_instance *b)
{
    for (uint32_t i = 0; i < w->count; i++) {
        if (w->inst[i].index == a->index) {
            continue;
        }
        sim_instance *cut = sim_rng_chance(&w->rng, 500) ? a : b;
        cut->reach &= ~(1u << i);
        w->inst[i].reach &= ~(1u << cut->id);
    }
}

/* Picks f distinct faulty validators (validator 0, view 0's primary, among them when
 * `with_primary`). */
static void pick_faulty(sim_world *w, bool faulty[SIM_VALIDATORS_MAX], bool with_primary)
{
    memset(faulty, 0, SIM_VALIDATORS_MAX * sizeof(bool));
    uint32_t picked = 0;
    if (with_primary && w->f > 0) {
        faulty[0] = true;
        picked = 1;
    }
    while (picked < w->f) {
        uint32_t v = (uint32_t)sim_rng_below(&w->rng, w->n);
        if (!faulty[v]) {
            faulty[v] = true;
            picked++;
        }
    }
}

static void setup_roles(sim_world *w)
{
    bool faulty[SIM_VALIDATORS_MAX];
    const sim_mix *mix = w->mix;
    pick_faulty(w, faulty, mix->byz == SIM_BYZ_EQUIVOCATE || sim_rng_chance(&w->rng, 300));
    sim_instance *twins[SIM_VALIDATORS_MAX] = {0};
    for (uint32_t v = 0; v < w->n; v++) {
        add_instance(w, v, SIM_HONEST);
    }
    for (uint32_t v = 0; v < w->n; v++) {
        sim_instance *inst = &w->inst[v];
        if (!faulty[v] || (mix->byz < 0 && !mix->twins)) {
            continue;
        }
        int kind = mix->byz;
        if (kind == SIM_BYZ_MIXED) { /* 0 (none) stands for twins here */
            kind = (int)sim_rng_below(&w->rng, SIM_BYZ_KINDS);
        } else if (kind < 0) {
            kind = SIM_BYZ_NONE;
        }
        if (kind == SIM_BYZ_NONE) {
            inst->role = SIM_TWIN;
            twins[v] = add_instance(w, v, SIM_TWIN);
        } else {
            inst->role = SIM_BYZANTINE;
            inst->byz = (sim_byz)kind;
        }
    }
    for (uint32_t v = 0; v < w->n; v++) {
        if (twins[v] != NULL && sim_rng_chance(&w->rng, 500)) {
            split_twins(w, &w->inst[v], twins[v]);
        }
    }
}

static void setup_partition(sim_world *w, uint32_t number)
{
    uint32_t all = (1u << w->count) - 1, a = 0;
    while (a == 0 || a == all) {
        a = (uint32_t)sim_rng_below(&w->rng, (uint64_t)all + 1);
    }
    w->partition_groups[number][0] = a;
    w->partition_groups[number][1] = all & ~a;
    uint64_t start = sim_rng_below(&w->rng, w->heal_ms);
    uint64_t end = start + sim_rng_range(&w->rng, 300, 4000);
    bool symmetric = sim_rng_chance(&w->rng, 500);
    queue_push(w, (sim_event){.time = start, .kind = EV_PARTITION, .a = number, .ok = symmetric});
    if (end < w->heal_ms) {
        queue_push(w,
                   (sim_event){.time = end, .kind = EV_UNPARTITION, .a = number, .ok = symmetric});
    }
}

static void setup_faults(sim_world *w)
{
    const sim_mix *mix = w->mix;
    bool network = mix->drop_permille || mix->dup_permille || mix->partitions || mix->crashes ||
                   mix->delay_max_ms > 50;
    w->heal_ms = network ? sim_rng_range(&w->rng, 2000, 8000) : 0;
    w->healed = w->heal_ms == 0;
    if (!w->healed) {
        schedule(w, w->heal_ms, EV_HEAL, 0, 0);
    }
    uint32_t partitions =
        mix->partitions ? (uint32_t)sim_rng_range(&w->rng, 1, mix->partitions) : 0;
    for (uint32_t p = 0; p < partitions; p++) {
        setup_partition(w, p);
    }
    uint32_t crashes = mix->crashes ? (uint32_t)sim_rng_range(&w->rng, 1, mix->crashes) : 0;
    for (uint32_t c = 0; c < crashes; c++) {
        uint32_t inst = (uint32_t)sim_rng_below(&w->rng, w->count);
        uint64_t at = sim_rng_below(&w->rng, w->heal_ms - 100);
        bool armed = sim_rng_chance(&w->rng, 400);
        schedule(w, at, armed ? EV_ARM_CRASH : EV_CRASH, inst, sim_rng_range(&w->rng, 100, 3000));
    }
    for (uint32_t i = 0; i < w->count && mix->drift; i++) {
        w->inst[i].clock_offset_ms = (int64_t)sim_rng_below(&w->rng, 5000);
        w->inst[i].clock_ppm = (int32_t)sim_rng_range(&w->rng, 0, 100000) - 50000;
    }
}

/* Clients: each transaction reaches every instance's mempool after its own delay. */
static void setup_transactions(sim_world *w)
{
    w->tx_count = sim_rng_range(&w->rng, 8, 24);
    uint64_t span = (w->heal_ms > 2000 ? w->heal_ms : 2000) + 1000;
    for (uint64_t t = 1; t <= w->tx_count; t++) {
        uint64_t at = sim_rng_below(&w->rng, span);
        for (uint32_t i = 0; i < w->count; i++) {
            uint64_t arrive = at + sim_rng_range(&w->rng, 1, 30);
            w->last_tx_ms = arrive > w->last_tx_ms ? arrive : w->last_tx_ms;
            schedule(w, arrive, EV_TX, i, t);
        }
    }
}

/* The checker's own test: n = 4 with validators 0 and 1 twinned (f + 1 = 2 faulty),
 * instances {0, 1, 2} and {0', 1', 3} unable to reach each other, and a different
 * transaction on each side. Each side holds a quorum (3 signers), so each commits its
 * own block at height 1 and the agreement checker must see honest 2 and 3 disagree. */
static void setup_self_test(sim_world *w)
{
    for (uint32_t v = 0; v < w->n; v++) {
        add_instance(w, v, v < 2 ? SIM_TWIN : SIM_HONEST);
    }
    add_instance(w, 0, SIM_TWIN);
    add_instance(w, 1, SIM_TWIN);
    uint32_t x = 1u << 0 | 1u << 1 | 1u << 2, y = 1u << 3 | 1u << 4 | 1u << 5;
    for (uint32_t i = 0; i < w->count; i++) {
        w->inst[i].reach = x >> i & 1 ? x : y;
    }
    w->tx_count = 2;
    for (uint32_t i = 0; i < w->count; i++) {
        schedule(w, 10 + i, EV_TX, i, x >> i & 1 ? 1 : 2);
    }
    w->last_tx_ms = 20;
    w->healed = true;
}

static void setup(sim_world *w, const sim_keys *keys, const sim_options *options,
                  sim_result *result)
{
    memset(w, 0, sizeof(*w));
    memset(result, 0, sizeof(*result));
    w->keys = keys;
    w->options = *options;
    w->result = result;
    sim_rng_seed(&w->rng, options->seed);
    w->n = options->self_test    ? 4
           : options->nodes != 0 ? options->nodes
                                 : sim_seed_nodes(options->seed);
    int mix = options->self_test  ? 0
              : options->mix >= 0 ? options->mix
                                  : sim_seed_mix(options->seed);
    w->mix = &MIXES[mix];
    w->f = gov_quorum_faults(w->n);
    w->set = sim_keys_set(keys, w->n);
    result->n = w->n;
    result->mix = options->self_test ? -1 : mix;
    result->trace_hash = 0xcbf29ce484222325u;
    gov_buf_init(&w->scratch);
    gov_buf_init(&w->alt_block);
    if (options->self_test) {
        setup_self_test(w);
    } else {
        setup_roles(w);
        setup_faults(w);
        setup_transactions(w);
    }
    for (uint32_t i = 0; i < w->count; i++) {
        w->inst[i].mempool = calloc(w->tx_count + 1, sizeof(bool));
        w->inst[i].committed = calloc(w->tx_count + 1, sizeof(bool));
        GOV_ASSERT(w->inst[i].mempool != NULL && w->inst[i].committed != NULL);
    }
}

/* Running ------------------------------------------------------------------------------ */

/* Liveness reached: healed, every honest instance up and holding every transaction. */
static bool all_committed(const sim_world *w)
{
    if (!w->healed || w->now < w->last_tx_ms) {
        return false;
    }
    for (uint32_t i = 0; i < w->count; i++) {
        const sim_instance *inst = &w->inst[i];
        if (inst->role == SIM_HONEST && (!inst->up || inst->committed_txs < w->tx_count)) {
            return false;
        }
    }
    return true;
}

static void report_stall(sim_world *w, uint64_t deadline)
{
    char detail[256] = "";
    size_t used = 0;
    for (uint32_t i = 0; i < w->count && used < sizeof(detail) - 48; i++) {
        const sim_instance *inst = &w->inst[i];
        if (inst->role == SIM_HONEST) {
            used += (size_t)snprintf(detail + used, sizeof(detail) - used,
                                     " r%u: %" PRIu64 "/%" PRIu64 " txs, h%zu, v%" PRIu64 ";",
                                     inst->index, inst->committed_txs, w->tx_count,
                                     inst->ledger.count, inst->up ? gov_pbft_view(inst->pbft) : 0);
        }
    }
    sim_fail(w,
             "liveness: not every transaction committed at every honest replica by %" PRIu64
             " ms (heal at %" PRIu64 " ms, bound %" PRIu64 " ms):%s",
             deadline, w->heal_ms, sim_liveness_bound_ms(w->n), detail);
}

static void run_events(sim_world *w)
{
    uint64_t start = w->heal_ms > w->last_tx_ms ? w->heal_ms : w->last_tx_ms;
    uint64_t deadline = w->options.self_test ? 60000 : start + sim_liveness_bound_ms(w->n);
    sim_event e;
    while (!w->stop && queue_pop(w, &e)) {
        if (e.time > deadline) {
            free(e.data);
            if (!w->options.self_test) {
                report_stall(w, deadline);
            }
            break;
        }
        w->now = e.time;
        w->result->events++;
        dispatch(w, &e);
        free(e.data);
        if (w->result->events > SIM_EVENTS_MAX) {
            sim_fail(w, "runaway: more than %d events", SIM_EVENTS_MAX);
        }
        if (!w->options.self_test && !w->stop && all_committed(w)) {
            w->result->recovery_ms = w->now - start;
            return;
        }
    }
    if (!w->stop && !w->options.self_test) {
        report_stall(w, deadline);
    }
}

static void collect(sim_world *w)
{
    uint64_t heights = UINT64_MAX;
    for (uint32_t i = 0; i < w->count; i++) {
        sim_instance *inst = &w->inst[i];
        if (inst->up) {
            add_stats(&inst->last_stats, gov_pbft_stats_get(inst->pbft));
        }
        if (inst->role == SIM_HONEST) {
            heights = inst->ledger.count < heights ? inst->ledger.count : heights;
            w->result->view_changes += inst->last_stats.view_changes;
            w->result->signatures += inst->last_stats.signatures;
        }
    }
    w->result->heights = heights == UINT64_MAX ? 0 : heights;
    w->result->end_ms = w->now;
    w->result->heal_ms = w->heal_ms;
}

static void teardown(sim_world *w)
{
    sim_event e;
    while (queue_pop(w, &e)) {
        free(e.data);
    }
    free(w->queue.items);
    for (uint32_t i = 0; i < w->count; i++) {
        sim_instance *inst = &w->inst[i];
        gov_pbft_free(inst->pbft);
        sim_ledger_free(&inst->ledger);
        free(inst->durable);
        free(inst->mempool);
        free(inst->committed);
    }
    sim_check_free(w);
    sim_byz_free(w);
    gov_buf_free(&w->scratch);
}

void sim_run(const sim_keys *keys, const sim_options *options, sim_result *out)
{
    sim_world *w = calloc(1, sizeof(*w));
    GOV_ASSERT(w != NULL);
    setup(w, keys, options, out);
    for (uint32_t i = 0; i < w->count && !w->stop; i++) {
        open_replica(w, &w->inst[i]);
    }
    run_events(w);
    collect(w);
    teardown(w);
    free(w);
}

/* Keys --------------------------------------------------------------------------------- */

int sim_keys_init(sim_keys *keys)
{
    memset(keys, 0, sizeof(*keys));
    for (uint32_t i = 0; i < SIM_VALIDATORS_MAX; i++) {
        uint8_t pub[GOV_PUBLIC_KEY_LEN];
        int rc = gov_private_key_generate(GOV_SUITE_P256_SHA256, &keys->keys[i]);
        if (rc != 0) {
            return rc;
        }
        gov_private_key_public(keys->keys[i], pub);
        rc = gov_public_key_parse(GOV_SUITE_P256_SHA256, pub, &keys->pubs[i]);
        if (rc != 0) {
            return rc;
        }
    }
    for (uint32_t s = 0; s < SIM_SIZES; s++) {
        char name[32];
        int len = snprintf(name, sizeof(name), "govchain-sim/n=%u", SIZES[s]);
        keys->caches[s] = gov_sig_cache_new(65536);
        if (keys->caches[s] == NULL) {
            return GOV_ENOMEM;
        }
        gov_validator_set *set = &keys->sets[s];
        set->suite = GOV_SUITE_P256_SHA256;
        gov_hash_bytes(GOV_SUITE_P256_SHA256, name, (size_t)len, &set->chain_id);
        set->count = SIZES[s];
        set->keys = keys->pubs;
        set->cache = keys->caches[s];
    }
    return 0;
}

void sim_keys_free(sim_keys *keys)
{
    for (uint32_t i = 0; i < SIM_VALIDATORS_MAX; i++) {
        gov_private_key_free(keys->keys[i]);
        gov_public_key_free(keys->pubs[i]);
    }
    for (uint32_t s = 0; s < SIM_SIZES; s++) {
        gov_sig_cache_free(keys->caches[s]);
    }
    memset(keys, 0, sizeof(*keys));
}

const gov_validator_set *sim_keys_set(const sim_keys *keys, uint32_t n)
{
    for (uint32_t s = 0; s < SIM_SIZES; s++) {
        if (SIZES[s] == n) {
            return &keys->sets[s];
        }
    }
    GOV_ASSERT(!"n is 4, 7 or 10");
    return NULL;
}
