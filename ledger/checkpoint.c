/* Checkpoints and history proofs (include/govchain/checkpoint.h). */
#include "govchain/checkpoint.h"

#include <stdlib.h>
#include <string.h>

#include "govchain/error.h"
#include "govchain/receipt.h"

int gov_certified_header_get(gov_ledger *ledger, uint64_t height, gov_certified_header *out,
                             char *why, size_t why_len)
{
    gov_block block;
    int rc = gov_ledger_block_get(ledger, height, &block, &out->cert, why, why_len);
    if (rc == 0) {
        out->header = block.header;
        gov_block_clear(&block);
    }
    return rc;
}

int gov_history_proof_build(gov_ledger *ledger, uint64_t from, uint64_t to, gov_history_proof *out,
                            char *why, size_t why_len)
{
    memset(out, 0, sizeof(*out));
    uint64_t head = gov_ledger_head_get(ledger)->height;
    if (from == 0 || from > to || to > head) {
        return gov_fail(why, why_len, GOV_EINVAL,
                        "need 1 <= from <= to <= the chain's height (%llu)",
                        (unsigned long long)head);
    }
    int rc = gov_certified_header_get(ledger, from, &out->from, why, why_len);
    if (rc == 0) {
        rc = gov_certified_header_get(ledger, to, &out->to, why, why_len);
    }
    if (rc != 0 || from == to) {
        return rc;
    }
    gov_suite suite = gov_ledger_genesis(ledger)->suite;
    uint64_t size = to - 1; /* header `to` commits to blocks 1 .. to-1 */
    gov_hash *leaves = calloc(size, sizeof(*leaves));
    if (leaves == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
    }
    for (uint64_t h = 1; h <= size && rc == 0; h++) {
        gov_hash hash;
        rc = gov_ledger_block_hash(ledger, h, &hash, why, why_len);
        if (rc == 0) {
            gov_merkle_leaf_hash(suite, hash.bytes, GOV_HASH_LEN, &leaves[h - 1]);
        }
    }
    size_t len = 0;
    if (rc == 0 && from > 1) {
        rc = gov_merkle_consistency_proof(suite, leaves, from - 1, size, out->consistency, &len);
        out->consistency_len = (uint32_t)len;
    }
    if (rc == 0) {
        rc = gov_merkle_inclusion_proof(suite, leaves, size, from - 1, out->inclusion, &len);
        out->inclusion_len = (uint32_t)len;
    }
    free(leaves);
    return rc;
}

static bool same_header(gov_suite suite, const gov_block_header *a, const gov_block_header *b)
{
    gov_hash ha, hb;
    return gov_block_hash(suite, a, &ha) == 0 && gov_block_hash(suite, b, &hb) == 0 &&
           gov_hash_equal(&ha, &hb);
}

int gov_checkpoint_verify(const gov_genesis *genesis, const gov_certified_header *checkpoint,
                          const gov_history_proof *proof, char *why, size_t why_len)
{
    int rc = gov_certified_header_verify(genesis, &checkpoint->header, &checkpoint->cert,
                                         "the checkpoint", why, why_len);
    if (rc != 0) {
        return rc;
    }
    uint64_t c = checkpoint->header.height;
    uint64_t n = proof->to.header.height;
    if (proof->from.header.height != c ||
        !same_header(genesis->suite, &proof->from.header, &checkpoint->header)) {
        return gov_fail(why, why_len, GOV_EPROOF,
                        "history was rewritten: the node's block %llu is not the checkpoint's",
                        (unsigned long long)c);
    }
    if (n < c) {
        return gov_fail(why, why_len, GOV_EPROOF,
                        "the node's chain (height %llu) is shorter than the checkpoint (%llu)",
                        (unsigned long long)n, (unsigned long long)c);
    }
    rc = gov_certified_header_verify(genesis, &proof->to.header, &proof->to.cert, "today's", why,
                                     why_len);
    if (rc != 0 || n == c) {
        return rc;
    }
    gov_hash checkpoint_hash, leaf;
    rc = gov_block_hash(genesis->suite, &checkpoint->header, &checkpoint_hash);
    if (rc != 0) {
        return gov_fail(why, why_len, rc, "the checkpoint's header does not encode");
    }
    const gov_hash *today = &proof->to.header.history_root;
    if (c > 1 && !gov_merkle_verify_consistency(genesis->suite, c - 1, n - 1,
                                                &checkpoint->header.history_root, today,
                                                proof->consistency, proof->consistency_len)) {
        return gov_fail(why, why_len, GOV_EPROOF,
                        "the consistency proof does not show blocks 1 .. %llu unchanged in "
                        "today's history",
                        (unsigned long long)(c - 1));
    }
    gov_merkle_leaf_hash(genesis->suite, checkpoint_hash.bytes, GOV_HASH_LEN, &leaf);
    if (!gov_merkle_verify_inclusion(genesis->suite, &leaf, c - 1, n - 1, proof->inclusion,
                                     proof->inclusion_len, today)) {
        return gov_fail(why, why_len, GOV_EPROOF,
                        "the checkpoint's block is not block %llu of today's history",
                        (unsigned long long)c);
    }
    return 0;
}
