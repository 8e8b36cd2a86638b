/* Error names and the detail helper shared by every module. */
#include "govchain/error.h"
#include "govchain/assert.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

const char *gov_strerror(int code)
{
    switch (code) {
#define GOV_ERRNO_CASE(name, value, message) \
    case GOV_##name:                         \
        return message;
        GOV_ERRNO_MAP(GOV_ERRNO_CASE)
#undef GOV_ERRNO_CASE
    case 0:
        return "success";
    default:
        return "unknown error";
    }
}

int gov_fail(char *why, size_t why_len, int code, const char *format, ...)
{
    if (why != NULL && why_len > 0) {
        va_list args;
        va_start(args, format);
        vsnprintf(why, why_len, format, args);
        va_end(args);
    }
    return code;
}

void gov_assert_fail(const char *condition, const char *file, int line)
{
    fprintf(stderr, "govchain: %s:%d: internal check failed: %s\n", file, line, condition);
    abort();
}
