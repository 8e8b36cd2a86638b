/*
 * The node's HTTP/1.1 server: libuv for the sockets, llhttp for parsing, jansson for
 * JSON bodies. docs/http.md describes its rules for clients; this header is the API.
 *
 * Threads: everything runs on the loop given to gov_http_server_start, and every
 * function here must be called from that loop's thread.
 *
 * Ownership. The server owns each request and its reply handle. The handler is called
 * once per request with both; it answers by calling exactly one of gov_http_reply_json,
 * gov_http_reply_text or gov_http_reply_error, either before it returns or later (an
 * asynchronous reply). Answering ends the handler's use of the reply: the handle and
 * its request may be freed at once. If the client goes away before the answer:
 *   - when a cancel callback was set (gov_http_reply_on_cancel), the server calls it
 *     once and frees the reply when it returns; the handler must forget the handle
 *     there (answering inside the callback is allowed and does nothing);
 *   - otherwise the reply stays allocated, gov_http_reply_is_gone becomes true, and the
 *     handler's eventual answer frees it without sending anything.
 * So a reply is freed exactly once, and a handler that keeps a handle either sets a
 * cancel callback or promises to answer.
 *
 * Errors: functions return 0 or a negative GOV_E* code (govchain/error.h); detail goes
 * into why[] where a function takes one. NULL is not allowed unless a comment says so.
 */
#ifndef GOVCHAIN_NODE_HTTP_H
#define GOVCHAIN_NODE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

/* Limits. Each configuration value must lie within its bounds (checked by start). */
enum gov_http_limits {
    GOV_HTTP_HEADER_BYTES_MIN = 256,
    GOV_HTTP_HEADER_BYTES_MAX = 1 << 20,
    GOV_HTTP_BODY_BYTES_MAX = 64 << 20,
    GOV_HTTP_CONNECTIONS_MAX = 65536,
    GOV_HTTP_PIPELINE_MAX = 1024,
    GOV_HTTP_TIMEOUT_MIN_MS = 10,
    GOV_HTTP_TIMEOUT_MAX_MS = 3600000,
    /* Output waiting in the socket above which a connection's input is no longer read
     * (a client that does not read its responses stops being served). */
    GOV_HTTP_OUTPUT_HIGH_BYTES = 256 * 1024,
    /* Bytes read and thrown away after a connection stopped parsing (an error, or a
     * request with Connection: close), and in the lingering close after the last
     * response, and how long that lingering close may last. */
    GOV_HTTP_DISCARD_BYTES_MAX = 64 * 1024,
    GOV_HTTP_LINGER_MS = 2000,
    /* Connections over the limit being answered 503 at once; beyond this they are
     * closed without an answer. */
    GOV_HTTP_REFUSING_MAX = 64,
    /* Extra response headers a handler may add (gov_http_reply_header), in bytes. */
    GOV_HTTP_EXTRA_HEADER_BYTES_MAX = 512,
    /* "[ipv6]:port" */
    GOV_HTTP_REMOTE_LEN = 64,
};

typedef struct gov_http_config {
    const char *host;            /* an IPv4 or IPv6 literal, e.g. "127.0.0.1", "::" */
    uint16_t port;               /* 0: an ephemeral port (gov_http_server_port) */
    uint32_t connections_max;    /* open connections; more get 503 and are closed */
    uint32_t header_bytes_max;   /* request line and header section; more: 431 */
    uint32_t body_bytes_max;     /* request body (after de-chunking); more: 413 */
    uint32_t request_timeout_ms; /* first byte to complete request; slower: 408 */
    uint32_t idle_timeout_ms;    /* an idle keep-alive connection is closed after this */
    uint32_t pipeline_max;       /* requests parsed and not yet answered, per connection */
} gov_http_config;

/* Defaults: 127.0.0.1:0, 256 connections, 16 KiB of headers, 1 MiB of body, 10 s to
 * send a request, 60 s idle, 16 pipelined requests. */
void gov_http_config_default(gov_http_config *config);

/* A parsed request. Strings are NUL-terminated. The struct handed to the handler, and
 * the body, are valid only during the handler's call; the strings stay valid until the
 * reply is answered or cancelled, and gov_http_reply_request(reply) gives the request
 * (without its body) for as long. A handler that answers later copies what it needs of
 * the body. */
typedef struct gov_http_request {
    const char *method;       /* "GET", "POST", ... */
    const char *path;         /* the target before '?', as sent (not percent-decoded) */
    const char *query;        /* after '?' (without any '#...'), raw; "" when none */
    const char *content_type; /* NULL when absent */
    const char *accept;       /* NULL when absent */
    const uint8_t *body;      /* body_len bytes followed by a NUL that is not counted */
    size_t body_len;
    const char *remote; /* the client's address, "127.0.0.1:50312" or "[::1]:50312" */
    unsigned http_minor;
    bool keep_alive; /* whether the connection stays open after this request */
    /* Every header as "name\0value\0" pairs, names lower-cased, values without
     * surrounding spaces; gov_http_request_header looks one up. */
    const char *headers;
    size_t headers_count;
} gov_http_request;

/* The value of the first header called name (case-insensitive), or NULL. */
const char *gov_http_request_header(const gov_http_request *request, const char *name);

