/*
 * The oracle every decoder fuzz target shares: an input the decoder accepts must
 * re-encode to exactly the same bytes (canonical encoding), and a rejected input must
 * leave nothing allocated (the sanitizers check that). A violation aborts, which
 * libFuzzer and the corpus replayer both report as a failure.
 */
#ifndef GOVCHAIN_FUZZ_CHECK_H
#define GOVCHAIN_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "govchain/canon.h"

static inline void fuzz_require_same(const gov_buf *again, const uint8_t *data, size_t size,
                                     int encode_rc)
{
    if (encode_rc != 0 || again->len != size || memcmp(again->data, data, size) != 0) {
        fprintf(stderr, "accepted input does not re-encode to itself\n");
        abort();
    }
}

/* A refusal must say why and leave the output cleared, as the decoders promise. */
static inline void fuzz_require_refusal(const char *why, const void *value, size_t size)
{
    const unsigned char *bytes = value;
    if (why[0] == '\0') {
        fprintf(stderr, "refused input without a reason\n");
        abort();
    }
    for (size_t i = 0; i < size; i++) {
        if (bytes[i] != 0) {
            fprintf(stderr, "refused input left its output half filled\n");
            abort();
        }
    }
}

#define FUZZ_ROUND_TRIP(type, decode_call, encode_fn, clear_stmt)     \
    do {                                                              \
        type value;                                                   \
        memset(&value, 0, sizeof(value));                             \
        char why[256] = "";                                           \
        if (decode_call(data, size, &value, why, sizeof(why)) == 0) { \
            gov_buf again;                                            \
            gov_buf_init(&again);                                     \
            int encode_rc = encode_fn(&value, &again);                \
            fuzz_require_same(&again, data, size, encode_rc);         \
            gov_buf_free(&again);                                     \
            clear_stmt;                                               \
        } else {                                                      \
            fuzz_require_refusal(why, &value, sizeof(value));         \
        }                                                             \
    } while (0)

#endif
