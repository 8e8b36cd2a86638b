/*
 * The node's HTTP/1.1 server (node/http.h, docs/http.md).
 *
 * Design notes.
 *
 * Definitions. A connection parses requests with llhttp and keeps, in request order,
 * the queue of replies it owes: each is unanswered (the handler holds it) or answered
 * (its response bytes are built and wait for those before it). flush() writes answered
 * replies from the head of the queue and stops at the first unanswered one, so
 * responses go out in request order whatever order the handler answers in.
 *
 * llhttp is only ever asked to parse; everything else happens between its calls. Its
 * callbacks copy bytes and return HPE_PAUSED at three events (a message begins, the
 * header section is complete, the message is complete); feed() resumes the parser after
 * acting on the event. So the handler never runs inside llhttp, and feed() knows exactly
 * which bytes belong to the request line and header section (for the header cap).
 *
 * Invariants.
 *   1. A reply is on exactly one connection's queue while reply->conn is set; once its
 *      connection closes reply->conn is NULL and the reply belongs to the handler (or is
 *      freed, when answered or cancelled). Replies are freed in three places only:
 *      flush() after writing, close_now() when answered or cancelled, and answer() for
 *      a gone reply.
 *   2. At most config.pipeline_max replies are queued, and no input is parsed while the
 *      queue is full or more than GOV_HTTP_OUTPUT_HIGH_BYTES wait in the socket: the
 *      unparsed rest of a read is kept (c->leftover, at most one read) and reading stops.
 *   3. Stored request bytes never exceed header_bytes_max (head) and body_bytes_max
 *      (body), and a body is freed when the handler's call returns, so a connection
 *      holds at most one (the one being received).
 *   4. A connection's memory is freed only by the close callback of its last handle, so
 *      code that called out (the handler, a cancel callback) may still look at it and
 *      must check c->closing.
 *   5. feed() is never re-entered: an answer given inside the handler flushes, but does
 *      not parse; the outer feed() goes on.
 *
 * States of a connection (-> with the function that takes it there):
 *
 *   reading --parse error, timeout, Connection: close, EOF--> parsing_done (read_cb,
 *       timer_cb, dispatch) --last reply written--> shutting_down (flush: uv_shutdown)
 *       --shutdown done--> lingering: reading and discarding until EOF or
 *       GOV_HTTP_LINGER_MS (shutdown_cb) --> closing (close_now) --> freed (on_close)
 *   any state --client gone, write error, stop, idle or write timeout--> closing
 *
 * The one timer of a connection serves whichever deadline its state has (deadline()):
 * the request being received, the output not draining, the idle keep-alive, the linger.
 */
#include "node/http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <llhttp.h>

#include "govchain/assert.h"
#include "govchain/error.h"

enum {
    READ_BUFFER_BYTES = 64 * 1024,
    LISTEN_BACKLOG = 128,
    RESPONSE_HEAD_BYTES = 512 + GOV_HTTP_EXTRA_HEADER_BYTES_MAX,
    CONTENT_TYPE_LEN_MAX = 128,
    QUERY_NAME_LEN_MAX = 64,
};

typedef enum { PHASE_IDLE, PHASE_HEAD, PHASE_BODY } phase;
typedef enum { EVENT_NONE, EVENT_BEGIN, EVENT_HEADERS, EVENT_COMPLETE } parse_event;
typedef enum {
    DEADLINE_NONE,
    DEADLINE_REQUEST,
    DEADLINE_WRITE,
    DEADLINE_IDLE,
    DEADLINE_LINGER
} deadline_kind;

typedef struct connection connection;

/* A response being written: its bytes live with libuv's request until the callback. */
typedef struct output {
    uv_write_t req;
    connection *conn;
    size_t len;
    char bytes[];
} output;

struct gov_http_reply {
    connection *conn; /* NULL once the client is gone */
    gov_http_reply *next;
    gov_http_request request;
    char *head; /* the request's target and headers */
    char remote[GOV_HTTP_REMOTE_LEN];
    output *out; /* the response, once answered */
    int status;
    bool answered, gone, in_cancel, close_after, head_only;
    gov_http_cancel_cb cancel_cb;
    void *cancel_arg;
    size_t extra_len;
    char extra[GOV_HTTP_EXTRA_HEADER_BYTES_MAX];
};

struct connection {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shutdown;
    gov_http_server *server;
    connection *prev, *next;
    llhttp_t parser;
    char remote[GOV_HTTP_REMOTE_LEN];
    unsigned handles_open;

    /* The request being received: "target\0name\0value\0..." and the body. */
    phase phase;
    parse_event event;
    uint64_t request_started_ms;
    size_t head_raw_bytes;
    char *head;
    size_t head_len, head_cap, value_start;
    size_t headers_count;
    bool awaiting_value;
    char *body;
    size_t body_len, body_cap;
    bool message_keep_alive;
    int error_status; /* set by a callback that stops the parser */
    const char *error_code, *error_message;

    /* Replies owed, oldest first. */
    gov_http_reply *queue_head, *queue_tail;
    uint32_t queue_count;

    char *leftover; /* input read but not parsed yet (invariant 2) */
    size_t leftover_len;
    size_t discarded;
    uint64_t idle_since_ms, write_progress_ms, linger_deadline_ms;
    bool refused, reading, feeding, parsing_done, close_after_flush, eof_seen, shutting_down,
        lingering, closing;
};

struct gov_http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_tcp_t spare; /* accepts and closes a connection when memory runs out */
    bool spare_busy, accept_waiting;
    gov_http_config config;
    char host[64];
    gov_http_handler_cb handler;
    void *arg;
    llhttp_settings_t settings;
    char *read_buffer; /* shared: every read is parsed before the next one */
    connection *connections;
    uint32_t refusing;
    gov_http_stats stats;
    bool stopping, listener_closed;
    gov_http_stop_cb done_cb;
    void *done_arg;
};

static void close_now(connection *c);
static void flush(connection *c);
static void feed(connection *c, const char *data, size_t len);
static void update_reading(connection *c);
static void rearm_timer(connection *c);
static void fail_request(connection *c, int status, const char *code, const char *message);

/* Status lines and JSON errors ------------------------------------------------------ */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Status";
    }
}

