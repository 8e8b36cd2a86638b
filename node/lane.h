/*
 * A lane: work that must run one job at a time, in order, off the event loop. The node
 * puts every job that touches the ledger or its store in one lane (execute a block,
 * build one, commit, persist consensus state, read blocks for a peer), so the loop never
 * blocks on them and they never run concurrently with each other. Jobs run on libuv's
 * thread pool; each job's done callback runs on the loop, before the next job starts.
 *
 * Not thread-safe: submit from the loop's thread only.
 */
#ifndef GOVCHAIN_NODE_LANE_H
#define GOVCHAIN_NODE_LANE_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

typedef struct gov_lane gov_lane;

/* work runs on a pool thread (may be NULL: nothing to do off the loop); done runs on the
 * loop afterwards (may be NULL). */
typedef void (*gov_lane_work_cb)(void *arg);
typedef void (*gov_lane_done_cb)(void *arg);

/* NULL when out of memory. */
gov_lane *gov_lane_new(uv_loop_t *loop);
/* Frees the lane once idle; jobs still queued are dropped without being run or done.
 * The caller stops submitting first and waits for gov_lane_idle(). */
void gov_lane_free(gov_lane *lane);

/* Queues a job; GOV_ENOMEM when it cannot. */
int gov_lane_submit(gov_lane *lane, gov_lane_work_cb work, gov_lane_done_cb done, void *arg);

/* No job running or queued. */
bool gov_lane_idle(const gov_lane *lane);
size_t gov_lane_queued(const gov_lane *lane);

#endif
