/* The command line's side of the API (node/client.h). */
#include "node/client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "govchain/error.h"
#include "govchain/genesis.h"
#include "govchain/limits.h"
#include "node/file.h"

int gov_client_url(const char *text, char *out, size_t out_len, char *why, size_t why_len)
{
    size_t len = strlen(text);
    while (len > 0 && text[len - 1] == '/') {
        len--;
    }
    if (strncmp(text, "http://", 7) != 0 || len <= 7 || len >= out_len) {
        return gov_fail(why, why_len, GOV_EINVAL,
                        "--node must be an http:// URL such as http://127.0.0.1:8100");
    }
    memcpy(out, text, len);
    out[len] = '\0';
    return 0;
}

int gov_client_chain(const char *node_url, gov_hash *chain_id, gov_suite *suite,
                     json_t **departments, char *why, size_t why_len)
{
    char url[2100];
    snprintf(url, sizeof(url), "%s/v1/departments", node_url);
    gov_http_response response;
    int rc =
        gov_http_fetch("GET", url, NULL, NULL, 0, GOV_CLIENT_TIMEOUT_MS, &response, why, why_len);
    if (rc != 0) {
        return rc;
    }
    json_error_t error;
    json_t *body = response.status == 200
                       ? json_loadb((const char *)response.body.data, response.body.len, 0, &error)
                       : NULL;
    gov_buf_free(&response.body);
    const char *id = json_string_value(json_object_get(body, "chain_id"));
    const char *suite_name = json_string_value(json_object_get(body, "suite"));
    if (id == NULL || suite_name == NULL || strlen(id) != 2 * GOV_HASH_LEN ||
        gov_hex_decode(id, chain_id->bytes, GOV_HASH_LEN) != 0 ||
        gov_suite_parse(suite_name, suite) != 0) {
        json_decref(body);
        return gov_fail(why, why_len, GOV_EIO, "%s did not answer like a govchain node (%d)", url,
                        response.status);
    }
    if (departments != NULL) {
        *departments = body;
    } else {
        json_decref(body);
    }
    return 0;
}

int gov_client_file_hash(gov_suite suite, const char *path, gov_hash *out, char *why,
                         size_t why_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return gov_fail(why, why_len, errno == ENOENT ? GOV_ENOENT : GOV_EIO, "%s: %s", path,
                        strerror(errno));
    }
    gov_hasher *hasher = gov_hasher_new(suite);
    if (hasher == NULL) {
        close(fd);
        return gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
    }
    uint8_t buffer[65536];
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buffer, sizeof(buffer));
        if (n > 0) {
            gov_hasher_update(hasher, buffer, (size_t)n);
        } else if (n == 0) {
            break;
        } else if (errno != EINTR) {
            rc = gov_fail(why, why_len, GOV_EIO, "%s: %s", path, strerror(errno));
            break;
        }
    }
    close(fd);
    if (rc == 0) {
        gov_hasher_final(hasher, out);
    }
    gov_hasher_free(hasher);
    return rc;
}

int gov_client_chain_from_genesis(const char *genesis_path, gov_hash *chain_id, gov_suite *suite,
                                  json_t **departments, char *why, size_t why_len)
{
    gov_genesis *genesis = NULL;
    int rc = gov_genesis_load(genesis_path, &genesis, why, why_len);
    if (rc != 0) {
        return rc;
    }
    *chain_id = genesis->hash;
    *suite = genesis->suite;
    json_t *types = json_array();
    for (uint32_t i = 0; types != NULL && i < genesis->doc_types_count; i++) {
        json_array_append_new(types,
                              json_pack("{s:s, s:s}", "id", genesis->doc_types[i].id, "class",
                                        gov_doc_class_name(genesis->doc_types[i].doc_class)));
    }
    gov_genesis_free(genesis);
    *departments = json_pack("{s:o}", "doc_types", types);
    return *departments == NULL ? gov_fail(why, why_len, GOV_ENOMEM, "out of memory") : 0;
}

char *gov_client_tx_body(const gov_tx *tx)
{
    gov_buf encoded;
    gov_buf_init(&encoded);
    if (gov_tx_encode(tx, &encoded) != 0) {
        gov_buf_free(&encoded);
        return NULL;
    }
    char *hex = malloc(2 * encoded.len + 1);
    if (hex == NULL) {
        gov_buf_free(&encoded);
        return NULL;
    }
    gov_hex_encode(encoded.data, encoded.len, hex);
    gov_buf_free(&encoded);
    json_t *body = json_pack("{s:s}", "tx", hex);
    free(hex);
    char *text = body == NULL ? NULL : json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return text;
}

int gov_client_submit(const char *node_url, const gov_tx *tx, bool wait, gov_http_response *out,
                      char *why, size_t why_len)
{
    char *text = gov_client_tx_body(tx);
    if (text == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
    }
    char url[2100];
    snprintf(url, sizeof(url), "%s/v1/txs%s", node_url, wait ? "?wait=commit" : "");
    int rc = gov_http_fetch("POST", url, "application/json", text, strlen(text),
                            GOV_CLIENT_TIMEOUT_MS, out, why, why_len);
    free(text);
    return rc;
}
