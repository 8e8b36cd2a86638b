/*
 * Unit tests for the key-value store (include/govchain/kv.h, ledger/kv*.c).
 *
 *  1. One contract suite, run against every implementation: the in-memory store, an
 *     overlay over an in-memory base (whose base must still be empty afterwards: the
 *     overlay never writes it), and LevelDB in a fresh directory.
 *  2. Batches: copies, byte accounting, growth, limits.
 *  3. The in-memory store's injected write failures change nothing.
 *  4. The overlay: isolation from its base, shadowing, and its scan merge compared with
 *     a deliberately naive model on seeded random operations, over both kinds of base;
 *     then the map behind the in-memory store and the overlay at 20000 keys, and its
 *     hash table and lazily sorted skip list against a sorted array through growth,
 *     shrinking and scans between small batches.
 *  5. LevelDB: durability across reopening, errors with LevelDB's message, and a
 *     corrupted table file reported as an error, never read as data.
 * Failures print the seed; GOV_TEST_SEED=<seed> replays them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "govchain/error.h"
#include "govchain/kv.h"
#include "govchain/kv_leveldb.h"
#include "govchain/limits.h"
#include "tests/unit/test_util.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A byte string; B("a\0b") keeps the NUL (3 bytes). */
typedef struct {
    const char *bytes;
    size_t len;
} blob;

#define BLOB_INIT(literal)             \
    {                                  \
        (literal), sizeof(literal) - 1 \
    }
#define B(literal) ((blob)BLOB_INIT(literal))

/* ------------------------------------------------------------------------------------
 * Fixtures and helpers.
 * ---------------------------------------------------------------------------------- */

typedef struct {
    gov_kv *kv;   /* the store under test */
    gov_kv *base; /* overlay: its base */
    char *dir;    /* LevelDB: its directory */
} fixture;

static char *join_path(const char *dir, const char *name)
{
    size_t len = strlen(dir) + 1 + strlen(name) + 1;
    char *path = malloc(len);
    assert_non_null(path);
    snprintf(path, len, "%s/%s", dir, name);
    return path;
}

static gov_kv *open_leveldb(const char *path, bool create)
{
    char why[256] = "";
    gov_kv *kv = NULL;
    int rc = gov_kv_leveldb_open(path, create, &kv, why, sizeof(why));
    if (rc != 0) {
        fail_msg("cannot open LevelDB at %s: %s (%s)", path, gov_strerror(rc), why);
    }
    return kv;
}

static int setup_memory(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(gov_kv_memory_open(&f->kv), 0);
    *state = f;
    return 0;
}

static int setup_overlay(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(gov_kv_memory_open(&f->base), 0);
    assert_int_equal(gov_kv_overlay_open(f->base, &f->kv), 0);
    *state = f;
    return 0;
}

static int setup_leveldb(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->dir = test_make_temp_dir();
    char *path = join_path(f->dir, "db");
    f->kv = open_leveldb(path, true);
    free(path);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    gov_kv_close(f->kv);
    if (f->base != NULL) {
        /* Whatever the test wrote went into the overlay only. */
        size_t base_count = gov_kv_memory_count(f->base);
        gov_kv_close(f->base);
        assert_int_equal(base_count, 0);
    }
    if (f->dir != NULL) {
        test_remove_tree(f->dir);
        free(f->dir);
    }
    free(f);
    return 0;
}

static gov_kv *fixture_kv(void **state)
{
    return ((fixture *)*state)->kv;
}

static void put(gov_kv *kv, const void *key, size_t key_len, const void *value, size_t value_len)
{
    char why[256] = "";
    int rc = gov_kv_put(kv, key, key_len, value, value_len, why, sizeof(why));
    if (rc != 0) {
        fail_msg("put failed: %s (%s)", gov_strerror(rc), why);
    }
}

static void put_blob(gov_kv *kv, blob key, blob value)
{
    put(kv, key.bytes, key.len, value.bytes, value.len);
}

static void write_batch(gov_kv *kv, const gov_kv_batch *batch)
{
    char why[256] = "";
    int rc = gov_kv_write(kv, batch, why, sizeof(why));
    if (rc != 0) {
        fail_msg("write failed: %s (%s)", gov_strerror(rc), why);
    }
}

static void check_get(gov_kv *kv, const void *key, size_t key_len, const void *value,
                      size_t value_len)
{
    char why[256] = "";
    uint8_t *got = NULL;
    size_t got_len = 0;
    int rc = gov_kv_get(kv, key, key_len, &got, &got_len, why, sizeof(why));
    if (rc != 0) {
        fail_msg("get of a %zu-byte key failed: %s (%s)", key_len, gov_strerror(rc), why);
    }
    assert_non_null(got);
    assert_int_equal(got_len, value_len);
    if (value_len > 0) {
        assert_memory_equal(got, value, value_len);
    }
    free(got);
    /* The same through gov_kv_get_into: into a buffer of the value's size, of one byte
     * less (a prefix, and the whole length), and of none. */
    uint8_t buf[64];
    uint8_t *into = value_len <= sizeof(buf) ? buf : malloc(value_len);
    assert_non_null(into);
    for (size_t room = value_len + 1;
         room-- > 0 && (room == value_len || room + 1 == value_len || room == 0);) {
        memset(into, 0xa5, value_len);
        size_t whole = 12345;
        rc = gov_kv_get_into(kv, key, key_len, room > 0 ? into : NULL, room, &whole, why,
                             sizeof(why));
        if (rc != 0) {
            fail_msg("get_into of a %zu-byte key failed: %s (%s)", key_len, gov_strerror(rc), why);
        }
        assert_int_equal(whole, value_len);
        if (room > 0) {
            assert_memory_equal(into, value, room);
        }
        for (size_t i = room; i < value_len; i++) {
            assert_int_equal(into[i], 0xa5); /* nothing past the room given */
        }
    }
    if (into != buf) {
        free(into);
    }
}

static void check_get_blob(gov_kv *kv, blob key, blob value)
{
    check_get(kv, key.bytes, key.len, value.bytes, value.len);
}

static void check_missing(gov_kv *kv, const void *key, size_t key_len)
{
    uint8_t sentinel;
    uint8_t *got = &sentinel;
    size_t got_len = 12345;
    int rc = gov_kv_get(kv, key, key_len, &got, &got_len, NULL, 0);
    assert_int_equal(rc, GOV_ENOENT);
    assert_null(got);
    assert_int_equal(got_len, 0);
    uint8_t buf[4] = {1, 2, 3, 4};
    got_len = 12345;
    assert_int_equal(gov_kv_get_into(kv, key, key_len, buf, sizeof(buf), &got_len, NULL, 0),
                     GOV_ENOENT);
    assert_int_equal(got_len, 0);
    assert_int_equal(buf[0], 1);
}

/* Records what a scan visits; can stop or abort the scan at a given visit. */
typedef struct {
    uint8_t *key;
    size_t key_len;
    uint8_t *value;
    size_t value_len;
} record;

typedef struct {
    record *records;
    size_t count;
    size_t capacity;
    size_t stop_at;  /* return 1 on this visit (counted from 1; 0: never) */
    size_t abort_at; /* return abort_code on this visit (0: never) */
    int abort_code;
} recorder;

static uint8_t *copy_of(const void *bytes, size_t len)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    assert_non_null(copy);
    if (len > 0) {
        memcpy(copy, bytes, len);
    }
    return copy;
}

static int record_entry(void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
                        size_t value_len)
{
    recorder *r = arg;
    if (r->count == r->capacity) {
        r->capacity = r->capacity > 0 ? 2 * r->capacity : 16;
        r->records = realloc(r->records, r->capacity * sizeof(record));
        assert_non_null(r->records);
    }
    r->records[r->count++] = (record){
        .key = copy_of(key, key_len),
        .key_len = key_len,
        .value = copy_of(value, value_len),
        .value_len = value_len,
    };
    if (r->count == r->stop_at) {
        return 1;
    }
    if (r->count == r->abort_at) {
        return r->abort_code;
    }
    return 0;
}

static void recorder_free(recorder *r)
{
    for (size_t i = 0; i < r->count; i++) {
        free(r->records[i].key);
        free(r->records[i].value);
    }
    free(r->records);
    *r = (recorder){0};
}

/* Scans with a recorder; prefix or start NULL means none. Returns the scan's result. */
static int scan_into(gov_kv *kv, const blob *prefix, const blob *start, recorder *r)
{
    char why[256] = "";
    int rc = gov_kv_scan(kv, prefix != NULL ? prefix->bytes : NULL,
                         prefix != NULL ? prefix->len : 0, start != NULL ? start->bytes : NULL,
                         start != NULL ? start->len : 0, record_entry, r, why, sizeof(why));
    if (rc < 0 && rc != r->abort_code) {
        fail_msg("scan failed: %s (%s)", gov_strerror(rc), why);
    }
    return rc;
}

static void assert_record(const record *got, blob key, blob value)
{
    assert_int_equal(got->key_len, key.len);
    assert_memory_equal(got->key, key.bytes, key.len);
    assert_int_equal(got->value_len, value.len);
    assert_memory_equal(got->value, value.bytes, value.len);
}

/* Two stores hold the same entries (compared by scanning both). */
static void assert_same_entries(gov_kv *a, gov_kv *b)
{
    recorder left = {0};
    recorder right = {0};
    assert_int_equal(scan_into(a, NULL, NULL, &left), 0);
    assert_int_equal(scan_into(b, NULL, NULL, &right), 0);
    assert_int_equal(left.count, right.count);
    for (size_t i = 0; i < left.count; i++) {
        const record *l = &left.records[i];
        assert_record(&right.records[i], (blob){(const char *)l->key, l->key_len},
                      (blob){(const char *)l->value, l->value_len});
    }
    recorder_free(&left);
    recorder_free(&right);
}

/* ------------------------------------------------------------------------------------
 * 1. The contract, for every implementation.
 * ---------------------------------------------------------------------------------- */

static void test_get_missing(void **state)
{
    gov_kv *kv = fixture_kv(state);
    check_missing(kv, "a", 1);
    check_missing(kv, "", 0);
    put_blob(kv, B("a"), B("1"));
    put_blob(kv, B("c"), B("3"));
    check_missing(kv, "b", 1);
    check_missing(kv, "a\0", 2);
    check_missing(kv, "", 0);
    check_missing(kv, "d", 1);
    check_missing(kv, "\xff\xff", 2);
}

