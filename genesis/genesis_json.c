/*
 * Genesis JSON: parsing and validation (the format is genesis/examples/README.md).
 *
 * The input is untrusted (an operator's file, or a fuzzer's bytes), so every value's
 * JSON type is checked before it is read, every array's length is bounded before
 * anything is allocated for it, and the first broken rule is reported with the JSON
 * path of the value that breaks it. Whatever fails, everything allocated so far is
 * released by gov_genesis_free(), which copes with a half-filled genesis.
 *
 * Departments and document types refer to each other (a department lists the document
 * types it issues; a document type lists the departments that recognise it), so the
 * sections are read in this order:
 *   1. version, chain_name, suite, genesis_time_ms and consensus;
 *   2. departments without their "issues" (ids, names, roles, keys);
 *   3. doc_types, whose recognisers must be departments with the endorser role;
 *   4. every department's "issues", which must name document types from step 3;
 *   5. that every document type is issued by some department;
 *   6. validators.
 * Keys are compared as decoded bytes, so the same point written in upper and lower
 * case hex counts as one key. jansson, loaded without JSON_ALLOW_NUL, refuses strings
 * holding U+0000, so a string's C length is its JSON length and strcmp() is exact.
 */
#include "genesis/genesis_internal.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "govchain/canon.h"
#include "govchain/error.h"

enum {
    PATH_LEN = 64,                      /* "doc_types[255].recognised_by[63]" and the like */
    SHOW_CHARS_MAX = 40,                /* untrusted text quoted in a message is cut after this */
    SHOW_LEN = 4 * SHOW_CHARS_MAX + 32, /* escapes, quotes, "..." and a describe() prefix */
    DETAIL_LEN = 512,
};

typedef struct {
    gov_genesis *genesis;
    char *why;
    size_t why_len;
} parser;

typedef struct {
    const char *name;
    bool required;
} field;

typedef struct {
    char text[SHOW_LEN];
} shown;

/* Reports a broken rule as "path: detail" (only "detail" at the top level). */
__attribute__((format(printf, 3, 4))) static int reject(parser *p, const char *path,
                                                        const char *format, ...)
{
    char detail[DETAIL_LEN];
    va_list args;
    va_start(args, format);
    vsnprintf(detail, sizeof(detail), format, args);
    va_end(args);
    if (path[0] == '\0') {
        return gov_fail(p->why, p->why_len, GOV_EGENESIS, "%s", detail);
    }
    return gov_fail(p->why, p->why_len, GOV_EGENESIS, "%s: %s", path, detail);
}

static int out_of_memory(parser *p)
{
    return gov_fail(p->why, p->why_len, GOV_ENOMEM, "out of memory while reading genesis");
}

/* Quotes untrusted text for a message: quotes, backslashes and every byte outside
 * printable ASCII are escaped and long text is cut, so that a message stays one short
 * readable line whatever the input holds. */
static shown show(const char *text, size_t len)
{
    shown out;
    size_t used = 0;
    out.text[used++] = '"';
    for (size_t i = 0; i < len && i < SHOW_CHARS_MAX; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x20 && c <= 0x7e && c != '"' && c != '\\') {
            out.text[used++] = (char)c;
        } else {
            used += (size_t)snprintf(out.text + used, sizeof(out.text) - used, "\\x%02x", c);
        }
    }
    out.text[used++] = '"';
    if (len > SHOW_CHARS_MAX) {
        memcpy(out.text + used, "...", 3);
        used += 3;
    }
    out.text[used] = '\0';
    return out;
}

static shown show_string(const json_t *string)
{
    return show(json_string_value(string), json_string_length(string));
}

