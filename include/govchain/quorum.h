/*
 * PBFT's fault arithmetic for n validators, shared by genesis (which reports it) and
 * consensus (which enforces it). Pure header, no dependencies.
 *
 *   f = floor((n - 1) / 3)          faulty validators tolerated
 *   q = ceil((n + f + 1) / 2)       quorum: 2f + 1 when n = 3f + 1
 *
 * Any two quorums intersect in at least f + 1 validators, hence in one correct one, for
 * every n >= 3f + 1 (not only n = 3f + 1); and q <= n - f, so the correct validators
 * alone can form a quorum.
 *
 * A prepared certificate holds the primary's PRE-PREPARE and q - 1 PREPAREs from other
 * validators: q validators in all, so that it intersects every commit quorum as the
 * safety argument needs. Castro & Liskov's "2f prepares" is the same number only when
 * n = 3f + 1; for n = 3f + 2 or 3f + 3 (5, 6, 8, 9 ... validators) 2f would let a
 * prepared certificate and a commit certificate for different blocks coexist.
 */
#ifndef GOVCHAIN_QUORUM_H
#define GOVCHAIN_QUORUM_H

#include <stdint.h>

static inline uint32_t gov_quorum_faults(uint32_t n)
{
    return n == 0 ? 0 : (n - 1) / 3;
}

static inline uint32_t gov_quorum_size(uint32_t n)
{
    return (n + gov_quorum_faults(n) + 2) / 2;
}

static inline uint32_t gov_quorum_prepares(uint32_t n)
{
    return gov_quorum_size(n) - 1;
}

#endif
