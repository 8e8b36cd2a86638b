#!/bin/sh
# A tour of the govchain command line as it stands: create the keys of a four-department
# network, write its genesis, check it, and watch a broken genesis being refused.
# Usage: scripts/tour.sh PATH_TO_GOVCHAIN [DIR]   (DIR defaults to build/tour)
set -eu
govchain=$1
dir=${2:-build/tour}
rm -rf "$dir"
mkdir -p "$dir/keys"

step() { printf '\n== %s\n' "$*"; }

step "Each department creates a signing key, and each validator node a node key"
for department in market-regulation tax public-security housing-construction; do
    department_key=$("$govchain" keygen --suite p256-sha256 --out "$dir/keys/$department.pem")
    node_key=$("$govchain" keygen --suite p256-sha256 --out "$dir/keys/$department-node.pem")
    eval "key_$(echo "$department" | tr '-' '_')=$department_key"
    eval "node_$(echo "$department" | tr '-' '_')=$node_key"
    echo "$department: signing key ${department_key%"${department_key#????????????????}"}..."
done
ls -l "$dir/keys" | sed -n '2,3p'
echo "(private keys are written with mode 0600 and never overwritten)"

step "They agree on a genesis: departments, roles, recognition agreements, validators"
cat >"$dir/genesis.json" <<JSON
{
  "//": "Written by scripts/tour.sh; genesis/examples/ explains every field.",
  "version": 1,
  "chain_name": "guangxi-tour",
  "suite": "p256-sha256",
  "genesis_time_ms": 1767225600000,
  "consensus": {"view_timeout_ms": 2000, "view_timeout_max_ms": 60000,
                "block_txs_max": 1000, "block_bytes_max": 2097152, "clock_skew_ms": 10000},
  "departments": [
    {"id": "market-regulation", "name": "Market Regulation Administration",
     "roles": ["issuer", "endorser"], "issues": ["business-licence"],
     "keys": ["$key_market_regulation"]},
    {"id": "tax", "name": "Tax Service", "roles": ["endorser"],
     "keys": ["$key_tax"]},
    {"id": "public-security", "name": "Public Security Department",
     "roles": ["issuer", "endorser"], "issues": ["residence-permit"],
     "keys": ["$key_public_security"]},
    {"id": "housing-construction", "name": "Housing and Urban-Rural Development",
     "roles": ["issuer", "endorser", "regulator"], "issues": ["construction-permit"],
     "keys": ["$key_housing_construction"]}
  ],
  "doc_types": [
    {"id": "business-licence", "class": "certificate",
     "recognised_by": ["tax", "public-security"], "endorsements_required": 2},
    {"id": "residence-permit", "class": "certificate",
     "recognised_by": ["market-regulation"], "endorsements_required": 1},
    {"id": "construction-permit", "class": "approval",
     "recognised_by": ["market-regulation", "tax"], "endorsements_required": 1}
  ],
  "validators": [
    {"department": "market-regulation", "public_key": "$node_market_regulation"},
    {"department": "tax", "public_key": "$node_tax"},
    {"department": "public-security", "public_key": "$node_public_security"},
    {"department": "housing-construction", "public_key": "$node_housing_construction"}
  ]
}
JSON
echo "wrote $dir/genesis.json"

step "govchain genesis verify: every rule checked; the hash is the chain id"
"$govchain" genesis verify --verbose "$dir/genesis.json"

step "A genesis with a mistake is refused with the place and the reason (exit status 1)"
sed 's/"endorsements_required": 2/"endorsements_required": 3/' "$dir/genesis.json" \
    >"$dir/genesis-broken.json"
if "$govchain" genesis verify "$dir/genesis-broken.json"; then
    echo "tour: the broken genesis was accepted" >&2
    exit 1
else
    echo "(exit status $?)"
fi

step "Signature throughput through govchain's crypto API"
"$govchain" bench verify --suite all --seconds 1

printf '\nThe tour left its files in %s. Next: govchain --help\n' "$dir"
