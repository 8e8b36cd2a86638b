/*
 * govchain peer links: authenticated, framed byte pipes between validators over TCP and
 * mutual TLS 1.3 (node/tls.h), on one libuv loop (docs/peers.md).
 *
 * Every validator listens; the lower index of each pair dials the higher one, so a pair
 * has at most one link and nothing needs resolving. A dialer that loses its link (or
 * never got one) dials again after an exponential backoff with jitter; an acceptor
 * replaces an old link when the same validator connects again (it only dials when its
 * side of the old link is dead).
 *
 * A frame is a 4-byte big-endian length and that many bytes of one message, opaque
 * here. A length of zero or above frame_bytes_max drops the link before anything is
 * allocated. Each peer has a bounded send queue: gov_peer_send never blocks and never
 * grows memory past the caps; a frame that does not fit is dropped and counted.
 *
 * Callbacks run on the loop. on_frame is called only for a link whose handshake has
 * verified the peer, with bytes borrowed for the call. A callback may call any
 * function here, gov_peer_net_stop included. After gov_peer_net_stop no callback but
 * done_cb runs. Arguments are borrowed unless said otherwise; functions return 0 or a
 * negative GOV_E* code with detail in why[].
 */
#ifndef GOVCHAIN_NODE_PEER_H
#define GOVCHAIN_NODE_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "govchain/crypto.h"
#include "govchain/limits.h"

typedef enum {
    GOV_PEER_LOG_DEBUG = 0,
    GOV_PEER_LOG_INFO = 1,
    GOV_PEER_LOG_WARN = 2,
    GOV_PEER_LOG_ERROR = 3,
} gov_peer_log_level;

typedef struct {
    void (*on_frame_cb)(void *arg, uint32_t validator, const uint8_t *bytes, size_t len);
    void (*on_peer_state_cb)(void *arg, uint32_t validator, bool connected);
    void (*on_log_cb)(void *arg, gov_peer_log_level level, const char *text);
    void *arg;
} gov_peer_callbacks;

/* Defaults used for a zero field of gov_peer_config. */
#define GOV_PEER_SEND_QUEUE_FRAMES_DEFAULT    4096
#define GOV_PEER_SEND_QUEUE_BYTES_DEFAULT     (64u * 1024 * 1024)
#define GOV_PEER_RECONNECT_MIN_MS_DEFAULT     100
#define GOV_PEER_RECONNECT_MAX_MS_DEFAULT     10000
#define GOV_PEER_HANDSHAKE_TIMEOUT_MS_DEFAULT 5000

typedef struct {
    gov_suite suite;
    gov_hash chain_id; /* the genesis hash */
    uint32_t validators_count;
    const uint8_t (*validator_keys)[GOV_PUBLIC_KEY_LEN]; /* genesis order */
    uint32_t own_index;
    const gov_private_key *own_key; /* used only during gov_peer_net_start */
    /* "ip:port" ("[ipv6]:port"); port 0 picks a free one (gov_peer_net_port). */
    const char *listen_address;
    /* validators_count entries, "host:port"; only those of higher indexes are dialed.
     * NULL (the array or an entry) means "never dial". */
    const char *const *validator_addresses;
    uint32_t send_queue_frames_max; /* per peer */
    size_t send_queue_bytes_max;    /* per peer, payload bytes */
    uint32_t frame_bytes_max;       /* <= GOV_MESSAGE_BYTES_MAX (the default) */
    uint64_t reconnect_min_ms;
    uint64_t reconnect_max_ms;
    uint64_t handshake_timeout_ms; /* TCP connect + TLS + link hello */
    uint64_t random_seed;          /* backoff jitter; 0: from OpenSSL's generator */
} gov_peer_config;

typedef struct {
    uint32_t peers_connected;
    uint64_t frames_in, bytes_in;           /* delivered to on_frame */
    uint64_t frames_out, bytes_out;         /* handed to TLS for sending */
    uint64_t frames_dropped, bytes_dropped; /* refused by a full send queue */
    uint64_t handshake_failures;            /* either side refused, garbage, timeouts */
    uint64_t dial_failures;                 /* TCP connect or name resolution failed */
    uint64_t links_dropped;       /* authenticated links dropped for a protocol violation */
    uint64_t connections_refused; /* inbound connections over the pending cap */
} gov_peer_stats;

typedef struct {
    bool connected;
    uint32_t queued_frames;
    size_t queued_bytes;
    size_t unsent_bytes; /* encrypted, handed to the socket but not yet written */
    uint64_t frames_dropped;
    uint32_t reconnect_attempts; /* failed dials since the last stable link */
} gov_peer_link_stats;

typedef struct gov_peer_net gov_peer_net;

/* Binds the listener and starts dialing. The net belongs to the loop's thread. */
int gov_peer_net_start(uv_loop_t *loop, const gov_peer_config *config,
                       const gov_peer_callbacks *callbacks, gov_peer_net **out, char *why,
                       size_t why_len);

/* Closes every handle; done_cb (may be NULL) runs once all are closed and the net is
 * freed. The net must not be used after this call. */
void gov_peer_net_stop(gov_peer_net *net, void (*done_cb)(void *arg), void *arg);

/* The port the listener is bound to. */
uint16_t gov_peer_net_port(const gov_peer_net *net);

/* Queues a copy of one frame for validator `to`. GOV_EINVAL for our own or an unknown
 * index; GOV_ELIMIT (and counted) for an empty or oversized frame or a full queue. */
int gov_peer_send(gov_peer_net *net, uint32_t to, const uint8_t *bytes, size_t len);
/* gov_peer_send to every other validator; GOV_ELIMIT when any queue refused it. */
int gov_peer_broadcast(gov_peer_net *net, const uint8_t *bytes, size_t len);

/* Drops the link to a validator (e.g. it sent a message that does not decode), logging
 * the reason; a dialer reconnects after its backoff. No effect without a link. */
void gov_peer_drop(gov_peer_net *net, uint32_t validator, const char *reason);

bool gov_peer_connected(const gov_peer_net *net, uint32_t validator);
void gov_peer_stats_get(const gov_peer_net *net, gov_peer_stats *out);
int gov_peer_link_stats_get(const gov_peer_net *net, uint32_t validator, gov_peer_link_stats *out);

#endif