/* What a value is, for "expected ..., found ..." messages. */
static shown describe(const json_t *value)
{
    shown out;
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        snprintf(out.text, sizeof(out.text), "an object");
        break;
    case JSON_ARRAY:
        snprintf(out.text, sizeof(out.text), "an array");
        break;
    case JSON_STRING:
        /* show() writes at most 4 * SHOW_CHARS_MAX + 6 bytes, so the prefix fits. */
        if (snprintf(out.text, sizeof(out.text), "the string %s", show_string(value).text) >=
            (int)sizeof(out.text)) {
            out.text[sizeof(out.text) - 1] = '\0';
        }
        break;
    case JSON_INTEGER:
        snprintf(out.text, sizeof(out.text), "%lld", (long long)json_integer_value(value));
        break;
    case JSON_REAL:
        snprintf(out.text, sizeof(out.text), "the number %g", json_real_value(value));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
    case JSON_NULL:
    default:
        snprintf(out.text, sizeof(out.text), "%s",
                 json_is_true(value)    ? "true"
                 : json_is_false(value) ? "false"
                                        : "null");
        break;
    }
    return out;
}

/* The longest path, "doc_types[255].recognised_by[63]", fits PATH_LEN; a path cut
 * short would still be a terminated string, so the result of snprintf needs no check
 * beyond telling the compiler that truncation was considered. */
static void path_member(char out[PATH_LEN], const char *path, const char *name)
{
    if (snprintf(out, PATH_LEN, path[0] == '\0' ? "%s%s" : "%s.%s", path, name) >= PATH_LEN) {
        out[PATH_LEN - 1] = '\0';
    }
}

static void path_index(char out[PATH_LEN], const char *path, size_t index)
{
    if (snprintf(out, PATH_LEN, "%s[%zu]", path, index) >= PATH_LEN) {
        out[PATH_LEN - 1] = '\0';
    }
}

/* Rejects members that are neither listed nor comments, then missing required ones. */
static int check_fields(parser *p, const json_t *object, const char *path, const field *fields,
                        size_t fields_count)
{
    json_t *iterable = (json_t *)object; /* jansson's iterators take no const */
    for (void *it = json_object_iter(iterable); it != NULL;
         it = json_object_iter_next(iterable, it)) {
        const char *key = json_object_iter_key(it);
        size_t key_len = json_object_iter_key_len(it);
        if (key_len >= 2 && key[0] == '/' && key[1] == '/') {
            continue;
        }
        bool known = false;
        for (size_t i = 0; i < fields_count && !known; i++) {
            known = strlen(fields[i].name) == key_len && memcmp(fields[i].name, key, key_len) == 0;
        }
        if (!known) {
            return reject(p, path, "unknown field %s", show(key, key_len).text);
        }
    }
    for (size_t i = 0; i < fields_count; i++) {
        if (fields[i].required && json_object_get(object, fields[i].name) == NULL) {
            return reject(p, path, "missing field \"%s\"", fields[i].name);
        }
    }
    return 0;
}

static int read_object(parser *p, const json_t *value, const char *path, const field *fields,
                       size_t fields_count)
{
    if (!json_is_object(value)) {
        return reject(p, path, "expected an object, found %s", describe(value).text);
    }
    return check_fields(p, value, path, fields, fields_count);
}

static int read_uint(parser *p, const json_t *value, const char *path, uint64_t min, uint64_t max,
                     uint64_t *out)
{
    if (!json_is_integer(value) || json_integer_value(value) < 0) {
        return reject(p, path, "expected a non-negative integer, found %s", describe(value).text);
    }
    uint64_t number = (uint64_t)json_integer_value(value);
    if (number < min || number > max) {
        return reject(p, path, "%llu is out of range (expected %llu to %llu)",
                      (unsigned long long)number, (unsigned long long)min, (unsigned long long)max);
    }
    *out = number;
    return 0;
}

static int read_string(parser *p, const json_t *value, const char *path)
{
    if (!json_is_string(value)) {
        return reject(p, path, "expected a string, found %s", describe(value).text);
    }
    return 0;
}

/* An array of min..max elements; `one` and `many` name an element in messages. */
static int read_array(parser *p, const json_t *value, const char *path, size_t min, size_t max,
                      const char *one, const char *many, size_t *count)
{
    if (!json_is_array(value)) {
        return reject(p, path, "expected an array of %s, found %s", many, describe(value).text);
    }
    size_t size = json_array_size(value);
    if (size < min) {
        return reject(p, path, "%zu %s, at least %zu %s required", size, size == 1 ? one : many,
                      min, min == 1 ? "is" : "are");
    }
    if (size > max) {
        return reject(p, path, "%zu %s, at most %zu %s allowed", size, many, max,
                      max == 1 ? "is" : "are");
    }
    *count = size;
    return 0;
}

