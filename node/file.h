/*
 * Whole-file reads for the command line and the node, with a size cap checked before
 * anything is allocated, and the genesis file read that way.
 */
#ifndef GOVCHAIN_NODE_FILE_H
#define GOVCHAIN_NODE_FILE_H

#include <stddef.h>

#include "govchain/genesis.h"

/* Reads path into a new NUL-terminated heap buffer (*data, owned by the caller; *len
 * excludes the NUL). GOV_ENOENT when missing, GOV_ELIMIT when larger than max_len,
 * GOV_EIO otherwise; the reason is in why[]. "-" reads standard input. */
int gov_file_read(const char *path, size_t max_len, char **data, size_t *len, char *why,
                  size_t why_len);

/* Reads and validates a genesis file (gov_genesis_parse) into *out, the caller's to free
 * with gov_genesis_free. The reason for a failure names the file. */
int gov_genesis_load(const char *path, gov_genesis **out, char *why, size_t why_len);

#endif