static void test_round_trip(void **state)
{
    gov_kv *kv = fixture_kv(state);
    const struct {
        blob key;
        blob value;
    } cases[] = {
        {B("k"), B("v")},
        {B("\0"), B("a key of one NUL")},
        {B("\0\x01\0"), B("\0\0\0")},
        {B("key\0with\0nuls"), B("")},
        {B("key\0with"), B("a prefix of another key, up to its NUL")},
        {B(""), B("the empty key")},
        {B("\xff\xfe"), B("\x80\x00\x7f")},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        put_blob(kv, cases[i].key, cases[i].value);
    }
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        check_get_blob(kv, cases[i].key, cases[i].value);
    }

    /* A key of the largest size allowed, with a value large enough to span blocks. */
    uint8_t key[GOV_KV_KEY_BYTES_MAX];
    memset(key, 0xa5, sizeof(key));
    size_t big_len = 300 * 1024;
    uint8_t *big = malloc(big_len);
    assert_non_null(big);
    uint64_t random_state = test_seed();
    test_random_bytes(&random_state, big, big_len);
    put(kv, key, sizeof(key), big, big_len);
    /* The store keeps a copy: changing the caller's buffer changes nothing. */
    uint8_t first = big[0];
    big[0] ^= 0xff;
    uint8_t *got = NULL;
    size_t got_len = 0;
    assert_int_equal(gov_kv_get(kv, key, sizeof(key), &got, &got_len, NULL, 0), 0);
    assert_int_equal(got_len, big_len);
    assert_int_equal(got[0], first);
    assert_memory_equal(got + 1, big + 1, big_len - 1);
    /* And a get returns a copy: changing it changes nothing either. */
    got[1] ^= 0xff;
    free(got);
    big[0] = first;
    check_get(kv, key, sizeof(key), big, big_len);
    free(big);
}

static void test_overwrite(void **state)
{
    gov_kv *kv = fixture_kv(state);
    put_blob(kv, B("key"), B("first"));
    put_blob(kv, B("key"), B("a longer second value"));
    check_get_blob(kv, B("key"), B("a longer second value"));
    put_blob(kv, B("key"), B(""));
    check_get_blob(kv, B("key"), B(""));
    put_blob(kv, B("key"), B("x"));
    check_get_blob(kv, B("key"), B("x"));

    recorder r = {0};
    assert_int_equal(scan_into(kv, NULL, NULL, &r), 0);
    assert_int_equal(r.count, 1);
    assert_record(&r.records[0], B("key"), B("x"));
    recorder_free(&r);
}

static void delete_key(gov_kv *kv, blob key)
{
    gov_kv_batch batch;
    gov_kv_batch_init(&batch);
    assert_int_equal(gov_kv_batch_delete(&batch, key.bytes, key.len), 0);
    write_batch(kv, &batch);
    gov_kv_batch_clear(&batch);
}

static void test_delete(void **state)
{
    gov_kv *kv = fixture_kv(state);
    put_blob(kv, B("a"), B("1"));
    put_blob(kv, B("a\0"), B("2"));
    put_blob(kv, B("b"), B("3"));
    delete_key(kv, B("a"));
    check_missing(kv, "a", 1);
    check_get_blob(kv, B("a\0"), B("2"));
    check_get_blob(kv, B("b"), B("3"));
    /* Deleting what is absent is no error. */
    delete_key(kv, B("a"));
    delete_key(kv, B("never"));

    recorder r = {0};
    assert_int_equal(scan_into(kv, NULL, NULL, &r), 0);
    assert_int_equal(r.count, 2);
    assert_record(&r.records[0], B("a\0"), B("2"));
    assert_record(&r.records[1], B("b"), B("3"));
    recorder_free(&r);

    put_blob(kv, B("a"), B("back"));
    check_get_blob(kv, B("a"), B("back"));
}

static void test_batch_later_wins(void **state)
{
    gov_kv *kv = fixture_kv(state);
    put_blob(kv, B("k1"), B("old1"));
    put_blob(kv, B("k2"), B("old2"));

    gov_kv_batch batch;
    gov_kv_batch_init(&batch);
    /* k1: delete, then put: present. k2: put, then delete: absent. k3: two puts: the
     * second. k4: a delete of nothing. k5: put, delete, put. */
    assert_int_equal(gov_kv_batch_delete(&batch, "k1", 2), 0);
    assert_int_equal(gov_kv_batch_put(&batch, "k3", 2, "first", 5), 0);
    assert_int_equal(gov_kv_batch_put(&batch, "k2", 2, "new2", 4), 0);
    assert_int_equal(gov_kv_batch_put(&batch, "k5", 2, "a", 1), 0);
    assert_int_equal(gov_kv_batch_put(&batch, "k1", 2, "new1", 4), 0);
    assert_int_equal(gov_kv_batch_delete(&batch, "k2", 2), 0);
    assert_int_equal(gov_kv_batch_delete(&batch, "k4", 2), 0);
    assert_int_equal(gov_kv_batch_delete(&batch, "k5", 2), 0);
    assert_int_equal(gov_kv_batch_put(&batch, "k3", 2, "second", 6), 0);
    assert_int_equal(gov_kv_batch_put(&batch, "k5", 2, "c", 1), 0);
    write_batch(kv, &batch);
    gov_kv_batch_clear(&batch);

    check_get_blob(kv, B("k1"), B("new1"));
    check_missing(kv, "k2", 2);
    check_get_blob(kv, B("k3"), B("second"));
    check_missing(kv, "k4", 2);
    check_get_blob(kv, B("k5"), B("c"));

    /* An empty batch is a write that changes nothing. */
    write_batch(kv, &batch);
    recorder r = {0};
    assert_int_equal(scan_into(kv, NULL, NULL, &r), 0);
    assert_int_equal(r.count, 3);
    recorder_free(&r);
}

static void test_limits(void **state)
{
    gov_kv *kv = fixture_kv(state);
    static uint8_t long_key[GOV_KV_KEY_BYTES_MAX + 1];
    char why[256] = "";

    /* Just over the limits: refused, with a reason. */
    assert_int_equal(gov_kv_put(kv, long_key, sizeof(long_key), "v", 1, why, sizeof(why)),
                     GOV_ELIMIT);
    assert_true(why[0] != '\0');
    uint8_t *got = NULL;
    size_t got_len = 0;
    assert_int_equal(gov_kv_get(kv, long_key, sizeof(long_key), &got, &got_len, NULL, 0),
                     GOV_ELIMIT);
    assert_null(got);
    recorder r = {0};
    assert_int_equal(
        gov_kv_scan(kv, long_key, sizeof(long_key), NULL, 0, record_entry, &r, NULL, 0),
        GOV_ELIMIT);
    assert_int_equal(
        gov_kv_scan(kv, NULL, 0, long_key, sizeof(long_key), record_entry, &r, NULL, 0),
        GOV_ELIMIT);
    assert_int_equal(r.count, 0);

    /* A batch filled by hand with one oversized operation is refused whole. */
    size_t huge_len = (size_t)GOV_KV_VALUE_BYTES_MAX + 1;
    uint8_t *huge = calloc(1, huge_len); /* lazily mapped: costs no time */
    assert_non_null(huge);
    gov_kv_op ops[2] = {
        {.kind = GOV_KV_PUT,
         .key = (uint8_t *)"ok",
         .key_len = 2,
         .value = (uint8_t *)"1",
         .value_len = 1},
        {.kind = GOV_KV_PUT,
         .key = long_key,
         .key_len = sizeof(long_key),
         .value = (uint8_t *)"1",
         .value_len = 1},
    };
    gov_kv_batch batch = {.ops = ops, .count = 2, .capacity = 2};
    why[0] = '\0';
    assert_int_equal(gov_kv_write(kv, &batch, why, sizeof(why)), GOV_ELIMIT);
    assert_true(why[0] != '\0');
    ops[1] = (gov_kv_op){.kind = GOV_KV_PUT,
                         .key = (uint8_t *)"big",
                         .key_len = 3,
                         .value = huge,
                         .value_len = huge_len};
    assert_int_equal(gov_kv_write(kv, &batch, NULL, 0), GOV_ELIMIT);
    assert_int_equal(gov_kv_put(kv, "big", 3, huge, huge_len, NULL, 0), GOV_ELIMIT);
    free(huge);
    check_missing(kv, "ok", 2);
    check_missing(kv, "big", 3);

    /* Exactly at the key limit: accepted everywhere. */
    uint8_t key[GOV_KV_KEY_BYTES_MAX];
    memset(key, 'k', sizeof(key));
    put(kv, key, sizeof(key), "v", 1);
    check_get(kv, key, sizeof(key), "v", 1);
    assert_int_equal(gov_kv_scan(kv, key, sizeof(key), key, sizeof(key), record_entry, &r, NULL, 0),
                     0);
    assert_int_equal(r.count, 1);
    recorder_free(&r);
}

/* The scan tests' keys in ascending order: bytewise, shorter first on a tie. */
static const blob sorted_keys[] = {
    BLOB_INIT(""),      BLOB_INIT("\0"),   BLOB_INIT("a"),        BLOB_INIT("a\0"),
    BLOB_INIT("a\0\0"), BLOB_INIT("a\0b"), BLOB_INIT("ab"),       BLOB_INIT("abc"),
    BLOB_INIT("b"),     BLOB_INIT("\xff"), BLOB_INIT("\xff\xff"),
};
static const size_t insertion_order[] = {7, 0, 10, 3, 5, 1, 9, 2, 8, 4, 6};

/* Each scan key's value: the key followed by '='. */
static blob sorted_value(size_t index, char buffer[16])
{
    blob key = sorted_keys[index];
    memcpy(buffer, key.bytes, key.len);
    buffer[key.len] = '=';
    return (blob){buffer, key.len + 1};
}

static void put_sorted_keys(gov_kv *kv)
{
    _Static_assert(ARRAY_LEN(insertion_order) == ARRAY_LEN(sorted_keys), "a permutation");
    /* Half by single puts, half in one batch, in scrambled order. */
    gov_kv_batch batch;
    gov_kv_batch_init(&batch);
    for (size_t i = 0; i < ARRAY_LEN(insertion_order); i++) {
        size_t index = insertion_order[i];
        char buffer[16];
        blob value = sorted_value(index, buffer);
        if (i % 2 == 0) {
            put_blob(kv, sorted_keys[index], value);
        } else {
            assert_int_equal(gov_kv_batch_put(&batch, sorted_keys[index].bytes,
                                              sorted_keys[index].len, value.bytes, value.len),
                             0);
        }
    }
    write_batch(kv, &batch);
    gov_kv_batch_clear(&batch);
}

