#!/bin/sh
# The command line as a user meets it: exit codes (0 ok, 1 failed check, 2 bad usage),
# messages, key files and genesis checks. Usage: cli_test.sh PATH_TO_GOVCHAIN REPO_ROOT
set -u
govchain=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
checks=0

# expect STATUS DESCRIPTION -- command...; keeps stdout in $work/out, stderr in $work/err
expect() {
    want=$1
    what=$2
    shift 3
    "$@" >"$work/out" 2>"$work/err"
    got=$?
    checks=$((checks + 1))
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: $what: exit status $got, expected $want" >&2
        sed 's/^/  stdout: /' "$work/out" >&2
        sed 's/^/  stderr: /' "$work/err" >&2
        failures=$((failures + 1))
    fi
}

# contains FILE TEXT DESCRIPTION
contains() {
    checks=$((checks + 1))
    if ! grep -q -- "$2" "$work/$1"; then
        echo "FAIL: $3: $1 lacks '$2'" >&2
        sed 's/^/  /' "$work/$1" >&2
        failures=$((failures + 1))
    fi
}

expect 0 "top-level help" -- "$govchain" --help
contains out "keygen" "help lists keygen"
contains out "genesis" "help lists genesis"
expect 2 "no command" -- "$govchain"
expect 2 "unknown command" -- "$govchain" frobnicate
contains err "unknown command 'frobnicate'" "unknown command is named"

# keygen
expect 0 "keygen help" -- "$govchain" keygen --help
contains out "Usage: govchain keygen" "keygen usage"
expect 2 "keygen without --out" -- "$govchain" keygen
contains err "--out FILE is required" "keygen names the missing option"
expect 2 "keygen with an unknown suite" -- "$govchain" keygen --suite rsa --out "$work/k"
contains err "unknown suite 'rsa'" "keygen names the bad suite"
expect 2 "keygen with a stray argument" -- "$govchain" keygen --out "$work/k" extra
checks=$((checks + 1))
if [ -e "$work/k" ]; then
    echo "FAIL: keygen with bad usage created its key file" >&2
    failures=$((failures + 1))
fi
expect 2 "keygen with an unknown option in a cluster" -- "$govchain" keygen -zq
contains err "option '-z' is not known" "the unknown short option is named"
expect 2 "keygen --suite without a value" -- "$govchain" keygen --out "$work/k" --suite
contains err "option '--suite' needs a value" "the option missing its value is named"
expect 1 "keygen whose output cannot be written" -- sh -c "\"$govchain\" keygen --out \"$work/full.pem\" >/dev/full"
contains err "was written to" "keygen says the key exists though its public key was lost"
for suite in p256-sha256 sm2-sm3; do
    expect 0 "keygen $suite" -- "$govchain" keygen --suite "$suite" --out "$work/$suite.pem"
    checks=$((checks + 1))
    if ! grep -Eq '^04[0-9a-f]{128}$' "$work/out"; then
        echo "FAIL: keygen $suite printed '$(cat "$work/out")', not a public key" >&2
        failures=$((failures + 1))
    fi
    checks=$((checks + 1))
    mode=$(stat -c %a "$work/$suite.pem")
    if [ "$mode" != 600 ]; then
        echo "FAIL: key file mode $mode, expected 600" >&2
        failures=$((failures + 1))
    fi
    contains "$suite.pem" "BEGIN PRIVATE KEY" "key file is PKCS#8 PEM"
done
cp "$work/p256-sha256.pem" "$work/before.pem"
expect 1 "keygen refuses to overwrite" -- "$govchain" keygen --out "$work/p256-sha256.pem"
contains err "exists" "keygen says the file exists"
checks=$((checks + 1))
if ! cmp -s "$work/p256-sha256.pem" "$work/before.pem"; then
    echo "FAIL: keygen changed an existing key file" >&2
    failures=$((failures + 1))
fi
# An SM2 key file is really SM2: OpenSSL reads it as such.
checks=$((checks + 1))
if ! openssl pkey -in "$work/sm2-sm3.pem" -noout -text 2>/dev/null | grep -q "SM2"; then
    echo "FAIL: openssl does not read the sm2-sm3 key file as an SM2 key" >&2
    failures=$((failures + 1))
fi

