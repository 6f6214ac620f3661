"""keyrings.cryptfile with one Argon2 derivation and one parse of the file per process.

keyrings.cryptfile stores every entry with its own random salt, so every read and every write
runs Argon2id (t=15, 64 MiB: ~0.9 s on a 2-core server), and every read and write parses the
whole file again (39 ms at 2,000 entries), so storing N secrets costs O(N^2) and a sweep of
2,000 orgs spent most of its time in configparser. Here:

- the key derived for a salt is kept for the life of the backend, and entries written here
  reuse one salt per file (the salt of the first entry read or written), so after unlocking,
  reading and writing secrets costs no further derivation;
- the file is parsed once and kept, with its stat identity (device, inode, mtime, size); it is
  parsed again only when that identity changes (another process wrote it), and decrypted
  entries are kept until then, so a read after unlocking is a stat and a dict look-up;
- writing many secrets (`set_many`) is one rewrite of the file. Every write holds an exclusive
  `flock` on a sidecar lock file (`<file>.lock`), re-reads the file if another process changed
  it, and replaces the file atomically (temp file in the same folder, 0600, fsync, rename,
  folder fsync), so a kill at any instant leaves the old file or the new one. (The stock
  backend rewrites the file in place, unlocked: a kill mid-write can truncate it.)

The file format is unchanged (each entry still carries its salt, nonce and MAC; the same
configparser layout), so the stock keyrings.cryptfile reads what this writes and vice versa.
AES-GCM under one key with random 16-byte nonces is the standard construction; each entry is
bound to its service and user name as associated data, as before.

Imported only when the encrypted file is in use (keyring imports are kept off start-up).
"""

from __future__ import annotations

import base64
import configparser
import contextlib
import fcntl
import io
import json
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from jaraco.classes import properties
from keyring.errors import PasswordDeleteError
from keyrings.cryptfile.cryptfile import CryptFileKeyring
from keyrings.cryptfile.escape import escape as escape_for_ini

from juston_tui.store.files import atomic_write_bytes, identity

# One change to the file: (section, option, raw value), or a None value to remove the option.
Change = tuple[str, str, str | None]


