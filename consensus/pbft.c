/*
 * The PBFT replica (include/govchain/pbft.h; rules in docs/consensus.md).
 *
 * One block in flight: the replica works on height h = committed + 1 only. Everything
 * it knows about h lives in the "slot" (proposals seen, the accepted PRE-PREPARE,
 * PREPAREs and COMMITs per validator, the best prepared certificate, and what it signed);
 * a commit clears the slot and moves to the next height.
 *
 * Every input ends in progress(), which re-derives what to do next from the state
 * (validate, prepare, commit, propose, start a new view, catch up). Inputs only record
 * facts; progress() acts on them. That keeps each rule in one place and makes inputs
 * idempotent: a duplicated message changes nothing.
 *
 * Design notes:
 * - Signing goes through sign_phase(), which refuses to sign a second digest for a
 *   (type, view, height) that the durable records already hold. The records are part of
 *   the persisted state, so this holds across restarts.
 * - COMMITs are counted across views: q COMMITs for (v, h, d) are a certificate whatever
 *   view this replica is in, and committing on one is safe (it is the proof).
 * - A view's NEW-VIEW is kept (not persisted) and sent to a replica that shows it is
 *   behind (a VIEW-CHANGE for an older view, or a REQUEST); a replica that restarts in a
 *   view above 0 re-enters it that way, or by the next view change.
 */
#include "govchain/pbft.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "govchain/assert.h"
#include "govchain/error.h"
#include "govchain/quorum.h"

enum {
    PROPOSALS_MAX = 4, /* blocks kept for the working height */
    FUTURE_MAX = 256,  /* messages kept for later (next height, view being entered) */
    STASH_MAX = 16,    /* catch-up blocks received ahead of order */
    DURABLE_VERSION = 1,
    DURABLE_FIELDS = 8,
    CATCH_UP_DEFAULT = 16,
    TIMEOUT_SHIFT_MAX = 20,
};

/* A digest this replica signed at the working height, per phase (the latest view). */
typedef struct {
    bool has;
    uint64_t view;
    gov_hash digest;
} record;

typedef enum { VALIDITY_UNKNOWN, VALIDITY_OK, VALIDITY_BAD } validity;

typedef struct {
    bool used;
    gov_hash digest;
    uint8_t *bytes;
    size_t len;
    validity valid;
} proposal;

typedef struct {
    bool has;
    uint64_t view;
    gov_hash digest;
    uint8_t signature[GOV_SIGNATURE_LEN];
} vote;

typedef struct {
    uint32_t from;
    uint8_t *bytes;
    size_t len;
} deferred;

struct gov_pbft {
    gov_pbft_config config;
    const gov_validator_set *set;
    uint32_t n, f, q;
    uint64_t now;

    /* View. */
    uint64_t view;
    bool active;                        /* false while changing view (waiting for NEW-VIEW) */
    uint64_t progress_view;             /* the view of the last commit: T(v) doubles from it */
    uint64_t view_deadline;             /* view timer, 0: not running */
    uint64_t resend_deadline;           /* re-send of our VIEW-CHANGE while inactive */
    gov_buf own_view_change;            /* encoded, for re-sending */
    gov_buf new_view_bytes;             /* the NEW-VIEW that started the current view */
    gov_pbft_view_change *view_changes; /* [n]: the latest from each validator */
    bool *has_view_change;              /* [n] */
    uint64_t *new_view_replied;         /* [n]: when we last sent one our NEW-VIEW */
    uint64_t *served_at;                /* [n]: when a VIEW-CHANGE of theirs last got blocks */

    /* Committed head. */
    uint64_t height;
    gov_hash head_digest;
    uint8_t *head_block;
    size_t head_block_len;
    bool has_head_cert;
    gov_commit_cert head_cert;

    /* The slot: height + 1. */
    proposal proposals[PROPOSALS_MAX];
    bool pp_has; /* a PRE-PREPARE of the current view */
    uint64_t pp_view;
    gov_hash pp_digest;
    uint8_t pp_signature[GOV_SIGNATURE_LEN];
    vote *prepares; /* [n], current view only */
    vote *commits;  /* [n], latest view per validator */
    record rec_pre_prepare, rec_prepare, rec_commit;
    bool has_pstar; /* the prepared certificate of the highest view */
    gov_prepared_cert pstar;
    bool has_cert; /* a commit certificate for height + 1 */
    gov_commit_cert cert;

    /* A NEW-VIEW's O for a height this replica had not reached when it entered the view:
     * taken up as the view's PRE-PREPARE once catch-up brings the replica there. */
    bool later_has;
    uint64_t later_view, later_height;
    gov_hash later_digest;
    uint8_t later_signature[GOV_SIGNATURE_LEN];
    uint8_t *later_block; /* owned */
    size_t later_block_len;

    /* Work with the ledger. */
    bool pending;
    bool building;
    uint64_t build_height;
    bool validating;
    uint64_t validating_height;
    gov_hash validating_digest;

    /* Catch-up. */
    uint64_t known_height;  /* the highest height a certificate proved to exist */
    uint64_t hinted_height; /* the highest height a signed vote said was decided */
    uint32_t catch_up_peer;
    uint64_t catch_up_deadline;
    uint64_t requested_to; /* last height of the outstanding request */
    uint64_t proposal_request_deadline;
    uint64_t new_view_request_deadline;
    gov_pbft_block *stash; /* [STASH_MAX] ahead-of-order catch-up blocks */

    deferred future[FUTURE_MAX];
    size_t future_count;

    gov_pbft_stats stats;
    gov_pbft_ready ready;
    uint8_t **garbage; /* blocks the ready still points at; freed by ready_done */
    size_t garbage_count, garbage_capacity;
};

/* Small helpers ---------------------------------------------------------------------- */

static uint32_t primary_of(const gov_pbft *r, uint64_t view)
{
    return (uint32_t)(view % r->n);
}

static bool is_primary(const gov_pbft *r)
{
    return primary_of(r, r->view) == r->config.self;
}

static void add_event(gov_pbft *r, gov_pbft_event_kind kind, uint32_t peer, const char *fmt,
                      va_list args) __attribute__((format(printf, 4, 0)));

static void add_event(gov_pbft *r, gov_pbft_event_kind kind, uint32_t peer, const char *fmt,
                      va_list args)
{
    if (r->ready.events_count >= GOV_PBFT_READY_EVENTS_MAX) {
        return; /* counted in the stats only */
    }
    gov_pbft_event *e = &r->ready.events[r->ready.events_count++];
    e->kind = kind;
    e->peer = peer;
    vsnprintf(e->text, sizeof(e->text), fmt, args);
}

