/*
 * The node's config.ini (node/config.h). inih does the INI syntax; this file knows the
 * keys. Every key is one row of the table below, so the file, the environment and the
 * documentation name the same things.
 */
#include "node/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "govchain/error.h"
#include "node/file.h"

typedef enum { KIND_ROLE, KIND_INDEX, KIND_PATH, KIND_ADDRESS, KIND_U32, KIND_U64, KIND_LOG } kind;

typedef struct {
    const char *section;
    const char *name;
    kind type;
    size_t offset; /* into gov_node_config */
    uint64_t min, max;
} key_spec;

#define FIELD(name) offsetof(gov_node_config, name)

static const key_spec KEYS[] = {
    {"node", "role", KIND_ROLE, FIELD(role), 0, 0},
    {"node", "validator", KIND_INDEX, FIELD(validator), 0, GOV_VALIDATORS_MAX - 1},
    {"node", "genesis", KIND_PATH, FIELD(genesis_path), 0, 0},
    {"node", "key_file", KIND_PATH, FIELD(key_path), 0, 0},
    {"node", "data_dir", KIND_PATH, FIELD(data_dir), 0, 0},
    {"network", "listen", KIND_ADDRESS, FIELD(p2p_listen), 0, 0},
    {"api", "listen", KIND_ADDRESS, FIELD(api_listen), 0, 0},
    {"api", "max_connections", KIND_U32, FIELD(api_connections_max), 1, 65536},
    {"api", "max_body_bytes", KIND_U32, FIELD(api_body_bytes_max), 1024, GOV_BLOCK_BYTES_MAX},
    {"api", "max_header_bytes", KIND_U32, FIELD(api_header_bytes_max), 1024, 1024 * 1024},
    {"api", "request_timeout_ms", KIND_U32, FIELD(api_request_timeout_ms), 100, 3600000},
    {"mempool", "max_txs", KIND_U32, FIELD(mempool_txs_max), 1, 10000000},
    {"mempool", "max_bytes", KIND_U64, FIELD(mempool_bytes_max), 64 * 1024, 1ull << 36},
    {"log", "format", KIND_LOG, FIELD(log_format), 0, 0},
};
enum { KEYS_COUNT = sizeof(KEYS) / sizeof(KEYS[0]) };

typedef struct {
    gov_node_config *config;
    bool seen[KEYS_COUNT];
    bool peer_seen[GOV_VALIDATORS_MAX];
    char error[200];
    bool failed;
} parse_state;

int gov_address_parse(const char *text, gov_address *out, char *why, size_t why_len)
{
    memset(out, 0, sizeof(*out));
    const char *colon = strrchr(text, ':');
    if (colon == NULL || colon == text || colon[1] == '\0') {
        return gov_fail(why, why_len, GOV_EINVAL, "'%s' is not host:port", text);
    }
    const char *host = text;
    size_t host_len = (size_t)(colon - text);
    if (host[0] == '[') { /* [v6]:port */
        if (host_len < 3 || host[host_len - 1] != ']') {
            return gov_fail(why, why_len, GOV_EINVAL, "'%s' is not [address]:port", text);
        }
        host++;
        host_len -= 2;
    }
    if (host_len >= sizeof(out->host)) {
        return gov_fail(why, why_len, GOV_EINVAL, "host in '%s' is too long", text);
    }
    for (size_t i = 0; i < host_len; i++) {
        if (!isalnum((unsigned char)host[i]) && strchr(".-:", host[i]) == NULL) {
            return gov_fail(why, why_len, GOV_EINVAL, "host in '%s' is not an address", text);
        }
    }
    char *end = NULL;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (!isdigit((unsigned char)colon[1]) || *end != '\0' || errno != 0 || port > 65535) {
        return gov_fail(why, why_len, GOV_EINVAL, "port in '%s' is not 0..65535", text);
    }
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    out->port = (uint16_t)port;
    return 0;
}

static bool parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!isdigit((unsigned char)text[0])) {
        return false;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (*end != '\0' || errno != 0 || value < min || value > max) {
        return false;
    }
    *out = value;
    return true;
}

