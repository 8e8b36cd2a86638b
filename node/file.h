/*
 * Whole-file reads for the command line and the node, with a size cap checked before
 * anything is allocated.
 */
#ifndef GOVCHAIN_NODE_FILE_H
#define GOVCHAIN_NODE_FILE_H

#include <stddef.h>

/* Reads path into a new NUL-terminated heap buffer (*data, owned by the caller; *len
 * excludes the NUL). GOV_ENOENT when missing, GOV_ELIMIT when larger than max_len,
 * GOV_EIO otherwise; the reason is in why[]. "-" reads standard input. */
int gov_file_read(const char *path, size_t max_len, char **data, size_t *len, char *why,
                  size_t why_len);

#endif