static void event(gov_pbft *r, gov_pbft_event_kind kind, uint32_t peer, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void event(gov_pbft *r, gov_pbft_event_kind kind, uint32_t peer, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    add_event(r, kind, peer, fmt, args);
    va_end(args);
}

/* An input refused: counted, and described in the ready. */
static void drop(gov_pbft *r, uint32_t peer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void drop(gov_pbft *r, uint32_t peer, const char *fmt, ...)
{
    r->stats.dropped++;
    va_list args;
    va_start(args, fmt);
    add_event(r, GOV_PBFT_EVENT_DROPPED, peer, fmt, args);
    va_end(args);
}

static void keep_for_ready(gov_pbft *r, uint8_t *block)
{
    if (block == NULL) {
        return;
    }
    if (r->garbage_count == r->garbage_capacity) {
        size_t capacity = r->garbage_capacity == 0 ? 8 : r->garbage_capacity * 2;
        uint8_t **grown = realloc(r->garbage, capacity * sizeof(*grown));
        GOV_ASSERT(grown != NULL); /* a few pointers; out of memory here is fatal */
        r->garbage = grown;
        r->garbage_capacity = capacity;
    }
    r->garbage[r->garbage_count++] = block;
}

/* Queues an encoded message; takes the buffer. */
static void send_bytes(gov_pbft *r, uint32_t to, gov_buf *bytes)
{
    if (!gov_buf_ok(bytes) || r->ready.messages_count >= GOV_PBFT_READY_MESSAGES_MAX) {
        event(r, GOV_PBFT_EVENT_INFO, to, "outgoing message not queued (%s)",
              gov_buf_ok(bytes) ? "outbox full" : "out of memory");
        gov_buf_free(bytes);
        return;
    }
    gov_pbft_outgoing *out = &r->ready.messages[r->ready.messages_count++];
    out->to = to;
    out->bytes = *bytes;
    gov_buf_init(bytes);
}

static void send_copy(gov_pbft *r, uint32_t to, const gov_buf *bytes)
{
    gov_buf copy;
    gov_buf_init(&copy);
    gov_buf_append(&copy, bytes->data, bytes->len);
    send_bytes(r, to, &copy);
}

static void send_message(gov_pbft *r, uint32_t to, const gov_pbft_message *message)
{
    gov_buf bytes;
    gov_buf_init(&bytes);
    gov_pbft_message_encode(message, &bytes);
    send_bytes(r, to, &bytes);
}

static void mark_persist(gov_pbft *r)
{
    r->ready.persist = true;
}

static uint64_t view_timeout(const gov_pbft *r)
{
    uint64_t behind = r->view - r->progress_view;
    uint64_t shift = behind > TIMEOUT_SHIFT_MAX ? TIMEOUT_SHIFT_MAX : behind;
    uint64_t timeout = r->config.view_timeout_ms << shift;
    return timeout > r->config.view_timeout_max_ms ? r->config.view_timeout_max_ms : timeout;
}

/* Proposals -------------------------------------------------------------------------- */

static proposal *proposal_find(gov_pbft *r, const gov_hash *digest)
{
    for (int i = 0; i < PROPOSALS_MAX; i++) {
        if (r->proposals[i].used && gov_hash_equal(&r->proposals[i].digest, digest)) {
            return &r->proposals[i];
        }
    }
    return NULL;
}

/* Whether a proposal must be kept: it is the accepted PRE-PREPARE's, the best prepared
 * certificate's or the commit certificate's block. */
static bool proposal_needed(const gov_pbft *r, const proposal *p)
{
    return (r->pp_has && gov_hash_equal(&p->digest, &r->pp_digest)) ||
           (r->has_pstar && gov_hash_equal(&p->digest, &r->pstar.digest)) ||
           (r->has_cert && gov_hash_equal(&p->digest, &r->cert.digest));
}

/* Remembers block bytes under their claimed digest (the ledger's validation checks the
 * claim). Takes ownership of bytes. Returns NULL when no slot is free. */
static proposal *proposal_add(gov_pbft *r, const gov_hash *digest, uint8_t *bytes, size_t len)
{
    proposal *found = proposal_find(r, digest);
    if (found != NULL && found->valid == VALIDITY_BAD) {
        /* The digest is only claimed until the ledger checks it: bytes that failed may
         * have been a forgery under an honest digest, so another copy gets its chance. */
        keep_for_ready(r, found->bytes);
        found->bytes = bytes;
        found->len = len;
        found->valid = VALIDITY_UNKNOWN;
        return found;
    }
    if (found != NULL) {
        free(bytes);
        return found;
    }
    proposal *slot = NULL;
    for (int i = 0; i < PROPOSALS_MAX && slot == NULL; i++) {
        if (!r->proposals[i].used) {
            slot = &r->proposals[i];
        }
    }
    for (int i = 0; i < PROPOSALS_MAX && slot == NULL; i++) {
        if (!proposal_needed(r, &r->proposals[i])) {
            slot = &r->proposals[i];
            keep_for_ready(r, slot->bytes); /* a validate request may point at it */
        }
    }
    if (slot == NULL) {
        free(bytes);
        return NULL;
    }
    slot->used = true;
    slot->digest = *digest;
    slot->bytes = bytes;
    slot->len = len;
    slot->valid = VALIDITY_UNKNOWN;
    return slot;
}

static uint8_t *copy_bytes(const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len == 0 ? 1 : len);
    if (copy != NULL && len > 0) {
        memcpy(copy, data, len);
    }
    return copy;
}

/* Signing ---------------------------------------------------------------------------- */

static record *record_of(gov_pbft *r, gov_pbft_type type)
{
    switch (type) {
    case GOV_PBFT_PRE_PREPARE:
        return &r->rec_pre_prepare;
    case GOV_PBFT_PREPARE:
        return &r->rec_prepare;
    default:
        return &r->rec_commit;
    }
}

/* Signs PRE-PREPARE / PREPARE / COMMIT (view, height, digest) into message, unless this
 * replica already signed another digest for that (type, view, height). The record is
 * updated (and persisted by the ready) before the message can be sent. */
static bool sign_phase(gov_pbft *r, gov_pbft_type type, uint64_t view, uint64_t height,
                       const gov_hash *digest, gov_pbft_message *message)
{
    if (height == r->height + 1) {
        record *rec = record_of(r, type);
        if (rec->has && rec->view == view && !gov_hash_equal(&rec->digest, digest)) {
            event(r, GOV_PBFT_EVENT_INFO, GOV_PBFT_ALL,
                  "refused to sign a second %s digest for view %llu height %llu",
                  gov_pbft_type_name(type), (unsigned long long)view, (unsigned long long)height);
            return false;
        }
        if (rec->has && rec->view > view) {
            return false; /* views only go up; an older view's vote is never signed */
        }
        rec->has = true;
        rec->view = view;
        rec->digest = *digest;
        mark_persist(r);
    } else if (height <= r->height) {
        /* Only a NEW-VIEW's O may name a committed height; it must be the head. */
        if (height != r->height || !gov_hash_equal(digest, &r->head_digest)) {
            return false;
        }
    } else {
        return false;
    }
    memset(message, 0, sizeof(*message));
    message->type = type;
    message->body.phase.view = view;
    message->body.phase.height = height;
    message->body.phase.sender = r->config.self;
    message->body.phase.digest = *digest;
    if (gov_pbft_message_sign(message, r->config.key, &r->set->chain_id) != 0) {
        event(r, GOV_PBFT_EVENT_INFO, GOV_PBFT_ALL, "signing a %s failed",
              gov_pbft_type_name(type));
        return false;
    }
    r->stats.signatures++;
    return true;
}

/* Durable state ---------------------------------------------------------------------- */

static void encode_record(const record *rec, gov_buf *out)
{
    if (!rec->has) {
        gov_enc_nil(out);
        return;
    }
    gov_enc_array(out, 2);
    gov_enc_uint(out, rec->view);
    gov_enc_bin(out, rec->digest.bytes, GOV_HASH_LEN);
}

static bool decode_record(gov_dec *dec, const char *field, record *rec)
{
    memset(rec, 0, sizeof(*rec));
    if (gov_dec_nil(dec)) {
        return gov_dec_ok(dec);
    }
    rec->has = true;
    return gov_dec_array(dec, field, 2) &&
           gov_dec_uint(dec, "view", GOV_PBFT_VIEW_MAX, &rec->view) &&
           gov_dec_bin_fixed(dec, "digest", rec->digest.bytes, GOV_HASH_LEN) && gov_dec_leave(dec);
}

/* [version, view, height, pre_prepare, prepare, commit, pstar | nil, [[digest, block]...]]
 * where height is the working height the records are for. The blocks are those of the
 * accepted PRE-PREPARE and of pstar, so that a new primary can re-propose the block its
 * prepared certificate names even after every holder restarted. */
static void encode_durable(gov_pbft *r, gov_buf *out)
{
    gov_buf_reset(out);
    gov_enc_array(out, DURABLE_FIELDS);
    gov_enc_uint(out, DURABLE_VERSION);
    gov_enc_uint(out, r->view);
    gov_enc_uint(out, r->height + 1);
    encode_record(&r->rec_pre_prepare, out);
    encode_record(&r->rec_prepare, out);
    encode_record(&r->rec_commit, out);
    if (r->has_pstar) {
        gov_prepared_cert_encode_into(&r->pstar, out);
    } else {
        gov_enc_nil(out);
    }
    const proposal *keep[2] = {NULL, NULL};
    uint32_t count = 0;
    if (r->pp_has) {
        keep[count] = proposal_find(r, &r->pp_digest);
        count += keep[count] != NULL;
    }
    if (r->has_pstar && !(r->pp_has && gov_hash_equal(&r->pp_digest, &r->pstar.digest))) {
        keep[count] = proposal_find(r, &r->pstar.digest);
        count += keep[count] != NULL;
    }
    gov_enc_array(out, count);
    for (uint32_t i = 0; i < count; i++) {
        gov_enc_array(out, 2);
        gov_enc_bin(out, keep[i]->digest.bytes, GOV_HASH_LEN);
        gov_enc_bin(out, keep[i]->bytes, keep[i]->len);
    }
}

static int decode_durable(gov_pbft *r, const uint8_t *data, size_t len, char *why, size_t why_len)
{
    gov_dec dec;
    uint64_t version = 0, view = 0, height = 0;
    record pre_prepare, prepare, commit;
    bool has_pstar = false;
    uint32_t blocks = 0;
    gov_dec_begin(&dec, data, len, 2 * (size_t)GOV_BLOCK_BYTES_MAX + 64 * 1024,
                  64 + GOV_CERT_VALUES_MAX, why, why_len);
    if (gov_dec_array(&dec, "durable", DURABLE_FIELDS) &&
        gov_dec_uint(&dec, "version", DURABLE_VERSION, &version) &&
        gov_dec_uint(&dec, "view", GOV_PBFT_VIEW_MAX, &view) &&
        gov_dec_uint(&dec, "height", UINT64_MAX - 1, &height) &&
        decode_record(&dec, "pre_prepare", &pre_prepare) &&
        decode_record(&dec, "prepare", &prepare) && decode_record(&dec, "commit", &commit)) {
        has_pstar = !gov_dec_nil(&dec);
        if (!has_pstar || gov_prepared_cert_decode_from(&dec, &r->pstar)) {
            gov_dec_array_max(&dec, "blocks", 2, &blocks);
        }
    }
    uint8_t *bytes[2] = {NULL, NULL};
    size_t lens[2] = {0, 0};
    gov_hash digests[2];
    for (uint32_t i = 0; i < blocks && gov_dec_ok(&dec); i++) {
        if (gov_dec_array(&dec, "block", 2) &&
            gov_dec_bin_fixed(&dec, "digest", digests[i].bytes, GOV_HASH_LEN) &&
            gov_dec_bin(&dec, "bytes", GOV_BLOCK_BYTES_MAX, &bytes[i], &lens[i])) {
            gov_dec_leave(&dec);
        }
    }
    if (gov_dec_ok(&dec)) {
        gov_dec_leave(&dec); /* blocks */
        gov_dec_leave(&dec); /* durable */
    }
    if (gov_dec_ok(&dec) && version != DURABLE_VERSION) {
        gov_dec_reject(&dec, GOV_EDECODE, "version", "unknown durable state version");
    }
    int rc = gov_dec_finish(&dec);
    if (rc != 0) {
        free(bytes[0]);
        free(bytes[1]);
        memset(&r->pstar, 0, sizeof(r->pstar));
        return rc;
    }
    r->view = view;
    if (height != r->height + 1) {
        /* The records are for a height the ledger has since committed: moot. */
        free(bytes[0]);
        free(bytes[1]);
        memset(&r->pstar, 0, sizeof(r->pstar));
        return 0;
    }
    r->rec_pre_prepare = pre_prepare;
    r->rec_prepare = prepare;
    r->rec_commit = commit;
    r->has_pstar = has_pstar && r->pstar.height == height;
    for (uint32_t i = 0; i < blocks; i++) {
        if (bytes[i] != NULL && proposal_add(r, &digests[i], bytes[i], lens[i]) == NULL) {
            GOV_ASSERT(false); /* two blocks always fit in PROPOSALS_MAX slots */
        }
    }
    return 0;
}

/* Opening and closing ---------------------------------------------------------------- */

static void slot_clear(gov_pbft *r)
{
    for (int i = 0; i < PROPOSALS_MAX; i++) {
        if (r->proposals[i].used) {
            keep_for_ready(r, r->proposals[i].bytes);
        }
    }
    memset(r->proposals, 0, sizeof(r->proposals));
    r->pp_has = false;
    memset(r->prepares, 0, r->n * sizeof(*r->prepares));
    memset(r->commits, 0, r->n * sizeof(*r->commits));
    memset(&r->rec_pre_prepare, 0, sizeof(record));
    memset(&r->rec_prepare, 0, sizeof(record));
    memset(&r->rec_commit, 0, sizeof(record));
    r->has_pstar = false;
    r->has_cert = false;
    r->building = false;
}

void gov_pbft_free(gov_pbft *r)
{
    if (r == NULL) {
        return;
    }
    gov_pbft_ready_done(r);
    for (int i = 0; i < PROPOSALS_MAX; i++) {
        free(r->proposals[i].bytes);
    }
    for (size_t i = 0; i < r->future_count; i++) {
        free(r->future[i].bytes);
    }
    if (r->stash != NULL) {
        for (int i = 0; i < STASH_MAX; i++) {
            free(r->stash[i].block);
        }
    }
    free(r->stash);
    free(r->later_block);
    free(r->head_block);
    free(r->garbage);
    free(r->view_changes);
    free(r->has_view_change);
    free(r->new_view_replied);
    free(r->served_at);
    free(r->prepares);
    free(r->commits);
    gov_buf_free(&r->own_view_change);
    gov_buf_free(&r->new_view_bytes);
    gov_buf_free(&r->ready.durable);
    free(r);
}

static void start_view_change(gov_pbft *r, uint64_t new_view);
static void progress(gov_pbft *r);

int gov_pbft_open(const gov_pbft_config *config, const gov_pbft_head *head, const uint8_t *durable,
                  size_t durable_len, uint64_t now_ms, gov_pbft **out, char *why, size_t why_len)
{
    *out = NULL;
    const gov_validator_set *set = config->validators;
    if (set == NULL || set->count < GOV_VALIDATORS_MIN || set->count > GOV_VALIDATORS_MAX ||
        config->self >= set->count || config->key == NULL) {
        return gov_fail(why, why_len, GOV_EINVAL, "replica %u of a set of %u validators",
                        config->self, set == NULL ? 0 : set->count);
    }
    if (config->view_timeout_ms == 0 || config->view_timeout_max_ms < config->view_timeout_ms) {
        return gov_fail(why, why_len, GOV_EINVAL, "view timeout must be > 0 and <= its cap");
    }
    if (head->height > 0 && (head->cert == NULL || head->block == NULL || head->block_len == 0 ||
                             head->cert->height != head->height ||
                             !gov_hash_equal(&head->cert->digest, &head->digest))) {
        return gov_fail(why, why_len, GOV_EINVAL,
                        "the head (height %llu) needs its block and its certificate",
                        (unsigned long long)head->height);
    }
    gov_pbft *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
    }
    r->config = *config;
    if (r->config.catch_up_blocks == 0) {
        r->config.catch_up_blocks = CATCH_UP_DEFAULT;
    }
    if (r->config.catch_up_blocks > STASH_MAX) {
        r->config.catch_up_blocks = STASH_MAX;
    }
    r->set = set;
    r->n = set->count;
    r->f = gov_quorum_faults(r->n);
    r->q = gov_quorum_size(r->n);
    r->now = now_ms;
    gov_buf_init(&r->own_view_change);
    gov_buf_init(&r->new_view_bytes);
    gov_buf_init(&r->ready.durable);
    r->view_changes = calloc(r->n, sizeof(*r->view_changes));
    r->has_view_change = calloc(r->n, sizeof(*r->has_view_change));
    r->new_view_replied = calloc(r->n, sizeof(*r->new_view_replied));
    r->served_at = calloc(r->n, sizeof(*r->served_at));
    r->prepares = calloc(r->n, sizeof(*r->prepares));
    r->commits = calloc(r->n, sizeof(*r->commits));
    r->stash = calloc(STASH_MAX, sizeof(*r->stash));
    if (r->view_changes == NULL || r->has_view_change == NULL || r->new_view_replied == NULL ||
        r->prepares == NULL || r->commits == NULL || r->stash == NULL || r->served_at == NULL) {
        gov_pbft_free(r);
        return gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
    }
    r->height = head->height;
    r->head_digest = head->digest;
    r->known_height = head->height;
    if (head->height > 0) {
        r->head_block = copy_bytes(head->block, head->block_len);
        r->head_block_len = head->block_len;
        r->has_head_cert = true;
        r->head_cert = *head->cert;
        if (r->head_block == NULL) {
            gov_pbft_free(r);
            return gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
        }
    }
    if (durable != NULL && durable_len > 0) {
        int rc = decode_durable(r, durable, durable_len, why, why_len);
        if (rc != 0) {
            gov_pbft_free(r);
            return rc;
        }
    }
    r->progress_view = r->view;
    r->catch_up_peer = (config->self + 1) % r->n;
    if (r->view == 0) {
        r->active = true;
    } else {
        /* Re-enter the view through its NEW-VIEW (peers answer our VIEW-CHANGE with it)
         * or move on by a view change: we cannot prove we had entered it. */
        uint64_t view = r->view;
        r->view = view - 1;
        start_view_change(r, view);
    }
    /* Ask everyone for blocks past our head: after a restart the others may be ahead,
     * and nothing else would tell an idle replica. */
    gov_pbft_message request = {.type = GOV_PBFT_REQUEST};
    request.body.request.kind = GOV_PBFT_REQUEST_BLOCKS;
    request.body.request.height = r->height + 1;
    send_message(r, GOV_PBFT_ALL, &request);
    r->requested_to = r->height + r->config.catch_up_blocks;
    r->catch_up_deadline = r->now + r->config.view_timeout_ms;
    progress(r);
    *out = r;
    return 0;
}

