/* JSON views of ledger records (see node/json_out.h). */
#include "node/json_out.h"

#include <stdio.h>

#include "govchain/crypto.h"

/* Integers above 2^53 lose precision in JavaScript and above 2^63 do not fit jansson's
 * integers, so those go out as decimal strings. */
json_t *gov_json_u64(uint64_t value)
{
    if (value <= (1ULL << 53)) {
        return json_integer((json_int_t)value);
    }
    char text[24];
    snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
    return json_string(text);
}

json_t *gov_json_hash(const gov_hash *hash)
{
    char hex[2 * GOV_HASH_LEN + 1];
    gov_hex_encode(hash->bytes, GOV_HASH_LEN, hex);
    return json_string(hex);
}

static json_t *issue_json(const gov_issue *issue)
{
    json_t *metadata = json_object();
    for (uint32_t i = 0; i < issue->metadata_count; i++) {
        json_object_set_new(metadata, issue->metadata[i].key,
                            json_string(issue->metadata[i].value));
    }
    return json_pack("{s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "doc_hash",
                     gov_json_hash(&issue->doc_hash), "class", gov_doc_class_name(issue->doc_class),
                     "doc_type", issue->doc_type, "subject_ref", gov_json_hash(&issue->subject_ref),
                     "valid_from_ms", gov_json_u64(issue->valid_from_ms), "valid_until_ms",
                     gov_json_u64(issue->valid_until_ms), "supersedes",
                     issue->has_supersedes ? gov_json_hash(&issue->supersedes) : json_null(),
                     "metadata", metadata);
}

json_t *gov_json_tx(gov_suite suite, const gov_tx *tx)
{
    gov_hash id;
    if (gov_tx_id(suite, tx, &id) != 0) {
        return NULL;
    }
    char signature[2 * GOV_SIGNATURE_LEN + 1];
    gov_hex_encode(tx->signature, GOV_SIGNATURE_LEN, signature);
    json_t *payload;
    if (tx->kind == GOV_TX_ISSUE) {
        payload = issue_json(&tx->payload.issue);
    } else {
        const gov_doc_remark *remark =
            tx->kind == GOV_TX_ENDORSE ? &tx->payload.endorse : &tx->payload.revoke;
        payload = json_pack("{s:o, s:s}", "doc_hash", gov_json_hash(&remark->doc_hash),
                            tx->kind == GOV_TX_ENDORSE ? "note" : "reason", remark->text);
    }
    return json_pack("{s:o, s:s, s:s, s:i, s:o, s:o, s:o, s:s}", "tx_id", gov_json_hash(&id),
                     "kind", gov_tx_kind_name(tx->kind), "department", tx->department, "key_index",
                     (int)tx->key_index, "nonce", gov_json_u64(tx->nonce), "created_ms",
                     gov_json_u64(tx->created_ms), "payload", payload, "signature", signature);
}
