#!/bin/sh
# A four-department network as real processes on loopback: records submitted to any node
# commit; bad requests get the right errors while the network keeps committing; kill -9
# of a backup and then of the primary, restarts, and every node ends with the same block
# hashes at every height and every acknowledged record; a node of another chain cannot
# link to this one; SIGTERM stops nodes with exit 0.
# Usage: node_test.sh PATH_TO_GOVCHAIN
set -u
govchain=$1
work=$(mktemp -d)
base=$((21000 + ($$ % 400) * 10))
net=$work/net
other=$work/other
. "$(dirname "$0")/lib.sh"

acked="$work/acked"
: >"$acked"

# submit_issue NODE FILE: market-regulation issues a business licence; keeps its tx id.
submit_issue() {
    node=$1
    file=$2
    out="$work/submit.out"
    if "$govchain" submit issue --node "$(api "$node")" --key "$net/keys/market-regulation.pem" \
        --department market-regulation --file "$file" --type business-licence \
        --subject-ref "$(printf '%064d' 42)" --wait >"$out" 2>&1; then
        sed -n 's/.*"tx_id": "\([0-9a-f]*\)".*/\1/p' "$out" >>"$acked"
        return 0
    fi
    sed 's/^/  /' "$out" >&2
    return 1
}

new_file() { # new_file NAME: a fresh document
    echo "document $1 $$ $(date +%s%N)" >"$work/$1.txt"
    echo "$work/$1.txt"
}

# post BODY_FILE CONTENT_TYPE: prints "STATUS BODY"
post() {
    curl -s --max-time 10 -o "$work/post.out" -w '%{http_code}' -X POST \
        -H "Content-Type: $2" --data-binary "@$1" "$(api 1)/v1/txs"
    printf ' '
    cat "$work/post.out"
}

expect_post() { # expect_post DESCRIPTION STATUS CODE BODY_FILE [CONTENT_TYPE]
    got=$(post "$4" "${5:-application/json}")
    checks=$((checks + 1))
    case "$got" in
    "$2 "*"\"code\":\"$3\""*) ;;
    *) fail "$1: expected $2 $3, got: $got" ;;
    esac
}

# --- the network -------------------------------------------------------------------
"$govchain" localnet --init --dir "$net" --base-port "$base" >/dev/null ||
    { fail "localnet --init"; exit 1; }
for i in 0 1 2 3; do start_node $i; done
for i in 0 1 2 3; do wait_until 20 "node $i answers /healthz" healthy $i; done

# Records submitted to every node commit.
for i in 0 1 2 3; do
    check "a record submitted to node $i commits" submit_issue $i "$(new_file "doc$i")"
done
check "an endorsement commits" "$govchain" submit endorse --node "$(api 2)" \
    --key "$net/keys/tax.pem" --department tax --file "$work/doc0.txt" --wait >/dev/null

page=$(curl -s --max-time 5 "$(api 3)/v1/blocks?from=1&limit=2")
check "a page of two blocks lists heights 1 and 2" sh -c "echo '$page' | tr -d ' ' |
    grep -q '\"height\":1.*\"height\":2'"
check "and says to go on from height 3" sh -c "echo '$page' | grep -q '\"next\": *3'"

# --- receipts, verified offline -------------------------------------------------------
verify() { # verify FILE [OPTION...]: saves FILE's receipt from node 1 and verifies it
    file=$1
    shift
    rm -f "$work/receipt.json"
    "$govchain" receipt --node "$(api 1)" --file "$file" --out "$work/receipt.json" >/dev/null &&
        "$govchain" verify --genesis "$net/genesis.json" --receipt "$work/receipt.json" \
            --file "$file" "$@" >"$work/verify.out" 2>&1
}
check "a receipt of a live record verifies offline" verify "$work/doc0.txt"
check "verify says which block it proves the state as of" \
    grep -q '^as of *block [0-9]*, .* UTC ([0-9]* s ago)$' "$work/verify.out"
sleep 1.1
verify "$work/doc0.txt" --max-age 0
check "--max-age refuses a receipt older than asked (exit 1)" test $? -eq 1
check "and says why" grep -q 'more than --max-age 0: fetch a newer one' "$work/verify.out"
future=$(new_file future)
check "a record in force from next year commits" "$govchain" submit issue --node "$(api 0)" \
    --key "$net/keys/market-regulation.pem" --department market-regulation --file "$future" \
    --type business-licence --subject-ref "$(printf '%064d' 9)" \
    --valid-from "$(($(date +%s) * 1000 + 365 * 86400000))" --wait
