/*
 * The state commitment: a compressed sparse Merkle tree over 256-bit keys. The contract
 * is include/govchain/smt.h; docs/state.md describes the format for independent
 * verifiers.
 *
 * Design notes.
 *
 * 1. Definitions. Bit i of a key is bit (7 - i % 8) of byte i / 8: most significant
 *    bit first, 0 goes left. The node at depth d on key k's path is the subtree of the
 *    keys that share k's first d bits. EMPTY is 32 zero bytes, LEAF(k, v) =
 *    H(0x00 || k || v), INTERNAL(l, r) = H(0x01 || l || r). A subtree holding no key is
 *    EMPTY, one holding exactly one key is that key's LEAF, any other is INTERNAL. So a
 *    leaf sits at the first depth where its key is alone, and a set of pairs has exactly
 *    one tree (canonical form), whatever the order of the writes that built it.
 *
 * 2. Storage. Every node except EMPTY is stored under 'N' || its hash, encoded as the
 *    canonical msgpack array [tag, a, b]: [0, key, value_hash] for a leaf, [1, left,
 *    right] for an internal node. A node's key is its hash, so nodes are never changed
 *    or deleted and every earlier root stays readable. EMPTY is never stored or looked
 *    up: a path that reaches it simply ends.
 *
 * 3. Reading a node (read_node) trusts nothing: a missing node, an encoding that does
 *    not decode strictly, or one whose hash H(tag || a || b) is not the hash it was
 *    looked up by, is a corrupted store and fails with GOV_EIO naming the node's hash.
 *    Two structural checks come with the walk (walk): an internal node can never sit at
 *    depth 256 (two keys sharing 256 bits are one key), and the leaf at depth d on k's
 *    path must share k's first d bits. Both hold in every tree built here; the walk
 *    checks them because update relies on them to stay inside the sibling array.
 *
 * 4. Walking and updating. Every operation starts with walk, which follows k's bits
 *    from the root and records the sibling at each depth, until it reaches EMPTY, k's
 *    own leaf, or another key k''s leaf. gov_smt_update then knows the shape of the new
 *    path without reading anything more:
 *      EMPTY at depth d        -> k's new leaf at depth d;
 *      k's leaf at depth d     -> its new leaf at depth d (the same value: nothing at all);
 *      k''s leaf at depth d    -> with p the first bit where k and k' differ (p >= d),
 *                                 the siblings at depths d .. p-1 are EMPTY, the sibling
 *                                 at depth p is k''s leaf, and k's leaf sits at p + 1.
 *    It then folds from the leaf up to the root (fold), hashing one node per depth and
 *    putting each into one batch, written once. That is depth + 1 hashes and node
 *    writes: about log2(n) + 2 for n random keys, never 256, because an empty subtree
 *    is a constant and is never built.
 *
 * 5. Verification folds the same way from what the proof says the path ends at:
 *    LEAF(leaf_key, leaf_value_hash) or EMPTY, with siblings[depth-1] .. siblings[0],
 *    taking left or right by the queried key's bits, and compares with the root. Only
 *    the statement is checked first (MEMBER: the leaf is k's and holds the asked value;
 *    OTHER_LEAF: the leaf is another key's that shares k's first depth bits; EMPTY: the
 *    leaf fields are zero); the shape needs no check, because the root fixes it.
 *    Since every hash commits to its node's kind and children, a path that matches
 *    the root is, barring a hash collision, the tree's real path to depth `depth`, and
 *    what it ends at is the tree's real node there:
 *    - a proof that claims EMPTY or another key's leaf at a depth where the real tree
 *      has an internal node puts EMPTY (zero) or a leaf hash where the tree has an
 *      internal hash; the two differ (zero is no hash's output, and the 0x00 and 0x01
 *      prefixes keep leaves and internal nodes apart), so the fold reaches another root;
 *    - a proof that stops short of a real leaf (claiming EMPTY or OTHER_LEAF above it)
 *      fails the same way, and so does a MEMBER proof at a non-canonical depth: k's
 *      leaf one level deeper with an EMPTY sibling hashes to INTERNAL(leaf, EMPTY),
 *      which is not the leaf the canonical tree holds at that depth;
 *    - a real leaf of k' placed at the end of k's path but off k''s own path cannot
 *      match either, since the tree never holds it there; the shared-prefix check on
 *      OTHER_LEAF refuses such a proof without hashing, and keeps the statement
 *      "k is absent" tied to a leaf that really occupies k's path.
 *
 * 6. Hashing. Each public operation makes one gov_hasher and reuses it for every node,
 *    from a stack preimage of 65 bytes, so no hash allocates. Should the hasher not be
 *    available (out of memory), hash_node falls back to gov_hash_bytes: the result is
 *    the same, so verification never answers false for want of memory.
 *
 * 7. Batches. A block changes many documents, and their paths share the nodes near the
 *    root: written one by one, those nodes would be rebuilt (and stored) once per
 *    change. gov_smt_update_many sorts the changes by key (the last change of a key
 *    wins) and descends once (update_subtree): at each existing internal node the
 *    sorted changes split by the next bit, a subtree without changes is kept as it is,
 *    an EMPTY subtree or an existing leaf is rebuilt from its changes (build, with the
 *    old leaf merged in, not written again since a leaf's hash does not depend on its
 *    depth), and join keeps the canonical form (a lone leaf under an empty sibling
 *    rises). Every node of the new tree that did not exist is hashed and written once,
 *    in one batch. The result is the tree that the same changes made one by one give;
 *    the test compares the two on random batches.
 *
 * 8. Reading ahead. The descent of note 7 reads its nodes one after the other, each
 *    read a lookup in a store of hundreds of thousands of entries that misses the
 *    processor's cache, and each waiting for the one before. Which nodes it will read
 *    is known level by level, though: under an internal node read at depth d, the
 *    children whose side of bit d has changes. So gov_smt_update_many first reads
 *    those nodes breadth first (preload), asking the store for the next nodes of the
 *    level (gov_kv_prefetch) while it reads one, so that their cache misses overlap,
 *    and keeps them, by hash, for the descent, which then reads only what is missing.
 *    Every node is read and authenticated exactly as read_node always does, and once:
 *    preloading is an optimisation and decides nothing. It stops at the first read that
 *    fails, leaving that node, and any after it, to the descent, which reports the
 *    failure as it would have without reading ahead (the first bad node in its order).
 *    The nodes kept belong to this call alone: nothing is kept from one batch (one
 *    block) for the next.
 */
