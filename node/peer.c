/*
 * Peer links: TCP + mutual TLS 1.3 + length-prefixed frames, on one libuv loop
 * (docs/peers.md).
 *
 * Design note.
 *
 * Definitions. A slot is what the node keeps about one other validator: its address,
 * its send queue, its link (an authenticated connection, at most one), its reconnect
 * timer and, when we dial it, the attempt in progress. A conn is one TCP connection with
 * its TLS session. The link rule: the lower index of a pair dials the higher one.
 *
 * A conn's states and the functions that move it:
 *
 *     dial_connect()         on_connection()
 *          |                      |
 *     CONNECTING --connect_cb--> HANDSHAKE --link_up()--> UP
 *          \                      |                        |
 *           `------------------> CLOSING <-----------------'   conn_close()
 *
 * In HANDSHAKE the TLS handshake runs and then each side sends the 8-byte link hello
 * ("GOVLINK" and the version); a conn becomes UP when its handshake is done and the
 * peer's hello has arrived. The hello matters to the dialer: in TLS 1.3 a client
 * finishes its handshake before the server has judged the client's certificate, so only
 * the server's hello proves that the server accepted us.
 *
 * Invariants:
 *   1. slot->link is UP, is the only UP conn of that validator, and its peer index was
 *      authenticated by TLS (node/tls.c) as that validator.
 *   2. on_frame runs only for UP conns.
 *   3. A send queue never holds more than send_queue_frames_max frames or
 *      send_queue_bytes_max payload bytes, and a conn holds at most
 *      WRITE_HIGH_WATER + one frame of encrypted bytes not yet written to its socket.
 *   4. A received frame's length is checked against frame_bytes_max before its body is
 *      allocated.
 *   5. Memory is freed only in close callbacks, never while a callback of ours that may
 *      re-enter (on_frame, on_peer_state) is on the stack.
 */
#include "node/peer.h"

#include "govchain/assert.h"
#include "govchain/error.h"
#include "node/tls.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#define READ_CHUNK_BYTES      65536
#define PLAINTEXT_CHUNK_BYTES 16384 /* one TLS record */
#define WRITE_HIGH_WATER      (256u * 1024)
#define PENDING_INBOUND_MAX   64
/* Per source address, so one address cannot take every handshake slot (at least the
 * validator count: on one host, every peer dials from the same address). */
#define PENDING_PER_ADDRESS_MAX 8
#define REFUSED_LOG_MS          10000 /* refusals are logged at most this often */
#define KEEPALIVE_DELAY_S       30
#define LISTEN_BACKLOG          64
#define HOST_LEN_MAX            255
#define LINK_HELLO_LEN          8
#define LOG_LEN                 512
#define WHY_LEN                 256

static const uint8_t link_hello[LINK_HELLO_LEN] = {'G', 'O', 'V', 'L', 'I', 'N', 'K', 1};

typedef struct frame {
    struct frame *next;
    size_t len; /* header included */
    uint8_t bytes[];
} frame;

typedef struct conn conn;

typedef struct {
    gov_peer_net *net;
    uint32_t index;
    bool dial;
    char host[HOST_LEN_MAX + 1];
    char port[8];
    conn *link;
    conn *attempt;
    uv_timer_t reconnect_timer;
    uv_getaddrinfo_t resolve;
    bool resolving;
    uint32_t attempts;
    frame *queue_head;
    frame *queue_tail;
    uint32_t queued_frames;
    size_t queued_bytes;
    uint64_t frames_dropped;
    bool dropping; /* the queue refused a frame and has not accepted one since */
} slot;

typedef enum {
    CONN_CONNECTING,
    CONN_HANDSHAKE,
    CONN_UP,
    CONN_CLOSING,
} conn_state;

struct conn {
    gov_peer_net *net;
    conn *prev;
    conn *next;
    uv_tcp_t tcp;
    uv_timer_t timer; /* the handshake deadline */
    uv_connect_t connect_req;
    int handles_open;
    conn_state state;
    bool outbound;
    bool counted_pending; /* inbound, counted in net->pending_inbound */
    uint32_t peer;        /* dialed, or authenticated once the handshake is done */
    gov_tls_session *tls;
    uint8_t hello[LINK_HELLO_LEN];
    size_t hello_have;
    uint8_t header[4];
    size_t header_have;
    uint8_t *body;
    size_t body_len;
    size_t body_have;
    size_t unsent_bytes;
    uint64_t up_since_ms;
    char remote[HOST_LEN_MAX + 9];
};

typedef struct {
    uv_write_t req;
    size_t len;
    uint8_t bytes[];
} write_req;

