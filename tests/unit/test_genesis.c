/*
 * Unit tests of genesis: the example network parses and hashes stably, every
 * validation rule rejects with the right code and a message naming the JSON path,
 * the canonical encoding has the documented shape, and arbitrary input never crashes.
 *
 * Most rejection tests start from the example (genesis/examples/four-departments.json),
 * apply one mutation with jansson and parse the result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <msgpack.h>

#include "govchain/error.h"
#include "govchain/genesis.h"
#include "tests/unit/test_util.h"

#define EXAMPLE_PATH GOV_TEST_DATA_DIR "/../../genesis/examples/four-departments.json"

/* The chain id of the example. It pins the canonical encoding: if it changes, every
 * chain's id changes with it, which must be a deliberate decision (and the example's
 * README and docs/formats.md updated), never an accident. */
#define EXAMPLE_HASH_HEX "bdff14c843d44d199a3c71f635513ffbf19bf153c7d384306b3c0ada9e11c9e3"

#define WHY_LEN  512
#define ZEROS_64 "0000000000000000000000000000000000000000000000000000000000000000"

/* ---- Helpers -------------------------------------------------------------------- */

static json_t *load_example(void)
{
    json_error_t error;
    json_t *root = json_load_file(EXAMPLE_PATH, JSON_REJECT_DUPLICATES, &error);
    if (root == NULL) {
        fail_msg("%s:%d:%d: %s", EXAMPLE_PATH, error.line, error.column, error.text);
    }
    return root;
}

static int parse_text(const char *text, size_t len, gov_genesis **out, char why[WHY_LEN])
{
    why[0] = '\0';
    int rc = gov_genesis_parse(text, len, out, why, WHY_LEN);
    if (rc == 0) {
        assert_non_null(*out);
    } else {
        assert_null(*out);
        assert_true(rc < 0);
        assert_true(why[0] != '\0');
    }
    return rc;
}

static int parse_json(const json_t *root, size_t flags, gov_genesis **out, char why[WHY_LEN])
{
    char *text = json_dumps(root, flags);
    assert_non_null(text);
    int rc = parse_text(text, strlen(text), out, why);
    free(text);
    return rc;
}

static gov_genesis *parse_valid(const json_t *root)
{
    gov_genesis *genesis = NULL;
    char why[WHY_LEN];
    int rc = parse_json(root, JSON_COMPACT, &genesis, why);
    if (rc != 0) {
        fail_msg("expected a valid genesis, got %s: %s", gov_strerror(rc), why);
    }
    return genesis;
}

static void fresh_key_hex(gov_suite suite, char out[GOV_PUBLIC_KEY_HEX_LEN + 1])
{
    gov_private_key *key = NULL;
    uint8_t bytes[GOV_PUBLIC_KEY_LEN];
    assert_int_equal(gov_private_key_generate(suite, &key), 0);
    gov_private_key_public(key, bytes);
    gov_private_key_free(key);
    gov_hex_encode(bytes, sizeof(bytes), out);
}

static json_t *fresh_key_json(gov_suite suite)
{
    char hex[GOV_PUBLIC_KEY_HEX_LEN + 1];
    fresh_key_hex(suite, hex);
    return json_string(hex);
}

/* Splits a path such as "departments[1].keys[0]" at its last step: returns the
 * container the step applies to and sets *name (for a member) or *index (for an array
 * element, with *name set to ""). */
static json_t *resolve_parent(json_t *root, const char *path, char name[64], size_t *index)
{
    json_t *current = root;
    const char *at = path;
    for (;;) {
        bool element = *at == '[';
        char step[64];
        size_t len = 0;
        at += element || *at == '.' ? 1 : 0;
        while (*at != '\0' && *at != '.' && *at != '[' && *at != ']' && len < 63) {
            step[len++] = *at++;
        }
        step[len] = '\0';
        at += *at == ']' ? 1 : 0;
        if (*at == '\0') {
            snprintf(name, 64, "%s", element ? "" : step);
            *index = element ? strtoul(step, NULL, 10) : 0;
            return current;
        }
        current = element ? json_array_get(current, strtoul(step, NULL, 10))
                          : json_object_get(current, step);
        if (current == NULL) {
            fail_msg("no %s in the test genesis", path);
        }
    }
}

static json_t *get_at(json_t *root, const char *path)
{
    char name[64];
    size_t index;
    json_t *parent = resolve_parent(root, path, name, &index);
    json_t *value = name[0] != '\0' ? json_object_get(parent, name) : json_array_get(parent, index);
    if (value == NULL) {
        fail_msg("no %s in the test genesis", path);
    }
    return value;
}

/* Takes ownership of value. */
static void set_at(json_t *root, const char *path, json_t *value)
{
    char name[64];
    size_t index;
    json_t *parent = resolve_parent(root, path, name, &index);
    int rc = name[0] != '\0' ? json_object_set_new(parent, name, value)
                             : json_array_set_new(parent, index, value);
    assert_int_equal(rc, 0);
}

static void delete_at(json_t *root, const char *path)
{
    char name[64];
    size_t index;
    json_t *parent = resolve_parent(root, path, name, &index);
    int rc = name[0] != '\0' ? json_object_del(parent, name) : json_array_remove(parent, index);
    assert_int_equal(rc, 0);
}

/* ---- Mutations ---------------------------------------------------------------------- */

typedef enum {
    SET,        /* path := value (JSON text) */
    DELETE,     /* remove path */
    APPEND,     /* append value (JSON text) to the array at path */
    COPY,       /* path := a copy of the value at the path in `value` */
    COPY_UPPER, /* the same, upper-cased (keys: the same point in other hex digits) */
    FLIP,       /* change the last hex digit of the key at path (off the curve) */
    RESIZE,     /* cut the array at path, or grow it with copies of its last element */
    FRESH_KEY,  /* path := a new key of the genesis's suite */
} mutation_op;

typedef struct {
    mutation_op op;
    const char *path;
    const char *value;
} mutation;

static void resize_array(json_t *array, size_t size)
{
    assert_true(json_is_array(array));
    assert_true(json_array_size(array) > 0);
    while (json_array_size(array) > size) {
        json_array_remove(array, json_array_size(array) - 1);
    }
    while (json_array_size(array) < size) {
        json_t *last = json_array_get(array, json_array_size(array) - 1);
        json_array_append_new(array, json_deep_copy(last));
    }
}

static void copy_upper(json_t *root, const char *path, const char *source)
{
    char text[GOV_PUBLIC_KEY_HEX_LEN + 1];
    snprintf(text, sizeof(text), "%s", json_string_value(get_at(root, source)));
    for (char *c = text; *c != '\0'; c++) {
        *c = (char)(*c >= 'a' && *c <= 'f' ? *c - 'a' + 'A' : *c);
    }
    set_at(root, path, json_string(text));
}

static void flip_last_digit(json_t *root, const char *path)
{
    char text[GOV_PUBLIC_KEY_HEX_LEN + 1];
    snprintf(text, sizeof(text), "%s", json_string_value(get_at(root, path)));
    char *last = &text[strlen(text) - 1];
    *last = *last == '0' ? '1' : '0';
    set_at(root, path, json_string(text));
}