#include "govchain/smt.h"

#include <stdlib.h>
#include <string.h>

#include "govchain/assert.h"
#include "govchain/canon.h"
#include "govchain/error.h"

#define LEAF_TAG     0x00
#define INTERNAL_TAG 0x01

#define NODE_KEY_LEN (1 + GOV_HASH_LEN)
/* A node's canonical encoding is exactly 70 bytes (decode_node). */
#define NODE_ENCODED_LEN (6 + 2 * GOV_HASH_LEN)
#define HEX_LEN          (2 * GOV_HASH_LEN + 1)

/* A stored node: a is the key (leaf) or the left child, b the value hash or the right
 * child. */
typedef struct {
    uint8_t tag;
    gov_hash a;
    gov_hash b;
} node;

/* What fold collects for gov_smt_update: the nodes to write, and one encoding buffer
 * reused for all of them. */
typedef struct {
    gov_kv_batch batch;
    gov_buf buf;
} node_writer;

static const gov_hash empty_hash;

static void hash_node(gov_suite suite, gov_hasher *hasher, uint8_t tag, const gov_hash *a,
                      const gov_hash *b, gov_hash *out)
{
    uint8_t preimage[1 + 2 * GOV_HASH_LEN];
    preimage[0] = tag;
    memcpy(preimage + 1, a->bytes, GOV_HASH_LEN);
    memcpy(preimage + 1 + GOV_HASH_LEN, b->bytes, GOV_HASH_LEN);
    if (hasher == NULL) {
        gov_hash_bytes(suite, preimage, sizeof(preimage), out);
        return;
    }
    gov_hasher_update(hasher, preimage, sizeof(preimage));
    gov_hasher_final(hasher, out);
}

void gov_smt_empty_root(gov_hash *out)
{
    *out = empty_hash;
}

void gov_smt_leaf_hash(gov_suite suite, const gov_hash *key, const gov_hash *value_hash,
                       gov_hash *out)
{
    hash_node(suite, NULL, LEAF_TAG, key, value_hash, out);
}

void gov_smt_internal_hash(gov_suite suite, const gov_hash *left, const gov_hash *right,
                           gov_hash *out)
{
    hash_node(suite, NULL, INTERNAL_TAG, left, right, out);
}

static unsigned key_bit(const gov_hash *key, uint32_t index)
{
    return (key->bytes[index / 8] >> (7 - index % 8)) & 1u;
}

/* The index of the first bit where a and b differ; GOV_SMT_DEPTH when they are equal. */
static uint32_t first_difference(const gov_hash *a, const gov_hash *b)
{
    for (uint32_t i = 0; i < GOV_HASH_LEN; i++) {
        unsigned diff = a->bytes[i] ^ b->bytes[i];
        if (diff != 0) {
            uint32_t bit = 0;
            while ((diff & 0x80u) == 0) {
                diff <<= 1;
                bit++;
            }
            return 8 * i + bit;
        }
    }
    return GOV_SMT_DEPTH;
}