static void http_date(char *out, size_t out_len)
{
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) == NULL ||
        strftime(out, out_len, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0) {
        snprintf(out, out_len, "Thu, 01 Jan 1970 00:00:00 GMT");
    }
}

/* Replies -------------------------------------------------------------------------- */

static gov_http_reply *reply_new(connection *c)
{
    gov_http_reply *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return NULL;
    }
    r->conn = c;
    memcpy(r->remote, c->remote, sizeof(r->remote));
    r->request.method = "";
    r->request.path = "";
    r->request.query = "";
    r->request.body = (const uint8_t *)"";
    r->request.remote = r->remote;
    r->request.headers = "";
    return r;
}

static void reply_free(gov_http_reply *r)
{
    free(r->head);
    free(r->out);
    free(r);
}

static void enqueue(connection *c, gov_http_reply *r)
{
    GOV_ASSERT(r->next == NULL);
    if (c->queue_tail == NULL) {
        c->queue_head = r;
    } else {
        c->queue_tail->next = r;
    }
    c->queue_tail = r;
    c->queue_count++;
}

/* Builds the response into r->out. */
static int build_response(gov_http_reply *r, int status, const char *content_type, const void *body,
                          size_t body_len, bool no_store)
{
    GOV_ASSERT(status >= 200 && status <= 599);
    GOV_ASSERT(strlen(content_type) < CONTENT_TYPE_LEN_MAX);
    GOV_ASSERT(strpbrk(content_type, "\r\n") == NULL);
    bool has_body = status != 204 && status != 304;
    bool send_body = has_body && !r->head_only;
    bool close = r->close_after || !r->request.keep_alive;
    char date[64];
    http_date(date, sizeof(date));

    char head[RESPONSE_HEAD_BYTES];
    int n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nDate: %s\r\n", status,
                     reason_phrase(status), date);
    if (has_body) {
        n += snprintf(head + n, sizeof(head) - (size_t)n,
                      "Content-Type: %s\r\nContent-Length: %zu\r\n", content_type, body_len);
    }
    n += snprintf(head + n, sizeof(head) - (size_t)n, "%sX-Content-Type-Options: nosniff\r\n",
                  no_store ? "Cache-Control: no-store\r\n" : "");
    const char *connection_header = "";
    if (close) {
        connection_header = "Connection: close\r\n";
    } else if (r->request.http_minor == 0) {
        connection_header = "Connection: keep-alive\r\n";
    }
    n += snprintf(head + n, sizeof(head) - (size_t)n, "%.*s%s\r\n", (int)r->extra_len, r->extra,
                  connection_header);
    GOV_ASSERT(n > 0 && (size_t)n < sizeof(head));

    size_t total = (size_t)n + (send_body ? body_len : 0);
    output *out = malloc(sizeof(*out) + total);
    if (out == NULL) {
        return GOV_ENOMEM;
    }
    out->len = total;
    memcpy(out->bytes, head, (size_t)n);
    if (send_body && body_len > 0) {
        memcpy(out->bytes + n, body, body_len);
    }
    r->out = out;
    r->status = status;
    return 0;
}

static int answer(gov_http_reply *r, int status, const char *content_type, const void *body,
                  size_t body_len, bool no_store)
{
    GOV_ASSERT(!r->answered);
    r->answered = true;
    connection *c = r->conn;
    if (c == NULL) {
        /* Gone: inside a cancel callback the server frees the reply afterwards. */
        if (!r->in_cancel) {
            reply_free(r);
        }
        return GOV_EIO;
    }
    int rc = build_response(r, status, content_type, body, body_len, no_store);
    if (rc != 0) {
        close_now(c); /* frees r: it is answered */
        return rc;
    }
    flush(c);
    return 0;
}

int gov_http_reply_text(gov_http_reply *reply, int status, const char *content_type,
                        const void *bytes, size_t len)
{
    GOV_ASSERT(bytes != NULL || len == 0);
    return answer(reply, status, content_type, bytes, len, false);
}

static json_t *error_value(const char *code, const char *message)
{
    json_t *value = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
    if (value == NULL) {
        /* Not UTF-8, perhaps because it quotes the client. */
        value = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message",
                          "(the message was not valid UTF-8)");
    }
    return value;
}

int gov_http_reply_json(gov_http_reply *reply, int status, json_t *body)
{
    char *text = NULL;
    if (body != NULL) {
        text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(body);
    }
    if (text == NULL) {
        if (reply->conn != NULL) {
            reply->close_after = true; /* the server is short of memory or has a bug */
        }
        json_t *error = error_value("internal_error", "the response could not be built");
        text = error == NULL ? NULL : json_dumps(error, JSON_COMPACT);
        json_decref(error);
        status = 500;
        if (text == NULL) {
            static const char fallback[] =
                "{\"error\":{\"code\":\"internal_error\",\"message\":\"out of memory\"}}";
            return answer(reply, 500, "application/json", fallback, sizeof(fallback) - 1, true);
        }
    }
    int rc = answer(reply, status, "application/json", text, strlen(text), true);
    free(text);
    return rc;
}

int gov_http_reply_error(gov_http_reply *reply, int status, const char *code, const char *message)
{
    GOV_ASSERT(status >= 400 && status <= 599);
    return gov_http_reply_json(reply, status, error_value(code, message));
}

static bool is_token(const char *s)
{
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (!isalnum(ch) && strchr("!#$%&'*+-.^_`|~", ch) == NULL) {
            return false;
        }
    }
    return true;
}

int gov_http_reply_header(gov_http_reply *reply, const char *name, const char *value)
{
    GOV_ASSERT(!reply->answered);
    static const char *const reserved[] = {"content-length", "content-type", "connection",
                                           "transfer-encoding", "date"};
    if (!is_token(name)) {
        return GOV_EINVAL;
    }
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        if (strcasecmp(name, reserved[i]) == 0) {
            return GOV_EINVAL;
        }
    }
    for (const char *v = value; *v != '\0'; v++) {
        unsigned char ch = (unsigned char)*v;
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            return GOV_EINVAL;
        }
    }
    size_t need = strlen(name) + 2 + strlen(value) + 2;
    if (need >= sizeof(reply->extra) - reply->extra_len) {
        return GOV_ELIMIT;
    }
    int n = snprintf(reply->extra + reply->extra_len, sizeof(reply->extra) - reply->extra_len,
                     "%s: %s\r\n", name, value);
    GOV_ASSERT(n >= 0 && (size_t)n == need);
    reply->extra_len += need;
    return 0;
}

