/* Lowercase hex encoding and strict decoding. */
#include "govchain/crypto.h"
#include "govchain/error.h"

/* The value of one hex digit, or -1; written out rather than using isxdigit() so that
 * the locale cannot change what is accepted. */
static int digit_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

void gov_hex_encode(const uint8_t *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

int gov_hex_decode(const char *hex, uint8_t *out, size_t len)
{
    if (hex == NULL || out == NULL) {
        return GOV_EINVAL;
    }
    /* Check everything before writing anything, so out is untouched on failure. The
     * NUL terminator is not a digit, so a short string stops this loop in bounds. */
    for (size_t i = 0; i < 2 * len; i++) {
        if (digit_value(hex[i]) < 0) {
            return GOV_EINVAL;
        }
    }
    if (hex[2 * len] != '\0') {
        return GOV_EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        out[i] = (uint8_t)(digit_value(hex[2 * i]) << 4 | digit_value(hex[2 * i + 1]));
    }
    return 0;
}