static void apply(json_t *root, const mutation *m)
{
    json_error_t error;
    json_t *value = NULL;
    if (m->op == SET || m->op == APPEND) {
        value = json_loads(m->value, JSON_DECODE_ANY, &error);
        if (value == NULL) {
            fail_msg("bad JSON in test table: %s", m->value);
        }
    }
    gov_suite suite;
    switch (m->op) {
    case SET:
        set_at(root, m->path, value);
        break;
    case DELETE:
        delete_at(root, m->path);
        break;
    case APPEND:
        assert_int_equal(json_array_append_new(get_at(root, m->path), value), 0);
        break;
    case COPY:
        set_at(root, m->path, json_deep_copy(get_at(root, m->value)));
        break;
    case COPY_UPPER:
        copy_upper(root, m->path, m->value);
        break;
    case FLIP:
        flip_last_digit(root, m->path);
        break;
    case RESIZE:
        resize_array(get_at(root, m->path), strtoul(m->value, NULL, 10));
        break;
    case FRESH_KEY:
        assert_int_equal(gov_suite_parse(json_string_value(get_at(root, "suite")), &suite), 0);
        set_at(root, m->path, fresh_key_json(suite));
        break;
    }
}

/* ---- The example -------------------------------------------------------------------- */

static void test_example_parses(void **state)
{
    (void)state;
    json_t *root = load_example();
    gov_genesis *genesis = parse_valid(root);
    json_decref(root);

    assert_int_equal(genesis->version, 1);
    assert_string_equal(genesis->chain_name, "guangxi-demo");
    assert_int_equal(genesis->suite, GOV_SUITE_P256_SHA256);
    assert_int_equal(genesis->genesis_time_ms, 1767225600000ULL);
    assert_int_equal(genesis->consensus.view_timeout_ms, 2000);
    assert_int_equal(genesis->consensus.view_timeout_max_ms, 60000);
    assert_int_equal(genesis->consensus.block_txs_max, 1000);
    assert_int_equal(genesis->consensus.block_bytes_max, 2097152);
    assert_int_equal(genesis->consensus.clock_skew_ms, 10000);
    assert_int_equal(genesis->departments_count, 5);
    assert_int_equal(genesis->doc_types_count, 5);
    assert_int_equal(genesis->validators_count, 4);

    const gov_genesis_department *market = &genesis->departments[0];
    assert_string_equal(market->id, "market-regulation");
    assert_int_equal(market->roles, GOV_ROLE_ISSUER | GOV_ROLE_ENDORSER);
    assert_int_equal(market->issues_count, 1);
    assert_string_equal(genesis->doc_types[market->issues[0]].id, "business-licence");
    assert_int_equal(market->keys_count, 2);
    for (uint32_t k = 0; k < market->keys_count; k++) {
        uint8_t bytes[GOV_PUBLIC_KEY_LEN];
        assert_non_null(market->parsed_keys[k]);
        gov_public_key_bytes(market->parsed_keys[k], bytes);
        assert_memory_equal(bytes, market->keys[k], GOV_PUBLIC_KEY_LEN);
    }
    assert_null(market->parsed_keys[2]);
    assert_int_equal(genesis->departments[4].roles, GOV_ROLE_REGULATOR);
    assert_int_equal(genesis->departments[4].issues_count, 0);

    const gov_genesis_doc_type *licence = &genesis->doc_types[0];
    assert_int_equal(licence->doc_class, GOV_DOC_CLASS_CERTIFICATE);
    assert_int_equal(licence->recognisers_count, 3);
    assert_string_equal(genesis->departments[licence->recognisers[0]].id, "tax");
    assert_string_equal(genesis->departments[licence->recognisers[2]].id, "housing-construction");
    assert_int_equal(licence->endorsements_required, 2);
    assert_int_equal(genesis->doc_types[4].doc_class, GOV_DOC_CLASS_APPROVAL);
    assert_int_equal(genesis->doc_types[4].recognisers_count, 0);

    for (uint32_t i = 0; i < genesis->validators_count; i++) {
        assert_int_equal(genesis->validators[i].department, i);
        assert_non_null(genesis->validators[i].parsed_key);
    }
    assert_int_equal(gov_genesis_faults_tolerated(genesis), 1);
    assert_int_equal(gov_genesis_quorum(genesis), 3);
    gov_genesis_free(genesis);
}

static void test_example_lookups(void **state)
{
    (void)state;
    json_t *root = load_example();
    gov_genesis *genesis = parse_valid(root);
    json_decref(root);
    assert_int_equal(gov_genesis_department_index(genesis, "market-regulation"), 0);
    assert_int_equal(gov_genesis_department_index(genesis, "tax"), 1);
    assert_int_equal(gov_genesis_department_index(genesis, "audit-office"), 4);
    assert_int_equal(gov_genesis_department_index(genesis, "customs"), -1);
    assert_int_equal(gov_genesis_department_index(genesis, ""), -1);
    assert_int_equal(gov_genesis_doc_type_index(genesis, "business-licence"), 0);
    assert_int_equal(gov_genesis_doc_type_index(genesis, "fire-safety-acceptance"), 4);
    assert_int_equal(gov_genesis_doc_type_index(genesis, "tax"), -1);
    gov_genesis_free(genesis);
}

/* Removes every comment member, at every level. */
static void strip_comments(json_t *value)
{
    if (json_is_array(value)) {
        for (size_t i = 0; i < json_array_size(value); i++) {
            strip_comments(json_array_get(value, i));
        }
        return;
    }
    if (!json_is_object(value)) {
        return;
    }
    void *it = json_object_iter(value);
    while (it != NULL) {
        const char *key = json_object_iter_key(it);
        void *next = json_object_iter_next(value, it);
        if (strncmp(key, "//", 2) == 0) {
            json_object_del(value, key);
        } else {
            strip_comments(json_object_iter_value(it));
        }
        it = next;
    }
}

static void test_example_hash_is_stable(void **state)
{
    (void)state;
    json_t *root = load_example();
    char *file = test_read_file(EXAMPLE_PATH, NULL);
    gov_genesis *first = NULL;
    char why[WHY_LEN];
    assert_int_equal(parse_text(file, strlen(file), &first, why), 0);
    free(file);
    gov_genesis *second = parse_valid(root);
    assert_true(gov_hash_equal(&first->hash, &second->hash));
    assert_true(gov_hash_equal(&first->validators_hash, &second->validators_hash));
    assert_false(gov_hash_equal(&first->hash, &first->validators_hash));

    char hex[2 * GOV_HASH_LEN + 1];
    gov_hex_encode(first->hash.bytes, GOV_HASH_LEN, hex);
    assert_string_equal(hex, EXAMPLE_HASH_HEX);

    /* Whitespace, member order, escapes and comments are not content. */
    strip_comments(root);
    static const size_t layouts[] = {
        JSON_INDENT(0) | JSON_SORT_KEYS,
        JSON_COMPACT,
        JSON_INDENT(7) | JSON_ENSURE_ASCII,
        JSON_COMPACT | JSON_SORT_KEYS | JSON_ESCAPE_SLASH | JSON_ENSURE_ASCII,
    };
    for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
        gov_genesis *other = NULL;
        assert_int_equal(parse_json(root, layouts[i], &other, why), 0);
        assert_true(gov_hash_equal(&first->hash, &other->hash));
        assert_true(gov_hash_equal(&first->validators_hash, &other->validators_hash));
        gov_genesis_free(other);
    }
    gov_genesis_free(second);
    gov_genesis_free(first);
    json_decref(root);
}

/* Valid changes of content, of one or two steps: each must change the hash, except
 * the two control rows that change only the JSON (same value, or roles as a set). */
typedef struct {
    mutation steps[2];
    bool same;
} content_change;