static void node_store_key(const gov_hash *hash, uint8_t key[NODE_KEY_LEN])
{
    key[0] = GOV_SMT_NODE_PREFIX;
    memcpy(key + 1, hash->bytes, GOV_HASH_LEN);
}

/* A node's encoding has one shape, [tag, bin 32, bin 32] with tag 0 or 1, which the
 * canonical encoding writes as exactly these NODE_ENCODED_LEN bytes: 0x93 (array of 3),
 * the tag as a fixint, then 0xc4 0x20 and 32 bytes, twice. Checking the bytes in place is
 * the strict decode of that shape, without a general decoder's allocations on the path
 * every read of the tree takes. */
static int decode_node(const uint8_t *data, size_t len, node *out, char *why, size_t why_len)
{
    if (len != NODE_ENCODED_LEN || data[0] != 0x93 || data[1] > INTERNAL_TAG || data[2] != 0xc4 ||
        data[3] != GOV_HASH_LEN || data[4 + GOV_HASH_LEN] != 0xc4 ||
        data[5 + GOV_HASH_LEN] != GOV_HASH_LEN) {
        return gov_fail(why, why_len, GOV_EDECODE, "not the 70-byte encoding of [tag, hash, hash]");
    }
    out->tag = data[1];
    memcpy(out->a.bytes, data + 4, GOV_HASH_LEN);
    memcpy(out->b.bytes, data + 6 + GOV_HASH_LEN, GOV_HASH_LEN);
    return 0;
}

/* Reads and authenticates the node stored under hash (design note 3). */
static int read_node(const gov_smt *smt, gov_hasher *hasher, const gov_hash *hash, node *out,
                     char *why, size_t why_len)
{
    GOV_ASSERT(!gov_hash_is_zero(hash));
    uint8_t key[NODE_KEY_LEN];
    node_store_key(hash, key);
    /* One byte more than a node's encoding, so that a longer value shows as longer. */
    uint8_t value[NODE_ENCODED_LEN + 1];
    size_t value_len = 0;
    char hex[HEX_LEN];
    int rc = gov_kv_get_into(smt->store, key, sizeof(key), value, sizeof(value), &value_len, why,
                             why_len);
    if (rc == GOV_ENOENT) {
        gov_hex_encode(hash->bytes, GOV_HASH_LEN, hex);
        return gov_fail(why, why_len, GOV_EIO, "corrupted store: state node %s is missing", hex);
    }
    if (rc != 0) {
        return rc; /* the store's own failure, with its own reason */
    }
    char detail[160];
    rc = decode_node(value, value_len, out, detail, sizeof(detail));
    if (rc != 0) {
        gov_hex_encode(hash->bytes, GOV_HASH_LEN, hex);
        return gov_fail(why, why_len, GOV_EIO, "corrupted store: state node %s is malformed: %s",
                        hex, detail);
    }
    gov_hash actual;
    hash_node(smt->suite, hasher, out->tag, &out->a, &out->b, &actual);
    if (!gov_hash_equal(&actual, hash)) {
        gov_hex_encode(hash->bytes, GOV_HASH_LEN, hex);
        return gov_fail(why, why_len, GOV_EIO,
                        "corrupted store: state node %s holds a node of another hash", hex);
    }
    return 0;
}

/* Follows key's path from root to where it ends (design note 4), filling path with
 * what a proof of key holds, and *end with the hash the path ends at. */
static int walk(const gov_smt *smt, gov_hasher *hasher, const gov_hash *root, const gov_hash *key,
                gov_smt_proof *path, gov_hash *end, char *why, size_t why_len)
{
    memset(path, 0, sizeof(*path));
    gov_hash current = *root;
    uint32_t depth = 0;
    char hex[HEX_LEN];
    for (;;) {
        if (gov_hash_is_zero(&current)) {
            path->kind = GOV_SMT_PROOF_EMPTY;
            break;
        }
        node n;
        int rc = read_node(smt, hasher, &current, &n, why, why_len);
        if (rc != 0) {
            return rc;
        }
        if (n.tag == LEAF_TAG) {
            bool own = gov_hash_equal(&n.a, key);
            if (!own && first_difference(&n.a, key) < depth) {
                gov_hex_encode(current.bytes, GOV_HASH_LEN, hex);
                return gov_fail(why, why_len, GOV_EIO,
                                "corrupted store: leaf %s at depth %u is off its key's path", hex,
                                (unsigned)depth);
            }
            path->kind = own ? GOV_SMT_PROOF_MEMBER : GOV_SMT_PROOF_OTHER_LEAF;
            path->leaf_key = n.a;
            path->leaf_value_hash = n.b;
            break;
        }
        if (depth == GOV_SMT_DEPTH) {
            gov_hex_encode(current.bytes, GOV_HASH_LEN, hex);
            return gov_fail(why, why_len, GOV_EIO,
                            "corrupted store: internal state node %s at depth 256", hex);
        }
        unsigned bit = key_bit(key, depth);
        path->siblings[depth] = bit ? n.a : n.b;
        current = bit ? n.b : n.a;
        depth++;
    }
    path->depth = depth;
    *end = current;
    return 0;
}

