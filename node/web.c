/* Finding the verification page's files (node/web.h). */
#include "node/web.h"

#include <string.h>

const gov_web_asset *gov_web_find(const char *path)
{
    if (strcmp(path, "/") == 0) {
        path = "/index.html";
    }
    for (const gov_web_asset *asset = gov_web_assets; asset->path != NULL; asset++) {
        if (strcmp(asset->path, path) == 0) {
            return asset;
        }
    }
    return NULL;
}
