/*
 * Equivocation evidence kept in the node's store, for regulators (docs/consensus.md,
 * docs/audit.md). The replica reports two signed messages of one validator with
 * different digests for one (type, view, height) (gov_equivocation); the driver keeps
 * each under
 *
 *     'E' validator (4 bytes) view (8) height (8) type (1)  ->  gov_equivocation_encode
 *
 * (big-endian, so a scan lists them by validator, then view and height), and
 * GET /v1/evidence serves them. The first proof for a key is kept; a validator gets at
 * most GOV_EVIDENCE_PER_VALIDATOR_MAX entries, so a faulty validator signing conflicts
 * in ever higher views cannot fill the disk (further ones are still counted and logged).
 */
#ifndef GOVCHAIN_NODE_EVIDENCE_H
#define GOVCHAIN_NODE_EVIDENCE_H

#include <stddef.h>

#include "govchain/kv.h"
#include "govchain/messages.h"

enum { GOV_EVIDENCE_PER_VALIDATOR_MAX = 16 };

/* Stores the evidence unless its key is there or its validator has the maximum already.
 * 0 (kept, or nothing to do), or the store's error. */
int gov_evidence_keep(gov_kv *store, const gov_equivocation *evidence, char *why, size_t why_len);

/* Reads up to max kept proofs, in key order, into out[]; *count how many. An entry that
 * does not decode is a damaged store: GOV_EDECODE with the reason. */
int gov_evidence_list(gov_kv *store, gov_equivocation *out, size_t max, size_t *count, char *why,
                      size_t why_len);

#endif
