/*
 * govchain-sim: runs the consensus simulator over many seeds (docs/simulation.md).
 * Exit status: 0 every seed held every invariant, 1 a seed failed (each failing seed is
 * printed with the command that replays it), 2 bad usage.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/sim/sim.h"

enum { JOBS_MAX = 64 };

typedef struct {
    uint64_t seeds;
    uint64_t first;
    bool one_seed;
    uint64_t seed;
    uint32_t jobs;
    int mix;
    uint32_t nodes;
    bool self_test;
    bool stats;
    bool verbose;
} cli;

/* What a worker reports to the parent, through shared memory so that a worker killed
 * by an assertion in the replica still tells which seed it was on. */
typedef struct {
    uint64_t current; /* the seed being run */
    uint64_t next;    /* the next seed index (0-based, within this worker's share) */
    uint64_t done;
    uint64_t failures;
    uint64_t events;
    uint64_t evidence;
    uint64_t max_recovery_ms;
    uint64_t messages[SIM_SIZES]; /* clean mix only */
    uint64_t heights[SIM_SIZES];
    uint64_t clean_seeds[SIM_SIZES];
} worker_stats;

static void usage(FILE *out)
{
    fprintf(out, "usage: govchain-sim [options]\n"
                 "Runs real PBFT replicas over a simulated network, one seed per run, and checks\n"
                 "agreement, certificates, non-equivocation, durability and liveness.\n"
                 "\n"
                 "  --seeds N      run N seeds (default 1000)\n"
                 "  --first S      start at seed S (default 0)\n"
                 "  --seed S       run only seed S (replays a failure exactly)\n"
                 "  --jobs J       split the seeds among J worker processes (default 1)\n"
                 "  --mix NAME     force one fault mix (default: picked by the seed):\n"
                 "                ");
    for (int i = 0; i < sim_mix_count(); i++) {
        fprintf(out, " %s", sim_mix_name(i));
    }
    fprintf(out, "\n"
                 "  --nodes N      force n = 4, 7 or 10 (default: picked by the seed)\n"
                 "  --self-test    run f + 1 twins and check that the fork is reported\n"
                 "  --stats        print seeds per second and messages per committed block\n"
                 "  --verbose      print each seed's events and trace hash\n"
                 "  --help         this text\n"
                 "Exit status: 0 all seeds passed, 1 a seed failed, 2 bad usage.\n");
}

static int bad_usage(const char *format, ...) __attribute__((format(printf, 1, 2)));

static int bad_usage(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fprintf(stderr, "govchain-sim: ");
    vfprintf(stderr, format, args);
    fprintf(stderr, " (see --help)\n");
    va_end(args);
    return 2;
}

static bool parse_u64(const char *text, uint64_t *out)
{
    char *end = NULL;
    if (text == NULL || *text == '\0' || *text == '-') {
        return false;
    }
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0') {
        return false;
    }
    *out = value;
    return true;
}

/* 0, 2 for bad usage, or 1 after --help (exit 0). */
static int parse_args(int argc, char **argv, cli *c)
{
    *c = (cli){.seeds = 1000, .jobs = 1, .mix = -1};
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        const char *arg = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t value = 0;
        bool takes = true;
        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(opt, "--self-test") == 0) {
            c->self_test = true, takes = false;
        } else if (strcmp(opt, "--stats") == 0) {
            c->stats = true, takes = false;
        } else if (strcmp(opt, "--verbose") == 0) {
            c->verbose = true, takes = false;
        } else if (strcmp(opt, "--mix") == 0) {
            if (arg == NULL || (c->mix = sim_mix_parse(arg)) < 0) {
                return bad_usage("--mix needs one of the mixes listed by --help, not '%s'",
                                 arg ? arg : "");
            }
        } else if (arg == NULL || !parse_u64(arg, &value)) {
            if (strncmp(opt, "--", 2) != 0 ||
                (strcmp(opt, "--seeds") && strcmp(opt, "--seed") && strcmp(opt, "--first") &&
                 strcmp(opt, "--jobs") && strcmp(opt, "--nodes"))) {
                return bad_usage("unknown option '%s'", opt);
            }
            return bad_usage("%s needs a non-negative integer", opt);
        } else if (strcmp(opt, "--seeds") == 0) {
            c->seeds = value;
        } else if (strcmp(opt, "--first") == 0) {
            c->first = value;
        } else if (strcmp(opt, "--seed") == 0) {
            c->one_seed = true, c->seed = value;
        } else if (strcmp(opt, "--jobs") == 0) {
            if (value < 1 || value > JOBS_MAX) {
                return bad_usage("--jobs must be 1 to 64, not %s", arg);
            }
            c->jobs = (uint32_t)value;
        } else if (strcmp(opt, "--nodes") == 0) {
            if (value != 4 && value != 7 && value != 10) {
                return bad_usage("--nodes must be 4, 7 or 10, not %s", arg);
            }
            c->nodes = (uint32_t)value;
        } else {
            return bad_usage("unknown option '%s'", opt);
        }
        i += takes ? 1 : 0;
    }
    return 0;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t size_slot(uint32_t n)
{
    return n == 4 ? 0 : n == 7 ? 1 : 2;
}