/* A scan visits exactly sorted_keys[first .. first + count), with their values. */
static void check_scan(gov_kv *kv, const blob *prefix, const blob *start, size_t first,
                       size_t count)
{
    recorder r = {0};
    assert_int_equal(scan_into(kv, prefix, start, &r), 0);
    if (r.count != count) {
        fail_msg("scan visited %zu entries, expected %zu from index %zu", r.count, count, first);
    }
    for (size_t i = 0; i < count; i++) {
        char buffer[16];
        assert_record(&r.records[i], sorted_keys[first + i], sorted_value(first + i, buffer));
    }
    recorder_free(&r);
}

static void test_scan_order(void **state)
{
    gov_kv *kv = fixture_kv(state);
    put_sorted_keys(kv);
    check_scan(kv, NULL, NULL, 0, ARRAY_LEN(sorted_keys));
    /* An empty prefix, given as a pointer, matches everything too. */
    blob empty = B("");
    check_scan(kv, &empty, NULL, 0, ARRAY_LEN(sorted_keys));
    check_scan(kv, NULL, &empty, 0, ARRAY_LEN(sorted_keys));
}

static void test_scan_prefix(void **state)
{
    gov_kv *kv = fixture_kv(state);
    put_sorted_keys(kv);
    const struct {
        blob prefix;
        size_t first;
        size_t count;
    } cases[] = {
        {B("a"), 2, 6},  {B("a\0"), 3, 3},  {B("a\0\0"), 4, 1}, {B("ab"), 6, 2},
        {B("\0"), 1, 1}, {B("b"), 8, 1},    {B("\xff"), 9, 2},  {B("\xff\xff"), 10, 1},
        {B("c"), 0, 0},  {B("abcd"), 0, 0}, {B("\x01"), 0, 0},  {B("\xff\xff\xff"), 0, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        check_scan(kv, &cases[i].prefix, NULL, cases[i].first, cases[i].count);
    }
}

static void test_scan_start(void **state)
{
    gov_kv *kv = fixture_kv(state);
    put_sorted_keys(kv);
    const struct {
        bool has_prefix;
        blob prefix;
        blob start;
        size_t first;
        size_t count;
    } cases[] = {
        {false, B(""), B("a\0"), 3, 8},  /* an existing key: included */
        {false, B(""), B("aa"), 6, 5},   /* between keys */
        {false, B(""), B("\0\0"), 2, 9}, /* just after a key */
        {false, B(""), B("\xff\xff\xff"), 0, 0},
        {true, B("a"), B("a\0\0"), 4, 4}, /* inside the prefix's range */
        {true, B("a"), B(""), 2, 6},      /* before the prefix: from the prefix */
        {true, B("b"), B("a"), 8, 1},     /* likewise */
        {true, B("a"), B("abc"), 7, 1},   /* the prefix's last key */
        {true, B("a"), B("abd"), 0, 0},   /* after the prefix's range */
        {true, B("a"), B("b"), 0, 0},
        {true, B("a\0"), B("a\0a"), 5, 1},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        check_scan(kv, cases[i].has_prefix ? &cases[i].prefix : NULL, &cases[i].start,
                   cases[i].first, cases[i].count);
    }
}

static void test_scan_stop(void **state)
{
    gov_kv *kv = fixture_kv(state);
    put_sorted_keys(kv);
    for (size_t stop_at = 1; stop_at <= ARRAY_LEN(sorted_keys); stop_at++) {
        recorder r = {.stop_at = stop_at};
        assert_int_equal(scan_into(kv, NULL, NULL, &r), 0);
        assert_int_equal(r.count, stop_at);
        recorder_free(&r);
    }
    blob prefix = B("a");
    recorder r = {.stop_at = 2};
    assert_int_equal(scan_into(kv, &prefix, NULL, &r), 0);
    assert_int_equal(r.count, 2);
    char buffer[16];
    assert_record(&r.records[1], sorted_keys[3], sorted_value(3, buffer));
    recorder_free(&r);
}

static void test_scan_abort(void **state)
{
    gov_kv *kv = fixture_kv(state);
    put_sorted_keys(kv);
    for (size_t abort_at = 1; abort_at <= ARRAY_LEN(sorted_keys); abort_at++) {
        recorder r = {.abort_at = abort_at, .abort_code = GOV_EDECODE};
        assert_int_equal(scan_into(kv, NULL, NULL, &r), GOV_EDECODE);
        assert_int_equal(r.count, abort_at);
        recorder_free(&r);
    }
    blob prefix = B("\xff");
    recorder r = {.abort_at = 2, .abort_code = GOV_EJSON};
    assert_int_equal(scan_into(kv, &prefix, NULL, &r), GOV_EJSON);
    assert_int_equal(r.count, 2);
    recorder_free(&r);
}

/* A scan's callback may read the store it scans. */
typedef struct {
    gov_kv *kv;
    size_t visited;
} reading_scan;

static int read_back(void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
                     size_t value_len)
{
    reading_scan *scan = arg;
    check_get(scan->kv, key, key_len, value, value_len);
    scan->visited++;
    return 0;
}

static void test_scan_reads_inside(void **state)
{
    gov_kv *kv = fixture_kv(state);
    put_sorted_keys(kv);
    reading_scan scan = {.kv = kv};
    assert_int_equal(gov_kv_scan(kv, NULL, 0, NULL, 0, read_back, &scan, NULL, 0), 0);
    assert_int_equal(scan.visited, ARRAY_LEN(sorted_keys));
}

/* ------------------------------------------------------------------------------------
 * 2. Batches.
 * ---------------------------------------------------------------------------------- */

static void test_batch_contents(void)
{
    gov_kv_batch batch;
    gov_kv_batch_init(&batch);
    assert_int_equal(batch.count, 0);
    assert_int_equal(batch.bytes, 0);

    char key[] = "key\0one";
    char value[] = "value";
    assert_int_equal(gov_kv_batch_put(&batch, key, sizeof(key) - 1, value, 5), 0);
    assert_int_equal(gov_kv_batch_delete(&batch, "gone", 4), 0);
    assert_int_equal(gov_kv_batch_put(&batch, "empty", 5, NULL, 0), 0);
    assert_int_equal(gov_kv_batch_put(&batch, NULL, 0, "v", 1), 0);
    /* The batch holds copies. */
    key[0] = 'X';
    value[0] = 'X';
    assert_int_equal(batch.count, 4);
    assert_int_equal(batch.bytes, 7 + 5 + 4 + 5 + 0 + 1);

    assert_int_equal(batch.ops[0].kind, GOV_KV_PUT);
    assert_int_equal(batch.ops[0].key_len, 7);
    assert_memory_equal(batch.ops[0].key, "key\0one", 7);
    assert_int_equal(batch.ops[0].value_len, 5);
    assert_memory_equal(batch.ops[0].value, "value", 5);
    assert_int_equal(batch.ops[1].kind, GOV_KV_DELETE);
    assert_memory_equal(batch.ops[1].key, "gone", 4);
    assert_null(batch.ops[1].value);
    assert_int_equal(batch.ops[1].value_len, 0);
    /* An empty value is still a buffer, so that PUT and DELETE never look alike. */
    assert_non_null(batch.ops[2].value);
    assert_int_equal(batch.ops[2].value_len, 0);
    assert_int_equal(batch.ops[3].key_len, 0);

    gov_kv_batch_clear(&batch);
    assert_int_equal(batch.count, 0);
    assert_int_equal(batch.bytes, 0);
    /* Still usable after clearing. */
    assert_int_equal(gov_kv_batch_put(&batch, "k", 1, "v", 1), 0);
    assert_int_equal(batch.count, 1);
    assert_int_equal(batch.bytes, 2);
    gov_kv_batch_clear(&batch);
}

static void test_batch_growth(void)
{
    gov_kv_batch batch;
    gov_kv_batch_init(&batch);
    enum { OPS = 5000 };
    size_t bytes = 0;
    for (size_t i = 0; i < OPS; i++) {
        char key[32];
        int key_len = snprintf(key, sizeof(key), "key-%zu", i);
        if (i % 3 == 0) {
            assert_int_equal(gov_kv_batch_delete(&batch, key, (size_t)key_len), 0);
            bytes += (size_t)key_len;
        } else {
            assert_int_equal(gov_kv_batch_put(&batch, key, (size_t)key_len, key, i % 7), 0);
            bytes += (size_t)key_len + i % 7;
        }
    }
    assert_int_equal(batch.count, OPS);
    assert_true(batch.capacity >= OPS);
    assert_int_equal(batch.bytes, bytes);
    for (size_t i = 0; i < OPS; i++) {
        char key[32];
        int key_len = snprintf(key, sizeof(key), "key-%zu", i);
        assert_int_equal(batch.ops[i].key_len, (size_t)key_len);
        assert_memory_equal(batch.ops[i].key, key, (size_t)key_len);
        assert_int_equal(batch.ops[i].kind, i % 3 == 0 ? GOV_KV_DELETE : GOV_KV_PUT);
    }
    gov_kv_batch_clear(&batch);
}

static void test_batch_limits(void)
{
    static uint8_t long_key[GOV_KV_KEY_BYTES_MAX + 1];
    gov_kv_batch batch;
    gov_kv_batch_init(&batch);
    assert_int_equal(gov_kv_batch_put(&batch, "k", 1, "v", 1), 0);
    assert_int_equal(gov_kv_batch_put(&batch, long_key, sizeof(long_key), "v", 1), GOV_ELIMIT);
    assert_int_equal(gov_kv_batch_delete(&batch, long_key, sizeof(long_key)), GOV_ELIMIT);
    /* The length is refused before the value is read, so a short buffer is safe. */
    assert_int_equal(gov_kv_batch_put(&batch, "k", 1, "v", (size_t)GOV_KV_VALUE_BYTES_MAX + 1),
                     GOV_ELIMIT);
    assert_int_equal(gov_kv_batch_put(&batch, long_key, GOV_KV_KEY_BYTES_MAX, "v", 1), 0);
    /* Refusals leave the batch as it was. */
    assert_int_equal(batch.count, 2);
    assert_int_equal(batch.bytes, 2 + GOV_KV_KEY_BYTES_MAX + 1);
    gov_kv_batch_clear(&batch);
}

/* ------------------------------------------------------------------------------------
 * 3. The in-memory store.
 * ---------------------------------------------------------------------------------- */

static void test_memory_fail_after(void **state)
{
    (void)state;
    gov_kv *kv = NULL;
    assert_int_equal(gov_kv_memory_open(&kv), 0);
    gov_kv *copy = NULL; /* what kv must hold, kept by hand */
    assert_int_equal(gov_kv_memory_open(&copy), 0);
    for (int i = 0; i < 20; i++) {
        char key[16];
        snprintf(key, sizeof(key), "k%02d", i);
        put(kv, key, 3, key, 3);
        put(copy, key, 3, key, 3);
    }
    assert_int_equal(gov_kv_memory_count(kv), 20);

    gov_kv_memory_fail_after(kv, 2);
    put(kv, "a", 1, "1", 1);
    put(copy, "a", 1, "1", 1);
    delete_key(kv, B("k05"));
    delete_key(copy, B("k05"));
    assert_int_equal(gov_kv_memory_count(kv), 20);

    /* Every later write fails whole and keeps failing: a batch that would insert,
     * overwrite and delete changes none of it. */
    gov_kv_batch batch;
    gov_kv_batch_init(&batch);
    assert_int_equal(gov_kv_batch_put(&batch, "new", 3, "x", 1), 0);
    assert_int_equal(gov_kv_batch_put(&batch, "k01", 3, "changed", 7), 0);
    assert_int_equal(gov_kv_batch_delete(&batch, "k02", 3), 0);
    assert_int_equal(gov_kv_batch_delete(&batch, "a", 1), 0);
    for (int attempt = 0; attempt < 3; attempt++) {
        char why[256] = "";
        assert_int_equal(gov_kv_write(kv, &batch, why, sizeof(why)), GOV_EIO);
        assert_true(why[0] != '\0');
        assert_int_equal(gov_kv_put(kv, "b", 1, "2", 1, NULL, 0), GOV_EIO);
        assert_int_equal(gov_kv_memory_count(kv), 20);
        assert_same_entries(kv, copy);
    }

    /* Failing at once, then healed. */
    gov_kv_memory_fail_after(kv, 0);
    assert_int_equal(gov_kv_write(kv, &batch, NULL, 0), GOV_EIO);
    gov_kv_memory_fail_after(kv, -1);
    write_batch(kv, &batch);
    write_batch(copy, &batch);
    assert_same_entries(kv, copy);
    check_get_blob(kv, B("k01"), B("changed"));
    check_missing(kv, "k02", 3);
    assert_int_equal(gov_kv_memory_count(kv), 19);

    gov_kv_batch_clear(&batch);
    gov_kv_close(kv);
    gov_kv_close(copy);
    gov_kv_close(NULL);
}

/* ------------------------------------------------------------------------------------
 * 4. The overlay.
 * ---------------------------------------------------------------------------------- */

static void test_overlay_isolation(void **state)
{
    (void)state;
    gov_kv *base = NULL;
    gov_kv *base_copy = NULL;
    gov_kv *overlay = NULL;
    assert_int_equal(gov_kv_memory_open(&base), 0);
    assert_int_equal(gov_kv_memory_open(&base_copy), 0);
    const blob keys[] = {B("a"), B("b"), B("c"), B("d"), B("e")};
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        put_blob(base, keys[i], keys[i]);
        put_blob(base_copy, keys[i], keys[i]);
    }
    assert_int_equal(gov_kv_overlay_open(base, &overlay), 0);

    /* Overwrite b, delete c and e, add b\0 and f, delete then recreate a. */
    put_blob(overlay, B("b"), B("B"));
    delete_key(overlay, B("c"));
    delete_key(overlay, B("e"));
    put_blob(overlay, B("b\0"), B("new"));
    put_blob(overlay, B("f"), B("F"));
    delete_key(overlay, B("a"));
    put_blob(overlay, B("a"), B("A"));
    delete_key(overlay, B("zz")); /* absent everywhere */

    /* The base has not changed. */
    assert_same_entries(base, base_copy);

    check_get_blob(overlay, B("a"), B("A"));
    check_get_blob(overlay, B("b"), B("B"));
    check_missing(overlay, "c", 1);
    check_get_blob(overlay, B("d"), B("d"));
    check_missing(overlay, "e", 1);
    check_get_blob(overlay, B("f"), B("F"));
    recorder r = {0};
    assert_int_equal(scan_into(overlay, NULL, NULL, &r), 0);
    assert_int_equal(r.count, 5);
    assert_record(&r.records[0], B("a"), B("A"));
    assert_record(&r.records[1], B("b"), B("B"));
    assert_record(&r.records[2], B("b\0"), B("new"));
    assert_record(&r.records[3], B("d"), B("d"));
    assert_record(&r.records[4], B("f"), B("F"));
    recorder_free(&r);
    blob prefix = B("c");
    assert_int_equal(scan_into(overlay, &prefix, NULL, &r), 0);
    assert_int_equal(r.count, 0);

    /* The batch is one operation per key written, the last, in key order; written to
     * the base, it gives the base the overlay's view. */
    const gov_kv_batch *batch = gov_kv_overlay_batch(overlay);
    assert_non_null(batch);
    static const struct {
        const char *key;
        size_t key_len;
        const char *value; /* NULL: a DELETE */
    } expected[] = {{"a", 1, "A"},  {"b", 1, "B"}, {"b\0", 2, "new"}, {"c", 1, NULL},
                    {"e", 1, NULL}, {"f", 1, "F"}, {"zz", 2, NULL}};
    assert_int_equal(batch->count, ARRAY_LEN(expected));
    for (size_t i = 0; i < ARRAY_LEN(expected); i++) {
        const gov_kv_op *op = &batch->ops[i];
        assert_int_equal(op->key_len, expected[i].key_len);
        assert_memory_equal(op->key, expected[i].key, op->key_len);
        if (expected[i].value == NULL) {
            assert_int_equal(op->kind, GOV_KV_DELETE);
        } else {
            assert_int_equal(op->kind, GOV_KV_PUT);
            assert_int_equal(op->value_len, strlen(expected[i].value));
            assert_memory_equal(op->value, expected[i].value, op->value_len);
        }
    }
    assert_int_equal(batch->bytes, (1 + 1) + (1 + 1) + (2 + 3) + 1 + 1 + (1 + 1) + 2);
    /* Asked again, the same batch; a write makes a new one. */
    assert_ptr_equal(gov_kv_overlay_batch(overlay), batch);
    write_batch(base, batch);
    assert_same_entries(base, overlay);
    assert_int_equal(gov_kv_memory_count(base), 5);
    put_blob(overlay, B("g"), B("G"));
    batch = gov_kv_overlay_batch(overlay);
    assert_non_null(batch);
    assert_int_equal(batch->count, ARRAY_LEN(expected) + 1);
    assert_memory_equal(batch->ops[ARRAY_LEN(expected) - 1].key, "g", 1); /* before zz */

    /* Closing the overlay leaves the base open and whole. */
    gov_kv_close(overlay);
    check_get_blob(base, B("f"), B("F"));
    gov_kv_close(base);
    gov_kv_close(base_copy);
}