/* Sets one key's value; false with a message in error[]. */
static bool set_value(gov_node_config *config, const key_spec *key, const char *value, char *error,
                      size_t error_len)
{
    void *field = (char *)config + key->offset;
    uint64_t number = 0;
    switch (key->type) {
    case KIND_ROLE:
        if (strcmp(value, "validator") == 0) {
            config->role = GOV_ROLE_VALIDATOR;
        } else if (strcmp(value, "observer") == 0) {
            config->role = GOV_ROLE_OBSERVER;
        } else {
            snprintf(error, error_len, "%s.%s must be validator or observer, not '%s'",
                     key->section, key->name, value);
            return false;
        }
        return true;
    case KIND_LOG:
        if (strcmp(value, "auto") == 0) {
            config->log_format = GOV_LOG_AUTO;
        } else if (strcmp(value, "plain") == 0) {
            config->log_format = GOV_LOG_PLAIN;
        } else if (strcmp(value, "json") == 0) {
            config->log_format = GOV_LOG_JSON;
        } else {
            snprintf(error, error_len, "log.format must be auto, plain or json, not '%s'", value);
            return false;
        }
        return true;
    case KIND_PATH: {
        char path[GOV_CONFIG_PATH_MAX];
        int written = value[0] == '/' ? snprintf(path, sizeof(path), "%s", value)
                                      : snprintf(path, sizeof(path), "%s/%s", config->home, value);
        if (value[0] == '\0' || written < 0 || written >= GOV_CONFIG_PATH_MAX) {
            snprintf(error, error_len, "%s.%s: the path is empty or too long", key->section,
                     key->name);
            return false;
        }
        memcpy(field, path, (size_t)written + 1);
        return true;
    }
    case KIND_ADDRESS: {
        char why[120];
        if (gov_address_parse(value, field, why, sizeof(why)) != 0) {
            snprintf(error, error_len, "%s.%s: %s", key->section, key->name, why);
            return false;
        }
        return true;
    }
    case KIND_INDEX:
    case KIND_U32:
    case KIND_U64:
        if (!parse_u64(value, key->min, key->max, &number)) {
            snprintf(error, error_len, "%s.%s must be a whole number from %llu to %llu, not '%s'",
                     key->section, key->name, (unsigned long long)key->min,
                     (unsigned long long)key->max, value);
            return false;
        }
        if (key->type == KIND_U64) {
            *(uint64_t *)field = number;
        } else {
            *(uint32_t *)field = (uint32_t)number;
        }
        return true;
    }
    return false;
}

/* "peer.N" -> N, or -1. */
static int peer_index(const char *name)
{
    if (strncmp(name, "peer.", 5) != 0) {
        return -1;
    }
    uint64_t index = 0;
    return parse_u64(name + 5, 0, GOV_VALIDATORS_MAX - 1, &index) ? (int)index : -1;
}

static bool set_peer(gov_node_config *config, int index, const char *value, char *error,
                     size_t error_len)
{
    char why[120];
    if (gov_address_parse(value, &config->peers[index], why, sizeof(why)) != 0) {
        snprintf(error, error_len, "network.peer.%d: %s", index, why);
        return false;
    }
    config->has_peer[index] = true;
    return true;
}

/* observer.source.N = http://host:port; the sources are kept in N order. */
static bool set_source(gov_node_config *config, const char *name, const char *value, char *error,
                       size_t error_len)
{
    uint64_t index = 0;
    if (strncmp(name, "source.", 7) != 0 ||
        !parse_u64(name + 7, 0, GOV_OBSERVER_SOURCES_MAX - 1, &index)) {
        snprintf(error, error_len, "unknown key '%s' in section [observer]", name);
        return false;
    }
    size_t len = strlen(value);
    if (strncmp(value, "http://", 7) != 0 || len <= 7 || len >= GOV_CONFIG_URL_MAX) {
        snprintf(error, error_len, "observer.%s must be a validator's API URL, http://host:port",
                 name);
        return false;
    }
    if (config->observer_sources[index][0] != '\0') {
        snprintf(error, error_len, "observer.%s is set twice", name);
        return false;
    }
    memcpy(config->observer_sources[index], value, len + 1);
    if (index + 1 > config->observer_sources_count) {
        config->observer_sources_count = (uint32_t)index + 1;
    }
    return true;
}

