/* A serial lane of jobs on libuv's thread pool (node/lane.h). */
#include "node/lane.h"

#include <stdlib.h>

#include "govchain/assert.h"
#include "govchain/error.h"

typedef struct job {
    struct job *next;
    gov_lane_work_cb work;
    gov_lane_done_cb done;
    void *arg;
} job;

struct gov_lane {
    uv_loop_t *loop;
    uv_work_t request;
    bool running;
    job *head, *tail;
    size_t queued;
};

static void start_next(gov_lane *lane);

static void run_work(uv_work_t *request)
{
    gov_lane *lane = request->data;
    job *current = lane->head;
    if (current->work != NULL) {
        current->work(current->arg);
    }
}

static void after_work(uv_work_t *request, int status)
{
    gov_lane *lane = request->data;
    GOV_ASSERT(status == 0); /* the lane never cancels its requests */
    job *current = lane->head;
    lane->head = current->next;
    if (lane->head == NULL) {
        lane->tail = NULL;
    }
    lane->queued--;
    lane->running = false;
    if (current->done != NULL) {
        current->done(current->arg); /* may submit more */
    }
    free(current);
    start_next(lane);
}

static void start_next(gov_lane *lane)
{
    if (lane->running || lane->head == NULL) {
        return;
    }
    lane->running = true;
    lane->request.data = lane;
    int rc = uv_queue_work(lane->loop, &lane->request, run_work, after_work);
    GOV_ASSERT(rc == 0); /* only fails for a NULL callback */
}

gov_lane *gov_lane_new(uv_loop_t *loop)
{
    gov_lane *lane = calloc(1, sizeof(*lane));
    if (lane != NULL) {
        lane->loop = loop;
    }
    return lane;
}

void gov_lane_free(gov_lane *lane)
{
    if (lane == NULL) {
        return;
    }
    GOV_ASSERT(!lane->running);
    while (lane->head != NULL) {
        job *next = lane->head->next;
        free(lane->head);
        lane->head = next;
    }
    free(lane);
}

int gov_lane_submit(gov_lane *lane, gov_lane_work_cb work, gov_lane_done_cb done, void *arg)
{
    job *j = calloc(1, sizeof(*j));
    if (j == NULL) {
        return GOV_ENOMEM;
    }
    j->work = work;
    j->done = done;
    j->arg = arg;
    if (lane->tail != NULL) {
        lane->tail->next = j;
    } else {
        lane->head = j;
    }
    lane->tail = j;
    lane->queued++;
    start_next(lane);
    return 0;
}

bool gov_lane_idle(const gov_lane *lane)
{
    return !lane->running && lane->head == NULL;
}

size_t gov_lane_queued(const gov_lane *lane)
{
    return lane->queued;
}
