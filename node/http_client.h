/*
 * A small blocking HTTP/1.1 client for the command line (`govchain submit`, `status`,
 * `localnet`): one request per connection, plain http:// URLs with a host and a port,
 * a timeout, and a cap on the response size checked before it is kept. Responses are
 * parsed with llhttp, like the server's requests.
 */
#ifndef GOVCHAIN_NODE_HTTP_CLIENT_H
#define GOVCHAIN_NODE_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "govchain/canon.h"

enum { GOV_HTTP_CLIENT_RESPONSE_MAX = 64 * 1024 * 1024 };

typedef struct {
    int status;
    gov_buf body;
} gov_http_response;

/* Sends method url (e.g. "http://127.0.0.1:8100/v1/status") with body (may be NULL) of
 * content_type and reads the whole response into *out (its body is the caller's to
 * free with gov_buf_free). 0, or GOV_EINVAL (bad URL), GOV_EIO (connection, timeout,
 * malformed response), GOV_ELIMIT (response too large) with the reason in why[]. */
int gov_http_fetch(const char *method, const char *url, const char *content_type, const void *body,
                   size_t body_len, uint32_t timeout_ms, gov_http_response *out, char *why,
                   size_t why_len);
/* gov_http_fetch with its own cap on the response body (GOV_ELIMIT above it), for
 * answers whose largest honest size is known. */
int gov_http_fetch_max(const char *method, const char *url, const char *content_type,
                       const void *body, size_t body_len, uint32_t timeout_ms, size_t response_max,
                       gov_http_response *out, char *why, size_t why_len);

#endif
