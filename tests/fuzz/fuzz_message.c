/* Fuzz target: gov_pbft_message_decode, every consensus message a peer can send, and
 * gov_equivocation_decode, the proofs of equivocation a node serves to regulators. */
#include <stddef.h>
#include <stdint.h>

#include "govchain/messages.h"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FUZZ_ROUND_TRIP(gov_pbft_message, gov_pbft_message_decode, gov_pbft_message_encode,
                    gov_pbft_message_clear(&value));
    FUZZ_ROUND_TRIP(gov_equivocation, gov_equivocation_decode, gov_equivocation_encode, (void)0);
    return 0;
}