static void test_overlay_failed_base(void **state)
{
    (void)state;
    gov_kv *base = NULL;
    gov_kv *overlay = NULL;
    assert_int_equal(gov_kv_memory_open(&base), 0);
    put_blob(base, B("a"), B("1"));
    gov_kv_memory_fail_after(base, 0);
    assert_int_equal(gov_kv_overlay_open(base, &overlay), 0);
    /* Tentative execution never writes the base, so a failing base does not matter... */
    put_blob(overlay, B("b"), B("2"));
    delete_key(overlay, B("a"));
    /* ...until the result is committed: then the failure is reported, and the base is
     * unchanged. */
    char why[256] = "";
    assert_int_equal(gov_kv_write(base, gov_kv_overlay_batch(overlay), why, sizeof(why)), GOV_EIO);
    assert_true(why[0] != '\0');
    check_get_blob(base, B("a"), B("1"));
    check_missing(base, "b", 1);
    assert_int_equal(gov_kv_memory_count(base), 1);
    /* The same through gov_kv_overlay_commit, which moves entries into a memory base:
     * neither the base nor the overlay changes. */
    why[0] = '\0';
    assert_int_equal(gov_kv_overlay_commit(overlay, why, sizeof(why)), GOV_EIO);
    assert_true(why[0] != '\0');
    check_get_blob(base, B("a"), B("1"));
    check_missing(base, "b", 1);
    assert_int_equal(gov_kv_memory_count(base), 1);
    check_get_blob(overlay, B("b"), B("2"));
    check_missing(overlay, "a", 1);
    /* Once the base writes again, the commit moves b in and takes a out. */
    gov_kv_memory_fail_after(base, -1);
    assert_int_equal(gov_kv_overlay_commit(overlay, why, sizeof(why)), 0);
    check_get_blob(base, B("b"), B("2"));
    check_missing(base, "a", 1);
    assert_int_equal(gov_kv_memory_count(base), 1);
    check_get_blob(overlay, B("b"), B("2"));
    gov_kv_close(overlay);
    gov_kv_close(base);
}

/* An overlay emptied and reused, as the ledger uses one from block to block: what it
 * held (enough entries to grow its table many times) is gone after gov_kv_overlay_reset
 * and after a commit; a failed commit of the reused overlay changes neither the base
 * nor the overlay. */
static void test_overlay_reset(void **state)
{
    (void)state;
    enum { KEYS = 5000 };
    gov_kv *base = NULL;
    gov_kv *overlay = NULL;
    assert_int_equal(gov_kv_memory_open(&base), 0);
    put_blob(base, B("base"), B("1"));
    assert_int_equal(gov_kv_overlay_open(base, &overlay), 0);
    char why[256] = "";
    for (int round = 0; round < 3; round++) {
        /* Block after block: many keys, a tombstone over the base's key. */
        gov_kv_batch batch;
        gov_kv_batch_init(&batch);
        for (uint32_t i = 0; i < KEYS; i++) {
            uint8_t key[5] = {'k', (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8),
                              (uint8_t)i};
            uint8_t value = (uint8_t)round;
            assert_int_equal(gov_kv_batch_put(&batch, key, sizeof(key), &value, 1), 0);
        }
        write_batch(overlay, &batch);
        gov_kv_batch_clear(&batch);
        delete_key(overlay, B("base"));
        check_missing(overlay, "base", 4);
        recorder r = {0};
        assert_int_equal(scan_into(overlay, NULL, NULL, &r), 0);
        assert_int_equal(r.count, KEYS);
        recorder_free(&r);
        /* Dropped: nothing of it is left, the base shows through again. */
        gov_kv_overlay_reset(overlay);
        check_get_blob(overlay, B("base"), B("1"));
        check_missing(overlay, "k\0\0\0\0", 5);
        assert_int_equal(scan_into(overlay, NULL, NULL, &r), 0);
        assert_int_equal(r.count, 1);
        recorder_free(&r);
        assert_non_null(gov_kv_overlay_batch(overlay));
        assert_int_equal(gov_kv_overlay_batch(overlay)->count, 0);
        assert_int_equal(gov_kv_memory_count(base), 1);
    }
    /* Reset, then committed: only what was written after the reset reaches the base. */
    put_blob(overlay, B("dropped"), B("x"));
    gov_kv_overlay_reset(overlay);
    put_blob(overlay, B("kept"), B("y"));
    assert_int_equal(gov_kv_overlay_commit(overlay, why, sizeof(why)), 0);
    assert_int_equal(gov_kv_memory_count(base), 2);
    check_missing(base, "dropped", 7);
    check_get_blob(base, B("kept"), B("y"));
    /* The committed overlay, reused: a failed commit leaves both as they were. */
    put_blob(overlay, B("next"), B("z"));
    delete_key(overlay, B("kept"));
    gov_kv_memory_fail_after(base, 0);
    assert_int_equal(gov_kv_overlay_commit(overlay, why, sizeof(why)), GOV_EIO);
    assert_int_equal(gov_kv_memory_count(base), 2);
    check_get_blob(base, B("kept"), B("y"));
    check_missing(base, "next", 4);
    check_get_blob(overlay, B("next"), B("z"));
    check_missing(overlay, "kept", 4);
    /* Dropped after the failure: the base's view again. */
    gov_kv_overlay_reset(overlay);
    check_get_blob(overlay, B("kept"), B("y"));
    check_missing(overlay, "next", 4);
    gov_kv_memory_fail_after(base, -1);
    assert_int_equal(gov_kv_overlay_commit(overlay, why, sizeof(why)), 0);
    assert_int_equal(gov_kv_memory_count(base), 2);
    gov_kv_close(overlay);
    gov_kv_close(base);
}