# genesis verify
example="$root/genesis/examples/four-departments.json"
expect 0 "genesis help" -- "$govchain" genesis --help
expect 2 "genesis without a subcommand" -- "$govchain" genesis
expect 2 "genesis with an unknown subcommand" -- "$govchain" genesis check "$example"
expect 2 "genesis verify without a file" -- "$govchain" genesis verify
expect 0 "genesis verify of the example" -- "$govchain" genesis verify "$example"
checks=$((checks + 1))
if ! grep -Eq '^[0-9a-f]{64}$' "$work/out"; then
    echo "FAIL: genesis verify printed '$(cat "$work/out")', not a hash" >&2
    failures=$((failures + 1))
fi
first_hash=$(cat "$work/out")
# Reformatting keeps the hash: the same genesis on one line (JSON strings hold no raw
# newlines, so only layout changes). Member order and comments: tests/unit/test_genesis.c.
tr -d '\n' <"$example" >"$work/reformatted.json"
expect 0 "genesis verify of the reformatted example" -- "$govchain" genesis verify "$work/reformatted.json"
checks=$((checks + 1))
if [ "$(cat "$work/out")" != "$first_hash" ]; then
    echo "FAIL: reformatting the genesis changed its hash" >&2
    failures=$((failures + 1))
fi
expect 0 "genesis verify --verbose" -- "$govchain" genesis verify --verbose "$example"
contains out "tolerates 1 faulty, quorum 3" "summary shows fault tolerance"
expect 0 "genesis verify FILE --verbose" -- "$govchain" genesis verify "$example" --verbose
contains out "tolerates 1 faulty, quorum 3" "options may follow the file"
expect 2 "genesis verify with an unknown option" -- "$govchain" genesis verify -qx "$example"
contains err "option '-q' is not known" "genesis names the unknown option"
expect 0 "genesis verify from standard input" -- sh -c "\"$govchain\" genesis verify - < \"$example\""
checks=$((checks + 1))
if [ "$(cat "$work/out")" != "$first_hash" ]; then
    echo "FAIL: the genesis read from standard input has another hash" >&2
    failures=$((failures + 1))
fi
expect 1 "genesis verify of a directory" -- "$govchain" genesis verify "$work"
contains err "not a regular file" "a directory is refused as such"
expect 1 "genesis verify whose output cannot be written" -- sh -c "\"$govchain\" genesis verify \"$example\" >/dev/full"
contains err "cannot write to standard output" "lost output is a failure"
sed 's/"p256-sha256"/"p384"/' "$example" >"$work/bad-suite.json"
expect 1 "genesis with an unknown suite" -- "$govchain" genesis verify "$work/bad-suite.json"
contains err "invalid genesis" "the failure says the genesis is invalid"
contains err "suite" "the failure names the field"
printf '{"version": 1,' >"$work/truncated.json"
expect 1 "genesis that is not JSON" -- "$govchain" genesis verify "$work/truncated.json"
expect 1 "genesis file missing" -- "$govchain" genesis verify "$work/none.json"
contains err "No such file" "a missing file is named"
head -c 2000000 /dev/zero | tr '\0' ' ' >"$work/huge.json"
expect 1 "genesis larger than the limit" -- "$govchain" genesis verify "$work/huge.json"
contains err "larger than" "an oversized genesis is refused by size"

# bench
expect 2 "bench without a subject" -- "$govchain" bench
expect 2 "bench with an operand after --" -- "$govchain" bench verify --seconds 1 -- junk
contains err "unexpected argument 'junk'" "bench names the stray operand"
expect 0 "bench verify briefly" -- "$govchain" bench verify --suite sm2-sm3 --seconds 1
contains out "sm2-sm3 verify" "bench prints its suite"
expect 0 "bench apply briefly" -- "$govchain" bench apply --suite p256-sha256 --seconds 1
contains out "records/s without signature checks" "bench apply prints its figure"
contains out "ratio" "bench apply prints its ratio to the same run's baseline"

# evidence: usage errors, and a node that is not there
expect 0 "evidence help" -- "$govchain" evidence --help
contains out "Usage: govchain evidence --node URL --genesis FILE" "evidence usage"
expect 2 "evidence without --genesis" -- "$govchain" evidence --node http://127.0.0.1:9
contains err "--node URL and --genesis FILE are required" "evidence names what it needs"
expect 2 "evidence with a stray argument" -- "$govchain" evidence --node http://127.0.0.1:9 \
    --genesis "$example" extra
expect 1 "evidence from a node that does not answer" -- "$govchain" evidence \
    --node http://127.0.0.1:9 --genesis "$example"
contains err "govchain evidence: " "evidence says why it failed"

echo "cli: $checks checks, $failures failed"
[ "$failures" -eq 0 ]
