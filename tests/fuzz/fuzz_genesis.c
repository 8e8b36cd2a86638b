/* Fuzz target: gov_genesis_parse. Any bytes: parsed and validated, or refused with a
 * reason; an accepted genesis must encode, and parsing it twice gives one hash. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "govchain/genesis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gov_genesis *first = NULL;
    char why[512];
    if (gov_genesis_parse((const char *)data, size, &first, why, sizeof(why)) != 0) {
        if (first != NULL || why[0] == '\0') {
            fprintf(stderr, "a refused genesis must come with a reason and no result\n");
            abort();
        }
        return 0;
    }
    gov_genesis *second = NULL;
    uint8_t *encoded = NULL;
    size_t encoded_len = 0;
    if (gov_genesis_parse((const char *)data, size, &second, why, sizeof(why)) != 0 ||
        memcmp(first->hash.bytes, second->hash.bytes, GOV_HASH_LEN) != 0 ||
        gov_genesis_encode(first, &encoded, &encoded_len) != 0) {
        abort();
    }
    free(encoded);
    gov_genesis_free(second);
    gov_genesis_free(first);
    return 0;
}