static int read_id(parser *p, const json_t *value, const char *path, char out[GOV_ID_LEN_MAX + 1])
{
    int rc = read_string(p, value, path);
    if (rc != 0) {
        return rc;
    }
    size_t len = json_string_length(value);
    if (!gov_id_valid(json_string_value(value), len)) {
        return reject(p, path,
                      "invalid id %s (expected 1 to %d characters of a-z, 0-9, '.', '_' "
                      "and '-', starting with a letter or a digit)",
                      show_string(value).text, GOV_ID_LEN_MAX);
    }
    memcpy(out, json_string_value(value), len);
    out[len] = '\0';
    return 0;
}

/* ---- Keys ------------------------------------------------------------------------ */

/* Where bytes already appear as a key, written into where[]; false when nowhere.
 * Departments' key counts grow as keys are read, and a validator's parsed_key is set
 * only once its key is read, so only keys read so far are compared. */
static bool find_key(const gov_genesis *genesis, const uint8_t bytes[GOV_PUBLIC_KEY_LEN],
                     char where[PATH_LEN])
{
    for (uint32_t i = 0; i < genesis->departments_count; i++) {
        const gov_genesis_department *department = &genesis->departments[i];
        for (uint32_t k = 0; k < department->keys_count; k++) {
            if (memcmp(department->keys[k], bytes, GOV_PUBLIC_KEY_LEN) == 0) {
                snprintf(where, PATH_LEN, "departments[%u].keys[%u]", i, k);
                return true;
            }
        }
    }
    for (uint32_t i = 0; i < genesis->validators_count; i++) {
        const gov_genesis_validator *validator = &genesis->validators[i];
        if (validator->parsed_key != NULL &&
            memcmp(validator->public_key, bytes, GOV_PUBLIC_KEY_LEN) == 0) {
            snprintf(where, PATH_LEN, "validators[%u]", i);
            return true;
        }
    }
    return false;
}

/* A public key of the genesis's suite as hex, not yet used anywhere in the genesis. */
static int read_key(parser *p, const json_t *value, const char *path,
                    uint8_t bytes[GOV_PUBLIC_KEY_LEN], gov_public_key **parsed)
{
    int rc = read_string(p, value, path);
    if (rc != 0) {
        return rc;
    }
    const char *suite = gov_suite_name(p->genesis->suite);
    if (json_string_length(value) != GOV_PUBLIC_KEY_HEX_LEN ||
        gov_hex_decode(json_string_value(value), bytes, GOV_PUBLIC_KEY_LEN) != 0) {
        return reject(p, path,
                      "not a valid %s public key (expected %d hex digits of an uncompressed "
                      "curve point)",
                      suite, GOV_PUBLIC_KEY_HEX_LEN);
    }
    /* Checked before the key is parsed: find_key() takes a set parsed_key to mean a
     * validator's key has been read, and must not find the key being read. */
    char where[PATH_LEN];
    if (find_key(p->genesis, bytes, where)) {
        bool validator_reuses_department_key =
            strncmp(path, "validators", 10) == 0 && strncmp(where, "departments", 11) == 0;
        return reject(p, path, "key already used by %s%s", where,
                      validator_reuses_department_key
                          ? " (a validator needs a node key of its own, not a department's "
                            "signing key)"
                          : "");
    }
    rc = gov_public_key_parse(p->genesis->suite, bytes, parsed);
    if (rc == GOV_EBADKEY) {
        return reject(p, path,
                      "not a valid %s public key (the %d hex digits are not an uncompressed "
                      "point of the suite's curve)",
                      suite, GOV_PUBLIC_KEY_HEX_LEN);
    }
    if (rc != 0) {
        /* Out of memory or a library failure: not the genesis's fault, so not
         * GOV_EGENESIS. */
        return gov_fail(p->why, p->why_len, rc, "%s: cannot load the public key: %s", path,
                        gov_strerror(rc));
    }
    return 0;
}

/* ---- Header and consensus ------------------------------------------------------- */

