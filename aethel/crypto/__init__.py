"""Cryptography of protocol version 2 beyond Ed25519: BLS12-381 signatures (spec/consensus-v2.md).

:mod:`aethel.crypto.bls` is the ciphersuite; :mod:`aethel.crypto._blst` the one module that
touches the binding (pyblst, over blst).
"""
