#!/usr/bin/env bash
# The quick-start demo: generate an issuer key, issue the reference official ID (DESIGN §3),
# print its QR text, verify it, then show a tampered copy failing with its code.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
out=demo-out
rm -rf "$out"; mkdir -p "$out"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Generate an Ed25519 issuer key (PKCS#8, mode 0600) and a trust JWKS for verifiers"
vcsdk keys generate --out "$out/issuer.key" --jwks "$out/trust.jwks"

step "2. Issue the reference official ID (claims from examples/reference-claims.json)"
vcsdk issue --key "$out/issuer.key" --iss KR-MOIS --claims examples/reference-claims.json \
  --status-uri https://id.mois.go.kr/sl/7 --status-idx 100000 --out "$out/credential.txt"
qr=$(cat "$out/credential.txt")
echo "$qr"
echo "(${#qr} characters; the budget for QR version 18 at ECC Q is 574)"

step "3. Verify it offline against the trust JWKS"
echo "(no status list is loaded in this demo, so --allow-unknown-status is given; without it the"
echo " verifier fails closed with STATUS_UNKNOWN)"
vcsdk verify --trust "$out/trust.jwks" --allow-unknown-status "$qr"

step "4. Forge a promotion (rank changed, old signature kept) and verify the forgery"
forged=$(python examples/tamper.py "$qr")
set +e
vcsdk verify --trust "$out/trust.jwks" --allow-unknown-status "$forged"; rc=$?
set -e
echo "(exit code $rc: 1 means not valid)"

step "5. Flip one character of the QR text, as a damaged scan would, and check it as JSON"
mid=$(( ${#qr} / 2 ))
orig=${qr:$mid:1}; repl=0; [ "$orig" = 0 ] && repl=1
damaged="${qr:0:$mid}${repl}${qr:$((mid + 1))}"
set +e
vcsdk verify --trust "$out/trust.jwks" --json "$damaged"
set -e

step "6. What the verifier sees, layer by layer (inspect never reports validity)"
vcsdk inspect "$qr" | head -24
echo
echo "Demo files are in $out/."