static int read_chain_name(parser *p, const json_t *value)
{
    int rc = read_string(p, value, "chain_name");
    if (rc != 0) {
        return rc;
    }
    const char *text = json_string_value(value);
    size_t len = json_string_length(value);
    if (len == 0 || len > GOV_CHAIN_NAME_LEN_MAX) {
        return reject(p, "chain_name", "%zu bytes, expected 1 to %d printable ASCII characters",
                      len, GOV_CHAIN_NAME_LEN_MAX);
    }
    for (size_t i = 0; i < len; i++) {
        if (text[i] < 0x20 || text[i] > 0x7e) {
            return reject(p, "chain_name",
                          "byte %zu is not a printable ASCII character (0x20 to 0x7e)", i);
        }
    }
    memcpy(p->genesis->chain_name, text, len);
    p->genesis->chain_name[len] = '\0';
    return 0;
}

static int read_header(parser *p, const json_t *root)
{
    gov_genesis *genesis = p->genesis;
    uint64_t number;
    int rc = read_uint(p, json_object_get(root, "version"), "version", 0, UINT64_MAX, &number);
    if (rc != 0) {
        return rc;
    }
    if (number != GOV_GENESIS_VERSION) {
        return reject(p, "version", "unsupported version %llu (expected %d)",
                      (unsigned long long)number, GOV_GENESIS_VERSION);
    }
    genesis->version = GOV_GENESIS_VERSION;
    if ((rc = read_chain_name(p, json_object_get(root, "chain_name"))) != 0) {
        return rc;
    }
    const json_t *suite = json_object_get(root, "suite");
    if ((rc = read_string(p, suite, "suite")) != 0) {
        return rc;
    }
    if (gov_suite_parse(json_string_value(suite), &genesis->suite) != 0) {
        return reject(p, "suite", "unknown suite %s (expected p256-sha256 or sm2-sm3)",
                      show_string(suite).text);
    }
    return read_uint(p, json_object_get(root, "genesis_time_ms"), "genesis_time_ms", 0, UINT64_MAX,
                     &genesis->genesis_time_ms);
}

static int read_consensus(parser *p, const json_t *object)
{
    static const field fields[] = {
        {"view_timeout_ms", true}, {"view_timeout_max_ms", true}, {"block_txs_max", true},
        {"block_bytes_max", true}, {"clock_skew_ms", true},
    };
    gov_consensus_params *consensus = &p->genesis->consensus;
    uint64_t number;
    int rc = read_object(p, object, "consensus", fields, sizeof(fields) / sizeof(fields[0]));
    if (rc == 0) {
        rc = read_uint(p, json_object_get(object, "view_timeout_ms"), "consensus.view_timeout_ms",
                       GOV_VIEW_TIMEOUT_MIN_MS, GOV_VIEW_TIMEOUT_MAX_MS,
                       &consensus->view_timeout_ms);
    }
    if (rc == 0) {
        rc = read_uint(p, json_object_get(object, "view_timeout_max_ms"),
                       "consensus.view_timeout_max_ms", 0, GOV_VIEW_TIMEOUT_CAP_MAX_MS,
                       &consensus->view_timeout_max_ms);
    }
    if (rc == 0 && consensus->view_timeout_max_ms < consensus->view_timeout_ms) {
        return reject(p, "consensus.view_timeout_max_ms",
                      "%llu is less than view_timeout_ms (%llu)",
                      (unsigned long long)consensus->view_timeout_max_ms,
                      (unsigned long long)consensus->view_timeout_ms);
    }
    if (rc == 0) {
        rc = read_uint(p, json_object_get(object, "block_txs_max"), "consensus.block_txs_max", 1,
                       GOV_BLOCK_TXS_MAX, &number);
        consensus->block_txs_max = (uint32_t)number;
    }
    if (rc == 0) {
        rc = read_uint(p, json_object_get(object, "block_bytes_max"), "consensus.block_bytes_max",
                       GOV_TX_BYTES_MAX, GOV_BLOCK_BYTES_MAX, &number);
        consensus->block_bytes_max = (uint32_t)number;
    }
    if (rc == 0) {
        rc = read_uint(p, json_object_get(object, "clock_skew_ms"), "consensus.clock_skew_ms", 0,
                       GOV_CLOCK_SKEW_MAX_MS, &consensus->clock_skew_ms);
    }
    return rc;
}