static int on_entry(void *user, const char *section, const char *name, const char *value)
{
    parse_state *state = user;
    if (state->failed) {
        return 0;
    }
    if (strcmp(section, "observer") == 0) {
        if (set_source(state->config, name, value, state->error, sizeof(state->error))) {
            return 1;
        }
        state->failed = true;
        return 0;
    }
    int peer = strcmp(section, "network") == 0 ? peer_index(name) : -1;
    if (peer >= 0) {
        if (state->peer_seen[peer]) {
            snprintf(state->error, sizeof(state->error), "network.peer.%d is set twice", peer);
        } else if (set_peer(state->config, peer, value, state->error, sizeof(state->error))) {
            state->peer_seen[peer] = true;
            return 1;
        }
        state->failed = true;
        return 0;
    }
    for (int i = 0; i < KEYS_COUNT; i++) {
        if (strcmp(KEYS[i].section, section) == 0 && strcmp(KEYS[i].name, name) == 0) {
            if (state->seen[i]) {
                snprintf(state->error, sizeof(state->error), "%s.%s is set twice", section, name);
            } else if (set_value(state->config, &KEYS[i], value, state->error,
                                 sizeof(state->error))) {
                state->seen[i] = true;
                return 1;
            }
            state->failed = true;
            return 0;
        }
    }
    snprintf(state->error, sizeof(state->error), "unknown key '%s' in section [%s]", name, section);
    state->failed = true;
    return 0;
}

/* GOVCHAIN_<SECTION>_<KEY>, upper case, '.' as '_'. */
static void env_name(const char *section, const char *name, char *out, size_t out_len)
{
    snprintf(out, out_len, "GOVCHAIN_%s_%s", section, name);
    for (char *c = out; *c != '\0'; c++) {
        *c = *c == '.' ? '_' : (char)toupper((unsigned char)*c);
    }
}

static int apply_environment(parse_state *state, char *why, size_t why_len)
{
    char variable[96];
    for (int i = 0; i < KEYS_COUNT; i++) {
        env_name(KEYS[i].section, KEYS[i].name, variable, sizeof(variable));
        const char *value = getenv(variable);
        if (value != NULL &&
            !set_value(state->config, &KEYS[i], value, state->error, sizeof(state->error))) {
            return gov_fail(why, why_len, GOV_EINVAL, "%s: %s", variable, state->error);
        }
        state->seen[i] |= value != NULL;
    }
    for (int peer = 0; peer < GOV_VALIDATORS_MAX; peer++) {
        char name[16];
        snprintf(name, sizeof(name), "peer.%d", peer);
        env_name("network", name, variable, sizeof(variable));
        const char *value = getenv(variable);
        if (value != NULL &&
            !set_peer(state->config, peer, value, state->error, sizeof(state->error))) {
            return gov_fail(why, why_len, GOV_EINVAL, "%s: %s", variable, state->error);
        }
    }
    return 0;
}

static void set_defaults(gov_node_config *config, const char *home)
{
    memset(config, 0, sizeof(*config));
    snprintf(config->home, sizeof(config->home), "%s", home);
    config->role = GOV_ROLE_VALIDATOR;
    snprintf(config->genesis_path, sizeof(config->genesis_path), "%s/genesis.json", home);
    snprintf(config->key_path, sizeof(config->key_path), "%s/node.pem", home);
    snprintf(config->data_dir, sizeof(config->data_dir), "%s/data", home);
    config->api_connections_max = 256;
    config->api_body_bytes_max = 4 * 1024 * 1024;
    config->api_header_bytes_max = 16 * 1024;
    config->api_request_timeout_ms = 10000;
    config->mempool_txs_max = 20000;
    config->mempool_bytes_max = 64ull * 1024 * 1024;
    config->log_format = GOV_LOG_AUTO;
}

