/*
 * govchain key files: PKCS#8 PEM private keys on disk.
 *
 * This is file I/O and so lives outside the pure core library (it is built into
 * govchain_io with the node). A key file is created with mode 0600 and never
 * overwritten; a key file that its group or others can read or write is refused with
 * GOV_EPERM, so a leaked key is noticed rather than used. Errors carry detail in
 * why[why_len] (may be NULL).
 */
#ifndef GOVCHAIN_KEYFILE_H
#define GOVCHAIN_KEYFILE_H

#include "govchain/crypto.h"

/* Creates path, mode 0600, holding key as PKCS#8 PEM. The key is written and synced
 * under a temporary name beside path and then linked into place, so path never holds a
 * partial key, even after a crash. GOV_EEXIST when path exists (it is left untouched);
 * GOV_EIO on any write or sync failure. */
int gov_keyfile_write(const gov_private_key *key, const char *path, char *why, size_t why_len);

/* Reads a key of the given suite. GOV_EPERM when the file's mode grants any access to
 * group or others, GOV_EBADKEY when it is not a PEM key of that suite, GOV_EIO or
 * GOV_ENOENT when it cannot be read. */
int gov_keyfile_read(gov_suite suite, const char *path, gov_private_key **out, char *why,
                     size_t why_len);

#endif