struct gov_peer_net {
    uv_loop_t *loop;
    gov_peer_callbacks callbacks;
    gov_tls *tls;
    uv_tcp_t listener;
    uint16_t port;
    uint32_t own_index;
    uint32_t validators_count;
    uint32_t queue_frames_max;
    size_t queue_bytes_max;
    uint32_t frame_bytes_max;
    uint64_t reconnect_min_ms;
    uint64_t reconnect_max_ms;
    uint64_t handshake_timeout_ms;
    uint64_t random_state;
    slot slots[GOV_VALIDATORS_MAX];
    conn *conns;
    uint32_t pending_inbound;
    uint64_t refused_logged_ms; /* when a refusal was last logged */
    uint64_t refused_unlogged;  /* refusals since */
    gov_peer_stats stats;
    bool stopping;
    int handles_open;
    int requests_open;
    void (*done_cb)(void *arg);
    void *done_arg;
    uint8_t read_buffer[READ_CHUNK_BYTES];
};

static void conn_close(conn *c);
static void conn_process(conn *c);
static void pump_send(conn *c);
static void dial(slot *s);

/* Logging ------------------------------------------------------------------------------ */

static void net_log(gov_peer_net *net, gov_peer_log_level level, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void net_log(gov_peer_net *net, gov_peer_log_level level, const char *format, ...)
{
    if (net->stopping || net->callbacks.on_log_cb == NULL) {
        return;
    }
    char text[LOG_LEN];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof(text), format, args);
    va_end(args);
    net->callbacks.on_log_cb(net->callbacks.arg, level, text);
}

/* "validator 2 (10.0.0.2:7000)" or, before we know who it is, "10.0.0.9:51234". */
static void conn_name(const conn *c, char *out, size_t len)
{
    if (c->outbound || (c->tls != NULL && gov_tls_session_handshake_done(c->tls))) {
        snprintf(out, len, "validator %u (%s)", c->peer, c->remote);
    } else {
        snprintf(out, len, "%s", c->remote);
    }
}