/* The naive model: every key over a four-letter alphabet up to three bytes long, with
 * the base's value and the overlay's pending state of each, in plain arrays. It shares
 * no code with the store: its own comparison, its own sorting, and visibility computed
 * per key from its definition. */
enum {
    MODEL_ALPHABET = 4,
    MODEL_KEY_LEN_MAX = 3,
    MODEL_KEYS = 1 + 4 + 16 + 64,
    MODEL_PROBE_LEN_MAX = 4,
    MODEL_VALUE_LEN_MAX = 6,
    MODEL_BYTES_MAX = 6, /* the larger of the two above */
};
static const uint8_t model_alphabet[MODEL_ALPHABET] = {0x00, 'a', 'b', 0xff};
/* Prefixes and starts also use bytes no key holds, to land between keys. */
static const uint8_t probe_alphabet[] = {0x00, 0x01, 'a', 'b', 'c', 0xfe, 0xff};

typedef struct {
    uint8_t bytes[MODEL_BYTES_MAX];
    size_t len;
} model_bytes;

typedef enum { PENDING_NONE, PENDING_PUT, PENDING_DELETE } pending_state;

typedef struct {
    model_bytes keys[MODEL_KEYS]; /* ascending */
    bool base_present[MODEL_KEYS];
    model_bytes base_value[MODEL_KEYS];
    pending_state pending[MODEL_KEYS];
    model_bytes pending_value[MODEL_KEYS];
} model;

typedef struct {
    gov_kv *base;
    gov_kv *overlay;
    model *model;
    uint64_t random;
    unsigned base_write_percent;
    bool reuse; /* one overlay for every round, emptied between rounds */
    unsigned long long scans;
    unsigned long long gets;
    unsigned long long visits;
} model_run;

static int model_compare(const model_bytes *a, const model_bytes *b)
{
    for (size_t i = 0; i < a->len && i < b->len; i++) {
        if (a->bytes[i] != b->bytes[i]) {
            return a->bytes[i] < b->bytes[i] ? -1 : 1;
        }
    }
    return a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
}

static void model_init(model *m)
{
    *m = (model){0};
    size_t count = 0;
    for (size_t len = 0; len <= MODEL_KEY_LEN_MAX; len++) {
        size_t combinations = 1;
        for (size_t i = 0; i < len; i++) {
            combinations *= MODEL_ALPHABET;
        }
        for (size_t n = 0; n < combinations; n++) {
            model_bytes key = {.len = len};
            for (size_t i = 0, rest = n; i < len; i++, rest /= MODEL_ALPHABET) {
                key.bytes[i] = model_alphabet[rest % MODEL_ALPHABET];
            }
            /* Insertion sort: the model may be slow, it must be obviously right. */
            size_t at = count;
            while (at > 0 && model_compare(&m->keys[at - 1], &key) > 0) {
                m->keys[at] = m->keys[at - 1];
                at--;
            }
            m->keys[at] = key;
            count++;
        }
    }
    assert_int_equal(count, MODEL_KEYS);
}

/* The overlay's view of key i (note 2 of ledger/kv_overlay.c, from its definition). */
static const model_bytes *model_visible(const model *m, size_t i)
{
    if (m->pending[i] == PENDING_PUT) {
        return &m->pending_value[i];
    }
    if (m->pending[i] == PENDING_DELETE) {
        return NULL;
    }
    return m->base_present[i] ? &m->base_value[i] : NULL;
}

static model_bytes model_random(model_run *run, const uint8_t *alphabet, size_t alphabet_len,
                                size_t len_max)
{
    model_bytes bytes = {.len = (size_t)(test_random(&run->random) % (len_max + 1))};
    for (size_t i = 0; i < bytes.len; i++) {
        bytes.bytes[i] = alphabet[test_random(&run->random) % alphabet_len];
    }
    return bytes;
}

static model_bytes model_random_value(model_run *run)
{
    model_bytes value = {.len = (size_t)(test_random(&run->random) % (MODEL_VALUE_LEN_MAX + 1))};
    test_random_bytes(&run->random, value.bytes, value.len);
    return value;
}

/* A random batch of 1..6 operations written to the overlay (or, to_base, the base),
 * mirrored in the model in the same order. */
static void model_write(model_run *run, bool to_base)
{
    model *m = run->model;
    gov_kv_batch batch;
    gov_kv_batch_init(&batch);
    size_t ops = 1 + (size_t)(test_random(&run->random) % 6);
    for (size_t n = 0; n < ops; n++) {
        size_t i = (size_t)(test_random(&run->random) % MODEL_KEYS);
        bool is_put = test_random(&run->random) % 3 != 0;
        const model_bytes *key = &m->keys[i];
        if (is_put) {
            model_bytes value = model_random_value(run);
            assert_int_equal(gov_kv_batch_put(&batch, key->bytes, key->len, value.bytes, value.len),
                             0);
            if (to_base) {
                m->base_present[i] = true;
                m->base_value[i] = value;
            } else {
                m->pending[i] = PENDING_PUT;
                m->pending_value[i] = value;
            }
        } else {
            assert_int_equal(gov_kv_batch_delete(&batch, key->bytes, key->len), 0);
            if (to_base) {
                m->base_present[i] = false;
            } else {
                m->pending[i] = PENDING_DELETE;
            }
        }
    }
    write_batch(to_base ? run->base : run->overlay, &batch);
    gov_kv_batch_clear(&batch);
}

static bool model_has_prefix(const model_bytes *key, const model_bytes *prefix)
{
    return key->len >= prefix->len && memcmp(key->bytes, prefix->bytes, prefix->len) == 0;
}

static void model_check_scan(model_run *run, gov_kv *kv)
{
    const model *m = run->model;
    uint64_t choice = test_random(&run->random);
    bool use_prefix = choice % 5 != 0;
    bool use_start = (choice >> 8) % 2 == 0;
    model_bytes prefix = model_random(run, probe_alphabet, sizeof(probe_alphabet), 2);
    model_bytes start =
        model_random(run, probe_alphabet, sizeof(probe_alphabet), MODEL_PROBE_LEN_MAX);
    recorder r = {.abort_code = GOV_EJSON};
    if ((choice >> 16) % 4 == 0) {
        r.stop_at = 1 + (size_t)((choice >> 24) % 5);
    } else if ((choice >> 16) % 8 == 1) {
        r.abort_at = 1 + (size_t)((choice >> 24) % 5);
    }

    int rc = gov_kv_scan(kv, use_prefix ? prefix.bytes : NULL, use_prefix ? prefix.len : 0,
                         use_start ? start.bytes : NULL, use_start ? start.len : 0, record_entry,
                         &r, NULL, 0);

    size_t expected = 0;
    int expected_rc = 0;
    for (size_t i = 0; i < MODEL_KEYS; i++) {
        const model_bytes *value = model_visible(m, i);
        if (value == NULL || (use_prefix && !model_has_prefix(&m->keys[i], &prefix)) ||
            (use_start && model_compare(&m->keys[i], &start) < 0)) {
            continue;
        }
        if (expected == r.count) {
            fail_msg("scan missed key %zu (seed %llu)", i, (unsigned long long)test_seed());
        }
        const record *got = &r.records[expected];
        if (got->key_len != m->keys[i].len ||
            memcmp(got->key, m->keys[i].bytes, got->key_len) != 0 || got->value_len != value->len ||
            memcmp(got->value, value->bytes, value->len) != 0) {
            fail_msg("scan entry %zu differs from the model (seed %llu)", expected,
                     (unsigned long long)test_seed());
        }
        expected++;
        if (expected == r.stop_at) {
            break;
        }
        if (expected == r.abort_at) {
            expected_rc = GOV_EJSON;
            break;
        }
    }
    assert_int_equal(rc, expected_rc);
    if (r.count != expected) {
        fail_msg("scan visited %zu entries, the model %zu (seed %llu)", r.count, expected,
                 (unsigned long long)test_seed());
    }
    run->scans++;
    run->visits += r.count;
    recorder_free(&r);
}

static void model_check_get(model_run *run)
{
    const model *m = run->model;
    size_t i = (size_t)(test_random(&run->random) % MODEL_KEYS);
    const model_bytes *value = model_visible(m, i);
    if (value == NULL) {
        check_missing(run->overlay, m->keys[i].bytes, m->keys[i].len);
    } else {
        check_get(run->overlay, m->keys[i].bytes, m->keys[i].len, value->bytes, value->len);
    }
    run->gets++;
}

/* One overlay's life, or one round of an overlay reused from round to round as the
 * ledger reuses one from block to block: random writes (mostly to the overlay,
 * sometimes under it to the base), scans and gets, each checked against the model; then
 * its batch is committed to the base, which must then hold exactly the overlay's view,
 * or (sometimes, when reused) its writes are dropped with gov_kv_overlay_reset, which
 * leaves the base as it was. A reused overlay must start each round holding nothing of
 * the round before. */