/* Committing ------------------------------------------------------------------------- */

static void deferred_replay(gov_pbft *r);

/* Commits the slot's proposal p with the certificate r->cert. */
static void commit(gov_pbft *r, proposal *p)
{
    if (r->ready.commits_count >= GOV_PBFT_READY_COMMITS_MAX) {
        return; /* the ready is full; the next input continues */
    }
    gov_pbft_commit *c = &r->ready.commits[r->ready.commits_count++];
    c->height = r->height + 1;
    c->digest = p->digest;
    c->block = p->bytes;
    c->block_len = p->len;
    c->cert = r->cert;

    keep_for_ready(r, r->head_block);
    r->head_block = p->bytes;
    r->head_block_len = p->len;
    p->used = false;
    p->bytes = NULL;
    r->head_digest = c->digest;
    r->head_cert = r->cert;
    r->has_head_cert = true;
    r->height++;
    if (r->known_height < r->height) {
        r->known_height = r->height;
    }
    slot_clear(r);
    r->stats.commits++;
    r->progress_view = r->view;
    r->view_deadline = r->pending ? r->now + view_timeout(r) : 0;
    mark_persist(r);
    deferred_replay(r);
}

/* Catch-up --------------------------------------------------------------------------- */

static void request_blocks(gov_pbft *r, uint32_t peer)
{
    if (peer == r->config.self) {
        peer = (peer + 1) % r->n;
    }
    gov_pbft_message request = {.type = GOV_PBFT_REQUEST};
    request.body.request.kind = GOV_PBFT_REQUEST_BLOCKS;
    request.body.request.height = r->height + 1;
    send_message(r, peer, &request);
    r->catch_up_peer = peer;
    r->catch_up_deadline = r->now + r->config.view_timeout_ms;
    r->requested_to = r->height + r->config.catch_up_blocks;
    r->stats.catch_up_requests++;
    event(r, GOV_PBFT_EVENT_CATCH_UP, peer, "asked validator %u for blocks from %llu", peer,
          (unsigned long long)(r->height + 1));
}

