/*
 * The HTTP server (node/http.h) over real sockets on 127.0.0.1.
 *
 * Each test runs the server's loop in the test thread and a client in a second thread
 * with blocking sockets (every receive times out after a few seconds, so a server that
 * stalls fails the test instead of hanging it). The client only records what it saw,
 * as observations; the test thread asserts on them after joining it, so cmocka is only
 * used from one thread. Every test ends by stopping the server and checking that the
 * loop closes with no handle left.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "govchain/error.h"
#include "node/http.h"
#include "tests/unit/test_util.h"

enum {
    OBSERVATIONS_MAX = 256,
    BODY_KEPT = 512,
    CLIENT_TIMEOUT_MS = 5000,
    BIG_BODY_BYTES = 200 * 1024,
};

/* What a client saw of one response (status 0: none came). */
typedef struct observation {
    int status;
    bool closed; /* the server closed the connection after it */
    char body[BODY_KEPT];
    size_t body_len;
    char content_type[64];
    char cache_control[32];
    char connection[32];
    char nosniff[16];
    char allow[32];
} observation;

typedef struct harness harness;
typedef void (*client_fn)(harness *h);

struct harness {
    uv_loop_t loop;
    gov_http_config config;
    gov_http_server *server;
    uint16_t port;
    uv_async_t done;
    uv_timer_t watchdog;
    uv_timer_t poll_timer;
    pthread_t thread;
    client_fn client;
    bool done_sent; /* by the client, which sends it once */
    bool server_done, timed_out;
    gov_http_stats stats; /* just before stopping */

    /* Loop side; read by the client thread through atomics. */
    atomic_int handler_calls, cancels, gone_answered;
    /* /hold: body bytes the handler got during its call, and the held reply kept. */
    atomic_int hold_body_bytes, hold_kept_bytes;
    gov_http_reply *pairs[2];
    size_t pairs_count;
    gov_http_reply *held[16];
    size_t held_count;
    gov_http_reply *poll_reply;

    /* Client side; read by the test thread after the join. */
    observation obs[OBSERVATIONS_MAX];
    size_t obs_count;
    int values[8]; /* test-specific numbers */
    char failure[256];
};

/* The handler (loop thread) --------------------------------------------------------- */

typedef struct delayed {
    uv_timer_t timer;
    gov_http_reply *reply;
} delayed;

static void delayed_closed(uv_handle_t *handle)
{
    free(handle->data);
}

static void delayed_fire(uv_timer_t *timer)
{
    delayed *d = timer->data;
    gov_http_reply_json(d->reply, 200, json_pack("{s:b}", "async", 1));
    uv_close((uv_handle_t *)timer, delayed_closed);
}

static void hold_cancelled(gov_http_reply *reply, void *arg)
{
    harness *h = arg;
    for (size_t i = 0; i < h->held_count; i++) {
        if (h->held[i] == reply) {
            h->held[i] = h->held[--h->held_count];
            atomic_fetch_add(&h->cancels, 1);
            return;
        }
    }
    fail_msg("cancel callback for a reply that was not held");
}

static void poll_gone(uv_timer_t *timer)
{
    harness *h = timer->data;
    if (h->poll_reply != NULL && gov_http_reply_is_gone(h->poll_reply)) {
        int rc = gov_http_reply_json(h->poll_reply, 200, json_object());
        h->poll_reply = NULL;
        if (rc == GOV_EIO) {
            atomic_fetch_add(&h->gone_answered, 1);
        }
    }
}

static void handler(gov_http_reply *reply, const gov_http_request *request, void *arg)
{
    harness *h = arg;
    atomic_fetch_add(&h->handler_calls, 1);
    const char *path = request->path;
    if (strcmp(path, "/hello") == 0) {
        gov_http_reply_json(reply, 200,
                            json_pack("{s:s,s:s,s:s}", "method", request->method, "path", path,
                                      "query", request->query));
    } else if (strcmp(path, "/echo") == 0) {
        const char *type = request->content_type != NULL ? request->content_type : "text/plain";
        gov_http_reply_text(reply, 200, type, request->body, request->body_len);
    } else if (strcmp(path, "/async") == 0) {
        uint64_t ms = 0;
        if (gov_http_query_uint(request->query, "ms", 1000, &ms) != 0) {
            gov_http_reply_error(reply, 400, "bad_query", "ms must be 0..1000");
            return;
        }
        delayed *d = calloc(1, sizeof(*d));
        assert_non_null(d);
        d->reply = reply;
        uv_timer_init(&h->loop, &d->timer);
        d->timer.data = d;
        uv_timer_start(&d->timer, delayed_fire, ms, 0);
    } else if (strcmp(path, "/pair") == 0) {
        /* The second request of a pair is answered first. */
        h->pairs[h->pairs_count++] = reply;
        if (h->pairs_count == 2) {
            h->pairs_count = 0;
            for (int i = 1; i >= 0; i--) {
                const gov_http_request *q = gov_http_reply_request(h->pairs[i]);
                gov_http_reply_json(h->pairs[i], 200, json_pack("{s:s}", "query", q->query));
            }
        }
    } else if (strcmp(path, "/hold") == 0 && h->held_count < 16) {
        atomic_fetch_add(&h->hold_body_bytes, (int)request->body_len);
        atomic_fetch_add(&h->hold_kept_bytes, (int)gov_http_reply_request(reply)->body_len);
        h->held[h->held_count++] = reply;
        gov_http_reply_on_cancel(reply, hold_cancelled, h);
    } else if (strcmp(path, "/hold-poll") == 0 && h->poll_reply == NULL) {
        h->poll_reply = reply;
    } else if (strcmp(path, "/big") == 0) {
        static char big[BIG_BODY_BYTES];
        memset(big, 'b', sizeof(big));
        gov_http_reply_text(reply, 200, "text/plain", big, sizeof(big));
    } else if (strcmp(path, "/method") == 0) {
        assert_int_equal(gov_http_reply_header(reply, "Allow", "GET"), 0);
        assert_int_equal(gov_http_reply_header(reply, "Content-Length", "1"), GOV_EINVAL);
        assert_int_equal(gov_http_reply_header(reply, "X-Bad", "a\r\nb: c"), GOV_EINVAL);
        assert_int_equal(gov_http_reply_header(reply, "X Bad", "a"), GOV_EINVAL);
        gov_http_reply_error(reply, 405, "method_not_allowed", "only GET");
    } else if (strcmp(path, "/header") == 0) {
        const char *value = gov_http_request_header(request, "x-test");
        gov_http_reply_json(reply, 200, json_pack("{s:s?}", "x-test", value));
    } else {
        gov_http_reply_error(reply, 404, "not_found", "no such resource");
    }
}