static int put_node(node_writer *writer, uint8_t tag, const gov_hash *a, const gov_hash *b,
                    const gov_hash *hash)
{
    gov_buf_reset(&writer->buf);
    gov_enc_array(&writer->buf, 3);
    gov_enc_uint(&writer->buf, tag);
    gov_enc_bin(&writer->buf, a->bytes, GOV_HASH_LEN);
    gov_enc_bin(&writer->buf, b->bytes, GOV_HASH_LEN);
    if (!gov_buf_ok(&writer->buf)) {
        return GOV_ENOMEM;
    }
    uint8_t key[NODE_KEY_LEN];
    node_store_key(hash, key);
    return gov_kv_batch_put(&writer->batch, key, sizeof(key), writer->buf.data, writer->buf.len);
}

/* Hashes from the node at depth `depth` on key's path (*hash on entry) up to the root
 * (*hash on return), with siblings[depth-1] .. siblings[0]. With a writer, every
 * internal node made on the way is also put into its batch. */
static int fold(gov_suite suite, gov_hasher *hasher, const gov_hash *key, const gov_hash *siblings,
                uint32_t depth, gov_hash *hash, node_writer *writer)
{
    for (uint32_t i = depth; i-- > 0;) {
        const gov_hash child = *hash;
        const gov_hash *left = key_bit(key, i) ? &siblings[i] : &child;
        const gov_hash *right = key_bit(key, i) ? &child : &siblings[i];
        hash_node(suite, hasher, INTERNAL_TAG, left, right, hash);
        if (writer != NULL) {
            int rc = put_node(writer, INTERNAL_TAG, left, right, hash);
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}

/* Writes key's new leaf and every internal node above it in one batch (design note 4). */
static int write_path(const gov_smt *smt, gov_hasher *hasher, const gov_hash *key,
                      const gov_hash *value_hash, const gov_smt_proof *path, gov_hash *new_root,
                      char *why, size_t why_len)
{
    node_writer writer;
    gov_kv_batch_init(&writer.batch);
    gov_buf_init(&writer.buf);
    gov_hash hash;
    hash_node(smt->suite, hasher, LEAF_TAG, key, value_hash, &hash);
    int rc = put_node(&writer, LEAF_TAG, key, value_hash, &hash);
    if (rc == 0) {
        rc = fold(smt->suite, hasher, key, path->siblings, path->depth, &hash, &writer);
    }
    if (rc != 0) {
        rc = gov_fail(why, why_len, rc, "out of memory building state nodes");
    } else {
        rc = gov_kv_write(smt->store, &writer.batch, why, why_len);
    }
    if (rc == 0) {
        *new_root = hash;
    }
    gov_kv_batch_clear(&writer.batch);
    gov_buf_free(&writer.buf);
    return rc;
}

int gov_smt_get(const gov_smt *smt, const gov_hash *root, const gov_hash *key, bool *found,
                gov_hash *value_hash, char *why, size_t why_len)
{
    GOV_ASSERT(smt != NULL && smt->store != NULL);
    GOV_ASSERT(root != NULL && key != NULL);
    GOV_ASSERT(found != NULL && value_hash != NULL);
    gov_smt_proof path;
    gov_hash end;
    gov_hasher *hasher = gov_hasher_new(smt->suite);
    int rc = walk(smt, hasher, root, key, &path, &end, why, why_len);
    gov_hasher_free(hasher);
    if (rc != 0) {
        return rc;
    }
    *found = path.kind == GOV_SMT_PROOF_MEMBER;
    *value_hash = *found ? path.leaf_value_hash : empty_hash;
    return 0;
}

int gov_smt_update(const gov_smt *smt, const gov_hash *root, const gov_hash *key,
                   const gov_hash *value_hash, gov_hash *new_root, char *why, size_t why_len)
{
    GOV_ASSERT(smt != NULL && smt->store != NULL);
    GOV_ASSERT(root != NULL && key != NULL);
    GOV_ASSERT(value_hash != NULL && new_root != NULL);
    gov_smt_proof path;
    gov_hash end;
    gov_hasher *hasher = gov_hasher_new(smt->suite);
    int rc = walk(smt, hasher, root, key, &path, &end, why, why_len);
    if (rc != 0) {
        goto out;
    }
    if (path.kind == GOV_SMT_PROOF_MEMBER && gov_hash_equal(&path.leaf_value_hash, value_hash)) {
        *new_root = *root;
        goto out;
    }
    if (path.kind == GOV_SMT_PROOF_OTHER_LEAF) {
        /* walk checked that the keys agree above path.depth, and they are different
         * keys, so split lies in path.depth .. 255 and the leaf in 1 .. 256. */
        uint32_t split = first_difference(key, &path.leaf_key);
        GOV_ASSERT(split >= path.depth);
        GOV_ASSERT(split < GOV_SMT_DEPTH);
        for (uint32_t i = path.depth; i < split; i++) {
            path.siblings[i] = empty_hash;
        }
        path.siblings[split] = end;
        path.depth = split + 1;
    }
    rc = write_path(smt, hasher, key, value_hash, &path, new_root, why, why_len);
out:
    gov_hasher_free(hasher);
    return rc;
}

/* Batched updates (design note 7) ------------------------------------------------------ */

/* An entry being placed; stored marks an existing leaf that moves down unchanged and
 * so needs no write (a leaf's hash does not depend on its depth). */
typedef struct {
    gov_hash key;
    gov_hash value_hash;
    bool stored;
} placing;

/* A subtree made by a batch: its hash, and whether it is a single leaf (a leaf alone
 * under an empty sibling rises, so the parent must know). */
typedef struct {
    gov_hash hash;
    bool leaf;
} subtree;

/* Zeroes through a pointer the compiler cannot see through, so that malloc followed by
 * it is not turned into calloc. */
static void *(*const volatile volatile_zero)(void *, int, size_t) = memset;

/* A node read ahead (design note 8), by its hash. */
typedef struct {
    gov_hash hash;
    node n;
} preloaded_node;

typedef struct {
    const gov_smt *smt;
    gov_hasher *hasher;
    node_writer writer;
    char *why;
    size_t why_len;
    /* The nodes read ahead, and an open-addressing table over them of `index_len`
     * slots (a power of two, or 0), each 0 (empty) or 1 + a node's place in
     * `preloaded`. */
    preloaded_node *preloaded;
    uint32_t *index;
    size_t index_len;
} batch_context;

/* The first entry in e[0 .. n) whose bit `depth` is 1 (e is sorted by key). */
static size_t partition_point(const placing *e, size_t n, uint32_t depth)
{
    size_t low = 0;
    size_t high = n;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (key_bit(&e[middle].key, depth) == 0) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    return low;
}

/* Joins two subtrees under one parent, keeping the canonical form: an empty side and a
 * single leaf give that leaf; anything else an internal node. */
static int join(batch_context *c, const subtree *left, const subtree *right, subtree *out)
{
    if (gov_hash_is_zero(&left->hash) && (right->leaf || gov_hash_is_zero(&right->hash))) {
        *out = *right;
        return 0;
    }
    if (gov_hash_is_zero(&right->hash) && left->leaf) {
        *out = *left;
        return 0;
    }
    out->leaf = false;
    hash_node(c->smt->suite, c->hasher, INTERNAL_TAG, &left->hash, &right->hash, &out->hash);
    return put_node(&c->writer, INTERNAL_TAG, &left->hash, &right->hash, &out->hash);
}

/* A new subtree at `depth` holding exactly e[0 .. n). */
static int build(batch_context *c, uint32_t depth, const placing *e, size_t n, subtree *out)
{
    if (n == 0) {
        *out = (subtree){.leaf = false};
        return 0;
    }
    if (n == 1) {
        out->leaf = true;
        hash_node(c->smt->suite, c->hasher, LEAF_TAG, &e->key, &e->value_hash, &out->hash);
        return e->stored ? 0 : put_node(&c->writer, LEAF_TAG, &e->key, &e->value_hash, &out->hash);
    }
    GOV_ASSERT(depth < GOV_SMT_DEPTH); /* distinct keys differ before bit 256 */
    size_t split = partition_point(e, n, depth);
    subtree left;
    subtree right;
    int rc = build(c, depth + 1, e, split, &left);
    if (rc == 0) {
        rc = build(c, depth + 1, e + split, n - split, &right);
    }
    return rc != 0 ? rc : join(c, &left, &right, out);
}

/* The existing leaf (k0, v0) and the entries e[0 .. n) under one subtree: merged in key
 * order, a new value for k0 replacing the old one. */
static int merge_with_leaf(batch_context *c, uint32_t depth, const node *leaf, const placing *e,
                           size_t n, subtree *out)
{
    placing *merged = malloc((n + 1) * sizeof(*merged));
    if (merged == NULL) {
        return GOV_ENOMEM;
    }
    size_t count = 0;
    bool placed = false;
    for (size_t i = 0; i <= n; i++) {
        int order = i < n ? memcmp(e[i].key.bytes, leaf->a.bytes, GOV_HASH_LEN) : 1;
        if (!placed && order >= 0) {
            placed = true;
            if (order > 0) {
                merged[count++] = (placing){.key = leaf->a, .value_hash = leaf->b, .stored = true};
            }
        }
        if (i < n) {
            merged[count++] = e[i];
        }
    }
    int rc = build(c, depth, merged, count, out);
    free(merged);
    return rc;
}

/* Reading ahead (design note 8) ----------------------------------------------------- */

enum {
    /* Nodes of a level whose store slots are asked for ahead of the one being read. */
    PRELOAD_AHEAD = 8,
};

/* A subtree the descent will read: its hash, depth, and entries e[first .. first+n). */
typedef struct {
    gov_hash hash;
    uint32_t depth;
    size_t first;
    size_t n;
} visit;

typedef struct {
    visit *items;
    size_t count;
    size_t capacity;
} visit_list;

static bool visit_push(visit_list *list, const gov_hash *hash, uint32_t depth, size_t first,
                       size_t n)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity == 0 ? 64 : 2 * list->capacity;
        visit *grown = realloc(list->items, capacity * sizeof(*grown));
        if (grown == NULL) {
            return false;
        }
        list->items = grown;
        list->capacity = capacity;
    }
    list->items[list->count++] = (visit){.hash = *hash, .depth = depth, .first = first, .n = n};
    return true;
}