/* A peer proved (by a certificate) that `height` is committed. */
static void learn_height(gov_pbft *r, uint64_t height, uint32_t peer)
{
    if (height > r->known_height) {
        r->known_height = height;
        if (r->catch_up_deadline <= r->now) {
            request_blocks(r, peer);
        }
    }
}

/* Asks the driver to send committed blocks from `height` on to a peer. */
static void serve(gov_pbft *r, uint32_t to, uint64_t height)
{
    if (to >= r->n || to == r->config.self || height < 1 || height > r->height ||
        r->ready.serves_count >= GOV_PBFT_READY_SERVES_MAX) {
        return;
    }
    uint64_t available = r->height - height + 1;
    gov_pbft_serve *s = &r->ready.serves[r->ready.serves_count++];
    s->to = to;
    s->from = height;
    s->count =
        available < r->config.catch_up_blocks ? (uint32_t)available : r->config.catch_up_blocks;
}

static void stash_take(gov_pbft *r);

static void on_block(gov_pbft *r, uint32_t from, gov_pbft_block *block)
{
    if (block->height <= r->height) {
        return; /* already have it: a duplicate or a late answer */
    }
    if (block->height > r->height + STASH_MAX) {
        drop(r, from, "catch-up block %llu is too far ahead of %llu",
             (unsigned long long)block->height, (unsigned long long)r->height);
        return;
    }
    char why[160];
    if (gov_commit_cert_verify(&block->cert, r->set, why, sizeof(why)) != 0) {
        drop(r, from, "catch-up block %llu: %s", (unsigned long long)block->height, why);
        return;
    }
    if (block->height > r->height + 1) {
        gov_pbft_block *stashed = &r->stash[block->height % STASH_MAX];
        free(stashed->block);
        *stashed = *block;
        block->block = NULL; /* taken */
        learn_height(r, block->height, from);
        return;
    }
    if (!r->has_cert) {
        r->has_cert = true;
        r->cert = block->cert;
    }
    if (proposal_add(r, &block->cert.digest, block->block, block->block_len) == NULL) {
        drop(r, from, "catch-up block %llu: no room", (unsigned long long)block->height);
    }
    block->block = NULL;
    if (r->known_height < block->height) {
        r->known_height = block->height;
    }
}

/* Moves a stashed catch-up block for the new working height into the slot. */
static void stash_take(gov_pbft *r)
{
    gov_pbft_block *stashed = &r->stash[(r->height + 1) % STASH_MAX];
    if (stashed->block == NULL) {
        return;
    }
    gov_pbft_block block = *stashed;
    memset(stashed, 0, sizeof(*stashed));
    if (block.height == r->height + 1) {
        on_block(r, GOV_PBFT_ALL, &block);
    }
    free(block.block);
}

/* View changes ----------------------------------------------------------------------- */

static bool view_change_valid(gov_pbft *r, const gov_pbft_view_change *vc, char *why,
                              size_t why_len)
{
    if (vc->has_commit_cert &&
        gov_commit_cert_verify(&vc->commit_cert, r->set, why, why_len) != 0) {
        return false;
    }
    if (vc->has_prepared_cert &&
        gov_prepared_cert_verify(&vc->prepared_cert, r->set, why, why_len) != 0) {
        return false;
    }
    return true;
}

static void start_view_change(gov_pbft *r, uint64_t new_view)
{
    GOV_ASSERT(new_view > r->view || !r->active);
    r->view = new_view;
    r->active = false;
    r->pp_has = false;
    memset(r->prepares, 0, r->n * sizeof(*r->prepares));
    gov_buf_reset(&r->new_view_bytes);
    r->view_deadline = 0; /* starts once a quorum of VIEW-CHANGEs is in */
    r->stats.view_changes++;
    mark_persist(r);

    gov_pbft_message message = {.type = GOV_PBFT_VIEW_CHANGE};
    gov_pbft_view_change *vc = &message.body.view_change;
    vc->new_view = new_view;
    vc->sender = r->config.self;
    vc->committed_height = r->height;
    vc->has_commit_cert = r->has_head_cert;
    if (r->has_head_cert) {
        vc->commit_cert = r->head_cert;
    }
    vc->has_prepared_cert = r->has_pstar && r->pstar.view < new_view;
    if (vc->has_prepared_cert) {
        vc->prepared_cert = r->pstar;
    }
    gov_buf_reset(&r->own_view_change);
    if (gov_pbft_message_sign(&message, r->config.key, &r->set->chain_id) != 0 ||
        gov_pbft_message_encode(&message, &r->own_view_change) != 0) {
        event(r, GOV_PBFT_EVENT_INFO, GOV_PBFT_ALL, "could not sign a view-change");
        gov_buf_reset(&r->own_view_change);
    } else {
        r->stats.signatures++;
        r->view_changes[r->config.self] = *vc;
        r->has_view_change[r->config.self] = true;
        send_copy(r, GOV_PBFT_ALL, &r->own_view_change);
    }
    r->resend_deadline = r->now + r->config.view_timeout_ms;
    event(r, GOV_PBFT_EVENT_VIEW_CHANGE, GOV_PBFT_ALL, "view change to %llu at height %llu",
          (unsigned long long)new_view, (unsigned long long)r->height);
}

/* The outcome of steps 1-2 of a new view (PBFT.md): the highest committed height among
 * the VIEW-CHANGEs, and the prepared certificate of the highest view for the height after
 * it, if any. */
typedef struct {
    uint64_t max_height;
    const gov_prepared_cert *chosen;
} new_view_choice;

static new_view_choice choose(const gov_pbft_view_change *const *vcs, uint32_t count)
{
    new_view_choice choice = {0, NULL};
    for (uint32_t i = 0; i < count; i++) {
        if (vcs[i]->committed_height > choice.max_height) {
            choice.max_height = vcs[i]->committed_height;
        }
    }
    for (uint32_t i = 0; i < count; i++) {
        const gov_prepared_cert *p = &vcs[i]->prepared_cert;
        if (vcs[i]->has_prepared_cert && p->height == choice.max_height + 1 &&
            (choice.chosen == NULL || p->view > choice.chosen->view)) {
            choice.chosen = p;
        }
    }
    return choice;
}

/* Enters r->view with a pre-prepare O (or none) for height o_height. */
static void enter_view(gov_pbft *r, const gov_pbft_phase *o)
{
    r->active = true;
    r->stats.new_views++;
    r->pp_has = false;
    if (o != NULL && o->height == r->height + 1) {
        r->pp_has = true;
        r->pp_view = r->view;
        r->pp_digest = o->digest;
        memcpy(r->pp_signature, o->signature, GOV_SIGNATURE_LEN);
    }
    r->view_deadline = r->now + view_timeout(r);
    event(r, GOV_PBFT_EVENT_NEW_VIEW, primary_of(r, r->view), "view %llu started, primary %u",
          (unsigned long long)r->view, primary_of(r, r->view));
    deferred_replay(r);
}

static void request_proposal(gov_pbft *r, const gov_prepared_cert *chosen)
{
    if (r->proposal_request_deadline > r->now) {
        return;
    }
    r->proposal_request_deadline = r->now + r->config.view_timeout_ms / 2 + 1;
    gov_pbft_message request = {.type = GOV_PBFT_REQUEST};
    request.body.request.kind = GOV_PBFT_REQUEST_PROPOSAL;
    request.body.request.height = chosen->height;
    request.body.request.has_digest = true;
    request.body.request.digest = chosen->digest;
    for (uint32_t i = 0; i < r->n; i++) {
        if (i != r->config.self && r->has_view_change[i] &&
            r->view_changes[i].new_view == r->view && r->view_changes[i].has_prepared_cert &&
            gov_hash_equal(&r->view_changes[i].prepared_cert.digest, &chosen->digest)) {
            send_message(r, i, &request);
        }
    }
}

