#!/usr/bin/env bash
# The quick-start demo: generate an issuer key, issue the reference official ID (DESIGN §3),
# print its QR text, verify it, then show a tampered copy failing with its code.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
out=${VCSDK_DEMO_OUT:-demo-out}
umask 077  # the demo writes credentials and personal data
rm -rf "$out"; mkdir -p "$out"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Generate an Ed25519 issuer key (PKCS#8, mode 0600) and a trust JWKS for verifiers"
vcsdk keys generate --out "$out/issuer.key" --jwks "$out/trust.jwks"

step "2. Create the issuer database (SQLite; status lists of 131,072 entries, 2 bits each)"
db="$out/registry.sqlite"
vcsdk registry init --db "$db" --iss KR-MOIS --uri-template 'https://id.mois.go.kr/sl/{n}' --first 7 \
    --reviewer lee.reviewer --operator lee.reviewer --operator ops

step "3. Kim Minjun applies online and attaches the documents"
app=$(vcsdk registry apply --db "$db" --actor kim.minjun --claims examples/reference-claims.json \
  --contact 010-1234-5678)
echo "application $app"
python examples/make-photo.py "$out/photo.jpg"
printf 'scan of the resident card' > "$out/id.pdf"; printf 'position certificate' > "$out/position.pdf"
printf 'recommendation, stamped' > "$out/recommendation.pdf"; printf 'card receipt' > "$out/receipt.txt"
vcsdk registry attach --db "$db" --actor kim.minjun "$app" identity_document "$out/id.pdf" \
  --meta '{"type": "resident_card", "number": "880417-1******", "expiry": "2031-04-16"}'
vcsdk registry attach --db "$db" --actor kim.minjun "$app" photo "$out/photo.jpg" \
  --meta "{\"captured\": \"$(date -u +%Y-%m-%d)\"}"
vcsdk registry attach --db "$db" --actor kim.minjun "$app" position_certificate "$out/position.pdf" --meta '{}'
vcsdk registry attach --db "$db" --actor kim.minjun "$app" recommendation "$out/recommendation.pdf" \
  --meta '{"signed_by": "과장 박서연"}'
vcsdk registry attach --db "$db" --actor kim.minjun "$app" fee_payment "$out/receipt.txt" \
  --meta '{"amount": 10000, "method": "card", "receipt": "R-20261125-0001"}'

step "4. Submit; the agency reviews and approves (a reviewer may not approve their own application)"
vcsdk registry submit --db "$db" --actor kim.minjun "$app"
vcsdk registry review --db "$db" --actor lee.reviewer "$app"
vcsdk registry approve --db "$db" --actor lee.reviewer "$app"

step "5. Issue: a random status index, signed with the issuer key, QR text and image"
vcsdk registry issue --db "$db" --actor lee.reviewer --key "$out/issuer.key" --png "$out/credential.png" \
  "$app" --json > "$out/credential.json"
qr=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["qr_text"])' "$out/credential.json")
cti=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["cti"])' "$out/credential.json")
echo "$qr"
echo "(${#qr} characters; the budget for QR version 18 at ECC Q is 574; QR image $out/credential.png)"

step "6. Publish the signed status list; a gate verifies the QR image offline"
vcsdk registry export-status --db "$db" --key "$out/issuer.key" --out "$out/sl{n}.cwt"
vcsdk verify --trust "$out/trust.jwks" --status-list "$out/sl7.cwt" --image "$out/credential.png"

step "7. Forge a promotion (rank changed, old signature kept) and verify the forgery"
forged=$(python examples/tamper.py "$qr")
set +e
vcsdk verify --trust "$out/trust.jwks" --status-list "$out/sl7.cwt" "$forged"; rc=$?
set -e
echo "(exit code $rc: 1 means not valid)"

step "8. Flip one character of the QR text, as a damaged scan would, and check it as JSON"
mid=$(( ${#qr} / 2 ))
orig=${qr:$mid:1}; repl=0; [ "$orig" = 0 ] && repl=1
damaged="${qr:0:$mid}${repl}${qr:$((mid + 1))}"
set +e
vcsdk verify --trust "$out/trust.jwks" --status-list "$out/sl7.cwt" --json "$damaged"
set -e

step "9. The phone is reported lost: suspend at once, republish, and the gate refuses it"
vcsdk registry suspend --db "$db" --actor ops "$cti"
vcsdk registry export-status --db "$db" --key "$out/issuer.key" --out "$out/sl{n}.cwt"
set +e
vcsdk verify --trust "$out/trust.jwks" --status-list "$out/sl7.cwt" "$qr"
set -e

step "10. Every step above is in the hash-chained audit log"
vcsdk registry audit verify --db "$db"

step "11. What the verifier sees, layer by layer (inspect never reports validity)"
vcsdk inspect "$qr" | head -12
echo
echo "Demo files are in $out/."