/* Random numbers for jitter (xorshift64*): the I/O edge, seeded once. */
static uint64_t random_next(gov_peer_net *net)
{
    uint64_t x = net->random_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    net->random_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Closing and stopping ------------------------------------------------------------------ */

static void net_finish_if_done(gov_peer_net *net)
{
    if (!net->stopping || net->handles_open > 0 || net->requests_open > 0) {
        return;
    }
    for (uint32_t i = 0; i < net->validators_count; i++) {
        slot *s = &net->slots[i];
        while (s->queue_head != NULL) {
            frame *f = s->queue_head;
            s->queue_head = f->next;
            free(f);
        }
    }
    void (*done_cb)(void *) = net->done_cb;
    void *done_arg = net->done_arg;
    gov_tls_free(net->tls);
    free(net);
    if (done_cb != NULL) {
        done_cb(done_arg);
    }
}

static void net_handle_closed_cb(uv_handle_t *handle)
{
    gov_peer_net *net = handle->data;
    net->handles_open--;
    net_finish_if_done(net);
}

static void slot_timer_closed_cb(uv_handle_t *handle)
{
    slot *s = handle->data;
    s->net->handles_open--;
    net_finish_if_done(s->net);
}

static void conn_handle_closed_cb(uv_handle_t *handle)
{
    conn *c = handle->data;
    if (--c->handles_open > 0) {
        return;
    }
    gov_peer_net *net = c->net;
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        net->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    gov_tls_session_free(c->tls);
    free(c->body);
    free(c);
    net->handles_open--;
    net_finish_if_done(net);
}

static uint64_t reconnect_delay_ms(gov_peer_net *net, uint32_t attempts)
{
    uint64_t base = net->reconnect_min_ms;
    for (uint32_t i = 0; i < attempts && base < net->reconnect_max_ms; i++) {
        base *= 2;
    }
    if (base > net->reconnect_max_ms) {
        base = net->reconnect_max_ms;
    }
    /* Jitter over the upper half, so that nodes restarted together do not dial in step. */
    return base / 2 + random_next(net) % (base - base / 2 + 1);
}

static void reconnect_cb(uv_timer_t *timer)
{
    dial(timer->data);
}

static void schedule_reconnect(slot *s)
{
    gov_peer_net *net = s->net;
    if (!s->dial || net->stopping || s->link != NULL || s->attempt != NULL || s->resolving) {
        return;
    }
    uint64_t delay = reconnect_delay_ms(net, s->attempts);
    if (s->attempts < 32) {
        s->attempts++;
    }
    net_log(net, GOV_PEER_LOG_DEBUG, "dialing validator %u again in %llu ms", s->index,
            (unsigned long long)delay);
    uv_timer_start(&s->reconnect_timer, reconnect_cb, delay, 0);
}

/* Leaves the slot, tells the user, closes both handles. Idempotent. */
static void conn_close(conn *c)
{
    if (c->state == CONN_CLOSING) {
        return;
    }
    gov_peer_net *net = c->net;
    bool was_up = c->state == CONN_UP;
    c->state = CONN_CLOSING;
    if (c->counted_pending) {
        net->pending_inbound--;
        c->counted_pending = false;
    }
    slot *s = c->outbound || was_up ? &net->slots[c->peer] : NULL;
    if (s != NULL && s->attempt == c) {
        s->attempt = NULL;
    }
    if (s != NULL && s->link == c) {
        s->link = NULL;
        net->stats.peers_connected--;
        /* A link that stayed up for as long as the backoff cap counts as stable. */
        if (uv_now(net->loop) - c->up_since_ms >= net->reconnect_max_ms) {
            s->attempts = 0;
        }
        if (!net->stopping && net->callbacks.on_peer_state_cb != NULL) {
            net->callbacks.on_peer_state_cb(net->callbacks.arg, c->peer, false);
        }
    }
    uv_close((uv_handle_t *)&c->tcp, conn_handle_closed_cb);
    uv_close((uv_handle_t *)&c->timer, conn_handle_closed_cb);
    if (c->outbound && s != NULL) {
        schedule_reconnect(s);
    }
}

void gov_peer_net_stop(gov_peer_net *net, void (*done_cb)(void *arg), void *arg)
{
    GOV_ASSERT(!net->stopping);
    net->stopping = true;
    net->done_cb = done_cb;
    net->done_arg = arg;
    uv_close((uv_handle_t *)&net->listener, net_handle_closed_cb);
    for (uint32_t i = 0; i < net->validators_count; i++) {
        slot *s = &net->slots[i];
        if (i != net->own_index) {
            uv_close((uv_handle_t *)&s->reconnect_timer, slot_timer_closed_cb);
        }
        if (s->resolving) {
            (void)uv_cancel((uv_req_t *)&s->resolve);
        }
    }
    for (conn *c = net->conns; c != NULL; c = c->next) {
        if (c->state == CONN_UP) {
            gov_tls_session_close(c->tls); /* a close_notify, sent if the socket takes it */
            size_t pending = gov_tls_session_output_pending(c->tls);
            if (pending > 0 && pending <= 64) {
                uint8_t alert[64];
                size_t len = gov_tls_session_take_output(c->tls, alert, sizeof(alert));
                uv_buf_t buf = uv_buf_init((char *)alert, (unsigned)len);
                (void)uv_try_write((uv_stream_t *)&c->tcp, &buf, 1);
            }
        }
        conn_close(c);
    }
    /* Memory is released in the close callbacks, never here (invariant 5). */
}

/* Writing -------------------------------------------------------------------------------- */

static void write_cb(uv_write_t *req, int status)
{
    write_req *w = (write_req *)req;
    conn *c = req->data;
    c->unsent_bytes -= w->len;
    free(w);
    if (c->state == CONN_CLOSING) {
        return;
    }
    if (status < 0) {
        char name[HOST_LEN_MAX + 32];
        conn_name(c, name, sizeof(name));
        net_log(c->net, GOV_PEER_LOG_INFO, "%s: write failed: %s", name, uv_strerror(status));
        conn_close(c);
        return;
    }
    if (c->state == CONN_UP) {
        pump_send(c);
    }
}

/* Hands whatever TLS produced to the socket. False when the conn had to close. */
static bool flush_output(conn *c)
{
    if (c->state == CONN_CLOSING) {
        return false;
    }
    if (c->tls == NULL) {
        return true;
    }
    size_t pending = gov_tls_session_output_pending(c->tls);
    if (pending == 0) {
        return true;
    }
    write_req *w = malloc(sizeof(*w) + pending);
    if (w == NULL) {
        net_log(c->net, GOV_PEER_LOG_ERROR, "%s: out of memory", c->remote);
        conn_close(c);
        return false;
    }
    w->len = gov_tls_session_take_output(c->tls, w->bytes, pending);
    GOV_ASSERT(w->len == pending);
    w->req.data = c;
    uv_buf_t buf = uv_buf_init((char *)w->bytes, (unsigned)w->len);
    c->unsent_bytes += w->len;
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, write_cb);
    if (rc < 0) {
        c->unsent_bytes -= w->len;
        free(w);
        net_log(c->net, GOV_PEER_LOG_INFO, "%s: write failed: %s", c->remote, uv_strerror(rc));
        conn_close(c);
        return false;
    }
    return true;
}

/* Moves queued frames into TLS while the socket keeps up (invariant 3). */
static void pump_send(conn *c)
{
    gov_peer_net *net = c->net;
    slot *s = &net->slots[c->peer];
    while (c->state == CONN_UP && s->queue_head != NULL && c->unsent_bytes < WRITE_HIGH_WATER) {
        frame *f = s->queue_head;
        s->queue_head = f->next;
        if (s->queue_head == NULL) {
            s->queue_tail = NULL;
        }
        s->queued_frames--;
        s->queued_bytes -= f->len - 4;
        char why[WHY_LEN] = "";
        int rc = gov_tls_session_write(c->tls, f->bytes, f->len, why, sizeof(why));
        if (rc == 0) {
            net->stats.frames_out++;
            net->stats.bytes_out += f->len - 4;
        }
        free(f);
        if (rc != 0) {
            net_log(net, GOV_PEER_LOG_ERROR, "validator %u: %s", c->peer, why);
            conn_close(c);
            return;
        }
        flush_output(c);
    }
}