void gov_http_reply_on_cancel(gov_http_reply *reply, gov_http_cancel_cb cancel_cb, void *arg)
{
    GOV_ASSERT(!reply->answered);
    reply->cancel_cb = cancel_cb;
    reply->cancel_arg = arg;
}

bool gov_http_reply_is_gone(const gov_http_reply *reply)
{
    return reply->gone;
}

const gov_http_request *gov_http_reply_request(const gov_http_reply *reply)
{
    return &reply->request;
}

const char *gov_http_request_header(const gov_http_request *request, const char *name)
{
    const char *p = request->headers;
    for (size_t i = 0; i < request->headers_count; i++) {
        const char *value = p + strlen(p) + 1;
        if (strcasecmp(p, name) == 0) {
            return value;
        }
        p = value + strlen(value) + 1;
    }
    return NULL;
}

/* Writing ----------------------------------------------------------------------------- */

static size_t output_waiting(const connection *c)
{
    return uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp);
}

static bool backpressured(const connection *c)
{
    return c->queue_count >= c->server->config.pipeline_max ||
           output_waiting(c) > GOV_HTTP_OUTPUT_HIGH_BYTES;
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
    connection *c = req->data;
    if (c->closing) {
        return;
    }
    if (status < 0 || c->eof_seen) {
        close_now(c);
        return;
    }
    /* Lingering close: the client may still be sending (a body we refused); closing
     * with unread input would reset the connection and could destroy our response
     * before the client reads it. */
    c->lingering = true;
    c->discarded = 0;
    c->linger_deadline_ms = uv_now(c->server->loop) + GOV_HTTP_LINGER_MS;
    update_reading(c);
    rearm_timer(c);
}

static void begin_shutdown(connection *c)
{
    if (c->shutting_down || c->closing) {
        return;
    }
    c->shutting_down = true;
    c->shutdown.data = c;
    /* uv_shutdown waits for the writes already queued. */
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, shutdown_cb) != 0) {
        close_now(c);
    }
}

/* Something left the socket: more input may be parsed now (invariant 2). */
static void resume(connection *c)
{
    if (c->closing || c->feeding || c->leftover == NULL || backpressured(c)) {
        return;
    }
    char *data = c->leftover;
    size_t len = c->leftover_len;
    c->leftover = NULL;
    c->leftover_len = 0;
    feed(c, data, len);
    free(data);
}

static void write_cb(uv_write_t *req, int status)
{
    output *out = (output *)req;
    connection *c = out->conn;
    free(out);
    if (status == UV_ECANCELED || c->closing) {
        return;
    }
    if (status < 0) {
        close_now(c);
        return;
    }
    c->write_progress_ms = uv_now(c->server->loop);
    resume(c);
    if (!c->closing) {
        update_reading(c);
        rearm_timer(c);
    }
}

static void count_response(gov_http_server *server, int status)
{
    int class = status / 100;
    server->stats.responses[class >= 1 && class <= 5 ? class : 0]++;
}

/* Writes answered replies from the head of the queue, in order. */
static void flush(connection *c)
{
    bool wrote = false;
    while (!c->closing && c->queue_head != NULL && c->queue_head->answered) {
        wrote = true;
        gov_http_reply *r = c->queue_head;
        c->queue_head = r->next;
        if (c->queue_head == NULL) {
            c->queue_tail = NULL;
        }
        c->queue_count--;
        output *out = r->out;
        r->out = NULL;
        bool close_after = r->close_after || !r->request.keep_alive;
        count_response(c->server, r->status);
        reply_free(r);

        if (output_waiting(c) == 0) {
            c->write_progress_ms = uv_now(c->server->loop);
        }
        out->conn = c;
        uv_buf_t buf = uv_buf_init(out->bytes, (unsigned)out->len);
        if (uv_write(&out->req, (uv_stream_t *)&c->tcp, &buf, 1, write_cb) != 0) {
            free(out);
            close_now(c);
            return;
        }
        if (close_after) {
            c->close_after_flush = true;
            c->parsing_done = true;
            GOV_ASSERT(c->queue_head == NULL);
        }
    }
    if (c->closing) {
        return;
    }
    if (c->queue_head == NULL) {
        if (wrote) {
            /* Idle from the last answer on: bytes that start no request (blank lines)
             * do not make a connection less idle. */
            c->idle_since_ms = uv_now(c->server->loop);
        }
        if (c->close_after_flush) {
            begin_shutdown(c);
        }
    }
    if (!c->feeding) {
        resume(c);
        if (!c->closing) {
            update_reading(c);
            rearm_timer(c);
        }
    }
}

/* Closing ---------------------------------------------------------------------------- */

static void maybe_done(gov_http_server *server)
{
    if (!server->stopping || !server->listener_closed || server->connections != NULL ||
        server->spare_busy) {
        return;
    }
    gov_http_stop_cb done_cb = server->done_cb;
    void *done_arg = server->done_arg;
    free(server->read_buffer);
    free(server);
    if (done_cb != NULL) {
        done_cb(done_arg);
    }
}

static void on_close(uv_handle_t *handle)
{
    connection *c = handle->data;
    GOV_ASSERT(c->handles_open > 0);
    if (--c->handles_open > 0) {
        return;
    }
    gov_http_server *server = c->server;
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        server->connections = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    if (c->refused) {
        server->refusing--;
    } else {
        server->stats.connections_open--;
    }
    free(c);
    maybe_done(server);
}

static void discard_request(connection *c)
{
    free(c->head);
    free(c->body);
    c->head = c->body = NULL;
    c->head_len = c->head_cap = c->body_len = c->body_cap = 0;
    c->headers_count = 0;
    c->awaiting_value = false;
    c->phase = PHASE_IDLE;
}

