#!/usr/bin/env bash
# The quick-start demo: generate an issuer key, issue the reference official ID (DESIGN §3),
# print its QR text, verify it, then show a tampered copy failing with its code.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
out=${VCSDK_DEMO_OUT:-demo-out}
rm -rf "$out"; mkdir -p "$out"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Generate an Ed25519 issuer key (PKCS#8, mode 0600) and a trust JWKS for verifiers"
vcsdk keys generate --out "$out/issuer.key" --jwks "$out/trust.jwks"

step "2. Create the status-list registry (SQLite; lists of 131,072 entries, 2 bits each)"
vcsdk status create --db "$out/status.sqlite" --uri-template 'https://id.mois.go.kr/sl/{n}' --first 7

step "3. Issue the reference official ID with a fresh random status index"
vcsdk issue --key "$out/issuer.key" --iss KR-MOIS --claims examples/reference-claims.json \
  --status-db "$out/status.sqlite" --json > "$out/credential.json"
qr=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["qr_text"])' "$out/credential.json")
idx=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"]["idx"])' "$out/credential.json")
echo "$qr"
echo "(${#qr} characters; the budget for QR version 18 at ECC Q is 574; status index $idx)"

step "4. Publish the signed status list and verify offline against trust JWKS + status list"
vcsdk status publish --db "$out/status.sqlite" --uri https://id.mois.go.kr/sl/7 --key "$out/issuer.key" \
  --out "$out/sl7.cwt"
vcsdk verify --trust "$out/trust.jwks" --status-list "$out/sl7.cwt" "$qr"

step "5. Forge a promotion (rank changed, old signature kept) and verify the forgery"
forged=$(python examples/tamper.py "$qr")
set +e
vcsdk verify --trust "$out/trust.jwks" --status-list "$out/sl7.cwt" "$forged"; rc=$?
set -e
echo "(exit code $rc: 1 means not valid)"

step "6. Flip one character of the QR text, as a damaged scan would, and check it as JSON"
mid=$(( ${#qr} / 2 ))
orig=${qr:$mid:1}; repl=0; [ "$orig" = 0 ] && repl=1
damaged="${qr:0:$mid}${repl}${qr:$((mid + 1))}"
set +e
vcsdk verify --trust "$out/trust.jwks" --status-list "$out/sl7.cwt" --json "$damaged"
set -e

step "7. The phone is reported lost: suspend, republish, and the gate refuses the credential"
vcsdk status set --db "$out/status.sqlite" --uri https://id.mois.go.kr/sl/7 "$idx" suspended
vcsdk status publish --db "$out/status.sqlite" --uri https://id.mois.go.kr/sl/7 --key "$out/issuer.key" \
  --out "$out/sl7.cwt"
set +e
vcsdk verify --trust "$out/trust.jwks" --status-list "$out/sl7.cwt" "$qr"
set -e

step "8. What the verifier sees, layer by layer (inspect never reports validity)"
vcsdk inspect "$qr" | head -24
echo
echo "Demo files are in $out/."
