"""The production argon2id parameters (the rest of the suite hashes with argon2's
cheapest ones, see tests/conftest.py), and that a hash made with weaker ones is
found to need rehashing."""

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST, RFC_9106_LOW_MEMORY

from service.domain import passwords
from tests.conftest import TEST_PASSWORD_HASHER

PASSWORD = "correct horse battery staple"


@pytest.fixture
def production_hasher():
    passwords.use_hasher(passwords.PRODUCTION_HASHER)
    yield passwords.PRODUCTION_HASHER
    passwords.use_hasher(TEST_PASSWORD_HASHER)


def test_production_hashes_are_argon2id_with_rfc_9106_low_memory_parameters(production_hasher):
    assert production_hasher.type is RFC_9106_LOW_MEMORY.type
    assert (
        production_hasher.time_cost,
        production_hasher.memory_cost,
        production_hasher.parallelism,
    ) == (3, 65536, 4)
    stored = passwords.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify_password(stored, PASSWORD)
    assert not passwords.verify_password(stored, PASSWORD + "!")
    assert not passwords.verify_password(None, PASSWORD)
    assert not passwords.needs_rehash(stored)


def test_a_hash_with_weaker_parameters_needs_rehashing(production_hasher):
    weak = PasswordHasher.from_parameters(CHEAPEST).hash(PASSWORD)
    assert passwords.verify_password(weak, PASSWORD)
    assert passwords.needs_rehash(weak)