/* Closes at once; pending replies are cancelled (invariant 1). */
static void close_now(connection *c)
{
    if (c->closing) {
        return;
    }
    c->closing = true;
    discard_request(c);
    free(c->leftover);
    c->leftover = NULL;
    c->leftover_len = 0;
    uv_read_stop((uv_stream_t *)&c->tcp);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->tcp, on_close);
    uv_close((uv_handle_t *)&c->timer, on_close);

    gov_http_reply *list = c->queue_head;
    c->queue_head = c->queue_tail = NULL;
    c->queue_count = 0;
    for (gov_http_reply *r = list; r != NULL; r = r->next) {
        r->conn = NULL;
    }
    /* A cancel callback may answer or cancel other replies, never these (detached). */
    while (list != NULL) {
        gov_http_reply *r = list;
        list = r->next;
        r->next = NULL;
        if (r->answered) {
            reply_free(r);
            continue;
        }
        r->gone = true;
        c->server->stats.cancelled++;
        if (r->cancel_cb != NULL) {
            r->in_cancel = true;
            r->cancel_cb(r, r->cancel_arg);
            reply_free(r);
        }
    }
}

/* Reading ------------------------------------------------------------------------------ */

static void alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    connection *c = handle->data;
    *buf = uv_buf_init(c->server->read_buffer, READ_BUFFER_BYTES);
}

static void on_eof(connection *c)
{
    /* flush() writes answered replies at once, so a non-empty queue has an unanswered
     * reply at its head. */
    if (c->lingering || c->queue_head != NULL) {
        /* The client went away (or finished): pending replies are cancelled. */
        close_now(c);
        return;
    }
    if (output_waiting(c) == 0) {
        close_now(c);
        return;
    }
    /* The client only stopped sending: what is being written still goes out. */
    c->eof_seen = true;
    c->parsing_done = true;
    discard_request(c);
    free(c->leftover);
    c->leftover = NULL;
    c->leftover_len = 0;
    update_reading(c);
    begin_shutdown(c);
    rearm_timer(c);
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    connection *c = stream->data;
    if (nread == 0 || c->closing) {
        return;
    }
    if (nread < 0) {
        if (nread == UV_EOF) {
            on_eof(c);
        } else {
            close_now(c);
        }
        return;
    }
    if (c->lingering || c->parsing_done || c->refused) {
        c->discarded += (size_t)nread;
        if (c->lingering && c->discarded > GOV_HTTP_DISCARD_BYTES_MAX) {
            close_now(c);
            return;
        }
        update_reading(c);
        return;
    }
    feed(c, buf->base, (size_t)nread);
}

static void update_reading(connection *c)
{
    if (c->closing) {
        return;
    }
    bool want;
    if (c->lingering) {
        want = true;
    } else if (c->eof_seen) {
        want = false;
    } else if (c->parsing_done || c->refused) {
        /* Only to notice that the client has gone, within a budget. */
        want = c->discarded < GOV_HTTP_DISCARD_BYTES_MAX;
    } else {
        want = c->leftover == NULL && !backpressured(c);
    }
    if (want && !c->reading) {
        if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) != 0) {
            close_now(c);
            return;
        }
        c->reading = true;
    } else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
}

/* Timers ------------------------------------------------------------------------------- */

static deadline_kind deadline(const connection *c, uint64_t *at)
{
    const gov_http_config *config = &c->server->config;
    if (c->lingering) {
        *at = c->linger_deadline_ms;
        return DEADLINE_LINGER;
    }
    if (!c->parsing_done && c->phase != PHASE_IDLE) {
        *at = c->request_started_ms + config->request_timeout_ms;
        return DEADLINE_REQUEST;
    }
    if (output_waiting(c) > 0 || c->shutting_down) {
        *at = c->write_progress_ms + config->request_timeout_ms;
        return DEADLINE_WRITE;
    }
    if (!c->parsing_done && !c->refused && c->queue_head == NULL && c->leftover == NULL) {
        *at = c->idle_since_ms + config->idle_timeout_ms;
        return DEADLINE_IDLE;
    }
    return DEADLINE_NONE;
}

static void timer_cb(uv_timer_t *timer)
{
    connection *c = timer->data;
    if (c->closing) {
        return;
    }
    uint64_t at = 0;
    deadline_kind kind = deadline(c, &at);
    if (kind == DEADLINE_NONE) {
        return;
    }
    if (uv_now(c->server->loop) < at) {
        rearm_timer(c);
        return;
    }
    switch (kind) {
    case DEADLINE_REQUEST:
        c->server->stats.timeouts++;
        fail_request(c, 408, "timeout", "the request was not received in time");
        break;
    case DEADLINE_WRITE:
        c->server->stats.timeouts++;
        close_now(c);
        break;
    default:
        close_now(c);
        break;
    }
}

static void rearm_timer(connection *c)
{
    if (c->closing) {
        return;
    }
    uint64_t at = 0;
    if (deadline(c, &at) == DEADLINE_NONE) {
        uv_timer_stop(&c->timer);
        return;
    }
    uint64_t now = uv_now(c->server->loop);
    uv_timer_start(&c->timer, timer_cb, at > now ? at - now : 0, 0);
}

/* Parsing ------------------------------------------------------------------------------ */

static connection *parser_connection(llhttp_t *parser)
{
    return parser->data;
}

/* Appends len bytes to *buf (used *used, allocated *cap), growing it by doubling from
 * `initial` up to max + 1 bytes (room for a NUL after max bytes); the caller has checked
 * that *used + len <= max. false when out of memory (the buffer is unchanged). */
static bool append_bounded(char **buf, size_t *used, size_t *cap, size_t initial, size_t max,
                           const char *at, size_t len)
{
    if (*used + len + 1 > *cap) {
        size_t grown = *cap == 0 ? initial : *cap * 2;
        while (grown < *used + len + 1) {
            grown *= 2;
        }
        if (grown > max + 1) {
            grown = max + 1;
        }
        char *bigger = realloc(*buf, grown);
        if (bigger == NULL) {
            return false;
        }
        *buf = bigger;
        *cap = grown;
    }
    memcpy(*buf + *used, at, len);
    *used += len;
    return true;
}

static int stop_parser(connection *c, int status, const char *code, const char *message)
{
    c->error_status = status;
    c->error_code = code;
    c->error_message = message;
    return -1;
}

