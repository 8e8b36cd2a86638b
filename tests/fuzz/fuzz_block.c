/* Fuzz target: gov_block_decode (blocks arrive in pre-prepares and during catch-up). */
#include <stddef.h>
#include <stdint.h>

#include "govchain/block.h"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FUZZ_ROUND_TRIP(gov_block, gov_block_decode, gov_block_encode, gov_block_clear(&value));
    return 0;
}
