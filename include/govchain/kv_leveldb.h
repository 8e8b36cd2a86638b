/*
 * The LevelDB implementation of govchain/kv.h. File I/O: built into govchain_io, never
 * into the pure core.
 *
 * The database is opened with paranoid checks and every read verifies checksums, so
 * corruption is reported as an error instead of being read as data; every write is one
 * WriteBatch with sync on, so after a crash the store holds all of a batch or none of
 * it. A corrupted store is reported (GOV_EIO with LevelDB's message), never repaired
 * here: DESIGN §5 rebuilds it from peers.
 */
#ifndef GOVCHAIN_KV_LEVELDB_H
#define GOVCHAIN_KV_LEVELDB_H

#include "govchain/kv.h"

/* Opens (create: also creates) the database in directory path. */
int gov_kv_leveldb_open(const char *path, bool create, gov_kv **out, char *why, size_t why_len);

#endif