static const content_change content_changes[] = {
    {{{SET, "chain_name", "\"guangxi-demo-2\""}}, false},
    {{{SET, "suite", "\"p256-sha256\""}}, true},
    {{{SET, "departments[0].roles", "[\"endorser\", \"issuer\"]"}}, true},
    {{{SET, "genesis_time_ms", "1767225600001"}}, false},
    {{{SET, "consensus.view_timeout_ms", "2001"}}, false},
    {{{SET, "consensus.view_timeout_max_ms", "60001"}}, false},
    {{{SET, "consensus.block_txs_max", "999"}}, false},
    {{{SET, "consensus.block_bytes_max", "2097151"}}, false},
    {{{SET, "consensus.clock_skew_ms", "9999"}}, false},
    {{{SET, "departments[0].name", "\"Market Regulation Administration\""}}, false},
    {{{SET, "departments[4].roles", "[\"regulator\", \"endorser\"]"}}, false},
    {{{SET, "departments[3].issues", "[\"fire-safety-acceptance\", \"construction-permit\"]"}},
     false},
    {{{FRESH_KEY, "departments[0].keys[1]", NULL}}, false},
    {{{DELETE, "departments[0].keys[1]", NULL}}, false},
    {{{SET, "doc_types[0].class", "\"approval\""}}, false},
    {{{SET, "doc_types[0].endorsements_required", "3"}}, false},
    {{{SET, "doc_types[1].recognised_by", "[\"public-security\"]"}}, false},
    {{{SET, "doc_types[0].recognised_by",
       "[\"public-security\", \"tax\", \"housing-construction\"]"}},
     false},
    {{{SET, "doc_types[1].id", "\"tax-certificate\""},
      {SET, "departments[1].issues[0]", "\"tax-certificate\""}},
     false},
    {{{COPY, "validators[0].department", "validators[1].department"}}, false},
    {{{FRESH_KEY, "validators[0].public_key", NULL}}, false},
    {{{FRESH_KEY, "validators[1].public_key", NULL}}, false},
    {{{FRESH_KEY, "validators[2].public_key", NULL}}, false},
    {{{FRESH_KEY, "validators[3].public_key", NULL}}, false},
    {{{RESIZE, "validators", "5"}, {FRESH_KEY, "validators[4].public_key", NULL}}, false},
};

static void test_hash_changes_with_content(void **state)
{
    (void)state;
    json_t *base = load_example();
    gov_genesis *original = parse_valid(base);
    for (size_t i = 0; i < sizeof(content_changes) / sizeof(content_changes[0]); i++) {
        const content_change *change = &content_changes[i];
        json_t *root = json_deep_copy(base);
        bool validators = false;
        for (size_t k = 0; k < 2 && change->steps[k].path != NULL; k++) {
            apply(root, &change->steps[k]);
            validators = validators || strncmp(change->steps[k].path, "validators", 10) == 0;
        }
        gov_genesis *changed = parse_valid(root);
        json_decref(root);
        if (change->same != gov_hash_equal(&original->hash, &changed->hash)) {
            fail_msg("row %zu (%s): the hash %s", i, change->steps[0].path,
                     change->same ? "changed" : "did not change");
        }
        bool validators_same =
            gov_hash_equal(&original->validators_hash, &changed->validators_hash);
        if (validators == validators_same) {
            fail_msg("row %zu (%s): the validator-set hash %s", i, change->steps[0].path,
                     validators_same ? "did not change" : "changed");
        }
        gov_genesis_free(changed);
    }
    gov_genesis_free(original);
    json_decref(base);
}

/* ---- Rejections --------------------------------------------------------------------- */

typedef struct {
    mutation change;
    int code;
    const char *expected; /* a substring of the message */
} rejection;