/* The harness ------------------------------------------------------------------------- */

static void server_stopped(void *arg)
{
    harness *h = arg;
    h->server_done = true;
}

static void stop_everything(harness *h)
{
    if (h->server == NULL) {
        return;
    }
    gov_http_server_stats(h->server, &h->stats);
    gov_http_server_stop(h->server, server_stopped, h);
    h->server = NULL;
    poll_gone(&h->poll_timer); /* stopping made a held poll reply gone: free it */
    uv_close((uv_handle_t *)&h->done, NULL);
    uv_close((uv_handle_t *)&h->watchdog, NULL);
    uv_close((uv_handle_t *)&h->poll_timer, NULL);
}

static void on_done(uv_async_t *async)
{
    stop_everything(async->data);
}

static void on_watchdog(uv_timer_t *timer)
{
    harness *h = timer->data;
    h->timed_out = true;
    stop_everything(h);
}

static void *client_main(void *arg)
{
    harness *h = arg;
    h->client(h);
    if (!h->done_sent) {
        uv_async_send(&h->done);
    }
    return NULL;
}

static harness *harness_new(void)
{
    harness *h = calloc(1, sizeof(*h));
    assert_non_null(h);
    gov_http_config_default(&h->config);
    h->config.request_timeout_ms = 2000;
    h->config.idle_timeout_ms = 5000;
    return h;
}

static void run(harness *h, client_fn client)
{
    assert_int_equal(uv_loop_init(&h->loop), 0);
    char why[256] = "";
    int rc = gov_http_server_start(&h->loop, &h->config, handler, h, &h->server, why, sizeof(why));
    if (rc != 0) {
        fail_msg("start: %s", why);
    }
    h->port = gov_http_server_port(h->server);
    assert_true(h->port != 0);
    uv_async_init(&h->loop, &h->done, on_done);
    h->done.data = h;
    uv_timer_init(&h->loop, &h->watchdog);
    h->watchdog.data = h;
    uv_timer_start(&h->watchdog, on_watchdog, 30000, 0);
    uv_timer_init(&h->loop, &h->poll_timer);
    h->poll_timer.data = h;
    uv_timer_start(&h->poll_timer, poll_gone, 2, 2);
    h->client = client;
    assert_int_equal(pthread_create(&h->thread, NULL, client_main, h), 0);
    uv_run(&h->loop, UV_RUN_DEFAULT);
    assert_int_equal(pthread_join(h->thread, NULL), 0);
    if (h->failure[0] != '\0') {
        fail_msg("client: %s", h->failure);
    }
    assert_false(h->timed_out);
    assert_true(h->server_done);
    /* Every handle of the server was closed: nothing is left on the loop. */
    assert_int_equal(uv_loop_close(&h->loop), 0);
}

/* The client (its own thread) ------------------------------------------------------------ */

typedef struct client {
    int fd;
    char *buf;
    size_t len, cap;
} client;

static void client_fail(harness *h, const char *what)
{
    if (h->failure[0] == '\0') {
        snprintf(h->failure, sizeof(h->failure), "%s", what);
    }
}

static bool client_open(harness *h, client *c)
{
    memset(c, 0, sizeof(*c));
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0) {
        client_fail(h, "socket");
        return false;
    }
    struct timeval tv = {.tv_sec = CLIENT_TIMEOUT_MS / 1000};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(h->port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        client_fail(h, "connect");
        close(c->fd);
        c->fd = -1;
        return false;
    }
    c->cap = 4096;
    c->buf = malloc(c->cap);
    return c->buf != NULL;
}

static void client_close(client *c)
{
    if (c->fd >= 0) {
        close(c->fd);
    }
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
}

static bool client_send(client *c, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static bool client_send_text(client *c, const char *text)
{
    return client_send(c, text, strlen(text));
}

/* Reads more bytes: > 0, or 0 at end of stream, or -1 on error or timeout. */
static ssize_t client_fill(client *c)
{
    if (c->cap - c->len < 4096) {
        char *buf = realloc(c->buf, c->cap * 2);
        if (buf == NULL) {
            return -1;
        }
        c->buf = buf;
        c->cap *= 2;
    }
    ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    if (n > 0) {
        c->len += (size_t)n;
    }
    return n;
}

static void header_value(const char *head, const char *name, char *out, size_t out_len)
{
    out[0] = '\0';
    size_t name_len = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line != NULL; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, name, name_len) == 0 && line[2 + name_len] == ':') {
            const char *v = line + 2 + name_len + 1;
            while (*v == ' ') {
                v++;
            }
            size_t n = strcspn(v, "\r");
            snprintf(out, out_len, "%.*s", (int)(n < out_len ? n : out_len - 1), v);
            return;
        }
    }
}

static char *find_blank_line(char *buf, size_t len)
{
    for (size_t i = 0; i + 4 <= len; i++) {
        if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
            return buf + i;
        }
    }
    return NULL;
}

/* Reads one response (skipping any 100 Continue) into o. false when none came whole, or
 * when it is not a well-formed HTTP/1.1 response. */
static bool client_read(client *c, observation *o, bool head_request)
{
    memset(o, 0, sizeof(*o));
    for (;;) {
        char *end = find_blank_line(c->buf, c->len);
        if (end == NULL) {
            if (client_fill(c) <= 0) {
                return false;
            }
            continue;
        }
        size_t head_len = (size_t)(end - c->buf) + 4;
        char head[8192];
        if (head_len >= sizeof(head)) {
            return false;
        }
        memcpy(head, c->buf, head_len);
        head[head_len] = '\0';
        int status = 0;
        if (sscanf(head, "HTTP/1.1 %3d ", &status) != 1 || status < 100 || status > 599) {
            return false;
        }
        if (status == 100) {
            memmove(c->buf, c->buf + head_len, c->len - head_len);
            c->len -= head_len;
            continue;
        }
        char length_text[32];
        header_value(head, "Content-Length", length_text, sizeof(length_text));
        char *length_end = NULL;
        size_t length = (size_t)strtoull(length_text, &length_end, 10);
        if (length_text[0] == '\0' || *length_end != '\0') {
            return false;
        }
        size_t body_len = head_request ? 0 : length;
        while (c->len < head_len + body_len) {
            if (client_fill(c) <= 0) {
                return false;
            }
        }
        o->status = status;
        o->body_len = length;
        size_t kept = body_len < BODY_KEPT - 1 ? body_len : BODY_KEPT - 1;
        memcpy(o->body, c->buf + head_len, kept);
        o->body[kept] = '\0';
        header_value(head, "Content-Type", o->content_type, sizeof(o->content_type));
        header_value(head, "Cache-Control", o->cache_control, sizeof(o->cache_control));
        header_value(head, "Connection", o->connection, sizeof(o->connection));
        header_value(head, "X-Content-Type-Options", o->nosniff, sizeof(o->nosniff));
        header_value(head, "Allow", o->allow, sizeof(o->allow));
        memmove(c->buf, c->buf + head_len + body_len, c->len - head_len - body_len);
        c->len -= head_len + body_len;
        return true;
    }
}