static void request_validation(gov_pbft *r, const proposal *p);

/* As primary of r->view with a quorum of VIEW-CHANGEs for it: sends NEW-VIEW. */
static void try_new_view(gov_pbft *r)
{
    const gov_pbft_view_change *vcs[GOV_VALIDATORS_MAX];
    uint32_t count = 0;
    for (uint32_t i = 0; i < r->n; i++) {
        if (r->has_view_change[i] && r->view_changes[i].new_view == r->view) {
            vcs[count++] = &r->view_changes[i];
        }
    }
    if (count < r->q || !r->has_view_change[r->config.self] ||
        r->view_changes[r->config.self].new_view != r->view) {
        return;
    }
    new_view_choice choice = choose(vcs, count);
    if (r->height < choice.max_height) {
        return; /* catch up first; learn_height was told by the VIEW-CHANGE */
    }
    gov_pbft_message message = {.type = GOV_PBFT_NEW_VIEW};
    gov_pbft_new_view *nv = &message.body.new_view;
    nv->view = r->view;
    nv->sender = r->config.self;
    nv->view_changes_count = count;
    nv->view_changes = calloc(count, sizeof(*nv->view_changes));
    if (nv->view_changes == NULL) {
        return;
    }
    for (uint32_t i = 0; i < count; i++) {
        nv->view_changes[i] = *vcs[i];
    }
    gov_pbft_message o;
    memset(&o, 0, sizeof(o));
    if (choice.chosen != NULL) {
        uint64_t o_height = choice.max_height + 1;
        const uint8_t *bytes = NULL;
        size_t len = 0;
        if (o_height == r->height + 1) {
            proposal *p = proposal_find(r, &choice.chosen->digest);
            if (p != NULL && p->valid == VALIDITY_UNKNOWN) {
                /* Bytes a peer sent for this digest are only claimed to be the block: the
                 * ledger checks them before this replica proposes them. */
                request_validation(r, p);
                gov_pbft_message_clear(&message);
                return;
            }
            if (p != NULL && p->valid == VALIDITY_OK) {
                bytes = p->bytes;
                len = p->len;
            }
        } else if (o_height == r->height &&
                   gov_hash_equal(&choice.chosen->digest, &r->head_digest)) {
            bytes = r->head_block;
            len = r->head_block_len;
        }
        if (bytes == NULL) {
            if (o_height == r->height + 1) {
                request_proposal(r, choice.chosen);
            }
            gov_pbft_message_clear(&message);
            return;
        }
        if (!sign_phase(r, GOV_PBFT_PRE_PREPARE, r->view, o_height, &choice.chosen->digest, &o)) {
            gov_pbft_message_clear(&message);
            return;
        }
        o.body.phase.block = copy_bytes(bytes, len);
        o.body.phase.block_len = len;
        nv->pre_prepare = malloc(sizeof(*nv->pre_prepare));
        if (o.body.phase.block == NULL || nv->pre_prepare == NULL) {
            gov_pbft_message_clear(&o);
            gov_pbft_message_clear(&message);
            return;
        }
        *nv->pre_prepare = o;
    }
    gov_buf_reset(&r->new_view_bytes);
    if (gov_pbft_message_sign(&message, r->config.key, &r->set->chain_id) != 0 ||
        gov_pbft_message_encode(&message, &r->new_view_bytes) != 0) {
        gov_buf_reset(&r->new_view_bytes);
        gov_pbft_message_clear(&message);
        return;
    }
    r->stats.signatures++;
    mark_persist(r);
    send_copy(r, GOV_PBFT_ALL, &r->new_view_bytes);
    enter_view(r, nv->pre_prepare != NULL ? &nv->pre_prepare->body.phase : NULL);
    gov_pbft_message_clear(&message);
}

/* The f + 1 rule, the new-view timer and the primary's NEW-VIEW. */
static void view_change_progress(gov_pbft *r)
{
    /* f + 1 VIEW-CHANGEs for views above ours: join the smallest of them. */
    uint32_t above = 0;
    uint64_t smallest = UINT64_MAX;
    for (uint32_t i = 0; i < r->n; i++) {
        if (i != r->config.self && r->has_view_change[i] && r->view_changes[i].new_view > r->view) {
            above++;
            if (r->view_changes[i].new_view < smallest) {
                smallest = r->view_changes[i].new_view;
            }
        }
    }
    if (above >= r->f + 1) {
        start_view_change(r, smallest);
    }
    if (r->active) {
        return;
    }
    /* The timer for a new view starts once a quorum wants this view or a later one: a
     * replica that has moved further has given up on this view too, and waiting for
     * exactly-this-view messages that will never come again would stall. */
    uint32_t for_view = 0, for_view_or_later = 0;
    for (uint32_t i = 0; i < r->n; i++) {
        for_view += r->has_view_change[i] && r->view_changes[i].new_view == r->view;
        for_view_or_later += r->has_view_change[i] && r->view_changes[i].new_view >= r->view;
    }
    if (for_view_or_later >= r->q && r->view_deadline == 0) {
        r->view_deadline = r->now + view_timeout(r);
    }
    if (for_view >= r->q && is_primary(r)) {
        try_new_view(r);
    }
}

static void on_view_change(gov_pbft *r, uint32_t from, gov_pbft_message *message)
{
    gov_pbft_view_change *vc = &message->body.view_change;
    if (vc->new_view == 0) {
        drop(r, from, "view-change to view 0");
        return;
    }
    if (vc->committed_height < r->height && from == vc->sender &&
        r->served_at[from] + r->config.view_timeout_ms <= r->now &&
        gov_pbft_message_signature_valid(message, r->set)) {
        /* A view change often means the sender missed commits: send it the blocks, once
         * per view timeout (its VIEW-CHANGE is re-sent that often), and only for its own,
         * signed one: nobody can make us send blocks to a third party. */
        r->served_at[from] = r->now;
        serve(r, from, vc->committed_height + 1);
    }
    if (vc->new_view < r->view || (vc->new_view == r->view && r->active)) {
        /* The sender is behind (or re-entering our view after a restart): show it how
         * the current view started. Rate-limited per validator. */
        if (r->active && r->new_view_bytes.len > 0 && vc->sender != r->config.self &&
            r->new_view_replied[vc->sender] + r->config.view_timeout_ms <= r->now &&
            gov_pbft_message_signature_valid(message, r->set)) {
            r->new_view_replied[vc->sender] = r->now;
            send_copy(r, vc->sender, &r->new_view_bytes);
        }
        return;
    }
    if (r->has_view_change[vc->sender] && r->view_changes[vc->sender].new_view >= vc->new_view) {
        return; /* nothing newer */
    }
    if (!gov_pbft_message_signature_valid(message, r->set)) {
        drop(r, from, "view-change from %u: bad signature", vc->sender);
        return;
    }
    char why[160];
    if (!view_change_valid(r, vc, why, sizeof(why))) {
        drop(r, from, "view-change from %u: %s", vc->sender, why);
        return;
    }
    r->view_changes[vc->sender] = *vc;
    r->has_view_change[vc->sender] = true;
    if (vc->committed_height > r->height) {
        learn_height(r, vc->committed_height, vc->sender);
    }
}

/* Checks a NEW-VIEW against the VIEW-CHANGEs it carries (PBFT.md "New view"). */
static bool new_view_valid(gov_pbft *r, const gov_pbft_message *message, new_view_choice *choice,
                           char *why, size_t why_len)
{
    const gov_pbft_new_view *nv = &message->body.new_view;
    if (nv->sender != primary_of(r, nv->view)) {
        snprintf(why, why_len, "sender %u is not the primary of view %llu", nv->sender,
                 (unsigned long long)nv->view);
        return false;
    }
    if (nv->view_changes_count < r->q) {
        snprintf(why, why_len, "%u view-changes, a quorum is %u", nv->view_changes_count, r->q);
        return false;
    }
    if (!gov_pbft_message_signature_valid(message, r->set)) {
        snprintf(why, why_len, "bad signature");
        return false;
    }
    const gov_pbft_view_change *vcs[GOV_VALIDATORS_MAX];
    for (uint32_t i = 0; i < nv->view_changes_count; i++) {
        const gov_pbft_view_change *vc = &nv->view_changes[i];
        gov_pbft_message wrapped = {.type = GOV_PBFT_VIEW_CHANGE};
        wrapped.body.view_change = *vc;
        if (vc->sender >= r->n || !gov_pbft_message_signature_valid(&wrapped, r->set)) {
            snprintf(why, why_len, "view-change of %u: bad signature", vc->sender);
            return false;
        }
        char inner[120];
        if (!view_change_valid(r, vc, inner, sizeof(inner))) {
            snprintf(why, why_len, "view-change of %u: %s", vc->sender, inner);
            return false;
        }
        vcs[i] = vc;
    }
    *choice = choose(vcs, nv->view_changes_count);
    const gov_pbft_message *o = nv->pre_prepare;
    if ((choice->chosen == NULL) != (o == NULL)) {
        snprintf(why, why_len, "its pre-prepare does not follow from its view-changes");
        return false;
    }
    if (o != NULL) {
        if (o->body.phase.height != choice->max_height + 1 ||
            !gov_hash_equal(&o->body.phase.digest, &choice->chosen->digest)) {
            snprintf(why, why_len, "its pre-prepare is not the prepared block");
            return false;
        }
        if (!gov_pbft_message_signature_valid(o, r->set)) {
            snprintf(why, why_len, "its pre-prepare has a bad signature");
            return false;
        }
    }
    return true;
}

