"""Tests for sealing personal data, key rotation, key settings and blind indexes."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.sealing.keyfile import load_or_create_key_file
from models.sealing.vault import (
    CryptoError,
    KeyConfigError,
    KeyRing,
    TamperedValue,
    UnknownKey,
    Vault,
)

KEY_A = bytes(range(32))
KEY_B = bytes(range(32, 64))
INDEX = bytes(range(64, 96))

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def b64url(key: bytes) -> str:
    """Encode like to_env() does: url-safe, no padding."""
    return base64.urlsafe_b64encode(key).rstrip(b"=").decode()


# --- sealing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("plaintext", [b"", b"x", "Jane Doe \u2013 +44 7700 900123".encode() * 10])
def test_round_trip(vault: Vault, plaintext: bytes) -> None:
    """What is sealed opens to the same bytes, with and without a context."""
    assert vault.open(vault.seal(plaintext)) == plaintext
    sealed = vault.seal(plaintext, context=b"report:42")
    assert vault.open(sealed, context=b"report:42") == plaintext


def test_sealed_layout(vault: Vault) -> None:
    """Version byte, key id length, key id, nonce, ciphertext and a 16-byte tag."""
    sealed = vault.seal(b"hello")
    assert sealed[0] == 0x01
    assert sealed[1] == 2
    assert sealed[2:4] == b"k1"
    assert len(sealed) == 4 + 12 + len(b"hello") + 16


def test_nonce_is_fresh_each_time(vault: Vault) -> None:
    """Sealing the same value twice gives different bytes."""
    assert vault.seal(b"same") != vault.seal(b"same")


def test_json_round_trip(vault: Vault) -> None:
    """seal_json/open_json keep structure and non-ASCII text."""
    value = {"name": "Zoë Łukasiewicz", "emails": ["z@example.org"], "n": 3, "ok": None}
    sealed = vault.seal_json(value, context=b"report:7")
    assert vault.open_json(sealed, context=b"report:7") == value


def test_open_json_of_non_json_is_tampered(vault: Vault) -> None:
    """A sealed value that is not JSON is reported, not leaked as a ValueError."""
    with pytest.raises(TamperedValue):
        vault.open_json(vault.seal(b"\xff not json"))


def test_other_context_fails(vault: Vault) -> None:
    """A value moved to another report's context does not open."""
    sealed = vault.seal(b"secret", context=b"report:42")
    for context in (b"report:43", b"", b"report:42 ", b"report:4"):
        with pytest.raises(TamperedValue):
            vault.open(sealed, context=context)


def test_flipped_bit_anywhere_fails(vault: Vault) -> None:
    """Every single-bit change is caught; past the header it is always TamperedValue."""
    sealed = vault.seal(b"victim data", context=b"report:1")
    header_length = 2 + sealed[1]
    for position in range(len(sealed)):
        for bit in range(8):
            damaged = bytearray(sealed)
            damaged[position] ^= 1 << bit
            expected = TamperedValue if position >= header_length else CryptoError
            with pytest.raises(expected):
                vault.open(bytes(damaged), context=b"report:1")


@pytest.mark.parametrize(
    "sealed",
    [b"", b"\x01", b"\x01\x02k1", b"\x02\x02k1" + bytes(40), b"\x01\x00" + bytes(40)],
)
def test_malformed_values_are_tampered(vault: Vault, sealed: bytes) -> None:
    """Short, empty-id and unknown-version values are rejected cleanly."""
    with pytest.raises(TamperedValue):
        vault.open(sealed)
    with pytest.raises(TamperedValue):
        vault.key_id_of(sealed)


def test_truncated_value_fails(vault: Vault) -> None:
    """Cutting bytes off the end never opens."""
    sealed = vault.seal(b"some personal data")
    for length in range(len(sealed)):
        with pytest.raises(TamperedValue):
            vault.open(sealed[:length])


def test_unknown_key_id(ring: KeyRing) -> None:
    """A value sealed with a key the ring does not hold raises UnknownKey, naming the id."""
    foreign = Vault(KeyRing.generate("other"))
    sealed = foreign.seal(b"data")
    with pytest.raises(UnknownKey, match="other"):
        Vault(ring).open(sealed)


def test_same_id_different_key_is_tampered() -> None:
    """A key id reused for a different key does not open (authentication fails)."""
    sealed = Vault(KeyRing.generate("k1")).seal(b"data")
    with pytest.raises(TamperedValue):
        Vault(KeyRing.generate("k1")).open(sealed)


