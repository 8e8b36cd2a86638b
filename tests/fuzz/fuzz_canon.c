/*
 * Fuzz target: the canonical scan against msgpack-c itself. Whatever the scan accepts,
 * msgpack-c must unpack completely and pack back to exactly the same bytes: so the scan
 * never lets through a value msgpack-c reads differently, and what it calls canonical
 * is what msgpack-c's own packer writes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "govchain/canon.h"
#include "govchain/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gov_dec dec;
    char why[256] = "";
    gov_dec_begin(&dec, data, size, GOV_MESSAGE_BYTES_MAX, GOV_MESSAGE_VALUES_MAX, why,
                  sizeof(why));
    bool accepted = gov_dec_ok(&dec);
    gov_dec_finish(&dec);
    if (!accepted) {
        if (why[0] == '\0') {
            abort();
        }
        return 0;
    }
    msgpack_unpacked unpacked;
    msgpack_unpacked_init(&unpacked);
    size_t offset = 0;
    if (msgpack_unpack_next(&unpacked, (const char *)data, size, &offset) !=
            MSGPACK_UNPACK_SUCCESS ||
        offset != size) {
        fprintf(stderr, "the scan accepted what msgpack-c cannot unpack whole\n");
        abort();
    }
    msgpack_sbuffer packed;
    msgpack_sbuffer_init(&packed);
    msgpack_packer packer;
    msgpack_packer_init(&packer, &packed, msgpack_sbuffer_write);
    msgpack_pack_object(&packer, unpacked.data);
    if (packed.size != size || memcmp(packed.data, data, size) != 0) {
        fprintf(stderr, "the scan accepted bytes that msgpack-c packs differently\n");
        abort();
    }
    msgpack_sbuffer_destroy(&packed);
    msgpack_unpacked_destroy(&unpacked);
    return 0;
}
