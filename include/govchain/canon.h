/*
 * govchain canonical encoding: the strict msgpack layer that every hashed or signed
 * structure goes through (transactions, blocks, certificates, consensus messages,
 * genesis). It sits below crypto-using modules and above msgpack-c only; no msgpack
 * type appears in this header or leaves codec/.
 *
 * Canonical form: every structure is a msgpack array with a fixed number of elements
 * in a fixed order (never a map); integers are non-negative and in their shortest
 * encoding; byte strings are `bin`, text is `str` holding valid UTF-8 without NUL;
 * optional values are `nil`; every length uses the shortest header. Floats, maps,
 * extension types and negative integers never appear. Hence encode(decode(x)) == x for
 * every accepted x, and hashes of encodings identify structures.
 *
 * Encoding appends to a gov_buf. An allocation failure is sticky: later calls do
 * nothing and gov_buf_ok() reports false, so an encoder checks once at its end.
 *
 * Decoding is strict and in two passes. gov_dec_begin() first scans the raw bytes:
 * it rejects any type outside the canonical set, non-shortest integers and lengths,
 * containers nested deeper than GOV_DEC_DEPTH_MAX, any declared length larger than the
 * bytes left (so nothing is allocated on a length the input cannot back), and trailing
 * bytes. Only then does msgpack-c unpack the bytes into its zone, and the typed calls
 * below copy values out into the caller's structures. The first failure is sticky:
 * later calls return false and do nothing, and gov_dec_finish() reports the failure as
 * GOV_EDECODE (or GOV_ELIMIT for a field over its limit, GOV_ENOMEM) with the field's
 * name and the reason in why[].
 */
#ifndef GOVCHAIN_CANON_H
#define GOVCHAIN_CANON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GOV_DEC_DEPTH_MAX 12

typedef struct {
    uint8_t *data;
    size_t len;
    size_t capacity;
    bool failed;
} gov_buf;

void gov_buf_init(gov_buf *buf);
void gov_buf_free(gov_buf *buf);
void gov_buf_reset(gov_buf *buf);
bool gov_buf_ok(const gov_buf *buf);
void gov_buf_append(gov_buf *buf, const void *data, size_t len);

void gov_enc_array(gov_buf *buf, uint32_t count);
void gov_enc_uint(gov_buf *buf, uint64_t value);
void gov_enc_bool(gov_buf *buf, bool value);
void gov_enc_nil(gov_buf *buf);
void gov_enc_bin(gov_buf *buf, const void *data, size_t len);
void gov_enc_str(gov_buf *buf, const char *text, size_t len);
void gov_enc_cstr(gov_buf *buf, const char *text);

struct msgpack_object;
struct msgpack_zone;

/* The decoder's state. Its fields are private to codec/canon.c. */
typedef struct {
    struct msgpack_zone *zone;
    const struct msgpack_object *frame_items[GOV_DEC_DEPTH_MAX + 1];
    uint32_t frame_size[GOV_DEC_DEPTH_MAX + 1];
    uint32_t frame_next[GOV_DEC_DEPTH_MAX + 1];
    const char *frame_name[GOV_DEC_DEPTH_MAX + 1];
    bool frame_is_list[GOV_DEC_DEPTH_MAX + 1]; /* entered by gov_dec_array_max */
    int depth;
    int error;
    char *why;
    size_t why_len;
} gov_dec;

/* Scans and unpacks data[len]. max_len bounds the whole input and max_values the number
 * of msgpack values in it, containers included (GOV_ELIMIT above either): msgpack-c
 * spends a 24-byte object on each value, so the value bound, taken from the structure's
 * own limits (govchain/limits.h), is what bounds the memory a decode can take.
 * Always pair with gov_dec_finish(), even after a failure. The root value is read with
 * the calls below like an array of one element. Errors name the field's path, with
 * list elements by index: "block.txs[3].body.department: ...". */
void gov_dec_begin(gov_dec *dec, const uint8_t *data, size_t len, size_t max_len, size_t max_values,
                   char *why, size_t why_len);
/* Checks that the whole input was read, frees msgpack's zone, and returns 0 or the
 * first error. */
int gov_dec_finish(gov_dec *dec);
bool gov_dec_ok(const gov_dec *dec);
/* Records a semantic error found by the caller (e.g. a count that does not match), so
 * that it is reported like a decoding error. Returns false. */
bool gov_dec_reject(gov_dec *dec, int code, const char *field, const char *reason);

/* Enters an array of exactly `count` elements / of at most `max` elements. */
bool gov_dec_array(gov_dec *dec, const char *field, uint32_t count);
bool gov_dec_array_max(gov_dec *dec, const char *field, uint32_t max, uint32_t *count);
/* Enters a record whose shape depends on a field inside it (e.g. a message type):
 * an array of min..max elements, anything else malformed. */
bool gov_dec_array_between(gov_dec *dec, const char *field, uint32_t min, uint32_t max,
                           uint32_t *count);
/* Leaves the current array; fails when elements are left unread. */
bool gov_dec_leave(gov_dec *dec);

bool gov_dec_uint(gov_dec *dec, const char *field, uint64_t max, uint64_t *out);
bool gov_dec_u32(gov_dec *dec, const char *field, uint32_t max, uint32_t *out);
bool gov_dec_bool(gov_dec *dec, const char *field, bool *out);
/* True (and consumes it) when the next value is nil; false otherwise or on error. */
bool gov_dec_nil(gov_dec *dec);
/* A bin of exactly len bytes, copied into out. */
bool gov_dec_bin_fixed(gov_dec *dec, const char *field, void *out, size_t len);
/* A bin of at most max bytes, copied into a new heap buffer (*out, owned by the caller;
 * NULL for an empty bin). */
bool gov_dec_bin(gov_dec *dec, const char *field, size_t max, uint8_t **out, size_t *len);
/* A str of at most max bytes of UTF-8 without NUL, copied with a terminating NUL into
 * out[max + 1]. */
bool gov_dec_str(gov_dec *dec, const char *field, size_t max, char *out);
/* The same into a new heap buffer (*out, owned by the caller). */
bool gov_dec_str_dup(gov_dec *dec, const char *field, size_t max, char **out);

/* True when data[len] is valid UTF-8 without NUL bytes. */
bool gov_utf8_valid(const void *data, size_t len);
/* The same, and free of control characters (C0, DEL, C1, line and paragraph
 * separators) and of bidirectional overrides and isolates, so that it can be shown on a
 * terminal or a page as it is: for names that people read. */
bool gov_utf8_printable(const void *data, size_t len);

#endif