@given(st.text(min_size=8, max_size=300))
def test_plaintext_never_appears_in_sealed_bytes(text: str) -> None:
    """No run of the plaintext's bytes shows through in the sealed value."""
    vault = Vault(KeyRing(keys=(("k1", KEY_A),), index_key=INDEX))
    plaintext = text.encode()
    sealed = vault.seal(plaintext, context=b"report:1")
    assert plaintext not in sealed
    assert vault.open(sealed, context=b"report:1") == plaintext


# --- rotation --------------------------------------------------------------------------------


def test_rotation(ring: KeyRing) -> None:
    """Old values still open after rotation, new ones use the new key, needs_reseal says so."""
    old_vault = Vault(ring)
    old = old_vault.seal(b"filed last year", context=b"report:1")
    assert old_vault.key_id_of(old) == "k1"
    assert not old_vault.needs_reseal(old)

    new_ring = ring.rotated("k2")
    assert [key_id for key_id, _ in new_ring.keys] == ["k2", "k1"]
    assert new_ring.keys[1] == ring.keys[0]
    assert new_ring.index_key == ring.index_key

    vault = Vault(new_ring)
    assert vault.open(old, context=b"report:1") == b"filed last year"
    assert vault.needs_reseal(old)
    new = vault.seal(b"filed today")
    assert vault.key_id_of(new) == "k2"
    assert not vault.needs_reseal(new)
    resealed = vault.seal(vault.open(old, context=b"report:1"), context=b"report:1")
    assert not vault.needs_reseal(resealed)
    with pytest.raises(UnknownKey):
        old_vault.open(new)


def test_rotation_keeps_blind_indexes(ring: KeyRing) -> None:
    """Rotating data keys leaves lookups by blind index working."""
    before = Vault(ring).blind_index("imei", "490154203237518")
    assert Vault(ring.rotated("k2")).blind_index("imei", "490154203237518") == before


@pytest.mark.parametrize("new_id", ["k1", "", "x" * 17, "bad id", "é"])
def test_rotation_refuses_bad_or_duplicate_id(ring: KeyRing, new_id: str) -> None:
    """The new key id must be valid and not already in the ring."""
    with pytest.raises(KeyConfigError):
        ring.rotated(new_id)


# --- key settings ----------------------------------------------------------------------------


def test_generate_to_env_parse_round_trip() -> None:
    """to_env() produces settings that parse() reads back to an equal ring."""
    ring = KeyRing.generate("main").rotated("next")
    env = ring.to_env()
    assert set(env) == {"DATA_KEYS", "INDEX_KEY"}
    assert env["DATA_KEYS"].startswith("next:")
    assert KeyRing.parse(env["DATA_KEYS"], env["INDEX_KEY"]) == ring


def test_generate_gives_distinct_keys() -> None:
    """Two generated rings, and the data and index keys within one, all differ."""
    one, two = KeyRing.generate(), KeyRing.generate()
    assert one.keys[0][1] != two.keys[0][1]
    assert one.index_key != two.index_key
    assert one.keys[0][1] != one.index_key


@pytest.mark.parametrize(
    "encode",
    [
        lambda key: base64.urlsafe_b64encode(key).decode(),
        lambda key: base64.urlsafe_b64encode(key).decode().rstrip("="),
        lambda key: base64.b64encode(key).decode(),
        lambda key: base64.b64encode(key).decode().rstrip("="),
    ],
    ids=["urlsafe-padded", "urlsafe", "standard-padded", "standard"],
)
def test_parse_accepts_both_alphabets(encode: Callable[[bytes], str]) -> None:
    """Standard and url-safe base64, with or without padding, are all accepted."""
    # 0xfb 0xff bytes make the two alphabets actually differ (+/ versus -_).
    key_a = b"\xfb\xff" * 16
    ring = KeyRing.parse(f"a:{encode(key_a)}, b:{encode(KEY_B)}", encode(INDEX))
    assert ring.keys == (("a", key_a), ("b", KEY_B))
    assert ring.index_key == INDEX


def test_repr_hides_key_material() -> None:
    """The ring's repr shows key ids only."""
    ring = KeyRing(keys=(("k1", KEY_A),), index_key=INDEX)
    text = repr(ring)
    assert "k1" in text
    assert repr(KEY_A) not in text and repr(INDEX) not in text and b64url(KEY_A) not in text


SECRET = b64url(KEY_A)
SHORT = b64url(KEY_A[:16])


