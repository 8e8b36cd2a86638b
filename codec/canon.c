/*
 * Canonical msgpack: the encoder over msgpack-c's packer and the strict two-pass
 * decoder (see include/govchain/canon.h for the rules).
 *
 * Why a hand-written scan before msgpack-c unpacks: msgpack-c allocates an array's
 * element table from the count in its header before it reads any element, so a
 * five-byte input declaring 2^32 - 1 elements asks for about 100 GB. It also
 * normalises integers, so it cannot tell a shortest encoding from a padded one. The
 * scan rejects both, and everything else outside the canonical subset, on the raw
 * bytes; msgpack-c then only ever sees input whose every length is backed by bytes.
 */
#include "govchain/canon.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "govchain/error.h"

/* Buffer ------------------------------------------------------------------------- */

void gov_buf_init(gov_buf *buf)
{
    memset(buf, 0, sizeof(*buf));
}

void gov_buf_free(gov_buf *buf)
{
    free(buf->data);
    gov_buf_init(buf);
}

void gov_buf_reset(gov_buf *buf)
{
    buf->len = 0;
    buf->failed = false;
}

bool gov_buf_ok(const gov_buf *buf)
{
    return !buf->failed;
}

void gov_buf_append(gov_buf *buf, const void *data, size_t len)
{
    if (buf->failed || len == 0) {
        return;
    }
    if (len > SIZE_MAX / 2 - buf->len) {
        buf->failed = true;
        return;
    }
    if (buf->len + len > buf->capacity) {
        size_t capacity = buf->capacity < 256 ? 256 : buf->capacity;
        while (capacity < buf->len + len) {
            capacity *= 2;
        }
        uint8_t *grown = realloc(buf->data, capacity);
        if (grown == NULL) {
            buf->failed = true;
            return;
        }
        buf->data = grown;
        buf->capacity = capacity;
    }
    memcpy(buf->data + buf->len, data, len);
    buf->len += len;
}

/* Encoder: msgpack-c's packer always picks the shortest form, which is what canonical
 * encoding requires. A packer is two pointers, so each call makes its own. */

static int buf_write(void *data, const char *bytes, size_t len)
{
    gov_buf *buf = data;
    gov_buf_append(buf, bytes, len);
    return buf->failed ? -1 : 0;
}

#define WITH_PACKER(buf, call)                              \
    do {                                                    \
        if (!(buf)->failed) {                               \
            msgpack_packer packer;                          \
            msgpack_packer_init(&packer, (buf), buf_write); \
            (void)(call);                                   \
        }                                                   \
    } while (0)

void gov_enc_array(gov_buf *buf, uint32_t count)
{
    WITH_PACKER(buf, msgpack_pack_array(&packer, count));
}

void gov_enc_uint(gov_buf *buf, uint64_t value)
{
    WITH_PACKER(buf, msgpack_pack_uint64(&packer, value));
}

void gov_enc_bool(gov_buf *buf, bool value)
{
    WITH_PACKER(buf, value ? msgpack_pack_true(&packer) : msgpack_pack_false(&packer));
}

void gov_enc_nil(gov_buf *buf)
{
    WITH_PACKER(buf, msgpack_pack_nil(&packer));
}

void gov_enc_bin(gov_buf *buf, const void *data, size_t len)
{
    if (len > UINT32_MAX) {
        buf->failed = true;
        return;
    }
    WITH_PACKER(buf, msgpack_pack_bin_with_body(&packer, data, len));
}

void gov_enc_str(gov_buf *buf, const char *text, size_t len)
{
    if (len > UINT32_MAX) {
        buf->failed = true;
        return;
    }
    WITH_PACKER(buf, msgpack_pack_str_with_body(&packer, text, len));
}

void gov_enc_cstr(gov_buf *buf, const char *text)
{
    gov_enc_str(buf, text, strlen(text));
}

