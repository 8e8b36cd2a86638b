# Shared by the shell end-to-end tests (sourced): a network of localnet nodes in $net
# with ports from $base, and counted checks. The sourcing script sets govchain, work,
# base and net first, and ends with: [ "$failures" -eq 0 ].
failures=0
checks=0
pids=""

cleanup() {
    for pid in $pids; do kill -9 "$pid" 2>/dev/null; done
    wait 2>/dev/null
    if [ "$failures" -ne 0 ]; then
        for log in "$net"/node*/node.log; do
            echo "--- last lines of $log" >&2
            tail -n 15 "$log" >&2
        done
    fi
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

check() { # check DESCRIPTION COMMAND...
    what=$1
    shift
    checks=$((checks + 1))
    "$@" || fail "$what"
}

api() { echo "http://127.0.0.1:$((base + 1000 + $1))"; }

start_node() { # start_node INDEX [NET]
    home=${2:-$net}/node$1
    GOVCHAIN_API_MAX_BODY_BYTES=65536 "$govchain" node --home "$home" >>"$home/node.log" 2>&1 &
    eval "pid_$1=$!"
    pids="$pids $!"
}

height_of() { # height_of INDEX
    curl -s --max-time 5 "$(api "$1")/v1/status" | sed -n 's/.*"height":\([0-9]*\).*/\1/p'
}

wait_until() { # wait_until SECONDS DESCRIPTION COMMAND...
    limit=$1
    what=$2
    shift 2
    tries=0
    while ! "$@" 2>/dev/null; do
        tries=$((tries + 1))
        if [ "$tries" -gt $((limit * 5)) ]; then
            fail "$what (not within ${limit}s)"
            return 1
        fi
        sleep 0.2
    done
    checks=$((checks + 1))
}

healthy() { curl -s --max-time 2 "$(api "$1")/healthz" | grep -q '"ok"'; }

same_height() { # same_height A B: A has caught up with B
    a=$(height_of "$1")
    b=$(height_of "$2")
    [ -n "$a" ] && [ -n "$b" ] && [ "$a" -ge "$b" ]
}