static const rejection rejections[] = {
    /* The document and its header. */
    {{SET, "colour", "\"blue\""}, GOV_EGENESIS, "unknown field \"colour\""},
    {{DELETE, "chain_name", NULL}, GOV_EGENESIS, "missing field \"chain_name\""},
    {{DELETE, "validators", NULL}, GOV_EGENESIS, "missing field \"validators\""},
    {{SET, "version", "2"}, GOV_EGENESIS, "version: unsupported version 2 (expected 1)"},
    {{SET, "version", "\"1\""}, GOV_EGENESIS, "version: expected a non-negative integer"},
    {{SET, "chain_name", "\"\""}, GOV_EGENESIS, "chain_name: 0 bytes, expected 1 to 64"},
    {{SET, "chain_name", "\"" ZEROS_64 "0\""}, GOV_EGENESIS, "chain_name: 65 bytes"},
    {{SET, "chain_name", "\"tab\\there\""},
     GOV_EGENESIS,
     "chain_name: byte 3 is not a printable ASCII character"},
    {{SET, "chain_name", "\"\xe5\xb9\xbf\xe8\xa5\xbf\""},
     GOV_EGENESIS,
     "chain_name: byte 0 is not a printable ASCII"},
    {{SET, "chain_name", "null"}, GOV_EGENESIS, "chain_name: expected a string, found null"},
    {{SET, "suite", "\"rsa-sha1\""},
     GOV_EGENESIS,
     "suite: unknown suite \"rsa-sha1\" (expected p256-sha256 or sm2-sm3)"},
    {{SET, "suite", "1"}, GOV_EGENESIS, "suite: expected a string, found 1"},
    {{SET, "suite", "\"sm2-sm3\""},
     GOV_EGENESIS,
     "departments[0].keys[0]: not a valid sm2-sm3 public key"},
    {{SET, "genesis_time_ms", "-1"},
     GOV_EGENESIS,
     "genesis_time_ms: expected a non-negative integer, found -1"},
    {{SET, "genesis_time_ms", "1.5"},
     GOV_EGENESIS,
     "genesis_time_ms: expected a non-negative integer"},
    /* Consensus parameters. */
    {{SET, "consensus", "[]"}, GOV_EGENESIS, "consensus: expected an object, found an array"},
    {{DELETE, "consensus.clock_skew_ms", NULL},
     GOV_EGENESIS,
     "consensus: missing field \"clock_skew_ms\""},
    {{SET, "consensus.view_timeout", "1"},
     GOV_EGENESIS,
     "consensus: unknown field \"view_timeout\""},
    {{SET, "consensus.view_timeout_ms", "99"},
     GOV_EGENESIS,
     "consensus.view_timeout_ms: 99 is out of range (expected 100 to 600000)"},
    {{SET, "consensus.view_timeout_ms", "600001"},
     GOV_EGENESIS,
     "consensus.view_timeout_ms: 600001 is out of range"},
    {{SET, "consensus.view_timeout_max_ms", "1999"},
     GOV_EGENESIS,
     "consensus.view_timeout_max_ms: 1999 is less than view_timeout_ms (2000)"},
    {{SET, "consensus.view_timeout_max_ms", "3600001"},
     GOV_EGENESIS,
     "consensus.view_timeout_max_ms: 3600001 is out of range (expected 0 to 3600000)"},
    {{SET, "consensus.block_txs_max", "0"},
     GOV_EGENESIS,
     "consensus.block_txs_max: 0 is out of range (expected 1 to 4096)"},
    {{SET, "consensus.block_txs_max", "4097"},
     GOV_EGENESIS,
     "consensus.block_txs_max: 4097 is out of range"},
    {{SET, "consensus.block_bytes_max", "8191"},
     GOV_EGENESIS,
     "consensus.block_bytes_max: 8191 is out of range (expected 8192 to 4194304)"},
    {{SET, "consensus.block_bytes_max", "4194305"},
     GOV_EGENESIS,
     "consensus.block_bytes_max: 4194305 is out of range"},
    {{SET, "consensus.clock_skew_ms", "3600001"},
     GOV_EGENESIS,
     "consensus.clock_skew_ms: 3600001 is out of range (expected 0 to 3600000)"},
    {{SET, "consensus.clock_skew_ms", "true"},
     GOV_EGENESIS,
     "consensus.clock_skew_ms: expected a non-negative integer, found true"},
    /* Departments. */
    {{SET, "departments", "{}"},
     GOV_EGENESIS,
     "departments: expected an array of departments, found an object"},
    {{RESIZE, "departments", "0"},
     GOV_EGENESIS,
     "departments: 0 departments, at least 1 is required"},
    {{RESIZE, "departments", "257"},
     GOV_EGENESIS,
     "departments: 257 departments, at most 256 are allowed"},
    {{SET, "departments[0]", "\"market-regulation\""},
     GOV_EGENESIS,
     "departments[0]: expected an object, found the string \"market-regulation\""},
    {{SET, "departments[0].colour", "1"}, GOV_EGENESIS, "departments[0]: unknown field \"colour\""},
    {{SET, "departments[0].\"quoted\xc3\xa9", "1"},
     GOV_EGENESIS,
     "departments[0]: unknown field \"\\x22quoted\\xc3\\xa9\""},
    {{DELETE, "departments[0].keys", NULL}, GOV_EGENESIS, "departments[0]: missing field \"keys\""},
    {{SET, "departments[1].id", "\"Tax\""},
     GOV_EGENESIS,
     "departments[1].id: invalid id \"Tax\" (expected 1 to 32 characters of a-z, 0-9"},
    {{SET, "departments[1].id", "\"-tax\""}, GOV_EGENESIS, "departments[1].id: invalid id"},
    {{SET, "departments[1].id", "\"tax-service-of-guangxi-zhuang-aut\""},
     GOV_EGENESIS,
     "departments[1].id: invalid id"},
    {{COPY, "departments[1].id", "departments[0].id"},
     GOV_EGENESIS,
     "departments[1].id: duplicate department id \"market-regulation\" (already "
     "departments[0])"},
    {{SET, "departments[0].name", "\"\""},
     GOV_EGENESIS,
     "departments[0].name: 0 bytes, expected 1 to 128 bytes of UTF-8 text"},
    {{SET, "departments[0].name", "\"" ZEROS_64 ZEROS_64 "0\""},
     GOV_EGENESIS,
     "departments[0].name: 129 bytes"},
    {{SET, "departments[0].name", "\"Tax\\u001b]0;pwned\\u0007\""},
     GOV_EGENESIS,
     "departments[0].name: contains control or bidirectional-override characters"},
    {{SET, "departments[0].name", "\"Tax \\u202eevil\""},
     GOV_EGENESIS,
     "departments[0].name: contains control or bidirectional-override characters"},
    {{SET, "departments[0].name", "\"Tax\\u0085\""},
     GOV_EGENESIS,
     "departments[0].name: contains control or bidirectional-override characters"},
    {{SET, "departments[0].roles", "[]"},
     GOV_EGENESIS,
     "departments[0].roles: 0 roles, at least 1 is required"},
    {{SET, "departments[0].roles", "\"issuer\""},
     GOV_EGENESIS,
     "departments[0].roles: expected an array of roles"},
    {{SET, "departments[0].roles[1]", "\"admin\""},
     GOV_EGENESIS,
     "departments[0].roles[1]: unknown role \"admin\" (expected issuer, endorser or "
     "regulator)"},
    {{SET, "departments[0].roles[1]", "\"issuer\""},
     GOV_EGENESIS,
     "departments[0].roles[1]: duplicate role \"issuer\""},
    {{SET, "departments[0].roles[1]", "2"},
     GOV_EGENESIS,
     "departments[0].roles[1]: expected a string, found 2"},
    {{SET, "departments[4].issues", "[\"business-licence\"]"},
     GOV_EGENESIS,
     "departments[4].issues: department \"audit-office\" lists documents to issue but lacks "
     "the issuer role"},
    {{SET, "departments[1].roles", "[\"endorser\"]"},
     GOV_EGENESIS,
     "departments[1].issues: department \"tax\" lists documents to issue but lacks the "
     "issuer role"},
    {{DELETE, "departments[0].issues", NULL},
     GOV_EGENESIS,
     "departments[0].issues: department \"market-regulation\" has the issuer role but "
     "issues no document type"},
    {{SET, "departments[0].issues", "[]"},
     GOV_EGENESIS,
     "departments[0].issues: department \"market-regulation\" has the issuer role"},
    {{SET, "departments[0].issues", "null"},
     GOV_EGENESIS,
     "departments[0].issues: expected an array of document types, found null"},
    {{SET, "departments[0].issues[0]", "\"driving-licence\""},
     GOV_EGENESIS,
     "departments[0].issues[0]: unknown document type \"driving-licence\" (not in "
     "doc_types)"},
    {{SET, "departments[3].issues[1]", "\"construction-permit\""},
     GOV_EGENESIS,
     "departments[3].issues[1]: duplicate document type \"construction-permit\""},
    {{RESIZE, "departments[0].issues", "65"},
     GOV_EGENESIS,
     "departments[0].issues: 65 document types, at most 64 are allowed"},
    {{SET, "departments[0].keys", "[]"},
     GOV_EGENESIS,
     "departments[0].keys: 0 keys, at least 1 is required"},
    {{RESIZE, "departments[0].keys", "9"},
     GOV_EGENESIS,
     "departments[0].keys: 9 keys, at most 8 are allowed"},
    {{SET, "departments[0].keys[0]", "\"04abc\""},
     GOV_EGENESIS,
     "departments[0].keys[0]: not a valid p256-sha256 public key (expected 130 hex digits "
     "of an uncompressed curve point)"},
    {{SET, "departments[0].keys[0]", "\"zz" ZEROS_64 ZEROS_64 "\""},
     GOV_EGENESIS,
     "departments[0].keys[0]: not a valid p256-sha256 public key (expected 130 hex digits"},
    {{SET, "departments[0].keys[0]", "\"04" ZEROS_64 ZEROS_64 "\""},
     GOV_EGENESIS,
     "departments[0].keys[0]: not a valid p256-sha256 public key (the 130 hex digits are "
     "not an uncompressed point"},
    {{FLIP, "departments[0].keys[1]", NULL},
     GOV_EGENESIS,
     "departments[0].keys[1]: not a valid p256-sha256 public key (the 130 hex digits"},
    {{SET, "departments[0].keys[0]", "{}"},
     GOV_EGENESIS,
     "departments[0].keys[0]: expected a string, found an object"},
    {{COPY, "departments[0].keys[1]", "departments[0].keys[0]"},
     GOV_EGENESIS,
     "departments[0].keys[1]: key already used by departments[0].keys[0]"},
    {{COPY, "departments[2].keys[0]", "departments[0].keys[1]"},
     GOV_EGENESIS,
     "departments[2].keys[0]: key already used by departments[0].keys[1]"},
    {{COPY_UPPER, "departments[1].keys[0]", "departments[0].keys[0]"},
     GOV_EGENESIS,
     "departments[1].keys[0]: key already used by departments[0].keys[0]"},
    /* Document types and recognition agreements. */
    {{SET, "doc_types", "{}"}, GOV_EGENESIS, "doc_types: expected an array"},
    {{RESIZE, "doc_types", "257"},
     GOV_EGENESIS,
     "doc_types: 257 document types, at most 256 are allowed"},
    {{SET, "doc_types[0]", "[]"}, GOV_EGENESIS, "doc_types[0]: expected an object"},
    {{SET, "doc_types[0].id", "\"Business Licence\""},
     GOV_EGENESIS,
     "doc_types[0].id: invalid id \"Business Licence\""},
    {{COPY, "doc_types[2].id", "doc_types[0].id"},
     GOV_EGENESIS,
     "doc_types[2].id: duplicate document type id \"business-licence\" (already "
     "doc_types[0])"},
    {{SET, "doc_types[0].class", "\"licence\""},
     GOV_EGENESIS,
     "doc_types[0].class: unknown class \"licence\" (expected certificate or approval)"},
    {{DELETE, "doc_types[0].recognised_by", NULL},
     GOV_EGENESIS,
     "doc_types[0]: missing field \"recognised_by\""},
    {{SET, "doc_types[0].recognised_by[0]", "\"customs\""},
     GOV_EGENESIS,
     "doc_types[0].recognised_by[0]: unknown department \"customs\""},
    {{SET, "doc_types[0].recognised_by[1]", "\"audit-office\""},
     GOV_EGENESIS,
     "doc_types[0].recognised_by[1]: department \"audit-office\" lacks the endorser role"},
    {{SET, "doc_types[0].recognised_by[1]", "\"tax\""},
     GOV_EGENESIS,
     "doc_types[0].recognised_by[1]: duplicate department \"tax\""},
    {{RESIZE, "doc_types[0].recognised_by", "65"},
     GOV_EGENESIS,
     "doc_types[0].recognised_by: 65 department ids, at most 64 are allowed"},
    {{SET, "doc_types[0].endorsements_required", "4"},
     GOV_EGENESIS,
     "doc_types[0].endorsements_required: 4 is more than the 3 departments in recognised_by"},
    {{SET, "doc_types[0].endorsements_required", "0"},
     GOV_EGENESIS,
     "doc_types[0].endorsements_required: must be at least 1 when recognised_by is not "
     "empty"},
    {{SET, "doc_types[4].endorsements_required", "1"},
     GOV_EGENESIS,
     "doc_types[4].endorsements_required: 1 is more than the 0 departments"},
    {{SET, "doc_types[1].endorsements_required", "-1"},
     GOV_EGENESIS,
     "doc_types[1].endorsements_required: expected a non-negative integer"},
    {{APPEND, "doc_types",
      "{\"id\": \"marriage-certificate\", \"class\": \"certificate\", "
      "\"recognised_by\": [], \"endorsements_required\": 0}"},
     GOV_EGENESIS,
     "doc_types[5]: no department issues \"marriage-certificate\""},
    /* Validators. */
    {{SET, "validators", "{}"}, GOV_EGENESIS, "validators: expected an array"},
    {{RESIZE, "validators", "3"},
     GOV_EGENESIS,
     "validators: 3 validators, at least 4 are required"},
    {{RESIZE, "validators", "65"},
     GOV_EGENESIS,
     "validators: 65 validators, at most 64 are allowed"},
    {{SET, "validators[1]", "null"}, GOV_EGENESIS, "validators[1]: expected an object"},
    {{SET, "validators[0].node", "\"n1\""}, GOV_EGENESIS, "validators[0]: unknown field \"node\""},
    {{DELETE, "validators[0].public_key", NULL},
     GOV_EGENESIS,
     "validators[0]: missing field \"public_key\""},
    {{SET, "validators[0].department", "\"customs\""},
     GOV_EGENESIS,
     "validators[0].department: unknown department \"customs\""},
    {{SET, "validators[0].public_key", "\"xyz\""},
     GOV_EGENESIS,
     "validators[0].public_key: not a valid p256-sha256 public key (expected 130 hex digits"},
    {{FLIP, "validators[3].public_key", NULL},
     GOV_EGENESIS,
     "validators[3].public_key: not a valid p256-sha256 public key (the 130 hex digits"},
    {{COPY, "validators[1].public_key", "validators[0].public_key"},
     GOV_EGENESIS,
     "validators[1].public_key: key already used by validators[0]"},
    {{COPY, "validators[2].public_key", "departments[2].keys[0]"},
     GOV_EGENESIS,
     "validators[2].public_key: key already used by departments[2].keys[0] (a validator "
     "needs a node key of its own"},
    {{COPY_UPPER, "validators[3].public_key", "departments[0].keys[1]"},
     GOV_EGENESIS,
     "validators[3].public_key: key already used by departments[0].keys[1]"},
};

