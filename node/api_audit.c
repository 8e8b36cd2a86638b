/*
 * The regulators' endpoints (docs/audit.md):
 *
 *   GET /v1/blocks/raw?from=H&limit=N[&wait_ms=W]
 *       committed blocks as the hex of their stored records (block and commit
 *       certificate, canonical encoding), for `govchain replay --from` and observer
 *       nodes, which re-verify everything; with wait_ms, a request for blocks beyond the
 *       head waits up to W ms for the next commit (node/api.c holds it);
 *   GET /v1/proofs/consistency?from=C&to=N
 *       proves that the chain of height N extends block C: both certified headers, an
 *       RFC 6962 consistency proof between the history trees of sizes C-1 and N-1, and
 *       the inclusion of block C's hash in the latter;
 *   GET /v1/departments/{id}/txs?from=&to=&after=H.I&limit=
 *       what one department did in a range of heights, in chain order, with paging;
 *   GET /v1/evidence
 *       the proofs of equivocation this validator's replica kept (node/evidence.h): two
 *       signatures of one validator over different digests for one (type, view, height).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "govchain/checkpoint.h"
#include "govchain/error.h"
#include "govchain/merkle.h"
#include "govchain/query.h"
#include "node/api_internal.h"
#include "node/evidence.h"
#include "node/json_out.h"

enum {
    DEPARTMENT_PAGE_MAX = 500,
};

static json_t *hashes_json(const gov_hash *hashes, size_t count)
{
    json_t *list = json_array();
    for (size_t i = 0; list != NULL && i < count; i++) {
        json_array_append_new(list, gov_json_hash(&hashes[i]));
    }
    return list;
}

/* Raw blocks -------------------------------------------------------------------------- */

static void read_raw_blocks(read_job *job)
{
    gov_ledger *ledger = gov_api_ledger(job->api);
    uint64_t head = gov_ledger_head_get(ledger)->height;
    json_t *blocks = json_array();
    gov_buf record;
    gov_buf_init(&record);
    char why[200];
    /* At most GOV_API_RAW_RECORD_BYTES_MAX of records per answer (at least one block), so that no
     * request can make the node build an answer of hundreds of megabytes, and clients'
     * response caps are never reached: they ask again from where the answer ended. */
    size_t bytes = 0;
    for (uint64_t h = job->height; h <= head && h < job->height + job->limit &&
                                   (bytes == 0 || bytes < GOV_API_RAW_RECORD_BYTES_MAX);
         h++) {
        gov_block block;
        gov_commit_cert cert;
        int rc = gov_ledger_block_get(ledger, h, &block, &cert, why, sizeof(why));
        if (rc == 0) {
            gov_buf_reset(&record);
            rc = gov_block_record_encode(&block, &cert, &record);
            gov_block_clear(&block);
        }
        if (rc != 0) {
            gov_buf_free(&record);
            json_decref(blocks);
            gov_api_read_store_error(job, rc == GOV_ENOMEM ? "out of memory" : why);
            return;
        }
        bytes += record.len;
        json_array_append_new(blocks, json_pack("{s:o, s:o}", "height", gov_json_u64(h), "record",
                                                gov_json_hex(record.data, record.len)));
    }
    gov_buf_free(&record);
    job->body = json_pack("{s:o, s:o}", "head", gov_json_u64(head), "blocks", blocks);
    job->status = 200;
}

/* Consistency --------------------------------------------------------------------------- */

static json_t *certified_json(const gov_block_header *header, const gov_commit_cert *cert)
{
    gov_buf h, c;
    gov_buf_init(&h);
    gov_buf_init(&c);
    json_t *out = NULL;
    if (gov_block_header_encode(header, &h) == 0 && gov_commit_cert_encode(cert, &c) == 0) {
        out = json_pack("{s:o, s:o, s:o}", "height", gov_json_u64(header->height), "header",
                        gov_json_hex(h.data, h.len), "commit_cert", gov_json_hex(c.data, c.len));
    }
    gov_buf_free(&h);
    gov_buf_free(&c);
    return out;
}

