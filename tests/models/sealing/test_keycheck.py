"""The register refuses keys other than the ones it was sealed with."""

import pytest

from models.sealing.keycheck import KeyMismatch, verify_keys
from models.sealing.vault import KeyRing, Vault


async def test_a_new_register_adopts_the_keys_and_accepts_them_again(database, vault):
    await verify_keys(database, vault)
    await verify_keys(database, vault)


async def test_another_index_key_is_refused(database, vault):
    await verify_keys(database, vault)
    with pytest.raises(KeyMismatch, match="INDEX_KEY"):
        await verify_keys(database, Vault(KeyRing.generate()))


async def test_data_keys_without_the_registers_key_are_refused(database):
    ring = KeyRing.generate("k1")
    await verify_keys(database, Vault(ring))
    stranger = KeyRing.generate("k2")
    wrong_data = KeyRing(keys=stranger.keys, index_key=ring.index_key)
    with pytest.raises(KeyMismatch, match="DATA_KEYS"):
        await verify_keys(database, Vault(wrong_data))


async def test_rotated_keys_are_accepted_and_the_check_is_resealed(database):
    ring = KeyRing.generate("k1")
    await verify_keys(database, Vault(ring))
    rotated = ring.rotated("k2")
    await verify_keys(database, Vault(rotated))
    # After resealing with k2, a ring with only k2 still opens the check.
    only_new = KeyRing(keys=rotated.keys[:1], index_key=ring.index_key)
    await verify_keys(database, Vault(only_new))