static void test_rejections(void **state)
{
    (void)state;
    json_t *base = load_example();
    size_t count = sizeof(rejections) / sizeof(rejections[0]);
    for (size_t i = 0; i < count; i++) {
        const rejection *row = &rejections[i];
        json_t *root = json_deep_copy(base);
        apply(root, &row->change);
        gov_genesis *genesis = NULL;
        char why[WHY_LEN];
        int rc = parse_json(root, JSON_COMPACT, &genesis, why);
        json_decref(root);
        if (rc != row->code || strstr(why, row->expected) == NULL) {
            gov_genesis_free(genesis);
            fail_msg("row %zu (%s): expected %s with \"%s\"; got %s with \"%s\"", i,
                     row->change.path, gov_strerror(row->code), row->expected, gov_strerror(rc),
                     why);
        }
    }
    json_decref(base);
}

/* Input that is not a genesis object at all. */
typedef struct {
    const char *text;
    int code;
    const char *expected;
} raw_rejection;

static const raw_rejection raw_rejections[] = {
    {"", GOV_EJSON, "line 1, column 0"},
    {"genesis", GOV_EJSON, "line 1, column 7: '[' or '{' expected"},
    {"{\n  \"version\": 1,\n  oops\n}", GOV_EJSON, "line 3, column"},
    {"{\"version\": 1", GOV_EJSON, "line 1"},
    {"{\"version\": 1} {}", GOV_EJSON, "end of file expected"},
    {"{\"version\": 1, \"version\": 1}", GOV_EJSON, "duplicate object key"},
    {"{\"//\": 1, \"//\": 2}", GOV_EJSON, "duplicate object key"},
    {"{\"version\": \"\\u0000\"}", GOV_EJSON, "JSON_ALLOW_NUL"},
    {"{\"version\": \"\xff\"}", GOV_EJSON, "unable to decode byte 0xff"},
    {"{\"version\": 99999999999999999999}", GOV_EJSON, "too big"},
    {"[]", GOV_EGENESIS, "expected a JSON object at the top level, found an array"},
    {"{}", GOV_EGENESIS, "missing field \"version\""},
    {"{\"// only a comment\": []}", GOV_EGENESIS, "missing field \"version\""},
    {"{\"version\": 1, \"/\": 1}", GOV_EGENESIS, "unknown field \"/\""},
};

static void test_raw_rejections(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(raw_rejections) / sizeof(raw_rejections[0]); i++) {
        const raw_rejection *row = &raw_rejections[i];
        gov_genesis *genesis = NULL;
        char why[WHY_LEN];
        int rc = parse_text(row->text, strlen(row->text), &genesis, why);
        if (rc != row->code || strstr(why, row->expected) == NULL) {
            fail_msg("row %zu: expected %s with \"%s\"; got %s with \"%s\"", i,
                     gov_strerror(row->code), row->expected, gov_strerror(rc), why);
        }
    }
}

