/* Fuzz target: gov_commit_cert_decode (certificates travel with blocks and receipts). */
#include <stddef.h>
#include <stdint.h>

#include "govchain/messages.h"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FUZZ_ROUND_TRIP(gov_commit_cert, gov_commit_cert_decode, gov_commit_cert_encode, (void)0);
    return 0;
}