static size_t preloaded_home(const gov_hash *hash, size_t len)
{
    uint64_t word;
    memcpy(&word, hash->bytes, sizeof(word));
    return (size_t)word & (len - 1);
}

/* The node read ahead under hash, or NULL. */
static const node *preloaded_find(const batch_context *c, const gov_hash *hash)
{
    if (c->index_len == 0) {
        return NULL;
    }
    size_t mask = c->index_len - 1;
    for (size_t i = preloaded_home(hash, c->index_len); c->index[i] != 0; i = (i + 1) & mask) {
        const preloaded_node *candidate = &c->preloaded[c->index[i] - 1];
        if (gov_hash_equal(&candidate->hash, hash)) {
            return &candidate->n;
        }
    }
    return NULL;
}

/* Reads, level by level, the nodes that update_subtree will read for e[0 .. n) under
 * root, each level's reads overlapping in memory (gov_kv_prefetch), into c->preloaded.
 * Only an optimisation: each node is read and authenticated by read_node as the descent
 * would; at the first failure (a corrupted store, or no memory) it stops, and the
 * descent reads what is missing itself and reports the failure as it always has. */
static void preload(batch_context *c, const gov_hash *root, const placing *e, size_t n)
{
    visit_list level = {0};
    visit_list next = {0};
    preloaded_node *loaded = NULL;
    size_t loaded_count = 0;
    size_t loaded_capacity = 0;
    bool ok = n == 0 || gov_hash_is_zero(root) || visit_push(&level, root, 0, 0, n);
    while (ok && level.count > 0) {
        next.count = 0;
        for (size_t i = 0; ok && i < level.count; i++) {
            for (size_t ahead = i == 0 ? 0 : i + PRELOAD_AHEAD;
                 ahead <= i + PRELOAD_AHEAD && ahead < level.count; ahead++) {
                uint8_t key[NODE_KEY_LEN];
                node_store_key(&level.items[ahead].hash, key);
                gov_kv_prefetch(c->smt->store, key, sizeof(key));
            }
            const visit *v = &level.items[i];
            if (loaded_count == loaded_capacity) {
                size_t capacity = loaded_capacity == 0 ? 256 : 2 * loaded_capacity;
                preloaded_node *grown = realloc(loaded, capacity * sizeof(*grown));
                if (grown == NULL) {
                    ok = false;
                    break;
                }
                loaded = grown;
                loaded_capacity = capacity;
            }
            preloaded_node *got = &loaded[loaded_count];
            if (read_node(c->smt, c->hasher, &v->hash, &got->n, NULL, 0) != 0) {
                ok = false;
                break;
            }
            got->hash = v->hash;
            loaded_count++;
            if (got->n.tag == LEAF_TAG || v->depth >= GOV_SMT_DEPTH) {
                continue; /* update_subtree reads nothing below */
            }
            const placing *range = e + v->first;
            size_t split = partition_point(range, v->n, v->depth);
            if (split > 0 && !gov_hash_is_zero(&got->n.a)) {
                ok = visit_push(&next, &got->n.a, v->depth + 1, v->first, split);
            }
            if (ok && split < v->n && !gov_hash_is_zero(&got->n.b)) {
                ok = visit_push(&next, &got->n.b, v->depth + 1, v->first + split, v->n - split);
            }
        }
        visit_list swap = level;
        level = next;
        next = swap;
    }
    free(level.items);
    free(next.items);
    /* What was read (all of it, or up to the failure) is indexed by a table at most
     * half full. The table is zeroed by writing it (volatile_zero), not taken from
     * calloc: probing fresh calloc'd pages before writing them would fault each page
     * twice, the second time flushing the other cores' TLBs (as in ledger/kv_memory.c,
     * note 2). */
    size_t len = 16;
    while (len / 2 < loaded_count) {
        len *= 2;
    }
    uint32_t *index =
        loaded_count > 0 && loaded_count < UINT32_MAX ? malloc(len * sizeof(*index)) : NULL;
    if (index == NULL) {
        free(loaded);
        return;
    }
    volatile_zero(index, 0, len * sizeof(*index));
    for (size_t i = 0; i < loaded_count; i++) {
        size_t mask = len - 1;
        size_t at = preloaded_home(&loaded[i].hash, len);
        while (index[at] != 0 && !gov_hash_equal(&loaded[index[at] - 1].hash, &loaded[i].hash)) {
            at = (at + 1) & mask;
        }
        index[at] = (uint32_t)(i + 1);
    }
    c->preloaded = loaded;
    c->index = index;
    c->index_len = len;
}

