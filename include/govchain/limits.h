/*
 * Every size limit of govchain in one place. Decoders enforce these before they
 * allocate; the relations between them are checked at compile time below.
 */
#ifndef GOVCHAIN_LIMITS_H
#define GOVCHAIN_LIMITS_H

#include <assert.h>

enum gov_limits {
    /* Identifiers (departments, document types, roles): 1..32 bytes of [a-z0-9._-]. */
    GOV_ID_LEN_MAX = 32,
    /* Human-readable names in genesis. */
    GOV_NAME_LEN_MAX = 128,
    GOV_CHAIN_NAME_LEN_MAX = 64,

    /* Genesis. */
    GOV_VALIDATORS_MIN = 4,
    GOV_VALIDATORS_MAX = 64,
    GOV_DEPARTMENTS_MAX = 256,
    GOV_DEPARTMENT_KEYS_MAX = 8,
    GOV_DOC_TYPES_MAX = 256,
    GOV_DEPARTMENT_DOC_TYPES_MAX = 64,
    GOV_RECOGNISERS_MAX = 64,
    GOV_GENESIS_JSON_BYTES_MAX = 1 << 20,
    GOV_GENESIS_BYTES_MAX = 1 << 20,

    /* Consensus timing in genesis, bounded so that a typo (seconds for milliseconds,
     * an extra zero) is caught at genesis rather than found as a stalled network. */
    GOV_VIEW_TIMEOUT_MIN_MS = 100,
    GOV_VIEW_TIMEOUT_MAX_MS = 600000,
    GOV_VIEW_TIMEOUT_CAP_MAX_MS = 3600000,
    GOV_CLOCK_SKEW_MAX_MS = 3600000,

    /* A PEM private key is a few hundred bytes; anything far larger is not a key. */
    GOV_KEYFILE_BYTES_MAX = 64 * 1024,

    /* Transactions. */
    GOV_NOTE_LEN_MAX = 256,
    GOV_METADATA_ENTRIES_MAX = 16,
    GOV_METADATA_KEY_LEN_MAX = 32,
    GOV_METADATA_VALUE_LEN_MAX = 256,
    GOV_TX_BYTES_MAX = 8 * 1024,

    /* Blocks. Genesis may choose smaller values, never larger. */
    GOV_BLOCK_TXS_MAX = 4096,
    GOV_BLOCK_BYTES_MAX = 4 * 1024 * 1024,
    GOV_HEADER_BYTES_MAX = 512,

    /* msgpack values (containers included) per structure: decoders refuse more, since
     * msgpack-c spends a 24-byte object on each. A transaction at its largest holds
     * 2 + 8 + 9 + 3 * GOV_METADATA_ENTRIES_MAX values; a vote 3; a certificate 5 plus
     * its votes; a view-change 8 plus two certificates. */
    GOV_TX_VALUES_MAX = 24 + 3 * GOV_METADATA_ENTRIES_MAX,
    GOV_HEADER_VALUES_MAX = 12,
    GOV_BLOCK_VALUES_MAX = 2 + GOV_HEADER_VALUES_MAX + GOV_BLOCK_TXS_MAX * GOV_TX_VALUES_MAX,
    GOV_CERT_VALUES_MAX = 6 + 3 * GOV_VALIDATORS_MAX,
    GOV_VIEW_CHANGE_VALUES_MAX = 8 + 2 * GOV_CERT_VALUES_MAX,
    GOV_MESSAGE_VALUES_MAX = 16 + GOV_VALIDATORS_MAX * GOV_VIEW_CHANGE_VALUES_MAX,

    /* Consensus messages. A certificate holds at most one vote per validator. */
    GOV_CERT_BYTES_MAX = 128 + GOV_VALIDATORS_MAX * 80,
    GOV_VIEW_CHANGE_BYTES_MAX = 256 + 2 * GOV_CERT_BYTES_MAX,
    GOV_MESSAGE_BYTES_MAX =
        GOV_BLOCK_BYTES_MAX + 1024 + GOV_VALIDATORS_MAX * GOV_VIEW_CHANGE_BYTES_MAX,

    /* Key-value store (DESIGN §5). Keys are a one-byte prefix and a few hashes or
     * identifiers; a value is at most a block with its certificate. Anything larger is a
     * bug, refused before it reaches the store. */
    GOV_KV_KEY_BYTES_MAX = 1024,
    GOV_KV_VALUE_BYTES_MAX = 64 * 1024 * 1024,
};

_Static_assert(GOV_VALIDATORS_MIN >= 4, "PBFT needs n >= 3f + 1 with f >= 1");
_Static_assert(GOV_VALIDATORS_MAX <= 128, "validator indexes encode as one msgpack byte");
_Static_assert(GOV_BLOCK_BYTES_MAX >= GOV_BLOCK_TXS_MAX * 64,
               "a block must be able to hold its maximum count of small transactions");
_Static_assert(GOV_TX_BYTES_MAX < GOV_BLOCK_BYTES_MAX, "a transaction must fit in a block");
_Static_assert(GOV_METADATA_ENTRIES_MAX *(GOV_METADATA_KEY_LEN_MAX + GOV_METADATA_VALUE_LEN_MAX +
                                          8) +
                       2 * GOV_NOTE_LEN_MAX + 1024 <=
                   GOV_TX_BYTES_MAX,
               "a transaction with every field at its maximum must fit GOV_TX_BYTES_MAX");
_Static_assert((unsigned long long)GOV_BLOCK_VALUES_MAX * 24 <= 64ull * 1024 * 1024,
               "decoding the largest block must stay within 64 MiB of msgpack objects");
_Static_assert(GOV_MESSAGE_BYTES_MAX > GOV_BLOCK_BYTES_MAX,
               "a pre-prepare carrying a full block must fit in a message");

#endif
