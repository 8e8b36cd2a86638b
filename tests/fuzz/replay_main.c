/*
 * Runs a fuzz target over saved inputs without libFuzzer, so that every build (gcc
 * included) replays the corpus as an ordinary test. Arguments are files or directories
 * (every regular file inside, not recursive). Exits 1 when there is nothing to replay,
 * so a missing corpus cannot pass unnoticed.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    size_t capacity = 1 << 16;
    size_t used = 0;
    uint8_t *data = malloc(capacity);
    size_t got;
    while (data != NULL && (got = fread(data + used, 1, capacity - used, file)) > 0) {
        used += got;
        if (used == capacity) {
            capacity *= 2;
            uint8_t *grown = realloc(data, capacity);
            if (grown == NULL) {
                free(data);
                data = NULL;
            }
            data = grown;
        }
    }
    fclose(file);
    if (data == NULL) {
        fprintf(stderr, "out of memory reading %s\n", path);
        return -1;
    }
    LLVMFuzzerTestOneInput(data, used);
    free(data);
    return 1;
}

static int replay_path(const char *path)
{
    struct stat info;
    if (stat(path, &info) != 0) {
        fprintf(stderr, "cannot stat %s\n", path);
        return -1;
    }
    if (!S_ISDIR(info.st_mode)) {
        return replay_file(path);
    }
    DIR *dir = opendir(path);
    if (dir == NULL) {
        fprintf(stderr, "cannot open directory %s\n", path);
        return -1;
    }
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.') {
            continue;
        }
        char child[4096];
        snprintf(child, sizeof(child), "%s/%s", path, entry->d_name);
        int rc = replay_file(child);
        if (rc < 0) {
            closedir(dir);
            return -1;
        }
        count += rc;
    }
    closedir(dir);
    return count;
}

int main(int argc, char **argv)
{
    int total = 0;
    for (int i = 1; i < argc; i++) {
        int rc = replay_path(argv[i]);
        if (rc < 0) {
            return 1;
        }
        total += rc;
    }
    printf("replayed %d inputs\n", total);
    return total > 0 ? 0 : 1;
}