static void print_failure(uint64_t seed, const sim_result *r)
{
    printf("seed %" PRIu64 " (n=%u, mix=%s): %s\n", seed, r->n, sim_mix_name(r->mix), r->failure);
    printf("  replay: govchain-sim --seed %" PRIu64 " --verbose\n", seed);
    fflush(stdout);
}

static sim_options options_for(const cli *c, uint64_t seed)
{
    return (sim_options){.seed = seed, .nodes = c->nodes, .mix = c->mix, .verbose = c->verbose};
}

static void run_one(const sim_keys *keys, const cli *c, uint64_t seed, worker_stats *stats)
{
    sim_result r;
    sim_options options = options_for(c, seed);
    stats->current = seed;
    sim_run(keys, &options, &r);
    stats->done++;
    stats->events += r.events;
    stats->evidence += r.evidence;
    if (r.failed) {
        stats->failures++;
        print_failure(seed, &r);
    }
    if (r.recovery_ms > stats->max_recovery_ms) {
        stats->max_recovery_ms = r.recovery_ms;
    }
    if (r.mix == sim_mix_parse("clean") && !r.failed) {
        uint32_t s = size_slot(r.n);
        stats->messages[s] += r.messages;
        stats->heights[s] += r.heights;
        stats->clean_seeds[s]++;
    }
    if (c->verbose) {
        printf("seed %" PRIu64 " (n=%u, mix=%s): %s, %" PRIu64 " heights, %" PRIu64
               " events, ended at %" PRIu64 " ms, trace %016" PRIx64 "\n",
               seed, r.n, sim_mix_name(r.mix), r.failed ? "FAILED" : "ok", r.heights, r.events,
               r.end_ms, r.trace_hash);
        fflush(stdout);
    }
}

/* Worker `job` runs seed indices job, job + jobs, ... from stats->next on. */
static void run_share(const sim_keys *keys, const cli *c, uint32_t job, worker_stats *stats)
{
    for (uint64_t k = stats->next; k * c->jobs + job < c->seeds; k++) {
        stats->next = k + 1;
        run_one(keys, c, c->first + k * c->jobs + job, stats);
    }
}

static int run_single(const sim_keys *keys, const cli *c)
{
    sim_result r;
    sim_options options = options_for(c, c->seed);
    sim_run(keys, &options, &r);
    if (r.failed) {
        print_failure(c->seed, &r);
        return 1;
    }
    printf("seed %" PRIu64 " (n=%u, mix=%s): ok, %" PRIu64 " heights, %" PRIu64
           " events, ended at %" PRIu64 " ms (heal %" PRIu64 " ms), trace %016" PRIx64 "\n",
           c->seed, r.n, sim_mix_name(r.mix), r.heights, r.events, r.end_ms, r.heal_ms,
           r.trace_hash);
    return 0;
}

static int run_self_test(const sim_keys *keys, const cli *c)
{
    sim_result r;
    sim_options options = {
        .seed = c->one_seed ? c->seed : 1, .self_test = true, .verbose = c->verbose};
    sim_run(keys, &options, &r);
    if (r.failed && strncmp(r.failure, "agreement:", 10) == 0) {
        printf("self-test: ok, f + 1 twins forked the chain and the checker reported it:\n"
               "  %s\n",
               r.failure);
        return 0;
    }
    printf("self-test: FAILED, the agreement checker did not report the fork (%s)\n",
           r.failed ? r.failure : "no violation at all");
    return 1;
}

/* Forks one worker per job; a worker killed by a signal (an assertion in the replica)
 * is reported with the seed it was on and replaced by one that carries on after it. */