/* ---- Departments (without "issues") --------------------------------------------- */

static int read_department_id(parser *p, const json_t *value, const char *path, uint32_t index)
{
    gov_genesis_department *department = &p->genesis->departments[index];
    int rc = read_id(p, value, path, department->id);
    if (rc != 0) {
        return rc;
    }
    for (uint32_t i = 0; i < index; i++) {
        if (strcmp(p->genesis->departments[i].id, department->id) == 0) {
            return reject(p, path, "duplicate department id \"%s\" (already departments[%u])",
                          department->id, i);
        }
    }
    return 0;
}

static int read_department_name(parser *p, const json_t *value, const char *path,
                                gov_genesis_department *department)
{
    int rc = read_string(p, value, path);
    if (rc != 0) {
        return rc;
    }
    size_t len = json_string_length(value);
    if (len == 0 || len > GOV_NAME_LEN_MAX) {
        return reject(p, path, "%zu bytes, expected 1 to %d bytes of UTF-8 text", len,
                      GOV_NAME_LEN_MAX);
    }
    /* Names are printed for people who review a genesis: no terminal escapes or
     * reordering characters may hide in them. */
    if (!gov_utf8_printable(json_string_value(value), len)) {
        return reject(p, path, "contains control or bidirectional-override characters");
    }
    memcpy(department->name, json_string_value(value), len);
    department->name[len] = '\0';
    return 0;
}

static int read_roles(parser *p, const json_t *array, const char *path, uint32_t *roles)
{
    size_t count;
    int rc = read_array(p, array, path, 1, SIZE_MAX, "role", "roles", &count);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        const json_t *value = json_array_get(array, i);
        char element[PATH_LEN];
        path_index(element, path, i);
        gov_role role;
        if ((rc = read_string(p, value, element)) != 0) {
            break;
        }
        if (gov_role_parse(json_string_value(value), &role) != 0) {
            return reject(p, element, "unknown role %s (expected issuer, endorser or regulator)",
                          show_string(value).text);
        }
        if ((*roles & (uint32_t)role) != 0) {
            return reject(p, element, "duplicate role \"%s\"", gov_role_name(role));
        }
        *roles |= (uint32_t)role;
    }
    return rc;
}

static int read_department_keys(parser *p, const json_t *array, const char *path,
                                gov_genesis_department *department)
{
    size_t count;
    int rc = read_array(p, array, path, 1, GOV_DEPARTMENT_KEYS_MAX, "key", "keys", &count);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        char element[PATH_LEN];
        path_index(element, path, i);
        rc = read_key(p, json_array_get(array, i), element, department->keys[i],
                      &department->parsed_keys[i]);
        if (rc == 0) {
            department->keys_count = (uint32_t)i + 1;
        }
    }
    return rc;
}

static int read_department(parser *p, const json_t *object, uint32_t index)
{
    static const field fields[] = {
        {"id", true}, {"name", true}, {"roles", true}, {"issues", false}, {"keys", true},
    };
    gov_genesis_department *department = &p->genesis->departments[index];
    char path[PATH_LEN];
    char member[PATH_LEN];
    path_index(path, "departments", index);
    int rc = read_object(p, object, path, fields, sizeof(fields) / sizeof(fields[0]));
    if (rc == 0) {
        path_member(member, path, "id");
        rc = read_department_id(p, json_object_get(object, "id"), member, index);
    }
    if (rc == 0) {
        path_member(member, path, "name");
        rc = read_department_name(p, json_object_get(object, "name"), member, department);
    }
    if (rc == 0) {
        path_member(member, path, "roles");
        rc = read_roles(p, json_object_get(object, "roles"), member, &department->roles);
    }
    if (rc == 0) {
        path_member(member, path, "keys");
        rc = read_department_keys(p, json_object_get(object, "keys"), member, department);
    }
    return rc;
}

static int read_departments(parser *p, const json_t *array)
{
    size_t count;
    int rc = read_array(p, array, "departments", 1, GOV_DEPARTMENTS_MAX, "department",
                        "departments", &count);
    if (rc != 0) {
        return rc;
    }
    p->genesis->departments = calloc(count, sizeof(gov_genesis_department));
    if (p->genesis->departments == NULL) {
        return out_of_memory(p);
    }
    p->genesis->departments_count = (uint32_t)count;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        rc = read_department(p, json_array_get(array, i), (uint32_t)i);
    }
    return rc;
}