verify "$future"
check "verify refuses a document not yet in force (exit 1)" test $? -eq 1
check "and says so" grep -q 'status *valid, not yet in force' "$work/verify.out"
check "and names the reason" grep -q 'the document is not yet in force' "$work/verify.out"
"$govchain" status --node "$(api 2)" --file "$future" >"$work/status.out" 2>&1
check "the node's status says it is not yet valid" grep -q '"not_yet_valid": true' "$work/status.out"
"$govchain" status --node "$(api 2)" --file "$work/doc0.txt" >"$work/status.out" 2>&1
check "and that a document in force is" grep -q '"not_yet_valid": false' "$work/status.out"

# --- bad requests, while the network keeps committing ---------------------------------
printf '{"tx":' >"$work/bad.json"
expect_post "malformed JSON" 400 bad_json "$work/bad.json"
printf '{"tx":"00"}' >"$work/plain.txt"
expect_post "wrong content type" 415 unsupported_media_type "$work/plain.txt" text/plain
head -c 70000 /dev/zero | tr '\0' 'a' >"$work/big.json"
expect_post "oversized body" 413 body_too_large "$work/big.json"
printf '{"tx":"not hex"}' >"$work/nothex.json"
expect_post "a transaction that is not hex" 400 bad_transaction "$work/nothex.json"

"$govchain" submit issue --genesis "$net/genesis.json" --print --key "$net/keys/market-regulation.pem" \
    --department market-regulation --file "$(new_file signed)" --type business-licence \
    --subject-ref "$(printf '%064d' 1)" >"$work/good.json"
# The signature is the transaction's last field: change its last hex digit.
sed 's/\(.\)"}$/\1X"}/; s/0X"}$/1"}/; s/[1-9a-f]X"}$/0"}/' "$work/good.json" >"$work/forged.json"
check "the forged body differs from the signed one" test "$(cat "$work/good.json")" != "$(cat "$work/forged.json")"
expect_post "an invalid signature" 422 bad_signature "$work/forged.json"

"$govchain" localnet --init --dir "$other" --base-port $((base + 500)) >/dev/null
"$govchain" submit issue --genesis "$other/genesis.json" --print --key "$net/keys/market-regulation.pem" \
    --department market-regulation --file "$(new_file otherchain)" --type business-licence \
    --subject-ref "$(printf '%064d' 2)" >"$work/otherchain.json"
expect_post "a transaction for another chain" 422 wrong_chain "$work/otherchain.json"

# All or nothing: a request whose second transaction is forged keeps neither.
"$govchain" submit issue --genesis "$net/genesis.json" --print --key "$net/keys/market-regulation.pem" \
    --department market-regulation --file "$(new_file second)" --type business-licence \
    --subject-ref "$(printf '%064d' 3)" |
    sed 's/\(.\)"}$/\1X"}/; s/0X"}$/1"}/; s/[1-9a-f]X"}$/0"}/' >"$work/forged2.json"
good_hex=$(sed 's/^{"tx":"\([0-9a-f]*\)"}$/\1/' "$work/good.json")
forged_hex=$(sed 's/^{"tx":"\([0-9a-f]*\)"}$/\1/' "$work/forged2.json")
printf '{"txs":["%s","%s"]}' "$good_hex" "$forged_hex" >"$work/mixed.json"
expect_post "a request with one forged transaction of two" 422 bad_signature "$work/mixed.json"
got=$(post "$work/good.json" application/json)
checks=$((checks + 1))
case "$got" in 202*) ;; *) fail "the good transaction is accepted (and was not kept before): $got" ;; esac
expect_post "the same transaction again" 409 duplicate_tx "$work/good.json"

# expect_get DESCRIPTION STATUS CODE PATH: a GET answered with STATUS and error CODE
expect_get() {
    got=$(curl -s --max-time 10 -w ' %{http_code}' "$(api 1)$4")
    checks=$((checks + 1))
    case "$got" in
    *"\"code\":\"$3\""*" $2") ;;
    *) fail "$1: expected $2 $3, got: $got" ;;
    esac
}
expect_get "a paging position with a negative index" 400 bad_parameter \
    "/v1/departments/tax/txs?after=1.-1"
expect_get "a paging position whose index overflows" 400 bad_parameter \
    "/v1/departments/tax/txs?after=1.99999999999"
