/* Helpers shared by the unit tests. */
#define _XOPEN_SOURCE 700
#include "tests/unit/test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ftw.h>

#include <cmocka.h>

char *test_read_file(const char *path, size_t *len)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        fail_msg("cannot open %s", path);
    }
    size_t capacity = 1 << 16;
    size_t used = 0;
    char *buffer = malloc(capacity + 1);
    assert_non_null(buffer);
    size_t got;
    while ((got = fread(buffer + used, 1, capacity - used, file)) > 0) {
        used += got;
        if (used == capacity) {
            capacity *= 2;
            buffer = realloc(buffer, capacity + 1);
            assert_non_null(buffer);
        }
    }
    assert_false(ferror(file));
    fclose(file);
    buffer[used] = '\0';
    if (len != NULL) {
        *len = used;
    }
    return buffer;
}

const char *test_data_path(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/%s", GOV_TEST_DATA_DIR, name);
    return path;
}

char *test_make_temp_dir(void)
{
    const char *base = getenv("TMPDIR");
    char template[4096];
    snprintf(template, sizeof(template), "%s/govchain-test-XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    char *made = mkdtemp(template);
    assert_non_null(made);
    char *copy = strdup(made);
    assert_non_null(copy);
    return copy;
}

static int remove_entry(const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void)info;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void test_remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

uint64_t test_seed(void)
{
    static uint64_t seed;
    static int chosen;
    if (!chosen) {
        const char *text = getenv("GOV_TEST_SEED");
        seed = text != NULL ? strtoull(text, NULL, 0) : 0x9e3779b97f4a7c15ULL;
        if (seed == 0) {
            seed = 1;
        }
        fprintf(stderr, "# property tests use GOV_TEST_SEED=%llu\n", (unsigned long long)seed);
        chosen = 1;
    }
    return seed;
}
