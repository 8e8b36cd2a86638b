#!/bin/sh
# Equivocation evidence on a live network. Validators 1-3 run; validator 0's key is used
# by a faulty process (govchain-equivocate) that signs two COMMITs for one (view, height)
# with different digests and sends them to validator 1 over a real peer link. Validator 1
# must keep the proof in its store (also across a restart), count it in /metrics, serve
# it at GET /v1/evidence, and `govchain evidence` must find it holds against the genesis
# alone; validator 2, which got nothing, has none; and a proof a misbehaving server has
# altered must be refused.
# Usage: evidence_test.sh PATH_TO_GOVCHAIN PATH_TO_GOVCHAIN_EQUIVOCATE
set -u
govchain=$1
equivocate=$2
work=$(mktemp -d)
base=$((18000 + ($$ % 100) * 10)) # 18000-20490: no other test's ports (docs/testing.md)
net=$work/net
. "$(dirname "$0")/lib.sh"

start_node() { # start_node INDEX
    "$govchain" node --home "$net/node$1" >>"$net/node$1/node.log" 2>&1 &
    eval "pid_$1=$!"
    pids="$pids $!"
}

evidence_count() { # evidence_count INDEX: how many proofs the node serves
    curl -s --max-time 5 "$(api "$1")/v1/evidence" | grep -o '"record"' | wc -l
}

has_evidence() { [ "$(evidence_count "$1")" -ge 1 ]; }

"$govchain" localnet --init --dir "$net" --base-port "$base" >/dev/null ||
    { fail "localnet --init"; exit 1; }
for i in 1 2 3; do start_node $i; done
for i in 1 2 3; do wait_until 20 "node $i answers /healthz" healthy $i; done
check "no evidence before anyone misbehaves" test "$(evidence_count 1)" -eq 0

status=$(curl -s --max-time 5 "$(api 1)/v1/status")
view=$(echo "$status" | sed -n 's/.*"view":\([0-9]*\).*/\1/p')
height=$(echo "$status" | sed -n 's/.*"consensus_height":\([0-9]*\).*/\1/p')
check "node 1 reports its view and height" test -n "$view" -a -n "$height"
check "the faulty validator 0 reaches node 1 and equivocates" "$equivocate" \
    "$net/genesis.json" "$net/node0/node.pem" 0 1 "127.0.0.1:$((base + 1))" \
    "$view" $((height + 1))
wait_until 10 "node 1 keeps the proof" has_evidence 1
check "node 1 keeps exactly one proof" test "$(evidence_count 1)" -eq 1
curl -s --max-time 5 "$(api 1)/v1/evidence" >"$work/evidence.json"
check "the proof names validator 0, its department and the step" grep -q \
    "\"validator\":0,\"department\":\"market-regulation\",\"type\":\"commit\",\"view\":$view,\"height\":$((height + 1))" \
    "$work/evidence.json"
check "node 1 counts the equivocation in /metrics" sh -c \
    "curl -s --max-time 5 '$(api 1)/metrics' | grep -q '^govchain_equivocations_total 1\$'"
check "node 1 logs the equivocation" grep -q 'validator 0 signed two commit digests' \
    "$net/node1/node.log"

"$govchain" evidence --node "$(api 1)" --genesis "$net/genesis.json" >"$work/out" 2>&1
check "govchain evidence finds node 1's proof holds (exit 0)" test $? -eq 0
check "and says which validator equivocated" grep -q \
    "holds: validator 0 (department market-regulation) signed two commit digests at view $view, height $((height + 1))" \
    "$work/out"
check "and counts it" grep -q "^1 proof of equivocation from .*, 1 holding against the genesis keys" \
    "$work/out"
"$govchain" evidence --node "$(api 2)" --genesis "$net/genesis.json" >"$work/out2" 2>&1
check "node 2, which got nothing, has no proof (exit 0)" test $? -eq 0
check "and says so" grep -q "^0 proofs of equivocation" "$work/out2"

# The proof is in the store: it is still served after a restart.
kill -TERM "$pid_1"
wait "$pid_1"
start_node 1
wait_until 20 "node 1 answers again after its restart" healthy 1
check "node 1 still serves the proof after its restart" test "$(evidence_count 1)" -eq 1

# A server that alters the proof (the last hex digit of the second signature): refused.
mkdir -p "$work/www/v1"
sed 's/0"}\]}$/X"}]}/; s/[1-9a-f]"}\]}$/0"}]}/; s/X"}\]}$/1"}]}/' "$work/evidence.json" \
    >"$work/www/v1/evidence"
check "the altered copy differs" sh -c "! cmp -s '$work/evidence.json' '$work/www/v1/evidence'"
fake_port=$((base + 1500))
# Node.js is there for the other end-to-end tests; it serves the altered file.
node -e '
const [file, port] = process.argv.slice(1);
require("http").createServer((request, response) => {
  const found = request.url === "/v1/evidence";
  response.writeHead(found ? 200 : 404, { "content-type": "application/json" });
  response.end(found ? require("fs").readFileSync(file) : "{}");
}).listen(Number(port), "127.0.0.1");
' "$work/www/v1/evidence" "$fake_port" >"$work/fake.log" 2>&1 &
pids="$pids $!"
wait_until 10 "the misbehaving server answers" \
    curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$fake_port/v1/evidence"
"$govchain" evidence --node "http://127.0.0.1:$fake_port" --genesis "$net/genesis.json" \
    >"$work/out3" 2>&1
check "govchain evidence refuses the altered proof (exit 1)" test $? -eq 1
check "and says it does not hold" grep -q "proof 1: does NOT hold" "$work/out3"

echo "evidence_test: $checks checks, $failures failures"
[ "$failures" -eq 0 ]
