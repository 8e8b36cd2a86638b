/*
 * What the command line needs to talk to a node: the chain's identity as the node
 * reports it, a file's document hash, and submitting a signed transaction
 * (`govchain submit`, `govchain status`, `govchain localnet`).
 */
#ifndef GOVCHAIN_NODE_CLIENT_H
#define GOVCHAIN_NODE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "govchain/block.h"
#include "node/http_client.h"

enum { GOV_CLIENT_TIMEOUT_MS = 60000 };

/* GET node/v1/departments: chain id, suite and the whole answer (*departments, the
 * caller's reference; may be NULL). */
int gov_client_chain(const char *node_url, gov_hash *chain_id, gov_suite *suite,
                     json_t **departments, char *why, size_t why_len);

/* The same from a genesis file: chain id, suite, and *departments in the shape of the
 * node's /v1/departments answer (doc_types with their classes). */
int gov_client_chain_from_genesis(const char *genesis_path, gov_hash *chain_id, gov_suite *suite,
                                  json_t **departments, char *why, size_t why_len);

/* {"tx":"<hex>"}, the body POST /v1/txs takes; NULL when out of memory. Free with free. */
char *gov_client_tx_body(const gov_tx *tx);

/* The document hash of a file: the suite's hash of its bytes, read in pieces. */
int gov_client_file_hash(gov_suite suite, const char *path, gov_hash *out, char *why,
                         size_t why_len);

/* POST node/v1/txs {"tx": hex}, with ?wait=commit when wait. The response (any status)
 * is in *out; 0 unless the node could not be reached. */
int gov_client_submit(const char *node_url, const gov_tx *tx, bool wait, gov_http_response *out,
                      char *why, size_t why_len);

/* "http://host:port" without a trailing slash, checked for the scheme. */
int gov_client_url(const char *text, char *out, size_t out_len, char *why, size_t why_len);

#endif
