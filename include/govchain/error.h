/*
 * govchain error codes.
 *
 * Conventions (every module): functions that can fail return int, 0 on success
 * or a negative GOV_E* code from the list below. Predicates return bool.
 * Human-readable detail, when a function offers it, is written into a buffer the
 * caller passes (char *why, size_t why_len), so reporting an error never
 * allocates. gov_strerror() names a code; it never returns NULL.
 */
#ifndef GOVCHAIN_ERROR_H
#define GOVCHAIN_ERROR_H

#include <stddef.h>

/* X(name, value, message): one list generates the enum and gov_strerror(). */
#define GOV_ERRNO_MAP(X)                            \
    X(EINVAL, -1, "invalid argument")               \
    X(ENOMEM, -2, "out of memory")                  \
    X(EDECODE, -3, "malformed encoding")            \
    X(ELIMIT, -4, "size limit exceeded")            \
    X(ECRYPTO, -5, "cryptographic library failure") \
    X(EBADKEY, -6, "invalid key")                   \
    X(EBADSIG, -7, "signature does not verify")     \
    X(EIO, -8, "input/output error")                \
    X(EPERM, -9, "file permissions too open")       \
    X(EEXIST, -10, "already exists")                \
    X(ENOENT, -11, "not found")                     \
    X(EGENESIS, -12, "invalid genesis")             \
    X(EPROOF, -13, "proof does not verify")         \
    X(EJSON, -14, "malformed JSON")

enum {
#define GOV_ERRNO_ENUM(name, value, message) GOV_##name = (value),
    GOV_ERRNO_MAP(GOV_ERRNO_ENUM)
#undef GOV_ERRNO_ENUM
};

/* The message for a GOV_E* code, or "unknown error" for anything else. */
const char *gov_strerror(int code);

/* Writes printf-style detail into why[why_len] when why is not NULL. Returns code,
 * so a failing path can say `return gov_fail(why, why_len, GOV_EDECODE, "...")`. */
int gov_fail(char *why, size_t why_len, int code, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

#endif
