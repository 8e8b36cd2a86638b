/* Blocks from a node's API (node/remote_blocks.h). */
#include "node/remote_blocks.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "govchain/error.h"
#include "govchain/ledger.h"
#include "node/api.h"
#include "node/client.h"
#include "node/http_client.h"

enum {
    BATCH = 50,
    /* Long enough for a long poll (2 s) and a large answer; short enough that a node
     * stopping, or moving to another source, does not wait on a stuck one for long. */
    TIMEOUT_MS = 15000,
    /* The largest honest answers: a status, and a page of raw blocks (the records' cap
     * plus the one block that may cross it, as hex, and the JSON around them). A
     * source cannot make us hold more. */
    STATUS_BYTES_MAX = 64 * 1024,
    RAW_ANSWER_BYTES_MAX =
        2 * (GOV_API_RAW_RECORD_BYTES_MAX + GOV_BLOCK_BYTES_MAX + GOV_CERT_BYTES_MAX) + 64 * 1024,
    /* An answer of n blocks has about 8n JSON separators; a cap on them bounds what the
     * JSON parser builds (tens of bytes per value) whatever a source sends. */
    JSON_TOKENS_MAX = 16 * GOV_API_RAW_BLOCKS_MAX + 64,
};

typedef struct {
    uint64_t height;
    uint8_t *record;
    size_t len;
} cached;

struct gov_remote_blocks {
    char url[1024];
    uint64_t head;
    gov_hash head_hash;
    cached batch[BATCH];
    uint32_t count;
};

static void drop_batch(gov_remote_blocks *r)
{
    for (uint32_t i = 0; i < r->count; i++) {
        free(r->batch[i].record);
    }
    r->count = 0;
}

/* The separators of JSON text outside its strings ([ { : , and each string): about the
 * number of values a parser would build from it. */
static size_t json_tokens(const uint8_t *text, size_t len)
{
    size_t tokens = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = text[i];
        if (in_string) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"' || c == ',' || c == ':' || c == '[' || c == '{') {
            in_string = c == '"';
            tokens++;
        }
    }
    return tokens;
}

static json_t *get_json(const char *url, size_t response_max, char *why, size_t why_len)
{
    gov_http_response response;
    if (gov_http_fetch_max("GET", url, NULL, NULL, 0, TIMEOUT_MS, response_max, &response, why,
                           why_len) != 0) {
        return NULL;
    }
    json_error_t error;
    json_t *body = NULL;
    if (response.status != 200) {
        (void)gov_fail(why, why_len, GOV_EIO, "%s answered %d", url, response.status);
    } else if (json_tokens(response.body.data, response.body.len) > JSON_TOKENS_MAX) {
        (void)gov_fail(why, why_len, GOV_EIO,
                       "%s answered with more JSON values than any answer "
                       "of blocks has",
                       url);
    } else {
        body = json_loadb((const char *)response.body.data, response.body.len, 0, &error);
        if (body == NULL) {
            (void)gov_fail(why, why_len, GOV_EIO, "%s answered with something that is not JSON",
                           url);
        }
    }
    gov_buf_free(&response.body);
    return body;
}

static int read_head(gov_remote_blocks *r, char *why, size_t why_len)
{
    char url[1100];
    snprintf(url, sizeof(url), "%s/v1/status", r->url);
    json_t *status = get_json(url, STATUS_BYTES_MAX, why, why_len);
    const char *hash = json_string_value(json_object_get(status, "head_hash"));
    json_t *height = json_object_get(status, "height");
    int rc = status != NULL && json_is_integer(height) && hash != NULL &&
                     strlen(hash) == 2 * GOV_HASH_LEN &&
                     gov_hex_decode(hash, r->head_hash.bytes, GOV_HASH_LEN) == 0
                 ? 0
                 : GOV_EIO;
    if (rc == 0) {
        r->head = (uint64_t)json_integer_value(height);
    } else if (status != NULL) {
        (void)gov_fail(why, why_len, GOV_EIO, "%s did not report its head", url);
    }
    json_decref(status);
    return rc;
}