static int head_append(connection *c, const char *at, size_t len)
{
    size_t cap_max = (size_t)c->server->config.header_bytes_max;
    if (len > cap_max - c->head_len) {
        return stop_parser(c, 431, "headers_too_large",
                           "the request line and headers are too large");
    }
    if (!append_bounded(&c->head, &c->head_len, &c->head_cap, 512, cap_max, at, len)) {
        return stop_parser(c, 503, "out_of_memory", "the server is out of memory");
    }
    c->head[c->head_len] = '\0';
    return 0;
}

/* Every string ends with a NUL in head: the target, each name and each value. */
static int head_terminate(connection *c)
{
    /* head_append keeps a NUL past head_len; this makes it part of the data. */
    int rc = head_append(c, "", 0);
    if (rc == 0 && c->head_len + 1 > c->server->config.header_bytes_max) {
        rc = stop_parser(c, 431, "headers_too_large", "the request line and headers are too large");
    }
    if (rc == 0) {
        c->head_len++;
    }
    return rc;
}

static int on_message_begin(llhttp_t *parser)
{
    parser_connection(parser)->event = EVENT_BEGIN;
    return HPE_PAUSED;
}

static int on_url(llhttp_t *parser, const char *at, size_t len)
{
    return head_append(parser_connection(parser), at, len);
}

static int on_url_complete(llhttp_t *parser)
{
    return head_terminate(parser_connection(parser));
}

static int on_header_field(llhttp_t *parser, const char *at, size_t len)
{
    connection *c = parser_connection(parser);
    if (c->awaiting_value) {
        /* The previous field had no value callback: an empty value. */
        c->awaiting_value = false;
        if (head_terminate(c) != 0) {
            return -1;
        }
        c->headers_count++;
    }
    size_t start = c->head_len;
    if (head_append(c, at, len) != 0) {
        return -1;
    }
    for (size_t i = start; i < c->head_len; i++) {
        c->head[i] = (char)tolower((unsigned char)c->head[i]);
    }
    return 0;
}

static int on_header_field_complete(llhttp_t *parser)
{
    connection *c = parser_connection(parser);
    if (head_terminate(c) != 0) {
        return -1;
    }
    c->value_start = c->head_len;
    c->awaiting_value = true;
    return 0;
}

static int on_header_value(llhttp_t *parser, const char *at, size_t len)
{
    return head_append(parser_connection(parser), at, len);
}

static int on_header_value_complete(llhttp_t *parser)
{
    connection *c = parser_connection(parser);
    while (c->head_len > c->value_start &&
           (c->head[c->head_len - 1] == ' ' || c->head[c->head_len - 1] == '\t')) {
        c->head_len--;
    }
    c->awaiting_value = false;
    if (head_terminate(c) != 0) {
        return -1;
    }
    c->headers_count++;
    return 0;
}

static int on_headers_complete(llhttp_t *parser)
{
    connection *c = parser_connection(parser);
    if (c->awaiting_value) {
        c->awaiting_value = false;
        if (head_terminate(c) != 0) {
            return -1;
        }
        c->headers_count++;
    }
    c->event = EVENT_HEADERS;
    return HPE_PAUSED;
}

static int on_body(llhttp_t *parser, const char *at, size_t len)
{
    connection *c = parser_connection(parser);
    size_t max = c->server->config.body_bytes_max;
    if (len > max - c->body_len) {
        return stop_parser(c, 413, "body_too_large", "the request body is too large");
    }
    if (!append_bounded(&c->body, &c->body_len, &c->body_cap, 1024, max, at, len)) {
        return stop_parser(c, 503, "out_of_memory", "the server is out of memory");
    }
    return 0;
}

static int on_message_complete(llhttp_t *parser)
{
    connection *c = parser_connection(parser);
    c->message_keep_alive = llhttp_should_keep_alive(parser) && !llhttp_get_upgrade(parser);
    c->event = EVENT_COMPLETE;
    return HPE_PAUSED;
}

/* A request the server answers itself; parsing stops and the connection closes after the
 * responses owed before it. */
static void fail_request(connection *c, int status, const char *code, const char *message)
{
    discard_request(c);
    c->parsing_done = true;
    free(c->leftover);
    c->leftover = NULL;
    c->leftover_len = 0;
    if (status != 408 && status != 503) {
        c->server->stats.bad_requests++;
    }
    gov_http_reply *r = reply_new(c);
    if (r == NULL) {
        close_now(c);
        return;
    }
    r->close_after = true;
    enqueue(c, r);
    gov_http_reply_error(r, status, code, message);
}

static const char *find_header(const connection *c, const char *name)
{
    gov_http_request request = {.headers = c->head + strlen(c->head) + 1,
                                .headers_count = c->headers_count};
    return gov_http_request_header(&request, name);
}

static void write_continue(connection *c)
{
    static const char text[] = "HTTP/1.1 100 Continue\r\n\r\n";
    output *out = malloc(sizeof(*out) + sizeof(text) - 1);
    if (out == NULL) {
        return; /* the client sends its body after its own delay */
    }
    out->conn = c;
    out->len = sizeof(text) - 1;
    memcpy(out->bytes, text, out->len);
    uv_buf_t buf = uv_buf_init(out->bytes, (unsigned)out->len);
    if (uv_write(&out->req, (uv_stream_t *)&c->tcp, &buf, 1, write_cb) != 0) {
        free(out);
        close_now(c);
    }
}