/* ---- Document types --------------------------------------------------------------- */

static int read_recogniser(parser *p, const json_t *value, const char *path,
                           gov_genesis_doc_type *doc_type)
{
    int rc = read_string(p, value, path);
    if (rc != 0) {
        return rc;
    }
    int found = gov_genesis_department_index(p->genesis, json_string_value(value));
    if (found < 0) {
        return reject(p, path, "unknown department %s", show_string(value).text);
    }
    const gov_genesis_department *department = &p->genesis->departments[found];
    if ((department->roles & GOV_ROLE_ENDORSER) == 0) {
        return reject(p, path, "department \"%s\" lacks the endorser role", department->id);
    }
    for (uint32_t i = 0; i < doc_type->recognisers_count; i++) {
        if (doc_type->recognisers[i] == (uint32_t)found) {
            return reject(p, path, "duplicate department \"%s\"", department->id);
        }
    }
    doc_type->recognisers[doc_type->recognisers_count++] = (uint32_t)found;
    return 0;
}

static int read_recognition(parser *p, const json_t *object, const char *path,
                            gov_genesis_doc_type *doc_type)
{
    char member[PATH_LEN];
    size_t count;
    path_member(member, path, "recognised_by");
    const json_t *array = json_object_get(object, "recognised_by");
    int rc = read_array(p, array, member, 0, GOV_RECOGNISERS_MAX, "department id", "department ids",
                        &count);
    if (rc == 0 && count > 0) {
        doc_type->recognisers = calloc(count, sizeof(uint32_t));
        if (doc_type->recognisers == NULL) {
            return out_of_memory(p);
        }
    }
    for (size_t i = 0; rc == 0 && i < count; i++) {
        char element[PATH_LEN];
        path_index(element, member, i);
        rc = read_recogniser(p, json_array_get(array, i), element, doc_type);
    }
    if (rc != 0) {
        return rc;
    }
    uint64_t required;
    path_member(member, path, "endorsements_required");
    rc = read_uint(p, json_object_get(object, "endorsements_required"), member, 0, UINT32_MAX,
                   &required);
    if (rc == 0 && required > count) {
        return reject(p, member, "%llu is more than the %zu %s in recognised_by",
                      (unsigned long long)required, count,
                      count == 1 ? "department" : "departments");
    }
    if (rc == 0 && required == 0 && count > 0) {
        return reject(p, member, "must be at least 1 when recognised_by is not empty");
    }
    doc_type->endorsements_required = (uint32_t)required;
    return rc;
}

static int read_doc_type(parser *p, const json_t *object, uint32_t index)
{
    static const field fields[] = {
        {"id", true},
        {"class", true},
        {"recognised_by", true},
        {"endorsements_required", true},
    };
    gov_genesis_doc_type *doc_type = &p->genesis->doc_types[index];
    char path[PATH_LEN];
    char member[PATH_LEN];
    path_index(path, "doc_types", index);
    int rc = read_object(p, object, path, fields, sizeof(fields) / sizeof(fields[0]));
    path_member(member, path, "id");
    if (rc != 0 || (rc = read_id(p, json_object_get(object, "id"), member, doc_type->id)) != 0) {
        return rc;
    }
    for (uint32_t i = 0; i < index; i++) {
        if (strcmp(p->genesis->doc_types[i].id, doc_type->id) == 0) {
            return reject(p, member, "duplicate document type id \"%s\" (already doc_types[%u])",
                          doc_type->id, i);
        }
    }
    const json_t *class_value = json_object_get(object, "class");
    path_member(member, path, "class");
    if ((rc = read_string(p, class_value, member)) != 0) {
        return rc;
    }
    if (gov_doc_class_parse(json_string_value(class_value), &doc_type->doc_class) != 0) {
        return reject(p, member, "unknown class %s (expected certificate or approval)",
                      show_string(class_value).text);
    }
    return read_recognition(p, object, path, doc_type);
}