int gov_peer_send(gov_peer_net *net, uint32_t to, const uint8_t *bytes, size_t len)
{
    if (net->stopping || to >= net->validators_count || to == net->own_index) {
        return GOV_EINVAL;
    }
    slot *s = &net->slots[to];
    if (len == 0 || len > net->frame_bytes_max) {
        net->stats.frames_dropped++;
        net->stats.bytes_dropped += len;
        s->frames_dropped++;
        net_log(net, GOV_PEER_LOG_ERROR,
                "refusing to send a frame of %zu bytes to validator %u (allowed 1 to %u)", len, to,
                net->frame_bytes_max);
        return GOV_ELIMIT;
    }
    if (s->queued_frames >= net->queue_frames_max || len > net->queue_bytes_max - s->queued_bytes) {
        net->stats.frames_dropped++;
        net->stats.bytes_dropped += len;
        s->frames_dropped++;
        if (!s->dropping) {
            s->dropping = true;
            net_log(net, GOV_PEER_LOG_WARN,
                    "send queue to validator %u is full (%u frames, %zu bytes): dropping "
                    "a frame of %zu bytes",
                    to, s->queued_frames, s->queued_bytes, len);
        }
        return GOV_ELIMIT;
    }
    frame *f = malloc(sizeof(*f) + 4 + len);
    if (f == NULL) {
        return GOV_ENOMEM;
    }
    f->next = NULL;
    f->len = 4 + len;
    f->bytes[0] = (uint8_t)(len >> 24);
    f->bytes[1] = (uint8_t)(len >> 16);
    f->bytes[2] = (uint8_t)(len >> 8);
    f->bytes[3] = (uint8_t)len;
    memcpy(f->bytes + 4, bytes, len);
    if (s->queue_tail != NULL) {
        s->queue_tail->next = f;
    } else {
        s->queue_head = f;
    }
    s->queue_tail = f;
    s->queued_frames++;
    s->queued_bytes += len;
    s->dropping = false;
    if (s->link != NULL) {
        pump_send(s->link);
    }
    return 0;
}

int gov_peer_broadcast(gov_peer_net *net, const uint8_t *bytes, size_t len)
{
    int result = 0;
    for (uint32_t i = 0; i < net->validators_count; i++) {
        if (i == net->own_index) {
            continue;
        }
        int rc = gov_peer_send(net, i, bytes, len);
        if (rc != 0 && result == 0) {
            result = rc;
        }
    }
    return result;
}

/* Reading -------------------------------------------------------------------------------- */

static void link_up(conn *c)
{
    gov_peer_net *net = c->net;
    slot *s = &net->slots[c->peer];
    uv_timer_stop(&c->timer);
    if (c->counted_pending) {
        net->pending_inbound--;
        c->counted_pending = false;
    }
    if (s->link != NULL) {
        /* The dialer only dials when its side of the old link is gone, so the old one
         * is dead or half-open: the new one replaces it. */
        net_log(net, GOV_PEER_LOG_INFO, "validator %u connected again; closing its old link",
                c->peer);
        conn_close(s->link);
        if (c->state == CONN_CLOSING) { /* the callback stopped the net */
            return;
        }
    }
    if (s->attempt == c) {
        s->attempt = NULL;
    }
    s->link = c;
    c->state = CONN_UP;
    c->up_since_ms = uv_now(net->loop);
    net->stats.peers_connected++;
    net_log(net, GOV_PEER_LOG_INFO, "link to validator %u (%s) is up", c->peer, c->remote);
    if (net->callbacks.on_peer_state_cb != NULL) {
        net->callbacks.on_peer_state_cb(net->callbacks.arg, c->peer, true);
    }
    pump_send(c);
}

/* A failure before the link is up: a handshake failure, counted and logged. */
static void handshake_failed(conn *c, const char *reason)
{
    char name[HOST_LEN_MAX + 32];
    conn_name(c, name, sizeof(name));
    c->net->stats.handshake_failures++;
    net_log(c->net, GOV_PEER_LOG_WARN, "%s: handshake failed: %s", name, reason);
    flush_output(c); /* the alert, if TLS made one */
    conn_close(c);
}

/* An authenticated peer broke the protocol: dropped, counted and logged. */
static void link_violation(conn *c, const char *reason)
{
    c->net->stats.links_dropped++;
    net_log(c->net, GOV_PEER_LOG_WARN, "validator %u (%s): %s; dropping the link", c->peer,
            c->remote, reason);
    conn_close(c);
}

static void deliver_frame(conn *c)
{
    gov_peer_net *net = c->net;
    uint8_t *body = c->body;
    size_t len = c->body_len;
    c->body = NULL;
    net->stats.frames_in++;
    net->stats.bytes_in += len;
    if (net->callbacks.on_frame_cb != NULL) {
        net->callbacks.on_frame_cb(net->callbacks.arg, c->peer, body, len);
    }
    free(body);
}

