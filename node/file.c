/* Whole-file reads with a size cap (see node/file.h). */
#include "node/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "govchain/error.h"
#include "govchain/genesis.h"

static int read_fd(int fd, const char *path, size_t max_len, char **data, size_t *len, char *why,
                   size_t why_len)
{
    size_t capacity = 4096;
    size_t used = 0;
    char *buffer = malloc(capacity + 1);
    if (buffer == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "%s: out of memory", path);
    }
    for (;;) {
        if (used == capacity) {
            if (capacity > max_len) {
                free(buffer);
                return gov_fail(why, why_len, GOV_ELIMIT, "%s: larger than %zu bytes", path,
                                max_len);
            }
            capacity *= 2;
            char *grown = realloc(buffer, capacity + 1);
            if (grown == NULL) {
                free(buffer);
                return gov_fail(why, why_len, GOV_ENOMEM, "%s: out of memory", path);
            }
            buffer = grown;
        }
        ssize_t got = read(fd, buffer + used, capacity - used);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            int saved = errno;
            free(buffer);
            return gov_fail(why, why_len, GOV_EIO, "%s: %s", path, strerror(saved));
        }
        if (got == 0) {
            break;
        }
        used += (size_t)got;
    }
    if (used > max_len) {
        free(buffer);
        return gov_fail(why, why_len, GOV_ELIMIT, "%s: larger than %zu bytes", path, max_len);
    }
    buffer[used] = '\0';
    *data = buffer;
    *len = used;
    return 0;
}

int gov_file_read(const char *path, size_t max_len, char **data, size_t *len, char *why,
                  size_t why_len)
{
    if (strcmp(path, "-") == 0) {
        return read_fd(STDIN_FILENO, "standard input", max_len, data, len, why, why_len);
    }
    /* O_NONBLOCK so that a FIFO given by mistake is refused below rather than waited on. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int saved = errno;
        return gov_fail(why, why_len, saved == ENOENT ? GOV_ENOENT : GOV_EIO, "%s: %s", path,
                        strerror(saved));
    }
    struct stat info;
    if (fstat(fd, &info) != 0) {
        int saved = errno;
        close(fd);
        return gov_fail(why, why_len, GOV_EIO, "%s: %s", path, strerror(saved));
    }
    if (!S_ISREG(info.st_mode)) {
        close(fd);
        return gov_fail(why, why_len, GOV_EIO, "%s: not a regular file", path);
    }
    if (info.st_size >= 0 && (uint64_t)info.st_size > max_len) {
        close(fd);
        return gov_fail(why, why_len, GOV_ELIMIT, "%s: larger than %zu bytes", path, max_len);
    }
    int rc = read_fd(fd, path, max_len, data, len, why, why_len);
    close(fd);
    return rc;
}

int gov_genesis_load(const char *path, gov_genesis **out, char *why, size_t why_len)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = gov_file_read(path, GOV_GENESIS_JSON_BYTES_MAX, &text, &len, why, why_len);
    if (rc != 0) {
        return rc;
    }
    char inner[300];
    rc = gov_genesis_parse(text, len, out, inner, sizeof(inner));
    free(text);
    return rc == 0 ? 0 : gov_fail(why, why_len, rc, "%s: %s", path, inner);
}
