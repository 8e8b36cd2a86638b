/*
 * Fuzz target: gov_genesis_parse. Any bytes are either parsed and validated, or refused
 * with a reason and no result. An accepted genesis must encode, and its hash must not
 * depend on formatting: the same JSON re-serialised by jansson (keys sorted, compact,
 * comments removed) must parse to the same hash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "govchain/genesis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void strip_comments(json_t *value)
{
    if (json_is_object(value)) {
        const char *key;
        json_t *member;
        void *next;
        json_object_foreach_safe(value, next, key, member)
        {
            if (strncmp(key, "//", 2) == 0) {
                json_object_del(value, key);
            } else {
                strip_comments(member);
            }
        }
    } else if (json_is_array(value)) {
        size_t index;
        json_t *element;
        json_array_foreach(value, index, element)
        {
            strip_comments(element);
        }
    }
}

/* The hash of the same JSON re-serialised, or abort. */
static void require_same_hash_reformatted(const uint8_t *data, size_t size, const gov_hash *hash)
{
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (root == NULL) {
        fprintf(stderr, "an accepted genesis is not JSON to jansson\n");
        abort();
    }
    strip_comments(root);
    char *compact = json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(root);
    if (compact == NULL) {
        return; /* out of memory: nothing to compare */
    }
    gov_genesis *again = NULL;
    char why[512];
    if (gov_genesis_parse(compact, strlen(compact), &again, why, sizeof(why)) != 0 ||
        memcmp(again->hash.bytes, hash->bytes, GOV_HASH_LEN) != 0) {
        fprintf(stderr, "reformatting an accepted genesis changed its verdict or hash\n");
        abort();
    }
    gov_genesis_free(again);
    free(compact);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gov_genesis *genesis = NULL;
    char why[512] = "";
    if (gov_genesis_parse((const char *)data, size, &genesis, why, sizeof(why)) != 0) {
        if (genesis != NULL || why[0] == '\0') {
            fprintf(stderr, "a refused genesis must come with a reason and no result\n");
            abort();
        }
        return 0;
    }
    uint8_t *encoded = NULL;
    size_t encoded_len = 0;
    if (gov_genesis_encode(genesis, &encoded, &encoded_len) != 0) {
        abort();
    }
    free(encoded);
    require_same_hash_reformatted(data, size, &genesis->hash);
    gov_genesis_free(genesis);
    return 0;
}