typedef struct gov_http_server gov_http_server;
typedef struct gov_http_reply gov_http_reply;

typedef void (*gov_http_handler_cb)(gov_http_reply *reply, const gov_http_request *request,
                                    void *arg);
typedef void (*gov_http_cancel_cb)(gov_http_reply *reply, void *arg);
typedef void (*gov_http_stop_cb)(void *arg);

/* Binds and listens. config and its host are copied. handler is called on the loop for
 * each complete request, with arg. On failure (GOV_EINVAL for a bad configuration or
 * address, GOV_ENOMEM, GOV_EIO when the socket cannot be bound or listened on) *out is
 * NULL; a socket handle already created is closed and freed by the loop when it next
 * runs. */
int gov_http_server_start(uv_loop_t *loop, const gov_http_config *config,
                          gov_http_handler_cb handler, void *arg, gov_http_server **out, char *why,
                          size_t why_len);

/* The port the server listens on (the ephemeral one when config->port was 0). */
uint16_t gov_http_server_port(const gov_http_server *server);

/* Stops listening and closes every connection at once (pending replies are cancelled as
 * if their clients had gone). When every handle has closed the server is freed and
 * done_cb (may be NULL) is called with arg; the loop then holds nothing of the server.
 * The server must not be used after this call, which must not be made twice nor from a
 * cancel callback. */
void gov_http_server_stop(gov_http_server *server, gov_http_stop_cb done_cb, void *arg);

typedef struct gov_http_stats {
    uint64_t connections_open;     /* counted against connections_max */
    uint64_t connections_accepted; /* since start, refused ones included */
    uint64_t connections_refused;  /* over the limit */
    uint64_t requests;             /* handed to the handler */
    uint64_t responses[6];         /* written, by class: [2] 2xx ... [5] 5xx; [0] other */
    uint64_t bad_requests;         /* 400, 413, 431, 505 produced by the server */
    uint64_t timeouts;             /* 408s, and connections closed for not reading */
    uint64_t cancelled;            /* replies whose client went away first */
} gov_http_stats;

void gov_http_server_stats(const gov_http_server *server, gov_http_stats *out);

/* Answers with body serialised compactly as application/json, with Cache-Control:
 * no-store. Takes ownership of body (a reference, as json_object_set_new does); a NULL
 * body (a failed json_pack, say) answers 500 internal_error instead. status is
 * 200..599. Returns 0 when the response is queued, GOV_EIO when the client is gone,
 * GOV_ENOMEM when it could not be built (the connection is then closed). The reply is
 * consumed in every case. */
int gov_http_reply_json(gov_http_reply *reply, int status, json_t *body);

/* Answers with len bytes of content_type (a constant such as "text/html; charset=utf-8").
 * Returns as gov_http_reply_json. */
int gov_http_reply_text(gov_http_reply *reply, int status, const char *content_type,
                        const void *bytes, size_t len);

/* Answers {"error":{"code":code,"message":message}} with status (400..599). code is a
 * stable lower_snake_case word; message is for people. Returns as gov_http_reply_json. */
int gov_http_reply_error(gov_http_reply *reply, int status, const char *code, const char *message);

/* Adds a response header (e.g. "Allow" for a 405, "Retry-After") before answering.
 * GOV_EINVAL for a name that is not a token, a value with control characters, or a
 * header the server writes itself; GOV_ELIMIT past GOV_HTTP_EXTRA_HEADER_BYTES_MAX. */
int gov_http_reply_header(gov_http_reply *reply, const char *name, const char *value);

/* Calls cancel_cb(reply, arg) once if the client goes away before the answer. Set it in
 * the handler: a reply that is already gone when it is set is never cancelled (check
 * gov_http_reply_is_gone). */
void gov_http_reply_on_cancel(gov_http_reply *reply, gov_http_cancel_cb cancel_cb, void *arg);

/* Whether the client has gone (its connection closed) before the answer. */
bool gov_http_reply_is_gone(const gov_http_reply *reply);

/* The request this reply answers, without its body (empty: the body is only for the
 * handler's call). */
const gov_http_request *gov_http_reply_request(const gov_http_reply *reply);

/* Query strings ("a=1&b=x%20y"). gov_http_query_get finds parameter name and writes its
 * value, percent-decoded ('+' is a space), NUL-terminated, into out[out_len]. A parameter
 * without '=' has the value "". Returns 0; GOV_ENOENT when absent; GOV_EINVAL when it
 * appears more than once; GOV_EDECODE for a bad %-escape or a decoded NUL; GOV_ELIMIT
 * when the value does not fit. out is "" on any failure. */
int gov_http_query_get(const char *query, const char *name, char *out, size_t out_len);

/* An unsigned decimal parameter: digits only, no sign, space or leading zero (but "0"),
 * at most max. Returns 0 with *value set; GOV_ENOENT when absent; GOV_EINVAL when not
 * such a number (or repeated); GOV_ELIMIT when larger than max. */
int gov_http_query_uint(const char *query, const char *name, uint64_t max, uint64_t *value);
/* The same rules for a decimal number of len bytes at text (not NUL-terminated):
 * GOV_EINVAL, GOV_ELIMIT (over max) or 0. */
int gov_http_decimal(const char *text, size_t len, uint64_t max, uint64_t *value);

#endif