static void on_new_view(gov_pbft *r, uint32_t from, gov_pbft_message *message, const uint8_t *data,
                        size_t len)
{
    gov_pbft_new_view *nv = &message->body.new_view;
    if (nv->view > GOV_PBFT_VIEW_MAX) {
        drop(r, from, "new-view for view beyond the limit");
        return;
    }
    if (nv->view < r->view || (nv->view == r->view && r->active)) {
        return; /* old, or the view we are in */
    }
    char why[200];
    new_view_choice choice;
    if (!new_view_valid(r, message, &choice, why, sizeof(why))) {
        drop(r, from, "new-view %llu: %s", (unsigned long long)nv->view, why);
        return;
    }
    if (nv->view > r->view) {
        r->view = nv->view;
        memset(r->prepares, 0, r->n * sizeof(*r->prepares));
        mark_persist(r);
    }
    gov_buf_reset(&r->new_view_bytes);
    gov_buf_append(&r->new_view_bytes, data, len);
    const gov_pbft_phase *o = NULL;
    free(r->later_block);
    r->later_block = NULL;
    r->later_has = false;
    if (nv->pre_prepare != NULL) {
        o = &nv->pre_prepare->body.phase;
        if (o->height == r->height + 1) {
            proposal_add(r, &o->digest, o->block, o->block_len);
            nv->pre_prepare->body.phase.block = NULL; /* taken */
        } else if (o->height > r->height + 1) {
            /* We are behind: catch-up first, then this is the view's PRE-PREPARE there. */
            r->later_has = true;
            r->later_view = nv->view;
            r->later_height = o->height;
            r->later_digest = o->digest;
            memcpy(r->later_signature, o->signature, GOV_SIGNATURE_LEN);
            r->later_block = o->block;
            r->later_block_len = o->block_len;
            nv->pre_prepare->body.phase.block = NULL; /* taken */
        }
    }
    if (choice.max_height > r->height) {
        learn_height(r, choice.max_height, from);
    }
    enter_view(r, o);
}

/* Phase messages --------------------------------------------------------------------- */

static void defer(gov_pbft *r, uint32_t from, const uint8_t *data, size_t len)
{
    /* Each validator gets its share of the room, so one cannot crowd out the others'
     * messages for the next height (which are not sent again). */
    size_t share = FUTURE_MAX / r->n, from_this = 0;
    for (size_t i = 0; i < r->future_count; i++) {
        from_this += r->future[i].from == from;
    }
    if (r->future_count >= FUTURE_MAX || from_this >= share) {
        drop(r, from, "too many messages kept for later");
        return;
    }
    uint8_t *copy = copy_bytes(data, len);
    if (copy == NULL) {
        drop(r, from, "out of memory keeping a message for later");
        return;
    }
    r->future[r->future_count++] = (deferred){from, copy, len};
}

static void receive(gov_pbft *r, uint32_t from, const uint8_t *data, size_t len);

/* Feeds the kept messages through again (after a commit or a new view). */
static void deferred_replay(gov_pbft *r)
{
    if (r->future_count == 0) {
        return;
    }
    deferred kept[FUTURE_MAX];
    size_t count = r->future_count;
    memcpy(kept, r->future, count * sizeof(*kept));
    r->future_count = 0;
    for (size_t i = 0; i < count; i++) {
        receive(r, kept[i].from, kept[i].bytes, kept[i].len);
        free(kept[i].bytes);
    }
}

static void request_new_view(gov_pbft *r, uint32_t peer)
{
    if (r->new_view_request_deadline > r->now || peer == r->config.self) {
        return;
    }
    r->new_view_request_deadline = r->now + r->config.view_timeout_ms;
    gov_pbft_message request = {.type = GOV_PBFT_REQUEST};
    request.body.request.kind = GOV_PBFT_REQUEST_NEW_VIEW;
    request.body.request.height = r->view;
    send_message(r, peer, &request);
}

/* `message` (signature checked) conflicts with what its sender signed before for the same
 * (type, view, height): `digest` under `signature`. */
static void note_equivocation(gov_pbft *r, const gov_pbft_message *message, const gov_hash *digest,
                              const uint8_t *signature)
{
    const gov_pbft_phase *phase = &message->body.phase;
    r->stats.equivocations++;
    event(r, GOV_PBFT_EVENT_EQUIVOCATION, phase->sender,
          "validator %u signed two %s digests for view %llu height %llu", phase->sender,
          gov_pbft_type_name(message->type), (unsigned long long)phase->view,
          (unsigned long long)phase->height);
    if (r->ready.evidence_count < GOV_PBFT_READY_EVIDENCE_MAX) {
        gov_equivocation *e = &r->ready.evidence[r->ready.evidence_count++];
        e->type = message->type;
        e->view = phase->view;
        e->height = phase->height;
        e->validator = phase->sender;
        e->digests[0] = *digest;
        memcpy(e->signatures[0], signature, GOV_SIGNATURE_LEN);
        e->digests[1] = phase->digest;
        memcpy(e->signatures[1], phase->signature, GOV_SIGNATURE_LEN);
    }
}

static void store_vote(gov_pbft *r, vote *votes, const gov_pbft_message *message)
{
    const gov_pbft_phase *phase = &message->body.phase;
    vote *v = &votes[phase->sender];
    if (v->has && v->view >= phase->view) {
        if (v->view == phase->view && !gov_hash_equal(&v->digest, &phase->digest)) {
            note_equivocation(r, message, &v->digest, v->signature);
        }
        return;
    }
    *v = (vote){true, phase->view, phase->digest, {0}};
    memcpy(v->signature, phase->signature, GOV_SIGNATURE_LEN);
}

static void on_pre_prepare(gov_pbft *r, uint32_t from, gov_pbft_message *message)
{
    gov_pbft_phase *phase = &message->body.phase;
    if (phase->sender != primary_of(r, phase->view)) {
        drop(r, from, "pre-prepare from %u, not the primary", phase->sender);
        return;
    }
    if (r->pp_has && r->pp_view == phase->view) {
        if (!gov_hash_equal(&r->pp_digest, &phase->digest)) {
            note_equivocation(r, message, &r->pp_digest, r->pp_signature);
        }
        return;
    }
    proposal *p = proposal_add(r, &phase->digest, phase->block, phase->block_len);
    phase->block = NULL; /* taken, or freed when there was no room */
    if (p == NULL) {
        drop(r, from, "pre-prepare: no room for its block");
        return;
    }
    r->pp_has = true;
    r->pp_view = phase->view;
    r->pp_digest = phase->digest;
    memcpy(r->pp_signature, phase->signature, GOV_SIGNATURE_LEN);
    if (r->view_deadline == 0) {
        r->view_deadline = r->now + view_timeout(r);
    }
}

static void on_phase(gov_pbft *r, uint32_t from, gov_pbft_message *message, const uint8_t *data,
                     size_t len)
{
    gov_pbft_phase *phase = &message->body.phase;
    const char *name = gov_pbft_type_name(message->type);
    if (phase->sender >= r->n) {
        drop(r, from, "%s from unknown validator %u", name, phase->sender);
        return;
    }
    if (phase->view > GOV_PBFT_VIEW_MAX) {
        drop(r, from, "%s for view beyond the limit", name);
        return;
    }
    if (phase->height <= r->height) {
        return; /* decided already */
    }
    bool older_view = phase->view < r->view;
    if (older_view && message->type != GOV_PBFT_COMMIT) {
        return; /* an older view's pre-prepare or prepare: moot */
    }
    if (!gov_pbft_message_signature_valid(message, r->set)) {
        drop(r, from, "%s from %u: bad signature", name, phase->sender);
        return;
    }
    if (phase->height > r->height + 1) {
        /* Ahead of us: others have committed what we have not. The signed height is a
         * hint, not a proof, so it only keeps us asking, one request at a time. */
        if (phase->height - 1 > r->hinted_height) {
            r->hinted_height = phase->height - 1;
        }
        if (r->catch_up_deadline <= r->now) {
            request_blocks(r, phase->sender);
        }
        if (phase->height == r->height + 2 && phase->view <= r->view + 1) {
            defer(r, from, data, len);
        }
        return;
    }
    bool ahead_view = phase->view > r->view || (phase->view == r->view && !r->active);
    if (ahead_view) {
        /* A view we have not entered: ask how it started. */
        request_new_view(r, phase->sender);
    }
    switch (message->type) {
    case GOV_PBFT_COMMIT:
        store_vote(r, r->commits, message); /* a certificate counts in any view */
        return;
    case GOV_PBFT_PREPARE:
        if (phase->view == r->view) {
            store_vote(r, r->prepares, message);
        } else if (phase->view == r->view + 1) {
            defer(r, from, data, len);
        }
        return;
    default:
        if (!ahead_view) {
            on_pre_prepare(r, from, message);
        } else if (phase->view <= r->view + 1) {
            defer(r, from, data, len);
        }
        return;
    }
}