static void test_size_limit(void **state)
{
    (void)state;
    /* The example padded with spaces to exactly the limit is accepted; one byte more is
     * refused before it is parsed. */
    size_t example_len;
    char *example = test_read_file(EXAMPLE_PATH, &example_len);
    size_t len = GOV_GENESIS_JSON_BYTES_MAX + 1;
    char *text = malloc(len);
    assert_non_null(text);
    memset(text, ' ', len);
    memcpy(text, example, example_len);
    free(example);
    gov_genesis *genesis = NULL;
    char why[WHY_LEN];
    assert_int_equal(parse_text(text, len - 1, &genesis, why), 0);
    gov_genesis_free(genesis);
    assert_int_equal(parse_text(text, len, &genesis, why), GOV_ELIMIT);
    assert_non_null(strstr(why, "genesis is 1048577 bytes, at most 1048576 are allowed"));
    free(text);

    /* No detail buffer, no input. */
    assert_int_equal(gov_genesis_parse("[]", 2, &genesis, NULL, 0), GOV_EGENESIS);
    assert_null(genesis);
    assert_int_equal(gov_genesis_parse(NULL, 0, &genesis, why, sizeof(why)), GOV_EJSON);
    assert_int_equal(gov_genesis_parse(NULL, 1, &genesis, why, sizeof(why)), GOV_EINVAL);
    assert_int_equal(gov_genesis_parse("{}", 2, NULL, why, sizeof(why)), GOV_EINVAL);
    gov_genesis_free(NULL);
}

/* Values of every JSON type, each put in turn in the place of every value of the
 * example whose type differs: the rejection must name exactly that place. */
static const char *const wrong_values[] = {"null", "true", "1.5", "7", "\"text\"", "[]", "{}"};

static bool same_kind(const json_t *value, const json_t *other)
{
    if (json_is_boolean(value) && json_is_boolean(other)) {
        return true;
    }
    return json_typeof(value) == json_typeof(other);
}

static void check_wrong_types_at(json_t *root, const char *path)
{
    json_t *original = get_at(root, path);
    json_t *saved = json_incref(original);
    for (size_t i = 0; i < sizeof(wrong_values) / sizeof(wrong_values[0]); i++) {
        json_t *value = json_loads(wrong_values[i], JSON_DECODE_ANY, NULL);
        assert_non_null(value);
        if (same_kind(value, original)) {
            json_decref(value);
            continue;
        }
        set_at(root, path, value);
        gov_genesis *genesis = NULL;
        char why[WHY_LEN];
        char prefix[128];
        int rc = parse_json(root, JSON_COMPACT, &genesis, why);
        snprintf(prefix, sizeof(prefix), "%s: ", path);
        if (rc != GOV_EGENESIS || strncmp(why, prefix, strlen(prefix)) != 0) {
            gov_genesis_free(genesis);
            fail_msg("%s := %s: got %s with \"%s\"", path, wrong_values[i], gov_strerror(rc), why);
        }
    }
    set_at(root, path, saved);
}

/* Visits every value below value (at path), skipping comments. */
static size_t visit_values(json_t *root, json_t *value, const char *path)
{
    size_t visited = 0;
    char child[128];
    if (json_is_object(value)) {
        const char *key;
        json_t *member;
        json_object_foreach(value, key, member)
        {
            if (strncmp(key, "//", 2) != 0) {
                snprintf(child, sizeof(child), "%s%s%s", path, path[0] != '\0' ? "." : "", key);
                check_wrong_types_at(root, child);
                visited += 1 + visit_values(root, json_object_get(value, key), child);
            }
        }
    } else if (json_is_array(value)) {
        for (size_t i = 0; i < json_array_size(value); i++) {
            snprintf(child, sizeof(child), "%s[%zu]", path, i);
            check_wrong_types_at(root, child);
            visited += 1 + visit_values(root, json_array_get(value, i), child);
        }
    }
    return visited;
}

static void test_wrong_types_name_their_path(void **state)
{
    (void)state;
    json_t *root = load_example();
    size_t visited = visit_values(root, root, "");
    assert_true(visited > 80); /* guards the walker itself */
    json_decref(root);
}

/* Comment members are ignored wherever they are and whatever they hold. */
static void add_comments(json_t *value, size_t *counter)
{
    if (json_is_array(value)) {
        for (size_t i = 0; i < json_array_size(value); i++) {
            add_comments(json_array_get(value, i), counter);
        }
        return;
    }
    if (!json_is_object(value)) {
        return;
    }
    const char *key;
    json_t *member;
    json_object_foreach(value, key, member)
    {
        add_comments(member, counter);
    }
    char name[32];
    snprintf(name, sizeof(name), "//%zu", (*counter)++);
    json_object_set_new(value, name, json_pack("{s:[i,n,b],s:s}", "//", 1, 0, "x", "y"));
}

static void test_comments_anywhere(void **state)
{
    (void)state;
    json_t *root = load_example();
    gov_genesis *original = parse_valid(root);
    size_t counter = 0;
    add_comments(root, &counter);
    assert_true(counter > 10);
    gov_genesis *commented = parse_valid(root);
    assert_true(gov_hash_equal(&original->hash, &commented->hash));
    gov_genesis_free(commented);
    gov_genesis_free(original);
    json_decref(root);
}

/* Limits reached exactly are accepted. */
static const mutation boundaries[] = {
    {SET, "chain_name", "\" !\\\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ~\""},
    {SET, "genesis_time_ms", "0"},
    {SET, "consensus.view_timeout_ms", "100"},
    {SET, "consensus.view_timeout_max_ms", "2000"},
    {SET, "consensus.block_txs_max", "4096"},
    {SET, "consensus.block_bytes_max", "8192"},
    {SET, "consensus.block_bytes_max", "4194304"},
    {SET, "consensus.clock_skew_ms", "0"},
    {SET, "consensus.clock_skew_ms", "3600000"},
    {SET, "departments[4].id", "\"0.audit_office-of-guangxi-zhuang\""},
    {SET, "departments[0].name", "\"" ZEROS_64 ZEROS_64 "\""},
    {SET, "departments[0].name", "\"\xe5\xb8\x82\""},
    {SET, "departments[0].roles", "[\"regulator\", \"endorser\", \"issuer\"]"},
    {SET, "departments[0].issues", "[\"business-licence\", \"fire-safety-acceptance\"]"},
    {SET, "doc_types[0].endorsements_required", "3"},
    {SET, "doc_types[0].endorsements_required", "1"},
    {SET, "doc_types", "[]"},
};

static void test_boundaries_accepted(void **state)
{
    (void)state;
    json_t *base = load_example();
    for (size_t i = 0; i < sizeof(boundaries) / sizeof(boundaries[0]); i++) {
        json_t *root = json_deep_copy(base);
        apply(root, &boundaries[i]);
        if (strcmp(boundaries[i].path, "doc_types") == 0) {
            /* Without document types nobody may be an issuer. */
            json_t *departments = get_at(root, "departments");
            for (size_t k = 0; k < json_array_size(departments); k++) {
                json_t *department = json_array_get(departments, k);
                json_object_del(department, "issues");
                json_object_set_new(department, "roles", json_pack("[s]", "endorser"));
            }
        }
        gov_genesis_free(parse_valid(root));
        json_decref(root);
    }
    json_decref(base);
}

static void test_largest_sets_accepted(void **state)
{
    (void)state;
    json_t *root = load_example();
    resize_array(get_at(root, "validators"), GOV_VALIDATORS_MAX);
    for (size_t i = 0; i < GOV_VALIDATORS_MAX; i++) {
        char path[64];
        snprintf(path, sizeof(path), "validators[%zu].public_key", i);
        set_at(root, path, fresh_key_json(GOV_SUITE_P256_SHA256));
    }
    json_t *keys = get_at(root, "departments[4].keys");
    while (json_array_size(keys) < GOV_DEPARTMENT_KEYS_MAX) {
        json_array_append_new(keys, fresh_key_json(GOV_SUITE_P256_SHA256));
    }
    gov_genesis *genesis = parse_valid(root);
    assert_int_equal(genesis->validators_count, GOV_VALIDATORS_MAX);
    assert_int_equal(genesis->departments[4].keys_count, GOV_DEPARTMENT_KEYS_MAX);
    assert_non_null(genesis->departments[4].parsed_keys[GOV_DEPARTMENT_KEYS_MAX - 1]);
    assert_int_equal(gov_genesis_faults_tolerated(genesis), 21);
    assert_int_equal(gov_genesis_quorum(genesis), 43);
    gov_genesis_free(genesis);
    json_decref(root);
}

