/*
 * The node's log lines: JSON Lines that parse, with the node, height, view and event in
 * every line; plain lines for a terminal, in which a peer's text cannot start a new line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "node/log.h"

static void test_json_lines_carry_position(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    gov_logger log;
    gov_log_init(&log, out, GOV_LOG_AUTO, "tax"); /* a memory stream is no terminal */
    gov_log_position(&log, 12, 3);
    gov_log(&log, GOV_LOG_INFO, "commit", "block %d, %d txs", 12, 30);
    gov_log(&log, GOV_LOG_DEBUG, "noise", "below the level: not written");
    gov_log(&log, GOV_LOG_WARN, "peer", "dropped \"%s\"\n", "bad\xff");
    fclose(out);
    char *second = strchr(text, '\n');
    assert_non_null(second);
    *second++ = '\0';
    json_error_t error;
    json_t *line = json_loads(text, 0, &error);
    assert_non_null(line);
    assert_string_equal(json_string_value(json_object_get(line, "node")), "tax");
    assert_int_equal(json_integer_value(json_object_get(line, "height")), 12);
    assert_int_equal(json_integer_value(json_object_get(line, "view")), 3);
    assert_string_equal(json_string_value(json_object_get(line, "event")), "commit");
    assert_string_equal(json_string_value(json_object_get(line, "message")), "block 12, 30 txs");
    assert_string_equal(json_string_value(json_object_get(line, "level")), "info");
    assert_int_equal(strlen(json_string_value(json_object_get(line, "time"))), 24);
    json_decref(line);
    /* The second line is still one valid JSON line although its text was not UTF-8. */
    char *end = strchr(second, '\n');
    assert_non_null(end);
    assert_string_equal(end + 1, "");
    *end = '\0';
    line = json_loads(second, 0, &error);
    assert_non_null(line);
    assert_string_equal(json_string_value(json_object_get(line, "event")), "peer");
    assert_string_equal(json_string_value(json_object_get(line, "level")), "warn");
    json_decref(line);
    free(text);
}

static void test_plain_lines_cannot_be_split(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    gov_logger log;
    gov_log_init(&log, out, GOV_LOG_PLAIN, "market-regulation");
    gov_log_position(&log, 7, 0);
    gov_log(&log, GOV_LOG_ERROR, "peer", "garbage: %s", "x\n2026-01-01 info fake line");
    fclose(out);
    assert_non_null(strstr(text, " error market-regulation h=7 v=0 peer: garbage: x?2026"));
    assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1); /* exactly one line */
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_lines_carry_position),
        cmocka_unit_test(test_plain_lines_cannot_be_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