/* The header section is complete: refuse what cannot be served before any body. */
static void on_head_done(connection *c)
{
    llhttp_t *parser = &c->parser;
    c->phase = PHASE_BODY;
    if (llhttp_get_http_major(parser) != 1) {
        fail_request(c, 505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are served");
        return;
    }
    if (c->head == NULL || c->head[0] != '/') {
        fail_request(c, 400, "bad_request", "the request target must be a path");
        return;
    }
    if (llhttp_get_http_minor(parser) == 1 && find_header(c, "host") == NULL) {
        fail_request(c, 400, "bad_request", "an HTTP/1.1 request needs a Host header");
        return;
    }
    bool has_length = (parser->flags & F_CONTENT_LENGTH) != 0;
    if (has_length && parser->content_length > c->server->config.body_bytes_max) {
        fail_request(c, 413, "body_too_large", "the request body is too large");
        return;
    }
    if (has_length && parser->content_length > 0) {
        size_t cap = (size_t)parser->content_length + 1;
        c->body = malloc(cap);
        if (c->body == NULL) {
            fail_request(c, 503, "out_of_memory", "the server is out of memory");
            return;
        }
        c->body_cap = cap;
    }
    bool has_body = (has_length && parser->content_length > 0) || (parser->flags & F_CHUNKED);
    const char *expect = find_header(c, "expect");
    /* A 100 Continue may only go out when no earlier response is owed. */
    if (has_body && expect != NULL && strcasecmp(expect, "100-continue") == 0 &&
        llhttp_get_http_minor(parser) >= 1 && c->queue_head == NULL) {
        write_continue(c);
    }
}

/* The request is complete: it becomes a reply handed to the handler. */
static void dispatch(connection *c)
{
    gov_http_reply *r = reply_new(c);
    if (r == NULL) {
        close_now(c);
        return;
    }
    if (c->body == NULL) {
        c->body = malloc(1);
        if (c->body == NULL) {
            free(r);
            close_now(c);
            return;
        }
    }
    c->body[c->body_len] = '\0';
    r->head = c->head;
    /* The body lives only for the handler's call (gov_http_request), so that replies a
     * handler holds (a long poll) keep no body: pipelined requests cannot pile them up. */
    char *body = c->body;
    gov_http_request *q = &r->request;
    char *target = r->head;
    size_t target_len = strlen(target);
    q->headers = target + target_len + 1;
    q->headers_count = c->headers_count;
    char *hash = strchr(target, '#');
    if (hash != NULL) {
        *hash = '\0';
    }
    char *question = strchr(target, '?');
    if (question != NULL) {
        *question = '\0';
        q->query = question + 1;
    }
    q->path = target;
    q->method = llhttp_method_name((llhttp_method_t)llhttp_get_method(&c->parser));
    q->body = (const uint8_t *)"";
    size_t body_len = c->body_len;
    q->body_len = 0;
    q->http_minor = llhttp_get_http_minor(&c->parser);
    q->keep_alive = c->message_keep_alive;
    q->content_type = gov_http_request_header(q, "content-type");
    q->accept = gov_http_request_header(q, "accept");
    r->head_only = strcmp(q->method, "HEAD") == 0;
    c->head = c->body = NULL;
    c->head_len = c->head_cap = c->body_len = c->body_cap = 0;
    c->headers_count = 0;
    c->phase = PHASE_IDLE;

    enqueue(c, r);
    if (!q->keep_alive) {
        c->parsing_done = true;
    }
    gov_http_server *server = c->server;
    server->stats.requests++;
    gov_http_request call = *q; /* with the body, for this call only */
    call.body = (const uint8_t *)body;
    call.body_len = body_len;
    server->handler(r, &call, server->arg);
    free(body);
}

static void on_parse_error(connection *c, llhttp_errno_t err)
{
    if (c->error_status != 0) {
        fail_request(c, c->error_status, c->error_code, c->error_message);
    } else if (err == HPE_INVALID_VERSION || err == HPE_PAUSED_H2_UPGRADE) {
        fail_request(c, 505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are served");
    } else {
        fail_request(c, 400, "bad_request", "the request is not valid HTTP/1.1");
    }
}

static bool save_leftover(connection *c, const char *data, size_t len)
{
    GOV_ASSERT(c->leftover == NULL);
    c->leftover = malloc(len);
    if (c->leftover == NULL) {
        close_now(c);
        return false;
    }
    memcpy(c->leftover, data, len);
    c->leftover_len = len;
    return true;
}

/* Parses input, acting on each event between llhttp's calls (invariant 5). */
static void feed(connection *c, const char *data, size_t len)
{
    GOV_ASSERT(!c->feeding);
    c->feeding = true;
    size_t header_max = c->server->config.header_bytes_max;
    /* After a pause llhttp may have more to do without another byte (a message that ends
     * with its header section completes on the next call), so it is called once more. */
    bool paused = len == 0; /* resume() after a pause with nothing left to parse */
    while ((len > 0 || paused) && !c->closing && !c->parsing_done) {
        if (backpressured(c)) {
            if (len == 0) {
                /* An empty leftover: llhttp's next call parses nothing but must be made. */
                c->leftover = malloc(1);
                if (c->leftover == NULL) {
                    close_now(c);
                }
                break;
            }
            save_leftover(c, data, len);
            break;
        }
        phase before = c->phase;
        c->event = EVENT_NONE;
        llhttp_errno_t err = llhttp_execute(&c->parser, data, len);
        size_t used = len;
        if (err != HPE_OK) {
            used = (size_t)(llhttp_get_error_pos(&c->parser) - data);
        }
        data += used;
        len -= used;
        if (before == PHASE_HEAD) {
            c->head_raw_bytes += used;
        }
        paused = err == HPE_PAUSED;
        if (paused) {
            llhttp_resume(&c->parser);
        } else if (err != HPE_OK) {
            on_parse_error(c, err);
            break;
        }
        /* Spaces and line ends that llhttp skips count too. */
        if (c->head_raw_bytes > header_max && c->phase == PHASE_HEAD) {
            fail_request(c, 431, "headers_too_large", "the request line and headers are too large");
            break;
        }
        switch (c->event) {
        case EVENT_BEGIN:
            c->phase = PHASE_HEAD;
            c->head_raw_bytes = 0;
            c->request_started_ms = uv_now(c->server->loop);
            break;
        case EVENT_HEADERS:
            if (c->head_raw_bytes > header_max) {
                fail_request(c, 431, "headers_too_large",
                             "the request line and headers are too large");
            } else {
                on_head_done(c);
            }
            break;
        case EVENT_COMPLETE:
            dispatch(c);
            break;
        case EVENT_NONE:
            break;
        }
    }
    c->feeding = false;
    if (!c->closing) {
        flush(c);
    }
}

/* Accepting ---------------------------------------------------------------------------- */

static void format_remote(connection *c)
{
    struct sockaddr_storage addr;
    int len = sizeof(addr);
    char ip[INET6_ADDRSTRLEN] = "?";
    snprintf(c->remote, sizeof(c->remote), "?");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&addr, &len) != 0) {
        return;
    }
    if (addr.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&addr;
        uv_ip4_name(in, ip, sizeof(ip));
        snprintf(c->remote, sizeof(c->remote), "%s:%u", ip, (unsigned)ntohs(in->sin_port));
    } else if (addr.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&addr;
        uv_ip6_name(in6, ip, sizeof(ip));
        snprintf(c->remote, sizeof(c->remote), "[%s]:%u", ip, (unsigned)ntohs(in6->sin6_port));
    }
}