/* Consumes decrypted bytes: the hello, then frames (invariant 4). */
static void consume(conn *c, const uint8_t *data, size_t len)
{
    while (len > 0 && c->state != CONN_CLOSING) {
        size_t take;
        if (c->state != CONN_UP) {
            take = LINK_HELLO_LEN - c->hello_have;
            take = take < len ? take : len;
            memcpy(c->hello + c->hello_have, data, take);
            c->hello_have += take;
            if (c->hello_have == LINK_HELLO_LEN) {
                if (memcmp(c->hello, link_hello, LINK_HELLO_LEN) != 0) {
                    handshake_failed(c, "bad link hello (not a govchain link of version 1)");
                    return;
                }
                link_up(c);
            }
        } else if (c->body == NULL) {
            take = 4 - c->header_have;
            take = take < len ? take : len;
            memcpy(c->header + c->header_have, data, take);
            c->header_have += take;
            if (c->header_have == 4) {
                uint32_t frame_len = (uint32_t)c->header[0] << 24 | (uint32_t)c->header[1] << 16 |
                                     (uint32_t)c->header[2] << 8 | c->header[3];
                c->header_have = 0;
                if (frame_len == 0 || frame_len > c->net->frame_bytes_max) {
                    char reason[96];
                    snprintf(reason, sizeof(reason), "frame of %u bytes (allowed 1 to %u)",
                             frame_len, c->net->frame_bytes_max);
                    link_violation(c, reason);
                    return;
                }
                c->body = malloc(frame_len);
                if (c->body == NULL) {
                    link_violation(c, "out of memory for a frame");
                    return;
                }
                c->body_len = frame_len;
                c->body_have = 0;
            }
        } else {
            take = c->body_len - c->body_have;
            take = take < len ? take : len;
            memcpy(c->body + c->body_have, data, take);
            c->body_have += take;
            if (c->body_have == c->body_len) {
                deliver_frame(c);
            }
        }
        data += take;
        len -= take;
    }
}

static void handshake_done(conn *c)
{
    uint32_t peer = gov_tls_session_peer_index(c->tls);
    /* The session allowed only the dialed validator (tls.h, rule 1). */
    GOV_ASSERT(!c->outbound || peer == c->peer);
    c->peer = peer;
    char why[WHY_LEN] = "";
    if (gov_tls_session_write(c->tls, link_hello, sizeof(link_hello), why, sizeof(why)) != 0) {
        handshake_failed(c, why);
    }
}

static void conn_process(conn *c)
{
    char why[WHY_LEN] = "";
    if (!gov_tls_session_handshake_done(c->tls)) {
        int rc = gov_tls_session_handshake(c->tls, why, sizeof(why));
        if (rc == GOV_TLS_AGAIN) {
            flush_output(c);
            return;
        }
        if (rc != 0) {
            handshake_failed(c, why);
            return;
        }
        handshake_done(c);
    }
    uint8_t plaintext[PLAINTEXT_CHUNK_BYTES];
    while (c->state != CONN_CLOSING) {
        size_t got = 0;
        int rc = gov_tls_session_read(c->tls, plaintext, sizeof(plaintext), &got, why, sizeof(why));
        if (rc == 0 && got == 0) {
            break;
        }
        if (rc != 0) {
            if (c->state != CONN_UP) {
                handshake_failed(c, why);
            } else if (rc == GOV_EIO) {
                net_log(c->net, GOV_PEER_LOG_INFO, "validator %u (%s) closed the link", c->peer,
                        c->remote);
                conn_close(c);
            } else {
                link_violation(c, why);
            }
            return;
        }
        consume(c, plaintext, got);
    }
    flush_output(c);
}

static void alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    conn *c = handle->data;
    /* libuv calls read_cb right after, so one buffer per net serves every conn. */
    *buf = uv_buf_init((char *)c->net->read_buffer, sizeof(c->net->read_buffer));
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    conn *c = stream->data;
    if (c->state == CONN_CLOSING || nread == 0) {
        return;
    }
    if (nread < 0) {
        const char *reason = nread == UV_EOF ? "connection closed" : uv_strerror((int)nread);
        if (c->state == CONN_UP) {
            net_log(c->net, GOV_PEER_LOG_INFO, "validator %u (%s): %s", c->peer, c->remote, reason);
            conn_close(c);
        } else {
            handshake_failed(c, reason);
        }
        return;
    }
    if (gov_tls_session_receive(c->tls, buf->base, (size_t)nread) != 0) {
        handshake_failed(c, "out of memory");
        return;
    }
    conn_process(c);
}

/* Connections ---------------------------------------------------------------------------- */

static void handshake_timeout_cb(uv_timer_t *timer)
{
    conn *c = timer->data;
    if (c->state == CONN_CONNECTING || c->state == CONN_HANDSHAKE) {
        char reason[96];
        snprintf(reason, sizeof(reason), "no link within %llu ms",
                 (unsigned long long)c->net->handshake_timeout_ms);
        handshake_failed(c, reason);
    }
}

