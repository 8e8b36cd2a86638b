/*
 * A node's configuration: DIR/config.ini (INI, read with inih), each value overridable by
 * an environment variable GOVCHAIN_<SECTION>_<KEY> (upper case, '.' in a key as '_';
 * e.g. GOVCHAIN_API_LISTEN, GOVCHAIN_NETWORK_PEER_2). docs/node.md lists every key.
 *
 * Strict on purpose: an unknown section or key, a value that does not parse, a line
 * longer than GOV_CONFIG_LINE_MAX (Debian's inih splits longer lines silently, so a long
 * value would be cut without a word), or a duplicate key is an error naming the line.
 * Relative paths are relative to the node's home directory.
 */
#ifndef GOVCHAIN_NODE_CONFIG_H
#define GOVCHAIN_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "govchain/limits.h"

enum {
    GOV_CONFIG_LINE_MAX = 198, /* characters, without the newline: inih's buffer is 200 */
    GOV_CONFIG_BYTES_MAX = 64 * 1024,
    GOV_CONFIG_PATH_MAX = 1024,
    GOV_CONFIG_HOST_MAX = 64,
    GOV_CONFIG_URL_MAX = 128,
    GOV_OBSERVER_SOURCES_MAX = 16,
};

typedef enum { GOV_ROLE_VALIDATOR, GOV_ROLE_OBSERVER } gov_node_role;

typedef enum { GOV_LOG_AUTO, GOV_LOG_PLAIN, GOV_LOG_JSON } gov_log_format;

typedef struct {
    char host[GOV_CONFIG_HOST_MAX]; /* an IPv4 or IPv6 literal, or "localhost" */
    uint16_t port;
} gov_address;

typedef struct {
    char home[GOV_CONFIG_PATH_MAX];

    /* [node] */
    gov_node_role role;
    uint32_t validator; /* the genesis validator index (role = validator) */
    char genesis_path[GOV_CONFIG_PATH_MAX];
    char key_path[GOV_CONFIG_PATH_MAX]; /* the validator's private key (role = validator) */
    char data_dir[GOV_CONFIG_PATH_MAX];

    /* [network] */
    gov_address p2p_listen;
    bool has_peer[GOV_VALIDATORS_MAX];
    gov_address peers[GOV_VALIDATORS_MAX]; /* peer.N: validator N's address */

    /* [api] */
    gov_address api_listen;
    uint32_t api_connections_max;
    uint32_t api_body_bytes_max;
    uint32_t api_header_bytes_max;
    uint32_t api_request_timeout_ms;

    /* [mempool] */
    uint32_t mempool_txs_max;
    uint64_t mempool_bytes_max;

    /* [log] */
    gov_log_format log_format;

    /* [observer]: source.N, the validators' APIs an observer reads blocks from */
    uint32_t observer_sources_count;
    char observer_sources[GOV_OBSERVER_SOURCES_MAX][GOV_CONFIG_URL_MAX];
} gov_node_config;

/* Loads home/config.ini with environment overrides into *out. 0, or GOV_ENOENT (no
 * config.ini), GOV_EINVAL (a bad value, key or line) / GOV_EIO with the reason in
 * why[] ("config.ini line 7: ..." or "GOVCHAIN_API_LISTEN: ..."). */
int gov_node_config_load(const char *home, gov_node_config *out, char *why, size_t why_len);

/* The same from text, for tests and for `govchain localnet`, which writes configs. */
int gov_node_config_parse(const char *home, const char *text, gov_node_config *out, char *why,
                          size_t why_len);

/* Parses "host:port" or "[v6]:port". */
int gov_address_parse(const char *text, gov_address *out, char *why, size_t why_len);

#endif