/* The node stored under hash: read ahead, or read now. */
static int batch_read_node(batch_context *c, const gov_hash *hash, node *out)
{
    const node *found = preloaded_find(c, hash);
    if (found != NULL) {
        *out = *found;
        return 0;
    }
    return read_node(c->smt, c->hasher, hash, out, c->why, c->why_len);
}

/* The subtree at `depth` whose hash is `hash`, with e[0 .. n) written into it. */
static int update_subtree(batch_context *c, const gov_hash *hash, uint32_t depth, const placing *e,
                          size_t n, subtree *out)
{
    if (n == 0) {
        /* Unchanged. Its parent, with entries on its other side, never joins it away, so
         * whether it is a leaf does not matter here. */
        *out = (subtree){.hash = *hash, .leaf = false};
        return 0;
    }
    if (gov_hash_is_zero(hash)) {
        return build(c, depth, e, n, out);
    }
    node current;
    int rc = batch_read_node(c, hash, &current);
    if (rc != 0) {
        return rc;
    }
    if (current.tag == LEAF_TAG) {
        /* As walk does (design note 3): a leaf off its own path is a corrupted store. */
        if (first_difference(&current.a, &e->key) < depth) {
            char hex[HEX_LEN];
            gov_hex_encode(hash->bytes, GOV_HASH_LEN, hex);
            return gov_fail(c->why, c->why_len, GOV_EIO,
                            "corrupted store: state leaf %s is off its key's path", hex);
        }
        if (n == 1 && gov_hash_equal(&e->key, &current.a) &&
            gov_hash_equal(&e->value_hash, &current.b)) {
            *out = (subtree){.hash = *hash, .leaf = true}; /* the same value again */
            return 0;
        }
        rc = merge_with_leaf(c, depth, &current, e, n, out);
        return rc == GOV_ENOMEM ? gov_fail(c->why, c->why_len, rc, "out of memory") : rc;
    }
    if (depth >= GOV_SMT_DEPTH) {
        char hex[HEX_LEN];
        gov_hex_encode(hash->bytes, GOV_HASH_LEN, hex);
        return gov_fail(c->why, c->why_len, GOV_EIO,
                        "corrupted store: internal state node %s at depth 256", hex);
    }
    size_t split = partition_point(e, n, depth);
    subtree left;
    subtree right;
    rc = update_subtree(c, &current.a, depth + 1, e, split, &left);
    if (rc == 0) {
        rc = update_subtree(c, &current.b, depth + 1, e + split, n - split, &right);
    }
    return rc != 0 ? rc : join(c, &left, &right, out);
}