static conn *conn_new(gov_peer_net *net, bool outbound, uint32_t peer)
{
    conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->net = net;
    c->outbound = outbound;
    c->peer = peer;
    c->state = CONN_CONNECTING;
    uv_tcp_init(net->loop, &c->tcp);
    uv_timer_init(net->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->connect_req.data = c;
    c->handles_open = 2;
    net->handles_open++;
    c->next = net->conns;
    if (net->conns != NULL) {
        net->conns->prev = c;
    }
    net->conns = c;
    uv_timer_start(&c->timer, handshake_timeout_cb, net->handshake_timeout_ms, 0);
    return c;
}

static void remote_name(conn *c)
{
    struct sockaddr_storage address;
    int len = sizeof(address);
    char ip[48] = "?";
    int port = 0;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&address, &len) == 0) {
        if (address.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&address, ip, sizeof(ip));
            port = ntohs(((struct sockaddr_in6 *)&address)->sin6_port);
        } else {
            uv_ip4_name((struct sockaddr_in *)&address, ip, sizeof(ip));
            port = ntohs(((struct sockaddr_in *)&address)->sin_port);
        }
    }
    snprintf(c->remote, sizeof(c->remote), "%s:%d", ip, port);
}

/* TCP is connected: starts TLS and reading. */
static void conn_start(conn *c)
{
    gov_peer_net *net = c->net;
    uint64_t allowed = 0;
    if (c->outbound) {
        allowed = UINT64_C(1) << c->peer;
    } else {
        for (uint32_t i = 0; i < net->own_index; i++) {
            allowed |= UINT64_C(1) << i; /* only lower indexes dial us */
        }
    }
    char why[WHY_LEN] = "";
    c->state = CONN_HANDSHAKE;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_tcp_keepalive(&c->tcp, 1, KEEPALIVE_DELAY_S);
    if (gov_tls_session_new(net->tls, c->outbound, allowed, &c->tls, why, sizeof(why)) != 0) {
        net_log(net, GOV_PEER_LOG_ERROR, "%s: %s", c->remote, why);
        conn_close(c);
        return;
    }
    int rc = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
    if (rc < 0) {
        handshake_failed(c, uv_strerror(rc));
        return;
    }
    if (c->outbound) {
        conn_process(c); /* the ClientHello */
    }
}

static void connect_cb(uv_connect_t *req, int status)
{
    conn *c = req->data;
    if (c->state == CONN_CLOSING) {
        return;
    }
    if (status < 0) {
        c->net->stats.dial_failures++;
        /* The first failure after a stable link is news; the retries that follow are not. */
        net_log(c->net,
                c->net->slots[c->peer].attempts == 0 ? GOV_PEER_LOG_WARN : GOV_PEER_LOG_DEBUG,
                "validator %u (%s): connect failed: %s", c->peer, c->remote, uv_strerror(status));
        conn_close(c);
        return;
    }
    conn_start(c);
}

static void dial_connect(slot *s, const struct sockaddr *address)
{
    gov_peer_net *net = s->net;
    conn *c = conn_new(net, true, s->index);
    if (c == NULL) {
        schedule_reconnect(s);
        return;
    }
    s->attempt = c;
    snprintf(c->remote, sizeof(c->remote), "%s:%s", s->host, s->port);
    int rc = uv_tcp_connect(&c->connect_req, &c->tcp, address, connect_cb);
    if (rc < 0) {
        net->stats.dial_failures++;
        net_log(net, GOV_PEER_LOG_WARN, "validator %u (%s): connect failed: %s", s->index,
                c->remote, uv_strerror(rc));
        conn_close(c);
    }
}

static void resolve_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *result)
{
    slot *s = req->data;
    gov_peer_net *net = s->net;
    s->resolving = false;
    net->requests_open--;
    if (net->stopping) {
        uv_freeaddrinfo(result);
        net_finish_if_done(net);
        return;
    }
    if (status < 0 || result == NULL) {
        net->stats.dial_failures++;
        net_log(net, GOV_PEER_LOG_WARN, "validator %u: cannot resolve %s: %s", s->index, s->host,
                uv_strerror(status));
        uv_freeaddrinfo(result);
        schedule_reconnect(s);
        return;
    }
    dial_connect(s, result->ai_addr);
    uv_freeaddrinfo(result);
}

