"""Credential profiles: what a QR text's prefix, algorithms and claims must be.

* :mod:`~vcsdk.profiles.base` -- the :class:`Profile` record and the default ``OFFICIAL_ID``;
* :mod:`~vcsdk.profiles.official_id` -- the official-ID claims (모바일 공무원증);
* :mod:`~vcsdk.profiles.hc1` -- EU Digital COVID Certificates (``HC1:``);
* :mod:`~vcsdk.profiles.schema` -- the JSON Schemas shipped in the wheel.
"""

from .base import OFFICIAL_ID, Profile

__all__ = ["OFFICIAL_ID", "Profile"]