static void on_request(gov_pbft *r, uint32_t from, const gov_pbft_request *request)
{
    if (from >= r->n || from == r->config.self) {
        drop(r, from, "request from an unknown peer");
        return;
    }
    switch (request->kind) {
    case GOV_PBFT_REQUEST_BLOCKS:
        serve(r, from, request->height);
        return;
    case GOV_PBFT_REQUEST_NEW_VIEW:
        if (r->active && r->view >= request->height && r->new_view_bytes.len > 0 &&
            r->new_view_replied[from] + r->config.view_timeout_ms <= r->now) {
            r->new_view_replied[from] = r->now;
            send_copy(r, from, &r->new_view_bytes);
        }
        return;
    case GOV_PBFT_REQUEST_PROPOSAL: {
        if (request->height != r->height + 1) {
            return;
        }
        /* The PRE-PREPARE that proposed the digest, as this replica accepted it: from the
         * current view's, or rebuilt from the prepared certificate that names it. */
        proposal *p = proposal_find(r, &request->digest);
        gov_pbft_message reply = {.type = GOV_PBFT_PRE_PREPARE};
        gov_pbft_phase *phase = &reply.body.phase;
        if (p == NULL) {
            return;
        }
        if (r->has_pstar && gov_hash_equal(&r->pstar.digest, &request->digest)) {
            phase->view = r->pstar.view;
            memcpy(phase->signature, r->pstar.pre_prepare_signature, GOV_SIGNATURE_LEN);
        } else if (r->pp_has && gov_hash_equal(&r->pp_digest, &request->digest)) {
            phase->view = r->pp_view;
            memcpy(phase->signature, r->pp_signature, GOV_SIGNATURE_LEN);
        } else {
            return;
        }
        phase->height = request->height;
        phase->sender = primary_of(r, phase->view);
        phase->digest = request->digest;
        phase->block = p->bytes; /* borrowed for encoding */
        phase->block_len = p->len;
        send_message(r, from, &reply);
        return;
    }
    }
}

/* A proposal answered to our REQUEST: an older view's PRE-PREPARE whose digest our
 * NEW-VIEW needs. Its signature and the ledger's validation vouch for it. */
static bool take_requested_proposal(gov_pbft *r, gov_pbft_message *message)
{
    gov_pbft_phase *phase = &message->body.phase;
    if (r->active || !is_primary(r) || phase->height != r->height + 1 || phase->view >= r->view ||
        proposal_find(r, &phase->digest) != NULL) {
        return false;
    }
    bool wanted = false;
    for (uint32_t i = 0; i < r->n && !wanted; i++) {
        wanted = r->has_view_change[i] && r->view_changes[i].new_view == r->view &&
                 r->view_changes[i].has_prepared_cert &&
                 gov_hash_equal(&r->view_changes[i].prepared_cert.digest, &phase->digest);
    }
    if (!wanted || !gov_pbft_message_signature_valid(message, r->set)) {
        return false;
    }
    if (proposal_add(r, &phase->digest, phase->block, phase->block_len) != NULL) {
        phase->block = NULL;
    }
    return true;
}

static void receive(gov_pbft *r, uint32_t from, const uint8_t *data, size_t len)
{
    r->stats.received++;
    gov_pbft_message message;
    char why[160];
    if (gov_pbft_message_decode(data, len, &message, why, sizeof(why)) != 0) {
        drop(r, from, "malformed message: %s", why);
        return;
    }
    switch (message.type) {
    case GOV_PBFT_PRE_PREPARE:
        if (take_requested_proposal(r, &message)) {
            break;
        }
        /* fall through */
    case GOV_PBFT_PREPARE:
    case GOV_PBFT_COMMIT:
        on_phase(r, from, &message, data, len);
        break;
    case GOV_PBFT_VIEW_CHANGE:
        if (message.body.view_change.new_view > GOV_PBFT_VIEW_MAX) {
            drop(r, from, "view-change beyond the view limit");
            break;
        }
        if (message.body.view_change.sender >= r->n) {
            drop(r, from, "view-change from unknown validator");
            break;
        }
        on_view_change(r, from, &message);
        break;
    case GOV_PBFT_NEW_VIEW:
        on_new_view(r, from, &message, data, len);
        break;
    case GOV_PBFT_REQUEST:
        on_request(r, from, &message.body.request);
        break;
    case GOV_PBFT_BLOCK:
        on_block(r, from, &message.body.block);
        break;
    }
    gov_pbft_message_clear(&message);
}

/* progress(): act on what is known ---------------------------------------------------- */

/* q COMMITs for one (view, digest) at the working height: a certificate. */
static bool assemble_cert(gov_pbft *r)
{
    for (uint32_t i = 0; i < r->n; i++) {
        const vote *candidate = &r->commits[i];
        if (!candidate->has) {
            continue;
        }
        gov_commit_cert cert = {.view = candidate->view, .height = r->height + 1};
        cert.digest = candidate->digest;
        for (uint32_t j = 0; j < r->n; j++) {
            const vote *v = &r->commits[j];
            if (v->has && v->view == candidate->view &&
                gov_hash_equal(&v->digest, &candidate->digest)) {
                cert.votes[cert.votes_count].validator = j;
                memcpy(cert.votes[cert.votes_count].signature, v->signature, GOV_SIGNATURE_LEN);
                cert.votes_count++;
            }
        }
        if (cert.votes_count >= r->q) {
            r->cert = cert;
            r->has_cert = true;
            return true;
        }
    }
    return false;
}

static void request_validation(gov_pbft *r, const proposal *p)
{
    if (r->validating || r->ready.validate.requested) {
        return;
    }
    r->validating = true;
    r->validating_height = r->height + 1;
    r->validating_digest = p->digest;
    r->ready.validate.requested = true;
    r->ready.validate.height = r->height + 1;
    r->ready.validate.digest = p->digest;
    r->ready.validate.block = p->bytes;
    r->ready.validate.block_len = p->len;
}

