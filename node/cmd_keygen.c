/* govchain keygen: creates a private key file (PKCS#8 PEM, mode 0600) and prints the
 * public key as hex, the form genesis lists keys in. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "govchain/crypto.h"
#include "govchain/error.h"
#include "govchain/keyfile.h"
#include "node/cli.h"

static const char usage[] =
    "Usage: govchain keygen [--suite p256-sha256|sm2-sm3] --out FILE\n"
    "\n"
    "Creates a new private key in FILE (PKCS#8 PEM, mode 0600; an existing file is never\n"
    "overwritten) and prints its public key: 130 lowercase hex digits of the uncompressed\n"
    "point, as genesis lists department and validator keys.\n"
    "\n"
    "  --suite S   signature suite of the chain the key is for (default p256-sha256)\n"
    "  --out FILE  where to write the private key\n";

int gov_cmd_keygen(int argc, char **argv)
{
    static const struct option options[] = {
        {"suite", required_argument, NULL, 's'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *suite_name = "p256-sha256";
    const char *out = NULL;
    int option;
    opterr = 0;
    optind = 0;
    while ((option = getopt_long(argc, argv, ":s:o:h", options, NULL)) != -1) {
        switch (option) {
        case 's':
            suite_name = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return GOV_EXIT_OK;
        default:
            return gov_cli_option_error("keygen", argv, option);
        }
    }
    if (optind != argc) {
        return gov_cli_usage_error("keygen", "unexpected argument '%s'", argv[optind]);
    }
    if (out == NULL) {
        return gov_cli_usage_error("keygen", "--out FILE is required");
    }
    gov_suite suite;
    if (gov_suite_parse(suite_name, &suite) != 0) {
        return gov_cli_usage_error("keygen", "unknown suite '%s' (p256-sha256 or sm2-sm3)",
                                   suite_name);
    }
    gov_private_key *key = NULL;
    int rc = gov_private_key_generate(suite, &key);
    if (rc != 0) {
        return gov_cli_failure("keygen", "cannot generate a key: %s", gov_strerror(rc));
    }
    char why[512] = "";
    rc = gov_keyfile_write(key, out, why, sizeof(why));
    if (rc != 0) {
        gov_private_key_free(key);
        return gov_cli_failure("keygen", "%s", why[0] != '\0' ? why : gov_strerror(rc));
    }
    uint8_t public_key[GOV_PUBLIC_KEY_LEN];
    char hex[GOV_PUBLIC_KEY_HEX_LEN + 1];
    gov_private_key_public(key, public_key);
    gov_hex_encode(public_key, sizeof(public_key), hex);
    gov_private_key_free(key);
    printf("%s\n", hex);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        return gov_cli_failure("keygen",
                               "the key was written to %s, but its public key could "
                               "not be printed: %s",
                               out, strerror(errno));
    }
    return GOV_EXIT_OK;
}
