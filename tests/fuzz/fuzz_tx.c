/* Fuzz target: gov_tx_decode (transactions arrive from the API and from peers). */
#include <stddef.h>
#include <stdint.h>

#include "govchain/block.h"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FUZZ_ROUND_TRIP(gov_tx, gov_tx_decode, gov_tx_encode, gov_tx_clear(&value));
    return 0;
}
