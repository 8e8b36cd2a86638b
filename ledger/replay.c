/*
 * Replay (include/govchain/replay.h). Each stored block goes through the target ledger's
 * own commit, which checks the certificate and validates the block by executing it, so
 * a replay trusts the source store for nothing: it only reads bytes from it.
 *
 * Design note: the pipeline. With a verifier, signature checks run on other threads
 * while this thread executes and commits, and they run ahead across blocks: a window
 * holds the block being replayed and the blocks read after it, up to WINDOW_TXS
 * transactions (and WINDOW_BLOCKS blocks) ahead, each with its verifier job already
 * started. So while block h is executed and committed here, the verifier checks the
 * signatures of h + 1, h + 2, ...; their jobs were started after h's, so they never
 * delay h's. Everything about a block is still decided at its turn, in height order:
 *
 *   - a block that could not be read, or that says another height, is reported when
 *     the replay reaches its height (reading stops at the first such block, so blocks
 *     after it are never looked at); the blocks before it are committed first;
 *   - block h is executed (signatures skipped), then its job's verdict is awaited; if
 *     a signature was bad the block is validated again with every check, which names
 *     the bad transaction; then the commit checks the certificate and writes;
 *   - the first failure stops the replay; jobs already started for later blocks are
 *     finished (their verdicts thrown away) before their blocks are freed.
 *
 * The window only moves work earlier: no check is skipped, merged or reused from one
 * block for another, and each block is still committed on top of its predecessor.
 */
#include "govchain/replay.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "govchain/error.h"

enum {
    /* Transactions read (and being verified) ahead of the block being replayed: a few
     * blocks' worth of work for the verifier while this thread executes and commits. */
    WINDOW_TXS = 4096,
    /* At most this many blocks in the window, however small. */
    WINDOW_BLOCKS = 64,
};

/* A block in the window. */
typedef struct {
    uint64_t height;
    int rc; /* reading it failed: this code, with detail */
    char detail[512];
    gov_block block;
    gov_commit_cert cert;
    void *job; /* the verifier's job, when one was started */
    bool started;
} window_slot;

typedef struct {
    const gov_replay_source *source;
    const gov_replay_verifier *verifier;
    window_slot slots[WINDOW_BLOCKS];
    uint64_t first;     /* the height in slots[first % WINDOW_BLOCKS] */
    uint32_t count;     /* blocks in the window */
    uint64_t next;      /* the next height to read */
    uint64_t last;      /* the last height to read */
    uint64_t ahead_txs; /* transactions in the window after its first block */
} window;

static window_slot *slot_at(window *w, uint64_t height)
{
    return &w->slots[height % WINDOW_BLOCKS];
}

/* Reads blocks into the window until it holds WINDOW_TXS transactions after its first
 * block, WINDOW_BLOCKS blocks, or every block up to last; starts each one's job. */
static void fill(window *w)
{
    while (w->next <= w->last && w->count < WINDOW_BLOCKS &&
           (w->count == 0 || w->ahead_txs < WINDOW_TXS)) {
        uint64_t height = w->next++;
        window_slot *slot = slot_at(w, height);
        memset(slot, 0, sizeof(*slot));
        slot->height = height;
        slot->rc = w->source->block_get(w->source->arg, height, &slot->block, &slot->cert,
                                        slot->detail, sizeof(slot->detail));
        if (slot->rc == 0 && slot->block.header.height != height) {
            slot->rc =
                gov_fail(slot->detail, sizeof(slot->detail), GOV_EINVAL,
                         "height: the stored block says %" PRIu64, slot->block.header.height);
        }
        if (w->count > 0) {
            w->ahead_txs += slot->block.txs_count;
        }
        w->count++;
        if (slot->rc != 0) {
            w->next = w->last + 1; /* nothing after a bad block is read */
            return;
        }
        if (w->verifier != NULL) {
            slot->job = w->verifier->start(w->verifier->arg, &slot->block);
            slot->started = true;
        }
    }
}

/* Takes the first block off the window: its job, if one is still open, is finished
 * and its verdict dropped. */
static void drop_first(window *w)
{
    window_slot *slot = slot_at(w, w->first);
    if (slot->started) {
        w->verifier->finish(w->verifier->arg, slot->job);
        slot->started = false;
    }
    gov_block_clear(&slot->block);
    w->first++;
    w->count--;
    if (w->count > 0) {
        w->ahead_txs -= slot_at(w, w->first)->block.txs_count;
    }
}