static void accept_spare(gov_http_server *server);

static void spare_closed(uv_handle_t *handle)
{
    gov_http_server *server = handle->data;
    server->spare_busy = false;
    if (server->accept_waiting && !server->stopping) {
        accept_spare(server);
    }
    maybe_done(server);
}

/* Out of memory for a connection: accept it into the spare handle and close it, since
 * libuv stops listening until each connection is accepted. */
static void accept_spare(gov_http_server *server)
{
    if (server->spare_busy) {
        server->accept_waiting = true;
        return;
    }
    server->accept_waiting = false;
    uv_tcp_init(server->loop, &server->spare);
    server->spare.data = server;
    server->spare_busy = true;
    uv_accept((uv_stream_t *)&server->listener, (uv_stream_t *)&server->spare);
    server->stats.connections_refused++;
    uv_close((uv_handle_t *)&server->spare, spare_closed);
}

static void refuse(connection *c)
{
    gov_http_server *server = c->server;
    c->refused = true;
    server->refusing++;
    server->stats.connections_refused++;
    if (server->refusing > GOV_HTTP_REFUSING_MAX) {
        close_now(c);
        return;
    }
    c->parsing_done = true;
    fail_request(c, 503, "too_many_connections", "the server has too many connections open");
}

static void on_connection(uv_stream_t *listener, int status)
{
    gov_http_server *server = listener->data;
    if (status < 0 || server->stopping) {
        return;
    }
    connection *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        accept_spare(server);
        return;
    }
    c->server = server;
    uv_tcp_init(server->loop, &c->tcp);
    uv_timer_init(server->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles_open = 2;
    c->next = server->connections;
    if (c->next != NULL) {
        c->next->prev = c;
    }
    server->connections = c;
    server->stats.connections_accepted++;
    c->idle_since_ms = uv_now(server->loop);
    c->write_progress_ms = c->idle_since_ms;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        c->refused = true; /* so that on_close does not count it as open */
        server->refusing++;
        close_now(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    format_remote(c);
    if (server->stats.connections_open >= server->config.connections_max) {
        refuse(c);
        return;
    }
    server->stats.connections_open++;
    llhttp_init(&c->parser, HTTP_REQUEST, &server->settings);
    c->parser.data = c;
    update_reading(c);
    rearm_timer(c);
}

/* The server ---------------------------------------------------------------------------- */

void gov_http_config_default(gov_http_config *config)
{
    *config = (gov_http_config){
        .host = "127.0.0.1",
        .port = 0,
        .connections_max = 256,
        .header_bytes_max = 16 * 1024,
        .body_bytes_max = 1 << 20,
        .request_timeout_ms = 10000,
        .idle_timeout_ms = 60000,
        .pipeline_max = 16,
    };
}

static int check_config(const gov_http_config *config, char *why, size_t why_len)
{
    if (config->host == NULL || strlen(config->host) >= sizeof(((gov_http_server *)0)->host)) {
        return gov_fail(why, why_len, GOV_EINVAL, "http: no host, or too long");
    }
    if (config->connections_max < 1 || config->connections_max > GOV_HTTP_CONNECTIONS_MAX) {
        return gov_fail(why, why_len, GOV_EINVAL, "http: connections_max must be 1..%d",
                        GOV_HTTP_CONNECTIONS_MAX);
    }
    if (config->header_bytes_max < GOV_HTTP_HEADER_BYTES_MIN ||
        config->header_bytes_max > GOV_HTTP_HEADER_BYTES_MAX) {
        return gov_fail(why, why_len, GOV_EINVAL, "http: header_bytes_max must be %d..%d",
                        GOV_HTTP_HEADER_BYTES_MIN, GOV_HTTP_HEADER_BYTES_MAX);
    }
    if (config->body_bytes_max > GOV_HTTP_BODY_BYTES_MAX) {
        return gov_fail(why, why_len, GOV_EINVAL, "http: body_bytes_max must be at most %d",
                        GOV_HTTP_BODY_BYTES_MAX);
    }
    uint32_t timeouts[] = {config->request_timeout_ms, config->idle_timeout_ms};
    for (size_t i = 0; i < 2; i++) {
        if (timeouts[i] < GOV_HTTP_TIMEOUT_MIN_MS || timeouts[i] > GOV_HTTP_TIMEOUT_MAX_MS) {
            return gov_fail(why, why_len, GOV_EINVAL, "http: timeouts must be %d..%d ms",
                            GOV_HTTP_TIMEOUT_MIN_MS, GOV_HTTP_TIMEOUT_MAX_MS);
        }
    }
    if (config->pipeline_max < 1 || config->pipeline_max > GOV_HTTP_PIPELINE_MAX) {
        return gov_fail(why, why_len, GOV_EINVAL, "http: pipeline_max must be 1..%d",
                        GOV_HTTP_PIPELINE_MAX);
    }
    return 0;
}

static void free_on_close(uv_handle_t *handle)
{
    gov_http_server *server = handle->data;
    free(server->read_buffer);
    free(server);
}

int gov_http_server_start(uv_loop_t *loop, const gov_http_config *config,
                          gov_http_handler_cb handler, void *arg, gov_http_server **out, char *why,
                          size_t why_len)
{
    *out = NULL;
    int rc = check_config(config, why, why_len);
    if (rc != 0) {
        return rc;
    }
    struct sockaddr_storage addr;
    if (uv_ip4_addr(config->host, config->port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(config->host, config->port, (struct sockaddr_in6 *)&addr) != 0) {
        return gov_fail(why, why_len, GOV_EINVAL, "http: '%s' is not an IP address", config->host);
    }
    gov_http_server *server = calloc(1, sizeof(*server));
    if (server == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "http: out of memory");
    }
    server->read_buffer = malloc(READ_BUFFER_BYTES);
    if (server->read_buffer == NULL) {
        rc = gov_fail(why, why_len, GOV_ENOMEM, "http: out of memory");
        goto fail_read_buffer;
    }
    server->loop = loop;
    server->config = *config;
    snprintf(server->host, sizeof(server->host), "%s", config->host);
    server->config.host = server->host;
    server->handler = handler;
    server->arg = arg;
    llhttp_settings_init(&server->settings);
    server->settings.on_message_begin = on_message_begin;
    server->settings.on_url = on_url;
    server->settings.on_url_complete = on_url_complete;
    server->settings.on_header_field = on_header_field;
    server->settings.on_header_field_complete = on_header_field_complete;
    server->settings.on_header_value = on_header_value;
    server->settings.on_header_value_complete = on_header_value_complete;
    server->settings.on_headers_complete = on_headers_complete;
    server->settings.on_body = on_body;
    server->settings.on_message_complete = on_message_complete;

    int uv_rc = uv_tcp_init(loop, &server->listener);
    if (uv_rc != 0) {
        rc = gov_fail(why, why_len, GOV_EIO, "http: %s", uv_strerror(uv_rc));
        goto fail_tcp;
    }
    server->listener.data = server;
    uv_rc = uv_tcp_bind(&server->listener, (const struct sockaddr *)&addr, 0);
    if (uv_rc == 0) {
        uv_rc = uv_listen((uv_stream_t *)&server->listener, LISTEN_BACKLOG, on_connection);
    }
    if (uv_rc != 0) {
        rc = gov_fail(why, why_len, GOV_EIO, "http: cannot listen on %s port %u: %s", config->host,
                      (unsigned)config->port, uv_strerror(uv_rc));
        goto fail_listen;
    }
    *out = server;
    return 0;

fail_listen:
    uv_close((uv_handle_t *)&server->listener, free_on_close);
    return rc;
fail_tcp:
    free(server->read_buffer);
fail_read_buffer:
    free(server);
    return rc;
}

uint16_t gov_http_server_port(const gov_http_server *server)
{
    struct sockaddr_storage addr;
    int len = sizeof(addr);
    if (uv_tcp_getsockname(&server->listener, (struct sockaddr *)&addr, &len) != 0) {
        return 0;
    }
    if (addr.ss_family == AF_INET6) {
        return ntohs(((const struct sockaddr_in6 *)&addr)->sin6_port);
    }
    return ntohs(((const struct sockaddr_in *)&addr)->sin_port);
}

static void listener_closed(uv_handle_t *handle)
{
    gov_http_server *server = handle->data;
    server->listener_closed = true;
    maybe_done(server);
}

void gov_http_server_stop(gov_http_server *server, gov_http_stop_cb done_cb, void *arg)
{
    GOV_ASSERT(!server->stopping);
    server->stopping = true;
    server->done_cb = done_cb;
    server->done_arg = arg;
    uv_close((uv_handle_t *)&server->listener, listener_closed);
    for (connection *c = server->connections; c != NULL; c = c->next) {
        close_now(c);
    }
}

void gov_http_server_stats(const gov_http_server *server, gov_http_stats *out)
{
    *out = server->stats;
}

/* Query strings ---------------------------------------------------------------------- */

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

/* Decodes src[0, len) into out[out_len], NUL-terminated. */
static int percent_decode(const char *src, size_t len, char *out, size_t out_len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = src[i];
        if (ch == '+') {
            ch = ' ';
        } else if (ch == '%') {
            if (i + 2 >= len) {
                return GOV_EDECODE;
            }
            int high = hex_digit(src[i + 1]);
            int low = hex_digit(src[i + 2]);
            if (high < 0 || low < 0 || (high == 0 && low == 0)) {
                return GOV_EDECODE;
            }
            ch = (char)(high * 16 + low);
            i += 2;
        }
        if (n + 1 >= out_len) {
            return GOV_ELIMIT;
        }
        out[n++] = ch;
    }
    out[n] = '\0';
    return 0;
}