expect_get "a paging position whose height overflows" 400 bad_parameter \
    "/v1/departments/tax/txs?after=99999999999999999999999.0"
expect_get "a page of no transactions" 400 bad_parameter "/v1/departments/tax/txs?limit=0"
expect_get "a paging position given twice" 400 bad_parameter \
    "/v1/departments/tax/txs?after=1.0&after=1.0"
allow=$(curl -s --max-time 10 -o /dev/null -D - -X DELETE "$(api 1)/v1/status" | tr -d '\r' |
    sed -n 's/^Allow: //p')
check "a method a path does not take is answered with what it does" test "$allow" = "GET, HEAD"
head_answer=$(curl -s --max-time 10 -I "$(api 1)/v1/status" | tr -d '\r')
checks=$((checks + 1))
case "$head_answer" in
"HTTP/1.1 200 OK"*"Content-Length: "[1-9]*) ;;
*) fail "HEAD /v1/status gets a GET's status and headers: got $head_answer" ;;
esac
check "the network still commits after bad requests" submit_issue 3 "$(new_file after-bad)"

# --- kill -9 a backup, then the primary --------------------------------------------------
kill -9 "$pid_3"
check "commits go on without a backup" submit_issue 1 "$(new_file without3)"
start_node 3
wait_until 30 "the restarted backup catches up" same_height 3 1

kill -9 "$pid_0"
check "commits go on without the primary (a view change)" submit_issue 2 "$(new_file without0)"
start_node 0
wait_until 30 "the restarted primary catches up" same_height 0 2
check "commits go on with everyone back" submit_issue 0 "$(new_file everyone)"
for i in 0 1 2 3; do wait_until 20 "node $i has the last block" same_height $i 0; done

# Identical block hashes at every height, and every acknowledged record on every node.
top=$(height_of 0)
h=1
while [ "$h" -le "$top" ]; do
    want=$(curl -s "$(api 0)/v1/blocks/$h" | sed -n 's/^{"header":{"hash":"\([0-9a-f]*\)".*/\1/p')
    for i in 1 2 3; do
        got=$(curl -s "$(api $i)/v1/blocks/$h" | sed -n 's/^{"header":{"hash":"\([0-9a-f]*\)".*/\1/p')
        checks=$((checks + 1))
        [ -n "$want" ] && [ "$want" = "$got" ] || fail "block $h: node 0 has '$want', node $i '$got'"
    done
    h=$((h + 1))
done
check "acknowledged records were counted" test "$(wc -l <"$acked")" -ge 8
while read -r id; do
    for i in 0 1 2 3; do
        code=$(curl -s -o /dev/null -w '%{http_code}' "$(api $i)/v1/txs/$id")
        checks=$((checks + 1))
        [ "$code" = 200 ] || fail "acknowledged transaction $id missing on node $i ($code)"
    done
done <"$acked"

# --- a node of another chain cannot link ------------------------------------------------
# Validator 1 of the other network dials validators 2 and 3, here pointed at this
# network's nodes: their TLS handshakes must refuse its key.
GOVCHAIN_NETWORK_PEER_2=127.0.0.1:$((base + 2)) GOVCHAIN_NETWORK_PEER_3=127.0.0.1:$((base + 3)) \
    "$govchain" node --home "$other/node1" >>"$other/node1/node.log" 2>&1 &
stranger=$!
pids="$pids $stranger"
sleep 3
connected=$(curl -s "http://127.0.0.1:$((base + 500 + 1001))/v1/status" |
    sed -n 's/.*"connected":\([0-9]*\).*/\1/p')
checks=$((checks + 1))
[ "$connected" = 0 ] || fail "a node of another chain linked to this one (connected: '$connected')"
checks=$((checks + 1))
grep -qi 'refus\|handshake' "$net/node2/node.log" ||
    fail "node 2 did not log the refused handshake"
kill -9 "$stranger"

# --- SIGTERM stops each node with exit 0 ---------------------------------------------
for i in 0 1 2 3; do
    eval "pid=\$pid_$i"
    kill -TERM "$pid"
    wait "$pid"
    status=$?
    checks=$((checks + 1))
    [ "$status" = 0 ] || fail "node $i exited with $status after SIGTERM"
    grep -q '"stopped at height' "$net/node$i/node.log" || fail "node $i did not log its stop"
done
pids=""

echo "node_test: $checks checks, $failures failures"
[ "$failures" -eq 0 ]