class SharedSaltCryptFileKeyring(CryptFileKeyring):  # type: ignore[misc]
    """`CryptFileKeyring` that derives the key once per salt, parses the file once per change
    on disk, writes with one salt, and writes many entries in one atomic rewrite.

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
        self.parses = 0  # times the file was read and parsed
        self.writes = 0  # times the file was replaced
        # One lock for the parsed file, the decrypted entries and writes (sweeps read from
        # many threads); the flock on the sidecar file keeps other processes out of a write.
        self._mutex = threading.RLock()
        self._config: configparser.RawConfigParser | None = None
        self._identity: tuple[int, int, int, int] | None = None  # of the file _config is
        self._plain: dict[tuple[str, str], str | None] = {}

    # -- key derivation ----------------------------------------------------------------------
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
        if self.aesmode == "GCM":
            # cryptography's AES-GCM: the same cipher as pycryptodome's, ~20x faster to set
            # up per entry (16-byte nonce and tag, as keyrings.cryptfile writes them).
            nonce = os.urandom(16)
            sealed = AESGCM(self._derive(self.keyring_key, salt)).encrypt(nonce, password, assoc)
            data, mac = sealed[:-16], sealed[-16:]
        else:  # pragma: no cover - files made by juston-tui and by default are GCM
            cipher = self._create_cipher(self.keyring_key, salt)
            if assoc is not None:
                cipher.update(assoc)
            data, mac = cipher.encrypt_and_digest(password)
            nonce = cipher.nonce
        fields = {"salt": salt, "data": data, "mac": mac, "nonce": nonce}
        return json.dumps(
            {name: base64.encodebytes(value).decode()[:-1] for name, value in fields.items()}
        ).encode()

    def decrypt(self, password_encrypted: bytes, assoc: bytes | None = None) -> bytes:
        """As CryptFileKeyring.decrypt (ValueError when the key or the data is wrong)."""
        fields = {name: base64.decodebytes(value.encode())
                  for name, value in json.loads(password_encrypted.decode()).items()}
        if self.aesmode != "GCM" or len(fields.get("mac", b"")) != 16:  # pragma: no cover
            return bytes(super().decrypt(password_encrypted, assoc))
        key = self._derive(self.keyring_key, fields["salt"])
        try:
            return AESGCM(key).decrypt(fields["nonce"], fields["data"] + fields["mac"], assoc)
        except InvalidTag:
            raise ValueError("MAC check failed") from None

    # -- the parsed file ---------------------------------------------------------------------
    def _index(self) -> configparser.RawConfigParser:
        """The parsed file, parsed again only if the file on disk is not the one last seen."""
        with self._mutex:
            try:
                fd = os.open(self.file_path, os.O_RDONLY)
            except FileNotFoundError:
                if self._config is None or self._identity is not None:
                    self._reset(configparser.RawConfigParser(), None)
                assert self._config is not None
                return self._config
            try:
                st = os.fstat(fd)
                if self._config is not None and identity(st) == self._identity:
                    return self._config
                with os.fdopen(fd, "r", encoding="utf-8", closefd=False) as handle:
                    text = handle.read()
            finally:
                os.close(fd)
            config = configparser.RawConfigParser()
            config.read_string(text, source=str(self.file_path))
            self.parses += 1
            self._reset(config, identity(st))
            return config

    def _reset(self, config: configparser.RawConfigParser,
               ident: tuple[int, int, int, int] | None) -> None:
        self._config = config
        self._identity = ident
        self._plain.clear()

    def _check_file(self) -> bool:
        """As EncryptedKeyring._check_file, on the kept parse of the file."""
        if not os.path.exists(self.file_path):
            return False
        config = self._index()
        try:
            config.get(escape_for_ini("keyring-setting"), escape_for_ini("password reference"))
        except (configparser.NoSectionError, configparser.NoOptionError):
            return False
        try:
            self._check_scheme(config)
        except AttributeError:
            return True  # accept a missing scheme, as the stock backend does
        return bool(self._check_version(config))

    def _init_keyring(self) -> None:
        with self._mutex:
            self._plain.clear()  # decrypted under another passphrase, perhaps
            super()._init_keyring()

    def _lock(self) -> None:
        with self._mutex:
            self._plain.clear()
            super()._lock()

    # -- reading -----------------------------------------------------------------------------
    def get_password(self, service: str, username: str) -> str | None:
        """As the stock get_password (associated data first, then without), kept decrypted."""
        with self._mutex:
            config = self._index()
            cached = self._plain.get((service, username), self)
            if cached is not self:
                return cached  # type: ignore[return-value]
            self._check_version(config)
            try:
                raw = config.get(escape_for_ini(service), escape_for_ini(username))
            except (configparser.NoOptionError, configparser.NoSectionError):
                value = None
            else:
                encrypted = base64.decodebytes(raw.encode())
                try:
                    plain = self.decrypt(encrypted, self._generate_assoc(service, username))
                except ValueError:
                    plain = self.decrypt(encrypted)  # raises ValueError: wrong passphrase
                value = plain.decode("utf-8")
            self._plain[(service, username)] = value
            return value

    # -- writing -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        fd = os.open(f"{self.file_path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _update(self, changes: list[Change]) -> None:
        """Apply `changes` to the file as it is on disk now, in one atomic rewrite."""
        with self._mutex, self._file_lock():
            config = self._index()  # under the flock: the file as it is now
            try:
                for section, option, value in changes:
                    if value is None:
                        config.remove_option(section, option)
                        continue
                    if not config.has_section(section):
                        config.add_section(section)
                    config.set(section, option, value)
                buffer = io.StringIO()
                config.write(buffer)
                path = Path(self.file_path)
                path.parent.mkdir(parents=True, exist_ok=True)
                st = atomic_write_bytes(path, buffer.getvalue().encode("utf-8"))
            except BaseException:
                self._config = None  # the kept parse no longer matches the file: read it again
                raise
            self.writes += 1
            plain = dict(self._plain)
            self._reset(config, identity(st))
            self._plain.update(plain)

    def _encrypted_value(self, service: str, username: str, password: str) -> str:
        if not username:
            raise ValueError("Username cannot be blank.")  # as the stock backend says
        if not isinstance(password, str):
            raise TypeError("Password should be a unicode string, not bytes.")
        encrypted = self.encrypt(password.encode("utf-8"),
                                 self._generate_assoc(service, username))
        return "\n" + base64.encodebytes(encrypted).decode()

    def set_many(self, service: str, entries: Mapping[str, str]) -> None:
        """Store every `{username: password}` of `service` in one atomic rewrite of the file."""
        if not entries:
            return
        with self._mutex:
            self._check_version(self._index())  # the entries' associated data depends on it
            section = escape_for_ini(service)
            changes: list[Change] = [
                (section, escape_for_ini(username),
                 self._encrypted_value(service, username, password))
                for username, password in entries.items()
            ]
            self._update(changes)
            for username, password in entries.items():
                self._plain[(service, username)] = password

    def set_password(self, service: str, username: str, password: str) -> None:
        self.set_many(service, {username: password})

    def _write_config_value(self, service: str, key: str, value: str) -> None:
        # The stock backend's raw write (the scheme and version of a new file).
        self._update([(escape_for_ini(service), escape_for_ini(key), value)])

    def delete_password(self, service: str, username: str) -> None:
        with self._mutex:
            section, option = escape_for_ini(service), escape_for_ini(username)
            config = self._index()
            if not config.has_option(section, option):
                raise PasswordDeleteError("Password not found")
            self._update([(section, option, None)])
            self._plain[(service, username)] = None
