/*
 * govchain TLS for peer links: mutual TLS 1.3 over memory BIOs, with each side's
 * identity pinned to the validator set instead of a certificate authority
 * (docs/peers.md).
 *
 * A gov_tls holds the node's own certificate (made at start-up from its validator key)
 * and the validator set it checks peers against. A gov_tls_session is one TLS
 * connection driven entirely through memory: the caller feeds it the bytes received
 * from the network (gov_tls_session_receive), advances it (gov_tls_session_handshake,
 * gov_tls_session_read, gov_tls_session_write) and sends what it produced
 * (gov_tls_session_take_output). It performs no I/O of its own, so the socket code in
 * node/peer.c and the unit tests drive it the same way.
 *
 * Pinning. A peer's certificate carries the govchain link extension (GOV_TLS_LINK_OID)
 * naming its validator index and the chain id. The session accepts it only when:
 *   1. the index is in the session's allowed set (the one validator a dialer meant to
 *      reach; for an acceptor, the validators that may dial it), and not our own;
 *   2. the chain id is ours;
 *   3. p256-sha256: the certificate's key is exactly that validator's genesis key;
 *      sm2-sm3: the certificate's key is a P-256 key and the extension holds an SM2
 *      signature, by that validator's genesis key, over the index and the key;
 *   4. the certificate's self-signature verifies.
 * Anything else fails inside the handshake, with the reason kept for the caller's log.
 *
 * Arguments are borrowed. Functions return 0 or a negative GOV_E* code with detail in
 * why[]. A session must be freed before the
 * gov_tls it was made from.
 */
#ifndef GOVCHAIN_NODE_TLS_H
#define GOVCHAIN_NODE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "govchain/crypto.h"
#include "govchain/limits.h"

/* The certificate extension's OID: a UUID-based arc (ITU-T X.667, 2.25.<UUID>, UUID
 * bdf373cc-0419-40ea-b321-a22af3716884), which needs no registration, and .1 under it. */
#define GOV_TLS_LINK_OID "2.25.252488167980891105690252607239822076036.1"
/* The domain of the sm2-sm3 link signature (gov_sign's tag). */
#define GOV_TLS_LINK_TAG "govchain/tls-link/1"

/* Returned by gov_tls_session_handshake while it needs more bytes from the peer. */
#define GOV_TLS_AGAIN 1

typedef struct gov_tls gov_tls;
typedef struct gov_tls_session gov_tls_session;

typedef struct {
    gov_suite suite;
    gov_hash chain_id; /* the genesis hash */
    uint32_t validators_count;
    /* validators_count public keys of the suite, in index order (genesis). */
    const uint8_t (*validator_keys)[GOV_PUBLIC_KEY_LEN];
    uint32_t own_index;
    /* Must be validator_keys[own_index]'s private key. Used only during gov_tls_new. */
    const gov_private_key *own_key;
} gov_tls_config;

/* Makes the node's certificate and TLS context. GOV_EINVAL for a bad configuration
 * (own key not the listed one, index out of range, too many validators), GOV_EBADKEY
 * for a listed key that is not a key of the suite, GOV_ECRYPTO when OpenSSL fails. */
int gov_tls_new(const gov_tls_config *config, gov_tls **out, char *why, size_t why_len);
void gov_tls_free(gov_tls *tls);

/* The DER encoding of the node's own certificate, for logs and tests. */
int gov_tls_certificate_der(const gov_tls *tls, uint8_t **der, size_t *der_len);

/* A new session. client: we connect (TLS client) or accept (TLS server).
 * allowed_peers: bit i set when validator i may be the peer. */
int gov_tls_session_new(gov_tls *tls, bool client, uint64_t allowed_peers, gov_tls_session **out,
                        char *why, size_t why_len);
void gov_tls_session_free(gov_tls_session *session);

/* Bytes received from the network. Never fails but for memory. */
int gov_tls_session_receive(gov_tls_session *session, const void *bytes, size_t len);

/* Advances the handshake: 0 once it is complete, GOV_TLS_AGAIN while it needs input,
 * GOV_ECRYPTO with the reason when it failed (a refused certificate, an alert from the
 * peer, bytes that are not TLS). After a failure the output may hold an alert to send. */
int gov_tls_session_handshake(gov_tls_session *session, char *why, size_t why_len);
bool gov_tls_session_handshake_done(const gov_tls_session *session);
/* Whether the handshake failed because the peer's certificate was refused (as opposed to
 * a transport or protocol failure). */
bool gov_tls_session_refused_peer(const gov_tls_session *session);

/* The authenticated peer's validator index (valid once the handshake is done). */
uint32_t gov_tls_session_peer_index(const gov_tls_session *session);

/* Decrypts up to len bytes into buf and sets *got to their count: 0 when nothing is
 * available yet. GOV_EIO when the peer closed the connection (close_notify), GOV_ECRYPTO
 * with the reason for anything else. Only after the handshake. */
int gov_tls_session_read(gov_tls_session *session, void *buf, size_t len, size_t *got, char *why,
                         size_t why_len);
/* Encrypts len bytes (all of them) into the output. Only after the handshake. */
int gov_tls_session_write(gov_tls_session *session, const void *bytes, size_t len, char *why,
                          size_t why_len);
/* Queues a close_notify alert in the output. */
void gov_tls_session_close(gov_tls_session *session);

/* Bytes waiting to be sent to the peer, and taking up to len of them. */
size_t gov_tls_session_output_pending(const gov_tls_session *session);
size_t gov_tls_session_take_output(gov_tls_session *session, void *buf, size_t len);

#endif
