"""keyrings.cryptfile with one Argon2 derivation per process instead of one per secret.

keyrings.cryptfile stores every entry with its own random salt, so every read and every write
runs Argon2id (t=15, 64 MiB: ~0.9 s on a 2-core server). A support engineer on a headless
machine checking 50 orgs paid ~45 s of key derivation before the first request. Here the key
derived for a salt is kept for the life of the backend, and entries written here reuse one
salt per file (the salt of the first entry read or written), so after unlocking, reading and
writing secrets costs no further derivation.

The file format is unchanged (each entry still carries its salt, nonce and MAC), so the stock
keyrings.cryptfile reads what this writes and vice versa. AES-GCM under one key with random
16-byte nonces is the standard construction; each entry is bound to its service and user
name as associated data, as before.

Imported only when the encrypted file is in use (keyring imports are kept off start-up).
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from jaraco.classes import properties
from keyrings.cryptfile.cryptfile import CryptFileKeyring


class SharedSaltCryptFileKeyring(CryptFileKeyring):  # type: ignore[misc]
    """`CryptFileKeyring` that derives the key once per salt and writes with one salt.

    Opened explicitly (`open_credentials("cryptfile")`), never by keyring's discovery: keyring
    considers every loaded backend class, and this one must not be picked as an "OS keyring".
    """

    @properties.classproperty
    def priority(cls) -> float:  # a class property, as keyring declares it
        raise RuntimeError("opened explicitly by juston-tui, never chosen by keyring")

    def __init__(self) -> None:
        super().__init__()
        self._derived: dict[tuple[str, bytes], bytes] = {}
        self._file_salt: bytes | None = None
        self.derivations = 0  # Argon2 runs so far (tests and `doctor` can tell)

    def _derive(self, password: str, salt: bytes) -> bytes:
        key = self._derived.get((password, salt))
        if key is None:
            # argon2/pycryptodome: only when the encrypted file is unlocked
            from argon2.low_level import Type, hash_secret_raw

            # The parameters keyrings.cryptfile uses (its _create_cipher), so both read alike.
            key = hash_secret_raw(
                secret=password.encode(self.password_encoding),
                salt=salt,
                time_cost=self.time_cost,
                memory_cost=self.memory_cost,
                parallelism=self.parallelism,
                hash_len=16,
                type=Type.ID,
            )
            self.derivations += 1
            self._derived[(password, salt)] = key
        if self._file_salt is None:
            self._file_salt = salt
        return key

    def _create_cipher(self, password: str, salt: bytes, nonce: bytes | None = None) -> Any:
        # argon2/pycryptodome: only when the encrypted file is unlocked
        from Crypto.Cipher import AES

        mode = self._get_mode(self.aesmode)
        if mode is None:  # pragma: no cover - the library refuses unknown modes earlier
            raise ValueError(f"invalid AES mode: {self.aesmode}")
        return AES.new(self._derive(password, salt), mode, nonce)

    def encrypt(self, password: bytes, assoc: bytes | None = None) -> bytes:
        """As CryptFileKeyring.encrypt, with the file's salt instead of a fresh one."""
        salt = self._file_salt or os.urandom(16)
        cipher = self._create_cipher(self.keyring_key, salt)
        if assoc is not None:
            cipher.update(assoc)
        data, mac = cipher.encrypt_and_digest(password)
        fields = {"salt": salt, "data": data, "mac": mac, "nonce": cipher.nonce}
        return json.dumps(
            {name: base64.encodebytes(value).decode()[:-1] for name, value in fields.items()}
        ).encode()