/* An entry and where it stood, so that sorting by (key, position) is a total order and
 * the last write of a key can win. */
typedef struct {
    gov_smt_entry entry;
    size_t position;
} positioned;

static int compare_positioned(const void *a, const void *b)
{
    const positioned *x = a;
    const positioned *y = b;
    int order = memcmp(x->entry.key.bytes, y->entry.key.bytes, GOV_HASH_LEN);
    return order != 0 ? order : (x->position > y->position) - (x->position < y->position);
}

/* entries sorted by key, one per key (the last given), into sorted[]; returns how many. */
static size_t sort_entries(const gov_smt_entry *entries, size_t count, positioned *scratch,
                           placing *sorted)
{
    for (size_t i = 0; i < count; i++) {
        scratch[i] = (positioned){.entry = entries[i], .position = i};
    }
    qsort(scratch, count, sizeof(*scratch), compare_positioned);
    size_t unique = 0;
    for (size_t i = 0; i < count; i++) {
        if (unique > 0 && gov_hash_equal(&sorted[unique - 1].key, &scratch[i].entry.key)) {
            unique--; /* a later write of the same key replaces the earlier one */
        }
        sorted[unique++] =
            (placing){.key = scratch[i].entry.key, .value_hash = scratch[i].entry.value_hash};
    }
    return unique;
}

