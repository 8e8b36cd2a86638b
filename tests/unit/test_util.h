/* Helpers shared by the unit tests. */
#ifndef GOVCHAIN_TEST_UTIL_H
#define GOVCHAIN_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Reads a whole file into a NUL-terminated heap buffer; fails the test when it cannot.
 * *len (may be NULL) receives the length without the NUL. */
char *test_read_file(const char *path, size_t *len);

/* GOV_TEST_DATA_DIR "/" name, in a static buffer overwritten by the next call. */
const char *test_data_path(const char *name);

/* A fresh private directory under $TMPDIR (or /tmp), created 0700; the caller owns the
 * returned string. test_remove_tree removes it and everything below it. */
char *test_make_temp_dir(void);
void test_remove_tree(const char *path);

/* Deterministic pseudo-random numbers for property tests (xorshift64*), seeded from
 * GOV_TEST_SEED when set so that a failure can be replayed. */
uint64_t test_seed(void);
uint64_t test_random(uint64_t *state);
void test_random_bytes(uint64_t *state, void *out, size_t len);

#endif
