/*
 * Equivocation evidence in the node's store (node/evidence.h).
 */
#include "node/evidence.h"

#include <string.h>

#include "govchain/error.h"

enum { KEY_LEN = 1 + 4 + 8 + 8 + 1, PREFIX_LEN = 1 + 4 };

static void put_be(uint8_t *out, uint64_t value, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--) {
        out[i] = (uint8_t)value;
        value >>= 8;
    }
}

static void key_of(const gov_equivocation *evidence, uint8_t key[KEY_LEN])
{
    key[0] = 'E';
    put_be(key + 1, evidence->validator, 4);
    put_be(key + 5, evidence->view, 8);
    put_be(key + 13, evidence->height, 8);
    key[21] = (uint8_t)evidence->type;
}

static int count_entry(void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
                       size_t value_len)
{
    (void)key, (void)key_len, (void)value, (void)value_len;
    size_t *count = arg;
    return ++*count >= GOV_EVIDENCE_PER_VALIDATOR_MAX ? 1 : 0;
}

int gov_evidence_keep(gov_kv *store, const gov_equivocation *evidence, char *why, size_t why_len)
{
    uint8_t key[KEY_LEN];
    key_of(evidence, key);
    size_t len = 0;
    int rc = gov_kv_get_into(store, key, sizeof(key), NULL, 0, &len, why, why_len);
    if (rc != GOV_ENOENT) {
        return rc; /* kept already (0), or the store's error */
    }
    size_t kept = 0;
    rc = gov_kv_scan(store, key, PREFIX_LEN, NULL, 0, count_entry, &kept, why, why_len);
    if (rc != 0 || kept >= GOV_EVIDENCE_PER_VALIDATOR_MAX) {
        return rc;
    }
    gov_buf value;
    gov_buf_init(&value);
    rc = gov_equivocation_encode(evidence, &value);
    if (rc == 0) {
        rc = gov_kv_put(store, key, sizeof(key), value.data, value.len, why, why_len);
    } else {
        rc = gov_fail(why, why_len, rc, "out of memory encoding evidence");
    }
    gov_buf_free(&value);
    return rc;
}

typedef struct {
    gov_equivocation *out;
    size_t max;
    size_t count;
    char *why;
    size_t why_len;
} list_state;

static int list_entry(void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
                      size_t value_len)
{
    (void)key, (void)key_len;
    list_state *state = arg;
    if (state->count == state->max) {
        return 1;
    }
    int rc = gov_equivocation_decode(value, value_len, &state->out[state->count], state->why,
                                     state->why_len);
    if (rc != 0) {
        return rc;
    }
    state->count++;
    return 0;
}

int gov_evidence_list(gov_kv *store, gov_equivocation *out, size_t max, size_t *count, char *why,
                      size_t why_len)
{
    list_state state = {out, max, 0, why, why_len};
    static const uint8_t prefix[] = {'E'};
    int rc = gov_kv_scan(store, prefix, sizeof(prefix), NULL, 0, list_entry, &state, why, why_len);
    *count = rc == 0 ? state.count : 0;
    return rc;
}
