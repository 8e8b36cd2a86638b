/* The node's log lines (node/log.h). */
#include "node/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

const char *gov_log_level_name(gov_log_level level)
{
    switch (level) {
    case GOV_LOG_DEBUG:
        return "debug";
    case GOV_LOG_INFO:
        return "info";
    case GOV_LOG_WARN:
        return "warn";
    case GOV_LOG_ERROR:
        return "error";
    }
    return "info";
}

void gov_log_init(gov_logger *log, FILE *out, gov_log_format format, const char *node)
{
    memset(log, 0, sizeof(*log));
    log->out = out;
    log->json = format == GOV_LOG_JSON || (format == GOV_LOG_AUTO && !isatty(fileno(out)));
    log->min_level = GOV_LOG_INFO;
    snprintf(log->node, sizeof(log->node), "%s", node);
}

void gov_log_position(gov_logger *log, uint64_t height, uint64_t view)
{
    log->height = height;
    log->view = view;
}

/* RFC 3339 UTC with milliseconds. */
static void format_time(char *out, size_t out_len)
{
    struct timespec now;
    struct tm utc;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &utc);
    char seconds[24];
    strftime(seconds, sizeof(seconds), "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf(out, out_len, "%.19s.%03dZ", seconds, (int)(now.tv_nsec / 1000000) % 1000);
}

void gov_log(gov_logger *log, gov_log_level level, const char *event, const char *format, ...)
{
    if (level < log->min_level || log->out == NULL) {
        return;
    }
    char message[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof(message), format, args);
    va_end(args);
    char time_text[40];
    format_time(time_text, sizeof(time_text));
    if (!log->json) {
        /* Control characters from peers' texts would forge or break lines. */
        for (char *c = message; *c != '\0'; c++) {
            if ((unsigned char)*c < 0x20 || *c == 0x7f) {
                *c = '?';
            }
        }
        fprintf(log->out, "%s %-5s %s h=%llu v=%llu %s: %s\n", time_text, gov_log_level_name(level),
                log->node, (unsigned long long)log->height, (unsigned long long)log->view, event,
                message);
        fflush(log->out);
        return;
    }
    json_t *line =
        json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s?}", "time", time_text, "level",
                  gov_log_level_name(level), "node", log->node, "height", (json_int_t)log->height,
                  "view", (json_int_t)log->view, "event", event, "message", message);
    if (line == NULL) {
        /* Invalid UTF-8 in the message (bytes from a peer): keep the line, say so. */
        line = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "time", time_text, "level",
                         gov_log_level_name(level), "node", log->node, "height",
                         (json_int_t)log->height, "view", (json_int_t)log->view, "event", event,
                         "message", "(message not valid UTF-8)");
    }
    char *text = line == NULL ? NULL : json_dumps(line, JSON_COMPACT);
    if (text != NULL) {
        fprintf(log->out, "%s\n", text);
        fflush(log->out);
    }
    free(text);
    json_decref(line);
}