/* Whether the server closes the connection (end of stream or reset) with nothing more
 * to read. false on a timeout or on more bytes. */
static bool client_sees_close(client *c)
{
    if (c->len > 0) {
        return false;
    }
    ssize_t n = client_fill(c);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* Reads a response into the next observation; records status 0 when none came. */
static observation *client_observe(harness *h, client *c, bool head_request)
{
    if (h->obs_count == OBSERVATIONS_MAX) {
        client_fail(h, "too many observations");
        return &h->obs[OBSERVATIONS_MAX - 1];
    }
    observation *o = &h->obs[h->obs_count++];
    if (!client_read(c, o, head_request)) {
        o->status = 0;
    }
    return o;
}

static observation *request(harness *h, client *c, const char *text)
{
    if (!client_send_text(c, text)) {
        client_fail(h, "send");
    }
    return client_observe(h, c, strncmp(text, "HEAD ", 5) == 0);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void wait_for(atomic_int *value, int target)
{
    for (int i = 0; i < CLIENT_TIMEOUT_MS && atomic_load(value) < target; i++) {
        sleep_ms(1);
    }
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Assertions (test thread) ----------------------------------------------------------------- */

static void assert_json_error(const observation *o, int status, const char *code)
{
    assert_int_equal(o->status, status);
    assert_string_equal(o->content_type, "application/json");
    json_error_t error;
    json_t *body = json_loads(o->body, 0, &error);
    if (body == NULL) {
        fail_msg("error body is not JSON: %s", o->body);
    }
    const char *got_code = NULL, *message = NULL;
    assert_int_equal(
        json_unpack(body, "{s:{s:s,s:s}}", "error", "code", &got_code, "message", &message), 0);
    assert_string_equal(got_code, code);
    assert_true(strlen(message) > 0);
    json_decref(body);
}

#define GET_HELLO "GET /hello?x=1 HTTP/1.1\r\nHost: t\r\n\r\n"
static const char HELLO_BODY[] = "{\"method\":\"GET\",\"path\":\"/hello\",\"query\":\"x=1\"}";

/* Tests ------------------------------------------------------------------------------------ */

static void client_get(harness *h)
{
    client c;
    if (!client_open(h, &c)) {
        return;
    }
    request(h, &c, GET_HELLO);
    request(h, &c, "HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n");
    request(h, &c, "GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n");
    request(h, &c,
            "GET /header HTTP/1.1\r\nHost: t\r\nX-Test:  spaced value  \r\nX-Empty:\r\n\r\n");
    request(h, &c, "DELETE /method HTTP/1.1\r\nHost: t\r\n\r\n");
    client_close(&c);
}

static void test_get_answered_synchronously(void **state)
{
    (void)state;
    harness *h = harness_new();
    run(h, client_get);
    assert_int_equal(h->obs_count, 5);
    const observation *o = &h->obs[0];
    assert_int_equal(o->status, 200);
    assert_string_equal(o->body, HELLO_BODY);
    assert_int_equal(o->body_len, strlen(HELLO_BODY));
    assert_string_equal(o->content_type, "application/json");
    assert_string_equal(o->cache_control, "no-store");
    assert_string_equal(o->nosniff, "nosniff");
    assert_string_equal(o->connection, "");
    /* HEAD: the length of the body that GET would send, and no body. */
    assert_int_equal(h->obs[1].status, 200);
    assert_int_equal(h->obs[1].body_len,
                     strlen("{\"method\":\"HEAD\",\"path\":\"/hello\",\"query\":\"\"}"));
    assert_json_error(&h->obs[2], 404, "not_found");
    assert_int_equal(h->obs[3].status, 200);
    assert_string_equal(h->obs[3].body, "{\"x-test\":\"spaced value\"}");
    assert_json_error(&h->obs[4], 405, "method_not_allowed");
    assert_string_equal(h->obs[4].allow, "GET");
    assert_int_equal(h->handler_calls, 5);
    assert_int_equal(h->stats.requests, 5);
    assert_int_equal(h->stats.responses[2], 3);
    assert_int_equal(h->stats.responses[4], 2);
    free(h);
}

static void client_async(harness *h)
{
    client c;
    if (!client_open(h, &c)) {
        return;
    }
    uint64_t start = now_ms();
    request(h, &c, "GET /async?ms=50 HTTP/1.1\r\nHost: t\r\n\r\n");
    h->values[0] = (int)(now_ms() - start);
    request(h, &c, "GET /async?ms=-1 HTTP/1.1\r\nHost: t\r\n\r\n");
    request(h, &c, GET_HELLO); /* the same connection still serves */
    client_close(&c);
}

static void test_async_reply_after_timer(void **state)
{
    (void)state;
    harness *h = harness_new();
    run(h, client_async);
    assert_int_equal(h->obs_count, 3);
    assert_int_equal(h->obs[0].status, 200);
    assert_string_equal(h->obs[0].body, "{\"async\":true}");
    assert_true(h->values[0] >= 45);
    assert_json_error(&h->obs[1], 400, "bad_query");
    assert_string_equal(h->obs[2].body, HELLO_BODY);
    free(h);
}

static void client_pipeline(harness *h)
{
    client c;
    if (!client_open(h, &c)) {
        return;
    }
    /* Two requests in one write; the handler answers the second first. */
    client_send_text(&c, "GET /pair?n=1 HTTP/1.1\r\nHost: t\r\n\r\n"
                         "GET /pair?n=2 HTTP/1.1\r\nHost: t\r\n\r\n");
    client_observe(h, &c, false);
    client_observe(h, &c, false);
    /* Many more than pipeline_max in one write: parsing waits, nothing is lost. */
    char text[64 * 40];
    size_t len = 0;
    for (int i = 0; i < 40; i++) {
        len += (size_t)snprintf(text + len, sizeof(text) - len,
                                "GET /hello?i=%d HTTP/1.1\r\nHost: t\r\n\r\n", i);
    }
    client_send(&c, text, len);
    for (int i = 0; i < 40; i++) {
        client_observe(h, &c, false);
    }
    client_close(&c);
}

static void test_pipelined_requests_answered_in_order(void **state)
{
    (void)state;
    harness *h = harness_new();
    h->config.pipeline_max = 4;
    run(h, client_pipeline);
    assert_int_equal(h->obs_count, 42);
    assert_string_equal(h->obs[0].body, "{\"query\":\"n=1\"}");
    assert_string_equal(h->obs[1].body, "{\"query\":\"n=2\"}");
    for (int i = 0; i < 40; i++) {
        char expected[128];
        snprintf(expected, sizeof(expected),
                 "{\"method\":\"GET\",\"path\":\"/hello\",\"query\":\"i=%d\"}", i);
        assert_int_equal(h->obs[2 + i].status, 200);
        assert_string_equal(h->obs[2 + i].body, expected);
    }
    free(h);
}

static void client_keep_alive(harness *h)
{
    client c;
    if (client_open(h, &c)) {
        request(h, &c, GET_HELLO);
        request(h, &c, GET_HELLO);
        observation *o =
            request(h, &c, "GET /hello?x=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        o->closed = client_sees_close(&c);
        client_close(&c);
    }
    if (client_open(h, &c)) {
        observation *o = request(h, &c, "GET /hello?x=1 HTTP/1.0\r\n\r\n");
        o->closed = client_sees_close(&c);
        client_close(&c);
    }
    if (client_open(h, &c)) {
        request(h, &c, "GET /hello?x=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        request(h, &c, "GET /hello?x=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        client_close(&c);
    }
    /* A client that stops sending after its request still gets the answer. */
    if (client_open(h, &c)) {
        client_send_text(&c, GET_HELLO);
        shutdown(c.fd, SHUT_WR);
        observation *o = client_observe(h, &c, false);
        o->closed = client_sees_close(&c);
        client_close(&c);
    }
    h->values[0] = atomic_load(&h->handler_calls);
}

static void test_keep_alive_and_connection_close(void **state)
{
    (void)state;
    harness *h = harness_new();
    run(h, client_keep_alive);
    assert_int_equal(h->obs_count, 7);
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(h->obs[i].status, 200);
        assert_string_equal(h->obs[i].body, HELLO_BODY);
    }
    assert_string_equal(h->obs[0].connection, "");
    assert_string_equal(h->obs[1].connection, "");
    assert_false(h->obs[1].closed);
    assert_string_equal(h->obs[2].connection, "close");
    assert_true(h->obs[2].closed);
    assert_string_equal(h->obs[3].connection, "close"); /* HTTP/1.0 */
    assert_true(h->obs[3].closed);
    assert_string_equal(h->obs[4].connection, "keep-alive");
    assert_string_equal(h->obs[5].connection, "keep-alive");
    assert_true(h->obs[6].closed);
    assert_int_equal(h->values[0], 7);
    free(h);
}

static void post(harness *h, const char *body_or_chunks, size_t body_len, bool chunked)
{
    client c;
    if (!client_open(h, &c)) {
        return;
    }
    char head[256];
    if (chunked) {
        snprintf(head, sizeof(head),
                 "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: text/x-test\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n");
    } else {
        snprintf(head, sizeof(head),
                 "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: text/x-test\r\n"
                 "Content-Length: %zu\r\n\r\n",
                 body_len);
    }
    client_send_text(&c, head);
    client_send(&c, body_or_chunks, chunked ? strlen(body_or_chunks) : body_len);
    observation *o = client_observe(h, &c, false);
    if (o->status != 200) {
        o->closed = client_sees_close(&c);
    }
    client_close(&c);
}

static void client_body_cap(harness *h)
{
    char body[65];
    memset(body, 'a', sizeof(body));
    post(h, body, 64, false);
    h->values[0] = atomic_load(&h->handler_calls);
    post(h, body, 65, false);
    h->values[1] = atomic_load(&h->handler_calls);
    /* Chunked: 40 + 24 = 64 bytes, then 40 + 25. */
    char chunks[256];
    snprintf(chunks, sizeof(chunks), "28\r\n%.40s\r\n18\r\n%.24s\r\n0\r\n\r\n", body, body);
    post(h, chunks, 0, true);
    snprintf(chunks, sizeof(chunks), "28\r\n%.40s\r\n19\r\n%.25s\r\n0\r\n\r\n", body, body);
    post(h, chunks, 0, true);
    /* A Content-Length far above the cap is refused before any body is sent. */
    client c;
    if (client_open(h, &c)) {
        observation *o =
            request(h, &c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999\r\n\r\n");
        o->closed = client_sees_close(&c);
        client_close(&c);
    }
    h->values[2] = atomic_load(&h->handler_calls);
}

static void test_body_cap_exact_passes_one_more_gets_413(void **state)
{
    (void)state;
    harness *h = harness_new();
    h->config.body_bytes_max = 64;
    run(h, client_body_cap);
    assert_int_equal(h->obs_count, 5);
    assert_int_equal(h->obs[0].status, 200);
    assert_int_equal(h->obs[0].body_len, 64);
    assert_string_equal(h->obs[0].content_type, "text/x-test");
    assert_string_equal(h->obs[0].cache_control, "");
    assert_json_error(&h->obs[1], 413, "body_too_large");
    assert_string_equal(h->obs[1].connection, "close");
    assert_true(h->obs[1].closed);
    assert_int_equal(h->values[0], 1);
    assert_int_equal(h->values[1], 1); /* the handler never saw the large one */
    assert_int_equal(h->obs[2].status, 200);
    assert_int_equal(h->obs[2].body_len, 64);
    assert_json_error(&h->obs[3], 413, "body_too_large");
    assert_true(h->obs[3].closed);
    assert_json_error(&h->obs[4], 413, "body_too_large");
    assert_true(h->obs[4].closed);
    assert_int_equal(h->values[2], 2);
    assert_int_equal(h->stats.bad_requests, 3);
    free(h);
}

static void client_header_flood(harness *h)
{
    client c;
    /* Just under the cap: served. */
    if (client_open(h, &c)) {
        char text[2048];
        size_t len = (size_t)snprintf(text, sizeof(text), "GET /hello?x=1 HTTP/1.1\r\nHost: t\r\n");
        while (len < 1024 - 40) {
            len += (size_t)snprintf(text + len, sizeof(text) - len, "X-Pad: %s\r\n", "0123456789");
        }
        snprintf(text + len, sizeof(text) - len, "\r\n");
        request(h, &c, text);
        client_close(&c);
    }
    if (client_open(h, &c)) {
        char line[64];
        client_send_text(&c, "GET /hello HTTP/1.1\r\nHost: t\r\n");
        for (int i = 0; i < 200; i++) {
            snprintf(line, sizeof(line), "X-Flood-%03d: aaaaaaaaaaaaaaaaaaaa\r\n", i);
            if (!client_send_text(&c, line)) {
                break; /* the server may close before it has all */
            }
        }
        observation *o = client_observe(h, &c, false);
        o->closed = client_sees_close(&c);
        client_close(&c);
    }
    /* Spaces that llhttp skips count as well. */
    if (client_open(h, &c)) {
        char text[4096];
        size_t len = (size_t)snprintf(text, sizeof(text), "GET /hello HTTP/1.1\r\nHost:");
        memset(text + len, ' ', 3000);
        len += 3000;
        len += (size_t)snprintf(text + len, sizeof(text) - len, "t\r\n\r\n");
        client_send(&c, text, len);
        client_observe(h, &c, false);
        client_close(&c);
    }
}

static void test_header_flood_gets_431(void **state)
{
    (void)state;
    harness *h = harness_new();
    h->config.header_bytes_max = 1024;
    run(h, client_header_flood);
    assert_int_equal(h->obs_count, 3);
    assert_int_equal(h->obs[0].status, 200);
    assert_json_error(&h->obs[1], 431, "headers_too_large");
    assert_true(h->obs[1].closed);
    assert_json_error(&h->obs[2], 431, "headers_too_large");
    assert_int_equal(h->handler_calls, 1);
    free(h);
}

static void client_stall(harness *h)
{
    client c;
    if (client_open(h, &c)) {
        uint64_t start = now_ms();
        client_send_text(&c, "GET /hello HTTP/1.1\r\nHost: t\r\n");
        observation *o = client_observe(h, &c, false);
        h->values[0] = (int)(now_ms() - start);
        o->closed = client_sees_close(&c);
        client_close(&c);
    }
    if (client_open(h, &c)) {
        client_send_text(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
        observation *o = client_observe(h, &c, false);
        o->closed = client_sees_close(&c);
        client_close(&c);
    }
    /* An idle keep-alive connection is closed without a response. */
    if (client_open(h, &c)) {
        request(h, &c, GET_HELLO);
        uint64_t start = now_ms();
        h->values[1] = client_sees_close(&c);
        h->values[2] = (int)(now_ms() - start);
        client_close(&c);
    }
    /* Blank lines start no request, so they do not keep a connection from being idle:
     * sent every 50 ms, they do not stop the server closing it after 150 ms. */
    if (client_open(h, &c)) {
        request(h, &c, GET_HELLO);
        uint64_t start = now_ms();
        bool closed = false;
        for (int i = 0; i < 20 && !closed; i++) {
            char byte;
            closed = !client_send_text(&c, "\r\n") || recv(c.fd, &byte, 1, MSG_DONTWAIT) == 0;
            nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
        }
        h->values[3] = closed;
        h->values[4] = (int)(now_ms() - start);
        client_close(&c);
    }
}

static void test_stalled_request_gets_408_and_close(void **state)
{
    (void)state;
    harness *h = harness_new();
    h->config.request_timeout_ms = 100;
    h->config.idle_timeout_ms = 150;
    run(h, client_stall);
    assert_int_equal(h->obs_count, 4);
    assert_int_equal(h->obs[3].status, 200);
    assert_json_error(&h->obs[0], 408, "timeout");
    assert_true(h->obs[0].closed);
    assert_true(h->values[0] >= 90);
    assert_json_error(&h->obs[1], 408, "timeout");
    assert_true(h->obs[1].closed);
    assert_int_equal(h->obs[2].status, 200);
    assert_true(h->values[1]);
    assert_true(h->values[2] >= 100);
    assert_true(h->values[3]);
    assert_true(h->values[4] < 1000);
    assert_int_equal(h->handler_calls, 2);
    assert_int_equal(h->stats.timeouts, 2);
    free(h);
}

static void client_garbage(harness *h)
{
    static const char *const inputs[] = {
        "\x01\x02\x03 garbage\r\n\r\n",
        "GET / HTTP/2.0\r\nHost: t\r\n\r\n",
        "GET / HTTP/7.1\r\nHost: t\r\n\r\n",
        "GET /hello HTTP/1.1\r\n\r\n", /* no Host */
        "GET http://example.org/hello HTTP/1.1\r\nHost: t\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "GET / HTTP/0.9\r\n\r\n",
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        "CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        client c;
        if (!client_open(h, &c)) {
            return;
        }
        observation *o = request(h, &c, inputs[i]);
        o->closed = client_sees_close(&c);
        client_close(&c);
    }
}

static void test_garbage_gets_400(void **state)
{
    (void)state;
    harness *h = harness_new();
    run(h, client_garbage);
    assert_int_equal(h->obs_count, 10);
    assert_json_error(&h->obs[0], 400, "bad_request");
    assert_json_error(&h->obs[1], 505, "http_version_not_supported");
    assert_json_error(&h->obs[2], 505, "http_version_not_supported");
    assert_json_error(&h->obs[3], 400, "bad_request");
    assert_json_error(&h->obs[4], 400, "bad_request");
    assert_json_error(&h->obs[5], 400, "bad_request");
    assert_json_error(&h->obs[6], 400, "bad_request");
    assert_json_error(&h->obs[7], 505, "http_version_not_supported");
    assert_json_error(&h->obs[8], 505, "http_version_not_supported");
    assert_json_error(&h->obs[9], 400, "bad_request");
    for (size_t i = 0; i < 10; i++) {
        assert_string_equal(h->obs[i].connection, "close");
        assert_true(h->obs[i].closed);
    }
    assert_int_equal(h->handler_calls, 0);
    free(h);
}

static void client_details(harness *h)
{
    client c;
    /* Expect: 100-continue within the limit: 100, then the body is read. */
    if (client_open(h, &c)) {
        client_send_text(&c, "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                             "Content-Length: 5\r\n\r\n");
        static const char interim[] = "HTTP/1.1 100 Continue\r\n\r\n";
        while (c.len < sizeof(interim) - 1 && client_fill(&c) > 0) {
        }
        h->values[0] = c.len == sizeof(interim) - 1 && memcmp(c.buf, interim, c.len) == 0;
        c.len = 0;
        request(h, &c, "hello");
        client_close(&c);
    }
    /* Over the limit: 413 at once, and the body is never needed. */
    if (client_open(h, &c)) {
        observation *o = request(h, &c,
                                 "POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                                 "Content-Length: 100\r\n\r\n");
        o->closed = client_sees_close(&c);
        client_close(&c);
    }
    /* An upgrade is not made: the request is served and the connection closed. */
    if (client_open(h, &c)) {
        observation *o = request(h, &c,
                                 "GET /hello?x=1 HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\n"
                                 "Upgrade: websocket\r\n\r\n");
        o->closed = client_sees_close(&c);
        client_close(&c);
    }
}

static void test_protocol_details(void **state)
{
    (void)state;
    harness *h = harness_new();
    h->config.body_bytes_max = 64;
    run(h, client_details);
    assert_int_equal(h->obs_count, 3);
    assert_true(h->values[0]);
    assert_int_equal(h->obs[0].status, 200);
    assert_string_equal(h->obs[0].body, "hello");
    assert_json_error(&h->obs[1], 413, "body_too_large");
    assert_true(h->obs[1].closed);
    assert_int_equal(h->obs[2].status, 200);
    assert_string_equal(h->obs[2].body, HELLO_BODY);
    assert_string_equal(h->obs[2].connection, "close");
    assert_true(h->obs[2].closed);
    free(h);
}

static void client_limit(harness *h)
{
    client a, b, c;
    if (!client_open(h, &a) || !client_open(h, &b)) {
        return;
    }
    request(h, &a, GET_HELLO);
    request(h, &b, GET_HELLO);
    if (client_open(h, &c)) {
        observation *o = request(h, &c, GET_HELLO);
        o->closed = client_sees_close(&c);
        client_close(&c);
    }
    request(h, &a, GET_HELLO); /* the open ones still work */
    request(h, &b, GET_HELLO);
    /* Once one closes, a new connection is served (after the server notices). */
    client_close(&b);
    for (int attempt = 0; attempt < 500; attempt++) {
        if (!client_open(h, &c)) {
            return;
        }
        observation o;
        client_send_text(&c, GET_HELLO);
        bool got = client_read(&c, &o, false);
        client_close(&c);
        if (got && o.status == 200) {
            h->values[0] = attempt + 1;
            break;
        }
        sleep_ms(2);
    }
    client_close(&a);
}

static void test_connection_limit_gives_503(void **state)
{
    (void)state;
    harness *h = harness_new();
    h->config.connections_max = 2;
    run(h, client_limit);
    assert_int_equal(h->obs_count, 5);
    assert_int_equal(h->obs[0].status, 200);
    assert_int_equal(h->obs[1].status, 200);
    assert_json_error(&h->obs[2], 503, "too_many_connections");
    assert_true(h->obs[2].closed);
    assert_int_equal(h->obs[3].status, 200);
    assert_int_equal(h->obs[4].status, 200);
    assert_true(h->values[0] >= 1);
    assert_true(h->stats.connections_refused >= 1);
    free(h);
}

static void client_gone(harness *h)
{
    client c;
    if (client_open(h, &c)) {
        client_send_text(&c, "POST /hold HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
        wait_for(&h->handler_calls, 1);
        client_close(&c);
        wait_for(&h->cancels, 1);
    }
    if (client_open(h, &c)) {
        client_send_text(&c, "GET /hold-poll HTTP/1.1\r\nHost: t\r\n\r\n");
        wait_for(&h->handler_calls, 2);
        client_close(&c);
        wait_for(&h->gone_answered, 1);
    }
    /* Pipelined behind a held reply, with one already answered. */
    if (client_open(h, &c)) {
        client_send_text(&c, "GET /hold HTTP/1.1\r\nHost: t\r\n\r\n" GET_HELLO);
        wait_for(&h->handler_calls, 4);
        client_close(&c);
        wait_for(&h->cancels, 2);
    }
    if (client_open(h, &c)) {
        request(h, &c, GET_HELLO);
        client_close(&c);
    }
    h->values[0] = atomic_load(&h->cancels);
    h->values[1] = atomic_load(&h->gone_answered);
    h->values[2] = atomic_load(&h->hold_body_bytes);
    h->values[3] = atomic_load(&h->hold_kept_bytes);
}

static void test_client_gone_while_reply_pending(void **state)
{
    (void)state;
    harness *h = harness_new();
    run(h, client_gone);
    assert_int_equal(h->values[0], 2);
    assert_int_equal(h->values[1], 1);
    /* The handler had the body during its call; the held reply keeps none of it, so
     * held replies (long polls) cannot pile up request bodies. */
    assert_int_equal(h->values[2], 5);
    assert_int_equal(h->values[3], 0);
    assert_int_equal(h->held_count, 0);
    assert_int_equal(h->obs_count, 1);
    assert_int_equal(h->obs[0].status, 200);
    assert_int_equal(h->stats.cancelled, 3);
    free(h);
}

static void client_stop(harness *h)
{
    client idle, held;
    if (!client_open(h, &idle) || !client_open(h, &held)) {
        return;
    }
    request(h, &idle, GET_HELLO);
    client_send_text(&held, "GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
    wait_for(&h->handler_calls, 2);
    h->done_sent = true;
    uv_async_send(&h->done); /* the loop stops the server now */
    h->values[0] = client_sees_close(&idle);
    h->values[1] = client_sees_close(&held);
    client_close(&idle);
    client_close(&held);
}

static void test_stop_with_open_connections(void **state)
{
    (void)state;
    harness *h = harness_new();
    run(h, client_stop); /* returns only once the loop has nothing left */
    assert_int_equal(h->obs_count, 1);
    assert_int_equal(h->obs[0].status, 200);
    assert_true(h->values[0]);
    assert_true(h->values[1]);
    assert_int_equal(h->cancels, 1);
    assert_int_equal(h->held_count, 0);
    assert_int_equal(h->stats.connections_open, 2);
    free(h);
}

static void client_slow_reader(harness *h)
{
    client c;
    if (!client_open(h, &c)) {
        return;
    }
    /* A fixed receive buffer (no autotuning), still larger than loopback's segments. */
    int receive_buffer = 256 * 1024;
    setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    /* Ask for 300 large responses (60 MB) without reading any. */
    int sent = 0;
    for (; sent < 300; sent++) {
        static const char big[] = "GET /big HTTP/1.1\r\nHost: t\r\n\r\n";
        if (send(c.fd, big, sizeof(big) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) != sizeof(big) - 1) {
            break;
        }
    }
    h->values[0] = sent;
    sleep_ms(300);
    h->values[1] = atomic_load(&h->handler_calls);
    fprintf(stderr, "# handled %d of %d while the client did not read\n", h->values[1], sent);
    /* Reading drains the output and the server goes on, in order. */
    int ok = 0;
    for (int i = 0; i < sent; i++) {
        observation o;
        if (!client_read(&c, &o, false) || o.status != 200 || o.body_len != BIG_BODY_BYTES) {
            break;
        }
        ok++;
    }
    h->values[2] = ok;
    client_close(&c);
}

static void test_slow_reader_is_not_buffered(void **state)
{
    (void)state;
    harness *h = harness_new();
    h->config.pipeline_max = 4;
    run(h, client_slow_reader);
    assert_int_equal(h->values[0], 300);
    /* The server stopped handling requests while the client did not read. The kernel's
     * socket buffers absorb some responses (a few MB), not 60 MB. */
    assert_true(h->values[1] < 150);
    assert_int_equal(h->values[2], 300);
    assert_int_equal(h->handler_calls, 300);
    free(h);
}

static void client_never_reads(harness *h)
{
    client c;
    if (!client_open(h, &c)) {
        return;
    }
    int sent = 0;
    for (; sent < 100; sent++) {
        static const char big[] = "GET /big HTTP/1.1\r\nHost: t\r\n\r\n";
        if (send(c.fd, big, sizeof(big) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) != sizeof(big) - 1) {
            break;
        }
    }
    h->values[0] = sent;
    sleep_ms(600);
    /* What the kernel had buffered can still be read; then the connection ends. */
    int got = 0;
    observation o;
    while (client_read(&c, &o, false)) {
        got++;
    }
    h->values[1] = got;
    /* The rest of a response, then the end (or a reset: the server closed with the
     * requests it never read still in its socket). Not a timeout. */
    ssize_t n;
    do {
        c.len = 0;
        n = client_fill(&c);
    } while (n > 0);
    h->values[2] = n == 0 || errno == ECONNRESET;
    client_close(&c);
}

static void test_client_that_never_reads_is_closed(void **state)
{
    (void)state;
    harness *h = harness_new();
    h->config.request_timeout_ms = 100;
    run(h, client_never_reads);
    assert_int_equal(h->values[0], 100);
    assert_true(h->values[1] < 100);
    assert_true(h->values[2]);
    assert_true(h->stats.timeouts >= 1);
    assert_int_equal(h->stats.connections_open, 0);
    free(h);
}

/* Robustness: seeded mutations of valid requests ---------------------------------------------- */

/* No HEAD request among them: the client could not tell where a response to one ends. */

static const char *const SEEDS[] = {
    "GET /hello?a=1&b=%20 HTTP/1.1\r\nHost: t\r\nAccept: application/json\r\n\r\n",
    "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: "
    "7\r\n\r\n{\"a\":1}",
    "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=y\r\n"
    "abc\r\n0\r\nTrailer: z\r\n\r\n",
    "GET /hello HTTP/1.1\r\nHost: t\r\n\r\nGET /async?ms=1 HTTP/1.1\r\nHost: t\r\n\r\n",
    "OPTIONS /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /hello HTTP/1.0\r\n\r\n",
    "GET /hello HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
};

static size_t mutate(uint64_t *rng, char *buf, size_t len, size_t cap)
{
    int count = 1 + (int)(test_random(rng) % 4);
    for (int m = 0; m < count && len > 0; m++) {
        size_t at = (size_t)(test_random(rng) % len);
        switch (test_random(rng) % 6) {
        case 0: /* replace a byte */
            buf[at] = (char)test_random(rng);
            break;
        case 1: /* insert random bytes */
        {
            size_t n = 1 + (size_t)(test_random(rng) % 8);
            if (len + n <= cap) {
                memmove(buf + at + n, buf + at, len - at);
                test_random_bytes(rng, buf + at, n);
                len += n;
            }
            break;
        }
        case 2: /* delete a range */
        {
            size_t n = 1 + (size_t)(test_random(rng) % 8);
            n = n > len - at ? len - at : n;
            memmove(buf + at, buf + at + n, len - at - n);
            len -= n;
            break;
        }
        case 3: /* duplicate a range */
        {
            size_t n = 1 + (size_t)(test_random(rng) % 64);
            n = n > len - at ? len - at : n;
            if (len + n <= cap) {
                memmove(buf + at + n, buf + at, len - at);
                len += n;
            }
            break;
        }
        case 4: /* truncate */
            len = at;
            break;
        default: /* a special byte */
        {
            static const char specials[] = "\r\n\0: %;\t?#";
            buf[at] = specials[test_random(rng) % (sizeof(specials) - 1)];
            break;
        }
        }
    }
    return len;
}

static void client_fuzz(harness *h)
{
    uint64_t rng = test_seed();
    char buf[4096];
    int answered = 0, closed = 0;
    for (int i = 0; i < 300; i++) {
        const char *seed = SEEDS[test_random(&rng) % (sizeof(SEEDS) / sizeof(SEEDS[0]))];
        size_t len = strlen(seed);
        memcpy(buf, seed, len);
        len = mutate(&rng, buf, len, sizeof(buf));
        client c;
        if (!client_open(h, &c)) {
            return;
        }
        client_send(&c, buf, len);
        /* Half the time the client also finishes sending; otherwise the server must
         * answer or time out by itself. */
        if (test_random(&rng) % 2 == 0) {
            shutdown(c.fd, SHUT_WR);
        }
        /* Every response must be well formed, and the connection must end. */
        for (;;) {
            observation o;
            if (client_read(&c, &o, false)) {
                answered++;
                continue;
            }
            if (c.len == 0 && client_sees_close(&c)) {
                closed++;
                break;
            }
            char why[128];
            snprintf(why, sizeof(why), "case %d (seed %llu): not a response nor a close", i,
                     (unsigned long long)test_seed());
            client_fail(h, why);
            fprintf(stderr, "# input: ");
            for (size_t k = 0; k < len; k++) {
                fprintf(stderr, (buf[k] >= 32 && buf[k] < 127) ? "%c" : "\\x%02x",
                        (unsigned char)buf[k]);
            }
            fprintf(stderr, "\n# buffered %zu: %.*s\n", c.len, (int)c.len, c.buf);
            client_close(&c);
            return;
        }
        client_close(&c);
    }
    h->values[0] = answered;
    h->values[1] = closed;
    client c;
    if (client_open(h, &c)) {
        request(h, &c, GET_HELLO);
        client_close(&c);
    }
}

static void test_mutated_requests_always_answered_or_closed(void **state)
{
    (void)state;
    harness *h = harness_new();
    h->config.request_timeout_ms = 50;
    h->config.idle_timeout_ms = 50;
    run(h, client_fuzz);
    assert_int_equal(h->values[1], 300);
    assert_true(h->values[0] > 0);
    assert_int_equal(h->obs_count, 1);
    assert_int_equal(h->obs[0].status, 200);
    assert_string_equal(h->obs[0].body, HELLO_BODY);
    free(h);
}

/* Without sockets ------------------------------------------------------------------------------ */

static void test_query_helpers(void **state)
{
    (void)state;
    char out[16];
    assert_int_equal(gov_http_query_get("a=1&b=x%20y+z&c", "b", out, sizeof(out)), 0);
    assert_string_equal(out, "x y z");
    assert_int_equal(gov_http_query_get("a=1&b=2&c", "c", out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(gov_http_query_get("a=1", "b", out, sizeof(out)), GOV_ENOENT);
    assert_int_equal(gov_http_query_get("", "b", out, sizeof(out)), GOV_ENOENT);
    assert_int_equal(gov_http_query_get("b=1&b=2", "b", out, sizeof(out)), GOV_EINVAL);
    assert_string_equal(out, "");
    assert_int_equal(gov_http_query_get("b=%4", "b", out, sizeof(out)), GOV_EDECODE);
    assert_int_equal(gov_http_query_get("b=%zz", "b", out, sizeof(out)), GOV_EDECODE);
    assert_int_equal(gov_http_query_get("b=%00", "b", out, sizeof(out)), GOV_EDECODE);
    assert_int_equal(gov_http_query_get("b=0123456789abcdef", "b", out, sizeof(out)), GOV_ELIMIT);
    assert_int_equal(gov_http_query_get("b=0123456789abcde", "b", out, sizeof(out)), 0);
    assert_int_equal(gov_http_query_get("%62=x", "b", out, sizeof(out)), 0);
    assert_string_equal(out, "x");

    uint64_t v = 7;
    assert_int_equal(gov_http_query_uint("from=0&limit=100", "limit", 1000, &v), 0);
    assert_int_equal(v, 100);
    assert_int_equal(gov_http_query_uint("from=0", "from", 1000, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(gov_http_query_uint("n=18446744073709551615", "n", UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(gov_http_query_uint("n=18446744073709551616", "n", UINT64_MAX, &v),
                     GOV_ELIMIT);
    assert_int_equal(gov_http_query_uint("n=1001", "n", 1000, &v), GOV_ELIMIT);
    static const char *const bad[] = {"n=",     "n",    "n=-1",  "n=+1",   "n=%201",
                                      "n=1%20", "n=01", "n=1.0", "n=0x10", "n=1&n=1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 7;
        if (gov_http_query_uint(bad[i], "n", 1000, &v) != GOV_EINVAL) {
            fail_msg("accepted %s", bad[i]);
        }
        assert_int_equal(v, 7);
    }
    assert_int_equal(gov_http_query_uint("m=1", "n", 1000, &v), GOV_ENOENT);
}

static void test_bad_configuration_refused(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    gov_http_config config;
    gov_http_config_default(&config);
    gov_http_server *server = (gov_http_server *)&loop;
    char why[256] = "";
    config.host = "localhost"; /* a name, not an address */
    assert_int_equal(
        gov_http_server_start(&loop, &config, handler, NULL, &server, why, sizeof(why)),
        GOV_EINVAL);
    assert_null(server);
    assert_non_null(strstr(why, "not an IP address"));
    gov_http_config_default(&config);
    config.pipeline_max = 0;
    assert_int_equal(
        gov_http_server_start(&loop, &config, handler, NULL, &server, why, sizeof(why)),
        GOV_EINVAL);
    gov_http_config_default(&config);
    config.request_timeout_ms = 1;
    assert_int_equal(
        gov_http_server_start(&loop, &config, handler, NULL, &server, why, sizeof(why)),
        GOV_EINVAL);

    /* A port in use: the second server fails, and its handle is freed by the loop. */
    gov_http_config_default(&config);
    gov_http_server *first = NULL;
    assert_int_equal(gov_http_server_start(&loop, &config, handler, NULL, &first, why, sizeof(why)),
                     0);
    config.port = gov_http_server_port(first);
    assert_int_equal(
        gov_http_server_start(&loop, &config, handler, NULL, &server, why, sizeof(why)), GOV_EIO);
    assert_null(server);
    gov_http_server_stop(first, NULL, NULL);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* An optional argument runs only the tests whose names match it (cmocka's filter). */
int main(int argc, char **argv)
{
    if (argc > 1) {
        cmocka_set_test_filter(argv[1]);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_answered_synchronously),
        cmocka_unit_test(test_async_reply_after_timer),
        cmocka_unit_test(test_pipelined_requests_answered_in_order),
        cmocka_unit_test(test_keep_alive_and_connection_close),
        cmocka_unit_test(test_body_cap_exact_passes_one_more_gets_413),
        cmocka_unit_test(test_header_flood_gets_431),
        cmocka_unit_test(test_stalled_request_gets_408_and_close),
        cmocka_unit_test(test_garbage_gets_400),
        cmocka_unit_test(test_protocol_details),
        cmocka_unit_test(test_connection_limit_gives_503),
        cmocka_unit_test(test_client_gone_while_reply_pending),
        cmocka_unit_test(test_stop_with_open_connections),
        cmocka_unit_test(test_slow_reader_is_not_buffered),
        cmocka_unit_test(test_client_that_never_reads_is_closed),
        cmocka_unit_test(test_mutated_requests_always_answered_or_closed),
        cmocka_unit_test(test_query_helpers),
        cmocka_unit_test(test_bad_configuration_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