/* Finds the one parameter called name: its raw value. */
static int find_parameter(const char *query, const char *name, const char **value,
                          size_t *value_len)
{
    bool found = false;
    const char *p = query;
    while (*p != '\0') {
        const char *end = strchr(p, '&');
        size_t segment_len = end == NULL ? strlen(p) : (size_t)(end - p);
        const char *equals = memchr(p, '=', segment_len);
        size_t key_len = equals == NULL ? segment_len : (size_t)(equals - p);
        char key[QUERY_NAME_LEN_MAX + 1];
        if (segment_len > 0 && percent_decode(p, key_len, key, sizeof(key)) == 0 &&
            strcmp(key, name) == 0) {
            if (found) {
                return GOV_EINVAL;
            }
            found = true;
            *value = equals == NULL ? p + segment_len : equals + 1;
            *value_len = (size_t)(p + segment_len - *value);
        }
        p += segment_len;
        if (*p == '&') {
            p++;
        }
    }
    return found ? 0 : GOV_ENOENT;
}

int gov_http_query_get(const char *query, const char *name, char *out, size_t out_len)
{
    GOV_ASSERT(out_len > 0);
    out[0] = '\0';
    const char *value = NULL;
    size_t value_len = 0;
    int rc = find_parameter(query, name, &value, &value_len);
    if (rc == 0) {
        rc = percent_decode(value, value_len, out, out_len);
    }
    if (rc != 0) {
        out[0] = '\0';
    }
    return rc;
}

int gov_http_query_uint(const char *query, const char *name, uint64_t max, uint64_t *value)
{
    const char *text = NULL;
    size_t len = 0;
    int rc = find_parameter(query, name, &text, &len);
    return rc != 0 ? rc : gov_http_decimal(text, len, max, value);
}

int gov_http_decimal(const char *text, size_t len, uint64_t max, uint64_t *value)
{
    /* Digits as sent: no escapes, signs, spaces or leading zeros. */
    if (len == 0 || (len > 1 && text[0] == '0')) {
        return GOV_EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9') {
            return GOV_EINVAL;
        }
    }
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        uint64_t digit = (uint64_t)(text[i] - '0');
        if (v > (UINT64_MAX - digit) / 10) {
            return GOV_ELIMIT;
        }
        v = v * 10 + digit;
    }
    if (v > max) {
        return GOV_ELIMIT;
    }
    *value = v;
    return 0;
}
