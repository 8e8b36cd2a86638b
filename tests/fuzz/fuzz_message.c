/* Fuzz target: gov_pbft_message_decode, every consensus message a peer can send. */
#include <stddef.h>
#include <stdint.h>

#include "govchain/messages.h"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FUZZ_ROUND_TRIP(gov_pbft_message, gov_pbft_message_decode, gov_pbft_message_encode,
                    gov_pbft_message_clear(&value));
    return 0;
}