@pytest.mark.parametrize(
    ("data_keys", "index_key", "expected"),
    [
        ("", b64url(INDEX), "DATA_KEYS is empty"),
        ("   ", b64url(INDEX), "DATA_KEYS is empty"),
        (f"k1:{SECRET}", "", "INDEX_KEY is empty"),
        (f"k1:{SECRET},", b64url(INDEX), "entry 2 is empty"),
        (SECRET, b64url(INDEX), "entry 1 must look like id:base64key"),
        (f"k1:{SECRET[:-3]}!!!", b64url(INDEX), "not valid base64"),
        (f"k1:{SECRET}AA", b64url(INDEX), "not valid base64"),
        (f"k1:{SHORT}", b64url(INDEX), "must decode to 32 bytes, got 16"),
        (f"k1:{SECRET + SECRET}", b64url(INDEX), "must decode to 32 bytes, got 64"),
        (f"k1:{SECRET},k1:{b64url(KEY_B)}", b64url(INDEX), "duplicate key id 'k1'"),
        (f":{SECRET}", b64url(INDEX), "key id must be"),
        (f"{'x' * 17}:{SECRET}", b64url(INDEX), "key id must be"),
        (f"k 1:{SECRET}", b64url(INDEX), "key id must be"),
        (f"k1:{SECRET}", f"{SECRET[:10]}\u00e9", "INDEX_KEY is not valid base64"),
        (f"k1:{SECRET}", SHORT, "INDEX_KEY must decode to 32 bytes"),
        (f"k1:{SECRET}", SECRET, "index key must differ from every data key"),
    ],
)
def test_parse_errors_are_one_line_without_key_material(
    data_keys: str, index_key: str, expected: str
) -> None:
    """Each bad setting names its problem in one line and never echoes the key text."""
    with pytest.raises(KeyConfigError) as caught:
        KeyRing.parse(data_keys, index_key)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    for material in (SECRET, SECRET[:20], SHORT, SHORT[:20], b64url(INDEX)[:20]):
        assert material not in message


def test_direct_construction_is_validated() -> None:
    """Building a ring by hand gets the same checks as parse()."""
    with pytest.raises(KeyConfigError, match="no data keys"):
        KeyRing(keys=(), index_key=INDEX)
    with pytest.raises(KeyConfigError, match="32 bytes"):
        KeyRing(keys=(("k1", KEY_A[:16]),), index_key=INDEX)
    with pytest.raises(KeyConfigError, match="32 bytes"):
        KeyRing(keys=(("k1", KEY_A),), index_key=INDEX[:31])
    with pytest.raises(KeyConfigError, match="duplicate"):
        KeyRing(keys=(("k1", KEY_A), ("k1", KEY_B)), index_key=INDEX)
    with pytest.raises(KeyConfigError, match="must be bytes"):
        KeyRing(keys=(("k1", 32),), index_key=INDEX)  # type: ignore[arg-type]


# --- blind index -----------------------------------------------------------------------------


def test_blind_index_deterministic_and_separated(vault: Vault) -> None:
    """Same input gives the same 32 hex characters; kind and index key change it."""
    digest = vault.blind_index("imei", "490154203237518")
    assert digest == vault.blind_index("imei", "490154203237518")
    assert len(digest) == 32 and int(digest, 16) >= 0
    assert digest != vault.blind_index("phone", "490154203237518")
    assert digest != vault.blind_index("imei", "490154203237519")
    other = Vault(KeyRing.generate())
    assert digest != other.blind_index("imei", "490154203237518")


def test_blind_index_matches_spec() -> None:
    """HMAC-SHA256(index_key, kind NUL value), first 16 bytes, hex."""
    import hashlib
    import hmac

    vault = Vault(KeyRing(keys=(("k1", KEY_A),), index_key=INDEX))
    expected = hmac.new(INDEX, b"phone\x00+447700900123", hashlib.sha256).digest()[:16].hex()
    assert vault.blind_index("phone", "+447700900123") == expected


def test_blind_index_independent_of_data_keys() -> None:
    """Blind indexes depend on the index key only, not on the data keys."""
    one = Vault(KeyRing(keys=(("k1", KEY_A),), index_key=INDEX))
    two = Vault(KeyRing(keys=(("k9", KEY_B),), index_key=INDEX))
    assert one.blind_index("imei", "1") == two.blind_index("imei", "1")


@pytest.mark.parametrize("kind", ["", "im\x00ei"])
def test_blind_index_refuses_ambiguous_kind(vault: Vault, kind: str) -> None:
    """A kind containing the separator could collide with another kind, so it is refused."""
    with pytest.raises(ValueError):
        vault.blind_index(kind, "1")


@given(st.text(min_size=1, max_size=10).filter(lambda k: "\x00" not in k), st.text(max_size=30))
def test_blind_index_kinds_never_collide(kind: str, value: str) -> None:
    """A value indexed under two different kinds never gives the same hash."""
    vault = Vault(KeyRing(keys=(("k1", KEY_A),), index_key=INDEX))
    assert vault.blind_index(kind, value) != vault.blind_index(kind + "x", value)