/* Executes the block while the verifier checks its signatures (see replay.h). A block
 * whose signatures are not all valid is validated again with every check, which also
 * drops what the first execution left, so the commit that follows cannot take it. */
static void prevalidate(gov_ledger *target, window *w, window_slot *slot)
{
    gov_ledger_checks checks = {.signatures_checked = true};
    gov_hash digest;
    /* Errors surface in the commit's own validation, which reports them. */
    int rc = gov_ledger_validate(target, &slot->block, &checks, &digest, NULL, 0);
    bool all_valid = w->verifier->finish(w->verifier->arg, slot->job);
    slot->started = false;
    if (rc == 0 && !all_valid) {
        gov_ledger_validate(target, &slot->block, NULL, &digest, NULL, 0);
    }
}

int gov_replay_from(const gov_replay_source *source, gov_ledger *target, uint64_t until,
                    const gov_replay_verifier *verifier, gov_replay_block_cb cb, void *arg,
                    gov_replay_summary *summary, char *why, size_t why_len)
{
    uint64_t last = source->head_height;
    if (until != 0 && until < last) {
        last = until;
    }
    memset(summary, 0, sizeof(*summary));
    uint64_t first = gov_ledger_head_get(target)->height + 1;
    /* Large (the slots hold their blocks' reasons): on the heap, not the stack. */
    window *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
    }
    *w = (window){
        .source = source, .verifier = verifier, .first = first, .next = first, .last = last};
    int rc = 0;
    char detail[512] = "";
    for (uint64_t height = first; height <= last && rc == 0; height++) {
        fill(w);
        window_slot *slot = slot_at(w, height);
        if (slot->rc != 0) {
            rc = gov_fail(why, why_len, slot->rc, "height %" PRIu64 ": %s", height, slot->detail);
            break;
        }
        const gov_block *block = &slot->block;
        if (verifier != NULL) {
            prevalidate(target, w, slot);
        }
        rc = gov_ledger_commit(target, block, &slot->cert, detail, sizeof(detail));
        if (rc != 0) {
            gov_fail(why, why_len, rc, "height %" PRIu64 ": %s", height, detail);
        }
        if (rc == 0) {
            summary->blocks++;
            summary->transactions += block->txs_count;
        }
        if (rc == 0 && cb != NULL) {
            rc = cb(arg, block, &gov_ledger_head_get(target)->hash);
            if (rc != 0) {
                gov_fail(why, why_len, rc, "height %" PRIu64 ": after the block re-verified: %s",
                         height, gov_strerror(rc));
            }
        }
        drop_first(w);
    }
    while (w->count > 0) {
        drop_first(w);
    }
    free(w);
    summary->height = gov_ledger_head_get(target)->height;
    /* At the source's head the two heads must agree: a stored head record is not
     * covered by any certificate, so check it as well. */
    const gov_ledger_head *ours = gov_ledger_head_get(target);
    if (rc == 0 && source->head_hash != NULL && ours->height == source->head_height &&
        !gov_hash_equal(&ours->hash, source->head_hash)) {
        char a[2 * GOV_HASH_LEN + 1];
        char b[2 * GOV_HASH_LEN + 1];
        gov_hex_encode(source->head_hash->bytes, GOV_HASH_LEN, a);
        gov_hex_encode(ours->hash.bytes, GOV_HASH_LEN, b);
        rc = gov_fail(why, why_len, GOV_EINVAL,
                      "height %" PRIu64 ": head hash: the store says %s, the replay gives %s",
                      ours->height, a, b);
    }
    return rc;
}

static int ledger_block_get(void *arg, uint64_t height, gov_block *block, gov_commit_cert *cert,
                            char *why, size_t why_len)
{
    return gov_ledger_block_get(arg, height, block, cert, why, why_len);
}

int gov_replay(gov_ledger *source, gov_ledger *target, uint64_t until,
               const gov_replay_verifier *verifier, gov_replay_block_cb cb, void *arg,
               gov_replay_summary *summary, char *why, size_t why_len)
{
    const gov_ledger_head *head = gov_ledger_head_get(source);
    gov_replay_source from = {.block_get = ledger_block_get,
                              .arg = source,
                              .head_height = head->height,
                              .head_hash = &head->hash};
    return gov_replay_from(&from, target, until, verifier, cb, arg, summary, why, why_len);
}
