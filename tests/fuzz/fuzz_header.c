/* Fuzz target: gov_block_header_decode. */
#include <stddef.h>
#include <stdint.h>

#include "govchain/block.h"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FUZZ_ROUND_TRIP(gov_block_header, gov_block_header_decode, gov_block_header_encode, (void)0);
    return 0;
}