static void run_parallel(const sim_keys *keys, const cli *c, worker_stats *shared)
{
    pid_t pids[JOBS_MAX];
    uint32_t running = 0;
    for (uint32_t j = 0; j < c->jobs; j++) {
        fflush(stdout);
        pids[j] = fork();
        if (pids[j] == 0) {
            run_share(keys, c, j, &shared[j]);
            fflush(stdout);
            _exit(0);
        }
        running += pids[j] > 0;
    }
    while (running > 0) {
        int status = 0;
        pid_t pid = wait(&status);
        if (pid < 0) {
            break;
        }
        uint32_t j = 0;
        while (j < c->jobs && pids[j] != pid) {
            j++;
        }
        running--;
        if (j == c->jobs || (WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            continue;
        }
        worker_stats *stats = &shared[j];
        printf("seed %" PRIu64 ": crash: the process died (%s %d) while running it\n"
               "  replay: govchain-sim --seed %" PRIu64 " --verbose\n",
               stats->current, WIFSIGNALED(status) ? "signal" : "exit status",
               WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), stats->current);
        stats->failures++;
        stats->done++;
        fflush(stdout);
        pids[j] = fork();
        if (pids[j] == 0) {
            run_share(keys, c, j, stats);
            fflush(stdout);
            _exit(0);
        }
        running += pids[j] > 0;
    }
}

static void print_stats(const cli *c, const worker_stats *total, double seconds)
{
    printf("stats: %" PRIu64 " seeds in %.1f s: %.1f seeds/s with %u job%s; %.0f events/seed; "
           "longest recovery after heal %.1f s (bounds: %.0f / %.0f / %.0f s for n = 4 / 7 / 10)\n",
           total->done, seconds, (double)total->done / seconds, c->jobs, c->jobs == 1 ? "" : "s",
           total->done ? (double)total->events / (double)total->done : 0.0,
           (double)total->max_recovery_ms / 1000.0, (double)sim_liveness_bound_ms(4) / 1000.0,
           (double)sim_liveness_bound_ms(7) / 1000.0, (double)sim_liveness_bound_ms(10) / 1000.0);
    static const uint32_t sizes[SIM_SIZES] = {4, 7, 10};
    for (uint32_t s = 0; s < SIM_SIZES; s++) {
        if (total->heights[s] == 0) {
            continue;
        }
        printf("stats: n = %2u, clean mix: %.1f messages per committed block (%" PRIu64
               " blocks over %" PRIu64 " seeds)\n",
               sizes[s], (double)total->messages[s] / (double)total->heights[s], total->heights[s],
               total->clean_seeds[s]);
    }
}

static int run_seeds(const sim_keys *keys, const cli *c)
{
    size_t size = JOBS_MAX * sizeof(worker_stats);
    worker_stats *shared =
        mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        perror("govchain-sim: mmap");
        return 1;
    }
    memset(shared, 0, size);
    double start = now_seconds();
    if (c->jobs == 1) {
        run_share(keys, c, 0, &shared[0]);
    } else {
        run_parallel(keys, c, shared);
    }
    double seconds = now_seconds() - start;
    worker_stats total = {0};
    for (uint32_t j = 0; j < c->jobs; j++) {
        total.done += shared[j].done;
        total.failures += shared[j].failures;
        total.events += shared[j].events;
        total.evidence += shared[j].evidence;
        if (shared[j].max_recovery_ms > total.max_recovery_ms) {
            total.max_recovery_ms = shared[j].max_recovery_ms;
        }
        for (uint32_t s = 0; s < SIM_SIZES; s++) {
            total.messages[s] += shared[j].messages[s];
            total.heights[s] += shared[j].heights[s];
            total.clean_seeds[s] += shared[j].clean_seeds[s];
        }
    }
    printf("govchain-sim: %" PRIu64 " seeds from %" PRIu64 ", %" PRIu64 " failed, %.1f s; %" PRIu64
           " equivocation proofs reported, each checked\n",
           total.done, c->first, total.failures, seconds, total.evidence);
    if (c->stats) {
        print_stats(c, &total, seconds);
    }
    munmap(shared, size);
    return total.failures == 0 && total.done == c->seeds ? 0 : 1;
}

int main(int argc, char **argv)
{
    cli c;
    int rc = parse_args(argc, argv, &c);
    if (rc != 0) {
        return rc == 1 ? 0 : rc;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    sim_keys keys;
    if (sim_keys_init(&keys) != 0) {
        fprintf(stderr, "govchain-sim: cannot generate the validators' keys\n");
        return 1;
    }
    if (c.self_test) {
        rc = run_self_test(&keys, &c);
    } else if (c.one_seed) {
        rc = run_single(&keys, &c);
    } else {
        rc = run_seeds(&keys, &c);
    }
    sim_keys_free(&keys);
    return rc;
}