/* One step of progress; true when it changed something worth another look. */
static bool progress_once(gov_pbft *r)
{
    /* 1. Commit. */
    if (!r->has_cert) {
        assemble_cert(r);
    }
    if (r->has_cert) {
        proposal *p = proposal_find(r, &r->cert.digest);
        if (p != NULL && p->valid == VALIDITY_OK) {
            uint64_t before = r->height;
            commit(r, p);
            if (r->height > before) {
                stash_take(r);
                return true;
            }
            return false;
        }
        if (p != NULL && p->valid == VALIDITY_UNKNOWN) {
            request_validation(r, p);
        } else if ((p == NULL || p->valid == VALIDITY_BAD) && r->catch_up_deadline <= r->now) {
            /* A certificate without its block: fetch it from a validator that voted. */
            request_blocks(r, r->cert.votes[(r->height + r->now) % r->cert.votes_count].validator);
        }
    }
    if (r->requested_to != 0 && r->height >= r->requested_to) {
        request_blocks(r, r->catch_up_peer); /* a whole batch came: the peer may have more */
    } else if (r->catch_up_deadline != 0 && r->catch_up_deadline <= r->now) {
        r->catch_up_deadline = 0; /* the request is over */
        r->requested_to = 0;
        if (r->known_height > r->height || r->hinted_height > r->height) {
            request_blocks(r, (r->catch_up_peer + 1) % r->n); /* ask another */
        }
    }
    if (!r->active) {
        return false;
    }
    if (r->later_has && (r->later_view != r->view || r->later_height <= r->height)) {
        r->later_has = false; /* another view, or decided meanwhile */
        keep_for_ready(r, r->later_block);
        r->later_block = NULL;
    }
    if (r->later_has && r->later_height == r->height + 1 && !r->pp_has) {
        r->later_has = false;
        if (proposal_add(r, &r->later_digest, r->later_block, r->later_block_len) != NULL) {
            r->pp_has = true;
            r->pp_view = r->later_view;
            r->pp_digest = r->later_digest;
            memcpy(r->pp_signature, r->later_signature, GOV_SIGNATURE_LEN);
        }
        r->later_block = NULL; /* taken by proposal_add, which frees it when it has no room */
    }
    /* 2. Prepare and commit on the accepted pre-prepare. */
    if (r->pp_has && r->pp_view == r->view) {
        proposal *p = proposal_find(r, &r->pp_digest);
        if (p == NULL) {
            return false;
        }
        if (p->valid == VALIDITY_UNKNOWN) {
            request_validation(r, p);
            return false;
        }
        if (p->valid != VALIDITY_OK) {
            return false;
        }
        uint32_t primary = primary_of(r, r->view);
        if (!is_primary(r) && !(r->rec_prepare.has && r->rec_prepare.view == r->view)) {
            gov_pbft_message prepare;
            if (!sign_phase(r, GOV_PBFT_PREPARE, r->view, r->height + 1, &p->digest, &prepare)) {
                return false;
            }
            vote *own = &r->prepares[r->config.self];
            *own = (vote){true, r->view, p->digest, {0}};
            memcpy(own->signature, prepare.body.phase.signature, GOV_SIGNATURE_LEN);
            send_message(r, GOV_PBFT_ALL, &prepare);
        }
        if (r->rec_commit.has && r->rec_commit.view == r->view) {
            return false;
        }
        gov_prepared_cert prepared = {.view = r->view, .height = r->height + 1};
        prepared.digest = p->digest;
        memcpy(prepared.pre_prepare_signature, r->pp_signature, GOV_SIGNATURE_LEN);
        for (uint32_t i = 0; i < r->n; i++) {
            const vote *v = &r->prepares[i];
            if (i != primary && v->has && v->view == r->view &&
                gov_hash_equal(&v->digest, &p->digest)) {
                prepared.prepares[prepared.prepares_count].validator = i;
                memcpy(prepared.prepares[prepared.prepares_count].signature, v->signature,
                       GOV_SIGNATURE_LEN);
                prepared.prepares_count++;
            }
        }
        if (prepared.prepares_count < gov_quorum_prepares(r->n)) {
            return false;
        }
        gov_pbft_message commit_message;
        if (!sign_phase(r, GOV_PBFT_COMMIT, r->view, r->height + 1, &p->digest, &commit_message)) {
            return false;
        }
        r->pstar = prepared;
        r->has_pstar = true;
        vote *own = &r->commits[r->config.self];
        *own = (vote){true, r->view, p->digest, {0}};
        memcpy(own->signature, commit_message.body.phase.signature, GOV_SIGNATURE_LEN);
        send_message(r, GOV_PBFT_ALL, &commit_message);
        return true;
    }
    /* 3. The primary proposes. */
    if (is_primary(r) && !r->pp_has && r->pending && !r->building && !r->ready.build.requested &&
        !(r->rec_pre_prepare.has && r->rec_pre_prepare.view == r->view)) {
        r->building = true;
        r->build_height = r->height + 1;
        r->ready.build.requested = true;
        r->ready.build.height = r->height + 1;
    }
    return false;
}

static void progress(gov_pbft *r)
{
    for (int rounds = 0; rounds < 4 * STASH_MAX; rounds++) {
        view_change_progress(r);
        if (!progress_once(r)) {
            break;
        }
    }
    if (r->ready.persist) {
        encode_durable(r, &r->ready.durable);
    }
}

/* Inputs ----------------------------------------------------------------------------- */

static void set_now(gov_pbft *r, uint64_t now_ms)
{
    if (now_ms > r->now) {
        r->now = now_ms; /* a clock that steps back is held, not followed */
    }
}

void gov_pbft_receive(gov_pbft *r, uint32_t from, const uint8_t *data, size_t len, uint64_t now_ms)
{
    set_now(r, now_ms);
    if (len > GOV_MESSAGE_BYTES_MAX) {
        drop(r, from, "message of %zu bytes is over the limit", len);
        return;
    }
    receive(r, from, data, len);
    progress(r);
}

void gov_pbft_tick(gov_pbft *r, uint64_t now_ms)
{
    set_now(r, now_ms);
    if (r->view_deadline != 0 && r->view_deadline <= r->now) {
        bool waiting = r->pending || r->pp_has || r->has_cert || !r->active;
        r->view_deadline = 0;
        if (waiting && r->view < GOV_PBFT_VIEW_MAX) {
            start_view_change(r, r->view + 1);
        }
    }
    if (!r->active && r->resend_deadline <= r->now && r->own_view_change.len > 0) {
        send_copy(r, GOV_PBFT_ALL, &r->own_view_change);
        r->resend_deadline = r->now + r->config.view_timeout_ms;
    }
    progress(r);
}

void gov_pbft_set_pending(gov_pbft *r, bool pending, uint64_t now_ms)
{
    set_now(r, now_ms);
    r->pending = pending;
    if (pending && r->view_deadline == 0 && r->active) {
        r->view_deadline = r->now + view_timeout(r);
    }
    progress(r);
}

void gov_pbft_built(gov_pbft *r, uint64_t height, const gov_hash *digest, const uint8_t *block,
                    size_t block_len, uint64_t now_ms)
{
    set_now(r, now_ms);
    bool expected = r->building && height == r->build_height;
    r->building = false;
    if (expected && block == NULL) {
        r->pending = false; /* nothing to build until the mempool says otherwise */
    }
    if (!expected || block == NULL || block_len == 0 || height != r->height + 1 || !r->active ||
        !is_primary(r) || r->pp_has) {
        progress(r);
        return;
    }
    gov_pbft_message pre_prepare;
    if (!sign_phase(r, GOV_PBFT_PRE_PREPARE, r->view, height, digest, &pre_prepare)) {
        progress(r);
        return;
    }
    uint8_t *copy = copy_bytes(block, block_len);
    proposal *p = copy == NULL ? NULL : proposal_add(r, digest, copy, block_len);
    if (p == NULL) {
        progress(r);
        return;
    }
    p->valid = VALIDITY_OK; /* the ledger built it on its committed state */
    r->pp_has = true;
    r->pp_view = r->view;
    r->pp_digest = *digest;
    memcpy(r->pp_signature, pre_prepare.body.phase.signature, GOV_SIGNATURE_LEN);
    pre_prepare.body.phase.block = p->bytes; /* borrowed for encoding */
    pre_prepare.body.phase.block_len = p->len;
    send_message(r, GOV_PBFT_ALL, &pre_prepare);
    if (r->view_deadline == 0) {
        r->view_deadline = r->now + view_timeout(r);
    }
    progress(r);
}

void gov_pbft_validated(gov_pbft *r, uint64_t height, const gov_hash *digest, bool ok,
                        uint64_t now_ms)
{
    set_now(r, now_ms);
    if (r->validating && r->validating_height == height &&
        gov_hash_equal(&r->validating_digest, digest)) {
        r->validating = false;
    }
    if (height == r->height + 1) {
        proposal *p = proposal_find(r, digest);
        if (p != NULL) {
            p->valid = ok ? VALIDITY_OK : VALIDITY_BAD;
            if (!ok) {
                event(r, GOV_PBFT_EVENT_INFO, GOV_PBFT_ALL,
                      "the ledger refused the proposed block at height %llu",
                      (unsigned long long)height);
            }
        }
    }
    progress(r);
}

/* The outbox ------------------------------------------------------------------------- */

static uint64_t next_timer(const gov_pbft *r)
{
    uint64_t next = 0;
    uint64_t candidates[3] = {r->view_deadline, r->active ? 0 : r->resend_deadline,
                              r->catch_up_deadline};
    for (int i = 0; i < 3; i++) {
        if (candidates[i] != 0 && (next == 0 || candidates[i] < next)) {
            next = candidates[i];
        }
    }
    return next;
}

gov_pbft_ready *gov_pbft_ready_get(gov_pbft *r)
{
    r->ready.timer_ms = next_timer(r);
    return &r->ready;
}

void gov_pbft_ready_done(gov_pbft *r)
{
    for (size_t i = 0; i < r->ready.messages_count; i++) {
        gov_buf_free(&r->ready.messages[i].bytes);
    }
    for (size_t i = 0; i < r->garbage_count; i++) {
        free(r->garbage[i]);
    }
    r->garbage_count = 0;
    gov_buf durable = r->ready.durable;
    gov_buf_reset(&durable);
    memset(&r->ready, 0, sizeof(r->ready));
    r->ready.durable = durable;
}

/* Observation ------------------------------------------------------------------------ */

uint64_t gov_pbft_view(const gov_pbft *r)
{
    return r->view;
}

bool gov_pbft_view_active(const gov_pbft *r)
{
    return r->active;
}

uint64_t gov_pbft_height(const gov_pbft *r)
{
    return r->height;
}

const gov_pbft_stats *gov_pbft_stats_get(const gov_pbft *r)
{
    return &r->stats;
}

int gov_pbft_block_message_encode(uint64_t height, const uint8_t *block, size_t block_len,
                                  const gov_commit_cert *cert, gov_buf *out)
{
    gov_pbft_message message = {.type = GOV_PBFT_BLOCK};
    message.body.block.height = height;
    message.body.block.block = (uint8_t *)block; /* only read by the encoder */
    message.body.block.block_len = block_len;
    message.body.block.cert = *cert;
    return gov_pbft_message_encode(&message, out);
}