int gov_smt_update_many(const gov_smt *smt, const gov_hash *root, const gov_smt_entry *entries,
                        size_t count, gov_hash *new_root, char *why, size_t why_len)
{
    GOV_ASSERT(smt != NULL && smt->store != NULL && root != NULL && new_root != NULL);
    *new_root = *root;
    if (count == 0) {
        return 0;
    }
    placing *sorted = malloc(count * sizeof(*sorted));
    positioned *scratch = malloc(count * sizeof(*scratch));
    if (sorted == NULL || scratch == NULL) {
        free(sorted);
        free(scratch);
        return gov_fail(why, why_len, GOV_ENOMEM, "out of memory");
    }
    size_t unique = sort_entries(entries, count, scratch, sorted);
    free(scratch);
    batch_context c = {
        .smt = smt, .hasher = gov_hasher_new(smt->suite), .why = why, .why_len = why_len};
    gov_kv_batch_init(&c.writer.batch);
    gov_buf_init(&c.writer.buf);
    preload(&c, root, sorted, unique);
    subtree result;
    int rc = update_subtree(&c, root, 0, sorted, unique, &result);
    free(c.preloaded);
    free(c.index);
    if (rc == GOV_ENOMEM) {
        rc = gov_fail(why, why_len, rc, "out of memory building state nodes");
    }
    if (rc == 0 && c.writer.batch.count > 0) {
        rc = gov_kv_write(smt->store, &c.writer.batch, why, why_len);
    }
    if (rc == 0) {
        *new_root = result.hash;
    }
    gov_kv_batch_clear(&c.writer.batch);
    gov_buf_free(&c.writer.buf);
    gov_hasher_free(c.hasher);
    free(sorted);
    return rc;
}

int gov_smt_prove(const gov_smt *smt, const gov_hash *root, const gov_hash *key,
                  gov_smt_proof *proof, char *why, size_t why_len)
{
    GOV_ASSERT(smt != NULL && smt->store != NULL);
    GOV_ASSERT(root != NULL && key != NULL && proof != NULL);
    gov_hash end;
    gov_hasher *hasher = gov_hasher_new(smt->suite);
    int rc = walk(smt, hasher, root, key, proof, &end, why, why_len);
    gov_hasher_free(hasher);
    if (rc != 0) {
        memset(proof, 0, sizeof(*proof));
    }
    return rc;
}

/* The statement checks of design note 5: does the proof claim what the caller asks? */
static bool proof_claims(const gov_hash *key, const gov_hash *value_hash,
                         const gov_smt_proof *proof)
{
    switch (proof->kind) {
    case GOV_SMT_PROOF_MEMBER:
        return value_hash != NULL && gov_hash_equal(&proof->leaf_key, key) &&
               gov_hash_equal(&proof->leaf_value_hash, value_hash);
    case GOV_SMT_PROOF_OTHER_LEAF:
        return value_hash == NULL && !gov_hash_equal(&proof->leaf_key, key) &&
               first_difference(&proof->leaf_key, key) >= proof->depth;
    case GOV_SMT_PROOF_EMPTY:
        /* The leaf fields mean nothing here; requiring zeros leaves one encoding of
         * each proof, so that a proof's bytes cannot be varied without failing. */
        return value_hash == NULL && gov_hash_is_zero(&proof->leaf_key) &&
               gov_hash_is_zero(&proof->leaf_value_hash);
    }
    return false;
}

bool gov_smt_verify(gov_suite suite, const gov_hash *root, const gov_hash *key,
                    const gov_hash *value_hash, const gov_smt_proof *proof)
{
    GOV_ASSERT(root != NULL && key != NULL && proof != NULL);
    if (!gov_suite_valid(suite) || proof->depth > GOV_SMT_DEPTH ||
        !proof_claims(key, value_hash, proof)) {
        return false;
    }
    gov_hasher *hasher = gov_hasher_new(suite);
    gov_hash hash = empty_hash;
    if (proof->kind != GOV_SMT_PROOF_EMPTY) {
        hash_node(suite, hasher, LEAF_TAG, &proof->leaf_key, &proof->leaf_value_hash, &hash);
    }
    int rc = fold(suite, hasher, key, proof->siblings, proof->depth, &hash, NULL);
    gov_hasher_free(hasher);
    GOV_ASSERT(rc == 0); /* without a writer, fold only hashes */
    return gov_hash_equal(&hash, root);
}
