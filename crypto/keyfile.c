/*
 * Key files: PKCS#8 PEM on disk, created 0600 and never overwritten, refused when
 * group or others have any access. Every buffer that held the PEM is wiped.
 */
#include "govchain/keyfile.h"
#include "govchain/limits.h"
#include "govchain/error.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* Returns 0 or an errno value. */
static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t written = write(fd, data, len);
        if (written < 0 && errno == EINTR) {
            continue;
        }
        if (written < 0) {
            return errno;
        }
        if (written == 0) {
            return EIO;
        }
        data += written;
        len -= (size_t)written;
    }
    return 0;
}

/* Writes and syncs the PEM into the new file fd and closes it; 0 or an errno value. */
static int write_and_close(int fd, const char *pem, size_t pem_len)
{
    /* The umask can only have removed bits from 0600, but set the mode exactly. */
    int error = fchmod(fd, 0600) != 0 ? errno : 0;
    if (error == 0) {
        error = write_all(fd, pem, pem_len);
    }
    if (error == 0 && fsync(fd) != 0) {
        error = errno;
    }
    if (close(fd) != 0 && error == 0) {
        error = errno;
    }
    return error;
}

/* Makes the new directory entry durable: without it a crash right after keygen can
 * lose a key whose public half was already handed out. Returns 0 or an errno value. */
static int sync_parent_directory(const char *path)
{
    char *copy = strdup(path);
    if (copy == NULL) {
        return ENOMEM;
    }
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int error = fd < 0 ? errno : 0;
    free(copy);
    if (fd < 0) {
        return error;
    }
    error = fsync(fd) != 0 ? errno : 0;
    close(fd);
    return error;
}

/*
 * The key is written to a temporary file beside path and published with link(2), which
 * never replaces an existing file. So path either does not exist or holds a whole,
 * synced key, even if the process is killed or the machine loses power halfway; at
 * worst a temporary "<path>.tmp-XXXXXX" is left behind.
 */
int gov_keyfile_write(const gov_private_key *key, const char *path, char *why, size_t why_len)
{
    if (key == NULL || path == NULL) {
        return gov_fail(why, why_len, GOV_EINVAL, "no key or no path");
    }
    char *pem = NULL;
    size_t pem_len = 0;
    char *temporary = NULL;
    int rc = gov_private_key_to_pem(key, &pem, &pem_len);
    if (rc != 0) {
        return gov_fail(why, why_len, rc, "cannot encode the key: %s", gov_strerror(rc));
    }
    size_t temporary_len = strlen(path) + sizeof(".tmp-XXXXXX");
    temporary = malloc(temporary_len);
    if (temporary == NULL) {
        rc = gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
        goto out;
    }
    snprintf(temporary, temporary_len, "%s.tmp-XXXXXX", path);
    /* mkstemp creates the file exclusively with mode 0600. */
    int fd = mkstemp(temporary);
    if (fd < 0) {
        int error = errno;
        rc =
            gov_fail(why, why_len, GOV_EIO, "cannot create key file %s: %s", path, strerror(error));
        goto out;
    }
    int error = write_and_close(fd, pem, pem_len);
    if (error == 0 && link(temporary, path) != 0) {
        error = errno;
    }
    unlink(temporary);
    if (error == 0) {
        error = sync_parent_directory(path);
    }
    if (error != 0) {
        rc = gov_fail(why, why_len, error == EEXIST ? GOV_EEXIST : GOV_EIO,
                      "cannot write key file %s: %s", path, strerror(error));
    }

out:
    free(temporary);
    gov_private_key_pem_free(pem, pem_len);
    return rc;
}

/* Checks what fd refers to before anything is read from it. */
static int check_file(int fd, const char *path, char *why, size_t why_len)
{
    struct stat info;
    if (fstat(fd, &info) != 0) {
        return gov_fail(why, why_len, GOV_EIO, "cannot stat key file %s: %s", path,
                        strerror(errno));
    }
    if (!S_ISREG(info.st_mode)) {
        return gov_fail(why, why_len, GOV_EIO, "key file %s is not a regular file", path);
    }
    if ((info.st_mode & 077) != 0) {
        return gov_fail(why, why_len, GOV_EPERM,
                        "key file %s has mode %04o, which gives group or others access "
                        "to a private key; run `chmod 600 %s`",
                        path, (unsigned)(info.st_mode & 07777), path);
    }
    if (info.st_size > GOV_KEYFILE_BYTES_MAX) {
        return gov_fail(why, why_len, GOV_EBADKEY,
                        "key file %s is %lld bytes, more than a key file's %d", path,
                        (long long)info.st_size, GOV_KEYFILE_BYTES_MAX);
    }
    return 0;
}

/* Reads all of fd into buffer[GOV_KEYFILE_BYTES_MAX + 1]; the length, or -1 with errno.
 * One byte more than the cap is asked for, so a file that grew past it is seen. */
static ssize_t read_all(int fd, char *buffer)
{
    size_t used = 0;
    while (used <= GOV_KEYFILE_BYTES_MAX) {
        ssize_t got = read(fd, buffer + used, GOV_KEYFILE_BYTES_MAX + 1 - used);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            return -1;
        }
        if (got == 0) {
            break;
        }
        used += (size_t)got;
    }
    return (ssize_t)used;
}

static int read_key(int fd, gov_suite suite, const char *path, gov_private_key **out, char *why,
                    size_t why_len)
{
    char *pem = malloc(GOV_KEYFILE_BYTES_MAX + 1);
    if (pem == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "no memory to read key file %s", path);
    }
    int rc = 0;
    ssize_t len = read_all(fd, pem);
    if (len < 0) {
        rc = gov_fail(why, why_len, GOV_EIO, "cannot read key file %s: %s", path, strerror(errno));
    } else if (len > GOV_KEYFILE_BYTES_MAX) {
        rc = gov_fail(why, why_len, GOV_EBADKEY, "key file %s is larger than %d bytes", path,
                      GOV_KEYFILE_BYTES_MAX);
    } else {
        rc = gov_private_key_from_pem(suite, pem, (size_t)len, out);
        if (rc != 0) {
            rc = gov_fail(why, why_len, rc,
                          "key file %s does not hold a %s private key "
                          "(unencrypted PKCS#8 PEM): %s",
                          path, gov_suite_name(suite), gov_strerror(rc));
        }
    }
    /* All of it: a failed read may have filled part of the buffer. */
    OPENSSL_cleanse(pem, GOV_KEYFILE_BYTES_MAX + 1);
    free(pem);
    return rc;
}

int gov_keyfile_read(gov_suite suite, const char *path, gov_private_key **out, char *why,
                     size_t why_len)
{
    if (!gov_suite_valid(suite) || path == NULL || out == NULL) {
        return gov_fail(why, why_len, GOV_EINVAL, "no path, no output or an invalid suite");
    }
    /* O_NONBLOCK so that a FIFO at path cannot hang us; check_file refuses it. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        int error = errno;
        return gov_fail(why, why_len, error == ENOENT ? GOV_ENOENT : GOV_EIO,
                        "cannot open key file %s: %s", path, strerror(error));
    }
    int rc = check_file(fd, path, why, why_len);
    if (rc == 0) {
        rc = read_key(fd, suite, path, out, why, why_len);
    }
    close(fd);
    return rc;
}