/* Code points that move a terminal's cursor, change its state or reorder the text
 * around them: C0 and C1 controls, DEL, and the bidirectional embeddings, overrides
 * and isolates (the "Trojan Source" characters). */
static bool is_control(uint32_t code)
{
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) || (code >= 0x202a && code <= 0x202e) ||
           (code >= 0x2066 && code <= 0x2069) || code == 0x2028 || code == 0x2029;
}

static bool utf8_check(const void *data, size_t len, bool printable_only);

bool gov_utf8_valid(const void *data, size_t len)
{
    return utf8_check(data, len, false);
}

bool gov_utf8_printable(const void *data, size_t len)
{
    return utf8_check(data, len, true);
}

/* UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_check(const void *data, size_t len, bool printable_only)
{
    const uint8_t *s = data;
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        size_t extra;
        uint32_t min;
        uint32_t code;
        if (c == 0 || (printable_only && c < 0x80 && is_control(c))) {
            return false;
        } else if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            extra = 1, min = 0x80, code = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            extra = 2, min = 0x800, code = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            extra = 3, min = 0x10000, code = c & 0x07;
        } else {
            return false;
        }
        if (extra >= len - i) {
            return false;
        }
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return false;
            }
            code = (code << 6) | (s[i + k] & 0x3f);
        }
        if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) ||
            (printable_only && is_control(code))) {
            return false;
        }
        i += extra + 1;
    }
    return true;
}

/* Scan --------------------------------------------------------------------------- */

static uint64_t read_be(const uint8_t *p, size_t width)
{
    uint64_t value = 0;
    for (size_t i = 0; i < width; i++) {
        value = (value << 8) | p[i];
    }
    return value;
}

typedef struct {
    const uint8_t *data;
    size_t len;
    size_t pos;
    size_t header;                           /* where the value being scanned starts */
    size_t values;                           /* values seen so far, containers included */
    size_t values_max;                       /* msgpack-c spends one object (24 bytes) on each */
    uint32_t pending[GOV_DEC_DEPTH_MAX + 1]; /* elements still to read per level */
    int depth;
    char *why;
    size_t why_len;
} scanner;

static int scan_fail(scanner *s, size_t at, const char *reason)
{
    return gov_fail(s->why, s->why_len, GOV_EDECODE, "%s at byte %zu", reason, at);
}

/* Reads a big-endian length or value of `width` bytes after the type byte and checks
 * that it is at least `min`, i.e. that no shorter header could have carried it. */
static int scan_argument(scanner *s, size_t width, uint64_t min, uint64_t *out)
{
    size_t at = s->pos - 1;
    if (s->len - s->pos < width) {
        return scan_fail(s, at, "truncated header");
    }
    *out = read_be(s->data + s->pos, width);
    s->pos += width;
    if (*out < min) {
        return scan_fail(s, at, "non-shortest encoding");
    }
    return 0;
}

static int scan_body(scanner *s, uint64_t len)
{
    if (len > s->len - s->pos) {
        return scan_fail(s, s->header, "declared length exceeds the bytes left");
    }
    s->pos += (size_t)len;
    return 0;
}

static int scan_container(scanner *s, uint64_t count)
{
    /* Every element takes at least one byte. */
    if (count > s->len - s->pos) {
        return scan_fail(s, s->header, "declared element count exceeds the bytes left");
    }
    if (s->depth == GOV_DEC_DEPTH_MAX) {
        return scan_fail(s, s->header, "nested too deeply");
    }
    s->pending[++s->depth] = (uint32_t)count;
    return 0;
}