static void model_round(model_run *run, size_t steps)
{
    model *m = run->model;
    if (run->overlay == NULL) {
        assert_int_equal(gov_kv_overlay_open(run->base, &run->overlay), 0);
    } else {
        /* Reused: nothing pending, every read goes through to the base. */
        for (size_t i = 0; i < 4; i++) {
            model_check_scan(run, run->overlay);
            model_check_get(run);
        }
    }
    for (size_t step = 0; step < steps; step++) {
        unsigned roll = (unsigned)(test_random(&run->random) % 100);
        if (roll < run->base_write_percent) {
            model_write(run, true);
        } else if (roll < 45) {
            model_write(run, false);
        } else if (roll < 85) {
            model_check_scan(run, run->overlay);
        } else {
            model_check_get(run);
        }
    }
    /* Half the rounds through gov_kv_overlay_commit, which an in-memory base takes by
     * moving the overlay's entries; the overlay is left empty, reading through. The
     * others write the batch; a reused overlay is then reset, or reset without its
     * batch being written (its writes dropped). */
    unsigned ending = (unsigned)(test_random(&run->random) % 4);
    bool committed = ending < 2;
    bool dropped = run->reuse && ending == 3;
    if (committed) {
        assert_int_equal(gov_kv_overlay_commit(run->overlay, NULL, 0), 0);
    } else if (!dropped) {
        write_batch(run->base, gov_kv_overlay_batch(run->overlay));
    }
    if (!committed && run->reuse) {
        gov_kv_overlay_reset(run->overlay);
    } else if (!committed) {
        gov_kv_close(run->overlay);
        run->overlay = NULL;
    }
    for (size_t i = 0; i < MODEL_KEYS; i++) {
        const model_bytes *value = dropped ? NULL : model_visible(m, i);
        if (!dropped) {
            m->base_present[i] = value != NULL;
        }
        if (value != NULL) {
            m->base_value[i] = *value;
        }
        m->pending[i] = PENDING_NONE;
    }
    /* With nothing pending the model's view is the base's: check the base directly. */
    for (size_t i = 0; i < 4; i++) {
        model_check_scan(run, run->base);
    }
    if (committed) {
        for (size_t i = 0; i < 4; i++) {
            model_check_scan(run, run->overlay);
            model_check_get(run);
        }
        if (!run->reuse) {
            gov_kv_close(run->overlay);
            run->overlay = NULL;
        }
    }
    recorder r = {0};
    assert_int_equal(scan_into(run->base, NULL, NULL, &r), 0);
    size_t present = 0;
    for (size_t i = 0; i < MODEL_KEYS; i++) {
        present += m->base_present[i];
    }
    assert_int_equal(r.count, present);
    recorder_free(&r);
}

static void run_model(const char *label, gov_kv *base, size_t rounds, size_t steps,
                      unsigned base_write_percent, bool reuse, uint64_t salt)
{
    model *m = malloc(sizeof(*m));
    assert_non_null(m);
    model_init(m);
    model_run run = {
        .base = base,
        .model = m,
        .random = test_seed() ^ salt,
        .base_write_percent = base_write_percent,
        .reuse = reuse,
    };
    for (size_t round = 0; round < rounds; round++) {
        model_round(&run, steps);
    }
    gov_kv_close(run.overlay);
    printf("# overlay model, %s base%s: %zu rounds, %llu scans (%llu entries) and %llu gets "
           "agree with the model\n",
           label, reuse ? ", one overlay reused" : "", rounds, run.scans, run.visits, run.gets);
    free(m);
}

static void test_overlay_model_memory(void **state)
{
    (void)state;
    gov_kv *base = NULL;
    assert_int_equal(gov_kv_memory_open(&base), 0);
    run_model("in-memory", base, 300, 80, 8, false, 0x6f7665726c6179ULL);
    gov_kv_close(base);
    assert_int_equal(gov_kv_memory_open(&base), 0);
    run_model("in-memory", base, 300, 80, 8, true, 0x7265757365ULL);
    gov_kv_close(base);
}

static void test_overlay_model_leveldb(void **state)
{
    (void)state;
    char *dir = test_make_temp_dir();
    char *path = join_path(dir, "db");
    gov_kv *base = open_leveldb(path, true);
    /* Fewer rounds: every write to LevelDB is synced to disk. */
    run_model("LevelDB", base, 6, 80, 5, false, 0x6c6576656c6462ULL);
    gov_kv_close(base);
    char *reused_path = join_path(dir, "db-reused");
    base = open_leveldb(reused_path, true);
    run_model("LevelDB", base, 6, 80, 5, true, 0x6c64627265757365ULL);
    gov_kv_close(base);
    free(reused_path);
    test_remove_tree(dir);
    free(path);
    free(dir);
}

/* Many keys: the sorted map at a scale where its skip list grows tall, and where
 * deleting every key shrinks it back. Keys are 'k' and a 4-byte big-endian index, so
 * key order is index order and the model is two arrays indexed by it. */
enum { MANY_KEYS = 20000, MANY_KEY_LEN = 5 };

typedef struct {
    bool present[MANY_KEYS];
    uint64_t value[MANY_KEYS];
} many_model;

static void many_key(size_t i, uint8_t key[MANY_KEY_LEN])
{
    key[0] = 'k';
    for (size_t b = 0; b < 4; b++) {
        key[1 + b] = (uint8_t)(i >> (24 - 8 * b));
    }
}

typedef struct {
    const many_model *model;
    size_t next; /* the smallest index not yet passed */
} many_scan;

static int many_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
                      size_t value_len)
{
    many_scan *scan = arg;
    assert_int_equal(key_len, MANY_KEY_LEN);
    size_t i = (size_t)key[1] << 24 | (size_t)key[2] << 16 | (size_t)key[3] << 8 | key[4];
    assert_true(i < MANY_KEYS);
    assert_true(i >= scan->next);
    for (; scan->next < i; scan->next++) {
        assert_false(scan->model->present[scan->next]);
    }
    assert_true(scan->model->present[i]);
    assert_int_equal(value_len, sizeof(uint64_t));
    assert_memory_equal(value, &scan->model->value[i], sizeof(uint64_t));
    scan->next = i + 1;
    return 0;
}

/* A whole scan, one prefix scan and a scan from a start, against the model. */
static void many_check(gov_kv *kv, const many_model *m, uint64_t *random)
{
    many_scan scan = {.model = m};
    assert_int_equal(gov_kv_scan(kv, "k", 1, NULL, 0, many_visit, &scan, NULL, 0), 0);
    for (; scan.next < MANY_KEYS; scan.next++) {
        assert_false(m->present[scan.next]);
    }
    /* Indexes 256 * j .. 256 * j + 255 share the prefix of their first four key bytes. */
    size_t block = (size_t)(test_random(random) % (MANY_KEYS / 256));
    uint8_t prefix[MANY_KEY_LEN];
    many_key(block * 256, prefix);
    scan = (many_scan){.model = m, .next = block * 256};
    assert_int_equal(gov_kv_scan(kv, prefix, 4, NULL, 0, many_visit, &scan, NULL, 0), 0);
    for (; scan.next < block * 256 + 256; scan.next++) {
        assert_false(m->present[scan.next]);
    }
    uint8_t start[MANY_KEY_LEN];
    size_t from = (size_t)(test_random(random) % MANY_KEYS);
    many_key(from, start);
    scan = (many_scan){.model = m, .next = from};
    assert_int_equal(gov_kv_scan(kv, NULL, 0, start, sizeof(start), many_visit, &scan, NULL, 0), 0);
    for (size_t n = 0; n < 50; n++) {
        size_t i = (size_t)(test_random(random) % MANY_KEYS);
        uint8_t key[MANY_KEY_LEN];
        many_key(i, key);
        if (m->present[i]) {
            check_get(kv, key, sizeof(key), &m->value[i], sizeof(uint64_t));
        } else {
            check_missing(kv, key, sizeof(key));
        }
    }
}

/* Random batches of up to 1000 puts and deletes, then one batch deleting everything
 * left, then a few keys again; checked against the model all along. */
static void many_run(gov_kv *kv, many_model *m, uint64_t *random)
{
    uint64_t version = 0;
    uint8_t key[MANY_KEY_LEN];
    for (size_t round = 0; round < 80; round++) {
        gov_kv_batch batch;
        gov_kv_batch_init(&batch);
        size_t ops = 1 + (size_t)(test_random(random) % 1000);
        for (size_t n = 0; n < ops; n++) {
            size_t i = (size_t)(test_random(random) % MANY_KEYS);
            many_key(i, key);
            if (test_random(random) % 4 != 0) {
                m->present[i] = true;
                m->value[i] = ++version;
                assert_int_equal(
                    gov_kv_batch_put(&batch, key, sizeof(key), &m->value[i], sizeof(uint64_t)), 0);
            } else {
                m->present[i] = false;
                assert_int_equal(gov_kv_batch_delete(&batch, key, sizeof(key)), 0);
            }
        }
        write_batch(kv, &batch);
        gov_kv_batch_clear(&batch);
        if (round % 10 == 9) {
            many_check(kv, m, random);
        }
    }
    gov_kv_batch batch;
    gov_kv_batch_init(&batch);
    for (size_t i = 0; i < MANY_KEYS; i++) {
        if (m->present[i]) {
            many_key(i, key);
            assert_int_equal(gov_kv_batch_delete(&batch, key, sizeof(key)), 0);
            m->present[i] = false;
        }
    }
    write_batch(kv, &batch);
    gov_kv_batch_clear(&batch);
    many_check(kv, m, random);
    for (size_t i = 0; i < MANY_KEYS; i += 997) {
        many_key(i, key);
        m->present[i] = true;
        m->value[i] = ++version;
        put(kv, key, sizeof(key), &m->value[i], sizeof(uint64_t));
    }
    many_check(kv, m, random);
}

static void test_many_keys(void **state)
{
    (void)state;
    uint64_t random = test_seed() ^ 0x6d616e79ULL;
    many_model *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    gov_kv *memory = NULL;
    assert_int_equal(gov_kv_memory_open(&memory), 0);
    many_run(memory, m, &random);
    size_t present = 0;
    for (size_t i = 0; i < MANY_KEYS; i++) {
        present += m->present[i];
    }
    assert_int_equal(gov_kv_memory_count(memory), present);
    gov_kv_close(memory);

    /* The same through an overlay, whose tombstones then stay in its own map; its
     * batch, committed to an empty base, gives the base the same entries. */
    *m = (many_model){0};
    gov_kv *base = NULL;
    gov_kv *overlay = NULL;
    assert_int_equal(gov_kv_memory_open(&base), 0);
    assert_int_equal(gov_kv_overlay_open(base, &overlay), 0);
    many_run(overlay, m, &random);
    assert_int_equal(gov_kv_memory_count(base), 0);
    write_batch(base, gov_kv_overlay_batch(overlay));
    many_check(base, m, &random);
    present = 0;
    for (size_t i = 0; i < MANY_KEYS; i++) {
        present += m->present[i];
    }
    assert_int_equal(gov_kv_memory_count(base), present);
    gov_kv_close(overlay);
    gov_kv_close(base);
    free(m);
}