static void read_consistency(read_job *job)
{
    gov_history_proof *proof = malloc(sizeof(*proof));
    char why[200];
    if (proof == NULL) {
        gov_api_read_fail(job, 503, "out_of_memory", "the node is out of memory");
        return;
    }
    int rc = gov_history_proof_build(gov_api_ledger(job->api), job->height, job->to_height, proof,
                                     why, sizeof(why));
    if (rc == GOV_EINVAL) {
        gov_api_read_fail(job, 400, "bad_range", why);
    } else if (rc != 0) {
        gov_api_read_store_error(job, why);
    } else {
        job->body = json_pack("{s:o, s:o, s:o, s:o}", "from",
                              certified_json(&proof->from.header, &proof->from.cert), "to",
                              certified_json(&proof->to.header, &proof->to.cert), "consistency",
                              hashes_json(proof->consistency, proof->consistency_len), "inclusion",
                              hashes_json(proof->inclusion, proof->inclusion_len));
        job->status = 200;
    }
    free(proof);
}

/* A department's transactions ------------------------------------------------------------ */

static void read_department(read_job *job)
{
    gov_ledger *ledger = gov_api_ledger(job->api);
    gov_suite suite = gov_ledger_genesis(ledger)->suite;
    uint64_t head = gov_ledger_head_get(ledger)->height;
    uint64_t to = job->to_height == 0 || job->to_height > head ? head : job->to_height;
    uint64_t from = job->height == 0 ? 1 : job->height;
    json_t *txs = json_array();
    if (from > to || head == 0) {
        job->body = json_pack("{s:o, s:o, s:o}", "txs", txs, "more", json_false(), "head",
                              gov_json_u64(head));
        job->status = 200;
        return;
    }
    gov_ledger_position *positions = calloc(job->limit, sizeof(*positions));
    if (positions == NULL) {
        json_decref(txs);
        gov_api_read_fail(job, 503, "out_of_memory", "the node is out of memory");
        return;
    }
    gov_query_page page;
    char why[200];
    int rc = gov_query_department_txs(ledger, job->department, from, to,
                                      job->has_after ? &job->after : NULL, (uint32_t)job->limit,
                                      positions, &page, why, sizeof(why));
    if (rc == GOV_ENOENT) {
        free(positions);
        json_decref(txs);
        gov_api_read_fail(job, 404, "unknown_department", "genesis has no such department");
        return;
    }
    for (uint32_t i = 0; rc == 0 && i < page.count; i++) {
        gov_tx tx;
        gov_ledger_position at;
        gov_block_header header;
        rc = gov_query_tx(ledger, &positions[i].tx_id, &tx, &at, &header, why, sizeof(why));
        if (rc == 0) {
            json_array_append_new(
                txs, json_pack("{s:o, s:I, s:o, s:o}", "height", gov_json_u64(at.height), "index",
                               (json_int_t)at.index, "block_time_ms", gov_json_u64(header.time_ms),
                               "tx", gov_json_tx(suite, &tx)));
            gov_tx_clear(&tx);
        }
    }
    if (rc != 0) {
        free(positions);
        json_decref(txs);
        gov_api_read_store_error(job, why);
        return;
    }
    json_t *next = json_null();
    if (page.more && page.count > 0) {
        char after[48];
        snprintf(after, sizeof(after), "%llu.%u",
                 (unsigned long long)positions[page.count - 1].height,
                 positions[page.count - 1].index);
        next = json_string(after);
    }
    free(positions);
    job->body = json_pack("{s:o, s:b, s:o, s:o, s:o, s:o}", "txs", txs, "more", page.more,
                          "next_after", next, "from", gov_json_u64(from), "to", gov_json_u64(to),
                          "head", gov_json_u64(head));
    job->status = 200;
}

/* Evidence --------------------------------------------------------------------------- */

