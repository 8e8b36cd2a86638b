/*
 * The verification page's files (web/), compiled into the binary at build time by
 * cmake/embed_web.cmake, and served by the node at / (node/api.c).
 */
#ifndef GOVCHAIN_NODE_WEB_H
#define GOVCHAIN_NODE_WEB_H

#include <stddef.h>

typedef struct {
    const char *path; /* "/index.html", "/js/receipt.js", ...; NULL ends the table */
    const char *content_type;
    const unsigned char *data;
    size_t len;
} gov_web_asset;

extern const gov_web_asset gov_web_assets[];

/* The asset served at path ("/" is "/index.html"), or NULL. */
const gov_web_asset *gov_web_find(const char *path);

#endif
