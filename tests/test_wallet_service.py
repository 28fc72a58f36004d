"""The reference wallet against the real issuer service (uvicorn on 127.0.0.1): the OpenID4VCI
offer is redeemed by ``vcsdk.wallet``'s own client, the wallet's presentation passes the service's
gate bundle, a refresh keeps the device key, and the phone reported lost is refused at the gate."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx

from tests.test_service_kit import apply_complete, live_server, signed_in
from vcsdk.clock import Clock
from vcsdk.errors import Code
from vcsdk.gate.core import Gate
from vcsdk.keys import PublicKey
from vcsdk.wallet import PinUnlocker, Wallet
from vcsdk.wallet.client import IssuerClient


def _gate(base: str, anchor: PublicKey, clock: Clock) -> Gate:
    gate = Gate([anchor], clock=clock)
    response = httpx.get(base + "/bundle", timeout=30)
    assert response.status_code == 200
    gate.load(response.content)
    return gate


def test_the_reference_wallet_redeems_presents_refreshes_and_is_refused_after_loss(tmp_path: Path) -> None:
    with live_server(tmp_path / "data", str(tmp_path / "registry.sqlite")) as live:
        applicant = signed_in(live.base, f"user-{secrets.token_hex(4)}@example.go.kr")
        reviewer = live.staff(f"rev-{secrets.token_hex(3)}", role="reviewer")
        application_id = apply_complete(applicant, live.clock(), employee_id=f"E-{secrets.token_hex(4)}")
        applicant.post(f"/api/applications/{application_id}/submit")
        assert reviewer.post(f"/api/reviews/{application_id}/approve", {}).json()["state"] == "approved"
        offer = applicant.post(f"/api/applications/{application_id}/offer").json()

        opened = Wallet.create(tmp_path / "wallet.json", PinUnlocker("246810", kdf="min"), now=live.clock())
        client = IssuerClient()
        parsed = client.read_offer(offer["offer_uri"])
        assert parsed.credential_issuer == live.base and parsed.tx_code_required
        text = client.request(parsed, opened.contents.device_key, tx_code=offer["tx_code"], now=live.clock())
        held = opened.store_credential(text, live.base)
        assert held.holder_key == opened.device_public_key

        gate = _gate(live.base, live.settings.anchor_key.public_key, live.clock)
        assert gate.check(text).code == Code.PRESENTATION_REQUIRED  # a screenshot of the bare credential
        shown = opened.present(live.clock())
        verified = gate.verify(shown)
        assert verified.credential_id == held.credential_id
        assert gate.check(shown).code == Code.PRESENTATION_REPLAYED

        # the seed's periodic update: a fresh credential for the same device key, no new application
        fresh = client.refresh(live.base, text, opened.contents.device_key, now=live.clock())
        renewed = opened.store_credential(fresh)
        assert renewed.credential_id != held.credential_id and renewed.holder_key == held.holder_key

        # the phone is reported lost: suspended at once, the gate's next bundle refuses it
        lost = applicant.post(f"/api/credentials/{renewed.credential_id.hex()}/report-lost")
        assert lost.status_code == 200, lost.text
        gate = _gate(live.base, live.settings.anchor_key.public_key, live.clock)
        assert gate.check(opened.present(live.clock())).code == Code.STATUS_SUSPENDED
        applicant.close()
        reviewer.close()
