"""The low-level layer: pure codecs for each stage of the QR pipeline.

Public but low level (pyca/cryptography's "hazmat" habit): each function takes bytes or text and
returns values or raises one :class:`vcsdk.errors.VCError`; nothing here reads files, clocks or
networks. Most callers want :class:`vcsdk.Issuer` and :class:`vcsdk.Verifier` instead.
"""
