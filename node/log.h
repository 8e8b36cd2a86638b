/*
 * The node's log: one line per event, plain text on a terminal and JSON Lines
 * otherwise (or as config.ini's log.format says). Every line carries the time, the
 * level, the node's name, its committed height and view, an event name and a message,
 * so `grep '"event":"commit"'` (or ` commit `) finds one line per committed block.
 *
 *   plain: 2026-11-29T08:28:09.123Z info  tax h=12 v=0 commit: block 12, 30 txs, 1f2e...
 *   json:  {"time":"2026-11-29T08:28:09.123Z","level":"info","node":"tax","height":12,
 *           "view":0,"event":"commit","message":"block 12, 30 txs, 1f2e..."}
 *
 * Each line is written with one write and flushed, so lines from one process never
 * interleave. The logger is used from the event loop's thread only.
 */
#ifndef GOVCHAIN_NODE_LOG_H
#define GOVCHAIN_NODE_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "node/config.h"

typedef enum { GOV_LOG_DEBUG, GOV_LOG_INFO, GOV_LOG_WARN, GOV_LOG_ERROR } gov_log_level;

typedef struct {
    FILE *out;
    bool json;
    gov_log_level min_level;
    char node[64];
    uint64_t height;
    uint64_t view;
} gov_logger;

/* format GOV_LOG_AUTO: plain when out is a terminal, JSON otherwise. */
void gov_log_init(gov_logger *log, FILE *out, gov_log_format format, const char *node);
void gov_log_position(gov_logger *log, uint64_t height, uint64_t view);

void gov_log(gov_logger *log, gov_log_level level, const char *event, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

const char *gov_log_level_name(gov_log_level level);

#endif