int gov_remote_blocks_open(const char *url, gov_remote_blocks **out, char *why, size_t why_len)
{
    *out = NULL;
    gov_remote_blocks *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
    }
    int rc = gov_client_url(url, r->url, sizeof(r->url), why, why_len);
    if (rc == 0) {
        rc = read_head(r, why, why_len);
    }
    if (rc != 0) {
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void gov_remote_blocks_close(gov_remote_blocks *r)
{
    if (r != NULL) {
        drop_batch(r);
        free(r);
    }
}

uint64_t gov_remote_blocks_head(const gov_remote_blocks *r)
{
    return r->head;
}

const gov_hash *gov_remote_blocks_head_hash(const gov_remote_blocks *r)
{
    return &r->head_hash;
}

/* Fetches blocks from `height` on into the batch (waiting up to wait_ms for the first). */
static int fetch(gov_remote_blocks *r, uint64_t height, uint32_t wait_ms, char *why, size_t why_len)
{
    drop_batch(r);
    char url[1200];
    snprintf(url, sizeof(url), "%s/v1/blocks/raw?from=%" PRIu64 "&limit=%d&wait_ms=%u", r->url,
             height, BATCH, wait_ms);
    json_t *body = get_json(url, RAW_ANSWER_BYTES_MAX, why, why_len);
    if (body == NULL) {
        return GOV_EIO;
    }
    json_t *head = json_object_get(body, "head");
    if (json_is_integer(head) && (uint64_t)json_integer_value(head) > r->head) {
        r->head = (uint64_t)json_integer_value(head);
    }
    json_t *blocks = json_object_get(body, "blocks");
    int rc = 0;
    for (size_t i = 0; i < json_array_size(blocks) && i < BATCH && rc == 0; i++) {
        json_t *item = json_array_get(blocks, i);
        const char *hex = json_string_value(json_object_get(item, "record"));
        size_t len = hex == NULL ? 0 : strlen(hex) / 2;
        uint8_t *record = len > 0 && len <= GOV_KV_VALUE_BYTES_MAX ? malloc(len) : NULL;
        if (record == NULL || strlen(hex) != 2 * len || gov_hex_decode(hex, record, len) != 0 ||
            !json_is_integer(json_object_get(item, "height"))) {
            free(record);
            rc = gov_fail(why, why_len, GOV_EIO, "%s: a block record is not hex", url);
            break;
        }
        r->batch[r->count].height = (uint64_t)json_integer_value(json_object_get(item, "height"));
        r->batch[r->count].record = record;
        r->batch[r->count].len = len;
        r->count++;
    }
    json_decref(body);
    return rc;
}

int gov_remote_blocks_wait(gov_remote_blocks *r, uint64_t height, uint32_t wait_ms, char *why,
                           size_t why_len)
{
    if (r->head > height) {
        return 0;
    }
    return fetch(r, height + 1, wait_ms, why, why_len);
}

int gov_remote_blocks_get(gov_remote_blocks *r, uint64_t height, gov_block *block,
                          gov_commit_cert *cert, char *why, size_t why_len)
{
    const cached *found = NULL;
    for (int attempt = 0; attempt < 2 && found == NULL; attempt++) {
        for (uint32_t i = 0; i < r->count && found == NULL; i++) {
            found = r->batch[i].height == height ? &r->batch[i] : NULL;
        }
        if (found == NULL && attempt == 0) {
            int rc = fetch(r, height, 0, why, why_len);
            if (rc != 0) {
                return rc;
            }
        }
    }
    if (found == NULL) {
        return gov_fail(why, why_len, GOV_ENOENT, "the node did not serve block %" PRIu64, height);
    }
    return gov_block_record_decode(found->record, found->len, block, cert, why, why_len);
}

static int source_get(void *arg, uint64_t height, gov_block *block, gov_commit_cert *cert,
                      char *why, size_t why_len)
{
    return gov_remote_blocks_get(arg, height, block, cert, why, why_len);
}

gov_replay_source gov_remote_blocks_source(gov_remote_blocks *r)
{
    gov_replay_source source = {
        .block_get = source_get, .arg = r, .head_height = r->head, .head_hash = &r->head_hash};
    return source;
}
