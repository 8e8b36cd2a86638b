/*
 * Replay (include/govchain/replay.h). Each stored block goes through the target ledger's
 * own commit, which checks the certificate and validates the block by executing it, so
 * a replay trusts the source store for nothing: it only reads bytes from it.
 */
#include "govchain/replay.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "govchain/error.h"

/* Executes the block while the verifier checks its signatures (see replay.h). A block
 * whose signatures are not all valid is validated again with every check, which also
 * drops what the first execution left, so the commit that follows cannot take it. */
static void prevalidate(gov_ledger *target, const gov_block *block,
                        const gov_replay_verifier *verifier)
{
    void *job = verifier->start(verifier->arg, block);
    gov_ledger_checks checks = {.signatures_checked = true};
    gov_hash digest;
    /* Errors surface in the commit's own validation, which reports them. */
    int rc = gov_ledger_validate(target, block, &checks, &digest, NULL, 0);
    bool all_valid = verifier->finish(verifier->arg, job);
    if (rc == 0 && !all_valid) {
        gov_ledger_validate(target, block, NULL, &digest, NULL, 0);
    }
}

int gov_replay(gov_ledger *source, gov_ledger *target, uint64_t until,
               const gov_replay_verifier *verifier, gov_replay_block_cb cb, void *arg,
               gov_replay_summary *summary, char *why, size_t why_len)
{
    uint64_t last = gov_ledger_head_get(source)->height;
    if (until != 0 && until < last) {
        last = until;
    }
    memset(summary, 0, sizeof(*summary));
    int rc = 0;
    char detail[512] = "";
    for (uint64_t height = gov_ledger_head_get(target)->height + 1; height <= last && rc == 0;
         height++) {
        gov_block block;
        gov_commit_cert cert;
        rc = gov_ledger_block_get(source, height, &block, &cert, detail, sizeof(detail));
        if (rc != 0) {
            return gov_fail(why, why_len, rc, "height %" PRIu64 ": %s", height, detail);
        }
        if (block.header.height != height) {
            rc = gov_fail(why, why_len, GOV_EINVAL,
                          "height %" PRIu64 ": height: the stored block says %" PRIu64, height,
                          block.header.height);
        }
        if (rc == 0 && verifier != NULL) {
            prevalidate(target, &block, verifier);
        }
        if (rc == 0) {
            rc = gov_ledger_commit(target, &block, &cert, detail, sizeof(detail));
            if (rc != 0) {
                gov_fail(why, why_len, rc, "height %" PRIu64 ": %s", height, detail);
            }
        }
        if (rc == 0) {
            summary->blocks++;
            summary->transactions += block.txs_count;
        }
        if (rc == 0 && cb != NULL) {
            rc = cb(arg, &block, &gov_ledger_head_get(target)->hash);
            if (rc != 0) {
                gov_fail(why, why_len, rc, "height %" PRIu64 ": after the block re-verified: %s",
                         height, gov_strerror(rc));
            }
        }
        gov_block_clear(&block);
    }
    summary->height = gov_ledger_head_get(target)->height;
    /* At the source's head the two heads must agree: the head record is not covered by
     * any certificate, so check it as well. */
    const gov_ledger_head *theirs = gov_ledger_head_get(source);
    const gov_ledger_head *ours = gov_ledger_head_get(target);
    if (rc == 0 && ours->height == theirs->height && !gov_hash_equal(&ours->hash, &theirs->hash)) {
        char a[2 * GOV_HASH_LEN + 1];
        char b[2 * GOV_HASH_LEN + 1];
        gov_hex_encode(theirs->hash.bytes, GOV_HASH_LEN, a);
        gov_hex_encode(ours->hash.bytes, GOV_HASH_LEN, b);
        rc = gov_fail(why, why_len, GOV_EINVAL,
                      "height %" PRIu64 ": head hash: the store says %s, the replay gives %s",
                      ours->height, a, b);
    }
    return rc;
}
