/*
 * The lane runs jobs off the loop one at a time, in submission order, and calls each
 * job's done callback on the loop before the next job starts, also when done callbacks
 * submit more jobs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "node/lane.h"

enum { JOBS = 200 };

typedef struct {
    gov_lane *lane;
    uv_thread_t loop_thread;
    atomic_int running;
    atomic_int overlaps;
    int worked[JOBS + 1];
    int worked_count; /* written by one job at a time: the lane's promise */
    int done_order[JOBS + 1];
    int done_count;
    bool wrong_thread;
} world;

typedef struct {
    world *w;
    int index;
} task;

static task tasks[JOBS + 1];

static void work(void *arg)
{
    task *t = arg;
    if (atomic_fetch_add(&t->w->running, 1) != 0) {
        atomic_fetch_add(&t->w->overlaps, 1);
    }
    uv_sleep(t->index % 3 == 0 ? 1 : 0); /* some jobs take longer than others */
    t->w->worked[t->w->worked_count++] = t->index;
    atomic_fetch_sub(&t->w->running, 1);
}

static void done(void *arg)
{
    task *t = arg;
    uv_thread_t self = uv_thread_self();
    if (!uv_thread_equal(&self, &t->w->loop_thread)) {
        t->w->wrong_thread = true;
    }
    t->w->done_order[t->w->done_count++] = t->index;
    if (t->index == 10) {
        /* A done callback that submits: the new job goes after those already queued. */
        tasks[JOBS].w = t->w;
        tasks[JOBS].index = JOBS;
        assert_int_equal(gov_lane_submit(t->w->lane, work, done, &tasks[JOBS]), 0);
    }
}

static void test_jobs_run_one_at_a_time_in_order(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    world *w = calloc(1, sizeof(*w));
    w->loop_thread = uv_thread_self();
    w->lane = gov_lane_new(&loop);
    assert_non_null(w->lane);
    for (int i = 0; i < JOBS; i++) {
        tasks[i].w = w;
        tasks[i].index = i;
        assert_int_equal(gov_lane_submit(w->lane, work, done, &tasks[i]), 0);
    }
    assert_false(gov_lane_idle(w->lane));
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_true(gov_lane_idle(w->lane));
    assert_int_equal(atomic_load(&w->overlaps), 0);
    assert_false(w->wrong_thread);
    assert_int_equal(w->worked_count, JOBS + 1);
    assert_int_equal(w->done_count, JOBS + 1);
    for (int i = 0; i <= JOBS; i++) {
        assert_int_equal(w->worked[i], i);
        assert_int_equal(w->done_order[i], i);
    }
    gov_lane_free(w->lane);
    free(w);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jobs_run_one_at_a_time_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
