/* The simulator's block format and ledger (block.h). */
#include "tests/sim/block.h"

#include <stdlib.h>
#include <string.h>

#include "govchain/assert.h"
#include "govchain/error.h"

int sim_block_encode(const sim_block *block, gov_buf *out)
{
    gov_buf_reset(out);
    gov_enc_array(out, 4);
    gov_enc_uint(out, block->height);
    gov_enc_bin(out, block->parent.bytes, GOV_HASH_LEN);
    gov_enc_uint(out, block->proposer);
    gov_enc_array(out, block->txs_count);
    for (uint32_t i = 0; i < block->txs_count; i++) {
        gov_enc_uint(out, block->txs[i]);
    }
    return gov_buf_ok(out) ? 0 : GOV_ENOMEM;
}

int sim_block_decode(const uint8_t *data, size_t len, sim_block *out)
{
    gov_dec dec;
    memset(out, 0, sizeof(*out));
    gov_dec_begin(&dec, data, len, 4096, 8 + SIM_BLOCK_TXS_MAX, NULL, 0);
    bool ok = gov_dec_array(&dec, "block", 4) &&
              gov_dec_uint(&dec, "height", UINT64_MAX, &out->height) &&
              gov_dec_bin_fixed(&dec, "parent", out->parent.bytes, GOV_HASH_LEN) &&
              gov_dec_u32(&dec, "proposer", UINT32_MAX, &out->proposer) &&
              gov_dec_array_max(&dec, "txs", SIM_BLOCK_TXS_MAX, &out->txs_count);
    for (uint32_t i = 0; ok && i < out->txs_count; i++) {
        ok = gov_dec_uint(&dec, "tx", UINT64_MAX, &out->txs[i]) &&
             (i == 0 || out->txs[i - 1] < out->txs[i]);
    }
    ok = ok && gov_dec_leave(&dec) && gov_dec_leave(&dec);
    int rc = gov_dec_finish(&dec);
    return ok && rc == 0 ? 0 : GOV_EDECODE;
}

void sim_block_digest(const uint8_t *data, size_t len, gov_hash *out)
{
    gov_hash_bytes(GOV_SUITE_P256_SHA256, data, len, out);
}

void sim_ledger_init(sim_ledger *ledger, const gov_hash *genesis)
{
    memset(ledger, 0, sizeof(*ledger));
    ledger->genesis = *genesis;
}

void sim_ledger_free(sim_ledger *ledger)
{
    for (size_t i = 0; i < ledger->count; i++) {
        free(ledger->entries[i].block);
    }
    free(ledger->entries);
    memset(ledger, 0, sizeof(*ledger));
}

const gov_hash *sim_ledger_head_digest(const sim_ledger *ledger)
{
    return ledger->count == 0 ? &ledger->genesis : &ledger->entries[ledger->count - 1].digest;
}

const sim_entry *sim_ledger_at(const sim_ledger *ledger, uint64_t height)
{
    return height == 0 || height > ledger->count ? NULL : &ledger->entries[height - 1];
}

void sim_ledger_append(sim_ledger *ledger, const gov_hash *digest, const uint8_t *block,
                       size_t block_len, const gov_commit_cert *cert)
{
    if (ledger->count == ledger->capacity) {
        ledger->capacity = ledger->capacity == 0 ? 16 : 2 * ledger->capacity;
        ledger->entries = realloc(ledger->entries, ledger->capacity * sizeof(sim_entry));
        GOV_ASSERT(ledger->entries != NULL);
    }
    sim_entry *entry = &ledger->entries[ledger->count++];
    entry->digest = *digest;
    entry->block = malloc(block_len > 0 ? block_len : 1);
    GOV_ASSERT(entry->block != NULL);
    if (block_len > 0) {
        memcpy(entry->block, block, block_len);
    }
    entry->block_len = block_len;
    entry->cert = *cert;
}

bool sim_ledger_validate(const sim_ledger *ledger, uint64_t height, const gov_hash *digest,
                         const uint8_t *data, size_t len, uint32_t validators,
                         const bool *committed, uint64_t tx_count)
{
    sim_block block;
    gov_hash actual;
    if (height != ledger->count + 1 || sim_block_decode(data, len, &block) != 0) {
        return false;
    }
    sim_block_digest(data, len, &actual);
    if (block.height != height || !gov_hash_equal(&actual, digest) ||
        !gov_hash_equal(&block.parent, sim_ledger_head_digest(ledger)) ||
        block.proposer >= validators || block.txs_count == 0) {
        return false;
    }
    for (uint32_t i = 0; i < block.txs_count; i++) {
        if (block.txs[i] >= 1 && block.txs[i] <= tx_count && committed[block.txs[i]]) {
            return false;
        }
    }
    return true;
}