/* Index of a key in KEYS, for the required-key checks. */
static int key_index(const char *section, const char *name)
{
    for (int i = 0; i < KEYS_COUNT; i++) {
        if (strcmp(KEYS[i].section, section) == 0 && strcmp(KEYS[i].name, name) == 0) {
            return i;
        }
    }
    return -1;
}

int gov_node_config_parse(const char *home, const char *text, gov_node_config *out, char *why,
                          size_t why_len)
{
    if (strlen(home) + 32 >= GOV_CONFIG_PATH_MAX) {
        return gov_fail(why, why_len, GOV_EINVAL, "home directory path is too long");
    }
    set_defaults(out, home);
    /* Refuse what inih would silently mangle: long lines and NUL bytes. */
    size_t line = 1, column = 0;
    for (const char *c = text; *c != '\0'; c++) {
        if (*c == '\n') {
            line++;
            column = 0;
        } else if (++column > GOV_CONFIG_LINE_MAX) {
            return gov_fail(why, why_len, GOV_EINVAL,
                            "config.ini line %zu is longer than %d characters", line,
                            GOV_CONFIG_LINE_MAX);
        }
    }
    parse_state state;
    memset(&state, 0, sizeof(state));
    state.config = out;
    int rc = ini_parse_string(text, on_entry, &state);
    if (rc != 0) {
        return gov_fail(why, why_len, GOV_EINVAL, "config.ini line %d: %s", rc,
                        state.failed ? state.error : "not a section header or key = value");
    }
    rc = apply_environment(&state, why, why_len);
    if (rc != 0) {
        return rc;
    }
    if (!state.seen[key_index("api", "listen")]) {
        return gov_fail(why, why_len, GOV_EINVAL, "config.ini: api.listen is required");
    }
    if (out->role == GOV_ROLE_OBSERVER) {
        if (out->observer_sources_count == 0) {
            return gov_fail(why, why_len, GOV_EINVAL,
                            "config.ini: an observer needs observer.source.0 (a validator's "
                            "API URL)");
        }
        for (uint32_t i = 0; i < out->observer_sources_count; i++) {
            if (out->observer_sources[i][0] == '\0') {
                return gov_fail(why, why_len, GOV_EINVAL,
                                "config.ini: observer.source.%u is missing (sources are "
                                "numbered from 0 without gaps)",
                                i);
            }
        }
    }
    if (out->role == GOV_ROLE_VALIDATOR) {
        if (!state.seen[key_index("node", "validator")]) {
            return gov_fail(why, why_len, GOV_EINVAL,
                            "config.ini: node.validator (this node's index in genesis) is "
                            "required for role = validator");
        }
        if (!state.seen[key_index("network", "listen")]) {
            return gov_fail(why, why_len, GOV_EINVAL,
                            "config.ini: network.listen is required for role = validator");
        }
        if (out->has_peer[out->validator]) {
            return gov_fail(why, why_len, GOV_EINVAL,
                            "config.ini: network.peer.%u is this node itself; leave it out",
                            out->validator);
        }
    }
    return 0;
}

int gov_node_config_load(const char *home, gov_node_config *out, char *why, size_t why_len)
{
    char path[GOV_CONFIG_PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/config.ini", home) >= (int)sizeof(path)) {
        return gov_fail(why, why_len, GOV_EINVAL, "home directory path is too long");
    }
    char *text = NULL;
    size_t len = 0;
    int rc = gov_file_read(path, GOV_CONFIG_BYTES_MAX, &text, &len, why, why_len);
    if (rc != 0) {
        return rc;
    }
    if (strlen(text) != len) {
        free(text);
        return gov_fail(why, why_len, GOV_EINVAL, "%s holds a NUL byte", path);
    }
    rc = gov_node_config_parse(home, text, out, why, why_len);
    free(text);
    return rc;
}