static void dial(slot *s)
{
    gov_peer_net *net = s->net;
    if (!s->dial || net->stopping || s->link != NULL || s->attempt != NULL || s->resolving) {
        return;
    }
    struct sockaddr_storage address;
    int port = atoi(s->port);
    if (uv_ip4_addr(s->host, port, (struct sockaddr_in *)&address) == 0 ||
        uv_ip6_addr(s->host, port, (struct sockaddr_in6 *)&address) == 0) {
        dial_connect(s, (const struct sockaddr *)&address);
        return;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    s->resolve.data = s;
    int rc = uv_getaddrinfo(net->loop, &s->resolve, resolve_cb, s->host, s->port, &hints);
    if (rc < 0) {
        net->stats.dial_failures++;
        net_log(net, GOV_PEER_LOG_WARN, "validator %u: cannot resolve %s: %s", s->index, s->host,
                uv_strerror(rc));
        schedule_reconnect(s);
        return;
    }
    s->resolving = true;
    net->requests_open++;
}

/* How many inbound connections still in their handshake come from c's address. */
static uint32_t pending_from(const gov_peer_net *net, const conn *c)
{
    const char *colon = strrchr(c->remote, ':');
    size_t host_len = colon != NULL ? (size_t)(colon - c->remote) : strlen(c->remote);
    uint32_t count = 0;
    for (const conn *other = net->conns; other != NULL; other = other->next) {
        const char *other_colon = strrchr(other->remote, ':');
        size_t other_len =
            other_colon != NULL ? (size_t)(other_colon - other->remote) : strlen(other->remote);
        count += other != c && other->counted_pending && other_len == host_len &&
                 memcmp(other->remote, c->remote, host_len) == 0;
    }
    return count;
}

/* Refuses an inbound connection before its handshake; logs it at most every
 * REFUSED_LOG_MS, with the count since, so a flood of connections is not a flood of log. */
static void refuse(gov_peer_net *net, conn *c, const char *reason)
{
    net->stats.connections_refused++;
    net->refused_unlogged++;
    uint64_t now = uv_now(net->loop);
    if (net->refused_logged_ms == 0 || now - net->refused_logged_ms >= REFUSED_LOG_MS) {
        net_log(net, GOV_PEER_LOG_WARN, "%s: refused: %s (%llu refused since the last such line)",
                c->remote, reason, (unsigned long long)net->refused_unlogged);
        net->refused_logged_ms = now;
        net->refused_unlogged = 0;
    }
    conn_close(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    gov_peer_net *net = server->data;
    if (status < 0) {
        net_log(net, GOV_PEER_LOG_WARN, "accept failed: %s", uv_strerror(status));
        return;
    }
    conn *c = conn_new(net, false, 0);
    if (c == NULL) {
        return;
    }
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    remote_name(c);
    uint32_t per_address = net->validators_count > PENDING_PER_ADDRESS_MAX
                               ? net->validators_count
                               : PENDING_PER_ADDRESS_MAX;
    if (net->pending_inbound >= PENDING_INBOUND_MAX) {
        refuse(net, c, "too many connections in their handshake");
        return;
    }
    if (pending_from(net, c) >= per_address) {
        refuse(net, c, "too many connections in their handshake from this address");
        return;
    }
    net->pending_inbound++;
    c->counted_pending = true;
    conn_start(c);
}

/* Configuration and start ------------------------------------------------------------------ */

/* Splits "host:port" or "[v6]:port". */
static int address_split(const char *text, char host[HOST_LEN_MAX + 1], char port[8], char *why,
                         size_t why_len)
{
    const char *colon = text != NULL ? strrchr(text, ':') : NULL;
    if (colon == NULL) {
        return gov_fail(why, why_len, GOV_EINVAL, "address \"%s\" is not host:port",
                        text != NULL ? text : "");
    }
    const char *start = text;
    size_t host_len = (size_t)(colon - text);
    if (host_len >= 2 && text[0] == '[' && colon[-1] == ']') {
        start++;
        host_len -= 2;
    }
    char *end = NULL;
    long number = strtol(colon + 1, &end, 10);
    if (host_len == 0 || host_len > HOST_LEN_MAX || colon[1] == '\0' || *end != '\0' ||
        number < 0 || number > 65535) {
        return gov_fail(why, why_len, GOV_EINVAL, "address \"%s\" is not host:port", text);
    }
    memcpy(host, start, host_len);
    host[host_len] = '\0';
    snprintf(port, 8, "%ld", number);
    return 0;
}

static int net_configure(gov_peer_net *net, const gov_peer_config *config, char *why,
                         size_t why_len)
{
    net->own_index = config->own_index;
    net->validators_count = config->validators_count;
#define DEFAULT(field, value) ((field) != 0 ? (field) : (value))
    net->queue_frames_max =
        DEFAULT(config->send_queue_frames_max, GOV_PEER_SEND_QUEUE_FRAMES_DEFAULT);
    net->queue_bytes_max = DEFAULT(config->send_queue_bytes_max, GOV_PEER_SEND_QUEUE_BYTES_DEFAULT);
    net->frame_bytes_max = DEFAULT(config->frame_bytes_max, (uint32_t)GOV_MESSAGE_BYTES_MAX);
    net->reconnect_min_ms = DEFAULT(config->reconnect_min_ms, GOV_PEER_RECONNECT_MIN_MS_DEFAULT);
    net->reconnect_max_ms = DEFAULT(config->reconnect_max_ms, GOV_PEER_RECONNECT_MAX_MS_DEFAULT);
    net->handshake_timeout_ms =
        DEFAULT(config->handshake_timeout_ms, GOV_PEER_HANDSHAKE_TIMEOUT_MS_DEFAULT);
#undef DEFAULT
    if (net->frame_bytes_max > GOV_MESSAGE_BYTES_MAX) {
        return gov_fail(why, why_len, GOV_EINVAL, "frame_bytes_max %u exceeds %d",
                        net->frame_bytes_max, GOV_MESSAGE_BYTES_MAX);
    }
    if (net->reconnect_min_ms > net->reconnect_max_ms) {
        return gov_fail(why, why_len, GOV_EINVAL, "reconnect_min_ms exceeds reconnect_max_ms");
    }
    net->random_state = config->random_seed;
    while (net->random_state == 0) {
        if (RAND_bytes((unsigned char *)&net->random_state, sizeof(net->random_state)) != 1) {
            return gov_fail(why, why_len, GOV_ECRYPTO, "no random numbers for jitter");
        }
    }
    for (uint32_t i = 0; i < config->validators_count; i++) {
        slot *s = &net->slots[i];
        s->net = net;
        s->index = i;
        const char *address =
            config->validator_addresses != NULL ? config->validator_addresses[i] : NULL;
        if (i == config->own_index || address == NULL) {
            continue;
        }
        int rc = address_split(address, s->host, s->port, why, why_len);
        if (rc != 0) {
            return rc;
        }
        s->dial = i > config->own_index;
    }
    return 0;
}

static int listen_on(gov_peer_net *net, const char *listen_address, char *why, size_t why_len)
{
    char host[HOST_LEN_MAX + 1];
    char port[8];
    int rc = address_split(listen_address, host, port, why, why_len);
    if (rc != 0) {
        return rc;
    }
    struct sockaddr_storage address;
    if (uv_ip4_addr(host, atoi(port), (struct sockaddr_in *)&address) != 0 &&
        uv_ip6_addr(host, atoi(port), (struct sockaddr_in6 *)&address) != 0) {
        return gov_fail(why, why_len, GOV_EINVAL, "listen address \"%s\" is not an IP address",
                        listen_address);
    }
    int len = sizeof(address);
    if ((rc = uv_tcp_bind(&net->listener, (struct sockaddr *)&address, 0)) != 0 ||
        (rc = uv_listen((uv_stream_t *)&net->listener, LISTEN_BACKLOG, on_connection)) != 0 ||
        (rc = uv_tcp_getsockname(&net->listener, (struct sockaddr *)&address, &len)) != 0) {
        return gov_fail(why, why_len, GOV_EIO, "cannot listen on %s: %s", listen_address,
                        uv_strerror(rc));
    }
    net->port = ntohs(address.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&address)->sin6_port
                                                    : ((struct sockaddr_in *)&address)->sin_port);
    return 0;
}

int gov_peer_net_start(uv_loop_t *loop, const gov_peer_config *config,
                       const gov_peer_callbacks *callbacks, gov_peer_net **out, char *why,
                       size_t why_len)
{
    gov_peer_net *net = calloc(1, sizeof(*net));
    if (net == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
    }
    net->loop = loop;
    net->callbacks = *callbacks;
    gov_tls_config tls_config = {
        .suite = config->suite,
        .chain_id = config->chain_id,
        .validators_count = config->validators_count,
        .validator_keys = config->validator_keys,
        .own_index = config->own_index,
        .own_key = config->own_key,
    };
    int rc = gov_tls_new(&tls_config, &net->tls, why, why_len);
    if (rc == 0) {
        rc = net_configure(net, config, why, why_len);
    }
    if (rc != 0) {
        gov_tls_free(net->tls);
        free(net);
        return rc;
    }
    /* From here on handles exist, and a failure closes them through stop: the loop must
     * run for the memory to be released. */
    uv_tcp_init(loop, &net->listener);
    net->listener.data = net;
    net->handles_open++;
    for (uint32_t i = 0; i < net->validators_count; i++) {
        if (i != net->own_index) {
            uv_timer_init(loop, &net->slots[i].reconnect_timer);
            net->slots[i].reconnect_timer.data = &net->slots[i];
            net->handles_open++;
        }
    }
    rc = listen_on(net, config->listen_address, why, why_len);
    if (rc != 0) {
        gov_peer_net_stop(net, NULL, NULL);
        return rc;
    }
    for (uint32_t i = 0; i < net->validators_count; i++) {
        dial(&net->slots[i]);
    }
    *out = net;
    return 0;
}

uint16_t gov_peer_net_port(const gov_peer_net *net)
{
    return net->port;
}

void gov_peer_drop(gov_peer_net *net, uint32_t validator, const char *reason)
{
    if (validator < net->validators_count && net->slots[validator].link != NULL) {
        link_violation(net->slots[validator].link, reason);
    }
}

bool gov_peer_connected(const gov_peer_net *net, uint32_t validator)
{
    return validator < net->validators_count && net->slots[validator].link != NULL;
}

void gov_peer_stats_get(const gov_peer_net *net, gov_peer_stats *out)
{
    *out = net->stats;
}

int gov_peer_link_stats_get(const gov_peer_net *net, uint32_t validator, gov_peer_link_stats *out)
{
    if (validator >= net->validators_count || validator == net->own_index) {
        return GOV_EINVAL;
    }
    const slot *s = &net->slots[validator];
    *out = (gov_peer_link_stats){
        .connected = s->link != NULL,
        .queued_frames = s->queued_frames,
        .queued_bytes = s->queued_bytes,
        .unsent_bytes = s->link != NULL ? s->link->unsent_bytes : 0,
        .frames_dropped = s->frames_dropped,
        .reconnect_attempts = s->attempts,
    };
    return 0;
}