/* One value's header (and body for bin/str). Returns 0 or GOV_EDECODE. */
static int scan_value(scanner *s)
{
    size_t at = s->pos;
    s->header = at;
    if (++s->values > s->values_max) {
        return gov_fail(s->why, s->why_len, GOV_ELIMIT,
                        "more than %zu values, the most this structure can hold, at byte %zu",
                        s->values_max, at);
    }
    uint8_t type = s->data[s->pos++];
    uint64_t n = 0;
    int rc = 0;
    if (type <= 0x7f) { /* positive fixint */
        return 0;
    }
    if ((type & 0xf0) == 0x90) {
        return scan_container(s, type & 0x0f);
    }
    if ((type & 0xe0) == 0xa0) {
        return scan_body(s, type & 0x1f);
    }
    switch (type) {
    case 0xc0: /* nil */
    case 0xc2: /* false */
    case 0xc3: /* true */
        return 0;
    case 0xcc:
        return scan_argument(s, 1, 0x80, &n);
    case 0xcd:
        return scan_argument(s, 2, 0x100, &n);
    case 0xce:
        return scan_argument(s, 4, 0x10000, &n);
    case 0xcf:
        return scan_argument(s, 8, 0x100000000ULL, &n);
    case 0xc4:
        rc = scan_argument(s, 1, 0, &n);
        break; /* bin 8 */
    case 0xc5:
        rc = scan_argument(s, 2, 0x100, &n);
        break; /* bin 16 */
    case 0xc6:
        rc = scan_argument(s, 4, 0x10000, &n);
        break; /* bin 32 */
    case 0xd9:
        rc = scan_argument(s, 1, 0x20, &n);
        break; /* str 8 */
    case 0xda:
        rc = scan_argument(s, 2, 0x100, &n);
        break; /* str 16 */
    case 0xdb:
        rc = scan_argument(s, 4, 0x10000, &n);
        break; /* str 32 */
    case 0xdc:
        rc = scan_argument(s, 2, 0x10, &n);
        return rc != 0 ? rc : scan_container(s, n);
    case 0xdd:
        rc = scan_argument(s, 4, 0x10000, &n);
        return rc != 0 ? rc : scan_container(s, n);
    default:
        return scan_fail(s, at,
                         "type not allowed in canonical encoding "
                         "(map, float, extension or negative integer)");
    }
    return rc != 0 ? rc : scan_body(s, n);
}

static int scan(const uint8_t *data, size_t len, size_t values_max, char *why, size_t why_len)
{
    scanner s = {
        .data = data, .len = len, .values_max = values_max, .why = why, .why_len = why_len};
    s.pending[0] = 1;
    while (s.depth >= 0) {
        if (s.pending[s.depth] == 0) {
            s.depth--;
            continue;
        }
        s.pending[s.depth]--;
        if (s.pos == s.len) {
            return scan_fail(&s, s.pos, "truncated input");
        }
        int rc = scan_value(&s);
        if (rc != 0) {
            return rc;
        }
    }
    if (s.pos != s.len) {
        return scan_fail(&s, s.pos, "trailing bytes after the value");
    }
    return 0;
}

/* Decoder ------------------------------------------------------------------------ */

