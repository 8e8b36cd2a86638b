/* A blocking HTTP/1.1 client for the command line (node/http_client.h). */
#include "node/http_client.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <llhttp.h>

#include "govchain/error.h"

typedef struct {
    char host[256];
    char port[8];
    char path[2048];
} url_parts;

static int parse_url(const char *url, url_parts *out, char *why, size_t why_len)
{
    const char *rest = url;
    if (strncmp(rest, "http://", 7) != 0) {
        return gov_fail(why, why_len, GOV_EINVAL, "'%s': only http:// URLs are supported", url);
    }
    rest += 7;
    const char *slash = strchr(rest, '/');
    size_t authority_len = slash == NULL ? strlen(rest) : (size_t)(slash - rest);
    const char *host = rest;
    size_t host_len = authority_len;
    const char *port = "80";
    size_t port_len = 2;
    if (host[0] == '[') {
        const char *close = memchr(host, ']', authority_len);
        if (close == NULL) {
            return gov_fail(why, why_len, GOV_EINVAL, "'%s': unclosed [ in the host", url);
        }
        host_len = (size_t)(close - host) - 1;
        host++;
        if (close + 1 < rest + authority_len && close[1] == ':') {
            port = close + 2;
            port_len = (size_t)(rest + authority_len - port);
        }
    } else {
        const char *colon = memchr(host, ':', authority_len);
        if (colon != NULL) {
            host_len = (size_t)(colon - host);
            port = colon + 1;
            port_len = (size_t)(rest + authority_len - port);
        }
    }
    if (host_len == 0 || host_len >= sizeof(out->host) || port_len == 0 ||
        port_len >= sizeof(out->port)) {
        return gov_fail(why, why_len, GOV_EINVAL, "'%s' has no usable host and port", url);
    }
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    memcpy(out->port, port, port_len);
    out->port[port_len] = '\0';
    snprintf(out->path, sizeof(out->path), "%s", slash == NULL ? "/" : slash);
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Waits until fd is ready for events or the deadline passes. */
static bool wait_ready(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            return false;
        }
        struct pollfd p = {.fd = fd, .events = events};
        int rc = poll(&p, 1, (int)left);
        if (rc > 0) {
            return true;
        }
        if (rc < 0 && errno != EINTR) {
            return false;
        }
    }
}

static int connect_to(const url_parts *url, int64_t deadline, int *out, char *why, size_t why_len)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *found = NULL;
    int rc = getaddrinfo(url->host, url->port, &hints, &found);
    if (rc != 0) {
        return gov_fail(why, why_len, GOV_EIO, "%s: %s", url->host, gai_strerror(rc));
    }
    int fd = -1;
    int error = 0;
    for (struct addrinfo *a = found; a != NULL && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            error = errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            break;
        }
        if (errno == EINPROGRESS && wait_ready(fd, POLLOUT, deadline)) {
            socklen_t len = sizeof(error);
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
            if (error == 0) {
                break;
            }
        } else {
            error = errno == EINPROGRESS ? ETIMEDOUT : errno;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(found);
    if (fd < 0) {
        return gov_fail(why, why_len, GOV_EIO, "cannot connect to %s:%s: %s", url->host, url->port,
                        strerror(error));
    }
    *out = fd;
    return 0;
}

static int send_all(int fd, const void *data, size_t len, int64_t deadline)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_ready(fd, POLLOUT, deadline)) {
                return GOV_EIO;
            }
        } else {
            return GOV_EIO;
        }
    }
    return 0;
}

typedef struct {
    gov_buf *body;
    size_t max;
    bool complete;
    bool too_large;
} parse_state;

static int on_body(llhttp_t *parser, const char *at, size_t len)
{
    parse_state *state = parser->data;
    if (len > state->max - state->body->len) {
        state->too_large = true;
        return -1;
    }
    gov_buf_append(state->body, at, len);
    return 0;
}