/* ---- Encoding ----------------------------------------------------------------------- */

static const msgpack_object *item(const msgpack_object *array, uint32_t index)
{
    assert_int_equal(array->type, MSGPACK_OBJECT_ARRAY);
    assert_true(index < array->via.array.size);
    return &array->via.array.ptr[index];
}

static void assert_str(const msgpack_object *object, const char *expected)
{
    assert_int_equal(object->type, MSGPACK_OBJECT_STR);
    assert_int_equal(object->via.str.size, strlen(expected));
    assert_memory_equal(object->via.str.ptr, expected, strlen(expected));
}

static void assert_uint(const msgpack_object *object, uint64_t expected)
{
    assert_int_equal(object->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    assert_int_equal(object->via.u64, expected);
}

static void assert_key(const msgpack_object *object, const uint8_t expected[GOV_PUBLIC_KEY_LEN])
{
    assert_int_equal(object->type, MSGPACK_OBJECT_BIN);
    assert_int_equal(object->via.bin.size, GOV_PUBLIC_KEY_LEN);
    assert_memory_equal(object->via.bin.ptr, expected, GOV_PUBLIC_KEY_LEN);
}

static void check_encoded_header(const msgpack_object *root)
{
    assert_int_equal(root->via.array.size, 8);
    assert_uint(item(root, 0), 1);
    assert_str(item(root, 1), "guangxi-demo");
    assert_uint(item(root, 2), GOV_SUITE_P256_SHA256);
    assert_uint(item(root, 3), 1767225600000ULL);
    const msgpack_object *consensus = item(root, 4);
    assert_int_equal(consensus->via.array.size, 5);
    assert_uint(item(consensus, 0), 2000);
    assert_uint(item(consensus, 1), 60000);
    assert_uint(item(consensus, 2), 1000);
    assert_uint(item(consensus, 3), 2097152);
    assert_uint(item(consensus, 4), 10000);
}

static void check_encoded_lists(const msgpack_object *root, const gov_genesis *genesis)
{
    const msgpack_object *departments = item(root, 5);
    assert_int_equal(departments->via.array.size, 5);
    const msgpack_object *market = item(departments, 0);
    assert_int_equal(market->via.array.size, 5);
    assert_str(item(market, 0), "market-regulation");
    assert_str(item(market, 1), genesis->departments[0].name);
    assert_uint(item(market, 2), GOV_ROLE_ISSUER | GOV_ROLE_ENDORSER);
    assert_int_equal(item(market, 3)->via.array.size, 1);
    assert_str(item(item(market, 3), 0), "business-licence");
    assert_int_equal(item(market, 4)->via.array.size, 2);
    assert_key(item(item(market, 4), 1), genesis->departments[0].keys[1]);
    assert_uint(item(item(departments, 4), 2), GOV_ROLE_REGULATOR);
    assert_int_equal(item(item(departments, 4), 3)->via.array.size, 0);

    const msgpack_object *doc_types = item(root, 6);
    assert_int_equal(doc_types->via.array.size, 5);
    const msgpack_object *licence = item(doc_types, 0);
    assert_int_equal(licence->via.array.size, 4);
    assert_str(item(licence, 0), "business-licence");
    assert_uint(item(licence, 1), GOV_DOC_CLASS_CERTIFICATE);
    assert_int_equal(item(licence, 2)->via.array.size, 3);
    assert_str(item(item(licence, 2), 1), "public-security");
    assert_uint(item(licence, 3), 2);
    assert_uint(item(item(doc_types, 4), 1), GOV_DOC_CLASS_APPROVAL);

    const msgpack_object *validators = item(root, 7);
    assert_int_equal(validators->via.array.size, 4);
    assert_int_equal(item(validators, 3)->via.array.size, 2);
    assert_str(item(item(validators, 3), 0), "housing-construction");
    assert_key(item(item(validators, 3), 1), genesis->validators[3].public_key);
}

static void test_encoding_shape_and_hash(void **state)
{
    (void)state;
    json_t *root = load_example();
    gov_genesis *genesis = parse_valid(root);
    json_decref(root);
    uint8_t *encoding = NULL;
    size_t len = 0;
    assert_int_equal(gov_genesis_encode(genesis, &encoding, &len), 0);
    assert_int_equal(encoding[0], 0x98); /* fixarray of 8 */

    msgpack_unpacked unpacked;
    msgpack_unpacked_init(&unpacked);
    size_t offset = 0;
    assert_int_equal(msgpack_unpack_next(&unpacked, (const char *)encoding, len, &offset),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(offset, len);
    check_encoded_header(&unpacked.data);
    check_encoded_lists(&unpacked.data, genesis);

    gov_hash hash;
    gov_hash_bytes(GOV_SUITE_P256_SHA256, encoding, len, &hash);
    assert_true(gov_hash_equal(&hash, &genesis->hash));

    /* msgpack-c packs every value in its shortest form, the canonical one: re-packing
     * the decoded encoding must give it back byte for byte. */
    msgpack_sbuffer repacked;
    msgpack_sbuffer_init(&repacked);
    msgpack_packer packer;
    msgpack_packer_init(&packer, &repacked, msgpack_sbuffer_write);
    msgpack_pack_object(&packer, unpacked.data);
    assert_int_equal(repacked.size, len);
    assert_memory_equal(repacked.data, encoding, len);
    msgpack_sbuffer_destroy(&repacked);

    /* The validator-set hash covers element 7 alone, byte for byte. */
    msgpack_sbuffer validators;
    msgpack_sbuffer_init(&validators);
    msgpack_packer_init(&packer, &validators, msgpack_sbuffer_write);
    msgpack_pack_object(&packer, *item(&unpacked.data, 7));
    gov_hash_bytes(GOV_SUITE_P256_SHA256, validators.data, validators.size, &hash);
    assert_true(gov_hash_equal(&hash, &genesis->validators_hash));
    assert_int_equal(memcmp(encoding + len - validators.size, validators.data, validators.size), 0);

    msgpack_sbuffer_destroy(&validators);
    msgpack_unpacked_destroy(&unpacked);
    free(encoding);
    gov_genesis_free(genesis);
}

static void test_sm2_sm3_genesis(void **state)
{
    (void)state;
    json_t *root = load_example();
    set_at(root, "suite", json_string("sm2-sm3"));
    static const char *const key_paths[] = {
        "departments[0].keys[0]",   "departments[0].keys[1]",   "departments[1].keys[0]",
        "departments[2].keys[0]",   "departments[3].keys[0]",   "departments[4].keys[0]",
        "validators[0].public_key", "validators[1].public_key", "validators[2].public_key",
        "validators[3].public_key",
    };
    for (size_t i = 0; i < sizeof(key_paths) / sizeof(key_paths[0]); i++) {
        set_at(root, key_paths[i], fresh_key_json(GOV_SUITE_SM2_SM3));
    }
    gov_genesis *genesis = parse_valid(root);
    assert_int_equal(genesis->suite, GOV_SUITE_SM2_SM3);
    assert_int_equal(gov_public_key_suite(genesis->validators[0].parsed_key), GOV_SUITE_SM2_SM3);
    assert_int_equal(gov_public_key_suite(genesis->departments[0].parsed_keys[1]),
                     GOV_SUITE_SM2_SM3);

    uint8_t *encoding = NULL;
    size_t len = 0;
    assert_int_equal(gov_genesis_encode(genesis, &encoding, &len), 0);
    gov_hash sm3;
    gov_hash sha256;
    gov_hash_bytes(GOV_SUITE_SM2_SM3, encoding, len, &sm3);
    gov_hash_bytes(GOV_SUITE_P256_SHA256, encoding, len, &sha256);
    assert_true(gov_hash_equal(&sm3, &genesis->hash));
    assert_false(gov_hash_equal(&sha256, &genesis->hash));
    free(encoding);
    gov_genesis_free(genesis);

    /* A P-256 key in an SM2 genesis is not a point of the SM2 curve. */
    set_at(root, "validators[2].public_key", fresh_key_json(GOV_SUITE_P256_SHA256));
    char why[WHY_LEN];
    assert_int_equal(parse_json(root, JSON_COMPACT, &genesis, why), GOV_EGENESIS);
    assert_non_null(strstr(why, "validators[2].public_key: not a valid sm2-sm3 public key"));
    json_decref(root);
}

/* ---- Quorum, names, ids ------------------------------------------------------------------ */

static void test_quorum(void **state)
{
    (void)state;
    static const struct {
        uint32_t n, f, q;
    } expected[] = {{4, 1, 3}, {5, 1, 4},  {6, 1, 4},  {7, 2, 5},   {8, 2, 6},
                    {9, 2, 6}, {10, 3, 7}, {13, 4, 9}, {64, 21, 43}};
    gov_genesis genesis;
    memset(&genesis, 0, sizeof(genesis));
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        genesis.validators_count = expected[i].n;
        assert_int_equal(gov_genesis_faults_tolerated(&genesis), expected[i].f);
        assert_int_equal(gov_genesis_quorum(&genesis), expected[i].q);
    }
    /* For every allowed n: two quorums share a correct replica, and the correct
     * replicas alone make a quorum. */
    for (uint32_t n = GOV_VALIDATORS_MIN; n <= GOV_VALIDATORS_MAX; n++) {
        genesis.validators_count = n;
        uint32_t f = gov_genesis_faults_tolerated(&genesis);
        uint32_t q = gov_genesis_quorum(&genesis);
        assert_true(n >= 3 * f + 1);
        assert_true(n < 3 * (f + 1) + 1);
        assert_true(2 * q >= n + f + 1);
        assert_true(q <= n - f);
        if (n == 3 * f + 1) {
            assert_int_equal(q, 2 * f + 1);
        }
    }
}

static void test_names(void **state)
{
    (void)state;
    static const gov_role roles[] = {GOV_ROLE_ISSUER, GOV_ROLE_ENDORSER, GOV_ROLE_REGULATOR};
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        gov_role parsed;
        assert_non_null(gov_role_name(roles[i]));
        assert_int_equal(gov_role_parse(gov_role_name(roles[i]), &parsed), 0);
        assert_int_equal(parsed, roles[i]);
    }
    gov_role role;
    assert_string_equal(gov_role_name(GOV_ROLE_ENDORSER), "endorser");
    assert_null(gov_role_name((gov_role)0));
    assert_null(gov_role_name((gov_role)(GOV_ROLE_ISSUER | GOV_ROLE_ENDORSER)));
    assert_int_equal(gov_role_parse("Issuer", &role), -1);
    assert_int_equal(gov_role_parse("", &role), -1);

    gov_doc_class doc_class;
    assert_string_equal(gov_doc_class_name(GOV_DOC_CLASS_CERTIFICATE), "certificate");
    assert_string_equal(gov_doc_class_name(GOV_DOC_CLASS_APPROVAL), "approval");
    assert_null(gov_doc_class_name((gov_doc_class)0));
    assert_null(gov_doc_class_name((gov_doc_class)3));
    assert_int_equal(gov_doc_class_parse("approval", &doc_class), 0);
    assert_int_equal(doc_class, GOV_DOC_CLASS_APPROVAL);
    assert_int_equal(gov_doc_class_parse("certificate", &doc_class), 0);
    assert_int_equal(doc_class, GOV_DOC_CLASS_CERTIFICATE);
    assert_int_equal(gov_doc_class_parse("licence", &doc_class), -1);
}