/* The map's two indexes (ledger/kv_memory.c): exact keys through a hash table, order
 * through a skip list that the unsorted new keys join only when a scan needs it. Random
 * batches, mostly small as the ledger's are, of puts, updates and deletes on keys of 0
 * to 9 bytes over a four-letter alphabet (so keys are often prefixes of one another and
 * the empty key occurs), interleaved with gets and with scans by prefix and start that
 * sometimes stop early; all checked against a sorted array. The map grows to thousands
 * of entries, shrinks to a handful and grows again: the hash table grows and shrinks
 * several times, and scans re-sort after every few batches. */
enum { ORDER_KEY_MAX = 9, ORDER_ROUNDS = 3000 };

typedef struct {
    uint8_t key[ORDER_KEY_MAX];
    size_t key_len;
    uint64_t value;
} order_entry;

typedef struct {
    order_entry *entries; /* sorted by key */
    size_t count;
    size_t capacity;
} order_model;

static const uint8_t order_alphabet[] = {0x00, 0x01, 'a', 0xff};

static void order_random_key(uint64_t *random, uint8_t key[ORDER_KEY_MAX], size_t *key_len,
                             size_t max_len)
{
    *key_len = (size_t)(test_random(random) % (max_len + 1));
    for (size_t i = 0; i < *key_len; i++) {
        key[i] = order_alphabet[test_random(random) % sizeof(order_alphabet)];
    }
}

static int order_compare(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    size_t common = a_len < b_len ? a_len : b_len;
    int order = common > 0 ? memcmp(a, b, common) : 0;
    return order != 0 ? order : (a_len > b_len) - (a_len < b_len);
}

/* The first index whose key is >= key. */
static size_t order_lower_bound(const order_model *m, const uint8_t *key, size_t key_len)
{
    size_t low = 0;
    size_t high = m->count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (order_compare(m->entries[mid].key, m->entries[mid].key_len, key, key_len) < 0) {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    return low;
}

static bool order_found(const order_model *m, size_t at, const uint8_t *key, size_t key_len)
{
    return at < m->count &&
           order_compare(m->entries[at].key, m->entries[at].key_len, key, key_len) == 0;
}

static void order_put(order_model *m, const uint8_t *key, size_t key_len, uint64_t value)
{
    size_t at = order_lower_bound(m, key, key_len);
    if (!order_found(m, at, key, key_len)) {
        if (m->count == m->capacity) {
            m->capacity = m->capacity > 0 ? 2 * m->capacity : 64;
            m->entries = realloc(m->entries, m->capacity * sizeof(order_entry));
            assert_non_null(m->entries);
        }
        memmove(&m->entries[at + 1], &m->entries[at], (m->count - at) * sizeof(order_entry));
        m->count++;
        m->entries[at] = (order_entry){.key_len = key_len};
        if (key_len > 0) {
            memcpy(m->entries[at].key, key, key_len);
        }
    }
    m->entries[at].value = value;
}

static void order_delete(order_model *m, const uint8_t *key, size_t key_len)
{
    size_t at = order_lower_bound(m, key, key_len);
    if (order_found(m, at, key, key_len)) {
        memmove(&m->entries[at], &m->entries[at + 1], (m->count - at - 1) * sizeof(order_entry));
        m->count--;
    }
}

/* One batch: puts of random keys (new ones or updates) and deletes of present or random
 * keys, the same key sometimes several times (the later operation wins). In the growing
 * phase puts dominate; in the shrinking phase deletes do. */
static void order_batch(gov_kv *kv, order_model *m, uint64_t *random, bool growing,
                        uint64_t *version)
{
    gov_kv_batch batch;
    gov_kv_batch_init(&batch);
    size_t ops = 1 + (size_t)(test_random(random) % (test_random(random) % 8 == 0 ? 400 : 30));
    for (size_t n = 0; n < ops; n++) {
        uint8_t key[ORDER_KEY_MAX];
        size_t key_len;
        unsigned choice = (unsigned)(test_random(random) % 10);
        bool put = growing ? choice < 7 : choice < 2;
        if (!put && m->count > 0 && test_random(random) % 4 != 0) {
            const order_entry *victim = &m->entries[test_random(random) % m->count];
            key_len = victim->key_len;
            memcpy(key, victim->key, key_len);
        } else {
            order_random_key(random, key, &key_len, ORDER_KEY_MAX);
        }
        if (put) {
            uint64_t value = ++(*version);
            /* Some values empty, to check that an empty value is not taken for a delete. */
            size_t value_len = value % 5 == 0 ? 0 : sizeof(value);
            order_put(m, key, key_len, value_len == 0 ? 0 : value);
            uint64_t stored = value_len == 0 ? 0 : value;
            assert_int_equal(gov_kv_batch_put(&batch, key, key_len, &stored, value_len), 0);
        } else {
            order_delete(m, key, key_len);
            assert_int_equal(gov_kv_batch_delete(&batch, key, key_len), 0);
        }
    }
    write_batch(kv, &batch);
    gov_kv_batch_clear(&batch);
}

static void order_check_record(const record *got, const order_entry *want)
{
    assert_int_equal(got->key_len, want->key_len);
    if (want->key_len > 0) {
        assert_memory_equal(got->key, want->key, want->key_len);
    }
    if (want->value == 0) {
        assert_int_equal(got->value_len, 0);
    } else {
        assert_int_equal(got->value_len, sizeof(uint64_t));
        assert_memory_equal(got->value, &want->value, sizeof(uint64_t));
    }
}

/* A scan from a random start under a random prefix, sometimes stopped early. */
static void order_check_scan(gov_kv *kv, const order_model *m, uint64_t *random)
{
    uint8_t prefix[ORDER_KEY_MAX];
    size_t prefix_len;
    order_random_key(random, prefix, &prefix_len, 2);
    uint8_t start[ORDER_KEY_MAX];
    size_t start_len;
    order_random_key(random, start, &start_len, 4);
    bool use_start = test_random(random) % 2 == 0;
    blob prefix_blob = {(const char *)prefix, prefix_len};
    blob start_blob = {(const char *)start, start_len};
    recorder r = {.stop_at = test_random(random) % 4 == 0 ? 1 + test_random(random) % 20 : 0};
    assert_int_equal(scan_into(kv, &prefix_blob, use_start ? &start_blob : NULL, &r), 0);
    size_t at = order_lower_bound(m, prefix, prefix_len);
    if (use_start && order_compare(start, start_len, prefix, prefix_len) > 0) {
        at = order_lower_bound(m, start, start_len);
    }
    size_t seen = 0;
    for (; at < m->count; at++) {
        const order_entry *want = &m->entries[at];
        if (want->key_len < prefix_len ||
            (prefix_len > 0 && memcmp(want->key, prefix, prefix_len) != 0)) {
            break;
        }
        if (r.stop_at != 0 && seen == r.stop_at) {
            break;
        }
        assert_true(seen < r.count);
        order_check_record(&r.records[seen++], want);
    }
    assert_int_equal(r.count, seen);
    recorder_free(&r);
}

static void order_check_gets(gov_kv *kv, const order_model *m, uint64_t *random)
{
    for (size_t n = 0; n < 20; n++) {
        uint8_t key[ORDER_KEY_MAX];
        size_t key_len;
        order_random_key(random, key, &key_len, ORDER_KEY_MAX);
        if (m->count > 0 && n % 2 == 0) {
            const order_entry *entry = &m->entries[test_random(random) % m->count];
            key_len = entry->key_len;
            memcpy(key, entry->key, key_len);
        }
        size_t at = order_lower_bound(m, key, key_len);
        if (!order_found(m, at, key, key_len)) {
            check_missing(kv, key, key_len);
        } else if (m->entries[at].value == 0) {
            check_get(kv, key, key_len, "", 0);
        } else {
            check_get(kv, key, key_len, &m->entries[at].value, sizeof(uint64_t));
        }
    }
}

/* Grows past 3000 entries, shrinks below 20, grows again; scans every few batches and
 * checks everything at each turn. */
static void order_run(gov_kv *kv, order_model *m, uint64_t *random)
{
    uint64_t version = 0;
    bool growing = true;
    unsigned turns = 0;
    for (size_t round = 0; round < ORDER_ROUNDS; round++) {
        order_batch(kv, m, random, growing, &version);
        if (growing && m->count > 3000) {
            growing = false;
            turns++;
        } else if (!growing && m->count < 20) {
            growing = true;
            turns++;
        }
        order_check_gets(kv, m, random);
        if (test_random(random) % 4 == 0) {
            order_check_scan(kv, m, random);
        }
    }
    /* Both turns happened, so both resizes were exercised. */
    assert_true(turns >= 2);
    recorder all = {0};
    assert_int_equal(scan_into(kv, NULL, NULL, &all), 0);
    assert_int_equal(all.count, m->count);
    for (size_t i = 0; i < m->count; i++) {
        order_check_record(&all.records[i], &m->entries[i]);
    }
    recorder_free(&all);
}

static void test_map_order_model(void **state)
{
    (void)state;
    uint64_t random = test_seed() ^ 0x6f72646572ULL;
    order_model m = {0};
    gov_kv *memory = NULL;
    assert_int_equal(gov_kv_memory_open(&memory), 0);
    order_run(memory, &m, &random);
    assert_int_equal(gov_kv_memory_count(memory), m.count);
    gov_kv_close(memory);

    /* Through an overlay, whose map keeps tombstones; its batch then gives an empty base
     * the same entries. */
    m.count = 0;
    gov_kv *base = NULL;
    gov_kv *overlay = NULL;
    assert_int_equal(gov_kv_memory_open(&base), 0);
    assert_int_equal(gov_kv_overlay_open(base, &overlay), 0);
    order_run(overlay, &m, &random);
    write_batch(base, gov_kv_overlay_batch(overlay));
    assert_int_equal(gov_kv_memory_count(base), m.count);
    assert_same_entries(base, overlay);
    gov_kv_close(overlay);
    gov_kv_close(base);
    free(m.entries);
}

/* ------------------------------------------------------------------------------------
 * 5. LevelDB.
 * ---------------------------------------------------------------------------------- */

static void test_leveldb_reopen(void **state)
{
    (void)state;
    char *dir = test_make_temp_dir();
    char *path = join_path(dir, "db");
    gov_kv *kv = open_leveldb(path, true);
    put_sorted_keys(kv);
    put_blob(kv, B("gone"), B("soon"));
    delete_key(kv, B("gone"));
    gov_kv_close(kv);

    /* Reopened without create, and once more with create on an existing store. */
    for (int pass = 0; pass < 2; pass++) {
        kv = open_leveldb(path, pass == 1);
        check_scan(kv, NULL, NULL, 0, ARRAY_LEN(sorted_keys));
        check_missing(kv, "gone", 4);
        gov_kv_close(kv);
    }
    test_remove_tree(dir);
    free(path);
    free(dir);
}

static void test_leveldb_open_errors(void **state)
{
    (void)state;
    char *dir = test_make_temp_dir();
    char *path = join_path(dir, "db");
    char *deeper = join_path(dir, "missing/db");
    char why[512] = "";
    gov_kv sentinel;
    gov_kv *kv = &sentinel; /* must be reset to NULL */

    /* No store without create: GOV_EIO with LevelDB's own message. */
    assert_int_equal(gov_kv_leveldb_open(path, false, &kv, why, sizeof(why)), GOV_EIO);
    assert_null(kv);
    if (strstr(why, "does not exist") == NULL) {
        fail_msg("unexpected message: %s", why);
    }
    kv = &sentinel;
    why[0] = '\0';
    assert_int_equal(gov_kv_leveldb_open(deeper, false, &kv, why, sizeof(why)), GOV_EIO);
    assert_null(kv);
    assert_non_null(strstr(why, "missing/db"));

    /* A store is opened by one process at a time: a second open fails on the lock. */
    gov_kv *first = open_leveldb(path, true);
    kv = &sentinel;
    why[0] = '\0';
    assert_int_equal(gov_kv_leveldb_open(path, true, &kv, why, sizeof(why)), GOV_EIO);
    assert_null(kv);
    assert_non_null(strstr(why, "lock"));
    gov_kv_close(first);

    test_remove_tree(dir);
    free(deeper);
    free(path);
    free(dir);
}

enum {
    CORRUPT_KEYS = 2048,
    CORRUPT_VALUE_LEN = 1024, /* 2 MiB in all */
    CORRUPT_BATCH = 128,
    CORRUPT_SPAN = 64, /* bytes flipped in the middle of the table file */
};

enum { CORRUPT_KEY_LEN = 6 }; /* "k%05zu" */

static void corrupt_key(size_t i, char key[32])
{
    snprintf(key, 32, "k%05zu", i);
}

/* Random, hence incompressible, so that the table holds the full 2 MiB. */
static void corrupt_value(size_t i, uint8_t value[CORRUPT_VALUE_LEN])
{
    uint64_t random_state = (uint64_t)(i + 1) * 0x9e3779b97f4a7c15ULL;
    test_random_bytes(&random_state, value, CORRUPT_VALUE_LEN);
}

static void fill_for_corruption(const char *path)
{
    gov_kv *kv = open_leveldb(path, true);
    uint8_t value[CORRUPT_VALUE_LEN];
    for (size_t first = 0; first < CORRUPT_KEYS; first += CORRUPT_BATCH) {
        gov_kv_batch batch;
        gov_kv_batch_init(&batch);
        for (size_t i = first; i < first + CORRUPT_BATCH; i++) {
            char key[32];
            corrupt_key(i, key);
            corrupt_value(i, value);
            assert_int_equal(gov_kv_batch_put(&batch, key, CORRUPT_KEY_LEN, value, sizeof(value)),
                             0);
        }
        write_batch(kv, &batch);
        gov_kv_batch_clear(&batch);
    }
    gov_kv_close(kv);
    /* The writes are in LevelDB's log; reopening replays the log into a table file
     * (.ldb), which is what this test corrupts. */
    gov_kv_close(open_leveldb(path, false));
}

/* Flips CORRUPT_SPAN bytes in the middle of the largest table file. */
static void corrupt_largest_table(const char *path)
{
    DIR *dir = opendir(path);
    assert_non_null(dir);
    char *largest = NULL;
    off_t largest_size = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        size_t len = strlen(entry->d_name);
        if (len < 4 || strcmp(entry->d_name + len - 4, ".ldb") != 0) {
            continue;
        }
        char *file = join_path(path, entry->d_name);
        struct stat info;
        assert_int_equal(stat(file, &info), 0);
        if (info.st_size > largest_size) {
            free(largest);
            largest = file;
            largest_size = info.st_size;
        } else {
            free(file);
        }
    }
    closedir(dir);
    if (largest == NULL || largest_size < 1024 * 1024) {
        fail_msg("no table file of at least 1 MiB in %s", path);
    }
    int fd = open(largest, O_RDWR);
    assert_true(fd >= 0);
    uint8_t bytes[CORRUPT_SPAN];
    off_t middle = largest_size / 2;
    assert_int_equal(pread(fd, bytes, sizeof(bytes), middle), (ssize_t)sizeof(bytes));
    for (size_t i = 0; i < sizeof(bytes); i++) {
        bytes[i] ^= 0xff;
    }
    assert_int_equal(pwrite(fd, bytes, sizeof(bytes), middle), (ssize_t)sizeof(bytes));
    assert_int_equal(close(fd), 0);
    free(largest);
}