static json_t *evidence_json(const gov_genesis *genesis, const gov_equivocation *e)
{
    gov_buf record;
    gov_buf_init(&record);
    json_t *out = NULL;
    json_t *digests = json_array();
    json_t *signatures = json_array();
    if (gov_equivocation_encode(e, &record) == 0 && digests != NULL && signatures != NULL) {
        for (int i = 0; i < 2; i++) {
            json_array_append_new(digests, gov_json_hash(&e->digests[i]));
            json_array_append_new(signatures, gov_json_hex(e->signatures[i], GOV_SIGNATURE_LEN));
        }
        const char *department =
            e->validator < genesis->validators_count
                ? genesis->departments[genesis->validators[e->validator].department].id
                : "";
        out = json_pack("{s:I, s:s, s:s, s:o, s:o, s:O, s:O, s:o}", "validator",
                        (json_int_t)e->validator, "department", department, "type",
                        gov_pbft_type_name(e->type), "view", gov_json_u64(e->view), "height",
                        gov_json_u64(e->height), "digests", digests, "signatures", signatures,
                        "record", gov_json_hex(record.data, record.len));
    }
    json_decref(digests);
    json_decref(signatures);
    gov_buf_free(&record);
    return out;
}

static void read_evidence(read_job *job)
{
    gov_ledger *ledger = gov_api_ledger(job->api);
    const gov_genesis *genesis = gov_ledger_genesis(ledger);
    size_t max = (size_t)GOV_EVIDENCE_PER_VALIDATOR_MAX * GOV_VALIDATORS_MAX;
    gov_equivocation *kept = calloc(max, sizeof(*kept));
    if (kept == NULL) {
        gov_api_read_fail(job, 503, "busy", "out of memory");
        return;
    }
    size_t count = 0;
    char why[200];
    if (gov_evidence_list(gov_ledger_store(ledger), kept, max, &count, why, sizeof(why)) != 0) {
        free(kept);
        gov_api_read_store_error(job, why);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; list != NULL && i < count; i++) {
        json_t *item = evidence_json(genesis, &kept[i]);
        if (item == NULL) {
            json_decref(list);
            list = NULL;
        } else {
            json_array_append_new(list, item);
        }
    }
    free(kept);
    job->body = json_pack("{s:o}", "evidence", list);
    job->status = 200;
}

void gov_api_read_audit(read_job *job)
{
    switch (job->kind) {
    case READ_RAW_BLOCKS:
        read_raw_blocks(job);
        break;
    case READ_CONSISTENCY:
        read_consistency(job);
        break;
    case READ_DEPARTMENT:
        read_department(job);
        break;
    case READ_EVIDENCE:
        read_evidence(job);
        break;
    default:
        gov_api_read_fail(job, 500, "internal_error", "unknown read");
        break;
    }
}

uint64_t gov_api_height_at_time(gov_ledger *ledger, uint64_t time_ms)
{
    /* Block times never decrease (the ledger's rules), so a binary search finds the
     * last block at or before time_ms. */
    uint64_t low = 0, high = gov_ledger_head_get(ledger)->height;
    char why[160];
    while (low < high) {
        uint64_t middle = low + (high - low + 1) / 2;
        gov_certified_header header;
        if (gov_certified_header_get(ledger, middle, &header, why, sizeof(why)) != 0) {
            return low;
        }
        if (header.header.time_ms <= time_ms) {
            low = middle;
        } else {
            high = middle - 1;
        }
    }
    return low;
}

/* Routing --------------------------------------------------------------------------------- */

/* An unsigned query parameter with a default; false (answered) when malformed. */
static bool param(gov_http_reply *reply, const char *query, const char *name, uint64_t max,
                  uint64_t *value)
{
    int rc = gov_http_query_uint(query, name, max, value);
    if (rc == 0 || rc == GOV_ENOENT) {
        return true;
    }
    char message[96];
    snprintf(message, sizeof(message), "query parameter %s must be a whole number up to %llu", name,
             (unsigned long long)max);
    gov_http_reply_error(reply, 400, "bad_parameter", message);
    return false;
}