static void dec_error(gov_dec *dec, int code, const char *field, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

/* Records the first error as "<enclosing fields>.<field>: <reason>". */
static void dec_error(gov_dec *dec, int code, const char *field, const char *format, ...)
{
    if (dec->error != 0) {
        return;
    }
    dec->error = code;
    if (dec->why == NULL || dec->why_len == 0) {
        return;
    }
    size_t used = 0;
    dec->why[0] = '\0';
    /* Frame d's name, or "[i]" when frame d is an element of a list; then the field. */
    for (int d = 1; d <= dec->depth + 1 && used < dec->why_len; d++) {
        const char *name = d <= dec->depth ? dec->frame_name[d] : field;
        if (dec->frame_is_list[d - 1] && dec->frame_next[d - 1] > 0) {
            used += (size_t)snprintf(dec->why + used, dec->why_len - used, "[%u]",
                                     dec->frame_next[d - 1] - 1);
        } else if (name != NULL && name[0] != '\0') {
            used += (size_t)snprintf(dec->why + used, dec->why_len - used, "%s%s",
                                     used > 0 ? "." : "", name);
        }
    }
    if (used < dec->why_len) {
        used += (size_t)snprintf(dec->why + used, dec->why_len - used, "%s", used > 0 ? ": " : "");
    }
    if (used < dec->why_len) {
        va_list args;
        va_start(args, format);
        vsnprintf(dec->why + used, dec->why_len - used, format, args);
        va_end(args);
    }
}

void gov_dec_begin(gov_dec *dec, const uint8_t *data, size_t len, size_t max_len, size_t max_values,
                   char *why, size_t why_len)
{
    memset(dec, 0, sizeof(*dec));
    dec->why = why;
    dec->why_len = why_len;
    dec->frame_name[0] = "";
    if (why != NULL && why_len > 0) {
        why[0] = '\0';
    }
    if (len > max_len) {
        dec->error =
            gov_fail(why, why_len, GOV_ELIMIT, "%zu bytes, at most %zu allowed", len, max_len);
        return;
    }
    if (len == 0) {
        dec->error = gov_fail(why, why_len, GOV_EDECODE, "empty input");
        return;
    }
    dec->error = scan(data, len, max_values, why, why_len);
    if (dec->error != 0) {
        return;
    }
    msgpack_unpacked unpacked;
    msgpack_unpacked_init(&unpacked);
    size_t offset = 0;
    msgpack_unpack_return rc = msgpack_unpack_next(&unpacked, (const char *)data, len, &offset);
    if (rc != MSGPACK_UNPACK_SUCCESS || offset != len) {
        /* The scan accepted it, so only an allocation failure can land here. */
        msgpack_unpacked_destroy(&unpacked);
        dec->error =
            gov_fail(why, why_len, rc == MSGPACK_UNPACK_NOMEM_ERROR ? GOV_ENOMEM : GOV_EDECODE,
                     "msgpack-c could not unpack the value (%d)", (int)rc);
        return;
    }
    dec->zone = msgpack_unpacked_release_zone(&unpacked);
    if (dec->zone == NULL) { /* a lone scalar needs no zone; the root copy does */
        dec->zone = msgpack_zone_new(sizeof(msgpack_object));
    }
    msgpack_object *root =
        dec->zone != NULL ? msgpack_zone_malloc(dec->zone, sizeof(msgpack_object)) : NULL;
    if (root == NULL) {
        msgpack_unpacked_destroy(&unpacked);
        dec->error = gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
        return;
    }
    *root = unpacked.data;
    msgpack_unpacked_destroy(&unpacked);
    dec->frame_items[0] = root;
    dec->frame_size[0] = 1;
}

int gov_dec_finish(gov_dec *dec)
{
    if (dec->error == 0 && (dec->depth != 0 || dec->frame_next[0] != 1)) {
        dec_error(dec, GOV_EDECODE, "value", "not read to its end");
    }
    if (dec->zone != NULL) {
        msgpack_zone_free(dec->zone);
        dec->zone = NULL;
    }
    return dec->error;
}

bool gov_dec_ok(const gov_dec *dec)
{
    return dec->error == 0;
}

bool gov_dec_reject(gov_dec *dec, int code, const char *field, const char *reason)
{
    dec_error(dec, code, field, "%s", reason);
    return false;
}

/* The next element of the current array, or NULL (with the error recorded). */
static const msgpack_object *next(gov_dec *dec, const char *field)
{
    if (dec->error != 0) {
        return NULL;
    }
    int d = dec->depth;
    if (dec->frame_next[d] >= dec->frame_size[d]) {
        dec_error(dec, GOV_EDECODE, field, "missing (array too short)");
        return NULL;
    }
    return &dec->frame_items[d][dec->frame_next[d]++];
}

static const char *type_name(const msgpack_object *object)
{
    switch (object->type) {
    case MSGPACK_OBJECT_NIL:
        return "nil";
    case MSGPACK_OBJECT_BOOLEAN:
        return "bool";
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return "integer";
    case MSGPACK_OBJECT_STR:
        return "str";
    case MSGPACK_OBJECT_BIN:
        return "bin";
    case MSGPACK_OBJECT_ARRAY:
        return "array";
    default:
        return "other";
    }
}

static const msgpack_object *next_of_type(gov_dec *dec, const char *field, msgpack_object_type type,
                                          const char *expected)
{
    const msgpack_object *object = next(dec, field);
    if (object != NULL && object->type != type) {
        dec_error(dec, GOV_EDECODE, field, "expected %s, found %s", expected, type_name(object));
        return NULL;
    }
    return object;
}

static bool enter(gov_dec *dec, const char *field, const msgpack_object *object, bool is_list)
{
    if (dec->depth == GOV_DEC_DEPTH_MAX) {
        dec_error(dec, GOV_EDECODE, field, "nested too deeply");
        return false;
    }
    int d = ++dec->depth;
    dec->frame_items[d] = object->via.array.ptr;
    dec->frame_size[d] = object->via.array.size;
    dec->frame_next[d] = 0;
    dec->frame_name[d] = field;
    dec->frame_is_list[d] = is_list;
    return true;
}

bool gov_dec_array(gov_dec *dec, const char *field, uint32_t count)
{
    const msgpack_object *object = next_of_type(dec, field, MSGPACK_OBJECT_ARRAY, "array");
    if (object == NULL) {
        return false;
    }
    if (object->via.array.size != count) {
        dec_error(dec, GOV_EDECODE, field, "expected an array of %u elements, found %u", count,
                  object->via.array.size);
        return false;
    }
    return enter(dec, field, object, false);
}

bool gov_dec_array_max(gov_dec *dec, const char *field, uint32_t max, uint32_t *count)
{
    const msgpack_object *object = next_of_type(dec, field, MSGPACK_OBJECT_ARRAY, "array");
    if (object == NULL) {
        return false;
    }
    if (object->via.array.size > max) {
        dec_error(dec, GOV_ELIMIT, field, "%u elements, at most %u allowed", object->via.array.size,
                  max);
        return false;
    }
    *count = object->via.array.size;
    return enter(dec, field, object, true);
}

bool gov_dec_array_between(gov_dec *dec, const char *field, uint32_t min, uint32_t max,
                           uint32_t *count)
{
    const msgpack_object *object = next_of_type(dec, field, MSGPACK_OBJECT_ARRAY, "array");
    if (object == NULL) {
        return false;
    }
    if (object->via.array.size < min || object->via.array.size > max) {
        dec_error(dec, GOV_EDECODE, field, "expected an array of %u to %u elements, found %u", min,
                  max, object->via.array.size);
        return false;
    }
    *count = object->via.array.size;
    return enter(dec, field, object, false);
}

bool gov_dec_leave(gov_dec *dec)
{
    if (dec->error != 0) {
        return false;
    }
    int d = dec->depth;
    if (d == 0) {
        dec_error(dec, GOV_EINVAL, "value", "leave without a matching array");
        return false;
    }
    if (dec->frame_next[d] != dec->frame_size[d]) {
        dec_error(dec, GOV_EDECODE, NULL, "%u unexpected extra elements",
                  dec->frame_size[d] - dec->frame_next[d]);
        return false;
    }
    dec->depth--;
    return true;
}

bool gov_dec_uint(gov_dec *dec, const char *field, uint64_t max, uint64_t *out)
{
    const msgpack_object *object =
        next_of_type(dec, field, MSGPACK_OBJECT_POSITIVE_INTEGER, "integer");
    if (object == NULL) {
        return false;
    }
    if (object->via.u64 > max) {
        dec_error(dec, GOV_ELIMIT, field, "%llu is above the maximum %llu",
                  (unsigned long long)object->via.u64, (unsigned long long)max);
        return false;
    }
    *out = object->via.u64;
    return true;
}

bool gov_dec_u32(gov_dec *dec, const char *field, uint32_t max, uint32_t *out)
{
    uint64_t value = 0;
    if (!gov_dec_uint(dec, field, max, &value)) {
        return false;
    }
    *out = (uint32_t)value;
    return true;
}

bool gov_dec_bool(gov_dec *dec, const char *field, bool *out)
{
    const msgpack_object *object = next_of_type(dec, field, MSGPACK_OBJECT_BOOLEAN, "bool");
    if (object == NULL) {
        return false;
    }
    *out = object->via.boolean;
    return true;
}

bool gov_dec_nil(gov_dec *dec)
{
    if (dec->error != 0) {
        return false;
    }
    int d = dec->depth;
    if (dec->frame_next[d] >= dec->frame_size[d] ||
        dec->frame_items[d][dec->frame_next[d]].type != MSGPACK_OBJECT_NIL) {
        return false;
    }
    dec->frame_next[d]++;
    return true;
}

bool gov_dec_bin_fixed(gov_dec *dec, const char *field, void *out, size_t len)
{
    const msgpack_object *object = next_of_type(dec, field, MSGPACK_OBJECT_BIN, "bin");
    if (object == NULL) {
        return false;
    }
    if (object->via.bin.size != len) {
        dec_error(dec, GOV_EDECODE, field, "expected %zu bytes, found %u", len,
                  object->via.bin.size);
        return false;
    }
    memcpy(out, object->via.bin.ptr, len);
    return true;
}

bool gov_dec_bin(gov_dec *dec, const char *field, size_t max, uint8_t **out, size_t *len)
{
    const msgpack_object *object = next_of_type(dec, field, MSGPACK_OBJECT_BIN, "bin");
    if (object == NULL) {
        return false;
    }
    size_t size = object->via.bin.size;
    if (size > max) {
        dec_error(dec, GOV_ELIMIT, field, "%zu bytes, at most %zu allowed", size, max);
        return false;
    }
    *out = NULL;
    *len = size;
    if (size > 0) {
        *out = malloc(size);
        if (*out == NULL) {
            dec_error(dec, GOV_ENOMEM, field, "out of memory");
            return false;
        }
        memcpy(*out, object->via.bin.ptr, size);
    }
    return true;
}

static const msgpack_object *next_str(gov_dec *dec, const char *field, size_t max)
{
    const msgpack_object *object = next_of_type(dec, field, MSGPACK_OBJECT_STR, "str");
    if (object == NULL) {
        return NULL;
    }
    if (object->via.str.size > max) {
        dec_error(dec, GOV_ELIMIT, field, "%u bytes, at most %zu allowed", object->via.str.size,
                  max);
        return NULL;
    }
    if (!gov_utf8_valid(object->via.str.ptr, object->via.str.size)) {
        dec_error(dec, GOV_EDECODE, field, "not valid UTF-8 text (or contains NUL)");
        return NULL;
    }
    return object;
}

bool gov_dec_str(gov_dec *dec, const char *field, size_t max, char *out)
{
    const msgpack_object *object = next_str(dec, field, max);
    if (object == NULL) {
        return false;
    }
    memcpy(out, object->via.str.ptr, object->via.str.size);
    out[object->via.str.size] = '\0';
    return true;
}

bool gov_dec_str_dup(gov_dec *dec, const char *field, size_t max, char **out)
{
    const msgpack_object *object = next_str(dec, field, max);
    if (object == NULL) {
        return false;
    }
    *out = malloc((size_t)object->via.str.size + 1);
    if (*out == NULL) {
        dec_error(dec, GOV_ENOMEM, field, "out of memory");
        return false;
    }
    memcpy(*out, object->via.str.ptr, object->via.str.size);
    (*out)[object->via.str.size] = '\0';
    return true;
}