static void test_id_valid(void **state)
{
    (void)state;
    static const char *const valid[] = {
        "a",
        "0",
        "tax",
        "market-regulation",
        "a.b_c-d",
        "9lives",
        "a-",
        "a..",
        "abcdefghijklmnopqrstuvwxyz012345",
    };
    static const char *const invalid[] = {
        "",
        "-a",
        ".a",
        "_a",
        "Tax",
        "a b",
        "a/b",
        "a:b",
        "\xc3\xa9",
        "a\n",
        "abcdefghijklmnopqrstuvwxyz0123456",
    };
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        if (!gov_id_valid(valid[i], strlen(valid[i]))) {
            fail_msg("\"%s\" should be a valid id", valid[i]);
        }
    }
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        if (gov_id_valid(invalid[i], strlen(invalid[i]))) {
            fail_msg("\"%s\" should not be a valid id", invalid[i]);
        }
    }
    assert_false(gov_id_valid("ta\0x", 4)); /* the length, not the NUL, decides */
    assert_true(gov_id_valid("tax-office", 3));
    assert_false(gov_id_valid(NULL, 0));
}

/* ---- Robustness ----------------------------------------------------------------------- */

/* xorshift64*, as test_util's, kept here so that this file's sequence of corruptions
 * depends only on the seed. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dULL;
}

/* Corrupted and truncated copies of the example: any result is fine except a crash,
 * a leak (the sanitizer build) or a failure without a reason. */
static void test_corrupted_input(void **state)
{
    (void)state;
    size_t len;
    char *example = test_read_file(EXAMPLE_PATH, &len);
    char *copy = malloc(len);
    assert_non_null(copy);
    uint64_t random = test_seed();
    static const char noise[] = "{}[]\",:0123456789-.eE/\\ \nabcdefu";
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, example, len);
        size_t used = len;
        int edits = 1 + (int)(next_random(&random) % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = (size_t)(next_random(&random) % used);
            uint64_t how = next_random(&random);
            if (how % 3 == 0) {
                copy[at] = noise[(how >> 8) % (sizeof(noise) - 1)];
            } else if (how % 3 == 1) {
                copy[at] = (char)(how >> 16);
            } else {
                used = at;
            }
            if (used == 0) {
                break;
            }
        }
        gov_genesis *genesis = NULL;
        char why[WHY_LEN];
        if (parse_text(copy, used, &genesis, why) == 0) {
            gov_genesis_free(genesis);
        }
    }
    free(copy);
    free(example);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_parses),
        cmocka_unit_test(test_example_lookups),
        cmocka_unit_test(test_example_hash_is_stable),
        cmocka_unit_test(test_hash_changes_with_content),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_raw_rejections),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_wrong_types_name_their_path),
        cmocka_unit_test(test_comments_anywhere),
        cmocka_unit_test(test_boundaries_accepted),
        cmocka_unit_test(test_largest_sets_accepted),
        cmocka_unit_test(test_encoding_shape_and_hash),
        cmocka_unit_test(test_sm2_sm3_genesis),
        cmocka_unit_test(test_quorum),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_id_valid),
        cmocka_unit_test(test_corrupted_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
