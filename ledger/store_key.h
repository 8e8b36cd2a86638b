/*
 * Shared by the ledger's files: the store key layout (DESIGN §5, docs/ledger.md)
 * and the small builder every file uses to write those keys, so that one definition
 * says how a key is spelt.
 *
 *   'B' height                        block record            (ledger.c)
 *   'H' block hash                    height                  (ledger.c)
 *   'L' height                        block hash              (ledger.c)
 *   'M' "head"                        head record             (ledger.c)
 *   'D' doc hash                      document state          (state.c)
 *   'Y' doc hash, height, index       state after a change    (state.c)
 *   'T' tx id                         [height, index]         (state.c)
 *   'S' subject ref, doc hash         ""                      (state.c)
 *   'I' department, height, index     tx id                   (state.c)
 *   'N' node hash                     state-tree node         (smt.c)
 *
 * The node writes two more prefixes of its own in the same store, never read here:
 *   'C' "pbft"                        the replica's durable state   (node/driver.c)
 *   'E' validator, view, height, type equivocation proof           (node/evidence.c)
 *
 * Integers in keys are big-endian, so keys sort in numeric order.
 */
#ifndef GOVCHAIN_LEDGER_STORE_KEY_H
#define GOVCHAIN_LEDGER_STORE_KEY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "govchain/assert.h"
#include "govchain/crypto.h"

enum {
    GOV_KEY_HEIGHT_BYTES = 8,
    GOV_KEY_INDEX_BYTES = 4,
    GOV_KEY_DEPARTMENT_BYTES = 2,
    /* The longest key: a prefix, two hashes, and a byte to step past a key. */
    GOV_KEY_BYTES_MAX = 1 + 2 * GOV_HASH_LEN + 1,
};

typedef struct {
    uint8_t bytes[GOV_KEY_BYTES_MAX];
    size_t len;
} gov_store_key;

static inline void gov_store_key_begin(gov_store_key *key, char prefix)
{
    key->bytes[0] = (uint8_t)prefix;
    key->len = 1;
}

static inline void gov_store_key_add(gov_store_key *key, const void *data, size_t len)
{
    GOV_ASSERT(key->len + len <= GOV_KEY_BYTES_MAX);
    memcpy(key->bytes + key->len, data, len);
    key->len += len;
}

static inline void gov_store_key_add_be(gov_store_key *key, uint64_t value, size_t width)
{
    GOV_ASSERT(width <= 8);
    uint8_t bytes[8];
    for (size_t i = 0; i < width; i++) {
        bytes[i] = (uint8_t)(value >> (8 * (width - 1 - i)));
    }
    gov_store_key_add(key, bytes, width);
}

/* Appending 0x00 gives the least key after a key: with fixed-length keys under a prefix,
 * a scan that starts there resumes just after that key (pagination). */
static inline void gov_store_key_add_successor(gov_store_key *key)
{
    gov_store_key_add(key, "", 1);
}

#endif