typedef struct {
    size_t visited;
} corrupt_scan;

/* Every entry a scan of the damaged store visits is the next key in order, with its
 * own value: no entry wrong, none skipped. */
static int check_corrupt_entry(void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
                               size_t value_len)
{
    corrupt_scan *scan = arg;
    char expected_key[32];
    uint8_t expected_value[CORRUPT_VALUE_LEN];
    corrupt_key(scan->visited, expected_key);
    corrupt_value(scan->visited, expected_value);
    assert_int_equal(key_len, CORRUPT_KEY_LEN);
    assert_memory_equal(key, expected_key, CORRUPT_KEY_LEN);
    assert_int_equal(value_len, CORRUPT_VALUE_LEN);
    assert_memory_equal(value, expected_value, CORRUPT_VALUE_LEN);
    scan->visited++;
    return 0;
}

static void test_leveldb_corruption(void **state)
{
    (void)state;
    char *dir = test_make_temp_dir();
    char *path = join_path(dir, "db");
    fill_for_corruption(path);
    corrupt_largest_table(path);

    char why[512] = "";
    gov_kv *kv = NULL;
    int rc = gov_kv_leveldb_open(path, false, &kv, why, sizeof(why));
    if (rc != 0) {
        /* Refusing to open at all would also be a correct report. */
        assert_int_equal(rc, GOV_EIO);
        assert_true(why[0] != '\0');
        printf("# corruption: the store refuses to open: %s\n", why);
        goto out;
    }

    /* Each key reads back exactly, or fails with an error: never other data. */
    size_t unreadable = 0;
    size_t first_unreadable = CORRUPT_KEYS;
    char first_why[512] = "";
    uint8_t expected[CORRUPT_VALUE_LEN];
    for (size_t i = 0; i < CORRUPT_KEYS; i++) {
        char key[32];
        corrupt_key(i, key);
        corrupt_value(i, expected);
        uint8_t *value = NULL;
        size_t value_len = 0;
        why[0] = '\0';
        rc = gov_kv_get(kv, key, CORRUPT_KEY_LEN, &value, &value_len, why, sizeof(why));
        if (rc == 0) {
            assert_int_equal(value_len, CORRUPT_VALUE_LEN);
            assert_memory_equal(value, expected, CORRUPT_VALUE_LEN);
            free(value);
            continue;
        }
        assert_int_equal(rc, GOV_EIO);
        assert_null(value);
        assert_true(why[0] != '\0');
        if (unreadable++ == 0) {
            first_unreadable = i;
            snprintf(first_why, sizeof(first_why), "%s", why);
        }
    }
    /* The damage must be noticed: a test that passes on a healthy store proves nothing. */
    assert_true(unreadable > 0);

    /* A scan reports the damage before it visits anything past it. */
    corrupt_scan scan = {0};
    why[0] = '\0';
    rc = gov_kv_scan(kv, "k", 1, NULL, 0, check_corrupt_entry, &scan, why, sizeof(why));
    assert_int_equal(rc, GOV_EIO);
    assert_true(why[0] != '\0');
    assert_int_equal(scan.visited, first_unreadable);
    printf("# corruption: %zu of %d keys unreadable from key %zu (\"%s\"); the scan stops "
           "there with \"%s\"\n",
           unreadable, CORRUPT_KEYS, first_unreadable, first_why, why);
    gov_kv_close(kv);
out:
    test_remove_tree(dir);
    free(path);
    free(dir);
}

/* ------------------------------------------------------------------------------------ */

#define CONTRACT_TESTS(setup)                                                    \
    cmocka_unit_test_setup_teardown(test_get_missing, setup, teardown),          \
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),       \
        cmocka_unit_test_setup_teardown(test_overwrite, setup, teardown),        \
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),           \
        cmocka_unit_test_setup_teardown(test_batch_later_wins, setup, teardown), \
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),           \
        cmocka_unit_test_setup_teardown(test_scan_order, setup, teardown),       \
        cmocka_unit_test_setup_teardown(test_scan_prefix, setup, teardown),      \
        cmocka_unit_test_setup_teardown(test_scan_start, setup, teardown),       \
        cmocka_unit_test_setup_teardown(test_scan_stop, setup, teardown),        \
        cmocka_unit_test_setup_teardown(test_scan_abort, setup, teardown),       \
        cmocka_unit_test_setup_teardown(test_scan_reads_inside, setup, teardown)

static void test_batches(void **state)
{
    (void)state;
    test_batch_contents();
    test_batch_growth();
    test_batch_limits();
}

int main(void)
{
    test_seed();
    const struct CMUnitTest memory_contract[] = {CONTRACT_TESTS(setup_memory)};
    const struct CMUnitTest overlay_contract[] = {CONTRACT_TESTS(setup_overlay)};
    const struct CMUnitTest leveldb_contract[] = {CONTRACT_TESTS(setup_leveldb)};
    const struct CMUnitTest specific[] = {
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_memory_fail_after),
        cmocka_unit_test(test_overlay_isolation),
        cmocka_unit_test(test_overlay_failed_base),
        cmocka_unit_test(test_overlay_reset),
        cmocka_unit_test(test_overlay_model_memory),
        cmocka_unit_test(test_overlay_model_leveldb),
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_map_order_model),
        cmocka_unit_test(test_leveldb_reopen),
        cmocka_unit_test(test_leveldb_open_errors),
        cmocka_unit_test(test_leveldb_corruption),
    };
    int failed = 0;
    failed += cmocka_run_group_tests_name("kv contract: memory", memory_contract, NULL, NULL);
    failed += cmocka_run_group_tests_name("kv contract: overlay over memory", overlay_contract,
                                          NULL, NULL);
    failed += cmocka_run_group_tests_name("kv contract: leveldb", leveldb_contract, NULL, NULL);
    failed += cmocka_run_group_tests_name("kv implementations", specific, NULL, NULL);
    return failed;
}