static int read_doc_types(parser *p, const json_t *array)
{
    size_t count;
    int rc = read_array(p, array, "doc_types", 0, GOV_DOC_TYPES_MAX, "document type",
                        "document types", &count);
    if (rc != 0 || count == 0) {
        return rc;
    }
    p->genesis->doc_types = calloc(count, sizeof(gov_genesis_doc_type));
    if (p->genesis->doc_types == NULL) {
        return out_of_memory(p);
    }
    p->genesis->doc_types_count = (uint32_t)count;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        rc = read_doc_type(p, json_array_get(array, i), (uint32_t)i);
    }
    return rc;
}

/* ---- What each department issues ------------------------------------------------ */

static int read_issued(parser *p, const json_t *value, const char *path,
                       gov_genesis_department *department)
{
    int rc = read_string(p, value, path);
    if (rc != 0) {
        return rc;
    }
    int found = gov_genesis_doc_type_index(p->genesis, json_string_value(value));
    if (found < 0) {
        return reject(p, path, "unknown document type %s (not in doc_types)",
                      show_string(value).text);
    }
    for (uint32_t i = 0; i < department->issues_count; i++) {
        if (department->issues[i] == (uint32_t)found) {
            return reject(p, path, "duplicate document type \"%s\"",
                          p->genesis->doc_types[found].id);
        }
    }
    department->issues[department->issues_count++] = (uint32_t)found;
    return 0;
}

static int read_issues(parser *p, const json_t *object, uint32_t index)
{
    gov_genesis_department *department = &p->genesis->departments[index];
    const json_t *array = json_object_get(object, "issues");
    char path[PATH_LEN];
    size_t count = 0;
    snprintf(path, sizeof(path), "departments[%u].issues", index);
    int rc = array == NULL ? 0
                           : read_array(p, array, path, 0, GOV_DEPARTMENT_DOC_TYPES_MAX,
                                        "document type", "document types", &count);
    if (rc != 0) {
        return rc;
    }
    bool issuer = (department->roles & GOV_ROLE_ISSUER) != 0;
    if (count > 0 && !issuer) {
        return reject(p, path,
                      "department \"%s\" lists documents to issue but lacks the "
                      "issuer role",
                      department->id);
    }
    if (count == 0 && issuer) {
        return reject(p, path,
                      "department \"%s\" has the issuer role but issues no document "
                      "type",
                      department->id);
    }
    if (count > 0) {
        department->issues = calloc(count, sizeof(uint32_t));
        if (department->issues == NULL) {
            return out_of_memory(p);
        }
    }
    for (size_t i = 0; rc == 0 && i < count; i++) {
        char element[PATH_LEN];
        path_index(element, path, i);
        rc = read_issued(p, json_array_get(array, i), element, department);
    }
    return rc;
}

static int check_doc_types_issued(parser *p)
{
    const gov_genesis *genesis = p->genesis;
    for (uint32_t t = 0; t < genesis->doc_types_count; t++) {
        bool issued = false;
        for (uint32_t i = 0; i < genesis->departments_count && !issued; i++) {
            const gov_genesis_department *department = &genesis->departments[i];
            for (uint32_t k = 0; k < department->issues_count && !issued; k++) {
                issued = department->issues[k] == t;
            }
        }
        if (!issued) {
            char path[PATH_LEN];
            path_index(path, "doc_types", t);
            return reject(p, path, "no department issues \"%s\"", genesis->doc_types[t].id);
        }
    }
    return 0;
}

/* ---- Validators ----------------------------------------------------------------- */

static int read_validator(parser *p, const json_t *object, uint32_t index)
{
    static const field fields[] = {{"department", true}, {"public_key", true}};
    gov_genesis_validator *validator = &p->genesis->validators[index];
    char path[PATH_LEN];
    char member[PATH_LEN];
    path_index(path, "validators", index);
    int rc = read_object(p, object, path, fields, sizeof(fields) / sizeof(fields[0]));
    const json_t *department = json_object_get(object, "department");
    path_member(member, path, "department");
    if (rc != 0 || (rc = read_string(p, department, member)) != 0) {
        return rc;
    }
    int found = gov_genesis_department_index(p->genesis, json_string_value(department));
    if (found < 0) {
        return reject(p, member, "unknown department %s", show_string(department).text);
    }
    validator->department = (uint32_t)found;
    path_member(member, path, "public_key");
    return read_key(p, json_object_get(object, "public_key"), member, validator->public_key,
                    &validator->parsed_key);
}

