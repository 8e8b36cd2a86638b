/*
 * Writes the seed corpus of the decoder fuzz targets: valid encodings of random values
 * of every structure (tests/unit/values.c), so that fuzzing starts from inputs that
 * reach deep into each decoder. Usage: make_corpus CORPUS_DIR (which holds one folder
 * per target). The genesis target is seeded with genesis/examples by hand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "govchain/block.h"
#include "govchain/messages.h"
#include "tests/unit/values.h"

static void write_seed(const char *dir, const char *target, int index, const gov_buf *buf)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, target);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%s/seed-%02d", dir, target, index);
    FILE *file = fopen(path, "wb");
    if (file == NULL || fwrite(buf->data, 1, buf->len, file) != buf->len || fclose(file) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_corpus CORPUS_DIR\n");
        return 2;
    }
    uint64_t rng = 20261129;
    gov_buf buf;
    gov_buf_init(&buf);
    for (int i = 0; i < 12; i++) {
        gov_tx tx;
        random_tx(&rng, &tx);
        gov_buf_reset(&buf);
        gov_tx_encode(&tx, &buf);
        write_seed(argv[1], "tx", i, &buf);
        gov_tx_clear(&tx);

        gov_block_header header;
        random_header(&rng, &header);
        gov_buf_reset(&buf);
        gov_block_header_encode(&header, &buf);
        write_seed(argv[1], "header", i, &buf);

        gov_block block;
        random_block(&rng, &block, 3);
        gov_buf_reset(&buf);
        gov_block_encode(&block, &buf);
        write_seed(argv[1], "block", i, &buf);
        gov_block_clear(&block);

        gov_commit_cert cert;
        random_commit_cert(&rng, &cert, random_uint(&rng));
        gov_buf_reset(&buf);
        gov_commit_cert_encode(&cert, &buf);
        write_seed(argv[1], "commit_cert", i, &buf);
    }
    /* Messages: every type at least twice. */
    int written[GOV_PBFT_NEW_VIEW + 1] = {0};
    for (int i = 0; i < 400; i++) {
        gov_pbft_message message;
        random_message(&rng, &message);
        if (written[message.type] < 3) {
            gov_buf_reset(&buf);
            gov_pbft_message_encode(&message, &buf);
            write_seed(argv[1], "message", (int)message.type * 10 + written[message.type]++, &buf);
        }
        gov_pbft_message_clear(&message);
    }
    gov_buf_free(&buf);
    return 0;
}