# --- key file --------------------------------------------------------------------------------


@posix_only
def test_key_file_created_private_and_reloaded(tmp_path: Path) -> None:
    """A missing key file is created 0600 in 0700 folders and reloads to the same keys."""
    path = tmp_path / "data" / "secrets" / "keys.json"
    ring = load_or_create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in (path.parent, path.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0
    assert load_or_create_key_file(path) == ring
    stored = json.loads(path.read_text())
    env = ring.to_env()
    assert stored == {"data_keys": env["DATA_KEYS"], "index_key": env["INDEX_KEY"]}
    assert sorted(p.name for p in path.parent.iterdir()) == ["keys.json"]


def test_key_file_seals_across_reloads(tmp_path: Path) -> None:
    """A value sealed with keys from the file opens after loading the file again."""
    path = tmp_path / "keys.json"
    sealed = Vault(load_or_create_key_file(path)).seal(b"kept", context=b"report:1")
    assert Vault(load_or_create_key_file(path)).open(sealed, context=b"report:1") == b"kept"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'{"data_keys": "k1:abc"}',
        b'{"data_keys": 1, "index_key": "x"}',
        json.dumps({"data_keys": f"k1:{SHORT}", "index_key": b64url(INDEX)}).encode(),
    ],
    ids=["empty", "text", "binary", "list", "missing", "wrong-type", "short-key"],
)
def test_malformed_key_file_is_refused(tmp_path: Path, content: bytes) -> None:
    """A malformed key file is never overwritten; the one-line error names the file."""
    path = tmp_path / "keys.json"
    path.write_bytes(content)
    with pytest.raises(KeyConfigError) as caught:
        load_or_create_key_file(path)
    message = str(caught.value)
    assert str(path) in message
    assert "\n" not in message
    assert SHORT not in message and b64url(INDEX) not in message
    assert path.read_bytes() == content


@posix_only
def test_dangling_symlink_key_file_is_refused(tmp_path: Path) -> None:
    """A key file name that exists but cannot be opened is an error, not a loop."""
    path = tmp_path / "keys.json"
    path.symlink_to(tmp_path / "nowhere.json")
    with pytest.raises(KeyConfigError, match=r"keys\.json"):
        load_or_create_key_file(path)


def race_to_load(path: Path, racers: int) -> list[KeyRing]:
    """Start ``racers`` threads at once on load_or_create_key_file(path); return their rings."""
    barrier = threading.Barrier(racers)
    results: list[KeyRing] = []
    errors: list[BaseException] = []

    def load() -> None:
        """Wait for every racer, then load or create the key file."""
        barrier.wait()
        try:
            results.append(load_or_create_key_file(path))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=load) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


@pytest.mark.parametrize("round_number", range(10))
def test_racing_threads_get_identical_keys(tmp_path: Path, round_number: int) -> None:
    """Threads racing to create the same fresh key file all end up with the same keys."""
    path = tmp_path / f"round{round_number}" / "keys.json"
    results = race_to_load(path, racers=8)
    assert len(results) == 8
    assert all(result == results[0] for result in results)
    assert load_or_create_key_file(path) == results[0]
    assert [p.name for p in path.parent.iterdir()] == ["keys.json"]


def test_loser_of_race_adopts_winners_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If another process creates the file after we found it missing, we use its keys."""
    path = tmp_path / "keys.json"
    winner = KeyRing.generate("w1")
    generate = KeyRing.generate.__func__  # type: ignore[attr-defined]

    def generate_while_another_process_wins(cls: type[KeyRing], key_id: str = "k1") -> KeyRing:
        """Let the other process write its key file just before we try to create ours."""
        env = winner.to_env()
        path.write_text(json.dumps({"data_keys": env["DATA_KEYS"], "index_key": env["INDEX_KEY"]}))
        return generate(cls, key_id)

    monkeypatch.setattr(KeyRing, "generate", classmethod(generate_while_another_process_wins))
    assert load_or_create_key_file(path) == winner
    assert [p.name for p in tmp_path.iterdir()] == ["keys.json"]


@posix_only
def test_key_file_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a filesystem without hard links the file is still created exclusively, 0600."""
    import errno

    def no_links(source: object, target: object) -> None:
        """Fail like a filesystem that does not support hard links."""
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    path = tmp_path / "keys.json"
    ring = load_or_create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key_file(path) == ring
    assert [p.name for p in tmp_path.iterdir()] == ["keys.json"]