static int read_validators(parser *p, const json_t *array)
{
    size_t count;
    int rc = read_array(p, array, "validators", GOV_VALIDATORS_MIN, GOV_VALIDATORS_MAX, "validator",
                        "validators", &count);
    if (rc != 0) {
        return rc;
    }
    p->genesis->validators = calloc(count, sizeof(gov_genesis_validator));
    if (p->genesis->validators == NULL) {
        return out_of_memory(p);
    }
    p->genesis->validators_count = (uint32_t)count;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        rc = read_validator(p, json_array_get(array, i), (uint32_t)i);
    }
    return rc;
}

/* ---- The whole document ------------------------------------------------------------ */

static int read_genesis(parser *p, const json_t *root)
{
    static const field fields[] = {
        {"version", true},   {"chain_name", true},  {"suite", true},     {"genesis_time_ms", true},
        {"consensus", true}, {"departments", true}, {"doc_types", true}, {"validators", true},
    };
    if (!json_is_object(root)) {
        return reject(p, "", "expected a JSON object at the top level, found %s",
                      describe(root).text);
    }
    int rc = check_fields(p, root, "", fields, sizeof(fields) / sizeof(fields[0]));
    if (rc == 0) {
        rc = read_header(p, root);
    }
    if (rc == 0) {
        rc = read_consensus(p, json_object_get(root, "consensus"));
    }
    if (rc == 0) {
        rc = read_departments(p, json_object_get(root, "departments"));
    }
    if (rc == 0) {
        rc = read_doc_types(p, json_object_get(root, "doc_types"));
    }
    const json_t *departments = json_object_get(root, "departments");
    for (uint32_t i = 0; rc == 0 && i < p->genesis->departments_count; i++) {
        rc = read_issues(p, json_array_get(departments, i), i);
    }
    if (rc == 0) {
        rc = check_doc_types_issued(p);
    }
    if (rc == 0) {
        rc = read_validators(p, json_object_get(root, "validators"));
    }
    return rc;
}

int gov_genesis_parse(const char *json, size_t len, gov_genesis **out, char *why, size_t why_len)
{
    if (out == NULL || (json == NULL && len > 0)) {
        return gov_fail(why, why_len, GOV_EINVAL, "no genesis to parse");
    }
    *out = NULL;
    if (len > GOV_GENESIS_JSON_BYTES_MAX) {
        return gov_fail(why, why_len, GOV_ELIMIT, "genesis is %zu bytes, at most %d are allowed",
                        len, GOV_GENESIS_JSON_BYTES_MAX);
    }
    json_error_t error;
    json_t *root = json_loadb(json != NULL ? json : "", len, JSON_REJECT_DUPLICATES, &error);
    if (root == NULL) {
        return gov_fail(why, why_len, GOV_EJSON, "line %d, column %d: %s", error.line, error.column,
                        error.text);
    }
    int rc = GOV_ENOMEM;
    gov_genesis *genesis = calloc(1, sizeof(*genesis));
    if (genesis == NULL) {
        gov_fail(why, why_len, rc, "out of memory while reading genesis");
        goto fail_genesis;
    }
    parser p = {.genesis = genesis, .why = why, .why_len = why_len};
    if ((rc = read_genesis(&p, root)) != 0) {
        goto fail_read;
    }
    if ((rc = gov_genesis_compute_hashes(genesis)) == GOV_ELIMIT) {
        gov_fail(why, why_len, rc, "the canonical encoding exceeds %d bytes",
                 GOV_GENESIS_BYTES_MAX);
        goto fail_read;
    }
    if (rc != 0) {
        gov_fail(why, why_len, rc, "out of memory while hashing genesis");
        goto fail_read;
    }
    json_decref(root);
    *out = genesis;
    return 0;

fail_read:
    gov_genesis_free(genesis);
fail_genesis:
    json_decref(root);
    return rc;
}