bool gov_api_route_audit(gov_api *api, gov_http_reply *reply, const gov_http_request *request)
{
    const char *path = request->path;
    const char *query = request->query;
    if (strcmp(path, "/v1/blocks/raw") == 0) {
        uint64_t from = 1, limit = 20, wait_ms = 0;
        if (!param(reply, query, "from", UINT64_MAX - GOV_API_RAW_BLOCKS_MAX, &from) ||
            !param(reply, query, "limit", GOV_API_RAW_BLOCKS_MAX, &limit) ||
            !param(reply, query, "wait_ms", 60000, &wait_ms)) {
            return true;
        }
        if (from == 0 || limit == 0) {
            gov_http_reply_error(reply, 400, "bad_parameter", "from and limit start at 1");
            return true;
        }
        gov_api_raw_blocks(api, reply, from, limit, wait_ms);
        return true;
    }
    if (strcmp(path, "/v1/proofs/consistency") == 0) {
        uint64_t from = 0, to = 0;
        if (!param(reply, query, "from", UINT64_MAX, &from) ||
            !param(reply, query, "to", UINT64_MAX, &to)) {
            return true;
        }
        read_job *job = gov_api_read_new(reply, READ_CONSISTENCY);
        if (job != NULL) {
            job->height = from;
            job->to_height = to;
            gov_api_read_start(api, reply, job);
        }
        return true;
    }
    if (strcmp(path, "/v1/evidence") == 0) {
        read_job *job = gov_api_read_new(reply, READ_EVIDENCE);
        if (job != NULL) {
            gov_api_read_start(api, reply, job);
        }
        return true;
    }
    const char *prefix = "/v1/departments/";
    size_t prefix_len = strlen(prefix);
    const char *suffix = strstr(path, "/txs");
    if (strncmp(path, prefix, prefix_len) == 0 && suffix != NULL && strcmp(suffix, "/txs") == 0) {
        size_t id_len = (size_t)(suffix - path) - prefix_len;
        if (id_len == 0 || id_len > GOV_ID_LEN_MAX || !gov_id_valid(path + prefix_len, id_len)) {
            gov_http_reply_error(reply, 400, "bad_department", "not a department id");
            return true;
        }
        uint64_t from = 1, to = 0, limit = 100;
        if (!param(reply, query, "from", UINT64_MAX, &from) ||
            !param(reply, query, "to", UINT64_MAX, &to) ||
            !param(reply, query, "limit", DEPARTMENT_PAGE_MAX, &limit)) {
            return true;
        }
        char after[48];
        gov_ledger_position position = {0};
        int after_rc = gov_http_query_get(query, "after", after, sizeof(after));
        bool has_after = after_rc == 0;
        if (after_rc != 0 && after_rc != GOV_ENOENT) {
            gov_http_reply_error(reply, 400, "bad_parameter", "after must be HEIGHT.INDEX, once");
            return true;
        }
        if (has_after) {
            const char *dot = strchr(after, '.');
            uint64_t index = 0;
            if (dot == NULL ||
                gov_http_decimal(after, (size_t)(dot - after), UINT64_MAX, &position.height) != 0 ||
                gov_http_decimal(dot + 1, strlen(dot + 1), UINT32_MAX, &index) != 0) {
                gov_http_reply_error(reply, 400, "bad_parameter", "after must be HEIGHT.INDEX");
                return true;
            }
            position.index = (uint32_t)index;
        }
        if (limit == 0) {
            gov_http_reply_error(reply, 400, "bad_parameter", "limit starts at 1");
            return true;
        }
        read_job *job = gov_api_read_new(reply, READ_DEPARTMENT);
        if (job != NULL) {
            memcpy(job->department, path + prefix_len, id_len);
            job->department[id_len] = '\0';
            job->height = from;
            job->to_height = to;
            job->limit = limit;
            job->after = position;
            job->has_after = has_after;
            gov_api_read_start(api, reply, job);
        }
        return true;
    }
    return false;
}