static int on_complete(llhttp_t *parser)
{
    parse_state *state = parser->data;
    state->complete = true;
    return HPE_PAUSED;
}

int gov_http_fetch(const char *method, const char *url, const char *content_type, const void *body,
                   size_t body_len, uint32_t timeout_ms, gov_http_response *out, char *why,
                   size_t why_len)
{
    return gov_http_fetch_max(method, url, content_type, body, body_len, timeout_ms,
                              GOV_HTTP_CLIENT_RESPONSE_MAX, out, why, why_len);
}

int gov_http_fetch_max(const char *method, const char *url, const char *content_type,
                       const void *body, size_t body_len, uint32_t timeout_ms, size_t response_max,
                       gov_http_response *out, char *why, size_t why_len)
{
    memset(out, 0, sizeof(*out));
    gov_buf_init(&out->body);
    url_parts parts;
    int rc = parse_url(url, &parts, why, why_len);
    if (rc != 0) {
        return rc;
    }
    int64_t deadline = now_ms() + timeout_ms;
    int fd = -1;
    rc = connect_to(&parts, deadline, &fd, why, why_len);
    if (rc != 0) {
        return rc;
    }
    gov_buf request;
    gov_buf_init(&request);
    char head[2600];
    bool v6 = strchr(parts.host, ':') != NULL;
    int head_len =
        snprintf(head, sizeof(head),
                 "%s %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nConnection: close\r\n"
                 "Accept: application/json\r\n",
                 method, parts.path, v6 ? "[" : "", parts.host, v6 ? "]" : "", parts.port);
    gov_buf_append(&request, head, (size_t)head_len);
    if (body != NULL) {
        head_len =
            snprintf(head, sizeof(head), "Content-Type: %s\r\nContent-Length: %zu\r\n",
                     content_type != NULL ? content_type : "application/octet-stream", body_len);
        gov_buf_append(&request, head, (size_t)head_len);
    }
    gov_buf_append(&request, "\r\n", 2);
    if (body != NULL) {
        gov_buf_append(&request, body, body_len);
    }
    if (!gov_buf_ok(&request) || send_all(fd, request.data, request.len, deadline) != 0) {
        gov_buf_free(&request);
        close(fd);
        return gov_fail(why, why_len, GOV_EIO, "sending the request to %s failed", url);
    }
    gov_buf_free(&request);

    llhttp_settings_t settings;
    llhttp_settings_init(&settings);
    settings.on_body = on_body;
    settings.on_message_complete = on_complete;
    llhttp_t parser;
    llhttp_init(&parser, HTTP_RESPONSE, &settings);
    parse_state state = {.body = &out->body, .max = response_max};
    parser.data = &state;
    char buffer[16384];
    rc = 0;
    while (!state.complete) {
        if (!wait_ready(fd, POLLIN, deadline)) {
            rc = gov_fail(why, why_len, GOV_EIO, "no answer from %s within %u ms", url, timeout_ms);
            break;
        }
        ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            continue;
        }
        llhttp_errno_t error =
            n > 0 ? llhttp_execute(&parser, buffer, (size_t)n) : llhttp_finish(&parser);
        if (state.too_large) {
            rc = gov_fail(why, why_len, GOV_ELIMIT, "the answer from %s is too large", url);
            break;
        }
        if (error != HPE_OK && error != HPE_PAUSED) {
            rc = gov_fail(why, why_len, GOV_EIO, "malformed answer from %s: %s", url,
                          llhttp_get_error_reason(&parser));
            break;
        }
        if (n <= 0 && !state.complete) {
            rc = gov_fail(why, why_len, GOV_EIO, "%s closed the connection mid-answer", url);
            break;
        }
    }
    close(fd);
    if (rc == 0 && !gov_buf_ok(&out->body)) {
        rc = gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
    }
    if (rc != 0) {
        gov_buf_free(&out->body);
        return rc;
    }
    out->status = parser.status_code;
    return 0;
}
